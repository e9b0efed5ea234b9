/*
 * load.c — apply a normalized load package to the destination in one transaction (load.h).
 *
 * Order inside the transaction: system tables (by the destination), every table the package
 * touches is created or evolved (parents before children), tables of replace resources are
 * truncated, rows are inserted (merge tables into staging), merges run root by root, then the
 * schema version (after its compare-and-swap, schema_cas), the state row (after its own) and
 * finally the _dlt_loads row. Fault points mark each step
 * so the crash harness can kill a run anywhere on this path.
 */
#include "run/load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/fault.h"
#include "base/alloc.h"
#include "base/digest.h"
#include "base/fs.h"
#include "run/loadpipe.h"
#include "run/package.h"
#include "model/coerce.h"
#include "run/trace.h"
#include "model/state.h"

/* The package's normalized schema; anything wrong with the file is a damaged package. */
static sluice_status read_schema(struct sluice_pipeline *p, const char *dir,
                                 const struct sl_json *manifest, struct sl_schema **out)
{
    static const char file[] = "normalized/schema.json";
    *out = NULL;
    char *path = sl_aprintf("%s/%s", dir, file);
    if (!path)
        return sl_nomem(&p->ctx);
    char *text = NULL;
    size_t len = 0;
    struct sl_json *j = NULL;
    struct sl_ctx sub;
    sl_ctx_init(&sub);
    const char *want = sl_json_str(sl_json_get(manifest, "schema_checksum"));
    char have[SL_CHECKSUM_TEXT] = "";
    sluice_status rc = sl_fs_read(&sub, path, &text, &len);
    if (rc == SLUICE_OK && want)
        sl_checksum_text(sl_checksum_add(0, text, len), have);
    if (rc == SLUICE_OK && want && strcmp(have, want) != 0)
        rc = sl_package_damaged(&p->ctx, dir, file,
                                "fails its checksum (%s, the manifest says %s): it changed "
                                "after it was written",
                                have, want);
    else if (rc == SLUICE_OK)
        rc = sl_json_parse_heap(&sub, text, len, &j);
    if (rc == SLUICE_OK)
        rc = sl_schema_from_json(&sub, j, out);
    if (rc == SLUICE_ERR_NOMEM || sub.code == SLUICE_ERR_NOMEM)
        rc = sl_nomem(&p->ctx);
    else if (rc != SLUICE_OK)
        rc = sl_package_damaged(&p->ctx, dir, file, "cannot be used: %s", sub.message);
    sl_json_free(j);
    sl_free(text);
    sl_free(path);
    return rc;
}

static void add_table_info(struct sluice_pipeline *p, const char *name, int64_t rows)
{
    for (size_t i = 0; i < p->ntinfo; i++) {
        if (strcmp(p->tinfo[i].name, name) == 0) {
            p->tinfo[i].rows += rows;
            return;
        }
    }
    if (p->ntinfo == p->tinfo_cap) {
        size_t ncap = p->tinfo_cap ? p->tinfo_cap * 2 : 8;
        struct sluice_table_info *n = sl_realloc(p->tinfo, ncap * sizeof(*n));
        if (!n)
            return;
        p->tinfo = n;
        p->tinfo_cap = ncap;
    }
    char *copy = sl_strdup(name);
    if (!copy)
        return;
    p->tinfo[p->ntinfo].name = copy;
    p->tinfo[p->ntinfo].rows = rows;
    p->ntinfo++;
}

/* Sync t and its ancestors (parents first). */
static sluice_status sync_chain(struct sluice_pipeline *p, const struct sl_schema *s,
                                struct sl_table *t, int depth)
{
    if (depth > 1000)
        return sl_fail(&p->ctx, SLUICE_ERR_INTERNAL, "table parent chain too deep");
    if (t->parent) {
        struct sl_table *parent = sl_schema_find(s, t->parent);
        if (parent) {
            sluice_status rc = sync_chain(p, s, parent, depth + 1);
            if (rc != SLUICE_OK)
                return rc;
        }
    }
    return p->dm->xSyncTable(p->dest, t);
}

/* The run was asked to stop while loading the package in dir (table: where, or NULL): the
 * transaction is rolled back by the caller and the package stays pending. */
static sluice_status stop_loading(struct sluice_pipeline *p, const char *dir, const char *table)
{
    const char *slash = strrchr(dir, '/');
    return sl_run_stop(&p->ctx, NULL,
                       "loading load package %s%s%s: rolled back, nothing of it was committed; "
                       "it stays pending and the next run loads it first, exactly once",
                       slash ? slash + 1 : dir, table ? " into table " : "", table ? table : "");
}

/* Where the load of a package stands, for progress reports. */
struct load_progress {
    int64_t done;     /* rows inserted into any table of the package so far */
    int64_t expected; /* rows of the package over all tables (-1: unknown) */
    struct sl_tick tick;
};

static sluice_status insert_rows(struct sluice_pipeline *p, const char *dir, struct sl_table *t,
                                 int staging, const char *file, const char *checksum,
                                 int64_t expected, struct load_progress *lp, int64_t *rows_out)
{
    *rows_out = 0;
    char *path = sl_aprintf("%s/%s", dir, file);
    if (!path)
        return sl_nomem(&p->ctx);
    struct sl_recfile rf;
    struct sl_value *vals = NULL;
    size_t cap = 0;
    int64_t rows = 0;
    int open_ins = 0;
    sluice_status rc = sl_recfile_open(&p->ctx, path, &rf);
    rf.want_sum = checksum; /* checked at the end of the file, before the commit */
    if (rc == SLUICE_OK) {
        rc = p->dm->xInsertBegin(p->dest, t, staging);
        open_ins = rc == SLUICE_OK;
    }
    while (rc == SLUICE_OK) {
        size_t n = 0;
        int64_t item = 0;
        rc = sl_row_read(&p->ctx, &rf, &vals, &cap, &n, &item);
        if (rc != SLUICE_OK || n == (size_t)-1)
            break;
        if (n > t->ncols) {
            rc = sl_package_damaged(&p->ctx, dir, file,
                                    "has a row of %zu values, table %s has %zu columns", n,
                                    t->name, t->ncols);
            break;
        }
        rc = p->dm->xInsertRow(p->dest, vals, n, item);
        SL_FAULT_POINT("load.row");
        if (rc == SLUICE_OK && sl_run_interrupted(p))
            rc = stop_loading(p, dir, t->name);
        rows++;
        lp->done++;
        if (sl_run_tick(p, &lp->tick))
            sl_run_progress_ex(p, "load", t->name, rows, expected, lp->done, lp->expected,
                               "insert", 0);
    }
    if (open_ins) {
        sluice_status erc = p->dm->xInsertEnd(p->dest);
        if (rc == SLUICE_OK)
            rc = erc;
    }
    if (rf.f)
        sl_recfile_close(&p->ctx, &rf, 0);
    sl_free(vals);
    sl_free(path);
    *rows_out = rows;
    return rc;
}

static int is_replace_resource(const struct sl_json *manifest, const char *resource)
{
    const struct sl_json *res = sl_json_get(manifest, "resources");
    if (!res || !resource)
        return 0;
    for (uint32_t i = 0; i < res->len; i++) {
        const struct sl_json *r = &res->u.items[i];
        const char *name = sl_json_str(sl_json_get(r, "name"));
        const char *wd = sl_json_str(sl_json_get(r, "write_disposition"));
        if (name && wd && strcmp(name, resource) == 0 && strcmp(wd, "replace") == 0)
            return 1;
    }
    return 0;
}

/* Does the package carry rows for root or any table below it? */
static int chain_has_rows(const struct sl_schema *s, const struct sl_table *root,
                          const struct sl_json *tables)
{
    for (uint32_t i = 0; i < tables->len; i++) {
        const char *name = sl_json_str(sl_json_get(&tables->u.items[i], "name"));
        struct sl_table *t = name ? sl_schema_find(s, name) : NULL;
        if (t && sl_schema_root(s, t) == root)
            return 1;
    }
    return 0;
}

/* The package's state (when it changed) as a _dlt_pipeline_state row, same transaction. */
static sluice_status save_state_row(struct sluice_pipeline *p, const struct sl_json *manifest,
                                    const char *load_id)
{
    const struct sl_json *st = sl_json_get(manifest, "state");
    if (!st || st->type != SL_JSON_OBJECT)
        return SLUICE_OK;
    /* compare-and-swap: the destination's newest state must still be the one this package
     * was extracted from; otherwise another process (another machine) loaded in between and
     * this package's increments would be computed from a stale cursor */
    const struct sl_json *base = sl_json_get(manifest, "state_base");
    if (base) {
        const char *want = sl_json_str(sl_json_get(base, "version_hash"));
        const struct sl_json *wv = sl_json_get(base, "version");
        struct sl_state_row_owned cur;
        memset(&cur, 0, sizeof(cur));
        int found = 0;
        sluice_status crc = p->dm->xLoadState(p->dest, p->cfg->pipeline_name, &cur, &found);
        int ok = crc == SLUICE_OK &&
                 (found ? (want && cur.version_hash && strcmp(want, cur.version_hash) == 0)
                        : (!wv || wv->type != SL_JSON_INT || wv->u.i == 0 || !want));
        int64_t have = found ? cur.version : 0;
        sl_state_row_owned_free(&cur);
        if (crc != SLUICE_OK)
            return crc;
        if (!ok)
            return sl_fail(&p->ctx, SLUICE_ERR_LOCKED,
                           "the destination's state of pipeline '%s' changed since this load "
                           "package was extracted (now version %lld, package made from version "
                           "%lld): another process loaded in between; nothing was committed, "
                           "run again to continue from the new state",
                           p->cfg->pipeline_name, (long long)have,
                           (long long)(wv && wv->type == SL_JSON_INT ? wv->u.i : 0));
    }
    char *encoded = NULL;
    sluice_status rc = sl_state_encode(&p->ctx, st, &encoded);
    if (rc != SLUICE_OK)
        return rc;
    const struct sl_json *ver = sl_json_get(st, "_state_version");
    const struct sl_json *eng = sl_json_get(st, "_state_engine_version");
    char created[40];
    sl_run_utc_iso(p, created, sizeof(created));
    char dlt_id[15];
    sl_rng_row_id(&p->rng, dlt_id);
    struct sl_state_row row;
    row.version = ver && ver->type == SL_JSON_INT ? ver->u.i : 0;
    row.engine_version = eng && eng->type == SL_JSON_INT ? eng->u.i : 4;
    row.pipeline_name = p->cfg->pipeline_name;
    row.state = encoded;
    row.created_at = created;
    row.version_hash = sl_json_str(sl_json_get(st, "_version_hash"));
    row.load_id = load_id;
    row.dlt_id = dlt_id;
    rc = p->dm->xSaveState(p->dest, &row);
    sl_free(encoded);
    return rc;
}

/* The load package's creation time as dlt's scd2 takes it (the load id is its epoch time):
 * "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" (trailing zeros dropped), as sl_iso_instant_canonical. */
static int load_id_instant(const char *load_id, char *out, size_t outsz)
{
    char *end = NULL;
    long long secs = strtoll(load_id, &end, 10);
    char frac[8] = "";
    if (end == load_id || secs < 0 || secs > 253402300799LL)
        return 0;
    if (*end == '.') {
        size_t n = 0;
        for (const char *f = end + 1; *f >= '0' && *f <= '9' && n < 6; f++)
            frac[n++] = *f; /* microseconds: further digits are below dlt's precision */
        while (n > 0 && frac[n - 1] == '0')
            n--;
        frac[n] = '\0';
    }
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return 0;
    int w = snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d%s%sZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     frac[0] ? "." : "", frac);
    return w > 0 && (size_t)w < outsz;
}

/* What an scd2 merge of root needs: its validity and row version columns (from their hints),
 * the boundary (configured, else the package's creation time) and the active marker, both as
 * canonical UTC text. The texts go to bound and active (48 bytes each). */
static sluice_status scd2_spec(struct sluice_pipeline *p, const struct sl_table *root,
                               const char *load_id, struct sl_merge_spec *m, char *bound,
                               char *active)
{
    for (size_t i = 0; i < root->ncols; i++) {
        const struct sl_column *c = &root->cols[i];
        if (c->type == SL_DT_NONE)
            continue;
        if ((c->hints & SL_HINT_VALID_FROM) && !m->valid_from)
            m->valid_from = c->name;
        if ((c->hints & SL_HINT_VALID_TO) && !m->valid_to)
            m->valid_to = c->name;
        if ((c->hints & SL_HINT_ROW_VERSION) && !m->row_version)
            m->row_version = c->name;
    }
    if (!m->valid_from || !m->valid_to || !m->row_version)
        return sl_fail_at(&p->ctx, SLUICE_ERR_DATA_SCHEMA, root->resource, -1, NULL,
                          "scd2 table %s lacks its %s column", root->name,
                          !m->valid_from ? "valid-from" : !m->valid_to ? "valid-to"
                                                                       : "row version");
    int ok = root->boundary_ts ? sl_iso_instant_canonical(root->boundary_ts, bound, 48)
                               : load_id_instant(load_id, bound, 48);
    if (!ok)
        return sl_fail_at(&p->ctx, SLUICE_ERR_DATA_SCHEMA, root->resource, -1, NULL,
                          "scd2 table %s: boundary timestamp '%s' is not a date or datetime",
                          root->name, root->boundary_ts ? root->boundary_ts : load_id);
    m->boundary = bound;
    if (root->active_ts) {
        if (!sl_iso_instant_canonical(root->active_ts, active, 48))
            return sl_fail_at(&p->ctx, SLUICE_ERR_DATA_SCHEMA, root->resource, -1, NULL,
                              "scd2 table %s: active record timestamp '%s' is not a date or "
                              "datetime",
                              root->name, root->active_ts);
        m->active = active;
    }
    return SLUICE_OK;
}

/* Resolve the merge of root (its strategy and what the strategy needs) and run it; with clean
 * set, only ask whether the rows inserted directly need it (xMergeDirectClean). */
static sluice_status merge_chain(struct sluice_pipeline *p, const struct sl_table *root,
                                 const struct sl_table *const *children, size_t nch,
                                 const char *load_id, int *clean)
{
    struct sl_merge_spec m;
    char bound[48], active[48];
    memset(&m, 0, sizeof(m));
    m.strategy = root->strategy == SL_MERGE_DEFAULT ? SL_MERGE_DELETE_INSERT : root->strategy;
    m.root = root;
    m.children = children;
    m.nchildren = nch;
    if (!(p->dm->merge_strategies & SL_MERGE_BIT(m.strategy)))
        return sl_fail_at(&p->ctx, SLUICE_ERR_CONFIG, root->resource, -1, NULL,
                          "destination %s does not support the merge strategy '%s' (table %s)",
                          p->dm->name, sl_merge_strategy_name(m.strategy), root->name);
    if (m.strategy == SL_MERGE_SCD2) {
        sluice_status rc = scd2_spec(p, root, load_id, &m, bound, active);
        if (rc != SLUICE_OK)
            return rc;
    }
    if (clean)
        return p->dm->xMergeDirectClean(p->dest, &m, clean);
    return p->dm->xMerge(p->dest, &m);
}

/* Does every typed column of every table of s exist in d with the same type? */
static int schema_fits(const struct sl_schema *s, const struct sl_schema *d)
{
    for (size_t i = 0; i < s->ntables; i++) {
        const struct sl_table *t = s->tables[i];
        const struct sl_table *dt = sl_schema_find(d, t->name);
        for (size_t c = 0; c < t->ncols; c++) {
            if (t->cols[c].type == SL_DT_NONE)
                continue;
            long k = dt ? sl_table_col(dt, t->cols[c].name) : -1;
            if (k < 0 || dt->cols[k].type != t->cols[c].type)
                return 0;
        }
    }
    return 1;
}

/*
 * Compare-and-swap of the schema, in the load transaction (issue 8.6): schema versions in
 * _dlt_version stay linear. The package's schema s may be stored when the destination's newest
 * is the one s was evolved from (s->version one above it, its hash first in s's
 * previous_hashes) or s itself. A package whose schema the destination has moved past but
 * which adds nothing to it (every column it fills exists there with its type) loads without
 * storing its schema (*store = 0). Anything else was normalized against a schema another
 * process has changed since: LOCKED, nothing committed, the package is discarded and its data
 * extracted again against the newest schema.
 */
static sluice_status schema_cas(struct sluice_pipeline *p, const struct sl_schema *s, int *store)
{
    char *text = NULL;
    struct sl_json *j = NULL;
    struct sl_schema *d = NULL;
    *store = 1;
    sluice_status rc = p->dm->xLoadSchema(p->dest, s->name, &text);
    if (rc != SLUICE_OK || !text)
        goto done;
    rc = sl_json_parse_heap(&p->ctx, text, strlen(text), &j);
    if (rc == SLUICE_OK)
        rc = sl_schema_from_json(&p->ctx, j, &d);
    if (rc != SLUICE_OK)
        goto done;
    const char *prev = s->prev_hashes && s->prev_hashes->len
                           ? sl_json_str(&s->prev_hashes->u.items[0])
                           : NULL;
    const char *dh = d->version_hash ? d->version_hash : "";
    if (s->version_hash && strcmp(s->version_hash, dh) == 0)
        goto done;
    if (prev && strcmp(prev, dh) == 0 && s->version == d->version + 1)
        goto done;
    if (schema_fits(s, d)) {
        *store = 0;
        goto done;
    }
    rc = sl_fail(&p->ctx, SLUICE_ERR_LOCKED,
                 "the destination's schema '%s' changed since this load package was normalized "
                 "(now version %lld, package version %lld): another process loaded in between; "
                 "nothing was committed, run again to continue from the new schema",
                 s->name, (long long)d->version, (long long)s->version);
done:
    sl_schema_free(&d);
    sl_json_free(j);
    sl_free(text);
    return rc;
}

/* ---- routes: how each table's rows go in ------------------------------------------------ */

enum route {
    ROUTE_PLAIN = 0, /* into the table, or its staging copy for a merge table (not decided) */
    ROUTE_DIRECT,    /* a merge table of a chain that was empty: straight into the table */
    ROUTE_REDONE,    /* loaded directly, then truncated and loaded again through staging */
    ROUTE_STAGED     /* a merge table decided to go through staging */
};
#define ROUTE_MASK 0x0f
#define ROUTE_REROUTE 0x10 /* on a direct root: a nested table was not empty, use staging */

/* Per table name: its route, or (as a set) a mark. */
struct routes {
    char **names;
    unsigned char *r;
    size_t n, cap;
};

static unsigned char route_get(const struct routes *rt, const char *name)
{
    for (size_t i = 0; name && i < rt->n; i++)
        if (strcmp(rt->names[i], name) == 0)
            return rt->r[i];
    return ROUTE_PLAIN;
}

static int route_has(const struct routes *rt, const char *name)
{
    for (size_t i = 0; name && i < rt->n; i++)
        if (strcmp(rt->names[i], name) == 0)
            return 1;
    return 0;
}

static sluice_status route_set(struct sluice_pipeline *p, struct routes *rt, const char *name,
                               unsigned char v)
{
    for (size_t i = 0; i < rt->n; i++) {
        if (strcmp(rt->names[i], name) == 0) {
            rt->r[i] = v;
            return SLUICE_OK;
        }
    }
    if (rt->n == rt->cap) {
        size_t ncap = rt->cap ? rt->cap * 2 : 8;
        char **nn = sl_realloc(rt->names, ncap * sizeof(*nn));
        if (nn)
            rt->names = nn;
        unsigned char *nr = nn ? sl_realloc(rt->r, ncap) : NULL;
        if (nr)
            rt->r = nr;
        if (!nn || !nr)
            return sl_nomem(&p->ctx);
        rt->cap = ncap;
    }
    rt->names[rt->n] = sl_strdup(name);
    if (!rt->names[rt->n])
        return sl_nomem(&p->ctx);
    rt->r[rt->n++] = v;
    return SLUICE_OK;
}

static void routes_free(struct routes *rt)
{
    for (size_t i = 0; i < rt->n; i++)
        sl_free(rt->names[i]);
    sl_free(rt->names);
    sl_free(rt->r);
    memset(rt, 0, sizeof(*rt));
}

/* xInsertBegin's staging argument for t's rows. */
static int insert_how(const struct sl_table *t, const struct routes *rt)
{
    if (t->wd != SL_WD_MERGE)
        return SL_INSERT_FINAL;
    return (route_get(rt, t->name) & ROUTE_MASK) == ROUTE_DIRECT ? SL_INSERT_FIRST_MERGE
                                                                 : SL_INSERT_STAGING;
}

static int fast_merge_on(const struct sluice_pipeline *p)
{
    const char *off = getenv("SLUICE_FAST_MERGE");
    return p->dm->xIsEmpty && p->dm->xMergeDirectClean && !(off && strcmp(off, "0") == 0);
}

/* The fast first merge (destination.h) of root's chain: when root and every nested table of
 * it in s hold no rows in the dataset, they are loaded straight into their tables (but
 * scd2); otherwise through staging. SLUICE_FAST_MERGE=0 turns it off (benchmarks compare
 * both ways in one build). */
static sluice_status plan_chain(struct sluice_pipeline *p, const struct sl_schema *s,
                                struct sl_table *root, struct routes *rt)
{
    enum sl_merge_strategy st =
        root->strategy == SL_MERGE_DEFAULT ? SL_MERGE_DELETE_INSERT : root->strategy;
    int empty = fast_merge_on(p) && st != SL_MERGE_SCD2 &&
                (p->dm->merge_strategies & SL_MERGE_BIT(st));
    sluice_status rc = SLUICE_OK;
    for (size_t j = 0; rc == SLUICE_OK && empty && j < s->ntables; j++)
        if (sl_schema_root(s, s->tables[j]) == root)
            rc = p->dm->xIsEmpty(p->dest, s->tables[j]->name, &empty);
    for (size_t j = 0; rc == SLUICE_OK && j < s->ntables; j++)
        if (sl_schema_root(s, s->tables[j]) == root)
            rc = route_set(p, rt, s->tables[j]->name, empty ? ROUTE_DIRECT : ROUTE_STAGED);
    return rc;
}

/* Insert the rows of a table of the manifest (how: xInsertBegin's SL_INSERT_*). */
static sluice_status load_table(struct sluice_pipeline *p, const char *dir,
                                const struct sl_schema *s, const struct sl_json *tj, int how,
                                struct load_progress *lp)
{
    struct sl_table *t = sl_schema_find(s, sl_json_str(sl_json_get(tj, "name")));
    const char *file = sl_json_str(sl_json_get(tj, "file"));
    int64_t rows = 0;
    if (!file)
        return sl_package_damaged(&p->ctx, dir, "manifest.json", "has a table without its file");
    const struct sl_json *want = sl_json_get(tj, "rows");
    int64_t expected = want && want->type == SL_JSON_INT ? want->u.i : -1;
    sl_run_progress_ex(p, "load", t->name, 0, expected, lp->done, lp->expected, "insert", 0);
    sluice_status rc = insert_rows(p, dir, t, how, file,
                                   sl_json_str(sl_json_get(tj, "checksum")), expected, lp, &rows);
    if (rc == SLUICE_OK && want && want->type == SL_JSON_INT && want->u.i != rows)
        rc = sl_package_damaged(&p->ctx, dir, file,
                                "is incomplete: %lld rows of table %s, %lld expected",
                                (long long)rows, t->name, (long long)want->u.i);
    if (rc == SLUICE_OK)
        sl_run_progress_ex(p, "load", t->name, rows, expected, lp->done, lp->expected, "insert",
                           0);
    return rc;
}

/* A chain loaded directly whose rows need the merge after all (duplicate keys, hard deletes,
 * a nested table that was not empty): empty its direct tables again (they held only this
 * package's rows) and load them through staging. */
static sluice_status reroute_chain(struct sluice_pipeline *p, const char *dir,
                                   const struct sl_schema *s, const struct sl_json *tables,
                                   const struct sl_table *root, struct routes *rt,
                                   struct load_progress *lp)
{
    sluice_status rc = SLUICE_OK;
    for (size_t j = 0; rc == SLUICE_OK && j < s->ntables; j++) {
        const char *name = s->tables[j]->name;
        if (sl_schema_root(s, s->tables[j]) != root ||
            (route_get(rt, name) & ROUTE_MASK) != ROUTE_DIRECT)
            continue;
        rc = route_set(p, rt, name, ROUTE_REDONE);
        if (rc == SLUICE_OK)
            rc = p->dm->xTruncate(p->dest, name);
    }
    for (uint32_t i = 0; rc == SLUICE_OK && i < tables->len; i++) {
        const struct sl_json *tj = &tables->u.items[i];
        const char *name = sl_json_str(sl_json_get(tj, "name"));
        struct sl_table *t = sl_schema_find(s, name);
        if (t && sl_schema_root(s, t) == root && route_get(rt, name) == ROUTE_REDONE)
            rc = load_table(p, dir, s, tj, SL_INSERT_STAGING, lp);
    }
    return rc;
}

/* Step 1 of a package: a refresh drops or truncates tables first (children before parents),
 * then the tables with rows are created or evolved and every table of a replace resource
 * emptied (truncated: the names already emptied, which it adds to). */
static sluice_status apply_tables(struct sluice_pipeline *p, const char *dir,
                                  const struct sl_json *manifest, struct sl_schema *s,
                                  struct routes *truncated)
{
    sluice_status rc = SLUICE_OK;
    const struct sl_json *tables = sl_json_get(manifest, "tables");
    const struct sl_json *rf = sl_json_get(manifest, "refresh");
    const char *mode = sl_json_str(sl_json_get(rf, "mode"));
    const struct sl_json *drop = sl_json_get(rf, "tables");
    if (mode && drop && drop->type == SL_JSON_ARRAY) {
        int truncate = strcmp(mode, "drop_data") == 0;
        for (uint32_t i = drop->len; rc == SLUICE_OK && i-- > 0;) {
            const char *name = sl_json_str(&drop->u.items[i]);
            if (!name)
                continue;
            rc = truncate ? p->dm->xTruncate(p->dest, name) : p->dm->xDropTable(p->dest, name);
        }
    }
    for (uint32_t i = 0; rc == SLUICE_OK && i < tables->len; i++) {
        const char *name = sl_json_str(sl_json_get(&tables->u.items[i], "name"));
        struct sl_table *t = name ? sl_schema_find(s, name) : NULL;
        if (!t)
            return sl_package_damaged(&p->ctx, dir, "manifest.json",
                                      "names table '%s', which is not in the package's schema",
                                      name ? name : "?");
        rc = sync_chain(p, s, t, 0);
    }
    for (size_t i = 0; rc == SLUICE_OK && i < s->ntables; i++) {
        struct sl_table *t = s->tables[i];
        if (is_replace_resource(manifest, t->resource) && !route_has(truncated, t->name)) {
            rc = sync_chain(p, s, t, 0);
            if (rc == SLUICE_OK)
                rc = p->dm->xTruncate(p->dest, t->name);
            if (rc == SLUICE_OK)
                rc = route_set(p, truncated, t->name, 1);
        }
    }
    return rc;
}

/* Steps 3 and 4 of a package, after its rows: merges root by root (a chain loaded directly
 * only when its rows need it), the schema version (after its compare-and-swap), the state
 * row, the _dlt_loads row. *ndirect: chains that stayed loaded directly. */
static sluice_status apply_finish(struct sluice_pipeline *p, const char *dir,
                                  const struct sl_json *manifest, struct sl_schema *s,
                                  struct routes *rt, struct load_progress *lp, size_t *ndirect)
{
    sluice_status rc = SLUICE_OK;
    const struct sl_json *tables = sl_json_get(manifest, "tables");
    const char *load_id = sl_json_str(sl_json_get(manifest, "load_id"));
    const struct sl_json *rf = sl_json_get(manifest, "refresh");
    const char *mode = sl_json_str(sl_json_get(rf, "mode"));
    const struct sl_json *drop = sl_json_get(rf, "tables");
    *ndirect = 0;
    for (size_t i = 0; rc == SLUICE_OK && i < s->ntables; i++) {
        struct sl_table *root = s->tables[i];
        if (root->parent || root->wd != SL_WD_MERGE || !chain_has_rows(s, root, tables))
            continue;
        const struct sl_table **children = sl_calloc(s->ntables, sizeof(*children));
        if (!children)
            return sl_nomem(&p->ctx);
        size_t nch = 0;
        for (size_t j = 0; j < s->ntables; j++) {
            struct sl_table *c = s->tables[j];
            if (c != root && c->parent && sl_schema_root(s, c) == root) {
                rc = sync_chain(p, s, c, 0); /* staging needs every child table to exist */
                children[nch++] = c;
            }
        }
        unsigned char r = route_get(rt, root->name);
        if (rc == SLUICE_OK && (r & ROUTE_MASK) == ROUTE_DIRECT) {
            int clean = 0;
            if (!(r & ROUTE_REROUTE))
                rc = merge_chain(p, root, children, nch, load_id, &clean);
            if (rc == SLUICE_OK && clean) {
                sl_log(&p->ctx, SLUICE_LOG_DEBUG,
                       "merge into %s: the table was empty, the package's rows went in "
                       "directly (no staging)", root->name);
                (*ndirect)++;
                sl_free(children);
                continue;
            }
            sl_log(&p->ctx, SLUICE_LOG_DEBUG,
                   "merge into %s: the table was empty but the package has duplicate keys or "
                   "hard deletes (or a nested table has rows): loaded again through staging",
                   root->name);
            if (rc == SLUICE_OK)
                rc = reroute_chain(p, dir, s, tables, root, rt, lp);
        }
        if (rc == SLUICE_OK) {
            sl_run_progress_ex(p, "load", root->name, -1, -1, lp->done, lp->expected, "merge",
                               0);
            rc = merge_chain(p, root, children, nch, load_id, NULL);
        }
        sl_free(children);
    }
    SL_FAULT_POINT("load.after_merge");
    int store = 1;
    if (rc == SLUICE_OK)
        rc = schema_cas(p, s, &store);
    if (rc == SLUICE_OK && store) {
        struct sl_json *sj = sl_schema_to_json(s);
        char *text = sj ? sl_json_dumps(sj, 0) : NULL;
        /* tables were dropped: the schema history restarts with this version (as dlt) */
        if (text && mode && strcmp(mode, "drop_data") != 0 && drop && drop->len > 0)
            rc = p->dm->xDeleteSchemaVersions(p->dest, s->name);
        if (!text)
            rc = sl_nomem(&p->ctx);
        else if (rc == SLUICE_OK)
            rc = p->dm->xSaveSchema(p->dest, s->name, s->version,
                                    s->version_hash ? s->version_hash : "", text);
        sl_free(text);
        sl_json_free(sj);
    }
    SL_FAULT_POINT("load.after_schema");
    if (rc == SLUICE_OK)
        rc = save_state_row(p, manifest, load_id);
    SL_FAULT_POINT("load.after_state");
    if (rc == SLUICE_OK)
        rc = p->dm->xInsertLoad(p->dest, load_id, s->name, s->version_hash ? s->version_hash : "");
    return rc;
}

/* Expected rows of the package over all tables (-1: unknown), for progress. */
static int64_t expected_rows(const struct sl_json *tables)
{
    int64_t n = 0;
    for (uint32_t i = 0; i < tables->len; i++) {
        const struct sl_json *want = sl_json_get(&tables->u.items[i], "rows");
        if (!want || want->type != SL_JSON_INT)
            return -1;
        n += want->u.i;
    }
    return n;
}

static sluice_status apply(struct sluice_pipeline *p, const char *dir,
                           const struct sl_json *manifest, struct sl_schema *s,
                           struct routes *rt, size_t *ndirect)
{
    struct routes truncated;
    memset(&truncated, 0, sizeof(truncated));
    const struct sl_json *tables = sl_json_get(manifest, "tables");
    const char *load_id = sl_json_str(sl_json_get(manifest, "load_id"));
    if (!tables || tables->type != SL_JSON_ARRAY || !load_id)
        return sl_package_damaged(&p->ctx, dir, "manifest.json", "has no load_id or tables");
    sluice_status rc = apply_tables(p, dir, manifest, s, &truncated);
    routes_free(&truncated);
    SL_FAULT_POINT("load.after_ddl");
    struct load_progress lp;
    memset(&lp, 0, sizeof(lp));
    lp.expected = expected_rows(tables);
    for (size_t i = 0; rc == SLUICE_OK && i < s->ntables; i++) {
        struct sl_table *root = s->tables[i];
        if (!root->parent && root->wd == SL_WD_MERGE && chain_has_rows(s, root, tables))
            rc = plan_chain(p, s, root, rt);
    }
    for (uint32_t i = 0; rc == SLUICE_OK && i < tables->len; i++) {
        const struct sl_json *tj = &tables->u.items[i];
        struct sl_table *t = sl_schema_find(s, sl_json_str(sl_json_get(tj, "name")));
        rc = load_table(p, dir, s, tj, insert_how(t, rt), &lp);
    }
    SL_FAULT_POINT("load.after_rows");
    if (rc == SLUICE_OK)
        rc = apply_finish(p, dir, manifest, s, rt, &lp, ndirect);
    return rc;
}

/* ---- net effect, for the trace ---------------------------------------------------------- */

struct effect {
    char *name;
    int64_t rows, inserted, updated, deleted;
};

struct effects {
    struct effect *v;
    size_t n, cap;
    int lost;
};

static struct effect *effect_of(struct effects *fx, const char *name)
{
    for (size_t i = 0; i < fx->n; i++)
        if (strcmp(fx->v[i].name, name) == 0)
            return &fx->v[i];
    if (fx->n == fx->cap) {
        size_t ncap = fx->cap ? fx->cap * 2 : 8;
        struct effect *nv = sl_realloc(fx->v, ncap * sizeof(*nv));
        if (!nv)
            return NULL;
        fx->v = nv;
        fx->cap = ncap;
    }
    struct effect *e = &fx->v[fx->n];
    memset(e, 0, sizeof(*e));
    e->name = sl_strdup(name);
    if (!e->name)
        return NULL;
    fx->n++;
    return e;
}

static sluice_status on_effect(void *ud, const char *table, int64_t inserted, int64_t updated,
                               int64_t deleted)
{
    struct effects *fx = ud;
    struct effect *e = effect_of(fx, table);
    if (!e) {
        fx->lost = 1;
        return SLUICE_OK;
    }
    e->inserted += inserted;
    e->updated += updated;
    e->deleted += deleted;
    return SLUICE_OK;
}

/* Each table the committed package touched, as a trace entry: rows written, and their net
 * effect when the destination can tell (rows appended to a table that is not merged are
 * inserts; the destination reports what its merges, truncates and drops did). */
static void trace_effects(struct sluice_pipeline *p, struct sl_dest *dest,
                          const struct sl_schema *s, const struct sl_json *tables,
                          const struct routes *rt)
{
    if (!p->trace)
        return;
    struct effects fx;
    memset(&fx, 0, sizeof(fx));
    int known = p->dm->xEffects != NULL;
    for (uint32_t i = 0; tables && i < tables->len; i++) {
        const struct sl_json *tj = &tables->u.items[i];
        const char *name = sl_json_str(sl_json_get(tj, "name"));
        const struct sl_json *rows = sl_json_get(tj, "rows");
        struct effect *e = name ? effect_of(&fx, name) : NULL;
        if (!e) {
            fx.lost = 1;
            continue;
        }
        e->rows = rows && rows->type == SL_JSON_INT ? rows->u.i : 0;
        const struct sl_table *t = sl_schema_find(s, name);
        /* merged rows went to staging: the merge reports them; those loaded straight into an
         * empty table were inserted */
        if (!t || t->wd != SL_WD_MERGE || (route_get(rt, name) & ROUTE_MASK) == ROUTE_DIRECT)
            e->inserted += e->rows;
    }
    if (known && p->dm->xEffects(dest, on_effect, &fx) != SLUICE_OK) {
        sl_ctx_clear(&p->ctx); /* only the report is lost, the load is committed */
        known = 0;
    }
    for (size_t i = 0; known && i < fx.n; i++) {
        /* a chain loaded again through staging: its truncate deleted only this package's rows */
        if (route_get(rt, fx.v[i].name) == ROUTE_REDONE)
            fx.v[i].deleted -= fx.v[i].rows;
    }
    for (size_t i = 0; i < fx.n; i++) {
        struct effect *e = &fx.v[i];
        struct sl_json *o = sl_json_new_object();
        if (!o || sl_json_obj_put_str(o, "name", e->name) ||
            sl_json_obj_put_int(o, "rows", e->rows) ||
            (known && (sl_json_obj_put_int(o, "inserted", e->inserted) ||
                       sl_json_obj_put_int(o, "updated", e->updated) ||
                       sl_json_obj_put_int(o, "deleted", e->deleted)))) {
            sl_json_free(o);
            fx.lost = 1;
        } else {
            sl_trace_add(p, "tables", o);
        }
        sl_free(e->name);
    }
    sl_free(fx.v);
    if (fx.lost)
        sl_trace_add(p, "tables", NULL); /* marks the trace incomplete */
}


/* What a committed load leaves for its report. */
struct sl_load_done {
    struct sl_schema *s;
    struct routes rt;
    size_t ndirect;
};

void sl_load_done_free(struct sluice_pipeline *p, struct sl_load_done **done)
{
    (void)p;
    if (!*done)
        return;
    sl_schema_free(&(*done)->s);
    routes_free(&(*done)->rt);
    sl_free(*done);
    *done = NULL;
}

/* After the commit (q: the pipeline or the load thread's copy, whose destination handle knows
 * the effects): rows in the run's summary, the trace, the last progress report. */
static void report(struct sluice_pipeline *p, struct sluice_pipeline *q,
                   struct sl_load_done *done, const struct sl_json *manifest)
{
    int64_t total = 0;
    const struct sl_json *tables = sl_json_get(manifest, "tables");
    int64_t all = p != q && tables ? expected_rows(tables) : -1;
    for (uint32_t i = 0; p != q && tables && i < tables->len; i++) {
        /* loaded on the load thread: the per-table reports it could not make */
        const struct sl_json *tj = &tables->u.items[i];
        const struct sl_json *rows = sl_json_get(tj, "rows");
        int64_t n = rows && rows->type == SL_JSON_INT ? rows->u.i : 0;
        total += n;
        sl_run_progress_ex(p, "load", sl_json_str(sl_json_get(tj, "name")), n, n, total, all,
                           "insert", 0);
    }
    total = 0;
    for (uint32_t i = 0; tables && i < tables->len; i++) {
        const struct sl_json *tj = &tables->u.items[i];
        const char *name = sl_json_str(sl_json_get(tj, "name"));
        const struct sl_json *rows = sl_json_get(tj, "rows");
        int64_t n = rows && rows->type == SL_JSON_INT ? rows->u.i : 0;
        if (name) {
            add_table_info(p, name, n);
            p->run_rows += n;
        }
        total += n;
    }
    if (p != q)
        sl_trace_note(p, done->ndirect ? "loaded while normalizing; first merge into empty "
                                         "tables: rows loaded directly, no staging"
                                       : "loaded while normalizing");
    else if (done->ndirect)
        sl_trace_note(p, "first merge into empty tables: rows loaded directly, no staging");
    trace_effects(p, q->dest, done->s, tables, &done->rt);
    sl_run_progress_ex(p, "load", "", total, total, total, total, "", 1);
}

void sl_load_report(struct sluice_pipeline *p, struct sluice_pipeline *q,
                    struct sl_load_done *done, const struct sl_json *manifest,
                    struct sl_schema **schema_out)
{
    report(p, q, done, manifest);
    *schema_out = done->s;
    done->s = NULL;
}

/* Commit the open transaction of the package in dir (rolled back when that fails). */
static sluice_status commit(struct sluice_pipeline *p, const char *dir)
{
    SL_FAULT_POINT("load.before_commit");
    if (sl_run_interrupted(p)) {
        /* the last moment an interrupt can still keep the package out */
        sluice_status rc = stop_loading(p, dir, NULL);
        p->dm->xRollback(p->dest);
        return rc;
    }
    sl_run_progress_ex(p, "load", "", -1, -1, -1, -1, "commit", 0);
    sluice_status rc = p->dm->xCommit(p->dest);
    if (rc != SLUICE_OK) {
        p->dm->xRollback(p->dest);
        return rc;
    }
    SL_FAULT_POINT("load.after_commit");
    return SLUICE_OK;
}

sluice_status sl_load_package(struct sluice_pipeline *p, const char *dir,
                              const struct sl_json *manifest, struct sl_schema **schema_out)
{
    *schema_out = NULL;
    const char *load_id = sl_json_str(sl_json_get(manifest, "load_id"));
    if (!load_id)
        return sl_package_damaged(&p->ctx, dir, "manifest.json", "has no load_id");
    struct sl_load_done *done = sl_calloc(1, sizeof(*done));
    if (!done)
        return sl_nomem(&p->ctx);
    sluice_status rc = read_schema(p, dir, manifest, &done->s);
    if (rc == SLUICE_OK)
        rc = p->dm->xBegin(p->dest);
    if (rc != SLUICE_OK) {
        sl_load_done_free(p, &done);
        return rc;
    }
    int exists = 0;
    rc = p->dm->xLoadExists(p->dest, load_id, &exists);
    if (rc == SLUICE_OK && exists) {
        p->dm->xRollback(p->dest);
        sl_log(&p->ctx, SLUICE_LOG_INFO, "load package %s was already loaded", load_id);
        *schema_out = done->s;
        done->s = NULL;
        sl_load_done_free(p, &done);
        return SLUICE_OK;
    }
    if (rc == SLUICE_OK)
        rc = apply(p, dir, manifest, done->s, &done->rt, &done->ndirect);
    if (rc != SLUICE_OK)
        p->dm->xRollback(p->dest);
    else
        rc = commit(p, dir);
    if (rc == SLUICE_OK)
        sl_load_report(p, p, done, manifest, schema_out);
    sl_load_done_free(p, &done);
    return rc;
}

/* ---- loading while normalizing (loadpipe.h) --------------------------------------------- */

/* A row file the load thread follows. */
struct follow_file {
    struct sl_recfile rf;
    int open;
    int64_t rows;
    const struct sl_schema *synced; /* the schema copy its table was last made ready with */
};

struct follow {
    struct sluice_pipeline *q;
    struct sl_loadpipe *lp;
    const char *dir;
    struct follow_file *ff;
    size_t nff;
    struct sl_value *vals;
    size_t cap;
    struct routes rt;        /* routes of merge tables */
    struct routes truncated; /* tables of replace resources emptied */
    int64_t batch;           /* the destination's follow_batch */
};

/* Make t ready for its rows (its schema copy s is newer than when it last was): create or
 * evolve it and its parents, empty it when its resource replaces, and route a merge chain. */
static sluice_status follow_table(struct follow *fw, const struct sl_schema *s, struct sl_table *t,
                                  const struct sl_json *resources)
{
    struct sluice_pipeline *q = fw->q;
    sluice_status rc = sync_chain(q, s, t, 0);
    if (rc == SLUICE_OK && is_replace_resource(resources, t->resource) &&
        !route_has(&fw->truncated, t->name)) {
        rc = q->dm->xTruncate(q->dest, t->name);
        if (rc == SLUICE_OK)
            rc = route_set(q, &fw->truncated, t->name, 1);
    }
    if (rc != SLUICE_OK || t->wd != SL_WD_MERGE)
        return rc;
    struct sl_table *root = sl_schema_root(s, t);
    unsigned char r = route_get(&fw->rt, root->name);
    if (r == ROUTE_PLAIN)
        return plan_chain(q, s, root, &fw->rt);
    if ((r & ROUTE_MASK) == ROUTE_DIRECT && route_get(&fw->rt, t->name) == ROUTE_PLAIN) {
        /* a nested table first seen now, after its chain went in directly */
        int empty = 1;
        rc = q->dm->xIsEmpty(q->dest, t->name, &empty);
        if (rc == SLUICE_OK)
            rc = route_set(q, &fw->rt, t->name, empty ? ROUTE_DIRECT : ROUTE_STAGED);
        if (rc == SLUICE_OK && !empty)
            rc = route_set(q, &fw->rt, root->name, r | ROUTE_REROUTE);
    }
    return rc;
}

/* Insert what the normalizer published since the last call. */
static sluice_status follow_rows(struct follow *fw, const struct sl_loadpipe_view *v)
{
    struct sluice_pipeline *q = fw->q;
    sluice_status rc = SLUICE_OK;
    if (v->nfiles > fw->nff) {
        struct follow_file *n = sl_realloc(fw->ff, v->nfiles * sizeof(*n));
        if (!n)
            return sl_nomem(&q->ctx);
        memset(n + fw->nff, 0, (v->nfiles - fw->nff) * sizeof(*n));
        fw->ff = n;
        fw->nff = v->nfiles;
    }
    for (size_t i = 0; rc == SLUICE_OK && i < v->nfiles; i++) {
        struct follow_file *f = &fw->ff[i];
        if (!v->tables[i] || v->bytes[i] <= f->rf.bytes ||
            (!v->normalized && v->bytes[i] - f->rf.bytes < fw->batch))
            continue;
        struct sl_table *t = v->schema ? sl_schema_find(v->schema, v->tables[i]) : NULL;
        if (!t)
            return sl_fail(&q->ctx, SLUICE_ERR_INTERNAL,
                           "load thread: table %s has rows but no definition", v->tables[i]);
        if (!f->open) {
            char *path = sl_aprintf("%s/normalized/%zu.rows", fw->dir, i);
            rc = path ? sl_recfile_open(&q->ctx, path, &f->rf) : sl_nomem(&q->ctx);
            sl_free(path);
            if (rc != SLUICE_OK)
                return rc;
            f->open = 1;
        }
        if (f->synced != v->schema) {
            rc = follow_table(fw, v->schema, t, v->resources);
            f->synced = v->schema;
        }
        if (rc == SLUICE_OK)
            rc = q->dm->xInsertBegin(q->dest, t, insert_how(t, &fw->rt));
        if (rc != SLUICE_OK)
            return rc;
        clearerr(f->rf.f); /* a read that met the end of what was written left EOF set */
        while (rc == SLUICE_OK && f->rf.bytes < v->bytes[i]) {
            size_t n = 0;
            int64_t item = 0;
            rc = sl_row_read(&q->ctx, &f->rf, &fw->vals, &fw->cap, &n, &item);
            if (rc != SLUICE_OK)
                break;
            if (n == (size_t)-1 || n > t->ncols) {
                rc = sl_fail(&q->ctx, SLUICE_ERR_INTERNAL,
                             "load thread: row file of table %s ends early or has a row of "
                             "%zu values for %zu columns", t->name, n, t->ncols);
                break;
            }
            rc = q->dm->xInsertRow(q->dest, fw->vals, n, item);
            SL_FAULT_POINT("load.follow_row");
            if (rc == SLUICE_OK && sl_run_interrupted(q))
                rc = stop_loading(q, fw->dir, t->name);
            f->rows++;
            if ((f->rows & 4095) == 0)
                sl_loadpipe_loaded(fw->lp, i, f->rows);
        }
        sluice_status erc = q->dm->xInsertEnd(q->dest);
        if (rc == SLUICE_OK)
            rc = erc;
        sl_loadpipe_loaded(fw->lp, i, f->rows);
    }
    return rc;
}

/* The manifest is here: read the row files to their ends (checksums, row counts). */
static sluice_status follow_drain(struct follow *fw, const struct sl_json *manifest,
                                  struct sl_schema *s)
{
    struct sluice_pipeline *q = fw->q;
    const struct sl_json *tables = sl_json_get(manifest, "tables");
    sluice_status rc = SLUICE_OK;
    for (uint32_t i = 0; rc == SLUICE_OK && i < tables->len; i++) {
        const struct sl_json *tj = &tables->u.items[i];
        const char *name = sl_json_str(sl_json_get(tj, "name"));
        const char *file = sl_json_str(sl_json_get(tj, "file"));
        const struct sl_json *want = sl_json_get(tj, "rows");
        struct sl_table *t = name ? sl_schema_find(s, name) : NULL;
        size_t k = 0;
        if (!t || !file || sscanf(file, "normalized/%zu.rows", &k) != 1 || k >= fw->nff ||
            !fw->ff[k].open)
            return sl_package_damaged(&q->ctx, fw->dir, "manifest.json",
                                      "names a table or row file the load did not follow (%s)",
                                      name ? name : "?");
        struct follow_file *f = &fw->ff[k];
        f->rf.want_sum = sl_json_str(sl_json_get(tj, "checksum"));
        clearerr(f->rf.f);
        int open_ins = 0;
        for (;;) {
            size_t n = 0;
            int64_t item = 0;
            rc = sl_row_read(&q->ctx, &f->rf, &fw->vals, &fw->cap, &n, &item);
            if (rc != SLUICE_OK || n == (size_t)-1)
                break;
            if (n > t->ncols) {
                rc = sl_package_damaged(&q->ctx, fw->dir, file,
                                        "has a row of %zu values, table %s has %zu columns", n,
                                        t->name, t->ncols);
                break;
            }
            if (!open_ins) {
                rc = q->dm->xInsertBegin(q->dest, t, insert_how(t, &fw->rt));
                if (rc != SLUICE_OK)
                    break;
                open_ins = 1;
            }
            rc = q->dm->xInsertRow(q->dest, fw->vals, n, item);
            f->rows++;
            if ((f->rows & 4095) == 0)
                sl_loadpipe_loaded(fw->lp, k, f->rows);
            if (rc != SLUICE_OK)
                break;
        }
        sl_loadpipe_loaded(fw->lp, k, f->rows);
        if (open_ins) {
            sluice_status erc = q->dm->xInsertEnd(q->dest);
            if (rc == SLUICE_OK)
                rc = erc;
        }
        if (rc == SLUICE_OK && want && want->type == SL_JSON_INT && want->u.i != f->rows)
            rc = sl_package_damaged(&q->ctx, fw->dir, file,
                                    "is incomplete: %lld rows of table %s, %lld expected",
                                    (long long)f->rows, t->name, (long long)want->u.i);
    }
    return rc;
}

/* Open the load thread's own destination handle and the package's transaction. */
static sluice_status follow_begin(struct sluice_pipeline *q)
{
    sluice_status rc = sl_run_open_dest(q, 1);
    if (rc == SLUICE_OK)
        rc = q->dm->xBegin(q->dest);
    return rc;
}

sluice_status sl_load_follow(struct sl_loadpipe *lp, struct sluice_pipeline *q,
                             struct sl_load_done **out)
{
    struct follow fw;
    memset(&fw, 0, sizeof(fw));
    fw.q = q;
    fw.lp = lp;
    fw.dir = sl_loadpipe_dir(lp);
    fw.batch = (int64_t)q->dm->follow_batch;
#ifdef SLUICE_TESTING
    /* a test build takes SLUICE_FOLLOW_BATCH=bytes, so small cases follow on every backend */
    const char *fb = getenv("SLUICE_FOLLOW_BATCH");
    if (fb && *fb)
        fw.batch = strtoll(fb, NULL, 10);
#endif
    struct sl_load_done *done = sl_calloc(1, sizeof(*done));
    uint64_t seen = 0;
    int64_t *bytes = NULL;
    const char **tables = NULL;
    size_t vcap = 0;
    struct sl_loadpipe_view v;
    int in_txn = 0;
    *out = NULL;
    sluice_status rc = done ? SLUICE_OK : sl_nomem(&q->ctx);
    for (;;) {
        sl_loadpipe_wait(lp, &seen, &v, &bytes, &tables, &vcap);
        if (v.abort)
            break;
        if (rc == SLUICE_OK && v.nomem)
            rc = sl_nomem(&q->ctx);
        /* the transaction (and the destination's write lock) starts with the first rows */
        if (rc == SLUICE_OK && !in_txn && (v.nfiles > 0 || v.manifest)) {
            rc = follow_begin(q);
            in_txn = rc == SLUICE_OK;
        }
        /* after a failure the thread only waits for the end (the package stays pending) */
        if (rc == SLUICE_OK)
            rc = follow_rows(&fw, &v);
        if (v.manifest && (v.normalized || rc != SLUICE_OK))
            break;
    }
    const struct sl_json *manifest = v.manifest;
    if (rc == SLUICE_OK && v.abort)
        rc = sl_run_stop(&q->ctx, NULL, "extracting: the load of the package is rolled back");
    if (rc == SLUICE_OK)
        rc = read_schema(q, fw.dir, manifest, &done->s);
    if (rc == SLUICE_OK)
        rc = follow_drain(&fw, manifest, done->s);
    if (rc == SLUICE_OK) {
        const struct sl_json *res = sl_json_get(manifest, "tables");
        rc = res && res->type == SL_JSON_ARRAY && sl_json_str(sl_json_get(manifest, "load_id"))
                 ? apply_tables(q, fw.dir, manifest, done->s, &fw.truncated)
                 : sl_package_damaged(&q->ctx, fw.dir, "manifest.json",
                                      "has no load_id or tables");
    }
    SL_FAULT_POINT("load.follow_drained");
    struct load_progress prog;
    memset(&prog, 0, sizeof(prog));
    if (rc == SLUICE_OK) {
        done->rt = fw.rt;
        memset(&fw.rt, 0, sizeof(fw.rt));
        rc = apply_finish(q, fw.dir, manifest, done->s, &done->rt, &prog, &done->ndirect);
    }
    if (rc == SLUICE_OK) {
        rc = commit(q, fw.dir);
        in_txn = 0;
    }
    if (in_txn && q->dest)
        q->dm->xRollback(q->dest);
    for (size_t i = 0; i < fw.nff; i++)
        if (fw.ff[i].open && fw.ff[i].rf.f)
            sl_recfile_close(&q->ctx, &fw.ff[i].rf, 0);
    sl_free(fw.ff);
    sl_free(fw.vals);
    routes_free(&fw.rt);
    routes_free(&fw.truncated);
    sl_free(bytes);
    sl_free((void *)tables);
    if (rc != SLUICE_OK)
        sl_load_done_free(q, &done);
    *out = done;
    return rc;
}
