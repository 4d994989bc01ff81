// Two-input element-wise ops with NumPy broadcasting: SUB, MUL, DIV, SQUARED_DIFFERENCE,
// MINIMUM, MAXIMUM, FLOOR_DIV, FLOOR_MOD, the six comparisons, SELECT and SELECT_V2.
//
// Quantized arithmetic follows TFLM's reference kernels (tensorflow/lite/kernels/internal/
// reference/{sub,mul,comparisons,squared_difference}.h, reference/integer_ops/mul.h and
// tflite-micro tensorflow/lite/micro/kernels/{sub,mul}_common.cc); where TFLite's builtin
// kernels differ the difference is named at the rule and selected by the rounding profile.
#include "engine/kernels/ops_util.h"

namespace qs::engine::kernels {

namespace {

using model::BuiltinOp;
using model::DType;

// Field names follow tflite::ArithmeticParams.
struct ArithmeticParams {
    int32_t left_shift = 0;
    int32_t input1_offset = 0, input2_offset = 0, output_offset = 0;
    int32_t input1_multiplier = 0, input2_multiplier = 0, output_multiplier = 0;
    int32_t input1_shift = 0, input2_shift = 0, output_shift = 0;
    int32_t quantized_activation_min = 0, quantized_activation_max = 0;
    float float_activation_min = -std::numeric_limits<float>::infinity();
    float float_activation_max = std::numeric_limits<float>::infinity();
    RequantRule rule = RequantRule::DoubleRounding;
    // SUB, builtin profile: TFLite's sub.cc negates input2_multiplier and runs the ADD kernel
    // (s1 + MBQM(x2, -m2)); TFLM's reference/sub.h subtracts (s1 - MBQM(x2, m2)). The
    // double-rounding high multiply rounds ties toward +infinity, so the two differ on ties.
    bool negate_input2_multiplier = false;
    // MUL int8/uint8, xnnpack profile: XNNPACK's qs8/qu8 vmul requantizes in fp32
    // (XNNPACK src/operators/binary-elementwise-nd.c: product_output_scale =
    // float(s1 * s2) / s_out; microkernels qs8-vmul-minmax-fp32: float(acc) * scale, rounded
    // to nearest-even, + zero point).
    bool fp32_requantize = false;
    float fp32_scale = 0.0f;
    // SUB int16 with power-of-two scales and zero points 0 in the builtin profile: TFLite
    // sub.cc's LSTM path (reference_ops Sub16), a rounding shift of one input, no multiplier.
    bool pot_int16 = false;
};

enum class Bin {
    Sub,
    Mul,
    Div,
    SquaredDifference,
    Minimum,
    Maximum,
    FloorDiv,
    FloorMod,
};

constexpr const char* binName(Bin b) {
    switch (b) {
        case Bin::Sub:
            return "SUB";
        case Bin::Mul:
            return "MUL";
        case Bin::Div:
            return "DIV";
        case Bin::SquaredDifference:
            return "SQUARED_DIFFERENCE";
        case Bin::Minimum:
            return "MINIMUM";
        case Bin::Maximum:
            return "MAXIMUM";
        case Bin::FloorDiv:
            return "FLOOR_DIV";
        case Bin::FloorMod:
            return "FLOOR_MOD";
    }
    return "";
}

// Plain (float / integer) math per op. Integer DIV and FLOOR_* by zero have no defined
// result upstream (TFLite errors out in eval for FLOOR_*); we write 0 so eval stays total.
template <Bin K, class T>
T plainOp(T a, T b) {
    if constexpr (K == Bin::Sub) {
        if constexpr (std::is_integral_v<T>)
            return static_cast<T>(static_cast<std::make_unsigned_t<T>>(a) -
                                  static_cast<std::make_unsigned_t<T>>(b));
        else
            return a - b;
    } else if constexpr (K == Bin::Mul) {
        if constexpr (std::is_integral_v<T>)
            return static_cast<T>(static_cast<std::make_unsigned_t<T>>(a) *
                                  static_cast<std::make_unsigned_t<T>>(b));
        else
            return a * b;
    } else if constexpr (K == Bin::Div) {
        if constexpr (std::is_integral_v<T>)
            return b == 0 || (a == std::numeric_limits<T>::min() && b == -1) ? T{0} : a / b;
        else
            return a / b;
    } else if constexpr (K == Bin::SquaredDifference) {
        const T d = a - b;
        return d * d;
    } else if constexpr (K == Bin::Minimum) {
        return std::min(a, b);
    } else if constexpr (K == Bin::Maximum) {
        return std::max(a, b);
    } else if constexpr (K == Bin::FloorDiv) {
        // tensorflow/lite/kernels/floor_div.cc: std::floor(a / b) in double for integers.
        if constexpr (std::is_integral_v<T>) {
            if (b == 0) return 0;
            return static_cast<T>(std::floor(static_cast<double>(a) / static_cast<double>(b)));
        } else {
            return std::floor(a / b);
        }
    } else {
        // tensorflow/lite/kernels/floor_mod.cc FloorMod: the remainder takes the divisor's
        // sign (integers: a % b, then + b when the signs differ; floats: std::fmod likewise).
        if constexpr (std::is_integral_v<T>) {
            if (b == 0) return 0;
            const T r = static_cast<T>(a % b);
            return (r != 0 && ((r < 0) != (b < 0))) ? static_cast<T>(r + b) : r;
        } else {
            const T r = std::fmod(a, b);
            return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
        }
    }
}

template <Bin K>
constexpr bool hasActivation() {
    return K == Bin::Sub || K == Bin::Mul || K == Bin::Div;
}

// reference/sub.h SubElementwise (8-bit and general int16): both inputs << left_shift,
// rescaled to twice the larger input scale, subtracted, rescaled to the output.
// |x + offset| <= 2^16 and left_shift <= 20 (8-bit: <= 2^8 << 20 = 2^28) keep int32 exact.
template <class T, RequantRule R>
int32_t subQuantized(const ArithmeticParams& p, T a, T b) {
    const int32_t x1 = (p.input1_offset + a) * (1 << p.left_shift);
    const int32_t x2 = (p.input2_offset + b) * (1 << p.left_shift);
    const int32_t s1 = requantize<R>(x1, p.input1_multiplier, p.input1_shift);
    int32_t raw;
    if (p.negate_input2_multiplier)
        raw = s1 + requantize<R>(x2, -p.input2_multiplier, p.input2_shift);
    else
        raw = s1 - requantize<R>(x2, p.input2_multiplier, p.input2_shift);
    return requantize<R>(raw, p.output_multiplier, p.output_shift) + p.output_offset;
}

// tensorflow/lite/kernels/internal/reference/sub.h Sub16 (TFLite sub.cc POT path): the
// input with the smaller scale is shifted right with gemmlowp RoundingDivideByPOT, the
// difference saturates to int16.
inline int32_t subPotInt16(const ArithmeticParams& p, int16_t a, int16_t b) {
    const int32_t x1 = p.input1_shift == 0 ? a : rq::roundingDivideByPOT(a, -p.input1_shift);
    const int32_t x2 = p.input2_shift == 0 ? b : rq::roundingDivideByPOT(b, -p.input2_shift);
    return std::clamp(x1 - x2, -32768, 32767);
}

// reference/integer_ops/mul.h MulElementwise: (x1 + o1) * (x2 + o2) requantized once.
// 8-bit: |product| <= 2^16; int16 (zero points 0): |product| <= 2^30. No int32 overflow.
template <class T, RequantRule R>
int32_t mulQuantized(const ArithmeticParams& p, T a, T b) {
    const int32_t prod = (p.input1_offset + a) * (p.input2_offset + b);
    if (p.fp32_requantize) {
        const float scaled = static_cast<float>(prod) * p.fp32_scale;
        return static_cast<int32_t>(std::nearbyint(scaled)) + p.output_offset;
    }
    return requantize<R>(prod, p.output_multiplier, p.output_shift) + p.output_offset;
}

// tensorflow/lite/kernels/internal/reference/squared_difference.h (8-bit): inputs << 7,
// rescaled to twice the larger scale, difference squared (<= 2^16 * 2^14 = 2^30), then
// requantized.
template <class T, RequantRule R>
int32_t squaredDifferenceQuantized(const ArithmeticParams& p, T a, T b) {
    const int32_t x1 = (p.input1_offset + a) * (1 << p.left_shift);
    const int32_t x2 = (p.input2_offset + b) * (1 << p.left_shift);
    const int32_t s1 = requantize<R>(x1, p.input1_multiplier, p.input1_shift);
    const int32_t s2 = requantize<R>(x2, p.input2_multiplier, p.input2_shift);
    const int32_t d = s1 - s2;
    return requantize<R>(d * d, p.output_multiplier, p.output_shift) + p.output_offset;
}

template <Bin K>
class BinaryKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* in1 = ctx.input(0);
        const TensorInfo* in2 = ctx.input(1);
        if (!in1 || !in2 || ctx.numOutputs() < 1) return ctx.fail("needs two inputs");
        TensorInfo& output = ctx.output(0);
        m_type = in1->dtype;
        if (in2->dtype != m_type || output.dtype != m_type)
            return ctx.fail(strFormat("input types {} and {} and output type {} differ",
                                      model::dtypeName(in1->dtype), model::dtypeName(in2->dtype),
                                      model::dtypeName(output.dtype)));
        auto bc = broadcastShapes<2>({&in1->shape, &in2->shape});
        if (!bc) return ctx.fail(bc.error().message);
        m_bc = std::move(*bc);
        output.shape = m_bc.out_shape;

        model::Activation act = model::Activation::None;
        if constexpr (K == Bin::Sub) {
            if (const auto* o = ctx.options<model::AddSubOptions>())
                act = o->fused_activation_function;
        } else if constexpr (K == Bin::Mul || K == Bin::Div) {
            if (const auto* o = ctx.options<model::ActivationOptions>())
                act = o->fused_activation_function;
        }
        auto& p = m_params;
        const FloatRange fr = activationRangeFloat(act);
        p.float_activation_min = fr.min;
        p.float_activation_max = fr.max;
        switch (m_type) {
            case DType::Float32:
                return {};
            case DType::Int32:
            case DType::Int64:
                if (K == Bin::SquaredDifference && m_type == DType::Int64) break;
                // Integer activation clamp (TFLite CalculateActivationRange<int32>).
                p.quantized_activation_min = act == model::Activation::None
                                                 ? std::numeric_limits<int32_t>::min()
                                                 : static_cast<int32_t>(std::max(fr.min, -2e9f));
                p.quantized_activation_max =
                    act == model::Activation::None || act == model::Activation::Relu
                        ? std::numeric_limits<int32_t>::max()
                        : static_cast<int32_t>(fr.max);
                return {};
            case DType::Int8:
            case DType::UInt8:
            case DType::Int16:
                if (K == Bin::Minimum || K == Bin::Maximum) {
                    // No rescaling: TFLite's maximum_minimum.cc compares the stored values and
                    // requires equal input/output quantization.
                    if (in1->quant->isQuantized() && output.quant->isQuantized() &&
                        (in1->scale() != output.scale() || in2->scale() != output.scale() ||
                         in1->zeroPoint() != output.zeroPoint() ||
                         in2->zeroPoint() != output.zeroPoint()))
                        return ctx.fail("inputs and output must share scale and zero point");
                    return {};
                }
                if (K == Bin::Div || K == Bin::FloorDiv || K == Bin::FloorMod) break;
                if (K == Bin::SquaredDifference && m_type != DType::Int8) break;
                return prepareQuantized(ctx, *in1, *in2, output, act);
            default:
                break;
        }
        return ctx.fail(strFormat("type {} is not supported", model::dtypeName(m_type)));
    }

    void eval(EvalContext& ctx) override {
        const TensorValue& a = ctx.input(0);
        const TensorValue& b = ctx.input(1);
        TensorValue& o = ctx.output(0);
        switch (m_type) {
            case DType::Float32:
                runFloat(a, b, o);
                break;
            case DType::Int32:
                runInt<int32_t>(a, b, o);
                break;
            case DType::Int64:
                runInt<int64_t>(a, b, o);
                break;
            case DType::Int8:
                runQuantized<int8_t>(a, b, o);
                break;
            case DType::UInt8:
                runQuantized<uint8_t>(a, b, o);
                break;
            case DType::Int16:
                runQuantized<int16_t>(a, b, o);
                break;
            default:
                break;
        }
    }

private:
    Result<void> prepareQuantized(PrepareContext& ctx, const TensorInfo& in1, const TensorInfo& in2,
                                  const TensorInfo& output, model::Activation act) {
        if (!in1.quant->isQuantized() || !in2.quant->isQuantized() || !output.quant->isQuantized())
            return ctx.fail("quantized op needs scales on both inputs and the output");
        auto& p = m_params;
        p.input1_offset = -in1.zeroPoint();
        p.input2_offset = -in2.zeroPoint();
        p.output_offset = output.zeroPoint();
        const auto range =
            activationRangeQuantized(act, m_type, output.scale(), output.zeroPoint());
        p.quantized_activation_min = range.min;
        p.quantized_activation_max = range.max;
        p.rule = ctx.rule(m_type);
        const RoundingProfile profile = ctx.profile();
        auto qm = [&](double real, int32_t& m, int32_t& s) {
            const auto q = quantizeMultiplierFor(profile, real);
            m = q.multiplier;
            s = q.shift;
        };
        if constexpr (K == Bin::Sub) {
            if (m_type == DType::Int16 && profile == RoundingProfile::Builtin) {
                // TFLite sub.cc Prepare: pot_scale_int16 (default true) with power-of-two
                // scales and zero points 0 takes the LSTM path (PrepareInt16SubOpPOT).
                const auto* o = ctx.options<model::AddSubOptions>();
                int l1 = 0, l2 = 0, lo = 0;
                if ((!o || o->pot_scale_int16) && isPot(in1.scale(), l1) &&
                    isPot(in2.scale(), l2) && isPot(output.scale(), lo) && in1.zeroPoint() == 0 &&
                    in2.zeroPoint() == 0 && output.zeroPoint() == 0) {
                    p.pot_int16 = true;
                    p.input1_shift = l1 - lo;
                    p.input2_shift = l2 - lo;
                    if ((p.input1_shift != 0 && p.input2_shift != 0) || p.input1_shift > 0 ||
                        p.input2_shift > 0)
                        return ctx.fail("int16 power-of-two SUB can only shift one input right");
                    return {};
                }
            }
            if (m_type == DType::Int16 &&
                (in1.zeroPoint() != 0 || in2.zeroPoint() != 0 || output.zeroPoint() != 0))
                return ctx.fail("int16 SUB needs zero points 0");
            // tflite-micro sub_common.cc CalculateOpDataSub: twice_max_input_scale and the
            // three ratios are computed in float, then widened; TFLite sub.cc does the same
            // in double. We follow the profile's runtime.
            p.left_shift = m_type == DType::Int16 ? 15 : 20;
            if (profile == RoundingProfile::Builtin) {
                const double twice_max =
                    2.0 * static_cast<double>(std::max(in1.scale(), in2.scale()));
                qm(static_cast<double>(in1.scale()) / twice_max, p.input1_multiplier,
                   p.input1_shift);
                qm(static_cast<double>(in2.scale()) / twice_max, p.input2_multiplier,
                   p.input2_shift);
                qm(twice_max / ((1 << p.left_shift) * static_cast<double>(output.scale())),
                   p.output_multiplier, p.output_shift);
                p.negate_input2_multiplier = true;
            } else {
                const float twice_max = 2 * std::max(in1.scale(), in2.scale());
                qm(static_cast<double>(in1.scale() / twice_max), p.input1_multiplier,
                   p.input1_shift);
                qm(static_cast<double>(in2.scale() / twice_max), p.input2_multiplier,
                   p.input2_shift);
                qm(static_cast<double>(twice_max /
                                       (static_cast<float>(1 << p.left_shift) * output.scale())),
                   p.output_multiplier, p.output_shift);
            }
        } else if constexpr (K == Bin::Mul) {
            if (m_type == DType::Int16 &&
                (in1.zeroPoint() != 0 || in2.zeroPoint() != 0 || output.zeroPoint() != 0))
                return ctx.fail("int16 MUL needs zero points 0");
            // tflite-micro mul_common.cc CalculateOpDataMul: s1 * s2 / s_out in double.
            qm(static_cast<double>(in1.scale()) * static_cast<double>(in2.scale()) /
                   static_cast<double>(output.scale()),
               p.output_multiplier, p.output_shift);
            if (profile == RoundingProfile::Xnnpack && m_type != DType::Int16) {
                p.fp32_requantize = true;
                p.fp32_scale = in1.scale() * in2.scale() / output.scale();
            }
        } else if constexpr (K == Bin::SquaredDifference) {
            // tensorflow/lite/kernels/squared_difference.cc Prepare (int8): left_shift 7,
            // input ratios to twice the larger scale, output (2 * max)^2 / (2^14 * s_out).
            p.left_shift = 7;
            const double twice_max = 2.0 * static_cast<double>(std::max(in1.scale(), in2.scale()));
            qm(static_cast<double>(in1.scale()) / twice_max, p.input1_multiplier, p.input1_shift);
            qm(static_cast<double>(in2.scale()) / twice_max, p.input2_multiplier, p.input2_shift);
            qm(twice_max * twice_max /
                   static_cast<double>((1 << (2 * p.left_shift)) * output.scale()),
               p.output_multiplier, p.output_shift);
        }
        return {};
    }

    // tensorflow/lite/kernels/kernel_util.cc CheckedLog2: scale == 2^l within 1e-6 in log2.
    static bool isPot(float scale, int& log2_rounded) {
        const float l = std::log2(scale);
        log2_rounded = static_cast<int>(std::round(l));
        return std::fabs(l - static_cast<float>(log2_rounded)) < 1e-6f;
    }

    void runFloat(const TensorValue& a, const TensorValue& b, TensorValue& o) {
        const float* x = in<float>(a);
        const float* y = in<float>(b);
        float* z = out<float>(o);
        const FloatRange r{m_params.float_activation_min, m_params.float_activation_max};
        forEachBroadcast(m_bc, [&](int64_t i, const std::array<int64_t, 2>& k) {
            const float v = plainOp<K, float>(x[k[0]], y[k[1]]);
            z[i] = hasActivation<K>() ? clampF(v, r) : v;
        });
    }

    template <class T>
    void runInt(const TensorValue& a, const TensorValue& b, TensorValue& o) {
        const T* x = in<T>(a);
        const T* y = in<T>(b);
        T* z = out<T>(o);
        const T lo = hasActivation<K>() ? static_cast<T>(m_params.quantized_activation_min)
                                        : std::numeric_limits<T>::lowest();
        const T hi = hasActivation<K>() ? static_cast<T>(m_params.quantized_activation_max)
                                        : std::numeric_limits<T>::max();
        forEachBroadcast(m_bc, [&](int64_t i, const std::array<int64_t, 2>& k) {
            const T v = plainOp<K, T>(x[k[0]], y[k[1]]);
            z[i] = hasActivation<K>() ? std::clamp(v, lo, hi) : v;
        });
    }

    template <class T>
    void runQuantized(const TensorValue& a, const TensorValue& b, TensorValue& o) {
        const T* x = in<T>(a);
        const T* y = in<T>(b);
        T* z = out<T>(o);
        const auto& p = m_params;
        if constexpr (K == Bin::Minimum || K == Bin::Maximum) {
            forEachBroadcast(m_bc, [&](int64_t i, const std::array<int64_t, 2>& k) {
                z[i] = plainOp<K, T>(x[k[0]], y[k[1]]);
            });
        } else {
            if constexpr (K == Bin::Sub && std::is_same_v<T, int16_t>) {
                if (p.pot_int16) {
                    forEachBroadcast(m_bc, [&](int64_t i, const std::array<int64_t, 2>& k) {
                        z[i] = static_cast<T>(std::clamp(subPotInt16(p, x[k[0]], y[k[1]]),
                                                         p.quantized_activation_min,
                                                         p.quantized_activation_max));
                    });
                    return;
                }
            }
            withRule(p.rule, [&](auto rule) {
                constexpr RequantRule R = decltype(rule)::value;
                forEachBroadcast(m_bc, [&](int64_t i, const std::array<int64_t, 2>& k) {
                    int32_t raw = 0;
                    if constexpr (K == Bin::Sub)
                        raw = subQuantized<T, R>(p, x[k[0]], y[k[1]]);
                    else if constexpr (K == Bin::Mul)
                        raw = mulQuantized<T, R>(p, x[k[0]], y[k[1]]);
                    else if constexpr (K == Bin::SquaredDifference)
                        raw = squaredDifferenceQuantized<T, R>(p, x[k[0]], y[k[1]]);
                    z[i] = static_cast<T>(
                        std::clamp(raw, p.quantized_activation_min, p.quantized_activation_max));
                });
            });
        }
    }

    ArithmeticParams m_params;
    BroadcastDesc<2> m_bc;
    DType m_type = DType::Float32;
};

// ---- comparisons -------------------------------------------------------------------------

enum class Cmp { Less, LessEqual, Greater, GreaterEqual, Equal, NotEqual };

template <Cmp C, class T>
bool compare(T a, T b) {
    if constexpr (C == Cmp::Less) return a < b;
    if constexpr (C == Cmp::LessEqual) return a <= b;
    if constexpr (C == Cmp::Greater) return a > b;
    if constexpr (C == Cmp::GreaterEqual) return a >= b;
    if constexpr (C == Cmp::Equal) return a == b;
    return a != b;
}

// Field names follow tflite::ComparisonParams.
struct ComparisonParams {
    int left_shift = 0;
    int32_t input1_offset = 0, input1_multiplier = 0;
    int input1_shift = 0;
    int32_t input2_offset = 0, input2_multiplier = 0;
    int input2_shift = 0;
    bool is_broadcast = false;
    RequantRule rule = RequantRule::DoubleRounding;
};

template <Cmp C>
class ComparisonKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* in1 = ctx.input(0);
        const TensorInfo* in2 = ctx.input(1);
        if (!in1 || !in2 || ctx.numOutputs() < 1) return ctx.fail("needs two inputs");
        TensorInfo& output = ctx.output(0);
        m_type = in1->dtype;
        if (in2->dtype != m_type) return ctx.fail("input types differ");
        if (output.dtype != DType::Bool) return ctx.fail("output must be BOOL");
        auto bc = broadcastShapes<2>({&in1->shape, &in2->shape});
        if (!bc) return ctx.fail(bc.error().message);
        m_bc = std::move(*bc);
        output.shape = m_bc.out_shape;
        auto& p = m_params;
        switch (m_type) {
            case DType::Float32:
            case DType::Int32:
            case DType::Int64:
            case DType::Int16:  // compared raw, as TFLite's comparisons.cc does
            case DType::Bool:
                if (m_type == DType::Bool && C != Cmp::Equal && C != Cmp::NotEqual) break;
                return {};
            case DType::Int8:
            case DType::UInt8: {
                // tensorflow/lite/kernels/comparisons.cc ComparisonQuantized: each input
                // (offset applied) << 8, times its own scale as a Q31 multiplier, so both
                // sides are in one real-valued scale.
                if (!in1->quant->isQuantized() || !in2->quant->isQuantized())
                    return ctx.fail("quantized comparison needs input scales");
                p.left_shift = 8;
                p.input1_offset = -in1->zeroPoint();
                p.input2_offset = -in2->zeroPoint();
                const auto q1 = quantizeMultiplierFor(ctx.profile(), in1->scale());
                const auto q2 = quantizeMultiplierFor(ctx.profile(), in2->scale());
                p.input1_multiplier = q1.multiplier, p.input1_shift = q1.shift;
                p.input2_multiplier = q2.multiplier, p.input2_shift = q2.shift;
                p.rule = ctx.rule(m_type);
                return {};
            }
            default:
                break;
        }
        return ctx.fail(strFormat("type {} is not supported", model::dtypeName(m_type)));
    }

    void eval(EvalContext& ctx) override {
        const TensorValue& a = ctx.input(0);
        const TensorValue& b = ctx.input(1);
        uint8_t* z = out<uint8_t>(ctx.output(0));
        switch (m_type) {
            case DType::Float32:
                runRaw<float>(a, b, z);
                break;
            case DType::Int32:
                runRaw<int32_t>(a, b, z);
                break;
            case DType::Int64:
                runRaw<int64_t>(a, b, z);
                break;
            case DType::Int16:
                runRaw<int16_t>(a, b, z);
                break;
            case DType::Bool:
                runRaw<uint8_t>(a, b, z);
                break;
            case DType::Int8:
                runScaled<int8_t>(a, b, z);
                break;
            case DType::UInt8:
                runScaled<uint8_t>(a, b, z);
                break;
            default:
                break;
        }
    }

private:
    template <class T>
    void runRaw(const TensorValue& a, const TensorValue& b, uint8_t* z) {
        const T* x = in<T>(a);
        const T* y = in<T>(b);
        forEachBroadcast(m_bc, [&](int64_t i, const std::array<int64_t, 2>& k) {
            z[i] = compare<C>(x[k[0]], y[k[1]]) ? 1 : 0;
        });
    }

    // reference/comparisons.h ComparisonWithScaling.
    template <class T>
    void runScaled(const TensorValue& a, const TensorValue& b, uint8_t* z) {
        const T* x = in<T>(a);
        const T* y = in<T>(b);
        const auto& p = m_params;
        withRule(p.rule, [&](auto rule) {
            constexpr RequantRule R = decltype(rule)::value;
            forEachBroadcast(m_bc, [&](int64_t i, const std::array<int64_t, 2>& k) {
                const int32_t s1 = requantize<R>((p.input1_offset + x[k[0]]) * (1 << p.left_shift),
                                                 p.input1_multiplier, p.input1_shift);
                const int32_t s2 = requantize<R>((p.input2_offset + y[k[1]]) * (1 << p.left_shift),
                                                 p.input2_multiplier, p.input2_shift);
                z[i] = compare<C>(s1, s2) ? 1 : 0;
            });
        });
    }

    ComparisonParams m_params;
    BroadcastDesc<2> m_bc;
    DType m_type = DType::Float32;
};

// ---- SELECT / SELECT_V2 ------------------------------------------------------------------

// SELECT_V2 broadcasts condition, x and y together (tensorflow/lite/kernels/select.cc).
// SELECT (v1) takes a condition of x's shape, or a 1-D condition that picks whole rows
// along the first dimension (reference_ops::RankOneSelect).
template <bool V2>
class SelectKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* cond = ctx.input(0);
        const TensorInfo* x = ctx.input(1);
        const TensorInfo* y = ctx.input(2);
        if (!cond || !x || !y || ctx.numOutputs() < 1) return ctx.fail("needs condition, x and y");
        if (cond->dtype != DType::Bool) return ctx.fail("condition must be BOOL");
        TensorInfo& output = ctx.output(0);
        if (x->dtype != y->dtype || output.dtype != x->dtype)
            return ctx.fail("x, y and output types differ");
        m_elem = dtypeSize(x->dtype);
        if (m_elem == 0) return ctx.fail("unsupported type");
        if (isQuantizedInt(x->dtype) && x->quant->isQuantized() && y->quant->isQuantized() &&
            output.quant->isQuantized() &&
            (x->scale() != output.scale() || y->scale() != output.scale() ||
             x->zeroPoint() != output.zeroPoint() || y->zeroPoint() != output.zeroPoint()))
            return ctx.fail("x, y and output must share scale and zero point");
        m_rank_one = false;
        if (!V2) {
            if (x->shape != y->shape) return ctx.fail("x and y shapes differ");
            if (cond->shape != x->shape) {
                if (cond->rank() != 1 || x->rank() < 1 || cond->dim(0) != x->dim(0))
                    return ctx.fail("condition must have x's shape or be 1-D of x's first dim");
                m_rank_one = true;
                m_row = x->dim(0) ? x->numElements() / x->dim(0) : 0;
            }
        }
        auto bc = broadcastShapes<3>({&cond->shape, &x->shape, &y->shape});
        if (!bc) return ctx.fail(bc.error().message);
        m_bc = std::move(*bc);
        output.shape = m_rank_one ? x->shape : m_bc.out_shape;
        return {};
    }

    void eval(EvalContext& ctx) override {
        const uint8_t* c = in<uint8_t>(ctx.input(0));
        const uint8_t* x = static_cast<const uint8_t*>(ctx.input(1).raw());
        const uint8_t* y = static_cast<const uint8_t*>(ctx.input(2).raw());
        uint8_t* z = static_cast<uint8_t*>(ctx.output(0).raw());
        const size_t e = m_elem;
        if (m_rank_one) {
            const int64_t rows = ctx.output(0).numElements() / std::max<int64_t>(m_row, 1);
            for (int64_t r = 0; r < rows; ++r) {
                const uint8_t* src = c[r] ? x : y;
                std::memcpy(z + r * m_row * static_cast<int64_t>(e),
                            src + r * m_row * static_cast<int64_t>(e),
                            static_cast<size_t>(m_row) * e);
            }
            return;
        }
        forEachBroadcast(m_bc, [&](int64_t i, const std::array<int64_t, 3>& k) {
            const uint8_t* src =
                c[k[0]] ? x + k[1] * static_cast<int64_t>(e) : y + k[2] * static_cast<int64_t>(e);
            std::memcpy(z + i * static_cast<int64_t>(e), src, e);
        });
    }

private:
    BroadcastDesc<3> m_bc;
    size_t m_elem = 1;
    bool m_rank_one = false;
    int64_t m_row = 0;
};

}  // namespace
}  // namespace qs::engine::kernels

namespace qs::engine {
void registerKernels_elementwise_binary(KernelRegistry& r) {
    using namespace kernels;
    using model::BuiltinOp;
    r.add(BuiltinOp::SUB, &makeKernel<BinaryKernel<Bin::Sub>>);
    r.add(BuiltinOp::MUL, &makeKernel<BinaryKernel<Bin::Mul>>);
    r.add(BuiltinOp::DIV, &makeKernel<BinaryKernel<Bin::Div>>);
    r.add(BuiltinOp::SQUARED_DIFFERENCE, &makeKernel<BinaryKernel<Bin::SquaredDifference>>);
    r.add(BuiltinOp::MINIMUM, &makeKernel<BinaryKernel<Bin::Minimum>>);
    r.add(BuiltinOp::MAXIMUM, &makeKernel<BinaryKernel<Bin::Maximum>>);
    r.add(BuiltinOp::FLOOR_DIV, &makeKernel<BinaryKernel<Bin::FloorDiv>>);
    r.add(BuiltinOp::FLOOR_MOD, &makeKernel<BinaryKernel<Bin::FloorMod>>);
    r.add(BuiltinOp::LESS, &makeKernel<ComparisonKernel<Cmp::Less>>);
    r.add(BuiltinOp::LESS_EQUAL, &makeKernel<ComparisonKernel<Cmp::LessEqual>>);
    r.add(BuiltinOp::GREATER, &makeKernel<ComparisonKernel<Cmp::Greater>>);
    r.add(BuiltinOp::GREATER_EQUAL, &makeKernel<ComparisonKernel<Cmp::GreaterEqual>>);
    r.add(BuiltinOp::EQUAL, &makeKernel<ComparisonKernel<Cmp::Equal>>);
    r.add(BuiltinOp::NOT_EQUAL, &makeKernel<ComparisonKernel<Cmp::NotEqual>>);
    r.add(BuiltinOp::SELECT, &makeKernel<SelectKernel<false>>);
    r.add(BuiltinOp::SELECT_V2, &makeKernel<SelectKernel<true>>);
}
}  // namespace qs::engine
