// Helpers shared by the element-wise, activation and data-movement kernel families:
// N-input NumPy broadcasting, constant integer inputs, 8-bit lookup tables, and prepare-time
// folding of small outputs (for shape arithmetic such as SHAPE -> STRIDED_SLICE -> PACK).
#pragma once

#include <array>
#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "engine/kernels/common.h"
#include "model/str_format.h"

namespace qs::engine::kernels {

// Output shape and per-input strides of an N-input broadcast (TFLite's
// CalculateShapeForBroadcast / NdArrayDescsForElementwiseBroadcast, any rank).
template <size_t N>
struct BroadcastDesc {
    std::vector<int32_t> out_shape;
    std::array<std::vector<int64_t>, N> strides;  // 0 where the input is broadcast
    bool same = true;                             // every input has the output shape
};

template <size_t N>
Result<BroadcastDesc<N>> broadcastShapes(const std::array<const std::vector<int32_t>*, N>& in) {
    BroadcastDesc<N> d;
    size_t rank = 0;
    for (const auto* s : in) rank = std::max(rank, s->size());
    std::array<std::vector<int32_t>, N> ext;
    for (size_t k = 0; k < N; ++k) {
        ext[k].assign(rank, 1);
        std::copy(in[k]->begin(), in[k]->end(),
                  ext[k].begin() + static_cast<std::ptrdiff_t>(rank - in[k]->size()));
    }
    d.out_shape.assign(rank, 1);
    for (size_t i = 0; i < rank; ++i) {
        int32_t dim = 1;
        for (size_t k = 0; k < N; ++k) {
            const int32_t e = ext[k][i];
            if (e == 1) continue;
            if (dim != 1 && e != dim) {
                std::string shapes;
                for (size_t j = 0; j < N; ++j)
                    shapes += (j ? " and [" : "[") + shapeString(*in[j]) + "]";
                return fail("shapes " + shapes + " do not broadcast");
            }
            dim = e;
        }
        // A zero-sized dimension stays zero (TFLite: 0 broadcasts against 1).
        for (size_t k = 0; k < N; ++k)
            if (ext[k][i] == 0) dim = 0;
        d.out_shape[i] = dim;
    }
    for (size_t k = 0; k < N; ++k) {
        d.same = d.same && *in[k] == d.out_shape;
        d.strides[k].assign(rank, 0);
        int64_t s = 1;
        for (size_t i = rank; i-- > 0;) {
            d.strides[k][i] = ext[k][i] == 1 ? 0 : s;
            s *= ext[k][i];
        }
    }
    return d;
}

// Calls f(out_index, std::array<int64_t, N> input_indices) in row-major output order.
template <size_t N, class F>
void forEachBroadcast(const BroadcastDesc<N>& d, F&& f) {
    const int64_t n = shapeElements(d.out_shape);
    std::array<int64_t, N> idx{};
    if (d.same) {
        for (int64_t i = 0; i < n; ++i) {
            idx.fill(i);
            f(i, idx);
        }
        return;
    }
    const size_t rank = d.out_shape.size();
    std::vector<int32_t> pos(rank, 0);
    for (int64_t i = 0; i < n; ++i) {
        f(i, idx);
        for (size_t r = rank; r-- > 0;) {
            ++pos[r];
            for (size_t k = 0; k < N; ++k) idx[k] += d.strides[k][r];
            if (pos[r] < d.out_shape[r]) break;
            for (size_t k = 0; k < N; ++k) idx[k] -= d.strides[k][r] * pos[r];
            pos[r] = 0;
        }
    }
}

// The values of a constant int32/int64 tensor (shape operands: axes, sizes, paddings).
inline Result<std::vector<int64_t>> readConstantInts(const TensorInfo& t) {
    if (!t.isConstant()) return fail("must be a constant (or computable at prepare) tensor");
    std::vector<int64_t> v;
    if (t.dtype == model::DType::Int32)
        for (int32_t x : t.constant->data<int32_t>()) v.push_back(x);
    else if (t.dtype == model::DType::Int64)
        for (int64_t x : t.constant->data<int64_t>()) v.push_back(x);
    else
        return fail(strFormat("must be int32 or int64, not {}", model::dtypeName(t.dtype)));
    return v;
}

// The same from a runtime value (eval of ops whose operand is not constant).
inline std::vector<int64_t> readInts(const TensorValue& v) {
    std::vector<int64_t> out;
    if (v.dtype() == model::DType::Int32)
        for (int32_t x : v.data<int32_t>()) out.push_back(x);
    else if (v.dtype() == model::DType::Int64)
        for (int64_t x : v.data<int64_t>()) out.push_back(x);
    return out;
}

// tensorflow/lite/kernels/internal/common.h LUTPopulateInt8 (TFLite builtin's 8-bit LUT
// kernels: LOGISTIC, TANH, ELU, ...): entry = clamp(round(f(in_scale * (q - in_zp)) /
// out_scale) + out_zp), all in float; TfLiteRound is round-half-away-from-zero. Indexed by
// q - min(T) here (upstream indexes by the uint8 bit pattern; same table, other order).
template <class T>
std::array<T, 256> populateLut8(float input_scale, int32_t input_zero_point, float output_scale,
                                int32_t output_zero_point, const std::function<float(float)>& f) {
    static_assert(sizeof(T) == 1);
    std::array<T, 256> lut{};
    const float inverse_scale = 1.0f / output_scale;
    constexpr int32_t lo = std::numeric_limits<T>::min(), hi = std::numeric_limits<T>::max();
    for (int32_t q = lo; q <= hi; ++q) {
        const float dequantized = input_scale * static_cast<float>(q - input_zero_point);
        const float transformed = f(dequantized);
        int32_t quantized = lo;
        if (std::isfinite(transformed)) {
            const float rescaled = std::round(transformed * inverse_scale);
            quantized = static_cast<int32_t>(rescaled + static_cast<float>(output_zero_point));
        } else if (transformed > 0) {
            quantized = hi;
        }
        lut[static_cast<size_t>(q - lo)] = static_cast<T>(std::clamp(quantized, lo, hi));
    }
    return lut;
}

template <class T>
inline T lookup8(const std::array<T, 256>& lut, T q) {
    return lut[static_cast<size_t>(static_cast<int32_t>(q) - std::numeric_limits<T>::min())];
}

// tensorflow/lite/kernels/internal/quantization_util.h CheckedLog2: log2 in float, true when
// within 1e-3 of an integer (so 2 / 65535 counts as 2^-15).
inline bool checkedLog2(float x, int& log2_result) {
    const float x_log2 = std::log(x) * (1.0f / std::log(2.0f));
    const float rounded = std::round(x_log2);
    log2_result = static_cast<int>(rounded);
    return std::fabs(x_log2 - rounded) < 1e-3f;
}

// tensorflow/lite/kernels/internal/common.h LUTPopulateInt16<float> (TFLite's int16 LUT
// kernels, e.g. elementwise.cc RSQRT and LOG): 512 segments over the input range, each
// anchor round(f(x) / s_out) moved by half the rounded error the linear interpolation makes
// at the segment's midpoint, plus a closing anchor at the input maximum. All float;
// TfLiteRound is round-half-away-from-zero.
using Lut16 = std::array<int16_t, 513>;
inline Lut16 populateLut16(float input_scale, int32_t input_zero_point, float output_scale,
                           int32_t output_zero_point, const std::function<float(float)>& f) {
    const float input_min = input_scale * static_cast<float>(-32768 - input_zero_point);
    const float input_max = input_scale * static_cast<float>(32767 - input_zero_point);
    const float output_min = output_scale * static_cast<float>(-32768 - output_zero_point);
    const float output_max = output_scale * static_cast<float>(32767 - output_zero_point);
    constexpr int kSteps = 512;
    const float step = (input_max - input_min) / kSteps;
    const float half_step = step / 2;
    const float output_scaling_inv = 65536.0f / (output_max - output_min);
    auto clampToTable = [](float v) {
        return static_cast<int16_t>(std::min(std::max(v, -32768.0f), 32767.0f));
    };
    Lut16 lut{};
    for (int i = 0; i < kSteps; ++i) {
        const float val = f(input_min + static_cast<float>(i) * step);
        const float val_midpoint = f(input_min + static_cast<float>(i) * step + half_step);
        const float val_next = f(input_min + static_cast<float>(i + 1) * step);
        const float sample_val = std::round(val * output_scaling_inv);
        const float midpoint_interp_val =
            std::round((val_next * output_scaling_inv + std::round(val * output_scaling_inv)) / 2);
        const float midpoint_val = std::round(val_midpoint * output_scaling_inv);
        const float bias = std::round((midpoint_interp_val - midpoint_val) / 2);
        lut[static_cast<size_t>(i)] = clampToTable(sample_val - bias);
    }
    lut[kSteps] = clampToTable(std::round(f(input_max) * output_scaling_inv));
    return lut;
}

// common.h LUTLookup (int16, via reference/integer_ops/lut.h LookupTable): the high 9 bits
// pick the segment, the low 7 interpolate; the slope and the sum are int16 as upstream.
inline int16_t lookup16(const Lut16& lut, int16_t value) {
    const auto index = static_cast<size_t>(256 + (value >> 7));
    const int32_t offset = value & 0x7f;
    const int16_t base = lut[index];
    const auto slope = static_cast<int16_t>(lut[index + 1] - lut[index]);
    const int32_t delta = (int32_t{slope} * offset + 64) >> 7;
    return static_cast<int16_t>(base + delta);
}

// gemmlowp fixedpoint.h logistic / tanh on int16 FixedPoint<int16_t, integer_bits> raw
// values (result Q0.15): portable_tensor_utils.cc PortableApplySigmoid (3 integer bits) and
// PortableApplyTanh use them in the integer LSTM, activations.cc's int16 LOGISTIC / TANH
// with a power-of-two input scale (optimized_ops) on F3. Defined in lstm.cpp.
int16_t gemmlowpLogistic16(int16_t raw, int integer_bits);
int16_t gemmlowpTanh16(int16_t raw, int integer_bits);

// tensorflow/lite/kernels/internal/common.h GetInvSqrtQuantizedMultiplierExp: 1/sqrt(input)
// as a Q0.31 multiplier and shift (Newton-Raphson in Q3.28), `reverse_shift` -1 for a right
// shift. Defined in normalization.cpp; L2_NORMALIZATION and RSQRT use it.
void invSqrtMultiplier(int32_t input, int reverse_shift, int32_t& output_inv_sqrt,
                       int& output_shift);

// Resolves a possibly negative axis against a rank; -1 when out of range.
inline int resolveAxis(int64_t axis, int rank) {
    const int64_t a = axis < 0 ? axis + rank : axis;
    return a < 0 || a >= rank ? -1 : static_cast<int>(a);
}

}  // namespace qs::engine::kernels
