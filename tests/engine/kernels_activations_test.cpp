// LOGISTIC, TANH, the RELU family, LEAKY_RELU, PRELU, HARD_SWISH, ELU and the one-input
// math ops: float paths, TFLM's fixed-point int8 LOGISTIC/TANH against TFLite builtin's
// table, requantizing RELUs with negative ties per profile.
#include <gtest/gtest.h>

#include <algorithm>
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

// ---- quantized HARD_SWISH (reference_ops::HardSwish 16-bit fixed point) ---------------------
// s_in = s_out = 0.05: output multiplier (0.05 / 128) / 0.05 = 2^-7 -> 16384 (Q15), exponent -6;
// reluish multiplier (0.05 / 128) / (3 / 32768) = 4.2667 -> 17476, exponent 3.
// q = 20 (x = 1): hires 2560; preshift scale SRDHM(2560, 16384) = 1280; reluish
// 2560 << 2 = 10240 -> SRDHM(., 17476) = 5461 -> << 1 = 10922 -> (10922 + 32768) >> 1 = 21845;
// 21845 * 1280 / 32768 = 853 (truncated); RoundingDivideByPOT(853, 6) = 13 (x * 4/6 = 13.3).
// q = -20: preshift -1280, reluish 10923, -426 -> -7 (-6.67). q = 80 (x = 4): reluish
// saturates at 32767 -> 5119 -> 80. q = -80: reluish 0 -> 0.
TEST(HardSwishKernel, Int8FixedPointHandValues) {
    for (RoundingProfile p : kAllProfiles) {
        auto y = OpRunner(BuiltinOp::HARD_SWISH, model::NoOptions{}, p)
                     .input(tensor<int8_t>(DType::Int8, {4}, {20, -20, 80, -80}, quant(0.05f, 0)))
                     .output(DType::Int8, quant(0.05f, 0))
                     .run1();
        EXPECT_EQ(ints<int8_t>(y), (std::vector<int32_t>{13, -7, 80, 0})) << profileName(p);
    }
    // uint8 with zero points 128 / 100: the same values shifted.
    auto u = OpRunner(BuiltinOp::HARD_SWISH)
                 .input(tensor<uint8_t>(DType::UInt8, {2}, {148, 108}, quant(0.05f, 128)))
                 .output(DType::UInt8, quant(0.05f, 100))
                 .run1();
    EXPECT_EQ(ints<uint8_t>(u), (std::vector<int32_t>{113, 93}));
}

// Every int8 input lands within one step of the rounded float hard-swish.
TEST(HardSwishKernel, Int8WithinOneStepOfFloat) {
    std::vector<int8_t> q;
    for (int v = -128; v <= 127; ++v) q.push_back(static_cast<int8_t>(v));
    const float s_in = 0.05f, s_out = 0.04f;
    auto y = OpRunner(BuiltinOp::HARD_SWISH)
                 .input(tensor<int8_t>(DType::Int8, {256}, q, quant(s_in, 3)))
                 .output(DType::Int8, quant(s_out, -60))
                 .run1();
    const auto got = ints<int8_t>(y);
    for (size_t i = 0; i < q.size(); ++i) {
        const float x = s_in * static_cast<float>(q[i] - 3);
        const float f = x * std::clamp(x + 3.0f, 0.0f, 6.0f) / 6.0f;
        const int expect = std::clamp(static_cast<int>(std::lround(f / s_out)) - 60, -128, 127);
        EXPECT_LE(std::abs(got[i] - expect), 1) << "q = " << int{q[i]};
    }
}

TEST(HardSwishKernel, RejectsOutputMultiplierAboveOne) {
    // (1 / 128) / 0.001 > 1: TFLite's HardSwishPrepare requires exponent <= 0.
    auto r = OpRunner(BuiltinOp::HARD_SWISH)
                 .input(tensor<int8_t>(DType::Int8, {1}, {1}, quant(1.0f, 0)))
                 .output(DType::Int8, quant(0.001f, 0))
                 .run();
    EXPECT_FALSE(r);
}

// ---- int16 LOGISTIC / TANH (interpolated sigmoid table) ------------------------------------
std::vector<int32_t> act16(BuiltinOp op, RoundingProfile p, float s_in, std::vector<int16_t> q) {
    const auto n = static_cast<int32_t>(q.size());
    return ints<int16_t>(OpRunner(op, model::NoOptions{}, p)
                             .input(tensor<int16_t>(DType::Int16, {n}, q, quant(s_in, 0)))
                             .output(DType::Int16, quant(1.0f / 32768, 0))
                             .run1());
}

// Input scale 2^-12 (multiplier 0 -> 3, shift 0): q = 4096 is x = 1 -> 12288 in 1/(3*4096)
// units; 12288 >> 9 = 24, fraction 0: table[24] = 47911 -> (47911 << 9 + 2^9) >> 10 = 23956
// (sigmoid(1) * 32768 = 23955.3). q = -4096 mirrors: (2^25 - (47911 << 9) + 511) >> 10 = 8812.
// q = 32767: index 191, fraction 509: (65513 << 9) + 509 -> 32757 (sigmoid(8) * 32768 = 32757.0).
TEST(LogisticKernel, Int16TableHandValues) {
    EXPECT_EQ(act16(BuiltinOp::LOGISTIC, RoundingProfile::Reference, 1.0f / 4096,
                    {0, 4096, -4096, 32767}),
              (std::vector<int32_t>{16384, 23956, 8812, 32757}));
    // Non-power-of-two scale 0.001: multiplier 12.288 * 2^11 -> 25165, shift 11; q = 1000
    // -> (1000 * 25165 + 1024) >> 11 = 12288, the same table point as above.
    for (RoundingProfile p : {RoundingProfile::Reference, RoundingProfile::Builtin})
        EXPECT_EQ(act16(BuiltinOp::LOGISTIC, p, 0.001f, {1000, -1000}),
                  (std::vector<int32_t>{23956, 8812}))
            << profileName(p);
}

// TFLite builtin runs gemmlowp's int16 fixed point (optimized_ops::Logistic on
// FixedPoint<int16_t, 3>) for a 2^-12 input scale instead of the table. Expected values:
// tests/engine/int16_unary_oracle.py (gemmlowp's int16 logistic written out in Python).
// They differ from the table's above (23952 vs 23956 at x = 1), which pins the path choice.
TEST(LogisticKernel, Int16BuiltinPowerOfTwoScaleRunsGemmlowpFixedPoint) {
    const std::vector<int16_t> q = {0, 4096, -4096, 2048, 32767, -32768};
    for (RoundingProfile p : {RoundingProfile::Builtin, RoundingProfile::Xnnpack})
        EXPECT_EQ(act16(BuiltinOp::LOGISTIC, p, 1.0f / 4096, q),
                  (std::vector<int32_t>{16384, 23952, 8815, 20400, 32756, 11}))
            << profileName(p);
    // Against the formula: within 7 steps of 32768 * sigmoid(q / 4096) everywhere (int16
    // gemmlowp's exp loses a few low bits; the oracle's worst case over this grid is 6.4).
    std::vector<int16_t> all;
    for (int v = -32768; v <= 32767; v += 7) all.push_back(static_cast<int16_t>(v));
    const auto got = act16(BuiltinOp::LOGISTIC, RoundingProfile::Builtin, 1.0f / 4096, all);
    for (size_t i = 0; i < all.size(); ++i)
        EXPECT_NEAR(got[i], 32768.0 / (1.0 + std::exp(-all[i] / 4096.0)), 7.0) << all[i];
    auto z = OpRunner(BuiltinOp::LOGISTIC)
                 .input(tensor<int16_t>(DType::Int16, {1}, {0}, quant(0.001f, 1)))
                 .output(DType::Int16, quant(1.0f / 32768, 0))
                 .run();
    EXPECT_FALSE(z);  // zero point must be 0
}

// optimized_ops::Tanh (int16): 2^-12 reads the input as F3; 2^-11 (input_left_shift 1)
// doubles it first with saturation (20000 -> 32767). int16_unary_oracle.py values.
TEST(TanhKernel, Int16BuiltinPowerOfTwoScalesRunGemmlowpFixedPoint) {
    EXPECT_EQ(act16(BuiltinOp::TANH, RoundingProfile::Builtin, 1.0f / 4096,
                    {0, 4096, -4096, 2048, 32767, -32768}),
              (std::vector<int32_t>{0, 24964, -24964, 15136, 32767, -32767}));
    EXPECT_EQ(act16(BuiltinOp::TANH, RoundingProfile::Builtin, 1.0f / 2048,
                    {0, 2048, -2048, 1000, 20000, -20000}),
              (std::vector<int32_t>{0, 24964, -24964, 14836, 32767, -32767}));
    // The TFLM table at the same point gives 24956: the profiles part here.
    EXPECT_EQ(act16(BuiltinOp::TANH, RoundingProfile::Reference, 1.0f / 2048, {2048}),
              (std::vector<int32_t>{24956}));
}

// tanh(x) = 2 sigmoid(2x) - 1 on the same table, index = |x| >> 8: q = 4096 (x = 1) -> 48,
// table[48] = 57724 -> ((57724 << 8) - 2^23 + 2^7) >> 8 = 24956 (tanh(1) * 32768 = 24955.9);
// negative inputs mirror to -24956. Scale 2^-11 (left shift 1) doubles the multiplier.
TEST(TanhKernel, Int16TableHandValues) {
    EXPECT_EQ(act16(BuiltinOp::TANH, RoundingProfile::Reference, 1.0f / 4096, {0, 4096, -4096}),
              (std::vector<int32_t>{0, 24956, -24956}));
    EXPECT_EQ(act16(BuiltinOp::TANH, RoundingProfile::SingleRounding, 1.0f / 2048, {2048}),
              (std::vector<int32_t>{24956}));
    EXPECT_EQ(act16(BuiltinOp::TANH, RoundingProfile::Builtin, 0.001f, {1000, -1000}),
              (std::vector<int32_t>{24956, -24956}));
}

// ---- int8 ABS / RSQRT / SQRT / LOG as tensorflow/lite/kernels/elementwise.cc ----------------
TEST(UnaryMathKernels, Int8AbsRescales) {
    // s 0.5 zp -10 -> s 0.25 zp -128: |q + 10| * 2 - 128.
    auto a = OpRunner(BuiltinOp::ABS)
                 .input(tensor<int8_t>(DType::Int8, {4}, {-14, -10, 0, 127}, quant(0.5f, -10)))
                 .output(DType::Int8, quant(0.25f, -128))
                 .run1();
    EXPECT_EQ(ints<int8_t>(a), (std::vector<int32_t>{-120, -128, -108, 127}));
    // Equal scales: no rescale, only the zero points move.
    auto b = OpRunner(BuiltinOp::ABS)
                 .input(tensor<int8_t>(DType::Int8, {2}, {0, 9}, quant(0.5f, 3)))
                 .output(DType::Int8, quant(0.5f, -2))
                 .run1();
    EXPECT_EQ(ints<int8_t>(b), (std::vector<int32_t>{1, 4}));
    auto c = OpRunner(BuiltinOp::ABS)
                 .input(tensor<int16_t>(DType::Int16, {2}, {-300, 7}, quant(0.5f, 0)))
                 .output(DType::Int16, quant(0.25f, 0))
                 .run1();
    EXPECT_EQ(ints<int16_t>(c), (std::vector<int32_t>{600, 14}));
}

// s_in 1/16, s_out 1/64: rsqrt(q / 16) * 64 = 256 / sqrt(q); q = 0 gives the maximum.
TEST(UnaryMathKernels, Int8RsqrtInteger) {
    auto r = OpRunner(BuiltinOp::RSQRT)
                 .input(tensor<int8_t>(DType::Int8, {6}, {16, 64, 4, 0, 9, 25}, quant(0.0625f, 0)))
                 .output(DType::Int8, quant(1.0f / 64, 0))
                 .run1();
    EXPECT_EQ(ints<int8_t>(r), (std::vector<int32_t>{64, 32, 127, 127, 85, 51}));
    // Zero points: q = 26 is value 16 -> 64 - 20.
    auto z = OpRunner(BuiltinOp::RSQRT)
                 .input(tensor<int8_t>(DType::Int8, {1}, {26}, quant(0.0625f, 10)))
                 .output(DType::Int8, quant(1.0f / 64, -20))
                 .run1();
    EXPECT_EQ(ints<int8_t>(z), (std::vector<int32_t>{44}));
    OpRunner neg(BuiltinOp::RSQRT);
    neg.input(tensor<int8_t>(DType::Int8, {2}, {16, 9}, quant(0.0625f, 10)))
        .output(DType::Int8, quant(1.0f / 64, 0));
    ASSERT_TRUE(neg.run());
    EXPECT_NE(neg.evalError().find("positive"), std::string::npos);
}

// SqrtEvalQuantized truncates: q = 12 at s 0.1 is sqrt(1.2) / 0.1 = 10.95 -> 10 (not 11).
TEST(UnaryMathKernels, Int8SqrtTruncates) {
    auto s = OpRunner(BuiltinOp::SQRT)
                 .input(tensor<int8_t>(DType::Int8, {3}, {12, 20, 0}, quant(0.1f, 0)))
                 .output(DType::Int8, quant(0.1f, 5))
                 .run1();
    EXPECT_EQ(ints<int8_t>(s), (std::vector<int32_t>{15, 19, 5}));
    OpRunner neg(BuiltinOp::SQRT);
    neg.input(tensor<int8_t>(DType::Int8, {1}, {-1}, quant(0.1f, 0)))
        .output(DType::Int8, quant(0.1f, 0));
    ASSERT_TRUE(neg.run());
    EXPECT_FALSE(neg.evalError().empty());
}

// LogLUTPrepare: log(x) for x > 0, else the lowest output ((-128 - zp) * s, float).
TEST(UnaryMathKernels, Int8LogTable) {
    auto l = OpRunner(BuiltinOp::LOG)
                 .input(tensor<int8_t>(DType::Int8, {4}, {10, 27, 0, -5}, quant(0.1f, 0)))
                 .output(DType::Int8, quant(0.1f, 20))
                 .run1();
    // log(1) = 0 -> 20; log(2.7) = 0.993 -> 9.93 -> 10 + 20 = 30; x <= 0 -> -128.
    EXPECT_EQ(ints<int8_t>(l), (std::vector<int32_t>{20, 30, -128, -128}));
}

// ---- int16 RSQRT / LOG: elementwise.cc's interpolated 513-entry table ----------------------
// Expected values: tests/engine/int16_unary_oracle.py (LUTPopulateInt16<float> and LUTLookup
// in float32). The table interpolates, so steep regions stay off the ideal value: rsqrt at
// q = 1024 (x = 0.25) is 16378, not 16384; log at x = 1 is -3, not 0.
TEST(UnaryMathKernels, Int16RsqrtTable) {
    const std::vector<int16_t> q = {1, 100, 1024, 4096, 4097, 16384, 32767};
    for (RoundingProfile p : kAllProfiles) {
        auto r = OpRunner(BuiltinOp::RSQRT, model::NoOptions{}, p)
                     .input(tensor<int16_t>(DType::Int16, {7}, q, quant(1.0f / 4096, 0)))
                     .output(DType::Int16, quant(1.0f / 8192, 0))
                     .run1();
        EXPECT_EQ(ints<int16_t>(r),
                  (std::vector<int32_t>{32767, 32767, 16378, 8192, 8191, 4096, 2896}))
            << profileName(p);
    }
    // RsqrtEvalQuantizedInt16 fails the op on any negative input.
    OpRunner neg(BuiltinOp::RSQRT);
    neg.input(tensor<int16_t>(DType::Int16, {2}, {5, -1}, quant(1.0f / 4096, 0)))
        .output(DType::Int16, quant(1.0f / 8192, 0));
    ASSERT_TRUE(neg.run());
    EXPECT_FALSE(neg.evalError().empty());
    // int16 needs zero points 0 (GenericPrepare).
    EXPECT_FALSE(OpRunner(BuiltinOp::RSQRT)
                     .input(tensor<int16_t>(DType::Int16, {1}, {5}, quant(1.0f / 4096, 3)))
                     .output(DType::Int16, quant(1.0f / 8192, 0))
                     .run());
}

TEST(UnaryMathKernels, Int16LogTable) {
    auto l = OpRunner(BuiltinOp::LOG)
                 .input(tensor<int16_t>(DType::Int16, {8}, {1, 100, 1000, 2718, 5000, 32767, 0, -7},
                                        quant(0.001f, 0)))
                 .output(DType::Int16, quant(1.0f / 4096, 0))
                 .run1();
    EXPECT_EQ(ints<int16_t>(l),
              (std::vector<int32_t>{-27958, -12645, -3, 4095, 6592, 14293, -28113, -28368}));
}

}  // namespace
