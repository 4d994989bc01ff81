// RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR on NHWC tensors (float32, int8, uint8, int16).
// Later used as the oracle of the preprocessing lab's "tf-bilinear" methods, so the
// coordinate rules (align_corners, half_pixel_centers) follow TFLite to the float operation.
//
// RESIZE_BILINEAR, per dtype and profile:
//  * float32: reference / single-rounding use reference_ops::ResizeBilinear
//    (tensorflow/lite/kernels/internal/reference/resize_bilinear.h): in = (y + 0.5) * scale -
//    0.5 (half-pixel) or y * scale, y0 = max(floor(in), 0), y1 = min(ceil(in), size - 1), and
//    v00*(1-dy)*(1-dx) + v10*dy*(1-dx) + v01*(1-dy)*dx + v11*dy*dx evaluated left to right.
//    builtin / xnnpack use optimized_ops::ResizeBilinear (internal/optimized/resize_bilinear.h):
//    an exact 2x upsample without align_corners/half_pixel goes through ResizeBilinear2x2
//    (averages of neighbours), everything else through ResizeBilinearGeneric (output += v * w
//    for the four corners in the order 00, 01, 10, 11 with w precomputed).
//  * int8 / int16: ResizeBilinearInteger (reference/resize_bilinear.h), 10-bit fixed-point
//    coordinates: scale_10 = (1024 * in + out / 2) / out, the four weights multiplied in 64
//    bits and divided by 2^20 with rounding half away from zero, or under
//    TFLITE_SINGLE_ROUNDING (the single-rounding profile) (x + 2^19) >> 20. TFLite builtin runs
//    the same integer kernel for int8 (optimized_ops forwards to it) and int16.
//  * uint8: reference_ops::ResizeBilinear<uint8_t> computes the float formula above and adds
//    0.5 before truncating; builtin runs optimized_ops ResizeBilinearGenericSmallChannel (same
//    float math, weights multiplied first). Its 8x half-pixel special case
//    (ResizeBilinear888Uint8) accumulates exact 1/16 steps in 8.8 fixed point, which equals
//    the float path there (all weights are exact multiples of 1/256), so it needs no code.
//  * xnnpack: KNOWN GAP. The delegate takes RESIZE_BILINEAR (XNNPACK's ibilinear kernels with
//    their own fixed-point weights); modelled here with the builtin arithmetic.
//
// RESIZE_NEAREST_NEIGHBOR (reference/resize_nearest_neighbor.h GetNearestNeighbor): float
// scale, in = floor((y + offset) * scale) or, with align_corners, round half away from zero;
// clamped to size - 1 (and to 0 with half_pixel_centers). TFLite builtin's 8-bit path without
// align_corners/half_pixel_centers (optimized_ops::ResizeNearestNeighbor) uses a 16.16
// fixed-point scale (in << 16) / out + 1 instead, which picks another source pixel for some
// sizes; the builtin and xnnpack profiles reproduce it.
#include "engine/kernels/ops_util.h"

namespace qs::engine::kernels {

namespace {

using model::DType;

// tflite::ResizeBilinearParams / ResizeNearestNeighborParams.
struct ResizeParams {
    bool align_corners = false;
    bool half_pixel_centers = false;
};

struct Geometry {
    int32_t batches = 1, input_height = 1, input_width = 1, depth = 1;
    int32_t output_height = 1, output_width = 1;
    int64_t inOffset(int32_t b, int32_t y, int32_t x) const {
        return ((int64_t{b} * input_height + y) * input_width + x) * depth;
    }
};

Result<Geometry> prepareResize(PrepareContext& ctx, ResizeParams& params) {
    const TensorInfo* input = ctx.input(0);
    const TensorInfo* size = ctx.input(1);
    if (!input || !size || ctx.numOutputs() < 1) return ctx.fail("needs input and size");
    if (input->rank() != 4) return ctx.fail("input must be 4-D (NHWC)");
    if (size->dtype != DType::Int32 || size->numElements() != 2)
        return ctx.fail("size must be an int32 tensor of 2 values");
    auto s = readConstantInts(*size);
    if (!s) return ctx.fail("size " + s.error().message);
    if ((*s)[0] <= 0 || (*s)[1] <= 0) return ctx.fail("output size must be positive");
    if (const auto* o = ctx.options<model::ResizeOptions>()) {
        params.align_corners = o->align_corners;
        params.half_pixel_centers = o->half_pixel_centers;
    }
    if (params.align_corners && params.half_pixel_centers)
        return ctx.fail("half_pixel_centers and align_corners cannot both be true");
    TensorInfo& output = ctx.output(0);
    if (output.dtype != input->dtype) return ctx.fail("output type differs from input type");
    if (isQuantizedInt(input->dtype) && input->quant->isQuantized() &&
        output.quant->isQuantized() &&
        (input->scale() != output.scale() || input->zeroPoint() != output.zeroPoint()))
        return ctx.fail("input and output quantization must be equal");
    Geometry g;
    g.batches = input->dim(0);
    g.input_height = input->dim(1);
    g.input_width = input->dim(2);
    g.depth = input->dim(3);
    g.output_height = static_cast<int32_t>((*s)[0]);
    g.output_width = static_cast<int32_t>((*s)[1]);
    output.shape = {g.batches, g.output_height, g.output_width, g.depth};
    return g;
}

// ---- RESIZE_BILINEAR -----------------------------------------------------------------------

// reference_ops ComputeInterpolationValues (float).
struct FloatTap {
    float in = 0;
    int32_t lo = 0, hi = 0;
};
FloatTap floatTap(int32_t value, float scale, bool half_pixel_centers, int32_t input_size) {
    FloatTap t;
    t.in = half_pixel_centers ? (static_cast<float>(value) + 0.5f) * scale - 0.5f
                              : static_cast<float>(value) * scale;
    t.lo = std::max(static_cast<int32_t>(std::floor(t.in)), int32_t{0});
    t.hi = std::min(static_cast<int32_t>(std::ceil(t.in)), input_size - 1);
    return t;
}

// reference_ops ComputeInterpolationValuesInteger: 10 fractional bits; C++ division truncates
// toward zero (negative half-pixel coordinates at the border stay at 0 through the max).
struct IntTap {
    int32_t in = 0, lo = 0, hi = 0;
};
IntTap intTap(int32_t value, int32_t scale_10, bool half_pixel_centers, int32_t input_size) {
    IntTap t;
    t.in = half_pixel_centers ? value * scale_10 + scale_10 / 2 - (1 << 9) : value * scale_10;
    t.lo = std::max(t.in / (1 << 10), int32_t{0});
    t.hi = std::min((t.in + (1 << 10) - 1) / (1 << 10), input_size - 1);
    return t;
}

float floatScale(int32_t in, int32_t out, bool align_corners) {
    if (align_corners && out > 1) return static_cast<float>(in - 1) / static_cast<float>(out - 1);
    return static_cast<float>(in) / static_cast<float>(out);
}

int32_t scale10(int32_t in, int32_t out, bool align_corners) {
    if (align_corners && out > 1) return ((1 << 10) * (in - 1) + (out - 1) / 2) / (out - 1);
    return ((1 << 10) * in + out / 2) / out;
}

enum class BilinearPath {
    ReferenceFloat,  // reference_ops::ResizeBilinear<T> (float32, uint8 + 0.5 truncation)
    OptimizedFloat,  // optimized_ops float: 2x2 special case or ResizeBilinearGeneric
    SmallChannel,    // optimized_ops uint8: ResizeBilinearGenericSmallChannel
    Integer,         // reference_ops::ResizeBilinearInteger (int8, int16)
};

class ResizeBilinearKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        auto g = prepareResize(ctx, m_params);
        if (!g) return std::unexpected(g.error());
        m_g = *g;
        m_type = ctx.input(0)->dtype;
        const RoundingProfile p = ctx.profile();
        const bool optimized = p == RoundingProfile::Builtin || p == RoundingProfile::Xnnpack;
        m_single_rounding = p == RoundingProfile::SingleRounding;
        switch (m_type) {
            case DType::Float32:
                m_path = optimized ? BilinearPath::OptimizedFloat : BilinearPath::ReferenceFloat;
                break;
            case DType::UInt8:
                m_path = optimized ? BilinearPath::SmallChannel : BilinearPath::ReferenceFloat;
                break;
            case DType::Int8:
            case DType::Int16:
                m_path = BilinearPath::Integer;
                break;
            default:
                return ctx.fail(strFormat("type {} is not supported", model::dtypeName(m_type)));
        }
        return {};
    }

    void eval(EvalContext& ctx) override {
        const TensorValue& x = ctx.input(0);
        TensorValue& y = ctx.output(0);
        switch (m_type) {
            case DType::Float32:
                if (m_path == BilinearPath::OptimizedFloat)
                    optimizedFloat(in<float>(x), out<float>(y));
                else
                    referenceFloat<float>(in<float>(x), out<float>(y));
                break;
            case DType::UInt8:
                if (m_path == BilinearPath::SmallChannel)
                    smallChannel(in<uint8_t>(x), out<uint8_t>(y));
                else
                    referenceFloat<uint8_t>(in<uint8_t>(x), out<uint8_t>(y));
                break;
            case DType::Int8:
                integer<int8_t>(in<int8_t>(x), out<int8_t>(y));
                break;
            case DType::Int16:
                integer<int16_t>(in<int16_t>(x), out<int16_t>(y));
                break;
            default:
                break;
        }
    }

private:
    // reference_ops::ResizeBilinear<T>; integer T add 0.5 and truncate (static_cast).
    template <class T>
    void referenceFloat(const T* input, T* output) const {
        const Geometry& g = m_g;
        const float hs = floatScale(g.input_height, g.output_height, m_params.align_corners);
        const float ws = floatScale(g.input_width, g.output_width, m_params.align_corners);
        const float rounding_offset = std::is_integral_v<T> ? 0.5f : 0.0f;
        T* o = output;
        for (int32_t b = 0; b < g.batches; ++b)
            for (int32_t yy = 0; yy < g.output_height; ++yy) {
                const FloatTap ty = floatTap(yy, hs, m_params.half_pixel_centers, g.input_height);
                const float dy = ty.in - static_cast<float>(ty.lo);
                for (int32_t xx = 0; xx < g.output_width; ++xx) {
                    const FloatTap tx =
                        floatTap(xx, ws, m_params.half_pixel_centers, g.input_width);
                    const float dx = tx.in - static_cast<float>(tx.lo);
                    const T* p00 = input + g.inOffset(b, ty.lo, tx.lo);
                    const T* p10 = input + g.inOffset(b, ty.hi, tx.lo);
                    const T* p01 = input + g.inOffset(b, ty.lo, tx.hi);
                    const T* p11 = input + g.inOffset(b, ty.hi, tx.hi);
                    for (int32_t c = 0; c < g.depth; ++c) {
                        const float v = static_cast<float>(p00[c]) * (1 - dy) * (1 - dx) +
                                        static_cast<float>(p10[c]) * dy * (1 - dx) +
                                        static_cast<float>(p01[c]) * (1 - dy) * dx +
                                        static_cast<float>(p11[c]) * dy * dx + rounding_offset;
                        *o++ = static_cast<T>(v);
                    }
                }
            }
    }

    // optimized_ops::ResizeBilinear (float): ResizeBilinear2x2 / ResizeBilinearGeneric.
    void optimizedFloat(const float* input, float* output) const {
        const Geometry& g = m_g;
        const bool two_x = !m_params.align_corners && !m_params.half_pixel_centers &&
                           g.output_height == 2 * g.input_height &&
                           g.output_width == 2 * g.input_width;
        if (two_x) {
            // ResizeBilinearKernel2x2 (non-NEON): each input pixel writes a 2x2 output block.
            const int64_t ox = g.depth, oy = int64_t{g.output_width} * g.depth;
            for (int32_t b = 0; b < g.batches; ++b)
                for (int32_t y0 = 0; y0 < g.input_height; ++y0)
                    for (int32_t x0 = 0; x0 < g.input_width; ++x0) {
                        const int32_t x1 = std::min(x0 + 1, g.input_width - 1);
                        const int32_t y1 = std::min(y0 + 1, g.input_height - 1);
                        float* o =
                            output +
                            ((int64_t{b} * g.output_height + 2 * y0) * g.output_width + 2 * x0) *
                                g.depth;
                        const float* p00 = input + g.inOffset(b, y0, x0);
                        const float* p10 = input + g.inOffset(b, y0, x1);  // x1y0
                        const float* p01 = input + g.inOffset(b, y1, x0);  // x0y1
                        const float* p11 = input + g.inOffset(b, y1, x1);
                        for (int32_t c = 0; c < g.depth; ++c) {
                            o[c] = p00[c];
                            o[ox + c] = (p00[c] + p10[c]) / 2;
                            const float bl = (p00[c] + p01[c]) / 2;
                            o[oy + c] = bl;
                            o[oy + ox + c] = (bl + ((p10[c] + p11[c]) / 2)) / 2;
                        }
                    }
            return;
        }
        const float hs = floatScale(g.input_height, g.output_height, m_params.align_corners);
        const float ws = floatScale(g.input_width, g.output_width, m_params.align_corners);
        float* o = output;
        for (int32_t b = 0; b < g.batches; ++b)
            for (int32_t yy = 0; yy < g.output_height; ++yy) {
                const FloatTap ty = floatTap(yy, hs, m_params.half_pixel_centers, g.input_height);
                const float dy = ty.in - static_cast<float>(ty.lo);
                for (int32_t xx = 0; xx < g.output_width; ++xx, o += g.depth) {
                    const FloatTap tx =
                        floatTap(xx, ws, m_params.half_pixel_centers, g.input_width);
                    const float dx = tx.in - static_cast<float>(tx.lo);
                    const float w[4] = {(1 - dy) * (1 - dx), (1 - dy) * dx, dy * (1 - dx), dy * dx};
                    const float* src[4] = {
                        input + g.inOffset(b, ty.lo, tx.lo), input + g.inOffset(b, ty.lo, tx.hi),
                        input + g.inOffset(b, ty.hi, tx.lo), input + g.inOffset(b, ty.hi, tx.hi)};
                    for (int32_t c = 0; c < g.depth; ++c) o[c] = 0.0f;
                    for (int k = 0; k < 4; ++k)
                        for (int32_t c = 0; c < g.depth; ++c) o[c] += src[k][c] * w[k];
                }
            }
    }

    // optimized_ops ResizeBilinearGenericSmallChannel<uint8_t>.
    void smallChannel(const uint8_t* input, uint8_t* output) const {
        const Geometry& g = m_g;
        const float hs = floatScale(g.input_height, g.output_height, m_params.align_corners);
        const float ws = floatScale(g.input_width, g.output_width, m_params.align_corners);
        uint8_t* o = output;
        for (int32_t b = 0; b < g.batches; ++b)
            for (int32_t yy = 0; yy < g.output_height; ++yy) {
                const FloatTap ty = floatTap(yy, hs, m_params.half_pixel_centers, g.input_height);
                const float dy = ty.in - static_cast<float>(ty.lo);
                for (int32_t xx = 0; xx < g.output_width; ++xx) {
                    const FloatTap tx =
                        floatTap(xx, ws, m_params.half_pixel_centers, g.input_width);
                    const float dx = tx.in - static_cast<float>(tx.lo);
                    const float w[4] = {(1 - dy) * (1 - dx), (1 - dy) * dx, dy * (1 - dx), dy * dx};
                    const uint8_t* p00 = input + g.inOffset(b, ty.lo, tx.lo);
                    const uint8_t* p01 = input + g.inOffset(b, ty.lo, tx.hi);
                    const uint8_t* p10 = input + g.inOffset(b, ty.hi, tx.lo);
                    const uint8_t* p11 = input + g.inOffset(b, ty.hi, tx.hi);
                    for (int32_t c = 0; c < g.depth; ++c)
                        *o++ = static_cast<uint8_t>(static_cast<float>(p00[c]) * w[0] +
                                                    static_cast<float>(p01[c]) * w[1] +
                                                    static_cast<float>(p10[c]) * w[2] +
                                                    static_cast<float>(p11[c]) * w[3] + 0.5f);
                }
            }
    }

    // reference_ops::ResizeBilinearInteger<T>. |v| < 2^15 and each weight product <= 2^20,
    // so the four-term sum stays far inside int64.
    template <class T>
    void integer(const T* input, T* output) const {
        const Geometry& g = m_g;
        const int32_t hs = scale10(g.input_height, g.output_height, m_params.align_corners);
        const int32_t ws = scale10(g.input_width, g.output_width, m_params.align_corners);
        T* o = output;
        for (int32_t b = 0; b < g.batches; ++b)
            for (int32_t yy = 0; yy < g.output_height; ++yy) {
                const IntTap ty = intTap(yy, hs, m_params.half_pixel_centers, g.input_height);
                const int64_t fy = ty.in - (1 << 10) * ty.lo;
                for (int32_t xx = 0; xx < g.output_width; ++xx) {
                    const IntTap tx = intTap(xx, ws, m_params.half_pixel_centers, g.input_width);
                    const int64_t fx = tx.in - (1 << 10) * tx.lo;
                    const T* p00 = input + g.inOffset(b, ty.lo, tx.lo);
                    const T* p10 = input + g.inOffset(b, ty.hi, tx.lo);
                    const T* p01 = input + g.inOffset(b, ty.lo, tx.hi);
                    const T* p11 = input + g.inOffset(b, ty.hi, tx.hi);
                    for (int32_t c = 0; c < g.depth; ++c) {
                        const int64_t sum = int64_t{p00[c]} * ((1 << 10) - fy) * ((1 << 10) - fx) +
                                            int64_t{p10[c]} * fy * ((1 << 10) - fx) +
                                            int64_t{p01[c]} * ((1 << 10) - fy) * fx +
                                            int64_t{p11[c]} * fy * fx;
                        int64_t r;
                        if (m_single_rounding)
                            r = (sum + (1 << 19)) >> 20;
                        else
                            r = (sum + (sum > 0 ? (1 << 19) : -(1 << 19))) / (1 << 20);
                        *o++ = static_cast<T>(r);
                    }
                }
            }
    }

    ResizeParams m_params;
    Geometry m_g;
    DType m_type = DType::Float32;
    BilinearPath m_path = BilinearPath::ReferenceFloat;
    bool m_single_rounding = false;
};

// ---- RESIZE_NEAREST_NEIGHBOR ---------------------------------------------------------------

// reference_ops GetNearestNeighbor.
int32_t nearestNeighbor(int32_t value, int32_t input_size, int32_t output_size, bool align_corners,
                        bool half_pixel_centers) {
    const float scale =
        (align_corners && output_size > 1)
            ? static_cast<float>(input_size - 1) / static_cast<float>(output_size - 1)
            : static_cast<float>(input_size) / static_cast<float>(output_size);
    const float offset = half_pixel_centers ? 0.5f : 0.0f;
    const float pos = (static_cast<float>(value) + offset) * scale;
    int32_t r = std::min(align_corners ? static_cast<int32_t>(std::round(pos))
                                       : static_cast<int32_t>(std::floor(pos)),
                         input_size - 1);
    if (half_pixel_centers) r = std::max(int32_t{0}, r);
    return r;
}

class ResizeNearestKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        auto g = prepareResize(ctx, m_params);
        if (!g) return std::unexpected(g.error());
        const Geometry& geo = *g;
        const DType t = ctx.input(0)->dtype;
        m_elem = dtypeSize(t);
        if (t != DType::Float32 && t != DType::Int8 && t != DType::UInt8 && t != DType::Int16 &&
            t != DType::Int32)
            return ctx.fail(strFormat("type {} is not supported", model::dtypeName(t)));
        const RoundingProfile p = ctx.profile();
        const bool fixed16 = m_elem == 1 && !m_params.align_corners &&
                             !m_params.half_pixel_centers &&
                             (p == RoundingProfile::Builtin || p == RoundingProfile::Xnnpack);
        // Source rows and columns are data-independent: computed once here.
        auto pick = [&](int32_t in, int32_t out_size, std::vector<int32_t>& v) {
            v.resize(static_cast<size_t>(out_size));
            const int32_t scale16 = (in << 16) / out_size + 1;  // optimized_ops 16.16 scale
            for (int32_t i = 0; i < out_size; ++i)
                v[static_cast<size_t>(i)] =
                    fixed16 ? std::min((i * scale16) >> 16, in - 1)
                            : nearestNeighbor(i, in, out_size, m_params.align_corners,
                                              m_params.half_pixel_centers);
        };
        pick(geo.input_height, geo.output_height, m_rows);
        pick(geo.input_width, geo.output_width, m_cols);
        m_g = geo;
        return {};
    }
    void eval(EvalContext& ctx) override {
        const auto* src = static_cast<const uint8_t*>(ctx.input(0).raw());
        auto* dst = static_cast<uint8_t*>(ctx.output(0).raw());
        const size_t pixel = static_cast<size_t>(m_g.depth) * m_elem;
        for (int32_t b = 0; b < m_g.batches; ++b)
            for (int32_t y : m_rows)
                for (int32_t x : m_cols) {
                    std::memcpy(dst, src + m_g.inOffset(b, y, x) * static_cast<int64_t>(m_elem),
                                pixel);
                    dst += pixel;
                }
    }

private:
    ResizeParams m_params;
    Geometry m_g;
    size_t m_elem = 4;
    std::vector<int32_t> m_rows, m_cols;
};

}  // namespace
}  // namespace qs::engine::kernels

namespace qs::engine {
void registerKernels_resize(KernelRegistry& r) {
    r.add(model::BuiltinOp::RESIZE_BILINEAR, &makeKernel<kernels::ResizeBilinearKernel>);
    r.add(model::BuiltinOp::RESIZE_NEAREST_NEIGHBOR, &makeKernel<kernels::ResizeNearestKernel>);
}
}  // namespace qs::engine
