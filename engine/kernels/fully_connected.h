// FULLY_CONNECTED: plain reference loops and a fast GEMM path with the same signature.
// Input is [batches, depth] (any rank flattened), filter [units, depth], output [batches, units].
#pragma once

#include "engine/kernels/common.h"

namespace qs::engine::kernels {

// Field names follow tflite::FullyConnectedParams. output_multiplier/output_shift hold one
// value (per-tensor) or one per unit (per-channel).
struct FullyConnectedParams {
    int32_t input_offset = 0;    // -input zero point
    int32_t weights_offset = 0;  // -filter zero point (uint8)
    int32_t output_offset = 0;   // output zero point
    std::vector<int32_t> output_multiplier;
    std::vector<int32_t> output_shift;
    int32_t quantized_activation_min = 0, quantized_activation_max = 0;
    float float_activation_min = 0.0f, float_activation_max = 0.0f;
    RequantRule rule = RequantRule::DoubleRounding;
};

void fullyConnectedReference(const FullyConnectedParams& p, int32_t batches, int32_t depth,
                             int32_t units, const int8_t* in, const int8_t* filter,
                             const int32_t* bias, int8_t* out);
void fullyConnectedReference(const FullyConnectedParams& p, int32_t batches, int32_t depth,
                             int32_t units, const uint8_t* in, const uint8_t* filter,
                             const int32_t* bias, uint8_t* out);
void fullyConnectedReference(const FullyConnectedParams& p, int32_t batches, int32_t depth,
                             int32_t units, const int16_t* in, const int8_t* filter,
                             const int64_t* bias, int16_t* out);
void fullyConnectedReference(const FullyConnectedParams& p, int32_t batches, int32_t depth,
                             int32_t units, const float* in, const float* filter, const float* bias,
                             float* out);

void fullyConnectedFast(const FullyConnectedParams& p, int32_t batches, int32_t depth,
                        int32_t units, const int8_t* in, const int8_t* filter, const int32_t* bias,
                        int8_t* out);
void fullyConnectedFast(const FullyConnectedParams& p, int32_t batches, int32_t depth,
                        int32_t units, const uint8_t* in, const uint8_t* filter,
                        const int32_t* bias, uint8_t* out);
void fullyConnectedFast(const FullyConnectedParams& p, int32_t batches, int32_t depth,
                        int32_t units, const float* in, const float* filter, const float* bias,
                        float* out);

}  // namespace qs::engine::kernels
