// Data-movement ops: SHAPE, PACK, UNPACK, CONCATENATION, SPLIT, SPLIT_V, SLICE,
// STRIDED_SLICE, EXPAND_DIMS, FILL, GATHER, GATHER_ND, MIRROR_PAD, SPACE_TO_BATCH_ND,
// BATCH_TO_SPACE_ND, SPACE_TO_DEPTH, DEPTH_TO_SPACE. No arithmetic except CONCATENATION of
// uint8 inputs with other scales (reference_ops::ConcatenationWithScaling).
//
// Shape operands (begin/end/strides, axes, paddings, block shapes, dims) must be known at
// prepare: model constants, or outputs the executor folded at prepare (kernels/fold.h).
// Indices of GATHER / GATHER_ND are data and may be runtime values.
#include "engine/kernels/ops_util.h"

namespace qs::engine::kernels {

namespace {

using model::DType;

// Bytes of a value as a typed pointer.
inline const uint8_t* bytesOf(const TensorValue& v) {
    return static_cast<const uint8_t*>(v.raw());
}
inline uint8_t* bytesOf(TensorValue& v) {
    return static_cast<uint8_t*>(v.raw());
}

int64_t product(const std::vector<int32_t>& s, int from, int to) {
    int64_t p = 1;
    for (int i = from; i < to; ++i) p *= s[static_cast<size_t>(i)];
    return p;
}

// TFLite requires equal quantization for pure data movement of quantized tensors.
bool sameQuantization(const TensorInfo& a, const TensorInfo& b) {
    if (!isQuantizedInt(a.dtype) || !a.quant->isQuantized() || !b.quant->isQuantized()) return true;
    return a.scale() == b.scale() && a.zeroPoint() == b.zeroPoint();
}

Result<std::vector<int64_t>> shapeOperand(const PrepareContext& ctx, int index, const char* what) {
    const TensorInfo* t = ctx.input(index);
    if (!t) return ctx.fail(strFormat("{} input is missing", what));
    auto v = readConstantInts(*t);
    if (!v) return ctx.fail(strFormat("{} {}", what, v.error().message));
    return v;
}

// ---- SHAPE -------------------------------------------------------------------------------

// tensorflow/lite/kernels/shape.cc: the output is known at prepare; published as constant.
class ShapeKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* input = ctx.input(0);
        if (!input || ctx.numOutputs() < 1) return ctx.fail("needs an input");
        TensorInfo& output = ctx.output(0);
        if (output.dtype != DType::Int32 && output.dtype != DType::Int64)
            return ctx.fail("output must be int32 or int64");
        output.shape = {input->rank()};
        m_value = TensorValue(output.dtype, output.shape);
        m_value.setQuantization(*output.quant);
        for (int i = 0; i < input->rank(); ++i) {
            if (output.dtype == DType::Int32)
                m_value.data<int32_t>()[static_cast<size_t>(i)] = input->dim(i);
            else
                m_value.data<int64_t>()[static_cast<size_t>(i)] = input->dim(i);
        }
        output.constant = &m_value;
        return {};
    }
    void eval(EvalContext& ctx) override {
        auto dst = ctx.output(0).bytes();
        std::memcpy(dst.data(), m_value.bytes().data(), dst.size());
    }

private:
    TensorValue m_value;
};

// ---- PACK / UNPACK -----------------------------------------------------------------------

// tensorflow/lite/kernels/internal/reference/reference_ops.h Pack: outer x values_count x
// inner copy.
class PackKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const auto* o = ctx.options<model::PackOptions>();
        const int n = ctx.numInputs();
        if (n < 1 || ctx.numOutputs() < 1 || !ctx.input(0)) return ctx.fail("needs inputs");
        if (o && o->values_count != 0 && o->values_count != n)
            return ctx.fail(strFormat("values_count {} but {} inputs", o->values_count, n));
        const TensorInfo& first = *ctx.input(0);
        for (int i = 1; i < n; ++i) {
            const TensorInfo* t = ctx.input(i);
            if (!t || t->dtype != first.dtype || t->shape != first.shape)
                return ctx.fail("inputs must share dtype and shape");
        }
        TensorInfo& output = ctx.output(0);
        if (output.dtype != first.dtype) return ctx.fail("output type differs from inputs");
        for (int i = 0; i < n; ++i)
            if (!sameQuantization(*ctx.input(i), output))
                return ctx.fail("inputs and output must share quantization");
        const int rank = first.rank() + 1;
        const int axis = resolveAxis(o ? o->axis : 0, rank);
        if (axis < 0) return ctx.fail("axis out of range");
        output.shape = first.shape;
        output.shape.insert(output.shape.begin() + axis, n);
        m_elem = dtypeSize(first.dtype);
        if (m_elem == 0) return ctx.fail("unsupported type");
        m_outer = product(first.shape, 0, axis);
        m_inner = product(first.shape, axis, first.rank()) * static_cast<int64_t>(m_elem);
        return {};
    }
    void eval(EvalContext& ctx) override {
        uint8_t* dst = bytesOf(ctx.output(0));
        const int n = ctx.numInputs();
        for (int64_t o = 0; o < m_outer; ++o)
            for (int k = 0; k < n; ++k)
                std::memcpy(dst + (o * n + k) * m_inner, bytesOf(ctx.input(k)) + o * m_inner,
                            static_cast<size_t>(m_inner));
    }

private:
    size_t m_elem = 1;
    int64_t m_outer = 0, m_inner = 0;
};

class UnpackKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const auto* o = ctx.options<model::UnpackOptions>();
        const TensorInfo* input = ctx.input(0);
        if (!input || input->rank() < 1) return ctx.fail("needs an input of rank >= 1");
        const int axis = resolveAxis(o ? o->axis : 0, input->rank());
        if (axis < 0) return ctx.fail("axis out of range");
        const int n = input->dim(axis);
        if ((o && o->num != 0 && o->num != n) || ctx.numOutputs() != n)
            return ctx.fail(strFormat("unpacks {} values into {} outputs", n, ctx.numOutputs()));
        std::vector<int32_t> shape = input->shape;
        shape.erase(shape.begin() + axis);
        for (int i = 0; i < n; ++i) {
            if (ctx.output(i).dtype != input->dtype) return ctx.fail("output type differs");
            ctx.output(i).shape = shape;
        }
        m_elem = dtypeSize(input->dtype);
        if (m_elem == 0) return ctx.fail("unsupported type");
        m_outer = product(input->shape, 0, axis);
        m_inner = product(input->shape, axis + 1, input->rank()) * static_cast<int64_t>(m_elem);
        m_n = n;
        return {};
    }
    void eval(EvalContext& ctx) override {
        const uint8_t* src = bytesOf(ctx.input(0));
        for (int k = 0; k < m_n; ++k) {
            uint8_t* dst = bytesOf(ctx.output(k));
            for (int64_t o = 0; o < m_outer; ++o)
                std::memcpy(dst + o * m_inner, src + (o * m_n + k) * m_inner,
                            static_cast<size_t>(m_inner));
        }
    }

private:
    size_t m_elem = 1;
    int64_t m_outer = 0, m_inner = 0;
    int m_n = 0;
};

// ---- CONCATENATION / SPLIT / SPLIT_V ----------------------------------------------------

class ConcatenationKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const auto* o = ctx.options<model::ConcatenationOptions>();
        const int n = ctx.numInputs();
        if (n < 1 || !ctx.input(0) || ctx.numOutputs() < 1) return ctx.fail("needs inputs");
        if (o && o->fused_activation_function != model::Activation::None)
            return ctx.fail("fused activations are not supported (TFLite supports none either)");
        const TensorInfo& first = *ctx.input(0);
        const int rank = first.rank();
        const int axis = resolveAxis(o ? o->axis : 0, rank);
        if (axis < 0) return ctx.fail("axis out of range");
        TensorInfo& output = ctx.output(0);
        output.shape = first.shape;
        output.shape[static_cast<size_t>(axis)] = 0;
        m_type = first.dtype;
        m_elem = dtypeSize(m_type);
        if (m_elem == 0 || output.dtype != m_type) return ctx.fail("unsupported or mixed types");
        m_rescale.assign(static_cast<size_t>(n), {});
        m_widths.clear();
        for (int i = 0; i < n; ++i) {
            const TensorInfo* t = ctx.input(i);
            if (!t || t->dtype != m_type || t->rank() != rank)
                return ctx.fail("inputs must share dtype and rank");
            for (int d = 0; d < rank; ++d)
                if (d != axis && t->dim(d) != first.dim(d))
                    return ctx.fail("input shapes differ outside the axis");
            output.shape[static_cast<size_t>(axis)] += t->dim(axis);
            m_widths.push_back(product(t->shape, axis, rank) * static_cast<int64_t>(m_elem));
            // reference_ops::ConcatenationWithScaling (TFLite concatenation.cc, uint8 only):
            // an input with other quantization is requantized in float, rounded half away
            // from zero. int8/int16 inputs are copied as stored, as TFLite does.
            if (m_type == DType::UInt8 && !sameQuantization(*t, output)) {
                auto& r = m_rescale[static_cast<size_t>(i)];
                r.active = true;
                r.scale = t->scale() * (1.0f / output.scale());
                r.bias = -static_cast<float>(t->zeroPoint()) * r.scale;
                r.output_zero_point = output.zeroPoint();
            }
        }
        m_outer = product(first.shape, 0, axis);
        return {};
    }
    void eval(EvalContext& ctx) override {
        uint8_t* dst = bytesOf(ctx.output(0));
        for (int64_t o = 0; o < m_outer; ++o)
            for (size_t i = 0; i < m_widths.size(); ++i) {
                const uint8_t* src = bytesOf(ctx.input(static_cast<int>(i))) + o * m_widths[i];
                const auto& r = m_rescale[i];
                if (!r.active) {
                    std::memcpy(dst, src, static_cast<size_t>(m_widths[i]));
                } else {
                    for (int64_t j = 0; j < m_widths[i]; ++j) {
                        const int32_t v =
                            static_cast<int32_t>(std::round(src[j] * r.scale + r.bias)) +
                            r.output_zero_point;
                        dst[j] = static_cast<uint8_t>(std::clamp(v, 0, 255));
                    }
                }
                dst += m_widths[i];
            }
    }

private:
    struct Rescale {
        bool active = false;
        float scale = 1.0f, bias = 0.0f;
        int32_t output_zero_point = 0;
    };
    DType m_type = DType::Float32;
    size_t m_elem = 1;
    int64_t m_outer = 0;
    std::vector<int64_t> m_widths;  // bytes per outer row, per input
    std::vector<Rescale> m_rescale;
};

// SPLIT (axis, input) and SPLIT_V (input, size_splits, axis).
template <bool V>
class SplitKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* input = ctx.input(V ? 0 : 1);
        if (!input) return ctx.fail("needs an input");
        auto axis_v = shapeOperand(ctx, V ? 2 : 0, "axis");
        if (!axis_v) return std::unexpected(axis_v.error());
        if (axis_v->size() != 1) return ctx.fail("axis must have one element");
        const int axis = resolveAxis((*axis_v)[0], input->rank());
        if (axis < 0) return ctx.fail("axis out of range");
        const int n = ctx.numOutputs();
        const int32_t dim = input->dim(axis);
        std::vector<int64_t> sizes;
        if constexpr (V) {
            auto s = shapeOperand(ctx, 1, "size_splits");
            if (!s) return std::unexpected(s.error());
            sizes = *s;
            if (static_cast<int>(sizes.size()) != n)
                return ctx.fail("size_splits count differs from the output count");
            int64_t known = 0;
            int unknown = -1;
            for (size_t i = 0; i < sizes.size(); ++i) {
                if (sizes[i] == -1) {
                    if (unknown >= 0) return ctx.fail("more than one -1 in size_splits");
                    unknown = static_cast<int>(i);
                } else if (sizes[i] < 0) {
                    return ctx.fail("negative size_splits");
                } else {
                    known += sizes[i];
                }
            }
            if (unknown >= 0) sizes[static_cast<size_t>(unknown)] = dim - known;
        } else {
            if (n < 1 || dim % n != 0)
                return ctx.fail(strFormat("dimension {} does not split into {}", dim, n));
            sizes.assign(static_cast<size_t>(n), dim / n);
        }
        int64_t total = 0;
        for (auto s : sizes) total += s;
        if (total != dim) return ctx.fail("split sizes do not add up to the dimension");
        m_elem = dtypeSize(input->dtype);
        if (m_elem == 0) return ctx.fail("unsupported type");
        const int64_t inner = product(input->shape, axis + 1, input->rank());
        m_widths.clear();
        for (int i = 0; i < n; ++i) {
            TensorInfo& out = ctx.output(i);
            if (out.dtype != input->dtype) return ctx.fail("output type differs");
            out.shape = input->shape;
            out.shape[static_cast<size_t>(axis)] =
                static_cast<int32_t>(sizes[static_cast<size_t>(i)]);
            m_widths.push_back(sizes[static_cast<size_t>(i)] * inner *
                               static_cast<int64_t>(m_elem));
        }
        m_outer = product(input->shape, 0, axis);
        m_input_index = V ? 0 : 1;
        return {};
    }
    void eval(EvalContext& ctx) override {
        const uint8_t* src = bytesOf(ctx.input(m_input_index));
        for (int64_t o = 0; o < m_outer; ++o)
            for (size_t i = 0; i < m_widths.size(); ++i) {
                std::memcpy(bytesOf(ctx.output(static_cast<int>(i))) + o * m_widths[i], src,
                            static_cast<size_t>(m_widths[i]));
                src += m_widths[i];
            }
    }

private:
    size_t m_elem = 1;
    int64_t m_outer = 0;
    int m_input_index = 0;
    std::vector<int64_t> m_widths;
};

// ---- SLICE / STRIDED_SLICE ---------------------------------------------------------------

// Copies a strided box: out[i0, i1, ...] = in[begin0 + i0 * stride0, ...].
struct StridedBox {
    std::vector<int64_t> begin, stride, size, in_stride;
    size_t elem = 1;

    void copy(const uint8_t* src, uint8_t* dst) const {
        const size_t rank = size.size();
        int64_t n = 1;
        for (auto s : size) n *= s;
        if (n == 0) return;
        if (rank == 0) {
            std::memcpy(dst, src, elem);
            return;
        }
        std::vector<int64_t> idx(rank, 0);
        int64_t off = 0;
        for (size_t d = 0; d < rank; ++d) off += begin[d] * in_stride[d];
        for (int64_t i = 0; i < n; ++i) {
            std::memcpy(dst + i * static_cast<int64_t>(elem),
                        src + off * static_cast<int64_t>(elem), elem);
            for (size_t d = rank; d-- > 0;) {
                ++idx[d];
                off += stride[d] * in_stride[d];
                if (idx[d] < size[d]) break;
                off -= stride[d] * in_stride[d] * idx[d];
                idx[d] = 0;
            }
        }
    }
};

void setInputStrides(StridedBox& box, const std::vector<int32_t>& shape) {
    box.in_stride.assign(shape.size(), 1);
    for (size_t d = shape.size(); d-- > 1;) box.in_stride[d - 1] = box.in_stride[d] * shape[d];
}

// tensorflow/lite/kernels/slice.cc: size -1 means "to the end".
class SliceKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* input = ctx.input(0);
        if (!input || ctx.numOutputs() < 1) return ctx.fail("needs an input");
        auto begin = shapeOperand(ctx, 1, "begin");
        if (!begin) return std::unexpected(begin.error());
        auto size = shapeOperand(ctx, 2, "size");
        if (!size) return std::unexpected(size.error());
        const int rank = input->rank();
        if (static_cast<int>(begin->size()) != rank || static_cast<int>(size->size()) != rank)
            return ctx.fail("begin and size must have one value per input dimension");
        TensorInfo& output = ctx.output(0);
        output.shape.clear();
        m_box = {};
        for (int d = 0; d < rank; ++d) {
            const int64_t b = (*begin)[static_cast<size_t>(d)];
            int64_t s = (*size)[static_cast<size_t>(d)];
            if (s == -1) s = input->dim(d) - b;
            if (b < 0 || s < 0 || b + s > input->dim(d))
                return ctx.fail(strFormat("slice [{}, +{}) is outside dimension {} of size {}", b,
                                          s, d, input->dim(d)));
            m_box.begin.push_back(b);
            m_box.stride.push_back(1);
            m_box.size.push_back(s);
            output.shape.push_back(static_cast<int32_t>(s));
        }
        setInputStrides(m_box, input->shape);
        m_box.elem = dtypeSize(input->dtype);
        if (m_box.elem == 0 || output.dtype != input->dtype) return ctx.fail("unsupported type");
        return {};
    }
    void eval(EvalContext& ctx) override {
        m_box.copy(bytesOf(ctx.input(0)), bytesOf(ctx.output(0)));
    }

private:
    StridedBox m_box;
};

// tensorflow/lite/kernels/strided_slice.cc with internal/strided_slice_logic.h
// (StartForAxis / StopForAxis): masks select the full range, negative indices count from
// the end, starts and stops clamp to [0, n] (stride > 0) or [-1, n - 1] (stride < 0), a
// shrink axis takes exactly one element and drops the dimension, `offset` makes end
// relative to begin. ellipsis_mask and new_axis_mask are first expanded into an
// "effective" input shape and per-dimension begin/end/stride/masks exactly as
// BuildStridedSliceParams does: the ellipsis covers as many full-range dimensions as the
// spec leaves unmentioned (a new axis at the ellipsis position has no effect), every other
// new axis inserts a dimension of size 1 sliced [0, 1), and dimensions past the spec are
// full range.
class StridedSliceKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* input = ctx.input(0);
        if (!input || ctx.numOutputs() < 1) return ctx.fail("needs an input");
        model::StridedSliceOptions opt;
        if (const auto* o = ctx.options<model::StridedSliceOptions>()) opt = *o;
        auto begin = shapeOperand(ctx, 1, "begin");
        if (!begin) return std::unexpected(begin.error());
        auto end = shapeOperand(ctx, 2, "end");
        if (!end) return std::unexpected(end.error());
        auto strides = shapeOperand(ctx, 3, "strides");
        if (!strides) return std::unexpected(strides.error());
        const int rank = input->rank();
        const int k = static_cast<int>(begin->size());
        if (static_cast<int>(end->size()) != k || static_cast<int>(strides->size()) != k)
            return ctx.fail("begin, end and strides must have the same length");
        if (k > 31) return ctx.fail("at most 31 slice dimensions");
        auto bit = [](int32_t mask, int i) { return i >= 0 && i < 32 && ((mask >> i) & 1) != 0; };

        // BuildStridedSliceParams: new axes outside the ellipsis add dimensions.
        int num_add_axis = 0;
        for (int i = 0; i < k; ++i)
            if (!bit(opt.ellipsis_mask, i) && bit(opt.new_axis_mask, i)) ++num_add_axis;
        const int effective_dims = rank + num_add_axis;
        if (effective_dims > 31) return ctx.fail("too many dimensions");
        int32_t effective_ellipsis_mask = 0, effective_new_axis_mask = 0;
        int ellipsis_start_idx = effective_dims, expanded_ellipsis = 0;
        for (int i = 0; i < effective_dims;) {
            if (bit(opt.ellipsis_mask, i)) {
                ellipsis_start_idx = i;
                const int ellipsis_end_idx =
                    std::max(i + 1, std::min(i + 1 + num_add_axis + rank - k, effective_dims));
                expanded_ellipsis = ellipsis_end_idx - ellipsis_start_idx - 1;
                for (; i < ellipsis_end_idx; ++i) effective_ellipsis_mask |= 1 << i;
                continue;
            }
            if (bit(opt.new_axis_mask, i - expanded_ellipsis)) effective_new_axis_mask |= 1 << i;
            ++i;
        }
        struct Dim {
            int64_t n = 1, begin = 0, end = 0, stride = 1;
            bool begin_masked = false, end_masked = false, shrink = false;
        };
        std::vector<Dim> dims(static_cast<size_t>(effective_dims));
        int added_ellipsis = 0, added_axes = 0;
        bool spec_ok = true;
        auto inputDim = [&](int j) -> int64_t {
            if (j < 0 || j >= rank) {
                spec_ok = false;
                return 1;
            }
            return input->dim(j);
        };
        for (int i = 0; i < effective_dims; ++i) {
            Dim& d = dims[static_cast<size_t>(i)];
            if (bit(effective_ellipsis_mask, i)) {
                added_ellipsis = std::max(0, i - ellipsis_start_idx);
                d.begin_masked = d.end_masked = true;
                d.n = inputDim(i - added_axes);
            } else if (bit(effective_new_axis_mask, i)) {
                d.end = 1;
                ++added_axes;
            } else if (i >= k + expanded_ellipsis) {
                d.begin_masked = d.end_masked = true;
                d.n = inputDim(i - added_axes);
            } else {
                const int orig = i - added_ellipsis;
                if (orig < 0 || orig >= k) spec_ok = false;
                if (!spec_ok) break;
                d.begin = (*begin)[static_cast<size_t>(orig)];
                d.end = (*end)[static_cast<size_t>(orig)];
                d.stride = (*strides)[static_cast<size_t>(orig)];
                d.begin_masked = bit(opt.begin_mask, orig);
                d.end_masked = bit(opt.end_mask, orig);
                d.shrink = bit(opt.shrink_axis_mask, orig);
                d.n = inputDim(i - added_axes);
            }
        }
        if (!spec_ok || added_axes + rank != effective_dims)
            return ctx.fail("slice spec does not match the input rank");

        TensorInfo& output = ctx.output(0);
        output.shape.clear();
        m_box = {};
        std::vector<int32_t> effective_shape;
        for (int i = 0; i < effective_dims; ++i) {
            const Dim& d = dims[static_cast<size_t>(i)];
            const int64_t n = d.n;
            int64_t start = 0, stop = n, stride = d.stride;
            const bool shrink = d.shrink;
            if (stride == 0) return ctx.fail("stride 0");
            const int64_t lo = stride > 0 ? 0 : -1, hi = stride > 0 ? n : n - 1;
            if (d.begin_masked && !shrink) {
                start = stride > 0 ? 0 : n - 1;
            } else {
                start = d.begin;
                if (start < 0) start += n;
                start = std::clamp(start, lo, hi);
            }
            if (shrink) {
                stop = start + 1;
                stride = 1;
                if (start < 0 || start >= n)
                    return ctx.fail(strFormat("shrink index out of range in dimension {}", i));
            } else if (d.end_masked) {
                stop = stride > 0 ? n : -1;
            } else {
                stop = d.end;
                if (opt.offset)
                    stop += start;
                else if (stop < 0)
                    stop += n;
                stop = std::clamp(stop, lo, hi);
            }
            int64_t size = stride > 0 ? (stop - start + stride - 1) / stride
                                      : (start - stop + (-stride) - 1) / (-stride);
            size = std::max<int64_t>(size, 0);
            m_box.begin.push_back(size ? start : 0);
            m_box.stride.push_back(stride);
            m_box.size.push_back(size);
            effective_shape.push_back(static_cast<int32_t>(n));
            if (!shrink) output.shape.push_back(static_cast<int32_t>(size));
        }
        // Inserted size-1 dimensions leave the row-major layout of the input unchanged.
        setInputStrides(m_box, effective_shape);
        m_box.elem = dtypeSize(input->dtype);
        if (m_box.elem == 0 || output.dtype != input->dtype) return ctx.fail("unsupported type");
        return {};
    }
    void eval(EvalContext& ctx) override {
        m_box.copy(bytesOf(ctx.input(0)), bytesOf(ctx.output(0)));
    }

private:
    StridedBox m_box;
};

// ---- EXPAND_DIMS / FILL ------------------------------------------------------------------

class ExpandDimsKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* input = ctx.input(0);
        if (!input || ctx.numOutputs() < 1) return ctx.fail("needs an input");
        auto axis = shapeOperand(ctx, 1, "axis");
        if (!axis) return std::unexpected(axis.error());
        if (axis->size() != 1) return ctx.fail("axis must have one element");
        const int a = resolveAxis((*axis)[0], input->rank() + 1);
        if (a < 0) return ctx.fail("axis out of range");
        TensorInfo& output = ctx.output(0);
        output.shape = input->shape;
        output.shape.insert(output.shape.begin() + a, 1);
        if (output.dtype != input->dtype) return ctx.fail("output type differs");
        return {};
    }
    void eval(EvalContext& ctx) override {
        const auto src = ctx.input(0).bytes();
        auto dst = ctx.output(0).bytes();
        if (!src.empty()) std::memcpy(dst.data(), src.data(), std::min(src.size(), dst.size()));
    }
};

// tensorflow/lite/kernels/fill.cc: output shape from `dims`, every element = value.
class FillKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        auto dims = shapeOperand(ctx, 0, "dims");
        if (!dims) return std::unexpected(dims.error());
        const TensorInfo* value = ctx.input(1);
        if (!value || value->numElements() != 1 || ctx.numOutputs() < 1)
            return ctx.fail("value must be a scalar");
        TensorInfo& output = ctx.output(0);
        if (output.dtype != value->dtype) return ctx.fail("output type differs from value");
        output.shape.clear();
        for (auto d : *dims) {
            if (d < 0) return ctx.fail("negative dimension");
            output.shape.push_back(static_cast<int32_t>(d));
        }
        m_elem = dtypeSize(value->dtype);
        if (m_elem == 0) return ctx.fail("unsupported type");
        return {};
    }
    void eval(EvalContext& ctx) override {
        const uint8_t* v = bytesOf(ctx.input(1));
        auto dst = ctx.output(0).bytes();
        for (size_t i = 0; i + m_elem <= dst.size(); i += m_elem)
            std::memcpy(dst.data() + i, v, m_elem);
    }

private:
    size_t m_elem = 1;
};

// ---- GATHER / GATHER_ND ------------------------------------------------------------------

// tensorflow/lite/kernels/gather.cc + reference_ops::Gather with batch_dims. An index out of
// range makes TFLite's Gather return kTfLiteError in eval ("Gather index out of bounds"); the
// data cannot be validated at prepare, so eval stops the run (EvalContext::fail).
class GatherKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* params = ctx.input(0);
        const TensorInfo* indices = ctx.input(1);
        if (!params || !indices || ctx.numOutputs() < 1) return ctx.fail("needs params, indices");
        if (indices->dtype != DType::Int32 && indices->dtype != DType::Int64)
            return ctx.fail("indices must be int32 or int64");
        model::GatherOptions opt;
        if (const auto* o = ctx.options<model::GatherOptions>()) opt = *o;
        const int prank = params->rank(), irank = indices->rank();
        int batch_dims = opt.batch_dims < 0 ? opt.batch_dims + irank : opt.batch_dims;
        const int axis = resolveAxis(opt.axis, prank);
        if (axis < 0 || batch_dims < 0 || batch_dims > irank || batch_dims > axis)
            return ctx.fail("axis or batch_dims out of range");
        for (int d = 0; d < batch_dims; ++d)
            if (params->dim(d) != indices->dim(d))
                return ctx.fail("params and indices differ in a batch dimension");
        TensorInfo& output = ctx.output(0);
        if (output.dtype != params->dtype) return ctx.fail("output type differs from params");
        output.shape.assign(params->shape.begin(), params->shape.begin() + axis);
        output.shape.insert(output.shape.end(), indices->shape.begin() + batch_dims,
                            indices->shape.end());
        output.shape.insert(output.shape.end(), params->shape.begin() + axis + 1,
                            params->shape.end());
        m_elem = dtypeSize(params->dtype);
        if (m_elem == 0) return ctx.fail("unsupported type");
        m_batch = product(params->shape, 0, batch_dims);
        m_outer = product(params->shape, batch_dims, axis);
        m_axis_size = params->dim(axis);
        m_inner = product(params->shape, axis + 1, prank) * static_cast<int64_t>(m_elem);
        m_coords = product(indices->shape, batch_dims, irank);
        return {};
    }
    void eval(EvalContext& ctx) override {
        const uint8_t* src = bytesOf(ctx.input(0));
        const std::vector<int64_t> idx = readInts(ctx.input(1));
        uint8_t* dst = bytesOf(ctx.output(0));
        for (int64_t b = 0; b < m_batch; ++b)
            for (int64_t o = 0; o < m_outer; ++o)
                for (int64_t c = 0; c < m_coords; ++c) {
                    const int64_t i = idx[static_cast<size_t>(b * m_coords + c)];
                    uint8_t* d = dst + ((b * m_outer + o) * m_coords + c) * m_inner;
                    if (i < 0 || i >= m_axis_size) {
                        ctx.fail(
                            strFormat("GATHER index {} is out of range [0, {})", i, m_axis_size));
                        return;
                    }
                    std::memcpy(d, src + ((b * m_outer + o) * m_axis_size + i) * m_inner,
                                static_cast<size_t>(m_inner));
                }
    }

private:
    size_t m_elem = 1;
    int64_t m_batch = 1, m_outer = 1, m_axis_size = 0, m_inner = 0, m_coords = 0;
};

// reference_ops::GatherNd: the last indices dimension K addresses the first K params
// dimensions; each index tuple copies one slice of the remaining dimensions. An index out of
// range fails at eval as in TFLite (gather_nd.cc checks every index, "Invalid index").
class GatherNdKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* params = ctx.input(0);
        const TensorInfo* indices = ctx.input(1);
        if (!params || !indices || ctx.numOutputs() < 1) return ctx.fail("needs params, indices");
        if (indices->dtype != DType::Int32 && indices->dtype != DType::Int64)
            return ctx.fail("indices must be int32 or int64");
        if (indices->rank() < 1) return ctx.fail("indices must have rank >= 1");
        m_k = indices->dim(indices->rank() - 1);
        if (m_k > params->rank()) return ctx.fail("index depth exceeds the params rank");
        TensorInfo& output = ctx.output(0);
        if (output.dtype != params->dtype) return ctx.fail("output type differs from params");
        output.shape.assign(indices->shape.begin(), indices->shape.end() - 1);
        output.shape.insert(output.shape.end(), params->shape.begin() + m_k, params->shape.end());
        m_elem = dtypeSize(params->dtype);
        if (m_elem == 0) return ctx.fail("unsupported type");
        m_slice = product(params->shape, m_k, params->rank()) * static_cast<int64_t>(m_elem);
        m_dims.assign(params->shape.begin(), params->shape.begin() + m_k);
        m_tuples =
            m_k ? indices->numElements() / m_k : product(indices->shape, 0, indices->rank() - 1);
        return {};
    }
    void eval(EvalContext& ctx) override {
        const uint8_t* src = bytesOf(ctx.input(0));
        const std::vector<int64_t> idx = readInts(ctx.input(1));
        uint8_t* dst = bytesOf(ctx.output(0));
        for (int64_t t = 0; t < m_tuples; ++t) {
            int64_t off = 0;
            bool ok = true;
            for (int j = 0; j < m_k; ++j) {
                const int64_t i = idx[static_cast<size_t>(t * m_k + j)];
                const int64_t n = m_dims[static_cast<size_t>(j)];
                ok = ok && i >= 0 && i < n;
                off = off * n + i;
            }
            if (!ok) {
                ctx.fail(strFormat("GATHER_ND index tuple {} is out of range of params shape [{}]",
                                   t, shapeString(m_dims)));
                return;
            }
            std::memcpy(dst + t * m_slice, src + off * m_slice, static_cast<size_t>(m_slice));
        }
    }

private:
    int m_k = 0;
    size_t m_elem = 1;
    int64_t m_slice = 0, m_tuples = 0;
    std::vector<int32_t> m_dims;
};

// ---- MIRROR_PAD --------------------------------------------------------------------------

// tensorflow/lite/kernels/mirror_pad.cc: REFLECT mirrors without the edge element,
// SYMMETRIC with it.
class MirrorPadKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* input = ctx.input(0);
        if (!input || ctx.numOutputs() < 1) return ctx.fail("needs an input");
        auto pads = shapeOperand(ctx, 1, "paddings");
        if (!pads) return std::unexpected(pads.error());
        const int rank = input->rank();
        if (static_cast<int>(pads->size()) != 2 * rank)
            return ctx.fail("paddings must be [rank, 2]");
        const auto* o = ctx.options<model::MirrorPadOptions>();
        m_symmetric = o && o->mode == 1;
        TensorInfo& output = ctx.output(0);
        output.shape.clear();
        m_before.clear();
        m_in_shape = input->shape;
        for (int d = 0; d < rank; ++d) {
            const int64_t b = (*pads)[2 * static_cast<size_t>(d)];
            const int64_t a = (*pads)[2 * static_cast<size_t>(d) + 1];
            const int64_t limit = input->dim(d) - (m_symmetric ? 0 : 1);
            if (b < 0 || a < 0 || b > limit || a > limit)
                return ctx.fail(strFormat("padding of dimension {} exceeds what {} allows", d,
                                          m_symmetric ? "SYMMETRIC" : "REFLECT"));
            m_before.push_back(b);
            output.shape.push_back(static_cast<int32_t>(input->dim(d) + b + a));
        }
        m_elem = dtypeSize(input->dtype);
        if (m_elem == 0 || output.dtype != input->dtype) return ctx.fail("unsupported type");
        return {};
    }
    void eval(EvalContext& ctx) override {
        const uint8_t* src = bytesOf(ctx.input(0));
        TensorValue& out = ctx.output(0);
        uint8_t* dst = bytesOf(out);
        const size_t rank = m_in_shape.size();
        const auto& os = out.shape();
        const int64_t n = out.numElements();
        std::vector<int64_t> in_stride(rank, 1);
        for (size_t d = rank; d-- > 1;) in_stride[d - 1] = in_stride[d] * m_in_shape[d];
        std::vector<int64_t> idx(rank, 0);
        for (int64_t i = 0; i < n; ++i) {
            int64_t off = 0;
            for (size_t d = 0; d < rank; ++d) {
                const int64_t size = m_in_shape[d];
                int64_t p = idx[d] - m_before[d];
                if (p < 0) p = m_symmetric ? -p - 1 : -p;
                if (p >= size) p = m_symmetric ? 2 * size - 1 - p : 2 * size - 2 - p;
                off += p * in_stride[d];
            }
            std::memcpy(dst + i * static_cast<int64_t>(m_elem),
                        src + off * static_cast<int64_t>(m_elem), m_elem);
            for (size_t d = rank; d-- > 0;) {
                if (++idx[d] < os[d]) break;
                idx[d] = 0;
            }
        }
    }

private:
    bool m_symmetric = false;
    std::vector<int64_t> m_before;
    std::vector<int32_t> m_in_shape;
    size_t m_elem = 1;
};

// ---- SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND -----------------------------------------------

// Both take 3-D [b, h, c] or 4-D [b, h, w, c] inputs (TFLite space_to_batch_nd.cc /
// batch_to_space_nd.cc); 3-D is run as 4-D with w = 1 and a block width of 1.
struct BlockGeometry {
    Shape4 in, out;
    int32_t block_h = 1, block_w = 1;
    int32_t pad_top = 0, pad_left = 0;  // SPACE_TO_BATCH paddings / BATCH_TO_SPACE crops
};

Result<BlockGeometry> blockGeometry(const PrepareContext& ctx, const TensorInfo& input,
                                    const char* pads_name) {
    BlockGeometry g;
    if (input.rank() != 3 && input.rank() != 4) return ctx.fail("input must be 3-D or 4-D");
    auto block = shapeOperand(ctx, 1, "block_shape");
    if (!block) return std::unexpected(block.error());
    auto pads = shapeOperand(ctx, 2, pads_name);
    if (!pads) return std::unexpected(pads.error());
    const size_t spatial = static_cast<size_t>(input.rank() - 2);
    if (block->size() != spatial || pads->size() != 2 * spatial)
        return ctx.fail(strFormat("block_shape must have {} values and {} [{}, 2]", spatial,
                                  pads_name, spatial));
    for (auto b : *block)
        if (b < 1) return ctx.fail("block_shape values must be >= 1");
    for (auto p : *pads)
        if (p < 0) return ctx.fail(strFormat("{} must be >= 0", pads_name));
    g.in = input.rank() == 4 ? Shape4{input.dim(0), input.dim(1), input.dim(2), input.dim(3)}
                             : Shape4{input.dim(0), input.dim(1), 1, input.dim(2)};
    g.block_h = static_cast<int32_t>((*block)[0]);
    g.block_w = spatial == 2 ? static_cast<int32_t>((*block)[1]) : 1;
    g.pad_top = static_cast<int32_t>((*pads)[0]);
    g.pad_left = spatial == 2 ? static_cast<int32_t>((*pads)[2]) : 0;
    return g;
}

void setBlockOutputShape(TensorInfo& output, const TensorInfo& input, const Shape4& s) {
    if (input.rank() == 4)
        output.shape = {s.n, s.h, s.w, s.c};
    else
        output.shape = {s.n, s.h, s.c};
}

// reference_ops::SpaceToBatchND: output batch ob reads input batch ob % b at the spatial
// offset (ob / b) within the block; padded positions get the output zero point (0 for
// float).
class SpaceToBatchKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* input = ctx.input(0);
        if (!input || ctx.numOutputs() < 1) return ctx.fail("needs an input");
        auto g = blockGeometry(ctx, *input, "paddings");
        if (!g) return std::unexpected(g.error());
        m_g = *g;
        auto pads = readConstantInts(*ctx.input(2));
        const int64_t ph = m_g.in.h + (*pads)[0] + (*pads)[1];
        const int64_t pw = input->rank() == 4 ? m_g.in.w + (*pads)[2] + (*pads)[3] : 1;
        if (ph % m_g.block_h != 0 || pw % m_g.block_w != 0)
            return ctx.fail("padded spatial size is not a multiple of block_shape");
        m_g.out = {static_cast<int32_t>(m_g.in.n * m_g.block_h * m_g.block_w),
                   static_cast<int32_t>(ph / m_g.block_h), static_cast<int32_t>(pw / m_g.block_w),
                   m_g.in.c};
        TensorInfo& output = ctx.output(0);
        if (output.dtype != input->dtype || !sameQuantization(*input, output))
            return ctx.fail("output type or quantization differs from the input");
        setBlockOutputShape(output, *input, m_g.out);
        m_elem = dtypeSize(input->dtype);
        if (m_elem == 0) return ctx.fail("unsupported type");
        m_pad.assign(m_elem, 0);
        if (isQuantizedInt(output.dtype) && output.quant->isQuantized()) {
            const int32_t zp = output.zeroPoint();
            if (m_elem == 1)
                m_pad[0] = static_cast<uint8_t>(zp);
            else {
                const auto z = static_cast<int16_t>(zp);
                std::memcpy(m_pad.data(), &z, 2);
            }
        }
        return {};
    }
    void eval(EvalContext& ctx) override {
        const uint8_t* src = bytesOf(ctx.input(0));
        uint8_t* dst = bytesOf(ctx.output(0));
        const auto& g = m_g;
        const int64_t row = int64_t{g.out.c} * static_cast<int64_t>(m_elem);
        for (int32_t ob = 0; ob < g.out.n; ++ob) {
            const int32_t ib = ob % g.in.n;
            const int32_t shift = ob / g.in.n;
            const int32_t sh = shift / g.block_w, sw = shift % g.block_w;
            for (int32_t oy = 0; oy < g.out.h; ++oy)
                for (int32_t ox = 0; ox < g.out.w; ++ox) {
                    uint8_t* d = dst + g.out.offset(ob, oy, ox, 0) * static_cast<int64_t>(m_elem);
                    const int32_t iy = oy * g.block_h + sh - g.pad_top;
                    const int32_t ix = ox * g.block_w + sw - g.pad_left;
                    if (iy < 0 || iy >= g.in.h || ix < 0 || ix >= g.in.w) {
                        for (int64_t k = 0; k < row; k += static_cast<int64_t>(m_elem))
                            std::memcpy(d + k, m_pad.data(), m_elem);
                    } else {
                        std::memcpy(d,
                                    src + g.in.offset(ib, iy, ix, 0) * static_cast<int64_t>(m_elem),
                                    static_cast<size_t>(row));
                    }
                }
        }
    }

private:
    BlockGeometry m_g;
    size_t m_elem = 1;
    std::vector<uint8_t> m_pad;
};

// reference_ops::BatchToSpaceND: input batch ib lands in output batch ib % out_b at the
// block offset ib / out_b; cropped positions are dropped.
class BatchToSpaceKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* input = ctx.input(0);
        if (!input || ctx.numOutputs() < 1) return ctx.fail("needs an input");
        auto g = blockGeometry(ctx, *input, "crops");
        if (!g) return std::unexpected(g.error());
        m_g = *g;
        auto crops = readConstantInts(*ctx.input(2));
        const int32_t blocks = m_g.block_h * m_g.block_w;
        if (m_g.in.n % blocks != 0) return ctx.fail("batch is not a multiple of the block size");
        const int64_t oh = int64_t{m_g.in.h} * m_g.block_h - (*crops)[0] - (*crops)[1];
        const int64_t ow =
            input->rank() == 4 ? int64_t{m_g.in.w} * m_g.block_w - (*crops)[2] - (*crops)[3] : 1;
        if (oh < 0 || ow < 0) return ctx.fail("crops exceed the block-expanded size");
        m_g.out = {m_g.in.n / blocks, static_cast<int32_t>(oh), static_cast<int32_t>(ow), m_g.in.c};
        TensorInfo& output = ctx.output(0);
        if (output.dtype != input->dtype || !sameQuantization(*input, output))
            return ctx.fail("output type or quantization differs from the input");
        setBlockOutputShape(output, *input, m_g.out);
        m_elem = dtypeSize(input->dtype);
        if (m_elem == 0) return ctx.fail("unsupported type");
        return {};
    }
    void eval(EvalContext& ctx) override {
        const uint8_t* src = bytesOf(ctx.input(0));
        uint8_t* dst = bytesOf(ctx.output(0));
        const auto& g = m_g;
        const size_t row = static_cast<size_t>(g.in.c) * m_elem;
        for (int32_t ib = 0; ib < g.in.n; ++ib) {
            const int32_t ob = ib % g.out.n;
            const int32_t off = ib / g.out.n;
            const int32_t sh = off / g.block_w, sw = off % g.block_w;
            for (int32_t iy = 0; iy < g.in.h; ++iy) {
                const int32_t oy = iy * g.block_h + sh - g.pad_top;
                if (oy < 0 || oy >= g.out.h) continue;
                for (int32_t ix = 0; ix < g.in.w; ++ix) {
                    const int32_t ox = ix * g.block_w + sw - g.pad_left;
                    if (ox < 0 || ox >= g.out.w) continue;
                    std::memcpy(dst + g.out.offset(ob, oy, ox, 0) * static_cast<int64_t>(m_elem),
                                src + g.in.offset(ib, iy, ix, 0) * static_cast<int64_t>(m_elem),
                                row);
                }
            }
        }
    }

private:
    BlockGeometry m_g;
    size_t m_elem = 1;
};

// ---- SPACE_TO_DEPTH / DEPTH_TO_SPACE -----------------------------------------------------

// reference_ops::SpaceToDepth / DepthToSpace (NHWC, depth index = (by * bs + bx) * C + c).
template <bool ToDepth>
class BlockDepthKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const TensorInfo* input = ctx.input(0);
        const auto* o = ctx.options<model::BlockSizeOptions>();
        if (!input || !o || ctx.numOutputs() < 1) return ctx.fail("needs input and options");
        if (input->rank() != 4) return ctx.fail("input must be 4-D");
        m_bs = o->block_size;
        if (m_bs < 1) return ctx.fail("block_size must be >= 1");
        m_in = Shape4::fromShape(input->shape);
        if (ToDepth) {
            if (m_in.h % m_bs || m_in.w % m_bs)
                return ctx.fail("height and width must be multiples of block_size");
            m_out = {m_in.n, m_in.h / m_bs, m_in.w / m_bs, m_in.c * m_bs * m_bs};
        } else {
            if (m_in.c % (m_bs * m_bs)) return ctx.fail("depth must be a multiple of block_size^2");
            m_out = {m_in.n, m_in.h * m_bs, m_in.w * m_bs, m_in.c / (m_bs * m_bs)};
        }
        TensorInfo& output = ctx.output(0);
        if (output.dtype != input->dtype || !sameQuantization(*input, output))
            return ctx.fail("output type or quantization differs from the input");
        output.shape = {m_out.n, m_out.h, m_out.w, m_out.c};
        m_elem = dtypeSize(input->dtype);
        if (m_elem == 0) return ctx.fail("unsupported type");
        return {};
    }
    void eval(EvalContext& ctx) override {
        const uint8_t* src = bytesOf(ctx.input(0));
        uint8_t* dst = bytesOf(ctx.output(0));
        // Walk the space-side tensor; the depth-side tensor holds C_space per block offset.
        const Shape4& sp = ToDepth ? m_in : m_out;
        const Shape4& dp = ToDepth ? m_out : m_in;
        const size_t row = static_cast<size_t>(sp.c) * m_elem;
        for (int32_t b = 0; b < sp.n; ++b)
            for (int32_t y = 0; y < sp.h; ++y)
                for (int32_t x = 0; x < sp.w; ++x) {
                    const int32_t dc = ((y % m_bs) * m_bs + (x % m_bs)) * sp.c;
                    const int64_t s_off = sp.offset(b, y, x, 0) * static_cast<int64_t>(m_elem);
                    const int64_t d_off =
                        dp.offset(b, y / m_bs, x / m_bs, dc) * static_cast<int64_t>(m_elem);
                    if (ToDepth)
                        std::memcpy(dst + d_off, src + s_off, row);
                    else
                        std::memcpy(dst + s_off, src + d_off, row);
                }
    }

private:
    int32_t m_bs = 1;
    Shape4 m_in, m_out;
    size_t m_elem = 1;
};

}  // namespace
}  // namespace qs::engine::kernels

namespace qs::engine {
void registerKernels_data_movement(KernelRegistry& r) {
    using namespace kernels;
    using model::BuiltinOp;
    r.add(BuiltinOp::SHAPE, &makeKernel<ShapeKernel>);
    r.add(BuiltinOp::PACK, &makeKernel<PackKernel>);
    r.add(BuiltinOp::UNPACK, &makeKernel<UnpackKernel>);
    r.add(BuiltinOp::CONCATENATION, &makeKernel<ConcatenationKernel>);
    r.add(BuiltinOp::SPLIT, &makeKernel<SplitKernel<false>>);
    r.add(BuiltinOp::SPLIT_V, &makeKernel<SplitKernel<true>>);
    r.add(BuiltinOp::SLICE, &makeKernel<SliceKernel>);
    r.add(BuiltinOp::STRIDED_SLICE, &makeKernel<StridedSliceKernel>);
    r.add(BuiltinOp::EXPAND_DIMS, &makeKernel<ExpandDimsKernel>);
    r.add(BuiltinOp::FILL, &makeKernel<FillKernel>);
    r.add(BuiltinOp::GATHER, &makeKernel<GatherKernel>);
    r.add(BuiltinOp::GATHER_ND, &makeKernel<GatherNdKernel>);
    r.add(BuiltinOp::MIRROR_PAD, &makeKernel<MirrorPadKernel>);
    r.add(BuiltinOp::SPACE_TO_BATCH_ND, &makeKernel<SpaceToBatchKernel>);
    r.add(BuiltinOp::BATCH_TO_SPACE_ND, &makeKernel<BatchToSpaceKernel>);
    r.add(BuiltinOp::SPACE_TO_DEPTH, &makeKernel<BlockDepthKernel<true>>);
    r.add(BuiltinOp::DEPTH_TO_SPACE, &makeKernel<BlockDepthKernel<false>>);
}
}  // namespace qs::engine
