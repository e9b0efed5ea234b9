/*
 * schema.h — tables, columns, data types and hints: the relational shape of a dataset.
 *
 * A schema is owned by the pipeline and evolves while items are normalized: tables and
 * columns are only ever added (never removed or retyped; a conflicting value goes to a
 * variant column), so a column's index in its table is stable for the schema's lifetime and
 * normalized rows can refer to columns by index. The schema is stored as JSON in dlt's layout
 * (name, version, version_hash, tables → columns with data_type, nullable and hints, dlt's
 * system tables _dlt_version, _dlt_loads and _dlt_pipeline_state, settings, normalizers,
 * previous_hashes) in the local working dir and in the dataset's _dlt_version table, so dlt
 * reads it as its own. A schema read from JSON (dlt's or ours) is written back with every key
 * it had, in its order: only what sluice changed differs, so the version hash changes only
 * when the content does.
 */
#ifndef SLUICE_SCHEMA_H
#define SLUICE_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/json.h"

enum sl_dtype {
    SL_DT_NONE = 0, /* not yet known (column seen only with nulls) */
    SL_DT_TEXT,
    SL_DT_BIGINT,
    SL_DT_DOUBLE,
    SL_DT_BOOL,
    SL_DT_TIMESTAMP,
    SL_DT_DATE,
    SL_DT_JSON,
    SL_DT_DECIMAL,
    SL_DT_TIME,
    SL_DT_BINARY,
    SL_DT_WEI
};

/* dlt's names: "text", "bigint", "double", "bool", "timestamp", "date", "json", "decimal",
 * "time", "binary", "wei". sl_dtype_parse returns SL_DT_NONE for an unknown name. */
const char *sl_dtype_name(enum sl_dtype t);
enum sl_dtype sl_dtype_parse(const char *name);

enum sl_write_disposition {
    SL_WD_APPEND = 0,
    SL_WD_REPLACE,
    SL_WD_MERGE,
    SL_WD_SKIP
};
const char *sl_wd_name(enum sl_write_disposition wd);
/* Returns -1 for an unknown name. */
int sl_wd_parse(const char *name);

/* dlt's merge strategies: the x-merge-strategy hint of a merge root table (its nested tables
 * follow the root). DEFAULT means none was configured: the destination's default applies,
 * which is delete-insert on every destination sluice has. */
enum sl_merge_strategy {
    SL_MERGE_DEFAULT = 0,
    SL_MERGE_DELETE_INSERT,
    SL_MERGE_UPSERT,
    SL_MERGE_INSERT_ONLY,
    SL_MERGE_SCD2
};
/* dlt's names ("delete-insert", "upsert", "insert-only", "scd2"); NULL for DEFAULT. */
const char *sl_merge_strategy_name(enum sl_merge_strategy s);
/* Returns -1 for an unknown name. */
int sl_merge_strategy_parse(const char *name);

/* Column hints (bit flags). */
enum {
    SL_HINT_PRIMARY_KEY = 1u << 0,
    SL_HINT_MERGE_KEY = 1u << 1,
    SL_HINT_HARD_DELETE = 1u << 2,
    SL_HINT_DEDUP_ASC = 1u << 3,
    SL_HINT_DEDUP_DESC = 1u << 4,
    SL_HINT_ROW_KEY = 1u << 5,    /* _dlt_id */
    SL_HINT_PARENT_KEY = 1u << 6, /* _dlt_parent_id */
    SL_HINT_ROOT_KEY = 1u << 7,   /* _dlt_root_id */
    SL_HINT_UNIQUE = 1u << 8,
    SL_HINT_INCREMENTAL = 1u << 9,
    SL_HINT_VARIANT = 1u << 10,   /* a variant column (<col>__v_<type>) */
    SL_HINT_SYSTEM = 1u << 11,    /* _dlt_* system column */
    SL_HINT_VALID_FROM = 1u << 12,  /* x-valid-from: scd2 validity start */
    SL_HINT_VALID_TO = 1u << 13,    /* x-valid-to: scd2 validity end */
    SL_HINT_ROW_VERSION = 1u << 14  /* x-row-version: scd2 row hash (then neither unique nor
                                       row_key, written as false, as dlt does) */
};

struct sl_column {
    char *name;         /* normalized (destination) name */
    enum sl_dtype type;
    bool nullable;
    uint32_t hints;
    struct sl_json *extra; /* the column's stored JSON as read (dlt's metadata: precision,
                              description, ... and key order), or NULL for a new column */
};

struct sl_table {
    char *name;         /* normalized table name */
    char *parent;       /* parent table name, NULL for a root table */
    char *resource;     /* the resource that fills it (root tables and their children) */
    enum sl_write_disposition wd;
    enum sl_merge_strategy strategy; /* merge tables: x-merge-strategy of the root (nested
                                        tables carry the root's, it is not stored for them) */
    char *boundary_ts;  /* scd2 root: x-boundary-timestamp as configured, or NULL */
    char *active_ts;    /* scd2 root: x-active-record-timestamp of its x-valid-to column as
                           configured, or NULL (null) */
    struct sl_column *cols;
    size_t ncols, cap;
    /* open-addressing index name → column index + 1 (0 = empty); size is a power of two */
    uint32_t *index;
    size_t index_size;
    bool has_data;      /* received data at least once */
    struct sl_json *extra; /* the table's stored JSON as read, or NULL for a new table */
    uint32_t gen;       /* bumped by every change to its columns (added, typed, hinted): the
                           normalizer hands a copy to a load that follows it (loadpipe.h) */
};

struct sl_schema {
    char *name;         /* schema name (the pipeline's default schema: the source name) */
    int64_t version;    /* bumped when the content changes */
    char *version_hash; /* base64 SHA3-256 of the canonical content, or NULL */
    struct sl_table **tables; /* data tables only; dlt's system tables live in extra */
    size_t ntables, cap;
    struct sl_json *prev_hashes; /* dlt's previous_hashes (newest first, at most 10) or NULL */
    struct sl_json *extra;       /* the stored document as read (system tables, settings,
                                    normalizers, keys sluice does not model), or NULL */
};

sluice_status sl_schema_new(struct sl_ctx *ctx, const char *name, struct sl_schema **out);
void sl_schema_free(struct sl_schema **s);

struct sl_table *sl_schema_find(const struct sl_schema *s, const char *table);
/* Find or create a table (parent NULL for root tables). NULL when out of memory (ctx set). */
struct sl_table *sl_schema_table(struct sl_ctx *ctx, struct sl_schema *s, const char *name,
                                 const char *parent, const char *resource,
                                 enum sl_write_disposition wd);
/* Set t's boundary_ts / active_ts to a copy of v (NULL clears). -1 when out of memory (the
 * old value stays). */
int sl_table_set_ts(char **slot, const char *v);
/* Remove a table (drop); returns true when it existed. Child tables are not removed. */
bool sl_schema_remove(struct sl_schema *s, const char *table);

/* True for dlt's system tables (_dlt_version, _dlt_loads, _dlt_pipeline_state): they are part
 * of the stored schema (as dlt writes them) but never among a schema's data tables. */
bool sl_schema_is_system_table(const char *name);

/* Column index or -1. */
long sl_table_col(const struct sl_table *t, const char *name);
/* Append a column; returns its index or -1 when out of memory (ctx set). The name is copied. */
long sl_table_add_col(struct sl_ctx *ctx, struct sl_table *t, const char *name,
                      enum sl_dtype type, bool nullable, uint32_t hints);
/* The root table of t (walks parents). */
struct sl_table *sl_schema_root(const struct sl_schema *s, struct sl_table *t);

/* dlt-layout JSON of the schema (caller frees with sl_json_free). */
struct sl_json *sl_schema_to_json(const struct sl_schema *s);
sluice_status sl_schema_from_json(struct sl_ctx *ctx, const struct sl_json *j,
                                  struct sl_schema **out);
/* Recompute version_hash (dlt's generate_version_hash); bump version when the content changed
 * since the last hash, keeping the old hash first in previous_hashes (at most 10), as dlt's
 * bump_version_if_modified. Returns true when it changed. */
bool sl_schema_bump(struct sl_schema *s);
/* Deep copy. */
sluice_status sl_schema_dup(struct sl_ctx *ctx, const struct sl_schema *s,
                            struct sl_schema **out);

#endif
