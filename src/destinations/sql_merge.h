/*
 * sql_merge.h — the merge strategies of destination.h (delete-insert, upsert, insert-only,
 * scd2) as SQL statements shared by the SQL destinations (sqlite, postgres, duckdb).
 *
 * A back-end's xMerge calls sl_sql_merge() with its struct sl_sql_merge_ops: the dialect's few
 * words, how it runs a statement, and how it makes the chain ready (sl_sql_merge() syncs both
 * sides of the root and of every nested table with staged rows through the sync hook, so each
 * carries all typed columns; staging copies keep each row's package item in SL_SQL_ITEM_COL).
 * The statements are built here and run through the back-end's exec callback, which reports
 * the rows each one changed; the net effect of every statement goes to the back-end's struct
 * sl_effects (xEffects). Scratch tables (<temp>"_sl_ins", "_sl_del", "_sl_nest") live in the
 * session's temporary schema and are dropped at the end.
 *
 * The algorithm, per strategy (destination.h describes the outcome):
 *   winners   <temp>"_sl_ins" (rid, id, item, del): per primary key the dedup_sort winner
 *             (NULLs never win), then the LAST staged row (highest item, then row id); every
 *             staged row without a primary key. A nested row follows a winner when its root
 *             link AND its item match it, which tells apart the nested rows of two staged
 *             roots sharing a _dlt_id (upsert's key hash).
 *   delete-insert  the destination rows matching a staged key (pk OR merge key) are collected
 *             into <temp>"_sl_del" by a join driven by the staged keys; their nested rows go
 *             by the root link, the roots by row id; then the winners come in with theirs.
 *   upsert    hard-delete winners delete their row; the others UPDATE ... FROM by primary key
 *             (every column) or are inserted when their key is absent; the nested rows of
 *             every staged root are replaced by the winner's.
 *   insert-only  winners among the non-deleted rows whose key is absent come in.
 *   scd2      an UPDATE retires active versions absent from staging (within the staged merge
 *             keys); versions not active are inserted valid from the boundary (parameter 1),
 *             valid to `active` (parameter 2); nested rows follow the inserted versions down
 *             the parent chain (<temp>"_sl_nest") unless their _dlt_id exists.
 */
#ifndef SLUICE_DEST_SQL_MERGE_H
#define SLUICE_DEST_SQL_MERGE_H

#include <stdint.h>

#include "destinations/destination.h"
#include "destinations/effects.h"
#include "destinations/sql.h"

#define SL_SQL_ITEM_COL "_sl_item" /* staging copies: the row's package item (xInsertRow) */

struct sl_sql_merge_ops {
    /* The dialect. */
    /* The dataset table `name`, or its staging copy (staging = 1), as a reference. */
    void (*table)(struct sl_sql *q, void *ud, const char *name, int staging);
    /* A column identifier (quoted; shortened where the engine needs it). */
    void (*id)(struct sl_sql *q, const char *name);
    const char *temp;          /* qualifier of scratch tables: "temp." / "pg_temp." */
    const char *true_lit, *false_lit;
    const char *rid_type;      /* scratch column types: row id, integer, boolean */
    const char *int_type;
    const char *bool_type;
    const char *key_join;      /* join driven by its left side: "CROSS JOIN" (SQLite keeps the
                                  order), "JOIN" elsewhere */
    const char *param[2];      /* the scd2 boundary and active values as placeholders,
                                  cast where the engine cannot infer their type */
    /* The engine. */
    /* Run one statement (or several, without parameters); *changes: rows it changed.
     * scan_d: it reaches the destination table (alias d) and must do so by an index. */
    sluice_status (*exec)(void *ud, const char *sql, int scan_d, int nparams,
                          const char *const *params, int64_t *changes, const char *what);
    /* One integer from a query. */
    sluice_status (*count)(void *ud, const char *sql, int64_t *out, const char *what);
    /* The chain. */
    /* 1 when the staging copy of table `name` got rows in this transaction. */
    int (*staged)(void *ud, const char *name);
    /* *exists = 1 when the dataset has table `name`. */
    sluice_status (*exists)(void *ud, const char *name, int *exists);
    /* Create t (staging = 1: its staging copy) or add the columns it lacks, with its indexes.
     * rowid (NULL when not wanted): the column that tells that side's rows apart (staging
     * copies: in the order staged). */
    sluice_status (*sync)(void *ud, const struct sl_table *t, int staging, const char **rowid);
    /* Optional: once the chain is synced, before the first statement. */
    sluice_status (*ready)(void *ud, const struct sl_merge_spec *m);
    /* Optional: after the last statement (the staged rows are merged). */
    sluice_status (*done)(void *ud, const struct sl_merge_spec *m);
};

/*
 * Merge m's staged rows (xMerge): nothing when the root has no staged rows; else check what
 * every strategy needs of the chain (a _dlt_id, a primary key for upsert and insert-only,
 * a root link for each existing nested table but scd2's), sync it, run m->strategy and drop
 * the scratch tables. Effects go to fx; a failure is located at m->root's resource.
 */
sluice_status sl_sql_merge(const struct sl_sql_merge_ops *ops, void *ud, struct sl_effects *fx,
                           struct sl_ctx *ctx, const struct sl_merge_spec *m);

/*
 * The fast first merge's two questions (destination.h: xIsEmpty, xMergeDirectClean), asked
 * through ops->exists, ops->table and ops->count. sl_sql_merge_is_empty: *empty = 1 when
 * the dataset has no table `table` or it has no row. sl_sql_merge_direct_clean: *clean = 1
 * when m->root's rows, loaded straight into it, are what merging them into an empty table
 * makes (no two share a primary key, none is a hard delete).
 */
sluice_status sl_sql_merge_is_empty(const struct sl_sql_merge_ops *ops, void *ud,
                                    struct sl_ctx *ctx, const char *table, int *empty);
sluice_status sl_sql_merge_direct_clean(const struct sl_sql_merge_ops *ops, void *ud,
                                        struct sl_ctx *ctx, const struct sl_merge_spec *m,
                                        int *clean);

#endif
