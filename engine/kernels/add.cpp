// ADD (int8, uint8, int16, float32, int32) with NumPy broadcasting, after TFLM's
// tensorflow/lite/micro/kernels/add_common.cc (parameters) and
// tensorflow/lite/kernels/internal/reference/integer_ops/add.h / reference/add.h (math).
// The xnnpack profile's int8/uint8 ADD follows XNNPACK's qs8/qu8 vadd instead (see
// XnnpackAddParams).
#include <bit>
#include <climits>
#include <cmath>

#include <optional>

#include "model/str_format.h"

#include "engine/kernels/add.h"
#include "engine/kernels/common.h"
#include "engine/kernels/requant_row.h"

namespace qs::engine::kernels {

namespace {

using model::DType;

// Field names follow tflite::ArithmeticParams.
struct AddParams {
    int32_t left_shift = 20;
    int32_t input1_offset = 0, input2_offset = 0, output_offset = 0;
    int32_t input1_multiplier = 0, input2_multiplier = 0, output_multiplier = 0;
    int32_t input1_shift = 0, input2_shift = 0, output_shift = 0;
    int32_t quantized_activation_min = 0, quantized_activation_max = 0;
    float float_activation_min = 0.0f, float_activation_max = 0.0f;
    RequantRule rule = RequantRule::DoubleRounding;
};

// XNNPACK's quantized ADD (google/XNNPACK src/microparams-init.c
// xnn_init_qs8_add_minmax_scalar_params / xnn_init_qu8_add_minmax_scalar_params, kernels
// src/qs8-vadd/*.c and src/qu8-vadd/*.c; LiteRT's delegate hands it the tensors' float scales,
// tensorflow/lite/delegates/xnnpack/xnnpack_delegate.cc VisitAddNode):
//   ratio_a = float(scale_a / scale_out), ratio_b likewise (float division);
//   e = unbiased exponent of max(|ratio_a|, |ratio_b|); shift = 20 - e (in [12, 30]);
//   m_a = lrintf(ratio_a * 2^shift) (ties to even; the largest is in [2^20, 2^21]);
//   bias = 2^(shift-1) - m_a * zp_a - m_b * zp_b;
//   out = clamp(((bias + a * m_a + b * m_b) >> shift) + zp_out)   (arithmetic shift)
// so the sum is rounded once, half toward +infinity, with 21-bit multipliers: it differs from
// TFLite's three-multiplier form on a few elements (mobilenet_v2_quantized op 14: 2/75264).
// The delegate only takes the ADD when each input-to-output scale ratio is in [2^-10, 2^8)
// (CheckTensorsInputOutputScale); otherwise TFLite's builtin ADD runs (double rounding).
// (XnnpackAddParams is declared in add.h, for the element trace.)
}  // namespace

// nullopt when the delegate would not take the op.
std::optional<XnnpackAddParams> xnnpackAddParams(float scale_a, int32_t zp_a, float scale_b,
                                                 int32_t zp_b, float scale_out, int32_t zp_out) {
    const float ratio_a = scale_a / scale_out;
    const float ratio_b = scale_b / scale_out;
    for (float r : {ratio_a, ratio_b})
        if (!(r >= 0x1p-10f && r < 0x1p8f)) return std::nullopt;
    const float max_ratio = std::max(ratio_a, ratio_b);
    const int32_t exponent = static_cast<int32_t>(std::bit_cast<uint32_t>(max_ratio) >> 23) - 127;
    XnnpackAddParams x;
    x.shift = 20 - exponent;
    // ratio * 2^shift by adding to the exponent field (exact), then lrintf (ties to even).
    auto scaled = [&](float r) {
        const float v = std::bit_cast<float>(std::bit_cast<uint32_t>(r) +
                                             (static_cast<uint32_t>(x.shift) << 23));
        return static_cast<int32_t>(std::lrint(v));
    };
    x.a_multiplier = scaled(ratio_a);
    x.b_multiplier = scaled(ratio_b);
    x.bias = (int32_t{1} << (x.shift - 1)) - x.a_multiplier * zp_a - x.b_multiplier * zp_b;
    x.output_zero_point = zp_out;
    return x;
}

namespace {

// Element index maps of a broadcast: for each output element, the flat index into each input.
struct Broadcast {
    std::vector<int32_t> out_shape;
    bool same = true;  // both inputs already have the output shape
    std::vector<int64_t> stride1, stride2, out_dims;
};

Result<Broadcast> makeBroadcast(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
    Broadcast bc;
    const size_t r = std::max(a.size(), b.size());
    bc.out_shape.resize(r);
    std::vector<int32_t> ea(r, 1), eb(r, 1);
    std::copy(a.begin(), a.end(), ea.begin() + static_cast<std::ptrdiff_t>(r - a.size()));
    std::copy(b.begin(), b.end(), eb.begin() + static_cast<std::ptrdiff_t>(r - b.size()));
    for (size_t i = 0; i < r; ++i) {
        if (ea[i] != eb[i] && ea[i] != 1 && eb[i] != 1)
            return fail(
                strFormat("shapes [{}] and [{}] do not broadcast", shapeString(a), shapeString(b)));
        bc.out_shape[i] = ea[i] == 1 ? eb[i] : ea[i];
    }
    bc.same = a == b;
    bc.stride1.assign(r, 0);
    bc.stride2.assign(r, 0);
    int64_t s1 = 1, s2 = 1;
    for (size_t i = r; i-- > 0;) {
        bc.stride1[i] = ea[i] == 1 ? 0 : s1;
        bc.stride2[i] = eb[i] == 1 ? 0 : s2;
        s1 *= ea[i];
        s2 *= eb[i];
    }
    bc.out_dims.assign(bc.out_shape.begin(), bc.out_shape.end());
    return bc;
}

// Calls f(out_index, index1, index2) for every output element in row-major order.
template <class F>
void forEachBroadcast(const Broadcast& bc, F&& f) {
    const int64_t n = shapeElements(bc.out_shape);
    if (bc.same) {
        for (int64_t i = 0; i < n; ++i) f(i, i, i);
        return;
    }
    const size_t r = bc.out_dims.size();
    std::vector<int64_t> idx(r, 0);
    int64_t i1 = 0, i2 = 0;
    for (int64_t i = 0; i < n; ++i) {
        f(i, i1, i2);
        for (size_t d = r; d-- > 0;) {
            ++idx[d];
            i1 += bc.stride1[d];
            i2 += bc.stride2[d];
            if (idx[d] < bc.out_dims[d]) break;
            i1 -= bc.stride1[d] * idx[d];
            i2 -= bc.stride2[d] * idx[d];
            idx[d] = 0;
        }
    }
}

// reference/integer_ops/add.h AddElementwise: both inputs are shifted left by 20 (int16: 15)
// bits, scaled to the larger input scale with a multiplier < 1, summed, then scaled to the
// output. With 8-bit inputs |input + offset| <= 255 < 2^8, so the shifted value is below
// 2^28 and the sum of two scaled values below 2^29: no int32 overflow. For int16 the 15-bit
// shift keeps |x| < 2^16 * 2^15 = 2^31 when the zero point is 0 (TFLM requires it).
template <class T, RequantRule R>
void addQuantized(const AddParams& p, const Broadcast& bc, const T* a, const T* b, T* out) {
    forEachBroadcast(bc, [&](int64_t i, int64_t i1, int64_t i2) {
        const int32_t x1 = (p.input1_offset + a[i1]) * (1 << p.left_shift);
        const int32_t x2 = (p.input2_offset + b[i2]) * (1 << p.left_shift);
        const int32_t s1 = requantize<R>(x1, p.input1_multiplier, p.input1_shift);
        const int32_t s2 = requantize<R>(x2, p.input2_multiplier, p.input2_shift);
        const int32_t raw =
            requantize<R>(s1 + s2, p.output_multiplier, p.output_shift) + p.output_offset;
        out[i] =
            static_cast<T>(std::clamp(raw, p.quantized_activation_min, p.quantized_activation_max));
    });
}

// The same as addQuantized for inputs of the output's shape, 256 elements at a time with the
// three rescalings vectorized (RowRequantizer::requantizeValues gives the scalar rule's exact
// results). rq holds the input1, input2 and output requantizers.
template <class T>
void addQuantizedSameShape(const AddParams& p, const RowRequantizer* rq, const T* a, const T* b,
                           T* out, int64_t n) {
    constexpr int64_t kBlock = 256;
    int32_t x1[kBlock], x2[kBlock], s1[kBlock], s2[kBlock];
    for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
        const int64_t m = std::min(kBlock, n - i0);
        for (int64_t i = 0; i < m; ++i) {
            x1[i] = (p.input1_offset + a[i0 + i]) * (1 << p.left_shift);
            x2[i] = (p.input2_offset + b[i0 + i]) * (1 << p.left_shift);
        }
        rq[0].requantizeValues(x1, m, s1);
        rq[1].requantizeValues(x2, m, s2);
        for (int64_t i = 0; i < m; ++i) x1[i] = s1[i] + s2[i];
        rq[2].requantizeValues(x1, m, s1);
        for (int64_t i = 0; i < m; ++i)
            out[i0 + i] = static_cast<T>(std::clamp(
                s1[i] + p.output_offset, p.quantized_activation_min, p.quantized_activation_max));
    }
}

// XNNPACK's ADD on inputs of the output's shape; compiled for AVX2 as well (the loop
// vectorizes as written).
template <class T>
void addXnnpackSameShapeImpl(const XnnpackAddParams& x, int32_t lo, int32_t hi, const T* a,
                             const T* b, T* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        const int32_t acc =
            x.bias + int32_t{a[i]} * x.a_multiplier + int32_t{b[i]} * x.b_multiplier;
        out[i] = static_cast<T>(std::clamp((acc >> x.shift) + x.output_zero_point, lo, hi));
    }
}
template <class T>
__attribute__((target("avx2"))) void addXnnpackSameShapeAvx2(const XnnpackAddParams& x, int32_t lo,
                                                             int32_t hi, const T* a, const T* b,
                                                             T* out, int64_t n) {
    addXnnpackSameShapeImpl(x, lo, hi, a, b, out, n);
}
const bool kAddAvx2 = __builtin_cpu_supports("avx2");

// |a|, |b| <= 255 and multipliers <= 2^21, so each product is below 2^29 and the sum with the
// bias (|bias| < 2^30 + 2^29) stays inside int32 for int8 and uint8.
template <class T>
void addXnnpack(const XnnpackAddParams& x, const AddParams& p, const Broadcast& bc, const T* a,
                const T* b, T* out, bool fast) {
    if (fast && bc.same) {
        const int64_t n = shapeElements(bc.out_shape);
        if (kAddAvx2)
            addXnnpackSameShapeAvx2(x, p.quantized_activation_min, p.quantized_activation_max, a, b,
                                    out, n);
        else
            addXnnpackSameShapeImpl(x, p.quantized_activation_min, p.quantized_activation_max, a, b,
                                    out, n);
        return;
    }
    forEachBroadcast(bc, [&](int64_t i, int64_t i1, int64_t i2) {
        const int32_t acc =
            x.bias + int32_t{a[i1]} * x.a_multiplier + int32_t{b[i2]} * x.b_multiplier;
        const int32_t v = (acc >> x.shift) + x.output_zero_point;
        out[i] =
            static_cast<T>(std::clamp(v, p.quantized_activation_min, p.quantized_activation_max));
    });
}

class AddKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* in1 = ctx.input(0);
        const TensorInfo* in2 = ctx.input(1);
        if (!in1 || !in2 || ctx.numOutputs() < 1) return ctx.fail("needs two inputs");
        const auto* o = ctx.options<model::AddSubOptions>();
        const auto act = o ? o->fused_activation_function : model::Activation::None;
        TensorInfo& output = ctx.output(0);
        m_fast = !ctx.plain();
        m_type = in1->dtype;
        if (in2->dtype != m_type || output.dtype != m_type)
            return ctx.fail("input and output types differ");
        auto bc = makeBroadcast(in1->shape, in2->shape);
        if (!bc) return ctx.fail(bc.error().message);
        m_bc = std::move(*bc);
        output.shape = m_bc.out_shape;
        auto& p = m_params;
        if (m_type == DType::Float32) {
            auto r = activationRangeFloat(act);
            p.float_activation_min = r.min;
            p.float_activation_max = r.max;
        } else if (m_type == DType::Int32) {
        } else if (isQuantizedInt(m_type)) {
            if (!in1->quant->isQuantized() || !in2->quant->isQuantized() ||
                !output.quant->isQuantized())
                return ctx.fail("quantized ADD needs scales on both inputs and the output");
            p.input1_offset = -in1->zeroPoint();
            p.input2_offset = -in2->zeroPoint();
            p.output_offset = output.zeroPoint();
            p.left_shift = m_type == DType::Int16 ? 15 : 20;
            const double twice_max =
                2.0 * static_cast<double>(std::max(in1->scale(), in2->scale()));
            const double real1 = static_cast<double>(in1->scale()) / twice_max;
            const double real2 = static_cast<double>(in2->scale()) / twice_max;
            const double real_out =
                twice_max / ((1 << p.left_shift) * static_cast<double>(output.scale()));
            const auto q1 = quantizeMultiplierFor(ctx.profile(), real1);
            const auto q2 = quantizeMultiplierFor(ctx.profile(), real2);
            const auto qo = quantizeMultiplierFor(ctx.profile(), real_out);
            p.input1_multiplier = q1.multiplier, p.input1_shift = q1.shift;
            p.input2_multiplier = q2.multiplier, p.input2_shift = q2.shift;
            p.output_multiplier = qo.multiplier, p.output_shift = qo.shift;
            auto r = activationRangeQuantized(act, m_type, output.scale(), output.zeroPoint());
            p.quantized_activation_min = r.min;
            p.quantized_activation_max = r.max;
            p.rule = ctx.rule(m_type);
            m_xnnpack.reset();
            if (p.rule == RequantRule::XnnpackAdd) {
                m_xnnpack = xnnpackAddParams(in1->scale(), in1->zeroPoint(), in2->scale(),
                                             in2->zeroPoint(), output.scale(), output.zeroPoint());
                // Not delegated: TFLite's builtin ADD (optimized/integer_ops/add.h), which
                // rounds as the reference kernels do.
                if (!m_xnnpack) p.rule = RequantRule::DoubleRounding;
            }
            const int32_t lo = INT32_MIN, hi = INT32_MAX;
            m_rq[0] = RowRequantizer(p.rule, {p.input1_multiplier}, {p.input1_shift}, 8, 0, lo, hi);
            m_rq[1] = RowRequantizer(p.rule, {p.input2_multiplier}, {p.input2_shift}, 8, 0, lo, hi);
            m_rq[2] = RowRequantizer(p.rule, {p.output_multiplier}, {p.output_shift}, 8, 0, lo, hi);
        } else {
            return ctx.fail(strFormat("type {} is not supported", model::dtypeName(m_type)));
        }
        return {};
    }

    void eval(EvalContext& ctx) override {
        const TensorValue& a = ctx.input(0);
        const TensorValue& b = ctx.input(1);
        TensorValue& o = ctx.output(0);
        switch (m_type) {
            case DType::Float32: {
                const float* x = in<float>(a);
                const float* y = in<float>(b);
                float* z = out<float>(o);
                const FloatRange range{m_params.float_activation_min,
                                       m_params.float_activation_max};
                forEachBroadcast(m_bc, [&](int64_t i, int64_t i1, int64_t i2) {
                    z[i] = clampF(x[i1] + y[i2], range);
                });
                break;
            }
            case DType::Int32: {
                const int32_t* x = in<int32_t>(a);
                const int32_t* y = in<int32_t>(b);
                int32_t* z = out<int32_t>(o);
                forEachBroadcast(m_bc, [&](int64_t i, int64_t i1, int64_t i2) {
                    z[i] = static_cast<int32_t>(static_cast<uint32_t>(x[i1]) +
                                                static_cast<uint32_t>(y[i2]));
                });
                break;
            }
            case DType::Int8:
                run<int8_t>(a, b, o);
                break;
            case DType::UInt8:
                run<uint8_t>(a, b, o);
                break;
            case DType::Int16:
                run<int16_t>(a, b, o);
                break;
            default:
                break;
        }
    }

private:
    template <class T>
    void run(const TensorValue& a, const TensorValue& b, TensorValue& o) {
        if constexpr (!std::is_same_v<T, int16_t>) {
            if (m_xnnpack) {
                addXnnpack<T>(*m_xnnpack, m_params, m_bc, in<T>(a), in<T>(b), out<T>(o), m_fast);
                return;
            }
        }
        if (m_fast && !std::is_same_v<T, int16_t> && m_bc.same) {
            addQuantizedSameShape<T>(m_params, m_rq, in<T>(a), in<T>(b), out<T>(o),
                                     shapeElements(m_bc.out_shape));
            return;
        }
        withRule(m_params.rule, [&](auto r) {
            addQuantized<T, decltype(r)::value>(m_params, m_bc, in<T>(a), in<T>(b), out<T>(o));
        });
    }

    AddParams m_params;
    std::optional<XnnpackAddParams> m_xnnpack;
    bool m_fast = false;     // vectorized same-shape path (the plain path keeps the scalar loop)
    RowRequantizer m_rq[3];  // input1, input2, output rescaling for the same-shape path
    Broadcast m_bc;
    DType m_type = DType::Float32;
};

}  // namespace
}  // namespace qs::engine::kernels

namespace qs::engine {
void registerKernels_add(KernelRegistry& r) {
    r.add(model::BuiltinOp::ADD, &makeKernel<kernels::AddKernel>);
}
}  // namespace qs::engine
