// RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR: the TFLite coordinate rules (align_corners,
// half_pixel_centers) on hand-computed values, the 10-bit integer path with its profile-
// dependent tie rounding, and builtin's 16.16 nearest-neighbour scale.
#include <gtest/gtest.h>

#include "op_runner.h"

using namespace qs;
using namespace qs::engine;
using namespace qs::engine::test;
using model::BuiltinOp;
using model::DType;

namespace {

TensorValue sizeTensor(int32_t h, int32_t w) {
    return tensor<int32_t>(DType::Int32, {2}, {h, w});
}

template <class T>
TensorValue resize(BuiltinOp op, DType t, std::vector<int32_t> shape, std::vector<T> v, int32_t oh,
                   int32_t ow, bool align, bool half,
                   RoundingProfile p = RoundingProfile::Reference, model::Quantization q = {}) {
    return OpRunner(op, model::ResizeOptions{align, half}, p)
        .input(tensor<T>(t, std::move(shape), v, q))
        .input(sizeTensor(oh, ow), true)
        .output(t, q)
        .run1();
}

std::vector<float> bilinearRow(std::vector<float> in, int32_t ow, bool align, bool half,
                               RoundingProfile p = RoundingProfile::Reference) {
    const auto w = static_cast<int32_t>(in.size());
    return values<float>(resize<float>(BuiltinOp::RESIZE_BILINEAR, DType::Float32, {1, 1, w, 1}, in,
                                       1, ow, align, half, p));
}

// [0, 10] widened to 4 columns. Default: x * 2/4 -> 0, 0.5, 1, 1.5 (clamped) ->
// [0, 5, 10, 10]. align_corners: x * 1/3 -> [0, 10/3, 20/3, 10]. half_pixel_centers:
// (x + 0.5) / 2 - 0.5 -> -0.25 (clamped to 0), 0.25, 0.75, 1.25 -> [0, 2.5, 7.5, 10].
TEST(ResizeBilinearKernel, FloatCoordinateModes) {
    for (auto p : {RoundingProfile::Reference, RoundingProfile::Builtin}) {
        const auto d = bilinearRow({0, 10}, 4, false, false, p);
        EXPECT_EQ(d, (std::vector<float>{0, 5, 10, 10})) << profileName(p);
        const auto a = bilinearRow({0, 10}, 4, true, false, p);
        ASSERT_EQ(a.size(), 4u);
        EXPECT_FLOAT_EQ(a[1], 10.0f / 3);
        EXPECT_FLOAT_EQ(a[2], 20.0f / 3);
        EXPECT_FLOAT_EQ(a[3], 10.0f);
        const auto h = bilinearRow({0, 10}, 4, false, true, p);
        EXPECT_EQ(h, (std::vector<float>{0, 2.5f, 7.5f, 10})) << profileName(p);
    }
}

// Builtin's exact 2x path averages neighbours; on a 2x2 image it equals the reference
// weights: row 1 is the mean of rows 0 and 1 of the input, the last row/column repeats.
TEST(ResizeBilinearKernel, Float2xUpsampleBuiltinMatchesReference) {
    const std::vector<float> img = {0, 1, 2, 3};
    const std::vector<float> want = {0, 0.5f, 1, 1, 1, 1.5f, 2, 2, 2, 2.5f, 3, 3, 2, 2.5f, 3, 3};
    for (auto p : {RoundingProfile::Reference, RoundingProfile::Builtin}) {
        auto out = resize<float>(BuiltinOp::RESIZE_BILINEAR, DType::Float32, {1, 2, 2, 1}, img, 4,
                                 4, false, false, p);
        EXPECT_EQ(out.shape(), (std::vector<int32_t>{1, 4, 4, 1}));
        EXPECT_EQ(values<float>(out), want) << profileName(p);
    }
}

// int8 [-2, 0] widened to 4 with half-pixel centers: the 10-bit weights give exact values
// -2, -1.5, -0.5, 0. Reference (and builtin) round the sum / 2^20 half away from zero
// (-1.5 -> -2, -0.5 -> -1); TFLITE_SINGLE_ROUNDING adds 2^19 and shifts (-> -1, 0).
TEST(ResizeBilinearKernel, Int8TenBitTiesPerProfile) {
    auto run = [](RoundingProfile p) {
        return ints<int8_t>(resize<int8_t>(BuiltinOp::RESIZE_BILINEAR, DType::Int8, {1, 1, 2, 1},
                                           {-2, 0}, 1, 4, false, true, p, quant(0.1f, 3)));
    };
    EXPECT_EQ(run(RoundingProfile::Reference), (std::vector<int32_t>{-2, -2, -1, 0}));
    EXPECT_EQ(run(RoundingProfile::Builtin), (std::vector<int32_t>{-2, -2, -1, 0}));
    EXPECT_EQ(run(RoundingProfile::SingleRounding), (std::vector<int32_t>{-2, -1, 0, 0}));
}

// int16 uses the same integer kernel: [0, 1000] -> 0, 250, 750, 1000 (half-pixel).
TEST(ResizeBilinearKernel, Int16Integer) {
    auto out = resize<int16_t>(BuiltinOp::RESIZE_BILINEAR, DType::Int16, {1, 1, 2, 1}, {0, 1000}, 1,
                               4, false, true, RoundingProfile::Reference, quant(0.01f, 0));
    EXPECT_EQ(ints<int16_t>(out), (std::vector<int32_t>{0, 250, 750, 1000}));
}

// uint8 goes through float and adds 0.5 before truncating: [0, 10] half-pixel ->
// 0, 2.5 + 0.5, 7.5 + 0.5, 10 -> [0, 3, 8, 10] in both the reference and builtin paths.
TEST(ResizeBilinearKernel, Uint8FloatPathRoundsHalfUp) {
    for (auto p : {RoundingProfile::Reference, RoundingProfile::Builtin}) {
        auto out = resize<uint8_t>(BuiltinOp::RESIZE_BILINEAR, DType::UInt8, {1, 1, 2, 1}, {0, 10},
                                   1, 4, false, true, p, quant(0.5f, 128));
        EXPECT_EQ(ints<uint8_t>(out), (std::vector<int32_t>{0, 3, 8, 10})) << profileName(p);
    }
}

TEST(ResizeBilinearKernel, RejectsAlignCornersWithHalfPixel) {
    auto r = OpRunner(BuiltinOp::RESIZE_BILINEAR, model::ResizeOptions{true, true})
                 .input(tensor<float>(DType::Float32, {1, 1, 2, 1}, {0, 1}))
                 .input(sizeTensor(1, 4), true)
                 .output(DType::Float32)
                 .run();
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("half_pixel_centers"), std::string::npos);
}

// Width 3 [a, b, c] -> 4. Default floor(x * 0.75): [a, a, b, c]; align_corners
// round(x * 2/3): [a, b, b, c]; half_pixel floor((x + 0.5) * 0.75): [a, b, b, c].
TEST(ResizeNearestKernel, CoordinateModes) {
    auto run = [](bool align, bool half) {
        return values<float>(resize<float>(BuiltinOp::RESIZE_NEAREST_NEIGHBOR, DType::Float32,
                                           {1, 1, 3, 1}, {1, 2, 3}, 1, 4, align, half));
    };
    EXPECT_EQ(run(false, false), (std::vector<float>{1, 1, 2, 3}));
    EXPECT_EQ(run(true, false), (std::vector<float>{1, 2, 2, 3}));
    EXPECT_EQ(run(false, true), (std::vector<float>{1, 2, 2, 3}));
}

// Width 2 -> 82: the float scale 2/82 rounds down, so x = 41 gives floor(0.99999994) = 0 in
// the reference kernel, while builtin's 8-bit 16.16 scale (2 << 16) / 82 + 1 gives 1.
TEST(ResizeNearestKernel, Builtin8BitFixedPointScaleDiffers) {
    auto run = [](RoundingProfile p) {
        return ints<uint8_t>(resize<uint8_t>(BuiltinOp::RESIZE_NEAREST_NEIGHBOR, DType::UInt8,
                                             {1, 1, 2, 1}, {10, 20}, 1, 82, false, false, p,
                                             quant(1.0f, 0)));
    };
    const auto ref = run(RoundingProfile::Reference);
    const auto opt = run(RoundingProfile::Builtin);
    ASSERT_EQ(ref.size(), 82u);
    EXPECT_EQ(ref[40], 10);
    EXPECT_EQ(ref[41], 10);
    EXPECT_EQ(opt[41], 20);
    EXPECT_EQ(ref[42], 20);
    // Multi-channel pixels are copied whole.
    auto rgb =
        resize<int8_t>(BuiltinOp::RESIZE_NEAREST_NEIGHBOR, DType::Int8, {1, 1, 2, 2}, {1, 2, 3, 4},
                       2, 2, false, false, RoundingProfile::Reference, quant(1.0f, 0));
    EXPECT_EQ(ints<int8_t>(rgb), (std::vector<int32_t>{1, 2, 3, 4, 1, 2, 3, 4}));
}

}  // namespace
