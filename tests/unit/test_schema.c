/*
 * test_schema.c — tables and columns (O(1) name index, stable indices), type and disposition
 * names, the dlt-layout JSON form (round trip, order, hints, inheritance of nested tables) and
 * the version hash, checked byte for byte against what dlt's generate_version_hash gives for
 * the same document.
 */
#include "test.h"

#include <stdlib.h>

#include "base/alloc.h"
#include "base/fs.h"
#include "model/schema.h"

/* Add a column unless an earlier step failed (t NULL under allocation failures). */
static void add(struct sl_ctx *ctx, struct sl_table *t, const char *name, enum sl_dtype type,
                bool nullable, uint32_t hints)
{
    if (t)
        sl_table_add_col(ctx, t, name, type, nullable, hints);
}

/* A small schema: a merge root with hinted columns, a child and a grandchild. NULL when an
 * allocation failed. */
static struct sl_schema *sample(struct sl_ctx *ctx)
{
    struct sl_schema *s = NULL;
    if (sl_schema_new(ctx, "shop", &s))
        return NULL;
    struct sl_table *t = sl_schema_table(ctx, s, "orders", NULL, "orders", SL_WD_MERGE);
    add(ctx, t, "id", SL_DT_BIGINT, false, SL_HINT_PRIMARY_KEY);
    add(ctx, t, "customer", SL_DT_TEXT, true, 0);
    add(ctx, t, "updated_at", SL_DT_TIMESTAMP, true, SL_HINT_DEDUP_DESC);
    add(ctx, t, "deleted", SL_DT_BOOL, true, SL_HINT_HARD_DELETE);
    add(ctx, t, "_dlt_load_id", SL_DT_TEXT, false, SL_HINT_SYSTEM);
    add(ctx, t, "_dlt_id", SL_DT_TEXT, false, SL_HINT_ROW_KEY | SL_HINT_UNIQUE | SL_HINT_SYSTEM);
    add(ctx, t, "customer__v_bigint", SL_DT_BIGINT, true, SL_HINT_VARIANT);
    if (t)
        t->has_data = true;
    struct sl_table *c = sl_schema_table(ctx, s, "orders__lines", "orders", "orders", SL_WD_MERGE);
    add(ctx, c, "sku", SL_DT_TEXT, true, 0);
    add(ctx, c, "_dlt_root_id", SL_DT_TEXT, false, SL_HINT_ROOT_KEY | SL_HINT_SYSTEM);
    add(ctx, c, "_dlt_parent_id", SL_DT_TEXT, false, SL_HINT_PARENT_KEY | SL_HINT_SYSTEM);
    add(ctx, c, "_dlt_list_idx", SL_DT_BIGINT, false, SL_HINT_SYSTEM);
    add(ctx, c, "_dlt_id", SL_DT_TEXT, false, SL_HINT_ROW_KEY | SL_HINT_UNIQUE | SL_HINT_SYSTEM);
    struct sl_table *g =
        sl_schema_table(ctx, s, "orders__lines__tags", "orders__lines", "orders", SL_WD_MERGE);
    add(ctx, g, "value", SL_DT_TEXT, true, 0);
    add(ctx, g, "note", SL_DT_NONE, true, 0); /* incomplete: hints only */
    if (ctx->code != SLUICE_OK)
        sl_schema_free(&s);
    return s;
}

TEST(names)
{
    static const char *const names[] = { "text", "bigint", "double", "bool", "timestamp", "date",
                                         "json", "decimal", "time", "binary", "wei" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        CHECK_EQ_STR(sl_dtype_name(sl_dtype_parse(names[i])), names[i]);
        CHECK_EQ_INT(sl_dtype_parse(names[i]), (int)i + 1);
    }
    CHECK_EQ_INT(sl_dtype_parse("complex"), SL_DT_NONE);
    CHECK_EQ_INT(sl_dtype_parse(NULL), SL_DT_NONE);
    CHECK(sl_dtype_name(SL_DT_NONE) == NULL);
    CHECK_EQ_STR(sl_wd_name(SL_WD_MERGE), "merge");
    CHECK_EQ_INT(sl_wd_parse("replace"), SL_WD_REPLACE);
    CHECK_EQ_INT(sl_wd_parse("skip"), SL_WD_SKIP);
    CHECK_EQ_INT(sl_wd_parse("upsert"), -1);
}

TEST(columns_index)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_schema *s = NULL;
    CHECK_EQ_INT(sl_schema_new(&ctx, "s", &s), SLUICE_OK);
    struct sl_table *t = sl_schema_table(&ctx, s, "wide", NULL, NULL, SL_WD_APPEND);
    CHECK(t != NULL);
    CHECK_EQ_STR(t->resource, "wide"); /* dlt: a root table's resource defaults to its name */
    char name[32];
    for (int i = 0; i < 700; i++) {
        snprintf(name, sizeof(name), "col_%d", i);
        CHECK_EQ_INT(sl_table_add_col(&ctx, t, name, SL_DT_BIGINT, true, 0), i);
    }
    CHECK_EQ_INT(t->ncols, 700);
    CHECK(t->index_size >= 1400 && (t->index_size & (t->index_size - 1)) == 0);
    int found = 0;
    for (int i = 0; i < 700; i++) {
        snprintf(name, sizeof(name), "col_%d", i);
        found += sl_table_col(t, name) == i;
    }
    CHECK_EQ_INT(found, 700);
    CHECK_EQ_INT(sl_table_col(t, "col_700"), -1);
    CHECK_EQ_INT(sl_table_col(t, "col_"), -1);
    /* adding an existing name returns its index and changes nothing */
    CHECK_EQ_INT(sl_table_add_col(&ctx, t, "col_5", SL_DT_TEXT, false, SL_HINT_UNIQUE), 5);
    CHECK_EQ_INT(t->cols[5].type, SL_DT_BIGINT);
    CHECK_EQ_INT(t->ncols, 700);
    CHECK(sl_schema_find(s, "wide") == t);
    CHECK(sl_schema_table(&ctx, s, "wide", NULL, NULL, SL_WD_MERGE) == t);
    CHECK_EQ_INT(t->wd, SL_WD_APPEND);
    CHECK_EQ_INT(ctx.code, SLUICE_OK);
    sl_schema_free(&s);
    CHECK(s == NULL);
    sl_schema_free(&s); /* NULL is fine */
}

TEST(root_and_remove)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_schema *s = sample(&ctx);
    CHECK(s != NULL);
    struct sl_table *g = sl_schema_find(s, "orders__lines__tags");
    CHECK(sl_schema_root(s, g) == sl_schema_find(s, "orders"));
    CHECK(sl_schema_remove(s, "orders__lines"));
    CHECK(!sl_schema_remove(s, "orders__lines"));
    CHECK(sl_schema_find(s, "orders__lines") == NULL);
    CHECK_EQ_INT(s->ntables, 2);
    CHECK_EQ_STR(s->tables[1]->name, "orders__lines__tags");
    /* the parent is gone: the walk stops at the orphan */
    CHECK(sl_schema_root(s, s->tables[1]) == s->tables[1]);
    sl_schema_free(&s);
}

TEST(json_layout)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_schema *s = sample(&ctx);
    struct sl_json *j = sl_schema_to_json(s);
    CHECK(j != NULL);
    char *text = sl_json_dumps(j, 0);
    /* columns in order, dlt's property names, child tables without disposition/resource */
    /* dlt's system tables first, as dlt lays out a new schema (their content: the round trip
     * of a schema dlt wrote, dlt_schema_round_trip) */
    CHECK(strstr(text, "\"tables\":{\"_dlt_version\":{\"name\":\"_dlt_version\",") != NULL);
    CHECK(strstr(text, "},\"_dlt_pipeline_state\":{\"columns\":{\"version\":") != NULL);
    CHECK(strstr(text, "\"_dlt_loads\":{\"name\":\"_dlt_loads\",\"columns\":{\"load_id\":{"
                       "\"name\":\"load_id\",\"data_type\":\"text\",\"nullable\":false,"
                       "\"precision\":64,") != NULL);
    CHECK(strstr(text, "\"orders\":{\"name\":\"orders\",\"columns\":{\"id\":{"
                       "\"name\":\"id\",\"data_type\":\"bigint\",\"nullable\":false,"
                       "\"primary_key\":true},\"customer\":") != NULL);
    CHECK(strstr(text, "\"updated_at\":{\"name\":\"updated_at\",\"data_type\":\"timestamp\","
                       "\"nullable\":true,\"dedup_sort\":\"desc\"}") != NULL);
    CHECK(strstr(text, "\"_dlt_id\":{\"name\":\"_dlt_id\",\"data_type\":\"text\",\"nullable\""
                       ":false,\"unique\":true,\"row_key\":true}") != NULL);
    CHECK(strstr(text, "\"customer__v_bigint\":{\"name\":\"customer__v_bigint\",\"data_type\":"
                       "\"bigint\",\"nullable\":true,\"variant\":true,\"description\":\"Variant "
                       "of column customer__v_bigint generated by dlt\"}") != NULL);
    CHECK(strstr(text, "\"write_disposition\":\"merge\",\"resource\":\"orders\",\"x-normalizer\""
                       ":{\"seen-data\":true}}") != NULL);
    CHECK(strstr(text, "\"_dlt_list_idx\":{\"name\":\"_dlt_list_idx\",\"data_type\":\"bigint\","
                       "\"nullable\":false},\"_dlt_id\"") != NULL);
    CHECK(strstr(text, "\"parent\":\"orders\"}") != NULL);
    CHECK(strstr(text, "\"note\":{\"name\":\"note\",\"nullable\":true}") != NULL);
    CHECK(strstr(text, "\"normalizers\":{\"names\":\"snake_case\",\"json\":{\"module\":\"dlt."
                       "common.normalizers.json.relational\",\"config\":{\"propagation\":{"
                       "\"tables\":{\"orders\":{\"_dlt_id\":\"_dlt_root_id\"}}}}}") != NULL);
    CHECK(strstr(text, "\"engine_version\":11") != NULL);
    CHECK(strncmp(text, "{\"version\":0,\"engine_version\"", 29) == 0); /* not hashed yet */
    sl_free(text);
    sl_json_free(j);
    sl_schema_free(&s);
}

TEST(json_round_trip)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_schema *s = sample(&ctx);
    CHECK(sl_schema_bump(s));
    struct sl_json *j = sl_schema_to_json(s);
    char *text = sl_json_dumps(j, SL_JSON_W_PRETTY);
    struct sl_json *back_j = NULL;
    CHECK_EQ_INT(sl_json_parse_heap(&ctx, text, strlen(text), &back_j), SLUICE_OK);
    struct sl_schema *back = NULL;
    CHECK_EQ_INT(sl_schema_from_json(&ctx, back_j, &back), SLUICE_OK);
    CHECK(back != NULL);
    if (back) {
        CHECK_EQ_STR(back->name, "shop");
        CHECK_EQ_INT(back->version, 1);
        CHECK_EQ_STR(back->version_hash, s->version_hash);
        CHECK_EQ_INT(back->ntables, 3);
        struct sl_table *o = sl_schema_find(back, "orders");
        struct sl_table *g = sl_schema_find(back, "orders__lines__tags");
        CHECK(o && g);
        if (o && g) {
            CHECK_EQ_INT(o->ncols, 7);
            CHECK_EQ_STR(o->cols[2].name, "updated_at");
            CHECK_EQ_INT(o->cols[2].hints, SL_HINT_DEDUP_DESC);
            CHECK_EQ_INT(o->cols[0].hints, SL_HINT_PRIMARY_KEY);
            CHECK(!o->cols[0].nullable);
            CHECK_EQ_INT(o->cols[3].hints, SL_HINT_HARD_DELETE);
            CHECK_EQ_INT(o->cols[5].hints, SL_HINT_ROW_KEY | SL_HINT_UNIQUE | SL_HINT_SYSTEM);
            CHECK_EQ_INT(o->cols[6].hints, SL_HINT_VARIANT);
            CHECK_EQ_INT(sl_table_col(o, "customer__v_bigint"), 6);
            CHECK(o->has_data);
            CHECK_EQ_INT(o->wd, SL_WD_MERGE);
            /* the grandchild inherits the root's disposition and resource */
            CHECK_EQ_INT(g->wd, SL_WD_MERGE);
            CHECK_EQ_STR(g->resource, "orders");
            CHECK_EQ_STR(g->parent, "orders__lines");
            CHECK_EQ_INT(g->cols[1].type, SL_DT_NONE);
            CHECK(!g->has_data);
        }
        /* same content, same hash: nothing to bump */
        CHECK(!sl_schema_bump(back));
        CHECK_EQ_INT(back->version, 1);
        struct sl_json *j2 = sl_schema_to_json(back);
        char *text2 = sl_json_dumps(j2, SL_JSON_W_PRETTY);
        CHECK_EQ_STR(text2, text);
        sl_free(text2);
        sl_json_free(j2);
    }
    sl_schema_free(&back);
    sl_json_free(back_j);
    sl_free(text);
    sl_json_free(j);
    sl_schema_free(&s);
}

/* x-merge-strategy: on the root table only, nested tables inherit it when read back. */
TEST(merge_strategy)
{
    static const char *const names[] = { "delete-insert", "upsert", "insert-only", "scd2" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        CHECK_EQ_STR(sl_merge_strategy_name(sl_merge_strategy_parse(names[i])), names[i]);
        CHECK_EQ_INT(sl_merge_strategy_parse(names[i]), (int)i + 1);
    }
    CHECK(sl_merge_strategy_name(SL_MERGE_DEFAULT) == NULL);
    CHECK_EQ_INT(sl_merge_strategy_parse("cdc"), -1);
    CHECK_EQ_INT(sl_merge_strategy_parse(NULL), -1);

    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_schema *s = sample(&ctx);
    struct sl_table *o = sl_schema_find(s, "orders");
    o->strategy = SL_MERGE_UPSERT;
    sl_schema_find(s, "orders__lines")->strategy = SL_MERGE_UPSERT;
    struct sl_json *j = sl_schema_to_json(s);
    const struct sl_json *tables = sl_json_get(j, "tables");
    CHECK_EQ_STR(sl_json_str(sl_json_get(sl_json_get(tables, "orders"), "x-merge-strategy")),
                 "upsert");
    CHECK(sl_json_get(sl_json_get(tables, "orders__lines"), "x-merge-strategy") == NULL);
    struct sl_schema *back = NULL;
    CHECK_EQ_INT(sl_schema_from_json(&ctx, j, &back), SLUICE_OK);
    if (back) {
        CHECK_EQ_INT(sl_schema_find(back, "orders")->strategy, SL_MERGE_UPSERT);
        CHECK_EQ_INT(sl_schema_find(back, "orders__lines__tags")->strategy, SL_MERGE_UPSERT);
    }
    struct sl_schema *copy = NULL;
    CHECK_EQ_INT(sl_schema_dup(&ctx, s, &copy), SLUICE_OK);
    if (copy)
        CHECK_EQ_INT(sl_schema_find(copy, "orders")->strategy, SL_MERGE_UPSERT);
    sl_schema_free(&copy);
    sl_schema_free(&back);
    sl_json_free(j);
    sl_schema_free(&s);

    /* a strategy sluice does not know is refused, naming the table */
    static const char bad[] = "{\"name\":\"x\",\"tables\":{\"t\":{\"x-merge-strategy\":\"cdc\"}}}";
    struct sl_json *bj = NULL;
    CHECK_EQ_INT(sl_json_parse_heap(&ctx, bad, strlen(bad), &bj), SLUICE_OK);
    CHECK_EQ_INT(sl_schema_from_json(&ctx, bj, &back), SLUICE_ERR_DATA_SCHEMA);
    CHECK_EQ_STR(ctx.message, "schema: table 't' has an unknown x-merge-strategy");
    sl_json_free(bj);
}

TEST(from_json_errors)
{
    static const char *const bad[] = {
        "[]",
        "{\"name\":\"x\",\"tables\":{\"t\":{\"columns\":{\"a\":{\"data_type\":\"complex\"}}}}}",
        "{\"name\":\"x\",\"tables\":{\"t\":{\"write_disposition\":\"upsert\"}}}",
        "{\"name\":\"x\",\"tables\":{\"t\":{\"columns\":{\"a\":{\"dedup_sort\":\"up\"}}}}}",
        "{\"name\":\"x\",\"tables\":{\"t__c\":{\"parent\":\"t\"}}}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sl_ctx ctx;
        sl_ctx_init(&ctx);
        struct sl_json *j = NULL;
        CHECK_EQ_INT(sl_json_parse_heap(&ctx, bad[i], strlen(bad[i]), &j), SLUICE_OK);
        struct sl_schema *s = (struct sl_schema *)1;
        CHECK_EQ_INT(sl_schema_from_json(&ctx, j, &s), SLUICE_ERR_DATA_SCHEMA);
        CHECK(s == NULL);
        CHECK(ctx.message[0] != '\0');
        sl_json_free(j);
    }
}

TEST(bump)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_schema *s = sample(&ctx);
    CHECK_EQ_INT(s->version, 0);
    CHECK(sl_schema_bump(s));
    CHECK_EQ_INT(s->version, 1);
    CHECK(s->version_hash && strlen(s->version_hash) == 44);
    char first[45];
    snprintf(first, sizeof(first), "%s", s->version_hash);
    CHECK(!sl_schema_bump(s));
    CHECK_EQ_INT(s->version, 1);
    struct sl_table *t = sl_schema_find(s, "orders");
    sl_table_add_col(&ctx, t, "total", SL_DT_DOUBLE, true, 0);
    CHECK(sl_schema_bump(s));
    CHECK_EQ_INT(s->version, 2);
    CHECK(strcmp(first, s->version_hash) != 0);
    CHECK(!sl_schema_bump(s));
    CHECK_EQ_INT(s->version, 2);
    /* a hint counts as content */
    t->cols[1].hints |= SL_HINT_MERGE_KEY;
    CHECK(sl_schema_bump(s));
    CHECK_EQ_INT(s->version, 3);
    sl_schema_free(&s);

    /* column order is content too (dlt hashes the column names in order) */
    struct sl_schema *a = NULL, *b = NULL;
    sl_schema_new(&ctx, "o", &a);
    sl_schema_new(&ctx, "o", &b);
    struct sl_table *ta = sl_schema_table(&ctx, a, "t", NULL, NULL, SL_WD_APPEND);
    struct sl_table *tb = sl_schema_table(&ctx, b, "t", NULL, NULL, SL_WD_APPEND);
    sl_table_add_col(&ctx, ta, "x", SL_DT_TEXT, true, 0);
    sl_table_add_col(&ctx, ta, "y", SL_DT_TEXT, true, 0);
    sl_table_add_col(&ctx, tb, "y", SL_DT_TEXT, true, 0);
    sl_table_add_col(&ctx, tb, "x", SL_DT_TEXT, true, 0);
    sl_schema_bump(a);
    sl_schema_bump(b);
    CHECK(strcmp(a->version_hash, b->version_hash) != 0);
    sl_schema_free(&a);
    sl_schema_free(&b);
}

/* The hash of sample() equals what dlt 1.31's generate_version_hash computes for the JSON we
 * write (json.load the document, then dlt.common.schema.utils.generate_version_hash). */
TEST(hash_matches_dlt)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_schema *s = sample(&ctx);
    sl_schema_bump(s);
    CHECK_EQ_STR(s->version_hash, "xFSuaRIE/KRkntAb229/WAbILhaH0e04Dhm7LXGAK/I=");
    /* an empty schema, the simplest document dlt could load */
    struct sl_schema *e = NULL;
    sl_schema_new(&ctx, "empty", &e);
    sl_schema_bump(e);
    CHECK_EQ_STR(e->version_hash, "Zn7Jchoa40lg6I4MBz04CVzcqQVAPTlyxpuQ2RoJR74=");
    sl_schema_free(&e);
    sl_schema_free(&s);
}

/* A schema dlt 1.31 stored (a merge resource with a child table, loaded once through dlt's
 * sqlalchemy destination): read and written back it is the same text, key for key (dlt's
 * metadata such as description, precision, file_format and previous_hashes kept), with the
 * same hash; a change keeps the old hash first in previous_hashes. */
TEST(dlt_schema_round_trip)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    char *text = NULL;
    size_t len = 0;
    struct sl_json *j = NULL;
    struct sl_schema *s = NULL;
    CHECK_EQ_INT(sl_fs_read(&ctx, "tests/fixtures/dlt/schema_merge_nested.json", &text, &len),
                 SLUICE_OK);
    CHECK_EQ_INT(sl_json_parse_heap(&ctx, text, len, &j), SLUICE_OK);
    CHECK_EQ_INT(sl_schema_from_json(&ctx, j, &s), SLUICE_OK);
    if (s) {
        CHECK_EQ_INT((int)s->ntables, 2); /* items, items__tags: system tables are not data */
        CHECK(!sl_schema_bump(s));        /* dlt's hash is ours */
        struct sl_json *back = sl_schema_to_json(s);
        char *out = back ? sl_json_dumps(back, 0) : NULL;
        CHECK_EQ_STR(out, text);
        sl_free(out);
        sl_json_free(back);
        struct sl_table *t = sl_schema_find(s, "items");
        CHECK(t && sl_table_add_col(&ctx, t, "extra_col", SL_DT_TEXT, true, 0) >= 0);
        CHECK(sl_schema_bump(s));
        CHECK_EQ_INT(s->version, 3);
        back = sl_schema_to_json(s);
        const struct sl_json *ph = back ? sl_json_get(back, "previous_hashes") : NULL;
        CHECK(ph && ph->len == 3);
        CHECK_EQ_STR(ph ? sl_json_str(&ph->u.items[0]) : NULL,
                     "ieDbH+/ncK11zWb8s2DsbhVy/w3CIKbDU1P0/xs/DqM=");
        sl_json_free(back);
    }
    sl_schema_free(&s);
    sl_json_free(j);
    sl_free(text);
}

TEST(dup)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_schema *s = sample(&ctx);
    sl_schema_bump(s);
    struct sl_schema *d = NULL;
    CHECK_EQ_INT(sl_schema_dup(&ctx, s, &d), SLUICE_OK);
    CHECK(d && d != s);
    if (d) {
        CHECK_EQ_STR(d->version_hash, s->version_hash);
        CHECK_EQ_INT(d->version, s->version);
        struct sl_table *t = sl_schema_find(d, "orders");
        CHECK(t != sl_schema_find(s, "orders"));
        CHECK_EQ_INT(sl_table_col(t, "_dlt_id"), 5);
        CHECK(t->has_data);
        /* deep: changing the copy leaves the original alone */
        sl_table_add_col(&ctx, t, "extra", SL_DT_TEXT, true, 0);
        CHECK_EQ_INT(sl_schema_find(s, "orders")->ncols, 7);
        CHECK(sl_schema_bump(d));
        CHECK(!sl_schema_bump(s));
    }
    sl_schema_free(&d);
    sl_schema_free(&s);
}

static long fail_at, alloc_count;
static void *failing_malloc(void *ctx, size_t n)
{
    (void)ctx;
    return ++alloc_count == fail_at ? NULL : malloc(n);
}
static void *failing_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    return ++alloc_count == fail_at ? NULL : realloc(p, n);
}
static void failing_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

TEST(allocation_failures)
{
    /* each allocation of build → JSON → parse back → dup → bump fails in turn: NOMEM or a
     * clean false, never a crash or a leak (ASan) */
    const struct sl_alloc failing = { failing_malloc, failing_realloc, failing_free, NULL };
    int finished = 0, wrong = 0;
    for (fail_at = 1; fail_at < 100000 && !finished; fail_at++) {
        struct sl_ctx ctx;
        sl_ctx_init(&ctx);
        alloc_count = 0;
        sl_alloc_set(&failing);
        struct sl_schema *s = sample(&ctx);
        struct sl_json *j = s ? sl_schema_to_json(s) : NULL;
        struct sl_schema *back = NULL, *d = NULL;
        sluice_status rc = j ? sl_schema_from_json(&ctx, j, &back) : SLUICE_ERR_NOMEM;
        if (rc == SLUICE_OK)
            rc = sl_schema_dup(&ctx, back, &d);
        bool bumped = rc == SLUICE_OK && sl_schema_bump(d);
        sl_alloc_set(NULL);
        if (rc != SLUICE_OK && rc != SLUICE_ERR_NOMEM)
            wrong++;
        if (alloc_count < fail_at) {
            finished = 1;
            CHECK(bumped);
            CHECK(d && d->ntables == 3 && sl_table_col(d->tables[0], "_dlt_id") == 5);
        }
        sl_schema_free(&d);
        sl_schema_free(&back);
        sl_json_free(j);
        sl_schema_free(&s);
    }
    CHECK(finished);
    CHECK_EQ_INT(wrong, 0);
}

static const struct test_case schema_tests[] = {
    { "names", names },
    { "columns_index", columns_index },
    { "root_and_remove", root_and_remove },
    { "json_layout", json_layout },
    { "json_round_trip", json_round_trip },
    { "merge_strategy", merge_strategy },
    { "from_json_errors", from_json_errors },
    { "bump", bump },
    { "hash_matches_dlt", hash_matches_dlt },
    { "dlt_schema_round_trip", dlt_schema_round_trip },
    { "dup", dup },
    { "allocation_failures", allocation_failures },
};
TEST_SUITE(schema, schema_tests)
