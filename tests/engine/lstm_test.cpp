// UNIDIRECTIONAL_SEQUENCE_LSTM (float) through the executor, so its two variable state
// tensors are exercised. Expected values come from tests/engine/lstm_oracle.py (numpy,
// float64, written from lstm_eval.cc's equations, not from the engine); run it with
// /usr/bin/python3 to see them. Float tolerance 2e-6: the engine sums in float32.
#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "engine/executor.h"
#include "engine/kernels/lstm.h"
#include "engine/kernels/ops_util.h"
#include "engine/profiles/rule_table.h"
#include "model/loader.h"
#include "model/test_model_factory.h"

using namespace qs;
using namespace qs::engine;
namespace mt = qs::model::testing;
namespace fb = qs::fb;

namespace {

constexpr float kTol = 2e-6f;

// The weights of lstm_oracle.py base(): gate order i, f, c, o.
const std::vector<float> kWx[4] = {
    {0.1f, 0.2f, -0.3f, 0.4f},
    {0.5f, -0.1f, 0.2f, 0.3f},
    {-0.4f, 0.6f, 0.7f, -0.2f},
    {0.3f, 0.1f, -0.5f, 0.2f},
};
const std::vector<float> kWh[4] = {
    {0.2f, -0.1f, 0.1f, 0.3f},
    {-0.2f, 0.4f, 0.3f, 0.1f},
    {0.6f, 0.2f, -0.1f, 0.5f},
    {0.1f, -0.3f, 0.2f, 0.2f},
};
const std::vector<float> kBias[4] = {{0.1f, -0.1f}, {1.0f, 0.5f}, {0.0f, 0.2f}, {-0.1f, 0.3f}};

struct LstmCase {
    int32_t n_batch = 1, max_time = 1, n_input = 2, n_cell = 2, n_output = 2;
    bool time_major = false;
    float cell_clip = 0.0f, proj_clip = 0.0f;
    std::map<int, std::vector<float>> constants;  // LSTM input index -> data
    std::map<int, std::vector<int32_t>> shapes;   // overrides of the role's shape
    bool state_variable = true;
    fb::TensorType weight_type = fb::TensorType::FLOAT32;
};

LstmCase baseCase() {
    LstmCase c;
    for (int g = 0; g < 4; ++g) {
        c.constants[1 + g] = kWx[g];
        c.constants[5 + g] = kWh[g];
        c.constants[12 + g] = kBias[g];
    }
    return c;
}

// Without projection the recurrent weights keep only their first column (n_output = 1).
void firstColumnOfRecurrent(LstmCase& c) {
    for (int i = 5; i <= 8; ++i) {
        auto& v = c.constants[i];
        v = {v[0], v[2]};
    }
}

std::vector<int32_t> roleShape(const LstmCase& c, int i) {
    if (auto it = c.shapes.find(i); it != c.shapes.end()) return it->second;
    if (i >= 1 && i <= 4) return {c.n_cell, c.n_input};
    if (i >= 5 && i <= 8) return {c.n_cell, c.n_output};
    if (i == 16) return {c.n_output, c.n_cell};
    if (i == 17) return {c.n_output};
    return {c.n_cell};
}

// Tensors: 0 input, 1 output, 2 h (output_state), 3 c (cell_state), then the constants.
mt::ModelSpec lstmSpec(const LstmCase& c) {
    mt::ModelSpec m;
    m.opcodes = {
        {.builtin = static_cast<int32_t>(fb::BuiltinOperator::UNIDIRECTIONAL_SEQUENCE_LSTM)}};
    m.buffers.resize(1);
    mt::SubgraphSpec sg;
    const auto f32 = fb::TensorType::FLOAT32;
    const std::vector<int32_t> in_shape =
        c.time_major ? std::vector<int32_t>{c.max_time, c.n_batch, c.n_input}
                     : std::vector<int32_t>{c.n_batch, c.max_time, c.n_input};
    const std::vector<int32_t> out_shape =
        c.time_major ? std::vector<int32_t>{c.max_time, c.n_batch, c.n_output}
                     : std::vector<int32_t>{c.n_batch, c.max_time, c.n_output};
    sg.tensors = {
        {.name = "in", .type = f32, .shape = in_shape},
        {.name = "out", .type = f32, .shape = out_shape},
        {.name = "h",
         .type = f32,
         .shape = {c.n_batch, c.n_output},
         .is_variable = c.state_variable},
        {.name = "c", .type = f32, .shape = {c.n_batch, c.n_cell}, .is_variable = c.state_variable},
    };
    std::vector<int32_t> inputs(24, -1);
    inputs[0] = 0;
    inputs[18] = 2;
    inputs[19] = 3;
    for (const auto& [i, data] : c.constants) {
        const bool quantized = c.weight_type == fb::TensorType::INT8 && i >= 1 && i <= 8;
        m.buffers.push_back({});
        if (quantized) {
            std::vector<int8_t> q(data.size());
            for (size_t k = 0; k < data.size(); ++k) q[k] = static_cast<int8_t>(data[k] * 100.0f);
            m.buffers.back().data = mt::bytesOf(q);
        } else {
            m.buffers.back().data = mt::bytesOf(data);
        }
        mt::TensorSpec t{.name = "w" + std::to_string(i),
                         .type = quantized ? fb::TensorType::INT8 : f32,
                         .shape = roleShape(c, i),
                         .buffer = static_cast<uint32_t>(m.buffers.size() - 1)};
        if (quantized) {
            t.scales = {0.01f};
            t.zero_points = std::vector<int64_t>{0};
        }
        inputs[static_cast<size_t>(i)] = static_cast<int32_t>(sg.tensors.size());
        sg.tensors.push_back(std::move(t));
    }
    // A state that is not a variable tensor must come from somewhere: graph inputs.
    sg.inputs = c.state_variable ? std::vector<int32_t>{0} : std::vector<int32_t>{0, 2, 3};
    sg.outputs = {1};
    const bool time_major = c.time_major;
    const float cell_clip = c.cell_clip, proj_clip = c.proj_clip;
    sg.ops = {{.opcode = 0,
               .inputs = inputs,
               .outputs = {1},
               .options = [=](flatbuffers::FlatBufferBuilder& b) {
                   return std::pair{
                       fb::BuiltinOptions::UnidirectionalSequenceLSTMOptions,
                       fb::CreateUnidirectionalSequenceLSTMOptions(
                           b, fb::ActivationFunctionType::TANH, cell_clip, proj_clip, time_major)
                           .Union()};
               }}};
    m.subgraphs.push_back(std::move(sg));
    return m;
}

Result<model::Model> load(const mt::ModelSpec& spec) {
    auto bytes = mt::serialize(spec);
    return model::loadModelFromBuffer(bytes, "test");
}

TensorValue floats(std::vector<int32_t> shape, std::vector<float> v) {
    TensorValue t(model::DType::Float32, std::move(shape));
    std::copy(v.begin(), v.end(), t.data<float>().begin());
    return t;
}

void expectNear(const TensorValue& v, const std::vector<double>& want, const char* what) {
    auto got = v.data<float>();
    ASSERT_EQ(got.size(), want.size()) << what;
    for (size_t i = 0; i < want.size(); ++i)
        EXPECT_NEAR(got[i], want[i], kTol) << what << " [" << i << "]";
}

// lstm_oracle.py "plain step1/step2 h c".
const std::vector<double> kH1{-0.1963142670164717, 0.0697573623778264};
const std::vector<double> kC1{-0.41490384893994825, 0.19946755486595807};
const std::vector<double> kH2{-0.19657417144868397, 0.18045795147938992};
const std::vector<double> kC2{-0.40767094974721135, 0.36308533315202607};

TEST(Lstm, FloatOneStepFromZeroState) {
    auto m = load(lstmSpec(baseCase()));
    ASSERT_TRUE(m) << m.error().message;
    std::vector<TensorValue> in{floats({1, 1, 2}, {1.0f, -2.0f})};
    auto r = run(*m, SubgraphId{0}, in, {});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(r->complete()) << r->warnings.front();
    expectNear(r->values[1], kH1, "output");
    expectNear(r->values[2], kH1, "output_state");
    expectNear(r->values[3], kC1, "cell_state");
}

TEST(Lstm, SequenceEqualsStepsWithKeptState) {
    // Two time steps in one run...
    LstmCase seq = baseCase();
    seq.max_time = 2;
    auto ms = load(lstmSpec(seq));
    ASSERT_TRUE(ms) << ms.error().message;
    std::vector<TensorValue> in2{floats({1, 2, 2}, {1.0f, -2.0f, 0.5f, 0.25f})};
    auto r = run(*ms, SubgraphId{0}, in2, {});
    ASSERT_TRUE(r && r->complete());
    std::vector<double> both = kH1;
    both.insert(both.end(), kH2.begin(), kH2.end());
    expectNear(r->values[1], both, "sequence output");
    expectNear(r->values[3], kC2, "sequence cell_state");

    // ...equal two one-step runs of a PreparedGraph that keeps its state.
    auto m = load(lstmSpec(baseCase()));
    ASSERT_TRUE(m);
    auto g = PreparedGraph::prepare(*m, SubgraphId{0}, RoundingProfile::Reference, false);
    ASSERT_TRUE(g && !g->stopsAt()) << (g ? g->warnings().front() : g.error().message);
    RunOptions keep;
    keep.keep_state = true;
    std::vector<TensorValue> x1{floats({1, 1, 2}, {1.0f, -2.0f})};
    std::vector<TensorValue> x2{floats({1, 1, 2}, {0.5f, 0.25f})};
    r = g->run(x1, keep);
    ASSERT_TRUE(r && r->complete());
    expectNear(r->values[1], kH1, "kept run 1");
    r = g->run(x2, keep);
    ASSERT_TRUE(r && r->complete());
    expectNear(r->values[1], kH2, "kept run 2");
    expectNear(r->values[3], kC2, "kept run 2 cell_state");
    // Without keep_state every run starts from zero: x1 gives step 1 again.
    r = g->run(x1, {});
    ASSERT_TRUE(r && r->complete());
    expectNear(r->values[1], kH1, "fresh run");
    // resetState() clears what that run left, so a kept run starts from zero too.
    g->resetState();
    r = g->run(x1, keep);
    ASSERT_TRUE(r && r->complete());
    expectNear(r->values[1], kH1, "after reset");
}

LstmCase peepholeProjectionCase() {
    LstmCase c = baseCase();
    c.max_time = 2;
    c.n_output = 1;
    firstColumnOfRecurrent(c);
    c.constants[9] = {0.5f, -0.5f};
    c.constants[10] = {0.25f, 0.75f};
    c.constants[11] = {-1.0f, 2.0f};
    c.constants[16] = {0.8f, -0.6f};
    c.constants[17] = {0.05f};
    return c;
}

TEST(Lstm, PeepholeAndProjection) {
    auto m = load(lstmSpec(peepholeProjectionCase()));
    ASSERT_TRUE(m) << m.error().message;
    std::vector<TensorValue> in{floats({1, 2, 2}, {1.0f, -2.0f, 0.5f, 0.25f})};
    auto r = run(*m, SubgraphId{0}, in, {});
    ASSERT_TRUE(r && r->complete()) << (r ? r->warnings.front() : r.error().message);
    // lstm_oracle.py "peephole+projection 2 steps h c" (output_state is the projection).
    expectNear(r->values[2], {-0.26840124262772486}, "output_state");
    expectNear(r->values[3], {-0.39592747367622394, 0.3428707276205344}, "cell_state");
    EXPECT_NEAR(r->values[1].data<float>()[1], -0.26840124262772486, kTol);
}

TEST(Lstm, CellAndProjectionClip) {
    LstmCase c = peepholeProjectionCase();
    c.cell_clip = 0.3f;
    c.proj_clip = 0.05f;
    auto m = load(lstmSpec(c));
    ASSERT_TRUE(m) << m.error().message;
    std::vector<TensorValue> in{floats({1, 2, 2}, {1.0f, -2.0f, 0.5f, 0.25f})};
    auto r = run(*m, SubgraphId{0}, in, {});
    ASSERT_TRUE(r && r->complete());
    // lstm_oracle.py "clipped step1/step2": c = -0.415 clips to -0.3 in step 1, 0.363 to 0.3
    // in step 2; the projection clips to -0.05 both times.
    expectNear(r->values[1], {-0.05, -0.05}, "output");
    expectNear(r->values[3], {-0.26911289027688556, 0.3}, "cell_state");
}

TEST(Lstm, CifgLayerNormTimeMajor) {
    LstmCase c = baseCase();
    c.constants.erase(1);
    c.constants.erase(5);
    c.constants.erase(12);
    c.constants[21] = {1.0f, 0.5f};
    c.constants[22] = {0.8f, 1.2f};
    c.constants[23] = {1.5f, -0.5f};
    c.time_major = true;
    c.max_time = 2;
    c.n_batch = 2;
    auto m = load(lstmSpec(c));
    ASSERT_TRUE(m) << m.error().message;
    // [time, batch, input]: t0 = {x1, (-1, 0.5)}, t1 = {x2, (0, 3)}.
    std::vector<TensorValue> in{
        floats({2, 2, 2}, {1.0f, -2.0f, -1.0f, 0.5f, 0.5f, 0.25f, 0.0f, 3.0f})};
    auto r = run(*m, SubgraphId{0}, in, {});
    ASSERT_TRUE(r && r->complete()) << (r ? r->warnings.front() : r.error().message);
    // lstm_oracle.py "cifg+layernorm batch 0/1", laid out [t][b][unit].
    expectNear(r->values[1],
               {-0.06336468246883556, 0.2869327653325886, 0.05381009083207878, -0.09093675477219669,
                -0.11855037828264894, 0.4008946796207617, 0.07736640201869895, -0.1532436182769982},
               "output");
    expectNear(r->values[3],
               {-0.14887476460171878, 0.6640136844994663, 0.4980275682751787, -0.3545627179054178},
               "cell_state");
}

// The run stops at the LSTM with a warning containing `what`.
void expectRejected(const LstmCase& c, const std::string& what) {
    auto m = load(lstmSpec(c));
    ASSERT_TRUE(m) << m.error().message;
    std::vector<TensorValue> in{
        floats({c.n_batch, c.max_time, c.n_input},
               std::vector<float>(static_cast<size_t>(c.n_batch * c.max_time * c.n_input)))};
    if (!c.state_variable) {
        in.emplace_back(model::DType::Float32, std::vector<int32_t>{c.n_batch, c.n_output});
        in.emplace_back(model::DType::Float32, std::vector<int32_t>{c.n_batch, c.n_cell});
    }
    auto r = run(*m, SubgraphId{0}, in, {});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(r->stopped_at);
    EXPECT_NE(r->warnings.front().find(what), std::string::npos) << r->warnings.front();
}

TEST(Lstm, RejectsInvalidModels) {
    LstmCase c = baseCase();
    c.state_variable = false;
    expectRejected(c, "must be variable tensors");

    c = baseCase();
    c.constants.erase(1);
    c.constants.erase(5);  // CIFG, but the input gate bias is still there
    expectRejected(c, "takes no input gate bias");

    c = baseCase();
    c.constants[10] = {0.25f, 0.75f};  // only one peephole vector
    expectRejected(c, "peephole weights must be all or none");

    c = baseCase();
    c.constants[4] = {0.3f, 0.1f, -0.5f, 0.2f, 0.0f, 0.0f};
    c.shapes[4] = {2, 3};  // n_input is 2
    expectRejected(c, "input 4 (w4) is [2,3], expected [2,2]");

    // Hybrid (float input, int8 weights) LSTMs are not implemented: a clear stop, not garbage.
    c = baseCase();
    c.weight_type = fb::TensorType::INT8;
    expectRejected(c, "only the float32 and int8x8_16 LSTMs are supported");
}

// ---- int8x8_16 ------------------------------------------------------------------------------
// The model of lstm_int8_oracle.py BASE: 2 inputs, 2 cells, no projection; weights int8
// (gate order i, f, c, o), int32 biases in input_scale * weight_scale units.
struct Int8Case {
    float in_scale = 0.02f;
    int32_t in_zp = 3;
    float h_scale = 1.0f / 128;
    int32_t h_zp = 0;
    float c_scale = 0x1p-11f;
    float hidden_scale = 1.0f / 128;
    int32_t hidden_zp = 0;
    float wx_scale[4] = {0.005f, 0.005f, 0.006f, 0.004f};
    float wh_scale[4] = {0.004f, 0.005f, 0.005f, 0.003f};
    std::vector<int8_t> wx[4] = {
        {20, 40, -60, 80}, {100, -20, 40, 60}, {-67, 100, 117, -33}, {75, 25, -125, 50}};
    std::vector<int8_t> wh[4] = {
        {50, -25, 25, 75}, {-40, 80, 60, 20}, {120, 40, -20, 100}, {33, -100, 67, 67}};
    std::vector<int32_t> bias[4] = {{1000, -1000}, {10000, 5000}, {0, 1667}, {-1250, 3750}};
    bool cifg = false;
    float cell_clip = 0.0f;
    int max_time = 2;
    int num_intermediates = 5;
    bool layer_norm = false;
};

mt::ModelSpec int8LstmSpec(const Int8Case& c) {
    mt::ModelSpec m;
    m.opcodes = {
        {.builtin = static_cast<int32_t>(fb::BuiltinOperator::UNIDIRECTIONAL_SEQUENCE_LSTM)}};
    m.buffers.resize(1);
    mt::SubgraphSpec sg;
    auto q = [](float s, int64_t zp) {
        return std::pair{std::vector<float>{s}, std::optional<std::vector<int64_t>>{{zp}}};
    };
    auto tensor = [&](std::string name, fb::TensorType type, std::vector<int32_t> shape,
                      float scale, int64_t zp, bool var = false) {
        auto [sc, z] = q(scale, zp);
        sg.tensors.push_back({.name = std::move(name),
                              .type = type,
                              .shape = std::move(shape),
                              .is_variable = var,
                              .scales = sc,
                              .zero_points = z});
        return static_cast<int32_t>(sg.tensors.size() - 1);
    };
    auto constant = [&](std::string name, fb::TensorType type, std::vector<int32_t> shape,
                        std::vector<uint8_t> bytes, float scale) {
        m.buffers.push_back({.data = std::move(bytes)});
        const int32_t t = tensor(std::move(name), type, std::move(shape), scale, 0);
        sg.tensors[static_cast<size_t>(t)].buffer = static_cast<uint32_t>(m.buffers.size() - 1);
        return t;
    };
    const auto i8 = fb::TensorType::INT8;
    tensor("in", i8, {1, c.max_time, 2}, c.in_scale, c.in_zp);
    tensor("out", i8, {1, c.max_time, 2}, c.h_scale, c.h_zp);
    tensor("h", i8, {1, 2}, c.h_scale, c.h_zp, true);
    tensor("c", fb::TensorType::INT16, {1, 2}, c.c_scale, 0, true);
    std::vector<int32_t> inputs(24, -1);
    inputs[0] = 0;
    inputs[18] = 2;
    inputs[19] = 3;
    for (int g = c.cifg ? 1 : 0; g < 4; ++g) {
        inputs[static_cast<size_t>(1 + g)] =
            constant("wx" + std::to_string(g), i8, {2, 2}, mt::bytesOf(c.wx[g]), c.wx_scale[g]);
        inputs[static_cast<size_t>(5 + g)] =
            constant("wh" + std::to_string(g), i8, {2, 2}, mt::bytesOf(c.wh[g]), c.wh_scale[g]);
        inputs[static_cast<size_t>(12 + g)] =
            constant("b" + std::to_string(g), fb::TensorType::INT32, {2}, mt::bytesOf(c.bias[g]),
                     c.in_scale * c.wx_scale[g]);
        if (c.layer_norm)
            inputs[static_cast<size_t>(20 + g)] =
                constant("ln" + std::to_string(g), fb::TensorType::INT16, {2},
                         mt::bytesOf(std::vector<int16_t>{1000, 1000}), 1e-3f);
    }
    std::vector<int32_t> inter;
    for (int i = 0; i < c.num_intermediates; ++i)
        inter.push_back(i == 4 ? tensor("hidden", i8, {1, 2}, c.hidden_scale, c.hidden_zp)
                               : tensor("gate" + std::to_string(i), fb::TensorType::INT16, {1, 2},
                                        0x1p-12f, 0));
    sg.inputs = {0};
    sg.outputs = {1};
    const float clip = c.cell_clip;
    sg.ops = {{.opcode = 0,
               .inputs = inputs,
               .outputs = {1},
               .intermediates = inter,
               .options = [=](flatbuffers::FlatBufferBuilder& b) {
                   return std::pair{fb::BuiltinOptions::UnidirectionalSequenceLSTMOptions,
                                    fb::CreateUnidirectionalSequenceLSTMOptions(
                                        b, fb::ActivationFunctionType::TANH, clip, 0.0f, false)
                                        .Union()};
               }}};
    m.subgraphs.push_back(std::move(sg));
    return m;
}

// lstm_int8_oracle.py XS.
TensorValue int8Input() {
    TensorValue t(model::DType::Int8, {1, 2, 2});
    const int8_t v[] = {50, -97, 28, 15};
    std::copy(std::begin(v), std::end(v), t.data<int8_t>().begin());
    return t;
}

struct Int8Result {
    std::vector<int8_t> output, h;
    std::vector<int16_t> c;
};

Int8Result runInt8(const Int8Case& c, RoundingProfile profile) {
    auto m = load(int8LstmSpec(c));
    EXPECT_TRUE(m) << m.error().message;
    if (!m) return {};
    auto g = PreparedGraph::prepare(*m, SubgraphId{0}, profile, false);
    EXPECT_TRUE(g && !g->stopsAt()) << (g ? g->warnings().front() : g.error().message);
    if (!g || g->stopsAt()) return {};
    std::vector<TensorValue> in{int8Input()};
    auto r = g->run(in, {});
    EXPECT_TRUE(r && r->complete());
    if (!r || !r->complete()) return {};
    auto o = r->values[1].data<int8_t>();
    auto h = r->values[2].data<int8_t>();
    auto cs = r->values[3].data<int16_t>();
    return {{o.begin(), o.end()}, {h.begin(), h.end()}, {cs.begin(), cs.end()}};
}

TEST(LstmInt8, GemmlowpInt16SigmoidTanh) {
    // lstm_int8_oracle.py spot values (ideal 20396.7 and -24955.9).
    EXPECT_EQ(kernels::gemmlowpLogistic16(2048, 3), 20400);
    EXPECT_EQ(kernels::gemmlowpLogistic16(0, 3), 16384);
    EXPECT_EQ(kernels::gemmlowpTanh16(-4096, 3), -24964);
    EXPECT_EQ(kernels::gemmlowpTanh16(-2048, 4), -24964);
    EXPECT_EQ(kernels::gemmlowpTanh16(0, 4), 0);
}

TEST(LstmInt8, TwoStepsMatchTheIntegerOracle) {
    // lstm_int8_oracle.py "base": identical under double and single rounding.
    for (RoundingProfile p : kAllProfiles) {
        SCOPED_TRACE(std::string(profileName(p)));
        const Int8Result r = runInt8(Int8Case{}, p);
        EXPECT_EQ(r.output, (std::vector<int8_t>{-25, 9, -25, 23}));
        EXPECT_EQ(r.h, (std::vector<int8_t>{-25, 23}));
        EXPECT_EQ(r.c, (std::vector<int16_t>{-837, 744}));
    }
}

TEST(LstmInt8, CifgCellClipZeroPointsAndRounding) {
    Int8Case c;
    c.cifg = true;
    c.cell_clip = 0.3f;
    c.hidden_zp = 5;  // upstream's CwiseMul subtracts it
    // The output state keeps zero point 0: TFLite starts an int8 variable at its zero point
    // (core/api/tensor_utils.cc ResetVariableTensor), the executor at raw 0.
    // lstm_int8_oracle.py "cifg+clip+zp" (the clip holds c[1] at 0.3 / 2^-11 = 614).
    for (RoundingProfile p : kAllProfiles) {
        SCOPED_TRACE(std::string(profileName(p)));
        const Int8Result r = runInt8(c, p);
        EXPECT_EQ(r.output, (std::vector<int8_t>{-14, 8, -14, 14}));
        EXPECT_EQ(r.c, (std::vector<int16_t>{-282, 614}));
    }
}

TEST(LstmInt8, DoubleAndSingleRoundingDiffer) {
    Int8Case c;
    c.in_zp = -1;
    // lstm_int8_oracle.py "in_zp=-1": a tie in step 2 moves h[0] and the cell state by one.
    for (RoundingProfile p : kAllProfiles) {
        SCOPED_TRACE(std::string(profileName(p)));
        const Int8Result r = runInt8(c, p);
        const bool single = p == RoundingProfile::SingleRounding;
        EXPECT_EQ(r.output,
                  (std::vector<int8_t>{-25, 9, static_cast<int8_t>(single ? -25 : -26), 24}));
        EXPECT_EQ(r.c, (std::vector<int16_t>{static_cast<int16_t>(single ? -833 : -834), 783}));
    }
}

// The float LSTM on qc's dequantized weights and input (lstm_oracle.py-checked float path);
// one bias step of gate g is worth bias_scale(g); with layer norm every coefficient is 1.0,
// as Int8Case's 1000 at scale 1e-3.
std::vector<float> floatLstmOnDequantized(const Int8Case& qc,
                                          const std::function<float(int)>& bias_scale) {
    LstmCase fc;
    fc.max_time = 2;
    for (int g = qc.cifg ? 1 : 0; g < 4; ++g) {
        std::vector<float> wx, wh, b;
        for (int8_t v : qc.wx[g]) wx.push_back(v * qc.wx_scale[g]);
        for (int8_t v : qc.wh[g]) wh.push_back(v * qc.wh_scale[g]);
        for (int32_t v : qc.bias[g]) b.push_back(static_cast<float>(v) * bias_scale(g));
        fc.constants[1 + g] = wx;
        fc.constants[5 + g] = wh;
        fc.constants[12 + g] = b;
        if (qc.layer_norm) fc.constants[20 + g] = {1.0f, 1.0f};
    }
    auto m = load(lstmSpec(fc));
    EXPECT_TRUE(m) << m.error().message;
    if (!m) return {};
    std::vector<float> x;
    for (int8_t v : {50, -97, 28, 15}) x.push_back((v - qc.in_zp) * qc.in_scale);
    std::vector<TensorValue> in{floats({1, 2, 2}, x)};
    auto r = run(*m, SubgraphId{0}, in, {});
    EXPECT_TRUE(r && r->complete());
    if (!r || !r->complete()) return {};
    const auto out = r->values[1].data<float>();
    return {out.begin(), out.end()};
}

// Every int8 output within 3 output steps of the float LSTM.
void expectCloseToFloat(const Int8Case& qc, const std::vector<float>& want, RoundingProfile p) {
    const Int8Result q = runInt8(qc, p);
    ASSERT_EQ(q.output.size(), want.size()) << profileName(p);
    for (size_t i = 0; i < want.size(); ++i)
        EXPECT_NEAR((q.output[i] - qc.h_zp) * qc.h_scale, want[i], 3 * qc.h_scale)
            << profileName(p) << " " << i;
}

TEST(LstmInt8, CloseToTheFloatLstmOnDequantizedWeights) {
    const Int8Case qc;
    const auto want =
        floatLstmOnDequantized(qc, [&](int g) { return qc.in_scale * qc.wx_scale[g]; });
    expectCloseToFloat(qc, want, RoundingProfile::Reference);
}

// CIFG with layer norm (TFLite's goldens are non-CIFG). Under layer norm the gate bias is
// added after normalising, at coefficient_scale / 1024 (ApplyLayerNorm's val3 / 1024 *
// scale), so that is the float bias.
TEST(LstmInt8, CifgLayerNormCloseToTheFloatLstm) {
    Int8Case qc;
    qc.cifg = true;
    qc.layer_norm = true;  // coefficients 1000 at scale 1e-3, gate scales 2^-12
    const auto want = floatLstmOnDequantized(qc, [](int) { return 1e-3f / 1024; });
    for (RoundingProfile p : kAllProfiles) expectCloseToFloat(qc, want, p);
}

TEST(LstmInt8, RejectsUnsupportedVariants) {
    auto expectStop = [](const Int8Case& c, const std::string& what) {
        auto m = load(int8LstmSpec(c));
        ASSERT_TRUE(m) << m.error().message;
        std::vector<TensorValue> in{int8Input()};
        auto r = run(*m, SubgraphId{0}, in, {});
        ASSERT_TRUE(r) << r.error().message;
        ASSERT_TRUE(r->stopped_at);
        EXPECT_NE(r->warnings.front().find(what), std::string::npos) << r->warnings.front();
    };
    Int8Case c;
    c.num_intermediates = 12;
    expectStop(c, "only the 5 of the 8x8_16 variant");
    c = Int8Case{};
    c.c_scale = 0.001f;
    expectStop(c, "is not a power of two");
}

// ---- int8x8_16 with layer norm, peephole and projection: TFLite's own goldens ----------------
// tensorflow/lite/kernels/lstm_test.cc IntegerLstmOpTest.NoCifg_NoPeephole_Projection_LayerNorm
// and NoCifg_Peephole_Projection_LayerNorm. Those tests run the LSTM op (one step per Invoke,
// 2-D input [n_batch, n_input]), which lstm.cc sends through the same
// lstm_eval.cc EvalInteger8x8_16 as a time-major UNIDIRECTIONAL_SEQUENCE_LSTM with one step;
// three Invokes with kept state equal one time-major sequence of three steps. Their tensors
// come from float values and ranges through test_util.h, reproduced below in float as there.

// One UNIDIRECTIONAL_SEQUENCE_LSTM op over per-tensor quantized tensors; tensors 0-3 are
// input, output, output state and cell state by convention of the callers.
struct IntegerLstmBuilder {
    mt::ModelSpec m;
    mt::SubgraphSpec sg;
    IntegerLstmBuilder() {
        m.opcodes = {
            {.builtin = static_cast<int32_t>(fb::BuiltinOperator::UNIDIRECTIONAL_SEQUENCE_LSTM)}};
        m.buffers.resize(1);
    }
    int32_t add(std::string name, fb::TensorType type, std::vector<int32_t> shape, float scale,
                int64_t zp, std::vector<uint8_t> bytes = {}, bool var = false) {
        uint32_t buffer = 0;
        if (!bytes.empty()) {
            m.buffers.push_back({.data = std::move(bytes)});
            buffer = static_cast<uint32_t>(m.buffers.size() - 1);
        }
        sg.tensors.push_back({.name = std::move(name),
                              .type = type,
                              .shape = std::move(shape),
                              .buffer = buffer,
                              .is_variable = var,
                              .scales = {scale},
                              .zero_points = std::vector<int64_t>{zp}});
        return static_cast<int32_t>(sg.tensors.size() - 1);
    }
    mt::ModelSpec finish(std::vector<int32_t> inputs, std::vector<int32_t> intermediates,
                         float proj_clip, bool time_major) {
        sg.inputs = {0};
        sg.outputs = {1};
        sg.ops = {{.opcode = 0,
                   .inputs = std::move(inputs),
                   .outputs = {1},
                   .intermediates = std::move(intermediates),
                   .options = [=](flatbuffers::FlatBufferBuilder& b) {
                       return std::pair{
                           fb::BuiltinOptions::UnidirectionalSequenceLSTMOptions,
                           fb::CreateUnidirectionalSequenceLSTMOptions(
                               b, fb::ActivationFunctionType::TANH, 0.0f, proj_clip, time_major)
                               .Union()};
                   }}};
        m.subgraphs.push_back(std::move(sg));
        return std::move(m);
    }
};

// tensorflow/lite/kernels/test_util.h SingleOpModel::QuantizationParams<T>: asymmetric
// scale from [min, max], zero point from the side with the smaller error, nudged.
template <class T>
std::pair<float, int32_t> tfliteTestQuantParams(float f_min, float f_max) {
    const float qmin = static_cast<float>(std::numeric_limits<T>::min());
    const float qmax = static_cast<float>(std::numeric_limits<T>::max());
    const float scale = (f_max - f_min) / (qmax - qmin);
    const float zp_from_min = qmin - f_min / scale;
    const float zp_from_max = qmax - f_max / scale;
    const float err_min = std::abs(qmin) + std::abs(f_min / scale);
    const float err_max = std::abs(qmax) + std::abs(f_max / scale);
    const float zp = err_min < err_max ? zp_from_min : zp_from_max;
    if (zp < qmin) return {scale, std::numeric_limits<T>::min()};
    if (zp > qmax) return {scale, std::numeric_limits<T>::max()};
    return {scale, static_cast<int32_t>(static_cast<T>(std::round(zp)))};
}

// test_util.h Quantize<T> (what QuantizeAndPopulate stores).
template <class T>
std::vector<T> tfliteTestQuantize(const std::vector<float>& data, std::pair<float, int32_t> q) {
    std::vector<T> out;
    for (float f : data)
        out.push_back(static_cast<T>(std::max<float>(
            std::numeric_limits<T>::min(),
            std::min<float>(std::numeric_limits<T>::max(),
                            std::round(static_cast<float>(q.second) + f / q.first)))));
    return out;
}

struct TfliteIntegerLstmCase {
    bool peephole = false;
    // lstm_test.cc "Input ranges", by LSTM input index (0-23) and 24 for the output.
    std::map<int, std::pair<float, float>> ranges;
};

// The weights and inputs both lstm_test.cc integer tests share (n_batch 2, n_input 5,
// n_cell 4, n_output 3, no CIFG, projection without bias, layer norm).
const std::map<int, std::vector<float>> kTfliteLstmValues = {
    {1, {0.5,  0.6, 0.7,  -0.8, -0.9, 0.1,  0.2,  0.3,  -0.4, 0.5,
         -0.8, 0.7, -0.6, 0.5,  -0.4, -0.5, -0.4, -0.3, -0.2, -0.1}},
    {2, {-0.6, -0.1, 0.3,  0.2,  0.9,  -0.5, -0.2, -0.4, 0.3,  -0.8,
         -0.4, 0.3,  -0.5, -0.4, -0.6, 0.3,  -0.4, -0.6, -0.5, -0.5}},
    {3, {-0.4, -0.3, -0.2, -0.1, -0.5, 0.5, -0.2, -0.3, -0.2, -0.6,
         0.6,  -0.1, -0.4, -0.3, -0.7, 0.7, -0.9, -0.5, 0.8,  0.6}},
    {4, {-0.8, -0.4, -0.2, -0.9, -0.1, -0.7, 0.3, -0.3, -0.8, -0.2,
         0.6,  -0.2, 0.4,  -0.7, -0.3, -0.5, 0.1, 0.5,  -0.6, -0.4}},
    {5, {-0.2, -0.3, 0.4, 0.1, -0.5, 0.9, -0.2, -0.3, -0.7, 0.05, -0.2, -0.6}},
    {6, {-0.5, -0.3, -0.5, -0.2, 0.6, 0.4, 0.9, 0.3, -0.1, 0.2, 0.5, 0.2}},
    {7, {-0.3, 0.2, 0.1, -0.3, 0.8, -0.08, -0.2, 0.3, 0.8, -0.6, -0.1, 0.2}},
    {8, {0.3, -0.1, 0.1, -0.2, -0.5, -0.7, -0.2, -0.6, -0.1, -0.4, -0.7, -0.2}},
    {9, {0.3, -0.1, 0.1, -0.2}},
    {10, {0.2, -0.1, 0.1, -0.2}},
    {11, {0.3, -0.1, 0.1, -0.3}},
    {12, {0.03, 0.15, 0.22, 0.38}},
    {13, {0.1, -0.3, -0.2, 0.1}},
    {14, {-0.05, 0.72, 0.25, 0.08}},
    {15, {0.05, -0.01, 0.2, 0.1}},
    {16, {-0.1, 0.2, 0.01, -0.2, 0.1, 0.5, 0.3, 0.08, 0.07, 0.2, -0.4, 0.2}},
    {20, {0.1, 0.2, 0.3, 0.5}},
    {21, {0.2, 0.2, 0.4, 0.3}},
    {22, {0.7, 0.2, 0.3, 0.8}},
    {23, {0.6, 0.2, 0.2, 0.5}},
};
// "sequence - batch - input", three steps.
const std::vector<float> kTfliteLstmInput = {
    0.7, 0.8, 0.1, 0.2, 0.3, 0.8, 0.1, 0.2, 0.4, 0.5,  //
    0.2, 0.7, 0.7, 0.1, 0.7, 0.3, 0.2, 0.9, 0.8, 0.1,  //
    0.7, 0.8, 0.1, 0.2, 0.3, 0.3, 0.2, 0.9, 0.8, 0.1,
};

mt::ModelSpec tfliteIntegerLstmSpec(const TfliteIntegerLstmCase& c) {
    constexpr int32_t kBatch = 2, kInput = 5, kCell = 4, kOutput = 3, kTime = 3;
    IntegerLstmBuilder l;
    const auto i8 = fb::TensorType::INT8, i16 = fb::TensorType::INT16, i32 = fb::TensorType::INT32;
    const auto in_q = tfliteTestQuantParams<int8_t>(c.ranges.at(0).first, c.ranges.at(0).second);
    l.add("in", i8, {kTime, kBatch, kInput}, in_q.first, in_q.second);
    const auto out_q = tfliteTestQuantParams<int8_t>(c.ranges.at(24).first, c.ranges.at(24).second);
    l.add("out", i8, {kTime, kBatch, kOutput}, out_q.first, out_q.second);
    // lstm_test.cc declares the output state INT16, but lstm_eval.cc reads and writes it as
    // int8 (GetTensorData<int8_t>) with the INT16 range's scale and zero point.
    const auto h_q = tfliteTestQuantParams<int16_t>(c.ranges.at(18).first, c.ranges.at(18).second);
    l.add("h", i8, {kBatch, kOutput}, h_q.first, h_q.second, {}, true);
    const auto c_q = tfliteTestQuantParams<int16_t>(c.ranges.at(19).first, c.ranges.at(19).second);
    l.add("c", i16, {kBatch, kCell}, c_q.first, c_q.second, {}, true);
    std::vector<int32_t> inputs(24, -1);
    inputs[0] = 0;
    inputs[18] = 2;
    inputs[19] = 3;
    for (const auto& [i, values] : kTfliteLstmValues) {
        if (!c.peephole && i >= 9 && i <= 11) continue;
        const auto [lo, hi] = c.ranges.at(i);
        const std::string name = "t" + std::to_string(i);
        // The kernel ignores every weight zero point (and so does TFLite's); the data are
        // quantized with the computed one and the tensor declares 0, which this engine checks.
        if ((i >= 1 && i <= 8) || i == 16) {
            const auto q = tfliteTestQuantParams<int8_t>(lo, hi);
            const std::vector<int32_t> shape = i == 16  ? std::vector<int32_t>{kOutput, kCell}
                                               : i <= 4 ? std::vector<int32_t>{kCell, kInput}
                                                        : std::vector<int32_t>{kCell, kOutput};
            inputs[static_cast<size_t>(i)] = l.add(
                name, i8, shape, q.first, 0, mt::bytesOf(tfliteTestQuantize<int8_t>(values, q)));
        } else if (i >= 12 && i <= 15) {
            const auto q = tfliteTestQuantParams<int32_t>(lo, hi);
            inputs[static_cast<size_t>(i)] =
                l.add(name, i32, {kCell}, q.first, 0,
                      mt::bytesOf(tfliteTestQuantize<int32_t>(values, q)));
        } else {
            const auto q = tfliteTestQuantParams<int16_t>(lo, hi);
            inputs[static_cast<size_t>(i)] =
                l.add(name, i16, {kCell}, q.first, 0,
                      mt::bytesOf(tfliteTestQuantize<int16_t>(values, q)));
        }
    }
    // lstm_test.cc "The scale and zero point of intermediate tensors".
    std::vector<int32_t> inter;
    for (float sc : {0.007059f, 0.007812f, 0.007059f, 0.007812f, 0.007f})
        inter.push_back(l.add("inter" + std::to_string(inter.size()), i16, {1}, sc, 0));
    return l.finish(inputs, inter, 0.0f, true);
}

std::vector<int8_t> runTfliteIntegerLstm(const TfliteIntegerLstmCase& c, RoundingProfile p) {
    auto m = load(tfliteIntegerLstmSpec(c));
    EXPECT_TRUE(m) << m.error().message;
    if (!m) return {};
    auto g = PreparedGraph::prepare(*m, SubgraphId{0}, p, false);
    EXPECT_TRUE(g && !g->stopsAt()) << (g ? g->warnings().front() : g.error().message);
    if (!g || g->stopsAt()) return {};
    TensorValue x(model::DType::Int8, {3, 2, 5});
    const auto q = tfliteTestQuantize<int8_t>(
        kTfliteLstmInput,
        tfliteTestQuantParams<int8_t>(c.ranges.at(0).first, c.ranges.at(0).second));
    std::copy(q.begin(), q.end(), x.data<int8_t>().begin());
    std::vector<TensorValue> in{std::move(x)};
    auto r = g->run(in, {});
    EXPECT_TRUE(r && r->complete());
    if (!r || !r->complete()) return {};
    auto o = r->values[1].data<int8_t>();
    return {o.begin(), o.end()};
}

std::map<int, std::pair<float, float>> tfliteLstmRanges() {
    std::map<int, std::pair<float, float>> r;
    r[0] = {-1.0f, 127.0f / 128};
    for (int i = 1; i <= 8; ++i) r[i] = {-1.0f, 1.0f};
    for (int i = 9; i <= 11; ++i) r[i] = {-1.0f, 1.0f};
    for (int i = 12; i <= 15; ++i) r[i] = {-100.0f, 100.0f};
    r[16] = {-0.5f, 0.5f};
    r[17] = {-1.0f, 1.0f};
    r[18] = {-1.0f, 32767.0f / 32768};
    r[19] = {-1.0f, 1.0f};
    for (int i = 20; i <= 23; ++i) r[i] = {-1.00001f, 1.0f};
    r[24] = {-1.0f, 32767.0f / 32768};
    return r;
}

TEST(LstmInt8, LayerNormProjectionMatchesTfliteGolden) {
    // lstm_test.cc IntegerLstmOpTest.NoCifg_NoPeephole_Projection_LayerNorm expected_output.
    TfliteIntegerLstmCase c;
    c.ranges = tfliteLstmRanges();
    const std::vector<int8_t> want = {127,  127, -108, -67,  127, 127,  //
                                      -128, 127, 127,  -128, 127, 127,  //
                                      127,  127, 127,  -128, 127, 127};
    // The goldens come from TFLite's default (double-rounding) build.
    for (RoundingProfile p : {RoundingProfile::Reference, RoundingProfile::Builtin}) {
        SCOPED_TRACE(std::string(profileName(p)));
        EXPECT_EQ(runTfliteIntegerLstm(c, p), want);
    }
}

TEST(LstmInt8, PeepholeLayerNormProjectionMatchesTfliteGolden) {
    // lstm_test.cc IntegerLstmOpTest.NoCifg_Peephole_Projection_LayerNorm: its ranges differ
    // from the test above for recurrent_to_forget, the peephole weights, the forget gate
    // bias and the input/forget/cell/output layer norm coefficients. n_output (3) < n_cell
    // (4), so this golden also pins upstream's peephole walk over n_batch * n_output cells.
    TfliteIntegerLstmCase c;
    c.peephole = true;
    c.ranges = tfliteLstmRanges();
    c.ranges[6] = {-0.9f, 0.9f};
    for (int i = 9; i <= 11; ++i) c.ranges[i] = {-0.3f, 0.3f};
    c.ranges[13] = {-100.0f, 80.0f};
    c.ranges[20] = {-0.5f, 0.5f};
    c.ranges[21] = {-0.5f, 0.5f};
    c.ranges[22] = {-1.0f, 1.0f};
    c.ranges[23] = {-1.0f, 1.0f};
    const std::vector<int8_t> want = {127, 127, -16, -21,  127, 127,  //
                                      23,  127, 127, -128, 127, 127,  //
                                      127, 127, 127, -128, 127, 127};
    for (RoundingProfile p : {RoundingProfile::Reference, RoundingProfile::Builtin}) {
        SCOPED_TRACE(std::string(profileName(p)));
        EXPECT_EQ(runTfliteIntegerLstm(c, p), want);
    }
}

// ---- peephole + projection against lstm_int8_oracle.py ("peephole+projection") ------------
// TFLite's goldens above saturate most outputs and use zero points 0, no projection bias and
// no clip. This case (2 batches, n_cell 4, n_output 3) has a projection bias, hidden and
// output-state zero points and a projection clip (0.15 / (1/128) -> 19), and shows upstream's
// peephole walk: time-major input covers the cells of both batch rows in one call
// (6 = 2 * n_output cells: all of row 0 with weights 0,1,2,0 and row 1's first two with
// weights 1,2), batch-major input each row alone (3 cells, weights 0,1,2), so the two layouts
// give different numbers for the same data.
mt::ModelSpec peepholeProjectionSpec(bool time_major, int32_t kOutput = 3) {
    constexpr int32_t kBatch = 2, kTime = 2, kInput = 2, kCell = 4;
    // Other output sizes (for the rejection test) reuse the values cyclically.
    auto sized = [](std::vector<int8_t> v, size_t n) {
        std::vector<int8_t> r(n);
        for (size_t i = 0; i < n; ++i) r[i] = v[i % v.size()];
        return r;
    };
    IntegerLstmBuilder l;
    const auto i8 = fb::TensorType::INT8, i16 = fb::TensorType::INT16, i32 = fb::TensorType::INT32;
    const std::vector<int32_t> seq = time_major ? std::vector<int32_t>{kTime, kBatch, 0}
                                                : std::vector<int32_t>{kBatch, kTime, 0};
    l.add("in", i8, {seq[0], seq[1], kInput}, 0.02f, 3);
    l.add("out", i8, {seq[0], seq[1], kOutput}, 1.0f / 128, 2);
    l.add("h", i8, {kBatch, kOutput}, 1.0f / 128, 2, {}, true);
    l.add("c", i16, {kBatch, kCell}, 0x1p-12f, 0, {}, true);
    const float wx_scale[4] = {0.005f, 0.005f, 0.006f, 0.004f};
    const float wh_scale[4] = {0.004f, 0.005f, 0.005f, 0.003f};
    const std::vector<int8_t> wx[4] = {{20, 40, -60, 80, 30, -50, 90, 10},
                                       {100, -20, 40, 60, -70, 20, 15, 25},
                                       {-67, 100, 117, -33, 50, 50, -90, 40},
                                       {75, 25, -125, 50, 10, -100, 60, 60}};
    const std::vector<int8_t> wh[4] = {{50, -25, 10, 25, 75, -40, 0, 30, 60, -20, 10, 90},
                                       {-40, 80, 5, 60, 20, -15, 35, -45, 25, 70, 0, -60},
                                       {120, 40, -30, -20, 100, 50, 45, -85, 15, 10, 20, 30},
                                       {33, -100, 20, 67, 67, -67, -50, 40, 80, 25, -35, 45}};
    const std::vector<int32_t> bias[4] = {{1000, -1000, 500, 0},
                                          {10000, 5000, 8000, 6000},
                                          {0, 1667, -800, 2400},
                                          {-1250, 3750, 2000, -500}};
    const std::vector<int16_t> peep[3] = {
        {3000, -2000, 1500, 2500}, {-4000, 3500, 2000, -1000}, {2500, 3000, -3500, 4000}};
    const float peep_scale[3] = {1e-4f, 1.2e-4f, 0.9e-4f};
    std::vector<int32_t> inputs(24, -1);
    inputs[0] = 0;
    inputs[18] = 2;
    inputs[19] = 3;
    for (int g = 0; g < 4; ++g) {
        const std::string n = std::to_string(g);
        inputs[static_cast<size_t>(1 + g)] =
            l.add("wx" + n, i8, {kCell, kInput}, wx_scale[g], 0, mt::bytesOf(wx[g]));
        inputs[static_cast<size_t>(5 + g)] =
            l.add("wh" + n, i8, {kCell, kOutput}, wh_scale[g], 0,
                  mt::bytesOf(sized(wh[g], static_cast<size_t>(kCell * kOutput))));
        inputs[static_cast<size_t>(12 + g)] =
            l.add("b" + n, i32, {kCell}, 0.02f * wx_scale[g], 0, mt::bytesOf(bias[g]));
    }
    for (int k = 0; k < 3; ++k)  // cell_to_input, cell_to_forget, cell_to_output (9-11)
        inputs[static_cast<size_t>(9 + k)] =
            l.add("peep" + std::to_string(k), i16, {kCell}, peep_scale[k], 0, mt::bytesOf(peep[k]));
    inputs[16] = l.add("proj", i8, {kOutput, kCell}, 0.006f, 0,
                       mt::bytesOf(sized({40, -60, 80, 20, -100, 30, 50, 70, 90, 90, -40, -20},
                                         static_cast<size_t>(kOutput * kCell))));
    std::vector<int32_t> proj_bias = {300, -500, 800};
    proj_bias.resize(static_cast<size_t>(kOutput), 100);
    inputs[17] = l.add("proj_b", i32, {kOutput}, 0.006f / 64, 0, mt::bytesOf(proj_bias));
    std::vector<int32_t> inter;
    for (int i = 0; i < 4; ++i)
        inter.push_back(l.add("gate" + std::to_string(i), i16, {1}, 0x1p-12f, 0));
    inter.push_back(l.add("hidden", i8, {1}, 1.0f / 64, -3));
    return l.finish(inputs, inter, 0.15f, time_major);
}

TEST(LstmInt8, PeepholeWalkProjectionBiasZeroPointsAndClip) {
    // lstm_int8_oracle.py pxs: x[t][b].
    const int8_t x[2][2][2] = {{{50, -97}, {-20, 64}}, {{28, 15}, {100, -100}}};
    struct Want {
        std::vector<int8_t> out;  // [t][b][n_output], reordered below for batch-major
        std::vector<int16_t> c_double, c_single;
    };
    const Want time_major{{-17, -3, 12, 19, -14, 12, -14, 7, 13, 1, -11, 13},
                          {-1710, 1409, -447, -809, -269, 169, -13, -1576},
                          {-1709, 1408, -447, -809, -268, 169, -13, -1576}};
    const Want batch_major{{-17, -3, 12, 19, -13, 12, -14, 8, 13, 0, -8, 10},
                           {-1710, 1409, -447, -747, -534, 224, -22, -1576},
                           {-1709, 1408, -447, -747, -534, 224, -22, -1576}};
    for (bool tm : {true, false}) {
        const Want& want = tm ? time_major : batch_major;
        for (RoundingProfile p : kAllProfiles) {
            SCOPED_TRACE(std::string(profileName(p)) + (tm ? " time-major" : " batch-major"));
            auto m = load(peepholeProjectionSpec(tm));
            ASSERT_TRUE(m) << m.error().message;
            auto g = PreparedGraph::prepare(*m, SubgraphId{0}, p, false);
            ASSERT_TRUE(g && !g->stopsAt()) << (g ? g->warnings().front() : g.error().message);
            TensorValue in(model::DType::Int8, {2, 2, 2});
            auto d = in.data<int8_t>();
            for (int t = 0; t < 2; ++t)
                for (int b = 0; b < 2; ++b)
                    for (int i = 0; i < 2; ++i)
                        d[static_cast<size_t>(tm ? (t * 2 + b) * 2 + i : (b * 2 + t) * 2 + i)] =
                            x[t][b][i];
            std::vector<TensorValue> ins{std::move(in)};
            auto r = g->run(ins, {});
            ASSERT_TRUE(r && r->complete());
            const auto o = r->values[1].data<int8_t>();
            std::vector<int8_t> got(12);
            for (int t = 0; t < 2; ++t)
                for (int b = 0; b < 2; ++b)
                    for (int k = 0; k < 3; ++k)
                        got[static_cast<size_t>((t * 2 + b) * 3 + k)] =
                            o[static_cast<size_t>(tm ? (t * 2 + b) * 3 + k : (b * 2 + t) * 3 + k)];
            EXPECT_EQ(got, want.out);
            const auto c = r->values[3].data<int16_t>();
            EXPECT_EQ(std::vector<int16_t>(c.begin(), c.end()),
                      p == RoundingProfile::SingleRounding ? want.c_single : want.c_double);
        }
    }
}

TEST(LstmInt8, RejectsPeepholeWithMoreOutputsThanCells) {
    // Upstream's peephole walk over n_batch * n_output cells would read past the cell state.
    auto m = load(peepholeProjectionSpec(false, 5));
    ASSERT_TRUE(m) << m.error().message;
    std::vector<TensorValue> in{TensorValue(model::DType::Int8, {2, 2, 2})};
    auto r = run(*m, SubgraphId{0}, in, {});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(r->stopped_at);
    EXPECT_NE(r->warnings.front().find("n_output (5) <= n_cell (4)"), std::string::npos)
        << r->warnings.front();
}

// portable_tensor_utils.cc PortableApplyLayerNorm by hand. Coefficient scale 2^-12 makes the
// final MBQM(., 2^30, -11 + 12) an identity, so the output is round(rescaled * w + b) / 1024.
TEST(LstmInt8, LayerNormHandValues) {
    const auto q = quantizeMultiplier(0x1p-12);
    ASSERT_EQ(q.multiplier, 1 << 30);
    ASSERT_EQ(q.shift, -11);
    // A constant row: variance 0 -> the guard; 1024 * x - mean = 0, so only the bias is left,
    // divided by 1024 with ties away from zero for val3 > 0 and a truncation of -0.5 to 0 at
    // 0 (upstream's `val3 > 0 ? val3 + 512 : val3 - 512`): 2560 / 1024 -> 2, -2560 -> -2.
    std::vector<int16_t> flat = {100, 100, 100, 100};
    const std::vector<int16_t> w = {1000, 1000, 1000, 1000};
    const std::vector<int32_t> bias = {2048, -2048, 512, 0};
    for (RoundingProfile p : kAllProfiles) {
        std::vector<int16_t> g = flat;
        kernels::applyLayerNormInt16(
            requantRuleFor(p, model::BuiltinOp::UNIDIRECTIONAL_SEQUENCE_LSTM, model::DType::Int8),
            g.data(), w.data(), bias.data(), q.multiplier, q.shift, 10, 4);
        EXPECT_EQ(g, (std::vector<int16_t>{2, -2, 1, 0})) << profileName(p);
    }
    // {-3, -1, 1, 3} * 1000: mean 0, variance 5e6 -> x / 2236.07 (x1024), times 1000, / 1024:
    // 1000 * {-1.34164, -0.44721, 0.44721, 1.34164}, within one step (the integer 1/sqrt).
    std::vector<int16_t> g = {-3000, -1000, 1000, 3000};
    const std::vector<int32_t> zero(4, 0);
    kernels::applyLayerNormInt16(RequantRule::DoubleRounding, g.data(), w.data(), zero.data(),
                                 q.multiplier, q.shift, 10, 4);
    const double ideal[] = {-1341.64, -447.21, 447.21, 1341.64};
    for (int i = 0; i < 4; ++i) EXPECT_NEAR(g[static_cast<size_t>(i)], ideal[i], 1.0) << i;
}

}  // namespace
