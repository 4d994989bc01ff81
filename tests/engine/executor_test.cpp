// The executor on real models from the conformance set: unsupported ops stop the run with a
// warning, cancellation, the recorder, seeded inputs, input validation, fast == plain.
#include <gtest/gtest.h>

#include <filesystem>

#include "engine/executor.h"
#include "engine/input_fill.h"
#include "model/loader.h"

using namespace qs;
using namespace qs::engine;
namespace fs = std::filesystem;

namespace {

model::Model load(const std::string& name) {
    auto m = model::loadModel(fs::path(QS_CONFORMANCE_DIR) / name / "model.tflite");
    EXPECT_TRUE(m) << (m ? "" : m.error().message);
    return std::move(*m);
}

TEST(Executor, UnsupportedOpStopsWithWarning) {
    // Every op of the conformance set has a kernel now: make the single MUL a custom op.
    auto m = load("single_mul_default_a8w8_recipe_quantized");
    m.subgraphs[0].operators[0].opcode = model::BuiltinOp::CUSTOM;
    m.subgraphs[0].operators[0].custom_code = "QsNoSuchOp";
    RunOptions o;
    auto r = run(m, SubgraphId{0}, {}, o);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(r->stopped_at.has_value());
    EXPECT_EQ(r->stopped_at->value, 0);
    EXPECT_FALSE(r->complete());
    EXPECT_EQ(r->ops_run, 0);
    ASSERT_FALSE(r->warnings.empty());
    EXPECT_NE(r->warnings[0].find("op 0 (QsNoSuchOp)"), std::string::npos) << r->warnings[0];
    // The inputs (everything upstream of the stop) stay available.
    for (TensorId t : m.main().inputs) EXPECT_TRUE(r->values[static_cast<size_t>(t.value)].valid());
}

TEST(Executor, RecorderProgressAndCancel) {
    auto m = load("resnet8_cifar_int8");
    RunOptions o;
    int recorded = 0, inputs = 0;
    o.recorder = [&](OpId op, TensorId, const TensorValue& v) {
        EXPECT_TRUE(v.valid());
        ++recorded;
        if (!op.valid()) ++inputs;
    };
    auto full = run(m, SubgraphId{0}, {}, o);
    ASSERT_TRUE(full) << full.error().message;
    EXPECT_TRUE(full->complete());
    EXPECT_EQ(full->ops_run, static_cast<int>(m.main().operators.size()));
    EXPECT_EQ(inputs, 1);
    EXPECT_EQ(recorded, 1 + full->ops_run);  // one output per op in this model

    o.recorder = nullptr;
    o.progress = [](int done, int) { return done < 3; };
    auto cancelled = run(m, SubgraphId{0}, {}, o);
    ASSERT_TRUE(cancelled);
    EXPECT_TRUE(cancelled->cancelled);
    EXPECT_EQ(cancelled->ops_run, 3);
}

TEST(Executor, SeededInputsAreDeterministic) {
    auto m = load("resnet8_cifar_int8");
    auto a = seededInputs(m, SubgraphId{0}, 42);
    auto b = seededInputs(m, SubgraphId{0}, 42);
    auto c = seededInputs(m, SubgraphId{0}, 43);
    ASSERT_TRUE(a && b && c);
    EXPECT_TRUE((*a)[0].sameContents((*b)[0]));
    EXPECT_FALSE((*a)[0].sameContents((*c)[0]));
    // Float fill stays in [-1, 1).
    auto f = load("resnet8_cifar_float");
    auto fi = seededInputs(f, SubgraphId{0}, 1);
    ASSERT_TRUE(fi);
    for (float x : (*fi)[0].data<float>()) {
        EXPECT_GE(x, -1.0f);
        EXPECT_LT(x, 1.0f);
    }
}

TEST(Executor, RejectsBadInputs) {
    auto m = load("resnet8_cifar_int8");
    std::vector<TensorValue> wrong_type{TensorValue(model::DType::Float32, {1, 32, 32, 3})};
    auto r = run(m, SubgraphId{0}, wrong_type, {});
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("must be INT8"), std::string::npos) << r.error().message;
    std::vector<TensorValue> wrong_shape{TensorValue(model::DType::Int8, {1, 16, 16, 3})};
    r = run(m, SubgraphId{0}, wrong_shape, {});
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("shape"), std::string::npos);
    EXPECT_FALSE(run(m, SubgraphId{5}, {}, {}));
}

// Whole models: the fast paths give the plain loops' integer results for every profile.
TEST(Executor, FastPathEqualsPlainOnWholeModels) {
    for (const char* name :
         {"resnet8_cifar_int8", "kws_dscnn_int8", "mobilenet_v1_0.25_128_quant", "person_detect"}) {
        auto m = load(name);
        for (auto profile : kAllProfiles) {
            RunOptions o;
            o.profile = profile;
            o.seed = 7;
            auto fast = run(m, SubgraphId{0}, {}, o);
            o.plain = true;
            auto plain = run(m, SubgraphId{0}, {}, o);
            ASSERT_TRUE(fast && plain);
            ASSERT_TRUE(fast->complete()) << name;
            for (size_t i = 0; i < fast->values.size(); ++i)
                EXPECT_TRUE(fast->values[i].sameContents(plain->values[i]))
                    << name << " tensor " << i << " profile " << profileName(profile);
        }
    }
}

TEST(Executor, OverrideReplacesValues) {
    auto m = load("resnet8_cifar_int8");
    const TensorId in = m.main().inputs[0];
    TensorValue zeros(model::DType::Int8, m.main().tensor(in).shape);
    RunOptions o;
    o.override_value = [&](TensorId t, const TensorValue&) -> const TensorValue* {
        return t == in ? &zeros : nullptr;
    };
    auto r = run(m, SubgraphId{0}, {}, o);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->values[static_cast<size_t>(in.value)].sameContents(zeros));
}

}  // namespace
