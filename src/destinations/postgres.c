/*
 * postgres.c — the PostgreSQL destination (destination.h), on libpq.
 *
 * Layout. The dataset is a schema (its name normalized as dlt does: snake_case, 63 characters);
 * merge staging tables live in the schema "<dataset>_staging", as dlt's, UNLOGGED (they are
 * emptied at first use in every transaction and after each merge, so a crash loses nothing of
 * value and their rows never pay for WAL). Every identifier is double-quoted and at most 63
 * BYTES, PostgreSQL's limit (NAMEDATALEN - 1): the normalizer already shortens names to 63
 * characters with dlt's algorithm (max_identifier_length below); the rare name still longer in
 * bytes (non-ASCII digits) is shortened again, with the same algorithm, to the most characters
 * that fit (pg_name), so the server never truncates a name on its own. Types are dlt's
 * postgres ones: bigint, double precision, boolean, varchar, timestamp with time zone, date,
 * jsonb, numeric(38,9) for decimal, numeric(156,78) for wei, time without time zone, bytea.
 * dlt also puts a UNIQUE constraint on every `_dlt_id`; we do not (its index costs about a
 * third of a bulk load and the ids are random 80-bit values), which dlt does not rely on.
 *
 * Transactions. xBegin opens a transaction and takes the advisory lock of a hash of
 * (dataset, pipeline), so two runs of one pipeline, on any machines, never interleave their
 * packages (the state compare-and-swap of load.c then finds a stale package). xOpen of a run
 * (not must_exist) takes it and lets it go at once, so a run waits for another one's load
 * before it restores state and extracts, and goes on from that load's state. Both wait up to
 * destination.lock_timeout (LOCK_WAIT_DEFAULT) and then fail LOCKED naming the holder
 * (take_lock). Everything of
 * a package (DDL, COPY, merge, schema, state and _dlt_loads rows) happens in that transaction:
 * PostgreSQL's DDL is transactional, so xRollback (or a dropped connection, or a server
 * restart) leaves the dataset as it was. COMMIT is checked for its command tag: a transaction
 * that failed on the server reports ROLLBACK there, never a silent success.
 *
 * Bulk rows go through COPY ... FROM STDIN in text format, 256 KiB per PQputCopyData; never
 * row by row. Values: integers and doubles (sl_fmt_double: the short decimal that reads back
 * as the same double, not printf's slow %.17g) as digits, booleans t/f,
 * text with backslash, tab, newline and carriage return escaped, NULL as \N, binary (0x-hex or
 * base64 text from the normalizer) as a bytea hex literal. A COPY error surfaces at the end of
 * the COPY (PostgreSQL reports it when the data is complete), with the table named.
 *
 * Table shapes. Before a table is used in a transaction its columns are read from the catalog
 * (one query per table per transaction: nobody else changes them while we hold our locks, and
 * someone may have between transactions). A column that exists with a type that cannot take
 * sluice's values (altered by hand) is a DEST error naming the table, the column and both
 * types; a relation that is not a table (a view) likewise. Missing columns are added, never
 * dropped or retyped. Merge tables get indexes on the primary key, the merge key and (for
 * children) _dlt_root_id, named as in sql.c.
 *
 * Merge: every strategy (delete-insert, upsert, insert-only, scd2) runs the shared statements
 * of sql_merge.c in the open transaction, against the staging copies, which keep each row's
 * package item in "_sl_item" (the staging copy is emptied in this transaction before it is
 * filled, so its heap order, ctid, is the staged order: the last staged row wins). Scratch
 * lists live in pg_temp. A statement that reaches the destination through its keys runs with
 * hash and merge joins switched off (SET LOCAL), so it is planned as index lookups driven by
 * the staged rows: the cost grows with the package, not the table. upsert is an UPDATE ...
 * FROM by primary key plus an INSERT of the absent keys, not ON CONFLICT: ON CONFLICT needs a
 * unique index on the key, which dlt does not create either and which a table loaded with
 * append (duplicate keys) could not take. After a merge the staging copies are emptied.
 *
 * Errors from libpq are translated in one place, sl_pg_fail(): DEST with "postgres
 * destination <user@host:port/db>: <what>: <primary message>", origin "postgres", the SQLSTATE
 * as detail. The password never appears: it is not part of the label, and libpq's messages do
 * not carry it (a dsn libpq cannot parse is reported without its text). Time: inserted_at is
 * the wall clock, as in the sqlite destination. Thread model: one handle, one thread.
 */
#include "destinations/destination.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/numfmt.h"
#include "destinations/effects.h"
#include "destinations/pq_lib.h"
#include "destinations/sql.h"
#include "destinations/sql_merge.h"
#include "destinations/systables.h"
#include "model/naming.h"

#define PG_NAME_MAX 63               /* NAMEDATALEN - 1 */
#define COPY_CHUNK ((size_t)256 << 10)
/* The load thread COPYs a row file's rows once 4 MiB of them wait (destination.h follow_batch):
 * a COPY per 256 KiB publication (~380 for 1M bench items) cost the server ~15% more CPU than
 * the same rows in a few large COPYs (bench/postgres.sh) */
#define FOLLOW_BATCH ((size_t)4 << 20)
#define CONNECT_TIMEOUT "15"         /* seconds; dlt's default; the dsn may override it */
#define LOCK_WAIT_DEFAULT 60.0       /* seconds xBegin waits for the pipeline's lock */

/* ---- handle ------------------------------------------------------------------------------ */

struct pg_col {
    char *name;  /* as in the catalog */
    char *type;  /* format_type() */
};

/* What we know of one table of the dataset, or its staging copy, in this transaction. */
struct pg_table {
    char *name;            /* the dataset table's PostgreSQL name (also for its staging copy) */
    int staging;
    int exists;
    struct pg_col *cols;   /* sorted by name (strcmp) */
    size_t ncols, cap;
    char *index_sig;       /* the index DDL last ensured */
    int emptied;           /* staging: truncated in this transaction */
    int used;              /* staging: rows copied in since it was emptied */
};

struct sl_dest {
    struct sl_ctx *ctx;    /* borrowed from the pipeline */
    PGconn *conn;
    char *label;           /* user@host:port/db: never the password */
    char *dataset;         /* schema */
    char *staging;         /* <dataset>_staging */
    int64_t lock_key;      /* pg_advisory_xact_lock key of (dataset, pipeline) */
    char *pipeline;        /* for the lock's messages */
    double lock_wait;      /* seconds xBegin waits for the lock (destination.lock_timeout) */
    int (*stop)(const void *ud); /* polled while waiting: non-zero ends the wait */
    const void *stop_ud;
    int in_txn;
    int staging_ok;        /* the staging schema exists (this transaction) */
    struct pg_table **tabs;
    size_t ntabs, captabs;
    /* the open COPY (xInsertBegin .. xInsertEnd) */
    struct pg_table *ins;
    unsigned char *ins_type; /* per t column: 0 = not copied, else 1 + enum sl_dtype */
    size_t ins_ncols;
    int in_copy;
    int ins_item;          /* the open COPY fills SL_SQL_ITEM_COL (a staging copy) */
    struct sl_buf copy;
    const char *merging;   /* the merge root table, for errors */
    struct sl_effects fx;  /* net effects of the open transaction (xEffects) */
};

/* ---- errors ------------------------------------------------------------------------------ */

/* Copy a libpq message as one line: newlines and tabs become spaces, ends trimmed. */
static void one_line(char *out, size_t n, const char *msg)
{
    size_t j = 0;
    if (!msg)
        msg = "";
    while (*msg == ' ' || *msg == '\n' || *msg == '\t')
        msg++;
    for (; *msg && j + 1 < n; msg++) {
        char c = *msg;
        if (c == '\n' || c == '\t' || c == '\r')
            c = ' ';
        if (c == ' ' && j > 0 && out[j - 1] == ' ')
            continue;
        out[j++] = c;
    }
    while (j > 0 && out[j - 1] == ' ')
        j--;
    out[j] = '\0';
}

/*
 * The one translator of libpq errors: the pending error (if none yet) becomes DEST with
 * "postgres destination <label>: <what>: <primary message>", origin "postgres" and the
 * SQLSTATE as detail (08006 when the connection is gone and the server said nothing).
 * res may be NULL (then the connection's message is used).
 */
static sluice_status sl_pg_fail(struct sl_dest *d, const PGresult *res, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static sluice_status sl_pg_fail(struct sl_dest *d, const PGresult *res, const char *fmt, ...)
{
    struct sl_ctx *ctx = d->ctx;
    if (ctx->code != SLUICE_OK)
        return ctx->code;
    const char *state = res ? sl_pq.resultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res ? sl_pq.resultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char msg[512], what[512];
    if (!primary && res && *sl_pq.resultErrorMessage(res))
        primary = sl_pq.resultErrorMessage(res);
    if (!primary)
        primary = d->conn ? sl_pq.errorMessage(d->conn) : "out of memory";
    one_line(msg, sizeof(msg), primary);
    if (!msg[0])
        snprintf(msg, sizeof(msg), "unknown error");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (!state && d->conn && sl_pq.status(d->conn) == CONNECTION_BAD)
        state = "08006";
    sluice_status rc = sl_fail(ctx, SLUICE_ERR_DEST, "postgres destination %s: %s: %s",
                               d->label ? d->label : "?", what, msg);
    sl_fail_origin(ctx, "postgres", state ? state : "");
    return rc;
}

/* ---- identifiers ------------------------------------------------------------------------- */

/* name as PostgreSQL holds it: itself when it fits 63 bytes, else shortened (sl_free). */
static char *pg_name(const char *name)
{
    size_t len = strlen(name);
    if (len <= PG_NAME_MAX)
        return sl_strdup(name);
    size_t chars = sl_naming_char_count(name, len);
    if (chars > PG_NAME_MAX)
        chars = PG_NAME_MAX;
    for (;;) {
        char *s = sl_naming_shorten(name, len, name, len, chars);
        if (!s || strlen(s) <= PG_NAME_MAX || chars <= SL_NAMING_TAG_LEN + 2)
            return s;
        sl_free(s);
        chars--;
    }
}

/* A quoted identifier, shortened to 63 bytes when needed. */
static void pg_id(struct sl_sql *q, const char *name)
{
    if (strlen(name) <= PG_NAME_MAX) {
        sl_sql_id(q, name);
        return;
    }
    char *s = pg_name(name);
    if (!s) {
        q->bad = 1;
        return;
    }
    sl_sql_id(q, s);
    sl_free(s);
}

/* "dataset"."t" or "dataset_staging"."t" */
static void pg_table_ref(struct sl_sql *q, const struct sl_dest *d, const char *name,
                         int staging)
{
    sl_sql_id(q, staging ? d->staging : d->dataset);
    sl_sql_ch(q, '.');
    pg_id(q, name);
}

/* ---- statements -------------------------------------------------------------------------- */

/* Run sql (parameters optional); the result must be `want`. *out gets it (PQclear it) when
 * out is not NULL. */
static sluice_status pg_run(struct sl_dest *d, const char *sql, int nparams,
                            const char *const *params, ExecStatusType want, PGresult **out,
                            const char *what)
{
    if (out)
        *out = NULL;
    PGresult *res = nparams ? sl_pq.execParams(d->conn, sql, nparams, NULL, params, NULL, NULL, 0)
                            : sl_pq.exec(d->conn, sql);
    if (!res || sl_pq.resultStatus(res) != want) {
        sluice_status rc = sl_pg_fail(d, res, "%s", what);
        sl_pq.clear(res);
        return rc;
    }
    if (out)
        *out = res;
    else
        sl_pq.clear(res);
    return SLUICE_OK;
}

static sluice_status pg_exec(struct sl_dest *d, const char *sql, const char *what)
{
    return pg_run(d, sql, 0, NULL, PGRES_COMMAND_OK, NULL, what);
}

static sluice_status pg_exec_q(struct sl_dest *d, struct sl_sql *q, const char *what)
{
    const char *text = sl_sql_text(d->ctx, q);
    return text ? pg_exec(d, text, what) : d->ctx->code;
}

/* ---- table cache ------------------------------------------------------------------------- */

static int cmp_col(const void *a, const void *b)
{
    return strcmp(((const struct pg_col *)a)->name, ((const struct pg_col *)b)->name);
}

static const struct pg_col *kt_col(const struct pg_table *kt, const char *pgname)
{
    if (!kt->ncols)
        return NULL;
    struct pg_col key = { (char *)pgname, NULL };
    return bsearch(&key, kt->cols, kt->ncols, sizeof(*kt->cols), cmp_col);
}

/* Add a column (kept sorted). */
static sluice_status kt_add(struct sl_dest *d, struct pg_table *kt, const char *name,
                            const char *type)
{
    if (kt->ncols == kt->cap) {
        size_t ncap = kt->cap ? kt->cap * 2 : 16;
        struct pg_col *p = sl_realloc(kt->cols, ncap * sizeof(*p));
        if (!p)
            return sl_nomem(d->ctx);
        kt->cols = p;
        kt->cap = ncap;
    }
    struct pg_col c = { sl_strdup(name), sl_strdup(type) };
    if (!c.name || !c.type) {
        sl_free(c.name);
        sl_free(c.type);
        return sl_nomem(d->ctx);
    }
    size_t i = kt->ncols;
    while (i > 0 && strcmp(kt->cols[i - 1].name, c.name) > 0) {
        kt->cols[i] = kt->cols[i - 1];
        i--;
    }
    kt->cols[i] = c;
    kt->ncols++;
    return SLUICE_OK;
}

static void kt_free(struct pg_table *kt)
{
    if (!kt)
        return;
    for (size_t i = 0; i < kt->ncols; i++) {
        sl_free(kt->cols[i].name);
        sl_free(kt->cols[i].type);
    }
    sl_free(kt->cols);
    sl_free(kt->name);
    sl_free(kt->index_sig);
    sl_free(kt);
}

static struct pg_table *kt_find(struct sl_dest *d, const char *pgname, int staging)
{
    for (size_t i = 0; i < d->ntabs; i++) {
        struct pg_table *kt = d->tabs[i];
        if (kt->staging == staging && strcmp(kt->name, pgname) == 0)
            return kt;
    }
    return NULL;
}

static void cache_clear(struct sl_dest *d)
{
    for (size_t i = 0; i < d->ntabs; i++)
        kt_free(d->tabs[i]);
    d->ntabs = 0;
    d->ins = NULL;
}

/* The cache entry of a table (name: the schema's name), reading its columns on first use. */
static sluice_status kt_get(struct sl_dest *d, const char *name, int staging,
                            struct pg_table **out)
{
    PGresult *res = NULL;
    struct sl_sql q;
    struct pg_table *kt = NULL;
    sluice_status rc = SLUICE_OK;
    char *pgname = pg_name(name);
    *out = NULL;
    sl_sql_init(&q);
    if (!pgname) {
        rc = sl_nomem(d->ctx);
        goto done;
    }
    kt = kt_find(d, pgname, staging);
    if (kt) {
        *out = kt;
        kt = NULL;
        goto done;
    }
    if (d->ntabs == d->captabs) {
        size_t ncap = d->captabs ? d->captabs * 2 : 16;
        struct pg_table **p = sl_realloc(d->tabs, ncap * sizeof(*p));
        if (!p) {
            rc = sl_nomem(d->ctx);
            goto done;
        }
        d->tabs = p;
        d->captabs = ncap;
    }
    kt = sl_calloc(1, sizeof(*kt));
    if (!kt) {
        rc = sl_nomem(d->ctx);
        goto done;
    }
    kt->name = pgname;
    pgname = NULL;
    kt->staging = staging;
    pg_table_ref(&q, d, kt->name, staging);
    const char *ref = sl_sql_text(d->ctx, &q);
    if (!ref) {
        rc = d->ctx->code;
        goto done;
    }
    const char *params[1] = { ref };
    char what[300];
    snprintf(what, sizeof(what), "read the columns of table %s.%s",
             staging ? d->staging : d->dataset, kt->name);
    rc = pg_run(d,
                "SELECT c.relkind, a.attname, format_type(a.atttypid, a.atttypmod) "
                "FROM pg_class c LEFT JOIN pg_attribute a ON a.attrelid = c.oid "
                "AND a.attnum > 0 AND NOT a.attisdropped WHERE c.oid = to_regclass($1)",
                1, params, PGRES_TUPLES_OK, &res, what);
    if (rc)
        goto done;
    int n = sl_pq.ntuples(res);
    if (n > 0) {
        const char *kind = sl_pq.getvalue(res, 0, 0);
        if (strcmp(kind, "r") != 0 && strcmp(kind, "p") != 0) {
            rc = sl_fail(d->ctx, SLUICE_ERR_DEST,
                         "postgres destination %s: %s.%s is not a table (relkind '%s'); "
                         "sluice loads into tables only",
                         d->label, staging ? d->staging : d->dataset, kt->name, kind);
            sl_fail_origin(d->ctx, "postgres", "42809");
            goto done;
        }
        kt->exists = 1;
    }
    for (int i = 0; i < n; i++) {
        if (sl_pq.getisnull(res, i, 1))
            continue;
        rc = kt_add(d, kt, sl_pq.getvalue(res, i, 1), sl_pq.getvalue(res, i, 2));
        if (rc)
            goto done;
    }
    d->tabs[d->ntabs++] = kt;
    *out = kt;
    kt = NULL;
done:
    sl_pq.clear(res);
    kt_free(kt);
    sl_free(pgname);
    sl_sql_cleanup(&q);
    return rc;
}

/* ---- types ------------------------------------------------------------------------------- */

static const char *pg_type(enum sl_dtype t)
{
    switch (t) {
    case SL_DT_BIGINT:
        return "bigint";
    case SL_DT_DOUBLE:
        return "double precision";
    case SL_DT_BOOL:
        return "boolean";
    case SL_DT_TIMESTAMP:
        return "timestamp with time zone";
    case SL_DT_DATE:
        return "date";
    case SL_DT_JSON:
        return "jsonb";
    case SL_DT_DECIMAL:
        return "numeric(38,9)";
    case SL_DT_WEI:
        return "numeric(156,78)";
    case SL_DT_TIME:
        return "time without time zone";
    case SL_DT_BINARY:
        return "bytea";
    default:
        return "varchar";
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
    if (strcmp(have, pg_type(t)) == 0)
        return 1; /* what we created */
    switch (t) {
    case SL_DT_BIGINT:
        return strcmp(have, "bigint") == 0 || strcmp(have, "integer") == 0 ||
               strcmp(have, "smallint") == 0 || starts(have, "numeric");
    case SL_DT_DOUBLE:
        return strcmp(have, "double precision") == 0 || strcmp(have, "real") == 0 ||
               starts(have, "numeric");
    case SL_DT_BOOL:
        return strcmp(have, "boolean") == 0;
    case SL_DT_TIMESTAMP:
        return starts(have, "timestamp");
    case SL_DT_DATE:
        return strcmp(have, "date") == 0 || starts(have, "timestamp");
    case SL_DT_JSON:
        return strcmp(have, "jsonb") == 0 || strcmp(have, "json") == 0;
    case SL_DT_DECIMAL:
    case SL_DT_WEI:
        return starts(have, "numeric");
    case SL_DT_TIME:
        return starts(have, "time without") || starts(have, "time(") ||
               starts(have, "time with");
    case SL_DT_BINARY:
        return strcmp(have, "bytea") == 0;
    default:
        return starts(have, "character varying") || strcmp(have, "text") == 0 ||
               starts(have, "character(") || strcmp(have, "jsonb") == 0 ||
               strcmp(have, "json") == 0;
    }
}

/* ---- tables ------------------------------------------------------------------------------ */

static sluice_status ensure_staging_schema(struct sl_dest *d)
{
    PGresult *res = NULL;
    struct sl_sql q;
    if (d->staging_ok)
        return SLUICE_OK;
    const char *params[1] = { d->staging };
    sluice_status rc = pg_run(d, "SELECT 1 FROM pg_namespace WHERE nspname = $1", 1, params,
                              PGRES_TUPLES_OK, &res, "look up the staging schema");
    if (rc)
        return rc;
    int have = sl_pq.ntuples(res) > 0;
    sl_pq.clear(res);
    if (!have) {
        sl_sql_init(&q);
        sl_sql_put(&q, "CREATE SCHEMA ");
        sl_sql_id(&q, d->staging);
        rc = pg_exec_q(d, &q, "create the staging schema");
        sl_sql_cleanup(&q);
        if (rc)
            return rc;
    }
    d->staging_ok = 1;
    return SLUICE_OK;
}

/* CREATE INDEX IF NOT EXISTS for one index (name as sql.c makes it). */
static void index_ddl(struct sl_sql *q, const void *ud, const char *table,
                      const char *const *cols, size_t n)
{
    const struct sl_dest *d = ud;
    struct sl_sql name;
    sl_sql_init(&name);
    sl_sql_index_name(&name, table, cols, n, PG_NAME_MAX);
    sl_sql_put(q, "CREATE INDEX IF NOT EXISTS ");
    sl_sql_id(q, name.bad || !name.b.data ? "" : name.b.data);
    sl_sql_put(q, " ON ");
    pg_table_ref(q, d, table, 0);
    sl_sql_put(q, " (");
    for (size_t i = 0; i < n; i++) {
        if (i)
            sl_sql_put(q, ", ");
        pg_id(q, cols[i]);
    }
    sl_sql_put(q, ");\n");
    if (name.bad)
        q->bad = 1;
    sl_sql_cleanup(&name);
}

/* The merge indexes of t (sql.c says which), created when they changed since the last look. */
static sluice_status ensure_indexes(struct sl_dest *d, const struct sl_table *t,
                                    struct pg_table *kt)
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
    if (kt->index_sig && strcmp(kt->index_sig, text) == 0)
        goto done;
    char what[300];
    snprintf(what, sizeof(what), "create the merge indexes of table %s.%s", d->dataset, kt->name);
    rc = pg_exec(d, text, what);
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

/* Every typed column of t that the table has must be able to take its values. */
static sluice_status check_shape(struct sl_dest *d, const struct sl_table *t,
                                 const struct pg_table *kt)
{
    for (size_t i = 0; i < t->ncols; i++) {
        const struct sl_column *c = &t->cols[i];
        if (c->type == SL_DT_NONE)
            continue;
        char *pn = pg_name(c->name);
        if (!pn)
            return sl_nomem(d->ctx);
        const struct pg_col *have = kt_col(kt, pn);
        sl_free(pn);
        if (have && !type_accepts(c->type, have->type)) {
            sluice_status rc = sl_fail_at(
                d->ctx, SLUICE_ERR_DEST, t->resource, -1, c->name,
                "postgres destination %s: table %s.%s: column %s has type %s, which cannot "
                "hold sluice's %s values (%s); was the table altered by hand?",
                d->label, kt->staging ? d->staging : d->dataset, kt->name, c->name, have->type,
                sl_dtype_name(c->type), pg_type(c->type));
            sl_fail_origin(d->ctx, "postgres", "42804");
            return rc;
        }
    }
    return SLUICE_OK;
}

/* Create t (or its staging copy) or add the typed columns it lacks; index merge tables. */
static sluice_status sync_table(struct sl_dest *d, const struct sl_table *t, int staging,
                                struct pg_table **out)
{
    struct pg_table *kt = NULL;
    struct sl_sql q;
    sluice_status rc = SLUICE_OK;
    char *pn = NULL;
    sl_sql_init(&q);
    if (staging && sl_table_col(t, SL_SQL_ITEM_COL) >= 0) {
        rc = sl_fail_at(d->ctx, SLUICE_ERR_DATA_SCHEMA, t->resource, -1, SL_SQL_ITEM_COL,
                        "column name %s of merge table %s is reserved by sluice",
                        SL_SQL_ITEM_COL, t->name);
        goto done;
    }
    if (staging)
        rc = ensure_staging_schema(d);
    if (rc == SLUICE_OK)
        rc = kt_get(d, t->name, staging, &kt);
    if (rc)
        goto done;
    if (!kt->exists) {
        size_t ntyped = 0;
        sl_sql_put(&q, staging ? "CREATE UNLOGGED TABLE " : "CREATE TABLE ");
        pg_table_ref(&q, d, t->name, staging);
        sl_sql_put(&q, " (");
        for (size_t i = 0; i < t->ncols; i++) {
            const struct sl_column *c = &t->cols[i];
            if (c->type == SL_DT_NONE)
                continue;
            if (ntyped++)
                sl_sql_put(&q, ", ");
            pg_id(&q, c->name);
            sl_sql_ch(&q, ' ');
            sl_sql_put(&q, pg_type(c->type));
            if (!c->nullable && !staging)
                sl_sql_put(&q, " NOT NULL");
        }
        if (staging)
            sl_sql_put(&q, ", \"" SL_SQL_ITEM_COL "\" bigint");
        sl_sql_put(&q, ")");
        if (ntyped == 0)
            goto done; /* nothing typed yet: created once a column has a type */
        char what[300];
        snprintf(what, sizeof(what), "create table %s.%s", staging ? d->staging : d->dataset,
                 kt->name);
        rc = pg_exec_q(d, &q, what);
        if (rc) {
            sl_fail_locate(d->ctx, t->resource, -1, NULL);
            goto done;
        }
        kt->exists = 1;
        for (size_t i = 0; i < t->ncols && rc == SLUICE_OK; i++) {
            if (t->cols[i].type == SL_DT_NONE)
                continue;
            pn = pg_name(t->cols[i].name);
            rc = pn ? kt_add(d, kt, pn, pg_type(t->cols[i].type)) : sl_nomem(d->ctx);
            sl_free(pn);
            pn = NULL;
        }
        if (rc == SLUICE_OK && staging)
            rc = kt_add(d, kt, SL_SQL_ITEM_COL, "bigint");
        if (rc)
            goto done;
    } else {
        rc = check_shape(d, t, kt);
        if (rc)
            goto done;
        size_t nadd = 0;
        sl_sql_put(&q, "ALTER TABLE ");
        pg_table_ref(&q, d, t->name, staging);
        for (size_t i = 0; i < t->ncols && rc == SLUICE_OK; i++) {
            const struct sl_column *c = &t->cols[i];
            if (c->type == SL_DT_NONE)
                continue;
            pn = pg_name(c->name);
            if (!pn) {
                rc = sl_nomem(d->ctx);
                break;
            }
            if (!kt_col(kt, pn)) {
                sl_sql_put(&q, nadd++ ? ", ADD COLUMN " : " ADD COLUMN ");
                sl_sql_id(&q, pn);
                sl_sql_ch(&q, ' ');
                sl_sql_put(&q, pg_type(c->type));
            }
            sl_free(pn);
            pn = NULL;
        }
        if (rc == SLUICE_OK && staging && !kt_col(kt, SL_SQL_ITEM_COL)) {
            /* a staging copy made by an older sluice */
            sl_sql_put(&q, nadd++ ? ", ADD COLUMN " : " ADD COLUMN ");
            sl_sql_put(&q, "\"" SL_SQL_ITEM_COL "\" bigint");
        }
        if (rc || nadd == 0)
            goto indexes;
        char what[300];
        snprintf(what, sizeof(what), "add columns to table %s.%s",
                 staging ? d->staging : d->dataset, kt->name);
        rc = pg_exec_q(d, &q, what);
        if (rc) {
            sl_fail_locate(d->ctx, t->resource, -1, NULL);
            goto done;
        }
        for (size_t i = 0; i < t->ncols && rc == SLUICE_OK; i++) {
            if (t->cols[i].type == SL_DT_NONE)
                continue;
            pn = pg_name(t->cols[i].name);
            if (pn && !kt_col(kt, pn))
                rc = kt_add(d, kt, pn, pg_type(t->cols[i].type));
            else if (!pn)
                rc = sl_nomem(d->ctx);
            sl_free(pn);
            pn = NULL;
        }
        if (rc == SLUICE_OK && staging && !kt_col(kt, SL_SQL_ITEM_COL))
            rc = kt_add(d, kt, SL_SQL_ITEM_COL, "bigint");
    }
indexes:
    if (rc == SLUICE_OK && !staging)
        rc = ensure_indexes(d, t, kt);
done:
    sl_sql_cleanup(&q);
    if (out)
        *out = rc ? NULL : kt;
    return rc;
}

static sluice_status pg_sync_table(struct sl_dest *d, const struct sl_table *t)
{
    return sync_table(d, t, 0, NULL);
}

/* The rows of an existing dataset table, counted as deleted by what follows (xEffects). */
static sluice_status count_deleted(struct sl_dest *d, const char *table, const char *pgname)
{
    struct sl_sql q;
    PGresult *res = NULL;
    sl_sql_init(&q);
    sl_sql_put(&q, "SELECT count(*) FROM ");
    pg_table_ref(&q, d, table, 0);
    char what[300];
    snprintf(what, sizeof(what), "count the rows of table %s.%s", d->dataset, pgname);
    const char *text = sl_sql_text(d->ctx, &q);
    sluice_status rc = text ? pg_run(d, text, 0, NULL, PGRES_TUPLES_OK, &res, what)
                            : d->ctx->code;
    if (rc == SLUICE_OK && sl_pq.ntuples(res) > 0)
        sl_effects_add(&d->fx, table, 0, 0, strtoll(sl_pq.getvalue(res, 0, 0), NULL, 10));
    sl_pq.clear(res);
    sl_sql_cleanup(&q);
    return rc;
}

static sluice_status pg_truncate(struct sl_dest *d, const char *table)
{
    struct pg_table *kt = NULL;
    struct sl_sql q;
    sluice_status rc = kt_get(d, table, 0, &kt);
    if (rc || !kt->exists)
        return rc;
    rc = count_deleted(d, table, kt->name);
    if (rc)
        return rc;
    sl_sql_init(&q);
    sl_sql_put(&q, "TRUNCATE TABLE ");
    pg_table_ref(&q, d, table, 0);
    char what[300];
    snprintf(what, sizeof(what), "truncate table %s.%s", d->dataset, kt->name);
    rc = pg_exec_q(d, &q, what);
    sl_sql_cleanup(&q);
    return rc;
}

static sluice_status pg_drop_table(struct sl_dest *d, const char *table)
{
    struct sl_sql q;
    struct pg_table *kt = NULL;
    sluice_status rc = kt_get(d, table, 0, &kt);
    if (rc == SLUICE_OK && kt->exists)
        rc = count_deleted(d, table, kt->name);
    if (rc)
        return rc;
    sl_sql_init(&q);
    sl_sql_put(&q, "DROP TABLE IF EXISTS ");
    pg_table_ref(&q, d, table, 0);
    char what[300];
    snprintf(what, sizeof(what), "drop table %s.%s", d->dataset, table);
    rc = pg_exec_q(d, &q, what);
    sl_sql_cleanup(&q);
    char *pn = pg_name(table);
    if (!pn)
        return rc ? rc : sl_nomem(d->ctx);
    for (size_t i = 0; i < d->ntabs; i++) {
        if (!d->tabs[i]->staging && strcmp(d->tabs[i]->name, pn) == 0) {
            kt_free(d->tabs[i]);
            d->tabs[i] = d->tabs[--d->ntabs];
            break;
        }
    }
    sl_free(pn);
    return rc;
}

/* ---- bulk insert (COPY) ------------------------------------------------------------------ */

static sluice_status copy_flush(struct sl_dest *d)
{
    if (d->copy.len == 0)
        return SLUICE_OK;
    if (d->copy.len > (size_t)0x7fffffff ||
        sl_pq.putCopyData(d->conn, d->copy.data, (int)d->copy.len) != 1)
        return sl_pg_fail(d, NULL, "copy rows into table %s.%s", d->ins->staging ? d->staging
                                                                  : d->dataset, d->ins->name);
    sl_buf_reset(&d->copy);
    return SLUICE_OK;
}

/* COPY text's escape letter after a backslash for the bytes that need one (0: as it is). */
static const unsigned char copy_esc[256] = {
    ['\\'] = '\\', ['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r',
};

/* The encoders below write at p, which has room for their worst case (pg_insert_row reserves
 * it for the whole row), and return the end of what they wrote. */

/* Text with COPY's escapes: at most 2 * len bytes. */
static char *copy_text(char *p, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        while (run < len && !copy_esc[(unsigned char)s[run]])
            run++;
        memcpy(p, s + i, run - i);
        p += run - i;
        if (run == len)
            break;
        *p++ = '\\';
        *p++ = (char)copy_esc[(unsigned char)s[run]];
        i = run + 1;
    }
    return p;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Binary text from the normalizer ("0x" hex, spaces allowed, or base64) as a bytea hex
 * literal written for COPY text ("\\x..."): at most 3 + 2 * len bytes. */
static char *copy_binary(char *p, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    memcpy(p, "\\\\x", 3);
    p += 3;
    if (len >= 2 && s[0] == '0' && s[1] == 'x') {
        for (size_t i = 2; i < len; i++) {
            if (s[i] != ' ')
                *p++ = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] + 32 : s[i]);
        }
        return p;
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
            unsigned char byte = (unsigned char)(acc >> bits);
            *p++ = hex[byte >> 4];
            *p++ = hex[byte & 15];
        }
    }
    return p;
}

#define COPY_INT_MAX 20 /* "-9223372036854775808" */

static char *copy_int(char *p, int64_t v)
{
    char tmp[COPY_INT_MAX];
    char *q = tmp + sizeof(tmp);
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--q = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--q = '-';
    size_t n = (size_t)(tmp + sizeof(tmp) - q);
    memcpy(p, q, n);
    return p + n;
}

static sluice_status pg_insert_begin(struct sl_dest *d, const struct sl_table *t, int staging)
{
    struct pg_table *kt = NULL;
    struct sl_sql q;
    PGresult *res = NULL;
    if (d->ins || d->in_copy)
        return sl_fail(d->ctx, SLUICE_ERR_INTERNAL, "an insert into %s is already open",
                       d->ins ? d->ins->name : "?");
    staging = staging == SL_INSERT_STAGING; /* a fast first merge COPYs into the table */
    sluice_status rc = sync_table(d, t, staging, &kt);
    if (rc)
        return rc;
    sl_sql_init(&q);
    if (staging && !kt->emptied) {
        /* emptied before it is filled, in this transaction: its heap order is then the
         * order rows were staged in, which the merge relies on (the last one wins) */
        sl_sql_put(&q, "TRUNCATE TABLE ");
        pg_table_ref(&q, d, t->name, 1);
        char what[300];
        snprintf(what, sizeof(what), "empty table %s.%s", d->staging, kt->name);
        rc = pg_exec_q(d, &q, what);
        if (rc)
            goto done;
        kt->emptied = 1;
        sl_sql_reset(&q);
    }
    sl_free(d->ins_type);
    d->ins_type = sl_calloc(t->ncols + 1, 1);
    if (!d->ins_type) {
        rc = sl_nomem(d->ctx);
        goto done;
    }
    sl_sql_put(&q, "COPY ");
    pg_table_ref(&q, d, t->name, staging);
    sl_sql_put(&q, " (");
    size_t ntyped = 0;
    for (size_t i = 0; i < t->ncols; i++) {
        if (t->cols[i].type == SL_DT_NONE)
            continue;
        if (ntyped++)
            sl_sql_put(&q, ", ");
        pg_id(&q, t->cols[i].name);
        d->ins_type[i] = (unsigned char)(1 + t->cols[i].type);
    }
    if (staging)
        sl_sql_put(&q, ", \"" SL_SQL_ITEM_COL "\"");
    sl_sql_put(&q, ") FROM STDIN");
    if (ntyped == 0) {
        rc = sl_fail(d->ctx, SLUICE_ERR_INTERNAL, "table %s has no typed column to insert",
                     t->name);
        goto done;
    }
    const char *text = sl_sql_text(d->ctx, &q);
    if (!text) {
        rc = d->ctx->code;
        goto done;
    }
    res = sl_pq.exec(d->conn, text);
    if (!res || sl_pq.resultStatus(res) != PGRES_COPY_IN) {
        rc = sl_pg_fail(d, res, "copy rows into table %s.%s", staging ? d->staging : d->dataset,
                        kt->name);
        sl_fail_locate(d->ctx, t->resource, -1, NULL);
        goto done;
    }
    d->in_copy = 1;
    d->ins_item = staging != 0;
    d->ins = kt;
    d->ins_ncols = t->ncols;
    if (staging)
        kt->used = 1;
    sl_buf_reset(&d->copy);
done:
    sl_pq.clear(res);
    sl_sql_cleanup(&q);
    return rc;
}

/* A staging copy keeps item in SL_SQL_ITEM_COL (the merge tells apart nested rows by it). */
static sluice_status pg_insert_row(struct sl_dest *d, const struct sl_value *vals, size_t nvals,
                                   int64_t item)
{
    if (!d->in_copy)
        return sl_fail(d->ctx, SLUICE_ERR_INTERNAL, "xInsertRow without xInsertBegin");
    if (nvals > d->ins_ncols)
        return sl_fail(d->ctx, SLUICE_ERR_INTERNAL,
                       "row for table %s has %zu values, the insert was opened for %zu columns",
                       d->ins->name, nvals, d->ins_ncols);
    /* the row's worst case first (a separator or newline per column), then straight in */
    size_t room = 1 + (d->ins_item ? 1 + COPY_INT_MAX : 0);
    for (size_t i = 0; i < d->ins_ncols; i++) {
        const struct sl_value *v = i < nvals ? &vals[i] : NULL;
        if (d->ins_type[i] == 0) {
            if (v && v->kind != SL_V_NULL)
                return sl_fail(d->ctx, SLUICE_ERR_INTERNAL,
                               "value for column %zu of table %s, which has no type", i,
                               d->ins->name);
            continue;
        }
        size_t w = SL_FMT_DOUBLE_MAX; /* numbers, booleans and \N */
        if (v && v->kind == SL_V_TEXT) {
            if (v->len > (SIZE_MAX - room) / 4)
                return sl_nomem(d->ctx);
            w = 3 + 2 * v->len;
        }
        room += 1 + w;
    }
    struct sl_buf *b = &d->copy;
    if (sl_buf_reserve(b, room))
        return sl_nomem(d->ctx);
    char *p = b->data + b->len;
    int first = 1;
    for (size_t i = 0; i < d->ins_ncols; i++) {
        int type = d->ins_type[i];
        if (type == 0)
            continue;
        const struct sl_value *v = i < nvals ? &vals[i] : NULL;
        if (!first)
            *p++ = '\t';
        first = 0;
        switch (v ? v->kind : SL_V_NULL) {
        case SL_V_INT:
            p = copy_int(p, v->u.i);
            break;
        case SL_V_DOUBLE:
            p += sl_fmt_double(p, v->u.d);
            break;
        case SL_V_BOOL:
            *p++ = v->u.i ? 't' : 'f';
            break;
        case SL_V_TEXT:
            p = type - 1 == SL_DT_BINARY ? copy_binary(p, v->u.s, v->len)
                                         : copy_text(p, v->u.s, v->len);
            break;
        default:
            *p++ = '\\';
            *p++ = 'N';
            break;
        }
    }
    if (d->ins_item) {
        *p++ = '\t';
        p = copy_int(p, item);
    }
    *p++ = '\n';
    b->len = (size_t)(p - b->data);
    b->data[b->len] = '\0';
    if (b->len >= COPY_CHUNK)
        return copy_flush(d);
    return SLUICE_OK;
}

/* Finish the COPY: with the data when no error is pending, else abort it. */
static sluice_status pg_insert_end(struct sl_dest *d)
{
    sluice_status rc = SLUICE_OK;
    if (!d->in_copy) {
        d->ins = NULL;
        return SLUICE_OK;
    }
    int ok = d->ctx->code == SLUICE_OK;
    if (ok)
        rc = copy_flush(d);
    ok = ok && rc == SLUICE_OK;
    if (sl_pq.putCopyEnd(d->conn, ok ? NULL : "sluice: load failed") != 1 && ok)
        rc = sl_pg_fail(d, NULL, "copy rows into table %s.%s",
                        d->ins->staging ? d->staging : d->dataset, d->ins->name);
    PGresult *res;
    while ((res = sl_pq.getResult(d->conn)) != NULL) {
        if (ok && rc == SLUICE_OK && sl_pq.resultStatus(res) != PGRES_COMMAND_OK)
            rc = sl_pg_fail(d, res, "copy rows into table %s.%s",
                            d->ins->staging ? d->staging : d->dataset, d->ins->name);
        sl_pq.clear(res);
        if (sl_pq.status(d->conn) == CONNECTION_BAD)
            break;
    }
    d->in_copy = 0;
    d->ins = NULL;
    d->ins_ncols = 0;
    sl_buf_reset(&d->copy);
    return rc;
}

/* ---- merge: the shared statements (sql_merge.h) on PostgreSQL ---------------------------- */

static void mg_table(struct sl_sql *q, void *ud, const char *name, int staging)
{
    pg_table_ref(q, ud, name, staging);
}

#define OID_TIMESTAMPTZ 1184

/* A statement that reaches the destination by its keys runs with hash and merge joins off,
 * so it is planned as index lookups driven by the staged rows: the cost grows with the
 * package, not the table. The scd2 parameters are timestamps with time zone. */
static sluice_status mg_exec(void *ud, const char *sql, int scan_d, int nparams,
                             const char *const *params, int64_t *changes, const char *what)
{
    struct sl_dest *d = ud;
    static const Oid types[2] = { OID_TIMESTAMPTZ, OID_TIMESTAMPTZ };
    PGresult *res = NULL;
    sluice_status rc = SLUICE_OK;
    *changes = 0;
    if (scan_d)
        rc = pg_exec(d, "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off",
                     "merge: plan by the key indexes");
    if (rc == SLUICE_OK) {
        res = nparams ? sl_pq.execParams(d->conn, sql, nparams, types, params, NULL, NULL, 0)
                      : sl_pq.exec(d->conn, sql);
        if (!res || sl_pq.resultStatus(res) != PGRES_COMMAND_OK) {
            char full[300];
            /* "merge into table ds.t: <step>", as every merge error has said */
            snprintf(full, sizeof(full), "merge into table %s.%s: %s", d->dataset,
                     d->merging ? d->merging : "?",
                     strncmp(what, "merge: ", 7) == 0 ? what + 7 : what);
            rc = sl_pg_fail(d, res, "%s", full);
        } else {
            *changes = strtoll(sl_pq.cmdTuples(res), NULL, 10);
        }
        sl_pq.clear(res);
    }
    if (rc == SLUICE_OK && scan_d)
        rc = pg_exec(d, "SET LOCAL enable_hashjoin = on; SET LOCAL enable_mergejoin = on",
                     "merge: plan by the key indexes");
    return rc;
}

static sluice_status mg_count(void *ud, const char *sql, int64_t *out, const char *what)
{
    struct sl_dest *d = ud;
    PGresult *res = NULL;
    *out = 0;
    sluice_status rc = pg_run(d, sql, 0, NULL, PGRES_TUPLES_OK, &res, what);
    if (rc == SLUICE_OK && sl_pq.ntuples(res) > 0)
        *out = strtoll(sl_pq.getvalue(res, 0, 0), NULL, 10);
    sl_pq.clear(res);
    return rc;
}

/* The staging copy of a table when rows were copied into it in this transaction. */
static struct pg_table *staged_copy(struct sl_dest *d, const char *name)
{
    char *pn = pg_name(name);
    struct pg_table *kt = pn ? kt_find(d, pn, 1) : NULL;
    sl_free(pn);
    return kt && kt->used ? kt : NULL;
}

static int mg_staged(void *ud, const char *name)
{
    return staged_copy(ud, name) != NULL;
}

static sluice_status mg_exists(void *ud, const char *name, int *exists)
{
    struct pg_table *kt = NULL;
    sluice_status rc = kt_get(ud, name, 0, &kt);
    *exists = rc == SLUICE_OK && kt->exists;
    return rc;
}

/* The staging copies were emptied before they were filled in this transaction: ctid is the
 * staged order. */
static sluice_status mg_sync(void *ud, const struct sl_table *t, int staging, const char **rowid)
{
    if (rowid)
        *rowid = "ctid";
    return sync_table(ud, t, staging, NULL);
}

/* Empty the staging copies of the chain (their rows are merged). */
static sluice_status mg_done(void *ud, const struct sl_merge_spec *m)
{
    struct sl_dest *d = ud;
    struct sl_sql q;
    sl_sql_init(&q);
    sl_sql_put(&q, "TRUNCATE TABLE ");
    pg_table_ref(&q, d, m->root->name, 1);
    for (size_t i = 0; i < m->nchildren; i++) {
        if (!staged_copy(d, m->children[i]->name))
            continue;
        sl_sql_put(&q, ", ");
        pg_table_ref(&q, d, m->children[i]->name, 1);
    }
    sluice_status rc = pg_exec_q(d, &q, "merge: empty the staging tables");
    sl_sql_cleanup(&q);
    for (size_t i = 0; i <= m->nchildren && rc == SLUICE_OK; i++) {
        struct pg_table *kt = staged_copy(d, i ? m->children[i - 1]->name : m->root->name);
        if (kt)
            kt->used = 0;
    }
    return rc;
}

static const struct sl_sql_merge_ops pg_merge_ops = {
    .table = mg_table,
    .id = pg_id,
    .temp = "pg_temp.",
    .true_lit = "true",
    .false_lit = "false",
    .rid_type = "tid",
    .int_type = "bigint",
    .bool_type = "boolean",
    .key_join = "JOIN",
    .param = { "$1", "$2" },
    .exec = mg_exec,
    .count = mg_count,
    .staged = mg_staged,
    .exists = mg_exists,
    .sync = mg_sync,
    .done = mg_done,
};

static sluice_status pg_merge(struct sl_dest *d, const struct sl_merge_spec *m)
{
    d->merging = m->root->name;
    sluice_status rc = sl_sql_merge(&pg_merge_ops, d, &d->fx, d->ctx, m);
    d->merging = NULL;
    return rc;
}

/* ---- transactions ------------------------------------------------------------------------ */

/* The session: UTC and ISO text for timestamps, UTF-8, the dataset as the default schema (for
 * `pipeline query`; everything sluice runs names its schema). Again after a reconnection. */
static sluice_status setup_session(struct sl_dest *d)
{
    struct sl_sql q;
    sl_sql_init(&q);
    sl_sql_put(&q, "SET client_encoding = 'UTF8'; SET TimeZone = 'UTC'; "
                   "SET DateStyle = 'ISO, YMD'; SET standard_conforming_strings = on; "
                   "SET search_path = ");
    sl_sql_id(&q, d->dataset);
    sl_sql_put(&q, ", public");
    sluice_status rc = pg_exec_q(d, &q, "set up the session");
    sl_sql_cleanup(&q);
    return rc;
}

static void pg_rollback(struct sl_dest *d)
{
    if (!d)
        return;
    if (d->in_copy && d->conn) {
        sl_pq.putCopyEnd(d->conn, "sluice: rollback");
        PGresult *res;
        while ((res = sl_pq.getResult(d->conn)) != NULL) {
            sl_pq.clear(res);
            if (sl_pq.status(d->conn) == CONNECTION_BAD)
                break;
        }
        d->in_copy = 0;
    }
    if (d->conn && sl_pq.status(d->conn) == CONNECTION_OK &&
        sl_pq.transactionStatus(d->conn) != PQTRANS_IDLE)
        sl_pq.clear(sl_pq.exec(d->conn, "ROLLBACK"));
    cache_clear(d);
    sl_effects_clear(&d->fx);
    d->in_txn = 0;
    d->staging_ok = 0;
}

/* dlt's system tables on PostgreSQL (below) */
static const struct sl_systables pg_systables;

/*
 * One state per version (issue 8 point 1): a trigger on _dlt_pipeline_state refuses a row whose
 * (pipeline_name, version) is already written with another version_hash, whoever writes it
 * (load.c's compare-and-swap is the first guard; this one holds against any writer, dlt
 * included). The same state written again stays allowed (dlt re-writes an unchanged state
 * after a restore), which is why this is a trigger and not a unique index. Concurrent
 * writers of one pipeline and version are serialized by a transaction advisory lock taken
 * before the look, so the second sees the first's committed row (READ COMMITTED takes a new
 * snapshot per statement). Rows already in the table are not checked. The function is
 * generic (it reads the table it fires on) and lives in the dataset's schema, so dropping the
 * dataset drops it; it is created with the table, or added to an existing table we own
 * (a dataset dlt made, or an older sluice).
 */
#define STATE_TRIGGER "_dlt_pipeline_state__one_state_per_version"
#define STATE_TRIGGER_FN "_sl_one_state_per_version"
static const char state_trigger_body[] =
    "() RETURNS trigger LANGUAGE plpgsql AS $sl$\n"
    "DECLARE clash boolean;\n"
    "BEGIN\n"
    "  PERFORM pg_advisory_xact_lock(hashtextextended(TG_TABLE_SCHEMA || '.' || "
    "NEW.pipeline_name, NEW.version));\n"
    "  EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I WHERE pipeline_name = $1 AND "
    "version = $2 AND version_hash IS DISTINCT FROM $3)', TG_TABLE_SCHEMA, TG_TABLE_NAME) "
    "INTO clash USING NEW.pipeline_name, NEW.version, NEW.version_hash;\n"
    "  IF clash THEN\n"
    "    RAISE EXCEPTION 'a different pipeline state with this version was already committed "
    "(another process loaded in between)' USING ERRCODE = 'unique_violation';\n"
    "  END IF;\n"
    "  RETURN NEW;\n"
    "END $sl$;\n";

static void state_trigger_ddl(struct sl_sql *q, const struct sl_dest *d)
{
    sl_sql_put(q, "CREATE OR REPLACE FUNCTION ");
    sl_sql_qname(q, d->dataset, STATE_TRIGGER_FN);
    sl_sql_put(q, state_trigger_body);
    sl_sql_put(q, "CREATE INDEX IF NOT EXISTS \"_dlt_pipeline_state__pipeline_name__version__idx\" "
                  "ON ");
    sl_sql_qname(q, d->dataset, "_dlt_pipeline_state");
    sl_sql_put(q, " (\"pipeline_name\", \"version\");\nCREATE TRIGGER \"" STATE_TRIGGER
                  "\" BEFORE INSERT ON ");
    sl_sql_qname(q, d->dataset, "_dlt_pipeline_state");
    sl_sql_put(q, " FOR EACH ROW EXECUTE FUNCTION ");
    sl_sql_qname(q, d->dataset, STATE_TRIGGER_FN);
    sl_sql_put(q, "();\n");
}

/* Create the dataset schema and the system tables that are missing (one query to look). */
static sluice_status ensure_dataset(struct sl_dest *d)
{
    PGresult *res = NULL;
    struct sl_sql q;
    sluice_status rc = SLUICE_OK;
    char *refs[3] = { NULL, NULL, NULL };
    sl_sql_init(&q);
    for (int i = 0; i < 3; i++) {
        sl_sql_reset(&q);
        sl_sql_qname(&q, d->dataset, sl_sys_table_name((size_t)i));
        const char *t = sl_sql_text(d->ctx, &q);
        refs[i] = t ? sl_strdup(t) : NULL;
        if (!refs[i]) {
            rc = sl_nomem(d->ctx);
            goto done;
        }
    }
    const char *params[4] = { d->dataset, refs[0], refs[1], refs[2] };
    rc = pg_run(d,
                "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1), "
                "to_regclass($2) IS NOT NULL, to_regclass($3) IS NOT NULL, "
                "to_regclass($4) IS NOT NULL, "
                "EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass($4) "
                "AND tgname = '" STATE_TRIGGER "'), "
                "EXISTS (SELECT 1 FROM pg_class WHERE oid = to_regclass($4) "
                "AND pg_has_role(relowner, 'USAGE'))",
                4, params, PGRES_TUPLES_OK, &res, "look up the dataset");
    if (rc)
        goto done;
    sl_sql_reset(&q);
    if (strcmp(sl_pq.getvalue(res, 0, 0), "t") != 0) {
        sl_sql_put(&q, "CREATE SCHEMA ");
        sl_sql_id(&q, d->dataset);
        sl_sql_put(&q, ";\n");
    }
    for (int i = 0; i < 3; i++) {
        if (strcmp(sl_pq.getvalue(res, 0, 1 + i), "t") == 0)
            continue;
        sl_sql_put(&q, "CREATE TABLE ");
        sl_sql_qname(&q, d->dataset, sl_sys_table_name((size_t)i));
        sl_sys_columns(&q, &pg_systables, (size_t)i);
        sl_sql_put(&q, ";\n");
    }
    /* the state table: new, or ours without the trigger */
    if (strcmp(sl_pq.getvalue(res, 0, 3), "t") != 0 ||
        (strcmp(sl_pq.getvalue(res, 0, 4), "t") != 0 && strcmp(sl_pq.getvalue(res, 0, 5), "t") == 0))
        state_trigger_ddl(&q, d);
    if (q.b.len > 0 || q.bad) {
        char what[128];
        snprintf(what, sizeof(what), "create dataset %s and its system tables", d->dataset);
        rc = pg_exec_q(d, &q, what);
    }
done:
    sl_pq.clear(res);
    for (int i = 0; i < 3; i++)
        sl_free(refs[i]);
    sl_sql_cleanup(&q);
    return rc;
}

/* ---- the pipeline's lock ----------------------------------------------------------------- */

/* Who holds the advisory lock of key, from pg_locks and pg_stat_activity: "server pid N,
 * application_name A, client C" (what the server lets us see), or "" when nobody holds it
 * any more or the query fails (then nothing is reported: this only adorns a message). A
 * bigint key is held as classid = its high 32 bits, objid = its low 32 bits, objsubid 1. */
static void lock_holder(struct sl_dest *d, char *out, size_t n)
{
    char sql[640];
    uint64_t k = (uint64_t)d->lock_key;
    snprintf(sql, sizeof(sql),
             "SELECT l.pid, coalesce(a.application_name, ''), "
             "coalesce(host(a.client_addr), CASE WHEN a.pid IS NULL THEN '' ELSE 'local' END) "
             "FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
             "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
             "(SELECT oid FROM pg_database WHERE datname = current_database()) AND "
             "l.classid = '%lu' AND l.objid = '%lu' AND l.objsubid = 1 LIMIT 1",
             (unsigned long)(k >> 32), (unsigned long)(k & 0xffffffffu));
    out[0] = '\0';
    PGresult *res = sl_pq.exec(d->conn, sql);
    if (res && sl_pq.resultStatus(res) == PGRES_TUPLES_OK && sl_pq.ntuples(res) == 1) {
        const char *app = sl_pq.getvalue(res, 0, 1), *client = sl_pq.getvalue(res, 0, 2);
        int len = snprintf(out, n, "server pid %s", sl_pq.getvalue(res, 0, 0));
        if (app[0] && len > 0 && (size_t)len < n)
            len += snprintf(out + len, n - (size_t)len, ", application_name %s", app);
        if (client[0] && len > 0 && (size_t)len < n)
            snprintf(out + len, n - (size_t)len, ", client %s", client);
    }
    sl_pq.clear(res);
}

/*
 * Take the pipeline's advisory lock in the open transaction, waiting up to d->lock_wait
 * seconds for another run holding it. The wait polls pg_try_advisory_xact_lock (every 50 ms,
 * backing off to 500 ms) rather than blocking in pg_advisory_xact_lock under SET LOCAL
 * lock_timeout (which PostgreSQL applies to advisory locks too): polling lets an interrupt end
 * the wait, and names the holder while we wait, as the duckdb destination does for its file.
 * Past the limit: LOCKED naming the destination, the pipeline and the holder; the caller rolls
 * back, so nothing of the package was done.
 */
static sluice_status take_lock(struct sl_dest *d)
{
    char sql[96], who[256];
    double start = sl_clock_mono();
    long pause_ms = 50;
    int waiting = 0;
    snprintf(sql, sizeof(sql), "SELECT pg_try_advisory_xact_lock(%lld)",
             (long long)d->lock_key);
    for (;;) {
        PGresult *res = NULL;
        sluice_status rc = pg_run(d, sql, 0, NULL, PGRES_TUPLES_OK, &res, "take the pipeline's "
                                  "lock");
        if (rc)
            return rc;
        int got = sl_pq.ntuples(res) == 1 && strcmp(sl_pq.getvalue(res, 0, 0), "t") == 0;
        sl_pq.clear(res);
        double waited = sl_clock_mono() - start;
        if (got) {
            if (waiting)
                sl_log(d->ctx, SLUICE_LOG_INFO, "postgres destination %s: the lock of pipeline "
                       "%s is free, after %.1f s", d->label, d->pipeline, waited);
            return SLUICE_OK;
        }
        int stop = d->stop && d->stop(d->stop_ud);
        if (stop || waited >= d->lock_wait || !waiting) {
            lock_holder(d, who, sizeof(who));
            if (!who[0])
                snprintf(who, sizeof(who), "not visible to this user");
        }
        if (stop) {
            sl_fail(d->ctx, SLUICE_ERR_INTERRUPTED, "postgres destination %s: interrupted while "
                    "waiting for another run of pipeline %s (%s) to release its lock: nothing "
                    "was done", d->label, d->pipeline, who);
            sl_fail_origin(d->ctx, "postgres", "");
            return SLUICE_ERR_INTERRUPTED;
        }
        if (waited >= d->lock_wait) {
            sl_fail(d->ctx, SLUICE_ERR_LOCKED, "postgres destination %s: the lock of pipeline "
                    "%s on dataset %s is held by another run (%s) and stayed so for %g s "
                    "(destination.lock_timeout)", d->label, d->pipeline, d->dataset, who,
                    d->lock_wait);
            sl_fail_origin(d->ctx, "postgres", "");
            return SLUICE_ERR_LOCKED;
        }
        if (!waiting) {
            sl_log(d->ctx, SLUICE_LOG_INFO, "postgres destination %s: waiting for the run "
                   "holding the lock of pipeline %s (%s), up to %g s (destination.lock_timeout)",
                   d->label, d->pipeline, who, d->lock_wait);
            waiting = 1;
        }
        double left = d->lock_wait - waited;
        long ms = left * 1000 < pause_ms ? (long)(left * 1000) : pause_ms;
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
        if (pause_ms < 500)
            pause_ms *= 2;
    }
}

static sluice_status pg_begin(struct sl_dest *d)
{
    if (d->in_txn)
        return sl_fail(d->ctx, SLUICE_ERR_INTERNAL, "a transaction is already open");
    if (sl_pq.status(d->conn) != CONNECTION_OK) {
        /* the connection broke after an earlier package (server restarted): one new try */
        sl_pq.reset(d->conn);
        if (sl_pq.status(d->conn) != CONNECTION_OK)
            return sl_pg_fail(d, NULL, "reconnect");
        sluice_status src = setup_session(d);
        if (src)
            return src;
    }
    cache_clear(d);
    sl_effects_clear(&d->fx);
    d->staging_ok = 0;
    sluice_status rc = pg_exec(d, "BEGIN", "begin a transaction");
    if (rc == SLUICE_OK)
        rc = take_lock(d);
    if (rc) {
        pg_rollback(d);
        return rc;
    }
    d->in_txn = 1;
    rc = ensure_dataset(d);
    if (rc) {
        pg_rollback(d);
        return rc;
    }
    return SLUICE_OK;
}

static sluice_status pg_commit(struct sl_dest *d)
{
    PGresult *res = NULL;
    sluice_status rc = SLUICE_OK;
    if (!d->in_txn)
        return sl_fail(d->ctx, SLUICE_ERR_INTERNAL, "commit without a transaction");
    if (d->in_copy) {
        rc = pg_insert_end(d);
        if (rc)
            goto fail;
    }
    res = sl_pq.exec(d->conn, "COMMIT");
    if (!res || sl_pq.resultStatus(res) != PGRES_COMMAND_OK) {
        rc = sl_pg_fail(d, res, "commit");
        goto fail;
    }
    if (strcmp(sl_pq.cmdStatus(res), "COMMIT") != 0) {
        rc = sl_fail(d->ctx, SLUICE_ERR_DEST,
                     "postgres destination %s: commit: the server rolled the transaction back",
                     d->label);
        sl_fail_origin(d->ctx, "postgres", "40000");
        goto fail;
    }
    sl_pq.clear(res);
    d->in_txn = 0;
    cache_clear(d);
    d->staging_ok = 0;
    return SLUICE_OK;
fail:
    sl_pq.clear(res);
    pg_rollback(d);
    return rc;
}

/* ---- system tables ----------------------------------------------------------------------- */

/* Run "<head>"ds"."<table>"<rest>" with parameters. */
/* Does the dataset have this system table? (Outside xBegin the dataset may not exist.) */
static sluice_status have_table(struct sl_dest *d, const char *table, int *have)
{
    struct pg_table *kt = NULL;
    *have = 0;
    sluice_status rc = kt_get(d, table, 0, &kt);
    if (rc == SLUICE_OK)
        *have = kt->exists;
    if (!d->in_txn)
        cache_clear(d);
    return rc;
}

static void sys_table(struct sl_sql *q, void *ud, const char *name)
{
    const struct sl_dest *d = ud;
    sl_sql_qname(q, d->dataset, name);
}

/* Parameters go as text: each placeholder carries its type. */
static void sys_param(struct sl_sql *q, int n, enum sl_sys_type t)
{
    char p[32];
    snprintf(p, sizeof(p), "$%d::%s", n,
             t == SL_SYS_INT ? "bigint" : t == SL_SYS_TIME ? "timestamptz" : "varchar");
    sl_sql_put(q, p);
}

static sluice_status sys_have(void *ud, const char *name, int *have)
{
    return have_table(ud, name, have);
}

static sluice_status sys_run(void *ud, const char *sql, const struct sl_sys_param *p, int np,
                             sl_sys_row_fn fn, void *fud, const char *what)
{
    struct sl_dest *d = ud;
    const char *params[8];
    char ints[8][24];
    PGresult *res = NULL;
    if (np > 8)
        return sl_fail(d->ctx, SLUICE_ERR_INTERNAL, "%s: too many parameters", what);
    for (int i = 0; i < np; i++) {
        params[i] = p[i].text;
        if (p[i].type == SL_SYS_INT) {
            snprintf(ints[i], sizeof(ints[i]), "%lld", (long long)p[i].i);
            params[i] = ints[i];
        }
    }
    sluice_status rc = pg_run(d, sql, np, params, fn ? PGRES_TUPLES_OK : PGRES_COMMAND_OK,
                              fn ? &res : NULL, what);
    int ncols = rc == SLUICE_OK && fn ? sl_pq.nfields(res) : 0;
    if (ncols > 8)
        rc = sl_fail(d->ctx, SLUICE_ERR_INTERNAL, "%s: too many columns", what);
    for (int r = 0; rc == SLUICE_OK && fn && r < sl_pq.ntuples(res); r++) {
        const char *vals[8];
        for (int c = 0; c < ncols; c++)
            vals[c] = sl_pq.getisnull(res, r, c) ? NULL : sl_pq.getvalue(res, r, c);
        if (fn(fud, vals, (size_t)ncols))
            rc = sl_nomem(d->ctx);
    }
    sl_pq.clear(res);
    return rc;
}

/* State times read as ISO 8601 UTC text; load ids in numeric order (numeric is exact; a load
 * id that is not a number sorts last). */
static const struct sl_systables pg_systables = {
    .table = sys_table,
    .param = sys_param,
    .text_type = "varchar",
    .load_id_type = "varchar(64)",
    .dlt_id_type = "varchar",
    .int_type = "bigint",
    .time_type = "timestamp with time zone",
    .newest_load = "CASE WHEN \"load_id\" ~ '^[0-9]+([.][0-9]+)?$' THEN \"load_id\"::numeric "
                   "END DESC NULLS LAST",
    .created_at = "to_char(s.\"created_at\" AT TIME ZONE 'UTC', "
                  "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
    .have = sys_have,
    .run = sys_run,
};

static sluice_status pg_load_exists(struct sl_dest *d, const char *load_id, int *exists)
{
    return sl_sys_load_exists(&pg_systables, d, d->ctx, load_id, exists);
}

static sluice_status pg_insert_load(struct sl_dest *d, const char *load_id,
                                    const char *schema_name, const char *schema_version_hash)
{
    return sl_sys_insert_load(&pg_systables, d, d->ctx, load_id, schema_name,
                              schema_version_hash);
}

static sluice_status pg_delete_schema_versions(struct sl_dest *d, const char *schema_name)
{
    return sl_sys_delete_schema_versions(&pg_systables, d, d->ctx, schema_name);
}

static sluice_status pg_save_schema(struct sl_dest *d, const char *schema_name, int64_t version,
                                    const char *version_hash, const char *schema_json)
{
    return sl_sys_save_schema(&pg_systables, d, d->ctx, schema_name, version, version_hash,
                              schema_json);
}

static sluice_status pg_newest_load_id(struct sl_dest *d, char **out)
{
    return sl_sys_newest_load_id(&pg_systables, d, d->ctx, out);
}

static sluice_status pg_load_schema(struct sl_dest *d, const char *schema_name, char **json_out)
{
    return sl_sys_load_schema(&pg_systables, d, d->ctx, schema_name, json_out);
}

/* One state per version: the trigger (ensure_dataset) refuses a second, different state. */
static sluice_status pg_save_state(struct sl_dest *d, const struct sl_state_row *row)
{
    return sl_sys_save_state(&pg_systables, d, d->ctx, row);
}

static sluice_status pg_load_state(struct sl_dest *d, const char *pipeline,
                                   struct sl_state_row_owned *out, int *found)
{
    return sl_sys_load_state(&pg_systables, d, d->ctx, pipeline, out, found);
}

/* ---- inspection -------------------------------------------------------------------------- */

#define OID_BOOL 16
#define OID_JSONB 3802
/* A value as sluice's query output shows it on every destination (sql.h): booleans,
 * timestamps with time zone and jsonb rendered; everything else is PostgreSQL's text. */
static int render(struct sl_buf *b, Oid type, const char *v)
{
    enum sl_sql_render_kind kind = type == OID_BOOL          ? SL_RENDER_BOOL
                                   : type == OID_TIMESTAMPTZ ? SL_RENDER_TIMESTAMPTZ
                                   : type == OID_JSONB       ? SL_RENDER_JSON
                                   : type == 1700            ? SL_RENDER_NUMERIC
                                                             : SL_RENDER_AS_IS;
    return sl_sql_render(b, kind, v);
}

/* Does text read as a JSON number? (numeric and float columns also print NaN, Infinity) */
static int json_number(const char *v)
{
    const char *p = v + (*v == '-');
    if (*p < '0' || *p > '9')
        return 0;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        p += (*p == '+' || *p == '-');
        if (*p < '0' || *p > '9')
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == '\0';
}

/* What a rendered value of a column of type `type` is (xQueryTyped). */
static sluice_value_type value_type(Oid type, const char *v)
{
    switch (type) {
    case 20: case 21: case 23: case 26: /* int8, int2, int4, oid */
        return SLUICE_VALUE_INTEGER;
    case 700: case 701: case 1700:      /* float4, float8, numeric */
        return json_number(v) ? SLUICE_VALUE_REAL : SLUICE_VALUE_TEXT;
    case OID_BOOL:
        return SLUICE_VALUE_BOOL;
    case 114: case OID_JSONB:           /* json, jsonb */
        return SLUICE_VALUE_JSON;
    case 17:                            /* bytea */
        return SLUICE_VALUE_BLOB;
    default:
        return SLUICE_VALUE_TEXT;
    }
}

/* One row of a single-row-mode result to fn or tfn (values rendered into scratch). 1: the
 * callback stopped. */
static int emit_row(struct sl_dest *d, const PGresult *res, struct sl_buf *scratch,
                    sluice_row_fn fn, sluice_typed_row_fn tfn, void *ud, sluice_status *rc)
{
    int n = sl_pq.nfields(res);
    int stop = 0;
    const char **names = sl_calloc((size_t)n + 1, sizeof(char *));
    const char **vals = sl_calloc((size_t)n + 1, sizeof(char *));
    size_t *offs = sl_calloc((size_t)n + 1, sizeof(size_t));
    sluice_value_type *types = sl_calloc((size_t)n + 1, sizeof(*types));
    sl_buf_reset(scratch);
    if (!names || !vals || !offs || !types) {
        *rc = sl_nomem(d->ctx);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        names[i] = sl_pq.fname(res, i);
        offs[i] = scratch->len;
        if (!sl_pq.getisnull(res, 0, i) && render(scratch, sl_pq.ftype(res, i), sl_pq.getvalue(res, 0, i))) {
            *rc = sl_nomem(d->ctx);
            goto done;
        }
    }
    for (int i = 0; i < n; i++) {
        vals[i] = sl_pq.getisnull(res, 0, i) ? NULL : scratch->data + offs[i];
        types[i] = vals[i] ? value_type(sl_pq.ftype(res, i), vals[i]) : SLUICE_VALUE_NULL;
    }
    if (tfn ? tfn(ud, n, names, vals, types) != 0 : fn && fn(ud, n, names, vals) != 0)
        stop = 1;
done:
    sl_free(names);
    sl_free(vals);
    sl_free(offs);
    sl_free(types);
    return stop;
}

static sluice_status run_query(struct sl_dest *d, const char *sql, sluice_row_fn fn,
                               sluice_typed_row_fn tfn, void *ud)
{
    struct sl_buf scratch;
    PGresult *res;
    sluice_status rc = SLUICE_OK;
    int stop = 0;
    sl_buf_init(&scratch, 0);
    if (!sl_pq.sendQuery(d->conn, sql)) {
        rc = sl_pg_fail(d, NULL, "query");
        goto done;
    }
    if (!sl_pq.setSingleRowMode(d->conn))
        rc = sl_pg_fail(d, NULL, "query");
    while ((res = sl_pq.getResult(d->conn)) != NULL) {
        ExecStatusType st = sl_pq.resultStatus(res);
        if (st == PGRES_SINGLE_TUPLE && !stop && rc == SLUICE_OK) {
            stop = emit_row(d, res, &scratch, fn, tfn, ud, &rc);
            if (stop || rc) {
                /* the rest of the result is not wanted: ask the server to stop sending it */
                PGcancel *c = sl_pq.getCancel(d->conn);
                char err[256];
                if (c) {
                    sl_pq.cancel(c, err, sizeof(err));
                    sl_pq.freeCancel(c);
                }
            }
        } else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK &&
                   st != PGRES_COMMAND_OK && st != PGRES_EMPTY_QUERY && !stop &&
                   rc == SLUICE_OK) {
            rc = sl_pg_fail(d, res, "query");
        }
        sl_pq.clear(res);
        if (sl_pq.status(d->conn) == CONNECTION_BAD)
            break;
    }
done:
    sl_buf_cleanup(&scratch);
    return rc;
}

static sluice_status pg_query(struct sl_dest *d, const char *sql, sluice_row_fn fn, void *ud)
{
    return run_query(d, sql, fn, NULL, ud);
}

static sluice_status pg_query_typed(struct sl_dest *d, const char *sql, sluice_typed_row_fn tfn,
                                    void *ud)
{
    return run_query(d, sql, NULL, tfn, ud);
}

static sluice_status pg_effects(struct sl_dest *d, sl_effect_fn fn, void *ud)
{
    return sl_effects_each(&d->fx, d->ctx, fn, ud);
}

static sluice_status pg_list_tables(struct sl_dest *d, sl_table_list_fn fn, void *ud)
{
    PGresult *res = NULL, *cnt = NULL;
    struct sl_sql q;
    const char *params[1] = { d->dataset };
    sl_sql_init(&q);
    sluice_status rc = pg_run(d,
                              "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON "
                              "n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN "
                              "('r', 'p') ORDER BY c.relname COLLATE \"C\"",
                              1, params, PGRES_TUPLES_OK, &res, "list tables");
    for (int i = 0; rc == SLUICE_OK && i < sl_pq.ntuples(res); i++) {
        const char *name = sl_pq.getvalue(res, i, 0);
        sl_sql_reset(&q);
        sl_sql_put(&q, "SELECT count(*) FROM ");
        sl_sql_qname(&q, d->dataset, name);
        const char *text = sl_sql_text(d->ctx, &q);
        rc = text ? pg_run(d, text, 0, NULL, PGRES_TUPLES_OK, &cnt, "count rows")
                  : d->ctx->code;
        if (rc)
            break;
        int64_t rows = strtoll(sl_pq.getvalue(cnt, 0, 0), NULL, 10);
        sl_pq.clear(cnt);
        cnt = NULL;
        rc = fn(ud, name, rows);
    }
    sl_pq.clear(res);
    sl_sql_cleanup(&q);
    return rc;
}

/* ---- open / close ------------------------------------------------------------------------ */

static void pg_close(struct sl_dest *d)
{
    if (!d)
        return;
    pg_rollback(d);
    cache_clear(d);
    if (d->conn)
        sl_pq.finish(d->conn);
    sl_free(d->tabs);
    sl_free(d->label);
    sl_free(d->pipeline);
    sl_free(d->dataset);
    sl_free(d->staging);
    sl_free(d->ins_type);
    sl_buf_cleanup(&d->copy);
    sl_effects_free(&d->fx);
    sl_free(d);
}

/* Server notices ("relation already exists, skipping") go to the log at debug level, never
 * to stderr (libpq's default). */
static void on_notice(void *arg, const char *message)
{
    char msg[512];
    one_line(msg, sizeof(msg), message);
    sl_log((struct sl_ctx *)arg, SLUICE_LOG_DEBUG, "postgres: %s", msg);
}

/* user@host:port/db of the connection (attempted or made), never the password. */
static char *make_label(PGconn *conn)
{
    const char *user = conn ? sl_pq.user(conn) : NULL;
    const char *host = conn ? sl_pq.host(conn) : NULL;
    const char *port = conn ? sl_pq.port(conn) : NULL;
    const char *db = conn ? sl_pq.db(conn) : NULL;
    return sl_aprintf("%s%s%s%s%s/%s", user && *user ? user : "", user && *user ? "@" : "",
                      host && *host ? host : "localhost", port && *port ? ":" : "",
                      port && *port ? port : "", db && *db ? db : "");
}

static sluice_status pg_open(struct sl_ctx *ctx, const struct sl_dest_config *cfg,
                             struct sl_dest **out)
{
    struct sl_dest *d = NULL;
    PQconninfoOption *opts = NULL;
    char *errmsg = NULL;
    char *key_text = NULL;
    sluice_status rc = SLUICE_OK;
    *out = NULL;
    if (!cfg || !cfg->dsn || !*cfg->dsn) {
        rc = sl_fail(ctx, SLUICE_ERR_CONFIG,
                     "the postgres destination needs a dsn (destination.dsn or "
                     "destination.credentials, or DESTINATION__CREDENTIALS)");
        goto fail;
    }
    if (!cfg->dataset || !*cfg->dataset) {
        rc = sl_fail(ctx, SLUICE_ERR_CONFIG, "the postgres destination needs a dataset name");
        goto fail;
    }
    if (!sl_pq_load(ctx)) {
        rc = ctx->code;
        goto fail;
    }
    opts = sl_pq.conninfoParse(cfg->dsn, &errmsg);
    if (!opts) {
        /* libpq's message may quote the dsn, password included: not shown */
        rc = sl_fail(ctx, SLUICE_ERR_CONFIG,
                     "the postgres dsn is not valid (not shown: it may hold a password); "
                     "expected postgresql://user@host:port/database or key=value pairs");
        goto fail;
    }
    d = sl_calloc(1, sizeof(*d));
    if (!d) {
        rc = sl_nomem(ctx);
        goto fail;
    }
    d->ctx = ctx;
    sl_buf_init(&d->copy, 0);
    d->dataset = sl_naming_normalize_identifier(cfg->dataset, strlen(cfg->dataset),
                                                PG_NAME_MAX);
    char *stg = sl_aprintf("%s_staging", cfg->dataset);
    d->staging = stg ? sl_naming_normalize_identifier(stg, strlen(stg), PG_NAME_MAX) : NULL;
    sl_free(stg);
    key_text = sl_aprintf("sluice\x1f%s\x1f%s", d->dataset ? d->dataset : "",
                          cfg->pipeline ? cfg->pipeline : "");
    if (!d->dataset || !d->staging || !key_text) {
        rc = sl_nomem(ctx);
        goto fail;
    }
    if (strncmp(d->dataset, "pg_", 3) == 0) {
        rc = sl_fail(ctx, SLUICE_ERR_CONFIG,
                     "dataset name \"%s\" cannot be used with the postgres destination: it "
                     "becomes schema \"%s\", and PostgreSQL keeps names starting with pg_ "
                     "for itself", cfg->dataset, d->dataset);
        goto fail;
    }
    d->lock_key = (int64_t)sl_sql_fnv1a(key_text);
    d->pipeline = sl_strdup(cfg->pipeline ? cfg->pipeline : "");
    if (!d->pipeline) {
        rc = sl_nomem(ctx);
        goto fail;
    }
    d->lock_wait = cfg->lock_timeout_set ? cfg->lock_timeout : LOCK_WAIT_DEFAULT;
    d->stop = cfg->stop;
    d->stop_ud = cfg->stop_ud;

    const char *keys[] = { "connect_timeout", "fallback_application_name", "dbname", NULL };
    const char *vals[] = { CONNECT_TIMEOUT, "sluice", cfg->dsn, NULL };
    d->conn = sl_pq.connectdbParams(keys, vals, 1);
    d->label = make_label(d->conn);
    if (!d->conn || !d->label) {
        rc = sl_nomem(ctx);
        goto fail;
    }
    sl_pq.setNoticeProcessor(d->conn, on_notice, ctx);
    if (sl_pq.status(d->conn) != CONNECTION_OK) {
        char msg[512];
        one_line(msg, sizeof(msg), sl_pq.errorMessage(d->conn));
        rc = sl_fail(ctx, SLUICE_ERR_DEST, "postgres destination %s: cannot connect: %s",
                     d->label, msg);
        sl_fail_origin(ctx, "postgres", "08001");
        goto fail;
    }
    if (sl_pq.serverVersion(d->conn) < 100000) {
        rc = sl_fail(ctx, SLUICE_ERR_DEST,
                     "postgres destination %s: server version %d is too old (10 or newer)",
                     d->label, sl_pq.serverVersion(d->conn));
        goto fail;
    }
    rc = setup_session(d);
    if (rc)
        goto fail;
    if (!cfg->must_exist) {
        /* a run: wait here, before it restores state and extracts, for another run of the
         * pipeline to finish its load (take the lock and let it go at once): a package
         * extracted while that run loads would be stale when it commits (load.c) */
        rc = pg_exec(d, "BEGIN", "begin a transaction");
        if (rc == SLUICE_OK)
            rc = take_lock(d);
        pg_rollback(d);
        if (rc)
            goto fail;
    }
    sl_pq.conninfoFree(opts);
    sl_free(key_text);
    *out = d;
    return SLUICE_OK;
fail:
    if (errmsg)
        sl_pq.freemem(errmsg);
    if (opts)
        sl_pq.conninfoFree(opts);
    sl_free(key_text);
    pg_close(d);
    return rc;
}

/* ---- the fast first merge (destination.h) ------------------------------------------------ */

static sluice_status pg_is_empty(struct sl_dest *d, const char *table, int *empty)
{
    return sl_sql_merge_is_empty(&pg_merge_ops, d, d->ctx, table, empty);
}

static sluice_status pg_merge_direct_clean(struct sl_dest *d, const struct sl_merge_spec *m,
                                           int *clean)
{
    return sl_sql_merge_direct_clean(&pg_merge_ops, d, d->ctx, m, clean);
}

/* Column names PostgreSQL keeps for itself (CREATE TABLE refuses them). */
static const char *const system_columns[] = {
    "tableoid", "xmin", "cmin", "xmax", "cmax", "ctid", NULL,
};

const struct sl_dest_methods sl_dest_postgres = {
    .version = 3,
    .second_handle = 1,
    .follow_batch = FOLLOW_BATCH,
    .name = "postgres",
    .max_columns = 1600, /* MaxHeapAttributeNumber */
    .reserved_prefix = NULL,
    .reserved_columns = system_columns,
    .max_identifier_length = PG_NAME_MAX,
    .merge_strategies = SL_MERGE_BIT(SL_MERGE_DELETE_INSERT) | SL_MERGE_BIT(SL_MERGE_UPSERT) |
                        SL_MERGE_BIT(SL_MERGE_INSERT_ONLY) | SL_MERGE_BIT(SL_MERGE_SCD2),
    .xOpen = pg_open,
    .xClose = pg_close,
    .xBegin = pg_begin,
    .xCommit = pg_commit,
    .xRollback = pg_rollback,
    .xSyncTable = pg_sync_table,
    .xTruncate = pg_truncate,
    .xDropTable = pg_drop_table,
    .xInsertBegin = pg_insert_begin,
    .xInsertRow = pg_insert_row,
    .xInsertEnd = pg_insert_end,
    .xMerge = pg_merge,
    .xIsEmpty = pg_is_empty,
    .xMergeDirectClean = pg_merge_direct_clean,
    .xLoadExists = pg_load_exists,
    .xInsertLoad = pg_insert_load,
    .xSaveSchema = pg_save_schema,
    .xDeleteSchemaVersions = pg_delete_schema_versions,
    .xLoadSchema = pg_load_schema,
    .xSaveState = pg_save_state,
    .xLoadState = pg_load_state,
    .xQuery = pg_query,
    .xListTables = pg_list_tables,
    .xNewestLoadId = pg_newest_load_id,
    .xEffects = pg_effects,
    .xQueryTyped = pg_query_typed,
};
