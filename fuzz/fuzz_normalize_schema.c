/*
 * fuzz_normalize_schema.c — a stored schema (dlt layout JSON, as read back from the working
 * dir or the destination's _dlt_version) through the schema module, then the normalizer.
 *
 * Input: schema JSON. For one that sl_schema_from_json accepts:
 *   - to_json → from_json → to_json gives the same document (and the schema copy too);
 *   - sl_schema_bump twice: the second changes nothing;
 *   - a few fixed items are normalized into it, as a run continuing that dataset would do,
 *     for its first root table's resource (append and merge), so evolution starts from odd
 *     tables: unknown parents, system columns with wrong types, NOT NULL data columns,
 *     variants of variants; then the round trip again on the evolved schema.
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

#define MAX_TABLES 256
#define MAX_COLUMNS 4096

static const char *const items[] = {
    "{\"id\": 1, \"name\": \"a\", \"tags\": [\"x\", \"y\"], \"user\": {\"id\": 7}}",
    "{\"id\": \"2\", \"name\": 5, \"value\": 1.5, \"created_at\": \"2024-01-01T00:00:00Z\"}",
    "{\"id\": 3, \"tags\": [[1, 2], {\"k\": true}], \"_dlt_id\": \"given\", \"list\": [null]}",
    "{\"id\": 4, \"name__v_bigint\": \"t\", \"value\": \"text\", \"day\": \"2024-03-05\"}",
};

static struct sl_json *parsed[sizeof(items) / sizeof(items[0])];

static sluice_status on_row(void *ud, struct sl_table *t, const struct sl_value *vals,
                            size_t nvals)
{
    const struct sl_schema *s = ud;
    FUZZ_CHECK(sl_schema_find(s, t->name) == t);
    FUZZ_CHECK(nvals <= t->ncols);
    for (size_t i = 0; i < nvals; i++)
        if (vals[i].kind == SL_V_TEXT)
            FUZZ_CHECK(vals[i].u.s && vals[i].u.s[vals[i].len] == '\0');
    return SLUICE_OK;
}

static void round_trip(const struct sl_schema *s)
{
    struct sl_ctx ctx;
    struct sl_schema *back = NULL, *copy = NULL;
    sl_ctx_init(&ctx);
    struct sl_json *j1 = sl_schema_to_json(s);
    FUZZ_CHECK(j1 != NULL);
    sluice_status rc = sl_schema_from_json(&ctx, j1, &back);
    if (rc != SLUICE_OK)
        fprintf(stderr, "from_json(to_json(s)) failed: %s\n", ctx.message);
    FUZZ_CHECK(rc == SLUICE_OK);
    struct sl_json *j2 = sl_schema_to_json(back);
    FUZZ_CHECK(j2 != NULL);
    if (!sl_json_equal(j1, j2)) {
        char *a = sl_json_dumps(j1, SL_JSON_W_SORTED);
        char *b = sl_json_dumps(j2, SL_JSON_W_SORTED);
        fprintf(stderr, "schema round trip differs:\n%s\n%s\n", a ? a : "?", b ? b : "?");
        FUZZ_CHECK(!"schema to_json/from_json round trip");
    }
    rc = sl_schema_dup(&ctx, s, &copy);
    FUZZ_CHECK(rc == SLUICE_OK);
    struct sl_json *j3 = sl_schema_to_json(copy);
    FUZZ_CHECK(j3 != NULL && sl_json_equal(j1, j3));
    sl_json_free(j1);
    sl_json_free(j2);
    sl_json_free(j3);
    sl_schema_free(&back);
    sl_schema_free(&copy);
}

static void normalize_into(struct sl_schema *s, enum sl_write_disposition wd)
{
    struct sl_ctx ctx;
    struct sl_rng rng;
    struct sl_normalizer *n = NULL;
    struct sl_norm_resource res;
    const char *resource = "items";
    static const char *const pk[] = { "id" };

    for (size_t i = 0; i < s->ntables; i++) {
        if (!s->tables[i]->parent && s->tables[i]->resource) {
            resource = s->tables[i]->resource;
            break;
        }
    }
    char *rname = strdup(resource); /* the schema may grow (tables array realloc'd) */
    FUZZ_CHECK(rname != NULL);
    sl_ctx_init(&ctx);
    sl_rng_seed(&rng, 7);
    memset(&res, 0, sizeof(res));
    res.resource = rname;
    res.wd = wd;
    res.max_table_nesting = -1;
    res.root_key = wd == SL_WD_MERGE;
    if (wd == SL_WD_MERGE) {
        res.primary_key = pk;
        res.n_pk = 1;
    }
    sluice_status rc = sl_normalizer_new(&ctx, s, "1700000000.1", &rng, &n);
    FUZZ_CHECK(rc == SLUICE_OK);
    for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
        if (s->ntables > MAX_TABLES)
            break;
        rc = sl_normalize_item(n, &res, parsed[i], (int64_t)i + 1, NULL, on_row, s);
        fuzz_check_error(&ctx, rc);
        if (rc != SLUICE_OK)
            break;
    }
    sl_normalizer_free(&n);
    free(rname);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++)
        if (sl_json_parse_heap(&ctx, items[i], strlen(items[i]), &parsed[i]) != SLUICE_OK)
            abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_ctx ctx;
    struct sl_json *j = NULL;
    struct sl_schema *s = NULL;
    sl_ctx_init(&ctx);
    if (sl_json_parse_heap(&ctx, (const char *)data, size, &j) != SLUICE_OK)
        return 0;
    sluice_status rc = sl_schema_from_json(&ctx, j, &s);
    fuzz_check_error(&ctx, rc);
    sl_json_free(j);
    if (rc != SLUICE_OK) {
        FUZZ_CHECK(s == NULL);
        return 0;
    }
    size_t ncols = 0;
    for (size_t i = 0; i < s->ntables; i++)
        ncols += s->tables[i]->ncols;
    round_trip(s);
    sl_schema_bump(s);
    FUZZ_CHECK(!sl_schema_bump(s));
    if (s->ntables <= MAX_TABLES && ncols <= MAX_COLUMNS) {
        normalize_into(s, SL_WD_APPEND);
        round_trip(s);
        normalize_into(s, SL_WD_MERGE);
        round_trip(s);
    }
    sl_schema_free(&s);
    return 0;
}
