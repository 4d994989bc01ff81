// SUB, MUL, DIV, SQUARED_DIFFERENCE, MINIMUM, MAXIMUM, FLOOR_DIV, FLOOR_MOD, comparisons and
// SELECT: hand-derived expected values (derivations in the comments), including broadcast,
// negative ties, saturation and the rounding profiles where they differ.
#include <gtest/gtest.h>

#include "op_runner.h"

using namespace qs;
using namespace qs::engine;
using namespace qs::engine::test;
using model::BuiltinOp;
using model::DType;

namespace {

model::AddSubOptions subOpts(model::Activation a = model::Activation::None) {
    model::AddSubOptions o;
    o.fused_activation_function = a;
    return o;
}
model::ActivationOptions actOpts(model::Activation a = model::Activation::None) {
    return model::ActivationOptions{a};
}

// Scales 0.5/0.5 -> 0.5: multipliers 2^30 (shift 0) for the inputs, 2^30 (shift -18) for the
// output; every step is exact, so SUB is a - b with int8 saturation.
TEST(SubKernel, Int8ExactAndSaturating) {
    auto out = OpRunner(BuiltinOp::SUB, subOpts())
                   .input(tensor<int8_t>(DType::Int8, {4}, {100, -100, 5, 0}, quant(0.5f, 0)))
                   .input(tensor<int8_t>(DType::Int8, {4}, {-100, 100, 7, 0}, quant(0.5f, 0)))
                   .output(DType::Int8, quant(0.5f, 0))
                   .run1();
    EXPECT_EQ(ints<int8_t>(out), (std::vector<int32_t>{127, -128, -2, 0}));
}

// Output scale 1.0: the result is (a - b) / 2. Reference (double rounding): the final
// RoundingDivideByPOT rounds -1.5 away from zero to -2; single rounding adds half and shifts,
// so -1.5 -> -1. Input 2 is broadcast from shape [1].
TEST(SubKernel, Int8NegativeTiesPerProfile) {
    auto run = [](RoundingProfile p) {
        return ints<int8_t>(
            OpRunner(BuiltinOp::SUB, subOpts(), p)
                .input(tensor<int8_t>(DType::Int8, {2, 2}, {3, -3, 4, -4}, quant(0.5f, 0)))
                .input(tensor<int8_t>(DType::Int8, {1}, {0}, quant(0.5f, 0)))
                .output(DType::Int8, quant(1.0f, 0))
                .run1());
    };
    EXPECT_EQ(run(RoundingProfile::Reference), (std::vector<int32_t>{2, -2, 2, -2}));
    EXPECT_EQ(run(RoundingProfile::Builtin), (std::vector<int32_t>{2, -2, 2, -2}));
    EXPECT_EQ(run(RoundingProfile::SingleRounding), (std::vector<int32_t>{2, -1, 2, -2}));
}

// Fused RELU with output zero point -10: the activation floor is the zero point.
TEST(SubKernel, Int8FusedReluAndZeroPoints) {
    auto out = OpRunner(BuiltinOp::SUB, subOpts(model::Activation::Relu))
                   .input(tensor<int8_t>(DType::Int8, {3}, {10, 0, -5}, quant(0.5f, 10)))
                   .input(tensor<int8_t>(DType::Int8, {3}, {0, 0, 0}, quant(0.5f, 0)))
                   .output(DType::Int8, quant(0.5f, -10))
                   .run1();
    // real: (10-10)*0.5 = 0, (0-10)*0.5 = -5, (-5-10)*0.5 = -7.5 -> q = -10, -20, -25;
    // RELU clamps at q(0) = -10.
    EXPECT_EQ(ints<int8_t>(out), (std::vector<int32_t>{-10, -10, -10}));
}

TEST(SubKernel, Int16SymmetricReference) {
    // Scales 2^-10 everywhere: left shift 15, result a - b exactly, saturating at int16.
    auto out =
        OpRunner(BuiltinOp::SUB, subOpts())
            .input(tensor<int16_t>(DType::Int16, {3}, {1000, -30000, 7}, quant(1.0f / 1024, 0)))
            .input(tensor<int16_t>(DType::Int16, {3}, {-24, 30000, 7}, quant(1.0f / 1024, 0)))
            .output(DType::Int16, quant(1.0f / 1024, 0))
            .run1();
    EXPECT_EQ(ints<int16_t>(out), (std::vector<int32_t>{1024, -32768, 0}));
}

// TFLite builtin's int16 SUB with power-of-two scales (sub.cc POT path): input 2 at 2^-11
// into an output at 2^-10 is shifted right by one with rounding half away from zero.
TEST(SubKernel, Int16PowerOfTwoBuiltin) {
    auto out = OpRunner(BuiltinOp::SUB, subOpts(), RoundingProfile::Builtin)
                   .input(tensor<int16_t>(DType::Int16, {3}, {0, 0, 100}, quant(1.0f / 1024, 0)))
                   .input(tensor<int16_t>(DType::Int16, {3}, {3, -3, 4}, quant(1.0f / 2048, 0)))
                   .output(DType::Int16, quant(1.0f / 1024, 0))
                   .run1();
    // 3 / 2 = 1.5 -> 2; -3 / 2 -> -2; 100 - 2 = 98.
    EXPECT_EQ(ints<int16_t>(out), (std::vector<int32_t>{-2, 2, 98}));
}

TEST(SubKernel, FloatBroadcastRelu6) {
    auto out = OpRunner(BuiltinOp::SUB, subOpts(model::Activation::Relu6))
                   .input(tensor<float>(DType::Float32, {2, 1}, {10.0f, 1.0f}))
                   .input(tensor<float>(DType::Float32, {3}, {1.0f, 2.5f, 3.0f}))
                   .output(DType::Float32)
                   .run1();
    EXPECT_EQ(values<float>(out), (std::vector<float>{6.0f, 6.0f, 6.0f, 0.0f, 0.0f, 0.0f}));
    EXPECT_EQ(out.shape(), (std::vector<int32_t>{2, 3}));
}

TEST(SubKernel, Int32) {
    auto out = OpRunner(BuiltinOp::SUB, subOpts())
                   .input(tensor<int32_t>(DType::Int32, {2}, {8, 8}))
                   .input(tensor<int32_t>(DType::Int32, {2}, {1, 30}))
                   .output(DType::Int32)
                   .run1();
    EXPECT_EQ(values<int32_t>(out), (std::vector<int32_t>{7, -22}));
}

TEST(SubKernel, RejectsMismatchedTypesNamingTheOp) {
    auto r = OpRunner(BuiltinOp::SUB, subOpts())
                 .input(tensor<int8_t>(DType::Int8, {1}, {0}, quant(1.0f, 0)))
                 .input(tensor<float>(DType::Float32, {1}, {0.0f}))
                 .output(DType::Int8, quant(1.0f, 0))
                 .run();
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("SUB"), std::string::npos) << r.error().message;
}

TEST(SubKernel, RejectsShapesThatDoNotBroadcast) {
    auto r = OpRunner(BuiltinOp::SUB, subOpts())
                 .input(tensor<float>(DType::Float32, {2}, {0, 0}))
                 .input(tensor<float>(DType::Float32, {3}, {0, 0, 0}))
                 .output(DType::Float32)
                 .run();
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("do not broadcast"), std::string::npos);
}

// MUL int8, scales 0.5 * 0.5 / 1.0 = 0.25 (multiplier 2^30, shift -1). Products -6 and 10
// give -1.5 and 2.5: reference rounds the last shift half away from zero (-2, 3); single
// rounding adds half (-1, 3); XNNPACK's fp32 requantization rounds to nearest even (-2, 2).
// 20 * 20 * 0.25 = 100 exactly.
TEST(MulKernel, Int8TiesPerProfile) {
    auto run = [](RoundingProfile p) {
        return ints<int8_t>(
            OpRunner(BuiltinOp::MUL, actOpts(), p)
                .input(tensor<int8_t>(DType::Int8, {3}, {-2, 2, 20}, quant(0.5f, 0)))
                .input(tensor<int8_t>(DType::Int8, {3}, {3, 5, 20}, quant(0.5f, 0)))
                .output(DType::Int8, quant(1.0f, 0))
                .run1());
    };
    EXPECT_EQ(run(RoundingProfile::Reference), (std::vector<int32_t>{-2, 3, 100}));
    EXPECT_EQ(run(RoundingProfile::Builtin), (std::vector<int32_t>{-2, 3, 100}));
    EXPECT_EQ(run(RoundingProfile::SingleRounding), (std::vector<int32_t>{-1, 3, 100}));
    EXPECT_EQ(run(RoundingProfile::Xnnpack), (std::vector<int32_t>{-2, 2, 100}));
}

// Zero points are subtracted before the product; the result saturates; broadcast of a
// per-row factor.
TEST(MulKernel, Int8ZeroPointsBroadcastSaturation) {
    auto out = OpRunner(BuiltinOp::MUL, actOpts())
                   .input(tensor<int8_t>(DType::Int8, {2, 2}, {5, 7, 127, -128}, quant(0.5f, 1)))
                   .input(tensor<int8_t>(DType::Int8, {2, 1}, {3, -1}, quant(0.5f, -1)))
                   .output(DType::Int8, quant(0.25f, 0))
                   .run1();
    // real multiplier 1: (5-1)*(3+1) = 16, (7-1)*4 = 24, (127-1)*0 = 0, (-128-1)*0 = 0.
    EXPECT_EQ(ints<int8_t>(out), (std::vector<int32_t>{16, 24, 0, 0}));
    auto sat = OpRunner(BuiltinOp::MUL, actOpts())
                   .input(tensor<int8_t>(DType::Int8, {2}, {100, -100}, quant(0.5f, 0)))
                   .input(tensor<int8_t>(DType::Int8, {2}, {100, 100}, quant(0.5f, 0)))
                   .output(DType::Int8, quant(0.25f, 0))
                   .run1();
    EXPECT_EQ(ints<int8_t>(sat), (std::vector<int32_t>{127, -128}));
}

TEST(MulKernel, Int16) {
    auto out =
        OpRunner(BuiltinOp::MUL, actOpts())
            .input(tensor<int16_t>(DType::Int16, {3}, {1024, 30000, -3}, quant(1.0f / 1024, 0)))
            .input(tensor<int16_t>(DType::Int16, {3}, {-512, 30000, 512}, quant(1.0f / 1024, 0)))
            .output(DType::Int16, quant(1.0f / 1024, 0))
            .run1();
    // a * b / 1024: -512; 878906.25 -> 32767; -1.5 -> -2 (half away from zero).
    EXPECT_EQ(ints<int16_t>(out), (std::vector<int32_t>{-512, 32767, -2}));
}

TEST(MulKernel, FloatBroadcastAndRelu) {
    auto out = OpRunner(BuiltinOp::MUL, actOpts(model::Activation::Relu))
                   .input(tensor<float>(DType::Float32, {2, 1}, {2.0f, -1.0f}))
                   .input(tensor<float>(DType::Float32, {1, 3}, {1.0f, -2.0f, 0.5f}))
                   .output(DType::Float32)
                   .run1();
    EXPECT_EQ(values<float>(out), (std::vector<float>{2.0f, 0.0f, 1.0f, 0.0f, 2.0f, 0.0f}));
}

TEST(DivKernel, FloatAndInt32) {
    auto f = OpRunner(BuiltinOp::DIV, actOpts())
                 .input(tensor<float>(DType::Float32, {2}, {1.0f, -3.0f}))
                 .input(tensor<float>(DType::Float32, {1}, {2.0f}))
                 .output(DType::Float32)
                 .run1();
    EXPECT_EQ(values<float>(f), (std::vector<float>{0.5f, -1.5f}));
    auto i = OpRunner(BuiltinOp::DIV, actOpts())
                 .input(tensor<int32_t>(DType::Int32, {2}, {7, -7}))
                 .input(tensor<int32_t>(DType::Int32, {1}, {2}))
                 .output(DType::Int32)
                 .run1();
    EXPECT_EQ(values<int32_t>(i), (std::vector<int32_t>{3, -3}));
    auto q = OpRunner(BuiltinOp::DIV, actOpts())
                 .input(tensor<int8_t>(DType::Int8, {1}, {1}, quant(1.0f, 0)))
                 .input(tensor<int8_t>(DType::Int8, {1}, {1}, quant(1.0f, 0)))
                 .output(DType::Int8, quant(1.0f, 0))
                 .run();
    EXPECT_FALSE(q) << "quantized DIV is not implemented and must say so";
}

TEST(FloorModKernel, SignFollowsDivisor) {
    auto out = OpRunner(BuiltinOp::FLOOR_MOD)
                   .input(tensor<int32_t>(DType::Int32, {4}, {7, -7, 7, -7}))
                   .input(tensor<int32_t>(DType::Int32, {4}, {3, 3, -3, -3}))
                   .output(DType::Int32)
                   .run1();
    EXPECT_EQ(values<int32_t>(out), (std::vector<int32_t>{1, 2, -2, -1}));
    auto f = OpRunner(BuiltinOp::FLOOR_MOD)
                 .input(tensor<float>(DType::Float32, {2}, {-7.5f, 7.5f}))
                 .input(tensor<float>(DType::Float32, {1}, {2.0f}))
                 .output(DType::Float32)
                 .run1();
    EXPECT_EQ(values<float>(f), (std::vector<float>{0.5f, 1.5f}));
}

TEST(FloorDivKernel, RoundsTowardMinusInfinity) {
    auto out = OpRunner(BuiltinOp::FLOOR_DIV)
                   .input(tensor<int32_t>(DType::Int32, {3}, {7, -7, 6}))
                   .input(tensor<int32_t>(DType::Int32, {1}, {2}))
                   .output(DType::Int32)
                   .run1();
    EXPECT_EQ(values<int32_t>(out), (std::vector<int32_t>{3, -4, 3}));
}

TEST(MinMaxKernel, Int8BroadcastAndFloat) {
    auto mn = OpRunner(BuiltinOp::MINIMUM)
                  .input(tensor<int8_t>(DType::Int8, {2, 2}, {-5, 5, 0, 100}, quant(0.1f, 0)))
                  .input(tensor<int8_t>(DType::Int8, {2}, {1, 6}, quant(0.1f, 0)))
                  .output(DType::Int8, quant(0.1f, 0))
                  .run1();
    EXPECT_EQ(ints<int8_t>(mn), (std::vector<int32_t>{-5, 5, 0, 6}));
    auto mx = OpRunner(BuiltinOp::MAXIMUM)
                  .input(tensor<float>(DType::Float32, {3}, {-1.0f, 2.0f, 0.0f}))
                  .input(tensor<float>(DType::Float32, {1}, {0.5f}))
                  .output(DType::Float32)
                  .run1();
    EXPECT_EQ(values<float>(mx), (std::vector<float>{0.5f, 2.0f, 0.5f}));
    auto bad = OpRunner(BuiltinOp::MAXIMUM)
                   .input(tensor<int8_t>(DType::Int8, {1}, {0}, quant(0.1f, 0)))
                   .input(tensor<int8_t>(DType::Int8, {1}, {0}, quant(0.2f, 0)))
                   .output(DType::Int8, quant(0.1f, 0))
                   .run();
    EXPECT_FALSE(bad);
}

// int8: inputs << 7, ratios 0.5 -> s1 = 192, s2 = 64 for 3 and 1 (scale 1); d^2 = 16384;
// output multiplier 2^-12 -> 4.
TEST(SquaredDifferenceKernel, Int8AndFloat) {
    auto q = OpRunner(BuiltinOp::SQUARED_DIFFERENCE)
                 .input(tensor<int8_t>(DType::Int8, {3}, {3, -3, 10}, quant(1.0f, 0)))
                 .input(tensor<int8_t>(DType::Int8, {3}, {1, 2, -10}, quant(1.0f, 0)))
                 .output(DType::Int8, quant(1.0f, 0))
                 .run1();
    EXPECT_EQ(ints<int8_t>(q), (std::vector<int32_t>{4, 25, 127}));
    auto f = OpRunner(BuiltinOp::SQUARED_DIFFERENCE)
                 .input(tensor<float>(DType::Float32, {2}, {1.0f, 2.0f}))
                 .input(tensor<float>(DType::Float32, {1}, {3.0f}))
                 .output(DType::Float32)
                 .run1();
    EXPECT_EQ(values<float>(f), (std::vector<float>{4.0f, 1.0f}));
}

// int8 inputs at scales 1.0 and 0.5: both sides are rescaled to one real scale before the
// comparison (1 vs 2*0.5 compare equal).
TEST(ComparisonKernels, Int8DifferentScales) {
    auto run = [](BuiltinOp op) {
        return values<uint8_t>(
            OpRunner(op)
                .input(tensor<int8_t>(DType::Int8, {3}, {1, 2, -3}, quant(1.0f, 0)))
                .input(tensor<int8_t>(DType::Int8, {3}, {2, 5, -6}, quant(0.5f, 0)))
                .output(DType::Bool)
                .run1());
    };
    using V = std::vector<uint8_t>;
    EXPECT_EQ(run(BuiltinOp::LESS), (V{0, 1, 0}));
    EXPECT_EQ(run(BuiltinOp::LESS_EQUAL), (V{1, 1, 1}));
    EXPECT_EQ(run(BuiltinOp::GREATER), (V{0, 0, 0}));
    EXPECT_EQ(run(BuiltinOp::GREATER_EQUAL), (V{1, 0, 1}));
    EXPECT_EQ(run(BuiltinOp::EQUAL), (V{1, 0, 1}));
    EXPECT_EQ(run(BuiltinOp::NOT_EQUAL), (V{0, 1, 0}));
}

TEST(ComparisonKernels, FloatBroadcastAndInt32) {
    auto f = OpRunner(BuiltinOp::GREATER)
                 .input(tensor<float>(DType::Float32, {2, 2}, {0.0f, 1.0f, 2.0f, 3.0f}))
                 .input(tensor<float>(DType::Float32, {2}, {1.0f, 2.0f}))
                 .output(DType::Bool)
                 .run1();
    EXPECT_EQ(values<uint8_t>(f), (std::vector<uint8_t>{0, 0, 1, 1}));
    auto i = OpRunner(BuiltinOp::NOT_EQUAL)
                 .input(tensor<int32_t>(DType::Int32, {3}, {1, 2, 3}))
                 .input(tensor<int32_t>(DType::Int32, {}, {2}))
                 .output(DType::Bool)
                 .run1();
    EXPECT_EQ(values<uint8_t>(i), (std::vector<uint8_t>{1, 0, 1}));
}

TEST(SelectKernels, V2BroadcastsAllThree) {
    auto out = OpRunner(BuiltinOp::SELECT_V2)
                   .input(tensor<uint8_t>(DType::Bool, {2, 1}, {1, 0}))
                   .input(tensor<float>(DType::Float32, {1, 3}, {1.0f, 2.0f, 3.0f}))
                   .input(tensor<float>(DType::Float32, {1}, {9.0f}))
                   .output(DType::Float32)
                   .run1();
    EXPECT_EQ(values<float>(out), (std::vector<float>{1, 2, 3, 9, 9, 9}));
}

TEST(SelectKernels, V1RankOneConditionPicksRows) {
    auto out = OpRunner(BuiltinOp::SELECT)
                   .input(tensor<uint8_t>(DType::Bool, {2}, {0, 1}))
                   .input(tensor<int8_t>(DType::Int8, {2, 2}, {1, 2, 3, 4}, quant(1.0f, 0)))
                   .input(tensor<int8_t>(DType::Int8, {2, 2}, {5, 6, 7, 8}, quant(1.0f, 0)))
                   .output(DType::Int8, quant(1.0f, 0))
                   .run1();
    EXPECT_EQ(ints<int8_t>(out), (std::vector<int32_t>{5, 6, 3, 4}));
}

}  // namespace
