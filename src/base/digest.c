/*
 * digest.c — SHAKE-128 / SHA3-256 digests, base64, and the row-id generator (see digest.h).
 *
 * SHAKE-128 is our own Keccak-f[1600] (FIPS 202), the one implementation every id and hash of
 * dlt's layout goes through (nested row ids, boundary hashes, identifier tags). Why not
 * OpenSSL's EVP: every nested row needs a digest, and each EVP call fetches the algorithm and
 * allocates a context (about 1.3 us here, which alone capped the normalizer near 400k
 * items/s); this plain permutation, lanes in registers, needs about half of that and no
 * allocation, so it cannot fail. The unit tests check it against OpenSSL for inputs and
 * outputs of every length around the 168-byte rate. SHA3-256 (version hashes, one per state
 * or schema write) stays with EVP; the package file checksums are libxxhash's XXH3. The
 * generator is xorshift128+ (fast, and only used for row ids, never for anything secret).
 */
#include "base/digest.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
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

/* Lane a<x><y> is s[x + 5y]; one round is theta, rho+pi (into b), chi and iota. */
static void keccak_f1600(uint64_t s[25])
{
    uint64_t a00 = s[0], a10 = s[1], a20 = s[2], a30 = s[3], a40 = s[4];
    uint64_t a01 = s[5], a11 = s[6], a21 = s[7], a31 = s[8], a41 = s[9];
    uint64_t a02 = s[10], a12 = s[11], a22 = s[12], a32 = s[13], a42 = s[14];
    uint64_t a03 = s[15], a13 = s[16], a23 = s[17], a33 = s[18], a43 = s[19];
    uint64_t a04 = s[20], a14 = s[21], a24 = s[22], a34 = s[23], a44 = s[24];
    for (int round = 0; round < 24; round++) {
        uint64_t c0 = a00 ^ a01 ^ a02 ^ a03 ^ a04;
        uint64_t c1 = a10 ^ a11 ^ a12 ^ a13 ^ a14;
        uint64_t c2 = a20 ^ a21 ^ a22 ^ a23 ^ a24;
        uint64_t c3 = a30 ^ a31 ^ a32 ^ a33 ^ a34;
        uint64_t c4 = a40 ^ a41 ^ a42 ^ a43 ^ a44;
        uint64_t d0 = c4 ^ ROTL64(c1, 1);
        uint64_t d1 = c0 ^ ROTL64(c2, 1);
        uint64_t d2 = c1 ^ ROTL64(c3, 1);
        uint64_t d3 = c2 ^ ROTL64(c4, 1);
        uint64_t d4 = c3 ^ ROTL64(c0, 1);
        a00 ^= d0; a10 ^= d1; a20 ^= d2; a30 ^= d3; a40 ^= d4;
        a01 ^= d0; a11 ^= d1; a21 ^= d2; a31 ^= d3; a41 ^= d4;
        a02 ^= d0; a12 ^= d1; a22 ^= d2; a32 ^= d3; a42 ^= d4;
        a03 ^= d0; a13 ^= d1; a23 ^= d2; a33 ^= d3; a43 ^= d4;
        a04 ^= d0; a14 ^= d1; a24 ^= d2; a34 ^= d3; a44 ^= d4;
        uint64_t b00 = a00;
        uint64_t b10 = ROTL64(a11, 44);
        uint64_t b20 = ROTL64(a22, 43);
        uint64_t b30 = ROTL64(a33, 21);
        uint64_t b40 = ROTL64(a44, 14);
        uint64_t b01 = ROTL64(a30, 28);
        uint64_t b11 = ROTL64(a41, 20);
        uint64_t b21 = ROTL64(a02, 3);
        uint64_t b31 = ROTL64(a13, 45);
        uint64_t b41 = ROTL64(a24, 61);
        uint64_t b02 = ROTL64(a10, 1);
        uint64_t b12 = ROTL64(a21, 6);
        uint64_t b22 = ROTL64(a32, 25);
        uint64_t b32 = ROTL64(a43, 8);
        uint64_t b42 = ROTL64(a04, 18);
        uint64_t b03 = ROTL64(a40, 27);
        uint64_t b13 = ROTL64(a01, 36);
        uint64_t b23 = ROTL64(a12, 10);
        uint64_t b33 = ROTL64(a23, 15);
        uint64_t b43 = ROTL64(a34, 56);
        uint64_t b04 = ROTL64(a20, 62);
        uint64_t b14 = ROTL64(a31, 55);
        uint64_t b24 = ROTL64(a42, 39);
        uint64_t b34 = ROTL64(a03, 41);
        uint64_t b44 = ROTL64(a14, 2);
        a00 = b00 ^ (~b10 & b20);
        a10 = b10 ^ (~b20 & b30);
        a20 = b20 ^ (~b30 & b40);
        a30 = b30 ^ (~b40 & b00);
        a40 = b40 ^ (~b00 & b10);
        a01 = b01 ^ (~b11 & b21);
        a11 = b11 ^ (~b21 & b31);
        a21 = b21 ^ (~b31 & b41);
        a31 = b31 ^ (~b41 & b01);
        a41 = b41 ^ (~b01 & b11);
        a02 = b02 ^ (~b12 & b22);
        a12 = b12 ^ (~b22 & b32);
        a22 = b22 ^ (~b32 & b42);
        a32 = b32 ^ (~b42 & b02);
        a42 = b42 ^ (~b02 & b12);
        a03 = b03 ^ (~b13 & b23);
        a13 = b13 ^ (~b23 & b33);
        a23 = b23 ^ (~b33 & b43);
        a33 = b33 ^ (~b43 & b03);
        a43 = b43 ^ (~b03 & b13);
        a04 = b04 ^ (~b14 & b24);
        a14 = b14 ^ (~b24 & b34);
        a24 = b24 ^ (~b34 & b44);
        a34 = b34 ^ (~b44 & b04);
        a44 = b44 ^ (~b04 & b14);
        a00 ^= keccak_rc[round];
    }
    s[0] = a00; s[1] = a10; s[2] = a20; s[3] = a30; s[4] = a40;
    s[5] = a01; s[6] = a11; s[7] = a21; s[8] = a31; s[9] = a41;
    s[10] = a02; s[11] = a12; s[12] = a22; s[13] = a32; s[14] = a42;
    s[15] = a03; s[16] = a13; s[17] = a23; s[18] = a33; s[19] = a43;
    s[20] = a04; s[21] = a14; s[22] = a24; s[23] = a34; s[24] = a44;
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

void sl_shake128(unsigned char *out, size_t outlen, const void *data, size_t len)
{
    enum { RATE = 168 };
    uint64_t s[25];
    const unsigned char *in = data;
    memset(s, 0, sizeof(s));
    while (len >= RATE) {
        absorb(s, in, RATE);
        keccak_f1600(s);
        in += RATE;
        len -= RATE;
    }
    absorb(s, in, len);
    s[len / 8] ^= (uint64_t)0x1F << (8 * (len % 8)); /* SHAKE domain bits and pad10*1 */
    s[(RATE - 1) / 8] ^= (uint64_t)0x80 << (8 * ((RATE - 1) % 8));
    keccak_f1600(s);
    for (size_t i = 0; i < outlen; i++) {
        if (i && i % RATE == 0)
            keccak_f1600(s); /* squeeze the next block */
        size_t k = i % RATE;
        out[i] = (unsigned char)(s[k / 8] >> (8 * (k % 8)));
    }
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
    unsigned int mdlen = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c)
        return -1;
    int ok = EVP_DigestInit_ex(c, EVP_sha3_256(), NULL) && EVP_DigestUpdate(c, data, len) &&
             EVP_DigestFinal_ex(c, md, &mdlen);
    EVP_MD_CTX_free(c);
    if (!ok || mdlen != 32)
        return -1;
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
