/*
 * rest.c — lifetime of the REST resource config structs (see rest.h): defaults, deep copies
 * (each resource owns its client settings) and freeing with secrets wiped.
 */
#include "model/rest.h"

#include <string.h>

#include "base/alloc.h"

void sl_rest_auth_free(struct sl_rest_auth *a)
{
    if (!a)
        return;
    sl_free_secret(a->token);
    sl_free_secret(a->api_key);
    sl_free(a->key_name);
    sl_free(a->username);
    sl_free_secret(a->password);
    sl_free(a->token_url);
    sl_free_secret(a->client_id);
    sl_free_secret(a->client_secret);
    sl_json_free(a->token_request_data);
    sl_free(a);
}

static int dup_str(char **dst, const char *src)
{
    *dst = NULL;
    if (!src)
        return 0;
    *dst = sl_strdup(src);
    return *dst ? 0 : -1;
}

static int dup_json(struct sl_json **dst, const struct sl_json *src)
{
    *dst = NULL;
    if (!src)
        return 0;
    *dst = sl_json_dup(src);
    return *dst ? 0 : -1;
}

struct sl_rest_auth *sl_rest_auth_dup(const struct sl_rest_auth *a)
{
    if (!a)
        return NULL;
    struct sl_rest_auth *d = sl_calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->kind = a->kind;
    d->key_in_query = a->key_in_query;
    d->default_token_expiration = a->default_token_expiration;
    int bad = dup_str(&d->token, a->token) | dup_str(&d->api_key, a->api_key) |
              dup_str(&d->key_name, a->key_name) | dup_str(&d->username, a->username) |
              dup_str(&d->password, a->password) | dup_str(&d->token_url, a->token_url) |
              dup_str(&d->client_id, a->client_id) |
              dup_str(&d->client_secret, a->client_secret) |
              dup_json(&d->token_request_data, a->token_request_data);
    if (bad) {
        sl_rest_auth_free(d);
        return NULL;
    }
    return d;
}

void sl_rest_pager_free(struct sl_rest_pager_cfg *p)
{
    if (!p)
        return;
    sl_free(p->next_url_path);
    sl_free(p->links_next_key);
    sl_free(p->cursor_key);
    sl_free(p->cursor_path);
    sl_free(p->cursor_param);
    sl_free(p->cursor_body_path);
    sl_free(p->param);
    sl_free(p->param_body_path);
    sl_free(p->limit_param);
    sl_free(p->limit_body_path);
    sl_free(p->total_path);
    sl_free(p->has_more_path);
    sl_free(p);
}

struct sl_rest_pager_cfg *sl_rest_pager_dup(const struct sl_rest_pager_cfg *p)
{
    if (!p)
        return NULL;
    struct sl_rest_pager_cfg *d = sl_calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    *d = *p;
    int bad = dup_str(&d->next_url_path, p->next_url_path) |
              dup_str(&d->links_next_key, p->links_next_key) |
              dup_str(&d->cursor_key, p->cursor_key) | dup_str(&d->cursor_path, p->cursor_path) |
              dup_str(&d->cursor_param, p->cursor_param) |
              dup_str(&d->cursor_body_path, p->cursor_body_path) |
              dup_str(&d->param, p->param) | dup_str(&d->param_body_path, p->param_body_path) |
              dup_str(&d->limit_param, p->limit_param) |
              dup_str(&d->limit_body_path, p->limit_body_path) |
              dup_str(&d->total_path, p->total_path) |
              dup_str(&d->has_more_path, p->has_more_path);
    if (bad) {
        sl_rest_pager_free(d);
        return NULL;
    }
    return d;
}

int sl_rest_pager_defaults(struct sl_rest_pager_cfg *p, enum sl_rest_pager_kind kind)
{
    memset(p, 0, sizeof(*p));
    p->kind = kind;
    int bad = 0;
    switch (kind) {
    case SL_PAGER_JSON_LINK:
        bad = dup_str(&p->next_url_path, "next");
        break;
    case SL_PAGER_HEADER_LINK:
        bad = dup_str(&p->links_next_key, "next");
        break;
    case SL_PAGER_HEADER_CURSOR:
        bad = dup_str(&p->cursor_key, "next") | dup_str(&p->cursor_param, "cursor");
        break;
    case SL_PAGER_CURSOR:
        bad = dup_str(&p->cursor_path, "cursors.next");
        break;
    case SL_PAGER_OFFSET:
    case SL_PAGER_PAGE_NUMBER:
        bad = dup_str(&p->total_path, "total");
        p->stop_after_empty_page = true;
        break;
    case SL_PAGER_AUTO:
    case SL_PAGER_SINGLE_PAGE:
        break;
    }
    return bad ? -1 : 0;
}

static void client_defaults(struct sl_rest_client_cfg *c)
{
    memset(c, 0, sizeof(*c));
    c->timeout = 60;
    c->max_attempts = 5;
    c->backoff_factor = 1;
    c->max_retry_delay = 300;
    c->respect_retry_after = true;
    c->max_page_bytes = (int64_t)512 << 20;
}

void sl_rest_client_cleanup(struct sl_rest_client_cfg *c)
{
    sl_free(c->base_url);
    sl_json_free(c->headers);
    sl_rest_auth_free(c->auth);
    sl_rest_pager_free(c->pager);
    client_defaults(c);
}

int sl_rest_client_copy(struct sl_rest_client_cfg *dst, const struct sl_rest_client_cfg *src)
{
    sl_rest_client_cleanup(dst);
    *dst = *src;
    dst->base_url = NULL;
    dst->headers = NULL;
    dst->auth = NULL;
    dst->pager = NULL;
    if (dup_str(&dst->base_url, src->base_url) || dup_json(&dst->headers, src->headers))
        return -1;
    dst->auth = sl_rest_auth_dup(src->auth);
    dst->pager = sl_rest_pager_dup(src->pager);
    if ((src->auth && !dst->auth) || (src->pager && !dst->pager))
        return -1;
    return 0;
}

void sl_rest_resource_init(struct sl_rest_resource *r)
{
    memset(r, 0, sizeof(*r));
    client_defaults(&r->client);
}

void sl_rest_resource_free(struct sl_rest_resource *r)
{
    if (!r)
        return;
    sl_rest_client_cleanup(&r->client);
    sl_free(r->path);
    sl_free(r->method);
    sl_json_free(r->params);
    sl_json_free(r->headers);
    sl_json_free(r->json);
    sl_json_free(r->data);
    sl_rest_pager_free(r->pager);
    sl_free(r->data_selector);
    for (size_t i = 0; i < r->nactions; i++)
        sl_free(r->actions[i].content);
    sl_free(r->actions);
    sl_rest_auth_free(r->auth);
    sl_free(r->start_param);
    sl_free(r->end_param);
    sl_free(r->parent);
    for (size_t i = 0; i < r->nresolves; i++) {
        sl_free(r->resolves[i].placeholder);
        sl_free(r->resolves[i].field);
    }
    sl_free(r->resolves);
    sl_strv_free(r->include_from_parent, r->ninclude);
    for (size_t i = 0; i < r->nsecrets; i++)
        sl_free_secret(r->secrets[i]);
    sl_free(r->secrets);
    sl_free(r);
}
