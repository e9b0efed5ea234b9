/*
 * check.c — table-driven validation of a config tree (see check.h).
 */
#include "config/check.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"

size_t sl_check_push(struct sl_check *c, const char *key)
{
    size_t old = c->plen;
    sl_cfg_app(c->path, sizeof(c->path), &c->plen, "%s%s", c->plen ? "." : "", key);
    return old;
}

size_t sl_check_push_index(struct sl_check *c, size_t i)
{
    size_t old = c->plen;
    sl_cfg_app(c->path, sizeof(c->path), &c->plen, "[%zu]", i);
    return old;
}

void sl_check_pop(struct sl_check *c, size_t old)
{
    c->plen = old;
    c->path[old] = '\0';
}

const char *sl_check_rel(const struct sl_check *c)
{
    return c->path + (c->rel <= c->plen ? c->rel : c->plen);
}

static void locate(const struct sl_check *c, const struct sl_json *at, char *out, size_t sz)
{
    size_t n = 0;
    const struct sl_cfg_override *best = NULL;
    size_t best_len = 0;
    out[0] = '\0';
    if (c->api)
        return;
    if (at && at->line) {
        sl_cfg_app(out, sz, &n, "%s:%u: ", sl_cfg_file_name(c->file), at->line);
        return;
    }
    for (size_t i = 0; c->ov && i < c->ov->n; i++) {
        const struct sl_cfg_override *o = &c->ov->v[i];
        size_t l = strlen(o->path);
        char next = l <= c->plen ? c->path[l] : 'x';
        if (l <= c->plen && memcmp(o->path, c->path, l) == 0 &&
            (next == '\0' || next == '.' || next == '[') && l >= best_len) {
            best = o;
            best_len = l;
        }
    }
    if (best)
        sl_cfg_app(out, sz, &n, "environment variable %s: ", best->env);
    else
        sl_cfg_app(out, sz, &n, "%s: ", sl_cfg_file_name(c->file));
}

sluice_status sl_check_err(struct sl_check *c, const struct sl_json *at, const char *fmt, ...)
{
    char where[400];
    char msg[720];
    va_list ap;
    locate(c, at, where, sizeof(where));
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sluice_status rc = sl_fail_at(c->ctx, SLUICE_ERR_CONFIG, c->api ? c->resource : NULL, -1,
                                  NULL, "%s%s", where, msg);
    if (rc == SLUICE_ERR_CONFIG)
        sl_fail_origin(c->ctx, "config", NULL);
    return rc;
}

sluice_status sl_check_type(struct sl_check *c, const struct sl_json *v, const char *what)
{
    return sl_check_err(c, v, "'%s' must be %s", sl_check_rel(c), what);
}

/* Optimal string alignment distance, ASCII case ignored; SIZE_MAX for long strings. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    uint8_t d[65][65];
    if (la > 64 || lb > 64)
        return SIZE_MAX;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (uint8_t)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (uint8_t)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            char ca = sl_cfg_lower(a[i - 1]), cb = sl_cfg_lower(b[j - 1]);
            unsigned v = d[i - 1][j - 1] + (ca != cb);
            if (d[i - 1][j] + 1u < v)
                v = d[i - 1][j] + 1u;
            if (d[i][j - 1] + 1u < v)
                v = d[i][j - 1] + 1u;
            if (i > 1 && j > 1 && ca == sl_cfg_lower(b[j - 2]) &&
                sl_cfg_lower(a[i - 2]) == cb && d[i - 2][j - 2] + 1u < v)
                v = d[i - 2][j - 2] + 1u;
            d[i][j] = (uint8_t)v;
        }
    }
    return d[la][lb];
}

static const char *suggest(const char *word, const char *const *known)
{
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    size_t limit = strlen(word) <= 4 ? 1 : 2;
    for (size_t i = 0; known[i]; i++) {
        size_t d = edit_distance(word, known[i]);
        if (d <= limit && d < best_d) {
            best = known[i];
            best_d = d;
        }
    }
    return best;
}

/* A value is echoed only when it looks like a word (never a dsn, a path or a long secret). */
static bool echo_ok(const char *s, size_t n)
{
    if (n == 0 || n > 40)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.' || c == ' ';
        if (!ok)
            return false;
    }
    return true;
}

sluice_status sl_check_unknown(struct sl_check *c, const struct sl_json *at, const char *key,
                              const char *const *known)
{
    const char *hint = suggest(key, known);
    size_t old = sl_check_push(c, key);
    sluice_status rc = sl_check_err(c, at, "unknown key '%s'%s%s%s", c->path,
                            hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
    sl_check_pop(c, old);
    return rc;
}

static sluice_status check_keys(struct sl_check *c, const struct sl_json *obj, const char *const *known)
{
    for (uint32_t i = 0; i < obj->len; i++) {
        const struct sl_json_member *m = &obj->u.members[i];
        if (!sl_cfg_in_list(m->key, known))
            return sl_check_unknown(c, &m->val, m->key, known);
    }
    return SLUICE_OK;
}

sluice_status sl_check_missing(struct sl_check *c, const struct sl_json *obj, const char *key)
{
    size_t old = sl_check_push(c, key);
    sluice_status rc = sl_check_err(c, obj, "missing required key '%s'", c->path);
    sl_check_pop(c, old);
    return rc;
}

/* Integer, number and bool keys take a string holding such a scalar ("${N}" gives one). */
static sluice_status coerce(struct sl_check *c, struct sl_json *v)
{
    struct sl_json t;
    if (v->type != SL_JSON_STRING || v->len == 0)
        return SLUICE_OK;
    if (sl_yaml_resolve_plain(v->s, v->len, &t))
        return sl_nomem(c->ctx);
    if (t.type == SL_JSON_STRING || t.type == SL_JSON_NULL) {
        sl_json_clear(&t);
        return SLUICE_OK;
    }
    t.line = v->line;
    sl_json_clear(v);
    *v = t;
    return SLUICE_OK;
}

static sluice_status check_str(struct sl_check *c, const struct sl_json *v, bool nonempty,
                          const char **out)
{
    if (v->type != SL_JSON_STRING)
        return sl_check_type(c, v, "a string");
    if (memchr(v->s, '\0', v->len))
        return sl_check_err(c, v, "'%s' must not contain NUL characters", sl_check_rel(c));
    if (nonempty && v->len == 0)
        return sl_check_err(c, v, "'%s' must not be empty", sl_check_rel(c));
    *out = v->s;
    return SLUICE_OK;
}

static sluice_status check_int(struct sl_check *c, struct sl_json *v, int64_t min, int64_t *out)
{
    sluice_status rc = coerce(c, v);
    if (rc != SLUICE_OK)
        return rc;
    if (v->type == SL_JSON_BIGINT)
        return sl_check_err(c, v, "'%s' is out of range", sl_check_rel(c));
    if (v->type != SL_JSON_INT)
        return sl_check_type(c, v, "an integer");
    if (v->u.i < min)
        return sl_check_err(c, v, "'%s' must be %s", sl_check_rel(c), min == 0 ? ">= 0" : "> 0");
    *out = v->u.i;
    return SLUICE_OK;
}

static sluice_status check_num(struct sl_check *c, struct sl_json *v)
{
    sluice_status rc = coerce(c, v);
    if (rc != SLUICE_OK)
        return rc;
    if (!sl_json_is_num(v) || !isfinite(sl_json_num(v)))
        return sl_check_type(c, v, "a number");
    if (sl_json_num(v) < 0)
        return sl_check_err(c, v, "'%s' must be >= 0", sl_check_rel(c));
    return SLUICE_OK;
}

static sluice_status check_bool(struct sl_check *c, struct sl_json *v, bool *out)
{
    sluice_status rc = coerce(c, v);
    if (rc != SLUICE_OK)
        return rc;
    if (v->type != SL_JSON_BOOL)
        return sl_check_type(c, v, "true or false");
    *out = v->u.b;
    return SLUICE_OK;
}

static sluice_status check_enum(struct sl_check *c, const struct sl_json *v, const char *const *names,
                           size_t *idx)
{
    char all[256];
    size_t n = 0;
    for (size_t i = 0; names[i]; i++)
        sl_cfg_app(all, sizeof(all), &n, "%s%s", i ? ", " : "", names[i]);
    if (v->type != SL_JSON_STRING)
        return sl_check_err(c, v, "'%s' must be one of %s", sl_check_rel(c), all);
    long i = memchr(v->s, '\0', v->len) ? -1 : sl_cfg_list_index(v->s, names);
    if (i >= 0) {
        *idx = (size_t)i;
        return SLUICE_OK;
    }
    if (!echo_ok(v->s, v->len))
        return sl_check_err(c, v, "'%s' must be one of %s", sl_check_rel(c), all);
    const char *hint = suggest(v->s, names);
    return sl_check_err(c, v, "'%s' must be one of %s (got '%s'%s%s%s)", sl_check_rel(c), all, v->s,
                hint ? "; did you mean '" : "", hint ? hint : "", hint ? "'?" : "");
}

static sluice_status check_scalar(struct sl_check *c, const struct sl_json *v)
{
    if (v->type == SL_JSON_ARRAY || v->type == SL_JSON_OBJECT)
        return sl_check_type(c, v, "a single value (string, number, bool or null)");
    return SLUICE_OK;
}

/* A string or a list of strings ([] allowed); copied to *out when out is not NULL. */
sluice_status sl_check_keylist(struct sl_check *c, const struct sl_json *v, char ***out, size_t *nout)
{
    const char *what = "a string or a list of strings";
    const char *s = NULL;
    char **list = NULL;
    size_t n = 0;
    sluice_status rc = SLUICE_OK;

    if (v->type == SL_JSON_STRING) {
        rc = check_str(c, v, true, &s);
    } else if (v->type == SL_JSON_ARRAY) {
        for (uint32_t i = 0; i < v->len && rc == SLUICE_OK; i++) {
            size_t old = sl_check_push_index(c, i);
            if (v->u.items[i].type != SL_JSON_STRING)
                rc = sl_check_type(c, &v->u.items[i], "a string");
            else
                rc = check_str(c, &v->u.items[i], true, &s);
            sl_check_pop(c, old);
        }
    } else {
        rc = sl_check_type(c, v, what);
    }
    if (rc != SLUICE_OK || !out)
        return rc;
    size_t count = v->type == SL_JSON_STRING ? 1 : v->len;
    list = sl_calloc(count ? count : 1, sizeof(*list));
    if (!list)
        return sl_nomem(c->ctx);
    for (n = 0; n < count; n++) {
        list[n] = sl_strdup(v->type == SL_JSON_STRING ? v->s : v->u.items[n].s);
        if (!list[n]) {
            sl_strv_free(list, n);
            return sl_nomem(c->ctx);
        }
    }
    *out = list;
    *nout = n;
    return SLUICE_OK;
}


/* ============================================================================================
 * Fields
 * ========================================================================================== */

sluice_status sl_check_value(struct sl_check *c, struct sl_json *v,
                             const struct sl_check_field *f, struct sl_check_value *out)
{
    struct sl_check_value tmp;
    sluice_status rc = SLUICE_OK;

    if (!out)
        out = &tmp;
    memset(out, 0, sizeof(*out));
    if (f->null_ok && v->type == SL_JSON_NULL)
        return SLUICE_OK;
    switch (f->kind) {
    case SL_CHECK_ANY:
        break;
    case SL_CHECK_STR:
        rc = check_str(c, v, true, &out->s);
        break;
    case SL_CHECK_ENUM:
        rc = check_enum(c, v, f->names, &out->idx);
        if (rc == SLUICE_OK)
            out->s = f->names[out->idx];
        break;
    case SL_CHECK_INT:
        rc = check_int(c, v, f->min, &out->i);
        break;
    case SL_CHECK_NUM:
        rc = check_num(c, v);
        break;
    case SL_CHECK_BOOL:
        rc = check_bool(c, v, &out->b);
        break;
    case SL_CHECK_SCALAR:
        rc = check_scalar(c, v);
        break;
    case SL_CHECK_KEYLIST:
        rc = sl_check_keylist(c, v, NULL, NULL);
        break;
    }
    if (rc == SLUICE_OK)
        out->present = true;
    return rc;
}

sluice_status sl_check_child(struct sl_check *c, struct sl_json *obj,
                             const struct sl_check_field *f, struct sl_check_value *out)
{
    struct sl_json *v = sl_json_get_mut(obj, f->key);
    if (out)
        memset(out, 0, sizeof(*out));
    if (!v)
        return f->required ? sl_check_missing(c, obj, f->key) : SLUICE_OK;
    size_t old = sl_check_push(c, f->key);
    sluice_status rc = sl_check_value(c, v, f, out);
    sl_check_pop(c, old);
    return rc;
}

sluice_status sl_check_fields(struct sl_check *c, struct sl_json *obj,
                              const struct sl_check_field *fields, struct sl_check_value *vals)
{
    const char *known[64];
    size_t n = 0;
    sluice_status rc = SLUICE_OK;

    for (; fields[n].key; n++) {
        SL_ASSERT(n + 1 < sizeof(known) / sizeof(known[0]));
        known[n] = fields[n].key;
    }
    known[n] = NULL;
    rc = check_keys(c, obj, known);
    for (size_t i = 0; i < n && rc == SLUICE_OK; i++)
        rc = sl_check_child(c, obj, &fields[i], vals ? &vals[i] : NULL);
    return rc;
}

sluice_status sl_check_store_json(struct sl_check *c, const struct sl_json *v,
                                  struct sl_json **slot)
{
    struct sl_json *copy = NULL;
    if (v->type != SL_JSON_NULL) {
        copy = sl_json_dup(v);
        if (!copy)
            return sl_nomem(c->ctx);
    }
    sl_json_free(*slot);
    *slot = copy;
    return SLUICE_OK;
}
