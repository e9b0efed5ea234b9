/*
 * paginator.h — dlt's REST paginators: how the next request is made from the last response.
 *
 * A paginator is a small state machine over a request (URL, query params, JSON body):
 *   init_request   before the first request (offset/page_number put their first value in)
 *   update_state   after each response: read the next link/cursor/total from the parsed body
 *                  and the headers, decide whether there is a next page
 *   update_request turn the request into the next page's request
 * with dlt's kinds and rules (spec 5.6): single_page, json_link (next URL in the body,
 * resolved against the current URL, query params dropped), header_link (Link header),
 * header_cursor (a header's value into a query param), cursor (a body value into a query param
 * or a JSON body path; stops when it is missing or falsy, on an empty page when asked, or when
 * has_more is false), offset and page_number (a number stepped by limit or 1; stop on an empty
 * page, at total / maximum, or when has_more is false). sl_paginator_detect picks one from a
 * first response as dlt's PaginatorFactory does.
 *
 * A next-URL paginator that is handed back the URL it just requested stops (with a warning)
 * instead of asking for the same page forever.
 */
#ifndef SLUICE_PAGINATOR_H
#define SLUICE_PAGINATOR_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "base/http.h"
#include "base/json.h"
#include "model/rest.h"

/* The parts of a request a paginator may change. */
struct sl_rest_request {
    char *url;                /* absolute URL; its query holds what params do not */
    struct sl_json params;    /* object: query params as JSON values (null: left out) */
    struct sl_json *json;     /* heap JSON body, or NULL */
};

void sl_rest_request_init(struct sl_rest_request *r);
void sl_rest_request_cleanup(struct sl_rest_request *r);
/* The full URL: url + params encoded as requests does (str() of each value, a list repeats
 * its key, null left out). NULL when out of memory. */
char *sl_rest_request_url(const struct sl_rest_request *r);
/* params[name] = *val (taken; val becomes null). -1 when out of memory. */
int sl_rest_request_set_param(struct sl_rest_request *r, const char *name, struct sl_json *val);
/* json.<dotted path> = *val, creating objects on the way (dlt's set_value_at_path). */
int sl_rest_request_set_body(struct sl_rest_request *r, const char *path, struct sl_json *val);

struct sl_paginator;

/* A paginator from a config (copied). Errors: CONFIG for a bad JSONPath in it. */
sluice_status sl_paginator_new(struct sl_ctx *ctx, const struct sl_rest_pager_cfg *cfg,
                               struct sl_paginator **out);
void sl_paginator_free(struct sl_paginator **p);

/* Detect a paginator from the first response (doc: its parsed body, or NULL), as dlt: a Link
 * rel=next header -> header_link; a "next..." value (or next.href/next.url) that is a URL
 * ("http..." or "/...") -> json_link; a total_pages/pages/totalpages integer -> page_number;
 * any other "next..." value -> cursor; else single_page. Never fails but for memory. */
sluice_status sl_paginator_detect(struct sl_ctx *ctx, const struct sl_json *doc,
                                  const struct sl_http_response *resp,
                                  struct sl_paginator **out);

/* Right before each request is sent (a next-URL paginator remembers the URL). */
sluice_status sl_paginator_before_send(struct sl_paginator *p, const struct sl_rest_request *req);
sluice_status sl_paginator_init_request(struct sl_paginator *p, struct sl_rest_request *req);
/* After a response; nitems: items on its page. Errors (SOURCE): a missing or non-integer
 * total, a missing or non-boolean has_more, a next URL that is not a string. */
sluice_status sl_paginator_update_state(struct sl_paginator *p, const struct sl_json *doc,
                                        const struct sl_http_response *resp, size_t nitems);
sluice_status sl_paginator_update_request(struct sl_paginator *p, struct sl_rest_request *req);
bool sl_paginator_has_next(const struct sl_paginator *p);
/* "json_link (next_url_path: next)" and the like, for logs. Borrowed. */
const char *sl_paginator_describe(const struct sl_paginator *p);

/* The URL of the Link header entry whose rel is key (requests' response.links), appended to
 * out; 1 found, 0 not, -1 out of memory. */
int sl_link_header_find(const char *value, const char *key, struct sl_buf *out);

#endif
