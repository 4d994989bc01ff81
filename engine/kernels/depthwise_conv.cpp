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
// acc[c] = sum over taps of w16[tap][c] * (in[tap][c] + input_offset). |w16| and
// |x + offset| are at most 255, so each product is below 2^16 and int32 is exact for any
// realistic tap count.
template <class In>
void dwAccumulateScalar(const In* const* taps, const int16_t* const* wtaps, int32_t n_taps,
                        int32_t from, int32_t channels, int32_t input_offset, int32_t* acc) {
    std::fill(acc + from, acc + channels, 0);
    for (int32_t t = 0; t < n_taps; ++t) {
        const In* ip = taps[t];
        const int16_t* wp = wtaps[t];
        for (int32_t c = from; c < channels; ++c)
            acc[c] += int32_t{wp[c]} * (int32_t{ip[c]} + input_offset);
    }
}

// 16 inputs widened to int16, plus the input offset (|result| <= 255).
template <class In>
__attribute__((target("avx2"))) inline __m256i dwLoadX(const In* p, __m256i off) {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m256i x =
        std::is_same_v<In, int8_t> ? _mm256_cvtepi8_epi16(raw) : _mm256_cvtepu8_epi16(raw);
    return _mm256_add_epi16(x, off);
}

// 16 channels at a time, taps in pairs: vpmaddwd multiplies (x_t, x_t+1) with (w_t, w_t+1)
// per channel and adds the two products (each below 2^16, so the sum is exact). The 16-bit
// interleave works per 128-bit lane, so the two accumulators hold channels {0-3, 8-11} and
// {4-7, 12-15}; they are put back in order at the end. Integer addition is associative, so
// the pairing gives the reference's exact sum.
template <class In>
__attribute__((target("avx2"))) void dwAccumulateAvx2(const In* const* taps,
                                                      const int16_t* const* wtaps, int32_t n_taps,
                                                      int32_t channels, int32_t input_offset,
                                                      int32_t* acc) {
    const __m256i off = _mm256_set1_epi16(static_cast<int16_t>(input_offset));
    int32_t c = 0;
    for (; c + 16 <= channels; c += 16) {
        __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
        int32_t t = 0;
        for (; t + 2 <= n_taps; t += 2) {
            const __m256i x0 = dwLoadX(taps[t] + c, off), x1 = dwLoadX(taps[t + 1] + c, off);
            const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wtaps[t] + c));
            const __m256i w1 =
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wtaps[t + 1] + c));
            lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(x0, x1),
                                                        _mm256_unpacklo_epi16(w0, w1)));
            hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(x0, x1),
                                                        _mm256_unpackhi_epi16(w0, w1)));
        }
        if (t < n_taps) {
            const __m256i x0 = dwLoadX(taps[t] + c, off), z = _mm256_setzero_si256();
            const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wtaps[t] + c));
            lo = _mm256_add_epi32(
                lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(x0, z), _mm256_unpacklo_epi16(w0, z)));
            hi = _mm256_add_epi32(
                hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(x0, z), _mm256_unpackhi_epi16(w0, z)));
        }
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + c),
                            _mm256_permute2x128_si256(lo, hi, 0x20));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + c + 8),
                            _mm256_permute2x128_si256(lo, hi, 0x31));
    }
    if (c < channels) dwAccumulateScalar(taps, wtaps, n_taps, c, channels, input_offset, acc);
}

const bool kDwAvx2 = __builtin_cpu_supports("avx2");

// Taps in the reference order (y, then x); each output pixel accumulates only the taps inside
// the image, as the reference does, then the row is requantized 8 channels at a time.
template <class In, class W>
void dwFastImpl(const DepthwiseParams& p, const Shape4& in_s, const In* in, const Shape4& f_s,
                const W* filter, const int32_t* bias, const Shape4& out_s, In* out) {
    const int32_t oc_n = out_s.c;
    const int32_t dm = p.depth_multiplier;
    // (w + weights_offset) once, as int16 rows per tap (|value| <= 255).
    std::vector<int16_t> w16(static_cast<size_t>(f_s.h) * f_s.w * oc_n);
    for (size_t i = 0; i < w16.size(); ++i)
        w16[i] = static_cast<int16_t>(int32_t{filter[i]} + p.weights_offset);
    const RowRequantizer requant(p.rule, p.output_multiplier, p.output_shift, oc_n, p.output_offset,
                                 p.quantized_activation_min, p.quantized_activation_max);
    // One output row of accumulators, requantized with one call.
    std::vector<int32_t> acc_row(static_cast<size_t>(out_s.w) * oc_n);
    std::vector<const In*> taps(static_cast<size_t>(f_s.h) * f_s.w);
    std::vector<const int16_t*> wtaps(taps.size());
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
                        wtaps[size_t(n_taps)] = w16.data() + (int64_t{fy} * f_s.w + fx) * oc_n;
                        ++n_taps;
                    }
                }
                if (dm == 1) {
                    if (kDwAvx2)
                        dwAccumulateAvx2(taps.data(), wtaps.data(), n_taps, oc_n, p.input_offset,
                                         a);
                    else
                        dwAccumulateScalar(taps.data(), wtaps.data(), n_taps, 0, oc_n,
                                           p.input_offset, a);
                } else {
                    std::fill(a, a + oc_n, 0);
                    for (int32_t t = 0; t < n_taps; ++t) {
                        const In* ip = taps[size_t(t)];
                        const int16_t* wp = wtaps[size_t(t)];
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
namespace {

// One output pixel: acc[c] = sum over the valid taps, in the reference's (y, x) order, of
// in[tap][c] * w[tap][c], then bias and clamp. The channel loop is contiguous and branch-free.
// Depth multiplier 1 (every MobileNet-style depthwise layer) gets its own loop; other
// multipliers walk (ic, m) pairs.
struct DwFloatPixel {
    const float* const* taps;
    const float* const* wtaps;
    int32_t n_taps;
};

inline __attribute__((always_inline)) void dwFloatPixel(const DwFloatPixel& px, int32_t in_c,
                                                        int32_t dm, const float* __restrict bias,
                                                        FloatRange range, float* __restrict acc,
                                                        float* __restrict op) {
    const int32_t oc_n = in_c * dm;
    for (int32_t c = 0; c < oc_n; ++c) acc[c] = 0.0f;
    for (int32_t t = 0; t < px.n_taps; ++t) {
        const float* __restrict ip = px.taps[t];
        const float* __restrict wp = px.wtaps[t];
        if (dm == 1) {
            for (int32_t c = 0; c < oc_n; ++c) acc[c] += ip[c] * wp[c];
        } else {
            for (int32_t ic = 0; ic < in_c; ++ic)
                for (int32_t m = 0; m < dm; ++m) acc[ic * dm + m] += ip[ic] * wp[ic * dm + m];
        }
    }
    const float lo = range.min, hi = range.max;
    if (bias) {
        for (int32_t c = 0; c < oc_n; ++c) {
            const float v = acc[c] + bias[c];
            const float m = v < lo ? lo : v;  // clampF: std::min(std::max(v, lo), hi)
            op[c] = hi < m ? hi : m;
        }
    } else {
        for (int32_t c = 0; c < oc_n; ++c) {
            const float v = acc[c] + 0.0f;
            const float m = v < lo ? lo : v;
            op[c] = hi < m ? hi : m;
        }
    }
}

inline __attribute__((always_inline)) void dwFloatImpl(const DepthwiseParams& p, const Shape4& in_s,
                                                       const float* in, const Shape4& f_s,
                                                       const float* filter, const float* bias,
                                                       const Shape4& out_s, float* out) {
    const FloatRange range{p.float_activation_min, p.float_activation_max};
    std::vector<float> acc(static_cast<size_t>(out_s.c));
    std::vector<const float*> taps(static_cast<size_t>(f_s.h) * f_s.w), wtaps(taps.size());
    for (int32_t b = 0; b < out_s.n; ++b)
        for (int32_t oy = 0; oy < out_s.h; ++oy)
            for (int32_t ox = 0; ox < out_s.w; ++ox) {
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
                        wtaps[size_t(n_taps)] = filter + f_s.offset(0, fy, fx, 0);
                        ++n_taps;
                    }
                }
                dwFloatPixel({taps.data(), wtaps.data(), n_taps}, in_s.c, p.depth_multiplier, bias,
                             range, acc.data(), out + out_s.offset(b, oy, ox, 0));
            }
}

// Baseline and AVX2 builds of the same loops (8 floats per vector instead of 4). AVX2 without
// FMA: each tap is still a separate multiply and add, so both give the reference's bits.
void dwFloatBase(const DepthwiseParams& p, const Shape4& in_s, const float* in, const Shape4& f_s,
                 const float* filter, const float* bias, const Shape4& out_s, float* out) {
    dwFloatImpl(p, in_s, in, f_s, filter, bias, out_s, out);
}
__attribute__((target("avx2"))) void dwFloatAvx2(const DepthwiseParams& p, const Shape4& in_s,
                                                 const float* in, const Shape4& f_s,
                                                 const float* filter, const float* bias,
                                                 const Shape4& out_s, float* out) {
    dwFloatImpl(p, in_s, in, f_s, filter, bias, out_s, out);
}

// AVX-512 (16 channels per vector). AVX-512 brings FMA; this file is built with
// -ffp-contract=off (engine/CMakeLists.txt), so the taps stay separate multiplies and adds and
// the results keep the reference's bits here too.
__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,prefer-vector-width=512"))) void
dwFloatAvx512(const DepthwiseParams& p, const Shape4& in_s, const float* in, const Shape4& f_s,
              const float* filter, const float* bias, const Shape4& out_s, float* out) {
    dwFloatImpl(p, in_s, in, f_s, filter, bias, out_s, out);
}

const bool kDwAvx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                       __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw");

}  // namespace

void depthwiseFast(const DepthwiseParams& p, const Shape4& in_s, const float* in, const Shape4& f_s,
                   const float* filter, const float* bias, const Shape4& out_s, float* out) {
    if (kDwAvx512)
        dwFloatAvx512(p, in_s, in, f_s, filter, bias, out_s, out);
    else if (kDwAvx2)
        dwFloatAvx2(p, in_s, in, f_s, filter, bias, out_s, out);
    else
        dwFloatBase(p, in_s, in, f_s, filter, bias, out_s, out);
}

namespace {

class DepthwiseConv2DKernel final : public Kernel {
public:
    // Every path stores every output element.
    bool writesWholeOutputs() const override { return true; }
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
