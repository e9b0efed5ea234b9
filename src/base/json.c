/*
 * json.c — JSON values, the yajl-based streaming parser, and the writer (see json.h).
 *
 * Parser design: yajl's callback API (measured ~6x faster than tree parsers here, PERF.md)
 * drives a stack of frames, one per open container. Each depth level owns a reusable vector
 * (kept across items, so a steady stream of items allocates nothing but arena space); when a
 * container closes its elements are copied into the arena as one array. Input is fed to yajl
 * one line segment at a time so the current line is always known: items report the line
 * where they start and errors report line and column. Strings are copied into the arena
 * (yajl's buffers only live during the callback).
 *
 * Heap trees use the same struct with heap = 1; their arrays carry a capacity (cap) so they
 * can grow. Arena trees are never freed one by one.
 */
#include "base/json.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

/* ============================================================================================
 * Reading
 * ========================================================================================== */

const char *sl_json_type_name(enum sl_json_type t)
{
    switch (t) {
    case SL_JSON_NULL: return "null";
    case SL_JSON_BOOL: return "bool";
    case SL_JSON_INT: return "int";
    case SL_JSON_DOUBLE: return "double";
    case SL_JSON_BIGINT: return "bigint";
    case SL_JSON_STRING: return "string";
    case SL_JSON_ARRAY: return "array";
    case SL_JSON_OBJECT: return "object";
    }
    return "?";
}

struct sl_json *sl_json_get_mut(struct sl_json *obj, const char *key)
{
    if (!obj || obj->type != SL_JSON_OBJECT)
        return NULL;
    size_t kl = strlen(key);
    for (uint32_t i = obj->len; i-- > 0;) {
        struct sl_json_member *m = &obj->u.members[i];
        if (m->key_len == kl && memcmp(m->key, key, kl) == 0)
            return &m->val;
    }
    return NULL;
}

const struct sl_json *sl_json_get(const struct sl_json *obj, const char *key)
{
    return sl_json_get_mut((struct sl_json *)obj, key);
}

const char *sl_json_str(const struct sl_json *v)
{
    return v && v->type == SL_JSON_STRING ? v->s : NULL;
}

bool sl_json_is_num(const struct sl_json *v)
{
    return v && (v->type == SL_JSON_INT || v->type == SL_JSON_DOUBLE || v->type == SL_JSON_BIGINT);
}

double sl_json_num(const struct sl_json *v)
{
    if (!v)
        return 0;
    if (v->type == SL_JSON_INT)
        return (double)v->u.i;
    if (v->type == SL_JSON_DOUBLE)
        return v->u.d;
    if (v->type == SL_JSON_BIGINT)
        return strtod(v->s, NULL);
    return 0;
}

bool sl_json_equal(const struct sl_json *a, const struct sl_json *b)
{
    if (sl_json_is_num(a) && sl_json_is_num(b)) {
        if (a->type == SL_JSON_INT && b->type == SL_JSON_INT)
            return a->u.i == b->u.i;
        if (a->type == SL_JSON_BIGINT && b->type == SL_JSON_BIGINT)
            return strcmp(a->s, b->s) == 0;
        return sl_json_num(a) == sl_json_num(b);
    }
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case SL_JSON_NULL: return true;
    case SL_JSON_BOOL: return a->u.b == b->u.b;
    case SL_JSON_STRING: return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
    case SL_JSON_ARRAY:
        if (a->len != b->len)
            return false;
        for (uint32_t i = 0; i < a->len; i++)
            if (!sl_json_equal(&a->u.items[i], &b->u.items[i]))
                return false;
        return true;
    case SL_JSON_OBJECT:
        /* duplicate keys: the last one wins (sl_json_get), as for Python's dict, so member
         * counts may differ; compare the effective values, and the key sets both ways */
        for (uint32_t i = 0; i < a->len; i++) {
            const char *key = a->u.members[i].key;
            const struct sl_json *o = sl_json_get(b, key);
            if (!o || !sl_json_equal(sl_json_get(a, key), o))
                return false;
        }
        for (uint32_t i = 0; i < b->len; i++)
            if (!sl_json_get(a, b->u.members[i].key))
                return false;
        return true;
    default: return false;
    }
}

/* ============================================================================================
 * Heap trees
 * ========================================================================================== */

static void init(struct sl_json *v, enum sl_json_type t)
{
    memset(v, 0, sizeof(*v));
    v->type = (uint8_t)t;
    v->heap = 1;
}

void sl_json_set_null(struct sl_json *v) { init(v, SL_JSON_NULL); }
void sl_json_set_bool(struct sl_json *v, bool b) { init(v, SL_JSON_BOOL); v->u.b = b; }
void sl_json_set_int(struct sl_json *v, int64_t i) { init(v, SL_JSON_INT); v->u.i = i; }
void sl_json_set_double(struct sl_json *v, double d) { init(v, SL_JSON_DOUBLE); v->u.d = d; }
void sl_json_set_object(struct sl_json *v) { init(v, SL_JSON_OBJECT); }
void sl_json_set_array(struct sl_json *v) { init(v, SL_JSON_ARRAY); }

int sl_json_set_str(struct sl_json *v, const char *s, size_t len)
{
    init(v, SL_JSON_STRING);
    if (len > UINT32_MAX)
        return -1;
    char *d = sl_strndup(s, len);
    if (!d)
        return -1;
    v->s = d;
    v->len = (uint32_t)len;
    return 0;
}

struct sl_json *sl_json_new_object(void)
{
    struct sl_json *v = sl_malloc(sizeof(*v));
    if (v)
        sl_json_set_object(v);
    return v;
}

struct sl_json *sl_json_new_array(void)
{
    struct sl_json *v = sl_malloc(sizeof(*v));
    if (v)
        sl_json_set_array(v);
    return v;
}

void sl_json_clear(struct sl_json *v)
{
    if (!v)
        return;
    if (v->heap) {
        switch (v->type) {
        case SL_JSON_STRING:
        case SL_JSON_BIGINT:
        case SL_JSON_DOUBLE:
            sl_free((void *)v->s);
            break;
        case SL_JSON_ARRAY:
            for (uint32_t i = 0; i < v->len; i++)
                sl_json_clear(&v->u.items[i]);
            sl_free(v->u.items);
            break;
        case SL_JSON_OBJECT:
            for (uint32_t i = 0; i < v->len; i++) {
                sl_free((void *)v->u.members[i].key);
                sl_json_clear(&v->u.members[i].val);
            }
            sl_free(v->u.members);
            break;
        default:
            break;
        }
    }
    init(v, SL_JSON_NULL);
}

void sl_json_free(struct sl_json *v)
{
    if (!v)
        return;
    if (!v->heap)
        return; /* arena tree: freed with its arena */
    sl_json_clear(v);
    sl_free(v);
}

int sl_json_copy_into(struct sl_json *dst, const struct sl_json *src)
{
    init(dst, (enum sl_json_type)src->type);
    dst->line = src->line;
    switch (src->type) {
    case SL_JSON_NULL: return 0;
    case SL_JSON_BOOL: dst->u.b = src->u.b; return 0;
    case SL_JSON_INT: dst->u.i = src->u.i; return 0;
    case SL_JSON_DOUBLE:
        dst->u.d = src->u.d;
        if (src->s) {
            dst->s = sl_strdup(src->s);
            if (!dst->s)
                return -1;
        }
        return 0;
    case SL_JSON_BIGINT:
    case SL_JSON_STRING:
        dst->s = sl_strndup(src->s, src->type == SL_JSON_STRING ? src->len : strlen(src->s));
        dst->len = src->len;
        return dst->s ? 0 : -1;
    case SL_JSON_ARRAY:
        if (src->len) {
            dst->u.items = sl_calloc(src->len, sizeof(struct sl_json));
            if (!dst->u.items)
                return -1;
            dst->cap = src->len;
            for (uint32_t i = 0; i < src->len; i++) {
                dst->len = i + 1;
                if (sl_json_copy_into(&dst->u.items[i], &src->u.items[i]))
                    return -1;
            }
        }
        return 0;
    case SL_JSON_OBJECT:
        if (src->len) {
            dst->u.members = sl_calloc(src->len, sizeof(struct sl_json_member));
            if (!dst->u.members)
                return -1;
            dst->cap = src->len;
            for (uint32_t i = 0; i < src->len; i++) {
                struct sl_json_member *m = &dst->u.members[i];
                const struct sl_json_member *sm = &src->u.members[i];
                dst->len = i + 1;
                init(&m->val, SL_JSON_NULL);
                m->key = sl_strndup(sm->key, sm->key_len);
                m->key_len = sm->key_len;
                if (!m->key || sl_json_copy_into(&m->val, &sm->val))
                    return -1;
            }
        }
        return 0;
    }
    return -1;
}

struct sl_json *sl_json_dup(const struct sl_json *v)
{
    struct sl_json *d = sl_malloc(sizeof(*d));
    if (!d)
        return NULL;
    if (sl_json_copy_into(d, v)) {
        sl_json_free(d);
        return NULL;
    }
    return d;
}

struct sl_json *sl_json_obj_set_take(struct sl_json *obj, const char *key, struct sl_json *val)
{
    SL_ASSERT(obj->type == SL_JSON_OBJECT && obj->heap);
    struct sl_json *old = sl_json_get_mut(obj, key);
    if (old) {
        sl_json_clear(old);
        *old = *val;
        old->heap = 1;
        init(val, SL_JSON_NULL);
        return old;
    }
    if (obj->len == obj->cap) {
        uint32_t ncap = obj->cap ? obj->cap * 2 : 4;
        struct sl_json_member *m = sl_realloc(obj->u.members, ncap * sizeof(*m));
        if (!m)
            goto fail;
        obj->u.members = m;
        obj->cap = ncap;
    }
    size_t kl = strlen(key);
    char *k = sl_strndup(key, kl);
    if (!k)
        goto fail;
    struct sl_json_member *m = &obj->u.members[obj->len++];
    m->key = k;
    m->key_len = (uint32_t)kl;
    m->val = *val;
    m->val.heap = 1;
    init(val, SL_JSON_NULL);
    return &m->val;
fail:
    sl_json_clear(val); /* taken also on failure */
    return NULL;
}

int sl_json_obj_put_str(struct sl_json *obj, const char *key, const char *s)
{
    struct sl_json v;
    if (!s)
        sl_json_set_null(&v);
    else if (sl_json_set_str(&v, s, strlen(s)))
        return -1;
    return sl_json_obj_set_take(obj, key, &v) ? 0 : -1;
}

int sl_json_obj_put_int(struct sl_json *obj, const char *key, int64_t i)
{
    struct sl_json v;
    sl_json_set_int(&v, i);
    return sl_json_obj_set_take(obj, key, &v) ? 0 : -1;
}

struct sl_json *sl_json_obj_setdefault(struct sl_json *obj, const char *key,
                                       enum sl_json_type type)
{
    struct sl_json *cur = sl_json_get_mut(obj, key);
    if (cur)
        return cur;
    struct sl_json v;
    init(&v, type);
    return sl_json_obj_set_take(obj, key, &v);
}

bool sl_json_obj_del(struct sl_json *obj, const char *key)
{
    if (!obj || obj->type != SL_JSON_OBJECT)
        return false;
    size_t kl = strlen(key);
    for (uint32_t i = 0; i < obj->len; i++) {
        struct sl_json_member *m = &obj->u.members[i];
        if (m->key_len == kl && memcmp(m->key, key, kl) == 0) {
            if (obj->heap) {
                sl_free((void *)m->key);
                sl_json_clear(&m->val);
            }
            memmove(m, m + 1, (obj->len - i - 1) * sizeof(*m));
            obj->len--;
            return true;
        }
    }
    return false;
}

struct sl_json *sl_json_arr_push_take(struct sl_json *arr, struct sl_json *val)
{
    SL_ASSERT(arr->type == SL_JSON_ARRAY && arr->heap);
    if (arr->len == arr->cap) {
        uint32_t ncap = arr->cap ? arr->cap * 2 : 4;
        struct sl_json *n = sl_realloc(arr->u.items, ncap * sizeof(*n));
        if (!n) {
            sl_json_clear(val); /* taken also on failure */
            return NULL;
        }
        arr->u.items = n;
        arr->cap = ncap;
    }
    struct sl_json *slot = &arr->u.items[arr->len++];
    *slot = *val;
    slot->heap = 1;
    init(val, SL_JSON_NULL);
    return slot;
}

/* ============================================================================================
 * Parser
 * ========================================================================================== */

struct vec {             /* reusable per-depth element vector */
    void *data;
    size_t len;          /* in elements */
    size_t cap_bytes;    /* in bytes: a depth holds members or values, of different sizes */
};

struct frame {
    uint8_t is_obj;
    uint32_t line;
    const char *key;     /* pending key (objects) */
    uint32_t key_len;
};

struct sl_json_parser {
    struct sl_ctx *ctx;
    yajl_handle h;
    enum sl_json_mode mode;
    struct sl_json_limits lim;
    sl_json_value_fn fn;
    void *ud;
    struct sl_arena arena;
    struct frame *frames;
    struct vec *vecs;
    size_t depth, frames_cap;
    int unwrapping;      /* inside a top-level array being unwrapped */
    int64_t index;       /* values handed over */
    int64_t line;        /* current line (1-based) */
    int64_t line_col0;   /* unused */
    sluice_status cb_rc; /* status returned by fn or an internal error */
    int nomem;
    int nonblank;        /* some non-whitespace input was fed */
    int64_t page;        /* top-level values started so far */
    /* \\u escape scanner (surrogates), carried across fed chunks */
    int es_state;
    unsigned es_hex, es_n;
};

int64_t sl_json_parser_page(const struct sl_json_parser *p) { return p->page; }

/* A value starts: at depth 0 it is a new top-level value (a page when unwrapping). */
static void value_start(struct sl_json_parser *p)
{
    if (p->depth == 0)
        p->page++;
}

/* Room for one more element of elsz bytes (the vector grows); -1 when out of memory. */
static int vec_grow(struct vec *v, size_t elsz)
{
    size_t ncap = v->cap_bytes ? v->cap_bytes * 2 : 8 * elsz;
    while (ncap < (v->len + 1) * elsz)
        ncap *= 2;
    void *n = sl_realloc(v->data, ncap);
    if (!n)
        return -1;
    v->data = n;
    v->cap_bytes = ncap;
    return 0;
}

/* The next element's slot (v->len grows by one), NULL when out of memory. Inline with the
 * growth out of line: every value of every item goes through it, and the former generic push
 * (a memcpy of a run-time size, a libc call) was ~2% of the extract thread. */
static inline void *vec_slot(struct vec *v, size_t elsz)
{
    if ((v->len + 1) * elsz > v->cap_bytes && vec_grow(v, elsz))
        return NULL;
    return (char *)v->data + v->len++ * elsz;
}

/* Depth at which completed values are handed over. */
static size_t emit_depth(const struct sl_json_parser *p) { return p->unwrapping ? 1 : 0; }

static int deliver(struct sl_json_parser *p, struct sl_json *v)
{
    p->index++;
    sluice_status rc = p->fn(p->ud, v, p->index, v->line ? v->line : p->line);
    sl_arena_reset(&p->arena);
    if (rc != SLUICE_OK) {
        p->cb_rc = rc;
        return 0;
    }
    return 1;
}

/* Add a finished value at the current depth: to the parent container, or hand it over. */
static int add_value(struct sl_json_parser *p, struct sl_json *v)
{
    if (p->depth == emit_depth(p))
        return deliver(p, v);
    struct frame *f = &p->frames[p->depth - 1];
    struct vec *vv = &p->vecs[p->depth - 1];
    if (f->is_obj) {
        struct sl_json_member *m = vec_slot(vv, sizeof(*m));
        if (!m) {
            p->nomem = 1;
            return 0;
        }
        m->key = f->key;
        m->key_len = f->key_len;
        m->val = *v;
    } else {
        struct sl_json *slot = vec_slot(vv, sizeof(*slot));
        if (!slot) {
            p->nomem = 1;
            return 0;
        }
        *slot = *v;
    }
    return 1;
}

static void scalar_init(struct sl_json_parser *p, struct sl_json *v, enum sl_json_type t)
{
    memset(v, 0, sizeof(*v));
    v->type = (uint8_t)t;
    v->line = (uint32_t)p->line;
}

static int cb_null(void *ud)
{
    struct sl_json_parser *p = ud;
    value_start(p);
    struct sl_json v;
    scalar_init(p, &v, SL_JSON_NULL);
    return add_value(p, &v);
}

static int cb_bool(void *ud, int b)
{
    struct sl_json_parser *p = ud;
    value_start(p);
    struct sl_json v;
    scalar_init(p, &v, SL_JSON_BOOL);
    v.u.b = b != 0;
    return add_value(p, &v);
}

/* An integer of at most 18 digits (optional '-'): its value, without strtoll's copy and
 * conversion (1 when s is not one; *out then untouched). 18 digits cannot overflow. */
static int small_int(const char *s, size_t len, long long *out)
{
    size_t i = len && s[0] == '-';
    if (len - i == 0 || len - i > 18)
        return 1;
    long long v = 0;
    for (; i < len; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9)
            return 1;
        v = v * 10 + d;
    }
    *out = s[0] == '-' ? -v : v;
    return 0;
}

/* A decimal "-?D+.D+" of at most 15 digits: its double, without strtod (1 when s is not one).
 * Exact and so identical to strtod's correctly rounded result: the digits as an integer m <
 * 10^15 < 2^53 and 10^k for k <= 22 are both exact doubles, and IEEE division rounds m / 10^k
 * correctly (Clinger's fast path). strtod was ~2% of the extract thread on items with a price. */
static int small_decimal(const char *s, size_t len, double *out)
{
    static const double pow10[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                    1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };
    size_t i = len && s[0] == '-';
    uint64_t m = 0;
    int digits = 0, frac = -1; /* frac: digits after the point, -1 before it */
    for (; i < len; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d <= 9) {
            m = m * 10 + d;
            digits++;
            frac += frac >= 0;
        } else if (s[i] == '.' && frac < 0) {
            frac = 0;
        } else {
            return 1;
        }
    }
    if (digits > 15 || frac < 1)
        return 1;
    double v = (double)m / pow10[frac];
    *out = s[0] == '-' ? -v : v;
    return 0;
}

static int cb_number(void *ud, const char *s, size_t len)
{
    struct sl_json_parser *p = ud;
    value_start(p);
    struct sl_json v;
    long long small;
    if (!small_int(s, len, &small)) {
        scalar_init(p, &v, SL_JSON_INT);
        v.u.i = small;
        return add_value(p, &v);
    }
    char tmp[64];
    const char *text = s;
    char *copy = NULL;
    if (len < sizeof(tmp)) {
        memcpy(tmp, s, len);
        tmp[len] = '\0';
        text = tmp;
    } else {
        copy = sl_arena_strndup(&p->arena, s, len);
        if (!copy) {
            p->nomem = 1;
            return 0;
        }
        text = copy;
    }
    int is_float = memchr(s, '.', len) || memchr(s, 'e', len) || memchr(s, 'E', len);
    if (!is_float) {
        errno = 0;
        char *end = NULL;
        long long ll = strtoll(text, &end, 10);
        if (errno == 0 && end && *end == '\0') {
            scalar_init(p, &v, SL_JSON_INT);
            v.u.i = ll;
            return add_value(p, &v);
        }
        scalar_init(p, &v, SL_JSON_BIGINT);
    } else {
        scalar_init(p, &v, SL_JSON_DOUBLE);
        if (small_decimal(s, len, &v.u.d))
            v.u.d = strtod(text, NULL);
        if (isinf(v.u.d)) {
            /* 1e400: yyjson and orjson (so dlt) refuse it as well; an infinity could not be
             * written back as JSON (state, json columns) */
            p->cb_rc = sl_fail(p->ctx, SLUICE_ERR_DATA_JSON,
                               "number %.32s%s at line %lld is out of the range of a double",
                               text, len > 32 ? "..." : "", (long long)p->line);
            return 0;
        }
    }
    if (!copy) {
        copy = sl_arena_strndup(&p->arena, s, len);
        if (!copy) {
            p->nomem = 1;
            return 0;
        }
    }
    v.s = copy;
    v.len = (uint32_t)len;
    return add_value(p, &v);
}

/*
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past U+10FFFF. yajl's own
 * check lets those through (and turns a lone "\\udc00" escape into an encoded surrogate), so
 * every string and key is checked again; ASCII runs are skipped eight bytes at a time.
 * Returns the offset of the first bad byte, or len when the text is valid.
 */
static size_t utf8_check(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!(w & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        size_t n = sl_utf8_seq(s + i, len - i);
        if (!n)
            return i;
        i += n;
    }
    return len;
}

static int bad_utf8(struct sl_json_parser *p, const char *what, size_t off)
{
    p->cb_rc = sl_fail(p->ctx, SLUICE_ERR_DATA_JSON,
                       "invalid UTF-8 in a %s at line %lld (byte %zu of it: an overlong form, a "
                       "surrogate or a code point past U+10FFFF)",
                       what, (long long)p->line, off + 1);
    sl_fail_origin(p->ctx, "json", NULL);
    return 0;
}

static int cb_string(void *ud, const unsigned char *s, size_t len)
{
    struct sl_json_parser *p = ud;
    value_start(p);
    if (len > p->lim.max_string) {
        p->cb_rc = sl_fail(p->ctx, SLUICE_ERR_DATA_JSON,
                           "string of %zu bytes at line %lld exceeds the limit of %zu bytes",
                           len, (long long)p->line, p->lim.max_string);
        return 0;
    }
    size_t bad = utf8_check(s, len);
    if (bad != len)
        return bad_utf8(p, "string", bad);
    struct sl_json v;
    scalar_init(p, &v, SL_JSON_STRING);
    v.s = sl_arena_strndup(&p->arena, (const char *)s, len);
    if (!v.s) {
        p->nomem = 1;
        return 0;
    }
    v.len = (uint32_t)len;
    return add_value(p, &v);
}

static int open_container(struct sl_json_parser *p, int is_obj)
{
    value_start(p);
    if (!is_obj && p->depth == 0 && p->mode == SL_JSON_UNWRAP_ARRAY && !p->unwrapping) {
        p->unwrapping = 1;
        p->depth = 1;
        if (!p->frames_cap) {
            p->frames = sl_calloc(16, sizeof(struct frame));
            p->vecs = sl_calloc(16, sizeof(struct vec));
            if (!p->frames || !p->vecs) {
                p->nomem = 1;
                return 0;
            }
            p->frames_cap = 16;
        }
        p->frames[0].is_obj = 0;
        return 1;
    }
    if (p->depth >= p->lim.max_depth + emit_depth(p)) {
        p->cb_rc = sl_fail(p->ctx, SLUICE_ERR_DATA_JSON,
                           "JSON nested deeper than %zu levels at line %lld", p->lim.max_depth,
                           (long long)p->line);
        return 0;
    }
    if (p->depth == p->frames_cap) {
        size_t ncap = p->frames_cap ? p->frames_cap * 2 : 16;
        struct frame *f = sl_realloc(p->frames, ncap * sizeof(*f));
        if (!f) {
            p->nomem = 1;
            return 0;
        }
        p->frames = f;
        struct vec *v = sl_realloc(p->vecs, ncap * sizeof(*v));
        if (!v) {
            p->nomem = 1;
            return 0;
        }
        memset(v + p->frames_cap, 0, (ncap - p->frames_cap) * sizeof(*v));
        p->vecs = v;
        p->frames_cap = ncap;
    }
    struct frame *f = &p->frames[p->depth];
    f->is_obj = (uint8_t)is_obj;
    f->line = (uint32_t)p->line;
    f->key = NULL;
    f->key_len = 0;
    p->vecs[p->depth].len = 0;
    p->depth++;
    return 1;
}

static int close_container(struct sl_json_parser *p)
{
    if (p->unwrapping && p->depth == 1) {
        p->unwrapping = 0;
        p->depth = 0;
        return 1;
    }
    p->depth--;
    struct frame *f = &p->frames[p->depth];
    struct vec *vv = &p->vecs[p->depth];
    struct sl_json v;
    memset(&v, 0, sizeof(v));
    v.line = f->line;
    v.len = (uint32_t)vv->len;
    if (f->is_obj) {
        v.type = SL_JSON_OBJECT;
        if (vv->len) {
            size_t sz = vv->len * sizeof(struct sl_json_member);
            v.u.members = sl_arena_alloc(&p->arena, sz);
            if (!v.u.members) {
                p->nomem = 1;
                return 0;
            }
            memcpy(v.u.members, vv->data, sz);
        }
    } else {
        v.type = SL_JSON_ARRAY;
        if (vv->len) {
            size_t sz = vv->len * sizeof(struct sl_json);
            v.u.items = sl_arena_alloc(&p->arena, sz);
            if (!v.u.items) {
                p->nomem = 1;
                return 0;
            }
            memcpy(v.u.items, vv->data, sz);
        }
    }
    vv->len = 0;
    return add_value(p, &v);
}

static int cb_start_map(void *ud) { return open_container(ud, 1); }
static int cb_end_map(void *ud) { return close_container(ud); }
static int cb_start_array(void *ud) { return open_container(ud, 0); }
static int cb_end_array(void *ud) { return close_container(ud); }

static int cb_map_key(void *ud, const unsigned char *s, size_t len)
{
    struct sl_json_parser *p = ud;
    if (len > p->lim.max_string) {
        /* keys become column names, written into the schema as strings: same cap */
        p->cb_rc = sl_fail(p->ctx, SLUICE_ERR_DATA_JSON,
                           "key of %zu bytes at line %lld exceeds the limit of %zu bytes", len,
                           (long long)p->line, p->lim.max_string);
        return 0;
    }
    size_t bad = utf8_check(s, len);
    if (bad != len)
        return bad_utf8(p, "key", bad);
    struct frame *f = &p->frames[p->depth - 1];
    f->key = sl_arena_strndup(&p->arena, (const char *)s, len);
    if (!f->key) {
        p->nomem = 1;
        return 0;
    }
    f->key_len = (uint32_t)len;
    return 1;
}

static const yajl_callbacks callbacks = {
    cb_null, cb_bool, NULL, NULL, cb_number, cb_string,
    cb_start_map, cb_map_key, cb_end_map, cb_start_array, cb_end_array,
};

/* yajl gets libc's allocator, not sl_alloc: yajl 2.1 does not check the results of its own
 * allocations (yajl_buf, yajl_bs_push write through NULL), so routing them through a failing
 * test allocator would crash inside yajl instead of testing our error paths. Its memory is
 * small and bounded (a lexer buffer and a byte stack per parser). */

sluice_status sl_json_parser_new(struct sl_json_parser **out, struct sl_ctx *ctx,
                                 enum sl_json_mode mode, const struct sl_json_limits *limits,
                                 sl_json_value_fn fn, void *ud)
{
    *out = NULL;
    struct sl_json_parser *p = sl_calloc(1, sizeof(*p));
    if (!p)
        return sl_nomem(ctx);
    p->ctx = ctx;
    p->mode = mode;
    p->lim.max_depth = limits && limits->max_depth ? limits->max_depth : 512;
    p->lim.max_string = limits && limits->max_string ? limits->max_string : 64u << 20;
    p->fn = fn;
    p->ud = ud;
    p->line = 1;
    sl_arena_init(&p->arena, 64 * 1024);
    p->h = yajl_alloc(&callbacks, NULL, p);
    if (!p->h) {
        sl_free(p);
        return sl_nomem(ctx);
    }
    yajl_config(p->h, yajl_allow_multiple_values, 1);
    *out = p;
    return SLUICE_OK;
}

int64_t sl_json_parser_line(const struct sl_json_parser *p) { return p->line; }

static sluice_status parse_error(struct sl_json_parser *p, const unsigned char *seg, size_t len)
{
    if (p->cb_rc != SLUICE_OK)
        return p->cb_rc;
    if (p->nomem)
        return sl_nomem(p->ctx);
    size_t consumed = yajl_get_bytes_consumed(p->h);
    unsigned char *msg = yajl_get_error(p->h, 0, seg, len);
    char text[256];
    snprintf(text, sizeof(text), "%s", msg ? (const char *)msg : "parse error");
    if (msg)
        yajl_free_error(p->h, msg);
    size_t tl = strlen(text);
    while (tl && (text[tl - 1] == '\n' || text[tl - 1] == ' '))
        text[--tl] = '\0';
    sl_fail(p->ctx, SLUICE_ERR_DATA_JSON, "malformed JSON at line %lld, column %zu: %s",
            (long long)p->line, consumed + 1, text);
    sl_fail_origin(p->ctx, "json", NULL);
    return SLUICE_ERR_DATA_JSON;
}

/*
 * yajl decodes a lone UTF-16 surrogate escape into '?' ("\\ud800") or pairs it with any next
 * escape ("\\ud800\\u0041" becomes U+10041): silent corruption. This scanner checks the raw
 * escapes before yajl sees them. A backslash can only be inside a string in valid JSON, so it
 * needs no string tracking; between backslashes it jumps with memchr. State survives between
 * calls, since a chunk may end inside an escape.
 */
enum { ES_NORMAL, ES_BS, ES_U, ES_HI_BS, ES_HI_U, ES_LO };

int sl_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static sluice_status surrogate_fail(struct sl_json_parser *p, const char *what)
{
    sl_fail(p->ctx, SLUICE_ERR_DATA_JSON,
            "malformed JSON at line %lld: %s UTF-16 surrogate escape in a string",
            (long long)p->line, what);
    sl_fail_origin(p->ctx, "json", NULL);
    return SLUICE_ERR_DATA_JSON;
}

static sluice_status scan_escapes(struct sl_json_parser *p, const char *data, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (p->es_state == ES_NORMAL) {
            const char *q = memchr(data + i, '\\', len - i);
            if (!q)
                return SLUICE_OK;
            i = (size_t)(q - data) + 1;
            p->es_state = ES_BS;
            continue;
        }
        unsigned char c = (unsigned char)data[i++];
        switch (p->es_state) {
        case ES_BS:
            if (c == 'u') {
                p->es_state = ES_U;
                p->es_hex = 0;
                p->es_n = 0;
            } else {
                p->es_state = ES_NORMAL; /* \\n, \\\\, ...: yajl judges them */
            }
            break;
        case ES_U:
        case ES_LO: {
            int h = sl_hex_digit(c);
            if (h < 0) {
                p->es_state = ES_NORMAL; /* a bad escape: yajl reports it */
                break;
            }
            p->es_hex = p->es_hex * 16 + (unsigned)h;
            if (++p->es_n < 4)
                break;
            unsigned v = p->es_hex;
            if (p->es_state == ES_LO) {
                if (v < 0xDC00 || v > 0xDFFF)
                    return surrogate_fail(p, "a lone high");
                p->es_state = ES_NORMAL;
            } else if (v >= 0xD800 && v <= 0xDBFF) {
                p->es_state = ES_HI_BS;
            } else if (v >= 0xDC00 && v <= 0xDFFF) {
                return surrogate_fail(p, "a lone low");
            } else {
                p->es_state = ES_NORMAL;
            }
            break;
        }
        case ES_HI_BS:
            if (c != '\\')
                return surrogate_fail(p, "a lone high");
            p->es_state = ES_HI_U;
            break;
        case ES_HI_U:
            if (c != 'u')
                return surrogate_fail(p, "a lone high");
            p->es_state = ES_LO;
            p->es_hex = 0;
            p->es_n = 0;
            break;
        default:
            p->es_state = ES_NORMAL;
        }
    }
    return SLUICE_OK;
}

sluice_status sl_json_parser_feed(struct sl_json_parser *p, const char *data, size_t len)
{
    const char *cur = data;
    const char *end = data + len;
    if (!p->nonblank) {
        /* yajl reports "premature EOF" for input that is only whitespace: an empty file or
         * an empty command output is a valid stream of zero values, so remember whether
         * anything else was seen */
        for (size_t i = 0; i < len; i++) {
            char c = data[i];
            if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
                p->nonblank = 1;
                break;
            }
        }
        if (!p->nonblank) {
            for (size_t i = 0; i < len; i++)
                if (data[i] == '\n')
                    p->line++;
            return SLUICE_OK;
        }
    }
    while (cur < end) {
        const char *nl = memchr(cur, '\n', (size_t)(end - cur));
        const char *seg_end = nl ? nl + 1 : end;
        size_t seg_len = (size_t)(seg_end - cur);
        sluice_status erc = scan_escapes(p, cur, seg_len);
        if (erc != SLUICE_OK)
            return erc;
        yajl_status st = yajl_parse(p->h, (const unsigned char *)cur, seg_len);
        if (st != yajl_status_ok) {
            if (p->cb_rc != SLUICE_OK || p->nomem)
                return p->cb_rc != SLUICE_OK ? p->cb_rc : sl_nomem(p->ctx);
            return parse_error(p, (const unsigned char *)cur, seg_len);
        }
        if (nl)
            p->line++;
        cur = seg_end;
    }
    return SLUICE_OK;
}

sluice_status sl_json_parser_finish(struct sl_json_parser *p)
{
    if (!p->nonblank)
        return SLUICE_OK;
    yajl_status st = yajl_complete_parse(p->h);
    if (st != yajl_status_ok) {
        if (p->cb_rc != SLUICE_OK)
            return p->cb_rc;
        if (p->nomem)
            return sl_nomem(p->ctx);
        return parse_error(p, (const unsigned char *)"", 0);
    }
    if (p->depth != 0 || p->unwrapping) {
        sl_fail(p->ctx, SLUICE_ERR_DATA_JSON,
                "malformed JSON at line %lld: unexpected end of input", (long long)p->line);
        sl_fail_origin(p->ctx, "json", NULL);
        return SLUICE_ERR_DATA_JSON;
    }
    return SLUICE_OK;
}

int sl_json_parser_error(struct sl_ctx *ctx, const struct sl_ctx *pctx, sluice_status rc,
                         const char *where, const char *label)
{
    static const char prefix[] = "malformed JSON at ";
    if (ctx->code != SLUICE_OK)
        return 0;
    if (pctx->code == SLUICE_ERR_NOMEM) {
        sl_nomem(ctx);
        return 0;
    }
    if (pctx->code == SLUICE_OK)
        sl_fail(ctx, rc, "reading %s failed", where);
    else if (strncmp(pctx->message, prefix, sizeof(prefix) - 1) == 0)
        sl_fail(ctx, pctx->code, "malformed JSON in %s at %s", where,
                pctx->message + sizeof(prefix) - 1);
    else
        sl_fail(ctx, pctx->code, "%s: %s", label, pctx->message);
    sl_fail_origin(ctx, pctx->origin[0] ? pctx->origin : "json", NULL);
    return 1;
}

void sl_json_parser_free(struct sl_json_parser **pp)
{
    struct sl_json_parser *p = *pp;
    if (!p)
        return;
    if (p->h)
        yajl_free(p->h);
    for (size_t i = 0; i < p->frames_cap; i++)
        sl_free(p->vecs[i].data);
    sl_free(p->vecs);
    sl_free(p->frames);
    sl_arena_cleanup(&p->arena);
    sl_free(p);
    *pp = NULL;
}

/* ---- one document ----------------------------------------------------------------------- */

struct doc_ud {
    struct sl_arena *arena; /* NULL: heap copy */
    struct sl_json *out;
    int count;
    struct sl_ctx *ctx;
};

static sluice_status copy_to_arena(struct sl_arena *a, struct sl_json *dst,
                                   const struct sl_json *src)
{
    *dst = *src;
    switch (src->type) {
    case SL_JSON_STRING:
    case SL_JSON_BIGINT:
    case SL_JSON_DOUBLE:
        if (src->s) {
            size_t l = src->type == SL_JSON_STRING ? src->len : strlen(src->s);
            dst->s = sl_arena_strndup(a, src->s, l);
            if (!dst->s)
                return SLUICE_ERR_NOMEM;
        }
        return SLUICE_OK;
    case SL_JSON_ARRAY:
        if (src->len) {
            dst->u.items = sl_arena_alloc(a, src->len * sizeof(struct sl_json));
            if (!dst->u.items)
                return SLUICE_ERR_NOMEM;
            for (uint32_t i = 0; i < src->len; i++)
                if (copy_to_arena(a, &dst->u.items[i], &src->u.items[i]))
                    return SLUICE_ERR_NOMEM;
        }
        return SLUICE_OK;
    case SL_JSON_OBJECT:
        if (src->len) {
            dst->u.members = sl_arena_alloc(a, src->len * sizeof(struct sl_json_member));
            if (!dst->u.members)
                return SLUICE_ERR_NOMEM;
            for (uint32_t i = 0; i < src->len; i++) {
                struct sl_json_member *m = &dst->u.members[i];
                m->key = sl_arena_strndup(a, src->u.members[i].key, src->u.members[i].key_len);
                m->key_len = src->u.members[i].key_len;
                if (!m->key || copy_to_arena(a, &m->val, &src->u.members[i].val))
                    return SLUICE_ERR_NOMEM;
            }
        }
        return SLUICE_OK;
    default:
        return SLUICE_OK;
    }
}

static sluice_status doc_cb(void *ud, struct sl_json *v, int64_t index, int64_t line)
{
    struct doc_ud *d = ud;
    (void)index;
    (void)line;
    if (d->count++)
        return sl_fail(d->ctx, SLUICE_ERR_DATA_JSON, "malformed JSON: more than one value");
    if (d->arena) {
        d->out = sl_arena_alloc(d->arena, sizeof(*d->out));
        if (!d->out || copy_to_arena(d->arena, d->out, v))
            return sl_nomem(d->ctx);
    } else {
        d->out = sl_json_dup(v);
        if (!d->out)
            return sl_nomem(d->ctx);
    }
    return SLUICE_OK;
}

static sluice_status parse_doc(struct sl_ctx *ctx, struct sl_arena *arena, const char *text,
                               size_t len, struct sl_json **out)
{
    *out = NULL;
    struct doc_ud d = { arena, NULL, 0, ctx };
    struct sl_json_parser *p = NULL;
    sluice_status rc = sl_json_parser_new(&p, ctx, SL_JSON_VALUES, NULL, doc_cb, &d);
    if (rc == SLUICE_OK)
        rc = sl_json_parser_feed(p, text, len);
    if (rc == SLUICE_OK)
        rc = sl_json_parser_finish(p);
    if (rc == SLUICE_OK && d.count == 0)
        rc = sl_fail(ctx, SLUICE_ERR_DATA_JSON, "malformed JSON: empty document");
    sl_json_parser_free(&p);
    if (rc != SLUICE_OK) {
        if (!arena)
            sl_json_free(d.out);
        return rc;
    }
    *out = d.out;
    return SLUICE_OK;
}

sluice_status sl_json_parse(struct sl_ctx *ctx, struct sl_arena *arena, const char *text,
                            size_t len, struct sl_json **out)
{
    return parse_doc(ctx, arena, text, len, out);
}

sluice_status sl_json_parse_heap(struct sl_ctx *ctx, const char *text, size_t len,
                                 struct sl_json **out)
{
    return parse_doc(ctx, NULL, text, len, out);
}

/* ============================================================================================
 * Writer
 * ========================================================================================== */

size_t sl_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t l;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        l = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        l = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        l = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (l > n)
        return 0;
    for (size_t i = 1; i < l; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((l == 3 && cp < 0x800) || (l == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return l;
}

int sl_json_write_string(struct sl_buf *b, const char *str, size_t len)
{
    return sl_json_write_string_ex(b, str, len, 0);
}

int sl_json_write_string_ex(struct sl_buf *b, const char *str, size_t len, int flags)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    if (sl_buf_reserve(b, len + 2))
        return -1;
    b->data[b->len++] = '"';
    size_t run = 0; /* start of a run of bytes copied verbatim */
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t l = sl_utf8_seq(s + i, len - i);
            if (l) {
                i += l;
                continue;
            }
        }
        if (sl_buf_append(b, s + run, i - run))
            return -1;
        char esc[8];
        size_t el = 2;
        esc[0] = '\\';
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            if (c >= 0x80 && (flags & SL_JSON_W_RAW_FFFD)) {
                memcpy(esc, "\xef\xbf\xbd", 3); /* invalid byte: U+FFFD as UTF-8 */
                el = 3;
            } else if (c >= 0x80) {
                memcpy(esc, "\\ufffd", 6); /* invalid UTF-8 byte */
                el = 6;
            } else {
                esc[1] = 'u';
                esc[2] = '0';
                esc[3] = '0';
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                el = 6;
            }
        }
        if (sl_buf_append(b, esc, el))
            return -1;
        i++;
        run = i;
    }
    if (sl_buf_append(b, s + run, len - run))
        return -1;
    return sl_buf_putc(b, '"');
}

const char *sl_json_kind_phrase(const struct sl_json *v)
{
    switch ((enum sl_json_type)v->type) {
    case SL_JSON_NULL: return "null";
    case SL_JSON_BOOL: return "a boolean";
    case SL_JSON_INT:
    case SL_JSON_DOUBLE:
    case SL_JSON_BIGINT: return "a number";
    case SL_JSON_STRING: return "a string";
    case SL_JSON_ARRAY: return "an array";
    case SL_JSON_OBJECT: return "an object";
    }
    return "an unknown value";
}

int sl_json_write_double(struct sl_buf *b, double d)
{
    if (isnan(d) || isinf(d))
        return sl_buf_puts(b, "null");
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    if (!strpbrk(tmp, ".eEn"))
        return sl_buf_printf(b, "%s.0", tmp);
    return sl_buf_puts(b, tmp);
}

/* Shortest decimal digits that read back as d (> 0): digits (no dot) and the scientific
 * exponent, as Python's repr and orjson choose them. Starting at 15 digits is enough: a
 * double is within half an ulp (< 1.2e-16 relative) of any decimal that reads back as it,
 * closer than half the spacing of 15-digit decimals, so when some string of at most 15
 * digits reads back, the correctly rounded 15-digit one is that string padded with zeros
 * (subnormals excepted: their ulp is coarser). */
static size_t shortest_digits(double d, char digits[24], int *exp10)
{
    char tmp[40];
    for (int p = d < DBL_MIN ? 1 : 15; p <= 17; p++) { /* subnormals have fewer digits */
        snprintf(tmp, sizeof(tmp), "%.*e", p - 1, d);
        if (p == 17 || strtod(tmp, NULL) == d)
            break;
    }
    size_t n = 0;
    const char *s = tmp;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9')
            digits[n++] = *s;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
    *exp10 = *s == 'e' ? (int)strtol(s + 1, NULL, 10) : 0;
    return n;
}

int sl_json_write_double_py(struct sl_buf *b, double d, bool python_repr)
{
    if (isnan(d))
        return sl_buf_puts(b, python_repr ? "nan" : "null");
    if (isinf(d))
        return sl_buf_puts(b, python_repr ? (d < 0 ? "-inf" : "inf") : "null");
    if (signbit(d) && sl_buf_putc(b, '-'))
        return -1;
    if (d == 0)
        return sl_buf_puts(b, "0.0");
    char dig[24];
    int e;
    size_t nd = shortest_digits(fabs(d), dig, &e);
    int lo = python_repr ? -4 : -5;
    if (e >= lo && e < 16) {
        if (e < 0) {
            if (sl_buf_puts(b, "0."))
                return -1;
            for (int i = -1; i > e; i--)
                if (sl_buf_putc(b, '0'))
                    return -1;
            return sl_buf_append(b, dig, nd);
        }
        size_t ip = (size_t)e + 1; /* digits before the point */
        for (size_t i = 0; i < ip; i++)
            if (sl_buf_putc(b, i < nd ? dig[i] : '0'))
                return -1;
        if (sl_buf_putc(b, '.'))
            return -1;
        if (nd > ip)
            return sl_buf_append(b, dig + ip, nd - ip);
        return sl_buf_putc(b, '0');
    }
    if (sl_buf_putc(b, dig[0]))
        return -1;
    if (nd > 1 && (sl_buf_putc(b, '.') || sl_buf_append(b, dig + 1, nd - 1)))
        return -1;
    if (python_repr)
        return sl_buf_printf(b, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    return e < 0 ? sl_buf_printf(b, "e-%d", -e) : sl_buf_printf(b, "e+%d", e);
}

struct keyref {
    const struct sl_json_member *m;
};

static int cmp_members(const void *a, const void *b)
{
    const struct sl_json_member *x = ((const struct keyref *)a)->m;
    const struct sl_json_member *y = ((const struct keyref *)b)->m;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    if (c)
        return c;
    return x->key_len < y->key_len ? -1 : x->key_len > y->key_len;
}

static int indent(struct sl_buf *b, int flags, int level)
{
    if (!(flags & SL_JSON_W_PRETTY))
        return 0;
    if (sl_buf_putc(b, '\n'))
        return -1;
    for (int i = 0; i < level; i++)
        if (sl_buf_append(b, "  ", 2))
            return -1;
    return 0;
}

static int write_value(struct sl_buf *b, const struct sl_json *v, int flags, int level)
{
    switch (v->type) {
    case SL_JSON_NULL: return sl_buf_puts(b, "null");
    case SL_JSON_BOOL: return sl_buf_puts(b, v->u.b ? "true" : "false");
    case SL_JSON_INT: return sl_buf_printf(b, "%lld", (long long)v->u.i);
    case SL_JSON_DOUBLE:
        if (v->s)
            return sl_buf_puts(b, v->s);
        return sl_json_write_double(b, v->u.d);
    case SL_JSON_BIGINT: return sl_buf_puts(b, v->s);
    case SL_JSON_STRING: return sl_json_write_string(b, v->s, v->len);
    case SL_JSON_ARRAY:
        if (sl_buf_putc(b, '['))
            return -1;
        for (uint32_t i = 0; i < v->len; i++) {
            if (i && sl_buf_putc(b, ','))
                return -1;
            if (indent(b, flags, level + 1) || write_value(b, &v->u.items[i], flags, level + 1))
                return -1;
        }
        if (v->len && indent(b, flags, level))
            return -1;
        return sl_buf_putc(b, ']');
    case SL_JSON_OBJECT: {
        if (sl_buf_putc(b, '{'))
            return -1;
        struct keyref *order = NULL;
        if ((flags & SL_JSON_W_SORTED) && v->len > 1) {
            order = sl_malloc(v->len * sizeof(*order));
            if (!order)
                return -1;
            for (uint32_t i = 0; i < v->len; i++)
                order[i].m = &v->u.members[i];
            qsort(order, v->len, sizeof(*order), cmp_members);
        }
        int rc = 0;
        for (uint32_t i = 0; i < v->len && !rc; i++) {
            const struct sl_json_member *m = order ? order[i].m : &v->u.members[i];
            if (i && sl_buf_putc(b, ','))
                rc = -1;
            else if (indent(b, flags, level + 1) || sl_json_write_string(b, m->key, m->key_len))
                rc = -1;
            else if (sl_buf_puts(b, (flags & SL_JSON_W_PRETTY) ? ": " : ":"))
                rc = -1;
            else
                rc = write_value(b, &m->val, flags, level + 1);
        }
        sl_free(order);
        if (rc)
            return -1;
        if (v->len && indent(b, flags, level))
            return -1;
        return sl_buf_putc(b, '}');
    }
    }
    return -1;
}

int sl_json_write(struct sl_buf *b, const struct sl_json *v, int flags)
{
    return write_value(b, v, flags, 0);
}

char *sl_json_dumps(const struct sl_json *v, int flags)
{
    struct sl_buf b;
    sl_buf_init(&b, 0);
    if (sl_json_write(&b, v, flags)) {
        sl_buf_cleanup(&b);
        return NULL;
    }
    return sl_buf_take(&b);
}

/* ============================================================================================
 * orjson's spelling: the bytes dlt hashes (json.dumps(v, sort_keys=True) with orjson)
 * ========================================================================================== */

static bool orj_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* True when a double's JSON text is already what orjson writes for it, so the slow shortest-
 * digits search can be skipped: "-?I.F" with no superfluous zeros (F ends in a non-zero digit,
 * or is the single "0"), at most 15 significant digits (then the text is the shortest string
 * that reads back as the double, see shortest_digits) and a decimal exponent in
 * orjson's fixed range -5..15. */
static bool orjson_form(const char *t)
{
    const char *p = t + (*t == '-');
    const char *ip = p;
    while (orj_digit(*p))
        p++;
    size_t il = (size_t)(p - ip);
    if (il == 0 || (il > 1 && ip[0] == '0') || *p != '.')
        return false;
    const char *fp = ++p;
    while (orj_digit(*p))
        p++;
    size_t fl = (size_t)(p - fp);
    if (*p || fl == 0 || (fp[fl - 1] == '0' && fl != 1))
        return false;
    int e;
    size_t lead = 0; /* zeros between the point and the first significant digit */
    if (ip[0] != '0') {
        e = (int)il - 1;
    } else {
        while (lead < fl && fp[lead] == '0')
            lead++;
        if (lead == fl)
            return true; /* 0.0 / -0.0 */
        e = -(int)lead - 1;
    }
    size_t sig = ip[0] != '0' ? il + fl : fl - lead;
    if (ip[0] != '0' && fl == 1 && fp[0] == '0') {
        sig = il; /* "100.0": trailing zeros of the integer part are not significant */
        while (sig > 1 && ip[sig - 1] == '0')
            sig--;
    }
    return sig <= 15 && e >= -5 && e <= 15;
}

/* orjson escapes only '"', '\\' and control characters (\b \t \n \f \r short, others as
 * \u00xx); everything else, non-ASCII included, is written as UTF-8. */
static int write_string_orjson(struct sl_buf *b, const char *str, size_t len)
{
    return sl_json_write_string_ex(b, str, len, SL_JSON_W_RAW_FFFD);
}

#define SMALL_OBJECT 32 /* objects up to this many members are sorted on the stack */

struct mref {
    const struct sl_json_member *m;
    uint32_t idx;
};

static int write_int(struct sl_buf *b, int64_t i)
{
    char t[24];
    size_t n = sizeof(t);
    uint64_t u = i < 0 ? (uint64_t)(-(i + 1)) + 1 : (uint64_t)i;
    do {
        t[--n] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (i < 0)
        t[--n] = '-';
    return sl_buf_append(b, t + n, sizeof(t) - n);
}

static int cmp_mref(const void *a, const void *b)
{
    const struct mref *x = a, *y = b;
    size_t n = x->m->key_len < y->m->key_len ? x->m->key_len : y->m->key_len;
    int c = memcmp(x->m->key, y->m->key, n);
    if (c)
        return c;
    if (x->m->key_len != y->m->key_len)
        return x->m->key_len < y->m->key_len ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static bool same_key(const struct sl_json_member *a, const struct sl_json_member *b)
{
    return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}

/* A Python dict keeps the last of duplicate keys, so only the last duplicate is written. */
int sl_json_write_orjson(struct sl_buf *b, const struct sl_json *v)
{
    switch (v->type) {
    case SL_JSON_NULL: return sl_buf_puts(b, "null");
    case SL_JSON_BOOL: return sl_buf_puts(b, v->u.b ? "true" : "false");
    case SL_JSON_INT: return write_int(b, v->u.i);
    case SL_JSON_BIGINT: return sl_buf_puts(b, v->s);
    case SL_JSON_DOUBLE:
        if (v->s && orjson_form(v->s))
            return sl_buf_puts(b, v->s);
        return sl_json_write_double_py(b, v->u.d, false);
    case SL_JSON_STRING: return write_string_orjson(b, v->s, v->len);
    case SL_JSON_ARRAY:
        if (sl_buf_putc(b, '['))
            return -1;
        for (uint32_t i = 0; i < v->len; i++)
            if ((i && sl_buf_putc(b, ',')) || sl_json_write_orjson(b, &v->u.items[i]))
                return -1;
        return sl_buf_putc(b, ']');
    case SL_JSON_OBJECT: {
        struct mref small[SMALL_OBJECT];
        struct mref *order = small;
        if (v->len > SMALL_OBJECT) {
            order = sl_malloc(v->len * sizeof(*order));
            if (!order)
                return -1;
        }
        for (uint32_t i = 0; i < v->len; i++) {
            order[i].m = &v->u.members[i];
            order[i].idx = i;
        }
        if (v->len > SMALL_OBJECT) {
            qsort(order, v->len, sizeof(*order), cmp_mref);
        } else {
            for (uint32_t i = 1; i < v->len; i++) { /* insertion sort, stable by idx */
                struct mref x = order[i];
                uint32_t j = i;
                while (j > 0 && cmp_mref(&order[j - 1], &x) > 0) {
                    order[j] = order[j - 1];
                    j--;
                }
                order[j] = x;
            }
        }
        int rc = sl_buf_putc(b, '{');
        bool first = true;
        for (uint32_t i = 0; i < v->len && !rc; i++) {
            if (i + 1 < v->len && same_key(order[i].m, order[i + 1].m))
                continue;
            if (!first)
                rc = sl_buf_putc(b, ',');
            first = false;
            if (!rc)
                rc = write_string_orjson(b, order[i].m->key, order[i].m->key_len);
            if (!rc)
                rc = sl_buf_putc(b, ':');
            if (!rc)
                rc = sl_json_write_orjson(b, &order[i].m->val);
        }
        if (order != small)
            sl_free(order);
        return rc ? -1 : sl_buf_putc(b, '}');
    }
    }
    return -1;
}
