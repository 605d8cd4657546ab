/*
 * xxh64.c -- XXH64 (the hash of llama-gguf-hash's manifests), written out so
 * that two streams can be fed from one pass over the data.
 *
 * A manifest hashes every tensor on its own and all tensors as one stream,
 * so every byte goes through XXH64 twice. XXH64 is bound by its 64-bit
 * multiplies (eight per 32-byte stripe, on one scalar port); the pair update
 * runs the per-tensor stream on the scalar multiplier and the whole-model
 * stream on AVX2 (four lanes, the 64-bit products built from 32-bit ones),
 * so both digests cost about one pass. The algorithm and its constants are
 * those of the XXH64 specification (xxHash's doc/xxhash_spec.md); the
 * digests equal libxxhash's XXH64, which the tests check.
 */
#include <string.h>

#include "kernels/kernels.h"
#include "verify/verify_internal.h"

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL
#define P4 0x85EBCA77C2B2AE63ULL
#define P5 0x27D4EB2F165667C5ULL

static inline uint64_t rotl64(uint64_t x, int r) {
    return (x << r) | (x >> (64 - r));
}

static inline uint64_t read64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v; /* little-endian hosts only, like the rest of ggufkit */
}

static inline uint32_t read32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint64_t round64(uint64_t acc, uint64_t input) {
    acc += input * P2;
    acc = rotl64(acc, 31);
    return acc * P1;
}

static inline uint64_t merge_round(uint64_t h, uint64_t v) {
    h ^= round64(0, v);
    return h * P1 + P4;
}

void vfy_xxh64_reset(vfy_xxh64 *s) {
    memset(s, 0, sizeof *s);
    s->v[0] = P1 + P2;
    s->v[1] = P2;
    s->v[2] = 0;
    s->v[3] = -P1;
}

/* Whole stripes from p: n_stripes * 32 bytes. */
static void stripes_scalar(uint64_t v[4], const uint8_t *p, size_t n_stripes) {
    uint64_t a = v[0], b = v[1], c = v[2], d = v[3];
    for (size_t i = 0; i < n_stripes; i++, p += 32) {
        a = round64(a, read64(p));
        b = round64(b, read64(p + 8));
        c = round64(c, read64(p + 16));
        d = round64(d, read64(p + 24));
    }
    v[0] = a, v[1] = b, v[2] = c, v[3] = d;
}

void vfy_xxh64_update(vfy_xxh64 *s, const uint8_t *p, size_t n) {
    s->total += n;
    if (s->nbuf) { /* complete the buffered stripe first */
        size_t take = 32 - s->nbuf < n ? 32 - s->nbuf : n;
        memcpy(s->buf + s->nbuf, p, take);
        s->nbuf += (unsigned)take;
        p += take, n -= take;
        if (s->nbuf < 32)
            return;
        stripes_scalar(s->v, s->buf, 1);
        s->nbuf = 0;
    }
    stripes_scalar(s->v, p, n / 32);
    p += n / 32 * 32;
    s->nbuf = (unsigned)(n % 32);
    memcpy(s->buf, p, s->nbuf);
}

uint64_t vfy_xxh64_digest(const vfy_xxh64 *s) {
    uint64_t h;
    if (s->total >= 32) {
        h = rotl64(s->v[0], 1) + rotl64(s->v[1], 7) + rotl64(s->v[2], 12) + rotl64(s->v[3], 18);
        for (int i = 0; i < 4; i++)
            h = merge_round(h, s->v[i]);
    } else {
        h = s->v[2] + P5; /* v[2] is the seed */
    }
    h += s->total;
    const uint8_t *p = s->buf, *end = s->buf + s->nbuf;
    for (; p + 8 <= end; p += 8) {
        h ^= round64(0, read64(p));
        h = rotl64(h, 27) * P1 + P4;
    }
    if (p + 4 <= end) {
        h ^= (uint64_t)read32(p) * P1;
        h = rotl64(h, 23) * P2 + P3;
        p += 4;
    }
    for (; p < end; p++) {
        h ^= *p * P5;
        h = rotl64(h, 11) * P1;
    }
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    h *= P3;
    h ^= h >> 32;
    return h;
}

/* ------------------------------------------------------------------------ */
/* Two streams, one pass                                                      */
/* ------------------------------------------------------------------------ */

/* n_stripes stripes for a from pa and for b from pb, interleaved so that the
 * two dependency chains overlap (the portable path). */
static void stripes_pair_scalar(uint64_t va[4], const uint8_t *pa, uint64_t vb[4],
                                const uint8_t *pb, size_t n_stripes) {
    for (size_t i = 0; i < n_stripes; i++, pa += 32, pb += 32)
        for (int k = 0; k < 4; k++) {
            va[k] = round64(va[k], read64(pa + 8 * k));
            vb[k] = round64(vb[k], read64(pb + 8 * k));
        }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

/* x * c mod 2^64 per lane from 32x32->64 products: lo(x)lo(c) +
 * ((hi(x)lo(c) + lo(x)hi(c)) << 32). */
__attribute__((target("avx2"))) static inline __m256i mul64_avx2(__m256i x, __m256i c_lo,
                                                                 __m256i c_hi) {
    __m256i lo = _mm256_mul_epu32(x, c_lo);
    __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(x, 32), c_lo),
                                     _mm256_mul_epu32(x, c_hi));
    return _mm256_add_epi64(lo, _mm256_slli_epi64(cross, 32));
}

/* a's rounds on the scalar multiplier, b's four lanes in one AVX2 register. */
__attribute__((target("avx2"))) static void stripes_pair_avx2(uint64_t va[4], const uint8_t *pa,
                                                              uint64_t vb[4], const uint8_t *pb,
                                                              size_t n_stripes) {
    const __m256i p1_lo = _mm256_set1_epi64x((long long)(P1 & 0xFFFFFFFFu));
    const __m256i p1_hi = _mm256_set1_epi64x((long long)(P1 >> 32));
    const __m256i p2_lo = _mm256_set1_epi64x((long long)(P2 & 0xFFFFFFFFu));
    const __m256i p2_hi = _mm256_set1_epi64x((long long)(P2 >> 32));
    __m256i acc = _mm256_loadu_si256((const __m256i *)vb);
    uint64_t a = va[0], b = va[1], c = va[2], d = va[3];
    for (size_t i = 0; i < n_stripes; i++, pa += 32, pb += 32) {
        __m256i in = _mm256_loadu_si256((const __m256i *)pb);
        acc = _mm256_add_epi64(acc, mul64_avx2(in, p2_lo, p2_hi));
        acc = _mm256_or_si256(_mm256_slli_epi64(acc, 31), _mm256_srli_epi64(acc, 33));
        acc = mul64_avx2(acc, p1_lo, p1_hi);
        a = round64(a, read64(pa));
        b = round64(b, read64(pa + 8));
        c = round64(c, read64(pa + 16));
        d = round64(d, read64(pa + 24));
    }
    va[0] = a, va[1] = b, va[2] = c, va[3] = d;
    _mm256_storeu_si256((__m256i *)vb, acc);
}
#define HAVE_STRIPES_PAIR_AVX2 1
#endif

static void stripes_pair(uint64_t va[4], const uint8_t *pa, uint64_t vb[4], const uint8_t *pb,
                         size_t n_stripes) {
#ifdef HAVE_STRIPES_PAIR_AVX2
    kern_isa isa = kern_isa_current();
    if (isa == KERN_ISA_AVX2 || isa == KERN_ISA_AVX512) {
        stripes_pair_avx2(va, pa, vb, pb, n_stripes);
        return;
    }
#endif
    stripes_pair_scalar(va, pa, vb, pb, n_stripes);
}

/* The two streams usually sit at different offsets within a stripe (the
 * whole-model stream has seen other tensors first): each is brought to a
 * stripe boundary on its own, the stripes both can take run as pairs, and
 * each finishes its remainder on its own. */
void vfy_xxh64_update_pair(vfy_xxh64 *a, vfy_xxh64 *b, const uint8_t *p, size_t n) {
    size_t ha = a->nbuf ? 32 - a->nbuf : 0, hb = b->nbuf ? 32 - b->nbuf : 0;
    if (ha > n)
        ha = n;
    if (hb > n)
        hb = n;
    vfy_xxh64_update(a, p, ha);
    vfy_xxh64_update(b, p, hb);
    size_t ra = n - ha, rb = n - hb;
    size_t pairs = (ra < rb ? ra : rb) / 32;
    if (a->nbuf == 0 && b->nbuf == 0 && pairs > 0) {
        stripes_pair(a->v, p + ha, b->v, p + hb, pairs);
        a->total += pairs * 32, b->total += pairs * 32;
        ha += pairs * 32, hb += pairs * 32;
    }
    vfy_xxh64_update(a, p + ha, n - ha);
    vfy_xxh64_update(b, p + hb, n - hb);
}
