// Fast paths against the plain reference loops. Whole models: the int8
// mobilenet_v2_quantized and the uint8 mobilenet_v1_0.25_128_quant run under every rounding
// profile, plain and fast, on the conformance input; every tensor must be bit-identical. This
// covers each rule x dtype the fast CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED / ADD / PAD
// paths implement (the random-geometry tests in kernels_test.cpp cover the edge cases). ADD
// also on random same-shape inputs, and XNNPACK's ADD rounding on hand-derived values.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "engine/executor.h"
#include "engine/io/npy.h"
#include "engine/kernels/kernel.h"
#include "model/loader.h"

using namespace qs;
using namespace qs::engine;
namespace fs = std::filesystem;

namespace {

struct ModelCase {
    const char* model;
    int min_ops;
};

class FastVsPlain : public ::testing::TestWithParam<ModelCase> {};

TEST_P(FastVsPlain, EveryProfileBitIdentical) {
    const fs::path dir = fs::path(QS_CONFORMANCE_DIR) / GetParam().model;
    auto model = model::loadModel(dir / "model.tflite");
    ASSERT_TRUE(model) << model.error().message;
    auto input = readNpy(dir / "inputs" / "input_0.npy");
    ASSERT_TRUE(input) << input.error().message;
    std::vector<TensorValue> inputs;
    inputs.push_back(std::move(*input));
    for (auto profile : kAllProfiles) {
        SCOPED_TRACE(std::string(profileName(profile)));
        RunOptions options;
        options.profile = profile;
        options.plain = true;
        auto plain = run(*model, SubgraphId{0}, inputs, options);
        options.plain = false;
        auto fast = run(*model, SubgraphId{0}, inputs, options);
        ASSERT_TRUE(plain && fast);
        ASSERT_TRUE(plain->complete() && fast->complete());
        ASSERT_GE(fast->ops_run, GetParam().min_ops);
        ASSERT_EQ(plain->values.size(), fast->values.size());
        int compared = 0;
        for (size_t t = 0; t < plain->values.size(); ++t) {
            const auto& a = plain->values[t];
            const auto& b = fast->values[t];
            ASSERT_EQ(a.valid(), b.valid()) << "tensor " << t;
            if (!a.valid()) continue;
            ASSERT_EQ(a.bytes().size(), b.bytes().size()) << "tensor " << t;
            EXPECT_TRUE(std::equal(a.bytes().begin(), a.bytes().end(), b.bytes().begin()))
                << "tensor " << t << " differs between plain and fast";
            ++compared;
        }
        EXPECT_GT(compared, GetParam().min_ops);
    }
}

INSTANTIATE_TEST_SUITE_P(Models, FastVsPlain,
                         ::testing::Values(ModelCase{"mobilenet_v2_quantized_1x3x224x224", 80},
                                           ModelCase{"mobilenet_v1_0.25_128_quant", 30}),
                         [](const auto& info) {
                             std::string s = info.param.model;
                             for (char& c : s)
                                 if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                             return s;
                         });

// One same-shape ADD through the registered kernel, plain or fast (the executor's steps).
template <class T>
std::vector<int32_t> runAdd(RoundingProfile profile, bool plain, const TensorValue& a,
                            const TensorValue& b, const model::Quantization& out_q) {
    model::Operator op;
    op.opcode = model::BuiltinOp::ADD;
    op.options = model::AddSubOptions{};
    TensorInfo ia, ib, io;
    ia.id = TensorId(0), ib.id = TensorId(1), io.id = TensorId(2);
    ia.dtype = ib.dtype = io.dtype = a.dtype();
    ia.shape = a.shape(), ib.shape = b.shape();
    ia.quant = &a.quantization(), ib.quant = &b.quantization(), io.quant = &out_q;
    PrepareContext pctx(op, OpId(0), profile, plain, {&ia, &ib}, {&io});
    auto kernel = KernelRegistry::builtin().find(op.opcode)();
    auto r = kernel->prepare(pctx);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    TensorValue out(io.dtype, io.shape);
    out.setQuantization(out_q);
    EvalContext ectx({&a, &b}, {&out});
    kernel->eval(ectx);
    auto d = out.data<T>();
    return {d.begin(), d.end()};
}

model::Quantization quant(float scale, int64_t zp) {
    model::Quantization q;
    q.scales = {scale};
    q.zero_points = {zp};
    return q;
}

// The vectorized same-shape ADD (TFLite's three rescalings, XNNPACK's vadd) against the plain
// loop, for every profile, int8 and uint8, random scales (including input-to-output ratios
// outside XNNPACK's [2^-10, 2^8), where LiteRT falls back to TFLite's ADD) and zero points,
// and lengths that leave vector tails.
template <class T>
void addFastVsPlain(model::DType dtype) {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> log_scale(-12.0f, 2.0f);
    std::uniform_int_distribution<int> value(std::numeric_limits<T>::min(),
                                             std::numeric_limits<T>::max());
    for (int iter = 0; iter < 40; ++iter) {
        const int n = 1 + static_cast<int>(rng() % 1100);
        TensorValue a(dtype, {1, n}), b(dtype, {1, n});
        for (auto& x : a.data<T>()) x = static_cast<T>(value(rng));
        for (auto& x : b.data<T>()) x = static_cast<T>(value(rng));
        a.setQuantization(quant(std::exp2(log_scale(rng)), value(rng)));
        b.setQuantization(quant(std::exp2(log_scale(rng)), value(rng)));
        const auto out_q = quant(std::exp2(log_scale(rng)), value(rng));
        for (auto profile : kAllProfiles) {
            SCOPED_TRACE(std::string(profileName(profile)) + " iteration " + std::to_string(iter));
            EXPECT_EQ((runAdd<T>(profile, true, a, b, out_q)),
                      (runAdd<T>(profile, false, a, b, out_q)));
        }
    }
}

TEST(AddFastVsPlain, Int8) {
    addFastVsPlain<int8_t>(model::DType::Int8);
}
TEST(AddFastVsPlain, UInt8) {
    addFastVsPlain<uint8_t>(model::DType::UInt8);
}

// XNNPACK's ADD rounds the sum once, half toward +infinity: with both ratios 0.5
// (shift 21, multipliers 2^20, bias 2^20), out = floor((a + b + 1) / 2).
TEST(XnnpackAdd, RoundsSumHalfUp) {
    TensorValue a(model::DType::Int8, {1, 4}), b(model::DType::Int8, {1, 4});
    const int8_t av[] = {1, -1, -3, 5};
    for (int i = 0; i < 4; ++i) a.data<int8_t>()[i] = av[i], b.data<int8_t>()[i] = 0;
    a.setQuantization(quant(0.5f, 0));
    b.setQuantization(quant(0.5f, 0));
    const auto out_q = quant(1.0f, 0);
    for (bool plain : {true, false})
        EXPECT_EQ((runAdd<int8_t>(RoundingProfile::Xnnpack, plain, a, b, out_q)),
                  (std::vector<int32_t>{1, 0, -1, 3}));
    // TFLite's reference ADD rounds -0.5 and -1.5 away from zero instead.
    EXPECT_EQ((runAdd<int8_t>(RoundingProfile::Reference, true, a, b, out_q)),
              (std::vector<int32_t>{1, -1, -2, 3}));
}

}  // namespace
