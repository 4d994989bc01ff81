// CONV_2D: plain reference loops (the oracle, after TFLM's
// tensorflow/lite/kernels/internal/reference/integer_ops/conv.h and reference/conv.h) and a
// fast im2col + GEMM path with the same signature. Layouts are TFLite's: input NHWC, filter
// OHWI (out channels, height, width, in channels per group), output NHWC.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/kernels/common.h"

namespace qs::engine::kernels {

// Field names follow tflite::ConvParams.
struct ConvParams {
    int32_t padding_width = 0, padding_height = 0;
    int32_t stride_width = 1, stride_height = 1;
    int32_t dilation_width_factor = 1, dilation_height_factor = 1;
    int32_t input_offset = 0;    // -input zero point
    int32_t weights_offset = 0;  // -filter zero point (uint8 only; int8 filters are symmetric)
    int32_t output_offset = 0;   // output zero point
    std::vector<int32_t> output_multiplier;  // one per output channel
    std::vector<int32_t> output_shift;       // one per output channel (> 0: left shift)
    int32_t quantized_activation_min = 0, quantized_activation_max = 0;
    float float_activation_min = 0.0f, float_activation_max = 0.0f;
    RequantRule rule = RequantRule::DoubleRounding;
};

// int8 input/filter, int32 bias (per-channel or per-tensor multipliers).
void convReference(const ConvParams& p, const Shape4& in_s, const int8_t* in, const Shape4& f_s,
                   const int8_t* filter, const int32_t* bias, const Shape4& out_s, int8_t* out);
// uint8 (legacy asymmetric): (filter + weights_offset) * (input + input_offset).
void convReference(const ConvParams& p, const Shape4& in_s, const uint8_t* in, const Shape4& f_s,
                   const uint8_t* filter, const int32_t* bias, const Shape4& out_s, uint8_t* out);
// int16x8: int16 input (zero point 0), int8 filter, int64 (or int32) bias, int64 accumulator.
void convReference(const ConvParams& p, const Shape4& in_s, const int16_t* in, const Shape4& f_s,
                   const int8_t* filter, const int64_t* bias, const Shape4& out_s, int16_t* out);
void convReference(const ConvParams& p, const Shape4& in_s, const int16_t* in, const Shape4& f_s,
                   const int8_t* filter, const int32_t* bias, const Shape4& out_s, int16_t* out);
// float32: accumulate in the reference order (filter y, x, in channel), add bias, clamp.
void convReference(const ConvParams& p, const Shape4& in_s, const float* in, const Shape4& f_s,
                   const float* filter, const float* bias, const Shape4& out_s, float* out);

// Fast paths (same results for integer types; float within summation-order rounding).
// int16x8 has no fast path; its overloads run the reference loops.
void convFast(const ConvParams& p, const Shape4& in_s, const int8_t* in, const Shape4& f_s,
              const int8_t* filter, const int32_t* bias, const Shape4& out_s, int8_t* out);
void convFast(const ConvParams& p, const Shape4& in_s, const uint8_t* in, const Shape4& f_s,
              const uint8_t* filter, const int32_t* bias, const Shape4& out_s, uint8_t* out);
void convFast(const ConvParams& p, const Shape4& in_s, const float* in, const Shape4& f_s,
              const float* filter, const float* bias, const Shape4& out_s, float* out);

}  // namespace qs::engine::kernels
