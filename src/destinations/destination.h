/*
 * destination.h — the one interface every destination implements (STYLE.md section 5).
 *
 * load.c is the only caller. One load package is applied between xBegin and xCommit, in ONE
 * transaction: DDL (create table, add column), rows (bulk insert), replace truncation, merge
 * SQL, the schema version row, the state row and the _dlt_loads row. xRollback cannot fail
 * and leaves the dataset as before xBegin. Back-end files never call each other.
 *
 * Tables and columns come from the pipeline's schema (schema.h); a destination creates what
 * is missing (it introspects the dataset, so a lost local schema never breaks a load).
 * System tables (_dlt_loads, _dlt_version, _dlt_pipeline_state) are created by the
 * destination itself, with dlt's columns, types and value formats (what dlt's own destination
 * of that kind writes: a dataset is continued by dlt and by sluice alike), in xBegin when
 * missing.
 */
#ifndef SLUICE_DESTINATION_H
#define SLUICE_DESTINATION_H

#include "base/error.h"
#include "model/normalize.h"
#include "model/schema.h"

struct sl_dest_config {
    const char *type;      /* "sqlite", "duckdb", "postgres" */
    const char *path;      /* file destinations: database file (absolute or relative to base_dir) */
    const char *dsn;       /* server destinations */
    const char *dataset;   /* dataset name (SQLite: attached database; Postgres: schema) */
    const char *pipeline;  /* the pipeline loading (server destinations lock per pipeline) */
    const char *base_dir;  /* folder relative paths are resolved against */
    int must_exist;        /* read-only commands (info, query, sync, drop): a database that
                              does not exist is NOT_FOUND "database not found: PATH", never
                              created */
    /* How long xOpen/xBegin wait for another process holding the destination's lock (a
     * SQLite write lock, a DuckDB file, the pipeline's PostgreSQL advisory lock):
     * lock_timeout seconds when lock_timeout_set, else the back-end's default (SQLite 5 s,
     * DuckDB 60 s, PostgreSQL 60 s). Past it each fails LOCKED naming the destination (the
     * file) and the holder, in one wording (filelock.h finds a file's holder). stop (may be
     * NULL) is polled while DuckDB and PostgreSQL wait: non-zero ends the wait as
     * INTERRUPTED. */
    int lock_timeout_set;
    double lock_timeout;
    int (*stop)(const void *ud);
    const void *stop_ud;
};

/* One row of _dlt_pipeline_state (spec 2.6), strings borrowed. */
struct sl_state_row {
    int64_t version;
    int64_t engine_version;
    const char *pipeline_name;
    const char *state;        /* encoded: base64(zlib(typed JSON)) */
    const char *created_at;   /* ISO 8601 UTC */
    const char *version_hash;
    const char *load_id;
    const char *dlt_id;
};

/* What a destination hands back from xLoadState (caller frees with sl_state_row_owned_free). */
struct sl_state_row_owned {
    int64_t version;
    int64_t engine_version;
    char *pipeline_name;
    char *state;
    char *created_at;
    char *version_hash;
    char *load_id;
    /* State rows of the pipeline whose load is not completed in _dlt_loads (no row, or a
     * status other than 0) and that would otherwise be newer than the row above (all such
     * rows when none was found): deleted _dlt_loads rows, or loads that never completed.
     * The pipeline refuses to guess past them (issue 8 point 7). */
    int64_t orphans;
    int64_t orphan_version;   /* the oldest of them */
    char *orphan_load_id;
};
void sl_state_row_owned_free(struct sl_state_row_owned *r);

/* One entry of xListTables. */
typedef sluice_status (*sl_table_list_fn)(void *ud, const char *table, int64_t rows);
/* One entry of xEffects. */
typedef sluice_status (*sl_effect_fn)(void *ud, const char *table, int64_t inserted,
                                      int64_t updated, int64_t deleted);

struct sl_dest; /* opaque per back-end */

/*
 * One merge (xMerge): a merge root table and its nested tables, whose rows of this package
 * sit in their staging copies. load.c resolves everything a back-end needs; the back-end only
 * reads the hints of the tables' columns (primary_key, merge_key, hard_delete, dedup_sort).
 * Rules common to every strategy: the LAST staged row wins among rows of one primary key
 * (dedup_sort, when a column has it, decides first); a nested table is linked to its root by
 * _dlt_root_id, or by _dlt_parent_id for a first-level table without it; everything happens
 * in the open transaction. Per strategy (spec section 4, dlt 1.31 as observed):
 *
 * DELETE_INSERT  Destination rows whose primary key OR merge key matches a staged row are
 *                deleted with their nested rows; the winners per primary key are inserted
 *                with their nested rows unless the winner is a hard delete. No keys at all:
 *                append (hard deletes still not inserted).
 * UPSERT         By primary key (never empty): a winner that is a hard delete deletes the
 *                destination row and its nested rows; any other winner updates the row (every
 *                column, absent ones to NULL) or inserts it. Nested rows of every staged root
 *                are replaced by the winner's staged nested rows (they have deterministic ids,
 *                so an element still present keeps its _dlt_id). Nested rows of roots not in
 *                the package are never touched. merge_key is ignored.
 * INSERT_ONLY    By primary key (never empty): hard deletes are dropped first, then the winner
 *                of each key not in the destination is inserted with its nested rows; nothing
 *                else changes (existing rows and their nested rows stay as they are).
 * SCD2           Root rows are versions identified by the row_version column (a row hash).
 *                Active destination rows (valid_to IS NULL, or = `active`) whose version is not
 *                staged are retired: valid_to = boundary; with merge key columns only those
 *                whose merge key values are staged. Staged versions not active in the
 *                destination are inserted with valid_from = boundary, valid_to = active (NULL
 *                when `active` is NULL), one row per version; their staged nested rows are
 *                inserted unless a row with that _dlt_id exists (a re-inserted version finds
 *                its nested rows still there). hard_delete has no meaning for scd2.
 */
struct sl_merge_spec {
    enum sl_merge_strategy strategy;          /* resolved: never SL_MERGE_DEFAULT */
    const struct sl_table *root;
    const struct sl_table *const *children;   /* root's nested tables, parents first */
    size_t nchildren;
    /* SCD2 only, NULL otherwise; column names are columns of root */
    const char *valid_from;   /* x-valid-from column */
    const char *valid_to;     /* x-valid-to column */
    const char *row_version;  /* x-row-version column (the row hash in _dlt_id by default) */
    const char *boundary;     /* UTC timestamp text "YYYY-MM-DDTHH:MM:SS[.ffffff]Z", as the
                                 normalizer writes timestamps */
    const char *active;       /* the same form, or NULL: active rows have valid_to NULL */
};

/* xInsertBegin's staging argument. */
#define SL_INSERT_FINAL 0
#define SL_INSERT_STAGING 1
#define SL_INSERT_FIRST_MERGE 2

/* Bit of a strategy in sl_dest_methods.merge_strategies. */
#define SL_MERGE_BIT(s) (1u << (unsigned)(s))

struct sl_dest_methods {
    int version;       /* 3 (2: xMerge takes a struct sl_merge_spec, merge_strategies;
                          3: the optional xIsEmpty and xMergeDirectClean) */
    const char *name;  /* "sqlite" */
    size_t max_columns;          /* most columns a table may have (0: no limit) */
    const char *reserved_prefix; /* table names the engine keeps for itself, or NULL */
    const char *const *reserved_columns; /* column names the engine keeps (NULL-ended), or NULL */
    size_t max_identifier_length; /* longest table/column name (0: no limit), as dlt's caps */
    unsigned merge_strategies;   /* SL_MERGE_BIT of each strategy xMerge implements; a run
                                    asking for another fails before extracting */
    int second_handle;           /* 1: a second handle of the same dataset (xOpen again) may
                                    run a package's transaction on another thread while the
                                    first is open but idle (no transaction): the load thread
                                    that follows the normalizer (run/loadpipe.h). 0: packages
                                    load on the pipeline's handle after normalizing */
    size_t follow_batch;         /* the load thread inserts a row file's new rows once this
                                    many bytes of them wait, or the normalizer is done (0: as
                                    they are published, every 256 KiB): each insert is a
                                    statement of its own (a COPY on PostgreSQL) */
    sluice_status (*xOpen)(struct sl_ctx *ctx, const struct sl_dest_config *cfg,
                           struct sl_dest **out);
    void (*xClose)(struct sl_dest *d);

    sluice_status (*xBegin)(struct sl_dest *d);
    sluice_status (*xCommit)(struct sl_dest *d);
    void (*xRollback)(struct sl_dest *d);

    /* Create t if missing, else add its columns that the destination lacks (never drops or
     * retypes). Indexes the primary/merge key columns, _dlt_id and _dlt_root_id of merge
     * tables so merge cost grows with the package, not the table. */
    sluice_status (*xSyncTable)(struct sl_dest *d, const struct sl_table *t);
    /* Delete all rows of a table (no-op when it does not exist). */
    sluice_status (*xTruncate)(struct sl_dest *d, const char *table);
    /* Drop a table (no-op when it does not exist). */
    sluice_status (*xDropTable)(struct sl_dest *d, const char *table);

    /* Bulk insert into t (staging = SL_INSERT_STAGING: into t's empty staging copy for merge,
     * created on first use and dropped at commit/rollback; SL_INSERT_FIRST_MERGE, only from
     * a back-end with xMergeDirectClean: into t itself, a table of a fast first merge, empty
     * before this transaction; the back-end may put off maintaining its merge indexes until
     * xMergeDirectClean, which must leave them complete). Rows: vals[i] for t->cols[i]; columns
     * beyond nvals are NULL. item: the ordinal of the package item the row comes from (a
     * root row and its nested rows share it; it grows with the item order), 0 when unknown
     * (packages of older versions): a staging copy keeps it for xMerge, which needs it to
     * tell apart the nested rows of two staged items with the same key, the case of upsert
     * and insert-only whose root _dlt_id is the key's hash. Final tables ignore it. Only one
     * inserter is open at a time. */
    sluice_status (*xInsertBegin)(struct sl_dest *d, const struct sl_table *t, int staging);
    sluice_status (*xInsertRow)(struct sl_dest *d, const struct sl_value *vals, size_t nvals,
                                int64_t item);
    sluice_status (*xInsertEnd)(struct sl_dest *d);

    /* Merge the staging copies of m->root and its nested tables into the final tables with
     * m->strategy (one of the bits in merge_strategies; see struct sl_merge_spec). */
    sluice_status (*xMerge)(struct sl_dest *d, const struct sl_merge_spec *m);

    /*
     * The fast first merge (optional, both or neither; NULL: every merge goes through
     * staging). When a merge root and every nested table of it are empty in the dataset
     * (xIsEmpty), load.c inserts the package's rows of that chain straight into the final
     * tables (xInsertBegin with staging = 0) instead of their staging copies, and then asks
     * xMergeDirectClean whether those rows are already what xMerge would have made of them
     * in an empty table. Not scd2 (its versions get validity columns): load.c never asks.
     */
    /* *empty = 1 when the dataset has no such table or the table has no rows. */
    sluice_status (*xIsEmpty)(struct sl_dest *d, const char *table, int *empty);
    /* m->root's rows (all of this package, in the open transaction; their indexes complete
     * again on return, whatever the answer): *clean = 1 when no two
     * share a primary key and none is a hard delete (the strategies' rules then keep every
     * row and its nested rows, in the order inserted). With *clean = 0 load.c truncates the
     * chain's tables (xTruncate) and loads it again through staging and xMerge. */
    sluice_status (*xMergeDirectClean)(struct sl_dest *d, const struct sl_merge_spec *m,
                                       int *clean);

    /* System tables. */
    sluice_status (*xLoadExists)(struct sl_dest *d, const char *load_id, int *exists);
    sluice_status (*xInsertLoad)(struct sl_dest *d, const char *load_id, const char *schema_name,
                                 const char *schema_version_hash);
    /* Store a schema version unless a row with this hash exists. */
    sluice_status (*xSaveSchema)(struct sl_dest *d, const char *schema_name, int64_t version,
                                 const char *version_hash, const char *schema_json);
    /* Delete every stored version of a schema (after tables were dropped, dlt keeps only the
     * new schema's history). */
    sluice_status (*xDeleteSchemaVersions)(struct sl_dest *d, const char *schema_name);
    /* Newest schema JSON of that name: the highest version (never the clock: inserted_at only
     * breaks ties); *json_out NULL when none. Caller sl_free()s it. */
    sluice_status (*xLoadSchema)(struct sl_dest *d, const char *schema_name, char **json_out);
    sluice_status (*xSaveState)(struct sl_dest *d, const struct sl_state_row *row);
    /* Newest state row of a pipeline whose load is completed (joined with _dlt_loads on
     * load id, status 0): the highest state version, never the load id (a wall-clock time).
     * A destination refuses a second row with a version already written with another
     * version_hash (the same state again is allowed: dlt re-writes an unchanged state).
     * *found = 0 when none. Also counts the orphans (see struct sl_state_row_owned), found or
     * not. */
    sluice_status (*xLoadState)(struct sl_dest *d, const char *pipeline,
                                struct sl_state_row_owned *out, int *found);

    /* Run SQL with the dataset as the default schema; one callback per row. */
    sluice_status (*xQuery)(struct sl_dest *d, const char *sql, sluice_row_fn fn, void *ud);
    /* The dataset's tables (system tables included) with row counts, sorted by name. */
    sluice_status (*xListTables)(struct sl_dest *d, sl_table_list_fn fn, void *ud);

    /* The highest load id in _dlt_loads, compared as a number (load ids are
     * "<seconds>.<fraction>" text, dlt's with 7 fraction digits, ours with 6); *out NULL when
     * none. Caller sl_free()s it. Optional (NULL: new load ids follow the clock alone). */
    sluice_status (*xNewestLoadId)(struct sl_dest *d, char **out);

    /* Optional (NULL: the run reports rows written, not their net effect). The net effect of
     * the open transaction's xTruncate, xDropTable and xMerge calls on each table, one fn call
     * per table: rows deleted by a truncate or drop; for a merge, rows inserted under a new
     * key, rows updated (a staged row replaced a destination row with the same primary key;
     * counted once, not as a delete and an insert) and rows deleted without a replacement
     * (hard deletes, merge-key partitions, children of replaced rows). Rows written by
     * xInsertRow outside staging are not included: the caller counts those. Reset by xBegin. */
    sluice_status (*xEffects)(struct sl_dest *d, sl_effect_fn fn, void *ud);

    /* Optional (NULL: xQuery, every non-NULL value TEXT). xQuery with each value's type: from
     * the value, and from the column it comes from for json and bool columns. */
    sluice_status (*xQueryTyped)(struct sl_dest *d, const char *sql, sluice_typed_row_fn fn,
                                 void *ud);
};

/* The back-end for a type name, or NULL. */
const struct sl_dest_methods *sl_destination_find(const char *type);

#endif
