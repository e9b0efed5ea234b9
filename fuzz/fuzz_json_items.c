/*
 * fuzz_json_items.c — the streaming JSON parser and the normalizer, end to end.
 *
 * Input: two control bytes, then JSON text.
 *   byte 0: bit 0 mode (0 JSON lines/values, 1 unwrap a top-level array); bits 1-2 write
 *           disposition (append, replace, merge, merge); bit 3 _dlt_root_id on children;
 *           bit 4 table name template "{type}"; bit 5 primary key "id"; bit 6 column hints;
 *           bit 7 merge key "region"
 *   byte 1: bits 0-2 max_table_nesting (-1 default, 0..6); bits 3-5 feed chunk size
 *           (1, 2, 3, 7, 64, 512, 4096, everything); bits 6-7 max identifier length
 *           (unlimited, 8, 30, 63)
 * Every item handed over by the parser is normalized into one schema that is fresh for each
 * input. Every emitted row is checked (its table belongs to the schema, values fit the
 * columns, text is NUL-terminated at its length). The run stops (as a recorded error) when the
 * schema passes MAX_TABLES tables or MAX_COLUMNS columns, so a hostile input cannot grow it
 * without bound. At the end the evolved schema goes through to_json → from_json → to_json and
 * both documents must be equal, and the version hash must be stable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/digest.h"
#include "base/json.h"
#include "model/normalize.h"
#include "model/schema.h"

#include "fuzz_util.h"

#define MAX_TABLES 64
#define MAX_COLUMNS 2048

struct run {
    struct sl_ctx ctx;
    struct sl_schema *schema;
    struct sl_normalizer *n;
    struct sl_norm_resource res;
    int64_t items;
    int64_t rows;
};

static struct sl_json *hints;

static size_t total_columns(const struct sl_schema *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->ntables; i++)
        n += s->tables[i]->ncols;
    return n;
}

static sluice_status on_row(void *ud, struct sl_table *t, const struct sl_value *vals,
                            size_t nvals)
{
    struct run *r = ud;
    FUZZ_CHECK(t != NULL && t->name != NULL);
    FUZZ_CHECK(sl_schema_find(r->schema, t->name) == t);
    FUZZ_CHECK(nvals <= t->ncols);
    for (size_t i = 0; i < nvals; i++) {
        const struct sl_value *v = &vals[i];
        FUZZ_CHECK(v->kind <= SL_V_TEXT);
        if (v->kind == SL_V_TEXT) {
            FUZZ_CHECK(v->u.s != NULL);
            FUZZ_CHECK(v->u.s[v->len] == '\0');
        }
    }
    r->rows++;
    return SLUICE_OK;
}

static sluice_status on_item(void *ud, struct sl_json *value, int64_t index, int64_t line)
{
    struct run *r = ud;
    (void)line;
    FUZZ_CHECK(index == r->items + 1);
    r->items = index;
    const char *table = NULL;
    sluice_status rc = sl_normalize_table_name(r->n, &r->res, value, index, &table);
    fuzz_check_error(&r->ctx, rc);
    if (rc == SLUICE_OK) {
        FUZZ_CHECK(table != NULL);
        rc = sl_normalize_item(r->n, &r->res, value, index, NULL, on_row, r);
        fuzz_check_error(&r->ctx, rc);
    }
    if (rc != SLUICE_OK)
        return rc;
    if (r->schema->ntables > MAX_TABLES || total_columns(r->schema) > MAX_COLUMNS)
        return sl_fail(&r->ctx, SLUICE_ERR_DATA_SCHEMA, "fuzz: schema cap reached");
    return SLUICE_OK;
}

static void check_schema_round_trip(const struct sl_schema *s)
{
    struct sl_ctx ctx;
    struct sl_schema *back = NULL;
    sl_ctx_init(&ctx);
    struct sl_json *j1 = sl_schema_to_json(s);
    FUZZ_CHECK(j1 != NULL);
    sluice_status rc = sl_schema_from_json(&ctx, j1, &back);
    if (rc != SLUICE_OK)
        fprintf(stderr, "from_json of an evolved schema failed: %s\n", ctx.message);
    FUZZ_CHECK(rc == SLUICE_OK);
    struct sl_json *j2 = sl_schema_to_json(back);
    FUZZ_CHECK(j2 != NULL);
    if (!sl_json_equal(j1, j2)) {
        char *a = sl_json_dumps(j1, SL_JSON_W_SORTED);
        char *b = sl_json_dumps(j2, SL_JSON_W_SORTED);
        fprintf(stderr, "schema round trip differs:\n%s\n%s\n", a ? a : "?", b ? b : "?");
        FUZZ_CHECK(!"schema to_json/from_json round trip");
    }
    sl_json_free(j1);
    sl_json_free(j2);
    sl_schema_free(&back);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static const char h[] =
        "{\"created_at\": {\"data_type\": \"timestamp\"}, \"day\": {\"data_type\": \"date\"},"
        " \"payload\": {\"data_type\": \"json\"}, \"amount\": {\"data_type\": \"decimal\"},"
        " \"name\": {\"data_type\": \"text\", \"nullable\": false},"
        " \"deleted\": {\"hard_delete\": true}, \"seq\": {\"dedup_sort\": \"desc\"},"
        " \"big\": {\"data_type\": \"wei\"}, \"flag\": {\"data_type\": \"bool\"}}";
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    if (sl_json_parse_heap(&ctx, h, sizeof(h) - 1, &hints) != SLUICE_OK)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const pk[] = { "id" };
    static const char *const mk[] = { "region" };
    static const size_t chunks[] = { 1, 2, 3, 7, 64, 512, 4096, SIZE_MAX };
    static const size_t idlen[] = { 0, 8, 30, 63 };
    struct run r;
    struct sl_rng rng;
    struct sl_json_parser *p = NULL;

    if (size < 2)
        return 0;
    uint8_t b0 = data[0], b1 = data[1];
    const char *text = (const char *)data + 2;
    size_t len = size - 2;

    memset(&r, 0, sizeof(r));
    sl_ctx_init(&r.ctx);
    sl_rng_seed(&rng, 1);
    r.res.resource = "fuzz_items";
    r.res.table_name = (b0 & 16) ? "{type}" : NULL;
    switch ((b0 >> 1) & 3) {
    case 0: r.res.wd = SL_WD_APPEND; break;
    case 1: r.res.wd = SL_WD_REPLACE; break;
    default: r.res.wd = SL_WD_MERGE; break;
    }
    r.res.root_key = (b0 & 8) != 0;
    if (b0 & 32) {
        r.res.primary_key = pk;
        r.res.n_pk = 1;
    }
    if (b0 & 128) {
        r.res.merge_key = mk;
        r.res.n_mk = 1;
    }
    r.res.columns = (b0 & 64) ? hints : NULL;
    r.res.max_table_nesting = (int64_t)(b1 & 7) - 1;
    size_t chunk = chunks[(b1 >> 3) & 7];

    sluice_status rc = sl_schema_new(&r.ctx, "fuzz", &r.schema);
    FUZZ_CHECK(rc == SLUICE_OK);
    rc = sl_normalizer_new(&r.ctx, r.schema, "1700000000.123456", &rng, &r.n);
    FUZZ_CHECK(rc == SLUICE_OK);
    sl_normalizer_set_max_identifier_length(r.n, idlen[b1 >> 6]);
    rc = sl_json_parser_new(&p, &r.ctx, (b0 & 1) ? SL_JSON_UNWRAP_ARRAY : SL_JSON_VALUES, NULL,
                            on_item, &r);
    FUZZ_CHECK(rc == SLUICE_OK);
    for (size_t off = 0; off < len && rc == SLUICE_OK;) {
        size_t n = len - off < chunk ? len - off : chunk;
        rc = sl_json_parser_feed(p, text + off, n);
        off += n;
    }
    if (rc == SLUICE_OK)
        rc = sl_json_parser_finish(p);
    fuzz_check_error(&r.ctx, rc);
    sl_json_parser_free(&p);
    FUZZ_CHECK(p == NULL);

    check_schema_round_trip(r.schema);
    sl_schema_bump(r.schema);
    char *h1 = r.schema->version_hash ? strdup(r.schema->version_hash) : NULL;
    int64_t v1 = r.schema->version;
    FUZZ_CHECK(!sl_schema_bump(r.schema)); /* nothing changed since: same hash, same version */
    FUZZ_CHECK(r.schema->version == v1);
    FUZZ_CHECK(h1 && r.schema->version_hash && strcmp(h1, r.schema->version_hash) == 0);
    free(h1);

    sl_normalizer_free(&r.n);
    sl_schema_free(&r.schema);
    return 0;
}
