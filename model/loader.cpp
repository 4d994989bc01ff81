#include "model/loader.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/mapped_file.h"
#include "model/schema/metadata_generated.h"
#include "model/schema/tflite_generated.h"
#include "model/str_format.h"

namespace qs::model {

// Every code of the X-macro list in op_code.h must be the value flatc generated from
// model/schema/tflite.fbs, so BuiltinOp and fb::BuiltinOperator can be cast into each other.
#define QS_X(name, code)                                                     \
    static_assert(static_cast<int32_t>(fb::BuiltinOperator::name) == (code), \
                  "op_code.h and tflite.fbs disagree on " #name);            \
    static_assert(static_cast<int32_t>(BuiltinOp::name) == (code), "bad BuiltinOp " #name);
QS_BUILTIN_OPS(QS_X)
#undef QS_X
static_assert(static_cast<int32_t>(fb::BuiltinOperator::MAX) == 205,
              "tflite.fbs has op codes op_code.h does not list");
static_assert(static_cast<int>(fb::TensorType::MAX) == static_cast<int>(DType::Int4),
              "dtype.h and tflite.fbs disagree on the tensor types");

namespace {

using FbVecI32 = flatbuffers::Vector<int32_t>;

// Reads a field of a table that may be absent. TFLite's flatbuffer_conversions.cc (e.g.
// ParseConv2D, ParseSoftmax) leaves its params struct value-initialized -- all zeros -- when
// an op has no options table ("TODO(b/157480169): ... fill in some reasonable defaults"), so a
// missing table reads as zero here too, not as the schema defaults.
#define QS_GET(p, field) ((p) ? (p)->field() : decltype((p)->field()){})

std::string shapeString(std::span<const int32_t> shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ',';
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

// Names come from the file and may hold anything; messages must stay one printable line.
std::string oneLine(std::string s) {
    for (char& c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) c = '?';
    }
    return s;
}

std::vector<int32_t> toVector(const FbVecI32* v) {
    if (!v) return {};
    return {v->begin(), v->end()};
}

// Checked a + b <= limit for unsigned 64-bit values.
bool rangeFits(uint64_t offset, uint64_t size, uint64_t limit) {
    uint64_t end = 0;
    if (__builtin_add_overflow(offset, size, &end)) return false;
    return end <= limit;
}

class Loader {
public:
    Loader(std::string name, std::shared_ptr<const ModelStorage> storage, LoadOptions options)
        : m_name(std::move(name)), m_storage(std::move(storage)), m_options(options) {
        m_bytes = m_storage->bytes();
    }

    Result<Model> run() {
        if (auto r = verify(); !r) return std::unexpected(r.error());
        m_model.path = m_name;
        m_model.version = m_fb->version();
        if (m_fb->description()) m_model.description = m_fb->description()->str();
        if (auto r = loadBuffers(); !r) return std::unexpected(r.error());
        if (auto r = loadOpCodes(); !r) return std::unexpected(r.error());
        if (!m_fb->subgraphs() || m_fb->subgraphs()->size() == 0)
            return failHere("model has no subgraphs");
        m_model.subgraphs.resize(m_fb->subgraphs()->size());
        for (uint32_t i = 0; i < m_fb->subgraphs()->size(); ++i) {
            m_subgraph = static_cast<int32_t>(i);
            if (auto r = loadSubgraph(*m_fb->subgraphs()->Get(i), m_model.subgraphs[i]); !r)
                return std::unexpected(r.error());
        }
        // Subgraph references in control-flow options can only be checked once all are known.
        for (uint32_t i = 0; i < m_model.subgraphs.size(); ++i) {
            m_subgraph = static_cast<int32_t>(i);
            if (auto r = checkSubgraphRefs(m_model.subgraphs[i]); !r)
                return std::unexpected(r.error());
            if (auto r = checkExecutionOrder(m_model.subgraphs[i]); !r)
                return std::unexpected(r.error());
        }
        m_subgraph = 0;
        if (auto r = loadSignatures(); !r) return std::unexpected(r.error());
        if (auto r = loadMetadata(); !r) return std::unexpected(r.error());
        m_model.storage = std::move(m_storage);
        return std::move(m_model);
    }

private:
    // ---- messages ---------------------------------------------------------------------

    std::string prefix() const {
        std::string p = m_name + ": ";
        if (m_subgraph > 0) p += strFormat("subgraph {}: ", m_subgraph);
        return p;
    }
    std::unexpected<Error> failHere(std::string what) const {
        Error e;
        e.message = oneLine(prefix() + what);
        return std::unexpected(std::move(e));
    }
    std::string tensorLabel(const Subgraph& sg, int32_t t) const {
        if (t < 0 || static_cast<size_t>(t) >= sg.tensors.size()) return strFormat("tensor {}", t);
        return strFormat("tensor {} \"{}\"", t, sg.tensors[static_cast<size_t>(t)].name);
    }
    std::unexpected<Error> failTensor(int32_t index, const std::string& name,
                                      std::string what) const {
        Error e;
        e.message = oneLine(prefix() + strFormat("tensor {} \"{}\": ", index, name) + what);
        e.tensor_index = index;
        e.tensor_name = name;
        return std::unexpected(std::move(e));
    }
    std::unexpected<Error> failOp(int32_t op, std::string_view opName, std::string what,
                                  int32_t tensor = -1, std::string tensorName = {}) const {
        Error e;
        e.message = oneLine(prefix() + strFormat("op {} ({}): ", op, opName) + what);
        e.op_index = op;
        e.tensor_index = tensor;
        e.tensor_name = std::move(tensorName);
        return std::unexpected(std::move(e));
    }
    void warn(std::string what) { m_model.warnings.push_back(oneLine(prefix() + what)); }

    // ---- container ----------------------------------------------------------------------

    Result<void> verify() {
        const size_t size = m_bytes.size();
        if (size < 8)
            return failHere(strFormat("file is too small to be a TFLite model ({} bytes)", size));
        uint32_t root = 0;
        std::memcpy(&root, m_bytes.data(), 4);  // FlatBuffers are little-endian
        // Only the FlatBuffer part must fit in FlatBuffers' 2 GB offsets; in larger files the
        // constant data lives past it (Buffer.offset / Buffer.size), bounds-checked later.
        const size_t fbSize = std::min<size_t>(size, FLATBUFFERS_MAX_BUFFER_SIZE - 1);
        const bool hasIdentifier = fb::ModelBufferHasIdentifier(m_bytes.data());
        if (root >= fbSize) {
            if (!hasIdentifier)
                return failHere(
                    "not a TFLite model (no \"TFL3\" file identifier at byte 4, and "
                    "the root table offset points outside the file)");
            return failHere(strFormat(
                "truncated or corrupt: root table offset {} is beyond the end of the file ({} "
                "bytes)",
                root, size));
        }
        // Depth and table limits well above real models (hundreds of thousands of tensors),
        // low enough to stop a crafted file from making verification itself the attack.
        flatbuffers::Verifier verifier(m_bytes.data(), fbSize, /*max_depth=*/64,
                                       /*max_tables=*/50'000'000);
        if (hasIdentifier) {
            if (!fb::VerifyModelBuffer(verifier))
                return failHere(strFormat(
                    "corrupt or truncated TFLite file: the FlatBuffers verifier rejects it ({} "
                    "bytes)",
                    size));
        } else {
            // Old converters wrote no identifier; accept those if the structure verifies.
            if (!verifier.VerifyBuffer<fb::Model>(nullptr))
                return failHere(
                    "not a TFLite model (no \"TFL3\" file identifier at byte 4, and the "
                    "FlatBuffers verifier rejects it as a TFLite Model)");
            warn(
                "no \"TFL3\" file identifier (written by an old converter?); the file verifies "
                "as a TFLite model, loading it anyway");
        }
        m_fb = fb::GetModel(m_bytes.data());
        return {};
    }

    Result<void> loadBuffers() {
        const auto* buffers = m_fb->buffers();
        if (!buffers) return {};
        m_buffers.resize(buffers->size());
        for (uint32_t i = 0; i < buffers->size(); ++i) {
            const fb::Buffer* b = buffers->Get(i);
            if (!b) continue;
            if (b->data() && b->data()->size() > 0) {
                m_buffers[i] = {b->data()->data(), b->data()->size()};
            } else if (b->offset() > 1) {
                // TFLite's interpreter_builder.cc (ParseTensors, get_readonly_data): offset > 1
                // means the bytes sit at that offset from the start of the file (offset 1 is
                // the converter's "not yet written" placeholder).
                if (!rangeFits(b->offset(), b->size(), m_bytes.size()))
                    return failHere(strFormat(
                        "buffer {}: offset {} + size {} is beyond the end of the file ({} bytes)",
                        i, b->offset(), b->size(), m_bytes.size()));
                m_buffers[i] = m_bytes.subspan(b->offset(), b->size());
            }
        }
        return {};
    }

    Result<void> loadOpCodes() {
        const auto* codes = m_fb->operator_codes();
        if (!codes) return {};
        m_opcodes.resize(codes->size());
        for (uint32_t i = 0; i < codes->size(); ++i) {
            const fb::OperatorCode* c = codes->Get(i);
            OpCodeInfo& info = m_opcodes[i];
            if (!c) return failHere(strFormat("operator code {} is null", i));
            // TFLite's schema_utils.cc GetBuiltinCode: codes >= 127 are only in builtin_code,
            // old files only fill deprecated_builtin_code; the larger of the two is right.
            info.code = std::max(static_cast<int32_t>(c->builtin_code()),
                                 static_cast<int32_t>(c->deprecated_builtin_code()));
            info.version = c->version();
            if (c->custom_code()) info.custom_code = c->custom_code()->str();
            if (info.code == static_cast<int32_t>(BuiltinOp::CUSTOM) && info.custom_code.empty())
                return failHere(strFormat("operator code {}: CUSTOM op without a custom_code", i));
            if (!isKnownBuiltin(info.code))
                warn(
                    strFormat("operator code {}: builtin code {} is not in this build's schema "
                              "(a newer TFLite op?); its ops load as BUILTIN_{} without options",
                              i, info.code, info.code));
        }
        return {};
    }

    // ---- tensors ------------------------------------------------------------------------

    Result<void> loadSubgraph(const fb::SubGraph& src, Subgraph& dst) {
        if (src.name()) dst.name = src.name()->str();
        const auto* tensors = src.tensors();
        const uint32_t nt = tensors ? tensors->size() : 0;
        dst.tensors.resize(nt);
        for (uint32_t i = 0; i < nt; ++i) {
            if (auto r = loadTensor(static_cast<int32_t>(i), *tensors->Get(i), dst.tensors[i]); !r)
                return r;
        }
        auto loadIo = [&](const FbVecI32* v, std::vector<TensorId>& out,
                          const char* what) -> Result<void> {
            if (!v) return {};
            for (uint32_t k = 0; k < v->size(); ++k) {
                const int32_t t = v->Get(k);
                if (t < 0 || static_cast<uint32_t>(t) >= nt)
                    return failHere(
                        strFormat("subgraph {} {} is tensor {}, out of range "
                                  "(subgraph has {} tensors)",
                                  what, k, t, nt));
                out.emplace_back(t);
            }
            return {};
        };
        if (auto r = loadIo(src.inputs(), dst.inputs, "input"); !r) return r;
        if (auto r = loadIo(src.outputs(), dst.outputs, "output"); !r) return r;

        const auto* ops = src.operators();
        const uint32_t no = ops ? ops->size() : 0;
        dst.operators.resize(no);
        for (uint32_t i = 0; i < no; ++i) {
            if (auto r = loadOperator(static_cast<int32_t>(i), *ops->Get(i), dst, dst.operators[i]);
                !r)
                return r;
        }
        return {};
    }

    Result<void> loadTensor(int32_t index, const fb::Tensor& src, Tensor& t) {
        if (src.name()) t.name = src.name()->str();
        const auto type = static_cast<int32_t>(src.type());
        if (type < 0 || type > static_cast<int32_t>(fb::TensorType::MAX))
            return failTensor(index, t.name, strFormat("unknown tensor type {}", type));
        t.dtype = static_cast<DType>(type);
        t.shape = toVector(src.shape());
        t.shape_signature = toVector(src.shape_signature());
        t.has_rank = src.has_rank();
        t.is_variable = src.is_variable();

        for (int32_t d : t.shape) {
            if (d < 0)
                return failTensor(index, t.name,
                                  strFormat("shape {} has a negative dimension (-1 is allowed "
                                            "only in shape_signature)",
                                            shapeString(t.shape)));
        }
        for (int32_t d : t.shape_signature) {
            if (d < -1)
                return failTensor(index, t.name,
                                  strFormat("shape_signature {} has a dimension below -1",
                                            shapeString(t.shape_signature)));
        }
        int64_t elements = 1;
        for (int32_t d : t.shape) {
            if (__builtin_mul_overflow(elements, static_cast<int64_t>(d), &elements))
                return failTensor(index, t.name,
                                  strFormat("shape {} has more elements than fit in 64 bits",
                                            shapeString(t.shape)));
        }
        const int bits = dtypeBits(t.dtype);
        int64_t denseBytes = 0;
        if (bits == 4) {
            denseBytes = elements / 2 + elements % 2;
        } else if (__builtin_mul_overflow(elements, static_cast<int64_t>(bits / 8), &denseBytes)) {
            return failTensor(index, t.name,
                              strFormat("shape {} of {} needs more bytes than fit in 64 bits",
                                        shapeString(t.shape), dtypeName(t.dtype)));
        }

        // Buffer 0 is TFLite's "no data" sentinel (interpreter_builder.cc ParseTensors).
        t.buffer = src.buffer();
        if (t.buffer >= m_buffers.size() && t.buffer != 0)
            return failTensor(index, t.name,
                              strFormat("buffer {} is out of range (model has {} buffers)",
                                        t.buffer, m_buffers.size()));
        if (t.buffer != 0) t.data = m_buffers[t.buffer];

        if (auto r = loadSparsity(index, src, t); !r) return r;
        if (!t.data.empty()) {
            if (t.dtype == DType::String) {
                if (auto r = checkStringBuffer(index, t, elements); !r) return r;
            } else if (t.sparsity) {
                if (auto r = checkSparseBuffer(index, t); !r) return r;
            } else if (bits == 0) {
                return failTensor(
                    index, t.name,
                    strFormat("constant of type {} is not supported", dtypeName(t.dtype)));
            } else if (static_cast<int64_t>(t.data.size()) != denseBytes) {
                return failTensor(
                    index, t.name,
                    strFormat("buffer {} holds {} bytes, shape {} of {} needs {}", t.buffer,
                              t.data.size(), shapeString(t.shape), dtypeName(t.dtype), denseBytes));
            }
        }
        return loadQuantization(index, src, t);
    }

    // TFLite's string tensor layout (tensorflow/lite/string_util.h): int32 count N, then N+1
    // int32 byte offsets from the start of the buffer (the last is the total length), then
    // the string bytes.
    Result<void> checkStringBuffer(int32_t index, const Tensor& t, int64_t elements) {
        const auto bytes = t.data;
        auto readI32 = [&](size_t at) {
            int32_t v = 0;
            std::memcpy(&v, bytes.data() + at, 4);
            return v;
        };
        if (bytes.size() < 8)
            return failTensor(index, t.name,
                              strFormat("STRING buffer {} holds {} bytes, too few for a "
                                        "string count and an end offset",
                                        t.buffer, bytes.size()));
        const int32_t count = readI32(0);
        if (count < 0 || (static_cast<uint64_t>(count) + 2) * 4 > bytes.size())
            return failTensor(index, t.name,
                              strFormat("STRING buffer {} claims {} strings, more than its {} "
                                        "bytes can index",
                                        t.buffer, count, bytes.size()));
        const auto header = static_cast<int64_t>((static_cast<uint64_t>(count) + 2) * 4);
        int64_t previous = header;
        for (int32_t k = 0; k <= count; ++k) {
            const int64_t off = readI32(4 + 4 * static_cast<size_t>(k));
            if ((k == 0 && off != header) || off < previous ||
                off > static_cast<int64_t>(bytes.size()))
                return failTensor(index, t.name,
                                  strFormat("STRING buffer {}: offset {} of string {} is "
                                            "outside [{}, {}]",
                                            t.buffer, off, k, previous, bytes.size()));
            previous = off;
        }
        if (count != elements)
            warn(
                strFormat("tensor {} \"{}\": STRING buffer holds {} strings, shape {} has {} "
                          "elements",
                          index, t.name, count, shapeString(t.shape), elements));
        return {};
    }

    Result<void> loadSparsity(int32_t index, const fb::Tensor& src, Tensor& t) {
        const fb::SparsityParameters* sp = src.sparsity();
        if (!sp) return {};
        // interpreter_builder.cc ParseSparsity rejects these as "Invalid sparsity parameter".
        if (!sp->traversal_order() || !sp->dim_metadata())
            return failTensor(index, t.name, "sparsity lacks traversal_order or dim_metadata");
        Sparsity s;
        s.traversal_order = toVector(sp->traversal_order());
        s.block_map = toVector(sp->block_map());
        const auto rank = static_cast<int32_t>(t.shape.size());
        const auto blocks = static_cast<int32_t>(s.block_map.size());
        if (s.traversal_order.size() != sp->dim_metadata()->size() ||
            static_cast<int32_t>(s.traversal_order.size()) != rank + blocks)
            return failTensor(index, t.name,
                              strFormat("sparsity has {} traversal_order entries and {} "
                                        "dim_metadata entries; rank {} + {} block dims needs {}",
                                        s.traversal_order.size(), sp->dim_metadata()->size(), rank,
                                        blocks, rank + blocks));
        for (int32_t d : s.traversal_order) {
            if (d < 0 || d >= rank + blocks)
                return failTensor(index, t.name,
                                  strFormat("sparsity traversal_order entry {} is out of "
                                            "range",
                                            d));
        }
        for (int32_t d : s.block_map) {
            if (d < 0 || d >= rank)
                return failTensor(index, t.name,
                                  strFormat("sparsity block_map entry {} is out of range", d));
        }
        auto indexVector = [](fb::SparseIndexVector type, const void* v, std::vector<int32_t>& out,
                              bool& ok) {
            ok = true;
            switch (type) {
                case fb::SparseIndexVector::Int32Vector: {
                    const auto* iv = static_cast<const fb::Int32Vector*>(v)->values();
                    if (iv) out.assign(iv->begin(), iv->end());
                    return;
                }
                case fb::SparseIndexVector::Uint16Vector: {
                    const auto* iv = static_cast<const fb::Uint16Vector*>(v)->values();
                    if (iv) out.assign(iv->begin(), iv->end());
                    return;
                }
                case fb::SparseIndexVector::Uint8Vector: {
                    const auto* iv = static_cast<const fb::Uint8Vector*>(v)->values();
                    if (iv) out.assign(iv->begin(), iv->end());
                    return;
                }
                default:
                    ok = false;
            }
        };
        for (uint32_t k = 0; k < sp->dim_metadata()->size(); ++k) {
            const fb::DimensionMetadata* dm = sp->dim_metadata()->Get(k);
            DimensionMetadata d;
            if (!dm) return failTensor(index, t.name, strFormat("sparse dimension {} is null", k));
            if (dm->format() == fb::DimensionType::DENSE) {
                d.dense_size = dm->dense_size();
                if (d.dense_size < 0)
                    return failTensor(
                        index, t.name,
                        strFormat("sparse dimension {} has dense_size {}", k, d.dense_size));
            } else if (dm->format() == fb::DimensionType::SPARSE_CSR) {
                d.sparse_csr = true;
                bool ok1 = false, ok2 = false;
                indexVector(dm->array_segments_type(), dm->array_segments(), d.array_segments, ok1);
                indexVector(dm->array_indices_type(), dm->array_indices(), d.array_indices, ok2);
                if (!ok1 || !ok2 || !dm->array_segments() || !dm->array_indices())
                    return failTensor(index, t.name,
                                      strFormat("sparse dimension {} lacks array_segments or "
                                                "array_indices",
                                                k));
            } else {
                return failTensor(index, t.name,
                                  strFormat("sparse dimension {} has unknown format {}", k,
                                            static_cast<int>(dm->format())));
            }
            s.dim_metadata.push_back(std::move(d));
        }
        t.sparsity = std::move(s);
        return {};
    }

    // The stored values of a sparse tensor: walk the dimensions in traversal order, as
    // TFLite's sparsity FormatConverter (tensorflow/lite/kernels/internal/utils/
    // sparsity_format_converter.cc) does, counting the stored positions at each level.
    Result<void> checkSparseBuffer(int32_t index, const Tensor& t) {
        const Sparsity& s = *t.sparsity;
        int64_t positions = 1;
        for (size_t k = 0; k < s.dim_metadata.size(); ++k) {
            const DimensionMetadata& d = s.dim_metadata[k];
            if (!d.sparse_csr) {
                if (__builtin_mul_overflow(positions, static_cast<int64_t>(d.dense_size),
                                           &positions))
                    return failTensor(index, t.name, "sparse dimensions overflow 64 bits");
                continue;
            }
            // array_segments has one entry per position of the levels above, plus one.
            if (static_cast<int64_t>(d.array_segments.size()) != positions + 1)
                return failTensor(index, t.name,
                                  strFormat("sparse dimension {} has {} array_segments, needs "
                                            "{}",
                                            k, d.array_segments.size(), positions + 1));
            if (d.array_segments.front() != 0)
                return failTensor(index, t.name,
                                  strFormat("sparse dimension {}: array_segments must start "
                                            "at 0",
                                            k));
            for (size_t j = 1; j < d.array_segments.size(); ++j) {
                if (d.array_segments[j] < d.array_segments[j - 1])
                    return failTensor(index, t.name,
                                      strFormat("sparse dimension {}: array_segments decrease "
                                                "at entry {}",
                                                k, j));
            }
            positions = d.array_segments.back();
            if (static_cast<int64_t>(d.array_indices.size()) != positions)
                return failTensor(index, t.name,
                                  strFormat("sparse dimension {} has {} array_indices, "
                                            "array_segments promise {}",
                                            k, d.array_indices.size(), positions));
            for (int32_t v : d.array_indices) {
                if (v < 0)
                    return failTensor(index, t.name,
                                      strFormat("sparse dimension {} has a negative index", k));
            }
        }
        const int bits = dtypeBits(t.dtype);
        int64_t need = 0;
        if (bits == 4) {
            need = positions / 2 + positions % 2;
        } else if (bits == 0 ||
                   __builtin_mul_overflow(positions, static_cast<int64_t>(bits / 8), &need)) {
            return failTensor(index, t.name, "sparse values have no fixed size");
        }
        if (static_cast<int64_t>(t.data.size()) != need)
            return failTensor(index, t.name,
                              strFormat("buffer {} holds {} bytes, the sparse encoding of "
                                        "shape {} stores {} values of {} ({} bytes)",
                                        t.buffer, t.data.size(), shapeString(t.shape), positions,
                                        dtypeName(t.dtype), need));
        return {};
    }

    Result<void> loadQuantization(int32_t index, const fb::Tensor& src, Tensor& t) {
        const fb::QuantizationParameters* q = src.quantization();
        if (!q) return {};
        Quantization& qt = t.quantization;
        if (q->min()) qt.min.assign(q->min()->begin(), q->min()->end());
        if (q->max()) qt.max.assign(q->max()->begin(), q->max()->end());
        if (q->scale()) qt.scales.assign(q->scale()->begin(), q->scale()->end());
        if (q->zero_point())
            qt.zero_points.assign(q->zero_point()->begin(), q->zero_point()->end());
        qt.quantized_dimension = q->quantized_dimension();
        qt.hasCustomDetails = q->details() != nullptr;
        if (qt.hasCustomDetails || qt.scales.empty()) {
            // Nothing to check: custom quantization is opaque, and without scales the tensor
            // is not quantized (interpreter_builder.cc ParseQuantization returns early too).
            if (qt.scales.empty()) qt.zero_points.clear();
            qt.quantized_dimension = 0;
            return {};
        }
        const size_t n = qt.scales.size();
        // TFLite rejects a null zero_point; Quantscope reads a missing one as all zeros (seen in
        // float16 and some hand-made files).
        if (!qt.zero_points.empty() && qt.zero_points.size() != n)
            return failTensor(index, t.name,
                              strFormat("{} scales but {} zero points (must be equal)", n,
                                        qt.zero_points.size()));
        const auto rank = static_cast<int32_t>(t.shape.size());
        const int32_t qd = qt.quantized_dimension;
        const bool qdInRange = qd >= 0 && (rank == 0 || qd < rank);
        if (n > 1) {
            if (rank == 0)
                return failTensor(index, t.name, strFormat("a scalar has {} per-axis scales", n));
            if (!qdInRange) {
                // person_detect (tflite-micro) stores conv bias tensors with the weights'
                // per-channel parameters and their quantized_dimension 3. TFLite rejects that
                // (interpreter_builder.cc ParseQuantization); TFLM never checks it. The values
                // are per element of a 1-D tensor, so dimension 0 is the only meaning it can
                // have: accept it as that.
                if (rank == 1 && static_cast<int64_t>(n) == t.shape[0]) {
                    warn(
                        strFormat("tensor {} \"{}\": quantized_dimension {} is out of range "
                                  "for shape {}; read as 0 (TFLM accepts this, TFLite "
                                  "rejects it)",
                                  index, t.name, qd, shapeString(t.shape)));
                    qt.quantized_dimension = 0;
                } else {
                    return failTensor(index, t.name,
                                      strFormat("quantized_dimension {} is out of range for "
                                                "shape {}",
                                                qd, shapeString(t.shape)));
                }
            }
            const int32_t dimSize = t.shape[static_cast<size_t>(qt.quantized_dimension)];
            if (static_cast<int64_t>(n) != dimSize)
                return failTensor(
                    index, t.name,
                    strFormat("{} scales, but per-axis quantization along "
                              "dimension {} of shape {} needs {}",
                              n, qt.quantized_dimension, shapeString(t.shape), dimSize));
        } else if (!qdInRange) {
            // One scale: the dimension means nothing; keep the IR's indices in range.
            warn(
                strFormat("tensor {} \"{}\": per-tensor quantization with quantized_dimension "
                          "{} out of range for shape {}; read as 0",
                          index, t.name, qd, shapeString(t.shape)));
            qt.quantized_dimension = 0;
        }
        for (size_t k = 0; k < n; ++k) {
            const float s = qt.scales[k];
            if (!std::isfinite(s) || s < 0.0f)
                return failTensor(index, t.name,
                                  strFormat("scale[{}] = {} is {}", k, s,
                                            std::isfinite(s) ? "negative" : "not finite"));
            // A zero scale is legal: TFLite's own quantizer writes one for an all-zero range
            // (tensorflow/lite/tools/optimize/quantization_utils.cc,
            // GetAsymmetricQuantizationParams: "Scale can be zero if min and max are exactly
            // 0.0f"; SymmetricPerChannelQuantization for an all-zero channel), and the loader
            // (interpreter_builder.cc ParseQuantization) checks no scale values. On a constant
            // it only means zeros; on an activation it would divide by zero when requantizing.
            if (s == 0.0f && t.data.empty())
                warn(strFormat("tensor {} \"{}\": scale[{}] is 0 on a non-constant tensor", index,
                               t.name, k));
        }
        return {};
    }

    // ---- operators ------------------------------------------------------------------------

    Result<void> loadOperator(int32_t index, const fb::Operator& src, const Subgraph& sg,
                              Operator& op) {
        const uint32_t oc = src.opcode_index();
        if (oc >= m_opcodes.size())
            return failOp(index, "?",
                          strFormat("opcode index {} is out of range (model has {} operator "
                                    "codes)",
                                    oc, m_opcodes.size()));
        const OpCodeInfo& info = m_opcodes[oc];
        op.builtin_code = info.code;
        op.opcode = static_cast<BuiltinOp>(info.code);
        op.version = info.version;
        if (op.isCustom()) op.custom_code = info.custom_code;
        const std::string opName = op.name();
        const auto nt = static_cast<int32_t>(sg.tensors.size());

        auto loadList = [&](const FbVecI32* v, std::vector<TensorId>& out,
                            const char* what) -> Result<void> {
            if (!v) return {};
            out.reserve(v->size());
            for (uint32_t k = 0; k < v->size(); ++k) {
                const int32_t t = v->Get(k);
                // -1 is TFLite's kTfLiteOptionalTensor: an omitted optional operand.
                if (t == -1) {
                    out.emplace_back();
                    continue;
                }
                if (t < 0 || t >= nt)
                    return failOp(index, opName,
                                  strFormat("{} {} is tensor {}, out of range (subgraph has {} "
                                            "tensors)",
                                            what, k, t, nt),
                                  t);
                out.emplace_back(t);
            }
            return {};
        };
        if (auto r = loadList(src.inputs(), op.inputs, "input"); !r) return r;
        if (auto r = loadList(src.outputs(), op.outputs, "output"); !r) return r;
        if (auto r = loadList(src.intermediates(), op.intermediates, "intermediate"); !r) return r;

        if (const auto* co = src.custom_options(); co && co->size() > 0) {
            op.custom_options = {co->data(), co->size()};
        } else if (src.large_custom_options_size() > 0) {
            // Files over 2 GB keep large custom options past the FlatBuffer, like buffers.
            const uint64_t off = src.large_custom_options_offset();
            const uint64_t size = src.large_custom_options_size();
            if (!rangeFits(off, size, m_bytes.size()))
                return failOp(index, opName,
                              strFormat("large custom options at offset {} + size {} are "
                                        "beyond the end of the file ({} bytes)",
                                        off, size, m_bytes.size()));
            op.custom_options = m_bytes.subspan(off, size);
        }

        std::string err;
        op.options = convertOptions(op.opcode, src, err);
        if (!err.empty()) return failOp(index, opName, err);
        return {};
    }

    // ---- options ----------------------------------------------------------------------------

    static Activation activation(fb::ActivationFunctionType a, std::string& err) {
        const auto v = static_cast<int>(a);
        if (v < 0 || v > static_cast<int>(Activation::SignBit)) {
            if (err.empty()) err = strFormat("unknown fused activation function {}", v);
            return Activation::None;
        }
        return static_cast<Activation>(v);
    }
    static Padding padding(fb::Padding p, std::string& err) {
        const auto v = static_cast<int>(p);
        if (v != 0 && v != 1) {
            if (err.empty()) err = strFormat("unknown padding {}", v);
            return Padding::Same;
        }
        return static_cast<Padding>(v);
    }
    static DType dtype(fb::TensorType t, std::string& err) {
        const auto v = static_cast<int>(t);
        if (v < 0 || v > static_cast<int>(fb::TensorType::MAX)) {
            if (err.empty()) err = strFormat("unknown tensor type {} in options", v);
            return DType::Float32;
        }
        return static_cast<DType>(v);
    }

    // Maps each builtin op to its typed options. When the table is missing or of another type
    // (TFLite's builtin_options_as_X() returns null then too), every field reads as zero; see
    // QS_GET.
    BuiltinOptions convertOptions(BuiltinOp code, const fb::Operator& op, std::string& err) {
        using B = BuiltinOp;
        switch (code) {
            case B::CONV_2D: {
                const auto* p = op.builtin_options_as_Conv2DOptions();
                Conv2DOptions o;
                o.padding = padding(QS_GET(p, padding), err);
                o.stride_w = QS_GET(p, stride_w);
                o.stride_h = QS_GET(p, stride_h);
                o.fused_activation_function = activation(QS_GET(p, fused_activation_function), err);
                o.dilation_w_factor = QS_GET(p, dilation_w_factor);
                o.dilation_h_factor = QS_GET(p, dilation_h_factor);
                o.quantized_bias_type = dtype(QS_GET(p, quantized_bias_type), err);
                return o;
            }
            case B::DEPTHWISE_CONV_2D: {
                const auto* p = op.builtin_options_as_DepthwiseConv2DOptions();
                DepthwiseConv2DOptions o;
                o.padding = padding(QS_GET(p, padding), err);
                o.stride_w = QS_GET(p, stride_w);
                o.stride_h = QS_GET(p, stride_h);
                o.depth_multiplier = QS_GET(p, depth_multiplier);
                o.fused_activation_function = activation(QS_GET(p, fused_activation_function), err);
                o.dilation_w_factor = QS_GET(p, dilation_w_factor);
                o.dilation_h_factor = QS_GET(p, dilation_h_factor);
                return o;
            }
            case B::TRANSPOSE_CONV: {
                const auto* p = op.builtin_options_as_TransposeConvOptions();
                TransposeConvOptions o;
                o.padding = padding(QS_GET(p, padding), err);
                o.stride_w = QS_GET(p, stride_w);
                o.stride_h = QS_GET(p, stride_h);
                o.fused_activation_function = activation(QS_GET(p, fused_activation_function), err);
                o.quantized_bias_type = dtype(QS_GET(p, quantized_bias_type), err);
                return o;
            }
            case B::AVERAGE_POOL_2D:
            case B::MAX_POOL_2D:
            case B::L2_POOL_2D: {
                const auto* p = op.builtin_options_as_Pool2DOptions();
                Pool2DOptions o;
                o.padding = padding(QS_GET(p, padding), err);
                o.stride_w = QS_GET(p, stride_w);
                o.stride_h = QS_GET(p, stride_h);
                o.filter_width = QS_GET(p, filter_width);
                o.filter_height = QS_GET(p, filter_height);
                o.fused_activation_function = activation(QS_GET(p, fused_activation_function), err);
                return o;
            }
            case B::FULLY_CONNECTED: {
                const auto* p = op.builtin_options_as_FullyConnectedOptions();
                FullyConnectedOptions o;
                o.fused_activation_function = activation(QS_GET(p, fused_activation_function), err);
                o.weights_format = static_cast<int8_t>(QS_GET(p, weights_format));
                if (o.weights_format != 0 && o.weights_format != 1 && err.empty())
                    err = strFormat("unknown weights_format {}", o.weights_format);
                o.keep_num_dims = QS_GET(p, keep_num_dims);
                o.asymmetric_quantize_inputs = QS_GET(p, asymmetric_quantize_inputs);
                o.quantized_bias_type = dtype(QS_GET(p, quantized_bias_type), err);
                return o;
            }
            case B::SVDF: {
                const auto* p = op.builtin_options_as_SVDFOptions();
                SVDFOptions o;
                o.rank = QS_GET(p, rank);
                o.fused_activation_function = activation(QS_GET(p, fused_activation_function), err);
                o.asymmetric_quantize_inputs = QS_GET(p, asymmetric_quantize_inputs);
                return o;
            }
            case B::SOFTMAX: {
                const auto* p = op.builtin_options_as_SoftmaxOptions();
                return SoftmaxOptions{QS_GET(p, beta)};
            }
            case B::CONCATENATION: {
                const auto* p = op.builtin_options_as_ConcatenationOptions();
                ConcatenationOptions o;
                o.axis = QS_GET(p, axis);
                o.fused_activation_function = activation(QS_GET(p, fused_activation_function), err);
                return o;
            }
            case B::ADD: {
                const auto* p = op.builtin_options_as_AddOptions();
                AddSubOptions o;
                o.fused_activation_function = activation(QS_GET(p, fused_activation_function), err);
                o.pot_scale_int16 = QS_GET(p, pot_scale_int16);
                return o;
            }
            case B::SUB: {
                const auto* p = op.builtin_options_as_SubOptions();
                AddSubOptions o;
                o.fused_activation_function = activation(QS_GET(p, fused_activation_function), err);
                o.pot_scale_int16 = QS_GET(p, pot_scale_int16);
                return o;
            }
            case B::MUL: {
                const auto* p = op.builtin_options_as_MulOptions();
                return ActivationOptions{activation(QS_GET(p, fused_activation_function), err)};
            }
            case B::DIV: {
                const auto* p = op.builtin_options_as_DivOptions();
                return ActivationOptions{activation(QS_GET(p, fused_activation_function), err)};
            }
            case B::L2_NORMALIZATION: {
                const auto* p = op.builtin_options_as_L2NormOptions();
                return ActivationOptions{activation(QS_GET(p, fused_activation_function), err)};
            }
            case B::RESHAPE: {
                const auto* p = op.builtin_options_as_ReshapeOptions();
                ReshapeOptions o;
                if (p && p->new_shape()) {
                    o.new_shape = toVector(p->new_shape());
                    o.has_new_shape = true;
                }
                return o;
            }
            case B::SPACE_TO_DEPTH: {
                const auto* p = op.builtin_options_as_SpaceToDepthOptions();
                return BlockSizeOptions{QS_GET(p, block_size)};
            }
            case B::DEPTH_TO_SPACE: {
                const auto* p = op.builtin_options_as_DepthToSpaceOptions();
                return BlockSizeOptions{QS_GET(p, block_size)};
            }
            case B::GATHER: {
                const auto* p = op.builtin_options_as_GatherOptions();
                return GatherOptions{QS_GET(p, axis), QS_GET(p, batch_dims)};
            }
            case B::MEAN:
            case B::SUM:
            case B::REDUCE_PROD:
            case B::REDUCE_MAX:
            case B::REDUCE_MIN:
            case B::REDUCE_ANY:
            case B::REDUCE_ALL: {
                const auto* p = op.builtin_options_as_ReducerOptions();
                return ReducerOptions{QS_GET(p, keep_dims)};
            }
            case B::SQUEEZE: {
                const auto* p = op.builtin_options_as_SqueezeOptions();
                return SqueezeOptions{p ? toVector(p->squeeze_dims()) : std::vector<int32_t>{}};
            }
            case B::STRIDED_SLICE: {
                const auto* p = op.builtin_options_as_StridedSliceOptions();
                StridedSliceOptions o;
                o.begin_mask = QS_GET(p, begin_mask);
                o.end_mask = QS_GET(p, end_mask);
                o.ellipsis_mask = QS_GET(p, ellipsis_mask);
                o.new_axis_mask = QS_GET(p, new_axis_mask);
                o.shrink_axis_mask = QS_GET(p, shrink_axis_mask);
                o.offset = QS_GET(p, offset);
                return o;
            }
            case B::SPLIT: {
                const auto* p = op.builtin_options_as_SplitOptions();
                return SplitOptions{QS_GET(p, num_splits)};
            }
            case B::SPLIT_V: {
                const auto* p = op.builtin_options_as_SplitVOptions();
                return SplitOptions{QS_GET(p, num_splits)};
            }
            case B::CAST: {
                const auto* p = op.builtin_options_as_CastOptions();
                CastOptions o;
                o.in_data_type = dtype(QS_GET(p, in_data_type), err);
                o.out_data_type = dtype(QS_GET(p, out_data_type), err);
                return o;
            }
            case B::ARG_MAX: {
                const auto* p = op.builtin_options_as_ArgMaxOptions();
                return ArgMinMaxOptions{dtype(QS_GET(p, output_type), err)};
            }
            case B::ARG_MIN: {
                const auto* p = op.builtin_options_as_ArgMinOptions();
                return ArgMinMaxOptions{dtype(QS_GET(p, output_type), err)};
            }
            case B::SHAPE: {
                const auto* p = op.builtin_options_as_ShapeOptions();
                return ShapeOptions{dtype(QS_GET(p, out_type), err)};
            }
            case B::PACK: {
                const auto* p = op.builtin_options_as_PackOptions();
                return PackOptions{QS_GET(p, values_count), QS_GET(p, axis)};
            }
            case B::UNPACK: {
                const auto* p = op.builtin_options_as_UnpackOptions();
                return UnpackOptions{QS_GET(p, num), QS_GET(p, axis)};
            }
            case B::LEAKY_RELU: {
                const auto* p = op.builtin_options_as_LeakyReluOptions();
                return LeakyReluOptions{QS_GET(p, alpha)};
            }
            case B::MIRROR_PAD: {
                const auto* p = op.builtin_options_as_MirrorPadOptions();
                const auto mode = static_cast<int8_t>(QS_GET(p, mode));
                if (mode != 0 && mode != 1 && err.empty())
                    err = strFormat("unknown mirror pad mode {}", mode);
                return MirrorPadOptions{mode};
            }
            case B::RESIZE_BILINEAR: {
                const auto* p = op.builtin_options_as_ResizeBilinearOptions();
                return ResizeOptions{QS_GET(p, align_corners), QS_GET(p, half_pixel_centers)};
            }
            case B::RESIZE_NEAREST_NEIGHBOR: {
                const auto* p = op.builtin_options_as_ResizeNearestNeighborOptions();
                return ResizeOptions{QS_GET(p, align_corners), QS_GET(p, half_pixel_centers)};
            }
            case B::BATCH_MATMUL: {
                const auto* p = op.builtin_options_as_BatchMatMulOptions();
                return BatchMatMulOptions{QS_GET(p, adj_x), QS_GET(p, adj_y),
                                          QS_GET(p, asymmetric_quantize_inputs)};
            }
            case B::UNIDIRECTIONAL_SEQUENCE_LSTM: {
                const auto* p = op.builtin_options_as_UnidirectionalSequenceLSTMOptions();
                UnidirectionalSequenceLSTMOptions o;
                o.fused_activation_function = activation(QS_GET(p, fused_activation_function), err);
                o.cell_clip = QS_GET(p, cell_clip);
                o.proj_clip = QS_GET(p, proj_clip);
                o.time_major = QS_GET(p, time_major);
                o.asymmetric_quantize_inputs = QS_GET(p, asymmetric_quantize_inputs);
                o.diagonal_recurrent_tensors = QS_GET(p, diagonal_recurrent_tensors);
                return o;
            }
            case B::LSTM: {
                const auto* p = op.builtin_options_as_LSTMOptions();
                LSTMOptions o;
                o.fused_activation_function = activation(QS_GET(p, fused_activation_function), err);
                o.cell_clip = QS_GET(p, cell_clip);
                o.proj_clip = QS_GET(p, proj_clip);
                o.kernel_type = static_cast<int8_t>(QS_GET(p, kernel_type));
                o.asymmetric_quantize_inputs = QS_GET(p, asymmetric_quantize_inputs);
                return o;
            }
            case B::IF: {
                const auto* p = op.builtin_options_as_IfOptions();
                return IfOptions{QS_GET(p, then_subgraph_index), QS_GET(p, else_subgraph_index)};
            }
            case B::WHILE: {
                const auto* p = op.builtin_options_as_WhileOptions();
                return WhileOptions{QS_GET(p, cond_subgraph_index), QS_GET(p, body_subgraph_index)};
            }
            case B::CALL_ONCE: {
                const auto* p = op.builtin_options_as_CallOnceOptions();
                return CallOnceOptions{QS_GET(p, init_subgraph_index)};
            }
            case B::CALL: {
                const auto* p = op.builtin_options_as_CallOptions();
                const uint32_t sg = QS_GET(p, subgraph);
                // A uint32 past INT32_MAX cannot be a subgraph index; keep it out of range.
                return CallOptions{sg > static_cast<uint32_t>(std::numeric_limits<int32_t>::max())
                                       ? std::numeric_limits<int32_t>::max()
                                       : static_cast<int32_t>(sg)};
            }
            case B::GELU: {
                const auto* p = op.builtin_options_as_GeluOptions();
                return GeluOptions{QS_GET(p, approximate)};
            }
            default:
                return NoOptions{};
        }
    }

    Result<void> checkSubgraphRefs(const Subgraph& sg) {
        const auto n = static_cast<int32_t>(m_model.subgraphs.size());
        for (size_t i = 0; i < sg.operators.size(); ++i) {
            const Operator& op = sg.operators[i];
            auto check = [&](int32_t ref, const char* what) -> Result<void> {
                if (ref < 0 || ref >= n)
                    return failOp(
                        static_cast<int32_t>(i), op.name(),
                        strFormat("{} {} is out of range (model has {} subgraphs)", what, ref, n));
                return {};
            };
            Result<void> r;
            if (const auto* o = op.opts<IfOptions>()) {
                r = check(o->then_subgraph_index, "then_subgraph_index");
                if (r) r = check(o->else_subgraph_index, "else_subgraph_index");
            } else if (const auto* w = op.opts<WhileOptions>()) {
                r = check(w->cond_subgraph_index, "cond_subgraph_index");
                if (r) r = check(w->body_subgraph_index, "body_subgraph_index");
            } else if (const auto* c = op.opts<CallOnceOptions>()) {
                r = check(c->init_subgraph_index, "init_subgraph_index");
            } else if (const auto* call = op.opts<CallOptions>()) {
                r = check(call->subgraph, "subgraph");
            }
            if (!r) return r;
        }
        return {};
    }

    // Operators must run in the stored order: every tensor an op reads is a subgraph input, a
    // constant, a variable, an omitted optional, or the output of an earlier op.
    Result<void> checkExecutionOrder(const Subgraph& sg) {
        const size_t nt = sg.tensors.size();
        const size_t no = sg.operators.size();
        std::vector<int32_t> producer(nt, -1);
        for (size_t i = 0; i < no; ++i) {
            for (TensorId out : sg.operators[i].outputs) {
                if (!out.valid()) continue;
                auto& p = producer[static_cast<size_t>(out.value)];
                if (p >= 0)
                    return failOp(static_cast<int32_t>(i), sg.operators[i].name(),
                                  strFormat("writes {}, which op {} ({}) already writes",
                                            tensorLabel(sg, out.value), p,
                                            sg.operators[static_cast<size_t>(p)].name()),
                                  out.value, sg.tensors[static_cast<size_t>(out.value)].name);
                p = static_cast<int32_t>(i);
            }
        }
        std::vector<char> ready(nt, 0);
        for (TensorId t : sg.inputs) ready[static_cast<size_t>(t.value)] = 1;
        for (size_t t = 0; t < nt; ++t) {
            const Tensor& tensor = sg.tensors[t];
            // A constant with zero elements (e.g. an empty RESHAPE shape) has an empty buffer.
            const bool emptyConstant = tensor.buffer != 0 && tensor.numElements() == 0;
            if (tensor.isConstant() || tensor.is_variable || emptyConstant) ready[t] = 1;
        }

        // Cycles first, so a cycle is reported as one rather than as an ordering problem:
        // Kahn's algorithm over op -> op edges through produced tensors.
        std::vector<int32_t> pending(no, 0);
        std::vector<std::vector<int32_t>> consumers(no);
        for (size_t i = 0; i < no; ++i) {
            for (TensorId in : sg.operators[i].inputs) {
                if (!in.valid() || ready[static_cast<size_t>(in.value)]) continue;
                const int32_t p = producer[static_cast<size_t>(in.value)];
                if (p < 0) continue;
                ++pending[i];
                consumers[static_cast<size_t>(p)].push_back(static_cast<int32_t>(i));
            }
        }
        std::vector<int32_t> queue;
        for (size_t i = 0; i < no; ++i)
            if (pending[i] == 0) queue.push_back(static_cast<int32_t>(i));
        size_t done = 0;
        while (done < queue.size()) {
            const int32_t i = queue[done++];
            for (int32_t c : consumers[static_cast<size_t>(i)])
                if (--pending[static_cast<size_t>(c)] == 0) queue.push_back(c);
        }
        if (queue.size() != no) {
            // Some op is on (or behind) a cycle. Walk producer links among the unfinished ops
            // until one repeats: that op is on the cycle.
            std::vector<char> walked(no, 0);
            int32_t cur = -1;
            for (size_t i = 0; i < no; ++i)
                if (pending[i] > 0) {
                    cur = static_cast<int32_t>(i);
                    break;
                }
            int32_t via = -1;
            while (!walked[static_cast<size_t>(cur)]) {
                walked[static_cast<size_t>(cur)] = 1;
                for (TensorId in : sg.operators[static_cast<size_t>(cur)].inputs) {
                    if (!in.valid() || ready[static_cast<size_t>(in.value)]) continue;
                    const int32_t p = producer[static_cast<size_t>(in.value)];
                    if (p >= 0 && pending[static_cast<size_t>(p)] > 0) {
                        via = in.value;
                        cur = p;
                        break;
                    }
                }
            }
            // `cur` is on the cycle; report it with the tensor it reads from the cycle.
            const Operator& op = sg.operators[static_cast<size_t>(cur)];
            for (TensorId in : op.inputs) {
                if (!in.valid() || ready[static_cast<size_t>(in.value)]) continue;
                const int32_t p = producer[static_cast<size_t>(in.value)];
                if (p >= 0 && pending[static_cast<size_t>(p)] > 0) {
                    via = in.value;
                    return failOp(cur, op.name(),
                                  strFormat("reads {}, written by op {} ({}): the ops form a "
                                            "cycle",
                                            tensorLabel(sg, via), p,
                                            sg.operators[static_cast<size_t>(p)].name()),
                                  via, sg.tensors[static_cast<size_t>(via)].name);
                }
            }
            return failOp(cur, op.name(), "is part of a cycle");
        }

        for (size_t i = 0; i < no; ++i) {
            const Operator& op = sg.operators[i];
            for (TensorId in : op.inputs) {
                if (!in.valid()) continue;
                const auto t = static_cast<size_t>(in.value);
                if (ready[t]) continue;
                const int32_t p = producer[t];
                const std::string& tname = sg.tensors[t].name;
                if (p < 0)
                    return failOp(static_cast<int32_t>(i), op.name(),
                                  strFormat("reads {}, which is not a subgraph input, constant "
                                            "or variable, and no op writes it",
                                            tensorLabel(sg, in.value)),
                                  in.value, tname);
                return failOp(static_cast<int32_t>(i), op.name(),
                              strFormat("reads {} before op {} ({}) writes it: the operators "
                                        "are not in execution order",
                                        tensorLabel(sg, in.value), p,
                                        sg.operators[static_cast<size_t>(p)].name()),
                              in.value, tname);
            }
            for (TensorId out : op.outputs)
                if (out.valid()) ready[static_cast<size_t>(out.value)] = 1;
        }
        return {};
    }

    // ---- signatures and metadata --------------------------------------------------------

    Result<void> loadSignatures() {
        const auto* defs = m_fb->signature_defs();
        if (!defs) return {};
        for (uint32_t i = 0; i < defs->size(); ++i) {
            const fb::SignatureDef* d = defs->Get(i);
            if (!d) continue;
            Signature s;
            if (d->signature_key()) s.key = d->signature_key()->str();
            if (d->subgraph_index() >= m_model.subgraphs.size())
                return failHere(
                    strFormat("signature {} \"{}\": subgraph {} is out of range "
                              "(model has {} subgraphs)",
                              i, s.key, d->subgraph_index(), m_model.subgraphs.size()));
            s.subgraph = SubgraphId(static_cast<int32_t>(d->subgraph_index()));
            const Subgraph& sg = m_model.subgraphs[d->subgraph_index()];
            auto maps = [&](const flatbuffers::Vector<flatbuffers::Offset<fb::TensorMap>>* v,
                            std::vector<SignatureTensor>& out, const char* what) -> Result<void> {
                if (!v) return {};
                for (uint32_t k = 0; k < v->size(); ++k) {
                    const fb::TensorMap* m = v->Get(k);
                    if (!m) continue;
                    SignatureTensor st;
                    if (m->name()) st.name = m->name()->str();
                    if (m->tensor_index() >= sg.tensors.size())
                        return failHere(
                            strFormat("signature {} \"{}\": {} \"{}\" is tensor {}, "
                                      "out of range (subgraph {} has {} tensors)",
                                      i, s.key, what, st.name, m->tensor_index(),
                                      d->subgraph_index(), sg.tensors.size()));
                    st.tensor = TensorId(static_cast<int32_t>(m->tensor_index()));
                    out.push_back(std::move(st));
                }
                return {};
            };
            if (auto r = maps(d->inputs(), s.inputs, "input"); !r) return r;
            if (auto r = maps(d->outputs(), s.outputs, "output"); !r) return r;
            m_model.signatures.push_back(std::move(s));
        }
        return {};
    }

    Result<void> loadMetadata() {
        if (const auto* mb = m_fb->metadata_buffer()) {
            for (uint32_t k = 0; k < mb->size(); ++k) {
                const int32_t b = mb->Get(k);
                if (b < 0 || static_cast<size_t>(b) >= m_buffers.size())
                    return failHere(
                        strFormat("metadata_buffer {} is buffer {}, out of range "
                                  "(model has {} buffers)",
                                  k, b, m_buffers.size()));
            }
        }
        const auto* md = m_fb->metadata();
        if (!md) return {};
        for (uint32_t k = 0; k < md->size(); ++k) {
            const fb::Metadata* m = md->Get(k);
            if (!m) continue;
            MetadataEntry e;
            if (m->name()) e.name = m->name()->str();
            if (m->buffer() >= m_buffers.size())
                return failHere(
                    strFormat("metadata {} \"{}\": buffer {} is out of range (model "
                              "has {} buffers)",
                              k, e.name, m->buffer(), m_buffers.size()));
            e.data = m_buffers[m->buffer()];
            m_model.metadata.push_back(std::move(e));
        }
        if (m_options.read_metadata) {
            for (const MetadataEntry& e : m_model.metadata)
                if (e.name == "TFLITE_METADATA") {
                    readTfliteMetadata(e.data);
                    break;
                }
        }
        return {};
    }

    // TFLite Metadata (tflite-support's metadata_schema.fbs). Never fatal: the model runs
    // without it, so every problem is a warning.
    void readTfliteMetadata(std::span<const uint8_t> bytes) {
        if (bytes.size() < 8 || bytes.size() >= FLATBUFFERS_MAX_BUFFER_SIZE) {
            warn(strFormat("TFLITE_METADATA: {} bytes is not a metadata FlatBuffer; ignored",
                           bytes.size()));
            return;
        }
        // The buffer sits inside the model file at an arbitrary offset; the verifier wants
        // aligned scalars, so verify and read a 16-byte aligned copy when it is misaligned.
        std::vector<uint8_t> copy;
        const uint8_t* data = bytes.data();
        if (reinterpret_cast<uintptr_t>(data) % 16 != 0) {
            copy.assign(bytes.begin(), bytes.end());
            data = copy.data();  // std::allocator returns at least 16-byte aligned blocks
        }
        flatbuffers::Verifier verifier(data, bytes.size());
        if (!verifier.VerifyBuffer<fbmeta::ModelMetadata>(nullptr)) {
            warn(
                "TFLITE_METADATA: the FlatBuffers verifier rejects it; input normalization and "
                "image size are unknown");
            return;
        }
        if (!fbmeta::ModelMetadataBufferHasIdentifier(data))
            warn("TFLITE_METADATA: no \"M001\" file identifier; read anyway");
        const fbmeta::ModelMetadata* mm = fbmeta::GetModelMetadata(data);
        if (!mm->subgraph_metadata() || mm->subgraph_metadata()->size() == 0) {
            warn("TFLITE_METADATA: no subgraph metadata");
            return;
        }
        const fbmeta::SubGraphMetadata* sg = mm->subgraph_metadata()->Get(0);
        if (sg && sg->output_tensor_metadata()) {
            const auto* outputs = sg->output_tensor_metadata();
            for (uint32_t i = 0; i < outputs->size(); ++i) {
                const fbmeta::TensorMetadata* tm = outputs->Get(i);
                OutputInfo info;
                if (tm && tm->name()) info.name = tm->name()->str();
                if (const auto* files = tm ? tm->associated_files() : nullptr) {
                    for (uint32_t k = 0; k < files->size(); ++k) {
                        const fbmeta::AssociatedFile* f = files->Get(k);
                        // 2: TENSOR_AXIS_LABELS (metadata_schema.fbs AssociatedFileType).
                        if (f && f->name() && f->type() == 2)
                            info.label_files.push_back(f->name()->str());
                    }
                }
                m_model.output_info.push_back(std::move(info));
            }
        }
        if (!sg || !sg->input_tensor_metadata()) return;
        const auto* inputs = sg->input_tensor_metadata();
        if (inputs->size() != m_model.subgraphs[0].inputs.size())
            warn(strFormat("TFLITE_METADATA: describes {} inputs, subgraph 0 has {}",
                           inputs->size(), m_model.subgraphs[0].inputs.size()));
        for (uint32_t i = 0; i < inputs->size(); ++i) {
            const fbmeta::TensorMetadata* tm = inputs->Get(i);
            InputInfo info;
            if (!tm) {
                m_model.input_info.push_back(std::move(info));
                continue;
            }
            if (tm->name()) info.name = tm->name()->str();
            if (const auto* pus = tm->process_units()) {
                for (uint32_t k = 0; k < pus->size(); ++k) {
                    const fbmeta::ProcessUnit* pu = pus->Get(k);
                    const auto* norm = pu ? pu->options_as_NormalizationOptions() : nullptr;
                    if (!norm) continue;
                    InputNormalization n;
                    if (norm->mean()) n.mean.assign(norm->mean()->begin(), norm->mean()->end());
                    if (norm->std()) n.std.assign(norm->std()->begin(), norm->std()->end());
                    const bool zeroStd =
                        std::any_of(n.std.begin(), n.std.end(), [](float v) { return v == 0.0f; });
                    if (n.mean.empty() || n.std.empty() || zeroStd)
                        warn(
                            strFormat("TFLITE_METADATA: input {} \"{}\": normalization has {} "
                                      "means and {} stds{}; ignored",
                                      i, info.name, n.mean.size(), n.std.size(),
                                      zeroStd ? " (a std is 0)" : ""));
                    else
                        info.normalization = std::move(n);
                    break;
                }
            }
            if (const fbmeta::Content* c = tm->content()) {
                if (const auto* img = c->content_properties_as_ImageProperties()) {
                    switch (img->color_space()) {
                        case 1:
                            info.color_space = "RGB";
                            break;
                        case 2:
                            info.color_space = "GRAYSCALE";
                            break;
                        default:
                            break;
                    }
                    if (const auto* sz = img->default_size()) {
                        const auto kMax =
                            static_cast<uint32_t>(std::numeric_limits<int32_t>::max());
                        if (sz->width() > kMax || sz->height() > kMax)
                            warn(
                                strFormat("TFLITE_METADATA: input {}: image size {}x{} is "
                                          "out of range; ignored",
                                          i, sz->width(), sz->height()));
                        else
                            info.image_size = std::pair{static_cast<int32_t>(sz->width()),
                                                        static_cast<int32_t>(sz->height())};
                    }
                }
            }
            if (const auto* files = tm->associated_files()) {
                for (uint32_t k = 0; k < files->size(); ++k) {
                    const fbmeta::AssociatedFile* f = files->Get(k);
                    if (f && f->name()) info.associated_files.push_back(f->name()->str());
                }
            }
            m_model.input_info.push_back(std::move(info));
        }
    }

    struct OpCodeInfo {
        int32_t code = 0;
        int32_t version = 1;
        std::string custom_code;
    };

    std::string m_name;
    std::shared_ptr<const ModelStorage> m_storage;
    LoadOptions m_options;
    std::span<const uint8_t> m_bytes;
    const fb::Model* m_fb = nullptr;
    std::vector<std::span<const uint8_t>> m_buffers;
    std::vector<OpCodeInfo> m_opcodes;
    int32_t m_subgraph = 0;
    Model m_model;
};

#undef QS_GET

}  // namespace

Result<Model> loadModel(const std::filesystem::path& path, const LoadOptions& options) {
    auto storage = mapFile(path);
    if (!storage) return std::unexpected(storage.error());
    return Loader(path.string(), std::move(*storage), options).run();
}

Result<Model> loadModelFromBuffer(std::span<const uint8_t> bytes, std::string name,
                                  const LoadOptions& options) {
    if (bytes.empty()) return fail(name + ": file is empty");
    return Loader(std::move(name), copyToHeap(bytes), options).run();
}

}  // namespace qs::model
