/*
 * test_naming.c — the snake_case naming convention against dlt.
 *
 * Every expected string below was produced by dlt 1.31.0 on Python 3.11
 * (dlt.common.normalizers.naming.snake_case.NamingConvention, normalize_identifier,
 * normalize_path and shorten_fragments; relational normalizer for the `_empty` and nested-key
 * cases), or is quoted from spec section 3.1 / scenario S55, which agree with dlt.
 */
#include "model/naming.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "test.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static char last[1024];

/* Normalize a NUL-terminated identifier; the result is kept in `last` for CHECK_EQ_STR. */
static const char *ident_max(const char *s, size_t max_len)
{
    char *r = sl_naming_normalize_identifier(s, strlen(s), max_len);
    if (!r)
        return "(NULL)";
    snprintf(last, sizeof(last), "%s", r);
    sl_free(r);
    return last;
}

static const char *ident(const char *s) { return ident_max(s, 0); }

static const char *path_max(const char *s, size_t max_len)
{
    char *r = sl_naming_normalize_path(s, max_len);
    if (!r)
        return "(NULL)";
    snprintf(last, sizeof(last), "%s", r);
    sl_free(r);
    return last;
}

static const char *path(const char *s) { return path_max(s, 0); }

static const char *fragments(const char *const *parts, size_t n, size_t max_len)
{
    char *r = sl_naming_shorten_fragments(parts, n, max_len);
    if (!r)
        return "(NULL)";
    snprintf(last, sizeof(last), "%s", r);
    sl_free(r);
    return last;
}

/* A table of inputs and expected names, checked through ident() or path(). */
struct naming_case {
    const char *in, *want;
};
#define CHECK_CASES(fn, cases)                                                                 \
    do {                                                                                       \
        for (size_t i_ = 0; i_ < sizeof(cases) / sizeof(cases[0]); i_++)                      \
            CHECK_EQ_STR(fn(cases[i_].in), cases[i_].want);                                    \
    } while (0)

/* 200 characters: "SomeVeryLongCamelCaseFieldName" repeated and cut. */
static void make_long200(char *out)
{
    const char *unit = "SomeVeryLongCamelCaseFieldName";
    for (size_t i = 0; i < 200; i++)
        out[i] = unit[i % 30];
    out[200] = '\0';
}

/* ---- spec 3.1 ----------------------------------------------------------------------------- */

TEST(spec_examples)
{
    static const struct naming_case cases[] = {
        { "event value", "event_value" },
        { "event-.!:*<>value", "event_x_value" },
        { "1event_n'", "_1event_nx" },
        { "123BaNaNa", "_123_ba_na_na" },
        { "BANaNA", "ba_na_na" },
        { "+-!$*@#=|:", "x_xa_lx" },
        { "+1", "x1" },
        { "-1", "_1" },
        { "DelTa", "del_ta" },
        { "NodeId", "node_id" },
        { "inventory nr", "inventory_nr" },
        { "CEO", "ceo" },
        { "BANANA____", "bananaxxxx" },
    };
    CHECK_CASES(ident, cases);
}

TEST(substitutions)
{
    static const struct naming_case cases[] = {
        { "a+b*c", "axbxc" },
        { "e@mail", "eamail" },
        { "@home", "ahome" },
        { "a|b", "alb" },
        { "pipe|line", "pipelline" },
        { "a-_b", "a_b" },
        { "-", "x" },
        { "--a--", "_axx" },
        { "with.dot", "with_dot" },
        { "EUR\xe2\x82\xac" "Price", "eur_price" },
    };
    CHECK_CASES(ident, cases);
}

TEST(spaces_and_trim)
{
    static const struct naming_case cases[] = {
        { "  spaced out  ", "spaced_out" },
        { "a  b", "a_b" },
        { "tab\there", "tab_here" },
        /* Python strip() removes Unicode whitespace: U+3000 before, U+00A0 / U+0085 after */
        { "\xe3\x80\x80x\xc2\xa0", "x" },
        { "x\xc2\x85", "x" },
        /* ... and U+001F, which is inside the name here */
        { "a\x1f" "b\x1f", "a_b" },
        /* inside a name U+00A0 is just another non-alphanumeric character */
        { "a\xc2\xa0" "b", "a_b" },
    };
    CHECK_CASES(ident, cases);
}

TEST(camel_case)
{
    static const struct naming_case cases[] = {
        { "camelCase", "camel_case" },
        { "PascalCase", "pascal_case" },
        { "HTTPResponseCode", "http_response_code" },
        { "getHTTPResponse", "get_http_response" },
        { "XMLHttpRequest", "xml_http_request" },
        { "myURLParser", "my_url_parser" },
        { "userID", "user_id" },
        { "ID", "id" },
        { "ABC", "abc" },
        { "ABCDef", "abc_def" },
        { "aBcDe", "a_bc_de" },
        { "aBcDDe", "a_bc_d_de" },
        { "a1B2c3", "a1_b2c3" },
        { "A1B", "a1_b" },
        { "x9Y", "x9_y" },
        { "iPhone", "i_phone" },
        { "Version2Beta", "version2_beta" },
        { "Ab_Cd", "ab_cd" },
        { "AbCd_", "ab_cdx" },
        { "_Foo", "_foo" },
        { "__Foo_Bar", "_foo_bar" },
        { "already_snake", "already_snake" },
    };
    CHECK_CASES(ident, cases);
}

TEST(underscores)
{
    static const struct naming_case cases[] = {
        { "_", "x" },
        { "__", "xx" },
        { "___", "xxx" },
        { "a__", "axx" },
        { "__a", "_a" },
        { "x___y", "x_y" },
        { "Foo__Bar", "foo_bar" },
        { "_dlt_id", "_dlt_id" },
        { "_dlt_load_id", "_dlt_load_id" },
    };
    CHECK_CASES(ident, cases);
}

TEST(leading_digits)
{
    static const struct naming_case cases[] = {
        { "1", "_1" },
        { "00", "_00" },
        { "2024 sales", "_2024_sales" },
        { "a1", "a1" },
    };
    CHECK_CASES(ident, cases);
}

TEST(unicode)
{
    /* "Ünïcode Kéy": every non-ASCII letter is one non-alphanumeric run */
    CHECK_EQ_STR(ident("\xc3\x9cn\xc3\xaf" "code K\xc3\xa9y"), "_n_code_k_y");
    CHECK_EQ_STR(ident("\xc3\x89mile"), "_mile");                   /* Émile */
    CHECK_EQ_STR(ident("\xc3\x80" "Bc"), "_bc");                    /* ÀBc */
    CHECK_EQ_STR(ident("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"), "x"); /* 日本語 */
    /* Unicode decimal digits are kept (Python \d) and count as leading digits: ٣ = U+0663 */
    CHECK_EQ_STR(ident("\xd9\xa3" "abc"), "_\xd9\xa3" "abc");
    CHECK_EQ_STR(ident("a\xd9\xa3" "B"), "a\xd9\xa3" "b");
    CHECK_EQ_STR(ident("2\xd9\xa3"), "_2\xd9\xa3");
    CHECK_EQ_STR(ident("\xd9\xa3"), "_\xd9\xa3");
    CHECK_EQ_STR(ident("Ab\xd9\xa3" "Cd"), "ab\xd9\xa3_cd");
    /* mathematical digits U+1D7CE..U+1D7FF, the one run longer than ten: U+1D7FF */
    CHECK_EQ_STR(ident("\xf0\x9d\x9f\xbf" "a"), "_\xf0\x9d\x9f\xbf" "a");
    /* U+0669 (last Arabic-Indic digit) kept, U+066A (Arabic percent sign) is not */
    CHECK_EQ_STR(ident("a\xd9\xa9"), "a\xd9\xa9");
    CHECK_EQ_STR(ident("a\xd9\xaa"), "ax");
}

TEST(bytes_that_python_never_sees)
{
    /* embedded NUL (dlt: "a\x00b" -> "a_b", "a\x00" -> "ax") */
    char *r = sl_naming_normalize_identifier("a\0b", 3, 0);
    CHECK_EQ_STR(r, "a_b");
    sl_free(r);
    r = sl_naming_normalize_identifier("a\0", 2, 0);
    CHECK_EQ_STR(r, "ax");
    sl_free(r);
    /* only `len` bytes are read */
    r = sl_naming_normalize_identifier("abcDef", 4, 0);
    CHECK_EQ_STR(r, "abc_d");
    sl_free(r);
    /* invalid UTF-8 bytes are non-alphanumeric characters */
    CHECK_EQ_STR(ident("a\xff" "b"), "a_b");
    CHECK_EQ_STR(ident("a\xc3"), "ax");
    CHECK_EQ_STR(ident("a\xe0\x80\x80" "b"), "a_b"); /* overlong NUL */
    CHECK_EQ_STR(ident("a\xed\xa0\x80" "b"), "a_b"); /* surrogate */
}

TEST(empty_keys)
{
    CHECK_EQ_STR(ident(""), "_empty");
    CHECK_EQ_STR(ident("   "), "_empty");
    CHECK_EQ_STR(ident("\t\xe3\x80\x80"), "_empty");
    CHECK_EQ_STR(path(""), "_empty");
    CHECK_EQ_STR(path(" \n"), "_empty");
    /* S55: nested key "" under "b" -> b___empty */
    char *r = sl_naming_make_path("b", SL_NAMING_EMPTY_KEY);
    CHECK_EQ_STR(r, "b___empty");
    sl_free(r);
    /* dlt turns a key made only of separators into the column "" */
    CHECK_EQ_STR(path("____"), "");
    CHECK_EQ_STR(path("__ __"), "");
}

TEST(s55_keys)
{
    CHECK_EQ_STR(ident("f-1"), "f_1");
    CHECK_EQ_STR(path("f-1"), "f_1");
    /* {"f!3": {"f*6": {"c v": 8}}} flattens to f_3__fx6__c_v */
    char *a = sl_naming_normalize_identifier("f!3", 3, 0);
    char *b = sl_naming_normalize_identifier("f*6", 3, 0);
    char *c = sl_naming_normalize_identifier("c v", 3, 0);
    const char *parts[] = {a, b, c};
    CHECK_EQ_STR(fragments(parts, 3, 0), "f_3__fx6__c_v");
    sl_free(a);
    sl_free(b);
    sl_free(c);
    /* the same name as one key with separators, and with dots (no nesting) */
    CHECK_EQ_STR(path("f!3__f*6__c v"), "f_3__fx6__c_v");
    CHECK_EQ_STR(path("f!3__f*6"), "f_3__fx6");
    CHECK_EQ_STR(path("f!3.f*6.c v"), "f_3_fx6_c_v");
}

TEST(paths)
{
    static const struct naming_case cases[] = {
        { "a__b__c", "a__b__c" },
        { "Parent__ChildKey", "parent__child_key" },
        { "Foo__Bar", "foo__bar" },
        { "a____b", "a__b" },
        { "a___b", "a___b" },
        { "a_____b", "a___b" },
        { "___a", "_a" },
        { "__a", "a" },
        { "b__", "b" },
        { "a___", "a__x" },
        { "x___y__", "x___y" },
        { "a__ __b", "a__b" },
        { "  a__b  ", "a__b" },
        { "a__\x1f__b", "a__b" },
        { "x__v_text", "x__v_text" },
        { "_dlt_id", "_dlt_id" },
    };
    CHECK_CASES(path, cases);
}

TEST(idempotence)
{
    /* keys go through normalize_path, which keeps `__`; normalize_identifier collapses it */
    CHECK_EQ_STR(path("column__value"), "column__value");
    CHECK_EQ_STR(ident("column__value"), "column_value");

    static const char *inputs[] = {
        "event-.!:*<>value", "123BaNaNa", "+-!$*@#=|:", "Parent__ChildKey", "a___b",
        "x___y__",           "__Foo_Bar", "BANANA____", "\xd9\xa3" "abc",  "a_____b",
        "f!3__f*6__c v",     "___",       "ab\xd9\xa3" "Cd",
    };
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        char *once = sl_naming_normalize_path(inputs[i], 0);
        char *twice = once ? sl_naming_normalize_path(once, 0) : NULL;
        CHECK_EQ_STR(twice, once);
        if (!twice || !once || strcmp(once, twice) != 0)
            fprintf(stderr, "    input %zu: \"%s\"\n", i, inputs[i]);
        sl_free(once);
        sl_free(twice);
    }
}

TEST(collisions)
{
    /* distinct keys that normalize to one name; dlt does not detect this (later key wins) */
    static const char *same[] = {"a b", "a-b", "a_b", "A B", "A_B", "a  b", "a__b", "a.b", "a!b"};
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
        CHECK_EQ_STR(ident(same[i]), "a_b");
    CHECK_EQ_STR(ident("aB"), "a_b");
    /* ... but a path keeps `a__b` apart from `a_b` */
    CHECK_EQ_STR(path("a__b"), "a__b");
    CHECK_EQ_STR(path("a_b"), "a_b");
    /* `+` and `x` collide too */
    CHECK_EQ_STR(ident("a+"), "ax");
    CHECK_EQ_STR(ident("ax"), "ax");
    CHECK_EQ_STR(ident("a_"), "ax");
}

/* ---- shortening ------------------------------------------------------------------------- */

TEST(tags)
{
    char tag[SL_NAMING_TAG_LEN + 1];
    static const struct {
        const char *in;
        const char *tag;
    } cases[] = {
        {"", "f5wrpa"},
        {"a", "hcjeia"},
        {"hello world how are you", "19lj5g"},
        {"\xc3\x9cn\xc3\xaf" "code K\xc3\xa9y", "txbm9g"},
        {"key11", "iqlbbq"}, /* base64 "Iqlb+Q": `+` -> `b` */
        {"key20", "57ad6a"}, /* base64 "57/D6A": `/` -> `a` */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sl_naming_tag(cases[i].in, strlen(cases[i].in), tag);
        CHECK_EQ_STR(tag, cases[i].tag);
    }
    char long200[201];
    make_long200(long200);
    sl_naming_tag(long200, 200, tag);
    CHECK_EQ_STR(tag, "et8tlw");
}

TEST(shorten_identifier)
{
    char a63[65];
    memset(a63, 'a', 64);
    a63[63] = '\0';
    CHECK_EQ_STR(ident_max("id", 63), "id");
    CHECK_EQ_STR(ident_max(a63, 63), a63); /* exactly at the limit: unchanged */
    a63[63] = 'a';
    a63[64] = '\0';
    CHECK_EQ_STR(ident_max(a63, 63),
                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaafv1mmaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    memset(a63, 'A', 64);
    /* the tag comes from the original (upper-case) name, not the normalized one */
    CHECK_EQ_STR(ident_max(a63, 63),
                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaamfutgqaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    CHECK_EQ_STR(ident_max("ThisIsAVeryLongColumnNameThatWillDefinitelyExceedThePostgresLimitOf63",
                           63),
                 "this_is_a_very_long_column_na2bsupaceed_the_postgres_limit_of63");
    CHECK_EQ_INT(strlen(last), 63);

    char long200[201];
    make_long200(long200);
    CHECK_EQ_STR(ident_max(long200, 63),
                 "some_very_long_camel_case_fieet8tlwame_some_very_long_camel_cas");
    /* surrounding whitespace is trimmed before the tag is computed */
    char padded[210];
    snprintf(padded, sizeof(padded), "  %s ", long200);
    CHECK_EQ_STR(ident_max(padded, 63),
                 "some_very_long_camel_case_fieet8tlwame_some_very_long_camel_cas");

    /* small limits: odd remainders go to the head; a limit of the tag size leaves only it */
    CHECK_EQ_STR(ident_max("hello world how are you", 10), "he19lj5gou");
    CHECK_EQ_STR(ident_max("hello world how are you", 8), "h19lj5gu");
    CHECK_EQ_STR(ident_max("hello world how are you", 7), "h19lj5g");
    CHECK_EQ_STR(ident_max("hello world how are you", 6), "19lj5g");
    /* below the tag size dlt asserts; sluice uses the tag size */
    CHECK_EQ_STR(ident_max("hello world how are you", 3), "19lj5g");

    /* limits count characters: "٣" x 12 -> "_" + 12 digits (13 chars, 25 bytes) */
    CHECK_EQ_STR(ident_max("\xd9\xa3\xd9\xa3\xd9\xa3\xd9\xa3\xd9\xa3\xd9\xa3"
                           "\xd9\xa3\xd9\xa3\xd9\xa3\xd9\xa3\xd9\xa3\xd9\xa3",
                           10),
                 "_\xd9\xa3ye0lew\xd9\xa3\xd9\xa3");
    CHECK_EQ_STR(ident_max("\xd9\xa3\xd9\xa3\xd9\xa3\xd9\xa3\xd9\xa3\xd9\xa3", 13),
                 "_\xd9\xa3\xd9\xa3\xd9\xa3\xd9\xa3\xd9\xa3\xd9\xa3");
    CHECK_EQ_STR(ident_max("\xc3\x9cn\xc3\xaf" "code K\xc3\xa9y "
                           "\xc3\x9cn\xc3\xaf" "code K\xc3\xa9y",
                           10),
                 "_nbhvp2a_y");
    CHECK_EQ_INT(sl_naming_char_count("_\xd9\xa3ye0lew\xd9\xa3\xd9\xa3", 13), 10);
}

TEST(shorten_path)
{
    CHECK_EQ_STR(path_max("parent_table_with_quite_a_long_name__child_table_with_an_even_longer_"
                          "name__leaf",
                          63),
                 "parent_table_with_quite_a_lonqexysgth_an_even_longer_name__leaf");
    CHECK_EQ_STR(path_max("parent__child__grandchild__leaf", 20), "parent_v4ym9gd__leaf");
    /* each part is shortened first (tag of the part), then the whole (tag of the raw path) */
    CHECK_EQ_STR(path_max("VeryLongParentNameHere__VeryLongChildNameHere", 20),
                 "very_lo7dtlvame_here");
    /* the whole-path tag uses the path as given, whitespace included */
    CHECK_EQ_STR(path_max("  VeryLongParentNameHere__VeryLongChildNameHere ", 20),
                 "very_lorbuhvgme_here");

    char long200[201];
    char twice[403];
    make_long200(long200);
    snprintf(twice, sizeof(twice), "%s__%s", long200, long200);
    CHECK_EQ_STR(path_max(twice, 63),
                 "some_very_long_camel_case_fiepzvtjwame_some_very_long_camel_cas");
}

TEST(shorten_fragments)
{
    const char *p1[] = {"parent_table", "child_table_name"};
    CHECK_EQ_STR(fragments(p1, 2, 20), "parent_a9tetwle_name");
    CHECK_EQ_STR(fragments(p1, 2, 0), "parent_table__child_table_name");
    /* 30 characters into 29: head 12, tag (same: same joined name), tail 11 */
    CHECK_EQ_STR(fragments(p1, 2, 29), "parent_tablea9tetw_table_name");
    char a40[41];
    char b40[41];
    memset(a40, 'a', 40);
    memset(b40, 'b', 40);
    a40[40] = '\0';
    b40[40] = '\0';
    const char *p2[] = {a40, b40};
    CHECK_EQ_STR(fragments(p2, 2, 63),
                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaarsjyfqbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    /* blank parts are left out with their separator; no parts gives "" */
    const char *p3[] = {"", "a", "  ", NULL, "b"};
    CHECK_EQ_STR(fragments(p3, 5, 0), "a__b");
    CHECK_EQ_STR(fragments(NULL, 0, 0), "");
}

/* ---- make_path and variants ---------------------------------------------------------------- */

TEST(make_path)
{
    char *r = sl_naming_make_path("users", "pets");
    CHECK_EQ_STR(r, "users__pets");
    sl_free(r);
    r = sl_naming_make_path("", "pets");
    CHECK_EQ_STR(r, "pets");
    sl_free(r);
    r = sl_naming_make_path("users", NULL);
    CHECK_EQ_STR(r, "users");
    sl_free(r);
    /* neither normalized nor shortened */
    r = sl_naming_make_path("Some Table", "X");
    CHECK_EQ_STR(r, "Some Table__X");
    sl_free(r);
}

TEST(variant_columns)
{
    static const struct {
        const char *col;
        const char *type;
        const char *want;
    } cases[] = {
        {"inventory_nr", "text", "inventory_nr__v_text"},
        {"answer", "bigint", "answer__v_bigint"},
        {"answer", "text", "answer__v_text"},
        {"value", "double", "value__v_double"},
        {"flag", "bool", "flag__v_bool"},
        {"ts", "timestamp", "ts__v_timestamp"},
        {"d", "date", "d__v_date"},
        {"t", "time", "t__v_time"},
        {"amount", "decimal", "amount__v_decimal"},
        {"amount", "wei", "amount__v_wei"},
        {"blob", "binary", "blob__v_binary"},
        {"doc", "json", "doc__v_json"},
        {"a__b", "text", "a__b__v_text"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *r = sl_naming_variant_column(cases[i].col, cases[i].type);
        CHECK_EQ_STR(r, cases[i].want);
        sl_free(r);
    }
    /* shortened like shorten_fragments: tag of the joined name (dlt values) */
    char *r = sl_naming_variant_column_max("inventory_nr", "text", 15);
    CHECK_EQ_STR(r, "invenykvalatext");
    sl_free(r);
    r = sl_naming_variant_column_max(
        "some_really_long_column_name_for_testing_variants_abcdefghijklm", "timestamp", 63);
    CHECK_EQ_STR(r, "some_really_long_column_name_dl7n2gs_abcdefghijklm__v_timestamp");
    sl_free(r);
    r = sl_naming_variant_column_max("inventory_nr", "text", 63);
    CHECK_EQ_STR(r, "inventory_nr__v_text");
    sl_free(r);
}

/* ---- allocation failures ------------------------------------------------------------------- */

static long fail_countdown; /* fail the allocation when this reaches 0; < 0: never */
static long alloc_live;

static void *failing_malloc(void *ctx, size_t size)
{
    (void)ctx;
    if (fail_countdown >= 0 && fail_countdown-- == 0)
        return NULL;
    void *p = malloc(size);
    if (p)
        alloc_live++;
    return p;
}

static void *failing_realloc(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    if (fail_countdown >= 0 && fail_countdown-- == 0)
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

/* Run every public entry point, failing allocation #0, #1, ... until one run succeeds. */
static char *run_all(void)
{
    char long200[201];
    make_long200(long200);
    char *a = sl_naming_normalize_identifier(long200, 200, 63);
    char *b = sl_naming_normalize_path("VeryLongParentNameHere__VeryLongChildNameHere__x", 20);
    char *c = sl_naming_variant_column_max("inventory_nr", "text", 15);
    char *d = sl_naming_make_path("users", "pets");
    char *out = NULL;
    if (a && b && c && d)
        out = sl_aprintf("%s|%s|%s|%s", a, b, c, d);
    sl_free(a);
    sl_free(b);
    sl_free(c);
    sl_free(d);
    return out;
}

TEST(allocation_failures)
{
    static const struct sl_alloc failing = {failing_malloc, failing_realloc, failing_free, NULL};
    fail_countdown = -1;
    alloc_live = 0;
    sl_alloc_set(&failing);
    char *want = run_all();
    sl_alloc_set(NULL);
    CHECK(want != NULL);

    bool succeeded = false;
    long n = 0;
    for (; n < 1000 && !succeeded; n++) {
        alloc_live = 0;
        fail_countdown = n;
        sl_alloc_set(&failing);
        char *got = run_all();
        sl_alloc_set(NULL);
        if (got) {
            succeeded = true;
            CHECK(fail_countdown >= 0); /* the run that passes is the one with no failure */
            CHECK_EQ_STR(got, want);
        }
        /* every allocation of a failed run was released */
        CHECK_EQ_INT(alloc_live, got ? 1 : 0);
        if (got) {
            sl_alloc_set(&failing);
            sl_free(got);
            sl_alloc_set(NULL);
        }
    }
    CHECK(succeeded);
    CHECK(n > 10); /* failures were injected at many points before the clean run */
    free(want);
}

static const struct test_case naming_tests[] = {
    {"spec_examples", spec_examples},
    {"substitutions", substitutions},
    {"spaces_and_trim", spaces_and_trim},
    {"camel_case", camel_case},
    {"underscores", underscores},
    {"leading_digits", leading_digits},
    {"unicode", unicode},
    {"bytes_that_python_never_sees", bytes_that_python_never_sees},
    {"empty_keys", empty_keys},
    {"s55_keys", s55_keys},
    {"paths", paths},
    {"idempotence", idempotence},
    {"collisions", collisions},
    {"tags", tags},
    {"shorten_identifier", shorten_identifier},
    {"shorten_path", shorten_path},
    {"shorten_fragments", shorten_fragments},
    {"make_path", make_path},
    {"variant_columns", variant_columns},
    {"allocation_failures", allocation_failures},
};
TEST_SUITE(naming, naming_tests)
