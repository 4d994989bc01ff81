// Quantization playground (engine/playground): grids from ranges as TFLite's converter picks
// them, quantization, clipping counts, the metrics of pure rounding, calibrations.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/playground/quant_playground.h"

namespace pg = qs::engine::playground;
using qs::model::DType;

namespace {

constexpr double kOneOverSqrt12 = 0.28867513459481287;

}  // namespace

TEST(Playground, DistributionsAreSeededAndShaped) {
    for (auto d : pg::kAllDistributions) {
        const auto a = pg::sampleDistribution(d, 20000, 7);
        const auto b = pg::sampleDistribution(d, 20000, 7);
        const auto c = pg::sampleDistribution(d, 20000, 8);
        ASSERT_EQ(a.size(), 20000u);
        EXPECT_EQ(a, b) << pg::distributionName(d);
        EXPECT_NE(a, c) << pg::distributionName(d);
        EXPECT_EQ(pg::parseDistribution(pg::distributionName(d)), d);
    }
    const auto u = pg::sampleDistribution(pg::Distribution::Uniform, 50000, 1);
    for (float v : u) ASSERT_TRUE(v >= -1.0f && v <= 1.0f);
    // Outliers: a handful far beyond the normal bulk.
    const auto o = pg::sampleDistribution(pg::Distribution::NormalWithOutliers, 100000, 1);
    int far = 0;
    for (float v : o) far += std::fabs(v) >= 8.0f;
    EXPECT_GT(far, 10);
    EXPECT_LT(far, 150);
    // Channels: the last channel's spread is 1/16 of the first's.
    const auto ch = pg::sampleDistribution(pg::Distribution::Uniform, 16000, 3, 16);
    const int32_t shape[] = {16, 1000};
    auto maxAbs = [](const std::vector<float>& v) {
        double m = 0;
        for (float x : v) m = std::max(m, std::fabs(static_cast<double>(x)));
        return m;
    };
    EXPECT_NEAR(maxAbs(pg::channelValues(ch, shape, 0, 0)), 1.0, 0.01);
    EXPECT_NEAR(maxAbs(pg::channelValues(ch, shape, 0, 15)), 1.0 / 16, 0.001);
}

TEST(Playground, GridsFromRangesFollowTheConverter) {
    auto s = pg::gridForRange(-0.5, 1.27, DType::Int8, true);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->zero_point, 0);
    EXPECT_EQ(s->qmin, -127);
    EXPECT_FLOAT_EQ(static_cast<float>(s->scale), 0.01f);
    auto u = pg::gridForRange(-1, 1, DType::UInt8, true);
    ASSERT_TRUE(u);
    EXPECT_EQ(u->zero_point, 128);
    EXPECT_EQ(u->qmin, 1);
    // Asymmetric [0, 6] (ReLU6) in int8: scale 6/255, zero point -128, 0 exactly representable.
    auto a = pg::gridForRange(0, 6, DType::Int8, false);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->zero_point, -128);
    EXPECT_FLOAT_EQ(static_cast<float>(a->scale), 6.0f / 255.0f);
    EXPECT_EQ(pg::quantize(0.0f, *a), -128);
    EXPECT_EQ(pg::quantize(6.0f, *a), 127);
    // A range not containing 0 is extended to it.
    auto p = pg::gridForRange(2, 4, DType::Int8, false);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->zero_point, -128);
    EXPECT_NEAR(p->representableMax(), 4.0, 1e-6);
    // int16 symmetric
    auto i16 = pg::gridForRange(-3, 3, DType::Int16, true);
    ASSERT_TRUE(i16);
    EXPECT_EQ(i16->qmax, 32767);
    EXPECT_EQ(i16->qmin, -32767);
    // Bad inputs fail with a message.
    EXPECT_FALSE(pg::gridForRange(-1, 1, DType::Float32, false));
    EXPECT_FALSE(pg::makeGrid(0.0, 0, DType::Int8, false));
    EXPECT_FALSE(pg::makeGrid(0.1, 300, DType::Int8, false));
    EXPECT_FALSE(pg::gridForRange(-INFINITY, 1, DType::Int8, false));
}

TEST(Playground, QuantizeRoundsHalfAwayFromZeroAndClamps) {
    auto g = pg::makeGrid(0.5, 3, DType::Int8, false);
    ASSERT_TRUE(g);
    EXPECT_EQ(pg::quantize(0.25f, *g), 4);   // 0.5 -> 1, + 3
    EXPECT_EQ(pg::quantize(-0.25f, *g), 2);  // -0.5 -> -1, + 3
    EXPECT_EQ(pg::quantize(1000.0f, *g), 127);
    EXPECT_EQ(pg::quantize(-1000.0f, *g), -128);
    EXPECT_FLOAT_EQ(pg::dequantize(5, *g), 1.0f);
}

// Uniform values on [-1, 1] with the int8 symmetric grid of [-1, 1] (scale 1/127: both ends are
// levels). Every value is rounded to its nearest level and none is clamped, so the error is
// uniform on [-s/2, s/2] and rmse / s tends to 1/sqrt(12). The estimate's relative standard
// deviation is sqrt(Var(e^2)) / E(e^2) / 2 / sqrt(N) = sqrt(1/180) * 12 / 2 / sqrt(N) =
// 0.447 / sqrt(N): for N = 200000, 0.001 relative = 0.0003 LSB. The tolerance 0.0015 LSB is
// five standard deviations (the float32 division adds far less).
TEST(Playground, UniformOnAlignedGridGivesPureRoundingRmse) {
    const auto values = pg::sampleDistribution(pg::Distribution::Uniform, 200000, 11);
    for (auto dtype : {DType::Int8, DType::UInt8, DType::Int16}) {
        auto g = pg::gridForRange(-1, 1, dtype, true);
        ASSERT_TRUE(g);
        auto e = pg::evaluate(values, {}, -1, std::span(&*g, 1));
        ASSERT_TRUE(e) << e.error().message;
        EXPECT_NEAR(e->total.rmse_lsb, kOneOverSqrt12, 0.0015) << qs::model::dtypeName(dtype);
        EXPECT_NEAR(e->total.rmse / g->scale, e->total.rmse_lsb, 1e-9);
        EXPECT_EQ(e->clipped_low + e->clipped_high, 0);
        // Half a step, plus the float32 division's error (2^-24 x 32767 levels ~ 0.002 LSB).
        EXPECT_LE(e->total.max_abs_error, 0.505 * g->scale);
        EXPECT_EQ(e->total.num_elements, 200000);
    }
}

TEST(Playground, ClippingIsCountedAndChangesWithTheZeroPoint) {
    // 1000 values spaced evenly over [0, 1); scale 0.01 and zero point -128 represent
    // [0, 2.55]: nothing clips. Moving the zero point to 0 represents [-1.28, 1.27].
    std::vector<float> values;
    for (int i = 0; i < 1000; ++i) values.push_back(static_cast<float>(i) / 1000.0f);
    auto g = pg::makeGrid(0.01, -128, DType::Int8, false);
    ASSERT_TRUE(g);
    auto e = pg::evaluate(values, {}, -1, std::span(&*g, 1));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->clipped_low + e->clipped_high, 0);
    // zp = 100: [-2.28, 0.27]; values from 0.275 up clamp to 0.27 (0.275f is just above the
    // clip threshold (127 - 100 + 1/2) 0.01 and rounds, tie away from zero, to level 128).
    const pg::Grid moved = pg::withZeroPoint(*g, 100);
    auto m = pg::evaluate(values, {}, -1, std::span(&moved, 1));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->clipped_low, 0);
    EXPECT_EQ(m->clipped_high, 725);  // 0.275 .. 0.999
    EXPECT_NEAR(m->clippedPct(), 72.5, 1e-9);
    EXPECT_NEAR(m->total.max_abs_error, 0.999 - 0.27, 1e-5);
    EXPECT_GT(m->total.rmse, e->total.rmse * 10);
    EXPECT_LT(m->total.sqnr_db, e->total.sqnr_db);
    // Symmetric grids keep their zero point.
    auto s = pg::makeGrid(0.01, 0, DType::Int8, true);
    ASSERT_TRUE(s);
    EXPECT_EQ(pg::withZeroPoint(*s, 50).zero_point, 0);
}

TEST(Playground, PerChannelGridsBeatOneSharedScale) {
    const auto values = pg::sampleDistribution(pg::Distribution::Normal, 16 * 2000, 5, 16);
    const int32_t shape[] = {16, 2000};
    auto shared = pg::calibrate(values, pg::Calibration::MinMax, DType::Int8, true);
    ASSERT_TRUE(shared);
    auto perChannel =
        pg::calibrateChannels(values, shape, 0, pg::Calibration::MinMax, DType::Int8, true);
    ASSERT_TRUE(perChannel);
    ASSERT_EQ(perChannel->size(), 16u);
    auto a = pg::evaluate(values, shape, 0, std::span(&*shared, 1));
    auto b = pg::evaluate(values, shape, 0, *perChannel);
    ASSERT_TRUE(a && b);
    ASSERT_EQ(a->channels.size(), 16u);
    ASSERT_EQ(b->channels.size(), 16u);
    // The smallest channel (spread 1/16) loses about 24 dB (4 bits) with the shared scale.
    EXPECT_GT(b->channels[15].sqnr_db - a->channels[15].sqnr_db, 18.0);
    EXPECT_GT(b->total.sqnr_db, a->total.sqnr_db);
    // In LSB of its own grid every channel rounds the same way.
    for (const auto& c : b->channels) EXPECT_NEAR(c.rmse_lsb, kOneOverSqrt12, 0.03);
    // Mismatched grid count fails.
    EXPECT_FALSE(pg::evaluate(values, shape, 0, std::span(perChannel->data(), 3)));
    const int32_t badShape[] = {3, 3};
    EXPECT_FALSE(pg::evaluate(values, badShape, 0, std::span(&*shared, 1)));
}

TEST(Playground, CalibrationsTradeClippingForResolution) {
    const auto values = pg::sampleDistribution(pg::Distribution::NormalWithOutliers, 100000, 2);
    auto mm = pg::calibrate(values, pg::Calibration::MinMax, DType::Int8, true);
    auto pc = pg::calibrate(values, pg::Calibration::Percentile, DType::Int8, true);
    auto mse = pg::calibrate(values, pg::Calibration::MseOptimal, DType::Int8, true);
    ASSERT_TRUE(mm && pc && mse);
    EXPECT_LT(pc->scale, mm->scale);
    EXPECT_LT(mse->scale, mm->scale);
    auto emm = pg::evaluate(values, {}, -1, std::span(&*mm, 1));
    auto emse = pg::evaluate(values, {}, -1, std::span(&*mse, 1));
    ASSERT_TRUE(emm && emse);
    EXPECT_EQ(emm->clipped_low + emm->clipped_high, 0);
    EXPECT_GT(emse->clipped_low + emse->clipped_high, 0);
    EXPECT_LT(emse->total.mean_squared_error, emm->total.mean_squared_error);
    // Asymmetric percentile takes both tails.
    auto apc = pg::calibrate(values, pg::Calibration::Percentile, DType::UInt8, false,
                             {.percentile = 99.0});
    ASSERT_TRUE(apc);
    EXPECT_NEAR(apc->representableMax(), 2.33, 0.1);
    EXPECT_NEAR(apc->representableMin(), -2.33, 0.1);
    EXPECT_FALSE(pg::calibrate({}, pg::Calibration::MinMax, DType::Int8, true));
}

TEST(Playground, HistogramAlignsBinsWithLevelsAndSplitsClipped) {
    std::vector<float> values = {0.0f, 0.1f, 0.2f, 0.3f, 5.0f};
    auto g = pg::makeGrid(0.1, -128, DType::Int8, false);  // [0, 25.5]
    ASSERT_TRUE(g);
    auto h = pg::histogramOver(values, *g, 0.0, 1.0);
    EXPECT_TRUE(h.grid_aligned);
    EXPECT_NEAR(h.inside.width, 0.1, 1e-8);  // the scale is a float32
    EXPECT_NEAR(h.inside.binCenter(0), 0.0, 1e-8);
    EXPECT_EQ(h.inside.total, 5);
    EXPECT_EQ(h.clipped.total, 0);
    auto small = pg::makeGrid(0.01, -128, DType::Int8, false);  // [0, 2.55]: 5.0 clips
    auto hs = pg::histogramOver(values, *small, -1.0, 6.0);
    EXPECT_FALSE(hs.grid_aligned);  // 700 levels in view
    EXPECT_EQ(hs.inside.counts.size(), 200u);
    EXPECT_EQ(hs.clipped.total, 1);
    EXPECT_EQ(hs.inside.total, 4);
}
