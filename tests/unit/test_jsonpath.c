/*
 * test_jsonpath.c — the JSONPath subset: every construct against jsonpath-ng's answers
 * (expected lists were produced by dlt.common.jsonpath.find_values with jsonpath-ng), first
 * match, simple field detection and compile errors.
 */
#include "test.h"

#include <stdlib.h>

#include "base/jsonpath.h"

struct collect {
    struct sl_buf out;
    int stop_after; /* 0 = all */
    int n;
};

static int collect_fn(void *ud, const struct sl_json *m)
{
    struct collect *c = ud;
    if (c->n)
        sl_buf_putc(&c->out, ',');
    sl_json_write(&c->out, m, SL_JSON_W_SORTED);
    c->n++;
    return c->stop_after && c->n >= c->stop_after ? 7 : 0;
}

/* All matches of path in doc as a JSON list text (caller frees), or NULL on compile error. */
static char *find_all(const char *path, const char *doc)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_arena arena;
    sl_arena_init(&arena, 0);
    struct sl_json *d = NULL;
    struct sl_jsonpath *p = NULL;
    char *res = NULL;
    if (sl_json_parse(&ctx, &arena, doc, strlen(doc), &d) != SLUICE_OK)
        goto done;
    if (sl_jsonpath_compile(&ctx, path, &p) != SLUICE_OK)
        goto done;
    struct collect c;
    memset(&c, 0, sizeof(c));
    sl_buf_init(&c.out, 0);
    sl_buf_putc(&c.out, '[');
    int rc = sl_jsonpath_each(p, d, collect_fn, &c);
    sl_buf_putc(&c.out, ']');
    res = rc == 0 ? sl_buf_take(&c.out) : NULL;
    sl_buf_cleanup(&c.out);
done:
    sl_jsonpath_free(&p);
    sl_arena_cleanup(&arena);
    return res;
}

static void check_find(const char *path, const char *doc, const char *expect, int line)
{
    char *got = find_all(path, doc);
    test_checks++;
    if (!got || strcmp(got, expect) != 0) {
        test_failures++;
        fprintf(stderr, "  FAIL %s:%d: path %s on %s: got %s, expected %s\n", __FILE__, line, path,
                doc, got ? got : "(error)", expect);
    }
    sl_free(got);
}
#define FIND(path, doc, expect) check_find(path, doc, expect, __LINE__)

TEST(jsonpath_ng_answers)
{
    FIND("created_at", "{\"created_at\":1}", "[1]");
    FIND("data.items[0].created_at", "{\"data\":{\"items\":[{\"created_at\":2}]}}", "[2]");
    FIND("data.items[*].created_at",
         "{\"data\":{\"items\":[{\"created_at\":null},{\"created_at\":1}]}}", "[null,1]");
    FIND("$", "{\"a\":1}", "[{\"a\":1}]");
    FIND("@", "{\"a\":1}", "[{\"a\":1}]");
    FIND("`this`", "{\"a\":1}", "[{\"a\":1}]");
    FIND("$.a.b", "{\"a\":{\"b\":3}}", "[3]");
    FIND("$['odd key']", "{\"odd key\":4}", "[4]");
    FIND("['odd key']", "{\"odd key\":4}", "[4]");
    FIND("'odd key'", "{\"odd key\":4}", "[4]");
    FIND("\"odd key\"", "{\"odd key\":4}", "[4]");
    FIND("a|b", "{\"b\":5}", "[5]");
    FIND("a|b", "{\"a\":null,\"b\":5}", "[null,5]");
    FIND("a|b", "{\"a\":6,\"b\":5}", "[6,5]");
    FIND("a | b", "{\"b\":28}", "[28]");
    FIND("(a|b).c", "{\"b\":{\"c\":7}}", "[7]");
    FIND("a[0]", "{\"a\":{\"x\":1}}", "[]");
    FIND("a[0]", "{\"a\":8}", "[]");
    FIND("a[*]", "{\"a\":9}", "[]");
    FIND("a[*]", "{\"a\":{\"x\":1,\"y\":2}}", "[1,2]");
    FIND("a[-1]", "{\"a\":[1,2,10]}", "[10]");
    FIND("a[1]", "{\"a\":[1]}", "[]");
    FIND("a.*", "{\"a\":{\"x\":11,\"y\":12}}", "[11,12]");
    FIND("*", "{\"a\":1,\"b\":2}", "[1,2]");
    FIND("a.b", "{\"a\":[{\"b\":13},{\"b\":14}]}", "[]");
    FIND("a..c", "{\"a\":{\"x\":{\"c\":15}}}", "[15]");
    FIND("$..c", "{\"c\":37,\"a\":{\"c\":38}}", "[37,38]");
    FIND("$..*", "{\"a\":{\"b\":1},\"c\":[2]}", "[{\"b\":1},[2],1,2]");
    FIND("a..[0]", "{\"a\":[[1],[2]]}", "[[1],1,2]");
    FIND("$.a[0][1]", "{\"a\":[[1,16]]}", "[16]");
    /* '|' binds tighter than '.': item.(timestamp|modifiedAt) */
    FIND("item.timestamp|modifiedAt", "{\"modifiedAt\":17}", "[]");
    FIND("item.timestamp|modifiedAt", "{\"item\":{\"timestamp\":18},\"modifiedAt\":17}", "[18]");
    FIND("a.b|c.d", "{\"c\":{\"d\":26}}", "[]");
    FIND("a.'b.c'", "{\"a\":{\"b.c\":19}}", "[19]");
    FIND("a.b", "{\"a\":null}", "[]");
    FIND("a", "[1,2]", "[]");
    FIND("$.a", "{\"a\":null}", "[null]");
    FIND("a[0:2]", "{\"a\":[20,21,22]}", "[20,21]");
    FIND("a[1:]", "{\"a\":[20,21,22]}", "[21,22]");
    FIND("a[:-1]", "{\"a\":[20,21,22]}", "[20,21]");
    FIND("a[::-1]", "{\"a\":[1,2,3]}", "[3,2,1]");
    FIND("a[5:1:-2]", "{\"a\":[0,1,2,3,4,5,6,7,8,9]}", "[5,3]");
    FIND("a[0:1]", "{\"a\":8}", "[]");
    FIND("a[0,5,-1]", "{\"a\":[1,2,3]}", "[1,3]");
    FIND("a['x','y']", "{\"a\":{\"x\":23,\"y\":24}}", "[23,24]");
    FIND("a.x,y", "{\"a\":{\"x\":23,\"y\":24}}", "[23,24]");
    FIND("a[\"q r\"]", "{\"a\":{\"q r\":25}}", "[25]");
    FIND("a.\"b\\\"c\"", "{\"a\":{\"b\\\"c\":1}}", "[1]");
    FIND(" a ", "{\"a\":29}", "[29]");
    FIND("$.'a'", "{\"a\":30}", "[30]");
    FIND("a-b", "{\"a-b\":31}", "[31]");
    FIND("a.1", "{\"a\":{\"1\":34}}", "[34]");
    FIND("a[*].b[*].c", "{\"a\":[{\"b\":[]},{\"b\":[{\"c\":39}]}]}", "[39]");
    /* postfix brackets apply to the whole left side: (a|b)[0] */
    FIND("a|b[0]", "{\"a\":[1],\"b\":[2]}", "[1,2]");
    FIND("$[0]", "{\"a\":1}", "[]");
    /* duplicate keys: the last one wins for a field, as in a Python dict */
    FIND("a", "{\"a\":1,\"a\":2}", "[2]");
}

TEST(jsonpath_first_and_stop)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_arena arena;
    sl_arena_init(&arena, 0);
    const char *doc = "{\"data\":{\"items\":[{\"created_at\":null},{\"created_at\":1}]},"
                      "\"b\":{\"x\":2}}";
    struct sl_json *d = NULL;
    CHECK_EQ_INT(sl_json_parse(&ctx, &arena, doc, strlen(doc), &d), SLUICE_OK);
    struct sl_jsonpath *p = NULL;
    CHECK_EQ_INT(sl_jsonpath_compile(&ctx, "data.items[*].created_at", &p), SLUICE_OK);
    const struct sl_json *m = sl_jsonpath_first(p, d);
    CHECK(m != NULL && m->type == SL_JSON_NULL); /* a null match is a match */
    CHECK(sl_jsonpath_simple_field(p) == NULL);
    CHECK_EQ_STR(sl_jsonpath_text(p), "data.items[*].created_at");
    struct collect c;
    memset(&c, 0, sizeof(c));
    sl_buf_init(&c.out, 0);
    c.stop_after = 1;
    CHECK_EQ_INT(sl_jsonpath_each(p, d, collect_fn, &c), 7);
    CHECK_EQ_INT(c.n, 1);
    sl_buf_cleanup(&c.out);
    sl_jsonpath_free(&p);
    CHECK(p == NULL);

    CHECK_EQ_INT(sl_jsonpath_compile(&ctx, "missing|b.x", &p), SLUICE_OK);
    m = sl_jsonpath_first(p, d);
    CHECK(m != NULL && m->type == SL_JSON_INT && m->u.i == 2); /* (missing|b).x */
    sl_jsonpath_free(&p);
    CHECK_EQ_INT(sl_jsonpath_compile(&ctx, "missing|b", &p), SLUICE_OK);
    m = sl_jsonpath_first(p, d);
    CHECK(m != NULL && m->type == SL_JSON_OBJECT);
    sl_jsonpath_free(&p);

    static const struct {
        const char *path;
        const char *simple;
    } simple[] = {
        {"created_at", "created_at"}, {"'odd key'", "odd key"}, {"\"na.me\"", "na.me"},
        {"['odd key']", "odd key"},   {" a ", "a"},             {"$.name", NULL},
        {"*", NULL},                  {"a.b", NULL},            {"a|b", NULL},
        {"a,b", NULL},
    };
    for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
        CHECK_EQ_INT(sl_jsonpath_compile(&ctx, simple[i].path, &p), SLUICE_OK);
        const char *f = p ? sl_jsonpath_simple_field(p) : NULL;
        if (simple[i].simple)
            CHECK_EQ_STR(f, simple[i].simple);
        else
            CHECK(f == NULL);
        sl_jsonpath_free(&p);
    }
    sl_jsonpath_free(NULL);
    sl_arena_cleanup(&arena);
}

TEST(jsonpath_errors)
{
    static const struct {
        const char *path;
        const char *msg;
    } bad[] = {
        {"", "invalid JSONPath '': unexpected end of path at offset 0"},
        {"a.b.", "invalid JSONPath 'a.b.': unexpected end of path at offset 4"},
        {"a[", "invalid JSONPath 'a[': expected '*', a name, an index or a slice after '[' at "
               "offset 2"},
        {"a]", "invalid JSONPath 'a]': unbalanced bracket at offset 1"},
        {"$$", "invalid JSONPath '$$': unexpected token at offset 1"},
        {"1a", "invalid JSONPath '1a': unexpected token at offset 1"},
        {"a b", "invalid JSONPath 'a b': unexpected token at offset 2"},
        {"a[?(@.x)]", "invalid JSONPath 'a[?(@.x)]': filter expressions are not supported at "
                      "offset 2"},
        {"\xc3\xbcn", "invalid JSONPath '\xc3\xbcn': unexpected character at offset 0"},
        {"a['x", "invalid JSONPath 'a['x': unterminated quoted name at offset 2"},
        {"a[::0]", "invalid JSONPath 'a[::0]': slice step cannot be zero at offset 5"},
        {"(a|b", "invalid JSONPath '(a|b': expected ')' at offset 4"},
        {"a[0", "invalid JSONPath 'a[0': expected ']' at offset 3"},
        {"`parent`", "invalid JSONPath '`parent`': only `this` is supported between backquotes "
                     "at offset 0"},
        {"a[99999999999999999999]", "invalid JSONPath 'a[99999999999999999999]': number too "
                                    "large at offset 2"},
        {"a.-1", "invalid JSONPath 'a.-1': a negative number is not a field name at offset 2"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sl_ctx ctx;
        sl_ctx_init(&ctx);
        struct sl_jsonpath *p = (struct sl_jsonpath *)&ctx; /* must be reset to NULL */
        CHECK_EQ_INT(sl_jsonpath_compile(&ctx, bad[i].path, &p), SLUICE_ERR_CONFIG);
        CHECK(p == NULL);
        CHECK_EQ_STR(ctx.message, bad[i].msg);
    }
}

TEST(step_budget)
{
    /* "$" mid-path re-walks the document from its root at every "..": the budget ends the
     * walk quickly instead of taking seconds (a fuzzer finding) */
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_arena a;
    sl_arena_init(&a, 4096);
    struct sl_json *doc = NULL;
    const char *text = "{\"a\":[{\"b\":[1,2,3,{\"c\":[4,5,6]}]},{\"d\":{\"e\":[7,8,9]}}]}";
    CHECK_EQ_INT(sl_json_parse(&ctx, &a, text, strlen(text), &doc), SLUICE_OK);
    struct sl_jsonpath *p = NULL;
    CHECK_EQ_INT(sl_jsonpath_compile(&ctx, "$..$..$..$..$..$..zz", &p), SLUICE_OK);
    CHECK(sl_jsonpath_first(p, doc) == NULL);
    sl_jsonpath_free(&p);
    CHECK_EQ_INT(sl_jsonpath_compile(&ctx, "$..e[1]", &p), SLUICE_OK);
    const struct sl_json *m = sl_jsonpath_first(p, doc);
    CHECK(m && m->type == SL_JSON_INT && m->u.i == 8);
    sl_jsonpath_free(&p);
    sl_arena_cleanup(&a);
}

static const struct test_case jsonpath_tests[] = {
    { "step_budget", step_budget },
    {"jsonpath_ng_answers", jsonpath_ng_answers},
    {"jsonpath_first_and_stop", jsonpath_first_and_stop},
    {"jsonpath_errors", jsonpath_errors},
};
TEST_SUITE(jsonpath, jsonpath_tests)
