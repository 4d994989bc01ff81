// LOG_SOFTMAX and L2_NORMALIZATION over the last dimension (float32, int8, uint8).
//
// LOG_SOFTMAX 8-bit differs between runtimes:
//  * reference / single-rounding follow TFLM (tensorflow/lite/micro/kernels/log_softmax.cc,
//    kernels/internal/reference/log_softmax.h LogSoftmaxQuantized; TFLite's
//    reference_integer_ops::LogSoftmax is the same): x - max rescaled to Q5.26 with a
//    multiplier from PreprocessLogSoftmaxScalingExp, gemmlowp exp, a Q12.19 sum, the
//    fixed-point log_x_for_x_greater_than_or_equal_to_1 (kernels/internal/common.h), then
//    RoundingDivideByPOT(diff - log_sum, 22) + (127 or 255). The two requantizations
//    (MultiplyByQuantizedMultiplier) follow the profile's rounding.
//  * builtin / xnnpack run TFLite's kLogSoftmax generic-optimized kernel
//    (tensorflow/lite/kernels/activations.cc LogSoftmaxPrepare<kGenericOptimized> ->
//    optimized_ops LogSoftmax): a 256-entry float table exp(-s_in * d), log of the float sum,
//    (s_in * x - (s_in * max + log_sum)) / s_out rounded with rint (ties to even) + zp.
//    XNNPACK takes no LOG_SOFTMAX, so LiteRT runs the same builtin kernel.
//  Output quantization is fixed by TFLite: scale 16/256, zero point 127 (int8) / 255 (uint8).
//
// L2_NORMALIZATION (tensorflow/lite/kernels/l2norm.cc): float x / max(sqrt(sum x^2), 1e-6);
// int8 reference_integer_ops::L2Normalization and uint8 reference_ops::L2Normalization:
// integer sum of squares, GetInvSqrtQuantizedMultiplierExp (Newton-Raphson in Q3.28,
// internal/common.h), then one requantization per element. TFLite builtin runs these same
// integer kernels (its uint8 optimized variant has identical arithmetic); only the int8
// requantization changes under the single-rounding build.
#include <bit>

#include "engine/kernels/ops_util.h"
#include "engine/profiles/fixed_point.h"

namespace qs::engine::kernels {

namespace {

using model::DType;

// ---- fixed-point helpers of tensorflow/lite/kernels/internal/common.h ----------------------

// SaturatingRoundingMultiplyByPOTParam for exponent >= 0: x * 2^exponent saturated.
int32_t satMulPOT(int32_t x, int exponent) {
    if (exponent == 0) return x;
    return rq::saturatingLeftShift(x, exponent);
}
int32_t satAdd(int32_t a, int32_t b) {
    return static_cast<int32_t>(std::clamp<int64_t>(int64_t{a} + b, INT32_MIN, INT32_MAX));
}
int32_t satSub(int32_t a, int32_t b) {
    return static_cast<int32_t>(std::clamp<int64_t>(int64_t{a} - b, INT32_MIN, INT32_MAX));
}
int clz32(int32_t x) {
    return std::countl_zero(static_cast<uint32_t>(x));  // 32 for 0, as TFLite's
}

// log_x_for_x_greater_than_or_equal_to_1_impl<OutputIntegerBits, InputIntegerBits>: a
// range reduction to r in [sqrt(1/2), 1) (two candidate shifts, keep the better), then a
// rational approximation around sqrt(sqrt(1/2)).
template <int Out, int In>
fp::Fixed<Out> logXGreaterEqual1(fp::Fixed<In> input) {
    using F0 = fp::Fixed<0>;
    constexpr int kAccumIntegerBits = Out + 1;
    using Acc = fp::Fixed<kAccumIntegerBits>;
    const F0 log_2 = F0::fromRaw(1488522236);
    const F0 sqrt_sqrt_half = F0::fromRaw(1805811301);
    const F0 sqrt_half = F0::fromRaw(1518500250);
    const F0 one_quarter = F0::fromRaw(536870912);
    const F0 alpha_n = F0::fromRaw(117049297);
    const F0 alpha_d = F0::fromRaw(127690142);
    const F0 alpha_i = F0::fromRaw(1057819769);
    const F0 alpha_f = F0::fromRaw(638450708);
    const Acc shifted_quarter = fp::rescale<kAccumIntegerBits>(one_quarter);

    const F0 z_a = F0::fromRaw(input.raw);
    const int z_a_headroom_plus_1 = clz32(z_a.raw);
    const F0 r_a_tmp = F0::fromRaw(satMulPOT(z_a.raw, z_a_headroom_plus_1 - 1));
    const int32_t r_a_raw = satMulPOT((r_a_tmp * sqrt_half).raw, 1);
    const Acc z_a_pow_2_adj = Acc::fromRaw(
        satAdd(satMulPOT(In - z_a_headroom_plus_1, 31 - kAccumIntegerBits), shifted_quarter.raw));
    const F0 z_b = z_a * sqrt_half;
    const int z_b_headroom = clz32(z_b.raw) - 1;
    const int32_t r_b_raw = satMulPOT(z_a.raw, z_b_headroom);
    const Acc z_b_pow_2_adj = Acc::fromRaw(
        satSub(satMulPOT(In - z_b_headroom, 31 - kAccumIntegerBits), shifted_quarter.raw));
    const F0 r = F0::fromRaw(std::min(r_a_raw, r_b_raw));
    const Acc z_pow_2_adj = Acc::fromRaw(std::max(z_a_pow_2_adj.raw, z_b_pow_2_adj.raw));

    const F0 p = F0::fromRaw(fp::roundingHalfSum(r.raw, sqrt_sqrt_half.raw));
    F0 q = r - sqrt_sqrt_half;
    q = q + q;
    const F0 common_sq = q * q;
    const F0 num = q * r + q * common_sq * alpha_n;
    const F0 denom_minus_one_0 = p * (alpha_i + q + alpha_d * common_sq) + alpha_f * q;
    const F0 recip_denom = fp::oneOverOnePlusXForXIn01(denom_minus_one_0);
    const Acc num_scaled = fp::rescale<kAccumIntegerBits>(num);
    return fp::rescale<Out>(z_pow_2_adj * log_2 + num_scaled * recip_denom);
}

}  // namespace

// Declared in ops_util.h (RSQRT uses it too).
void invSqrtMultiplier(int32_t input, int reverse_shift, int32_t& output_inv_sqrt,
                       int& output_shift) {
    if (input <= 1) {
        // TFLite treats 0 (all inputs at the zero point) like 1.
        output_inv_sqrt = std::numeric_limits<int32_t>::max();
        output_shift = 0;
        return;
    }
    output_shift = 11;
    while (input >= (1 << 29)) {
        input /= 4;
        ++output_shift;
    }
    const unsigned max_left_shift_bits = static_cast<unsigned>(clz32(input)) - 1;
    const unsigned left_shift_bit_pairs = max_left_shift_bits / 2 - 1;
    output_shift -= static_cast<int>(left_shift_bit_pairs);
    input <<= 2 * left_shift_bit_pairs;
    using F3 = fp::Fixed<3>;
    const F3 fixedpoint_input = F3::fromRaw(input >> 1);
    const F3 half_input =
        F3::fromRaw(fp::saturatingRoundingMultiplyByPOT<-1>(fixedpoint_input.raw));
    const F3 half_three = F3::fromRaw((1 << 28) + (1 << 27));
    F3 x = F3::one();
    for (int i = 0; i < 5; ++i) {
        const F3 x3 = fp::rescale<3>(x * x * x);
        x = fp::rescale<3>(half_three * x - half_input * x3);
    }
    x = x * fp::Fixed<0>::fromRaw(1518500250);  // sqrt(2) / 2
    output_inv_sqrt = x.raw;
    if (output_shift < 0) {
        output_inv_sqrt <<= -output_shift;
        output_shift = 0;
    }
    output_shift *= reverse_shift;
}

namespace {

// ---- LOG_SOFTMAX ---------------------------------------------------------------------------

// Field names follow tflite::SoftmaxParams.
struct LogSoftmaxParams {
    int32_t input_multiplier = 0, input_left_shift = 0;
    int32_t reverse_scaling_divisor = 0, reverse_scaling_right_shift = 0;
    int32_t diff_min = 0;
    RequantRule rule = RequantRule::DoubleRounding;
    std::array<float, 256> table{};  // builtin: exp(-s_in * (255 - i))
    float input_scale = 0, scale = 0;
    int32_t zero_point = 0;
};

class LogSoftmaxKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* input = ctx.input(0);
        if (!input || ctx.numOutputs() < 1 || input->rank() < 1)
            return ctx.fail("needs an input of rank >= 1");
        TensorInfo& output = ctx.output(0);
        m_type = input->dtype;
        if (output.dtype != m_type) return ctx.fail("output type differs from input type");
        output.shape = input->shape;
        m_depth = input->shape.back();
        m_outer = m_depth ? input->numElements() / m_depth : 0;
        if (m_type == DType::Float32) return {};
        if (m_type != DType::Int8 && m_type != DType::UInt8)
            return ctx.fail(strFormat("type {} is not supported", model::dtypeName(m_type)));
        const int32_t want_zp = m_type == DType::Int8 ? 127 : 255;
        if (!input->quant->isQuantized() || !output.quant->isQuantized() ||
            output.scale() != 16.0f / 256 || output.zeroPoint() != want_zp)
            return ctx.fail(
                strFormat("8-bit LOG_SOFTMAX needs output scale 16/256, zero point {}", want_zp));
        auto& p = m_params;
        const RoundingProfile profile = ctx.profile();
        m_lut = profile == RoundingProfile::Builtin || profile == RoundingProfile::Xnnpack;
        if (m_lut) {
            // optimized_ops PopulateSoftmaxLookupTable with beta 1.
            const float scale = -input->scale();
            for (int32_t val = 0; val <= 255; ++val)
                p.table[static_cast<size_t>(255 - val)] = std::exp(scale * static_cast<float>(val));
            p.input_scale = input->scale();
            p.scale = output.scale();
            p.zero_point = output.zeroPoint();
            return {};
        }
        // quantization_util.cc PreprocessLogSoftmaxScalingExp (beta 1, 5 integer bits):
        // PreprocessSoftmaxScaling caps the real multiplier below 2^31 (2^30 in the
        // single-rounding build), then the reverse divisor 2^(31 - shift) / multiplier.
        constexpr int kScaledDiffIntegerBits = 5;
        const bool single = profile == RoundingProfile::SingleRounding;
        const double max_real =
            single ? double(int64_t{1} << 30) - 1.0 : double(int64_t{1} << 31) - 1.0;
        const double real = std::min(static_cast<double>(input->scale()) *
                                         double(int64_t{1} << (31 - kScaledDiffIntegerBits)),
                                     max_real);
        const auto q = quantizeMultiplierFor(profile, real);
        if (q.shift < 0) return ctx.fail("input scale too small for the fixed-point LOG_SOFTMAX");
        p.input_multiplier = q.multiplier;
        p.input_left_shift = q.shift;
        const double reverse = std::ldexp(1.0, 31 - q.shift) / static_cast<double>(q.multiplier);
        const auto r = quantizeMultiplierFor(profile, reverse);
        if (r.shift > 0) return ctx.fail("reverse scaling divisor must be smaller than one");
        p.reverse_scaling_divisor = r.multiplier;
        p.reverse_scaling_right_shift = -r.shift;
        // CalculateInputRadius(5, left_shift).
        p.diff_min =
            -static_cast<int32_t>(std::floor(31.0 * std::ldexp(1.0, 31 - kScaledDiffIntegerBits) /
                                             std::ldexp(1.0, p.input_left_shift)));
        p.rule = ctx.rule(m_type);
        return {};
    }

    void eval(EvalContext& ctx) override {
        const TensorValue& x = ctx.input(0);
        TensorValue& y = ctx.output(0);
        if (m_type == DType::Float32) return runFloat(in<float>(x), out<float>(y));
        if (m_type == DType::Int8) {
            if (m_lut) return runLut(in<int8_t>(x), out<int8_t>(y));
            withRule(m_params.rule, [&](auto rule) {
                runFixed<decltype(rule)::value>(in<int8_t>(x), out<int8_t>(y));
            });
            return;
        }
        if (m_lut) return runLut(in<uint8_t>(x), out<uint8_t>(y));
        withRule(m_params.rule, [&](auto rule) {
            runFixed<decltype(rule)::value>(in<uint8_t>(x), out<uint8_t>(y));
        });
    }

private:
    // reference_ops::LogSoftmax (float): x - max - log(sum(exp(x - max))).
    void runFloat(const float* x, float* y) const {
        for (int64_t i = 0; i < m_outer; ++i, x += m_depth, y += m_depth) {
            float max = std::numeric_limits<float>::lowest();
            for (int32_t c = 0; c < m_depth; ++c) max = std::max(max, x[c]);
            float sum = 0.0f;
            for (int32_t c = 0; c < m_depth; ++c) sum += std::exp(x[c] - max);
            const float log_sum = std::log(sum);
            for (int32_t c = 0; c < m_depth; ++c) y[c] = x[c] - max - log_sum;
        }
    }

    // LogSoftmaxQuantized (TFLM) / reference_integer_ops::LogSoftmax.
    template <RequantRule R, class T>
    void runFixed(const T* x, T* y) const {
        using F5 = fp::Fixed<5>;
        using F12 = fp::Fixed<12>;
        const auto& p = m_params;
        constexpr int32_t kMin = std::numeric_limits<T>::min(),
                          kMax = std::numeric_limits<T>::max();
        for (int64_t i = 0; i < m_outer; ++i, x += m_depth, y += m_depth) {
            int32_t max_in_row = kMin;
            for (int32_t c = 0; c < m_depth; ++c) max_in_row = std::max<int32_t>(max_in_row, x[c]);
            // Each term is < 1 in Q12.19, so 2^12 terms cannot overflow the sum.
            F12 sum = F12::zero();
            for (int32_t c = 0; c < m_depth; ++c) {
                const int32_t diff = int32_t{x[c]} - max_in_row;
                if (diff >= p.diff_min) {
                    const int32_t diff_q5 =
                        requantize<R>(diff, p.input_multiplier, p.input_left_shift);
                    sum = sum + fp::rescale<12>(fp::expOnNegativeValues(F5::fromRaw(diff_q5)));
                }
            }
            const int32_t log_sum_q5 = logXGreaterEqual1<5>(sum).raw;
            // log_sum >= 0, so adding INT32_MIN cannot overflow.
            const int32_t shifted = log_sum_q5 + std::numeric_limits<int32_t>::min();
            const int32_t adjusted_diff_min = std::max(
                p.diff_min - 1,
                requantize<R>(shifted, p.reverse_scaling_divisor, -p.reverse_scaling_right_shift));
            for (int32_t c = 0; c < m_depth; ++c) {
                const int32_t diff = int32_t{x[c]} - max_in_row;
                if (diff > adjusted_diff_min) {
                    const int32_t diff_q5 =
                        requantize<R>(diff, p.input_multiplier, p.input_left_shift);
                    const int32_t v =
                        rq::roundingDivideByPOT(diff_q5 - log_sum_q5, 31 - 5 - 4) + kMax;
                    y[c] = static_cast<T>(std::clamp(v, kMin, kMax));
                } else {
                    y[c] = static_cast<T>(kMin);
                }
            }
        }
    }

    // optimized_ops::LogSoftmax (quantized, table).
    template <class T>
    void runLut(const T* x, T* y) const {
        const auto& p = m_params;
        constexpr int32_t kMin = std::numeric_limits<T>::min(),
                          kMax = std::numeric_limits<T>::max();
        for (int64_t i = 0; i < m_outer; ++i, x += m_depth, y += m_depth) {
            int32_t max_val = kMin;
            for (int32_t c = 0; c < m_depth; ++c) max_val = std::max<int32_t>(max_val, x[c]);
            // table[255 - max + x] = exp(-s_in * (max - x)); the index is in [0, 255].
            const float* table_offset = p.table.data() + (255 - max_val);
            float sum_exp = 0.0f;
            for (int32_t c = 0; c < m_depth; ++c) sum_exp += table_offset[x[c]];
            const float log_sum_exp = std::log(sum_exp);
            const float scale = p.input_scale / p.scale;
            const float precomputed =
                (p.input_scale * static_cast<float>(max_val) + log_sum_exp) / p.scale;
            for (int32_t c = 0; c < m_depth; ++c) {
                const float log_prob = scale * static_cast<float>(x[c]) - precomputed;
                const auto q =
                    static_cast<int32_t>(std::rint(log_prob) + static_cast<float>(p.zero_point));
                y[c] = static_cast<T>(std::clamp(q, kMin, kMax));
            }
        }
    }

    LogSoftmaxParams m_params;
    DType m_type = DType::Float32;
    int32_t m_depth = 0;
    int64_t m_outer = 0;
    bool m_lut = false;
};

// ---- L2_NORMALIZATION ----------------------------------------------------------------------

class L2NormKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* input = ctx.input(0);
        if (!input || ctx.numOutputs() < 1 || input->rank() < 1)
            return ctx.fail("needs an input of rank >= 1");
        TensorInfo& output = ctx.output(0);
        m_type = input->dtype;
        if (output.dtype != m_type) return ctx.fail("output type differs from input type");
        if (const auto* o = ctx.options<model::ActivationOptions>();
            o && o->fused_activation_function != model::Activation::None)
            return ctx.fail("fused activations are not supported (as in TFLite)");
        output.shape = input->shape;
        m_depth = input->shape.back();
        m_outer = m_depth ? input->numElements() / m_depth : 0;
        if (m_type == DType::Float32) return {};
        if (m_type != DType::Int8 && m_type != DType::UInt8)
            return ctx.fail(strFormat("type {} is not supported", model::dtypeName(m_type)));
        const int32_t want_zp = m_type == DType::Int8 ? 0 : 128;
        if (!input->quant->isQuantized() || !output.quant->isQuantized() ||
            output.scale() != 1.0f / 128 || output.zeroPoint() != want_zp)
            return ctx.fail(
                strFormat("8-bit L2_NORMALIZATION needs output scale 1/128, zero "
                          "point {}",
                          want_zp));
        m_input_zero_point = input->zeroPoint();
        m_rule = ctx.rule(m_type);
        return {};
    }

    void eval(EvalContext& ctx) override {
        const TensorValue& x = ctx.input(0);
        TensorValue& y = ctx.output(0);
        if (m_type == DType::Float32) return runFloat(in<float>(x), out<float>(y));
        if (m_type == DType::UInt8) return runUint8(in<uint8_t>(x), out<uint8_t>(y));
        withRule(m_rule,
                 [&](auto rule) { runInt8<decltype(rule)::value>(in<int8_t>(x), out<int8_t>(y)); });
    }

private:
    // reference_ops::L2Normalization (float) with l2norm.cc's epsilon 1e-6.
    void runFloat(const float* x, float* y) const {
        for (int64_t i = 0; i < m_outer; ++i, x += m_depth, y += m_depth) {
            float squared = 0.0f;
            for (int32_t c = 0; c < m_depth; ++c) squared += x[c] * x[c];
            const float l2_norm = std::max(std::sqrt(squared), 1e-6f);
            for (int32_t c = 0; c < m_depth; ++c) y[c] = x[c] / l2_norm;
        }
    }

    // reference_integer_ops::L2Normalization: (x - zp)^2 <= 2^16, so the int32 sum is safe
    // for 2^15 elements per row.
    template <RequantRule R>
    void runInt8(const int8_t* x, int8_t* y) const {
        for (int64_t i = 0; i < m_outer; ++i, x += m_depth, y += m_depth) {
            int32_t acc = 0;
            for (int32_t c = 0; c < m_depth; ++c) {
                const int32_t v = int32_t{x[c]} - m_input_zero_point;
                acc += v * v;
            }
            int32_t m = 0;
            int shift = 0;
            invSqrtMultiplier(acc, -1, m, shift);
            for (int32_t c = 0; c < m_depth; ++c) {
                const int32_t v = int32_t{x[c]} - m_input_zero_point;
                const int32_t r = requantize<R>(v, m, shift + 7);  // output scale 1/128
                y[c] = static_cast<int8_t>(std::clamp(r, -128, 127));
            }
        }
    }

    // reference_ops::L2Normalization (uint8): MultiplyByQuantizedMultiplierSmallerThanOneExp
    // (always gemmlowp double rounding) of 128 * (x - zp), plus 128.
    void runUint8(const uint8_t* x, uint8_t* y) const {
        for (int64_t i = 0; i < m_outer; ++i, x += m_depth, y += m_depth) {
            int32_t acc = 0;
            for (int32_t c = 0; c < m_depth; ++c) {
                const int32_t v = int32_t{x[c]} - m_input_zero_point;
                acc += v * v;
            }
            int32_t m = 0;
            int shift = 0;
            invSqrtMultiplier(acc, -1, m, shift);
            for (int32_t c = 0; c < m_depth; ++c) {
                const int32_t v = int32_t{x[c]} - m_input_zero_point;
                const int32_t r = rq::roundingDivideByPOT(
                    rq::saturatingRoundingDoublingHighMul(128 * v, m), -shift);
                y[c] = static_cast<uint8_t>(std::clamp(128 + r, 0, 255));
            }
        }
    }

    DType m_type = DType::Float32;
    int32_t m_depth = 0;
    int64_t m_outer = 0;
    int32_t m_input_zero_point = 0;
    RequantRule m_rule = RequantRule::DoubleRounding;
};

}  // namespace
}  // namespace qs::engine::kernels

namespace qs::engine {
void registerKernels_normalization(KernelRegistry& r) {
    r.add(model::BuiltinOp::LOG_SOFTMAX, &makeKernel<kernels::LogSoftmaxKernel>);
    r.add(model::BuiltinOp::L2_NORMALIZATION, &makeKernel<kernels::L2NormKernel>);
}
}  // namespace qs::engine
