// LOGISTIC, TANH, the RELU family, LEAKY_RELU, PRELU, HARD_SWISH, ELU and the one-input
// math ops: float paths, TFLM's fixed-point int8 LOGISTIC/TANH against TFLite builtin's
// table, requantizing RELUs with negative ties per profile.
#include <gtest/gtest.h>

#include <cmath>

#include "op_runner.h"

using namespace qs;
using namespace qs::engine;
using namespace qs::engine::test;
using model::BuiltinOp;
using model::DType;

namespace {

TensorValue f32(std::vector<int32_t> shape, std::vector<float> v) {
    return tensor<float>(DType::Float32, std::move(shape), v);
}

TEST(LogisticKernel, Float) {
    auto out = OpRunner(BuiltinOp::LOGISTIC)
                   .input(f32({3}, {0.0f, std::log(3.0f), -std::log(3.0f)}))
                   .output(DType::Float32)
                   .run1();
    const auto v = values<float>(out);
    EXPECT_FLOAT_EQ(v[0], 0.5f);
    EXPECT_FLOAT_EQ(v[1], 0.75f);
    EXPECT_FLOAT_EQ(v[2], 0.25f);
}

std::vector<int32_t> logisticInt8(RoundingProfile p, const std::vector<int8_t>& q) {
    return ints<int8_t>(OpRunner(BuiltinOp::LOGISTIC, model::NoOptions{}, p)
                            .input(tensor<int8_t>(DType::Int8, {static_cast<int32_t>(q.size())}, q,
                                                  quant(1.0f / 16, 0)))
                            .output(DType::Int8, quant(1.0f / 256, -128))
                            .run1());
}

// Input scale 1/16: q = 16 is x = 1, sigmoid 0.73106 -> 187.15 / 256 -> 187 - 128 = 59;
// q = -16: 68.85 -> 69 - 128 = -59; q = 60 (x = 3.75): 250.12 -> 122. The fixed-point
// path saturates beyond its input radius 15 * 2^27 / 2^24 = 120 steps.
TEST(LogisticKernel, Int8FixedPointAndTable) {
    const std::vector<int8_t> q = {0, 16, -16, 60, 120, 127, -120, -128};
    const std::vector<int32_t> want = {0, 59, -59, 122, 127, 127, -128, -128};
    EXPECT_EQ(logisticInt8(RoundingProfile::Reference, q), want);
    EXPECT_EQ(logisticInt8(RoundingProfile::SingleRounding, q), want);
    EXPECT_EQ(logisticInt8(RoundingProfile::Builtin, q), want);
    EXPECT_EQ(logisticInt8(RoundingProfile::Xnnpack, q), want);
}

// Over every int8 input the gemmlowp fixed-point result stays within one step of the float
// table (both approximate the same sigmoid), and the table equals round(256 * sigmoid).
TEST(LogisticKernel, Int8PathsAgreeWithinOneStepEverywhere) {
    std::vector<int8_t> all;
    for (int q = -128; q <= 127; ++q) all.push_back(static_cast<int8_t>(q));
    const auto fixed = logisticInt8(RoundingProfile::Reference, all);
    const auto table = logisticInt8(RoundingProfile::Builtin, all);
    for (size_t i = 0; i < all.size(); ++i) {
        EXPECT_LE(std::abs(fixed[i] - table[i]), 1) << "q = " << int(all[i]);
        const double s = 1.0 / (1.0 + std::exp(-all[i] / 16.0));
        const int want = std::clamp(static_cast<int>(std::lround(s * 256)) - 128, -128, 127);
        EXPECT_EQ(table[i], want) << "q = " << int(all[i]);
    }
}

TEST(LogisticKernel, RejectsWrongOutputQuantization) {
    auto r = OpRunner(BuiltinOp::LOGISTIC)
                 .input(tensor<int8_t>(DType::Int8, {1}, {0}, quant(0.1f, 0)))
                 .output(DType::Int8, quant(1.0f / 256, 0))
                 .run();
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("LOGISTIC"), std::string::npos);
}

// tanh(1) * 128 = 97.48 -> 97 in both int8 paths; saturation past the radius.
TEST(TanhKernel, Int8BothPathsAndFloat) {
    for (auto p : {RoundingProfile::Reference, RoundingProfile::Builtin}) {
        auto out = OpRunner(BuiltinOp::TANH, model::NoOptions{}, p)
                       .input(tensor<int8_t>(DType::Int8, {5}, {0, 16, -16, 127, -128},
                                             quant(1.0f / 16, 0)))
                       .output(DType::Int8, quant(1.0f / 128, 0))
                       .run1();
        EXPECT_EQ(ints<int8_t>(out), (std::vector<int32_t>{0, 97, -97, 127, -128}))
            << profileName(p);
    }
    auto f = OpRunner(BuiltinOp::TANH).input(f32({1}, {1.0f})).output(DType::Float32).run1();
    EXPECT_FLOAT_EQ(values<float>(f)[0], std::tanh(1.0f));
}

// RELU int8 with zero points: (q - 10) * 0.5 / 0.25 - 20, floored at the zero point -20.
TEST(ReluKernels, Int8RequantizeAndClamp) {
    auto out = OpRunner(BuiltinOp::RELU)
                   .input(tensor<int8_t>(DType::Int8, {3}, {8, 12, 127}, quant(0.5f, 10)))
                   .output(DType::Int8, quant(0.25f, -20))
                   .run1();
    EXPECT_EQ(ints<int8_t>(out), (std::vector<int32_t>{-20, -16, 127}));
    auto r6 = OpRunner(BuiltinOp::RELU6)
                  .input(tensor<int8_t>(DType::Int8, {3}, {20, -3, 5}, quant(0.5f, 0)))
                  .output(DType::Int8, quant(0.5f, 0))
                  .run1();
    EXPECT_EQ(ints<int8_t>(r6), (std::vector<int32_t>{12, 0, 5}));
    auto n1 = OpRunner(BuiltinOp::RELU_N1_TO_1)
                  .input(f32({3}, {-2.0f, 0.5f, 3.0f}))
                  .output(DType::Float32)
                  .run1();
    EXPECT_EQ(values<float>(n1), (std::vector<float>{-1.0f, 0.5f, 1.0f}));
}

// LEAKY_RELU alpha 0.25 at scale 1: -6 -> -1.5. Reference rounds the final shift half away
// from zero (-2), single rounding half up (-1).
TEST(LeakyReluKernel, Int8NegativeTiePerProfileAndFloat) {
    auto run = [](RoundingProfile p) {
        return ints<int8_t>(
            OpRunner(BuiltinOp::LEAKY_RELU, model::LeakyReluOptions{0.25f}, p)
                .input(tensor<int8_t>(DType::Int8, {3}, {-6, 4, -128}, quant(1.0f, 0)))
                .output(DType::Int8, quant(1.0f, 0))
                .run1());
    };
    EXPECT_EQ(run(RoundingProfile::Reference), (std::vector<int32_t>{-2, 4, -32}));
    EXPECT_EQ(run(RoundingProfile::SingleRounding), (std::vector<int32_t>{-1, 4, -32}));
    auto f = OpRunner(BuiltinOp::LEAKY_RELU, model::LeakyReluOptions{0.1f})
                 .input(f32({2}, {-2.0f, 3.0f}))
                 .output(DType::Float32)
                 .run1();
    EXPECT_FLOAT_EQ(values<float>(f)[0], -0.2f);
    EXPECT_FLOAT_EQ(values<float>(f)[1], 3.0f);
}

TEST(PreluKernel, FloatBroadcastAndInt8) {
    auto f = OpRunner(BuiltinOp::PRELU)
                 .input(f32({2, 2}, {-1, 2, -3, 4}))
                 .input(f32({2}, {0.5f, 0.25f}))
                 .output(DType::Float32)
                 .run1();
    EXPECT_EQ(values<float>(f), (std::vector<float>{-0.5f, 2, -1.5f, 4}));
    // alpha = 1 * 0.5; x = -4 -> -2, x = 3 -> 3, x = -5 -> -2.5 -> -2 (shift 0: only the
    // high multiply rounds, ties toward +infinity).
    auto q = OpRunner(BuiltinOp::PRELU)
                 .input(tensor<int8_t>(DType::Int8, {3}, {-4, 3, -5}, quant(1.0f, 0)))
                 .input(tensor<int8_t>(DType::Int8, {1}, {1}, quant(0.5f, 0)))
                 .output(DType::Int8, quant(1.0f, 0))
                 .run1();
    EXPECT_EQ(ints<int8_t>(q), (std::vector<int32_t>{-2, 3, -2}));
}

TEST(EluAndExpKernels, Int8TablesAndFloat) {
    // ELU at scale 0.5: q = -2 is x = -1, expm1(-1) / 0.5 = -1.26 -> -1; q = 4 stays 4.
    auto e = OpRunner(BuiltinOp::ELU)
                 .input(tensor<int8_t>(DType::Int8, {2}, {-2, 4}, quant(0.5f, 0)))
                 .output(DType::Int8, quant(0.5f, 0))
                 .run1();
    EXPECT_EQ(ints<int8_t>(e), (std::vector<int32_t>{-1, 4}));
    // EXP at scale 0.1: q = 10 is x = 1, e / 0.1 = 27.18 -> 27; q = 50: e^5 / 0.1 saturates.
    auto x = OpRunner(BuiltinOp::EXP)
                 .input(tensor<int8_t>(DType::Int8, {2}, {10, 50}, quant(0.1f, 0)))
                 .output(DType::Int8, quant(0.1f, 0))
                 .run1();
    EXPECT_EQ(ints<int8_t>(x), (std::vector<int32_t>{27, 127}));
    auto f = OpRunner(BuiltinOp::ELU).input(f32({2}, {-1.0f, 2.0f})).output(DType::Float32).run1();
    EXPECT_FLOAT_EQ(values<float>(f)[0], std::expm1(-1.0f));
    EXPECT_FLOAT_EQ(values<float>(f)[1], 2.0f);
}

TEST(UnaryMathKernels, FloatAndIntegers) {
    auto run = [](BuiltinOp op, std::vector<float> v) {
        return values<float>(OpRunner(op)
                                 .input(f32({static_cast<int32_t>(v.size())}, v))
                                 .output(DType::Float32)
                                 .run1());
    };
    EXPECT_EQ(run(BuiltinOp::SQRT, {4.0f, 9.0f}), (std::vector<float>{2.0f, 3.0f}));
    EXPECT_EQ(run(BuiltinOp::RSQRT, {4.0f}), (std::vector<float>{0.5f}));
    EXPECT_EQ(run(BuiltinOp::ABS, {-1.5f, 2.0f}), (std::vector<float>{1.5f, 2.0f}));
    EXPECT_EQ(run(BuiltinOp::NEG, {-1.5f, 2.0f}), (std::vector<float>{1.5f, -2.0f}));
    EXPECT_FLOAT_EQ(run(BuiltinOp::LOG, {1.0f})[0], 0.0f);
    EXPECT_FLOAT_EQ(run(BuiltinOp::EXP, {1.0f})[0], std::exp(1.0f));
    const auto hs = run(BuiltinOp::HARD_SWISH, {1.0f, -4.0f, 4.0f});
    EXPECT_FLOAT_EQ(hs[0], 4.0f / 6.0f);
    EXPECT_EQ(hs[1], 0.0f);
    EXPECT_EQ(hs[2], 4.0f);
    auto n = OpRunner(BuiltinOp::NEG)
                 .input(tensor<int32_t>(DType::Int32, {2}, {5, -7}))
                 .output(DType::Int32)
                 .run1();
    EXPECT_EQ(values<int32_t>(n), (std::vector<int32_t>{-5, 7}));
    // int8 ABS with zero point 0 works on the stored value and saturates -128 to 127.
    auto a = OpRunner(BuiltinOp::ABS)
                 .input(tensor<int8_t>(DType::Int8, {3}, {-128, -5, 3}, quant(0.1f, 0)))
                 .output(DType::Int8, quant(0.1f, 0))
                 .run1();
    EXPECT_EQ(ints<int8_t>(a), (std::vector<int32_t>{127, 5, 3}));
}

}  // namespace
