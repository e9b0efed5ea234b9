/*
 * normalize.h — nested JSON items → relational rows in dlt's layout.
 *
 * For each item the normalizer emits the root row and then the rows of its child tables
 * (depth first), evolving the schema as it goes: new tables, new columns, and variant
 * columns (<col>__v_<type>) when a value does not fit the column's type. Rules (spec 3):
 * snake_case names; nested objects flattened into parent__child columns; lists become child
 * tables <table>__<field> with _dlt_parent_id, _dlt_list_idx, _dlt_id (a deterministic digest
 * of "<parent _dlt_id>_<table>_<idx>"); lists of scalars get a `value` column; lists in lists
 * a `list` wrapper table; _dlt_root_id on children of merge resources; _dlt_load_id and a
 * random _dlt_id on root rows (an input _dlt_id is kept); max_table_nesting stores deeper
 * data as JSON text. Type inference: bigint, double, bool, text, timestamp (ISO 8601
 * strings; stored as UTC text "YYYY-MM-DDTHH:MM:SS[.frac]Z"), date ("YYYY-MM-DD"), json.
 *
 * Emitted rows are borrowed: their values live in the normalizer's arena until the next item.
 */
#ifndef SLUICE_NORMALIZE_H
#define SLUICE_NORMALIZE_H

#include "base/digest.h"
#include "base/json.h"
#include "model/coerce.h"
#include "model/schema.h"

/* A normalized row: vals[i] is the value of t->cols[i]; columns beyond nvals are NULL. */
typedef sluice_status (*sl_row_fn)(void *ud, struct sl_table *t, const struct sl_value *vals,
                                   size_t nvals);

/* How one resource's items are normalized (from the resource config). */
struct sl_norm_resource {
    const char *resource;        /* resource name (for errors and the table's resource) */
    const char *table_name;      /* static table name, template with {field}s, or NULL */
    enum sl_write_disposition wd;
    const char *const *primary_key; /* source field names (normalized here), n_pk of them */
    size_t n_pk;
    const char *const *merge_key;
    size_t n_mk;
    const struct sl_json *columns;  /* column hints object, or NULL: {"col": {"data_type":
                                       "text", "nullable": false, "hard_delete": true,
                                       "dedup_sort": "desc", "primary_key": true, ...}} */
    int64_t max_table_nesting;   /* -1 = default (1000) */
    bool root_key;               /* add _dlt_root_id to children (merge resources) */
    /* merge only: the strategy (x-merge-strategy of the root table) and, for scd2, its
     * settings as configured (source names and timestamps as written; NULL = dlt's default) */
    enum sl_merge_strategy strategy;
    const char *valid_from, *valid_to, *row_version;
    const char *active_ts, *boundary_ts;
};

struct sl_normalizer;

/* schema is borrowed and evolved in place; load_id is copied; rng is borrowed. */
sluice_status sl_normalizer_new(struct sl_ctx *ctx, struct sl_schema *schema,
                                const char *load_id, struct sl_rng *rng,
                                struct sl_normalizer **out);
void sl_normalizer_free(struct sl_normalizer **n);
/* The destination's maximum identifier length in characters; 0 (the default) = unlimited.
 * Longer table and column names are shortened as dlt does (naming.h). Call it before the first
 * item: it drops the normalizer's name caches. */
void sl_normalizer_set_max_identifier_length(struct sl_normalizer *n, size_t max_len);
/* The destination's limits: at most max_columns columns per table (0 = no limit), no table
 * whose name starts with reserved_prefix (NULL = none; borrowed), no column named as one of
 * reserved_columns (a NULL-ended list, or NULL; borrowed). Crossing one is DATA_SCHEMA for the
 * item that would. */
void sl_normalizer_set_limits(struct sl_normalizer *n, size_t max_columns,
                              const char *reserved_prefix, const char *const *reserved_columns);

/*
 * Normalize one item (item_no: 1-based position within the resource, for errors). table_hint
 * overrides the resource's table (singer streams), or NULL. Calls emit for each row, root
 * first. Errors name the resource, the item and the field: DATA_SCHEMA for a null primary or
 * merge key, a missing merge-key column, a bad hint; CONFIG for a bad template.
 */
sluice_status sl_normalize_item(struct sl_normalizer *n, const struct sl_norm_resource *res,
                                const struct sl_json *item, int64_t item_no,
                                const char *table_hint, sl_row_fn emit, void *ud);

/* The root table name an item goes to (template applied and normalized), for callers that
 * need it before normalizing (e.g. to route replace/merge). Borrowed until the next call. */
sluice_status sl_normalize_table_name(struct sl_normalizer *n, const struct sl_norm_resource *res,
                                      const struct sl_json *item, int64_t item_no,
                                      const char **out);

#endif
