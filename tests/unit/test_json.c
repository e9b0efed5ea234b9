/* test_json.c — JSON values, streaming parser (lines, arrays, limits, errors) and writer. */
#include "test.h"

#include <stdlib.h>

#include "base/json.h"

struct collect {
    struct sl_buf out;
    int64_t lines[16];
    int n;
};

static sluice_status collect_cb(void *ud, struct sl_json *v, int64_t index, int64_t line)
{
    struct collect *c = ud;
    if (c->n < 16)
        c->lines[c->n] = line;
    c->n++;
    (void)index;
    sl_json_write(&c->out, v, SL_JSON_W_SORTED);
    sl_buf_putc(&c->out, '\n');
    return SLUICE_OK;
}

static sluice_status parse_all(const char *text, enum sl_json_mode mode, size_t chunk,
                               struct collect *c, struct sl_ctx *ctx)
{
    struct sl_json_parser *p = NULL;
    sl_buf_init(&c->out, 0);
    c->n = 0;
    sluice_status rc = sl_json_parser_new(&p, ctx, mode, NULL, collect_cb, c);
    size_t len = strlen(text);
    for (size_t off = 0; rc == SLUICE_OK && off < len; off += chunk)
        rc = sl_json_parser_feed(p, text + off, len - off < chunk ? len - off : chunk);
    if (rc == SLUICE_OK)
        rc = sl_json_parser_finish(p);
    sl_json_parser_free(&p);
    return rc;
}

TEST(lines_and_types)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct collect c;
    const char *in = "{\"b\":1,\"a\":[true,null,1.5,\"x\\ny\"]}\n"
                     "{\"big\":123456789012345678901234,\"neg\":-9223372036854775808}\n"
                     "\n[1,2]\n";
    for (size_t chunk = 1; chunk < 80; chunk += 7) {
        CHECK_EQ_INT(parse_all(in, SL_JSON_VALUES, chunk, &c, &ctx), SLUICE_OK);
        CHECK_EQ_INT(c.n, 3);
        CHECK_EQ_STR(c.out.data, "{\"a\":[true,null,1.5,\"x\\ny\"],\"b\":1}\n"
                                 "{\"big\":123456789012345678901234,\"neg\":-9223372036854775808}\n"
                                 "[1,2]\n");
        CHECK_EQ_INT(c.lines[0], 1);
        CHECK_EQ_INT(c.lines[1], 2);
        CHECK_EQ_INT(c.lines[2], 4);
        sl_buf_cleanup(&c.out);
    }
}

/* Integers of every length around the 18-digit fast path: int64 values as strtoll reads
 * them, bigints past int64 with their text, doubles with theirs. */
TEST(integer_kinds)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_arena arena;
    sl_arena_init(&arena, 4096);
    static const char doc[] =
        "[0, -0, 7, -12, 123456789012345678, -123456789012345678, 1234567890123456789, "
        "-1234567890123456789, 9223372036854775807, -9223372036854775808, "
        "9223372036854775808, -9223372036854775809, 1.5, -2e3, 10E1]";
    static const struct {
        enum sl_json_type type;
        long long i;
        const char *text;
    } want[] = {
        { SL_JSON_INT, 0, NULL },
        { SL_JSON_INT, 0, NULL },
        { SL_JSON_INT, 7, NULL },
        { SL_JSON_INT, -12, NULL },
        { SL_JSON_INT, 123456789012345678LL, NULL },
        { SL_JSON_INT, -123456789012345678LL, NULL },
        { SL_JSON_INT, 1234567890123456789LL, NULL },
        { SL_JSON_INT, -1234567890123456789LL, NULL },
        { SL_JSON_INT, 9223372036854775807LL, NULL },
        { SL_JSON_INT, -9223372036854775807LL - 1, NULL },
        { SL_JSON_BIGINT, 0, "9223372036854775808" },
        { SL_JSON_BIGINT, 0, "-9223372036854775809" },
        { SL_JSON_DOUBLE, 0, "1.5" },
        { SL_JSON_DOUBLE, 0, "-2e3" },
        { SL_JSON_DOUBLE, 0, "10E1" },
    };
    struct sl_json *d = NULL;
    CHECK_EQ_INT(sl_json_parse(&ctx, &arena, doc, strlen(doc), &d), SLUICE_OK);
    CHECK(d && d->type == SL_JSON_ARRAY && d->len == sizeof(want) / sizeof(want[0]));
    for (uint32_t i = 0; d && d->type == SL_JSON_ARRAY && i < d->len; i++) {
        const struct sl_json *v = &d->u.items[i];
        CHECK_EQ_INT(v->type, want[i].type);
        if (want[i].type == SL_JSON_INT)
            CHECK_EQ_INT(v->u.i, want[i].i);
        else
            CHECK_EQ_STR(v->s, want[i].text);
    }
    sl_arena_cleanup(&arena);
}

/* Decimals read to the same double as strtod reads their text, bit for bit: every digit count
 * up to and past the 15 of the fast path, every position of the point, signs, zeros. */
TEST(decimal_values)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_arena arena;
    sl_arena_init(&arena, 1 << 16);
    struct sl_buf doc;
    sl_buf_init(&doc, 0);
    uint64_t x = 88172645463325252ull;
    int n = 0;
    sl_buf_putc(&doc, '[');
    for (int digits = 1; digits <= 19; digits++) {
        for (int point = 1; point < digits; point++) {
            for (int k = 0; k < 60; k++, n++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char num[32];
                int o = 0;
                if (x & 1)
                    num[o++] = '-';
                for (int d = 0; d < digits; d++) {
                    if (d == point)
                        num[o++] = '.';
                    /* k == 0: zeros; no leading zero before a longer integer part (JSON) */
                    int digit = k == 0 ? 0 : (int)((x >> (4 + 3 * (d % 19))) % 10);
                    if (d == 0 && point > 1 && digit == 0)
                        digit = 1;
                    num[o++] = (char)('0' + digit);
                }
                num[o] = '\0';
                if (n)
                    sl_buf_putc(&doc, ',');
                sl_buf_puts(&doc, num);
            }
        }
    }
    sl_buf_putc(&doc, ']');
    struct sl_json *d = NULL;
    CHECK_EQ_INT(sl_json_parse(&ctx, &arena, doc.data, doc.len, &d), SLUICE_OK);
    CHECK(d && d->type == SL_JSON_ARRAY && d->len == (uint32_t)n);
    int bad = 0;
    for (uint32_t i = 0; d && d->type == SL_JSON_ARRAY && i < d->len; i++) {
        const struct sl_json *v = &d->u.items[i];
        double want = v->s ? strtod(v->s, NULL) : 0;
        bad += v->type != SL_JSON_DOUBLE || !v->s || memcmp(&want, &v->u.d, sizeof(want)) != 0;
    }
    CHECK_EQ_INT(bad, 0);
    sl_buf_cleanup(&doc);
    sl_arena_cleanup(&arena);
}

TEST(unwrap_array)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct collect c;
    CHECK_EQ_INT(parse_all("[\n{\"a\":1},\n{\"a\":[2,{\"b\":3}]}\n]", SL_JSON_UNWRAP_ARRAY, 3, &c,
                           &ctx),
                 SLUICE_OK);
    CHECK_EQ_INT(c.n, 2);
    CHECK_EQ_STR(c.out.data, "{\"a\":1}\n{\"a\":[2,{\"b\":3}]}\n");
    CHECK_EQ_INT(c.lines[1], 3);
    sl_buf_cleanup(&c.out);
    /* an object at top level is handed over whole */
    CHECK_EQ_INT(parse_all("{\"x\":[1]}", SL_JSON_UNWRAP_ARRAY, 100, &c, &ctx), SLUICE_OK);
    CHECK_EQ_STR(c.out.data, "{\"x\":[1]}\n");
    sl_buf_cleanup(&c.out);
}

TEST(errors)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct collect c;
    CHECK_EQ_INT(parse_all("{\"a\":1}\n{\"a\":}\n", SL_JSON_VALUES, 100, &c, &ctx),
                 SLUICE_ERR_DATA_JSON);
    CHECK(strstr(ctx.message, "line 2") != NULL);
    CHECK_EQ_INT(c.n, 1);
    sl_buf_cleanup(&c.out);
    sl_ctx_clear(&ctx);
    CHECK_EQ_INT(parse_all("{\"a\":1", SL_JSON_VALUES, 100, &c, &ctx), SLUICE_ERR_DATA_JSON);
    sl_buf_cleanup(&c.out);
    sl_ctx_clear(&ctx);
    /* invalid UTF-8 is rejected */
    CHECK_EQ_INT(parse_all("{\"a\":\"\xff\"}", SL_JSON_VALUES, 100, &c, &ctx),
                 SLUICE_ERR_DATA_JSON);
    sl_buf_cleanup(&c.out);
    sl_ctx_clear(&ctx);
    /* depth cap */
    struct sl_buf deep;
    sl_buf_init(&deep, 0);
    for (int i = 0; i < 1000; i++)
        sl_buf_putc(&deep, '[');
    for (int i = 0; i < 1000; i++)
        sl_buf_putc(&deep, ']');
    CHECK_EQ_INT(parse_all(deep.data, SL_JSON_VALUES, 4096, &c, &ctx), SLUICE_ERR_DATA_JSON);
    CHECK(strstr(ctx.message, "nested deeper") != NULL);
    sl_buf_cleanup(&deep);
    sl_buf_cleanup(&c.out);
}

TEST(heap_tree)
{
    struct sl_json *o = sl_json_new_object();
    struct sl_json v;
    sl_json_set_int(&v, 5);
    sl_json_obj_set_take(o, "z", &v);
    struct sl_json *res = sl_json_obj_setdefault(o, "resources", SL_JSON_OBJECT);
    sl_json_set_str(&v, "hi", 2);
    sl_json_obj_set_take(res, "name", &v);
    struct sl_json *arr = sl_json_obj_setdefault(o, "list", SL_JSON_ARRAY);
    sl_json_set_double(&v, 2.0);
    sl_json_arr_push_take(arr, &v);
    char *s = sl_json_dumps(o, SL_JSON_W_SORTED);
    CHECK_EQ_STR(s, "{\"list\":[2.0],\"resources\":{\"name\":\"hi\"},\"z\":5}");
    sl_free(s);
    struct sl_json *d = sl_json_dup(o);
    CHECK(sl_json_equal(o, d));
    CHECK(sl_json_obj_del(d, "z"));
    CHECK(!sl_json_equal(o, d));
    sl_json_free(d);
    sl_json_free(o);

    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_json *h = NULL;
    CHECK_EQ_INT(sl_json_parse_heap(&ctx, "{\"a\":[1,{\"b\":\"c\"}]}", 19, &h), SLUICE_OK);
    struct sl_json *a = sl_json_get_mut(h, "a");
    CHECK(a && a->len == 2);
    sl_json_set_int(&v, 7);
    sl_json_arr_push_take(a, &v);
    s = sl_json_dumps(h, 0);
    CHECK_EQ_STR(s, "{\"a\":[1,{\"b\":\"c\"},7]}");
    sl_free(s);
    sl_json_free(h);
}

TEST(write_escapes)
{
    struct sl_buf b;
    sl_buf_init(&b, 0);
    sl_json_write_string(&b, "a\"b\\\x01\xc3\xa9\xff", 8);
    CHECK_EQ_STR(b.data, "\"a\\\"b\\\\\\u0001\xc3\xa9\\ufffd\"");
    sl_buf_reset(&b);
    sl_json_write_double(&b, 0.1);
    sl_buf_putc(&b, ' ');
    sl_json_write_double(&b, 1e16);
    sl_buf_putc(&b, ' ');
    sl_json_write_double(&b, 3);
    CHECK_EQ_STR(b.data, "0.1 1e+16 3.0");
    sl_buf_cleanup(&b);
}

TEST(equal_duplicate_keys)
{
    /* the last value of a key counts (a dict's view), and key sets are compared both ways */
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_json *a = NULL, *b = NULL, *c = NULL;
    CHECK_EQ_INT(sl_json_parse_heap(&ctx, "{\"x\":1,\"x\":2}", 13, &a), SLUICE_OK);
    CHECK_EQ_INT(sl_json_parse_heap(&ctx, "{\"x\":1,\"x\":1}", 13, &b), SLUICE_OK);
    CHECK_EQ_INT(sl_json_parse_heap(&ctx, "{\"x\":1,\"y\":2}", 13, &c), SLUICE_OK);
    CHECK(sl_json_equal(a, a));
    CHECK(!sl_json_equal(b, c));
    CHECK(!sl_json_equal(c, b));
    sl_json_free(a);
    sl_json_free(b);
    sl_json_free(c);
}

TEST(mixed_containers_same_depth)
{
    /* arrays then objects (of a different element size) at the same depth, growing */
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_buf in;
    sl_buf_init(&in, 0);
    sl_buf_puts(&in, "[[");
    for (int i = 0; i < 8; i++)
        sl_buf_printf(&in, "%s%d", i ? "," : "", i);
    sl_buf_puts(&in, "],{");
    for (int i = 0; i < 8; i++)
        sl_buf_printf(&in, "%s\"k%d\":%d", i ? "," : "", i, i);
    sl_buf_puts(&in, "}]");
    struct sl_json *v = NULL;
    CHECK_EQ_INT(sl_json_parse_heap(&ctx, in.data, in.len, &v), SLUICE_OK);
    CHECK(v && v->len == 2 && v->u.items[1].len == 8);
    sl_json_free(v);
    sl_buf_cleanup(&in);
}

/* ---- the _take functions own their value also when they fail ------------------------------ */

static long take_fail_after; /* allocations left before every one fails */
static long take_frees;      /* sl_free calls seen */

static void *take_malloc(void *ctx, size_t size)
{
    (void)ctx;
    return take_fail_after-- > 0 ? malloc(size) : NULL;
}

static void *take_realloc(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    return take_fail_after-- > 0 ? realloc(ptr, size) : NULL;
}

static void take_free(void *ctx, void *ptr)
{
    (void)ctx;
    if (ptr)
        take_frees++;
    free(ptr);
}

TEST(take_frees_on_failure)
{
    static const struct sl_alloc counting = { take_malloc, take_realloc, take_free, NULL };
    /* allowed: 0 = growing the members fails; 1 = growth works, copying the key fails */
    for (long allowed = 0; allowed <= 1; allowed++) {
        struct sl_json *obj = sl_json_new_object();
        struct sl_json v;
        CHECK(obj && sl_json_set_str(&v, "value", 5) == 0);
        take_fail_after = allowed;
        take_frees = 0;
        sl_alloc_set(&counting);
        CHECK(sl_json_obj_set_take(obj, "key", &v) == NULL);
        sl_alloc_set(NULL);
        CHECK_EQ_INT(v.type, SL_JSON_NULL);
        CHECK_EQ_INT(take_frees, 1); /* the string */
        CHECK_EQ_INT(obj->len, 0);
        sl_json_free(obj);
    }
    struct sl_json *arr = sl_json_new_array();
    struct sl_json inner;
    sl_json_set_array(&inner);
    struct sl_json s;
    CHECK(arr && sl_json_set_str(&s, "x", 1) == 0 && sl_json_arr_push_take(&inner, &s));
    take_fail_after = 0;
    take_frees = 0;
    sl_alloc_set(&counting);
    CHECK(sl_json_arr_push_take(arr, &inner) == NULL);
    sl_alloc_set(NULL);
    CHECK_EQ_INT(inner.type, SL_JSON_NULL);
    CHECK_EQ_INT(take_frees, 2); /* the string and the items array */
    CHECK_EQ_INT(arr->len, 0);
    sl_json_free(arr);
}

static const struct test_case json_tests[] = {
    { "equal_duplicate_keys", equal_duplicate_keys },
    { "mixed_containers_same_depth", mixed_containers_same_depth },
    { "lines_and_types", lines_and_types },
    { "integer_kinds", integer_kinds },
    { "decimal_values", decimal_values },
    { "unwrap_array", unwrap_array },
    { "errors", errors },
    { "heap_tree", heap_tree },
    { "write_escapes", write_escapes },
    { "take_frees_on_failure", take_frees_on_failure },
};
TEST_SUITE(json, json_tests)
