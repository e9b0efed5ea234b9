/*
 * http.c — the libcurl client (see http.h).
 *
 * The easy handle is reset before each request (curl_easy_reset keeps live connections, so
 * keep-alive survives) and set up from scratch, so no option of one request leaks into the
 * next. The body and the header lines of the final response (after redirects) are collected
 * in capped buffers; a new status line starts a new header block, so the headers of a
 * redirect or a 100 Continue are forgotten. libcurl's global state is initialised once,
 * under pthread_once, before the first handle.
 *
 * Everything this file writes into a message passes through sl_http_mask(): the registered
 * secrets become "***" and every http(s) URL in the text is sanitised (url.h).
 */
#include "base/http.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "base/clock.h"
#include "base/dynlib.h"
#include "base/digest.h"
#include "base/url.h"

#define HEADERS_MAX ((size_t)1 << 20)

struct sl_http_client {
    struct sl_ctx *ctx;
    struct sl_http_opts o;
    CURL *easy;
    struct sl_rng rng;
    char **secrets;
    size_t nsecrets;
    double last_start;
    bool started;
    /* the transfer in progress */
    struct sl_http_response *cur;
    bool too_big;
    bool headers_oom;
    char errbuf[CURL_ERROR_SIZE];
};

/* libcurl, opened by the first client (base/dynlib.h says why): libcurl.so.4, or the file
 * SLUICE_LIBCURL names. Each pointer has the type of the function it stands for. */
static struct {
    __typeof__(curl_global_init) *global_init;
    __typeof__(curl_easy_strerror) *easy_strerror;
    __typeof__(curl_easy_init) *easy_init;
    __typeof__(curl_easy_cleanup) *easy_cleanup;
    __typeof__(curl_getdate) *getdate;
    __typeof__(curl_easy_reset) *easy_reset;
    __typeof__(curl_easy_setopt) *easy_setopt;
    __typeof__(curl_easy_perform) *easy_perform;
    __typeof__(curl_easy_getinfo) *easy_getinfo;
    __typeof__(curl_slist_append) *slist_append;
    __typeof__(curl_slist_free_all) *slist_free_all;
} cu;
static struct sl_dynlib curl_lib = SL_DYNLIB_INIT;

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_loaded;
static CURLcode global_rc = CURLE_OK;

static void global_init(void)
{
    static const char *const names[] = { "libcurl.so.4", "libcurl.so", "libcurl-gnutls.so.4" };
#define S(f) { "curl_" #f, &cu.f }
    const struct sl_dynsym syms[] = {
        S(global_init),
        S(easy_strerror),
        S(easy_init),
        S(easy_cleanup),
        S(getdate),
        S(easy_reset),
        S(easy_setopt),
        S(easy_perform),
        S(easy_getinfo),
        S(slist_append),
        S(slist_free_all)
    };
#undef S
    global_loaded = sl_dynlib_load(&curl_lib, "SLUICE_LIBCURL", names,
                                   sizeof(names) / sizeof(names[0]), syms,
                                   sizeof(syms) / sizeof(syms[0]));
    if (global_loaded)
        global_rc = cu.global_init(CURL_GLOBAL_DEFAULT);
}

void sl_http_opts_default(struct sl_http_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->timeout = 60;
    o->max_attempts = 5;
    o->backoff_factor = 1;
    o->max_retry_delay = 300;
    o->respect_retry_after = true;
    o->max_body = (size_t)512 << 20;
    o->seed = 0x5eed;
}

void sl_http_response_init(struct sl_http_response *r)
{
    memset(r, 0, sizeof(*r));
    sl_buf_init(&r->body, 0);
    sl_buf_init(&r->headers, HEADERS_MAX);
}

void sl_http_response_cleanup(struct sl_http_response *r)
{
    sl_buf_cleanup(&r->body);
    sl_buf_cleanup(&r->headers);
    memset(r, 0, sizeof(*r));
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

int sl_http_header(const struct sl_http_response *r, const char *name, struct sl_buf *out)
{
    size_t nl = strlen(name);
    int found = 0;
    sl_buf_reset(out);
    const char *p = r->headers.data;
    const char *end = p ? p + r->headers.len : NULL;
    while (p && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (colon && (size_t)(colon - p) == nl) {
            size_t i = 0;
            while (i < nl && lower(p[i]) == lower(name[i]))
                i++;
            if (i == nl) {
                const char *v = colon + 1;
                while (v < eol && (*v == ' ' || *v == '\t'))
                    v++;
                const char *ve = eol;
                while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                    ve--;
                if ((found && sl_buf_puts(out, ", ")) || sl_buf_append(out, v, (size_t)(ve - v)))
                    return -1;
                if (!out->data && sl_buf_puts(out, ""))
                    return -1;
                found = 1;
            }
        }
        p = eol + 1;
    }
    return found;
}

/* ---- client ----------------------------------------------------------------------------- */

sluice_status sl_http_client_new(struct sl_ctx *ctx, const struct sl_http_opts *o,
                                 struct sl_http_client **out)
{
    *out = NULL;
    pthread_once(&global_once, global_init);
    if (!global_loaded)
        return sl_fail(ctx, SLUICE_ERR_SOURCE_HTTP,
                       "HTTP needs libcurl: %s: install it (Debian: apt install libcurl4), or "
                       "set SLUICE_LIBCURL to the path of a libcurl.so",
                       curl_lib.why);
    if (global_rc != CURLE_OK)
        return sl_fail(ctx, SLUICE_ERR_SOURCE_HTTP, "cannot initialise libcurl: %s",
                       cu.easy_strerror(global_rc));
    struct sl_http_client *c = sl_calloc(1, sizeof(*c));
    if (!c)
        return sl_nomem(ctx);
    c->ctx = ctx;
    if (o)
        c->o = *o;
    else
        sl_http_opts_default(&c->o);
    if (c->o.max_attempts < 1)
        c->o.max_attempts = 1;
    sl_rng_seed(&c->rng, c->o.seed);
    c->easy = cu.easy_init();
    if (!c->easy) {
        sl_free(c);
        return sl_nomem(ctx);
    }
    *out = c;
    return SLUICE_OK;
}

void sl_http_client_free(struct sl_http_client **cp)
{
    struct sl_http_client *c = cp ? *cp : NULL;
    if (!c)
        return;
    if (c->easy)
        cu.easy_cleanup(c->easy);
    for (size_t i = 0; i < c->nsecrets; i++)
        sl_free_secret(c->secrets[i]);
    sl_free(c->secrets);
    sl_free(c);
    *cp = NULL;
}

static sluice_status add_one_secret(struct sl_http_client *c, const char *s, size_t n)
{
    for (size_t i = 0; i < c->nsecrets; i++)
        if (strlen(c->secrets[i]) == n && memcmp(c->secrets[i], s, n) == 0)
            return SLUICE_OK;
    char **v = sl_realloc(c->secrets, (c->nsecrets + 1) * sizeof(*v));
    if (!v)
        return sl_nomem(c->ctx);
    c->secrets = v;
    c->secrets[c->nsecrets] = sl_strndup(s, n);
    if (!c->secrets[c->nsecrets])
        return sl_nomem(c->ctx);
    c->nsecrets++;
    return SLUICE_OK;
}

sluice_status sl_http_client_add_secret(struct sl_http_client *c, const char *s)
{
    if (!s || !*s)
        return SLUICE_OK;
    sluice_status rc = add_one_secret(c, s, strlen(s));
    struct sl_buf enc;
    sl_buf_init(&enc, 0);
    if (rc == SLUICE_OK && sl_url_encode(&enc, s, strlen(s)))
        rc = sl_nomem(c->ctx);
    if (rc == SLUICE_OK && enc.len != strlen(s))
        rc = add_one_secret(c, enc.data, enc.len);
    sl_buf_reset(&enc);
    if (rc == SLUICE_OK && sl_url_requote(&enc, s))
        rc = sl_nomem(c->ctx);
    if (rc == SLUICE_OK && enc.len != strlen(s))
        rc = add_one_secret(c, enc.data, enc.len);
    if (enc.data)
        memset(enc.data, 0, enc.len);
    sl_buf_cleanup(&enc);
    return rc;
}

/* Replace every occurrence of the secrets in b (longest first wins at each position). */
static int mask_secrets(const struct sl_http_client *c, struct sl_buf *in, struct sl_buf *out)
{
    size_t i = 0;
    while (i < in->len) {
        size_t best = 0;
        for (size_t k = 0; c && k < c->nsecrets; k++) {
            size_t n = strlen(c->secrets[k]);
            if (n > best && n <= in->len - i && memcmp(in->data + i, c->secrets[k], n) == 0)
                best = n;
        }
        if (best) {
            if (sl_buf_puts(out, "***"))
                return -1;
            i += best;
        } else {
            if (sl_buf_putc(out, in->data[i]))
                return -1;
            i++;
        }
    }
    return 0;
}

char *sl_http_mask(const struct sl_http_client *c, const char *text)
{
    struct sl_buf urls, out;
    sl_buf_init(&urls, 0);
    sl_buf_init(&out, 0);
    int bad = 0;
    const char *p = text;
    while (*p && !bad) {
        if ((p == text || p[-1] == ' ' || p[-1] == '\'' || p[-1] == '"' || p[-1] == '(' ||
             p[-1] == '<' || p[-1] == '`') &&
            sl_url_is_http(p) &&
            (strncmp(p + 4, "://", 3) == 0 || strncmp(p + 5, "://", 3) == 0)) {
            const char *e = p;
            while (*e && *e != ' ' && *e != '\'' && *e != '"' && *e != '>' && *e != '`' &&
                   *e != '\n')
                e++;
            char *u = sl_strndup(p, (size_t)(e - p));
            char *s = u ? sl_url_sanitize(u) : NULL;
            bad |= !s || sl_buf_puts(&urls, s);
            sl_free(u);
            sl_free(s);
            p = e;
        } else {
            bad |= sl_buf_putc(&urls, *p);
            p++;
        }
    }
    if (!bad && urls.len)
        bad |= mask_secrets(c, &urls, &out);
    if (!bad && !out.data)
        bad |= sl_buf_puts(&out, "");
    sl_buf_cleanup(&urls);
    if (bad) {
        sl_buf_cleanup(&out);
        return NULL;
    }
    return sl_buf_take(&out);
}

/* The formatted text, masked (NULL when out of memory); the unmasked text is wiped. */
static char *vmasked(const struct sl_http_client *c, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    char *m = sl_http_mask(c, msg);
    memset(msg, 0, sizeof(msg));
    return m;
}

static sluice_status fail_masked(struct sl_http_client *c, sluice_status code,
                                 const char *detail, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static sluice_status fail_masked(struct sl_http_client *c, sluice_status code,
                                 const char *detail, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = vmasked(c, fmt, ap);
    va_end(ap);
    if (!m)
        return sl_nomem(c->ctx);
    sluice_status rc = sl_fail(c->ctx, code, "%s", m);
    sl_free(m);
    sl_fail_origin(c->ctx, "http", detail);
    return rc;
}

void sl_http_log(struct sl_http_client *c, sluice_log_level level, const char *fmt, ...)
{
    if (!c->ctx->log_fn)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *m = vmasked(c, fmt, ap);
    va_end(ap);
    if (m)
        sl_log(c->ctx, level, "%s", m);
    sl_free(m);
}

/* ---- transfer callbacks ----------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    struct sl_http_client *c = ud;
    size_t len = size * n;
    if (c->cur->body.len + len > c->o.max_body) {
        c->too_big = true;
        return 0;
    }
    if (sl_buf_append(&c->cur->body, data, len)) {
        c->too_big = true;
        return 0;
    }
    return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
    struct sl_http_client *c = ud;
    size_t len = size * n;
    size_t l = len;
    while (l > 0 && (data[l - 1] == '\n' || data[l - 1] == '\r'))
        l--;
    if (l >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        /* a new response (after a redirect or a 100): start over */
        sl_buf_reset(&c->cur->headers);
        c->cur->reason[0] = '\0';
        const char *sp = memchr(data, ' ', l);
        const char *sp2 = sp ? memchr(sp + 1, ' ', l - (size_t)(sp + 1 - data)) : NULL;
        if (sp2) {
            size_t rl = l - (size_t)(sp2 + 1 - data);
            if (rl >= sizeof(c->cur->reason))
                rl = sizeof(c->cur->reason) - 1;
            memcpy(c->cur->reason, sp2 + 1, rl);
            c->cur->reason[rl] = '\0';
        }
        return len;
    }
    if (l == 0)
        return len;
    if (sl_buf_append(&c->cur->headers, data, l) || sl_buf_putc(&c->cur->headers, '\n'))
        c->headers_oom = true; /* over the cap: later headers are dropped, not fatal */
    return len;
}

/* ---- waiting ---------------------------------------------------------------------------- */

static double now(const struct sl_http_client *c)
{
    return c->o.now ? c->o.now() : sl_clock_mono();
}

static void pause_for(const struct sl_http_client *c, double secs)
{
    if (secs <= 0)
        return;
    if (c->o.sleep) {
        c->o.sleep(secs);
        return;
    }
    struct timespec ts;
    ts.tv_sec = (time_t)secs;
    ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Seconds the Retry-After header asks for, or -1 (absent, unreadable, not in the future). */
static double retry_after(struct sl_http_client *c, const struct sl_http_response *r)
{
    struct sl_buf v;
    sl_buf_init(&v, 0);
    double secs = -1;
    if (sl_http_header(r, "Retry-After", &v) == 1 && v.data) {
        const char *s = v.data;
        while (*s == ' ' || *s == '\t')
            s++;
        const char *d = s;
        while (*d >= '0' && *d <= '9')
            d++;
        const char *t = d;
        while (*t == ' ' || *t == '\t')
            t++;
        if (d > s && *t == '\0') {
            secs = 0;
            for (const char *k = s; k < d && secs < 1e12; k++)
                secs = secs * 10 + (*k - '0');
        } else {
            time_t when = cu.getdate(s, NULL);
            if (when != -1)
                secs = difftime(when, time(NULL));
        }
        if (secs <= 0)
            secs = -1;
        else if (secs > c->o.max_retry_delay)
            secs = c->o.max_retry_delay;
    }
    sl_buf_cleanup(&v);
    return secs;
}

static double backoff(struct sl_http_client *c, int attempt)
{
    double base = c->o.backoff_factor * ldexp(1.0, attempt - 1 < 60 ? attempt - 1 : 60);
    if (base > c->o.max_retry_delay)
        base = c->o.max_retry_delay;
    double u = (double)(sl_rng_next(&c->rng) >> 11) / 9007199254740992.0;
    double w = base * (0.8 + 0.4 * u);
    return w > c->o.max_retry_delay ? c->o.max_retry_delay : w;
}

static bool retryable_status(long s)
{
    return s == 429 || (s >= 500 && s <= 599);
}

static bool retryable_curl(CURLcode e)
{
    switch (e) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_PARTIAL_FILE:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_BAD_CONTENT_ENCODING:
        return true;
    default:
        return false;
    }
}

/* ---- one attempt ------------------------------------------------------------------------ */

static CURLcode perform(struct sl_http_client *c, const struct sl_http_request *req,
                        struct curl_slist *hdrs, struct sl_http_response *resp)
{
    CURL *e = c->easy;
    cu.easy_reset(e);
    sl_buf_reset(&resp->body);
    sl_buf_reset(&resp->headers);
    resp->status = 0;
    resp->reason[0] = '\0';
    c->cur = resp;
    c->too_big = false;
    c->errbuf[0] = '\0';
    long tmo = (long)ceil(c->o.timeout > 0 ? c->o.timeout : 60);
    cu.easy_setopt(e, CURLOPT_URL, req->url);
    cu.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    cu.easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    cu.easy_setopt(e, CURLOPT_MAXREDIRS, 30L);
    cu.easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    cu.easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(c->o.timeout * 1000));
    cu.easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    cu.easy_setopt(e, CURLOPT_LOW_SPEED_TIME, tmo);
    cu.easy_setopt(e, CURLOPT_USERAGENT, "sluice/" SLUICE_VERSION);
    cu.easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
    cu.easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    cu.easy_setopt(e, CURLOPT_WRITEDATA, c);
    cu.easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    cu.easy_setopt(e, CURLOPT_HEADERDATA, c);
    cu.easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
    const char *m = req->method ? req->method : "GET";
    if (req->body || strcmp(m, "POST") == 0) {
        cu.easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(req->body ? req->body_len : 0));
        cu.easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        if (strcmp(m, "POST") != 0)
            cu.easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    } else if (strcmp(m, "GET") == 0) {
        cu.easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(m, "HEAD") == 0) {
        cu.easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
        cu.easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    }
    CURLcode rc = cu.easy_perform(e);
    if (rc == CURLE_OK)
        cu.easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp->status);
    c->cur = NULL;
    return rc;
}

sluice_status sl_http_send(struct sl_http_client *c, const struct sl_http_request *req,
                           sl_http_check_fn check, void *ud, struct sl_http_response *resp)
{
    const char *method = req->method ? req->method : "GET";
    struct curl_slist *hdrs = NULL;
    sluice_status rc = SLUICE_OK;
    for (size_t i = 0; req->headers && req->headers[i]; i++) {
        struct curl_slist *n = cu.slist_append(hdrs, req->headers[i]);
        if (!n) {
            rc = sl_nomem(c->ctx);
            goto done;
        }
        hdrs = n;
    }
    struct curl_slist *n = cu.slist_append(hdrs, "Expect:");
    if (!n) {
        rc = sl_nomem(c->ctx);
        goto done;
    }
    hdrs = n;
    for (int attempt = 1;; attempt++) {
        if (c->o.requests_per_second > 0 && c->started) {
            double wait = c->last_start + 1.0 / c->o.requests_per_second - now(c);
            pause_for(c, wait);
        }
        c->started = true;
        c->last_start = now(c);
        sl_http_log(c, SLUICE_LOG_DEBUG, "%s %s", method, req->url);
        CURLcode cc = perform(c, req, hdrs, resp);
        resp->attempts = attempt;
        bool last = attempt >= c->o.max_attempts;
        if (cc == CURLE_OK) {
            if (check && check(ud, resp) == SL_HTTP_ACCEPT)
                break;
            if (!retryable_status(resp->status) || last)
                break;
            double w = c->o.respect_retry_after ? retry_after(c, resp) : -1;
            if (w < 0)
                w = backoff(c, attempt);
            sl_http_log(c, SLUICE_LOG_INFO,
                        "%s %s returned HTTP %ld: retrying in %.1f s (attempt %d of %lld)",
                        method, req->url, resp->status, w, attempt + 1,
                        (long long)c->o.max_attempts);
            pause_for(c, w);
            continue;
        }
        if (cc == CURLE_WRITE_ERROR && c->too_big) {
            char detail[32];
            snprintf(detail, sizeof(detail), "%d", (int)cc);
            rc = fail_masked(c, SLUICE_ERR_SOURCE_HTTP, detail,
                             "%s %s: the response is larger than %zu bytes", method, req->url,
                             c->o.max_body);
            goto done;
        }
        const char *why = c->errbuf[0] ? c->errbuf : cu.easy_strerror(cc);
        char tmo[96];
        if (cc == CURLE_OPERATION_TIMEDOUT) {
            snprintf(tmo, sizeof(tmo), "timed out: %s for %g s",
                     strstr(why, "onnect") ? "no connection" : "no data", c->o.timeout);
            why = tmo;
        }
        if (cc == CURLE_OUT_OF_MEMORY) {
            rc = sl_nomem(c->ctx);
            goto done;
        }
        if (!retryable_curl(cc) || last) {
            char detail[32];
            snprintf(detail, sizeof(detail), "%d", (int)cc);
            rc = fail_masked(c, SLUICE_ERR_SOURCE_HTTP, detail, "%s %s failed%s: %s", method,
                             req->url, attempt > 1 ? " after retries" : "", why);
            goto done;
        }
        double w = backoff(c, attempt);
        sl_http_log(c, SLUICE_LOG_INFO, "%s %s failed (%s): retrying in %.1f s (attempt %d of %lld)",
                    method, req->url, why, w, attempt + 1, (long long)c->o.max_attempts);
        pause_for(c, w);
    }
done:
    cu.slist_free_all(hdrs);
    return rc;
}

sluice_status sl_http_fail_status(struct sl_http_client *c, const struct sl_http_request *req,
                                  const struct sl_http_response *resp)
{
    char line[256];
    size_t n = 0;
    const char *b = resp->body.data;
    for (size_t i = 0; b && i < resp->body.len && n < 200; i++) {
        char ch = b[i];
        if (ch == '\n')
            break;
        if (ch == '\r')
            continue;
        line[n++] = ((unsigned char)ch < 0x20 || ch == 0x7f) ? ' ' : ch;
    }
    /* do not end on a cut UTF-8 sequence */
    size_t k = n;
    while (k > 0 && ((unsigned char)line[k - 1] & 0xC0) == 0x80)
        k--;
    if (k > 0 && ((unsigned char)line[k - 1] & 0x80)) {
        unsigned char lead = (unsigned char)line[k - 1];
        size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        if (n - (k - 1) < want)
            n = k - 1;
    }
    line[n] = '\0';
    char detail[32];
    snprintf(detail, sizeof(detail), "%ld", resp->status);
    return fail_masked(c, SLUICE_ERR_SOURCE_HTTP, detail, "%s %s returned HTTP %ld%s%s%s%s",
                       req->method ? req->method : "GET", req->url, resp->status,
                       resp->reason[0] ? " " : "", resp->reason, n ? ": " : "", line);
}
