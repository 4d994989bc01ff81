#include "app/gui/playground_controller.h"

#include <algorithm>
#include <cmath>

#include "app/gui/model_document.h"
#include "app/gui/run_controller.h"
#include "engine/analysis/float_twin.h"

namespace qs::app {

namespace pg = engine::playground;
using model::DType;

namespace {

bool playable(DType t) {
    return t == DType::Int8 || t == DType::UInt8 || t == DType::Int16;
}

widgets::PlayDType toView(DType t) {
    return t == DType::UInt8   ? widgets::PlayDType::UInt8
           : t == DType::Int16 ? widgets::PlayDType::Int16
                               : widgets::PlayDType::Int8;
}
DType fromView(widgets::PlayDType t) {
    return t == widgets::PlayDType::UInt8   ? DType::UInt8
           : t == widgets::PlayDType::Int16 ? DType::Int16
                                            : DType::Int8;
}

widgets::PlayMetrics toView(const engine::analysis::ErrorMetrics& m, int64_t clipped) {
    widgets::PlayMetrics p;
    p.rmse = m.rmse;
    p.rmseLsb = m.rmse_lsb;
    p.maxAbs = m.max_abs_error;
    p.sqnrDb = m.sqnr_db;
    p.count = static_cast<qint64>(m.num_elements);
    p.clipped = clipped;
    p.clippedPct = m.num_elements > 0 ? 100.0 * static_cast<double>(clipped) / m.num_elements : 0;
    return p;
}

QString distributionLabel(pg::Distribution d) {
    switch (d) {
        case pg::Distribution::Normal:
            return QObject::tr("Normal distribution");
        case pg::Distribution::Uniform:
            return QObject::tr("Uniform distribution");
        case pg::Distribution::Laplace:
            return QObject::tr("Laplace distribution");
        case pg::Distribution::NormalWithOutliers:
            return QObject::tr("Normal with a few outliers");
        case pg::Distribution::Bimodal:
            return QObject::tr("Bimodal (two normals)");
    }
    return {};
}

// The op's quantized constant weights (a filter of rank >= 2), or -1.
int weightTensor(const model::Model& m, int subgraph, int op) {
    const auto& sg = m.subgraphs[static_cast<size_t>(subgraph)];
    if (op < 0 || static_cast<size_t>(op) >= sg.operators.size()) return -1;
    for (const TensorId id : sg.operators[static_cast<size_t>(op)].inputs) {
        if (!id.valid() || static_cast<size_t>(id.value) >= sg.tensors.size()) continue;
        const auto& t = sg.tensors[static_cast<size_t>(id.value)];
        if (t.isConstant() && t.quantization.isQuantized() && playable(t.dtype) &&
            t.shape.size() >= 2 && !t.quantization.hasCustomDetails)
            return id.value;
    }
    return -1;
}

QString fileGridText(const std::vector<pg::Grid>& g) {
    if (g.empty()) return {};
    const QString dtype = QString::fromLatin1(model::dtypeName(g[0].dtype).data());
    if (g.size() == 1)
        return QObject::tr("the file's grid (%1, scale %2, zero point %3)")
            .arg(dtype)
            .arg(g[0].scale, 0, 'g', 6)
            .arg(g[0].zero_point);
    return QObject::tr("the file's grids (%1, %2 per-channel scales)").arg(dtype).arg(g.size());
}

}  // namespace

PlaygroundController::PlaygroundController(widgets::PlaygroundView* view, QObject* parent)
    : QObject(parent), m_view(view) {
    using V = widgets::PlaygroundView;
    connect(view, &V::sourceChosen, this, [this](int i) { setSource(i); });
    connect(view, &V::dtypeChosen, this, [this](widgets::PlayDType t) { setDType(fromView(t)); });
    connect(view, &V::symmetricChosen, this, &PlaygroundController::setSymmetric);
    connect(view, &V::perChannelChosen, this, &PlaygroundController::setPerChannel);
    connect(view, &V::channelChosen, this, &PlaygroundController::setChannel);
    connect(view, &V::seedChosen, this, &PlaygroundController::setSeed);
    connect(view, &V::scaleEdited, this, [this](double s) { setScale(s); });
    connect(view, &V::zeroPointEdited, this, [this](qint64 z) { setZeroPoint(z); });
    connect(view, &V::rangeEdited, this, [this](double lo, double hi) { setRange(lo, hi); });
    connect(view, &V::calibrationRequested, this, [this](widgets::PlayCalibration c) {
        calibrate(c == widgets::PlayCalibration::MinMax       ? pg::Calibration::MinMax
                  : c == widgets::PlayCalibration::Percentile ? pg::Calibration::Percentile
                                                              : pg::Calibration::MseOptimal);
    });
    connect(view, &V::dragFinished, this, [this] { recompute(true); });

    setSource(static_cast<int>(pg::Distribution::Normal));
}

void PlaygroundController::setSelection(std::shared_ptr<const ModelDocument> document, int subgraph,
                                        int op, int tensor,
                                        std::shared_ptr<const RunOutcome> outcome) {
    const bool same = document == m_document && subgraph == m_subgraph && op == m_op &&
                      tensor == m_tensor && outcome == m_outcome;
    m_document = std::move(document);
    m_subgraph = subgraph;
    m_op = op;
    m_tensor = tensor;
    m_outcome = std::move(outcome);
    if (same) return;
    if (m_source >= kTensorSource) {
        // Reload from the new selection, now or when the panel is next shown.
        if (m_active)
            setSource(m_source);
        else
            m_stale = true;
        return;
    }
    // A distribution stays; only the source list's enabled entries change.
    m_frame.sourceEnabled = sourceEnabled();
    m_view->setFrame(m_frame);
}

void PlaygroundController::setActive(bool active) {
    m_active = active;
    if (m_active && m_stale) setSource(m_source);
}

QVector<bool> PlaygroundController::sourceEnabled() const {
    QVector<bool> on(kTensorSource, true);
    on << (m_document && m_tensor >= 0)
       << (m_document && weightTensor(m_document->model(), m_subgraph, m_op) >= 0);
    return on;
}

bool PlaygroundController::setSource(int index) {
    m_stale = false;
    m_source = std::clamp(index, 0, kWeightsSource);
    m_channel = 0;
    m_otherDirty = true;
    if (m_source < kTensorSource) m_fileGrids.clear();
    const bool ok = loadValues() && (m_fileGrids.empty() ? defaultGrids() : useFileGrids());
    recompute(true);
    return ok;
}

bool PlaygroundController::loadValues() {
    m_error.clear();
    m_values.clear();
    m_shape.clear();
    m_axis = -1;
    m_fileGrids.clear();
    if (m_source < kTensorSource) {
        const auto d = pg::kAllDistributions[static_cast<size_t>(m_source)];
        const int channels = m_perChannel ? kDistributionChannels : 1;
        m_values = pg::sampleDistribution(d, kDistributionCount, m_seed, channels);
        if (channels > 1) {
            m_shape = {channels, static_cast<int32_t>(m_values.size() / channels)};
            m_axis = 0;
        } else {
            m_shape = {static_cast<int32_t>(m_values.size())};
        }
        m_description = m_perChannel
                            ? tr("%1: %2 channels of %3 values (seed %4), channel spreads from 1 "
                                 "down to 1/16")
                                  .arg(distributionLabel(d))
                                  .arg(channels)
                                  .arg(m_shape[1])
                                  .arg(m_seed)
                            : tr("%1: %2 values (seed %3)")
                                  .arg(distributionLabel(d))
                                  .arg(m_values.size())
                                  .arg(m_seed);
        return true;
    }
    if (!m_document) {
        m_error = tr("open a model and select a tensor in the graph or the layer table");
        return false;
    }
    const auto& model = m_document->model();
    const auto& sg = model.subgraphs[static_cast<size_t>(m_subgraph)];
    if (m_source == kTensorSource) {
        if (m_tensor < 0 || static_cast<size_t>(m_tensor) >= sg.tensors.size()) {
            m_error = tr("select a tensor in the graph or the layer table");
            return false;
        }
        const auto& t = sg.tensors[static_cast<size_t>(m_tensor)];
        const auto* store = m_outcome ? m_outcome->metrics.values.get() : nullptr;
        const auto it = store ? store->find(m_tensor) : decltype(store->end()){};
        if (!store || it == store->end()) {
            m_error = tr("tensor '%1' has no float reference values in the last run")
                          .arg(QString::fromStdString(t.name));
            return false;
        }
        const auto ref = it->second.reference.data<float>();
        m_values.assign(ref.begin(), ref.end());
        m_shape = it->second.reference.shape();
        const auto& q = t.quantization;
        if (q.isQuantized() && !q.isPerChannel() && playable(t.dtype) && !q.hasCustomDetails) {
            auto g = pg::makeGrid(q.scale(0), q.zeroPoint(0), t.dtype, false);
            if (g) m_fileGrids = {*g};
        }
        m_description =
            tr("Tensor '%1' [%2]: its float reference values (the float twin's, last "
               "run)%3")
                .arg(QString::fromStdString(t.name),
                     QString::fromStdString(engine::shapeString(m_shape)),
                     m_fileGrids.empty() ? QString()
                                         : QStringLiteral("; ") + fileGridText(m_fileGrids));
        return true;
    }
    const int w = weightTensor(model, m_subgraph, m_op);
    if (w < 0) {
        m_error =
            tr("select an op with quantized constant weights (CONV_2D, DEPTHWISE_CONV_2D, "
               "FULLY_CONNECTED, ...)");
        return false;
    }
    const auto& t = sg.tensors[static_cast<size_t>(w)];
    auto values = engine::analysis::dequantizeConstant(t);
    if (!values) {
        m_error = QString::fromStdString(values.error().message);
        return false;
    }
    m_values = std::move(*values);
    m_shape = t.shape;
    const auto& q = t.quantization;
    const int axis = q.quantized_dimension;
    if (axis >= 0 && static_cast<size_t>(axis) < m_shape.size() &&
        m_shape[static_cast<size_t>(axis)] > 1)
        m_axis = axis;
    bool symmetric = true;
    for (size_t c = 0; c < q.scales.size(); ++c)
        symmetric = symmetric && q.zeroPoint(c) == pg::symmetricZeroPoint(t.dtype);
    const size_t channels =
        m_axis >= 0 ? static_cast<size_t>(m_shape[static_cast<size_t>(m_axis)]) : 1;
    if (q.isPerChannel() && q.scales.size() == channels) {
        for (size_t c = 0; c < channels; ++c) {
            auto g = pg::makeGrid(q.scale(c), q.zeroPoint(c), t.dtype, symmetric);
            if (!g) break;
            m_fileGrids.push_back(*g);
        }
        if (m_fileGrids.size() != channels) m_fileGrids.clear();
    } else if (!q.isPerChannel()) {
        if (auto g = pg::makeGrid(q.scale(0), q.zeroPoint(0), t.dtype, symmetric))
            m_fileGrids = {*g};
    }
    const auto& op = sg.operators[static_cast<size_t>(m_op)];
    m_description =
        tr("Weights '%1' [%2] of op #%3 %4, dequantized from the file%5")
            .arg(QString::fromStdString(t.name),
                 QString::fromStdString(engine::shapeString(m_shape)))
            .arg(m_op)
            .arg(QString::fromStdString(op.name()),
                 m_fileGrids.empty() ? QString()
                                     : tr("; quantized again with %1 they come back exactly")
                                           .arg(fileGridText(m_fileGrids)));
    return true;
}

bool PlaygroundController::hasChannels() const {
    return m_axis >= 0 && channelCount() > 1;
}

int PlaygroundController::channelCount() const {
    if (m_axis < 0 || static_cast<size_t>(m_axis) >= m_shape.size()) return 1;
    return m_shape[static_cast<size_t>(m_axis)];
}

bool PlaygroundController::defaultGrids() {
    if (m_values.empty()) return false;
    m_otherDirty = true;
    if (m_perChannel && hasChannels()) {
        auto g = pg::calibrateChannels(m_values, m_shape, m_axis, pg::Calibration::MinMax, m_dtype,
                                       m_symmetric);
        if (!g) return m_error = QString::fromStdString(g.error().message), false;
        m_grids = std::move(*g);
    } else {
        auto g = pg::calibrate(m_values, pg::Calibration::MinMax, m_dtype, m_symmetric);
        if (!g) return m_error = QString::fromStdString(g.error().message), false;
        m_grids = {*g};
    }
    return true;
}

bool PlaygroundController::useFileGrids() {
    if (m_fileGrids.empty()) {
        m_error = tr("the values have no grid in the model file");
        recompute(true);
        return false;
    }
    m_grids = m_fileGrids;
    m_dtype = m_grids[0].dtype;
    m_symmetric = m_grids[0].symmetric;
    m_perChannel = m_grids.size() > 1;
    m_otherDirty = true;
    recompute(true);
    return true;
}

const pg::Grid& PlaygroundController::shownGrid() const {
    static const pg::Grid kNone;
    if (m_grids.empty()) return kNone;
    return m_grids.size() > 1 ? m_grids[static_cast<size_t>(std::clamp<int>(
                                    m_channel, 0, static_cast<int>(m_grids.size()) - 1))]
                              : m_grids[0];
}

void PlaygroundController::setDType(DType dtype) {
    if (!playable(dtype)) return;
    m_dtype = dtype;
    defaultGrids();
    recompute(true);
}

void PlaygroundController::setSymmetric(bool symmetric) {
    m_symmetric = symmetric;
    defaultGrids();
    recompute(true);
}

void PlaygroundController::setPerChannel(bool perChannel) {
    m_perChannel = perChannel;
    m_channel = 0;
    if (m_source < kTensorSource) loadValues();  // a distribution gets (or drops) its channels
    if (!hasChannels()) m_perChannel = false;
    defaultGrids();
    recompute(true);
}

void PlaygroundController::setChannel(int channel) {
    m_channel = std::clamp(channel, 0, std::max(channelCount() - 1, 0));
    recompute(true);
}

void PlaygroundController::setSeed(quint64 seed) {
    m_seed = seed;
    if (m_source < kTensorSource) {
        loadValues();
        defaultGrids();
    }
    recompute(true);
}

bool PlaygroundController::setScale(double scale) {
    // An edit that cannot apply (a zero scale) changes nothing; the spin boxes' ranges keep
    // most out. m_error is kept for sources that cannot load.
    if (m_grids.empty()) return false;
    auto n = pg::makeGrid(scale, shownGrid().zero_point, m_dtype, m_symmetric);
    if (!n) return false;
    m_grids[m_grids.size() > 1 ? static_cast<size_t>(m_channel) : 0] = *n;
    const bool outside = n->representableMin() < m_viewLo || n->representableMax() > m_viewHi;
    recompute(outside);
    return true;
}

bool PlaygroundController::setZeroPoint(int64_t zeroPoint) {
    if (m_grids.empty()) return false;
    auto& g = m_grids[m_grids.size() > 1 ? static_cast<size_t>(m_channel) : 0];
    g = pg::withZeroPoint(g, zeroPoint);
    recompute(false);
    return g.zero_point == zeroPoint;
}

bool PlaygroundController::setRange(double lo, double hi) {
    auto n = pg::gridForRange(lo, hi, m_dtype, m_symmetric);
    if (!n || m_grids.empty()) return false;
    m_grids[m_grids.size() > 1 ? static_cast<size_t>(m_channel) : 0] = *n;
    const bool outside = n->representableMin() < m_viewLo || n->representableMax() > m_viewHi;
    recompute(outside);
    return true;
}

bool PlaygroundController::calibrate(pg::Calibration c) {
    if (m_values.empty()) return false;
    if (m_perChannel && hasChannels()) {
        auto g = pg::calibrateChannels(m_values, m_shape, m_axis, c, m_dtype, m_symmetric);
        if (!g) return false;
        m_grids = std::move(*g);
    } else {
        auto g = pg::calibrate(m_values, c, m_dtype, m_symmetric);
        if (!g) return false;
        m_grids = {*g};
    }
    recompute(true);
    return true;
}

void PlaygroundController::recompute(bool refitView) {
    widgets::PlaygroundFrame f;
    for (auto d : pg::kAllDistributions) f.sources << distributionLabel(d);
    f.sources << tr("Selected tensor: float reference values")
              << tr("Selected op: weights (dequantized)");
    f.sourceEnabled = sourceEnabled();
    f.source = m_source;
    f.seed = m_seed;
    f.seeded = m_source < kTensorSource;
    f.dtype = toView(m_dtype);
    f.symmetric = m_symmetric;
    f.hasChannels = hasChannels();
    f.perChannel = m_perChannel && f.hasChannels;
    f.channels = channelCount();
    f.channel = m_channel;
    f.sourceDescription = m_description;
    if (!m_error.isEmpty() || m_values.empty() || m_grids.empty()) {
        f.error = m_error.isEmpty() ? tr("no values") : m_error;
        m_eval = {};
        m_frame = f;
        m_view->setFrame(f);
        emit updated();
        return;
    }
    const int axis = f.hasChannels ? m_axis : -1;
    auto eval = pg::evaluate(m_values, m_shape, axis, m_grids);
    if (!eval) {
        f.error = QString::fromStdString(eval.error().message);
        m_frame = f;
        m_view->setFrame(f);
        emit updated();
        return;
    }
    m_eval = std::move(*eval);
    const pg::Grid& g = shownGrid();
    f.scale = g.scale;
    f.zeroPoint = g.zero_point;
    f.qmin = g.qmin;
    f.qmax = g.qmax;
    f.representableMin = g.representableMin();
    f.representableMax = g.representableMax();
    f.clipLow = g.clipLow();
    f.clipHigh = g.clipHigh();
    f.total = toView(m_eval.total, m_eval.clipped_low + m_eval.clipped_high);
    const bool channel = f.perChannel && static_cast<size_t>(m_channel) < m_eval.channels.size();
    const std::vector<float> shown =
        channel ? pg::channelValues(m_values, m_shape, m_axis, m_channel) : std::vector<float>();
    const std::span<const float> values = channel ? std::span<const float>(shown) : m_values;
    if (channel)
        f.channelMetrics = toView(m_eval.channels[static_cast<size_t>(m_channel)],
                                  m_eval.channel_clipped[static_cast<size_t>(m_channel)]);
    if (refitView) {
        double lo = g.representableMin(), hi = g.representableMax();
        for (float v : values)
            if (std::isfinite(v)) lo = std::min<double>(lo, v), hi = std::max<double>(hi, v);
        const double margin = std::max((hi - lo) * 0.04, g.scale);
        m_viewLo = lo - margin;
        m_viewHi = hi + margin;
    }
    f.viewLo = m_viewLo;
    f.viewHi = m_viewHi;
    const auto h = pg::histogramOver(values, g, m_viewLo, m_viewHi);
    f.binLo = h.inside.lo;
    f.binWidth = h.inside.width;
    f.gridAligned = h.grid_aligned;
    for (size_t b = 0; b < h.inside.counts.size(); ++b) {
        f.inside << static_cast<double>(h.inside.counts[b]);
        f.clipped << static_cast<double>(h.clipped.counts[b]);
    }
    if (f.hasChannels) {
        if (m_otherDirty) {
            // The other granularity, calibrated by min/max, for comparison.
            std::vector<pg::Grid> other;
            if (f.perChannel) {
                if (auto g = pg::calibrate(m_values, pg::Calibration::MinMax, m_dtype, m_symmetric))
                    other = {*g};
            } else if (auto g =
                           pg::calibrateChannels(m_values, m_shape, m_axis, pg::Calibration::MinMax,
                                                 m_dtype, m_symmetric)) {
                other = std::move(*g);
            }
            auto e = other.empty() ? Result<pg::Evaluation>(fail("no grids"))
                                   : pg::evaluate(m_values, m_shape, m_axis, other);
            m_other = e ? std::move(*e) : pg::Evaluation{};
            m_otherDirty = false;
        }
        f.otherLabel =
            f.perChannel ? tr("one shared scale (min/max)") : tr("one scale per channel (min/max)");
        f.otherSqnrDb = m_other.total.sqnr_db;
        for (const auto& c : m_eval.channels) f.channelSqnr << c.sqnr_db;
        for (const auto& c : m_other.channels) f.otherChannelSqnr << c.sqnr_db;
    }
    m_frame = f;
    m_view->setFrame(f);
    emit updated();
}

}  // namespace qs::app
