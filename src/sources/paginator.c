/*
 * paginator.c — dlt's paginators and their detection (see paginator.h).
 *
 * Each kind follows dlt 1.31's sources/helpers/rest_client/paginators.py line by line: the
 * same defaults, the same order of checks in update_state (an empty page first, then total,
 * maximum and has_more for range paginators), Python truthiness for cursors ("", 0, false,
 * [] and {} end the pages), int() of a total ("5" and 5.7 are read as 5) and str2bool of a
 * has_more string. Detection follows detector.py: its key patterns are prefixes ("next" also
 * matches "next_page" and "nextCursor", case ignored) and it only looks three levels deep.
 */
#include "sources/paginator.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/jsonpath.h"
#include "base/url.h"
#include "sources/rest_template.h"

struct sl_paginator {
    struct sl_ctx *ctx;
    struct sl_rest_pager_cfg *cfg;    /* a copy */
    struct sl_jsonpath *next_path;    /* json_link next_url_path / cursor cursor_path */
    struct sl_jsonpath *total;        /* range: total_path */
    struct sl_jsonpath *has_more;
    bool has_next;
    int64_t current;                  /* range: the current offset / page */
    struct sl_json next_ref;          /* reference paginators: the next URL / cursor (null: none) */
    char *last_url;                   /* next-URL paginators: the URL last requested */
    char desc[160];
};

/* ---- requests --------------------------------------------------------------------------- */

void sl_rest_request_init(struct sl_rest_request *r)
{
    memset(r, 0, sizeof(*r));
    sl_json_set_object(&r->params);
}

void sl_rest_request_cleanup(struct sl_rest_request *r)
{
    sl_free(r->url);
    sl_json_clear(&r->params);
    sl_json_free(r->json);
    memset(r, 0, sizeof(*r));
}

static int add_param(struct sl_buf *u, const char *key, const struct sl_json *v)
{
    if (v->type == SL_JSON_NULL)
        return 0;
    struct sl_buf val;
    sl_buf_init(&val, 0);
    int rc = sl_pystr(&val, v) || sl_url_add_query(u, key, val.data);
    sl_buf_cleanup(&val);
    return rc;
}

char *sl_rest_request_url(const struct sl_rest_request *r)
{
    struct sl_buf u;
    sl_buf_init(&u, 0);
    int bad = sl_buf_puts(&u, r->url ? r->url : "");
    for (uint32_t i = 0; !bad && i < r->params.len; i++) {
        const struct sl_json_member *m = &r->params.u.members[i];
        if (m->val.type == SL_JSON_ARRAY) {
            for (uint32_t k = 0; !bad && k < m->val.len; k++)
                bad |= add_param(&u, m->key, &m->val.u.items[k]);
        } else {
            bad |= add_param(&u, m->key, &m->val);
        }
    }
    if (bad) {
        sl_buf_cleanup(&u);
        return NULL;
    }
    return sl_buf_take(&u);
}

int sl_rest_request_set_param(struct sl_rest_request *r, const char *name, struct sl_json *val)
{
    return sl_json_obj_set_take(&r->params, name, val) ? 0 : -1;
}

int sl_rest_request_set_body(struct sl_rest_request *r, const char *path, struct sl_json *val)
{
    if (!r->json) {
        r->json = sl_json_new_object();
        if (!r->json) {
            sl_json_clear(val);
            return -1;
        }
    }
    struct sl_json *cur = r->json;
    const char *p = path;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        char *key = sl_strndup(p, n);
        if (!key || cur->type != SL_JSON_OBJECT) {
            sl_free(key);
            sl_json_clear(val);
            return -1;
        }
        if (!dot) {
            struct sl_json *set = sl_json_obj_set_take(cur, key, val);
            sl_free(key);
            return set ? 0 : -1;
        }
        struct sl_json *next = sl_json_get_mut(cur, key);
        if (!next)
            next = sl_json_obj_setdefault(cur, key, SL_JSON_OBJECT);
        sl_free(key);
        if (!next || next->type != SL_JSON_OBJECT) {
            sl_json_clear(val);
            return -1;
        }
        cur = next;
        p = dot + 1;
    }
}

/* ---- construction ----------------------------------------------------------------------- */

static const char *kind_name(enum sl_rest_pager_kind k)
{
    switch (k) {
    case SL_PAGER_AUTO: return "auto";
    case SL_PAGER_SINGLE_PAGE: return "single_page";
    case SL_PAGER_JSON_LINK: return "json_link";
    case SL_PAGER_HEADER_LINK: return "header_link";
    case SL_PAGER_HEADER_CURSOR: return "header_cursor";
    case SL_PAGER_CURSOR: return "cursor";
    case SL_PAGER_OFFSET: return "offset";
    case SL_PAGER_PAGE_NUMBER: return "page_number";
    }
    return "?";
}

static sluice_status compile(struct sl_paginator *p, const char *path, struct sl_jsonpath **out)
{
    if (!path)
        return SLUICE_OK;
    sluice_status rc = sl_jsonpath_compile(p->ctx, path, out);
    if (rc != SLUICE_OK)
        sl_fail_origin(p->ctx, "config", NULL);
    return rc;
}

static void describe(struct sl_paginator *p)
{
    const struct sl_rest_pager_cfg *c = p->cfg;
    size_t n = sizeof(p->desc);
    switch (c->kind) {
    case SL_PAGER_JSON_LINK:
        snprintf(p->desc, n, "json_link (next_url_path: %s)", c->next_url_path);
        break;
    case SL_PAGER_HEADER_LINK:
        snprintf(p->desc, n, "header_link (links_next_key: %s)", c->links_next_key);
        break;
    case SL_PAGER_HEADER_CURSOR:
        snprintf(p->desc, n, "header_cursor (cursor_key: %s, cursor_param: %s)", c->cursor_key,
                 c->cursor_param);
        break;
    case SL_PAGER_CURSOR:
        snprintf(p->desc, n, "cursor (cursor_path: %s)", c->cursor_path);
        break;
    case SL_PAGER_OFFSET:
        snprintf(p->desc, n, "offset (limit: %lld, total_path: %s)", (long long)c->limit,
                 c->total_path ? c->total_path : "none");
        break;
    case SL_PAGER_PAGE_NUMBER:
        snprintf(p->desc, n, "page_number (base_page: %lld, total_path: %s)",
                 (long long)c->base, c->total_path ? c->total_path : "none");
        break;
    default:
        snprintf(p->desc, n, "%s", kind_name(c->kind));
        break;
    }
}

sluice_status sl_paginator_new(struct sl_ctx *ctx, const struct sl_rest_pager_cfg *cfg,
                               struct sl_paginator **out)
{
    *out = NULL;
    struct sl_paginator *p = sl_calloc(1, sizeof(*p));
    if (!p)
        return sl_nomem(ctx);
    p->ctx = ctx;
    sl_json_set_null(&p->next_ref);
    p->cfg = sl_rest_pager_dup(cfg);
    if (!p->cfg) {
        sl_free(p);
        return sl_nomem(ctx);
    }
    p->has_next = true;
    p->current = p->cfg->initial;
    sluice_status rc = SLUICE_OK;
    if (p->cfg->kind == SL_PAGER_JSON_LINK)
        rc = compile(p, p->cfg->next_url_path, &p->next_path);
    else if (p->cfg->kind == SL_PAGER_CURSOR)
        rc = compile(p, p->cfg->cursor_path, &p->next_path);
    if (rc == SLUICE_OK &&
        (p->cfg->kind == SL_PAGER_OFFSET || p->cfg->kind == SL_PAGER_PAGE_NUMBER))
        rc = compile(p, p->cfg->total_path, &p->total);
    if (rc == SLUICE_OK)
        rc = compile(p, p->cfg->has_more_path, &p->has_more);
    describe(p);
    if (rc != SLUICE_OK) {
        sl_paginator_free(&p);
        return rc;
    }
    *out = p;
    return SLUICE_OK;
}

void sl_paginator_free(struct sl_paginator **pp)
{
    struct sl_paginator *p = pp ? *pp : NULL;
    if (!p)
        return;
    sl_rest_pager_free(p->cfg);
    sl_jsonpath_free(&p->next_path);
    sl_jsonpath_free(&p->total);
    sl_jsonpath_free(&p->has_more);
    sl_json_clear(&p->next_ref);
    sl_free(p->last_url);
    sl_free(p);
    *pp = NULL;
}

bool sl_paginator_has_next(const struct sl_paginator *p)
{
    return p->has_next;
}

const char *sl_paginator_describe(const struct sl_paginator *p)
{
    return p->desc;
}

/* ---- requests from state ---------------------------------------------------------------- */

static int put_int(struct sl_rest_request *req, const char *param, const char *body_path,
                   int64_t v)
{
    struct sl_json j;
    sl_json_set_int(&j, v);
    if (body_path)
        return sl_rest_request_set_body(req, body_path, &j);
    return sl_rest_request_set_param(req, param, &j);
}

static sluice_status range_update_request(struct sl_paginator *p, struct sl_rest_request *req)
{
    const struct sl_rest_pager_cfg *c = p->cfg;
    int bad = put_int(req, c->param, c->param_body_path, p->current);
    if (!bad && c->kind == SL_PAGER_OFFSET)
        bad = put_int(req, c->limit_param, c->limit_body_path, c->limit);
    return bad ? sl_nomem(p->ctx) : SLUICE_OK;
}

sluice_status sl_paginator_init_request(struct sl_paginator *p, struct sl_rest_request *req)
{
    if (p->cfg->kind == SL_PAGER_OFFSET || p->cfg->kind == SL_PAGER_PAGE_NUMBER) {
        p->has_next = true;
        p->current = p->cfg->initial;
        return range_update_request(p, req);
    }
    return SLUICE_OK;
}

static sluice_status next_url_update_request(struct sl_paginator *p, struct sl_rest_request *req)
{
    char *next = NULL;
    if (p->next_ref.type == SL_JSON_STRING) {
        next = sl_url_is_http(p->next_ref.s) || strstr(p->next_ref.s, "://")
                   ? sl_strdup(p->next_ref.s)
                   : sl_url_resolve(req->url ? req->url : "", p->next_ref.s);
        if (!next)
            return sl_nomem(p->ctx);
    }
    sl_free(req->url);
    req->url = next;
    sl_json_clear(&req->params);
    sl_json_set_object(&req->params);
    if (next && p->last_url && strcmp(next, p->last_url) == 0) {
        sl_log(p->ctx, SLUICE_LOG_WARN,
               "paginator %s: the next page is the page just requested; stopping", p->desc);
        p->has_next = false;
    }
    return SLUICE_OK;
}

sluice_status sl_paginator_update_request(struct sl_paginator *p, struct sl_rest_request *req)
{
    switch (p->cfg->kind) {
    case SL_PAGER_OFFSET:
    case SL_PAGER_PAGE_NUMBER:
        return range_update_request(p, req);
    case SL_PAGER_JSON_LINK:
    case SL_PAGER_HEADER_LINK:
        return next_url_update_request(p, req);
    case SL_PAGER_HEADER_CURSOR:
    case SL_PAGER_CURSOR: {
        struct sl_json v;
        sl_json_set_null(&v);
        if (p->next_ref.type != SL_JSON_NULL && sl_json_copy_into(&v, &p->next_ref)) {
            sl_json_clear(&v);
            return sl_nomem(p->ctx);
        }
        int bad = p->cfg->cursor_body_path
                      ? sl_rest_request_set_body(req, p->cfg->cursor_body_path, &v)
                      : sl_rest_request_set_param(req, p->cfg->cursor_param, &v);
        return bad ? sl_nomem(p->ctx) : SLUICE_OK;
    }
    case SL_PAGER_AUTO:
    case SL_PAGER_SINGLE_PAGE:
        break;
    }
    return SLUICE_OK;
}

/* ---- state from responses --------------------------------------------------------------- */

static bool truthy(const struct sl_json *v)
{
    if (!v)
        return false;
    switch ((enum sl_json_type)v->type) {
    case SL_JSON_NULL: return false;
    case SL_JSON_BOOL: return v->u.b;
    case SL_JSON_INT: return v->u.i != 0;
    case SL_JSON_DOUBLE: return v->u.d != 0;
    case SL_JSON_BIGINT: return true;
    case SL_JSON_STRING:
    case SL_JSON_ARRAY:
    case SL_JSON_OBJECT: return v->len != 0;
    }
    return false;
}

static sluice_status set_next_ref(struct sl_paginator *p, const struct sl_json *v)
{
    sl_json_clear(&p->next_ref);
    sl_json_set_null(&p->next_ref);
    if (v && v->type != SL_JSON_NULL && sl_json_copy_into(&p->next_ref, v)) {
        sl_json_clear(&p->next_ref);
        sl_json_set_null(&p->next_ref);
        return sl_nomem(p->ctx);
    }
    p->has_next = p->next_ref.type != SL_JSON_NULL;
    return SLUICE_OK;
}

/* Python's str2bool: y/yes/t/true/on/1 and n/no/f/false/off/0, case ignored. */
static int str2bool(const char *s, bool *out)
{
    static const char *const yes[] = { "y", "yes", "t", "true", "on", "1", NULL };
    static const char *const no[] = { "n", "no", "f", "false", "off", "0", NULL };
    for (size_t k = 0; yes[k]; k++)
        if (strcasecmp(s, yes[k]) == 0) {
            *out = true;
            return 0;
        }
    for (size_t k = 0; no[k]; k++)
        if (strcasecmp(s, no[k]) == 0) {
            *out = false;
            return 0;
        }
    return -1;
}

static sluice_status apply_has_more(struct sl_paginator *p, const struct sl_json *doc)
{
    if (!p->has_more)
        return SLUICE_OK;
    const struct sl_json *v = doc ? sl_jsonpath_first(p->has_more, doc) : NULL;
    bool more = false;
    if (!v || v->type == SL_JSON_NULL)
        return sl_fail(p->ctx, SLUICE_ERR_SOURCE,
                       "paginator %s: the response has no has_more value at '%s'", p->desc,
                       p->cfg->has_more_path);
    if (v->type == SL_JSON_BOOL)
        more = v->u.b;
    else if (v->type != SL_JSON_STRING || str2bool(v->s, &more))
        return sl_fail(p->ctx, SLUICE_ERR_SOURCE,
                       "paginator %s: '%s' in the response is not a boolean", p->desc,
                       p->cfg->has_more_path);
    p->has_next = p->has_next && more;
    return SLUICE_OK;
}

/* Python's int() of a total: ints, floats truncated, decimal strings, booleans. */
static int py_int(const struct sl_json *v, int64_t *out)
{
    switch ((enum sl_json_type)v->type) {
    case SL_JSON_INT:
        *out = v->u.i;
        return 0;
    case SL_JSON_BOOL:
        *out = v->u.b ? 1 : 0;
        return 0;
    case SL_JSON_DOUBLE:
        if (!isfinite(v->u.d) || fabs(v->u.d) > 9e18)
            return -1;
        *out = (int64_t)v->u.d;
        return 0;
    case SL_JSON_STRING: {
        const char *s = v->s;
        while (*s == ' ' || *s == '\t' || *s == '\n')
            s++;
        char *end = NULL;
        if (!*s)
            return -1;
        long long x = strtoll(s, &end, 10);
        while (end && (*end == ' ' || *end == '\t' || *end == '\n'))
            end++;
        if (!end || *end || end == s)
            return -1;
        *out = x;
        return 0;
    }
    default:
        return -1;
    }
}

static sluice_status range_update_state(struct sl_paginator *p, const struct sl_json *doc,
                                        size_t nitems)
{
    const struct sl_rest_pager_cfg *c = p->cfg;
    if (c->stop_after_empty_page && nitems == 0) {
        p->has_next = false;
        return SLUICE_OK;
    }
    bool have_total = false;
    int64_t total = 0;
    if (p->total) {
        const struct sl_json *v = doc ? sl_jsonpath_first(p->total, doc) : NULL;
        if (!v || v->type == SL_JSON_NULL)
            return sl_fail(p->ctx, SLUICE_ERR_SOURCE,
                           "paginator %s: the response has no total at '%s' (set total_path: "
                           "null when the API gives none)",
                           p->desc, c->total_path);
        if (py_int(v, &total))
            return sl_fail(p->ctx, SLUICE_ERR_SOURCE,
                           "paginator %s: '%s' in the response is not an integer", p->desc,
                           c->total_path);
        have_total = true;
    }
    int64_t step = c->kind == SL_PAGER_OFFSET ? c->limit : 1;
    if (p->current > INT64_MAX - step)
        p->has_next = false;
    else
        p->current += step;
    if ((have_total && p->current >= total + c->base) ||
        (c->has_maximum && p->current >= c->maximum))
        p->has_next = false;
    return apply_has_more(p, doc);
}

sluice_status sl_paginator_update_state(struct sl_paginator *p, const struct sl_json *doc,
                                        const struct sl_http_response *resp, size_t nitems)
{
    switch (p->cfg->kind) {
    case SL_PAGER_AUTO:
    case SL_PAGER_SINGLE_PAGE:
        p->has_next = false;
        return SLUICE_OK;
    case SL_PAGER_OFFSET:
    case SL_PAGER_PAGE_NUMBER:
        return range_update_state(p, doc, nitems);
    case SL_PAGER_JSON_LINK: {
        const struct sl_json *v = doc ? sl_jsonpath_first(p->next_path, doc) : NULL;
        if (v && v->type != SL_JSON_NULL && v->type != SL_JSON_STRING)
            return sl_fail(p->ctx, SLUICE_ERR_SOURCE,
                           "paginator %s: the next page's URL in the response is a %s, "
                           "expected a string",
                           p->desc, sl_json_type_name((enum sl_json_type)v->type));
        return set_next_ref(p, v);
    }
    case SL_PAGER_HEADER_LINK:
    case SL_PAGER_HEADER_CURSOR: {
        struct sl_buf h, link;
        sl_buf_init(&h, 0);
        sl_buf_init(&link, 0);
        const char *name = p->cfg->kind == SL_PAGER_HEADER_LINK ? "Link" : p->cfg->cursor_key;
        int found = resp ? sl_http_header(resp, name, &h) : 0;
        if (found == 1 && p->cfg->kind == SL_PAGER_HEADER_LINK)
            found = sl_link_header_find(h.data, p->cfg->links_next_key, &link);
        sluice_status rc = SLUICE_OK;
        if (found < 0) {
            rc = sl_nomem(p->ctx);
        } else {
            struct sl_json v;
            sl_json_set_null(&v);
            struct sl_buf *src = p->cfg->kind == SL_PAGER_HEADER_LINK ? &link : &h;
            if (found == 1 && sl_json_set_str(&v, src->data ? src->data : "", src->len))
                rc = sl_nomem(p->ctx);
            if (rc == SLUICE_OK)
                rc = set_next_ref(p, &v);
            sl_json_clear(&v);
        }
        sl_buf_cleanup(&h);
        sl_buf_cleanup(&link);
        return rc;
    }
    case SL_PAGER_CURSOR: {
        const struct sl_json *v = doc ? sl_jsonpath_first(p->next_path, doc) : NULL;
        sluice_status rc = set_next_ref(p, truthy(v) ? v : NULL);
        if (rc != SLUICE_OK)
            return rc;
        if (p->cfg->stop_after_empty_page && nitems == 0) {
            p->has_next = false;
            return SLUICE_OK;
        }
        return apply_has_more(p, doc);
    }
    }
    return SLUICE_OK;
}

/* Remember the URL just requested (next-URL paginators compare the next one with it). */
static sluice_status remember_url(struct sl_paginator *p, const struct sl_rest_request *req)
{
    if (p->cfg->kind != SL_PAGER_JSON_LINK && p->cfg->kind != SL_PAGER_HEADER_LINK)
        return SLUICE_OK;
    sl_free(p->last_url);
    p->last_url = sl_rest_request_url(req);
    return p->last_url ? SLUICE_OK : sl_nomem(p->ctx);
}

/* ---- Link headers ----------------------------------------------------------------------- */

static void strip(const char **s, const char **e, const char *chars)
{
    while (*s < *e && strchr(chars, **s))
        (*s)++;
    while (*e > *s && strchr(chars, (*e)[-1]))
        (*e)--;
}

int sl_link_header_find(const char *value, const char *key, struct sl_buf *out)
{
    /* requests.utils.parse_header_links, then response.links[key]["url"] (the last entry
     * with that key wins) */
    static const char replace[] = " '\"";
    const char *s = value, *e = value + strlen(value);
    strip(&s, &e, replace);
    int found = 0;
    while (s < e) {
        /* entries are split at ", *<" */
        const char *next = NULL;
        for (const char *c = s; c < e; c++) {
            if (*c == ',') {
                const char *d = c + 1;
                while (d < e && *d == ' ')
                    d++;
                if (d < e && *d == '<') {
                    next = c;
                    break;
                }
            }
        }
        const char *end = next ? next : e;
        const char *semi = memchr(s, ';', (size_t)(end - s));
        const char *us = s, *ue = semi ? semi : end;
        strip(&us, &ue, "<> '\"");
        const char *rel = NULL, *rel_end = NULL;
        const char *ps = semi ? semi + 1 : end;
        while (semi && ps <= end) {
            const char *pe = memchr(ps, ';', (size_t)(end - ps));
            if (!pe)
                pe = end;
            const char *eq = memchr(ps, '=', (size_t)(pe - ps));
            if (!eq || memchr(eq + 1, '=', (size_t)(pe - eq - 1)))
                break; /* requests stops at a param without exactly one '=' */
            const char *ks = ps, *ke = eq, *vs = eq + 1, *ve = pe;
            strip(&ks, &ke, replace);
            strip(&vs, &ve, replace);
            if (ke - ks == 3 && memcmp(ks, "rel", 3) == 0) {
                rel = vs;
                rel_end = ve;
            }
            ps = pe + 1;
        }
        const char *k = rel && rel_end > rel ? rel : us;
        const char *ke = rel && rel_end > rel ? rel_end : ue;
        if ((size_t)(ke - k) == strlen(key) && memcmp(k, key, (size_t)(ke - k)) == 0) {
            sl_buf_reset(out);
            if (sl_buf_append(out, us, (size_t)(ue - us)))
                return -1;
            found = 1;
        }
        if (!next)
            break;
        s = next + 1;
        while (s < e && *s == ' ')
            s++;
    }
    return found;
}

/* ---- detection -------------------------------------------------------------------------- */

static bool key_matches(const char *key, size_t n, const char *prefix)
{
    size_t pl = strlen(prefix);
    if (n < pl)
        return false;
    for (size_t i = 0; i < pl; i++) {
        char c = key[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != prefix[i])
            return false;
    }
    return true;
}

static bool key_is(const char *key, size_t n, const char *word)
{
    return n == strlen(word) && key_matches(key, n, word);
}

static bool scalar(const struct sl_json *v)
{
    /* Python's isinstance(v, (str, int, float)): bool is an int */
    return v->type == SL_JSON_STRING || v->type == SL_JSON_INT || v->type == SL_JSON_DOUBLE ||
           v->type == SL_JSON_BIGINT || v->type == SL_JSON_BOOL;
}

/* A member that ends a detector's search: its value (appending its path to path), or NULL. */
typedef const struct sl_json *(*member_match)(const struct sl_json_member *m,
                                              struct sl_buf *path, int *oom);

/* detector.find_next_page_path: a "next..." scalar, or the href/url scalar inside it. */
static const struct sl_json *next_member(const struct sl_json_member *m, struct sl_buf *path,
                                         int *oom)
{
    if (!key_matches(m->key, m->key_len, "next"))
        return NULL;
    if (m->val.type == SL_JSON_OBJECT) {
        for (uint32_t k = 0; k < m->val.len; k++) {
            const struct sl_json_member *d = &m->val.u.members[k];
            if ((key_matches(d->key, d->key_len, "href") ||
                 key_matches(d->key, d->key_len, "url")) &&
                scalar(&d->val)) {
                if (sl_jsonpath_append_key(path, m->key, m->key_len) ||
                    sl_jsonpath_append_key(path, d->key, d->key_len))
                    *oom = 1;
                return &d->val;
            }
        }
        return NULL;
    }
    if (!scalar(&m->val))
        return NULL;
    if (sl_jsonpath_append_key(path, m->key, m->key_len))
        *oom = 1;
    return &m->val;
}

/* detector.find_total_pages_path: total_pages, pages or totalpages with a scalar value. */
static const struct sl_json *total_pages_member(const struct sl_json_member *m,
                                                struct sl_buf *path, int *oom)
{
    if (!(key_is(m->key, m->key_len, "total_pages") || key_is(m->key, m->key_len, "pages") ||
          key_is(m->key, m->key_len, "totalpages")) ||
        !scalar(&m->val))
        return NULL;
    if (sl_jsonpath_append_key(path, m->key, m->key_len))
        *oom = 1;
    return &m->val;
}

/* The first member that matches, depth first through nested objects (the detectors' walk). */
static const struct sl_json *find_member(const struct sl_json *obj, member_match match,
                                         struct sl_buf *path, int *oom, int depth)
{
    if (obj->type != SL_JSON_OBJECT || depth > 64)
        return NULL;
    size_t mark = path->len;
    for (uint32_t i = 0; i < obj->len; i++) {
        const struct sl_json_member *m = &obj->u.members[i];
        const struct sl_json *r = match(m, path, oom);
        if (r || *oom)
            return r;
        if (m->val.type != SL_JSON_OBJECT)
            continue;
        if (sl_jsonpath_append_key(path, m->key, m->key_len)) {
            *oom = 1;
            return NULL;
        }
        r = find_member(&m->val, match, path, oom, depth + 1);
        if (r || *oom)
            return r;
        path->len = mark;
        if (path->data)
            path->data[mark] = '\0';
    }
    return NULL;
}

/* A detected paginator: kind's defaults, with the detected path where the kind takes one. */
static sluice_status detected(struct sl_ctx *ctx, enum sl_rest_pager_kind kind,
                              const char *path, struct sl_paginator **out)
{
    struct sl_rest_pager_cfg *cfg = sl_calloc(1, sizeof(*cfg));
    if (!cfg)
        return sl_nomem(ctx);
    int bad = sl_rest_pager_defaults(cfg, kind);
    char **slot = NULL;
    if (kind == SL_PAGER_JSON_LINK)
        slot = &cfg->next_url_path;
    else if (kind == SL_PAGER_CURSOR)
        slot = &cfg->cursor_path;
    else if (kind == SL_PAGER_PAGE_NUMBER)
        slot = &cfg->total_path;
    if (!bad && slot) {
        sl_free(*slot);
        *slot = sl_strdup(path);
        bad = !*slot;
    }
    if (!bad && kind == SL_PAGER_CURSOR) {
        cfg->cursor_param = sl_strdup("cursor");
        bad = !cfg->cursor_param;
    }
    if (!bad && kind == SL_PAGER_PAGE_NUMBER) {
        cfg->param = sl_strdup("page");
        bad = !cfg->param;
    }
    sluice_status rc = bad ? sl_nomem(ctx) : sl_paginator_new(ctx, cfg, out);
    sl_rest_pager_free(cfg);
    return rc;
}

sluice_status sl_paginator_detect(struct sl_ctx *ctx, const struct sl_json *doc,
                                  const struct sl_http_response *resp,
                                  struct sl_paginator **out)
{
    *out = NULL;
    struct sl_buf h, path;
    sl_buf_init(&h, 0);
    sl_buf_init(&path, 0);
    sluice_status rc = SLUICE_OK;
    int oom = 0;
    int f = resp ? sl_http_header(resp, "Link", &h) : 0;
    if (f == 1) {
        struct sl_buf url;
        sl_buf_init(&url, 0);
        f = sl_link_header_find(h.data, "next", &url);
        /* requests' links.get("next") is truthy only for a non-empty dict: always, when found */
        sl_buf_cleanup(&url);
    }
    if (f < 0) {
        rc = sl_nomem(ctx);
        goto done;
    }
    if (f == 1) {
        rc = detected(ctx, SL_PAGER_HEADER_LINK, NULL, out);
        goto done;
    }
    const struct sl_json *next = doc ? find_member(doc, next_member, &path, &oom, 0) : NULL;
    if (oom) {
        rc = sl_nomem(ctx);
        goto done;
    }
    if (next && next->type == SL_JSON_STRING &&
        (strncmp(next->s, "http", 4) == 0 || next->s[0] == '/')) {
        rc = detected(ctx, SL_PAGER_JSON_LINK, path.data, out);
        goto done;
    }
    struct sl_buf tpath;
    sl_buf_init(&tpath, 0);
    const struct sl_json *tp =
        doc ? find_member(doc, total_pages_member, &tpath, &oom, 0) : NULL;
    int64_t tmp = 0;
    if (!oom && tp && py_int(tp, &tmp) == 0) {
        rc = detected(ctx, SL_PAGER_PAGE_NUMBER, tpath.data, out);
        sl_buf_cleanup(&tpath);
        goto done;
    }
    sl_buf_cleanup(&tpath);
    if (oom) {
        rc = sl_nomem(ctx);
        goto done;
    }
    if (next) {
        rc = detected(ctx, SL_PAGER_CURSOR, path.data, out);
        goto done;
    }
    rc = detected(ctx, SL_PAGER_SINGLE_PAGE, NULL, out);
done:
    sl_buf_cleanup(&h);
    sl_buf_cleanup(&path);
    return rc;
}

sluice_status sl_paginator_before_send(struct sl_paginator *p, const struct sl_rest_request *req)
{
    return remember_url(p, req);
}
