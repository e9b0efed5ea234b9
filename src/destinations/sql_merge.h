/*
 * sql_merge.h — the merge strategies of destination.h (delete-insert, upsert, insert-only,
 * scd2) as SQL statements shared by the SQL destinations (sqlite, postgres, duckdb).
 *
 * A back-end makes the chain ready (both sides of the root and of every nested table with
 * staged rows carry all typed columns; its staging copies keep each row's package item in
 * SL_SQL_ITEM_COL), fills a struct sl_sql_merge and calls sl_sql_merge_run(). The statements
 * are built here from the dialect's few words (struct sl_sql_merge_ops) and run through the
 * back-end's exec callback, which reports the rows each one changed; the net effect of every
 * statement goes to the effect callback (xEffects). Scratch tables (<temp>"_sl_ins",
 * "_sl_del", "_sl_nest") live in the session's temporary schema and are dropped at the end.
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
    /* Net effect of a statement on a table (xEffects). */
    void (*effect)(void *ud, const char *table, int64_t inserted, int64_t updated,
                   int64_t deleted);
};

struct sl_sql_merge {
    const struct sl_sql_merge_ops *ops;
    void *ud;
    struct sl_ctx *ctx;
    const struct sl_merge_spec *m;
    struct sl_merge_keys k;
    int *exists;             /* per child: in the dataset or staged (the back-end fills) */
    int *staged;             /* per child: has staged rows (the back-end fills) */
    const char *srowid;      /* the root staging copy's row id column (the back-end fills) */
    const char *drowid;      /* the root dataset table's (the back-end fills) */
    const char **crowid;     /* per staged child: its staging copy's (the back-end fills) */
};

/* Collect the keys of m->root and check what every strategy needs of the root (a _dlt_id, a
 * primary key for upsert and insert-only). Always call sl_sql_merge_cleanup. */
sluice_status sl_sql_merge_init(struct sl_sql_merge *g, const struct sl_sql_merge_ops *ops,
                                void *ud, struct sl_ctx *ctx, const struct sl_merge_spec *m);
/* Check that existing nested table i can be linked to its root (not needed by scd2). */
sluice_status sl_sql_merge_check_child(struct sl_sql_merge *g, size_t i);
/* Run m->strategy, then drop the scratch tables. */
sluice_status sl_sql_merge_run(struct sl_sql_merge *g);
void sl_sql_merge_cleanup(struct sl_sql_merge *g);

#endif
