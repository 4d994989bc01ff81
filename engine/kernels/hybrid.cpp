// Hybrid FULLY_CONNECTED / CONV_2D / DEPTHWISE_CONV_2D (see hybrid.h). The int32 dot
// products are exact; the float steps keep TFLite's order (bias first, then
// + float(acc) * scale) so results agree with TFLite up to the summation order of its
// optimized GEMMs (well within the float tolerance).
#include "engine/kernels/hybrid.h"

#include <algorithm>
#include <cmath>

#include "model/str_format.h"

namespace qs::engine::kernels {

using model::DType;

float symmetricQuantizeFloats(std::span<const float> values, int8_t* quantized) {
    float lo = 0.0f, hi = 0.0f;
    if (!values.empty()) {
        auto [mn, mx] = std::minmax_element(values.begin(), values.end());
        lo = *mn, hi = *mx;
    }
    const float range = std::max(std::fabs(lo), std::fabs(hi));
    if (range == 0.0f) {
        std::fill_n(quantized, values.size(), int8_t{0});
        return 1.0f;
    }
    const float scale_inv = 127.0f / range;
    for (size_t i = 0; i < values.size(); ++i) {
        // TfLiteRound is std::round: half away from zero.
        const auto q = static_cast<int32_t>(std::round(values[i] * scale_inv));
        quantized[i] = static_cast<int8_t>(std::clamp(q, -127, 127));
    }
    return range / 127.0f;
}

AsymmetricQuantized asymmetricQuantizeFloats(std::span<const float> values, int8_t* quantized) {
    float lo = 0.0f, hi = 0.0f;
    if (!values.empty()) {
        auto [mn, mx] = std::minmax_element(values.begin(), values.end());
        lo = *mn, hi = *mx;
    }
    const double rmin = static_cast<double>(std::min(0.0f, lo));
    const double rmax = static_cast<double>(std::max(0.0f, hi));
    if (rmin == rmax) {
        std::fill_n(quantized, values.size(), int8_t{0});
        return {1.0f, 0};
    }
    constexpr double kQmin = -128.0, kQmax = 127.0;
    const double scale = (rmax - rmin) / (kQmax - kQmin);
    const double zp_from_min = kQmin - rmin / scale;
    const double zp_from_max = kQmax - rmax / scale;
    const double err_min = std::fabs(kQmin) + std::fabs(rmin / scale);
    const double err_max = std::fabs(kQmax) + std::fabs(rmax / scale);
    const double zp_double = err_min < err_max ? zp_from_min : zp_from_max;
    int32_t zp;
    if (zp_double <= kQmin)
        zp = static_cast<int32_t>(kQmin);
    else if (zp_double >= kQmax)
        zp = static_cast<int32_t>(kQmax);
    else
        zp = static_cast<int32_t>(std::round(zp_double));
    // portable_tensor_utils.cc stores the scale as float first and inverts that float
    // (1.0f / scaling_factor), and adds the zero point before rounding:
    // TfLiteRound(offset + x * inv) in float. Both are visible on ties: with zero point
    // -128, x * inv = 97.5 gives round(-30.5) = -31, not round(97.5) - 128 = -30; and
    // float(1 / scale) can sit one ulp away from 1.0f / float(scale), moving a product
    // across .5 (mobilenet_v2_035_96_embedder_dynamic_range ops 36, 39, 50 under
    // tflite_builtin).
    const auto scale_f = static_cast<float>(scale);
    const float scale_inv = 1.0f / scale_f;
    const auto offset = static_cast<float>(zp);
    for (size_t i = 0; i < values.size(); ++i) {
        const float scaled = values[i] * scale_inv;
        const auto q = static_cast<int32_t>(std::round(offset + scaled));
        quantized[i] = static_cast<int8_t>(std::clamp(q, -128, 127));
    }
    return {scale_f, zp};
}

AsymmetricQuantized xnnpackQuantizeFloats(std::span<const float> values, int8_t* quantized) {
    float lo = 0.0f, hi = 0.0f;
    if (!values.empty()) {
        auto [mn, mx] = std::minmax_element(values.begin(), values.end());
        lo = *mn, hi = *mx;
    }
    const float rmin = std::min(0.0f, lo), rmax = std::max(0.0f, hi);
    const float scale = rmin == rmax ? 1.0f : (rmax - rmin) / 255.0f;
    const float rescale = 1.0f / scale;
    const float descaled_min = rmin * rescale, descaled_max = rmax * rescale;
    const float err_min = -128.0f + descaled_min, err_max = 127.0f + descaled_max;
    float zp = err_min + err_max > 0.0f ? -128.0f - descaled_min : 127.0f - descaled_max;
    zp = std::clamp(zp, -128.0f, 127.0f);
    const auto izp = static_cast<int32_t>(std::nearbyint(zp));
    for (size_t i = 0; i < values.size(); ++i) {
        const auto q = static_cast<int32_t>(std::nearbyint(values[i] * rescale)) + izp;
        quantized[i] = static_cast<int8_t>(std::clamp(q, -128, 127));
    }
    return {scale, izp};
}

namespace {

// Quantizes each of `batches` rows of `size` values; returns per-batch scale and zero point.
void quantizeBatches(HybridInputMode mode, const float* in, int32_t batches, int64_t size,
                     std::vector<int8_t>& q, std::vector<float>& scales,
                     std::vector<int32_t>& zero_points) {
    q.resize(static_cast<size_t>(batches * size));
    scales.resize(static_cast<size_t>(batches));
    zero_points.assign(static_cast<size_t>(batches), 0);
    for (int32_t b = 0; b < batches; ++b) {
        std::span<const float> row(in + b * size, static_cast<size_t>(size));
        int8_t* dst = q.data() + b * size;
        if (mode == HybridInputMode::Symmetric) {
            scales[static_cast<size_t>(b)] = symmetricQuantizeFloats(row, dst);
        } else if (mode == HybridInputMode::Xnnpack) {
            auto a = xnnpackQuantizeFloats(row, dst);
            scales[static_cast<size_t>(b)] = a.scale;
            zero_points[static_cast<size_t>(b)] = a.zero_point;
        } else {
            auto a = asymmetricQuantizeFloats(row, dst);
            scales[static_cast<size_t>(b)] = a.scale;
            zero_points[static_cast<size_t>(b)] = a.zero_point;
        }
    }
}

Result<std::vector<float>> filterScales(const PrepareContext& ctx, const TensorInfo& filter,
                                        int32_t channels) {
    const auto& q = *filter.quant;
    if (!q.isQuantized()) return ctx.fail("hybrid weights have no quantization scale");
    for (size_t i = 0; i < q.scales.size(); ++i)
        if (q.zeroPoint(i) != 0) return ctx.fail("hybrid weights must be symmetric (zero point 0)");
    if (q.isPerChannel() && static_cast<int32_t>(q.scales.size()) != channels)
        return ctx.fail(
            strFormat("weights have {} scales for {} channels", q.scales.size(), channels));
    return q.scales;
}

float channelScale(const std::vector<float>& s, int32_t c) {
    return s.size() == 1 ? s[0] : s[static_cast<size_t>(c)];
}

// ---- FULLY_CONNECTED ----

class HybridFullyConnectedKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const auto* o = ctx.options<model::FullyConnectedOptions>();
        const TensorInfo* input = ctx.input(0);
        const TensorInfo* filter = ctx.input(1);
        const TensorInfo* bias = ctx.input(2);
        if (!o || !input || !filter || ctx.numOutputs() < 1) return ctx.fail("needs options");
        if (o->weights_format != 0) return ctx.fail("shuffled weights are not supported");
        if (filter->rank() != 2 || filter->dtype != DType::Int8)
            return ctx.fail("hybrid fully connected needs 2-D int8 weights");
        m_units = filter->dim(0);
        m_depth = filter->dim(1);
        const int64_t n = input->numElements();
        if (m_depth <= 0 || n % m_depth != 0)
            return ctx.fail(
                strFormat("input has {} values, not a multiple of depth {}", n, m_depth));
        m_batches = static_cast<int32_t>(n / m_depth);
        TensorInfo& output = ctx.output(0);
        if (output.dtype != DType::Float32) return ctx.fail("hybrid output must be float32");
        if (bias && (bias->dtype != DType::Float32 || bias->numElements() != m_units))
            return ctx.fail("hybrid bias must be float32 with one value per unit");
        if (o->keep_num_dims) {
            output.shape = input->shape;
            output.shape.back() = m_units;
        } else {
            output.shape = {m_batches, m_units};
        }
        auto s = filterScales(ctx, *filter, m_units);
        if (!s) return std::unexpected(s.error());
        m_filter_scales = std::move(*s);
        m_range = activationRangeFloat(o->fused_activation_function);
        // fully_connected.cc EvalHybrid: BatchQuantizeFloats, symmetric unless
        // asymmetric_quantize_inputs is set.
        m_mode = o->asymmetric_quantize_inputs ? HybridInputMode::Asymmetric
                                               : HybridInputMode::Symmetric;
        m_xnnpack = ctx.profile() == RoundingProfile::Xnnpack;
        if (m_xnnpack) m_mode = HybridInputMode::Xnnpack;
        if (filter->isConstant()) {
            // Row sums for the asymmetric correction (acc -= zp * sum(row)).
            const int8_t* w = in<int8_t>(*filter->constant);
            m_row_sums.assign(static_cast<size_t>(m_units), 0);
            for (int32_t u = 0; u < m_units; ++u)
                for (int32_t d = 0; d < m_depth; ++d)
                    m_row_sums[static_cast<size_t>(u)] += w[int64_t{u} * m_depth + d];
        }
        return {};
    }

    void eval(EvalContext& ctx) override {
        const float* x = in<float>(ctx.input(0));
        const int8_t* w = in<int8_t>(ctx.input(1));
        const float* bias = ctx.hasInput(2) ? in<float>(ctx.input(2)) : nullptr;
        float* o = out<float>(ctx.output(0));
        quantizeBatches(m_mode, x, m_batches, m_depth, m_q, m_scales, m_zps);
        for (int32_t b = 0; b < m_batches; ++b) {
            const int8_t* qb = m_q.data() + int64_t{b} * m_depth;
            const float batch_scale = m_scales[static_cast<size_t>(b)];
            const int32_t zp = m_zps[static_cast<size_t>(b)];
            for (int32_t u = 0; u < m_units; ++u) {
                const int8_t* wr = w + int64_t{u} * m_depth;
                // |w| <= 127, |q| <= 128: products below 2^14, exact for depth < 2^17.
                int32_t acc = 0;
                for (int32_t d = 0; d < m_depth; ++d) acc += int32_t{wr[d]} * int32_t{qb[d]};
                if (zp != 0) {
                    int32_t row_sum = 0;
                    if (m_row_sums.empty())
                        for (int32_t d = 0; d < m_depth; ++d) row_sum += wr[d];
                    else
                        row_sum = m_row_sums[static_cast<size_t>(u)];
                    acc -= zp * row_sum;
                }
                // portable MatrixBatchVectorMultiplyAccumulate: scaling_factor[b] already
                // includes the per-tensor filter scale; a per-channel scale multiplies it.
                float scale = batch_scale;
                if (m_filter_scales.size() == 1)
                    scale = batch_scale * m_filter_scales[0];
                else
                    scale = batch_scale * m_filter_scales[static_cast<size_t>(u)];
                float v;
                if (m_xnnpack) {
                    // qd8-f32-qc8w GEMM: (acc * input scale) * filter scale + bias.
                    v = static_cast<float>(acc) * batch_scale * channelScale(m_filter_scales, u) +
                        (bias ? bias[u] : 0.0f);
                } else {
                    v = bias ? bias[u] : 0.0f;
                    v += static_cast<float>(acc) * scale;
                }
                o[int64_t{b} * m_units + u] = clampF(v, m_range);
            }
        }
    }

private:
    int32_t m_batches = 0, m_depth = 0, m_units = 0;
    std::vector<float> m_filter_scales;
    std::vector<int32_t> m_row_sums;
    FloatRange m_range;
    HybridInputMode m_mode = HybridInputMode::Symmetric;
    bool m_xnnpack = false;
    std::vector<int8_t> m_q;
    std::vector<float> m_scales;
    std::vector<int32_t> m_zps;
};

// ---- CONV_2D and DEPTHWISE_CONV_2D ----

struct HybridConvGeometry {
    Shape4 in_s, f_s, out_s;
    int32_t stride_w = 1, stride_h = 1, dil_w = 1, dil_h = 1, pad_w = 0, pad_h = 0;
    int32_t depth_multiplier = 0;  // 0: regular conv (filter OHWI), else depthwise (1HWO)
};

class HybridConvKernel final : public Kernel {
public:
    explicit HybridConvKernel(bool depthwise) : m_depthwise(depthwise) {}

    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* input = ctx.input(0);
        const TensorInfo* filter = ctx.input(1);
        const TensorInfo* bias = ctx.input(2);
        if (!input || !filter || ctx.numOutputs() < 1) return ctx.fail("needs input and filter");
        if (input->rank() != 4 || filter->rank() != 4 || filter->dtype != DType::Int8)
            return ctx.fail("hybrid convolution needs 4-D input and 4-D int8 weights");
        model::Padding padding;
        model::Activation act;
        auto& g = m_g;
        if (m_depthwise) {
            const auto* o = ctx.options<model::DepthwiseConv2DOptions>();
            if (!o) return ctx.fail("missing options");
            padding = o->padding, act = o->fused_activation_function;
            g.stride_w = o->stride_w, g.stride_h = o->stride_h;
            g.dil_w = o->dilation_w_factor, g.dil_h = o->dilation_h_factor;
        } else {
            const auto* o = ctx.options<model::Conv2DOptions>();
            if (!o) return ctx.fail("missing options");
            padding = o->padding, act = o->fused_activation_function;
            g.stride_w = o->stride_w, g.stride_h = o->stride_h;
            g.dil_w = o->dilation_w_factor, g.dil_h = o->dilation_h_factor;
        }
        if (g.stride_w <= 0 || g.stride_h <= 0 || g.dil_w <= 0 || g.dil_h <= 0)
            return ctx.fail("strides and dilations must be >= 1");
        g.in_s = Shape4::fromShape(input->shape);
        g.f_s = Shape4::fromShape(filter->shape);
        int32_t out_c;
        if (m_depthwise) {
            out_c = g.f_s.c;
            if (g.in_s.c == 0 || out_c % g.in_s.c != 0)
                return ctx.fail("filter channels are not a multiple of the input channels");
            g.depth_multiplier = out_c / g.in_s.c;
        } else {
            out_c = g.f_s.n;
            if (g.f_s.c != g.in_s.c) return ctx.fail("grouped hybrid convolution is not supported");
        }
        const int32_t out_h = computeOutSize(padding, g.in_s.h, g.f_s.h, g.stride_h, g.dil_h);
        const int32_t out_w = computeOutSize(padding, g.in_s.w, g.f_s.w, g.stride_w, g.dil_w);
        if (out_h <= 0 || out_w <= 0) return ctx.fail("the output would be empty");
        g.pad_h = computePadding(g.stride_h, g.dil_h, g.in_s.h, g.f_s.h, out_h);
        g.pad_w = computePadding(g.stride_w, g.dil_w, g.in_s.w, g.f_s.w, out_w);
        g.out_s = {g.in_s.n, out_h, out_w, out_c};
        TensorInfo& output = ctx.output(0);
        if (output.dtype != DType::Float32) return ctx.fail("hybrid output must be float32");
        output.shape = {g.out_s.n, g.out_s.h, g.out_s.w, g.out_s.c};
        if (bias && (bias->dtype != DType::Float32 || bias->numElements() != out_c))
            return ctx.fail("hybrid bias must be float32 with one value per output channel");
        auto s = filterScales(ctx, *filter, out_c);
        if (!s) return std::unexpected(s.error());
        m_filter_scales = std::move(*s);
        m_range = activationRangeFloat(act);
        // depthwise_conv.cc EvalHybridPerChannel and conv.cc EvalHybridPerChannel quantize
        // asymmetrically; conv.cc EvalHybrid (per-tensor weights) symmetrically.
        m_mode = (m_depthwise || m_filter_scales.size() > 1) ? HybridInputMode::Asymmetric
                                                             : HybridInputMode::Symmetric;
        // LiteRT's XNNPACK delegate takes hybrid CONV_2D as a dynamically quantized GEMM
        // (qd8-f32-qc8w) whose input is quantized per GEMM row, i.e. per pixel: verified on
        // mobilenet_v2_035_96_embedder_dynamic_range, whose hybrid convolutions are all 1x1.
        // Hybrid DEPTHWISE_CONV_2D there matches TFLite's builtin kernel, so XNNPACK leaves
        // it alone. Other geometries (KxK, strided) have no golden data; they keep the
        // builtin arithmetic (KNOWN GAP in the rule table).
        m_xnnpack = !m_depthwise && ctx.profile() == RoundingProfile::Xnnpack && g.f_s.h == 1 &&
                    g.f_s.w == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 0 &&
                    g.pad_w == 0;
        if (m_xnnpack) m_mode = HybridInputMode::Xnnpack;
        return {};
    }

    void eval(EvalContext& ctx) override {
        const auto& g = m_g;
        const float* x = in<float>(ctx.input(0));
        const int8_t* w = in<int8_t>(ctx.input(1));
        const float* bias = ctx.hasInput(2) ? in<float>(ctx.input(2)) : nullptr;
        float* o = out<float>(ctx.output(0));
        const int64_t image = int64_t{g.in_s.h} * g.in_s.w * g.in_s.c;
        // XNNPACK: one quantization row per pixel; the runtimes' per-batch otherwise.
        const bool per_pixel = m_xnnpack;
        if (per_pixel)
            quantizeBatches(m_mode, x, g.in_s.n * g.in_s.h * g.in_s.w, g.in_s.c, m_q, m_scales,
                            m_zps);
        else
            quantizeBatches(m_mode, x, g.in_s.n, image, m_q, m_scales, m_zps);
        const int8_t* q = m_q.data();
        for (int32_t b = 0; b < g.out_s.n; ++b) {
            int32_t zp = m_zps[static_cast<size_t>(b)];
            float batch_scale = m_scales[static_cast<size_t>(b)];
            for (int32_t oy = 0; oy < g.out_s.h; ++oy)
                for (int32_t ox = 0; ox < g.out_s.w; ++ox)
                    for (int32_t oc = 0; oc < g.out_s.c; ++oc) {
                        if (per_pixel) {  // 1x1, stride 1: input pixel = output pixel
                            const auto row =
                                static_cast<size_t>((int64_t{b} * g.in_s.h + oy) * g.in_s.w + ox);
                            zp = m_zps[row];
                            batch_scale = m_scales[row];
                        }
                        // Taps outside the image are skipped, i.e. they contribute the zero
                        // point (a real 0), as in the reference HybridConvPerChannel.
                        int32_t acc = 0;
                        const int32_t ic_dw = g.depth_multiplier ? oc / g.depth_multiplier : 0;
                        for (int32_t fy = 0; fy < g.f_s.h; ++fy) {
                            const int32_t iy = oy * g.stride_h - g.pad_h + fy * g.dil_h;
                            if (iy < 0 || iy >= g.in_s.h) continue;
                            for (int32_t fx = 0; fx < g.f_s.w; ++fx) {
                                const int32_t ix = ox * g.stride_w - g.pad_w + fx * g.dil_w;
                                if (ix < 0 || ix >= g.in_s.w) continue;
                                const int8_t* qp = q + g.in_s.offset(b, iy, ix, 0);
                                if (g.depth_multiplier) {
                                    acc += int32_t{w[g.f_s.offset(0, fy, fx, oc)]} *
                                           (int32_t{qp[ic_dw]} - zp);
                                } else {
                                    const int8_t* wp = w + g.f_s.offset(oc, fy, fx, 0);
                                    for (int32_t ic = 0; ic < g.in_s.c; ++ic)
                                        acc += int32_t{wp[ic]} * (int32_t{qp[ic]} - zp);
                                }
                            }
                        }
                        // reference HybridConvPerChannel / DepthwiseConvHybridPerChannel:
                        // acc * per_channel_scale * scaling_factor[b], then + bias.
                        float v;
                        if (m_xnnpack) {
                            v = static_cast<float>(acc) * batch_scale *
                                    channelScale(m_filter_scales, oc) +
                                (bias ? bias[oc] : 0.0f);
                        } else {
                            v = static_cast<float>(acc) * channelScale(m_filter_scales, oc) *
                                batch_scale;
                            if (bias) v += bias[oc];
                        }
                        o[g.out_s.offset(b, oy, ox, oc)] = clampF(v, m_range);
                    }
        }
    }

private:
    bool m_depthwise;
    bool m_xnnpack = false;
    HybridConvGeometry m_g;
    std::vector<float> m_filter_scales;
    FloatRange m_range;
    HybridInputMode m_mode = HybridInputMode::Asymmetric;
    std::vector<int8_t> m_q;
    std::vector<float> m_scales;
    std::vector<int32_t> m_zps;
};

std::unique_ptr<Kernel> makeHybridConv() {
    return std::make_unique<HybridConvKernel>(false);
}
std::unique_ptr<Kernel> makeHybridDepthwise() {
    return std::make_unique<HybridConvKernel>(true);
}

}  // namespace
}  // namespace qs::engine::kernels

namespace qs::engine {
void registerHybridKernels(KernelRegistry& r) {
    r.add(model::BuiltinOp::FULLY_CONNECTED, &makeKernel<kernels::HybridFullyConnectedKernel>);
    r.add(model::BuiltinOp::CONV_2D, &kernels::makeHybridConv);
    r.add(model::BuiltinOp::DEPTHWISE_CONV_2D, &kernels::makeHybridDepthwise);
    r.add(model::BuiltinOp::BATCH_MATMUL, &kernels::makeHybridBatchMatMul);
}
}  // namespace qs::engine
