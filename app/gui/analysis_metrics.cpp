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
    options.op_progress = request.opProgress;
    // Keep the compared values of the first sample for the tensor views: in accumulated mode
    // the runs' own values (moved, below), in local mode copies of the compared pairs.
    auto values = std::make_shared<TensorValueStore>();
    if (options.mode == an::ErrorMode::Accumulated) {
        options.keep_sample0 = true;
    } else {
        options.observe = [&values](int sample, TensorId t, const engine::TensorValue& q,
                                    const engine::TensorValue& r) {
            if (sample == 0) (*values)[t.value] = TensorPair{q, r};
        };
    }
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
    if (options.keep_sample0) {
        // Each compared tensor once; a reference value paired twice is copied the second time.
        auto& quant = result->sample0_quant;
        auto& reference = result->sample0_reference;
        std::vector<char> taken(reference.size(), 0);
        for (const auto& t : result->tensors) {
            const auto q = static_cast<size_t>(t.tensor.value);
            const auto r = static_cast<size_t>(t.reference_tensor.value);
            if (q >= quant.size() || r >= reference.size() || !quant[q].valid() ||
                !reference[r].valid())
                continue;
            TensorPair pair;
            pair.quant = std::move(quant[q]);
            pair.reference = taken[r] ? reference[r] : std::move(reference[r]);
            taken[r] = 1;
            (*values)[t.tensor.value] = std::move(pair);
        }
        quant.clear();
        reference.clear();
    }
    table.warnings = result->warnings;
    table.cancelled = result->cancelled;
    table.analysis = std::make_shared<const an::ErrorAnalysis>(std::move(*result));
    table.values = std::move(values);
    return table;
}

}  // namespace qs::app
