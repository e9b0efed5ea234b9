/*
 * url.c — URL encoding, joining and sanitising (see url.h).
 *
 * Reference resolution follows RFC 3986 section 5.2 to the letter (split into five parts,
 * merge paths, remove dot segments); urllib's urljoin gives the same results for the http(s)
 * URLs REST APIs use. Sanitising edits only the values of sensitive parameters so the rest of
 * a URL in a message is exactly what was requested.
 */
#include "base/url.h"

#include <string.h>

static const char hexdig[] = "0123456789ABCDEF";

static bool is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int put_escape(struct sl_buf *b, unsigned char c)
{
    char e[3] = { '%', hexdig[c >> 4], hexdig[c & 15] };
    return sl_buf_append(b, e, 3);
}

int sl_url_encode(struct sl_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int rc;
        if (is_alnum(c) || c == '_' || c == '.' || c == '-' || c == '~')
            rc = sl_buf_putc(b, (char)c);
        else if (c == ' ')
            rc = sl_buf_putc(b, '+');
        else
            rc = put_escape(b, c);
        if (rc)
            return -1;
    }
    return 0;
}

int sl_url_requote(struct sl_buf *b, const char *s)
{
    static const char safe[] = "-._~!#$%&'()*+,/:;=?@[]";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int rc;
        if (is_alnum(*p) || strchr(safe, *p))
            rc = sl_buf_putc(b, (char)*p);
        else
            rc = put_escape(b, *p);
        if (rc)
            return -1;
    }
    return 0;
}

int sl_url_add_query(struct sl_buf *b, const char *key, const char *value)
{
    const char *q = b->data ? memchr(b->data, '?', b->len) : NULL;
    char sep = '?';
    if (q)
        sep = (b->data[b->len - 1] == '?' || b->data[b->len - 1] == '&') ? '\0' : '&';
    if (sep && sl_buf_putc(b, sep))
        return -1;
    if (sl_url_encode(b, key, strlen(key)) || sl_buf_putc(b, '=') ||
        sl_url_encode(b, value, strlen(value)))
        return -1;
    return 0;
}

bool sl_url_is_http(const char *s)
{
    const char *w[] = { "http:", "https:" };
    for (size_t k = 0; k < 2; k++) {
        size_t n = strlen(w[k]);
        size_t i = 0;
        while (i < n && s[i] && lower(s[i]) == w[k][i])
            i++;
        if (i == n)
            return true;
    }
    return false;
}

char *sl_url_join_path(const char *base, const char *path)
{
    while (*path == '/')
        path++;
    size_t bl = strlen(base);
    bool slash = bl > 0 && base[bl - 1] == '/';
    return sl_aprintf("%s%s%s", base, slash ? "" : "/", path);
}

/* ---- RFC 3986 resolution ---------------------------------------------------------------- */

struct parts {
    const char *scheme; size_t scheme_n; bool has_scheme;
    const char *auth; size_t auth_n; bool has_auth;
    const char *path; size_t path_n;
    const char *query; size_t query_n; bool has_query;
    const char *frag; size_t frag_n; bool has_frag;
};

static void split(const char *s, struct parts *p)
{
    memset(p, 0, sizeof(*p));
    const char *c = s;
    /* scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
    if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')) {
        const char *e = c;
        while (is_alnum((unsigned char)*e) || *e == '+' || *e == '-' || *e == '.')
            e++;
        if (*e == ':') {
            p->scheme = c;
            p->scheme_n = (size_t)(e - c);
            p->has_scheme = true;
            c = e + 1;
        }
    }
    if (c[0] == '/' && c[1] == '/') {
        c += 2;
        p->auth = c;
        while (*c && *c != '/' && *c != '?' && *c != '#')
            c++;
        p->auth_n = (size_t)(c - p->auth);
        p->has_auth = true;
    }
    p->path = c;
    while (*c && *c != '?' && *c != '#')
        c++;
    p->path_n = (size_t)(c - p->path);
    if (*c == '?') {
        p->query = ++c;
        while (*c && *c != '#')
            c++;
        p->query_n = (size_t)(c - p->query);
        p->has_query = true;
    }
    if (*c == '#') {
        p->frag = c + 1;
        p->frag_n = strlen(c + 1);
        p->has_frag = true;
    }
}

/* RFC 3986 5.2.4 on in (n bytes), appended to out. */
static int remove_dots(struct sl_buf *out, const char *in, size_t n)
{
    size_t start = out->len;
    size_t i = 0;
    while (i < n) {
        const char *r = in + i;
        size_t left = n - i;
        if (left >= 3 && memcmp(r, "../", 3) == 0) {
            i += 3;
        } else if (left >= 2 && memcmp(r, "./", 2) == 0) {
            i += 2;
        } else if (left >= 3 && memcmp(r, "/./", 3) == 0) {
            i += 2;
        } else if (left == 2 && memcmp(r, "/.", 2) == 0) {
            if (sl_buf_putc(out, '/'))
                return -1;
            i = n;
        } else if ((left >= 4 && memcmp(r, "/../", 4) == 0) ||
                   (left == 3 && memcmp(r, "/..", 3) == 0)) {
            i += 3;
            /* drop the last segment written */
            while (out->len > start && out->data[out->len - 1] != '/')
                out->len--;
            if (out->len > start)
                out->len--;
            if (out->data)
                out->data[out->len] = '\0';
            if (left == 3) {
                if (sl_buf_putc(out, '/'))
                    return -1;
            }
        } else if ((left == 1 && r[0] == '.') || (left == 2 && memcmp(r, "..", 2) == 0)) {
            i = n;
        } else {
            size_t j = (r[0] == '/') ? 1 : 0;
            while (j < left && r[j] != '/')
                j++;
            if (sl_buf_append(out, r, j))
                return -1;
            i += j;
        }
    }
    return 0;
}

char *sl_url_resolve(const char *base, const char *ref)
{
    struct parts b, r;
    struct sl_buf out, tmp;
    sl_buf_init(&out, 0);
    sl_buf_init(&tmp, 0);
    split(base, &b);
    split(ref, &r);
    int bad = 0;
    const char *scheme = r.has_scheme ? r.scheme : b.scheme;
    size_t scheme_n = r.has_scheme ? r.scheme_n : b.scheme_n;
    bool has_scheme = r.has_scheme || b.has_scheme;
    const struct parts *auth = &b, *query = &r;
    if (r.has_scheme || r.has_auth) {
        auth = &r;
        bad |= remove_dots(&tmp, r.path, r.path_n);
    } else if (r.path_n == 0) {
        bad |= sl_buf_append(&tmp, b.path, b.path_n);
        if (!r.has_query)
            query = &b;
    } else if (r.path[0] == '/') {
        bad |= remove_dots(&tmp, r.path, r.path_n);
    } else {
        struct sl_buf merged;
        sl_buf_init(&merged, 0);
        if (b.has_auth && b.path_n == 0) {
            bad |= sl_buf_putc(&merged, '/');
        } else {
            size_t k = b.path_n;
            while (k > 0 && b.path[k - 1] != '/')
                k--;
            bad |= sl_buf_append(&merged, b.path, k);
        }
        bad |= sl_buf_append(&merged, r.path, r.path_n);
        if (!bad)
            bad |= remove_dots(&tmp, merged.data, merged.len);
        sl_buf_cleanup(&merged);
    }
    if (has_scheme)
        bad |= sl_buf_append(&out, scheme, scheme_n) || sl_buf_putc(&out, ':');
    if (auth->has_auth)
        bad |= sl_buf_puts(&out, "//") || sl_buf_append(&out, auth->auth, auth->auth_n);
    if (tmp.len)
        bad |= sl_buf_append(&out, tmp.data, tmp.len);
    if (query->has_query)
        bad |= sl_buf_putc(&out, '?') || sl_buf_append(&out, query->query, query->query_n);
    if (r.has_frag)
        bad |= sl_buf_putc(&out, '#') || sl_buf_append(&out, r.frag, r.frag_n);
    sl_buf_cleanup(&tmp);
    if (bad || !out.data) {
        char *empty = bad ? NULL : sl_strdup("");
        sl_buf_cleanup(&out);
        return empty;
    }
    return sl_buf_take(&out);
}

/* ---- sanitising ------------------------------------------------------------------------- */

bool sl_url_param_sensitive(const char *name, size_t n)
{
    static const char *const names[] = {
        "api_key", "token", "key", "access_token", "apikey", "api-key", "access-token",
        "secret", "password", "pwd", "client_secret", NULL
    };
    for (size_t k = 0; names[k]; k++) {
        size_t l = strlen(names[k]);
        if (l != n)
            continue;
        size_t i = 0;
        while (i < n && lower(name[i]) == names[k][i])
            i++;
        if (i == n)
            return true;
    }
    return false;
}

char *sl_url_sanitize(const char *url)
{
    struct sl_buf b;
    sl_buf_init(&b, 0);
    int bad = 0;
    const char *c = url;
    /* user:password@ in the authority */
    const char *ss = strstr(url, "://");
    if (ss) {
        const char *a = ss + 3;
        const char *e = a;
        while (*e && *e != '/' && *e != '?' && *e != '#')
            e++;
        const char *at = NULL;
        for (const char *k = a; k < e; k++)
            if (*k == '@')
                at = k;
        if (at) {
            bad |= sl_buf_append(&b, url, (size_t)(a - url)) || sl_buf_puts(&b, "***");
            c = at;
        }
    }
    const char *q = strchr(c, '?');
    if (!q) {
        bad |= sl_buf_puts(&b, c);
    } else {
        bad |= sl_buf_append(&b, c, (size_t)(q - c + 1));
        const char *p = q + 1;
        while (*p && *p != '#') {
            const char *end = p;
            while (*end && *end != '&' && *end != ';' && *end != '#')
                end++;
            const char *eq = memchr(p, '=', (size_t)(end - p));
            size_t kn = eq ? (size_t)(eq - p) : (size_t)(end - p);
            if (eq && sl_url_param_sensitive(p, kn))
                bad |= sl_buf_append(&b, p, kn + 1) || sl_buf_puts(&b, "***");
            else
                bad |= sl_buf_append(&b, p, (size_t)(end - p));
            p = end;
            if (*p == '&' || *p == ';') {
                bad |= sl_buf_putc(&b, *p);
                p++;
            }
        }
        bad |= sl_buf_puts(&b, p);
    }
    if (bad || !b.data) {
        sl_buf_cleanup(&b);
        return bad ? NULL : sl_strdup("");
    }
    return sl_buf_take(&b);
}
