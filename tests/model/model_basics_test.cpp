// The model library's pieces on their own: dtypes, op codes, the IR helpers, and the loader's
// behaviour on valid but unusual files (missing options, old opcode fields, external buffers,
// metadata, strings, sparsity, control flow) and on files that are not models at all.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "model/loader.h"
#include "model/schema/metadata_generated.h"
#include "test_model_factory.h"

namespace qs::model {
namespace {

using testing::bytesOf;
using testing::ModelSpec;
using testing::serialize;
using testing::validSpec;
namespace fs = std::filesystem;

Result<Model> load(const ModelSpec& spec) {
    return loadModelFromBuffer(serialize(spec), "t.tflite");
}

Model loadOk(const ModelSpec& spec) {
    auto r = load(spec);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? std::move(*r) : Model{};
}

bool hasWarning(const Model& m, std::string_view part) {
    return std::any_of(m.warnings.begin(), m.warnings.end(),
                       [&](const std::string& w) { return w.find(part) != std::string::npos; });
}

// ---- dtype / op codes ------------------------------------------------------------------------

TEST(DType, NamesSizesAndNumpy) {
    EXPECT_EQ(dtypeName(DType::Int8), "INT8");
    EXPECT_EQ(dtypeName(DType::Int4), "INT4");
    EXPECT_EQ(dtypeFromName("FLOAT16"), DType::Float16);
    EXPECT_EQ(dtypeFromName("float16"), std::nullopt);
    EXPECT_EQ(dtypeBits(DType::Int4), 4);
    EXPECT_EQ(dtypeBits(DType::Complex128), 128);
    EXPECT_EQ(dtypeBits(DType::String), 0);
    EXPECT_EQ(dtypeNumpy(DType::Int8), "|i1");
    EXPECT_EQ(dtypeNumpy(DType::Float32), "<f4");
    EXPECT_EQ(dtypeNumpy(DType::Bool), "|b1");
    EXPECT_EQ(dtypeNumpy(DType::String), "");
    EXPECT_TRUE(isQuantizable(DType::Int16));
    EXPECT_FALSE(isQuantizable(DType::Float32));
    EXPECT_TRUE(isFloat(DType::Float16));
    EXPECT_FALSE(isFloat(DType::Int32));
    for (int i = 0; i <= static_cast<int>(DType::Int4); ++i) {
        const auto t = static_cast<DType>(i);
        EXPECT_EQ(dtypeFromName(dtypeName(t)), t) << i;
    }
}

TEST(OpCode, NamesRoundTrip) {
    EXPECT_EQ(builtinOpName(BuiltinOp::CONV_2D), "CONV_2D");
    EXPECT_EQ(builtinOpName(BuiltinOp::REDUCE_WINDOW), "REDUCE_WINDOW");
    EXPECT_EQ(builtinOpName(static_cast<BuiltinOp>(206)), "");
    EXPECT_EQ(builtinOpFromName("DEPTHWISE_CONV_2D"), BuiltinOp::DEPTHWISE_CONV_2D);
    EXPECT_EQ(builtinOpFromName("NOPE"), std::nullopt);
    EXPECT_TRUE(isKnownBuiltin(0));
    EXPECT_TRUE(isKnownBuiltin(205));
    EXPECT_FALSE(isKnownBuiltin(206));
    EXPECT_FALSE(isKnownBuiltin(-1));
}

TEST(ModelIr, TensorSizesAndNames) {
    Tensor t;
    t.dtype = DType::Int4;
    t.shape = {3, 3};
    EXPECT_EQ(t.numElements(), 9);
    EXPECT_EQ(t.byteSize(), 5);
    t.dtype = DType::Float32;
    t.shape = {};
    EXPECT_EQ(t.numElements(), 1);
    EXPECT_EQ(t.byteSize(), 4);
    t.shape = {2, 0, 5};
    EXPECT_EQ(t.byteSize(), 0);
    EXPECT_EQ(activationName(Activation::Relu6), "RELU6");
    EXPECT_EQ(paddingName(Padding::Valid), "VALID");
    Operator op;
    op.opcode = BuiltinOp::CUSTOM;
    op.custom_code = "TFLite_Detection_PostProcess";
    EXPECT_EQ(op.name(), "TFLite_Detection_PostProcess");
    op.opcode = static_cast<BuiltinOp>(321);
    EXPECT_EQ(op.name(), "BUILTIN_321");
}

// ---- the valid test model ---------------------------------------------------------------------

TEST(Loader, ValidModelFields) {
    const Model m = loadOk(validSpec());
    EXPECT_EQ(m.path, "t.tflite");
    EXPECT_EQ(m.version, 3u);
    EXPECT_EQ(m.description, "test");
    ASSERT_EQ(m.subgraphs.size(), 1u);
    const Subgraph& sg = m.main();
    EXPECT_EQ(sg.name, "main");
    ASSERT_EQ(sg.tensors.size(), 6u);
    ASSERT_EQ(sg.operators.size(), 3u);
    EXPECT_EQ(sg.operators[0].name(), "FULLY_CONNECTED");
    EXPECT_EQ(sg.operators[2].name(), "ADD");
    const Tensor& w = sg.tensors[1];
    EXPECT_TRUE(w.isConstant());
    EXPECT_EQ(w.data.size(), 12u);
    EXPECT_EQ(static_cast<int8_t>(w.data[11]), 12);
    EXPECT_TRUE(w.quantization.isPerChannel());
    EXPECT_FLOAT_EQ(w.quantization.scale(2), 0.3f);
    EXPECT_EQ(sg.tensors[0].quantization.zeroPoint(), -1);
    EXPECT_FALSE(sg.tensors[0].isConstant());

    const auto producers = sg.producers();
    EXPECT_FALSE(producers[0].valid());
    EXPECT_FALSE(producers[1].valid());
    EXPECT_EQ(producers[3], OpId(0));
    EXPECT_EQ(producers[5], OpId(2));

    const auto* add = sg.operators[2].opts<AddSubOptions>();
    ASSERT_NE(add, nullptr);
    EXPECT_EQ(add->fused_activation_function, Activation::Relu6);
    EXPECT_TRUE(add->pot_scale_int16);
    EXPECT_EQ(sg.operators[0].opts<AddSubOptions>(), nullptr);
    EXPECT_NE(sg.operators[0].opts<FullyConnectedOptions>(), nullptr);

    ASSERT_EQ(m.signatures.size(), 1u);
    EXPECT_EQ(m.signatures[0].key, "serving_default");
    EXPECT_EQ(m.signatures[0].outputs.at(0).tensor, TensorId(5));
    ASSERT_EQ(m.metadata.size(), 1u);
    EXPECT_EQ(std::string(m.metadata[0].data.begin(), m.metadata[0].data.end()), "1.14.0");

    // Spans point into the storage the model keeps alive.
    const auto bytes = m.storage->bytes();
    EXPECT_GE(w.data.data(), bytes.data());
    EXPECT_LE(w.data.data() + w.data.size(), bytes.data() + bytes.size());
}

TEST(Loader, OptionalInputsAndEmptyConstants) {
    ModelSpec spec = validSpec();
    spec.main().ops[0].inputs[2] = -1;  // FULLY_CONNECTED without bias
    // A RESHAPE reading a zero-element constant shape (its buffer holds no bytes).
    spec.opcodes.push_back({.builtin = 22});
    spec.buffers.push_back({});
    spec.main().tensors.push_back(
        {.name = "empty_shape", .type = fb::TensorType::INT32, .shape = {0}, .buffer = 4});
    spec.main().tensors.push_back(
        {.name = "scalar", .shape = {}, .scales = {0.5f}, .zero_points = {{0}}});
    spec.main().ops.push_back({.opcode = 3, .inputs = {5, 6}, .outputs = {7}});
    const Model m = loadOk(spec);
    EXPECT_FALSE(m.main().operators[0].inputs[2].valid());
    EXPECT_FALSE(m.main().tensors[6].isConstant());
}

// ---- options -----------------------------------------------------------------------------------

TEST(Loader, MissingOptionsTablesReadAsZeroLikeTflite) {
    // flatbuffer_conversions.cc leaves params value-initialized when the table is absent.
    ModelSpec spec = validSpec();
    spec.main().ops[2].options = nullptr;
    spec.opcodes[1] = {.builtin = 25};  // SOFTMAX instead of RELU, no options
    const Model m = loadOk(spec);
    const auto* add = m.main().operators[2].opts<AddSubOptions>();
    ASSERT_NE(add, nullptr);
    EXPECT_FALSE(add->pot_scale_int16);  // zero, not the schema default true
    const auto* softmax = m.main().operators[1].opts<SoftmaxOptions>();
    ASSERT_NE(softmax, nullptr);
    EXPECT_EQ(softmax->beta, 0.0f);
}

TEST(Loader, OptionsOfTheWrongTypeReadAsMissing) {
    ModelSpec spec = validSpec();
    spec.main().ops[0].options = testing::addOptions(fb::ActivationFunctionType::RELU);
    const Model m = loadOk(spec);
    const auto* fc = m.main().operators[0].opts<FullyConnectedOptions>();
    ASSERT_NE(fc, nullptr);
    EXPECT_EQ(fc->fused_activation_function, Activation::None);
}

TEST(Loader, ConvOptionsWithSchemaDefaults) {
    ModelSpec spec = validSpec();
    spec.opcodes.push_back({.builtin = 3});
    spec.opcodes.push_back({.builtin = 3});
    spec.main().tensors.push_back(
        {.name = "conv_out", .shape = {1, 3}, .scales = {1.0f}, .zero_points = {{0}}});
    spec.main().tensors.push_back(
        {.name = "conv_out2", .shape = {1, 3}, .scales = {1.0f}, .zero_points = {{0}}});
    spec.main().ops.push_back(
        {.opcode = 3,
         .inputs = {5, 1},
         .outputs = {6},
         .options = [](flatbuffers::FlatBufferBuilder& b) {
             // Dilation omitted: the table's schema default 1 applies.
             fb::Conv2DOptionsBuilder ob(b);
             ob.add_padding(fb::Padding::VALID);
             ob.add_stride_w(2);
             ob.add_stride_h(3);
             ob.add_fused_activation_function(fb::ActivationFunctionType::RELU);
             return std::pair{fb::BuiltinOptions::Conv2DOptions, ob.Finish().Union()};
         }});
    spec.main().ops.push_back({.opcode = 4, .inputs = {5, 1}, .outputs = {7}});  // no table at all
    const Model m = loadOk(spec);
    const auto* c = m.main().operators[3].opts<Conv2DOptions>();
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->padding, Padding::Valid);
    EXPECT_EQ(c->stride_w, 2);
    EXPECT_EQ(c->stride_h, 3);
    EXPECT_EQ(c->fused_activation_function, Activation::Relu);
    EXPECT_EQ(c->dilation_w_factor, 1);
    EXPECT_EQ(c->dilation_h_factor, 1);
    const auto* z = m.main().operators[4].opts<Conv2DOptions>();
    ASSERT_NE(z, nullptr);
    EXPECT_EQ(z->stride_w, 0);
    EXPECT_EQ(z->dilation_w_factor, 0);
}

TEST(Loader, OptionsStructPerOpFamily) {
    struct Case {
        int32_t code;
        testing::OptionsFn options;
        std::function<void(const Operator&)> check;
    };
    using B = flatbuffers::FlatBufferBuilder;
    const std::vector<Case> cases = {
        {41,
         [](B& b) {
             return std::pair{
                 fb::BuiltinOptions::SubOptions,
                 fb::CreateSubOptions(b, fb::ActivationFunctionType::TANH, false).Union()};
         },
         [](const Operator& op) {
             auto* o = op.opts<AddSubOptions>();
             ASSERT_TRUE(o);
             EXPECT_EQ(o->fused_activation_function, Activation::Tanh);
             EXPECT_FALSE(o->pot_scale_int16);
         }},
        {42,
         [](B& b) {
             return std::pair{fb::BuiltinOptions::DivOptions,
                              fb::CreateDivOptions(b, fb::ActivationFunctionType::RELU6).Union()};
         },
         [](const Operator& op) {
             auto* o = op.opts<ActivationOptions>();
             ASSERT_TRUE(o);
             EXPECT_EQ(o->fused_activation_function, Activation::Relu6);
         }},
        {11,
         [](B& b) {
             return std::pair{fb::BuiltinOptions::L2NormOptions,
                              fb::CreateL2NormOptions(b, fb::ActivationFunctionType::RELU).Union()};
         },
         [](const Operator& op) {
             auto* o = op.opts<ActivationOptions>();
             ASSERT_TRUE(o);
             EXPECT_EQ(o->fused_activation_function, Activation::Relu);
         }},
        {102,
         [](B& b) {
             return std::pair{fb::BuiltinOptions::SplitVOptions,
                              fb::CreateSplitVOptions(b, 3).Union()};
         },
         [](const Operator& op) {
             auto* o = op.opts<SplitOptions>();
             ASSERT_TRUE(o);
             EXPECT_EQ(o->num_splits, 3);
         }},
        {79,
         [](B& b) {
             return std::pair{fb::BuiltinOptions::ArgMinOptions,
                              fb::CreateArgMinOptions(b, fb::TensorType::INT32).Union()};
         },
         [](const Operator& op) {
             auto* o = op.opts<ArgMinMaxOptions>();
             ASSERT_TRUE(o);
             EXPECT_EQ(o->output_type, DType::Int32);
         }},
        {97,
         [](B& b) {
             return std::pair{fb::BuiltinOptions::ResizeNearestNeighborOptions,
                              fb::CreateResizeNearestNeighborOptions(b, true, false).Union()};
         },
         [](const Operator& op) {
             auto* o = op.opts<ResizeOptions>();
             ASSERT_TRUE(o);
             EXPECT_TRUE(o->align_corners);
             EXPECT_FALSE(o->half_pixel_centers);
         }},
        {23,
         [](B& b) {
             return std::pair{fb::BuiltinOptions::ResizeBilinearOptions,
                              fb::CreateResizeBilinearOptions(b, false, true).Union()};
         },
         [](const Operator& op) {
             auto* o = op.opts<ResizeOptions>();
             ASSERT_TRUE(o);
             EXPECT_TRUE(o->half_pixel_centers);
         }},
        {5,
         [](B& b) {
             return std::pair{fb::BuiltinOptions::DepthToSpaceOptions,
                              fb::CreateDepthToSpaceOptions(b, 4).Union()};
         },
         [](const Operator& op) {
             auto* o = op.opts<BlockSizeOptions>();
             ASSERT_TRUE(o);
             EXPECT_EQ(o->block_size, 4);
         }},
        {82,
         [](B& b) {
             return std::pair{fb::BuiltinOptions::ReducerOptions,
                              fb::CreateReducerOptions(b, true).Union()};
         },
         [](const Operator& op) {
             auto* o = op.opts<ReducerOptions>();
             ASSERT_TRUE(o);
             EXPECT_TRUE(o->keep_dims);
         }},
        {22,
         [](B& b) {
             std::vector<int32_t> s{1, -1};
             return std::pair{fb::BuiltinOptions::ReshapeOptions,
                              fb::CreateReshapeOptionsDirect(b, &s).Union()};
         },
         [](const Operator& op) {
             auto* o = op.opts<ReshapeOptions>();
             ASSERT_TRUE(o);
             EXPECT_TRUE(o->has_new_shape);
             EXPECT_EQ(o->new_shape, (std::vector<int32_t>{1, -1}));
         }},
        {43,
         [](B& b) {
             std::vector<int32_t> s{0, 2};
             return std::pair{fb::BuiltinOptions::SqueezeOptions,
                              fb::CreateSqueezeOptionsDirect(b, &s).Union()};
         },
         [](const Operator& op) {
             auto* o = op.opts<SqueezeOptions>();
             ASSERT_TRUE(o);
             EXPECT_EQ(o->squeeze_dims, (std::vector<int32_t>{0, 2}));
         }},
        {45,
         [](B& b) {
             return std::pair{fb::BuiltinOptions::StridedSliceOptions,
                              fb::CreateStridedSliceOptions(b, 1, 2, 0, 0, 4, true).Union()};
         },
         [](const Operator& op) {
             auto* o = op.opts<StridedSliceOptions>();
             ASSERT_TRUE(o);
             EXPECT_EQ(o->end_mask, 2);
             EXPECT_EQ(o->shrink_axis_mask, 4);
             EXPECT_TRUE(o->offset);
         }},
        {17,
         [](B& b) {
             return std::pair{fb::BuiltinOptions::Pool2DOptions,
                              fb::CreatePool2DOptions(b, fb::Padding::VALID, 2, 2, 3, 3).Union()};
         },
         [](const Operator& op) {
             auto* o = op.opts<Pool2DOptions>();
             ASSERT_TRUE(o);
             EXPECT_EQ(o->filter_width, 3);
             EXPECT_EQ(o->padding, Padding::Valid);
         }},
        {98,
         [](B& b) {
             return std::pair{fb::BuiltinOptions::LeakyReluOptions,
                              fb::CreateLeakyReluOptions(b, 0.2f).Union()};
         },
         [](const Operator& op) {
             auto* o = op.opts<LeakyReluOptions>();
             ASSERT_TRUE(o);
             EXPECT_FLOAT_EQ(o->alpha, 0.2f);
         }},
        {150,
         [](B& b) {
             return std::pair{fb::BuiltinOptions::GeluOptions,
                              fb::CreateGeluOptions(b, true).Union()};
         },
         [](const Operator& op) {
             EXPECT_EQ(op.name(), "GELU");
             auto* o = op.opts<GeluOptions>();
             ASSERT_TRUE(o);
             EXPECT_TRUE(o->approximate);
         }},
        {126,
         [](B& b) {
             return std::pair{fb::BuiltinOptions::BatchMatMulOptions,
                              fb::CreateBatchMatMulOptions(b, false, true).Union()};
         },
         [](const Operator& op) {
             auto* o = op.opts<BatchMatMulOptions>();
             ASSERT_TRUE(o);
             EXPECT_TRUE(o->adj_y);
         }},
        {53,
         [](B& b) {
             return std::pair{
                 fb::BuiltinOptions::CastOptions,
                 fb::CreateCastOptions(b, fb::TensorType::INT8, fb::TensorType::FLOAT32).Union()};
         },
         [](const Operator& op) {
             auto* o = op.opts<CastOptions>();
             ASSERT_TRUE(o);
             EXPECT_EQ(o->in_data_type, DType::Int8);
         }},
        {19, nullptr, [](const Operator& op) { EXPECT_NE(op.opts<NoOptions>(), nullptr); }},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.code);
        ModelSpec spec = validSpec();
        spec.opcodes[1] = {.builtin = c.code};
        spec.main().ops[1].options = c.options;
        const Model m = loadOk(spec);
        if (m.subgraphs.empty()) continue;
        c.check(m.main().operators[1]);
    }
}

// ---- op codes --------------------------------------------------------------------------------

TEST(Loader, DeprecatedBuiltinCodeRule) {
    // schema_utils.cc GetBuiltinCode: max(builtin_code, deprecated_builtin_code).
    ModelSpec spec = validSpec();
    spec.opcodes[0] = {.builtin = 0, .deprecated = 9};      // old file: only the deprecated field
    spec.opcodes[1] = {.builtin = 150, .deprecated = 127};  // new code: placeholder 127
    const Model m = loadOk(spec);
    EXPECT_EQ(m.main().operators[0].opcode, BuiltinOp::FULLY_CONNECTED);
    EXPECT_EQ(m.main().operators[1].opcode, BuiltinOp::GELU);
    EXPECT_EQ(m.main().operators[1].builtin_code, 150);
}

TEST(Loader, UnknownBuiltinCodeIsAWarning) {
    ModelSpec spec = validSpec();
    spec.opcodes[1] = {.builtin = 300, .deprecated = 127, .version = 2};
    const Model m = loadOk(spec);
    const Operator& op = m.main().operators[1];
    EXPECT_EQ(op.name(), "BUILTIN_300");
    EXPECT_EQ(op.builtin_code, 300);
    EXPECT_EQ(op.version, 2);
    EXPECT_NE(op.opts<NoOptions>(), nullptr);
    EXPECT_TRUE(hasWarning(m, "builtin code 300 is not in this build's schema"));
}

TEST(Loader, CustomOpsKeepCodeAndZeroCopyOptions) {
    ModelSpec spec = validSpec();
    spec.opcodes[1] = {.builtin = 32, .custom = "MyCustomOp"};
    spec.main().ops[1].custom_options = {9, 8, 7, 6};
    const Model m = loadOk(spec);
    const Operator& op = m.main().operators[1];
    EXPECT_TRUE(op.isCustom());
    EXPECT_EQ(op.name(), "MyCustomOp");
    ASSERT_EQ(op.custom_options.size(), 4u);
    EXPECT_EQ(op.custom_options[0], 9);
    const auto bytes = m.storage->bytes();
    EXPECT_GE(op.custom_options.data(), bytes.data());
    EXPECT_LT(op.custom_options.data(), bytes.data() + bytes.size());
}

TEST(Loader, LargeCustomOptionsAfterTheFlatBuffer) {
    ModelSpec spec = validSpec();
    spec.opcodes[1] = {.builtin = 32, .custom = "Big"};
    spec.main().ops[1].large_custom_options = {1, 2, 3, 4, 5};
    const Model m = loadOk(spec);
    const Operator& op = m.main().operators[1];
    ASSERT_EQ(op.custom_options.size(), 5u);
    EXPECT_EQ(op.custom_options[4], 5);
}

// ---- buffers ---------------------------------------------------------------------------------

TEST(Loader, ExternalBuffersAreZeroCopySpansIntoTheFile) {
    // The layout of models over 2 GB: Buffer.offset/size point past the FlatBuffer.
    ModelSpec spec = validSpec();
    spec.buffers[1].external = true;
    spec.buffers[2].external = true;
    const auto bytes = serialize(spec);
    auto r = loadModelFromBuffer(bytes, "ext.tflite");
    ASSERT_TRUE(r.has_value()) << r.error().message;
    const Tensor& w = r->main().tensors[1];
    ASSERT_EQ(w.data.size(), 12u);
    EXPECT_EQ(static_cast<int8_t>(w.data[0]), 1);
    const auto storage = r->storage->bytes();
    const auto offset = static_cast<size_t>(w.data.data() - storage.data());
    EXPECT_EQ(offset % 16, 0u);
    EXPECT_GT(offset, storage.size() - 64);
    EXPECT_EQ(r->main().tensors[2].data.size(), 12u);
}

TEST(Loader, PlaceholderOffsetOneMeansNoData) {
    // interpreter_builder.cc: only offset > 1 locates data; 1 is the converter's placeholder.
    ModelSpec spec = validSpec();
    spec.buffers.push_back({.offset = 1, .size = 4});
    spec.main().tensors[4].buffer = 4;
    const Model m = loadOk(spec);
    EXPECT_FALSE(m.main().tensors[4].isConstant());
}

TEST(Loader, VariableTensorMayHoldAnInitialValue) {
    ModelSpec spec = validSpec();
    spec.buffers.push_back({.data = {0, 0, 0}});
    spec.main().tensors.push_back({.name = "state",
                                   .shape = {1, 3},
                                   .buffer = 4,
                                   .is_variable = true,
                                   .scales = {1.0f},
                                   .zero_points = {{0}}});
    spec.main().ops[2].inputs = {4, 6};
    const Model m = loadOk(spec);
    EXPECT_TRUE(m.main().tensors[6].is_variable);
    EXPECT_EQ(m.main().tensors[6].data.size(), 3u);
}

TEST(Loader, StringConstant) {
    ModelSpec spec = validSpec();
    spec.buffers.push_back({.data = testing::stringBuffer({"cat", "", "sparrow"})});
    spec.main().tensors.push_back(
        {.name = "labels", .type = fb::TensorType::STRING, .shape = {3}, .buffer = 4});
    const Model m = loadOk(spec);
    EXPECT_EQ(m.main().tensors[6].data.size(), 4u * 5 + 10);
    EXPECT_TRUE(m.warnings.empty());
}

TEST(Loader, SparseConstantSizedByItsEncoding) {
    ModelSpec spec = validSpec();
    spec.main().tensors[1].sparsity = testing::SparsitySpec{
        .traversal_order = {0, 1},
        .dims = {{.dense_size = 3},
                 {.sparse = true, .segments = {0, 2, 2, 3}, .indices = {0, 3, 1}}}};
    spec.buffers[1].data = {5, 6, 7};
    const Model m = loadOk(spec);
    const Tensor& w = m.main().tensors[1];
    ASSERT_TRUE(w.sparsity.has_value());
    ASSERT_EQ(w.sparsity->dim_metadata.size(), 2u);
    EXPECT_TRUE(w.sparsity->dim_metadata[1].sparse_csr);
    EXPECT_EQ(w.sparsity->dim_metadata[1].array_indices, (std::vector<int32_t>{0, 3, 1}));
    EXPECT_EQ(w.data.size(), 3u);
}

// ---- quantization ----------------------------------------------------------------------------

TEST(Loader, QuantizationEdgeCases) {
    ModelSpec spec = validSpec();
    spec.main().tensors[1].scales = {0.1f, 0.0f, 0.3f};  // an all-zero channel: legal
    spec.main().tensors[3].zero_points.reset();          // missing zero points read as 0
    spec.main().tensors[5].quantized_dimension = 7;      // meaningless for one scale
    // A 1-D per-channel bias with the weights' dimension, as person_detect stores it.
    spec.main().tensors[2].quantized_dimension = 3;
    const Model m = loadOk(spec);
    EXPECT_FALSE(hasWarning(m, "tensor 1 "));
    EXPECT_EQ(m.main().tensors[3].quantization.zeroPoint(), 0);
    EXPECT_EQ(m.main().tensors[5].quantization.quantized_dimension, 0);
    EXPECT_TRUE(
        hasWarning(m, "tensor 5 \"sum\": per-tensor quantization with quantized_dimension 7"));
    EXPECT_EQ(m.main().tensors[2].quantization.quantized_dimension, 0);
    EXPECT_TRUE(hasWarning(
        m, "tensor 2 \"bias\": quantized_dimension 3 is out of range for shape [3]; read as 0"));
}

TEST(Loader, ZeroScaleOnActivationWarns) {
    ModelSpec spec = validSpec();
    spec.main().tensors[4].scales = {0.0f};
    const Model m = loadOk(spec);
    EXPECT_TRUE(hasWarning(m, "tensor 4 \"relu\": scale[0] is 0 on a non-constant tensor"));
}

// ---- structure -------------------------------------------------------------------------------

TEST(Loader, ControlFlowSubgraphsAllLoad) {
    ModelSpec spec = validSpec();
    spec.opcodes.push_back({.builtin = 118});  // IF
    testing::SubgraphSpec branch;
    branch.name = "branch";
    branch.tensors = {{.name = "x", .shape = {1, 3}}, {.name = "y", .shape = {1, 3}}};
    branch.inputs = {0};
    branch.outputs = {1};
    branch.ops = {{.opcode = 1, .inputs = {0}, .outputs = {1}}};
    spec.subgraphs.push_back(branch);
    spec.subgraphs.push_back(branch);
    spec.main().tensors.push_back({.name = "cond", .type = fb::TensorType::BOOL, .shape = {}});
    spec.main().tensors.push_back({.name = "if_out", .shape = {1, 3}});
    spec.main().inputs = {0, 6};
    spec.main().ops.push_back(
        {.opcode = 3,
         .inputs = {6, 5},
         .outputs = {7},
         .options = [](flatbuffers::FlatBufferBuilder& b) {
             return std::pair{fb::BuiltinOptions::IfOptions, fb::CreateIfOptions(b, 1, 2).Union()};
         }});
    const Model m = loadOk(spec);
    ASSERT_EQ(m.subgraphs.size(), 3u);
    EXPECT_EQ(m.subgraphs[2].name, "branch");
    const auto* o = m.main().operators[3].opts<IfOptions>();
    ASSERT_NE(o, nullptr);
    EXPECT_EQ(o->then_subgraph_index, 1);
    EXPECT_EQ(o->else_subgraph_index, 2);
}

TEST(Loader, MissingIdentifierLoadsWithWarning) {
    ModelSpec spec = validSpec();
    spec.identifier = false;
    const Model m = loadOk(spec);
    EXPECT_TRUE(hasWarning(m, "no \"TFL3\" file identifier"));
}

// ---- TFLite Metadata -----------------------------------------------------------------------

std::vector<uint8_t> metadataBuffer(bool withImage) {
    namespace fm = qs::fbmeta;
    flatbuffers::FlatBufferBuilder b;
    std::vector<float> mean{0.0f, 1.0f, 2.0f}, stdv{255.0f, 255.0f, 255.0f};
    auto norm = fm::CreateNormalizationOptionsDirect(b, &mean, &stdv);
    std::vector<flatbuffers::Offset<fm::ProcessUnit>> units{
        fm::CreateProcessUnit(b, fm::ProcessUnitOptions::NormalizationOptions, norm.Union())};
    flatbuffers::Offset<fm::Content> content = 0;
    if (withImage) {
        auto size = fm::CreateImageSize(b, 224, 160);
        auto img = fm::CreateImageProperties(b, 2, size);
        content = fm::CreateContent(b, fm::ContentProperties::ImageProperties, img.Union());
    }
    std::vector<flatbuffers::Offset<fm::AssociatedFile>> files{
        fm::CreateAssociatedFileDirect(b, "labels.txt")};
    auto input =
        fm::CreateTensorMetadataDirect(b, "image", nullptr, nullptr, content, &units, 0, &files);
    std::vector<flatbuffers::Offset<fm::TensorMetadata>> inputs{input};
    std::vector<flatbuffers::Offset<fm::SubGraphMetadata>> sgs{
        fm::CreateSubGraphMetadataDirect(b, nullptr, nullptr, &inputs)};
    auto root = fm::CreateModelMetadataDirect(b, "m", nullptr, nullptr, &sgs);
    fm::FinishModelMetadataBuffer(b, root);
    return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
}

TEST(Loader, TfliteMetadataFillsInputInfo) {
    ModelSpec spec = validSpec();
    spec.buffers.push_back({.data = metadataBuffer(true)});
    spec.metadata.push_back({"TFLITE_METADATA", 4});
    const Model m = loadOk(spec);
    ASSERT_EQ(m.input_info.size(), 1u);
    const InputInfo& info = m.input_info[0];
    EXPECT_EQ(info.name, "image");
    ASSERT_TRUE(info.normalization);
    EXPECT_EQ(info.normalization->mean, (std::vector<float>{0.0f, 1.0f, 2.0f}));
    EXPECT_EQ(info.normalization->std.size(), 3u);
    ASSERT_TRUE(info.image_size);
    EXPECT_EQ(info.image_size->first, 224);
    EXPECT_EQ(info.image_size->second, 160);
    EXPECT_EQ(info.color_space, "GRAYSCALE");
    EXPECT_EQ(info.associated_files, (std::vector<std::string>{"labels.txt"}));
    EXPECT_TRUE(m.warnings.empty());
}

TEST(Loader, BrokenTfliteMetadataIsOnlyAWarning) {
    ModelSpec spec = validSpec();
    auto meta = metadataBuffer(false);
    meta.resize(meta.size() / 2);
    spec.buffers.push_back({.data = meta});
    spec.metadata.push_back({"TFLITE_METADATA", 4});
    const Model m = loadOk(spec);
    EXPECT_TRUE(m.input_info.empty());
    EXPECT_TRUE(hasWarning(m, "TFLITE_METADATA: the FlatBuffers verifier rejects it"));
}

// ---- files that are not models -------------------------------------------------------------

class FileErrors : public ::testing::Test {
protected:
    fs::path tmp = fs::temp_directory_path() / ("qs_model_tests_" + std::to_string(::getpid()));
    void SetUp() override { fs::create_directories(tmp); }
    void TearDown() override { fs::remove_all(tmp); }
};

TEST_F(FileErrors, NonexistentFile) {
    auto r = loadModel(tmp / "missing.tflite");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("missing.tflite: cannot open: No such file or directory"),
              std::string::npos)
        << r.error().message;
}

TEST_F(FileErrors, Directory) {
    auto r = loadModel(tmp);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("is a directory"), std::string::npos) << r.error().message;
}

TEST_F(FileErrors, EmptyFile) {
    std::ofstream(tmp / "empty.tflite").close();
    auto r = loadModel(tmp / "empty.tflite");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("empty.tflite: file is empty"), std::string::npos)
        << r.error().message;
    auto b = loadModelFromBuffer({}, "buf");
    ASSERT_FALSE(b);
    EXPECT_EQ(b.error().message, "buf: file is empty");
}

TEST_F(FileErrors, PngIsNotAModel) {
    const fs::path png = fs::path(QS_SAMPLES_DIR) / "images" / "tflsupport_sparrow.png";
    ASSERT_TRUE(fs::exists(png)) << png;
    auto r = loadModel(png);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message.rfind(png.string() + ": not a TFLite model", 0), 0u)
        << r.error().message;
}

TEST_F(FileErrors, TinyFile) {
    std::ofstream(tmp / "tiny.tflite") << "TFL3";
    auto r = loadModel(tmp / "tiny.tflite");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("too small to be a TFLite model (4 bytes)"), std::string::npos)
        << r.error().message;
}

TEST_F(FileErrors, ModelOver2GBWithDataPastTheFlatBuffer) {
    // The >2 GB layout: the FlatBuffer stays small, Buffer.offset points past 2^31 into the
    // file. A sparse file keeps this cheap; only the mapped pages that are read get touched.
    constexpr uint64_t kOffset = uint64_t{3} << 30;
    ModelSpec spec = validSpec();
    const std::vector<uint8_t> weights = spec.buffers[1].data;
    spec.buffers[1].external = true;
    spec.buffers[1].offset = kOffset;
    const auto bytes = serialize(spec);
    const fs::path path = tmp / "big.tflite";
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    fs::resize_file(path, kOffset);
    {
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(static_cast<std::streamoff>(kOffset));
        f.write(reinterpret_cast<const char*>(weights.data()),
                static_cast<std::streamsize>(weights.size()));
    }
    ASSERT_EQ(fs::file_size(path), kOffset + weights.size());
    auto r = loadModel(path);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    const Tensor& w = r->main().tensors[1];
    ASSERT_EQ(w.data.size(), 12u);
    EXPECT_EQ(static_cast<uint64_t>(w.data.data() - r->storage->bytes().data()), kOffset);
    EXPECT_EQ(static_cast<int8_t>(w.data[11]), 12);

    // One byte short of the data: bounds-checked against the file size.
    fs::resize_file(path, kOffset + weights.size() - 1);
    auto cut = loadModel(path);
    ASSERT_FALSE(cut);
    EXPECT_NE(cut.error().message.find("buffer 1: offset 3221225472 + size 12 is beyond the end of "
                                       "the file (3221225483 bytes)"),
              std::string::npos)
        << cut.error().message;
}

TEST_F(FileErrors, WrittenModelLoadsFromDisk) {
    const auto bytes = serialize(validSpec());
    std::ofstream(tmp / "ok.tflite", std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    auto r = loadModel(tmp / "ok.tflite");
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->path, (tmp / "ok.tflite").string());
    EXPECT_EQ(r->storage->bytes().size(), bytes.size());
}

}  // namespace
}  // namespace qs::model
