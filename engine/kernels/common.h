// Helpers shared by the kernels: activation ranges, padding, NHWC shapes, multipliers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "engine/kernels/kernel.h"
#include "model/options.h"

namespace qs::engine::kernels {

// An NHWC shape (lower ranks are extended with leading 1s, as TFLite's RuntimeShape does).
struct Shape4 {
    int32_t n = 1, h = 1, w = 1, c = 1;
    static Shape4 fromShape(std::span<const int32_t> shape);
    int64_t size() const { return int64_t{n} * h * w * c; }
    int64_t offset(int32_t b, int32_t y, int32_t x, int32_t ch) const {
        return ((int64_t{b} * h + y) * w + x) * c + ch;
    }
};

template <class T>
constexpr int32_t qmin() {
    return std::numeric_limits<T>::min();
}
template <class T>
constexpr int32_t qmax() {
    return std::numeric_limits<T>::max();
}

// tensorflow/lite/kernels/kernel_util.cc CalculateActivationRangeQuantized: the fused
// activation's bounds in the output's quantized domain (zp + round(f / scale), float math).
struct QuantizedRange {
    int32_t min = 0, max = 0;
};
QuantizedRange activationRangeQuantized(model::Activation act, model::DType out_type, float scale,
                                        int32_t zero_point);
// tensorflow/lite/kernels/internal/types.h / kernel_util.h CalculateActivationRange (float).
struct FloatRange {
    float min = -std::numeric_limits<float>::infinity();
    float max = std::numeric_limits<float>::infinity();
};
FloatRange activationRangeFloat(model::Activation act);
inline float clampF(float v, FloatRange r) {
    return std::min(std::max(v, r.min), r.max);
}

// tensorflow/lite/kernels/padding.h: output size and the (floored) leading padding.
int32_t computeOutSize(model::Padding padding, int32_t image, int32_t filter, int32_t stride,
                       int32_t dilation);
int32_t computePadding(int32_t stride, int32_t dilation, int32_t in_size, int32_t filter,
                       int32_t out_size);

// QuantizeMultiplier as the profile's TFLite build does it (the single-rounding build
// saturates shifts above 30).
QuantizedMultiplier quantizeMultiplierFor(RoundingProfile profile, double real);

// Typed element span of a tensor value (const and mutable).
template <class T>
const T* in(const TensorValue& v) {
    return v.data<T>().data();
}
template <class T>
T* out(TensorValue& v) {
    return v.data<T>().data();
}

bool isQuantizedInt(model::DType t);  // INT8, UINT8, INT16

// Per-output-channel multipliers of CONV_2D / DEPTHWISE / FULLY_CONNECTED
// (tensorflow/lite/kernels/kernel_util.cc PopulateConvolutionQuantizationParams):
// effective = double(input_scale) * double(filter_scale[c]) / double(output_scale).
// uint8 (legacy, per-tensor) uses float(input_scale * filter_scale) as TFLite's
// GetQuantizedConvolutionMultipler does.
// Under RequantRule::Fp32 (the xnnpack profile) the multipliers are XNNPACK's float scales
// instead (xnnpackScale in profiles/requantize.h), shifts 0.
Result<void> populateChannelMultipliers(const PrepareContext& ctx, const TensorInfo& input,
                                        const TensorInfo& filter, const TensorInfo& output,
                                        int32_t channels, std::vector<int32_t>& multipliers,
                                        std::vector<int32_t>& shifts);

// One channel's multiplier of a conv-like op for `rule` (see populateChannelMultipliers).
QuantizedMultiplier convMultiplier(const PrepareContext& ctx, RequantRule rule,
                                   model::DType input_type, float in_scale, float filter_scale,
                                   float out_scale);

}  // namespace qs::engine::kernels
