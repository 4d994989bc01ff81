// engine/preprocess/lab.h: statistics and differences against hand values, top-k order and
// dequantization, and evaluatePipeline against LiteRT's golden output on the conformance
// image model whose input is a reproducible photo pipeline.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "engine/io/npy.h"
#include "engine/preprocess/image.h"
#include "engine/preprocess/lab.h"
#include "model/associated_files.h"
#include "model/loader.h"

using namespace qs;
using namespace qs::engine;
using namespace qs::engine::preprocess;

namespace {

FloatImage image(int32_t w, int32_t h, int32_t c, std::vector<float> v) {
    FloatImage f(w, h, c);
    f.values = std::move(v);
    return f;
}

}  // namespace

TEST(PreprocessLab, PlaneStatsPerChannel) {
    // Two pixels, two channels: channel 0 = {1, 3}, channel 1 = {10, 10}.
    const auto s = planeStats(image(2, 1, 2, {1, 10, 3, 10}));
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0].min, 1);
    EXPECT_EQ(s[0].max, 3);
    EXPECT_EQ(s[0].mean, 2);
    EXPECT_EQ(s[0].std, 1);  // population std of {1, 3}
    EXPECT_EQ(s[1].mean, 10);
    EXPECT_EQ(s[1].std, 0);
}

TEST(PreprocessLab, DifferenceByHand) {
    const auto a = image(2, 1, 2, {0, 10, 5, 5});
    const auto b = image(2, 1, 2, {1, 10, 2, 5});
    auto d = difference(a, b, 255);
    ASSERT_TRUE(d.has_value()) << d.error().message;
    EXPECT_EQ(d->abs_max, (std::vector<float>{1, 3}));
    EXPECT_EQ(d->max_abs, 3);
    EXPECT_EQ(d->mean_abs, 1);
    EXPECT_EQ(d->channel_max_abs, (std::vector<double>{3, 0}));
    EXPECT_DOUBLE_EQ(d->rmse, std::sqrt(2.5));
    EXPECT_DOUBLE_EQ(d->psnr_db, 10 * std::log10(255.0 * 255.0 / 2.5));
    auto same = difference(a, a, 1);
    ASSERT_TRUE(same.has_value());
    EXPECT_EQ(same->max_abs, 0);
    EXPECT_TRUE(std::isinf(same->psnr_db));
    auto bad = difference(a, image(1, 1, 2, {0, 0}), 1);
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().message, "cannot compare a 2x1x2 image with a 1x1x2 one");
}

TEST(PreprocessLab, NormalizedPeak) {
    Pipeline p;
    p.norm.preset = NormPreset::ZeroOne;
    EXPECT_FLOAT_EQ(*normalizedPeak(p, 3), 1.0f);
    p.norm.preset = NormPreset::MinusOneOne;
    EXPECT_FLOAT_EQ(*normalizedPeak(p, 3), 2.0f);
    p.norm.preset = NormPreset::Raw;
    EXPECT_FLOAT_EQ(*normalizedPeak(p, 3), 255.0f);
    p.norm.preset = NormPreset::ImageNet;  // the smallest std, 0.224, spans the most
    EXPECT_NEAR(*normalizedPeak(p, 3), 1.0 / 0.224, 1e-5);
}

TEST(PreprocessLab, TopKOrderTiesAndDequantization) {
    TensorValue f(model::DType::Float32, {1, 4});
    const float fv[] = {0.1f, 0.5f, 0.5f, 0.2f};
    std::copy(std::begin(fv), std::end(fv), f.data<float>().begin());
    auto t = topK(f, {}, 3);
    ASSERT_TRUE(t.has_value());
    ASSERT_EQ(t->size(), 3u);
    EXPECT_EQ((*t)[0].index, 1);  // tie: lower index first
    EXPECT_EQ((*t)[1].index, 2);
    EXPECT_EQ((*t)[2].index, 3);
    EXPECT_EQ(topK(f, {}, 10)->size(), 4u);

    TensorValue q(model::DType::UInt8, {1, 3});
    const uint8_t qv[] = {10, 12, 30};
    std::copy(std::begin(qv), std::end(qv), q.data<uint8_t>().begin());
    model::Quantization qp;
    qp.scales = {0.5f};
    qp.zero_points = {10};
    auto u = topK(q, qp, 2);
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ((*u)[0].index, 2);
    EXPECT_EQ((*u)[0].score, 10.0f);
    EXPECT_EQ((*u)[1].score, 1.0f);
}

// The conformance input of mobilenet_v1_0.25_128_quant is coral_sunflower.bmp through
// cv2.resize INTER_AREA as raw pixels; the lab's evaluation of that pipeline must give
// LiteRT's output (xnnpack profile), and the labels packed in the model name the top class.
TEST(PreprocessLab, EvaluateMatchesLiteRt) {
    const std::string dir = std::string(QS_CONFORMANCE_DIR) + "/mobilenet_v1_0.25_128_quant";
    auto m = model::loadModel(dir + "/model.tflite");
    ASSERT_TRUE(m.has_value()) << m.error().message;
    auto img = readImage(std::string(QS_SAMPLES_DIR) + "/images/coral_sunflower.bmp");
    ASSERT_TRUE(img.has_value());
    auto p = parsePipeline("method=opencv-area,norm=input-quant");
    ASSERT_TRUE(p.has_value());
    LabOptions o;
    o.top_k = 5;
    o.profile = RoundingProfile::Xnnpack;  // LiteRT's arithmetic (as conformance_test.cpp)
    int calls = 0;
    o.progress = [&](int done, int total) {
        ++calls;
        EXPECT_LE(done, total);
        return true;
    };
    auto ev = evaluatePipeline(*img, *p, *m, o);
    ASSERT_TRUE(ev.has_value()) << ev.error().message;
    EXPECT_GT(calls, 0);
    EXPECT_EQ(ev->output_classes, 1001);
    ASSERT_TRUE(ev->errors.has_value()) << ev->analysis_error;
    EXPECT_GT(ev->errors->tensors, 0);
    EXPECT_GE(ev->errors->worst_tensor, 0);

    auto golden = readNpy(dir + "/litert/t88.npy");
    ASSERT_TRUE(golden.has_value()) << golden.error().message;
    const auto& outQ = m->main().tensor(m->main().outputs.front()).quantization;
    auto expected = topK(*golden, outQ, 5);
    ASSERT_TRUE(expected.has_value());
    ASSERT_EQ(ev->top.size(), expected->size());
    for (size_t i = 0; i < expected->size(); ++i) {
        EXPECT_EQ(ev->top[i].index, (*expected)[i].index) << i;
        EXPECT_EQ(ev->top[i].score, (*expected)[i].score) << i;
    }
    auto labels = model::outputLabels(*m, 0);
    ASSERT_TRUE(labels.has_value()) << labels.error().message;
    ASSERT_EQ(labels->size(), 1001u);
    EXPECT_NE(labels->at(static_cast<size_t>(ev->top[0].index)).find("daisy"), std::string::npos)
        << labels->at(static_cast<size_t>(ev->top[0].index));

    // Cancelling from the progress callback stops it.
    o.progress = [](int, int) { return false; };
    auto cancelled = evaluatePipeline(*img, *p, *m, o);
    ASSERT_TRUE(cancelled.has_value());
    EXPECT_TRUE(cancelled->cancelled);
    EXPECT_TRUE(cancelled->top.empty());
}
