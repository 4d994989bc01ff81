#include "engine/kernels/common.h"

#include <cmath>
#include "model/str_format.h"

namespace qs::engine::kernels {

using model::Activation;
using model::DType;

Shape4 Shape4::fromShape(std::span<const int32_t> shape) {
    Shape4 s;
    int32_t d[4] = {1, 1, 1, 1};
    const size_t r = std::min<size_t>(shape.size(), 4);
    for (size_t i = 0; i < r; ++i) d[4 - r + i] = shape[shape.size() - r + i];
    // Ranks above 4 fold their leading dimensions into the batch.
    for (size_t i = 0; i + 4 < shape.size(); ++i) d[0] *= shape[i];
    s.n = d[0];
    s.h = d[1];
    s.w = d[2];
    s.c = d[3];
    return s;
}

QuantizedRange activationRangeQuantized(Activation act, DType out_type, float scale,
                                        int32_t zero_point) {
    int32_t lo = 0, hi = 0;
    switch (out_type) {
        case DType::UInt8:
            lo = 0, hi = 255;
            break;
        case DType::Int8:
            lo = -128, hi = 127;
            break;
        case DType::Int16:
            lo = -32768, hi = 32767;
            break;
        default:
            lo = std::numeric_limits<int32_t>::min(), hi = std::numeric_limits<int32_t>::max();
    }
    auto quantize = [&](float f) {
        return zero_point + static_cast<int32_t>(std::round(f / scale));
    };
    switch (act) {
        case Activation::Relu:
            return {std::max(lo, quantize(0.0f)), hi};
        case Activation::Relu6:
            return {std::max(lo, quantize(0.0f)), std::min(hi, quantize(6.0f))};
        case Activation::ReluN1To1:
            return {std::max(lo, quantize(-1.0f)), std::min(hi, quantize(1.0f))};
        default:
            return {lo, hi};
    }
}

FloatRange activationRangeFloat(Activation act) {
    FloatRange r;
    switch (act) {
        case Activation::Relu:
            r.min = 0.0f;
            break;
        case Activation::Relu6:
            r.min = 0.0f, r.max = 6.0f;
            break;
        case Activation::ReluN1To1:
            r.min = -1.0f, r.max = 1.0f;
            break;
        default:
            break;
    }
    return r;
}

int32_t computeOutSize(model::Padding padding, int32_t image, int32_t filter, int32_t stride,
                       int32_t dilation) {
    const int32_t effective = (filter - 1) * dilation + 1;
    if (stride <= 0) return 0;
    if (padding == model::Padding::Same) return (image + stride - 1) / stride;
    return (image + stride - effective) / stride;
}

int32_t computePadding(int32_t stride, int32_t dilation, int32_t in_size, int32_t filter,
                       int32_t out_size) {
    const int32_t effective = (filter - 1) * dilation + 1;
    const int32_t padding = ((out_size - 1) * stride + effective - in_size) / 2;
    return padding > 0 ? padding : 0;
}

QuantizedMultiplier quantizeMultiplierFor(RoundingProfile profile, double real) {
    return quantizeMultiplier(real, profile == RoundingProfile::SingleRounding);
}

bool isQuantizedInt(DType t) {
    return t == DType::Int8 || t == DType::UInt8 || t == DType::Int16;
}

Result<void> populateChannelMultipliers(const PrepareContext& ctx, const TensorInfo& input,
                                        const TensorInfo& filter, const TensorInfo& output,
                                        int32_t channels, std::vector<int32_t>& multipliers,
                                        std::vector<int32_t>& shifts) {
    const auto& fq = *filter.quant;
    if (!fq.isQuantized()) return ctx.fail("filter tensor is not quantized");
    if (!input.quant->isQuantized() || !output.quant->isQuantized())
        return ctx.fail("input or output tensor is not quantized");
    const bool per_channel = fq.scales.size() > 1;
    if (per_channel && static_cast<int32_t>(fq.scales.size()) != channels)
        return ctx.fail(
            strFormat("filter has {} scales for {} output channels", fq.scales.size(), channels));
    multipliers.resize(static_cast<size_t>(channels));
    shifts.resize(static_cast<size_t>(channels));
    const float in_scale = input.scale();
    const float out_scale = output.scale();
    const RequantRule rule = ctx.rule(input.dtype);
    for (int32_t c = 0; c < channels; ++c) {
        const float fs = per_channel ? fq.scales[static_cast<size_t>(c)] : fq.scales[0];
        const auto q = convMultiplier(ctx, rule, input.dtype, in_scale, fs, out_scale);
        multipliers[static_cast<size_t>(c)] = q.multiplier;
        shifts[static_cast<size_t>(c)] = q.shift;
    }
    return {};
}

QuantizedMultiplier convMultiplier(const PrepareContext& ctx, RequantRule rule,
                                   model::DType input_type, float in_scale, float filter_scale,
                                   float out_scale) {
    if (rule == RequantRule::Fp32) return xnnpackScale(in_scale, filter_scale, out_scale);
    double effective;
    if (input_type == model::DType::UInt8)
        effective = static_cast<double>(in_scale * filter_scale) / static_cast<double>(out_scale);
    else
        effective = static_cast<double>(in_scale) * static_cast<double>(filter_scale) /
                    static_cast<double>(out_scale);
    return quantizeMultiplierFor(ctx.profile(), effective);
}

}  // namespace qs::engine::kernels
