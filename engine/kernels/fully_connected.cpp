// FULLY_CONNECTED: reference loops after TFLM's
// tensorflow/lite/kernels/internal/reference/integer_ops/fully_connected.h (int8, int16x8),
// reference/fully_connected.h (uint8, float), and fast paths on the shared GEMMs (gemm.h): int16
// with the same results for integer types, float within summation rounding.
#include "engine/kernels/fully_connected.h"

#include "model/str_format.h"

#include "engine/kernels/gemm.h"

namespace qs::engine::kernels {

namespace {
using model::DType;

// int8/uint8 products are below 2^16 and depths below 2^15 in practice (checked in prepare:
// the fast GEMM needs depth < 33000); int16x8 accumulates in int64.
template <class In, class W, class Bias, class Acc, RequantRule R>
void fcRefImpl(const FullyConnectedParams& p, int32_t batches, int32_t depth, int32_t units,
               const In* in, const W* filter, const Bias* bias, In* out) {
    for (int32_t b = 0; b < batches; ++b)
        for (int32_t u = 0; u < units; ++u) {
            Acc acc = 0;
            const In* ip = in + int64_t{b} * depth;
            const W* fp = filter + int64_t{u} * depth;
            for (int32_t d = 0; d < depth; ++d)
                acc += (static_cast<Acc>(fp[d]) + p.weights_offset) *
                       (static_cast<Acc>(ip[d]) + p.input_offset);
            if (bias) acc += static_cast<Acc>(bias[u]);
            const size_t ch = p.output_multiplier.size() > 1 ? static_cast<size_t>(u) : 0;
            int32_t v;
            if constexpr (std::is_same_v<Acc, int64_t>)
                v = rq::multiply64(acc, p.output_multiplier[ch], p.output_shift[ch]);
            else
                v = requantize<R>(acc, p.output_multiplier[ch], p.output_shift[ch]);
            v = std::clamp(v + p.output_offset, p.quantized_activation_min,
                           p.quantized_activation_max);
            out[int64_t{b} * units + u] = static_cast<In>(v);
        }
}

}  // namespace

void fullyConnectedReference(const FullyConnectedParams& p, int32_t batches, int32_t depth,
                             int32_t units, const int8_t* in, const int8_t* filter,
                             const int32_t* bias, int8_t* out) {
    withRule(p.rule, [&](auto r) {
        fcRefImpl<int8_t, int8_t, int32_t, int32_t, decltype(r)::value>(p, batches, depth, units,
                                                                        in, filter, bias, out);
    });
}
void fullyConnectedReference(const FullyConnectedParams& p, int32_t batches, int32_t depth,
                             int32_t units, const uint8_t* in, const uint8_t* filter,
                             const int32_t* bias, uint8_t* out) {
    withRule(p.rule, [&](auto r) {
        fcRefImpl<uint8_t, uint8_t, int32_t, int32_t, decltype(r)::value>(p, batches, depth, units,
                                                                          in, filter, bias, out);
    });
}
void fullyConnectedReference(const FullyConnectedParams& p, int32_t batches, int32_t depth,
                             int32_t units, const int16_t* in, const int8_t* filter,
                             const int64_t* bias, int16_t* out) {
    fcRefImpl<int16_t, int8_t, int64_t, int64_t, RequantRule::DoubleRounding>(
        p, batches, depth, units, in, filter, bias, out);
}
void fullyConnectedReference(const FullyConnectedParams& p, int32_t batches, int32_t depth,
                             int32_t units, const float* in, const float* filter, const float* bias,
                             float* out) {
    const FloatRange range{p.float_activation_min, p.float_activation_max};
    for (int32_t b = 0; b < batches; ++b)
        for (int32_t u = 0; u < units; ++u) {
            float total = 0.0f;
            for (int32_t d = 0; d < depth; ++d)
                total += in[int64_t{b} * depth + d] * filter[int64_t{u} * depth + d];
            out[int64_t{b} * units + u] = clampF(total + (bias ? bias[u] : 0.0f), range);
        }
}

namespace {

template <class In, RequantRule R>
void fcFastPackedImpl(const FullyConnectedParams& p, int32_t batches, int32_t depth, int32_t units,
                      const In* in, const PackedWeightsS16& w, const int32_t* bias, In* out,
                      std::vector<int16_t>& a, std::vector<int32_t>& c) {
    const int32_t lda = w.k_pairs * 2, ldc = w.n_blocks * 16;
    a.assign(static_cast<size_t>(batches) * lda, 0);
    c.resize(static_cast<size_t>(batches) * ldc);
    for (int32_t b = 0; b < batches; ++b)
        for (int32_t d = 0; d < depth; ++d)
            a[static_cast<size_t>(b) * lda + d] =
                static_cast<int16_t>(int32_t{in[int64_t{b} * depth + d]} + p.input_offset);
    gemmS16(a.data(), batches, lda, w, c.data(), ldc);
    const bool per_channel = p.output_multiplier.size() > 1;
    for (int32_t b = 0; b < batches; ++b)
        for (int32_t u = 0; u < units; ++u) {
            const size_t ch = per_channel ? static_cast<size_t>(u) : 0;
            int32_t v = c[static_cast<size_t>(b) * ldc + u] + (bias ? bias[u] : 0);
            v = requantize<R>(v, p.output_multiplier[ch], p.output_shift[ch]) + p.output_offset;
            out[int64_t{b} * units + u] = static_cast<In>(
                std::clamp(v, p.quantized_activation_min, p.quantized_activation_max));
        }
}

template <class In>
void fcFastPacked(const FullyConnectedParams& p, int32_t batches, int32_t depth, int32_t units,
                  const In* in, const PackedWeightsS16& w, const int32_t* bias, In* out,
                  std::vector<int16_t>& a, std::vector<int32_t>& c) {
    withRule(p.rule, [&](auto r) {
        fcFastPackedImpl<In, decltype(r)::value>(p, batches, depth, units, in, w, bias, out, a, c);
    });
}

// Float: the packed float GEMM (gemm.h) with bias and activation fused into its store.
void fcFastFloat(const FullyConnectedParams& p, int32_t batches, int32_t units, const float* in,
                 const PackedWeightsF32& w, const float* bias, float* out) {
    gemmF32(in, batches, w.k, w, bias, p.float_activation_min, p.float_activation_max, out, units);
}

}  // namespace

void fullyConnectedFast(const FullyConnectedParams& p, int32_t batches, int32_t depth,
                        int32_t units, const int8_t* in, const int8_t* filter, const int32_t* bias,
                        int8_t* out) {
    std::vector<int16_t> a;
    std::vector<int32_t> c;
    fcFastPacked(p, batches, depth, units, in,
                 packWeightsS16(filter, units, depth, p.weights_offset), bias, out, a, c);
}
void fullyConnectedFast(const FullyConnectedParams& p, int32_t batches, int32_t depth,
                        int32_t units, const uint8_t* in, const uint8_t* filter,
                        const int32_t* bias, uint8_t* out) {
    std::vector<int16_t> a;
    std::vector<int32_t> c;
    fcFastPacked(p, batches, depth, units, in,
                 packWeightsS16(filter, units, depth, p.weights_offset), bias, out, a, c);
}
void fullyConnectedFast(const FullyConnectedParams& p, int32_t batches, int32_t depth,
                        int32_t units, const float* in, const float* filter, const float* bias,
                        float* out) {
    fcFastFloat(p, batches, units, in, packWeightsF32(filter, units, depth), bias, out);
}

namespace {

class FullyConnectedKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const auto* o = ctx.options<model::FullyConnectedOptions>();
        const TensorInfo* input = ctx.input(0);
        const TensorInfo* filter = ctx.input(1);
        const TensorInfo* bias = ctx.input(2);
        if (!o || !input || !filter || ctx.numOutputs() < 1)
            return ctx.fail("needs input, filter and options");
        if (o->weights_format != 0) return ctx.fail("shuffled weights are not supported");
        if (filter->rank() != 2)
            return ctx.fail(strFormat("filter must be 2-D (got {}-D)", filter->rank()));
        TensorInfo& output = ctx.output(0);
        m_units = filter->dim(0);
        m_depth = filter->dim(1);
        const int64_t n = input->numElements();
        if (m_depth <= 0 || n % m_depth != 0)
            return ctx.fail(
                strFormat("input has {} values, not a multiple of depth {}", n, m_depth));
        m_batches = static_cast<int32_t>(n / m_depth);
        if (o->keep_num_dims) {
            output.shape = input->shape;
            output.shape.back() = m_units;
        } else {
            output.shape = {m_batches, m_units};
        }
        if (bias && bias->numElements() != m_units)
            return ctx.fail("bias size differs from the unit count");
        m_type = input->dtype;
        auto& p = m_params;
        if (m_type == DType::Float32) {
            if (filter->dtype != DType::Float32)
                return ctx.fail(
                    strFormat("{} weights with float32 input (hybrid) are not supported yet",
                              model::dtypeName(filter->dtype)));
            auto r = activationRangeFloat(o->fused_activation_function);
            p.float_activation_min = r.min;
            p.float_activation_max = r.max;
        } else if (isQuantizedInt(m_type)) {
            const DType want_filter = m_type == DType::UInt8 ? DType::UInt8 : DType::Int8;
            if (filter->dtype != want_filter)
                return ctx.fail("filter type does not match the input type");
            if (output.dtype != m_type) return ctx.fail("output type differs from input type");
            if (bias && !(bias->dtype == DType::Int32 ||
                          (m_type == DType::Int16 && bias->dtype == DType::Int64)))
                return ctx.fail(
                    strFormat("unsupported bias type {}", model::dtypeName(bias->dtype)));
            if (m_type == DType::Int16 && bias && bias->dtype != DType::Int64)
                return ctx.fail("int16x8 fully connected needs an int64 bias");
            const auto& fq = *filter->quant;
            if (!fq.isQuantized() || !input->quant->isQuantized() || !output.quant->isQuantized())
                return ctx.fail("input, filter and output must be quantized");
            if (fq.isPerChannel()) {
                if (auto r = populateChannelMultipliers(ctx, *input, *filter, output, m_units,
                                                        p.output_multiplier, p.output_shift);
                    !r)
                    return r;
            } else {
                // tensorflow/lite/kernels/kernel_util.cc GetQuantizedConvolutionMultipler: the
                // scale product is taken in float, then divided in double (the uint8 form of
                // convMultiplier); XNNPACK divides in float.
                const auto q = convMultiplier(ctx, ctx.rule(m_type), DType::UInt8, input->scale(),
                                              filter->scale(), output.scale());
                p.output_multiplier = {q.multiplier};
                p.output_shift = {q.shift};
            }
            p.input_offset = -input->zeroPoint();
            p.weights_offset = -filter->zeroPoint();
            p.output_offset = output.zeroPoint();
            auto range = activationRangeQuantized(o->fused_activation_function, m_type,
                                                  output.scale(), output.zeroPoint());
            p.quantized_activation_min = range.min;
            p.quantized_activation_max = range.max;
            p.rule = ctx.rule(m_type);
        } else {
            return ctx.fail(strFormat("input type {} is not supported", model::dtypeName(m_type)));
        }
        m_fast = !ctx.plain() && m_type != DType::Int16 && m_depth < 33000;
        if (m_fast)
            m_filter.prepare(filter->constant, m_type, m_units, m_depth,
                             m_type == DType::Float32 ? 0 : p.weights_offset);
        return {};
    }

    void eval(EvalContext& ctx) override {
        const TensorValue& input = ctx.input(0);
        const TensorValue& filter = ctx.input(1);
        const TensorValue* bias = ctx.hasInput(2) ? &ctx.input(2) : nullptr;
        TensorValue& output = ctx.output(0);
        const auto& p = m_params;
        switch (m_type) {
            case DType::Float32: {
                const float* b = bias ? in<float>(*bias) : nullptr;
                if (m_fast) {
                    fcFastFloat(p, m_batches, m_units, in<float>(input), m_filter.f32(filter), b,
                                out<float>(output));
                } else
                    fullyConnectedReference(p, m_batches, m_depth, m_units, in<float>(input),
                                            in<float>(filter), b, out<float>(output));
                break;
            }
            case DType::Int8:
                evalQuant<int8_t>(input, filter, bias, output);
                break;
            case DType::UInt8:
                evalQuant<uint8_t>(input, filter, bias, output);
                break;
            case DType::Int16:
                fullyConnectedReference(p, m_batches, m_depth, m_units, in<int16_t>(input),
                                        in<int8_t>(filter), bias ? in<int64_t>(*bias) : nullptr,
                                        out<int16_t>(output));
                break;
            default:
                break;
        }
    }

private:
    template <class T>
    void evalQuant(const TensorValue& input, const TensorValue& filter, const TensorValue* bias,
                   TensorValue& output) {
        const int32_t* b = bias ? in<int32_t>(*bias) : nullptr;
        if (!m_fast) {
            fullyConnectedReference(m_params, m_batches, m_depth, m_units, in<T>(input),
                                    in<T>(filter), b, out<T>(output));
            return;
        }
        fcFastPacked<T>(m_params, m_batches, m_depth, m_units, in<T>(input), m_filter.s16(filter),
                        b, out<T>(output), m_a, m_c);
    }

    FullyConnectedParams m_params;
    int32_t m_batches = 0, m_depth = 0, m_units = 0;
    DType m_type = DType::Float32;
    bool m_fast = false;
    PackedFilter m_filter;
    std::vector<int16_t> m_a;
    std::vector<int32_t> m_c;
};

}  // namespace
}  // namespace qs::engine::kernels

namespace qs::engine {
void registerKernels_fully_connected(KernelRegistry& r) {
    r.add(model::BuiltinOp::FULLY_CONNECTED, &makeKernel<kernels::FullyConnectedKernel>);
}
}  // namespace qs::engine
