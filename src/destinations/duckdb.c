/*
 * duckdb.c — the DuckDB destination (destination.h), on DuckDB's C API loaded at run time
 * (duckdb_lib.h: libduckdb.so from the pinned npm package, dlopen()ed on first use; a clear
 * DEST error naming scripts/install-deps and SLUICE_DUCKDB_LIB when it is missing).
 *
 * Layout, as dlt's duckdb destination writes it: the configured path is one DuckDB file, the
 * dataset a schema in it ("ds"."items", its name normalized as dlt does: snake_case), merge staging tables live in the schema
 * "<dataset>_staging" (created on first use, the tables dropped again at commit). Types are
 * dlt's duckdb ones: BIGINT, DOUBLE, BOOLEAN, VARCHAR, TIMESTAMP WITH TIME ZONE, DATE, TIME,
 * JSON, DECIMAL(38,9) for decimal, DECIMAL(38,0) for wei (dlt's wei precision on DuckDB: an
 * integer of more than 38 digits is refused by the engine, named by the error), BLOB. NOT
 * NULL is declared only at CREATE time, as dlt does. The system tables have dlt's columns and
 * types (timestamps WITH TIME ZONE). Identifiers are double-quoted; DuckDB compares them
 * without case, which dlt's snake_case names never rely on. No indexes: DuckDB's ART indexes
 * slow every bulk load and its merges are hash joins over columnar scans (dlt creates none
 * either).
 *
 * Transactions. xBegin runs BEGIN TRANSACTION; DuckDB's DDL is transactional, so tables,
 * columns, rows (the appender writes into the open transaction), staging tables, the schema,
 * state and _dlt_loads rows of a package commit together or not at all. A DuckDB file has one
 * writing process at a time (the engine holds an fcntl() lock on the open file, for as long as
 * the handle is open): xOpen waits for a process holding it, retrying the open, up to
 * destination.lock_timeout seconds (LOCK_WAIT_DEFAULT), then fails LOCKED naming the file
 * and the holder's pid and program. One state per version: DuckDB has no triggers,
 * so xSaveState refuses, inside the transaction, a second different state with a version
 * already written (the single writer makes the check race-free).
 *
 * Bulk rows go through the appender (one per xInsertBegin .. xInsertEnd), fed data chunks
 * of 2048 rows (see "bulk insert"), in the table's catalog column order (a table made by dlt
 * or grown by ALTER keeps its own order); columns the schema does not know get NULL. Values:
 * integers, doubles and booleans natively, text as VARCHAR (DuckDB casts it to the column's
 * type: timestamps with their offset, dates, times, decimals, JSON), binary decoded from the
 * normalizer's 0x-hex or base64 text to a BLOB. Staging copies also get "_sl_item" (the
 * package item, destination.h) and "_sl_seq" (the staging order: the last staged copy wins).
 * While rows are appended, and while a delete-insert merge scans the destination, DuckDB's
 * buffer pool is held low (append_memory, merge_memory), and DuckDB runs one thread of its own
 * (see duckdb_open).
 *
 * Merges (destination.h: delete-insert, upsert, insert-only, scd2) run in the open
 * transaction with the SQL every SQL back-end shares (sql_merge.c): scratch tables are TEMP
 * tables, destination rows are addressed by DuckDB's rowid, staged rows by "_sl_seq". A
 * first merge into empty tables appends straight to them (xIsEmpty, xMergeDirectClean: the
 * fast first merge of destination.h; DuckDB has no merge indexes to put off).
 *
 * Errors from DuckDB are translated in one place, dk_fail(): DEST with "duckdb destination
 * <path>: <what>: <DuckDB's message>", origin "duckdb". Time: inserted_at is the wall clock
 * (base/clock.h), never used to order anything. Thread model: one handle, one thread; the
 * handles of one file in a process share one database object (a connection each), so the
 * load thread's handle runs a package while the pipeline's handle is idle (second_handle).
 */
#include "destinations/destination.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/fs.h"
#include "base/json.h"
#include "destinations/duckdb_lib.h"
#include "destinations/effects.h"
#include "destinations/filelock.h"
#include "destinations/sql.h"
#include "destinations/sql_merge.h"
#include "destinations/systables.h"
#include "model/naming.h"

#define ITEM_COL SL_SQL_ITEM_COL     /* staging copies: the row's package item (xInsertRow) */
#define SEQ_COL "_sl_seq"            /* staging copies: the staging order */
#define LOCK_WAIT_DEFAULT 60.0       /* seconds xOpen waits for another process's lock */

/* ---- handle ------------------------------------------------------------------------------ */

struct dk_col {
    char *name;
    char *type; /* information_schema data_type */
};

/* What we know of one table of the dataset, or its staging copy, in this transaction. */
struct dk_table {
    char *name;
    int staging;
    int exists;
    int fresh;             /* staging: created in this transaction */
    int appended;          /* rows appended to it in this transaction (see append_memory) */
    struct dk_col *cols;   /* in catalog order */
    size_t ncols, cap;
};

/* One column of the data chunk being filled: its vector, of type `kind` (DUCK_TYPE_*), and
 * `want`, the type it has at the start of each chunk (from the schema's column type). */
struct dk_vec {
    duck_vector v;
    void *data;
    uint64_t *valid;       /* NULL until a NULL is written into this chunk */
    unsigned char kind, want;
};

struct sl_dest {
    struct sl_ctx *ctx;
    const struct sl_duck_api *api;
    duck_database db;
    duck_connection conn;
    char *path;
    char *catalog; /* the database's name in DuckDB (its file's stem): table names carry it, as
                      a dataset of the same name makes "ds"."t" ambiguous */
    char *dataset;
    char *staging;
    int in_txn;
    int staging_ok;
    struct dk_table **tabs;
    size_t ntabs, captabs;
    /* the open appender (xInsertBegin .. xInsertEnd) and the data chunk it is fed */
    duck_appender app;
    struct dk_table *ins;
    const char *ins_resource; /* the resource filling the table (the schema's), for errors */
    long *ins_map;         /* per catalog column: t column index, or -1 NULL, -2 item, -3 seq */
    size_t ins_nmap;
    size_t ins_ncols;      /* t->ncols */
    unsigned char *ins_bin; /* per t column: 1 = binary (decode) */
    struct dk_vec *vec;    /* per catalog column */
    duck_data_chunk chunk;
    duck_idx chunk_rows, chunk_cap;
    int64_t unflushed;     /* rows handed to the appender since it last flushed */
    size_t app_cols;       /* columns of the tables appended to in this transaction */
    int64_t merge_kb;      /* what the merge's scans may pin (merge_memory), 0: no limit */
    int merge_low;         /* its scans' limit is set */
    int *low_mem;          /* the memory_limit set_memory set, in MB (0: DuckDB's own): a
                              setting of the database object, so shared by its handles */
    char default_limit[96]; /* "SET memory_limit = '<DuckDB's own>'" (RESET leaves the buffer
                               pool's lower limit in place, 1.5.6) */
    int64_t seq;
    struct sl_buf blob;
    struct sl_arena text;  /* the chunk's longer ASCII strings, until it is appended (put_text) */
    /* truncates not run yet (see duckdb_truncate) */
    char **trunc;
    size_t ntrunc, captrunc;
    struct sl_effects fx;  /* of the open transaction's truncates, drops and merges */
};

/* ---- errors ------------------------------------------------------------------------------ */

static sluice_status dk_fail(struct sl_dest *d, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The pending error (if none yet) becomes DEST "duckdb destination <path>: <what>: <msg>". */
static sluice_status dk_fail(struct sl_dest *d, const char *msg, const char *fmt, ...)
{
    struct sl_ctx *ctx = d->ctx;
    if (ctx->code != SLUICE_OK)
        return ctx->code;
    char what[512], one[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    size_t j = 0;
    for (const char *p = msg ? msg : "unknown error"; *p && j + 1 < sizeof(one); p++) {
        char c = (*p == '\n' || *p == '\t' || *p == '\r') ? ' ' : *p;
        if (c == ' ' && (j == 0 || one[j - 1] == ' '))
            continue;
        one[j++] = c;
    }
    while (j > 0 && one[j - 1] == ' ')
        j--;
    one[j] = '\0';
    sluice_status rc = sl_fail(ctx, SLUICE_ERR_DEST, "duckdb destination %s: %s: %s",
                               d->path ? d->path : "?", what, one);
    sl_fail_origin(ctx, "duckdb", "");
    return rc;
}

/* ---- statements -------------------------------------------------------------------------- */

/* "db"."ds"."t" or "db"."ds_staging"."t" */
static void dk_table_ref(struct sl_sql *q, const struct sl_dest *d, const char *name,
                         int staging)
{
    sl_sql_id(q, d->catalog);
    sl_sql_put(q, ".");
    sl_sql_qname(q, staging ? d->staging : d->dataset, name);
}

/* Run sql (one or more statements); *changed (may be NULL) = rows changed by the last. */
static sluice_status dk_exec_n(struct sl_dest *d, const char *sql, int64_t *changed,
                               const char *what)
{
    duck_result res;
    memset(&res, 0, sizeof(res));
    sluice_status rc = SLUICE_OK;
    if (d->api->query(d->conn, sql, &res) != 0)
        rc = dk_fail(d, d->api->result_error(&res), "%s", what);
    else if (changed)
        *changed = (int64_t)d->api->rows_changed(&res);
    d->api->destroy_result(&res);
    return rc;
}

static sluice_status dk_exec(struct sl_dest *d, const char *sql, const char *what)
{
    return dk_exec_n(d, sql, NULL, what);
}

static sluice_status dk_exec_q(struct sl_dest *d, struct sl_sql *q, int64_t *changed,
                               const char *what)
{
    const char *text = sl_sql_text(d->ctx, q);
    return text ? dk_exec_n(d, text, changed, what) : d->ctx->code;
}

/* A bound parameter: text (NULL: SQL NULL) or, with is_int, an integer. */
struct dk_param {
    const char *s;
    int64_t i;
    int is_int;
};

#define P_TEXT(v) ((struct dk_param){ (v), 0, 0 })
#define P_INT(v) ((struct dk_param){ NULL, (v), 1 })

/* Prepare sql, bind $1..$n, execute into *res (the caller destroys it, also on failure). */
static sluice_status dk_run(struct sl_dest *d, const char *sql, const struct dk_param *p,
                            size_t n, duck_result *res, const char *what)
{
    const struct sl_duck_api *a = d->api;
    duck_prepared st = NULL;
    sluice_status rc = SLUICE_OK;
    memset(res, 0, sizeof(*res));
    if (a->prepare(d->conn, sql, &st) != 0) {
        rc = dk_fail(d, a->prepare_error(st), "%s", what);
        a->destroy_prepare(&st);
        return rc;
    }
    for (size_t i = 0; i < n && rc == SLUICE_OK; i++) {
        duck_state s = p[i].is_int ? a->bind_int64(st, i + 1, p[i].i)
                       : p[i].s    ? a->bind_varchar(st, i + 1, p[i].s)
                                   : a->bind_null(st, i + 1);
        if (s != 0)
            rc = dk_fail(d, "cannot bind a parameter", "%s", what);
    }
    if (rc == SLUICE_OK && a->execute_prepared(st, res) != 0)
        rc = dk_fail(d, a->result_error(res), "%s", what);
    a->destroy_prepare(&st);
    return rc;
}

/* dk_run for a statement whose result is not needed; *changed as dk_exec_n. */
static sluice_status dk_run_n(struct sl_dest *d, const char *sql, const struct dk_param *p,
                              size_t n, int64_t *changed, const char *what)
{
    duck_result res;
    sluice_status rc = dk_run(d, sql, p, n, &res, what);
    if (rc == SLUICE_OK && changed)
        *changed = (int64_t)d->api->rows_changed(&res);
    d->api->destroy_result(&res);
    return rc;
}

/* The first value of the first row as a new string (NULL for no row or SQL NULL). */
static sluice_status dk_first_text(struct sl_dest *d, const char *sql, const struct dk_param *p,
                                   size_t n, char **out, const char *what)
{
    duck_result res;
    *out = NULL;
    sluice_status rc = dk_run(d, sql, p, n, &res, what);
    if (rc == SLUICE_OK && d->api->row_count(&res) > 0 && d->api->column_count(&res) > 0 &&
        !d->api->value_is_null(&res, 0, 0)) {
        char *v = d->api->value_varchar(&res, 0, 0);
        *out = v ? sl_strdup(v) : NULL;
        d->api->free(v);
        if (!*out)
            rc = sl_nomem(d->ctx);
    }
    d->api->destroy_result(&res);
    return rc;
}

static sluice_status dk_first_int(struct sl_dest *d, const char *sql, const struct dk_param *p,
                                  size_t n, int64_t *out, const char *what)
{
    duck_result res;
    *out = 0;
    sluice_status rc = dk_run(d, sql, p, n, &res, what);
    if (rc == SLUICE_OK && d->api->row_count(&res) > 0 && !d->api->value_is_null(&res, 0, 0))
        *out = d->api->value_int64(&res, 0, 0);
    d->api->destroy_result(&res);
    return rc;
}

static sluice_status dk_first_int_q(struct sl_dest *d, struct sl_sql *q, int64_t *out,
                                    const char *what)
{
    const char *text = sl_sql_text(d->ctx, q);
    return text ? dk_first_int(d, text, NULL, 0, out, what) : d->ctx->code;
}

/* Does the schema hold a table (not a view) of that name? */
static sluice_status table_exists(struct sl_dest *d, const char *schema, const char *name,
                                  int *exists)
{
    int64_t n = 0;
    struct dk_param p[2] = { P_TEXT(schema), P_TEXT(name) };
    sluice_status rc = dk_first_int(d, "SELECT count(*) FROM information_schema.tables WHERE "
                                       "table_schema = $1 AND table_name = $2 AND "
                                       "table_type = 'BASE TABLE'",
                                    p, 2, &n, "look up a table");
    *exists = n > 0;
    return rc;
}

/* ---- column cache ------------------------------------------------------------------------ */

static void kt_free(struct dk_table *kt)
{
    if (!kt)
        return;
    for (size_t i = 0; i < kt->ncols; i++) {
        sl_free(kt->cols[i].name);
        sl_free(kt->cols[i].type);
    }
    sl_free(kt->cols);
    sl_free(kt->name);
    sl_free(kt);
}

static void cache_clear(struct sl_dest *d)
{
    for (size_t i = 0; i < d->ntabs; i++)
        kt_free(d->tabs[i]);
    d->ntabs = 0;
}

static const struct dk_col *kt_col(const struct dk_table *kt, const char *name)
{
    for (size_t i = 0; i < kt->ncols; i++)
        if (strcasecmp(kt->cols[i].name, name) == 0)
            return &kt->cols[i];
    return NULL;
}

static sluice_status kt_add(struct sl_dest *d, struct dk_table *kt, const char *name,
                            const char *type)
{
    if (kt->ncols == kt->cap) {
        size_t ncap = kt->cap ? kt->cap * 2 : 16;
        struct dk_col *n = sl_realloc(kt->cols, ncap * sizeof(*n));
        if (!n)
            return sl_nomem(d->ctx);
        kt->cols = n;
        kt->cap = ncap;
    }
    struct dk_col *c = &kt->cols[kt->ncols];
    c->name = sl_strdup(name);
    c->type = sl_strdup(type);
    if (!c->name || !c->type) {
        sl_free(c->name);
        sl_free(c->type);
        return sl_nomem(d->ctx);
    }
    kt->ncols++;
    return SLUICE_OK;
}

static struct dk_table *kt_find(struct sl_dest *d, const char *name, int staging)
{
    for (size_t i = 0; i < d->ntabs; i++)
        if (d->tabs[i]->staging == staging && strcmp(d->tabs[i]->name, name) == 0)
            return d->tabs[i];
    return NULL;
}

/* The cached entry of a table, read from the catalog on first use in this transaction. */
static sluice_status kt_get(struct sl_dest *d, const char *name, int staging,
                            struct dk_table **out)
{
    struct dk_table *kt = kt_find(d, name, staging);
    if (kt) {
        *out = kt;
        return SLUICE_OK;
    }
    if (d->ntabs == d->captabs) {
        size_t ncap = d->captabs ? d->captabs * 2 : 16;
        struct dk_table **n = sl_realloc(d->tabs, ncap * sizeof(*n));
        if (!n)
            return sl_nomem(d->ctx);
        d->tabs = n;
        d->captabs = ncap;
    }
    kt = sl_calloc(1, sizeof(*kt));
    if (!kt || !(kt->name = sl_strdup(name))) {
        sl_free(kt);
        return sl_nomem(d->ctx);
    }
    kt->staging = staging;
    const char *schema = staging ? d->staging : d->dataset;
    sluice_status rc = table_exists(d, schema, name, &kt->exists);
    if (rc == SLUICE_OK && kt->exists) {
        duck_result res;
        struct dk_param p[2] = { P_TEXT(schema), P_TEXT(name) };
        rc = dk_run(d, "SELECT column_name, data_type FROM information_schema.columns WHERE "
                       "table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
                    p, 2, &res, "read the columns of a table");
        for (duck_idx r = 0; rc == SLUICE_OK && r < d->api->row_count(&res); r++) {
            char *cn = d->api->value_varchar(&res, 0, r);
            char *ct = d->api->value_varchar(&res, 1, r);
            rc = cn && ct ? kt_add(d, kt, cn, ct) : sl_nomem(d->ctx);
            d->api->free(cn);
            d->api->free(ct);
        }
        d->api->destroy_result(&res);
    }
    if (rc) {
        kt_free(kt);
        return rc;
    }
    d->tabs[d->ntabs++] = kt;
    *out = kt;
    return SLUICE_OK;
}

/* ---- types ------------------------------------------------------------------------------- */

static const char *dk_type(enum sl_dtype t)
{
    switch (t) {
    case SL_DT_BIGINT:
        return "BIGINT";
    case SL_DT_DOUBLE:
        return "DOUBLE";
    case SL_DT_BOOL:
        return "BOOLEAN";
    case SL_DT_TIMESTAMP:
        return "TIMESTAMP WITH TIME ZONE";
    case SL_DT_DATE:
        return "DATE";
    case SL_DT_JSON:
        return "JSON";
    case SL_DT_DECIMAL:
        return "DECIMAL(38,9)";
    case SL_DT_WEI:
        return "DECIMAL(38,0)";
    case SL_DT_TIME:
        return "TIME";
    case SL_DT_BINARY:
        return "BLOB";
    default:
        return "VARCHAR";
    }
}

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Can a column of catalog type `have` take sluice's values of type t? (dlt's reverse type
 * mapping, plus the wider types a hand-made table may use.) */
static int type_accepts(enum sl_dtype t, const char *have)
{
    if (strcmp(have, dk_type(t)) == 0)
        return 1;
    switch (t) {
    case SL_DT_BIGINT:
        return strcmp(have, "INTEGER") == 0 || strcmp(have, "HUGEINT") == 0 ||
               strcmp(have, "SMALLINT") == 0 || strcmp(have, "TINYINT") == 0 ||
               starts(have, "DECIMAL");
    case SL_DT_DOUBLE:
        return strcmp(have, "FLOAT") == 0 || starts(have, "DECIMAL");
    case SL_DT_BOOL:
        return 0;
    case SL_DT_TIMESTAMP:
    case SL_DT_DATE:
        return starts(have, "TIMESTAMP") || (t == SL_DT_DATE && strcmp(have, "DATE") == 0);
    case SL_DT_JSON:
        return strcmp(have, "VARCHAR") == 0;
    case SL_DT_DECIMAL:
    case SL_DT_WEI:
        return starts(have, "DECIMAL") || strcmp(have, "HUGEINT") == 0;
    case SL_DT_TIME:
        return starts(have, "TIME");
    case SL_DT_BINARY:
        return 0;
    default:
        return strcmp(have, "JSON") == 0;
    }
}

/* ---- tables ------------------------------------------------------------------------------ */

static sluice_status ensure_staging_schema(struct sl_dest *d)
{
    if (d->staging_ok)
        return SLUICE_OK;
    struct sl_sql q;
    sl_sql_init(&q);
    sl_sql_put(&q, "CREATE SCHEMA IF NOT EXISTS ");
    sl_sql_id(&q, d->staging);
    sluice_status rc = dk_exec_q(d, &q, NULL, "create the staging schema");
    sl_sql_cleanup(&q);
    d->staging_ok = rc == SLUICE_OK;
    return rc;
}

/* Every typed column of t that the table has must be able to take its values. */
static sluice_status check_shape(struct sl_dest *d, const struct sl_table *t,
                                 const struct dk_table *kt)
{
    for (size_t i = 0; i < t->ncols; i++) {
        const struct sl_column *c = &t->cols[i];
        if (c->type == SL_DT_NONE)
            continue;
        const struct dk_col *have = kt_col(kt, c->name);
        if (have && !type_accepts(c->type, have->type)) {
            sluice_status rc = sl_fail_at(
                d->ctx, SLUICE_ERR_DEST, t->resource, -1, c->name,
                "duckdb destination %s: table %s.%s: column %s has type %s, which cannot hold "
                "sluice's %s values (%s); was the table altered by hand?",
                d->path, kt->staging ? d->staging : d->dataset, kt->name, c->name, have->type,
                sl_dtype_name(c->type), dk_type(c->type));
            sl_fail_origin(d->ctx, "duckdb", "");
            return rc;
        }
    }
    return SLUICE_OK;
}

/* Create t (or its staging copy, fresh in each transaction) or add the typed columns it
 * lacks. */
static sluice_status sync_table(struct sl_dest *d, const struct sl_table *t, int staging,
                                struct dk_table **out)
{
    struct dk_table *kt = NULL;
    struct sl_sql q;
    sluice_status rc = SLUICE_OK;
    char what[300];
    sl_sql_init(&q);
    if (staging)
        rc = ensure_staging_schema(d);
    if (rc == SLUICE_OK)
        rc = kt_get(d, t->name, staging, &kt);
    if (rc)
        goto done;
    if (staging && kt->exists && !kt->fresh) {
        /* a copy left by an older version or another tool: start empty */
        sl_sql_put(&q, "DROP TABLE ");
        dk_table_ref(&q, d, t->name, 1);
        rc = dk_exec_q(d, &q, NULL, "drop an old staging table");
        if (rc)
            goto done;
        sl_sql_reset(&q);
        kt->exists = 0;
        for (size_t i = 0; i < kt->ncols; i++) {
            sl_free(kt->cols[i].name);
            sl_free(kt->cols[i].type);
        }
        kt->ncols = 0;
    }
    snprintf(what, sizeof(what), "%s table %s.%s", kt->exists ? "add columns to" : "create",
             staging ? d->staging : d->dataset, t->name);
    if (!kt->exists && !staging) {
        /* not a table: a view (or another object) of that name made by hand? */
        char *kind = NULL;
        struct dk_param p[2] = { P_TEXT(d->dataset), P_TEXT(t->name) };
        rc = dk_first_text(d, "SELECT table_type FROM information_schema.tables WHERE "
                              "table_schema = $1 AND table_name = $2",
                           p, 2, &kind, "look up a table");
        if (rc == SLUICE_OK && kind) {
            rc = sl_fail_at(d->ctx, SLUICE_ERR_DEST, t->resource, -1, NULL,
                            "duckdb destination %s: %s.%s is not a table (%s); sluice loads "
                            "into tables only: was it replaced by hand?",
                            d->path, d->dataset, t->name, kind);
            sl_fail_origin(d->ctx, "duckdb", "");
        }
        sl_free(kind);
        if (rc)
            goto done;
    }
    if (!kt->exists) {
        size_t ntyped = 0;
        sl_sql_put(&q, "CREATE TABLE ");
        dk_table_ref(&q, d, t->name, staging);
        sl_sql_put(&q, " (");
        for (size_t i = 0; i < t->ncols; i++) {
            const struct sl_column *c = &t->cols[i];
            if (c->type == SL_DT_NONE)
                continue;
            if (ntyped++)
                sl_sql_put(&q, ", ");
            sl_sql_id(&q, c->name);
            sl_sql_ch(&q, ' ');
            sl_sql_put(&q, dk_type(c->type));
            if (!c->nullable && !staging)
                sl_sql_put(&q, " NOT NULL");
        }
        if (staging)
            sl_sql_put(&q, ", \"" ITEM_COL "\" BIGINT, \"" SEQ_COL "\" BIGINT");
        sl_sql_put(&q, ")");
        if (ntyped == 0)
            goto done; /* nothing typed yet: created once a column has a type */
        rc = dk_exec_q(d, &q, NULL, what);
        if (rc) {
            sl_fail_locate(d->ctx, t->resource, -1, NULL);
            goto done;
        }
        kt->exists = 1;
        kt->fresh = staging;
        for (size_t i = 0; i < t->ncols && rc == SLUICE_OK; i++)
            if (t->cols[i].type != SL_DT_NONE)
                rc = kt_add(d, kt, t->cols[i].name, dk_type(t->cols[i].type));
        if (rc == SLUICE_OK && staging)
            rc = kt_add(d, kt, ITEM_COL, "BIGINT");
        if (rc == SLUICE_OK && staging)
            rc = kt_add(d, kt, SEQ_COL, "BIGINT");
        goto done;
    }
    rc = check_shape(d, t, kt);
    for (size_t i = 0; i < t->ncols && rc == SLUICE_OK; i++) {
        const struct sl_column *c = &t->cols[i];
        if (c->type == SL_DT_NONE || kt_col(kt, c->name))
            continue;
        sl_sql_put(&q, "ALTER TABLE ");
        dk_table_ref(&q, d, t->name, staging);
        sl_sql_put(&q, " ADD COLUMN ");
        sl_sql_id(&q, c->name);
        sl_sql_ch(&q, ' ');
        sl_sql_put(&q, dk_type(c->type));
        sl_sql_put(&q, ";\n");
    }
    if (rc || (q.b.len == 0 && !q.bad))
        goto done;
    rc = dk_exec_q(d, &q, NULL, what);
    if (rc) {
        sl_fail_locate(d->ctx, t->resource, -1, NULL);
        goto done;
    }
    for (size_t i = 0; i < t->ncols && rc == SLUICE_OK; i++)
        if (t->cols[i].type != SL_DT_NONE && !kt_col(kt, t->cols[i].name))
            rc = kt_add(d, kt, t->cols[i].name, dk_type(t->cols[i].type));
done:
    sl_sql_cleanup(&q);
    if (out)
        *out = rc ? NULL : kt;
    return rc;
}

static sluice_status duckdb_sync_table(struct sl_dest *d, const struct sl_table *t)
{
    return sync_table(d, t, 0, NULL);
}

static sluice_status duckdb_effects(struct sl_dest *d, sl_effect_fn fn, void *ud)
{
    return sl_effects_each(&d->fx, d->ctx, fn, ud);
}

/* ---- truncate / drop --------------------------------------------------------------------- */

/* Run the pending truncate of table (NULL: of every table). */
static sluice_status flush_truncates(struct sl_dest *d, const char *table)
{
    sluice_status rc = SLUICE_OK;
    struct sl_sql q;
    sl_sql_init(&q);
    for (size_t i = 0; i < d->ntrunc && rc == SLUICE_OK;) {
        if (table && strcmp(d->trunc[i], table) != 0) {
            i++;
            continue;
        }
        char what[300];
        snprintf(what, sizeof(what), "truncate table %s.%s", d->dataset, d->trunc[i]);
        sl_sql_reset(&q);
        sl_sql_put(&q, "DELETE FROM ");
        dk_table_ref(&q, d, d->trunc[i], 0);
        rc = dk_exec_q(d, &q, NULL, what);
        sl_free(d->trunc[i]);
        d->trunc[i] = d->trunc[--d->ntrunc];
    }
    sl_sql_cleanup(&q);
    return rc;
}

static void forget_truncates(struct sl_dest *d)
{
    for (size_t i = 0; i < d->ntrunc; i++)
        sl_free(d->trunc[i]);
    d->ntrunc = 0;
}

/*
 * Deferred: DuckDB (1.5) cannot commit a transaction that deletes from a table and then
 * alters it ("another transaction has altered this table"), and a refresh truncates before
 * the package's columns are added. So the rows are counted now and deleted just before the
 * table is written (xInsertBegin), before a merge, or at commit, after every ALTER.
 */
static sluice_status duckdb_truncate(struct sl_dest *d, const char *table)
{
    int exists = 0;
    int64_t n = 0;
    sluice_status rc = table_exists(d, d->dataset, table, &exists);
    if (rc || !exists)
        return rc;
    for (size_t i = 0; i < d->ntrunc; i++)
        if (strcmp(d->trunc[i], table) == 0)
            return SLUICE_OK;
    struct sl_sql q;
    sl_sql_init(&q);
    sl_sql_put(&q, "SELECT count(*) FROM ");
    dk_table_ref(&q, d, table, 0);
    rc = dk_first_int_q(d, &q, &n, "count the rows of a table to truncate");
    sl_sql_cleanup(&q);
    if (rc)
        return rc;
    if (d->ntrunc == d->captrunc) {
        size_t ncap = d->captrunc ? d->captrunc * 2 : 8;
        char **nt = sl_realloc(d->trunc, ncap * sizeof(*nt));
        if (!nt)
            return sl_nomem(d->ctx);
        d->trunc = nt;
        d->captrunc = ncap;
    }
    if (!(d->trunc[d->ntrunc] = sl_strdup(table)))
        return sl_nomem(d->ctx);
    d->ntrunc++;
    sl_effects_add(&d->fx, table, 0, 0, n);
    return SLUICE_OK;
}

static sluice_status duckdb_drop_table(struct sl_dest *d, const char *table)
{
    int exists = 0;
    struct sl_sql q;
    char what[300];
    for (size_t i = 0; i < d->ntrunc; i++) {
        if (strcmp(d->trunc[i], table) == 0) {
            sl_free(d->trunc[i]);
            d->trunc[i] = d->trunc[--d->ntrunc];
            break;
        }
    }
    sluice_status rc = table_exists(d, d->dataset, table, &exists);
    if (rc || !exists)
        return rc;
    sl_sql_init(&q);
    sl_sql_put(&q, "SELECT count(*) FROM ");
    dk_table_ref(&q, d, table, 0);
    int64_t n = 0;
    rc = dk_first_int_q(d, &q, &n, "count the rows of a table to drop");
    if (rc == SLUICE_OK)
        sl_effects_add(&d->fx, table, 0, 0, n); /* its rows are a deletion in the net effect */
    sl_sql_reset(&q);
    sl_sql_put(&q, "DROP TABLE IF EXISTS ");
    dk_table_ref(&q, d, table, 0);
    snprintf(what, sizeof(what), "drop table %s.%s", d->dataset, table);
    if (rc == SLUICE_OK)
        rc = dk_exec_q(d, &q, NULL, what);
    sl_sql_cleanup(&q);
    for (size_t i = 0; i < d->ntabs; i++) {
        if (!d->tabs[i]->staging && strcmp(d->tabs[i]->name, table) == 0) {
            kt_free(d->tabs[i]);
            d->tabs[i] = d->tabs[--d->ntabs];
            break;
        }
    }
    return rc;
}

/* ---- bulk insert (appender) -------------------------------------------------------------- */

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Binary text from the normalizer ("0x" hex, spaces allowed, or base64) as bytes in b. */
static int decode_binary(struct sl_buf *b, const char *s, size_t len)
{
    sl_buf_reset(b);
    if (len >= 2 && s[0] == '0' && s[1] == 'x') {
        int hi = -1;
        for (size_t i = 2; i < len; i++) {
            int v = hex_value(s[i]);
            if (v < 0)
                continue;
            if (hi < 0) {
                hi = v;
            } else {
                if (sl_buf_putc(b, (char)(hi << 4 | v)))
                    return -1;
                hi = -1;
            }
        }
        return 0;
    }
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value((unsigned char)s[i]);
        if (v < 0)
            continue; /* padding */
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (sl_buf_putc(b, (char)(unsigned char)(acc >> bits)))
                return -1;
        }
    }
    return 0;
}

/*
 * Rows go into a data chunk (vector_size() rows, one vector per catalog column), and full
 * chunks go to the appender in one call: one write per value into a plain C array instead of
 * a library call per value. Each vector's type is the one sluice's values of that column have
 * (BIGINT, DOUBLE, BOOLEAN, BLOB for binary, VARCHAR for the rest); the appender casts a
 * vector whose type is not the table's (VARCHAR into TIMESTAMP WITH TIME ZONE, DATE, JSON,
 * DECIMAL...) as it cast single values, so the table gets the same values as before. A value
 * of another kind than its vector's (never made by the normalizer; from an older package,
 * perhaps) ends the chunk before it and starts one whose vector has the value's type: the
 * rows keep their order. The appender buffers what it is given until it flushes; it is
 * flushed every FLUSH_ROWS rows so that its buffer, not the package, bounds the memory.
 */
#define FLUSH_ROWS 65536

/*
 * DuckDB's memory while rows are appended. Appended rows of the open transaction are
 * compressed into row groups and written to the file as they fill, but stay cached in the
 * buffer pool up to its limit (80% of the machine's memory by default): a 1M-row package
 * grew the process past 200 MiB. While a package appends, the limit is APPEND_MEMORY_MB
 * plus APPEND_COL_KB per column of the tables appended to in the transaction (what is cached
 * beyond it is dropped, not lost: it is in the file already, or spilled to the temp folder;
 * but every column being filled holds blocks of its own that cannot go: the 23 tables and
 * 1,573 columns of one GitHub events package failed to append at 16 and 32 MB and passed at
 * 64). Merges (but the scans of a delete-insert, see merge_memory) and the commit run with
 * DuckDB's own limit (read at open), set back by append_memory(d, 0) before a merge, before
 * COMMIT and after the transaction ends.
 */
#define APPEND_MEMORY_MB 16
#define APPEND_COL_KB 64

/* SET memory_limit to mb MB (0: DuckDB's own), unless it is that already. */
static sluice_status set_memory(struct sl_dest *d, int mb)
{
    if (*d->low_mem == mb)
        return SLUICE_OK;
    char set[64];
    if (mb)
        snprintf(set, sizeof(set), "SET memory_limit = '%dMB'", mb);
    sluice_status rc = dk_exec(d, mb ? set : d->default_limit, "set DuckDB's memory limit");
    if (rc == SLUICE_OK)
        *d->low_mem = mb;
    return rc;
}

static sluice_status append_memory(struct sl_dest *d, int low)
{
    return set_memory(d, low ? APPEND_MEMORY_MB + (int)((d->app_cols * APPEND_COL_KB + 1023) / 1024)
                             : 0);
}

/* append_memory(d, 0) once the transaction is over (committed or rolled back): it cannot
 * fail the package any more, so a failure is ignored (the limit stays low until the next). */
static void default_memory(struct sl_dest *d)
{
    if (!d->low_mem || !*d->low_mem)
        return;
    duck_result res;
    memset(&res, 0, sizeof(res));
    if (d->api->query(d->conn, d->default_limit, &res) == 0)
        *d->low_mem = 0;
    d->api->destroy_result(&res);
}

/* The vector type of a value (DUCK_TYPE_*), 0 for NULL (any vector takes it). */
static unsigned char value_kind(const struct sl_value *v, int binary)
{
    switch (v->kind) {
    case SL_V_INT:
        return DUCK_TYPE_BIGINT;
    case SL_V_DOUBLE:
        return DUCK_TYPE_DOUBLE;
    case SL_V_BOOL:
        return DUCK_TYPE_BOOLEAN;
    case SL_V_TEXT:
        return binary ? DUCK_TYPE_BLOB : DUCK_TYPE_VARCHAR;
    default:
        return 0;
    }
}

static void chunk_bind(struct sl_dest *d)
{
    for (size_t j = 0; j < d->ins_nmap; j++) {
        struct dk_vec *c = &d->vec[j];
        c->v = d->api->data_chunk_get_vector(d->chunk, j);
        c->data = d->api->vector_get_data(c->v);
        c->valid = NULL;
    }
    d->chunk_rows = 0;
}

/* A new empty chunk with the vectors' current kinds. */
static sluice_status chunk_make(struct sl_dest *d)
{
    const struct sl_duck_api *a = d->api;
    if (d->chunk)
        a->destroy_data_chunk(&d->chunk);
    d->chunk = NULL;
    duck_logical_type *types = sl_calloc(d->ins_nmap + 1, sizeof(*types));
    if (!types)
        return sl_nomem(d->ctx);
    size_t made = 0;
    while (made < d->ins_nmap && (types[made] = a->create_logical_type(d->vec[made].kind)))
        made++;
    if (made == d->ins_nmap)
        d->chunk = a->create_data_chunk(types, d->ins_nmap);
    for (size_t j = 0; j < made; j++)
        a->destroy_logical_type(&types[j]);
    sl_free(types);
    if (!d->chunk)
        return sl_nomem(d->ctx);
    chunk_bind(d);
    return SLUICE_OK;
}

/*
 * The appender refused the chunk because a value could not be cast to its column's type
 * (DuckDB 1.5 says only "type mismatch in AppendDataChunk ... for column N"): find the
 * first such value, trying TRY_CAST of each value of a vector whose type is not its
 * column's, and fail naming the table, the column, the value and the type. 0 when none is
 * found (the caller reports DuckDB's message).
 */
#define CULPRIT_SHOWN 80 /* bytes of the value the message shows */

static sluice_status chunk_culprit(struct sl_dest *d)
{
    const struct dk_table *kt = d->ins;
    for (size_t j = 0; j < d->ins_nmap && j < kt->ncols; j++) {
        const struct dk_vec *c = &d->vec[j];
        const char *type = kt->cols[j].type;
        if (!type || strcasecmp(type, "VARCHAR") == 0 || strcasecmp(type, "BLOB") == 0 ||
            (c->kind != DUCK_TYPE_VARCHAR && c->kind != DUCK_TYPE_BIGINT &&
             c->kind != DUCK_TYPE_DOUBLE))
            continue;
        char *sql = sl_aprintf("SELECT TRY_CAST($1 AS %s) IS NULL", type);
        if (!sql)
            return sl_nomem(d->ctx);
        sluice_status rc = SLUICE_OK;
        for (duck_idx r = 0; rc == SLUICE_OK && r < d->chunk_rows; r++) {
            if (c->valid && !(c->valid[r >> 6] & ((uint64_t)1 << (r & 63))))
                continue;
            char num[32];
            const char *v = num;
            size_t len;
            if (c->kind == DUCK_TYPE_VARCHAR) {
                const duck_string *e = &((const duck_string *)c->data)[r];
                len = e->value.inlined.length;
                v = len <= 12 ? e->value.inlined.inlined : e->value.pointer.ptr;
            } else if (c->kind == DUCK_TYPE_BIGINT) {
                len = (size_t)snprintf(num, sizeof(num), "%lld",
                                       (long long)((const int64_t *)c->data)[r]);
            } else {
                len = (size_t)snprintf(num, sizeof(num), "%.17g", ((const double *)c->data)[r]);
            }
            char *text = sl_strndup(v, len);
            int64_t bad = 0;
            rc = text ? dk_first_int(d, sql, (struct dk_param[1]){ P_TEXT(text) }, 1, &bad,
                                     "check a value")
                      : sl_nomem(d->ctx);
            if (rc == SLUICE_OK && bad) {
                rc = sl_fail_at(d->ctx, SLUICE_ERR_DEST, d->ins_resource, -1, kt->cols[j].name,
                             "duckdb destination %s: insert into table %s.%s: column %s: the "
                             "value %.*s%s cannot be stored as %s",
                             d->path, kt->staging ? d->staging : d->dataset, kt->name,
                             kt->cols[j].name, len > CULPRIT_SHOWN ? CULPRIT_SHOWN : (int)len,
                             text, len > CULPRIT_SHOWN ? "..." : "", type);
                sl_fail_origin(d->ctx, "duckdb", "");
            }
            sl_free(text);
        }
        sl_free(sql);
        if (rc)
            return rc;
    }
    return SLUICE_OK;
}

/* Hand the chunk's rows to the appender and start an empty chunk (with the vectors' usual
 * types again when `reset_kinds`). */
static sluice_status chunk_append(struct sl_dest *d, int reset_kinds)
{
    const struct sl_duck_api *a = d->api;
    sluice_status rc = SLUICE_OK;
    if (d->chunk_rows > 0) {
        a->data_chunk_set_size(d->chunk, d->chunk_rows);
        if (a->append_data_chunk(d->app, d->chunk) != 0) {
            rc = chunk_culprit(d);
            return rc ? rc
                      : dk_fail(d, a->appender_error(d->app), "insert into table %s.%s",
                                d->ins->staging ? d->staging : d->dataset, d->ins->name);
        }
        d->unflushed += (int64_t)d->chunk_rows;
        if (d->unflushed >= FLUSH_ROWS) {
            if (a->appender_flush(d->app) != 0)
                return dk_fail(d, a->appender_error(d->app), "insert into table %s.%s",
                               d->ins->staging ? d->staging : d->dataset, d->ins->name);
            d->unflushed = 0;
        }
    }
    sl_arena_reset(&d->text); /* the appender holds copies of the chunk's strings now */
    int same = 1;
    for (size_t j = 0; reset_kinds && j < d->ins_nmap; j++) {
        same &= d->vec[j].kind == d->vec[j].want;
        d->vec[j].kind = d->vec[j].want;
    }
    if (same) {
        a->data_chunk_reset(d->chunk);
        chunk_bind(d);
    } else {
        rc = chunk_make(d);
    }
    return rc;
}

/* The appender and its chunk go (rows not appended yet are dropped). */
static void insert_discard(struct sl_dest *d)
{
    if (d->chunk)
        d->api->destroy_data_chunk(&d->chunk);
    d->chunk = NULL;
    if (d->app)
        d->api->appender_destroy(&d->app);
    d->app = NULL;
    sl_arena_reset(&d->text);
    d->ins = NULL;
    d->ins_resource = NULL;
}

static sluice_status duckdb_insert_begin(struct sl_dest *d, const struct sl_table *t,
                                         int staging)
{
    staging = staging == SL_INSERT_STAGING; /* a fast first merge appends to the table */
    struct dk_table *kt = NULL;
    if (d->app)
        return sl_fail(d->ctx, SLUICE_ERR_INTERNAL, "an insert into %s is already open",
                       d->ins ? d->ins->name : "?");
    sluice_status rc = sync_table(d, t, staging ? 1 : 0, &kt);
    if (rc == SLUICE_OK && !staging)
        rc = flush_truncates(d, t->name);
    if (rc)
        return rc;
    if (!kt->exists)
        return sl_fail(d->ctx, SLUICE_ERR_INTERNAL, "table %s has no typed column to insert",
                       t->name);
    sl_free(d->ins_map);
    sl_free(d->ins_bin);
    sl_free(d->vec);
    d->ins_map = sl_calloc(kt->ncols + 1, sizeof(long));
    d->ins_bin = sl_calloc(t->ncols + 1, 1);
    d->vec = sl_calloc(kt->ncols + 1, sizeof(*d->vec));
    if (!d->ins_map || !d->ins_bin || !d->vec)
        return sl_nomem(d->ctx);
    for (size_t i = 0; i < t->ncols; i++)
        d->ins_bin[i] = t->cols[i].type == SL_DT_BINARY;
    for (size_t j = 0; j < kt->ncols; j++) {
        const char *cn = kt->cols[j].name;
        long m = -1;
        unsigned char kind = DUCK_TYPE_VARCHAR; /* a column left NULL: any type does */
        if (staging && strcmp(cn, ITEM_COL) == 0)
            m = -2;
        else if (staging && strcmp(cn, SEQ_COL) == 0)
            m = -3;
        for (size_t i = 0; m == -1 && i < t->ncols; i++)
            if (t->cols[i].type != SL_DT_NONE && strcasecmp(t->cols[i].name, cn) == 0)
                m = (long)i;
        if (m < -1) {
            kind = DUCK_TYPE_BIGINT;
        } else if (m >= 0) {
            switch (t->cols[m].type) {
            case SL_DT_BIGINT: kind = DUCK_TYPE_BIGINT; break;
            case SL_DT_DOUBLE: kind = DUCK_TYPE_DOUBLE; break;
            case SL_DT_BOOL: kind = DUCK_TYPE_BOOLEAN; break;
            case SL_DT_BINARY: kind = DUCK_TYPE_BLOB; break;
            default: break;
            }
        }
        d->ins_map[j] = m;
        d->vec[j].kind = d->vec[j].want = kind;
    }
    d->ins_nmap = kt->ncols;
    d->ins_ncols = t->ncols;
    d->chunk_cap = d->api->vector_size();
    d->unflushed = 0;
    if (!kt->appended) {
        kt->appended = 1;
        d->app_cols += kt->ncols;
    }
    rc = append_memory(d, 1);
    if (rc)
        return rc;
    if (d->api->appender_create_ext(d->conn, d->catalog, staging ? d->staging : d->dataset,
                                    kt->name, &d->app) != 0) {
        rc = dk_fail(d, d->app ? d->api->appender_error(d->app) : NULL,
                     "open the appender of table %s.%s", staging ? d->staging : d->dataset,
                     kt->name);
        insert_discard(d);
        sl_fail_locate(d->ctx, t->resource, -1, NULL);
        return rc;
    }
    d->ins = kt;
    d->ins_resource = t->resource;
    rc = chunk_make(d);
    if (rc)
        insert_discard(d);
    return rc;
}

static void put_null(struct sl_dest *d, struct dk_vec *c, duck_idx row)
{
    if (!c->valid) {
        d->api->vector_ensure_validity_writable(c->v);
        c->valid = d->api->vector_get_validity(c->v);
    }
    c->valid[row >> 6] &= ~((uint64_t)1 << (row & 63));
}

/*
 * Text into a VARCHAR vector. DuckDB's duckdb_vector_assign_string_element_len checks that
 * the text is UTF-8 (it stores NULL when not) and copies it into the vector's own string
 * heap, which the appender then copies once more into its buffer: ~3% of a 1M-item load's
 * samples. ASCII text, UTF-8 by construction, is written into the element directly: up to
 * 12 bytes inline, a longer string as a pointer into d->text, which keeps the bytes until
 * chunk_append has handed the chunk over. Other text takes DuckDB's call, as before.
 * -1 when out of memory.
 */
static int ascii(const char *s, size_t len)
{
    uint64_t acc = 0, w = 0;
    uint32_t h = 0, t = 0;
    if (len >= 8) { /* 8 bytes at a time, the last 8 overlapping */
        for (size_t i = 0; i + 8 <= len; i += 8) {
            memcpy(&w, s + i, 8);
            acc |= w;
        }
        memcpy(&w, s + len - 8, 8);
        acc |= w;
    } else if (len >= 4) {
        memcpy(&h, s, 4);
        memcpy(&t, s + len - 4, 4);
        acc = h | t;
    } else {
        for (size_t i = 0; i < len; i++)
            acc |= (unsigned char)s[i];
    }
    return (acc & 0x8080808080808080ull) == 0;
}

static int put_text(struct sl_dest *d, struct dk_vec *c, duck_idx row, const char *s,
                    size_t len)
{
    if (len > UINT32_MAX || !ascii(s, len)) {
        d->api->vector_assign_string_element_len(c->v, row, s, len);
        return 0;
    }
    duck_string *e = &((duck_string *)c->data)[row];
    if (len <= sizeof(e->value.inlined.inlined)) {
        memset(e, 0, sizeof(*e)); /* DuckDB compares inlined strings over all 16 bytes */
        e->value.inlined.length = (uint32_t)len;
        if (len)
            memcpy(e->value.inlined.inlined, s, len);
        return 0;
    }
    char *p = sl_arena_alloc(&d->text, len);
    if (!p)
        return -1;
    memcpy(p, s, len);
    e->value.pointer.length = (uint32_t)len;
    memcpy(e->value.pointer.prefix, s, sizeof(e->value.pointer.prefix));
    e->value.pointer.ptr = p;
    return 0;
}

static sluice_status duckdb_insert_row(struct sl_dest *d, const struct sl_value *vals,
                                       size_t nvals, int64_t item)
{
    const struct sl_duck_api *a = d->api;
    sluice_status rc = SLUICE_OK;
    if (!d->app)
        return sl_fail(d->ctx, SLUICE_ERR_INTERNAL, "xInsertRow without xInsertBegin");
    if (nvals > d->ins_ncols)
        return sl_fail(d->ctx, SLUICE_ERR_INTERNAL,
                       "row for table %s has %zu values, the insert was opened for %zu columns",
                       d->ins->name, nvals, d->ins_ncols);
    /* a value of another type than its vector's: the chunk ends before this row */
    int remake = 0;
    for (size_t j = 0; j < d->ins_nmap; j++) {
        long m = d->ins_map[j];
        if (m < 0 || (size_t)m >= nvals)
            continue;
        unsigned char k = value_kind(&vals[m], d->ins_bin[m]);
        if (k && k != d->vec[j].kind) {
            if (!remake && (rc = chunk_append(d, 0)) != SLUICE_OK)
                return rc;
            remake = 1;
            d->vec[j].kind = k;
        }
    }
    if (remake && (rc = chunk_make(d)) != SLUICE_OK)
        return rc;
    duck_idx row = d->chunk_rows;
    for (size_t j = 0; j < d->ins_nmap; j++) {
        struct dk_vec *c = &d->vec[j];
        long m = d->ins_map[j];
        if (m < -1) {
            ((int64_t *)c->data)[row] = m == -2 ? item : ++d->seq;
            continue;
        }
        const struct sl_value *v = m >= 0 && (size_t)m < nvals ? &vals[m] : NULL;
        if (!v || v->kind == SL_V_NULL || v->kind > SL_V_TEXT) {
            put_null(d, c, row);
            continue;
        }
        switch (c->kind) {
        case DUCK_TYPE_BIGINT:
            ((int64_t *)c->data)[row] = v->u.i;
            break;
        case DUCK_TYPE_DOUBLE:
            ((double *)c->data)[row] = v->u.d;
            break;
        case DUCK_TYPE_BOOLEAN:
            ((bool *)c->data)[row] = v->u.i != 0;
            break;
        case DUCK_TYPE_BLOB:
            if (decode_binary(&d->blob, v->u.s, v->len))
                return sl_nomem(d->ctx);
            a->vector_assign_string_element_len(c->v, row, d->blob.len ? d->blob.data : "",
                                                d->blob.len);
            break;
        default:
            if (put_text(d, c, row, v->u.s, v->len))
                return sl_nomem(d->ctx);
            break;
        }
    }
    if (++d->chunk_rows == d->chunk_cap)
        rc = chunk_append(d, 1);
    return rc;
}

/* Append the last chunk and close the appender: its buffered rows go into the table
 * (errors surface here). */
static sluice_status duckdb_insert_end(struct sl_dest *d)
{
    sluice_status rc = SLUICE_OK;
    if (!d->app)
        return SLUICE_OK;
    if (d->ctx->code == SLUICE_OK)
        rc = chunk_append(d, 0);
    if (rc == SLUICE_OK && d->ctx->code == SLUICE_OK && d->api->appender_close(d->app) != 0)
        rc = dk_fail(d, d->api->appender_error(d->app), "insert into table %s.%s",
                     d->ins->staging ? d->staging : d->dataset, d->ins->name);
    insert_discard(d);
    return rc;
}

/* ---- merge (sql_merge.c) ----------------------------------------------------------------- */

static void mg_table(struct sl_sql *q, void *ud, const char *name, int staging)
{
    dk_table_ref(q, ud, name, staging);
}

/*
 * DuckDB's memory while a merge scans the destination. With DuckDB's own limit (80% of the
 * machine's memory) every block a merge reads stays cached: a delete-insert joins the staged
 * keys with the key, _dlt_id and root-link columns of the whole chain, and merging 10k rows
 * into a 10M-row table (20M nested rows) peaked at 694 MiB. Its statements that reach the
 * destination (scan_d) run under a limit: the memory DuckDB uses when the first of them
 * starts (a limit below it would fail, and a failed SET aborts the transaction), plus
 * MERGE_MEMORY_MB of cache, plus what the scans may pin until the commit: the columns of the
 * transaction's tables (APPEND_COL_KB each, as appends), the staged rows' keys and row ids in
 * the joins (STAGED_ROW_BYTES a row), and the delete marks, DELETE_VECTOR_KB per 2048-row
 * vector holding a deleted row (measured with 1.5.6: 17.3 KiB a vector deleting one row in
 * each, 19 KiB deleting every other row), bounded by the rows of the chain's tables as which
 * of them go is not known before the deletes run. Its other statements (the staged rows'
 * winners, sorts and inserts: a limit over them failed merging 1M rows into 1M) keep DuckDB's
 * own limit, as do upsert and scd2: an UPDATE pins far more per vector it touches (265 MiB
 * updating one column of one row in each vector of a 10M-row table).
 */
#define MERGE_MEMORY_MB 32
#define STAGED_ROW_BYTES 256
#define DELETE_VECTOR_KB 24
#define DUCK_VECTOR_ROWS 2048

static sluice_status merge_memory(struct sl_dest *d, const struct sl_merge_spec *m)
{
    d->merge_kb = 0;
    if (m->strategy != SL_MERGE_DELETE_INSERT)
        return SLUICE_OK;
    int64_t vectors = 0, staged = 0;
    size_t cols = 0;
    sluice_status rc = SLUICE_OK;
    struct sl_sql q;
    sl_sql_init(&q);
    for (size_t i = 0; i <= m->nchildren && rc == SLUICE_OK; i++) {
        const char *name = i ? m->children[i - 1]->name : m->root->name;
        for (int staging = 0; staging < 2 && rc == SLUICE_OK; staging++) {
            struct dk_table *kt = NULL;
            int64_t rows = 0;
            rc = kt_get(d, name, staging, &kt);
            if (rc || !kt->exists)
                continue;
            cols += kt->ncols;
            sl_sql_reset(&q);
            sl_sql_put(&q, "SELECT count(*) FROM ");
            dk_table_ref(&q, d, name, staging);
            rc = dk_first_int_q(d, &q, &rows, "merge: count the rows of a table");
            if (staging)
                staged += rows;
            else
                vectors += (rows + DUCK_VECTOR_ROWS - 1) / DUCK_VECTOR_ROWS;
        }
    }
    sl_sql_cleanup(&q);
    if (rc == SLUICE_OK)
        d->merge_kb = (int64_t)(cols + d->app_cols) * APPEND_COL_KB +
                      staged * STAGED_ROW_BYTES / 1024 + vectors * DELETE_VECTOR_KB;
    return rc;
}

/* The limit of the merge's scans (see merge_memory), from the memory DuckDB uses now. */
static sluice_status scan_memory(struct sl_dest *d)
{
    int64_t used = 0;
    sluice_status rc = dk_first_int(d, "SELECT CAST(sum(memory_usage_bytes) AS BIGINT) FROM "
                                       "duckdb_memory()", NULL, 0, &used,
                                    "merge: read DuckDB's memory use");
    int64_t mb = MERGE_MEMORY_MB + (used / 1024 + d->merge_kb + 1023) / 1024;
    return rc ? rc : set_memory(d, mb > INT32_MAX ? 0 : (int)mb);
}

/* One statement (or several, without parameters). The scd2 placeholders are $1 (boundary)
 * and $2 (active); a text with $2 alone has it renumbered $1, as DuckDB wants parameters
 * without gaps. */
static sluice_status mg_run(struct sl_dest *d, const char *sql, int nparams,
                            const char *const *params, int64_t *changes, const char *what)
{
    int has1 = nparams && strstr(sql, "$1") != NULL;
    int has2 = nparams > 1 && strstr(sql, "$2") != NULL;
    if (!has1 && !has2)
        return dk_exec_n(d, sql, changes, what);
    if (has1) {
        struct dk_param p[2] = { P_TEXT(params[0]), P_TEXT(has2 ? params[1] : NULL) };
        return dk_run_n(d, sql, p, has2 ? 2 : 1, changes, what);
    }
    char *one = sl_strdup(sql);
    if (!one)
        return sl_nomem(d->ctx);
    for (char *at = strstr(one, "$2"); at; at = strstr(at + 2, "$2"))
        at[1] = '1';
    struct dk_param p[1] = { P_TEXT(params[1]) };
    sluice_status rc = dk_run_n(d, one, p, 1, changes, what);
    sl_free(one);
    return rc;
}

/* DuckDB has no indexes here: a statement reaching the destination table (scan_d) is a hash
 * join over a scan of it. The merge's scans run under its memory limit (merge_memory), the
 * statements before and after them under DuckDB's own. */
static sluice_status mg_exec(void *ud, const char *sql, int scan_d, int nparams,
                             const char *const *params, int64_t *changes, const char *what)
{
    struct sl_dest *d = ud;
    sluice_status rc = SLUICE_OK;
    *changes = 0;
    if (scan_d && d->merge_kb && !d->merge_low) {
        rc = scan_memory(d);
        d->merge_low = rc == SLUICE_OK;
    } else if (!scan_d && d->merge_low) {
        rc = append_memory(d, 0);
        d->merge_low = 0;
    }
    return rc ? rc : mg_run(d, sql, nparams, params, changes, what);
}

static sluice_status mg_count(void *ud, const char *sql, int64_t *out, const char *what)
{
    return dk_first_int(ud, sql, NULL, 0, out, what);
}

/* The staging copy of a table when rows were appended to it in this transaction. */
static struct dk_table *staged_copy(struct sl_dest *d, const char *name)
{
    struct dk_table *kt = kt_find(d, name, 1);
    return kt && kt->exists && kt->fresh ? kt : NULL;
}

static int mg_staged(void *ud, const char *name)
{
    return staged_copy(ud, name) != NULL;
}

static sluice_status mg_exists(void *ud, const char *name, int *exists)
{
    struct dk_table *kt = NULL;
    sluice_status rc = kt_get(ud, name, 0, &kt);
    *exists = rc == SLUICE_OK && kt->exists;
    return rc;
}

/* Staged rows are told apart by "_sl_seq" (the staging order), destination rows by DuckDB's
 * rowid. */
static sluice_status mg_sync(void *ud, const struct sl_table *t, int staging, const char **rowid)
{
    if (rowid)
        *rowid = staging ? "\"" SEQ_COL "\"" : "rowid";
    return sync_table(ud, t, staging, NULL);
}

/* Once the chain is synced (after every ALTER): the pending truncates, and the memory limit
 * of the merge's scans. */
static sluice_status mg_ready(void *ud, const struct sl_merge_spec *m)
{
    sluice_status rc = flush_truncates(ud, NULL);
    return rc ? rc : merge_memory(ud, m);
}

#define TSTZ "TIMESTAMP WITH TIME ZONE"

static const struct sl_sql_merge_ops dk_merge_ops = {
    .table = mg_table,
    .id = sl_sql_id,
    .temp = "temp.",
    .true_lit = "true",
    .false_lit = "false",
    .rid_type = "BIGINT",
    .int_type = "BIGINT",
    .bool_type = "BOOLEAN",
    .key_join = "JOIN",
    .param = { "CAST($1 AS " TSTZ ")", "CAST($2 AS " TSTZ ")" },
    .exec = mg_exec,
    .count = mg_count,
    .staged = mg_staged,
    .exists = mg_exists,
    .sync = mg_sync,
    .ready = mg_ready,
};

static sluice_status duckdb_merge(struct sl_dest *d, const struct sl_merge_spec *m)
{
    sluice_status rc = append_memory(d, 0); /* DuckDB's own limit but for the scans */
    d->merge_kb = 0;
    d->merge_low = 0;
    if (rc == SLUICE_OK)
        rc = sl_sql_merge(&dk_merge_ops, d, &d->fx, d->ctx, m);
    if (rc == SLUICE_OK && d->merge_low)
        rc = append_memory(d, 0);
    d->merge_kb = 0;
    d->merge_low = 0;
    return rc;
}

/* ---- the fast first merge (destination.h) ------------------------------------------------ */

/* A table with a truncate still pending (duckdb_truncate) still has its rows: its chain takes
 * the staging route. */
static sluice_status duckdb_is_empty(struct sl_dest *d, const char *table, int *empty)
{
    return sl_sql_merge_is_empty(&dk_merge_ops, d, d->ctx, table, empty);
}

static sluice_status duckdb_merge_direct_clean(struct sl_dest *d, const struct sl_merge_spec *m,
                                               int *clean)
{
    /* DuckDB's own limit for the check and what follows (the appends are over) */
    sluice_status rc = append_memory(d, 0);
    *clean = 0;
    return rc ? rc : sl_sql_merge_direct_clean(&dk_merge_ops, d, d->ctx, m, clean);
}

/* ---- transactions ------------------------------------------------------------------------ */

static void duckdb_rollback(struct sl_dest *d)
{
    if (!d)
        return;
    insert_discard(d);
    if (d->in_txn) {
        duck_result res;
        memset(&res, 0, sizeof(res));
        d->api->query(d->conn, "ROLLBACK", &res);
        d->api->destroy_result(&res);
    }
    default_memory(d);
    d->app_cols = 0;
    cache_clear(d);
    sl_effects_clear(&d->fx);
    forget_truncates(d);
    d->staging_ok = 0;
    d->in_txn = 0;
}

/* dlt's system tables on DuckDB (below) */
static const struct sl_systables dk_systables;

static sluice_status duckdb_begin(struct sl_dest *d)
{
    struct sl_sql q;
    if (d->in_txn)
        return sl_fail(d->ctx, SLUICE_ERR_INTERNAL, "a transaction is already open");
    sluice_status rc = dk_exec(d, "BEGIN TRANSACTION", "begin a transaction");
    if (rc)
        return rc;
    d->in_txn = 1;
    d->seq = 0;
    sl_effects_clear(&d->fx);
    cache_clear(d);
    sl_sql_init(&q);
    sl_sql_put(&q, "CREATE SCHEMA IF NOT EXISTS ");
    sl_sql_id(&q, d->dataset);
    sl_sql_put(&q, ";\n");
    for (size_t i = 0; i < SL_SYS_TABLES; i++) {
        sl_sql_put(&q, "CREATE TABLE IF NOT EXISTS ");
        dk_table_ref(&q, d, sl_sys_table_name(i), 0);
        sl_sys_columns(&q, &dk_systables, i);
        sl_sql_put(&q, ";\n");
    }
    sl_sql_put(&q, "SET schema = ");
    sl_sql_put(&q, "'");
    for (const char *p = d->dataset; *p; p++) /* a string literal: quotes doubled */
        sl_sql_put(&q, *p == '\'' ? "''" : (char[2]){ *p, 0 });
    sl_sql_put(&q, "'");
    rc = dk_exec_q(d, &q, NULL, "create the dataset and its system tables");
    sl_sql_cleanup(&q);
    if (rc)
        duckdb_rollback(d);
    return rc;
}

static sluice_status duckdb_commit(struct sl_dest *d)
{
    struct sl_sql q;
    sluice_status rc = SLUICE_OK;
    if (!d->in_txn)
        return sl_fail(d->ctx, SLUICE_ERR_INTERNAL, "commit without a transaction");
    rc = duckdb_insert_end(d);
    if (rc == SLUICE_OK)
        rc = flush_truncates(d, NULL);
    sl_sql_init(&q);
    if (rc == SLUICE_OK && d->staging_ok) {
        /* staging copies and scratch tables go: the staging schema is empty between loads */
        duck_result res;
        struct dk_param p[1] = { P_TEXT(d->staging) };
        rc = dk_run(d, "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
                    p, 1, &res, "list the staging tables");
        for (duck_idx r = 0; rc == SLUICE_OK && r < d->api->row_count(&res); r++) {
            char *name = d->api->value_varchar(&res, 0, r);
            if (!name) {
                rc = sl_nomem(d->ctx);
                break;
            }
            sl_sql_put(&q, "DROP TABLE IF EXISTS ");
            dk_table_ref(&q, d, name, 1);
            sl_sql_put(&q, ";\n");
            d->api->free(name);
        }
        d->api->destroy_result(&res);
        if (rc == SLUICE_OK && (q.b.len || q.bad))
            rc = dk_exec_q(d, &q, NULL, "drop the staging tables");
    }
    if (rc == SLUICE_OK)
        rc = append_memory(d, 0);
    if (rc == SLUICE_OK)
        rc = dk_exec(d, "COMMIT", "commit");
    sl_sql_cleanup(&q);
    if (rc) {
        duckdb_rollback(d);
        return rc;
    }
    d->in_txn = 0;
    default_memory(d);
    d->app_cols = 0;
    d->staging_ok = 0;
    cache_clear(d);
    return SLUICE_OK;
}

/* ---- system tables (systables.h) --------------------------------------------------------- */

static void sys_table(struct sl_sql *q, void *ud, const char *name)
{
    dk_table_ref(q, ud, name, 0);
}

static void sys_param(struct sl_sql *q, int n, enum sl_sys_type t)
{
    char p[16];
    snprintf(p, sizeof(p), "$%d", n);
    if (t == SL_SYS_TIME) {
        sl_sql_put(q, "CAST(");
        sl_sql_put(q, p);
        sl_sql_put(q, " AS TIMESTAMP WITH TIME ZONE)");
    } else {
        sl_sql_put(q, p);
    }
}

static sluice_status sys_have(void *ud, const char *name, int *have)
{
    struct sl_dest *d = ud;
    return table_exists(d, d->dataset, name, have);
}

/* Integers bound as integers, the rest as text; each row's values as VARCHAR text. */
static sluice_status sys_run(void *ud, const char *sql, const struct sl_sys_param *p, int np,
                             sl_sys_row_fn fn, void *fud, const char *what)
{
    struct sl_dest *d = ud;
    struct dk_param dp[8];
    duck_result res;
    if (np > 8)
        return sl_fail(d->ctx, SLUICE_ERR_INTERNAL, "%s: too many parameters", what);
    for (int i = 0; i < np; i++)
        dp[i] = p[i].type == SL_SYS_INT ? P_INT(p[i].i) : P_TEXT(p[i].text);
    sluice_status rc = dk_run(d, sql, dp, (size_t)np, &res, what);
    duck_idx rows = rc == SLUICE_OK && fn ? d->api->row_count(&res) : 0;
    duck_idx ncols = rows ? d->api->column_count(&res) : 0;
    if (ncols > 8)
        rc = sl_fail(d->ctx, SLUICE_ERR_INTERNAL, "%s: too many columns", what);
    for (duck_idx r = 0; rc == SLUICE_OK && r < rows; r++) {
        char *vals[8] = { NULL };
        int bad = 0;
        for (duck_idx c = 0; c < ncols; c++) {
            if (d->api->value_is_null(&res, c, r))
                continue;
            vals[c] = d->api->value_varchar(&res, c, r);
            bad |= vals[c] == NULL;
        }
        if (bad || fn(fud, (const char *const *)vals, (size_t)ncols))
            rc = sl_nomem(d->ctx);
        for (duck_idx c = 0; c < ncols; c++)
            d->api->free(vals[c]);
    }
    d->api->destroy_result(&res);
    return rc;
}

/* DuckDB's TIMESTAMP WITH TIME ZONE columns; state times read as ISO 8601 UTC text; load ids
 * in numeric order (exact: DECIMAL, not DOUBLE), ties to the longer, larger text. */
static const struct sl_systables dk_systables = {
    .table = sys_table,
    .param = sys_param,
    .text_type = "VARCHAR",
    .load_id_type = "VARCHAR",
    .dlt_id_type = "VARCHAR",
    .int_type = "BIGINT",
    .time_type = "TIMESTAMP WITH TIME ZONE",
    .newest_load = "TRY_CAST(\"load_id\" AS DECIMAL(38,10)) DESC NULLS LAST, "
                   "length(\"load_id\") DESC, \"load_id\" DESC",
    .created_at = "strftime(CAST(s.\"created_at\" AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%fZ')",
    .have = sys_have,
    .run = sys_run,
};

static sluice_status duckdb_load_exists(struct sl_dest *d, const char *load_id, int *exists)
{
    return sl_sys_load_exists(&dk_systables, d, d->ctx, load_id, exists);
}

static sluice_status duckdb_insert_load(struct sl_dest *d, const char *load_id,
                                        const char *schema_name,
                                        const char *schema_version_hash)
{
    return sl_sys_insert_load(&dk_systables, d, d->ctx, load_id, schema_name,
                              schema_version_hash);
}

static sluice_status duckdb_newest_load_id(struct sl_dest *d, char **out)
{
    return sl_sys_newest_load_id(&dk_systables, d, d->ctx, out);
}

static sluice_status duckdb_delete_schema_versions(struct sl_dest *d, const char *schema_name)
{
    return sl_sys_delete_schema_versions(&dk_systables, d, d->ctx, schema_name);
}

static sluice_status duckdb_save_schema(struct sl_dest *d, const char *schema_name,
                                        int64_t version, const char *version_hash,
                                        const char *schema_json)
{
    return sl_sys_save_schema(&dk_systables, d, d->ctx, schema_name, version, version_hash,
                              schema_json);
}

static sluice_status duckdb_load_schema(struct sl_dest *d, const char *schema_name,
                                        char **json_out)
{
    return sl_sys_load_schema(&dk_systables, d, d->ctx, schema_name, json_out);
}

/* One state per version: a second, different state with a version already written is
 * refused (what the sqlite destination's trigger does; the same state again is allowed). */
static sluice_status duckdb_save_state(struct sl_dest *d, const struct sl_state_row *row)
{
    struct sl_sql q;
    int64_t clash = 0;
    sl_sql_init(&q);
    sl_sql_put(&q, "SELECT count(*) FROM ");
    dk_table_ref(&q, d, "_dlt_pipeline_state", 0);
    sl_sql_put(&q, " WHERE \"pipeline_name\" = $1 AND \"version\" = $2 AND "
                   "\"version_hash\" IS DISTINCT FROM $3");
    const char *text = sl_sql_text(d->ctx, &q);
    struct dk_param c[3] = { P_TEXT(row->pipeline_name), P_INT(row->version),
                             P_TEXT(row->version_hash) };
    sluice_status rc = text ? dk_first_int(d, text, c, 3, &clash, "check the state version")
                            : d->ctx->code;
    sl_sql_cleanup(&q);
    if (rc == SLUICE_OK && clash)
        rc = dk_fail(d, "a different pipeline state with this version was already committed "
                        "(another process loaded in between)",
                     "store the pipeline state");
    return rc ? rc : sl_sys_save_state(&dk_systables, d, d->ctx, row);
}

static sluice_status duckdb_load_state(struct sl_dest *d, const char *pipeline,
                                       struct sl_state_row_owned *out, int *found)
{
    return sl_sys_load_state(&dk_systables, d, d->ctx, pipeline, out, found);
}

/* ---- inspection -------------------------------------------------------------------------- */

/* The type of column col's values, and how sluice renders their text (sql.h). */
static sluice_value_type value_type(struct sl_dest *d, duck_result *res, duck_idx col,
                                    enum sl_sql_render_kind *kind)
{
    *kind = SL_RENDER_AS_IS;
    switch (d->api->column_type(res, col)) {
    case DUCK_TYPE_BOOLEAN:
        *kind = SL_RENDER_BOOL;
        return SLUICE_VALUE_BOOL;
    case DUCK_TYPE_TINYINT:
    case DUCK_TYPE_SMALLINT:
    case DUCK_TYPE_INTEGER:
    case DUCK_TYPE_BIGINT:
    case DUCK_TYPE_UTINYINT:
    case DUCK_TYPE_USMALLINT:
    case DUCK_TYPE_UINTEGER:
    case DUCK_TYPE_UBIGINT:
    case DUCK_TYPE_HUGEINT:
        return SLUICE_VALUE_INTEGER;
    case DUCK_TYPE_DECIMAL:
        *kind = SL_RENDER_NUMERIC; /* 12.5, not decimal(38, 9)'s 12.500000000 (as SQLite) */
        return SLUICE_VALUE_REAL;
    case DUCK_TYPE_FLOAT:
    case DUCK_TYPE_DOUBLE:
        return SLUICE_VALUE_REAL;
    case DUCK_TYPE_BLOB:
        return SLUICE_VALUE_BLOB;
    case DUCK_TYPE_TIMESTAMP_TZ:
        *kind = SL_RENDER_TIMESTAMPTZ;
        return SLUICE_VALUE_TEXT;
    default: {
        duck_logical_type lt = d->api->column_logical_type(res, col);
        char *alias = lt ? d->api->logical_type_get_alias(lt) : NULL;
        int json = alias && strcmp(alias, "JSON") == 0;
        d->api->free(alias);
        if (lt)
            d->api->destroy_logical_type(&lt);
        if (json)
            *kind = SL_RENDER_JSON;
        return json ? SLUICE_VALUE_JSON : SLUICE_VALUE_TEXT;
    }
    }
}

/* Does a result column need a cast to VARCHAR before duckdb_value_varchar can render it?
 * (That call renders the types up to DECIMAL; TIMESTAMP WITH TIME ZONE, lists, structs,
 * UUIDs and the later types come back NULL.) */
static int needs_cast(struct sl_dest *d, duck_result *res, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (d->api->column_type(res, i) > DUCK_TYPE_DECIMAL)
            return 1;
    return 0;
}

/* The last statement of sql (several separated by ';' run in one call, the last one's rows
 * are the result): its offset, *len its length without the ';' and blanks that end it. Quoted
 * strings and names, -- and block comments are skipped. */
static size_t last_statement(const char *sql, size_t *len)
{
    size_t start = 0, end = 0, next = 0, i = 0, n = strlen(sql);
    int semi = 0; /* a ';' since the last token: the next token starts a statement */
    while (i < n) {
        char c = sql[i];
        if (c == '-' && sql[i + 1] == '-') {
            i += strcspn(sql + i, "\n");
            continue;
        }
        if (c == '/' && sql[i + 1] == '*') {
            const char *close = strstr(sql + i + 2, "*/");
            i = close ? (size_t)(close - sql) + 2 : n;
            continue;
        }
        if (c == ';') {
            semi = 1;
            next = ++i;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            i++;
            continue;
        }
        if (c == '\'' || c == '"') { /* '' inside a string reads as two strings: the same */
            const char *close = strchr(sql + i + 1, c);
            i = close ? (size_t)(close - sql) + 1 : n;
        } else {
            i++;
        }
        if (semi) {
            start = next;
            semi = 0;
        }
        end = i;
    }
    *len = end > start ? end - start : 0;
    return start;
}

/* One callback per row: fn (untyped) or tfn (typed), of sql's last statement: the ones before
 * it run first, in a call of their own (given several statements, DuckDB answers with the
 * rows of the first that returns rows, not of the last). A SELECT with columns of types the
 * C API does not render runs again as SELECT COLUMNS(*)::VARCHAR FROM (it): names, order and
 * values as DuckDB prints them; the types are the first run's. */
static sluice_status run_query(struct sl_dest *d, const char *sql, sluice_row_fn fn,
                               sluice_typed_row_fn tfn, void *ud)
{
    const struct sl_duck_api *a = d->api;
    duck_result res, res2;
    memset(&res, 0, sizeof(res));
    memset(&res2, 0, sizeof(res2));
    duck_result *rows_from = &res;
    sluice_status rc = SLUICE_OK;
    const char **names = NULL, **vals = NULL;
    size_t *offs = NULL;
    sluice_value_type *types = NULL, *coltypes = NULL;
    enum sl_sql_render_kind *kinds = NULL;
    struct sl_buf scratch;
    struct sl_sql q;
    size_t n = 0;
    sl_buf_init(&scratch, 0);
    sl_sql_init(&q);
    size_t len = 0, at = last_statement(sql, &len);
    char *last = at ? sl_strndup(sql + at, len) : NULL;
    if (at) {
        char *head = sl_strndup(sql, at);
        if (!head || !last) {
            sl_free(head);
            rc = sl_nomem(d->ctx);
            goto done;
        }
        if (a->query(d->conn, head, &res) != 0)
            rc = dk_fail(d, a->result_error(&res), "query");
        sl_free(head);
        a->destroy_result(&res);
        memset(&res, 0, sizeof(res));
        if (rc)
            goto done;
    }
    if (a->query(d->conn, last ? last : sql, &res) != 0) {
        rc = dk_fail(d, a->result_error(&res), "query");
        goto done;
    }
    n = (size_t)a->column_count(&res);
    if (needs_cast(d, &res, n) && a->result_statement_type(res) == 1) {
        sl_sql_put(&q, "SELECT COLUMNS(*)::VARCHAR FROM (");
        sl_sql_putn(&q, sql + at, len);
        sl_sql_put(&q, "\n)");
        const char *text = sl_sql_text(d->ctx, &q);
        if (!text) {
            rc = d->ctx->code;
            goto done;
        }
        if (a->query(d->conn, text, &res2) != 0 || a->column_count(&res2) != n) {
            rc = dk_fail(d, a->result_error(&res2), "query (its values cast to text)");
            goto done;
        }
        rows_from = &res2;
    }
    duck_idx rows = a->row_count(rows_from);
    names = sl_calloc(n + 1, sizeof(char *));
    vals = sl_calloc(n + 1, sizeof(char *));
    offs = sl_calloc(n + 1, sizeof(size_t));
    types = sl_calloc(n + 1, sizeof(*types));
    coltypes = sl_calloc(n + 1, sizeof(*coltypes));
    kinds = sl_calloc(n + 1, sizeof(*kinds));
    if (!names || !vals || !offs || !types || !coltypes || !kinds) {
        rc = sl_nomem(d->ctx);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        names[i] = a->column_name(&res, i);
        coltypes[i] = value_type(d, &res, i, &kinds[i]);
    }
    for (duck_idx r = 0; r < rows; r++) {
        sl_buf_reset(&scratch);
        for (size_t i = 0; i < n; i++) {
            types[i] = SLUICE_VALUE_NULL;
            offs[i] = scratch.len;
            if (a->value_is_null(rows_from, i, r))
                continue;
            char *v = a->value_varchar(rows_from, i, r);
            if (!v) {
                rc = dk_fail(d, "a value cannot be rendered as text", "query");
                goto done;
            }
            int bad = sl_sql_render(&scratch, kinds[i], v);
            a->free(v);
            if (bad) {
                rc = sl_nomem(d->ctx);
                goto done;
            }
            types[i] = coltypes[i];
        }
        for (size_t i = 0; i < n; i++)
            vals[i] = types[i] == SLUICE_VALUE_NULL ? NULL : scratch.data + offs[i];
        int halt = tfn ? tfn(ud, (int)n, names, vals, types) : fn ? fn(ud, (int)n, names, vals) : 0;
        if (halt)
            break;
    }
done:
    sl_free(last);
    sl_buf_cleanup(&scratch);
    sl_free(offs);
    sl_free(kinds);
    a->destroy_result(&res);
    a->destroy_result(&res2);
    sl_sql_cleanup(&q);
    sl_free(names);
    sl_free(vals);
    sl_free(types);
    sl_free(coltypes);
    return rc;
}

static sluice_status duckdb_query(struct sl_dest *d, const char *sql, sluice_row_fn fn, void *ud)
{
    return run_query(d, sql, fn, NULL, ud);
}

static sluice_status duckdb_query_typed(struct sl_dest *d, const char *sql,
                                        sluice_typed_row_fn fn, void *ud)
{
    return run_query(d, sql, NULL, fn, ud);
}

static sluice_status duckdb_list_tables(struct sl_dest *d, sl_table_list_fn fn, void *ud)
{
    duck_result res;
    struct sl_sql q;
    sl_sql_init(&q);
    struct dk_param p[1] = { P_TEXT(d->dataset) };
    sluice_status rc = dk_run(d, "SELECT table_name FROM information_schema.tables WHERE "
                                 "table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY "
                                 "table_name",
                              p, 1, &res, "list tables");
    duck_idx rows = rc == SLUICE_OK ? d->api->row_count(&res) : 0;
    for (duck_idx r = 0; r < rows && rc == SLUICE_OK; r++) {
        char *name = d->api->value_varchar(&res, 0, r);
        if (!name) {
            rc = sl_nomem(d->ctx);
            break;
        }
        int64_t n = 0;
        sl_sql_reset(&q);
        sl_sql_put(&q, "SELECT count(*) FROM ");
        dk_table_ref(&q, d, name, 0);
        rc = dk_first_int_q(d, &q, &n, "count rows");
        if (rc == SLUICE_OK)
            rc = fn(ud, name, n);
        d->api->free(name);
    }
    d->api->destroy_result(&res);
    sl_sql_cleanup(&q);
    return rc;
}

/* ---- one database object per file ------------------------------------------------------ */

/*
 * A DuckDB file is opened once per process: the handles of one path share its database
 * object, each with a connection of its own (DuckDB locks the file per database object, so
 * a second duckdb_open of it in the process would fail). That is what lets the load thread
 * (run/loadpipe.h, second_handle) run a package's transaction on a handle of its own while
 * the pipeline's handle stays open. ":memory:" is shared too: a second handle of the same
 * dataset must see the same database. The last handle of a path closes it.
 */
struct dk_shared {
    char *path;
    duck_database db;
    int refs;
    int *low_mem;   /* see set_memory */
};

static struct dk_shared *shared;
static size_t nshared, capshared;
static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER;

/* The database of d->path, shared or opened now; on failure DuckDB's error in *err
 * (duckdb_free it; NULL: out of memory) and in *holder the process holding the file's lock
 * (sl_filelock_holder: /proc/locks, nothing of the file opened). */
static duck_state shared_open(struct sl_dest *d, char **err, long *holder)
{
    duck_state st = 1;
    pthread_mutex_lock(&shared_mu);
    for (size_t i = 0; i < nshared; i++) {
        if (strcmp(shared[i].path, d->path) == 0) {
            shared[i].refs++;
            d->db = shared[i].db;
            d->low_mem = shared[i].low_mem;
            pthread_mutex_unlock(&shared_mu);
            return 0;
        }
    }
    if (nshared == capshared) {
        size_t ncap = capshared ? capshared * 2 : 4;
        struct dk_shared *n = sl_realloc(shared, ncap * sizeof(*n));
        if (!n)
            goto done;
        shared = n;
        capshared = ncap;
    }
    char *path = sl_strdup(d->path);
    int *low = sl_calloc(1, sizeof(int));
    if (!path || !low) {
        sl_free(path);
        sl_free(low);
        goto done;
    }
    st = d->api->open_ext(d->path, &d->db, NULL, err);
    if (st != 0) {
        d->db = NULL;
        sl_free(path);
        sl_free(low);
        if (*err && strcmp(d->path, ":memory:") != 0)
            *holder = sl_filelock_holder(d->path);
        goto done;
    }
    d->low_mem = low;
    shared[nshared++] = (struct dk_shared){ path, d->db, 1, low };
done:
    pthread_mutex_unlock(&shared_mu);
    return st;
}

/* d's reference to its database goes; the last one closes it. */
static void shared_close(struct sl_dest *d)
{
    pthread_mutex_lock(&shared_mu);
    for (size_t i = 0; i < nshared; i++) {
        if (shared[i].db != d->db)
            continue;
        if (--shared[i].refs == 0) {
            d->api->close(&shared[i].db);
            sl_free(shared[i].path);
            sl_free(shared[i].low_mem);
            shared[i] = shared[--nshared];
        }
        break;
    }
    if (nshared == 0) {
        sl_free(shared);
        shared = NULL;
        capshared = 0;
    }
    pthread_mutex_unlock(&shared_mu);
    d->db = NULL;
    d->low_mem = NULL;
}

/* Open the database file, waiting while another process holds it (see the top comment). */
static sluice_status open_db(struct sl_dest *d, const struct sl_dest_config *cfg)
{
    const struct sl_duck_api *api = d->api;
    double limit = cfg->lock_timeout_set ? cfg->lock_timeout : LOCK_WAIT_DEFAULT;
    double start = sl_clock_mono();
    long seen = 0; /* the holder we are waiting for */
    char who[128];
    for (;;) {
        char *err = NULL;
        long pid = 0;
        duck_state st = shared_open(d, &err, &pid);
        if (st == 0) {
            api->free(err);
            if (seen)
                sl_log(d->ctx, SLUICE_LOG_INFO, "duckdb destination %s: the file is free, "
                       "after %.1f s", d->path, sl_clock_mono() - start);
            return SLUICE_OK;
        }
        if (!err)
            return sl_nomem(d->ctx);
        double waited = sl_clock_mono() - start;
        int stop = cfg->stop && cfg->stop(cfg->stop_ud);
        sluice_status rc = SLUICE_OK;
        if (pid == 0 && !seen) {
            rc = dk_fail(d, err, "cannot open DuckDB database %s", d->path);
        } else if (stop || waited >= limit) {
            sl_filelock_holder_text(pid ? pid : seen, who, sizeof(who));
            if (stop)
                rc = sl_fail(d->ctx, SLUICE_ERR_INTERRUPTED,
                             "duckdb destination %s: interrupted while waiting for another "
                             "process (%s) to release the database file: nothing was done",
                             d->path, who);
            else
                rc = sl_fail(d->ctx, SLUICE_ERR_LOCKED,
                             "duckdb destination %s: the database file is held by another "
                             "process (%s) and stayed so for %g s (destination.lock_timeout)",
                             d->path, who, limit);
            sl_fail_origin(d->ctx, "duckdb", "");
        }
        api->free(err);
        if (rc)
            return rc;
        if (pid != 0 && pid != seen) {
            sl_filelock_holder_text(pid, who, sizeof(who));
            sl_log(d->ctx, SLUICE_LOG_INFO, "duckdb destination %s: waiting for the process "
                   "holding the file (%s), up to %g s (destination.lock_timeout)", d->path, who,
                   limit);
            seen = pid;
        }
        double left = limit - waited;
        struct timespec ts = { 0, 100 * 1000000L };
        if (left < 0.1)
            ts.tv_nsec = left > 0 ? (long)(left * 1e9) : 0;
        nanosleep(&ts, NULL);
    }
}

static void duckdb_close(struct sl_dest *d)
{
    if (!d)
        return;
    if (d->conn) {
        duckdb_rollback(d);
        d->api->disconnect(&d->conn);
    }
    if (d->db)
        shared_close(d);
    cache_clear(d);
    sl_effects_clear(&d->fx);
    sl_effects_free(&d->fx);
    forget_truncates(d);
    sl_free(d->trunc);
    sl_free(d->tabs);
    sl_free(d->ins_map);
    sl_free(d->ins_bin);
    sl_free(d->vec);
    sl_buf_cleanup(&d->blob);
    sl_arena_cleanup(&d->text);
    sl_free(d->path);
    sl_free(d->catalog);
    sl_free(d->dataset);
    sl_free(d->staging);
    sl_free(d);
}

static sluice_status duckdb_open(struct sl_ctx *ctx, const struct sl_dest_config *cfg,
                                 struct sl_dest **out)
{
    struct sl_dest *d = NULL;
    sluice_status rc = SLUICE_OK;
    *out = NULL;
    if (!cfg || !cfg->path || !*cfg->path)
        return sl_fail(ctx, SLUICE_ERR_CONFIG, "the duckdb destination needs a path");
    if (!cfg->dataset || !*cfg->dataset)
        return sl_fail(ctx, SLUICE_ERR_CONFIG, "the duckdb destination needs a dataset name");
    const struct sl_duck_api *api = sl_duck_load(ctx);
    if (!api)
        return ctx->code;
    d = sl_calloc(1, sizeof(*d));
    if (!d)
        return sl_nomem(ctx);
    d->ctx = ctx;
    d->api = api;
    sl_buf_init(&d->blob, 0);
    sl_arena_init(&d->text, 256 * 1024);
    if (cfg->path[0] != '/' && strcmp(cfg->path, ":memory:") != 0 && cfg->base_dir &&
        *cfg->base_dir)
        d->path = sl_aprintf("%s/%s", cfg->base_dir, cfg->path);
    else
        d->path = sl_strdup(cfg->path);
    /* the schema names as dlt normalizes them (snake_case; DuckDB has no length limit) */
    d->dataset = sl_naming_normalize_identifier(cfg->dataset, strlen(cfg->dataset), 0);
    char *stg = sl_aprintf("%s_staging", cfg->dataset);
    d->staging = stg ? sl_naming_normalize_identifier(stg, strlen(stg), 0) : NULL;
    sl_free(stg);
    if (!d->path || !d->dataset || !d->staging) {
        rc = sl_nomem(ctx);
        goto fail;
    }
    if (cfg->must_exist && strcmp(d->path, ":memory:") != 0 && !sl_fs_exists(d->path)) {
        rc = sl_fail(ctx, SLUICE_ERR_NOT_FOUND, "database not found: %s", d->path);
        goto fail;
    }
    rc = open_db(d, cfg);
    if (rc)
        goto fail;
    if (api->connect(d->db, &d->conn) != 0) {
        d->conn = NULL;
        rc = dk_fail(d, "cannot connect", "cannot open DuckDB database %s", d->path);
        goto fail;
    }
    /* timestamps print in UTC, as the normalizer writes them; the dataset is the default
     * schema of queries once it exists */
    duck_result res;
    memset(&res, 0, sizeof(res));
    api->query(d->conn, "SET TimeZone = 'UTC'", &res); /* without ICU: already UTC */
    api->destroy_result(&res);
    rc = dk_run(d, "SELECT current_database()", NULL, 0, &res, "look up the database's name");
    if (rc == SLUICE_OK) {
        char *name = api->row_count(&res) > 0 ? api->value_varchar(&res, 0, 0) : NULL;
        d->catalog = name ? sl_strdup(name) : NULL;
        api->free(name);
        if (!d->catalog)
            rc = dk_fail(d, "no name", "look up the database's name");
    }
    api->destroy_result(&res);
    if (rc)
        goto fail;
    /* one DuckDB thread: sluice's extract and normalize threads keep the other cores busy
     * while a package loads, and DuckDB's idle workers spin on its task queue (an eighth of
     * a 1M-row load's CPU time on 2 cores); the loads are appends and merges of one package */
    memset(&res, 0, sizeof(res));
    api->query(d->conn, "SET threads = 1", &res);
    api->destroy_result(&res);
    char *lim = NULL;
    rc = dk_first_text(d, "SELECT current_setting('memory_limit')", NULL, 0, &lim,
                       "read DuckDB's memory limit");
    if (rc == SLUICE_OK && (!lim || strlen(lim) > 60 || strchr(lim, '\'')))
        rc = dk_fail(d, lim ? lim : "none", "read DuckDB's memory limit");
    if (rc == SLUICE_OK)
        snprintf(d->default_limit, sizeof(d->default_limit), "SET memory_limit = '%s'", lim);
    sl_free(lim);
    if (rc)
        goto fail;
    struct sl_sql q;
    sl_sql_init(&q);
    int have = 0;
    struct dk_param p[1] = { P_TEXT(d->dataset) };
    int64_t n = 0;
    rc = dk_first_int(d, "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1",
                      p, 1, &n, "look up the dataset");
    have = n > 0;
    if (rc == SLUICE_OK && have) {
        sl_sql_put(&q, "SET schema = '");
        for (const char *s = d->dataset; *s; s++)
            sl_sql_put(&q, *s == '\'' ? "''" : (char[2]){ *s, 0 });
        sl_sql_put(&q, "'");
        rc = dk_exec_q(d, &q, NULL, "use the dataset");
    }
    sl_sql_cleanup(&q);
    if (rc)
        goto fail;
    *out = d;
    return SLUICE_OK;
fail:
    duckdb_close(d);
    return rc;
}

const struct sl_dest_methods sl_dest_duckdb = {
    .version = 2,
    .name = "duckdb",
    .second_handle = 1,
    .xOpen = duckdb_open,
    .xClose = duckdb_close,
    .xBegin = duckdb_begin,
    .xCommit = duckdb_commit,
    .xRollback = duckdb_rollback,
    .xSyncTable = duckdb_sync_table,
    .xTruncate = duckdb_truncate,
    .xDropTable = duckdb_drop_table,
    .xInsertBegin = duckdb_insert_begin,
    .xInsertRow = duckdb_insert_row,
    .xInsertEnd = duckdb_insert_end,
    .xMerge = duckdb_merge,
    .xIsEmpty = duckdb_is_empty,
    .xMergeDirectClean = duckdb_merge_direct_clean,
    .xLoadExists = duckdb_load_exists,
    .xInsertLoad = duckdb_insert_load,
    .max_columns = 0,
    .reserved_prefix = NULL,
    .merge_strategies = SL_MERGE_BIT(SL_MERGE_DELETE_INSERT) | SL_MERGE_BIT(SL_MERGE_UPSERT) |
                        SL_MERGE_BIT(SL_MERGE_INSERT_ONLY) | SL_MERGE_BIT(SL_MERGE_SCD2),
    .xSaveSchema = duckdb_save_schema,
    .xDeleteSchemaVersions = duckdb_delete_schema_versions,
    .xLoadSchema = duckdb_load_schema,
    .xSaveState = duckdb_save_state,
    .xLoadState = duckdb_load_state,
    .xQuery = duckdb_query,
    .xListTables = duckdb_list_tables,
    .xNewestLoadId = duckdb_newest_load_id,
    .xEffects = duckdb_effects,
    .xQueryTyped = duckdb_query_typed,
};
