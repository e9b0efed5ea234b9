/*
 * fuzz_rest_response.c — the REST source's response path: odd JSON bodies and headers through
 * data selection, paginators and URL building.
 *
 * Input: two control bytes, then header lines ("Name: value"), an empty line, and the body.
 * byte 0 picks the paginator (auto-detected, or one of dlt's kinds with settings varied by
 * byte 1); byte 1 also picks the data_selector (detected, or one of a fixed set). The body is
 * parsed as a response (a parse error must leave a one-line message); then, as the REST source
 * does for each page: the data_selector (detected or given) selects the items, the paginator
 * is detected or built, and update_state / update_request run for up to four pages over the
 * same response, building the next URL each time (it must be a NUL-terminated string). The
 * first header's value is also used as a {placeholder} template (scanned, and expanded with
 * the body's top-level members as values), as a Link header, and as a reference resolved
 * against a base URL and sanitised.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/http.h"
#include "base/json.h"
#include "base/jsonpath.h"
#include "base/url.h"
#include "sources/paginator.h"
#include "sources/rest_response.h"
#include "sources/rest_template.h"

#include "fuzz_util.h"

static const char *const selectors[] = { "$", "data", "items[*]", "a..b", "data[0]",
                                         "['odd key'].x", "results|items", "*" };

static sluice_status on_count(void *ud, size_t count)
{
    *(size_t *)ud = count;
    return SLUICE_OK;
}

static sluice_status on_item(void *ud, const struct sl_json *item, size_t index)
{
    (void)ud;
    FUZZ_CHECK(item != NULL && item->type <= SL_JSON_OBJECT);
    (void)index;
    return SLUICE_OK;
}

static int lookup(void *ud, const char *name, size_t n, const struct sl_json **value)
{
    const struct sl_json *doc = ud;
    if (!doc || doc->type != SL_JSON_OBJECT)
        return 1;
    for (uint32_t i = 0; i < doc->len; i++)
        if (doc->u.members[i].key_len == n && memcmp(doc->u.members[i].key, name, n) == 0) {
            *value = &doc->u.members[i].val;
            return 0;
        }
    return 1;
}

/* A paginator config of kind k, with settings varied by v. */
static int make_cfg(struct sl_rest_pager_cfg *c, int k, unsigned v)
{
    static const enum sl_rest_pager_kind kinds[] = {
        SL_PAGER_SINGLE_PAGE, SL_PAGER_JSON_LINK, SL_PAGER_HEADER_LINK, SL_PAGER_HEADER_CURSOR,
        SL_PAGER_CURSOR,      SL_PAGER_OFFSET,    SL_PAGER_PAGE_NUMBER
    };
    enum sl_rest_pager_kind kind = kinds[k % 7];
    if (sl_rest_pager_defaults(c, kind))
        return -1;
    int bad = 0;
    switch (kind) {
    case SL_PAGER_CURSOR:
        if (v & 4) {
            c->cursor_body_path = sl_strdup("page.cursor");
            bad |= !c->cursor_body_path;
        } else {
            c->cursor_param = sl_strdup("cursor");
            bad |= !c->cursor_param;
        }
        c->stop_after_empty_page = (v & 8) != 0;
        break;
    case SL_PAGER_OFFSET:
    case SL_PAGER_PAGE_NUMBER:
        c->limit = 1 + (int64_t)(v % 7);
        c->param = sl_strdup(kind == SL_PAGER_OFFSET ? "offset" : "page");
        c->limit_param = sl_strdup("limit");
        bad |= !c->param || !c->limit_param;
        if (v & 4) {
            sl_free(c->total_path);
            c->total_path = NULL;
            c->has_maximum = true;
            c->maximum = 3;
        }
        if (v & 8) {
            c->has_more_path = sl_strdup("more");
            bad |= !c->has_more_path;
        }
        if (v & 16) {
            c->param_body_path = sl_strdup("paging.at");
            bad |= !c->param_body_path;
            sl_free(c->param);
            c->param = NULL;
        }
        break;
    default:
        break;
    }
    return bad ? -1 : 0;
}

static void free_cfg(struct sl_rest_pager_cfg *c)
{
    struct sl_rest_pager_cfg *h = sl_calloc(1, sizeof(*h));
    if (!h)
        return;
    *h = *c;
    sl_rest_pager_free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned kind = data[0], var = data[1];
    char *text = fuzz_strndup(data + 2, size - 2);
    size_t tlen = size - 2;
    /* header block up to the first empty line */
    char *sep = strstr(text, "\n\n");
    const char *body = sep ? sep + 2 : text;
    size_t blen = sep ? tlen - (size_t)(sep + 2 - text) : tlen;
    struct sl_http_response resp;
    sl_http_response_init(&resp);
    if (sep)
        sl_buf_append(&resp.headers, text, (size_t)(sep - text + 1));
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_arena arena;
    sl_arena_init(&arena, 4096);
    struct sl_json *doc = NULL;
    sluice_status rc = sl_json_parse(&ctx, &arena, body, blen, &doc);
    fuzz_check_error(&ctx, rc);

    /* the first header's value: template, Link header, URL reference */
    const char *colon = sep ? memchr(text, ':', (size_t)(sep - text)) : NULL;
    if (colon) {
        const char *eol = strchr(colon, '\n');
        char *val = strndup(colon + 1, (size_t)(eol - colon - 1));
        FUZZ_CHECK(val != NULL);
        const char *why = NULL;
        int s = sl_tmpl_scan(val, NULL, NULL, &why);
        FUZZ_CHECK(s == 0 || (s == -1 && why));
        struct sl_buf b;
        sl_buf_init(&b, 1 << 20);
        int e = sl_tmpl_expand(&b, val, lookup, rc == SLUICE_OK ? doc : NULL);
        FUZZ_CHECK(e >= -1 && e <= 1);
        FUZZ_CHECK(!b.data || strlen(b.data) <= b.len);
        sl_buf_reset(&b);
        int f = sl_link_header_find(val, "next", &b);
        FUZZ_CHECK(f >= -1 && f <= 1);
        sl_buf_cleanup(&b);
        char *u = sl_url_resolve("http://h/a/b?c=d", val);
        char *z = sl_url_sanitize(val);
        FUZZ_CHECK(u && z);
        sl_free(u);
        sl_free(z);
        free(val);
    }

    if (rc == SLUICE_OK) {
        sl_ctx_init(&ctx);
        char *text_sel = (var & 1) ? sl_rest_detect_selector(doc)
                                   : sl_strdup(selectors[(var >> 1) % 8]);
        FUZZ_CHECK(text_sel != NULL);
        struct sl_jsonpath *sel = NULL;
        rc = sl_jsonpath_compile(&ctx, text_sel, &sel);
        FUZZ_CHECK(rc == SLUICE_OK); /* detected selectors always compile */
        size_t count = 0;
        rc = sl_rest_select(&ctx, sel, doc, on_count, on_item, &count);
        fuzz_check_error(&ctx, rc);
        sl_jsonpath_free(&sel);
        sl_free(text_sel);

        struct sl_paginator *p = NULL;
        struct sl_rest_pager_cfg cfg;
        sl_ctx_init(&ctx);
        if (kind % 8 == 7) {
            rc = sl_paginator_detect(&ctx, doc, &resp, &p);
        } else {
            FUZZ_CHECK(make_cfg(&cfg, (int)(kind % 8), var >> 3) == 0);
            rc = sl_paginator_new(&ctx, &cfg, &p);
            free_cfg(&cfg);
        }
        FUZZ_CHECK(rc == SLUICE_OK && p);
        struct sl_rest_request req;
        sl_rest_request_init(&req);
        req.url = sl_strdup("http://h/items?x=1");
        rc = sl_paginator_init_request(p, &req);
        for (int page = 0; rc == SLUICE_OK && page < 4; page++) {
            rc = sl_paginator_before_send(p, &req);
            if (rc == SLUICE_OK)
                rc = sl_paginator_update_state(p, doc, &resp, count);
            if (rc == SLUICE_OK)
                rc = sl_paginator_update_request(p, &req);
            fuzz_check_error(&ctx, rc);
            char *u = sl_rest_request_url(&req);
            FUZZ_CHECK(u != NULL);
            sl_free(u);
            if (!sl_paginator_has_next(p))
                break;
        }
        fuzz_check_error(&ctx, rc);
        sl_rest_request_cleanup(&req);
        sl_paginator_free(&p);
    }
    sl_arena_cleanup(&arena);
    sl_http_response_cleanup(&resp);
    free(text);
    return 0;
}
