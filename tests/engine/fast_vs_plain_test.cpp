// Whole-model check of the fast paths against the plain reference loops: the int8
// mobilenet_v2_quantized and the uint8 mobilenet_v1_0.25_128_quant run under every rounding
// profile, plain and fast, on the conformance input; every tensor must be bit-identical. This
// covers each rule x dtype the fast CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED / ADD / PAD
// paths implement (the random-geometry tests in kernels_test.cpp cover the edge cases).
#include <gtest/gtest.h>

#include <filesystem>

#include "engine/executor.h"
#include "engine/io/npy.h"
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

}  // namespace
