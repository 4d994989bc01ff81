// Hybrid BATCH_MATMUL: float lhs x constant int8 rhs -> float, as TFLite's builtin kernel runs
// it (google-ai-edge/LiteRT tflite/kernels/batch_matmul.cc Eval + EvalHybrid and
// tflite/kernels/internal/reference/batch_matmul.h, the hybrid BatchMatMul overload):
//   - each lhs row (depth values) is quantized on its own, symmetric unless the op's
//     asymmetric_quantize_inputs is set (portable BatchQuantizeFloats, see hybrid.h);
//   - per-tensor weights: the row's scale is multiplied by the weight scale first (float);
//     per-channel weights: row scale * channel scale per output;
//   - acc = sum q * w in int32; `acc -= row_sum * offset` runs in float (offset is a float
//     there) and truncates back to int32; out = 0 + scale * float(acc).
// The kernel walks the batch dimensions with upstream's indexing, including two quirks we
// reproduce on purpose: the per-row scales/offsets and the weight row sums are offset by
// (b0 + b1 + b2) * rows rather than by the flat batch index (equal whenever at most one batch
// dimension exceeds 1), and row sums exist only for the matrices of the weights' last two
// batch dimensions.
#include <algorithm>
#include <array>

#include "engine/kernels/hybrid.h"
#include "model/str_format.h"

namespace qs::engine::kernels {

namespace {

using model::DType;

// batch_matmul.h batch_matmul::extent: the element stride of dimension x of a 5-D shape, or
// 0 when that dimension is 1 (broadcast).
int64_t extent(const std::array<int32_t, 5>& s, int x) {
    if (s[static_cast<size_t>(x)] == 1) return 0;
    int64_t prod = 1;
    for (size_t i = static_cast<size_t>(x) + 1; i < 5; ++i) prod *= s[i];
    return prod;
}

std::array<int32_t, 5> extend5(const std::vector<int32_t>& shape) {
    std::array<int32_t, 5> e{1, 1, 1, 1, 1};
    std::copy(shape.begin(), shape.end(), e.begin() + (5 - static_cast<long>(shape.size())));
    return e;
}

class HybridBatchMatMulKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const auto* o = ctx.options<model::BatchMatMulOptions>();
        const TensorInfo* lhs = ctx.input(0);
        const TensorInfo* rhs = ctx.input(1);
        if (!lhs || !rhs || ctx.numOutputs() < 1) return ctx.fail("needs two inputs");
        const bool adj_x = o && o->adj_x, adj_y = o && o->adj_y;
        m_asymmetric = o && o->asymmetric_quantize_inputs;
        if (lhs->dtype != DType::Float32 || rhs->dtype != DType::Int8 || !rhs->isConstant())
            return ctx.fail("hybrid batch matmul needs a float lhs and a constant int8 rhs");
        const int lr = lhs->rank(), rr = rhs->rank();
        if (lr < 2 || lr > 5 || rr < 2 || rr > 5) return ctx.fail("operands must have rank 2 to 5");
        TensorInfo& output = ctx.output(0);
        if (output.dtype != DType::Float32) return ctx.fail("hybrid output must be float32");

        // Output shape and broadcasting checks (batch_matmul.cc Prepare / ResizeOutputTensor).
        const int out_rank = std::max(lr, rr);
        auto extendTo = [&](const std::vector<int32_t>& s) {
            std::vector<int32_t> e(static_cast<size_t>(out_rank) - s.size(), 1);
            e.insert(e.end(), s.begin(), s.end());
            return e;
        };
        const auto le = extendTo(lhs->shape), re = extendTo(rhs->shape);
        for (int i = 0; i < out_rank - 2; ++i)
            if (le[i] != re[i] && le[i] != 1 && re[i] != 1)
                return ctx.fail(
                    strFormat("batch dimension {} cannot broadcast ({} vs {})", i, le[i], re[i]));
        const int32_t depth_l = adj_x ? le[out_rank - 2] : le[out_rank - 1];
        const int32_t depth_r = adj_y ? re[out_rank - 1] : re[out_rank - 2];
        if (depth_l != depth_r)
            return ctx.fail(strFormat("inner dimensions differ ({} vs {})", depth_l, depth_r));
        output.shape.assign(static_cast<size_t>(out_rank), 0);
        for (int i = 0; i < out_rank - 2; ++i)
            output.shape[static_cast<size_t>(i)] = le[i] != re[i] && le[i] == 1 ? re[i] : le[i];
        output.shape[static_cast<size_t>(out_rank - 2)] =
            adj_x ? le[out_rank - 1] : le[out_rank - 2];
        output.shape[static_cast<size_t>(out_rank - 1)] =
            adj_y ? re[out_rank - 2] : re[out_rank - 1];

        // batch_matmul.cc Eval: a rhs [..., 1, X, Y] with a lhs [..., Q, R, S] (no adj_x) is
        // run as rhs [..., X, Y] x lhs [..., Q * R, S]. It changes the batch walk below.
        std::vector<int32_t> ls = lhs->shape, rs = rhs->shape;
        if (!adj_x && rr > 2 && lr > 2 && rs[static_cast<size_t>(rr - 3)] == 1) {
            ls[static_cast<size_t>(lr - 3)] *= ls[static_cast<size_t>(lr - 2)];
            ls.erase(ls.begin() + (lr - 2));
            rs.erase(rs.begin() + (rr - 3));
        }
        // The kernel's operands: weights as [..., cols, depth] (rhs transposed unless adj_y),
        // input as [..., depth, rows] whose data is [..., rows, depth] (lhs transposed when
        // adj_x): each input row is contiguous.
        auto swapLast = [](std::vector<int32_t> s) {
            std::swap(s[s.size() - 1], s[s.size() - 2]);
            return s;
        };
        m_w5 = extend5(adj_y ? rs : swapLast(rs));
        m_i5 = extend5(adj_x ? ls : swapLast(ls));
        m_cols = m_w5[3];
        m_depth = m_w5[4];
        m_rows = m_i5[4];
        m_adj_x = adj_x;
        m_adj_y = adj_y;
        m_rhs_shape = rhs->shape;
        m_lhs_shape = lhs->shape;
        m_num_rows_to_quantize = m_rows;
        for (int i = 0; i < 3; ++i) m_num_rows_to_quantize *= m_i5[static_cast<size_t>(i)];

        // Weight scales: per channel (one per output column) or one per tensor.
        const auto& q = *rhs->quant;
        if (!q.isQuantized()) return ctx.fail("hybrid weights have no quantization scale");
        for (size_t i = 0; i < q.scales.size(); ++i)
            if (q.zeroPoint(i) != 0) return ctx.fail("hybrid weights must be symmetric");
        m_per_channel.clear();
        m_filter_scale = q.scales[0];
        if (q.scales.size() > 1) {
            // GetTempRhs swaps the quantized dimension with the transpose; EvalHybrid then
            // needs one scale per entry of that dimension, i.e. per output column.
            const int cols_dim = adj_y ? rr - 2 : rr - 1;
            if (q.quantized_dimension != cols_dim ||
                static_cast<int32_t>(q.scales.size()) != m_cols)
                return ctx.fail(
                    strFormat("per-channel weights need one scale per output column "
                              "({}), got {} on dimension {}",
                              m_cols, q.scales.size(), q.quantized_dimension));
            m_per_channel = q.scales;
        }

        // Row sums of the (transposed) weights, as ReductionSumVector fills them: only the
        // matrices of dimensions 1 and 2 of the 5-D weights.
        m_weights = transposedWeights(in<int8_t>(*rhs->constant));
        const int64_t matrices = int64_t{m_w5[1]} * m_w5[2];
        m_row_sums.assign(static_cast<size_t>(matrices * m_cols), 0);
        for (int64_t r = 0; r < matrices * m_cols; ++r)
            for (int32_t k = 0; k < m_depth; ++k)
                m_row_sums[static_cast<size_t>(r)] +=
                    m_weights[static_cast<size_t>(r * m_depth + k)];
        if (m_asymmetric) {
            // The quirky row-sum offset must stay inside what upstream computed; past it
            // TFLite reads memory it never wrote.
            int64_t max_matrix = 0;
            for (int i = 0; i < 3; ++i)
                if (m_w5[static_cast<size_t>(i)] > 1)
                    max_matrix += m_w5[static_cast<size_t>(i)] - 1;
            if (max_matrix >= matrices)
                return ctx.fail(
                    "asymmetric hybrid batch matmul with these rank-5 weights reads row sums "
                    "TFLite never computes");
        }
        return {};
    }

    void eval(EvalContext& ctx) override {
        const float* x = in<float>(ctx.input(0));
        float* o = out<float>(ctx.output(0));
        // The kernel reads input rows contiguously: adj_x inputs are transposed first.
        const float* rows = x;
        if (m_adj_x) {
            transposeLastTwo(x, m_lhs_shape, m_lhs_t);
            rows = m_lhs_t.data();
        }
        const int64_t n = m_num_rows_to_quantize;
        m_q.resize(static_cast<size_t>(n * m_depth));
        m_scales.resize(static_cast<size_t>(n));
        m_offsets.assign(static_cast<size_t>(n), 0);
        for (int64_t b = 0; b < n; ++b) {
            std::span<const float> row(rows + b * m_depth, static_cast<size_t>(m_depth));
            int8_t* dst = m_q.data() + b * m_depth;
            if (m_asymmetric) {
                const auto a = asymmetricQuantizeFloats(row, dst);
                m_scales[static_cast<size_t>(b)] = a.scale;
                m_offsets[static_cast<size_t>(b)] = a.zero_point;
            } else {
                m_scales[static_cast<size_t>(b)] = symmetricQuantizeFloats(row, dst);
            }
            if (m_per_channel.empty()) m_scales[static_cast<size_t>(b)] *= m_filter_scale;
        }
        const auto& w5 = m_w5;
        const auto& i5 = m_i5;
        const std::array<int32_t, 3> bd{std::max(w5[0], i5[0]), std::max(w5[1], i5[1]),
                                        std::max(w5[2], i5[2])};
        std::array<int64_t, 3> w_ext{}, i_ext{}, ioff{}, woff{};
        for (int d = 0; d < 3; ++d) {
            const auto u = static_cast<size_t>(d);
            w_ext[u] = extent(w5, d);
            i_ext[u] = extent(i5, d);
            ioff[u] = i_ext[u] == 0 ? 0 : m_rows;
            woff[u] = w_ext[u] == 0 ? 0 : m_cols;
        }
        for (int32_t b0 = 0; b0 < bd[0]; ++b0)
            for (int32_t b1 = 0; b1 < bd[1]; ++b1)
                for (int32_t b2 = 0; b2 < bd[2]; ++b2) {
                    const int8_t* wp =
                        m_weights.data() + b0 * w_ext[0] + b1 * w_ext[1] + b2 * w_ext[2];
                    const int8_t* qp = m_q.data() + b0 * i_ext[0] + b1 * i_ext[1] + b2 * i_ext[2];
                    const int64_t s_off = b0 * ioff[0] + b1 * ioff[1] + b2 * ioff[2];
                    const int64_t r_off = b0 * woff[0] + b1 * woff[1] + b2 * woff[2];
                    float* op = o + ((int64_t{b0} * bd[1] + b1) * bd[2] + b2) * m_rows * m_cols;
                    for (int32_t j = 0; j < m_rows; ++j) {
                        const float row_scale = m_scales[static_cast<size_t>(s_off + j)];
                        const auto offset =
                            static_cast<float>(m_offsets[static_cast<size_t>(s_off + j)]);
                        const int8_t* qr = qp + int64_t{j} * m_depth;
                        for (int32_t i = 0; i < m_cols; ++i) {
                            const int8_t* wr = wp + int64_t{i} * m_depth;
                            // |w| <= 127, |q| <= 128: exact in int32 for depth < 2^17.
                            int32_t total = 0;
                            for (int32_t k = 0; k < m_depth; ++k)
                                total += int32_t{wr[k]} * int32_t{qr[k]};
                            const int32_t row_sum = m_row_sums[static_cast<size_t>(r_off + i)];
                            // `total -= row_sum * batch_offset` with a float offset: the
                            // difference is formed in float and truncated back.
                            total = static_cast<int32_t>(static_cast<float>(total) -
                                                         static_cast<float>(row_sum) * offset);
                            float scale = row_scale;
                            if (!m_per_channel.empty())
                                scale *= m_per_channel[static_cast<size_t>(i)];
                            op[int64_t{j} * m_cols + i] = 0.0f + scale * static_cast<float>(total);
                        }
                    }
                }
    }

private:
    // The rhs as the kernel reads it: [..., cols, depth].
    std::vector<int8_t> transposedWeights(const int8_t* w) const {
        const size_t n = static_cast<size_t>(shapeElements(m_rhs_shape));
        if (m_adj_y) return {w, w + n};
        std::vector<int8_t> t;
        transposeLastTwo(w, m_rhs_shape, t);
        return t;
    }

    template <class T>
    static void transposeLastTwo(const T* src, const std::vector<int32_t>& shape,
                                 std::vector<T>& dst) {
        const int32_t r = shape[shape.size() - 2], c = shape[shape.size() - 1];
        const int64_t mat = int64_t{r} * c;
        const int64_t count = shapeElements(shape) / std::max<int64_t>(mat, 1);
        dst.resize(static_cast<size_t>(shapeElements(shape)));
        for (int64_t m = 0; m < count; ++m)
            for (int32_t i = 0; i < r; ++i)
                for (int32_t j = 0; j < c; ++j)
                    dst[static_cast<size_t>(m * mat + int64_t{j} * r + i)] =
                        src[m * mat + int64_t{i} * c + j];
    }

    bool m_asymmetric = false, m_adj_x = false, m_adj_y = false;
    std::array<int32_t, 5> m_w5{}, m_i5{};
    int32_t m_rows = 0, m_cols = 0, m_depth = 0;
    int64_t m_num_rows_to_quantize = 0;
    std::vector<int32_t> m_rhs_shape, m_lhs_shape;
    float m_filter_scale = 1.0f;
    std::vector<float> m_per_channel;
    std::vector<int8_t> m_weights;
    std::vector<int32_t> m_row_sums;
    std::vector<float> m_lhs_t;
    std::vector<int8_t> m_q;
    std::vector<float> m_scales;
    std::vector<int32_t> m_offsets;
};

}  // namespace

std::unique_ptr<Kernel> makeHybridBatchMatMul() {
    return std::make_unique<HybridBatchMatMulKernel>();
}

}  // namespace qs::engine::kernels
