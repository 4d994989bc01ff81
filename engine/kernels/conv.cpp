#include "engine/kernels/conv.h"

#include "model/str_format.h"

#include "engine/kernels/gemm.h"
#include "engine/kernels/requant_row.h"

namespace qs::engine::kernels {

namespace {

using model::DType;

// The reference loop shared by every integer type.
//   int8:  |filter| <= 128, |input + input_offset| <= 255, so each product is below 2^15 and
//          the int32 accumulator holds any depth below 2^16 taps (TFLM makes the same
//          assumption, see reference/integer_ops/conv.h).
//   uint8: |filter + weights_offset| and |input + input_offset| <= 255 (products < 2^16).
//   int16: products < 2^22, accumulated in int64 (no practical overflow bound).
template <class In, class W, class Bias, class Acc, RequantRule R>
void convRefImpl(const ConvParams& p, const Shape4& in_s, const In* in, const Shape4& f_s,
                 const W* filter, const Bias* bias, const Shape4& out_s, In* out) {
    const int32_t filter_in_c = f_s.c;
    const int32_t groups = in_s.c / filter_in_c;
    const int32_t filters_per_group = out_s.c / groups;
    for (int32_t b = 0; b < out_s.n; ++b)
        for (int32_t oy = 0; oy < out_s.h; ++oy) {
            const int32_t in_y0 = oy * p.stride_height - p.padding_height;
            for (int32_t ox = 0; ox < out_s.w; ++ox) {
                const int32_t in_x0 = ox * p.stride_width - p.padding_width;
                for (int32_t oc = 0; oc < out_s.c; ++oc) {
                    const int32_t group = oc / filters_per_group;
                    Acc acc = 0;
                    for (int32_t fy = 0; fy < f_s.h; ++fy) {
                        const int32_t iy = in_y0 + p.dilation_height_factor * fy;
                        if (iy < 0 || iy >= in_s.h) continue;
                        for (int32_t fx = 0; fx < f_s.w; ++fx) {
                            const int32_t ix = in_x0 + p.dilation_width_factor * fx;
                            if (ix < 0 || ix >= in_s.w) continue;
                            const In* ip = in + in_s.offset(b, iy, ix, group * filter_in_c);
                            const W* fp = filter + f_s.offset(oc, fy, fx, 0);
                            for (int32_t ic = 0; ic < filter_in_c; ++ic) {
                                if constexpr (std::is_same_v<In, int16_t>)
                                    acc += Acc{fp[ic]} * Acc{ip[ic]};
                                else
                                    acc += (static_cast<Acc>(fp[ic]) + p.weights_offset) *
                                           (static_cast<Acc>(ip[ic]) + p.input_offset);
                            }
                        }
                    }
                    if (bias) acc += static_cast<Acc>(bias[oc]);
                    int32_t v;
                    if constexpr (std::is_same_v<Acc, int64_t>)
                        v = rq::multiply64(acc, p.output_multiplier[oc], p.output_shift[oc]);
                    else
                        v = requantize<R>(acc, p.output_multiplier[oc], p.output_shift[oc]);
                    v += p.output_offset;
                    v = std::clamp(v, p.quantized_activation_min, p.quantized_activation_max);
                    out[out_s.offset(b, oy, ox, oc)] = static_cast<In>(v);
                }
            }
        }
}

template <class In, class W, class Bias, class Acc>
void convRef(const ConvParams& p, const Shape4& in_s, const In* in, const Shape4& f_s,
             const W* filter, const Bias* bias, const Shape4& out_s, In* out) {
    withRule(p.rule, [&](auto r) {
        convRefImpl<In, W, Bias, Acc, decltype(r)::value>(p, in_s, in, f_s, filter, bias, out_s,
                                                          out);
    });
}

constexpr int32_t kRowsPerChunk = 128;

}  // namespace

// The fast path's internals, shared with the kernel object (which packs weights once).
struct ConvFastScratch {
    std::vector<int16_t> a;
    std::vector<int32_t> c;
    RowRequantizer requant;  // built on first use from the params
    bool requant_ready = false;
};

template <class In>
void convFastPacked(const ConvParams& p, const Shape4& in_s, const In* in, const Shape4& f_s,
                    const PackedWeightsS16& w, const int32_t* bias, const Shape4& out_s, In* out,
                    ConvFastScratch& s) {
    const int32_t lda = w.k_pairs * 2;
    const int32_t ldc = w.n_blocks * 16;
    const int64_t rows_total = int64_t{out_s.n} * out_s.h * out_s.w;
    if (!s.requant_ready) {
        s.requant =
            RowRequantizer(p.rule, p.output_multiplier, p.output_shift, out_s.c, p.output_offset,
                           p.quantized_activation_min, p.quantized_activation_max);
        s.requant_ready = true;
    }
    s.a.resize(static_cast<size_t>(kRowsPerChunk) * lda);
    s.c.resize(static_cast<size_t>(kRowsPerChunk) * ldc);
    const bool pointwise = f_s.h == 1 && f_s.w == 1 && p.stride_height == 1 &&
                           p.stride_width == 1 && p.padding_height == 0 && p.padding_width == 0;
    for (int64_t r0 = 0; r0 < rows_total; r0 += kRowsPerChunk) {
        const auto rows = static_cast<int32_t>(std::min<int64_t>(kRowsPerChunk, rows_total - r0));
        // im2col: each row holds (input + input_offset) for every tap, 0 outside the image.
        for (int32_t r = 0; r < rows; ++r) {
            int16_t* ar = s.a.data() + int64_t{r} * lda;
            const int64_t row = r0 + r;
            if (pointwise) {
                const In* ip = in + row * in_s.c;
                for (int32_t ic = 0; ic < in_s.c; ++ic)
                    ar[ic] = static_cast<int16_t>(int32_t{ip[ic]} + p.input_offset);
                if (lda > in_s.c) ar[in_s.c] = 0;
                continue;
            }
            const int32_t ox = static_cast<int32_t>(row % out_s.w);
            const int32_t oy = static_cast<int32_t>((row / out_s.w) % out_s.h);
            const int32_t b = static_cast<int32_t>(row / (int64_t{out_s.w} * out_s.h));
            const int32_t in_y0 = oy * p.stride_height - p.padding_height;
            const int32_t in_x0 = ox * p.stride_width - p.padding_width;
            int16_t* dst = ar;
            for (int32_t fy = 0; fy < f_s.h; ++fy) {
                const int32_t iy = in_y0 + p.dilation_height_factor * fy;
                for (int32_t fx = 0; fx < f_s.w; ++fx) {
                    const int32_t ix = in_x0 + p.dilation_width_factor * fx;
                    if (iy < 0 || iy >= in_s.h || ix < 0 || ix >= in_s.w) {
                        std::fill(dst, dst + in_s.c, int16_t{0});
                    } else {
                        const In* ip = in + in_s.offset(b, iy, ix, 0);
                        for (int32_t ic = 0; ic < in_s.c; ++ic)
                            dst[ic] = static_cast<int16_t>(int32_t{ip[ic]} + p.input_offset);
                    }
                    dst += in_s.c;
                }
            }
            if (lda > w.k) ar[w.k] = 0;
        }
        gemmS16(s.a.data(), rows, lda, w, s.c.data(), ldc);
        s.requant.runRows(s.c.data(), ldc, rows, bias, out + r0 * out_s.c);
    }
}

template void convFastPacked<int8_t>(const ConvParams&, const Shape4&, const int8_t*, const Shape4&,
                                     const PackedWeightsS16&, const int32_t*, const Shape4&,
                                     int8_t*, ConvFastScratch&);
template void convFastPacked<uint8_t>(const ConvParams&, const Shape4&, const uint8_t*,
                                      const Shape4&, const PackedWeightsS16&, const int32_t*,
                                      const Shape4&, uint8_t*, ConvFastScratch&);

// Float fast path: im2col (skipped for 1x1 stride-1 convolutions, whose input rows already are
// the GEMM's rows), then the packed float GEMM per chunk of output rows with bias and activation
// fused into its store. One group only (the callers check in_s.c == f_s.c).
void convFastFloat(const ConvParams& p, const Shape4& in_s, const float* in, const Shape4& f_s,
                   const PackedWeightsF32& w, const float* bias, const Shape4& out_s, float* out,
                   std::vector<float>& scratch) {
    const int32_t k = f_s.h * f_s.w * f_s.c;
    const int64_t rows_total = int64_t{out_s.n} * out_s.h * out_s.w;
    const bool pointwise = f_s.h == 1 && f_s.w == 1 && p.stride_height == 1 &&
                           p.stride_width == 1 && p.padding_height == 0 && p.padding_width == 0;
    if (pointwise) {
        gemmF32(in, static_cast<int32_t>(rows_total), in_s.c, w, bias, p.float_activation_min,
                p.float_activation_max, out, out_s.c);
        return;
    }
    constexpr int32_t kChunk = 96;
    scratch.resize(static_cast<size_t>(kChunk) * k);
    for (int64_t r0 = 0; r0 < rows_total; r0 += kChunk) {
        const auto rows = static_cast<int32_t>(std::min<int64_t>(kChunk, rows_total - r0));
        int32_t ox = static_cast<int32_t>(r0 % out_s.w);
        int32_t oy = static_cast<int32_t>((r0 / out_s.w) % out_s.h);
        int32_t b = static_cast<int32_t>(r0 / (int64_t{out_s.w} * out_s.h));
        for (int32_t r = 0; r < rows; ++r) {
            float* dst = scratch.data() + int64_t{r} * k;
            for (int32_t fy = 0; fy < f_s.h; ++fy) {
                const int32_t iy =
                    oy * p.stride_height - p.padding_height + p.dilation_height_factor * fy;
                for (int32_t fx = 0; fx < f_s.w; ++fx) {
                    const int32_t ix =
                        ox * p.stride_width - p.padding_width + p.dilation_width_factor * fx;
                    // A tap outside the image is a zero row: the reference skips it, and
                    // adding 0 * w leaves the sum unchanged.
                    if (iy < 0 || iy >= in_s.h || ix < 0 || ix >= in_s.w)
                        std::fill(dst, dst + in_s.c, 0.0f);
                    else
                        std::copy_n(in + in_s.offset(b, iy, ix, 0), in_s.c, dst);
                    dst += in_s.c;
                }
            }
            if (++ox == out_s.w) {
                ox = 0;
                if (++oy == out_s.h) oy = 0, ++b;
            }
        }
        gemmF32(scratch.data(), rows, k, w, bias, p.float_activation_min, p.float_activation_max,
                out + r0 * out_s.c, out_s.c);
    }
}

void convReference(const ConvParams& p, const Shape4& in_s, const int8_t* in, const Shape4& f_s,
                   const int8_t* filter, const int32_t* bias, const Shape4& out_s, int8_t* out) {
    convRef<int8_t, int8_t, int32_t, int32_t>(p, in_s, in, f_s, filter, bias, out_s, out);
}
void convReference(const ConvParams& p, const Shape4& in_s, const uint8_t* in, const Shape4& f_s,
                   const uint8_t* filter, const int32_t* bias, const Shape4& out_s, uint8_t* out) {
    convRef<uint8_t, uint8_t, int32_t, int32_t>(p, in_s, in, f_s, filter, bias, out_s, out);
}
void convReference(const ConvParams& p, const Shape4& in_s, const int16_t* in, const Shape4& f_s,
                   const int8_t* filter, const int64_t* bias, const Shape4& out_s, int16_t* out) {
    convRef<int16_t, int8_t, int64_t, int64_t>(p, in_s, in, f_s, filter, bias, out_s, out);
}
void convReference(const ConvParams& p, const Shape4& in_s, const int16_t* in, const Shape4& f_s,
                   const int8_t* filter, const int32_t* bias, const Shape4& out_s, int16_t* out) {
    convRef<int16_t, int8_t, int32_t, int64_t>(p, in_s, in, f_s, filter, bias, out_s, out);
}

void convReference(const ConvParams& p, const Shape4& in_s, const float* in, const Shape4& f_s,
                   const float* filter, const float* bias, const Shape4& out_s, float* out) {
    const int32_t filter_in_c = f_s.c;
    const int32_t groups = in_s.c / filter_in_c;
    const int32_t filters_per_group = out_s.c / groups;
    const FloatRange range{p.float_activation_min, p.float_activation_max};
    for (int32_t b = 0; b < out_s.n; ++b)
        for (int32_t oy = 0; oy < out_s.h; ++oy)
            for (int32_t ox = 0; ox < out_s.w; ++ox)
                for (int32_t oc = 0; oc < out_s.c; ++oc) {
                    const int32_t group = oc / filters_per_group;
                    float total = 0.0f;
                    for (int32_t fy = 0; fy < f_s.h; ++fy) {
                        const int32_t iy =
                            oy * p.stride_height - p.padding_height + p.dilation_height_factor * fy;
                        if (iy < 0 || iy >= in_s.h) continue;
                        for (int32_t fx = 0; fx < f_s.w; ++fx) {
                            const int32_t ix = ox * p.stride_width - p.padding_width +
                                               p.dilation_width_factor * fx;
                            if (ix < 0 || ix >= in_s.w) continue;
                            const float* ip = in + in_s.offset(b, iy, ix, group * filter_in_c);
                            const float* fp = filter + f_s.offset(oc, fy, fx, 0);
                            for (int32_t ic = 0; ic < filter_in_c; ++ic) total += ip[ic] * fp[ic];
                        }
                    }
                    out[out_s.offset(b, oy, ox, oc)] =
                        clampF(total + (bias ? bias[oc] : 0.0f), range);
                }
}

namespace {
bool fastEligible(const Shape4& in_s, const Shape4& f_s) {
    // One group, and a depth the exact int32 GEMM accumulation covers (see gemm.h).
    return in_s.c == f_s.c && int64_t{f_s.h} * f_s.w * f_s.c < 33000;
}
}  // namespace

void convFast(const ConvParams& p, const Shape4& in_s, const int8_t* in, const Shape4& f_s,
              const int8_t* filter, const int32_t* bias, const Shape4& out_s, int8_t* out) {
    if (!fastEligible(in_s, f_s)) return convReference(p, in_s, in, f_s, filter, bias, out_s, out);
    ConvFastScratch s;
    auto w = packWeightsS16(filter, f_s.n, f_s.h * f_s.w * f_s.c, p.weights_offset);
    convFastPacked(p, in_s, in, f_s, w, bias, out_s, out, s);
}
void convFast(const ConvParams& p, const Shape4& in_s, const uint8_t* in, const Shape4& f_s,
              const uint8_t* filter, const int32_t* bias, const Shape4& out_s, uint8_t* out) {
    if (!fastEligible(in_s, f_s)) return convReference(p, in_s, in, f_s, filter, bias, out_s, out);
    ConvFastScratch s;
    auto w = packWeightsS16(filter, f_s.n, f_s.h * f_s.w * f_s.c, p.weights_offset);
    convFastPacked(p, in_s, in, f_s, w, bias, out_s, out, s);
}
void convFast(const ConvParams& p, const Shape4& in_s, const float* in, const Shape4& f_s,
              const float* filter, const float* bias, const Shape4& out_s, float* out) {
    if (in_s.c != f_s.c) return convReference(p, in_s, in, f_s, filter, bias, out_s, out);
    std::vector<float> scratch;
    convFastFloat(p, in_s, in, f_s, packWeightsF32(filter, f_s.n, f_s.h * f_s.w * f_s.c), bias,
                  out_s, out, scratch);
}

// ---------------------------------------------------------------------------------------
// The CONV_2D kernel.

namespace {

class Conv2DKernel final : public Kernel {
public:
    // Every path (reference loops, packed int GEMM + requantizer, float GEMM) stores every output.
    bool writesWholeOutputs() const override { return true; }
    Result<void> prepare(PrepareContext& ctx) override {
        const auto* o = ctx.options<model::Conv2DOptions>();
        const TensorInfo* input = ctx.input(0);
        const TensorInfo* filter = ctx.input(1);
        m_bias = ctx.input(2);
        if (!o || !input || !filter || ctx.numOutputs() < 1)
            return ctx.fail("needs input, filter and options");
        if (input->rank() != 4 || filter->rank() != 4)
            return ctx.fail(strFormat("input and filter must be 4-D (got {}-D and {}-D)",
                                      input->rank(), filter->rank()));
        TensorInfo& output = ctx.output(0);
        m_in_s = Shape4::fromShape(input->shape);
        m_f_s = Shape4::fromShape(filter->shape);
        if (m_f_s.c <= 0 || m_in_s.c % m_f_s.c != 0)
            return ctx.fail(strFormat("input depth {} is not a multiple of filter depth {}",
                                      m_in_s.c, m_f_s.c));
        if (m_f_s.n % (m_in_s.c / m_f_s.c) != 0)
            return ctx.fail("output channels are not a multiple of the group count");
        if (o->stride_w <= 0 || o->stride_h <= 0 || o->dilation_w_factor <= 0 ||
            o->dilation_h_factor <= 0)
            return ctx.fail("strides and dilations must be positive");
        const int32_t out_h =
            computeOutSize(o->padding, m_in_s.h, m_f_s.h, o->stride_h, o->dilation_h_factor);
        const int32_t out_w =
            computeOutSize(o->padding, m_in_s.w, m_f_s.w, o->stride_w, o->dilation_w_factor);
        output.shape = {m_in_s.n, out_h, out_w, m_f_s.n};
        m_out_s = Shape4::fromShape(output.shape);

        auto& p = m_params;
        p.stride_width = o->stride_w;
        p.stride_height = o->stride_h;
        p.dilation_width_factor = o->dilation_w_factor;
        p.dilation_height_factor = o->dilation_h_factor;
        p.padding_height =
            computePadding(o->stride_h, o->dilation_h_factor, m_in_s.h, m_f_s.h, out_h);
        p.padding_width =
            computePadding(o->stride_w, o->dilation_w_factor, m_in_s.w, m_f_s.w, out_w);
        m_type = input->dtype;
        if (m_bias && m_bias->numElements() != m_f_s.n)
            return ctx.fail(strFormat("bias has {} values for {} output channels",
                                      m_bias->numElements(), m_f_s.n));

        if (m_type == DType::Float32) {
            if (filter->dtype != DType::Float32 || (m_bias && m_bias->dtype != DType::Float32))
                return ctx.fail(
                    "float32 input needs float32 filter and bias (hybrid models are not supported "
                    "yet)");
            auto r = activationRangeFloat(o->fused_activation_function);
            p.float_activation_min = r.min;
            p.float_activation_max = r.max;
        } else if (m_type == DType::Int8 || m_type == DType::UInt8 || m_type == DType::Int16) {
            const DType want_filter = m_type == DType::UInt8 ? DType::UInt8 : DType::Int8;
            if (filter->dtype != want_filter)
                return ctx.fail(strFormat("{} input needs {} filter (got {})",
                                          model::dtypeName(m_type), model::dtypeName(want_filter),
                                          model::dtypeName(filter->dtype)));
            if (output.dtype != m_type) return ctx.fail("output type differs from input type");
            if (m_bias) {
                const bool ok = m_bias->dtype == DType::Int32 ||
                                (m_type == DType::Int16 && m_bias->dtype == DType::Int64);
                if (!ok)
                    return ctx.fail(
                        strFormat("unsupported bias type {}", model::dtypeName(m_bias->dtype)));
            }
            if (auto r = populateChannelMultipliers(ctx, *input, *filter, output, m_f_s.n,
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

        m_fast = !ctx.plain() && m_type != DType::Int16;
        // The float GEMM covers one group; grouped float convolutions run the reference.
        if (m_fast)
            m_fast = m_type == DType::Float32 ? m_in_s.c == m_f_s.c : fastEligible(m_in_s, m_f_s);
        if (m_fast)
            m_filter.prepare(filter->constant, m_type, m_f_s.n, m_f_s.h * m_f_s.w * m_f_s.c,
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
                    convFastFloat(p, m_in_s, in<float>(input), m_f_s, m_filter.f32(filter), b,
                                  m_out_s, out<float>(output), m_float_scratch);
                } else
                    convReference(p, m_in_s, in<float>(input), m_f_s, in<float>(filter), b, m_out_s,
                                  out<float>(output));
                break;
            }
            case DType::Int8:
                evalQuant<int8_t, int8_t>(input, filter, bias, output);
                break;
            case DType::UInt8:
                evalQuant<uint8_t, uint8_t>(input, filter, bias, output);
                break;
            case DType::Int16:
                if (bias && bias->dtype() == DType::Int64)
                    convReference(p, m_in_s, in<int16_t>(input), m_f_s, in<int8_t>(filter),
                                  in<int64_t>(*bias), m_out_s, out<int16_t>(output));
                else
                    convReference(p, m_in_s, in<int16_t>(input), m_f_s, in<int8_t>(filter),
                                  bias ? in<int32_t>(*bias) : static_cast<const int32_t*>(nullptr),
                                  m_out_s, out<int16_t>(output));
                break;
            default:
                break;
        }
    }

private:
    template <class T, class W>
    void evalQuant(const TensorValue& input, const TensorValue& filter, const TensorValue* bias,
                   TensorValue& output) {
        const int32_t* b = bias ? in<int32_t>(*bias) : nullptr;
        if (!m_fast) {
            convReference(m_params, m_in_s, in<T>(input), m_f_s, in<W>(filter), b, m_out_s,
                          out<T>(output));
            return;
        }
        convFastPacked<T>(m_params, m_in_s, in<T>(input), m_f_s, m_filter.s16(filter), b, m_out_s,
                          out<T>(output), m_scratch);
    }

    ConvParams m_params;
    Shape4 m_in_s, m_f_s, m_out_s;
    DType m_type = DType::Float32;
    const TensorInfo* m_bias = nullptr;
    bool m_fast = false;
    PackedFilter m_filter;
    ConvFastScratch m_scratch;
    std::vector<float> m_float_scratch;
};

}  // namespace

}  // namespace qs::engine::kernels

namespace qs::engine {
void registerKernels_conv(KernelRegistry& r) {
    r.add(model::BuiltinOp::CONV_2D, &makeKernel<kernels::Conv2DKernel>);
}
}  // namespace qs::engine
