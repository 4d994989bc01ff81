// Error metrics between a quantized engine's tensor and its float reference, in the float
// domain. The difference is d = dequantized - reference, as in TFLite's NumericVerify op
// (tensorflow/lite/kernels/numeric_verify.cc), whose output QuantizationDebugger
// (tensorflow/lite/tools/optimize/debugging/python/debugger.py) reduces with:
//   num_elements = d.size, stddev = np.std(d) (population, ddof 0), mean_error = np.average(d),
//   max_abs_error = max |d|, mean_squared_error = np.average(d**2),
// per sample, then np.nanmean over the samples. We keep those and add (all per sample too):
//   rmse = sqrt(mse); rmse_lsb = sqrt(mean((d / scale_c)^2)) with the element's channel scale
//   (rounding alone gives 1/sqrt(12) = 0.289); sqnr_db = 10 log10(sum f^2 / sum d^2);
//   cosine_similarity = <q,f> / (|q| |f|); relative_l2 = |d| / |f|;
//   saturation_pct = % of stored integers at the dtype's qmin or qmax;
//   float_min/float_max of the reference vs representable_min/max = (qmin - zp) s, (qmax - zp) s;
//   out_of_range_pct = % of reference values outside the representable range.
// Over a dataset two aggregates are kept side by side:
//   "averaged": each metric per sample, then the mean over samples, ignoring NaN
//               (QuantizationDebugger's semantics);
//   "pooled":   every element of every sample in one population (sums merged exactly; the
//               variance with Chan et al.'s pairwise update).
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "engine/tensor_value.h"
#include "model/model.h"

namespace qs::engine::analysis {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Running sums over the elements of one tensor (or one channel of it) for one or more samples.
struct ErrorAccumulator {
    int64_t n = 0;
    double mean_d = 0;  // mean of d
    double m2 = 0;      // sum of (d - mean_d)^2
    double sum_d2 = 0, max_abs = 0;
    double sum_f2 = 0, sum_q2 = 0, sum_qf = 0;
    double sum_lsb2 = 0;  // sum of (d / scale)^2; NaN when there is no scale
    int64_t saturated = 0, out_of_range = 0;
    bool has_int = false;  // saturation/ranges apply (a quantized integer tensor)
    double f_min = std::numeric_limits<double>::infinity();
    double f_max = -std::numeric_limits<double>::infinity();
    double repr_min = kNaN, repr_max = kNaN;

    void merge(const ErrorAccumulator& other);
};

struct ErrorMetrics {
    double num_elements = 0;
    double stddev = kNaN, mean_error = kNaN, max_abs_error = kNaN, mean_squared_error = kNaN;
    double rmse = kNaN, rmse_lsb = kNaN, sqnr_db = kNaN, cosine_similarity = kNaN,
           relative_l2 = kNaN, saturation_pct = kNaN;
    double float_min = kNaN, float_max = kNaN, representable_min = kNaN, representable_max = kNaN,
           out_of_range_pct = kNaN;
};

ErrorMetrics finalize(const ErrorAccumulator& acc);

// The metric table: the name used in reports and --metric, and whether a larger value is
// better (for colour scales). The first five are QuantizationDebugger's, in its CSV order.
struct MetricDef {
    std::string_view name;
    double ErrorMetrics::*field;
    bool higher_is_better;
};
inline constexpr std::array<MetricDef, 16> kMetrics = {{
    {"num_elements", &ErrorMetrics::num_elements, false},
    {"stddev", &ErrorMetrics::stddev, false},
    {"mean_error", &ErrorMetrics::mean_error, false},
    {"max_abs_error", &ErrorMetrics::max_abs_error, false},
    {"mean_squared_error", &ErrorMetrics::mean_squared_error, false},
    {"rmse", &ErrorMetrics::rmse, false},
    {"rmse_lsb", &ErrorMetrics::rmse_lsb, false},
    {"sqnr_db", &ErrorMetrics::sqnr_db, true},
    {"cosine_similarity", &ErrorMetrics::cosine_similarity, true},
    {"relative_l2", &ErrorMetrics::relative_l2, false},
    {"saturation_pct", &ErrorMetrics::saturation_pct, false},
    {"float_min", &ErrorMetrics::float_min, false},
    {"float_max", &ErrorMetrics::float_max, false},
    {"representable_min", &ErrorMetrics::representable_min, false},
    {"representable_max", &ErrorMetrics::representable_max, false},
    {"out_of_range_pct", &ErrorMetrics::out_of_range_pct, false},
}};
const MetricDef* findMetric(std::string_view name);

// Mean over samples of each metric, NaN ignored (np.nanmean); a metric NaN in every sample
// stays NaN.
class MetricAverager {
public:
    void add(const ErrorMetrics& m);
    ErrorMetrics mean() const;
    int count() const { return m_samples; }

private:
    std::array<double, kMetrics.size()> m_sum{};
    std::array<int, kMetrics.size()> m_count{};
    int m_samples = 0;
};

// The axis per-channel statistics use: quantized_dimension for per-channel tensors, else the
// last axis (-1 for a scalar).
int channelAxis(std::span<const int32_t> shape, const model::Quantization& q);

// The element layout seen from a statistics axis: [outer, channels, inner] (axis < 0 or out
// of range: one channel of all `n` elements).
struct ChannelBlocks {
    int64_t outer = 1, channels = 1, inner = 1;
};
ChannelBlocks channelBlocks(std::span<const int32_t> shape, int axis, int64_t n);

// Sums for one tensor: the whole tensor and each channel along `axis`.
struct TensorAccumulator {
    ErrorAccumulator total;
    std::vector<ErrorAccumulator> channels;
    void merge(const TensorAccumulator& other);
};

// Compares `quant` (a quantized integer tensor with parameters `q`, or a float tensor) with
// `reference` (float32, same element count; its shape is not used). Channels follow
// channelAxis(quant.shape(), q).
Result<TensorAccumulator> compareTensor(const TensorValue& quant, const model::Quantization& q,
                                        const TensorValue& reference);
// The same from plain arrays (weights): `dequantized` and `reference` in the same layout,
// `raw` optional stored integers (for saturation) of dtype `dtype`. `axis` overrides the
// channel axis (kDefaultAxis: channelAxis(shape, q); -1: no channels).
inline constexpr int kDefaultAxis = -2;
TensorAccumulator compareArrays(std::span<const float> dequantized,
                                std::span<const float> reference, std::span<const int32_t> shape,
                                const model::Quantization& q, model::DType dtype,
                                std::span<const int64_t> raw, int axis = kDefaultAxis);

}  // namespace qs::engine::analysis
