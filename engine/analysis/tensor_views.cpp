#include "engine/analysis/tensor_views.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <type_traits>

#include "engine/analysis/float_twin.h"
#include "engine/analysis/metrics.h"
#include "model/str_format.h"

namespace qs::engine::analysis {

namespace {

using model::DType;

bool integerRange(DType t, int64_t* lo, int64_t* hi) {
    switch (t) {
        case DType::Int4:
            *lo = -8, *hi = 7;
            return true;
        case DType::Int8:
            *lo = -128, *hi = 127;
            return true;
        case DType::UInt8:
            *lo = 0, *hi = 255;
            return true;
        case DType::Int16:
            *lo = -32768, *hi = 32767;
            return true;
        case DType::Int32:
            *lo = INT32_MIN, *hi = INT32_MAX;
            return true;
        default:
            return false;
    }
}

struct MinMax {
    float min = std::numeric_limits<float>::infinity();
    float max = -std::numeric_limits<float>::infinity();
    void add(float v) {
        min = v < min ? v : min;
        max = v > max ? v : max;
    }
    ValueRange range() const { return min <= max ? ValueRange{min, max} : ValueRange{0, 0}; }
};

// A step of 1, 2 or 5 times a power of ten (and 1/8, 1/4, 1/2 below one) not below `raw`.
double niceStep(double raw) {
    if (!(raw > 0) || !std::isfinite(raw)) return 1.0;
    if (raw <= 0.125) {
        const double p = std::pow(10.0, std::floor(std::log10(raw)));
        for (double m : {1.0, 2.0, 5.0, 10.0})
            if (m * p >= raw) return m * p;
    }
    for (double f : {0.125, 0.25, 0.5})
        if (f >= raw) return f;
    const double p = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (m * p >= raw) return m * p;
    return raw;
}

// Elements of a run taken at once: its planes stay in cache while their ranges are taken.
constexpr int64_t kPiece = 2048;

// Min and max of x[0, n) merged into lo/hi, in eight lanes so the loop vectorizes. A NaN never
// wins a compare (as in MinMax::add).
void mergeRange(const float* __restrict x, int64_t n, float& lo_io, float& hi_io) {
    float lo[8], hi[8];
    for (int t = 0; t < 8; ++t) lo[t] = lo_io, hi[t] = hi_io;
    int64_t j = 0;
    for (; j + 8 <= n; j += 8)
        for (int t = 0; t < 8; ++t) {
            lo[t] = x[j + t] < lo[t] ? x[j + t] : lo[t];
            hi[t] = x[j + t] > hi[t] ? x[j + t] : hi[t];
        }
    for (; j < n; ++j) {
        lo[0] = x[j] < lo[0] ? x[j] : lo[0];
        hi[0] = x[j] > hi[0] ? x[j] : hi[0];
    }
    for (int t = 0; t < 8; ++t) {
        lo_io = lo[t] < lo_io ? lo[t] : lo_io;
        hi_io = hi[t] > hi_io ? hi[t] : hi_io;
    }
}

// Element c of x[0, n) into channel c's min and max (a channels-last row).
void mergeChannels(const float* __restrict x, int64_t n, float* __restrict lo,
                   float* __restrict hi) {
    for (int64_t c = 0; c < n; ++c) {
        lo[c] = x[c] < lo[c] ? x[c] : lo[c];
        hi[c] = x[c] > hi[c] ? x[c] : hi[c];
    }
}

// Where a run writes: the four planes and the stored integers, at its first element.
struct Planes {
    float *ref, *deq, *err, *lsb;
    int32_t* stored;
    Planes at(int64_t i) const {
        return {ref + i, deq + i, err + i, lsb + i, stored ? stored + i : nullptr};
    }
};

// A run of stored integers. Dequantized as dequantizeWith (float_twin.cpp, after TFLite's
// reference/dequantize.h): float(double(scale) * (q - zp)); q - zp is an integer below 2^53,
// so double(q) - double(zp) is that same number. Error = dequantized - reference; in LSB,
// error * float(1 / scale). kEach: parameters per element (a channels-last row), else one
// set for the whole run.
template <bool kEach, class Raw>
void quantizedRun(const Raw* __restrict raw, const float* __restrict ref, int64_t n,
                  const double* __restrict scale, const double* __restrict zero,
                  const float* __restrict inv, int32_t qmin, int32_t qmax, Planes out,
                  int64_t& at_min, int64_t& at_max) {
    float* __restrict pr = out.ref;
    float* __restrict pd = out.deq;
    float* __restrict pe = out.err;
    float* __restrict pl = out.lsb;
    int32_t* __restrict pq = out.stored;
    const double s0 = scale[0], z0 = zero[0];
    const float i0 = inv[0];
    int64_t amin = 0, amax = 0;
    for (int64_t k = 0; k < n; ++k) {
        const int32_t v = static_cast<int32_t>(raw[k]);
        const float r = ref[k];
        const double s = kEach ? scale[k] : s0;
        const double z = kEach ? zero[k] : z0;
        const float d = static_cast<float>(s * (static_cast<double>(v) - z));
        const float e = d - r;
        pr[k] = r;
        pq[k] = v;
        pd[k] = d;
        pe[k] = e;
        pl[k] = e * (kEach ? inv[k] : i0);
        amin += v == qmin;
        amax += v == qmax;
    }
    at_min += amin;
    at_max += amax;
}

// A run of a float tensor: the engine's value against the reference; the "LSB" error is the
// error itself.
void floatRun(const float* __restrict value, const float* __restrict ref, int64_t n, Planes out) {
    float* __restrict pr = out.ref;
    float* __restrict pd = out.deq;
    float* __restrict pe = out.err;
    float* __restrict pl = out.lsb;
    for (int64_t k = 0; k < n; ++k) {
        const float e = value[k] - ref[k];
        pr[k] = ref[k];
        pd[k] = value[k];
        pe[k] = e;
        pl[k] = e;
    }
}

}  // namespace

MapLayout mapLayout(std::span<const int32_t> shape, int channel_axis) {
    MapLayout l;
    const int rank = static_cast<int>(shape.size());
    if (rank == 0) return l;
    if (rank <= 2 || channel_axis < 0 || channel_axis >= rank) {
        // One map: rows x features (a vector is one row).
        l.cols = std::max<int32_t>(shape[static_cast<size_t>(rank - 1)], 0);
        l.col_axis = rank - 1;
        int64_t rows = 1;
        for (int d = 0; d + 1 < rank; ++d) rows *= shape[static_cast<size_t>(d)];
        l.rows = static_cast<int>(rows);
        l.row_axis = rank >= 2 ? rank - 2 : -1;
        return l;
    }
    l.channel_axis = channel_axis;
    l.channels = std::max<int32_t>(shape[static_cast<size_t>(channel_axis)], 0);
    std::vector<int> rest;
    for (int d = 0; d < rank; ++d)
        if (d != channel_axis) rest.push_back(d);
    l.col_axis = rest.back();
    l.cols = std::max<int32_t>(shape[static_cast<size_t>(l.col_axis)], 0);
    int64_t rows = 1;
    for (size_t i = 0; i + 1 < rest.size(); ++i) rows *= shape[static_cast<size_t>(rest[i])];
    l.rows = static_cast<int>(rows);
    l.row_axis = rest.size() >= 2 ? rest[rest.size() - 2] : -1;
    return l;
}

std::vector<int32_t> tensorCoordinates(std::span<const int32_t> shape, const MapLayout& layout,
                                       int channel, int row, int col) {
    const int rank = static_cast<int>(shape.size());
    std::vector<int32_t> at(static_cast<size_t>(rank), 0);
    if (rank == 0) return at;
    if (layout.col_axis >= 0) at[static_cast<size_t>(layout.col_axis)] = col;
    if (layout.channel_axis >= 0) at[static_cast<size_t>(layout.channel_axis)] = channel;
    // The rows stack every remaining axis except the columns, innermost last.
    int64_t r = row;
    for (int d = rank - 1; d >= 0; --d) {
        if (d == layout.col_axis || d == layout.channel_axis) continue;
        const int32_t n = std::max<int32_t>(shape[static_cast<size_t>(d)], 1);
        at[static_cast<size_t>(d)] = static_cast<int32_t>(r % n);
        r /= n;
    }
    return at;
}

Result<TensorPlanes> tensorPlanes(const TensorValue& quant, const model::Quantization& q,
                                  const TensorValue& reference, TensorPlanes reuse) {
    if (reference.dtype() != DType::Float32)
        return fail(
            strFormat("the reference is {}, not FLOAT32", model::dtypeName(reference.dtype())));
    const int64_t n = quant.numElements();
    if (n != reference.numElements())
        return fail(strFormat("{} elements [{}] vs {} in the reference [{}]", n,
                              shapeString(quant.shape()), reference.numElements(),
                              shapeString(reference.shape())));
    TensorPlanes p;
    p.dtype = quant.dtype();
    p.quantized = model::isQuantizable(quant.dtype()) && q.isQuantized() &&
                  integerRange(quant.dtype(), &p.qmin, &p.qmax);
    const model::Quantization none;
    const model::Quantization& used_q = p.quantized ? q : none;
    const auto& shape = quant.shape();
    if (p.quantized) {
        // What dequantizeValue would refuse (the pass below reads the parameters directly).
        if (auto c = checkChannels(shape, q, "the value"); !c) return std::unexpected(c.error());
    }

    const int axis = channelAxis(shape, used_q);
    p.layout = mapLayout(shape, shape.size() >= 3 ? axis : -1);
    MapLayout& l = p.layout;
    // Tensor order is [outer, channel, inner] around the map axis.
    int64_t inner = 1;
    const int64_t mc = l.channel_axis >= 0 ? l.channels : 1;
    if (l.channel_axis >= 0) {
        for (size_t d = static_cast<size_t>(l.channel_axis) + 1; d < shape.size(); ++d)
            inner *= shape[d];
    } else {
        inner = std::max<int64_t>(n, 1);
    }
    const int64_t outer = mc > 0 && inner > 0 ? n / (mc * inner) : 0;
    l.inner = l.channel_axis >= 0 ? inner : 1;

    if (p.quantized) {
        p.scales = q.scales;
        for (size_t c = 0; c < q.scales.size(); ++c) p.zero_points.push_back(q.zeroPoint(c));
        p.representable_min = std::numeric_limits<double>::infinity();
        p.representable_max = -std::numeric_limits<double>::infinity();
        for (size_t c = 0; c < p.scales.size(); ++c) {
            const double s = p.scales[c];
            const auto zp = static_cast<double>(p.zero_points[c]);
            p.representable_min =
                std::min(p.representable_min, (static_cast<double>(p.qmin) - zp) * s);
            p.representable_max =
                std::max(p.representable_max, (static_cast<double>(p.qmax) - zp) * s);
        }
    }
    // The earlier result's buffers, dropped first where too small so growing copies nothing.
    const auto un = static_cast<size_t>(n);
    auto take = [un](auto& into, auto& from, bool used) {
        into = std::move(from);
        if (!used) {
            into.clear();
            return;
        }
        if (into.capacity() < un) into = {};
        into.resize(un);
    };
    for (size_t k = 0; k < kPlanes; ++k) take(p.planes[k], reuse.planes[k], true);
    take(p.stored, reuse.stored, p.quantized);

    // The element's quantization channel (for the LSB error): per-tensor, or along
    // quantized_dimension.
    const bool per_channel = p.quantized && q.isPerChannel();
    int64_t q_inner = 1, q_channels = 1;
    if (per_channel) {
        q_channels = static_cast<int64_t>(q.scales.size());
        for (size_t d = static_cast<size_t>(q.quantized_dimension) + 1; d < shape.size(); ++d)
            q_inner *= shape[d];
    }
    // Per quantization channel, as dequantizeWith (float_twin.cpp) reads them.
    std::vector<double> scale, zero;
    std::vector<float> inv_scale;
    for (int64_t c = 0; c < (p.quantized ? q_channels : 0); ++c) {
        scale.push_back(q.scale(static_cast<size_t>(c)));
        zero.push_back(static_cast<double>(q.zeroPoint(static_cast<size_t>(c))));
        const float s = p.scales[static_cast<size_t>(c)];
        inv_scale.push_back(s != 0 ? static_cast<float>(1.0 / s) : 0.f);
    }

    // Minimum and maximum per map channel of each plane.
    const auto nc = static_cast<size_t>(std::max<int64_t>(mc, 1));
    std::array<std::vector<float>, kPlanes> lo, hi;
    for (size_t k = 0; k < kPlanes; ++k) {
        lo[k].assign(nc, std::numeric_limits<float>::infinity());
        hi[k].assign(nc, -std::numeric_limits<float>::infinity());
    }
    const Planes out{p.planes[0].data(), p.planes[1].data(), p.planes[2].data(), p.planes[3].data(),
                     p.quantized ? p.stored.data() : nullptr};
    const float* ref = reference.data<float>().data();
    const auto qmin = static_cast<int32_t>(p.qmin), qmax = static_cast<int32_t>(p.qmax);
    int64_t at_min = 0, at_max = 0;

    // One pass in tensor order. Channels last (inner == 1, the usual activation): a row of `mc`
    // elements holds one element of every channel, and its quantization channel (per-channel
    // parameters lie along the map axis, channelAxis) is the map channel too. Otherwise runs of
    // one map channel, cut where the quantization channel changes and into pieces that stay in
    // cache while their ranges are taken.
    auto walk = [&](auto&& rowRun, auto&& pieceRun) {
        if (l.channel_axis >= 0 && inner == 1) {
            for (int64_t o = 0; o < outer; ++o) {
                const int64_t i = o * mc;
                rowRun(i, mc);
                for (size_t k = 0; k < kPlanes; ++k)
                    mergeChannels(p.planes[k].data() + i, mc, lo[k].data(), hi[k].data());
            }
            return;
        }
        for (int64_t i = 0; i < n;) {
            const auto c = static_cast<size_t>(l.channel_axis >= 0 ? (i / inner) % mc : 0);
            int64_t end = l.channel_axis >= 0 ? (i / inner + 1) * inner : n;
            int64_t qc = 0;
            if (per_channel) {
                qc = (i / q_inner) % q_channels;
                end = std::min(end, (i / q_inner + 1) * q_inner);
            }
            end = std::min({end, n, i + kPiece});
            pieceRun(i, end - i, static_cast<size_t>(qc));
            for (size_t k = 0; k < kPlanes; ++k)
                mergeRange(p.planes[k].data() + i, end - i, lo[k][c], hi[k][c]);
            i = end;
        }
    };

    if (!p.quantized) {
        std::optional<TensorValue> converted;
        const float* dq = nullptr;
        if (quant.dtype() == DType::Float32) {
            dq = quant.data<float>().data();
        } else {
            auto t = dequantizeValue(quant, used_q);
            if (!t) return std::unexpected(t.error());
            converted = std::move(*t);
            dq = converted->data<float>().data();
        }
        auto run = [&](int64_t i, int64_t len) { floatRun(dq + i, ref + i, len, out.at(i)); };
        walk(run, [&](int64_t i, int64_t len, size_t) { run(i, len); });
    } else {
        // Channels last: the parameters of each element of a row.
        std::vector<double> row_scale(static_cast<size_t>(mc)), row_zero(row_scale.size());
        std::vector<float> row_inv(row_scale.size());
        for (size_t c = 0; c < row_scale.size(); ++c) {
            const size_t qc = per_channel && c < scale.size() ? c : 0;
            row_scale[c] = scale[qc], row_zero[c] = zero[qc], row_inv[c] = inv_scale[qc];
        }
        auto pass = [&](const auto* raw) {
            walk(
                [&](int64_t i, int64_t len) {
                    quantizedRun<true>(raw + i, ref + i, len, row_scale.data(), row_zero.data(),
                                       row_inv.data(), qmin, qmax, out.at(i), at_min, at_max);
                },
                [&](int64_t i, int64_t len, size_t qc) {
                    quantizedRun<false>(raw + i, ref + i, len, &scale[qc], &zero[qc],
                                        &inv_scale[qc], qmin, qmax, out.at(i), at_min, at_max);
                });
        };
        switch (quant.dtype()) {
            case DType::Int8:
                pass(quant.data<int8_t>().data());
                break;
            case DType::UInt8:
                pass(quant.data<uint8_t>().data());
                break;
            case DType::Int16:
                pass(quant.data<int16_t>().data());
                break;
            case DType::Int32:
                pass(quant.data<int32_t>().data());
                break;
            default:
                return fail(strFormat("tensor views do not support {} values",
                                      model::dtypeName(quant.dtype())));
        }
        p.at_qmin = at_min, p.at_qmax = at_max;
    }

    for (size_t k = 0; k < kPlanes; ++k) {
        MinMax all;
        auto& ranges = p.channel_range[k];
        ranges.resize(static_cast<size_t>(l.channels));
        for (size_t c = 0; c < ranges.size() && c < nc; ++c) {
            MinMax m;
            m.min = lo[k][c], m.max = hi[k][c];
            ranges[c] = m.range();
            if (m.min <= m.max) all.add(m.min), all.add(m.max);
        }
        p.range[k] = all.range();
    }
    // |error| from 0 to the largest magnitude; saturation on [-1, 1].
    const auto err = static_cast<size_t>(Quantity::Error);
    auto absRange = [](ValueRange r) {
        return ValueRange{0.f, std::max(std::fabs(r.min), std::fabs(r.max))};
    };
    p.range[static_cast<size_t>(Quantity::AbsError)] = absRange(p.range[err]);
    p.range[static_cast<size_t>(Quantity::Saturation)] = ValueRange{-1.f, 1.f};
    for (const auto& r : p.channel_range[err]) {
        p.channel_range[static_cast<size_t>(Quantity::AbsError)].push_back(absRange(r));
        p.channel_range[static_cast<size_t>(Quantity::Saturation)].push_back({-1.f, 1.f});
    }
    return p;
}

namespace {

// Counts of `values` in `bins` equal bins over [lo, hi] (see histogram()). kClip: also counts
// the values below clip_low and above clip_high in the same pass. Element k is counted in set
// k % 4, so a run of one value (the zeros after a ReLU) does not wait on one counter's
// previous increment.
template <bool kClip>
Histogram binValues(std::span<const float> values, double lo, double hi, int bins,
                    double clip_low = 0, double clip_high = 0, int64_t* below = nullptr,
                    int64_t* above = nullptr) {
    Histogram h;
    bins = std::max(bins, 1);
    if (!(hi > lo)) {
        // A constant tensor: one bin around its value.
        lo -= 0.5;
        hi = lo + 1.0;
    }
    h.lo = lo;
    h.width = (hi - lo) / bins;
    const auto nb = static_cast<size_t>(bins);
    std::vector<int64_t> sets(4 * nb, 0);
    const double inv = 1.0 / h.width;
    const int last = bins - 1;
    int64_t low = 0, high = 0;
    auto count = [&](float v, size_t set) {
        if constexpr (kClip) {
            low += v < clip_low;
            high += v > clip_high;
        }
        if (std::isnan(v)) return;
        const double x = (static_cast<double>(v) - lo) * inv;
        const int b = x < 0 ? 0 : (x >= last ? last : static_cast<int>(x));
        ++sets[set * nb + static_cast<size_t>(b)];
    };
    const float* x = values.data();
    const size_t n = values.size();
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (size_t u = 0; u < 4; ++u) count(x[i + u], u);
    for (; i < n; ++i) count(x[i], 0);
    h.counts.resize(nb);
    for (size_t b = 0; b < nb; ++b) {
        h.counts[b] = sets[b] + sets[nb + b] + sets[2 * nb + b] + sets[3 * nb + b];
        h.total += h.counts[b];
    }
    if constexpr (kClip) *below = low, *above = high;
    return h;
}

}  // namespace

Histogram histogram(std::span<const float> values, double lo, double hi, int bins) {
    return binValues<false>(values, lo, hi, bins);
}

GridHistogram valueHistogram(const TensorPlanes& p, int max_levels, int fallback_bins) {
    GridHistogram g;
    const auto values = p.plane(Quantity::Reference);
    const ValueRange r = p.range[0];
    double lo = r.min, hi = r.max;
    if (p.quantized) {
        g.representable_min = p.representable_min;
        g.representable_max = p.representable_max;
        lo = std::min(lo, p.representable_min);
        hi = std::max(hi, p.representable_max);
    }
    const bool per_tensor = p.quantized && p.scales.size() == 1 && p.scales[0] > 0;
    if (per_tensor) {
        const double s = p.scales[0];
        const auto zp = static_cast<double>(p.zero_points[0]);
        g.step = s;
        // A value quantizes to round(f / s) + zp and is clamped when that leaves [qmin, qmax]
        // (reference/quantize.h): the clamped values lie beyond half a step past the ends.
        g.clip_low = (static_cast<double>(p.qmin) - zp - 0.5) * s;
        g.clip_high = (static_cast<double>(p.qmax) - zp + 0.5) * s;
        // Bins and clipped values in one pass over the data.
        auto bin = [&](double from, double to, int bins) {
            return binValues<true>(values, from, to, bins, g.clip_low, g.clip_high, &g.clipped_low,
                                   &g.clipped_high);
        };
        // Integer levels (relative to zp) spanned by the data, one bin each.
        const double l0 = std::floor(static_cast<double>(r.min) / s + 0.5);
        const double l1 = std::floor(static_cast<double>(r.max) / s + 0.5);
        const double q0 = std::min(l0, static_cast<double>(p.qmin) - zp);
        const double q1 = std::max(l1, static_cast<double>(p.qmax) - zp);
        if (q1 - q0 + 1 <= max_levels) {
            g.grid_aligned = true;
            const int bins = static_cast<int>(q1 - q0) + 1;
            g.histogram = bin((q0 - 0.5) * s, (q1 + 0.5) * s, bins);
            return g;
        }
        // Too many levels for one bin each (int16, or a far outlier): bins over the data only,
        // so the populated part keeps its resolution.
        g.histogram = bin(r.min, r.max, fallback_bins);
        return g;
    }
    if (p.quantized) {
        // Per-channel parameters: no common grid; the clip limits are the widest channel's.
        double cl = std::numeric_limits<double>::infinity(), chg = -cl;
        for (size_t c = 0; c < p.scales.size(); ++c) {
            const auto zp = static_cast<double>(p.zero_points[c]);
            cl = std::min(cl, (static_cast<double>(p.qmin) - zp - 0.5) * p.scales[c]);
            chg = std::max(chg, (static_cast<double>(p.qmax) - zp + 0.5) * p.scales[c]);
        }
        g.clip_low = cl, g.clip_high = chg;
        g.histogram = binValues<true>(values, lo, hi, fallback_bins, cl, chg, &g.clipped_low,
                                      &g.clipped_high);
        return g;
    }
    g.histogram = histogram(values, lo, hi, fallback_bins);
    return g;
}

Histogram errorHistogram(const TensorPlanes& p, int max_bins) {
    const ValueRange r = p.range[static_cast<size_t>(Quantity::ErrorLsb)];
    const double m =
        std::max(std::fabs(static_cast<double>(r.min)), std::fabs(static_cast<double>(r.max)));
    const double w = niceStep(2.0 * m / std::max(max_bins - 1, 1));
    const double b0 = std::floor(static_cast<double>(r.min) / w + 0.5);
    const double b1 = std::floor(static_cast<double>(r.max) / w + 0.5);
    const int bins = std::max(1, static_cast<int>(b1 - b0) + 1);
    return histogram(p.plane(Quantity::ErrorLsb), (b0 - 0.5) * w, (b1 + 0.5) * w, bins);
}

Density2D referenceVsDequantized(const TensorPlanes& p, int n) {
    Density2D d;
    d.n = std::max(n, 1);
    const ValueRange a = p.range[0], b = p.range[1];
    d.lo = std::min(a.min, b.min);
    d.hi = std::max(a.max, b.max);
    if (!(d.hi > d.lo)) d.lo -= 0.5, d.hi = d.lo + 1.0;
    d.counts.assign(static_cast<size_t>(d.n) * static_cast<size_t>(d.n), 0);
    const double inv = d.n / (d.hi - d.lo);
    const int last = d.n - 1;
    const auto xs = p.plane(Quantity::Reference), ys = p.plane(Quantity::Dequantized);
    auto cell = [&](float v) {
        const double x = (static_cast<double>(v) - d.lo) * inv;
        return x < 0 ? 0 : (x >= last ? last : static_cast<int>(x));
    };
    int32_t* counts = d.counts.data();
    const auto stride = static_cast<size_t>(d.n);
    const bool per_tensor = p.quantized && p.scales.size() == 1 && p.qmax - p.qmin <= 65535;
    if (per_tensor) {
        // One grid row per integer level: its dequantized value, computed as the plane's
        // (quantizedRun), falls in the same cell for every element that holds it.
        const double s = p.scales[0];
        const auto z = static_cast<double>(p.zero_points[0]);
        std::vector<size_t> row(static_cast<size_t>(p.qmax - p.qmin + 1));
        for (int64_t v = p.qmin; v <= p.qmax; ++v) {
            const auto y = static_cast<float>(s * (static_cast<double>(v) - z));
            row[static_cast<size_t>(v - p.qmin)] = static_cast<size_t>(cell(y)) * stride;
        }
        const int32_t* stored = p.stored.data();
        const auto qmin = static_cast<int32_t>(p.qmin);
        for (size_t i = 0; i < xs.size(); ++i) {
            if (std::isnan(xs[i])) continue;
            ++counts[row[static_cast<size_t>(stored[i] - qmin)] + static_cast<size_t>(cell(xs[i]))];
        }
    } else {
        for (size_t i = 0; i < xs.size(); ++i) {
            if (std::isnan(xs[i]) || std::isnan(ys[i])) continue;
            ++counts[static_cast<size_t>(cell(ys[i])) * stride + static_cast<size_t>(cell(xs[i]))];
        }
    }
    for (int32_t c : d.counts) d.max_count = std::max(d.max_count, c);
    return d;
}

}  // namespace qs::engine::analysis
