// Error analysis: metrics against hand-computed values, the float twin, local vs accumulated
// error on a three-op chain known by hand, pairing of the conformance float/quantized pairs,
// and the report formats.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>

#include "engine/analysis/error_analysis.h"
#include "engine/analysis/float_twin.h"
#include "engine/analysis/metrics.h"
#include "engine/analysis/pairing.h"
#include "engine/analysis/report.h"
#include "engine/executor.h"
#include "engine/io/npy.h"
#include "model/loader.h"
#include "model/test_model_factory.h"

namespace qs::engine::analysis {
namespace {

namespace fs = std::filesystem;
namespace mt = qs::model::testing;
using model::DType;

TensorValue floats(std::vector<int32_t> shape, std::vector<float> v) {
    TensorValue t(DType::Float32, std::move(shape));
    std::copy(v.begin(), v.end(), t.data<float>().begin());
    return t;
}

TensorValue int8s(std::vector<int32_t> shape, std::vector<int8_t> v) {
    TensorValue t(DType::Int8, std::move(shape));
    std::copy(v.begin(), v.end(), t.data<int8_t>().begin());
    return t;
}

model::Quantization perTensor(float scale, int64_t zp) {
    model::Quantization q;
    q.scales = {scale};
    q.zero_points = {zp};
    return q;
}

// q = [2, -4, 127, 0] at scale 0.5 -> [1, -2, 63.5, 0]; f = [1.25, -2, 63, 0.125];
// d = q - f = [-0.25, 0, 0.5, -0.125] (every value exact in binary).
TEST(AnalysisMetrics, HandComputedPerTensor) {
    const auto q = int8s({2, 2}, {2, -4, 127, 0});
    const auto f = floats({2, 2}, {1.25f, -2.0f, 63.0f, 0.125f});
    auto acc = compareTensor(q, perTensor(0.5f, 0), f);
    ASSERT_TRUE(acc) << acc.error().message;
    const auto m = finalize(acc->total);
    EXPECT_EQ(m.num_elements, 4);
    // mean = 0.125 / 4 = 0.03125; deviations -0.28125, -0.03125, 0.46875, -0.15625.
    EXPECT_DOUBLE_EQ(m.mean_error, 0.03125);
    const double var =
        (0.28125 * 0.28125 + 0.03125 * 0.03125 + 0.46875 * 0.46875 + 0.15625 * 0.15625) / 4;
    EXPECT_DOUBLE_EQ(m.stddev, std::sqrt(var));
    EXPECT_DOUBLE_EQ(m.max_abs_error, 0.5);
    // sum d^2 = 0.0625 + 0.25 + 0.015625 = 0.328125.
    EXPECT_DOUBLE_EQ(m.mean_squared_error, 0.328125 / 4);
    EXPECT_DOUBLE_EQ(m.rmse, std::sqrt(0.328125 / 4));
    EXPECT_DOUBLE_EQ(m.rmse_lsb, std::sqrt(0.328125 / 4) / 0.5);
    // sum f^2 = 1.5625 + 4 + 3969 + 0.015625 = 3974.578125.
    EXPECT_NEAR(m.sqnr_db, 10 * std::log10(3974.578125 / 0.328125), 1e-12);
    // <q,f> = 1.25 + 4 + 4000.5 + 0 = 4005.75; |q|^2 = 1 + 4 + 4032.25 = 4037.25.
    EXPECT_NEAR(m.cosine_similarity, 4005.75 / std::sqrt(4037.25 * 3974.578125), 1e-15);
    EXPECT_NEAR(m.relative_l2, std::sqrt(0.328125 / 3974.578125), 1e-15);
    EXPECT_DOUBLE_EQ(m.saturation_pct, 25.0);  // 127 is int8's qmax
    EXPECT_DOUBLE_EQ(m.float_min, -2.0);
    EXPECT_DOUBLE_EQ(m.float_max, 63.0);
    EXPECT_DOUBLE_EQ(m.representable_min, -64.0);
    EXPECT_DOUBLE_EQ(m.representable_max, 63.5);
    EXPECT_DOUBLE_EQ(m.out_of_range_pct, 0.0);

    // Channels along the last axis: {-0.25, 0.5} and {0, -0.125}.
    ASSERT_EQ(acc->channels.size(), 2u);
    const auto c0 = finalize(acc->channels[0]);
    const auto c1 = finalize(acc->channels[1]);
    EXPECT_DOUBLE_EQ(c0.mean_error, 0.125);
    EXPECT_DOUBLE_EQ(c0.stddev, 0.375);
    EXPECT_DOUBLE_EQ(c0.max_abs_error, 0.5);
    EXPECT_DOUBLE_EQ(c0.saturation_pct, 50.0);
    EXPECT_DOUBLE_EQ(c1.mean_error, -0.0625);
    EXPECT_DOUBLE_EQ(c1.stddev, 0.0625);
    EXPECT_DOUBLE_EQ(c1.mean_squared_error, 0.015625 / 2);
}

// Tensors of 64+ rows with channels last take the one-pass statistics (metrics.cpp: sums of
// d - k, k the channel's first d). Checked against a plain two-pass computation in long
// double, with the first row an outlier far from the rest, which is the shift's worst case.
TEST(AnalysisMetrics, OnePassStatisticsMatchTwoPass) {
    constexpr int kRows = 500, kChannels = 3;
    std::vector<int8_t> raw(kRows * kChannels);
    std::vector<float> ref(raw.size());
    for (int r = 0; r < kRows; ++r)
        for (int c = 0; c < kChannels; ++c) {
            const size_t i = static_cast<size_t>(r * kChannels + c);
            raw[i] = static_cast<int8_t>((r * 37 + c * 11) % 200 - 100);
            // d = q - f: 1000 on row 0 of channel 0, otherwise 100 plus a few hundredths (a
            // mean far larger than the spread: sum d^2 - (sum d)^2 / n would cancel badly).
            const float q = 0.05f * raw[i];
            const float d =
                r == 0 && c == 0 ? 1000.0f : 100.0f + 0.01f * static_cast<float>((r + c) % 7);
            ref[i] = q - d;
        }
    const auto q = int8s({kRows, kChannels}, raw);
    const auto f = floats({kRows, kChannels}, ref);
    auto acc = compareTensor(q, perTensor(0.05f, 0), f);
    ASSERT_TRUE(acc) << acc.error().message;
    ASSERT_EQ(acc->channels.size(), static_cast<size_t>(kChannels));
    for (int c = 0; c < kChannels; ++c) {
        long double sum = 0, m2 = 0;
        std::vector<long double> d(kRows);
        for (int r = 0; r < kRows; ++r) {
            const size_t i = static_cast<size_t>(r * kChannels + c);
            const auto qv = static_cast<float>(static_cast<double>(0.05f) * raw[i]);
            d[static_cast<size_t>(r)] = static_cast<long double>(qv) - ref[i];
            sum += d[static_cast<size_t>(r)];
        }
        const long double mean = sum / kRows;
        for (long double x : d) m2 += (x - mean) * (x - mean);
        const auto m = finalize(acc->channels[static_cast<size_t>(c)]);
        EXPECT_NEAR(m.mean_error, static_cast<double>(mean),
                    1e-12 * std::fabs(double(mean)) + 1e-15)
            << c;
        const double sd = std::sqrt(static_cast<double>(m2 / kRows));
        EXPECT_NEAR(m.stddev, sd, 1e-12 * sd) << c;
    }
}

// Every layout the row passes take (fewer and more rows than the one-pass threshold, channel
// counts around the 8-wide tiles, more rows than a tile block and than 255 saturation strips),
// every fused dtype, per-tensor and per-channel scales, and a zero point too large for float
// dequantization: every per-channel metric against an element-by-element long double
// computation. Saturated integers and references outside the representable range are planted.
TEST(AnalysisMetrics, RowPassesMatchElementByElement) {
    struct Case {
        int rows, channels;
        DType dtype;
        bool per_channel;
        int64_t zero_point;
    };
    const std::vector<Case> cases = {
        {1, 1, DType::Int8, false, -3},         {5, 3, DType::Int8, false, 7},
        {63, 9, DType::UInt8, false, 128},      {64, 3, DType::Int8, true, -1},
        {200, 8, DType::Int16, false, 0},       {300, 17, DType::Int8, true, 5},
        {700, 128, DType::Int8, false, -128},   {70000, 1, DType::UInt8, false, 3},
        {150, 24, DType::Int16, true, 1 << 24}, {90, 13, DType::Int32, false, 2},
        {130, 11, DType::Float32, false, 0},
    };
    uint32_t seed = 12345;
    auto next = [&] {
        seed = seed * 1664525u + 1013904223u;
        return seed >> 8;
    };
    for (const auto& k : cases) {
        SCOPED_TRACE(::testing::Message() << k.rows << "x" << k.channels << " "
                                          << model::dtypeName(k.dtype) << " zp " << k.zero_point);
        const std::vector<int32_t> shape{k.rows, k.channels};
        const size_t n = static_cast<size_t>(k.rows) * static_cast<size_t>(k.channels);
        const bool quantized = k.dtype != DType::Float32;
        model::Quantization q;
        if (quantized) {
            for (int c = 0; c < (k.per_channel ? k.channels : 1); ++c) {
                q.scales.push_back(0.01f + 0.003f * static_cast<float>(c % 5));
                q.zero_points.push_back(k.zero_point);
            }
            q.quantized_dimension = 1;
        }
        // The stored integers' range (float32: only the 32-bit sampling below uses it).
        using Range = std::pair<int64_t, int64_t>;
        const auto [qmin, qmax] = k.dtype == DType::Int8    ? Range{-128, 127}
                                  : k.dtype == DType::UInt8 ? Range{0, 255}
                                  : k.dtype == DType::Int16 ? Range{-32768, 32767}
                                                            : Range{INT32_MIN, INT32_MAX};
        TensorValue qv(k.dtype, shape), ref(DType::Float32, shape);
        std::vector<double> deq(n);
        std::vector<int64_t> raw(n);
        for (size_t i = 0; i < n; ++i) {
            const int c = static_cast<int>(i % static_cast<size_t>(k.channels));
            int64_t r = 0;
            const uint32_t pick = next() % 16;
            if (k.dtype == DType::Int32 || k.dtype == DType::Float32)
                r = static_cast<int64_t>(next() % 2001) - 1000 +
                    (pick == 0 && k.dtype == DType::Int32 ? qmax - 1000 : 0);
            else if (pick < 2)
                r = pick == 0 ? qmin : qmax;
            else
                r = qmin + static_cast<int64_t>(next() % static_cast<uint32_t>(qmax - qmin + 1));
            raw[i] = r;
            switch (k.dtype) {
                case DType::Int8:
                    qv.data<int8_t>()[i] = static_cast<int8_t>(r);
                    break;
                case DType::UInt8:
                    qv.data<uint8_t>()[i] = static_cast<uint8_t>(r);
                    break;
                case DType::Int16:
                    qv.data<int16_t>()[i] = static_cast<int16_t>(r);
                    break;
                case DType::Int32:
                    qv.data<int32_t>()[i] = static_cast<int32_t>(r);
                    break;
                default:
                    qv.data<float>()[i] = static_cast<float>(r) * 0.37f;
                    break;
            }
            const double s = quantized ? q.scale(k.per_channel ? static_cast<size_t>(c) : 0) : 1;
            deq[i] = quantized ? static_cast<float>(s * static_cast<double>(r - k.zero_point))
                               : qv.data<float>()[i];
            // Mostly close to q, sometimes far outside the representable range.
            const double noise = (static_cast<double>(next() % 1000) - 500) * 1e-4 * s;
            const double far = pick == 2 ? 300 * s : pick == 3 ? -300 * s : 0;
            ref.data<float>()[i] = static_cast<float>(deq[i] + noise + far);
        }
        auto acc = compareTensor(qv, q, ref);
        ASSERT_TRUE(acc) << acc.error().message;
        ASSERT_EQ(acc->channels.size(), static_cast<size_t>(k.channels));
        for (int c = 0; c < k.channels; ++c) {
            SCOPED_TRACE(::testing::Message() << "channel " << c);
            const double s = quantized ? q.scale(k.per_channel ? static_cast<size_t>(c) : 0) : 1;
            const double lo = (static_cast<double>(qmin) - static_cast<double>(k.zero_point)) * s;
            const double hi = (static_cast<double>(qmax) - static_cast<double>(k.zero_point)) * s;
            long double sd = 0, sd2 = 0, sf2 = 0, sq2 = 0, sqf = 0, mx = 0;
            double fmin = INFINITY, fmax = -INFINITY;
            int64_t sat = 0, oor = 0;
            for (int r = 0; r < k.rows; ++r) {
                const size_t i = static_cast<size_t>(r) * static_cast<size_t>(k.channels) +
                                 static_cast<size_t>(c);
                const double f = ref.data<float>()[i];
                const long double d = static_cast<long double>(deq[i]) - f;
                sd += d, sd2 += d * d, sf2 += static_cast<long double>(f) * f;
                sq2 += static_cast<long double>(deq[i]) * deq[i];
                sqf += static_cast<long double>(deq[i]) * f;
                mx = std::max(mx, std::fabs(d));
                fmin = std::min(fmin, f), fmax = std::max(fmax, f);
                sat += raw[i] == qmin || raw[i] == qmax;
                oor += f < lo || f > hi;
            }
            const long double nr = k.rows, mean = sd / nr;
            long double m2 = 0;
            for (int r = 0; r < k.rows; ++r) {
                const size_t i = static_cast<size_t>(r) * static_cast<size_t>(k.channels) +
                                 static_cast<size_t>(c);
                const long double e =
                    static_cast<long double>(deq[i]) - ref.data<float>()[i] - mean;
                m2 += e * e;
            }
            const auto m = finalize(acc->channels[static_cast<size_t>(c)]);
            auto near = [](double got, long double want, double rel) {
                return std::fabs(got - static_cast<double>(want)) <=
                       rel * std::fabs(static_cast<double>(want)) + 1e-300;
            };
            EXPECT_TRUE(near(m.mean_error, mean, 1e-9)) << m.mean_error << " " << double(mean);
            EXPECT_TRUE(near(m.stddev, std::sqrt(m2 / nr), 1e-9)) << m.stddev;
            EXPECT_TRUE(near(m.mean_squared_error, sd2 / nr, 1e-12)) << m.mean_squared_error;
            EXPECT_EQ(m.max_abs_error, static_cast<double>(mx));
            if (quantized)
                EXPECT_TRUE(near(m.rmse_lsb, std::sqrt(sd2 / nr) / s, 1e-12)) << m.rmse_lsb;
            else
                EXPECT_TRUE(std::isnan(m.rmse_lsb));
            EXPECT_TRUE(near(m.sqnr_db, 10 * std::log10(sf2 / sd2), 1e-12)) << m.sqnr_db;
            const long double cosine = sqf / (std::sqrt(sq2) * std::sqrt(sf2));
            EXPECT_NEAR(1 - m.cosine_similarity, static_cast<double>(1 - cosine),
                        1e-9 * static_cast<double>(1 - cosine) + 1e-15);
            EXPECT_EQ(m.float_min, fmin);
            EXPECT_EQ(m.float_max, fmax);
            if (quantized) {
                EXPECT_DOUBLE_EQ(m.saturation_pct, 100.0 * static_cast<double>(sat) / k.rows);
                EXPECT_DOUBLE_EQ(m.out_of_range_pct, 100.0 * static_cast<double>(oor) / k.rows);
            }
        }
    }
}

TEST(AnalysisMetrics, PerChannelScalesAndOutOfRange) {
    // Per-channel along axis 0 with scales 1 and 0.25, zero points 0 and 10.
    model::Quantization q;
    q.scales = {1.0f, 0.25f};
    q.zero_points = {0, 10};
    q.quantized_dimension = 0;
    const auto v = int8s({2, 2}, {-128, 5, 14, 30});  // -> [-128, 5], [1, 5]
    const auto f = floats({2, 2}, {-130, 5.5f, 1, 40});
    auto acc = compareTensor(v, q, f);
    ASSERT_TRUE(acc);
    ASSERT_EQ(acc->channels.size(), 2u);
    const auto c0 = finalize(acc->channels[0]);
    const auto c1 = finalize(acc->channels[1]);
    EXPECT_DOUBLE_EQ(c0.mean_error, (2 - 0.5) / 2);
    EXPECT_DOUBLE_EQ(c0.rmse_lsb, std::sqrt((4 + 0.25) / 2));  // scale 1
    EXPECT_DOUBLE_EQ(c0.representable_min, -128);
    EXPECT_DOUBLE_EQ(c0.out_of_range_pct, 50);  // -130 < -128
    EXPECT_DOUBLE_EQ(c0.saturation_pct, 50);
    EXPECT_DOUBLE_EQ(c1.rmse_lsb, std::sqrt(0 + (35.0 / 0.25) * (35.0 / 0.25) / 2));
    EXPECT_DOUBLE_EQ(c1.representable_max, (127 - 10) * 0.25);
    EXPECT_DOUBLE_EQ(c1.out_of_range_pct, 50);  // 40 > 29.25
    // The tensor row covers both channels.
    const auto t = finalize(acc->total);
    EXPECT_DOUBLE_EQ(t.representable_min, -128);
    EXPECT_DOUBLE_EQ(t.representable_max, 127);
    EXPECT_DOUBLE_EQ(t.out_of_range_pct, 50);
}

TEST(AnalysisMetrics, ExactMatchAndZeroReference) {
    const auto q = floats({3}, {0, 0, 0});
    auto acc = compareTensor(q, model::Quantization{}, floats({3}, {0, 0, 0}));
    ASSERT_TRUE(acc);
    const auto m = finalize(acc->total);
    EXPECT_TRUE(std::isinf(m.sqnr_db) && m.sqnr_db > 0);
    EXPECT_EQ(m.cosine_similarity, 1.0);
    EXPECT_EQ(m.relative_l2, 0.0);
    EXPECT_TRUE(std::isnan(m.saturation_pct));  // float tensor: no integer range
    EXPECT_TRUE(std::isnan(m.rmse_lsb));
    auto bad = compareTensor(q, model::Quantization{}, floats({2}, {0, 0}));
    EXPECT_FALSE(bad);
}

// Two samples: d = [1, 1] and d = [3, -1].
TEST(AnalysisMetrics, AveragedVersusPooled) {
    auto a = compareTensor(floats({2}, {2, 2}), {}, floats({2}, {1, 1}));
    auto b = compareTensor(floats({2}, {3, 0}), {}, floats({2}, {0, 1}));
    ASSERT_TRUE(a && b);
    MetricAverager avg;
    avg.add(finalize(a->total));
    avg.add(finalize(b->total));
    TensorAccumulator pooled = *a;
    pooled.merge(*b);
    const auto ma = avg.mean();
    const auto mp = finalize(pooled.total);
    EXPECT_DOUBLE_EQ(ma.stddev, 1.0);             // (0 + 2) / 2
    EXPECT_DOUBLE_EQ(mp.stddev, std::sqrt(2.0));  // [1, 1, 3, -1]: mean 1, var 2
    EXPECT_DOUBLE_EQ(ma.max_abs_error, 2.0);
    EXPECT_DOUBLE_EQ(mp.max_abs_error, 3.0);
    EXPECT_DOUBLE_EQ(ma.mean_error, 1.0);
    EXPECT_DOUBLE_EQ(mp.mean_error, 1.0);
    EXPECT_DOUBLE_EQ(ma.mean_squared_error, 3.0);  // (1 + 5) / 2
    EXPECT_DOUBLE_EQ(mp.mean_squared_error, 3.0);
    EXPECT_EQ(mp.num_elements, 4);
    EXPECT_EQ(ma.num_elements, 2);
    // NaN samples are skipped as np.nanmean does.
    MetricAverager nan_avg;
    ErrorMetrics x;
    x.mean_error = 4;
    nan_avg.add(x);
    nan_avg.add(ErrorMetrics{});
    EXPECT_DOUBLE_EQ(nan_avg.mean().mean_error, 4);
    EXPECT_TRUE(std::isnan(nan_avg.mean().stddev));
}

Result<model::Model> load(const mt::ModelSpec& spec) {
    return model::loadModelFromBuffer(mt::serialize(spec), "test");
}

TEST(AnalysisFloatTwin, DequantizesConstantsPerChannel) {
    auto m = load(mt::validSpec());
    ASSERT_TRUE(m) << m.error().message;
    auto twin = makeFloatTwin(*m);
    ASSERT_TRUE(twin);
    const auto& sg = twin->model.main();
    for (const auto& t : sg.tensors) {
        EXPECT_EQ(t.dtype, DType::Float32) << t.name;
        EXPECT_FALSE(t.quantization.isQuantized()) << t.name;
    }
    EXPECT_EQ(twin->dequantized_constants, 2);
    EXPECT_EQ(twin->converted_activations, 4);
    // weights [3,4] = 1..12 with per-row scales 0.1, 0.2, 0.3; bias {100,-200,300} x
    // {0.05, 0.1, 0.15}.
    auto w = dequantizeConstant(sg.tensors[1]);
    ASSERT_TRUE(w);
    EXPECT_FLOAT_EQ((*w)[0], 0.1f);
    EXPECT_FLOAT_EQ((*w)[4], static_cast<float>(0.2 * 5));
    EXPECT_FLOAT_EQ((*w)[11], static_cast<float>(0.30000001192092896 * 12));
    auto b = dequantizeConstant(sg.tensors[2]);
    ASSERT_TRUE(b);
    EXPECT_FLOAT_EQ((*b)[0], 5.0f);
    EXPECT_FLOAT_EQ((*b)[1], -20.0f);
    EXPECT_FLOAT_EQ((*b)[2], 45.0f);
    // The source model is untouched.
    EXPECT_EQ(m->main().tensors[1].dtype, DType::Int8);

    // Runs on the float kernels: fc = W x + b, relu, sum = relu + fc clamped by RELU6.
    const auto x = floats({1, 4}, {1, 0, -1, 0.5f});
    auto r = engine::run(twin->model, SubgraphId{0}, std::span(&x, 1), {});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(r->complete());
    const float fc0 = 0.1f * (1 - 3 + 2) + 5;  // row 0: 0.1*(1*1 + 2*0 + 3*-1 + 4*0.5)
    EXPECT_NEAR(r->values[3].data<float>()[0], fc0, 1e-5);
    EXPECT_NEAR(r->values[5].data<float>()[0], std::min(6.0f, 2 * fc0), 1e-5);
}

TEST(AnalysisFloatTwin, Int4AndFloat16Constants) {
    model::Tensor t;
    t.name = "w4";
    t.dtype = DType::Int4;
    t.shape = {3};
    const uint8_t bytes[] = {0x7f, 0x08};  // low nibble first: 15 -> -1, 7, 8 -> -8
    t.data = bytes;
    t.quantization = perTensor(0.5f, 0);
    auto v = dequantizeConstant(t);
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_EQ(*v, (std::vector<float>{-0.5f, 3.5f, -4.0f}));
    model::Tensor h;
    h.name = "h";
    h.dtype = DType::Float16;
    h.shape = {2};
    const uint16_t halves[] = {0x3c00, 0xc100};  // 1.0, -2.5
    h.data = std::span(reinterpret_cast<const uint8_t*>(halves), 4);
    auto hv = dequantizeConstant(h);
    ASSERT_TRUE(hv);
    EXPECT_EQ(*hv, (std::vector<float>{1.0f, -2.5f}));
}

Result<std::vector<TensorValue>> conformanceInput(const std::string& model) {
    auto v = readNpy(std::string(QS_CONFORMANCE_DIR) + "/" + model + "/inputs/input_0.npy");
    if (!v) return std::unexpected(v.error());
    std::vector<TensorValue> out;
    out.push_back(std::move(*v));
    return out;
}

// The twin of a float model is the model itself: every tensor matches exactly.
TEST(AnalysisFloatTwin, FloatModelIsItsOwnTwin) {
    auto m =
        model::loadModel(std::string(QS_CONFORMANCE_DIR) + "/resnet8_cifar_float/model.tflite");
    ASSERT_TRUE(m);
    auto twin = makeFloatTwin(*m);
    ASSERT_TRUE(twin);
    EXPECT_EQ(twin->dequantized_constants + twin->converted_activations + twin->identity_ops, 0);
    auto a =
        analyze(*m, nullptr, 1, [](int) { return conformanceInput("resnet8_cifar_float"); }, {});
    ASSERT_TRUE(a) << a.error().message;
    ASSERT_EQ(a->tensors.size(), 17u);
    for (const auto& t : a->tensors) EXPECT_EQ(t.pooled.max_abs_error, 0) << t.tensor.value;
}

// mobilenet_v1_0.25_224_quant (TOCO) folds every ReLU6 into the output range (fused NONE,
// zp 0, scale 6/255): the twin restores it. Without it the twin's Conv2d_0 reached -12.4 and
// every later layer compared at about 0 dB; with it the first layer is at about 51 dB.
TEST(AnalysisFloatTwin, LegacyReluFoldedIntoRangeIsApplied) {
    auto m = model::loadModel(std::string(QS_CONFORMANCE_DIR) +
                              "/mobilenet_v1_0.25_224_quant/model.tflite");
    ASSERT_TRUE(m);
    auto twin = makeFloatTwin(*m);
    ASSERT_TRUE(twin);
    EXPECT_EQ(twin->implied_activations, 28);  // ops 0..27: 27 convolutions and the pool
    const auto& ops = twin->model.main().operators;
    EXPECT_EQ(ops[0].opts<model::Conv2DOptions>()->fused_activation_function,
              model::Activation::Relu6);
    EXPECT_EQ(m->main().operators[0].opts<model::Conv2DOptions>()->fused_activation_function,
              model::Activation::None);  // the source is untouched
    // The logits CONV_2D (zp 93) has a range that implies nothing.
    EXPECT_EQ(ops[28].opts<model::Conv2DOptions>()->fused_activation_function,
              model::Activation::None);
    ASSERT_EQ(twin->notes.size(), 1u);

    auto a = analyze(*m, nullptr, 1,
                     [](int) { return conformanceInput("mobilenet_v1_0.25_224_quant"); }, {});
    ASSERT_TRUE(a) << a.error().message;
    for (const auto& t : a->tensors) {
        if (t.tensor.value == 7) {
            EXPECT_GT(t.pooled.sqnr_db, 45.0);
        }
        EXPECT_GT(t.pooled.sqnr_db, 10.0) << t.tensor.value;  // was about 0 from Conv2d_1 on
    }
}

// A hybrid (dynamic-range) model: the twin is pure float32; the int8 weights it dequantized
// are what the hybrid kernels use, so only the on-the-fly input quantization differs.
TEST(AnalysisFloatTwin, HybridModelBecomesFloat) {
    auto m = model::loadModel(std::string(QS_CONFORMANCE_DIR) +
                              "/ad01_toycar_dynamic_range/model.tflite");
    ASSERT_TRUE(m);
    auto twin = makeFloatTwin(*m);
    ASSERT_TRUE(twin);
    EXPECT_GT(twin->dequantized_constants, 0);
    for (const auto& t : twin->model.main().tensors) {
        if (t.isConstant() && !t.quantization.isQuantized() && t.dtype != DType::Int32) {
            EXPECT_EQ(t.dtype, DType::Float32) << t.name;
        }
    }
    auto a = analyze(*m, nullptr, 1,
                     [](int) { return conformanceInput("ad01_toycar_dynamic_range"); }, {});
    ASSERT_TRUE(a) << a.error().message;
    ASSERT_EQ(a->tensors.size(), 11u);
    EXPECT_EQ(a->tensors.front().pooled.max_abs_error, 0);  // the float input itself
    for (size_t i = 1; i < a->tensors.size(); ++i) {
        EXPECT_GT(a->tensors[i].pooled.sqnr_db, 20) << a->tensors[i].tensor.value;
        EXPECT_LT(a->tensors[i].pooled.sqnr_db, 80) << a->tensors[i].tensor.value;
    }
}

// input (int8, s=1) -QUANTIZE-> t1 (s=2) -QUANTIZE-> t2 (s=4) -QUANTIZE-> t3 (s=1).
// The float twin runs three identities. With x = [3, 6]:
//   int engine: t1 = round([1.5, 3]) = [2, 3] -> [4, 6]; t2 = round([1, 1.5]) = [1, 2] -> [4, 8];
//               t3 = [4, 8] -> [4, 8]   (ties round away from zero)
//   accumulated (reference x everywhere): d = [1, 0], [1, 2], [1, 2]
//   local (reference = previous dequantized int tensor): d = [1, 0], [0, 2], [0, 0]
mt::ModelSpec requantChain() {
    mt::ModelSpec m;
    m.opcodes = {{.builtin = 114}};
    m.buffers.resize(1);
    mt::SubgraphSpec sg;
    sg.name = "main";
    sg.tensors = {
        {.name = "x", .shape = {1, 2}, .scales = {1.0f}, .zero_points = {{0}}},
        {.name = "t1", .shape = {1, 2}, .scales = {2.0f}, .zero_points = {{0}}},
        {.name = "t2", .shape = {1, 2}, .scales = {4.0f}, .zero_points = {{0}}},
        {.name = "t3", .shape = {1, 2}, .scales = {1.0f}, .zero_points = {{0}}},
    };
    sg.inputs = {0};
    sg.outputs = {3};
    sg.ops = {{.opcode = 0, .inputs = {0}, .outputs = {1}},
              {.opcode = 0, .inputs = {1}, .outputs = {2}},
              {.opcode = 0, .inputs = {2}, .outputs = {3}}};
    m.subgraphs.push_back(std::move(sg));
    return m;
}

ErrorAnalysis analyzeChain(const mt::ModelSpec& spec, const AnalysisOptions& opt) {
    auto m = load(spec);
    EXPECT_TRUE(m) << m.error().message;
    auto a = analyze(
        *m, nullptr, 1,
        [](int) -> Result<std::vector<TensorValue>> {
            std::vector<TensorValue> v;
            v.push_back(int8s({1, 2}, {3, 6}));
            return v;
        },
        opt);
    EXPECT_TRUE(a) << a.error().message;
    return *a;
}
ErrorAnalysis analyzeChain(ErrorMode mode) {
    AnalysisOptions opt;
    opt.mode = mode;
    return analyzeChain(requantChain(), opt);
}

TEST(AnalysisModes, ThreeOpChainAccumulatedVersusLocal) {
    const auto acc = analyzeChain(ErrorMode::Accumulated);
    const auto loc = analyzeChain(ErrorMode::Local);
    ASSERT_EQ(acc.tensors.size(), 4u);
    ASSERT_EQ(loc.tensors.size(), 4u);
    for (size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(acc.tensors[i].tensor.value, static_cast<int>(i));
        EXPECT_EQ(loc.tensors[i].tensor.value, static_cast<int>(i));
    }
    // Input: exact in both modes.
    EXPECT_EQ(acc.tensors[0].averaged.max_abs_error, 0);
    EXPECT_EQ(loc.tensors[0].averaged.max_abs_error, 0);
    // Accumulated d: [1,0], [1,2], [1,2].
    EXPECT_DOUBLE_EQ(acc.tensors[1].averaged.mean_error, 0.5);
    EXPECT_DOUBLE_EQ(acc.tensors[2].averaged.mean_error, 1.5);
    EXPECT_DOUBLE_EQ(acc.tensors[2].averaged.max_abs_error, 2);
    EXPECT_DOUBLE_EQ(acc.tensors[3].averaged.mean_error, 1.5);
    EXPECT_DOUBLE_EQ(acc.tensors[3].averaged.mean_squared_error, 2.5);
    // Local d: [1,0], [0,2], [0,0].
    EXPECT_DOUBLE_EQ(loc.tensors[1].averaged.mean_error, 0.5);
    EXPECT_DOUBLE_EQ(loc.tensors[2].averaged.mean_error, 1.0);
    EXPECT_DOUBLE_EQ(loc.tensors[2].averaged.stddev, 1.0);
    EXPECT_DOUBLE_EQ(loc.tensors[3].averaged.max_abs_error, 0);
    EXPECT_TRUE(std::isinf(loc.tensors[3].averaged.sqnr_db));
    // The rmse in LSB of t2 (scale 4): sqrt(mean([0, 0.5]^2)) for local.
    EXPECT_DOUBLE_EQ(loc.tensors[2].averaged.rmse_lsb, std::sqrt(0.125));
}

// keep_sample0 moves the runs' values out when every tensor is written once and copies the
// compared ones otherwise (a variable tensor makes the model stateful): both hand over the
// same values.
TEST(AnalysisModes, KeepSample0MovesOrCopiesTheSameValues) {
    auto stateful = requantChain();
    stateful.subgraphs[0].tensors.push_back({.name = "state",
                                             .shape = {1, 2},
                                             .is_variable = true,
                                             .scales = {1.0f},
                                             .zero_points = {{0}}});
    std::vector<ErrorAnalysis> results;
    for (const auto& spec : {requantChain(), stateful}) {
        for (int threads : {1, 2}) {
            AnalysisOptions opt;
            opt.keep_sample0 = true;
            opt.threads = threads;
            results.push_back(analyzeChain(spec, opt));
        }
    }
    for (const auto& r : results) {
        ASSERT_EQ(r.tensors.size(), 4u);
        for (const auto& t : r.tensors) {
            SCOPED_TRACE(t.tensor.value);
            const auto i = static_cast<size_t>(t.tensor.value);
            ASSERT_LT(i, r.sample0_quant.size());
            EXPECT_TRUE(r.sample0_quant[i].sameContents(results[0].sample0_quant[i]));
            EXPECT_TRUE(r.sample0_reference[i].sameContents(results[0].sample0_reference[i]));
        }
    }
    // t2 = requantize(t1 = x / 2 rounded, to scale 4): [3, 6] -> t1 [2, 3] -> t2 [1, 2] (reference
    // x exactly: [3, 6]).
    EXPECT_EQ(results[0].sample0_quant[2].data<int8_t>()[1], 2);
    EXPECT_EQ(results[0].sample0_reference[2].data<float>()[1], 6.0f);
}

const std::string kConf = QS_CONFORMANCE_DIR;

struct PairCase {
    const char* quant;
    const char* floatModel;
    int structural_quant;  // shape tensors with no float partner
};

class AnalysisPairing : public ::testing::TestWithParam<PairCase> {};

TEST_P(AnalysisPairing, ConformancePairsCompletely) {
    const auto& c = GetParam();
    auto q = model::loadModel(kConf + "/" + c.quant + "/model.tflite");
    auto f = model::loadModel(kConf + "/" + c.floatModel + "/model.tflite");
    ASSERT_TRUE(q && f);
    const auto p = pairModels(*q, *f);
    EXPECT_TRUE(p.complete()) << (p.notes.empty() ? "" : p.notes.front());
    EXPECT_TRUE(p.unmatched_quant.empty());
    EXPECT_TRUE(p.unmatched_float.empty());
    EXPECT_EQ(static_cast<int>(p.unmatched_structural_quant.size()), c.structural_quant);
    // Every paired tensor has the same element count on both sides; every op output pairs.
    for (size_t i = 0; i < p.float_of.size(); ++i) {
        if (!p.float_of[i].valid()) continue;
        EXPECT_EQ(q->main().tensors[i].numElements(),
                  f->main().tensor(p.float_of[i]).numElements());
    }
    for (const auto& op : q->main().operators)
        for (TensorId t : op.outputs) EXPECT_TRUE(p.float_of[static_cast<size_t>(t.value)].valid());
}

INSTANTIATE_TEST_SUITE_P(
    Conformance, AnalysisPairing,
    ::testing::Values(PairCase{"resnet8_cifar_int8", "resnet8_cifar_float", 0},
                      PairCase{"ad01_toycar_int8", "ad01_toycar_fp32", 0},
                      PairCase{"ad01_toycar_dynamic_range", "ad01_toycar_fp32", 0},
                      // RESHAPE's shape tensor: the float model has SQUEEZE there.
                      PairCase{"mobilenet_v1_0.25_224_quant", "mobilenet_v1_0.25_224_float", 1},
                      PairCase{"static_w8_a16_quantized_q_einsum", "q_einsum", 0}),
    [](const auto& info) {
        std::string n = info.param.quant;
        for (char& ch : n)
            if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
        return n;
    });

// Two threads and the sequential path (the default) give bit-identical metrics, tensor
// order, warnings and observed pairs, in both modes, against the float twin and against a
// paired float model, over two samples; a cancelled threaded analysis stops after a sample.
bool sameBits(const ErrorMetrics& a, const ErrorMetrics& b) {
    return std::memcmp(&a, &b, sizeof(ErrorMetrics)) == 0;
}

struct ThreadCase {
    const char* quant;
    const char* floatModel;  // empty: the float twin
};

class AnalysisThreads : public ::testing::TestWithParam<ThreadCase> {};

TEST_P(AnalysisThreads, ThreadedEqualsSequential) {
    const auto& c = GetParam();
    auto q = model::loadModel(kConf + "/" + c.quant + "/model.tflite");
    ASSERT_TRUE(q);
    std::optional<model::Model> f;
    if (*c.floatModel) {
        auto loaded = model::loadModel(kConf + "/" + c.floatModel + "/model.tflite");
        ASSERT_TRUE(loaded);
        f = std::move(*loaded);
    }
    auto in = conformanceInput(c.quant);
    ASSERT_TRUE(in) << in.error().message;
    // Sample 1: the input reversed, so the two samples differ.
    std::vector<TensorValue> second = *in;
    {
        auto bytes = second[0].bytes();
        const size_t elem = static_cast<size_t>(second[0].byteSize() / second[0].numElements());
        const size_t n = bytes.size() / elem;
        for (size_t i = 0; i < n / 2; ++i)
            std::swap_ranges(bytes.begin() + static_cast<std::ptrdiff_t>(i * elem),
                             bytes.begin() + static_cast<std::ptrdiff_t>((i + 1) * elem),
                             bytes.begin() + static_cast<std::ptrdiff_t>((n - 1 - i) * elem));
    }
    const SampleSource source = [&](int i) -> Result<std::vector<TensorValue>> {
        return i == 0 ? *in : second;
    };
    for (ErrorMode mode : {ErrorMode::Accumulated, ErrorMode::Local}) {
        SCOPED_TRACE(std::string(errorModeName(mode)));
        std::vector<Result<ErrorAnalysis>> runs;
        std::vector<std::map<std::pair<int, int>, double>> observed(2);
        for (int threads : {1, 2}) {
            AnalysisOptions o;
            o.mode = mode;
            o.threads = threads;
            o.keep_sample0 = true;
            auto& seen = observed[static_cast<size_t>(threads - 1)];
            std::map<int, std::pair<TensorValue, TensorValue>> first;  // sample 0's pairs
            o.observe = [&](int sample, TensorId t, const TensorValue& qv, const TensorValue& rv) {
                const auto size = static_cast<double>(qv.byteSize() + rv.byteSize());
                EXPECT_TRUE(seen.emplace(std::pair(sample, t.value), size).second);
                if (sample == 0) first.emplace(t.value, std::pair(qv, rv));
            };
            runs.push_back(analyze(*q, f ? &*f : nullptr, 2, source, o));
            ASSERT_TRUE(runs.back()) << runs.back().error().message;
            // keep_sample0 hands over exactly the values `observe` saw (accumulated mode).
            const auto& r = *runs.back();
            if (mode == ErrorMode::Local) {
                EXPECT_TRUE(r.sample0_quant.empty() && r.sample0_reference.empty());
                continue;
            }
            ASSERT_FALSE(first.empty());
            for (const auto& t : r.tensors) {
                SCOPED_TRACE(t.tensor.value);
                const auto& pair = first.at(t.tensor.value);
                EXPECT_TRUE(r.sample0_quant.at(static_cast<size_t>(t.tensor.value))
                                .sameContents(pair.first));
                EXPECT_TRUE(r.sample0_reference.at(static_cast<size_t>(t.reference_tensor.value))
                                .sameContents(pair.second));
            }
        }
        const auto& a = *runs[0];
        const auto& b = *runs[1];
        EXPECT_EQ(a.samples, 2);
        EXPECT_EQ(b.samples, 2);
        EXPECT_EQ(a.warnings, b.warnings);
        EXPECT_EQ(observed[0], observed[1]);
        EXPECT_FALSE(observed[0].empty());
        ASSERT_EQ(a.tensors.size(), b.tensors.size());
        ASSERT_GT(a.tensors.size(), 3u);
        for (size_t i = 0; i < a.tensors.size(); ++i) {
            const auto& x = a.tensors[i];
            const auto& y = b.tensors[i];
            SCOPED_TRACE(x.tensor.value);
            EXPECT_EQ(x.tensor.value, y.tensor.value);
            EXPECT_EQ(x.samples, y.samples);
            EXPECT_TRUE(sameBits(x.averaged, y.averaged));
            EXPECT_TRUE(sameBits(x.pooled, y.pooled));
            ASSERT_EQ(x.channels_pooled.size(), y.channels_pooled.size());
            ASSERT_EQ(x.channels_averaged.size(), y.channels_averaged.size());
            for (size_t k = 0; k < x.channels_pooled.size(); ++k) {
                EXPECT_TRUE(sameBits(x.channels_pooled[k], y.channels_pooled[k]));
                EXPECT_TRUE(sameBits(x.channels_averaged[k], y.channels_averaged[k]));
            }
        }
        AnalysisOptions cancel;
        cancel.mode = mode;
        cancel.threads = 2;
        cancel.progress = [](int, int) { return false; };
        auto stopped = analyze(*q, f ? &*f : nullptr, 2, source, cancel);
        ASSERT_TRUE(stopped) << stopped.error().message;
        EXPECT_TRUE(stopped->cancelled);
        EXPECT_EQ(stopped->samples, 1);
        // Sample 0's quantized run reports its ops, and stopping it stops the analysis with
        // no sample; an uncancelled run is summarised in quantized_run.
        EXPECT_EQ(a.quantized_run.ops_total, static_cast<int>(q->main().operators.size()));
        EXPECT_EQ(a.quantized_run.ops_run, a.quantized_run.ops_total);
        EXPECT_FALSE(a.quantized_run.stopped_at);
        for (int threads : {1, 2}) {
            AnalysisOptions at_op;
            at_op.mode = mode;
            at_op.threads = threads;
            int calls = 0;
            at_op.op_progress = [&calls](int done, int) {
                ++calls;
                return done < 3;
            };
            auto early = analyze(*q, f ? &*f : nullptr, 2, source, at_op);
            ASSERT_TRUE(early) << early.error().message;
            EXPECT_TRUE(early->cancelled);
            EXPECT_EQ(early->samples, 0);
            EXPECT_TRUE(early->tensors.empty());
            EXPECT_EQ(early->quantized_run.ops_run, 3);
            EXPECT_EQ(calls, 3);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Conformance, AnalysisThreads,
                         ::testing::Values(ThreadCase{"mobilenet_v1_0.25_128_quant", ""},
                                           ThreadCase{"resnet8_cifar_int8", "resnet8_cifar_float"},
                                           ThreadCase{"kws_dscnn_int8", ""},
                                           ThreadCase{"ad01_toycar_dynamic_range", ""}),
                         [](const auto& info) {
                             std::string n = info.param.quant;
                             for (char& ch : n)
                                 if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                             return n + (*info.param.floatModel ? "_paired" : "_twin");
                         });

TEST(AnalysisPairing, NameFirstThenPosition) {
    auto q = model::loadModel(kConf + "/resnet8_cifar_int8/model.tflite");
    auto f = model::loadModel(kConf + "/resnet8_cifar_float/model.tflite");
    ASSERT_TRUE(q && f);
    const auto p = pairModels(*q, *f);
    // "input_1_int8" vs "input_1": renamed, paired as the first graph input.
    EXPECT_EQ(p.method[0], PairMethod::Position);
    EXPECT_EQ(p.float_of[0].value, 0);
    // An activation with the same name in both files.
    EXPECT_EQ(p.method[22], PairMethod::Name);
}

TEST(AnalysisWeights, BiasScaleCheckAndWeightErrorAgainstFloat) {
    auto q = model::loadModel(kConf + "/resnet8_cifar_int8/model.tflite");
    auto f = model::loadModel(kConf + "/resnet8_cifar_float/model.tflite");
    ASSERT_TRUE(q && f);
    const auto p = pairModels(*q, *f);
    const auto w = weightReports(*q, &*f, p);
    int weights = 0, biases = 0;
    for (const auto& r : w) {
        ASSERT_TRUE(r.error.has_value()) << r.tensor.value;
        if (r.role == "weights") {
            ++weights;
            // Rounding to the nearest step: about 1/sqrt(12) LSB.
            EXPECT_GT(r.error->rmse_lsb, 0.2);
            EXPECT_LT(r.error->rmse_lsb, 0.4);
            // Symmetric per-channel weights: nothing clips, so no element is off by more
            // than half a step of its channel.
            for (size_t c = 0; c < r.channels.size(); ++c)
                EXPECT_LE(r.channel_errors[c].max_abs_error / r.channels[c].scale, 0.5 + 1e-3);
        } else {
            ++biases;
            // The converter computes bias scales as input_scale * weight_scale.
            EXPECT_LT(r.bias_scale_max_rel_diff, 1e-6) << r.tensor.value;
        }
    }
    EXPECT_EQ(weights, 10);  // 9 CONV_2D + 1 FULLY_CONNECTED
    EXPECT_EQ(biases, 10);
}

TEST(AnalysisReports, CsvColumnsStartWithQuantizationDebuggers) {
    const auto cols = csvColumns();
    const std::vector<std::string> qd = {
        "op_name",       "tensor_idx",         "num_elements", "stddev",     "mean_error",
        "max_abs_error", "mean_squared_error", "scale",        "zero_point", "tensor_name"};
    ASSERT_GE(cols.size(), qd.size());
    EXPECT_TRUE(std::equal(qd.begin(), qd.end(), cols.begin()));
    auto m = load(requantChain());
    ASSERT_TRUE(m);
    const auto a = analyzeChain(ErrorMode::Accumulated);
    ReportContext ctx;
    ctx.quant = &*m;
    const auto csv = csvReport(a, ctx);
    EXPECT_EQ(csv.substr(0, csv.find("\r\n")).substr(0, 10), "op_name,te");
    EXPECT_NE(csv.find("QUANTIZE,2,2,"), std::string::npos);
    auto me = modelExplorerReport(a, ctx, "mean_error", false);
    ASSERT_TRUE(me);
    EXPECT_NE(me->find("\"main\""), std::string::npos);
    EXPECT_FALSE(modelExplorerReport(a, ctx, "no_such_metric", false));
    EXPECT_EQ(formatNumber(0.1), "0.1");
    EXPECT_EQ(formatNumber(std::nan("")), "nan");
    EXPECT_EQ(formatNumber(-INFINITY), "-inf");
}

}  // namespace
}  // namespace qs::engine::analysis
