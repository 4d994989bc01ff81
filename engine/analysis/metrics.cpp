#include "engine/analysis/metrics.h"

#include <algorithm>
#include <cmath>

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

TensorAccumulator compareArrays(std::span<const float> deq, std::span<const float> ref,
                                std::span<const int32_t> shape, const model::Quantization& q,
                                DType dtype, std::span<const int64_t> raw, int axis_override) {
    TensorAccumulator out;
    const int axis = axis_override == kDefaultAxis ? channelAxis(shape, q) : axis_override;
    int64_t inner = 1, channels = 1;
    if (axis >= 0) {
        channels = shape[static_cast<size_t>(axis)];
        for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
    }
    const auto range = intRange(dtype);
    const bool quantized = q.isQuantized() && range.valid;
    out.channels.resize(static_cast<size_t>(std::max<int64_t>(channels, 1)));
    std::vector<double> inv_scale(out.channels.size(), kNaN);
    for (size_t c = 0; c < out.channels.size(); ++c) {
        auto& a = out.channels[c];
        if (!quantized) continue;
        // A per-tensor scale is shared by every channel of the statistics axis.
        const size_t qc = q.isPerChannel() ? c : 0;
        const double s = q.scale(qc);
        const double zp = static_cast<double>(q.zeroPoint(qc));
        a.has_int = true;
        a.repr_min = (static_cast<double>(range.min) - zp) * s;
        a.repr_max = (static_cast<double>(range.max) - zp) * s;
        inv_scale[c] = s != 0 ? 1.0 / s : kNaN;
    }
    const int64_t n = static_cast<int64_t>(std::min(deq.size(), ref.size()));
    auto channelOf = [&](int64_t i) -> size_t {
        return axis >= 0 ? static_cast<size_t>((i / inner) % channels) : 0;
    };
    std::vector<double> sum_d(out.channels.size(), 0.0);
    for (int64_t i = 0; i < n; ++i) {
        const size_t c = channelOf(i);
        auto& a = out.channels[c];
        const double qv = deq[static_cast<size_t>(i)];
        const double fv = ref[static_cast<size_t>(i)];
        const double d = qv - fv;
        ++a.n;
        sum_d[c] += d;
        a.sum_d2 += d * d;
        a.max_abs = std::max(a.max_abs, std::fabs(d));
        a.sum_f2 += fv * fv;
        a.sum_q2 += qv * qv;
        a.sum_qf += qv * fv;
        const double lsb = d * inv_scale[c];
        a.sum_lsb2 += lsb * lsb;
        a.f_min = std::min(a.f_min, fv);
        a.f_max = std::max(a.f_max, fv);
        if (quantized) {
            if (!raw.empty()) {
                const int64_t r = raw[static_cast<size_t>(i)];
                if (r == range.min || r == range.max) ++a.saturated;
            }
            if (fv < a.repr_min || fv > a.repr_max) ++a.out_of_range;
        }
    }
    for (size_t c = 0; c < out.channels.size(); ++c)
        if (out.channels[c].n) out.channels[c].mean_d = sum_d[c] / out.channels[c].n;
    // Second pass: squared deviations from each channel's own mean (two-pass variance).
    for (int64_t i = 0; i < n; ++i) {
        const size_t c = channelOf(i);
        const double d = static_cast<double>(deq[static_cast<size_t>(i)]) -
                         static_cast<double>(ref[static_cast<size_t>(i)]) - out.channels[c].mean_d;
        out.channels[c].m2 += d * d;
    }
    for (const auto& a : out.channels) out.total.merge(a);
    if (out.total.n == 0 && !out.channels.empty()) {
        out.total.has_int = quantized;
        out.total.repr_min = out.channels[0].repr_min;
        out.total.repr_max = out.channels[0].repr_max;
    }
    return out;
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
    model::Quantization none;
    auto deq = dequantizeValue(quant, is_int ? q : none);
    if (!deq) return std::unexpected(deq.error());
    std::vector<int64_t> raw;
    if (is_int) {
        raw.resize(static_cast<size_t>(quant.numElements()));
        auto copy = [&](auto src) {
            for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<int64_t>(src[i]);
        };
        switch (quant.dtype()) {
            case DType::Int8:
                copy(quant.data<int8_t>());
                break;
            case DType::UInt8:
                copy(quant.data<uint8_t>());
                break;
            case DType::Int16:
                copy(quant.data<int16_t>());
                break;
            case DType::Int32:
                copy(quant.data<int32_t>());
                break;
            case DType::Int64:
                copy(quant.data<int64_t>());
                break;
            default:
                raw.clear();
        }
    }
    return compareArrays(deq->data<float>(), reference.data<float>(), quant.shape(),
                         is_int ? q : none, quant.dtype(), raw);
}

}  // namespace qs::engine::analysis
