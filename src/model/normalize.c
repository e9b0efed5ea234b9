/*
 * normalize.c — nested JSON items → relational rows, as dlt's relational normalizer and its
 * JSONL items normalizer do it (see normalize.h and spec section 3).
 *
 * One item becomes one root row and, depth first, the rows of its child tables. A row is built
 * by flattening its object the way dlt does: with an explicit LIFO stack, so the members of an
 * object are visited first and its nested objects afterwards, last pushed first; that is why
 * dlt puts `b__y` before `a__x` for {"a":{"x":1},"b":{"y":1}}, and we must too, since column
 * order is creation order. Lists found while flattening are normalized after the row has been
 * emitted, in the order they were met. Each value is typed as it is placed: a new column takes
 * the inferred type, a known column coerces the value with dlt's coercion table, and a value
 * that cannot be coerced goes to the variant column <col>__v_<type of the value>.
 *
 * The hot path is the name work, so none of it is done per value: every key is looked up in a
 * per-table trie of key nodes (raw key bytes → node), and a node remembers its normalized
 * path, its column name and, once it exists, its column index (and its variant columns and
 * child table). snake_case runs once per distinct key path and table. Values of the current
 * item (strings, ids, row arrays) live in an arena that is reset when the next item starts, so
 * a steady stream allocates nothing once the caches are warm.
 *
 * Invariants: the normalizer caches sl_table pointers and column indices, so while it lives
 * the schema it was given must only grow (no sl_schema_remove, no sl_schema_free); a node's
 * cached index always refers to its own table. Names are computed once per node with the
 * current max identifier length; changing the length drops every cache.
 *
 * Typing and coercion of single values (dlt's type inference, its coercion table, Python's
 * spelling of the results) live in coerce.c; nested row ids are SHAKE-128 digests (digest.c).
 * Where dlt's answer fails later at load time: a nested row that brings its own _dlt_id keeps
 * it but still gets its parent id and list index (dlt drops both, and then its NOT NULL load
 * fails).
 */
#include "model/normalize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/digest.h"
#include "model/coerce.h"
#include "model/naming.h"

#define DEFAULT_MAX_NESTING 1000
#define ID_BYTES 10          /* dlt's DLT_ID_LENGTH_BYTES: ids are 14 base64 characters */
#define ID_BATCH 8           /* nested row ids computed at a time (child_ids) */
#define MAX_ROW_DEPTH 512    /* nested rows deeper than this are a DATA_SCHEMA error */
#define MAX_KEYS 200000      /* distinct key paths one normalizer remembers (null-only keys
                                make no columns, so the column cap does not bound them) */
#define MAX_TEMPLATE_FIELD 256
#define ARENA_CHUNK (64 * 1024)

/* ============================================================================================
 * Key nodes, table contexts, root table names
 * ========================================================================================== */

struct knode;
struct tctx;

struct kmap {
    struct knode **slots; /* open addressing, NULL = empty */
    size_t size;          /* power of two, or 0 */
    size_t count;
};

/* A key met in the rows of one table, at one position in their nested objects. */
struct knode {
    char *raw;             /* the key as in the data (NULs replaced by 0x01 for naming) */
    size_t raw_len;
    uint64_t hash;
    struct knode *parent;  /* enclosing object's key in the same row, or NULL */
    char *path;            /* normalized fragments joined with __ (not shortened) */
    char *col_name;        /* column name: path shortened to the identifier limit */
    long col;              /* column index in the table, -1 until it exists */
    size_t absent_at;      /* table's ncols + 1 when the column was last seen absent */
    long variant[SL_DT_WEI + 1]; /* variant column per value type, -1 unknown */
    struct kmap children;  /* keys of the object found under this key */
    struct tctx *list;     /* child table of the list found under this key */
};

/* Column hint of a root table (from the resource's columns, primary_key and merge_key). */
struct hint {
    char *name;            /* normalized column name */
    char *field;           /* source field name (for errors) */
    enum sl_dtype type;    /* SL_DT_NONE when not given */
    int nullable;          /* -1 not given, else 0/1 */
    uint32_t bits;
    uint32_t clear;        /* hint bits the column loses (an scd2 row hash is not unique) */
    const char *what;      /* "primary key", "merge key", "non-nullable column", or NULL */
    long col;              /* cached column index, -1 unknown */
};

/* What the normalizer knows of one table. */
struct tctx {
    struct sl_table *t;
    size_t name_len;       /* strlen(t->name), for nested row ids */
    struct tctx *parent;
    char *frag;            /* the table name's normalized fragments joined (not shortened) */
    struct kmap keys;      /* keys of this table's rows */
    struct knode *k_id, *k_load_id, *k_parent_id, *k_list_idx, *k_root_id, *k_value;
    /* root tables only */
    bool hints_applied;    /* hints of the resource config in sig_* are applied */
    char *sig_resource;    /* that config, compared by content: callers rebuild the struct */
    const struct sl_json *sig_columns;
    enum sl_write_disposition sig_wd;
    char **sig_keys;       /* primary key names, then merge key names */
    size_t sig_npk, sig_nmk;
    enum sl_merge_strategy sig_strategy;
    char *sig_merge[5];    /* valid_from, valid_to, row_version, active_ts, boundary_ts */
    struct hint *hints;
    size_t nhints;
    bool chain_root_key;   /* a table of this tree already has _dlt_root_id */
    enum { ID_RANDOM, ID_KEY_HASH, ID_ROW_HASH } id_kind; /* how root rows get their _dlt_id */
};

/* A root table name as given (template filled) and normalized. */
struct root {
    char *raw;
    size_t raw_len;
    uint64_t hash;
    char *name;
    struct tctx *tc;       /* NULL until the first row */
};

struct frame {             /* an object waiting to be flattened */
    const struct sl_json *obj;
    int64_t lvl;
    struct knode *node;    /* its key, NULL for the row itself */
};

struct pend {              /* a list waiting to be normalized after its row */
    struct knode *k;
    const struct sl_json *arr;
    bool synthetic;        /* the "list" key of a list-in-list wrapper row */
};

struct loc {               /* where the current row is, for error paths */
    const struct knode *k; /* the list's key, NULL for a list directly in a list */
    int64_t idx;
};

struct row {
    struct tctx *tc;
    struct sl_value *vals; /* arena */
    size_t cap;
};

struct sl_normalizer {
    struct sl_ctx *ctx;
    struct sl_schema *schema;
    size_t max_columns;          /* the destination's column limit per table, 0 = none */
    const char *reserved_prefix; /* table names the destination keeps for itself, or NULL */
    const char *const *reserved_columns; /* column names it keeps (NULL-ended), or NULL */
    char *load_id;
    size_t load_id_len;
    struct sl_rng *rng;
    struct sl_row_ids ids; /* root _dlt_id values (digest.h says why they increase) */
    size_t max_len;
    struct sl_arena arena;
    /* caches */
    struct root **roots;   /* open addressing by raw name */
    size_t roots_size, roots_count;
    struct tctx **all;     /* every table context, for freeing */
    size_t nall, capall;
    size_t nkeys;          /* key nodes alive (capped by MAX_KEYS) */
    struct root *last_root; /* static-name fast path */
    /* work vectors, reused across items */
    struct frame *stack;
    size_t nstack, capstack;
    struct pend *pend;
    size_t npend, cappend;
    struct loc *loc;
    size_t nloc, caploc;
    struct sl_buf tmp;     /* ids, templates */
    char tpl_path[MAX_TEMPLATE_FIELD + 2]; /* "$.field" of the last template field filled */
    struct sl_buf jbuf;    /* JSON and number text */
    struct sl_buf hbuf;    /* the bytes of a root row hash */
    /* the current item */
    const struct sl_norm_resource *res;
    int64_t item_no;
    sl_row_fn emit;
    void *ud;
};

static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* Grow a vector of `elsz`-byte elements so it holds at least need; 0 or -1. */
static int vec_reserve(void **data, size_t *cap, size_t need, size_t elsz)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    void *p = sl_realloc(*data, ncap * elsz);
    if (!p)
        return -1;
    *data = p;
    *cap = ncap;
    return 0;
}

static char *shorten_path(const struct sl_normalizer *n, const char *path)
{
    if (!n->max_len)
        return sl_strdup(path);
    return sl_naming_shorten_fragments(&path, 1, n->max_len);
}

static void kmap_free(struct kmap *m)
{
    for (size_t i = 0; i < m->size; i++) {
        struct knode *k = m->slots[i];
        if (!k)
            continue;
        kmap_free(&k->children);
        sl_free(k->raw);
        sl_free(k->path);
        sl_free(k->col_name);
        sl_free(k);
    }
    sl_free(m->slots);
    m->slots = NULL;
    m->size = m->count = 0;
}

static int kmap_grow(struct kmap *m)
{
    size_t size = m->size ? m->size * 2 : 8;
    struct knode **slots = sl_calloc(size, sizeof(*slots));
    if (!slots)
        return -1;
    for (size_t i = 0; i < m->size; i++) {
        struct knode *k = m->slots[i];
        if (!k)
            continue;
        size_t s = (size_t)k->hash & (size - 1);
        while (slots[s])
            s = (s + 1) & (size - 1);
        slots[s] = k;
    }
    sl_free(m->slots);
    m->slots = slots;
    m->size = size;
    return 0;
}

/* The node of key (key, len) in map m (under parent), created on first sight. NULL when out of
 * memory. */
static struct knode *kmap_get(struct sl_normalizer *n, struct kmap *m, struct knode *parent,
                              const char *key, size_t len)
{
    uint64_t h = hash_bytes(key, len);
    if (m->size) {
        size_t mask = m->size - 1;
        for (size_t s = (size_t)h & mask; m->slots[s]; s = (s + 1) & mask) {
            struct knode *k = m->slots[s];
            if (k->hash == h && k->raw_len == len && memcmp(k->raw, key, len) == 0)
                return k;
        }
    }
    if (n->nkeys >= MAX_KEYS) {
        sl_fail(n->ctx, SLUICE_ERR_DATA_SCHEMA,
                "more than %d distinct keys: is a map with data-dependent keys being loaded?",
                MAX_KEYS);
        return NULL;
    }
    if ((m->count + 1) * 2 > m->size && kmap_grow(m))
        return NULL;
    struct knode *k = sl_calloc(1, sizeof(*k));
    if (!k)
        return NULL;
    k->raw = sl_strndup(key, len);
    if (!k->raw)
        goto fail;
    for (size_t i = 0; i < len; i++)
        if (k->raw[i] == '\0')
            k->raw[i] = '\x01'; /* a non-word character, as NUL is for snake_case */
    k->raw_len = len;
    k->hash = h;
    k->parent = parent;
    k->col = -1;
    for (size_t i = 0; i <= SL_DT_WEI; i++)
        k->variant[i] = -1;
    /* dlt: normalize_path(key), "_empty" for blank keys (the naming module does both) */
    char *norm = sl_naming_normalize_path(k->raw, n->max_len);
    if (!norm)
        goto fail;
    if (parent) {
        k->path = sl_naming_make_path(parent->path, norm);
        sl_free(norm);
    } else {
        k->path = norm;
    }
    if (!k->path)
        goto fail;
    k->col_name = parent ? shorten_path(n, k->path) : sl_strdup(k->path);
    if (!k->col_name)
        goto fail;
    size_t mask = m->size - 1;
    size_t s = (size_t)h & mask;
    while (m->slots[s])
        s = (s + 1) & mask;
    m->slots[s] = k;
    m->count++;
    n->nkeys++;
    return k;
fail:
    sl_free(k->raw);
    sl_free(k->path);
    sl_free(k);
    return NULL;
}

/* Column index of k in t, or -1; remembers absence until the table gains columns. */
static long knode_col(const struct sl_table *t, struct knode *k)
{
    if (k->col >= 0)
        return k->col;
    if (k->absent_at == t->ncols + 1)
        return -1;
    long c = sl_table_col(t, k->col_name);
    if (c >= 0)
        k->col = c;
    else
        k->absent_at = t->ncols + 1;
    return c;
}

static void hints_free(struct tctx *tc)
{
    for (size_t i = 0; i < tc->nhints; i++) {
        sl_free(tc->hints[i].name);
        sl_free(tc->hints[i].field);
    }
    sl_free(tc->hints);
    tc->hints = NULL;
    tc->nhints = 0;
}

static void sig_free(struct tctx *tc)
{
    for (size_t i = 0; i < tc->sig_npk + tc->sig_nmk; i++)
        sl_free(tc->sig_keys[i]);
    sl_free(tc->sig_keys);
    sl_free(tc->sig_resource);
    for (size_t i = 0; i < 5; i++) {
        sl_free(tc->sig_merge[i]);
        tc->sig_merge[i] = NULL;
    }
    tc->sig_keys = NULL;
    tc->sig_resource = NULL;
    tc->sig_npk = tc->sig_nmk = 0;
    tc->hints_applied = false;
}

static void tctx_free(struct tctx *tc)
{
    kmap_free(&tc->keys);
    hints_free(tc);
    sig_free(tc);
    sl_free(tc->frag);
    sl_free(tc);
}

/* A context for table t; frag is copied. NULL when out of memory. */
static struct tctx *tctx_new(struct sl_normalizer *n, struct sl_table *t, struct tctx *parent,
                             const char *frag)
{
    if (vec_reserve((void **)&n->all, &n->capall, n->nall + 1, sizeof(*n->all)))
        return NULL;
    struct tctx *tc = sl_calloc(1, sizeof(*tc));
    if (!tc)
        return NULL;
    tc->t = t;
    tc->name_len = strlen(t->name);
    tc->parent = parent;
    tc->frag = sl_strdup(frag);
    if (!tc->frag)
        goto fail;
    static const char *const sys[] = { "_dlt_id",       "_dlt_load_id", "_dlt_parent_id",
                                       "_dlt_list_idx", "_dlt_root_id", "value" };
    struct knode **slots[] = { &tc->k_id,       &tc->k_load_id, &tc->k_parent_id,
                               &tc->k_list_idx, &tc->k_root_id, &tc->k_value };
    for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++) {
        *slots[i] = kmap_get(n, &tc->keys, NULL, sys[i], strlen(sys[i]));
        if (!*slots[i])
            goto fail;
    }
    n->all[n->nall++] = tc;
    return tc;
fail:
    tctx_free(tc);
    return NULL;
}

static void caches_free(struct sl_normalizer *n)
{
    for (size_t i = 0; i < n->nall; i++)
        tctx_free(n->all[i]);
    n->nall = 0;
    n->nkeys = 0;
    for (size_t i = 0; i < n->roots_size; i++) {
        struct root *r = n->roots[i];
        if (!r)
            continue;
        sl_free(r->raw);
        sl_free(r->name);
        sl_free(r);
    }
    sl_free(n->roots);
    n->roots = NULL;
    n->roots_size = n->roots_count = 0;
    n->last_root = NULL;
}

/* ============================================================================================
 * Life cycle
 * ========================================================================================== */

sluice_status sl_normalizer_new(struct sl_ctx *ctx, struct sl_schema *schema,
                                const char *load_id, struct sl_rng *rng,
                                struct sl_normalizer **out)
{
    *out = NULL;
    if (!schema || !load_id || !rng)
        return sl_fail(ctx, SLUICE_ERR_INVALID_ARG, "normalizer: schema, load id and rng needed");
    struct sl_normalizer *n = sl_calloc(1, sizeof(*n));
    if (!n)
        return sl_nomem(ctx);
    n->ctx = ctx;
    n->schema = schema;
    n->rng = rng;
    sl_row_ids_init(&n->ids, rng);
    n->load_id = sl_strdup(load_id);
    if (!n->load_id) {
        sl_free(n);
        return sl_nomem(ctx);
    }
    n->load_id_len = strlen(load_id);
    sl_arena_init(&n->arena, ARENA_CHUNK);
    sl_buf_init(&n->tmp, 0);
    sl_buf_init(&n->jbuf, 0);
    sl_buf_init(&n->hbuf, 0);
    *out = n;
    return SLUICE_OK;
}

void sl_normalizer_free(struct sl_normalizer **np)
{
    if (!np || !*np)
        return;
    struct sl_normalizer *n = *np;
    caches_free(n);
    sl_free(n->all);
    sl_free(n->stack);
    sl_free(n->pend);
    sl_free(n->loc);
    sl_buf_cleanup(&n->tmp);
    sl_buf_cleanup(&n->jbuf);
    sl_buf_cleanup(&n->hbuf);
    sl_arena_cleanup(&n->arena);
    sl_free(n->load_id);
    sl_free(n);
    *np = NULL;
}

void sl_normalizer_set_limits(struct sl_normalizer *n, size_t max_columns,
                              const char *reserved_prefix, const char *const *reserved_columns)
{
    n->max_columns = max_columns;
    n->reserved_prefix = reserved_prefix;
    n->reserved_columns = reserved_columns;
}

void sl_normalizer_set_max_identifier_length(struct sl_normalizer *n, size_t max_len)
{
    if (n->max_len == max_len)
        return;
    caches_free(n);
    n->max_len = max_len;
}

/* ============================================================================================
 * Errors
 * ========================================================================================== */

static void path_key(struct sl_buf *b, const struct knode *k)
{
    if (!k)
        return;
    path_key(b, k->parent);
    sl_buf_putc(b, '.');
    sl_buf_append(b, k->raw, k->raw_len);
}

/* JSON path of key k in the current row ("$.lines[1].sku"); k may be NULL. Borrowed (tmp). */
static const char *field_path(struct sl_normalizer *n, const struct knode *k)
{
    struct sl_buf *b = &n->tmp;
    sl_buf_reset(b);
    sl_buf_putc(b, '$');
    for (size_t i = 0; i < n->nloc; i++) {
        path_key(b, n->loc[i].k);
        sl_buf_printf(b, "[%lld]", (long long)n->loc[i].idx);
    }
    path_key(b, k);
    return b->data ? b->data : "$";
}

static sluice_status nomem(struct sl_normalizer *n)
{
    sl_nomem(n->ctx);
    sl_fail_locate(n->ctx, n->res ? n->res->resource : NULL, n->item_no, NULL);
    return SLUICE_ERR_NOMEM;
}

/* After a helper returned NULL: its recorded error (a cap), else out of memory. */
static sluice_status failed(struct sl_normalizer *n)
{
    if (n->ctx->code == SLUICE_OK)
        return nomem(n);
    sl_fail_locate(n->ctx, n->res ? n->res->resource : NULL, n->item_no, NULL);
    return n->ctx->code;
}

/* ============================================================================================
 * Columns and rows
 * ========================================================================================== */

/* dlt's default hints by column name (settings.default_hints): 1 when name is a system column. */
static int system_hints(const char *name, uint32_t *hints)
{
    static const struct {
        const char *name;
        uint32_t hints;
    } sys[] = {
        { "_dlt_id", SL_HINT_ROW_KEY | SL_HINT_UNIQUE },
        { "_dlt_load_id", 0 },
        { "_dlt_parent_id", SL_HINT_PARENT_KEY },
        { "_dlt_list_idx", 0 },
        { "_dlt_root_id", SL_HINT_ROOT_KEY },
    };
    if (name[0] != '_' || name[1] != 'd')
        return 0;
    for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++) {
        if (strcmp(name, sys[i].name) == 0) {
            *hints = sys[i].hints | SL_HINT_SYSTEM;
            return 1;
        }
    }
    return 0;
}

static const struct hint *find_hint(const struct tctx *tc, const char *name)
{
    for (size_t i = 0; i < tc->nhints; i++)
        if (strcmp(tc->hints[i].name, name) == 0)
            return &tc->hints[i];
    return NULL;
}

/* Create column `name` of type in tc's table with the hints its name and the resource give. */
static long new_column(struct sl_normalizer *n, struct tctx *tc, const char *name,
                       enum sl_dtype type, bool variant)
{
    bool nullable = true;
    uint32_t hints = 0;
    if (variant) {
        hints = SL_HINT_VARIANT;
    } else if (system_hints(name, &hints)) {
        nullable = false;
        const struct hint *h = tc->parent ? NULL : find_hint(tc, name);
        if (h)
            hints = (hints | h->bits) & ~h->clear; /* _dlt_id as an scd2 row hash */
    } else if (!tc->parent) {
        const struct hint *h = find_hint(tc, name);
        if (h) {
            hints = h->bits & ~h->clear;
            nullable = h->nullable != 0;
        }
    }
    if (n->max_columns && tc->t->ncols >= n->max_columns) {
        /* refused here, as bad data, rather than by the destination at load time, where a
         * package that can never load would block every later run */
        sl_fail(n->ctx, SLUICE_ERR_DATA_SCHEMA,
                "table '%s' would get more than %zu columns, the most the destination allows "
                "(column '%s')",
                tc->t->name, n->max_columns, name);
        return -1;
    }
    for (const char *const *r = n->reserved_columns; r && *r; r++) {
        if (strcmp(*r, name) == 0) {
            sl_fail(n->ctx, SLUICE_ERR_DATA_SCHEMA,
                    "column name '%s' of table '%s' is reserved by the destination", name,
                    tc->t->name);
            return -1;
        }
    }
    return sl_table_add_col(n->ctx, tc->t, name, type, nullable, hints);
}

static int row_init(struct sl_normalizer *n, struct row *r, struct tctx *tc)
{
    r->tc = tc;
    r->cap = tc->t->ncols + 8;
    r->vals = sl_arena_alloc(&n->arena, r->cap * sizeof(*r->vals));
    if (!r->vals)
        return -1;
    memset(r->vals, 0, r->cap * sizeof(*r->vals));
    return 0;
}

/* The slot of column col, growing the row; NULL when out of memory. */
static struct sl_value *row_slot(struct sl_normalizer *n, struct row *r, long col)
{
    size_t c = (size_t)col;
    if (c >= r->cap) {
        size_t ncap = r->cap * 2 > c + 8 ? r->cap * 2 : c + 8;
        struct sl_value *v = sl_arena_alloc(&n->arena, ncap * sizeof(*v));
        if (!v)
            return NULL;
        memcpy(v, r->vals, r->cap * sizeof(*v));
        memset(v + r->cap, 0, (ncap - r->cap) * sizeof(*v));
        r->vals = v;
        r->cap = ncap;
    }
    return &r->vals[c];
}

static sluice_status set_value(struct sl_normalizer *n, struct row *r, long col,
                               const struct sl_value *val)
{
    struct sl_value *slot = row_slot(n, r, col);
    if (!slot)
        return nomem(n);
    *slot = *val;
    return SLUICE_OK;
}

static sluice_status cannot_coerce(struct sl_normalizer *n, struct knode *k, const char *col,
                                   enum sl_dtype col_type, enum sl_dtype from)
{
    return sl_fail_at(n->ctx, SLUICE_ERR_DATA_SCHEMA, n->res->resource, n->item_no,
                      field_path(n, k),
                      "a %s value cannot be coerced into variant column '%s' of type %s",
                      sl_dtype_name(from), col, sl_dtype_name(col_type));
}

/* Put a value that does not fit its column into the variant column for its type. */
static sluice_status put_variant(struct sl_normalizer *n, struct row *r, struct knode *k,
                                 const struct sl_json *v, enum sl_dtype from)
{
    struct sl_table *t = r->tc->t;
    struct sl_value out;
    long vc = k->variant[from];
    if (vc < 0) {
        char *name = sl_naming_variant_column_max(k->col_name, sl_dtype_name(from), n->max_len);
        if (!name)
            return nomem(n);
        vc = sl_table_col(t, name);
        if (vc < 0) {
            /* the variant column is typed by inference (dlt: skip_preferred=True) */
            enum sl_dtype type = sl_dtype_infer(v);
            int rc = sl_coerce(&n->arena, &n->jbuf, type, v, &out);
            if (rc == 0)
                vc = new_column(n, r->tc, name, type, true);
            sluice_status st = SLUICE_OK;
            if (rc < 0)
                st = nomem(n);
            else if (rc > 0)
                st = cannot_coerce(n, k, name, type, from);
            else if (vc < 0)
                st = n->ctx->code;
            sl_free(name);
            if (st)
                return st;
            k->variant[from] = vc;
            return set_value(n, r, vc, &out);
        }
        sl_free(name);
        k->variant[from] = vc;
    }
    int rc = sl_coerce(&n->arena, &n->jbuf, t->cols[vc].type, v, &out);
    if (rc < 0)
        return nomem(n);
    if (rc > 0)
        return cannot_coerce(n, k, t->cols[vc].name, t->cols[vc].type, from);
    return set_value(n, r, vc, &out);
}

/* Place value v of key k in row r: coerce into the known column, create the column, or go to
 * a variant column (dlt's _coerce_row). */
static sluice_status put_value(struct sl_normalizer *n, struct row *r, struct knode *k,
                               const struct sl_json *v)
{
    struct sl_table *t = r->tc->t;
    long col = knode_col(t, k);
    struct sl_value out;
    if (v->type == SL_JSON_NULL) {
        if (col < 0)
            return SLUICE_OK; /* a column seen only with nulls is not created */
        /* a null _dlt_id (etc.) in the data is replaced by the normalizer's value, as in dlt */
        if (!t->cols[col].nullable && t->cols[col].type != SL_DT_NONE &&
            !(t->cols[col].hints & SL_HINT_SYSTEM))
            goto null_error;
        if ((size_t)col < r->cap)
            r->vals[col].kind = SL_V_NULL;
        return SLUICE_OK;
    }
    if (col >= 0 && t->cols[col].type != SL_DT_NONE) {
        int rc = sl_coerce(&n->arena, &n->jbuf, t->cols[col].type, v, &out);
        if (rc < 0)
            return nomem(n);
        if (rc > 0)
            return put_variant(n, r, k, v, sl_dtype_of_value(v));
        return set_value(n, r, col, &out);
    }
    /* a new column (or one known only from hints): the first value decides its type */
    enum sl_dtype type = sl_dtype_infer(v);
    int rc = sl_coerce(&n->arena, &n->jbuf, type, v, &out);
    if (rc < 0)
        return nomem(n);
    if (rc > 0)
        return put_variant(n, r, k, v, sl_dtype_of_value(v));
    if (col >= 0) {
        t->cols[col].type = type;
        t->gen++;
    } else {
        col = new_column(n, r->tc, k->col_name, type, false);
        if (col < 0) {
            sl_fail_locate(n->ctx, n->res->resource, n->item_no, field_path(n, k));
            return n->ctx->code;
        }
        k->col = col;
    }
    return set_value(n, r, col, &out);
null_error:
    return sl_fail_at(n->ctx, SLUICE_ERR_DATA_SCHEMA, n->res->resource, n->item_no,
                      field_path(n, k), "null value in non-nullable column '%s' of table '%s'",
                      k->col_name, t->name);
}

/* Put a text the normalizer owns (ids, load id) or an integer into a system column. */
static sluice_status put_system(struct sl_normalizer *n, struct row *r, struct knode *k,
                                const char *text, int64_t i)
{
    struct sl_table *t = r->tc->t;
    enum sl_dtype type = text ? SL_DT_TEXT : SL_DT_BIGINT;
    long col = knode_col(t, k);
    if (col < 0) {
        /* typed by what it is, never inferred (a load id must not look like a timestamp) */
        col = new_column(n, r->tc, k->col_name, type, false);
        if (col < 0)
            return failed(n);
        k->col = col;
    }
    if (t->cols[col].type == type) {
        struct sl_value val;
        memset(&val, 0, sizeof(val));
        if (text) {
            val.kind = SL_V_TEXT;
            val.len = (uint32_t)strlen(text);
            val.u.s = text;
        } else {
            val.kind = SL_V_INT;
            val.u.i = i;
        }
        return set_value(n, r, col, &val);
    }
    struct sl_json v;
    memset(&v, 0, sizeof(v));
    if (text) {
        v.type = SL_JSON_STRING;
        v.s = text;
        v.len = (uint32_t)strlen(text);
    } else {
        v.type = SL_JSON_INT;
        v.u.i = i;
    }
    return put_value(n, r, k, &v);
}

/* ============================================================================================
 * Rows, lists, tables
 * ========================================================================================== */

static bool is_nested(struct tctx *tc, struct knode *k, int64_t lvl)
{
    if (lvl <= 0)
        return true;
    long col = knode_col(tc->t, k);
    return col >= 0 && tc->t->cols[col].type == SL_DT_JSON;
}

/* Flatten obj into row r the way dlt's _flatten does (LIFO stack of nested objects), queueing
 * the lists it meets. */
static sluice_status flatten(struct sl_normalizer *n, struct row *r, const struct sl_json *obj,
                             int64_t lvl, bool wrapper)
{
    size_t base = n->nstack;
    if (vec_reserve((void **)&n->stack, &n->capstack, base + 1, sizeof(*n->stack)))
        return nomem(n);
    n->stack[n->nstack++] = (struct frame){ obj, lvl, NULL };
    while (n->nstack > base) {
        struct frame f = n->stack[--n->nstack];
        struct kmap *map = f.node ? &f.node->children : &r->tc->keys;
        for (uint32_t i = 0; i < f.obj->len; i++) {
            const struct sl_json_member *m = &f.obj->u.members[i];
            struct knode *k = kmap_get(n, map, f.node, m->key, m->key_len);
            if (!k)
                return failed(n);
            const struct sl_json *v = &m->val;
            if (v->type == SL_JSON_OBJECT && !is_nested(r->tc, k, f.lvl)) {
                if (vec_reserve((void **)&n->stack, &n->capstack, n->nstack + 1,
                                sizeof(*n->stack)))
                    return nomem(n);
                n->stack[n->nstack++] = (struct frame){ v, f.lvl - 1, k };
                continue;
            }
            if (v->type == SL_JSON_ARRAY && !is_nested(r->tc, k, f.lvl)) {
                if (vec_reserve((void **)&n->pend, &n->cappend, n->npend + 1, sizeof(*n->pend)))
                    return nomem(n);
                n->pend[n->npend++] = (struct pend){ k, v, wrapper };
                continue;
            }
            sluice_status rc = put_value(n, r, k, v);
            if (rc)
                return rc;
        }
    }
    return SLUICE_OK;
}

/* The context of the child table for the list under key k of tc's rows. */
static struct tctx *child_table(struct sl_normalizer *n, struct tctx *tc, struct knode *k)
{
    if (k->list)
        return k->list;
    struct tctx *root = tc;
    while (root->parent)
        root = root->parent;
    struct tctx *child = NULL;
    char *frag = sl_naming_make_path(tc->frag, k->path);
    char *name = frag ? shorten_path(n, frag) : NULL;
    if (!name)
        goto done;
    struct sl_table *t = sl_schema_table(n->ctx, n->schema, name, tc->t->name,
                                         root->t->resource, root->t->wd);
    if (!t)
        goto done;
    t->wd = root->t->wd;
    t->strategy = root->t->strategy;
    child = tctx_new(n, t, tc, frag);
    k->list = child;
done:
    sl_free(frag);
    sl_free(name);
    return child;
}

static sluice_status emit_row(struct sl_normalizer *n, struct row *r)
{
    struct sl_table *t = r->tc->t;
    size_t nvals = t->ncols < r->cap ? t->ncols : r->cap;
    t->has_data = true;
    sluice_status rc = n->emit(n->ud, t, r->vals, nvals);
    if (rc && n->ctx->code == SLUICE_OK)
        sl_fail(n->ctx, rc, "the row consumer failed on table '%s'", t->name);
    return rc;
}

/* The ids of rows first .. first + count - 1 (count <= ID_BATCH) of a list of table tc under
 * parent_id, into ids (arena): each the digest of "<parent id>_<table>_<idx>" (dlt's
 * get_nested_row_hash). A list's ids are asked for together because their digests share
 * permutations (sl_shake128_n). 0 ok, -1 no memory. */
static int child_ids(struct sl_normalizer *n, const char *parent_id, const struct tctx *tc,
                     uint32_t first, size_t count, const char **ids)
{
    const char *table = tc->t->name;
    size_t pl = strlen(parent_id), tl = tc->name_len;
    char *id = sl_arena_alloc(&n->arena, 16 * count);
    sl_buf_reset(&n->tmp);
    if (!id || sl_buf_reserve(&n->tmp, count * (pl + tl + 2 + 10))) /* 10: digits of a u32 */
        return -1;
    const void *msg[ID_BATCH];
    size_t len[ID_BATCH];
    unsigned char md[ID_BATCH][ID_BYTES];
    unsigned char *out[ID_BATCH];
    char *p = n->tmp.data;
    for (size_t k = 0; k < count; k++) {
        char num[10];
        size_t nl = 0;
        uint32_t u = first + (uint32_t)k;
        do {
            num[sizeof(num) - 1 - nl++] = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        msg[k] = p;
        memcpy(p, parent_id, pl);
        p[pl] = '_';
        memcpy(p + pl + 1, table, tl);
        p[pl + 1 + tl] = '_';
        memcpy(p + pl + tl + 2, num + sizeof(num) - nl, nl);
        len[k] = pl + tl + nl + 2;
        p += len[k];
        out[k] = md[k];
    }
    sl_shake128_n(count, msg, len, out, ID_BYTES);
    for (size_t k = 0; k < count; k++) {
        sl_base64(md[k], ID_BYTES, 0, id + 16 * k);
        ids[k] = id + 16 * k;
    }
    return 0;
}

/* The linking columns of a nested row (dlt's extend + _add_row_id, in dlt's order); id: the
 * row's computed id (child_ids), used unless the data brought one (*row_id). */
static sluice_status link_child(struct sl_normalizer *n, struct row *r, const char *parent_id,
                                int64_t idx, const char *root_id, const char **row_id,
                                const char *id)
{
    struct tctx *tc = r->tc;
    sluice_status rc = SLUICE_OK;
    if (root_id) {
        /* once a nested table has _dlt_root_id, the whole tree keeps propagating it (dlt) */
        struct tctx *root = tc;
        while (root->parent)
            root = root->parent;
        root->chain_root_key = true;
        rc = put_system(n, r, tc->k_root_id, root_id, 0);
    }
    if (!rc)
        rc = put_system(n, r, tc->k_parent_id, parent_id, 0);
    if (!rc)
        rc = put_system(n, r, tc->k_list_idx, NULL, idx);
    if (rc)
        return rc;
    if (!*row_id) {
        *row_id = id;
        return put_system(n, r, tc->k_id, id, 0);
    }
    return SLUICE_OK;
}

static sluice_status check_keys(struct sl_normalizer *n, struct row *r,
                                const struct sl_json *item);

/* The value obj gives column `col` of its row as flatten places it (the last one when several
 * keys normalize alike), before coercion; NULL when none. Every key node exists already (the
 * row was flattened), so this allocates nothing. */
static const struct sl_json *raw_value(struct sl_normalizer *n, struct tctx *tc,
                                       struct kmap *map, struct knode *parent,
                                       const struct sl_json *obj, int64_t lvl, const char *col)
{
    const struct sl_json *found = NULL;
    for (uint32_t i = 0; i < obj->len; i++) {
        const struct sl_json_member *m = &obj->u.members[i];
        struct knode *k = kmap_get(n, map, parent, m->key, m->key_len);
        const struct sl_json *v = &m->val;
        if (!k)
            continue;
        if (v->type == SL_JSON_OBJECT && !is_nested(tc, k, lvl)) {
            const struct sl_json *r = raw_value(n, tc, &k->children, k, v, lvl - 1, col);
            if (r)
                found = r;
        } else if (v->type == SL_JSON_ARRAY && !is_nested(tc, k, lvl)) {
            continue;
        } else if (k->col_name && strcmp(k->col_name, col) == 0) {
            found = v;
        }
    }
    return found;
}

static int cmp_hint_names(const void *a, const void *b)
{
    const struct hint *x = *(const struct hint *const *)a;
    const struct hint *y = *(const struct hint *const *)b;
    return strcmp(x->name, y->name);
}

/*
 * The _dlt_id of a root row with a computed id, into out (15 bytes): dlt's get_row_hash as
 * orjson writes the hashed dict, SHAKE-128 to 10 bytes, base64.
 * key_hash (upsert, insert-only): {"<pk column>": <value as it came>, ...}, keys sorted.
 * row_hash (scd2): the item itself without its top-level _dlt* keys, keys sorted at every
 * level, nested lists included (so a change in a nested list is a new version).
 */
static sluice_status root_hash(struct sl_normalizer *n, struct tctx *tc,
                               const struct sl_json *obj, int64_t lvl, char out[16])
{
    struct sl_buf *b = &n->hbuf;
    int bad = 0;
    sl_buf_reset(b);
    if (tc->id_kind == ID_KEY_HASH) {
        size_t npk = 0;
        for (size_t i = 0; i < tc->nhints; i++)
            npk += (tc->hints[i].bits & SL_HINT_PRIMARY_KEY) != 0;
        struct hint **pk = sl_arena_alloc(&n->arena, (npk + 1) * sizeof(*pk));
        if (!pk)
            return nomem(n);
        npk = 0;
        for (size_t i = 0; i < tc->nhints; i++)
            if (tc->hints[i].bits & SL_HINT_PRIMARY_KEY)
                pk[npk++] = &tc->hints[i];
        qsort(pk, npk, sizeof(*pk), cmp_hint_names);
        bad = sl_buf_putc(b, '{');
        for (size_t i = 0; i < npk && !bad; i++) {
            const struct sl_json *v = raw_value(n, tc, &tc->keys, NULL, obj, lvl, pk[i]->name);
            if (!v) /* check_keys let the row through, so the value came coerced from elsewhere */
                return sl_fail_at(n->ctx, SLUICE_ERR_DATA_SCHEMA, n->res->resource, n->item_no,
                                  field_path(n, NULL),
                                  "primary key '%s' of table '%s' has no value to hash",
                                  pk[i]->field, tc->t->name);
            bad = (i && sl_buf_putc(b, ',')) ||
                  sl_json_write_string_ex(b, pk[i]->name, strlen(pk[i]->name),
                                          SL_JSON_W_RAW_FFFD) ||
                  sl_buf_putc(b, ':') || sl_json_write_orjson(b, v);
        }
        bad = bad || sl_buf_putc(b, '}');
    } else {
        struct sl_json view;
        memset(&view, 0, sizeof(view));
        view.type = SL_JSON_OBJECT;
        view.u.members = sl_arena_alloc(&n->arena, (obj->len + 1) * sizeof(*view.u.members));
        if (!view.u.members)
            return nomem(n);
        for (uint32_t i = 0; i < obj->len; i++) {
            const struct sl_json_member *m = &obj->u.members[i];
            if (!(m->key_len >= 4 && memcmp(m->key, "_dlt", 4) == 0))
                view.u.members[view.len++] = *m;
        }
        bad = sl_json_write_orjson(b, &view);
    }
    if (bad)
        return nomem(n);
    unsigned char md[ID_BYTES];
    sl_shake128(md, ID_BYTES, b->data, b->len);
    sl_base64(md, ID_BYTES, 0, out);
    return SLUICE_OK;
}

static sluice_status normalize_list(struct sl_normalizer *n, struct tctx *tc,
                                    const struct pend *p, const char *parent_id,
                                    const char *root_id, int64_t lvl, int depth);

/* One row of tc from object obj, then its lists (dlt's _normalize_row). nested_id: the id
 * child_ids computed for a nested row (NULL for a root row). */
static sluice_status normalize_row(struct sl_normalizer *n, struct tctx *tc,
                                   const struct sl_json *obj, int64_t lvl, bool is_root,
                                   const char *parent_id, int64_t idx, const char *nested_id,
                                   const char *root_id, bool wrapper, int depth)
{
    struct row r;
    sluice_status rc = SLUICE_OK;
    size_t pbase = n->npend;
    if (depth > MAX_ROW_DEPTH)
        return sl_fail_at(n->ctx, SLUICE_ERR_DATA_SCHEMA, n->res->resource, n->item_no,
                          field_path(n, NULL), "lists nested deeper than %d levels",
                          MAX_ROW_DEPTH);
    if (row_init(n, &r, tc))
        return nomem(n);
    rc = flatten(n, &r, obj, lvl, wrapper);
    if (rc)
        goto done;
    /* an id the data brings is kept (dlt keeps any truthy _dlt_id; we keep non-empty text) */
    const char *row_id = NULL;
    long idc = knode_col(tc->t, tc->k_id);
    if (idc >= 0 && (size_t)idc < r.cap && r.vals[idc].kind == SL_V_TEXT && r.vals[idc].len)
        row_id = r.vals[idc].u.s;
    if (is_root) {
        rc = check_keys(n, &r, obj);
        if (!rc)
            rc = put_system(n, &r, tc->k_load_id, n->load_id, 0);
        if (!rc && !row_id) {
            char *id = sl_arena_alloc(&n->arena, 16);
            if (!id) {
                rc = nomem(n);
                goto done;
            }
            if (tc->id_kind == ID_RANDOM)
                sl_row_ids_next(&n->ids, id);
            else
                rc = root_hash(n, tc, obj, lvl, id);
            row_id = id;
            if (!rc)
                rc = put_system(n, &r, tc->k_id, id, 0);
        }
        if (!rc && (n->res->root_key || tc->chain_root_key))
            root_id = row_id;
    } else {
        rc = link_child(n, &r, parent_id, idx, root_id, &row_id, nested_id);
    }
    if (rc)
        goto done;
    rc = emit_row(n, &r);
    for (size_t i = pbase; !rc && i < n->npend; i++) {
        struct pend p = n->pend[i]; /* by value: the vector may move while we recurse */
        rc = normalize_list(n, tc, &p, row_id, root_id, lvl - 1, depth);
    }
done:
    n->npend = pbase;
    return rc;
}

/* The rows of list p->arr found in a row of tc (dlt's _normalize_list). */
static sluice_status normalize_list(struct sl_normalizer *n, struct tctx *tc,
                                    const struct pend *p, const char *parent_id,
                                    const char *root_id, int64_t lvl, int depth)
{
    if (!p->arr->len)
        return SLUICE_OK;
    struct tctx *child = child_table(n, tc, p->k);
    if (!child)
        return failed(n);
    if (vec_reserve((void **)&n->loc, &n->caploc, n->nloc + 1, sizeof(*n->loc)))
        return nomem(n);
    size_t at = n->nloc++;
    sluice_status rc = SLUICE_OK;
    const char *ids[ID_BATCH];
    for (uint32_t i = 0; !rc && i < p->arr->len; i++) {
        const struct sl_json *e = &p->arr->u.items[i];
        if (i % ID_BATCH == 0) {
            size_t left = p->arr->len - i;
            if (child_ids(n, parent_id, child, i, left < ID_BATCH ? left : ID_BATCH, ids)) {
                rc = nomem(n);
                break;
            }
        }
        const char *id = ids[i % ID_BATCH];
        n->loc[at] = (struct loc){ p->synthetic ? NULL : p->k, (int64_t)i };
        if (e->type == SL_JSON_OBJECT) {
            rc = normalize_row(n, child, e, lvl, false, parent_id, i, id, root_id, false,
                               depth + 1);
        } else if (e->type == SL_JSON_ARRAY) {
            /* a list in a list: a wrapper row {"list": e}, one level deeper */
            struct sl_json_member m;
            struct sl_json wrap;
            memset(&m, 0, sizeof(m));
            memset(&wrap, 0, sizeof(wrap));
            m.key = "list";
            m.key_len = 4;
            m.val = *e;
            wrap.type = SL_JSON_OBJECT;
            wrap.len = 1;
            wrap.u.members = &m;
            rc = normalize_row(n, child, &wrap, lvl - 1, false, parent_id, i, id, root_id, true,
                               depth + 1);
        } else {
            struct row r;
            const char *row_id = NULL;
            if (row_init(n, &r, child)) {
                rc = nomem(n);
                break;
            }
            rc = put_value(n, &r, child->k_value, e);
            if (!rc)
                rc = link_child(n, &r, parent_id, i, root_id, &row_id, id);
            if (!rc)
                rc = emit_row(n, &r);
        }
    }
    n->nloc = at;
    return rc;
}

/* ============================================================================================
 * Root tables: names, templates, resource hints
 * ========================================================================================== */

/* Append the text of a template field value; 0 ok, 1 not usable, -1 no memory. */
static int template_value(struct sl_buf *b, const struct sl_json *v)
{
    switch (v->type) {
    case SL_JSON_STRING: return sl_buf_append(b, v->s, v->len) ? -1 : 0;
    case SL_JSON_INT: return sl_buf_printf(b, "%lld", (long long)v->u.i) ? -1 : 0;
    case SL_JSON_BIGINT: return sl_buf_puts(b, v->s) ? -1 : 0;
    case SL_JSON_DOUBLE: return sl_json_write_double_py(b, v->u.d, true) ? -1 : 0;
    case SL_JSON_BOOL: return sl_buf_puts(b, v->u.b ? "true" : "false") ? -1 : 0;
    default: return 1;
    }
}

/* Fill a "{field}" template from the item's top-level fields into n->tmp. */
static sluice_status fill_template(struct sl_normalizer *n, const char *tpl,
                                   const struct sl_json *item)
{
    struct sl_buf *b = &n->tmp;
    sl_buf_reset(b);
    for (const char *p = tpl; *p; p++) {
        if ((*p == '{' && p[1] == '{') || (*p == '}' && p[1] == '}')) {
            if (sl_buf_putc(b, *p))
                return nomem(n);
            p++;
            continue;
        }
        if (*p == '}')
            return sl_fail_at(n->ctx, SLUICE_ERR_CONFIG, n->res->resource, -1, NULL,
                              "table_name template '%s' has an unmatched '}'", tpl);
        if (*p != '{') {
            if (sl_buf_putc(b, *p))
                return nomem(n);
            continue;
        }
        const char *end = strchr(p + 1, '}');
        size_t flen = end ? (size_t)(end - p - 1) : 0;
        if (!end || !flen || flen >= MAX_TEMPLATE_FIELD || memchr(p + 1, '{', flen))
            return sl_fail_at(n->ctx, SLUICE_ERR_CONFIG, n->res->resource, -1, NULL,
                              "table_name template '%s' has a bad {field}", tpl);
        char field[MAX_TEMPLATE_FIELD];
        memcpy(field, p + 1, flen);
        field[flen] = '\0';
        char path[MAX_TEMPLATE_FIELD + 2] = "$.";
        memcpy(path + 2, field, flen + 1);
        memcpy(n->tpl_path, path, flen + 3);
        const struct sl_json *v = item && item->type == SL_JSON_OBJECT ? sl_json_get(item, field)
                                                                       : NULL;
        if (!v || v->type == SL_JSON_NULL)
            return sl_fail_at(n->ctx, SLUICE_ERR_DATA_SCHEMA, n->res->resource, n->item_no, path,
                              "field '%s' of the table_name template is %s", field,
                              v ? "null" : "missing");
        int rc = template_value(b, v);
        if (rc < 0)
            return nomem(n);
        if (rc > 0)
            return sl_fail_at(n->ctx, SLUICE_ERR_DATA_SCHEMA, n->res->resource, n->item_no, path,
                              "field '%s' of the table_name template is not a scalar", field);
        p = end;
    }
    if (!b->data && sl_buf_reserve(b, 1))
        return nomem(n);
    return SLUICE_OK;
}

static int roots_grow(struct sl_normalizer *n)
{
    size_t size = n->roots_size ? n->roots_size * 2 : 16;
    struct root **slots = sl_calloc(size, sizeof(*slots));
    if (!slots)
        return -1;
    for (size_t i = 0; i < n->roots_size; i++) {
        struct root *r = n->roots[i];
        if (!r)
            continue;
        size_t s = (size_t)r->hash & (size - 1);
        while (slots[s])
            s = (s + 1) & (size - 1);
        slots[s] = r;
    }
    sl_free(n->roots);
    n->roots = slots;
    n->roots_size = size;
    return 0;
}

/* The root entry of raw table name (raw, len), created with its normalized name. */
static struct root *root_get(struct sl_normalizer *n, const char *raw, size_t len)
{
    uint64_t h = hash_bytes(raw, len);
    if (n->roots_size) {
        size_t mask = n->roots_size - 1;
        for (size_t s = (size_t)h & mask; n->roots[s]; s = (s + 1) & mask) {
            struct root *r = n->roots[s];
            if (r->hash == h && r->raw_len == len && memcmp(r->raw, raw, len) == 0)
                return r;
        }
    }
    if ((n->roots_count + 1) * 2 > n->roots_size && roots_grow(n))
        return NULL;
    struct root *r = sl_calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->raw = sl_strndup(raw, len);
    r->name = r->raw ? sl_naming_normalize_path(r->raw, n->max_len) : NULL;
    if (!r->name) {
        sl_free(r->raw);
        sl_free(r);
        return NULL;
    }
    r->raw_len = len;
    r->hash = h;
    size_t mask = n->roots_size - 1;
    size_t s = (size_t)h & mask;
    while (n->roots[s])
        s = (s + 1) & mask;
    n->roots[s] = r;
    n->roots_count++;
    return r;
}

/* The pipeline's own tables: rows of a resource must never go there (a "{kind}" template fed
 * by the data could otherwise forge loads, schemas or pipeline state). */
static bool is_system_table(const char *name)
{
    return name[0] == '_' &&
           (strcmp(name, "_dlt_loads") == 0 || strcmp(name, "_dlt_version") == 0 ||
            strcmp(name, "_dlt_pipeline_state") == 0);
}

/* The root table entry an item goes to: table_hint, else the resource's table name (a template
 * filled from the item), else the resource name. */
static sluice_status root_for(struct sl_normalizer *n, const struct sl_norm_resource *res,
                              const struct sl_json *item, const char *table_hint,
                              struct root **out)
{
    const char *raw = table_hint ? table_hint : res->table_name ? res->table_name : res->resource;
    if (!raw)
        return sl_fail(n->ctx, SLUICE_ERR_INVALID_ARG, "normalizer: resource without a name");
    bool tpl = !table_hint && res->table_name && strpbrk(raw, "{}");
    size_t len = strlen(raw);
    if (!tpl && n->last_root && n->last_root->raw_len == len &&
        memcmp(n->last_root->raw, raw, len) == 0) {
        *out = n->last_root;
        return SLUICE_OK;
    }
    if (tpl) {
        sluice_status rc = fill_template(n, raw, item);
        if (rc)
            return rc;
        raw = n->tmp.data;
        len = n->tmp.len;
    }
    struct root *r = root_get(n, raw, len);
    if (!r)
        return nomem(n);
    if (n->reserved_prefix && strncmp(r->name, n->reserved_prefix, strlen(n->reserved_prefix)) == 0)
        return sl_fail_at(n->ctx, tpl || table_hint ? SLUICE_ERR_DATA_SCHEMA : SLUICE_ERR_CONFIG,
                          res->resource, tpl || table_hint ? n->item_no : -1,
                          tpl ? n->tpl_path : NULL,
                          "table name '%s' is reserved by the destination (names starting with "
                          "'%s')",
                          r->name, n->reserved_prefix);
    if (is_system_table(r->name)) {
        if (!tpl && !table_hint)
            return sl_fail_at(n->ctx, SLUICE_ERR_CONFIG, res->resource, -1, NULL,
                              "table name '%s' is reserved for the pipeline's own tables",
                              r->name);
        return sl_fail_at(n->ctx, SLUICE_ERR_DATA_SCHEMA, res->resource, n->item_no,
                          tpl ? n->tpl_path : NULL,
                          "table name '%s' (from %s '%s') is reserved for the pipeline's own "
                          "tables", r->name, tpl ? "the table_name template" : "the stream",
                          tpl ? res->table_name : table_hint);
    }
    if (!tpl)
        n->last_root = r;
    *out = r;
    return SLUICE_OK;
}

static struct hint *hint_for(struct tctx *tc, const char *name, bool *oom)
{
    for (size_t i = 0; i < tc->nhints; i++)
        if (strcmp(tc->hints[i].name, name) == 0)
            return &tc->hints[i];
    struct hint *h = sl_realloc(tc->hints, (tc->nhints + 1) * sizeof(*h));
    if (!h) {
        *oom = true;
        return NULL;
    }
    tc->hints = h;
    h = &tc->hints[tc->nhints];
    memset(h, 0, sizeof(*h));
    h->name = sl_strdup(name);
    if (!h->name) {
        *oom = true;
        return NULL;
    }
    h->nullable = -1;
    h->col = -1;
    tc->nhints++;
    return h;
}

static sluice_status bad_hint(struct sl_normalizer *n, const char *col, const char *why)
{
    return sl_fail_at(n->ctx, SLUICE_ERR_DATA_SCHEMA, n->res->resource, -1, NULL,
                      "column hint for '%s': %s", col, why);
}

/* One hinted field (a source name) with its bits; normalized as dlt normalizes hints. */
static sluice_status add_hint(struct sl_normalizer *n, struct tctx *tc, const char *field,
                              struct hint **out)
{
    bool oom = false;
    char *name = sl_naming_normalize_path(field, n->max_len);
    struct hint *h = name ? hint_for(tc, name, &oom) : NULL;
    sl_free(name);
    if (!h)
        return nomem(n);
    if (!h->field) {
        h->field = sl_strdup(field);
        if (!h->field)
            return nomem(n);
    }
    *out = h;
    return SLUICE_OK;
}

static sluice_status parse_hints(struct sl_normalizer *n, struct tctx *tc,
                                 const struct sl_norm_resource *res)
{
    static const struct {
        const char *key;
        uint32_t bit;
    } flags[] = {
        { "primary_key", SL_HINT_PRIMARY_KEY }, { "merge_key", SL_HINT_MERGE_KEY },
        { "hard_delete", SL_HINT_HARD_DELETE }, { "unique", SL_HINT_UNIQUE },
        { "incremental", SL_HINT_INCREMENTAL },
    };
    sluice_status rc;
    struct hint *h;
    hints_free(tc);
    const struct sl_json *cols = res->columns;
    if (cols && cols->type != SL_JSON_OBJECT)
        return bad_hint(n, "*", "columns must be an object");
    for (uint32_t i = 0; cols && i < cols->len; i++) {
        const struct sl_json_member *m = &cols->u.members[i];
        const struct sl_json *c = &m->val;
        if (c->type != SL_JSON_OBJECT)
            return bad_hint(n, m->key, "not an object");
        rc = add_hint(n, tc, m->key, &h);
        if (rc)
            return rc;
        const struct sl_json *dt = sl_json_get(c, "data_type");
        if (dt && dt->type != SL_JSON_NULL) {
            h->type = sl_dtype_parse(sl_json_str(dt));
            if (h->type == SL_DT_NONE)
                return bad_hint(n, m->key, "unknown data_type");
        }
        const struct sl_json *nv = sl_json_get(c, "nullable");
        if (nv && nv->type == SL_JSON_BOOL)
            h->nullable = nv->u.b;
        for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
            const struct sl_json *fv = sl_json_get(c, flags[f].key);
            if (fv && fv->type == SL_JSON_BOOL && fv->u.b)
                h->bits |= flags[f].bit;
            else if (fv && fv->type == SL_JSON_BOOL)
                h->clear |= flags[f].bit; /* false takes a hint an earlier run left away, as
                                             dlt's merge of column hints does */
        }
        const struct sl_json *ds = sl_json_get(c, "dedup_sort");
        if (ds && ds->type != SL_JSON_NULL) {
            const char *d = sl_json_str(ds);
            if (d && strcmp(d, "asc") == 0)
                h->bits |= SL_HINT_DEDUP_ASC;
            else if (d && strcmp(d, "desc") == 0)
                h->bits |= SL_HINT_DEDUP_DESC;
            else
                return bad_hint(n, m->key, "dedup_sort must be \"asc\" or \"desc\"");
        }
    }
    for (size_t i = 0; i < res->n_pk + res->n_mk; i++)
        if (!(i < res->n_pk ? res->primary_key[i] : res->merge_key[i - res->n_pk]))
            return bad_hint(n, "*", "primary_key and merge_key must name fields");
    for (size_t i = 0; i < res->n_pk; i++) {
        rc = add_hint(n, tc, res->primary_key[i], &h);
        if (rc)
            return rc;
        h->bits |= SL_HINT_PRIMARY_KEY;
    }
    for (size_t i = 0; i < res->n_mk; i++) {
        rc = add_hint(n, tc, res->merge_key[i], &h);
        if (rc)
            return rc;
        h->bits |= SL_HINT_MERGE_KEY;
    }
    if (res->wd == SL_WD_MERGE && res->strategy == SL_MERGE_SCD2) {
        /* dlt's scd2 columns, after the resource's own hints: the validity columns (complete,
         * so created up front) and the row version (the row hash in _dlt_id by default) */
        const char *names[3] = { res->valid_from ? res->valid_from : "_dlt_valid_from",
                                 res->valid_to ? res->valid_to : "_dlt_valid_to",
                                 res->row_version ? res->row_version : "_dlt_id" };
        for (int i = 0; i < 3; i++) {
            rc = add_hint(n, tc, names[i], &h);
            if (rc)
                return rc;
            if (i < 2) {
                h->type = SL_DT_TIMESTAMP;
                h->nullable = 1;
                h->bits |= i == 0 ? SL_HINT_VALID_FROM : SL_HINT_VALID_TO;
            } else {
                h->nullable = 0;
                h->bits |= SL_HINT_ROW_VERSION;
                h->clear |= SL_HINT_UNIQUE | SL_HINT_ROW_KEY;
            }
        }
    }
    size_t hard = 0, dedup = 0;
    for (size_t i = 0; i < tc->nhints; i++) {
        h = &tc->hints[i];
        if (h->bits & (SL_HINT_PRIMARY_KEY | SL_HINT_MERGE_KEY))
            h->nullable = 0; /* keys are not null */
        h->what = (h->bits & SL_HINT_PRIMARY_KEY) ? "primary key"
                  : (h->bits & SL_HINT_MERGE_KEY) ? "merge key"
                  : (h->bits & SL_HINT_ROW_VERSION) ? "row version column"
                  : h->nullable == 0             ? "non-nullable column"
                                                 : NULL;
        if (strcmp(h->name, "_dlt_id") == 0)
            h->what = NULL; /* sluice fills it (the scd2 row hash) */
        hard += (h->bits & SL_HINT_HARD_DELETE) != 0;
        dedup += (h->bits & (SL_HINT_DEDUP_ASC | SL_HINT_DEDUP_DESC)) != 0;
    }
    if (hard > 1)
        return bad_hint(n, tc->t->name, "more than one hard_delete column");
    if (dedup > 1)
        return bad_hint(n, tc->t->name, "more than one dedup_sort column");
    return SLUICE_OK;
}

static bool same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Whether the hints of res are the ones applied to tc (checked per item, so cheap). */
static bool same_resource(const struct tctx *tc, const struct sl_norm_resource *res)
{
    if (!tc->hints_applied || tc->sig_columns != res->columns || tc->sig_wd != res->wd ||
        tc->sig_npk != res->n_pk || tc->sig_nmk != res->n_mk ||
        tc->sig_strategy != res->strategy || !same_str(tc->sig_resource, res->resource))
        return false;
    const char *merge[5] = { res->valid_from, res->valid_to, res->row_version, res->active_ts,
                             res->boundary_ts };
    for (size_t i = 0; i < 5; i++)
        if (!same_str(tc->sig_merge[i], merge[i]))
            return false;
    for (size_t i = 0; i < res->n_pk; i++)
        if (!same_str(tc->sig_keys[i], res->primary_key[i]))
            return false;
    for (size_t i = 0; i < res->n_mk; i++)
        if (!same_str(tc->sig_keys[res->n_pk + i], res->merge_key[i]))
            return false;
    return true;
}

static sluice_status remember_resource(struct sl_normalizer *n, struct tctx *tc,
                                       const struct sl_norm_resource *res)
{
    sig_free(tc);
    size_t nk = res->n_pk + res->n_mk;
    if (res->resource) {
        tc->sig_resource = sl_strdup(res->resource);
        if (!tc->sig_resource)
            return nomem(n);
    }
    if (nk) {
        tc->sig_keys = sl_calloc(nk, sizeof(*tc->sig_keys));
        if (!tc->sig_keys)
            return nomem(n);
    }
    for (size_t i = 0; i < nk; i++) {
        const char *k = i < res->n_pk ? res->primary_key[i] : res->merge_key[i - res->n_pk];
        if (k) {
            tc->sig_keys[i] = sl_strdup(k);
            if (!tc->sig_keys[i]) {
                tc->sig_npk = nk; /* so that sig_free frees what was copied */
                return nomem(n);
            }
        }
    }
    const char *merge[5] = { res->valid_from, res->valid_to, res->row_version, res->active_ts,
                             res->boundary_ts };
    for (size_t i = 0; i < 5; i++) {
        if (merge[i] && !(tc->sig_merge[i] = sl_strdup(merge[i]))) {
            tc->sig_npk = nk;
            return nomem(n);
        }
    }
    tc->sig_npk = res->n_pk;
    tc->sig_nmk = res->n_mk;
    tc->sig_columns = res->columns;
    tc->sig_wd = res->wd;
    tc->sig_strategy = res->strategy;
    tc->hints_applied = true;
    return SLUICE_OK;
}

/* Make a root table ready for res: create it, apply the resource's hints (complete hinted
 * columns are created up front, in hint order, as dlt does). */
static sluice_status root_setup(struct sl_normalizer *n, struct root *r,
                                const struct sl_norm_resource *res)
{
    struct tctx *tc = r->tc;
    if (!tc) {
        struct sl_table *t = sl_schema_table(n->ctx, n->schema, r->name, NULL, res->resource,
                                             res->wd);
        if (!t)
            return n->ctx->code;
        tc = tctx_new(n, t, NULL, r->name);
        if (!tc)
            return failed(n);
        r->tc = tc;
    }
    if (same_resource(tc, res))
        return SLUICE_OK;
    struct sl_table *t = tc->t;
    t->wd = res->wd;
    if (res->wd == SL_WD_MERGE) {
        bool scd2 = res->strategy == SL_MERGE_SCD2;
        t->strategy = res->strategy;
        if (sl_table_set_ts(&t->boundary_ts, scd2 ? res->boundary_ts : NULL) ||
            sl_table_set_ts(&t->active_ts, scd2 ? res->active_ts : NULL))
            return nomem(n);
    }
    if (!t->resource && res->resource) {
        t->resource = sl_strdup(res->resource);
        if (!t->resource)
            return nomem(n);
    }
    sluice_status rc = parse_hints(n, tc, res);
    if (rc)
        return rc;
    for (size_t i = 0; i < tc->nhints; i++) {
        struct hint *h = &tc->hints[i];
        long col = sl_table_col(t, h->name);
        if (col >= 0) {
            struct sl_column *c = &t->cols[col];
            t->gen++;
            c->hints = (c->hints | h->bits) & ~h->clear;
            if (h->nullable == 0)
                c->nullable = false;
            if (c->type == SL_DT_NONE)
                c->type = h->type;
        } else if (h->type != SL_DT_NONE) {
            if (sl_table_add_col(n->ctx, t, h->name, h->type, h->nullable != 0,
                                 h->bits & ~h->clear) < 0)
                return n->ctx->code;
        }
    }
    /* dlt's root row ids: the primary key's hash for upsert and insert-only, the row's hash
     * for scd2 when _dlt_id holds the row version, else random */
    tc->id_kind = ID_RANDOM;
    if (t->wd == SL_WD_MERGE &&
        (t->strategy == SL_MERGE_UPSERT || t->strategy == SL_MERGE_INSERT_ONLY))
        tc->id_kind = ID_KEY_HASH;
    const struct hint *idh = find_hint(tc, "_dlt_id");
    if (t->wd == SL_WD_MERGE && t->strategy == SL_MERGE_SCD2 && idh &&
        (idh->bits & SL_HINT_ROW_VERSION))
        tc->id_kind = ID_ROW_HASH;
    /* nested tables follow the root's disposition; root key propagation is on when any table
     * of this tree already has _dlt_root_id */
    tc->chain_root_key = false;
    for (size_t i = 0; i < n->schema->ntables; i++) {
        struct sl_table *ct = n->schema->tables[i];
        if (ct == t || sl_schema_root(n->schema, ct) != t)
            continue;
        ct->wd = t->wd;
        ct->strategy = t->strategy;
        for (size_t c = 0; c < ct->ncols; c++)
            if (ct->cols[c].hints & SL_HINT_ROOT_KEY)
                tc->chain_root_key = true;
    }
    return remember_resource(n, tc, res);
}

/* Keys and non-nullable hinted columns must have a value in every root row. */
static sluice_status check_keys(struct sl_normalizer *n, struct row *r,
                                const struct sl_json *item)
{
    struct tctx *tc = r->tc;
    for (size_t i = 0; i < tc->nhints; i++) {
        struct hint *h = &tc->hints[i];
        if (!h->what)
            continue;
        if (h->col < 0)
            h->col = sl_table_col(tc->t, h->name);
        if (h->col >= 0 && (size_t)h->col < r->cap && r->vals[h->col].kind != SL_V_NULL)
            continue;
        const struct sl_json *v = sl_json_get(item, h->field);
        char path[MAX_TEMPLATE_FIELD + 2];
        snprintf(path, sizeof(path), "$.%s", h->field);
        return sl_fail_at(n->ctx, SLUICE_ERR_DATA_SCHEMA, n->res->resource, n->item_no, path,
                          "%s '%s' of table '%s' is %s", h->what, h->field, tc->t->name,
                          !v ? "missing" : v->type == SL_JSON_NULL ? "null" : "not coercible");
    }
    return SLUICE_OK;
}

/* ============================================================================================
 * Public entry points
 * ========================================================================================== */

sluice_status sl_normalize_table_name(struct sl_normalizer *n, const struct sl_norm_resource *res,
                                      const struct sl_json *item, int64_t item_no,
                                      const char **out)
{
    struct root *r = NULL;
    n->res = res;
    n->item_no = item_no;
    n->nloc = 0;
    sluice_status rc = root_for(n, res, item, NULL, &r);
    *out = rc ? NULL : r->name;
    return rc;
}

sluice_status sl_normalize_item(struct sl_normalizer *n, const struct sl_norm_resource *res,
                                const struct sl_json *item, int64_t item_no,
                                const char *table_hint, sl_row_fn emit, void *ud)
{
    struct root *r = NULL;
    struct sl_json_member wrap_m;
    struct sl_json wrap;
    sl_arena_reset(&n->arena);
    n->res = res;
    n->item_no = item_no;
    n->emit = emit;
    n->ud = ud;
    n->nstack = n->npend = n->nloc = 0;
    if (item->type != SL_JSON_OBJECT) {
        /* dlt wraps an item that is not an object as {"value": item} */
        memset(&wrap_m, 0, sizeof(wrap_m));
        memset(&wrap, 0, sizeof(wrap));
        wrap_m.key = "value";
        wrap_m.key_len = 5;
        wrap_m.val = *item;
        wrap.type = SL_JSON_OBJECT;
        wrap.len = 1;
        wrap.u.members = &wrap_m;
        item = &wrap;
    }
    sluice_status rc = root_for(n, res, item, table_hint, &r);
    if (!rc)
        rc = root_setup(n, r, res);
    if (!rc) {
        int64_t lvl = res->max_table_nesting < 0 ? DEFAULT_MAX_NESTING : res->max_table_nesting;
        rc = normalize_row(n, r->tc, item, lvl, true, NULL, 0, NULL, NULL, false, 0);
    }
    if (rc)
        sl_fail_locate(n->ctx, res->resource, item_no, NULL);
    return rc;
}
