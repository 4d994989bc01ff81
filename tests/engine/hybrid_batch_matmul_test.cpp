// Hybrid BATCH_MATMUL (float lhs x constant int8 rhs), picked by the executor from
// KernelRegistry::hybrid(). Expected values from tests/engine/hybrid_bmm_oracle.py (numpy in
// float32, per-row quantization as LiteRT's batch_matmul.cc EvalHybrid); the engine forms the
// same float32 operations, so the comparison is to 1 ulp.
#include <gtest/gtest.h>

#include "engine/executor.h"
#include "model/loader.h"
#include "model/test_model_factory.h"

using namespace qs;
using namespace qs::engine;
namespace mt = qs::model::testing;
namespace fb = qs::fb;

namespace {

struct BmmCase {
    std::vector<int32_t> lhs_shape, rhs_shape, out_shape;
    std::vector<int8_t> rhs;
    std::vector<float> scales{0.01f};
    int32_t quantized_dimension = 0;
    bool adj_x = false, adj_y = false, asymmetric = false;
};

mt::ModelSpec bmmSpec(const BmmCase& c) {
    mt::ModelSpec m;
    m.opcodes = {{.builtin = static_cast<int32_t>(fb::BuiltinOperator::BATCH_MATMUL)}};
    m.buffers.resize(2);
    m.buffers[1].data = mt::bytesOf(c.rhs);
    mt::SubgraphSpec sg;
    sg.tensors = {
        {.name = "lhs", .type = fb::TensorType::FLOAT32, .shape = c.lhs_shape},
        {.name = "rhs",
         .shape = c.rhs_shape,
         .buffer = 1,
         .scales = c.scales,
         .zero_points = std::vector<int64_t>(c.scales.size(), 0),
         .quantized_dimension = c.quantized_dimension},
        {.name = "out", .type = fb::TensorType::FLOAT32, .shape = c.out_shape},
    };
    sg.inputs = {0};
    sg.outputs = {2};
    const bool ax = c.adj_x, ay = c.adj_y, asym = c.asymmetric;
    sg.ops = {{.opcode = 0,
               .inputs = {0, 1},
               .outputs = {2},
               .options = [=](flatbuffers::FlatBufferBuilder& b) {
                   return std::pair{fb::BuiltinOptions::BatchMatMulOptions,
                                    fb::CreateBatchMatMulOptions(b, ax, ay, asym).Union()};
               }}};
    m.subgraphs.push_back(std::move(sg));
    return m;
}

std::vector<float> runCase(const BmmCase& c, const std::vector<float>& lhs,
                           RoundingProfile profile = RoundingProfile::Builtin) {
    auto bytes = mt::serialize(bmmSpec(c));
    auto m = model::loadModelFromBuffer(bytes, "test");
    EXPECT_TRUE(m) << m.error().message;
    if (!m) return {};
    TensorValue in(model::DType::Float32, c.lhs_shape);
    std::copy(lhs.begin(), lhs.end(), in.data<float>().begin());
    RunOptions o;
    o.profile = profile;
    auto r = run(*m, SubgraphId{0}, std::span<const TensorValue>(&in, 1), o);
    EXPECT_TRUE(r) << r.error().message;
    if (!r) return {};
    EXPECT_TRUE(r->complete()) << (r->warnings.empty() ? "" : r->warnings.front());
    if (!r->complete()) return {};
    EXPECT_EQ(r->values[2].shape(), c.out_shape);
    auto s = r->values[2].data<float>();
    return {s.begin(), s.end()};
}

void expectUlp(const std::vector<float>& got, const std::vector<float>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) EXPECT_FLOAT_EQ(got[i], want[i]) << "[" << i << "]";
}

// lhs [2,3] x rhs [3,2] (int8, scale 0.01). float reference: -0.044, -0.243, 0.196, -0.116.
const std::vector<float> kLhs{1.27f, -0.5f, 0.3f, 0.2f, 0.4f, -0.8f};
const std::vector<int8_t> kRhs{10, -20, 30, 5, -7, 12};

BmmCase plainCase() {
    return {.lhs_shape = {2, 3}, .rhs_shape = {3, 2}, .out_shape = {2, 2}, .rhs = kRhs};
}

TEST(HybridBatchMatMul, SymmetricPerRowQuantization) {
    // Row 0 has max |x| 1.27, so it quantizes exactly (scale 0.01): -0.044, -0.243 as float.
    // Row 1 (max 0.8) does not: 0.19710237, -0.11615748 instead of 0.196, -0.116.
    const std::vector<float> want{-0.044f, -0.243f, 0.19710237f, -0.11615748f};
    expectUlp(runCase(plainCase(), kLhs), want);
    // The reference profiles run the same TFLite arithmetic (TFLM has no hybrid kernel).
    expectUlp(runCase(plainCase(), kLhs, RoundingProfile::Reference), want);
}

TEST(HybridBatchMatMul, AsymmetricInputs) {
    BmmCase c = plainCase();
    c.asymmetric = true;
    expectUlp(runCase(c, kLhs), {-0.043798823f, -0.24321881f, 0.1962353f, -0.11647059f});
}

TEST(HybridBatchMatMul, PerChannelWeights) {
    BmmCase c = plainCase();
    c.scales = {0.01f, 0.02f};
    c.quantized_dimension = 1;
    expectUlp(runCase(c, kLhs), {-0.044f, -0.486f, 0.19710237f, -0.23231496f});
    // One scale per depth entry: a valid file, but not what TFLite's kernel can apply.
    c.scales = {0.01f, 0.02f, 0.03f};
    c.quantized_dimension = 0;
    auto bytes = mt::serialize(bmmSpec(c));
    auto m = model::loadModelFromBuffer(bytes, "test");
    ASSERT_TRUE(m) << m.error().message;
    auto r = run(*m, SubgraphId{0}, {}, {});
    ASSERT_TRUE(r && r->stopped_at);
    EXPECT_NE(r->warnings.front().find("one scale per output column"), std::string::npos)
        << r->warnings.front();
}

TEST(HybridBatchMatMul, AdjointsReadTransposedOperands) {
    // lhs^T [3,2] with adj_x and rhs^T [2,3] with adj_y: the same product as plainCase.
    BmmCase c{.lhs_shape = {3, 2},
              .rhs_shape = {2, 3},
              .out_shape = {2, 2},
              .rhs = {10, 30, -7, -20, 5, 12},
              .adj_x = true,
              .adj_y = true};
    expectUlp(runCase(c, {1.27f, 0.2f, -0.5f, 0.4f, 0.3f, -0.8f}),
              {-0.044f, -0.243f, 0.19710237f, -0.11615748f});
}

TEST(HybridBatchMatMul, BroadcastRhsCompressesBatches) {
    // lhs [2,1,3] x rhs [1,3,2]: upstream folds the lhs batch into rows; each row is still
    // quantized on its own, so the result is plainCase's.
    BmmCase c{.lhs_shape = {2, 1, 3}, .rhs_shape = {1, 3, 2}, .out_shape = {2, 1, 2}, .rhs = kRhs};
    expectUlp(runCase(c, kLhs), {-0.044f, -0.243f, 0.19710237f, -0.11615748f});
}

TEST(HybridBatchMatMul, RankFourScaleOffsetQuirk) {
    // lhs [2,2,1,3] x rhs [2,2,3,2], scale 0.05. reference/batch_matmul.h offsets the row
    // scales by (b1 + b2) rows, not (2 * b1 + b2): matrix (1,0) is scaled with (0,1)'s row
    // scale and (1,1) with (1,0)'s. Rows have max |x| 1, 2, 4, 0.8, so the correct results
    // of matrices 2 and 3 would be twice and a fifth of what TFLite returns.
    BmmCase c{.lhs_shape = {2, 2, 1, 3},
              .rhs_shape = {2, 2, 3, 2},
              .out_shape = {2, 2, 1, 2},
              .rhs = {1, 2, 3, 4, 5, 6, -1, 0, 2, -3, 4, 1, 7, -7, 0, 1, 2, 2, 3, 3, -2, 5, 1, -1},
              .scales = {0.05f}};
    const std::vector<float> lhs{1.0f,  0.5f, -0.25f, 2.0f, -1.0f, 0.5f,
                                 -4.0f, 1.0f, 2.0f,   0.8f, 0.2f,  -0.4f};
    expectUlp(runCase(c, lhs), {0.062598422f, 0.12519684f, -0.1f, 0.17637795f, -0.59921259f,
                                0.82598424f, 0.39842519f, 0.95275593f});
}

}  // namespace
