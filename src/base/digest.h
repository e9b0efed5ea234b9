/*
 * digest.h — the hashes and ids dlt's layout uses (our own Keccak, checked against OpenSSL).
 *
 * - row ids: base64 of 10 random bytes, or of a 10-byte SHAKE-128 digest, no padding (14
 *   chars): _dlt_id of child rows = digest of "<parent _dlt_id>_<table>_<list index>".
 * - boundary hashes: base64 of a 15-byte SHAKE-128 digest, no padding (20 chars, the legacy
 *   form; dlt 1.31 keeps the first 12).
 * - identifier tags (naming.c): 4 bytes of SHAKE-128.
 * - version hashes of state and schema: base64 of SHA3-256, with padding (44 chars).
 * - load package file checksums: XXH3-64 (libxxhash), as "xxh3:<hex>".
 * Randomness comes from a caller-owned generator (struct sl_rng) seeded by the pipeline, so
 * tests can fix it (STYLE.md rule 9: no hidden globals).
 */
#ifndef SLUICE_DIGEST_H
#define SLUICE_DIGEST_H

#include <stddef.h>
#include <stdint.h>

/* SHAKE-128 (FIPS 202) of data: the first outlen bytes of its output into out. Cannot fail;
 * allocates nothing; thread-safe. */
void sl_shake128(unsigned char *out, size_t outlen, const void *data, size_t len);
/* The rate of SHAKE-128: bytes absorbed per permutation. */
#define SL_SHAKE_RATE 168
/* SHAKE-128 of n messages: out[i] receives the first outlen bytes of the digest of data[i]
 * (len[i] bytes), exactly what n calls of sl_shake128 give. Faster when the messages are
 * short (below SL_SHAKE_RATE bytes) and the CPU has AVX2 or AVX-512 (x86-64): four digests
 * share one permutation; so pass as many at a time as you have. Cannot fail; thread-safe. */
void sl_shake128_n(size_t n, const void *const *data, const size_t *len,
                   unsigned char *const *out, size_t outlen);
/* The same through one implementation, for the unit tests: -1 when this CPU (or build) has
 * not got it. */
enum { SL_SHAKE_AUTO, SL_SHAKE_SCALAR, SL_SHAKE_AVX2, SL_SHAKE_AVX512 };
int sl_shake128_n_impl(int impl, size_t n, const void *const *data, const size_t *len,
                       unsigned char *const *out, size_t outlen);
/* out receives base64 (standard alphabet) of SHAKE-128(data) truncated to nbytes, without
 * '=' padding, NUL-terminated. out must hold 4*ceil(nbytes/3)+1 bytes. Returns 0, or -1 when
 * nbytes > 64. */
int sl_digest_shake128_b64(const void *data, size_t len, size_t nbytes, char *out);
/* SHA3-256 (FIPS 202) of data. Cannot fail; allocates nothing; thread-safe. */
void sl_sha3_256(unsigned char out[32], const void *data, size_t len);
/* base64 of SHA3-256(data) with padding (45 bytes incl. NUL). Returns 0. */
int sl_digest_sha3_256_b64(const void *data, size_t len, char out[45]);
/* base64 encoding; pad: add '=' padding. out must hold 4*ceil(len/3)+1 bytes. */
void sl_base64(const unsigned char *in, size_t len, int pad, char *out);
/* Decode standard base64 (padding optional). Returns decoded length or -1. out must hold
 * 3*len/4+3 bytes. */
long sl_base64_decode(const char *in, size_t len, unsigned char *out);

/*
 * Checksums of load package files: XXH3-64 (libxxhash) chained record by record,
 * h' = XXH3_64(record, seed h ^ length), from h = 0, so that a writer and a reader that see the
 * same records in the same order agree without buffering a file. XXH3 rather than zlib's
 * crc32: on a 1M-item package (465 MB, 4M records) crc32 took 1.1-2.2 s against 0.13-0.19 s.
 */
uint64_t sl_checksum_add(uint64_t h, const void *data, size_t len);
#define SL_CHECKSUM_TEXT 22 /* "xxh3:" + 16 hex digits + NUL */
void sl_checksum_text(uint64_t h, char out[SL_CHECKSUM_TEXT]);

struct sl_rng {
    uint64_t s[2];
};
void sl_rng_seed(struct sl_rng *r, uint64_t seed);
uint64_t sl_rng_next(struct sl_rng *r);
/* A new random row id: base64 of 10 random bytes, no padding (15 bytes incl. NUL). */
void sl_rng_row_id(struct sl_rng *r, char out[15]);

/*
 * Root row ids that increase: dlt's form (14 characters of base64's alphabet, the text of 10
 * bytes, no padding), made of a random 6-character prefix drawn once per sequence and a
 * 7-character counter from a random start, written with the alphabet's characters in byte
 * order ("+/0-9A-Za-z"), then 'A'. Every id of a sequence is greater, as text, than the one
 * before. Why: indexes on _dlt_id and on the nested tables' _dlt_root_id get a package's new
 * keys side by side, at one place of the index, instead of one random leaf per row; building
 * such an index over 2M keys takes half the CPU of random ones. Collisions between two
 * sequences need the same 36-bit prefix and overlapping 41-bit ranges.
 */
struct sl_row_ids {
    char prefix[6];
    uint64_t next;
};
void sl_row_ids_init(struct sl_row_ids *ids, struct sl_rng *r);
void sl_row_ids_next(struct sl_row_ids *ids, char out[15]);

#endif
