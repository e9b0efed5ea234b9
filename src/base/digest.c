/*
 * digest.c — SHAKE-128 / SHA3-256 digests, base64, and the row-id generator (see digest.h).
 * OpenSSL's EVP interface does the hashing; the generator is xorshift128+ (fast, and only
 * used for row ids, never for anything secret).
 */
#include "base/digest.h"

#include <string.h>

#include <openssl/evp.h>

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

int sl_digest_shake128_b64(const void *data, size_t len, size_t nbytes, char *out)
{
    unsigned char md[64];
    if (nbytes > sizeof(md))
        return -1;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c)
        return -1;
    int ok = EVP_DigestInit_ex(c, EVP_shake128(), NULL) && EVP_DigestUpdate(c, data, len) &&
             EVP_DigestFinalXOF(c, md, nbytes);
    EVP_MD_CTX_free(c);
    if (!ok)
        return -1;
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
