#include "CMinHash.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

_Bool cminhash_avx2_available(void) {
    return __builtin_cpu_supports("avx2");
}

/// One lane's 64-bit product modulo 2^64 from 32-bit multiplies (AVX2 has no 64-bit one):
/// a·x = al·xl + ((ah·xl + al·xh) << 32).
__attribute__((target("avx2")))
static inline __m256i value_of(__m256i a, __m256i a_high, __m256i b, __m256i x, __m256i x_high) {
    __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(a_high, x), _mm256_mul_epu32(a, x_high));
    __m256i product = _mm256_add_epi64(_mm256_mul_epu32(a, x), _mm256_slli_epi64(cross, 32));
    // The high 32 bits, in the low half of each 64-bit lane (the high half zero, so an
    // unsigned 32-bit min over the lanes keeps it zero).
    return _mm256_srli_epi64(_mm256_add_epi64(product, b), 32);
}

__attribute__((target("avx2")))
void cminhash_update_avx2(uint32_t *minimums, const uint64_t *multipliers, const uint64_t *offsets,
                          size_t count, const uint64_t *hashes, size_t hash_count) {
    // Eight values per pass over the hashes, their minimums held in registers.
    for (size_t i = 0; i + 8 <= count; i += 8) {
        __m256i a0 = _mm256_loadu_si256((const __m256i *)(multipliers + i));
        __m256i a1 = _mm256_loadu_si256((const __m256i *)(multipliers + i + 4));
        __m256i a0_high = _mm256_srli_epi64(a0, 32), a1_high = _mm256_srli_epi64(a1, 32);
        __m256i b0 = _mm256_loadu_si256((const __m256i *)(offsets + i));
        __m256i b1 = _mm256_loadu_si256((const __m256i *)(offsets + i + 4));
        __m256i m0 = _mm256_cvtepu32_epi64(_mm_loadu_si128((const __m128i *)(minimums + i)));
        __m256i m1 = _mm256_cvtepu32_epi64(_mm_loadu_si128((const __m128i *)(minimums + i + 4)));
        for (size_t h = 0; h < hash_count; h++) {
            __m256i x = _mm256_set1_epi64x((long long)hashes[h]);
            __m256i x_high = _mm256_srli_epi64(x, 32);
            m0 = _mm256_min_epu32(m0, value_of(a0, a0_high, b0, x, x_high));
            m1 = _mm256_min_epu32(m1, value_of(a1, a1_high, b1, x, x_high));
        }
        // Back to eight 32-bit values: the low half of each 64-bit lane.
        const __m256i low_halves = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
        __m128i low0 = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(m0, low_halves));
        __m128i low1 = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(m1, low_halves));
        _mm_storeu_si128((__m128i *)(minimums + i), low0);
        _mm_storeu_si128((__m128i *)(minimums + i + 4), low1);
    }
}

#else

_Bool cminhash_avx2_available(void) { return 0; }

void cminhash_update_avx2(uint32_t *minimums, const uint64_t *multipliers, const uint64_t *offsets,
                          size_t count, const uint64_t *hashes, size_t hash_count) {
    (void)minimums; (void)multipliers; (void)offsets; (void)count; (void)hashes; (void)hash_count;
}

#endif
