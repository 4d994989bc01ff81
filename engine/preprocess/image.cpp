#include "engine/preprocess/image.h"

// clang-format off: jpeglib.h needs <cstdio> before it.
#include <jpeglib.h>
#include <cstdio>
// clang-format on
#include <png.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstring>
#include <fstream>
#include <iterator>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/io/npy.h"
#include "model/str_format.h"

namespace qs::engine::preprocess {

namespace {

// ---- EXIF ----------------------------------------------------------------------------------

uint32_t readU16(const uint8_t* p, bool le) {
    return le ? uint32_t(p[0]) | uint32_t(p[1]) << 8 : uint32_t(p[0]) << 8 | uint32_t(p[1]);
}
uint32_t readU32(const uint8_t* p, bool le) {
    return le ? readU16(p, true) | readU16(p + 2, true) << 16
              : readU16(p, false) << 16 | readU16(p + 2, false);
}

// ---- JPEG ----------------------------------------------------------------------------------

struct JpegError {
    jpeg_error_mgr mgr;
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

void jpegErrorExit(j_common_ptr cinfo) {
    auto* err = reinterpret_cast<JpegError*>(cinfo->err);
    (*cinfo->err->format_message)(cinfo, err->message);
    std::longjmp(err->jump, 1);
}
void jpegSilence(j_common_ptr, int) {}

// Everything libjpeg may jump out of lives in this function, whose only automatic objects
// are trivially destructible (longjmp skips destructors). `out` is sized before any jump can
// leave it half-built, and `exif` is only appended to.
bool decodeJpegRaw(std::span<const uint8_t> bytes, Image& out, std::vector<uint8_t>& exif,
                   std::string& error) {
    jpeg_decompress_struct cinfo;
    JpegError jerr;
    cinfo.err = jpeg_std_error(&jerr.mgr);
    jerr.mgr.error_exit = jpegErrorExit;
    jerr.mgr.emit_message = jpegSilence;
    jerr.message[0] = '\0';
    if (setjmp(jerr.jump)) {
        error = jerr.message;
        jpeg_destroy_decompress(&cinfo);
        return false;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&cinfo, TRUE);
    for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next) {
        if (m->marker == JPEG_APP0 + 1 && m->data_length > 6 &&
            std::memcmp(m->data, "Exif\0\0", 6) == 0 && exif.empty())
            exif.insert(exif.end(), m->data + 6, m->data + m->data_length);
    }
    // grfmt_jpeg.cpp: gray files stay gray; CMYK/YCCK files are read as CMYK and converted
    // below; everything else is asked for as RGB with libjpeg's default DCT and upsampling.
    const bool cmyk = cinfo.num_components == 4;
    if (cinfo.jpeg_color_space == JCS_GRAYSCALE) {
        cinfo.out_color_space = JCS_GRAYSCALE;
    } else if (cmyk) {
        cinfo.out_color_space = JCS_CMYK;
    } else {
        cinfo.out_color_space = JCS_RGB;
    }
    jpeg_start_decompress(&cinfo);
    const int channels = cmyk ? 3 : static_cast<int>(cinfo.output_components);
    out = Image(static_cast<int32_t>(cinfo.output_width), static_cast<int32_t>(cinfo.output_height),
                channels);
    JSAMPARRAY line = (*cinfo.mem->alloc_sarray)(reinterpret_cast<j_common_ptr>(&cinfo),
                                                 JPOOL_IMAGE, cinfo.output_width * 4, 1);
    while (cinfo.output_scanline < cinfo.output_height) {
        uint8_t* dst = out.row(static_cast<int32_t>(cinfo.output_scanline));
        jpeg_read_scanlines(&cinfo, line, 1);
        if (!cmyk) {
            std::memcpy(dst, line[0], static_cast<size_t>(out.width) * channels);
            continue;
        }
        // grfmt_jpeg.cpp icvCvt_CMYK2BGR_8u_C4C3R: each of C, M, Y scaled by K in 8 bits.
        for (int32_t x = 0; x < out.width; ++x) {
            const uint8_t* s = line[0] + 4 * x;
            const int k = s[3];
            for (int c = 0; c < 3; ++c) dst[3 * x + c] = uint8_t(k - ((255 - s[c]) * k >> 8));
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return true;
}

// ---- PNG -----------------------------------------------------------------------------------

struct PngReader {
    std::span<const uint8_t> bytes;
    size_t pos = 0;
};

void pngRead(png_structp png, png_bytep data, png_size_t length) {
    auto* r = static_cast<PngReader*>(png_get_io_ptr(png));
    if (length > r->bytes.size() - r->pos) png_error(png, "file is truncated");
    std::memcpy(data, r->bytes.data() + r->pos, length);
    r->pos += length;
}
void pngErrorFn(png_structp png, png_const_charp msg) {
    auto* text = static_cast<std::string*>(png_get_error_ptr(png));
    if (text) *text = msg;
    png_longjmp(png, 1);
}
void pngWarnFn(png_structp, png_const_charp) {}

// Same longjmp discipline as decodeJpegRaw.
bool decodePngRaw(std::span<const uint8_t> bytes, Image& out, std::vector<uint8_t>& exif,
                  std::string& error) {
    PngReader reader{bytes, 0};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &error, pngErrorFn, pngWarnFn);
    if (!png) {
        error = "out of memory";
        return false;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, nullptr, nullptr);
        error = "out of memory";
        return false;
    }
    png_bytep* rows = nullptr;
    if (setjmp(png_jmpbuf(png))) {
        std::free(rows);
        png_destroy_read_struct(&png, &info, nullptr);
        return false;
    }
    png_set_read_fn(png, &reader, pngRead);
    png_read_info(png, info);
    const int color_type = png_get_color_type(png, info);
    // grfmt_png.cpp, 8-bit output: 16-bit samples keep their high byte (png_set_strip_16),
    // palettes and 1/2/4-bit gray expand to 8 bits; tRNS becomes an alpha channel here (the
    // RGB conversion drops it again, as OpenCV's png_set_strip_alpha does).
    png_set_strip_16(png);
    png_set_expand(png);
    if (color_type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    const int channels = png_get_channels(png, info);
    if (channels != 1 && channels != 3 && channels != 4) png_error(png, "unsupported layout");
    const auto w = static_cast<int32_t>(png_get_image_width(png, info));
    const auto h = static_cast<int32_t>(png_get_image_height(png, info));
    if (w <= 0 || h <= 0 || static_cast<int64_t>(w) * h > (int64_t{1} << 30))
        png_error(png, "image size out of range");
    out = Image(w, h, channels);
    rows = static_cast<png_bytep*>(std::malloc(sizeof(png_bytep) * static_cast<size_t>(h)));
    if (!rows) png_error(png, "out of memory");
    for (int32_t y = 0; y < h; ++y) rows[y] = out.row(y);
    png_read_image(png, rows);
    png_read_end(png, info);
#ifdef PNG_eXIf_SUPPORTED
    png_uint_32 exif_len = 0;
    png_bytep exif_data = nullptr;
    if (png_get_eXIf_1(png, info, &exif_len, &exif_data) && exif_data && exif_len > 0)
        exif.insert(exif.end(), exif_data, exif_data + exif_len);
#endif
    std::free(rows);
    png_destroy_read_struct(&png, &info, nullptr);
    return true;
}

// ---- BMP -----------------------------------------------------------------------------------

Result<Image> decodeBmp(std::span<const uint8_t> b, const std::string& name) {
    auto bad = [&](const std::string& why) { return fail(strFormat("{}: {}", name, why)); };
    if (b.size() < 26) return bad("truncated BMP header");
    const uint32_t data_offset = readU32(&b[10], true);
    const uint32_t header_size = readU32(&b[14], true);
    if (header_size < 12 || 14 + header_size > b.size()) return bad("bad BMP header size");
    int64_t width = 0, height = 0;
    uint32_t bpp = 0, compression = 0, colors_used = 0;
    if (header_size == 12) {  // OS/2 BITMAPCOREHEADER
        width = readU16(&b[18], true);
        height = static_cast<int16_t>(readU16(&b[20], true));
        bpp = readU16(&b[24], true);
    } else {
        if (b.size() < 54) return bad("truncated BMP header");
        width = static_cast<int32_t>(readU32(&b[18], true));
        height = static_cast<int32_t>(readU32(&b[22], true));
        bpp = readU16(&b[28], true);
        compression = readU32(&b[30], true);
        colors_used = readU32(&b[46], true);
    }
    const bool top_down = height < 0;
    height = std::abs(height);
    if (width <= 0 || height <= 0 || width * height > (int64_t{1} << 30))
        return bad("BMP size out of range");
    // BI_RGB, or BI_BITFIELDS with the usual 8-bit masks for 32 bpp (alpha ignored, as
    // cv2.imread's IMREAD_COLOR reads 32-bit BMPs).
    if (compression != 0 && !(compression == 3 && bpp == 32))
        return bad(
            strFormat("BMP compression {} is not supported (only uncompressed)", compression));
    if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 24 && bpp != 32)
        return bad(strFormat("{}-bit BMP is not supported", bpp));
    std::vector<uint8_t> palette;  // RGB triples
    if (bpp <= 8) {
        const size_t entry = header_size == 12 ? 3 : 4;
        size_t count = colors_used ? colors_used : (size_t{1} << bpp);
        count = std::min<size_t>(count, size_t{1} << bpp);
        const size_t start = 14 + header_size;
        if (start + count * entry > b.size()) return bad("truncated BMP palette");
        palette.assign((size_t{1} << bpp) * 3, 0);
        for (size_t i = 0; i < count; ++i) {
            const uint8_t* e = &b[start + i * entry];
            palette[3 * i] = e[2];
            palette[3 * i + 1] = e[1];
            palette[3 * i + 2] = e[0];
        }
    }
    const size_t stride = ((static_cast<size_t>(width) * bpp + 31) / 32) * 4;
    if (data_offset > b.size() || stride * static_cast<size_t>(height) > b.size() - data_offset)
        return bad("truncated BMP pixel data");
    Image out(static_cast<int32_t>(width), static_cast<int32_t>(height), 3);
    for (int32_t y = 0; y < out.height; ++y) {
        const int32_t src_row = top_down ? y : out.height - 1 - y;
        const uint8_t* s = &b[data_offset + stride * static_cast<size_t>(src_row)];
        uint8_t* d = out.row(y);
        for (int32_t x = 0; x < out.width; ++x, d += 3) {
            if (bpp >= 24) {
                const uint8_t* p = s + static_cast<size_t>(x) * (bpp / 8);
                d[0] = p[2];
                d[1] = p[1];
                d[2] = p[0];
                continue;
            }
            const size_t bit = static_cast<size_t>(x) * bpp;
            const unsigned idx = (s[bit / 8] >> (8 - bpp - bit % 8)) & ((1u << bpp) - 1);
            std::memcpy(d, &palette[3 * idx], 3);
        }
    }
    return out;
}

}  // namespace

int exifOrientation(std::span<const uint8_t> t) {
    if (t.size() < 8) return 1;
    bool le;
    if (t[0] == 'I' && t[1] == 'I')
        le = true;
    else if (t[0] == 'M' && t[1] == 'M')
        le = false;
    else
        return 1;
    if (readU16(&t[2], le) != 42) return 1;
    const uint32_t ifd = readU32(&t[4], le);
    if (ifd > t.size() - 2) return 1;
    const uint32_t n = readU16(&t[ifd], le);
    for (uint32_t i = 0; i < n; ++i) {
        const size_t e = ifd + 2 + size_t{12} * i;
        if (e + 12 > t.size()) return 1;
        if (readU16(&t[e], le) != 0x0112) continue;
        // Orientation is a SHORT stored in the first two bytes of the value field.
        const uint32_t v = readU16(&t[e + 8], le);
        return v >= 1 && v <= 8 ? static_cast<int>(v) : 1;
    }
    return 1;
}

Image applyOrientation(const Image& in, int orientation) {
    if (orientation < 2 || orientation > 8) return in;
    // loadsave.cpp ApplyExifOrientation: 5..8 transpose first; then 2,3,6,7 flip around the
    // vertical axis and 3,4,7,8 around the horizontal axis.
    const bool transpose = orientation >= 5;
    const bool flip_h =
        orientation == 2 || orientation == 3 || orientation == 6 || orientation == 7;
    const bool flip_v =
        orientation == 3 || orientation == 4 || orientation == 7 || orientation == 8;
    const int32_t w = transpose ? in.height : in.width;
    const int32_t h = transpose ? in.width : in.height;
    Image out(w, h, in.channels);
    const auto c = static_cast<size_t>(in.channels);
    for (int32_t y = 0; y < h; ++y) {
        for (int32_t x = 0; x < w; ++x) {
            const int32_t tx = flip_h ? w - 1 - x : x;  // position before the flips
            const int32_t ty = flip_v ? h - 1 - y : y;
            const int32_t sx = transpose ? ty : tx;
            const int32_t sy = transpose ? tx : ty;
            std::memcpy(out.row(y) + x * c, in.row(sy) + sx * c, c);
        }
    }
    return out;
}

Result<Image> decodeImage(std::span<const uint8_t> bytes, const std::string& name) {
    Image out;
    std::vector<uint8_t> exif;
    std::string error;
    if (bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) {
        if (!decodeJpegRaw(bytes, out, exif, error))
            return fail(strFormat("{}: cannot decode JPEG: {}", name, error));
    } else if (bytes.size() >= 8 && std::memcmp(bytes.data(), "\x89PNG\r\n\x1a\n", 8) == 0) {
        if (!decodePngRaw(bytes, out, exif, error))
            return fail(strFormat("{}: cannot decode PNG: {}", name, error));
    } else if (bytes.size() >= 2 && bytes[0] == 'B' && bytes[1] == 'M') {
        auto b = decodeBmp(bytes, name);
        if (!b) return b;
        out = std::move(*b);
    } else {
        return fail(strFormat("{}: not a PNG, JPEG or BMP image", name));
    }
    if (!exif.empty()) out = applyOrientation(out, exifOrientation(exif));
    return out;
}

Result<Image> readImage(const std::filesystem::path& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return fail(strFormat("{}: cannot open file", path.string()));
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)),
                               std::istreambuf_iterator<char>());
    if (f.bad()) return fail(strFormat("{}: read error", path.string()));
    return decodeImage(bytes, path.string());
}

namespace {

void pngWrite(png_structp png, png_bytep data, png_size_t length) {
    auto* out = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(png));
    out->insert(out->end(), data, data + length);
}
void pngFlush(png_structp) {}

bool encodePngRaw(const Image& image, std::vector<uint8_t>& out, std::string& error) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &error, pngErrorFn, pngWarnFn);
    if (!png) return false;
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, nullptr);
        return false;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return false;
    }
    png_set_write_fn(png, &out, pngWrite, pngFlush);
    const int type = image.channels == 1   ? PNG_COLOR_TYPE_GRAY
                     : image.channels == 3 ? PNG_COLOR_TYPE_RGB
                                           : PNG_COLOR_TYPE_RGB_ALPHA;
    png_set_IHDR(png, info, static_cast<png_uint_32>(image.width),
                 static_cast<png_uint_32>(image.height), 8, type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int32_t y = 0; y < image.height; ++y)
        png_write_row(png, const_cast<png_bytep>(image.row(y)));
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return true;
}

}  // namespace

Result<std::vector<uint8_t>> encodePng(const Image& image) {
    if (image.empty() || (image.channels != 1 && image.channels != 3 && image.channels != 4))
        return fail("PNG needs a non-empty 1, 3 or 4 channel image");
    std::vector<uint8_t> out;
    std::string error;
    if (!encodePngRaw(image, out, error)) return fail("cannot encode PNG: " + error);
    return out;
}

Result<void> writePng(const std::filesystem::path& path, const Image& image) {
    auto bytes = encodePng(image);
    if (!bytes) return fail(strFormat("{}: {}", path.string(), bytes.error().message));
    return writeFileAtomic(path, *bytes);
}

Image toRgb(const Image& in) {
    if (in.channels == 3) return in;
    Image out(in.width, in.height, 3);
    const size_t n = static_cast<size_t>(in.width) * in.height;
    for (size_t i = 0; i < n; ++i) {
        for (int c = 0; c < 3; ++c)
            out.pixels[3 * i + c] =
                in.pixels[i * in.channels + (in.channels == 1 ? 0 : static_cast<size_t>(c))];
    }
    return out;
}

Image toGray(const Image& in) {
    if (in.channels == 1) return in;
    const Image rgb = toRgb(in);
    Image out(in.width, in.height, 1);
    const cv::Mat src(rgb.height, rgb.width, CV_8UC3, const_cast<uint8_t*>(rgb.pixels.data()));
    cv::Mat dst(out.height, out.width, CV_8UC1, out.pixels.data());
    cv::cvtColor(src, dst, cv::COLOR_RGB2GRAY);
    return out;
}

Image swapRedBlue(const Image& in) {
    Image out = in;
    if (in.channels < 3) return out;
    const size_t n = static_cast<size_t>(in.width) * in.height;
    for (size_t i = 0; i < n; ++i)
        std::swap(out.pixels[i * in.channels], out.pixels[i * in.channels + 2]);
    return out;
}

Image toUint8(const FloatImage& in) {
    Image out(in.width, in.height, in.channels);
    for (size_t i = 0; i < in.values.size(); ++i)
        out.pixels[i] =
            static_cast<uint8_t>(std::clamp(std::nearbyint(in.values[i]), 0.0f, 255.0f));
    return out;
}

FloatImage toFloat(const Image& in) {
    FloatImage out(in.width, in.height, in.channels);
    for (size_t i = 0; i < in.pixels.size(); ++i) out.values[i] = in.pixels[i];
    return out;
}

}  // namespace qs::engine::preprocess
