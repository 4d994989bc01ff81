#include "test_model_factory.h"

#include <stdexcept>

namespace qs::model::testing {

namespace {

constexpr uint64_t kPlaceholderOffset = 0x7fff'ffff'ffffULL;

uint64_t align16(uint64_t v) {
    return (v + 15) & ~uint64_t{15};
}

flatbuffers::Offset<void> indexVector(flatbuffers::FlatBufferBuilder& b,
                                      const std::vector<int32_t>& v) {
    return fb::CreateInt32VectorDirect(b, &v).Union();
}

// One pass of serialization; external data offsets come from `offsets` (or the placeholder).
flatbuffers::DetachedBuffer build(const ModelSpec& spec, const std::vector<uint64_t>& bufOffsets,
                                  const std::vector<std::vector<uint64_t>>& opOffsets) {
    flatbuffers::FlatBufferBuilder b(1024);
    std::vector<flatbuffers::Offset<fb::OperatorCode>> codes;
    for (const OpCodeSpec& c : spec.opcodes) {
        const int8_t dep =
            c.deprecated ? *c.deprecated : static_cast<int8_t>(std::min(c.builtin, 127));
        codes.push_back(
            fb::CreateOperatorCode(b, dep, c.custom.empty() ? 0 : b.CreateString(c.custom),
                                   c.version, static_cast<fb::BuiltinOperator>(c.builtin)));
    }
    std::vector<flatbuffers::Offset<fb::SubGraph>> subgraphs;
    for (size_t s = 0; s < spec.subgraphs.size(); ++s) {
        const SubgraphSpec& sg = spec.subgraphs[s];
        std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
        for (const TensorSpec& t : sg.tensors) {
            flatbuffers::Offset<fb::QuantizationParameters> q = 0;
            if (!t.scales.empty() || t.zero_points) {
                q = fb::CreateQuantizationParametersDirect(
                    b, nullptr, nullptr, &t.scales, t.zero_points ? &*t.zero_points : nullptr,
                    fb::QuantizationDetails::NONE, 0, t.quantized_dimension);
            }
            flatbuffers::Offset<fb::SparsityParameters> sp = 0;
            if (t.sparsity) {
                std::vector<flatbuffers::Offset<fb::DimensionMetadata>> dims;
                for (const auto& d : t.sparsity->dims) {
                    if (!d.sparse) {
                        dims.push_back(
                            fb::CreateDimensionMetadata(b, fb::DimensionType::DENSE, d.dense_size));
                    } else {
                        auto seg = indexVector(b, d.segments);
                        auto idx = indexVector(b, d.indices);
                        dims.push_back(fb::CreateDimensionMetadata(
                            b, fb::DimensionType::SPARSE_CSR, 0, fb::SparseIndexVector::Int32Vector,
                            seg, fb::SparseIndexVector::Int32Vector, idx));
                    }
                }
                sp = fb::CreateSparsityParametersDirect(
                    b, &t.sparsity->traversal_order,
                    t.sparsity->block_map.empty() ? nullptr : &t.sparsity->block_map, &dims);
            }
            tensors.push_back(fb::CreateTensorDirect(
                b, &t.shape, t.type, t.buffer, t.name.c_str(), q, t.is_variable, sp,
                t.shape_signature ? &*t.shape_signature : nullptr));
        }
        std::vector<flatbuffers::Offset<fb::Operator>> ops;
        for (size_t i = 0; i < sg.ops.size(); ++i) {
            const OpSpec& op = sg.ops[i];
            std::pair<fb::BuiltinOptions, flatbuffers::Offset<void>> opts{fb::BuiltinOptions::NONE,
                                                                          0};
            if (op.options) opts = op.options(b);
            auto custom = op.custom_options.empty() ? 0 : b.CreateVector(op.custom_options);
            uint64_t largeOff = 0, largeSize = 0;
            if (!op.large_custom_options.empty()) {
                largeSize = op.large_custom_options.size();
                largeOff = op.large_custom_options_offset ? *op.large_custom_options_offset
                                                          : opOffsets[s][i];
            }
            ops.push_back(fb::CreateOperator(
                b, op.opcode, b.CreateVector(op.inputs), b.CreateVector(op.outputs), opts.first,
                opts.second, custom, fb::CustomOptionsFormat::FLEXBUFFERS, 0,
                op.intermediates.empty() ? 0 : b.CreateVector(op.intermediates), largeOff,
                largeSize));
        }
        subgraphs.push_back(fb::CreateSubGraph(
            b, b.CreateVector(tensors), b.CreateVector(sg.inputs), b.CreateVector(sg.outputs),
            b.CreateVector(ops), sg.name.empty() ? 0 : b.CreateString(sg.name)));
    }
    std::vector<flatbuffers::Offset<fb::Buffer>> buffers;
    for (size_t i = 0; i < spec.buffers.size(); ++i) {
        const BufferSpec& buf = spec.buffers[i];
        if (buf.external) {
            buffers.push_back(fb::CreateBuffer(b, 0, buf.offset ? *buf.offset : bufOffsets[i],
                                               buf.size ? *buf.size : buf.data.size()));
        } else {
            buffers.push_back(fb::CreateBufferDirect(b, buf.data.empty() ? nullptr : &buf.data,
                                                     buf.offset.value_or(0), buf.size.value_or(0)));
        }
    }
    std::vector<flatbuffers::Offset<fb::Metadata>> metadata;
    for (const auto& [name, buffer] : spec.metadata)
        metadata.push_back(fb::CreateMetadataDirect(b, name.c_str(), buffer));
    std::vector<flatbuffers::Offset<fb::SignatureDef>> sigs;
    for (const SignatureSpec& s : spec.signatures) {
        auto maps = [&](const std::vector<std::pair<std::string, uint32_t>>& v) {
            std::vector<flatbuffers::Offset<fb::TensorMap>> out;
            for (const auto& [name, idx] : v)
                out.push_back(fb::CreateTensorMapDirect(b, name.c_str(), idx));
            return b.CreateVector(out);
        };
        auto in = maps(s.inputs);
        auto out = maps(s.outputs);
        sigs.push_back(fb::CreateSignatureDef(b, in, out, b.CreateString(s.key), s.subgraph));
    }
    auto root = fb::CreateModel(
        b, spec.version, b.CreateVector(codes), b.CreateVector(subgraphs), b.CreateString("test"),
        b.CreateVector(buffers),
        spec.metadata_buffer.empty() ? 0 : b.CreateVector(spec.metadata_buffer),
        metadata.empty() ? 0 : b.CreateVector(metadata), sigs.empty() ? 0 : b.CreateVector(sigs));
    if (spec.identifier)
        fb::FinishModelBuffer(b, root);
    else
        b.Finish(root);
    return b.Release();
}

}  // namespace

std::vector<uint8_t> serialize(const ModelSpec& spec) {
    // External data needs the FlatBuffer's final size, which does not depend on the offset
    // values (fixed-width fields), so build once with placeholders to measure, then again.
    std::vector<uint64_t> bufOffsets(spec.buffers.size(), kPlaceholderOffset);
    std::vector<std::vector<uint64_t>> opOffsets;
    for (const auto& sg : spec.subgraphs) opOffsets.emplace_back(sg.ops.size(), kPlaceholderOffset);
    const size_t fbSize = build(spec, bufOffsets, opOffsets).size();

    uint64_t end = fbSize;
    std::vector<std::pair<uint64_t, const std::vector<uint8_t>*>> tail;
    for (size_t i = 0; i < spec.buffers.size(); ++i) {
        if (!spec.buffers[i].external) continue;
        end = align16(end);
        bufOffsets[i] = end;
        tail.emplace_back(end, &spec.buffers[i].data);
        end += spec.buffers[i].data.size();
    }
    for (size_t s = 0; s < spec.subgraphs.size(); ++s) {
        for (size_t i = 0; i < spec.subgraphs[s].ops.size(); ++i) {
            const auto& data = spec.subgraphs[s].ops[i].large_custom_options;
            if (data.empty()) continue;
            end = align16(end);
            opOffsets[s][i] = end;
            tail.emplace_back(end, &data);
            end += data.size();
        }
    }
    auto fbBytes = build(spec, bufOffsets, opOffsets);
    if (fbBytes.size() != fbSize) throw std::logic_error("serialize: size changed between passes");
    std::vector<uint8_t> out(fbBytes.data(), fbBytes.data() + fbBytes.size());
    for (const auto& [offset, data] : tail) {
        out.resize(offset, 0);
        out.insert(out.end(), data->begin(), data->end());
    }
    return out;
}

OptionsFn addOptions(fb::ActivationFunctionType act, bool pot_scale_int16) {
    return [=](flatbuffers::FlatBufferBuilder& b) {
        return std::pair{fb::BuiltinOptions::AddOptions,
                         fb::CreateAddOptions(b, act, pot_scale_int16).Union()};
    };
}

OptionsFn fullyConnectedOptions(fb::ActivationFunctionType act) {
    return [=](flatbuffers::FlatBufferBuilder& b) {
        return std::pair{fb::BuiltinOptions::FullyConnectedOptions,
                         fb::CreateFullyConnectedOptions(b, act).Union()};
    };
}

std::vector<uint8_t> stringBuffer(const std::vector<std::string>& strings) {
    const auto n = static_cast<int32_t>(strings.size());
    std::vector<int32_t> header;
    header.push_back(n);
    int32_t offset = 4 * (n + 2);
    for (const auto& s : strings) {
        header.push_back(offset);
        offset += static_cast<int32_t>(s.size());
    }
    header.push_back(offset);
    std::vector<uint8_t> out = bytesOf(header);
    for (const auto& s : strings) out.insert(out.end(), s.begin(), s.end());
    return out;
}

ModelSpec validSpec() {
    ModelSpec m;
    m.opcodes = {{.builtin = 9}, {.builtin = 19}, {.builtin = 0}};
    m.buffers.resize(4);
    m.buffers[1].data = bytesOf(std::vector<int8_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
    m.buffers[2].data = bytesOf(std::vector<int32_t>{100, -200, 300});
    const std::string version = "1.14.0";
    m.buffers[3].data.assign(version.begin(), version.end());
    SubgraphSpec sg;
    sg.name = "main";
    sg.tensors = {
        {.name = "input", .shape = {1, 4}, .scales = {0.5f}, .zero_points = {{-1}}},
        {.name = "weights",
         .shape = {3, 4},
         .buffer = 1,
         .scales = {0.1f, 0.2f, 0.3f},
         .zero_points = {{0, 0, 0}}},
        {.name = "bias",
         .type = fb::TensorType::INT32,
         .shape = {3},
         .buffer = 2,
         .scales = {0.05f, 0.1f, 0.15f},
         .zero_points = {{0, 0, 0}}},
        {.name = "fc", .shape = {1, 3}, .scales = {0.25f}, .zero_points = {{3}}},
        {.name = "relu", .shape = {1, 3}, .scales = {0.25f}, .zero_points = {{3}}},
        {.name = "sum", .shape = {1, 3}, .scales = {0.5f}, .zero_points = {{0}}},
    };
    sg.inputs = {0};
    sg.outputs = {5};
    sg.ops = {
        {.opcode = 0,
         .inputs = {0, 1, 2},
         .outputs = {3},
         .options = fullyConnectedOptions(fb::ActivationFunctionType::NONE)},
        {.opcode = 1, .inputs = {3}, .outputs = {4}},
        {.opcode = 2,
         .inputs = {4, 3},
         .outputs = {5},
         .options = addOptions(fb::ActivationFunctionType::RELU6)},
    };
    m.subgraphs.push_back(std::move(sg));
    m.metadata = {{"min_runtime_version", 3}};
    m.signatures = {{.key = "serving_default", .inputs = {{"x", 0}}, .outputs = {{"y", 5}}}};
    return m;
}

}  // namespace qs::model::testing
