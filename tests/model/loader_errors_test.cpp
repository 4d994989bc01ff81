// Bad model files and the error each must give. Every file is generated here -- from the test
// model factory or from real conformance models -- and never stored (cf. Netron's
// test/models.json: one entry per file with its expected result).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "model/loader.h"
#include "test_model_factory.h"

namespace qs::model {
namespace {

using testing::bytesOf;
using testing::ModelSpec;
using testing::serialize;
using testing::validSpec;
namespace fb = qs::fb;

constexpr const char* kName = "bad.tflite";

struct BadCase {
    const char* name;
    std::function<void(ModelSpec&)> mutate;
    const char* expected;  // substring of the error message
};

// clang-format off
const BadCase kBadCases[] = {
    {"op_input_tensor_out_of_range",
     [](ModelSpec& m) { m.main().ops[0].inputs[0] = 99; },
     "op 0 (FULLY_CONNECTED): input 0 is tensor 99, out of range (subgraph has 6 tensors)"},
    {"op_input_below_minus_one",
     [](ModelSpec& m) { m.main().ops[1].inputs[0] = -2; },
     "op 1 (RELU): input 0 is tensor -2, out of range"},
    {"op_output_tensor_out_of_range",
     [](ModelSpec& m) { m.main().ops[2].outputs[0] = 6; },
     "op 2 (ADD): output 0 is tensor 6, out of range (subgraph has 6 tensors)"},
    {"intermediate_tensor_out_of_range",
     [](ModelSpec& m) { m.main().ops[1].intermediates = {12}; },
     "op 1 (RELU): intermediate 0 is tensor 12, out of range"},
    {"tensor_buffer_out_of_range",
     [](ModelSpec& m) { m.main().tensors[1].buffer = 42; },
     "tensor 1 \"weights\": buffer 42 is out of range (model has 4 buffers)"},
    {"opcode_index_out_of_range",
     [](ModelSpec& m) { m.main().ops[1].opcode = 7; },
     "op 1 (?): opcode index 7 is out of range (model has 3 operator codes)"},
    {"subgraph_input_out_of_range",
     [](ModelSpec& m) { m.main().inputs = {9}; },
     "subgraph input 0 is tensor 9, out of range (subgraph has 6 tensors)"},
    {"subgraph_output_negative",
     [](ModelSpec& m) { m.main().outputs = {-1}; },
     "subgraph output 0 is tensor -1, out of range"},
    {"call_once_subgraph_out_of_range",
     [](ModelSpec& m) {
         m.opcodes.push_back({.builtin = 129});
         m.main().ops.push_back({.opcode = 3, .options = [](flatbuffers::FlatBufferBuilder& b) {
             return std::pair{fb::BuiltinOptions::CallOnceOptions,
                              fb::CreateCallOnceOptions(b, 5).Union()};
         }});
     },
     "op 3 (CALL_ONCE): init_subgraph_index 5 is out of range (model has 1 subgraphs)"},
    {"if_else_subgraph_out_of_range",
     [](ModelSpec& m) {
         m.opcodes.push_back({.builtin = 118});
         m.main().ops.push_back({.opcode = 3, .inputs = {0}, .options = [](flatbuffers::FlatBufferBuilder& b) {
             return std::pair{fb::BuiltinOptions::IfOptions, fb::CreateIfOptions(b, 0, -3).Union()};
         }});
     },
     "op 3 (IF): else_subgraph_index -3 is out of range"},
    {"while_body_subgraph_out_of_range",
     [](ModelSpec& m) {
         m.opcodes.push_back({.builtin = 119});
         m.main().ops.push_back({.opcode = 3, .options = [](flatbuffers::FlatBufferBuilder& b) {
             return std::pair{fb::BuiltinOptions::WhileOptions, fb::CreateWhileOptions(b, 0, 1).Union()};
         }});
     },
     "op 3 (WHILE): body_subgraph_index 1 is out of range (model has 1 subgraphs)"},
    {"buffer_too_small",
     [](ModelSpec& m) { m.buffers[1].data.resize(11); },
     "tensor 1 \"weights\": buffer 1 holds 11 bytes, shape [3,4] of INT8 needs 12"},
    {"buffer_too_large",
     [](ModelSpec& m) { m.buffers[2].data.resize(16); },
     "tensor 2 \"bias\": buffer 2 holds 16 bytes, shape [3] of INT32 needs 12"},
    {"int4_buffer_size",
     [](ModelSpec& m) { m.main().tensors[1].type = fb::TensorType::INT4; },
     "tensor 1 \"weights\": buffer 1 holds 12 bytes, shape [3,4] of INT4 needs 6"},
    {"negative_dim",
     [](ModelSpec& m) { m.main().tensors[3].shape = {1, -3}; },
     "tensor 3 \"fc\": shape [1,-3] has a negative dimension (-1 is allowed only in shape_signature)"},
    {"shape_signature_below_minus_one",
     [](ModelSpec& m) { m.main().tensors[0].shape_signature = {-2, 4}; },
     "tensor 0 \"input\": shape_signature [-2,4] has a dimension below -1"},
    {"element_count_overflow",
     [](ModelSpec& m) { m.main().tensors[4].shape = {1 << 30, 1 << 30, 1 << 30}; },
     "tensor 4 \"relu\": shape [1073741824,1073741824,1073741824] has more elements than fit in 64 bits"},
    {"byte_size_overflow",
     [](ModelSpec& m) {
         m.main().tensors[2].shape = {1 << 30, 1 << 30, 1 << 2};  // 2^62 int32 = 2^64 bytes
     },
     "tensor 2 \"bias\": shape [1073741824,1073741824,4] of INT32 needs more bytes than fit in 64 bits"},
    {"unknown_tensor_type",
     [](ModelSpec& m) { m.main().tensors[5].type = static_cast<fb::TensorType>(42); },
     "tensor 5 \"sum\": unknown tensor type 42"},
    {"scale_zero_point_count_mismatch",
     [](ModelSpec& m) { m.main().tensors[1].zero_points = {{0, 0}}; },
     "tensor 1 \"weights\": 3 scales but 2 zero points (must be equal)"},
    {"scale_count_not_dimension_size",
     [](ModelSpec& m) {
         m.main().tensors[1].scales = {0.1f, 0.2f};
         m.main().tensors[1].zero_points = {{0, 0}};
     },
     "tensor 1 \"weights\": 2 scales, but per-axis quantization along dimension 0 of shape [3,4] needs 3"},
    {"quantized_dimension_out_of_range",
     [](ModelSpec& m) { m.main().tensors[1].quantized_dimension = 5; },
     "tensor 1 \"weights\": quantized_dimension 5 is out of range for shape [3,4]"},
    {"quantized_dimension_negative",
     [](ModelSpec& m) { m.main().tensors[1].quantized_dimension = -1; },
     "tensor 1 \"weights\": quantized_dimension -1 is out of range for shape [3,4]"},
    {"per_axis_on_scalar",
     [](ModelSpec& m) {
         m.main().tensors[3].shape = {};
         m.main().tensors[3].scales = {0.1f, 0.2f};
         m.main().tensors[3].zero_points = {{0, 0}};
     },
     "tensor 3 \"fc\": a scalar has 2 per-axis scales"},
    {"negative_scale",
     [](ModelSpec& m) { m.main().tensors[1].scales[1] = -0.5f; },
     "tensor 1 \"weights\": scale[1] = -0.5 is negative"},
    {"nan_scale",
     [](ModelSpec& m) { m.main().tensors[0].scales[0] = std::numeric_limits<float>::quiet_NaN(); },
     "tensor 0 \"input\": scale[0] = nan is not finite"},
    {"infinite_scale",
     [](ModelSpec& m) { m.main().tensors[5].scales[0] = std::numeric_limits<float>::infinity(); },
     "tensor 5 \"sum\": scale[0] = inf is not finite"},
    {"op_reads_tensor_of_later_op",
     [](ModelSpec& m) { std::swap(m.main().ops[0], m.main().ops[1]); },
     "op 0 (RELU): reads tensor 3 \"fc\" before op 1 (FULLY_CONNECTED) writes it: the operators are not in execution order"},
    {"cycle",
     [](ModelSpec& m) { m.main().ops[0].inputs[0] = 4; },  // FC reads RELU's output, RELU reads FC's
     "reads tensor 4 \"relu\", written by op 1 (RELU): the ops form a cycle"},
    {"self_cycle",
     [](ModelSpec& m) { m.main().ops[1].inputs[0] = 4; },
     "op 1 (RELU): reads tensor 4 \"relu\", written by op 1 (RELU): the ops form a cycle"},
    {"tensor_written_twice",
     [](ModelSpec& m) { m.main().ops[2].outputs = {3}; },
     "op 2 (ADD): writes tensor 3 \"fc\", which op 0 (FULLY_CONNECTED) already writes"},
    {"tensor_never_written",
     [](ModelSpec& m) { m.main().inputs = {}; },
     "op 0 (FULLY_CONNECTED): reads tensor 0 \"input\", which is not a subgraph input, constant or variable, and no op writes it"},
    {"signature_subgraph_out_of_range",
     [](ModelSpec& m) { m.signatures[0].subgraph = 3; },
     "signature 0 \"serving_default\": subgraph 3 is out of range (model has 1 subgraphs)"},
    {"signature_tensor_out_of_range",
     [](ModelSpec& m) { m.signatures[0].outputs[0].second = 77; },
     "signature 0 \"serving_default\": output \"y\" is tensor 77, out of range (subgraph 0 has 6 tensors)"},
    {"metadata_buffer_out_of_range",
     [](ModelSpec& m) { m.metadata[0].second = 50; },
     "metadata 0 \"min_runtime_version\": buffer 50 is out of range (model has 4 buffers)"},
    {"deprecated_metadata_buffer_out_of_range",
     [](ModelSpec& m) { m.metadata_buffer = {3, -1}; },
     "metadata_buffer 1 is buffer -1, out of range (model has 4 buffers)"},
    {"external_buffer_beyond_file",
     [](ModelSpec& m) {
         m.buffers[1].external = true;
         m.buffers[1].offset = 1u << 20;
     },
     "buffer 1: offset 1048576 + size 12 is beyond the end of the file"},
    {"external_buffer_offset_overflow",
     [](ModelSpec& m) {
         m.buffers[1].external = true;
         m.buffers[1].offset = std::numeric_limits<uint64_t>::max() - 4;
     },
     "buffer 1: offset 18446744073709551611 + size 12 is beyond the end of the file"},
    {"large_custom_options_beyond_file",
     [](ModelSpec& m) {
         m.main().ops[1].large_custom_options = {1, 2, 3};
         m.main().ops[1].large_custom_options_offset = 1u << 24;
     },
     "op 1 (RELU): large custom options at offset 16777216 + size 3 are beyond the end of the file"},
    {"custom_op_without_custom_code",
     [](ModelSpec& m) { m.opcodes[1] = {.builtin = 32}; },
     "operator code 1: CUSTOM op without a custom_code"},
    {"unknown_fused_activation",
     [](ModelSpec& m) { m.main().ops[0].options = testing::fullyConnectedOptions(static_cast<fb::ActivationFunctionType>(9)); },
     "op 0 (FULLY_CONNECTED): unknown fused activation function 9"},
    {"unknown_padding",
     [](ModelSpec& m) {
         m.opcodes[1] = {.builtin = 17};  // MAX_POOL_2D
         m.main().ops[1].options = [](flatbuffers::FlatBufferBuilder& b) {
             return std::pair{fb::BuiltinOptions::Pool2DOptions,
                              fb::CreatePool2DOptions(b, static_cast<fb::Padding>(7), 1, 1, 1, 1).Union()};
         };
     },
     "op 1 (MAX_POOL_2D): unknown padding 7"},
    {"string_buffer_bad_offsets",
     [](ModelSpec& m) {
         m.main().tensors[2].type = fb::TensorType::STRING;
         m.main().tensors[2].scales.clear();
         m.main().tensors[2].zero_points.reset();
         auto bytes = testing::stringBuffer({"ab", "c", "def"});
         bytes[8] = 200;  // offset of string 1 past the end
         m.buffers[2].data = bytes;
     },
     "tensor 2 \"bias\": STRING buffer 2: offset 200 of string 1 is outside"},
    {"string_buffer_huge_count",
     [](ModelSpec& m) {
         m.main().tensors[2].type = fb::TensorType::STRING;
         m.main().tensors[2].scales.clear();
         m.main().tensors[2].zero_points.reset();
         m.buffers[2].data = bytesOf(std::vector<int32_t>{1000000, 12, 12});
     },
     "tensor 2 \"bias\": STRING buffer 2 claims 1000000 strings, more than its 12 bytes can index"},
    {"sparse_values_size",
     [](ModelSpec& m) {
         // weights [3,4] as CSR: row 0 has 2 values, row 1 none, row 2 one -> 3 values.
         m.main().tensors[1].sparsity = testing::SparsitySpec{
             .traversal_order = {0, 1},
             .dims = {{.dense_size = 3}, {.sparse = true, .segments = {0, 2, 2, 3}, .indices = {0, 3, 1}}}};
         m.buffers[1].data = {1, 2, 3, 4};
     },
     "tensor 1 \"weights\": buffer 1 holds 4 bytes, the sparse encoding of shape [3,4] stores 3 values of INT8 (3 bytes)"},
    {"sparse_segments_count",
     [](ModelSpec& m) {
         m.main().tensors[1].sparsity = testing::SparsitySpec{
             .traversal_order = {0, 1},
             .dims = {{.dense_size = 3}, {.sparse = true, .segments = {0, 2, 3}, .indices = {0, 3, 1}}}};
         m.buffers[1].data = {1, 2, 3};
     },
     "tensor 1 \"weights\": sparse dimension 1 has 3 array_segments, needs 4"},
    {"sparse_traversal_order_mismatch",
     [](ModelSpec& m) {
         m.main().tensors[1].sparsity = testing::SparsitySpec{
             .traversal_order = {0}, .dims = {{.dense_size = 3}}};
     },
     "tensor 1 \"weights\": sparsity has 1 traversal_order entries and 1 dim_metadata entries; rank 2 + 0 block dims needs 2"},
    {"control_characters_in_names_stay_on_one_line",
     [](ModelSpec& m) {
         m.main().tensors[1].name = "evil\nname\r";
         m.buffers[1].data.resize(3);
     },
     "tensor 1 \"evil?name?\": buffer 1 holds 3 bytes"},
    {"no_subgraphs",
     [](ModelSpec& m) { m.subgraphs.clear(); m.signatures.clear(); },
     "model has no subgraphs"},
    {"error_in_second_subgraph_names_it",
     [](ModelSpec& m) {
         testing::SubgraphSpec body;
         body.tensors = {{.name = "a", .shape = {2}}, {.name = "b", .shape = {2}}};
         body.inputs = {0};
         body.outputs = {1};
         body.ops = {{.opcode = 1, .inputs = {0}, .outputs = {5}}};
         m.subgraphs.push_back(body);
     },
     "bad.tflite: subgraph 1: op 0 (RELU): output 0 is tensor 5, out of range (subgraph has 2 tensors)"},
};
// clang-format on

// Shows the case's name (not its bytes) in test names and failure output.
void PrintTo(const BadCase& c, std::ostream* os) {
    *os << c.name;
}

class BadModel : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadModel, FailsWithExpectedMessage) {
    const BadCase& c = GetParam();
    ModelSpec spec = validSpec();
    c.mutate(spec);
    const std::vector<uint8_t> bytes = serialize(spec);
    auto result = loadModelFromBuffer(bytes, kName);
    ASSERT_FALSE(result.has_value()) << c.name << " loaded";
    const std::string& msg = result.error().message;
    EXPECT_NE(msg.find(c.expected), std::string::npos)
        << "expected: " << c.expected << "\nactual:   " << msg;
    EXPECT_EQ(msg.rfind(std::string(kName) + ": ", 0), 0u) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

INSTANTIATE_TEST_SUITE_P(Regression, BadModel, ::testing::ValuesIn(kBadCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(BadModel, ValidSpecLoads) {
    // The base of every case above must itself be valid, or the cases prove nothing.
    auto result = loadModelFromBuffer(serialize(validSpec()), kName);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_TRUE(result->warnings.empty());
}

TEST(BadModel, ErrorCarriesOpAndTensor) {
    ModelSpec spec = validSpec();
    std::swap(spec.main().ops[0], spec.main().ops[1]);
    auto result = loadModelFromBuffer(serialize(spec), kName);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().op_index, 0);
    EXPECT_EQ(result.error().tensor_index, 3);
    EXPECT_EQ(result.error().tensor_name, "fc");
}

// ---- damaged copies of real models ------------------------------------------------------

std::vector<uint8_t> readFile(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::filesystem::path conformanceModel(const char* name) {
    return std::filesystem::path(QS_CONFORMANCE_DIR) / name / "model.tflite";
}

// Small models whose FlatBuffer structure is a large share of the file, plus one with
// TFLite Metadata and a signature.
const char* const kDamageModels[] = {"hello_world_int8", "micro_speech_quantized",
                                     "simple_add_model", "kws_dscnn_int8",
                                     "mobilenet_v2_035_96_embedder_dynamic_range"};

TEST(DamagedModel, TruncatedAtManyOffsets) {
    for (const char* name : kDamageModels) {
        const auto full = readFile(conformanceModel(name));
        ASSERT_GT(full.size(), 100u) << name;
        ASSERT_TRUE(loadModelFromBuffer(full, name)) << name;
        std::vector<size_t> cuts = {0, 1, 4, 7, 8, 12, 16, full.size() - 1, full.size() / 2};
        for (size_t k = 1; k <= 60; ++k) cuts.push_back(full.size() * k / 61);
        size_t errors = 0;
        for (size_t cut : cuts) {
            std::vector<uint8_t> part(full.begin(), full.begin() + static_cast<ptrdiff_t>(cut));
            auto r = loadModelFromBuffer(part, "cut.tflite");
            if (!r) {
                ++errors;
                EXPECT_EQ(r.error().message.rfind("cut.tflite: ", 0), 0u) << r.error().message;
            }
            if (cut <= 8) {
                ASSERT_FALSE(r) << name << " cut at " << cut;
            }
            if (cut < 8) {
                EXPECT_TRUE(r.error().message.find("empty") != std::string::npos ||
                            r.error().message.find("too small") != std::string::npos)
                    << r.error().message;
            }
        }
        // A truncated FlatBuffer loses the vectors stored near its end; the verifier must
        // notice nearly every cut (a few may only drop trailing non-FlatBuffer bytes).
        EXPECT_GE(errors, cuts.size() * 3 / 4) << name;
    }
}

TEST(DamagedModel, RandomByteCorruptionNeverCrashes) {
    std::mt19937 rng(20261122);
    size_t loaded = 0, failed = 0;
    for (const char* name : kDamageModels) {
        const auto original = readFile(conformanceModel(name));
        // Bias the positions towards the FlatBuffer tables: in these files the weights sit
        // in the middle, while the root table, vtables, tensors and ops are at both ends.
        const size_t head = std::min<size_t>(original.size(), 4096);
        for (int i = 0; i < 500; ++i) {
            std::vector<uint8_t> bytes = original;
            size_t pos;
            switch (i % 3) {
                case 0:
                    pos = rng() % head;
                    break;
                case 1:
                    pos = original.size() - 1 - rng() % head;
                    break;
                default:
                    pos = rng() % original.size();
                    break;
            }
            uint8_t v;
            do v = static_cast<uint8_t>(rng());
            while (v == bytes[pos]);
            bytes[pos] = v;
            auto r = loadModelFromBuffer(bytes, "flip.tflite");
            if (r) {
                ++loaded;
                // Whatever loads must satisfy the IR's promises.
                for (const auto& sg : r->subgraphs) {
                    for (const auto& op : sg.operators) {
                        for (TensorId t : op.inputs) {
                            if (t.valid()) {
                                ASSERT_LT(static_cast<size_t>(t.value), sg.tensors.size());
                            }
                        }
                        for (TensorId t : op.outputs) {
                            if (t.valid()) {
                                ASSERT_LT(static_cast<size_t>(t.value), sg.tensors.size());
                            }
                        }
                    }
                    for (const auto& t : sg.tensors) {
                        if (t.isConstant() && !t.sparsity && t.dtype != DType::String) {
                            ASSERT_EQ(static_cast<int64_t>(t.data.size()), t.byteSize()) << t.name;
                        }
                    }
                }
            } else {
                ++failed;
                const std::string& msg = r.error().message;
                ASSERT_EQ(msg.rfind("flip.tflite: ", 0), 0u) << msg;
                ASSERT_EQ(msg.find('\n'), std::string::npos) << msg;
            }
        }
    }
    // Both outcomes occur: many flips land in weights (still a valid model), many in structure.
    EXPECT_GT(loaded, 0u);
    EXPECT_GT(failed, 0u);
    std::cout << "[          ] byte corruptions: " << loaded << " loaded, " << failed
              << " rejected\n";
}

}  // namespace
}  // namespace qs::model
