// DEPTHWISE_CONV_2D: plain reference loops (after TFLM's
// tensorflow/lite/kernels/internal/reference/integer_ops/depthwise_conv.h and
// reference/depthwiseconv_float.h / depthwiseconv_uint8.h) and a fast path that walks taps
// in the outer loop and channels in the inner, vectorizable loop. Filter layout [1, H, W, C*M].
#pragma once

#include "engine/kernels/conv.h"

namespace qs::engine::kernels {

// Field names follow tflite::DepthwiseParams (ConvParams' fields plus depth_multiplier).
struct DepthwiseParams : ConvParams {
    int32_t depth_multiplier = 1;
};

void depthwiseReference(const DepthwiseParams& p, const Shape4& in_s, const int8_t* in,
                        const Shape4& f_s, const int8_t* filter, const int32_t* bias,
                        const Shape4& out_s, int8_t* out);
void depthwiseReference(const DepthwiseParams& p, const Shape4& in_s, const uint8_t* in,
                        const Shape4& f_s, const uint8_t* filter, const int32_t* bias,
                        const Shape4& out_s, uint8_t* out);
void depthwiseReference(const DepthwiseParams& p, const Shape4& in_s, const int16_t* in,
                        const Shape4& f_s, const int8_t* filter, const int64_t* bias,
                        const Shape4& out_s, int16_t* out);
void depthwiseReference(const DepthwiseParams& p, const Shape4& in_s, const float* in,
                        const Shape4& f_s, const float* filter, const float* bias,
                        const Shape4& out_s, float* out);

// Same results as the reference (floats too: the per-element summation order is unchanged).
void depthwiseFast(const DepthwiseParams& p, const Shape4& in_s, const int8_t* in,
                   const Shape4& f_s, const int8_t* filter, const int32_t* bias,
                   const Shape4& out_s, int8_t* out);
void depthwiseFast(const DepthwiseParams& p, const Shape4& in_s, const uint8_t* in,
                   const Shape4& f_s, const uint8_t* filter, const int32_t* bias,
                   const Shape4& out_s, uint8_t* out);
void depthwiseFast(const DepthwiseParams& p, const Shape4& in_s, const float* in, const Shape4& f_s,
                   const float* filter, const float* bias, const Shape4& out_s, float* out);

}  // namespace qs::engine::kernels
