// QUANTIZE and DEQUANTIZE, after tensorflow/lite/kernels/internal/reference/quantize.h
// (AffineQuantize), requantize.h and dequantize.h (TFLM quantize_common.cc / dequantize.cc).
#include <cmath>
#include <cstring>
#include "model/str_format.h"

#include "engine/kernels/common.h"

namespace qs::engine::kernels {

namespace {

using model::DType;

// IEEE binary16 -> binary32 (exact).
float halfToFloat(uint16_t h) {
    const uint32_t sign = uint32_t{h & 0x8000u} << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {  // subnormal: normalize
            exp = 127 - 15 + 1;
            while (!(mant & 0x400u)) {
                mant <<= 1;
                --exp;
            }
            mant &= 0x3ffu;
            bits = sign | (exp << 23) | (mant << 13);
        }
    } else if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

template <class T>
void affineQuantize(const float* x, int64_t n, float scale, int32_t zp, T* y) {
    for (int64_t i = 0; i < n; ++i) {
        // float division, rounded half away from zero (TfLiteRound), then clamped.
        const int32_t v = static_cast<int32_t>(std::round(x[i] / scale)) + zp;
        y[i] = static_cast<T>(std::clamp(v, qmin<T>(), qmax<T>()));
    }
}

template <class In, class Out, RequantRule R>
void requantizeValues(const In* x, int64_t n, int32_t m, int32_t shift, int32_t in_zp,
                      int32_t out_zp, Out* y) {
    for (int64_t i = 0; i < n; ++i) {
        const int32_t v = requantize<R>(int32_t{x[i]} - in_zp, m, shift) + out_zp;
        y[i] = static_cast<Out>(std::clamp(v, qmin<Out>(), qmax<Out>()));
    }
}

class QuantizeKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* input = ctx.input(0);
        if (!input || ctx.numOutputs() < 1) return ctx.fail("needs an input");
        TensorInfo& output = ctx.output(0);
        output.shape = input->shape;
        m_in = input->dtype;
        m_out = output.dtype;
        if (!isQuantizedInt(m_out) || !output.quant->isQuantized())
            return ctx.fail("output must be a quantized integer tensor");
        if (output.quant->isPerChannel())
            return ctx.fail("per-channel QUANTIZE is not supported yet");
        m_out_zp = output.zeroPoint();
        m_out_scale = output.scale();
        if (m_in == DType::Float32) return {};
        if (!isQuantizedInt(m_in) || !input->quant->isQuantized())
            return ctx.fail(strFormat("input type {} is not supported", model::dtypeName(m_in)));
        m_in_zp = input->zeroPoint();
        const double real =
            static_cast<double>(input->scale()) / static_cast<double>(output.scale());
        const auto q = quantizeMultiplierFor(ctx.profile(), real);
        m_multiplier = q.multiplier;
        m_shift = q.shift;
        m_rule = ctx.rule(m_out);
        return {};
    }

    void eval(EvalContext& ctx) override {
        const TensorValue& x = ctx.input(0);
        TensorValue& y = ctx.output(0);
        const int64_t n = x.numElements();
        if (m_in == DType::Float32) {
            switch (m_out) {
                case DType::Int8:
                    affineQuantize(in<float>(x), n, m_out_scale, m_out_zp, out<int8_t>(y));
                    break;
                case DType::UInt8:
                    affineQuantize(in<float>(x), n, m_out_scale, m_out_zp, out<uint8_t>(y));
                    break;
                case DType::Int16:
                    affineQuantize(in<float>(x), n, m_out_scale, m_out_zp, out<int16_t>(y));
                    break;
                default:
                    break;
            }
            return;
        }
        withRule(m_rule, [&](auto r) {
            constexpr RequantRule R = decltype(r)::value;
            auto go = [&](auto* src) {
                switch (m_out) {
                    case DType::Int8:
                        requantizeValues<std::remove_cvref_t<decltype(*src)>, int8_t, R>(
                            src, n, m_multiplier, m_shift, m_in_zp, m_out_zp, out<int8_t>(y));
                        break;
                    case DType::UInt8:
                        requantizeValues<std::remove_cvref_t<decltype(*src)>, uint8_t, R>(
                            src, n, m_multiplier, m_shift, m_in_zp, m_out_zp, out<uint8_t>(y));
                        break;
                    case DType::Int16:
                        requantizeValues<std::remove_cvref_t<decltype(*src)>, int16_t, R>(
                            src, n, m_multiplier, m_shift, m_in_zp, m_out_zp, out<int16_t>(y));
                        break;
                    default:
                        break;
                }
            };
            switch (m_in) {
                case DType::Int8:
                    go(in<int8_t>(x));
                    break;
                case DType::UInt8:
                    go(in<uint8_t>(x));
                    break;
                case DType::Int16:
                    go(in<int16_t>(x));
                    break;
                default:
                    break;
            }
        });
    }

private:
    DType m_in = DType::Float32, m_out = DType::Int8;
    int32_t m_in_zp = 0, m_out_zp = 0, m_multiplier = 0, m_shift = 0;
    float m_out_scale = 1.0f;
    RequantRule m_rule = RequantRule::DoubleRounding;
};

class DequantizeKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* input = ctx.input(0);
        if (!input || ctx.numOutputs() < 1) return ctx.fail("needs an input");
        TensorInfo& output = ctx.output(0);
        output.shape = input->shape;
        if (output.dtype != DType::Float32) return ctx.fail("output must be float32");
        m_in = input->dtype;
        if (m_in == DType::Float16) return {};
        if (!isQuantizedInt(m_in) || !input->quant->isQuantized())
            return ctx.fail(strFormat("input type {} is not supported", model::dtypeName(m_in)));
        const auto& q = *input->quant;
        m_axis = q.isPerChannel() ? q.quantized_dimension : -1;
        m_scales.assign(q.scales.begin(), q.scales.end());
        m_zps.clear();
        for (size_t c = 0; c < q.scales.size(); ++c)
            m_zps.push_back(static_cast<int32_t>(q.zeroPoint(c)));
        m_shape = input->shape;
        return {};
    }

    void eval(EvalContext& ctx) override {
        const TensorValue& x = ctx.input(0);
        float* y = out<float>(ctx.output(0));
        const int64_t n = x.numElements();
        if (m_in == DType::Float16) {
            const uint16_t* h = in<uint16_t>(x);
            for (int64_t i = 0; i < n; ++i) y[i] = halfToFloat(h[i]);
            return;
        }
        int64_t inner = 1, axis_size = 1;
        if (m_axis >= 0) {
            axis_size = m_shape[static_cast<size_t>(m_axis)];
            for (size_t d = static_cast<size_t>(m_axis) + 1; d < m_shape.size(); ++d)
                inner *= m_shape[d];
        }
        auto go = [&](auto* v) {
            for (int64_t i = 0; i < n; ++i) {
                const size_t c = m_axis >= 0 ? static_cast<size_t>((i / inner) % axis_size) : 0;
                // reference/dequantize.h: the scale is widened to double before the product.
                y[i] = static_cast<float>(static_cast<double>(m_scales[c]) *
                                          (int32_t{v[i]} - m_zps[c]));
            }
        };
        switch (m_in) {
            case DType::Int8:
                go(in<int8_t>(x));
                break;
            case DType::UInt8:
                go(in<uint8_t>(x));
                break;
            case DType::Int16:
                go(in<int16_t>(x));
                break;
            default:
                break;
        }
    }

private:
    DType m_in = DType::Int8;
    int32_t m_axis = -1;
    std::vector<float> m_scales;
    std::vector<int32_t> m_zps;
    std::vector<int32_t> m_shape;
};

}  // namespace
}  // namespace qs::engine::kernels

namespace qs::engine {
void registerKernels_quantize(KernelRegistry& r) {
    r.add(model::BuiltinOp::QUANTIZE, &makeKernel<kernels::QuantizeKernel>);
    r.add(model::BuiltinOp::DEQUANTIZE, &makeKernel<kernels::DequantizeKernel>);
}
}  // namespace qs::engine
