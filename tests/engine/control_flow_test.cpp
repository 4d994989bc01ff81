// IF / WHILE / CALL_ONCE through the executor, on small multi-subgraph models built with the
// test model factory, and the executor's variable-tensor state across runs.
#include <gtest/gtest.h>

#include "engine/executor.h"
#include "model/loader.h"
#include "model/test_model_factory.h"

using namespace qs;
using namespace qs::engine;
namespace mt = qs::model::testing;
namespace fb = qs::fb;

namespace {

constexpr auto kAdd = static_cast<int32_t>(fb::BuiltinOperator::ADD);
constexpr auto kIf = static_cast<int32_t>(fb::BuiltinOperator::IF);
constexpr auto kWhile = static_cast<int32_t>(fb::BuiltinOperator::WHILE);
constexpr auto kLess = static_cast<int32_t>(fb::BuiltinOperator::LESS);
constexpr auto kCallOnce = static_cast<int32_t>(fb::BuiltinOperator::CALL_ONCE);
constexpr auto kConcat = static_cast<int32_t>(fb::BuiltinOperator::CONCATENATION);

Result<model::Model> load(const mt::ModelSpec& spec) {
    auto bytes = mt::serialize(spec);
    return model::loadModelFromBuffer(bytes, "test");
}

mt::OptionsFn ifOptions(int then_sg, int else_sg) {
    return [=](flatbuffers::FlatBufferBuilder& b) {
        return std::pair{fb::BuiltinOptions::IfOptions,
                         fb::CreateIfOptions(b, then_sg, else_sg).Union()};
    };
}
mt::OptionsFn whileOptions(int cond_sg, int body_sg) {
    return [=](flatbuffers::FlatBufferBuilder& b) {
        return std::pair{fb::BuiltinOptions::WhileOptions,
                         fb::CreateWhileOptions(b, cond_sg, body_sg).Union()};
    };
}
mt::OptionsFn callOnceOptions(int init_sg) {
    return [=](flatbuffers::FlatBufferBuilder& b) {
        return std::pair{fb::BuiltinOptions::CallOnceOptions,
                         fb::CreateCallOnceOptions(b, init_sg).Union()};
    };
}
mt::OptionsFn concatOptions(int axis) {
    return [=](flatbuffers::FlatBufferBuilder& b) {
        return std::pair{fb::BuiltinOptions::ConcatenationOptions,
                         fb::CreateConcatenationOptions(b, axis).Union()};
    };
}
const mt::OptionsFn kAddNone = mt::addOptions(fb::ActivationFunctionType::NONE);

mt::TensorSpec floatT(std::string name, std::vector<int32_t> shape, uint32_t buffer = 0) {
    return {.name = std::move(name),
            .type = fb::TensorType::FLOAT32,
            .shape = std::move(shape),
            .buffer = buffer};
}
mt::TensorSpec intT(std::string name, std::vector<int32_t> shape, uint32_t buffer = 0) {
    return {.name = std::move(name),
            .type = fb::TensorType::INT32,
            .shape = std::move(shape),
            .buffer = buffer};
}

TensorValue floats(std::vector<int32_t> shape, std::vector<float> v) {
    TensorValue t(model::DType::Float32, std::move(shape));
    std::copy(v.begin(), v.end(), t.data<float>().begin());
    return t;
}
TensorValue boolean(bool b) {
    TensorValue t(model::DType::Bool, {1});
    t.data<uint8_t>()[0] = b ? 1 : 0;
    return t;
}
TensorValue int32s(std::vector<int32_t> shape, std::vector<int32_t> v) {
    TensorValue t(model::DType::Int32, std::move(shape));
    std::copy(v.begin(), v.end(), t.data<int32_t>().begin());
    return t;
}

// Subgraph 0: IF(cond, x) -> y. Then (1): a + a. Else (2): a + {10, 20}.
mt::ModelSpec ifSpec(int then_sg = 1) {
    mt::ModelSpec m;
    m.opcodes = {{.builtin = kIf}, {.builtin = kAdd}};
    m.buffers.resize(2);
    m.buffers[1].data = mt::bytesOf(std::vector<float>{10.0f, 20.0f});
    mt::SubgraphSpec main;
    main.name = "main";
    main.tensors = {{.name = "cond", .type = fb::TensorType::BOOL, .shape = {1}},
                    floatT("x", {2}),
                    floatT("y", {2})};
    main.inputs = {0, 1};
    main.outputs = {2};
    main.ops = {{.opcode = 0, .inputs = {0, 1}, .outputs = {2}, .options = ifOptions(then_sg, 2)}};
    mt::SubgraphSpec then_sg_spec;
    then_sg_spec.name = "then";
    then_sg_spec.tensors = {floatT("a", {2}), floatT("twice", {2})};
    then_sg_spec.inputs = {0};
    then_sg_spec.outputs = {1};
    then_sg_spec.ops = {{.opcode = 1, .inputs = {0, 0}, .outputs = {1}, .options = kAddNone}};
    mt::SubgraphSpec else_sg;
    else_sg.name = "else";
    else_sg.tensors = {floatT("a", {2}), floatT("k", {2}, 1), floatT("plus", {2})};
    else_sg.inputs = {0};
    else_sg.outputs = {2};
    else_sg.ops = {{.opcode = 1, .inputs = {0, 1}, .outputs = {2}, .options = kAddNone}};
    m.subgraphs = {main, then_sg_spec, else_sg};
    return m;
}

TEST(ControlFlow, IfRunsTheBranchTheConditionPicks) {
    auto m = load(ifSpec());
    ASSERT_TRUE(m) << m.error().message;
    int body_records = 0;
    RunOptions o;
    o.body_recorder = [&](SubgraphId sg, OpId, TensorId, const TensorValue&) {
        EXPECT_NE(sg.value, 0);
        ++body_records;
    };
    int main_records = 0;
    o.recorder = [&](OpId, TensorId t, const TensorValue&) {
        EXPECT_LT(t.value, 3);
        ++main_records;
    };
    std::vector<TensorValue> in{boolean(true), floats({2}, {1.5f, -2.0f})};
    auto r = run(*m, SubgraphId{0}, in, o);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(r->complete()) << (r->warnings.empty() ? "" : r->warnings.back());
    EXPECT_EQ(r->values[2].data<float>()[0], 3.0f);
    EXPECT_EQ(r->values[2].data<float>()[1], -4.0f);
    EXPECT_EQ(main_records, 3);  // cond, x, y
    EXPECT_EQ(body_records, 2);  // the then-branch's input and its ADD output

    in[0] = boolean(false);
    r = run(*m, SubgraphId{0}, in, o);
    ASSERT_TRUE(r && r->complete());
    EXPECT_EQ(r->values[2].data<float>()[0], 11.5f);
    EXPECT_EQ(r->values[2].data<float>()[1], 18.0f);
}

TEST(ControlFlow, IfThatCallsItsOwnSubgraphStopsAtPrepare) {
    auto m = load(ifSpec(/*then_sg=*/0));
    ASSERT_TRUE(m) << m.error().message;
    std::vector<TensorValue> in{boolean(true), floats({2}, {1.0f, 2.0f})};
    auto r = run(*m, SubgraphId{0}, in, {});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(r->stopped_at);
    EXPECT_EQ(r->stopped_at->value, 0);
    ASSERT_FALSE(r->warnings.empty());
    EXPECT_NE(r->warnings[0].find("recursion"), std::string::npos) << r->warnings[0];
}

// Subgraph 0: WHILE(i, acc) -> (i_out, acc_out). Cond (1): i < limit. Body (2):
// (i + 1, acc + acc). With limit 5 and i = 0 the body runs 5 times: acc * 32.
mt::ModelSpec whileSpec(int32_t limit, bool grow_in_body = false) {
    mt::ModelSpec m;
    m.opcodes = {{.builtin = kWhile}, {.builtin = kLess}, {.builtin = kAdd}, {.builtin = kConcat}};
    m.buffers.resize(3);
    m.buffers[1].data = mt::bytesOf(std::vector<int32_t>{limit});
    m.buffers[2].data = mt::bytesOf(std::vector<int32_t>{1});
    mt::SubgraphSpec main;
    main.name = "main";
    main.tensors = {intT("i", {1}), floatT("acc", {2}), intT("i_out", {1}), floatT("acc_out", {2})};
    main.inputs = {0, 1};
    main.outputs = {2, 3};
    main.ops = {{.opcode = 0, .inputs = {0, 1}, .outputs = {2, 3}, .options = whileOptions(1, 2)}};
    mt::SubgraphSpec cond;
    cond.name = "cond";
    cond.tensors = {intT("i", {1}),
                    floatT("acc", {2}),
                    intT("limit", {1}, 1),
                    {.name = "go", .type = fb::TensorType::BOOL, .shape = {1}}};
    cond.inputs = {0, 1};
    cond.outputs = {3};
    cond.ops = {{.opcode = 1, .inputs = {0, 2}, .outputs = {3}}};
    mt::SubgraphSpec body;
    body.name = "body";
    body.tensors = {intT("i", {1}), floatT("acc", {2}), intT("one", {1}, 2), intT("i_next", {1}),
                    floatT("acc_next", {grow_in_body ? 4 : 2})};
    body.inputs = {0, 1};
    body.outputs = {3, 4};
    body.ops = {{.opcode = 2, .inputs = {0, 2}, .outputs = {3}, .options = kAddNone}};
    if (grow_in_body)
        body.ops.push_back(
            {.opcode = 3, .inputs = {1, 1}, .outputs = {4}, .options = concatOptions(0)});
    else
        body.ops.push_back({.opcode = 2, .inputs = {1, 1}, .outputs = {4}, .options = kAddNone});
    m.subgraphs = {main, cond, body};
    return m;
}

TEST(ControlFlow, WhileCarriesValuesUntilTheConditionFails) {
    auto m = load(whileSpec(5));
    ASSERT_TRUE(m) << m.error().message;
    std::vector<TensorValue> in{int32s({1}, {0}), floats({2}, {1.0f, -0.25f})};
    auto r = run(*m, SubgraphId{0}, in, {});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(r->complete()) << (r->warnings.empty() ? "" : r->warnings.back());
    EXPECT_EQ(r->values[2].data<int32_t>()[0], 5);
    EXPECT_EQ(r->values[3].data<float>()[0], 32.0f);
    EXPECT_EQ(r->values[3].data<float>()[1], -8.0f);

    // Condition false at once: the outputs are the inputs, the body never runs.
    in[0] = int32s({1}, {7});
    r = run(*m, SubgraphId{0}, in, {});
    ASSERT_TRUE(r && r->complete());
    EXPECT_EQ(r->values[2].data<int32_t>()[0], 7);
    EXPECT_EQ(r->values[3].data<float>()[0], 1.0f);
}

TEST(ControlFlow, WhileIterationLimitStopsTheRun) {
    auto m = load(whileSpec(1000));
    ASSERT_TRUE(m) << m.error().message;
    std::vector<TensorValue> in{int32s({1}, {0}), floats({2}, {0.0f, 0.0f})};
    RunOptions o;
    o.max_while_iterations = 10;
    auto r = run(*m, SubgraphId{0}, in, o);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(r->stopped_at);
    EXPECT_EQ(r->stopped_at->value, 0);
    EXPECT_FALSE(r->values[2].valid());
    EXPECT_NE(r->warnings.back().find("did not end after 10 iterations"), std::string::npos)
        << r->warnings.back();
}

TEST(ControlFlow, WhileBodyThatChangesShapesIsRejectedClearly) {
    auto m = load(whileSpec(5, /*grow_in_body=*/true));
    ASSERT_TRUE(m) << m.error().message;
    std::vector<TensorValue> in{int32s({1}, {0}), floats({2}, {1.0f, 2.0f})};
    auto r = run(*m, SubgraphId{0}, in, {});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(r->stopped_at);
    ASSERT_FALSE(r->warnings.empty());
    EXPECT_NE(r->warnings[0].find("changes loop value 1 from [2] to [4]"), std::string::npos)
        << r->warnings[0];
}

// Subgraph 0: CALL_ONCE(init = 1), then y = x + x. The init subgraph adds two constants.
TEST(ControlFlow, CallOnceRunsItsInitSubgraphOncePerPreparedGraph) {
    mt::ModelSpec m;
    m.opcodes = {{.builtin = kCallOnce}, {.builtin = kAdd}};
    m.buffers.resize(2);
    m.buffers[1].data = mt::bytesOf(std::vector<float>{4.0f});
    mt::SubgraphSpec main;
    main.tensors = {floatT("x", {1}), floatT("y", {1})};
    main.inputs = {0};
    main.outputs = {1};
    main.ops = {{.opcode = 0, .options = callOnceOptions(1)},
                {.opcode = 1, .inputs = {0, 0}, .outputs = {1}, .options = kAddNone}};
    mt::SubgraphSpec init;
    init.tensors = {floatT("k", {1}, 1), floatT("k2", {1})};
    init.ops = {{.opcode = 1, .inputs = {0, 0}, .outputs = {1}, .options = kAddNone}};
    m.subgraphs = {main, init};
    auto model = load(m);
    ASSERT_TRUE(model) << model.error().message;
    auto prepared =
        PreparedGraph::prepare(*model, SubgraphId{0}, RoundingProfile::Reference, false);
    ASSERT_TRUE(prepared) << prepared.error().message;
    ASSERT_FALSE(prepared->stopsAt());
    std::vector<float> init_values;
    RunOptions o;
    o.body_recorder = [&](SubgraphId sg, OpId op, TensorId t, const TensorValue& v) {
        EXPECT_EQ(sg.value, 1);
        EXPECT_EQ(op.value, 0);
        EXPECT_EQ(t.value, 1);
        init_values.push_back(v.data<float>()[0]);
    };
    std::vector<TensorValue> in{floats({1}, {3.0f})};
    for (int i = 0; i < 3; ++i) {
        auto r = prepared->run(in, o);
        ASSERT_TRUE(r && r->complete());
        EXPECT_EQ(r->values[1].data<float>()[0], 6.0f);
        EXPECT_EQ(r->ops_run, 2);
    }
    EXPECT_EQ(init_values, std::vector<float>{8.0f});
}

}  // namespace
