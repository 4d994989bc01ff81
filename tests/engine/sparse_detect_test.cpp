// DENSIFY (sparse constants) and the TFLite_Detection_PostProcess custom op, on hand-built
// models whose expected values are worked out in the comments.
#include <gtest/gtest.h>

#include "engine/executor.h"
#include "engine/kernels/densify.h"
#include "model/loader.h"
#include "model/test_model_factory.h"

using namespace qs;
using namespace qs::engine;
namespace mt = qs::model::testing;
namespace fb = qs::fb;

namespace {

Result<model::Model> load(const mt::ModelSpec& spec) {
    auto bytes = mt::serialize(spec);
    return model::loadModelFromBuffer(bytes, "test");
}

TensorValue floats(std::vector<int32_t> shape, std::vector<float> v) {
    TensorValue t(model::DType::Float32, std::move(shape));
    std::copy(v.begin(), v.end(), t.data<float>().begin());
    return t;
}

// A 4x4 float matrix in 2x2 blocks (the layout of TFLite's sparsity documentation):
// traversal_order {0, 1, 2, 3}, block_map {0, 1}; the block rows are dense (2), the block
// columns CSR with segments {0, 2, 3} and indices {0, 1, col}: row-block 0 holds blocks at
// columns 0 and 1, row-block 1 a block at column `col`. Values 1..12, block by block.
mt::ModelSpec densifySpec(int32_t col) {
    mt::ModelSpec m;
    m.opcodes = {{.builtin = static_cast<int32_t>(fb::BuiltinOperator::DENSIFY)},
                 {.builtin = static_cast<int32_t>(fb::BuiltinOperator::ADD)}};
    m.buffers.resize(2);
    std::vector<float> values(12);
    for (int i = 0; i < 12; ++i) values[static_cast<size_t>(i)] = static_cast<float>(i + 1);
    m.buffers[1].data = mt::bytesOf(values);
    mt::SparsitySpec sp;
    sp.traversal_order = {0, 1, 2, 3};
    sp.block_map = {0, 1};
    sp.dims = {{.dense_size = 2},
               {.sparse = true, .segments = {0, 2, 3}, .indices = {0, 1, col}},
               {.dense_size = 2},
               {.dense_size = 2}};
    mt::SubgraphSpec sg;
    const auto f32 = fb::TensorType::FLOAT32;
    sg.tensors = {{.name = "sparse", .type = f32, .shape = {4, 4}, .buffer = 1, .sparsity = sp},
                  {.name = "dense", .type = f32, .shape = {4, 4}},
                  {.name = "x", .type = f32, .shape = {4, 4}},
                  {.name = "y", .type = f32, .shape = {4, 4}}};
    sg.inputs = {2};
    sg.outputs = {3};
    sg.ops = {{.opcode = 0, .inputs = {0}, .outputs = {1}},
              {.opcode = 1,
               .inputs = {2, 1},
               .outputs = {3},
               .options = mt::addOptions(fb::ActivationFunctionType::NONE)}};
    m.subgraphs.push_back(std::move(sg));
    return m;
}

TEST(Densify, BlockSparseMatrixByHand) {
    auto m = load(densifySpec(1));
    ASSERT_TRUE(m) << m.error().message;
    std::vector<TensorValue> in{TensorValue(model::DType::Float32, {4, 4})};
    in[0].data<float>()[15] = 100.0f;
    auto r = run(*m, SubgraphId{0}, in, {});
    ASSERT_TRUE(r && r->complete()) << (r ? r->warnings.back() : r.error().message);
    // Block (0,0) = {1,2;3,4}, block (0,1) = {5,6;7,8}, block (1,1) = {9,10;11,12}.
    const std::vector<float> want = {1, 2, 5, 6, 3, 4, 7, 8, 0, 0, 9, 10, 0, 0, 11, 12};
    auto d = r->values[1].data<float>();
    EXPECT_EQ(std::vector<float>(d.begin(), d.end()), want);
    EXPECT_EQ(r->values[3].data<float>()[15], 112.0f);  // the ADD saw the dense weights
    EXPECT_EQ(r->values[3].data<float>()[8], 0.0f);
}

TEST(Densify, IndexOutsideTheShapeStopsAtPrepare) {
    auto m = load(densifySpec(2));  // block column 2 of a 2-block-wide matrix
    ASSERT_TRUE(m) << m.error().message;
    auto dense = kernels::densifySparseTensor(m->main().tensors[0]);
    ASSERT_FALSE(dense);
    EXPECT_NE(dense.error().message.find("index 4 of dimension 1 (size 4)"), std::string::npos)
        << dense.error().message;
    auto r = run(*m, SubgraphId{0}, {}, {});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(r->stopped_at);
    EXPECT_EQ(r->stopped_at->value, 0);
}

TEST(Densify, OnlyDensifyReadsSparseConstants) {
    auto spec = densifySpec(1);
    spec.main().ops.erase(spec.main().ops.begin());  // ADD reads the sparse tensor directly
    spec.main().ops[0].inputs = {2, 0};
    auto m = load(spec);
    ASSERT_TRUE(m) << m.error().message;
    auto r = run(*m, SubgraphId{0}, {}, {});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(r->stopped_at);
    EXPECT_NE(r->warnings[0].find("only DENSIFY can read"), std::string::npos) << r->warnings[0];
}

}  // namespace
