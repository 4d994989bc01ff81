// 8-bit images for the preprocessing lab: decoding (PNG, JPEG, BMP) with the EXIF orientation
// applied, PNG encoding, and the channel conversions a model input needs.
//
// Decoding uses the system libjpeg-turbo and libpng with the settings OpenCV's imgcodecs uses
// (modules/imgcodecs/src/grfmt_jpeg.cpp: JCS_RGB output, library-default DCT and upsampling;
// grfmt_png.cpp: 16-bit samples stripped to their high byte, palettes and low-bit gray
// expanded), so the pixels equal cv2.imread's on Debian, which links the same libraries. BMP
// is read here (uncompressed 1/4/8/24/32-bit), as OpenCV's grfmt_bmp.cpp reads it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "model/error.h"

namespace qs::engine::preprocess {

// Row-major, channels interleaved, no row padding. channels: 1 gray, 3 RGB, 4 RGBA.
struct Image {
    int32_t width = 0;
    int32_t height = 0;
    int32_t channels = 0;
    std::vector<uint8_t> pixels;

    Image() = default;
    Image(int32_t w, int32_t h, int32_t c)
        : width(w), height(h), channels(c), pixels(static_cast<size_t>(w) * h * c) {}
    bool empty() const { return width <= 0 || height <= 0 || channels <= 0; }
    uint8_t* row(int32_t y) { return pixels.data() + static_cast<size_t>(y) * width * channels; }
    const uint8_t* row(int32_t y) const {
        return pixels.data() + static_cast<size_t>(y) * width * channels;
    }
    bool operator==(const Image&) const = default;
};

// The same layout with float samples (what TensorFlow's resize produces, and normalized values).
struct FloatImage {
    int32_t width = 0;
    int32_t height = 0;
    int32_t channels = 0;
    std::vector<float> values;

    FloatImage() = default;
    FloatImage(int32_t w, int32_t h, int32_t c)
        : width(w), height(h), channels(c), values(static_cast<size_t>(w) * h * c) {}
};

// Decodes a PNG, JPEG or BMP file (recognised by content, not by extension). Gray images stay
// 1 channel, gray+alpha becomes RGBA, palettes become RGB (RGBA with transparency). The EXIF
// orientation (JPEG APP1, PNG eXIf) is applied, as cv2.imread does by default. Errors are one
// line starting with the file name.
Result<Image> readImage(const std::filesystem::path& path);
// The same for bytes in memory; `name` is used in messages.
Result<Image> decodeImage(std::span<const uint8_t> bytes, const std::string& name);

// The EXIF orientation (1..8) stored in a TIFF-structured EXIF block (starting at "II"/"MM"),
// or 1 when absent or unreadable.
int exifOrientation(std::span<const uint8_t> tiff);
// Applies an EXIF orientation (1..8) as OpenCV's ApplyExifOrientation does.
Image applyOrientation(const Image& image, int orientation);

// PNG bytes of a 1, 3 or 4 channel image (8-bit gray, RGB, RGBA).
Result<std::vector<uint8_t>> encodePng(const Image& image);
// Writes a PNG atomically (temporary file + rename, as writeNpy).
Result<void> writePng(const std::filesystem::path& path, const Image& image);

// Channel conversions. toRgb: gray is replicated, alpha dropped (as cv2.imread's IMREAD_COLOR).
// toGray: cv::cvtColor(COLOR_RGB2GRAY) (fixed-point weights 0.299/0.587/0.114), alpha
// dropped; a gray image is returned unchanged.
Image toRgb(const Image& image);
Image toGray(const Image& image);
// RGB <-> BGR (swaps channels 0 and 2 of a 3 or 4 channel image).
Image swapRedBlue(const Image& image);

// Float samples rounded to nearest (ties to even, as np.rint) and clamped to 0..255.
Image toUint8(const FloatImage& image);
FloatImage toFloat(const Image& image);

}  // namespace qs::engine::preprocess
