// SUM, REDUCE_MAX, REDUCE_MIN, REDUCE_PROD (MEAN lives in reduce.cpp).
//
// Every reducer walks the input in row-major order and folds each element into its output
// slot, starting from the neutral element: the order of TFLite's reference Reduce
// (kernels/internal/reference/reduce.h) and of the optimized ReduceImpl recursion
// (kernels/internal/optimized/reduce.h), which both read the input once, front to back. Only
// float sums and products depend on that order.
//
// Where the runtimes differ (see the rule table):
//  * quantized SUM with different input/output quantization
//      reference / single-rounding: TFLM reduce_common.cc EvalSumHelper ->
//        reference_ops::QuantizedMeanOrSum (tflite-micro kernels/internal/reference/reduce.h):
//        sum(q) - n * zp_in requantized by QuantizeMultiplier(s_in / s_out) with the build's
//        MultiplyByQuantizedMultiplier, + zp_out, clamped.
//      builtin: tensorflow/lite/kernels/reduce.cc EvalSum -> optimized_ops::QuantizedMeanOrSum
//        (8-bit only): float math, round(float(sum(q)) * (s_in / s_out) + bias) + zp_out with
//        bias = -zp_in * (s_in / s_out) * n, then a plain cast to the 8-bit type: no clamp,
//        the value wraps (upstream writes static_cast<T>(value)).
//  * quantized SUM with equal quantization, builtin: EvalGeneric sums the stored values in the
//    element type, so the sum wraps modulo 2^bits (int16 always takes this path and requires
//    equal quantization).
//  * float REDUCE_MAX / REDUCE_MIN with NaN: builtin's MaxOp/MinOp keep `current > in ?
//    current : in` (a NaN input replaces the running value until the next element), TFLM's
//    reducer keeps `in > current ? in : current` (a NaN input is skipped).
//  * REDUCE_PROD int8/int16 (TFLite builtin only; TFLM has no REDUCE_PROD):
//    reference_ops::QuantizedReduceProd, every step (acc * (q - zp_in)) requantized by
//    s_in / s_out^(1/n) with the int64 MultiplyByQuantizedMultiplier, then once more at the end.
#include <cmath>

#include "engine/kernels/ops_util.h"

namespace qs::engine::kernels {

namespace {

using model::BuiltinOp;
using model::DType;

enum class Reduce { Sum, Max, Min, Prod };

// How a quantized reduction maps the accumulated values to the output.
enum class QuantPath {
    Raw,         // stored values reduced in the element type (MAX/MIN, equal-scale SUM)
    TflmSum,     // integer requantization of sum - n * zp_in
    BuiltinSum,  // float rescale of the raw sum, wrapping cast
    Prod,        // QuantizedReduceProd
};

// Field names follow TFLM's OpDataReduce (multiplier, shift, input_zp, output_zp, ...).
struct ReduceParams {
    int32_t multiplier = 0;
    int shift = 0;
    int32_t input_zp = 0, output_zp = 0;
    float input_scale = 1.0f, output_scale = 1.0f;
    int64_t num_elements_in_axis = 1;
    RequantRule rule = RequantRule::DoubleRounding;
};

template <Reduce K>
class ReduceKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* input = ctx.input(0);
        const TensorInfo* axis = ctx.input(1);
        if (!input || !axis || ctx.numOutputs() < 1) return ctx.fail("needs input and axis");
        // reduce.cc PrepareSimple: the axis tensor is int32; we need its values at prepare.
        if (axis->dtype != DType::Int32) return ctx.fail("axis must be int32");
        auto axes = readConstantInts(*axis);
        if (!axes) return ctx.fail("axis " + axes.error().message);
        const auto* o = ctx.options<model::ReducerOptions>();
        const bool keep_dims = o && o->keep_dims;
        const int rank = input->rank();
        m_in_shape = input->shape;
        m_reduced.assign(static_cast<size_t>(rank), false);
        // reference_ops::ResolveAxis: negative axes count from the end, duplicates collapse.
        for (int64_t a : *axes) {
            const int d = resolveAxis(a, rank);
            if (rank > 0 && d < 0)
                return ctx.fail(strFormat("axis {} is out of range for rank {}", a, rank));
            if (d >= 0) m_reduced[static_cast<size_t>(d)] = true;
        }
        TensorInfo& output = ctx.output(0);
        output.shape.clear();
        auto& p = m_params;
        p.num_elements_in_axis = 1;
        for (int d = 0; d < rank; ++d) {
            if (m_reduced[static_cast<size_t>(d)]) {
                p.num_elements_in_axis *= input->dim(d);
                if (keep_dims) output.shape.push_back(1);
            } else {
                output.shape.push_back(input->dim(d));
            }
        }
        m_type = input->dtype;
        if (output.dtype != m_type) return ctx.fail("output type differs from input type");
        const RoundingProfile profile = ctx.profile();
        m_builtin_nan_order =
            profile == RoundingProfile::Builtin || profile == RoundingProfile::Xnnpack;
        switch (m_type) {
            case DType::Float32:
            case DType::Int32:
            case DType::Int64:
                return {};
            case DType::Int8:
            case DType::UInt8:
            case DType::Int16:
                break;
            default:
                return ctx.fail(strFormat("type {} is not supported", model::dtypeName(m_type)));
        }
        // A quantized type without quantization parameters is a plain integer tensor
        // (REDUCE_PROD / SUM on raw int8 or int16): reduce the stored values.
        m_path = QuantPath::Raw;
        if (!input->quant->isQuantized() || !output.quant->isQuantized()) {
            if (input->quant->isQuantized() != output.quant->isQuantized())
                return ctx.fail("input and output must both be quantized or both not");
            return {};
        }
        p.input_zp = input->zeroPoint();
        p.output_zp = output.zeroPoint();
        p.input_scale = input->scale();
        p.output_scale = output.scale();
        const bool same = p.input_scale == p.output_scale && p.input_zp == p.output_zp;
        if constexpr (K == Reduce::Max || K == Reduce::Min) {
            // reduce.cc EvalType / TFLM EvalMaxHelper: quantization must not change.
            if (!same) return ctx.fail("input and output quantization must be equal");
            return {};
        } else if constexpr (K == Reduce::Sum) {
            const bool tflm =
                profile == RoundingProfile::Reference || profile == RoundingProfile::SingleRounding;
            if (tflm) {
                // TFLM PrepareMeanOrSumHelper: QuantizeMultiplier(double(s_in) / double(s_out)).
                const auto q = quantizeMultiplierFor(
                    profile, static_cast<double>(p.input_scale) / p.output_scale);
                p.multiplier = q.multiplier;
                p.shift = q.shift;
                p.rule = ctx.rule(m_type);
                m_path = QuantPath::TflmSum;
                return {};
            }
            if (m_type == DType::Int16) {
                // reduce.cc PrepareMeanOrSum requires zero points 0 for int16; EvalSum only
                // rescales 8-bit sums, so int16 goes to EvalType, which requires equal scales.
                if (p.input_zp != 0 || p.output_zp != 0)
                    return ctx.fail("int16 SUM needs zero points 0");
                if (!same) return ctx.fail("int16 SUM needs equal input and output scales");
                return {};
            }
            if (!same) m_path = QuantPath::BuiltinSum;
            return {};
        } else {
            if (m_type == DType::UInt8)
                return ctx.fail("quantized uint8 REDUCE_PROD is unsupported");
            if (m_type == DType::Int16 && (p.input_zp != 0 || p.output_zp != 0))
                return ctx.fail("int16 REDUCE_PROD needs zero points 0");
            // reduce.cc PrepareProd / GetQuantProdScaling: s_in / s_out^(1/n), n = input size /
            // output size (what the reduced axes hold).
            const int64_t in_size = input->numElements();
            const int64_t out_size = shapeElements(output.shape);
            if (in_size == 0 || out_size == 0) return {};
            const int64_t n = in_size / out_size;
            const double scaling = static_cast<double>(p.input_scale) /
                                   std::pow(static_cast<double>(p.output_scale), 1.0 / n);
            const auto q = quantizeMultiplier(scaling);
            p.multiplier = q.multiplier;
            p.shift = q.shift;
            m_path = QuantPath::Prod;
            return {};
        }
    }

    void eval(EvalContext& ctx) override {
        switch (m_type) {
            case DType::Float32:
                reduceRaw<float>(ctx);
                break;
            case DType::Int32:
                reduceRaw<int32_t>(ctx);
                break;
            case DType::Int64:
                reduceRaw<int64_t>(ctx);
                break;
            case DType::Int8:
                runQuantized<int8_t>(ctx);
                break;
            case DType::UInt8:
                runQuantized<uint8_t>(ctx);
                break;
            case DType::Int16:
                runQuantized<int16_t>(ctx);
                break;
            default:
                break;
        }
    }

private:
    // Calls f(out_index, in_index) for every input element in row-major order.
    template <class F>
    void walk(F&& f) const {
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
            f(o, i);
            for (size_t d = rank; d-- > 0;) {
                ++idx[d];
                o += out_stride[d];
                if (idx[d] < m_in_shape[d]) break;
                o -= out_stride[d] * idx[d];
                idx[d] = 0;
            }
        }
    }

    // Integer sums and products wrap in the element type (two's complement), as the compiled
    // upstream loops do on x86.
    template <class T>
    static T wrapAdd(T a, T b) {
        using U = std::make_unsigned_t<T>;
        return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
    }
    template <class T>
    static T wrapMul(T a, T b) {
        using U = std::make_unsigned_t<std::conditional_t<(sizeof(T) < 4), int32_t, T>>;
        return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
    }

    template <class T>
    T neutral() const {
        if constexpr (K == Reduce::Sum) return T(0);
        if constexpr (K == Reduce::Prod) return T(1);
        if constexpr (K == Reduce::Max) return std::numeric_limits<T>::lowest();
        return std::numeric_limits<T>::max();
    }

    template <class T>
    T combine(T current, T in) const {
        if constexpr (K == Reduce::Sum) {
            if constexpr (std::is_floating_point_v<T>)
                return current + in;
            else
                return wrapAdd(current, in);
        } else if constexpr (K == Reduce::Prod) {
            if constexpr (std::is_floating_point_v<T>)
                return current * in;
            else
                return wrapMul(current, in);
        } else if constexpr (K == Reduce::Max) {
            if (m_builtin_nan_order) return current > in ? current : in;
            return in > current ? in : current;
        } else {
            if (m_builtin_nan_order) return current < in ? current : in;
            return in < current ? in : current;
        }
    }

    template <class T>
    void reduceRaw(EvalContext& ctx) const {
        const T* x = in<T>(ctx.input(0));
        TensorValue& output = ctx.output(0);
        T* y = out<T>(output);
        std::fill(y, y + output.numElements(), neutral<T>());
        walk([&](int64_t o, int64_t i) { y[o] = combine(y[o], x[i]); });
    }

    template <class T>
    void runQuantized(EvalContext& ctx) const {
        switch (m_path) {
            case QuantPath::Raw:
                reduceRaw<T>(ctx);
                break;
            case QuantPath::TflmSum:
            case QuantPath::BuiltinSum:
                quantizedSum<T>(ctx);
                break;
            case QuantPath::Prod:
                if constexpr (!std::is_same_v<T, uint8_t>) quantizedProd<T>(ctx);
                break;
        }
    }

    template <class T>
    void quantizedSum(EvalContext& ctx) const {
        const auto& p = m_params;
        const T* x = in<T>(ctx.input(0));
        TensorValue& output = ctx.output(0);
        T* y = out<T>(output);
        const int64_t n_out = output.numElements();
        // An int32 sum of at most 2^31 / 2^16 elements cannot overflow for 16-bit inputs;
        // upstream accumulates in int32 as well.
        std::vector<int32_t> sums(static_cast<size_t>(n_out), 0);
        walk([&](int64_t o, int64_t i) {
            auto& s = sums[static_cast<size_t>(o)];
            s = wrapAdd<int32_t>(s, int32_t{x[i]});
        });
        if (shapeElements(m_in_shape) == 0 || p.num_elements_in_axis == 0) {
            // Both upstream kernels leave the zero-filled output of an empty reduction.
            std::fill(y, y + n_out, T(0));
            return;
        }
        if (m_path == QuantPath::TflmSum) {
            // U = int32 in TFLM: zp_in * n is computed in int64 and narrowed to int32.
            const auto shift_sum =
                static_cast<int32_t>(static_cast<int64_t>(p.input_zp) * p.num_elements_in_axis);
            withRule(p.rule, [&](auto rule) {
                constexpr RequantRule R = decltype(rule)::value;
                for (int64_t i = 0; i < n_out; ++i) {
                    const int32_t shifted =
                        wrapAdd<int32_t>(sums[static_cast<size_t>(i)], -shift_sum);
                    const int32_t v = requantize<R>(shifted, p.multiplier, p.shift) + p.output_zp;
                    y[i] = static_cast<T>(std::clamp(v, qmin<T>(), qmax<T>()));
                }
            });
            return;
        }
        const float scale = p.input_scale / p.output_scale;
        const float bias =
            static_cast<float>(-p.input_zp) * scale * static_cast<float>(p.num_elements_in_axis);
        for (int64_t i = 0; i < n_out; ++i) {
            const float r =
                std::round(static_cast<float>(sums[static_cast<size_t>(i)]) * scale + bias);
            // x86 cvttss2si: an out-of-range float becomes INT32_MIN.
            const int32_t q = (r >= -2147483648.0f && r < 2147483648.0f)
                                  ? static_cast<int32_t>(r)
                                  : std::numeric_limits<int32_t>::min();
            y[i] = static_cast<T>(wrapAdd<int32_t>(q, p.output_zp));
        }
    }

    template <class T>
    void quantizedProd(EvalContext& ctx) const {
        const auto& p = m_params;
        const T* x = in<T>(ctx.input(0));
        TensorValue& output = ctx.output(0);
        T* y = out<T>(output);
        const int64_t n_out = output.numElements();
        // reduce.cc EvalQuantizedProd returns early (output left as allocated) on an empty
        // input.
        if (shapeElements(m_in_shape) == 0) return;
        std::vector<int32_t> prod(static_cast<size_t>(n_out), 0);
        std::vector<bool> seen(static_cast<size_t>(n_out), false);
        walk([&](int64_t o, int64_t i) {
            const auto k = static_cast<size_t>(o);
            const int32_t v = int32_t{x[i]} - p.input_zp;
            if (!seen[k]) {
                prod[k] = v;
                seen[k] = true;
            } else {
                // |acc| < 2^31 and |v| < 2^16: the int64 product cannot overflow.
                prod[k] = rq::multiply64(static_cast<int64_t>(prod[k]) * v, p.multiplier, p.shift);
            }
        });
        for (int64_t i = 0; i < n_out; ++i) {
            const int32_t r =
                rq::multiply64(prod[static_cast<size_t>(i)], p.multiplier, p.shift) + p.output_zp;
            y[i] = static_cast<T>(std::clamp(r, qmin<T>(), qmax<T>()));
        }
    }

    std::vector<int32_t> m_in_shape;
    std::vector<bool> m_reduced;
    DType m_type = DType::Float32;
    QuantPath m_path = QuantPath::Raw;
    ReduceParams m_params;
    bool m_builtin_nan_order = false;
};

}  // namespace
}  // namespace qs::engine::kernels

namespace qs::engine {
void registerKernels_reduce_generic(KernelRegistry& r) {
    using namespace kernels;
    r.add(model::BuiltinOp::SUM, &makeKernel<ReduceKernel<Reduce::Sum>>);
    r.add(model::BuiltinOp::REDUCE_MAX, &makeKernel<ReduceKernel<Reduce::Max>>);
    r.add(model::BuiltinOp::REDUCE_MIN, &makeKernel<ReduceKernel<Reduce::Min>>);
    r.add(model::BuiltinOp::REDUCE_PROD, &makeKernel<ReduceKernel<Reduce::Prod>>);
}
}  // namespace qs::engine
