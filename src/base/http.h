/*
 * http.h — an HTTP client over libcurl for sources that read web APIs.
 *
 * One client is one libcurl easy handle, reused for every request so connections are kept
 * alive; responses may be gzip/deflate/brotli-compressed (curl decodes them). A request is
 * sent with retries, as dlt's requests session does (dlt.sources.helpers.requests):
 *   - retried: HTTP 429 and 5xx responses, and transport failures (connection refused or
 *     reset, timeouts, a response cut short), up to max_attempts attempts in all;
 *   - the wait before attempt n+1 is backoff_factor * 2^(n-1) seconds, at most
 *     max_retry_delay, with +-20% jitter; a Retry-After header (seconds or an HTTP date)
 *     replaces it when respect_retry_after is set;
 *   - a check callback sees every response first and may accept it as it is (a REST
 *     config's response_actions decide that an error status is expected).
 * Requests are spaced by 1/requests_per_second when a limit is set. timeout bounds the
 * connection and every wait for data (no byte for that long), like requests' timeout; a
 * response body larger than max_body is a SOURCE_HTTP error, never truncated.
 *
 * Secrets: the client keeps a list of secret strings (tokens, keys, passwords; also their
 * URL-encoded forms) and every message it writes — errors, logs — goes through
 * sl_http_mask(), which replaces them by "***" and sanitises URLs (url.h). Callers that
 * write their own messages about requests use the same function.
 *
 * Errors are SOURCE_HTTP with origin "http" and the CURLcode (transport) or the status
 * (sl_http_fail_status) as detail. A client is not thread-safe; use one per thread.
 */
#ifndef SLUICE_HTTP_H
#define SLUICE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/alloc.h"
#include "base/error.h"

struct sl_http_opts {
    double timeout;              /* seconds to connect, and to wait for data; default 60 */
    int64_t max_attempts;        /* attempts per request, the first included; default 5 */
    double backoff_factor;       /* default 1 */
    double max_retry_delay;      /* seconds; default 300 */
    bool respect_retry_after;    /* default true */
    double requests_per_second;  /* 0: no limit */
    size_t max_body;             /* bytes; default 512 MiB */
    uint64_t seed;               /* jitter */
    double (*now)(void);         /* monotonic seconds; NULL: sl_clock_mono */
    void (*sleep)(double secs);  /* NULL: nanosleep */
};

/* Fill o with the defaults above. */
void sl_http_opts_default(struct sl_http_opts *o);

struct sl_http_request {
    const char *method;          /* "GET", "POST", ... */
    const char *url;             /* absolute URL, query included */
    const char *const *headers;  /* "Name: value" lines, NULL-terminated; or NULL */
    const char *body;            /* request body or NULL */
    size_t body_len;
};

struct sl_http_response {
    long status;                 /* 0 when no response was received */
    char reason[64];             /* the status line's reason phrase ("Not Found"), or "" */
    struct sl_buf body;
    struct sl_buf headers;       /* the final response's header lines, "Name: value\n" each */
    int attempts;                /* attempts made */
};

void sl_http_response_init(struct sl_http_response *r);
void sl_http_response_cleanup(struct sl_http_response *r);
/* The value of header name (case-insensitive); several headers of that name are joined with
 * ", " as requests does. Appends to out (reset first); returns 1 when found, 0 when absent,
 * -1 out of memory. */
int sl_http_header(const struct sl_http_response *r, const char *name, struct sl_buf *out);

/* The caller's verdict on a response: SL_HTTP_ACCEPT returns it as it is (no retry). */
enum sl_http_verdict { SL_HTTP_DEFAULT = 0, SL_HTTP_ACCEPT = 1 };
typedef enum sl_http_verdict (*sl_http_check_fn)(void *ud, const struct sl_http_response *r);

struct sl_http_client;

/* A new client reporting into ctx (borrowed; must outlive the client). o may be NULL. */
sluice_status sl_http_client_new(struct sl_ctx *ctx, const struct sl_http_opts *o,
                                 struct sl_http_client **out);
void sl_http_client_free(struct sl_http_client **c);
/* Mask s (and its URL-encoded form) in every message of this client. Copied; "" ignored. */
sluice_status sl_http_client_add_secret(struct sl_http_client *c, const char *s);
/* text with the client's secrets replaced by "***" and URLs sanitised. NULL when out of
 * memory. */
char *sl_http_mask(const struct sl_http_client *c, const char *text);

/* Send a request with retries (see above). On SLUICE_OK *resp holds the last response,
 * whatever its status: the caller decides what a 4xx means. Transport failures after the
 * last attempt, a body over the cap, out of memory: SOURCE_HTTP (or NOMEM) recorded in ctx,
 * naming the method and the masked URL. check may be NULL. resp must be initialised; it is
 * reset first. */
sluice_status sl_http_send(struct sl_http_client *c, const struct sl_http_request *req,
                           sl_http_check_fn check, void *ud, struct sl_http_response *resp);

/* Record the standard error for an unexpected status: "GET <url> returned HTTP 401
 * Unauthorized: <first line of the body>" (masked; the body's line cut at 200 bytes), with
 * origin "http" and the status as detail. Returns SLUICE_ERR_SOURCE_HTTP. */
sluice_status sl_http_fail_status(struct sl_http_client *c, const struct sl_http_request *req,
                                  const struct sl_http_response *resp);

/* Log through the ctx's callback, masked. */
void sl_http_log(struct sl_http_client *c, sluice_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
