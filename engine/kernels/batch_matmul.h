// BATCH_MATMUL: out[..., i, j] = sum_k lhs[..., i, k] * rhs[..., k, j] with NumPy-style
// broadcasting of the leading (batch) dimensions, after TFLite's
// tensorflow/lite/kernels/internal/reference/batch_matmul.h (float, int8 with int32
// accumulators, int16 with int64 accumulators). adj_x / adj_y are applied by reading the
// operands transposed, never by copying.
#pragma once

#include <array>
#include <cstdint>

#include "engine/kernels/common.h"

namespace qs::engine::kernels {

// Batch geometry of both operands, extended to 3 batch dimensions (TFLite supports rank
// <= 5, i.e. 3 batch dimensions). A stride of 0 broadcasts that operand.
struct BatchMatMulShape {
    std::array<int32_t, 3> batch{1, 1, 1};
    std::array<int64_t, 3> lhs_batch_stride{0, 0, 0}, rhs_batch_stride{0, 0, 0};
    int32_t rows = 0, cols = 0, depth = 0;
    bool adj_x = false, adj_y = false;
};

// Field names follow tflite::FullyConnectedParams, which TFLite's BATCH_MATMUL reuses
// (lhs is the "input", rhs the "weights").
struct BatchMatMulParams {
    int32_t input_offset = 0;    // -lhs zero point
    int32_t weights_offset = 0;  // -rhs zero point
    int32_t output_offset = 0;   // output zero point
    int32_t output_multiplier = 0;
    int output_shift = 0;
    int32_t quantized_activation_min = 0, quantized_activation_max = 0;
    RequantRule rule = RequantRule::DoubleRounding;
};

void batchMatMulReference(const BatchMatMulShape& s, const float* lhs, const float* rhs,
                          float* out);
void batchMatMulReference(const BatchMatMulParams& p, const BatchMatMulShape& s, const int8_t* lhs,
                          const int8_t* rhs, int8_t* out);
// int16 lhs with int16 or int8 rhs, int64 accumulation, zero points 0.
void batchMatMulReference(const BatchMatMulParams& p, const BatchMatMulShape& s, const int16_t* lhs,
                          const int16_t* rhs, int16_t* out);
void batchMatMulReference(const BatchMatMulParams& p, const BatchMatMulShape& s, const int16_t* lhs,
                          const int8_t* rhs, int16_t* out);

}  // namespace qs::engine::kernels
