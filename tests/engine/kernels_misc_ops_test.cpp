// ARG_MAX / ARG_MIN (first index on ties), CAST (TFLite's saturating and truncating rules,
// float16 rounding), LOG_SOFTMAX (TFLM fixed point and builtin table), L2_NORMALIZATION,
// GATHER / GATHER_ND out-of-range indices failing at eval.
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

TEST(ArgMinMaxKernel, FirstIndexWinsTies) {
    auto a = OpRunner(BuiltinOp::ARG_MAX, model::ArgMinMaxOptions{DType::Int64})
                 .input(tensor<float>(DType::Float32, {4}, {1, 3, 3, 2}))
                 .input(tensor<int32_t>(DType::Int32, {1}, {0}), true)
                 .output(DType::Int64)
                 .run1();
    EXPECT_EQ(values<int64_t>(a), (std::vector<int64_t>{1}));
    // 2x3, axis 0 (and -2): column 2 ties between rows -> row 0.
    for (int32_t axis : {0, -2}) {
        auto b = OpRunner(BuiltinOp::ARG_MAX, model::ArgMinMaxOptions{DType::Int32})
                     .input(tensor<int8_t>(DType::Int8, {2, 3}, {1, 5, 3, 4, 2, 3}))
                     .input(tensor<int32_t>(DType::Int32, {1}, {axis}), true)
                     .output(DType::Int32)
                     .run1();
        EXPECT_EQ(b.shape(), (std::vector<int32_t>{3}));
        EXPECT_EQ(values<int32_t>(b), (std::vector<int32_t>{1, 0, 0}));
    }
    auto c = OpRunner(BuiltinOp::ARG_MIN, model::ArgMinMaxOptions{DType::Int32})
                 .input(tensor<uint8_t>(DType::UInt8, {2, 3}, {2, 1, 1, 0, 7, 0}))
                 .input(tensor<int32_t>(DType::Int32, {1}, {1}), true)
                 .output(DType::Int32)
                 .run1();
    EXPECT_EQ(values<int32_t>(c), (std::vector<int32_t>{1, 0}));
}

TEST(ArgMinMaxKernel, RejectsMismatchedOutputType) {
    auto r = OpRunner(BuiltinOp::ARG_MAX, model::ArgMinMaxOptions{DType::Int64})
                 .input(tensor<float>(DType::Float32, {2}, {1, 2}))
                 .input(tensor<int32_t>(DType::Int32, {1}, {0}), true)
                 .output(DType::Int32)
                 .run();
    ASSERT_FALSE(r);
}

template <class Out, class In>
std::vector<Out> cast(DType from, DType to, std::vector<In> v) {
    const auto n = static_cast<int32_t>(v.size());
    return values<Out>(OpRunner(BuiltinOp::CAST).input(tensor<In>(from, {n}, v)).output(to).run1());
}

// cast.cc: float -> int32 saturates (NaN -> INT32_MAX), float -> uint8 / int16 clamp, other
// targets truncate toward zero and wrap like the x86 conversion (200.7 -> 200 -> int8 -56).
TEST(CastKernel, FloatToIntegerRules) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    EXPECT_EQ((cast<int32_t, float>(DType::Float32, DType::Int32, {1.9f, -1.9f, 3e9f, -3e9f, nan})),
              (std::vector<int32_t>{1, -1, INT32_MAX, INT32_MIN, INT32_MAX}));
    EXPECT_EQ((cast<uint8_t, float>(DType::Float32, DType::UInt8, {300.0f, -5.0f, 2.7f})),
              (std::vector<uint8_t>{255, 0, 2}));
    EXPECT_EQ((cast<int16_t, float>(DType::Float32, DType::Int16, {40000.0f, -40000.0f, -2.9f})),
              (std::vector<int16_t>{32767, -32768, -2}));
    EXPECT_EQ((cast<int8_t, float>(DType::Float32, DType::Int8, {200.7f, -1.5f})),
              (std::vector<int8_t>{-56, -1}));
    EXPECT_EQ((cast<int64_t, float>(DType::Float32, DType::Int64, {-7.99f, 1e20f})),
              (std::vector<int64_t>{-7, INT64_MIN}));
    EXPECT_EQ((cast<uint8_t, float>(DType::Float32, DType::Bool, {0.0f, -0.0f, 0.1f, nan})),
              (std::vector<uint8_t>{0, 0, 1, 1}));
}

TEST(CastKernel, IntegerAndBool) {
    EXPECT_EQ((cast<int8_t, int32_t>(DType::Int32, DType::Int8, {300, -129})),
              (std::vector<int8_t>{44, 127}));
    EXPECT_EQ((cast<float, uint8_t>(DType::Bool, DType::Float32, {1, 0})),
              (std::vector<float>{1.0f, 0.0f}));
    EXPECT_EQ((cast<uint8_t, int64_t>(DType::Int64, DType::Bool, {0, -3})),
              (std::vector<uint8_t>{0, 1}));
    EXPECT_EQ((cast<float, int64_t>(DType::Int64, DType::Float32, {16777217})),
              (std::vector<float>{16777216.0f}));  // rounds to nearest even
}

// float -> float16 rounds to nearest even: 1 + 2^-11 is a tie -> 1.0 (0x3c00);
// 1 + 3 * 2^-11 -> 1 + 2^-9 (0x3c02); 65520 ties between 65504 and 2^16 -> infinity.
TEST(CastKernel, Float16RoundTrip) {
    EXPECT_EQ((cast<uint16_t, float>(
                  DType::Float32, DType::Float16,
                  {1.0f, 1.0f + std::ldexp(1.0f, -11), 1.0f + 3 * std::ldexp(1.0f, -11), 65520.0f,
                   -2.0f, std::ldexp(1.0f, -24)})),
              (std::vector<uint16_t>{0x3c00, 0x3c00, 0x3c02, 0x7c00, 0xc000, 0x0001}));
    EXPECT_EQ((cast<float, uint16_t>(DType::Float16, DType::Float32, {0x3555, 0x0001, 0xfc00})),
              (std::vector<float>{0.333251953125f, std::ldexp(1.0f, -24),
                                  -std::numeric_limits<float>::infinity()}));
}

std::vector<int32_t> logSoftmax8(RoundingProfile p, float scale, std::vector<int8_t> v) {
    const auto n = static_cast<int32_t>(v.size());
    return ints<int8_t>(OpRunner(BuiltinOp::LOG_SOFTMAX, model::NoOptions{}, p)
                            .input(tensor<int8_t>(DType::Int8, {1, n}, v, quant(scale, 0)))
                            .output(DType::Int8, quant(16.0f / 256, 127))
                            .run1());
}

TEST(LogSoftmaxKernel, Float) {
    auto out = OpRunner(BuiltinOp::LOG_SOFTMAX)
                   .input(tensor<float>(DType::Float32, {1, 3}, {1, 2, 3}))
                   .output(DType::Float32)
                   .run1();
    const double lse = 3.0 + std::log(1.0 + std::exp(-1.0) + std::exp(-2.0));
    const auto v = values<float>(out);
    for (int i = 0; i < 3; ++i) EXPECT_NEAR(v[static_cast<size_t>(i)], (i + 1) - lse, 1e-6);
}

// Four equal logits: log(1/4) = -1.386 = -22.18 output steps -> 127 - 22 = 105 in both the
// fixed-point and the table path. A logit 255 steps below the max (scale 1) is past diff_min
// (-15) and gets the minimum -128; the max alone keeps log-sum 0 -> 127.
TEST(LogSoftmaxKernel, Int8HandValuesBothPaths) {
    for (auto p :
         {RoundingProfile::Reference, RoundingProfile::SingleRounding, RoundingProfile::Builtin}) {
        EXPECT_EQ(logSoftmax8(p, 0.1f, {5, 5, 5, 5}), (std::vector<int32_t>{105, 105, 105, 105}))
            << profileName(p);
        EXPECT_EQ(logSoftmax8(p, 1.0f, {127, -128}), (std::vector<int32_t>{127, -128}))
            << profileName(p);
    }
}

// Across many rows both 8-bit paths stay within one output step of the exact value.
TEST(LogSoftmaxKernel, Int8PathsWithinOneStepOfExact) {
    const float scale = 0.05f;
    for (int shift = 0; shift < 40; ++shift) {
        std::vector<int8_t> row;
        for (int k = 0; k < 6; ++k)
            row.push_back(static_cast<int8_t>((k * 37 + shift * 11) % 120 - 60));
        double mx = -1e9, sum = 0;
        for (auto q : row) mx = std::max(mx, q * double(scale));
        for (auto q : row) sum += std::exp(q * double(scale) - mx);
        for (auto p : {RoundingProfile::Reference, RoundingProfile::Builtin}) {
            const auto got = logSoftmax8(p, scale, row);
            for (size_t k = 0; k < row.size(); ++k) {
                const double exact = (row[k] * double(scale) - mx - std::log(sum)) * 16 + 127;
                EXPECT_LE(std::abs(got[k] - std::clamp(exact, -128.0, 127.0)), 1.0)
                    << profileName(p) << " row " << shift << " k " << k;
            }
        }
    }
}

TEST(LogSoftmaxKernel, RejectsWrongOutputQuantization) {
    auto r = OpRunner(BuiltinOp::LOG_SOFTMAX)
                 .input(tensor<int8_t>(DType::Int8, {1, 2}, {0, 1}, quant(0.1f, 0)))
                 .output(DType::Int8, quant(16.0f / 256, 0))
                 .run();
    ASSERT_FALSE(r);
}

// [3, 4] / 5 = [0.6, 0.8]; int8 output scale 1/128 -> [76.8, 102.4] -> [77, 102]; uint8 with
// zero points 128 -> [205, 230]; an all-zero-point row stays at the zero point.
TEST(L2NormKernel, FloatInt8Uint8) {
    auto f = OpRunner(BuiltinOp::L2_NORMALIZATION)
                 .input(tensor<float>(DType::Float32, {1, 2}, {3, 4}))
                 .output(DType::Float32)
                 .run1();
    EXPECT_EQ(values<float>(f), (std::vector<float>{0.6f, 0.8f}));
    for (auto p :
         {RoundingProfile::Reference, RoundingProfile::SingleRounding, RoundingProfile::Builtin}) {
        auto i8 = OpRunner(BuiltinOp::L2_NORMALIZATION, model::NoOptions{}, p)
                      .input(tensor<int8_t>(DType::Int8, {2, 2}, {3, 4, 0, 0}, quant(0.3f, 0)))
                      .output(DType::Int8, quant(1.0f / 128, 0))
                      .run1();
        EXPECT_EQ(ints<int8_t>(i8), (std::vector<int32_t>{77, 102, 0, 0})) << profileName(p);
    }
    auto u8 = OpRunner(BuiltinOp::L2_NORMALIZATION)
                  .input(tensor<uint8_t>(DType::UInt8, {1, 2}, {131, 132}, quant(0.3f, 128)))
                  .output(DType::UInt8, quant(1.0f / 128, 128))
                  .run1();
    EXPECT_EQ(ints<uint8_t>(u8), (std::vector<int32_t>{205, 230}));
}

TEST(GatherKernel, OutOfRangeIndexFailsAtEval) {
    OpRunner g(BuiltinOp::GATHER, model::GatherOptions{0, 0});
    g.input(tensor<float>(DType::Float32, {3}, {1, 2, 3}))
        .input(tensor<int32_t>(DType::Int32, {2}, {0, 5}))
        .output(DType::Float32);
    ASSERT_TRUE(g.run());
    EXPECT_NE(g.evalError().find("GATHER index 5 is out of range [0, 3)"), std::string::npos)
        << g.evalError();
    OpRunner ok(BuiltinOp::GATHER, model::GatherOptions{0, 0});
    ok.input(tensor<float>(DType::Float32, {3}, {1, 2, 3}))
        .input(tensor<int32_t>(DType::Int32, {2}, {2, 0}))
        .output(DType::Float32);
    auto r = ok.run();
    ASSERT_TRUE(r);
    EXPECT_TRUE(ok.evalError().empty());
    EXPECT_EQ(values<float>(r->front()), (std::vector<float>{3, 1}));

    OpRunner nd(BuiltinOp::GATHER_ND);
    nd.input(tensor<float>(DType::Float32, {2, 2}, {1, 2, 3, 4}))
        .input(tensor<int32_t>(DType::Int32, {2, 2}, {1, 1, 2, 0}))
        .output(DType::Float32);
    ASSERT_TRUE(nd.run());
    EXPECT_NE(nd.evalError().find("GATHER_ND index tuple 1"), std::string::npos) << nd.evalError();
}

}  // namespace
