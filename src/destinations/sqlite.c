/*
 * destination_sqlite.c — the embedded SQLite destination (destination.h).
 *
 * Files. The configured path is the MAIN database of the connection and stays empty: sluice
 * never writes to it. The dataset is a second file beside it, `<main stem>__<dataset><main
 * suffix>` (out.db → out__ds.db, x.sqlite → x__ds.sqlite), ATTACHed under the dataset's name,
 * exactly as dlt's SQLAlchemy destination names and attaches it, so `ds.items` works both here and in `sqlite3 out.db "ATTACH 'out__ds.db' AS ds"`.
 * Every statement sluice builds names the dataset explicitly ("ds"."items"); staging copies
 * and merge scratch tables live in the connection's TEMP database.
 *
 * Dataset as the default schema (xQuery). SQLite resolves an unqualified table name by
 * searching temp, then main, then the attached databases in attach order. main is empty and
 * the dataset is the only attached database, so `SELECT * FROM items` finds ds.items with no
 * views or rewriting. Corner cases, documented rather than worked around: a table the user
 * created in the main file (or a TEMP table made by their own query) with the same name wins
 * over the dataset's, and an unqualified CREATE TABLE in a query lands in main. Dataset names
 * "main" and "temp" are rejected because they cannot be attach names.
 *
 * Transactions. xBegin runs BEGIN IMMEDIATE (the write lock is taken up front, so a
 * concurrent writer waits up to busy_timeout = 5000 ms, or destination.lock_timeout, and then
 * fails LOCKED naming the dataset file and the process holding it, as the duckdb destination
 * words it: sqlite_fail_or_busy), then creates the system tables when missing. Both files keep
 * SQLite's default rollback journal: only the dataset file is ever written, so a commit is a
 * single-file atomic commit (WAL would break atomicity across attached files, which is why we
 * do not switch to it). synchronous is
 * FULL on both files: FULL and NORMAL measured the same within noise (1M 8-column rows in one
 * transaction: 0.97-1.19 s vs 0.97-1.27 s; an empty package commit: ~15 ms each way, all of
 * it fsync, against 0.3 ms with synchronous=OFF), so durability wins. DDL is transactional
 * in SQLite, so xRollback undoes tables, columns, rows, staging and system rows alike.
 *
 * Caches. Per table (and per staging copy) the handle keeps the known column names and the
 * prepared INSERT. Within a transaction nobody else can change the dataset (we hold the write
 * lock); between transactions the cache is kept only when the dataset's schema cookie
 * (PRAGMA schema_version) is the one we saw at our last commit. xRollback drops all caches.
 *
 * Types and values are dlt's SQLAlchemy destination's on SQLite, so either tool continues the
 * other's dataset: bigint BIGINT, double DOUBLE, bool BOOLEAN (0/1), text TEXT (VARCHAR(128)
 * with the unique hint: _dlt_id), timestamp DATETIME stored as "YYYY-MM-DD HH:MM:SS.ffffff" in
 * UTC, date DATE ("YYYY-MM-DD"), time TIME ("HH:MM:SS.ffffff"), json JSON (compact text),
 * decimal NUMERIC(38, 9) (bound as text; SQLite's NUMERIC affinity stores a decimal literal as
 * REAL, as SQLAlchemy does too), binary BLOB. One deliberate difference: wei (integers beyond
 * int64) is TEXT, where dlt declares NUMERIC(38, 0) and SQLite's NUMERIC affinity rounds the
 * value to a REAL; sluice keeps such integers exact (DESIGN.md 2). The system tables carry the
 * same types (load ids VARCHAR(64)) and the same timestamp text. Columns without a type yet
 * (seen only with nulls) are not created, as in dlt. NOT NULL is declared only at CREATE time
 * (ALTER ADD COLUMN adds nullable columns).
 * Identifiers are always double-quoted with embedded quotes doubled; values are always bound.
 *
 * Merges (destination.h: delete-insert, upsert, insert-only, scd2) run the statements shared
 * with the other SQL back-ends (sql_merge.c; here with scratch tables in temp., rowid aliases
 * no column hides as row ids, CROSS JOIN where the staged keys must drive the loop) in the open
 * transaction against the staging copies, which keep each row's package item in "_sl_item".
 * Winners per
 * primary key (the dedup_sort winner, NULLs never win, then the LAST staged: highest item,
 * then rowid) go to temp."_sl_ins" (rowid, _dlt_id, item, is-a-delete); nested rows follow a
 * winner when their root link AND item match it, which tells apart the nested rows of two
 * staged roots sharing a _dlt_id (upsert's key hash). delete-insert: root _dlt_ids of
 * destination rows matching a staged key (pk OR merge key) are collected into
 * temp."_sl_del" by a join DRIVEN BY the staged keys (CROSS JOIN fixes the loop order) into
 * an index on the destination keys; children go by _dlt_root_id, roots by rowid. upsert:
 * UPDATE ... FROM the winners by primary key (every column), INSERT of the keys not there,
 * DELETE of hard deletes; nested rows of the staged roots are replaced. insert-only: winners
 * among non-deleted rows whose key is absent. scd2: an UPDATE retires active versions absent
 * from staging (within the staged merge keys), versions not active are inserted with the
 * bound boundary / active values, nested rows follow the inserted versions down the parent
 * chain (temp."_sl_nest") unless their _dlt_id exists. Every lookup into a destination table
 * goes through an index, so the cost grows with the package, not the table (but scd2's
 * retirement without merge keys, which must visit every active version). When a log callback
 * is installed, the plans are logged at debug level; SLUICE_TESTING builds fail if a plan that
 * must use an index scans the destination table.
 *
 * Time: inserted_at is the wall clock (base/clock.h, which the clock-skew tests shift), never
 * compared by tests and never used to order anything: the newest schema is the highest
 * version, the newest state the highest state version.
 * Errors from SQLite are translated in one place, sl_sqlite_fail() (static: this is the only
 * file that talks to SQLite): DEST "sqlite destination <main file>: <what>: <SQLite's
 * message>". Thread model: one handle, one thread at a time (NOMUTEX).
 */
#include "destinations/destination.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "base/alloc.h"
#include "base/fs.h"
#include "base/clock.h"
#include "base/json.h"
#include "destinations/effects.h"
#include "destinations/filelock.h"
#include "destinations/sql.h"
#include "destinations/sql_merge.h"
#include "destinations/systables.h"

#define BUSY_TIMEOUT_MS 5000
#define STG_PREFIX "_sl_stg_"
#define ITEM_COL SL_SQL_ITEM_COL      /* staging copies: the row's package item (xInsertRow) */
#define IDX_NAME_MAX 64              /* longer index names are shortened with a hash */

/* ---- handle ------------------------------------------------------------------------------ */

/* What we know about one table of the dataset, or one staging copy in temp. */
struct known_table {
    char *name;            /* the dataset table's name (also for its staging copy) */
    int staging;           /* 1: temp."_sl_stg_<name>" */
    int exists;
    char **cols;           /* column names, sorted with sqlite3_stricmp */
    size_t ncols, cap;
    char *index_sig;       /* the index DDL last ensured (dataset merge tables) */
    int created;           /* created by this handle in the open transaction (so empty
                              before it) */
    int deferred;          /* its merge indexes are dropped while rows go in and built after
                              them (a sort beats a random-order insert per row): a table of a
                              fast first merge (SL_INSERT_FIRST_MERGE), built in
                              xMergeDirectClean, or a table created in the open transaction and
                              filled by an append or replace, built at the commit */
    char *pending;         /* deferred: the index DDL to run then, or NULL when none */
    sqlite3_stmt *insert;  /* cached INSERT ... VALUES (?, ...) */
    size_t ins_tcols;      /* t->ncols the INSERT was built for */
    size_t ins_typed;      /* and how many of them had a type */
    int *ins_param;        /* per t column: 1-based parameter, 0 = not inserted */
    int ins_item;          /* staging: parameter of ITEM_COL */
    unsigned char *ins_fmt; /* per t column: text reformatted at bind (FMT_*) */
    char *ins_text;        /* per t column: INS_TEXT_SIZE bytes for that text, or NULL when no
                              column is reformatted */
};

struct sl_dest {
    struct sl_ctx *ctx;    /* borrowed from the pipeline */
    sqlite3 *db;
    char *dataset;         /* attach name */
    char *main_path;
    char *ds_path;
    int in_txn;
    int64_t cookie;        /* dataset schema_version at our last commit, -1 unknown */
    double lock_wait;      /* seconds busy_timeout waits for another process's lock */
    struct known_table **tabs;
    size_t ntabs, captabs;
    /* the open inserter (xInsertBegin .. xInsertEnd) */
    struct known_table *ins;
    size_t ins_ncols;
    /* net effects of the open transaction's truncates, drops and merges (xEffects) */
    struct sl_effects fx;
};

/* ---- errors ------------------------------------------------------------------------------ */

/*
 * The one translator of SQLite errors: the pending error (if none yet) becomes DEST (NOMEM for
 * SQLITE_NOMEM) with "<what>: <sqlite message>", origin "sqlite" and the extended result code
 * as detail.
 */
static sluice_status sl_sqlite_fail(struct sl_ctx *ctx, sqlite3 *db, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static sluice_status sl_sqlite_fail(struct sl_ctx *ctx, sqlite3 *db, const char *fmt, ...)
{
    if (ctx->code != SLUICE_OK)
        return ctx->code;
    int ext = db ? sqlite3_extended_errcode(db) : SQLITE_NOMEM;
    if ((ext & 0xff) == SQLITE_NOMEM)
        return sl_nomem(ctx);
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    const char *file = db ? sqlite3_db_filename(db, "main") : NULL;
    sluice_status rc = sl_fail(ctx, SLUICE_ERR_DEST, "sqlite destination %s: %s: %s",
                               file && *file ? file : "?", what,
                               db ? sqlite3_errmsg(db) : "out of memory");
    char detail[32];
    snprintf(detail, sizeof(detail), "%d", ext);
    sl_fail_origin(ctx, "sqlite", detail);
    return rc;
}

/* A statement that stayed SQLITE_BUSY for the whole busy_timeout: another process holds the
 * dataset file (or the main file) locked. LOCKED naming the file and the holder, worded as
 * the duckdb destination's; other errors go to sl_sqlite_fail as "<what> <dataset file>". */
static sluice_status sqlite_fail_or_busy(struct sl_dest *d, const char *what)
{
    int ext = sqlite3_extended_errcode(d->db);
    if ((ext & 0xff) != SQLITE_BUSY || d->ctx->code != SLUICE_OK)
        return sl_sqlite_fail(d->ctx, d->db, "%s %s", what, d->ds_path);
    const char *file = d->ds_path;
    long pid = sl_filelock_holder(d->ds_path);
    if (!pid && (pid = sl_filelock_holder(d->main_path)) != 0)
        file = d->main_path;
    char who[128], detail[32];
    if (pid)
        sl_filelock_holder_text(pid, who, sizeof(who));
    else
        snprintf(who, sizeof(who), "which one could not be told");
    sl_fail(d->ctx, SLUICE_ERR_LOCKED, "sqlite destination %s: the database file is held by "
            "another process (%s) and stayed so for %g s (destination.lock_timeout)", file, who,
            d->lock_wait);
    snprintf(detail, sizeof(detail), "%d", ext);
    sl_fail_origin(d->ctx, "sqlite", detail);
    return SLUICE_ERR_LOCKED;
}

/* ---- SQL text ---------------------------------------------------------------------------- */

/* "ds"."t" or temp."_sl_stg_t" */
static void sq_table(struct sl_sql *q, const struct sl_dest *d, const char *name, int staging)
{
    if (staging) {
        sl_sql_put(q, "temp.");
        sl_sql_id2(q, STG_PREFIX, name);
    } else {
        sl_sql_id(q, d->dataset);
        sl_sql_ch(q, '.');
        sl_sql_id(q, name);
    }
}

/* ---- statements -------------------------------------------------------------------------- */

static sluice_status prepare(struct sl_dest *d, const char *sql, sqlite3_stmt **st,
                             const char *what)
{
    *st = NULL;
    if (sqlite3_prepare_v2(d->db, sql, -1, st, NULL) != SQLITE_OK) {
        sqlite3_finalize(*st);
        *st = NULL;
        return sl_sqlite_fail(d->ctx, d->db, "%s", what);
    }
    return SLUICE_OK;
}

/* Step to the end, then reset. */
static sluice_status step_done(struct sl_dest *d, sqlite3_stmt *st, const char *what)
{
    sluice_status rc = SLUICE_OK;
    int r = sqlite3_step(st);
    while (r == SQLITE_ROW)
        r = sqlite3_step(st);
    if (r != SQLITE_DONE)
        rc = sl_sqlite_fail(d->ctx, d->db, "%s", what);
    sqlite3_reset(st);
    return rc;
}

/* Run one or more statements without parameters or results. */
static sluice_status exec(struct sl_dest *d, const char *sql, const char *what)
{
    if (sqlite3_exec(d->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return sl_sqlite_fail(d->ctx, d->db, "%s", what);
    return SLUICE_OK;
}

static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (!s)
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

/* Does the dataset (or temp for staging) hold a table of that name? */
static sluice_status table_exists(struct sl_dest *d, const char *schema, const char *name,
                                  int *exists)
{
    sqlite3_stmt *st = NULL;
    struct sl_sql q;
    sluice_status rc = SLUICE_OK;
    *exists = 0;
    sl_sql_init(&q);
    sl_sql_put(&q, "SELECT 1 FROM ");
    sl_sql_id(&q, schema);
    sl_sql_put(&q, ".sqlite_master WHERE type = 'table' AND name = ?1");
    const char *text = sl_sql_text(d->ctx, &q);
    if (!text) {
        rc = d->ctx->code;
        goto done;
    }
    rc = prepare(d, text, &st, "look up a table");
    if (rc)
        goto done;
    if (sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK) {
        rc = sl_sqlite_fail(d->ctx, d->db, "look up table %s", name);
        goto done;
    }
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        *exists = 1;
    else if (r != SQLITE_DONE)
        rc = sl_sqlite_fail(d->ctx, d->db, "look up table %s", name);
done:
    sqlite3_finalize(st);
    sl_sql_cleanup(&q);
    return rc;
}

/* ---- column cache ------------------------------------------------------------------------ */

static int cmp_name(const void *a, const void *b)
{
    return sqlite3_stricmp(*(char *const *)a, *(char *const *)b);
}

static int kt_has(const struct known_table *kt, const char *col)
{
    if (!kt->ncols)
        return 0;
    return bsearch(&col, kt->cols, kt->ncols, sizeof(char *), cmp_name) != NULL;
}

/* Add a column name (kept sorted). */
static sluice_status kt_add(struct sl_dest *d, struct known_table *kt, const char *col)
{
    if (kt->ncols == kt->cap) {
        size_t ncap = kt->cap ? kt->cap * 2 : 16;
        char **p = sl_realloc(kt->cols, ncap * sizeof(char *));
        if (!p)
            return sl_nomem(d->ctx);
        kt->cols = p;
        kt->cap = ncap;
    }
    char *s = sl_strdup(col);
    if (!s)
        return sl_nomem(d->ctx);
    size_t i = kt->ncols;
    while (i > 0 && sqlite3_stricmp(kt->cols[i - 1], s) > 0) {
        kt->cols[i] = kt->cols[i - 1];
        i--;
    }
    kt->cols[i] = s;
    kt->ncols++;
    return SLUICE_OK;
}

static void kt_free(struct known_table *kt)
{
    if (!kt)
        return;
    sqlite3_finalize(kt->insert);
    for (size_t i = 0; i < kt->ncols; i++)
        sl_free(kt->cols[i]);
    sl_free(kt->cols);
    sl_free(kt->name);
    sl_free(kt->index_sig);
    sl_free(kt->pending);
    sl_free(kt->ins_param);
    sl_free(kt->ins_fmt);
    sl_free(kt->ins_text);
    sl_free(kt);
}

static struct known_table *kt_find(struct sl_dest *d, const char *name, int staging)
{
    for (size_t i = 0; i < d->ntabs; i++) {
        struct known_table *kt = d->tabs[i];
        if (kt->staging == staging && sqlite3_stricmp(kt->name, name) == 0)
            return kt;
    }
    return NULL;
}

static void kt_remove_at(struct sl_dest *d, size_t i)
{
    if (d->ins == d->tabs[i])
        d->ins = NULL;
    kt_free(d->tabs[i]);
    d->tabs[i] = d->tabs[d->ntabs - 1];
    d->ntabs--;
}

/* Forget all tables (staging_only: just the staging copies). */
static void cache_clear(struct sl_dest *d, int staging_only)
{
    size_t i = 0;
    while (i < d->ntabs) {
        if (!staging_only || d->tabs[i]->staging)
            kt_remove_at(d, i);
        else
            i++;
    }
}

/* The cache entry of a table, loading its columns from the database on first use. */
static sluice_status kt_get(struct sl_dest *d, const char *name, int staging,
                            struct known_table **out)
{
    sqlite3_stmt *st = NULL;
    char *stg_name = NULL;
    struct known_table *kt = kt_find(d, name, staging);
    sluice_status rc = SLUICE_OK;
    *out = kt;
    if (kt)
        return SLUICE_OK;
    if (d->ntabs == d->captabs) {
        size_t ncap = d->captabs ? d->captabs * 2 : 16;
        struct known_table **p = sl_realloc(d->tabs, ncap * sizeof(*p));
        if (!p)
            return sl_nomem(d->ctx);
        d->tabs = p;
        d->captabs = ncap;
    }
    kt = sl_calloc(1, sizeof(*kt));
    if (!kt)
        return sl_nomem(d->ctx);
    kt->staging = staging;
    kt->name = sl_strdup(name);
    if (!kt->name) {
        rc = sl_nomem(d->ctx);
        goto fail;
    }
    stg_name = staging ? sl_aprintf("%s%s", STG_PREFIX, name) : NULL;
    if (staging && !stg_name) {
        rc = sl_nomem(d->ctx);
        goto fail;
    }
    rc = prepare(d, "SELECT name FROM pragma_table_info(?1, ?2)", &st, "read table columns");
    if (rc)
        goto fail;
    sqlite3_bind_text(st, 1, staging ? stg_name : name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, staging ? "temp" : d->dataset, -1, SQLITE_STATIC);
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *col = (const char *)sqlite3_column_text(st, 0);
        if (!col) {
            rc = sl_nomem(d->ctx);
            goto fail;
        }
        rc = kt_add(d, kt, col);
        if (rc)
            goto fail;
        kt->exists = 1;
    }
    if (r != SQLITE_DONE) {
        rc = sl_sqlite_fail(d->ctx, d->db, "read the columns of table %s", name);
        goto fail;
    }
    sqlite3_finalize(st);
    sl_free(stg_name);
    d->tabs[d->ntabs++] = kt;
    *out = kt;
    return SLUICE_OK;
fail:
    sqlite3_finalize(st);
    sl_free(stg_name);
    kt_free(kt);
    return rc;
}

/* ---- tables ------------------------------------------------------------------------------ */

/* The column type dlt's SQLAlchemy destination declares on SQLite (its type mapper compiled by
 * SQLAlchemy's SQLite dialect), so dlt reflects the same types it would have created. Text
 * columns with the unique hint (_dlt_id) are VARCHAR(128), as dlt sizes them. */
static const char *sql_type(const struct sl_column *c)
{
    switch (c->type) {
    case SL_DT_BIGINT:
        return "BIGINT";
    case SL_DT_DOUBLE:
        return "DOUBLE";
    case SL_DT_BOOL:
        return "BOOLEAN";
    case SL_DT_TIMESTAMP:
        return "DATETIME";
    case SL_DT_DATE:
        return "DATE";
    case SL_DT_TIME:
        return "TIME";
    case SL_DT_JSON:
        return "JSON";
    case SL_DT_DECIMAL:
        return "NUMERIC(38, 9)";
    case SL_DT_BINARY:
        return "BLOB";
    default:
        return (c->hints & SL_HINT_UNIQUE) ? "VARCHAR(128)" : "TEXT";
    }
}

/* CREATE INDEX IF NOT EXISTS for one index, named by sl_sql_index_name (IDX_NAME_MAX). */
static void index_ddl(struct sl_sql *q, const void *ud, const char *table,
                      const char *const *cols, size_t n)
{
    const struct sl_dest *d = ud;
    struct sl_sql name;
    sl_sql_init(&name);
    sl_sql_index_name(&name, table, cols, n, IDX_NAME_MAX);
    sl_sql_put(q, "CREATE INDEX IF NOT EXISTS ");
    sl_sql_id(q, d->dataset);
    sl_sql_ch(q, '.');
    sl_sql_id(q, name.bad ? "" : name.b.data);
    sl_sql_put(q, " ON ");
    sl_sql_id(q, table);
    sl_sql_put(q, " (");
    for (size_t i = 0; i < n; i++) {
        if (i)
            sl_sql_put(q, ", ");
        sl_sql_id(q, cols[i]);
    }
    sl_sql_put(q, ");\n");
    if (name.bad)
        q->bad = 1;
    sl_sql_cleanup(&name);
}

/* The merge indexes of t (sql.c says which), created when they changed since the last look;
 * while they are deferred, only noted in kt->pending for build_deferred. */
static sluice_status ensure_indexes(struct sl_dest *d, const struct sl_table *t,
                                    struct known_table *kt)
{
    struct sl_sql q;
    sluice_status rc = SLUICE_OK;
    sl_sql_init(&q);
    if (sl_sql_merge_indexes(&q, t, index_ddl, d) != 0) {
        rc = sl_nomem(d->ctx);
        goto done;
    }
    if (q.b.len == 0 && !q.bad)
        goto done;
    const char *text = sl_sql_text(d->ctx, &q);
    if (!text) {
        rc = d->ctx->code;
        goto done;
    }
    if (kt->deferred) {
        char *copy = sl_strdup(text);
        if (!copy) {
            rc = sl_nomem(d->ctx);
            goto done;
        }
        sl_free(kt->pending);
        kt->pending = copy;
        goto done;
    }
    if (kt->index_sig && strcmp(kt->index_sig, text) == 0)
        goto done;
    rc = exec(d, text, "create the merge indexes");
    if (rc) {
        sl_fail_locate(d->ctx, t->resource, -1, NULL);
        goto done;
    }
    sl_free(kt->index_sig);
    kt->index_sig = sl_strdup(text);
    if (!kt->index_sig)
        rc = sl_nomem(d->ctx);
done:
    sl_sql_cleanup(&q);
    return rc;
}

/* DROP INDEX IF EXISTS for one merge index (index_ddl's name). */
static void drop_index_ddl(struct sl_sql *q, const void *ud, const char *table,
                           const char *const *cols, size_t n)
{
    const struct sl_dest *d = ud;
    struct sl_sql name;
    sl_sql_init(&name);
    sl_sql_index_name(&name, table, cols, n, IDX_NAME_MAX);
    sl_sql_put(q, "DROP INDEX IF EXISTS ");
    sl_sql_id(q, d->dataset);
    sl_sql_ch(q, '.');
    sl_sql_id(q, name.bad ? "" : name.b.data);
    sl_sql_put(q, ";\n");
    if (name.bad)
        q->bad = 1;
    sl_sql_cleanup(&name);
}

/* A table that was empty before the open transaction and that rows now fill: drop its merge
 * indexes until build_deferred (xMergeDirectClean, or the commit) builds them over all its
 * rows. With root_key, the index on a nested table's _dlt_root_id (random ids) took each row
 * to a random leaf: past SQLite's page cache every row read and wrote pages of the journaled
 * file (1M items: ~0.95M pwrite + ~0.9M pread, 4.5 s of system time, growing with the table). */
static sluice_status defer_indexes(struct sl_dest *d, const struct sl_table *t,
                                   struct known_table *kt)
{
    struct sl_sql q;
    sluice_status rc = SLUICE_OK;
    if (kt->deferred)
        return SLUICE_OK;
    sl_sql_init(&q);
    if (sl_sql_merge_indexes(&q, t, drop_index_ddl, d) != 0)
        rc = sl_nomem(d->ctx);
    const char *text = rc == SLUICE_OK && q.b.len ? sl_sql_text(d->ctx, &q) : NULL;
    if (rc == SLUICE_OK && q.b.len && !text)
        rc = d->ctx->code;
    if (text)
        rc = exec(d, text, "drop the indexes of an empty table until it is filled");
    if (rc == SLUICE_OK) {
        kt->deferred = 1;
        sl_free(kt->index_sig);
        kt->index_sig = NULL;
        rc = ensure_indexes(d, t, kt); /* notes them in kt->pending */
    }
    sl_sql_cleanup(&q);
    return rc;
}

/* Build the indexes defer_indexes dropped (kt->pending), over all the rows now in the table. */
static sluice_status build_deferred(struct sl_dest *d, struct known_table *kt)
{
    if (!kt->deferred)
        return SLUICE_OK;
    kt->deferred = 0;
    if (!kt->pending)
        return SLUICE_OK;
    sluice_status rc = exec(d, kt->pending, "build the indexes of a filled table");
    if (rc == SLUICE_OK) {
        sl_free(kt->index_sig);
        kt->index_sig = kt->pending;
        kt->pending = NULL;
    }
    return rc;
}

/* Create t (or its staging copy) or add the typed columns it lacks; index merge tables. */
static sluice_status sync_table(struct sl_dest *d, const struct sl_table *t, int staging,
                                struct known_table **out)
{
    struct known_table *kt = NULL;
    struct sl_sql q;
    sluice_status rc;
    sl_sql_init(&q);
    rc = kt_get(d, t->name, staging, &kt);
    if (rc)
        goto done;
    if (staging && sl_table_col(t, ITEM_COL) >= 0) {
        rc = sl_fail_at(d->ctx, SLUICE_ERR_DATA_SCHEMA, t->resource, -1, ITEM_COL,
                        "column name %s of merge table %s is reserved by sluice", ITEM_COL,
                        t->name);
        goto done;
    }
    if (!kt->exists) {
        size_t ntyped = 0;
        sl_sql_put(&q, staging ? "CREATE TEMP TABLE " : "CREATE TABLE IF NOT EXISTS ");
        if (staging)
            sl_sql_id2(&q, STG_PREFIX, t->name);
        else
            sq_table(&q, d, t->name, 0);
        sl_sql_put(&q, " (");
        for (size_t i = 0; i < t->ncols; i++) {
            const struct sl_column *c = &t->cols[i];
            if (c->type == SL_DT_NONE)
                continue;
            if (ntyped++)
                sl_sql_put(&q, ", ");
            sl_sql_id(&q, c->name);
            sl_sql_ch(&q, ' ');
            sl_sql_put(&q, sql_type(c));
            if (!c->nullable && !staging)
                sl_sql_put(&q, " NOT NULL");
        }
        if (staging)
            sl_sql_put(&q, ", \"" ITEM_COL "\" INTEGER");
        sl_sql_put(&q, ")");
        if (ntyped == 0)
            goto done; /* nothing typed yet: created once a column has a type */
        const char *text = sl_sql_text(d->ctx, &q);
        if (!text) {
            rc = d->ctx->code;
            goto done;
        }
        if (sqlite3_exec(d->db, text, NULL, NULL, NULL) != SQLITE_OK) {
            rc = sl_sqlite_fail(d->ctx, d->db, "create table %s", t->name);
            goto done;
        }
        kt->exists = 1;
        kt->created = !staging && d->in_txn;
        if (staging)
            rc = kt_add(d, kt, ITEM_COL);
        for (size_t i = 0; i < t->ncols && rc == SLUICE_OK; i++) {
            if (t->cols[i].type != SL_DT_NONE && !kt_has(kt, t->cols[i].name))
                rc = kt_add(d, kt, t->cols[i].name);
        }
        if (rc)
            goto done;
    } else {
        for (size_t i = 0; i < t->ncols; i++) {
            const struct sl_column *c = &t->cols[i];
            if (c->type == SL_DT_NONE || kt_has(kt, c->name))
                continue;
            sl_sql_reset(&q);
            sl_sql_put(&q, "ALTER TABLE ");
            sq_table(&q, d, t->name, staging);
            sl_sql_put(&q, " ADD COLUMN ");
            sl_sql_id(&q, c->name);
            sl_sql_ch(&q, ' ');
            sl_sql_put(&q, sql_type(c));
            const char *text = sl_sql_text(d->ctx, &q);
            if (!text) {
                rc = d->ctx->code;
                goto done;
            }
            if (sqlite3_exec(d->db, text, NULL, NULL, NULL) != SQLITE_OK) {
                rc = sl_sqlite_fail(d->ctx, d->db, "add column %s to table %s", c->name,
                                    t->name);
                sl_fail_locate(d->ctx, t->resource, -1, c->name);
                goto done;
            }
            rc = kt_add(d, kt, c->name);
            if (rc)
                goto done;
        }
    }
    if (!staging)
        rc = ensure_indexes(d, t, kt);
done:
    sl_sql_cleanup(&q);
    if (out)
        *out = rc ? NULL : kt;
    return rc;
}

static sluice_status sqlite_sync_table(struct sl_dest *d, const struct sl_table *t)
{
    return sync_table(d, t, 0, NULL);
}

/* ---- net effects ------------------------------------------------------------------------- */

static sluice_status sqlite_effects(struct sl_dest *d, sl_effect_fn fn, void *ud)
{
    return sl_effects_each(&d->fx, d->ctx, fn, ud);
}

/* One integer from a query (count(*)); *out 0 when it returns no row. */
static sluice_status query_int(struct sl_dest *d, const char *sql, const char *what,
                               int64_t *out)
{
    sqlite3_stmt *st = NULL;
    *out = 0;
    sluice_status rc = prepare(d, sql, &st, what);
    if (rc)
        return rc;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else if (r != SQLITE_DONE)
        rc = sl_sqlite_fail(d->ctx, d->db, "%s", what);
    sqlite3_finalize(st);
    return rc;
}

/* Run "<verb><dataset table>"; what names the statement in an error ("truncate table"). */
static sluice_status exec_on_table(struct sl_dest *d, const char *verb, const char *table,
                                   const char *what)
{
    struct sl_sql q;
    sluice_status rc = SLUICE_OK;
    sl_sql_init(&q);
    sl_sql_put(&q, verb);
    sq_table(&q, d, table, 0);
    const char *text = sl_sql_text(d->ctx, &q);
    if (!text)
        rc = d->ctx->code;
    else if (sqlite3_exec(d->db, text, NULL, NULL, NULL) != SQLITE_OK)
        rc = sl_sqlite_fail(d->ctx, d->db, "%s %s", what, table);
    sl_sql_cleanup(&q);
    return rc;
}

static sluice_status sqlite_truncate(struct sl_dest *d, const char *table)
{
    int exists = 0;
    sluice_status rc = table_exists(d, d->dataset, table, &exists);
    if (rc || !exists)
        return rc;
    rc = exec_on_table(d, "DELETE FROM ", table, "truncate table");
    if (rc == SLUICE_OK)
        sl_effects_add(&d->fx, table, 0, 0, sqlite3_changes64(d->db));
    return rc;
}

static sluice_status sqlite_drop_table(struct sl_dest *d, const char *table)
{
    int exists = 0;
    sluice_status rc = table_exists(d, d->dataset, table, &exists);
    if (rc == SLUICE_OK && exists) {
        /* its rows are a deletion in the run's net effect */
        struct sl_sql q;
        int64_t n = 0;
        sl_sql_init(&q);
        sl_sql_put(&q, "SELECT count(*) FROM ");
        sq_table(&q, d, table, 0);
        const char *count = sl_sql_text(d->ctx, &q);
        rc = count ? query_int(d, count, "count the rows of a table to drop", &n)
                   : d->ctx->code;
        sl_sql_cleanup(&q);
        if (rc == SLUICE_OK)
            sl_effects_add(&d->fx, table, 0, 0, n);
    }
    if (rc == SLUICE_OK)
        rc = exec_on_table(d, "DROP TABLE IF EXISTS ", table, "drop table");
    for (size_t i = 0; i < d->ntabs; i++) {
        if (!d->tabs[i]->staging && sqlite3_stricmp(d->tabs[i]->name, table) == 0) {
            kt_remove_at(d, i);
            break;
        }
    }
    return rc;
}

/* ---- time text --------------------------------------------------------------------------- */

enum { FMT_NONE = 0, FMT_TIMESTAMP, FMT_TIME };
#define INS_TEXT_SIZE 32 /* "YYYY-MM-DD HH:MM:SS.ffffff" and its NUL */

static int is_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/*
 * The text dlt's SQLAlchemy destination stores for a timestamp or a time on SQLite (SQLAlchemy's
 * SQLite DATETIME/TIME storage formats): "YYYY-MM-DD HH:MM:SS.ffffff" in UTC and
 * "HH:MM:SS.ffffff", always six fraction digits (longer fractions are cut, as a datetime holds
 * microseconds). s is the normalizer's form: "YYYY-MM-DDTHH:MM:SS[.f]Z" (UTC) or
 * "HH:MM:SS[.f]". Returns the length of the text put in out (NUL-terminated), 0 when s has
 * another shape (bound unchanged).
 */
static int dlt_time_text(const char *s, size_t len, int fmt, char *out, size_t outsz)
{
    size_t p = 0;
    char date[11] = "";
    if (fmt == FMT_TIMESTAMP) {
        if (len < 20 || s[len - 1] != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
            !is_digits(s, 4) || !is_digits(s + 5, 2) || !is_digits(s + 8, 2))
            return 0;
        memcpy(date, s, 10);
        p = 11;
        len--; /* the Z */
    }
    if (len < p + 8 || s[p + 2] != ':' || s[p + 5] != ':' || !is_digits(s + p, 2) ||
        !is_digits(s + p + 3, 2) || !is_digits(s + p + 6, 2))
        return 0;
    char frac[7] = "000000";
    size_t f = p + 8;
    if (f < len) {
        if (s[f] != '.' || f + 1 >= len || !is_digits(s + f + 1, len - f - 1))
            return 0;
        size_t n = len - f - 1;
        memcpy(frac, s + f + 1, n < 6 ? n : 6);
    }
    /* built by hand: snprintf here was ~5% of the load thread of a 1M-item append */
    size_t n = (p ? 11 : 0) + 8 + 1 + 6;
    if (n >= outsz)
        return 0;
    char *o = out;
    if (p) {
        memcpy(o, date, 10);
        o[10] = ' ';
        o += 11;
    }
    memcpy(o, s + p, 8);
    o[8] = '.';
    memcpy(o + 9, frac, 6);
    o[15] = '\0';
    return (int)n;
}

/* ---- bulk insert ------------------------------------------------------------------------- */

/* Build (or reuse) kt's INSERT for the current shape of t. */
static sluice_status prepare_insert(struct sl_dest *d, const struct sl_table *t,
                                    struct known_table *kt)
{
    struct sl_sql q;
    sluice_status rc = SLUICE_OK;
    size_t ntyped = 0;
    for (size_t i = 0; i < t->ncols; i++)
        ntyped += t->cols[i].type != SL_DT_NONE;
    if (kt->insert && kt->ins_tcols == t->ncols && kt->ins_typed == ntyped)
        return SLUICE_OK;
    if (ntyped == 0)
        return sl_fail(d->ctx, SLUICE_ERR_INTERNAL, "table %s has no typed column to insert",
                       t->name);
    sqlite3_finalize(kt->insert);
    kt->insert = NULL;
    sl_free(kt->ins_param);
    sl_free(kt->ins_fmt);
    sl_free(kt->ins_text);
    kt->ins_text = NULL;
    kt->ins_param = sl_calloc(t->ncols, sizeof(int));
    kt->ins_fmt = sl_calloc(t->ncols + 1, 1);
    if (!kt->ins_param || !kt->ins_fmt)
        return sl_nomem(d->ctx);
    sl_sql_init(&q);
    sl_sql_put(&q, "INSERT INTO ");
    sq_table(&q, d, t->name, kt->staging);
    sl_sql_put(&q, " (");
    int p = 0;
    for (size_t i = 0; i < t->ncols; i++) {
        if (t->cols[i].type == SL_DT_NONE)
            continue;
        if (p)
            sl_sql_put(&q, ", ");
        sl_sql_id(&q, t->cols[i].name);
        kt->ins_param[i] = ++p;
        kt->ins_fmt[i] = t->cols[i].type == SL_DT_TIMESTAMP ? FMT_TIMESTAMP
                         : t->cols[i].type == SL_DT_TIME    ? FMT_TIME
                                                            : FMT_NONE;
        if (kt->ins_fmt[i] != FMT_NONE && !kt->ins_text) {
            kt->ins_text = sl_malloc(t->ncols * INS_TEXT_SIZE);
            if (!kt->ins_text) {
                sl_sql_cleanup(&q);
                return sl_nomem(d->ctx);
            }
        }
    }
    kt->ins_item = 0;
    if (kt->staging) {
        sl_sql_put(&q, ", \"" ITEM_COL "\"");
        kt->ins_item = ++p;
    }
    sl_sql_put(&q, ") VALUES (");
    for (int i = 0; i < p; i++)
        sl_sql_put(&q, i ? ", ?" : "?");
    sl_sql_put(&q, ")");
    const char *text = sl_sql_text(d->ctx, &q);
    if (!text) {
        rc = d->ctx->code;
        goto done;
    }
    if (sqlite3_prepare_v3(d->db, text, -1, SQLITE_PREPARE_PERSISTENT, &kt->insert, NULL) !=
        SQLITE_OK) {
        sqlite3_finalize(kt->insert);
        kt->insert = NULL;
        rc = sl_sqlite_fail(d->ctx, d->db, "prepare the insert into table %s", t->name);
        goto done;
    }
    kt->ins_tcols = t->ncols;
    kt->ins_typed = ntyped;
done:
    sl_sql_cleanup(&q);
    return rc;
}

static sluice_status sqlite_insert_begin(struct sl_dest *d, const struct sl_table *t,
                                         int staging)
{
    struct known_table *kt = NULL;
    if (d->ins)
        return sl_fail(d->ctx, SLUICE_ERR_INTERNAL, "an insert into %s is already open",
                       d->ins->name);
    sluice_status rc = sync_table(d, t, staging == SL_INSERT_STAGING, &kt);
    if (rc == SLUICE_OK && kt->exists &&
        (staging == SL_INSERT_FIRST_MERGE || (staging == SL_INSERT_FINAL && kt->created)))
        rc = defer_indexes(d, t, kt);
    if (rc)
        return rc;
    rc = prepare_insert(d, t, kt);
    if (rc)
        return rc;
    d->ins = kt;
    d->ins_ncols = t->ncols;
    return SLUICE_OK;
}

/*
 * Values are only valid during this call; they are bound SQLITE_STATIC all the same because
 * every parameter is re-bound before each step and the statement is reset right after it,
 * so SQLite never reads a stale pointer (and no copy is made per value).
 */
static sluice_status sqlite_insert_row(struct sl_dest *d, const struct sl_value *vals,
                                       size_t nvals, int64_t item)
{
    struct known_table *kt = d->ins;
    if (!kt)
        return sl_fail(d->ctx, SLUICE_ERR_INTERNAL, "xInsertRow without xInsertBegin");
    if (nvals > d->ins_ncols)
        return sl_fail(d->ctx, SLUICE_ERR_INTERNAL,
                       "row for table %s has %zu values, the insert was opened for %zu columns",
                       kt->name, nvals, d->ins_ncols);
    sqlite3_stmt *st = kt->insert;
    int brc = SQLITE_OK;
    for (size_t i = 0; i < d->ins_ncols && brc == SQLITE_OK; i++) {
        int p = kt->ins_param[i];
        const struct sl_value *v = i < nvals ? &vals[i] : NULL;
        if (p == 0) {
            if (v && v->kind != SL_V_NULL)
                return sl_fail(d->ctx, SLUICE_ERR_INTERNAL,
                               "value for column %zu of table %s, which has no type", i,
                               kt->name);
            continue;
        }
        if (!v) {
            brc = sqlite3_bind_null(st, p);
            continue;
        }
        switch (v->kind) {
        case SL_V_INT:
            brc = sqlite3_bind_int64(st, p, v->u.i);
            break;
        case SL_V_DOUBLE:
            brc = sqlite3_bind_double(st, p, v->u.d);
            break;
        case SL_V_BOOL:
            brc = sqlite3_bind_int(st, p, v->u.i != 0);
            break;
        case SL_V_TEXT: {
            /* the reformatted text lives in kt->ins_text until the step: no copy by SQLite */
            char *fmt = kt->ins_text + i * INS_TEXT_SIZE;
            int fl = kt->ins_fmt[i] != FMT_NONE
                         ? dlt_time_text(v->u.s, v->len, kt->ins_fmt[i], fmt, INS_TEXT_SIZE)
                         : 0;
            if (fl > 0)
                brc = sqlite3_bind_text(st, p, fmt, fl, SQLITE_STATIC);
            else
                brc = sqlite3_bind_text64(st, p, v->u.s, v->len, SQLITE_STATIC, SQLITE_UTF8);
            break;
        }
        default:
            brc = sqlite3_bind_null(st, p);
            break;
        }
    }
    if (brc == SQLITE_OK && kt->ins_item)
        brc = sqlite3_bind_int64(st, kt->ins_item, item);
    if (brc != SQLITE_OK)
        return sl_sqlite_fail(d->ctx, d->db, "bind a value for table %s", kt->name);
    int r = sqlite3_step(st);
    sluice_status rc = SLUICE_OK;
    if (r != SQLITE_DONE)
        rc = sl_sqlite_fail(d->ctx, d->db, "insert into table %s", kt->name);
    sqlite3_reset(st);
    return rc;
}

static sluice_status sqlite_insert_end(struct sl_dest *d)
{
    if (d->ins && d->ins->insert)
        sqlite3_reset(d->ins->insert);
    d->ins = NULL;
    d->ins_ncols = 0;
    return SLUICE_OK;
}

/* ---- merge ------------------------------------------------------------------------------- */

/* A name for the rowid of a staging table that no column shadows. */
static const char *rowid_alias(const struct known_table *kt)
{
    static const char *const names[] = {"rowid", "_rowid_", "oid"};
    for (size_t i = 0; i < 3; i++) {
        if (!kt_has(kt, names[i]))
            return names[i];
    }
    return NULL;
}

/*
 * Log the plan of a merge statement (debug level, only with a log callback or in test
 * builds). When scan_d is set, the statement must reach the destination table (alias d)
 * through an index; a full scan is an error in SLUICE_TESTING builds.
 */
static sluice_status explain(struct sl_dest *d, const char *sql, int scan_d)
{
#ifndef SLUICE_TESTING
    if (!d->ctx->log_fn)
        return SLUICE_OK;
#endif
    sqlite3_stmt *st = NULL;
    struct sl_sql q;
    sluice_status rc = SLUICE_OK;
    int scanned = 0;
    sl_sql_init(&q);
    sl_sql_put(&q, "EXPLAIN QUERY PLAN ");
    sl_sql_put(&q, sql);
    const char *text = sl_sql_text(d->ctx, &q);
    if (!text) {
        rc = d->ctx->code;
        goto done;
    }
    rc = prepare(d, text, &st, "explain a merge statement");
    if (rc)
        goto done;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *detail = (const char *)sqlite3_column_text(st, 3);
        if (!detail)
            continue;
        sl_log(d->ctx, SLUICE_LOG_DEBUG, "sqlite plan: %s", detail);
        if (strncmp(detail, "SCAN d", 6) == 0 && (detail[6] == '\0' || detail[6] == ' '))
            scanned = 1;
    }
#ifdef SLUICE_TESTING
    if (scan_d && scanned)
        rc = sl_fail(d->ctx, SLUICE_ERR_INTERNAL, "merge statement scans the destination: %s",
                     sql);
#else
    (void)scan_d;
    (void)scanned;
#endif
done:
    sqlite3_finalize(st);
    sl_sql_cleanup(&q);
    return rc;
}

/* ---- the shared merge (sql_merge.h) on SQLite -------------------------------------------- */

static void mg_table(struct sl_sql *q, void *ud, const char *name, int staging)
{
    sq_table(q, ud, name, staging);
}

static sluice_status mg_exec(void *ud, const char *sql, int scan_d, int nparams,
                             const char *const *params, int64_t *changes, const char *what)
{
    struct sl_dest *d = ud;
    sqlite3_stmt *st = NULL;
    sluice_status rc = explain(d, sql, scan_d);
    if (rc == SLUICE_OK && nparams == 0) {
        rc = exec(d, sql, what);
    } else if (rc == SLUICE_OK) {
        rc = prepare(d, sql, &st, what);
        for (int i = 0; rc == SLUICE_OK && i < nparams && i < sqlite3_bind_parameter_count(st);
             i++)
            if (bind_text(st, i + 1, params[i]))
                rc = sl_sqlite_fail(d->ctx, d->db, "%s", what);
        if (rc == SLUICE_OK)
            rc = step_done(d, st, what);
        sqlite3_finalize(st);
    }
    *changes = rc ? 0 : sqlite3_changes64(d->db);
    return rc;
}

static sluice_status mg_count(void *ud, const char *sql, int64_t *out, const char *what)
{
    return query_int(ud, sql, what, out);
}

static int mg_staged(void *ud, const char *name)
{
    struct known_table *kt = kt_find(ud, name, 1);
    return kt && kt->exists;
}

static sluice_status mg_exists(void *ud, const char *name, int *exists)
{
    struct sl_dest *d = ud;
    return table_exists(d, d->dataset, name, exists);
}

/* rowid under a name no column hides. */
static sluice_status mg_sync(void *ud, const struct sl_table *t, int staging, const char **rowid)
{
    struct sl_dest *d = ud;
    struct known_table *kt = NULL;
    sluice_status rc = sync_table(d, t, staging, rowid ? &kt : NULL);
    if (rc || !rowid)
        return rc;
    *rowid = rowid_alias(kt);
    if (!*rowid)
        return sl_fail(d->ctx, SLUICE_ERR_DATA_SCHEMA,
                       "table %s has columns named rowid, _rowid_ and oid", t->name);
    return SLUICE_OK;
}

static const struct sl_sql_merge_ops sqlite_merge_ops = {
    .table = mg_table,
    .id = sl_sql_id,
    .temp = "temp.",
    .true_lit = "1",
    .false_lit = "0",
    .rid_type = "INTEGER",
    .int_type = "INTEGER",
    .bool_type = "INTEGER",
    .key_join = "CROSS JOIN",
    .param = { "?1", "?2" },
    .exec = mg_exec,
    .count = mg_count,
    .staged = mg_staged,
    .exists = mg_exists,
    .sync = mg_sync,
};

/* scd2's boundary and active marker as dlt's SQLAlchemy merge writes them on SQLite: the
 * boundary as its timestamp text (UTC, no offset), the active marker with "+00:00" (dlt formats
 * it as an aware datetime), so each tool finds and retires the other's active versions. m's
 * canonical "...Z" texts go into spec's copies in bound and active. */
static sluice_status scd2_texts(struct sl_dest *d, const struct sl_merge_spec *m,
                                struct sl_merge_spec *spec, char *bound, size_t nbound,
                                char *active, size_t nactive)
{
    *spec = *m;
    if (m->strategy != SL_MERGE_SCD2)
        return SLUICE_OK;
    int ok = m->boundary && dlt_time_text(m->boundary, strlen(m->boundary), FMT_TIMESTAMP,
                                          bound, nbound);
    if (ok && m->active) {
        ok = dlt_time_text(m->active, strlen(m->active), FMT_TIMESTAMP, active, nactive - 6);
        if (ok)
            strcat(active, "+00:00");
    }
    if (!ok)
        return sl_fail(d->ctx, SLUICE_ERR_INTERNAL, "scd2 table %s: boundary '%s' or active "
                       "timestamp '%s' is not canonical UTC text", m->root->name,
                       m->boundary ? m->boundary : "", m->active ? m->active : "");
    spec->boundary = bound;
    spec->active = m->active ? active : NULL;
    return SLUICE_OK;
}

static sluice_status sqlite_merge(struct sl_dest *d, const struct sl_merge_spec *m0)
{
    struct sl_merge_spec spec;
    char bound[48], active[56];
    sluice_status rc = scd2_texts(d, m0, &spec, bound, sizeof(bound), active, sizeof(active));
    if (rc)
        return rc;
    return sl_sql_merge(&sqlite_merge_ops, d, &d->fx, d->ctx, &spec);
}
/* ---- the fast first merge (destination.h) ------------------------------------------------ */

static sluice_status sqlite_is_empty(struct sl_dest *d, const char *table, int *empty)
{
    return sl_sql_merge_is_empty(&sqlite_merge_ops, d, d->ctx, table, empty);
}

static sluice_status sqlite_merge_direct_clean(struct sl_dest *d, const struct sl_merge_spec *m,
                                               int *clean)
{
    sluice_status rc = SLUICE_OK;
    *clean = 0;
    /* the indexes dropped while the rows went in are built now, whatever the answer */
    for (size_t i = 0; i <= m->nchildren && rc == SLUICE_OK; i++) {
        const struct sl_table *t = i ? m->children[i - 1] : m->root;
        struct known_table *kt = kt_find(d, t->name, 0);
        if (kt)
            rc = build_deferred(d, kt);
    }
    return rc ? rc : sl_sql_merge_direct_clean(&sqlite_merge_ops, d, d->ctx, m, clean);
}

/* ---- transactions ------------------------------------------------------------------------ */

static sluice_status schema_cookie(struct sl_dest *d, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    struct sl_sql q;
    sluice_status rc = SLUICE_OK;
    sl_sql_init(&q);
    sl_sql_put(&q, "PRAGMA ");
    sl_sql_id(&q, d->dataset);
    sl_sql_put(&q, ".schema_version");
    const char *text = sl_sql_text(d->ctx, &q);
    rc = text ? prepare(d, text, &st, "read the schema version") : d->ctx->code;
    if (rc == SLUICE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            *out = sqlite3_column_int64(st, 0);
        else
            rc = sl_sqlite_fail(d->ctx, d->db, "read the schema version");
    }
    sqlite3_finalize(st);
    sl_sql_cleanup(&q);
    return rc;
}

static void sqlite_rollback(struct sl_dest *d)
{
    if (!d)
        return;
    sqlite_insert_end(d);
    if (!sqlite3_get_autocommit(d->db))
        sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
    cache_clear(d, 0);
    sl_effects_clear(&d->fx);
    d->cookie = -1;
    d->in_txn = 0;
}

/*
 * The system tables as dlt's SQLAlchemy destination creates them (column order and types).
 * On _dlt_pipeline_state, an index on (pipeline_name, version) and a trigger that refuses a
 * state whose version is already written with another content: a second, different
 * "version N" cannot be committed, whoever writes it (the compare-and-swap of load.c is the
 * first guard; this one holds against any writer, dlt included). The same state written
 * again (dlt re-extracts an unchanged state after a restore or a drop) stays allowed, which
 * is why this is a trigger and not a unique index. Rows already in the table are not checked.
 */
/* dlt's system tables on SQLite (below) */
static const struct sl_systables sq_systables;

static sluice_status create_system_tables(struct sl_dest *d)
{
    static const char *const ddl[] = {
        "INDEX IF NOT EXISTS %s.\"_dlt_pipeline_state__version__idx\" ON "
        "\"_dlt_pipeline_state\" (\"pipeline_name\", \"version\")",
        "TRIGGER IF NOT EXISTS %s.\"_dlt_pipeline_state__one_state_per_version\" BEFORE INSERT "
        "ON \"_dlt_pipeline_state\" WHEN EXISTS (SELECT 1 FROM \"_dlt_pipeline_state\" AS o "
        "WHERE o.\"pipeline_name\" = NEW.\"pipeline_name\" AND o.\"version\" = NEW.\"version\" "
        "AND o.\"version_hash\" IS NOT NEW.\"version_hash\") BEGIN SELECT RAISE(ABORT, "
        "'a different pipeline state with this version was already committed (another process "
        "loaded in between)'); END",
    };
    struct sl_sql q;
    sluice_status rc = SLUICE_OK;
    sl_sql_init(&q);
    for (size_t i = 0; i < SL_SYS_TABLES; i++) {
        sl_sql_put(&q, "CREATE TABLE IF NOT EXISTS ");
        sq_table(&q, d, sl_sys_table_name(i), 0);
        sl_sys_columns(&q, &sq_systables, i);
        sl_sql_put(&q, ";\n");
    }
    for (size_t i = 0; i < sizeof(ddl) / sizeof(ddl[0]); i++) {
        const char *at = strstr(ddl[i], "%s");
        sl_sql_put(&q, "CREATE ");
        sl_sql_putn(&q, ddl[i], (size_t)(at - ddl[i]));
        sl_sql_id(&q, d->dataset);
        sl_sql_put(&q, at + 2);
        sl_sql_put(&q, ";\n");
    }
    const char *text = sl_sql_text(d->ctx, &q);
    rc = text ? exec(d, text, "create the system tables") : d->ctx->code;
    sl_sql_cleanup(&q);
    return rc;
}

static sluice_status sqlite_begin(struct sl_dest *d)
{
    int64_t cookie = -1;
    if (d->in_txn)
        return sl_fail(d->ctx, SLUICE_ERR_INTERNAL, "a transaction is already open");
    if (sqlite3_exec(d->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return sqlite_fail_or_busy(d, "begin a transaction on");
    d->in_txn = 1;
    sl_effects_clear(&d->fx);
    sluice_status rc = schema_cookie(d, &cookie);
    if (rc)
        goto fail;
    if (cookie != d->cookie)
        cache_clear(d, 0); /* someone else changed the dataset since our last commit */
    rc = create_system_tables(d);
    if (rc)
        goto fail;
    return SLUICE_OK;
fail:
    sqlite_rollback(d);
    return rc;
}

static sluice_status sqlite_commit(struct sl_dest *d)
{
    int64_t cookie = -1;
    struct sl_sql q;
    sluice_status rc = SLUICE_OK;
    if (!d->in_txn)
        return sl_fail(d->ctx, SLUICE_ERR_INTERNAL, "commit without a transaction");
    sqlite_insert_end(d);
    sl_sql_init(&q);
    for (size_t i = 0; i < d->ntabs; i++) {
        rc = build_deferred(d, d->tabs[i]);
        if (rc)
            goto fail;
        d->tabs[i]->created = 0;
        if (!d->tabs[i]->staging || !d->tabs[i]->exists)
            continue;
        sl_sql_put(&q, "DROP TABLE IF EXISTS ");
        sq_table(&q, d, d->tabs[i]->name, 1);
        sl_sql_put(&q, ";\n");
    }
    cache_clear(d, 1);
    if (q.b.len || q.bad) {
        const char *text = sl_sql_text(d->ctx, &q);
        rc = text ? exec(d, text, "drop the staging tables") : d->ctx->code;
        if (rc)
            goto fail;
    }
    /* read under our write lock: the cookie our cache matches */
    rc = schema_cookie(d, &cookie);
    if (rc)
        goto fail;
    if (sqlite3_exec(d->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = sqlite_fail_or_busy(d, "commit to");
        goto fail;
    }
    d->in_txn = 0;
    d->cookie = cookie;
    sl_sql_cleanup(&q);
    return SLUICE_OK;
fail:
    sl_sql_cleanup(&q);
    sqlite_rollback(d);
    return rc;
}

/* ---- system tables (systables.h) --------------------------------------------------------- */

static void sys_table(struct sl_sql *q, void *ud, const char *name)
{
    sq_table(q, ud, name, 0);
}

static void sys_param(struct sl_sql *q, int n, enum sl_sys_type t)
{
    char p[16];
    (void)t;
    snprintf(p, sizeof(p), "?%d", n);
    sl_sql_put(q, p);
}

static sluice_status sys_have(void *ud, const char *name, int *have)
{
    struct sl_dest *d = ud;
    return table_exists(d, d->dataset, name, have);
}

/* Times are stored as the text dlt's SQLAlchemy destination writes (dlt_time_text); each
 * row's values as SQLite's text of them. */
static sluice_status sys_run(void *ud, const char *sql, const struct sl_sys_param *p, int np,
                             sl_sys_row_fn fn, void *fud, const char *what)
{
    struct sl_dest *d = ud;
    sqlite3_stmt *st = NULL;
    sluice_status rc = prepare(d, sql, &st, what);
    for (int i = 0; rc == SLUICE_OK && i < np; i++) {
        char tt[40];
        const char *v = p[i].text;
        if (p[i].type == SL_SYS_INT) {
            sqlite3_bind_int64(st, i + 1, p[i].i);
            continue;
        }
        if (p[i].type == SL_SYS_TIME && v &&
            dlt_time_text(v, strlen(v), FMT_TIMESTAMP, tt, sizeof(tt)))
            v = tt;
        bind_text(st, i + 1, v);
    }
    int r = rc == SLUICE_OK ? sqlite3_step(st) : SQLITE_DONE;
    int ncols = rc == SLUICE_OK ? sqlite3_column_count(st) : 0;
    if (ncols > 8)
        rc = sl_fail(d->ctx, SLUICE_ERR_INTERNAL, "%s: too many columns", what);
    for (; rc == SLUICE_OK && r == SQLITE_ROW; r = sqlite3_step(st)) {
        const char *vals[8];
        int bad = 0;
        for (int c = 0; c < ncols; c++) {
            vals[c] = sqlite3_column_type(st, c) == SQLITE_NULL
                          ? NULL
                          : (const char *)sqlite3_column_text(st, c);
            bad |= sqlite3_column_type(st, c) != SQLITE_NULL && !vals[c];
        }
        if (bad || (fn && fn(fud, vals, (size_t)ncols)))
            rc = sl_nomem(d->ctx);
    }
    if (rc == SLUICE_OK && r != SQLITE_DONE)
        rc = sl_sqlite_fail(d->ctx, d->db, "%s", what);
    sqlite3_finalize(st);
    return rc;
}

/* Times as dlt's SQLite DATETIME text (state times read back as stored); load ids in REAL
 * order, which tells ids one microsecond apart (what load_id_above in run/pipeline.c needs),
 * ties within a microsecond to the longer, then larger text. */
static const struct sl_systables sq_systables = {
    .table = sys_table,
    .param = sys_param,
    .text_type = "TEXT",
    .load_id_type = "VARCHAR(64)",
    .dlt_id_type = "VARCHAR(128)",
    .int_type = "BIGINT",
    .time_type = "DATETIME",
    .newest_load = "CAST(\"load_id\" AS REAL) DESC, length(\"load_id\") DESC, "
                   "\"load_id\" DESC",
    .created_at = "s.\"created_at\"",
    .have = sys_have,
    .run = sys_run,
};

static sluice_status sqlite_load_exists(struct sl_dest *d, const char *load_id, int *exists)
{
    return sl_sys_load_exists(&sq_systables, d, d->ctx, load_id, exists);
}

static sluice_status sqlite_insert_load(struct sl_dest *d, const char *load_id,
                                        const char *schema_name,
                                        const char *schema_version_hash)
{
    return sl_sys_insert_load(&sq_systables, d, d->ctx, load_id, schema_name,
                              schema_version_hash);
}

static sluice_status sqlite_newest_load_id(struct sl_dest *d, char **out)
{
    return sl_sys_newest_load_id(&sq_systables, d, d->ctx, out);
}

/* Forget a schema's stored versions (tables were dropped: the history no longer applies). */
static sluice_status sqlite_delete_schema_versions(struct sl_dest *d, const char *schema_name)
{
    return sl_sys_delete_schema_versions(&sq_systables, d, d->ctx, schema_name);
}

static sluice_status sqlite_save_schema(struct sl_dest *d, const char *schema_name,
                                        int64_t version, const char *version_hash,
                                        const char *schema_json)
{
    return sl_sys_save_schema(&sq_systables, d, d->ctx, schema_name, version, version_hash,
                              schema_json);
}

static sluice_status sqlite_load_schema(struct sl_dest *d, const char *schema_name,
                                        char **json_out)
{
    return sl_sys_load_schema(&sq_systables, d, d->ctx, schema_name, json_out);
}

/* One state per version: the trigger (create_system_tables) refuses a second, different
 * state. */
static sluice_status sqlite_save_state(struct sl_dest *d, const struct sl_state_row *row)
{
    return sl_sys_save_state(&sq_systables, d, d->ctx, row);
}

static sluice_status sqlite_load_state(struct sl_dest *d, const char *pipeline,
                                       struct sl_state_row_owned *out, int *found)
{
    return sl_sys_load_state(&sq_systables, d, d->ctx, pipeline, out, found);
}

/* ---- inspection -------------------------------------------------------------------------- */

/* sl_strdup of a text column; NULL for SQL NULL; -1 when out of memory. */
static int dup_col(sqlite3_stmt *st, int i, char **out)
{
    *out = NULL;
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return 0;
    const char *s = (const char *)sqlite3_column_text(st, i);
    if (!s)
        return -1;
    *out = sl_strdup(s);
    return *out ? 0 : -1;
}

/* The type of column i's value in the current row: SQLite's storage class, and the declared
 * type of the column it comes from for json and booleans. */
static sluice_value_type value_type(sqlite3_stmt *st, int i)
{
    const char *decl = sqlite3_column_decltype(st, i);
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL:
        return SLUICE_VALUE_NULL;
    case SQLITE_INTEGER:
        return decl && sqlite3_stricmp(decl, "BOOLEAN") == 0 ? SLUICE_VALUE_BOOL
                                                              : SLUICE_VALUE_INTEGER;
    case SQLITE_FLOAT:
        return SLUICE_VALUE_REAL;
    case SQLITE_BLOB:
        return SLUICE_VALUE_BLOB;
    default:
        return decl && sqlite3_stricmp(decl, "JSON") == 0 ? SLUICE_VALUE_JSON
                                                           : SLUICE_VALUE_TEXT;
    }
}

/* Every statement of sql, one callback per row: fn (untyped) or tfn (typed). */
static sluice_status run_query(struct sl_dest *d, const char *sql, sluice_row_fn fn,
                               sluice_typed_row_fn tfn, void *ud)
{
    sqlite3_stmt *st = NULL;
    const char **names = NULL;
    const char **vals = NULL;
    sluice_value_type *types = NULL;
    const char *tail = sql;
    sluice_status rc = SLUICE_OK;
    int stop = 0;
    while (!stop && tail && *tail) {
        const char *next = NULL;
        if (sqlite3_prepare_v2(d->db, tail, -1, &st, &next) != SQLITE_OK) {
            rc = sl_sqlite_fail(d->ctx, d->db, "query");
            goto done;
        }
        tail = next;
        if (!st)
            continue; /* whitespace or a comment */
        int n = sqlite3_column_count(st);
        names = sl_calloc((size_t)n + 1, sizeof(char *));
        vals = sl_calloc((size_t)n + 1, sizeof(char *));
        types = sl_calloc((size_t)n + 1, sizeof(*types));
        if (!names || !vals || !types) {
            rc = sl_nomem(d->ctx);
            goto done;
        }
        for (int i = 0; i < n; i++)
            names[i] = sqlite3_column_name(st, i);
        int r;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
            for (int i = 0; i < n; i++) {
                vals[i] = NULL;
                types[i] = value_type(st, i);
                if (types[i] == SLUICE_VALUE_NULL)
                    continue;
                vals[i] = (const char *)sqlite3_column_text(st, i);
                if (!vals[i]) {
                    rc = sl_nomem(d->ctx);
                    goto done;
                }
            }
            int halt = tfn ? tfn(ud, n, names, vals, types) : fn ? fn(ud, n, names, vals) : 0;
            if (halt != 0) {
                stop = 1;
                break;
            }
        }
        if (!stop && r != SQLITE_DONE) {
            rc = sl_sqlite_fail(d->ctx, d->db, "query");
            goto done;
        }
        sqlite3_finalize(st);
        st = NULL;
        sl_free(names);
        sl_free(vals);
        sl_free(types);
        names = NULL;
        vals = NULL;
        types = NULL;
    }
done:
    sqlite3_finalize(st);
    sl_free(names);
    sl_free(vals);
    sl_free(types);
    return rc;
}

static sluice_status sqlite_query(struct sl_dest *d, const char *sql, sluice_row_fn fn, void *ud)
{
    return run_query(d, sql, fn, NULL, ud);
}

static sluice_status sqlite_query_typed(struct sl_dest *d, const char *sql,
                                        sluice_typed_row_fn fn, void *ud)
{
    return run_query(d, sql, NULL, fn, ud);
}

static sluice_status sqlite_list_tables(struct sl_dest *d, sl_table_list_fn fn, void *ud)
{
    sqlite3_stmt *st = NULL;
    struct sl_sql q;
    char **names = NULL;
    size_t n = 0, cap = 0;
    sluice_status rc = SLUICE_OK;
    sl_sql_init(&q);
    sl_sql_put(&q, "SELECT name FROM ");
    sl_sql_id(&q, d->dataset);
    sl_sql_put(&q, ".sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
           "ORDER BY name");
    const char *text = sl_sql_text(d->ctx, &q);
    rc = text ? prepare(d, text, &st, "list tables") : d->ctx->code;
    if (rc)
        goto done;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **p = sl_realloc(names, ncap * sizeof(char *));
            if (!p) {
                rc = sl_nomem(d->ctx);
                goto done;
            }
            names = p;
            cap = ncap;
        }
        if (dup_col(st, 0, &names[n]) || !names[n]) {
            rc = sl_nomem(d->ctx);
            goto done;
        }
        n++;
    }
    if (r != SQLITE_DONE) {
        rc = sl_sqlite_fail(d->ctx, d->db, "list tables");
        goto done;
    }
    sqlite3_finalize(st);
    st = NULL;
    for (size_t i = 0; i < n; i++) {
        sl_sql_reset(&q);
        sl_sql_put(&q, "SELECT count(*) FROM ");
        sq_table(&q, d, names[i], 0);
        text = sl_sql_text(d->ctx, &q);
        rc = text ? prepare(d, text, &st, "count rows") : d->ctx->code;
        if (rc)
            goto done;
        int64_t rows = 0;
        if (sqlite3_step(st) == SQLITE_ROW) {
            rows = sqlite3_column_int64(st, 0);
        } else {
            rc = sl_sqlite_fail(d->ctx, d->db, "count the rows of table %s", names[i]);
            goto done;
        }
        sqlite3_finalize(st);
        st = NULL;
        rc = fn(ud, names[i], rows);
        if (rc)
            goto done;
    }
done:
    sqlite3_finalize(st);
    for (size_t i = 0; i < n; i++)
        sl_free(names[i]);
    sl_free(names);
    sl_sql_cleanup(&q);
    return rc;
}

/* ---- open / close ------------------------------------------------------------------------ */

/* <dir of main><stem of main>__<dataset><suffix of main> (dlt's name: out.sqlite ->
 * out__ds.sqlite), or ":memory:" for an in-memory main. */
static sluice_status dataset_path(struct sl_dest *d, char **out)
{
    struct sl_sql q;
    *out = NULL;
    if (strcmp(d->main_path, ":memory:") == 0) {
        *out = sl_strdup(":memory:");
        return *out ? SLUICE_OK : sl_nomem(d->ctx);
    }
    const char *slash = strrchr(d->main_path, '/');
    size_t dir_len = slash ? (size_t)(slash - d->main_path) + 1 : 0;
    const char *base = d->main_path + dir_len;
    /* Python's PurePath stem and suffix, as dlt names the file: the suffix starts at the last
     * dot unless that dot begins or ends the name */
    const char *dot = strrchr(base, '.');
    if (dot && (dot == base || dot[1] == '\0'))
        dot = NULL;
    size_t stem_len = dot ? (size_t)(dot - base) : strlen(base);
    sl_sql_init(&q);
    sl_sql_putn(&q, d->main_path, dir_len);
    sl_sql_putn(&q, base, stem_len);
    sl_sql_put(&q, "__");
    sl_sql_put(&q, d->dataset);
    if (dot)
        sl_sql_put(&q, dot);
    if (sl_sql_text(d->ctx, &q))
        *out = sl_buf_take(&q.b);
    sl_sql_cleanup(&q);
    return *out ? SLUICE_OK : d->ctx->code;
}

static void sqlite_close(struct sl_dest *d)
{
    if (!d)
        return;
    if (d->db) {
        sqlite_rollback(d);
        cache_clear(d, 0);
        sqlite3_close_v2(d->db);
    }
    sl_effects_free(&d->fx);
    sl_free(d->tabs);
    sl_free(d->dataset);
    sl_free(d->main_path);
    sl_free(d->ds_path);
    sl_free(d);
}

static sluice_status sqlite_open(struct sl_ctx *ctx, const struct sl_dest_config *cfg,
                                 struct sl_dest **out)
{
    struct sl_dest *d = NULL;
    sqlite3_stmt *st = NULL;
    struct sl_sql q;
    sluice_status rc = SLUICE_OK;
    *out = NULL;
    sl_sql_init(&q);
    if (!cfg || !cfg->path || !*cfg->path) {
        rc = sl_fail(ctx, SLUICE_ERR_CONFIG, "the sqlite destination needs a path");
        goto fail;
    }
    if (!cfg->dataset || !*cfg->dataset || strchr(cfg->dataset, '/') ||
        sqlite3_stricmp(cfg->dataset, "main") == 0 || sqlite3_stricmp(cfg->dataset, "temp") == 0) {
        rc = sl_fail(ctx, SLUICE_ERR_CONFIG,
                     "dataset name \"%s\" cannot be used with the sqlite destination (it must "
                     "not be empty, \"main\" or \"temp\", nor contain '/')",
                     cfg->dataset ? cfg->dataset : "");
        goto fail;
    }
    d = sl_calloc(1, sizeof(*d));
    if (!d) {
        rc = sl_nomem(ctx);
        goto fail;
    }
    d->ctx = ctx;
    d->cookie = -1;
    d->dataset = sl_strdup(cfg->dataset);
    if (cfg->path[0] != '/' && strcmp(cfg->path, ":memory:") != 0 && cfg->base_dir &&
        *cfg->base_dir)
        d->main_path = sl_aprintf("%s/%s", cfg->base_dir, cfg->path);
    else
        d->main_path = sl_strdup(cfg->path);
    if (!d->dataset || !d->main_path) {
        rc = sl_nomem(ctx);
        goto fail;
    }
    rc = dataset_path(d, &d->ds_path);
    if (rc)
        goto fail;
    if (cfg->must_exist && strcmp(d->main_path, ":memory:") != 0) {
        const char *gone = !sl_fs_exists(d->main_path) ? d->main_path
                           : !sl_fs_exists(d->ds_path) ? d->ds_path
                                                       : NULL;
        if (gone) {
            rc = sl_fail(ctx, SLUICE_ERR_NOT_FOUND, "database not found: %s", gone);
            goto fail;
        }
    }

    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(d->main_path, &d->db, flags, NULL) != SQLITE_OK) {
        rc = sl_sqlite_fail(ctx, d->db, "cannot open SQLite database %s", d->main_path);
        goto fail;
    }
    sqlite3_extended_result_codes(d->db, 1);
    d->lock_wait = cfg->lock_timeout_set ? cfg->lock_timeout : BUSY_TIMEOUT_MS / 1000.0;
    sqlite3_busy_timeout(d->db, (int)(d->lock_wait * 1000));
    if (sqlite3_db_readonly(d->db, "main") == 1) {
        rc = sl_fail(ctx, SLUICE_ERR_DEST, "SQLite database %s is read-only", d->main_path);
        goto fail;
    }
    if (sqlite3_exec(d->db, "SELECT count(*) FROM main.sqlite_master", NULL, NULL, NULL) !=
        SQLITE_OK) {
        rc = sl_sqlite_fail(ctx, d->db, "cannot use SQLite database %s", d->main_path);
        goto fail;
    }

    sl_sql_put(&q, "ATTACH DATABASE ?1 AS ");
    sl_sql_id(&q, d->dataset);
    const char *text = sl_sql_text(d->ctx, &q);
    rc = text ? prepare(d, text, &st, "attach the dataset") : ctx->code;
    if (rc)
        goto fail;
    bind_text(st, 1, d->ds_path);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = sl_sqlite_fail(ctx, d->db, "cannot open the dataset database %s", d->ds_path);
        goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_db_readonly(d->db, d->dataset) == 1) {
        rc = sl_fail(ctx, SLUICE_ERR_DEST, "SQLite database %s is read-only", d->ds_path);
        goto fail;
    }
    /* read both headers now, so a file that is not a database fails here, and make every
     * commit durable */
    sl_sql_reset(&q);
    sl_sql_put(&q, "SELECT count(*) FROM ");
    sl_sql_id(&q, d->dataset);
    sl_sql_put(&q, ".sqlite_master; PRAGMA main.synchronous = FULL; PRAGMA ");
    sl_sql_id(&q, d->dataset);
    sl_sql_put(&q, ".synchronous = FULL");
    text = sl_sql_text(d->ctx, &q);
    if (!text) {
        rc = ctx->code;
        goto fail;
    }
    if (sqlite3_exec(d->db, text, NULL, NULL, NULL) != SQLITE_OK) {
        rc = sl_sqlite_fail(ctx, d->db, "cannot use the dataset database %s", d->ds_path);
        goto fail;
    }
    sl_sql_cleanup(&q);
    *out = d;
    return SLUICE_OK;
fail:
    sqlite3_finalize(st);
    sl_sql_cleanup(&q);
    sqlite_close(d);
    return rc;
}

const struct sl_dest_methods sl_dest_sqlite = {
    .version = 3,
    .second_handle = 1,
    .name = "sqlite",
    .xOpen = sqlite_open,
    .xClose = sqlite_close,
    .xBegin = sqlite_begin,
    .xCommit = sqlite_commit,
    .xRollback = sqlite_rollback,
    .xSyncTable = sqlite_sync_table,
    .xTruncate = sqlite_truncate,
    .xDropTable = sqlite_drop_table,
    .xInsertBegin = sqlite_insert_begin,
    .xInsertRow = sqlite_insert_row,
    .xInsertEnd = sqlite_insert_end,
    .xMerge = sqlite_merge,
    .xIsEmpty = sqlite_is_empty,
    .xMergeDirectClean = sqlite_merge_direct_clean,
    .xLoadExists = sqlite_load_exists,
    .xInsertLoad = sqlite_insert_load,
    .max_columns = 2000, /* SQLITE_MAX_COLUMN of Debian's build */
    .reserved_prefix = "sqlite_",
    .merge_strategies = SL_MERGE_BIT(SL_MERGE_DELETE_INSERT) | SL_MERGE_BIT(SL_MERGE_UPSERT) |
                        SL_MERGE_BIT(SL_MERGE_INSERT_ONLY) | SL_MERGE_BIT(SL_MERGE_SCD2),
    .xSaveSchema = sqlite_save_schema,
    .xDeleteSchemaVersions = sqlite_delete_schema_versions,
    .xLoadSchema = sqlite_load_schema,
    .xSaveState = sqlite_save_state,
    .xLoadState = sqlite_load_state,
    .xQuery = sqlite_query,
    .xListTables = sqlite_list_tables,
    .xNewestLoadId = sqlite_newest_load_id,
    .xEffects = sqlite_effects,
    .xQueryTyped = sqlite_query_typed,
};
