/*
 * test_destination_sql.c — the SQL text shared by the SQL destinations (destinations/sql.h):
 * identifier quoting, deterministic index names under an engine's length limit, merge keys
 * and the hard-delete expression.
 */
#include "test.h"

#include "destinations/sql.h"

TEST(quoting)
{
    struct sl_sql q;
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    sl_sql_init(&q);
    sl_sql_qname(&q, "ds", "we\"ird");
    sl_sql_put(&q, " ");
    sl_sql_col(&q, "s", "a b");
    sl_sql_put(&q, " ");
    sl_sql_id2(&q, "_p_", "x\"");
    CHECK_EQ_STR(sl_sql_text(&ctx, &q), "\"ds\".\"we\"\"ird\" s.\"a b\" \"_p_x\"\"\"");
    sl_sql_cleanup(&q);
}

TEST(index_names)
{
    struct sl_sql q;
    const char *cols[] = {"region", "id"};
    sl_sql_init(&q);
    sl_sql_index_name(&q, "items", cols, 2, 63);
    CHECK_EQ_STR(q.b.data, "items__region__id__idx");
    /* above the limit: a cut on a character boundary + "__" + 16 hex digits, exactly as long
     * as the limit allows, and the same every time */
    const char *longcol[] = {"a_very_long_column_name_that_goes_on_and_on_and_on_and_on"};
    sl_sql_reset(&q);
    sl_sql_index_name(&q, "table_with_a_long_name", longcol, 1, 63);
    CHECK_EQ_INT((long)q.b.len, 63);
    CHECK(strncmp(q.b.data, "table_with_a_long_name__a_very_long_column_name", 45) == 0);
    CHECK_EQ_STR(q.b.data + 45, "__7d7d3f5369edd231");
    char first[64];
    snprintf(first, sizeof(first), "%s", q.b.data);
    sl_sql_reset(&q);
    sl_sql_index_name(&q, "table_with_a_long_name", longcol, 1, 63);
    CHECK_EQ_STR(q.b.data, first);
    /* a multi-byte character across the cut is not split */
    char digits[81];
    for (int i = 0; i < 40; i++)
        memcpy(digits + 2 * i, "\xd9\xa3", 2); /* ARABIC-INDIC DIGIT THREE, 2 bytes */
    digits[80] = '\0';
    const char *dcols[] = {digits};
    sl_sql_reset(&q);
    sl_sql_index_name(&q, "tt", dcols, 1, 63);
    CHECK_EQ_INT((long)q.b.len, 62); /* "tt__" + 20 whole characters + "__" + 16 hex digits */
    CHECK(memcmp(q.b.data + 4, digits, 40) == 0);
    CHECK(q.b.data[44] == '_' && q.b.data[45] == '_');
    sl_sql_cleanup(&q);
}

TEST(merge_keys_and_deletes)
{
    struct sl_ctx ctx;
    struct sl_column cols[] = {
        {"id", SL_DT_BIGINT, false, SL_HINT_PRIMARY_KEY, NULL},
        {"day", SL_DT_DATE, true, SL_HINT_MERGE_KEY, NULL},
        {"gone", SL_DT_BOOL, true, SL_HINT_HARD_DELETE, NULL},
        {"seq", SL_DT_BIGINT, true, SL_HINT_DEDUP_DESC, NULL},
    };
    struct sl_table t = {0};
    t.name = "items";
    t.resource = "items";
    t.cols = cols;
    t.ncols = 4;
    struct sl_merge_keys k;
    sl_ctx_init(&ctx);
    CHECK_EQ_INT(sl_merge_keys_init(&ctx, &t, &k), SLUICE_OK);
    CHECK_EQ_INT((long)k.npk, 1);
    CHECK_EQ_INT((long)k.nmk, 1);
    CHECK(k.hd == &cols[2]);
    CHECK(k.dedup == &cols[3]);
    CHECK_EQ_INT(k.dedup_desc, 1);
    struct sl_sql q;
    sl_sql_init(&q);
    sl_sql_deleted_expr(&q, "s", k.hd, "true", "false");
    CHECK_EQ_STR(q.b.data, "coalesce(s.\"gone\" = true, false)");
    cols[2].type = SL_DT_TIMESTAMP;
    sl_sql_reset(&q);
    sl_sql_deleted_expr(&q, "s", k.hd, "1", "0");
    CHECK_EQ_STR(q.b.data, "(s.\"gone\" IS NOT NULL)");
    sl_sql_reset(&q);
    sl_sql_deleted_expr(&q, "s", NULL, "1", "0");
    CHECK_EQ_STR(q.b.data, "0");
    sl_sql_cleanup(&q);
    sl_merge_keys_cleanup(&k);
    /* a key column without a type is a schema error naming resource and column */
    cols[0].type = SL_DT_NONE;
    sl_ctx_init(&ctx);
    CHECK_EQ_INT(sl_merge_keys_init(&ctx, &t, &k), SLUICE_ERR_DATA_SCHEMA);
    CHECK_EQ_STR(ctx.field, "id");
    CHECK_EQ_STR(ctx.resource, "items");
    sl_merge_keys_cleanup(&k);
}

static const struct test_case destination_sql_tests[] = {
    {"quoting", quoting},
    {"index_names", index_names},
    {"merge_keys_and_deletes", merge_keys_and_deletes},
};
TEST_SUITE(destination_sql, destination_sql_tests)
