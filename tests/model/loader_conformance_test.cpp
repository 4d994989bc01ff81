// Every conformance model loads, and subgraph 0 agrees with what each oracle recorded about
// its tensors in index.tsv (name, dtype, runtime shape, quantization, producer op).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "model/loader.h"
#include "support/index_tsv.h"

namespace qs::model {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> conformanceModels() {
    std::vector<std::string> names;
    for (const fs::path& dir : test::conformanceModels(QS_CONFORMANCE_DIR))
        names.push_back(dir.filename().string());
    return names;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

class ConformanceModel : public ::testing::TestWithParam<std::string> {};

TEST_P(ConformanceModel, LoadsAndMatchesOracleIndex) {
    const fs::path dir = fs::path(QS_CONFORMANCE_DIR) / GetParam();
    auto loaded = loadModel(dir / "model.tflite");
    ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
    const Model& model = *loaded;
    const Subgraph& sg = model.main();
    const std::vector<OpId> producers = sg.producers();

    int rows = 0, indexes = 0;
    for (const char* oracle : {"tflm", "tflm_single_rounding", "litert", "tflite_builtin"}) {
        if (!fs::exists(dir / oracle / "index.tsv")) continue;  // FAILED, NOT_KEPT, SAME_AS_tflm
        ++indexes;
        for (const test::IndexRow& row : test::readIndexTsv(dir / oracle)) {
            SCOPED_TRACE(std::string(oracle) + " tensor " + std::to_string(row.tensor_index));
            ++rows;
            const int t = row.tensor_index;
            ASSERT_GE(t, 0);
            ASSERT_LT(static_cast<size_t>(t), sg.tensors.size());
            const Tensor& tensor = sg.tensors[static_cast<size_t>(t)];
            EXPECT_EQ(tensor.name, row.name);
            EXPECT_EQ(lower(dtypeName(tensor.dtype)), row.dtype);

            // index.tsv holds the runtime shape; dynamic (-1) dimensions ran as 1.
            const auto& shape = row.shape;
            ASSERT_EQ(shape.size(), tensor.shape.size());
            for (size_t d = 0; d < shape.size(); ++d) {
                const bool dynamic =
                    d < tensor.shape_signature.size() && tensor.shape_signature[d] == -1;
                if (dynamic)
                    EXPECT_EQ(shape[d], 1) << "dim " << d;
                else
                    EXPECT_EQ(shape[d], tensor.shape[d]) << "dim " << d;
            }

            const auto& scales = row.scales;
            const auto& zps = row.zero_points;
            const Quantization& q = tensor.quantization;
            ASSERT_EQ(scales.size(), q.scales.size());
            for (size_t k = 0; k < scales.size(); ++k) {
                // Printed with 9 significant digits: compare with a relative tolerance.
                EXPECT_NEAR(q.scales[k], scales[k], 1e-6 * std::abs(scales[k])) << "scale " << k;
            }
            ASSERT_EQ(zps.size(), q.isQuantized() ? q.scales.size() : 0u);
            for (size_t k = 0; k < zps.size(); ++k) EXPECT_EQ(q.zeroPoint(k), zps[k]);
            EXPECT_EQ(row.quantized_dimension, q.isPerChannel() ? q.quantized_dimension : -1);

            const int producer = row.producer_op_index;
            const OpId p = producers[static_cast<size_t>(t)];
            EXPECT_EQ(p.valid() ? p.value : -1, producer);
            if (p.valid())
                EXPECT_EQ(sg.op(p).name(), row.producer_op_name);
            else
                EXPECT_EQ(row.producer_op_name, "-");

            const std::string& role = row.role;
            const bool isInput =
                std::find(sg.inputs.begin(), sg.inputs.end(), TensorId(t)) != sg.inputs.end();
            if (role == "input") {
                EXPECT_TRUE(isInput);
            } else if (role == "variable") {
                EXPECT_TRUE(tensor.is_variable);
            } else if (role == "output") {
                EXPECT_NE(std::find(sg.outputs.begin(), sg.outputs.end(), TensorId(t)),
                          sg.outputs.end());
            }
        }
    }
    if (indexes > 0) {
        EXPECT_GT(rows, 0);
    }

    // A file load and a buffer load of the same bytes give the same graph.
    std::ifstream in(dir / "model.tflite", std::ios::binary);
    const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in),
                                     std::istreambuf_iterator<char>()};
    auto fromBuffer = loadModelFromBuffer(bytes, "copy.tflite");
    ASSERT_TRUE(fromBuffer.has_value()) << fromBuffer.error().message;
    ASSERT_EQ(fromBuffer->subgraphs.size(), model.subgraphs.size());
    EXPECT_EQ(fromBuffer->main().operators.size(), sg.operators.size());
    EXPECT_EQ(fromBuffer->warnings.size(), model.warnings.size());
}

std::string testName(const ::testing::TestParamInfo<std::string>& info) {
    std::string s = info.param;
    for (char& c : s)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return s;
}

INSTANTIATE_TEST_SUITE_P(Conformance, ConformanceModel, ::testing::ValuesIn(conformanceModels()),
                         testName);

TEST(Conformance, FindsTheModels) {
    // Guards the parameterized suite above against silently running on an empty folder.
    EXPECT_GE(conformanceModels().size(), 20u) << QS_CONFORMANCE_DIR;
}

TEST(Conformance, PersonDetectBiasQuantizationLoadsWithWarnings) {
    // TFLite rejects these 1-D per-channel biases (quantized_dimension 3); TFLM runs them.
    auto m = loadModel(fs::path(QS_CONFORMANCE_DIR) / "person_detect" / "model.tflite");
    ASSERT_TRUE(m.has_value()) << m.error().message;
    ASSERT_FALSE(m->warnings.empty());
    EXPECT_NE(m->warnings[0].find("quantized_dimension 3 is out of range"), std::string::npos)
        << m->warnings[0];
    for (const Tensor& t : m->main().tensors) {
        if (t.quantization.isPerChannel()) {
            ASSERT_LT(static_cast<size_t>(t.quantization.quantized_dimension), t.shape.size());
            EXPECT_EQ(t.quantization.scales.size(),
                      static_cast<size_t>(
                          t.shape[static_cast<size_t>(t.quantization.quantized_dimension)]));
        }
    }
}

TEST(Conformance, EmbedderMetadataGivesInputNormalization) {
    auto m = loadModel(fs::path(QS_CONFORMANCE_DIR) / "mobilenet_v2_035_96_embedder_dynamic_range" /
                       "model.tflite");
    ASSERT_TRUE(m.has_value()) << m.error().message;
    const auto it =
        std::find_if(m->metadata.begin(), m->metadata.end(),
                     [](const MetadataEntry& e) { return e.name == "TFLITE_METADATA"; });
    ASSERT_NE(it, m->metadata.end());
    EXPECT_FALSE(it->data.empty());
    ASSERT_EQ(m->input_info.size(), 1u);
    const InputInfo& info = m->input_info[0];
    ASSERT_TRUE(info.normalization.has_value());
    ASSERT_EQ(info.normalization->mean.size(), 1u);
    EXPECT_FLOAT_EQ(info.normalization->mean[0], 127.5f);
    EXPECT_FLOAT_EQ(info.normalization->std[0], 127.5f);
    EXPECT_EQ(info.color_space, "RGB");
    EXPECT_TRUE(m->warnings.empty()) << m->warnings.front();

    // Metadata reading can be switched off.
    auto plain = loadModel(fs::path(QS_CONFORMANCE_DIR) /
                               "mobilenet_v2_035_96_embedder_dynamic_range" / "model.tflite",
                           LoadOptions{.read_metadata = false});
    ASSERT_TRUE(plain.has_value());
    EXPECT_TRUE(plain->input_info.empty());
    EXPECT_EQ(plain->metadata.size(), m->metadata.size());
}

TEST(Conformance, MappedConstantsPointIntoTheFile) {
    auto m = loadModel(fs::path(QS_CONFORMANCE_DIR) / "mobilenet_v2_quantized_1x3x224x224" /
                       "model.tflite");
    ASSERT_TRUE(m.has_value()) << m.error().message;
    const auto file = m->storage->bytes();
    size_t constants = 0;
    for (const Tensor& t : m->main().tensors) {
        if (!t.isConstant()) continue;
        ++constants;
        EXPECT_GE(t.data.data(), file.data());
        EXPECT_LE(t.data.data() + t.data.size(), file.data() + file.size());
        EXPECT_EQ(static_cast<int64_t>(t.data.size()), t.byteSize()) << t.name;
    }
    EXPECT_GT(constants, 100u);
}

}  // namespace
}  // namespace qs::model
