// ARG_MAX and ARG_MIN over one axis (tensorflow/lite/kernels/arg_min_max.cc,
// kernels/internal/reference/arg_min_max.h; tflite-micro micro/kernels/arg_min_max.cc runs
// the same reference loop). The scan starts at index 0 and replaces the running extreme only
// on a strict improvement (std::greater / std::less), so a tie keeps the first index and a
// NaN never wins unless it sits at index 0. No arithmetic: every profile agrees (TFLite's
// optimized last-axis variant only differs with NEON, which x86 builds lack).
#include "engine/kernels/ops_util.h"

namespace qs::engine::kernels {

namespace {

using model::DType;

// Field names follow the reference function's arguments.
struct ArgMinMaxParams {
    int axis = 0;
    int64_t outer_size = 1, axis_size = 1, inner_size = 1;
};

template <bool IsMax>
class ArgMinMaxKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* input = ctx.input(0);
        const TensorInfo* axis = ctx.input(1);
        if (!input || !axis || ctx.numOutputs() < 1) return ctx.fail("needs input and axis");
        if (input->rank() < 1) return ctx.fail("input must have rank >= 1");
        auto a = readConstantInts(*axis);
        if (!a) return ctx.fail("axis " + a.error().message);
        if (a->size() != 1) return ctx.fail("axis must hold exactly one value");
        const int ax = resolveAxis((*a)[0], input->rank());
        if (ax < 0)
            return ctx.fail(
                strFormat("axis {} is out of range for rank {}", (*a)[0], input->rank()));
        TensorInfo& output = ctx.output(0);
        if (output.dtype != DType::Int32 && output.dtype != DType::Int64)
            return ctx.fail("output must be int32 or int64");
        if (const auto* o = ctx.options<model::ArgMinMaxOptions>();
            o && o->output_type != output.dtype)
            return ctx.fail("output_type option differs from the output tensor type");
        m_in = input->dtype;
        if (dtypeSize(m_in) == 0 || m_in == DType::Float16)
            return ctx.fail(strFormat("type {} is not supported", model::dtypeName(m_in)));
        m_out = output.dtype;
        auto& p = m_params;
        p.axis = ax;
        p.outer_size = 1;
        p.inner_size = 1;
        for (int d = 0; d < ax; ++d) p.outer_size *= input->dim(d);
        for (int d = ax + 1; d < input->rank(); ++d) p.inner_size *= input->dim(d);
        p.axis_size = input->dim(ax);
        output.shape = input->shape;
        output.shape.erase(output.shape.begin() + ax);
        return {};
    }

    void eval(EvalContext& ctx) override {
        const TensorValue& x = ctx.input(0);
        TensorValue& y = ctx.output(0);
        switch (m_in) {
            case DType::Float32:
                return run<float>(x, y);
            case DType::Float64:
                return run<double>(x, y);
            case DType::Int8:
                return run<int8_t>(x, y);
            case DType::UInt8:
            case DType::Bool:
                return run<uint8_t>(x, y);
            case DType::Int16:
                return run<int16_t>(x, y);
            case DType::UInt16:
                return run<uint16_t>(x, y);
            case DType::Int32:
                return run<int32_t>(x, y);
            case DType::UInt32:
                return run<uint32_t>(x, y);
            case DType::Int64:
                return run<int64_t>(x, y);
            case DType::UInt64:
                return run<uint64_t>(x, y);
            default:
                ctx.fail("unsupported input type");
                return;
        }
    }

private:
    template <class T>
    void run(const TensorValue& x, TensorValue& y) {
        if (m_out == DType::Int32)
            scan<T, int32_t>(in<T>(x), out<int32_t>(y));
        else
            scan<T, int64_t>(in<T>(x), out<int64_t>(y));
    }
    template <class T, class I>
    void scan(const T* x, I* y) const {
        const auto& p = m_params;
        if (p.axis_size == 0) return;  // TFLite would read out of bounds; outputs stay 0.
        for (int64_t o = 0; o < p.outer_size; ++o)
            for (int64_t i = 0; i < p.inner_size; ++i) {
                const T* base = x + o * p.axis_size * p.inner_size + i;
                T best = base[0];
                I best_index = 0;
                for (int64_t k = 1; k < p.axis_size; ++k) {
                    const T v = base[k * p.inner_size];
                    if (IsMax ? v > best : v < best) {
                        best = v;
                        best_index = static_cast<I>(k);
                    }
                }
                y[o * p.inner_size + i] = best_index;
            }
    }

    ArgMinMaxParams m_params;
    DType m_in = DType::Float32, m_out = DType::Int64;
};

}  // namespace
}  // namespace qs::engine::kernels

namespace qs::engine {
void registerKernels_arg_minmax(KernelRegistry& r) {
    using namespace kernels;
    r.add(model::BuiltinOp::ARG_MAX, &makeKernel<ArgMinMaxKernel<true>>);
    r.add(model::BuiltinOp::ARG_MIN, &makeKernel<ArgMinMaxKernel<false>>);
}
}  // namespace qs::engine
