/*
 * fuzz_state.c — sl_state_decode, and the encode/decode round trip of what decodes.
 *
 * Input: the `state` column value as stored in a destination (base64 of zlib of JSON, or a
 * legacy row holding the typed JSON text itself). An input starting with "Z:" is compressed
 * and base64-encoded here first, so the mutator's JSON reaches the inflate path too.
 * For a document that decodes: encode → decode must give the same document (without _local,
 * which is never stored), encoding twice gives the same text, the hash is stable and
 * sl_state_bump is idempotent. Strings that still start with a typed-JSON marker after
 * decoding (a doubly marked value) are not round-trip stable by design (sluice writes plain
 * JSON and reads typed JSON, like dlt), so such documents skip the equality check. Neither
 * are strings or keys with invalid UTF-8 that the parser lets through (yajl accepts overlong
 * forms and surrogates): the writer replaces those bytes with U+FFFD, so for such documents
 * the document as written and read back must agree (reported: the value changes on its first
 * round trip).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "base/alloc.h"
#include "base/digest.h"
#include "base/json.h"
#include "model/state.h"

#include "fuzz_util.h"

static int has_marker(const struct sl_json *v)
{
    switch (v->type) {
    case SL_JSON_STRING: {
        const unsigned char *s = (const unsigned char *)v->s;
        return v->len > 3 && s[0] == 0xEF && s[1] == 0x80 && s[2] >= 0xA6 && s[2] <= 0xAD;
    }
    case SL_JSON_ARRAY:
        for (uint32_t i = 0; i < v->len; i++)
            if (has_marker(&v->u.items[i]))
                return 1;
        return 0;
    case SL_JSON_OBJECT:
        for (uint32_t i = 0; i < v->len; i++)
            if (has_marker(&v->u.members[i].val))
                return 1;
        return 0;
    default:
        return 0;
    }
}

/* Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF), as json.c writes. */
static int bad_utf8(const char *str, size_t n)
{
    const unsigned char *u = (const unsigned char *)str;
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        size_t l;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            l = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            l = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            l = 4;
            cp = c & 0x07;
        } else {
            return 1;
        }
        if (l > n - i)
            return 1;
        for (size_t k = 1; k < l; k++) {
            if ((u[i + k] & 0xC0) != 0x80)
                return 1;
            cp = (cp << 6) | (u[i + k] & 0x3F);
        }
        if ((l == 2 && cp < 0x80) || (l == 3 && cp < 0x800) || (l == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 1;
        i += l;
    }
    return 0;
}

static int has_bad_utf8(const struct sl_json *v)
{
    switch (v->type) {
    case SL_JSON_STRING: return bad_utf8(v->s, v->len);
    case SL_JSON_ARRAY:
        for (uint32_t i = 0; i < v->len; i++)
            if (has_bad_utf8(&v->u.items[i]))
                return 1;
        return 0;
    case SL_JSON_OBJECT:
        for (uint32_t i = 0; i < v->len; i++)
            if (bad_utf8(v->u.members[i].key, v->u.members[i].key_len) ||
                has_bad_utf8(&v->u.members[i].val))
                return 1;
        return 0;
    default: return 0;
    }
}

/* a, written and read back (invalid UTF-8 bytes become U+FFFD), equals b */
static int same_when_written(const struct sl_json *a, const struct sl_json *b)
{
    struct sl_ctx ctx;
    struct sl_json *back = NULL;
    sl_ctx_init(&ctx);
    char *x = sl_json_dumps(a, SL_JSON_W_SORTED);
    FUZZ_CHECK(x != NULL);
    FUZZ_CHECK(sl_json_parse_heap(&ctx, x, strlen(x), &back) == SLUICE_OK);
    int same = sl_json_equal(back, b);
    sl_json_free(back);
    sl_free(x);
    return same;
}

static void dump_both(const struct sl_json *a, const struct sl_json *b)
{
    char *x = sl_json_dumps(a, SL_JSON_W_SORTED);
    char *y = sl_json_dumps(b, SL_JSON_W_SORTED);
    fprintf(stderr, "first:  %s\nsecond: %s\n", x ? x : "?", y ? y : "?");
    sl_free(x);
    sl_free(y);
}

static void round_trip(struct sl_json *d1)
{
    struct sl_ctx ctx;
    char *e1 = NULL, *e2 = NULL;
    struct sl_json *d2 = NULL;
    char h1[45], h2[45];
    sl_ctx_init(&ctx);

    sluice_status rc = sl_state_encode(&ctx, d1, &e1);
    fuzz_check_error(&ctx, rc);
    FUZZ_CHECK(rc == SLUICE_OK && e1 != NULL);
    rc = sl_state_encode(&ctx, d1, &e2);
    FUZZ_CHECK(rc == SLUICE_OK && e2 != NULL);
    FUZZ_CHECK(strcmp(e1, e2) == 0);
    rc = sl_state_decode(&ctx, e1, strlen(e1), &d2);
    if (rc != SLUICE_OK)
        fprintf(stderr, "re-decoding an encoded state failed: %s\n", ctx.message);
    FUZZ_CHECK(rc == SLUICE_OK);

    while (sl_json_obj_del(d1, "_local")) /* every duplicate */
        ;
    while (sl_json_obj_del(d2, "_local"))
        ;
    if (!has_marker(d1) && !sl_json_equal(d1, d2) && !(has_bad_utf8(d1) && same_when_written(d1, d2))) {
        dump_both(d1, d2);
        FUZZ_CHECK(!"state encode/decode round trip");
    }

    rc = sl_state_hash(&ctx, d1, h1);
    FUZZ_CHECK(rc == SLUICE_OK);
    rc = sl_state_hash(&ctx, d1, h2);
    FUZZ_CHECK(rc == SLUICE_OK && strcmp(h1, h2) == 0);

    /* read before bumping: bumping may move the members (the pointer would dangle) */
    const struct sl_json *ver = sl_json_get(d1, "_state_version");
    bool int_version = ver && ver->type == SL_JSON_INT && ver->u.i < INT64_MAX - 1;
    bool changed = false;
    rc = sl_state_bump(&ctx, d1, &changed);
    fuzz_check_error(&ctx, rc);
    if (int_version) {
        FUZZ_CHECK(rc == SLUICE_OK);
        rc = sl_state_bump(&ctx, d1, &changed);
        FUZZ_CHECK(rc == SLUICE_OK);
        FUZZ_CHECK(!changed);
    }
    sl_free(e1);
    sl_free(e2);
    sl_json_free(d2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_ctx ctx;
    struct sl_json *d1 = NULL;
    char *packed_b64 = NULL;
    const char *text = (const char *)data;
    size_t len = size;
    sl_ctx_init(&ctx);

    if (size >= 2 && data[0] == 'Z' && data[1] == ':') {
        uLongf zlen = compressBound(size - 2);
        unsigned char *z = malloc(zlen);
        FUZZ_CHECK(z != NULL);
        FUZZ_CHECK(compress2(z, &zlen, data + 2, size - 2, 9) == Z_OK);
        packed_b64 = malloc(4 * ((zlen + 2) / 3) + 1);
        FUZZ_CHECK(packed_b64 != NULL);
        sl_base64(z, zlen, 1, packed_b64);
        free(z);
        text = packed_b64;
        len = strlen(packed_b64);
    }
    sluice_status rc = sl_state_decode(&ctx, text, len, &d1);
    fuzz_check_error(&ctx, rc);
    if (rc == SLUICE_OK) {
        FUZZ_CHECK(d1 != NULL && d1->type == SL_JSON_OBJECT);
        const struct sl_json *ev = sl_json_get(d1, "_state_engine_version");
        FUZZ_CHECK(ev && ev->type == SL_JSON_INT && ev->u.i == 4);
        round_trip(d1);
    } else {
        FUZZ_CHECK(d1 == NULL);
    }
    sl_json_free(d1);
    free(packed_b64);
    return 0;
}
