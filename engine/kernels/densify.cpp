#include "engine/kernels/densify.h"

#include <cstring>

#include "engine/kernels/kernel.h"
#include "model/str_format.h"

namespace qs::engine::kernels {

namespace {

// The walk of FormatConverter::Populate over the traversal levels. Level k is dimension
// traversal_order[k]: the first `rank` levels are the (blocked) original dimensions, the
// rest are block dimensions whose block_map entry names the original dimension they split.
struct Walk {
    const model::Sparsity& sp;
    std::span<const int32_t> shape;
    std::span<const uint8_t> src;
    size_t elem = 0;
    std::vector<int32_t> block_size;  // per block dimension
    std::vector<int32_t> indices;     // per level
    TensorValue& dst;
    int64_t next_value = 0;
    int64_t stored_values = 0;
    std::string error;

    bool place() {
        const auto rank = shape.size();
        std::vector<int64_t> orig(rank, 0);
        size_t k = 0;
        for (; k < rank; ++k) orig[static_cast<size_t>(sp.traversal_order[k])] = indices[k];
        for (; k < indices.size(); ++k) {
            const auto block = static_cast<size_t>(sp.traversal_order[k]) - rank;
            const auto d = static_cast<size_t>(sp.block_map[block]);
            orig[d] = orig[d] * block_size[block] + indices[k];
        }
        int64_t flat = 0;
        for (size_t d = 0; d < rank; ++d) {
            if (orig[d] < 0 || orig[d] >= shape[d]) {
                error = strFormat("a stored value lands at index {} of dimension {} (size {})",
                                  orig[d], d, shape[d]);
                return false;
            }
            flat = flat * shape[d] + orig[d];
        }
        if (next_value >= stored_values) {
            error = "the encoding addresses more values than the buffer stores";
            return false;
        }
        std::memcpy(dst.bytes().data() + flat * static_cast<int64_t>(elem),
                    src.data() + next_value * static_cast<int64_t>(elem), elem);
        ++next_value;
        return true;
    }

    bool populate(size_t level, int64_t prev_idx) {
        if (level == indices.size()) return place();
        const auto& dm = sp.dim_metadata[level];
        if (!dm.sparse_csr) {
            for (int32_t i = 0; i < dm.dense_size; ++i) {
                indices[level] = i;
                if (!populate(level + 1, prev_idx * dm.dense_size + i)) return false;
            }
            return true;
        }
        // Populate only walks a segment when prev_idx + 1 is inside array_segments.
        const auto& seg = dm.array_segments;
        if (prev_idx < 0 || prev_idx + 1 >= static_cast<int64_t>(seg.size())) return true;
        for (int64_t i = seg[static_cast<size_t>(prev_idx)];
             i < seg[static_cast<size_t>(prev_idx + 1)]; ++i) {
            if (i >= static_cast<int64_t>(dm.array_indices.size())) break;
            indices[level] = dm.array_indices[static_cast<size_t>(i)];
            if (!populate(level + 1, i)) return false;
        }
        return true;
    }
};

}  // namespace

Result<TensorValue> densifySparseTensor(const model::Tensor& tensor) {
    auto failHere = [&](const std::string& why) {
        Error e;
        e.message = strFormat("sparse tensor '{}': {}", tensor.name, why);
        e.tensor_name = tensor.name;
        return std::unexpected(std::move(e));
    };
    if (!tensor.sparsity) return failHere("has no sparsity parameters");
    const auto& sp = *tensor.sparsity;
    const size_t elem = dtypeSize(tensor.dtype);
    if (elem == 0 || elem > 8)
        return failHere(strFormat("{} values cannot be densified", model::dtypeName(tensor.dtype)));
    const size_t rank = tensor.shape.size();
    const size_t levels = sp.traversal_order.size();
    // The loader checked traversal_order against dim_metadata and the value count; the walk
    // below also needs the first `rank` levels to be original dimensions and every further
    // level a block dimension with a block_map entry (FormatConverter assumes both).
    if (levels < rank || sp.dim_metadata.size() != levels || levels - rank != sp.block_map.size())
        return failHere(
            strFormat("{} traversal levels, {} dim_metadata, {} block_map entries for "
                      "rank {}",
                      levels, sp.dim_metadata.size(), sp.block_map.size(), rank));
    for (size_t k = 0; k < levels; ++k) {
        const auto t = static_cast<size_t>(sp.traversal_order[k]);
        if ((k < rank && t >= rank) || (k >= rank && (t < rank || t >= levels)))
            return failHere(strFormat("traversal_order entry {} ({}) is out of place", k, t));
    }
    std::vector<int32_t> block_size(sp.block_map.size());
    for (size_t b = 0; b < sp.block_map.size(); ++b) {
        // InitSparseToDenseConverter: the block size is dense_size of the dim_metadata entry
        // that traversal_order names for this block dimension.
        const auto meta = static_cast<size_t>(sp.traversal_order[rank + b]);
        block_size[b] = sp.dim_metadata[meta].dense_size;
        const auto d = sp.block_map[b];
        if (d < 0 || static_cast<size_t>(d) >= rank || block_size[b] <= 0)
            return failHere(strFormat("block dimension {} is malformed", b));
    }
    const int64_t stored = static_cast<int64_t>(tensor.data.size() / elem);
    TensorValue dense(tensor.dtype, tensor.shape);  // zero-filled
    dense.setQuantization(tensor.quantization);
    Walk w{sp, tensor.shape, tensor.data, elem, block_size, std::vector<int32_t>(levels, 0), dense};
    w.stored_values = stored;
    if (!w.populate(0, 0)) return failHere(w.error);
    return dense;
}

namespace {

// tensorflow/lite/kernels/densify.cc: the input must be a constant; the dense weights are
// computed once (here in prepare, and published as a constant so later ops prepare against
// the dense data, as TFLite's kernels see it after the first Eval).
class DensifyKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* in = ctx.input(0);
        if (!in || ctx.numOutputs() != 1) return ctx.fail("needs one input and one output");
        if (!in->model_tensor || !in->model_tensor->isConstant() || !in->model_tensor->sparsity)
            return ctx.fail("the input must be a sparse constant tensor");
        TensorInfo& out = ctx.output(0);
        if (out.dtype != in->dtype)
            return ctx.fail(strFormat("output is {}, input {}", model::dtypeName(out.dtype),
                                      model::dtypeName(in->dtype)));
        auto dense = densifySparseTensor(*in->model_tensor);
        if (!dense) return ctx.fail(dense.error().message);
        m_dense = std::make_unique<TensorValue>(std::move(*dense));
        m_dense->setQuantization(*out.quant);
        out.shape = in->shape;
        out.constant = m_dense.get();
        return {};
    }

    void eval(EvalContext& ctx) override {
        auto& o = ctx.output(0);
        std::memcpy(o.raw(), m_dense->raw(), o.byteSize());
    }

private:
    std::unique_ptr<TensorValue> m_dense;
};

}  // namespace

}  // namespace qs::engine::kernels

namespace qs::engine {
void registerKernels_densify(KernelRegistry& r) {
    r.add(model::BuiltinOp::DENSIFY, &makeKernel<kernels::DensifyKernel>);
}
}  // namespace qs::engine
