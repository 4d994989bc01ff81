// Quantscope's graph IR of a .tflite model: subgraphs of tensors and operators, with
// quantization parameters and zero-copy views of constant data in the memory-mapped file.
// Built only by loadModel()/loadModelFromBuffer() (model/loader.h), which verify everything
// below against the file first: every index here is in range, every constant's byte size
// matches its shape and dtype.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "model/dtype.h"
#include "model/ids.h"
#include "model/op_code.h"
#include "model/options.h"

namespace qs::model {

// Owns the bytes of a model: a read-only memory map of the file, or a heap copy.
class ModelStorage {
public:
    virtual ~ModelStorage() = default;
    virtual std::span<const uint8_t> bytes() const = 0;
};

struct Quantization {
    std::vector<float> scales;       // 1 (per-tensor) or shape[quantized_dimension] (per-axis)
    std::vector<int64_t> zero_points;  // same count as scales (or empty for some float16 files)
    int32_t quantized_dimension = 0;
    std::vector<float> min, max;     // converter's calibration range, when stored
    bool hasCustomDetails = false;   // QuantizationDetails set: scales/zero points are not used

    bool isQuantized() const { return !scales.empty(); }
    bool isPerChannel() const { return scales.size() > 1; }
    float scale(size_t channel = 0) const { return scales.size() == 1 ? scales[0] : scales[channel]; }
    int64_t zeroPoint(size_t channel = 0) const {
        if (zero_points.empty()) return 0;
        return zero_points.size() == 1 ? zero_points[0] : zero_points[channel];
    }
};

// TFLite's sparse (TACO) encoding, kept as stored; DENSIFY and the loader's size check use it.
struct DimensionMetadata {
    bool sparse_csr = false;
    int32_t dense_size = 0;
    std::vector<int32_t> array_segments;
    std::vector<int32_t> array_indices;
};
struct Sparsity {
    std::vector<int32_t> traversal_order;
    std::vector<int32_t> block_map;
    std::vector<DimensionMetadata> dim_metadata;
};

struct Tensor {
    std::string name;
    DType dtype = DType::Float32;
    std::vector<int32_t> shape;            // never negative
    std::vector<int32_t> shape_signature;  // -1 marks a dynamic dimension; empty if absent
    bool has_rank = false;
    bool is_variable = false;
    Quantization quantization;
    std::optional<Sparsity> sparsity;
    uint32_t buffer = 0;                   // index into the model's buffers (0 = none)
    std::span<const uint8_t> data;         // constant bytes (zero-copy); empty if not constant

    bool isConstant() const { return !data.empty(); }
    int64_t numElements() const;           // product of shape; 1 for a scalar
    int64_t byteSize() const;              // numElements() * element size (INT4: ceil(n/2))
};

struct Operator {
    BuiltinOp opcode = BuiltinOp::CUSTOM;
    int32_t builtin_code = 0;      // raw code as stored (may be a code newer than our schema)
    std::string custom_code;       // for CUSTOM ops, e.g. "TFLite_Detection_PostProcess"
    int32_t version = 1;
    std::vector<TensorId> inputs;  // an invalid id marks an omitted optional input
    std::vector<TensorId> outputs;
    std::vector<TensorId> intermediates;
    BuiltinOptions options;
    std::span<const uint8_t> custom_options;  // raw FlexBuffer bytes, zero-copy

    bool isCustom() const { return opcode == BuiltinOp::CUSTOM; }
    // "CONV_2D", or the custom code for a custom op, or "BUILTIN_<code>" for unknown codes.
    std::string name() const;
    // The typed options, or nullptr when this op carries another kind.
    template <class T>
    const T* opts() const { return std::get_if<T>(&options); }
};

struct Subgraph {
    std::string name;
    std::vector<Tensor> tensors;
    std::vector<TensorId> inputs;
    std::vector<TensorId> outputs;
    std::vector<Operator> operators;  // in execution order (the loader rejects cycles)

    const Tensor& tensor(TensorId id) const { return tensors[static_cast<size_t>(id.value)]; }
    const Operator& op(OpId id) const { return operators[static_cast<size_t>(id.value)]; }
    // The op that writes each tensor (invalid for inputs, constants and variables).
    std::vector<OpId> producers() const;
};

struct SignatureTensor {
    std::string name;
    TensorId tensor;
};
struct Signature {
    std::string key;
    SubgraphId subgraph{0};
    std::vector<SignatureTensor> inputs, outputs;
};

struct MetadataEntry {
    std::string name;                 // e.g. "min_runtime_version", "TFLITE_METADATA"
    std::span<const uint8_t> data;    // the referenced buffer's bytes
};

// What TFLite Metadata (the "TFLITE_METADATA" FlatBuffer) says about an image input.
struct InputNormalization {
    std::vector<float> mean;
    std::vector<float> std;
};
struct InputInfo {
    std::string name;
    std::optional<InputNormalization> normalization;
    std::optional<std::pair<int32_t, int32_t>> image_size;  // width, height
    std::string color_space;  // "RGB", "GRAYSCALE" or "" when not given
    std::vector<std::string> associated_files;
};

// What TFLite Metadata says about an output: the label files (AssociatedFileType
// TENSOR_AXIS_LABELS) packed into the model's zip, in metadata order (one per locale).
struct OutputInfo {
    std::string name;
    std::vector<std::string> label_files;
};

struct Model {
    std::string path;            // file it came from ("" for an in-memory buffer)
    uint32_t version = 0;
    std::string description;
    std::vector<Subgraph> subgraphs;
    std::vector<Signature> signatures;
    std::vector<MetadataEntry> metadata;
    std::vector<InputInfo> input_info;   // from TFLite Metadata, when present
    std::vector<OutputInfo> output_info;  // from TFLite Metadata, when present
    std::vector<std::string> warnings;   // non-fatal findings (unknown op codes, ...)
    std::shared_ptr<const ModelStorage> storage;  // keeps every span above alive

    const Subgraph& main() const { return subgraphs.front(); }
};

}  // namespace qs::model
