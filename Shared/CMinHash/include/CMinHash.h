#ifndef CMINHASH_H
#define CMINHASH_H

#include <stddef.h>
#include <stdint.h>

/// Whether this CPU runs `cminhash_update_avx2` (x86-64 with AVX2; false elsewhere).
_Bool cminhash_avx2_available(void);

/// MinHash over a text's shingles, eight values at a time in AVX2 lanes: for each i < count,
/// minimums[i] = min(minimums[i], high 32 bits of (multipliers[i] * hash + offsets[i]) mod 2^64)
/// over every hash. Exactly the values of the Swift loop in `MinHasher`, which the baseline
/// x86-64 target (SSE2: no 64-bit lane multiply, no unsigned 32-bit min) runs four times slower.
/// count must be a multiple of 8; call only when `cminhash_avx2_available()`.
void cminhash_update_avx2(uint32_t *minimums, const uint64_t *multipliers, const uint64_t *offsets,
                          size_t count, const uint64_t *hashes, size_t hash_count);

/// Asks the CPU to start loading the cache line at `address` (inlined into Swift): LSH lookups
/// touch dozens of unrelated lines, and their misses cost far less overlapped than one by one.
static inline void cminhash_prefetch(const void *address) {
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(address);
#else
    (void)address;
#endif
}

#endif
