/*
 * incremental.c — dlt's incremental filter (spec 1.2, 1.3) over typed cursor values.
 *
 * One bound struct sl_incremental lives for one resource run. Bind reads (or creates) the
 * state slot incremental.<cursor_path> = {initial_value, last_value, unique_hashes,
 * start_value}, computes the start boundary (stored last_value moved back by lag, clamped at
 * initial_value) and decides whether boundary de-duplication is on. Each item then goes
 * through the per-row algorithm of dlt's JsonIncremental: find the cursor value, apply the
 * missing/None policy, drop rows beyond end_value, advance the running last value, drop rows
 * below the start boundary and rows equal to it whose hash the previous run stored; rows
 * between start and the running maximum (out of order) are kept. Commit writes the slot back.
 *
 * Invariants:
 * - The slot is written only by commit, only for stateful runs, and only when at least one
 *   item was filtered; values are copies of JSON as written in the data or the config, never
 *   reformatted, so a run that changes nothing leaves the slot byte-identical (the stored hash
 *   list is left as it was when the set of hashes did not change).
 * - `hashes` is dlt's (hashes of last_rows) ∪ (carried unique_hashes): it restarts with the
 *   advancing row when the maximum moves and otherwise grows with rows equal to the maximum.
 *   Rows are only ever de-duplicated against `start_hashes`, the previous run's set.
 * - Comparisons are typed (cursor.c): numbers by exact decimal value, ISO 8601 datetimes
 *   as instants, dates as dates, other strings byte-wise (dlt's order); any other pairing is
 *   an INCREMENTAL error naming both values and their kinds. Lag arithmetic is cursor.c's too.
 * - Boundary hashes are byte-compatible with dlt >= 1.29: base64 of SHAKE-128 over orjson's
 *   compact sorted-key JSON of the dedup key value (or the row), 9 bytes (12 characters).
 *   State written by older dlt holds 20-character (15-byte) hashes; as dlt does, such a set
 *   keeps being matched and extended in the 20-character form until the maximum moves.
 * Neighbours: jsonpath.c finds cursor values; cursor.c types and orders them; digest.c
 * hashes; extract.c drives a run.
 */
#include "model/incremental.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/calendar.h"
#include "base/digest.h"
#include "base/jsonpath.h"
#include "model/cursor.h"

#define HKEY 24                    /* a stored hash and its NUL: dlt's are 12 or 20 chars */
#define LEGACY_HASH_LEN 20         /* hashes written by dlt before 1.29 */
#define NEW_HASH_LEN 12            /* 9-byte digests, dlt >= 1.29 */
#define HASH_WARN_THRESHOLD 200    /* dlt's duplicate_cursor_warning_threshold */
#define SL_CURSOR_SHOW_MAX 80                /* bytes of a value quoted in a message */

/* ============================================================================================
 * Hash sets (boundary hashes)
 * ========================================================================================== */

struct hset {
    char (*keys)[HKEY]; /* insertion order */
    size_t n, cap;
    uint32_t *slots;    /* open addressing: 0 empty, else key index + 1 */
    size_t nslots;      /* power of two, at least 2 * cap */
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static size_t hset_find_slot(const struct hset *h, const char *k)
{
    size_t mask = h->nslots - 1;
    size_t i = (size_t)fnv1a(k) & mask;
    while (h->slots[i] && strcmp(h->keys[h->slots[i] - 1], k) != 0)
        i = (i + 1) & mask;
    return i;
}

static bool hset_has(const struct hset *h, const char *k)
{
    if (!h->n)
        return false;
    return h->slots[hset_find_slot(h, k)] != 0;
}

static int hset_grow(struct hset *h)
{
    size_t ncap = h->cap ? h->cap * 2 : 16;
    char(*keys)[HKEY] = sl_realloc(h->keys, ncap * sizeof(*keys));
    if (!keys)
        return -1;
    h->keys = keys;
    uint32_t *slots = sl_calloc(ncap * 2, sizeof(*slots));
    if (!slots)
        return -1;
    sl_free(h->slots);
    h->slots = slots;
    h->nslots = ncap * 2;
    h->cap = ncap;
    for (size_t i = 0; i < h->n; i++)
        h->slots[hset_find_slot(h, h->keys[i])] = (uint32_t)(i + 1);
    return 0;
}

/* Add k (at most HKEY-1 bytes); 0 ok (already there or added), -1 out of memory. */
static int hset_add(struct hset *h, const char *k)
{
    if (hset_has(h, k))
        return 0;
    if (h->n == h->cap && hset_grow(h))
        return -1;
    size_t l = strlen(k);
    SL_ASSERT(l < HKEY);
    memcpy(h->keys[h->n], k, l + 1);
    h->n++;
    h->slots[hset_find_slot(h, k)] = (uint32_t)h->n;
    return 0;
}

static void hset_clear(struct hset *h)
{
    h->n = 0;
    if (h->slots)
        memset(h->slots, 0, h->nslots * sizeof(*h->slots));
}

static void hset_cleanup(struct hset *h)
{
    sl_free(h->keys);
    sl_free(h->slots);
    memset(h, 0, sizeof(*h));
}

static bool hset_same(const struct hset *a, const struct hset *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (!hset_has(b, a->keys[i]))
            return false;
    return true;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* ============================================================================================
 * The bound incremental
 * ========================================================================================== */

struct sl_incremental {
    struct sl_ctx *ctx;
    const struct sl_incremental_cfg *cfg; /* borrowed: outlives the bound incremental */
    char *resource;
    char *field;                  /* "$.<cursor_path>" (or the path when it starts with $) */
    struct sl_jsonpath *path;
    const char *simple;           /* simple field name, borrowed from path, or NULL */
    struct sl_cursor_tz tz;
    enum sl_inc_func func;
    bool stateless;
    bool dedup;                   /* boundary de-duplication */
    bool lag_on;
    double lag;
    char **key;                   /* dedup key columns (copies), NULL: the whole row */
    size_t nkey;
    bool key_list;                /* hash a one-column key as [value] */
    struct sl_json *resource_state; /* borrowed; NULL when stateless */
    /* heap copies (NULL = none) and their classification */
    struct sl_json *initial, *end, *raw_start, *start, *last;
    struct sl_cursor c_initial, c_end, c_start, c_last, c_raw;
    struct hset start_hashes;     /* the previous run's set */
    struct hset hashes;           /* what commit writes */
    bool start_legacy;            /* start_hashes are 20-character hashes */
    bool legacy;                  /* new hashes in the 20-character form */
    struct sl_buf hbuf;
    struct sl_buf pending;        /* text of the row that last moved the maximum */
    bool pending_set;             /* pending still has to join `hashes` */
    bool touched, kept_any, committed, warned;
    bool start_oor, end_oor;
};

static void set_value(struct sl_incremental *inc, struct sl_json **slot, struct sl_cursor *c,
                      struct sl_json *v)
{
    sl_json_free(*slot);
    *slot = v;
    sl_cursor_classify(v, &inc->tz, c);
}

/* Heap copy of v, NULL for NULL/JSON null. -1 out of memory. */
static int dup_value(const struct sl_json *v, struct sl_json **out)
{
    *out = NULL;
    if (!v || v->type == SL_JSON_NULL)
        return 0;
    *out = sl_json_dup(v);
    return *out ? 0 : -1;
}

/* better(a, b): a is strictly beyond b in the direction of the function. */
static bool beyond(enum sl_inc_func f, int c)
{
    return f == SL_INC_MIN ? c < 0 : c > 0;
}

/* Row compare for the filter: fails with the INCREMENTAL message naming both values. */
static sluice_status row_cmp(struct sl_incremental *inc, int64_t item_no,
                             const struct sl_cursor *row,
                             const char *what, const struct sl_cursor *other, int *out)
{
    enum sl_cursor_cmpres r = sl_cursor_cmp(row, other, out);
    if (r == SL_CMP_OK)
        return SLUICE_OK;
    char a[SL_CURSOR_SHOW_MAX + 8], b[SL_CURSOR_SHOW_MAX + 8];
    sl_cursor_show(row->v, a, sizeof(a));
    sl_cursor_show(other->v, b, sizeof(b));
    return sl_fail_at(inc->ctx, SLUICE_ERR_INCREMENTAL, inc->resource, item_no, inc->field,
                      "cursor value '%s' (%s) cannot be compared with %s '%s' (%s)%s", a,
                      sl_cursor_kind_name(row), what, b, sl_cursor_kind_name(other),
                      sl_cursor_tz_hint(r));
}

/* ---- custom last_value_func ------------------------------------------------------------- */

static bool is_null(const struct sl_json *v)
{
    return !v || v->type == SL_JSON_NULL;
}

/* Python's == on cursor values: typed for comparable scalars, structural otherwise. */
static bool val_eq(const struct sl_cursor_tz *tz, const struct sl_json *a, const struct sl_json *b)
{
    if (is_null(a) || is_null(b))
        return is_null(a) && is_null(b);
    struct sl_cursor x, y;
    sl_cursor_classify(a, tz, &x);
    sl_cursor_classify(b, tz, &y);
    int c;
    if (sl_cursor_cmp(&x, &y, &c) == SL_CMP_OK)
        return c == 0;
    return sl_json_equal(a, b);
}

static sluice_status call_custom(struct sl_ctx *ctx, const struct sl_incremental_cfg *cfg,
                                 const char *resource, int64_t item_no, const char *field,
                                 const struct sl_json *a, const struct sl_json *b,
                                 struct sl_json **out)
{
    *out = cfg->custom_fn(cfg->custom_ud, a, is_null(b) ? NULL : b);
    if (!*out)
        return sl_fail_at(ctx, SLUICE_ERR_INCREMENTAL, resource, item_no, field,
                          "the custom last_value_func failed");
    return SLUICE_OK;
}

/* ---- lag (spec 1.3) -------------------------------------------------------------------- */

static sluice_status lag_fail(struct sl_incremental *inc, const struct sl_cursor *cv,
                              const char *why)
{
    char a[SL_CURSOR_SHOW_MAX + 8];
    sl_cursor_show(cv->v, a, sizeof(a));
    return sl_fail_at(inc->ctx, SLUICE_ERR_INCREMENTAL, inc->resource, -1, inc->field,
                      "cannot apply lag %g to cursor value '%s' (%s): %s", inc->lag, a,
                      sl_cursor_kind_name(cv), why);
}

/* The lagged start (spec 1.3): raw moved back by lag, clamped at initial_value. */
static sluice_status apply_lag(struct sl_incremental *inc, const struct sl_cursor *raw,
                               struct sl_json **out)
{
    *out = NULL;
    struct sl_json lv;
    const char *why = NULL;
    sluice_status rc = SLUICE_OK;
    int lr = sl_cursor_lag(raw, inc->lag, inc->func == SL_INC_MAX, &lv, &why);
    if (lr < 0)
        rc = sl_nomem(inc->ctx);
    else if (lr > 0)
        rc = lag_fail(inc, raw, why);
    if (rc)
        goto done;
    if (inc->initial) {
        struct sl_cursor cl;
        int c;
        sl_cursor_classify(&lv, &inc->tz, &cl);
        enum sl_cursor_cmpres r = sl_cursor_cmp(&cl, &inc->c_initial, &c);
        if (r != SL_CMP_OK) {
            char a[SL_CURSOR_SHOW_MAX + 8], i[SL_CURSOR_SHOW_MAX + 8];
            sl_cursor_show(raw->v, a, sizeof(a));
            sl_cursor_show(inc->initial, i, sizeof(i));
            rc = sl_fail_at(inc->ctx, SLUICE_ERR_INCREMENTAL, inc->resource, -1, inc->field,
                            "last_value '%s' (%s) cannot be compared with initial_value '%s' "
                            "(%s)%s",
                            a, sl_cursor_kind_name(raw), i,
                            sl_cursor_kind_name(&inc->c_initial), sl_cursor_tz_hint(r));
            goto done;
        }
        if (!beyond(inc->func, c)) {
            sl_json_clear(&lv);
            if (dup_value(inc->initial, out))
                rc = sl_nomem(inc->ctx);
            goto done;
        }
    }
    *out = sl_json_dup(&lv);
    if (!*out)
        rc = sl_nomem(inc->ctx);
done:
    sl_json_clear(&lv);
    return rc;
}

/* ============================================================================================
 * Config
 * ========================================================================================== */

static sluice_status cfg_fail(struct sl_ctx *ctx, const char *resource, const char *key,
                              const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static sluice_status cfg_fail(struct sl_ctx *ctx, const char *resource, const char *key,
                              const char *fmt, ...)
{
    char field[96], msg[768];
    snprintf(field, sizeof(field), "incremental.%s", key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return sl_fail_at(ctx, SLUICE_ERR_CONFIG, resource, -1, field, "%s", msg);
}

/* initial_value must not be beyond end_value (dlt: func([end, initial]) == end). */
static sluice_status check_range(struct sl_ctx *ctx, const char *resource,
                                 const struct sl_incremental_cfg *cfg,
                                 const struct sl_cursor_tz *tz,
                                 const struct sl_json *initial, const struct sl_json *end)
{
    char a[SL_CURSOR_SHOW_MAX + 8], b[SL_CURSOR_SHOW_MAX + 8];
    if (is_null(end))
        return SLUICE_OK;
    if (is_null(initial))
        return cfg_fail(ctx, resource, "end_value",
                        "end_value is set without initial_value: initial_value is required when "
                        "using end_value");
    sl_cursor_show(initial, a, sizeof(a));
    sl_cursor_show(end, b, sizeof(b));
    if (cfg->func == SL_INC_CUSTOM) {
        struct sl_json *r = NULL;
        sluice_status rc = call_custom(ctx, cfg, resource, -1, "incremental.end_value", end,
                                       initial, &r);
        if (rc)
            return rc;
        bool ok = val_eq(tz, r, end);
        sl_json_free(r);
        if (!ok)
            return cfg_fail(ctx, resource, "end_value",
                            "initial_value=%s is greater than end_value=%s as determined by the "
                            "custom last_value_func: f([end_value, initial_value]) must equal "
                            "end_value",
                            a, b);
        return SLUICE_OK;
    }
    struct sl_cursor ci, ce;
    sl_cursor_classify(initial, tz, &ci);
    sl_cursor_classify(end, tz, &ce);
    int c;
    enum sl_cursor_cmpres r = sl_cursor_cmp(&ci, &ce, &c);
    if (r != SL_CMP_OK)
        return cfg_fail(ctx, resource, "end_value",
                        "initial_value '%s' (%s) and end_value '%s' (%s) are not comparable: use "
                        "values of the same type and tz-awareness",
                        a, sl_cursor_kind_name(&ci), b, sl_cursor_kind_name(&ce));
    if (beyond(cfg->func, c)) {
        const char *adj = cfg->func == SL_INC_MAX ? "higher" : "lower";
        return cfg_fail(ctx, resource, "end_value",
                        "initial_value=%s is %s than end_value=%s: end_value must be %s than "
                        "initial_value",
                        a, adj, b, adj);
    }
    return SLUICE_OK;
}

static sluice_status parse_enum(struct sl_ctx *ctx, const char *resource, const char *key,
                                const struct sl_json *v, const char *const *names, size_t n,
                                int *out)
{
    for (size_t i = 0; i < n; i++) {
        if (v->type == SL_JSON_STRING && strcmp(v->s, names[i]) == 0) {
            *out = (int)i;
            return SLUICE_OK;
        }
    }
    char got[SL_CURSOR_SHOW_MAX + 8];
    sl_cursor_show(v, got, sizeof(got));
    return cfg_fail(ctx, resource, key, "%s is '%s': expected %s or %s%s%s", key, got, names[0],
                    names[1], n > 2 ? " or " : "", n > 2 ? names[2] : "");
}

static sluice_status parse_pk(struct sl_ctx *ctx, const char *resource, const struct sl_json *v,
                              struct sl_incremental_cfg *out)
{
    bool list = v->type == SL_JSON_ARRAY;
    size_t n = list ? v->len : 1;
    if (!list && v->type != SL_JSON_STRING)
        return cfg_fail(ctx, resource, "primary_key",
                        "primary_key must be a column name or a list of them");
    for (size_t i = 0; list && i < n; i++)
        if (v->u.items[i].type != SL_JSON_STRING)
            return cfg_fail(ctx, resource, "primary_key",
                            "primary_key must be a column name or a list of them");
    out->pk_set = true;
    out->pk_is_list = list;
    if (!n)
        return SLUICE_OK;
    out->primary_key = sl_calloc(n, sizeof(char *));
    if (!out->primary_key)
        return sl_nomem(ctx);
    for (size_t i = 0; i < n; i++) {
        const struct sl_json *e = list ? &v->u.items[i] : v;
        out->primary_key[i] = sl_strndup(e->s, e->len);
        if (!out->primary_key[i])
            return sl_nomem(ctx);
        out->n_pk = i + 1;
    }
    return SLUICE_OK;
}

static const char *const known_keys[] = {
    "cursor_path", "initial_value",           "end_value", "last_value_func", "lag",
    "primary_key", "on_cursor_value_missing", "row_order", "range_start",     "range_end",
    "assume_tz",   "max_unique_hashes",
};

static sluice_status parse_member(struct sl_ctx *ctx, const char *resource, const char *key,
                                  const struct sl_json *v, struct sl_incremental_cfg *out)
{
    static const char *const funcs[] = {"max", "min"};
    static const char *const missing[] = {"raise", "include", "exclude"};
    static const char *const orders[] = {"asc", "desc"};
    static const char *const starts[] = {"closed", "open"};
    static const char *const ends[] = {"open", "closed"};
    bool known = false;
    for (size_t i = 0; i < sizeof(known_keys) / sizeof(known_keys[0]) && !known; i++)
        known = strcmp(key, known_keys[i]) == 0;
    if (!known)
        return cfg_fail(ctx, resource, key, "unknown key '%s' in incremental", key);
    if (strcmp(key, "initial_value") == 0)
        return dup_value(v, &out->initial_value) ? sl_nomem(ctx) : SLUICE_OK;
    if (strcmp(key, "end_value") == 0)
        return dup_value(v, &out->end_value) ? sl_nomem(ctx) : SLUICE_OK;
    if (v->type == SL_JSON_NULL)
        return SLUICE_OK; /* every other key: null means "not set" */
    int e = 0;
    sluice_status rc = SLUICE_OK;
    if (strcmp(key, "cursor_path") == 0) {
        if (v->type != SL_JSON_STRING || !v->len || memchr(v->s, '\0', v->len))
            return cfg_fail(ctx, resource, key, "cursor_path must be a non-empty string");
        out->cursor_path = sl_strndup(v->s, v->len);
        rc = out->cursor_path ? SLUICE_OK : sl_nomem(ctx);
    } else if (strcmp(key, "last_value_func") == 0) {
        rc = parse_enum(ctx, resource, key, v, funcs, 2, &e);
        out->func = e ? SL_INC_MIN : SL_INC_MAX;
    } else if (strcmp(key, "on_cursor_value_missing") == 0) {
        rc = parse_enum(ctx, resource, key, v, missing, 3, &e);
        out->on_missing = (enum sl_inc_missing)e;
    } else if (strcmp(key, "row_order") == 0) {
        rc = parse_enum(ctx, resource, key, v, orders, 2, &e);
        out->row_order = e ? SL_INC_ORDER_DESC : SL_INC_ORDER_ASC;
    } else if (strcmp(key, "range_start") == 0) {
        rc = parse_enum(ctx, resource, key, v, starts, 2, &e);
        out->range_start_open = e == 1;
    } else if (strcmp(key, "range_end") == 0) {
        rc = parse_enum(ctx, resource, key, v, ends, 2, &e);
        out->range_end_closed = e == 1;
    } else if (strcmp(key, "lag") == 0) {
        if (v->type != SL_JSON_INT && v->type != SL_JSON_DOUBLE)
            return cfg_fail(ctx, resource, key,
                            "lag must be a number (seconds for datetimes, days for dates, units "
                            "for numbers)");
        out->has_lag = true;
        out->lag = sl_json_num(v);
    } else if (strcmp(key, "primary_key") == 0) {
        rc = parse_pk(ctx, resource, v, out);
    } else if (strcmp(key, "assume_tz") == 0) {
        struct sl_cursor_tz tz;
        if (v->type != SL_JSON_STRING || !sl_cursor_parse_tz(v->s, &tz))
            return cfg_fail(ctx, resource, key,
                            "assume_tz '%s' is not supported: use UTC or a fixed offset such as "
                            "+02:00",
                            v->type == SL_JSON_STRING ? v->s : "?");
        out->assume_tz = sl_strdup(v->s);
        rc = out->assume_tz ? SLUICE_OK : sl_nomem(ctx);
    } else {
        if (v->type != SL_JSON_INT || v->u.i < 1)
            return cfg_fail(ctx, resource, key, "max_unique_hashes must be a positive integer");
        out->max_unique_hashes = v->u.i;
    }
    return rc;
}

sluice_status sl_incremental_cfg_parse(struct sl_ctx *ctx, const char *resource,
                                       const struct sl_json *cfg, struct sl_incremental_cfg *out)
{
    memset(out, 0, sizeof(*out));
    out->max_unique_hashes = 10000;
    sluice_status rc = SLUICE_OK;
    struct sl_jsonpath *path = NULL;
    struct sl_cursor_tz tz;
    if (!cfg || cfg->type != SL_JSON_OBJECT) {
        rc = sl_fail_at(ctx, SLUICE_ERR_CONFIG, resource, -1, "incremental",
                        "incremental must be an object with at least cursor_path");
        goto fail;
    }
    for (uint32_t i = 0; i < cfg->len && !rc; i++) {
        const struct sl_json_member *m = &cfg->u.members[i];
        rc = parse_member(ctx, resource, m->key, &m->val, out);
    }
    if (rc)
        goto fail;
    if (!out->cursor_path) {
        rc = cfg_fail(ctx, resource, "cursor_path", "incremental needs a cursor_path");
        goto fail;
    }
    rc = sl_jsonpath_compile(ctx, out->cursor_path, &path);
    if (rc) {
        sl_fail_locate(ctx, resource, -1, "incremental.cursor_path");
        goto fail;
    }
    sl_cursor_parse_tz(out->assume_tz, &tz);
    rc = check_range(ctx, resource, out, &tz, out->initial_value, out->end_value);
    if (rc)
        goto fail;
    sl_jsonpath_free(&path);
    return SLUICE_OK;
fail:
    sl_jsonpath_free(&path);
    sl_incremental_cfg_cleanup(out);
    return rc;
}

void sl_incremental_cfg_cleanup(struct sl_incremental_cfg *cfg)
{
    if (!cfg)
        return;
    sl_free(cfg->cursor_path);
    sl_free(cfg->slot_key);
    sl_json_free(cfg->initial_value);
    sl_json_free(cfg->end_value);
    for (size_t i = 0; i < cfg->n_pk; i++)
        sl_free(cfg->primary_key[i]);
    sl_free(cfg->primary_key);
    sl_free(cfg->assume_tz);
    memset(cfg, 0, sizeof(*cfg));
}

/* ============================================================================================
 * Bind
 * ========================================================================================== */

/* The key of the state slot: incremental.<slot key>. */
static const char *slot_key(const struct sl_incremental *inc)
{
    return inc->cfg->slot_key ? inc->cfg->slot_key : inc->cfg->cursor_path;
}

static sluice_status state_fail(struct sl_incremental *inc, const char *what)
{
    return sl_fail_at(inc->ctx, SLUICE_ERR_STATE, inc->resource, -1, inc->field,
                      "incremental state of '%s' is invalid: %s", slot_key(inc), what);
}

/* The slot object in resource_state, or NULL. */
static struct sl_json *find_slot(struct sl_incremental *inc)
{
    struct sl_json *all = sl_json_get_mut(inc->resource_state, "incremental");
    if (!all || all->type != SL_JSON_OBJECT)
        return NULL;
    struct sl_json *slot = sl_json_get_mut(all, slot_key(inc));
    return slot && slot->type == SL_JSON_OBJECT ? slot : NULL;
}

static int obj_put(struct sl_json *obj, const char *key, const struct sl_json *v)
{
    struct sl_json tmp;
    sl_json_set_null(&tmp);
    if (v && sl_json_copy_into(&tmp, v)) {
        sl_json_clear(&tmp);
        return -1;
    }
    return sl_json_obj_set_take(obj, key, &tmp) ? 0 : -1;
}

/* Get or create the slot; read last_value and unique_hashes from it. */
static sluice_status open_slot(struct sl_incremental *inc, const struct sl_json **last)
{
    struct sl_json *all = sl_json_get_mut(inc->resource_state, "incremental");
    if (all && all->type != SL_JSON_OBJECT)
        return state_fail(inc, "'incremental' is not an object");
    if (!all) {
        all = sl_json_obj_setdefault(inc->resource_state, "incremental", SL_JSON_OBJECT);
        if (!all)
            return sl_nomem(inc->ctx);
    }
    struct sl_json *slot = sl_json_get_mut(all, slot_key(inc));
    if (slot && slot->type != SL_JSON_OBJECT)
        return state_fail(inc, "the slot is not an object");
    if (!slot || slot->len == 0) {
        if (!slot)
            slot = sl_json_obj_setdefault(all, slot_key(inc), SL_JSON_OBJECT);
        if (!slot)
            return sl_nomem(inc->ctx);
        struct sl_json empty;
        sl_json_set_array(&empty);
        if (obj_put(slot, "initial_value", inc->initial) ||
            obj_put(slot, "last_value", inc->initial) ||
            !sl_json_obj_set_take(slot, "unique_hashes", &empty) ||
            obj_put(slot, "start_value", inc->initial))
            return sl_nomem(inc->ctx);
    }
    *last = sl_json_get(slot, "last_value");
    if (!*last)
        return state_fail(inc, "last_value is missing");
    const struct sl_json *h = sl_json_get(slot, "unique_hashes");
    if (h && h->type != SL_JSON_ARRAY)
        return state_fail(inc, "unique_hashes is not a list");
    for (uint32_t i = 0; h && i < h->len; i++) {
        const struct sl_json *e = &h->u.items[i];
        if (e->type != SL_JSON_STRING || e->len == 0 || e->len >= HKEY ||
            memchr(e->s, '\0', e->len))
            return state_fail(inc, "unique_hashes holds a value that is not a boundary hash");
        if (hset_add(&inc->start_hashes, e->s))
            return sl_nomem(inc->ctx);
        if (e->len == LEGACY_HASH_LEN)
            inc->start_legacy = true;
    }
    return SLUICE_OK;
}

static sluice_status copy_key(struct sl_incremental *inc, char *const *cols, size_t n)
{
    inc->key = sl_calloc(n ? n : 1, sizeof(char *));
    if (!inc->key)
        return sl_nomem(inc->ctx);
    for (size_t i = 0; i < n; i++) {
        inc->key[i] = sl_strdup(cols[i]);
        if (!inc->key[i])
            return sl_nomem(inc->ctx);
        inc->nkey = i + 1;
    }
    return SLUICE_OK;
}

static void log_bind(struct sl_incremental *inc)
{
    char *iv = inc->initial ? sl_json_dumps(inc->initial, SL_JSON_W_SORTED) : NULL;
    char *sv = inc->start ? sl_json_dumps(inc->start, SL_JSON_W_SORTED) : NULL;
    char *ev = inc->end ? sl_json_dumps(inc->end, SL_JSON_W_SORTED) : NULL;
    sl_log(inc->ctx, SLUICE_LOG_INFO,
           "Bind incremental on %s with initial_value=%s, start_value=%s, end_value=%s",
           inc->resource, iv ? iv : "null", sv ? sv : "null", ev ? ev : "null");
    sl_free(iv);
    sl_free(sv);
    sl_free(ev);
}

sluice_status sl_incremental_bind(struct sl_ctx *ctx, const struct sl_incremental_cfg *cfg,
                                  const char *resource, char *const *resource_pk, size_t n_pk,
                                  bool resource_pk_is_list, struct sl_json *resource_state,
                                  const struct sl_json *start,
                                  const struct sl_json *end, struct sl_incremental **out)
{
    *out = NULL;
    sluice_status rc = SLUICE_OK;
    struct sl_incremental *inc = sl_calloc(1, sizeof(*inc));
    if (!inc)
        return sl_nomem(ctx);
    inc->ctx = ctx;
    inc->cfg = cfg;
    inc->func = cfg->func;
    sl_buf_init(&inc->hbuf, 0);
    sl_buf_init(&inc->pending, 0);
    if (!cfg->cursor_path || (cfg->func == SL_INC_CUSTOM && !cfg->custom_fn)) {
        rc = sl_fail_at(ctx, SLUICE_ERR_INVALID_ARG, resource, -1, "incremental",
                        "incremental without cursor_path or custom function");
        goto fail;
    }
    inc->resource = sl_strdup(resource ? resource : "");
    inc->field = cfg->cursor_path[0] == '$' ? sl_strdup(cfg->cursor_path)
                                            : sl_aprintf("$.%s", cfg->cursor_path);
    if (!inc->resource || !inc->field) {
        rc = sl_nomem(ctx);
        goto fail;
    }
    rc = sl_jsonpath_compile(ctx, cfg->cursor_path, &inc->path);
    if (rc) {
        sl_fail_locate(ctx, resource, -1, "incremental.cursor_path");
        goto fail;
    }
    inc->simple = sl_jsonpath_simple_field(inc->path);
    if (!sl_cursor_parse_tz(cfg->assume_tz, &inc->tz)) {
        rc = cfg_fail(ctx, resource, "assume_tz",
                      "assume_tz '%s' is not supported: use UTC or a fixed offset such as "
                      "+02:00",
                      cfg->assume_tz);
        goto fail;
    }

    /* effective range: --start/--end (or a scheduler) override the configured values */
    const struct sl_json *iv = !is_null(start) ? start : cfg->initial_value;
    const struct sl_json *ev = !is_null(end) ? end : cfg->end_value;
    rc = check_range(ctx, resource, cfg, &inc->tz, iv, ev);
    if (rc)
        goto fail;
    if (dup_value(iv, &inc->initial) || dup_value(ev, &inc->end)) {
        rc = sl_nomem(ctx);
        goto fail;
    }
    sl_cursor_classify(inc->initial, &inc->tz, &inc->c_initial);
    sl_cursor_classify(inc->end, &inc->tz, &inc->c_end);
    if (resource_state && resource_state->type != SL_JSON_OBJECT) {
        rc = sl_fail_at(ctx, SLUICE_ERR_STATE, resource, -1, NULL,
                        "the state of resource '%s' is not an object", inc->resource);
        goto fail;
    }
    inc->stateless = inc->end != NULL || resource_state == NULL;
    inc->resource_state = inc->stateless ? NULL : resource_state;

    /* lag: min/max only, never with an end value; lag 0 is no lag */
    bool want_lag = cfg->has_lag && cfg->lag != 0;
    if (want_lag && cfg->func == SL_INC_CUSTOM)
        sl_log(ctx, SLUICE_LOG_WARN,
               "Lag on %s is only supported for max or min last_value_func: lag ignored",
               inc->resource);
    else if (want_lag && inc->end)
        sl_log(ctx, SLUICE_LOG_INFO, "Lag on %s is deactivated if end_value is set in incremental.",
               inc->resource);
    inc->lag_on = want_lag && cfg->func != SL_INC_CUSTOM && !inc->end;
    inc->lag = cfg->lag;

    /* de-duplication key: the incremental's own, else the resource's, else the whole row */
    if (cfg->pk_set) {
        rc = copy_key(inc, cfg->primary_key, cfg->n_pk);
        inc->key_list = cfg->pk_is_list;
    } else if (n_pk) {
        rc = copy_key(inc, resource_pk, n_pk);
        inc->key_list = resource_pk_is_list; /* dlt hashes primary_key: [id] as [value] */
    }
    if (rc)
        goto fail;
    bool key_empty = inc->key && inc->nkey == 0;
    inc->dedup = !(cfg->range_start_open || inc->end || inc->lag_on || key_empty);

    /* the slot: a throw-away one for stateless runs */
    const struct sl_json *stored_last = inc->initial;
    if (!inc->stateless) {
        rc = open_slot(inc, &stored_last);
        if (rc)
            goto fail;
    }
    if (dup_value(stored_last, &inc->raw_start)) {
        rc = sl_nomem(ctx);
        goto fail;
    }
    sl_cursor_classify(inc->raw_start, &inc->tz, &inc->c_raw);
    struct sl_json *sv = NULL;
    if (inc->lag_on && inc->raw_start)
        rc = apply_lag(inc, &inc->c_raw, &sv);
    else if (dup_value(inc->raw_start, &sv))
        rc = sl_nomem(ctx);
    if (rc)
        goto fail;
    set_value(inc, &inc->start, &inc->c_start, sv);
    struct sl_json *lv = NULL;
    if (dup_value(inc->start, &lv)) {
        rc = sl_nomem(ctx);
        goto fail;
    }
    set_value(inc, &inc->last, &inc->c_last, lv);
    for (size_t i = 0; i < inc->start_hashes.n; i++)
        if (hset_add(&inc->hashes, inc->start_hashes.keys[i])) {
            rc = sl_nomem(ctx);
            goto fail;
        }
    inc->legacy = inc->start_legacy;
    log_bind(inc);
    *out = inc;
    return SLUICE_OK;
fail:
    sl_incremental_free(&inc);
    return rc;
}

/* ============================================================================================
 * Filter
 * ========================================================================================== */

/* The bytes dlt hashes for a row: its dedup key value (a list for a compound key) or the
 * whole row, as orjson writes them, into b. */
static sluice_status row_text(struct sl_incremental *inc, const struct sl_json *item,
                              int64_t item_no, struct sl_buf *b)
{
    sl_buf_reset(b);
    int fail = 0;
    if (!inc->key) {
        fail = sl_json_write_orjson(b, item);
    } else {
        bool list = inc->nkey > 1 || inc->key_list;
        if (list)
            fail = sl_buf_putc(b, '[');
        for (size_t i = 0; i < inc->nkey && !fail; i++) {
            const struct sl_json *v = item->type == SL_JSON_OBJECT ? sl_json_get(item, inc->key[i])
                                                                   : NULL;
            if (!v) {
                char field[160];
                snprintf(field, sizeof(field), "$.%s", inc->key[i]);
                return sl_fail_at(inc->ctx, SLUICE_ERR_INCREMENTAL, inc->resource, item_no, field,
                                  "primary key column '%s' was not found in the item: every item "
                                  "must contain it (boundary de-duplication), use the field "
                                  "names of the source data",
                                  inc->key[i]);
            }
            if (i)
                fail = sl_buf_putc(b, ',');
            if (!fail)
                fail = sl_json_write_orjson(b, v);
        }
        if (list && !fail)
            fail = sl_buf_putc(b, ']');
    }
    return fail ? sl_nomem(inc->ctx) : SLUICE_OK;
}

/* out: 20 characters (legacy) or 12, and NUL. */
static sluice_status text_hash(struct sl_incremental *inc, const struct sl_buf *b, bool legacy,
                               char out[HKEY])
{
    if (sl_digest_shake128_b64(b->data ? b->data : "", b->len, 15, out))
        return sl_fail(inc->ctx, SLUICE_ERR_INTERNAL, "SHAKE-128 digest failed");
    if (!legacy)
        out[NEW_HASH_LEN] = '\0';
    return SLUICE_OK;
}

static sluice_status row_hash(struct sl_incremental *inc, const struct sl_json *item,
                              int64_t item_no, bool legacy, char out[HKEY])
{
    sluice_status rc = row_text(inc, item, item_no, &inc->hbuf);
    return rc ? rc : text_hash(inc, &inc->hbuf, legacy, out);
}

/* Insert a hash into the set commit writes, enforcing the cap. */
static sluice_status insert_hash(struct sl_incremental *inc, const char *h, int64_t item_no)
{
    if (hset_add(&inc->hashes, h))
        return sl_nomem(inc->ctx);
    if ((int64_t)inc->hashes.n > inc->cfg->max_unique_hashes) {
        char v[SL_CURSOR_SHOW_MAX + 8];
        sl_cursor_show(inc->last, v, sizeof(v));
        return sl_fail_at(inc->ctx, SLUICE_ERR_INCREMENTAL, inc->resource, item_no, inc->field,
                          "more than %lld items share the cursor value %s: use a finer cursor "
                          "(e.g. a timestamp with sub-second precision), or merge with a primary "
                          "key and `primary_key: []` on the incremental to disable boundary "
                          "de-duplication",
                          (long long)inc->cfg->max_unique_hashes, v);
    }
    if (!inc->warned && inc->start_hashes.n <= HASH_WARN_THRESHOLD &&
        inc->hashes.n > HASH_WARN_THRESHOLD) {
        inc->warned = true;
        sl_log(inc->ctx, SLUICE_LOG_WARN,
               "Large number of records (%zu) sharing the same value of cursor field '%s' on "
               "resource '%s': consider a cursor with a higher resolution",
               inc->hashes.n, inc->cfg->cursor_path, inc->resource);
    }
    return SLUICE_OK;
}

/* The row that last moved the maximum is kept as text and hashed only when needed: in an
 * ascending stream every row moves it, and all but the last are forgotten unhashed. */
static sluice_status flush_pending(struct sl_incremental *inc, int64_t item_no)
{
    if (!inc->pending_set)
        return SLUICE_OK;
    inc->pending_set = false;
    char h[HKEY];
    sluice_status rc = text_hash(inc, &inc->pending, false, h);
    return rc ? rc : insert_hash(inc, h, item_no);
}

/* A row equal to the maximum: its hash joins the set. */
static sluice_status add_boundary(struct sl_incremental *inc, const struct sl_json *item,
                                  int64_t item_no)
{
    char h[HKEY];
    sluice_status rc = flush_pending(inc, item_no);
    if (!rc)
        rc = row_hash(inc, item, item_no, inc->legacy, h);
    return rc ? rc : insert_hash(inc, h, item_no);
}

/* The maximum moved to this row's value: the set restarts with this row. */
static sluice_status advance(struct sl_incremental *inc, const struct sl_json *item,
                             int64_t item_no, struct sl_json *newlast)
{
    set_value(inc, &inc->last, &inc->c_last, newlast);
    if (!inc->dedup)
        return SLUICE_OK;
    hset_clear(&inc->hashes);
    inc->legacy = false;
    inc->pending_set = false;
    sluice_status rc = row_text(inc, item, item_no, &inc->pending);
    if (!rc)
        inc->pending_set = true;
    return rc;
}

static sluice_status filter_minmax(struct sl_incremental *inc, const struct sl_json *item,
                                   int64_t item_no, const struct sl_json *v, int *keep)
{
    struct sl_cursor cv;
    sl_cursor_classify(v, &inc->tz, &cv);
    int c = 0;
    sluice_status rc;
    if (inc->end) {
        rc = row_cmp(inc, item_no, &cv, "end_value", &inc->c_end, &c);
        if (rc)
            return rc;
        if (beyond(inc->func, c) || (c == 0 && !inc->cfg->range_end_closed)) {
            inc->end_oor = true;
            return SLUICE_OK;
        }
    }
    bool advancing = true;
    if (inc->last) {
        rc = row_cmp(inc, item_no, &cv, "last_value", &inc->c_last, &c);
        if (rc)
            return rc;
        advancing = beyond(inc->func, c);
    }
    if (advancing) {
        struct sl_json *nl = sl_json_dup(v);
        if (!nl)
            return sl_nomem(inc->ctx);
        *keep = 1;
        return advance(inc, item, item_no, nl);
    }
    bool equal_last = c == 0;
    if (inc->start) {
        int cs;
        rc = row_cmp(inc, item_no, &cv, "start_value", &inc->c_start, &cs);
        if (rc)
            return rc;
        if (cs == 0 && inc->cfg->range_start_open) {
            inc->start_oor = true;
            return SLUICE_OK;
        }
        if (!beyond(inc->func, cs)) {
            if (cs != 0) {
                inc->start_oor = true; /* below the start boundary */
                return SLUICE_OK;
            }
            if (inc->dedup) {
                char h[HKEY];
                rc = row_hash(inc, item, item_no, inc->start_legacy, h);
                if (rc)
                    return rc;
                if (hset_has(&inc->start_hashes, h)) {
                    inc->start_oor = true; /* loaded by the previous run */
                    return SLUICE_OK;
                }
            }
        }
    }
    if (equal_last && inc->dedup) {
        rc = add_boundary(inc, item, item_no);
        if (rc)
            return rc;
    }
    *keep = 1;
    return SLUICE_OK;
}

static sluice_status filter_custom(struct sl_incremental *inc, const struct sl_json *item,
                                   int64_t item_no, const struct sl_json *v, int *keep)
{
    const struct sl_incremental_cfg *cfg = inc->cfg;
    struct sl_json *r = NULL, *p = NULL, *n2 = NULL;
    sluice_status rc = SLUICE_OK;
    const char *res = inc->resource, *fld = inc->field;
    if (inc->end) {
        rc = call_custom(inc->ctx, cfg, res, item_no, fld, v, inc->end, &r);
        if (rc)
            goto done;
        bool out_of_range = !val_eq(&inc->tz, r, inc->end);
        sl_json_free(r);
        r = NULL;
        if (!out_of_range && !cfg->range_end_closed) {
            rc = call_custom(inc->ctx, cfg, res, item_no, fld, v, NULL, &r);
            if (rc)
                goto done;
            out_of_range = val_eq(&inc->tz, r, inc->end);
        }
        if (out_of_range) {
            inc->end_oor = true;
            goto done;
        }
    }
    rc = call_custom(inc->ctx, cfg, res, item_no, fld, v, inc->last, &r);
    if (rc)
        goto done;
    if (!inc->last || !val_eq(&inc->tz, inc->last, r)) {
        *keep = 1;
        struct sl_json *nl = r;
        r = NULL;
        if (is_null(nl)) {
            sl_json_free(nl);
            nl = NULL;
        }
        rc = advance(inc, item, item_no, nl);
        goto done;
    }
    rc = call_custom(inc->ctx, cfg, res, item_no, fld, v, NULL, &p);
    if (rc)
        goto done;
    if (cfg->range_start_open && inc->start && val_eq(&inc->tz, p, inc->start)) {
        inc->start_oor = true;
        goto done;
    }
    rc = call_custom(inc->ctx, cfg, res, item_no, fld, v, inc->start, &n2);
    if (rc)
        goto done;
    if (inc->start && val_eq(&inc->tz, n2, inc->start)) {
        if (!val_eq(&inc->tz, p, inc->start)) {
            inc->start_oor = true;
            goto done;
        }
        if (inc->dedup) {
            char h[HKEY];
            rc = row_hash(inc, item, item_no, inc->start_legacy, h);
            if (rc)
                goto done;
            if (hset_has(&inc->start_hashes, h)) {
                inc->start_oor = true;
                goto done;
            }
        }
    }
    if (inc->dedup && val_eq(&inc->tz, p, inc->last)) {
        rc = add_boundary(inc, item, item_no);
        if (rc)
            goto done;
    }
    *keep = 1;
done:
    sl_json_free(r);
    sl_json_free(p);
    sl_json_free(n2);
    return rc;
}

sluice_status sl_incremental_filter(struct sl_incremental *inc, const struct sl_json *item,
                                    int64_t item_no, int *keep)
{
    *keep = 0;
    inc->start_oor = false;
    inc->end_oor = false;
    inc->touched = true;
    const struct sl_json *v =
        inc->simple ? (item->type == SL_JSON_OBJECT ? sl_json_get(item, inc->simple) : NULL)
                    : sl_jsonpath_first(inc->path, item);
    if (is_null(v)) {
        if (inc->cfg->on_missing == SL_INC_INCLUDE) {
            *keep = 1;
            inc->kept_any = true;
            return SLUICE_OK;
        }
        if (inc->cfg->on_missing == SL_INC_EXCLUDE)
            return SLUICE_OK;
        if (!v)
            return sl_fail_at(inc->ctx, SLUICE_ERR_INCREMENTAL, inc->resource, item_no,
                              inc->field,
                              "cursor path '%s' was not found in the item: every item must "
                              "contain it (use the field names of the source data), or set "
                              "on_cursor_value_missing to include or exclude",
                              inc->cfg->cursor_path);
        return sl_fail_at(inc->ctx, SLUICE_ERR_INCREMENTAL, inc->resource, item_no, inc->field,
                          "cursor path '%s' is null in the item: every item must have a value, "
                          "or set on_cursor_value_missing to include or exclude",
                          inc->cfg->cursor_path);
    }
    sluice_status rc = inc->func == SL_INC_CUSTOM ? filter_custom(inc, item, item_no, v, keep)
                                                  : filter_minmax(inc, item, item_no, v, keep);
    if (rc) {
        *keep = 0;
        return rc;
    }
    /* lag: the stored last_value never moves backwards (forward-only) */
    if (inc->lag_on && inc->raw_start && inc->last) {
        int c;
        if (sl_cursor_cmp(&inc->c_raw, &inc->c_last, &c) == SL_CMP_OK && beyond(inc->func, c)) {
            struct sl_json *nl = sl_json_dup(inc->raw_start);
            if (!nl)
                return sl_nomem(inc->ctx);
            set_value(inc, &inc->last, &inc->c_last, nl);
        }
    }
    if (*keep)
        inc->kept_any = true;
    return SLUICE_OK;
}

bool sl_incremental_can_close(const struct sl_incremental *inc)
{
    return (inc->cfg->row_order == SL_INC_ORDER_ASC && inc->end_oor) ||
           (inc->cfg->row_order == SL_INC_ORDER_DESC && inc->start_oor);
}

bool sl_incremental_start_out_of_range(const struct sl_incremental *inc)
{
    return inc->start_oor;
}

bool sl_incremental_end_out_of_range(const struct sl_incremental *inc)
{
    return inc->end_oor;
}

const struct sl_json *sl_incremental_value(const struct sl_incremental *inc, const char *which)
{
    if (strcmp(which, "initial_value") == 0)
        return inc->initial;
    if (strcmp(which, "start_value") == 0)
        return inc->start;
    if (strcmp(which, "last_value") == 0)
        return inc->last;
    if (strcmp(which, "end_value") == 0)
        return inc->end;
    return NULL;
}

/* ============================================================================================
 * Commit and free
 * ========================================================================================== */

sluice_status sl_incremental_commit(struct sl_incremental *inc)
{
    if (inc->stateless || !inc->touched || inc->committed)
        return SLUICE_OK;
    struct sl_json *slot = find_slot(inc);
    if (!slot)
        return sl_fail_at(inc->ctx, SLUICE_ERR_INTERNAL, inc->resource, -1, inc->field,
                          "the incremental state slot disappeared before commit");
    sluice_status rc = flush_pending(inc, -1);
    if (rc)
        return rc;
    if (obj_put(slot, "last_value", inc->last))
        return sl_nomem(inc->ctx);
    if (inc->kept_any && obj_put(slot, "start_value", inc->raw_start))
        return sl_nomem(inc->ctx);
    const struct sl_json *cur = sl_json_get(slot, "unique_hashes");
    bool rewrite;
    if (inc->dedup)
        rewrite = !cur || !hset_same(&inc->hashes, &inc->start_hashes);
    else
        rewrite = !cur || cur->type != SL_JSON_ARRAY || cur->len != 0;
    if (!rewrite) {
        inc->committed = true;
        return SLUICE_OK;
    }
    char(*sorted)[HKEY] = NULL;
    struct sl_json arr;
    sl_json_set_array(&arr);
    size_t n = inc->dedup ? inc->hashes.n : 0;
    if (n) {
        sorted = sl_malloc(n * HKEY);
        if (!sorted) {
            rc = sl_nomem(inc->ctx);
            goto done;
        }
        memcpy(sorted, inc->hashes.keys, n * HKEY);
        qsort(sorted, n, HKEY, cmp_key);
    }
    for (size_t i = 0; i < n; i++) {
        struct sl_json s;
        if (sl_json_set_str(&s, sorted[i], strlen(sorted[i]))) {
            rc = sl_nomem(inc->ctx);
            goto done;
        }
        if (!sl_json_arr_push_take(&arr, &s)) {
            rc = sl_nomem(inc->ctx);
            goto done;
        }
    }
    if (!sl_json_obj_set_take(slot, "unique_hashes", &arr)) {
        rc = sl_nomem(inc->ctx);
        goto done;
    }
    inc->committed = true;
done:
    sl_json_clear(&arr);
    sl_free(sorted);
    return rc;
}

void sl_incremental_free(struct sl_incremental **pinc)
{
    if (!pinc || !*pinc)
        return;
    struct sl_incremental *inc = *pinc;
    sl_free(inc->resource);
    sl_free(inc->field);
    sl_jsonpath_free(&inc->path);
    for (size_t i = 0; i < inc->nkey; i++)
        sl_free(inc->key[i]);
    sl_free(inc->key);
    sl_json_free(inc->initial);
    sl_json_free(inc->end);
    sl_json_free(inc->raw_start);
    sl_json_free(inc->start);
    sl_json_free(inc->last);
    hset_cleanup(&inc->start_hashes);
    hset_cleanup(&inc->hashes);
    sl_buf_cleanup(&inc->hbuf);
    sl_buf_cleanup(&inc->pending);
    sl_free(inc);
    *pinc = NULL;
}
