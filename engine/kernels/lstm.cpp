// UNIDIRECTIONAL_SEQUENCE_LSTM kernels (see lstm.h). The float step keeps lstm_eval.cc's
// order of operations per gate: start from the bias (0 with layer norm), add each weight
// matrix's dot product (each summed on its own first, as portable
// MatrixBatchVectorMultiplyAccumulate does), then the peephole term, layer norm, activation.
#include "engine/kernels/lstm.h"

#include <algorithm>
#include <cmath>

#include "engine/kernels/ops_util.h"
#include "model/str_format.h"

namespace qs::engine::kernels {

namespace {

using model::Activation;

// portable_tensor_utils.cc PortableMatrixBatchVectorMultiplyAccumulate (one batch row).
void matVecAccumulate(const float* m, int32_t rows, int32_t cols, const float* v, float* result) {
    for (int32_t r = 0; r < rows; ++r) {
        const float* row = m + int64_t{r} * cols;
        float dot = 0.0f;
        for (int32_t c = 0; c < cols; ++c) dot += row[c] * v[c];
        result[r] += dot;
    }
}

// tensor_utils::ApplyActivationToVector. LSTM uses it with the op's fused activation for the
// cell gate and the cell output; sigmoid for the other gates.
float activate(Activation a, float x) {
    switch (a) {
        case Activation::None:
            return x;
        case Activation::Relu:
            return std::max(0.0f, x);
        case Activation::ReluN1To1:
            return std::clamp(x, -1.0f, 1.0f);
        case Activation::Relu6:
            return std::clamp(x, 0.0f, 6.0f);
        case Activation::Tanh:
            return std::tanh(x);
        case Activation::SignBit:
            return std::signbit(x) ? 1.0f : 0.0f;
    }
    return x;
}

float sigmoid(float x) {
    return 1.0f / (1.0f + std::exp(-x));
}

// portable_tensor_utils.cc PortableMeanStddevNormalization: two passes (mean, then the mean
// squared difference), 1 / sqrt(variance + 1e-8).
void meanStddevNormalize(float* v, int32_t n) {
    float sum = 0.0f;
    for (int32_t i = 0; i < n; ++i) sum += v[i];
    const float mean = sum / static_cast<float>(n);
    float sum_diff_sq = 0.0f;
    for (int32_t i = 0; i < n; ++i) {
        const float d = v[i] - mean;
        sum_diff_sq += d * d;
    }
    const float variance = sum_diff_sq / static_cast<float>(n);
    const float stddev_inv = 1.0f / std::sqrt(variance + 1e-8f);
    for (int32_t i = 0; i < n; ++i) v[i] = (v[i] - mean) * stddev_inv;
}

// lstm_eval.cc CalculateLstmGateFloat for one batch row (no auxiliary input: the
// unidirectional op has none).
void gateFloat(const LstmParams& p, const LstmShape& s, const float* x, const float* w_in,
               const float* h, const float* w_rec, const float* c, const float* w_peep,
               const float* ln, const float* bias, bool sigmoid_gate, float* gate) {
    if (ln)
        std::fill_n(gate, s.n_cell, 0.0f);
    else
        std::copy_n(bias, s.n_cell, gate);
    matVecAccumulate(w_in, s.n_cell, s.n_input, x, gate);
    if (p.diagonal_recurrent_tensors) {
        for (int32_t i = 0; i < s.n_cell; ++i) gate[i] += w_rec[i] * h[i];
    } else {
        matVecAccumulate(w_rec, s.n_cell, s.n_output, h, gate);
    }
    if (w_peep)
        for (int32_t i = 0; i < s.n_cell; ++i) gate[i] += w_peep[i] * c[i];
    if (ln) {
        meanStddevNormalize(gate, s.n_cell);
        for (int32_t i = 0; i < s.n_cell; ++i) gate[i] = gate[i] * ln[i] + bias[i];
    }
    for (int32_t i = 0; i < s.n_cell; ++i)
        gate[i] = sigmoid_gate ? sigmoid(gate[i]) : activate(p.activation, gate[i]);
}

// lstm_eval.cc LstmStepFloat for one batch row: h and c are updated in place, the new h is
// also written to `out`.
void stepFloat(const LstmParams& p, const LstmShape& s, const LstmFloatWeights& w, const float* x,
               float* h, float* c, float* out, float* scratch) {
    const int32_t n = s.n_cell;
    float* input_gate = scratch;
    float* forget_gate = scratch + n;
    float* cell_gate = scratch + 2 * int64_t{n};
    float* output_gate = scratch + 3 * int64_t{n};
    const bool cifg = w.input_to_input == nullptr;
    if (!cifg)
        gateFloat(p, s, x, w.input_to_input, h, w.recurrent_to_input, c, w.cell_to_input,
                  w.input_layer_norm, w.input_gate_bias, true, input_gate);
    gateFloat(p, s, x, w.input_to_forget, h, w.recurrent_to_forget, c, w.cell_to_forget,
              w.forget_layer_norm, w.forget_gate_bias, true, forget_gate);
    gateFloat(p, s, x, w.input_to_cell, h, w.recurrent_to_cell, c, nullptr, w.cell_layer_norm,
              w.cell_gate_bias, false, cell_gate);
    // UpdateLstmCellFloat: c = c * f, then += g * i (CIFG: i = 1 - f), then the clip.
    for (int32_t i = 0; i < n; ++i) {
        c[i] = forget_gate[i] * c[i];
        const float in_gate = cifg ? 1.0f - forget_gate[i] : input_gate[i];
        c[i] += cell_gate[i] * in_gate;
        if (p.cell_clip > 0.0f) c[i] = std::clamp(c[i], -p.cell_clip, p.cell_clip);
    }
    // The output gate's peephole sees the updated cell state (LstmStepFloat computes this
    // gate after UpdateLstmCellFloat).
    gateFloat(p, s, x, w.input_to_output, h, w.recurrent_to_output, c, w.cell_to_output,
              w.output_layer_norm, w.output_gate_bias, true, output_gate);
    // CalculateLstmOutputFloat: o * act(c), then the optional projection (bias first, one
    // dot product per output, clip).
    float* hidden = cell_gate;  // the cell gate is no longer needed
    for (int32_t i = 0; i < n; ++i) hidden[i] = output_gate[i] * activate(p.activation, c[i]);
    if (w.projection_weights) {
        if (w.projection_bias)
            std::copy_n(w.projection_bias, s.n_output, h);
        else
            std::fill_n(h, s.n_output, 0.0f);
        matVecAccumulate(w.projection_weights, s.n_output, n, hidden, h);
        if (p.proj_clip > 0.0f)
            for (int32_t i = 0; i < s.n_output; ++i)
                h[i] = std::clamp(h[i], -p.proj_clip, p.proj_clip);
    } else {
        std::copy_n(hidden, s.n_output, h);
    }
    std::copy_n(h, s.n_output, out);
}

}  // namespace

void lstmFloatReference(const LstmParams& p, const LstmShape& s, const LstmFloatWeights& w,
                        const float* input, float* output_state, float* cell_state, float* output,
                        float* scratch) {
    // unidirectional_sequence_lstm.cc: time-major input runs all batches per step; batch-major
    // input runs each batch's sequence on its own (n_batch = 1). Every operation is per batch
    // row, so both orders give the same numbers; only the indexing differs.
    for (int32_t b = 0; b < s.n_batch; ++b) {
        float* h = output_state + int64_t{b} * s.n_output;
        float* c = cell_state + int64_t{b} * s.n_cell;
        for (int32_t t = 0; t < s.max_time; ++t) {
            const int64_t row =
                p.time_major ? int64_t{t} * s.n_batch + b : int64_t{b} * s.max_time + t;
            stepFloat(p, s, w, input + row * s.n_input, h, c, output + row * s.n_output, scratch);
        }
    }
}

// ---- integer 8x8_16 LSTM ---------------------------------------------------------------------

namespace {

// gemmlowp fixedpoint.h on int16 raw values. Adds wrap like gemmlowp's int16 Add; products
// are SaturatingRoundingDoublingHighMul's int16 specialisation (ties away from zero).
int16_t wrap16(int32_t v) {
    return static_cast<int16_t>(static_cast<uint16_t>(static_cast<uint32_t>(v)));
}
int16_t mul16(int16_t a, int16_t b) {
    if (a == b && a == std::numeric_limits<int16_t>::min())
        return std::numeric_limits<int16_t>::max();
    const int32_t ab = int32_t{a} * int32_t{b};
    const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
    return static_cast<int16_t>((ab + nudge) / (1 << 15));
}
// SaturatingRoundingMultiplyByPOT: a left shift saturates to int16, a right shift rounds as
// RoundingDivideByPOT (whose int32 formula gives the same bits on a sign-extended int16).
int16_t mulPot16(int16_t x, int exponent) {
    if (exponent > 0)
        return static_cast<int16_t>(
            std::clamp<int32_t>(int32_t{x} * (1 << exponent), -32768, 32767));
    if (exponent < 0) return static_cast<int16_t>(rq::roundingDivideByPOT(x, -exponent));
    return x;
}
int16_t halfSum16(int16_t a, int16_t b) {
    const int32_t sum = int32_t{a} + int32_t{b};
    return static_cast<int16_t>((sum + (sum >= 0 ? 1 : -1)) / 2);
}

// The int16 constants are gemmlowp's int32 ones through RescaleConstantInitializer (a
// rounding shift right by 16): exp(-1/8) 28918, 1/3 10923, 48/17 23130, -32/17 -15420.
int16_t expOnIntervalNegQuarterTo0(int16_t a) {
    const int16_t x = wrap16(a + (1 << 12));  // a + 1/8 in Q0.15
    const int16_t x2 = mul16(x, x);
    const int16_t x3 = mul16(x2, x);
    const int16_t x4 = mul16(x2, x2);
    const int16_t x4_over_4 = mulPot16(x4, -2);
    const int16_t poly = mulPot16(wrap16(mul16(wrap16(x4_over_4 + x3), 10923) + x2), -1);
    return wrap16(28918 + mul16(28918, wrap16(x + poly)));
}

// exp_on_negative_values for a Q(bits).(15 - bits) input <= 0; the result is Q0.15.
int16_t expOnNegativeValues16(int16_t a, int bits) {
    const int frac = 15 - bits;
    const int16_t quarter = static_cast<int16_t>(1 << (frac - 2));
    const int16_t mask = static_cast<int16_t>(quarter - 1);
    const int16_t amq = wrap16((a & mask) - quarter);
    int16_t result = expOnIntervalNegQuarterTo0(mulPot16(amq, bits));
    const int16_t remainder = wrap16(amq - a);
    // exp(-2^e) for e = -2 .. 4, int16-rescaled.
    constexpr int16_t kMultipliers[] = {25520, 19875, 12055, 4435, 600, 11, 0};
    for (int e = -2; e <= 4; ++e)
        if (bits > e && (remainder & (1 << (frac + e))))
            result = mul16(result, kMultipliers[e + 2]);
    if (bits > 5 && a < -(1 << (frac + 5))) result = 0;  // below -32
    if (a == 0) result = std::numeric_limits<int16_t>::max();
    return result;
}

// one_over_one_plus_x_for_x_in_0_1 (minus_one = false) and
// one_minus_x_over_one_plus_x_for_x_in_0_1 (true): Newton-Raphson for 2 / (1 + a) in Q2.13.
int16_t newtonOnePlusX16(int16_t a, bool minus_one) {
    const int16_t half_denominator = halfSum16(a, std::numeric_limits<int16_t>::max());
    int16_t x = wrap16(23130 + mul16(half_denominator, -15420));
    for (int i = 0; i < 3; ++i) {
        const int16_t one_minus = wrap16((1 << 13) - mul16(half_denominator, x));
        x = wrap16(x + mulPot16(mul16(x, one_minus), 2));
    }
    // ExactMulByPot<-1> then Rescale<0> (a shift by 1), or Rescale<0>(x - 1) (a shift by 2).
    return minus_one ? mulPot16(wrap16(x - (1 << 13)), 2) : mulPot16(x, 1);
}

}  // namespace

int16_t gemmlowpLogistic16(int16_t raw, int integer_bits) {
    if (raw == 0) return 1 << 14;
    const int16_t neg_abs = raw > 0 ? wrap16(-int32_t{raw}) : raw;
    const int16_t r = newtonOnePlusX16(expOnNegativeValues16(neg_abs, integer_bits), false);
    // r = 1 / (1 + exp(-|x|)) is logistic(|x|); a negative input takes One() - r.
    return raw > 0 ? r : wrap16(std::numeric_limits<int16_t>::max() - r);
}

int16_t gemmlowpTanh16(int16_t raw, int integer_bits) {
    if (raw == 0) return 0;
    const int16_t n = raw < 0 ? raw : wrap16(-int32_t{raw});
    // ExactMulByPot<1>: the same raw value read with one more integer bit.
    const int16_t t = newtonOnePlusX16(expOnNegativeValues16(n, integer_bits + 1), true);
    return raw < 0 ? wrap16(-int32_t{t}) : t;
}

namespace {

// portable_tensor_utils.cc PortableMatrixBatchVectorMultiplyAccumulateImpl (one batch row):
// bias + dot in int32, rescale, add the output zero point and what the output holds,
// saturate to T (int16 for the gates, int8 for the projection). The rounding is the
// profile's MultiplyByQuantizedMultiplier.
template <RequantRule R, class T>
void matVecAccumulate(const int8_t* m, int32_t rows, int32_t cols, const int8_t* v,
                      const int32_t* bias, int32_t multiplier, int shift, int32_t output_zp,
                      T* out) {
    for (int32_t r = 0; r < rows; ++r) {
        const int8_t* row = m + int64_t{r} * cols;
        // |w * x| <= 128 * 128, so int32 holds 2^17 terms plus the bias.
        int32_t acc = bias[r];
        for (int32_t c = 0; c < cols; ++c) acc += int32_t{row[c]} * int32_t{v[c]};
        acc = requantize<R>(acc, multiplier, shift) + output_zp + out[r];
        out[r] = static_cast<T>(
            std::clamp<int32_t>(acc, std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
    }
}

int32_t wrapAdd32(int32_t a, int32_t b) {
    return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}
int32_t wrapMul32(int32_t a, int32_t b) {
    return static_cast<int32_t>(static_cast<uint32_t>(a) * static_cast<uint32_t>(b));
}

template <RequantRule R>
void layerNorm(int16_t* gate, const int16_t* coefficients, const int32_t* bias, int32_t scale_a,
               int scale_b, int32_t variance_guard, int32_t n) {
    // x1024 (2^10) keeps resolution after normalising; variances carry 2^20.
    constexpr int32_t kTwoToPower20 = 1 << 20;
    int64_t sum = 0, sum_sq = 0;
    for (int32_t j = 0; j < n; ++j) {
        const int32_t v = gate[j];
        sum += v;
        sum_sq += v * v;  // <= 2^30, so the int32 product cannot overflow
    }
    const auto mean = static_cast<int32_t>(sum * 1024 / n);
    // Upstream's own note: exact only for power-of-two n (the integer 2^20 / n).
    const int32_t temp = kTwoToPower20 / n;
    const int64_t variance = sum_sq * temp - int64_t{mean} * int64_t{mean};
    auto variance2 = static_cast<int32_t>(variance / kTwoToPower20);
    if (variance2 < 1) variance2 = variance_guard;
    int32_t inv_a = 0;
    int inv_b = 0;
    invSqrtMultiplier(variance2, -1, inv_a, inv_b);
    for (int32_t j = 0; j < n; ++j) {
        const int32_t shifted = 1024 * int32_t{gate[j]} - mean;  // |.| < 2^26
        const int32_t rescaled = requantize<R>(shifted, inv_a, inv_b);
        // `rescaled * layer_norm_weights[j] + bias[j]` is int32 arithmetic upstream (its
        // TODO: "Saturate this"); it wraps on x86, and so do we, before widening to int64.
        const int64_t val3 = wrapAdd32(wrapMul32(rescaled, coefficients[j]), bias[j]);
        const auto val4 = static_cast<int32_t>((val3 > 0 ? val3 + 512 : val3 - 512) / 1024);
        const int32_t val5 = requantize<R>(val4, scale_a, scale_b + 12);
        gate[j] = static_cast<int16_t>(std::clamp<int32_t>(val5, -32768, 32767));
    }
}

// Which cells of one batch row get the peephole term. lstm_eval.cc calls
// VectorBatchVectorCwiseProductAccumulate(cell_to_gate, n_output, cell_state, n_batch, ...)
// with v_size n_output, not n_cell: it walks the first n_batch * n_output elements of the
// [n_batch, n_cell] cell state and gate, weight index = flat index % n_output. With
// projection (n_output < n_cell) the last cells get no peephole, and when one call covers
// several batch rows (time-major input) the rows shift against the weights. Reproduced.
struct PeepholeSpan {
    int32_t flat_offset = 0;  // flat index of this row's first cell in the call
    int32_t count = 0;        // cells of this row inside the walked range
    int32_t v_size = 1;       // n_output
};

// lstm_eval.cc CalculateLstmGateInteger8x8_16: the gate starts at 0 (without layer norm the
// bias is folded into the input matmul's effective bias), then input and recurrent matmuls,
// the peephole (PortableVectorBatchVectorCwiseProductAccumulate: MBQM of the int16 product,
// saturating add), layer norm, and sigmoid (Q3.12 -> Q0.15) or tanh with 3 integer bits.
template <RequantRule R>
void gateInteger(const LstmShape& s, const LstmGateQuant& g, const int8_t* x, const int8_t* w_in,
                 const int8_t* h, const int8_t* w_rec, const int16_t* c, const int16_t* w_peep,
                 const PeepholeSpan& peep, const int16_t* ln, bool sigmoid_gate, int16_t* gate) {
    std::fill_n(gate, s.n_cell, int16_t{0});
    matVecAccumulate<R>(w_in, s.n_cell, s.n_input, x, g.input_effective_bias.data(),
                        g.effective_input_scale_a, g.effective_input_scale_b, 0, gate);
    matVecAccumulate<R>(w_rec, s.n_cell, s.n_output, h, g.recurrent_effective_bias.data(),
                        g.effective_recurrent_scale_a, g.effective_recurrent_scale_b, 0, gate);
    if (w_peep) {
        for (int32_t j = 0; j < peep.count; ++j) {
            const int16_t wv = w_peep[(peep.flat_offset + j) % peep.v_size];
            const int32_t prod = requantize<R>(int32_t{wv} * int32_t{c[j]},
                                               g.effective_cell_scale_a, g.effective_cell_scale_b);
            gate[j] = static_cast<int16_t>(std::clamp<int32_t>(prod + gate[j], -32768, 32767));
        }
    }
    if (ln)
        layerNorm<R>(gate, ln, g.layer_norm_bias.data(), g.layer_norm_scale_a, g.layer_norm_scale_b,
                     g.variance_guard, s.n_cell);
    for (int32_t i = 0; i < s.n_cell; ++i)
        gate[i] = sigmoid_gate ? gemmlowpLogistic16(gate[i], 3) : gemmlowpTanh16(gate[i], 3);
}

// PortableCwiseMul (shift version): RoundingDivideByPOT of the int32 product, cast to int16.
int16_t cwiseMulShift(int16_t a, int16_t b, int shift) {
    return static_cast<int16_t>(rq::roundingDivideByPOT(int32_t{a} * int32_t{b}, shift));
}

template <RequantRule R>
void stepInteger(const LstmShape& s, const LstmIntegerParams& q, const LstmIntegerWeights& w,
                 const PeepholeSpan& peep, const int8_t* x, int8_t* h, int16_t* c, int8_t* out,
                 int16_t* scratch, int8_t* hidden) {
    const int32_t n = s.n_cell;
    int16_t* input_gate = scratch;
    int16_t* forget_gate = scratch + n;
    int16_t* cell_gate = scratch + 2 * int64_t{n};
    int16_t* output_gate = scratch + 3 * int64_t{n};
    const bool cifg = w.input_to[0] == nullptr;
    auto gate = [&](int g, bool sigmoid_gate, int16_t* dst) {
        gateInteger<R>(s, q.gates[g], x, w.input_to[g], h, w.recurrent_to[g], c, w.cell_to[g], peep,
                       w.layer_norm[g], sigmoid_gate, dst);
    };
    if (!cifg) gate(0, true, input_gate);
    gate(1, true, forget_gate);
    gate(2, false, cell_gate);
    // UpdateLstmCellInteger: c = f * c >> 15 (Q0.15 gate), then + i * g >> (30 + cell_scale)
    // (two Q0.15 values into the cell scale), saturating add, optional clip. CIFG uses
    // 32767 - f (Sub1Vector's "one" is 32767).
    for (int32_t i = 0; i < n; ++i) {
        const int16_t kept = cwiseMulShift(forget_gate[i], c[i], 15);
        const int16_t in_gate = cifg ? static_cast<int16_t>(32767 - forget_gate[i]) : input_gate[i];
        const int16_t added = cwiseMulShift(in_gate, cell_gate[i], 30 + q.cell_scale);
        int32_t sum = std::clamp<int32_t>(int32_t{kept} + added, -32768, 32767);
        if (q.quantized_cell_clip > 0)
            sum = std::clamp<int32_t>(sum, -q.quantized_cell_clip, q.quantized_cell_clip);
        c[i] = static_cast<int16_t>(sum);
    }
    // The output gate's peephole sees the updated cell state.
    gate(3, true, output_gate);
    // CalculateLstmOutputInteger8x8_16: tanh of the cell state (15 + cell_scale integer bits),
    // times the output gate through the hidden scale. PortableCwiseMul SUBTRACTS the hidden
    // zero point (upstream's sign, reproduced).
    for (int32_t i = 0; i < n; ++i) {
        const int16_t t = gemmlowpTanh16(c[i], 15 + q.cell_scale);
        int32_t v = requantize<R>(int32_t{output_gate[i]} * int32_t{t}, q.effective_hidden_scale_a,
                                  q.effective_hidden_scale_b);
        v = std::clamp<int32_t>(v - q.hidden_zp, -128, 127);
        hidden[i] = static_cast<int8_t>(v);
    }
    if (w.projection) {
        // From 0 (no float-style bias start): MatrixBatchVectorMultiplyAccumulate into int8
        // with the output state zero point, then the int8 clip.
        std::fill_n(h, s.n_output, int8_t{0});
        matVecAccumulate<R>(w.projection, s.n_output, n, hidden, q.projection_effective_bias.data(),
                            q.effective_proj_scale_a, q.effective_proj_scale_b, q.output_state_zp,
                            h);
        if (q.quantized_proj_clip > 0)
            for (int32_t i = 0; i < s.n_output; ++i)
                h[i] = std::clamp<int8_t>(h[i], static_cast<int8_t>(-q.quantized_proj_clip),
                                          q.quantized_proj_clip);
    } else {
        std::copy_n(hidden, s.n_output, h);
    }
    std::copy_n(h, s.n_output, out);
}

}  // namespace

void applyLayerNormInt16(RequantRule rule, int16_t* gate, const int16_t* coefficients,
                         const int32_t* bias, int32_t scale_a, int scale_b, int32_t variance_guard,
                         int32_t n) {
    withRule(rule, [&](auto rule_tag) {
        constexpr RequantRule R = decltype(rule_tag)::value;
        layerNorm<R>(gate, coefficients, bias, scale_a, scale_b, variance_guard, n);
    });
}

void lstmInteger8x8_16Reference(const LstmParams& p, const LstmShape& s, const LstmIntegerParams& q,
                                const LstmIntegerWeights& w, const int8_t* input,
                                int8_t* output_state, int16_t* cell_state, int8_t* output,
                                int16_t* scratch, int8_t* hidden) {
    withRule(q.rule, [&](auto rule_tag) {
        constexpr RequantRule R = decltype(rule_tag)::value;
        // EvalInteger8x8_16 runs time-major input as all batches per step (one call with
        // n_batch rows) and batch-major input batch by batch (n_batch = 1). Every operation
        // but the peephole walk (PeepholeSpan) is per batch row, so the loop order is free.
        const int32_t rows_per_call = p.time_major ? s.n_batch : 1;
        for (int32_t b = 0; b < s.n_batch; ++b) {
            int8_t* h = output_state + int64_t{b} * s.n_output;
            int16_t* c = cell_state + int64_t{b} * s.n_cell;
            const int32_t row_in_call = p.time_major ? b : 0;
            PeepholeSpan peep;
            peep.v_size = s.n_output;
            peep.flat_offset = row_in_call * s.n_cell;
            peep.count = std::clamp(rows_per_call * s.n_output - peep.flat_offset, 0, s.n_cell);
            for (int32_t t = 0; t < s.max_time; ++t) {
                const int64_t row =
                    p.time_major ? int64_t{t} * s.n_batch + b : int64_t{b} * s.max_time + t;
                stepInteger<R>(s, q, w, peep, input + row * s.n_input, h, c,
                               output + row * s.n_output, scratch, hidden);
            }
        }
    });
}

namespace {

using model::DType;

// Input indexes (tensorflow/lite/kernels/lstm_shared.h).
enum LstmInput : int {
    kInput = 0,
    kInputToInput = 1,
    kInputToForget = 2,
    kInputToCell = 3,
    kInputToOutput = 4,
    kRecurrentToInput = 5,
    kRecurrentToForget = 6,
    kRecurrentToCell = 7,
    kRecurrentToOutput = 8,
    kCellToInput = 9,
    kCellToForget = 10,
    kCellToOutput = 11,
    kInputGateBias = 12,
    kForgetGateBias = 13,
    kCellGateBias = 14,
    kOutputGateBias = 15,
    kProjectionWeights = 16,
    kProjectionBias = 17,
    kOutputState = 18,
    kCellState = 19,
    kInputLayerNorm = 20,
    kForgetLayerNorm = 21,
    kCellLayerNorm = 22,
    kOutputLayerNorm = 23,
    kNumLstmInputs = 24,
};

class UnidirectionalSequenceLstmKernel final : public Kernel {
public:
    Result<void> prepare(PrepareContext& ctx) override {
        const auto* o = ctx.options<model::UnidirectionalSequenceLSTMOptions>();
        if (!o) return ctx.fail("missing UnidirectionalSequenceLSTMOptions");
        if (ctx.numOutputs() < 1) return ctx.fail("needs an output");
        const TensorInfo* input = ctx.input(kInput);
        const TensorInfo* out_state = ctx.input(kOutputState);
        const TensorInfo* cell_state = ctx.input(kCellState);
        if (!input || !out_state || !cell_state)
            return ctx.fail("needs the input, output_state (18) and cell_state (19)");
        for (int i :
             {kInputToForget, kInputToCell, kInputToOutput, kRecurrentToForget, kRecurrentToCell,
              kRecurrentToOutput, kForgetGateBias, kCellGateBias, kOutputGateBias})
            if (!ctx.input(i)) return ctx.fail(strFormat("input {} is required", i));
        m_params.activation = o->fused_activation_function;
        m_params.cell_clip = o->cell_clip;
        m_params.proj_clip = o->proj_clip;
        m_params.time_major = o->time_major;
        m_params.diagonal_recurrent_tensors = o->diagonal_recurrent_tensors;
        // unidirectional_sequence_lstm.cc CheckInputTensorDimensions.
        if (o->cell_clip < 0.0f || o->proj_clip < 0.0f)
            return ctx.fail("cell_clip and proj_clip must be >= 0");
        if (input->rank() != 3) return ctx.fail("the input must be 3-D");
        auto& s = m_shape;
        s.max_time = o->time_major ? input->dim(0) : input->dim(1);
        s.n_batch = o->time_major ? input->dim(1) : input->dim(0);
        s.n_input = input->dim(2);
        const TensorInfo* i2o = ctx.input(kInputToOutput);
        const TensorInfo* r2o = ctx.input(kRecurrentToOutput);
        if (i2o->rank() != 2) return ctx.fail("input_to_output_weights must be 2-D");
        s.n_cell = i2o->dim(0);
        if (o->diagonal_recurrent_tensors) {
            if (r2o->rank() != 1) return ctx.fail("diagonal recurrent weights must be 1-D");
            s.n_output = s.n_cell;
        } else {
            if (r2o->rank() != 2) return ctx.fail("recurrent_to_output_weights must be 2-D");
            s.n_output = r2o->dim(1);
        }
        auto expect = [&](int i, std::vector<int32_t> shape) -> Result<void> {
            const TensorInfo* t = ctx.input(i);
            if (t && t->shape != shape)
                return ctx.fail(strFormat("input {} ({}) is [{}], expected [{}]", i, t->name,
                                          shapeString(t->shape), shapeString(shape)));
            return {};
        };
        const std::vector<int32_t> in_w{s.n_cell, s.n_input};
        const std::vector<int32_t> rec_w = o->diagonal_recurrent_tensors
                                               ? std::vector<int32_t>{s.n_cell}
                                               : std::vector<int32_t>{s.n_cell, s.n_output};
        const std::vector<int32_t> vec{s.n_cell};
        const std::pair<int, std::vector<int32_t>> shapes[] = {
            {kInputToInput, in_w},
            {kInputToForget, in_w},
            {kInputToCell, in_w},
            {kInputToOutput, in_w},
            {kRecurrentToInput, rec_w},
            {kRecurrentToForget, rec_w},
            {kRecurrentToCell, rec_w},
            {kRecurrentToOutput, rec_w},
            {kCellToInput, vec},
            {kCellToForget, vec},
            {kCellToOutput, vec},
            {kInputGateBias, vec},
            {kForgetGateBias, vec},
            {kCellGateBias, vec},
            {kOutputGateBias, vec},
            {kProjectionWeights, {s.n_output, s.n_cell}},
            {kProjectionBias, {s.n_output}},
            {kOutputState, {s.n_batch, s.n_output}},
            {kCellState, {s.n_batch, s.n_cell}},
            {kInputLayerNorm, vec},
            {kForgetLayerNorm, vec},
            {kCellLayerNorm, vec},
            {kOutputLayerNorm, vec},
        };
        for (const auto& [i, shape] : shapes)
            if (auto r = expect(i, shape); !r) return r;
        auto present = [&](int i) { return ctx.input(i) != nullptr; };
        // CIFG: the input gate's weights come together or not at all, and its bias with them.
        const bool cifg = !present(kInputToInput);
        if (present(kInputToInput) != present(kRecurrentToInput))
            return ctx.fail("input_to_input and recurrent_to_input weights must both be given");
        if (cifg == present(kInputGateBias))
            return ctx.fail(cifg ? "a CIFG LSTM takes no input gate bias"
                                 : "input_gate_bias is required without CIFG");
        // Peephole: all or none (cell_to_input may be absent under CIFG).
        const bool peep_any =
            present(kCellToInput) || present(kCellToForget) || present(kCellToOutput);
        const bool peep_all =
            (present(kCellToInput) || cifg) && present(kCellToForget) && present(kCellToOutput);
        if (peep_any && !peep_all) return ctx.fail("peephole weights must be all or none");
        if (cifg && present(kCellToInput))
            return ctx.fail("a CIFG LSTM takes no cell_to_input weights");
        if (present(kProjectionBias) && !present(kProjectionWeights))
            return ctx.fail("projection_bias needs projection_weights");
        if (!present(kProjectionWeights) && s.n_output != s.n_cell)
            return ctx.fail(strFormat("without projection n_output ({}) must equal n_cell ({})",
                                      s.n_output, s.n_cell));
        // Layer norm: forget/cell/output together, input with them unless CIFG.
        const bool ln = present(kForgetLayerNorm);
        if (present(kCellLayerNorm) != ln || present(kOutputLayerNorm) != ln ||
            (!cifg && present(kInputLayerNorm) != ln) || (cifg && present(kInputLayerNorm)))
            return ctx.fail("layer norm coefficients must be all or none");
        // TFLM: "Since is_variable is not part of TFLiteEvalTensor, check is_variable here."
        if (!out_state->isVariable() || !cell_state->isVariable())
            return ctx.fail("output_state (18) and cell_state (19) must be variable tensors");

        if (input->dtype == DType::Int8) return prepareInteger(ctx, *o);
        for (int i = 0; i < std::min(ctx.numInputs(), int{kNumLstmInputs}); ++i) {
            const TensorInfo* t = ctx.input(i);
            if (t && t->dtype != DType::Float32)
                return ctx.fail(strFormat(
                    "input {} ({}) is {}: only the float32 and int8x8_16 LSTMs are supported "
                    "(hybrid LSTMs are not yet)",
                    i, t->name, model::dtypeName(t->dtype)));
        }
        TensorInfo& output = ctx.output(0);
        if (output.dtype != DType::Float32) return ctx.fail("the output must be float32");
        output.shape = o->time_major ? std::vector<int32_t>{s.max_time, s.n_batch, s.n_output}
                                     : std::vector<int32_t>{s.n_batch, s.max_time, s.n_output};
        m_scratch.assign(4 * static_cast<size_t>(s.n_cell), 0.0f);
        return {};
    }

    void eval(EvalContext& ctx) override {
        TensorValue* out_state = ctx.variable(kOutputState);
        TensorValue* cell_state = ctx.variable(kCellState);
        if (!out_state || !cell_state)
            return ctx.fail("the state tensors are not writable (not run by the executor)");
        if (m_integer) {
            LstmIntegerWeights w;
            for (int g = 0; g < 4; ++g) {
                w.input_to[g] = ctx.hasInput(kInputToInput + g)
                                    ? in<int8_t>(ctx.input(kInputToInput + g))
                                    : nullptr;
                w.recurrent_to[g] = ctx.hasInput(kRecurrentToInput + g)
                                        ? in<int8_t>(ctx.input(kRecurrentToInput + g))
                                        : nullptr;
                // Cell-to-gate (peephole) weights exist for gates 0, 1, 3 (inputs 9-11).
                const int peep = g == 0 ? kCellToInput : g == 1 ? kCellToForget : kCellToOutput;
                w.cell_to[g] =
                    g != 2 && ctx.hasInput(peep) ? in<int16_t>(ctx.input(peep)) : nullptr;
                w.layer_norm[g] = ctx.hasInput(kInputLayerNorm + g)
                                      ? in<int16_t>(ctx.input(kInputLayerNorm + g))
                                      : nullptr;
            }
            w.projection = ctx.hasInput(kProjectionWeights)
                               ? in<int8_t>(ctx.input(kProjectionWeights))
                               : nullptr;
            lstmInteger8x8_16Reference(m_params, m_shape, m_int, w, in<int8_t>(ctx.input(kInput)),
                                       out<int8_t>(*out_state), out<int16_t>(*cell_state),
                                       out<int8_t>(ctx.output(0)), m_scratch16.data(),
                                       m_hidden.data());
            return;
        }
        auto ptr = [&](int i) -> const float* {
            return ctx.hasInput(i) ? in<float>(ctx.input(i)) : nullptr;
        };
        LstmFloatWeights w;
        w.input_to_input = ptr(kInputToInput);
        w.input_to_forget = ptr(kInputToForget);
        w.input_to_cell = ptr(kInputToCell);
        w.input_to_output = ptr(kInputToOutput);
        w.recurrent_to_input = ptr(kRecurrentToInput);
        w.recurrent_to_forget = ptr(kRecurrentToForget);
        w.recurrent_to_cell = ptr(kRecurrentToCell);
        w.recurrent_to_output = ptr(kRecurrentToOutput);
        w.cell_to_input = ptr(kCellToInput);
        w.cell_to_forget = ptr(kCellToForget);
        w.cell_to_output = ptr(kCellToOutput);
        w.input_gate_bias = ptr(kInputGateBias);
        w.forget_gate_bias = ptr(kForgetGateBias);
        w.cell_gate_bias = ptr(kCellGateBias);
        w.output_gate_bias = ptr(kOutputGateBias);
        w.projection_weights = ptr(kProjectionWeights);
        w.projection_bias = ptr(kProjectionBias);
        w.input_layer_norm = ptr(kInputLayerNorm);
        w.forget_layer_norm = ptr(kForgetLayerNorm);
        w.cell_layer_norm = ptr(kCellLayerNorm);
        w.output_layer_norm = ptr(kOutputLayerNorm);
        lstmFloatReference(m_params, m_shape, w, in<float>(ctx.input(kInput)),
                           out<float>(*out_state), out<float>(*cell_state),
                           out<float>(ctx.output(0)), m_scratch.data());
    }

private:
    // The int8x8_16 LSTM: unidirectional_sequence_lstm.cc Prepare (5 intermediates),
    // CheckInputTensorDimensions (integer types), PopulateQuantizedLstmParams8x8_16 and
    // PopulatePrecomputedZPTimesWeightsWithBias.
    Result<void> prepareInteger(PrepareContext& ctx,
                                const model::UnidirectionalSequenceLSTMOptions& o) {
        const auto& s = m_shape;
        auto present = [&](int i) { return ctx.input(i) != nullptr; };
        const bool cifg = !present(kInputToInput);
        const bool peephole = present(kCellToOutput);
        const bool layer_norm = present(kForgetLayerNorm);
        const bool projection = present(kProjectionWeights);
        if (o.diagonal_recurrent_tensors)
            return ctx.fail("diagonal recurrent weights are float-only");
        // The integer kernels always use sigmoid and tanh (lstm_eval.cc); another fused
        // activation would silently mean something else than the float LSTM.
        if (o.fused_activation_function != model::Activation::Tanh)
            return ctx.fail("the integer LSTM needs the TANH activation");
        // unidirectional_sequence_lstm.cc Prepare: "TF_LITE_ENSURE(context,
        // num_intermediate_tensors == 5)" for an integer input; the 12-intermediate 8x8_8
        // variant exists only for the (single-step) LSTM op in lstm.cc.
        if (ctx.numIntermediates() != 5)
            return ctx.fail(strFormat(
                "the integer LSTM has {} intermediate tensors: only the 5 of the 8x8_16 variant "
                "are supported (TFLite's UNIDIRECTIONAL_SEQUENCE_LSTM requires 5 too)",
                ctx.numIntermediates()));
        // The peephole walks n_batch * n_output cells (see PeepholeSpan); with more outputs
        // than cells upstream would read past the cell state.
        if (peephole && s.n_output > s.n_cell)
            return ctx.fail(strFormat(
                "an integer LSTM with peephole needs n_output ({}) <= n_cell ({}): TFLite's "
                "peephole step walks n_output values per batch row",
                s.n_output, s.n_cell));
        const TensorInfo* hidden = ctx.intermediate(4);
        if (!hidden || !hidden->quant->isQuantized())
            return ctx.fail("intermediate 4 (the hidden state scale) must be quantized");
        // With layer norm the gate matmuls land in intermediates 0-3's scales, else Q3.12.
        float gate_scale[4] = {0x1p-12f, 0x1p-12f, 0x1p-12f, 0x1p-12f};
        if (layer_norm)
            for (int g = cifg ? 1 : 0; g < 4; ++g) {
                const TensorInfo* t = ctx.intermediate(g);
                if (!t || !t->quant->isQuantized() || !(t->scale() > 0.0f))
                    return ctx.fail(strFormat(
                        "intermediate {} (the gate scale under layer norm) must be quantized", g));
                gate_scale[g] = t->scale();
            }
        const TensorInfo* input = ctx.input(kInput);
        const TensorInfo* out_state = ctx.input(kOutputState);
        const TensorInfo* cell_state = ctx.input(kCellState);
        TensorInfo& output = ctx.output(0);
        if (out_state->dtype != DType::Int8 || cell_state->dtype != DType::Int16 ||
            output.dtype != DType::Int8)
            return ctx.fail(
                "the int8 LSTM needs an int8 output_state, int16 cell_state and "
                "int8 output");
        for (const TensorInfo* t :
             {input, out_state, cell_state, static_cast<const TensorInfo*>(&output)})
            if (!t->quant->isQuantized())
                return ctx.fail(strFormat("tensor '{}' is not quantized", t->name));
        // Constant tensors of the expected type: int8 weights (symmetric: upstream ignores
        // their zero point, so a non-zero one would be silently wrong), int16 peephole and
        // layer norm coefficients, int32 biases.
        auto constant = [&](int i, DType dtype, bool symmetric) -> Result<void> {
            const TensorInfo* t = ctx.input(i);
            if (!t) return {};
            if (t->dtype != dtype || !t->isConstant() ||
                (symmetric && (!t->quant->isQuantized() || t->zeroPoint() != 0)))
                return ctx.fail(strFormat("input {} ({}) must be a constant {}{} tensor", i,
                                          t->name, symmetric ? "symmetric " : "",
                                          model::dtypeName(dtype)));
            return {};
        };
        for (int i = kInputToInput; i <= kRecurrentToOutput; ++i)
            if (auto r = constant(i, DType::Int8, true); !r) return r;
        for (int i : {kCellToInput, kCellToForget, kCellToOutput, kInputLayerNorm, kForgetLayerNorm,
                      kCellLayerNorm, kOutputLayerNorm})
            if (auto r = constant(i, DType::Int16, true); !r) return r;
        for (int i = kInputGateBias; i <= kOutputGateBias; ++i)
            if (auto r = constant(i, DType::Int32, false); !r) return r;
        if (auto r = constant(kProjectionWeights, DType::Int8, true); !r) return r;
        if (auto r = constant(kProjectionBias, DType::Int32, false); !r) return r;
        // CheckedLog2(cell_state scale); tanh of the cell state takes 15 + cell_scale integer
        // bits, which PortableApplyTanh handles up to 6 (lstm.cc also insists on <= -9).
        int cell_scale = 0;
        if (!checkedLog2(cell_state->scale(), cell_scale) || cell_scale > -9 || cell_scale < -15)
            return ctx.fail(
                strFormat("the cell state scale {} is not a power of two in [2^-15, 2^-9]",
                          cell_state->scale()));
        m_int = LstmIntegerParams{};
        m_int.cell_scale = cell_scale;
        m_int.rule = ctx.rule(DType::Int8);
        m_int.quantized_cell_clip =
            o.cell_clip > 0.0f
                ? static_cast<int16_t>(
                      std::min(std::max(o.cell_clip / cell_state->scale(), -32768.0f), 32767.0f))
                : int16_t{0};
        // The projection clip is in the output tensor's scale.
        m_int.quantized_proj_clip =
            o.proj_clip > 0.0f ? static_cast<int8_t>(std::min(
                                     std::max(o.proj_clip / output.scale(), -128.0f), 127.0f))
                               : int8_t{0};
        const float input_scale = input->scale();
        const float state_scale = out_state->scale();
        const int32_t input_zp = input->zeroPoint();
        const int32_t state_zp = out_state->zeroPoint();
        auto quantize = [&](double real, int32_t& a, int& b) {
            const auto m = quantizeMultiplierFor(ctx.profile(), real);
            a = m.multiplier;
            b = m.shift;
        };
        // PrecomputeZeroPointTimesWeightWithBias: bias (or 0) + zero_point * row sum.
        auto foldedBias = [&](const TensorInfo& wt, const int32_t* bias, int32_t zero_point) {
            const int32_t rows = wt.dim(0), cols = wt.dim(1);
            const int8_t* wd = in<int8_t>(*wt.constant);
            std::vector<int32_t> outv(static_cast<size_t>(rows), 0);
            for (int32_t r = 0; r < rows; ++r) {
                int32_t row_sum = 0;
                for (int32_t c = 0; c < cols; ++c) row_sum += wd[int64_t{r} * cols + c];
                outv[static_cast<size_t>(r)] = (bias ? bias[r] : 0) + row_sum * zero_point;
            }
            return outv;
        };
        const int peep_input[4] = {kCellToInput, kCellToForget, -1, kCellToOutput};
        for (int g = 0; g < 4; ++g) {
            auto& gq = m_int.gates[g];
            if (g == 0 && cifg) continue;
            const TensorInfo& wi = *ctx.input(kInputToInput + g);
            const TensorInfo& wr = *ctx.input(kRecurrentToInput + g);
            const int32_t* bias = in<int32_t>(*ctx.input(kInputGateBias + g)->constant);
            // Float products as upstream computes them, widened to double only for
            // QuantizeMultiplier.
            quantize(static_cast<double>(wi.scale() * input_scale / gate_scale[g]),
                     gq.effective_input_scale_a, gq.effective_input_scale_b);
            quantize(static_cast<double>(wr.scale() * state_scale / gate_scale[g]),
                     gq.effective_recurrent_scale_a, gq.effective_recurrent_scale_b);
            // "When there is layer normalization, the gate bias does not apply to matmul
            // directly: y = ln(w * x + w * r + w * c) + b."
            gq.input_effective_bias = foldedBias(wi, layer_norm ? nullptr : bias, -input_zp);
            gq.recurrent_effective_bias = foldedBias(wr, nullptr, -state_zp);
            if (peephole && g != 2) {
                // std::pow(2, cell_scale) is a double, so is the product; stored as float.
                const float real =
                    static_cast<float>(std::pow(2, cell_scale) *
                                       static_cast<double>(ctx.input(peep_input[g])->scale()) /
                                       static_cast<double>(gate_scale[g]));
                quantize(static_cast<double>(real), gq.effective_cell_scale_a,
                         gq.effective_cell_scale_b);
            }
            if (layer_norm) {
                const float ln_scale = ctx.input(kInputLayerNorm + g)->scale();
                quantize(static_cast<double>(ln_scale), gq.layer_norm_scale_a,
                         gq.layer_norm_scale_b);
                // ApplyLayerNorm shifts by layer_norm_scale_b + 12; keep it a valid shift.
                if (gq.layer_norm_scale_b + 12 > 30)
                    return ctx.fail(
                        strFormat("layer norm coefficient scale {} is too large", ln_scale));
                // "10000 is used to make sure the kernel logic does not overflow."
                gq.variance_guard = std::max(1, static_cast<int32_t>(10000 * ln_scale));
                gq.layer_norm_bias.assign(bias, bias + s.n_cell);
            }
        }
        // 2^-15 (the output gate) * 2^-15 (tanh of the cell) / the hidden scale; TFLite's
        // std::pow(2, -15) is a double, the result is stored in a float.
        quantize(static_cast<float>(0x1p-15 / static_cast<double>(hidden->scale()) * 0x1p-15),
                 m_int.effective_hidden_scale_a, m_int.effective_hidden_scale_b);
        m_int.hidden_zp = hidden->zeroPoint();
        m_int.output_state_zp = state_zp;
        if (projection) {
            const TensorInfo& wp = *ctx.input(kProjectionWeights);
            quantize(static_cast<double>(wp.scale() * hidden->scale() / state_scale),
                     m_int.effective_proj_scale_a, m_int.effective_proj_scale_b);
            const int32_t* proj_bias = present(kProjectionBias)
                                           ? in<int32_t>(*ctx.input(kProjectionBias)->constant)
                                           : nullptr;
            // hidden_zp with a plus sign (lstm.cc), matching CwiseMul's subtraction.
            m_int.projection_effective_bias = foldedBias(wp, proj_bias, m_int.hidden_zp);
        }
        m_integer = true;
        output.shape = o.time_major ? std::vector<int32_t>{s.max_time, s.n_batch, s.n_output}
                                    : std::vector<int32_t>{s.n_batch, s.max_time, s.n_output};
        m_scratch16.assign(4 * static_cast<size_t>(s.n_cell), 0);
        m_hidden.assign(static_cast<size_t>(s.n_cell), 0);
        return {};
    }

    LstmParams m_params;
    LstmShape m_shape;
    std::vector<float> m_scratch;
    bool m_integer = false;
    LstmIntegerParams m_int;
    std::vector<int16_t> m_scratch16;
    std::vector<int8_t> m_hidden;
};

}  // namespace

}  // namespace qs::engine::kernels

namespace qs::engine {
void registerKernels_lstm(KernelRegistry& r) {
    r.add(model::BuiltinOp::UNIDIRECTIONAL_SEQUENCE_LSTM,
          &makeKernel<kernels::UnidirectionalSequenceLstmKernel>);
}
}  // namespace qs::engine
