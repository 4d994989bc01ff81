// engine/analysis/tensor_views: map layout, planes, histograms and density on hand-made
// tensors whose every number can be checked by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include "engine/analysis/float_twin.h"
#include "engine/analysis/tensor_views.h"

namespace qs::engine::analysis {
namespace {

using model::DType;

TensorValue floats(std::vector<int32_t> shape, const std::vector<float>& v) {
    TensorValue t(DType::Float32, std::move(shape));
    std::memcpy(t.raw(), v.data(), v.size() * sizeof(float));
    return t;
}

TensorValue int8s(std::vector<int32_t> shape, const std::vector<int8_t>& v) {
    TensorValue t(DType::Int8, std::move(shape));
    std::memcpy(t.raw(), v.data(), v.size());
    return t;
}

model::Quantization perTensor(float s, int64_t zp) {
    model::Quantization q;
    q.scales = {s};
    q.zero_points = {zp};
    return q;
}

TEST(TensorViewsTest, LayoutNhwcIsOneMapPerChannelWithBatchStackedAsRows) {
    const std::vector<int32_t> shape = {2, 3, 4, 5};
    const MapLayout l = mapLayout(shape, 3);
    EXPECT_EQ(l.channels, 5);
    EXPECT_EQ(l.rows, 6);  // N * H
    EXPECT_EQ(l.cols, 4);  // W
    EXPECT_EQ(l.col_axis, 2);
    EXPECT_EQ(l.row_axis, 1);
    // Row 4 = batch 1, h 1.
    EXPECT_EQ(tensorCoordinates(shape, l, 2, 4, 3), (std::vector<int32_t>{1, 1, 3, 2}));
}

TEST(TensorViewsTest, LayoutOf2dIsRowsByFeaturesAnd1dIsOneRow) {
    const std::vector<int32_t> fc = {7, 10};
    const MapLayout l = mapLayout(fc, 1);
    EXPECT_EQ(l.channels, 1);
    EXPECT_EQ(l.rows, 7);
    EXPECT_EQ(l.cols, 10);
    const std::vector<int32_t> v = {9};
    const MapLayout l1 = mapLayout(v, 0);
    EXPECT_EQ(l1.rows, 1);
    EXPECT_EQ(l1.cols, 9);
}

TEST(TensorViewsTest, PlanesHoldErrorsInFloatAndLsbWithPerChannelRanges) {
    // [1, 1, 2, 2] NHWC: two channels of a 1 x 2 map. Scale 0.5, zp -1.
    const auto q = perTensor(0.5f, -1);
    const auto quant = int8s({1, 1, 2, 2}, {-128, 3, 127, -1});
    // dequantized: (-128+1)*.5 = -63.5, 2, 64, 0
    const auto ref = floats({1, 1, 2, 2}, {-70.f, 2.25f, 64.f, 0.1f});
    auto p = tensorPlanes(quant, q, ref);
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_TRUE(p->quantized);
    EXPECT_EQ(p->layout.channels, 2);
    EXPECT_EQ(p->layout.rows, 1);
    EXPECT_EQ(p->layout.cols, 2);
    // Planes keep the tensor's order; channel 0 holds elements 0 and 2, channel 1 1 and 3.
    const auto r = p->plane(Quantity::Reference);
    EXPECT_EQ(std::vector<float>(r.begin(), r.end()), (std::vector<float>{-70, 2.25f, 64, 0.1f}));
    const auto d = p->plane(Quantity::Dequantized);
    EXPECT_EQ(std::vector<float>(d.begin(), d.end()), (std::vector<float>{-63.5f, 2, 64, 0}));
    EXPECT_EQ(p->index(0, 0, 1), 2);
    EXPECT_EQ(p->index(1, 0, 0), 1);
    EXPECT_FLOAT_EQ(p->plane(Quantity::Error)[0], 6.5f);
    EXPECT_FLOAT_EQ(p->plane(Quantity::ErrorLsb)[0], 13.f);
    EXPECT_FLOAT_EQ(p->plane(Quantity::ErrorLsb)[1], -0.5f);
    EXPECT_EQ(p->stored[0], -128);
    EXPECT_EQ(p->stored[2], 127);
    // |error| runs from 0 to the largest magnitude; per channel too.
    EXPECT_FLOAT_EQ(p->range[static_cast<size_t>(Quantity::AbsError)].max, 6.5f);
    EXPECT_FLOAT_EQ(p->channel_range[static_cast<size_t>(Quantity::AbsError)][1].max, 0.25f);
    EXPECT_EQ(p->at_qmin, 1);
    EXPECT_EQ(p->at_qmax, 1);
    EXPECT_FLOAT_EQ(p->range[0].min, -70.f);
    EXPECT_FLOAT_EQ(p->range[0].max, 64.f);
    EXPECT_FLOAT_EQ(p->channel_range[0][1].min, 0.1f);
    EXPECT_FLOAT_EQ(p->channel_range[0][1].max, 2.25f);
    EXPECT_DOUBLE_EQ(p->representable_min, -63.5);
    EXPECT_DOUBLE_EQ(p->representable_max, 64.0);
    EXPECT_EQ(p->index(1, 0, 1), 3);
}

TEST(TensorViewsTest, ChannelAxisBeforeTheMapAxesIsReadThroughTheLayout) {
    // [1, 2, 1, 3] per-channel along axis 1 (NCHW-like): channel c's map is elements 3c..3c+2.
    model::Quantization q;
    q.scales = {1.f, 2.f};
    q.zero_points = {0, 0};
    q.quantized_dimension = 1;
    const auto quant = int8s({1, 2, 1, 3}, {1, 2, 3, 4, 5, 6});
    const auto ref = floats({1, 2, 1, 3}, {1, 2, 3, 8, 10, 12});
    auto p = tensorPlanes(quant, q, ref);
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->layout.channels, 2);
    EXPECT_EQ(p->layout.rows, 1);
    EXPECT_EQ(p->layout.cols, 3);
    EXPECT_EQ(p->index(1, 0, 2), 5);
    EXPECT_FLOAT_EQ(p->channel_range[0][1].min, 8.f);
    EXPECT_FLOAT_EQ(p->channel_range[0][1].max, 12.f);
    EXPECT_FLOAT_EQ(p->channel_range[0][0].max, 3.f);
    EXPECT_FLOAT_EQ(p->plane(Quantity::Error)[5], 0.f);  // 6 * 2 - 12
}

TEST(TensorViewsTest, PerChannelScaleGivesEachChannelItsOwnLsb) {
    model::Quantization q;
    q.scales = {1.f, 0.25f};
    q.zero_points = {0, 0};
    q.quantized_dimension = 3;
    const auto quant = int8s({1, 1, 1, 2}, {4, 4});
    const auto ref = floats({1, 1, 1, 2}, {3.f, 0.5f});
    auto p = tensorPlanes(quant, q, ref);
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_FLOAT_EQ(p->plane(Quantity::ErrorLsb)[0], 1.f);  // (4 - 3) / 1
    EXPECT_FLOAT_EQ(p->plane(Quantity::ErrorLsb)[1], 2.f);  // (1 - 0.5) / 0.25
}

// The one-pass planes against a plain computation, element by element, on every layout the
// pass walks differently: channels last per-tensor and per-channel, channel axis first (conv
// weights) and in the middle, one map of rows x features per-tensor and per-channel on either
// axis, long runs cut into pieces, NaN references, int8/uint8/int16/int32 and float; each
// time filling the buffers of an earlier result of another size.
TEST(TensorViewsTest, PlanesMatchAPlainComputationOnEveryLayout) {
    struct Case {
        const char* name;
        DType dtype;
        std::vector<int32_t> shape;
        int axis;  // per-channel along this axis, -1 per-tensor
    };
    const Case cases[] = {
        {"NHWC int8", DType::Int8, {1, 37, 29, 24}, -1},
        {"NHWC uint8", DType::UInt8, {2, 9, 7, 5}, -1},
        {"conv weights, axis 0", DType::Int8, {16, 3, 3, 40}, 0},
        {"depthwise weights, axis 3", DType::Int8, {1, 3, 3, 48}, 3},
        {"NCHW-like, axis 1", DType::Int8, {2, 6, 50, 70}, 1},
        {"FC per-tensor, long rows", DType::Int8, {20, 5000}, -1},
        {"FC axis 0", DType::Int8, {30, 3000}, 0},
        {"FC axis 1", DType::Int8, {30, 70}, 1},
        {"vector", DType::Int8, {9000}, -1},
        {"int16", DType::Int16, {1, 10, 10, 8}, -1},
        {"int32", DType::Int32, {64}, -1},
        {"rank 5", DType::Int8, {1, 2, 3, 4, 5}, -1},
        {"float", DType::Float32, {1, 33, 17, 12}, -1},
        {"empty", DType::Int8, {1, 0, 4, 3}, -1},
    };
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> unit(0.f, 1.f);
    std::normal_distribution<float> noise(0.f, 0.05f);
    TensorPlanes previous;
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        TensorValue quant(c.dtype, c.shape), ref(DType::Float32, c.shape);
        const int64_t n = quant.numElements();
        int64_t lo = -128, hi = 127;
        if (c.dtype == DType::UInt8) lo = 0, hi = 255;
        if (c.dtype == DType::Int16) lo = -32768, hi = 32767;
        // Saturation is counted at the dtype's ends; int32 values stay well inside them.
        const int64_t type_lo = c.dtype == DType::Int32 ? INT32_MIN : lo;
        const int64_t type_hi = c.dtype == DType::Int32 ? INT32_MAX : hi;
        if (c.dtype == DType::Int32) lo = -100000, hi = 100000;
        model::Quantization q;
        if (c.dtype != DType::Float32) {
            const int channels = c.axis >= 0 ? c.shape[static_cast<size_t>(c.axis)] : 1;
            q.quantized_dimension = std::max(c.axis, 0);
            for (int k = 0; k < channels; ++k) {
                q.scales.push_back(0.001f + 0.1f * unit(rng));
                q.zero_points.push_back(c.dtype == DType::UInt8 ? 128 : (c.axis < 0 ? 3 : 0));
            }
        }
        std::uniform_int_distribution<int64_t> level(lo, hi);
        float* r = ref.data<float>().data();
        for (int64_t i = 0; i < n; ++i) {
            int64_t v = level(rng);
            const float u = unit(rng);
            v = u < 0.3f ? 0 : (u < 0.35f ? hi : (u < 0.4f ? lo : v));
            r[i] = static_cast<float>(v) * 0.05f + noise(rng);
            if (unit(rng) < 0.01f) r[i] = NAN;
            switch (c.dtype) {
                case DType::Int8:
                    quant.data<int8_t>()[static_cast<size_t>(i)] = static_cast<int8_t>(v);
                    break;
                case DType::UInt8:
                    quant.data<uint8_t>()[static_cast<size_t>(i)] = static_cast<uint8_t>(v);
                    break;
                case DType::Int16:
                    quant.data<int16_t>()[static_cast<size_t>(i)] = static_cast<int16_t>(v);
                    break;
                case DType::Int32:
                    quant.data<int32_t>()[static_cast<size_t>(i)] = static_cast<int32_t>(v);
                    break;
                default:
                    quant.data<float>()[static_cast<size_t>(i)] = r[i] + noise(rng);
                    break;
            }
        }
        auto p = tensorPlanes(quant, q, ref, std::move(previous));
        ASSERT_TRUE(p) << p.error().message;
        ASSERT_EQ(p->size(), n);
        const bool quantized = c.dtype != DType::Float32;
        EXPECT_EQ(p->quantized, quantized);
        // Dequantized as float_twin's dequantizeValue; error and LSB error element by element.
        auto deq = dequantizeValue(quant, q);
        ASSERT_TRUE(deq);
        auto same = [](float a, float b) { return a == b || (std::isnan(a) && std::isnan(b)); };
        int64_t at_min = 0, at_max = 0;
        const int64_t q_channels = static_cast<int64_t>(q.scales.size());
        int64_t q_inner = 1;
        for (size_t d = static_cast<size_t>(q.quantized_dimension) + 1; d < c.shape.size(); ++d)
            q_inner *= c.shape[d];
        for (int64_t i = 0; i < n; ++i) {
            const auto u = static_cast<size_t>(i);
            const float d = deq->data<float>()[u];
            const float e = d - r[i];
            ASSERT_TRUE(same(p->planes[0][u], r[i])) << i;
            ASSERT_TRUE(same(p->planes[1][u], d)) << i;
            ASSERT_TRUE(same(p->planes[2][u], e)) << i;
            float lsb = e;
            if (quantized) {
                const float s =
                    q.scales[q_channels > 1 ? static_cast<size_t>((i / q_inner) % q_channels) : 0];
                lsb = e * static_cast<float>(1.0 / s);
                int64_t v = 0;
                switch (c.dtype) {
                    case DType::Int8:
                        v = quant.data<int8_t>()[u];
                        break;
                    case DType::UInt8:
                        v = quant.data<uint8_t>()[u];
                        break;
                    case DType::Int16:
                        v = quant.data<int16_t>()[u];
                        break;
                    default:
                        v = quant.data<int32_t>()[u];
                        break;
                }
                ASSERT_EQ(p->stored[u], v) << i;
                at_min += v == type_lo, at_max += v == type_hi;
            }
            ASSERT_TRUE(same(p->planes[3][u], lsb)) << i;
        }
        if (quantized) {
            EXPECT_EQ(p->at_qmin, at_min);
            EXPECT_EQ(p->at_qmax, at_max);
        }
        // Each map channel's range over its cells, NaN skipped.
        const MapLayout& l = p->layout;
        for (size_t k = 0; k < kPlanes; ++k) {
            float all_lo = INFINITY, all_hi = -INFINITY;
            ASSERT_EQ(p->channel_range[k].size(), static_cast<size_t>(l.channels));
            for (int ch = 0; ch < l.channels; ++ch) {
                float ch_lo = INFINITY, ch_hi = -INFINITY;
                for (int row = 0; row < l.rows; ++row)
                    for (int col = 0; col < l.cols; ++col) {
                        const float v = p->planes[k][static_cast<size_t>(l.index(ch, row, col))];
                        if (std::isnan(v)) continue;
                        ch_lo = std::min(ch_lo, v), ch_hi = std::max(ch_hi, v);
                    }
                if (ch_lo > ch_hi) ch_lo = ch_hi = 0;
                EXPECT_EQ(p->channel_range[k][static_cast<size_t>(ch)].min, ch_lo)
                    << k << ' ' << ch;
                EXPECT_EQ(p->channel_range[k][static_cast<size_t>(ch)].max, ch_hi)
                    << k << ' ' << ch;
                if (ch_lo <= ch_hi && n > 0)
                    all_lo = std::min(all_lo, ch_lo), all_hi = std::max(all_hi, ch_hi);
            }
            if (n == 0) all_lo = all_hi = 0;
            EXPECT_EQ(p->range[k].min, all_lo) << k;
            EXPECT_EQ(p->range[k].max, all_hi) << k;
        }
        // Histograms: each value in the bin its position gives, clipped values counted.
        const GridHistogram g = valueHistogram(*p);
        std::vector<int64_t> counts(g.histogram.counts.size(), 0);
        int64_t below = 0, above = 0;
        const auto last = static_cast<int64_t>(counts.size()) - 1;
        for (int64_t i = 0; i < n; ++i) {
            if (quantized) below += r[i]<g.clip_low, above += r[i]> g.clip_high;
            if (std::isnan(r[i])) continue;
            const double x = (static_cast<double>(r[i]) - g.histogram.lo) / g.histogram.width;
            ++counts[static_cast<size_t>(
                std::clamp<int64_t>(static_cast<int64_t>(std::floor(x)), 0, last))];
        }
        EXPECT_EQ(g.histogram.counts, counts);
        EXPECT_EQ(g.clipped_low, below);
        EXPECT_EQ(g.clipped_high, above);
        previous = std::move(*p);
    }
}

TEST(TensorViewsTest, SizeMismatchAndNonFloatReferenceFail) {
    const auto q = perTensor(1.f, 0);
    EXPECT_FALSE(tensorPlanes(int8s({2}, {0, 0}), q, floats({3}, {0, 0, 0})));
    EXPECT_FALSE(tensorPlanes(int8s({2}, {0, 0}), q, int8s({2}, {0, 0})));
}

TEST(TensorViewsTest, GridHistogramHasOneBinPerLevelAndCountsClippedValues) {
    // Scale 1, zp 0: levels -128..127. Values: two clipped below, one above, four inside.
    const auto q = perTensor(1.f, 0);
    const auto quant = int8s({7}, {-128, -128, 127, 0, 1, 1, 5});
    const auto ref = floats({7}, {-140.f, -128.6f, 200.f, 0.2f, 1.f, 0.9f, 5.f});
    auto p = tensorPlanes(quant, q, ref);
    ASSERT_TRUE(p);
    const GridHistogram g = valueHistogram(*p);
    EXPECT_TRUE(g.grid_aligned);
    EXPECT_DOUBLE_EQ(g.histogram.width, 1.0);
    // Levels from round(-140) = -140 to 200: 341 bins, centred on integers.
    EXPECT_EQ(g.histogram.counts.size(), 341u);
    EXPECT_DOUBLE_EQ(g.histogram.binCenter(0), -140.0);
    EXPECT_EQ(g.histogram.total, 7);
    EXPECT_EQ(std::accumulate(g.histogram.counts.begin(), g.histogram.counts.end(), int64_t{0}), 7);
    EXPECT_EQ(g.clipped_low, 2);  // -140 and -128.6 are below -128.5
    EXPECT_EQ(g.clipped_high, 1);
    EXPECT_EQ(g.histogram.counts[141], 2u);  // level 1: 1.0 and 0.9
}

TEST(TensorViewsTest, ManyLevelsFallBackToBinsOverTheData) {
    model::Quantization q = perTensor(1e-3f, 0);
    TensorValue quant(DType::Int16, {3});
    const int16_t raw[3] = {-1000, 0, 1000};
    std::memcpy(quant.raw(), raw, sizeof(raw));
    auto p = tensorPlanes(quant, q, floats({3}, {-1.f, 0.f, 1.f}));
    ASSERT_TRUE(p);
    const GridHistogram g = valueHistogram(*p, 512, 50);
    EXPECT_FALSE(g.grid_aligned);
    EXPECT_EQ(g.histogram.counts.size(), 50u);
    EXPECT_EQ(g.histogram.total, 3);
    EXPECT_EQ(g.clipped_low + g.clipped_high, 0);
}

TEST(TensorViewsTest, ErrorHistogramUsesNiceBinsCentredOnMultiples) {
    const auto q = perTensor(0.5f, 0);
    // Errors in LSB: -1, 0, +0.5, +1.
    const auto quant = int8s({4}, {0, 0, 1, 2});
    const auto ref = floats({4}, {0.5f, 0.f, 0.25f, 0.5f});
    auto p = tensorPlanes(quant, q, ref);
    ASSERT_TRUE(p);
    const Histogram h = errorHistogram(*p, 160);
    EXPECT_EQ(h.total, 4);
    EXPECT_LE(h.width, 0.125);
    // The bin holding 0 is centred on 0.
    const auto zero = static_cast<size_t>(std::floor(-h.lo / h.width));
    EXPECT_NEAR(h.binCenter(zero), 0.0, 1e-12);
    EXPECT_EQ(h.counts[zero], 1);
}

TEST(TensorViewsTest, DensityPutsExactValuesOnTheDiagonal) {
    const auto q = perTensor(1.f, 0);
    const auto quant = int8s({3}, {-10, 0, 10});
    const auto ref = floats({3}, {-10.f, 0.f, 10.f});
    auto p = tensorPlanes(quant, q, ref);
    ASSERT_TRUE(p);
    const Density2D d = referenceVsDequantized(*p, 10);
    int64_t sum = 0, diagonal = 0;
    for (int y = 0; y < d.n; ++y)
        for (int x = 0; x < d.n; ++x) {
            const auto c = d.counts[static_cast<size_t>(y * d.n + x)];
            sum += c;
            if (x == y) diagonal += c;
        }
    EXPECT_EQ(sum, 3);
    EXPECT_EQ(diagonal, 3);
}

// Speed of the views' data for a 1 M element tensor (the tensor views must redraw in 50 ms).
TEST(TensorViewsTest, OneMillionElementsTiming) {
    const std::vector<int32_t> shape = {1, 128, 128, 64};
    const int64_t n = 128 * 128 * 64;
    std::vector<int8_t> qv(static_cast<size_t>(n));
    std::vector<float> fv(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        fv[static_cast<size_t>(i)] = static_cast<float>((i * 7919) % 2001 - 1000) * 0.013f;
        qv[static_cast<size_t>(i)] = static_cast<int8_t>(
            std::clamp<long>(std::lround(fv[static_cast<size_t>(i)] / 0.1f), -128, 127));
    }
    const auto quant = int8s(shape, qv);
    const auto ref = floats(shape, fv);
    const auto t0 = std::chrono::steady_clock::now();
    auto p = tensorPlanes(quant, perTensor(0.1f, 0), ref);
    ASSERT_TRUE(p);
    const auto t1 = std::chrono::steady_clock::now();
    const auto g = valueHistogram(*p);
    const auto e = errorHistogram(*p);
    const auto d = referenceVsDequantized(*p);
    const auto t2 = std::chrono::steady_clock::now();
    EXPECT_EQ(g.histogram.total, n);
    EXPECT_EQ(e.total, n);
    EXPECT_GT(g.clipped_low, 0);
    const double planes_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
    const double hist_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
    std::printf(
        "[ timing ] tensor views data, 1M elements: planes %.1f ms, histograms+density "
        "%.1f ms\n",
        planes_ms, hist_ms);
    RecordProperty("planes_ms", std::to_string(planes_ms));
    RecordProperty("histograms_ms", std::to_string(hist_ms));
}

}  // namespace
}  // namespace qs::engine::analysis
