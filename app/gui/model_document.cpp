#include "app/gui/model_document.h"

#include <QFileInfo>
#include <cmath>
#include <cstring>

#include "app/gui/run_controller.h"
#include "engine/profiles/requantize.h"
#include "model/describe.h"
#include "model/loader.h"

namespace qs::app {

namespace {

QString qs(std::string_view s) {
    return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size()));
}

QString describeTensors(const model::Subgraph& sg, const std::vector<TensorId>& ids) {
    QStringList parts;
    for (const auto id : ids) {
        if (!id.valid()) continue;
        const auto& t = sg.tensor(id);
        parts << QStringLiteral("%1 %2 %3")
                     .arg(qs(t.name), qs(model::dtypeName(t.dtype)),
                          qs(model::formatShape(t.shape)));
    }
    return parts.join(QStringLiteral(", "));
}

QString typeAndShape(const model::Tensor& t) {
    return QStringLiteral("%1 %2").arg(qs(model::dtypeName(t.dtype)),
                                       qs(model::formatShape(t.shape)));
}

const std::vector<double>* metricsOf(const RunOutcome* outcome, int tensor) {
    if (!outcome) return nullptr;
    const auto it = outcome->metrics.byTensor.find(tensor);
    return it == outcome->metrics.byTensor.end() ? nullptr : &it->second;
}

int metricIndex(const RunOutcome* outcome, const QString& name) {
    if (!outcome) return -1;
    const auto& cols = outcome->metrics.columns;
    for (size_t i = 0; i < cols.size(); ++i) {
        if (cols[i].name == name) return static_cast<int>(i);
    }
    return -1;
}

bool produced(const RunOutcome* outcome, int tensor) {
    return outcome && tensor >= 0 && static_cast<size_t>(tensor) < outcome->produced.size() &&
           outcome->produced[static_cast<size_t>(tensor)];
}

// The role of input `k` of `op` in the inspector: weights and bias of the ops that have them.
QString inputRole(const model::Operator& op, size_t k, const model::Tensor& t) {
    using model::BuiltinOp;
    const bool weighted =
        op.opcode == BuiltinOp::CONV_2D || op.opcode == BuiltinOp::DEPTHWISE_CONV_2D ||
        op.opcode == BuiltinOp::FULLY_CONNECTED || op.opcode == BuiltinOp::TRANSPOSE_CONV;
    if (weighted && t.isConstant()) {
        if (op.opcode == BuiltinOp::TRANSPOSE_CONV) {
            if (k == 1) return QStringLiteral("weights");
            if (k == 3) return QStringLiteral("bias");
        } else {
            if (k == 1) return QStringLiteral("weights");
            if (k == 2) return QStringLiteral("bias");
        }
    }
    return t.isConstant() ? QStringLiteral("const %1").arg(k) : QStringLiteral("input %1").arg(k);
}

widgets::InspectorTensor inspectorTensor(const model::Subgraph& sg, TensorId id, QString role) {
    const model::Tensor& t = sg.tensor(id);
    widgets::InspectorTensor it;
    it.role = std::move(role);
    it.index = id.value;
    it.name = qs(t.name);
    it.dtype = qs(model::dtypeName(t.dtype));
    it.shape = qs(model::formatShape(t.shape));
    it.constant = t.isConstant();
    for (float s : t.quantization.scales) it.scales << s;
    for (int64_t z : t.quantization.zero_points) it.zeroPoints << z;
    it.quantizedDimension = t.quantization.quantized_dimension;
    return it;
}

// Per-channel min/max/absmax of a constant quantized tensor, dequantized, along its quantized
// dimension (one channel for per-tensor quantization). Empty for dtypes it does not read.
template <class T>
void channelStats(const model::Tensor& t, std::vector<double>& mn, std::vector<double>& mx) {
    const auto& q = t.quantization;
    const size_t channels = q.isPerChannel() ? q.scales.size() : 1;
    const auto axis = static_cast<size_t>(q.quantized_dimension);
    size_t inner = 1;
    if (q.isPerChannel()) {
        for (size_t d = axis + 1; d < t.shape.size(); ++d) inner *= static_cast<size_t>(t.shape[d]);
    }
    mn.assign(channels, INFINITY);
    mx.assign(channels, -INFINITY);
    const auto count = static_cast<size_t>(t.numElements());
    const auto* data = reinterpret_cast<const T*>(t.data.data());
    for (size_t i = 0; i < count; ++i) {
        const size_t c = channels == 1 ? 0 : (i / inner) % channels;
        T raw;
        std::memcpy(&raw, data + i, sizeof(T));  // constant data need not be aligned
        const double v =
            (static_cast<double>(raw) - static_cast<double>(q.zeroPoint(c))) * q.scale(c);
        mn[c] = std::min(mn[c], v);
        mx[c] = std::max(mx[c], v);
    }
}

}  // namespace

Result<std::shared_ptr<const ModelDocument>> ModelDocument::open(const QString& path) {
    auto loaded = model::loadModel(path.toStdString());
    if (!loaded) return std::unexpected(loaded.error());
    auto doc = std::make_shared<ModelDocument>();
    doc->m_model = std::move(*loaded);
    doc->m_path = path;
    return doc;
}

QString ModelDocument::fileName() const {
    return QFileInfo(m_path).fileName();
}

QString ModelDocument::summary(int subgraph) const {
    const auto& sg = m_model.subgraphs.at(static_cast<size_t>(subgraph));
    return QStringLiteral("%1 ops, %2 tensors — inputs: %3 — outputs: %4")
        .arg(sg.operators.size())
        .arg(sg.tensors.size())
        .arg(describeTensors(sg, sg.inputs), describeTensors(sg, sg.outputs));
}

QString ModelDocument::notRunReason(int subgraph, int op, const RunOutcome* outcome) const {
    if (!outcome) return {};
    const auto& sg = m_model.subgraphs.at(static_cast<size_t>(subgraph));
    const auto& o = sg.operators[static_cast<size_t>(op)];
    const bool ran =
        o.outputs.empty() || !o.outputs[0].valid() || produced(outcome, o.outputs[0].value);
    if (ran) return {};
    if (!outcome->ok()) return outcome->error;
    if (outcome->stoppedAt == op) {
        // The executor's warning for the stop names the op; show it whole.
        const QString tag = QStringLiteral("op %1").arg(op);
        for (const QString& w : outcome->warnings) {
            if (w.contains(tag)) return w;
        }
        return outcome->warnings.isEmpty() ? QObject::tr("the engine cannot run this op")
                                           : outcome->warnings.front();
    }
    if (outcome->stoppedAt >= 0) {
        return QObject::tr("not reached: the run stopped at op #%1 (%2)")
            .arg(outcome->stoppedAt)
            .arg(qs(sg.operators[static_cast<size_t>(outcome->stoppedAt)].name()));
    }
    if (outcome->cancelled) return QObject::tr("the run was cancelled");
    return QObject::tr("not computed");
}

widgets::GraphModel ModelDocument::graph(int subgraph, const RunOutcome* outcome,
                                         const QString& metric) const {
    const auto& sg = m_model.subgraphs.at(static_cast<size_t>(subgraph));
    widgets::GraphModel g;
    const int metricCol = metricIndex(outcome, metric);
    std::vector<int> producerNode(sg.tensors.size(), -1);
    const auto valueOf = [&](int tensor) {
        const auto* m = metricsOf(outcome, tensor);
        return m && metricCol >= 0 ? (*m)[static_cast<size_t>(metricCol)] : std::nan("");
    };
    const auto metricTooltip = [&](int tensor) {
        QStringList lines;
        const auto* m = metricsOf(outcome, tensor);
        if (!m) return QString();
        for (size_t i = 0; i < m->size() && i < outcome->metrics.columns.size(); ++i) {
            if (std::isnan((*m)[i])) continue;
            const auto& c = outcome->metrics.columns[i];
            lines << QStringLiteral("%1: %2 %3").arg(c.name).arg((*m)[i], 0, 'g', 4).arg(c.unit);
        }
        return lines.join(QLatin1Char('\n'));
    };

    for (const auto id : sg.inputs) {
        const auto& t = sg.tensor(id);
        widgets::GraphNode n;
        n.kind = widgets::GraphNode::Kind::Input;
        n.tensor = id.value;
        n.title = qs(t.name);
        n.output = typeAndShape(t);
        n.tooltip = QStringLiteral("input tensor %1 %2")
                        .arg(id.value)
                        .arg(qs(model::formatQuantization(t.quantization)));
        n.value = valueOf(id.value);
        producerNode[static_cast<size_t>(id.value)] = static_cast<int>(g.nodes.size());
        g.nodes.push_back(std::move(n));
    }
    for (size_t i = 0; i < sg.operators.size(); ++i) {
        const auto& op = sg.operators[i];
        const int self = static_cast<int>(g.nodes.size());
        widgets::GraphNode n;
        n.op = static_cast<int>(i);
        n.title = qs(op.name());
        n.options = qs(model::formatKeyOptions(op));
        QStringList names;
        for (const auto id : op.outputs) {
            if (!id.valid()) continue;
            names << qs(sg.tensor(id).name);
            producerNode[static_cast<size_t>(id.value)] = self;
        }
        for (const auto id : op.inputs) {
            if (id.valid()) names << qs(sg.tensor(id).name);
        }
        n.search = names.join(QLatin1Char('\n'));
        if (!op.outputs.empty() && op.outputs[0].valid()) {
            const auto& out = sg.tensor(op.outputs[0]);
            n.tensor = op.outputs[0].value;
            n.output = typeAndShape(out);
            if (op.outputs.size() > 1)
                n.output += QStringLiteral(" (+%1)").arg(op.outputs.size() - 1);
            QString tip =
                QStringLiteral("#%1 → %2 (tensor %3)").arg(i).arg(qs(out.name)).arg(n.tensor);
            const QString quant = qs(model::formatQuantization(out.quantization));
            if (!quant.isEmpty()) tip += QLatin1Char('\n') + quant;
            const QString metrics = metricTooltip(n.tensor);
            if (!metrics.isEmpty()) tip += QLatin1Char('\n') + metrics;
            n.tooltip = tip;
            n.value = valueOf(n.tensor);
        }
        n.greyReason = notRunReason(subgraph, static_cast<int>(i), outcome);
        n.greyed = !n.greyReason.isEmpty();
        g.nodes.push_back(std::move(n));
        for (const auto id : op.inputs) {
            if (!id.valid()) continue;
            const int from = producerNode[static_cast<size_t>(id.value)];
            if (from < 0) continue;  // constants and state live in the inspector, not as nodes
            g.edges.push_back({from, self, id.value, qs(sg.tensor(id).name)});
        }
    }
    for (const auto id : sg.outputs) {
        const auto& t = sg.tensor(id);
        widgets::GraphNode n;
        n.kind = widgets::GraphNode::Kind::Output;
        n.tensor = id.value;
        n.title = qs(t.name);
        n.output = typeAndShape(t);
        n.tooltip = QStringLiteral("output tensor %1").arg(id.value);
        const int self = static_cast<int>(g.nodes.size());
        g.nodes.push_back(std::move(n));
        const int from = producerNode[static_cast<size_t>(id.value)];
        if (from >= 0) g.edges.push_back({from, self, id.value, qs(t.name)});
    }
    if (metricCol >= 0) {
        QVector<double> values;
        for (const auto& [tensor, row] : outcome->metrics.byTensor)
            values << row[static_cast<size_t>(metricCol)];
        g.metric = metricScale(outcome->metrics.columns[static_cast<size_t>(metricCol)], values);
    }
    return g;
}

QVector<widgets::LayerRow> ModelDocument::layerRows(int subgraph, const RunOutcome* outcome) const {
    const auto& sg = m_model.subgraphs.at(static_cast<size_t>(subgraph));
    QVector<widgets::LayerRow> rows;
    const auto fill = [&](widgets::LayerRow& r, TensorId id) {
        const auto& t = sg.tensor(id);
        r.tensor = id.value;
        r.tensorName = qs(t.name);
        r.dtype = qs(model::dtypeName(t.dtype));
        r.shape = qs(model::formatShape(t.shape));
        r.quant = qs(model::formatQuantization(t.quantization));
        if (const auto* m = metricsOf(outcome, id.value))
            r.metrics = QVector<double>(m->begin(), m->end());
    };
    for (const auto id : sg.inputs) {
        widgets::LayerRow r;
        r.opType = QObject::tr("(input)");
        fill(r, id);
        r.evaluated = true;
        r.status = outcome ? QObject::tr("input") : QString();
        rows.push_back(std::move(r));
    }
    for (size_t i = 0; i < sg.operators.size(); ++i) {
        const auto& op = sg.operators[i];
        const QString reason = notRunReason(subgraph, static_cast<int>(i), outcome);
        for (const auto id : op.outputs) {
            if (!id.valid()) continue;
            widgets::LayerRow r;
            r.op = static_cast<int>(i);
            r.opType = qs(op.name());
            fill(r, id);
            r.evaluated = outcome && reason.isEmpty();
            r.status = !outcome           ? QObject::tr("not run yet")
                       : reason.isEmpty() ? QObject::tr("ok")
                                          : reason;
            rows.push_back(std::move(r));
        }
    }
    return rows;
}

widgets::InspectorData ModelDocument::inspect(int subgraph, int opIndex, int tensor,
                                              const RunOutcome* outcome) const {
    const auto& sg = m_model.subgraphs.at(static_cast<size_t>(subgraph));
    widgets::InspectorData d;
    const auto addMetricDetails = [&](int t) {
        const auto* m = metricsOf(outcome, t);
        if (!m) return;
        for (size_t i = 0; i < m->size() && i < outcome->metrics.columns.size(); ++i) {
            const auto& c = outcome->metrics.columns[i];
            if (!std::isnan((*m)[i]))
                d.details.push_back(
                    {c.name, QStringLiteral("%1 %2").arg((*m)[i], 0, 'g', 5).arg(c.unit)});
        }
    };
    if (opIndex < 0) {
        if (tensor < 0 || static_cast<size_t>(tensor) >= sg.tensors.size()) return d;
        const TensorId id{tensor};
        d.title = QStringLiteral("Tensor %1").arg(tensor);
        d.options = qs(sg.tensor(id).name);
        d.tensors.push_back(inspectorTensor(sg, id, QObject::tr("tensor")));
        addMetricDetails(tensor);
        return d;
    }
    if (static_cast<size_t>(opIndex) >= sg.operators.size()) return d;
    const auto& op = sg.operators[static_cast<size_t>(opIndex)];
    d.title = QStringLiteral("#%1 %2").arg(opIndex).arg(qs(op.name()));
    d.options = qs(model::formatKeyOptions(op));
    d.details.push_back({QObject::tr("Version"), QString::number(op.version)});
    if (outcome) {
        const QString reason = notRunReason(subgraph, opIndex, outcome);
        d.details.push_back(
            {QObject::tr("Run"), reason.isEmpty() ? QObject::tr("evaluated") : reason});
    }
    if (!op.outputs.empty() && op.outputs[0].valid()) addMetricDetails(op.outputs[0].value);

    const model::Tensor* weights = nullptr;
    const model::Tensor* input = nullptr;
    for (size_t k = 0; k < op.inputs.size(); ++k) {
        const auto id = op.inputs[k];
        if (!id.valid()) continue;
        const auto& t = sg.tensor(id);
        const QString role = inputRole(op, k, t);
        if (role == QLatin1String("weights")) weights = &t;
        if (!input && !t.isConstant()) input = &t;
        d.tensors.push_back(inspectorTensor(sg, id, role));
    }
    const model::Tensor* output = nullptr;
    for (size_t k = 0; k < op.outputs.size(); ++k) {
        if (!op.outputs[k].valid()) continue;
        if (!output) output = &sg.tensor(op.outputs[k]);
        d.tensors.push_back(inspectorTensor(sg, op.outputs[k], QStringLiteral("output %1").arg(k)));
    }

    // The requantization TFLite derives in Prepare (tensorflow/lite/kernels/kernel_util.cc
    // GetQuantizedConvolutionMultipler + PopulateConvolutionQuantizationParams): per output
    // channel, effective scale = s_in * s_w[c] / s_out, then QuantizeMultiplier.
    if (weights && input && output && input->quantization.isQuantized() &&
        output->quantization.isQuantized() && weights->quantization.isQuantized()) {
        auto& ch = d.channels;
        const auto& wq = weights->quantization;
        const size_t n = wq.scales.size();
        ch.axisNote =
            n > 1 ? QObject::tr("output channel (weights axis %1)").arg(wq.quantized_dimension)
                  : QObject::tr("per-tensor");
        for (size_t c = 0; c < n; ++c) {
            const double eff = static_cast<double>(input->quantization.scale()) * wq.scales[c] /
                               output->quantization.scale();
            const auto qm = engine::quantizeMultiplier(eff);
            ch.effectiveScale << eff;
            ch.multiplier << qm.multiplier;
            ch.shift << qm.shift;
        }
    }
    if (weights && weights->quantization.isQuantized()) {
        auto& ch = d.channels;
        const WeightChannels* analysed = nullptr;
        if (outcome) {
            const auto it = outcome->metrics.weights.find(opIndex);
            if (it != outcome->metrics.weights.end()) analysed = &it->second;
        }
        if (analysed) {
            ch.weightMin = QVector<double>(analysed->min.begin(), analysed->min.end());
            ch.weightMax = QVector<double>(analysed->max.begin(), analysed->max.end());
            ch.weightAbsMax = QVector<double>(analysed->absmax.begin(), analysed->absmax.end());
        } else {
            std::vector<double> mn, mx;
            switch (weights->dtype) {
                case model::DType::Int8:
                    channelStats<int8_t>(*weights, mn, mx);
                    break;
                case model::DType::UInt8:
                    channelStats<uint8_t>(*weights, mn, mx);
                    break;
                case model::DType::Int16:
                    channelStats<int16_t>(*weights, mn, mx);
                    break;
                default:
                    break;
            }
            for (size_t c = 0; c < mn.size(); ++c) {
                ch.weightMin << mn[c];
                ch.weightMax << mx[c];
                ch.weightAbsMax << std::max(std::abs(mn[c]), std::abs(mx[c]));
            }
        }
        if (ch.axisNote.isEmpty()) ch.axisNote = QObject::tr("channel");
    }
    return d;
}

widgets::MetricScale metricScale(const widgets::MetricColumn& column,
                                 const QVector<double>& values) {
    widgets::MetricScale s;
    s.name = column.name;
    s.unit = column.unit;
    // Natural ends: SQNR below ~10 dB is a broken layer, 40 dB is excellent; RMSE/scale of pure
    // rounding is 1/sqrt(12) = 0.289 LSB; cosine below 0.95 is visibly wrong.
    const QString n = column.name.toLower();
    if (n.contains(QLatin1String("sqnr"))) return {s.name, s.unit, 40.0, 0.0};
    if (n.contains(QLatin1String("rmse/scale")) || n.contains(QLatin1String("lsb")))
        return {s.name, s.unit, 0.289, 4.0};
    if (n.contains(QLatin1String("cosine"))) return {s.name, s.unit, 1.0, 0.95};
    if (n.contains(QLatin1String("saturation"))) return {s.name, s.unit, 0.0, 5.0};
    double lo = INFINITY, hi = -INFINITY;
    for (double v : values) {
        if (std::isnan(v)) continue;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
    if (!(lo < hi)) return s;  // no spread: nothing to colour
    return column.higherIsBetter ? widgets::MetricScale{s.name, s.unit, hi, lo}
                                 : widgets::MetricScale{s.name, s.unit, lo, hi};
}

}  // namespace qs::app
