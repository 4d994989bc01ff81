// Element trace (engine/trace/element_trace.h) and profile difference data
// (engine/trace/profile_diff.h).
//
// The trace claims: on the inputs of a given run, each profile's final value is what the engine
// computes for that element under that profile. The engine is checked here in isolation: one
// run per profile in which every tensor is replaced by the base run's value right after it is
// produced (RunOptions::override_value), keeping the value each op computed from the base
// run's inputs. Those per-op outputs are compared with the traces of random elements of every
// supported quantized op of every conformance model.
#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <map>
#include <random>

#include "engine/executor.h"
#include "engine/io/npy.h"
#include "engine/trace/element_trace.h"
#include "engine/trace/profile_diff.h"
#include "model/loader.h"
#include "support/index_tsv.h"

namespace fs = std::filesystem;
using namespace qs;
using namespace qs::engine;
using model::BuiltinOp;
using model::DType;
using qs::engine::trace::ElementTrace;

namespace {

constexpr int kElementsPerOp = 200;

int64_t readIntAt(const TensorValue& v, int64_t i) {
    const auto k = static_cast<size_t>(i);
    switch (v.dtype()) {
        case DType::Int8:
            return v.data<int8_t>()[k];
        case DType::UInt8:
            return v.data<uint8_t>()[k];
        case DType::Int16:
            return v.data<int16_t>()[k];
        default:
            ADD_FAILURE() << "unexpected dtype";
            return 0;
    }
}

std::vector<int32_t> unravel(int64_t flat, const std::vector<int32_t>& shape) {
    std::vector<int32_t> c(shape.size(), 0);
    for (size_t i = shape.size(); i-- > 0;) {
        c[i] = static_cast<int32_t>(flat % shape[i]);
        flat /= shape[i];
    }
    return c;
}

bool traceable(BuiltinOp op) {
    switch (op) {
        case BuiltinOp::CONV_2D:
        case BuiltinOp::DEPTHWISE_CONV_2D:
        case BuiltinOp::FULLY_CONNECTED:
        case BuiltinOp::ADD:
        case BuiltinOp::SUB:
        case BuiltinOp::MUL:
        case BuiltinOp::MEAN:
        case BuiltinOp::AVERAGE_POOL_2D:
            return true;
        default:
            return false;
    }
}

bool quantizedInt(const model::Tensor& t) {
    return (t.dtype == DType::Int8 || t.dtype == DType::UInt8 || t.dtype == DType::Int16) &&
           t.quantization.isQuantized();
}

// Every op's output under `p`, computed from the base run's op inputs.
std::vector<TensorValue> isolatedOutputs(const model::Model& m, std::span<const TensorValue> inputs,
                                         const RunResult& base, RoundingProfile p) {
    std::vector<TensorValue> computed(m.main().tensors.size());
    RunOptions o;
    o.profile = p;
    o.keep_values = false;
    o.override_value = [&](TensorId id, const TensorValue& v) -> const TensorValue* {
        computed[static_cast<size_t>(id.value)] = v;
        const auto& b = base.values[static_cast<size_t>(id.value)];
        return b.valid() ? &b : nullptr;
    };
    auto r = run(m, SubgraphId{0}, inputs, o);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return computed;
}

struct CheckStats {
    std::map<BuiltinOp, int64_t> traced;  // elements traced per op type
    int64_t parted = 0;                   // traces where profiles part
};

// Traces `per_op` random elements (all when fewer) of every traceable quantized op output and
// compares every profile's final value with the isolated engine outputs.
void checkModel(const model::Model& m, std::span<const TensorValue> inputs, int per_op,
                uint32_t seed, CheckStats& stats) {
    RunOptions o;
    o.profile = RoundingProfile::Reference;
    auto base = run(m, SubgraphId{0}, inputs, o);
    ASSERT_TRUE(base.has_value()) << base.error().message;
    std::map<RoundingProfile, std::vector<TensorValue>> iso;
    for (auto p : kAllProfiles) iso[p] = isolatedOutputs(m, inputs, *base, p);
    std::mt19937 rng(seed);
    const auto& sg = m.main();
    for (size_t oi = 0; oi < sg.operators.size(); ++oi) {
        const auto& op = sg.operators[oi];
        if (!traceable(op.opcode) || op.outputs.empty()) continue;
        const TensorId out = op.outputs[0];
        if (!quantizedInt(sg.tensor(out))) continue;
        const auto& bv = base->values[static_cast<size_t>(out.value)];
        if (!bv.valid()) continue;
        const int64_t n = bv.numElements();
        const int count = static_cast<int>(std::min<int64_t>(n, per_op));
        for (int k = 0; k < count; ++k) {
            const int64_t flat =
                n <= per_op ? k : std::uniform_int_distribution<int64_t>(0, n - 1)(rng);
            const auto coord = unravel(flat, bv.shape());
            auto t = trace::traceElement(m, SubgraphId{0}, out, coord, *base);
            ASSERT_TRUE(t.has_value()) << "op " << oi << ": " << t.error().message;
            ASSERT_EQ(t->profiles.size(), kAllProfiles.size());
            ASSERT_TRUE(t->run_output.has_value());
            for (const auto& pt : t->profiles) {
                const auto& want = iso[pt.profile][static_cast<size_t>(out.value)];
                ASSERT_TRUE(want.valid()) << "op " << oi;
                ASSERT_EQ(pt.output, readIntAt(want, flat))
                    << "op " << oi << " (" << op.name() << ") tensor " << out.value << " element "
                    << flat << " profile " << profileName(pt.profile) << "\n"
                    << trace::formatTrace(*t);
                ASSERT_FALSE(pt.steps.empty());
                EXPECT_EQ(pt.steps.back().key, "clamped");
            }
            // The reference profile traced on the reference run is the run's own value.
            EXPECT_EQ(t->profile(RoundingProfile::Reference)->output, *t->run_output);
            if (t->parting) ++stats.parted;
            ++stats.traced[op.opcode];
        }
    }
}

std::vector<TensorValue> conformanceInputs(const fs::path& dir, const model::Model& m) {
    std::vector<TensorValue> inputs;
    for (size_t i = 0; i < m.main().inputs.size(); ++i) {
        auto v = readNpy(dir / "inputs" / ("input_" + std::to_string(i) + ".npy"));
        EXPECT_TRUE(v.has_value()) << dir << ": " << (v ? "" : v.error().message);
        if (!v) return {};
        inputs.push_back(std::move(*v));
    }
    return inputs;
}

bool hasTraceableOp(const model::Model& m) {
    for (const auto& op : m.main().operators)
        if (traceable(op.opcode) && !op.outputs.empty() &&
            quantizedInt(m.main().tensor(op.outputs[0])))
            return true;
    return false;
}

std::vector<std::string> traceableModels() {
    std::vector<std::string> out;
    for (const auto& dir : qs::test::conformanceModels(QS_CONFORMANCE_DIR)) {
        auto m = model::loadModel(dir / "model.tflite");
        if (m && hasTraceableOp(*m)) out.push_back(dir.filename().string());
    }
    return out;
}

class TraceConformance : public ::testing::TestWithParam<std::string> {};

TEST_P(TraceConformance, EveryProfileMatchesTheEngineOnRandomElements) {
    const fs::path dir = fs::path(QS_CONFORMANCE_DIR) / GetParam();
    auto m = model::loadModel(dir / "model.tflite");
    ASSERT_TRUE(m.has_value()) << m.error().message;
    const auto inputs = conformanceInputs(dir, *m);
    ASSERT_EQ(inputs.size(), m->main().inputs.size());
    CheckStats stats;
    checkModel(*m, inputs, kElementsPerOp, 20261122u, stats);
    int64_t total = 0;
    for (const auto& [op, n] : stats.traced) total += n;
    EXPECT_GT(total, 0);
    for (const auto& op : m->main().operators) {
        if (traceable(op.opcode) && quantizedInt(m->main().tensor(op.outputs[0]))) {
            EXPECT_GT(stats.traced[op.opcode], 0) << op.name();
        }
    }
    std::string summary;
    for (const auto& [op, n] : stats.traced)
        summary += std::string(model::builtinOpName(op)) + " " + std::to_string(n) + "  ";
    RecordProperty("traced", summary);
    std::printf("[ trace    ] %s: %s(%lld with parting profiles)\n", GetParam().c_str(),
                summary.c_str(), static_cast<long long>(stats.parted));
}

INSTANTIATE_TEST_SUITE_P(Models, TraceConformance, ::testing::ValuesIn(traceableModels()),
                         [](const auto& info) {
                             std::string s = info.param;
                             for (char& c : s)
                                 if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                             return s;
                         });

// The conformance set covers every traced op type except SUB (and int16 MEAN / pooling).
TEST(TraceConformanceCoverage, EveryOpTypeButSubAppears) {
    std::set<BuiltinOp> seen;
    for (const auto& name : traceableModels()) {
        auto m = model::loadModel(fs::path(QS_CONFORMANCE_DIR) / name / "model.tflite");
        ASSERT_TRUE(m.has_value());
        for (const auto& op : m->main().operators)
            if (traceable(op.opcode) && quantizedInt(m->main().tensor(op.outputs[0])))
                seen.insert(op.opcode);
    }
    for (auto op : {BuiltinOp::CONV_2D, BuiltinOp::DEPTHWISE_CONV_2D, BuiltinOp::FULLY_CONNECTED,
                    BuiltinOp::ADD, BuiltinOp::MUL, BuiltinOp::MEAN, BuiltinOp::AVERAGE_POOL_2D})
        EXPECT_TRUE(seen.count(op)) << model::builtinOpName(op);
}

// ---- hand-built models ----------------------------------------------------------------------

class Builder {
public:
    model::Model m;
    Builder() { m.subgraphs.emplace_back(); }
    model::Subgraph& sg() { return m.subgraphs.front(); }

    int tensor(std::string name, DType t, std::vector<int32_t> shape, std::vector<float> scales,
               std::vector<int64_t> zps) {
        model::Tensor x;
        x.name = std::move(name);
        x.dtype = t;
        x.shape = std::move(shape);
        x.quantization.scales = std::move(scales);
        x.quantization.zero_points = std::move(zps);
        sg().tensors.push_back(std::move(x));
        return static_cast<int>(sg().tensors.size() - 1);
    }
    template <class T>
    int constant(std::string name, DType t, std::vector<int32_t> shape, std::vector<float> scales,
                 std::vector<int64_t> zps, const std::vector<T>& values) {
        const int id =
            tensor(std::move(name), t, std::move(shape), std::move(scales), std::move(zps));
        auto& buf = m_buffers.emplace_back(values.size() * sizeof(T));
        std::memcpy(buf.data(), values.data(), buf.size());
        sg().tensors[static_cast<size_t>(id)].data = std::span<const uint8_t>(buf);
        return id;
    }
    void op(BuiltinOp code, std::vector<int> ins, int out, model::BuiltinOptions opts) {
        model::Operator o;
        o.opcode = code;
        o.builtin_code = static_cast<int32_t>(code);
        for (int i : ins) o.inputs.push_back(TensorId{i});
        o.outputs = {TensorId{out}};
        o.options = std::move(opts);
        sg().operators.push_back(std::move(o));
    }
    void io(std::vector<int> ins, std::vector<int> outs) {
        for (int i : ins) sg().inputs.push_back(TensorId{i});
        for (int o : outs) sg().outputs.push_back(TensorId{o});
    }

private:
    std::deque<std::vector<uint8_t>> m_buffers;
};

template <class T>
TensorValue filled(DType t, std::vector<int32_t> shape, const std::vector<T>& values) {
    TensorValue v(t, std::move(shape));
    auto d = v.data<T>();
    for (size_t i = 0; i < d.size(); ++i) d[i] = values[i];
    return v;
}

// FULLY_CONNECTED int8, s_in = s_w = 1, s_out = 4: M = 2^30, shift = -1, i.e. acc / 4. With
// acc = -2 the scaled value is exactly -0.5:
//   double rounding: SaturatingRoundingDoublingHighMul(-2, 2^30) = -1 (exact), then
//     RoundingDivideByPOT(-1, 1) = -1 (tie away from zero);
//   ruy x86 (builtin): high mul (-2^31 + 2^30) >> 31 = -1, then (-1 + 1) >> 1 = 0 (tie up);
//   single rounding: (-2 * 2^30 + 2^31) >> 32 = 0 (tie up);
//   XNNPACK fp32: -2.0f * 0.25f = -0.5f, round to even = 0.
// The high multiply agrees (reference and builtin both have it, both -1); the profiles part at
// the final rounding shift ("scaled").
TEST(TraceCrafted, NegativeTiePartsAtTheRoundingShift) {
    Builder b;
    const int in = b.tensor("in", DType::Int8, {1, 2}, {1.0f}, {1});
    const int w = b.constant<int8_t>("w", DType::Int8, {1, 2}, {1.0f}, {0}, {2, 4});
    const int bias = b.constant<int32_t>("bias", DType::Int32, {1}, {1.0f}, {0}, {-4});
    const int out = b.tensor("out", DType::Int8, {1, 1}, {4.0f}, {0});
    b.op(BuiltinOp::FULLY_CONNECTED, {in, w, bias}, out, model::FullyConnectedOptions{});
    b.io({in}, {out});
    // x - zp = (3, -1): products 6 and -4, sum 2, + bias -4 = -2.
    const std::vector<TensorValue> inputs = {filled<int8_t>(DType::Int8, {1, 2}, {4, 0})};
    auto r = run(b.m, SubgraphId{0}, inputs, {});
    ASSERT_TRUE(r.has_value()) << r.error().message;
    const std::vector<int32_t> elem = {0, 0};
    auto t = trace::traceElement(b.m, SubgraphId{0}, TensorId{out}, elem, *r);
    ASSERT_TRUE(t.has_value()) << t.error().message;
    const auto* acc = &t->common[2];
    EXPECT_EQ(acc->key, "acc");
    EXPECT_EQ(acc->value.integer, -2);
    EXPECT_EQ(t->profile(RoundingProfile::Reference)->output, -1);
    EXPECT_EQ(t->profile(RoundingProfile::SingleRounding)->output, 0);
    EXPECT_EQ(t->profile(RoundingProfile::Builtin)->output, 0);
    EXPECT_EQ(t->profile(RoundingProfile::Xnnpack)->output, 0);
    EXPECT_EQ(t->profile(RoundingProfile::Builtin)->rule, "ruy-x86");
    ASSERT_TRUE(t->parting.has_value());
    EXPECT_EQ(t->parting->key, "scaled");
    EXPECT_EQ(t->parting->label, "RoundingDivideByPOT(., 1)");
    EXPECT_EQ(t->parting->profiles.size(), 4u);
    // The step before it agrees: both Q31 high multiplies give -1.
    auto step = [&](RoundingProfile p, const std::string& key) -> const trace::TraceStep* {
        for (const auto& s : t->profile(p)->steps)
            if (s.key == key) return &s;
        return nullptr;
    };
    ASSERT_TRUE(step(RoundingProfile::Reference, "scaled.high_mul"));
    EXPECT_EQ(step(RoundingProfile::Reference, "scaled.high_mul")->value.integer, -1);
    EXPECT_EQ(step(RoundingProfile::Builtin, "scaled.high_mul")->value.integer, -1);
    EXPECT_FALSE(step(RoundingProfile::Reference, "scaled.high_mul")->parting);
    EXPECT_TRUE(step(RoundingProfile::Reference, "scaled")->parting);
    EXPECT_EQ(step(RoundingProfile::SingleRounding, "scaled.product64")->value.integer,
              -(int64_t{1} << 31));
    EXPECT_EQ(step(RoundingProfile::Xnnpack, "scaled.float_product")->value.real, -0.5);
    EXPECT_EQ(t->float_ideal_q, -0.5);
    // And the engine agrees with each profile.
    for (auto p : kAllProfiles) {
        RunOptions o;
        o.profile = p;
        auto rp = run(b.m, SubgraphId{0}, inputs, o);
        ASSERT_TRUE(rp.has_value());
        EXPECT_EQ(rp->values[static_cast<size_t>(out)].data<int8_t>()[0], t->profile(p)->output)
            << profileName(p);
    }
    const std::string text = trace::formatTrace(*t);
    EXPECT_NE(text.find("RoundingDivideByPOT(., 1)"), std::string::npos);
    EXPECT_NE(text.find("<== profiles part"), std::string::npos);
    EXPECT_NE(text.find("profiles part at 'RoundingDivideByPOT(., 1)'"), std::string::npos) << text;
}

// A tie-free element: no parting, every profile gives the same steps where keys are shared.
TEST(TraceCrafted, NoPartingWithoutATie) {
    Builder b;
    const int in = b.tensor("in", DType::Int8, {1, 2}, {1.0f}, {1});
    const int w = b.constant<int8_t>("w", DType::Int8, {1, 2}, {1.0f}, {0}, {2, 4});
    const int out = b.tensor("out", DType::Int8, {1, 1}, {4.0f}, {0});
    b.op(BuiltinOp::FULLY_CONNECTED, {in, w}, out, model::FullyConnectedOptions{});
    b.io({in}, {out});
    const std::vector<TensorValue> inputs = {filled<int8_t>(DType::Int8, {1, 2}, {10, 0})};
    auto r = run(b.m, SubgraphId{0}, inputs, {});
    ASSERT_TRUE(r.has_value());
    const std::vector<int32_t> elem = {0, 0};
    auto t = trace::traceElement(b.m, SubgraphId{0}, TensorId{out}, elem, *r);
    ASSERT_TRUE(t.has_value()) << t.error().message;
    // acc = 9*2 - 4 = 14 -> 3.5 ... a positive tie rounds up everywhere: 4.
    for (const auto& p : t->profiles) EXPECT_EQ(p.output, 4) << profileName(p.profile);
    EXPECT_FALSE(t->parting.has_value());
    EXPECT_NE(trace::formatTrace(*t).find("all profiles agree"), std::string::npos);
}

// SUB (no quantized SUB in the conformance set), MUL and ADD with broadcasting, int8 and int16,
// every element, every profile against the engine in isolation.
TEST(TraceCrafted, BinaryOpsWithBroadcastMatchTheEngine) {
    Builder b;
    const int a = b.tensor("a", DType::Int8, {1, 3, 4, 5}, {0.05f}, {3});
    const int c = b.tensor("c", DType::Int8, {5}, {0.031f}, {-7});
    const int sub = b.tensor("sub", DType::Int8, {1, 3, 4, 5}, {0.07f}, {-2});
    const int mul = b.tensor("mul", DType::Int8, {1, 3, 4, 5}, {0.0013f}, {5});
    const int add = b.tensor("add", DType::Int8, {1, 3, 4, 5}, {0.09f}, {1});
    b.op(BuiltinOp::SUB, {a, c}, sub, model::AddSubOptions{});
    b.op(BuiltinOp::MUL, {sub, c}, mul, model::ActivationOptions{model::Activation::Relu});
    b.op(BuiltinOp::ADD, {mul, a}, add, model::AddSubOptions{});
    b.io({a, c}, {add});
    std::mt19937 rng(7);
    std::vector<int8_t> av(60), cv(5);
    for (auto& v : av) v = static_cast<int8_t>(std::uniform_int_distribution<int>(-128, 127)(rng));
    for (auto& v : cv) v = static_cast<int8_t>(std::uniform_int_distribution<int>(-128, 127)(rng));
    const std::vector<TensorValue> inputs = {filled<int8_t>(DType::Int8, {1, 3, 4, 5}, av),
                                             filled<int8_t>(DType::Int8, {5}, cv)};
    CheckStats stats;
    checkModel(b.m, inputs, 1000, 1, stats);
    EXPECT_EQ(stats.traced[BuiltinOp::SUB], 60);
    EXPECT_EQ(stats.traced[BuiltinOp::MUL], 60);
    EXPECT_EQ(stats.traced[BuiltinOp::ADD], 60);
}

// int16 SUB: the builtin profile's power-of-two path and the general path with zero points 0.
TEST(TraceCrafted, Int16SubMatchesTheEngine) {
    for (bool pot : {true, false}) {
        Builder b;
        const int a = b.tensor("a", DType::Int16, {2, 8}, {pot ? 0x1p-12f : 0.0007f}, {0});
        const int c = b.tensor("c", DType::Int16, {2, 8}, {pot ? 0x1p-10f : 0.0011f}, {0});
        const int o = b.tensor("o", DType::Int16, {2, 8}, {pot ? 0x1p-10f : 0.0013f}, {0});
        b.op(BuiltinOp::SUB, {a, c}, o, model::AddSubOptions{});
        b.io({a, c}, {o});
        std::mt19937 rng(pot ? 3 : 4);
        std::vector<int16_t> av(16), cv(16);
        for (auto& v : av)
            v = static_cast<int16_t>(std::uniform_int_distribution<int>(-20000, 20000)(rng));
        for (auto& v : cv)
            v = static_cast<int16_t>(std::uniform_int_distribution<int>(-20000, 20000)(rng));
        const std::vector<TensorValue> inputs = {filled<int16_t>(DType::Int16, {2, 8}, av),
                                                 filled<int16_t>(DType::Int16, {2, 8}, cv)};
        CheckStats stats;
        checkModel(b.m, inputs, 1000, 1, stats);
        EXPECT_EQ(stats.traced[BuiltinOp::SUB], 16) << (pot ? "pot" : "general");
        if (pot) {
            const std::vector<int32_t> elem = {1, 3};
            auto r = run(b.m, SubgraphId{0}, inputs, {});
            ASSERT_TRUE(r.has_value());
            auto t = trace::traceElement(b.m, SubgraphId{0}, TensorId{o}, elem, *r);
            ASSERT_TRUE(t.has_value());
            EXPECT_EQ(t->profile(RoundingProfile::Builtin)->rule, "int16 power-of-two (Sub16)");
        }
    }
}

// MEAN over other axes (the float QuantizedMeanOrSum path in every profile but xnnpack),
// keep_dims, int16 MEAN over H,W; AVERAGE_POOL_2D int16 with SAME padding; DEPTHWISE_CONV_2D
// with depth multiplier 2, stride 2 and dilation; grouped CONV_2D. Every element, every profile.
TEST(TraceCrafted, MoreGeometriesMatchTheEngine) {
    Builder b;
    std::mt19937 rng(11);
    auto rnd8 = [&](size_t n) {
        std::vector<int8_t> v(n);
        for (auto& x : v)
            x = static_cast<int8_t>(std::uniform_int_distribution<int>(-128, 127)(rng));
        return v;
    };
    const int x = b.tensor("x", DType::Int8, {1, 5, 6, 4}, {0.04f}, {-5});
    const int axis_c = b.constant<int32_t>("axis_c", DType::Int32, {1}, {}, {}, {3});
    const int axis_hw = b.constant<int32_t>("axis_hw", DType::Int32, {2}, {}, {}, {1, 2});
    const int mean_c = b.tensor("mean_c", DType::Int8, {1, 5, 6}, {0.03f}, {2});
    const int mean_hw = b.tensor("mean_hw", DType::Int8, {1, 1, 1, 4}, {0.02f}, {-1});
    b.op(BuiltinOp::MEAN, {x, axis_c}, mean_c, model::ReducerOptions{false});
    b.op(BuiltinOp::MEAN, {x, axis_hw}, mean_hw, model::ReducerOptions{true});
    // Depthwise, depth multiplier 2, stride 2, dilation 2, SAME padding, per-channel scales.
    const auto wv = rnd8(3 * 3 * 8);
    const int dw_w =
        b.constant<int8_t>("dw_w", DType::Int8, {1, 3, 3, 8},
                           {0.01f, 0.02f, 0.015f, 0.03f, 0.011f, 0.021f, 0.017f, 0.025f},
                           {0, 0, 0, 0, 0, 0, 0, 0}, wv);
    const int dw_b = b.constant<int32_t>("dw_b", DType::Int32, {8}, {}, {},
                                         {100, -200, 300, -400, 5, -6, 70, -80});
    const int dw = b.tensor("dw", DType::Int8, {1, 3, 3, 8}, {0.05f}, {3});
    model::DepthwiseConv2DOptions dwo;
    dwo.padding = model::Padding::Same;
    dwo.stride_w = dwo.stride_h = 2;
    dwo.dilation_w_factor = dwo.dilation_h_factor = 2;
    dwo.depth_multiplier = 2;
    dwo.fused_activation_function = model::Activation::Relu6;
    b.op(BuiltinOp::DEPTHWISE_CONV_2D, {x, dw_w, dw_b}, dw, dwo);
    // Grouped conv: 4 input channels in 2 groups of 2, 6 filters, VALID.
    const auto cv = rnd8(6 * 2 * 2 * 2);
    const int cw = b.constant<int8_t>("cw", DType::Int8, {6, 2, 2, 2}, {0.02f}, {0}, cv);
    const int conv = b.tensor("conv", DType::Int8, {1, 4, 5, 6}, {0.06f}, {-4});
    model::Conv2DOptions co;
    co.padding = model::Padding::Valid;
    b.op(BuiltinOp::CONV_2D, {x, cw}, conv, co);
    // int16 branch: average pool (SAME) and MEAN over H,W.
    const int y = b.tensor("y", DType::Int16, {1, 5, 5, 3}, {0.001f}, {0});
    const int pool = b.tensor("pool", DType::Int16, {1, 3, 3, 3}, {0.001f}, {0});
    model::Pool2DOptions po;
    po.padding = model::Padding::Same;
    po.stride_w = po.stride_h = 2;
    po.filter_width = po.filter_height = 3;
    b.op(BuiltinOp::AVERAGE_POOL_2D, {y}, pool, po);
    const int mean16 = b.tensor("mean16", DType::Int16, {1, 3}, {0.0007f}, {0});
    b.op(BuiltinOp::MEAN, {y, axis_hw}, mean16, model::ReducerOptions{false});
    b.io({x, y}, {mean_c, mean_hw, dw, conv, pool, mean16});
    std::vector<int16_t> yv(75);
    for (auto& v : yv)
        v = static_cast<int16_t>(std::uniform_int_distribution<int>(-30000, 30000)(rng));
    const std::vector<TensorValue> inputs = {filled<int8_t>(DType::Int8, {1, 5, 6, 4}, rnd8(120)),
                                             filled<int16_t>(DType::Int16, {1, 5, 5, 3}, yv)};
    CheckStats stats;
    checkModel(b.m, inputs, 1000, 1, stats);
    EXPECT_EQ(stats.traced[BuiltinOp::MEAN], 30 + 4 + 3);
    EXPECT_EQ(stats.traced[BuiltinOp::DEPTHWISE_CONV_2D], 72);
    EXPECT_EQ(stats.traced[BuiltinOp::CONV_2D], 120);
    EXPECT_EQ(stats.traced[BuiltinOp::AVERAGE_POOL_2D], 27);
}

// int16x8 FULLY_CONNECTED and DEPTHWISE_CONV_2D (int64 accumulators and bias, the 16-bit
// reduced multiplier of MultiplyByQuantizedMultiplier(int64)).
TEST(TraceCrafted, Int16x8MatchesTheEngine) {
    Builder b;
    std::mt19937 rng(5);
    auto rnd = [&](size_t n, int lo, int hi) {
        std::vector<int> v(n);
        for (auto& x : v) x = std::uniform_int_distribution<int>(lo, hi)(rng);
        return v;
    };
    auto as8 = [](const std::vector<int>& v) { return std::vector<int8_t>(v.begin(), v.end()); };
    auto as16 = [](const std::vector<int>& v) { return std::vector<int16_t>(v.begin(), v.end()); };
    const int x = b.tensor("x", DType::Int16, {1, 4, 4, 3}, {0.0005f}, {0});
    const int fw =
        b.constant<int8_t>("fw", DType::Int8, {5, 48}, {0.01f, 0.02f, 0.03f, 0.015f, 0.025f},
                           {0, 0, 0, 0, 0}, as8(rnd(5 * 48, -127, 127)));
    const int fb =
        b.constant<int64_t>("fb", DType::Int64, {5}, {}, {}, {1000, -2000, 30000, -4, 5});
    const int fc = b.tensor("fc", DType::Int16, {1, 5}, {0.004f}, {0});
    model::FullyConnectedOptions fo;
    fo.fused_activation_function = model::Activation::Relu;
    b.op(BuiltinOp::FULLY_CONNECTED, {x, fw, fb}, fc, fo);
    const int dw_w = b.constant<int8_t>("dw_w", DType::Int8, {1, 3, 3, 3}, {0.01f, 0.03f, 0.02f},
                                        {0, 0, 0}, as8(rnd(27, -127, 127)));
    const int dw_b = b.constant<int64_t>("dw_b", DType::Int64, {3}, {}, {}, {-7000, 0, 123456});
    const int dw = b.tensor("dw", DType::Int16, {1, 4, 4, 3}, {0.0009f}, {0});
    model::DepthwiseConv2DOptions dwo;
    dwo.padding = model::Padding::Same;
    b.op(BuiltinOp::DEPTHWISE_CONV_2D, {x, dw_w, dw_b}, dw, dwo);
    b.io({x}, {fc, dw});
    const std::vector<TensorValue> inputs = {
        filled<int16_t>(DType::Int16, {1, 4, 4, 3}, as16(rnd(48, -32768, 32767)))};
    CheckStats stats;
    checkModel(b.m, inputs, 1000, 1, stats);
    EXPECT_EQ(stats.traced[BuiltinOp::FULLY_CONNECTED], 5);
    EXPECT_EQ(stats.traced[BuiltinOp::DEPTHWISE_CONV_2D], 48);
}

// ---- errors ---------------------------------------------------------------------------------

TEST(TraceErrors, BadCoordinatesAndUnsupportedTensorsAreNamed) {
    const fs::path dir = fs::path(QS_CONFORMANCE_DIR) / "resnet8_cifar_int8";
    auto m = model::loadModel(dir / "model.tflite");
    ASSERT_TRUE(m.has_value());
    auto r = run(*m, SubgraphId{0}, conformanceInputs(dir, *m), {});
    ASSERT_TRUE(r.has_value());
    const auto& sg = m->main();
    const std::vector<int32_t> outside = {0, 32, 0, 0};
    auto e1 = trace::traceElement(*m, SubgraphId{0}, TensorId{24}, outside, *r);
    ASSERT_FALSE(e1.has_value());
    EXPECT_NE(e1.error().message.find("outside [0, 32)"), std::string::npos) << e1.error().message;
    const std::vector<int32_t> short_coord = {0, 1};
    auto e2 = trace::traceElement(*m, SubgraphId{0}, TensorId{24}, short_coord, *r);
    ASSERT_FALSE(e2.has_value());
    EXPECT_NE(e2.error().message.find("2 coordinates"), std::string::npos);
    // The graph input and a SOFTMAX output.
    EXPECT_FALSE(trace::traceSupported(*m, SubgraphId{0}, sg.inputs[0]).has_value());
    for (size_t i = 0; i < sg.operators.size(); ++i)
        if (sg.operators[i].opcode == BuiltinOp::SOFTMAX) {
            auto s = trace::traceSupported(*m, SubgraphId{0}, sg.operators[i].outputs[0]);
            ASSERT_FALSE(s.has_value());
            EXPECT_NE(s.error().message.find("SOFTMAX"), std::string::npos);
            EXPECT_EQ(s.error().op_index, static_cast<int32_t>(i));
        }
    EXPECT_FALSE(trace::traceSupported(*m, SubgraphId{0}, TensorId{100000}).has_value());
    // A run that lacks the op's input.
    trace::TensorLookup none = [](TensorId) -> const TensorValue* { return nullptr; };
    const std::vector<int32_t> inside = {0, 1, 1, 1};
    auto e3 = trace::traceElement(*m, SubgraphId{0}, TensorId{24}, inside, none);
    ASSERT_FALSE(e3.has_value());
    EXPECT_NE(e3.error().message.find("was not computed"), std::string::npos);
}

// ---- profile difference data ----------------------------------------------------------------

TEST(ProfileDiff, DiffTensorCountsAndLocatesDifferences) {
    const auto a = filled<int8_t>(DType::Int8, {2, 3}, {1, 2, 3, 4, 5, 6});
    const auto b = filled<int8_t>(DType::Int8, {2, 3}, {1, 3, 3, 4, 5, 2});
    auto d = trace::diffTensor(a, b);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->elements, 6);
    EXPECT_EQ(d->differing, 2);
    EXPECT_EQ(d->indices, (std::vector<int64_t>{1, 5}));
    EXPECT_EQ(d->delta, (std::vector<float>{0, 1, 0, 0, 0, -4}));
    EXPECT_EQ(d->max_abs, 4.0);
    EXPECT_EQ(d->histogram, (std::array<int64_t, trace::kDiffBuckets>{1, 0, 1, 0, 0, 0}));
    const auto f = filled<float>(DType::Float32, {2}, {NAN, 1.0f});
    const auto g = filled<float>(DType::Float32, {2}, {NAN, 1.5f});
    auto fd = trace::diffTensor(f, g);
    ASSERT_TRUE(fd.has_value());
    EXPECT_EQ(fd->differing, 1);  // NaN equals NaN
    EXPECT_FALSE(trace::diffTensor(a, f).has_value());
    EXPECT_FALSE(
        trace::diffTensor(a, filled<int8_t>(DType::Int8, {3, 2}, {1, 2, 3, 4, 5, 6})).has_value());
}

// resnet8_cifar_int8 on its golden input: the conformance README counts 10 of 16,384 elements
// of the first CONV_2D output that differ between tflm and tflm_single_rounding, and the
// engine reproduces both oracles bit for bit; compareProfiles must find exactly those, and the
// golden files' differing elements must be the ones it lists.
TEST(ProfileDiff, ReferenceVsSingleRoundingOnResnet8MatchesTheGoldenData) {
    const fs::path dir = fs::path(QS_CONFORMANCE_DIR) / "resnet8_cifar_int8";
    auto m = model::loadModel(dir / "model.tflite");
    ASSERT_TRUE(m.has_value());
    const auto inputs = conformanceInputs(dir, *m);
    auto c = trace::compareProfiles(*m, SubgraphId{0}, inputs, RoundingProfile::Reference,
                                    RoundingProfile::SingleRounding);
    ASSERT_TRUE(c.has_value()) << c.error().message;
    ASSERT_TRUE(c->diff.first_differing.has_value());
    const auto& first = c->diff.layers[*c->diff.first_differing];
    EXPECT_EQ(first.op.value, 0);
    EXPECT_EQ(first.op_name, "CONV_2D");
    EXPECT_EQ(first.elements, 16384);
    EXPECT_EQ(first.differing, 10);
    EXPECT_EQ(first.histogram[0], 10);  // one-step differences where the rounding parts
    EXPECT_EQ(c->diff.layers.size(), m->main().operators.size());
    // The golden data agrees element for element.
    auto ga = readNpy(dir / "tflm" / ("t" + std::to_string(first.tensor.value) + ".npy"));
    auto gb =
        readNpy(dir / "tflm_single_rounding" / ("t" + std::to_string(first.tensor.value) + ".npy"));
    ASSERT_TRUE(ga.has_value() && gb.has_value());
    auto golden = trace::diffTensor(*ga, *gb);
    ASSERT_TRUE(golden.has_value());
    auto ours = trace::diffTensor(c->run_a.values[static_cast<size_t>(first.tensor.value)],
                                  c->run_b.values[static_cast<size_t>(first.tensor.value)]);
    ASSERT_TRUE(ours.has_value());
    EXPECT_EQ(ours->indices, golden->indices);
    EXPECT_EQ(ours->delta, golden->delta);
    // Downstream every layer differs too (README: 16/16 tensors differ).
    int64_t layers_differing = 0;
    for (const auto& l : c->diff.layers) layers_differing += l.differing > 0;
    EXPECT_EQ(layers_differing, 16);
    EXPECT_GT(c->diff.total_differing, first.differing);
    // The README's "tflm vs tflm_SR" cell for resnet8_cifar_int8: 16/16 tensors,
    // 8059/114836 elements, max 5 steps.
    double max_abs = 0.0;
    for (const auto& l : c->diff.layers) max_abs = std::max(max_abs, l.max_abs);
    EXPECT_EQ(c->diff.total_differing, 8059);
    EXPECT_EQ(c->diff.total_compared, 114836);
    EXPECT_EQ(max_abs, 5.0);
    // And the trace of each differing element parts where rounding differs.
    for (int64_t flat : ours->indices) {
        const auto coord =
            unravel(flat, c->run_a.values[static_cast<size_t>(first.tensor.value)].shape());
        auto t = trace::traceElement(*m, SubgraphId{0}, first.tensor, coord, c->run_a);
        ASSERT_TRUE(t.has_value());
        ASSERT_TRUE(t->parting.has_value());
        EXPECT_EQ(t->parting->key, "scaled");
        EXPECT_EQ(t->profile(RoundingProfile::Reference)->output, readIntAt(*ga, flat));
        EXPECT_EQ(t->profile(RoundingProfile::SingleRounding)->output, readIntAt(*gb, flat));
    }
}

}  // namespace
