// SOFTMAX over the last dimension. Two integer algorithms, chosen by profile:
//  * reference / single-rounding: TFLM's fixed-point path (tensorflow/lite/micro/kernels/
//    softmax_common.cc for the parameters, tensorflow/lite/kernels/internal/reference/
//    softmax.h for the math: gemmlowp exp_on_negative_values and a Newton-Raphson reciprocal).
//  * builtin / xnnpack: TFLite's optimized kernel (tensorflow/lite/kernels/activations.cc ->
//    optimized_ops.h PopulateSoftmaxLookupTable + Softmax): a 256-entry float table of
//    exp(-input_scale * beta * d), a float sum, and float rescaling. XNNPACK has no quantized
//    softmax, so LiteRT runs the same builtin kernel.
#include <bit>
#include <cmath>
#include "model/str_format.h"

#include "engine/kernels/common.h"
#include "engine/profiles/fixed_point.h"

namespace qs::engine::kernels {

namespace {

using model::DType;

struct SoftmaxParams {  // field names follow tflite::SoftmaxParams
    int32_t input_multiplier = 0;
    int32_t input_left_shift = 0;
    int32_t diff_min = 0;
    bool single_rounding = false;
    // builtin LUT path
    float table[256] = {};
    float scale = 0.0f;  // output scale
    int32_t zero_point = 0;
};

constexpr int kScaledDiffIntegerBits = 5;
constexpr int kAccumulationIntegerBits = 12;

// MultiplyByQuantizedMultiplierGreaterThanOne (tensorflow/lite/kernels/internal/common.h):
// double rounding build SaturatingRoundingDoublingHighMul(x << left_shift, m); the single
// rounding build is MultiplyByQuantizedMultiplier.
inline int32_t multiplyGreaterThanOne(int32_t x, int32_t m, int left_shift, bool single) {
    if (single) return rq::multiplySingleRounding(x, m, left_shift);
    return rq::saturatingRoundingDoublingHighMul(
        static_cast<int32_t>(static_cast<uint32_t>(x) << left_shift), m);
}

// tensorflow/lite/kernels/internal/reference/softmax.h Softmax (quantized, fixed point).
template <class In, class Out>
void softmaxFixedPoint(const SoftmaxParams& p, int64_t outer, int32_t depth, const In* in,
                       Out* out) {
    using FixedPointScaledDiff = fp::Fixed<kScaledDiffIntegerBits>;
    using FixedPointAccum = fp::Fixed<kAccumulationIntegerBits>;
    using FixedPoint0 = fp::Fixed<0>;
    for (int64_t i = 0; i < outer; ++i) {
        const In* x = in + i * depth;
        Out* y = out + i * depth;
        int32_t max_in_row = std::numeric_limits<In>::min();
        for (int32_t c = 0; c < depth; ++c) max_in_row = std::max<int32_t>(max_in_row, x[c]);
        FixedPointAccum sum_of_exps = FixedPointAccum::zero();
        for (int32_t c = 0; c < depth; ++c) {
            const int32_t diff = int32_t{x[c]} - max_in_row;
            if (diff >= p.diff_min) {
                const int32_t rescaled = multiplyGreaterThanOne(
                    diff, p.input_multiplier, p.input_left_shift, p.single_rounding);
                sum_of_exps = sum_of_exps +
                              fp::rescale<kAccumulationIntegerBits>(
                                  fp::expOnNegativeValues(FixedPointScaledDiff::fromRaw(rescaled)));
            }
        }
        // tensorflow/lite/kernels/internal/common.h GetReciprocal.
        const int headroom_plus_one = std::countl_zero(static_cast<uint32_t>(sum_of_exps.raw));
        const int num_bits_over_unit = kAccumulationIntegerBits - headroom_plus_one;
        const auto shifted_sum_minus_one = static_cast<int32_t>(
            (static_cast<uint32_t>(sum_of_exps.raw) << headroom_plus_one) - (uint32_t{1} << 31));
        const FixedPoint0 shifted_scale =
            fp::oneOverOnePlusXForXIn01(FixedPoint0::fromRaw(shifted_sum_minus_one));
        for (int32_t c = 0; c < depth; ++c) {
            const int32_t diff = int32_t{x[c]} - max_in_row;
            if (diff >= p.diff_min) {
                const int32_t rescaled = multiplyGreaterThanOne(
                    diff, p.input_multiplier, p.input_left_shift, p.single_rounding);
                const FixedPoint0 exp_in_0 =
                    fp::expOnNegativeValues(FixedPointScaledDiff::fromRaw(rescaled));
                const int32_t unsat = rq::roundingDivideByPOT(
                    (shifted_scale * exp_in_0).raw, num_bits_over_unit + 31 - int(sizeof(Out) * 8));
                const int32_t shifted = unsat + std::numeric_limits<Out>::min();
                y[c] = static_cast<Out>(std::clamp<int32_t>(
                    shifted, std::numeric_limits<Out>::min(), std::numeric_limits<Out>::max()));
            } else {
                y[c] = std::numeric_limits<Out>::min();
            }
        }
    }
}

// tensorflow/lite/kernels/internal/optimized/optimized_ops.h Softmax (LUT version).
template <class In, class Out>
void softmaxLut(const SoftmaxParams& p, int64_t outer, int32_t depth, const In* in, Out* out) {
    for (int64_t i = 0; i < outer; ++i) {
        const In* x = in + i * depth;
        Out* y = out + i * depth;
        int32_t max_val = std::numeric_limits<In>::min();
        for (int32_t j = 0; j < depth; ++j) max_val = std::max<int32_t>(max_val, x[j]);
        // table[255 - d] = exp(-scale * beta * d); index 255 - max + x.
        const float* table_offset = &p.table[255 - max_val];
        float sum_exp = 0.0f;
        for (int32_t j = 0; j < depth; ++j) sum_exp += table_offset[x[j]];
        const float inv_sum_exp = 1.0f / (sum_exp * p.scale);
        for (int32_t j = 0; j < depth; ++j) {
            const float prob_rescaled = table_offset[x[j]] * inv_sum_exp;
            int32_t q;
            // QuantizeSoftmaxOutput: uint8 on x86 adds 0.5 and truncates (no zero point, which
            // TFLite requires to be 0); other types round half away from zero and add it.
            if constexpr (std::is_same_v<Out, uint8_t>)
                q = static_cast<int32_t>(prob_rescaled + 0.5f);
            else
                q = static_cast<int32_t>(std::round(prob_rescaled)) + p.zero_point;
            y[j] = static_cast<Out>(std::clamp<int32_t>(q, std::numeric_limits<Out>::min(),
                                                        std::numeric_limits<Out>::max()));
        }
    }
}

// tensorflow/lite/kernels/internal/reference/softmax.h Softmax (float).
void softmaxFloat(float beta, int64_t outer, int32_t depth, const float* in, float* out) {
    for (int64_t i = 0; i < outer; ++i) {
        const float* x = in + i * depth;
        float* y = out + i * depth;
        float max = std::numeric_limits<float>::lowest();
        for (int32_t c = 0; c < depth; ++c) max = std::max(max, x[c]);
        float sum = 0.0f;
        for (int32_t c = 0; c < depth; ++c) {
            const float e = std::exp((x[c] - max) * beta);
            y[c] = e;
            sum += e;
        }
        for (int32_t c = 0; c < depth; ++c) y[c] = y[c] / sum;
    }
}

class SoftmaxKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* input = ctx.input(0);
        if (!input || ctx.numOutputs() < 1 || input->rank() < 1)
            return ctx.fail("needs an input of rank >= 1");
        const auto* o = ctx.options<model::SoftmaxOptions>();
        m_beta = o ? o->beta : 1.0f;
        TensorInfo& output = ctx.output(0);
        output.shape = input->shape;
        m_in = input->dtype;
        m_out = output.dtype;
        m_depth = input->shape.back();
        m_outer = m_depth ? input->numElements() / m_depth : 0;
        if (m_in == DType::Float32) {
            if (m_out != DType::Float32) return ctx.fail("float input needs float output");
            return {};
        }
        if (!((m_in == DType::Int8 && m_out == DType::Int8) ||
              (m_in == DType::UInt8 && m_out == DType::UInt8)))
            return ctx.fail(strFormat("{} -> {} is not supported", model::dtypeName(m_in),
                                      model::dtypeName(m_out)));
        if (!input->quant->isQuantized() || !output.quant->isQuantized())
            return ctx.fail("input and output must be quantized");
        m_lut =
            ctx.profile() == RoundingProfile::Builtin || ctx.profile() == RoundingProfile::Xnnpack;
        auto& p = m_params;
        if (m_lut) {
            const float scale = -input->scale() * m_beta;
            for (int32_t val = 0; val <= 255; ++val)
                p.table[255 - val] = std::exp(scale * static_cast<float>(val));
            p.scale = output.scale();
            p.zero_point = output.zeroPoint();
            return {};
        }
        // softmax_common.cc CalculateSoftmaxParams -> quantization_util.cc
        // PreprocessSoftmaxScaling.
        p.single_rounding = ctx.profile() == RoundingProfile::SingleRounding;
        const double max_real = p.single_rounding ? (double((int64_t{1} << 30)) - 1.0)
                                                  : (double((int64_t{1} << 31)) - 1.0);
        const double real =
            std::min<double>(static_cast<double>(m_beta) * static_cast<double>(input->scale()) *
                                 static_cast<double>(int64_t{1} << (31 - kScaledDiffIntegerBits)),
                             max_real);
        const auto q = quantizeMultiplier(real, p.single_rounding);
        if (q.shift < 0) return ctx.fail("input scale too small for the fixed-point softmax");
        p.input_multiplier = q.multiplier;
        p.input_left_shift = q.shift;
        // CalculateInputRadius(5, left_shift): floor((2^5 - 1) * 2^26 / 2^left_shift).
        const double max_input_rescaled =
            1.0 * ((1 << kScaledDiffIntegerBits) - 1) *
            static_cast<double>(int64_t{1} << (31 - kScaledDiffIntegerBits)) /
            static_cast<double>(int64_t{1} << p.input_left_shift);
        p.diff_min = -static_cast<int32_t>(std::floor(max_input_rescaled));
        return {};
    }

    void eval(EvalContext& ctx) override {
        const TensorValue& input = ctx.input(0);
        TensorValue& output = ctx.output(0);
        if (m_in == DType::Float32)
            return softmaxFloat(m_beta, m_outer, m_depth, in<float>(input), out<float>(output));
        if (m_in == DType::Int8) {
            if (m_lut)
                return softmaxLut(m_params, m_outer, m_depth, in<int8_t>(input),
                                  out<int8_t>(output));
            return softmaxFixedPoint(m_params, m_outer, m_depth, in<int8_t>(input),
                                     out<int8_t>(output));
        }
        if (m_lut)
            return softmaxLut(m_params, m_outer, m_depth, in<uint8_t>(input), out<uint8_t>(output));
        softmaxFixedPoint(m_params, m_outer, m_depth, in<uint8_t>(input), out<uint8_t>(output));
    }

private:
    SoftmaxParams m_params;
    float m_beta = 1.0f;
    DType m_in = DType::Float32, m_out = DType::Float32;
    int32_t m_depth = 0;
    int64_t m_outer = 0;
    bool m_lut = false;
};

}  // namespace
}  // namespace qs::engine::kernels

namespace qs::engine {
void registerKernels_softmax(KernelRegistry& r) {
    r.add(model::BuiltinOp::SOFTMAX, &makeKernel<kernels::SoftmaxKernel>);
}
}  // namespace qs::engine
