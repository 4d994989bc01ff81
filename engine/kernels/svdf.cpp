#include "engine/kernels/svdf.h"

#include <algorithm>
#include <cmath>

#include "model/str_format.h"

namespace qs::engine::kernels {

namespace {

// Shift every filter's memory left by one (the newest activation goes last): one copy over
// the whole state, as both upstream kernels do; the value that moves into each filter's last
// slot from the next filter is overwritten by the feature matmul right after.
template <class T>
void shiftStateLeft(T* state, int64_t n) {
    if (n > 1) std::copy(state + 1, state + n, state);
}

}  // namespace

void svdfReference(const SvdfParams& p, const SvdfShape& s, const float* input,
                   const float* weights_feature, const float* weights_time, const float* bias,
                   float* state, float* scratch, float* output) {
    const int32_t units = s.units(p.rank);
    shiftStateLeft(state, int64_t{s.batch} * s.num_filters * s.memory_size);
    // Feature matmul into the newest column of the state.
    for (int32_t b = 0; b < s.batch; ++b) {
        const float* x = input + int64_t{b} * s.input_size;
        for (int32_t f = 0; f < s.num_filters; ++f) {
            const float* w = weights_feature + int64_t{f} * s.input_size;
            float acc = 0.0f;
            for (int32_t k = 0; k < s.input_size; ++k) acc += w[k] * x[k];
            state[(int64_t{b} * s.num_filters + f) * s.memory_size + s.memory_size - 1] = acc;
        }
    }
    // Time filter: one dot product over the memory per filter.
    for (int32_t b = 0; b < s.batch; ++b) {
        for (int32_t f = 0; f < s.num_filters; ++f) {
            const float* w = weights_time + int64_t{f} * s.memory_size;
            const float* m = state + (int64_t{b} * s.num_filters + f) * s.memory_size;
            float acc = 0.0f;
            for (int32_t j = 0; j < s.memory_size; ++j) acc += w[j] * m[j];
            scratch[int64_t{b} * s.num_filters + f] = acc;
        }
    }
    const FloatRange range = activationRangeFloat(p.activation);
    for (int32_t b = 0; b < s.batch; ++b) {
        for (int32_t u = 0; u < units; ++u) {
            const float* r = scratch + int64_t{b} * s.num_filters + int64_t{u} * p.rank;
            float acc = 0.0f;
            if (p.bias_first) {
                acc = bias ? bias[u] : 0.0f;
                for (int32_t k = 0; k < p.rank; ++k) acc += r[k];
            } else {
                for (int32_t k = 0; k < p.rank; ++k) acc += r[k];
                if (bias) acc += bias[u];
            }
            output[int64_t{b} * units + u] = clampF(acc, range);
        }
    }
}

template <class T>
void svdfIntegerReference(const SvdfParams& p, const SvdfShape& s, const int8_t* input,
                          const int8_t* weights_feature, const T* weights_time, const int32_t* bias,
                          T* state, int32_t* scratch, int8_t* output) {
    const int32_t units = s.units(p.rank);
    shiftStateLeft(state, int64_t{s.batch} * s.num_filters * s.memory_size);
    withRule(p.rule, [&](auto rule_tag) {
        constexpr RequantRule R = decltype(rule_tag)::value;
        // Feature matmul: |w * (x - zp)| <= 128 * 255, so int32 holds input_size < 65k terms.
        for (int32_t b = 0; b < s.batch; ++b) {
            const int8_t* x = input + int64_t{b} * s.input_size;
            for (int32_t f = 0; f < s.num_filters; ++f) {
                const int8_t* w = weights_feature + int64_t{f} * s.input_size;
                int32_t acc = 0;
                for (int32_t k = 0; k < s.input_size; ++k)
                    acc += int32_t{w[k]} * (int32_t{x[k]} - p.input_zero_point);
                acc = requantize<R>(acc, p.effective_scale_1_a, p.effective_scale_1_b);
                // svdf_common.cc: the state zero point is added before the clamp, so the sum
                // cannot wrap when narrowed into the state.
                acc += p.activation_state_zero_point;
                acc = std::clamp(acc, qmin<T>(), qmax<T>());
                state[(int64_t{b} * s.num_filters + f) * s.memory_size + s.memory_size - 1] =
                    static_cast<T>(acc);
            }
        }
        // Time filter: int16 x (int16 - zp) products, summed in int32 over memory_size terms
        // (upstream sums the same way and relies on the converter's ranges).
        for (int32_t b = 0; b < s.batch; ++b) {
            for (int32_t f = 0; f < s.num_filters; ++f) {
                const T* w = weights_time + int64_t{f} * s.memory_size;
                const T* m = state + (int64_t{b} * s.num_filters + f) * s.memory_size;
                int32_t acc = 0;
                for (int32_t j = 0; j < s.memory_size; ++j)
                    acc += int32_t{w[j]} * (int32_t{m[j]} - p.activation_state_zero_point);
                scratch[int64_t{b} * s.num_filters + f] = acc;
            }
        }
        // Bias + rank reduction (integer addition: the order does not matter), rescale, clamp
        // to int8. Neither upstream applies the fused activation here (TFLite builtin insists
        // on RELU but does not apply it; TFLM ignores it).
        for (int32_t b = 0; b < s.batch; ++b) {
            for (int32_t u = 0; u < units; ++u) {
                int32_t acc = bias ? bias[u] : 0;
                const int32_t* r = scratch + int64_t{b} * s.num_filters + int64_t{u} * p.rank;
                for (int32_t k = 0; k < p.rank; ++k) acc += r[k];
                int32_t v = requantize<R>(acc, p.effective_scale_2_a, p.effective_scale_2_b);
                v = std::clamp(v + p.output_zero_point, qmin<int8_t>(), qmax<int8_t>());
                output[int64_t{b} * units + u] = static_cast<int8_t>(v);
            }
        }
    });
}

template void svdfIntegerReference<int8_t>(const SvdfParams&, const SvdfShape&, const int8_t*,
                                           const int8_t*, const int8_t*, const int32_t*, int8_t*,
                                           int32_t*, int8_t*);
template void svdfIntegerReference<int16_t>(const SvdfParams&, const SvdfShape&, const int8_t*,
                                            const int8_t*, const int16_t*, const int32_t*, int16_t*,
                                            int32_t*, int8_t*);

namespace {

using model::DType;

class SvdfKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const auto* o = ctx.options<model::SVDFOptions>();
        if (!o) return ctx.fail("missing SVDFOptions");
        const TensorInfo* in = ctx.input(0);
        const TensorInfo* wf = ctx.input(1);
        const TensorInfo* wt = ctx.input(2);
        const TensorInfo* bias = ctx.input(3);
        const TensorInfo* state = ctx.input(4);
        if (!in || !wf || !wt || !state || ctx.numOutputs() != 1)
            return ctx.fail(
                "needs input, weights_feature, weights_time, (bias), state and one "
                "output");
        if (in->rank() != 2 || wf->rank() != 2 || wt->rank() != 2 || state->rank() != 2)
            return ctx.fail("input, weights and state must be 2-D");
        m_params.rank = o->rank;
        m_params.activation = o->fused_activation_function;
        m_shape.batch = in->dim(0);
        m_shape.input_size = in->dim(1);
        m_shape.num_filters = wf->dim(0);
        m_shape.memory_size = wt->dim(1);
        // svdf.cc / svdf_common.cc PrepareSvdf checks.
        if (o->rank <= 0 || m_shape.num_filters % o->rank != 0)
            return ctx.fail(
                strFormat("rank {} does not divide num_filters {}", o->rank, m_shape.num_filters));
        const int32_t units = m_shape.units(o->rank);
        if (wf->dim(1) != m_shape.input_size || wt->dim(0) != m_shape.num_filters)
            return ctx.fail("weights_feature/weights_time shapes do not fit the input");
        if (bias && bias->numElements() != units)
            return ctx.fail(
                strFormat("bias has {} elements, needs {}", bias->numElements(), units));
        if (state->dim(0) != m_shape.batch ||
            state->dim(1) != m_shape.memory_size * m_shape.num_filters)
            return ctx.fail(strFormat("state is [{}], needs [{},{}]", shapeString(state->shape),
                                      m_shape.batch, m_shape.memory_size * m_shape.num_filters));
        // TFLM: "Since is_variable is not part of TFLiteEvalTensor, check is_variable here."
        if (!state->isVariable())
            return ctx.fail("the state tensor (input 4) must be a variable tensor");
        TensorInfo& out = ctx.output(0);
        out.shape = {m_shape.batch, units};
        m_type = in->dtype;
        m_state_type = state->dtype;
        m_has_bias = bias != nullptr;
        m_params.bias_first = ctx.profile() == RoundingProfile::Reference ||
                              ctx.profile() == RoundingProfile::SingleRounding;

        if (in->dtype == DType::Float32) {
            if (wf->dtype != DType::Float32 || wt->dtype != DType::Float32 ||
                state->dtype != DType::Float32 || out.dtype != DType::Float32 ||
                (bias && bias->dtype != DType::Float32))
                return ctx.fail(
                    "float SVDF needs float weights, state, bias and output (hybrid "
                    "SVDF is not supported)");
            return {};
        }
        if (in->dtype != DType::Int8 || wf->dtype != DType::Int8 || out.dtype != DType::Int8 ||
            (bias && bias->dtype != DType::Int32))
            return ctx.fail(strFormat("unsupported types: input {}, weights_feature {}, output {}",
                                      model::dtypeName(in->dtype), model::dtypeName(wf->dtype),
                                      model::dtypeName(out.dtype)));
        if (!((wt->dtype == DType::Int16 && state->dtype == DType::Int16) ||
              (wt->dtype == DType::Int8 && state->dtype == DType::Int8)))
            return ctx.fail("weights_time and state must both be int16 or both int8");
        // TFLite builtin reads the state as int16 unconditionally (svdf.cc Eval).
        if ((ctx.profile() == RoundingProfile::Builtin ||
             ctx.profile() == RoundingProfile::Xnnpack) &&
            state->dtype != DType::Int16)
            return ctx.fail("TFLite's builtin int8 SVDF needs an int16 state");
        // Both upstreams compute the products in float (the scales are floats) and only then
        // widen to double: svdf_common.cc PrepareSvdf, svdf.cc Prepare.
        const float scale_1 = in->scale() * wf->scale() / state->scale();
        const float scale_2 = state->scale() * wt->scale() / out.scale();
        const auto m1 = quantizeMultiplierFor(ctx.profile(), static_cast<double>(scale_1));
        const auto m2 = quantizeMultiplierFor(ctx.profile(), static_cast<double>(scale_2));
        m_params.effective_scale_1_a = m1.multiplier;
        m_params.effective_scale_1_b = m1.shift;
        m_params.effective_scale_2_a = m2.multiplier;
        m_params.effective_scale_2_b = m2.shift;
        m_params.input_zero_point = in->zeroPoint();
        m_params.output_zero_point = out.zeroPoint();
        m_params.activation_state_zero_point = state->zeroPoint();
        m_params.rule = ctx.rule(DType::Int8);
        return {};
    }

    void eval(EvalContext& ctx) override {
        TensorValue* state = ctx.variable(4);
        if (!state) return ctx.fail("the state tensor is not writable (not run by the executor)");
        const bool has_bias = m_has_bias && ctx.hasInput(3);
        m_scratch.resize(static_cast<size_t>(m_shape.batch) * m_shape.num_filters);
        if (m_type == DType::Float32) {
            std::vector<float> scratch(m_scratch.size());
            svdfReference(m_params, m_shape, in<float>(ctx.input(0)), in<float>(ctx.input(1)),
                          in<float>(ctx.input(2)), has_bias ? in<float>(ctx.input(3)) : nullptr,
                          out<float>(*state), scratch.data(), out<float>(ctx.output(0)));
            return;
        }
        const int32_t* bias = has_bias ? in<int32_t>(ctx.input(3)) : nullptr;
        if (m_state_type == DType::Int16)
            svdfIntegerReference<int16_t>(m_params, m_shape, in<int8_t>(ctx.input(0)),
                                          in<int8_t>(ctx.input(1)), in<int16_t>(ctx.input(2)), bias,
                                          out<int16_t>(*state), m_scratch.data(),
                                          out<int8_t>(ctx.output(0)));
        else
            svdfIntegerReference<int8_t>(m_params, m_shape, in<int8_t>(ctx.input(0)),
                                         in<int8_t>(ctx.input(1)), in<int8_t>(ctx.input(2)), bias,
                                         out<int8_t>(*state), m_scratch.data(),
                                         out<int8_t>(ctx.output(0)));
    }

private:
    SvdfParams m_params;
    SvdfShape m_shape;
    DType m_type = DType::Float32;
    DType m_state_type = DType::Float32;
    bool m_has_bias = false;
    std::vector<int32_t> m_scratch;
};

}  // namespace

}  // namespace qs::engine::kernels

namespace qs::engine {
void registerKernels_svdf(KernelRegistry& r) {
    r.add(model::BuiltinOp::SVDF, &makeKernel<kernels::SvdfKernel>);
}
}  // namespace qs::engine
