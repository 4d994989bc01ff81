// Requantization edge cases for every rule. Expected values are derived by hand from the
// upstream definitions (comments show the arithmetic):
//   DoubleRounding: gemmlowp SaturatingRoundingDoublingHighMul (ties -> +inf) then
//                   RoundingDivideByPOT (ties away from zero)
//                   [tensorflow/lite/kernels/internal/common.cc]
//   SingleRounding: (x * m + 2^(30 - shift)) >> (31 - shift)       [TFLITE_SINGLE_ROUNDING,
//   tflite-micro common.cc] RuyX86:         ((x << ls) * m + 2^30) >> 31, then (r + 2^(rs-1)) >> rs
//   [ruy x86 kernels]
#include <gtest/gtest.h>

#include <bit>
#include <climits>

#include "engine/profiles/profile.h"
#include "engine/profiles/requantize.h"
#include "engine/profiles/rule_table.h"

using namespace qs::engine;
using qs::model::BuiltinOp;
using qs::model::DType;

namespace {

constexpr int32_t kHalf = 1 << 30;  // 0.5 in Q0.31

struct Case {
    int32_t x, m;
    int shift;
    int32_t dbl, single, ruy;
};

// clang-format off
const Case kCases[] = {
    // 3 * 0.5 = 1.5 (tie in the high multiply): SRDHM (3*2^30 + 2^30) / 2^31 = 2; single
    // (3*2^30 + 2^30) >> 31 = 2; ruy step 1 the same.
    {3, kHalf, 0, 2, 2, 2},
    // -3 * 0.5 = -1.5: SRDHM (-3*2^30 + 1 - 2^30) / 2^31 = -1.99.. truncated -> -1 (tie up);
    // single (-3*2^30 + 2^30) >> 31 = -2^31 >> 31 = -1; ruy -1.
    {-3, kHalf, 0, -1, -1, -1},
    // -8 * 0.5 / 8 = -0.5 (tie in the shift): SRDHM = -4 exactly; RoundingDivideByPOT(-4, 3):
    // remainder 4, threshold 3 + 1 = 4, not greater -> -4 >> 3 = -1 (away from zero).
    // single: (-8*2^30 + 2^33) >> 34 = 0; ruy: (-4 + 4) >> 3 = 0.
    {-8, kHalf, -3, -1, 0, 0},
    // +0.5 tie: RDBPOT(4, 3): remainder 4 > threshold 3 -> 1; single (2^33 + 2^33) >> 34 = 1; ruy (4+4)>>3 = 1.
    {8, kHalf, -3, 1, 1, 1},
    // Double rounding proper: 1 * 0.5 / 2 = 0.25. SRDHM(1, 2^30) = 0.5 -> 1 (tie up), then
    // RDBPOT(1, 1): remainder 1 > threshold 0 -> 1. single: (2^30 + 2^30) >> 32 = 0.
    // ruy: step 1 gives 1, (1 + 1) >> 1 = 1.
    {1, kHalf, -1, 1, 0, 1},
    // Largest left shift (+7): 3 << 7 = 384, * 0.5 = 192 for every rule
    // (single: (3*2^30 + 2^23) >> 24 = 192 + floor(0.5) = 192).
    {3, kHalf, 7, 192, 192, 192},
    // -3 << 7 = -384 * 0.5 = -192 exactly.
    {-3, kHalf, 7, -192, -192, -192},
    // Largest right shift (-31): INT32_MAX * ~1.0 * 2^-31 ~= 1.0.
    // SRDHM(INT32_MAX, INT32_MAX) = 2147483646; RDBPOT(., 31): remainder 2147483646 > 2^30 - 1 -> 1.
    // single: ((2^31-1)^2 + 2^61) >> 62 = 1; ruy: (2147483646 + 2^30) >> 31 = 1.
    {INT32_MAX, INT32_MAX, -31, 1, 1, 1},
    // 2^30 * 0.5 * 2^-31 = 0.25 -> 0 everywhere.
    {1 << 30, kHalf, -31, 0, 0, 0},
    // Zero multiplier: 0 for any input and shift (SRDHM(x, 0) = 2^30 / 2^31 -> 0).
    {12345, 0, 5, 0, 0, 0},
    {-12345, 0, -31, 0, 0, 0},
    {INT32_MIN, 0, 0, 0, 0, 0},
    // -1000 * 0.75 / 4 = -187.5 (tie in the shift). SRDHM(-1000, 3*2^29) = -750 exactly;
    // RDBPOT(-750, 2): remainder 2, threshold 1 + 1 = 2, not greater -> floor(-187.5) = -188.
    // single: (-3000*2^29 + 2^32) >> 33 = -2992/16 = -187. ruy: step 1 floor(-749.5 + 0.5)
    // = -750, then (-750 + 2) >> 2 = -187.
    {-1000, 3 << 29, -2, -188, -187, -187},
};
// clang-format on

TEST(Rounding, EdgeCasesPerRule) {
    for (const auto& c : kCases) {
        SCOPED_TRACE(testing::Message() << "x=" << c.x << " m=" << c.m << " shift=" << c.shift);
        EXPECT_EQ(rq::multiplyDoubleRounding(c.x, c.m, c.shift), c.dbl);
        EXPECT_EQ(rq::multiplySingleRounding(c.x, c.m, c.shift), c.single);
        EXPECT_EQ(rq::multiplyRuyX86(c.x, c.m, c.shift), c.ruy);
        // The run-time dispatch agrees with the direct calls.
        EXPECT_EQ(requantize(RequantRule::DoubleRounding, c.x, c.m, c.shift), c.dbl);
        EXPECT_EQ(requantize(RequantRule::SingleRounding, c.x, c.m, c.shift), c.single);
        EXPECT_EQ(requantize(RequantRule::RuyX86, c.x, c.m, c.shift), c.ruy);
    }
}

TEST(Rounding, SaturatingDoublingHighMul) {
    // The only overflow: (-2^31)(-2^31) / 2^31 = 2^31 does not fit -> INT32_MAX.
    EXPECT_EQ(rq::saturatingRoundingDoublingHighMul(INT32_MIN, INT32_MIN), INT32_MAX);
    // -2^31 * (2^31 - 1) / 2^31 = -(2^31 - 1) exactly (nudge does not reach the next integer).
    EXPECT_EQ(rq::saturatingRoundingDoublingHighMul(INT32_MIN, INT32_MAX), -INT32_MAX);
    EXPECT_EQ(rq::saturatingRoundingDoublingHighMul(INT32_MAX, INT32_MAX), INT32_MAX - 1);
    EXPECT_EQ(rq::saturatingRoundingDoublingHighMul(0, INT32_MIN), 0);
}

TEST(Rounding, RoundingDivideByPOT) {
    // Ties away from zero: 5/2 = 2.5 -> 3, -5/2 -> -3; 3/4 = 0.75 -> 1; -3/4 -> -1; shift 0 =
    // identity.
    EXPECT_EQ(rq::roundingDivideByPOT(5, 1), 3);
    EXPECT_EQ(rq::roundingDivideByPOT(-5, 1), -3);
    EXPECT_EQ(rq::roundingDivideByPOT(3, 2), 1);
    EXPECT_EQ(rq::roundingDivideByPOT(-3, 2), -1);
    EXPECT_EQ(rq::roundingDivideByPOT(-7, 0), -7);
    EXPECT_EQ(rq::roundingDivideByPOT(INT32_MIN, 31), -1);
    EXPECT_EQ(rq::roundingDivideByPOT(INT32_MAX, 31), 1);
}

TEST(Rounding, Int64MultiplierForInt16x8) {
    // m = 2^30 reduces to (2^30 + 2^15) >> 16 = 16384; total shift 15.
    // 1000 * 0.5: (16384000 + 16384) >> 15 = 500.
    EXPECT_EQ(rq::multiply64(1000, kHalf, 0), 500);
    // 1.5 -> 2 and -1.5 -> -1 (one rounding, half up): (+-49152 + 16384) >> 15.
    EXPECT_EQ(rq::multiply64(3, kHalf, 0), 2);
    EXPECT_EQ(rq::multiply64(-3, kHalf, 0), -1);
    // Multipliers >= 0x7FFF0000 clamp the reduced multiplier to 0x7FFF (~1.0):
    // 2^40 * 0x7FFF / 2^15 = 2^25 * 32767 -> shift -10: 2^15 * 32767 = 1073709056.
    EXPECT_EQ(rq::multiply64(int64_t{1} << 40, INT32_MAX, -10), 1073709056);
}

TEST(Rounding, QuantizeMultiplierEdgeCases) {
    // 0 -> (0, 0).
    auto z = quantizeMultiplier(0.0);
    EXPECT_EQ(z.multiplier, 0);
    EXPECT_EQ(z.shift, 0);
    // 1.0 = 0.5 * 2^1 -> (2^30, 1); 0.5 -> (2^30, 0); 0.75 -> (3 * 2^29, 0).
    EXPECT_EQ(quantizeMultiplier(1.0).multiplier, kHalf);
    EXPECT_EQ(quantizeMultiplier(1.0).shift, 1);
    EXPECT_EQ(quantizeMultiplier(0.5).shift, 0);
    EXPECT_EQ(quantizeMultiplier(0.75).multiplier, 3 << 29);
    // 1 - 2^-40: frexp gives q just below 1, round(q * 2^31) = 2^31 -> halved: (2^30, shift + 1 =
    // 1).
    auto r = quantizeMultiplier(1.0 - 0x1p-40);
    EXPECT_EQ(r.multiplier, kHalf);
    EXPECT_EQ(r.shift, 1);
    // 2^-40: shift -39 < -31 -> flushed to (0, 0).
    auto tiny = quantizeMultiplier(0x1p-40);
    EXPECT_EQ(tiny.multiplier, 0);
    EXPECT_EQ(tiny.shift, 0);
    // 2^-31 is still representable: 0.5 * 2^-30 -> (2^30, -30).
    EXPECT_EQ(quantizeMultiplier(0x1p-31).shift, -30);
    // 2^40: double-rounding build keeps (2^30, 41); the single-rounding build saturates to
    // (2^31 - 1, 30).
    EXPECT_EQ(quantizeMultiplier(0x1p40).shift, 41);
    auto sat = quantizeMultiplier(0x1p40, /*single_rounding=*/true);
    EXPECT_EQ(sat.multiplier, INT32_MAX);
    EXPECT_EQ(sat.shift, 30);
    // round(q * 2^31) rounds half away from zero: 0.5 + 2^-32 -> q*2^31 = 2^30 + 0.5 -> 2^30 + 1.
    EXPECT_EQ(quantizeMultiplier(0.5 + 0x1p-32).multiplier, kHalf + 1);
}

// XNNPACK fp32 requantization: float(x) * scale, rounded to nearest, ties to even
// (google/XNNPACK src/qs8-requantization/requantization-fp32-scalar-*.c).
TEST(Rounding, Fp32TiesToEven) {
    auto fp32 = [](int32_t x, float scale) {
        return requantize(RequantRule::Fp32, x, std::bit_cast<int32_t>(scale), 0);
    };
    EXPECT_EQ(fp32(5, 0.5f), 2);    // 2.5 -> 2 (single rounding gives 3)
    EXPECT_EQ(fp32(7, 0.5f), 4);    // 3.5 -> 4
    EXPECT_EQ(fp32(-5, 0.5f), -2);  // -2.5 -> -2 (single rounding gives -2, double -3)
    EXPECT_EQ(fp32(-7, 0.5f), -4);  // -3.5 -> -4
    EXPECT_EQ(fp32(3, 0.25f), 1);   // 0.75 -> 1
    EXPECT_EQ(requantize(RequantRule::SingleRounding, 5, kHalf, 0), 3);
    // The product is rounded to float first: 16777217 is not a float (2^24 + 1 -> 2^24), so
    // x * 1.0 = 16777216, where exact integer arithmetic would keep the + 1.
    EXPECT_EQ(fp32(16777217, 1.0f), 16777216);
    // 0.1f * 15 = 1.5000000223..., rounded to float 1.5 exactly: a tie, so 2 (even).
    EXPECT_EQ(fp32(15, 0.1f), 2);
    // Saturates instead of overflowing the int conversion.
    EXPECT_EQ(fp32(INT32_MAX, 255.0f), 1 << 30);
    EXPECT_EQ(fp32(INT32_MIN, 255.0f), -(1 << 30));
}

TEST(Rounding, XnnpackScaleIsFloatArithmetic) {
    // input_scale * filter_scale rounded to float, then divided in float.
    const float in = 0.0203320961f, w = 0.00731f, out = 0.0779898688f;
    const float want = (in * w) / out;
    EXPECT_EQ(std::bit_cast<float>(xnnpackScale(in, w, out).multiplier), want);
    EXPECT_EQ(xnnpackScale(in, w, out).shift, 0);
}

TEST(Profiles, NamesRoundTrip) {
    for (auto p : kAllProfiles) EXPECT_EQ(parseProfile(profileName(p)), p);
    EXPECT_EQ(profileName(RoundingProfile::SingleRounding), "single-rounding");
    EXPECT_FALSE(parseProfile("Reference").has_value());
    EXPECT_FALSE(parseProfile("").has_value());
    EXPECT_EQ(profileOracle(RoundingProfile::Builtin), "tflite_builtin");
}

TEST(Profiles, RuleTable) {
    // builtin: 8-bit GEMM ops go through ruy, depthwise and int16x8 keep TFLite's rule.
    EXPECT_EQ(requantRuleFor(RoundingProfile::Builtin, BuiltinOp::CONV_2D, DType::Int8),
              RequantRule::RuyX86);
    EXPECT_EQ(requantRuleFor(RoundingProfile::Builtin, BuiltinOp::FULLY_CONNECTED, DType::UInt8),
              RequantRule::RuyX86);
    EXPECT_EQ(requantRuleFor(RoundingProfile::Builtin, BuiltinOp::CONV_2D, DType::Int16),
              RequantRule::DoubleRounding);
    EXPECT_EQ(requantRuleFor(RoundingProfile::Builtin, BuiltinOp::DEPTHWISE_CONV_2D, DType::Int8),
              RequantRule::DoubleRounding);
    EXPECT_EQ(requantRuleFor(RoundingProfile::Reference, BuiltinOp::ADD, DType::Int8),
              RequantRule::DoubleRounding);
    EXPECT_EQ(requantRuleFor(RoundingProfile::SingleRounding, BuiltinOp::ADD, DType::Int8),
              RequantRule::SingleRounding);
    EXPECT_EQ(requantRuleFor(RoundingProfile::Xnnpack, BuiltinOp::ADD, DType::Int16),
              RequantRule::DoubleRounding);
    // xnnpack: conv-like ops and MEAN in fp32, ADD with XNNPACK's own parameters; int16x8 is
    // not delegated.
    EXPECT_EQ(requantRuleFor(RoundingProfile::Xnnpack, BuiltinOp::CONV_2D, DType::Int8),
              RequantRule::Fp32);
    EXPECT_EQ(requantRuleFor(RoundingProfile::Xnnpack, BuiltinOp::DEPTHWISE_CONV_2D, DType::UInt8),
              RequantRule::Fp32);
    EXPECT_EQ(requantRuleFor(RoundingProfile::Xnnpack, BuiltinOp::FULLY_CONNECTED, DType::Int8),
              RequantRule::Fp32);
    EXPECT_EQ(requantRuleFor(RoundingProfile::Xnnpack, BuiltinOp::ADD, DType::UInt8),
              RequantRule::XnnpackAdd);
    EXPECT_EQ(requantRuleFor(RoundingProfile::Xnnpack, BuiltinOp::CONV_2D, DType::Int16),
              RequantRule::DoubleRounding);
    // Ops without a row fall back to the profile default.
    EXPECT_EQ(requantRuleFor(RoundingProfile::SingleRounding, BuiltinOp::MUL, DType::Int8),
              RequantRule::SingleRounding);
    for (const auto& row : ruleTable()) {
        EXPECT_FALSE(row.upstream.empty());
        EXPECT_FALSE(requantRuleName(row.rule).empty());
    }
}

}  // namespace
