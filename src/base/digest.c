/*
 * digest.c — SHAKE-128 / SHA3-256 digests, base64, and the row-id generator (see digest.h).
 *
 * SHAKE-128 is our own Keccak-f[1600] (FIPS 202), the one implementation every id and hash of
 * dlt's layout goes through (nested row ids, boundary hashes, identifier tags). Every nested
 * row needs a digest, so this is on the normalizer's hot path; measured against OpenSSL 3's
 * EVP (assembler permutation, prefetched EVP_MD, reused context) it is as fast or faster and
 * allocates nothing, so it cannot fail (figures above keccak_f1600). SHA3-256 (the version
 * hashes of state and schema) is the same sponge with SHA-3's rate and padding: sluice links
 * no OpenSSL (base/dynlib.h says why). The unit tests check both against OpenSSL for inputs
 * and outputs of every length around the rates. The same round, written once as a macro over
 * the lane type, also runs on vectors of four states (sl_shake128_n: the nested row ids of a
 * list, four per permutation with AVX2 / AVX-512; the unit tests check every implementation
 * the CPU has against one-by-one digests). The package file checksums
 * are libxxhash's XXH3. The generator is xorshift128+ (fast, and only used for row ids, never
 * for anything secret).
 */
#include "base/digest.h"

#include <stdio.h>
#include <string.h>

#include <xxhash.h>

uint64_t sl_checksum_add(uint64_t h, const void *data, size_t len)
{
    return XXH3_64bits_withSeed(data, len, h ^ (uint64_t)len);
}

void sl_checksum_text(uint64_t h, char out[SL_CHECKSUM_TEXT])
{
    snprintf(out, SL_CHECKSUM_TEXT, "xxh3:%016llx", (unsigned long long)h);
}

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void sl_base64(const unsigned char *in, size_t len, int pad, char *out)
{
    size_t o = 0;
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
        out[o++] = b64chars[(v >> 18) & 63];
        out[o++] = b64chars[(v >> 12) & 63];
        out[o++] = b64chars[(v >> 6) & 63];
        out[o++] = b64chars[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        out[o++] = b64chars[(v >> 18) & 63];
        out[o++] = b64chars[(v >> 12) & 63];
        if (i + 1 < len)
            out[o++] = b64chars[(v >> 6) & 63];
        else if (pad)
            out[o++] = '=';
        if (pad)
            out[o++] = '=';
    }
    out[o] = '\0';
}

long sl_base64_decode(const char *in, size_t len, unsigned char *out)
{
    uint32_t acc = 0;
    int bits = 0;
    long o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        int v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+' || c == '-')
            v = 62;
        else if (c == '/' || c == '_')
            v = 63;
        else if (c == '=')
            break;
        else if (c == '\n' || c == '\r')
            continue;
        else
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)((acc >> bits) & 0xFF);
        }
    }
    return o;
}

#define ROTL64(x, n) (((x) << (n)) | ((x) >> (64 - (n))))

static const uint64_t keccak_rc[24] = {
    0x0000000000000001ull, 0x0000000000008082ull, 0x800000000000808aull, 0x8000000080008000ull,
    0x000000000000808bull, 0x0000000080000001ull, 0x8000000080008081ull, 0x8000000000008009ull,
    0x000000000000008aull, 0x0000000000000088ull, 0x0000000080008009ull, 0x000000008000000aull,
    0x000000008000808bull, 0x800000000000008bull, 0x8000000000008089ull, 0x8000000000008003ull,
    0x8000000000008002ull, 0x8000000000000080ull, 0x000000000000800aull, 0x800000008000000aull,
    0x8000000080008081ull, 0x8000000000008080ull, 0x0000000080000001ull, 0x8000000080008008ull,
};

/*
 * Keccak-f[1600], written plane by plane. Lane a<x><y> is s[x + 5y]. A round computes theta's
 * column parities c0..c4 and d0..d4, then for each output plane y takes the five lanes that rho
 * and pi bring into it (b0..b4: xored with d, rotated), applies chi and writes the plane into
 * the other set of 25 variables, accumulating the next round's parities as it goes; iota
 * touches lane 00. Two rounds per loop turn (a -> e, e -> a), so no copy between rounds.
 *
 * Why this shape: the former version computed all 25 rotated lanes before chi, 50 values live
 * at once, and the compiler spilled most of them (7,358 instructions per permutation under
 * callgrind). Plane by plane only the five b's and the parities are live besides the state:
 * 6,158 instructions; the x86-64-v3 clone (andn, rorx: chosen at load time on CPUs that have
 * them) 4,779. OpenSSL 3's assembler permutation is 4,736, plus ~600 for EVP_DigestInit_ex2
 * / Update / FinalXOF with a prefetched EVP_MD and a reused context; timed alternately on
 * 1M digests of child-id inputs, EVP took 1.59 us against 1.29 (generic) and 1.08 (v3) for
 * this code on the shared build machine (ratios, not absolutes, count). So we keep our own.
 */
#define CHI(e, y, b0, b1, b2, b3, b4)                                                          \
    e##0##y = b0 ^ (~b1 & b2);                                                                 \
    e##1##y = b1 ^ (~b2 & b3);                                                                 \
    e##2##y = b2 ^ (~b3 & b4);                                                                 \
    e##3##y = b3 ^ (~b4 & b0);                                                                 \
    e##4##y = b4 ^ (~b0 & b1);

#define PARITY(e, y)                                                                           \
    c0 ^= e##0##y;                                                                             \
    c1 ^= e##1##y;                                                                             \
    c2 ^= e##2##y;                                                                             \
    c3 ^= e##3##y;                                                                             \
    c4 ^= e##4##y;

#define KECCAK_ROUND(T, a, e, k)                                                               \
    do {                                                                                       \
        T d0 = c4 ^ ROTL64(c1, 1), d1 = c0 ^ ROTL64(c2, 1), d2 = c1 ^ ROTL64(c3, 1);           \
        T d3 = c2 ^ ROTL64(c4, 1), d4 = c3 ^ ROTL64(c0, 1);                                    \
        T b0, b1, b2, b3, b4;                                                                  \
        b0 = a##00 ^ d0;                                                                       \
        b1 = ROTL64(a##11 ^ d1, 44);                                                           \
        b2 = ROTL64(a##22 ^ d2, 43);                                                           \
        b3 = ROTL64(a##33 ^ d3, 21);                                                           \
        b4 = ROTL64(a##44 ^ d4, 14);                                                           \
        CHI(e, 0, b0, b1, b2, b3, b4)                                                          \
        e##00 ^= keccak_rc[k];                                                                 \
        c0 = e##00; /* the next round's parities start from plane 0 */                         \
        c1 = e##10;                                                                            \
        c2 = e##20;                                                                            \
        c3 = e##30;                                                                            \
        c4 = e##40;                                                                            \
        b0 = ROTL64(a##30 ^ d3, 28);                                                           \
        b1 = ROTL64(a##41 ^ d4, 20);                                                           \
        b2 = ROTL64(a##02 ^ d0, 3);                                                            \
        b3 = ROTL64(a##13 ^ d1, 45);                                                           \
        b4 = ROTL64(a##24 ^ d2, 61);                                                           \
        CHI(e, 1, b0, b1, b2, b3, b4)                                                          \
        PARITY(e, 1)                                                                           \
        b0 = ROTL64(a##10 ^ d1, 1);                                                            \
        b1 = ROTL64(a##21 ^ d2, 6);                                                            \
        b2 = ROTL64(a##32 ^ d3, 25);                                                           \
        b3 = ROTL64(a##43 ^ d4, 8);                                                            \
        b4 = ROTL64(a##04 ^ d0, 18);                                                           \
        CHI(e, 2, b0, b1, b2, b3, b4)                                                          \
        PARITY(e, 2)                                                                           \
        b0 = ROTL64(a##40 ^ d4, 27);                                                           \
        b1 = ROTL64(a##01 ^ d0, 36);                                                           \
        b2 = ROTL64(a##12 ^ d1, 10);                                                           \
        b3 = ROTL64(a##23 ^ d2, 15);                                                           \
        b4 = ROTL64(a##34 ^ d3, 56);                                                           \
        CHI(e, 3, b0, b1, b2, b3, b4)                                                          \
        PARITY(e, 3)                                                                           \
        b0 = ROTL64(a##20 ^ d2, 62);                                                           \
        b1 = ROTL64(a##31 ^ d3, 55);                                                           \
        b2 = ROTL64(a##42 ^ d4, 39);                                                           \
        b3 = ROTL64(a##03 ^ d0, 41);                                                           \
        b4 = ROTL64(a##14 ^ d1, 2);                                                            \
        CHI(e, 4, b0, b1, b2, b3, b4)                                                          \
        PARITY(e, 4)                                                                           \
    } while (0)

/* The whole permutation of the state s[25] whose lanes are of type T: uint64_t, or a vector
 * of uint64_t (GCC's vector extensions), one state per vector element. */
#define KECCAK_PERMUTE(T, s)                                                                   \
    do {                                                                                       \
        T a00 = s[0], a10 = s[1], a20 = s[2], a30 = s[3], a40 = s[4];                          \
        T a01 = s[5], a11 = s[6], a21 = s[7], a31 = s[8], a41 = s[9];                          \
        T a02 = s[10], a12 = s[11], a22 = s[12], a32 = s[13], a42 = s[14];                     \
        T a03 = s[15], a13 = s[16], a23 = s[17], a33 = s[18], a43 = s[19];                     \
        T a04 = s[20], a14 = s[21], a24 = s[22], a34 = s[23], a44 = s[24];                     \
        T e00, e10, e20, e30, e40, e01, e11, e21, e31, e41, e02, e12, e22, e32, e42;           \
        T e03, e13, e23, e33, e43, e04, e14, e24, e34, e44;                                    \
        T c0 = a00 ^ a01 ^ a02 ^ a03 ^ a04;                                                    \
        T c1 = a10 ^ a11 ^ a12 ^ a13 ^ a14;                                                    \
        T c2 = a20 ^ a21 ^ a22 ^ a23 ^ a24;                                                    \
        T c3 = a30 ^ a31 ^ a32 ^ a33 ^ a34;                                                    \
        T c4 = a40 ^ a41 ^ a42 ^ a43 ^ a44;                                                    \
        for (int k = 0; k < 24; k += 2) {                                                      \
            KECCAK_ROUND(T, a, e, k);                                                          \
            KECCAK_ROUND(T, e, a, k + 1);                                                      \
        }                                                                                      \
        s[0] = a00; s[1] = a10; s[2] = a20; s[3] = a30; s[4] = a40;                            \
        s[5] = a01; s[6] = a11; s[7] = a21; s[8] = a31; s[9] = a41;                            \
        s[10] = a02; s[11] = a12; s[12] = a22; s[13] = a32; s[14] = a42;                       \
        s[15] = a03; s[16] = a13; s[17] = a23; s[18] = a33; s[19] = a43;                       \
        s[20] = a04; s[21] = a14; s[22] = a24; s[23] = a34; s[24] = a44;                       \
    } while (0)

/* target_clones: GCC and clang build a generic and an x86-64-v3 body and pick one when the
 * program loads (an ifunc); elsewhere the generic body is all there is. */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__ELF__)
#define KECCAK_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#define KECCAK_X4 1
#else
#define KECCAK_CLONES
#define KECCAK_X4 0
#endif

KECCAK_CLONES static void keccak_f1600(uint64_t s[25])
{
    KECCAK_PERMUTE(uint64_t, s);
}

static uint64_t load_le64(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

/* XOR len (< 168) bytes into the state, little-endian lanes. */
static void absorb(uint64_t s[25], const unsigned char *in, size_t len)
{
    size_t w = 0;
    for (; w < len / 8; w++)
        s[w] ^= load_le64(in + 8 * w);
    for (size_t i = 8 * w; i < len; i++)
        s[i / 8] ^= (uint64_t)in[i] << (8 * (i % 8));
}

/* The Keccak sponge of FIPS 202 with capacity 1600 - 8 * rate bits: absorb data, pad with the
 * domain bits dom (SHAKE: 0x1F, SHA-3: 0x06) and pad10*1, squeeze outlen bytes. */
static void sponge(size_t rate, unsigned dom, unsigned char *out, size_t outlen,
                   const void *data, size_t len)
{
    uint64_t s[25];
    const unsigned char *in = data;
    memset(s, 0, sizeof(s));
    while (len >= rate) {
        absorb(s, in, rate);
        keccak_f1600(s);
        in += rate;
        len -= rate;
    }
    absorb(s, in, len);
    s[len / 8] ^= (uint64_t)dom << (8 * (len % 8));
    s[(rate - 1) / 8] ^= (uint64_t)0x80 << (8 * ((rate - 1) % 8));
    keccak_f1600(s);
    for (size_t i = 0; i < outlen; i++) {
        if (i && i % rate == 0)
            keccak_f1600(s); /* squeeze the next block */
        size_t k = i % rate;
        out[i] = (unsigned char)(s[k / 8] >> (8 * (k % 8)));
    }
}

void sl_shake128(unsigned char *out, size_t outlen, const void *data, size_t len)
{
    sponge(SL_SHAKE_RATE, 0x1F, out, outlen, data, len);
}

void sl_sha3_256(unsigned char out[32], const void *data, size_t len)
{
    sponge(136, 0x06, out, 32, data, len);
}

/*
 * Four short messages at once: on x86-64 with AVX2 or AVX-512, element l of each vector of
 * the state belongs to message l, so one permutation serves four digests. Every nested row
 * needs one digest of a short text ("<parent id>_<table>_<index>"), and a list's rows are
 * known together (normalize.c asks for up to 8 at a time). Measured on the build machine (AMD
 * EPYC with AVX-512, a quiet moment, 2M permutations each): the scalar x86-64-v3 body 256 ns
 * per permutation, four states in one AVX-512VL body (GCC emits vprolq and vpternlogq for the
 * rotations and chi) 228 ns for all four, AVX2 378 ns for four; sl_shake128 of a child-id
 * text 324 ns, OpenSSL 3's EVP (EVP_MD fetched once, context reused) 511 ns. So with AVX-512
 * even one message goes through the vector body; with AVX2 only two or more.
 */
#if KECCAK_X4
typedef uint64_t lanes4 __attribute__((vector_size(32)));

/* A message's padded block as six groups of four words (words 21-23 are beyond the rate and
 * stay zero), up to the group that holds the message's last byte and SHAKE's domain byte;
 * the final 0x80 of the padding (word 20) is xored in by the caller for every lane at once. */
union block {
    unsigned char b[192];
    uint64_t w[24];
};

/* Pad data (len < RATE) into blk; returns the index of the last group written. */
static size_t pad_block(union block *blk, const void *data, size_t len)
{
    size_t g = len / 32;
    memset(blk->b, 0, 32 * (g + 1));
    memcpy(blk->b, data, len);
    blk->b[len] = 0x1F;
    return g;
}

/* n (1..4) messages, each shorter than the rate; outlen <= the rate. The words of a block are
 * its lanes (x86-64 is little-endian); group by group, the four blocks' words are transposed
 * into the four states with shuffles (building each vector from four scalar stores made the
 * CPU wait on a failed store forwarding for every one: a third of the time). */
#define SHAKE_X4(T, name, tgt)                                                                 \
    __attribute__((target(tgt))) static void name(size_t n, const void *const *data,          \
                                                  const size_t *len,                           \
                                                  unsigned char *const *out, size_t outlen)    \
    {                                                                                          \
        union block blk[4];                                                                    \
        T s[25];                                                                               \
        size_t last[4];                                                                        \
        for (size_t l = 0; l < 4; l++)                                                         \
            last[l] = pad_block(&blk[l], data[l < n ? l : 0], len[l < n ? l : 0]);             \
        for (size_t g = 0; g < 6; g++) {                                                       \
            T r0 = { 0, 0, 0, 0 }, r1 = r0, r2 = r0, r3 = r0;                                  \
            if (g <= last[0])                                                                  \
                memcpy(&r0, blk[0].w + 4 * g, 32);                                             \
            if (g <= last[1])                                                                  \
                memcpy(&r1, blk[1].w + 4 * g, 32);                                             \
            if (g <= last[2])                                                                  \
                memcpy(&r2, blk[2].w + 4 * g, 32);                                             \
            if (g <= last[3])                                                                  \
                memcpy(&r3, blk[3].w + 4 * g, 32);                                             \
            T t0 = __builtin_shufflevector(r0, r1, 0, 4, 2, 6);                                \
            T t1 = __builtin_shufflevector(r0, r1, 1, 5, 3, 7);                                \
            T t2 = __builtin_shufflevector(r2, r3, 0, 4, 2, 6);                                \
            T t3 = __builtin_shufflevector(r2, r3, 1, 5, 3, 7);                                \
            s[4 * g] = __builtin_shufflevector(t0, t2, 0, 1, 4, 5);                            \
            if (4 * g + 1 < 25) {                                                              \
                s[4 * g + 1] = __builtin_shufflevector(t1, t3, 0, 1, 4, 5);                    \
                s[4 * g + 2] = __builtin_shufflevector(t0, t2, 2, 3, 6, 7);                    \
                s[4 * g + 3] = __builtin_shufflevector(t1, t3, 2, 3, 6, 7);                    \
            }                                                                                  \
        }                                                                                      \
        s[24] = (T){ 0, 0, 0, 0 };                                                             \
        s[(SL_SHAKE_RATE - 1) / 8] ^= (uint64_t)0x80 << 56;                                    \
        KECCAK_PERMUTE(T, s);                                                                  \
        for (size_t l = 0; l < n; l++) {                                                       \
            for (size_t j = 0; j < (outlen + 7) / 8; j++)                                      \
                blk[l].w[j] = s[j][l];                                                         \
            memcpy(out[l], blk[l].b, outlen);                                                  \
        }                                                                                      \
    }

SHAKE_X4(lanes4, shake_x4_avx512, "avx512f,avx512vl")
SHAKE_X4(lanes4, shake_x4_avx2, "avx2")
#endif

int sl_shake128_n_impl(int impl, size_t n, const void *const *data, const size_t *len,
                       unsigned char *const *out, size_t outlen)
{
#if KECCAK_X4
    int has512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
    int has2 = __builtin_cpu_supports("avx2");
    if (impl == SL_SHAKE_AUTO)
        impl = has512 ? SL_SHAKE_AVX512 : has2 ? SL_SHAKE_AVX2 : SL_SHAKE_SCALAR;
    if ((impl == SL_SHAKE_AVX512 && !has512) || (impl == SL_SHAKE_AVX2 && !has2))
        return -1;
#else
    if (impl == SL_SHAKE_AUTO)
        impl = SL_SHAKE_SCALAR;
    if (impl != SL_SHAKE_SCALAR)
        return -1;
#endif
    size_t i = 0;
#if KECCAK_X4
    size_t min = impl == SL_SHAKE_AVX512 ? 1 : 2; /* AVX2: one message is faster alone */
    while (impl != SL_SHAKE_SCALAR && outlen <= SL_SHAKE_RATE && i < n) {
        /* the next up to four short messages; a long one goes alone */
        const void *d[4];
        size_t l[4];
        unsigned char *o[4];
        size_t k = 0;
        for (; i < n && k < 4 && len[i] < SL_SHAKE_RATE; i++, k++) {
            d[k] = data[i];
            l[k] = len[i];
            o[k] = out[i];
        }
        if (k >= min) {
            if (impl == SL_SHAKE_AVX512)
                shake_x4_avx512(k, d, l, o, outlen);
            else
                shake_x4_avx2(k, d, l, o, outlen);
        } else {
            for (size_t m = 0; m < k; m++)
                sl_shake128(o[m], outlen, d[m], l[m]);
        }
        if (i < n && len[i] >= SL_SHAKE_RATE) {
            sl_shake128(out[i], outlen, data[i], len[i]);
            i++;
        }
    }
#endif
    for (; i < n; i++)
        sl_shake128(out[i], outlen, data[i], len[i]);
    return 0;
}

void sl_shake128_n(size_t n, const void *const *data, const size_t *len,
                   unsigned char *const *out, size_t outlen)
{
    (void)sl_shake128_n_impl(SL_SHAKE_AUTO, n, data, len, out, outlen);
}

int sl_digest_shake128_b64(const void *data, size_t len, size_t nbytes, char *out)
{
    unsigned char md[64];
    if (nbytes > sizeof(md))
        return -1;
    sl_shake128(md, nbytes, data, len);
    sl_base64(md, nbytes, 0, out);
    return 0;
}

int sl_digest_sha3_256_b64(const void *data, size_t len, char out[45])
{
    unsigned char md[32];
    sl_sha3_256(md, data, len);
    sl_base64(md, 32, 1, out);
    return 0;
}

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void sl_rng_seed(struct sl_rng *r, uint64_t seed)
{
    r->s[0] = splitmix(&seed);
    r->s[1] = splitmix(&seed);
}

uint64_t sl_rng_next(struct sl_rng *r)
{
    uint64_t s1 = r->s[0];
    const uint64_t s0 = r->s[1];
    const uint64_t result = s0 + s1;
    r->s[0] = s0;
    s1 ^= s1 << 23;
    r->s[1] = s1 ^ s0 ^ (s1 >> 18) ^ (s0 >> 5);
    return result;
}

void sl_rng_row_id(struct sl_rng *r, char out[15])
{
    unsigned char bytes[16];
    uint64_t a = sl_rng_next(r);
    uint64_t b = sl_rng_next(r);
    memcpy(bytes, &a, 8);
    memcpy(bytes + 8, &b, 8);
    sl_base64(bytes, 10, 0, out);
}

/* base64's 64 characters in byte order: a counter written with them grows as text */
static const char sorted_b64[] =
    "+/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

void sl_row_ids_init(struct sl_row_ids *ids, struct sl_rng *r)
{
    uint64_t a = sl_rng_next(r);
    for (int i = 0; i < 6; i++)
        ids->prefix[i] = sorted_b64[(a >> (6 * i)) & 63];
    ids->next = sl_rng_next(r) >> 23; /* 41 bits: 2^41 ids before the 42-bit counter wraps */
}

void sl_row_ids_next(struct sl_row_ids *ids, char out[15])
{
    uint64_t v = ids->next++;
    memcpy(out, ids->prefix, 6);
    for (int i = 12; i >= 6; i--, v >>= 6)
        out[i] = sorted_b64[v & 63];
    out[13] = 'A'; /* the last character carries 2 bits of the 10th byte and 4 zero bits */
    out[14] = '\0';
}
