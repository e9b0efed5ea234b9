/*
 * yaml.c — YAML (and JSON, being flow-style YAML) text → heap sl_json tree with line numbers.
 *
 * libyaml's event API drives a stack of frames (one per open mapping or sequence) that builds
 * the tree. Plain scalars are typed with the YAML 1.2 core schema (integers beyond int64 become
 * SL_JSON_BIGINT, as in json.c; hex 0x.. and octal 0o.. beyond int64 stay strings); quoted
 * scalars stay strings. Every node records a 1-based line; a mapping member's value carries
 * the line of its KEY (the place an error should point at), sequence items and the root their
 * own. An alias is a deep copy of its anchored node, which is registered only once complete,
 * so a node can never contain itself; "<<" merge keys are honoured (explicit keys win, then
 * earlier merged mappings). Duplicate keys, several documents, unknown tags and non-scalar
 * keys are errors. Caps: 16 MiB of text, 64 levels, 200 000 values counting alias and merge
 * expansions (a "billion laughs" file stops early), 10 000 keys per mapping, 1 MiB per string.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "base/alloc.h"
#include "config/internal.h"

/* ============================================================================================
 * Scalars: the YAML 1.2 core schema
 * ========================================================================================== */

static const char *const null_words[] = { "~", "null", "Null", "NULL", NULL };
static const char *const true_words[] = { "true", "True", "TRUE", NULL };
static const char *const false_words[] = { "false", "False", "FALSE", NULL };
static const char *const inf_words[] = { ".inf", ".Inf", ".INF", NULL };
static const char *const nan_words[] = { ".nan", ".NaN", ".NAN", NULL };

static bool word_is(const char *s, size_t n, const char *const *words)
{
    for (size_t i = 0; words[i]; i++)
        if (strlen(words[i]) == n && memcmp(s, words[i], n) == 0)
            return true;
    return false;
}


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
int sl_yaml_resolve_plain(const char *s, size_t n, struct sl_json *out)
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
        return sl_cfg_fail(p->ctx, "%s:%u:%u: %s", sl_cfg_file_name(p->path), line, col, msg);
    return sl_cfg_fail(p->ctx, "%s:%u: %s", sl_cfg_file_name(p->path), line, msg);
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
            sl_cfg_app(out, sz, &n, "%s%s", n ? "." : "", f->key);
        else if (!f->is_map)
            sl_cfg_app(out, sz, &n, "[%u]", f->val.len);
    }
    sl_cfg_app(out, sz, &n, "%s%s", n ? "." : "", last);
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
    if (!stored)
        return sl_nomem(p->ctx); /* the _take calls freed v */
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
    if (sl_yaml_resolve_plain(s, n, out))
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
        return sl_cfg_fail(p->ctx, "%s: invalid text at byte %zu: %s", sl_cfg_file_name(p->path),
                           ps->problem_offset, problem);
    if (ps->context)
        return sl_cfg_fail(p->ctx, "%s:%u:%u: %s (%s at line %u)", sl_cfg_file_name(p->path),
                           mark_line(&ps->problem_mark), mark_col(&ps->problem_mark), problem,
                           ps->context, mark_line(&ps->context_mark));
    return sl_cfg_fail(p->ctx, "%s:%u:%u: %s", sl_cfg_file_name(p->path), mark_line(&ps->problem_mark),
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
        rc = sl_cfg_fail(ctx, "%s: the config is larger than %zu bytes", sl_cfg_file_name(path),
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

