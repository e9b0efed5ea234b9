/*
 * rest_api.c — a source's `rest_api:` block: dlt's RESTAPIConfig (client, resource_defaults,
 * resources) checked key by key and turned into one REST resource per entry, as dlt 1.31's
 * rest_api_resources() builds them (dlt/sources/rest_api/config_setup.py):
 *
 *   1. each resource (a name, or a mapping) is merged with resource_defaults: keys of the
 *      resource win, except endpoint.params and endpoint.json (merged key by key) and columns
 *      (merged per column); an endpoint given as a string is its path; no path: the name;
 *   2. a path whose last segment is a {placeholder} is a single entity: single_page paginator
 *      and data_selector "$" unless given;
 *   3. path placeholders naming a plain param are bound now (the param leaves the query);
 *   4. placeholders in path, params, json, data and headers must be {resources.<parent>.<x>}
 *      or, when the endpoint has an incremental, {incremental.<value>}; legacy params
 *      {type: resolve} must be bound in the path; all of them name the same parent, which
 *      must exist; include_from_parent needs a parent;
 *   5. the incremental comes from endpoint.incremental (start_param/end_param) or from one
 *      {type: incremental} param (its name is the start param; no end_value there) and goes
 *      through the same check as any resource's incremental;
 *   6. resources are appended parents first (dlt's topological order).
 * dlt hints that sluice has (write_disposition, primary_key, merge_key, table_name, columns,
 * max_table_nesting, selected) are checked by resource_keys.c like any resource's. Python
 * callables (processing_steps, convert, custom auth or paginator classes, callable response
 * actions) cannot be written in YAML/JSON and are refused with a clear message.
 *
 * Secrets (token, api_key, password, client_id, client_secret, access_token) are never echoed:
 * check.c never prints values, and this file names keys only.
 */
#include "config/rest_api.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/jsonpath.h"
#include "model/rest.h"
#include "sources/rest_template.h"
#include "config/resource_keys.h"

#define F_END { NULL, SL_CHECK_ANY, NULL, 0, false, false }

/* ============================================================================================
 * Small helpers
 * ========================================================================================== */

static int dup_to(char **slot, const char *s)
{
    sl_free(*slot);
    *slot = NULL;
    if (!s)
        return 0;
    *slot = sl_strdup(s);
    return *slot ? 0 : -1;
}

static sluice_status check_jsonpath(struct sl_check *c, const struct sl_json *at, const char *p)
{
    struct sl_ctx scratch;
    sl_ctx_init(&scratch);
    struct sl_jsonpath *jp = NULL;
    sluice_status rc = sl_jsonpath_compile(&scratch, p, &jp);
    sl_jsonpath_free(&jp);
    if (rc == SLUICE_ERR_NOMEM)
        return sl_nomem(c->ctx);
    if (rc != SLUICE_OK)
        return sl_check_err(c, at, "'%s': %s", sl_check_rel(c), scratch.message);
    return SLUICE_OK;
}

/* Check one optional child by field f, with the path pushed. */
static sluice_status child(struct sl_check *c, struct sl_json *obj, const struct sl_check_field *f,
                           struct sl_check_value *out)
{
    return sl_check_child(c, obj, f, out);
}

/* "not supported" for a key holding a Python callable or an unsupported dlt feature */
static sluice_status refuse(struct sl_check *c, const struct sl_json *at, const char *key,
                            const char *why)
{
    size_t old = sl_check_push(c, key);
    sluice_status rc = sl_check_err(c, at, "'%s' is not supported: %s", sl_check_rel(c), why);
    sl_check_pop(c, old);
    return rc;
}

/* ============================================================================================
 * Templates
 * ========================================================================================== */

static const char *const inc_values[] = { "initial_value", "start_value", "last_value",
                                          "end_value", NULL };

struct expr_scan {
    struct sl_check *c;
    const struct sl_json *at;
    char *const *plain;        /* names allowed as they are (legacy resolve params in a path) */
    size_t nplain;
    bool has_incremental;
    struct sl_rest_resource *rr;
    const char *resource;
    sluice_status rc;
};

static sluice_status add_resolve(struct expr_scan *s, const char *placeholder, const char *parent,
                                 size_t parent_n, const char *field)
{
    struct sl_rest_resource *rr = s->rr;
    for (size_t i = 0; i < rr->nresolves; i++)
        if (strcmp(rr->resolves[i].placeholder, placeholder) == 0)
            return SLUICE_OK;
    if (rr->parent && (strlen(rr->parent) != parent_n || strncmp(rr->parent, parent, parent_n)))
        return sl_check_err(s->c, s->at, "resource '%s' refers to two parent resources ('%s' "
                            "and '%.*s'); a resource has one parent",
                            s->resource, rr->parent, (int)parent_n, parent);
    if (!rr->parent) {
        rr->parent = sl_strndup(parent, parent_n);
        if (!rr->parent)
            return sl_nomem(s->c->ctx);
    }
    struct sl_rest_resolve *v = sl_realloc(rr->resolves, (rr->nresolves + 1) * sizeof(*v));
    if (!v)
        return sl_nomem(s->c->ctx);
    rr->resolves = v;
    v[rr->nresolves].placeholder = sl_strdup(placeholder);
    v[rr->nresolves].field = sl_strdup(field);
    if (!v[rr->nresolves].placeholder || !v[rr->nresolves].field) {
        sl_free(v[rr->nresolves].placeholder);
        sl_free(v[rr->nresolves].field);
        return sl_nomem(s->c->ctx);
    }
    rr->nresolves++;
    return check_jsonpath(s->c, s->at, field);
}

/* One placeholder of params/json/data/headers/path: a context expression. */
static int on_expr(void *ud, const char *name, size_t n)
{
    struct expr_scan *s = ud;
    char buf[512];
    if (n >= sizeof(buf)) {
        s->rc = sl_check_err(s->c, s->at, "placeholder in '%s' is too long", sl_check_rel(s->c));
        return 1;
    }
    memcpy(buf, name, n);
    buf[n] = '\0';
    for (size_t i = 0; i < s->nplain; i++)
        if (strcmp(s->plain[i], buf) == 0)
            return 0;
    if (strncmp(buf, "resources.", 10) == 0) {
        const char *p = buf + 10;
        const char *dot = strchr(p, '.');
        if (!dot || dot == p || !dot[1]) {
            s->rc = sl_check_err(s->c, s->at, "invalid placeholder '{%s}' in '%s': expected "
                                 "{resources.<parent_resource>.<field>}",
                                 buf, sl_check_rel(s->c));
            return 1;
        }
        s->rc = add_resolve(s, buf, p, (size_t)(dot - p), dot + 1);
        return s->rc != SLUICE_OK;
    }
    if (s->has_incremental && strncmp(buf, "incremental.", 12) == 0) {
        if (sl_cfg_list_index(buf + 12, inc_values) < 0) {
            s->rc = sl_check_err(s->c, s->at, "placeholder '{%s}' in '%s': the incremental "
                                 "gives initial_value, start_value, last_value and end_value",
                                 buf, sl_check_rel(s->c));
            return 1;
        }
        return 0;
    }
    s->rc = sl_check_err(s->c, s->at, "placeholder '{%s}' in '%s' is not valid: placeholders "
                         "start with 'resources.'%s (write {{ and }} for literal braces)",
                         buf, sl_check_rel(s->c),
                         s->has_incremental ? " or 'incremental.'" : "");
    return 1;
}

static sluice_status scan_str(struct expr_scan *s, const struct sl_json *at, const char *str)
{
    const char *why = NULL;
    s->at = at;
    s->rc = SLUICE_OK;
    int r = sl_tmpl_scan(str, on_expr, s, &why);
    if (r < 0)
        return sl_check_err(s->c, at, "'%s': malformed placeholder: %s", sl_check_rel(s->c),
                            why);
    return s->rc;
}

/* Every string (keys too) of a tree: placeholders must be context expressions. */
static sluice_status scan_tree(struct expr_scan *s, const struct sl_json *v)
{
    sluice_status rc = SLUICE_OK;
    if (v->type == SL_JSON_STRING)
        return scan_str(s, v, v->s);
    if (v->type == SL_JSON_ARRAY)
        for (uint32_t i = 0; i < v->len && rc == SLUICE_OK; i++)
            rc = scan_tree(s, &v->u.items[i]);
    if (v->type == SL_JSON_OBJECT)
        for (uint32_t i = 0; i < v->len && rc == SLUICE_OK; i++) {
            size_t old = sl_check_push(s->c, v->u.members[i].key);
            rc = scan_str(s, &v->u.members[i].val, v->u.members[i].key);
            if (rc == SLUICE_OK)
                rc = scan_tree(s, &v->u.members[i].val);
            sl_check_pop(s->c, old);
        }
    return rc;
}

/* Append s with its braces doubled (a literal for a later expansion). */
static int put_literal(struct sl_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((s[i] == '{' || s[i] == '}') && sl_buf_putc(b, s[i]))
            return -1;
        if (sl_buf_putc(b, s[i]))
            return -1;
    }
    return 0;
}

/* ============================================================================================
 * Auth
 * ========================================================================================== */

static const char *const auth_types[] = { "bearer", "api_key", "http_basic",
                                          "oauth2_client_credentials", NULL };
static const char *const key_locations[] = { "header", "query", "param", "cookie", NULL };

static const struct sl_check_field bearer_fields[] = {
    { "type", SL_CHECK_ENUM, auth_types, 0, false, false },
    { "token", SL_CHECK_STR, NULL, 0, true, false },
    F_END
};
static const struct sl_check_field api_key_fields[] = {
    { "type", SL_CHECK_ENUM, auth_types, 0, true, false },
    { "api_key", SL_CHECK_STR, NULL, 0, true, false },
    { "name", SL_CHECK_STR, NULL, 0, false, true },
    { "location", SL_CHECK_ENUM, key_locations, 0, false, true },
    F_END
};
static const struct sl_check_field basic_fields[] = {
    { "type", SL_CHECK_ENUM, auth_types, 0, true, false },
    { "username", SL_CHECK_STR, NULL, 0, true, false },
    { "password", SL_CHECK_STR, NULL, 0, true, false },
    F_END
};
static const struct sl_check_field oauth2_fields[] = {
    { "type", SL_CHECK_ENUM, auth_types, 0, true, false },
    { "access_token_url", SL_CHECK_STR, NULL, 0, true, false },
    { "client_id", SL_CHECK_STR, NULL, 0, true, false },
    { "client_secret", SL_CHECK_STR, NULL, 0, true, false },
    { "access_token", SL_CHECK_STR, NULL, 0, false, true },
    { "access_token_request_data", SL_CHECK_ANY, NULL, 0, false, true },
    { "default_token_expiration", SL_CHECK_INT, NULL, 0, false, true },
    { "session", SL_CHECK_ANY, NULL, 0, false, false },
    F_END
};

static sluice_status parse_auth(struct sl_check *c, struct sl_json *v, struct sl_rest_auth **out)
{
    *out = NULL;
    if (v->type == SL_JSON_NULL)
        return SLUICE_OK;
    if (v->type == SL_JSON_STRING)
        return sl_check_err(c, v, "'%s' names an auth type without its settings: write a "
                            "mapping, e.g. {type: bearer, token: \"${TOKEN}\"}",
                            sl_check_rel(c));
    if (v->type != SL_JSON_OBJECT)
        return sl_check_type(c, v, "a mapping with 'type' and its settings");
    const struct sl_check_field tf = { "type", SL_CHECK_ENUM, auth_types, 0, false, false };
    struct sl_check_value tv;
    sluice_status rc = child(c, v, &tf, &tv);
    if (rc != SLUICE_OK)
        return rc;
    size_t kind = tv.present ? tv.idx : 0; /* dlt: no type is bearer ({token: ...}) */
    const struct sl_check_field *tables[] = { bearer_fields, api_key_fields, basic_fields,
                                              oauth2_fields };
    struct sl_check_value val[8];
    rc = sl_check_fields(c, v, tables[kind], val);
    if (rc != SLUICE_OK)
        return rc;
    struct sl_rest_auth *a = sl_calloc(1, sizeof(*a));
    if (!a)
        return sl_nomem(c->ctx);
    int bad = 0;
    switch (kind) {
    case 0:
        a->kind = SL_REST_AUTH_BEARER;
        bad = dup_to(&a->token, val[1].s);
        break;
    case 1:
        a->kind = SL_REST_AUTH_API_KEY;
        if (val[3].present && val[3].idx == 3) {
            sl_rest_auth_free(a);
            return refuse(c, sl_json_get(v, "location"), "location",
                          "dlt has no cookie location for API keys either (NotImplementedError)");
        }
        a->key_in_query = val[3].present && (val[3].idx == 1 || val[3].idx == 2);
        bad = dup_to(&a->api_key, val[1].s) ||
              dup_to(&a->key_name, val[2].present ? val[2].s : "Authorization");
        break;
    case 2:
        a->kind = SL_REST_AUTH_BASIC;
        bad = dup_to(&a->username, val[1].s) || dup_to(&a->password, val[2].s);
        break;
    default: {
        a->kind = SL_REST_AUTH_OAUTH2_CC;
        if (val[7].present) {
            sl_rest_auth_free(a);
            return refuse(c, sl_json_get(v, "session"), "session",
                          "a requests Session is a Python object");
        }
        struct sl_json *extra = sl_json_get_mut(v, "access_token_request_data");
        if (extra && extra->type != SL_JSON_NULL && extra->type != SL_JSON_OBJECT) {
            size_t old = sl_check_push(c, "access_token_request_data");
            rc = sl_check_type(c, extra, "a mapping of form fields");
            sl_check_pop(c, old);
            sl_rest_auth_free(a);
            return rc;
        }
        a->default_token_expiration = val[6].present ? val[6].i : 3600;
        bad = dup_to(&a->token_url, val[1].s) || dup_to(&a->client_id, val[2].s) ||
              dup_to(&a->client_secret, val[3].s);
        if (!bad && extra && extra->type == SL_JSON_OBJECT) {
            a->token_request_data = sl_json_dup(extra);
            bad = !a->token_request_data;
        }
        break;
    }
    }
    if (bad) {
        sl_rest_auth_free(a);
        return sl_nomem(c->ctx);
    }
    *out = a;
    return SLUICE_OK;
}

/* ============================================================================================
 * Paginators
 * ========================================================================================== */

static const char *const pager_types[] = { "json_link",   "json_response", "header_link",
                                           "header_cursor", "auto",        "single_page",
                                           "cursor",      "offset",        "page_number",
                                           NULL };
static const enum sl_rest_pager_kind pager_kinds[] = {
    SL_PAGER_JSON_LINK, SL_PAGER_JSON_LINK, SL_PAGER_HEADER_LINK, SL_PAGER_HEADER_CURSOR,
    SL_PAGER_AUTO,      SL_PAGER_SINGLE_PAGE, SL_PAGER_CURSOR,    SL_PAGER_OFFSET,
    SL_PAGER_PAGE_NUMBER
};

#define P_TYPE { "type", SL_CHECK_ENUM, pager_types, 0, false, false }
static const struct sl_check_field plain_fields[] = { P_TYPE, F_END };
static const struct sl_check_field json_link_fields[] = {
    P_TYPE, { "next_url_path", SL_CHECK_STR, NULL, 0, false, true }, F_END
};
static const struct sl_check_field header_link_fields[] = {
    P_TYPE, { "links_next_key", SL_CHECK_STR, NULL, 0, false, true }, F_END
};
static const struct sl_check_field header_cursor_fields[] = {
    P_TYPE,
    { "cursor_key", SL_CHECK_STR, NULL, 0, false, true },
    { "cursor_param", SL_CHECK_STR, NULL, 0, false, true },
    F_END
};
static const struct sl_check_field cursor_fields[] = {
    P_TYPE,
    { "cursor_path", SL_CHECK_STR, NULL, 0, false, true },
    { "cursor_param", SL_CHECK_STR, NULL, 0, false, true },
    { "cursor_body_path", SL_CHECK_STR, NULL, 0, false, true },
    { "stop_after_empty_page", SL_CHECK_BOOL, NULL, 0, false, true },
    { "has_more_path", SL_CHECK_STR, NULL, 0, false, true },
    F_END
};
static const struct sl_check_field offset_fields[] = {
    P_TYPE,
    { "limit", SL_CHECK_INT, NULL, 1, true, false },
    { "offset", SL_CHECK_INT, NULL, 0, false, true },
    { "offset_param", SL_CHECK_STR, NULL, 0, false, true },
    { "offset_body_path", SL_CHECK_STR, NULL, 0, false, true },
    { "limit_param", SL_CHECK_STR, NULL, 0, false, true },
    { "limit_body_path", SL_CHECK_STR, NULL, 0, false, true },
    { "total_path", SL_CHECK_STR, NULL, 0, false, true },
    { "maximum_offset", SL_CHECK_INT, NULL, 0, false, true },
    { "stop_after_empty_page", SL_CHECK_BOOL, NULL, 0, false, true },
    { "has_more_path", SL_CHECK_STR, NULL, 0, false, true },
    F_END
};
static const struct sl_check_field page_fields[] = {
    P_TYPE,
    { "base_page", SL_CHECK_INT, NULL, 0, false, true },
    { "page", SL_CHECK_INT, NULL, 0, false, true },
    { "page_param", SL_CHECK_STR, NULL, 0, false, true },
    { "page_body_path", SL_CHECK_STR, NULL, 0, false, true },
    { "total_path", SL_CHECK_STR, NULL, 0, false, true },
    { "maximum_page", SL_CHECK_INT, NULL, 0, false, true },
    { "stop_after_empty_page", SL_CHECK_BOOL, NULL, 0, false, true },
    { "has_more_path", SL_CHECK_STR, NULL, 0, false, true },
    F_END
};

/* The value of key in v when present and not null. */
static const char *opt_str(const struct sl_json *v, const char *key)
{
    const struct sl_json *x = sl_json_get(v, key);
    return x && x->type == SL_JSON_STRING ? x->s : NULL;
}

static bool has_key(const struct sl_json *v, const char *key)
{
    return sl_json_get(v, key) != NULL;
}

static bool is_null(const struct sl_json *v, const char *key)
{
    const struct sl_json *x = sl_json_get(v, key);
    return x && x->type == SL_JSON_NULL;
}

/* JSONPath keys of a paginator compile. */
static sluice_status pager_paths(struct sl_check *c, const struct sl_json *v)
{
    static const char *const keys[] = { "next_url_path", "cursor_path", "total_path",
                                        "has_more_path", NULL };
    sluice_status rc = SLUICE_OK;
    for (size_t i = 0; keys[i] && rc == SLUICE_OK; i++) {
        const char *s = opt_str(v, keys[i]);
        if (!s)
            continue;
        size_t old = sl_check_push(c, keys[i]);
        rc = check_jsonpath(c, sl_json_get(v, keys[i]), s);
        sl_check_pop(c, old);
    }
    return rc;
}

/* param XOR body path, with dlt's default param name when neither is given. */
static sluice_status param_or_body(struct sl_check *c, const struct sl_json *v,
                                   const char *pkey, const char *bkey, const char *dflt,
                                   char **param, char **body)
{
    const char *p = opt_str(v, pkey), *b = opt_str(v, bkey);
    if (p && b)
        return sl_check_err(c, sl_json_get(v, bkey), "'%s' takes '%s' or '%s', not both",
                            sl_check_rel(c), pkey, bkey);
    if (!p && !b)
        p = dflt;
    if (dup_to(param, p) || dup_to(body, b))
        return sl_nomem(c->ctx);
    return SLUICE_OK;
}

static sluice_status parse_pager(struct sl_check *c, struct sl_json *v,
                                 struct sl_rest_pager_cfg **out)
{
    *out = NULL;
    if (v->type == SL_JSON_NULL)
        return SLUICE_OK;
    size_t t = 0;
    if (v->type == SL_JSON_STRING) {
        const struct sl_check_field f = P_TYPE;
        struct sl_check_value tv;
        sluice_status rc = sl_check_value(c, v, &f, &tv);
        if (rc != SLUICE_OK)
            return rc;
        t = tv.idx;
        if (pager_kinds[t] == SL_PAGER_OFFSET)
            return sl_check_err(c, v, "'%s': paginator 'offset' needs its settings (at least "
                                "limit): write a mapping {type: offset, limit: ...}",
                                sl_check_rel(c));
    } else if (v->type == SL_JSON_OBJECT) {
        const struct sl_check_field f = P_TYPE;
        struct sl_check_value tv;
        sluice_status rc = child(c, v, &f, &tv);
        if (rc != SLUICE_OK)
            return rc;
        t = tv.present ? tv.idx : 4; /* dlt: no type is "auto" */
    } else {
        return sl_check_type(c, v, "a paginator type or a mapping with 'type'");
    }
    enum sl_rest_pager_kind kind = pager_kinds[t];
    const struct sl_check_field *tables[] = {
        [SL_PAGER_AUTO] = plain_fields,           [SL_PAGER_SINGLE_PAGE] = plain_fields,
        [SL_PAGER_JSON_LINK] = json_link_fields,  [SL_PAGER_HEADER_LINK] = header_link_fields,
        [SL_PAGER_HEADER_CURSOR] = header_cursor_fields, [SL_PAGER_CURSOR] = cursor_fields,
        [SL_PAGER_OFFSET] = offset_fields,        [SL_PAGER_PAGE_NUMBER] = page_fields,
    };
    sluice_status rc = SLUICE_OK;
    if (v->type == SL_JSON_OBJECT) {
        rc = sl_check_fields(c, v, tables[kind], NULL);
        if (rc == SLUICE_OK)
            rc = pager_paths(c, v);
        if (rc != SLUICE_OK)
            return rc;
    }
    struct sl_rest_pager_cfg *p = sl_calloc(1, sizeof(*p));
    if (!p || sl_rest_pager_defaults(p, kind)) {
        sl_rest_pager_free(p);
        return sl_nomem(c->ctx);
    }
    const struct sl_json *o = v->type == SL_JSON_OBJECT ? v : NULL;
    int bad = 0;
    const struct sl_json *x;
    switch (kind) {
    case SL_PAGER_JSON_LINK:
        if (opt_str(o, "next_url_path"))
            bad = dup_to(&p->next_url_path, opt_str(o, "next_url_path"));
        break;
    case SL_PAGER_HEADER_LINK:
        if (opt_str(o, "links_next_key"))
            bad = dup_to(&p->links_next_key, opt_str(o, "links_next_key"));
        break;
    case SL_PAGER_HEADER_CURSOR:
        if (opt_str(o, "cursor_key"))
            bad = dup_to(&p->cursor_key, opt_str(o, "cursor_key"));
        if (!bad && opt_str(o, "cursor_param"))
            bad = dup_to(&p->cursor_param, opt_str(o, "cursor_param"));
        break;
    case SL_PAGER_CURSOR:
        if (opt_str(o, "cursor_path"))
            bad = dup_to(&p->cursor_path, opt_str(o, "cursor_path"));
        if (!bad) {
            rc = param_or_body(c, o, "cursor_param", "cursor_body_path", "cursor",
                               &p->cursor_param, &p->cursor_body_path);
        }
        x = sl_json_get(o, "stop_after_empty_page");
        p->stop_after_empty_page = x && x->type == SL_JSON_BOOL && x->u.b;
        if (!bad && opt_str(o, "has_more_path"))
            bad = dup_to(&p->has_more_path, opt_str(o, "has_more_path"));
        break;
    case SL_PAGER_OFFSET:
    case SL_PAGER_PAGE_NUMBER: {
        bool off = kind == SL_PAGER_OFFSET;
        if (off) {
            p->limit = sl_json_get(o, "limit")->u.i;
            x = sl_json_get(o, "offset");
            p->initial = x && x->type == SL_JSON_INT ? x->u.i : 0;
            rc = param_or_body(c, o, "offset_param", "offset_body_path", "offset", &p->param,
                               &p->param_body_path);
            if (rc == SLUICE_OK)
                rc = param_or_body(c, o, "limit_param", "limit_body_path", "limit",
                                   &p->limit_param, &p->limit_body_path);
        } else {
            x = sl_json_get(o, "base_page");
            p->base = x && x->type == SL_JSON_INT ? x->u.i : 0;
            x = sl_json_get(o, "page");
            p->initial = x && x->type == SL_JSON_INT ? x->u.i : p->base;
            rc = param_or_body(c, o, "page_param", "page_body_path", "page", &p->param,
                               &p->param_body_path);
        }
        if (is_null(o, "total_path")) {
            sl_free(p->total_path);
            p->total_path = NULL;
        } else if (opt_str(o, "total_path")) {
            bad = dup_to(&p->total_path, opt_str(o, "total_path"));
        }
        x = sl_json_get(o, off ? "maximum_offset" : "maximum_page");
        p->has_maximum = x && x->type == SL_JSON_INT;
        p->maximum = p->has_maximum ? x->u.i : 0;
        x = sl_json_get(o, "stop_after_empty_page");
        if (x)
            p->stop_after_empty_page = x->type == SL_JSON_BOOL && x->u.b;
        if (!bad && opt_str(o, "has_more_path"))
            bad = dup_to(&p->has_more_path, opt_str(o, "has_more_path"));
        if (rc == SLUICE_OK && !bad && !p->total_path && !p->has_maximum && !p->has_more_path &&
            !p->stop_after_empty_page)
            rc = sl_check_err(c, v, "'%s': one of total_path, %s, has_more_path or "
                              "stop_after_empty_page must be set, or the pages never end",
                              sl_check_rel(c), off ? "maximum_offset" : "maximum_page");
        break;
    }
    case SL_PAGER_AUTO:
    case SL_PAGER_SINGLE_PAGE:
        break;
    }
    if (bad && rc == SLUICE_OK)
        rc = sl_nomem(c->ctx);
    if (rc != SLUICE_OK) {
        sl_rest_pager_free(p);
        return rc;
    }
    (void)has_key;
    *out = p;
    return SLUICE_OK;
}

/* ============================================================================================
 * Client
 * ========================================================================================== */

static const struct sl_check_field client_fields[] = {
    { "base_url", SL_CHECK_STR, NULL, 0, true, false },
    { "headers", SL_CHECK_ANY, NULL, 0, false, true },
    { "auth", SL_CHECK_ANY, NULL, 0, false, true },
    { "paginator", SL_CHECK_ANY, NULL, 0, false, true },
    { "session", SL_CHECK_ANY, NULL, 0, false, true },
    F_END
};
enum { CL_BASE_URL, CL_HEADERS, CL_AUTH, CL_PAGINATOR, CL_SESSION, CL_N };

static const struct sl_check_field session_fields[] = {
    { "timeout", SL_CHECK_NUM, NULL, 0, false, false },
    { "max_attempts", SL_CHECK_INT, NULL, 1, false, false },
    { "backoff_factor", SL_CHECK_NUM, NULL, 0, false, false },
    { "max_retry_delay", SL_CHECK_NUM, NULL, 0, false, false },
    { "respect_retry_after_header", SL_CHECK_BOOL, NULL, 0, false, false },
    { "requests_per_second", SL_CHECK_NUM, NULL, 0, false, false },
    { "max_page_bytes", SL_CHECK_INT, NULL, 1, false, false },
    F_END
};

/* A mapping of scalar values (headers). */
static sluice_status check_scalar_map(struct sl_check *c, const struct sl_json *v,
                                      const char *what)
{
    if (v->type != SL_JSON_OBJECT)
        return sl_check_type(c, v, what);
    for (uint32_t i = 0; i < v->len; i++) {
        const struct sl_json *x = &v->u.members[i].val;
        if (x->type == SL_JSON_OBJECT || x->type == SL_JSON_ARRAY || x->type == SL_JSON_NULL) {
            size_t old = sl_check_push(c, v->u.members[i].key);
            sluice_status rc = sl_check_type(c, x, "a string");
            sl_check_pop(c, old);
            return rc;
        }
    }
    return SLUICE_OK;
}

/* dlt's [runtime] request settings as environment variables (a variable wins over the file). */
static sluice_status runtime_env(struct sl_check *c, struct sl_rest_client_cfg *cl)
{
    static const char *const names[] = { "RUNTIME__REQUEST_TIMEOUT",
                                         "RUNTIME__REQUEST_MAX_ATTEMPTS",
                                         "RUNTIME__REQUEST_BACKOFF_FACTOR",
                                         "RUNTIME__REQUEST_MAX_RETRY_DELAY", NULL };
    for (size_t i = 0; names[i]; i++) {
        const char *s = getenv(names[i]);
        if (!s)
            continue;
        char *end = NULL;
        double d = strtod(s, &end);
        if (!*s || !end || *end || !(d >= 0) || (i == 1 && (d < 1 || d != (double)(int64_t)d)))
            return sl_cfg_fail(c->ctx, "environment variable %s: must be %s", names[i],
                               i == 1 ? "an integer >= 1" : "a number >= 0");
        if (i == 0)
            cl->timeout = d;
        else if (i == 1)
            cl->max_attempts = (int64_t)d;
        else if (i == 2)
            cl->backoff_factor = d;
        else
            cl->max_retry_delay = d;
    }
    return SLUICE_OK;
}

static sluice_status parse_client(struct sl_check *c, struct sl_json *v,
                                  struct sl_rest_client_cfg *cl)
{
    struct sl_check_value val[CL_N];
    if (v->type != SL_JSON_OBJECT)
        return sl_check_type(c, v, "a mapping with 'base_url'");
    sluice_status rc = sl_check_fields(c, v, client_fields, val);
    if (rc != SLUICE_OK)
        return rc;
    if (dup_to(&cl->base_url, val[CL_BASE_URL].s))
        return sl_nomem(c->ctx);
    struct sl_json *h = sl_json_get_mut(v, "headers");
    if (h && h->type != SL_JSON_NULL) {
        size_t old = sl_check_push(c, "headers");
        rc = check_scalar_map(c, h, "a mapping of header names to values");
        sl_check_pop(c, old);
        if (rc == SLUICE_OK)
            rc = sl_check_store_json(c, h, &cl->headers);
    }
    struct sl_json *a = sl_json_get_mut(v, "auth");
    if (rc == SLUICE_OK && a) {
        size_t old = sl_check_push(c, "auth");
        rc = parse_auth(c, a, &cl->auth);
        sl_check_pop(c, old);
    }
    struct sl_json *p = sl_json_get_mut(v, "paginator");
    if (rc == SLUICE_OK && p) {
        size_t old = sl_check_push(c, "paginator");
        rc = parse_pager(c, p, &cl->pager);
        sl_check_pop(c, old);
    }
    struct sl_json *s = sl_json_get_mut(v, "session");
    if (rc == SLUICE_OK && s && s->type != SL_JSON_NULL) {
        struct sl_check_value sv[8];
        size_t old = sl_check_push(c, "session");
        if (s->type != SL_JSON_OBJECT)
            rc = sl_check_type(c, s, "a mapping of request settings (timeout, max_attempts, "
                               "...)");
        else
            rc = sl_check_fields(c, s, session_fields, sv);
        sl_check_pop(c, old);
        if (rc == SLUICE_OK) {
            const struct sl_json *x;
            if ((x = sl_json_get(s, "timeout")))
                cl->timeout = sl_json_num(x);
            if (sv[1].present)
                cl->max_attempts = sv[1].i;
            if ((x = sl_json_get(s, "backoff_factor")))
                cl->backoff_factor = sl_json_num(x);
            if ((x = sl_json_get(s, "max_retry_delay")))
                cl->max_retry_delay = sl_json_num(x);
            if (sv[4].present)
                cl->respect_retry_after = sv[4].b;
            if ((x = sl_json_get(s, "requests_per_second")))
                cl->requests_per_second = sl_json_num(x);
            if (sv[6].present)
                cl->max_page_bytes = sv[6].i;
        }
    }
    if (rc == SLUICE_OK)
        rc = runtime_env(c, cl);
    return rc;
}

/* ============================================================================================
 * Merging a resource with resource_defaults
 * ========================================================================================== */

/* obj[key] = copy of v (replacing). */
static int put_copy(struct sl_json *obj, const char *key, const struct sl_json *v)
{
    struct sl_json t;
    if (sl_json_copy_into(&t, v)) {
        sl_json_clear(&t);
        return -1;
    }
    return sl_json_obj_set_take(obj, key, &t) ? 0 : -1;
}

/* An endpoint as a mapping: a string is {path: s}; NULL/absent is {}. */
static struct sl_json *endpoint_map(const struct sl_json *ep)
{
    struct sl_json *m = sl_json_new_object();
    if (!m || !ep)
        return m;
    if (ep->type == SL_JSON_STRING) {
        if (put_copy(m, "path", ep)) {
            sl_json_free(m);
            return NULL;
        }
        return m;
    }
    for (uint32_t i = 0; ep->type == SL_JSON_OBJECT && i < ep->len; i++)
        if (put_copy(m, ep->u.members[i].key, &ep->u.members[i].val)) {
            sl_json_free(m);
            return NULL;
        }
    return m;
}

/* into[k] = {**into[k], **from} for a mapping-valued key (params, json). */
static int merge_map(struct sl_json *into, const char *key, const struct sl_json *from)
{
    struct sl_json *cur = sl_json_get_mut(into, key);
    if (!cur || cur->type != SL_JSON_OBJECT || from->type != SL_JSON_OBJECT)
        return put_copy(into, key, from);
    for (uint32_t i = 0; i < from->len; i++)
        if (put_copy(cur, from->u.members[i].key, &from->u.members[i].val))
            return -1;
    cur->line = from->line;
    return 0;
}

/*
 * The resource merged with the defaults (dlt's _make_endpoint_resource and
 * _merge_resource_endpoints). res is the entry (string or mapping); *out a new heap tree.
 * Returns -1 when out of memory, 1 when the entry is neither a string nor a mapping, or the
 * defaults' endpoint is not a mapping (the caller reports it).
 */
static int merge_resource(const struct sl_json *defaults, const struct sl_json *res,
                          struct sl_json **out)
{
    *out = NULL;
    if (res->type != SL_JSON_STRING && res->type != SL_JSON_OBJECT)
        return 1;
    const struct sl_json *dep = defaults ? sl_json_get(defaults, "endpoint") : NULL;
    if (dep && dep->type != SL_JSON_OBJECT && dep->type != SL_JSON_NULL)
        return 1;
    struct sl_json *m = sl_json_new_object();
    struct sl_json *ep = NULL;
    if (!m)
        return -1;
    for (uint32_t i = 0; defaults && defaults->type == SL_JSON_OBJECT && i < defaults->len; i++)
        if (strcmp(defaults->u.members[i].key, "endpoint") != 0 &&
            put_copy(m, defaults->u.members[i].key, &defaults->u.members[i].val))
            goto oom;
    const struct sl_json *rep = NULL;
    const char *name = NULL;
    if (res->type == SL_JSON_STRING) {
        if (put_copy(m, "name", res))
            goto oom;
        rep = res;
        name = res->s;
    } else {
        const struct sl_json *dcols = defaults ? sl_json_get(defaults, "columns") : NULL;
        for (uint32_t i = 0; i < res->len; i++) {
            const struct sl_json_member *mm = &res->u.members[i];
            if (strcmp(mm->key, "endpoint") == 0)
                continue;
            if (strcmp(mm->key, "columns") == 0 && dcols && dcols->type == SL_JSON_OBJECT &&
                mm->val.type == SL_JSON_OBJECT) {
                /* merge_columns: hints merged per column */
                if (put_copy(m, "columns", dcols))
                    goto oom;
                struct sl_json *cols = sl_json_get_mut(m, "columns");
                for (uint32_t k = 0; k < mm->val.len; k++)
                    if (merge_map(cols, mm->val.u.members[k].key, &mm->val.u.members[k].val))
                        goto oom;
                continue;
            }
            if (put_copy(m, mm->key, &mm->val))
                goto oom;
        }
        rep = sl_json_get(res, "endpoint");
        name = sl_json_str(sl_json_get(res, "name"));
    }
    ep = endpoint_map(dep && dep->type == SL_JSON_OBJECT ? dep : NULL);
    struct sl_json *rmap = endpoint_map(rep);
    if (!ep || !rmap) {
        sl_json_free(rmap);
        goto oom;
    }
    if (!sl_json_get(rmap, "path") && name) {
        struct sl_json p;
        if (sl_json_set_str(&p, name, strlen(name)) || !sl_json_obj_set_take(rmap, "path", &p)) {
            sl_json_clear(&p); /* a partial string when set_str failed */
            sl_json_free(rmap);
            goto oom;
        }
    }
    for (uint32_t i = 0; i < rmap->len; i++) {
        const struct sl_json_member *mm = &rmap->u.members[i];
        int bad = (strcmp(mm->key, "params") == 0 || strcmp(mm->key, "json") == 0)
                      ? merge_map(ep, mm->key, &mm->val)
                      : put_copy(ep, mm->key, &mm->val);
        if (bad) {
            sl_json_free(rmap);
            goto oom;
        }
    }
    ep->line = rep && rep->line ? rep->line : res->line;
    sl_json_free(rmap);
    if (!sl_json_obj_set_take(m, "endpoint", ep))
        goto oom;
    sl_free(ep); /* contents moved */
    m->line = res->line;
    *out = m;
    return 0;
oom:
    sl_json_free(ep);
    sl_json_free(m);
    return -1;
}

/* ============================================================================================
 * Endpoint
 * ========================================================================================== */

static const char *const methods[] = { "GET", "POST", NULL };

static const struct sl_check_field endpoint_fields[] = {
    { "path", SL_CHECK_STR, NULL, 0, true, false },
    { "method", SL_CHECK_STR, NULL, 0, false, true },
    { "params", SL_CHECK_ANY, NULL, 0, false, true },
    { "json", SL_CHECK_ANY, NULL, 0, false, true },
    { "data", SL_CHECK_ANY, NULL, 0, false, true },
    { "paginator", SL_CHECK_ANY, NULL, 0, false, true },
    { "data_selector", SL_CHECK_STR, NULL, 0, false, true },
    { "response_actions", SL_CHECK_ANY, NULL, 0, false, true },
    { "incremental", SL_CHECK_ANY, NULL, 0, false, true },
    { "auth", SL_CHECK_ANY, NULL, 0, false, true },
    { "headers", SL_CHECK_ANY, NULL, 0, false, true },
    F_END
};

static const struct sl_check_field action_fields[] = {
    { "status_code", SL_CHECK_INT, NULL, 100, false, true },
    { "content", SL_CHECK_STR, NULL, 0, false, true },
    { "action", SL_CHECK_ANY, NULL, 0, true, false },
    F_END
};

static sluice_status parse_actions(struct sl_check *c, struct sl_json *v,
                                   struct sl_rest_resource *rr)
{
    if (v->type == SL_JSON_NULL)
        return SLUICE_OK;
    if (v->type != SL_JSON_ARRAY)
        return sl_check_type(c, v, "a list of {status_code, content, action: ignore}");
    rr->actions = sl_calloc(v->len ? v->len : 1, sizeof(*rr->actions));
    if (!rr->actions)
        return sl_nomem(c->ctx);
    sluice_status rc = SLUICE_OK;
    for (uint32_t i = 0; i < v->len && rc == SLUICE_OK; i++) {
        struct sl_json *a = &v->u.items[i];
        size_t old = sl_check_push_index(c, i);
        struct sl_check_value val[3];
        if (a->type == SL_JSON_STRING)
            rc = sl_check_err(c, a, "'%s' is not supported: a response action that is a "
                              "Python callable; write {status_code: ..., action: ignore}",
                              sl_check_rel(c));
        else if (a->type != SL_JSON_OBJECT)
            rc = sl_check_type(c, a, "a mapping {status_code, content, action}");
        if (rc == SLUICE_OK)
            rc = sl_check_fields(c, a, action_fields, val);
        const struct sl_json *act = rc == SLUICE_OK ? sl_json_get(a, "action") : NULL;
        if (rc == SLUICE_OK && (act->type != SL_JSON_STRING || strcmp(act->s, "ignore") != 0)) {
            size_t o = sl_check_push(c, "action");
            rc = sl_check_err(c, act, "'%s' must be 'ignore' (callables cannot be written in "
                              "a config)", sl_check_rel(c));
            sl_check_pop(c, o);
        }
        if (rc == SLUICE_OK && !val[0].present && !val[1].present)
            rc = sl_check_err(c, a, "'%s' needs status_code or content (or both)",
                              sl_check_rel(c));
        if (rc == SLUICE_OK) {
            struct sl_rest_action *ra = &rr->actions[rr->nactions];
            ra->has_status = val[0].present;
            ra->status = val[0].i;
            if (val[1].present && dup_to(&ra->content, val[1].s))
                rc = sl_nomem(c->ctx);
            rr->nactions++;
        }
        sl_check_pop(c, old);
    }
    return rc;
}

/* Keys of dlt's IncrementalRESTArgs that sluice's incremental does not take here. */
static sluice_status strip_rest_keys(struct sl_check *c, struct sl_json *inc, bool param)
{
    static const char *const callables[] = { "convert", "transform", NULL };
    for (size_t i = 0; callables[i]; i++) {
        const struct sl_json *x = sl_json_get(inc, callables[i]);
        if (x && x->type != SL_JSON_NULL)
            return refuse(c, x, callables[i], "it holds a Python callable");
        sl_json_obj_del(inc, callables[i]);
    }
    if (param) {
        const struct sl_json *ev = sl_json_get(inc, "end_value");
        const struct sl_json *ep = sl_json_get(inc, "end_param");
        if ((ev && ev->type != SL_JSON_NULL) || (ep && ep->type != SL_JSON_NULL))
            return sl_check_err(c, ev ? ev : ep, "'%s': only initial_value (and the start) "
                                "can be set in an incremental param; for end_value and "
                                "end_param use endpoint.incremental",
                                sl_check_rel(c));
        sl_json_obj_del(inc, "end_value");
        sl_json_obj_del(inc, "type");
    }
    return SLUICE_OK;
}

/* Take start_param/end_param out of endpoint.incremental. */
static sluice_status take_params(struct sl_check *c, struct sl_json *inc,
                                 struct sl_rest_resource *rr)
{
    static const char *const keys[] = { "start_param", "end_param" };
    char **slots[] = { &rr->start_param, &rr->end_param };
    for (size_t i = 0; i < 2; i++) {
        const struct sl_json *x = sl_json_get(inc, keys[i]);
        if (!x)
            continue;
        if (x->type != SL_JSON_NULL) {
            size_t old = sl_check_push(c, keys[i]);
            struct sl_check_value v;
            const struct sl_check_field f = { keys[i], SL_CHECK_STR, NULL, 0, false, false };
            sluice_status rc = sl_check_value(c, (struct sl_json *)x, &f, &v);
            sl_check_pop(c, old);
            if (rc != SLUICE_OK)
                return rc;
            if (dup_to(slots[i], v.s))
                return sl_nomem(c->ctx);
        }
        sl_json_obj_del(inc, keys[i]);
    }
    return SLUICE_OK;
}

/*
 * params: plain values stay (templates checked later); {type: resolve} become resolve
 * placeholders bound by the path; one {type: incremental} becomes the incremental (*inc, a
 * new heap tree) with its name as start_param.
 */
static sluice_status parse_params(struct sl_check *c, struct sl_json *params,
                                  struct sl_rest_resource *rr, const char *resource,
                                  char ***resolve_names, size_t *nresolve, struct sl_json **inc)
{
    sluice_status rc = SLUICE_OK;
    *inc = NULL;
    if (params->type != SL_JSON_OBJECT)
        return sl_check_type(c, params, "a mapping of query parameters");
    for (uint32_t i = 0; i < params->len && rc == SLUICE_OK;) {
        struct sl_json_member *m = &params->u.members[i];
        size_t old = sl_check_push(c, m->key);
        if (m->val.type != SL_JSON_OBJECT) {
            sl_check_pop(c, old);
            i++;
            continue;
        }
        const char *type = opt_str(&m->val, "type");
        if (!type || (strcmp(type, "resolve") != 0 && strcmp(type, "incremental") != 0)) {
            rc = sl_check_err(c, &m->val, "'%s' is a mapping, so its 'type' must be one of "
                              "incremental, resolve", sl_check_rel(c));
        } else if (strcmp(type, "resolve") == 0) {
            static const struct sl_check_field rf[] = {
                { "type", SL_CHECK_STR, NULL, 0, true, false },
                { "resource", SL_CHECK_STR, NULL, 0, true, false },
                { "field", SL_CHECK_STR, NULL, 0, true, false },
                F_END
            };
            struct sl_check_value val[3];
            rc = sl_check_fields(c, &m->val, rf, val);
            struct expr_scan s = { c, &m->val, NULL, 0, false, rr, resource, SLUICE_OK };
            if (rc == SLUICE_OK)
                rc = add_resolve(&s, m->key, val[1].s, strlen(val[1].s), val[2].s);
            if (rc == SLUICE_OK) {
                char **v = sl_realloc(*resolve_names, (*nresolve + 1) * sizeof(*v));
                if (!v) {
                    rc = sl_nomem(c->ctx);
                } else {
                    *resolve_names = v;
                    v[*nresolve] = sl_strdup(m->key);
                    if (!v[*nresolve])
                        rc = sl_nomem(c->ctx);
                    else
                        (*nresolve)++;
                }
            }
            if (rc == SLUICE_OK) {
                /* not a query param: bound in the path */
                char *key = sl_strdup(m->key);
                if (!key) {
                    rc = sl_nomem(c->ctx);
                } else {
                    sl_json_obj_del(params, key);
                    sl_free(key);
                }
                sl_check_pop(c, old);
                continue;
            }
        } else {
            if (*inc) {
                rc = sl_check_err(c, &m->val, "only one incremental param is allowed per "
                                  "endpoint");
            } else {
                *inc = sl_json_dup(&m->val);
                if (!*inc)
                    rc = sl_nomem(c->ctx);
                if (rc == SLUICE_OK)
                    rc = strip_rest_keys(c, *inc, true);
                if (rc == SLUICE_OK && dup_to(&rr->start_param, m->key))
                    rc = sl_nomem(c->ctx);
                if (rc == SLUICE_OK) {
                    char *key = sl_strdup(m->key);
                    if (!key) {
                        rc = sl_nomem(c->ctx);
                    } else {
                        sl_json_obj_del(params, key);
                        sl_free(key);
                    }
                    sl_check_pop(c, old);
                    continue;
                }
            }
        }
        sl_check_pop(c, old);
        i++;
    }
    return rc;
}

/* dlt's single_entity_path: the last path segment holds a {placeholder}. */
static bool single_entity(const char *path)
{
    size_t n = strlen(path);
    while (n > 0 && path[n - 1] == '/')
        n--;
    size_t s = n;
    while (s > 0 && path[s - 1] != '/')
        s--;
    for (size_t i = s; i < n; i++) {
        if (path[i] != '{')
            continue;
        size_t j = i + 1;
        while (j < n && (isalnum((unsigned char)path[j]) || path[j] == '.' || path[j] == '-' ||
                         path[j] == '_'))
            j++;
        if (j > i + 1 && j < n && path[j] == '}')
            return true;
    }
    return false;
}

/* dlt's _bind_path_params: {name} of a plain param is replaced by its value now. */
static sluice_status bind_path(struct sl_check *c, const struct sl_json *at,
                               struct sl_rest_resource *rr, const char *resource,
                               char **resolve_names, size_t nresolve)
{
    struct sl_buf out, lit;
    sl_buf_init(&out, 0);
    sl_buf_init(&lit, 0);
    bool *bound = sl_calloc(nresolve ? nresolve : 1, sizeof(*bound));
    sluice_status rc = bound ? SLUICE_OK : sl_nomem(c->ctx);
    size_t i = 0;
    const char *why = NULL;
    const char *path = rr->path;
    while (rc == SLUICE_OK) {
        const char *name = NULL;
        size_t n = 0;
        sl_buf_reset(&lit);
        int r = sl_tmpl_next(path, &i, &lit, &name, &n, &why);
        if (r == -2 || put_literal(&out, lit.data ? lit.data : "", lit.len)) {
            rc = sl_nomem(c->ctx);
            break;
        }
        if (r == -1) {
            rc = sl_check_err(c, at, "'%s': malformed placeholder: %s", sl_check_rel(c), why);
            break;
        }
        if (r == 0)
            break;
        char *key = sl_strndup(name, n);
        if (!key) {
            rc = sl_nomem(c->ctx);
            break;
        }
        size_t k = 0;
        while (k < nresolve && strcmp(resolve_names[k], key) != 0)
            k++;
        bool context = strncmp(key, "resources.", 10) == 0 ||
                       (rr->has_incremental && strncmp(key, "incremental.", 12) == 0);
        const struct sl_json *pv = rr->params ? sl_json_get(rr->params, key) : NULL;
        if (context || k < nresolve) {
            if (k < nresolve)
                bound[k] = true;
            if (sl_buf_putc(&out, '{') || sl_buf_append(&out, name, n) || sl_buf_putc(&out, '}'))
                rc = sl_nomem(c->ctx);
        } else if (!pv) {
            if (!strchr(key, '.'))
                rc = sl_check_err(c, at, "the path of resource '%s' requires a param named "
                                  "'%s', but it is not in 'endpoint.params'", resource, key);
            else
                rc = sl_check_err(c, at, "the path of resource '%s' has a placeholder '{%s}' "
                                  "that is not a valid name (valid: resources.<parent>.<field>%s)",
                                  resource, key,
                                  rr->has_incremental ? ", incremental.<value>" : "");
        } else if (pv->type == SL_JSON_OBJECT) {
            rc = sl_check_err(c, at, "the path of resource '%s' binds param '%s', which is an "
                              "incremental: a path can only bind resolve params", resource, key);
        } else {
            struct sl_buf v;
            sl_buf_init(&v, 0);
            if (sl_pystr(&v, pv) || put_literal(&out, v.data, v.len))
                rc = sl_nomem(c->ctx);
            sl_buf_cleanup(&v);
            sl_json_obj_del(rr->params, key);
        }
        sl_free(key);
    }
    for (size_t k = 0; rc == SLUICE_OK && k < nresolve; k++)
        if (!bound[k])
            rc = sl_check_err(c, at, "resource '%s' defines resolve param '%s' that is not bound "
                              "in its path; to refer to a parent in query params write "
                              "{resources.<parent>.<field>}",
                              resource, resolve_names[k]);
    if (rc == SLUICE_OK) {
        char *np = out.data ? sl_buf_take(&out) : sl_strdup("");
        if (!np) {
            rc = sl_nomem(c->ctx);
        } else {
            sl_free(rr->path);
            rr->path = np;
        }
    }
    sl_free(bound);
    sl_buf_cleanup(&out);
    sl_buf_cleanup(&lit);
    return rc;
}

static sluice_status parse_endpoint(struct sl_check *c, struct sl_json *ep,
                                    struct sl_resource_cfg *r, const char *resource)
{
    struct sl_rest_resource *rr = r->rest;
    struct sl_check_value val[11];
    char **resolve_names = NULL;
    size_t nresolve = 0;
    struct sl_json *inc = NULL;
    size_t old = sl_check_push(c, "endpoint");
    sluice_status rc = SLUICE_OK;
    if (ep->type != SL_JSON_OBJECT) {
        rc = sl_check_type(c, ep, "a path or a mapping with 'path'");
        goto done;
    }
    rc = sl_check_fields(c, ep, endpoint_fields, val);
    if (rc != SLUICE_OK)
        goto done;
    if (dup_to(&rr->path, val[0].s)) {
        rc = sl_nomem(c->ctx);
        goto done;
    }
    /* method */
    const char *m = val[1].present ? val[1].s : "GET";
    char up[8];
    size_t ml = strlen(m);
    for (size_t i = 0; i < ml && i < sizeof(up) - 1; i++)
        up[i] = (char)toupper((unsigned char)m[i]);
    up[ml < sizeof(up) - 1 ? ml : sizeof(up) - 1] = '\0';
    if (ml >= sizeof(up) || sl_cfg_list_index(up, methods) < 0) {
        size_t o = sl_check_push(c, "method");
        rc = sl_check_err(c, sl_json_get(ep, "method"), "'%s' must be GET or POST",
                          sl_check_rel(c));
        sl_check_pop(c, o);
        goto done;
    }
    if (dup_to(&rr->method, up)) {
        rc = sl_nomem(c->ctx);
        goto done;
    }
    /* incremental */
    struct sl_json *ei = sl_json_get_mut(ep, "incremental");
    rr->has_incremental = ei && ei->type != SL_JSON_NULL;
    /* params */
    struct sl_json *params = sl_json_get_mut(ep, "params");
    if (params && params->type != SL_JSON_NULL) {
        size_t o = sl_check_push(c, "params");
        rr->params = sl_json_dup(params);
        rc = rr->params ? parse_params(c, rr->params, rr, resource, &resolve_names, &nresolve,
                                       &inc)
                        : sl_nomem(c->ctx);
        sl_check_pop(c, o);
        if (rc != SLUICE_OK)
            goto done;
    }
    if (inc && rr->has_incremental) {
        rc = sl_check_err(c, ei, "'%s': the endpoint has an incremental param already; use "
                          "one of the two", sl_check_rel(c));
        goto done;
    }
    if (rr->has_incremental) {
        size_t o = sl_check_push(c, "incremental");
        if (ei->type != SL_JSON_OBJECT) {
            rc = sl_check_type(c, ei, "a mapping (cursor_path, initial_value, ...)");
        } else {
            inc = sl_json_dup(ei);
            rc = inc ? strip_rest_keys(c, inc, false) : sl_nomem(c->ctx);
            if (rc == SLUICE_OK)
                rc = take_params(c, inc, rr);
        }
        sl_check_pop(c, o);
        if (rc != SLUICE_OK)
            goto done;
    }
    if (inc) {
        /* checked exactly like any resource's incremental */
        rc = sl_cfg_set_resource_key(c, r, "incremental", inc);
        if (rc != SLUICE_OK)
            goto done;
    }
    /* paginator, selector, auth, headers, json, data, actions */
    struct sl_json *pg = sl_json_get_mut(ep, "paginator");
    if (pg) {
        size_t o = sl_check_push(c, "paginator");
        rc = parse_pager(c, pg, &rr->pager);
        sl_check_pop(c, o);
        if (rc != SLUICE_OK)
            goto done;
    }
    if (val[6].present) {
        size_t o = sl_check_push(c, "data_selector");
        rc = check_jsonpath(c, sl_json_get(ep, "data_selector"), val[6].s);
        sl_check_pop(c, o);
        if (rc == SLUICE_OK && dup_to(&rr->data_selector, val[6].s))
            rc = sl_nomem(c->ctx);
        if (rc != SLUICE_OK)
            goto done;
    }
    struct sl_json *au = sl_json_get_mut(ep, "auth");
    if (au) {
        size_t o = sl_check_push(c, "auth");
        rc = parse_auth(c, au, &rr->auth);
        sl_check_pop(c, o);
        if (rc != SLUICE_OK)
            goto done;
    }
    struct sl_json *h = sl_json_get_mut(ep, "headers");
    if (h && h->type != SL_JSON_NULL) {
        size_t o = sl_check_push(c, "headers");
        rc = check_scalar_map(c, h, "a mapping of header names to values");
        sl_check_pop(c, o);
        if (rc == SLUICE_OK)
            rc = sl_check_store_json(c, h, &rr->headers);
        if (rc != SLUICE_OK)
            goto done;
    }
    struct sl_json *js = sl_json_get_mut(ep, "json");
    if (js && js->type != SL_JSON_NULL) {
        if (js->type != SL_JSON_OBJECT) {
            size_t o = sl_check_push(c, "json");
            rc = sl_check_type(c, js, "a mapping (the JSON body)");
            sl_check_pop(c, o);
            goto done;
        }
        rc = sl_check_store_json(c, js, &rr->json);
        if (rc != SLUICE_OK)
            goto done;
    }
    struct sl_json *da = sl_json_get_mut(ep, "data");
    if (da && da->type != SL_JSON_NULL) {
        if (da->type != SL_JSON_OBJECT && da->type != SL_JSON_STRING) {
            size_t o = sl_check_push(c, "data");
            rc = sl_check_type(c, da, "a mapping (form fields) or a string (the raw body)");
            sl_check_pop(c, o);
            goto done;
        }
        if (rr->json && rr->json->len > 0 && da->len > 0) {
            rc = sl_check_err(c, da, "'%s': 'json' and 'data' cannot both be set",
                              sl_check_rel(c));
            goto done;
        }
        rc = sl_check_store_json(c, da, &rr->data);
        if (rc != SLUICE_OK)
            goto done;
    }
    struct sl_json *ra = sl_json_get_mut(ep, "response_actions");
    if (ra) {
        size_t o = sl_check_push(c, "response_actions");
        rc = parse_actions(c, ra, rr);
        sl_check_pop(c, o);
        if (rc != SLUICE_OK)
            goto done;
    }
    /* single entity, path params, expressions */
    if (single_entity(rr->path)) {
        if (!rr->data_selector && dup_to(&rr->data_selector, "$")) {
            rc = sl_nomem(c->ctx);
            goto done;
        }
        if (!rr->pager) {
            rr->pager = sl_calloc(1, sizeof(*rr->pager));
            if (!rr->pager || sl_rest_pager_defaults(rr->pager, SL_PAGER_SINGLE_PAGE)) {
                rc = sl_nomem(c->ctx);
                goto done;
            }
        }
    }
    {
        size_t o = sl_check_push(c, "path");
        rc = bind_path(c, sl_json_get(ep, "path"), rr, resource, resolve_names, nresolve);
        sl_check_pop(c, o);
        if (rc != SLUICE_OK)
            goto done;
    }
    struct expr_scan s = { c, ep, resolve_names, nresolve, rr->has_incremental, rr, resource,
                           SLUICE_OK };
    {
        size_t o = sl_check_push(c, "path");
        rc = scan_str(&s, sl_json_get(ep, "path"), rr->path);
        sl_check_pop(c, o);
        if (rc != SLUICE_OK)
            goto done;
        s.nplain = 0; /* legacy names are path-only */
    }
    const char *parts[] = { "params", "json", "data", "headers" };
    const struct sl_json *trees[] = { rr->params, rr->json, rr->data, rr->headers };
    for (size_t i = 0; i < 4 && rc == SLUICE_OK; i++) {
        if (!trees[i])
            continue;
        size_t o = sl_check_push(c, parts[i]);
        rc = scan_tree(&s, trees[i]);
        sl_check_pop(c, o);
    }
done:
    sl_strv_free(resolve_names, nresolve);
    sl_json_free(inc);
    sl_check_pop(c, old);
    return rc;
}

/* ============================================================================================
 * Resources
 * ========================================================================================== */

static const char *const resource_keys[] = {
    "name",        "endpoint",    "include_from_parent", "selected",          "parallelized",
    "max_table_nesting", "table_name", "write_disposition", "primary_key",   "merge_key",
    "columns",     "processing_steps", "nested_hints", "parent_table_name", "schema_contract",
    "table_format", "file_format", "references", NULL
};
/* keys handed to resource_keys.c as they are */
static const char *const hint_keys[] = { "selected", "max_table_nesting", "table_name",
                                         "write_disposition", "primary_key", "merge_key",
                                         "columns", NULL };

static sluice_status parse_resource(struct sl_check *c, struct sl_json *m,
                                    const struct sl_rest_client_cfg *client,
                                    struct sl_resource_cfg *r, const char *source,
                                    int64_t nesting, int root_key)
{
    sluice_status rc = SLUICE_OK;
    for (uint32_t i = 0; i < m->len && rc == SLUICE_OK; i++) {
        const char *k = m->u.members[i].key;
        long idx = sl_cfg_list_index(k, resource_keys);
        if (idx < 0)
            return sl_check_unknown(c, &m->u.members[i].val, k, resource_keys);
        if (idx == 11)
            return refuse(c, &m->u.members[i].val, k, "processing steps are Python callables");
        if (idx > 11)
            return refuse(c, &m->u.members[i].val, k, "sluice has no such table hint");
    }
    const struct sl_json *nm = sl_json_get(m, "name");
    if (!nm)
        return sl_check_missing(c, m, "name");
    if (nm->type != SL_JSON_STRING || nm->len == 0 || memchr(nm->s, '\0', nm->len)) {
        size_t o = sl_check_push(c, "name");
        rc = sl_check_type(c, nm, "a non-empty string");
        sl_check_pop(c, o);
        return rc;
    }
    if (sl_resource_cfg_init(r, source, nm->s))
        return sl_nomem(c->ctx);
    r->from = SL_FROM_REST;
    r->rest = sl_calloc(1, sizeof(*r->rest));
    if (!r->rest)
        return sl_nomem(c->ctx);
    sl_rest_resource_init(r->rest);
    if (sl_rest_client_copy(&r->rest->client, client))
        return sl_nomem(c->ctx);
    for (uint32_t i = 0; i < m->len && rc == SLUICE_OK; i++)
        if (sl_cfg_in_list(m->u.members[i].key, hint_keys))
            rc = sl_cfg_set_resource_key(c, r, m->u.members[i].key, &m->u.members[i].val);
    const struct sl_json *par = sl_json_get(m, "parallelized");
    if (rc == SLUICE_OK && par) {
        const struct sl_check_field f = { "parallelized", SL_CHECK_BOOL, NULL, 0, false, true };
        struct sl_check_value v;
        rc = sl_check_child(c, m, &f, &v);
        r->rest->parallelized = v.present && v.b;
    }
    struct sl_json *ifp = sl_json_get_mut(m, "include_from_parent");
    if (rc == SLUICE_OK && ifp && ifp->type != SL_JSON_NULL) {
        size_t o = sl_check_push(c, "include_from_parent");
        if (ifp->type != SL_JSON_ARRAY)
            rc = sl_check_type(c, ifp, "a list of field names");
        else
            rc = sl_check_keylist(c, ifp, &r->rest->include_from_parent, &r->rest->ninclude);
        sl_check_pop(c, o);
    }
    if (rc == SLUICE_OK)
        rc = parse_endpoint(c, sl_json_get_mut(m, "endpoint"), r, nm->s);
    if (rc == SLUICE_OK && r->rest->ninclude && !r->rest->parent)
        rc = sl_check_err(c, ifp, "resource '%s' has 'include_from_parent' but does not depend "
                          "on another resource", nm->s);
    if (rc == SLUICE_OK && r->max_table_nesting < 0)
        r->max_table_nesting = nesting;
    r->root_key = root_key;
    return rc;
}

size_t sl_cfg_rest_api_count(const struct sl_json *rest_api)
{
    const struct sl_json *res = rest_api ? sl_json_get(rest_api, "resources") : NULL;
    return res && res->type == SL_JSON_ARRAY ? res->len : 0;
}

static const struct sl_check_field rest_fields[] = {
    { "client", SL_CHECK_ANY, NULL, 0, true, false },
    { "resource_defaults", SL_CHECK_ANY, NULL, 0, false, true },
    { "resources", SL_CHECK_ANY, NULL, 0, true, false },
    F_END
};

static const char *const default_keys[] = {
    "endpoint",    "include_from_parent", "selected",          "parallelized",
    "max_table_nesting", "table_name", "write_disposition", "primary_key",   "merge_key",
    "columns",     "processing_steps", "nested_hints", "parent_table_name", "schema_contract",
    "table_format", "file_format", "references", NULL
};

/* Every resource masks the auth secrets of all (a key of one may be a param of another). */
static sluice_status share_secrets(struct sl_check *c, struct sl_resource_cfg *tmp, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < n; k++) {
            const struct sl_rest_auth *as[] = { tmp[k].rest->client.auth, tmp[k].rest->auth };
            for (size_t a = 0; a < 2; a++) {
                if (!as[a])
                    continue;
                const char *s[] = { as[a]->token, as[a]->api_key, as[a]->password,
                                    as[a]->client_id, as[a]->client_secret };
                for (size_t j = 0; j < sizeof(s) / sizeof(s[0]); j++) {
                    struct sl_rest_resource *rr = tmp[i].rest;
                    if (!s[j])
                        continue;
                    char **v = sl_realloc(rr->secrets, (rr->nsecrets + 1) * sizeof(*v));
                    if (!v)
                        return sl_nomem(c->ctx);
                    rr->secrets = v;
                    v[rr->nsecrets] = sl_strdup(s[j]);
                    if (!v[rr->nsecrets])
                        return sl_nomem(c->ctx);
                    rr->nsecrets++;
                }
            }
        }
    }
    return SLUICE_OK;
}

/* Order: dlt's graphlib static_order over (resource, parent) edges, ties in config order. */
static sluice_status order(struct sl_check *c, const struct sl_json *list,
                           struct sl_resource_cfg *tmp, size_t n, size_t *out)
{
    long *parent = sl_calloc(n ? n : 1, sizeof(*parent));
    size_t *nodes = sl_calloc(n ? n : 1, sizeof(*nodes)); /* graphlib's insertion order */
    bool *seen = sl_calloc(n ? n : 1, sizeof(*seen));
    bool *done = sl_calloc(n ? n : 1, sizeof(*done));
    sluice_status rc = SLUICE_OK;
    size_t nn = 0, no = 0;
    if (!parent || !nodes || !seen || !done) {
        rc = sl_nomem(c->ctx);
        goto out_free;
    }
    for (size_t i = 0; i < n && rc == SLUICE_OK; i++) {
        parent[i] = -1;
        const char *pn = tmp[i].rest->parent;
        if (pn) {
            for (size_t k = 0; k < n; k++)
                if (strcmp(tmp[k].name, pn) == 0)
                    parent[i] = (long)k;
            if (parent[i] < 0) {
                size_t o = sl_check_push_index(c, i);
                rc = sl_check_err(c, &list->u.items[i], "resource '%s' refers to a parent "
                                  "resource '%s' that is not defined", tmp[i].name, pn);
                sl_check_pop(c, o);
                break;
            }
        }
        if (!seen[i]) {
            seen[i] = true;
            nodes[nn++] = i;
        }
        if (parent[i] >= 0 && !seen[parent[i]]) {
            seen[parent[i]] = true;
            nodes[nn++] = (size_t)parent[i];
        }
    }
    /* batches of ready nodes, each in insertion / becoming-ready order */
    size_t *ready = sl_calloc(n ? n : 1, sizeof(*ready));
    size_t nready = 0;
    if (rc == SLUICE_OK && !ready)
        rc = sl_nomem(c->ctx);
    for (size_t k = 0; rc == SLUICE_OK && k < nn; k++)
        if (parent[nodes[k]] < 0)
            ready[nready++] = nodes[k];
    while (rc == SLUICE_OK && nready > 0) {
        size_t batch[1024];
        size_t nb = 0;
        size_t *b = nready <= 1024 ? batch : NULL;
        if (!b) {
            b = sl_calloc(nready, sizeof(*b));
            if (!b) {
                rc = sl_nomem(c->ctx);
                break;
            }
        }
        memcpy(b, ready, nready * sizeof(*b));
        nb = nready;
        nready = 0;
        for (size_t j = 0; j < nb; j++) {
            out[no++] = b[j];
            done[b[j]] = true;
            for (size_t k = 0; k < nn; k++)
                if (parent[nodes[k]] == (long)b[j])
                    ready[nready++] = nodes[k];
        }
        if (b != batch)
            sl_free(b);
    }
    sl_free(ready);
    if (rc == SLUICE_OK && no < n) {
        size_t i = 0;
        while (i < n && done[i])
            i++;
        size_t o = sl_check_push_index(c, i);
        rc = sl_check_err(c, &list->u.items[i], "resource '%s' depends on itself through its "
                          "parents", tmp[i].name);
        sl_check_pop(c, o);
    }
out_free:
    sl_free(parent);
    sl_free(nodes);
    sl_free(seen);
    sl_free(done);
    return rc;
}

sluice_status sl_cfg_rest_api(struct sl_check *c, struct sl_pipeline_cfg *cfg,
                              const char *source, struct sl_json *rest, size_t total,
                              int64_t nesting, int root_key)
{
    struct sl_rest_client_cfg client;
    struct sl_resource_cfg *tmp = NULL;
    size_t *ord = NULL;
    size_t n = 0, made = 0;
    size_t old = sl_check_push(c, "rest_api");
    size_t old_rel = c->rel;
    c->rel = c->plen + 1;
    memset(&client, 0, sizeof(client));
    sluice_status rc = SLUICE_OK;
    if (rest->type != SL_JSON_OBJECT) {
        rc = sl_check_type(c, rest, "a mapping with 'client' and 'resources'");
        goto done;
    }
    rc = sl_check_fields(c, rest, rest_fields, NULL);
    if (rc != SLUICE_OK)
        goto done;
    struct sl_rest_resource proto;
    sl_rest_resource_init(&proto);
    client = proto.client; /* the session defaults */
    {
        size_t o = sl_check_push(c, "client");
        rc = parse_client(c, sl_json_get_mut(rest, "client"), &client);
        sl_check_pop(c, o);
        if (rc != SLUICE_OK)
            goto done;
    }
    struct sl_json *defaults = sl_json_get_mut(rest, "resource_defaults");
    if (defaults && defaults->type == SL_JSON_NULL)
        defaults = NULL;
    if (defaults) {
        size_t o = sl_check_push(c, "resource_defaults");
        if (defaults->type != SL_JSON_OBJECT)
            rc = sl_check_type(c, defaults, "a mapping of resource settings");
        for (uint32_t i = 0; rc == SLUICE_OK && i < defaults->len; i++)
            if (!sl_cfg_in_list(defaults->u.members[i].key, default_keys))
                rc = sl_check_unknown(c, &defaults->u.members[i].val, defaults->u.members[i].key,
                                      default_keys);
        const struct sl_json *dep = rc == SLUICE_OK ? sl_json_get(defaults, "endpoint") : NULL;
        if (dep && dep->type != SL_JSON_OBJECT && dep->type != SL_JSON_NULL) {
            size_t o2 = sl_check_push(c, "endpoint");
            rc = sl_check_type(c, dep, "a mapping of endpoint settings");
            sl_check_pop(c, o2);
        }
        sl_check_pop(c, o);
        if (rc != SLUICE_OK)
            goto done;
    }
    struct sl_json *list = sl_json_get_mut(rest, "resources");
    size_t lo = sl_check_push(c, "resources");
    if (list->type != SL_JSON_ARRAY) {
        rc = sl_check_type(c, list, "a list of resources (names or mappings)");
        sl_check_pop(c, lo);
        goto done;
    }
    n = list->len;
    SL_ASSERT(cfg->nres + n <= total);
    tmp = sl_calloc(n ? n : 1, sizeof(*tmp));
    ord = sl_calloc(n ? n : 1, sizeof(*ord));
    if (!tmp || !ord) {
        rc = sl_nomem(c->ctx);
        sl_check_pop(c, lo);
        goto done;
    }
    for (size_t i = 0; i < n && rc == SLUICE_OK; i++) {
        size_t o = sl_check_push_index(c, i);
        size_t rel = c->rel;
        c->rel = c->plen + 1;
        struct sl_json *merged = NULL;
        int mr = merge_resource(defaults, &list->u.items[i], &merged);
        if (mr < 0)
            rc = sl_nomem(c->ctx);
        else if (mr > 0)
            rc = sl_check_err(c, &list->u.items[i], "'%s' must be a resource name or a mapping "
                              "with 'name'", c->path);
        if (rc == SLUICE_OK) {
            made = i + 1;
            rc = parse_resource(c, merged, &client, &tmp[i], source, nesting, root_key);
        }
        for (size_t k = 0; rc == SLUICE_OK && k < i; k++)
            if (strcmp(tmp[k].name, tmp[i].name) == 0)
                rc = sl_check_err(c, &list->u.items[i], "resource '%s' is already defined",
                                  tmp[i].name);
        for (size_t k = 0; rc == SLUICE_OK && k < cfg->nres; k++)
            if (strcmp(cfg->resources[k].name, tmp[i].name) == 0 &&
                strcmp(cfg->resources[k].source, source) == 0)
                rc = sl_check_err(c, &list->u.items[i], "resource '%s' is already defined",
                                  tmp[i].name);
        sl_json_free(merged);
        c->rel = rel;
        sl_check_pop(c, o);
    }
    if (rc == SLUICE_OK)
        rc = share_secrets(c, tmp, n);
    if (rc == SLUICE_OK)
        rc = order(c, list, tmp, n, ord);
    sl_check_pop(c, lo);
    if (rc != SLUICE_OK)
        goto done;
    for (size_t i = 0; i < n; i++) {
        cfg->resources[cfg->nres++] = tmp[ord[i]];
        memset(&tmp[ord[i]], 0, sizeof(tmp[ord[i]]));
    }
    made = 0;
done:
    for (size_t i = 0; i < made; i++)
        sl_resource_cfg_cleanup(&tmp[i]);
    sl_free(tmp);
    sl_free(ord);
    sl_rest_client_cleanup(&client);
    c->rel = old_rel;
    sl_check_pop(c, old);
    return rc;
}
