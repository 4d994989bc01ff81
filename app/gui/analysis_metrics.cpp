#include "app/gui/analysis_metrics.h"

#include <algorithm>

namespace qs::app {

namespace an = engine::analysis;

const std::vector<MetricColumnDef>& metricColumnDefs() {
    static const std::vector<MetricColumnDef> defs = {
        {"SQNR", "sqnr_db", "dB"},
        {"RMSE/scale", "rmse_lsb", "LSB"},
        {"cosine", "cosine_similarity", ""},
        {"rel. L2", "relative_l2", ""},
        {"saturation", "saturation_pct", "%"},
        {"out of range", "out_of_range_pct", "%"},
        {"max |error|", "max_abs_error", ""},
        {"RMSE", "rmse", ""},
        {"mean error", "mean_error", ""},
        {"stddev", "stddev", ""},
        {"MSE", "mean_squared_error", ""},
        {"float min", "float_min", ""},
        {"float max", "float_max", ""},
        {"repr. min", "representable_min", ""},
        {"repr. max", "representable_max", ""},
        {"elements", "num_elements", ""},
    };
    return defs;
}

Result<MetricTable> AnalysisMetrics::compute(const MetricRequest& request,
                                             const std::function<bool(int, int)>& progress) {
    if (request.subgraph.value != 0) {
        // engine::analysis compares the main subgraphs; other subgraphs show the run only.
        return MetricTable{};
    }
    an::AnalysisOptions options;
    options.mode =
        request.mode == ErrorMode::Local ? an::ErrorMode::Local : an::ErrorMode::Accumulated;
    options.profile = request.profile;
    options.progress = progress;
    // Keep the compared values of the first sample for the tensor views.
    auto values = std::make_shared<TensorValueStore>();
    options.observe = [&values](int sample, TensorId t, const engine::TensorValue& q,
                                const engine::TensorValue& r) {
        if (sample == 0) (*values)[t.value] = TensorPair{q, r};
    };
    const auto source = [&request](int i) -> Result<std::vector<engine::TensorValue>> {
        if (i == 0 || !request.sample) return request.inputs;
        return request.sample(i);
    };
    const int samples = request.sample ? std::max(request.sampleCount, 1) : 1;
    auto result = an::analyze(*request.quant, request.floatModel, samples, source, options);
    if (!result) return std::unexpected(result.error());

    MetricTable table;
    std::vector<const an::MetricDef*> defs;
    for (const auto& c : metricColumnDefs()) {
        const an::MetricDef* d = an::findMetric(c.key);
        if (!d) continue;  // a metric the analysis no longer has
        defs.push_back(d);
        table.columns.push_back(
            {QString::fromUtf8(c.display), QString::fromUtf8(c.unit), d->higher_is_better});
    }
    for (const auto& t : result->tensors) {
        std::vector<double> row;
        row.reserve(defs.size());
        for (const auto* d : defs) row.push_back(t.averaged.*(d->field));
        table.byTensor[t.tensor.value] = std::move(row);
    }
    for (const auto& w : result->weights) {
        if (w.role != "weights" || !w.op.valid()) continue;
        WeightChannels ch;
        for (const auto& c : w.channels) {
            ch.min.push_back(c.min);
            ch.max.push_back(c.max);
            ch.absmax.push_back(c.absmax);
        }
        table.weights[w.op.value] = std::move(ch);
    }
    table.warnings = result->warnings;
    table.cancelled = result->cancelled;
    table.analysis = std::make_shared<const an::ErrorAnalysis>(std::move(*result));
    table.values = std::move(values);
    return table;
}

}  // namespace qs::app
