// Stateful ops (SVDF, UNIDIRECTIONAL_SEQUENCE_LSTM) on hand-computed values, through the
// executor so the variable state tensor is exercised: zero state per run by default, kept
// across runs of a PreparedGraph with RunOptions::keep_state.
#include <gtest/gtest.h>

#include "engine/executor.h"
#include "engine/kernels/svdf.h"
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

mt::OptionsFn svdfOptions(int rank, fb::ActivationFunctionType act) {
    return [=](flatbuffers::FlatBufferBuilder& b) {
        return std::pair{fb::BuiltinOptions::SVDFOptions,
                         fb::CreateSVDFOptions(b, rank, act).Union()};
    };
}

template <class T>
std::vector<T> valuesOf(const TensorValue& v) {
    auto s = v.data<T>();
    return {s.begin(), s.end()};
}

// Float SVDF: input [1,2], weights_feature [[1, 2], [0.5, -1]], weights_time (memory 3)
// [[1, 0.5, 0.25], [2, 0, -1]], bias [0.1, -0.2], rank 1 -> 2 units; state [1, 6].
mt::ModelSpec floatSvdfSpec(fb::ActivationFunctionType act) {
    mt::ModelSpec m;
    m.opcodes = {{.builtin = static_cast<int32_t>(fb::BuiltinOperator::SVDF)}};
    m.buffers.resize(4);
    m.buffers[1].data = mt::bytesOf(std::vector<float>{1.0f, 2.0f, 0.5f, -1.0f});
    m.buffers[2].data = mt::bytesOf(std::vector<float>{1.0f, 0.5f, 0.25f, 2.0f, 0.0f, -1.0f});
    m.buffers[3].data = mt::bytesOf(std::vector<float>{0.1f, -0.2f});
    mt::SubgraphSpec sg;
    const auto f32 = fb::TensorType::FLOAT32;
    sg.tensors = {
        {.name = "in", .type = f32, .shape = {1, 2}},
        {.name = "wf", .type = f32, .shape = {2, 2}, .buffer = 1},
        {.name = "wt", .type = f32, .shape = {2, 3}, .buffer = 2},
        {.name = "bias", .type = f32, .shape = {2}, .buffer = 3},
        {.name = "state", .type = f32, .shape = {1, 6}, .is_variable = true},
        {.name = "out", .type = f32, .shape = {1, 2}},
    };
    sg.inputs = {0};
    sg.outputs = {5};
    sg.ops = {
        {.opcode = 0, .inputs = {0, 1, 2, 3, 4}, .outputs = {5}, .options = svdfOptions(1, act)}};
    m.subgraphs.push_back(std::move(sg));
    return m;
}

TensorValue floats(std::vector<int32_t> shape, std::vector<float> v) {
    TensorValue t(model::DType::Float32, std::move(shape));
    std::copy(v.begin(), v.end(), t.data<float>().begin());
    return t;
}

TEST(Svdf, FloatStateShiftsAndPersistsOnRequest) {
    auto m = load(floatSvdfSpec(fb::ActivationFunctionType::NONE));
    ASSERT_TRUE(m) << m.error().message;
    auto g = PreparedGraph::prepare(*m, SubgraphId{0}, RoundingProfile::Reference, false);
    ASSERT_TRUE(g && !g->stopsAt()) << (g ? g->warnings().front() : g.error().message);
    RunOptions keep;
    keep.keep_state = true;
    int state_records = 0;
    keep.recorder = [&](OpId op, TensorId t, const TensorValue&) {
        if (t.value == 4) {
            EXPECT_EQ(op.value, 0);
            ++state_records;
        }
    };
    // Step 1, x = {1, 1}: features {3, -0.5} go to each filter's newest slot; the time filter
    // sees only them: {0.25 * 3, -1 * -0.5} + bias = {0.85, 0.3}.
    std::vector<TensorValue> in{floats({1, 2}, {1.0f, 1.0f})};
    auto r = g->run(in, keep);
    ASSERT_TRUE(r && r->complete());
    EXPECT_EQ(state_records, 1);
    EXPECT_FLOAT_EQ(r->values[5].data<float>()[0], 0.85f);
    EXPECT_FLOAT_EQ(r->values[5].data<float>()[1], 0.3f);
    EXPECT_EQ(valuesOf<float>(r->values[4]), (std::vector<float>{0, 0, 3, 0, 0, -0.5f}));
    // Step 2, x = {2, 0}: features {2, 1}; memories {0, 3, 2} and {0, -0.5, 1}:
    // {0.5 * 3 + 0.25 * 2, -1 * 1} + bias = {2.1, -1.2}.
    in[0] = floats({1, 2}, {2.0f, 0.0f});
    r = g->run(in, keep);
    ASSERT_TRUE(r && r->complete());
    EXPECT_FLOAT_EQ(r->values[5].data<float>()[0], 2.1f);
    EXPECT_FLOAT_EQ(r->values[5].data<float>()[1], -1.2f);
    EXPECT_EQ(valuesOf<float>(r->values[4]), (std::vector<float>{0, 3, 2, 0, -0.5f, 1}));
    // The default starts from zero state: x = {2, 0} alone gives {0.25 * 2 + 0.1, -1 - 0.2}.
    r = g->run(in, {});
    ASSERT_TRUE(r && r->complete());
    EXPECT_FLOAT_EQ(r->values[5].data<float>()[0], 0.6f);
    EXPECT_FLOAT_EQ(r->values[5].data<float>()[1], -1.2f);
    // That run's state is kept for the next kept run (memories {0, 2, 2}, {0, 1, 1}:
    // 0.5 * 2 + 0.25 * 2 + 0.1 = 1.6) unless resetState() clears it first.
    r = g->run(in, keep);
    ASSERT_TRUE(r && r->complete());
    EXPECT_FLOAT_EQ(r->values[5].data<float>()[0], 1.6f);
    g->resetState();
    r = g->run(in, keep);
    ASSERT_TRUE(r && r->complete());
    EXPECT_FLOAT_EQ(r->values[5].data<float>()[0], 0.6f);
}

TEST(Svdf, FloatReluAndStateMustBeVariable) {
    auto spec = floatSvdfSpec(fb::ActivationFunctionType::RELU);
    auto m = load(spec);
    ASSERT_TRUE(m) << m.error().message;
    std::vector<TensorValue> in{floats({1, 2}, {2.0f, 0.0f})};
    auto r = run(*m, SubgraphId{0}, in, {});
    ASSERT_TRUE(r && r->complete());
    EXPECT_FLOAT_EQ(r->values[5].data<float>()[0], 0.6f);
    EXPECT_EQ(r->values[5].data<float>()[1], 0.0f);  // -1.2 clamped by RELU

    // A state fed as a plain graph input is not state: TFLM rejects it in Prepare.
    spec.main().tensors[4].is_variable = false;
    spec.main().inputs = {0, 4};
    m = load(spec);
    ASSERT_TRUE(m) << m.error().message;
    in.push_back(TensorValue(model::DType::Float32, {1, 6}));
    r = run(*m, SubgraphId{0}, in, {});
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->stopped_at);
    EXPECT_NE(r->warnings[0].find("must be a variable tensor"), std::string::npos)
        << r->warnings[0];
}

// int8 SVDF with an int16 state: input scale 0.5 zp 1, weights_feature scale 0.25 and state
// scale 0.25 (scale_1 = 0.5), weights_time scale 0.5 and output scale 0.5 zp -3
// (scale_2 = 0.25). rank 2 -> one unit; memory 2.
mt::ModelSpec int8SvdfSpec() {
    mt::ModelSpec m;
    m.opcodes = {{.builtin = static_cast<int32_t>(fb::BuiltinOperator::SVDF)}};
    m.buffers.resize(4);
    m.buffers[1].data = mt::bytesOf(std::vector<int8_t>{3, -1, 2, 2});
    m.buffers[2].data = mt::bytesOf(std::vector<int16_t>{1, 2, -3, 4});
    m.buffers[3].data = mt::bytesOf(std::vector<int32_t>{-18});
    mt::SubgraphSpec sg;
    sg.tensors = {
        {.name = "in", .shape = {1, 2}, .scales = {0.5f}, .zero_points = {{1}}},
        {.name = "wf", .shape = {2, 2}, .buffer = 1, .scales = {0.25f}, .zero_points = {{0}}},
        {.name = "wt",
         .type = fb::TensorType::INT16,
         .shape = {2, 2},
         .buffer = 2,
         .scales = {0.5f},
         .zero_points = {{0}}},
        {.name = "bias",
         .type = fb::TensorType::INT32,
         .shape = {1},
         .buffer = 3,
         .scales = {0.125f},
         .zero_points = {{0}}},
        {.name = "state",
         .type = fb::TensorType::INT16,
         .shape = {1, 4},
         .is_variable = true,
         .scales = {0.25f},
         .zero_points = {{0}}},
        {.name = "out", .shape = {1, 1}, .scales = {0.5f}, .zero_points = {{-3}}},
    };
    sg.inputs = {0};
    sg.outputs = {5};
    sg.ops = {{.opcode = 0,
               .inputs = {0, 1, 2, 3, 4},
               .outputs = {5},
               .options = svdfOptions(2, fb::ActivationFunctionType::RELU)}};
    m.subgraphs.push_back(std::move(sg));
    return m;
}

TensorValue int8s(std::vector<int32_t> shape, std::vector<int8_t> v) {
    TensorValue t(model::DType::Int8, std::move(shape));
    std::copy(v.begin(), v.end(), t.data<int8_t>().begin());
    return t;
}

TEST(Svdf, Int8RoundingFollowsTheProfile) {
    auto m = load(int8SvdfSpec());
    ASSERT_TRUE(m) << m.error().message;
    // x - zp = {3, -3}: features {9 + 3, 6 - 6} = {12, 0} * 0.5 -> state {0, 6, 0, 0}.
    // Time: 2 * 6 = 12 and 0; bias -18 + 12 = -6; * 0.25 = -1.5, a negative tie:
    // double rounding (TFLM, TFLite builtin) -> -2, single rounding -> -1; then zp -3.
    // RELU is not applied by either upstream's integer kernel (-5 stays).
    std::vector<TensorValue> in{int8s({1, 2}, {4, -2})};
    for (auto [profile, want] :
         {std::pair{RoundingProfile::Reference, -5}, std::pair{RoundingProfile::SingleRounding, -4},
          std::pair{RoundingProfile::Builtin, -5}}) {
        RunOptions o;
        o.profile = profile;
        auto r = run(*m, SubgraphId{0}, in, o);
        ASSERT_TRUE(r && r->complete()) << profileName(profile);
        EXPECT_EQ(r->values[5].data<int8_t>()[0], want) << profileName(profile);
        EXPECT_EQ(valuesOf<int16_t>(r->values[4]), (std::vector<int16_t>{0, 6, 0, 0}));
    }
    // A kept second step: x - zp = {0, 2}: features {-2, 4} * 0.5 = {-1, 2}; shifted state
    // {6, -1, 0, 2}; time 6 - 2 = 4 and 8; -18 + 12 = -6 again -> -5.
    auto g = PreparedGraph::prepare(*m, SubgraphId{0}, RoundingProfile::Reference, false);
    ASSERT_TRUE(g);
    RunOptions keep;
    keep.keep_state = true;
    ASSERT_TRUE(g->run(in, keep));
    std::vector<TensorValue> in2{int8s({1, 2}, {1, 3})};
    auto r = g->run(in2, keep);
    ASSERT_TRUE(r && r->complete());
    EXPECT_EQ(valuesOf<int16_t>(r->values[4]), (std::vector<int16_t>{6, -1, 0, 2}));
    EXPECT_EQ(r->values[5].data<int8_t>()[0], -5);
}

}  // namespace

// TFLite's ResetVariableTensor (core/api/tensor_utils.cc) fills an INT8 variable with its zero
// point, so the state starts at real value 0. ADD(input, state) with every scale 1 and the
// state's zero point 5 then returns the input unchanged; a state started at raw 0 (real -5)
// would subtract 5.
TEST(VariableState, Int8StateStartsAtItsZeroPoint) {
    mt::ModelSpec m;
    m.opcodes = {{.builtin = static_cast<int32_t>(fb::BuiltinOperator::ADD)}};
    m.buffers.resize(1);
    mt::SubgraphSpec sg;
    const auto i8 = fb::TensorType::INT8;
    sg.tensors = {
        {.name = "in", .type = i8, .shape = {1, 4}, .scales = {1.0f}, .zero_points = {{0}}},
        {.name = "state", .type = i8, .shape = {1, 4}, .is_variable = true, .scales = {1.0f},
         .zero_points = {{5}}},
        {.name = "out", .type = i8, .shape = {1, 4}, .scales = {1.0f}, .zero_points = {{0}}},
    };
    sg.inputs = {0};
    sg.outputs = {2};
    sg.ops = {{.opcode = 0,
               .inputs = {0, 1},
               .outputs = {2},
               .options = mt::addOptions(fb::ActivationFunctionType::NONE)}};
    m.subgraphs.push_back(std::move(sg));
    auto model = load(m);
    ASSERT_TRUE(model) << model.error().message;

    TensorValue in(model::DType::Int8, {1, 4});
    const std::vector<int8_t> x{-7, 0, 3, 100};
    std::copy(x.begin(), x.end(), in.data<int8_t>().begin());
    std::vector<TensorValue> inputs{in};
    for (const auto profile : kAllProfiles) {
        RunOptions options;
        options.profile = profile;
        auto r = run(*model, SubgraphId{0}, inputs, options);
        ASSERT_TRUE(r && r->complete()) << profileName(profile);
        EXPECT_EQ(valuesOf<int8_t>(r->values[2]), x) << profileName(profile);
    }
}
