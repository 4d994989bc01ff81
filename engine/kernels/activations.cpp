// Activations and one-input math: LOGISTIC, TANH, RELU, RELU6, RELU_N1_TO_1, RELU_0_TO_1,
// LEAKY_RELU, PRELU, HARD_SWISH, ELU, EXP, LOG, SQRT, RSQRT, ABS, NEG.
//
// 8-bit LOGISTIC / TANH differ between runtimes: TFLM's reference kernels
// (tensorflow/lite/kernels/internal/reference/integer_ops/{logistic,tanh}.h) evaluate gemmlowp's
// fixed-point logistic/tanh on a Q4.27 input, while TFLite's builtin activations.cc fills a
// 256-entry table with the float function (LUTPopulate, kernels/internal/common.h). The
// profile picks one; see the rule table.
#include "engine/kernels/ops_util.h"
#include "engine/profiles/fixed_point.h"

namespace qs::engine::kernels {

namespace {

using model::BuiltinOp;
using model::DType;

// ---- gemmlowp fixed-point logistic / tanh (fixedpoint/fixedpoint.h) -----------------------

// gemmlowp one_minus_x_over_one_plus_x_for_x_in_0_1: the same Newton-Raphson iteration as
// 1/(1+x), read as 2/(1+x) - 1.
fp::Fixed<0> oneMinusXOverOnePlusXForXIn01(fp::Fixed<0> a) {
    using F0 = fp::Fixed<0>;
    using F2 = fp::Fixed<2>;
    const F0 half_denominator = F0::fromRaw(fp::roundingHalfSum(a.raw, F0::one().raw));
    const F2 constant_48_over_17 = F2::fromRaw(1515870810);
    const F2 constant_neg_32_over_17 = F2::fromRaw(-1010580540);
    F2 x = constant_48_over_17 + half_denominator * constant_neg_32_over_17;
    for (int i = 0; i < 3; ++i) {
        const F2 half_denominator_times_x = half_denominator * x;
        const F2 one_minus = F2::one() - half_denominator_times_x;
        x = x + fp::rescale<2>(x * one_minus);
    }
    return fp::rescale<0>(x - F2::one());
}

// gemmlowp logistic(Q4.27) -> Q0.31: 1/(1+exp(-|a|)), mirrored for a < 0, exactly 1/2 at 0.
int32_t gemmlowpLogistic(int32_t a_raw) {
    using F4 = fp::Fixed<4>;
    if (a_raw == 0) return int32_t{1} << 30;
    const int32_t abs_raw = a_raw > 0 ? a_raw : -a_raw;
    const fp::Fixed<0> pos =
        fp::oneOverOnePlusXForXIn01(fp::expOnNegativeValues(F4::fromRaw(-abs_raw)));
    return a_raw > 0 ? pos.raw : (fp::Fixed<0>::one() - pos).raw;
}

// gemmlowp tanh(Q4.27) -> Q0.31: (1 - e^(-2|a|)) / (1 + e^(-2|a|)) with the sign of a; the
// doubling is ExactMulByPot<1> (same raw value read as Q5.26).
int32_t gemmlowpTanh(int32_t a_raw) {
    if (a_raw == 0) return 0;
    const int32_t n_raw = a_raw < 0 ? a_raw : -a_raw;
    const fp::Fixed<0> t =
        oneMinusXOverOnePlusXForXIn01(fp::expOnNegativeValues(fp::Fixed<5>::fromRaw(n_raw)));
    return a_raw < 0 ? -t.raw : t.raw;
}

// tensorflow/lite/kernels/internal/common.h CalculateInputRadius: the largest |input - zp|
// that does not saturate the fixed-point function.
int32_t calculateInputRadius(int input_integer_bits, int input_left_shift) {
    const double max_input_rescaled = 1.0 * ((1 << input_integer_bits) - 1) *
                                      std::ldexp(1.0, 31 - input_integer_bits) /
                                      std::ldexp(1.0, input_left_shift);
    return static_cast<int32_t>(std::floor(max_input_rescaled));
}

// ---- one-input kernels ---------------------------------------------------------------------

enum class Act {
    Logistic,
    Tanh,
    Relu,
    Relu6,
    ReluN1To1,
    Relu0To1,
    LeakyRelu,
    HardSwish,
    Elu,
    Exp,
    Log,
    Sqrt,
    Rsqrt,
    Abs,
    Neg,
};

float floatFn(Act k, float x, float alpha) {
    switch (k) {
        case Act::Logistic:
            return 1.0f / (1.0f + std::exp(-x));
        case Act::Tanh:
            return std::tanh(x);
        case Act::Relu:
            return std::max(0.0f, x);
        case Act::Relu6:
            return std::clamp(x, 0.0f, 6.0f);
        case Act::ReluN1To1:
            return std::clamp(x, -1.0f, 1.0f);
        case Act::Relu0To1:
            return std::clamp(x, 0.0f, 1.0f);
        case Act::LeakyRelu:
            return x > 0 ? x : x * alpha;
        case Act::HardSwish:
            return x * std::clamp(x + 3.0f, 0.0f, 6.0f) / 6.0f;
        case Act::Elu:
            return x < 0 ? std::expm1(x) : x;
        case Act::Exp:
            return std::exp(x);
        case Act::Log:
            return std::log(x);
        case Act::Sqrt:
            return std::sqrt(x);
        case Act::Rsqrt:
            return 1.0f / std::sqrt(x);
        case Act::Abs:
            return std::fabs(x);
        case Act::Neg:
            return -x;
    }
    return x;
}

bool isRelu(Act k) {
    return k == Act::Relu || k == Act::Relu6 || k == Act::ReluN1To1 || k == Act::Relu0To1;
}

// How a quantized input is mapped.
enum class QuantPath {
    None,        // float / integer math
    Lut,         // 256-entry table (8-bit)
    FixedPoint,  // TFLM reference LOGISTIC / TANH (int8)
    Requantize,  // RELU family and LEAKY_RELU: one or two multipliers, then clamp
    Raw,         // ABS / NEG on int8 with equal quantization: the stored value, saturated
};

// Field names follow TFLM's OpDataLogistic / OpDataTanh / ReluOpData / LeakyReluOpData.
struct ActivationParams {
    int32_t input_zero_point = 0, input_range_radius = 0, input_multiplier = 0;
    int input_left_shift = 0;
    int32_t output_offset = 0, output_zero_point = 0;
    int32_t output_multiplier_identity = 0, output_shift_identity = 0;
    int32_t output_multiplier_alpha = 0, output_shift_alpha = 0;
    int32_t quantized_activation_min = 0, quantized_activation_max = 0;
    RequantRule rule = RequantRule::DoubleRounding;
    float alpha = 0.0f;
};

template <Act K>
class ActivationKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* input = ctx.input(0);
        if (!input || ctx.numOutputs() < 1) return ctx.fail("needs an input");
        TensorInfo& output = ctx.output(0);
        m_type = input->dtype;
        if (output.dtype != m_type) return ctx.fail("output type differs from input type");
        output.shape = input->shape;
        auto& p = m_params;
        if constexpr (K == Act::LeakyRelu)
            if (const auto* o = ctx.options<model::LeakyReluOptions>()) p.alpha = o->alpha;
        if (m_type == DType::Float32) return {};
        if (m_type == DType::Int32 || m_type == DType::Int64) {
            if (K == Act::Abs || K == Act::Neg || isRelu(K)) return {};
            return ctx.fail(strFormat("type {} is not supported", model::dtypeName(m_type)));
        }
        if (!isQuantizedInt(m_type))
            return ctx.fail(strFormat("type {} is not supported", model::dtypeName(m_type)));
        if (!input->quant->isQuantized() || !output.quant->isQuantized())
            return ctx.fail("quantized input and output need scales");
        const float in_s = input->scale(), out_s = output.scale();
        const int32_t in_zp = input->zeroPoint(), out_zp = output.zeroPoint();
        const RoundingProfile profile = ctx.profile();
        p.rule = ctx.rule(m_type);
        p.input_zero_point = in_zp;
        p.output_zero_point = out_zp;

        if constexpr (isReluLike()) {
            // tensorflow/lite/kernels/activations.cc ReluPrepare / LeakyReluPrepare and
            // reference_ops::ReluX / QuantizeLeakyRelu: (q - zp_in) * s_in/s_out (and
            // alpha * s_in/s_out below zero for LEAKY_RELU), + zp_out, clamped.
            const auto id = quantizeMultiplierFor(profile, static_cast<double>(in_s) / out_s);
            p.output_multiplier_identity = id.multiplier;
            p.output_shift_identity = id.shift;
            if (K == Act::LeakyRelu) {
                const auto al =
                    quantizeMultiplierFor(profile, static_cast<double>(p.alpha) * in_s / out_s);
                p.output_multiplier_alpha = al.multiplier;
                p.output_shift_alpha = al.shift;
            }
            const auto lim = typeRange(m_type);
            auto q = [&](float f) { return out_zp + static_cast<int32_t>(std::round(f / out_s)); };
            p.quantized_activation_min = lim.min;
            p.quantized_activation_max = lim.max;
            if (K == Act::Relu || K == Act::Relu6 || K == Act::Relu0To1)
                p.quantized_activation_min = std::max(lim.min, q(0.0f));
            if (K == Act::ReluN1To1) p.quantized_activation_min = std::max(lim.min, q(-1.0f));
            if (K == Act::Relu6) p.quantized_activation_max = std::min(lim.max, q(6.0f));
            if (K == Act::ReluN1To1 || K == Act::Relu0To1)
                p.quantized_activation_max = std::min(lim.max, q(1.0f));
            m_path = QuantPath::Requantize;
            return {};
        }
        if (m_type == DType::Int16) return ctx.fail("int16 is not supported for this op yet");
        if constexpr (K == Act::Logistic || K == Act::Tanh) {
            const bool fixed =
                m_type == DType::Int8 && (profile == RoundingProfile::Reference ||
                                          profile == RoundingProfile::SingleRounding);
            if (fixed) {
                // tflite-micro logistic_common.cc / tanh.cc Prepare (int8): the input scale as
                // a Q4.27 multiplier from frexp (no QuantizeMultiplier adjustments).
                if (K == Act::Logistic && out_zp != -128)
                    return ctx.fail("int8 LOGISTIC needs output zero point -128");
                if (K == Act::Tanh && out_zp != 0)
                    return ctx.fail("int8 TANH needs output zero point 0");
                constexpr int kInputIntegerBits = 4;
                const double real =
                    static_cast<double>(in_s) * std::ldexp(1.0, 31 - kInputIntegerBits);
                const double q = std::frexp(real, &p.input_left_shift);
                p.input_multiplier =
                    static_cast<int32_t>(std::min(std::round(q * 2147483648.0), 2147483647.0));
                p.input_range_radius = calculateInputRadius(kInputIntegerBits, p.input_left_shift);
                m_path = QuantPath::FixedPoint;
                return {};
            }
            // TFLite builtin (activations.cc SigmoidPrepare / TanhPrepare: LUTPopulate with
            // the float function); XNNPACK's 8-bit sigmoid/tanh are table-driven as well.
            if (K == Act::Logistic && std::fabs(out_s - 1.0f / 256) > 1e-9f)
                return ctx.fail("8-bit LOGISTIC needs output scale 1/256");
        }
        if constexpr (K == Act::Abs || K == Act::Neg) {
            if (in_s == out_s && in_zp == out_zp && in_zp == 0) {
                m_path = QuantPath::Raw;
                return {};
            }
        }
        if constexpr (K == Act::HardSwish)
            return ctx.fail("quantized HARD_SWISH is not supported yet");
        // Everything else quantized: a float table, as TFLite builtin's LUT kernels
        // (activations.cc, exp.cc, elu.cc, elementwise.cc) fill it.
        const float alpha = p.alpha;
        auto f = [alpha](float x) { return floatFn(K, x, alpha); };
        if (m_type == DType::Int8)
            m_lut_s8 = populateLut8<int8_t>(in_s, in_zp, out_s, out_zp, f);
        else
            m_lut_u8 = populateLut8<uint8_t>(in_s, in_zp, out_s, out_zp, f);
        m_path = QuantPath::Lut;
        return {};
    }

    void eval(EvalContext& ctx) override {
        const TensorValue& a = ctx.input(0);
        TensorValue& o = ctx.output(0);
        const int64_t n = o.numElements();
        switch (m_type) {
            case DType::Float32: {
                const float* x = in<float>(a);
                float* y = out<float>(o);
                for (int64_t i = 0; i < n; ++i) y[i] = floatFn(K, x[i], m_params.alpha);
                break;
            }
            case DType::Int32:
                runInt<int32_t>(a, o, n);
                break;
            case DType::Int64:
                runInt<int64_t>(a, o, n);
                break;
            case DType::Int8:
                runQuantized<int8_t>(a, o, n);
                break;
            case DType::UInt8:
                runQuantized<uint8_t>(a, o, n);
                break;
            case DType::Int16:
                runQuantized<int16_t>(a, o, n);
                break;
            default:
                break;
        }
    }

private:
    static constexpr bool isReluLike() {
        return K == Act::Relu || K == Act::Relu6 || K == Act::ReluN1To1 || K == Act::Relu0To1 ||
               K == Act::LeakyRelu;
    }
    static QuantizedRange typeRange(DType t) {
        if (t == DType::Int8) return {-128, 127};
        if (t == DType::UInt8) return {0, 255};
        return {-32768, 32767};
    }

    template <class T>
    void runInt(const TensorValue& a, TensorValue& o, int64_t n) {
        const T* x = in<T>(a);
        T* y = out<T>(o);
        for (int64_t i = 0; i < n; ++i) {
            const T v = x[i];
            if constexpr (K == Act::Abs)
                y[i] = v < 0 ? static_cast<T>(-static_cast<std::make_unsigned_t<T>>(v)) : v;
            else if constexpr (K == Act::Neg)
                y[i] = static_cast<T>(-static_cast<std::make_unsigned_t<T>>(v));
            else {
                const T lo = K == Act::ReluN1To1 ? T(-1) : T(0);
                const T hi = K == Act::Relu6  ? T(6)
                             : K == Act::Relu ? std::numeric_limits<T>::max()
                                              : T(1);
                y[i] = std::clamp(v, lo, hi);
            }
        }
    }

    template <class T>
    void runQuantized(const TensorValue& a, TensorValue& o, int64_t n) {
        const T* x = in<T>(a);
        T* y = out<T>(o);
        const auto& p = m_params;
        switch (m_path) {
            case QuantPath::Lut:
                if constexpr (sizeof(T) == 1) {
                    if constexpr (std::is_same_v<T, int8_t>)
                        for (int64_t i = 0; i < n; ++i) y[i] = lookup8(m_lut_s8, x[i]);
                    else
                        for (int64_t i = 0; i < n; ++i) y[i] = lookup8(m_lut_u8, x[i]);
                }
                break;
            case QuantPath::Raw:
                for (int64_t i = 0; i < n; ++i) {
                    const int32_t v = K == Act::Abs ? std::abs(int32_t{x[i]}) : -int32_t{x[i]};
                    y[i] = static_cast<T>(std::clamp(v, qmin<T>(), qmax<T>()));
                }
                break;
            case QuantPath::FixedPoint:
                if constexpr (std::is_same_v<T, int8_t>) {
                    withRule(p.rule, [&](auto rule) {
                        constexpr RequantRule R = decltype(rule)::value;
                        for (int64_t i = 0; i < n; ++i) y[i] = fixedPoint8<R>(x[i]);
                    });
                }
                break;
            case QuantPath::Requantize:
                withRule(p.rule, [&](auto rule) {
                    constexpr RequantRule R = decltype(rule)::value;
                    for (int64_t i = 0; i < n; ++i) {
                        const int32_t v = int32_t{x[i]} - p.input_zero_point;
                        const bool neg = K == Act::LeakyRelu && v < 0;
                        const int32_t r =
                            p.output_zero_point +
                            requantize<R>(
                                v, neg ? p.output_multiplier_alpha : p.output_multiplier_identity,
                                neg ? p.output_shift_alpha : p.output_shift_identity);
                        y[i] = static_cast<T>(
                            std::clamp(r, p.quantized_activation_min, p.quantized_activation_max));
                    }
                });
                break;
            case QuantPath::None:
                break;
        }
    }

    // reference_integer_ops::Logistic / Tanh (int8): saturate outside the input radius, else
    // Q4.27 input via MultiplyByQuantizedMultiplier (the profile's rounding), gemmlowp
    // logistic/tanh, then RoundingDivideByPOT to 8 (logistic, zp -128) or 7 (tanh) fraction
    // bits.
    template <RequantRule R>
    int8_t fixedPoint8(int8_t q) const {
        const auto& p = m_params;
        const int32_t input = int32_t{q} - p.input_zero_point;
        if (input <= -p.input_range_radius) return -128;
        if (input >= p.input_range_radius) return 127;
        const int32_t in_q4 = requantize<R>(input, p.input_multiplier, p.input_left_shift);
        if constexpr (K == Act::Logistic) {
            const int32_t out_q0 = gemmlowpLogistic(in_q4);
            const int32_t r = rq::roundingDivideByPOT(out_q0, 31 - 8) - 128;
            return static_cast<int8_t>(std::clamp(r, -128, 127));
        } else {
            const int32_t out_q0 = gemmlowpTanh(in_q4);
            const int32_t r = rq::roundingDivideByPOT(out_q0, 31 - 7);
            return static_cast<int8_t>(std::clamp(r, -128, 127));
        }
    }

    ActivationParams m_params;
    DType m_type = DType::Float32;
    QuantPath m_path = QuantPath::None;
    std::array<int8_t, 256> m_lut_s8{};
    std::array<uint8_t, 256> m_lut_u8{};
};

// ---- PRELU ---------------------------------------------------------------------------------

// tensorflow/lite/kernels/activations.cc PreluPrepare / reference_ops::BroadcastPrelu4DSlow:
// x >= 0 -> x * s_in/s_out; x < 0 -> x * alpha * s_in*s_alpha/s_out (alpha broadcast).
class PreluKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* input = ctx.input(0);
        const TensorInfo* alpha = ctx.input(1);
        if (!input || !alpha || ctx.numOutputs() < 1) return ctx.fail("needs input and alpha");
        TensorInfo& output = ctx.output(0);
        m_type = input->dtype;
        if (alpha->dtype != m_type || output.dtype != m_type) return ctx.fail("types differ");
        auto bc = broadcastShapes<2>({&input->shape, &alpha->shape});
        if (!bc) return ctx.fail(bc.error().message);
        m_bc = std::move(*bc);
        output.shape = m_bc.out_shape;
        if (m_type == DType::Float32) return {};
        if (m_type != DType::Int8 && m_type != DType::UInt8)
            return ctx.fail(strFormat("type {} is not supported", model::dtypeName(m_type)));
        m_input_offset = -input->zeroPoint();
        m_alpha_offset = -alpha->zeroPoint();
        m_output_offset = output.zeroPoint();
        const auto q1 = quantizeMultiplierFor(ctx.profile(),
                                              static_cast<double>(input->scale()) / output.scale());
        const auto q2 = quantizeMultiplierFor(
            ctx.profile(), static_cast<double>(input->scale()) * alpha->scale() / output.scale());
        m_m1 = q1.multiplier, m_s1 = q1.shift, m_m2 = q2.multiplier, m_s2 = q2.shift;
        m_rule = ctx.rule(m_type);
        return {};
    }
    void eval(EvalContext& ctx) override {
        if (m_type == DType::Float32) {
            const float* x = in<float>(ctx.input(0));
            const float* a = in<float>(ctx.input(1));
            float* y = out<float>(ctx.output(0));
            forEachBroadcast(m_bc, [&](int64_t i, const std::array<int64_t, 2>& k) {
                const float v = x[k[0]];
                y[i] = v >= 0 ? v : v * a[k[1]];
            });
        } else if (m_type == DType::Int8) {
            run<int8_t>(ctx);
        } else {
            run<uint8_t>(ctx);
        }
    }

private:
    template <class T>
    void run(EvalContext& ctx) {
        const T* x = in<T>(ctx.input(0));
        const T* a = in<T>(ctx.input(1));
        T* y = out<T>(ctx.output(0));
        withRule(m_rule, [&](auto rule) {
            constexpr RequantRule R = decltype(rule)::value;
            forEachBroadcast(m_bc, [&](int64_t i, const std::array<int64_t, 2>& k) {
                const int32_t v = m_input_offset + x[k[0]];
                const int32_t r = v >= 0
                                      ? requantize<R>(v, m_m1, m_s1)
                                      : requantize<R>(v * (m_alpha_offset + a[k[1]]), m_m2, m_s2);
                y[i] = static_cast<T>(std::clamp(m_output_offset + r, qmin<T>(), qmax<T>()));
            });
        });
    }

    DType m_type = DType::Float32;
    BroadcastDesc<2> m_bc;
    int32_t m_input_offset = 0, m_alpha_offset = 0, m_output_offset = 0;
    int32_t m_m1 = 0, m_s1 = 0, m_m2 = 0, m_s2 = 0;
    RequantRule m_rule = RequantRule::DoubleRounding;
};

}  // namespace
}  // namespace qs::engine::kernels

namespace qs::engine {
void registerKernels_activations(KernelRegistry& r) {
    using namespace kernels;
    using model::BuiltinOp;
    r.add(BuiltinOp::LOGISTIC, &makeKernel<ActivationKernel<Act::Logistic>>);
    r.add(BuiltinOp::TANH, &makeKernel<ActivationKernel<Act::Tanh>>);
    r.add(BuiltinOp::RELU, &makeKernel<ActivationKernel<Act::Relu>>);
    r.add(BuiltinOp::RELU6, &makeKernel<ActivationKernel<Act::Relu6>>);
    r.add(BuiltinOp::RELU_N1_TO_1, &makeKernel<ActivationKernel<Act::ReluN1To1>>);
    r.add(BuiltinOp::RELU_0_TO_1, &makeKernel<ActivationKernel<Act::Relu0To1>>);
    r.add(BuiltinOp::LEAKY_RELU, &makeKernel<ActivationKernel<Act::LeakyRelu>>);
    r.add(BuiltinOp::HARD_SWISH, &makeKernel<ActivationKernel<Act::HardSwish>>);
    r.add(BuiltinOp::ELU, &makeKernel<ActivationKernel<Act::Elu>>);
    r.add(BuiltinOp::EXP, &makeKernel<ActivationKernel<Act::Exp>>);
    r.add(BuiltinOp::LOG, &makeKernel<ActivationKernel<Act::Log>>);
    r.add(BuiltinOp::SQRT, &makeKernel<ActivationKernel<Act::Sqrt>>);
    r.add(BuiltinOp::RSQRT, &makeKernel<ActivationKernel<Act::Rsqrt>>);
    r.add(BuiltinOp::ABS, &makeKernel<ActivationKernel<Act::Abs>>);
    r.add(BuiltinOp::NEG, &makeKernel<ActivationKernel<Act::Neg>>);
    r.add(BuiltinOp::PRELU, &makeKernel<PreluKernel>);
}
}  // namespace qs::engine
