#include "engine/analysis/metrics.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include <immintrin.h>

#include "engine/analysis/float_twin.h"
#include "model/str_format.h"

namespace qs::engine::analysis {

namespace {

using model::DType;

struct IntRange {
    int64_t min = 0, max = 0;
    bool valid = false;
};
IntRange intRange(DType t) {
    switch (t) {
        case DType::Int4:
            return {-8, 7, true};
        case DType::Int8:
            return {-128, 127, true};
        case DType::UInt8:
            return {0, 255, true};
        case DType::Int16:
            return {-32768, 32767, true};
        case DType::Int32:
            return {INT32_MIN, INT32_MAX, true};
        case DType::Int64:
            return {INT64_MIN, INT64_MAX, true};
        default:
            return {};
    }
}

}  // namespace

void ErrorAccumulator::merge(const ErrorAccumulator& o) {
    if (o.n == 0) {
        if (n == 0) {
            has_int = has_int || o.has_int;
            repr_min = std::isnan(repr_min) ? o.repr_min : repr_min;
            repr_max = std::isnan(repr_max) ? o.repr_max : repr_max;
        }
        return;
    }
    if (n == 0) {
        *this = o;
        return;
    }
    // Chan, Golub, LeVeque: combining the mean and M2 of two disjoint populations.
    const double na = static_cast<double>(n), nb = static_cast<double>(o.n);
    const double delta = o.mean_d - mean_d;
    const double total = na + nb;
    mean_d += delta * nb / total;
    m2 += o.m2 + delta * delta * na * nb / total;
    n += o.n;
    sum_d2 += o.sum_d2;
    max_abs = std::max(max_abs, o.max_abs);
    sum_f2 += o.sum_f2;
    sum_q2 += o.sum_q2;
    sum_qf += o.sum_qf;
    sum_lsb2 += o.sum_lsb2;
    saturated += o.saturated;
    out_of_range += o.out_of_range;
    has_int = has_int || o.has_int;
    f_min = std::min(f_min, o.f_min);
    f_max = std::max(f_max, o.f_max);
    // Across channels the representable range is the union of the channels' ranges.
    repr_min = std::isnan(repr_min) ? o.repr_min : std::fmin(repr_min, o.repr_min);
    repr_max = std::isnan(repr_max) ? o.repr_max : std::fmax(repr_max, o.repr_max);
}

ErrorMetrics finalize(const ErrorAccumulator& a) {
    ErrorMetrics m;
    m.num_elements = static_cast<double>(a.n);
    m.representable_min = a.repr_min;
    m.representable_max = a.repr_max;
    if (a.n == 0) return m;
    const double n = static_cast<double>(a.n);
    const double inf = std::numeric_limits<double>::infinity();
    m.mean_error = a.mean_d;
    m.stddev = std::sqrt(a.m2 / n);
    m.max_abs_error = a.max_abs;
    m.mean_squared_error = a.sum_d2 / n;
    m.rmse = std::sqrt(m.mean_squared_error);
    m.rmse_lsb = std::sqrt(a.sum_lsb2 / n);
    if (a.sum_d2 == 0)
        m.sqnr_db = inf;
    else if (a.sum_f2 == 0)
        m.sqnr_db = -inf;
    else
        m.sqnr_db = 10.0 * std::log10(a.sum_f2 / a.sum_d2);
    const double denom = std::sqrt(a.sum_q2) * std::sqrt(a.sum_f2);
    if (denom == 0)
        m.cosine_similarity = (a.sum_q2 == 0 && a.sum_f2 == 0) ? 1.0 : 0.0;
    else
        m.cosine_similarity = std::clamp(a.sum_qf / denom, -1.0, 1.0);  // rounding can pass 1
    if (a.sum_f2 == 0)
        m.relative_l2 = a.sum_d2 == 0 ? 0.0 : inf;
    else
        m.relative_l2 = std::sqrt(a.sum_d2 / a.sum_f2);
    m.float_min = a.f_min;
    m.float_max = a.f_max;
    if (a.has_int) {
        m.saturation_pct = 100.0 * static_cast<double>(a.saturated) / n;
        m.out_of_range_pct = 100.0 * static_cast<double>(a.out_of_range) / n;
    }
    return m;
}

const MetricDef* findMetric(std::string_view name) {
    for (const auto& d : kMetrics)
        if (d.name == name) return &d;
    return nullptr;
}

void MetricAverager::add(const ErrorMetrics& m) {
    for (size_t i = 0; i < kMetrics.size(); ++i) {
        const double v = m.*(kMetrics[i].field);
        if (std::isnan(v)) continue;
        m_sum[i] += v;
        ++m_count[i];
    }
    ++m_samples;
}

ErrorMetrics MetricAverager::mean() const {
    ErrorMetrics m;
    for (size_t i = 0; i < kMetrics.size(); ++i)
        m.*(kMetrics[i].field) = m_count[i] ? m_sum[i] / m_count[i] : kNaN;
    return m;
}

int channelAxis(std::span<const int32_t> shape, const model::Quantization& q) {
    if (q.isPerChannel() && q.quantized_dimension >= 0 &&
        static_cast<size_t>(q.quantized_dimension) < shape.size())
        return q.quantized_dimension;
    return shape.empty() ? -1 : static_cast<int>(shape.size()) - 1;
}

void TensorAccumulator::merge(const TensorAccumulator& o) {
    total.merge(o.total);
    if (channels.size() < o.channels.size()) channels.resize(o.channels.size());
    for (size_t c = 0; c < o.channels.size(); ++c) channels[c].merge(o.channels[c]);
}

namespace {

#define QS_METRICS_INLINE inline __attribute__((always_inline))
// Lambdas too: an outlined block would be compiled for the baseline ISA, not the caller's.
#define QS_METRICS_LAMBDA_INLINE __attribute__((always_inline))

// Sums per channel, one array per quantity, so the loop over channels (the innermost, contiguous
// axis of NHWC activations) vectorizes. Each channel keeps its own accumulator and visits its
// elements in the same order on every path, so vectorizing across channels does not change a
// single bit of the sums. Two sums are derived afterwards instead of summed per element
// (accumulate): sum_qf = (sum_q2 + sum_f2 - sum_d2) / 2 and sum_lsb2 = sum_d2 / scale^2.
struct ChannelSums {
    std::vector<double> sum_d, sum_d2, max_abs, sum_f2, sum_q2, sum_qf, sum_lsb2, f_min, f_max, m2;
    // Counts in doubles (exact below 2^53): a double compare then feeds a double add, which
    // vectorizes without AVX2's 64-bit integer lanes.
    std::vector<double> saturated, out_of_range;
    explicit ChannelSums(size_t n)
        : sum_d(n),
          sum_d2(n),
          max_abs(n),
          sum_f2(n),
          sum_q2(n),
          sum_qf(n),
          sum_lsb2(n),
          f_min(n, std::numeric_limits<double>::infinity()),
          f_max(n, -std::numeric_limits<double>::infinity()),
          m2(n),
          saturated(n),
          out_of_range(n) {}
};

using Blocks = ChannelBlocks;

// Where the quantized side's float value comes from: an array of dequantized values, or the
// stored integers themselves, dequantized on the fly exactly as dequantizeValue does
// (float(double(scale) * (q - zero_point)), reference/dequantize.h) so no float copy of the
// tensor is made.
template <class Raw>
struct Inputs {
    const float* deq = nullptr;  // unused when dequantizing from raw
    const Raw* raw = nullptr;    // stored integers (saturation; the source when deq is null)
    const float* ref = nullptr;
    const double* scale = nullptr;  // per statistics channel, for dequantizing from raw
    const double* zp = nullptr;
    const double* lo = nullptr;  // representable range per channel
    const double* hi = nullptr;
    const double* mean = nullptr;   // pass 2 only
    const double* shift = nullptr;  // per channel: subtracted from d before the sums of d, d^2
    int64_t qmin = 0, qmax = 0;
    // AVX-512 pass 1 only: the float forms of the parameters (accumulate explains when they
    // give the same bits).
    bool float_dequant = false;
    const float* scale_f = nullptr;
    const int32_t* zp_i = nullptr;
    const float* lo_f = nullptr;  // the smallest float >= lo, the largest float <= hi: a
    const float* hi_f = nullptr;  // float compares with them exactly as with lo / hi
};

// Dequantizes one row of channels from the stored integers into `dst`.
template <class Raw>
QS_METRICS_INLINE void dequantizeRow(const Raw* __restrict raw, const double* __restrict sc,
                                     const double* __restrict zp, size_t nc,
                                     float* __restrict dst) {
    for (size_t c = 0; c < nc; ++c)
        dst[c] = static_cast<float>(sc[c] * (static_cast<double>(raw[c]) - zp[c]));
}

// kRows rows of adjacent channels (row r of channel c at r * nc + c). Each channel's sums are
// loaded once, take the rows in order, and are stored once, so the accumulator traffic is
// shared by kRows elements; every pointer is its own restrict parameter so the compiler can
// vectorize across channels.
template <bool kQuantized, int kRows>
QS_METRICS_INLINE void sumRows(const float* __restrict q, const float* __restrict ref, size_t nc,
                               const double* __restrict lo, const double* __restrict hi,
                               double* __restrict sd, double* __restrict sd2, double* __restrict mx,
                               double* __restrict sf2, double* __restrict sq2,
                               double* __restrict fmn, double* __restrict fmx,
                               double* __restrict oor, const double* __restrict shift,
                               double* __restrict s2) {
    for (size_t c = 0; c < nc; ++c) {
        double a_d = sd[c], a_d2 = sd2[c], a_mx = mx[c], a_f2 = sf2[c], a_q2 = sq2[c],
               a_fmn = fmn[c], a_fmx = fmx[c], a_oor = oor[c], a_s2 = s2[c];
        const double k = shift[c];
#pragma GCC unroll 8
        for (int r = 0; r < kRows; ++r) {
            const double qv = q[static_cast<size_t>(r) * nc + c];
            const double fv = ref[static_cast<size_t>(r) * nc + c];
            const double d = qv - fv;
            const double e = d - k;
            a_d += e;
            a_s2 += e * e;
            a_d2 += d * d;
            const double ad = d < 0 ? -d : d;
            a_mx = a_mx < ad ? ad : a_mx;
            a_f2 += fv * fv;
            a_q2 += qv * qv;
            a_fmn = fv < a_fmn ? fv : a_fmn;
            a_fmx = fv > a_fmx ? fv : a_fmx;
            if constexpr (kQuantized) a_oor += ((fv < lo[c]) | (fv > hi[c])) ? 1.0 : 0.0;
        }
        sd[c] = a_d, sd2[c] = a_d2, mx[c] = a_mx, sf2[c] = a_f2, sq2[c] = a_q2, s2[c] = a_s2;
        fmn[c] = a_fmn, fmx[c] = a_fmx;
        if constexpr (kQuantized) oor[c] = a_oor;
    }
}

// Adds to sat[c] how many of `rows` rows have the stored integer qmin or qmax in channel c.
// The rows are taken in strips of whole rows of about 256 elements, each position of a strip
// with its own byte counter (at most 255 strips before the counters are folded into the
// channels' counts), so the compare vectorizes on the stored integers' own width whatever the
// number of channels. `count` holds saturationStrip(nc) bytes.
inline size_t saturationStrip(size_t nc) {
    return std::max<size_t>(1, 256 / nc) * nc;
}
template <class Raw>
QS_METRICS_INLINE void countSaturated(const Raw* __restrict raw, size_t rows, int64_t qmin,
                                      int64_t qmax, size_t nc, double* __restrict sat,
                                      uint8_t* __restrict count) {
    const auto lo = static_cast<Raw>(qmin), hi = static_cast<Raw>(qmax);
    const size_t strip = saturationStrip(nc), rows_per_strip = strip / nc;
    const size_t strips = rows / rows_per_strip;
    for (size_t s0 = 0; s0 < strips; s0 += 255) {
        const size_t s1 = std::min(strips, s0 + 255);
        std::fill(count, count + strip, uint8_t{0});
        for (size_t st = s0; st < s1; ++st) {
            const Raw* p = raw + st * strip;
            for (size_t j = 0; j < strip; ++j)
                count[j] = static_cast<uint8_t>(count[j] + ((p[j] == lo) | (p[j] == hi)));
        }
        for (size_t r = 0; r < rows_per_strip; ++r)
            for (size_t c = 0; c < nc; ++c) sat[c] += count[r * nc + c];
    }
    for (size_t r = strips * rows_per_strip; r < rows; ++r)
        for (size_t c = 0; c < nc; ++c)
            sat[c] += ((raw[r * nc + c] == lo) | (raw[r * nc + c] == hi)) ? 1.0 : 0.0;
}

inline constexpr int kRowBlock = 4;
// Rows from which the statistics take one pass (accumulate below).
inline constexpr int64_t kOnePassRows = 64;

// Pass 1: every sum but the squared deviations, over rows of `nc` adjacent channels (the
// statistics axis is the last one; `rows` = outer), kRowBlock rows at a time. `qrow` holds
// kRowBlock dequantized rows when dequantizing from the stored integers.
template <class Raw, bool kQuantized, bool kRaw, bool kFromRaw>
QS_METRICS_INLINE void pass1Rows(const Inputs<Raw>& in, int64_t rows, size_t nc, ChannelSums& cs,
                                 float* __restrict qrow) {
    if constexpr (kQuantized && kRaw) {
        std::vector<uint8_t> count(saturationStrip(nc));
        countSaturated(in.raw, static_cast<size_t>(rows), in.qmin, in.qmax, nc, cs.saturated.data(),
                       count.data());
    }
    auto block = [&](int64_t o, auto rows_tag) QS_METRICS_LAMBDA_INLINE {
        constexpr int kR = decltype(rows_tag)::value;
        const int64_t base = o * static_cast<int64_t>(nc);
        const float* q;
        if constexpr (kFromRaw) {
            for (int r = 0; r < kR; ++r)
                dequantizeRow(in.raw + base + r * static_cast<int64_t>(nc), in.scale, in.zp, nc,
                              qrow + static_cast<size_t>(r) * nc);
            q = qrow;
        } else {
            q = in.deq + base;
        }
        sumRows<kQuantized, kR>(q, in.ref + base, nc, in.lo, in.hi, cs.sum_d.data(),
                                cs.sum_d2.data(), cs.max_abs.data(), cs.sum_f2.data(),
                                cs.sum_q2.data(), cs.f_min.data(), cs.f_max.data(),
                                cs.out_of_range.data(), in.shift, cs.m2.data());
    };
    int64_t o = 0;
    for (; o + kRowBlock <= rows; o += kRowBlock)
        block(o, std::integral_constant<int, kRowBlock>{});
    for (; o < rows; ++o) block(o, std::integral_constant<int, 1>{});
}

// Any layout, one element at a time (channels strided: weights' output channel axis,
// scalars): calls visit(c, i, qv) for each element i of channel c with its dequantized value,
// each channel's elements in the same order as the row passes.
template <class Raw, bool kFromRaw, class Visit>
QS_METRICS_INLINE void forEachStrided(const Inputs<Raw>& in, const Blocks& b, Visit&& visit) {
    const size_t nc = static_cast<size_t>(b.channels);
    for (int64_t o = 0; o < b.outer; ++o) {
        for (int64_t k = 0; k < b.inner; ++k) {
            const int64_t base = o * b.channels * b.inner + k;
            for (size_t c = 0; c < nc; ++c) {
                const int64_t i = base + static_cast<int64_t>(c) * b.inner;
                double qv;
                if constexpr (kFromRaw)
                    qv = static_cast<float>(in.scale[c] *
                                            (static_cast<double>(in.raw[i]) - in.zp[c]));
                else
                    qv = in.deq[i];
                visit(c, i, qv);
            }
        }
    }
}

// The pass-1 sums for any layout, through forEachStrided.
template <class Raw, bool kQuantized, bool kRaw, bool kFromRaw>
QS_METRICS_INLINE void pass1Strided(const Inputs<Raw>& in, const Blocks& b, ChannelSums& cs) {
    forEachStrided<Raw, kFromRaw>(
        in, b, [&](size_t c, int64_t i, double qv) QS_METRICS_LAMBDA_INLINE {
            const double fv = in.ref[i];
            const double d = qv - fv;
            cs.sum_d[c] += d;
            cs.sum_d2[c] += d * d;
            cs.max_abs[c] = std::max(cs.max_abs[c], d < 0 ? -d : d);
            cs.sum_f2[c] += fv * fv;
            cs.sum_q2[c] += qv * qv;
            cs.f_min[c] = fv < cs.f_min[c] ? fv : cs.f_min[c];
            cs.f_max[c] = fv > cs.f_max[c] ? fv : cs.f_max[c];
            if constexpr (kQuantized) {
                cs.out_of_range[c] += ((fv < in.lo[c]) | (fv > in.hi[c])) ? 1.0 : 0.0;
                if constexpr (kRaw) {
                    const auto r = static_cast<int64_t>(in.raw[i]);
                    cs.saturated[c] += ((r == in.qmin) | (r == in.qmax)) ? 1.0 : 0.0;
                }
            }
        });
}

// Pass 2: squared deviations from each channel's own mean (two-pass variance, as np.std).
template <int kRows>
QS_METRICS_INLINE void sumSquaredDeviations(const float* __restrict q, const float* __restrict ref,
                                            size_t nc, const double* __restrict mean,
                                            double* __restrict m2) {
    for (size_t c = 0; c < nc; ++c) {
        double a = m2[c];
#pragma GCC unroll 8
        for (int r = 0; r < kRows; ++r) {
            const double d = static_cast<double>(q[static_cast<size_t>(r) * nc + c]) -
                             static_cast<double>(ref[static_cast<size_t>(r) * nc + c]) - mean[c];
            a += d * d;
        }
        m2[c] = a;
    }
}
template <class Raw, bool kFromRaw>
QS_METRICS_INLINE void pass2Rows(const Inputs<Raw>& in, int64_t rows, size_t nc, ChannelSums& cs,
                                 float* __restrict qrow) {
    auto block = [&](int64_t o, auto rows_tag) QS_METRICS_LAMBDA_INLINE {
        constexpr int kR = decltype(rows_tag)::value;
        const int64_t base = o * static_cast<int64_t>(nc);
        const float* q;
        if constexpr (kFromRaw) {
            for (int r = 0; r < kR; ++r)
                dequantizeRow(in.raw + base + r * static_cast<int64_t>(nc), in.scale, in.zp, nc,
                              qrow + static_cast<size_t>(r) * nc);
            q = qrow;
        } else {
            q = in.deq + base;
        }
        sumSquaredDeviations<kR>(q, in.ref + base, nc, in.mean, cs.m2.data());
    };
    int64_t o = 0;
    for (; o + kRowBlock <= rows; o += kRowBlock)
        block(o, std::integral_constant<int, kRowBlock>{});
    for (; o < rows; ++o) block(o, std::integral_constant<int, 1>{});
}
template <class Raw, bool kFromRaw>
QS_METRICS_INLINE void pass2Strided(const Inputs<Raw>& in, const Blocks& b, ChannelSums& cs) {
    forEachStrided<Raw, kFromRaw>(
        in, b, [&](size_t c, int64_t i, double qv) QS_METRICS_LAMBDA_INLINE {
            const double d = qv - static_cast<double>(in.ref[i]) - in.mean[c];
            cs.m2[c] += d * d;
        });
}

// Both passes for contiguous channels, compiled twice: for the build's baseline ISA and for
// AVX2 (4 doubles per vector instead of 2), chosen at run time as requant_row.cpp does. AVX2
// alone (no FMA) keeps every multiply and add a separate IEEE operation, so both versions give
// identical sums.
template <class Raw, bool kQuantized, bool kRaw, bool kFromRaw>
QS_METRICS_INLINE void rowsImpl(const Inputs<Raw>& in, int64_t rows, size_t nc, ChannelSums& cs,
                                float* qrow, int pass) {
    if (pass == 1)
        pass1Rows<Raw, kQuantized, kRaw, kFromRaw>(in, rows, nc, cs, qrow);
    else
        pass2Rows<Raw, kFromRaw>(in, rows, nc, cs, qrow);
}
template <class Raw, bool kQuantized, bool kRaw, bool kFromRaw>
void rowsBase(const Inputs<Raw>& in, int64_t rows, size_t nc, ChannelSums& cs, float* qrow,
              int pass) {
    rowsImpl<Raw, kQuantized, kRaw, kFromRaw>(in, rows, nc, cs, qrow, pass);
}
template <class Raw, bool kQuantized, bool kRaw, bool kFromRaw>
__attribute__((target("avx2"))) void rowsAvx2(const Inputs<Raw>& in, int64_t rows, size_t nc,
                                              ChannelSums& cs, float* qrow, int pass) {
    rowsImpl<Raw, kQuantized, kRaw, kFromRaw>(in, rows, nc, cs, qrow, pass);
}

// AVX-512: 8 doubles per vector. FMA comes with it, so this file is built with
// -ffp-contract=off (engine/CMakeLists.txt): every multiply and add stays its own IEEE
// operation and all three versions give identical sums.
template <class Raw, bool kQuantized, bool kRaw, bool kFromRaw>
__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,prefer-vector-width=512"))) void
rowsAvx512(const Inputs<Raw>& in, int64_t rows, size_t nc, ChannelSums& cs, float* qrow, int pass) {
    rowsImpl<Raw, kQuantized, kRaw, kFromRaw>(in, rows, nc, cs, qrow, pass);
}

// Pass 1 with AVX-512 intrinsics: a tile of 8 adjacent channels keeps its sums in registers
// while it walks kTileRows rows (row r of channel c at r * nc + c), so each sum is loaded and
// stored once per kTileRows elements instead of once per kRowBlock; the stored integers are
// widened and dequantized in registers (no row buffer), and the last tile of a row masks off
// the channels past nc. The sums take the operations of sumRows and dequantizeRow, one IEEE
// operation each and in the same order for every channel; the reference's extremes are kept
// in float and the out-of-range count in int32 lanes (both exact), min/max and the absolute
// value select the same operand as their ternaries, and the saturation count is
// countSaturated's, so the results are bit-identical to the other paths.
inline constexpr int64_t kTileRows = 128;
// GCC 12 warns inside its own avx512fintrin.h (the intrinsics start from _mm512_undefined_pd;
// GCC bug 105593), not about this code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#define QS_METRICS_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))

template <class Raw>
QS_METRICS_AVX512 QS_METRICS_INLINE __m256i loadRaw8(const Raw* p, __mmask8 m) {
    if constexpr (std::is_same_v<Raw, int8_t>)
        return _mm256_cvtepi8_epi32(_mm_maskz_loadu_epi8(static_cast<__mmask16>(m), p));
    else if constexpr (std::is_same_v<Raw, uint8_t>)
        return _mm256_cvtepu8_epi32(_mm_maskz_loadu_epi8(static_cast<__mmask16>(m), p));
    else
        return _mm256_cvtepi16_epi32(_mm_maskz_loadu_epi16(m, p));
}

QS_METRICS_AVX512 QS_METRICS_INLINE __m512d load8(__mmask8 m, size_t c0, const double* p) {
    return _mm512_maskz_loadu_pd(m, p + c0);
}
QS_METRICS_AVX512 QS_METRICS_INLINE void store8(__mmask8 m, size_t c0, std::vector<double>& v,
                                                __m512d x) {
    _mm512_mask_storeu_pd(v.data() + c0, m, x);
}

template <class Raw, bool kQuantized, bool kRaw, bool kFromRaw>
QS_METRICS_AVX512 void pass1TilesAvx512(const Inputs<Raw>& in, int64_t rows, size_t nc,
                                        ChannelSums& cs) {
    const __m512d sign = _mm512_set1_pd(-0.0);
    const __m256i minus_one = _mm256_set1_epi32(-1);
    const auto stride = static_cast<int64_t>(nc);
    std::vector<uint8_t> count(kQuantized && kRaw ? saturationStrip(nc) : 0);
    for (int64_t r0 = 0; r0 < rows; r0 += kTileRows) {
        const int64_t r1 = std::min(rows, r0 + kTileRows);
        for (size_t c0 = 0; c0 < nc; c0 += 8) {
            const __mmask8 m =
                nc - c0 >= 8 ? __mmask8{0xff} : static_cast<__mmask8>((1u << (nc - c0)) - 1);
            __m512d a_d = load8(m, c0, cs.sum_d.data()), a_d2 = load8(m, c0, cs.sum_d2.data()),
                    a_mx = load8(m, c0, cs.max_abs.data()), a_f2 = load8(m, c0, cs.sum_f2.data()),
                    a_q2 = load8(m, c0, cs.sum_q2.data()), a_s2 = load8(m, c0, cs.m2.data());
            // The reference's extremes in float (they are floats or infinities: exact), the
            // out-of-range count in int32 lanes (at most kTileRows per block; added to the
            // double count, exactly, after the block).
            __m256 a_fmn = _mm512_cvtpd_ps(load8(m, c0, cs.f_min.data()));
            __m256 a_fmx = _mm512_cvtpd_ps(load8(m, c0, cs.f_max.data()));
            __m256i n_oor = _mm256_setzero_si256();
            const __m512d k = load8(m, c0, in.shift);
            __m512d sc{}, zp{};
            __m256 lo{}, hi{}, sc_f{};
            __m256i zp_i{};
            if constexpr (kQuantized) {
                lo = _mm256_maskz_loadu_ps(m, in.lo_f + c0);
                hi = _mm256_maskz_loadu_ps(m, in.hi_f + c0);
            }
            if constexpr (kFromRaw) {
                if (in.float_dequant) {
                    sc_f = _mm256_maskz_loadu_ps(m, in.scale_f + c0);
                    zp_i = _mm256_maskz_loadu_epi32(m, in.zp_i + c0);
                } else {
                    sc = load8(m, c0, in.scale), zp = load8(m, c0, in.zp);
                }
            }
            for (int64_t r = r0; r < r1; ++r) {
                const int64_t i = r * stride + static_cast<int64_t>(c0);
                __m512d qv;
                if constexpr (kFromRaw) {
                    const __m256i x = loadRaw8(in.raw + i, m);
                    if (in.float_dequant) {
                        // float(scale) * float(q - zp): one float rounding of the exact product,
                        // which is what float(double(scale) * (q - zp)) rounds too (see
                        // accumulate's float_dequant).
                        qv = _mm512_cvtps_pd(
                            _mm256_mul_ps(sc_f, _mm256_cvtepi32_ps(_mm256_sub_epi32(x, zp_i))));
                    } else {
                        const __m512d deq =
                            _mm512_mul_pd(sc, _mm512_sub_pd(_mm512_cvtepi32_pd(x), zp));
                        qv = _mm512_cvtps_pd(_mm512_cvtpd_ps(deq));
                    }
                } else {
                    qv = _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, in.deq + i));
                }
                const __m256 f = _mm256_maskz_loadu_ps(m, in.ref + i);
                a_fmn = _mm256_min_ps(f, a_fmn);
                a_fmx = _mm256_max_ps(f, a_fmx);
                if constexpr (kQuantized) {
                    const auto out = static_cast<__mmask8>((_mm256_cmp_ps_mask(f, lo, _CMP_LT_OQ) |
                                                            _mm256_cmp_ps_mask(f, hi, _CMP_GT_OQ)) &
                                                           m);
                    n_oor = _mm256_mask_sub_epi32(n_oor, out, n_oor, minus_one);
                }
                const __m512d fv = _mm512_cvtps_pd(f);
                const __m512d d = _mm512_sub_pd(qv, fv);
                const __m512d e = _mm512_sub_pd(d, k);
                a_d = _mm512_add_pd(a_d, e);
                a_s2 = _mm512_add_pd(a_s2, _mm512_mul_pd(e, e));
                a_d2 = _mm512_add_pd(a_d2, _mm512_mul_pd(d, d));
                a_mx = _mm512_max_pd(_mm512_andnot_pd(sign, d), a_mx);
                a_f2 = _mm512_add_pd(a_f2, _mm512_mul_pd(fv, fv));
                a_q2 = _mm512_add_pd(a_q2, _mm512_mul_pd(qv, qv));
            }
            store8(m, c0, cs.sum_d, a_d), store8(m, c0, cs.sum_d2, a_d2);
            store8(m, c0, cs.max_abs, a_mx), store8(m, c0, cs.sum_f2, a_f2);
            store8(m, c0, cs.sum_q2, a_q2), store8(m, c0, cs.m2, a_s2);
            store8(m, c0, cs.f_min, _mm512_cvtps_pd(a_fmn));
            store8(m, c0, cs.f_max, _mm512_cvtps_pd(a_fmx));
            if constexpr (kQuantized)
                store8(
                    m, c0, cs.out_of_range,
                    _mm512_add_pd(load8(m, c0, cs.out_of_range.data()), _mm512_cvtepi32_pd(n_oor)));
        }
        // The block's stored integers are still in cache.
        if constexpr (kQuantized && kRaw)
            countSaturated(in.raw + r0 * stride, static_cast<size_t>(r1 - r0), in.qmin, in.qmax, nc,
                           cs.saturated.data(), count.data());
    }
}

#pragma GCC diagnostic pop

const bool kMetricsAvx2 = __builtin_cpu_supports("avx2");
const bool kMetricsAvx512 =
    __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
    __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");

template <class Raw, bool kQuantized, bool kRaw, bool kFromRaw>
void passes(const Inputs<Raw>& in, const Blocks& b, ChannelSums& cs, int pass) {
    if (b.inner == 1 && pass == 1 && kMetricsAvx512) {
        pass1TilesAvx512<Raw, kQuantized, kRaw, kFromRaw>(in, b.outer,
                                                          static_cast<size_t>(b.channels), cs);
    } else if (b.inner == 1) {
        const size_t nc = static_cast<size_t>(b.channels);
        std::vector<float> qrow(kFromRaw ? nc * kRowBlock : 0);
        if (kMetricsAvx512)
            rowsAvx512<Raw, kQuantized, kRaw, kFromRaw>(in, b.outer, nc, cs, qrow.data(), pass);
        else if (kMetricsAvx2)
            rowsAvx2<Raw, kQuantized, kRaw, kFromRaw>(in, b.outer, nc, cs, qrow.data(), pass);
        else
            rowsBase<Raw, kQuantized, kRaw, kFromRaw>(in, b.outer, nc, cs, qrow.data(), pass);
    } else if (pass == 1) {
        pass1Strided<Raw, kQuantized, kRaw, kFromRaw>(in, b, cs);
    } else {
        pass2Strided<Raw, kFromRaw>(in, b, cs);
    }
}

// kFromRaw: the quantized values are dequantized from `raw` (the tensor must be quantized, its
// dtype 8 or 16 bits). Otherwise `raw` is optional and only feeds the saturation counts.
template <bool kFromRaw = false, class Raw>
TensorAccumulator accumulate(const float* deq, const float* ref, const Raw* raw, int64_t n,
                             const Blocks& b, const model::Quantization& q, const IntRange& range) {
    const bool quantized = q.isQuantized() && range.valid;
    const size_t nc = static_cast<size_t>(b.channels);
    TensorAccumulator out;
    out.channels.resize(nc);
    std::vector<double> rmin(nc, kNaN), rmax(nc, kNaN), scale(nc, 0.0), zp(nc, 0.0);
    for (size_t c = 0; c < nc; ++c) {
        if (!quantized) continue;
        // A per-tensor scale is shared by every channel of the statistics axis.
        const size_t qc = q.isPerChannel() ? c : 0;
        const double s = q.scale(qc);
        const double z = static_cast<double>(q.zeroPoint(qc));
        scale[c] = s;
        zp[c] = z;
        rmin[c] = (static_cast<double>(range.min) - z) * s;
        rmax[c] = (static_cast<double>(range.max) - z) * s;
    }
    ChannelSums cs(nc);
    const int64_t used = std::min<int64_t>(n, b.outer * b.channels * b.inner);
    Inputs<Raw> in;
    in.deq = deq;
    in.raw = raw;
    in.ref = ref;
    in.scale = scale.data();
    in.zp = zp.data();
    in.lo = rmin.data();
    in.hi = rmax.data();
    in.qmin = range.min;
    in.qmax = range.max;
    // Channels last with enough rows: one pass. Each channel's sums are taken of
    // e = d - k with k its first element's d, and m2 = sum e^2 - (sum e)^2 / n, mean = k +
    // sum e / n. The shift keeps the subtraction harmless: (k - mean)^2 <= m2 (k is one of the
    // elements), so the rounding error of m2 stays below about (n + 1) eps relative, far
    // inside the 1e-9 the report is checked to against numpy. Otherwise (weights' strided
    // channels, small tensors): the classic second pass over d - mean, as np.std does.
    const bool one_pass = b.inner == 1 && b.outer >= kOnePassRows && used == b.outer * b.channels;
    std::vector<double> shift(nc, 0.0);
    if (one_pass) {
        for (size_t c = 0; c < nc; ++c) {
            double qv;
            if constexpr (kFromRaw)
                qv = static_cast<float>(scale[c] * (static_cast<double>(raw[c]) - zp[c]));
            else
                qv = deq[c];
            shift[c] = qv - static_cast<double>(ref[c]);
        }
    }
    in.shift = shift.data();
    // float(double(scale) * (q - zp)) is float(scale) * float(q - zp) when the scale is a float
    // (the .tflite stores float32 scales) and |q - zp| < 2^24: the double product of a 24-bit
    // and a 25-bit significand is exact, so both round the same exact value once.
    std::vector<float> scale_f(nc), lo_f(nc), hi_f(nc);
    std::vector<int32_t> zp_i(nc);
    bool float_dequant = kFromRaw;
    for (size_t c = 0; c < nc; ++c) {
        const auto sf = static_cast<float>(scale[c]);
        float_dequant = float_dequant && static_cast<double>(sf) == scale[c] &&
                        std::abs(zp[c]) <= double{1 << 23};
        scale_f[c] = sf;
        zp_i[c] = float_dequant ? static_cast<int32_t>(zp[c]) : 0;
        if (quantized) {
            float l = static_cast<float>(rmin[c]), h = static_cast<float>(rmax[c]);
            if (static_cast<double>(l) < rmin[c])
                l = std::nextafter(l, std::numeric_limits<float>::infinity());
            if (static_cast<double>(h) > rmax[c])
                h = std::nextafter(h, -std::numeric_limits<float>::infinity());
            lo_f[c] = l;
            hi_f[c] = h;
        }
    }
    in.float_dequant = float_dequant;
    in.scale_f = scale_f.data();
    in.zp_i = zp_i.data();
    in.lo_f = lo_f.data();
    in.hi_f = hi_f.data();
    auto run = [&](int pass) {
        if constexpr (kFromRaw)
            passes<Raw, true, true, true>(in, b, cs, pass);
        else if (quantized && raw)
            passes<Raw, true, true, false>(in, b, cs, pass);
        else if (quantized)
            passes<Raw, true, false, false>(in, b, cs, pass);
        else
            passes<Raw, false, false, false>(in, b, cs, pass);
    };
    run(1);
    // The derived sums. q.f from |q - f|^2 = |q|^2 + |f|^2 - 2 q.f: its rounding error is
    // about eps (|q|^2 + |f|^2), the bound of the direct sum's too; the cosine keeps every
    // digit numpy gives. (d / scale)^2 summed is sum d^2 / scale^2 (the scale is the channel's).
    for (size_t c = 0; c < nc; ++c) {
        cs.sum_qf[c] = 0.5 * (cs.sum_q2[c] + cs.sum_f2[c] - cs.sum_d2[c]);
        cs.sum_lsb2[c] = quantized && scale[c] != 0 ? cs.sum_d2[c] / (scale[c] * scale[c]) : kNaN;
    }
    const double per_channel = static_cast<double>(b.outer * b.inner);
    std::vector<double> mean(nc, 0.0);
    if (one_pass) {
        for (size_t c = 0; c < nc; ++c) {
            mean[c] = shift[c] + cs.sum_d[c] / per_channel;
            cs.m2[c] = std::max(0.0, cs.m2[c] - cs.sum_d[c] * cs.sum_d[c] / per_channel);
        }
    } else {
        for (size_t c = 0; c < nc; ++c) mean[c] = used ? cs.sum_d[c] / per_channel : 0.0;
        in.mean = mean.data();
        std::fill(cs.m2.begin(), cs.m2.end(), 0.0);
        run(2);
    }
    for (size_t c = 0; c < nc; ++c) {
        auto& a = out.channels[c];
        a.n = used ? b.outer * b.inner : 0;
        a.mean_d = mean[c];
        a.m2 = cs.m2[c];
        a.sum_d2 = cs.sum_d2[c];
        a.max_abs = cs.max_abs[c];
        a.sum_f2 = cs.sum_f2[c];
        a.sum_q2 = cs.sum_q2[c];
        a.sum_qf = cs.sum_qf[c];
        a.sum_lsb2 = cs.sum_lsb2[c];
        a.saturated = static_cast<int64_t>(cs.saturated[c]);
        a.out_of_range = static_cast<int64_t>(cs.out_of_range[c]);
        a.f_min = cs.f_min[c];
        a.f_max = cs.f_max[c];
        a.has_int = quantized;
        a.repr_min = rmin[c];
        a.repr_max = rmax[c];
    }
    for (const auto& a : out.channels) out.total.merge(a);
    if (out.total.n == 0 && !out.channels.empty()) out.total = out.channels[0];
    return out;
}

}  // namespace

ChannelBlocks channelBlocks(std::span<const int32_t> shape, int axis, int64_t n) {
    ChannelBlocks b;
    if (axis < 0 || static_cast<size_t>(axis) >= shape.size()) {
        b.inner = n;
        return b;
    }
    b.channels = std::max<int32_t>(shape[static_cast<size_t>(axis)], 1);
    for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) b.inner *= shape[d];
    for (size_t d = 0; d < static_cast<size_t>(axis); ++d) b.outer *= shape[d];
    if (shape[static_cast<size_t>(axis)] == 0) b.outer = 0;
    return b;
}

TensorAccumulator compareArrays(std::span<const float> deq, std::span<const float> ref,
                                std::span<const int32_t> shape, const model::Quantization& q,
                                DType dtype, std::span<const int64_t> raw, int axis_override) {
    const int axis = axis_override == kDefaultAxis ? channelAxis(shape, q) : axis_override;
    const int64_t n = static_cast<int64_t>(std::min(deq.size(), ref.size()));
    return accumulate(deq.data(), ref.data(), raw.empty() ? nullptr : raw.data(), n,
                      channelBlocks(shape, axis, n), q, intRange(dtype));
}

Result<TensorAccumulator> compareTensor(const TensorValue& quant, const model::Quantization& q,
                                        const TensorValue& reference) {
    if (reference.dtype() != DType::Float32)
        return fail(
            strFormat("the reference is {}, not FLOAT32", model::dtypeName(reference.dtype())));
    if (quant.numElements() != reference.numElements())
        return fail(strFormat("{} elements [{}] vs {} in the reference [{}]", quant.numElements(),
                              shapeString(quant.shape()), reference.numElements(),
                              shapeString(reference.shape())));
    const bool is_int = model::isQuantizable(quant.dtype()) && q.isQuantized();
    const model::Quantization none;
    const model::Quantization& used_q = is_int ? q : none;
    const int64_t n = quant.numElements();
    const Blocks b = channelBlocks(quant.shape(), channelAxis(quant.shape(), used_q), n);
    const auto range = intRange(quant.dtype());
    const float* f = reference.data<float>().data();
    // 8- and 16-bit tensors (every activation of an int8 or int16x8 model) are dequantized on
    // the fly. The parameters must be those dequantizeValue accepts (its checkChannels); zero
    // points beyond int32 would not stay exact in the double difference, so they too take the
    // general path.
    const auto t = quant.dtype();
    bool fused = is_int && (t == DType::Int8 || t == DType::UInt8 || t == DType::Int16) &&
                 !q.hasCustomDetails;
    if (fused && q.isPerChannel()) {
        const auto axis = q.quantized_dimension;
        fused = axis >= 0 && static_cast<size_t>(axis) < quant.shape().size() &&
                static_cast<size_t>(quant.shape()[static_cast<size_t>(axis)]) == q.scales.size();
    }
    for (int64_t z : q.zero_points) fused = fused && z >= INT32_MIN && z <= INT32_MAX;
    if (fused) {
        switch (t) {
            case DType::Int8:
                return accumulate<true>(static_cast<const float*>(nullptr), f,
                                        quant.data<int8_t>().data(), n, b, used_q, range);
            case DType::UInt8:
                return accumulate<true>(static_cast<const float*>(nullptr), f,
                                        quant.data<uint8_t>().data(), n, b, used_q, range);
            default:
                return accumulate<true>(static_cast<const float*>(nullptr), f,
                                        quant.data<int16_t>().data(), n, b, used_q, range);
        }
    }
    if (!is_int && t == DType::Float32)
        return accumulate(quant.data<float>().data(), f, static_cast<const int8_t*>(nullptr), n, b,
                          used_q, range);
    auto deq = dequantizeValue(quant, used_q);
    if (!deq) return std::unexpected(deq.error());
    const float* d = deq->data<float>().data();
    switch (is_int ? t : DType::Float32) {
        case DType::Int32:
            return accumulate(d, f, quant.data<int32_t>().data(), n, b, used_q, range);
        case DType::Int64:
            return accumulate(d, f, quant.data<int64_t>().data(), n, b, used_q, range);
        default:
            return accumulate(d, f, static_cast<const int8_t*>(nullptr), n, b, used_q, range);
    }
}

}  // namespace qs::engine::analysis
