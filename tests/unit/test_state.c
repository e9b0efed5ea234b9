/*
 * test_state.c — the pipeline state document: layout, version hash and bump, the destination
 * encoding (base64 + zlib, typed-JSON markers), engine versions and the local state.json.
 *
 * The dlt vectors below were produced with dlt 1.31.0 (Python 3.11, duckdb destination): the
 * `state` column of a _dlt_pipeline_state row written after one run of a merge resource with
 * an incremental datetime cursor and Decimal/date/time/UUID/bytes values in resource state, and
 * generate_pipeline_state_version_hash() of a plain-JSON state document.
 */
#define _GNU_SOURCE /* dladdr, for the allocation-failure test (see in_yajl) */
#include "model/state.h"

#include <dirent.h>
#include <dlfcn.h>
#include <execinfo.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "base/alloc.h"
#include "base/digest.h"
#include "test.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static char dumped[8192];

/* Compact JSON (sorted keys when sorted) of v, kept in `dumped` for CHECK_EQ_STR. */
static const char *dump(const struct sl_json *v, bool sorted)
{
    if (!v)
        return "(NULL)";
    char *s = sl_json_dumps(v, sorted ? SL_JSON_W_SORTED : 0);
    if (!s)
        return "(NOMEM)";
    snprintf(dumped, sizeof(dumped), "%s", s);
    sl_free(s);
    return dumped;
}

static struct sl_json *parse(const char *text)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_json *v = NULL;
    CHECK_EQ_INT(sl_json_parse_heap(&ctx, text, strlen(text), &v), SLUICE_OK);
    return v;
}

static int64_t int_at(const struct sl_json *doc, const char *key)
{
    const struct sl_json *v = sl_json_get(doc, key);
    return v && v->type == SL_JSON_INT ? v->u.i : -999;
}

/* The `state` column dlt 1.31.0 wrote (pipeline state_exp, dataset exp_data, duckdb). Inflated,
 * it is this typed JSON (\uf0xx written as escapes here):
 * {"_state_version":1,"_state_engine_version":4,"dataset_name":"exp_data",
 *  "pipeline_name":"state_exp","default_schema_name":"state_exp","schema_names":["state_exp"],
 *  "destination_type":"dlt.destinations.duckdb","destination_name":null,
 *  "_version_hash":"fzimzYwDCz/0wTFDfaWkyR5AXo381dk+jR1YdEgjBkQ=",
 *  "sources":{"state_exp":{"resources":{"events":{"incremental":{"updated_at":{
 *   "initial_value":"\uf0272024-01-01T00:00:00+00:00",
 *   "last_value":"\uf0272024-01-03T11:30:00+00:00","unique_hashes":["Tp44cKMYfAuJ"],
 *   "start_value":"\uf0272024-01-01T00:00:00+00:00"}},"amount":"\uf02612.345",
 *   "big":"\uf026123456789012345678901234567890","day":"\uf0282024-02-29",
 *   "at":"\uf02d13:45:30","uid":"12345678-1234-5678-1234-567812345678",
 *   "raw":"\uf02bAAFoaQ==","seen":1,"ratio":0.25}}}}}
 * (orjson writes UUIDs natively, so dlt stores them without a marker.) */
static const char dlt_row[] =
    "eNqNUt1OwjAUfpfeCrg/VJZwgT9caLzQkCgxpjmsByh03VxbEAyJT6MmxmfzFWw3SEbChUuznPN93/lt3whVGjTSBRaK"
    "Z5LEfmMHoZxwWWOiBmGgQaGmElIkMcHXnDqINEjOcxROvqW2KV5zyzEcgxGaqmSKKRxS1BhF4qca9+zCleYStG2C6lXu"
    "YpnQrRqsWswkczYi++KqkDRC2Jm2Y9ApqKnNMF7zdD1cXl6sj73loH85hof56r7de8zCM5/Nj2b3/pBdTWbn87uuazAz"
    "ReJ6e6v1Zp0CawwuUOrS4jIpMLUeCOea3G4JGQVdkVxzEHQBwrhhft8/Ay+Imp5vz8Dz4vIclX9bWoDSB7XhwPfjcE9r"
    "JH8xWM5YLXKQR1Fyczsc98y126VtvtD/q7zZNAikmZG6VH74QSuM2rbIiE92iAVOTs863iHLXQasSuVXVSVoBh2LQpXw"
    "xw/jqG0HcH1zZrFdbNMZzX1rx1lxAcsywXev18/grlveD2L1dgt39ST2WkF7474/X1ftBg==";

static const char dlt_row_decoded[] =
    "{\"_state_engine_version\":4,\"_state_version\":1,"
    "\"_version_hash\":\"fzimzYwDCz/0wTFDfaWkyR5AXo381dk+jR1YdEgjBkQ=\","
    "\"dataset_name\":\"exp_data\",\"default_schema_name\":\"state_exp\","
    "\"destination_name\":null,\"destination_type\":\"dlt.destinations.duckdb\","
    "\"pipeline_name\":\"state_exp\",\"schema_names\":[\"state_exp\"],"
    "\"sources\":{\"state_exp\":{\"resources\":{\"events\":{\"amount\":12.345,"
    "\"at\":\"13:45:30\",\"big\":123456789012345678901234567890,\"day\":\"2024-02-29\","
    "\"incremental\":{\"updated_at\":{\"initial_value\":\"2024-01-01T00:00:00+00:00\","
    "\"last_value\":\"2024-01-03T11:30:00+00:00\","
    "\"start_value\":\"2024-01-01T00:00:00+00:00\",\"unique_hashes\":[\"Tp44cKMYfAuJ\"]}},"
    "\"ratio\":0.25,\"raw\":\"AAFoaQ==\",\"seen\":1,"
    "\"uid\":\"12345678-1234-5678-1234-567812345678\"}}}}}";

/* ---- layout -------------------------------------------------------------------------------- */

TEST(new_document_layout)
{
    struct sl_json *doc = sl_state_new("p1", "p1_dataset");
    CHECK_EQ_STR(dump(doc, false),
                 "{\"_state_version\":0,\"_state_engine_version\":4,\"pipeline_name\":\"p1\","
                 "\"dataset_name\":\"p1_dataset\",\"default_schema_name\":null,"
                 "\"schema_names\":[],\"destination_type\":null,\"destination_name\":null,"
                 "\"sources\":{},\"_local\":{\"first_run\":true}}");
    sl_json_free(doc);
    doc = sl_state_new("p2", NULL);
    CHECK_EQ_STR(sl_json_str(sl_json_get(doc, "pipeline_name")), "p2");
    CHECK(sl_json_get(doc, "dataset_name")->type == SL_JSON_NULL);
    sl_json_free(doc);
}

TEST(source_and_resource_objects)
{
    struct sl_json *doc = sl_state_new("p", "d");
    struct sl_json *r = sl_state_resource(doc, "src", "events");
    CHECK(r != NULL && r->type == SL_JSON_OBJECT);
    struct sl_json v;
    sl_json_set_int(&v, 7);
    CHECK(sl_json_obj_set_take(r, "seen", &v) != NULL);
    struct sl_json *s = sl_state_source(doc, "src");
    CHECK(s != NULL);
    CHECK(sl_state_resource(doc, "src", "events") == r); /* get, not re-create */
    CHECK(sl_state_resource(doc, "src", "other") != NULL);
    CHECK_EQ_STR(dump(sl_json_get(doc, "sources"), true),
                 "{\"src\":{\"resources\":{\"events\":{\"seen\":7},\"other\":{}}}}");
    /* a non-object in the way is refused, not overwritten */
    struct sl_json str;
    CHECK_EQ_INT(sl_json_set_str(&str, "x", 1), 0);
    CHECK(sl_json_obj_set_take(s, "resources", &str) != NULL);
    CHECK(sl_state_resource(doc, "src", "events") == NULL);
    CHECK_EQ_STR(sl_json_str(sl_json_get(s, "resources")), "x");
    sl_json_free(doc);
}

/* ---- hash and bump ------------------------------------------------------------------------- */

TEST(bump_semantics)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_json *doc = sl_state_new("p", "d");
    bool changed = false;
    char h0[45], h1[45];

    /* first hash: stored, no bump */
    CHECK_EQ_INT(sl_state_bump(&ctx, doc, &changed), SLUICE_OK);
    CHECK(changed);
    CHECK_EQ_INT(int_at(doc, "_state_version"), 0);
    CHECK_EQ_INT(sl_state_hash(&ctx, doc, h0), SLUICE_OK);
    CHECK_EQ_STR(sl_json_str(sl_json_get(doc, "_version_hash")), h0);
    CHECK_EQ_INT(strlen(h0), 44);

    /* nothing changed: same version, same hash */
    CHECK_EQ_INT(sl_state_bump(&ctx, doc, &changed), SLUICE_OK);
    CHECK(!changed);
    CHECK_EQ_INT(int_at(doc, "_state_version"), 0);

    /* _local, the version fields and the hash itself are outside the hash */
    struct sl_json b;
    sl_json_set_bool(&b, false);
    sl_json_obj_set_take(sl_json_get_mut(doc, "_local"), "first_run", &b);
    sl_json_set_int(&b, 9);
    sl_json_obj_set_take(doc, "_state_engine_version", &b);
    CHECK_EQ_INT(sl_state_bump(&ctx, doc, &changed), SLUICE_OK);
    CHECK(!changed);
    CHECK_EQ_INT(int_at(doc, "_state_version"), 0);

    /* a content change bumps once */
    struct sl_json v;
    sl_json_set_int(&v, 1);
    sl_json_obj_set_take(sl_state_resource(doc, "s", "r"), "n", &v);
    CHECK_EQ_INT(sl_state_bump(&ctx, doc, &changed), SLUICE_OK);
    CHECK(changed);
    CHECK_EQ_INT(int_at(doc, "_state_version"), 1);
    CHECK_EQ_INT(sl_state_hash(&ctx, doc, h1), SLUICE_OK);
    CHECK(strcmp(h0, h1) != 0);
    CHECK_EQ_STR(sl_json_str(sl_json_get(doc, "_version_hash")), h1);
    CHECK_EQ_INT(sl_state_bump(&ctx, doc, NULL), SLUICE_OK);
    CHECK_EQ_INT(int_at(doc, "_state_version"), 1);

    /* changing it back is another change */
    sl_json_set_int(&v, 2);
    sl_json_obj_set_take(sl_state_resource(doc, "s", "r"), "n", &v);
    CHECK_EQ_INT(sl_state_bump(&ctx, doc, &changed), SLUICE_OK);
    CHECK(changed);
    CHECK_EQ_INT(int_at(doc, "_state_version"), 2);
    CHECK_EQ_INT(ctx.code, SLUICE_OK);

    /* a missing _state_version is a STATE error */
    sl_json_obj_del(doc, "_state_version");
    CHECK_EQ_INT(sl_state_bump(&ctx, doc, &changed), SLUICE_ERR_STATE);
    sl_json_free(doc);
}

TEST(hash_matches_dlt_for_plain_json)
{
    /* dlt 1.31.0: generate_pipeline_state_version_hash(<this document>) */
    struct sl_json *doc = parse(
        "{\"_state_version\": 3, \"_state_engine_version\": 4, \"_version_hash\": \"x\", "
        "\"pipeline_name\": \"p\", \"dataset_name\": \"d\", \"default_schema_name\": null, "
        "\"schema_names\": [], \"destination_type\": null, \"destination_name\": null, "
        "\"sources\": {\"s\": {\"resources\": {\"r\": {\"incremental\": {\"ts\": "
        "{\"initial_value\": \"2024-01-01\", \"last_value\": \"2024-01-03T11:30:00Z\", "
        "\"unique_hashes\": [\"abc\"], \"start_value\": \"2024-01-01\"}}, \"n\": 7, "
        "\"f\": 0.5, \"t\": true, \"u\": \"h\\u00e9llo \\\"q\\\"\\n\\u0001\", \"e\": []}}}}, "
        "\"_local\": {\"first_run\": true}}");
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    char h[45];
    CHECK_EQ_INT(sl_state_hash(&ctx, doc, h), SLUICE_OK);
    CHECK_EQ_STR(h, "sQ4EH5NGmFo1683yQqrJsE2q0NxJAg/wUUFYB/TzSVA=");
    sl_json_free(doc);
}

/* ---- destination encoding ------------------------------------------------------------------ */

TEST(encode_decode_round_trip)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_json *doc = sl_state_new("p", "d");
    struct sl_json *r = sl_state_resource(doc, "src", "events");
    struct sl_json *inc = sl_json_obj_setdefault(
        sl_json_obj_setdefault(r, "incremental", SL_JSON_OBJECT), "updated_at", SL_JSON_OBJECT);
    struct sl_json v;
    sl_json_set_str(&v, "2024-01-03T11:30:00Z", 20);
    sl_json_obj_set_take(inc, "last_value", &v);
    sl_json_set_str(&v, "h\xc3\xa9 \"q\"\n", 8);
    sl_json_obj_set_take(r, "text", &v);
    struct sl_json *big = parse("[123456789012345678901234567890,1.50,-3]");
    sl_json_copy_into(&v, big);
    sl_json_obj_set_take(r, "nums", &v);
    sl_json_free(big);
    CHECK_EQ_INT(sl_state_bump(&ctx, doc, NULL), SLUICE_OK);

    char *enc = NULL;
    CHECK_EQ_INT(sl_state_encode(&ctx, doc, &enc), SLUICE_OK);
    CHECK(enc != NULL && strncmp(enc, "eN", 2) == 0); /* zlib header 78 DA: level 9 */
    CHECK(enc != NULL && strlen(enc) % 4 == 0);

    struct sl_json *back = NULL;
    CHECK_EQ_INT(sl_state_decode(&ctx, enc, strlen(enc), &back), SLUICE_OK);
    CHECK(sl_json_get(back, "_local") == NULL); /* never stored in the destination */
    sl_json_obj_del(doc, "_local");
    char *want = sl_json_dumps(doc, SL_JSON_W_SORTED);
    CHECK_EQ_STR(dump(back, true), want);
    CHECK(strstr(want, "123456789012345678901234567890,1.50,-3") != NULL);
    sl_free(want);

    /* the inflated payload is the sorted compact JSON without _local */
    unsigned char packed[4096];
    unsigned char plain[4096];
    long n = sl_base64_decode(enc, strlen(enc), packed);
    uLongf plen = sizeof(plain) - 1;
    CHECK(n > 0 && uncompress(plain, &plen, packed, (uLong)n) == Z_OK);
    plain[plen] = '\0';
    CHECK_EQ_STR((const char *)plain, dump(doc, true));
    CHECK_EQ_INT(ctx.code, SLUICE_OK);
    sl_free(enc);
    sl_json_free(back);
    sl_json_free(doc);
}

TEST(decode_dlt_row)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_json *doc = NULL;
    CHECK_EQ_INT(sl_state_decode(&ctx, dlt_row, strlen(dlt_row), &doc), SLUICE_OK);
    CHECK_EQ_STR(dump(doc, true), dlt_row_decoded);
    /* decimals come back as the parser's number types, with their text */
    const struct sl_json *ev = sl_json_get(
        sl_json_get(sl_json_get(sl_json_get(doc, "sources"), "state_exp"), "resources"),
        "events");
    CHECK(ev && sl_json_get(ev, "amount")->type == SL_JSON_DOUBLE);
    CHECK(ev && sl_json_get(ev, "big")->type == SL_JSON_BIGINT);
    CHECK(ev && sl_json_get(ev, "seen")->type == SL_JSON_INT);
    /* the markers are gone, so sluice's hash of the plain values is not dlt's typed hash */
    char h[45];
    CHECK_EQ_INT(sl_state_hash(&ctx, doc, h), SLUICE_OK);
    CHECK(strcmp(h, "fzimzYwDCz/0wTFDfaWkyR5AXo381dk+jR1YdEgjBkQ=") != 0);
    CHECK_EQ_INT(ctx.code, SLUICE_OK);
    sl_json_free(doc);
}

TEST(decode_legacy_plain_json_with_markers)
{
    /* markers: F026 decimal, F027 datetime, F028 date, F029 uuid, F02A hex bytes,
     * F02B base64 bytes, F02C wei, F02D time; F025/F02E are outside the range; a lone marker
     * stays as it is (dlt decodes only strings longer than the marker); keys are not decoded */
    static const char row[] =
        " {\"_state_version\":2,\"_state_engine_version\":4,\"pipeline_name\":\"p\","
        "\"sources\":{\"s\":{\"v\":["
        "\"\xef\x80\xa6" "1E+2\",\"\xef\x80\xa6" "-0.5\",\"\xef\x80\xa6" "42\","
        "\"\xef\x80\xa6" "NaN\",\"\xef\x80\xa6" "99999999999999999999\","
        "\"\xef\x80\xa7" "2024-01-01T00:00:00Z\",\"\xef\x80\xa8" "2024-02-29\","
        "\"\xef\x80\xa9" "12345678-1234-5678-1234-567812345678\",\"\xef\x80\xaa" "0aff\","
        "\"\xef\x80\xab" "AAE=\",\"\xef\x80\xac" "1000000000000000000000\","
        "\"\xef\x80\xad" "13:45:30.5\",\"\xef\x80\xa5" "x\",\"\xef\x80\xae" "x\","
        "\"\xef\x80\xa6\",[{\"\xef\x80\xa7" "k\":\"\xef\x80\xa8" "2020-01-01\"}]]}}} ";
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_json *doc = NULL;
    CHECK_EQ_INT(sl_state_decode(&ctx, row, strlen(row), &doc), SLUICE_OK);
    CHECK_EQ_STR(dump(doc, false),
                 "{\"_state_version\":2,\"_state_engine_version\":4,\"pipeline_name\":\"p\","
                 "\"sources\":{\"s\":{\"v\":[1E+2,-0.5,42,\"NaN\",99999999999999999999,"
                 "\"2024-01-01T00:00:00Z\",\"2024-02-29\","
                 "\"12345678-1234-5678-1234-567812345678\",\"0aff\",\"AAE=\","
                 "1000000000000000000000,\"13:45:30.5\",\"\xef\x80\xa5x\",\"\xef\x80\xaex\","
                 "\"\xef\x80\xa6\",[{\"\xef\x80\xa7k\":\"2020-01-01\"}]]}}}");
    const struct sl_json *arr = sl_json_get(sl_json_get(sl_json_get(doc, "sources"), "s"), "v");
    CHECK(arr && arr->u.items[0].type == SL_JSON_DOUBLE && arr->u.items[0].u.d == 100.0);
    CHECK(arr && arr->u.items[2].type == SL_JSON_INT && arr->u.items[2].u.i == 42);
    CHECK(arr && arr->u.items[4].type == SL_JSON_BIGINT);
    sl_json_free(doc);

    /* a legacy row that is not an object */
    CHECK_EQ_INT(sl_state_decode(&ctx, "[1]", 3, &doc), SLUICE_ERR_STATE);
    CHECK(doc == NULL);
    CHECK(strstr(ctx.message, "not a JSON object") != NULL);
}

TEST(engine_version_checks_and_migration)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_json *doc = NULL;
    const char *newer = "{\"_state_version\":1,\"_state_engine_version\":5,\"sources\":{}}";
    CHECK_EQ_INT(sl_state_decode(&ctx, newer, strlen(newer), &doc), SLUICE_ERR_STATE);
    CHECK(doc == NULL);
    CHECK_EQ_STR(ctx.message, "state was written by a newer version (engine version 5, this "
                              "sluice understands up to 4)");

    /* also through the base64+zlib path */
    struct sl_json *v5 = parse(newer);
    char *enc = NULL;
    sl_ctx_clear(&ctx);
    CHECK_EQ_INT(sl_state_encode(&ctx, v5, &enc), SLUICE_OK);
    CHECK_EQ_INT(sl_state_decode(&ctx, enc, strlen(enc), &doc), SLUICE_ERR_STATE);
    CHECK(strstr(ctx.message, "engine version 5") != NULL);
    sl_free(enc);
    sl_json_free(v5);

    const char *missing = "{\"_state_version\":1}";
    sl_ctx_clear(&ctx);
    CHECK_EQ_INT(sl_state_decode(&ctx, missing, strlen(missing), &doc), SLUICE_ERR_STATE);
    CHECK(strstr(ctx.message, "_state_engine_version") != NULL);

    /* engine 3 (dlt < 0.4): destination/staging split into *_type and *_name; the name
     * derived from the type is then stored as null, as dlt's migration leaves it */
    const char *v3 = "{\"_state_version\":4,\"_state_engine_version\":3,\"_version_hash\":\"h\","
                     "\"destination\":\"dlt.destinations.duckdb\",\"staging\":\"filesystem\"}";
    sl_ctx_clear(&ctx);
    CHECK_EQ_INT(sl_state_decode(&ctx, v3, strlen(v3), &doc), SLUICE_OK);
    CHECK_EQ_STR(dump(doc, true),
                 "{\"_state_engine_version\":4,\"_state_version\":4,\"_version_hash\":\"h\","
                 "\"destination_name\":null,\"destination_type\":\"dlt.destinations.duckdb\","
                 "\"staging_name\":null,\"staging_type\":\"filesystem\"}");
    sl_json_free(doc);

    /* engine 4: an explicit destination name different from the type's is kept */
    const char *named = "{\"_state_version\":1,\"_state_engine_version\":4,"
                        "\"destination_type\":\"dlt.destinations.duckdb\","
                        "\"destination_name\":\"warehouse\"}";
    CHECK_EQ_INT(sl_state_decode(&ctx, named, strlen(named), &doc), SLUICE_OK);
    CHECK_EQ_STR(sl_json_str(sl_json_get(doc, "destination_name")), "warehouse");
    sl_json_free(doc);

    /* engine 2: the hash is recomputed */
    const char *v2 = "{\"_state_version\":1,\"_state_engine_version\":2,\"_version_hash\":\"old\","
                     "\"pipeline_name\":\"p\"}";
    CHECK_EQ_INT(sl_state_decode(&ctx, v2, strlen(v2), &doc), SLUICE_OK);
    char h[45];
    CHECK_EQ_INT(sl_state_hash(&ctx, doc, h), SLUICE_OK);
    CHECK_EQ_STR(sl_json_str(sl_json_get(doc, "_version_hash")), h);
    CHECK_EQ_INT(int_at(doc, "_state_engine_version"), 4);
    sl_json_free(doc);
}

TEST(corrupt_rows)
{
    struct sl_ctx ctx;
    struct sl_json *doc = NULL;
    static const char *const bad[] = {
        "QUJD",          /* valid base64 ("ABC"), not zlib */
        "",              /* empty */
        "@@@@",          /* neither base64 nor JSON */
        "{\"a\":",       /* truncated legacy JSON */
        "eNqNUt1OwjAU", /* a truncated zlib stream (prefix of the dlt row) */
        "eJzLSM3JyQcABiwCFQ==", /* zlib of "hello": inflates, but is not JSON */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sl_ctx_init(&ctx);
        doc = NULL;
        CHECK_EQ_INT(sl_state_decode(&ctx, bad[i], strlen(bad[i]), &doc), SLUICE_ERR_STATE);
        CHECK(doc == NULL);
        CHECK(ctx.message[0] != '\0');
    }
    sl_ctx_init(&ctx);
    CHECK_EQ_INT(sl_state_decode(&ctx, "QUJD", 4, &doc), SLUICE_ERR_STATE);
    CHECK(strstr(ctx.message, "zlib") != NULL);
    sl_ctx_init(&ctx);
    CHECK_EQ_INT(sl_state_decode(&ctx, "eNqNUt1OwjAU", 12, &doc), SLUICE_ERR_STATE);
    CHECK(strstr(ctx.message, "truncated") != NULL);
    sl_ctx_init(&ctx);
    CHECK_EQ_INT(sl_state_decode(&ctx, "@@@@", 4, &doc), SLUICE_ERR_STATE);
    CHECK(strstr(ctx.message, "neither base64+zlib nor JSON") != NULL);
    /* one flipped byte in the middle of the dlt row breaks the stream (or its checksum) */
    char flipped[sizeof(dlt_row)];
    memcpy(flipped, dlt_row, sizeof(dlt_row));
    flipped[100] = flipped[100] == 'A' ? 'B' : 'A';
    sl_ctx_init(&ctx);
    CHECK_EQ_INT(sl_state_decode(&ctx, flipped, strlen(flipped), &doc), SLUICE_ERR_STATE);
    CHECK(doc == NULL);
}

TEST(inflate_is_bounded)
{
    /* 257 MiB of spaces deflate to ~260 KB; decoding must stop at the 256 MiB cap */
    const size_t chunk = (size_t)1 << 20;
    unsigned char *in = malloc(chunk);
    size_t cap = (size_t)1 << 20;
    unsigned char *out = malloc(cap);
    CHECK(in && out);
    if (!in || !out) {
        free(in);
        free(out);
        return;
    }
    memset(in, ' ', chunk);
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    CHECK_EQ_INT(deflateInit(&zs, 9), Z_OK);
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    for (int i = 0; i < 257; i++) {
        zs.next_in = in;
        zs.avail_in = (uInt)chunk;
        CHECK_EQ_INT(deflate(&zs, i == 256 ? Z_FINISH : Z_NO_FLUSH), i == 256 ? Z_STREAM_END
                                                                               : Z_OK);
    }
    size_t n = zs.total_out;
    deflateEnd(&zs);
    char *b64 = malloc(4 * ((n + 2) / 3) + 1);
    sl_base64(out, n, 1, b64);
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_json *doc = NULL;
    CHECK_EQ_INT(sl_state_decode(&ctx, b64, strlen(b64), &doc), SLUICE_ERR_STATE);
    CHECK(doc == NULL);
    CHECK(strstr(ctx.message, "more than 268435456 bytes") != NULL);
    free(b64);
    free(in);
    free(out);
}

/* ---- local file ---------------------------------------------------------------------------- */

TEST(local_file)
{
    char tmpl[] = "/tmp/sluice-state-XXXXXX";
    char *dir = mkdtemp(tmpl);
    CHECK(dir != NULL);
    if (!dir)
        return;
    char path[256], missing[256], corrupt[256];
    snprintf(path, sizeof(path), "%s/state.json", dir);
    snprintf(missing, sizeof(missing), "%s/nope/state.json", dir);
    snprintf(corrupt, sizeof(corrupt), "%s/corrupt.json", dir);

    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_json *doc = sl_state_new("p", "d");
    struct sl_json v;
    sl_json_set_str(&v, "2024-01-01", 10);
    sl_json_obj_set_take(sl_state_resource(doc, "s", "r"), "last", &v);
    CHECK_EQ_INT(sl_state_bump(&ctx, doc, NULL), SLUICE_OK);
    CHECK_EQ_INT(sl_state_save_file(&ctx, path, doc), SLUICE_OK);

    struct sl_json *back = NULL;
    CHECK_EQ_INT(sl_state_load_file(&ctx, path, &back), SLUICE_OK);
    char *want = sl_json_dumps(doc, SL_JSON_W_SORTED);
    CHECK_EQ_STR(dump(back, true), want); /* _local included */
    sl_free(want);
    sl_json_free(back);

    /* pretty, sorted text */
    FILE *f = fopen(path, "r");
    char head[64] = {0};
    CHECK(f != NULL);
    if (f) {
        CHECK(fread(head, 1, sizeof(head) - 1, f) > 0);
        fclose(f);
    }
    CHECK(strncmp(head, "{\n  \"_local\": {\n    \"first_run\": true\n  },\n", 42) == 0);

    back = NULL;
    CHECK_EQ_INT(sl_state_load_file(&ctx, missing, &back), SLUICE_ERR_NOT_FOUND);
    CHECK(back == NULL);
    CHECK_EQ_INT(ctx.code, SLUICE_OK); /* no error recorded */

    f = fopen(corrupt, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("{\"_state_version\": 1,", f);
        fclose(f);
    }
    CHECK_EQ_INT(sl_state_load_file(&ctx, corrupt, &back), SLUICE_ERR_STATE);
    CHECK(back == NULL);
    CHECK(strstr(ctx.message, corrupt) != NULL);

    /* a state.json written by dlt (typed JSON with markers) loads as plain values */
    sl_ctx_clear(&ctx);
    f = fopen(corrupt, "w");
    if (f) {
        fputs("{\"_state_version\":1,\"_state_engine_version\":4,\"_local\":{\"first_run\":false},"
              "\"sources\":{\"s\":{\"resources\":{\"r\":{\"amount\":\"\xef\x80\xa6" "1.5\"}}}}}",
              f);
        fclose(f);
    }
    CHECK_EQ_INT(sl_state_load_file(&ctx, corrupt, &back), SLUICE_OK);
    CHECK_EQ_STR(dump(sl_json_get(back, "sources"), true),
                 "{\"s\":{\"resources\":{\"r\":{\"amount\":1.5}}}}");
    sl_json_free(back);

    unlink(path);
    unlink(corrupt);
    rmdir(dir);
    sl_json_free(doc);
}

/* ---- allocation failures ------------------------------------------------------------------- */

static long fail_countdown = -1;
static long alloc_live;

/* libyajl 2.1 does not check its own allocations (yajl_alloc, yajl_buf_alloc, yajl_bs_push
 * write through the result), so a failure injected there crashes inside yajl instead of
 * testing sluice. json.c routes yajl's allocations through sl_alloc; those are never failed
 * here: an allocation whose call stack runs through libyajl is let through. */
static bool in_yajl(void)
{
    void *frames[32];
    int n = backtrace(frames, 32);
    for (int i = 1; i < n; i++) {
        Dl_info info;
        if (!dladdr(frames[i], &info))
            continue;
        if ((info.dli_fname && strstr(info.dli_fname, "libyajl")) ||
            (info.dli_sname && strncmp(info.dli_sname, "yajl_", 5) == 0))
            return true;
    }
    return false;
}

static bool should_fail(void)
{
    if (fail_countdown < 0)
        return false;
    if (in_yajl())
        return false;
    if (fail_countdown == 0)
        return true;
    fail_countdown--;
    return false;
}

static void *failing_malloc(void *ctx, size_t size)
{
    (void)ctx;
    if (should_fail())
        return NULL;
    void *p = malloc(size);
    if (p)
        alloc_live++;
    return p;
}

static void *failing_realloc(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    if (should_fail())
        return NULL;
    void *p = realloc(ptr, size);
    if (p && !ptr)
        alloc_live++;
    return p;
}

static void failing_free(void *ctx, void *ptr)
{
    (void)ctx;
    if (ptr)
        alloc_live--;
    free(ptr);
}

/* Every entry point in turn; returns a summary string or NULL when anything failed (which
 * must then be NOMEM, never another error). */
static char *run_all(const char *dir, bool *other_error)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    char path[256];
    snprintf(path, sizeof(path), "%s/state.json", dir);
    struct sl_json *doc = sl_state_new("p", "d");
    struct sl_json *back = NULL;
    struct sl_json *row = NULL;
    struct sl_json *file = NULL;
    char *enc = NULL;
    char *out = NULL;
    struct sl_json *r = sl_state_resource(doc, "s", "r");
    struct sl_json v;
    sluice_status rc = SLUICE_ERR_NOMEM;
    bool called = false;
    if (!doc || !r)
        goto done;
    sl_json_set_int(&v, 5);
    if (!sl_json_obj_set_take(r, "n", &v))
        goto done;
    called = true;
    rc = sl_state_bump(&ctx, doc, NULL);
    if (rc == SLUICE_OK)
        rc = sl_state_encode(&ctx, doc, &enc);
    if (rc == SLUICE_OK)
        rc = sl_state_decode(&ctx, enc, strlen(enc), &back);
    if (rc == SLUICE_OK)
        rc = sl_state_decode(&ctx, dlt_row, strlen(dlt_row), &row);
    if (rc == SLUICE_OK)
        rc = sl_state_save_file(&ctx, path, doc);
    if (rc == SLUICE_OK)
        rc = sl_state_load_file(&ctx, path, &file);
    if (rc == SLUICE_OK) {
        char *a = sl_json_dumps(back, SL_JSON_W_SORTED);
        char *b = sl_json_dumps(row, SL_JSON_W_SORTED);
        char *c = sl_json_dumps(file, SL_JSON_W_SORTED);
        if (a && b && c)
            out = sl_aprintf("%s|%s|%s", a, b, c);
        sl_free(a);
        sl_free(b);
        sl_free(c);
    }
done:
    if (rc != SLUICE_OK && rc != SLUICE_ERR_NOMEM)
        *other_error = true;
    if (rc == SLUICE_ERR_NOMEM && called && ctx.code != SLUICE_ERR_NOMEM)
        *other_error = true; /* the failure was recorded as NOMEM */
    sl_free(enc);
    sl_json_free(doc);
    sl_json_free(back);
    sl_json_free(row);
    sl_json_free(file);
    return out;
}

TEST(allocation_failures)
{
    static const struct sl_alloc failing = {failing_malloc, failing_realloc, failing_free, NULL};
    char tmpl[] = "/tmp/sluice-state-XXXXXX";
    char *dir = mkdtemp(tmpl);
    CHECK(dir != NULL);
    if (!dir)
        return;
    bool other = false;
    fail_countdown = -1;
    alloc_live = 0;
    sl_alloc_set(&failing);
    char *want = run_all(dir, &other);
    sl_alloc_set(NULL);
    CHECK(want != NULL);
    CHECK(!other);

    bool succeeded = false;
    long n = 0;
    for (; n < 5000 && !succeeded; n++) {
        alloc_live = 0;
        fail_countdown = n;
        sl_alloc_set(&failing);
        char *got = run_all(dir, &other);
        sl_alloc_set(NULL);
        if (got) {
            succeeded = true;
            CHECK(fail_countdown >= 0);
            CHECK_EQ_STR(got, want);
        }
        CHECK_EQ_INT(alloc_live, got ? 1 : 0);
        if (got) {
            sl_alloc_set(&failing);
            sl_free(got);
            sl_alloc_set(NULL);
        }
    }
    CHECK(!other);
    CHECK(succeeded);
    CHECK(n > 50);
    if (want) {
        sl_alloc_set(&failing);
        sl_free(want);
        sl_alloc_set(NULL);
    }
    char path[256];
    snprintf(path, sizeof(path), "%s/state.json", dir);
    unlink(path);
    rmdir(dir);
}

static const struct test_case state_tests[] = {
    {"new_document_layout", new_document_layout},
    {"source_and_resource_objects", source_and_resource_objects},
    {"bump_semantics", bump_semantics},
    {"hash_matches_dlt_for_plain_json", hash_matches_dlt_for_plain_json},
    {"encode_decode_round_trip", encode_decode_round_trip},
    {"decode_dlt_row", decode_dlt_row},
    {"decode_legacy_plain_json_with_markers", decode_legacy_plain_json_with_markers},
    {"engine_version_checks_and_migration", engine_version_checks_and_migration},
    {"corrupt_rows", corrupt_rows},
    {"inflate_is_bounded", inflate_is_bounded},
    {"local_file", local_file},
    {"allocation_failures", allocation_failures},
};
TEST_SUITE(state, state_tests)
