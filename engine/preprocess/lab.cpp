#include "engine/preprocess/lab.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "engine/analysis/float_twin.h"
#include "engine/executor.h"
#include "model/str_format.h"

namespace qs::engine::preprocess {

std::vector<PlaneStats> planeStats(const FloatImage& image) {
    const auto c = static_cast<size_t>(std::max(image.channels, 0));
    std::vector<PlaneStats> out(c);
    if (c == 0 || image.values.empty()) return out;
    std::vector<double> sum(c, 0.0), sum2(c, 0.0);
    for (size_t k = 0; k < c; ++k) {
        out[k].min = std::numeric_limits<double>::infinity();
        out[k].max = -std::numeric_limits<double>::infinity();
    }
    for (size_t i = 0; i < image.values.size(); ++i) {
        const size_t k = i % c;
        const double v = image.values[i];
        out[k].min = std::min(out[k].min, v);
        out[k].max = std::max(out[k].max, v);
        sum[k] += v;
        sum2[k] += v * v;
    }
    const double n = static_cast<double>(image.values.size() / c);
    for (size_t k = 0; k < c; ++k) {
        out[k].mean = sum[k] / n;
        // Clamped: rounding can make E[v^2] - E[v]^2 slightly negative for a flat plane.
        out[k].std = std::sqrt(std::max(0.0, sum2[k] / n - out[k].mean * out[k].mean));
    }
    return out;
}

FloatImage normalizedImage(const PreprocessResult& r) {
    const auto& s = r.normalized.shape();
    if (s.size() != 4 || r.normalized.dtype() != model::DType::Float32) return {};
    FloatImage out(s[2], s[1], s[3]);
    const auto d = r.normalized.data<float>();
    std::copy(d.begin(), d.end(), out.values.begin());
    return out;
}

Result<double> normalizedPeak(const Pipeline& resolved, int32_t channels) {
    auto nv = normValues(resolved.norm, channels);
    if (!nv) return std::unexpected(nv.error());
    double peak = 0;
    for (size_t c = 0; c < nv->std.size(); ++c)
        peak = std::max(peak, 255.0 / nv->divisor / std::abs(static_cast<double>(nv->std[c])));
    return peak;
}

Result<ImageDifference> difference(const FloatImage& a, const FloatImage& b, double peak) {
    if (a.width != b.width || a.height != b.height || a.channels != b.channels) {
        return fail(strFormat("cannot compare a {}x{}x{} image with a {}x{}x{} one", a.width,
                              a.height, a.channels, b.width, b.height, b.channels));
    }
    if (a.values.empty()) return fail("cannot compare empty images");
    ImageDifference d;
    d.width = a.width;
    d.height = a.height;
    d.channels = a.channels;
    d.peak = peak;
    const auto c = static_cast<size_t>(a.channels);
    d.abs_max.assign(a.values.size() / c, 0.0f);
    d.channel_max_abs.assign(c, 0.0);
    double sumAbs = 0, sum2 = 0;
    for (size_t i = 0; i < a.values.size(); ++i) {
        // In double: float a - b can round, and max |a - b| must equal numpy's float64 one.
        const double e = std::abs(static_cast<double>(a.values[i]) - b.values[i]);
        float& px = d.abs_max[i / c];
        px = std::max(px, static_cast<float>(e));
        d.channel_max_abs[i % c] = std::max(d.channel_max_abs[i % c], e);
        d.max_abs = std::max(d.max_abs, e);
        sumAbs += e;
        sum2 += e * e;
    }
    const double n = static_cast<double>(a.values.size());
    d.mean_abs = sumAbs / n;
    const double mse = sum2 / n;
    d.rmse = std::sqrt(mse);
    d.psnr_db =
        mse > 0 ? 10.0 * std::log10(peak * peak / mse) : std::numeric_limits<double>::infinity();
    return d;
}

Result<std::vector<ScoredClass>> topK(const TensorValue& output, const model::Quantization& q,
                                      int k) {
    std::vector<float> scores;
    if (output.dtype() == model::DType::Float32) {
        const auto d = output.data<float>();
        scores.assign(d.begin(), d.end());
    } else {
        auto f = analysis::dequantizeValue(output, q);
        if (!f) return std::unexpected(f.error());
        const auto d = f->data<float>();
        scores.assign(d.begin(), d.end());
    }
    std::vector<int32_t> order(scores.size());
    std::iota(order.begin(), order.end(), 0);
    const auto n = std::min(order.size(), static_cast<size_t>(std::max(k, 0)));
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), order.end(),
                      [&](int32_t x, int32_t y) {
                          const float sx = scores[static_cast<size_t>(x)];
                          const float sy = scores[static_cast<size_t>(y)];
                          return sx > sy || (sx == sy && x < y);
                      });
    std::vector<ScoredClass> out;
    for (size_t i = 0; i < n; ++i) out.push_back({order[i], scores[static_cast<size_t>(order[i])]});
    return out;
}

ErrorSummary summarizeErrors(const analysis::ErrorAnalysis& a, const model::Model& m) {
    ErrorSummary s;
    const auto& sg = m.main();
    const TensorId out = sg.outputs.empty() ? TensorId{} : sg.outputs.front();
    double lsbSum = 0;
    int lsbCount = 0;
    for (const auto& t : a.tensors) {
        const auto& e = t.averaged;
        ++s.tensors;
        if (std::isfinite(e.rmse_lsb)) {
            lsbSum += e.rmse_lsb;
            ++lsbCount;
        }
        if (t.tensor == out) {
            s.output_sqnr_db = e.sqnr_db;
            s.output_rmse_lsb = e.rmse_lsb;
        }
        // Worst: lowest SQNR among op outputs (a NaN SQNR, e.g. an all-zero reference, is
        // not a candidate).
        if (t.producer.valid() && !std::isnan(e.sqnr_db) &&
            (s.worst_tensor < 0 || e.sqnr_db < s.worst_sqnr_db)) {
            s.worst_tensor = t.tensor.value;
            s.worst_sqnr_db = e.sqnr_db;
        }
    }
    if (lsbCount > 0) s.mean_rmse_lsb = lsbSum / lsbCount;
    return s;
}

Result<LabEvaluation> evaluatePipeline(const Image& image, const Pipeline& p, const model::Model& m,
                                       const LabOptions& options) {
    auto pre = preprocess(image, p, m, 0);
    if (!pre) return std::unexpected(pre.error());
    LabEvaluation ev;
    ev.pre = std::move(*pre);
    ev.stats = planeStats(normalizedImage(ev.pre));

    const auto& sg = m.main();
    if (sg.inputs.size() != 1)
        return fail(strFormat("the preprocessing lab feeds models with one input (this one has {})",
                              sg.inputs.size()));
    if (sg.outputs.empty()) return fail("the model has no outputs");
    const int ops = static_cast<int>(sg.operators.size());
    const int total = options.analyze ? 2 * ops : ops;
    RunOptions ro;
    ro.profile = options.profile;
    ro.keep_values = false;
    ro.progress = [&](int done, int) { return !options.progress || options.progress(done, total); };
    std::vector<TensorValue> inputs{ev.pre.input};
    auto run = engine::run(m, SubgraphId{0}, inputs, ro);
    if (!run) return std::unexpected(run.error());
    if (run->cancelled) {
        ev.cancelled = true;
        return ev;
    }
    if (run->stopped_at) {
        return fail(strFormat(
            "the run stopped at op {}: {}", run->stopped_at->value,
            run->warnings.empty() ? std::string("unsupported op") : run->warnings.front()));
    }
    const TensorId outId = sg.outputs.front();
    const auto& outValue = run->values[static_cast<size_t>(outId.value)];
    const auto& outTensor = sg.tensor(outId);
    ev.output_classes = static_cast<int32_t>(outValue.numElements());
    auto top = topK(outValue, outTensor.quantization, options.top_k);
    if (!top) return std::unexpected(top.error());
    ev.top = std::move(*top);

    if (!options.analyze) return ev;
    analysis::AnalysisOptions ao;
    ao.mode = options.mode;
    ao.profile = options.profile;
    ao.progress = [&](int, int) { return !options.progress || options.progress(total, total); };
    const auto source = [&inputs](int) -> Result<std::vector<TensorValue>> { return inputs; };
    auto a = analysis::analyze(m, options.float_model, 1, source, ao);
    if (!a) {
        ev.analysis_error = a.error().message;
    } else if (a->cancelled) {
        ev.cancelled = true;
    } else {
        ev.errors = summarizeErrors(*a, m);
    }
    return ev;
}

}  // namespace qs::engine::preprocess
