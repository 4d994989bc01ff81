// AVERAGE_POOL_2D and MAX_POOL_2D (int8, uint8, int16, float32), after TFLM's
// tensorflow/lite/kernels/internal/reference/integer_ops/pooling.h and reference/pooling.h.
// Pooling has no multiplier: input and output share scale and zero point.
#include "model/str_format.h"

#include "engine/kernels/common.h"

namespace qs::engine::kernels {

namespace {

using model::DType;

// Field names follow tflite::PoolParams.
struct PoolParams {
    int32_t stride_height = 1, stride_width = 1;
    int32_t filter_height = 1, filter_width = 1;
    int32_t padding_height = 0, padding_width = 0;
    int32_t quantized_activation_min = 0, quantized_activation_max = 0;
    float float_activation_min = 0.0f, float_activation_max = 0.0f;
    // TFLite builtin's optimized int8 average pool divides (acc + count/2) / count with C++
    // truncation for negative sums too (tensorflow/lite/kernels/internal/optimized/
    // integer_ops/pooling.h); the reference rounds half away from zero.
    bool builtin_int8_average_rounding = false;
};

enum class PoolKind { Average, Max };

template <class T, PoolKind K>
void pool(const PoolParams& p, const Shape4& in_s, const T* in, const Shape4& out_s, T* out) {
    for (int32_t b = 0; b < out_s.n; ++b)
        for (int32_t oy = 0; oy < out_s.h; ++oy)
            for (int32_t ox = 0; ox < out_s.w; ++ox) {
                const int32_t in_x0 = ox * p.stride_width - p.padding_width;
                const int32_t in_y0 = oy * p.stride_height - p.padding_height;
                const int32_t fx0 = std::max(0, -in_x0),
                              fx1 = std::min(p.filter_width, in_s.w - in_x0);
                const int32_t fy0 = std::max(0, -in_y0),
                              fy1 = std::min(p.filter_height, in_s.h - in_y0);
                for (int32_t c = 0; c < out_s.c; ++c) {
                    T* o = out + out_s.offset(b, oy, ox, c);
                    if constexpr (K == PoolKind::Max) {
                        T m = std::numeric_limits<T>::lowest();
                        for (int32_t fy = fy0; fy < fy1; ++fy)
                            for (int32_t fx = fx0; fx < fx1; ++fx)
                                m = std::max(m, in[in_s.offset(b, in_y0 + fy, in_x0 + fx, c)]);
                        if constexpr (std::is_floating_point_v<T>)
                            *o = clampF(m, {p.float_activation_min, p.float_activation_max});
                        else
                            *o = static_cast<T>(std::clamp<int32_t>(m, p.quantized_activation_min,
                                                                    p.quantized_activation_max));
                    } else if constexpr (std::is_floating_point_v<T>) {
                        T total = 0;
                        int32_t count = 0;
                        for (int32_t fy = fy0; fy < fy1; ++fy)
                            for (int32_t fx = fx0; fx < fx1; ++fx) {
                                total += in[in_s.offset(b, in_y0 + fy, in_x0 + fx, c)];
                                ++count;
                            }
                        *o = count ? clampF(total / static_cast<float>(count),
                                            {p.float_activation_min, p.float_activation_max})
                                   : 0;
                    } else {
                        // |acc| <= window * 2^15: int32 for any realistic window.
                        int32_t acc = 0, count = 0;
                        for (int32_t fy = fy0; fy < fy1; ++fy)
                            for (int32_t fx = fx0; fx < fx1; ++fx) {
                                acc += in[in_s.offset(b, in_y0 + fy, in_x0 + fx, c)];
                                ++count;
                            }
                        if (count == 0) {
                            *o = 0;
                            continue;
                        }
                        if (p.builtin_int8_average_rounding || std::is_same_v<T, uint8_t>)
                            acc = (acc + count / 2) / count;
                        else
                            acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                        *o = static_cast<T>(std::clamp(acc, p.quantized_activation_min,
                                                       p.quantized_activation_max));
                    }
                }
            }
}

template <PoolKind K>
class PoolKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const auto* o = ctx.options<model::Pool2DOptions>();
        const TensorInfo* input = ctx.input(0);
        if (!o || !input || ctx.numOutputs() < 1) return ctx.fail("needs input and options");
        if (input->rank() != 4) return ctx.fail("input must be 4-D");
        if (o->stride_w <= 0 || o->stride_h <= 0 || o->filter_width <= 0 || o->filter_height <= 0)
            return ctx.fail("strides and filter sizes must be positive");
        TensorInfo& output = ctx.output(0);
        m_type = input->dtype;
        if (output.dtype != m_type) return ctx.fail("output type differs from input type");
        m_in_s = Shape4::fromShape(input->shape);
        const int32_t out_h =
            computeOutSize(o->padding, m_in_s.h, o->filter_height, o->stride_h, 1);
        const int32_t out_w = computeOutSize(o->padding, m_in_s.w, o->filter_width, o->stride_w, 1);
        output.shape = {m_in_s.n, out_h, out_w, m_in_s.c};
        m_out_s = Shape4::fromShape(output.shape);
        auto& p = m_params;
        p.stride_height = o->stride_h;
        p.stride_width = o->stride_w;
        p.filter_height = o->filter_height;
        p.filter_width = o->filter_width;
        p.padding_height = computePadding(o->stride_h, 1, m_in_s.h, o->filter_height, out_h);
        p.padding_width = computePadding(o->stride_w, 1, m_in_s.w, o->filter_width, out_w);
        if (m_type == DType::Float32) {
            auto r = activationRangeFloat(o->fused_activation_function);
            p.float_activation_min = r.min;
            p.float_activation_max = r.max;
        } else if (isQuantizedInt(m_type)) {
            auto r = activationRangeQuantized(o->fused_activation_function, m_type, output.scale(),
                                              output.zeroPoint());
            p.quantized_activation_min = r.min;
            p.quantized_activation_max = r.max;
        } else {
            return ctx.fail(strFormat("input type {} is not supported", model::dtypeName(m_type)));
        }
        p.builtin_int8_average_rounding = false;
        return {};
    }

    void eval(EvalContext& ctx) override {
        const TensorValue& input = ctx.input(0);
        TensorValue& output = ctx.output(0);
        switch (m_type) {
            case DType::Float32:
                pool<float, K>(m_params, m_in_s, in<float>(input), m_out_s, out<float>(output));
                break;
            case DType::Int8:
                pool<int8_t, K>(m_params, m_in_s, in<int8_t>(input), m_out_s, out<int8_t>(output));
                break;
            case DType::UInt8:
                pool<uint8_t, K>(m_params, m_in_s, in<uint8_t>(input), m_out_s,
                                 out<uint8_t>(output));
                break;
            case DType::Int16:
                pool<int16_t, K>(m_params, m_in_s, in<int16_t>(input), m_out_s,
                                 out<int16_t>(output));
                break;
            default:
                break;
        }
    }

private:
    PoolParams m_params;
    Shape4 m_in_s, m_out_s;
    DType m_type = DType::Float32;
};

}  // namespace
}  // namespace qs::engine::kernels

namespace qs::engine {
void registerKernels_pooling(KernelRegistry& r) {
    r.add(model::BuiltinOp::AVERAGE_POOL_2D,
          &makeKernel<kernels::PoolKernel<kernels::PoolKind::Average>>);
    r.add(model::BuiltinOp::MAX_POOL_2D, &makeKernel<kernels::PoolKernel<kernels::PoolKind::Max>>);
}
}  // namespace qs::engine
