// Quantization playground: a set of float values (a seeded distribution or a real tensor)
// quantized with a scale and zero point the user drags, and what that costs. No Qt.
//
//   auto values = sampleDistribution(Distribution::Uniform, 100000, /*seed*/ 1);
//   auto grid = gridForRange(-1.0, 1.0, model::DType::Int8, /*symmetric*/ true);
//   auto eval = evaluate(values, {}, -1, std::span(&*grid, 1));  // eval->total.rmse_lsb ~ 0.289
//
// Quantization is TFLite's AffineQuantize (tensorflow/lite/kernels/internal/reference/
// quantize.h): q = clamp(round(x / scale) + zero_point, qmin, qmax), the division in float,
// ties away from zero; dequantization as analysis::dequantizeValue, float(double(s) (q - zp)).
// The error metrics are engine/analysis/metrics.h's, so the numbers mean what they mean in the
// error table (rmse_lsb: RMSE in units of the element's scale; 1/sqrt(12) = 0.289 for pure
// rounding of values spread evenly over the grid).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "engine/analysis/metrics.h"
#include "engine/analysis/tensor_views.h"
#include "model/error.h"
#include "model/model.h"

namespace qs::engine::playground {

enum class Distribution { Normal, Uniform, Laplace, NormalWithOutliers, Bimodal };
inline constexpr std::array<Distribution, 5> kAllDistributions = {
    Distribution::Normal, Distribution::Uniform, Distribution::Laplace,
    Distribution::NormalWithOutliers, Distribution::Bimodal};
std::string_view distributionName(Distribution d);  // "normal", "uniform", ...
std::optional<Distribution> parseDistribution(std::string_view name);

// `count` values (rounded up to a multiple of `channels`) from a seeded std::mt19937_64 (its
// output sequence is fixed by the C++ standard; the transforms are our own, so every platform
// draws the same values). Unit spread: normal N(0, 1); uniform on [-1, 1]; Laplace with
// variance 1; normal with 0.05 % of the values moved to +-(8..12); bimodal: two normals
// N(+-1.5, 0.5). With channels > 1 the layout is [channels, count / channels] (channel axis 0,
// as a conv filter's output channels) and channel c's spread is 2^(-4 c / (channels - 1)):
// from 1 down to 1/16, so one shared scale fits the small channels badly.
std::vector<float> sampleDistribution(Distribution d, int64_t count, uint64_t seed,
                                      int channels = 1);

// A quantization grid: integer levels qmin..qmax, level q at float value (q - zero_point) scale.
// `scale` is always a float32 value (TFLite stores scales as float).
struct Grid {
    double scale = 1.0;
    int64_t zero_point = 0;
    int64_t qmin = -128, qmax = 127;
    model::DType dtype = model::DType::Int8;
    bool symmetric = false;

    double representableMin() const { return static_cast<double>(qmin - zero_point) * scale; }
    double representableMax() const { return static_cast<double>(qmax - zero_point) * scale; }
    // Values below clipLow() or above clipHigh() are clamped (they would round past qmin/qmax).
    double clipLow() const { return (static_cast<double>(qmin - zero_point) - 0.5) * scale; }
    double clipHigh() const { return (static_cast<double>(qmax - zero_point) + 0.5) * scale; }
    int64_t levels() const { return qmax - qmin + 1; }
    bool operator==(const Grid&) const = default;
};

// The integer range of `dtype` (int8, uint8, int16). Symmetric quantization drops the lowest
// level so the range is symmetric about the zero point: int8 [-127, 127] as TFLite's weights
// (kMinQuantizedValue, tensorflow/lite/tools/optimize/quantization_utils.cc), uint8 [1, 255]
// about 128, int16 [-32767, 32767].
struct IntegerRange {
    int64_t qmin = 0, qmax = 0;
};
Result<IntegerRange> integerRange(model::DType dtype, bool symmetric);
// The fixed zero point of symmetric quantization: 128 for uint8, else 0.
int64_t symmetricZeroPoint(model::DType dtype);

// A grid from a scale and zero point. Fails on a scale that is not positive and finite, or a
// zero point outside [qmin, qmax]; symmetric grids ignore `zero_point`.
Result<Grid> makeGrid(double scale, int64_t zero_point, model::DType dtype, bool symmetric);
// The grid TFLite's converter picks for the float range [lo, hi]: symmetric: scale =
// max(|lo|, |hi|) / (qmax - zp); asymmetric: the range is first extended to contain 0, scale =
// (hi - lo) / (qmax - qmin) and zero point = round(qmin - lo / scale) clamped to the range (the
// "nudged" zero point of GetAsymmetricQuantizationParams, quantization_utils.cc), so the
// representable range may move by up to half a step. An empty range gets scale 1.
Result<Grid> gridForRange(double lo, double hi, model::DType dtype, bool symmetric);
// The same grid with a new zero point (asymmetric only; clamped to [qmin, qmax]).
Grid withZeroPoint(const Grid& g, int64_t zero_point);

int64_t quantize(float x, const Grid& g);
float dequantize(int64_t q, const Grid& g);

// How a range is chosen from the data.
enum class Calibration {
    MinMax,      // the data's min and max (TFLite's default)
    Percentile,  // the `percentile` of |x| (symmetric) or of both tails (asymmetric)
    MseOptimal,  // the clipping range with the smallest mean squared error, searched
};
struct CalibrationOptions {
    double percentile = 99.99;
    int candidates = 100;  // clipping ratios searched by MseOptimal, in (0, 1] of the min/max range
};
Result<Grid> calibrate(std::span<const float> values, Calibration c, model::DType dtype,
                       bool symmetric, const CalibrationOptions& options = {});

// The values of one channel along `axis` of `shape` (axis < 0: all values).
std::vector<float> channelValues(std::span<const float> values, std::span<const int32_t> shape,
                                 int axis, int channel);
// One grid per channel along `axis`, each calibrated on its own values.
Result<std::vector<Grid>> calibrateChannels(std::span<const float> values,
                                            std::span<const int32_t> shape, int axis, Calibration c,
                                            model::DType dtype, bool symmetric,
                                            const CalibrationOptions& options = {});

// Quantizing `values` (shape `shape`, channels along `axis`; axis < 0 or an empty shape: one
// flat tensor) with one grid (per-tensor) or one grid per channel (per-channel).
struct Evaluation {
    analysis::ErrorMetrics total;
    std::vector<analysis::ErrorMetrics> channels;  // per channel of `axis` (empty without one)
    int64_t clipped_low = 0, clipped_high = 0;     // values the quantizer clamped
    std::vector<int64_t> channel_clipped;
    double clippedPct() const;
};
Result<Evaluation> evaluate(std::span<const float> values, std::span<const int32_t> shape, int axis,
                            std::span<const Grid> grids);

// The histogram of `values` over the view [lo, hi], split into values the grid represents and
// values it clamps (same bins). When at most `max_levels` levels fall in the view, one bin per
// integer level centred on its float value (so each bar is one level's rounding cell);
// otherwise `bins` equal bins.
struct PlaygroundHistogram {
    analysis::Histogram inside, clipped;
    bool grid_aligned = false;
};
PlaygroundHistogram histogramOver(std::span<const float> values, const Grid& g, double lo,
                                  double hi, int max_levels = 400, int bins = 200);

}  // namespace qs::engine::playground
