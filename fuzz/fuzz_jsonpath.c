/*
 * fuzz_jsonpath.c — JSONPath compilation and evaluation.
 *
 * Input: a path, optionally followed by a newline and a JSON document. The path is compiled
 * (its text must come back unchanged) and evaluated against a fixed document (nested objects
 * and lists, odd keys, nulls, deep branches) and, when given, against the input's own document
 * too: sl_jsonpath_each over every match (stopping after MAX_MATCHES), and sl_jsonpath_first,
 * which must be the first match each gives. sl_jsonpath_simple_field must name a member that
 * the path alone matches.
 *
 * Evaluation is bounded (MAX_STEPS in jsonpath.c): a walk that hits the budget returns -1 having
 * reported only matches found before it, and sl_jsonpath_first agrees with it. Paths like
 * "$..$..$..$..zz" (work N^k on an N-node document, regression seed
 * corpus/jsonpath/regress-root-reset-blowup) are evaluated too: the budget is what keeps them
 * fast. Paths with many ".." are evaluated against the fixed document only (the input's own
 * document can be 2000 levels deep).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/json.h"
#include "base/jsonpath.h"

#include "fuzz_util.h"

#define MAX_MATCHES 100000

static struct sl_json *doc;

static const char fixed_doc[] =
    "{\"id\": 1, \"created_at\": \"2024-01-01T10:00:00Z\", \"updated\": 1.5, \"n\": null,"
    " \"odd key\": {\"x'y\": [1, 2, {\"z\": \"q\\\"\"}]}, \"0\": \"zero\", \"-\": [],"
    " \"user\": {\"id\": 7, \"name\": \"ann\", \"tags\": [\"a\", \"b\", null],"
    "   \"meta\": {\"created_at\": 42, \"deep\": {\"deeper\": {\"deepest\": [[[1]], [[2, 3]]]}}}},"
    " \"items\": [{\"id\": 1, \"v\": [10, 20]}, {\"id\": 2, \"v\": []}, {\"id\": 3},"
    "   [\"nested\", [\"list\"]], 4, \"s\", true, false, null, {}],"
    " \"a\": {\"a\": {\"a\": {\"a\": {\"a\": 1}}}}, \"_dlt_id\": \"abc\", \"big\": 1e300,"
    " \"dup\": 1, \"dup\": 2, \"uni\\u00e9\": \"\\u0000x\"}";

struct walk {
    const struct sl_json *first;
    size_t n;
};

static int on_match(void *ud, const struct sl_json *m)
{
    struct walk *w = ud;
    FUZZ_CHECK(m != NULL);
    FUZZ_CHECK(m->type <= SL_JSON_OBJECT);
    if (w->n == 0)
        w->first = m;
    w->n++;
    return w->n >= MAX_MATCHES ? 1 : 0;
}

static void eval(const struct sl_jsonpath *p, const struct sl_json *d)
{
    struct walk w = { NULL, 0 };
    int rc = sl_jsonpath_each(p, d, on_match, &w);
    /* 0 all matches seen; 1 our callback stopped the walk; -1 the step budget ran out */
    FUZZ_CHECK(rc == 0 || rc == -1 || (rc == 1 && w.n == MAX_MATCHES));
    const struct sl_json *first = sl_jsonpath_first(p, d);
    FUZZ_CHECK(first == w.first);
    const char *simple = sl_jsonpath_simple_field(p);
    if (simple && d->type == SL_JSON_OBJECT) {
        /* a plain field matches the member of that name (the last duplicate), or nothing */
        FUZZ_CHECK(first == sl_json_get(d, simple));
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    if (sl_json_parse_heap(&ctx, fixed_doc, sizeof(fixed_doc) - 1, &doc) != SLUICE_OK) {
        fprintf(stderr, "fixed document: %s\n", ctx.message);
        abort();
    }
    return 0;
}

static size_t count(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t plen = nl ? (size_t)(nl - data) : size;
    char *path = fuzz_strndup(data, plen);
    struct sl_ctx ctx;
    struct sl_jsonpath *p = NULL;
    sl_ctx_init(&ctx);
    sluice_status rc = sl_jsonpath_compile(&ctx, path, &p);
    fuzz_check_error(&ctx, rc);
    if (rc != SLUICE_OK) {
        FUZZ_CHECK(p == NULL);
        goto done;
    }
    FUZZ_CHECK(p != NULL);
    FUZZ_CHECK(strcmp(sl_jsonpath_text(p), path) == 0);
    eval(p, doc);
    if (nl && count(path, "..") <= 2) {
        struct sl_arena arena;
        struct sl_json *own = NULL;
        sl_arena_init(&arena, 4096);
        sl_ctx_init(&ctx);
        const char *text = (const char *)nl + 1;
        size_t tlen = size - plen - 1;
        if (sl_json_parse(&ctx, &arena, text, tlen, &own) == SLUICE_OK)
            eval(p, own);
        sl_arena_cleanup(&arena);
    }
    sl_jsonpath_free(&p);
done:
    free(path);
    return 0;
}
