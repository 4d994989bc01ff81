#include "engine/kernels/gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

namespace qs::engine::kernels {

namespace {

template <class T>
PackedWeightsS16 pack(const T* rows, int32_t n, int32_t k, int32_t offset) {
    PackedWeightsS16 p;
    p.n = n;
    p.k = k;
    p.k_pairs = (k + 1) / 2;
    p.n_blocks = (n + 15) / 16;
    p.data.assign(static_cast<size_t>(p.n_blocks) * p.k_pairs * 32, 0);
    for (int32_t b = 0; b < p.n_blocks; ++b) {
        int16_t* block = p.data.data() + static_cast<size_t>(b) * p.k_pairs * 32;
        for (int32_t kp = 0; kp < p.k_pairs; ++kp) {
            for (int32_t j = 0; j < 16; ++j) {
                const int32_t ch = b * 16 + j;
                for (int32_t t = 0; t < 2; ++t) {
                    const int32_t d = kp * 2 + t;
                    int16_t v = 0;
                    if (ch < n && d < k)
                        v = static_cast<int16_t>(static_cast<int32_t>(rows[int64_t{ch} * k + d]) +
                                                 offset);
                    block[kp * 32 + j * 2 + t] = v;
                }
            }
        }
    }
    return p;
}

// Portable version: same packing, scalar loops the compiler vectorizes with SSE2.
void gemmScalar(const int16_t* a, int32_t m, int32_t lda, const PackedWeightsS16& w, int32_t* c,
                int32_t ldc) {
    for (int32_t r = 0; r < m; ++r) {
        const int16_t* ar = a + int64_t{r} * lda;
        for (int32_t b = 0; b < w.n_blocks; ++b) {
            const int16_t* block = w.data.data() + static_cast<size_t>(b) * w.k_pairs * 32;
            int32_t acc[16] = {};
            for (int32_t kp = 0; kp < w.k_pairs; ++kp) {
                const int32_t a0 = ar[2 * kp], a1 = ar[2 * kp + 1];
                const int16_t* wb = block + kp * 32;
                for (int j = 0; j < 16; ++j) acc[j] += a0 * wb[2 * j] + a1 * wb[2 * j + 1];
            }
            std::memcpy(c + int64_t{r} * ldc + b * 16, acc, sizeof(acc));
        }
    }
}

// AVX2: a 6-row x 16-channel tile (12 accumulators, 2 weight registers, 1 broadcast: 15 of
// the 16 ymm registers). Each step broadcasts one (a[2k], a[2k+1]) pair per row and multiplies
// it with 16 channels' weight pairs (vpmaddwd: two 16x16-bit products summed into 32 bits,
// exact since |product| <= 255^2).
__attribute__((target("avx2"))) void gemmAvx2(const int16_t* a, int32_t m, int32_t lda,
                                              const PackedWeightsS16& w, int32_t* c, int32_t ldc) {
    const int32_t kp_n = w.k_pairs;
    int32_t r = 0;
    for (; r + 6 <= m; r += 6) {
        const int16_t* ar[6];
        for (int i = 0; i < 6; ++i) ar[i] = a + int64_t{r + i} * lda;
        for (int32_t b = 0; b < w.n_blocks; ++b) {
            const int16_t* block = w.data.data() + static_cast<size_t>(b) * kp_n * 32;
            __m256i acc0[6], acc1[6];
            for (int i = 0; i < 6; ++i) acc0[i] = acc1[i] = _mm256_setzero_si256();
            for (int32_t kp = 0; kp < kp_n; ++kp) {
                const __m256i w0 =
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + kp * 32));
                const __m256i w1 =
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + kp * 32 + 16));
                for (int i = 0; i < 6; ++i) {
                    int32_t pair;
                    std::memcpy(&pair, ar[i] + 2 * kp, 4);
                    const __m256i v = _mm256_set1_epi32(pair);
                    acc0[i] = _mm256_add_epi32(acc0[i], _mm256_madd_epi16(v, w0));
                    acc1[i] = _mm256_add_epi32(acc1[i], _mm256_madd_epi16(v, w1));
                }
            }
            int32_t* cr = c + int64_t{r} * ldc + b * 16;
            for (int i = 0; i < 6; ++i) {
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(cr + int64_t{i} * ldc), acc0[i]);
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(cr + int64_t{i} * ldc + 8), acc1[i]);
            }
        }
    }
    for (; r < m; ++r) {
        const int16_t* a0 = a + int64_t{r} * lda;
        for (int32_t b = 0; b < w.n_blocks; ++b) {
            const int16_t* block = w.data.data() + static_cast<size_t>(b) * kp_n * 32;
            __m256i c00 = _mm256_setzero_si256(), c01 = _mm256_setzero_si256();
            for (int32_t kp = 0; kp < kp_n; ++kp) {
                const __m256i w0 =
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + kp * 32));
                const __m256i w1 =
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + kp * 32 + 16));
                int32_t p0;
                std::memcpy(&p0, a0 + 2 * kp, 4);
                const __m256i v0 = _mm256_set1_epi32(p0);
                c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(v0, w0));
                c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(v0, w1));
            }
            int32_t* cr = c + int64_t{r} * ldc + b * 16;
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(cr), c00);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(cr + 8), c01);
        }
    }
}

const bool kHasAvx2 = __builtin_cpu_supports("avx2");

// ---- float ----

// The epilogue shared by both float kernels: bias (or + 0.0f, as the reference adds), then
// clampF's std::min(std::max(v, lo), hi).
inline float biasClamp(float v, float b, float lo, float hi) {
    v += b;
    const float t = v < lo ? lo : v;
    return hi < t ? hi : t;
}

// Portable version: 16 channels per step, one accumulator per output, depth in order.
void gemmF32Scalar(const float* a, int32_t m, int32_t lda, const PackedWeightsF32& w,
                   const float* bias, float lo, float hi, float* c, int32_t ldc) {
    for (int32_t r = 0; r < m; ++r) {
        const float* ar = a + int64_t{r} * lda;
        for (int32_t b = 0; b < w.n_blocks; ++b) {
            const float* block = w.data.data() + static_cast<size_t>(b) * w.k * 16;
            float acc[16] = {};
            for (int32_t d = 0; d < w.k; ++d) {
                const float x = ar[d];
                const float* wb = block + int64_t{d} * 16;
                for (int j = 0; j < 16; ++j) acc[j] += x * wb[j];
            }
            const int32_t cols = std::min(16, w.n - b * 16);
            float* cr = c + int64_t{r} * ldc + b * 16;
            for (int32_t j = 0; j < cols; ++j)
                cr[j] = biasClamp(acc[j], bias ? bias[b * 16 + j] : 0.0f, lo, hi);
        }
    }
}

// Stores one row of 16 accumulators (two ymm) with the epilogue; a partial last block goes
// through a buffer.
__attribute__((target("avx2"))) inline void storeRowF32(__m256 v0, __m256 v1, const float* bias,
                                                        __m256 lo, __m256 hi, float* dst,
                                                        int32_t cols) {
    const __m256 b0 = bias && cols == 16 ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();
    const __m256 b1 = bias && cols == 16 ? _mm256_loadu_ps(bias + 8) : _mm256_setzero_ps();
    if (cols == 16) {
        // max(v, lo) then min(., hi) with the operands ordered as clampF's std::max/std::min
        // (vmaxps returns the second operand when either is NaN, as v < lo ? lo : v does).
        v0 = _mm256_add_ps(v0, b0);
        v1 = _mm256_add_ps(v1, b1);
        v0 = _mm256_min_ps(hi, _mm256_max_ps(lo, v0));
        v1 = _mm256_min_ps(hi, _mm256_max_ps(lo, v1));
        _mm256_storeu_ps(dst, v0);
        _mm256_storeu_ps(dst + 8, v1);
        return;
    }
    alignas(32) float tmp[16];
    _mm256_store_ps(tmp, v0);
    _mm256_store_ps(tmp + 8, v1);
    float l, h;
    _mm_store_ss(&l, _mm256_castps256_ps128(lo));
    _mm_store_ss(&h, _mm256_castps256_ps128(hi));
    for (int32_t j = 0; j < cols; ++j) dst[j] = biasClamp(tmp[j], bias ? bias[j] : 0.0f, l, h);
}

// AVX2: a 6-row x 16-channel tile (12 accumulators, 2 weight registers, 1 broadcast).
// Multiply and add stay separate instructions: the function is compiled for AVX2 without FMA,
// so the compiler cannot contract them either (g++ contracts by default in C++). Every output
// then sums its products
// in depth order with the same roundings as the plain reference loop, so the fast path is
// bit-identical to it. A fused multiply-add changes the last bits, and hybrid ops downstream
// quantize those floats again: on mobilenet_v2_035_96_embedder_dynamic_range one element of
// op 17's input then lands on the other side of a rounding boundary (litert golden data).
// Rows are taken in chunks whose A rows stay in L2 while every weight block passes over them.
__attribute__((target("avx2"))) void gemmF32Avx2(const float* a, int32_t m, int32_t lda,
                                                 const PackedWeightsF32& w, const float* bias,
                                                 float lo_s, float hi_s, float* c, int32_t ldc) {
    const int32_t k = w.k;
    const __m256 lo = _mm256_set1_ps(lo_s), hi = _mm256_set1_ps(hi_s);
    const int32_t chunk = std::max<int32_t>(6, (96 * 1024 / std::max(1, k * 4)) / 6 * 6);
    for (int32_t r0 = 0; r0 < m; r0 += chunk) {
        const int32_t r_end = std::min(m, r0 + chunk);
        for (int32_t b = 0; b < w.n_blocks; ++b) {
            const float* block = w.data.data() + static_cast<size_t>(b) * k * 16;
            const int32_t cols = std::min(16, w.n - b * 16);
            const float* bb = bias ? bias + b * 16 : nullptr;
            int32_t r = r0;
            for (; r + 6 <= r_end; r += 6) {
                const float* ar = a + int64_t{r} * lda;
                __m256 acc0[6], acc1[6];
                for (int i = 0; i < 6; ++i) acc0[i] = acc1[i] = _mm256_setzero_ps();
                for (int32_t d = 0; d < k; ++d) {
                    const __m256 w0 = _mm256_loadu_ps(block + int64_t{d} * 16);
                    const __m256 w1 = _mm256_loadu_ps(block + int64_t{d} * 16 + 8);
                    for (int i = 0; i < 6; ++i) {
                        const __m256 x = _mm256_broadcast_ss(ar + int64_t{i} * lda + d);
                        acc0[i] = _mm256_add_ps(acc0[i], _mm256_mul_ps(x, w0));
                        acc1[i] = _mm256_add_ps(acc1[i], _mm256_mul_ps(x, w1));
                    }
                }
                for (int i = 0; i < 6; ++i)
                    storeRowF32(acc0[i], acc1[i], bb, lo, hi, c + int64_t{r + i} * ldc + b * 16,
                                cols);
            }
            for (; r < r_end; ++r) {
                const float* ar = a + int64_t{r} * lda;
                __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
                for (int32_t d = 0; d < k; ++d) {
                    const __m256 x = _mm256_broadcast_ss(ar + d);
                    acc0 = _mm256_add_ps(
                        acc0, _mm256_mul_ps(x, _mm256_loadu_ps(block + int64_t{d} * 16)));
                    acc1 = _mm256_add_ps(
                        acc1, _mm256_mul_ps(x, _mm256_loadu_ps(block + int64_t{d} * 16 + 8)));
                }
                storeRowF32(acc0, acc1, bb, lo, hi, c + int64_t{r} * ldc + b * 16, cols);
            }
        }
    }
}

// AVX-512: the same sums, 16 channels per register, tiles of 6 rows x 32 channels (two packed
// blocks; 12 accumulators). This file is built with -ffp-contract=off (engine/CMakeLists.txt),
// so multiply and add stay separate although AVX-512 has FMA: bit-identical to the AVX2 and
// plain paths.
// GCC 12 warns inside its own avx512fintrin.h (_mm512_max_ps/_mm512_min_ps start from
// _mm512_undefined_ps; GCC bug 105593), not about this code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#define QS_GEMM512 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw")))
QS_GEMM512 inline void storeRowF32x16(__m512 v, const float* bias, __m512 lo, __m512 hi, float lo_s,
                                      float hi_s, float* dst, int32_t cols) {
    if (cols == 16) {
        v = _mm512_add_ps(v, bias ? _mm512_loadu_ps(bias) : _mm512_setzero_ps());
        _mm512_storeu_ps(dst, _mm512_min_ps(hi, _mm512_max_ps(lo, v)));
        return;
    }
    alignas(64) float tmp[16];
    _mm512_store_ps(tmp, v);
    for (int32_t j = 0; j < cols; ++j)
        dst[j] = biasClamp(tmp[j], bias ? bias[j] : 0.0f, lo_s, hi_s);
}

template <int kBlocks, int kRows>
QS_GEMM512 inline void tileF32x16(const float* ar, int32_t lda, const float* block, int32_t k,
                                  const float* bias, __m512 lo, __m512 hi, float lo_s, float hi_s,
                                  float* cr, int32_t ldc, int32_t cols) {
    __m512 acc[kRows][kBlocks];
    for (int i = 0; i < kRows; ++i)
        for (int j = 0; j < kBlocks; ++j) acc[i][j] = _mm512_setzero_ps();
    const int64_t stride = int64_t{k} * 16;  // between consecutive packed blocks
    for (int32_t d = 0; d < k; ++d) {
        __m512 wv[kBlocks];
        for (int j = 0; j < kBlocks; ++j)
            wv[j] = _mm512_loadu_ps(block + j * stride + int64_t{d} * 16);
        for (int i = 0; i < kRows; ++i) {
            const __m512 x = _mm512_set1_ps(ar[int64_t{i} * lda + d]);
            for (int j = 0; j < kBlocks; ++j)
                acc[i][j] = _mm512_add_ps(acc[i][j], _mm512_mul_ps(x, wv[j]));
        }
    }
    for (int i = 0; i < kRows; ++i)
        for (int j = 0; j < kBlocks; ++j) {
            const int32_t cj = std::min(16, cols - 16 * j);
            storeRowF32x16(acc[i][j], bias ? bias + 16 * j : nullptr, lo, hi, lo_s, hi_s,
                           cr + int64_t{i} * ldc + 16 * j, cj);
        }
}

template <int kBlocks>
QS_GEMM512 inline void rowsF32x16(const float* a, int32_t r0, int32_t r_end, int32_t lda,
                                  const float* block, int32_t k, const float* bias, __m512 lo,
                                  __m512 hi, float lo_s, float hi_s, float* c, int32_t ldc,
                                  int32_t cols) {
    int32_t r = r0;
    for (; r + 6 <= r_end; r += 6)
        tileF32x16<kBlocks, 6>(a + int64_t{r} * lda, lda, block, k, bias, lo, hi, lo_s, hi_s,
                               c + int64_t{r} * ldc, ldc, cols);
    for (; r < r_end; ++r)
        tileF32x16<kBlocks, 1>(a + int64_t{r} * lda, lda, block, k, bias, lo, hi, lo_s, hi_s,
                               c + int64_t{r} * ldc, ldc, cols);
}

QS_GEMM512 void gemmF32Avx512(const float* a, int32_t m, int32_t lda, const PackedWeightsF32& w,
                              const float* bias, float lo_s, float hi_s, float* c, int32_t ldc) {
    const int32_t k = w.k;
    const __m512 lo = _mm512_set1_ps(lo_s), hi = _mm512_set1_ps(hi_s);
    const int32_t chunk = std::max<int32_t>(6, (96 * 1024 / std::max(1, k * 4)) / 6 * 6);
    for (int32_t r0 = 0; r0 < m; r0 += chunk) {
        const int32_t r_end = std::min(m, r0 + chunk);
        int32_t b = 0;
        for (; b + 2 <= w.n_blocks; b += 2)
            rowsF32x16<2>(a, r0, r_end, lda, w.data.data() + static_cast<size_t>(b) * k * 16, k,
                          bias ? bias + b * 16 : nullptr, lo, hi, lo_s, hi_s, c + b * 16, ldc,
                          std::min(32, w.n - b * 16));
        for (; b < w.n_blocks; ++b)
            rowsF32x16<1>(a, r0, r_end, lda, w.data.data() + static_cast<size_t>(b) * k * 16, k,
                          bias ? bias + b * 16 : nullptr, lo, hi, lo_s, hi_s, c + b * 16, ldc,
                          std::min(16, w.n - b * 16));
    }
}
#undef QS_GEMM512
#pragma GCC diagnostic pop

const bool kHasAvx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw");

}  // namespace

PackedWeightsS16 packWeightsS16(const int8_t* rows, int32_t n, int32_t k, int32_t offset) {
    return pack(rows, n, k, offset);
}
PackedWeightsS16 packWeightsS16(const uint8_t* rows, int32_t n, int32_t k, int32_t offset) {
    return pack(rows, n, k, offset);
}

void gemmS16(const int16_t* a, int32_t m, int32_t lda, const PackedWeightsS16& w, int32_t* c,
             int32_t ldc) {
    if (kHasAvx2)
        gemmAvx2(a, m, lda, w, c, ldc);
    else
        gemmScalar(a, m, lda, w, c, ldc);
}

bool gemmUsesAvx2() {
    return kHasAvx2;
}

PackedWeightsF32 packWeightsF32(const float* rows, int32_t n, int32_t k) {
    PackedWeightsF32 p;
    p.n = n;
    p.k = k;
    p.n_blocks = (n + 15) / 16;
    p.data.resize(static_cast<size_t>(p.n_blocks) * k * 16);
    // Written in packed order (sequential stores; 16 read streams, one per channel): one
    // pass over the destination instead of a zero fill and 16-float strided stores.
    for (int32_t b = 0; b < p.n_blocks; ++b) {
        float* dst = p.data.data() + static_cast<size_t>(b) * k * 16;
        const int32_t cols = std::min(16, n - b * 16);
        const float* src = rows + int64_t{b} * 16 * k;
        for (int32_t d = 0; d < k; ++d, dst += 16) {
            int32_t j = 0;
            for (; j < cols; ++j) dst[j] = src[int64_t{j} * k + d];
            for (; j < 16; ++j) dst[j] = 0.0f;
        }
    }
    return p;
}

void gemmF32(const float* a, int32_t m, int32_t lda, const PackedWeightsF32& w, const float* bias,
             float lo, float hi, float* c, int32_t ldc) {
    if (kHasAvx512)
        gemmF32Avx512(a, m, lda, w, bias, lo, hi, c, ldc);
    else if (kHasAvx2)
        gemmF32Avx2(a, m, lda, w, bias, lo, hi, c, ldc);
    else
        gemmF32Scalar(a, m, lda, w, bias, lo, hi, c, ldc);
}

void PackedFilter::prepare(const TensorValue* constant, model::DType type, int32_t n, int32_t k,
                           int32_t offset) {
    m_type = type;
    m_n = n, m_k = k, m_offset = offset;
    m_constant = constant != nullptr;
    if (m_constant) pack(*constant);
}

void PackedFilter::pack(const TensorValue& filter) {
    switch (m_type) {
        case model::DType::Int8:
            m_s16 = packWeightsS16(filter.data<int8_t>().data(), m_n, m_k, m_offset);
            break;
        case model::DType::UInt8:
            m_s16 = packWeightsS16(filter.data<uint8_t>().data(), m_n, m_k, m_offset);
            break;
        default:
            m_f32 = packWeightsF32(filter.data<float>().data(), m_n, m_k);
            break;
    }
}

const PackedWeightsS16& PackedFilter::s16(const TensorValue& filter) {
    if (!m_constant) pack(filter);
    return m_s16;
}

const PackedWeightsF32& PackedFilter::f32(const TensorValue& filter) {
    if (!m_constant) pack(filter);
    return m_f32;
}

}  // namespace qs::engine::kernels
