// DENSIFY (sparse constants) and the TFLite_Detection_PostProcess custom op, on hand-built
// models whose expected values are worked out in the comments.
#include <flatbuffers/flexbuffers.h>
#include <gtest/gtest.h>

#include "engine/executor.h"
#include "engine/kernels/densify.h"
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

TensorValue floats(std::vector<int32_t> shape, std::vector<float> v) {
    TensorValue t(model::DType::Float32, std::move(shape));
    std::copy(v.begin(), v.end(), t.data<float>().begin());
    return t;
}

// A 4x4 float matrix in 2x2 blocks (the layout of TFLite's sparsity documentation):
// traversal_order {0, 1, 2, 3}, block_map {0, 1}; the block rows are dense (2), the block
// columns CSR with segments {0, 2, 3} and indices {0, 1, col}: row-block 0 holds blocks at
// columns 0 and 1, row-block 1 a block at column `col`. Values 1..12, block by block.
mt::ModelSpec densifySpec(int32_t col) {
    mt::ModelSpec m;
    m.opcodes = {{.builtin = static_cast<int32_t>(fb::BuiltinOperator::DENSIFY)},
                 {.builtin = static_cast<int32_t>(fb::BuiltinOperator::ADD)}};
    m.buffers.resize(2);
    std::vector<float> values(12);
    for (int i = 0; i < 12; ++i) values[static_cast<size_t>(i)] = static_cast<float>(i + 1);
    m.buffers[1].data = mt::bytesOf(values);
    mt::SparsitySpec sp;
    sp.traversal_order = {0, 1, 2, 3};
    sp.block_map = {0, 1};
    sp.dims = {{.dense_size = 2},
               {.sparse = true, .segments = {0, 2, 3}, .indices = {0, 1, col}},
               {.dense_size = 2},
               {.dense_size = 2}};
    mt::SubgraphSpec sg;
    const auto f32 = fb::TensorType::FLOAT32;
    sg.tensors = {{.name = "sparse", .type = f32, .shape = {4, 4}, .buffer = 1, .sparsity = sp},
                  {.name = "dense", .type = f32, .shape = {4, 4}},
                  {.name = "x", .type = f32, .shape = {4, 4}},
                  {.name = "y", .type = f32, .shape = {4, 4}}};
    sg.inputs = {2};
    sg.outputs = {3};
    sg.ops = {{.opcode = 0, .inputs = {0}, .outputs = {1}},
              {.opcode = 1,
               .inputs = {2, 1},
               .outputs = {3},
               .options = mt::addOptions(fb::ActivationFunctionType::NONE)}};
    m.subgraphs.push_back(std::move(sg));
    return m;
}

TEST(Densify, BlockSparseMatrixByHand) {
    auto m = load(densifySpec(1));
    ASSERT_TRUE(m) << m.error().message;
    std::vector<TensorValue> in{TensorValue(model::DType::Float32, {4, 4})};
    in[0].data<float>()[15] = 100.0f;
    auto r = run(*m, SubgraphId{0}, in, {});
    ASSERT_TRUE(r && r->complete()) << (r ? r->warnings.back() : r.error().message);
    // Block (0,0) = {1,2;3,4}, block (0,1) = {5,6;7,8}, block (1,1) = {9,10;11,12}.
    const std::vector<float> want = {1, 2, 5, 6, 3, 4, 7, 8, 0, 0, 9, 10, 0, 0, 11, 12};
    auto d = r->values[1].data<float>();
    EXPECT_EQ(std::vector<float>(d.begin(), d.end()), want);
    EXPECT_EQ(r->values[3].data<float>()[15], 112.0f);  // the ADD saw the dense weights
    EXPECT_EQ(r->values[3].data<float>()[8], 0.0f);
}

TEST(Densify, IndexOutsideTheShapeStopsAtPrepare) {
    auto m = load(densifySpec(2));  // block column 2 of a 2-block-wide matrix
    ASSERT_TRUE(m) << m.error().message;
    auto dense = kernels::densifySparseTensor(m->main().tensors[0]);
    ASSERT_FALSE(dense);
    EXPECT_NE(dense.error().message.find("index 4 of dimension 1 (size 4)"), std::string::npos)
        << dense.error().message;
    auto r = run(*m, SubgraphId{0}, {}, {});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(r->stopped_at);
    EXPECT_EQ(r->stopped_at->value, 0);
}

TEST(Densify, OnlyDensifyReadsSparseConstants) {
    auto spec = densifySpec(1);
    spec.main().ops.erase(spec.main().ops.begin());  // ADD reads the sparse tensor directly
    spec.main().ops[0].inputs = {2, 0};
    auto m = load(spec);
    ASSERT_TRUE(m) << m.error().message;
    auto r = run(*m, SubgraphId{0}, {}, {});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(r->stopped_at);
    EXPECT_NE(r->warnings[0].find("only DENSIFY can read"), std::string::npos) << r->warnings[0];
}

// ---- TFLite_Detection_PostProcess ----

std::vector<uint8_t> detectionOptions(bool regular) {
    flexbuffers::Builder fbb;
    fbb.Map([&] {
        fbb.Int("max_detections", 3);
        fbb.Int("max_classes_per_detection", 1);
        fbb.Int("detections_per_class", 2);
        fbb.Bool("use_regular_nms", regular);
        fbb.Float("nms_score_threshold", 0.5f);
        fbb.Float("nms_iou_threshold", 0.5f);
        fbb.Int("num_classes", 2);
        fbb.Float("y_scale", 1.0f);
        fbb.Float("x_scale", 1.0f);
        fbb.Float("h_scale", 1.0f);
        fbb.Float("w_scale", 1.0f);
    });
    fbb.Finish();
    return fbb.GetBuffer();
}

// Three anchors (ycenter, xcenter, h, w): two at (0.5, 0.5, 1, 1), one at (2.5, 2.5, 1, 1).
// Encodings are zero except box 1's y (0.1), so the decoded boxes are
// box 0 [0, 0, 1, 1], box 1 [0.1, 0, 1.1, 1] (IoU with box 0: 0.9 / 1.1 > 0.5),
// box 2 [2, 2, 3, 3]. Scores (background, class 0, class 1):
// box 0 {0, 0.9, 0.2}, box 1 {0, 0.3, 0.95}, box 2 {0, 0.6, 0.1}.
// `quantized`: uint8 encodings (scale 0.1, zp 128), anchors (scale 0.5) and scores
// (scale 1/256) holding the same values (scores rounded to 1/256).
mt::ModelSpec detectionSpec(bool regular, bool quantized) {
    mt::ModelSpec m;
    m.opcodes = {{.builtin = static_cast<int32_t>(fb::BuiltinOperator::CUSTOM),
                  .custom = "TFLite_Detection_PostProcess"}};
    m.buffers.resize(2);
    const auto f32 = fb::TensorType::FLOAT32;
    mt::SubgraphSpec sg;
    if (quantized) {
        m.buffers[1].data = std::vector<uint8_t>{1, 1, 2, 2, 1, 1, 2, 2, 5, 5, 2, 2};
        const auto u8 = fb::TensorType::UINT8;
        sg.tensors = {{.name = "boxes",
                       .type = u8,
                       .shape = {1, 3, 4},
                       .scales = {0.1f},
                       .zero_points = {{128}}},
                      {.name = "scores",
                       .type = u8,
                       .shape = {1, 3, 3},
                       .scales = {1.0f / 256},
                       .zero_points = {{0}}},
                      {.name = "anchors",
                       .type = u8,
                       .shape = {3, 4},
                       .buffer = 1,
                       .scales = {0.5f},
                       .zero_points = {{0}}}};
    } else {
        m.buffers[1].data =
            mt::bytesOf(std::vector<float>{0.5f, 0.5f, 1, 1, 0.5f, 0.5f, 1, 1, 2.5f, 2.5f, 1, 1});
        sg.tensors = {{.name = "boxes", .type = f32, .shape = {1, 3, 4}},
                      {.name = "scores", .type = f32, .shape = {1, 3, 3}},
                      {.name = "anchors", .type = f32, .shape = {3, 4}, .buffer = 1}};
    }
    sg.tensors.push_back({.name = "det_boxes", .type = f32, .shape = {1, 3, 4}});
    sg.tensors.push_back({.name = "det_classes", .type = f32, .shape = {1, 3}});
    sg.tensors.push_back({.name = "det_scores", .type = f32, .shape = {1, 3}});
    sg.tensors.push_back({.name = "num", .type = f32, .shape = {1}});
    sg.inputs = {0, 1};
    sg.outputs = {3, 4, 5, 6};
    sg.ops = {{.opcode = 0,
               .inputs = {0, 1, 2},
               .outputs = {3, 4, 5, 6},
               .custom_options = detectionOptions(regular)}};
    m.subgraphs.push_back(std::move(sg));
    return m;
}

std::vector<TensorValue> detectionInputs(bool quantized) {
    std::vector<TensorValue> in;
    if (quantized) {
        TensorValue boxes(model::DType::UInt8, {1, 3, 4});
        auto b = boxes.data<uint8_t>();
        std::fill(b.begin(), b.end(), uint8_t{128});
        b[4] = 129;  // box 1 y = 0.1
        TensorValue scores(model::DType::UInt8, {1, 3, 3});
        const uint8_t s[] = {0, 230, 51, 0, 77, 243, 0, 154, 26};
        std::copy(s, s + 9, scores.data<uint8_t>().begin());
        in.push_back(std::move(boxes));
        in.push_back(std::move(scores));
    } else {
        std::vector<float> boxes(12, 0.0f);
        boxes[4] = 0.1f;
        in.push_back(floats({1, 3, 4}, boxes));
        in.push_back(floats({1, 3, 3}, {0, 0.9f, 0.2f, 0, 0.3f, 0.95f, 0, 0.6f, 0.1f}));
    }
    return in;
}

template <class T>
std::vector<T> all(const TensorValue& v) {
    auto s = v.data<T>();
    return {s.begin(), s.end()};
}

TEST(DetectionPostProcess, FastNmsKeepsEachAnchorsBestClass) {
    for (bool quantized : {false, true}) {
        auto m = load(detectionSpec(false, quantized));
        ASSERT_TRUE(m) << m.error().message;
        auto r = run(*m, SubgraphId{0}, detectionInputs(quantized), {});
        ASSERT_TRUE(r) << r.error().message;
        ASSERT_TRUE(r->complete()) << r->warnings.back();
        // Best classes: box 0 -> 0 (0.9), box 1 -> 1 (0.95), box 2 -> 0 (0.6). NMS over
        // those: box 1 first, box 0 suppressed by it, box 2 kept.
        EXPECT_EQ(r->values[6].data<float>()[0], 2.0f);
        EXPECT_EQ(all<float>(r->values[4]), (std::vector<float>{1, 0, 0}));
        const auto scores = all<float>(r->values[5]);
        EXPECT_FLOAT_EQ(scores[0], quantized ? 243.0f / 256 : 0.95f);
        EXPECT_FLOAT_EQ(scores[1], quantized ? 154.0f / 256 : 0.6f);
        EXPECT_EQ(scores[2], 0.0f);
        const auto boxes = all<float>(r->values[3]);
        EXPECT_NEAR(boxes[0], 0.1f, 1e-6);  // box 1: ymin 0.1, ymax 1.1
        EXPECT_NEAR(boxes[2], 1.1f, 1e-6);
        EXPECT_FLOAT_EQ(boxes[4], 2.0f);  // box 2
        EXPECT_FLOAT_EQ(boxes[7], 3.0f);
    }
}

TEST(DetectionPostProcess, RegularNmsRunsPerClassThenMerges) {
    auto m = load(detectionSpec(true, false));
    ASSERT_TRUE(m) << m.error().message;
    auto r = run(*m, SubgraphId{0}, detectionInputs(false), {});
    ASSERT_TRUE(r && r->complete());
    // Class 0 keeps boxes 0 and 2 (no overlap), class 1 keeps box 1: box 0 is not
    // suppressed by box 1 across classes. Merged by score: 0.95, 0.9, 0.6.
    EXPECT_EQ(r->values[6].data<float>()[0], 3.0f);
    EXPECT_EQ(all<float>(r->values[4]), (std::vector<float>{1, 0, 0}));
    EXPECT_EQ(all<float>(r->values[5]), (std::vector<float>{0.95f, 0.9f, 0.6f}));
    EXPECT_FLOAT_EQ(r->values[3].data<float>()[4], 0.0f);  // box 0's ymin second
}

TEST(DetectionPostProcess, MissingOrBrokenOptionsStopAtPrepare) {
    auto spec = detectionSpec(false, false);
    spec.main().ops[0].custom_options = {1, 2, 3};
    auto m = load(spec);
    ASSERT_TRUE(m) << m.error().message;
    auto r = run(*m, SubgraphId{0}, detectionInputs(false), {});
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->stopped_at);
    EXPECT_NE(r->warnings[0].find("TFLite_Detection_PostProcess"), std::string::npos)
        << r->warnings[0];
}

}  // namespace
