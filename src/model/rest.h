/*
 * rest.h — a resource of a declarative REST API source as configured: dlt's rest_api config
 * (client, resource_defaults, resources) after validation, one struct per resource.
 *
 * Plain data, like resource.h: the config loader fills it (defaults merged, parents resolved,
 * path params bound, the incremental moved into the resource's `incremental`), the REST
 * source (sources/rest_api.c) runs it. Each resource holds its own copy of the client
 * settings, as dlt builds one RESTClient per resource. Templates (path, params, headers,
 * json, data) keep their {placeholders} as written; they are expanded per run or per parent
 * item. Strings marked secret are wiped when freed and never written into a message.
 */
#ifndef SLUICE_REST_H
#define SLUICE_REST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/json.h"

enum sl_rest_auth_kind {
    SL_REST_AUTH_NONE = 0,
    SL_REST_AUTH_BEARER,      /* Authorization: Bearer <token> */
    SL_REST_AUTH_API_KEY,     /* <name>: <api_key> in a header, or ?<name>=<api_key> */
    SL_REST_AUTH_BASIC,       /* Authorization: Basic base64(username:password) */
    SL_REST_AUTH_OAUTH2_CC    /* OAuth2 client credentials: token fetched, refreshed */
};

struct sl_rest_auth {
    enum sl_rest_auth_kind kind;
    char *token;              /* bearer (secret) */
    char *api_key;            /* secret */
    char *key_name;           /* default "Authorization" */
    bool key_in_query;        /* location query/param (default header) */
    char *username;
    char *password;           /* secret */
    char *token_url;          /* oauth2: access_token_url */
    char *client_id;          /* oauth2 (secret) */
    char *client_secret;      /* oauth2 (secret) */
    struct sl_json *token_request_data; /* oauth2: extra form fields (object) or NULL */
    int64_t default_token_expiration;   /* oauth2: seconds (3600) */
};

enum sl_rest_pager_kind {
    SL_PAGER_AUTO = 0,        /* detected from the first response */
    SL_PAGER_SINGLE_PAGE,
    SL_PAGER_JSON_LINK,
    SL_PAGER_HEADER_LINK,
    SL_PAGER_HEADER_CURSOR,
    SL_PAGER_CURSOR,
    SL_PAGER_OFFSET,
    SL_PAGER_PAGE_NUMBER
};

/* A paginator's settings with dlt's defaults filled in. */
struct sl_rest_pager_cfg {
    enum sl_rest_pager_kind kind;
    char *next_url_path;      /* json_link ("next") */
    char *links_next_key;     /* header_link ("next") */
    char *cursor_key;         /* header_cursor: the response header ("next") */
    char *cursor_path;        /* cursor: JSONPath of the next cursor ("cursors.next") */
    char *cursor_param;       /* header_cursor, cursor: query param ("cursor"), or NULL */
    char *cursor_body_path;   /* cursor: dotted path in the JSON body instead, or NULL */
    /* offset and page_number (dlt's RangePaginator) */
    char *param;              /* offset_param ("offset") / page_param ("page"), or NULL */
    char *param_body_path;    /* offset_body_path / page_body_path, or NULL */
    char *limit_param;        /* offset: "limit", or NULL */
    char *limit_body_path;    /* offset, or NULL */
    int64_t limit;            /* offset: the step */
    int64_t initial;          /* offset: offset (0); page_number: page (= base_page) */
    int64_t base;             /* page_number: base_page (0) */
    char *total_path;         /* JSONPath of the total ("total"), NULL when none */
    bool has_maximum;
    int64_t maximum;          /* maximum_offset / maximum_page */
    bool stop_after_empty_page; /* offset, page_number: true; cursor: false */
    char *has_more_path;      /* or NULL */
};

/* A value taken from each parent item: {placeholder} in the templates gets it. */
struct sl_rest_resolve {
    char *placeholder;        /* "id" (legacy resolve param) or "resources.issues.number" */
    char *field;              /* JSONPath into the parent item ("number") */
};

/* response_actions entry: {status_code, content, action: ignore}. */
struct sl_rest_action {
    bool has_status;
    int64_t status;
    char *content;            /* substring of the body, or NULL */
};

struct sl_rest_client_cfg {
    char *base_url;
    struct sl_json *headers;  /* static headers (object), never templated; or NULL */
    struct sl_rest_auth *auth;        /* or NULL */
    struct sl_rest_pager_cfg *pager;  /* or NULL (auto) */
    /* session settings (client.session; RUNTIME__REQUEST_* variables as dlt) */
    double timeout;           /* 60 */
    int64_t max_attempts;     /* 5 */
    double backoff_factor;    /* 1 */
    double max_retry_delay;   /* 300 */
    bool respect_retry_after; /* true */
    double requests_per_second; /* 0 = no limit */
    int64_t max_page_bytes;   /* cap on one response (512 MiB) */
};

struct sl_rest_resource {
    struct sl_rest_client_cfg client;
    char *path;               /* template */
    char *method;             /* "GET" */
    struct sl_json *params;   /* object name -> value (templates in strings); or NULL */
    struct sl_json *headers;  /* endpoint headers (templates), or NULL */
    struct sl_json *json;     /* JSON body (templates; a lone placeholder keeps its type) */
    struct sl_json *data;     /* form (object) or raw (string) body, or NULL */
    struct sl_rest_pager_cfg *pager; /* endpoint/resource_defaults paginator, or NULL */
    char *data_selector;      /* JSONPath, or NULL (detected from the first response) */
    struct sl_rest_action *actions;
    size_t nactions;
    struct sl_rest_auth *auth;        /* endpoint auth (overrides the client's), or NULL */
    char *start_param;        /* query param receiving the incremental's last value */
    char *end_param;          /* ... its end value */
    bool has_incremental;     /* {incremental.*} placeholders may be used */
    char *parent;             /* the parent resource, or NULL */
    struct sl_rest_resolve *resolves;
    size_t nresolves;
    char **include_from_parent;
    size_t ninclude;
    bool parallelized;        /* dlt's hint; accepted, child requests still run one by one */
    char **secrets;           /* every auth secret of the source's rest_api block: masked in
                                 this resource's messages too (they may travel in params) */
    size_t nsecrets;
};

/* Initialise with dlt's defaults (GET, session defaults). */
void sl_rest_resource_init(struct sl_rest_resource *r);
/* Free what r owns (secrets wiped) and the struct itself; NULL is fine. */
void sl_rest_resource_free(struct sl_rest_resource *r);

void sl_rest_auth_free(struct sl_rest_auth *a);
void sl_rest_pager_free(struct sl_rest_pager_cfg *p);
/* Deep copies (NULL when out of memory, or when the input is NULL). */
struct sl_rest_auth *sl_rest_auth_dup(const struct sl_rest_auth *a);
struct sl_rest_pager_cfg *sl_rest_pager_dup(const struct sl_rest_pager_cfg *p);
/* Copy the client settings src into dst (dst initialised); -1 when out of memory. */
int sl_rest_client_copy(struct sl_rest_client_cfg *dst, const struct sl_rest_client_cfg *src);
void sl_rest_client_cleanup(struct sl_rest_client_cfg *c);

/* Fill a paginator config with dlt's defaults for its kind (strings NULL where the default
 * is "unset"); the caller then overrides what the config gives. -1 when out of memory. */
int sl_rest_pager_defaults(struct sl_rest_pager_cfg *p, enum sl_rest_pager_kind kind);

#endif
