#include "engine/playground/quant_playground.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>

#include "model/str_format.h"

namespace qs::engine::playground {

using model::DType;

namespace {

// Uniform double in [0, 1) from the top 53 bits of one draw.
double unit(std::mt19937_64& rng) {
    return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

// Box-Muller; one value per call (the second is dropped to keep the sequence simple).
double normal(std::mt19937_64& rng) {
    const double u1 = 1.0 - unit(rng);  // (0, 1]: log stays finite
    const double u2 = unit(rng);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

double draw(Distribution d, std::mt19937_64& rng) {
    switch (d) {
        case Distribution::Normal:
            return normal(rng);
        case Distribution::Uniform:
            return 2.0 * unit(rng) - 1.0;
        case Distribution::Laplace: {
            // Inverse CDF with b = 1/sqrt(2) (variance 2 b^2 = 1).
            const double u = unit(rng) - 0.5;
            const double b = 1.0 / std::numbers::sqrt2;
            return -b * (u < 0 ? -1.0 : 1.0) * std::log(1.0 - 2.0 * std::fabs(u));
        }
        case Distribution::NormalWithOutliers: {
            if (unit(rng) < 0.0005) {
                const double magnitude = 8.0 + 4.0 * unit(rng);
                return unit(rng) < 0.5 ? -magnitude : magnitude;
            }
            return normal(rng);
        }
        case Distribution::Bimodal: {
            const double centre = unit(rng) < 0.5 ? -1.5 : 1.5;
            return centre + 0.5 * normal(rng);
        }
    }
    return 0.0;
}

// The stored integer and its dequantized value for every element.
struct Quantized {
    std::vector<float> dequantized;
    std::vector<int64_t> raw;
    int64_t clipped_low = 0, clipped_high = 0;
};

// The value `p` (0..1) of the sorted copy `sorted`, linearly interpolated (numpy's default).
double quantile(const std::vector<float>& sorted, double p) {
    if (sorted.empty()) return 0.0;
    const double pos = std::clamp(p, 0.0, 1.0) * static_cast<double>(sorted.size() - 1);
    const auto i = static_cast<size_t>(pos);
    const double frac = pos - static_cast<double>(i);
    const double a = sorted[i];
    const double b = sorted[std::min(i + 1, sorted.size() - 1)];
    return a + (b - a) * frac;
}

using Blocks = analysis::ChannelBlocks;

// Mean squared error of quantizing `values` with `g`, through the shared metric code.
double meanSquaredError(std::span<const float> values, const Grid& g);

}  // namespace

std::string_view distributionName(Distribution d) {
    switch (d) {
        case Distribution::Normal:
            return "normal";
        case Distribution::Uniform:
            return "uniform";
        case Distribution::Laplace:
            return "laplace";
        case Distribution::NormalWithOutliers:
            return "normal+outliers";
        case Distribution::Bimodal:
            return "bimodal";
    }
    return "normal";
}

std::optional<Distribution> parseDistribution(std::string_view name) {
    for (auto d : kAllDistributions)
        if (distributionName(d) == name) return d;
    return std::nullopt;
}

std::vector<float> sampleDistribution(Distribution d, int64_t count, uint64_t seed, int channels) {
    channels = std::max(channels, 1);
    const int64_t per = std::max<int64_t>((count + channels - 1) / channels, 1);
    std::mt19937_64 rng(seed);
    std::vector<float> out;
    out.reserve(static_cast<size_t>(per * channels));
    for (int c = 0; c < channels; ++c) {
        const double spread =
            channels > 1 ? std::exp2(-4.0 * c / static_cast<double>(channels - 1)) : 1.0;
        for (int64_t i = 0; i < per; ++i) out.push_back(static_cast<float>(spread * draw(d, rng)));
    }
    return out;
}

Result<IntegerRange> integerRange(DType dtype, bool symmetric) {
    switch (dtype) {
        case DType::Int8:
            return IntegerRange{symmetric ? -127 : -128, 127};
        case DType::UInt8:
            return IntegerRange{symmetric ? 1 : 0, 255};
        case DType::Int16:
            return IntegerRange{symmetric ? -32767 : -32768, 32767};
        default:
            return fail(strFormat("the playground quantizes to int8, uint8 or int16, not {}",
                                  model::dtypeName(dtype)));
    }
}

int64_t symmetricZeroPoint(DType dtype) {
    return dtype == DType::UInt8 ? 128 : 0;
}

Result<Grid> makeGrid(double scale, int64_t zero_point, DType dtype, bool symmetric) {
    auto range = integerRange(dtype, symmetric);
    if (!range) return std::unexpected(range.error());
    const auto s = static_cast<float>(scale);
    if (!(std::isfinite(s) && s > 0))
        return fail(strFormat("scale {} is not a positive finite float32", scale));
    Grid g;
    g.scale = s;
    g.qmin = range->qmin;
    g.qmax = range->qmax;
    g.dtype = dtype;
    g.symmetric = symmetric;
    g.zero_point = symmetric ? symmetricZeroPoint(dtype) : zero_point;
    if (g.zero_point < g.qmin || g.zero_point > g.qmax)
        return fail(strFormat("zero point {} is outside [{}, {}]", zero_point, g.qmin, g.qmax));
    return g;
}

Result<Grid> gridForRange(double lo, double hi, DType dtype, bool symmetric) {
    auto range = integerRange(dtype, symmetric);
    if (!range) return std::unexpected(range.error());
    if (!(std::isfinite(lo) && std::isfinite(hi))) return fail("the range must be finite");
    if (lo > hi) std::swap(lo, hi);
    if (symmetric) {
        const int64_t zp = symmetricZeroPoint(dtype);
        const double m = std::max(std::fabs(lo), std::fabs(hi));
        const double s = m > 0 ? m / static_cast<double>(range->qmax - zp) : 1.0;
        return makeGrid(s, zp, dtype, true);
    }
    lo = std::min(lo, 0.0);
    hi = std::max(hi, 0.0);
    if (!(hi > lo)) return makeGrid(1.0, range->qmin, dtype, false);
    const double s = static_cast<float>((hi - lo) / static_cast<double>(range->qmax - range->qmin));
    const double zp_real = static_cast<double>(range->qmin) - lo / s;
    const auto zp = static_cast<int64_t>(std::clamp(
        std::round(zp_real), static_cast<double>(range->qmin), static_cast<double>(range->qmax)));
    return makeGrid(s, zp, dtype, false);
}

Grid withZeroPoint(const Grid& g, int64_t zero_point) {
    Grid out = g;
    if (!g.symmetric) out.zero_point = std::clamp(zero_point, g.qmin, g.qmax);
    return out;
}

int64_t quantize(float x, const Grid& g) {
    if (std::isnan(x)) return g.zero_point;
    // AffineQuantize: TfLiteRound(val / static_cast<float>(scale)) + zero_point, clamped.
    const double r = std::round(x / static_cast<float>(g.scale));
    const double q = std::clamp(r + static_cast<double>(g.zero_point), static_cast<double>(g.qmin),
                                static_cast<double>(g.qmax));
    return static_cast<int64_t>(q);
}

float dequantize(int64_t q, const Grid& g) {
    return static_cast<float>(g.scale * static_cast<double>(q - g.zero_point));
}

namespace {

Quantized quantizeAll(std::span<const float> values, const Blocks& b, std::span<const Grid> grids) {
    Quantized out;
    out.dequantized.resize(values.size());
    out.raw.resize(values.size());
    const size_t n = values.size();
    for (size_t i = 0; i < n; ++i) {
        const size_t c = grids.size() > 1
                             ? static_cast<size_t>((static_cast<int64_t>(i) / b.inner) % b.channels)
                             : 0;
        const Grid& g = grids[c];
        const float x = values[i];
        const int64_t q = quantize(x, g);
        out.raw[i] = q;
        out.dequantized[i] = dequantize(q, g);
        out.clipped_low += x < g.clipLow();
        out.clipped_high += x > g.clipHigh();
    }
    return out;
}

model::Quantization quantizationOf(std::span<const Grid> grids, int axis) {
    model::Quantization q;
    for (const Grid& g : grids) {
        q.scales.push_back(static_cast<float>(g.scale));
        q.zero_points.push_back(g.zero_point);
    }
    q.quantized_dimension = std::max(axis, 0);
    return q;
}

double meanSquaredError(std::span<const float> values, const Grid& g) {
    const Blocks b{1, 1, static_cast<int64_t>(values.size())};
    const Quantized qz = quantizeAll(values, b, std::span(&g, 1));
    const auto acc = analysis::compareArrays(
        qz.dequantized, values, {}, quantizationOf(std::span(&g, 1), -1), g.dtype, qz.raw, -1);
    return analysis::finalize(acc.total).mean_squared_error;
}

}  // namespace

Result<Grid> calibrate(std::span<const float> values, Calibration c, DType dtype, bool symmetric,
                       const CalibrationOptions& options) {
    std::vector<float> finite;
    finite.reserve(values.size());
    for (float v : values)
        if (std::isfinite(v)) finite.push_back(v);
    if (finite.empty()) return fail("no finite values to calibrate on");
    const auto [mn, mx] = std::minmax_element(finite.begin(), finite.end());
    const double lo = *mn, hi = *mx;
    switch (c) {
        case Calibration::MinMax:
            return gridForRange(lo, hi, dtype, symmetric);
        case Calibration::Percentile: {
            const double p = std::clamp(options.percentile, 50.0, 100.0) / 100.0;
            if (symmetric) {
                for (float& v : finite) v = std::fabs(v);
                std::sort(finite.begin(), finite.end());
                const double m = quantile(finite, p);
                return gridForRange(-m, m, dtype, true);
            }
            std::sort(finite.begin(), finite.end());
            return gridForRange(quantile(finite, 1.0 - p), quantile(finite, p), dtype, false);
        }
        case Calibration::MseOptimal: {
            // Candidate ranges alpha [lo, hi] for alpha = k / candidates; the search runs on at
            // most 20000 values taken at an even stride, then the best is returned.
            std::vector<float> sub;
            const size_t stride = std::max<size_t>(finite.size() / 20000, 1);
            for (size_t i = 0; i < finite.size(); i += stride) sub.push_back(finite[i]);
            const int k = std::max(options.candidates, 2);
            auto best = gridForRange(lo, hi, dtype, symmetric);
            if (!best) return best;
            double best_mse = meanSquaredError(sub, *best);
            for (int i = 1; i < k; ++i) {
                const double alpha = static_cast<double>(i) / k;
                auto g = gridForRange(alpha * lo, alpha * hi, dtype, symmetric);
                if (!g) continue;
                const double mse = meanSquaredError(sub, *g);
                if (mse < best_mse) best_mse = mse, best = g;
            }
            return best;
        }
    }
    return fail("unknown calibration");
}

std::vector<float> channelValues(std::span<const float> values, std::span<const int32_t> shape,
                                 int axis, int channel) {
    const Blocks b = analysis::channelBlocks(shape, axis, static_cast<int64_t>(values.size()));
    if (b.channels <= 1 || axis < 0) return {values.begin(), values.end()};
    std::vector<float> out;
    if (channel < 0 || channel >= b.channels) return out;
    out.reserve(static_cast<size_t>(b.outer * b.inner));
    for (int64_t o = 0; o < b.outer; ++o) {
        const int64_t base = (o * b.channels + channel) * b.inner;
        for (int64_t k = 0; k < b.inner; ++k) {
            const auto i = static_cast<size_t>(base + k);
            if (i < values.size()) out.push_back(values[i]);
        }
    }
    return out;
}

Result<std::vector<Grid>> calibrateChannels(std::span<const float> values,
                                            std::span<const int32_t> shape, int axis, Calibration c,
                                            DType dtype, bool symmetric,
                                            const CalibrationOptions& options) {
    const Blocks b = analysis::channelBlocks(shape, axis, static_cast<int64_t>(values.size()));
    std::vector<Grid> out;
    for (int ch = 0; ch < b.channels; ++ch) {
        const auto v = channelValues(values, shape, axis, ch);
        auto g = calibrate(v, c, dtype, symmetric, options);
        if (!g) {
            // An all-NaN (or empty) channel keeps a unit grid rather than failing the tensor.
            g = makeGrid(1.0, symmetricZeroPoint(dtype), dtype, symmetric);
            if (!g) return std::unexpected(g.error());
        }
        out.push_back(*g);
    }
    return out;
}

double Evaluation::clippedPct() const {
    const double n = total.num_elements;
    return n > 0 ? 100.0 * static_cast<double>(clipped_low + clipped_high) / n : 0.0;
}

Result<Evaluation> evaluate(std::span<const float> values, std::span<const int32_t> shape, int axis,
                            std::span<const Grid> grids) {
    if (grids.empty()) return fail("no quantization grid");
    const int64_t n = static_cast<int64_t>(values.size());
    if (!shape.empty() && shapeElements(shape) != n)
        return fail(strFormat("{} values for shape [{}]", n, shapeString(shape)));
    if (shape.empty()) axis = -1;
    const Blocks b = analysis::channelBlocks(shape, axis, n);
    if (grids.size() > 1 && static_cast<int64_t>(grids.size()) != b.channels)
        return fail(strFormat("{} grids for {} channels", grids.size(), b.channels));
    for (const Grid& g : grids)
        if (g.dtype != grids[0].dtype) return fail("the channels' grids mix dtypes");
    const Quantized qz = quantizeAll(values, b, grids);
    const auto acc =
        analysis::compareArrays(qz.dequantized, values, shape, quantizationOf(grids, axis),
                                grids[0].dtype, qz.raw, axis < 0 ? -1 : axis);
    Evaluation e;
    e.total = analysis::finalize(acc.total);
    if (axis >= 0 && b.channels > 1) {
        for (const auto& c : acc.channels) e.channels.push_back(analysis::finalize(c));
        e.channel_clipped.assign(static_cast<size_t>(b.channels), 0);
        for (int64_t i = 0; i < n; ++i) {
            const size_t c = static_cast<size_t>((i / b.inner) % b.channels);
            const Grid& g = grids.size() > 1 ? grids[c] : grids[0];
            const float x = values[static_cast<size_t>(i)];
            e.channel_clipped[c] += (x < g.clipLow()) || (x > g.clipHigh());
        }
    }
    e.clipped_low = qz.clipped_low;
    e.clipped_high = qz.clipped_high;
    return e;
}

PlaygroundHistogram histogramOver(std::span<const float> values, const Grid& g, double lo,
                                  double hi, int max_levels, int bins) {
    PlaygroundHistogram h;
    if (hi < lo) std::swap(lo, hi);
    const double s = g.scale;
    const double levels_in_view = (hi - lo) / s;
    if (levels_in_view >= 1 && levels_in_view <= max_levels) {
        // Bins centred on every level's float value (also beyond the representable range,
        // where the values clamp): bin k covers [(k0 + k - 1/2) s, (k0 + k + 1/2) s).
        const double k0 = std::floor(lo / s);
        const double k1 = std::ceil(hi / s);
        lo = (k0 - 0.5) * s;
        hi = (k1 + 0.5) * s;
        bins = static_cast<int>(k1 - k0 + 1);
        h.grid_aligned = true;
    }
    std::vector<float> inside, clipped;
    inside.reserve(values.size());
    const double cl = g.clipLow(), ch = g.clipHigh();
    for (float v : values) {
        if (std::isnan(v)) continue;
        (v < cl || v > ch ? clipped : inside).push_back(v);
    }
    h.inside = analysis::histogram(inside, lo, hi, bins);
    h.clipped = analysis::histogram(clipped, lo, hi, bins);
    return h;
}

}  // namespace qs::engine::playground
