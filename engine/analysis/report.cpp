#include "engine/analysis/report.h"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/io/npy.h"
#include "model/str_format.h"

namespace qs::engine::analysis {

namespace {

using nlohmann::json;

constexpr std::string_view kQdColumns[] = {
    "op_name",       "tensor_idx",         "num_elements", "stddev",     "mean_error",
    "max_abs_error", "mean_squared_error", "scale",        "zero_point", "tensor_name"};
constexpr std::string_view kOurColumns[] = {"op_index",
                                            "dtype",
                                            "shape",
                                            "quantized_dimension",
                                            "channel_axis",
                                            "reference_tensor_idx",
                                            "reference_tensor_name",
                                            "pairing",
                                            "samples"};
// The QuantizationDebugger metrics come first in its own columns; ours follow.
constexpr size_t kQdMetricCount = 5;

std::string csvField(std::string_view s) {
    if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
    std::string out = "\"";
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
    return out;
}

void appendRow(std::string& out, const std::vector<std::string>& fields) {
    for (size_t i = 0; i < fields.size(); ++i) {
        if (i) out += ',';
        out += csvField(fields[i]);
    }
    out += "\r\n";  // RFC 4180, as Python's csv module writes
}

std::string opName(const ReportContext& ctx, OpId op) {
    if (!op.valid()) return "INPUT";
    return ctx.quant->main().op(op).name();
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

const model::Subgraph& refGraph(const ReportContext& ctx) {
    return ctx.float_model ? ctx.float_model->main() : ctx.quant->main();
}

json metricsJson(const ErrorMetrics& m) {
    json j = json::object();
    for (const auto& d : kMetrics) {
        const double v = m.*(d.field);
        j[std::string(d.name)] = std::isfinite(v) ? json(v) : json(nullptr);
    }
    return j;
}

json quantJson(const model::Quantization& q) {
    if (!q.isQuantized()) return nullptr;
    json j;
    j["scales"] = q.scales;
    j["zero_points"] = q.zero_points;
    j["quantized_dimension"] = q.quantized_dimension;
    return j;
}

json finiteOrNull(double v) {
    return std::isfinite(v) ? json(v) : json(nullptr);
}

}  // namespace

std::string formatNumber(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof(buf), v);
    return std::string(buf, r.ptr);
}

std::vector<std::string> csvColumns() {
    std::vector<std::string> cols(std::begin(kQdColumns), std::end(kQdColumns));
    cols.insert(cols.end(), std::begin(kOurColumns), std::end(kOurColumns));
    for (size_t i = kQdMetricCount; i < kMetrics.size(); ++i) cols.emplace_back(kMetrics[i].name);
    for (const auto& d : kMetrics) cols.push_back("pooled_" + std::string(d.name));
    return cols;
}

std::vector<std::string> perChannelCsvColumns() {
    std::vector<std::string> cols = {"tensor_idx",   "tensor_name", "op_name", "op_index",
                                     "channel_axis", "channel",     "scale",   "zero_point"};
    for (const auto& d : kMetrics) cols.emplace_back(d.name);
    for (const auto& d : kMetrics) cols.push_back("pooled_" + std::string(d.name));
    return cols;
}

std::string csvReport(const ErrorAnalysis& a, const ReportContext& ctx) {
    std::string out;
    appendRow(out, csvColumns());
    const auto& sg = ctx.quant->main();
    const auto& rsg = refGraph(ctx);
    for (const auto& t : a.tensors) {
        const auto& tensor = sg.tensor(t.tensor);
        const auto& q = tensor.quantization;
        std::vector<std::string> f;
        f.push_back(opName(ctx, t.producer));
        f.push_back(std::to_string(t.tensor.value));
        for (size_t i = 0; i < kQdMetricCount; ++i)
            f.push_back(formatNumber(t.averaged.*(kMetrics[i].field)));
        f.push_back(q.isQuantized() ? formatNumber(q.scale(0)) : "");
        f.push_back(q.isQuantized() ? std::to_string(q.zeroPoint(0)) : "");
        f.push_back(tensor.name);
        f.push_back(std::to_string(t.producer.value));
        f.push_back(lower(model::dtypeName(tensor.dtype)));
        f.push_back(shapeString(tensor.shape));
        f.push_back(std::to_string(q.isPerChannel() ? q.quantized_dimension : -1));
        f.push_back(std::to_string(t.channel_axis));
        f.push_back(std::to_string(t.reference_tensor.value));
        f.push_back(rsg.tensor(t.reference_tensor).name);
        f.push_back(std::string(pairMethodName(t.pairing)));
        f.push_back(std::to_string(t.samples));
        for (size_t i = kQdMetricCount; i < kMetrics.size(); ++i)
            f.push_back(formatNumber(t.averaged.*(kMetrics[i].field)));
        for (const auto& d : kMetrics) f.push_back(formatNumber(t.pooled.*(d.field)));
        appendRow(out, f);
    }
    return out;
}

std::string perChannelCsvReport(const ErrorAnalysis& a, const ReportContext& ctx) {
    std::string out;
    appendRow(out, perChannelCsvColumns());
    const auto& sg = ctx.quant->main();
    for (const auto& t : a.tensors) {
        const auto& tensor = sg.tensor(t.tensor);
        const auto& q = tensor.quantization;
        for (size_t c = 0; c < t.channels_pooled.size(); ++c) {
            std::vector<std::string> f;
            f.push_back(std::to_string(t.tensor.value));
            f.push_back(tensor.name);
            f.push_back(opName(ctx, t.producer));
            f.push_back(std::to_string(t.producer.value));
            f.push_back(std::to_string(t.channel_axis));
            f.push_back(std::to_string(c));
            const size_t qc = q.isPerChannel() ? c : 0;
            f.push_back(q.isQuantized() ? formatNumber(q.scale(qc)) : "");
            f.push_back(q.isQuantized() ? std::to_string(q.zeroPoint(qc)) : "");
            const ErrorMetrics avg =
                c < t.channels_averaged.size() ? t.channels_averaged[c] : ErrorMetrics{};
            for (const auto& d : kMetrics) f.push_back(formatNumber(avg.*(d.field)));
            for (const auto& d : kMetrics)
                f.push_back(formatNumber(t.channels_pooled[c].*(d.field)));
            appendRow(out, f);
        }
    }
    return out;
}

std::string jsonReport(const ErrorAnalysis& a, const ReportContext& ctx) {
    const auto& sg = ctx.quant->main();
    const auto& rsg = refGraph(ctx);
    json j;
    j["tool"] = "quantscope";
    j["model"] = ctx.model_path;
    j["float_model"] = ctx.float_model ? json(ctx.float_model_path) : json(nullptr);
    j["reference"] = ctx.float_model ? "paired float model" : "float twin";
    j["mode"] = std::string(errorModeName(a.mode));
    j["profile"] = std::string(profileName(a.profile));
    j["samples"] = a.samples;
    j["sample_names"] = ctx.sample_names;
    j["cancelled"] = a.cancelled;
    j["difference"] = "dequantized quantized-engine value minus float reference value";
    j["aggregates"] = {{"averaged",
                        "metric per sample, then the mean over samples ignoring NaN "
                        "(QuantizationDebugger's np.nanmean)"},
                       {"pooled", "metric over the elements of all samples taken together"}};
    json pairing;
    pairing["complete"] = a.pairing.complete();
    pairing["paired"] = a.pairing.paired;
    auto ids = [](const std::vector<TensorId>& v, const model::Subgraph& g) {
        json arr = json::array();
        for (TensorId t : v) arr.push_back({{"tensor_idx", t.value}, {"name", g.tensor(t).name}});
        return arr;
    };
    pairing["unmatched_quantized"] = ids(a.pairing.unmatched_quant, sg);
    pairing["unmatched_float"] = ids(a.pairing.unmatched_float, rsg);
    pairing["unmatched_structural_quantized"] = ids(a.pairing.unmatched_structural_quant, sg);
    pairing["unmatched_structural_float"] = ids(a.pairing.unmatched_structural_float, rsg);
    pairing["notes"] = a.pairing.notes;
    if (ctx.float_model) {
        json pairs = json::array();
        for (size_t i = 0; i < a.pairing.float_of.size(); ++i) {
            if (!a.pairing.float_of[i].valid()) continue;
            pairs.push_back({{"tensor_idx", static_cast<int>(i)},
                             {"float_tensor_idx", a.pairing.float_of[i].value},
                             {"method", std::string(pairMethodName(a.pairing.method[i]))}});
        }
        pairing["pairs"] = std::move(pairs);
    }
    j["pairing"] = std::move(pairing);

    json tensors = json::array();
    for (const auto& t : a.tensors) {
        const auto& tensor = sg.tensor(t.tensor);
        json e;
        e["tensor_idx"] = t.tensor.value;
        e["tensor_name"] = tensor.name;
        e["op_index"] = t.producer.value;
        e["op_name"] = opName(ctx, t.producer);
        e["dtype"] = lower(model::dtypeName(tensor.dtype));
        e["shape"] = tensor.shape;
        e["quantization"] = quantJson(tensor.quantization);
        e["reference_tensor_idx"] = t.reference_tensor.value;
        e["reference_tensor_name"] = rsg.tensor(t.reference_tensor).name;
        e["pairing"] = std::string(pairMethodName(t.pairing));
        e["samples"] = t.samples;
        e["channel_axis"] = t.channel_axis;
        e["averaged"] = metricsJson(t.averaged);
        e["pooled"] = metricsJson(t.pooled);
        json channels = json::array();
        const auto& q = tensor.quantization;
        for (size_t c = 0; c < t.channels_pooled.size(); ++c) {
            json ch;
            ch["channel"] = c;
            const size_t qc = q.isPerChannel() ? c : 0;
            ch["scale"] = q.isQuantized() ? json(q.scale(qc)) : json(nullptr);
            ch["zero_point"] = q.isQuantized() ? json(q.zeroPoint(qc)) : json(nullptr);
            if (c < t.channels_averaged.size())
                ch["averaged"] = metricsJson(t.channels_averaged[c]);
            ch["pooled"] = metricsJson(t.channels_pooled[c]);
            channels.push_back(std::move(ch));
        }
        e["channels"] = std::move(channels);
        tensors.push_back(std::move(e));
    }
    j["tensors"] = std::move(tensors);

    json weights = json::array();
    for (const auto& w : a.weights) {
        const auto& tensor = sg.tensor(w.tensor);
        json e;
        e["op_index"] = w.op.value;
        e["op_name"] = opName(ctx, w.op);
        e["tensor_idx"] = w.tensor.value;
        e["tensor_name"] = tensor.name;
        e["role"] = w.role;
        e["dtype"] = lower(model::dtypeName(tensor.dtype));
        e["shape"] = tensor.shape;
        e["quantization"] = quantJson(tensor.quantization);
        e["channel_axis"] = w.channel_axis;
        e["float_tensor_idx"] = w.float_tensor.valid() ? json(w.float_tensor.value) : json(nullptr);
        e["float_transposed"] = w.transposed;
        e["error"] = w.error ? metricsJson(*w.error) : json(nullptr);
        if (w.role == "bias")
            e["bias_scale_max_rel_diff"] = finiteOrNull(w.bias_scale_max_rel_diff);
        json channels = json::array();
        for (size_t c = 0; c < w.channels.size(); ++c) {
            const auto& ch = w.channels[c];
            json x;
            x["channel"] = c;
            x["min"] = finiteOrNull(ch.min);
            x["max"] = finiteOrNull(ch.max);
            x["absmax"] = finiteOrNull(ch.absmax);
            x["scale"] = finiteOrNull(ch.scale);
            x["zero_point"] = ch.zero_point;
            x["q_min"] = ch.q_min;
            x["q_max"] = ch.q_max;
            if (w.role == "bias") {
                x["expected_scale"] = finiteOrNull(ch.expected_scale);
                x["scale_rel_diff"] = finiteOrNull(ch.scale_rel_diff);
            }
            if (c < w.channel_errors.size()) x["error"] = metricsJson(w.channel_errors[c]);
            channels.push_back(std::move(x));
        }
        e["channels"] = std::move(channels);
        weights.push_back(std::move(e));
    }
    j["weights"] = std::move(weights);
    j["warnings"] = a.warnings;
    // Compact: per-channel entries make this file large (50 MB for mobilenet_v2 at 224x224).
    return j.dump() + "\n";
}

Result<std::string> modelExplorerReport(const ErrorAnalysis& a, const ReportContext& ctx,
                                        std::string_view metric, bool pooled) {
    const MetricDef* def = findMetric(metric);
    if (!def) {
        std::string names;
        for (const auto& d : kMetrics) names += (names.empty() ? "" : ", ") + std::string(d.name);
        return fail(strFormat("unknown metric '{}' (one of: {})", metric, names));
    }
    const auto& sg = ctx.quant->main();
    json results = json::object();
    for (const auto& t : a.tensors) {
        const double v = (pooled ? t.pooled : t.averaged).*(def->field);
        if (!std::isfinite(v)) continue;
        // One value per node: the first output of an op that has several wins.
        const std::string key =
            t.producer.valid() ? std::to_string(t.producer.value) : sg.tensor(t.tensor).name;
        if (!results.contains(key)) results[key] = {{"value", v}};
    }
    const char* good = "#2e7d32";
    const char* mid = "#fbc02d";
    const char* bad = "#c62828";
    json gradient = json::array({{{"stop", 0}, {"bgColor", def->higher_is_better ? bad : good}},
                                 {{"stop", 0.5}, {"bgColor", mid}},
                                 {{"stop", 1}, {"bgColor", def->higher_is_better ? good : bad}}});
    // Model Explorer's .tflite adapter names subgraph 0 "main" when the file gives no name
    // (model-explorer src/builtin-adapter direct_flatbuffer_to_json_graph_convert.cc).
    const std::string graph_id = sg.name.empty() ? "main" : sg.name;
    json j;
    j[graph_id] = {{"results", std::move(results)}, {"gradient", std::move(gradient)}};
    return j.dump(1) + "\n";
}

Result<void> writeReportFile(const std::filesystem::path& path, const std::string& contents) {
    return writeFileAtomic(
        path, std::span(reinterpret_cast<const uint8_t*>(contents.data()), contents.size()));
}

}  // namespace qs::engine::analysis
