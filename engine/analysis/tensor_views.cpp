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
                                  const TensorValue& reference) {
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
    for (auto& plane : p.planes) plane.resize(static_cast<size_t>(n));
    if (p.quantized) p.stored.resize(static_cast<size_t>(n));

    // The element's quantization channel (for the LSB error): per-tensor, or along
    // quantized_dimension.
    const bool per_channel = p.quantized && q.isPerChannel();
    int64_t q_inner = 1, q_channels = 1;
    if (per_channel) {
        q_channels = static_cast<int64_t>(q.scales.size());
        for (size_t d = static_cast<size_t>(q.quantized_dimension) + 1; d < shape.size(); ++d)
            q_inner *= shape[d];
    }
    std::vector<float> inv_scale;
    for (float s : p.scales) inv_scale.push_back(s != 0 ? static_cast<float>(1.0 / s) : 0.f);
    if (inv_scale.empty()) inv_scale.push_back(1.f);

    const float* __restrict ref = reference.data<float>().data();
    float* __restrict pr = p.planes[0].data();
    float* __restrict pd = p.planes[1].data();
    float* __restrict pe = p.planes[2].data();
    float* __restrict pl = p.planes[3].data();
    int32_t* __restrict pq = p.stored.data();
    std::memcpy(pr, ref, static_cast<size_t>(n) * sizeof(float));

    if (!p.quantized) {
        auto t = dequantizeValue(quant, used_q);
        if (!t) return std::unexpected(t.error());
        const float* dq = t->data<float>().data();
        for (int64_t i = 0; i < n; ++i) {
            pd[i] = dq[i];
            pe[i] = dq[i] - ref[i];
            pl[i] = pe[i];
        }
    } else {
        // Dequantize through a table of every level when the dtype is at most 16 bits and the
        // parameters are per-tensor: the table holds exactly what dequantizeValue computes
        // (float_twin.h: (q - zp) times the scale widened to double), one entry per integer.
        std::vector<float> table;
        std::optional<TensorValue> deq;
        const bool use_table = !per_channel && p.qmax - p.qmin <= 65535;
        if (use_table) {
            TensorValue levels(DType::Int32, {static_cast<int32_t>(p.qmax - p.qmin + 1)});
            auto* lv = levels.data<int32_t>().data();
            for (int64_t v = p.qmin; v <= p.qmax; ++v) lv[v - p.qmin] = static_cast<int32_t>(v);
            auto t = dequantizeValue(levels, used_q);
            if (!t) return std::unexpected(t.error());
            table.assign(t->data<float>().begin(), t->data<float>().end());
        } else {
            auto t = dequantizeValue(quant, used_q);
            if (!t) return std::unexpected(t.error());
            deq = std::move(*t);
        }
        const float* __restrict lut = table.data();
        const float* __restrict dq = deq ? deq->data<float>().data() : nullptr;
        const int64_t qmin = p.qmin, qmax = p.qmax;
        int64_t at_min = 0, at_max = 0;
        auto pass = [&](const auto* __restrict raw) {
            for (int64_t i = 0; i < n; ++i) {
                const auto v = static_cast<int64_t>(raw[i]);
                pq[i] = static_cast<int32_t>(v);
                at_min += v == qmin;
                at_max += v == qmax;
            }
            if (use_table) {
                for (int64_t i = 0; i < n; ++i) pd[i] = lut[pq[i] - qmin];
            } else {
                std::memcpy(pd, dq, static_cast<size_t>(n) * sizeof(float));
            }
            for (int64_t i = 0; i < n; ++i) pe[i] = pd[i] - ref[i];
            if (!per_channel) {
                const float inv = inv_scale[0];
                for (int64_t i = 0; i < n; ++i) pl[i] = pe[i] * inv;
            } else {
                for (int64_t i = 0; i < n; ++i)
                    pl[i] = pe[i] * inv_scale[static_cast<size_t>((i / q_inner) % q_channels)];
            }
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

    // Ranges per map channel. Channels last (inner == 1): the channel is the fastest axis, so
    // one array of minima/maxima per quantity is updated a row at a time (vectorizes);
    // otherwise each channel's run of `inner` elements is reduced in eight lanes.
    const auto nc = static_cast<size_t>(std::max<int64_t>(mc, 1));
    for (int k = 0; k < kPlanes; ++k) {
        const float* v = p.planes[static_cast<size_t>(k)].data();
        std::vector<float> mn(nc, std::numeric_limits<float>::infinity());
        std::vector<float> mx(nc, -std::numeric_limits<float>::infinity());
        if (inner == 1) {
            float* __restrict a = mn.data();
            float* __restrict b = mx.data();
            for (int64_t o = 0; o < outer; ++o) {
                const float* __restrict x = v + o * mc;
                for (int64_t c = 0; c < mc; ++c) {
                    a[c] = x[c] < a[c] ? x[c] : a[c];
                    b[c] = x[c] > b[c] ? x[c] : b[c];
                }
            }
        } else {
            for (int64_t o = 0; o < outer; ++o)
                for (int64_t c = 0; c < mc; ++c) {
                    const float* x = v + (o * mc + c) * inner;
                    float lo[8], hi[8];
                    for (int t = 0; t < 8; ++t)
                        lo[t] = std::numeric_limits<float>::infinity(), hi[t] = -lo[t];
                    int64_t j = 0;
                    for (; j + 8 <= inner; j += 8)
                        for (int t = 0; t < 8; ++t) {
                            lo[t] = x[j + t] < lo[t] ? x[j + t] : lo[t];
                            hi[t] = x[j + t] > hi[t] ? x[j + t] : hi[t];
                        }
                    for (; j < inner; ++j)
                        lo[0] = std::min(lo[0], x[j]), hi[0] = std::max(hi[0], x[j]);
                    auto& a = mn[static_cast<size_t>(c)];
                    auto& b = mx[static_cast<size_t>(c)];
                    for (int t = 0; t < 8; ++t) a = std::min(a, lo[t]), b = std::max(b, hi[t]);
                }
        }
        MinMax all;
        auto& out = p.channel_range[static_cast<size_t>(k)];
        out.resize(static_cast<size_t>(l.channels));
        for (size_t c = 0; c < out.size() && c < nc; ++c) {
            MinMax m;
            m.min = mn[c], m.max = mx[c];
            out[c] = m.range();
            if (m.min <= m.max) all.add(m.min), all.add(m.max);
        }
        p.range[static_cast<size_t>(k)] = all.range();
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

Histogram histogram(std::span<const float> values, double lo, double hi, int bins) {
    Histogram h;
    bins = std::max(bins, 1);
    if (!(hi > lo)) {
        // A constant tensor: one bin around its value.
        lo -= 0.5;
        hi = lo + 1.0;
    }
    h.lo = lo;
    h.width = (hi - lo) / bins;
    h.counts.assign(static_cast<size_t>(bins), 0);
    const double inv = 1.0 / h.width;
    const int last = bins - 1;
    for (float v : values) {
        if (std::isnan(v)) continue;
        const double x = (static_cast<double>(v) - lo) * inv;
        const int b = x < 0 ? 0 : (x >= last ? last : static_cast<int>(x));
        ++h.counts[static_cast<size_t>(b)];
        ++h.total;
    }
    return h;
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
        for (float v : values) {
            g.clipped_low += v < g.clip_low;
            g.clipped_high += v > g.clip_high;
        }
        // Integer levels (relative to zp) spanned by the data, one bin each.
        const double l0 = std::floor(static_cast<double>(r.min) / s + 0.5);
        const double l1 = std::floor(static_cast<double>(r.max) / s + 0.5);
        const double q0 = std::min(l0, static_cast<double>(p.qmin) - zp);
        const double q1 = std::max(l1, static_cast<double>(p.qmax) - zp);
        if (q1 - q0 + 1 <= max_levels) {
            g.grid_aligned = true;
            const int bins = static_cast<int>(q1 - q0) + 1;
            g.histogram = histogram(values, (q0 - 0.5) * s, (q1 + 0.5) * s, bins);
            return g;
        }
        // Too many levels for one bin each (int16, or a far outlier): bins over the data only,
        // so the populated part keeps its resolution.
        g.histogram = histogram(values, r.min, r.max, fallback_bins);
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
        for (float v : values) {
            g.clipped_low += v < cl;
            g.clipped_high += v > chg;
        }
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
    for (size_t i = 0; i < xs.size(); ++i) {
        if (std::isnan(xs[i]) || std::isnan(ys[i])) continue;
        auto& c = d.counts[static_cast<size_t>(cell(ys[i])) * static_cast<size_t>(d.n) +
                           static_cast<size_t>(cell(xs[i]))];
        ++c;
        d.max_count = std::max(d.max_count, c);
    }
    return d;
}

}  // namespace qs::engine::analysis
