// Integer GEMM for the fast CONV_2D / FULLY_CONNECTED paths. Operands are 16-bit values that
// already include their zero-point offsets ((x + input_offset), (w + weights_offset), both in
// [-255, 255]), so a product is at most 255^2 and int32 accumulation is exact for any depth
// below 2^31 / 255^2 = 33025 (checked by callers). Padding entries are 0, which is exactly
// the reference kernels' "skip the tap" behaviour.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/tensor_value.h"
#include "model/dtype.h"

namespace qs::engine::kernels {

// Weights (n rows of k values) packed for gemmS16: blocks of 16 output channels, and inside
// a block, for each pair of depth positions, 16 channels x 2 values (int16).
struct PackedWeightsS16 {
    int32_t n = 0;         // output channels
    int32_t k = 0;         // depth
    int32_t k_pairs = 0;   // ceil(k / 2)
    int32_t n_blocks = 0;  // ceil(n / 16)
    std::vector<int16_t> data;
};
// rows[i * k + j] + offset, for int8 or uint8 weights.
PackedWeightsS16 packWeightsS16(const int8_t* rows, int32_t n, int32_t k, int32_t offset);
PackedWeightsS16 packWeightsS16(const uint8_t* rows, int32_t n, int32_t k, int32_t offset);

// C[r * ldc + j] = sum_d A[r * lda + d] * W[j][d] for r < m, j < n_blocks * 16.
// A rows hold k values (lda >= 2 * k_pairs; entries k..2*k_pairs-1 must be 0).
void gemmS16(const int16_t* a, int32_t m, int32_t lda, const PackedWeightsS16& w, int32_t* c,
             int32_t ldc);

// True when the AVX2 microkernel is in use (for benchmarks and reports).
bool gemmUsesAvx2();

// Float GEMM for the fast float CONV_2D / FULLY_CONNECTED paths. Weights (n rows of k values,
// TFLite's OHWI / [units, depth] layout) are packed in blocks of 16 output channels: for each
// depth position, the 16 channels' values (zero past n).
struct PackedWeightsF32 {
    int32_t n = 0;
    int32_t k = 0;
    int32_t n_blocks = 0;  // ceil(n / 16)
    std::vector<float> data;
};
PackedWeightsF32 packWeightsF32(const float* rows, int32_t n, int32_t k);

// C[r * ldc + j] = clamp(sum_d A[r * lda + d] * W[j][d] + bias[j], lo, hi) for r < m, j < n
// (bias may be null: + 0.0f, as the reference loops add). Each output is one accumulator summed
// in depth order with a separate multiply and add, as the reference loops do, so the results
// are bit-identical to theirs.
void gemmF32(const float* a, int32_t m, int32_t lda, const PackedWeightsF32& w, const float* bias,
             float lo, float hi, float* c, int32_t ldc);

// The packed filter of a fast CONV_2D or FULLY_CONNECTED kernel: packed once at prepare when
// the filter is a constant, otherwise again at every eval from the run-time filter.
class PackedFilter {
public:
    // n output channels of depth k; `offset` (weights_offset) is added to 8-bit weights.
    // `constant` is the filter's data when it is a constant, else nullptr.
    void prepare(const TensorValue* constant, model::DType type, int32_t n, int32_t k,
                 int32_t offset);
    // The packed weights for this eval's filter (int8/uint8 or float32 filters).
    const PackedWeightsS16& s16(const TensorValue& filter);
    const PackedWeightsF32& f32(const TensorValue& filter);

private:
    void pack(const TensorValue& filter);

    model::DType m_type = model::DType::Float32;
    int32_t m_n = 0, m_k = 0, m_offset = 0;
    bool m_constant = false;
    PackedWeightsS16 m_s16;
    PackedWeightsF32 m_f32;
};

}  // namespace qs::engine::kernels
