/*
 * state.c — the pipeline state document: default layout, version hash, the destination
 * encoding (base64 of zlib of JSON) and the local state.json file.
 *
 * The document is a heap JSON tree laid out as dlt lays it out (spec 2.1), so a dataset can
 * be continued by either tool. Invariants and choices:
 * - The version hash is base64(SHA3-256) of the compact JSON, keys sorted, of the document
 *   without _state_version, _state_engine_version, _version_hash and _local (spec 2.4). For
 *   documents holding only plain JSON values this is byte-for-byte dlt's hash (orjson writes
 *   the same compact sorted text). Values dlt keeps typed (datetimes, Decimals...) are plain
 *   strings/numbers here, so their hashes differ from dlt's.
 * - sluice writes plain JSON (sorted keys) into the `state` column and state.json; it reads
 *   dlt's typed JSON, turning U+F026..U+F02D marker strings into plain values: the marker is
 *   dropped, Decimal and Wei texts that are JSON numbers become numbers (the parser's types:
 *   INT, BIGINT, DOUBLE with its text), everything else stays a string. dlt decodes a marker
 *   only when the string has more than the marker; so do we. Keys are never decoded.
 * - Decoding is bounded: the column text and the inflated JSON are each capped at
 *   SL_STATE_MAX_BYTES; beyond that the row is refused with a STATE error.
 * - Reading accepts engine versions 1..4 and migrates them as dlt does (1: _local reset,
 *   2: hash recomputed, 3: destination/staging split into *_type and *_name); a higher engine
 *   version is a STATE error: a newer sluice or dlt wrote it.
 * All memory goes through sl_alloc (zlib included), so allocation failures can be injected.
 * Neighbours: json.c (trees, writer), digest.c (SHA3, base64), fs.c (atomic files); load.c
 * stores the encoded document in the same transaction as the data.
 */
#include "model/state.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "base/alloc.h"
#include "base/digest.h"
#include "base/fs.h"

#define SL_STATE_ENGINE_VERSION 4
#define SL_STATE_MAX_BYTES ((size_t)256 * 1024 * 1024)

/* ============================================================================================
 * Document layout
 * ========================================================================================== */

struct sl_json *sl_state_new(const char *pipeline_name, const char *dataset_name)
{
    struct sl_json *doc = sl_json_new_object();
    struct sl_json *local = NULL;
    struct sl_json first_run;
    if (!doc)
        return NULL;
    /* dlt's key order (pipeline.state after a run, without the staging keys) */
    if (sl_json_obj_put_int(doc, "_state_version", 0) ||
        sl_json_obj_put_int(doc, "_state_engine_version", SL_STATE_ENGINE_VERSION) ||
        sl_json_obj_put_str(doc, "pipeline_name", pipeline_name) ||
        sl_json_obj_put_str(doc, "dataset_name", dataset_name) ||
        sl_json_obj_put_str(doc, "default_schema_name", NULL) ||
        !sl_json_obj_setdefault(doc, "schema_names", SL_JSON_ARRAY) ||
        sl_json_obj_put_str(doc, "destination_type", NULL) ||
        sl_json_obj_put_str(doc, "destination_name", NULL) ||
        !sl_json_obj_setdefault(doc, "sources", SL_JSON_OBJECT))
        goto fail;
    local = sl_json_obj_setdefault(doc, "_local", SL_JSON_OBJECT);
    if (!local)
        goto fail;
    sl_json_set_bool(&first_run, true);
    if (!sl_json_obj_set_take(local, "first_run", &first_run))
        goto fail;
    return doc;
fail:
    sl_json_free(doc);
    return NULL;
}

/* obj[key] as an object, created when missing; NULL when out of memory or not an object. */
static struct sl_json *child_object(struct sl_json *obj, const char *key)
{
    if (!obj || obj->type != SL_JSON_OBJECT || !key)
        return NULL;
    struct sl_json *c = sl_json_obj_setdefault(obj, key, SL_JSON_OBJECT);
    if (!c || c->type != SL_JSON_OBJECT)
        return NULL;
    return c;
}

struct sl_json *sl_state_source(struct sl_json *state, const char *source)
{
    return child_object(child_object(state, "sources"), source);
}

struct sl_json *sl_state_resource(struct sl_json *state, const char *source, const char *resource)
{
    return child_object(child_object(sl_state_source(state, source), "resources"), resource);
}

/* ============================================================================================
 * Version hash
 * ========================================================================================== */

/* Compact JSON of the top-level object without the listed keys (a shallow view: the members
 * are borrowed, not copied). NULL when out of memory. */
static char *dump_without(const struct sl_json *doc, const char *const *skip, size_t nskip,
                          int flags)
{
    struct sl_json view;
    struct sl_json_member *members = NULL;
    char *out = NULL;
    memset(&view, 0, sizeof(view));
    view.type = SL_JSON_OBJECT;
    if (doc->len) {
        members = sl_malloc(doc->len * sizeof(*members));
        if (!members)
            goto done;
    }
    for (uint32_t i = 0; i < doc->len; i++) {
        const struct sl_json_member *m = &doc->u.members[i];
        bool skipped = false;
        for (size_t k = 0; k < nskip && !skipped; k++)
            skipped = strlen(skip[k]) == m->key_len && memcmp(skip[k], m->key, m->key_len) == 0;
        if (!skipped)
            members[view.len++] = *m;
    }
    view.u.members = members;
    out = sl_json_dumps(&view, flags);
done:
    sl_free(members);
    return out;
}

sluice_status sl_state_hash(struct sl_ctx *ctx, const struct sl_json *state, char out[45])
{
    static const char *const excluded[] = {"_state_version", "_state_engine_version",
                                           "_version_hash", "_local"};
    sluice_status rc = SLUICE_OK;
    char *text = NULL;
    if (!state || state->type != SL_JSON_OBJECT) {
        rc = sl_fail(ctx, SLUICE_ERR_STATE, "state document is not a JSON object");
        goto done;
    }
    text = dump_without(state, excluded, sizeof(excluded) / sizeof(excluded[0]),
                        SL_JSON_W_SORTED);
    if (!text) {
        rc = sl_nomem(ctx);
        goto done;
    }
    if (sl_digest_sha3_256_b64(text, strlen(text), out) != 0) {
        rc = sl_fail(ctx, SLUICE_ERR_INTERNAL, "SHA3-256 digest failed");
        goto done;
    }
done:
    sl_free(text);
    return rc;
}

sluice_status sl_state_bump(struct sl_ctx *ctx, struct sl_json *state, bool *changed)
{
    sluice_status rc = SLUICE_OK;
    char hash[45];
    struct sl_json hv;
    if (changed)
        *changed = false;
    rc = sl_state_hash(ctx, state, hash);
    if (rc != SLUICE_OK)
        goto done;
    struct sl_json *version = sl_json_get_mut(state, "_state_version");
    if (!version || version->type != SL_JSON_INT) {
        rc = sl_fail(ctx, SLUICE_ERR_STATE, "state has no integer _state_version");
        goto done;
    }
    const struct sl_json *prev = sl_json_get(state, "_version_hash");
    const char *prev_s = sl_json_str(prev);
    bool differs = !prev_s || strcmp(prev_s, hash) != 0;
    /* dlt: a missing or empty previous hash is the initial state, set without bumping */
    if (prev_s && prev_s[0] && differs) {
        if (version->u.i == INT64_MAX) {
            rc = sl_fail(ctx, SLUICE_ERR_STATE, "_state_version overflows");
            goto done;
        }
        version->u.i++;
    }
    if (differs) {
        if (sl_json_set_str(&hv, hash, strlen(hash))) {
            rc = sl_nomem(ctx);
            goto done;
        }
        if (!sl_json_obj_set_take(state, "_version_hash", &hv)) {
            rc = sl_nomem(ctx);
            goto done;
        }
    }
    if (changed)
        *changed = differs;
done:
    return rc;
}

/* ============================================================================================
 * zlib through sl_alloc
 * ========================================================================================== */

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    if (size && items > SIZE_MAX / size)
        return Z_NULL;
    return sl_malloc((size_t)items * size);
}

static void z_free(voidpf opaque, voidpf address)
{
    (void)opaque;
    sl_free(address);
}

/* A failed deflateInit/inflateInit (fn) as a status. */
static sluice_status zinit_fail(struct sl_ctx *ctx, int zrc, const char *fn)
{
    if (zrc == Z_MEM_ERROR)
        return sl_nomem(ctx);
    return sl_fail(ctx, SLUICE_ERR_INTERNAL, "zlib %s failed (%d)", fn, zrc);
}

/* ============================================================================================
 * Encoding for the destination
 * ========================================================================================== */

sluice_status sl_state_encode(struct sl_ctx *ctx, const struct sl_json *state, char **out)
{
    static const char *const excluded[] = {"_local"};
    sluice_status rc = SLUICE_OK;
    char *json = NULL;
    unsigned char *packed = NULL;
    char *b64 = NULL;
    z_stream zs;
    bool zs_live = false;
    *out = NULL;
    if (!state || state->type != SL_JSON_OBJECT) {
        rc = sl_fail(ctx, SLUICE_ERR_STATE, "state document is not a JSON object");
        goto done;
    }
    json = dump_without(state, excluded, 1, SL_JSON_W_SORTED);
    if (!json) {
        rc = sl_nomem(ctx);
        goto done;
    }
    size_t json_len = strlen(json);
    if (json_len > SL_STATE_MAX_BYTES) {
        rc = sl_fail(ctx, SLUICE_ERR_STATE, "state document of %zu bytes exceeds the limit of "
                     "%zu bytes", json_len, SL_STATE_MAX_BYTES);
        goto done;
    }
    /* deflateInit defaults (window 15, memLevel 8) as compress2 and Python's zlib.compress */
    memset(&zs, 0, sizeof(zs));
    zs.zalloc = z_alloc;
    zs.zfree = z_free;
    int zrc = deflateInit(&zs, 9);
    if (zrc != Z_OK) {
        rc = zinit_fail(ctx, zrc, "deflateInit");
        goto done;
    }
    zs_live = true;
    uLong bound = deflateBound(&zs, (uLong)json_len);
    packed = sl_malloc(bound);
    if (!packed) {
        rc = sl_nomem(ctx);
        goto done;
    }
    zs.next_in = (Bytef *)json;
    zs.avail_in = (uInt)json_len;
    zs.next_out = packed;
    zs.avail_out = (uInt)bound;
    zrc = deflate(&zs, Z_FINISH);
    if (zrc != Z_STREAM_END) {
        rc = sl_fail(ctx, SLUICE_ERR_INTERNAL, "zlib deflate failed (%d)", zrc);
        goto done;
    }
    size_t packed_len = (size_t)zs.total_out;
    b64 = sl_malloc(4 * ((packed_len + 2) / 3) + 1);
    if (!b64) {
        rc = sl_nomem(ctx);
        goto done;
    }
    sl_base64(packed, packed_len, 1, b64);
    *out = b64;
    b64 = NULL;
done:
    if (zs_live)
        deflateEnd(&zs);
    sl_free(json);
    sl_free(packed);
    sl_free(b64);
    return rc;
}

/* ============================================================================================
 * Decoding
 * ========================================================================================== */

/* Python's base64.b64decode(validate=True): the standard alphabet only, whole quads, at most
 * two '=' and only at the end. */
static bool strict_base64(const char *s, size_t len)
{
    if (len % 4 != 0)
        return false;
    size_t pad = 0;
    while (pad < 2 && pad < len && s[len - 1 - pad] == '=')
        pad++;
    for (size_t i = 0; i < len - pad; i++) {
        char c = s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '/';
        if (!ok)
            return false;
    }
    return true;
}

/* Inflate a zlib stream into a NUL-terminated buffer of at most SL_STATE_MAX_BYTES. */
static sluice_status inflate_bounded(struct sl_ctx *ctx, const unsigned char *in, size_t len,
                                     struct sl_buf *out)
{
    sluice_status rc = SLUICE_OK;
    z_stream zs;
    bool zs_live = false;
    memset(&zs, 0, sizeof(zs));
    zs.zalloc = z_alloc;
    zs.zfree = z_free;
    int zrc = inflateInit(&zs);
    if (zrc != Z_OK) {
        rc = zinit_fail(ctx, zrc, "inflateInit");
        goto done;
    }
    zs_live = true;
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len; /* len <= SL_STATE_MAX_BYTES, checked by the caller */
    for (;;) {
        size_t room = out->max - out->len;
        if (room == 0) {
            rc = sl_fail(ctx, SLUICE_ERR_STATE, "state inflates to more than %zu bytes; refusing "
                         "it", SL_STATE_MAX_BYTES);
            goto done;
        }
        size_t want = out->len < 65536 ? 65536 : out->len;
        if (want > room)
            want = room;
        if (sl_buf_reserve(out, want)) {
            rc = sl_nomem(ctx);
            goto done;
        }
        zs.next_out = (Bytef *)out->data + out->len;
        zs.avail_out = (uInt)want;
        zrc = inflate(&zs, Z_NO_FLUSH);
        out->len += want - zs.avail_out;
        out->data[out->len] = '\0';
        if (zrc == Z_STREAM_END)
            break; /* bytes after the stream are ignored, as Python's zlib.decompress does */
        if (zrc == Z_OK)
            continue;
        if (zrc == Z_BUF_ERROR && zs.avail_out == 0)
            continue;
        if (zrc == Z_MEM_ERROR) {
            rc = sl_nomem(ctx);
            goto done;
        }
        if (zrc == Z_BUF_ERROR) {
            rc = sl_fail(ctx, SLUICE_ERR_STATE, "state is a truncated zlib stream");
            goto done;
        }
        rc = sl_fail(ctx, SLUICE_ERR_STATE, "state is not valid zlib data: %s",
                     zs.msg ? zs.msg : "corrupt stream");
        goto done;
    }
done:
    if (zs_live)
        inflateEnd(&zs);
    return rc;
}

/* A JSON number per RFC 8259 (what Python prints for a finite Decimal is always one). */
static bool json_number(const char *s, size_t n, bool *is_int)
{
    size_t i = 0;
    *is_int = true;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n)
        return false;
    if (s[i] == '0') {
        i++;
    } else if (s[i] >= '1' && s[i] <= '9') {
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    } else {
        return false;
    }
    if (i < n && s[i] == '.') {
        *is_int = false;
        i++;
        size_t start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        *is_int = false;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    return i == n;
}

/* Replace the heap string v (a marker string) by the plain value of its payload. */
static sluice_status decode_marker(struct sl_ctx *ctx, struct sl_json *v, unsigned char marker)
{
    const char *p = v->s + 3;
    size_t n = v->len - 3;
    struct sl_json nv;
    bool is_int = false;
    bool numeric = (marker == 0xA6 || marker == 0xAC) && json_number(p, n, &is_int);
    if (!numeric) {
        if (sl_json_set_str(&nv, p, n))
            return sl_nomem(ctx);
    } else {
        long long ll = 0;
        bool fits = false;
        if (is_int) {
            char *end = NULL;
            errno = 0;
            ll = strtoll(p, &end, 10); /* p is NUL-terminated right after the payload */
            fits = errno == 0 && end == p + n;
        }
        if (fits) {
            sl_json_set_int(&nv, (int64_t)ll);
        } else {
            char *text = sl_strndup(p, n);
            if (!text)
                return sl_nomem(ctx);
            if (is_int) {
                sl_json_set_null(&nv);
                nv.type = SL_JSON_BIGINT;
            } else {
                sl_json_set_double(&nv, strtod(text, NULL));
            }
            nv.s = text;
            nv.len = (uint32_t)n;
        }
    }
    sl_json_clear(v);
    *v = nv;
    return SLUICE_OK;
}

/* Decode dlt's typed-JSON markers in every value of a heap tree (keys are left alone). */
static sluice_status decode_markers(struct sl_ctx *ctx, struct sl_json *v)
{
    sluice_status rc = SLUICE_OK;
    switch (v->type) {
    case SL_JSON_STRING: {
        const unsigned char *s = (const unsigned char *)v->s;
        /* U+F026..U+F02D is EF 80 A6..AD; dlt decodes only strings longer than the marker */
        if (v->len > 3 && s[0] == 0xEF && s[1] == 0x80 && s[2] >= 0xA6 && s[2] <= 0xAD)
            rc = decode_marker(ctx, v, s[2]);
        break;
    }
    case SL_JSON_ARRAY:
        for (uint32_t i = 0; i < v->len && rc == SLUICE_OK; i++)
            rc = decode_markers(ctx, &v->u.items[i]);
        break;
    case SL_JSON_OBJECT:
        for (uint32_t i = 0; i < v->len && rc == SLUICE_OK; i++)
            rc = decode_markers(ctx, &v->u.members[i].val);
        break;
    default:
        break;
    }
    return rc;
}

/* dlt's Destination.to_name: the last dotted component of a destination type. */
static const char *destination_to_name(const char *type)
{
    const char *dot = strrchr(type, '.');
    return dot ? dot + 1 : type;
}

/* Engine 3 -> 4: `<old>` (a destination type) becomes `<old>_type` and `<old>_name`. */
static sluice_status split_destination(struct sl_ctx *ctx, struct sl_json *doc, const char *old)
{
    sluice_status rc = SLUICE_OK;
    char *type = NULL;
    char key[32];
    const char *s = sl_json_str(sl_json_get(doc, old));
    if (!s || !s[0])
        goto done; /* dlt tests truthiness: a missing, null or empty value is left as is */
    type = sl_strdup(s);
    if (!type) {
        rc = sl_nomem(ctx);
        goto done;
    }
    snprintf(key, sizeof(key), "%s_type", old);
    if (sl_json_obj_put_str(doc, key, type)) {
        rc = sl_nomem(ctx);
        goto done;
    }
    snprintf(key, sizeof(key), "%s_name", old);
    if (sl_json_obj_put_str(doc, key, destination_to_name(type))) {
        rc = sl_nomem(ctx);
        goto done;
    }
    sl_json_obj_del(doc, old);
done:
    sl_free(type);
    return rc;
}

/* Engine 4: a *_name equal to the name derived from *_type is stored as null (spec 2.1). */
static void null_derived_name(struct sl_json *doc, const char *type_key, const char *name_key)
{
    const char *type = sl_json_str(sl_json_get(doc, type_key));
    struct sl_json *name = sl_json_get_mut(doc, name_key);
    if (!type || !type[0] || !name || name->type != SL_JSON_STRING)
        return;
    if (strcmp(destination_to_name(type), name->s) == 0)
        sl_json_clear(name);
}

/* Check the engine version, decode typed markers and migrate to engine 4, as dlt's
 * migrate_pipeline_state does. */
static sluice_status finish_document(struct sl_ctx *ctx, struct sl_json *doc, const char *what)
{
    sluice_status rc = SLUICE_OK;
    if (doc->type != SL_JSON_OBJECT) {
        rc = sl_fail(ctx, SLUICE_ERR_STATE, "%s is not a JSON object", what);
        goto done;
    }
    struct sl_json *engine = sl_json_get_mut(doc, "_state_engine_version");
    if (!engine || engine->type != SL_JSON_INT || engine->u.i < 1) {
        rc = sl_fail(ctx, SLUICE_ERR_STATE, "%s has no valid _state_engine_version", what);
        goto done;
    }
    int64_t from = engine->u.i;
    if (from > SL_STATE_ENGINE_VERSION) {
        rc = sl_fail(ctx, SLUICE_ERR_STATE, "state was written by a newer version (engine "
                     "version %lld, this sluice understands up to %d)", (long long)from,
                     SL_STATE_ENGINE_VERSION);
        goto done;
    }
    rc = decode_markers(ctx, doc);
    if (rc != SLUICE_OK)
        goto done;
    if (from == 1) {
        struct sl_json local;
        sl_json_set_object(&local);
        if (!sl_json_obj_set_take(doc, "_local", &local)) {
            rc = sl_nomem(ctx);
            goto done;
        }
        from = 2;
    }
    if (from == 2) {
        char hash[45];
        rc = sl_state_hash(ctx, doc, hash);
        if (rc != SLUICE_OK)
            goto done;
        if (sl_json_obj_put_str(doc, "_version_hash", hash)) {
            rc = sl_nomem(ctx);
            goto done;
        }
        from = 3;
    }
    if (from == 3) {
        rc = split_destination(ctx, doc, "destination");
        if (rc == SLUICE_OK)
            rc = split_destination(ctx, doc, "staging");
        if (rc != SLUICE_OK)
            goto done;
        from = 4;
    }
    null_derived_name(doc, "destination_type", "destination_name");
    null_derived_name(doc, "staging_type", "staging_name");
    engine = sl_json_get_mut(doc, "_state_engine_version");
    sl_json_set_int(engine, from);
done:
    return rc;
}

/* Parse JSON text into a heap tree; a parse failure becomes a STATE error carrying the parser's
 * message (prefix says what was being read). */
static sluice_status parse_state_json(struct sl_ctx *ctx, const char *text, size_t len,
                                      const char *prefix, struct sl_json **out)
{
    struct sl_ctx scratch;
    sl_ctx_init(&scratch);
    sluice_status rc = sl_json_parse_heap(&scratch, text, len, out);
    if (rc == SLUICE_ERR_NOMEM || scratch.code == SLUICE_ERR_NOMEM)
        return sl_nomem(ctx);
    if (rc != SLUICE_OK)
        return sl_fail(ctx, SLUICE_ERR_STATE, "%s: %s", prefix,
                       scratch.message[0] ? scratch.message : "invalid JSON");
    return SLUICE_OK;
}

sluice_status sl_state_decode(struct sl_ctx *ctx, const char *text, size_t len,
                              struct sl_json **out)
{
    sluice_status rc = SLUICE_OK;
    unsigned char *packed = NULL;
    struct sl_buf json;
    struct sl_json *doc = NULL;
    sl_buf_init(&json, SL_STATE_MAX_BYTES);
    *out = NULL;
    if (len > SL_STATE_MAX_BYTES) {
        rc = sl_fail(ctx, SLUICE_ERR_STATE, "state value of %zu bytes exceeds the limit of %zu "
                     "bytes", len, SL_STATE_MAX_BYTES);
        goto done;
    }
    if (strict_base64(text, len)) {
        packed = sl_malloc(len / 4 * 3 + 3);
        if (!packed) {
            rc = sl_nomem(ctx);
            goto done;
        }
        long n = sl_base64_decode(text, len, packed);
        if (n < 0) {
            rc = sl_fail(ctx, SLUICE_ERR_STATE, "state is not valid base64");
            goto done;
        }
        rc = inflate_bounded(ctx, packed, (size_t)n, &json);
        if (rc != SLUICE_OK)
            goto done;
        rc = parse_state_json(ctx, json.data, json.len, "state is not valid JSON", &doc);
    } else {
        /* legacy rows hold the (typed) JSON text itself (spec 2.7) */
        rc = parse_state_json(ctx, text, len, "state is neither base64+zlib nor JSON", &doc);
    }
    if (rc != SLUICE_OK)
        goto done;
    rc = finish_document(ctx, doc, "state document");
    if (rc != SLUICE_OK)
        goto done;
    *out = doc;
    doc = NULL;
done:
    sl_free(packed);
    sl_buf_cleanup(&json);
    sl_json_free(doc);
    return rc;
}

/* ============================================================================================
 * Local file
 * ========================================================================================== */

sluice_status sl_state_load_file(struct sl_ctx *ctx, const char *path, struct sl_json **out)
{
    sluice_status rc = SLUICE_OK;
    char *text = NULL;
    size_t len = 0;
    struct sl_json *doc = NULL;
    char *prefix = NULL;
    *out = NULL;
    rc = sl_fs_read(ctx, path, &text, &len);
    if (rc != SLUICE_OK)
        goto done; /* NOT_FOUND is returned without an error recorded */
    prefix = sl_aprintf("corrupt state file %s", path);
    if (!prefix) {
        rc = sl_nomem(ctx);
        goto done;
    }
    rc = parse_state_json(ctx, text, len, prefix, &doc);
    if (rc != SLUICE_OK)
        goto done;
    rc = finish_document(ctx, doc, prefix);
    if (rc != SLUICE_OK)
        goto done;
    *out = doc;
    doc = NULL;
done:
    sl_free(text);
    sl_free(prefix);
    sl_json_free(doc);
    return rc;
}

sluice_status sl_state_save_file(struct sl_ctx *ctx, const char *path, const struct sl_json *state)
{
    sluice_status rc = SLUICE_OK;
    struct sl_buf b;
    sl_buf_init(&b, 0);
    if (!state || state->type != SL_JSON_OBJECT) {
        rc = sl_fail(ctx, SLUICE_ERR_STATE, "state document is not a JSON object");
        goto done;
    }
    if (sl_json_write(&b, state, SL_JSON_W_SORTED | SL_JSON_W_PRETTY) || sl_buf_putc(&b, '\n')) {
        rc = sl_nomem(ctx);
        goto done;
    }
    rc = sl_fs_write_atomic(ctx, path, b.data, b.len);
done:
    sl_buf_cleanup(&b);
    return rc;
}
