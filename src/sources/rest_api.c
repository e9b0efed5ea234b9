/*
 * rest_api.c — the REST API source: one resource of a declarative rest_api config, run the
 * way dlt's rest_api source runs it (dlt/sources/rest_api, helpers/rest_client).
 *
 * A run is one or more request sequences. A top-level resource has one: its templates are
 * expanded once with the incremental's values as they are when the resource starts
 * ({incremental.start_value} ...), the start/end params receive its last and end values, and
 * the paginator walks the pages. A child resource reads its parent's items (spooled by the
 * extract stage as JSON lines, after the parent's incremental filter) and runs one sequence
 * per parent item, its templates expanded with that item's fields ({resources.<p>.<field>}
 * or a legacy resolve param) and the incremental's current values; include_from_parent adds
 * _<parent>_<field> to every child item.
 *
 * Each response is checked against response_actions first (a match means "ignore": the
 * sequence ends without items), then any status >= 400 fails the run with the masked URL, the
 * status and the body's first line. The body is parsed into an arena that is reset after the
 * page: memory is one page (its text and its tree) at a time. The data_selector and, when no
 * paginator is configured, the paginator are detected from the first response of a sequence,
 * as dlt's RESTClient.paginate does. The paginator's state is updated before the page's items
 * go to the sink; after them the sink's on_page_end may stop the resource (row_order), so no
 * further page is requested.
 *
 * Auth is applied per request: bearer and basic headers, an API key in a header or the query,
 * or an OAuth2 client-credentials token fetched before the first request and again when it
 * expires. Every secret (tokens, keys, passwords, client id and secret, fetched tokens) is
 * registered with the HTTP client, which masks them in every message.
 */
#include "sources/source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/digest.h"
#include "base/fault.h"
#include "base/http.h"
#include "base/jsonpath.h"
#include "base/url.h"
#include "sources/paginator.h"
#include "sources/rest_response.h"
#include "sources/rest_template.h"

struct rest_run {
    struct sl_ctx *ctx;
    const struct sl_resource_cfg *res;
    const struct sl_rest_resource *rr;
    const struct sl_source_env *env;
    const struct sl_source_sink *sink;
    struct sl_http_client *http;
    const struct sl_rest_auth *auth;  /* effective: the endpoint's, else the client's */
    char *token;                      /* OAuth2 access token (secret) */
    double token_expiry;
    struct sl_jsonpath *selector;     /* the configured data_selector, or NULL */
    struct sl_jsonpath **resolve;     /* one per rr->resolves */
    struct sl_json base_params;       /* params with the incremental's start/end values */
    struct sl_arena page;             /* the current response's tree */
    struct sl_arena aug;              /* child items with _<parent>_<field> added */
    struct sl_http_response resp;
    int64_t items;                    /* items handed to the sink */
    int64_t pages;                    /* responses with items handed over */
    const struct sl_json **resolved;  /* the current parent item's values, or NULL */
    const struct sl_json *parent;     /* the current parent item, or NULL */
    bool ignored;                     /* a response action matched the last response */
    bool stopped;                     /* the sink stopped the resource */
    /* the sequence in progress (for the page callbacks) */
    struct sl_ctx pctx;               /* the paginator's errors, re-worded with the URL */
    struct sl_paginator *pager;
    struct sl_jsonpath *seq_selector; /* detected for the sequence, or NULL */
    const struct sl_json *doc;
};

/* ============================================================================================
 * Placeholders
 * ========================================================================================== */

static int lookup(void *ud, const char *name, size_t n, const struct sl_json **value)
{
    struct rest_run *r = ud;
    static const char pre[] = "incremental.";
    size_t pl = sizeof(pre) - 1;
    if (n > pl && memcmp(name, pre, pl) == 0) {
        char which[32];
        if (n - pl >= sizeof(which))
            return 1;
        memcpy(which, name + pl, n - pl);
        which[n - pl] = '\0';
        if (strcmp(which, "initial_value") && strcmp(which, "start_value") &&
            strcmp(which, "last_value") && strcmp(which, "end_value"))
            return 1;
        *value = r->env->inc ? sl_incremental_value(r->env->inc, which) : NULL;
        return 0;
    }
    for (size_t i = 0; r->resolved && i < r->rr->nresolves; i++) {
        const char *ph = r->rr->resolves[i].placeholder;
        if (strlen(ph) == n && memcmp(ph, name, n) == 0) {
            *value = r->resolved[i];
            return 0;
        }
    }
    return 1;
}

static sluice_status expand_str(struct rest_run *r, const char *s, struct sl_buf *out)
{
    sl_buf_reset(out);
    int e = sl_tmpl_expand(out, s, lookup, r);
    if (e < 0)
        return sl_nomem(r->ctx);
    if (e > 0)
        return sl_fail(r->ctx, SLUICE_ERR_CONFIG, "cannot expand the placeholders of '%s'", s);
    if (!out->data && sl_buf_puts(out, ""))
        return sl_nomem(r->ctx);
    return SLUICE_OK;
}

/* *out = a heap copy of v with its strings (keys included) expanded; with preserve, a string
 * that is exactly one placeholder becomes the placeholder's value itself (dlt's json). */
static sluice_status expand_tree(struct rest_run *r, const struct sl_json *v, bool preserve,
                                 struct sl_json *out)
{
    sl_json_set_null(out);
    sluice_status rc = SLUICE_OK;
    struct sl_buf b;
    sl_buf_init(&b, 0);
    switch ((enum sl_json_type)v->type) {
    case SL_JSON_STRING: {
        const char *name = NULL;
        size_t n = 0;
        if (preserve && sl_tmpl_single(v->s, &name, &n)) {
            const struct sl_json *val = NULL;
            if (lookup(r, name, n, &val)) {
                rc = sl_fail(r->ctx, SLUICE_ERR_CONFIG, "unknown placeholder in '%s'", v->s);
            } else if (val && sl_json_copy_into(out, val)) {
                sl_json_clear(out);
                rc = sl_nomem(r->ctx);
            }
            break;
        }
        rc = expand_str(r, v->s, &b);
        if (rc == SLUICE_OK && sl_json_set_str(out, b.data, b.len))
            rc = sl_nomem(r->ctx);
        break;
    }
    case SL_JSON_ARRAY:
        sl_json_set_array(out);
        for (uint32_t i = 0; i < v->len && rc == SLUICE_OK; i++) {
            struct sl_json item;
            rc = expand_tree(r, &v->u.items[i], preserve, &item);
            if (rc == SLUICE_OK && !sl_json_arr_push_take(out, &item))
                rc = sl_nomem(r->ctx);
        }
        break;
    case SL_JSON_OBJECT:
        sl_json_set_object(out);
        for (uint32_t i = 0; i < v->len && rc == SLUICE_OK; i++) {
            const struct sl_json_member *m = &v->u.members[i];
            struct sl_json item;
            char *key = sl_strndup(m->key, m->key_len);
            if (!key) {
                rc = sl_nomem(r->ctx);
                break;
            }
            rc = expand_str(r, key, &b);
            sl_free(key);
            if (rc == SLUICE_OK)
                rc = expand_tree(r, &m->val, preserve, &item);
            if (rc == SLUICE_OK && !sl_json_obj_set_take(out, b.data, &item))
                rc = sl_nomem(r->ctx);
        }
        break;
    default:
        if (sl_json_copy_into(out, v))
            rc = sl_nomem(r->ctx);
        break;
    }
    sl_buf_cleanup(&b);
    if (rc != SLUICE_OK) {
        sl_json_clear(out);
        sl_json_set_null(out);
    }
    return rc;
}

/* ============================================================================================
 * Auth
 * ========================================================================================== */

static double now(const struct rest_run *r)
{
    return r->env && r->env->now ? r->env->now() : sl_clock_mono();
}

static sluice_status register_secrets(struct rest_run *r, const struct sl_rest_auth *a)
{
    if (!a)
        return SLUICE_OK;
    const char *s[] = { a->token, a->api_key, a->password, a->client_id, a->client_secret };
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
        sluice_status rc = sl_http_client_add_secret(r->http, s[i]);
        if (rc != SLUICE_OK)
            return rc;
    }
    return SLUICE_OK;
}

/* Append name=value (quote_plus) to a form body. */
static int form_add(struct sl_buf *b, const char *name, const struct sl_json *v)
{
    if (!v || v->type == SL_JSON_NULL)
        return 0;
    if (v->type == SL_JSON_ARRAY) {
        for (uint32_t i = 0; i < v->len; i++)
            if (form_add(b, name, &v->u.items[i]))
                return -1;
        return 0;
    }
    struct sl_buf val;
    sl_buf_init(&val, 0);
    int bad = (b->len && sl_buf_putc(b, '&')) || sl_url_encode(b, name, strlen(name)) ||
              sl_buf_putc(b, '=') || sl_pystr(&val, v) || sl_url_encode(b, val.data, val.len);
    if (val.data)
        memset(val.data, 0, val.len);
    sl_buf_cleanup(&val);
    return bad ? -1 : 0;
}

static int form_add_str(struct sl_buf *b, const char *name, const char *value)
{
    struct sl_json v;
    if (sl_json_set_str(&v, value ? value : "", value ? strlen(value) : 0))
        return -1;
    int rc = form_add(b, name, &v);
    if (v.s)
        memset((char *)v.s, 0, v.len);
    sl_json_clear(&v);
    return rc;
}

/* Python's int() of expires_in (numbers, decimal strings). */
static int expires_in(const struct sl_json *v, int64_t *out)
{
    if (v->type == SL_JSON_INT) {
        *out = v->u.i;
        return 0;
    }
    if (v->type == SL_JSON_DOUBLE && v->u.d > -9e18 && v->u.d < 9e18) {
        *out = (int64_t)v->u.d;
        return 0;
    }
    if (v->type == SL_JSON_STRING && v->len > 0) {
        char *end = NULL;
        long long x = strtoll(v->s, &end, 10);
        if (end && *end == '\0') {
            *out = x;
            return 0;
        }
    }
    return -1;
}

/* OAuth2 client credentials: POST the form to the token URL, keep access_token until
 * expires_in (default default_token_expiration) seconds have passed. */
static sluice_status oauth2_token(struct rest_run *r)
{
    const struct sl_rest_auth *a = r->auth;
    if (r->token && now(r) < r->token_expiry)
        return SLUICE_OK;
    struct sl_buf form;
    sl_buf_init(&form, 0);
    struct sl_http_response resp;
    sl_http_response_init(&resp);
    struct sl_arena arena;
    sl_arena_init(&arena, 4096);
    sluice_status rc = SLUICE_OK;
    int bad = form_add_str(&form, "client_id", a->client_id) ||
              form_add_str(&form, "client_secret", a->client_secret) ||
              form_add_str(&form, "grant_type", "client_credentials");
    for (uint32_t i = 0; !bad && a->token_request_data && i < a->token_request_data->len; i++) {
        const struct sl_json_member *m = &a->token_request_data->u.members[i];
        char *k = sl_strndup(m->key, m->key_len);
        bad = !k || form_add(&form, k, &m->val);
        sl_free(k);
    }
    if (bad) {
        rc = sl_nomem(r->ctx);
        goto done;
    }
    const char *headers[] = { "Content-Type: application/x-www-form-urlencoded",
                              "Accept: application/json", NULL };
    struct sl_http_request req = { "POST", a->token_url, headers, form.data, form.len };
    rc = sl_http_send(r->http, &req, NULL, NULL, &resp);
    if (rc == SLUICE_OK && resp.status >= 400)
        rc = sl_http_fail_status(r->http, &req, &resp);
    if (rc != SLUICE_OK)
        goto done;
    struct sl_ctx scratch;
    sl_ctx_init(&scratch);
    struct sl_json *doc = NULL;
    const struct sl_json *tok = NULL;
    if (sl_json_parse(&scratch, &arena, resp.body.data ? resp.body.data : "", resp.body.len,
                      &doc) == SLUICE_OK)
        tok = sl_json_get(doc, "access_token");
    if (!tok || (tok->type != SL_JSON_STRING && !sl_json_is_num(tok))) {
        char *u = sl_http_mask(r->http, a->token_url);
        rc = sl_fail(r->ctx, SLUICE_ERR_SOURCE_HTTP,
                     "the OAuth2 token response of POST %s has no access_token",
                     u ? u : "(url)");
        sl_free(u);
        sl_fail_origin(r->ctx, "http", NULL);
        goto done;
    }
    int64_t ttl = a->default_token_expiration;
    const struct sl_json *exp = sl_json_get(doc, "expires_in");
    if (exp && exp->type != SL_JSON_NULL && expires_in(exp, &ttl)) {
        rc = sl_fail(r->ctx, SLUICE_ERR_SOURCE_HTTP,
                     "the OAuth2 token response's expires_in is not an integer");
        goto done;
    }
    struct sl_buf t;
    sl_buf_init(&t, 0);
    if (sl_pystr(&t, tok)) {
        sl_buf_cleanup(&t);
        rc = sl_nomem(r->ctx);
        goto done;
    }
    sl_free_secret(r->token);
    r->token = sl_buf_take(&t);
    if (!r->token) {
        rc = sl_nomem(r->ctx);
        goto done;
    }
    rc = sl_http_client_add_secret(r->http, r->token);
    r->token_expiry = now(r) + (double)ttl;
    sl_http_log(r->http, SLUICE_LOG_DEBUG, "resource %s: OAuth2 token obtained, valid %lld s",
                r->res->name, (long long)ttl);
done:
    if (resp.body.data)
        memset(resp.body.data, 0, resp.body.len);
    sl_http_response_cleanup(&resp);
    sl_arena_cleanup(&arena);
    if (form.data)
        memset(form.data, 0, form.len);
    sl_buf_cleanup(&form);
    return rc;
}

/* The auth header line for this request ("" when none), or a query param in qname and qval. */
static sluice_status auth_apply(struct rest_run *r, struct sl_buf *line, const char **qname,
                                const char **qval)
{
    const struct sl_rest_auth *a = r->auth;
    *qname = NULL;
    *qval = NULL;
    sl_buf_reset(line);
    if (!a)
        return SLUICE_OK;
    int bad = 0;
    switch (a->kind) {
    case SL_REST_AUTH_NONE:
        break;
    case SL_REST_AUTH_BEARER:
        bad = sl_buf_printf(line, "Authorization: Bearer %s", a->token ? a->token : "None");
        break;
    case SL_REST_AUTH_API_KEY:
        if (a->key_in_query) {
            *qname = a->key_name;
            *qval = a->api_key ? a->api_key : "";
        } else {
            bad = sl_buf_printf(line, "%s: %s", a->key_name, a->api_key ? a->api_key : "");
        }
        break;
    case SL_REST_AUTH_BASIC: {
        char *up = sl_aprintf("%s:%s", a->username ? a->username : "None",
                              a->password ? a->password : "None");
        if (!up)
            return sl_nomem(r->ctx);
        size_t n = strlen(up);
        char *enc = sl_malloc(4 * ((n + 2) / 3) + 1);
        if (!enc) {
            sl_free_secret(up);
            return sl_nomem(r->ctx);
        }
        sl_base64((const unsigned char *)up, n, 1, enc);
        bad = sl_buf_printf(line, "Authorization: Basic %s", enc);
        sl_free_secret(up);
        sl_free_secret(enc);
        break;
    }
    case SL_REST_AUTH_OAUTH2_CC: {
        sluice_status rc = oauth2_token(r);
        if (rc != SLUICE_OK)
            return rc;
        bad = sl_buf_printf(line, "Authorization: Bearer %s", r->token);
        break;
    }
    }
    return bad ? sl_nomem(r->ctx) : SLUICE_OK;
}

/* ============================================================================================
 * One request
 * ========================================================================================== */

struct prepared {
    char *url;                /* the full URL (secret when an API key is in it) */
    char **headers;           /* "Name: value" lines, NULL-terminated */
    size_t nheaders;
    struct sl_buf body;
};

static void prepared_cleanup(struct prepared *p)
{
    sl_free_secret(p->url);
    for (size_t i = 0; i < p->nheaders; i++)
        sl_free_secret(p->headers[i]);
    sl_free(p->headers);
    if (p->body.data)
        memset(p->body.data, 0, p->body.len);
    sl_buf_cleanup(&p->body);
    memset(p, 0, sizeof(*p));
}

static int push_header(struct prepared *p, char *line)
{
    if (!line)
        return -1;
    char **v = sl_realloc(p->headers, (p->nheaders + 2) * sizeof(*v));
    if (!v) {
        sl_free_secret(line);
        return -1;
    }
    p->headers = v;
    p->headers[p->nheaders++] = line;
    p->headers[p->nheaders] = NULL;
    return 0;
}

static bool header_named(const struct sl_json *h, const char *name)
{
    for (uint32_t i = 0; h && i < h->len; i++)
        if (strlen(name) == h->u.members[i].key_len &&
            strncasecmp(h->u.members[i].key, name, h->u.members[i].key_len) == 0)
            return true;
    return false;
}

/* Header lines: client headers, endpoint headers (same name: the endpoint's), a content
 * type for a body, then the auth header. */
static sluice_status prepare(struct rest_run *r, const struct sl_rest_request *req,
                             const struct sl_json *headers, const struct sl_json *data,
                             struct prepared *p)
{
    memset(p, 0, sizeof(*p));
    sl_buf_init(&p->body, 0);
    struct sl_buf line, val;
    sl_buf_init(&line, 0);
    sl_buf_init(&val, 0);
    const char *qname = NULL, *qval = NULL;
    sluice_status rc = auth_apply(r, &line, &qname, &qval);
    if (rc != SLUICE_OK)
        goto done;
    char *u = sl_rest_request_url(req);
    struct sl_buf url;
    sl_buf_init(&url, 0);
    int bad = !u || sl_url_requote(&url, u) || (qname && sl_url_add_query(&url, qname, qval));
    sl_free(u);
    if (bad) {
        sl_buf_cleanup(&url);
        rc = sl_nomem(r->ctx);
        goto done;
    }
    p->url = sl_buf_take(&url);
    const struct sl_json *ch = r->rr->client.headers;
    for (uint32_t i = 0; ch && i < ch->len && !bad; i++) {
        const struct sl_json_member *m = &ch->u.members[i];
        char *k = sl_strndup(m->key, m->key_len);
        bool over = k && sl_json_get(headers, k);
        sl_buf_reset(&val);
        if (!k || (!over && (sl_pystr(&val, &m->val) ||
                             push_header(p, sl_aprintf("%s: %s", k, val.data)))))
            bad = 1;
        sl_free(k);
    }
    for (uint32_t i = 0; headers && i < headers->len && !bad; i++) {
        const struct sl_json_member *m = &headers->u.members[i];
        sl_buf_reset(&val);
        if (sl_pystr(&val, &m->val) ||
            push_header(p, sl_aprintf("%.*s: %s", (int)m->key_len, m->key, val.data)))
            bad = 1;
    }
    bool has_ct = header_named(ch, "Content-Type") || header_named(headers, "Content-Type");
    if (!bad && req->json) {
        bad = sl_json_write(&p->body, req->json, 0) ||
              (!has_ct && push_header(p, sl_strdup("Content-Type: application/json")));
    } else if (!bad && data && data->type == SL_JSON_STRING) {
        bad = sl_buf_append(&p->body, data->s, data->len);
    } else if (!bad && data && data->type == SL_JSON_OBJECT) {
        for (uint32_t i = 0; i < data->len && !bad; i++) {
            char *k = sl_strndup(data->u.members[i].key, data->u.members[i].key_len);
            bad = !k || form_add(&p->body, k, &data->u.members[i].val);
            sl_free(k);
        }
        if (!bad && !has_ct)
            bad = push_header(p, sl_strdup("Content-Type: application/x-www-form-urlencoded"));
    }
    if (!bad && line.len)
        bad = push_header(p, sl_strdup(line.data));
    if (bad)
        rc = sl_nomem(r->ctx);
done:
    if (line.data)
        memset(line.data, 0, line.len);
    sl_buf_cleanup(&line);
    sl_buf_cleanup(&val);
    return rc;
}

static bool contains(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    if (k == 0)
        return true;
    for (size_t i = 0; hay && i + k <= n; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, k) == 0)
            return true;
    return false;
}

static enum sl_http_verdict check_actions(void *ud, const struct sl_http_response *resp)
{
    struct rest_run *r = ud;
    r->ignored = false;
    for (size_t i = 0; i < r->rr->nactions; i++) {
        const struct sl_rest_action *a = &r->rr->actions[i];
        bool status_ok = !a->has_status || a->status == resp->status;
        bool content_ok = !a->content || contains(resp->body.data, resp->body.len, a->content);
        if ((a->has_status || a->content) && status_ok && content_ok) {
            r->ignored = true;
            return SL_HTTP_ACCEPT;
        }
    }
    return SL_HTTP_DEFAULT;
}

/* ============================================================================================
 * Pages
 * ========================================================================================== */

/* dlt updates the paginator's state before the page's items are yielded */
static sluice_status page_count(void *ud, size_t count)
{
    struct rest_run *r = ud;
    return sl_paginator_update_state(r->pager, r->doc, &r->resp, count);
}

/* The child item with _<parent>_<field> set from the parent (dict.update: an existing key is
 * replaced where it is, new keys are appended in include_from_parent's order). */
static sluice_status augment(struct rest_run *r, const struct sl_json *item,
                             const struct sl_json **out)
{
    const struct sl_rest_resource *rr = r->rr;
    *out = item;
    if (!r->parent || rr->ninclude == 0 || item->type != SL_JSON_OBJECT)
        return SLUICE_OK;
    size_t cap = item->len + rr->ninclude;
    struct sl_json *o = sl_arena_alloc(&r->aug, sizeof(*o));
    struct sl_json_member *m = sl_arena_alloc(&r->aug, cap * sizeof(*m));
    if (!o || !m)
        return sl_nomem(r->ctx);
    *o = *item;
    memcpy(m, item->u.members, item->len * sizeof(*m));
    uint32_t len = item->len;
    for (size_t i = 0; i < rr->ninclude; i++) {
        const char *f = rr->include_from_parent[i];
        size_t kl = strlen(rr->parent) + strlen(f) + 2;
        char *key = sl_arena_alloc(&r->aug, kl + 1);
        if (!key)
            return sl_nomem(r->ctx);
        snprintf(key, kl + 1, "_%s_%s", rr->parent, f);
        const struct sl_json *v = sl_json_get(r->parent, f);
        uint32_t k;
        for (k = 0; k < len; k++)
            if (m[k].key_len == kl && memcmp(m[k].key, key, kl) == 0)
                break;
        if (k == len)
            len++;
        m[k].key = key;
        m[k].key_len = (uint32_t)kl;
        m[k].val = *v;
    }
    o->u.members = m;
    o->len = len;
    o->cap = len;
    *out = o;
    return SLUICE_OK;
}

static sluice_status page_item(void *ud, const struct sl_json *item, size_t index)
{
    struct rest_run *r = ud;
    (void)index;
    const struct sl_json *it = NULL;
    sluice_status rc = augment(r, item, &it);
    if (rc != SLUICE_OK)
        return rc;
    r->items++;
    rc = r->sink->on_item(r->sink->ud, it, r->items, r->pages, r->pages, NULL);
    if (rc != SLUICE_OK)
        sl_fail_locate(r->ctx, r->res->name, r->items, NULL);
    return rc;
}

/* Re-word a parse error of a response body so that it names the request. */
static sluice_status body_not_json(struct rest_run *r, const char *method, const char *url,
                                   const struct sl_ctx *pctx)
{
    if (pctx->code == SLUICE_ERR_NOMEM)
        return sl_nomem(r->ctx);
    char *u = sl_http_mask(r->http, url);
    const char *why = pctx->message;
    static const char prefix[] = "malformed JSON";
    if (strncmp(why, prefix, sizeof(prefix) - 1) == 0)
        why += sizeof(prefix) - 1;
    while (*why == ':' || *why == ' ')
        why++;
    if (strncmp(why, "at ", 3) == 0)
        why += 3;
    sluice_status rc = sl_fail_at(r->ctx, SLUICE_ERR_DATA_JSON, r->res->name, -1, NULL,
                                  "the response of %s %s is not valid JSON: %s", method,
                                  u ? u : "(url)", why);
    sl_fail_origin(r->ctx, "json", NULL);
    sl_free(u);
    return rc;
}

/* ============================================================================================
 * A request sequence (dlt's RESTClient.paginate)
 * ========================================================================================== */

static const struct sl_rest_pager_cfg *pager_cfg(const struct sl_rest_resource *rr)
{
    const struct sl_rest_pager_cfg *pc = rr->pager;
    if (!pc || pc->kind == SL_PAGER_AUTO)
        pc = rr->client.pager;
    if (pc && pc->kind == SL_PAGER_AUTO)
        pc = NULL;
    return pc;
}

static sluice_status paginate(struct rest_run *r, const char *path, const struct sl_json *headers,
                              struct sl_json *params, struct sl_json *json,
                              const struct sl_json *data)
{
    const struct sl_rest_resource *rr = r->rr;
    const char *method = rr->method ? rr->method : "GET";
    struct sl_rest_request req;
    sl_rest_request_init(&req);
    struct prepared prep;
    memset(&prep, 0, sizeof(prep));
    sl_buf_init(&prep.body, 0);
    sluice_status rc = SLUICE_OK;
    req.url = sl_url_is_http(path) ? sl_strdup(path)
                                   : sl_url_join_path(rr->client.base_url ? rr->client.base_url
                                                                          : "",
                                                      path);
    if (!req.url) {
        rc = sl_nomem(r->ctx);
        goto done;
    }
    sl_json_clear(&req.params);
    req.params = *params; /* moved */
    sl_json_set_object(params);
    req.json = json;
    const struct sl_rest_pager_cfg *pc = pager_cfg(rr);
    r->pager = NULL;
    r->seq_selector = NULL;
    sl_ctx_init(&r->pctx);
    if (pc) {
        rc = sl_paginator_new(&r->pctx, pc, &r->pager);
        if (rc == SLUICE_OK)
            rc = sl_paginator_init_request(r->pager, &req);
        if (rc != SLUICE_OK)
            goto done;
    }
    for (;;) {
        prepared_cleanup(&prep);
        rc = prepare(r, &req, headers, data, &prep);
        if (rc == SLUICE_OK && r->pager)
            rc = sl_paginator_before_send(r->pager, &req);
        if (rc != SLUICE_OK)
            goto done;
        bool has_body = req.json || data;
        struct sl_http_request hr = { method, prep.url, (const char *const *)prep.headers,
                                      has_body ? (prep.body.data ? prep.body.data : "") : NULL,
                                      prep.body.len };
        rc = sl_http_send(r->http, &hr, rr->nactions ? check_actions : NULL, r, &r->resp);
        if (rc != SLUICE_OK)
            goto done;
        if (r->ignored) {
            sl_http_log(r->http, SLUICE_LOG_INFO,
                        "resource %s: ignoring the response of %s %s (HTTP %ld): it matches a "
                        "response action",
                        r->res->name, method, prep.url, r->resp.status);
            break;
        }
        if (r->resp.status >= 400) {
            rc = sl_http_fail_status(r->http, &hr, &r->resp);
            goto done;
        }
        struct sl_ctx pctx;
        sl_ctx_init(&pctx);
        struct sl_json *doc = NULL;
        sl_arena_reset(&r->page);
        sl_arena_reset(&r->aug);
        if (sl_json_parse(&pctx, &r->page, r->resp.body.data ? r->resp.body.data : "",
                          r->resp.body.len, &doc) != SLUICE_OK) {
            rc = body_not_json(r, method, prep.url, &pctx);
            goto done;
        }
        r->doc = doc;
        const struct sl_jsonpath *sel = r->selector ? r->selector : r->seq_selector;
        if (!sel) {
            char *text = sl_rest_detect_selector(doc);
            if (!text) {
                rc = sl_nomem(r->ctx);
                goto done;
            }
            rc = sl_jsonpath_compile(r->ctx, text, &r->seq_selector);
            if (rc == SLUICE_OK)
                sl_log(r->ctx, SLUICE_LOG_DEBUG, "resource %s: data_selector detected: %s",
                       r->res->name, text);
            sl_free(text);
            if (rc != SLUICE_OK)
                goto done;
            sel = r->seq_selector;
        }
        if (!r->pager) {
            rc = sl_paginator_detect(&r->pctx, doc, &r->resp, &r->pager);
            if (rc != SLUICE_OK)
                goto done;
            sl_log(r->ctx, SLUICE_LOG_DEBUG, "resource %s: paginator detected: %s",
                   r->res->name, sl_paginator_describe(r->pager));
        }
        r->pages++;
        rc = sl_rest_select(r->ctx, sel, doc, page_count, page_item, r);
        if (rc == SLUICE_OK)
            rc = sl_paginator_update_request(r->pager, &req);
        if (rc != SLUICE_OK)
            goto done;
        SL_FAULT_POINT("rest.after_page");
        if (r->sink->on_page_end) {
            rc = r->sink->on_page_end(r->sink->ud, r->pages);
            if (rc != SLUICE_OK) {
                r->stopped = true;
                goto done;
            }
        }
        if (!sl_paginator_has_next(r->pager))
            break;
    }
done:
    if (rc != SLUICE_OK && r->pctx.code != SLUICE_OK) {
        /* a paginator's error: name the response it was reading */
        if (r->pctx.code == SLUICE_ERR_NOMEM) {
            rc = sl_nomem(r->ctx);
        } else {
            char *u = prep.url ? sl_http_mask(r->http, prep.url) : NULL;
            rc = sl_fail(r->ctx, r->pctx.code, "%s (the response of %s %s)", r->pctx.message,
                         method, u ? u : "(url)");
            sl_fail_origin(r->ctx, r->pctx.origin[0] ? r->pctx.origin : "http", NULL);
            sl_free(u);
        }
    }
    r->doc = NULL;
    sl_arena_reset(&r->page);
    prepared_cleanup(&prep);
    sl_paginator_free(&r->pager);
    sl_jsonpath_free(&r->seq_selector);
    sl_rest_request_cleanup(&req); /* frees json too */
    return rc;
}

/* Expand the endpoint's templates with the current values and run one sequence. */
static sluice_status run_sequence(struct rest_run *r)
{
    const struct sl_rest_resource *rr = r->rr;
    struct sl_buf path;
    sl_buf_init(&path, 0);
    struct sl_json headers, params, json, data;
    sl_json_set_null(&headers);
    sl_json_set_null(&params);
    sl_json_set_null(&json);
    sl_json_set_null(&data);
    sluice_status rc = expand_str(r, rr->path ? rr->path : "", &path);
    if (rc == SLUICE_OK && rr->headers)
        rc = expand_tree(r, rr->headers, false, &headers);
    if (rc == SLUICE_OK)
        rc = expand_tree(r, &r->base_params, false, &params);
    if (rc == SLUICE_OK && rr->json)
        rc = expand_tree(r, rr->json, true, &json);
    if (rc == SLUICE_OK && rr->data)
        rc = expand_tree(r, rr->data, false, &data);
    struct sl_json *body = NULL;
    if (rc == SLUICE_OK && rr->json) {
        body = sl_json_dup(&json);
        if (!body)
            rc = sl_nomem(r->ctx);
    }
    if (rc == SLUICE_OK)
        rc = paginate(r, path.data, rr->headers ? &headers : NULL, &params, body,
                      rr->data ? &data : NULL);
    else
        sl_json_free(body);
    sl_buf_cleanup(&path);
    sl_json_clear(&headers);
    sl_json_clear(&params);
    sl_json_clear(&json);
    sl_json_clear(&data);
    return rc;
}

/* ============================================================================================
 * Children: one sequence per parent item
 * ========================================================================================== */

static sluice_status missing_field(struct rest_run *r, const struct sl_json *item,
                                   const char *field, const char *bound_to)
{
    struct sl_buf keys;
    sl_buf_init(&keys, 2048);
    for (uint32_t i = 0; item->type == SL_JSON_OBJECT && i < item->len; i++)
        if ((i && sl_buf_puts(&keys, ", ")) ||
            sl_buf_append(&keys, item->u.members[i].key, item->u.members[i].key_len))
            break;
    sluice_status rc = sl_fail_at(r->ctx, SLUICE_ERR_SOURCE, r->res->name, -1, field,
                                  "resource %s expects a field '%s' in the items of its parent "
                                  "%s (for %s); the parent item has: %s",
                                  r->res->name, field, r->rr->parent, bound_to,
                                  keys.data ? keys.data : "no fields");
    sl_buf_cleanup(&keys);
    return rc;
}

static sluice_status on_parent_item(void *ud, struct sl_json *item, int64_t index, int64_t line)
{
    struct rest_run *r = ud;
    const struct sl_rest_resource *rr = r->rr;
    (void)line;
    (void)index;
    if (r->stopped)
        return SLUICE_ERR_INTERRUPTED;
    for (size_t i = 0; i < rr->nresolves; i++) {
        const struct sl_json *v = sl_jsonpath_first(r->resolve[i], item);
        if (!v) {
            char bound[300];
            snprintf(bound, sizeof(bound), "{%s}", rr->resolves[i].placeholder);
            return missing_field(r, item, rr->resolves[i].field, bound);
        }
        r->resolved[i] = v;
    }
    for (size_t i = 0; i < rr->ninclude; i++) {
        if (!sl_json_get(item, rr->include_from_parent[i])) {
            char bound[300];
            snprintf(bound, sizeof(bound), "include_from_parent as _%s_%s", rr->parent,
                     rr->include_from_parent[i]);
            return missing_field(r, item, rr->include_from_parent[i], bound);
        }
    }
    r->parent = item;
    sluice_status rc = run_sequence(r);
    r->parent = NULL;
    return rc;
}

static sluice_status run_children(struct rest_run *r)
{
    const char *path = r->env ? r->env->parent_items : NULL;
    if (!path)
        return sl_fail_at(r->ctx, SLUICE_ERR_INTERNAL, r->res->name, -1, NULL,
                          "resource %s has no items of its parent %s", r->res->name,
                          r->rr->parent);
    FILE *f = fopen(path, "rb");
    if (!f)
        return sl_fail_at(r->ctx, SLUICE_ERR_IO, r->res->name, -1, NULL,
                          "cannot read the items of parent %s", r->rr->parent);
    struct sl_json_parser *parser = NULL;
    sluice_status rc = sl_json_parser_new(&parser, r->ctx, SL_JSON_VALUES, NULL, on_parent_item,
                                          r);
    char buf[64 * 1024];
    while (rc == SLUICE_OK) {
        size_t n = fread(buf, 1, sizeof(buf), f);
        if (n == 0)
            break;
        rc = sl_json_parser_feed(parser, buf, n);
    }
    if (rc == SLUICE_OK && ferror(f))
        rc = sl_fail(r->ctx, SLUICE_ERR_IO, "cannot read the items of parent %s", r->rr->parent);
    if (rc == SLUICE_OK)
        rc = sl_json_parser_finish(parser);
    sl_json_parser_free(&parser);
    fclose(f);
    return rc;
}

/* ============================================================================================
 * The run
 * ========================================================================================== */

/* params plus the incremental's start/end params (dlt's _set_incremental_params: last value
 * and end value as they are when the resource starts). */
static sluice_status make_base_params(struct rest_run *r)
{
    const struct sl_rest_resource *rr = r->rr;
    sl_json_set_object(&r->base_params);
    if (rr->params && sl_json_copy_into(&r->base_params, rr->params)) {
        sl_json_clear(&r->base_params);
        sl_json_set_object(&r->base_params);
        return sl_nomem(r->ctx);
    }
    const char *names[2] = { rr->start_param, rr->end_param };
    const char *which[2] = { "last_value", "end_value" };
    for (size_t i = 0; i < 2; i++) {
        if (!names[i])
            continue;
        const struct sl_json *v = r->env->inc ? sl_incremental_value(r->env->inc, which[i])
                                              : NULL;
        struct sl_json c;
        sl_json_set_null(&c);
        if (v && sl_json_copy_into(&c, v)) {
            sl_json_clear(&c);
            return sl_nomem(r->ctx);
        }
        if (!sl_json_obj_set_take(&r->base_params, names[i], &c))
            return sl_nomem(r->ctx);
    }
    return SLUICE_OK;
}

sluice_status sl_source_rest_run(struct sl_ctx *ctx, const struct sl_resource_cfg *res,
                                 const struct sl_source_env *env,
                                 const struct sl_source_sink *sink)
{
    const struct sl_rest_resource *rr = res->rest;
    if (!rr)
        return sl_fail_at(ctx, SLUICE_ERR_INTERNAL, res->name, -1, NULL,
                          "resource %s is not a REST resource", res->name);
    static const struct sl_source_env no_env = { NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL };
    struct rest_run r;
    memset(&r, 0, sizeof(r));
    r.ctx = ctx;
    r.res = res;
    r.rr = rr;
    r.env = env ? env : &no_env;
    r.sink = sink;
    r.auth = rr->auth ? rr->auth : rr->client.auth;
    sl_json_set_object(&r.base_params);
    sl_arena_init(&r.page, 64 * 1024);
    sl_arena_init(&r.aug, 4096);
    sl_http_response_init(&r.resp);
    struct sl_http_opts o;
    sl_http_opts_default(&o);
    o.timeout = rr->client.timeout;
    o.max_attempts = rr->client.max_attempts;
    o.backoff_factor = rr->client.backoff_factor;
    o.max_retry_delay = rr->client.max_retry_delay;
    o.respect_retry_after = rr->client.respect_retry_after;
    o.requests_per_second = rr->client.requests_per_second;
    if (rr->client.max_page_bytes > 0)
        o.max_body = (size_t)rr->client.max_page_bytes;
    o.seed = r.env->seed ? r.env->seed : o.seed;
    sluice_status rc = sl_http_client_new(ctx, &o, &r.http);
    if (rc == SLUICE_OK)
        rc = register_secrets(&r, rr->client.auth);
    if (rc == SLUICE_OK)
        rc = register_secrets(&r, rr->auth);
    for (size_t i = 0; rc == SLUICE_OK && i < rr->nsecrets; i++)
        rc = sl_http_client_add_secret(r.http, rr->secrets[i]);
    if (rc == SLUICE_OK && rr->data_selector)
        rc = sl_jsonpath_compile(ctx, rr->data_selector, &r.selector);
    if (rc == SLUICE_OK && rr->nresolves) {
        r.resolve = sl_calloc(rr->nresolves, sizeof(*r.resolve));
        r.resolved = sl_calloc(rr->nresolves, sizeof(*r.resolved));
        if (!r.resolve || !r.resolved)
            rc = sl_nomem(ctx);
        for (size_t i = 0; rc == SLUICE_OK && i < rr->nresolves; i++)
            rc = sl_jsonpath_compile(ctx, rr->resolves[i].field, &r.resolve[i]);
    }
    if (rc == SLUICE_OK)
        rc = make_base_params(&r);
    if (rc == SLUICE_OK)
        rc = rr->parent ? run_children(&r) : run_sequence(&r);
    if (r.stopped && (rc == SLUICE_OK || rc == SLUICE_ERR_INTERRUPTED))
        rc = SLUICE_ERR_INTERRUPTED; /* the sink's early stop: extract knows it */
    else if (rc != SLUICE_OK)
        sl_fail_locate(ctx, res->name, -1, NULL);
    for (size_t i = 0; r.resolve && i < rr->nresolves; i++)
        sl_jsonpath_free(&r.resolve[i]);
    sl_free(r.resolve);
    sl_free(r.resolved);
    sl_jsonpath_free(&r.selector);
    sl_json_clear(&r.base_params);
    sl_arena_cleanup(&r.page);
    sl_arena_cleanup(&r.aug);
    if (r.resp.body.data)
        memset(r.resp.body.data, 0, r.resp.body.len);
    sl_http_response_cleanup(&r.resp);
    sl_free_secret(r.token);
    sl_http_client_free(&r.http);
    return rc;
}
