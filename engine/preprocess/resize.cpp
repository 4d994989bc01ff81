#include "engine/preprocess/resize.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <exception>
#include <numbers>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "model/str_format.h"

namespace qs::engine::preprocess {

namespace {

constexpr std::array kMethods = {
    ResizeMethodInfo{ResizeMethod::OpencvNearest, "opencv-nearest", "cv2.INTER_NEAREST", true},
    ResizeMethodInfo{ResizeMethod::OpencvLinear, "opencv-linear", "cv2.INTER_LINEAR", true},
    ResizeMethodInfo{ResizeMethod::OpencvLinearExact, "opencv-linear-exact",
                     "cv2.INTER_LINEAR_EXACT", true},
    ResizeMethodInfo{ResizeMethod::OpencvArea, "opencv-area", "cv2.INTER_AREA", true},
    ResizeMethodInfo{ResizeMethod::OpencvCubic, "opencv-cubic", "cv2.INTER_CUBIC", true},
    ResizeMethodInfo{ResizeMethod::OpencvLanczos4, "opencv-lanczos4", "cv2.INTER_LANCZOS4", true},
    ResizeMethodInfo{ResizeMethod::TfBilinear, "tf-bilinear",
                     "tf.compat.v1.image.resize_bilinear (TFLite RESIZE_BILINEAR default)", false},
    ResizeMethodInfo{ResizeMethod::TfBilinearHalfPixel, "tf-bilinear-half-pixel",
                     "tf.image.resize(method='bilinear') (half_pixel_centers)", false},
    ResizeMethodInfo{ResizeMethod::TfBilinearAlignCorners, "tf-bilinear-align-corners",
                     "tf.compat.v1.image.resize_bilinear(align_corners=True)", false},
    ResizeMethodInfo{ResizeMethod::TfNearest, "tf-nearest",
                     "tf.compat.v1.image.resize_nearest_neighbor", false},
    ResizeMethodInfo{ResizeMethod::TfNearestHalfPixel, "tf-nearest-half-pixel",
                     "tf.image.resize(method='nearest') (half_pixel_centers)", false},
    ResizeMethodInfo{ResizeMethod::TfNearestAlignCorners, "tf-nearest-align-corners",
                     "tf.compat.v1.image.resize_nearest_neighbor(align_corners=True)", false},
    ResizeMethodInfo{ResizeMethod::PilNearest, "pil-nearest", "PIL Image.NEAREST", true},
    ResizeMethodInfo{ResizeMethod::PilBilinear, "pil-bilinear", "PIL Image.BILINEAR", true},
    ResizeMethodInfo{ResizeMethod::PilBicubic, "pil-bicubic", "PIL Image.BICUBIC", true},
    ResizeMethodInfo{ResizeMethod::PilLanczos, "pil-lanczos", "PIL Image.LANCZOS", true},
    ResizeMethodInfo{ResizeMethod::PilBox, "pil-box", "PIL Image.BOX", true},
    ResizeMethodInfo{ResizeMethod::PilHamming, "pil-hamming", "PIL Image.HAMMING", true},
};

// ---- OpenCV --------------------------------------------------------------------------------

Result<FloatImage> resizeOpencv(const Image& src, int32_t w, int32_t h, int interpolation) {
    Image out(w, h, src.channels);
    try {
        const cv::Mat in(src.height, src.width, CV_8UC(src.channels),
                         const_cast<uint8_t*>(src.pixels.data()));
        cv::Mat dst(h, w, CV_8UC(src.channels), out.pixels.data());
        cv::resize(in, dst, cv::Size(w, h), 0, 0, interpolation);
        // cv::resize reallocates only when dst has the wrong size or type; it has neither.
        if (dst.data != out.pixels.data()) return fail("cv::resize did not write in place");
    } catch (const std::exception& e) {
        return fail(strFormat("cv::resize failed: {}", e.what()));
    }
    return toFloat(out);
}

// ---- TensorFlow ----------------------------------------------------------------------------

// image_resizer_state.h CalculateResizeScale.
float tfScale(int32_t in, int32_t out, bool align_corners) {
    return align_corners && out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1)
                                    : static_cast<float>(in) / static_cast<float>(out);
}

struct TfTap {
    int32_t lower = 0, upper = 0;
    float lerp = 0;
};

// resize_bilinear_op.cc compute_interpolation_weights with HalfPixelScaler ((x + 0.5) * scale
// - 0.5) or LegacyScaler (x * scale); align_corners only changes the scale.
std::vector<TfTap> tfBilinearTaps(int32_t out, int32_t in, float scale, bool half_pixel) {
    std::vector<TfTap> taps(static_cast<size_t>(out));
    for (int32_t i = 0; i < out; ++i) {
        const float v = half_pixel ? (static_cast<float>(i) + 0.5f) * scale - 0.5f
                                   : static_cast<float>(i) * scale;
        const float v_floor = std::floor(v);
        auto& t = taps[static_cast<size_t>(i)];
        t.lower = std::max(static_cast<int32_t>(v_floor), int32_t{0});
        t.upper = std::min(static_cast<int32_t>(std::ceil(v)), in - 1);
        t.lerp = v - v_floor;
    }
    return taps;
}

FloatImage resizeTfBilinear(const Image& src, int32_t w, int32_t h, bool align_corners,
                            bool half_pixel) {
    const auto ys =
        tfBilinearTaps(h, src.height, tfScale(src.height, h, align_corners), half_pixel);
    const auto xs = tfBilinearTaps(w, src.width, tfScale(src.width, w, align_corners), half_pixel);
    FloatImage out(w, h, src.channels);
    const int32_t c = src.channels;
    float* dst = out.values.data();
    for (int32_t y = 0; y < h; ++y) {
        const TfTap& ty = ys[static_cast<size_t>(y)];
        const uint8_t* top = src.row(ty.lower);
        const uint8_t* bottom = src.row(ty.upper);
        for (int32_t x = 0; x < w; ++x) {
            const TfTap& tx = xs[static_cast<size_t>(x)];
            for (int32_t ch = 0; ch < c; ++ch) {
                // compute_lerp: two horizontal lerps, then the vertical one, in float.
                const float tl = top[tx.lower * c + ch], tr = top[tx.upper * c + ch];
                const float bl = bottom[tx.lower * c + ch], br = bottom[tx.upper * c + ch];
                const float t = tl + (tr - tl) * tx.lerp;
                const float b = bl + (br - bl) * tx.lerp;
                *dst++ = t + (b - t) * ty.lerp;
            }
        }
    }
    return out;
}

// resize_nearest_neighbor_op.cc: HalfPixelScalerForNN is (x + 0.5) * scale (no -0.5);
// align_corners rounds half away from zero (roundf), otherwise floorf; clamped to size - 1
// and, with half-pixel centers, to 0.
std::vector<int32_t> tfNearestIndex(int32_t out, int32_t in, bool align_corners, bool half_pixel) {
    const float scale = tfScale(in, out, align_corners);
    std::vector<int32_t> idx(static_cast<size_t>(out));
    for (int32_t i = 0; i < out; ++i) {
        const float v =
            half_pixel ? (static_cast<float>(i) + 0.5f) * scale : static_cast<float>(i) * scale;
        int64_t j = align_corners ? static_cast<int64_t>(std::round(v))
                                  : static_cast<int64_t>(std::floor(v));
        j = std::min<int64_t>(j, in - 1);
        if (half_pixel) j = std::max<int64_t>(j, 0);
        idx[static_cast<size_t>(i)] = static_cast<int32_t>(j);
    }
    return idx;
}

FloatImage gather(const Image& src, const std::vector<int32_t>& xs,
                  const std::vector<int32_t>& ys) {
    const auto w = static_cast<int32_t>(xs.size());
    const auto h = static_cast<int32_t>(ys.size());
    FloatImage out(w, h, src.channels);
    float* dst = out.values.data();
    for (int32_t y = 0; y < h; ++y) {
        const uint8_t* row = src.row(ys[static_cast<size_t>(y)]);
        for (int32_t x = 0; x < w; ++x)
            for (int32_t ch = 0; ch < src.channels; ++ch)
                *dst++ = row[xs[static_cast<size_t>(x)] * src.channels + ch];
    }
    return out;
}

// ---- Pillow --------------------------------------------------------------------------------

double pilBox(double x) {
    return x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
}
double pilBilinear(double x) {
    x = std::fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}
double pilHamming(double x) {
    x = std::fabs(x);
    if (x == 0.0) return 1.0;
    if (x >= 1.0) return 0.0;
    x = x * std::numbers::pi;
    // The float literals are Pillow's (0.54f, 0.46f), promoted to double.
    return std::sin(x) / x * (0.54f + 0.46f * std::cos(x));
}
double pilBicubic(double x) {
    constexpr double a = -0.5;
    x = std::fabs(x);
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}
double pilSinc(double x) {
    if (x == 0.0) return 1.0;
    x = x * std::numbers::pi;
    return std::sin(x) / x;
}
double pilLanczos(double x) {
    return -3.0 <= x && x < 3.0 ? pilSinc(x) * pilSinc(x / 3) : 0.0;
}

struct PilFilter {
    double (*fn)(double);
    double support;
};

// Resample.c: PRECISION_BITS = 32 - 8 - 2, so an 8-bit sample times a coefficient sum of up
// to ~2 (negative lobes) stays inside int32.
constexpr int kPilPrecisionBits = 22;

struct PilCoeffs {
    int32_t ksize = 0;
    std::vector<int32_t> bounds;  // per output: first input index, count
    std::vector<int32_t> k;       // per output: ksize fixed-point coefficients
};

// Resample.c precompute_coeffs + normalize_coeffs_8bpc, for the full box [0, in_size).
PilCoeffs pilCoeffs(int32_t in_size, int32_t out_size, const PilFilter& f) {
    const float in0 = 0.0f, in1 = static_cast<float>(in_size);
    const double scale = static_cast<double>(in1 - in0) / out_size;
    const double filterscale = std::max(scale, 1.0);
    const double support = f.support * filterscale;
    PilCoeffs c;
    c.ksize = static_cast<int32_t>(std::ceil(support)) * 2 + 1;
    c.bounds.resize(static_cast<size_t>(out_size) * 2);
    c.k.assign(static_cast<size_t>(out_size) * static_cast<size_t>(c.ksize), 0);
    std::vector<double> w(static_cast<size_t>(c.ksize));
    for (int32_t xx = 0; xx < out_size; ++xx) {
        const double center = in0 + (xx + 0.5) * scale;
        const double ss = 1.0 / filterscale;
        // Truncation toward zero of (value + 0.5), as the C casts do.
        int32_t xmin = static_cast<int32_t>(center - support + 0.5);
        xmin = std::max(xmin, int32_t{0});
        int32_t xmax = static_cast<int32_t>(center + support + 0.5);
        xmax = std::min(xmax, in_size) - xmin;
        double ww = 0.0;
        for (int32_t x = 0; x < xmax; ++x) {
            w[static_cast<size_t>(x)] = f.fn((x + xmin - center + 0.5) * ss);
            ww += w[static_cast<size_t>(x)];
        }
        int32_t* k = &c.k[static_cast<size_t>(xx) * static_cast<size_t>(c.ksize)];
        for (int32_t x = 0; x < xmax; ++x) {
            double v = w[static_cast<size_t>(x)];
            if (ww != 0.0) v /= ww;
            // normalize_coeffs_8bpc: round half away from zero by +-0.5 and truncation.
            const double scaled = v * (1 << kPilPrecisionBits);
            k[x] = static_cast<int32_t>(v < 0 ? -0.5 + scaled : 0.5 + scaled);
        }
        c.bounds[static_cast<size_t>(xx) * 2] = xmin;
        c.bounds[static_cast<size_t>(xx) * 2 + 1] = xmax;
    }
    return c;
}

// Resample.c clip8: the accumulator starts at half an output step; the arithmetic shift and
// the lookup table clamp to 0..255.
inline uint8_t pilClip8(int64_t acc) {
    return static_cast<uint8_t>(std::clamp<int64_t>(acc >> kPilPrecisionBits, 0, 255));
}

Image pilHorizontal(const Image& src, int32_t w, const PilFilter& f) {
    const PilCoeffs c = pilCoeffs(src.width, w, f);
    Image out(w, src.height, src.channels);
    const int32_t ch = src.channels;
    for (int32_t y = 0; y < src.height; ++y) {
        const uint8_t* in = src.row(y);
        uint8_t* dst = out.row(y);
        for (int32_t xx = 0; xx < w; ++xx) {
            const int32_t xmin = c.bounds[static_cast<size_t>(xx) * 2];
            const int32_t n = c.bounds[static_cast<size_t>(xx) * 2 + 1];
            const int32_t* k = &c.k[static_cast<size_t>(xx) * static_cast<size_t>(c.ksize)];
            for (int32_t b = 0; b < ch; ++b) {
                int64_t acc = int64_t{1} << (kPilPrecisionBits - 1);
                for (int32_t x = 0; x < n; ++x) acc += int64_t{in[(x + xmin) * ch + b]} * k[x];
                dst[xx * ch + b] = pilClip8(acc);
            }
        }
    }
    return out;
}

Image pilVertical(const Image& src, int32_t h, const PilFilter& f) {
    const PilCoeffs c = pilCoeffs(src.height, h, f);
    Image out(src.width, h, src.channels);
    const size_t row_len = static_cast<size_t>(src.width) * src.channels;
    for (int32_t yy = 0; yy < h; ++yy) {
        const int32_t ymin = c.bounds[static_cast<size_t>(yy) * 2];
        const int32_t n = c.bounds[static_cast<size_t>(yy) * 2 + 1];
        const int32_t* k = &c.k[static_cast<size_t>(yy) * static_cast<size_t>(c.ksize)];
        uint8_t* dst = out.row(yy);
        for (size_t i = 0; i < row_len; ++i) {
            int64_t acc = int64_t{1} << (kPilPrecisionBits - 1);
            for (int32_t y = 0; y < n; ++y) acc += int64_t{src.row(y + ymin)[i]} * k[y];
            dst[i] = pilClip8(acc);
        }
    }
    return out;
}

// ImagingResampleInner: horizontal pass first (when the width changes), then vertical.
Image resizePil(const Image& src, int32_t w, int32_t h, const PilFilter& f) {
    Image cur = src;
    if (w != src.width) cur = pilHorizontal(cur, w, f);
    if (h != src.height) cur = pilVertical(cur, h, f);
    return cur;
}

// Geometry.c ImagingScaleAffine (reached from _imaging.c resize for NEAREST with the affine
// matrix [in/out, 0, 0; 0, in/out, 0]): positions start at half a step and are advanced by
// repeated double additions; COORD truncates toward zero.
std::vector<int32_t> pilNearestIndex(int32_t out, int32_t in) {
    const double step = static_cast<double>(static_cast<float>(in) - 0.0f) / out;
    std::vector<int32_t> idx(static_cast<size_t>(out));
    double pos = 0.0 + step * 0.5;
    for (int32_t i = 0; i < out; ++i) {
        const int32_t j = pos < 0.0 ? -1 : static_cast<int32_t>(pos);
        idx[static_cast<size_t>(i)] = std::clamp(j, int32_t{0}, in - 1);
        pos += step;
    }
    return idx;
}

}  // namespace

std::span<const ResizeMethodInfo> resizeMethods() {
    return kMethods;
}

const ResizeMethodInfo& resizeMethodInfo(ResizeMethod method) {
    for (const auto& m : kMethods)
        if (m.method == method) return m;
    return kMethods.front();
}

std::optional<ResizeMethod> parseResizeMethod(std::string_view name) {
    for (const auto& m : kMethods)
        if (m.name == name) return m.method;
    return std::nullopt;
}

std::string resizeMethodList() {
    std::string s;
    for (const auto& m : kMethods) s += (s.empty() ? "" : ", ") + std::string(m.name);
    return s;
}

Result<FloatImage> resize(const Image& src, int32_t w, int32_t h, ResizeMethod method) {
    if (src.empty()) return fail("resize: empty source image");
    if (w <= 0 || h <= 0 || static_cast<int64_t>(w) * h > (int64_t{1} << 28))
        return fail(strFormat("resize: output size {}x{} out of range", w, h));
    using M = ResizeMethod;
    switch (method) {
        case M::OpencvNearest:
            return resizeOpencv(src, w, h, cv::INTER_NEAREST);
        case M::OpencvLinear:
            return resizeOpencv(src, w, h, cv::INTER_LINEAR);
        case M::OpencvLinearExact:
            return resizeOpencv(src, w, h, cv::INTER_LINEAR_EXACT);
        case M::OpencvArea:
            return resizeOpencv(src, w, h, cv::INTER_AREA);
        case M::OpencvCubic:
            return resizeOpencv(src, w, h, cv::INTER_CUBIC);
        case M::OpencvLanczos4:
            return resizeOpencv(src, w, h, cv::INTER_LANCZOS4);
        case M::TfBilinear:
            return resizeTfBilinear(src, w, h, false, false);
        case M::TfBilinearHalfPixel:
            return resizeTfBilinear(src, w, h, false, true);
        case M::TfBilinearAlignCorners:
            return resizeTfBilinear(src, w, h, true, false);
        case M::TfNearest:
            return gather(src, tfNearestIndex(w, src.width, false, false),
                          tfNearestIndex(h, src.height, false, false));
        case M::TfNearestHalfPixel:
            return gather(src, tfNearestIndex(w, src.width, false, true),
                          tfNearestIndex(h, src.height, false, true));
        case M::TfNearestAlignCorners:
            return gather(src, tfNearestIndex(w, src.width, true, false),
                          tfNearestIndex(h, src.height, true, false));
        case M::PilNearest:
            return gather(src, pilNearestIndex(w, src.width), pilNearestIndex(h, src.height));
        case M::PilBilinear:
            return toFloat(resizePil(src, w, h, {pilBilinear, 1.0}));
        case M::PilBicubic:
            return toFloat(resizePil(src, w, h, {pilBicubic, 2.0}));
        case M::PilLanczos:
            return toFloat(resizePil(src, w, h, {pilLanczos, 3.0}));
        case M::PilBox:
            return toFloat(resizePil(src, w, h, {pilBox, 0.5}));
        case M::PilHamming:
            return toFloat(resizePil(src, w, h, {pilHamming, 1.0}));
    }
    return fail("resize: unknown method");
}

}  // namespace qs::engine::preprocess
