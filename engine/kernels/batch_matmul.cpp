// BATCH_MATMUL kernels. Prepare follows TFLite's tensorflow/lite/kernels/batch_matmul.cc
// (google-ai-edge/LiteRT tflite/kernels/batch_matmul.cc): output shape, broadcasting rules,
// one per-tensor multiplier from GetQuantizedConvolutionMultipler and the full int8/int16
// range as clamp (the op has no fused activation).
#include "engine/kernels/batch_matmul.h"

#include "model/str_format.h"

namespace qs::engine::kernels {

namespace {

using model::DType;

template <class Acc, class L, class R, class F>
void forEachDot(const BatchMatMulShape& s, const L* lhs, const R* rhs, F&& emit) {
    // Element strides of the matrix dimensions, transposed reads for adj_x / adj_y.
    const int64_t l_row = s.adj_x ? 1 : s.depth, l_k = s.adj_x ? s.rows : 1;
    const int64_t r_k = s.adj_y ? 1 : s.cols, r_col = s.adj_y ? s.depth : 1;
    int64_t o = 0;
    for (int32_t b0 = 0; b0 < s.batch[0]; ++b0)
        for (int32_t b1 = 0; b1 < s.batch[1]; ++b1)
            for (int32_t b2 = 0; b2 < s.batch[2]; ++b2) {
                const L* lb = lhs + b0 * s.lhs_batch_stride[0] + b1 * s.lhs_batch_stride[1] +
                              b2 * s.lhs_batch_stride[2];
                const R* rb = rhs + b0 * s.rhs_batch_stride[0] + b1 * s.rhs_batch_stride[1] +
                              b2 * s.rhs_batch_stride[2];
                for (int32_t i = 0; i < s.rows; ++i)
                    for (int32_t j = 0; j < s.cols; ++j, ++o) {
                        Acc acc = 0;
                        const L* lp = lb + i * l_row;
                        const R* rp = rb + j * r_col;
                        for (int32_t k = 0; k < s.depth; ++k)
                            emit.accumulate(acc, lp[k * l_k], rp[k * r_k]);
                        emit.store(o, acc);
                    }
            }
}

template <class T, class W, class Acc, RequantRule Rule>
struct QuantEmit {
    const BatchMatMulParams& p;
    T* out;
    void accumulate(Acc& acc, T l, W r) const {
        acc += (static_cast<Acc>(l) + p.input_offset) * (static_cast<Acc>(r) + p.weights_offset);
    }
    void store(int64_t o, Acc acc) const {
        int32_t v;
        if constexpr (std::is_same_v<Acc, int64_t>)
            // reference_ops::BatchMatMul<int16_t, int64_t>: the int64
            // MultiplyByQuantizedMultiplier.
            v = rq::multiply64(acc, p.output_multiplier, p.output_shift);
        else
            v = requantize<Rule>(acc, p.output_multiplier, p.output_shift);
        out[o] = static_cast<T>(std::clamp(v + p.output_offset, p.quantized_activation_min,
                                           p.quantized_activation_max));
    }
};

struct FloatEmit {
    float* out;
    void accumulate(float& acc, float l, float r) const { acc += l * r; }
    void store(int64_t o, float acc) const { out[o] = acc; }
};

}  // namespace

void batchMatMulReference(const BatchMatMulShape& s, const float* lhs, const float* rhs,
                          float* out) {
    forEachDot<float>(s, lhs, rhs, FloatEmit{out});
}
void batchMatMulReference(const BatchMatMulParams& p, const BatchMatMulShape& s, const int8_t* lhs,
                          const int8_t* rhs, int8_t* out) {
    // |lhs + offset| <= 255 and |rhs| <= 128: products below 2^15, int32 holds 2^16 terms.
    withRule(p.rule, [&](auto r) {
        forEachDot<int32_t>(s, lhs, rhs,
                            QuantEmit<int8_t, int8_t, int32_t, decltype(r)::value>{p, out});
    });
}
void batchMatMulReference(const BatchMatMulParams& p, const BatchMatMulShape& s, const int16_t* lhs,
                          const int16_t* rhs, int16_t* out) {
    forEachDot<int64_t>(s, lhs, rhs,
                        QuantEmit<int16_t, int16_t, int64_t, RequantRule::DoubleRounding>{p, out});
}
void batchMatMulReference(const BatchMatMulParams& p, const BatchMatMulShape& s, const int16_t* lhs,
                          const int8_t* rhs, int16_t* out) {
    forEachDot<int64_t>(s, lhs, rhs,
                        QuantEmit<int16_t, int8_t, int64_t, RequantRule::DoubleRounding>{p, out});
}

namespace {

class BatchMatMulKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const auto* o = ctx.options<model::BatchMatMulOptions>();
        const TensorInfo* lhs = ctx.input(0);
        const TensorInfo* rhs = ctx.input(1);
        if (!lhs || !rhs || ctx.numOutputs() < 1) return ctx.fail("needs two inputs");
        const bool adj_x = o && o->adj_x, adj_y = o && o->adj_y;
        const int lr = lhs->rank(), rr = rhs->rank();
        if (lr < 2 || lr > 5 || rr < 2 || rr > 5) return ctx.fail("operands must have rank 2 to 5");
        const int out_rank = std::max(lr, rr);
        auto extended = [&](const TensorInfo& t) {
            std::vector<int32_t> e(static_cast<size_t>(out_rank - t.rank()), 1);
            e.insert(e.end(), t.shape.begin(), t.shape.end());
            return e;
        };
        const auto le = extended(*lhs), re = extended(*rhs);
        auto& s = m_shape;
        s.adj_x = adj_x;
        s.adj_y = adj_y;
        s.rows = adj_x ? le[out_rank - 1] : le[out_rank - 2];
        s.depth = adj_x ? le[out_rank - 2] : le[out_rank - 1];
        s.cols = adj_y ? re[out_rank - 2] : re[out_rank - 1];
        const int32_t rhs_depth = adj_y ? re[out_rank - 1] : re[out_rank - 2];
        if (rhs_depth != s.depth)
            return ctx.fail(strFormat("inner dimensions differ ({} vs {})", s.depth, rhs_depth));
        TensorInfo& output = ctx.output(0);
        output.shape.assign(static_cast<size_t>(out_rank), 0);
        // Batch dims: right-aligned into 3 slots, broadcasting with stride 0 where a dim is 1.
        const int nb = out_rank - 2;
        int64_t l_stride = int64_t{le[out_rank - 2]} * le[out_rank - 1];
        int64_t r_stride = int64_t{re[out_rank - 2]} * re[out_rank - 1];
        for (int i = nb - 1; i >= 0; --i) {
            const int32_t ld = le[i], rd = re[i];
            if (ld != rd && ld != 1 && rd != 1)
                return ctx.fail(
                    strFormat("batch dimension {} cannot broadcast ({} vs {})", i, ld, rd));
            const int slot = 3 - nb + i;
            s.batch[slot] = std::max(ld, rd);
            s.lhs_batch_stride[slot] = ld == 1 ? 0 : l_stride;
            s.rhs_batch_stride[slot] = rd == 1 ? 0 : r_stride;
            output.shape[static_cast<size_t>(i)] = s.batch[slot];
            l_stride *= ld;
            r_stride *= rd;
        }
        output.shape[static_cast<size_t>(out_rank - 2)] = s.rows;
        output.shape[static_cast<size_t>(out_rank - 1)] = s.cols;

        m_lhs = lhs->dtype;
        m_rhs = rhs->dtype;
        if (m_lhs == DType::Float32) {
            if (m_rhs != DType::Float32)
                return ctx.fail(
                    strFormat("float32 x {} (hybrid) is not supported", model::dtypeName(m_rhs)));
            return {};
        }
        const bool ok = (m_lhs == DType::Int8 && m_rhs == DType::Int8) ||
                        (m_lhs == DType::Int16 && (m_rhs == DType::Int16 || m_rhs == DType::Int8));
        if (!ok)
            return ctx.fail(strFormat("{} x {} is not supported", model::dtypeName(m_lhs),
                                      model::dtypeName(m_rhs)));
        if (output.dtype != m_lhs)
            return ctx.fail(
                strFormat("{} output is not supported", model::dtypeName(output.dtype)));
        if (!lhs->quant->isQuantized() || !rhs->quant->isQuantized() ||
            !output.quant->isQuantized())
            return ctx.fail("operands and output must be quantized");
        auto& p = m_params;
        // The kernel takes one per-tensor multiplier from TfLiteTensor::params.scale. For a
        // per-channel rhs that legacy scale is 0 in TFLite (core/subgraph.cc
        // GetLegacyQuantization only fills it for single-scale tensors), so the multiplier is
        // 0 and every output equals the output zero point: what tflite_builtin and litert
        // return for static_w8_a16_quantized_q_einsum. TFLM copies scale[0] into params.scale
        // (micro_allocator.cc), so the reference profiles use the first scale.
        float rhs_scale = rhs->scale(0);
        const bool tflite_runtime =
            ctx.profile() == RoundingProfile::Builtin || ctx.profile() == RoundingProfile::Xnnpack;
        if (rhs->quant->isPerChannel() && tflite_runtime) rhs_scale = 0.0f;
        // kernel_util.cc GetQuantizedConvolutionMultipler: the scale product in float.
        const double real =
            static_cast<double>(lhs->scale() * rhs_scale) / static_cast<double>(output.scale());
        auto q = quantizeMultiplierFor(ctx.profile(), real);
        p.output_multiplier = q.multiplier;
        p.output_shift = q.shift;
        p.input_offset = -lhs->zeroPoint();
        p.weights_offset = -rhs->zeroPoint();
        p.output_offset = output.zeroPoint();
        if (m_lhs == DType::Int16 &&
            (p.input_offset != 0 || p.weights_offset != 0 || p.output_offset != 0))
            return ctx.fail("int16 batch matmul needs zero points of 0");
        p.quantized_activation_min = m_lhs == DType::Int8 ? qmin<int8_t>() : qmin<int16_t>();
        p.quantized_activation_max = m_lhs == DType::Int8 ? qmax<int8_t>() : qmax<int16_t>();
        p.rule = ctx.rule(m_lhs);
        return {};
    }

    void eval(EvalContext& ctx) override {
        const TensorValue& lhs = ctx.input(0);
        const TensorValue& rhs = ctx.input(1);
        TensorValue& output = ctx.output(0);
        if (m_lhs == DType::Float32) {
            batchMatMulReference(m_shape, in<float>(lhs), in<float>(rhs), out<float>(output));
        } else if (m_lhs == DType::Int8) {
            batchMatMulReference(m_params, m_shape, in<int8_t>(lhs), in<int8_t>(rhs),
                                 out<int8_t>(output));
        } else if (m_rhs == DType::Int16) {
            batchMatMulReference(m_params, m_shape, in<int16_t>(lhs), in<int16_t>(rhs),
                                 out<int16_t>(output));
        } else {
            batchMatMulReference(m_params, m_shape, in<int16_t>(lhs), in<int8_t>(rhs),
                                 out<int16_t>(output));
        }
    }

private:
    BatchMatMulShape m_shape;
    BatchMatMulParams m_params;
    DType m_lhs = DType::Float32, m_rhs = DType::Float32;
};

}  // namespace
}  // namespace qs::engine::kernels

namespace qs::engine {
void registerKernels_batch_matmul(KernelRegistry& r) {
    r.add(model::BuiltinOp::BATCH_MATMUL, &makeKernel<kernels::BatchMatMulKernel>);
}
}  // namespace qs::engine
