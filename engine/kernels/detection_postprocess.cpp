// TFLite_Detection_PostProcess, the custom op at the end of SSD detectors: decode box
// encodings against anchors (center-size), then non-maximum suppression, either "fast"
// (one NMS over each anchor's best class score) or "regular" (NMS per class, then the best
// max_detections across classes).
//
// Upstream: tensorflow/lite/kernels/detection_postprocess.cc (what the tflite_builtin oracle
// runs; TFLM's copy in tensorflow/lite/micro/kernels/detection_postprocess.cc is float only).
// Every step follows it, including its mixed float/double arithmetic: box decoding in double,
// box-encoding dequantization in float, class-score dequantization as double scale times an
// int32 difference (optimized_ops::Dequantize), stable sorts for NMS candidates, partial sorts
// for per-anchor classes and the cross-class merge.
#include <flatbuffers/flexbuffers.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/kernels/common.h"
#include "model/str_format.h"

namespace qs::engine::kernels {

namespace {

using model::DType;

// Field names follow detection_postprocess.cc OpData.
struct CenterSizeEncoding {
    float y = 0, x = 0, h = 0, w = 0;
};
struct BoxCornerEncoding {
    float ymin = 0, xmin = 0, ymax = 0, xmax = 0;
};
struct DetectionPostProcessParams {
    int32_t max_detections = 0;
    int32_t max_classes_per_detection = 1;
    int32_t detections_per_class = 100;  // kNumDetectionsPerClass
    bool use_regular_non_max_suppression = false;
    float non_max_suppression_score_threshold = 0.0f;
    float intersection_over_union_threshold = 0.0f;
    int32_t num_classes = 0;
    CenterSizeEncoding scale_values;
};

constexpr const char* kCustomCode = "TFLite_Detection_PostProcess";

// The first max (optimized_ops::ArgMaxVector) for one class; otherwise std::partial_sort
// by decreasing value, as DecreasingPartialArgSort.
void decreasingPartialArgSort(const float* values, int n, int k, int* indices) {
    if (k == 1) {
        int best = 0;
        for (int i = 1; i < n; ++i)
            if (values[i] > values[best]) best = i;
        indices[0] = best;
        return;
    }
    std::iota(indices, indices + n, 0);
    std::partial_sort(indices, indices + k, indices + n,
                      [values](int i, int j) { return values[i] > values[j]; });
}

float intersectionOverUnion(const BoxCornerEncoding& a, const BoxCornerEncoding& b) {
    const float area_a = (a.ymax - a.ymin) * (a.xmax - a.xmin);
    const float area_b = (b.ymax - b.ymin) * (b.xmax - b.xmin);
    if (area_a <= 0 || area_b <= 0) return 0.0f;
    const float iy = std::max(std::min(a.ymax, b.ymax) - std::max(a.ymin, b.ymin), 0.0f);
    const float ix = std::max(std::min(a.xmax, b.xmax) - std::max(a.xmin, b.xmin), 0.0f);
    const float inter = iy * ix;
    return inter / (area_a + area_b - inter);
}

class DetectionPostProcessKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        if (auto r = parseOptions(ctx); !r) return r;
        const TensorInfo* boxes = ctx.input(0);
        const TensorInfo* classes = ctx.input(1);
        const TensorInfo* anchors = ctx.input(2);
        if (ctx.numInputs() != 3 || !boxes || !classes || !anchors || ctx.numOutputs() != 4)
            return ctx.fail("needs box encodings, class predictions, anchors and four outputs");
        if (boxes->rank() != 3 || classes->rank() != 3 || anchors->rank() != 2)
            return ctx.fail("box encodings and class predictions must be 3-D, anchors 2-D");
        m_num_boxes = boxes->dim(1);
        m_box_len = boxes->dim(2);
        m_num_classes_with_background = classes->dim(2);
        const auto& p = m_params;
        // Eval checks of detection_postprocess.cc, done once here.
        if (boxes->dim(0) != 1 || classes->dim(0) != 1)
            return ctx.fail("only batch 1 is supported (as upstream)");
        if (m_box_len < 4) return ctx.fail("box encodings need at least 4 values per box");
        if (classes->dim(1) != m_num_boxes || anchors->dim(0) != m_num_boxes ||
            anchors->dim(1) != 4)
            return ctx.fail(strFormat("{} boxes, but class predictions [{}] and anchors [{}]",
                                      m_num_boxes, shapeString(classes->shape),
                                      shapeString(anchors->shape)));
        const int label_offset = m_num_classes_with_background - p.num_classes;
        if (p.num_classes <= 0 || label_offset < 0 || label_offset > 1)
            return ctx.fail(strFormat("num_classes {} does not fit {} class predictions",
                                      p.num_classes, m_num_classes_with_background));
        if (p.max_detections < 0 || p.max_classes_per_detection <= 0)
            return ctx.fail("max_detections must be >= 0 and max_classes_per_detection > 0");
        if (p.use_regular_non_max_suppression && p.detections_per_class <= 0)
            return ctx.fail("detections_per_class must be positive");
        if (!(p.intersection_over_union_threshold > 0.0f &&
              p.intersection_over_union_threshold <= 1.0f))
            return ctx.fail("nms_iou_threshold must be in (0, 1]");
        for (const TensorInfo* t : {boxes, classes, anchors}) {
            if (t->dtype != DType::Float32 && t->dtype != DType::UInt8 && t->dtype != DType::Int8)
                return ctx.fail(
                    strFormat("{} inputs are not supported", model::dtypeName(t->dtype)));
        }
        if ((boxes->dtype == DType::Float32) != (anchors->dtype == DType::Float32))
            return ctx.fail("box encodings and anchors must both be float or both quantized");
        m_boxes_type = boxes->dtype;
        m_classes_type = classes->dtype;
        m_anchors_type = anchors->dtype;
        if (m_boxes_type != DType::Float32) {
            if (!boxes->quant->isQuantized() || !anchors->quant->isQuantized())
                return ctx.fail(
                    "quantized box encodings and anchors need quantization "
                    "parameters");
            m_box_quant = {boxes->scale(), boxes->zeroPoint()};
            m_anchor_quant = {anchors->scale(), anchors->zeroPoint()};
        }
        if (m_classes_type != DType::Float32) {
            if (!classes->quant->isQuantized())
                return ctx.fail("quantized class predictions need quantization parameters");
            m_class_quant = {classes->scale(), classes->zeroPoint()};
        }
        const int32_t n = p.max_detections * p.max_classes_per_detection;
        const std::vector<std::vector<int32_t>> shapes = {{1, n, 4}, {1, n}, {1, n}, {1}};
        for (int i = 0; i < 4; ++i) {
            // Prepare sets every output to float32 whatever the model says.
            if (ctx.output(i).dtype != DType::Float32)
                return ctx.fail(strFormat("output {} must be float32", i));
            ctx.output(i).shape = shapes[static_cast<size_t>(i)];
        }
        return {};
    }

    void eval(EvalContext& ctx) override {
        decodeBoxes(ctx.input(0), ctx.input(2));
        for (const auto& b : m_decoded) {
            // ValidateBoxes: degenerate boxes are fine, inverted ones are an error.
            if (b.ymin > b.ymax || b.xmin > b.xmax)
                return ctx.fail("a decoded box has ymin > ymax or xmin > xmax");
        }
        const float* scores = classScores(ctx.input(1));
        auto* boxes = reinterpret_cast<BoxCornerEncoding*>(out<float>(ctx.output(0)));
        float* classes = out<float>(ctx.output(1));
        float* out_scores = out<float>(ctx.output(2));
        float* num = out<float>(ctx.output(3));
        if (m_params.use_regular_non_max_suppression)
            regularNms(scores, boxes, classes, out_scores, num);
        else
            fastNms(scores, boxes, classes, out_scores, num);
    }

private:
    struct Quant {
        float scale = 1.0f;
        int32_t zero_point = 0;
    };

    Result<void> parseOptions(const PrepareContext& ctx) {
        const auto bytes = ctx.op().custom_options;
        if (bytes.empty()) return ctx.fail("custom options are missing");
        if (!flexbuffers::VerifyBuffer(bytes.data(), bytes.size()))
            return ctx.fail("custom options are not a valid FlexBuffer");
        const auto root = flexbuffers::GetRoot(bytes.data(), bytes.size());
        if (!root.IsMap()) return ctx.fail("custom options are not a FlexBuffer map");
        const auto m = root.AsMap();
        auto& p = m_params;
        // Init() of detection_postprocess.cc: defaults for the optional keys only.
        p.max_detections = m["max_detections"].AsInt32();
        p.max_classes_per_detection = m["max_classes_per_detection"].AsInt32();
        if (!m["detections_per_class"].IsNull())
            p.detections_per_class = m["detections_per_class"].AsInt32();
        if (!m["use_regular_nms"].IsNull())
            p.use_regular_non_max_suppression = m["use_regular_nms"].AsBool();
        p.non_max_suppression_score_threshold = m["nms_score_threshold"].AsFloat();
        p.intersection_over_union_threshold = m["nms_iou_threshold"].AsFloat();
        p.num_classes = m["num_classes"].AsInt32();
        p.scale_values.y = m["y_scale"].AsFloat();
        p.scale_values.x = m["x_scale"].AsFloat();
        p.scale_values.h = m["h_scale"].AsFloat();
        p.scale_values.w = m["w_scale"].AsFloat();
        // Bound the output allocation: the product must stay a sane tensor size.
        if (p.max_detections > (1 << 20) || p.max_classes_per_detection > (1 << 12))
            return ctx.fail("max_detections / max_classes_per_detection are implausibly large");
        return {};
    }

    // DequantizeBoxEncodings: (float(q) - zp) * scale, in float.
    template <class T>
    static CenterSizeEncoding dequantizeBox(const T* q, Quant quant) {
        auto d = [&](T v) {
            return (static_cast<float>(v) - static_cast<float>(quant.zero_point)) * quant.scale;
        };
        return {d(q[0]), d(q[1]), d(q[2]), d(q[3])};
    }

    CenterSizeEncoding readBox(const TensorValue& t, int idx, int stride, Quant q) const {
        const auto offset = static_cast<size_t>(idx) * static_cast<size_t>(stride);
        switch (t.dtype()) {
            case DType::UInt8:
                return dequantizeBox(in<uint8_t>(t) + offset, q);
            case DType::Int8:
                return dequantizeBox(in<int8_t>(t) + offset, q);
            default: {
                const float* f = in<float>(t) + offset;
                return {f[0], f[1], f[2], f[3]};
            }
        }
    }

    // DecodeCenterSizeBoxes: the center/size arithmetic in double, each result rounded to
    // float once.
    void decodeBoxes(const TensorValue& encodings, const TensorValue& anchors) {
        m_decoded.resize(static_cast<size_t>(m_num_boxes));
        const auto& s = m_params.scale_values;
        for (int i = 0; i < m_num_boxes; ++i) {
            const CenterSizeEncoding box = readBox(encodings, i, m_box_len, m_box_quant);
            const CenterSizeEncoding anchor = readBox(anchors, i, 4, m_anchor_quant);
            const auto ycenter = static_cast<float>(double{box.y} / double{s.y} * double{anchor.h} +
                                                    double{anchor.y});
            const auto xcenter = static_cast<float>(double{box.x} / double{s.x} * double{anchor.w} +
                                                    double{anchor.x});
            const auto half_h =
                static_cast<float>(0.5 * std::exp(double{box.h} / double{s.h}) * double{anchor.h});
            const auto half_w =
                static_cast<float>(0.5 * std::exp(double{box.w} / double{s.w}) * double{anchor.w});
            m_decoded[static_cast<size_t>(i)] = {ycenter - half_h, xcenter - half_w,
                                                 ycenter + half_h, xcenter + half_w};
        }
    }

    // DequantizeClassPredictions (optimized_ops::Dequantize): double scale * int32(q - zp).
    const float* classScores(const TensorValue& t) {
        if (t.dtype() == DType::Float32) return in<float>(t);
        const size_t n = static_cast<size_t>(t.numElements());
        m_scores.resize(n);
        const double scale = m_class_quant.scale;
        for (size_t i = 0; i < n; ++i) {
            const int32_t v =
                t.dtype() == DType::UInt8 ? int32_t{in<uint8_t>(t)[i]} : int32_t{in<int8_t>(t)[i]};
            m_scores[i] = static_cast<float>(scale * (v - m_class_quant.zero_point));
        }
        return m_scores.data();
    }

    // NonMaxSuppressionSingleClassHelper: threshold (>=), stable sort by decreasing score,
    // greedy selection suppressing IoU > threshold.
    std::vector<int> singleClassNms(const std::vector<float>& scores, int max_detections) {
        std::vector<float> keep_scores;
        std::vector<int> keep_indices;
        for (size_t i = 0; i < scores.size(); ++i) {
            if (scores[i] >= m_params.non_max_suppression_score_threshold) {
                keep_scores.push_back(scores[i]);
                keep_indices.push_back(static_cast<int>(i));
            }
        }
        const int kept = static_cast<int>(keep_scores.size());
        std::vector<int> sorted(static_cast<size_t>(kept));
        std::iota(sorted.begin(), sorted.end(), 0);
        std::stable_sort(sorted.begin(), sorted.end(), [&](int a, int b) {
            return keep_scores[static_cast<size_t>(a)] > keep_scores[static_cast<size_t>(b)];
        });
        const size_t output_size = static_cast<size_t>(std::min(kept, max_detections));
        std::vector<int> selected;
        std::vector<uint8_t> active(static_cast<size_t>(kept), 1);
        int num_active = kept;
        for (int i = 0; i < kept; ++i) {
            if (num_active == 0 || selected.size() >= output_size) break;
            if (!active[static_cast<size_t>(i)]) continue;
            const int bi = keep_indices[static_cast<size_t>(sorted[static_cast<size_t>(i)])];
            selected.push_back(bi);
            active[static_cast<size_t>(i)] = 0;
            --num_active;
            for (int j = i + 1; j < kept; ++j) {
                if (!active[static_cast<size_t>(j)]) continue;
                const int bj = keep_indices[static_cast<size_t>(sorted[static_cast<size_t>(j)])];
                if (intersectionOverUnion(m_decoded[static_cast<size_t>(bi)],
                                          m_decoded[static_cast<size_t>(bj)]) >
                    m_params.intersection_over_union_threshold) {
                    active[static_cast<size_t>(j)] = 0;
                    --num_active;
                }
            }
        }
        return selected;
    }

    // NonMaxSuppressionMultiClassFastHelper.
    void fastNms(const float* scores, BoxCornerEncoding* boxes, float* classes, float* out_scores,
                 float* num) {
        const int num_classes = m_params.num_classes;
        const int label_offset = m_num_classes_with_background - num_classes;
        const int max_cat = m_params.max_classes_per_detection;
        const int num_cat = std::min(max_cat, num_classes);
        std::vector<float> max_scores(static_cast<size_t>(m_num_boxes));
        std::vector<int> sorted_class(static_cast<size_t>(m_num_boxes) * num_classes);
        for (int row = 0; row < m_num_boxes; ++row) {
            const float* box_scores = scores + row * m_num_classes_with_background + label_offset;
            int* idx = sorted_class.data() + static_cast<size_t>(row) * num_classes;
            decreasingPartialArgSort(box_scores, num_classes, num_cat, idx);
            max_scores[static_cast<size_t>(row)] = box_scores[idx[0]];
        }
        const auto selected = singleClassNms(max_scores, m_params.max_detections);
        int out_index = 0;
        for (int sel : selected) {
            const float* box_scores = scores + sel * m_num_classes_with_background + label_offset;
            const int* idx = sorted_class.data() + static_cast<size_t>(sel) * num_classes;
            for (int col = 0; col < num_cat; ++col) {
                const int o = max_cat * out_index + col;
                boxes[o] = m_decoded[static_cast<size_t>(sel)];
                classes[o] = static_cast<float>(idx[col]);
                out_scores[o] = box_scores[idx[col]];
            }
            ++out_index;
        }
        num[0] = static_cast<float>(out_index);
    }

    // NonMaxSuppressionMultiClassRegularHelper: per-class NMS, merged class by class into a
    // running top-max_detections list (partial sort, as upstream).
    void regularNms(const float* scores, BoxCornerEncoding* boxes, float* classes,
                    float* out_scores, float* num) {
        const int num_classes = m_params.num_classes;
        const int label_offset = m_num_classes_with_background - num_classes;
        const int max_det = m_params.max_detections;
        const auto cap = static_cast<size_t>(m_num_boxes + max_det);
        std::vector<float> class_scores(static_cast<size_t>(m_num_boxes));
        std::vector<int> box_indices(cap);
        std::vector<float> kept_scores(cap);
        std::vector<int> sorted(cap);
        std::vector<float> sorted_values(static_cast<size_t>(max_det));
        int size_sorted = 0;
        for (int col = 0; col < num_classes; ++col) {
            for (int row = 0; row < m_num_boxes; ++row)
                class_scores[static_cast<size_t>(row)] =
                    scores[row * m_num_classes_with_background + col + label_offset];
            const auto selected = singleClassNms(class_scores, m_params.detections_per_class);
            int out_index = size_sorted;
            for (int sel : selected) {
                box_indices[static_cast<size_t>(out_index)] =
                    sel * m_num_classes_with_background + col + label_offset;
                kept_scores[static_cast<size_t>(out_index)] =
                    class_scores[static_cast<size_t>(sel)];
                ++out_index;
            }
            const int to_sort = std::min(out_index, max_det);
            if (to_sort > 0)
                decreasingPartialArgSort(kept_scores.data(), out_index, to_sort, sorted.data());
            for (int r = 0; r < to_sort; ++r) {
                const auto t = static_cast<size_t>(sorted[static_cast<size_t>(r)]);
                sorted[static_cast<size_t>(r)] = box_indices[t];
                sorted_values[static_cast<size_t>(r)] = kept_scores[t];
            }
            for (int r = 0; r < to_sort; ++r) {
                box_indices[static_cast<size_t>(r)] = sorted[static_cast<size_t>(r)];
                kept_scores[static_cast<size_t>(r)] = sorted_values[static_cast<size_t>(r)];
            }
            size_sorted = to_sort;
        }
        for (int o = 0; o < max_det; ++o) {
            if (o < size_sorted) {
                const int packed = box_indices[static_cast<size_t>(o)];
                const int anchor = packed / m_num_classes_with_background;
                boxes[o] = m_decoded[static_cast<size_t>(anchor)];
                classes[o] = static_cast<float>(packed - anchor * m_num_classes_with_background -
                                                label_offset);
                out_scores[o] = kept_scores[static_cast<size_t>(o)];
            } else {
                boxes[o] = {};
                classes[o] = 0.0f;
                out_scores[o] = 0.0f;
            }
        }
        num[0] = static_cast<float>(size_sorted);
    }

    DetectionPostProcessParams m_params;
    int m_num_boxes = 0, m_box_len = 4, m_num_classes_with_background = 0;
    DType m_boxes_type = DType::Float32, m_classes_type = DType::Float32,
          m_anchors_type = DType::Float32;
    Quant m_box_quant, m_anchor_quant, m_class_quant;
    std::vector<BoxCornerEncoding> m_decoded;
    std::vector<float> m_scores;
};

}  // namespace

}  // namespace qs::engine::kernels

namespace qs::engine {
void registerKernels_detection_postprocess(KernelRegistry& r) {
    r.addCustom(kernels::kCustomCode, &makeKernel<kernels::DetectionPostProcessKernel>);
}
}  // namespace qs::engine
