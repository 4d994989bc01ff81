// Activations and one-input math: LOGISTIC, TANH, RELU, RELU6, RELU_N1_TO_1, RELU_0_TO_1,
// LEAKY_RELU, PRELU, HARD_SWISH, ELU, EXP, LOG, SQRT, RSQRT, ABS, NEG.
//
// 8-bit LOGISTIC / TANH differ between runtimes: TFLM's reference kernels
// (tensorflow/lite/kernels/internal/reference/integer_ops/{logistic,tanh}.h) evaluate gemmlowp's
// fixed-point logistic/tanh on a Q4.27 input, while TFLite's builtin activations.cc fills a
// 256-entry table with the float function (LUTPopulate, kernels/internal/common.h). The
// profile picks one; see the rule table.
//
// int16 LOGISTIC / TANH (zero points 0, output scale 2^-15): TFLM and, for a non-power-of-two
// input scale, TFLite builtin interpolate the 256-entry sigmoid table of
// reference/integer_ops/{logistic,tanh}.h; TFLite builtin with a power-of-two input scale
// runs gemmlowp's int16 fixed-point logistic / tanh. int16 RSQRT / LOG use elementwise.cc's
// interpolated 513-entry table (LUTPopulateInt16). Quantized HARD_SWISH (int8/uint8) is
// reference_ops::HardSwish's 16-bit fixed point in every runtime (reference/hard_swish.h;
// optimized_ops::HardSwish runs the same scalar code off ARM). int8 ABS / RSQRT / SQRT / LOG
// follow tensorflow/lite/kernels/elementwise.cc (integer requantization for ABS and RSQRT, a
// truncating float formula for SQRT, a float table for LOG).
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

// ---- 16-bit fixed point of reference_ops::HardSwish (reference/hard_swish.h) ---------------

// gemmlowp fixedpoint.h SaturatingRoundingDoublingHighMul<int16_t>: a * b / 2^15, nudged by
// +2^14 (1 - 2^14 below zero) and truncated, so ties round away from zero; the lone overflow
// -32768 * -32768 saturates.
int16_t srdhm16(int16_t a, int16_t b) {
    if (a == b && a == std::numeric_limits<int16_t>::min())
        return std::numeric_limits<int16_t>::max();
    const int32_t ab = int32_t{a} * int32_t{b};
    const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
    return static_cast<int16_t>((ab + nudge) / (1 << 15));
}

// gemmlowp RoundingDivideByPOT<int16_t>: the mask is (1 << exponent) - 1 narrowed to int16
// (so exponents >= 16 give -1 as upstream's Dup<int16_t> does) and every Add narrows.
int16_t rdbpot16(int16_t x, int exponent) {
    exponent = std::min(exponent, 62);
    const auto mask = static_cast<int16_t>((int64_t{1} << exponent) - 1);
    const auto remainder = static_cast<int16_t>(x & mask);
    const auto threshold = static_cast<int16_t>((mask >> 1) + (x < 0 ? 1 : 0));
    return static_cast<int16_t>((x >> std::min(exponent, 31)) + (remainder > threshold ? 1 : 0));
}

// reference_ops::SaturatingLeftShift (hard_swish.h): value * 2^amount clamped to int16.
int16_t saturatingLeftShift16(int16_t value, int amount) {
    const int64_t r = int64_t{value} * (int64_t{1} << std::min(amount, 62));
    return static_cast<int16_t>(std::clamp<int64_t>(r, -32768, 32767));
}

// reference_ops::SaturatingDoublingHighMul (hard_swish.h): like srdhm16 but truncating toward
// zero (ARM SQDMULH), which upstream chose to cancel the bias of the rounding multiplies.
int16_t saturatingDoublingHighMul16(int16_t a, int16_t b) {
    if (a == b && a == std::numeric_limits<int16_t>::min())
        return std::numeric_limits<int16_t>::max();
    return static_cast<int16_t>((int32_t{a} * int32_t{b}) / (1 << 15));
}

// tensorflow/lite/kernels/activations.cc DownScaleInt32ToInt16Multiplier: round to the top
// 16 bits, saturating at 32767.
int16_t downScaleInt32ToInt16Multiplier(int32_t multiplier) {
    constexpr int32_t kRoundingOffset = 1 << 15;
    if (multiplier >= std::numeric_limits<int32_t>::max() - kRoundingOffset) return 32767;
    return static_cast<int16_t>((multiplier + kRoundingOffset) >> 16);
}

// ---- int16 sigmoid table of reference/integer_ops/{logistic,tanh}.h ------------------------

// sigmoid(i / 24) in unsigned Q0.16 for i = 0..255, the table TFLite keeps in
// tensorflow/lite/kernels/internal/common.h (sigmoid_table_uint16; also in CMSIS-NN
// arm_nntables.c). The values are data: rounding sigmoid(i / 24) * 65536 reproduces only 212
// of them, so they are kept as published.
// clang-format off
constexpr std::array<uint16_t, 256> kSigmoidTableUint16 = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064, 42688,
    43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409,
    51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110,
    61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186,
    63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
    64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208,
    65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449,
    65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
    65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
    65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535};
// clang-format on

// reference_integer_ops::Logistic (int16): the input is brought to 1/(3 * 4096) per step
// (x * multiplier + round) >> shift; |x| / 2^9 indexes the table (sigmoid(i / 24) spacing),
// the low 9 bits interpolate linearly, and the result is mirrored for negative inputs.
// Intermediates stay below 2^26 in uint32.
int16_t sigmoidTable16(int16_t q, int32_t input_multiplier, int input_left_shift) {
    const int32_t round = input_left_shift > 0 ? 1 << (input_left_shift - 1) : 0;
    const int32_t x = (int32_t{q} * input_multiplier + round) >> input_left_shift;
    const auto abs_x = static_cast<uint32_t>(std::abs(x));
    const uint32_t uh = abs_x >> 9;
    uint32_t result;
    if (uh >= 255) {
        result = 0x7FFFu << 10;
    } else {
        const uint32_t ua = kSigmoidTableUint16[uh], ub = kSigmoidTableUint16[uh + 1];
        result = (ua << 9) + (abs_x & 0x1FFu) * (ub - ua);
    }
    result = x >= 0 ? result + (1u << 9) : (1u << 25) - result + (1u << 9) - 1;
    return static_cast<int16_t>(result >> 10);
}

// reference_integer_ops::Tanh (int16): tanh(x) = 2 sigmoid(2x) - 1 on the same table; the
// doubling is the index shift of 8 instead of 9.
int16_t tanhTable16(int16_t q, int32_t input_multiplier, int input_left_shift) {
    const int32_t round = input_left_shift > 0 ? 1 << (input_left_shift - 1) : 0;
    const int32_t x = (int32_t{q} * input_multiplier + round) >> input_left_shift;
    const auto abs_x = static_cast<uint32_t>(std::abs(x));
    const uint32_t uh = abs_x >> 8;
    int32_t result;
    if (uh >= 255) {
        result = 0xFFFF << 8;
    } else {
        const uint32_t ua = kSigmoidTableUint16[uh], ub = kSigmoidTableUint16[uh + 1];
        result = static_cast<int32_t>((ua << 8) + (abs_x & 0xFFu) * (ub - ua));
    }
    result = x >= 0 ? result - (1 << 23) + (1 << 7) : -result + (1 << 23) + (1 << 7) - 1;
    return static_cast<int16_t>(result >> 8);  // arithmetic shift of a value in int16 range
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
    Raw,         // NEG on 8-bit with equal quantization, zero point 0: the stored value, saturated
    HardSwish,   // reference_ops::HardSwish 16-bit fixed point (8-bit)
    Table16,     // int16 LOGISTIC / TANH: interpolated sigmoid table
    Gemmlowp16,  // int16 LOGISTIC / TANH, TFLite builtin, power-of-two input scale
    Lut16,       // int16 RSQRT / LOG: elementwise.cc's 513-entry interpolated table
    AbsRescale,  // elementwise.cc AbsEvalQuantized
    RsqrtInt,    // elementwise.cc RsqrtEvalQuantizedInt8
    SqrtFloat,   // elementwise.cc SqrtEvalQuantized
};

// Field names follow TFLM's OpDataLogistic / OpDataTanh / ReluOpData / LeakyReluOpData,
// TFLite's HardSwishParams and elementwise.cc's OpData (multiplier, shift, needs_rescale).
struct ActivationParams {
    int32_t input_zero_point = 0, input_range_radius = 0, input_multiplier = 0;
    int input_left_shift = 0;
    int16_t reluish_multiplier_fixedpoint_int16 = 0, output_multiplier_fixedpoint_int16 = 0;
    int reluish_multiplier_exponent = 0, output_multiplier_exponent = 0;
    int32_t multiplier = 0, shift = 0;
    bool needs_rescale = false;
    float input_scale = 1.0f, output_scale = 1.0f;
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
        if constexpr (K == Act::Logistic || K == Act::Tanh) {
            if (m_type == DType::Int16) return prepareTable16(ctx, in_s, out_s, in_zp, out_zp);
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
        if constexpr (K == Act::HardSwish) {
            if (m_type == DType::Int16)
                return ctx.fail("int16 HARD_SWISH is not supported (TFLite has no int16 kernel)");
            return prepareHardSwish(ctx, in_s, out_s);
        }
        if constexpr (K == Act::Abs) {
            // elementwise.cc GenericPrepare + AbsEvalQuantized (TFLM's elementwise.cc is the
            // same): |q - zp_in|, rescaled only when the scales differ, + zp_out, clamped.
            // TFLite has no uint8 ABS; the int8 rule is applied to it.
            if (m_type == DType::Int16 && (in_zp != 0 || out_zp != 0))
                return ctx.fail("int16 ABS needs zero points 0");
            p.needs_rescale = in_s != out_s;
            if (p.needs_rescale) {
                const auto q = quantizeMultiplierFor(profile, static_cast<double>(in_s / out_s));
                p.multiplier = q.multiplier;
                p.shift = q.shift;
            }
            m_path = QuantPath::AbsRescale;
            return {};
        }
        if constexpr (K == Act::Sqrt) {
            // elementwise.cc SqrtEvalQuantized (int8 and int16): float sqrt of the dequantized
            // value, divided by the output scale and truncated (not rounded), + zp_out.
            p.input_scale = in_s;
            p.output_scale = out_s;
            m_path = QuantPath::SqrtFloat;
            return {};
        }
        if constexpr (K == Act::Rsqrt || K == Act::Log) {
            if (m_type == DType::Int16) {
                // elementwise.cc GenericPrepare (int16: zero points 0) with RSQRT's LUT
                // (x <= 0 -> 32767 * s_out, else 1 / sqrt(x)) or LogLUTPrepare
                // (x <= 0 -> (-32768 - zp_out) * s_out, else log(x)).
                if (in_zp != 0 || out_zp != 0)
                    return ctx.fail("int16 input and output need zero point 0");
                std::function<float(float)> f;
                if (K == Act::Rsqrt) {
                    f = [out_s](float x) {
                        return x <= 0.0f ? 32767 * out_s : 1.0f / std::sqrt(x);
                    };
                } else {
                    const float output_min = static_cast<float>(-32768 - out_zp) * out_s;
                    f = [output_min](float x) { return x <= 0.0f ? output_min : std::log(x); };
                }
                m_lut16 = populateLut16(in_s, in_zp, out_s, out_zp, f);
                m_path = QuantPath::Lut16;
                return {};
            }
        }
        if (m_type == DType::Int16) return ctx.fail("int16 is not supported for this op yet");
        if constexpr (K == Act::Rsqrt) {
            // elementwise.cc SetRsqrtOutputMultiplier: 1 / (sqrt(s_in) * s_out), the product
            // in float (std::sqrt of a float), the division in double.
            const float denominator = std::sqrt(in_s) * out_s;
            const auto q = quantizeMultiplierFor(profile, 1.0 / static_cast<double>(denominator));
            p.multiplier = q.multiplier;
            p.shift = q.shift;
            m_path = QuantPath::RsqrtInt;
            return {};
        }
        if constexpr (K == Act::Neg) {
            // TFLite's and TFLM's NEG have no quantized kernel; with zero point 0 and equal
            // scales the stored value is negated (saturating), otherwise a float table.
            if (in_s == out_s && in_zp == out_zp && in_zp == 0) {
                m_path = QuantPath::Raw;
                return {};
            }
        }
        if constexpr (K == Act::Log) {
            // elementwise.cc LogLUTPrepare: log(x) for x > 0, else the lowest representable
            // output value ((min(T) - zp_out) * s_out, computed in float).
            const float output_min =
                static_cast<float>((m_type == DType::Int8 ? -128 : 0) - out_zp) * out_s;
            auto f = [output_min](float x) { return x <= 0.0f ? output_min : std::log(x); };
            if (m_type == DType::Int8)
                m_lut_s8 = populateLut8<int8_t>(in_s, in_zp, out_s, out_zp, f);
            else
                m_lut_u8 = populateLut8<uint8_t>(in_s, in_zp, out_s, out_zp, f);
            m_path = QuantPath::Lut;
            return {};
        }
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
                runQuantized<int8_t>(ctx, a, o, n);
                break;
            case DType::UInt8:
                runQuantized<uint8_t>(ctx, a, o, n);
                break;
            case DType::Int16:
                runQuantized<int16_t>(ctx, a, o, n);
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
    void runQuantized(EvalContext& ctx, const TensorValue& a, TensorValue& o, int64_t n) {
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
            case QuantPath::HardSwish:
                if constexpr (sizeof(T) == 1)
                    for (int64_t i = 0; i < n; ++i) y[i] = hardSwish8<T>(x[i]);
                break;
            case QuantPath::Table16:
                if constexpr (std::is_same_v<T, int16_t>) {
                    for (int64_t i = 0; i < n; ++i)
                        y[i] = K == Act::Logistic
                                   ? sigmoidTable16(x[i], p.input_multiplier, p.input_left_shift)
                                   : tanhTable16(x[i], p.input_multiplier, p.input_left_shift);
                }
                break;
            case QuantPath::Gemmlowp16:
                // optimized_ops::Logistic / Tanh (int16) on FixedPoint<int16_t, 3>; TANH at
                // input scale 2^-11 first doubles the input (SaturatingRoundingMultiplyByPOT<1>,
                // saturating). Upstream's NEON/SSE loops use gemmlowp's SIMD fixed point, which
                // gives the scalar bits.
                if constexpr (std::is_same_v<T, int16_t>) {
                    for (int64_t i = 0; i < n; ++i) {
                        if constexpr (K == Act::Logistic) {
                            y[i] = gemmlowpLogistic16(x[i], 3);
                        } else {
                            const int16_t v = p.input_left_shift == 0
                                                  ? x[i]
                                                  : static_cast<int16_t>(std::clamp(
                                                        2 * int32_t{x[i]}, -32768, 32767));
                            y[i] = gemmlowpTanh16(v, 3);
                        }
                    }
                }
                break;
            case QuantPath::Lut16:
                if constexpr (std::is_same_v<T, int16_t>) {
                    // RsqrtEvalQuantizedInt16 checks every input (against zp 0) first.
                    if (K == Act::Rsqrt)
                        for (int64_t i = 0; i < n; ++i)
                            if (x[i] < 0)
                                return ctx.fail("RSQRT is only defined for positive values");
                    for (int64_t i = 0; i < n; ++i) y[i] = lookup16(m_lut16, x[i]);
                }
                break;
            case QuantPath::AbsRescale:
                withRule(p.rule, [&](auto rule) {
                    constexpr RequantRule R = decltype(rule)::value;
                    for (int64_t i = 0; i < n; ++i) {
                        const int32_t v = std::abs(int32_t{x[i]} - p.input_zero_point);
                        const int32_t r =
                            (p.needs_rescale ? requantize<R>(v, p.multiplier, p.shift) : v) +
                            p.output_zero_point;
                        y[i] = static_cast<T>(std::clamp(r, qmin<T>(), qmax<T>()));
                    }
                });
                break;
            case QuantPath::RsqrtInt:
                // elementwise.cc RsqrtEvalQuantizedInt8: every input is checked first, so one
                // negative value fails the whole op.
                for (int64_t i = 0; i < n; ++i)
                    if (int32_t{x[i]} < p.input_zero_point)
                        return ctx.fail("RSQRT is only defined for positive values");
                withRule(p.rule, [&](auto rule) {
                    constexpr RequantRule R = decltype(rule)::value;
                    for (int64_t i = 0; i < n; ++i) y[i] = rsqrt8<R, T>(x[i]);
                });
                break;
            case QuantPath::SqrtFloat:
                for (int64_t i = 0; i < n; ++i) {
                    const float dequantized =
                        p.input_scale * static_cast<float>(int32_t{x[i]} - p.input_zero_point);
                    if (dequantized < 0.0f)
                        return ctx.fail("SQRT is only defined for non-negative values");
                    const int32_t r =
                        static_cast<int32_t>(std::sqrt(dequantized) / p.output_scale) +
                        p.output_zero_point;
                    y[i] = static_cast<T>(std::clamp(r, qmin<T>(), qmax<T>()));
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

    // tensorflow/lite/kernels/activations.cc HardSwishPrepare (TFLM hard_swish.cc computes the
    // same values): the input on a "hires" scale s_in / 128, an output multiplier
    // hires / s_out (exponent <= 0) and a "reluish" multiplier hires / (3 / 32768), both
    // QuantizeMultiplier'd and rounded to 16 bits.
    Result<void> prepareHardSwish(PrepareContext& ctx, float in_s, float out_s) {
        auto& p = m_params;
        const float hires_input_scale = (1.0f / 128.0f) * in_s;
        const float reluish_scale = 3.0f / 32768.0f;
        const float output_multiplier = hires_input_scale / out_s;
        const auto qo = quantizeMultiplierFor(ctx.profile(), output_multiplier);
        p.output_multiplier_fixedpoint_int16 = downScaleInt32ToInt16Multiplier(qo.multiplier);
        p.output_multiplier_exponent = qo.shift;
        if (p.output_multiplier_exponent > 0)
            return ctx.fail(
                "HARD_SWISH needs s_in / 128 / s_out < 1 (TFLite: output multiplier exponent "
                "<= 0)");
        const float reluish_multiplier = hires_input_scale / reluish_scale;
        const auto qr = quantizeMultiplierFor(ctx.profile(), reluish_multiplier);
        p.reluish_multiplier_fixedpoint_int16 = downScaleInt32ToInt16Multiplier(qr.multiplier);
        p.reluish_multiplier_exponent = qr.shift;
        m_path = QuantPath::HardSwish;
        return {};
    }

    // reference_ops::HardSwish (quantized), step by step in int16.
    template <class T>
    T hardSwish8(T q) const {
        const auto& p = m_params;
        const auto input_value = static_cast<int16_t>(int32_t{q} - p.input_zero_point);
        // |input_value| <= 255, so * 128 stays inside int16.
        const auto hires = static_cast<int16_t>(input_value * (1 << 7));
        const int16_t preshift_output_scale = srdhm16(hires, p.output_multiplier_fixedpoint_int16);
        // The reluish value: the input rescaled so that 3.0 maps to 32768 (saturating), with
        // the last bit of a left shift applied after the multiply so saturation there wins.
        int16_t reluish = hires;
        if (p.reluish_multiplier_exponent > 0)
            reluish = saturatingLeftShift16(reluish, p.reluish_multiplier_exponent - 1);
        reluish = srdhm16(reluish, p.reluish_multiplier_fixedpoint_int16);
        if (p.reluish_multiplier_exponent > 0) reluish = saturatingLeftShift16(reluish, 1);
        if (p.reluish_multiplier_exponent < 0)
            reluish = rdbpot16(reluish, -p.reluish_multiplier_exponent);
        // [-1, 1] -> [0, 1] in Q0.15.
        reluish = static_cast<int16_t>((int32_t{reluish} + (1 << 15)) >> 1);
        const int16_t preshift_output = saturatingDoublingHighMul16(reluish, preshift_output_scale);
        auto output = rdbpot16(preshift_output, -p.output_multiplier_exponent);
        output = static_cast<int16_t>(output + p.output_zero_point);
        return static_cast<T>(std::clamp<int32_t>(output, qmin<T>(), qmax<T>()));
    }

    // activations.cc SigmoidPrepare / TanhPrepare and TFLM logistic_common.cc / tanh.cc
    // (int16): zero points 0, output scale 2^-15. A power-of-two input scale of 2^-12
    // (TANH: also 2^-11) keeps input_multiplier 0; otherwise the input is rescaled to
    // 1 / (3 * 4096) with a 15-bit multiplier and a right shift. TFLM always evaluates the
    // sigmoid table (reference_integer_ops, multiplier 0 meaning 3 << shift); TFLite builtin
    // takes the table only for a positive multiplier and runs gemmlowp's int16 fixed point
    // (optimized_ops::Logistic / Tanh, the same body as reference/tanh.h's int16 Tanh)
    // otherwise: QuantPath::Gemmlowp16.
    Result<void> prepareTable16(PrepareContext& ctx, float in_s, float out_s, int32_t in_zp,
                                int32_t out_zp) {
        auto& p = m_params;
        if (in_zp != 0 || out_zp != 0) return ctx.fail("int16 input and output need zero point 0");
        int out_log2 = 0;
        if (!checkedLog2(out_s, out_log2) || out_log2 != -15)
            return ctx.fail("int16 output scale must be 2^-15");
        constexpr int kInputIntegerBits = 3;
        int in_log2 = 0;
        bool pot = checkedLog2(in_s, in_log2);
        int left_shift = (15 - kInputIntegerBits) + in_log2;
        pot = pot && (left_shift == 0 || (K == Act::Tanh && left_shift == 1));
        int32_t multiplier = 0;
        if (!pot) {
            double m = static_cast<double>(in_s) * 4096.0 * 3.0;
            left_shift = 0;
            while (m <= 32767.0 / 2.0 && left_shift <= 30) {
                ++left_shift;
                m *= 2.0;
            }
            if (m >= 2147483648.0) return ctx.fail("int16 input scale is too large");
            multiplier = static_cast<int32_t>(m);
        }
        const RoundingProfile profile = ctx.profile();
        if (multiplier == 0 &&
            (profile == RoundingProfile::Builtin || profile == RoundingProfile::Xnnpack)) {
            // SigmoidEval / TanhEval take reference_integer_ops only for input_multiplier > 0.
            p.input_left_shift = left_shift;  // 0; TANH at 2^-11: 1
            m_path = QuantPath::Gemmlowp16;
            return {};
        }
        if (multiplier == 0) {
            multiplier = 3 << left_shift;
            left_shift = 0;
        }
        p.input_multiplier = multiplier;
        p.input_left_shift = left_shift;
        m_path = QuantPath::Table16;
        return {};
    }

    // elementwise.cc RsqrtEvalQuantizedInt8: 1/sqrt(q - zp_in) as GetInvSqrtQuantizedMultiplierExp
    // gives it, brought to an integer with 20 extra bits, then rescaled by 1 / (sqrt(s_in) *
    // s_out); a zero input gives the largest output.
    template <RequantRule R, class T>
    T rsqrt8(T q) const {
        const auto& p = m_params;
        const int32_t value = int32_t{q} - p.input_zero_point;
        constexpr int kShift = 20;
        if (value == 0) return std::numeric_limits<T>::max();
        int32_t inv_sqrt_multiplier = 0;
        int inv_sqrt_shift = 0;
        invSqrtMultiplier(value, -1, inv_sqrt_multiplier, inv_sqrt_shift);
        const int32_t data = requantize<R>(1, inv_sqrt_multiplier, inv_sqrt_shift + kShift);
        const int32_t r = requantize<R>(data, p.multiplier, p.shift - kShift) + p.output_zero_point;
        return static_cast<T>(std::clamp(r, qmin<T>(), qmax<T>()));
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
    Lut16 m_lut16{};
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
