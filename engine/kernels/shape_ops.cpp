// Data-movement ops: RESHAPE, SQUEEZE, PAD, PADV2, TRANSPOSE. No arithmetic, any dtype; the
// output keeps the input's bytes (quantization parameters must match, as TFLite requires).
#include <algorithm>
#include <cstring>
#include <type_traits>
#include "model/str_format.h"

#include "engine/kernels/common.h"

namespace qs::engine::kernels {

namespace {

using model::DType;

Result<std::vector<int64_t>> constantInts(const TensorInfo& t) {
    std::vector<int64_t> v;
    if (!t.isConstant()) return fail("must be a constant tensor");
    if (t.dtype == DType::Int32)
        for (int32_t x : t.constant->data<int32_t>()) v.push_back(x);
    else if (t.dtype == DType::Int64)
        for (int64_t x : t.constant->data<int64_t>()) v.push_back(x);
    else
        return fail("must be int32 or int64");
    return v;
}

// Copies the input bytes unchanged; used by RESHAPE and SQUEEZE.
class CopyKernel : public Kernel {
public:
    // prepare keeps the element count, so the copy covers the output.
    bool writesWholeOutputs() const override { return true; }
    void eval(EvalContext& ctx) override {
        const auto src = ctx.input(0).bytes();
        auto dst = ctx.output(0).bytes();
        if (!src.empty()) std::memcpy(dst.data(), src.data(), std::min(src.size(), dst.size()));
    }
};

class ReshapeKernel final : public CopyKernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* input = ctx.input(0);
        if (!input || ctx.numOutputs() < 1) return ctx.fail("needs an input");
        TensorInfo& output = ctx.output(0);
        std::vector<int64_t> shape;
        // The new shape comes from the shape input (TFLite's preferred form), else the option,
        // else the output tensor's static shape.
        if (const TensorInfo* s = ctx.input(1); s && s->isConstant()) {
            auto v = constantInts(*s);
            if (!v) return ctx.fail("shape input " + v.error().message);
            shape = *v;
        } else if (const auto* o = ctx.options<model::ReshapeOptions>();
                   o && !o->new_shape.empty()) {
            shape.assign(o->new_shape.begin(), o->new_shape.end());
        } else {
            shape.assign(output.shape.begin(), output.shape.end());
        }
        int64_t known = 1;
        int unknown = -1;
        for (size_t i = 0; i < shape.size(); ++i) {
            if (shape[i] == -1) {
                if (unknown >= 0) return ctx.fail("more than one -1 in the new shape");
                unknown = static_cast<int>(i);
            } else if (shape[i] < 0) {
                return ctx.fail("negative dimension in the new shape");
            } else {
                known *= shape[i];
            }
        }
        const int64_t n = input->numElements();
        if (unknown >= 0) shape[static_cast<size_t>(unknown)] = known ? n / known : 0;
        output.shape.assign(shape.begin(), shape.end());
        if (shapeElements(output.shape) != n)
            return ctx.fail(strFormat("cannot reshape [{}] to [{}]", shapeString(input->shape),
                                      shapeString(output.shape)));
        if (output.dtype != input->dtype) return ctx.fail("output type differs from input type");
        return {};
    }
};

class SqueezeKernel final : public CopyKernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* input = ctx.input(0);
        if (!input || ctx.numOutputs() < 1) return ctx.fail("needs an input");
        const auto* o = ctx.options<model::SqueezeOptions>();
        const int rank = input->rank();
        std::vector<bool> drop(static_cast<size_t>(rank), false);
        if (!o || o->squeeze_dims.empty()) {
            for (int d = 0; d < rank; ++d) drop[static_cast<size_t>(d)] = input->dim(d) == 1;
        } else {
            for (int32_t a : o->squeeze_dims) {
                const int32_t d = a < 0 ? a + rank : a;
                if (d < 0 || d >= rank || input->dim(d) != 1)
                    return ctx.fail(strFormat("cannot squeeze dimension {} of [{}]", a,
                                              shapeString(input->shape)));
                drop[static_cast<size_t>(d)] = true;
            }
        }
        TensorInfo& output = ctx.output(0);
        output.shape.clear();
        for (int d = 0; d < rank; ++d)
            if (!drop[static_cast<size_t>(d)]) output.shape.push_back(input->dim(d));
        return {};
    }
};

// PAD / PADV2: constant padding. TFLite pads quantized tensors with the output zero point
// (tensorflow/lite/kernels/pad.cc; TFLM pad.cc) unless PADV2 gives a value.
class PadKernel final : public Kernel {
public:
    // The input rows are copied in and every gap between them gets the pad value.
    bool writesWholeOutputs() const override { return true; }
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* input = ctx.input(0);
        const TensorInfo* pads = ctx.input(1);
        if (!input || !pads || ctx.numOutputs() < 1) return ctx.fail("needs input and paddings");
        auto v = constantInts(*pads);
        if (!v) return ctx.fail("paddings " + v.error().message);
        const int rank = input->rank();
        if (static_cast<int>(v->size()) != 2 * rank) return ctx.fail("paddings must be [rank, 2]");
        TensorInfo& output = ctx.output(0);
        output.shape.clear();
        m_before.clear();
        for (int d = 0; d < rank; ++d) {
            const int64_t b = (*v)[2 * static_cast<size_t>(d)],
                          a = (*v)[2 * static_cast<size_t>(d) + 1];
            if (b < 0 || a < 0) return ctx.fail("negative padding");
            m_before.push_back(static_cast<int32_t>(b));
            output.shape.push_back(static_cast<int32_t>(input->dim(d) + b + a));
        }
        m_in_shape = input->shape;
        m_elem = dtypeSize(input->dtype);
        if (m_elem == 0) return ctx.fail("unsupported type");
        m_pad_value.assign(m_elem, 0);
        if (const TensorInfo* cv = ctx.input(2); cv && cv->isConstant()) {
            const auto b = cv->constant->bytes();
            if (b.size() < m_elem) return ctx.fail("constant value has the wrong type");
            std::memcpy(m_pad_value.data(), b.data(), m_elem);
        } else if (isQuantizedInt(output.dtype) && output.quant->isQuantized()) {
            const int32_t zp = output.zeroPoint();
            if (output.dtype == DType::Int8)
                m_pad_value[0] = static_cast<uint8_t>(static_cast<int8_t>(zp));
            else if (output.dtype == DType::UInt8)
                m_pad_value[0] = static_cast<uint8_t>(zp);
            else {
                const auto z = static_cast<int16_t>(zp);
                std::memcpy(m_pad_value.data(), &z, 2);
            }
        }
        m_pad_block.resize(256 * m_elem);
        for (size_t i = 0; i < m_pad_block.size(); i += m_elem)
            std::memcpy(m_pad_block.data() + i, m_pad_value.data(), m_elem);
        return {};
    }

    void eval(EvalContext& ctx) override {
        const auto& input = ctx.input(0);
        auto& output = ctx.output(0);
        auto dst = output.bytes();
        // Only the bytes between the copied rows get the pad value, from a block of repeated
        // pad elements (one memcpy per gap, not one per element).
        auto pad = [&](size_t from, size_t to) {
            if (m_elem == 1) {
                if (to > from) std::memset(dst.data() + from, m_pad_value[0], to - from);
                return;
            }
            while (from < to) {
                const size_t n = std::min(to - from, m_pad_block.size());
                std::memcpy(dst.data() + from, m_pad_block.data(), n);
                from += n;
            }
        };
        const auto src = input.bytes();
        const int rank = static_cast<int>(m_in_shape.size());
        if (rank == 0) {
            std::memcpy(dst.data(), src.data(), m_elem);
            return;
        }
        const auto& out_shape = output.shape();
        std::vector<int64_t> out_stride(static_cast<size_t>(rank));
        int64_t s = 1;
        for (int d = rank; d-- > 0;) {
            out_stride[static_cast<size_t>(d)] = s;
            s *= out_shape[static_cast<size_t>(d)];
        }
        // Copy rows: the innermost padded dimension k and every unpadded dimension inside it
        // are contiguous in both tensors (e.g. H,W-padded NHWC copies W*C bytes at a time).
        int k = 0;
        for (int d = rank; d-- > 0;)
            if (out_shape[static_cast<size_t>(d)] != m_in_shape[static_cast<size_t>(d)]) {
                k = d;
                break;
            }
        int64_t row = 1;
        for (int d = k; d < rank; ++d) row *= m_in_shape[static_cast<size_t>(d)];
        const int64_t rows = row ? shapeElements(m_in_shape) / row : 0;
        const int64_t base =
            int64_t{m_before[static_cast<size_t>(k)]} * out_stride[static_cast<size_t>(k)];
        std::vector<int32_t> idx(static_cast<size_t>(rank), 0);
        size_t filled = 0;  // rows land at increasing output offsets
        for (int64_t r = 0; r < rows; ++r) {
            int64_t o = base;
            for (int d = 0; d < k; ++d)
                o += (idx[static_cast<size_t>(d)] + m_before[static_cast<size_t>(d)]) *
                     out_stride[static_cast<size_t>(d)];
            const auto at = static_cast<size_t>(o) * m_elem;
            pad(filled, at);
            std::memcpy(dst.data() + at, src.data() + r * row * static_cast<int64_t>(m_elem),
                        static_cast<size_t>(row) * m_elem);
            filled = at + static_cast<size_t>(row) * m_elem;
            for (int d = k; d-- > 0;) {
                if (++idx[static_cast<size_t>(d)] < m_in_shape[static_cast<size_t>(d)]) break;
                idx[static_cast<size_t>(d)] = 0;
            }
        }
        pad(filled, dst.size());
    }

private:
    std::vector<int32_t> m_before, m_in_shape;
    size_t m_elem = 1;
    std::vector<uint8_t> m_pad_value;
    std::vector<uint8_t> m_pad_block;  // 256 pad elements
};

class TransposeKernel final : public Kernel {
public:
    // Each output element is copied from the input.
    bool writesWholeOutputs() const override { return true; }
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* input = ctx.input(0);
        const TensorInfo* perm = ctx.input(1);
        if (!input || !perm || ctx.numOutputs() < 1) return ctx.fail("needs input and permutation");
        auto v = constantInts(*perm);
        if (!v) return ctx.fail("permutation " + v.error().message);
        const int rank = input->rank();
        if (static_cast<int>(v->size()) != rank)
            return ctx.fail("permutation size differs from the input rank");
        std::vector<bool> seen(static_cast<size_t>(rank), false);
        m_perm.clear();
        TensorInfo& output = ctx.output(0);
        output.shape.clear();
        for (int64_t p : *v) {
            const int64_t d = p < 0 ? p + rank : p;
            if (d < 0 || d >= rank || seen[static_cast<size_t>(d)])
                return ctx.fail("invalid permutation");
            seen[static_cast<size_t>(d)] = true;
            m_perm.push_back(static_cast<int32_t>(d));
            output.shape.push_back(input->dim(static_cast<int>(d)));
        }
        m_in_shape = input->shape;
        m_elem = dtypeSize(input->dtype);
        if (m_elem == 0) return ctx.fail("unsupported type");
        return {};
    }

    void eval(EvalContext& ctx) override {
        const auto src = ctx.input(0).bytes();
        auto dst = ctx.output(0).bytes();
        const size_t rank = m_in_shape.size();
        std::vector<int64_t> in_stride(rank);
        int64_t s = 1;
        for (size_t d = rank; d-- > 0;) {
            in_stride[d] = s;
            s *= m_in_shape[d];
        }
        std::vector<int64_t> src_stride(rank), out_dims(rank);
        for (size_t d = 0; d < rank; ++d) {
            src_stride[d] = in_stride[static_cast<size_t>(m_perm[d])];
            out_dims[d] = m_in_shape[static_cast<size_t>(m_perm[d])];
        }
        const int64_t n = shapeElements(m_in_shape);
        // The element size as a constant, so each copy is one load and store, not a call.
        auto copy = [&](auto elem) {
            constexpr size_t kElem = decltype(elem)::value;
            const size_t es = kElem ? kElem : m_elem;
            std::vector<int64_t> idx(rank, 0);
            int64_t si = 0;
            for (int64_t i = 0; i < n; ++i) {
                std::memcpy(dst.data() + i * static_cast<int64_t>(es),
                            src.data() + si * static_cast<int64_t>(es), kElem ? kElem : es);
                for (size_t d = rank; d-- > 0;) {
                    ++idx[d];
                    si += src_stride[d];
                    if (idx[d] < out_dims[d]) break;
                    si -= src_stride[d] * idx[d];
                    idx[d] = 0;
                }
            }
        };
        switch (m_elem) {
            case 1:
                return copy(std::integral_constant<size_t, 1>{});
            case 2:
                return copy(std::integral_constant<size_t, 2>{});
            case 4:
                return copy(std::integral_constant<size_t, 4>{});
            case 8:
                return copy(std::integral_constant<size_t, 8>{});
            default:
                return copy(std::integral_constant<size_t, 0>{});
        }
    }

private:
    std::vector<int32_t> m_perm, m_in_shape;
    size_t m_elem = 1;
};

}  // namespace
}  // namespace qs::engine::kernels

namespace qs::engine {
void registerKernels_shape_ops(KernelRegistry& r) {
    r.add(model::BuiltinOp::RESHAPE, &makeKernel<kernels::ReshapeKernel>);
    r.add(model::BuiltinOp::SQUEEZE, &makeKernel<kernels::SqueezeKernel>);
    r.add(model::BuiltinOp::PAD, &makeKernel<kernels::PadKernel>);
    r.add(model::BuiltinOp::PADV2, &makeKernel<kernels::PadKernel>);
    r.add(model::BuiltinOp::TRANSPOSE, &makeKernel<kernels::TransposeKernel>);
}
}  // namespace qs::engine
