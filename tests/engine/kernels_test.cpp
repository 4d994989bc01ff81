// Fast paths against the plain reference loops (the oracle) on random shapes, strides,
// dilations, paddings, zero points, per-channel and per-tensor multipliers, for every rule.
// Integer outputs must be identical; float outputs may differ by summation order only.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/kernels/conv.h"
#include "engine/kernels/depthwise_conv.h"
#include "engine/kernels/fully_connected.h"

using namespace qs::engine;
using namespace qs::engine::kernels;

namespace {

constexpr RequantRule kRules[] = {RequantRule::DoubleRounding, RequantRule::SingleRounding,
                                  RequantRule::RuyX86, RequantRule::Fp32};

template <class T>
std::vector<T> randomVec(std::mt19937& rng, size_t n) {
    std::vector<T> v(n);
    if constexpr (std::is_floating_point_v<T>) {
        std::uniform_real_distribution<float> d(-1.0f, 1.0f);
        for (auto& x : v) x = d(rng);
    } else {
        std::uniform_int_distribution<int> d(std::numeric_limits<T>::min(),
                                             std::numeric_limits<T>::max());
        for (auto& x : v) x = static_cast<T>(d(rng));
    }
    return v;
}

int rnd(std::mt19937& rng, int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng);
}

// Random quantization of a ConvParams-like struct for `channels` outputs.
template <class P>
void randomQuant(std::mt19937& rng, P& p, int channels, bool uint8, bool per_channel,
                 RequantRule rule) {
    p.input_offset = uint8 ? -rnd(rng, 0, 255) : -rnd(rng, -128, 127);
    p.weights_offset = uint8 ? -rnd(rng, 0, 255) : 0;
    p.output_offset = uint8 ? rnd(rng, 0, 255) : rnd(rng, -128, 127);
    p.output_multiplier.clear();
    p.output_shift.clear();
    std::uniform_real_distribution<double> scale(-14.0, 1.0);
    // Fp32 carries XNNPACK's float scale as its multiplier (xnnpackScale).
    auto make = [&](double real) {
        return rule == RequantRule::Fp32 ? xnnpackScale(static_cast<float>(real), 1.0f, 1.0f)
                                         : quantizeMultiplier(real);
    };
    QuantizedMultiplier shared = make(std::exp2(scale(rng)));
    for (int c = 0; c < channels; ++c) {
        const auto q = per_channel ? make(std::exp2(scale(rng))) : shared;
        p.output_multiplier.push_back(q.multiplier);
        p.output_shift.push_back(q.shift);
    }
    const int lo = uint8 ? 0 : -128, hi = uint8 ? 255 : 127;
    p.quantized_activation_min = rnd(rng, 0, 3) == 0 ? lo + rnd(rng, 0, 60) : lo;
    p.quantized_activation_max = rnd(rng, 0, 3) == 0 ? hi - rnd(rng, 0, 60) : hi;
    p.float_activation_min = -std::numeric_limits<float>::infinity();
    p.float_activation_max = rnd(rng, 0, 1) ? 0.5f : std::numeric_limits<float>::infinity();
    p.rule = rule;
}

struct ConvCase {
    ConvParams p;
    Shape4 in_s, f_s, out_s;
};

ConvCase randomConvGeometry(std::mt19937& rng, bool depthwise) {
    ConvCase c;
    c.in_s = {rnd(rng, 1, 2), rnd(rng, 1, 11), rnd(rng, 1, 11), rnd(rng, 1, 19)};
    const int kh = rnd(rng, 1, 4), kw = rnd(rng, 1, 4);
    c.p.stride_height = rnd(rng, 1, 3);
    c.p.stride_width = rnd(rng, 1, 3);
    c.p.dilation_height_factor = rnd(rng, 1, 2);
    c.p.dilation_width_factor = rnd(rng, 1, 2);
    const int eff_h = (kh - 1) * c.p.dilation_height_factor + 1,
              eff_w = (kw - 1) * c.p.dilation_width_factor + 1;
    c.p.padding_height = rnd(rng, 0, eff_h - 1);
    c.p.padding_width = rnd(rng, 0, eff_w - 1);
    const int out_h =
        std::max(1, (c.in_s.h + 2 * c.p.padding_height - eff_h) / c.p.stride_height + 1);
    const int out_w =
        std::max(1, (c.in_s.w + 2 * c.p.padding_width - eff_w) / c.p.stride_width + 1);
    const int out_c = depthwise ? c.in_s.c * rnd(rng, 1, 3) : rnd(rng, 1, 37);
    c.f_s = depthwise ? Shape4{1, kh, kw, out_c} : Shape4{out_c, kh, kw, c.in_s.c};
    c.out_s = {c.in_s.n, out_h, out_w, out_c};
    return c;
}

template <class T>
void checkConv(int iterations, uint32_t seed) {
    std::mt19937 rng(seed);
    constexpr bool kU8 = std::is_same_v<T, uint8_t>;
    for (int it = 0; it < iterations; ++it)
        for (RequantRule rule : kRules) {
            auto c = randomConvGeometry(rng, false);
            randomQuant(rng, c.p, c.out_s.c, kU8, !kU8 && rnd(rng, 0, 1), rule);
            auto in = randomVec<T>(rng, static_cast<size_t>(c.in_s.size()));
            auto f = randomVec<T>(rng, static_cast<size_t>(c.f_s.size()));
            std::vector<int32_t> bias(static_cast<size_t>(c.out_s.c));
            for (auto& b : bias) b = rnd(rng, -60000, 60000);
            const int32_t* bp = rnd(rng, 0, 4) ? bias.data() : nullptr;
            std::vector<T> ref(static_cast<size_t>(c.out_s.size())), fast(ref.size());
            convReference(c.p, c.in_s, in.data(), c.f_s, f.data(), bp, c.out_s, ref.data());
            convFast(c.p, c.in_s, in.data(), c.f_s, f.data(), bp, c.out_s, fast.data());
            ASSERT_EQ(ref, fast) << "iteration " << it << " rule " << requantRuleName(rule);
        }
}

TEST(FastPath, ConvInt8MatchesReference) {
    checkConv<int8_t>(40, 1);
}
TEST(FastPath, ConvUInt8MatchesReference) {
    checkConv<uint8_t>(40, 2);
}

template <class T>
void checkDepthwise(int iterations, uint32_t seed) {
    std::mt19937 rng(seed);
    constexpr bool kU8 = std::is_same_v<T, uint8_t>;
    for (int it = 0; it < iterations; ++it)
        for (RequantRule rule : kRules) {
            auto c = randomConvGeometry(rng, true);
            DepthwiseParams p;
            static_cast<ConvParams&>(p) = c.p;
            p.depth_multiplier = c.out_s.c / c.in_s.c;
            randomQuant(rng, p, c.out_s.c, kU8, !kU8 && rnd(rng, 0, 1), rule);
            auto in = randomVec<T>(rng, static_cast<size_t>(c.in_s.size()));
            auto f = randomVec<T>(rng, static_cast<size_t>(c.f_s.size()));
            std::vector<int32_t> bias(static_cast<size_t>(c.out_s.c));
            for (auto& b : bias) b = rnd(rng, -60000, 60000);
            std::vector<T> ref(static_cast<size_t>(c.out_s.size())), fast(ref.size());
            depthwiseReference(p, c.in_s, in.data(), c.f_s, f.data(), bias.data(), c.out_s,
                               ref.data());
            depthwiseFast(p, c.in_s, in.data(), c.f_s, f.data(), bias.data(), c.out_s, fast.data());
            ASSERT_EQ(ref, fast) << "iteration " << it << " rule " << requantRuleName(rule);
        }
}

TEST(FastPath, DepthwiseInt8MatchesReference) {
    checkDepthwise<int8_t>(40, 3);
}
TEST(FastPath, DepthwiseUInt8MatchesReference) {
    checkDepthwise<uint8_t>(40, 4);
}

template <class T>
void checkFullyConnected(int iterations, uint32_t seed) {
    std::mt19937 rng(seed);
    constexpr bool kU8 = std::is_same_v<T, uint8_t>;
    for (int it = 0; it < iterations; ++it)
        for (RequantRule rule : kRules) {
            const int batches = rnd(rng, 1, 5), depth = rnd(rng, 1, 300), units = rnd(rng, 1, 70);
            FullyConnectedParams p;
            const bool per_channel = !kU8 && rnd(rng, 0, 1);
            randomQuant(rng, p, per_channel ? units : 1, kU8, per_channel, rule);
            auto in = randomVec<T>(rng, static_cast<size_t>(batches) * depth);
            auto f = randomVec<T>(rng, static_cast<size_t>(units) * depth);
            std::vector<int32_t> bias(static_cast<size_t>(units));
            for (auto& b : bias) b = rnd(rng, -60000, 60000);
            std::vector<T> ref(static_cast<size_t>(batches) * units), fast(ref.size());
            fullyConnectedReference(p, batches, depth, units, in.data(), f.data(), bias.data(),
                                    ref.data());
            fullyConnectedFast(p, batches, depth, units, in.data(), f.data(), bias.data(),
                               fast.data());
            ASSERT_EQ(ref, fast) << "iteration " << it << " rule " << requantRuleName(rule);
        }
}

TEST(FastPath, FullyConnectedInt8MatchesReference) {
    checkFullyConnected<int8_t>(40, 5);
}
TEST(FastPath, FullyConnectedUInt8MatchesReference) {
    checkFullyConnected<uint8_t>(40, 6);
}

// Float: the GEMM may fuse each multiply-add (one rounding instead of two), so results may
// differ from the sequential loop by a few ulps of the largest partial sum; |x|, |w| <= 1 and
// depth <= 19 * 16 keep it below 1e-5. Depthwise keeps the reference's operations exactly.
TEST(FastPath, FloatKernelsMatchReferenceWithinRounding) {
    std::mt19937 rng(7);
    auto maxDiff = [](const std::vector<float>& a, const std::vector<float>& b) {
        float d = 0;
        for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(a[i] - b[i]));
        return d;
    };
    for (int it = 0; it < 30; ++it) {
        auto c = randomConvGeometry(rng, false);
        randomQuant(rng, c.p, c.out_s.c, false, false, RequantRule::DoubleRounding);
        auto in = randomVec<float>(rng, static_cast<size_t>(c.in_s.size()));
        auto f = randomVec<float>(rng, static_cast<size_t>(c.f_s.size()));
        auto bias = randomVec<float>(rng, static_cast<size_t>(c.out_s.c));
        std::vector<float> ref(static_cast<size_t>(c.out_s.size())), fast(ref.size());
        convReference(c.p, c.in_s, in.data(), c.f_s, f.data(), bias.data(), c.out_s, ref.data());
        convFast(c.p, c.in_s, in.data(), c.f_s, f.data(), bias.data(), c.out_s, fast.data());
        EXPECT_LE(maxDiff(ref, fast), 1e-5f) << "conv iteration " << it;

        auto d = randomConvGeometry(rng, true);
        DepthwiseParams p;
        static_cast<ConvParams&>(p) = d.p;
        p.depth_multiplier = d.out_s.c / d.in_s.c;
        p.float_activation_min = -std::numeric_limits<float>::infinity();
        p.float_activation_max = std::numeric_limits<float>::infinity();
        auto din = randomVec<float>(rng, static_cast<size_t>(d.in_s.size()));
        auto df = randomVec<float>(rng, static_cast<size_t>(d.f_s.size()));
        std::vector<float> dref(static_cast<size_t>(d.out_s.size())), dfast(dref.size());
        depthwiseReference(p, d.in_s, din.data(), d.f_s, df.data(), nullptr, d.out_s, dref.data());
        depthwiseFast(p, d.in_s, din.data(), d.f_s, df.data(), nullptr, d.out_s, dfast.data());
        EXPECT_EQ(dref, dfast) << "depthwise keeps the summation order, iteration " << it;
    }
}

// The float GEMM (gemm.h, behind float CONV_2D and FULLY_CONNECTED) against the plain loops on
// shapes that exercise its edges: output channels not a multiple of its 16-wide blocks, rows
// not a multiple of its 6-row tile, depths up to 1300, 1x1 stride-1 convolutions (no im2col),
// fused RELU6, no bias. Both sum each output in depth order with a separate multiply and add
// (the GEMM is built without FMA), then add the bias: the results must be bit-identical. (The
// rounding bound, k * 2^-24 * sum|x * w| per side, is kept as the failure message's yardstick.)
TEST(FastPath, FloatGemmIsBitIdenticalToReference) {
    std::mt19937 rng(11);
    auto check = [](const std::vector<float>& ref, const std::vector<float>& fast,
                    const std::vector<double>& bound, const char* what, int it) {
        ASSERT_EQ(ref.size(), fast.size());
        for (size_t i = 0; i < ref.size(); ++i)
            ASSERT_EQ(ref[i], fast[i]) << what << " iteration " << it << " element " << i
                                       << " (rounding bound " << bound[i] << ")";
    };
    constexpr double kU = 1.0 / (1 << 24);
    for (int it = 0; it < 25; ++it) {
        // FULLY_CONNECTED: [batches, depth] x [units, depth]^T.
        const int batches = rnd(rng, 1, 13), depth = rnd(rng, 1, 1300), units = rnd(rng, 1, 70);
        FullyConnectedParams p;
        const bool relu6 = rnd(rng, 0, 1);
        p.float_activation_min = relu6 ? 0.0f : -std::numeric_limits<float>::infinity();
        p.float_activation_max = relu6 ? 6.0f : std::numeric_limits<float>::infinity();
        auto in = randomVec<float>(rng, static_cast<size_t>(batches) * depth);
        auto w = randomVec<float>(rng, static_cast<size_t>(units) * depth);
        auto bias = randomVec<float>(rng, static_cast<size_t>(units));
        const float* bp = rnd(rng, 0, 3) ? bias.data() : nullptr;
        std::vector<float> ref(static_cast<size_t>(batches) * units), fast(ref.size());
        std::vector<double> bound(ref.size());
        for (int b = 0; b < batches; ++b)
            for (int u = 0; u < units; ++u) {
                double s = 0;
                for (int d = 0; d < depth; ++d)
                    s += std::fabs(double{in[size_t(b * depth + d)]} * w[size_t(u * depth + d)]);
                // + 1 ulp-sized slack for the bias add, which both round once.
                bound[size_t(b * units + u)] = 2 * (depth + 1) * kU * (s + 1.0);
            }
        fullyConnectedReference(p, batches, depth, units, in.data(), w.data(), bp, ref.data());
        fullyConnectedFast(p, batches, depth, units, in.data(), w.data(), bp, fast.data());
        check(ref, fast, bound, "fully connected", it);

        // 1x1 stride-1 CONV_2D (the GEMM straight on the input rows) with many channels.
        ConvCase c;
        c.in_s = {1, rnd(rng, 1, 9), rnd(rng, 1, 9), rnd(rng, 1, 200)};
        const int oc = rnd(rng, 1, 90);
        c.f_s = {oc, 1, 1, c.in_s.c};
        c.out_s = {1, c.in_s.h, c.in_s.w, oc};
        c.p.float_activation_min = p.float_activation_min;
        c.p.float_activation_max = p.float_activation_max;
        auto cin = randomVec<float>(rng, static_cast<size_t>(c.in_s.size()));
        auto cf = randomVec<float>(rng, static_cast<size_t>(c.f_s.size()));
        auto cb = randomVec<float>(rng, static_cast<size_t>(oc));
        std::vector<float> cref(static_cast<size_t>(c.out_s.size())), cfast(cref.size());
        std::vector<double> cbound(cref.size());
        for (int px = 0; px < c.in_s.h * c.in_s.w; ++px)
            for (int o = 0; o < oc; ++o) {
                double s = 0;
                for (int d = 0; d < c.in_s.c; ++d)
                    s += std::fabs(double{cin[size_t(px * c.in_s.c + d)]} *
                                   cf[size_t(o * c.in_s.c + d)]);
                cbound[size_t(px * oc + o)] = 2 * (c.in_s.c + 1) * kU * (s + 1.0);
            }
        convReference(c.p, c.in_s, cin.data(), c.f_s, cf.data(), cb.data(), c.out_s, cref.data());
        convFast(c.p, c.in_s, cin.data(), c.f_s, cf.data(), cb.data(), c.out_s, cfast.data());
        check(cref, cfast, cbound, "pointwise conv", it);
    }
}

// The int8 reference loop itself on a hand-computed case: 1x1 conv, input zp -1, one
// channel with multiplier 0.5: acc = 2 * (3 + 1) + bias 1 = 9; 9 * 0.5 = 4.5 -> 5 (ties up in
// SaturatingRoundingDoublingHighMul), + output zp 2 = 7.
TEST(Reference, ConvInt8HandComputed) {
    ConvParams p;
    p.input_offset = 1;
    p.output_offset = 2;
    p.output_multiplier = {1 << 30};
    p.output_shift = {0};
    p.quantized_activation_min = -128;
    p.quantized_activation_max = 127;
    const int8_t in[] = {3};
    const int8_t f[] = {2};
    const int32_t bias[] = {1};
    int8_t out[1] = {};
    convReference(p, {1, 1, 1, 1}, in, {1, 1, 1, 1}, f, bias, {1, 1, 1, 1}, out);
    EXPECT_EQ(out[0], 7);
}

}  // namespace
