// Hybrid ("dynamic-range") kernels: float activations, int8 symmetric constant weights. The
// float input is quantized to int8 at run time (per batch), multiplied with the int8 weights
// in int32, and the accumulator is scaled back to float:
//   out = bias + float(acc) * input_scale[b] * filter_scale[c]
// as TFLite's builtin kernels do (tensorflow/lite/kernels/fully_connected.cc EvalHybrid,
// conv.cc EvalHybrid / EvalHybridPerChannel, depthwise_conv.cc EvalHybridPerChannel, with
// tensorflow/lite/kernels/internal/portable_tensor_utils.cc for the input quantization).
//
// BATCH_MATMUL with a float lhs and a constant int8 rhs follows batch_matmul.cc EvalHybrid
// (per lhs row quantization; hybrid_batch_matmul.cpp).
//
// These kernels are not in the op registry: the executor picks them from
// KernelRegistry::hybrid() when input 0 is float32 and input 1 is a constant int8 tensor.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "engine/kernels/common.h"

namespace qs::engine::kernels {

// portable_tensor_utils.cc PortableSymmetricQuantizeFloats: scale = max|x| / 127,
// q = clamp(round(x * 127 / max|x|), -127, 127), rounding half away from zero. An all-zero
// input gives scale 1 and zeros.
float symmetricQuantizeFloats(std::span<const float> values, int8_t* quantized);

// portable_tensor_utils.cc PortableAsymmetricQuantizeFloats: the range [min(0, lo), max(0,
// hi)] mapped onto [-128, 127] in double, the zero point nudged to the side with the smaller
// error and rounded; q = clamp(round(zp + x * (1.0f / float(scale))), -128, 127) in float,
// rounding half away from zero (the zero point is added before rounding).
struct AsymmetricQuantized {
    float scale = 1.0f;
    int32_t zero_point = 0;
};
AsymmetricQuantized asymmetricQuantizeFloats(std::span<const float> values, int8_t* quantized);

// XNNPACK's dynamic quantization (qd8) as its f32->qd8 convert computes the parameters
// (google/XNNPACK src/operator-run.c compute_f32_qd8_convert): float arithmetic, the zero
// point chosen from the float error terms, values rounded half to even.
AsymmetricQuantized xnnpackQuantizeFloats(std::span<const float> values, int8_t* quantized);

// How the runtime being reproduced quantizes a hybrid op's input.
enum class HybridInputMode : uint8_t {
    Symmetric,   // per batch, zero point 0 (FC default, per-tensor CONV_2D)
    Asymmetric,  // per batch with a zero point (per-channel CONV_2D, DEPTHWISE, FC option)
    Xnnpack,     // XNNPACK qd8: per row of the GEMM (FC: per batch; CONV_2D: per pixel)
};

// Hybrid BATCH_MATMUL (float lhs, constant int8 rhs), in hybrid_batch_matmul.cpp.
std::unique_ptr<Kernel> makeHybridBatchMatMul();

}  // namespace qs::engine::kernels
