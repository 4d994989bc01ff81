// MEAN (float32, int8, uint8, int16).
//  * reference / single-rounding follow TFLM (tensorflow/lite/micro/kernels/reduce_common.cc):
//    4-D over H and W: reference/integer_ops/mean.h (one requantization, see prepare); other
//    axes: reference/reduce.h QuantizedMeanOrSum's float math:
//    round(float(sum) / n * (s_in / s_out) - zp_in * (s_in / s_out)) + zp_out.
//  * xnnpack (int8/uint8) follows XNNPACK's reduce-nd mean: see prepare.
//  * builtin follows TFLite's reduce.cc for 4-D inputs reduced over H and W
//    (reference_ops::Mean uint8 form, also used for int8): integer sum times a quantized
//    multiplier for s_in / (n * s_out), plus zp_out - round(zp_in * s_in / s_out); other
//    shapes use the float form above.
#include <bit>
#include <cmath>
#include "model/str_format.h"

#include "engine/kernels/common.h"

namespace qs::engine::kernels {

namespace {

using model::DType;

class MeanKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* input = ctx.input(0);
        const TensorInfo* axis = ctx.input(1);
        if (!input || !axis || ctx.numOutputs() < 1) return ctx.fail("needs input and axis");
        if (!axis->isConstant() || axis->dtype != DType::Int32)
            return ctx.fail("axis must be a constant int32 tensor");
        const auto* o = ctx.options<model::ReducerOptions>();
        const bool keep_dims = o && o->keep_dims;
        const int rank = input->rank();
        m_reduced.assign(static_cast<size_t>(rank), false);
        for (int32_t a : axis->constant->data<int32_t>()) {
            const int32_t ax = a < 0 ? a + rank : a;
            if (ax < 0 || ax >= rank)
                return ctx.fail(strFormat("axis {} is out of range for rank {}", a, rank));
            m_reduced[static_cast<size_t>(ax)] = true;
        }
        TensorInfo& output = ctx.output(0);
        output.shape.clear();
        m_in_shape = input->shape;
        m_count = 1;
        for (int d = 0; d < rank; ++d) {
            if (m_reduced[static_cast<size_t>(d)]) {
                m_count *= input->dim(d);
                if (keep_dims) output.shape.push_back(1);
            } else {
                output.shape.push_back(input->dim(d));
            }
        }
        m_type = input->dtype;
        if (output.dtype != m_type) return ctx.fail("output type differs from input type");
        if (m_type == DType::Float32) return {};
        if (!isQuantizedInt(m_type))
            return ctx.fail(strFormat("type {} is not supported", model::dtypeName(m_type)));
        m_in_zp = input->zeroPoint();
        m_out_zp = output.zeroPoint();
        m_in_scale = input->scale();
        m_out_scale = output.scale();
        m_same_quant = false;
        m_builtin_integer = false;
        m_xnnpack = false;
        const bool hw = rank == 4 && m_reduced[1] && m_reduced[2] && !m_reduced[0] && !m_reduced[3];
        // TFLM: 4-D over H and W uses reference_integer_ops::Mean
        // (tensorflow/lite/kernels/internal/reference/integer_ops/mean.h): the s_in / s_out
        // multiplier absorbs 1/count as (m << k) / count, shift - k, with
        // k = min(floor(log2(count)), 32, 31 + shift); then sum(x - zp_in) is requantized once.
        // Verified bit-exact on mobilenet_v2_quantized op 81 (tflm and tflm_single_rounding).
        m_tflm_integer = hw;
        if (hw) {
            const auto q = quantizeMultiplierFor(
                ctx.profile(), static_cast<double>(m_in_scale) / static_cast<double>(m_out_scale));
            int k = 63 - std::countl_zero(static_cast<uint64_t>(m_count));
            k = std::min(k, 32);
            k = std::min(k, 31 + q.shift);
            m_multiplier =
                static_cast<int32_t>((static_cast<int64_t>(q.multiplier) << k) / m_count);
            m_shift = q.shift - k;
            m_rule = ctx.rule(m_type);
        }
        if (ctx.profile() == RoundingProfile::Xnnpack && m_type != DType::Int16) {
            // XNNPACK's qs8/qu8 mean (google/XNNPACK src/operators/reduce-nd.c
            // update_params_mean_qs8: scale = float(s_in / s_out) * (1.0f / n), params from
            // src/microparams-init.c xnn_init_qs8_reduce_minmax_scalar_params): the int32 sum
            // minus n * zp_in, converted to float, times the float scale, rounded to nearest
            // even, plus zp_out. Verified on mobilenet_v2_quantized op 81 (litert).
            m_tflm_integer = false;
            m_xnnpack = true;
            m_xnn_scale = (m_in_scale / m_out_scale) * (1.0f / static_cast<float>(m_count));
            return {};
        }
        if (ctx.profile() == RoundingProfile::Builtin) {
            m_tflm_integer = false;
            const bool hw =
                rank == 4 && m_reduced[1] && m_reduced[2] && !m_reduced[0] && !m_reduced[3];
            if (hw && m_type != DType::Int16) {
                m_builtin_integer = true;
                float temp = static_cast<float>(m_in_zp) * m_in_scale / m_out_scale;
                temp = temp > 0 ? temp + 0.5f : temp - 0.5f;
                m_bias = m_out_zp - static_cast<int32_t>(temp);
                const double real =
                    static_cast<double>(m_in_scale / (static_cast<float>(m_count) * m_out_scale));
                auto q = quantizeMultiplier(real);
                m_multiplier = q.multiplier;
                m_shift = q.shift;
            }
        }
        return {};
    }

    void eval(EvalContext& ctx) override {
        switch (m_type) {
            case DType::Float32:
                run<float>(ctx);
                break;
            case DType::Int8:
                run<int8_t>(ctx);
                break;
            case DType::UInt8:
                run<uint8_t>(ctx);
                break;
            case DType::Int16:
                run<int16_t>(ctx);
                break;
            default:
                break;
        }
    }

private:
    template <class T>
    void run(EvalContext& ctx) {
        const T* x = in<T>(ctx.input(0));
        TensorValue& output = ctx.output(0);
        T* y = out<T>(output);
        const int64_t n_out = output.numElements();
        using Acc = std::conditional_t<std::is_floating_point_v<T>, float, int32_t>;
        std::vector<Acc> sums(static_cast<size_t>(n_out), Acc{0});
        // Walk the input in row-major order, adding each element to its output slot (the
        // order TFLite's ReduceSumImpl uses, which matters for float sums).
        const size_t rank = m_in_shape.size();
        std::vector<int64_t> out_stride(rank, 0);
        int64_t s = 1;
        for (size_t d = rank; d-- > 0;) {
            if (!m_reduced[d]) {
                out_stride[d] = s;
                s *= m_in_shape[d];
            }
        }
        std::vector<int32_t> idx(rank, 0);
        const int64_t n_in = shapeElements(m_in_shape);
        int64_t o = 0;
        for (int64_t i = 0; i < n_in; ++i) {
            sums[static_cast<size_t>(o)] += static_cast<Acc>(x[i]);
            for (size_t d = rank; d-- > 0;) {
                ++idx[d];
                o += out_stride[d];
                if (idx[d] < m_in_shape[d]) break;
                o -= out_stride[d] * idx[d];
                idx[d] = 0;
            }
        }
        for (int64_t i = 0; i < n_out; ++i) {
            const Acc sum = sums[static_cast<size_t>(i)];
            if constexpr (std::is_floating_point_v<T>) {
                y[i] = sum / static_cast<float>(m_count);
            } else if (m_xnnpack) {
                const int32_t centered = sum - m_in_zp * static_cast<int32_t>(m_count);
                const int32_t v = rq::multiplyFp32(centered, m_xnn_scale) + m_out_zp;
                y[i] = static_cast<T>(std::clamp(v, qmin<T>(), qmax<T>()));
            } else if (m_builtin_integer) {
                int32_t acc = rq::multiplyDoubleRounding(sum, m_multiplier, m_shift) + m_bias;
                y[i] = static_cast<T>(std::clamp(acc, qmin<T>(), qmax<T>()));
            } else if (m_tflm_integer) {
                const int32_t count = static_cast<int32_t>(m_count);
                const int32_t acc =
                    requantize(m_rule, sum - m_in_zp * count, m_multiplier, m_shift);
                y[i] = static_cast<T>(std::clamp(acc + m_out_zp, qmin<T>(), qmax<T>()));
            } else if (m_same_quant) {
                y[i] = static_cast<T>(sum / static_cast<int32_t>(m_count));
            } else {
                const float scale = m_in_scale / m_out_scale;
                const float bias = static_cast<float>(-m_in_zp) * scale;
                const float mean = static_cast<float>(sum) / static_cast<float>(m_count);
                float r = std::round(mean * scale + bias) + static_cast<float>(m_out_zp);
                r = std::min(r, static_cast<float>(qmax<T>()));
                r = std::max(r, static_cast<float>(qmin<T>()));
                y[i] = static_cast<T>(r);
            }
        }
    }

    std::vector<bool> m_reduced;
    std::vector<int32_t> m_in_shape;
    int64_t m_count = 1;
    DType m_type = DType::Float32;
    int32_t m_in_zp = 0, m_out_zp = 0;
    float m_in_scale = 1.0f, m_out_scale = 1.0f;
    bool m_same_quant = false, m_builtin_integer = false, m_tflm_integer = false;
    bool m_xnnpack = false;
    float m_xnn_scale = 1.0f;
    RequantRule m_rule = RequantRule::DoubleRounding;
    int32_t m_bias = 0, m_multiplier = 0, m_shift = 0;
};

}  // namespace
}  // namespace qs::engine::kernels

namespace qs::engine {
void registerKernels_reduce(KernelRegistry& r) {
    r.add(model::BuiltinOp::MEAN, &makeKernel<kernels::MeanKernel>);
}
}  // namespace qs::engine
