// Integer requantization primitives of the runtimes Quantscope reproduces. Every function
// names the upstream source it follows; the implementations are our own.
//
// Conventions (TFLite's): a real multiplier M is stored as a Q0.31 `quantized_multiplier` in
// [2^30, 2^31) (or 0) and a power-of-two `shift`, M = quantized_multiplier * 2^(shift - 31);
// shift > 0 is a left shift, shift < 0 a right shift.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>
#include <type_traits>

namespace qs::engine {

// How a kernel turns an int32 accumulator into the output scale. Chosen per op and dtype in
// prepare (see profiles/rule_table.h) and passed to eval as data.
enum class RequantRule : uint8_t {
    // TFLite reference / TFLM default build: SaturatingRoundingDoublingHighMul (ties toward
    // +infinity) then RoundingDivideByPOT (ties away from zero).
    DoubleRounding,
    // TFLITE_SINGLE_ROUNDING: (x * m + 2^(30 - shift)) >> (31 - shift), round half up.
    SingleRounding,
    // ruy's x86 kernels (TFLite builtin int8/uint8 GEMM): high multiply rounded half up,
    // then a right shift rounded half up.
    RuyX86,
    // XNNPACK's "fp32" requantization of its conv / depthwise / fully-connected / GEMM
    // microkernels (src/qs8-gemm, src/qs8-dwconv, src/qu8-gemm ...: float(acc) * scale, rounded
    // to nearest even by the magic-bias add or cvtps2dq). The scale is a float computed as
    // input_scale * filter_scale / output_scale in float arithmetic
    // (src/operators/convolution-nhwc.c, fully-connected-nc.c). Its quantized_multiplier holds
    // the bits of that float (see xnnpackScale), shift is unused.
    Fp32,
    // XNNPACK's qs8/qu8 ADD (src/qs8-vadd, params from src/microparams-init.c
    // xnn_init_qs8_add_minmax_scalar_params): no per-op int32 requantization; the ADD kernel
    // computes its own sum with 21-bit multipliers (see kernels/add.cpp). Only ADD uses it.
    XnnpackAdd,
};
std::string_view requantRuleName(RequantRule r);  // "double-rounding", ...

namespace rq {

// gemmlowp fixedpoint.h SaturatingRoundingDoublingHighMul: a * b / 2^31 rounded to nearest.
// The nudge (+2^30, or 1 - 2^30 for a negative product) and the truncating division make
// ties round toward +infinity (1.5 -> 2, -1.5 -> -1). The single overflow case
// INT32_MIN * INT32_MIN saturates to INT32_MAX.
inline int32_t saturatingRoundingDoublingHighMul(int32_t a, int32_t b) {
    if (a == b && a == std::numeric_limits<int32_t>::min())
        return std::numeric_limits<int32_t>::max();
    const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
    const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : (1 - (int64_t{1} << 30));
    // Division (not shift) truncates toward zero, which with the nudge gives ties away from 0.
    return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
}

// gemmlowp fixedpoint.h RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away
// from zero. exponent in [0, 31].
inline int32_t roundingDivideByPOT(int32_t x, int exponent) {
    const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// gemmlowp SaturatingRoundingMultiplyByPOT<exponent> for a positive exponent: x * 2^exponent,
// saturated to the int32 range.
inline int32_t saturatingLeftShift(int32_t x, int exponent) {
    const int64_t r = static_cast<int64_t>(x) * (int64_t{1} << exponent);
    if (r > std::numeric_limits<int32_t>::max()) return std::numeric_limits<int32_t>::max();
    if (r < std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::min();
    return static_cast<int32_t>(r);
}

// tensorflow/lite/kernels/internal/common.cc MultiplyByQuantizedMultiplier (int32 x,
// default double-rounding build). TFLite computes `x * (1 << left_shift)` in int32 and relies
// on the converter never producing an overflow there; we wrap (two's complement) instead of
// invoking undefined behaviour, which matches what the compiled upstream code does on x86.
inline int32_t multiplyDoubleRounding(int32_t x, int32_t quantized_multiplier, int shift) {
    const int left_shift = shift > 0 ? shift : 0;
    const int right_shift = shift > 0 ? 0 : -shift;
    const auto shifted = static_cast<int32_t>(static_cast<uint32_t>(x) << left_shift);
    return roundingDivideByPOT(saturatingRoundingDoublingHighMul(shifted, quantized_multiplier),
                               right_shift);
}

// tensorflow/lite/kernels/internal/common.cc MultiplyByQuantizedMultiplier (int32 x) under
// TFLITE_SINGLE_ROUNDING (tflite-micro copy of the same file): one 64-bit product, add half,
// arithmetic shift right by 31 - shift. Ties round toward +infinity. shift in [-31, 30].
// Also ruy/apply_multiplier.cc (ruy's reference path) for shift in [-31, 7].
inline int32_t multiplySingleRounding(int32_t x, int32_t quantized_multiplier, int shift) {
    const int total_shift = 31 - shift;
    const int64_t round = int64_t{1} << (total_shift - 1);
    const int64_t result = (static_cast<int64_t>(x) * quantized_multiplier + round) >> total_shift;
    // Upstream only DCHECKs the int32 range; clamp so an out-of-range case is defined.
    if (result > std::numeric_limits<int32_t>::max()) return std::numeric_limits<int32_t>::max();
    if (result < std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::min();
    return static_cast<int32_t>(result);
}

// ruy's x86 int8 kernels (ruy/kernel_x86.h family, as TFLite builtin runs them): the left
// shift wraps in 32 bits (vpsllvd), the fixed-point multiply is a 64-bit product with +2^30
// and an arithmetic >> 31 (half up), then the exponent's right shift adds 2^(rs-1) and shifts
// (half up again). The first step equals SaturatingRoundingDoublingHighMul; the second differs
// from RoundingDivideByPOT on negative ties (-0.5 -> 0 instead of -1). Verified against the
// tflite_builtin golden data (mobilenet_v2_quantized, resnet8_cifar_int8 CONV_2D outputs).
inline int32_t multiplyRuyX86(int32_t x, int32_t quantized_multiplier, int shift) {
    const int left_shift = shift > 0 ? shift : 0;
    const int right_shift = shift > 0 ? 0 : -shift;
    const auto shifted = static_cast<int32_t>(static_cast<uint32_t>(x) << left_shift);
    const int64_t high =
        (static_cast<int64_t>(shifted) * quantized_multiplier + (int64_t{1} << 30)) >> 31;
    if (right_shift == 0) return static_cast<int32_t>(high);
    // 64-bit add, so x near INT32_MAX cannot overflow the rounding offset.
    return static_cast<int32_t>((high + (int64_t{1} << (right_shift - 1))) >> right_shift);
}

// XNNPACK fp32 requantization (e.g. src/qs8-gemm/gen/*-minmax-fp32-*.c,
// src/qs8-dwconv/gen/*-minmax-fp32-*.c, scalar reference src/qs8-requantization/
// requantization-fp32-scalar-*.c): the int32 accumulator converted to float (rounded to
// nearest even above 2^24), multiplied by the float scale (one float rounding), then rounded
// to the nearest integer, ties to even. The kernels clamp in float to
// [qmin - zp, qmax - zp] before rounding; callers clamp the int result to the same range, so
// clamping here to +-2^30 only keeps the conversion defined.
inline int32_t multiplyFp32(int32_t x, float scale) {
    float f = static_cast<float>(x) * scale;
    f = std::min(std::max(f, -0x1p30f), 0x1p30f);
    // Default FP environment: nearbyint rounds to nearest, ties to even.
    return static_cast<int32_t>(std::nearbyintf(f));
}

// tensorflow/lite/kernels/internal/common.cc MultiplyByQuantizedMultiplier(int64_t x, ...),
// used by the int16x8 kernels (int64 accumulators). Both builds first reduce the multiplier
// to 16 bits (rounded), then do one rounding shift by 15 - shift (half up). The two builds
// differ only in the int32 cast: the double-rounding build truncates the int64 result to
// int32, the single-rounding build only DCHECKs; both behave the same for in-range results.
inline int32_t multiply64(int64_t x, int32_t quantized_multiplier, int shift) {
    const int32_t reduced_multiplier =
        quantized_multiplier < 0x7FFF0000 ? ((quantized_multiplier + (1 << 15)) >> 16) : 0x7FFF;
    const int total_shift = 15 - shift;
    const int64_t result =
        (x * reduced_multiplier + (int64_t{1} << (total_shift - 1))) >> total_shift;
    return static_cast<int32_t>(result);
}

}  // namespace rq

// The rule applied to an int32 accumulator, selected at compile time inside hot loops.
template <RequantRule R>
inline int32_t requantize(int32_t x, int32_t quantized_multiplier, int shift) {
    if constexpr (R == RequantRule::DoubleRounding)
        return rq::multiplyDoubleRounding(x, quantized_multiplier, shift);
    else if constexpr (R == RequantRule::SingleRounding)
        return rq::multiplySingleRounding(x, quantized_multiplier, shift);
    else if constexpr (R == RequantRule::Fp32)
        return rq::multiplyFp32(x, std::bit_cast<float>(quantized_multiplier));
    else
        return rq::multiplyRuyX86(x, quantized_multiplier, shift);
}
// The same with the rule as run-time data (for code outside hot loops and for tests).
int32_t requantize(RequantRule rule, int32_t x, int32_t quantized_multiplier, int shift);

// Calls f(std::integral_constant<RequantRule, R>{}) for the run-time rule, so a kernel's
// inner loop is instantiated once per rule without a branch per element.
template <class F>
decltype(auto) withRule(RequantRule rule, F&& f) {
    switch (rule) {
        case RequantRule::SingleRounding:
            return f(std::integral_constant<RequantRule, RequantRule::SingleRounding>{});
        case RequantRule::RuyX86:
            return f(std::integral_constant<RequantRule, RequantRule::RuyX86>{});
        case RequantRule::Fp32:
            return f(std::integral_constant<RequantRule, RequantRule::Fp32>{});
        // XnnpackAdd is ADD's own arithmetic (kernels/add.cpp); as a per-value rule it has no
        // meaning, and ADD never dispatches it through here.
        case RequantRule::XnnpackAdd:
        case RequantRule::DoubleRounding:
        default:
            return f(std::integral_constant<RequantRule, RequantRule::DoubleRounding>{});
    }
}

// tensorflow/lite/kernels/internal/quantization_util.cc QuantizeMultiplier: frexp, then
// round(q * 2^31) half away from zero (TfLiteRound); a result of exactly 2^31 becomes 2^30
// with shift + 1; shifts below -31 flush to (0, 0). With `single_rounding` (the
// TFLITE_SINGLE_ROUNDING build) shifts above 30 saturate to (2^31 - 1, 30).
struct QuantizedMultiplier {
    int32_t multiplier = 0;
    int shift = 0;
};
QuantizedMultiplier quantizeMultiplier(double real_multiplier, bool single_rounding = false);

// The RequantRule::Fp32 "multiplier": XNNPACK's requantization scale
// input_scale * filter_scale / output_scale, each step rounded to float as C float arithmetic
// does (src/operators/convolution-nhwc.c, fully-connected-nc.c), stored as its bit pattern.
QuantizedMultiplier xnnpackScale(float input_scale, float filter_scale, float output_scale);

}  // namespace qs::engine
