// SUM, REDUCE_MAX, REDUCE_MIN, REDUCE_PROD (reduce_generic.cpp): axes (negative, repeated,
// several), keep_dims, and the places where TFLM and TFLite builtin disagree: quantized SUM
// rounding and saturation, float NaN handling in MAX/MIN. Expected values are derived by
// hand in the comments.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "op_runner.h"

using namespace qs;
using namespace qs::engine;
using namespace qs::engine::test;
using model::BuiltinOp;
using model::DType;

namespace {

TensorValue axes(std::vector<int32_t> a) {
    const auto n = static_cast<int32_t>(a.size());
    return tensor<int32_t>(DType::Int32, {n}, a);
}

TensorValue reduce(BuiltinOp op, TensorValue input, std::vector<int32_t> axis, bool keep_dims,
                   RoundingProfile profile = RoundingProfile::Reference,
                   model::Quantization out_q = {}) {
    const DType t = input.dtype();
    return OpRunner(op, model::ReducerOptions{keep_dims}, profile)
        .input(std::move(input))
        .input(axes(std::move(axis)), true)
        .output(t, std::move(out_q))
        .run1();
}

TEST(ReduceKernels, FloatSumAxesAndKeepDims) {
    auto in = [] { return tensor<float>(DType::Float32, {2, 3}, {1, 2, 3, 4, 5, 6}); };
    auto a = reduce(BuiltinOp::SUM, in(), {1}, false);
    EXPECT_EQ(a.shape(), (std::vector<int32_t>{2}));
    EXPECT_EQ(values<float>(a), (std::vector<float>{6, 15}));
    // Negative and repeated axes resolve to the same set (reference_ops::ResolveAxis).
    auto b = reduce(BuiltinOp::SUM, in(), {1, -1}, false);
    EXPECT_EQ(values<float>(b), (std::vector<float>{6, 15}));
    auto c = reduce(BuiltinOp::SUM, in(), {-1, 0}, true);
    EXPECT_EQ(c.shape(), (std::vector<int32_t>{1, 1}));
    EXPECT_EQ(values<float>(c), (std::vector<float>{21}));
    auto d = reduce(BuiltinOp::SUM, in(), {0}, true);
    EXPECT_EQ(d.shape(), (std::vector<int32_t>{1, 3}));
    EXPECT_EQ(values<float>(d), (std::vector<float>{5, 7, 9}));
}

TEST(ReduceKernels, MaxMinOverTwoAxesInt32) {
    std::vector<int32_t> v = {0, 1, 2, 3, 4, 5, 6, 7};  // [[0,1],[2,3]], [[4,5],[6,7]]
    auto mx =
        reduce(BuiltinOp::REDUCE_MAX, tensor<int32_t>(DType::Int32, {2, 2, 2}, v), {0, 2}, false);
    EXPECT_EQ(values<int32_t>(mx), (std::vector<int32_t>{5, 7}));
    auto mn =
        reduce(BuiltinOp::REDUCE_MIN, tensor<int32_t>(DType::Int32, {2, 2, 2}, v), {2, -3}, true);
    EXPECT_EQ(mn.shape(), (std::vector<int32_t>{1, 2, 1}));
    EXPECT_EQ(values<int32_t>(mn), (std::vector<int32_t>{0, 2}));
}

TEST(ReduceKernels, ProdFloatAndInt32Wraps) {
    auto p = reduce(BuiltinOp::REDUCE_PROD,
                    tensor<float>(DType::Float32, {2, 3}, {1, 2, 3, 4, 5, 6}), {1}, false);
    EXPECT_EQ(values<float>(p), (std::vector<float>{6, 120}));
    // 65536 * 65536 wraps to 0 in int32 (SumOp/ProdOp compute in the element type).
    auto w = reduce(BuiltinOp::REDUCE_PROD, tensor<int32_t>(DType::Int32, {2}, {65536, 65536}), {0},
                    false);
    EXPECT_EQ(values<int32_t>(w), (std::vector<int32_t>{0}));
}

// builtin's MaxOp keeps `current > in ? current : in`: [1, NaN, 0] goes -inf -> 1 -> NaN -> 0.
// TFLM's reducer keeps `in > current ? in : current`: the NaN is skipped, the result is 1.
TEST(ReduceKernels, FloatMaxNanOrderDiffersPerProfile) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    auto in = [&] { return tensor<float>(DType::Float32, {3}, {1, nan, 0}); };
    EXPECT_EQ(
        values<float>(reduce(BuiltinOp::REDUCE_MAX, in(), {0}, false, RoundingProfile::Reference)),
        (std::vector<float>{1}));
    EXPECT_EQ(
        values<float>(reduce(BuiltinOp::REDUCE_MAX, in(), {0}, false, RoundingProfile::Builtin)),
        (std::vector<float>{0}));
    // MIN: [1, NaN, 2] -> builtin: +inf -> 1 -> NaN -> 2; TFLM: 1.
    auto in2 = [&] { return tensor<float>(DType::Float32, {3}, {1, nan, 2}); };
    EXPECT_EQ(
        values<float>(reduce(BuiltinOp::REDUCE_MIN, in2(), {0}, false, RoundingProfile::Builtin)),
        (std::vector<float>{2}));
    EXPECT_EQ(
        values<float>(reduce(BuiltinOp::REDUCE_MIN, in2(), {0}, false, RoundingProfile::Reference)),
        (std::vector<float>{1}));
}

TEST(ReduceKernels, QuantizedMaxNeedsEqualQuantization) {
    auto in = [] { return tensor<int8_t>(DType::Int8, {2, 2}, {-5, 7, 3, -128}, quant(0.5f, 1)); };
    auto mx =
        reduce(BuiltinOp::REDUCE_MAX, in(), {1}, false, RoundingProfile::Reference, quant(0.5f, 1));
    EXPECT_EQ(ints<int8_t>(mx), (std::vector<int32_t>{7, 3}));
    auto r = OpRunner(BuiltinOp::REDUCE_MAX, model::ReducerOptions{false})
                 .input(in())
                 .input(axes({1}), true)
                 .output(DType::Int8, quant(0.25f, 1))
                 .run();
    EXPECT_FALSE(r);
}

// s_in / s_out = 0.25 -> multiplier 2^30, shift -1. sum(q) = -6 -> -1.5 in output units.
//  reference: SaturatingRoundingDoublingHighMul(-6, 2^30) = -3, RoundingDivideByPOT(-3, 1) = -2
//  single-rounding: (-6 * 2^30 + 2^31) >> 32 = -1
//  builtin: round(-6.0f * 0.25f) = -2 (half away from zero)
TEST(ReduceKernels, Int8SumRoundingPerProfile) {
    auto run = [](RoundingProfile p) {
        return ints<int8_t>(reduce(BuiltinOp::SUM,
                                   tensor<int8_t>(DType::Int8, {1, 2}, {-3, -3}, quant(0.25f, 0)),
                                   {1}, false, p, quant(1.0f, 0)));
    };
    EXPECT_EQ(run(RoundingProfile::Reference), (std::vector<int32_t>{-2}));
    EXPECT_EQ(run(RoundingProfile::SingleRounding), (std::vector<int32_t>{-1}));
    EXPECT_EQ(run(RoundingProfile::Builtin), (std::vector<int32_t>{-2}));
}

// Zero points: s_in 0.5, zp_in 3, n = 3, q = [4, 6, 6]: real sum (1 + 3 + 3) * 0.5 = 3.5.
//  TFLM: (16 - 9) * 0.5 -> SRDHM(7, 2^30) = 4, + zp_out 10 = 14.
//  builtin: round(16 * 0.5 - 3 * 0.5 * 3) = round(3.5) = 4, + 10 = 14.
TEST(ReduceKernels, Int8SumZeroPoints) {
    for (RoundingProfile p : {RoundingProfile::Reference, RoundingProfile::Builtin}) {
        auto s = reduce(BuiltinOp::SUM, tensor<int8_t>(DType::Int8, {3}, {4, 6, 6}, quant(0.5f, 3)),
                        {0}, true, p, quant(1.0f, 10));
        EXPECT_EQ(s.shape(), (std::vector<int32_t>{1}));
        EXPECT_EQ(ints<int8_t>(s), (std::vector<int32_t>{14})) << profileName(p);
    }
}

// builtin writes static_cast<T>(value) without a clamp: 200 / 0.5 = 400 -> int8 -112.
// TFLM clamps to 127. With equal quantization builtin sums in int8 itself: 200 -> -56.
TEST(ReduceKernels, Int8SumSaturationVersusWrap) {
    auto run = [](RoundingProfile p, float out_scale) {
        return ints<int8_t>(reduce(BuiltinOp::SUM,
                                   tensor<int8_t>(DType::Int8, {2}, {100, 100}, quant(1.0f, 0)),
                                   {0}, false, p, quant(out_scale, 0)));
    };
    EXPECT_EQ(run(RoundingProfile::Builtin, 0.5f), (std::vector<int32_t>{-112}));
    EXPECT_EQ(run(RoundingProfile::Reference, 0.5f), (std::vector<int32_t>{127}));
    EXPECT_EQ(run(RoundingProfile::Builtin, 1.0f), (std::vector<int32_t>{-56}));
    EXPECT_EQ(run(RoundingProfile::Reference, 1.0f), (std::vector<int32_t>{127}));
}

TEST(ReduceKernels, Uint8AndInt16Sum) {
    // uint8, s 0.5 zp 128 -> s 1 zp 128: q = [130, 134] -> (2 + 6) * 0.5 = 4 -> 132.
    for (RoundingProfile p : {RoundingProfile::Reference, RoundingProfile::Builtin}) {
        auto u =
            reduce(BuiltinOp::SUM, tensor<uint8_t>(DType::UInt8, {2}, {130, 134}, quant(0.5f, 128)),
                   {0}, false, p, quant(1.0f, 128));
        EXPECT_EQ(ints<uint8_t>(u), (std::vector<int32_t>{132})) << profileName(p);
    }
    // int16, builtin: equal scales only, raw sum.
    auto s =
        reduce(BuiltinOp::SUM, tensor<int16_t>(DType::Int16, {3}, {1000, -3, 20}, quant(0.01f, 0)),
               {0}, false, RoundingProfile::Builtin, quant(0.01f, 0));
    EXPECT_EQ(ints<int16_t>(s), (std::vector<int32_t>{1017}));
    auto bad = OpRunner(BuiltinOp::SUM, model::ReducerOptions{false}, RoundingProfile::Builtin)
                   .input(tensor<int16_t>(DType::Int16, {2}, {1, 2}, quant(0.01f, 0)))
                   .input(axes({0}), true)
                   .output(DType::Int16, quant(0.02f, 0))
                   .run();
    EXPECT_FALSE(bad);
    // TFLM rescales int16: (1000 + 30) * 0.5 = 515.
    auto t = reduce(BuiltinOp::SUM, tensor<int16_t>(DType::Int16, {2}, {1000, 30}, quant(0.01f, 0)),
                    {0}, false, RoundingProfile::Reference, quant(0.02f, 0));
    EXPECT_EQ(ints<int16_t>(t), (std::vector<int32_t>{515}));
}

// QuantizedReduceProd: n = 2, scaling 0.5 / sqrt(0.5) -> multiplier 1518500250, shift 0; the
// int64 MultiplyByQuantizedMultiplier reduces it to 23170 (Q15). q = [4, 6]:
//  step: (24 * 23170 + 2^14) >> 15 = 17; final: (17 * 23170 + 2^14) >> 15 = 12.
TEST(ReduceKernels, Int8ProdRescalesEveryStep) {
    auto p =
        reduce(BuiltinOp::REDUCE_PROD, tensor<int8_t>(DType::Int8, {1, 2}, {4, 6}, quant(0.5f, 0)),
               {1}, false, RoundingProfile::Builtin, quant(0.5f, 0));
    EXPECT_EQ(ints<int8_t>(p), (std::vector<int32_t>{12}));
}

TEST(ReduceKernels, RejectsBadAxes) {
    auto r = OpRunner(BuiltinOp::SUM, model::ReducerOptions{false})
                 .input(tensor<float>(DType::Float32, {2, 2}, {1, 2, 3, 4}))
                 .input(axes({2}), true)
                 .output(DType::Float32)
                 .run();
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("out of range"), std::string::npos) << r.error().message;
    auto r64 = OpRunner(BuiltinOp::SUM, model::ReducerOptions{false})
                   .input(tensor<float>(DType::Float32, {2}, {1, 2}))
                   .input(tensor<int64_t>(DType::Int64, {1}, {0}), true)
                   .output(DType::Float32)
                   .run();
    EXPECT_FALSE(r64);
}

}  // namespace
