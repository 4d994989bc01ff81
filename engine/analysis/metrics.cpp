#include "engine/analysis/metrics.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "engine/analysis/float_twin.h"
#include "model/str_format.h"

namespace qs::engine::analysis {

namespace {

using model::DType;

struct IntRange {
    int64_t min = 0, max = 0;
    bool valid = false;
};
IntRange intRange(DType t) {
    switch (t) {
        case DType::Int4:
            return {-8, 7, true};
        case DType::Int8:
            return {-128, 127, true};
        case DType::UInt8:
            return {0, 255, true};
        case DType::Int16:
            return {-32768, 32767, true};
        case DType::Int32:
            return {INT32_MIN, INT32_MAX, true};
        case DType::Int64:
            return {INT64_MIN, INT64_MAX, true};
        default:
            return {};
    }
}

}  // namespace

void ErrorAccumulator::merge(const ErrorAccumulator& o) {
    if (o.n == 0) {
        if (n == 0) {
            has_int = has_int || o.has_int;
            repr_min = std::isnan(repr_min) ? o.repr_min : repr_min;
            repr_max = std::isnan(repr_max) ? o.repr_max : repr_max;
        }
        return;
    }
    if (n == 0) {
        *this = o;
        return;
    }
    // Chan, Golub, LeVeque: combining the mean and M2 of two disjoint populations.
    const double na = static_cast<double>(n), nb = static_cast<double>(o.n);
    const double delta = o.mean_d - mean_d;
    const double total = na + nb;
    mean_d += delta * nb / total;
    m2 += o.m2 + delta * delta * na * nb / total;
    n += o.n;
    sum_d2 += o.sum_d2;
    max_abs = std::max(max_abs, o.max_abs);
    sum_f2 += o.sum_f2;
    sum_q2 += o.sum_q2;
    sum_qf += o.sum_qf;
    sum_lsb2 += o.sum_lsb2;
    saturated += o.saturated;
    out_of_range += o.out_of_range;
    has_int = has_int || o.has_int;
    f_min = std::min(f_min, o.f_min);
    f_max = std::max(f_max, o.f_max);
    // Across channels the representable range is the union of the channels' ranges.
    repr_min = std::isnan(repr_min) ? o.repr_min : std::fmin(repr_min, o.repr_min);
    repr_max = std::isnan(repr_max) ? o.repr_max : std::fmax(repr_max, o.repr_max);
}

ErrorMetrics finalize(const ErrorAccumulator& a) {
    ErrorMetrics m;
    m.num_elements = static_cast<double>(a.n);
    m.representable_min = a.repr_min;
    m.representable_max = a.repr_max;
    if (a.n == 0) return m;
    const double n = static_cast<double>(a.n);
    const double inf = std::numeric_limits<double>::infinity();
    m.mean_error = a.mean_d;
    m.stddev = std::sqrt(a.m2 / n);
    m.max_abs_error = a.max_abs;
    m.mean_squared_error = a.sum_d2 / n;
    m.rmse = std::sqrt(m.mean_squared_error);
    m.rmse_lsb = std::sqrt(a.sum_lsb2 / n);
    if (a.sum_d2 == 0)
        m.sqnr_db = inf;
    else if (a.sum_f2 == 0)
        m.sqnr_db = -inf;
    else
        m.sqnr_db = 10.0 * std::log10(a.sum_f2 / a.sum_d2);
    const double denom = std::sqrt(a.sum_q2) * std::sqrt(a.sum_f2);
    if (denom == 0)
        m.cosine_similarity = (a.sum_q2 == 0 && a.sum_f2 == 0) ? 1.0 : 0.0;
    else
        m.cosine_similarity = std::clamp(a.sum_qf / denom, -1.0, 1.0);  // rounding can pass 1
    if (a.sum_f2 == 0)
        m.relative_l2 = a.sum_d2 == 0 ? 0.0 : inf;
    else
        m.relative_l2 = std::sqrt(a.sum_d2 / a.sum_f2);
    m.float_min = a.f_min;
    m.float_max = a.f_max;
    if (a.has_int) {
        m.saturation_pct = 100.0 * static_cast<double>(a.saturated) / n;
        m.out_of_range_pct = 100.0 * static_cast<double>(a.out_of_range) / n;
    }
    return m;
}

const MetricDef* findMetric(std::string_view name) {
    for (const auto& d : kMetrics)
        if (d.name == name) return &d;
    return nullptr;
}

void MetricAverager::add(const ErrorMetrics& m) {
    for (size_t i = 0; i < kMetrics.size(); ++i) {
        const double v = m.*(kMetrics[i].field);
        if (std::isnan(v)) continue;
        m_sum[i] += v;
        ++m_count[i];
    }
    ++m_samples;
}

ErrorMetrics MetricAverager::mean() const {
    ErrorMetrics m;
    for (size_t i = 0; i < kMetrics.size(); ++i)
        m.*(kMetrics[i].field) = m_count[i] ? m_sum[i] / m_count[i] : kNaN;
    return m;
}

int channelAxis(std::span<const int32_t> shape, const model::Quantization& q) {
    if (q.isPerChannel() && q.quantized_dimension >= 0 &&
        static_cast<size_t>(q.quantized_dimension) < shape.size())
        return q.quantized_dimension;
    return shape.empty() ? -1 : static_cast<int>(shape.size()) - 1;
}

void TensorAccumulator::merge(const TensorAccumulator& o) {
    total.merge(o.total);
    if (channels.size() < o.channels.size()) channels.resize(o.channels.size());
    for (size_t c = 0; c < o.channels.size(); ++c) channels[c].merge(o.channels[c]);
}

namespace {

// Sums per channel, one array per quantity, so the loop over channels (the innermost, contiguous
// axis of NHWC activations) vectorizes.
struct ChannelSums {
    std::vector<double> sum_d, sum_d2, max_abs, sum_f2, sum_q2, sum_qf, sum_lsb2, f_min, f_max, m2;
    std::vector<int64_t> saturated, out_of_range;
    explicit ChannelSums(size_t n)
        : sum_d(n),
          sum_d2(n),
          max_abs(n),
          sum_f2(n),
          sum_q2(n),
          sum_qf(n),
          sum_lsb2(n),
          f_min(n, std::numeric_limits<double>::infinity()),
          f_max(n, -std::numeric_limits<double>::infinity()),
          m2(n),
          saturated(n),
          out_of_range(n) {}
};

// The element layout seen from the statistics axis: [outer, channels, inner].
struct Blocks {
    int64_t outer = 1, channels = 1, inner = 1;
};

template <class Raw>
TensorAccumulator accumulate(const float* deq, const float* ref, const Raw* raw, int64_t n,
                             const Blocks& b, const model::Quantization& q, const IntRange& range) {
    const bool quantized = q.isQuantized() && range.valid;
    const size_t nc = static_cast<size_t>(b.channels);
    TensorAccumulator out;
    out.channels.resize(nc);
    std::vector<double> inv_scale(nc, kNaN), rmin(nc, kNaN), rmax(nc, kNaN);
    for (size_t c = 0; c < nc; ++c) {
        if (!quantized) continue;
        // A per-tensor scale is shared by every channel of the statistics axis.
        const size_t qc = q.isPerChannel() ? c : 0;
        const double s = q.scale(qc);
        const double zp = static_cast<double>(q.zeroPoint(qc));
        rmin[c] = (static_cast<double>(range.min) - zp) * s;
        rmax[c] = (static_cast<double>(range.max) - zp) * s;
        inv_scale[c] = s != 0 ? 1.0 / s : kNaN;
    }
    ChannelSums cs(nc);
    const int64_t used = std::min<int64_t>(n, b.outer * b.channels * b.inner);
    // The branches are hoisted into template arguments, out of the element loop; __restrict
    // tells the compiler the accumulators do not alias the data.
    double* __restrict sd = cs.sum_d.data();
    double* __restrict sd2 = cs.sum_d2.data();
    double* __restrict mx = cs.max_abs.data();
    double* __restrict sf2 = cs.sum_f2.data();
    double* __restrict sq2 = cs.sum_q2.data();
    double* __restrict sqf = cs.sum_qf.data();
    double* __restrict sl2 = cs.sum_lsb2.data();
    double* __restrict fmn = cs.f_min.data();
    double* __restrict fmx = cs.f_max.data();
    int64_t* __restrict sat = cs.saturated.data();
    int64_t* __restrict oor = cs.out_of_range.data();
    const double* __restrict inv = inv_scale.data();
    const double* __restrict lo = rmin.data();
    const double* __restrict hi = rmax.data();
    auto pass1 = [&](auto quantized_tag, auto raw_tag) {
        constexpr bool kQuantized = decltype(quantized_tag)::value;
        constexpr bool kRaw = decltype(raw_tag)::value;
        for (int64_t o = 0; o < b.outer; ++o) {
            for (int64_t k = 0; k < b.inner; ++k) {
                const int64_t base = o * b.channels * b.inner + k;
                for (size_t c = 0; c < nc; ++c) {
                    const int64_t i = base + static_cast<int64_t>(c) * b.inner;
                    const double qv = deq[i], fv = ref[i];
                    const double d = qv - fv;
                    sd[c] += d;
                    sd2[c] += d * d;
                    const double ad = d < 0 ? -d : d;
                    mx[c] = mx[c] < ad ? ad : mx[c];
                    sf2[c] += fv * fv;
                    sq2[c] += qv * qv;
                    sqf[c] += qv * fv;
                    if constexpr (kQuantized) {
                        const double lsb = d * inv[c];
                        sl2[c] += lsb * lsb;
                        oor[c] += (fv < lo[c]) | (fv > hi[c]);
                        if constexpr (kRaw) {
                            const auto r = static_cast<int64_t>(raw[i]);
                            sat[c] += (r == range.min) | (r == range.max);
                        }
                    }
                    fmn[c] = fv < fmn[c] ? fv : fmn[c];
                    fmx[c] = fv > fmx[c] ? fv : fmx[c];
                }
            }
        }
    };
    if (quantized && raw)
        pass1(std::true_type{}, std::true_type{});
    else if (quantized)
        pass1(std::true_type{}, std::false_type{});
    else
        pass1(std::false_type{}, std::false_type{});
    if (!quantized)
        for (size_t c = 0; c < nc; ++c) cs.sum_lsb2[c] = kNaN;
    const double per_channel = static_cast<double>(b.outer * b.inner);
    std::vector<double> mean(nc, 0.0);
    for (size_t c = 0; c < nc; ++c) mean[c] = used ? cs.sum_d[c] / per_channel : 0.0;
    // Second pass: squared deviations from each channel's own mean (two-pass variance).
    for (int64_t o = 0; o < b.outer; ++o) {
        for (int64_t k = 0; k < b.inner; ++k) {
            const int64_t base = o * b.channels * b.inner + k;
            for (size_t c = 0; c < nc; ++c) {
                const int64_t i = base + static_cast<int64_t>(c) * b.inner;
                const double d =
                    static_cast<double>(deq[i]) - static_cast<double>(ref[i]) - mean[c];
                cs.m2[c] += d * d;
            }
        }
    }
    for (size_t c = 0; c < nc; ++c) {
        auto& a = out.channels[c];
        a.n = used ? b.outer * b.inner : 0;
        a.mean_d = mean[c];
        a.m2 = cs.m2[c];
        a.sum_d2 = cs.sum_d2[c];
        a.max_abs = cs.max_abs[c];
        a.sum_f2 = cs.sum_f2[c];
        a.sum_q2 = cs.sum_q2[c];
        a.sum_qf = cs.sum_qf[c];
        a.sum_lsb2 = cs.sum_lsb2[c];
        a.saturated = cs.saturated[c];
        a.out_of_range = cs.out_of_range[c];
        a.f_min = cs.f_min[c];
        a.f_max = cs.f_max[c];
        a.has_int = quantized;
        a.repr_min = rmin[c];
        a.repr_max = rmax[c];
    }
    for (const auto& a : out.channels) out.total.merge(a);
    if (out.total.n == 0 && !out.channels.empty()) out.total = out.channels[0];
    return out;
}

Blocks blocksFor(std::span<const int32_t> shape, int axis, int64_t n) {
    Blocks b;
    if (axis < 0 || static_cast<size_t>(axis) >= shape.size()) {
        b.inner = n;
        return b;
    }
    b.channels = std::max<int32_t>(shape[static_cast<size_t>(axis)], 1);
    for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) b.inner *= shape[d];
    for (size_t d = 0; d < static_cast<size_t>(axis); ++d) b.outer *= shape[d];
    if (shape[static_cast<size_t>(axis)] == 0) b.outer = 0;
    return b;
}

}  // namespace

TensorAccumulator compareArrays(std::span<const float> deq, std::span<const float> ref,
                                std::span<const int32_t> shape, const model::Quantization& q,
                                DType dtype, std::span<const int64_t> raw, int axis_override) {
    const int axis = axis_override == kDefaultAxis ? channelAxis(shape, q) : axis_override;
    const int64_t n = static_cast<int64_t>(std::min(deq.size(), ref.size()));
    return accumulate(deq.data(), ref.data(), raw.empty() ? nullptr : raw.data(), n,
                      blocksFor(shape, axis, n), q, intRange(dtype));
}

Result<TensorAccumulator> compareTensor(const TensorValue& quant, const model::Quantization& q,
                                        const TensorValue& reference) {
    if (reference.dtype() != DType::Float32)
        return fail(
            strFormat("the reference is {}, not FLOAT32", model::dtypeName(reference.dtype())));
    if (quant.numElements() != reference.numElements())
        return fail(strFormat("{} elements [{}] vs {} in the reference [{}]", quant.numElements(),
                              shapeString(quant.shape()), reference.numElements(),
                              shapeString(reference.shape())));
    const bool is_int = model::isQuantizable(quant.dtype()) && q.isQuantized();
    const model::Quantization none;
    const model::Quantization& used_q = is_int ? q : none;
    auto deq = dequantizeValue(quant, used_q);
    if (!deq) return std::unexpected(deq.error());
    const int64_t n = quant.numElements();
    const Blocks b = blocksFor(quant.shape(), channelAxis(quant.shape(), used_q), n);
    const auto range = intRange(quant.dtype());
    const float* d = deq->data<float>().data();
    const float* f = reference.data<float>().data();
    switch (is_int ? quant.dtype() : DType::Float32) {
        case DType::Int8:
            return accumulate(d, f, quant.data<int8_t>().data(), n, b, used_q, range);
        case DType::UInt8:
            return accumulate(d, f, quant.data<uint8_t>().data(), n, b, used_q, range);
        case DType::Int16:
            return accumulate(d, f, quant.data<int16_t>().data(), n, b, used_q, range);
        case DType::Int32:
            return accumulate(d, f, quant.data<int32_t>().data(), n, b, used_q, range);
        case DType::Int64:
            return accumulate(d, f, quant.data<int64_t>().data(), n, b, used_q, range);
        default:
            return accumulate(d, f, static_cast<const int8_t*>(nullptr), n, b, used_q, range);
    }
}

}  // namespace qs::engine::analysis
