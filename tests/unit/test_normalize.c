/*
 * test_normalize.c — the relational normalizer against dlt 1.31: flattening and its column
 * order, child tables and their ids (exact values computed by dlt's relational normalizer for
 * the same input and parent id), lists of scalars and of lists, max_table_nesting, type
 * inference and coercion (dlt's _COERCE_DISPATCH outcomes observed through real dlt runs),
 * variant columns, key and template errors with their location, identifier shortening, and
 * the ISO 8601 helpers.
 *
 * Rows are rendered as "table col=value ..." in column order, NULLs left out, one per line.
 */
#include "test.h"

#include <stdlib.h>

#include "base/alloc.h"
#include "model/normalize.h"

struct harness {
    struct sl_ctx ctx;
    struct sl_schema *schema;
    struct sl_rng rng;
    struct sl_normalizer *n;
    struct sl_buf out;
    int rows;
    int fail_after; /* emit fails on that row (1-based), 0 = never */
};

static void h_init(struct harness *h)
{
    memset(h, 0, sizeof(*h));
    sl_ctx_init(&h->ctx);
    sl_rng_seed(&h->rng, 42);
    sl_schema_new(&h->ctx, "test", &h->schema);
    sl_normalizer_new(&h->ctx, h->schema, "L1", &h->rng, &h->n);
    sl_buf_init(&h->out, 0);
}

static void h_cleanup(struct harness *h)
{
    sl_normalizer_free(&h->n);
    sl_schema_free(&h->schema);
    sl_buf_cleanup(&h->out);
}

static sluice_status collect(void *ud, struct sl_table *t, const struct sl_value *vals,
                             size_t nvals)
{
    struct harness *h = ud;
    h->rows++;
    if (h->fail_after && h->rows == h->fail_after)
        return sl_fail(&h->ctx, SLUICE_ERR_DEST, "consumer says no");
    sl_buf_puts(&h->out, t->name);
    for (size_t i = 0; i < nvals; i++) {
        const struct sl_value *v = &vals[i];
        if (v->kind == SL_V_NULL)
            continue;
        sl_buf_printf(&h->out, " %s=", t->cols[i].name);
        switch (v->kind) {
        case SL_V_INT: sl_buf_printf(&h->out, "%lld", (long long)v->u.i); break;
        case SL_V_DOUBLE: sl_buf_printf(&h->out, "%g", v->u.d); break;
        case SL_V_BOOL: sl_buf_puts(&h->out, v->u.i ? "true" : "false"); break;
        case SL_V_TEXT:
            CHECK_EQ_INT(strlen(v->u.s), v->len);
            sl_buf_puts(&h->out, v->u.s);
            break;
        default: sl_buf_puts(&h->out, "?"); break;
        }
    }
    sl_buf_putc(&h->out, '\n');
    return SLUICE_OK;
}

/* Normalize each line of `lines` (JSON documents, one per line) as items 1, 2, ... */
static sluice_status run(struct harness *h, const struct sl_norm_resource *res, const char *lines)
{
    sluice_status rc = SLUICE_OK;
    int64_t item_no = 0;
    sl_buf_reset(&h->out);
    h->rows = 0;
    while (*lines && rc == SLUICE_OK) {
        const char *end = strchr(lines, '\n');
        size_t len = end ? (size_t)(end - lines) : strlen(lines);
        struct sl_json *item = NULL;
        rc = sl_json_parse_heap(&h->ctx, lines, len, &item);
        if (rc == SLUICE_OK)
            rc = sl_normalize_item(h->n, res, item, ++item_no, NULL, collect, h);
        sl_json_free(item);
        lines += len + (end ? 1 : 0);
    }
    return rc;
}

static const char *out(struct harness *h)
{
    return h->out.data ? h->out.data : "";
}

/* "name:type" of every column of a table, with "!" for NOT NULL. Borrowed static buffer. */
static const char *cols(struct harness *h, const char *table)
{
    static char buf[2048];
    size_t o = 0;
    struct sl_table *t = sl_schema_find(h->schema, table);
    buf[0] = '\0';
    if (!t)
        return "(no table)";
    for (size_t i = 0; i < t->ncols && o < sizeof(buf); i++) {
        const char *tn = sl_dtype_name(t->cols[i].type);
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s:%s%s", i ? " " : "",
                              t->cols[i].name, tn ? tn : "none", t->cols[i].nullable ? "" : "!");
    }
    return buf;
}

static struct sl_norm_resource resource(const char *name)
{
    struct sl_norm_resource r;
    memset(&r, 0, sizeof(r));
    r.resource = name;
    r.wd = SL_WD_APPEND;
    r.max_table_nesting = -1;
    return r;
}

/* ---- flattening -------------------------------------------------------------------------- */

TEST(flatten_order)
{
    struct harness h;
    h_init(&h);
    struct sl_norm_resource r = resource("e1");
    /* dlt 1.31 flattens with a LIFO stack: the object's own values first, then the nested
     * objects last-pushed-first (real dlt gives z, c, b__y, a__x, a__n__q) */
    CHECK_EQ_INT(run(&h, &r,
                     "{\"_dlt_id\":\"acXFvgx7XQwIag\",\"z\":1,\"a\":{\"x\":1,\"n\":{\"q\":1}},"
                     "\"b\":{\"y\":1},\"c\":1,\"l\":[1],\"m\":{\"l2\":[2]}}"),
                 SLUICE_OK);
    CHECK_EQ_STR(cols(&h, "e1"), "_dlt_id:text! z:bigint c:bigint b__y:bigint a__x:bigint "
                                 "a__n__q:bigint _dlt_load_id:text!");
    /* child ids as dlt computed them for this parent id (e1__l: r2obopS8kh8sHw) */
    CHECK_EQ_STR(out(&h),
                 "e1 _dlt_id=acXFvgx7XQwIag z=1 c=1 b__y=1 a__x=1 a__n__q=1 _dlt_load_id=L1\n"
                 "e1__l value=1 _dlt_parent_id=acXFvgx7XQwIag _dlt_list_idx=0 "
                 "_dlt_id=r2obopS8kh8sHw\n"
                 "e1__m__l2 value=2 _dlt_parent_id=acXFvgx7XQwIag _dlt_list_idx=0 "
                 "_dlt_id=h8I2ykav3OukrQ\n");
    struct sl_table *l2 = sl_schema_find(h.schema, "e1__m__l2");
    CHECK(l2 && l2->parent && strcmp(l2->parent, "e1") == 0);
    h_cleanup(&h);
}

TEST(system_columns_and_ids)
{
    struct harness h;
    h_init(&h);
    struct sl_norm_resource r = resource("items");
    r.wd = SL_WD_MERGE;
    r.root_key = true;
    CHECK_EQ_INT(run(&h, &r,
                     "{\"_dlt_id\":\"w8i3dCBOZqgaPg\",\"id\":1,\"tags\":[\"x\",\"y\"],"
                     "\"items\":[{\"sku\":\"A\",\"sub\":[1,2]}]}\n"
                     "{\"id\":2,\"tags\":[]}"),
                 SLUICE_OK);
    /* ids from dlt's relational normalizer for the same item and parent id */
    const char *expect =
        "items _dlt_id=w8i3dCBOZqgaPg id=1 _dlt_load_id=L1\n"
        "items__tags value=x _dlt_root_id=w8i3dCBOZqgaPg _dlt_parent_id=w8i3dCBOZqgaPg "
        "_dlt_list_idx=0 _dlt_id=sKlR9khIYN543w\n"
        "items__tags value=y _dlt_root_id=w8i3dCBOZqgaPg _dlt_parent_id=w8i3dCBOZqgaPg "
        "_dlt_list_idx=1 _dlt_id=EYdzzCwpQWsI/Q\n"
        "items__items sku=A _dlt_root_id=w8i3dCBOZqgaPg _dlt_parent_id=w8i3dCBOZqgaPg "
        "_dlt_list_idx=0 _dlt_id=QKdCPGLG/ekYDA\n"
        "items__items__sub value=1 _dlt_root_id=w8i3dCBOZqgaPg _dlt_parent_id=QKdCPGLG/ekYDA "
        "_dlt_list_idx=0 _dlt_id=bThpoK5D5ptvnA\n"
        "items__items__sub value=2 _dlt_root_id=w8i3dCBOZqgaPg _dlt_parent_id=QKdCPGLG/ekYDA "
        "_dlt_list_idx=1 _dlt_id=Ddp9OH5XTrglaw\n";
    CHECK(strncmp(out(&h), expect, strlen(expect)) == 0);
    if (strncmp(out(&h), expect, strlen(expect)) != 0)
        fprintf(stderr, "%s", out(&h));
    /* second item: a random 14-character id, then the load id; empty list: nothing */
    const char *all = out(&h);
    const char *second = strlen(all) >= strlen(expect) ? all + strlen(expect) : "";
    CHECK(strncmp(second, "items _dlt_id=", 14) == 0);
    CHECK(strlen(second) == strlen("items _dlt_id=") + 14 + strlen(" id=2 _dlt_load_id=L1\n"));
    CHECK(strstr(second, " id=2 _dlt_load_id=L1\n") != NULL);
    CHECK_EQ_INT(h.rows, 7);
    /* dlt's column order and hints for root and nested tables */
    CHECK_EQ_STR(cols(&h, "items"), "_dlt_id:text! id:bigint _dlt_load_id:text!");
    CHECK_EQ_STR(cols(&h, "items__tags"), "value:text _dlt_root_id:text! _dlt_parent_id:text! "
                                          "_dlt_list_idx:bigint! _dlt_id:text!");
    struct sl_table *t = sl_schema_find(h.schema, "items__tags");
    CHECK_EQ_INT(t->cols[1].hints, SL_HINT_ROOT_KEY | SL_HINT_SYSTEM);
    CHECK_EQ_INT(t->cols[2].hints, SL_HINT_PARENT_KEY | SL_HINT_SYSTEM);
    CHECK_EQ_INT(t->cols[3].hints, SL_HINT_SYSTEM);
    CHECK_EQ_INT(t->cols[4].hints, SL_HINT_ROW_KEY | SL_HINT_UNIQUE | SL_HINT_SYSTEM);
    CHECK_EQ_INT(t->wd, SL_WD_MERGE);
    CHECK_EQ_STR(t->resource, "items");
    CHECK(t->has_data);
    CHECK_EQ_STR(sl_schema_find(h.schema, "items__items__sub")->parent, "items__items");
    /* root key propagation stays on once a nested table has _dlt_root_id (dlt), here and in
     * a new normalizer over the same schema */
    r.root_key = false;
    CHECK_EQ_INT(run(&h, &r, "{\"_dlt_id\":\"R2\",\"id\":3,\"tags\":[\"z\"]}"), SLUICE_OK);
    CHECK(strstr(out(&h), "items__tags value=z _dlt_root_id=R2 _dlt_parent_id=R2") != NULL);
    sl_normalizer_free(&h.n);
    sl_normalizer_new(&h.ctx, h.schema, "L2", &h.rng, &h.n);
    CHECK_EQ_INT(run(&h, &r, "{\"_dlt_id\":\"R3\",\"id\":4,\"tags\":[\"z\"]}"), SLUICE_OK);
    CHECK(strstr(out(&h), "items__tags value=z _dlt_root_id=R3 _dlt_parent_id=R3") != NULL);
    CHECK(strstr(out(&h), "items _dlt_id=R3 id=4 _dlt_load_id=L2\n") != NULL);
    h_cleanup(&h);
}

TEST(root_id_random_and_column_order)
{
    struct harness h;
    h_init(&h);
    struct sl_norm_resource r = resource("Events");
    CHECK_EQ_INT(run(&h, &r, "{\"id\":1,\"tags\":[\"a\"]}\n{\"id\":2}"), SLUICE_OK);
    /* dlt appends _dlt_load_id then _dlt_id to root rows */
    CHECK_EQ_STR(cols(&h, "events"), "id:bigint _dlt_load_id:text! _dlt_id:text!");
    CHECK_EQ_STR(cols(&h, "events__tags"),
                 "value:text _dlt_parent_id:text! _dlt_list_idx:bigint! _dlt_id:text!");
    /* no root key unless asked for */
    CHECK(sl_schema_find(h.schema, "events__tags")->ncols == 4);
    /* two items, two different random ids; the child links to its own parent */
    const char *o = out(&h);
    char id1[15] = "", id2[15] = "", pid[15] = "";
    const char *p = strstr(o, "events id=1 _dlt_load_id=L1 _dlt_id=");
    CHECK(p != NULL);
    if (p)
        memcpy(id1, p + strlen("events id=1 _dlt_load_id=L1 _dlt_id="), 14);
    p = strstr(o, "events id=2 _dlt_load_id=L1 _dlt_id=");
    CHECK(p != NULL);
    if (p)
        memcpy(id2, p + strlen("events id=2 _dlt_load_id=L1 _dlt_id="), 14);
    p = strstr(o, "_dlt_parent_id=");
    if (p)
        memcpy(pid, p + strlen("_dlt_parent_id="), 14);
    CHECK(strlen(id1) == 14 && strcmp(id1, id2) != 0);
    CHECK_EQ_STR(pid, id1);
    h_cleanup(&h);
}

TEST(system_values)
{
    struct harness h;
    h_init(&h);
    sl_normalizer_free(&h.n);
    sl_normalizer_new(&h.ctx, h.schema, "2024-01-01T00:00:00Z", &h.rng, &h.n);
    struct sl_norm_resource r = resource("s");
    /* system columns have fixed types; a null _dlt_id from the data is replaced (as dlt) */
    CHECK_EQ_INT(run(&h, &r, "{\"_dlt_id\":null,\"a\":1,\"l\":[{\"_dlt_list_idx\":null}]}"),
                 SLUICE_OK);
    CHECK_EQ_STR(cols(&h, "s"), "a:bigint _dlt_load_id:text! _dlt_id:text!");
    CHECK(strstr(out(&h), "s a=1 _dlt_load_id=2024-01-01T00:00:00Z _dlt_id=") != NULL);
    CHECK(strstr(out(&h), "\ns__l _dlt_parent_id=") != NULL);
    CHECK(strstr(out(&h), " _dlt_list_idx=0 _dlt_id=") != NULL);
    h_cleanup(&h);
}

TEST(list_of_lists)
{
    struct harness h;
    h_init(&h);
    struct sl_norm_resource r = resource("z1");
    CHECK_EQ_INT(run(&h, &r,
                     "{\"_dlt_id\":\"9Gw8Ux1HJ5yP1g\",\"id\":1,\"zen\":{\"webpath\":[[{\"a\":1},"
                     "{\"a\":2},{\"b\":\"x\"},[{\"c\":1}]],[1,2,3]]}}"),
                 SLUICE_OK);
    /* the spec's example: 2 wrapper rows, 7 rows in __list, 1 in __list__list; every id is
     * the one dlt produced for this parent id */
    CHECK_EQ_STR(
        out(&h),
        "z1 _dlt_id=9Gw8Ux1HJ5yP1g id=1 _dlt_load_id=L1\n"
        "z1__zen__webpath _dlt_parent_id=9Gw8Ux1HJ5yP1g _dlt_list_idx=0 _dlt_id=6mAZyGnWrCO7Og\n"
        "z1__zen__webpath__list a=1 _dlt_parent_id=6mAZyGnWrCO7Og _dlt_list_idx=0 "
        "_dlt_id=/KhvZgK1i6ELbg\n"
        "z1__zen__webpath__list a=2 _dlt_parent_id=6mAZyGnWrCO7Og _dlt_list_idx=1 "
        "_dlt_id=57z1u37spJYMnA\n"
        "z1__zen__webpath__list _dlt_parent_id=6mAZyGnWrCO7Og _dlt_list_idx=2 "
        "_dlt_id=LoaHJWkhqphlaw b=x\n"
        "z1__zen__webpath__list _dlt_parent_id=6mAZyGnWrCO7Og _dlt_list_idx=3 "
        "_dlt_id=OFR7zsYexwecHQ\n"
        "z1__zen__webpath__list__list c=1 _dlt_parent_id=OFR7zsYexwecHQ _dlt_list_idx=0 "
        "_dlt_id=yIi4QY67hn9+ZQ\n"
        "z1__zen__webpath _dlt_parent_id=9Gw8Ux1HJ5yP1g _dlt_list_idx=1 _dlt_id=fPAwjZWXVxNSnA\n"
        "z1__zen__webpath__list _dlt_parent_id=fPAwjZWXVxNSnA _dlt_list_idx=0 "
        "_dlt_id=sah4/mdKoRTcJA value=1\n"
        "z1__zen__webpath__list _dlt_parent_id=fPAwjZWXVxNSnA _dlt_list_idx=1 "
        "_dlt_id=uZa5nFhPJINrRg value=2\n"
        "z1__zen__webpath__list _dlt_parent_id=fPAwjZWXVxNSnA _dlt_list_idx=2 "
        "_dlt_id=g5/SS5iu24SvNg value=3\n");
    /* real dlt's column order for the mixed table */
    CHECK_EQ_STR(cols(&h, "z1__zen__webpath__list"),
                 "a:bigint _dlt_parent_id:text! _dlt_list_idx:bigint! _dlt_id:text! b:text "
                 "value:bigint");
    CHECK_EQ_STR(cols(&h, "z1__zen__webpath"),
                 "_dlt_parent_id:text! _dlt_list_idx:bigint! _dlt_id:text!");
    h_cleanup(&h);
}

TEST(scalars_empties_and_blank_keys)
{
    struct harness h;
    h_init(&h);
    struct sl_norm_resource r = resource("e7");
    CHECK_EQ_INT(run(&h, &r,
                     "{\"_dlt_id\":\"QVniwLv6xfbfOA\",\"a\":[1,null,2],\"b\":[[1,2],[],[3]],"
                     "\"c\":[],\"d\":{},\"e\":null,\"\":5,\"  \":6,\"f\":[{}],"
                     "\"g\":[{\"x\":null}]}"),
                 SLUICE_OK);
    /* as real dlt: a null list element is a row, an empty inner list keeps its wrapper row,
     * empty lists/objects and null-only columns produce nothing, blank keys are "_empty" (the
     * later value wins) */
    CHECK_EQ_STR(
        out(&h),
        "e7 _dlt_id=QVniwLv6xfbfOA _empty=6 _dlt_load_id=L1\n"
        "e7__a value=1 _dlt_parent_id=QVniwLv6xfbfOA _dlt_list_idx=0 _dlt_id=cHKiaz/ExLng0Q\n"
        "e7__a _dlt_parent_id=QVniwLv6xfbfOA _dlt_list_idx=1 _dlt_id=Ok2e+f/F15Kv1A\n"
        "e7__a value=2 _dlt_parent_id=QVniwLv6xfbfOA _dlt_list_idx=2 _dlt_id=fF2LFhE/JWTFmg\n"
        "e7__b _dlt_parent_id=QVniwLv6xfbfOA _dlt_list_idx=0 _dlt_id=8qHz73BiEBXEGA\n"
        "e7__b__list value=1 _dlt_parent_id=8qHz73BiEBXEGA _dlt_list_idx=0 "
        "_dlt_id=khwYqxzKLO/iKw\n"
        "e7__b__list value=2 _dlt_parent_id=8qHz73BiEBXEGA _dlt_list_idx=1 "
        "_dlt_id=KIHL+i5xTVuc5g\n"
        "e7__b _dlt_parent_id=QVniwLv6xfbfOA _dlt_list_idx=1 _dlt_id=bvZiMXIE167R3Q\n"
        "e7__b _dlt_parent_id=QVniwLv6xfbfOA _dlt_list_idx=2 _dlt_id=PytM1IgTcfrfLg\n"
        "e7__b__list value=3 _dlt_parent_id=PytM1IgTcfrfLg _dlt_list_idx=0 "
        "_dlt_id=DwL8p19gTCjy0g\n"
        "e7__f _dlt_parent_id=QVniwLv6xfbfOA _dlt_list_idx=0 _dlt_id=tkybvxxk+6A14A\n"
        "e7__g _dlt_parent_id=QVniwLv6xfbfOA _dlt_list_idx=0 _dlt_id=ex43udgk9v9pAg\n");
    CHECK_EQ_STR(cols(&h, "e7"), "_dlt_id:text! _empty:bigint _dlt_load_id:text!");
    CHECK(sl_schema_find(h.schema, "e7__c") == NULL);
    CHECK_EQ_STR(cols(&h, "e7__g"), "_dlt_parent_id:text! _dlt_list_idx:bigint! _dlt_id:text!");
    /* a null after a real value: the column exists and gets NULL */
    CHECK_EQ_INT(run(&h, &r, "{\"_dlt_id\":\"x\",\"e\":\"v\"}\n{\"_dlt_id\":\"y\",\"e\":null}"),
                 SLUICE_OK);
    CHECK_EQ_STR(out(&h), "e7 _dlt_id=x _dlt_load_id=L1 e=v\ne7 _dlt_id=y _dlt_load_id=L1\n");
    h_cleanup(&h);
}

TEST(non_object_item)
{
    struct harness h;
    h_init(&h);
    struct sl_norm_resource r = resource("nums");
    CHECK_EQ_INT(run(&h, &r, "5\n[1]"), SLUICE_OK);
    CHECK_EQ_STR(cols(&h, "nums"), "value:bigint _dlt_load_id:text! _dlt_id:text!");
    CHECK(strncmp(out(&h), "nums value=5 _dlt_load_id=L1 _dlt_id=", 37) == 0);
    CHECK(strstr(out(&h), "\nnums__value value=1 _dlt_parent_id=") != NULL);
    h_cleanup(&h);
}

/* ---- nesting budget ---------------------------------------------------------------------- */

TEST(max_table_nesting)
{
    struct harness h;
    h_init(&h);
    struct sl_norm_resource r = resource("n0");
    r.max_table_nesting = 0;
    const char *item0 = "{\"_dlt_id\":\"i\",\"id\":1,\"u\":{\"a\":1,\"b\":[1,2]},"
                        "\"l\":[{\"x\":{\"y\":1}}],\"s\":\"a\\u00e9\\\"b\",\"t\":[]}";
    CHECK_EQ_INT(run(&h, &r, item0), SLUICE_OK);
    /* everything nested is one JSON column in dlt's compact form (empty list included) */
    CHECK_EQ_STR(out(&h), "n0 _dlt_id=i id=1 u={\"a\":1,\"b\":[1,2]} l=[{\"x\":{\"y\":1}}] "
                          "s=a\xc3\xa9\"b t=[] _dlt_load_id=L1\n");
    CHECK_EQ_STR(cols(&h, "n0"),
                 "_dlt_id:text! id:bigint u:json l:json s:text t:json _dlt_load_id:text!");

    r = resource("n1");
    r.max_table_nesting = 1;
    CHECK_EQ_INT(run(&h, &r,
                     "{\"_dlt_id\":\"SoFAYlwhumzWaQ\",\"id\":1,\"u\":{\"a\":1,\"b\":[1,2],"
                     "\"c\":{\"d\":1.50,\"e\":\"\\u00e9\"}},\"l\":[{\"x\":{\"y\":1},\"z\":[1]},"
                     "[5,6]]}"),
                 SLUICE_OK);
    /* as real dlt: one level flattened, one level of child tables, the rest JSON (a list in a
     * list at the limit is the wrapper's "list" column); floats as orjson writes them */
    CHECK_EQ_STR(out(&h),
                 "n1 _dlt_id=SoFAYlwhumzWaQ id=1 u__a=1 u__b=[1,2] "
                 "u__c={\"d\":1.5,\"e\":\"\xc3\xa9\"} "
                 "_dlt_load_id=L1\n"
                 "n1__l x={\"y\":1} z=[1] _dlt_parent_id=SoFAYlwhumzWaQ _dlt_list_idx=0 "
                 "_dlt_id=jLTqxLmmVHk5jA\n"
                 "n1__l _dlt_parent_id=SoFAYlwhumzWaQ _dlt_list_idx=1 _dlt_id=8uKxGU5kdRov7w "
                 "list=[5,6]\n");
    CHECK_EQ_STR(cols(&h, "n1__l"), "x:json z:json _dlt_parent_id:text! _dlt_list_idx:bigint! "
                                    "_dlt_id:text! list:json");

    r = resource("n2");
    r.max_table_nesting = 2;
    CHECK_EQ_INT(run(&h, &r,
                     "{\"_dlt_id\":\"ZDh88AU8oT7Few\",\"id\":1,\"u\":{\"a\":1,\"b\":[1,2],"
                     "\"c\":{\"d\":1,\"e\":{\"f\":1}}},\"l\":[{\"x\":{\"y\":{\"q\":1}},"
                     "\"z\":[1,[2]]},[5,[6]]]}"),
                 SLUICE_OK);
    CHECK_EQ_STR(cols(&h, "n2"),
                 "_dlt_id:text! id:bigint u__a:bigint u__c__d:bigint u__c__e:json "
                 "_dlt_load_id:text!");
    CHECK_EQ_STR(cols(&h, "n2__l"), "x__y:json _dlt_parent_id:text! _dlt_list_idx:bigint! "
                                    "_dlt_id:text! list:json");
    CHECK_EQ_STR(cols(&h, "n2__l__z"), "value:bigint _dlt_parent_id:text! "
                                       "_dlt_list_idx:bigint! _dlt_id:text! list:json");
    CHECK(strstr(out(&h), "n2__l _dlt_parent_id=ZDh88AU8oT7Few _dlt_list_idx=1 "
                          "_dlt_id=7p3JM5x6N0VwCg list=[5,[6]]\n") != NULL);
    CHECK(strstr(out(&h), "n2__l__z _dlt_parent_id=8pqyBgcU0iye3Q _dlt_list_idx=1 "
                          "_dlt_id=xPIEpVqmllCwug list=[2]\n") != NULL);
    CHECK(strstr(out(&h), "n2__u__b value=2 _dlt_parent_id=ZDh88AU8oT7Few _dlt_list_idx=1 "
                          "_dlt_id=2cF6re8it2tzsw\n") != NULL);
    /* a column hinted json is not flattened at any depth */
    r = resource("hinted");
    struct sl_json *hints = NULL;
    const char *hj = "{\"payload\":{\"data_type\":\"json\"}}";
    sl_json_parse_heap(&h.ctx, hj, strlen(hj), &hints);
    r.columns = hints;
    CHECK_EQ_INT(run(&h, &r, "{\"payload\":{\"a\":[1]},\"k\":1}"), SLUICE_OK);
    CHECK_EQ_STR(cols(&h, "hinted"), "payload:json k:bigint _dlt_load_id:text! _dlt_id:text!");
    CHECK(strncmp(out(&h), "hinted payload={\"a\":[1]} k=1 ", 29) == 0);
    sl_json_free(hints);
    h_cleanup(&h);
}

/* ---- types ------------------------------------------------------------------------------- */

TEST(type_inference)
{
    struct harness h;
    h_init(&h);
    struct sl_norm_resource r = resource("things");
    CHECK_EQ_INT(run(&h, &r,
                     "{\"_dlt_id\":\"a\",\"n\":42,\"f\":1.5,\"b\":true,\"s\":\"hi\","
                     "\"ts_off\":\"2024-01-01T10:00:00+02:00\","
                     "\"ts_z\":\"2024-01-01T10:00:00.123Z\","
                     "\"ts_naive\":\"2024-01-02T00:00:00.5\",\"d\":\"2024-03-05\","
                     "\"big\":9007199254740993,\"huge\":123456789012345678901234567890,"
                     "\"enormous\":5789604461865809771178549250434395392660,"
                     "\"ts_space\":\"2023-12-31 23:30:00-0100\",\"e\":1e20}"),
                 SLUICE_OK);
    CHECK_EQ_STR(cols(&h, "things"),
                 "_dlt_id:text! n:bigint f:double b:bool s:text ts_off:timestamp "
                 "ts_z:timestamp ts_naive:timestamp d:text big:bigint huge:wei enormous:text "
                 "ts_space:timestamp e:double _dlt_load_id:text!");
    CHECK_EQ_STR(out(&h), "things _dlt_id=a n=42 f=1.5 b=true s=hi ts_off=2024-01-01T08:00:00Z "
                          "ts_z=2024-01-01T10:00:00.123Z ts_naive=2024-01-02T00:00:00.5Z "
                          "d=2024-03-05 big=9007199254740993 "
                          "huge=123456789012345678901234567890 "
                          "enormous=5789604461865809771178549250434395392660 "
                          "ts_space=2024-01-01T00:30:00Z e=1e+20 _dlt_load_id=L1\n");
    struct sl_table *t = sl_schema_find(h.schema, "things");
    CHECK_EQ_INT(t->cols[7].type, SL_DT_TIMESTAMP);
    h_cleanup(&h);
}

TEST(coercion_and_variants)
{
    struct harness h;
    h_init(&h);
    struct sl_norm_resource r = resource("inventory");
    CHECK_EQ_INT(run(&h, &r,
                     "{\"_dlt_id\":\"1\",\"inventory nr\":2411,\"qty\":10,\"label\":\"x\"}"),
                 SLUICE_OK);
    /* the spec's example and case 0013: text into bigint → __v_text; double → __v_double;
     * an int into a text column stays there as text */
    CHECK_EQ_INT(run(&h, &r,
                     "{\"_dlt_id\":\"2\",\"inventory nr\":\"AR2411\",\"qty\":2.5,\"label\":5}\n"
                     "{\"_dlt_id\":\"3\",\"inventory nr\":\"123\",\"qty\":3.0,\"label\":true}\n"
                     "{\"_dlt_id\":\"4\",\"inventory nr\":\" 0x10 \",\"qty\":true,\"label\":1.5}"),
                 SLUICE_OK);
    CHECK_EQ_STR(out(&h),
                 "inventory _dlt_id=2 label=5 _dlt_load_id=L1 inventory_nr__v_text=AR2411 "
                 "qty__v_double=2.5\n"
                 "inventory _dlt_id=3 inventory_nr=123 qty=3 label=True _dlt_load_id=L1\n"
                 "inventory _dlt_id=4 inventory_nr=16 label=1.5 _dlt_load_id=L1 "
                 "qty__v_bool=true\n");
    CHECK_EQ_STR(cols(&h, "inventory"),
                 "_dlt_id:text! inventory_nr:bigint qty:bigint label:text _dlt_load_id:text! "
                 "inventory_nr__v_text:text qty__v_double:double qty__v_bool:bool");
    struct sl_table *t = sl_schema_find(h.schema, "inventory");
    CHECK_EQ_INT(t->cols[5].hints, SL_HINT_VARIANT);
    CHECK(t->cols[5].nullable);
    /* variant columns are reused */
    CHECK_EQ_INT(run(&h, &r, "{\"_dlt_id\":\"5\",\"inventory nr\":\"X1\",\"qty\":0.25}"),
                 SLUICE_OK);
    CHECK_EQ_STR(out(&h), "inventory _dlt_id=5 _dlt_load_id=L1 inventory_nr__v_text=X1 "
                          "qty__v_double=0.25\n");
    CHECK_EQ_INT(t->ncols, 8);
    h_cleanup(&h);
}

TEST(coercion_table)
{
    struct harness h;
    h_init(&h);
    struct sl_norm_resource r = resource("c");
    /* outcomes of real dlt runs: double, bool, text and timestamp columns receiving other
     * types. One deliberate difference: "1e400" (inf) goes to a variant, where dlt stores inf
     * and then fails to load it */
    CHECK_EQ_INT(run(&h, &r,
                     "{\"_dlt_id\":\"1\",\"d\":1.5,\"b\":true,\"t\":\"x\","
                     "\"ts\":\"2024-01-01T00:00:00Z\"}\n"
                     "{\"_dlt_id\":\"2\",\"d\":2,\"b\":5,\"t\":5,\"ts\":\"garbage\"}\n"
                     "{\"_dlt_id\":\"3\",\"d\":\"3.5\",\"b\":\"yes\",\"t\":true,"
                     "\"ts\":1700000000}\n"
                     "{\"_dlt_id\":\"4\",\"d\":\"x\",\"b\":\"maybe\",\"t\":1e20,"
                     "\"ts\":\"2024-01-01\"}\n"
                     "{\"_dlt_id\":\"5\",\"d\":true,\"b\":0.0,\"t\":1e-7,"
                     "\"ts\":\"2024-01-01 10:00:00+05:30\"}\n"
                     "{\"_dlt_id\":\"6\",\"d\":\" 1_000.5 \",\"b\":\"N\",\"t\":[1,2],\"ts\":1.5}\n"
                     "{\"_dlt_id\":\"7\",\"d\":\"1e400\",\"b\":\"\",\"t\":1e16,\"ts\":true}\n"
                     "{\"_dlt_id\":\"8\",\"d\":\"0x1f\",\"b\":\"TRUE\"}"),
                 SLUICE_OK);
    CHECK_EQ_STR(
        out(&h),
        "c _dlt_id=1 d=1.5 b=true t=x ts=2024-01-01T00:00:00Z _dlt_load_id=L1\n"
        "c _dlt_id=2 d=2 b=true t=5 _dlt_load_id=L1 ts__v_text=garbage\n"
        "c _dlt_id=3 d=3.5 b=true t=True ts=2023-11-14T22:13:20Z _dlt_load_id=L1\n"
        "c _dlt_id=4 t=1e+20 ts=2024-01-01T00:00:00Z _dlt_load_id=L1 d__v_text=x "
        "b__v_text=maybe\n"
        "c _dlt_id=5 b=false t=1e-07 ts=2024-01-01T04:30:00Z _dlt_load_id=L1 d__v_bool=true\n"
        "c _dlt_id=6 d=1000.5 b=false ts=1970-01-01T00:00:01.5Z _dlt_load_id=L1\n"
        "c__t value=1 _dlt_parent_id=6 _dlt_list_idx=0 _dlt_id=necj79RnYu6oaw\n"
        "c__t value=2 _dlt_parent_id=6 _dlt_list_idx=1 _dlt_id=MgChjF01bBzdUQ\n"
        "c _dlt_id=7 t=1e+16 _dlt_load_id=L1 d__v_text=1e400 b__v_text= ts__v_bool=true\n"
        "c _dlt_id=8 d=31 b=true _dlt_load_id=L1\n");
    /* a list under a text column's name is still a child table (dlt flattens before typing) */
    CHECK_EQ_STR(cols(&h, "c__t"),
                 "value:bigint _dlt_parent_id:text! _dlt_list_idx:bigint! _dlt_id:text!");
    h_cleanup(&h);
}

TEST(number_spelling)
{
    struct harness h;
    h_init(&h);
    struct sl_norm_resource r = resource("num");
    r.max_table_nesting = 0;
    /* a text column spells doubles as Python's str(); JSON columns as orjson does */
    CHECK_EQ_INT(run(&h, &r,
                     "{\"_dlt_id\":\"a\",\"t\":\"x\",\"j\":[]}\n"
                     "{\"_dlt_id\":\"b\",\"t\":1e-05,\"j\":[1e-05,1e-7,1e16,1.0,9.99e-6,-0.0,"
                     "1e15,123456789012345678.0,0.0001,2.5e-300]}\n"
                     "{\"_dlt_id\":\"c\",\"t\":0.0001}\n{\"_dlt_id\":\"d\",\"t\":1e15}\n"
                     "{\"_dlt_id\":\"e\",\"t\":123456789012345678.0}\n"
                     "{\"_dlt_id\":\"f\",\"t\":-0.0}\n"
                     "{\"_dlt_id\":\"g\",\"t\":100.0}\n{\"_dlt_id\":\"h\",\"t\":0.1}\n"
                     "{\"_dlt_id\":\"i\",\"t\":-12345678901234567890}"),
                 SLUICE_OK);
    CHECK_EQ_STR(out(&h), "num _dlt_id=a t=x j=[] _dlt_load_id=L1\n"
                          "num _dlt_id=b t=1e-05 j=[0.00001,1e-7,1e+16,1.0,9.99e-6,-0.0,"
                          "1000000000000000.0,1.2345678901234568e+17,0.0001,2.5e-300] "
                          "_dlt_load_id=L1\n"
                          "num _dlt_id=c t=0.0001 _dlt_load_id=L1\n"
                          "num _dlt_id=d t=1000000000000000.0 _dlt_load_id=L1\n"
                          "num _dlt_id=e t=1.2345678901234568e+17 _dlt_load_id=L1\n"
                          "num _dlt_id=f t=-0.0 _dlt_load_id=L1\n"
                          "num _dlt_id=g t=100.0 _dlt_load_id=L1\n"
                          "num _dlt_id=h t=0.1 _dlt_load_id=L1\n"
                          "num _dlt_id=i t=-12345678901234567890 _dlt_load_id=L1\n");
    h_cleanup(&h);
}

TEST(hinted_types)
{
    struct harness h;
    h_init(&h);
    struct sl_norm_resource r = resource("typed");
    struct sl_json *hints = NULL;
    const char *hj = "{\"day\":{\"data_type\":\"date\"},\"t\":{\"data_type\":\"time\"},"
                     "\"d\":{\"data_type\":\"decimal\"},\"j\":{\"data_type\":\"json\"},"
                     "\"w\":{\"data_type\":\"wei\"},\"bin\":{\"data_type\":\"binary\"}}";
    CHECK_EQ_INT(sl_json_parse_heap(&h.ctx, hj, strlen(hj), &hints), SLUICE_OK);
    r.columns = hints;
    /* outcomes of real dlt runs with these column hints (values as text) */
    CHECK_EQ_INT(run(&h, &r,
                     "{\"_dlt_id\":\"1\",\"day\":\"2024-03-05\",\"t\":\"10:30\",\"d\":\"1.50\","
                     "\"j\":\"{\\\"a\\\": 1}\",\"w\":12,\"bin\":\"0x00ff\"}\n"
                     "{\"_dlt_id\":\"2\",\"day\":\"2024-03-05T23:00:00-02:00\","
                     "\"t\":\"10:30:15.25\",\"d\":2,\"j\":\"5\",\"w\":\"0x10\",\"bin\":\"AAE=\"}\n"
                     "{\"_dlt_id\":\"3\",\"day\":1700000000,\"t\":\"25:00\",\"d\":\" 1_0 \","
                     "\"j\":\"hello\",\"w\":2.5,\"bin\":\"zz\"}\n"
                     "{\"_dlt_id\":\"4\",\"day\":\"x\",\"d\":\"x\",\"j\":5,\"w\":true}\n"
                     "{\"_dlt_id\":\"5\",\"d\":2.5,\"j\":[1,{\"b\":null}]}"),
                 SLUICE_OK);
    CHECK_EQ_STR(out(&h),
                 "typed day=2024-03-05 t=10:30:00 d=1.50 j={\"a\":1} w=12 bin=0x00ff "
                 "_dlt_id=1 _dlt_load_id=L1\n"
                 "typed day=2024-03-06 t=10:30:15.25 d=2 j=5 w=16 bin=AAE= _dlt_id=2 "
                 "_dlt_load_id=L1\n"
                 "typed day=2023-11-14 d=10 w=2.5 _dlt_id=3 _dlt_load_id=L1 t__v_text=25:00 "
                 "j__v_text=hello bin__v_text=zz\n"
                 "typed _dlt_id=4 _dlt_load_id=L1 day__v_text=x d__v_text=x j__v_bigint=5 "
                 "w__v_bool=true\n"
                 "typed d=2.5 j=[1,{\"b\":null}] _dlt_id=5 _dlt_load_id=L1\n");
    /* hinted columns come first, in hint order, as in dlt */
    CHECK_EQ_STR(cols(&h, "typed"), "day:date t:time d:decimal j:json w:wei bin:binary "
                                    "_dlt_id:text! _dlt_load_id:text! t__v_text:text "
                                    "j__v_text:text bin__v_text:text day__v_text:text "
                                    "d__v_text:text j__v_bigint:bigint w__v_bool:bool");
    sl_json_free(hints);
    h_cleanup(&h);
}

TEST(variant_of_variant)
{
    struct harness h;
    h_init(&h);
    struct sl_norm_resource r = resource("vv");
    /* dlt: the variant n__v_text is typed by inference (timestamp), and "abc" fits neither:
     * "Cannot coerce type `text` to `timestamp` ... column `n__v_text`" */
    CHECK_EQ_INT(run(&h, &r,
                     "{\"lines\":[{\"n\":1},{\"n\":\"2024-01-01T00:00:00Z\"},{\"n\":\"abc\"}]}"),
                 SLUICE_ERR_DATA_SCHEMA);
    CHECK_EQ_STR(h.ctx.resource, "vv");
    CHECK_EQ_INT(h.ctx.item, 1);
    CHECK_EQ_STR(h.ctx.field, "$.lines[2].n");
    CHECK(strstr(h.ctx.message, "n__v_text") != NULL);
    CHECK_EQ_STR(cols(&h, "vv__lines"), "n:bigint _dlt_parent_id:text! _dlt_list_idx:bigint! "
                                        "_dlt_id:text! n__v_text:timestamp");
    h_cleanup(&h);
}

/* ---- keys, hints, templates -------------------------------------------------------------- */

TEST(primary_key_errors)
{
    static const char *const pk[] = { "id" };
    static const char *const mk[] = { "Batch Day" };
    struct harness h;
    h_init(&h);
    struct sl_norm_resource r = resource("orders");
    r.wd = SL_WD_MERGE;
    r.root_key = true;
    r.primary_key = pk;
    r.n_pk = 1;
    CHECK_EQ_INT(run(&h, &r, "{\"id\":1,\"x\":1}\n{\"id\":null,\"x\":2}"), SLUICE_ERR_DATA_SCHEMA);
    CHECK_EQ_STR(h.ctx.resource, "orders");
    CHECK_EQ_INT(h.ctx.item, 2);
    CHECK_EQ_STR(h.ctx.field, "$.id");
    CHECK_EQ_INT(h.rows, 1); /* the bad row is not emitted */
    CHECK_EQ_STR(cols(&h, "orders"), "id:bigint! x:bigint _dlt_load_id:text! _dlt_id:text!");
    struct sl_table *t = sl_schema_find(h.schema, "orders");
    CHECK_EQ_INT(t->cols[0].hints, SL_HINT_PRIMARY_KEY);
    CHECK_EQ_INT(t->wd, SL_WD_MERGE);

    sl_ctx_init(&h.ctx);
    CHECK_EQ_INT(run(&h, &r, "{\"x\":3}"), SLUICE_ERR_DATA_SCHEMA);
    CHECK_EQ_STR(h.ctx.field, "$.id");
    CHECK_EQ_INT(h.ctx.item, 1);
    CHECK(strstr(h.ctx.message, "missing") != NULL);

    /* a key that is not coercible leaves the key column NULL: also an error */
    sl_ctx_init(&h.ctx);
    CHECK_EQ_INT(run(&h, &r, "{\"id\":\"abc\"}"), SLUICE_ERR_DATA_SCHEMA);
    CHECK_EQ_STR(h.ctx.field, "$.id");

    /* merge keys are source names, normalized; missing -> error */
    sl_ctx_init(&h.ctx);
    r.merge_key = mk;
    r.n_mk = 1;
    CHECK_EQ_INT(run(&h, &r, "{\"id\":4,\"Batch Day\":\"2024-01-01\"}\n{\"id\":5}"),
                 SLUICE_ERR_DATA_SCHEMA);
    CHECK_EQ_INT(h.ctx.item, 2);
    CHECK_EQ_STR(h.ctx.field, "$.Batch Day");
    CHECK(strstr(h.ctx.message, "merge key") != NULL);
    long bd = sl_table_col(t, "batch_day");
    CHECK(bd >= 0);
    if (bd >= 0) {
        CHECK_EQ_INT(t->cols[bd].hints, SL_HINT_MERGE_KEY);
        CHECK(!t->cols[bd].nullable);
    }
    h_cleanup(&h);
}

TEST(column_hints)
{
    static const char *const pk[] = { "id" };
    static const char *const mk[] = { "a" };
    struct harness h;
    h_init(&h);
    struct sl_norm_resource r = resource("h1");
    r.wd = SL_WD_MERGE;
    r.primary_key = pk;
    r.n_pk = 1;
    r.merge_key = mk;
    r.n_mk = 1;
    struct sl_json *hints = NULL;
    const char *hj = "{\"y\":{\"data_type\":\"text\"},\"x\":{\"data_type\":\"text\","
                     "\"nullable\":false},\"never\":{\"data_type\":\"bigint\"},"
                     "\"hd\":{\"hard_delete\":true},\"Updated At\":{\"dedup_sort\":\"desc\"}}";
    CHECK_EQ_INT(sl_json_parse_heap(&h.ctx, hj, strlen(hj), &hints), SLUICE_OK);
    r.columns = hints;
    /* real dlt: y, x, never first (typed hints), then a, id in data order; y coerced to text */
    CHECK_EQ_INT(run(&h, &r, "{\"a\":1,\"id\":2,\"x\":\"s\",\"y\":5}"), SLUICE_OK);
    CHECK_EQ_STR(cols(&h, "h1"), "y:text x:text! never:bigint a:bigint! id:bigint! "
                                 "_dlt_load_id:text! _dlt_id:text!");
    CHECK(strncmp(out(&h), "h1 y=5 x=s a=1 id=2 _dlt_load_id=L1 _dlt_id=", 44) == 0);
    struct sl_table *t = sl_schema_find(h.schema, "h1");
    CHECK_EQ_INT(t->cols[3].hints, SL_HINT_MERGE_KEY);
    CHECK_EQ_INT(t->cols[4].hints, SL_HINT_PRIMARY_KEY);
    /* hinted columns without a type are created by their first value, with their hints */
    CHECK_EQ_INT(run(&h, &r, "{\"a\":1,\"id\":3,\"x\":\"t\",\"hd\":true,"
                             "\"Updated At\":\"2024-01-01T00:00:00Z\"}"),
                 SLUICE_OK);
    long hd = sl_table_col(t, "hd"), ua = sl_table_col(t, "updated_at");
    CHECK(hd > 0 && ua > 0);
    if (hd > 0 && ua > 0) {
        CHECK_EQ_INT(t->cols[hd].hints, SL_HINT_HARD_DELETE);
        CHECK_EQ_INT(t->cols[hd].type, SL_DT_BOOL);
        CHECK_EQ_INT(t->cols[ua].hints, SL_HINT_DEDUP_DESC);
        CHECK_EQ_INT(t->cols[ua].type, SL_DT_TIMESTAMP);
    }
    /* a null in a non-nullable hinted column */
    CHECK_EQ_INT(run(&h, &r, "{\"a\":1,\"id\":4,\"x\":null}"), SLUICE_ERR_DATA_SCHEMA);
    CHECK_EQ_STR(h.ctx.field, "$.x");
    sl_json_free(hints);

    /* bad hints */
    static const char *const bad[] = {
        "{\"a\":{\"dedup_sort\":\"up\"}}",
        "{\"a\":{\"data_type\":\"complex\"}}",
        "{\"a\":{\"hard_delete\":true},\"b\":{\"hard_delete\":true}}",
        "{\"a\":{\"dedup_sort\":\"asc\"},\"b\":{\"dedup_sort\":\"desc\"}}",
        "{\"a\":5}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sl_norm_resource b = resource("bad");
        sl_ctx_init(&h.ctx);
        CHECK_EQ_INT(sl_json_parse_heap(&h.ctx, bad[i], strlen(bad[i]), &hints), SLUICE_OK);
        b.columns = hints;
        CHECK_EQ_INT(run(&h, &b, "{\"a\":1}"), SLUICE_ERR_DATA_SCHEMA);
        CHECK_EQ_STR(h.ctx.resource, "bad");
        sl_json_free(hints);
    }
    h_cleanup(&h);
}

TEST(table_templates)
{
    struct harness h;
    h_init(&h);
    struct sl_norm_resource r = resource("events");
    r.table_name = "{type}";
    CHECK_EQ_INT(run(&h, &r,
                     "{\"id\":1,\"type\":\"OrderCreated\",\"amount\":10}\n"
                     "{\"id\":2,\"type\":\"order-updated\",\"amount\":11}\n"
                     "{\"id\":3,\"type\":\"OrderCreated\",\"items\":[\"a\"]}\n"
                     "{\"id\":4,\"type\":\"Refund Issued\",\"reason\":\"broken\"}"),
                 SLUICE_OK);
    CHECK_EQ_STR(cols(&h, "order_created"),
                 "id:bigint type:text amount:bigint _dlt_load_id:text! _dlt_id:text!");
    CHECK_EQ_STR(cols(&h, "refund_issued"),
                 "id:bigint type:text reason:text _dlt_load_id:text! _dlt_id:text!");
    CHECK(sl_schema_find(h.schema, "order_updated") != NULL);
    struct sl_table *it = sl_schema_find(h.schema, "order_created__items");
    CHECK(it && strcmp(it->parent, "order_created") == 0 && strcmp(it->resource, "events") == 0);
    CHECK_EQ_STR(sl_schema_find(h.schema, "order_created")->resource, "events");

    const char *name = NULL;
    struct sl_json *item = NULL;
    const char *doc = "{\"type\":\"A B\",\"n\":7}";
    sl_json_parse_heap(&h.ctx, doc, strlen(doc), &item);
    r.table_name = "t_{type}_{n}_{{x}}";
    CHECK_EQ_INT(sl_normalize_table_name(h.n, &r, item, 1, &name), SLUICE_OK);
    CHECK_EQ_STR(name, "t_a_b_7_xx"); /* "{x}" is literal, then snake_case */
    r.table_name = "static Name";
    CHECK_EQ_INT(sl_normalize_table_name(h.n, &r, item, 1, &name), SLUICE_OK);
    CHECK_EQ_STR(name, "static_name");
    sl_json_free(item);

    /* the field is missing -> DATA_SCHEMA at the item; a bad template -> CONFIG */
    r.table_name = "{type}";
    CHECK_EQ_INT(run(&h, &r, "{\"type\":\"x\"}\n{\"kind\":\"y\"}"), SLUICE_ERR_DATA_SCHEMA);
    CHECK_EQ_INT(h.ctx.item, 2);
    CHECK_EQ_STR(h.ctx.field, "$.type");
    CHECK_EQ_STR(h.ctx.resource, "events");
    sl_ctx_init(&h.ctx);
    r.table_name = "{type";
    CHECK_EQ_INT(run(&h, &r, "{\"type\":\"x\"}"), SLUICE_ERR_CONFIG);
    sl_ctx_init(&h.ctx);
    r.table_name = "a}";
    CHECK_EQ_INT(run(&h, &r, "{\"type\":\"x\"}"), SLUICE_ERR_CONFIG);
    /* a table hint (singer stream) wins over everything */
    sl_ctx_init(&h.ctx);
    struct sl_json *it2 = NULL;
    sl_json_parse_heap(&h.ctx, "{\"a\":1}", 7, &it2);
    CHECK_EQ_INT(sl_normalize_item(h.n, &r, it2, 1, "My Stream", collect, &h), SLUICE_OK);
    CHECK(sl_schema_find(h.schema, "my_stream") != NULL);
    sl_json_free(it2);
    h_cleanup(&h);
}

TEST(shortened_names)
{
    struct harness h;
    h_init(&h);
    sl_normalizer_set_max_identifier_length(h.n, 20);
    struct sl_norm_resource r = resource("events");
    /* names and ids from dlt's relational normalizer with NamingConvention(max_length=20) */
    CHECK_EQ_INT(run(&h, &r,
                     "{\"_dlt_id\":\"AAAAAAAAAAAAAA\",\"averyveryverylongkeyname\":1,"
                     "\"userProfile\":{\"homeAddressStreet\":\"x\","
                     "\"previousAddresses\":[\"a\"]}}\n"
                     "{\"_dlt_id\":\"B\",\"averyveryverylongkeyname\":\"abc\"}"),
                 SLUICE_OK);
    CHECK_EQ_STR(out(&h),
                 "events _dlt_id=AAAAAAAAAAAAAA averyves4ulyakeyname=1 user_prut261a_street=x "
                 "_dlt_load_id=L1\n"
                 "events_j9uapqdresses value=a _dlt_parent_id=AAAAAAAAAAAAAA _dlt_list_idx=0 "
                 "_dlt_id=ZTjMUQv3nc//kg\n"
                 "events _dlt_id=B _dlt_load_id=L1 averyvejxybwa_v_text=abc\n");
    h_cleanup(&h);
}

TEST(consumer_failure)
{
    struct harness h;
    h_init(&h);
    struct sl_norm_resource r = resource("f");
    h.fail_after = 2;
    CHECK_EQ_INT(run(&h, &r, "{\"id\":1,\"l\":[1,2,3]}"), SLUICE_ERR_DEST);
    CHECK_EQ_INT(h.rows, 2);
    CHECK_EQ_STR(h.ctx.message, "consumer says no");
    CHECK_EQ_STR(h.ctx.resource, "f");
    h_cleanup(&h);
}

TEST(arena_reuse)
{
    struct harness h;
    h_init(&h);
    struct sl_norm_resource r = resource("many");
    /* many items through one normalizer: values stay right while the arena is recycled and
     * the key caches warm up; columns appear as keys appear */
    char line[256];
    for (int i = 0; i < 2000; i++) {
        snprintf(line, sizeof(line),
                 "{\"_dlt_id\":\"id%d\",\"id\":%d,\"created_at\":\"2024-01-01T%02d:00:00+01:00\","
                 "\"user\":{\"name\":\"u%d\",\"country\":\"DE\"},\"tags\":[\"t%d\"],\"k%d\":1}",
                 i, i, i % 24, i, i, i % 3);
        CHECK_EQ_INT(run(&h, &r, line), SLUICE_OK);
    }
    CHECK_EQ_STR(cols(&h, "many"), "_dlt_id:text! id:bigint created_at:timestamp k0:bigint "
                                   "user__name:text user__country:text _dlt_load_id:text! "
                                   "k1:bigint k2:bigint");
    CHECK(strncmp(out(&h), "many _dlt_id=id1999 id=1999 created_at=2024-01-01T06:00:00Z "
                           "user__name=u1999 user__country=DE _dlt_load_id=L1 k1=1\n"
                           "many__tags value=t1999 _dlt_parent_id=id1999 ", 150) == 0);
    h_cleanup(&h);
}

/* ---- ISO 8601 ---------------------------------------------------------------------------- */

TEST(iso_timestamps)
{
    /* accepted/rejected as dlt's is_iso_timestamp (pendulum) decides; UTC form */
    static const char *const ok[][2] = {
        { "2024-01-01T10:00:00Z", "2024-01-01T10:00:00Z" },
        { "2024-01-01T10:00:00", "2024-01-01T10:00:00Z" },
        { "2024-01-01 10:00:00", "2024-01-01T10:00:00Z" },
        { "2024-01-01T10:00", "2024-01-01T10:00:00Z" },
        { "2024-01-01T10", "2024-01-01T10:00:00Z" },
        { "2024-01-01T10Z", "2024-01-01T10:00:00Z" },
        { "2024-01-01 10:00", "2024-01-01T10:00:00Z" },
        { "2024-01-01T10:00:00.123456789+05:30", "2024-01-01T04:30:00.123456789Z" },
        { "2024-01-01T10:00:00+0530", "2024-01-01T04:30:00Z" },
        { "2024-01-01T10:00:00+05", "2024-01-01T05:00:00Z" },
        { "2024-01-01T10:00+01", "2024-01-01T09:00:00Z" },
        { "2024-01-01T10:00:00-00:00", "2024-01-01T10:00:00Z" },
        { "2024-01-01T10:00:00.000Z", "2024-01-01T10:00:00.000Z" },
        { "2024-01-01T10:00:00,5Z", "2024-01-01T10:00:00.5Z" },
        { "2024-01-01T10:00:00.123-0330", "2024-01-01T13:30:00.123Z" },
        { "20240101T100000Z", "2024-01-01T10:00:00Z" },
        { "20240101T10", "2024-01-01T10:00:00Z" },
        { "20240101T1000", "2024-01-01T10:00:00Z" },
        { "20240101 100000", "2024-01-01T10:00:00Z" },
        { "20240101T100000.5+0530", "2024-01-01T04:30:00.5Z" },
        { "20240101T100000+05:30", "2024-01-01T04:30:00Z" },
        { "2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z" },
        { "0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z" },
        { "9999-12-31T23:59:59+01:00", "9999-12-31T22:59:59Z" },
        { "2024-01-01T10:00:00+14:00", "2023-12-31T20:00:00Z" },
        { "2023-12-31T23:30:00-01:00", "2024-01-01T00:30:00Z" },
        { "2024-02-28T23:00:00-01:00", "2024-02-29T00:00:00Z" },
        { "2024-01-01T10:00:00.1234567890123456789012Z",
          "2024-01-01T10:00:00.123456789012345678Z" },
    };
    static const char *const bad[] = {
        "2024-01-01", "20240101", "2024", "2024-01", "2024/01/15", "2024-W01",
        "2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z", "2023-02-29T00:00:00Z",
        "2024-01-01T24:00:00Z", "2024-01-01T23:59:60Z", "2024-01-01T10:00:00.Z",
        "2024-01-01t10:00:00z", "2024-01-01T10:00:00 Z", " 2024-01-01T10:00:00Z",
        "2024-01-01T10:00:00Z ", "10:00:00", "T10:00", "2024-01-01T1000", "2024-01-01T100000",
        "2024-1-1T10:00:00", "2024-01-01T10:00:00+01:3", "2024-01-01T10:00:00+1",
        "2024-01-01T10:00:00+01:00Z", "2024-01-01T10:60", "2024-01-01T25",
        "0000-01-01T00:00:00Z", "2024-01-01T", "2024-01-01 ", "20240101T10:00:00",
        "2024-01-01T10:00:00+24:00", "2024-01-01T10:00:00UTC", "2024-01-01  10:00:00",
        "+2024-01-01T00:00:00Z", "0001-01-01T00:30:00+01:00", "", "x",
    };
    char buf[40];
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        memset(buf, 0, sizeof(buf));
        CHECK_EQ_INT(sl_iso_timestamp_normalize(ok[i][0], strlen(ok[i][0]), buf, sizeof(buf)), 1);
        CHECK_EQ_STR(buf, ok[i][1]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int got = sl_iso_timestamp_normalize(bad[i], strlen(bad[i]), buf, sizeof(buf));
        CHECK_EQ_INT(got, 0);
        if (got)
            fprintf(stderr, "    accepted: '%s'\n", bad[i]);
    }
    /* the length is honoured (no NUL needed) and a tiny buffer is refused */
    CHECK_EQ_INT(sl_iso_timestamp_normalize("2024-01-01T10:00:00Zjunk", 20, buf, sizeof(buf)), 1);
    CHECK_EQ_STR(buf, "2024-01-01T10:00:00Z");
    CHECK_EQ_INT(sl_iso_timestamp_normalize("2024-01-01T10:00:00Z", 20, buf, 20), 0);

    CHECK_EQ_INT(sl_iso_date_check("2024-02-29", 10), 1);
    CHECK_EQ_INT(sl_iso_date_check("2023-02-29", 10), 0);
    CHECK_EQ_INT(sl_iso_date_check("2024-12-31", 10), 1);
    CHECK_EQ_INT(sl_iso_date_check("2024-00-10", 10), 0);
    CHECK_EQ_INT(sl_iso_date_check("2024-1-01", 9), 0);
    CHECK_EQ_INT(sl_iso_date_check("2024-01-01T00", 13), 0);
    CHECK_EQ_INT(sl_iso_date_check("20240101", 8), 0);

    /* one text per instant (scd2's boundary and active timestamps) */
    static const char *const canon[][2] = {
        { "9999-12-31", "9999-12-31T00:00:00Z" },
        { "9999-12-31T00:00:00.000+00:00", "9999-12-31T00:00:00Z" },
        { "2024-01-01T10:00:00+02:00", "2024-01-01T08:00:00Z" },
        { "2024-02-01T00:00:00.250Z", "2024-02-01T00:00:00.25Z" },
        { "2024-02-01 00:00:00.000001", "2024-02-01T00:00:00.000001Z" },
    };
    char cbuf[48];
    for (size_t i = 0; i < sizeof(canon) / sizeof(canon[0]); i++) {
        CHECK_EQ_INT(sl_iso_instant_canonical(canon[i][0], cbuf, sizeof(cbuf)), 1);
        CHECK_EQ_STR(cbuf, canon[i][1]);
    }
    CHECK_EQ_INT(sl_iso_instant_canonical("31.12.9999", cbuf, sizeof(cbuf)), 0);
    CHECK_EQ_INT(sl_iso_instant_canonical("9999", cbuf, sizeof(cbuf)), 0);
}

TEST(child_ids_any_length)
{
    /* nested ids for messages of every length across SHAKE-128's 168-byte blocks equal
     * digest128 computed by digest.c */
    struct harness h;
    h_init(&h);
    char name[400], msg[512], want[32], item[64];
    int bad = 0;
    for (size_t len = 150; len < 360; len++) {
        struct sl_norm_resource r = resource(name);
        memset(name, 'a', len);
        name[len] = '\0';
        snprintf(item, sizeof(item), "{\"_dlt_id\":\"P%zu\",\"l\":[1]}", len);
        if (run(&h, &r, item) != SLUICE_OK)
            bad++;
        snprintf(msg, sizeof(msg), "P%zu_%s__l_0", len, name);
        sl_digest_shake128_b64(msg, strlen(msg), 10, want);
        const char *got = strstr(out(&h), "_dlt_list_idx=0 _dlt_id=");
        if (!got || strncmp(got + strlen("_dlt_list_idx=0 _dlt_id="), want, 14) != 0)
            bad++;
    }
    CHECK_EQ_INT(bad, 0);
    h_cleanup(&h);
}

/* ---- allocation failures ----------------------------------------------------------------- */

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
    /* every allocation of a rich run fails in turn: the run reports NOMEM (never another
     * code, never a crash) and nothing leaks (ASan); the loop ends when no failure is hit */
    static const char *const pk[] = { "id" };
    const struct sl_alloc failing = { failing_malloc, failing_realloc, failing_free, NULL };
    const char *items = "{\"id\":1,\"ts\":\"2024-01-01T00:00:00+01:00\",\"u\":{\"n\":\"a\"},"
                        "\"l\":[{\"x\":1,\"y\":[[1],[]]},2],\"j\":{\"k\":[1,2]}}\n"
                        "{\"id\":2,\"u\":{\"n\":5},\"l\":[\"s\"],\"z\":1.5,\"big\":1e300}\n";
    int finished = 0, wrong = 0;
    for (fail_at = 1; fail_at < 100000 && !finished; fail_at++) {
        struct harness h;
        h_init(&h);
        struct sl_json *docs[2] = { NULL, NULL };
        const char *line2 = strchr(items, '\n') + 1;
        sl_json_parse_heap(&h.ctx, items, (size_t)(line2 - 1 - items), &docs[0]);
        sl_json_parse_heap(&h.ctx, line2, strlen(line2) - 1, &docs[1]);
        struct sl_json *hints = NULL;
        const char *hj = "{\"j\":{\"data_type\":\"json\"}}";
        sl_json_parse_heap(&h.ctx, hj, strlen(hj), &hints);
        struct sl_norm_resource r = resource("Fail Res");
        r.primary_key = pk;
        r.n_pk = 1;
        r.columns = hints;
        r.root_key = true;
        r.table_name = "t_{id}";
        sl_normalizer_set_max_identifier_length(h.n, 12);
        alloc_count = 0;
        sl_alloc_set(&failing);
        sluice_status rc = SLUICE_OK;
        for (int i = 0; i < 2 && rc == SLUICE_OK; i++)
            rc = sl_normalize_item(h.n, &r, docs[i], i + 1, NULL, collect, &h);
        struct sl_json *sj = rc == SLUICE_OK ? sl_schema_to_json(h.schema) : NULL;
        struct sl_schema *dup = NULL;
        if (sj && sl_schema_dup(&h.ctx, h.schema, &dup) == SLUICE_OK)
            sl_schema_bump(dup);
        sl_alloc_set(NULL);
        if (rc != SLUICE_OK && (rc != SLUICE_ERR_NOMEM || h.ctx.code != SLUICE_ERR_NOMEM)) {
            if (!wrong)
                fprintf(stderr, "    allocation %ld: rc %d, ctx %d: %s\n", fail_at, (int)rc,
                        (int)h.ctx.code, h.ctx.message);
            wrong++;
        }
        if (alloc_count < fail_at) {
            finished = 1;
            CHECK_EQ_INT(rc, SLUICE_OK);
            CHECK(sj != NULL && dup != NULL);
            CHECK_EQ_STR(cols(&h, "t_1"), "j:json id:bigint! ts:timestamp u__n:text "
                                          "_dlt_load_id:text! _dlt_id:text!");
        }
        sl_schema_free(&dup);
        sl_json_free(sj);
        sl_json_free(hints);
        sl_json_free(docs[0]);
        sl_json_free(docs[1]);
        h_cleanup(&h);
    }
    CHECK(finished);
    CHECK_EQ_INT(wrong, 0);
}

static const struct test_case normalize_tests[] = {
    { "flatten_order", flatten_order },
    { "system_columns_and_ids", system_columns_and_ids },
    { "root_id_random_and_column_order", root_id_random_and_column_order },
    { "system_values", system_values },
    { "list_of_lists", list_of_lists },
    { "scalars_empties_and_blank_keys", scalars_empties_and_blank_keys },
    { "non_object_item", non_object_item },
    { "max_table_nesting", max_table_nesting },
    { "type_inference", type_inference },
    { "coercion_and_variants", coercion_and_variants },
    { "coercion_table", coercion_table },
    { "number_spelling", number_spelling },
    { "hinted_types", hinted_types },
    { "variant_of_variant", variant_of_variant },
    { "primary_key_errors", primary_key_errors },
    { "column_hints", column_hints },
    { "table_templates", table_templates },
    { "shortened_names", shortened_names },
    { "consumer_failure", consumer_failure },
    { "arena_reuse", arena_reuse },
    { "iso_timestamps", iso_timestamps },
    { "child_ids_any_length", child_ids_any_length },
    { "allocation_failures", allocation_failures },
};
TEST_SUITE(normalize, normalize_tests)
