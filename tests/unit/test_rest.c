/*
 * test_rest.c — the REST API source's parts that need no network: URLs (encoding, joining,
 * sanitising), {placeholder} templates and Python's str() of values, paginators driven by
 * synthetic responses, paginator and data_selector detection, Link headers, secret masking,
 * and the rest_api config (merging, binding, ordering, exact error messages).
 */
#include "test.h"

#include <stdlib.h>

#include "base/http.h"
#include "base/url.h"
#include "config.h"
#include "sources/paginator.h"
#include "sources/rest_response.h"
#include "sources/rest_template.h"

static char errbuf[2048];

static const char *errmsg(const struct sl_ctx *ctx)
{
    sl_ctx_format(ctx, errbuf, sizeof(errbuf));
    return errbuf;
}

static struct sl_json *parse(const char *text)
{
    struct sl_ctx ctx;
    struct sl_json *v = NULL;
    sl_ctx_init(&ctx);
    if (sl_json_parse_heap(&ctx, text, strlen(text), &v) != SLUICE_OK)
        fprintf(stderr, "  json: %s\n", errmsg(&ctx));
    return v;
}

/* ---- URLs ------------------------------------------------------------------------------- */

static char *take(struct sl_buf *b)
{
    return sl_buf_take(b);
}

TEST(url_encode_and_query)
{
    struct sl_buf b;
    sl_buf_init(&b, 0);
    CHECK(sl_url_encode(&b, "a b&c=d/é~_.-", strlen("a b&c=d/é~_.-")) == 0);
    char *s = take(&b);
    CHECK_EQ_STR(s, "a+b%26c%3Dd%2F%C3%A9~_.-");
    sl_free(s);
    sl_buf_init(&b, 0);
    CHECK(sl_buf_puts(&b, "http://h/p") == 0);
    CHECK(sl_url_add_query(&b, "since", "2024-01-01T00:00:00Z") == 0);
    CHECK(sl_url_add_query(&b, "q", "x y") == 0);
    s = take(&b);
    CHECK_EQ_STR(s, "http://h/p?since=2024-01-01T00%3A00%3A00Z&q=x+y");
    sl_free(s);
    sl_buf_init(&b, 0);
    CHECK(sl_url_requote(&b, "http://h/a b/é?x=%20&y=[1]") == 0);
    s = take(&b);
    CHECK_EQ_STR(s, "http://h/a%20b/%C3%A9?x=%20&y=[1]");
    sl_free(s);
}

TEST(url_join_and_resolve)
{
    char *s = sl_url_join_path("https://api.x/v1", "/issues");
    CHECK_EQ_STR(s, "https://api.x/v1/issues");
    sl_free(s);
    s = sl_url_join_path("https://api.x/v1/", "issues");
    CHECK_EQ_STR(s, "https://api.x/v1/issues");
    sl_free(s);
    CHECK(sl_url_is_http("HTTPS://x") && !sl_url_is_http("/x") && !sl_url_is_http("ftp://x"));
    /* RFC 3986 5.4 examples */
    static const char *const cases[][2] = {
        { "g", "http://a/b/c/g" },         { "./g", "http://a/b/c/g" },
        { "g/", "http://a/b/c/g/" },       { "/g", "http://a/g" },
        { "//g", "http://g" },             { "?y", "http://a/b/c/d;p?y" },
        { "g?y", "http://a/b/c/g?y" },     { "#s", "http://a/b/c/d;p?q#s" },
        { "", "http://a/b/c/d;p?q" },      { ".", "http://a/b/c/" },
        { "..", "http://a/b/" },           { "../g", "http://a/b/g" },
        { "../..", "http://a/" },          { "../../g", "http://a/g" },
        { "../../../g", "http://a/g" },    { "g;x=1/../y", "http://a/b/c/y" },
        { "https://o/p?q", "https://o/p?q" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        s = sl_url_resolve("http://a/b/c/d;p?q", cases[i][0]);
        CHECK_EQ_STR(s, cases[i][1]);
        sl_free(s);
    }
}

TEST(url_sanitize)
{
    char *s = sl_url_sanitize("https://u:pw@h/p?api_key=K&page=2&Token=T&x=1");
    CHECK_EQ_STR(s, "https://***@h/p?api_key=***&page=2&Token=***&x=1");
    sl_free(s);
    s = sl_url_sanitize("http://h/p");
    CHECK_EQ_STR(s, "http://h/p");
    sl_free(s);
}

TEST(http_mask)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_http_client *c = NULL;
    CHECK(sl_http_client_new(&ctx, NULL, &c) == SLUICE_OK);
    CHECK(sl_http_client_add_secret(c, "s3 cr/t") == SLUICE_OK);
    char *m = sl_http_mask(c, "GET http://h/x?k=s3+cr%2Ft&secret=abc failed: s3 cr/t echoed");
    CHECK_EQ_STR(m, "GET http://h/x?k=***&secret=*** failed: *** echoed");
    sl_free(m);
    sl_http_client_free(&c);
}

/* The rate limit waits on the client's clock: a fake one, advanced by the fake sleep. */
static double fake_clock;
static double slept[8];
static size_t nslept;

static double fake_now(void)
{
    return fake_clock;
}

static void fake_sleep(double s)
{
    if (nslept < 8)
        slept[nslept++] = s;
    fake_clock += s;
}

TEST(http_rate_limit)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_http_opts o;
    sl_http_opts_default(&o);
    o.requests_per_second = 4;
    o.now = fake_now;
    o.sleep = fake_sleep;
    fake_clock = 100;
    nslept = 0;
    struct sl_http_client *c = NULL;
    CHECK(sl_http_client_new(&ctx, &o, &c) == SLUICE_OK);
    struct sl_http_request req = { "GET", "file:///dev/null", NULL, NULL, 0 };
    struct sl_http_response resp;
    sl_http_response_init(&resp);
    for (int i = 0; i < 3; i++)
        CHECK(sl_http_send(c, &req, NULL, NULL, &resp) == SLUICE_OK);
    fake_clock += 1.0; /* a quiet second: the next request need not wait */
    CHECK(sl_http_send(c, &req, NULL, NULL, &resp) == SLUICE_OK);
    CHECK_EQ_INT(nslept, 2);
    CHECK(slept[0] > 0.2499 && slept[0] < 0.2501);
    CHECK(slept[1] > 0.2499 && slept[1] < 0.2501);
    sl_http_response_cleanup(&resp);
    sl_http_client_free(&c);
}

/* ---- templates -------------------------------------------------------------------------- */

static int lookup(void *ud, const char *name, size_t n, const struct sl_json **value)
{
    const struct sl_json *vars = ud;
    char key[64];
    snprintf(key, sizeof(key), "%.*s", (int)n, name);
    const struct sl_json *v = sl_json_get(vars, key);
    if (!v)
        return 1;
    *value = v->type == SL_JSON_NULL ? NULL : v;
    return 0;
}

static char *expand(const char *tmpl, const struct sl_json *vars, int *rc)
{
    struct sl_buf b;
    sl_buf_init(&b, 0);
    *rc = sl_tmpl_expand(&b, tmpl, lookup, (void *)vars);
    return take(&b);
}

TEST(template_expand)
{
    struct sl_json *vars = parse("{\"resources.issues.number\": 7, \"incremental.start_value\":"
                                 " \"2024-01-01\", \"n\": null, \"t\": true, \"f\": 1.5,"
                                 " \"big\": 1e16, \"small\": 0.00001, \"l\": [1, \"a'b\", null],"
                                 " \"d\": {\"k\": false}}");
    int rc = 0;
    char *s = expand("issues/{resources.issues.number}/comments?since={incremental.start_value}",
                     vars, &rc);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_STR(s, "issues/7/comments?since=2024-01-01");
    sl_free(s);
    s = expand("{{literal}} {n} {t} {f} {big} {small} {l} {d}", vars, &rc);
    CHECK_EQ_STR(s, "{literal} None True 1.5 1e+16 1e-05 [1, \"a'b\", None] {'k': False}");
    sl_free(s);
    s = expand("{unknown}", vars, &rc);
    CHECK_EQ_INT(rc, 1);
    sl_free(s);
    const char *why = NULL;
    CHECK(sl_tmpl_scan("a}b", NULL, NULL, &why) == -1);
    CHECK_EQ_STR(why, "single '}' encountered");
    CHECK(sl_tmpl_scan("a{b", NULL, NULL, &why) == -1);
    CHECK(sl_tmpl_scan("{x!r}", NULL, NULL, &why) == -1);
    CHECK(sl_tmpl_scan("{a[0:1]}", NULL, NULL, &why) == 0);
    const char *name = NULL;
    size_t n = 0;
    CHECK(sl_tmpl_single("{incremental.last_value}", &name, &n) && n == 22);
    CHECK(!sl_tmpl_single("x{a}", &name, &n) && !sl_tmpl_single("{a}{b}", &name, &n));
    sl_json_free(vars);
}

TEST(template_pystr_floats)
{
    static const struct { double d; const char *s; } cases[] = {
        { 1.0, "1.0" },       { 0.1, "0.1" },          { 1e15, "1000000000000000.0" },
        { 1e16, "1e+16" },    { 1.5e-5, "1.5e-05" },   { 0.0001, "0.0001" },
        { -2.5, "-2.5" },     { 123.456, "123.456" },  { 1e300, "1e+300" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sl_json v;
        sl_json_set_double(&v, cases[i].d);
        struct sl_buf b;
        sl_buf_init(&b, 0);
        CHECK(sl_pystr(&b, &v) == 0);
        CHECK_EQ_STR(b.data, cases[i].s);
        sl_buf_cleanup(&b);
    }
}

/* ---- paginators ------------------------------------------------------------------------- */

/* Run a paginator over canned bodies (and optional header blocks); returns the URLs asked. */
static char *walk(const struct sl_rest_pager_cfg *cfg, const char *const *bodies,
                  const char *const *headers, const size_t *counts, size_t n, char *err,
                  size_t errsz)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_paginator *p = NULL;
    struct sl_rest_request req;
    sl_rest_request_init(&req);
    req.url = sl_strdup("http://h/items");
    struct sl_buf out;
    sl_buf_init(&out, 0);
    err[0] = '\0';
    if (cfg)
        CHECK(sl_paginator_new(&ctx, cfg, &p) == SLUICE_OK);
    if (p)
        CHECK(sl_paginator_init_request(p, &req) == SLUICE_OK);
    for (size_t i = 0; i < n; i++) {
        char *u = sl_rest_request_url(&req);
        sl_buf_printf(&out, "%s%s", i ? " " : "", u);
        sl_free(u);
        struct sl_json *doc = parse(bodies[i]);
        struct sl_http_response resp;
        sl_http_response_init(&resp);
        if (headers && headers[i])
            sl_buf_puts(&resp.headers, headers[i]);
        sluice_status rc = SLUICE_OK;
        if (!p)
            rc = sl_paginator_detect(&ctx, doc, &resp, &p);
        if (rc == SLUICE_OK)
            rc = sl_paginator_update_state(p, doc, &resp, counts[i]);
        if (rc == SLUICE_OK)
            rc = sl_paginator_update_request(p, &req);
        sl_http_response_cleanup(&resp);
        sl_json_free(doc);
        if (rc != SLUICE_OK) {
            snprintf(err, errsz, "%s", ctx.message);
            break;
        }
        if (!sl_paginator_has_next(p))
            break;
    }
    sl_paginator_free(&p);
    sl_rest_request_cleanup(&req);
    return take(&out);
}

TEST(paginator_offset)
{
    struct sl_rest_pager_cfg c;
    CHECK(sl_rest_pager_defaults(&c, SL_PAGER_OFFSET) == 0);
    c.limit = 2;
    c.param = sl_strdup("offset");
    c.limit_param = sl_strdup("limit");
    const char *bodies[] = { "{\"total\": 5}", "{\"total\": \"5\"}", "{\"total\": 5.0}" };
    size_t counts[] = { 2, 2, 1 };
    char err[1100];
    char *s = walk(&c, bodies, NULL, counts, 3, err, sizeof(err));
    CHECK_EQ_STR(s, "http://h/items?offset=0&limit=2 http://h/items?offset=2&limit=2 "
                    "http://h/items?offset=4&limit=2");
    CHECK_EQ_STR(err, "");
    sl_free(s);
    /* a missing total is an error; total_path null with an empty page ends it */
    const char *nototal[] = { "{}" };
    s = walk(&c, nototal, NULL, counts, 1, err, sizeof(err));
    CHECK(strstr(err, "the response has no total at 'total'") != NULL);
    sl_free(s);
    sl_free(c.total_path);
    c.total_path = NULL;
    const char *empty[] = { "{}", "{}", "{}" };
    size_t ec[] = { 2, 0, 2 };
    s = walk(&c, empty, NULL, ec, 3, err, sizeof(err));
    CHECK_EQ_STR(s, "http://h/items?offset=0&limit=2 http://h/items?offset=2&limit=2");
    sl_free(s);
    /* maximum_offset */
    c.has_maximum = true;
    c.maximum = 3;
    s = walk(&c, empty, NULL, counts, 3, err, sizeof(err));
    CHECK_EQ_STR(s, "http://h/items?offset=0&limit=2 http://h/items?offset=2&limit=2");
    sl_free(s);
    sl_free(c.param);
    sl_free(c.limit_param);
}

TEST(paginator_page_number_and_has_more)
{
    struct sl_rest_pager_cfg c;
    CHECK(sl_rest_pager_defaults(&c, SL_PAGER_PAGE_NUMBER) == 0);
    c.base = 1;
    c.initial = 1;
    c.param = sl_strdup("p");
    sl_free(c.total_path);
    c.total_path = NULL;
    c.has_more_path = sl_strdup("meta.more");
    const char *bodies[] = { "{\"meta\": {\"more\": true}}", "{\"meta\": {\"more\": \"yes\"}}",
                             "{\"meta\": {\"more\": \"False\"}}" };
    size_t counts[] = { 3, 3, 3 };
    char err[1100];
    char *s = walk(&c, bodies, NULL, counts, 3, err, sizeof(err));
    CHECK_EQ_STR(s, "http://h/items?p=1 http://h/items?p=2 http://h/items?p=3");
    sl_free(s);
    const char *bad[] = { "{\"meta\": {\"more\": 1}}" };
    s = walk(&c, bad, NULL, counts, 1, err, sizeof(err));
    CHECK(strstr(err, "'meta.more' in the response is not a boolean") != NULL);
    sl_free(s);
    sl_free(c.param);
    sl_free(c.has_more_path);
}

TEST(paginator_cursor_and_links)
{
    struct sl_rest_pager_cfg c;
    CHECK(sl_rest_pager_defaults(&c, SL_PAGER_CURSOR) == 0);
    c.cursor_param = sl_strdup("after");
    /* a falsy cursor ("" here) ends the pages, as Python's truthiness does */
    const char *bodies[] = { "{\"cursors\": {\"next\": \"x 1\"}}", "{\"cursors\": {\"next\": 7}}",
                             "{\"cursors\": {\"next\": \"\"}}", "{}" };
    size_t counts[] = { 1, 1, 1, 1 };
    char err[1100];
    char *s = walk(&c, bodies, NULL, counts, 4, err, sizeof(err));
    CHECK_EQ_STR(s, "http://h/items http://h/items?after=x+1 http://h/items?after=7");
    sl_free(s);
    sl_free(c.cursor_path);
    sl_free(c.cursor_param);

    CHECK(sl_rest_pager_defaults(&c, SL_PAGER_JSON_LINK) == 0);
    const char *links[] = { "{\"next\": \"/items?page=2\"}", "{\"next\": \"?page=3\"}",
                            "{\"next\": null}" };
    s = walk(&c, links, NULL, counts, 3, err, sizeof(err));
    CHECK_EQ_STR(s, "http://h/items http://h/items?page=2 http://h/items?page=3");
    sl_free(s);
    sl_free(c.next_url_path);

    CHECK(sl_rest_pager_defaults(&c, SL_PAGER_HEADER_LINK) == 0);
    const char *none[] = { "[]", "[]" };
    const char *hdrs[] = { "Link: <http://h/items?page=2>; rel=\"next\", <http://h/x>; rel=last\n",
                           "Link: <http://h/x>; rel=\"prev\"\n" };
    s = walk(&c, none, hdrs, counts, 2, err, sizeof(err));
    CHECK_EQ_STR(s, "http://h/items http://h/items?page=2");
    sl_free(s);
    sl_free(c.links_next_key);
}

TEST(paginator_detection)
{
    char err[1100];
    size_t counts[] = { 2, 2, 2 };
    /* a next URL in the body: json_link */
    const char *a[] = { "{\"data\": [1, 2], \"links\": {\"next\": \"http://h/items?p=2\"}}",
                        "{\"data\": [], \"links\": {\"next\": null}}" };
    char *s = walk(NULL, a, NULL, counts, 2, err, sizeof(err));
    CHECK_EQ_STR(s, "http://h/items http://h/items?p=2");
    sl_free(s);
    /* a "nextPageToken" that is not a URL: cursor into ?cursor= */
    const char *b[] = { "{\"items\": [1], \"nextPageToken\": \"abc\"}", "{\"items\": [1]}" };
    s = walk(NULL, b, NULL, counts, 2, err, sizeof(err));
    CHECK_EQ_STR(s, "http://h/items http://h/items?cursor=abc");
    sl_free(s);
    /* total_pages: page_number from page 0 */
    const char *c[] = { "{\"results\": [1], \"total_pages\": 2}", "{\"results\": [1], "
                        "\"total_pages\": 2}", "{}" };
    s = walk(NULL, c, NULL, counts, 3, err, sizeof(err));
    CHECK_EQ_STR(s, "http://h/items http://h/items?page=1");
    sl_free(s);
    /* a Link header wins */
    const char *d[] = { "{\"next\": \"http://elsewhere\"}", "[]" };
    const char *dh[] = { "Link: <http://h/items?page=2>; rel=\"next\"\n", NULL };
    s = walk(NULL, d, dh, counts, 2, err, sizeof(err));
    CHECK_EQ_STR(s, "http://h/items http://h/items?page=2");
    sl_free(s);
    /* nothing: one page */
    const char *e[] = { "[1, 2]", "[3]" };
    s = walk(NULL, e, NULL, counts, 2, err, sizeof(err));
    CHECK_EQ_STR(s, "http://h/items");
    sl_free(s);
}

TEST(link_header)
{
    struct sl_buf b;
    sl_buf_init(&b, 0);
    CHECK(sl_link_header_find("<https://a/p?page=2>; rel=\"next\", <https://a/p?page=9>; "
                              "rel=\"last\"", "last", &b) == 1);
    CHECK_EQ_STR(b.data, "https://a/p?page=9");
    CHECK(sl_link_header_find("<https://a/p>; rel=\"prev\"", "next", &b) == 0);
    sl_buf_cleanup(&b);
}

/* ---- data selection --------------------------------------------------------------------- */

static sluice_status count_item(void *ud, const struct sl_json *item, size_t index)
{
    (void)item;
    (void)index;
    (*(size_t *)ud)++;
    return SLUICE_OK;
}

static size_t select_count(const char *path, const char *body)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_jsonpath *jp = NULL;
    struct sl_json *doc = parse(body);
    size_t n = 0;
    CHECK(sl_jsonpath_compile(&ctx, path, &jp) == SLUICE_OK);
    CHECK(sl_rest_select(&ctx, jp, doc, NULL, count_item, &n) == SLUICE_OK);
    sl_jsonpath_free(&jp);
    sl_json_free(doc);
    return n;
}

TEST(data_selector)
{
    static const char *const det[][2] = {
        { "[1, 2]", "$" },
        { "{\"a\": 1}", "$" },
        { "{\"meta\": {\"x\": []}, \"data\": [1]}", "data" },
        { "{\"meta\": {\"x\": []}, \"other\": [1]}", "meta.x" },
        { "{\"a\": {\"b\": {\"items\": [1]}}}", "a.b.items" },
        { "{\"a\": {\"b\": {\"c\": {\"items\": [1]}}}}", "$" },
        { "{\"odd key\": {\"results\": []}}", "['odd key'].results" },
    };
    for (size_t i = 0; i < sizeof(det) / sizeof(det[0]); i++) {
        struct sl_json *doc = parse(det[i][0]);
        char *s = sl_rest_detect_selector(doc);
        CHECK_EQ_STR(s, det[i][1]);
        sl_free(s);
        sl_json_free(doc);
    }
    CHECK_EQ_INT(select_count("data", "{\"data\": [1, 2, 3]}"), 3);
    CHECK_EQ_INT(select_count("data", "{\"data\": null}"), 0);
    CHECK_EQ_INT(select_count("data", "{\"data\": {\"id\": 1}}"), 1);
    CHECK_EQ_INT(select_count("data", "{\"x\": 1}"), 0);
    CHECK_EQ_INT(select_count("data[*].id", "{\"data\": [{\"id\": 1}, {\"id\": 2}]}"), 2);
    CHECK_EQ_INT(select_count("$", "[[1, 2]]"), 1); /* one item: the inner list */
}

/* ---- config ----------------------------------------------------------------------------- */

static struct sl_pipeline_cfg *load(const char *text, struct sl_ctx *ctx)
{
    struct sl_pipeline_cfg *cfg = NULL;
    sl_ctx_init(ctx);
    if (sl_config_parse(ctx, "t.yaml", text, strlen(text), &cfg) != SLUICE_OK)
        return NULL;
    return cfg;
}

#define REST_PFX                                                                               \
    "pipeline: p\nsources:\n  gh:\n    rest_api:\n      client:\n        base_url: http://h\n"

TEST(rest_config_merge_and_order)
{
    struct sl_ctx ctx;
    struct sl_pipeline_cfg *cfg =
        load(REST_PFX "      resource_defaults:\n"
                      "        primary_key: id\n"
                      "        endpoint: {params: {per_page: 100, state: open}}\n"
                      "      resources:\n"
                      "        - name: comments\n"
                      "          endpoint:\n"
                      "            path: issues/{resources.issues.number}/comments\n"
                      "            params: {state: all}\n"
                      "        - issues\n"
                      "        - name: user\n"
                      "          endpoint: {path: 'users/{login}', params: {login: octocat}}\n",
             &ctx);
    CHECK(cfg != NULL);
    if (!cfg) {
        fprintf(stderr, "  %s\n", errmsg(&ctx));
        return;
    }
    CHECK_EQ_INT(cfg->nres, 3);
    /* parents first: issues, user (ready), then comments */
    CHECK_EQ_STR(cfg->resources[0].name, "issues");
    CHECK_EQ_STR(cfg->resources[1].name, "user");
    CHECK_EQ_STR(cfg->resources[2].name, "comments");
    const struct sl_rest_resource *c = cfg->resources[2].rest;
    CHECK_EQ_STR(c->parent, "issues");
    CHECK_EQ_INT(c->nresolves, 1);
    CHECK_EQ_STR(c->resolves[0].field, "number");
    char *params = sl_json_dumps(c->params, 0);
    CHECK_EQ_STR(params, "{\"per_page\":100,\"state\":\"all\"}");
    sl_free(params);
    CHECK_EQ_STR(cfg->resources[0].rest->path, "issues");
    CHECK_EQ_STR(cfg->resources[0].primary_key[0], "id");
    /* the literal param is bound into the path and leaves the query */
    const struct sl_rest_resource *u = cfg->resources[1].rest;
    CHECK_EQ_STR(u->path, "users/octocat");
    CHECK(sl_json_get(u->params, "login") == NULL);
    sl_pipeline_cfg_free(&cfg);
    /* a single entity path: single_page and "$" */
    cfg = load(REST_PFX "      resources:\n"
                        "        - name: one\n"
                        "          endpoint: {path: 'things/{resources.list.id}'}\n"
                        "        - list\n",
               &ctx);
    CHECK(cfg != NULL);
    if (cfg) {
        CHECK_EQ_STR(cfg->resources[1].rest->data_selector, "$");
        CHECK(cfg->resources[1].rest->pager &&
              cfg->resources[1].rest->pager->kind == SL_PAGER_SINGLE_PAGE);
    }
    sl_pipeline_cfg_free(&cfg);
}

static void expect_error(const char *text, const char *expected, int line)
{
    struct sl_ctx ctx;
    struct sl_pipeline_cfg *cfg = load(text, &ctx);
    test_checks++;
    if (cfg || strcmp(errmsg(&ctx), expected) != 0) {
        test_failures++;
        fprintf(stderr, "  FAIL %s:%d:\n    got:  %s\n    want: %s\n", __FILE__, line,
                errmsg(&ctx), expected);
    }
    sl_pipeline_cfg_free(&cfg);
}
#define EXPECT_ERROR(text, expected) expect_error(text, expected, __LINE__)

TEST(rest_config_errors)
{
    EXPECT_ERROR("pipeline: p\nsources:\n  gh:\n    rest_api:\n      client: {}\n"
                 "      resources: []\n",
                 "CONFIG: t.yaml:5: missing required key 'sources.gh.rest_api.client.base_url'");
    EXPECT_ERROR(REST_PFX "        paginator: {type: offset}\n      resources: [a]\n",
                 "CONFIG: t.yaml:7: missing required key "
                 "'sources.gh.rest_api.client.paginator.limit'");
    EXPECT_ERROR(REST_PFX "        paginator: {type: offset, limit: 10, total_path: null, "
                 "stop_after_empty_page: false}\n      resources: [a]\n",
                 "CONFIG: t.yaml:7: 'client.paginator': one of total_path, maximum_offset, "
                 "has_more_path or stop_after_empty_page must be set, or the pages never end");
    EXPECT_ERROR(REST_PFX "        paginator: jsonlink\n      resources: [a]\n",
                 "CONFIG: t.yaml:7: 'client.paginator' must be one of json_link, json_response, "
                 "header_link, header_cursor, auto, single_page, cursor, offset, page_number "
                 "(got 'jsonlink'; did you mean 'json_link'?)");
    EXPECT_ERROR(REST_PFX "        auth: {type: bearer}\n      resources: [a]\n",
                 "CONFIG: t.yaml:7: missing required key 'sources.gh.rest_api.client.auth.token'");
    EXPECT_ERROR(REST_PFX "        auth: {type: api_key, api_key: k, location: cookie}\n"
                 "      resources: [a]\n",
                 "CONFIG: t.yaml:7: 'client.auth.location' is not supported: dlt has no cookie "
                 "location for API keys either (NotImplementedError)");
    EXPECT_ERROR(REST_PFX "      resources:\n        - name: a\n          endpoint:\n"
                 "            path: x\n            params: {since: '{incremental.start_value}'}\n",
                 "CONFIG: t.yaml:11: placeholder '{incremental.start_value}' in "
                 "'endpoint.params.since' is not valid: placeholders start with 'resources.' "
                 "(write {{ and }} for literal braces)");
    EXPECT_ERROR(REST_PFX "      resources:\n        - name: a\n          endpoint: 'x/{id}'\n",
                 "CONFIG: t.yaml:9: the path of resource 'a' requires a param named 'id', but it "
                 "is not in 'endpoint.params'");
    EXPECT_ERROR(REST_PFX "      resources:\n        - name: a\n"
                 "          endpoint: 'x/{resources.b.id}'\n",
                 "CONFIG: t.yaml:8: resource 'a' refers to a parent resource 'b' that is not "
                 "defined");
    EXPECT_ERROR(REST_PFX "      resources:\n        - name: a\n"
                 "          include_from_parent: [id]\n",
                 "CONFIG: t.yaml:9: resource 'a' has 'include_from_parent' but does not depend "
                 "on another resource");
    EXPECT_ERROR(REST_PFX "      resources:\n        - a\n        - a\n",
                 "CONFIG: t.yaml:9: resource 'a' is already defined");
    EXPECT_ERROR(REST_PFX "      resources:\n        - name: a\n          processing_steps: []\n",
                 "CONFIG: t.yaml:9: 'processing_steps' is not supported: processing steps are "
                 "Python callables");
    EXPECT_ERROR(REST_PFX "      resources:\n        - name: a\n          endpoint:\n"
                 "            path: x\n            params:\n"
                 "              s: {type: incremental, cursor_path: t, end_value: 5}\n",
                 "CONFIG: t.yaml:12: 'endpoint.params.s': only initial_value (and the start) can "
                 "be set in an incremental param; for end_value and end_param use "
                 "endpoint.incremental");
    EXPECT_ERROR(REST_PFX "      resources:\n        - name: a\n          endpoint:\n"
                 "            path: x\n            response_actions:\n"
                 "              - {status_code: 404, action: retry}\n",
                 "CONFIG: t.yaml:12: 'endpoint.response_actions[0].action' must be 'ignore' "
                 "(callables cannot be written in a config)");
    EXPECT_ERROR(REST_PFX "      resources:\n        - name: a\n          primry_key: id\n",
                 "CONFIG: t.yaml:9: unknown key "
                 "'sources.gh.rest_api.resources[0].primry_key' (did you mean 'primary_key'?)");
    EXPECT_ERROR("pipeline: p\nsources:\n  gh:\n    resources: {}\n    rest_api: {}\n",
                 "CONFIG: t.yaml:5: 'sources.gh' has both 'resources' and 'rest_api'; a source "
                 "has one of them");
    /* secrets are never echoed */
    EXPECT_ERROR(REST_PFX "        auth: {type: bearer, token: [s3cr3t]}\n      resources: [a]\n",
                 "CONFIG: t.yaml:7: 'client.auth.token' must be a string");
}

static const struct test_case rest_tests[] = {
    { "url_encode_and_query", url_encode_and_query },
    { "url_join_and_resolve", url_join_and_resolve },
    { "url_sanitize", url_sanitize },
    { "http_mask", http_mask },
    { "http_rate_limit", http_rate_limit },
    { "template_expand", template_expand },
    { "template_pystr_floats", template_pystr_floats },
    { "paginator_offset", paginator_offset },
    { "paginator_page_number_and_has_more", paginator_page_number_and_has_more },
    { "paginator_cursor_and_links", paginator_cursor_and_links },
    { "paginator_detection", paginator_detection },
    { "link_header", link_header },
    { "data_selector", data_selector },
    { "rest_config_merge_and_order", rest_config_merge_and_order },
    { "rest_config_errors", rest_config_errors },
};
TEST_SUITE(rest, rest_tests)
