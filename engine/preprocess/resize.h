// Image resize methods of the three libraries models are usually trained and deployed with.
//  * opencv-*: cv::resize itself (libopencv-imgproc), so the result is exactly what a user's
//    OpenCV pipeline produces.
//  * tf-*: tf.image.resize / tf.compat.v1.image.resize_* as TensorFlow's CPU kernels compute
//    them (tensorflow/core/kernels/image/resize_bilinear_op.cc and
//    resize_nearest_neighbor_op.cc), float math, float output. TF2's tf.image.resize is the
//    "-half-pixel" variant; the plain name is the TF1 / TFLite default (neither
//    align_corners nor half_pixel_centers).
//  * pil-*: Pillow's Image.resize (src/libImaging/Resample.c and Geometry.c, Pillow 9.x) on
//    8-bit bands: separable filters with support scaled on downscale, 22-bit fixed-point
//    coefficients, horizontal pass first, each pass rounded to 8 bits; NEAREST through the
//    affine scale path.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "engine/preprocess/image.h"
#include "model/error.h"

namespace qs::engine::preprocess {

enum class ResizeMethod {
    OpencvNearest,
    OpencvLinear,
    OpencvLinearExact,
    OpencvArea,
    OpencvCubic,
    OpencvLanczos4,
    TfBilinear,
    TfBilinearHalfPixel,
    TfBilinearAlignCorners,
    TfNearest,
    TfNearestHalfPixel,
    TfNearestAlignCorners,
    PilNearest,
    PilBilinear,
    PilBicubic,
    PilLanczos,
    PilBox,
    PilHamming,
};

struct ResizeMethodInfo {
    ResizeMethod method;
    std::string_view name;         // CLI spelling, e.g. "opencv-area"
    std::string_view description;  // what the user would write, e.g. "cv2.INTER_AREA"
    bool integer_output;           // true: every result is an integer 0..255 (8-bit libraries)
};

std::span<const ResizeMethodInfo> resizeMethods();
const ResizeMethodInfo& resizeMethodInfo(ResizeMethod method);
std::optional<ResizeMethod> parseResizeMethod(std::string_view name);
// "opencv-area, opencv-linear, ..." for messages.
std::string resizeMethodList();

// Resizes an 8-bit image (any channel count; every channel independently) to width x height.
// 8-bit methods give integral values; tf-* give TensorFlow's float results.
Result<FloatImage> resize(const Image& source, int32_t width, int32_t height, ResizeMethod method);

}  // namespace qs::engine::preprocess
