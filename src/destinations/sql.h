/*
 * sql.h — SQL text shared by the SQL destinations (sqlite, postgres): a statement builder,
 * identifier quoting, index names, and the merge keys of a table.
 *
 * The builder never fails per append: a failed append (out of memory, or above the cap of
 * SL_SQL_MAX bytes) sets `bad`, and sl_sql_text() reports it once, so building code stays
 * straight-line. Identifiers are always double-quoted with embedded quotes doubled, which is
 * the standard SQL form both engines accept; values never go into the text (they are bound or
 * streamed). Nothing here talks to an engine.
 */
#ifndef SLUICE_DEST_SQL_H
#define SLUICE_DEST_SQL_H

#include <stddef.h>
#include <stdint.h>

#include "base/alloc.h"
#include "base/error.h"
#include "model/schema.h"

#define SL_SQL_MAX ((size_t)64 << 20) /* cap on one generated statement */

struct sl_sql {
    struct sl_buf b;
    int bad;
};

void sl_sql_init(struct sl_sql *q);
void sl_sql_reset(struct sl_sql *q);
void sl_sql_cleanup(struct sl_sql *q);
void sl_sql_put(struct sl_sql *q, const char *s);
void sl_sql_putn(struct sl_sql *q, const char *s, size_t n);
void sl_sql_ch(struct sl_sql *q, char c);
/* prefix + name as one double-quoted identifier (prefix may be NULL). */
void sl_sql_id2(struct sl_sql *q, const char *prefix, const char *name);
void sl_sql_id(struct sl_sql *q, const char *name);
/* alias."column" */
void sl_sql_col(struct sl_sql *q, const char *alias, const char *name);
/* "schema"."name" */
void sl_sql_qname(struct sl_sql *q, const char *schema, const char *name);
/* The finished text (borrowed), or NULL after recording NOMEM (or the cap) in ctx. */
const char *sl_sql_text(struct sl_ctx *ctx, struct sl_sql *q);

/*
 * The name of the index on `table` over cols: "<table>__<col>[__<col>]__idx", or, above max
 * bytes, its first bytes (cut on a UTF-8 boundary) + "__" + 16 hex digits of a 64-bit FNV-1a
 * hash of the full name. Deterministic, so a re-sync finds the index again. Appended unquoted
 * to out (out->bad on failure).
 */
void sl_sql_index_name(struct sl_sql *out, const char *table, const char *const *cols, size_t n,
                       size_t max);

/* How a destination writes one CREATE INDEX IF NOT EXISTS on table (ud: the destination). */
typedef void (*sl_sql_index_fn)(struct sl_sql *q, const void *ud, const char *table,
                                const char *const *cols, size_t n);

/*
 * Append (through fn) the indexes that keep merges proportional to the package: on merge
 * tables the primary key (composite) and the merge key; on any table with _dlt_root_id that
 * column (children of merge resources); on first-level merge children without a root key,
 * _dlt_parent_id (the fallback link, spec 4); on scd2 roots the row version column and on
 * their nested tables _dlt_id (versions and nested rows are looked up by them). No index on
 * other roots' _dlt_id: replaced roots are found through the key indexes, and a random-key
 * index costs every bulk load. 0, or -1 when out of memory.
 */
int sl_sql_merge_indexes(struct sl_sql *q, const struct sl_table *t, sl_sql_index_fn fn,
                         const void *ud);

/* 64-bit FNV-1a of a string. */
uint64_t sl_sql_fnv1a(const char *s);

/* Index of the typed column `name` of t, or -1. */
long sl_sql_typed_col(const struct sl_table *t, const char *name);

/* The column linking a child to its root's _dlt_id: _dlt_root_id, or _dlt_parent_id for a
 * first-level child without root key. NULL when there is none. */
const char *sl_sql_root_link(const struct sl_table *root, const struct sl_table *child);

/* The merge hints of a root table (spec 4.1). Arrays owned by the struct. */
struct sl_merge_keys {
    const struct sl_column **pk, **mk;
    size_t npk, nmk;
    const struct sl_column *hd;    /* hard_delete column, or NULL */
    const struct sl_column *dedup; /* dedup_sort column, or NULL */
    int dedup_desc;
};

/* Collect root's keys. DATA_SCHEMA (naming resource and column) when a key column has no data
 * type; NOMEM. Always call sl_merge_keys_cleanup. */
sluice_status sl_merge_keys_init(struct sl_ctx *ctx, const struct sl_table *root,
                                 struct sl_merge_keys *k);
void sl_merge_keys_cleanup(struct sl_merge_keys *k);

/* "1 when the row is a hard delete" over alias a: FALSE without a hard_delete column; for a
 * bool column coalesce(a.hd = <true_lit>, <false_lit>); else (a.hd IS NOT NULL). */
void sl_sql_deleted_expr(struct sl_sql *q, const char *alias, const struct sl_column *hd,
                         const char *true_lit, const char *false_lit);

/* How sluice's query output shows a value an engine printed as text (the same on every
 * destination): booleans 1/0 (as SQLite stores them), timestamps with time zone as ISO 8601
 * UTC with `T` and `Z` (the text the normalizer writes; the session's time zone is UTC), JSON
 * compact (no blanks outside strings). */
enum sl_sql_render_kind {
    SL_RENDER_AS_IS = 0,
    SL_RENDER_BOOL,        /* "t"/"true" -> 1, "f"/"false" -> 0 */
    SL_RENDER_TIMESTAMPTZ, /* "YYYY-MM-DD HH:MM:SS[.f]+00" -> "YYYY-MM-DD HH:MM:SS.ffffff",
                              dlt's SQLite text (UTC) */
    SL_RENDER_JSON,
    SL_RENDER_NUMERIC      /* "12.500000000" -> "12.5", as SQLite's NUMERIC affinity keeps it */
};

/* Append v rendered as kind to b, with its NUL; -1 when out of memory. */
int sl_sql_render(struct sl_buf *b, enum sl_sql_render_kind kind, const char *v);

/* "SELECT CASE WHEN <dirty> THEN 1 ELSE 0 END" over the merge root table_ref (qualified and
 * quoted by the caller): 1 when its rows are not already what merging them into an empty
 * table makes (xMergeDirectClean): two rows share a primary key, or a row is a hard delete. */
void sl_sql_merge_dirty(struct sl_sql *q, const char *table_ref, const struct sl_merge_keys *k,
                        const char *true_lit, const char *false_lit);

#endif
