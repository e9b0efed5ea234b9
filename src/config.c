/*
 * config.c — the pipeline config: YAML/JSON text → JSON tree → ${VAR} interpolation →
 * dlt-style environment overrides → validated struct sl_pipeline_cfg (config.h, DESIGN.md 4).
 *
 * Reading. libyaml's event API drives a stack of frames (one per open mapping or sequence)
 * that builds a heap sl_json tree; JSON files take the same path, JSON being flow-style YAML.
 * Plain scalars are typed with the YAML 1.2 core schema (integers beyond int64 become
 * SL_JSON_BIGINT, as in json.c; hex 0x.. and octal 0o.. beyond int64 stay strings); quoted
 * scalars stay strings. Every node records a 1-based line; a mapping member's value carries
 * the line of its KEY (the place an error should point at), sequence items and the root their
 * own. An alias is a deep copy of its anchored node, which is registered only once complete,
 * so a node can never contain itself; "<<" merge keys are honoured (explicit keys win, then
 * earlier merged mappings). Duplicate keys, several documents, unknown tags and non-scalar
 * keys are errors. Caps: 16 MiB of text, 64 levels, 200 000 values counting alias and merge
 * expansions (a "billion laughs" file stops early), 10 000 keys per mapping, 1 MiB per string.
 *
 * Then ${NAME} in string values (never keys) is replaced from the environment ($${ gives a
 * literal ${); the result stays a string. Then environment overrides are applied in a fixed
 * order (fewer "__" segments first, then by name, so the more specific variable wins).
 * Override values are parsed as YAML, except for keys whose type is a string (commands, paths,
 * credentials, table names, ...), which take the raw text: a dsn or a "{type}" template is
 * never reinterpreted. Nodes an override creates have line 0 and the override is remembered by
 * key path, so a validation error names the variable instead of a file line. A variable for a
 * source or resource that the file does not define is ignored, as dlt ignores settings nobody
 * asks for.
 *
 * Validation walks the tree once. Errors are CONFIG, "<where>: <what>", where being
 * "file:line" or "environment variable NAME". Key errors (unknown, missing, duplicate) name the
 * full dotted path; value errors name the key relative to its resource (or to the top level),
 * as in "'write_disposition' must be one of append, replace, merge (got 'upsert')". Values
 * are never echoed except enumeration words that look like words, so a secret can't leak into
 * a message. Integer, number and boolean keys also accept a string holding such a scalar (what
 * "${DEPTH}" gives), the way dlt coerces config values to the declared type. Resource keys go
 * through one table of setters shared with sl_resource_cfg_set, so the C API and the file obey
 * the same rules; each setter validates completely before it touches the struct.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

extern char **environ;

#define CFG_MAX_TEXT ((size_t)16 << 20)
#define CFG_MAX_DEPTH 64
#define CFG_MAX_NODES ((size_t)200000)
#define CFG_MAX_KEYS 10000u
#define CFG_MAX_KEY_LEN ((size_t)1024)
#define CFG_MAX_STRING ((size_t)1 << 20)
#define CFG_MAX_ENV_SEGS 16
#define CFG_PATH_MAX 512

/* ============================================================================================
 * Small helpers
 * ========================================================================================== */

static const char *file_name(const char *path)
{
    return path ? path : "<config>";
}

static sluice_status config_fail(struct sl_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static sluice_status config_fail(struct sl_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sluice_status rc = sl_failv(ctx, SLUICE_ERR_CONFIG, fmt, ap);
    va_end(ap);
    if (rc == SLUICE_ERR_CONFIG)
        sl_fail_origin(ctx, "config", NULL);
    return rc;
}

/* Append to a fixed buffer, truncating silently (used for paths and messages only). */
static void app(char *out, size_t sz, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void app(char *out, size_t sz, size_t *n, const char *fmt, ...)
{
    if (*n + 1 >= sz)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(out + *n, sz - *n, fmt, ap);
    va_end(ap);
    if (k < 0) {
        out[*n] = '\0';
        return;
    }
    *n += (size_t)k;
    if (*n > sz - 1)
        *n = sz - 1;
}

static bool in_list(const char *s, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

static long list_index(const char *s, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return (long)i;
    return -1;
}

static bool word_is(const char *s, size_t n, const char *const *words)
{
    for (size_t i = 0; words[i]; i++)
        if (strlen(words[i]) == n && memcmp(s, words[i], n) == 0)
            return true;
    return false;
}

static char upper_ascii(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

static char lower_ascii(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Values in a tree, for the alias/merge expansion cap. */
static size_t tree_nodes(const struct sl_json *v)
{
    size_t n = 1;
    if (v->type == SL_JSON_ARRAY)
        for (uint32_t i = 0; i < v->len; i++)
            n += tree_nodes(&v->u.items[i]);
    else if (v->type == SL_JSON_OBJECT)
        for (uint32_t i = 0; i < v->len; i++)
            n += tree_nodes(&v->u.members[i].val);
    return n;
}

static void zero_lines(struct sl_json *v)
{
    v->line = 0;
    if (v->type == SL_JSON_ARRAY)
        for (uint32_t i = 0; i < v->len; i++)
            zero_lines(&v->u.items[i]);
    else if (v->type == SL_JSON_OBJECT)
        for (uint32_t i = 0; i < v->len; i++)
            zero_lines(&v->u.members[i].val);
}

/* ============================================================================================
 * Scalars: the YAML 1.2 core schema
 * ========================================================================================== */

static const char *const null_words[] = { "~", "null", "Null", "NULL", NULL };
static const char *const true_words[] = { "true", "True", "TRUE", NULL };
static const char *const false_words[] = { "false", "False", "FALSE", NULL };
static const char *const inf_words[] = { ".inf", ".Inf", ".INF", NULL };
static const char *const nan_words[] = { ".nan", ".NaN", ".NAN", NULL };

static bool is_digit_base(char c, int base)
{
    if (base == 8)
        return c >= '0' && c <= '7';
    if (base == 16)
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    return c >= '0' && c <= '9';
}

static size_t span_digits(const char *s, size_t n, size_t i, int base)
{
    while (i < n && is_digit_base(s[i], base))
        i++;
    return i;
}

/* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
static bool is_float_text(const char *s, size_t n)
{
    size_t i = 0;
    size_t j;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    if (i < n && s[i] == '.') {
        j = span_digits(s, n, i + 1, 10);
        if (j == i + 1)
            return false;
        i = j;
    } else {
        j = span_digits(s, n, i, 10);
        if (j == i)
            return false;
        i = j;
        if (i < n && s[i] == '.')
            i = span_digits(s, n, i + 1, 10);
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        j = span_digits(s, n, i, 10);
        if (j == i)
            return false;
        i = j;
    }
    return i == n;
}

/* An integer beyond int64 as SL_JSON_BIGINT, in canonical decimal text. */
static int set_bigint(struct sl_json *out, const char *s, size_t n)
{
    bool neg = s[0] == '-';
    size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    while (i + 1 < n && s[i] == '0')
        i++;
    char *t = sl_aprintf("%s%.*s", neg ? "-" : "", (int)(n - i), s + i);
    if (!t)
        return -1;
    sl_json_set_null(out);
    out->type = SL_JSON_BIGINT;
    out->s = t;
    out->len = (uint32_t)strlen(t);
    return 0;
}

/* Type a plain scalar (s is NUL-terminated at n). 0 ok, -1 out of memory (out is null). */
static int resolve_plain(const char *s, size_t n, struct sl_json *out)
{
    sl_json_set_null(out);
    if (n == 0 || word_is(s, n, null_words))
        return 0;
    if (memchr(s, '\0', n))
        return sl_json_set_str(out, s, n);
    if (word_is(s, n, true_words) || word_is(s, n, false_words)) {
        sl_json_set_bool(out, word_is(s, n, true_words));
        return 0;
    }
    size_t i = (s[0] == '+' || s[0] == '-') ? 1 : 0;
    if (i < n && span_digits(s, n, i, 10) == n) {
        errno = 0;
        long long x = strtoll(s, NULL, 10);
        if (errno == ERANGE)
            return set_bigint(out, s, n);
        sl_json_set_int(out, (int64_t)x);
        return 0;
    }
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
        int base = s[1] == 'x' ? 16 : 8;
        if (span_digits(s, n, 2, base) == n) {
            errno = 0;
            unsigned long long u = strtoull(s + 2, NULL, base);
            if (errno != ERANGE && u <= (unsigned long long)INT64_MAX) {
                sl_json_set_int(out, (int64_t)u);
                return 0;
            }
        }
        return sl_json_set_str(out, s, n);
    }
    if (is_float_text(s, n)) {
        sl_json_set_double(out, strtod(s, NULL));
        return 0;
    }
    size_t sign = (s[0] == '+' || s[0] == '-') ? 1 : 0;
    if (word_is(s + sign, n - sign, inf_words)) {
        sl_json_set_double(out, s[0] == '-' ? -INFINITY : INFINITY);
        return 0;
    }
    if (word_is(s, n, nan_words)) {
        sl_json_set_double(out, NAN);
        return 0;
    }
    return sl_json_set_str(out, s, n);
}

/* ============================================================================================
 * YAML → heap JSON tree
 * ========================================================================================== */

struct yframe {
    struct sl_json val;   /* the container being built */
    char *key;            /* mappings: the key whose value is being read, or NULL */
    uint32_t key_line;
    bool is_map;
    bool has_merge;       /* a plain "<<" key was seen */
    char *anchor;         /* anchor of this container, or NULL */
    size_t nodes_at_open;
};

struct yanchor {
    char *name;
    struct sl_json *val;  /* heap copy of the anchored node */
    size_t nodes;
};

struct yparse {
    struct sl_ctx *ctx;
    const char *path;
    struct yframe st[CFG_MAX_DEPTH];
    size_t depth;
    struct yanchor *anchors;
    size_t nanchors, acap;
    size_t nodes;
    int ndocs;
    bool have_root;
    struct sl_json root;
};

static uint32_t mark_line(const yaml_mark_t *m)
{
    return m->line >= UINT32_MAX - 1 ? UINT32_MAX : (uint32_t)m->line + 1;
}

static uint32_t mark_col(const yaml_mark_t *m)
{
    return m->column >= UINT32_MAX - 1 ? UINT32_MAX : (uint32_t)m->column + 1;
}

static sluice_status yfail(struct yparse *p, uint32_t line, uint32_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static sluice_status yfail(struct yparse *p, uint32_t line, uint32_t col, const char *fmt, ...)
{
    char msg[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (col)
        return config_fail(p->ctx, "%s:%u:%u: %s", file_name(p->path), line, col, msg);
    return config_fail(p->ctx, "%s:%u: %s", file_name(p->path), line, msg);
}

static sluice_status ycount(struct yparse *p, size_t n, uint32_t line)
{
    if (n > CFG_MAX_NODES - p->nodes)
        return yfail(p, line, 0, "more than %zu values (aliases and merges included)",
                     CFG_MAX_NODES);
    p->nodes += n;
    return SLUICE_OK;
}

/* Dotted path of the key being read at the top frame, for messages. */
static void ypath(const struct yparse *p, const char *last, char *out, size_t sz)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < p->depth; i++) {
        const struct yframe *f = &p->st[i];
        if (f->is_map && f->key)
            app(out, sz, &n, "%s%s", n ? "." : "", f->key);
        else if (!f->is_map)
            app(out, sz, &n, "[%u]", f->val.len);
    }
    app(out, sz, &n, "%s%s", n ? "." : "", last);
}

static sluice_status yanchor_add(struct yparse *p, const char *name, const struct sl_json *v,
                                 size_t nodes)
{
    if (p->nanchors == p->acap) {
        size_t ncap = p->acap ? p->acap * 2 : 8;
        struct yanchor *a = sl_realloc(p->anchors, ncap * sizeof(*a));
        if (!a)
            return sl_nomem(p->ctx);
        p->anchors = a;
        p->acap = ncap;
    }
    struct yanchor *a = &p->anchors[p->nanchors];
    a->name = sl_strdup(name);
    a->val = sl_json_dup(v);
    a->nodes = nodes;
    if (!a->name || !a->val) {
        sl_free(a->name);
        sl_json_free(a->val);
        return sl_nomem(p->ctx);
    }
    p->nanchors++;
    return SLUICE_OK;
}

/* Store a complete value into the open container (or as the root); takes v's contents. */
static sluice_status yadd(struct yparse *p, struct sl_json *v, const char *anchor, size_t nodes)
{
    struct sl_json *stored = NULL;
    if (p->depth == 0) {
        SL_ASSERT(!p->have_root);
        p->root = *v;
        sl_json_set_null(v);
        p->have_root = true;
        stored = &p->root;
    } else {
        struct yframe *top = &p->st[p->depth - 1];
        if (top->is_map) {
            v->line = top->key_line;
            stored = sl_json_obj_set_take(&top->val, top->key, v);
            sl_free(top->key);
            top->key = NULL;
        } else {
            stored = sl_json_arr_push_take(&top->val, v);
        }
    }
    if (!stored) {
        sl_json_clear(v);
        return sl_nomem(p->ctx);
    }
    if (anchor)
        return yanchor_add(p, anchor, stored, nodes);
    return SLUICE_OK;
}

static sluice_status scalar_value(struct yparse *p, const yaml_event_t *ev, uint32_t line,
                                  uint32_t col, struct sl_json *out)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    const char *want = NULL;
    bool as_string = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
    bool ok = true;

    sl_json_set_null(out);
    if (n > CFG_MAX_STRING)
        return yfail(p, line, col, "a value is longer than %zu bytes", CFG_MAX_STRING);
    if (tag && strcmp(tag, "!") == 0) {
        as_string = true;
    } else if (tag) {
        if (strcmp(tag, YAML_STR_TAG) == 0)
            as_string = true;
        else if (strcmp(tag, YAML_NULL_TAG) == 0 || strcmp(tag, YAML_BOOL_TAG) == 0 ||
                 strcmp(tag, YAML_INT_TAG) == 0 || strcmp(tag, YAML_FLOAT_TAG) == 0)
            want = tag + strlen("tag:yaml.org,2002:");
        else
            return yfail(p, line, col, "unsupported YAML tag '%s'", tag);
        if (want)
            as_string = false;
    }
    if (as_string) {
        if (sl_json_set_str(out, s, n))
            return sl_nomem(p->ctx);
        return SLUICE_OK;
    }
    if (resolve_plain(s, n, out))
        return sl_nomem(p->ctx);
    if (!want)
        return SLUICE_OK;
    if (strcmp(want, "null") == 0)
        ok = out->type == SL_JSON_NULL;
    else if (strcmp(want, "bool") == 0)
        ok = out->type == SL_JSON_BOOL;
    else if (strcmp(want, "int") == 0)
        ok = out->type == SL_JSON_INT || out->type == SL_JSON_BIGINT;
    else if (out->type == SL_JSON_INT)
        sl_json_set_double(out, (double)out->u.i);
    else
        ok = out->type == SL_JSON_DOUBLE;
    if (!ok) {
        sl_json_clear(out);
        return yfail(p, line, col, "the value is not a valid !!%s", want);
    }
    return SLUICE_OK;
}

static sluice_status on_key(struct yparse *p, struct yframe *top, const yaml_event_t *ev,
                            uint32_t line, uint32_t col)
{
    const char *k = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    char path[CFG_PATH_MAX];

    if (memchr(k, '\0', n))
        return yfail(p, line, col, "a key contains a NUL character");
    if (n > CFG_MAX_KEY_LEN)
        return yfail(p, line, col, "a key is longer than %zu bytes", CFG_MAX_KEY_LEN);
    if (top->val.len >= CFG_MAX_KEYS)
        return yfail(p, line, col, "more than %u keys in one mapping", CFG_MAX_KEYS);
    if (sl_json_get(&top->val, k)) {
        ypath(p, k, path, sizeof(path));
        return yfail(p, line, 0, "duplicate key '%s'", path);
    }
    top->key = sl_strndup(k, n);
    if (!top->key)
        return sl_nomem(p->ctx);
    top->key_line = line;
    if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && n == 2 && memcmp(k, "<<", 2) == 0)
        top->has_merge = true;
    return SLUICE_OK;
}

static sluice_status on_scalar(struct yparse *p, const yaml_event_t *ev)
{
    uint32_t line = mark_line(&ev->start_mark);
    uint32_t col = mark_col(&ev->start_mark);
    struct yframe *top = p->depth ? &p->st[p->depth - 1] : NULL;
    struct sl_json v;
    sluice_status rc;

    if (top && top->is_map && !top->key)
        return on_key(p, top, ev, line, col);
    rc = ycount(p, 1, line);
    if (rc == SLUICE_OK)
        rc = scalar_value(p, ev, line, col, &v);
    if (rc != SLUICE_OK)
        return rc;
    v.line = line;
    return yadd(p, &v, (const char *)ev->data.scalar.anchor, 1);
}

static sluice_status on_open(struct yparse *p, const yaml_event_t *ev, bool is_map)
{
    uint32_t line = mark_line(&ev->start_mark);
    uint32_t col = mark_col(&ev->start_mark);
    struct yframe *top = p->depth ? &p->st[p->depth - 1] : NULL;
    const char *tag = (const char *)(is_map ? ev->data.mapping_start.tag
                                            : ev->data.sequence_start.tag);
    const char *anchor = (const char *)(is_map ? ev->data.mapping_start.anchor
                                               : ev->data.sequence_start.anchor);
    sluice_status rc;

    if (top && top->is_map && !top->key)
        return yfail(p, line, col, "only plain values can be keys (found a %s)",
                     is_map ? "mapping" : "sequence");
    if (tag && strcmp(tag, "!") != 0 && strcmp(tag, is_map ? YAML_MAP_TAG : YAML_SEQ_TAG) != 0)
        return yfail(p, line, col, "unsupported YAML tag '%s'", tag);
    if (p->depth == CFG_MAX_DEPTH)
        return yfail(p, line, col, "values nested deeper than %d levels", CFG_MAX_DEPTH);
    rc = ycount(p, 1, line);
    if (rc != SLUICE_OK)
        return rc;
    struct yframe *f = &p->st[p->depth];
    memset(f, 0, sizeof(*f));
    f->is_map = is_map;
    if (is_map)
        sl_json_set_object(&f->val);
    else
        sl_json_set_array(&f->val);
    f->val.line = line;
    f->nodes_at_open = p->nodes;
    p->depth++;
    if (anchor) {
        f->anchor = sl_strdup(anchor);
        if (!f->anchor)
            return sl_nomem(p->ctx);
    }
    return SLUICE_OK;
}

static sluice_status merge_from(struct yparse *p, struct yframe *f, const struct sl_json *src)
{
    for (uint32_t i = 0; i < src->len; i++) {
        const struct sl_json_member *m = &src->u.members[i];
        struct sl_json c;
        sluice_status rc;
        if (sl_json_get(&f->val, m->key))
            continue;
        if (f->val.len >= CFG_MAX_KEYS)
            return yfail(p, m->val.line, 0, "more than %u keys in one mapping", CFG_MAX_KEYS);
        rc = ycount(p, tree_nodes(&m->val), m->val.line);
        if (rc != SLUICE_OK)
            return rc;
        if (sl_json_copy_into(&c, &m->val) || !sl_json_obj_set_take(&f->val, m->key, &c)) {
            sl_json_clear(&c);
            return sl_nomem(p->ctx);
        }
    }
    return SLUICE_OK;
}

/* YAML merge key: "<<: *base" or "<<: [*a, *b]"; keys already present win. */
static sluice_status apply_merge(struct yparse *p, struct yframe *f)
{
    struct sl_json *mv = sl_json_get_mut(&f->val, "<<");
    struct sl_json src;
    sluice_status rc = SLUICE_OK;

    SL_ASSERT(mv != NULL);
    src = *mv;
    sl_json_set_null(mv);
    sl_json_obj_del(&f->val, "<<");
    if (src.type == SL_JSON_OBJECT) {
        rc = merge_from(p, f, &src);
    } else if (src.type == SL_JSON_ARRAY) {
        for (uint32_t i = 0; i < src.len && rc == SLUICE_OK; i++) {
            if (src.u.items[i].type != SL_JSON_OBJECT)
                rc = yfail(p, src.line, 0, "a '<<' merge key takes a mapping or a list of "
                                           "mappings");
            else
                rc = merge_from(p, f, &src.u.items[i]);
        }
    } else {
        rc = yfail(p, src.line, 0, "a '<<' merge key takes a mapping or a list of mappings");
    }
    sl_json_clear(&src);
    return rc;
}

static sluice_status on_close(struct yparse *p)
{
    SL_ASSERT(p->depth > 0);
    struct yframe *f = &p->st[p->depth - 1];
    sluice_status rc = SLUICE_OK;
    if (f->is_map && f->has_merge)
        rc = apply_merge(p, f);
    struct sl_json v = f->val;
    char *anchor = f->anchor;
    size_t nodes = p->nodes - f->nodes_at_open + 1;
    sl_json_set_null(&f->val);
    f->anchor = NULL;
    sl_free(f->key);
    f->key = NULL;
    p->depth--;
    if (rc == SLUICE_OK)
        rc = yadd(p, &v, anchor, nodes);
    else
        sl_json_clear(&v);
    sl_free(anchor);
    return rc;
}

static sluice_status on_alias(struct yparse *p, const yaml_event_t *ev)
{
    uint32_t line = mark_line(&ev->start_mark);
    uint32_t col = mark_col(&ev->start_mark);
    const char *name = (const char *)ev->data.alias.anchor;
    struct yframe *top = p->depth ? &p->st[p->depth - 1] : NULL;
    const struct yanchor *a = NULL;
    struct sl_json v;
    sluice_status rc;

    if (top && top->is_map && !top->key)
        return yfail(p, line, col, "an alias can't be used as a key");
    for (size_t i = p->nanchors; i-- > 0;) {
        if (strcmp(p->anchors[i].name, name) == 0) {
            a = &p->anchors[i];
            break;
        }
    }
    if (!a)
        return yfail(p, line, col, "unknown anchor '%s' (an alias must follow its complete "
                                   "anchored value)", name);
    rc = ycount(p, a->nodes, line);
    if (rc != SLUICE_OK)
        return rc;
    if (sl_json_copy_into(&v, a->val)) {
        sl_json_clear(&v);
        return sl_nomem(p->ctx);
    }
    v.line = line;
    return yadd(p, &v, NULL, a->nodes);
}

static sluice_status on_event(struct yparse *p, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (p->ndocs++ > 0)
            return yfail(p, mark_line(&ev->start_mark), mark_col(&ev->start_mark),
                         "a second YAML document ('---'); a config file holds one");
        return SLUICE_OK;
    case YAML_SCALAR_EVENT:
        return on_scalar(p, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_open(p, ev, false);
    case YAML_MAPPING_START_EVENT:
        return on_open(p, ev, true);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return on_close(p);
    case YAML_ALIAS_EVENT:
        return on_alias(p, ev);
    default:
        return SLUICE_OK;
    }
}

/* The one place libyaml's errors are translated. */
static sluice_status ysyntax(struct yparse *p, const yaml_parser_t *ps)
{
    const char *problem = ps->problem ? ps->problem : "invalid YAML";
    if (ps->error == YAML_MEMORY_ERROR)
        return sl_nomem(p->ctx);
    if (ps->error == YAML_READER_ERROR)
        return config_fail(p->ctx, "%s: invalid text at byte %zu: %s", file_name(p->path),
                           ps->problem_offset, problem);
    if (ps->context)
        return config_fail(p->ctx, "%s:%u:%u: %s (%s at line %u)", file_name(p->path),
                           mark_line(&ps->problem_mark), mark_col(&ps->problem_mark), problem,
                           ps->context, mark_line(&ps->context_mark));
    return config_fail(p->ctx, "%s:%u:%u: %s", file_name(p->path), mark_line(&ps->problem_mark),
                       mark_col(&ps->problem_mark), problem);
}

static void yparse_free(struct yparse *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->depth; i++) {
        sl_json_clear(&p->st[i].val);
        sl_free(p->st[i].key);
        sl_free(p->st[i].anchor);
    }
    for (size_t i = 0; i < p->nanchors; i++) {
        sl_free(p->anchors[i].name);
        sl_json_free(p->anchors[i].val);
    }
    sl_free(p->anchors);
    sl_json_clear(&p->root);
    sl_free(p);
}

sluice_status sl_yaml_parse(struct sl_ctx *ctx, const char *path, const char *text, size_t len,
                            struct sl_json **out)
{
    struct yparse *p = NULL;
    yaml_parser_t ps;
    yaml_event_t ev;
    bool ps_ok = false;
    bool finished = false;
    sluice_status rc = SLUICE_OK;

    *out = NULL;
    if (!text) {
        text = "";
        len = 0;
    }
    if (len > CFG_MAX_TEXT) {
        rc = config_fail(ctx, "%s: the config is larger than %zu bytes", file_name(path),
                         CFG_MAX_TEXT);
        goto done;
    }
    p = sl_calloc(1, sizeof(*p));
    if (!p || !yaml_parser_initialize(&ps)) {
        rc = sl_nomem(ctx);
        goto done;
    }
    ps_ok = true;
    p->ctx = ctx;
    p->path = path;
    yaml_parser_set_input_string(&ps, (const unsigned char *)text, len);
    while (!finished) {
        if (!yaml_parser_parse(&ps, &ev)) {
            rc = ysyntax(p, &ps);
            goto done;
        }
        if (ev.type == YAML_STREAM_END_EVENT)
            finished = true;
        else
            rc = on_event(p, &ev);
        yaml_event_delete(&ev);
        if (rc != SLUICE_OK)
            goto done;
    }
    *out = sl_malloc(sizeof(**out));
    if (!*out) {
        rc = sl_nomem(ctx);
        goto done;
    }
    if (p->have_root) {
        **out = p->root;
        sl_json_set_null(&p->root);
    } else {
        sl_json_set_null(*out);
        (*out)->line = 1;
    }
done:
    if (ps_ok)
        yaml_parser_delete(&ps);
    yparse_free(p);
    return rc;
}

/* ============================================================================================
 * ${NAME} interpolation
 * ========================================================================================== */

static bool var_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > 255)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                  (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

static sluice_status interp_put(struct sl_ctx *ctx, const char *path, uint32_t line,
                                struct sl_buf *b, const char *d, size_t n)
{
    if (n > CFG_MAX_STRING - b->len)
        return config_fail(ctx, "%s:%u: a value is longer than %zu bytes after ${...} "
                                "substitution", file_name(path), line, CFG_MAX_STRING);
    if (sl_buf_append(b, d, n))
        return sl_nomem(ctx);
    return SLUICE_OK;
}

static sluice_status interp_string(struct sl_ctx *ctx, const char *path, struct sl_json *v)
{
    const char *s = v->s;
    size_t n = v->len;
    size_t i = 0;
    struct sl_buf b;
    sluice_status rc = SLUICE_OK;
    char var[256];

    if (!memchr(s, '$', n))
        return SLUICE_OK;
    sl_buf_init(&b, CFG_MAX_STRING);
    while (i < n && rc == SLUICE_OK) {
        const char *dollar = memchr(s + i, '$', n - i);
        size_t run = dollar ? (size_t)(dollar - (s + i)) : n - i;
        rc = interp_put(ctx, path, v->line, &b, s + i, run);
        i += run;
        if (rc != SLUICE_OK || i >= n)
            break;
        if (n - i >= 3 && s[i + 1] == '$' && s[i + 2] == '{') {
            rc = interp_put(ctx, path, v->line, &b, "${", 2);
            i += 3;
        } else if (n - i >= 2 && s[i + 1] == '{') {
            const char *name = s + i + 2;
            const char *end = memchr(name, '}', n - i - 2);
            size_t nl = end ? (size_t)(end - name) : 0;
            const char *val;
            if (!end) {
                rc = config_fail(ctx, "%s:%u: unterminated '${' in a value (write '$${' for a "
                                      "literal '${')", file_name(path), v->line);
                break;
            }
            if (!var_name_ok(name, nl)) {
                rc = config_fail(ctx, "%s:%u: '${%.*s}' is not a valid environment variable "
                                      "reference", file_name(path), v->line,
                                 (int)(nl > 64 ? 64 : nl), name);
                break;
            }
            memcpy(var, name, nl);
            var[nl] = '\0';
            val = getenv(var);
            if (!val) {
                rc = config_fail(ctx, "%s:%u: environment variable '%s' is not set",
                                 file_name(path), v->line, var);
                break;
            }
            rc = interp_put(ctx, path, v->line, &b, val, strlen(val));
            i = (size_t)(end - s) + 1;
        } else {
            rc = interp_put(ctx, path, v->line, &b, "$", 1);
            i++;
        }
    }
    if (rc == SLUICE_OK) {
        size_t nl = b.len;
        char *ns = sl_buf_take(&b);
        if (!ns) {
            rc = sl_nomem(ctx);
        } else {
            sl_free_secret((char *)v->s);
            v->s = ns;
            v->len = (uint32_t)nl;
        }
    }
    sl_buf_cleanup(&b);
    return rc;
}

static sluice_status interpolate(struct sl_ctx *ctx, const char *path, struct sl_json *v)
{
    sluice_status rc = SLUICE_OK;
    if (v->type == SL_JSON_STRING)
        rc = interp_string(ctx, path, v);
    else if (v->type == SL_JSON_ARRAY)
        for (uint32_t i = 0; i < v->len && rc == SLUICE_OK; i++)
            rc = interpolate(ctx, path, &v->u.items[i]);
    else if (v->type == SL_JSON_OBJECT)
        for (uint32_t i = 0; i < v->len && rc == SLUICE_OK; i++)
            rc = interpolate(ctx, path, &v->u.members[i].val);
    return rc;
}

/* ============================================================================================
 * Environment overrides
 * ========================================================================================== */

struct override {
    char *path; /* dotted key path of the topmost node the variable set or created */
    char *env;  /* the variable's name as written */
};

struct overrides {
    struct override *v;
    size_t n, cap;
};

struct envvar {
    char *up;          /* upper-cased name (split in place when applied) */
    char *name;        /* the name as written */
    const char *value; /* borrowed from environ */
    size_t nseg;       /* "__"-separated segments, for the order */
};

/* Keys whose values are strings: an override takes the raw text, never parsed as YAML. */
static const char *const string_keys[] = {
    "command", "file",  "format",   "table_name", "cursor_path", "assume_tz",
    "dsn",     "path",  "credentials", "type",    "dataset",     "pipeline",
    "data_type", "disposition", "strategy", NULL
};

static void overrides_cleanup(struct overrides *o)
{
    for (size_t i = 0; i < o->n; i++) {
        sl_free(o->v[i].path);
        sl_free(o->v[i].env);
    }
    sl_free(o->v);
    memset(o, 0, sizeof(*o));
}

static sluice_status override_add(struct sl_ctx *ctx, struct overrides *o, const char *path,
                                  const char *env)
{
    if (o->n == o->cap) {
        size_t ncap = o->cap ? o->cap * 2 : 8;
        struct override *v = sl_realloc(o->v, ncap * sizeof(*v));
        if (!v)
            return sl_nomem(ctx);
        o->v = v;
        o->cap = ncap;
    }
    o->v[o->n].path = sl_strdup(path);
    o->v[o->n].env = sl_strdup(env);
    if (!o->v[o->n].path || !o->v[o->n].env) {
        sl_free(o->v[o->n].path);
        sl_free(o->v[o->n].env);
        return sl_nomem(ctx);
    }
    o->n++;
    return SLUICE_OK;
}

static bool key_eq_ci(const char *key, uint32_t klen, const char *seg)
{
    size_t sl = strlen(seg);
    if (klen != sl)
        return false;
    for (size_t i = 0; i < sl; i++)
        if (upper_ascii(key[i]) != upper_ascii(seg[i]))
            return false;
    return true;
}

static struct sl_json_member *find_ci(struct sl_json *obj, const char *seg)
{
    if (!obj || obj->type != SL_JSON_OBJECT)
        return NULL;
    for (uint32_t i = obj->len; i-- > 0;)
        if (key_eq_ci(obj->u.members[i].key, obj->u.members[i].key_len, seg))
            return &obj->u.members[i];
    return NULL;
}

/* The value of a variable as a tree with line 0 (raw text for string keys). */
static sluice_status env_value(struct sl_ctx *ctx, const char *key, const char *text,
                               struct sl_json *out)
{
    size_t n = strlen(text);
    sl_json_set_null(out);
    if (n > CFG_MAX_STRING)
        return config_fail(ctx, "an environment variable for '%s' is longer than %zu bytes",
                           key, CFG_MAX_STRING);
    if (!in_list(key, string_keys)) {
        struct sl_ctx scratch;
        struct sl_json *t = NULL;
        sl_ctx_init(&scratch);
        sluice_status rc = sl_yaml_parse(&scratch, NULL, text, n, &t);
        if (rc == SLUICE_ERR_NOMEM)
            return sl_nomem(ctx);
        if (rc == SLUICE_OK) {
            *out = *t;
            sl_free(t);
            zero_lines(out);
            return SLUICE_OK;
        }
        /* not YAML: taken as a plain string, as dlt does */
    }
    if (sl_json_set_str(out, text, n))
        return sl_nomem(ctx);
    return SLUICE_OK;
}

/* Set node.<segs...> = value, creating mappings on the way (lower-case keys). */
static sluice_status set_env_path(struct sl_ctx *ctx, struct sl_json *node, char **segs,
                                  size_t nseg, char *path, size_t plen,
                                  const struct envvar *e, struct overrides *ov)
{
    size_t first_created = 0;
    bool created = false;
    for (size_t i = 0; i < nseg; i++) {
        struct sl_json_member *m = find_ci(node, segs[i]);
        for (char *c = segs[i]; *c; c++)
            *c = lower_ascii(*c);
        const char *key = m ? m->key : segs[i];
        app(path, CFG_PATH_MAX, &plen, ".%s", key);
        if (i + 1 == nseg) {
            struct sl_json val;
            sluice_status rc = env_value(ctx, segs[i], e->value, &val);
            if (rc != SLUICE_OK)
                return rc;
            if (!sl_json_obj_set_take(node, key, &val)) {
                sl_json_clear(&val);
                return sl_nomem(ctx);
            }
            if (created)
                path[first_created] = '\0';
            return override_add(ctx, ov, path, e->name);
        }
        if (!m) {
            struct sl_json obj;
            sl_json_set_object(&obj);
            struct sl_json *child = sl_json_obj_set_take(node, key, &obj);
            if (!child)
                return sl_nomem(ctx);
            if (!created) {
                created = true;
                first_created = plen;
            }
            node = child;
        } else if (m->val.type != SL_JSON_OBJECT) {
            return config_fail(ctx, "environment variable %s: '%s' is not a mapping, so "
                                    "nothing can be set inside it", e->name, path);
        } else {
            node = &m->val;
        }
    }
    return SLUICE_OK;
}

/* Split s in place at every "__"; false when there are too many or empty segments. */
static bool split_segs(char *s, char **segs, size_t max, size_t *n)
{
    *n = 0;
    char *start = s;
    for (char *c = s;; c++) {
        bool end = *c == '\0';
        if (end || (c[0] == '_' && c[1] == '_')) {
            if (c == start || *n == max)
                return false;
            segs[(*n)++] = start;
            if (end)
                return true;
            *c = '\0';
            c++;
            start = c + 1;
        }
    }
}

static sluice_status apply_source_var(struct sl_ctx *ctx, struct sl_json *root,
                                      struct envvar *e, struct overrides *ov)
{
    static const char *const source_level[] = { "RESOURCES", "MAX_TABLE_NESTING", NULL };
    char *segs[CFG_MAX_ENV_SEGS];
    size_t n = 0;
    char path[CFG_PATH_MAX];
    size_t plen = 0;
    size_t first = 1;

    if (!split_segs(e->up + strlen("SOURCES__"), segs, CFG_MAX_ENV_SEGS, &n) || n < 2)
        return SLUICE_OK;
    struct sl_json *sources = sl_json_get_mut(root, "sources");
    struct sl_json_member *sm = find_ci(sources, segs[0]);
    if (!sm || sm->val.type != SL_JSON_OBJECT)
        return SLUICE_OK;
    app(path, sizeof(path), &plen, "sources.%s", sm->key);
    struct sl_json *node = &sm->val;
    if (!find_ci(node, segs[1])) {
        struct sl_json_member *rm = find_ci(sl_json_get_mut(node, "resources"), segs[1]);
        if (rm && rm->val.type == SL_JSON_OBJECT) {
            app(path, sizeof(path), &plen, ".resources.%s", rm->key);
            node = &rm->val;
            first = 2;
        } else if (!in_list(segs[1], source_level)) {
            return SLUICE_OK;
        }
    }
    if (first >= n)
        return SLUICE_OK;
    return set_env_path(ctx, node, segs + first, n - first, path, plen, e, ov);
}

/* DESTINATION__CREDENTIALS and DESTINATION__<TYPE>__CREDENTIALS set the dsn (postgres) or the
 * path (file destinations); DESTINATION__PATH the path. A "credentials" key in the file is an
 * alias of the same setting, so it is removed. */
static sluice_status apply_dest_var(struct sl_ctx *ctx, struct sl_json *root, struct envvar *e,
                                    const char *type_up, struct overrides *ov)
{
    char typed[96];
    char opath[64];
    size_t tn = 0, on = 0;
    bool is_pg = strcmp(type_up, "POSTGRES") == 0;
    bool is_path_var = strcmp(e->up, "DESTINATION__PATH") == 0;
    const char *target = NULL;
    struct sl_json val;
    bool created = false;

    app(typed, sizeof(typed), &tn, "DESTINATION__%s__CREDENTIALS", type_up);
    if (strcmp(e->up, "DESTINATION__CREDENTIALS") == 0 || strcmp(e->up, typed) == 0)
        target = is_pg ? "dsn" : "path";
    else if (is_path_var)
        target = "path";
    if (!target)
        return SLUICE_OK;
    struct sl_json *dest = sl_json_get_mut(root, "destination");
    if (!dest) {
        struct sl_json obj;
        sl_json_set_object(&obj);
        dest = sl_json_obj_set_take(root, "destination", &obj);
        if (!dest)
            return sl_nomem(ctx);
        created = true;
    }
    if (dest->type != SL_JSON_OBJECT)
        return SLUICE_OK; /* validation reports the file's mistake */
    if (!(is_pg && is_path_var))
        sl_json_obj_del(dest, "credentials");
    if (sl_json_set_str(&val, e->value, strlen(e->value)))
        return sl_nomem(ctx);
    if (!sl_json_obj_set_take(dest, target, &val)) {
        sl_json_clear(&val);
        return sl_nomem(ctx);
    }
    if (created)
        app(opath, sizeof(opath), &on, "destination");
    else
        app(opath, sizeof(opath), &on, "destination.%s", target);
    return override_add(ctx, ov, opath, e->name);
}

static sluice_status apply_top_var(struct sl_ctx *ctx, struct sl_json *root, struct envvar *e,
                                   const char *key, struct overrides *ov)
{
    struct sl_json val;
    if (sl_json_set_str(&val, e->value, strlen(e->value)))
        return sl_nomem(ctx);
    if (!sl_json_obj_set_take(root, key, &val)) {
        sl_json_clear(&val);
        return sl_nomem(ctx);
    }
    return override_add(ctx, ov, key, e->name);
}

static int cmp_envvar(const void *a, const void *b)
{
    const struct envvar *x = a;
    const struct envvar *y = b;
    if (x->nseg != y->nseg)
        return x->nseg < y->nseg ? -1 : 1;
    int c = strcmp(x->up, y->up);
    return c ? c : strcmp(x->name, y->name);
}

static bool env_wanted(const char *up)
{
    return strncmp(up, "SOURCES__", 9) == 0 || strncmp(up, "DESTINATION__", 13) == 0 ||
           strcmp(up, "DATASET_NAME") == 0 || strcmp(up, "PIPELINE_NAME") == 0;
}

static sluice_status apply_env(struct sl_ctx *ctx, struct sl_json *root, struct overrides *ov)
{
    struct envvar *vars = NULL;
    size_t n = 0, cap = 0;
    char type_up[32] = "SQLITE";
    sluice_status rc = SLUICE_OK;

    for (char **ep = environ; ep && *ep && rc == SLUICE_OK; ep++) {
        const char *eq = strchr(*ep, '=');
        size_t nl = eq ? (size_t)(eq - *ep) : 0;
        char *up;
        if (nl == 0)
            continue;
        up = sl_strndup(*ep, nl);
        if (!up) {
            rc = sl_nomem(ctx);
            break;
        }
        for (char *c = up; *c; c++)
            *c = upper_ascii(*c);
        if (!env_wanted(up)) {
            sl_free(up);
            continue;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct envvar *nv = sl_realloc(vars, ncap * sizeof(*nv));
            if (!nv) {
                sl_free(up);
                rc = sl_nomem(ctx);
                break;
            }
            vars = nv;
            cap = ncap;
        }
        vars[n].up = up;
        vars[n].name = sl_strndup(*ep, nl);
        vars[n].value = eq + 1;
        vars[n].nseg = 1;
        for (const char *c = strstr(up, "__"); c; c = strstr(c + 2, "__"))
            vars[n].nseg++;
        n++;
        if (!vars[n - 1].name)
            rc = sl_nomem(ctx);
    }
    if (rc == SLUICE_OK && n > 1)
        qsort(vars, n, sizeof(*vars), cmp_envvar);

    /* The destination type comes from the file only. */
    const struct sl_json *dest = sl_json_get(root, "destination");
    const char *t = sl_json_str(sl_json_get(dest, "type"));
    if (t && strlen(t) < sizeof(type_up)) {
        size_t i = 0;
        for (; t[i]; i++)
            type_up[i] = upper_ascii(t[i]);
        type_up[i] = '\0';
    }
    for (size_t i = 0; i < n && rc == SLUICE_OK; i++) {
        struct envvar *e = &vars[i];
        if (strncmp(e->up, "SOURCES__", 9) == 0)
            rc = apply_source_var(ctx, root, e, ov);
        else if (strncmp(e->up, "DESTINATION__", 13) == 0)
            rc = apply_dest_var(ctx, root, e, type_up, ov);
        else if (strcmp(e->up, "PIPELINE_NAME") == 0)
            rc = apply_top_var(ctx, root, e, "pipeline", ov);
        else
            rc = apply_top_var(ctx, root, e, "dataset", ov);
    }
    for (size_t i = 0; i < n; i++) {
        sl_free(vars[i].up);
        sl_free(vars[i].name);
    }
    sl_free(vars);
    return rc;
}

/* ============================================================================================
 * Validation helpers
 * ========================================================================================== */

struct vctx {
    struct sl_ctx *ctx;
    bool api;                   /* sl_resource_cfg_set: no file, no line */
    const char *file;
    const struct overrides *ov;
    const char *resource;       /* api: the resource named in the error */
    char path[CFG_PATH_MAX];    /* dotted path of the key being checked */
    size_t plen;
    size_t rel;                 /* start of the path relative to its owner */
};

static size_t vpush(struct vctx *vc, const char *key)
{
    size_t old = vc->plen;
    app(vc->path, sizeof(vc->path), &vc->plen, "%s%s", vc->plen ? "." : "", key);
    return old;
}

static size_t vpush_index(struct vctx *vc, size_t i)
{
    size_t old = vc->plen;
    app(vc->path, sizeof(vc->path), &vc->plen, "[%zu]", i);
    return old;
}

static void vpop(struct vctx *vc, size_t old)
{
    vc->plen = old;
    vc->path[old] = '\0';
}

static const char *vrel(const struct vctx *vc)
{
    return vc->path + (vc->rel <= vc->plen ? vc->rel : vc->plen);
}

static void vwhere(const struct vctx *vc, const struct sl_json *at, char *out, size_t sz)
{
    size_t n = 0;
    const struct override *best = NULL;
    size_t best_len = 0;
    out[0] = '\0';
    if (vc->api)
        return;
    if (at && at->line) {
        app(out, sz, &n, "%s:%u: ", file_name(vc->file), at->line);
        return;
    }
    for (size_t i = 0; vc->ov && i < vc->ov->n; i++) {
        const struct override *o = &vc->ov->v[i];
        size_t l = strlen(o->path);
        char next = l <= vc->plen ? vc->path[l] : 'x';
        if (l <= vc->plen && memcmp(o->path, vc->path, l) == 0 &&
            (next == '\0' || next == '.' || next == '[') && l >= best_len) {
            best = o;
            best_len = l;
        }
    }
    if (best)
        app(out, sz, &n, "environment variable %s: ", best->env);
    else
        app(out, sz, &n, "%s: ", file_name(vc->file));
}

static sluice_status verr(struct vctx *vc, const struct sl_json *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static sluice_status verr(struct vctx *vc, const struct sl_json *at, const char *fmt, ...)
{
    char where[400];
    char msg[720];
    va_list ap;
    vwhere(vc, at, where, sizeof(where));
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sluice_status rc = sl_fail_at(vc->ctx, SLUICE_ERR_CONFIG, vc->api ? vc->resource : NULL, -1,
                                  NULL, "%s%s", where, msg);
    if (rc == SLUICE_ERR_CONFIG)
        sl_fail_origin(vc->ctx, "config", NULL);
    return rc;
}

static sluice_status vtype(struct vctx *vc, const struct sl_json *v, const char *what)
{
    return verr(vc, v, "'%s' must be %s", vrel(vc), what);
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
            char ca = lower_ascii(a[i - 1]), cb = lower_ascii(b[j - 1]);
            unsigned v = d[i - 1][j - 1] + (ca != cb);
            if (d[i - 1][j] + 1u < v)
                v = d[i - 1][j] + 1u;
            if (d[i][j - 1] + 1u < v)
                v = d[i][j - 1] + 1u;
            if (i > 1 && j > 1 && ca == lower_ascii(b[j - 2]) &&
                lower_ascii(a[i - 2]) == cb && d[i - 2][j - 2] + 1u < v)
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

static sluice_status vunknown(struct vctx *vc, const struct sl_json *at, const char *key,
                              const char *const *known)
{
    const char *hint = suggest(key, known);
    size_t old = vpush(vc, key);
    sluice_status rc = verr(vc, at, "unknown key '%s'%s%s%s", vc->path,
                            hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
    vpop(vc, old);
    return rc;
}

static sluice_status vkeys(struct vctx *vc, const struct sl_json *obj, const char *const *known)
{
    for (uint32_t i = 0; i < obj->len; i++) {
        const struct sl_json_member *m = &obj->u.members[i];
        if (!in_list(m->key, known))
            return vunknown(vc, &m->val, m->key, known);
    }
    return SLUICE_OK;
}

static sluice_status vmissing(struct vctx *vc, const struct sl_json *obj, const char *key)
{
    size_t old = vpush(vc, key);
    sluice_status rc = verr(vc, obj, "missing required key '%s'", vc->path);
    vpop(vc, old);
    return rc;
}

/* Integer, number and bool keys take a string holding such a scalar ("${N}" gives one). */
static sluice_status vcoerce(struct vctx *vc, struct sl_json *v)
{
    struct sl_json t;
    if (v->type != SL_JSON_STRING || v->len == 0)
        return SLUICE_OK;
    if (resolve_plain(v->s, v->len, &t))
        return sl_nomem(vc->ctx);
    if (t.type == SL_JSON_STRING || t.type == SL_JSON_NULL) {
        sl_json_clear(&t);
        return SLUICE_OK;
    }
    t.line = v->line;
    sl_json_clear(v);
    *v = t;
    return SLUICE_OK;
}

static sluice_status vstr(struct vctx *vc, const struct sl_json *v, bool nonempty,
                          const char **out)
{
    if (v->type != SL_JSON_STRING)
        return vtype(vc, v, "a string");
    if (memchr(v->s, '\0', v->len))
        return verr(vc, v, "'%s' must not contain NUL characters", vrel(vc));
    if (nonempty && v->len == 0)
        return verr(vc, v, "'%s' must not be empty", vrel(vc));
    *out = v->s;
    return SLUICE_OK;
}

static sluice_status vint(struct vctx *vc, struct sl_json *v, int64_t min, int64_t *out)
{
    sluice_status rc = vcoerce(vc, v);
    if (rc != SLUICE_OK)
        return rc;
    if (v->type == SL_JSON_BIGINT)
        return verr(vc, v, "'%s' is out of range", vrel(vc));
    if (v->type != SL_JSON_INT)
        return vtype(vc, v, "an integer");
    if (v->u.i < min)
        return verr(vc, v, "'%s' must be %s", vrel(vc), min == 0 ? ">= 0" : "> 0");
    *out = v->u.i;
    return SLUICE_OK;
}

static sluice_status vnum(struct vctx *vc, struct sl_json *v)
{
    sluice_status rc = vcoerce(vc, v);
    if (rc != SLUICE_OK)
        return rc;
    if (!sl_json_is_num(v) || !isfinite(sl_json_num(v)))
        return vtype(vc, v, "a number");
    if (sl_json_num(v) < 0)
        return verr(vc, v, "'%s' must be >= 0", vrel(vc));
    return SLUICE_OK;
}

static sluice_status vbool(struct vctx *vc, struct sl_json *v, bool *out)
{
    sluice_status rc = vcoerce(vc, v);
    if (rc != SLUICE_OK)
        return rc;
    if (v->type != SL_JSON_BOOL)
        return vtype(vc, v, "true or false");
    *out = v->u.b;
    return SLUICE_OK;
}

static sluice_status venum(struct vctx *vc, const struct sl_json *v, const char *const *names,
                           size_t *idx)
{
    char all[256];
    size_t n = 0;
    for (size_t i = 0; names[i]; i++)
        app(all, sizeof(all), &n, "%s%s", i ? ", " : "", names[i]);
    if (v->type != SL_JSON_STRING)
        return verr(vc, v, "'%s' must be one of %s", vrel(vc), all);
    long i = memchr(v->s, '\0', v->len) ? -1 : list_index(v->s, names);
    if (i >= 0) {
        *idx = (size_t)i;
        return SLUICE_OK;
    }
    if (!echo_ok(v->s, v->len))
        return verr(vc, v, "'%s' must be one of %s", vrel(vc), all);
    const char *hint = suggest(v->s, names);
    return verr(vc, v, "'%s' must be one of %s (got '%s'%s%s%s)", vrel(vc), all, v->s,
                hint ? "; did you mean '" : "", hint ? hint : "", hint ? "'?" : "");
}

static sluice_status vscalar(struct vctx *vc, const struct sl_json *v)
{
    if (v->type == SL_JSON_ARRAY || v->type == SL_JSON_OBJECT)
        return vtype(vc, v, "a single value (string, number, bool or null)");
    return SLUICE_OK;
}

/* A string or a list of strings ([] allowed); copied to *out when out is not NULL. */
static sluice_status vkeylist(struct vctx *vc, const struct sl_json *v, char ***out, size_t *nout)
{
    const char *what = "a string or a list of strings";
    const char *s = NULL;
    char **list = NULL;
    size_t n = 0;
    sluice_status rc = SLUICE_OK;

    if (v->type == SL_JSON_STRING) {
        rc = vstr(vc, v, true, &s);
    } else if (v->type == SL_JSON_ARRAY) {
        for (uint32_t i = 0; i < v->len && rc == SLUICE_OK; i++) {
            size_t old = vpush_index(vc, i);
            if (v->u.items[i].type != SL_JSON_STRING)
                rc = vtype(vc, &v->u.items[i], "a string");
            else
                rc = vstr(vc, &v->u.items[i], true, &s);
            vpop(vc, old);
        }
    } else {
        rc = vtype(vc, v, what);
    }
    if (rc != SLUICE_OK || !out)
        return rc;
    size_t count = v->type == SL_JSON_STRING ? 1 : v->len;
    list = sl_calloc(count ? count : 1, sizeof(*list));
    if (!list)
        return sl_nomem(vc->ctx);
    for (n = 0; n < count; n++) {
        list[n] = sl_strdup(v->type == SL_JSON_STRING ? v->s : v->u.items[n].s);
        if (!list[n]) {
            sl_strv_free(list, n);
            return sl_nomem(vc->ctx);
        }
    }
    *out = list;
    *nout = n;
    return SLUICE_OK;
}

/* ---- optional children: absent is fine, present must be valid ---- */

static sluice_status child_str(struct vctx *vc, struct sl_json *obj, const char *key,
                               const char **out)
{
    struct sl_json *v = sl_json_get_mut(obj, key);
    if (!v)
        return SLUICE_OK;
    size_t old = vpush(vc, key);
    sluice_status rc = vstr(vc, v, true, out);
    vpop(vc, old);
    return rc;
}

static sluice_status child_enum(struct vctx *vc, struct sl_json *obj, const char *key,
                                const char *const *names, bool null_ok, size_t *idx)
{
    struct sl_json *v = sl_json_get_mut(obj, key);
    if (!v || (null_ok && v->type == SL_JSON_NULL))
        return SLUICE_OK;
    size_t old = vpush(vc, key);
    sluice_status rc = venum(vc, v, names, idx);
    vpop(vc, old);
    return rc;
}

static sluice_status child_int(struct vctx *vc, struct sl_json *obj, const char *key,
                               int64_t min, int64_t *out)
{
    struct sl_json *v = sl_json_get_mut(obj, key);
    if (!v)
        return SLUICE_OK;
    size_t old = vpush(vc, key);
    sluice_status rc = vint(vc, v, min, out);
    vpop(vc, old);
    return rc;
}

static sluice_status child_num(struct vctx *vc, struct sl_json *obj, const char *key)
{
    struct sl_json *v = sl_json_get_mut(obj, key);
    if (!v)
        return SLUICE_OK;
    size_t old = vpush(vc, key);
    sluice_status rc = vnum(vc, v);
    vpop(vc, old);
    return rc;
}

static sluice_status child_bool(struct vctx *vc, struct sl_json *obj, const char *key)
{
    struct sl_json *v = sl_json_get_mut(obj, key);
    bool b;
    if (!v)
        return SLUICE_OK;
    size_t old = vpush(vc, key);
    sluice_status rc = vbool(vc, v, &b);
    vpop(vc, old);
    return rc;
}

static sluice_status child_scalar(struct vctx *vc, struct sl_json *obj, const char *key)
{
    struct sl_json *v = sl_json_get_mut(obj, key);
    if (!v)
        return SLUICE_OK;
    size_t old = vpush(vc, key);
    sluice_status rc = vscalar(vc, v);
    vpop(vc, old);
    return rc;
}

static sluice_status child_keylist(struct vctx *vc, struct sl_json *obj, const char *key)
{
    struct sl_json *v = sl_json_get_mut(obj, key);
    if (!v)
        return SLUICE_OK;
    size_t old = vpush(vc, key);
    sluice_status rc = vkeylist(vc, v, NULL, NULL);
    vpop(vc, old);
    return rc;
}

static sluice_status take_json(struct vctx *vc, const struct sl_json *v, struct sl_json **slot)
{
    struct sl_json *copy = NULL;
    if (v->type != SL_JSON_NULL) {
        copy = sl_json_dup(v);
        if (!copy)
            return sl_nomem(vc->ctx);
    }
    sl_json_free(*slot);
    *slot = copy;
    return SLUICE_OK;
}

/* ============================================================================================
 * Resource keys (shared by the file loader and sl_resource_cfg_set)
 * ========================================================================================== */

static const char *const wd_names[] = { "append", "replace", "merge", NULL };
static const char *const merge_strategies[] = { "delete-insert", "upsert", "insert-only", "scd2",
                                                NULL };
static const char *const from_keys[] = { "command", "file", "format", NULL };
static const char *const from_formats[] = { "jsonl", "singer", NULL };
static const char *const column_keys[] = { "data_type",  "nullable",    "primary_key",
                                           "merge_key",  "hard_delete", "dedup_sort", NULL };
static const char *const data_types[] = { "text", "bigint", "double", "bool",   "timestamp",
                                          "date", "json",   "decimal", "time", "binary",
                                          "wei",  NULL };
static const char *const sort_orders[] = { "asc", "desc", NULL };
static const char *const incremental_keys[] = {
    "cursor_path", "initial_value", "end_value",  "last_value_func",
    "lag",         "primary_key",   "on_cursor_value_missing", "row_order",
    "range_start", "range_end",     "assume_tz",  "max_unique_hashes", NULL
};
static const char *const last_value_funcs[] = { "max", "min", NULL };
static const char *const missing_modes[] = { "raise", "include", "exclude", NULL };
static const char *const range_starts[] = { "closed", "open", NULL };
static const char *const range_ends[] = { "open", "closed", NULL };

static sluice_status set_from(struct vctx *vc, struct sl_resource_cfg *r, struct sl_json *v)
{
    const char *cmd = NULL, *file = NULL;
    size_t fmt = 0;
    char *ncmd = NULL, *nfile = NULL, *nfmt = NULL;
    sluice_status rc;

    if (v->type != SL_JSON_OBJECT)
        return vtype(vc, v, "a mapping with 'command' or 'file'");
    rc = vkeys(vc, v, from_keys);
    if (rc != SLUICE_OK)
        return rc;
    struct sl_json *c = sl_json_get_mut(v, "command");
    struct sl_json *f = sl_json_get_mut(v, "file");
    if ((c != NULL) == (f != NULL))
        return verr(vc, v, "'%s' must have exactly one of 'command' or 'file'", vrel(vc));
    rc = c ? child_str(vc, v, "command", &cmd) : child_str(vc, v, "file", &file);
    if (rc == SLUICE_OK)
        rc = child_enum(vc, v, "format", from_formats, false, &fmt);
    if (rc == SLUICE_OK && fmt == 1 && !c)
        rc = verr(vc, sl_json_get(v, "format"), "'%s.format' singer needs a 'command'",
                  vrel(vc));
    if (rc != SLUICE_OK)
        return rc;
    ncmd = sl_strdup(cmd);
    nfile = sl_strdup(file);
    nfmt = sl_strdup(from_formats[fmt]);
    if ((cmd && !ncmd) || (file && !nfile) || !nfmt) {
        sl_free(ncmd);
        sl_free(nfile);
        sl_free(nfmt);
        return sl_nomem(vc->ctx);
    }
    sl_free(r->command);
    sl_free(r->file);
    sl_free(r->format);
    r->command = ncmd;
    r->file = nfile;
    r->format = nfmt;
    r->from = c ? SL_FROM_COMMAND : SL_FROM_FILE;
    return SLUICE_OK;
}

static sluice_status set_wd(struct vctx *vc, struct sl_resource_cfg *r, struct sl_json *v)
{
    static const char *const keys[] = { "disposition", "strategy", NULL };
    size_t wd = 0, strategy = 0;
    sluice_status rc = SLUICE_OK;

    if (v->type == SL_JSON_OBJECT) {
        struct sl_json *s = sl_json_get_mut(v, "strategy");
        rc = child_enum(vc, v, "strategy", merge_strategies, false, &strategy);
        if (rc == SLUICE_OK && strategy > 0)
            rc = verr(vc, s, "merge strategy '%s' is not supported yet",
                      merge_strategies[strategy]);
        if (rc == SLUICE_OK)
            rc = vkeys(vc, v, keys);
        if (rc == SLUICE_OK && !sl_json_get(v, "disposition"))
            rc = vmissing(vc, v, "disposition");
        if (rc == SLUICE_OK)
            rc = child_enum(vc, v, "disposition", wd_names, false, &wd);
        if (rc == SLUICE_OK && s && wd != SL_WD_MERGE)
            rc = verr(vc, s, "'%s.strategy' applies only to 'merge'", vrel(vc));
    } else {
        rc = venum(vc, v, wd_names, &wd);
    }
    if (rc != SLUICE_OK)
        return rc;
    char *ns = NULL;
    if (wd == SL_WD_MERGE) {
        ns = sl_strdup(merge_strategies[strategy]);
        if (!ns)
            return sl_nomem(vc->ctx);
    }
    sl_free(r->merge_strategy);
    r->merge_strategy = ns;
    r->wd = (enum sl_write_disposition)wd;
    return SLUICE_OK;
}

static sluice_status set_primary_key(struct vctx *vc, struct sl_resource_cfg *r,
                                     struct sl_json *v)
{
    char **list = NULL;
    size_t n = 0;
    sluice_status rc = vkeylist(vc, v, &list, &n);
    if (rc != SLUICE_OK)
        return rc;
    sl_strv_free(r->primary_key, r->n_pk);
    r->primary_key = list;
    r->n_pk = n;
    r->pk_is_list = v && v->type == SL_JSON_ARRAY;
    return SLUICE_OK;
}

static sluice_status set_merge_key(struct vctx *vc, struct sl_resource_cfg *r, struct sl_json *v)
{
    char **list = NULL;
    size_t n = 0;
    sluice_status rc = vkeylist(vc, v, &list, &n);
    if (rc != SLUICE_OK)
        return rc;
    sl_strv_free(r->merge_key, r->n_mk);
    r->merge_key = list;
    r->n_mk = n;
    return SLUICE_OK;
}

static sluice_status set_table_name(struct vctx *vc, struct sl_resource_cfg *r,
                                    struct sl_json *v)
{
    const char *s = NULL;
    sluice_status rc = vstr(vc, v, true, &s);
    if (rc != SLUICE_OK)
        return rc;
    char *n = sl_strdup(s);
    if (!n)
        return sl_nomem(vc->ctx);
    sl_free(r->table_name);
    r->table_name = n;
    return SLUICE_OK;
}

static sluice_status set_columns(struct vctx *vc, struct sl_resource_cfg *r, struct sl_json *v)
{
    sluice_status rc = SLUICE_OK;
    size_t idx = 0;
    if (v->type != SL_JSON_OBJECT)
        return vtype(vc, v, "a mapping of column names to hints");
    for (uint32_t i = 0; i < v->len && rc == SLUICE_OK; i++) {
        struct sl_json_member *m = &v->u.members[i];
        size_t old = vpush(vc, m->key);
        if (m->val.type != SL_JSON_OBJECT)
            rc = vtype(vc, &m->val, "a mapping of column hints");
        if (rc == SLUICE_OK)
            rc = vkeys(vc, &m->val, column_keys);
        if (rc == SLUICE_OK)
            rc = child_enum(vc, &m->val, "data_type", data_types, false, &idx);
        if (rc == SLUICE_OK)
            rc = child_bool(vc, &m->val, "nullable");
        if (rc == SLUICE_OK)
            rc = child_bool(vc, &m->val, "primary_key");
        if (rc == SLUICE_OK)
            rc = child_bool(vc, &m->val, "merge_key");
        if (rc == SLUICE_OK)
            rc = child_bool(vc, &m->val, "hard_delete");
        if (rc == SLUICE_OK)
            rc = child_enum(vc, &m->val, "dedup_sort", sort_orders, false, &idx);
        vpop(vc, old);
    }
    if (rc != SLUICE_OK)
        return rc;
    return take_json(vc, v, &r->columns);
}

static sluice_status set_max_table_nesting(struct vctx *vc, struct sl_resource_cfg *r,
                                           struct sl_json *v)
{
    int64_t n = -1;
    sluice_status rc = vint(vc, v, 0, &n);
    if (rc == SLUICE_OK)
        r->max_table_nesting = n;
    return rc;
}

static sluice_status set_selected(struct vctx *vc, struct sl_resource_cfg *r, struct sl_json *v)
{
    bool b = true;
    sluice_status rc = vbool(vc, v, &b);
    if (rc == SLUICE_OK)
        r->selected = b;
    return rc;
}

/* null removes the incremental (dlt's incremental=None). */
static sluice_status set_incremental(struct vctx *vc, struct sl_resource_cfg *r,
                                     struct sl_json *v)
{
    const char *s = NULL;
    size_t idx = 0;
    int64_t n = 0;
    sluice_status rc;

    if (v->type == SL_JSON_NULL)
        return take_json(vc, v, &r->incremental);
    if (v->type != SL_JSON_OBJECT)
        return vtype(vc, v, "a mapping");
    rc = vkeys(vc, v, incremental_keys);
    if (rc == SLUICE_OK && !sl_json_get(v, "cursor_path"))
        rc = vmissing(vc, v, "cursor_path");
    if (rc == SLUICE_OK)
        rc = child_str(vc, v, "cursor_path", &s);
    if (rc == SLUICE_OK)
        rc = child_scalar(vc, v, "initial_value");
    if (rc == SLUICE_OK)
        rc = child_scalar(vc, v, "end_value");
    if (rc == SLUICE_OK)
        rc = child_enum(vc, v, "last_value_func", last_value_funcs, false, &idx);
    if (rc == SLUICE_OK)
        rc = child_num(vc, v, "lag");
    if (rc == SLUICE_OK)
        rc = child_keylist(vc, v, "primary_key");
    if (rc == SLUICE_OK)
        rc = child_enum(vc, v, "on_cursor_value_missing", missing_modes, false, &idx);
    if (rc == SLUICE_OK)
        rc = child_enum(vc, v, "row_order", sort_orders, true, &idx);
    if (rc == SLUICE_OK)
        rc = child_enum(vc, v, "range_start", range_starts, false, &idx);
    if (rc == SLUICE_OK)
        rc = child_enum(vc, v, "range_end", range_ends, false, &idx);
    if (rc == SLUICE_OK)
        rc = child_str(vc, v, "assume_tz", &s);
    if (rc == SLUICE_OK)
        rc = child_int(vc, v, "max_unique_hashes", 1, &n);
    if (rc != SLUICE_OK)
        return rc;
    return take_json(vc, v, &r->incremental);
}

typedef sluice_status (*resource_setter)(struct vctx *, struct sl_resource_cfg *,
                                         struct sl_json *);

static const char *const resource_keys[] = {
    "from",      "write_disposition", "primary_key", "merge_key",   "table_name",
    "columns",   "max_table_nesting", "selected",    "incremental", NULL
};
static const resource_setter resource_setters[] = {
    set_from,    set_wd,         set_primary_key, set_merge_key, set_table_name,
    set_columns, set_max_table_nesting, set_selected, set_incremental
};
_Static_assert(sizeof(resource_keys) / sizeof(resource_keys[0]) - 1 ==
                   sizeof(resource_setters) / sizeof(resource_setters[0]),
               "one setter per resource key");

/* ============================================================================================
 * Pipeline validation
 * ========================================================================================== */

static const char *const top_keys[] = { "pipeline", "destination", "dataset",
                                        "max_table_nesting", "archive_packages", "sources", NULL };
static const char *const dest_keys[] = { "type", "path", "dsn", "credentials", NULL };
static const char *const dest_types[] = { "sqlite", "duckdb", "postgres", NULL };
static const char *const source_keys[] = { "resources", "max_table_nesting", "root_key",
                                            "rest_api", NULL };

/* Folder of path as an absolute path ("." and empty segments dropped; ".." kept, since
 * collapsing it would be wrong across symlinks). */
static sluice_status make_base_dir(struct sl_ctx *ctx, const char *path, char **out)
{
    struct sl_buf raw, norm;
    char *cwd = NULL;
    size_t dlen = 0;
    sluice_status rc = SLUICE_OK;

    *out = NULL;
    sl_buf_init(&raw, 0);
    sl_buf_init(&norm, 0);
    if (path) {
        const char *slash = strrchr(path, '/');
        dlen = slash ? (size_t)(slash - path) : 0;
        if (slash == path)
            dlen = 1;
    }
    if (!path || path[0] != '/') {
        size_t sz = 256;
        for (;;) {
            char *buf = sl_realloc(cwd, sz);
            if (!buf) {
                rc = sl_nomem(ctx);
                goto done;
            }
            cwd = buf;
            if (getcwd(cwd, sz))
                break;
            if (errno != ERANGE || sz > ((size_t)1 << 20)) {
                rc = sl_fail(ctx, SLUICE_ERR_IO, "cannot read the current directory: %s",
                             strerror(errno));
                goto done;
            }
            sz *= 2;
        }
        if (sl_buf_puts(&raw, cwd) || sl_buf_putc(&raw, '/')) {
            rc = sl_nomem(ctx);
            goto done;
        }
    }
    if (dlen && sl_buf_append(&raw, path, dlen)) {
        rc = sl_nomem(ctx);
        goto done;
    }
    /* normalise: drop empty and "." segments */
    const char *s = raw.data ? raw.data : "";
    while (*s) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n && !(n == 1 && s[0] == '.')) {
            if (sl_buf_putc(&norm, '/') || sl_buf_append(&norm, s, n)) {
                rc = sl_nomem(ctx);
                goto done;
            }
        }
        s += n;
        if (*s == '/')
            s++;
    }
    if (norm.len == 0 && sl_buf_putc(&norm, '/')) {
        rc = sl_nomem(ctx);
        goto done;
    }
    *out = sl_buf_take(&norm);
    if (!*out)
        rc = sl_nomem(ctx);
done:
    sl_free(cwd);
    sl_buf_cleanup(&raw);
    sl_buf_cleanup(&norm);
    return rc;
}

static sluice_status check_destination(struct vctx *vc, struct sl_json *dest,
                                       struct sl_pipeline_cfg *cfg)
{
    const char *path = NULL, *dsn = NULL, *cred = NULL;
    size_t type = 0;
    sluice_status rc = SLUICE_OK;
    size_t old = vpush(vc, "destination");

    if (dest && dest->type != SL_JSON_OBJECT) {
        rc = vtype(vc, dest, "a mapping (type, path, dsn)");
        goto done;
    }
    for (uint32_t i = 0; dest && i < dest->len && rc == SLUICE_OK; i++) {
        const struct sl_json_member *m = &dest->u.members[i];
        if (in_list(m->key, dest_keys))
            continue;
        if (strpbrk(m->key, ":@/"))
            rc = verr(vc, &m->val, "unknown key in 'destination' (not shown: it may hold a "
                                   "secret)");
        else
            rc = vunknown(vc, &m->val, m->key, dest_keys);
    }
    if (rc == SLUICE_OK && dest)
        rc = child_enum(vc, dest, "type", dest_types, false, &type);
    if (rc == SLUICE_OK && dest)
        rc = child_str(vc, dest, "path", &path);
    if (rc == SLUICE_OK && dest)
        rc = child_str(vc, dest, "dsn", &dsn);
    if (rc == SLUICE_OK && dest)
        rc = child_str(vc, dest, "credentials", &cred);
    if (rc != SLUICE_OK)
        goto done;
    bool pg = type == 2;
    if (cred && (pg ? dsn : path)) {
        rc = verr(vc, sl_json_get(dest, "credentials"), "'destination.credentials' and "
                  "'destination.%s' are both set; keep one", pg ? "dsn" : "path");
        goto done;
    }
    if (pg && path) {
        rc = verr(vc, sl_json_get(dest, "path"), "'destination.path' does not apply to "
                  "postgres (use 'dsn')");
        goto done;
    }
    if (!pg && dsn) {
        rc = verr(vc, sl_json_get(dest, "dsn"), "'destination.dsn' applies only to postgres "
                  "(use 'path')");
        goto done;
    }
    if (pg && !dsn)
        dsn = cred;
    if (!pg && !path)
        path = cred;
    cfg->dest_type = sl_strdup(dest_types[type]);
    if (!cfg->dest_type) {
        rc = sl_nomem(vc->ctx);
        goto done;
    }
    if (dsn) {
        cfg->dest_dsn = sl_strdup(dsn);
        if (!cfg->dest_dsn) {
            rc = sl_nomem(vc->ctx);
            goto done;
        }
    }
    if (path) {
        bool keep = path[0] == '/' || strcmp(path, ":memory:") == 0 ||
                    strncmp(path, "file:", 5) == 0;
        cfg->dest_path = keep ? sl_strdup(path) : sl_aprintf("%s/%s", cfg->base_dir, path);
        if (!cfg->dest_path)
            rc = sl_nomem(vc->ctx);
    }
done:
    vpop(vc, old);
    return rc;
}

static sluice_status check_resource(struct vctx *vc, struct sl_resource_cfg *r,
                                    struct sl_json *v, int64_t source_nesting)
{
    sluice_status rc = SLUICE_OK;
    if (v->type != SL_JSON_OBJECT)
        return verr(vc, v, "'%s' must be a mapping (from, write_disposition, ...)", vc->path);
    for (uint32_t i = 0; i < v->len && rc == SLUICE_OK; i++) {
        struct sl_json_member *m = &v->u.members[i];
        long k = list_index(m->key, resource_keys);
        if (k < 0) {
            rc = vunknown(vc, &m->val, m->key, resource_keys);
            break;
        }
        size_t old = vpush(vc, m->key);
        rc = resource_setters[k](vc, r, &m->val);
        vpop(vc, old);
    }
    if (rc == SLUICE_OK && r->from == SL_FROM_NONE)
        rc = vmissing(vc, v, "from");
    if (rc == SLUICE_OK && r->max_table_nesting < 0)
        r->max_table_nesting = source_nesting;
    return rc;
}

static sluice_status check_source(struct vctx *vc, struct sl_pipeline_cfg *cfg,
                                  const char *name, struct sl_json *src, size_t total)
{
    int64_t nesting = -1;
    sluice_status rc;
    if (src->type != SL_JSON_OBJECT)
        return verr(vc, src, "'%s' must be a mapping with 'resources'", vc->path);
    rc = vkeys(vc, src, source_keys);
    if (rc == SLUICE_OK && sl_json_get(src, "rest_api"))
        rc = verr(vc, sl_json_get(src, "rest_api"), "'%s.rest_api': REST API sources are not "
                  "supported yet", vc->path);
    if (rc == SLUICE_OK)
        rc = child_int(vc, src, "max_table_nesting", 0, &nesting);
    int root_key = -1;
    struct sl_json *rk = sl_json_get_mut(src, "root_key");
    if (rc == SLUICE_OK && rk) {
        /* dlt's source root_key: _dlt_root_id on nested rows whatever the disposition */
        bool b = false;
        size_t o = vpush(vc, "root_key");
        rc = vbool(vc, rk, &b);
        vpop(vc, o);
        root_key = b ? 1 : 0;
    }
    if (rc == SLUICE_OK && !sl_json_get(src, "resources"))
        rc = vmissing(vc, src, "resources");
    if (rc != SLUICE_OK)
        return rc;
    struct sl_json *res = sl_json_get_mut(src, "resources");
    size_t old = vpush(vc, "resources");
    if (res->type != SL_JSON_OBJECT)
        rc = verr(vc, res, "'%s' must be a mapping of resource names to resources", vc->path);
    for (uint32_t i = 0; rc == SLUICE_OK && i < res->len; i++) {
        struct sl_json_member *m = &res->u.members[i];
        size_t old_rel = vc->rel;
        size_t o = vpush(vc, m->key);
        vc->rel = vc->plen + 1;
        SL_ASSERT(cfg->nres < total);
        struct sl_resource_cfg *r = &cfg->resources[cfg->nres];
        if (sl_resource_cfg_init(r, name, m->key))
            rc = sl_nomem(vc->ctx);
        else
            cfg->nres++;
        if (rc == SLUICE_OK)
            rc = check_resource(vc, r, &m->val, nesting);
        if (rc == SLUICE_OK)
            r->root_key = root_key;
        vc->rel = old_rel;
        vpop(vc, o);
    }
    vpop(vc, old);
    return rc;
}

static sluice_status check_sources(struct vctx *vc, struct sl_json *sources,
                                   struct sl_pipeline_cfg *cfg)
{
    size_t total = 0;
    sluice_status rc = SLUICE_OK;
    size_t old = vpush(vc, "sources");

    if (sources->type != SL_JSON_OBJECT) {
        rc = vtype(vc, sources, "a mapping of source names to sources");
        goto done;
    }
    for (uint32_t i = 0; i < sources->len; i++) {
        const struct sl_json *res = sl_json_get(&sources->u.members[i].val, "resources");
        if (res && res->type == SL_JSON_OBJECT)
            total += res->len;
    }
    cfg->resources = sl_calloc(total ? total : 1, sizeof(*cfg->resources));
    if (!cfg->resources) {
        rc = sl_nomem(vc->ctx);
        goto done;
    }
    for (uint32_t i = 0; i < sources->len && rc == SLUICE_OK; i++) {
        struct sl_json_member *m = &sources->u.members[i];
        size_t old_rel = vc->rel;
        size_t o = vpush(vc, m->key);
        vc->rel = vc->plen + 1;
        rc = check_source(vc, cfg, m->key, &m->val, total);
        vc->rel = old_rel;
        vpop(vc, o);
    }
done:
    vpop(vc, old);
    return rc;
}

static sluice_status check_pipeline(struct vctx *vc, struct sl_json *root,
                                    struct sl_pipeline_cfg *cfg)
{
    const char *name = NULL, *dataset = NULL;
    sluice_status rc = vkeys(vc, root, top_keys);

    if (rc == SLUICE_OK && !sl_json_get(root, "pipeline"))
        rc = vmissing(vc, root, "pipeline");
    if (rc == SLUICE_OK)
        rc = child_str(vc, root, "pipeline", &name);
    if (rc == SLUICE_OK &&
        (strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)) {
        size_t old = vpush(vc, "pipeline");
        rc = verr(vc, sl_json_get(root, "pipeline"), "'pipeline' must be a name without '/' "
                  "(it names the pipeline's folder)");
        vpop(vc, old);
    }
    if (rc == SLUICE_OK)
        rc = check_destination(vc, sl_json_get_mut(root, "destination"), cfg);
    if (rc == SLUICE_OK)
        rc = child_str(vc, root, "dataset", &dataset);
    if (rc == SLUICE_OK)
        rc = child_int(vc, root, "max_table_nesting", 0, &cfg->max_table_nesting);
    struct sl_json *arch = sl_json_get_mut(root, "archive_packages");
    if (rc == SLUICE_OK && arch) {
        bool b = false;
        size_t o = vpush(vc, "archive_packages");
        rc = vbool(vc, arch, &b);
        vpop(vc, o);
        cfg->archive_packages = b;
    }
    if (rc == SLUICE_OK && !sl_json_get(root, "sources"))
        rc = vmissing(vc, root, "sources");
    if (rc == SLUICE_OK)
        rc = check_sources(vc, sl_json_get_mut(root, "sources"), cfg);
    if (rc != SLUICE_OK)
        return rc;
    cfg->pipeline_name = sl_strdup(name);
    cfg->dataset = dataset ? sl_strdup(dataset) : sl_aprintf("%s_dataset", name);
    if (!cfg->pipeline_name || !cfg->dataset)
        return sl_nomem(vc->ctx);
    return SLUICE_OK;
}

/* ============================================================================================
 * Public API
 * ========================================================================================== */

sluice_status sl_config_parse(struct sl_ctx *ctx, const char *path, const char *text, size_t len,
                              struct sl_pipeline_cfg **out)
{
    struct sl_json *root = NULL;
    struct overrides ov;
    struct sl_pipeline_cfg *cfg = NULL;
    struct vctx vc;
    sluice_status rc;

    *out = NULL;
    memset(&ov, 0, sizeof(ov));
    rc = sl_yaml_parse(ctx, path, text, len, &root);
    if (rc != SLUICE_OK)
        goto done;
    if (root->type == SL_JSON_NULL) {
        uint32_t line = root->line ? root->line : 1;
        sl_json_set_object(root);
        root->line = line;
    } else if (root->type != SL_JSON_OBJECT) {
        rc = config_fail(ctx, "%s:%u: the config must be a mapping (pipeline, destination, "
                              "dataset, sources)", file_name(path), root->line);
        goto done;
    }
    rc = interpolate(ctx, path, root);
    if (rc == SLUICE_OK)
        rc = apply_env(ctx, root, &ov);
    if (rc != SLUICE_OK)
        goto done;
    cfg = sl_calloc(1, sizeof(*cfg));
    if (!cfg) {
        rc = sl_nomem(ctx);
        goto done;
    }
    cfg->max_table_nesting = -1;
    if (path) {
        cfg->path = sl_strdup(path);
        if (!cfg->path) {
            rc = sl_nomem(ctx);
            goto done;
        }
    }
    rc = make_base_dir(ctx, path, &cfg->base_dir);
    if (rc != SLUICE_OK)
        goto done;
    memset(&vc, 0, sizeof(vc));
    vc.ctx = ctx;
    vc.file = path;
    vc.ov = &ov;
    rc = check_pipeline(&vc, root, cfg);
    if (rc == SLUICE_OK) {
        *out = cfg;
        cfg = NULL;
    }
done:
    sl_pipeline_cfg_free(&cfg);
    sl_json_free(root);
    overrides_cleanup(&ov);
    return rc;
}

sluice_status sl_config_load(struct sl_ctx *ctx, const char *path, struct sl_pipeline_cfg **out)
{
    struct sl_buf b;
    FILE *f = NULL;
    char chunk[65536];
    sluice_status rc = SLUICE_OK;

    *out = NULL;
    sl_buf_init(&b, CFG_MAX_TEXT);
    if (!path) {
        rc = sl_fail(ctx, SLUICE_ERR_INVALID_ARG, "no config file given");
        goto done;
    }
    f = fopen(path, "rb");
    if (!f) {
        rc = config_fail(ctx, "%s: cannot open the config file: %s", path, strerror(errno));
        goto done;
    }
    for (;;) {
        size_t n = fread(chunk, 1, sizeof(chunk), f);
        if (n && b.len + n > CFG_MAX_TEXT) {
            rc = config_fail(ctx, "%s: the config is larger than %zu bytes", path, CFG_MAX_TEXT);
            goto done;
        }
        if (n && sl_buf_append(&b, chunk, n)) {
            rc = sl_nomem(ctx);
            goto done;
        }
        if (n < sizeof(chunk))
            break;
    }
    if (ferror(f)) {
        /* a folder, a device...: the path given as the config is wrong, a usage error */
        rc = config_fail(ctx, "%s: cannot read the config file: %s", path, strerror(errno));
        goto done;
    }
    rc = sl_config_parse(ctx, path, b.data ? b.data : "", b.len, out);
done:
    if (f)
        fclose(f);
    sl_buf_cleanup(&b);
    return rc;
}

sluice_status sl_resource_cfg_set(struct sl_ctx *ctx, struct sl_resource_cfg *r, const char *key,
                                  const struct sl_json *value)
{
    struct vctx vc;
    struct sl_json *copy = NULL;
    sluice_status rc;

    if (!r || !key || !value)
        return sl_fail(ctx, SLUICE_ERR_INVALID_ARG, "sl_resource_cfg_set: NULL argument");
    memset(&vc, 0, sizeof(vc));
    vc.ctx = ctx;
    vc.api = true;
    vc.resource = r->name;
    long k = list_index(key, resource_keys);
    if (k < 0)
        return vunknown(&vc, value, key, resource_keys);
    copy = sl_json_dup(value);
    if (!copy)
        return sl_nomem(ctx);
    vpush(&vc, key);
    rc = resource_setters[k](&vc, r, copy);
    sl_json_free(copy);
    return rc;
}
