// Requantization of a row of int32 accumulators (one per output channel) into 8-bit outputs,
// for the fast CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED paths. Bit-identical to
// requantize<R>() of profiles/requantize.h for every rule; an AVX2 version (chosen at run time
// with __builtin_cpu_supports) does 8 channels at a time.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/profiles/requantize.h"

namespace qs::engine::kernels {

// Per-channel parameters, laid out for the vector code. Built once in prepare.
class RowRequantizer {
public:
    RowRequantizer() = default;
    // multipliers/shifts hold one value per channel, or one value for all `channels`.
    RowRequantizer(RequantRule rule, const std::vector<int32_t>& multipliers,
                   const std::vector<int32_t>& shifts, int32_t channels, int32_t output_offset,
                   int32_t act_min, int32_t act_max);

    int32_t channels() const { return m_channels; }
    // out[c] = clamp(requantize(acc[c] + bias[c]) + output_offset); bias may be null.
    void run(const int32_t* acc, const int32_t* bias, int8_t* out) const;
    void run(const int32_t* acc, const int32_t* bias, uint8_t* out) const;
    // `rows` rows: accumulators at acc + r * acc_stride, outputs at out + r * channels().
    // One call for many rows keeps the vector loop long (rows are often only 16-32 channels).
    void runRows(const int32_t* acc, int64_t acc_stride, int64_t rows, const int32_t* bias,
                 int8_t* out) const;
    void runRows(const int32_t* acc, int64_t acc_stride, int64_t rows, const int32_t* bias,
                 uint8_t* out) const;
    // For a requantizer built with one multiplier and shift: out[i] = requantize(x[i]) for
    // i < n, without offset or clamping (ADD's per-input and output rescaling).
    void requantizeValues(const int32_t* x, int64_t n, int32_t* out) const;
    // Whether the AVX2 code is used (false: portable scalar loop).
    bool vectorized() const { return m_vector; }

private:
    friend void requantizeUniform(RequantRule, const int32_t*, int64_t, int32_t, int32_t, int32_t*);
    template <class Out>
    void rows(const int32_t* acc, int64_t acc_stride, int64_t rows, const int32_t* bias,
              Out* out) const;
    template <class Out>
    void scalar(const int32_t* acc, const int32_t* bias, Out* out, int32_t from) const;

    RequantRule m_rule = RequantRule::DoubleRounding;
    int32_t m_channels = 0;
    int32_t m_output_offset = 0, m_act_min = 0, m_act_max = 0;
    bool m_vector = false;
    // Padded to a multiple of 8 channels.
    std::vector<int32_t> m_multiplier, m_shift;
    std::vector<int32_t> m_left_shift, m_right_shift;  // double rounding, ruy
    std::vector<int32_t> m_round_bit;                  // ruy: 1 if right_shift > 0
    std::vector<int32_t> m_total_shift, m_bias_low;    // single rounding (see .cpp)
    std::vector<float> m_scale;                        // fp32
};

}  // namespace qs::engine::kernels
