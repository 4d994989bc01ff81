#include "engine/kernels/gemm.h"

#include <immintrin.h>

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

// AVX2: a 4-row x 16-channel tile. Each step broadcasts one (a[2k], a[2k+1]) pair per row and
// multiplies it with 16 channels' weight pairs (vpmaddwd: two 16x16-bit products summed into
// 32 bits, exact since |product| <= 255^2).
__attribute__((target("avx2"))) void gemmAvx2(const int16_t* a, int32_t m, int32_t lda,
                                              const PackedWeightsS16& w, int32_t* c, int32_t ldc) {
    const int32_t kp_n = w.k_pairs;
    int32_t r = 0;
    for (; r + 4 <= m; r += 4) {
        const int16_t* a0 = a + int64_t{r} * lda;
        const int16_t* a1 = a0 + lda;
        const int16_t* a2 = a1 + lda;
        const int16_t* a3 = a2 + lda;
        for (int32_t b = 0; b < w.n_blocks; ++b) {
            const int16_t* block = w.data.data() + static_cast<size_t>(b) * kp_n * 32;
            __m256i c00 = _mm256_setzero_si256(), c01 = _mm256_setzero_si256();
            __m256i c10 = _mm256_setzero_si256(), c11 = _mm256_setzero_si256();
            __m256i c20 = _mm256_setzero_si256(), c21 = _mm256_setzero_si256();
            __m256i c30 = _mm256_setzero_si256(), c31 = _mm256_setzero_si256();
            for (int32_t kp = 0; kp < kp_n; ++kp) {
                const __m256i w0 =
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + kp * 32));
                const __m256i w1 =
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + kp * 32 + 16));
                int32_t p0, p1, p2, p3;
                std::memcpy(&p0, a0 + 2 * kp, 4);
                std::memcpy(&p1, a1 + 2 * kp, 4);
                std::memcpy(&p2, a2 + 2 * kp, 4);
                std::memcpy(&p3, a3 + 2 * kp, 4);
                const __m256i v0 = _mm256_set1_epi32(p0), v1 = _mm256_set1_epi32(p1);
                const __m256i v2 = _mm256_set1_epi32(p2), v3 = _mm256_set1_epi32(p3);
                c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(v0, w0));
                c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(v0, w1));
                c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(v1, w0));
                c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(v1, w1));
                c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(v2, w0));
                c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(v2, w1));
                c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(v3, w0));
                c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(v3, w1));
            }
            int32_t* cr = c + int64_t{r} * ldc + b * 16;
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(cr), c00);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(cr + 8), c01);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(cr + ldc), c10);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(cr + ldc + 8), c11);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(cr + 2 * ldc), c20);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(cr + 2 * ldc + 8), c21);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(cr + 3 * ldc), c30);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(cr + 3 * ldc + 8), c31);
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

}  // namespace qs::engine::kernels
