/*
 * rest_template.c — str.format placeholders and Python's str()/repr() of JSON values (see
 * rest_template.h).
 *
 * The scanner follows CPython's MarkupIterator: a field runs to its matching '}' (nested
 * braces counted), and its name ends at the first ':' or '!' outside square brackets. Floats
 * are printed like float.__repr__ (sl_json_write_double_py).
 */
#include "sources/rest_template.h"

#include <string.h>

/* One step of the scan at s[*i]: literal text goes to lit (when not NULL); a field sets
 * name and n and returns 1; 0 at the end; -1 malformed. */
static int next_part(const char *s, size_t *i, struct sl_buf *lit, int *oom, const char **name,
                     size_t *n, const char **why)
{
    while (s[*i]) {
        char c = s[*i];
        if (c == '{' && s[*i + 1] == '{') {
            if (lit && sl_buf_putc(lit, '{'))
                *oom = 1;
            *i += 2;
            continue;
        }
        if (c == '}') {
            if (s[*i + 1] != '}') {
                *why = "single '}' encountered";
                return -1;
            }
            if (lit && sl_buf_putc(lit, '}'))
                *oom = 1;
            *i += 2;
            continue;
        }
        if (c != '{') {
            if (lit && sl_buf_putc(lit, c))
                *oom = 1;
            (*i)++;
            continue;
        }
        /* a field: find its matching '}' */
        size_t start = *i + 1, j = start;
        int depth = 1;
        while (s[j]) {
            if (s[j] == '{')
                depth++;
            else if (s[j] == '}' && --depth == 0)
                break;
            j++;
        }
        if (!s[j]) {
            *why = "expected '}' before end of string";
            return -1;
        }
        size_t k = start;
        int brackets = 0;
        while (k < j) {
            if (s[k] == '[')
                brackets++;
            else if (s[k] == ']' && brackets > 0)
                brackets--;
            else if (brackets == 0 && (s[k] == ':' || s[k] == '!'))
                break;
            k++;
        }
        if (k < j) {
            *why = "conversions and format specs ('!r', ':>5') are not supported";
            return -1;
        }
        if (k == start) {
            *why = "empty placeholder '{}' (positional fields are not supported)";
            return -1;
        }
        *name = s + start;
        *n = k - start;
        *i = j + 1;
        return 1;
    }
    return 0;
}

int sl_tmpl_next(const char *s, size_t *i, struct sl_buf *lit, const char **name, size_t *n,
                 const char **why)
{
    int oom = 0;
    int r = next_part(s, i, lit, &oom, name, n, why);
    return oom ? -2 : r;
}

int sl_tmpl_scan(const char *s, sl_tmpl_each_fn fn, void *ud, const char **why)
{
    size_t i = 0;
    int oom = 0;
    for (;;) {
        const char *name = NULL;
        size_t n = 0;
        int r = next_part(s, &i, NULL, &oom, &name, &n, why);
        if (r <= 0)
            return r;
        if (fn) {
            int rc = fn(ud, name, n);
            if (rc)
                return rc;
        }
    }
}

int sl_tmpl_expand(struct sl_buf *b, const char *s, sl_tmpl_lookup_fn fn, void *ud)
{
    size_t i = 0;
    int oom = 0;
    const char *why = NULL;
    for (;;) {
        const char *name = NULL;
        size_t n = 0;
        int r = next_part(s, &i, b, &oom, &name, &n, &why);
        if (oom)
            return -1;
        if (r == 0)
            return 0;
        if (r < 0)
            return 1;
        const struct sl_json *v = NULL;
        if (fn(ud, name, n, &v))
            return 1;
        if (sl_pystr(b, v))
            return -1;
    }
}

bool sl_tmpl_single(const char *s, const char **name, size_t *n)
{
    size_t i = 0;
    int oom = 0;
    const char *why = NULL;
    if (s[0] != '{' || s[1] == '{')
        return false;
    if (next_part(s, &i, NULL, &oom, name, n, &why) != 1)
        return false;
    return s[i] == '\0';
}

bool sl_tmpl_has_braces(const char *s)
{
    return strchr(s, '{') || strchr(s, '}');
}

/* ---- Python str() / repr() -------------------------------------------------------------- */

static int py_repr_str(struct sl_buf *b, const char *s, size_t n)
{
    bool sq = memchr(s, '\'', n) != NULL;
    bool dq = memchr(s, '"', n) != NULL;
    char q = (sq && !dq) ? '"' : '\'';
    if (sl_buf_putc(b, q))
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int rc;
        if (c == '\\' || c == (unsigned char)q)
            rc = sl_buf_putc(b, '\\') || sl_buf_putc(b, (char)c);
        else if (c == '\n')
            rc = sl_buf_puts(b, "\\n");
        else if (c == '\r')
            rc = sl_buf_puts(b, "\\r");
        else if (c == '\t')
            rc = sl_buf_puts(b, "\\t");
        else if (c < 0x20 || c == 0x7f)
            rc = sl_buf_printf(b, "\\x%02x", c);
        else
            rc = sl_buf_putc(b, (char)c);
        if (rc)
            return -1;
    }
    return sl_buf_putc(b, q);
}

static int py_value(struct sl_buf *b, const struct sl_json *v, bool repr)
{
    if (!v)
        return sl_buf_puts(b, "None");
    switch ((enum sl_json_type)v->type) {
    case SL_JSON_NULL:
        return sl_buf_puts(b, "None");
    case SL_JSON_BOOL:
        return sl_buf_puts(b, v->u.b ? "True" : "False");
    case SL_JSON_INT:
        return sl_buf_printf(b, "%lld", (long long)v->u.i);
    case SL_JSON_BIGINT:
        return sl_buf_puts(b, v->s);
    case SL_JSON_DOUBLE:
        return sl_json_write_double_py(b, v->u.d, true);
    case SL_JSON_STRING:
        return repr ? py_repr_str(b, v->s, v->len) : sl_buf_append(b, v->s, v->len);
    case SL_JSON_ARRAY:
        if (sl_buf_putc(b, '['))
            return -1;
        for (uint32_t i = 0; i < v->len; i++)
            if ((i && sl_buf_puts(b, ", ")) || py_value(b, &v->u.items[i], true))
                return -1;
        return sl_buf_putc(b, ']');
    case SL_JSON_OBJECT:
        if (sl_buf_putc(b, '{'))
            return -1;
        for (uint32_t i = 0; i < v->len; i++) {
            const struct sl_json_member *m = &v->u.members[i];
            if ((i && sl_buf_puts(b, ", ")) || py_repr_str(b, m->key, m->key_len) ||
                sl_buf_puts(b, ": ") || py_value(b, &m->val, true))
                return -1;
        }
        return sl_buf_putc(b, '}');
    }
    return -1;
}

int sl_pystr(struct sl_buf *b, const struct sl_json *v)
{
    if (py_value(b, v, false))
        return -1;
    /* an empty string leaves the buffer's data NULL: callers read b->data */
    return b->data ? 0 : sl_buf_puts(b, "");
}
