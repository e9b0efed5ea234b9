/* test_digest.c — SHAKE-128 (our Keccak) against FIPS 202 answers and OpenSSL; base64. */
#include "test.h"

#include <openssl/evp.h>

#include "base/digest.h"

static void hex(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", in[i]);
}

TEST(shake128_known_answers)
{
    static const struct {
        const char *in;
        const char *hex32;
    } cases[] = {
        { "", "7f9c2ba4e88f827d616045507605853ed73b8093f6efbc88eb1a6eacfa66ef26" },
        { "The quick brown fox jumps over the lazy dog",
          "f4202e3c5852f9182a0430fd8144f0a74b95e7417ecae17db0f8cfeed0e3e66e" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned char md[32];
        char got[65];
        sl_shake128(md, sizeof(md), cases[i].in, strlen(cases[i].in));
        hex(md, sizeof(md), got);
        CHECK_EQ_STR(got, cases[i].hex32);
    }
}

TEST(shake128_matches_openssl)
{
    /* every input length across the first rate blocks (168 bytes), outputs shorter and longer
     * than one squeezed block */
    static const size_t outlens[] = { 1, 4, 10, 15, 64, 167, 168, 169, 400 };
    unsigned char in[400], want[400], got[400];
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (unsigned char)(i * 7 + 3);
    int bad = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    CHECK(c != NULL);
    for (size_t len = 0; c && len <= sizeof(in); len++) {
        for (size_t k = 0; k < sizeof(outlens) / sizeof(outlens[0]); k++) {
            size_t n = outlens[k];
            if (!EVP_DigestInit_ex(c, EVP_shake128(), NULL) || !EVP_DigestUpdate(c, in, len) ||
                !EVP_DigestFinalXOF(c, want, n)) {
                bad++;
                continue;
            }
            sl_shake128(got, n, in, len);
            if (memcmp(got, want, n) != 0)
                bad++;
        }
    }
    EVP_MD_CTX_free(c);
    CHECK_EQ_INT(bad, 0);
}

TEST(sha3_256_matches_openssl)
{
    /* FIPS 202 vectors, then every input length across the first rate blocks (136 bytes) */
    char b64[45];
    CHECK_EQ_INT(sl_digest_sha3_256_b64("", 0, b64), 0);
    CHECK_EQ_STR(b64, "p//G+L8e12ZRwUdWoGHWYvWA/03kO0n6gtgKS4D4Q0o=");
    unsigned char md[32];
    char got_hex[65];
    sl_sha3_256(md, "abc", 3);
    hex(md, sizeof(md), got_hex);
    CHECK_EQ_STR(got_hex, "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
    unsigned char in[300], want[32], got[32];
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (unsigned char)(i * 13 + 5);
    int bad = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    CHECK(c != NULL);
    for (size_t len = 0; c && len <= sizeof(in); len++) {
        unsigned int n = 0;
        if (!EVP_DigestInit_ex(c, EVP_sha3_256(), NULL) || !EVP_DigestUpdate(c, in, len) ||
            !EVP_DigestFinal_ex(c, want, &n) || n != 32) {
            bad++;
            continue;
        }
        sl_sha3_256(got, in, len);
        if (memcmp(got, want, 32) != 0)
            bad++;
    }
    EVP_MD_CTX_free(c);
    CHECK_EQ_INT(bad, 0);
}

TEST(row_ids_increase)
{
    /* ids of one sequence grow as text across counter carries, are 14 characters of base64
     * that decode to 10 bytes, and two sequences differ in their prefix */
    struct sl_rng r;
    sl_rng_seed(&r, 42);
    struct sl_row_ids a, b;
    sl_row_ids_init(&a, &r);
    sl_row_ids_init(&b, &r);
    a.next = ((uint64_t)1 << 41) - 70000; /* cross a carry of every counter digit but one */
    char prev[15], cur[15], other[15];
    sl_row_ids_next(&a, prev);
    int bad = 0;
    for (int i = 0; i < 140000; i++) {
        sl_row_ids_next(&a, cur);
        if (strlen(cur) != 14 || strcmp(cur, prev) <= 0)
            bad++;
        unsigned char bytes[16];
        if (sl_base64_decode(cur, 14, bytes) != 10)
            bad++;
        memcpy(prev, cur, sizeof(prev));
    }
    CHECK_EQ_INT(bad, 0);
    sl_row_ids_next(&b, other);
    CHECK(memcmp(other, cur, 6) != 0);
}

TEST(shake128_b64)
{
    char out[96];
    /* 10 bytes: a nested row id, 14 characters */
    CHECK_EQ_INT(sl_digest_shake128_b64("", 0, 10, out), 0);
    CHECK_EQ_STR(out, "f5wrpOiPgn1hYA");
    CHECK_EQ_INT(sl_digest_shake128_b64("", 0, 65, out), -1);
}

TEST(shake128_n_matches_one_by_one)
{
    /* every implementation this CPU has, batches of 1..9 messages of mixed lengths (one block
     * and longer, so the vector path meets messages it must leave to the scalar one), outputs
     * within one squeezed block and beyond */
    static const size_t outlens[] = { 1, 10, 15, 64, 167, 168, 169, 400 };
    static const size_t lens[] = { 0, 1, 7, 8, 9, 29, 100, 166, 167, 168, 169, 335, 336, 400 };
    enum { NL = sizeof(lens) / sizeof(lens[0]) };
    unsigned char in[400];
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (unsigned char)(i * 13 + 5);
    int bad = 0, ran = 0;
    for (int impl = SL_SHAKE_AUTO; impl <= SL_SHAKE_AVX512; impl++) {
        for (size_t k = 0; k < sizeof(outlens) / sizeof(outlens[0]); k++) {
            size_t outlen = outlens[k];
            for (size_t n = 1; n <= 9; n++) {
                for (size_t start = 0; start < NL; start++) {
                    const void *data[9];
                    size_t len[9];
                    unsigned char buf[9][400], want[400];
                    unsigned char *out[9];
                    for (size_t i = 0; i < n; i++) {
                        len[i] = lens[(start + i * 5) % NL];
                        data[i] = in + (sizeof(in) - len[i]) * (i % 2); /* differ by message */
                        out[i] = buf[i];
                    }
                    if (sl_shake128_n_impl(impl, n, data, len, out, outlen) != 0) {
                        CHECK(impl == SL_SHAKE_AVX2 || impl == SL_SHAKE_AVX512);
                        goto next_impl;
                    }
                    ran++;
                    for (size_t i = 0; i < n; i++) {
                        sl_shake128(want, outlen, data[i], len[i]);
                        bad += memcmp(want, buf[i], outlen) != 0;
                    }
                }
            }
        }
    next_impl:;
    }
    CHECK(ran > 0);
    CHECK_EQ_INT(bad, 0);
    /* the public form is the automatic one */
    const void *d[2] = { "a", "bc" };
    size_t l[2] = { 1, 2 };
    unsigned char o0[10], o1[10], w0[10], w1[10];
    unsigned char *o[2] = { o0, o1 };
    sl_shake128_n(2, d, l, o, 10);
    sl_shake128(w0, 10, "a", 1);
    sl_shake128(w1, 10, "bc", 2);
    CHECK(memcmp(o0, w0, 10) == 0 && memcmp(o1, w1, 10) == 0);
}

static const struct test_case digest_tests[] = {
    { "shake128_known_answers", shake128_known_answers },
    { "shake128_matches_openssl", shake128_matches_openssl },
    { "sha3_256_matches_openssl", sha3_256_matches_openssl },
    { "row_ids_increase", row_ids_increase },
    { "shake128_b64", shake128_b64 },
    { "shake128_n_matches_one_by_one", shake128_n_matches_one_by_one },
};
TEST_SUITE(digest, digest_tests)
