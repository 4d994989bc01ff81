// SHAPE, PACK, UNPACK, CONCATENATION, SPLIT(_V), SLICE, STRIDED_SLICE, EXPAND_DIMS, FILL,
// GATHER(_ND), MIRROR_PAD, SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND, SPACE_TO_DEPTH,
// DEPTH_TO_SPACE on hand-made tensors, plus dilated_conv end to end (its shape arithmetic
// is folded at prepare; no oracle kept golden tensors for it, so the expected output is
// derived from the model's own weights).
#include <gtest/gtest.h>

#include <filesystem>
#include <numeric>

#include "engine/executor.h"
#include "engine/io/npy.h"
#include "model/loader.h"
#include "op_runner.h"

using namespace qs;
using namespace qs::engine;
using namespace qs::engine::test;
using model::BuiltinOp;
using model::DType;

namespace {

TensorValue i32(std::vector<int32_t> shape, std::vector<int32_t> v) {
    return tensor<int32_t>(DType::Int32, std::move(shape), v);
}
std::vector<float> iota(int n) {
    std::vector<float> v(static_cast<size_t>(n));
    std::iota(v.begin(), v.end(), 0.0f);
    return v;
}
TensorValue f32(std::vector<int32_t> shape, std::vector<float> v) {
    return tensor<float>(DType::Float32, std::move(shape), v);
}

TEST(ShapeKernel, PublishesItsValueAtPrepare) {
    OpRunner r(BuiltinOp::SHAPE, model::ShapeOptions{DType::Int32});
    r.input(f32({2, 3, 4}, iota(24))).output(DType::Int32);
    auto out = r.run1();
    EXPECT_EQ(values<int32_t>(out), (std::vector<int32_t>{2, 3, 4}));
    ASSERT_NE(r.outputInfos()[0].constant, nullptr);
    EXPECT_TRUE(r.outputInfos()[0].constant->sameContents(out));
}

TEST(PackKernel, AxisZeroAndOne) {
    auto a = OpRunner(BuiltinOp::PACK, model::PackOptions{2, 1})
                 .input(f32({2}, {1, 2}))
                 .input(f32({2}, {3, 4}))
                 .output(DType::Float32)
                 .run1();
    EXPECT_EQ(a.shape(), (std::vector<int32_t>{2, 2}));
    EXPECT_EQ(values<float>(a), (std::vector<float>{1, 3, 2, 4}));
    auto b = OpRunner(BuiltinOp::PACK, model::PackOptions{2, 0})
                 .input(i32({}, {7}))
                 .input(i32({}, {9}))
                 .output(DType::Int32)
                 .run1();
    EXPECT_EQ(b.shape(), (std::vector<int32_t>{2}));
    EXPECT_EQ(values<int32_t>(b), (std::vector<int32_t>{7, 9}));
}

TEST(UnpackKernel, AxisOne) {
    auto r = OpRunner(BuiltinOp::UNPACK, model::UnpackOptions{2, 1})
                 .input(f32({2, 2}, {1, 2, 3, 4}))
                 .output(DType::Float32)
                 .output(DType::Float32)
                 .run();
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(values<float>((*r)[0]), (std::vector<float>{1, 3}));
    EXPECT_EQ(values<float>((*r)[1]), (std::vector<float>{2, 4}));
}

model::StridedSliceOptions ss(int begin_mask, int end_mask, int shrink) {
    model::StridedSliceOptions o;
    o.begin_mask = begin_mask;
    o.end_mask = end_mask;
    o.shrink_axis_mask = shrink;
    return o;
}

TEST(StridedSliceKernel, NegativeStrideAndNegativeIndices) {
    // rows 1..2; columns from -1 (= 3) down to 0 exclusive: 3, 2, 1.
    auto out = OpRunner(BuiltinOp::STRIDED_SLICE, ss(0, 0, 0))
                   .input(f32({3, 4}, iota(12)))
                   .input(i32({2}, {1, -1}), true)
                   .input(i32({2}, {3, 0}), true)
                   .input(i32({2}, {1, -1}), true)
                   .output(DType::Float32)
                   .run1();
    EXPECT_EQ(out.shape(), (std::vector<int32_t>{2, 3}));
    EXPECT_EQ(values<float>(out), (std::vector<float>{7, 6, 5, 11, 10, 9}));
}

TEST(StridedSliceKernel, MasksAndShrink) {
    // begin/end masks on dim 1 take the whole row with stride 2; dim 0 shrinks at row 1.
    auto a = OpRunner(BuiltinOp::STRIDED_SLICE, ss(2, 2, 1))
                 .input(f32({3, 4}, iota(12)))
                 .input(i32({2}, {1, 3}), true)
                 .input(i32({2}, {2, 0}), true)
                 .input(i32({2}, {1, 2}), true)
                 .output(DType::Float32)
                 .run1();
    EXPECT_EQ(a.shape(), (std::vector<int32_t>{2}));
    EXPECT_EQ(values<float>(a), (std::vector<float>{4, 6}));
    // dilated_conv's pattern: a scalar out of a SHAPE vector.
    auto b = OpRunner(BuiltinOp::STRIDED_SLICE, ss(0, 0, 1))
                 .input(i32({4}, {1, 1, 1, 3}))
                 .input(i32({1}, {3}), true)
                 .input(i32({1}, {4}), true)
                 .input(i32({1}, {1}), true)
                 .output(DType::Int32)
                 .run1();
    EXPECT_TRUE(b.shape().empty());
    EXPECT_EQ(values<int32_t>(b), (std::vector<int32_t>{3}));
    // Out-of-range begin/end clamp to the dimension.
    auto c = OpRunner(BuiltinOp::STRIDED_SLICE, ss(0, 0, 0))
                 .input(f32({4}, iota(4)))
                 .input(i32({1}, {-10}), true)
                 .input(i32({1}, {10}), true)
                 .input(i32({1}, {3}), true)
                 .output(DType::Float32)
                 .run1();
    EXPECT_EQ(values<float>(c), (std::vector<float>{0, 3}));
}

model::StridedSliceOptions ssx(int ellipsis, int new_axis, int shrink, int begin_mask = 0,
                               int end_mask = 0) {
    model::StridedSliceOptions o = ss(begin_mask, end_mask, shrink);
    o.ellipsis_mask = ellipsis;
    o.new_axis_mask = new_axis;
    return o;
}

TensorValue sliceOf(model::StridedSliceOptions o, std::vector<int32_t> shape,
                    std::vector<int32_t> begin, std::vector<int32_t> end,
                    std::vector<int32_t> strides) {
    const auto k = static_cast<int32_t>(begin.size());
    int32_t n = 1;
    for (int32_t d : shape) n *= d;
    return OpRunner(BuiltinOp::STRIDED_SLICE, o)
        .input(f32(std::move(shape), iota(n)))
        .input(i32({k}, begin), true)
        .input(i32({k}, end), true)
        .input(i32({k}, strides), true)
        .output(DType::Float32)
        .run1();
}

// BuildStridedSliceParams (strided_slice.cc): x[..., 1] on [2, 3, 4]. The ellipsis at spec 0
// covers rank 3 - 2 spec entries + 1 = 2 dimensions; spec 1 (begin 1, shrink) maps to dim 2.
TEST(StridedSliceKernel, EllipsisExpandsOverUnmentionedDims) {
    auto a = sliceOf(ssx(1, 0, 2), {2, 3, 4}, {0, 1}, {0, 2}, {1, 1});
    EXPECT_EQ(a.shape(), (std::vector<int32_t>{2, 3}));
    EXPECT_EQ(values<float>(a), (std::vector<float>{1, 5, 9, 13, 17, 21}));
    // x[0, ..., 1:4:2]: ellipsis in the middle covers dim 1 only.
    auto b = sliceOf(ssx(2, 0, 1), {2, 3, 4}, {0, 0, 1}, {1, 0, 4}, {1, 1, 2});
    EXPECT_EQ(b.shape(), (std::vector<int32_t>{3, 2}));
    EXPECT_EQ(values<float>(b), (std::vector<float>{1, 3, 5, 7, 9, 11}));
    // A new axis at the ellipsis position has no effect: x[...] is x.
    auto c = sliceOf(ssx(1, 1, 0), {2, 3}, {0}, {0}, {1});
    EXPECT_EQ(c.shape(), (std::vector<int32_t>{2, 3}));
}

// x[0:1, newaxis] on [2, 3, 4]: the new axis is a [0, 1) slice of an inserted size-1 dim,
// the unmentioned dims 1 and 2 are full: [1, 1, 3, 4]. x[..., newaxis] on [2, 3]: [2, 3, 1].
TEST(StridedSliceKernel, NewAxisInsertsSizeOneDims) {
    auto a = sliceOf(ssx(0, 2, 0), {2, 3, 4}, {0, 0}, {1, 0}, {1, 1});
    EXPECT_EQ(a.shape(), (std::vector<int32_t>{1, 1, 3, 4}));
    EXPECT_EQ(values<float>(a), iota(12));
    auto b = sliceOf(ssx(1, 2, 0), {2, 3}, {0, 0}, {0, 0}, {1, 1});
    EXPECT_EQ(b.shape(), (std::vector<int32_t>{2, 3, 1}));
    EXPECT_EQ(values<float>(b), iota(6));
    // x[newaxis, 1, ::-1] on [2, 3]: shrink applies to spec 1 (dim 0 of the input).
    auto c = sliceOf(ssx(0, 1, 2, 0, 4), {2, 3}, {0, 1, -1}, {1, 2, 0}, {1, 1, -1});
    EXPECT_EQ(c.shape(), (std::vector<int32_t>{1, 3}));
    EXPECT_EQ(values<float>(c), (std::vector<float>{5, 4, 3}));
}

TEST(StridedSliceKernel, RuntimeBeginIsAnErrorNamingTheOp) {
    auto r = OpRunner(BuiltinOp::STRIDED_SLICE, ss(0, 0, 0))
                 .input(f32({4}, iota(4)))
                 .input(i32({1}, {0}))
                 .input(i32({1}, {2}), true)
                 .input(i32({1}, {1}), true)
                 .output(DType::Float32)
                 .run();
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("STRIDED_SLICE"), std::string::npos) << r.error().message;
}

TEST(SliceKernel, SizeMinusOneToTheEnd) {
    auto out = OpRunner(BuiltinOp::SLICE)
                   .input(f32({3, 4}, iota(12)))
                   .input(i32({2}, {1, 1}), true)
                   .input(i32({2}, {-1, 2}), true)
                   .output(DType::Float32)
                   .run1();
    EXPECT_EQ(values<float>(out), (std::vector<float>{5, 6, 9, 10}));
}

TEST(ConcatenationKernel, AxisOneAndUint8Rescale) {
    auto a = OpRunner(BuiltinOp::CONCATENATION, model::ConcatenationOptions{1})
                 .input(f32({2, 1}, {1, 2}))
                 .input(f32({2, 2}, {3, 4, 5, 6}))
                 .output(DType::Float32)
                 .run1();
    EXPECT_EQ(values<float>(a), (std::vector<float>{1, 3, 4, 2, 5, 6}));
    // uint8 input at scale 2 (zp 0) into an output at scale 1, zp 10: round(q * 2) + 10.
    auto b = OpRunner(BuiltinOp::CONCATENATION, model::ConcatenationOptions{0})
                 .input(tensor<uint8_t>(DType::UInt8, {2}, {3, 200}, quant(2.0f, 0)))
                 .input(tensor<uint8_t>(DType::UInt8, {1}, {42}, quant(1.0f, 10)))
                 .output(DType::UInt8, quant(1.0f, 10))
                 .run1();
    EXPECT_EQ(ints<uint8_t>(b), (std::vector<int32_t>{16, 255, 42}));
}

TEST(SplitKernels, SplitAndSplitV) {
    auto a = OpRunner(BuiltinOp::SPLIT, model::SplitOptions{2})
                 .input(i32({1}, {0}), true)
                 .input(f32({4}, iota(4)))
                 .output(DType::Float32)
                 .output(DType::Float32)
                 .run();
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(values<float>((*a)[1]), (std::vector<float>{2, 3}));
    auto b = OpRunner(BuiltinOp::SPLIT_V, model::SplitOptions{2})
                 .input(f32({2, 3}, iota(6)))
                 .input(i32({2}, {1, -1}), true)
                 .input(i32({1}, {-1}), true)
                 .output(DType::Float32)
                 .output(DType::Float32)
                 .run();
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_EQ(values<float>((*b)[0]), (std::vector<float>{0, 3}));
    EXPECT_EQ(values<float>((*b)[1]), (std::vector<float>{1, 2, 4, 5}));
}

TEST(ExpandDimsAndFill, Shapes) {
    auto a = OpRunner(BuiltinOp::EXPAND_DIMS)
                 .input(f32({2}, {1, 2}))
                 .input(i32({1}, {-1}), true)
                 .output(DType::Float32)
                 .run1();
    EXPECT_EQ(a.shape(), (std::vector<int32_t>{2, 1}));
    auto b = OpRunner(BuiltinOp::FILL)
                 .input(i32({2}, {2, 2}), true)
                 .input(f32({}, {7}))
                 .output(DType::Float32)
                 .run1();
    EXPECT_EQ(values<float>(b), (std::vector<float>{7, 7, 7, 7}));
}

TEST(GatherKernel, AxisAndBatchDims) {
    auto a = OpRunner(BuiltinOp::GATHER, model::GatherOptions{1, 0})
                 .input(f32({2, 3}, iota(6)))
                 .input(i32({2}, {2, 0}))
                 .output(DType::Float32)
                 .run1();
    EXPECT_EQ(values<float>(a), (std::vector<float>{2, 0, 5, 3}));
    auto b = OpRunner(BuiltinOp::GATHER, model::GatherOptions{1, 1})
                 .input(f32({2, 3}, iota(6)))
                 .input(i32({2, 1}, {1, 2}))
                 .output(DType::Float32)
                 .run1();
    EXPECT_EQ(b.shape(), (std::vector<int32_t>{2, 1}));
    EXPECT_EQ(values<float>(b), (std::vector<float>{1, 5}));
}

TEST(GatherNdKernel, ElementsAndSlices) {
    auto a = OpRunner(BuiltinOp::GATHER_ND)
                 .input(f32({2, 2}, {1, 2, 3, 4}))
                 .input(i32({2, 2}, {0, 1, 1, 0}))
                 .output(DType::Float32)
                 .run1();
    EXPECT_EQ(values<float>(a), (std::vector<float>{2, 3}));
    auto b = OpRunner(BuiltinOp::GATHER_ND)
                 .input(f32({2, 2}, {1, 2, 3, 4}))
                 .input(i32({1, 1}, {1}))
                 .output(DType::Float32)
                 .run1();
    EXPECT_EQ(b.shape(), (std::vector<int32_t>{1, 2}));
    EXPECT_EQ(values<float>(b), (std::vector<float>{3, 4}));
}

TEST(MirrorPadKernel, ReflectAndSymmetric) {
    auto run = [](int8_t mode) {
        return values<float>(OpRunner(BuiltinOp::MIRROR_PAD, model::MirrorPadOptions{mode})
                                 .input(f32({3}, {1, 2, 3}))
                                 .input(i32({1, 2}, {2, 2}), true)
                                 .output(DType::Float32)
                                 .run1());
    };
    EXPECT_EQ(run(0), (std::vector<float>{3, 2, 1, 2, 3, 2, 1}));
    EXPECT_EQ(run(1), (std::vector<float>{2, 1, 1, 2, 3, 3, 2}));
}

TEST(SpaceBatchKernels, BlocksPaddingWithZeroPointAndRoundTrip) {
    auto a = OpRunner(BuiltinOp::SPACE_TO_BATCH_ND)
                 .input(f32({1, 2, 2, 1}, {1, 2, 3, 4}))
                 .input(i32({2}, {2, 2}), true)
                 .input(i32({2, 2}, {0, 0, 0, 0}), true)
                 .output(DType::Float32)
                 .run1();
    EXPECT_EQ(a.shape(), (std::vector<int32_t>{4, 1, 1, 1}));
    EXPECT_EQ(values<float>(a), (std::vector<float>{1, 2, 3, 4}));
    // int8, zero point 5: width 2 padded by 1 on each side to 4, split in two batches
    // (even and odd columns): [pad, 2] and [1, pad].
    auto b = OpRunner(BuiltinOp::SPACE_TO_BATCH_ND)
                 .input(tensor<int8_t>(DType::Int8, {1, 1, 2, 1}, {1, 2}, quant(0.5f, 5)))
                 .input(i32({2}, {1, 2}), true)
                 .input(i32({2, 2}, {0, 0, 1, 1}), true)
                 .output(DType::Int8, quant(0.5f, 5))
                 .run1();
    EXPECT_EQ(b.shape(), (std::vector<int32_t>{2, 1, 2, 1}));
    EXPECT_EQ(ints<int8_t>(b), (std::vector<int32_t>{5, 2, 1, 5}));
    // BATCH_TO_SPACE_ND with the same crops undoes it.
    auto c = OpRunner(BuiltinOp::BATCH_TO_SPACE_ND)
                 .input(b)
                 .input(i32({2}, {1, 2}), true)
                 .input(i32({2, 2}, {0, 0, 1, 1}), true)
                 .output(DType::Int8, quant(0.5f, 5))
                 .run1();
    EXPECT_EQ(c.shape(), (std::vector<int32_t>{1, 1, 2, 1}));
    EXPECT_EQ(ints<int8_t>(c), (std::vector<int32_t>{1, 2}));
    auto d = OpRunner(BuiltinOp::BATCH_TO_SPACE_ND)
                 .input(a)
                 .input(i32({2}, {2, 2}), true)
                 .input(i32({2, 2}, {0, 0, 0, 0}), true)
                 .output(DType::Float32)
                 .run1();
    EXPECT_EQ(values<float>(d), (std::vector<float>{1, 2, 3, 4}));
}

TEST(SpaceBatchKernels, RejectsIndivisiblePaddedSize) {
    auto r = OpRunner(BuiltinOp::SPACE_TO_BATCH_ND)
                 .input(f32({1, 3, 3, 1}, iota(9)))
                 .input(i32({2}, {2, 2}), true)
                 .input(i32({2, 2}, {0, 0, 0, 0}), true)
                 .output(DType::Float32)
                 .run();
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("SPACE_TO_BATCH_ND"), std::string::npos);
}

TEST(DepthSpaceKernels, SpaceToDepthAndBack) {
    // [1, 2, 4, 1] with block 2: output pixel (0, 0) takes rows 0-1, columns 0-1.
    auto a = OpRunner(BuiltinOp::SPACE_TO_DEPTH, model::BlockSizeOptions{2})
                 .input(f32({1, 2, 4, 1}, {1, 2, 3, 4, 5, 6, 7, 8}))
                 .output(DType::Float32)
                 .run1();
    EXPECT_EQ(a.shape(), (std::vector<int32_t>{1, 1, 2, 4}));
    EXPECT_EQ(values<float>(a), (std::vector<float>{1, 2, 5, 6, 3, 4, 7, 8}));
    auto b = OpRunner(BuiltinOp::DEPTH_TO_SPACE, model::BlockSizeOptions{2})
                 .input(a)
                 .output(DType::Float32)
                 .run1();
    EXPECT_EQ(values<float>(b), (std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8}));
}

// dilated_conv: SHAPE -> STRIDED_SLICE -> PACK -> ADD -> FLOOR_MOD -> SUB compute the
// SPACE_TO_BATCH_ND paddings (block 6x6) of a 3x3 convolution with dilation 6 on a 1x1
// image. Only the kernel's centre tap ever sees the pixel, so the output is
// bias + sum_c W[o, 1, 1, c] * x[c] + tensor 9 (the final ADD's constant).
TEST(DilatedConvModel, RunsEndToEndAndEqualsTheCentreTap) {
    const auto dir = std::filesystem::path(QS_CONFORMANCE_DIR) / "dilated_conv";
    auto m = model::loadModel(dir / "model.tflite");
    ASSERT_TRUE(m) << m.error().message;
    auto x = readNpy(dir / "inputs" / "input_0.npy");
    ASSERT_TRUE(x) << x.error().message;
    std::vector<TensorValue> inputs{*x};
    auto r = run(*m, SubgraphId{0}, inputs, RunOptions{});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(r->complete()) << (r->warnings.empty() ? "" : r->warnings.front());
    const auto& sg = m->main();
    auto filter = TensorValue::fromConstant(sg.tensor(TensorId(3)));
    auto bias = TensorValue::fromConstant(sg.tensor(TensorId(2)));
    auto add = TensorValue::fromConstant(sg.tensor(TensorId(9)));
    ASSERT_TRUE(filter && bias && add);
    ASSERT_EQ(filter->shape(), (std::vector<int32_t>{16, 3, 3, 3}));
    const auto& paddings = r->values[34];
    EXPECT_EQ(values<int32_t>(paddings), (std::vector<int32_t>{6, 11, 6, 11}));
    const auto& y = r->values[39];
    ASSERT_EQ(y.shape(), (std::vector<int32_t>{1, 1, 1, 16}));
    const auto xv = x->data<float>();
    const auto w = filter->data<float>();
    for (int o = 0; o < 16; ++o) {
        double want = bias->data<float>()[static_cast<size_t>(o)] +
                      add->data<float>()[static_cast<size_t>(o)];
        for (int c = 0; c < 3; ++c)
            want += double(w[static_cast<size_t>(((o * 3 + 1) * 3 + 1) * 3 + c)]) *
                    xv[static_cast<size_t>(c)];
        EXPECT_NEAR(y.data<float>()[static_cast<size_t>(o)], want, 1e-5) << "channel " << o;
    }
}

}  // namespace
