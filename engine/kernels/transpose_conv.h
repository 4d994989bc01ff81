// TRANSPOSE_CONV: the scatter formulation of TFLite's reference kernels
// (tensorflow/lite/kernels/internal/reference/transpose_conv.h for float/uint8 and
// reference/integer_ops/transpose_conv.h for int8 and int16x8, as TFLM and TFLite's int16x8
// path run them). Every input pixel is multiplied by the whole filter and added into a
// zeroed accumulator the size of the output; bias, requantization and clamping follow.
// Layouts are TFLite's: input NHWC, filter OHWI (out channels, height, width, in channels),
// output NHWC.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/kernels/common.h"

namespace qs::engine::kernels {

// Field names follow tflite::ConvParams (the struct TFLite's transpose conv reuses).
struct TransposeConvParams {
    int32_t padding_width = 0, padding_height = 0;
    int32_t stride_width = 1, stride_height = 1;
    int32_t input_offset = 0;                // -input zero point
    int32_t weights_offset = 0;              // -filter zero point (uint8 only)
    int32_t output_offset = 0;               // output zero point
    std::vector<int32_t> output_multiplier;  // one per output channel
    std::vector<int32_t> output_shift;
    int32_t quantized_activation_min = 0, quantized_activation_max = 0;
    float float_activation_min = 0.0f, float_activation_max = 0.0f;
    RequantRule rule = RequantRule::DoubleRounding;
};

// `scratch` is resized to the output size (int32 for 8-bit, int64 for int16x8).
void transposeConvReference(const TransposeConvParams& p, const Shape4& in_s, const int8_t* in,
                            const Shape4& f_s, const int8_t* filter, const int32_t* bias,
                            const Shape4& out_s, int8_t* out, std::vector<int32_t>& scratch);
void transposeConvReference(const TransposeConvParams& p, const Shape4& in_s, const uint8_t* in,
                            const Shape4& f_s, const uint8_t* filter, const int32_t* bias,
                            const Shape4& out_s, uint8_t* out, std::vector<int32_t>& scratch);
// int16x8: zero points are 0; bias int64 (an int32 bias is widened by the caller).
void transposeConvReference(const TransposeConvParams& p, const Shape4& in_s, const int16_t* in,
                            const Shape4& f_s, const int8_t* filter, const int64_t* bias,
                            const Shape4& out_s, int16_t* out, std::vector<int64_t>& scratch);
void transposeConvReference(const TransposeConvParams& p, const Shape4& in_s, const float* in,
                            const Shape4& f_s, const float* filter, const float* bias,
                            const Shape4& out_s, float* out, std::vector<float>& scratch);

}  // namespace qs::engine::kernels
