// TRANSPOSE_CONV and BATCH_MATMUL on hand-computed values (the derivations are in the
// comments), at the kernel level and through small models built with the test model factory.
#include <gtest/gtest.h>

#include "engine/executor.h"
#include "engine/kernels/batch_matmul.h"
#include "engine/kernels/transpose_conv.h"
#include "model/loader.h"
#include "model/test_model_factory.h"

using namespace qs;
using namespace qs::engine;
using namespace qs::engine::kernels;
namespace mt = qs::model::testing;
namespace fb = qs::fb;

namespace {

// Input [1,1,2,1], filter [2,1,2,1] (oc0 = {10, 1}, oc1 = {-5, 4}), stride 1, no padding,
// output [1,1,3,2]. With input offset -1 the inputs {3, -1} become {2, -2}:
//   oc0 scatter: {20, 2 - 20, -2} = {20, -18, -2}, + bias 1  -> {21, -17, -1}
//   oc1 scatter: {-10, 8 + 10, -8} = {-10, 18, -8}, + bias 2 -> {-8, 20, -6}
TransposeConvParams int8Params(RequantRule rule) {
    TransposeConvParams p;
    p.input_offset = -1;
    p.output_offset = 3;
    p.output_multiplier = {1 << 30, 1 << 30};  // 0.5 (shift 0) and 0.25 (shift -1)
    p.output_shift = {0, -1};
    p.quantized_activation_min = -128;
    p.quantized_activation_max = 127;
    p.rule = rule;
    return p;
}

TEST(TransposeConv, Int8DoubleRoundingByHand) {
    const int8_t input[] = {3, -1};
    const int8_t filter[] = {10, 1, -5, 4};
    const int32_t bias[] = {1, 2};
    int8_t out[6] = {};
    std::vector<int32_t> scratch;
    transposeConvReference(int8Params(RequantRule::DoubleRounding), {1, 1, 2, 1}, input,
                           {2, 1, 2, 1}, filter, bias, {1, 1, 3, 2}, out, scratch);
    // oc0 * 0.5: 10.5 -> 11, -8.5 -> -8, -0.5 -> 0 (SaturatingRoundingDoublingHighMul ties
    // toward +inf); oc1 * 0.25: -2, 5, -1.5 -> -2 (RoundingDivideByPOT ties away from 0).
    // Plus the output zero point 3, interleaved NHWC.
    const int8_t want[] = {14, 1, -5, 8, 3, 1};
    EXPECT_TRUE(std::equal(out, out + 6, want));
}

TEST(TransposeConv, Int8SingleRoundingDiffersOnNegativeTie) {
    const int8_t input[] = {3, -1};
    const int8_t filter[] = {10, 1, -5, 4};
    const int32_t bias[] = {1, 2};
    int8_t out[6] = {};
    std::vector<int32_t> scratch;
    transposeConvReference(int8Params(RequantRule::SingleRounding), {1, 1, 2, 1}, input,
                           {2, 1, 2, 1}, filter, bias, {1, 1, 3, 2}, out, scratch);
    // -6 * 0.25 = -1.5 rounds half up to -1 in one step (the double-rounding build gives -2).
    const int8_t want[] = {14, 1, -5, 8, 3, 2};
    EXPECT_TRUE(std::equal(out, out + 6, want));
}

TEST(TransposeConv, Int16x8Int64BiasByHand) {
    TransposeConvParams p;
    p.output_multiplier = {1 << 30};  // 0.5 for both channels
    p.output_shift = {0};
    p.quantized_activation_min = -32768;
    p.quantized_activation_max = 32767;
    const int16_t input[] = {1000, -2000};
    const int8_t filter[] = {10, 1, -5, 4};
    const int64_t bias[] = {3, 0};
    int16_t out[6] = {};
    std::vector<int64_t> scratch;
    transposeConvReference(p, {1, 1, 2, 1}, input, {2, 1, 2, 1}, filter, bias, {1, 1, 3, 2}, out,
                           scratch);
    // oc0: {10000, 1000 - 20000, -2000} + 3 = {10003, -18997, -1997}
    // oc1: {-5000, 4000 + 10000, -8000}
    // int64 MultiplyByQuantizedMultiplier: multiplier reduced to 2^14, (x * 2^14 + 2^14) >> 15
    // = floor((x + 1) / 2): 5002, -9498, -998 and -2500, 7000, -4000.
    const int16_t want[] = {5002, -2500, -9498, 7000, -998, -4000};
    EXPECT_TRUE(std::equal(out, out + 6, want));
}

TEST(TransposeConv, FloatStride2AndActivation) {
    TransposeConvParams p;
    p.stride_width = 2;
    p.float_activation_min = 0.0f;
    p.float_activation_max = 15.0f;
    const float input[] = {1.0f, -2.0f};
    const float filter[] = {10.0f, 1.0f};
    const float bias[] = {0.5f};
    float out[4] = {};
    std::vector<float> scratch;
    transposeConvReference(p, {1, 1, 2, 1}, input, {1, 1, 2, 1}, filter, bias, {1, 1, 4, 1}, out,
                           scratch);
    // {10, 1, -20, -2} + 0.5, clamped to [0, 15].
    const float want[] = {10.5f, 1.5f, 0.0f, 0.0f};
    EXPECT_TRUE(std::equal(out, out + 4, want));
}

// BATCH_MATMUL: lhs [2,2,3] (two batches), rhs [3,2] broadcast over the batch.
TEST(BatchMatMul, FloatBroadcastAndAdjoints) {
    const float lhs[] = {1, 2, 3, 4, 5, 6, /* batch 1 */ -1, 0, 1, 2, 0, -2};
    const float rhs[] = {1, 0, 0, 1, 1, 1};  // [[1,0],[0,1],[1,1]]
    BatchMatMulShape s;
    s.batch = {1, 1, 2};
    s.lhs_batch_stride = {0, 0, 6};
    s.rhs_batch_stride = {0, 0, 0};
    s.rows = 2, s.cols = 2, s.depth = 3;
    float out[8] = {};
    batchMatMulReference(s, lhs, rhs, out);
    const float want[] = {4, 5, 10, 11, 0, 1, 0, -2};
    EXPECT_TRUE(std::equal(out, out + 8, want));

    // The same product with both operands stored transposed.
    const float lhs_t[] = {1, 4, 2, 5, 3, 6, /* batch 1 */ -1, 2, 0, 0, 1, -2};
    const float rhs_t[] = {1, 0, 1, 0, 1, 1};  // [[1,0,1],[0,1,1]]
    s.adj_x = s.adj_y = true;
    float out_t[8] = {};
    batchMatMulReference(s, lhs_t, rhs_t, out_t);
    EXPECT_TRUE(std::equal(out_t, out_t + 8, want));
}

TEST(BatchMatMul, Int8OffsetsAndRules) {
    // lhs [1,2] with zero point 2 -> {3 - 2, 7 - 2} = {1, 5}; rhs [2,1] = {4, -1}.
    // acc = 4 - 5 = -1; * 0.5 = -0.5: double rounding 0 (ties toward +inf in the high mul),
    // ruy x86 0; plus output zero point -4.
    const int8_t lhs[] = {3, 7};
    const int8_t rhs[] = {4, -1};
    BatchMatMulShape s;
    s.rows = 1, s.cols = 1, s.depth = 2;
    BatchMatMulParams p;
    p.input_offset = -2;
    p.output_offset = -4;
    p.output_multiplier = 1 << 30;
    p.output_shift = 0;
    p.quantized_activation_min = -128;
    p.quantized_activation_max = 127;
    for (auto rule :
         {RequantRule::DoubleRounding, RequantRule::SingleRounding, RequantRule::RuyX86}) {
        p.rule = rule;
        int8_t out = 0;
        batchMatMulReference(p, s, lhs, rhs, &out);
        EXPECT_EQ(out, -4) << requantRuleName(rule);
    }
    // lhs {3, 3} -> {1, 1}, rhs {-4, 1}: acc = -3, * 0.5 = -1.5.
    const int8_t rhs2[] = {-4, 1};
    const int8_t lhs2[] = {3, 3};
    int8_t out = 0;
    p.rule = RequantRule::DoubleRounding;
    batchMatMulReference(p, s, lhs2, rhs2, &out);
    EXPECT_EQ(out, -1 - 4);  // high mul: -1.5 -> -1
}

// ---- through the executor, on models built with the test model factory ----

Result<model::Model> load(const mt::ModelSpec& spec) {
    auto bytes = mt::serialize(spec);
    return model::loadModelFromBuffer(bytes, "test");
}

mt::OptionsFn transposeConvOptions(fb::Padding padding, int stride_w, int stride_h) {
    return [=](flatbuffers::FlatBufferBuilder& b) {
        return std::make_pair(
            fb::BuiltinOptions::TransposeConvOptions,
            fb::CreateTransposeConvOptions(b, padding, stride_w, stride_h).Union());
    };
}

// Float TRANSPOSE_CONV with SAME padding whose total padding is odd: TFLite puts the extra
// row/column at the end (ComputePaddingWithOffset), so the leading padding is 0 here.
mt::ModelSpec transposeConvSpec(bool constant_shape) {
    mt::ModelSpec m;
    m.opcodes = {{.builtin = static_cast<int32_t>(fb::BuiltinOperator::TRANSPOSE_CONV)}};
    m.buffers.resize(3);
    m.buffers[1].data = mt::bytesOf(std::vector<int32_t>{1, 1, 4, 1});
    m.buffers[2].data = mt::bytesOf(std::vector<float>{1.0f, 10.0f, 100.0f});
    mt::SubgraphSpec sg;
    sg.tensors = {
        {.name = "shape",
         .type = fb::TensorType::INT32,
         .shape = {4},
         .buffer = constant_shape ? 1u : 0u},
        {.name = "filter", .type = fb::TensorType::FLOAT32, .shape = {1, 1, 3, 1}, .buffer = 2},
        {.name = "input", .type = fb::TensorType::FLOAT32, .shape = {1, 1, 2, 1}},
        {.name = "output", .type = fb::TensorType::FLOAT32, .shape = {1, 1, 4, 1}},
    };
    sg.inputs = constant_shape ? std::vector<int32_t>{2} : std::vector<int32_t>{0, 2};
    sg.outputs = {3};
    sg.ops = {{.opcode = 0,
               .inputs = {0, 1, 2},
               .outputs = {3},
               .options = transposeConvOptions(fb::Padding::SAME, 2, 1)}};
    m.subgraphs.push_back(std::move(sg));
    return m;
}

TensorValue floatTensor(std::vector<int32_t> shape, std::vector<float> v) {
    TensorValue t(model::DType::Float32, std::move(shape));
    std::copy(v.begin(), v.end(), t.data<float>().begin());
    return t;
}
TensorValue int32Tensor(std::vector<int32_t> v) {
    TensorValue t(model::DType::Int32, {static_cast<int32_t>(v.size())});
    std::copy(v.begin(), v.end(), t.data<int32_t>().begin());
    return t;
}

TEST(TransposeConvModel, SamePaddingOddTotal) {
    auto m = load(transposeConvSpec(true));
    ASSERT_TRUE(m) << m.error().message;
    std::vector<TensorValue> inputs;
    inputs.push_back(floatTensor({1, 1, 2, 1}, {1.0f, 2.0f}));
    auto r = run(*m, SubgraphId{0}, inputs, {});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(r->complete());
    // x0 scatters to columns 0..2, x1 to 2..4 (4 is cut): {1, 10, 100 + 2, 20}.
    auto o = r->values[3].data<float>();
    const float want[] = {1.0f, 10.0f, 102.0f, 20.0f};
    EXPECT_TRUE(std::equal(o.begin(), o.end(), want));
}

TEST(TransposeConvModel, RuntimeShapeInputMustMatchTheModel) {
    auto m = load(transposeConvSpec(false));
    ASSERT_TRUE(m) << m.error().message;
    std::vector<TensorValue> inputs;
    inputs.push_back(int32Tensor({1, 1, 4, 1}));
    inputs.push_back(floatTensor({1, 1, 2, 1}, {1.0f, 2.0f}));
    auto r = run(*m, SubgraphId{0}, inputs, {});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->complete());
    EXPECT_EQ(r->values[3].data<float>()[2], 102.0f);

    inputs[0] = int32Tensor({1, 1, 5, 1});
    r = run(*m, SubgraphId{0}, inputs, {});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(r->stopped_at);
    EXPECT_EQ(r->stopped_at->value, 0);
    EXPECT_FALSE(r->values[3].valid());
    ASSERT_FALSE(r->warnings.empty());
    EXPECT_NE(r->warnings.back().find("dynamic output shapes"), std::string::npos)
        << r->warnings.back();
}

// int16 x int8 BATCH_MATMUL with a per-channel rhs: TFLite's kernel reads the legacy
// per-tensor scale, which is 0 for a multi-scale tensor, so builtin/xnnpack give all-zero
// outputs (as in the static_w8_a16_quantized_q_einsum golden data); TFLM's scale[0] does not.
TEST(BatchMatMulModel, PerChannelRhsLegacyScale) {
    mt::ModelSpec m;
    m.opcodes = {{.builtin = static_cast<int32_t>(fb::BuiltinOperator::BATCH_MATMUL)}};
    m.buffers.resize(2);
    m.buffers[1].data = mt::bytesOf(std::vector<int8_t>{1, 2, 3, 4});
    mt::SubgraphSpec sg;
    sg.tensors = {
        {.name = "lhs",
         .type = fb::TensorType::INT16,
         .shape = {1, 2},
         .scales = {1.0f},
         .zero_points = {{0}}},
        {.name = "rhs",
         .shape = {2, 2},
         .buffer = 1,
         .scales = {0.5f, 0.25f},
         .zero_points = {{0, 0}},
         .quantized_dimension = 1},
        {.name = "out",
         .type = fb::TensorType::INT16,
         .shape = {1, 2},
         .scales = {1.0f},
         .zero_points = {{0}}},
    };
    sg.inputs = {0};
    sg.outputs = {2};
    sg.ops = {{.opcode = 0, .inputs = {0, 1}, .outputs = {2}}};
    m.subgraphs.push_back(std::move(sg));
    auto model = load(m);
    ASSERT_TRUE(model) << model.error().message;
    TensorValue lhs(model::DType::Int16, {1, 2});
    lhs.data<int16_t>()[0] = 100;
    lhs.data<int16_t>()[1] = -10;
    std::vector<TensorValue> inputs{lhs};
    // {100, -10} x [[1, 2], [3, 4]] = {70, 160}; TFLM scale 0.5 -> {35, 80}.
    RunOptions ref;
    auto r = run(*model, SubgraphId{0}, inputs, ref);
    ASSERT_TRUE(r && r->complete());
    EXPECT_EQ(r->values[2].data<int16_t>()[0], 35);
    EXPECT_EQ(r->values[2].data<int16_t>()[1], 80);
    RunOptions builtin;
    builtin.profile = RoundingProfile::Builtin;
    r = run(*model, SubgraphId{0}, inputs, builtin);
    ASSERT_TRUE(r && r->complete());
    EXPECT_EQ(r->values[2].data<int16_t>()[0], 0);
    EXPECT_EQ(r->values[2].data<int16_t>()[1], 0);
}

}  // namespace

// ---- hybrid (dynamic-range) kernels ----

#include "engine/kernels/hybrid.h"

namespace {

TEST(Hybrid, SymmetricQuantizeRoundsHalfAwayFromZero) {
    const float x[] = {1.0f, -0.5f, 0.25f};
    int8_t q[3] = {};
    const float scale = symmetricQuantizeFloats(x, q);
    // range 1 -> scale 1/127; -63.5 -> -64, 31.75 -> 32.
    EXPECT_FLOAT_EQ(scale, 1.0f / 127.0f);
    EXPECT_EQ(q[0], 127);
    EXPECT_EQ(q[1], -64);
    EXPECT_EQ(q[2], 32);
    const float zeros[] = {0.0f, 0.0f};
    EXPECT_EQ(symmetricQuantizeFloats(zeros, q), 1.0f);
    EXPECT_EQ(q[0], 0);
}

TEST(Hybrid, AsymmetricAndXnnpackQuantize) {
    // [-1, 0.5] over 255 steps: scale 1.5/255, zero point 127 - 0.5/scale = 42.
    const float x[] = {-1.0f, 0.5f, 0.0f};
    int8_t q[3] = {};
    auto a = asymmetricQuantizeFloats(x, q);
    EXPECT_FLOAT_EQ(a.scale, 1.5f / 255.0f);
    EXPECT_EQ(a.zero_point, 42);
    EXPECT_EQ(q[0], -128);
    EXPECT_EQ(q[1], 127);
    EXPECT_EQ(q[2], 42);
    int8_t qx[3] = {};
    auto b = xnnpackQuantizeFloats(x, qx);
    EXPECT_FLOAT_EQ(b.scale, 1.5f / 255.0f);
    EXPECT_EQ(b.zero_point, 42);
    EXPECT_TRUE(std::equal(q, q + 3, qx));
    // Only positive values: the range still includes 0, so the zero point is -128.
    const float pos[] = {2.0f, 1.0f};
    a = asymmetricQuantizeFloats(pos, q);
    EXPECT_EQ(a.zero_point, -128);
    EXPECT_EQ(q[0], 127);
}

// portable_tensor_utils.cc PortableAsymmetricQuantizeFloats rounds zp + x * (1.0f / scale)
// as one float, half away from zero (found on mobilenet_v2_035_96_embedder ops 36/39/50).
TEST(Hybrid, AsymmetricQuantizeAddsZeroPointBeforeRounding) {
    // [0, 255]: scale 1, zero point -128. 2.5 -> round(-125.5) = -126, where
    // round(2.5) - 128 would give -125.
    const float x[] = {255.0f, 2.5f, 3.5f};
    int8_t q[3] = {};
    auto a = asymmetricQuantizeFloats(x, q);
    EXPECT_EQ(a.scale, 1.0f);
    EXPECT_EQ(a.zero_point, -128);
    EXPECT_EQ(q[0], 127);
    EXPECT_EQ(q[1], -126);
    EXPECT_EQ(q[2], -125);  // round(-124.5) = -125 (round(3.5) - 128 = -124)
}

TEST(Hybrid, AsymmetricQuantizeInvertsTheFloatScale) {
    // [0, 0.25]: scale 0.25/255 in double, stored as float; 1.0f / that float is
    // 1019.99994f, while float(255 / 0.25) would be 1020. 0.175f * 1019.99994f = 178.49998f
    // -> round(50.49998) = 50; with 1020 it would be 178.5 -> 51.
    const float x[] = {0.25f, 0.175f};
    int8_t q[2] = {};
    auto a = asymmetricQuantizeFloats(x, q);
    EXPECT_EQ(a.scale, static_cast<float>(0.25 / 255.0));
    EXPECT_EQ(a.zero_point, -128);
    EXPECT_EQ(q[0], 127);
    EXPECT_EQ(q[1], 50);
}

// FULLY_CONNECTED with float input and int8 weights goes to the hybrid kernel: the input
// {1, -0.5} is quantized to {127, -64} (scale 1/127), so unit 0 gives
// 0.25 + (2*127 + 4*(-64)) * (1/127 * 0.5) = 0.25 - 1/127, not the float 0.25.
TEST(HybridModel, FullyConnectedQuantizesItsInput) {
    mt::ModelSpec m;
    m.opcodes = {{.builtin = static_cast<int32_t>(fb::BuiltinOperator::FULLY_CONNECTED)}};
    m.buffers.resize(3);
    m.buffers[1].data = mt::bytesOf(std::vector<int8_t>{2, 4, -1, 1});
    m.buffers[2].data = mt::bytesOf(std::vector<float>{0.25f, 0.0f});
    mt::SubgraphSpec sg;
    sg.tensors = {
        {.name = "in", .type = fb::TensorType::FLOAT32, .shape = {1, 2}},
        {.name = "w", .shape = {2, 2}, .buffer = 1, .scales = {0.5f}, .zero_points = {{0}}},
        {.name = "b", .type = fb::TensorType::FLOAT32, .shape = {2}, .buffer = 2},
        {.name = "out", .type = fb::TensorType::FLOAT32, .shape = {1, 2}},
    };
    sg.inputs = {0};
    sg.outputs = {3};
    sg.ops = {{.opcode = 0,
               .inputs = {0, 1, 2},
               .outputs = {3},
               .options = mt::fullyConnectedOptions(fb::ActivationFunctionType::RELU)}};
    m.subgraphs.push_back(std::move(sg));
    auto model = load(m);
    ASSERT_TRUE(model) << model.error().message;
    std::vector<TensorValue> inputs{floatTensor({1, 2}, {1.0f, -0.5f})};
    for (auto profile : {RoundingProfile::Builtin, RoundingProfile::Xnnpack}) {
        RunOptions o;
        o.profile = profile;
        auto r = run(*model, SubgraphId{0}, inputs, o);
        ASSERT_TRUE(r && r->complete()) << (r ? "" : r.error().message);
        auto v = r->values[3].data<float>();
        if (profile == RoundingProfile::Builtin) {
            EXPECT_FLOAT_EQ(v[0], 0.25f + (-2.0f) * ((1.0f / 127.0f) * 0.5f));
        } else {
            // XNNPACK qd8: [-0.5, 1] -> scale 1.5/255, zero point -43 (127 - 1/scale = -43):
            // {1, -0.5} -> {127, -128}; acc = (127+43)*2 + (-128+43)*4 = 0 -> exactly 0.25.
            EXPECT_FLOAT_EQ(v[0], 0.25f);
        }
        EXPECT_EQ(v[1], 0.0f);  // negative before RELU
    }
}

}  // namespace
