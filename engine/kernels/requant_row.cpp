#include "engine/kernels/requant_row.h"

#include <immintrin.h>

#include <algorithm>
#include <bit>

namespace qs::engine::kernels {

namespace {

const bool kHasAvx2 = __builtin_cpu_supports("avx2");

template <class Out>
constexpr bool kSigned = std::is_same_v<Out, int8_t>;

// Combines the low 32 bits of the 64-bit lanes of `even` (channels 0, 2, 4, 6) and `odd`
// (channels 1, 3, 5, 7) into one vector of 8 int32.
__attribute__((target("avx2"))) inline __m256i interleaveLow32(__m256i even, __m256i odd) {
    return _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
}

// gemmlowp's SaturatingRoundingDoublingHighMul of (x << left) and m for 8 lanes, written as
// floor((ab + 2^30) / 2^31): for ab >= 0 that is the upstream nudge + truncation; for ab < 0
// truncating (ab + 1 - 2^30) / 2^31 toward zero is the ceiling, which equals
// floor((ab + 1 - 2^30 + 2^31 - 1) / 2^31). (The saturating INT32_MIN * INT32_MIN case cannot
// occur: multipliers are non-negative.) ruy's first step is the same expression. The product
// of two int32 values is below 2^62 in magnitude, so bits 31..62 of the 64-bit sum are the
// int32 result; a logical 64-bit shift yields them as well as an arithmetic one would.
__attribute__((target("avx2"))) inline __m256i highMul(__m256i x, __m256i m, __m256i left) {
    const __m256i shifted = _mm256_sllv_epi32(x, left);
    const __m256i nudge = _mm256_set1_epi64x(int64_t{1} << 30);
    const __m256i pe = _mm256_add_epi64(_mm256_mul_epi32(shifted, m), nudge);
    const __m256i po = _mm256_add_epi64(
        _mm256_mul_epi32(_mm256_srli_epi64(shifted, 32), _mm256_srli_epi64(m, 32)), nudge);
    return interleaveLow32(_mm256_srli_epi64(pe, 31), _mm256_srli_epi64(po, 31));
}

template <RequantRule R>
__attribute__((target("avx2"))) inline __m256i requant8(__m256i x, const int32_t* mult,
                                                        const int32_t* left, const int32_t* right,
                                                        const int32_t* round_bit,
                                                        const int32_t* total_shift,
                                                        const int32_t* bias_low,
                                                        const float* scale) {
    const __m256i one = _mm256_set1_epi32(1);
    if constexpr (R == RequantRule::Fp32) {
        // float(x) * scale (one float rounding each), clamp to +-2^30 as rq::multiplyFp32
        // does, then cvtps2dq rounds to nearest even in the default MXCSR mode.
        __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(x), _mm256_loadu_ps(scale));
        f = _mm256_min_ps(_mm256_max_ps(f, _mm256_set1_ps(-0x1p30f)), _mm256_set1_ps(0x1p30f));
        return _mm256_cvtps_epi32(f);
    } else if constexpr (R == RequantRule::SingleRounding) {
        // (x * m + 2^(t-1)) >> t with t = 31 - shift in [31, 62] (shift <= 0 here). AVX2 has
        // no 64-bit arithmetic shift: add 2^62 to make the sum non-negative (|x * m| < 2^62),
        // shift logically, and subtract 2^(62 - t) from the low 32 bits afterwards.
        const __m256i m = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(mult));
        const __m256i t = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(total_shift));
        const __m256i lo_mask = _mm256_set1_epi64x(0xFFFFFFFF);
        const __m256i te = _mm256_and_si256(t, lo_mask);
        const __m256i to = _mm256_srli_epi64(t, 32);
        const __m256i one64 = _mm256_set1_epi64x(1);
        const __m256i bias62 = _mm256_set1_epi64x(int64_t{1} << 62);
        const __m256i adde =
            _mm256_add_epi64(_mm256_sllv_epi64(one64, _mm256_sub_epi64(te, one64)), bias62);
        const __m256i addo =
            _mm256_add_epi64(_mm256_sllv_epi64(one64, _mm256_sub_epi64(to, one64)), bias62);
        const __m256i pe = _mm256_add_epi64(_mm256_mul_epi32(x, m), adde);
        const __m256i po = _mm256_add_epi64(
            _mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(m, 32)), addo);
        const __m256i r = interleaveLow32(_mm256_srlv_epi64(pe, te), _mm256_srlv_epi64(po, to));
        return _mm256_sub_epi32(r, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias_low)));
    } else {
        const __m256i m = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(mult));
        const __m256i ls = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(left));
        const __m256i rs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(right));
        const __m256i high = highMul(x, m, ls);
        if constexpr (R == RequantRule::DoubleRounding) {
            // RoundingDivideByPOT: (x >> e) + (remainder > (mask >> 1) + (x < 0)).
            const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, rs), one);
            const __m256i remainder = _mm256_and_si256(high, mask);
            const __m256i threshold = _mm256_sub_epi32(
                _mm256_srli_epi32(mask, 1), _mm256_cmpgt_epi32(_mm256_setzero_si256(), high));
            return _mm256_sub_epi32(_mm256_srav_epi32(high, rs),
                                    _mm256_cmpgt_epi32(remainder, threshold));
        } else {
            // ruy: (h + 2^(rs-1)) >> rs == (h >> rs) + bit (rs - 1) of h, with no overflow;
            // lanes with rs == 0 have round_bit 0.
            const __m256i rb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(round_bit));
            const __m256i bit =
                _mm256_and_si256(_mm256_srav_epi32(high, _mm256_sub_epi32(rs, one)), rb);
            return _mm256_add_epi32(_mm256_srav_epi32(high, rs), bit);
        }
    }
}

// Clamped int32 lanes (all within the 8-bit range) to 8 bytes.
template <class Out>
__attribute__((target("avx2"))) inline void store8(__m256i v, Out* out) {
    const __m256i p16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(v, v), 0x08);
    const __m128i lo = _mm256_castsi256_si128(p16);
    const __m128i b = kSigned<Out> ? _mm_packs_epi16(lo, lo) : _mm_packus_epi16(lo, lo);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), b);
}

}  // namespace

RowRequantizer::RowRequantizer(RequantRule rule, const std::vector<int32_t>& multipliers,
                               const std::vector<int32_t>& shifts, int32_t channels,
                               int32_t output_offset, int32_t act_min, int32_t act_max)
    : m_rule(rule),
      m_channels(channels),
      m_output_offset(output_offset),
      m_act_min(act_min),
      m_act_max(act_max) {
    const size_t padded = (static_cast<size_t>(channels) + 7) / 8 * 8;
    m_multiplier.assign(padded, 0);
    m_shift.assign(padded, 0);
    for (size_t c = 0; c < static_cast<size_t>(channels); ++c) {
        m_multiplier[c] = multipliers.size() == 1 ? multipliers[0] : multipliers[c];
        m_shift[c] = shifts.size() == 1 ? shifts[0] : shifts[c];
    }
    m_left_shift.assign(padded, 0);
    m_right_shift.assign(padded, 0);
    m_round_bit.assign(padded, 0);
    m_total_shift.assign(padded, 31);
    m_bias_low.assign(padded, static_cast<int32_t>(0x80000000u));
    m_scale.assign(padded, 0.0f);
    bool shifts_ok = true;
    for (size_t c = 0; c < padded; ++c) {
        const int32_t s = m_shift[c];
        m_left_shift[c] = s > 0 ? s : 0;
        m_right_shift[c] = s > 0 ? 0 : -s;
        m_round_bit[c] = m_right_shift[c] > 0 ? 1 : 0;
        if (rule == RequantRule::SingleRounding) {
            // The vector form needs t = 31 - shift in [31, 62]: multipliers below 1.
            if (s > 0 || s < -31) shifts_ok = false;
            m_total_shift[c] = 31 - s;
            m_bias_low[c] = static_cast<int32_t>(uint32_t{1} << std::clamp(31 + s, 0, 31));
        }
        if (rule == RequantRule::DoubleRounding || rule == RequantRule::RuyX86)
            if (s > 31 || s < -31) shifts_ok = false;
        m_scale[c] = std::bit_cast<float>(m_multiplier[c]);
    }
    const bool rule_ok = rule == RequantRule::DoubleRounding ||
                         rule == RequantRule::SingleRounding || rule == RequantRule::RuyX86 ||
                         rule == RequantRule::Fp32;
    m_vector = kHasAvx2 && shifts_ok && rule_ok;
}

template <class Out>
void RowRequantizer::scalar(const int32_t* acc, const int32_t* bias, Out* out, int32_t from) const {
    withRule(m_rule, [&](auto r) {
        for (int32_t c = from; c < m_channels; ++c) {
            const int32_t x = acc[c] + (bias ? bias[c] : 0);
            const int32_t v =
                requantize<decltype(r)::value>(x, m_multiplier[size_t(c)], m_shift[size_t(c)]) +
                m_output_offset;
            out[c] = static_cast<Out>(std::clamp(v, m_act_min, m_act_max));
        }
    });
}

namespace {

template <RequantRule R, class Out>
__attribute__((target("avx2"))) void runAvx2(const int32_t* acc, int64_t acc_stride, int64_t rows,
                                             int32_t channels, const int32_t* bias, Out* out,
                                             int32_t n8, const int32_t* mult, const int32_t* left,
                                             const int32_t* right, const int32_t* round_bit,
                                             const int32_t* total_shift, const int32_t* bias_low,
                                             const float* scale, int32_t offset, int32_t lo,
                                             int32_t hi) {
    const __m256i voff = _mm256_set1_epi32(offset);
    const __m256i vlo = _mm256_set1_epi32(lo), vhi = _mm256_set1_epi32(hi);
    for (int64_t r = 0; r < rows; ++r) {
        const int32_t* a = acc + r * acc_stride;
        Out* o = out + r * channels;
        for (int32_t c = 0; c < n8; c += 8) {
            __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + c));
            if (bias)
                x = _mm256_add_epi32(
                    x, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias + c)));
            __m256i v = requant8<R>(x, mult + c, left + c, right + c, round_bit + c,
                                    total_shift + c, bias_low + c, scale + c);
            v = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(v, voff), vlo), vhi);
            store8(v, o + c);
        }
    }
}

}  // namespace

template <class Out>
void RowRequantizer::rows(const int32_t* acc, int64_t acc_stride, int64_t rows, const int32_t* bias,
                          Out* out) const {
    int32_t done = 0;
    if (m_vector) {
        done = m_channels / 8 * 8;
        withRule(m_rule, [&](auto r) {
            runAvx2<decltype(r)::value>(
                acc, acc_stride, rows, m_channels, bias, out, done, m_multiplier.data(),
                m_left_shift.data(), m_right_shift.data(), m_round_bit.data(), m_total_shift.data(),
                m_bias_low.data(), m_scale.data(), m_output_offset, m_act_min, m_act_max);
        });
    }
    if (done < m_channels)
        for (int64_t r = 0; r < rows; ++r)
            scalar(acc + r * acc_stride, bias, out + r * m_channels, done);
}

void RowRequantizer::run(const int32_t* acc, const int32_t* bias, int8_t* out) const {
    rows(acc, 0, 1, bias, out);
}
void RowRequantizer::run(const int32_t* acc, const int32_t* bias, uint8_t* out) const {
    rows(acc, 0, 1, bias, out);
}
void RowRequantizer::runRows(const int32_t* acc, int64_t acc_stride, int64_t rows,
                             const int32_t* bias, int8_t* out) const {
    this->rows(acc, acc_stride, rows, bias, out);
}
void RowRequantizer::runRows(const int32_t* acc, int64_t acc_stride, int64_t rows,
                             const int32_t* bias, uint8_t* out) const {
    this->rows(acc, acc_stride, rows, bias, out);
}

namespace {

template <RequantRule R>
__attribute__((target("avx2"))) int64_t uniformAvx2(const int32_t* x, int64_t n,
                                                    const int32_t* mult, const int32_t* left,
                                                    const int32_t* right, const int32_t* round_bit,
                                                    const int32_t* total_shift,
                                                    const int32_t* bias_low, const float* scale,
                                                    int32_t* out) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i));
        _mm256_storeu_si256(
            reinterpret_cast<__m256i*>(out + i),
            requant8<R>(v, mult, left, right, round_bit, total_shift, bias_low, scale));
    }
    return i;
}

}  // namespace

void RowRequantizer::requantizeValues(const int32_t* x, int64_t n, int32_t* out) const {
    int64_t done = 0;
    if (m_vector) {
        withRule(m_rule, [&](auto r) {
            done = uniformAvx2<decltype(r)::value>(
                x, n, m_multiplier.data(), m_left_shift.data(), m_right_shift.data(),
                m_round_bit.data(), m_total_shift.data(), m_bias_low.data(), m_scale.data(), out);
        });
    }
    withRule(m_rule, [&](auto r) {
        for (int64_t i = done; i < n; ++i)
            out[i] = requantize<decltype(r)::value>(x[i], m_multiplier[0], m_shift[0]);
    });
}

}  // namespace qs::engine::kernels
