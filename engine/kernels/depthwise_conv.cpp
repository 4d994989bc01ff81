#include "engine/kernels/depthwise_conv.h"

#include <immintrin.h>

#include "model/str_format.h"

#include "engine/kernels/requant_row.h"

namespace qs::engine::kernels {

namespace {

using model::DType;

// Accumulator ranges as in conv.cpp: int8/uint8 taps are below 2^16 each and a depthwise
// window rarely exceeds a few hundred taps, so int32 is exact; int16 uses int64.
template <class In, class W, class Bias, class Acc, RequantRule R>
void dwRefImpl(const DepthwiseParams& p, const Shape4& in_s, const In* in, const Shape4& f_s,
               const W* filter, const Bias* bias, const Shape4& out_s, In* out) {
    const int32_t dm = p.depth_multiplier;
    for (int32_t b = 0; b < out_s.n; ++b)
        for (int32_t oy = 0; oy < out_s.h; ++oy)
            for (int32_t ox = 0; ox < out_s.w; ++ox)
                for (int32_t ic = 0; ic < in_s.c; ++ic)
                    for (int32_t m = 0; m < dm; ++m) {
                        const int32_t oc = m + ic * dm;
                        Acc acc = 0;
                        for (int32_t fy = 0; fy < f_s.h; ++fy) {
                            const int32_t iy = oy * p.stride_height - p.padding_height +
                                               p.dilation_height_factor * fy;
                            if (iy < 0 || iy >= in_s.h) continue;
                            for (int32_t fx = 0; fx < f_s.w; ++fx) {
                                const int32_t ix = ox * p.stride_width - p.padding_width +
                                                   p.dilation_width_factor * fx;
                                if (ix < 0 || ix >= in_s.w) continue;
                                const Acc x = in[in_s.offset(b, iy, ix, ic)];
                                const Acc w = filter[f_s.offset(0, fy, fx, oc)];
                                if constexpr (std::is_same_v<In, int16_t>)
                                    acc += w * x;
                                else
                                    acc += (w + p.weights_offset) * (x + p.input_offset);
                            }
                        }
                        if (bias) acc += static_cast<Acc>(bias[oc]);
                        int32_t v;
                        if constexpr (std::is_same_v<Acc, int64_t>)
                            v = rq::multiply64(acc, p.output_multiplier[oc], p.output_shift[oc]);
                        else
                            v = requantize<R>(acc, p.output_multiplier[oc], p.output_shift[oc]);
                        v = std::clamp(v + p.output_offset, p.quantized_activation_min,
                                       p.quantized_activation_max);
                        out[out_s.offset(b, oy, ox, oc)] = static_cast<In>(v);
                    }
}

// Fast integer path: for one output pixel, accumulate every tap into a row of out_s.c int32
// accumulators; the channel loop has no branches and vectorizes.
// Accumulates one output pixel over its valid taps, depth multiplier 1:
// acc[c] = sum over taps of w32[tap][c] * (in[tap][c] + input_offset). |w32| and
// |x + offset| are at most 255, so each product is below 2^16 and int32 is exact for any
// realistic tap count.
template <class In>
void dwAccumulateScalar(const In* const* taps, const int32_t* const* wtaps, int32_t n_taps,
                        int32_t channels, int32_t input_offset, int32_t* acc) {
    std::fill(acc, acc + channels, 0);
    for (int32_t t = 0; t < n_taps; ++t) {
        const In* ip = taps[t];
        const int32_t* wp = wtaps[t];
        for (int32_t c = 0; c < channels; ++c) acc[c] += wp[c] * (int32_t{ip[c]} + input_offset);
    }
}

template <class In>
__attribute__((target("avx2"))) void dwAccumulateAvx2(const In* const* taps,
                                                      const int32_t* const* wtaps, int32_t n_taps,
                                                      int32_t channels, int32_t input_offset,
                                                      int32_t* acc) {
    const __m256i off = _mm256_set1_epi32(input_offset);
    int32_t c = 0;
    for (; c + 8 <= channels; c += 8) {
        __m256i a = _mm256_setzero_si256();
        for (int32_t t = 0; t < n_taps; ++t) {
            const __m128i raw = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(taps[t] + c));
            const __m256i x =
                std::is_same_v<In, int8_t> ? _mm256_cvtepi8_epi32(raw) : _mm256_cvtepu8_epi32(raw);
            const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wtaps[t] + c));
            a = _mm256_add_epi32(a, _mm256_mullo_epi32(_mm256_add_epi32(x, off), w));
        }
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + c), a);
    }
    for (; c < channels; ++c) {
        int32_t v = 0;
        for (int32_t t = 0; t < n_taps; ++t)
            v += wtaps[t][c] * (int32_t{taps[t][c]} + input_offset);
        acc[c] = v;
    }
}

const bool kDwAvx2 = __builtin_cpu_supports("avx2");

// Taps in the reference order (y, then x); each output pixel accumulates only the taps inside
// the image, as the reference does, then the row is requantized 8 channels at a time.
template <class In, class W>
void dwFastImpl(const DepthwiseParams& p, const Shape4& in_s, const In* in, const Shape4& f_s,
                const W* filter, const int32_t* bias, const Shape4& out_s, In* out) {
    const int32_t oc_n = out_s.c;
    const int32_t dm = p.depth_multiplier;
    // (w + weights_offset) once, as int32 rows per tap.
    std::vector<int32_t> w32(static_cast<size_t>(f_s.h) * f_s.w * oc_n);
    for (size_t i = 0; i < w32.size(); ++i) w32[i] = int32_t{filter[i]} + p.weights_offset;
    const RowRequantizer requant(p.rule, p.output_multiplier, p.output_shift, oc_n, p.output_offset,
                                 p.quantized_activation_min, p.quantized_activation_max);
    // One output row of accumulators, requantized with one call.
    std::vector<int32_t> acc_row(static_cast<size_t>(out_s.w) * oc_n);
    std::vector<const In*> taps(static_cast<size_t>(f_s.h) * f_s.w);
    std::vector<const int32_t*> wtaps(taps.size());
    for (int32_t b = 0; b < out_s.n; ++b)
        for (int32_t oy = 0; oy < out_s.h; ++oy) {
            for (int32_t ox = 0; ox < out_s.w; ++ox) {
                int32_t* a = acc_row.data() + int64_t{ox} * oc_n;
                int32_t n_taps = 0;
                for (int32_t fy = 0; fy < f_s.h; ++fy) {
                    const int32_t iy =
                        oy * p.stride_height - p.padding_height + p.dilation_height_factor * fy;
                    if (iy < 0 || iy >= in_s.h) continue;
                    for (int32_t fx = 0; fx < f_s.w; ++fx) {
                        const int32_t ix =
                            ox * p.stride_width - p.padding_width + p.dilation_width_factor * fx;
                        if (ix < 0 || ix >= in_s.w) continue;
                        taps[size_t(n_taps)] = in + in_s.offset(b, iy, ix, 0);
                        wtaps[size_t(n_taps)] = w32.data() + (int64_t{fy} * f_s.w + fx) * oc_n;
                        ++n_taps;
                    }
                }
                if (dm == 1) {
                    if (kDwAvx2)
                        dwAccumulateAvx2(taps.data(), wtaps.data(), n_taps, oc_n, p.input_offset,
                                         a);
                    else
                        dwAccumulateScalar(taps.data(), wtaps.data(), n_taps, oc_n, p.input_offset,
                                           a);
                } else {
                    std::fill(a, a + oc_n, 0);
                    for (int32_t t = 0; t < n_taps; ++t) {
                        const In* ip = taps[size_t(t)];
                        const int32_t* wp = wtaps[size_t(t)];
                        for (int32_t ic = 0; ic < in_s.c; ++ic) {
                            const int32_t x = int32_t{ip[ic]} + p.input_offset;
                            for (int32_t m = 0; m < dm; ++m) a[ic * dm + m] += wp[ic * dm + m] * x;
                        }
                    }
                }
            }
            requant.runRows(acc_row.data(), oc_n, out_s.w, bias, out + out_s.offset(b, oy, 0, 0));
        }
}

}  // namespace

void depthwiseReference(const DepthwiseParams& p, const Shape4& in_s, const int8_t* in,
                        const Shape4& f_s, const int8_t* filter, const int32_t* bias,
                        const Shape4& out_s, int8_t* out) {
    withRule(p.rule, [&](auto r) {
        dwRefImpl<int8_t, int8_t, int32_t, int32_t, decltype(r)::value>(p, in_s, in, f_s, filter,
                                                                        bias, out_s, out);
    });
}
void depthwiseReference(const DepthwiseParams& p, const Shape4& in_s, const uint8_t* in,
                        const Shape4& f_s, const uint8_t* filter, const int32_t* bias,
                        const Shape4& out_s, uint8_t* out) {
    withRule(p.rule, [&](auto r) {
        dwRefImpl<uint8_t, uint8_t, int32_t, int32_t, decltype(r)::value>(p, in_s, in, f_s, filter,
                                                                          bias, out_s, out);
    });
}
void depthwiseReference(const DepthwiseParams& p, const Shape4& in_s, const int16_t* in,
                        const Shape4& f_s, const int8_t* filter, const int64_t* bias,
                        const Shape4& out_s, int16_t* out) {
    dwRefImpl<int16_t, int8_t, int64_t, int64_t, RequantRule::DoubleRounding>(
        p, in_s, in, f_s, filter, bias, out_s, out);
}
void depthwiseReference(const DepthwiseParams& p, const Shape4& in_s, const float* in,
                        const Shape4& f_s, const float* filter, const float* bias,
                        const Shape4& out_s, float* out) {
    const FloatRange range{p.float_activation_min, p.float_activation_max};
    const int32_t dm = p.depth_multiplier;
    for (int32_t b = 0; b < out_s.n; ++b)
        for (int32_t oy = 0; oy < out_s.h; ++oy)
            for (int32_t ox = 0; ox < out_s.w; ++ox)
                for (int32_t ic = 0; ic < in_s.c; ++ic)
                    for (int32_t m = 0; m < dm; ++m) {
                        const int32_t oc = m + ic * dm;
                        float total = 0.0f;
                        for (int32_t fy = 0; fy < f_s.h; ++fy) {
                            const int32_t iy = oy * p.stride_height - p.padding_height +
                                               p.dilation_height_factor * fy;
                            if (iy < 0 || iy >= in_s.h) continue;
                            for (int32_t fx = 0; fx < f_s.w; ++fx) {
                                const int32_t ix = ox * p.stride_width - p.padding_width +
                                                   p.dilation_width_factor * fx;
                                if (ix < 0 || ix >= in_s.w) continue;
                                total += in[in_s.offset(b, iy, ix, ic)] *
                                         filter[f_s.offset(0, fy, fx, oc)];
                            }
                        }
                        out[out_s.offset(b, oy, ox, oc)] =
                            clampF(total + (bias ? bias[oc] : 0.0f), range);
                    }
}

void depthwiseFast(const DepthwiseParams& p, const Shape4& in_s, const int8_t* in,
                   const Shape4& f_s, const int8_t* filter, const int32_t* bias,
                   const Shape4& out_s, int8_t* out) {
    dwFastImpl<int8_t, int8_t>(p, in_s, in, f_s, filter, bias, out_s, out);
}
void depthwiseFast(const DepthwiseParams& p, const Shape4& in_s, const uint8_t* in,
                   const Shape4& f_s, const uint8_t* filter, const int32_t* bias,
                   const Shape4& out_s, uint8_t* out) {
    dwFastImpl<uint8_t, uint8_t>(p, in_s, in, f_s, filter, bias, out_s, out);
}
void depthwiseFast(const DepthwiseParams& p, const Shape4& in_s, const float* in, const Shape4& f_s,
                   const float* filter, const float* bias, const Shape4& out_s, float* out) {
    // Same per-output summation order as the reference (taps in y, x order), vectorized over
    // channels.
    const FloatRange range{p.float_activation_min, p.float_activation_max};
    const int32_t oc_n = out_s.c, dm = p.depth_multiplier;
    std::vector<float> acc(static_cast<size_t>(oc_n));
    for (int32_t b = 0; b < out_s.n; ++b)
        for (int32_t oy = 0; oy < out_s.h; ++oy)
            for (int32_t ox = 0; ox < out_s.w; ++ox) {
                std::fill(acc.begin(), acc.end(), 0.0f);
                for (int32_t fy = 0; fy < f_s.h; ++fy) {
                    const int32_t iy =
                        oy * p.stride_height - p.padding_height + p.dilation_height_factor * fy;
                    if (iy < 0 || iy >= in_s.h) continue;
                    for (int32_t fx = 0; fx < f_s.w; ++fx) {
                        const int32_t ix =
                            ox * p.stride_width - p.padding_width + p.dilation_width_factor * fx;
                        if (ix < 0 || ix >= in_s.w) continue;
                        const float* ip = in + in_s.offset(b, iy, ix, 0);
                        const float* wp = filter + f_s.offset(0, fy, fx, 0);
                        for (int32_t ic = 0; ic < in_s.c; ++ic)
                            for (int32_t m = 0; m < dm; ++m)
                                acc[static_cast<size_t>(ic * dm + m)] += ip[ic] * wp[ic * dm + m];
                    }
                }
                float* op = out + out_s.offset(b, oy, ox, 0);
                for (int32_t c = 0; c < oc_n; ++c)
                    op[c] = clampF(acc[static_cast<size_t>(c)] + (bias ? bias[c] : 0.0f), range);
            }
}

namespace {

class DepthwiseConv2DKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const auto* o = ctx.options<model::DepthwiseConv2DOptions>();
        const TensorInfo* input = ctx.input(0);
        const TensorInfo* filter = ctx.input(1);
        const TensorInfo* bias = ctx.input(2);
        if (!o || !input || !filter || ctx.numOutputs() < 1)
            return ctx.fail("needs input, filter and options");
        if (input->rank() != 4 || filter->rank() != 4)
            return ctx.fail("input and filter must be 4-D");
        TensorInfo& output = ctx.output(0);
        m_in_s = Shape4::fromShape(input->shape);
        m_f_s = Shape4::fromShape(filter->shape);
        if (m_in_s.c <= 0 || m_f_s.c % m_in_s.c != 0)
            return ctx.fail(strFormat("filter depth {} is not a multiple of input depth {}",
                                      m_f_s.c, m_in_s.c));
        if (o->stride_w <= 0 || o->stride_h <= 0 || o->dilation_w_factor <= 0 ||
            o->dilation_h_factor <= 0)
            return ctx.fail("strides and dilations must be positive");
        auto& p = m_params;
        // TFLM derives the multiplier from the shapes; the option may be 0 in newer files.
        p.depth_multiplier = m_f_s.c / m_in_s.c;
        const int32_t out_h =
            computeOutSize(o->padding, m_in_s.h, m_f_s.h, o->stride_h, o->dilation_h_factor);
        const int32_t out_w =
            computeOutSize(o->padding, m_in_s.w, m_f_s.w, o->stride_w, o->dilation_w_factor);
        output.shape = {m_in_s.n, out_h, out_w, m_f_s.c};
        m_out_s = Shape4::fromShape(output.shape);
        p.stride_width = o->stride_w;
        p.stride_height = o->stride_h;
        p.dilation_width_factor = o->dilation_w_factor;
        p.dilation_height_factor = o->dilation_h_factor;
        p.padding_height =
            computePadding(o->stride_h, o->dilation_h_factor, m_in_s.h, m_f_s.h, out_h);
        p.padding_width =
            computePadding(o->stride_w, o->dilation_w_factor, m_in_s.w, m_f_s.w, out_w);
        m_type = input->dtype;
        if (bias && bias->numElements() != m_f_s.c)
            return ctx.fail("bias size differs from output channels");
        if (m_type == DType::Float32) {
            if (filter->dtype != DType::Float32)
                return ctx.fail(
                    "float32 input needs float32 filter (hybrid models are not supported yet)");
            auto r = activationRangeFloat(o->fused_activation_function);
            p.float_activation_min = r.min;
            p.float_activation_max = r.max;
        } else if (isQuantizedInt(m_type)) {
            const DType want_filter = m_type == DType::UInt8 ? DType::UInt8 : DType::Int8;
            if (filter->dtype != want_filter)
                return ctx.fail("filter type does not match the input type");
            if (bias && !(bias->dtype == DType::Int32 ||
                          (m_type == DType::Int16 && bias->dtype == DType::Int64)))
                return ctx.fail(
                    strFormat("unsupported bias type {}", model::dtypeName(bias->dtype)));
            if (m_type == DType::Int16 && bias && bias->dtype != DType::Int64)
                return ctx.fail("int16x8 depthwise needs an int64 bias");
            if (auto r = populateChannelMultipliers(ctx, *input, *filter, output, m_f_s.c,
                                                    p.output_multiplier, p.output_shift);
                !r)
                return r;
            p.input_offset = -input->zeroPoint();
            p.weights_offset = m_type == DType::UInt8 ? -filter->zeroPoint() : 0;
            p.output_offset = output.zeroPoint();
            auto range = activationRangeQuantized(o->fused_activation_function, m_type,
                                                  output.scale(), output.zeroPoint());
            p.quantized_activation_min = range.min;
            p.quantized_activation_max = range.max;
            p.rule = ctx.rule(m_type);
        } else {
            return ctx.fail(strFormat("input type {} is not supported", model::dtypeName(m_type)));
        }
        m_fast = !ctx.plain();
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
                if (m_fast)
                    depthwiseFast(p, m_in_s, in<float>(input), m_f_s, in<float>(filter), b, m_out_s,
                                  out<float>(output));
                else
                    depthwiseReference(p, m_in_s, in<float>(input), m_f_s, in<float>(filter), b,
                                       m_out_s, out<float>(output));
                break;
            }
            case DType::Int8: {
                const int32_t* b = bias ? in<int32_t>(*bias) : nullptr;
                if (m_fast)
                    depthwiseFast(p, m_in_s, in<int8_t>(input), m_f_s, in<int8_t>(filter), b,
                                  m_out_s, out<int8_t>(output));
                else
                    depthwiseReference(p, m_in_s, in<int8_t>(input), m_f_s, in<int8_t>(filter), b,
                                       m_out_s, out<int8_t>(output));
                break;
            }
            case DType::UInt8: {
                const int32_t* b = bias ? in<int32_t>(*bias) : nullptr;
                if (m_fast)
                    depthwiseFast(p, m_in_s, in<uint8_t>(input), m_f_s, in<uint8_t>(filter), b,
                                  m_out_s, out<uint8_t>(output));
                else
                    depthwiseReference(p, m_in_s, in<uint8_t>(input), m_f_s, in<uint8_t>(filter), b,
                                       m_out_s, out<uint8_t>(output));
                break;
            }
            case DType::Int16:
                depthwiseReference(p, m_in_s, in<int16_t>(input), m_f_s, in<int8_t>(filter),
                                   bias ? in<int64_t>(*bias) : nullptr, m_out_s,
                                   out<int16_t>(output));
                break;
            default:
                break;
        }
    }

private:
    DepthwiseParams m_params;
    Shape4 m_in_s, m_f_s, m_out_s;
    DType m_type = DType::Float32;
    bool m_fast = false;
};

}  // namespace
}  // namespace qs::engine::kernels

namespace qs::engine {
void registerKernels_depthwise_conv(KernelRegistry& r) {
    r.add(model::BuiltinOp::DEPTHWISE_CONV_2D, &makeKernel<kernels::DepthwiseConv2DKernel>);
}
}  // namespace qs::engine
