// engine/preprocess: hand values for the TensorFlow and Pillow resize rules, normalization and
// input quantization; tf-* against the engine's RESIZE_BILINEAR / RESIZE_NEAREST_NEIGHBOR
// kernels; the conformance inputs reproduced from the sample images. (cv2 / PIL bit-exactness
// is checked by tests/cli/preprocess_check.py.)
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/io/npy.h"
#include "engine/preprocess/image.h"
#include "engine/preprocess/pipeline.h"
#include "engine/preprocess/resize.h"
#include "model/loader.h"
#include "op_runner.h"

namespace qs::engine::preprocess {
namespace {

using model::BuiltinOp;
using model::DType;

Image row(std::vector<uint8_t> v) {
    Image img(static_cast<int32_t>(v.size()), 1, 1);
    img.pixels = std::move(v);
    return img;
}

std::vector<float> resizeRow(std::vector<uint8_t> v, int32_t w, ResizeMethod m) {
    auto r = resize(row(std::move(v)), w, 1, m);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? r->values : std::vector<float>{};
}

TEST(PreprocessResize, TfBilinearCoordinateModes) {
    // [0, 10] to 4 columns. Legacy: x * 0.5 -> [0, 5, 10, 10]; align_corners: x / 3 ->
    // [0, 10/3, 20/3, 10]; half-pixel: (x + 0.5) * 0.5 - 0.5 = -0.25 (clamped), 0.25, 0.75,
    // 1.25 -> [0, 2.5, 7.5, 10].
    EXPECT_EQ(resizeRow({0, 10}, 4, ResizeMethod::TfBilinear), (std::vector<float>{0, 5, 10, 10}));
    const auto a = resizeRow({0, 10}, 4, ResizeMethod::TfBilinearAlignCorners);
    EXPECT_FLOAT_EQ(a[1], 10.0f / 3);
    EXPECT_FLOAT_EQ(a[2], 20.0f / 3);
    EXPECT_EQ(a[3], 10.0f);
    EXPECT_EQ(resizeRow({0, 10}, 4, ResizeMethod::TfBilinearHalfPixel),
              (std::vector<float>{0, 2.5f, 7.5f, 10}));
}

TEST(PreprocessResize, TfNearestCoordinateModes) {
    // 3 -> 5. Legacy: floor(x * 0.6) = 0,0,1,1,2; half-pixel: floor((x + 0.5) * 0.6) =
    // 0,0,1,2,2; align_corners: round(x * 0.5) half away from zero = 0,1,1,2,2.
    EXPECT_EQ(resizeRow({0, 10, 20}, 5, ResizeMethod::TfNearest),
              (std::vector<float>{0, 0, 10, 10, 20}));
    EXPECT_EQ(resizeRow({0, 10, 20}, 5, ResizeMethod::TfNearestHalfPixel),
              (std::vector<float>{0, 0, 10, 20, 20}));
    EXPECT_EQ(resizeRow({0, 10, 20}, 5, ResizeMethod::TfNearestAlignCorners),
              (std::vector<float>{0, 10, 10, 20, 20}));
}

TEST(PreprocessResize, PillowHandValues) {
    // BOX 4 -> 2: plain pair averages.
    EXPECT_EQ(resizeRow({0, 10, 20, 30}, 2, ResizeMethod::PilBox), (std::vector<float>{5, 25}));
    // BILINEAR 4 -> 2 with the support scaled by 2: output 0 is centred at 1.0, taps at x = 0,
    // 1, 2 with triangle(0.5 * (x - 0.5)) = 0.75, 0.75, 0.25 -> (0*3 + 10*3 + 20) / 7 = 7.14.
    EXPECT_EQ(resizeRow({0, 10, 20, 30}, 2, ResizeMethod::PilBilinear)[0], 7.0f);
    // NEAREST 5 -> 3: positions 5/6, 5/6 + 5/3, ... truncated -> 0, 2, 4.
    EXPECT_EQ(resizeRow({0, 1, 2, 3, 4}, 3, ResizeMethod::PilNearest),
              (std::vector<float>{0, 2, 4}));
    // Same size: a copy for every 8-bit method.
    for (auto m : {ResizeMethod::PilLanczos, ResizeMethod::OpencvCubic, ResizeMethod::PilBicubic})
        EXPECT_EQ(resizeRow({3, 7, 250}, 3, m), (std::vector<float>{3, 7, 250}));
}

TEST(PreprocessResize, MethodNamesRoundTrip) {
    for (const auto& m : resizeMethods()) {
        EXPECT_EQ(parseResizeMethod(m.name), m.method);
        EXPECT_EQ(resizeMethodInfo(m.method).name, m.name);
    }
    EXPECT_FALSE(parseResizeMethod("opencv-bogus"));
    EXPECT_FALSE(resize(row({1, 2}), 0, 1, ResizeMethod::OpencvArea));
}

// tf-* against the engine's TFLite float kernels (reference profile) on a random image.
// Nearest picks the same pixels: exact. Bilinear: TensorFlow's compute_lerp (two horizontal
// lerps, then a vertical one) and TFLite's reference (four weighted corners) round
// differently; both are within a few float32 ulps of 255 of the exact value, so 1e-4.
TEST(PreprocessResize, TfMethodsMatchEngineResizeKernels) {
    std::mt19937 rng(7);
    Image img(23, 17, 3);
    for (auto& p : img.pixels) p = static_cast<uint8_t>(rng() & 255);
    const TensorValue in =
        test::tensor<float>(DType::Float32, {1, img.height, img.width, 3},
                            std::vector<float>(img.pixels.begin(), img.pixels.end()));
    struct Case {
        ResizeMethod method;
        BuiltinOp op;
        bool align, half;
    };
    const Case cases[] = {
        {ResizeMethod::TfBilinear, BuiltinOp::RESIZE_BILINEAR, false, false},
        {ResizeMethod::TfBilinearHalfPixel, BuiltinOp::RESIZE_BILINEAR, false, true},
        {ResizeMethod::TfBilinearAlignCorners, BuiltinOp::RESIZE_BILINEAR, true, false},
        {ResizeMethod::TfNearest, BuiltinOp::RESIZE_NEAREST_NEIGHBOR, false, false},
        {ResizeMethod::TfNearestHalfPixel, BuiltinOp::RESIZE_NEAREST_NEIGHBOR, false, true},
        {ResizeMethod::TfNearestAlignCorners, BuiltinOp::RESIZE_NEAREST_NEIGHBOR, true, false},
    };
    const std::pair<int32_t, int32_t> sizes[] = {{46, 34}, {11, 8}, {31, 29}, {5, 40}, {23, 17}};
    for (const auto& c : cases) {
        for (auto [w, h] : sizes) {
            SCOPED_TRACE(std::string(resizeMethodInfo(c.method).name) + " " + std::to_string(w) +
                         "x" + std::to_string(h));
            auto ours = resize(img, w, h, c.method);
            ASSERT_TRUE(ours.has_value());
            const TensorValue k = test::OpRunner(c.op, model::ResizeOptions{c.align, c.half})
                                      .input(in)
                                      .input(test::tensor<int32_t>(DType::Int32, {2}, {h, w}), true)
                                      .output(DType::Float32)
                                      .run1();
            const auto kv = test::values<float>(k);
            ASSERT_EQ(kv.size(), ours->values.size());
            const float tol = c.op == BuiltinOp::RESIZE_BILINEAR ? 1e-4f : 0.0f;
            for (size_t i = 0; i < kv.size(); ++i)
                ASSERT_NEAR(ours->values[i], kv[i], tol) << "element " << i;
        }
    }
}

TEST(PreprocessNormalization, PresetsOnHandValues) {
    model::Tensor t;
    t.name = "in";
    t.shape = {1, 1, 2, 3};
    Image img(2, 1, 3);
    img.pixels = {0, 128, 255, 255, 0, 51};
    auto run = [&](const std::string& spec) {
        auto p = parsePipeline(spec + ",size=2x1,method=opencv-nearest");
        EXPECT_TRUE(p.has_value()) << spec;
        auto r = preprocessFor(img, *p, t);
        EXPECT_TRUE(r.has_value()) << spec << ": " << (r ? "" : r.error().message);
        return test::values<float>(r->normalized);
    };
    EXPECT_EQ(run("norm=raw"), (std::vector<float>{0, 128, 255, 255, 0, 51}));
    EXPECT_EQ(run("norm=0to1"), (std::vector<float>{0, 128.0f / 255, 1, 1, 0, 0.2f}));
    EXPECT_EQ(run("norm=-1to1"),
              (std::vector<float>{-1, 0.5f / 127.5f, 1, 1, -1, -76.5f / 127.5f}));
    const auto imagenet = run("norm=imagenet");
    EXPECT_FLOAT_EQ(imagenet[0], -0.485f / 0.229f);
    EXPECT_FLOAT_EQ(imagenet[2], (1.0f - 0.406f) / 0.225f);
    EXPECT_EQ(run("mean=10:20:30,std=2"), (std::vector<float>{-5, 54, 112.5f, 122.5f, -10, 10.5f}));
    EXPECT_EQ(run("mean=0.5,std=0.5,div=255")[2], 1.0f);
    // BGR swaps the first and last channel before normalization.
    EXPECT_EQ(run("norm=raw,order=bgr"), (std::vector<float>{255, 128, 0, 51, 0, 255}));
}

TEST(PreprocessQuantization, TfliteRoundingAndClamp) {
    EXPECT_EQ(quantizeValue(2.5f, 1.0f, 0, -128, 127), 3);  // half away from zero
    EXPECT_EQ(quantizeValue(-2.5f, 1.0f, 0, -128, 127), -3);
    EXPECT_EQ(quantizeValue(0.49f, 0.5f, 10, -128, 127), 11);  // 0.98 -> 1, + zp
    EXPECT_EQ(quantizeValue(300.0f, 1.0f, 0, -128, 127), 127);
    EXPECT_EQ(quantizeValue(-1e30f, 1.0f, 5, 0, 255), 0);
    EXPECT_EQ(quantizeValue(1e30f, 1e-30f, 5, 0, 255), 255);
}

TEST(PreprocessQuantization, InputErrorReported) {
    // uint8 input, scale 1/128, zero point 128 ([-1, 1) range) fed [-1, 1] values: pixel 255
    // -> 1.0 -> 128 + 128 = 256, clamped to 255 -> dequantized 127/128: error 1/128.
    // Pixel 0 -> -1.0 -> 0 exactly. Pixel 64 -> -0.498039 -> q = round(-63.75) + 128 = 64 ->
    // -0.5: error 0.00196.
    model::Tensor t;
    t.name = "in";
    t.dtype = DType::UInt8;
    t.shape = {1, 1, 3, 1};
    t.quantization.scales = {1.0f / 128};
    t.quantization.zero_points = {128};
    Image img(3, 1, 1);
    img.pixels = {255, 0, 64};
    auto p = parsePipeline("method=opencv-nearest,size=3x1,norm=-1to1");
    ASSERT_TRUE(p.has_value());
    auto r = preprocessFor(img, *p, t);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(test::ints<uint8_t>(r->input), (std::vector<int32_t>{255, 0, 64}));
    ASSERT_TRUE(r->quant_error.has_value());
    EXPECT_EQ(r->quant_error->clamped, 1);
    EXPECT_NEAR(r->quant_error->max_abs, 1.0 / 128, 1e-7);
    EXPECT_NEAR(r->quant_error->mean_abs, (1.0 / 128 + (0.5 - 63.5 / 127.5)) / 3, 1e-7);
    ASSERT_EQ(r->stats.size(), 1u);
    EXPECT_FLOAT_EQ(static_cast<float>(r->stats[0].max), 1.0f);
    EXPECT_FLOAT_EQ(static_cast<float>(r->stats[0].min), -1.0f);
}

TEST(PreprocessPipeline, ParseFormatAndErrors) {
    auto p = parsePipeline(
        "method=pil-bicubic,size=224x160,crop=pad,pad=114,order=bgr,mean=1:2:3,std=4:5:6");
    ASSERT_TRUE(p.has_value()) << p.error().message;
    EXPECT_EQ(p->method, ResizeMethod::PilBicubic);
    EXPECT_EQ(p->width, 224);
    EXPECT_EQ(p->height, 160);
    EXPECT_EQ(p->crop, CropMode::Pad);
    EXPECT_EQ(p->pad_value, 114);
    EXPECT_EQ(p->norm.preset, NormPreset::Custom);
    auto again = parsePipeline(formatPipeline(*p));
    ASSERT_TRUE(again.has_value()) << formatPipeline(*p);
    EXPECT_EQ(*again, *p);
    EXPECT_EQ(parsePipeline("")->norm.preset, NormPreset::Auto);
    for (const char* bad : {"method=foo", "size=12", "size=0x5", "crop=zoom", "order=rbg",
                            "norm=unit", "norm=raw,mean=1", "std=0", "color=red", "size"}) {
        auto e = parsePipeline(bad);
        EXPECT_FALSE(e.has_value()) << bad;
        if (!e) {
            EXPECT_EQ(e.error().message.find('\n'), std::string::npos);
        }
    }
}

TEST(PreprocessPipeline, CropModes) {
    model::Tensor t;
    t.name = "in";
    t.shape = {1, 2, 2, 1};
    Image img(4, 2, 1);
    img.pixels = {1, 2, 3, 4, 5, 6, 7, 8};
    auto run = [&](const char* spec) {
        auto r = preprocessFor(img, *parsePipeline(spec), t);
        EXPECT_TRUE(r.has_value());
        return r->cropped;
    };
    const Image center = run("method=opencv-nearest,size=2x2,norm=raw,crop=center");
    EXPECT_EQ(center.width, 2);
    EXPECT_EQ(center.pixels, (std::vector<uint8_t>{2, 3, 6, 7}));
    const Image pad = run("method=opencv-nearest,size=2x2,norm=raw,crop=pad,pad=9");
    EXPECT_EQ(pad.height, 4);
    EXPECT_EQ(pad.pixels, (std::vector<uint8_t>{9, 9, 9, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9}));
    EXPECT_EQ(run("method=opencv-nearest,size=2x2,norm=raw").width, 4);
}

TEST(PreprocessImage, ExifOrientations) {
    // 3 x 2 image, values = 10 * row + column.
    Image img(3, 2, 1);
    img.pixels = {0, 1, 2, 10, 11, 12};
    const std::vector<std::vector<uint8_t>> expected = {
        {0, 1, 2, 10, 11, 12},  // 1
        {2, 1, 0, 12, 11, 10},  // 2 mirror
        {12, 11, 10, 2, 1, 0},  // 3 rotate 180
        {10, 11, 12, 0, 1, 2},  // 4 flip vertical
        {0, 10, 1, 11, 2, 12},  // 5 transpose
        {10, 0, 11, 1, 12, 2},  // 6 rotate 90 clockwise
        {12, 2, 11, 1, 10, 0},  // 7 transverse
        {2, 12, 1, 11, 0, 10},  // 8 rotate 90 counter-clockwise
    };
    for (int o = 1; o <= 8; ++o) {
        const Image r = applyOrientation(img, o);
        EXPECT_EQ(r.pixels, expected[static_cast<size_t>(o - 1)]) << "orientation " << o;
        EXPECT_EQ(r.width, o >= 5 ? 2 : 3);
    }
    // A big-endian TIFF block with Orientation = 6.
    const std::vector<uint8_t> tiff = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0,
                                       3,   0,   0, 0,  1, 0, 6, 0, 0, 0, 0,    0,    0};
    EXPECT_EQ(exifOrientation(tiff), 6);
    EXPECT_EQ(exifOrientation(std::span(tiff).first(9)), 1);
}

TEST(PreprocessImage, PngRoundTripAndErrors) {
    for (int c : {1, 3, 4}) {
        Image img(5, 3, c);
        for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<uint8_t>(i * 7);
        auto png = encodePng(img);
        ASSERT_TRUE(png.has_value());
        auto back = decodeImage(*png, "mem.png");
        ASSERT_TRUE(back.has_value()) << back.error().message;
        EXPECT_EQ(*back, img) << c << " channels";
    }
    auto missing = readImage("/nonexistent/cat.jpg");
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().message.rfind("/nonexistent/cat.jpg: ", 0), 0u);
    const std::vector<uint8_t> junk = {0xFF, 0xD8, 0xFF, 0xE0, 0, 2};
    auto bad = decodeImage(junk, "junk.jpg");
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().message.rfind("junk.jpg: cannot decode JPEG", 0), 0u);
    EXPECT_FALSE(decodeImage(std::vector<uint8_t>{'G', 'I', 'F', '8'}, "a.gif").has_value());
}

// The conformance inputs were made with cv2.imread + cv2.resize(INTER_AREA) and a per-model
// formula (../shared/conformance/README.md "Inputs"); the pipeline must give them exactly.
struct ConformanceInput {
    const char* model;
    const char* image;
    const char* spec;
};

class PreprocessConformance : public ::testing::TestWithParam<ConformanceInput> {};

TEST_P(PreprocessConformance, ReproducesInputExactly) {
    const auto& c = GetParam();
    const std::string dir = std::string(QS_CONFORMANCE_DIR) + "/" + c.model;
    auto m = model::loadModel(dir + "/model.tflite");
    ASSERT_TRUE(m.has_value()) << m.error().message;
    auto expected = readNpy(dir + "/inputs/input_0.npy");
    ASSERT_TRUE(expected.has_value()) << expected.error().message;
    auto img = readImage(std::string(QS_SAMPLES_DIR) + "/images/" + c.image);
    ASSERT_TRUE(img.has_value()) << img.error().message;
    auto p = parsePipeline(c.spec);
    ASSERT_TRUE(p.has_value());
    auto r = preprocess(*img, *p, *m, 0);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_TRUE(r->input.sameContents(*expected)) << describePipeline(r->resolved);
    if (r->quant_error) {
        EXPECT_EQ(r->quant_error->max_abs, 0.0);
        EXPECT_EQ(r->quant_error->clamped, 0);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Models, PreprocessConformance,
    ::testing::Values(
        // int8 = pixel - 128: input scale 1.0, zero point -128 quantizes raw pixels exactly.
        ConformanceInput{"resnet8_cifar_int8", "coral_cat.bmp", "method=opencv-area,norm=raw"},
        ConformanceInput{"resnet8_cifar_float", "coral_cat.bmp", "method=opencv-area,norm=raw"},
        ConformanceInput{"mobilenet_v1_0.25_224_float", "coral_grace_hopper.bmp",
                         "method=opencv-area,norm=-1to1"},
        ConformanceInput{"mobilenet_v1_0.25_224_quant", "coral_grace_hopper.bmp",
                         "method=opencv-area,norm=input-quant"},
        // Its TFLite Metadata says mean 127.5 / std 127.5, which with the input's scale 1/128
        // is not the identity (24 pixels clamp): the raw-pixel input needs input-quant.
        ConformanceInput{"mobilenet_v1_0.25_128_quant", "coral_sunflower.bmp",
                         "method=opencv-area,norm=input-quant"},
        ConformanceInput{"mobilenet_v2_035_96_embedder_dynamic_range", "tflsupport_burger.jpg",
                         "method=opencv-area,norm=0to1"}),
    [](const auto& info) {
        std::string n = info.param.model;
        for (char& ch : n)
            if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
        return n;
    });

}  // namespace
}  // namespace qs::engine::preprocess
