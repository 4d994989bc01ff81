// Builds small .tflite files from a plain description, so each test states one defect as one
// edit of a valid model (the way Netron's test/models.json lists one file per finding).
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/schema/tflite_generated.h"

namespace qs::model::testing {

namespace fb = qs::fb;

struct SparsitySpec {
    std::vector<int32_t> traversal_order;
    std::vector<int32_t> block_map;
    struct Dim {
        bool sparse = false;
        int32_t dense_size = 0;
        std::vector<int32_t> segments, indices;
    };
    std::vector<Dim> dims;
};

struct TensorSpec {
    std::string name;
    fb::TensorType type = fb::TensorType::INT8;
    std::vector<int32_t> shape;
    std::optional<std::vector<int32_t>> shape_signature;
    uint32_t buffer = 0;
    bool is_variable = false;
    std::vector<float> scales;                        // empty: no quantization table
    std::optional<std::vector<int64_t>> zero_points;  // nullopt: no zero_point vector
    int32_t quantized_dimension = 0;
    std::optional<SparsitySpec> sparsity;
};

using OptionsFn = std::function<std::pair<fb::BuiltinOptions, flatbuffers::Offset<void>>(
    flatbuffers::FlatBufferBuilder&)>;

struct OpSpec {
    uint32_t opcode = 0;
    std::vector<int32_t> inputs, outputs, intermediates;
    OptionsFn options;  // empty: no builtin_options table
    std::vector<uint8_t> custom_options;
    // Stored after the FlatBuffer, like buffers with external data; offset fixed by serialize().
    std::vector<uint8_t> large_custom_options;
    std::optional<uint64_t> large_custom_options_offset;  // override (e.g. out of range)
};

struct OpCodeSpec {
    int32_t builtin = 0;
    std::optional<int8_t> deprecated;  // nullopt: min(builtin, 127) as converters write it
    std::string custom;
    int32_t version = 1;
};

struct BufferSpec {
    std::vector<uint8_t> data;
    bool external = false;                 // data goes after the FlatBuffer (offset/size)
    std::optional<uint64_t> offset, size;  // override what serialize() computes
};

struct SubgraphSpec {
    std::string name;
    std::vector<TensorSpec> tensors;
    std::vector<int32_t> inputs, outputs;
    std::vector<OpSpec> ops;
};

struct SignatureSpec {
    std::string key;
    uint32_t subgraph = 0;
    std::vector<std::pair<std::string, uint32_t>> inputs, outputs;
};

struct ModelSpec {
    uint32_t version = 3;
    bool identifier = true;
    std::vector<OpCodeSpec> opcodes;
    std::vector<SubgraphSpec> subgraphs;
    std::vector<BufferSpec> buffers;
    std::vector<std::pair<std::string, uint32_t>> metadata;
    std::vector<int32_t> metadata_buffer;
    std::vector<SignatureSpec> signatures;

    SubgraphSpec& main() { return subgraphs.front(); }
};

// A valid int8 model: input[1,4] -> FULLY_CONNECTED(weights [3,4] per-channel, bias [3])
// -> t3 "fc" -> RELU -> t4 "relu"; ADD(t4, t3) -> t5 "sum". Opcodes 0 FC, 1 RELU, 2 ADD;
// buffers 0 empty, 1 weights, 2 bias, 3 "min_runtime_version" metadata.
ModelSpec validSpec();

std::vector<uint8_t> serialize(const ModelSpec& spec);

// Little-endian bytes of values, for buffers.
template <class T>
std::vector<uint8_t> bytesOf(const std::vector<T>& values) {
    std::vector<uint8_t> out(values.size() * sizeof(T));
    if (!out.empty()) std::memcpy(out.data(), values.data(), out.size());
    return out;
}

// TFLite's string tensor layout: count, count+1 offsets, bytes.
std::vector<uint8_t> stringBuffer(const std::vector<std::string>& strings);

// Options helpers for OpSpec::options.
OptionsFn addOptions(fb::ActivationFunctionType act, bool pot_scale_int16 = true);
OptionsFn fullyConnectedOptions(fb::ActivationFunctionType act);

}  // namespace qs::model::testing
