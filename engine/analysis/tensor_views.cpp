#include "engine/analysis/tensor_views.h"

#include <algorithm>
#include <cmath>
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
    const auto& l = p.layout;
    // Tensor order is [outer, channel, inner] around the map axis; a plane index is
    // c * map + (o * inner + k) because rows x cols walk the other axes in tensor order.
    int64_t inner = 1, outer = 1;
    const int64_t mc = l.channel_axis >= 0 ? l.channels : 1;
    if (l.channel_axis >= 0) {
        for (size_t d = static_cast<size_t>(l.channel_axis) + 1; d < shape.size(); ++d)
            inner *= shape[d];
        outer = mc > 0 ? n / (mc * inner) : 0;
    } else {
        inner = n;
    }
    const int64_t map = l.mapSize();

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
    // quantized_dimension, which for maps of rank >= 3 is the map channel.
    const bool per_channel = p.quantized && q.isPerChannel();
    int64_t q_inner = 1, q_channels = 1;
    if (per_channel) {
        q_channels = static_cast<int64_t>(q.scales.size());
        for (size_t d = static_cast<size_t>(q.quantized_dimension) + 1; d < shape.size(); ++d)
            q_inner *= shape[d];
    }
    std::vector<double> inv_scale;
    for (float s : p.scales) inv_scale.push_back(s != 0 ? 1.0 / s : 0.0);
    if (inv_scale.empty()) inv_scale.push_back(1.0);

    const float* __restrict ref = reference.data<float>().data();
    float* __restrict pr = p.planes[0].data();
    float* __restrict pd = p.planes[1].data();
    float* __restrict pe = p.planes[2].data();
    float* __restrict pa = p.planes[3].data();
    float* __restrict pl = p.planes[4].data();
    float* __restrict ps = p.planes[5].data();
    int32_t* __restrict pq = p.stored.data();

    // Per-tensor 8/16-bit values dequantize through a table of every level: the table holds
    // exactly what dequantizeValue computes (float_twin.h), one entry per stored integer.
    std::vector<float> table;
    const bool use_table = p.quantized && !per_channel && p.qmax - p.qmin <= 65535;
    std::optional<TensorValue> deq;
    if (use_table) {
        TensorValue levels(DType::Int32, {static_cast<int32_t>(p.qmax - p.qmin + 1)});
        auto* l = levels.data<int32_t>().data();
        for (int64_t v = p.qmin; v <= p.qmax; ++v) l[v - p.qmin] = static_cast<int32_t>(v);
        // dequantizeValue reads the dtype's integers; the arithmetic is (q - zp) * scale for
        // any integer width, so int32 levels give the same floats.
        auto t = dequantizeValue(levels, used_q);
        if (!t) return std::unexpected(t.error());
        table.assign(t->data<float>().begin(), t->data<float>().end());
    } else {
        auto t = dequantizeValue(quant, used_q);
        if (!t) return std::unexpected(t.error());
        deq = std::move(*t);
    }
    const float* dq = deq ? deq->data<float>().data() : nullptr;
    const float* lut = table.data();
    const auto qmin = p.qmin, qmax = p.qmax;
    const float inv0 = static_cast<float>(inv_scale[0]);
    int64_t at_min = 0, at_max = 0;

    auto pass = [&, ref, pr, pd, pe, pa, pl, ps, pq, lut, dq, qmin, qmax, inv0, per_channel,
                 use_table, q_inner, q_channels, outer, mc, inner, map](const auto* raw) {
        constexpr bool kInt = !std::is_same_v<std::decay_t<decltype(*raw)>, float>;
        int64_t n_min = 0, n_max = 0;
        auto body = [&](int64_t i, int64_t j) {
            const float f = ref[i];
            if constexpr (kInt) {
                const auto s = static_cast<int64_t>(raw[i]);
                const float d = use_table ? lut[s - qmin] : dq[i];
                const float e = d - f;
                const float inv =
                    per_channel ? static_cast<float>(
                                      inv_scale[static_cast<size_t>((i / q_inner) % q_channels)])
                                : inv0;
                pr[j] = f, pd[j] = d, pe[j] = e, pa[j] = std::fabs(e);
                pl[j] = e * inv;
                ps[j] = s == qmin ? -1.f : (s == qmax ? 1.f : 0.f);
                pq[j] = static_cast<int32_t>(s);
                n_min += s == qmin;
                n_max += s == qmax;
            } else {
                const float d = dq[i];
                const float e = d - f;
                pr[j] = f, pd[j] = d, pe[j] = e, pa[j] = std::fabs(e);
                pl[j] = e, ps[j] = 0.f;
            }
        };
        if (inner == 1 && mc > 1) {
            // Channels last (NHWC): a transpose. Blocks of 16 positions keep each channel's
            // writes within one cache line per plane.
            constexpr int64_t kBlock = 16;
            for (int64_t o0 = 0; o0 < outer; o0 += kBlock) {
                const int64_t o1 = std::min(outer, o0 + kBlock);
                for (int64_t c = 0; c < mc; ++c)
                    for (int64_t o = o0; o < o1; ++o) body(o * mc + c, c * map + o);
            }
        } else {
            for (int64_t o = 0; o < outer; ++o)
                for (int64_t c = 0; c < mc; ++c) {
                    const int64_t src0 = (o * mc + c) * inner;
                    const int64_t dst0 = c * map + o * inner;
                    for (int64_t k = 0; k < inner; ++k) body(src0 + k, dst0 + k);
                }
        }
        at_min += n_min;
        at_max += n_max;
    };
    if (!p.quantized) {
        pass(static_cast<const float*>(nullptr));
    } else {
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
    }
    p.at_qmin = at_min, p.at_qmax = at_max;
    // Ranges per channel over contiguous runs, eight lanes so the loop vectorizes.
    for (int k = 0; k < kQuantities; ++k) {
        MinMax all;
        auto& out = p.channel_range[static_cast<size_t>(k)];
        out.resize(static_cast<size_t>(l.channels));
        const float* v = p.planes[static_cast<size_t>(k)].data();
        for (int64_t c = 0; c < l.channels; ++c) {
            const float* x = v + c * map;
            float mn[8], mx[8];
            for (int t = 0; t < 8; ++t)
                mn[t] = std::numeric_limits<float>::infinity(),
                mx[t] = -std::numeric_limits<float>::infinity();
            int64_t j = 0;
            for (; j + 8 <= map; j += 8)
                for (int t = 0; t < 8; ++t) {
                    mn[t] = x[j + t] < mn[t] ? x[j + t] : mn[t];
                    mx[t] = x[j + t] > mx[t] ? x[j + t] : mx[t];
                }
            MinMax m;
            for (int t = 0; t < 8; ++t) {
                m.min = mn[t] < m.min ? mn[t] : m.min;
                m.max = mx[t] > m.max ? mx[t] : m.max;
            }
            for (; j < map; ++j) m.add(x[j]);
            out[static_cast<size_t>(c)] = m.range();
            if (m.min <= m.max) all.add(m.min), all.add(m.max);
        }
        p.range[static_cast<size_t>(k)] = all.range();
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
