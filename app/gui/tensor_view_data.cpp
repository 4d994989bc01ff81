#include "app/gui/tensor_view_data.h"

#include <cmath>

#include "app/gui/analysis_metrics.h"
#include "app/gui/run_controller.h"
#include "engine/analysis/tensor_views.h"
#include "model/str_format.h"

// The widgets' quantities mirror the engine's, in the same order.
static_assert(static_cast<int>(qs::widgets::MapQuantity::ErrorLsb) ==
              static_cast<int>(qs::engine::analysis::Quantity::ErrorLsb));
static_assert(static_cast<int>(qs::widgets::MapQuantity::Saturation) ==
              static_cast<int>(qs::engine::analysis::Quantity::Saturation));
static_assert(qs::widgets::kMapPlanes == qs::engine::analysis::kPlanes);

namespace qs::app {

namespace an = engine::analysis;

namespace {

const an::MetricDef* metricDef(const QString& display) {
    for (const auto& c : metricColumnDefs())
        if (display == QString::fromUtf8(c.display)) return an::findMetric(c.key);
    return an::findMetric("rmse_lsb");
}

QString axisName(size_t rank, int d) {
    if (rank == 4) {
        static const char* kNhwc[] = {"N", "H", "W", "C"};
        return QString::fromLatin1(kNhwc[d]);
    }
    return QStringLiteral("dim %1").arg(d);
}

widgets::PlotHistogram toPlot(const an::Histogram& h) {
    widgets::PlotHistogram p;
    p.lo = h.lo;
    p.width = h.width;
    p.total = h.total;
    p.counts.reserve(static_cast<qsizetype>(h.counts.size()));
    for (auto c : h.counts) p.counts << static_cast<double>(c);
    return p;
}

}  // namespace

an::TensorPlanes PlanesPool::takeFree() {
    for (auto it = m_kept.begin(); it != m_kept.end(); ++it) {
        if (it->use_count() != 1) continue;  // a view still draws it
        an::TensorPlanes free = std::move(**it);
        m_kept.erase(it);
        return free;
    }
    return {};
}

void PlanesPool::keep(std::shared_ptr<an::TensorPlanes> planes) {
    m_kept.push_back(std::move(planes));
    if (m_kept.size() > 2) m_kept.erase(m_kept.begin());
}

Result<std::shared_ptr<widgets::TensorPlotData>> comparedPlotData(
    const model::Tensor& info, int tensor, const engine::TensorValue& quant,
    const engine::TensorValue& reference, PlanesPool* pool) {
    auto planes = an::tensorPlanes(quant, info.quantization, reference,
                                   pool ? pool->takeFree() : an::TensorPlanes{});
    if (!planes) return std::unexpected(planes.error());
    auto out = std::make_shared<widgets::TensorPlotData>();
    widgets::TensorPlotData& t = *out;
    an::TensorPlanes& p = *planes;
    const auto& shape = quant.shape();
    for (int32_t d : shape) t.shape << d;
    const auto& l = p.layout;

    t.tensorName = QString::fromStdString(info.name);
    QString desc =
        QStringLiteral("%1 [%2]").arg(QString::fromLatin1(model::dtypeName(info.dtype).data()),
                                      QString::fromStdString(engine::shapeString(shape)));
    if (p.quantized && p.scales.size() == 1)
        desc += QStringLiteral(", scale %1, zero point %2")
                    .arg(p.scales[0], 0, 'g', 6)
                    .arg(p.zero_points[0]);
    else if (p.quantized)
        desc += QStringLiteral(", per-channel scales (%1)").arg(p.scales.size());
    desc += QStringLiteral(", tensor %1").arg(tensor);
    t.description = desc;
    t.quantized = p.quantized;
    t.channels = l.channels, t.rows = l.rows, t.cols = l.cols;
    const size_t rank = shape.size();
    if (l.channel_axis >= 0) {
        t.channelLabel = rank == 4 && l.channel_axis == 3 ? QObject::tr("channel")
                                                          : axisName(rank, l.channel_axis);
        QStringList rowAxes;
        for (int d = 0; d < static_cast<int>(rank); ++d)
            if (d != l.channel_axis && d != l.col_axis && shape[static_cast<size_t>(d)] > 1)
                rowAxes << axisName(rank, d);
        t.rowLabel =
            rowAxes.isEmpty() ? axisName(rank, l.row_axis) : rowAxes.join(QStringLiteral("×"));
        t.colLabel = axisName(rank, l.col_axis);
    } else {
        t.channelLabel = QObject::tr("map");
        t.rowLabel = rank >= 2 ? QObject::tr("row") : QString();
        t.colLabel = QObject::tr("feature");
    }
    t.coordinates = [shape, l](int c, int r, int col) {
        const auto at = an::tensorCoordinates(shape, l, c, r, col);
        QStringList parts;
        for (int32_t v : at) parts << QString::number(v);
        return QStringLiteral("[%1]").arg(parts.join(QStringLiteral(", ")));
    };
    t.inner = l.inner;
    for (int k = 0; k < widgets::kMapQuantities; ++k) {
        const auto ku = static_cast<size_t>(k);
        t.range[ku] = {p.range[ku].min, p.range[ku].max};
        t.channelRange[ku].reserve(p.channel_range[ku].size());
        for (const auto& r : p.channel_range[ku]) t.channelRange[ku].push_back({r.min, r.max});
    }
    t.qmin = p.qmin, t.qmax = p.qmax, t.atQmin = p.at_qmin, t.atQmax = p.at_qmax;
    if (p.quantized)
        t.representableMin = p.representable_min, t.representableMax = p.representable_max;
    t.errorUnit = p.quantized ? QStringLiteral("LSB") : QString();
    // The views read the planes where they are; histograms and density wait for a view that
    // shows them.
    auto shared = std::make_shared<an::TensorPlanes>(std::move(p));
    if (pool) pool->keep(shared);
    std::shared_ptr<const an::TensorPlanes> kept = std::move(shared);
    for (size_t k = 0; k < an::kPlanes; ++k) t.planes[k] = kept->planes[k];
    t.stored = kept->stored;
    t.storage = kept;
    t.histograms = widgets::Lazy<widgets::PlotHistograms>([kept] {
        const an::GridHistogram g = an::valueHistogram(*kept);
        widgets::PlotHistograms h;
        h.values = toPlot(g.histogram);
        h.gridAligned = g.grid_aligned;
        h.gridStep = g.step;
        if (kept->quantized) h.clipLow = g.clip_low, h.clipHigh = g.clip_high;
        h.clippedLow = g.clipped_low, h.clippedHigh = g.clipped_high;
        h.error = toPlot(an::errorHistogram(*kept));
        return h;
    });
    t.density = widgets::Lazy<widgets::PlotDensity>([kept] {
        an::Density2D d = an::referenceVsDequantized(*kept);
        return widgets::PlotDensity{d.lo, d.hi, d.n, std::move(d.counts), d.max_count};
    });
    return out;
}

Result<std::shared_ptr<widgets::TensorPlotData>> tensorPlotData(const model::Model& model,
                                                                int subgraph, int tensor, int op,
                                                                const RunOutcome& outcome,
                                                                const QString& metric,
                                                                PlanesPool* pool) {
    const auto& sg = model.subgraphs[static_cast<size_t>(subgraph)];
    if (tensor < 0 || static_cast<size_t>(tensor) >= sg.tensors.size())
        return fail("no tensor selected");
    const model::Tensor& info = sg.tensors[static_cast<size_t>(tensor)];
    const auto& store = outcome.metrics.values;
    const auto it = store ? store->find(tensor) : decltype(store->end()){};
    if (!store || it == store->end())
        return fail(
            strFormat("tensor {} '{}' has no compared values (not run, not paired with "
                      "a float reference, or not a float/quantized tensor)",
                      tensor, info.name));
    auto out = comparedPlotData(info, tensor, it->second.quant, it->second.reference, pool);
    if (!out) return out;
    widgets::TensorPlotData& t = **out;

    // Per-channel metrics of the analysis (the metric channel axis).
    const an::MetricDef* def = metricDef(metric);
    t.metricName = metric.isEmpty() ? QStringLiteral("RMSE/scale") : metric;
    if (const auto* analysis = outcome.metrics.analysis.get()) {
        for (const auto& te : analysis->tensors) {
            if (te.tensor.value != tensor) continue;
            for (const auto& c : te.channels_averaged) {
                t.channelMetric << (def ? c.*(def->field) : an::kNaN);
                t.channelFloatMin << c.float_min;
                t.channelFloatMax << c.float_max;
                t.channelReprMin << c.representable_min;
                t.channelReprMax << c.representable_max;
            }
            break;
        }
        for (const auto& w : analysis->weights) {
            if (w.op.value != op || op < 0 || w.role != "weights") continue;
            t.weightsName =
                QString::fromStdString(sg.tensors[static_cast<size_t>(w.tensor.value)].name);
            for (const auto& c : w.channels) {
                t.weightScale << c.scale;
                t.weightZeroPoint << static_cast<double>(c.zero_point);
                t.weightMin << c.min;
                t.weightMax << c.max;
            }
            break;
        }
    }
    return out;
}

int worstTensor(const RunOutcome& outcome, const QString& metric) {
    const auto& cols = outcome.metrics.columns;
    int column = -1;
    for (size_t i = 0; i < cols.size(); ++i)
        if (cols[i].name == metric) column = static_cast<int>(i);
    if (column < 0) return -1;
    const bool higherBetter = cols[static_cast<size_t>(column)].higherIsBetter;
    int worst = -1;
    double worstValue = 0;
    for (const auto& [tensor, row] : outcome.metrics.byTensor) {
        const double v = row[static_cast<size_t>(column)];
        if (std::isnan(v)) continue;
        const bool better = worst < 0 || (higherBetter ? v < worstValue : v > worstValue) ||
                            (v == worstValue && tensor < worst);
        if (better) worst = tensor, worstValue = v;
    }
    return worst;
}

}  // namespace qs::app
