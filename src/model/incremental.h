/*
 * incremental.h — cursor-based incremental loading: dlt's filter algorithm (spec 1.2) with
 * typed cursors.
 *
 * A resource's `incremental` config (cursor_path, initial_value, end_value, last_value_func,
 * lag, primary_key, on_cursor_value_missing, row_order, range_start, range_end, assume_tz,
 * max_unique_hashes) is parsed once. Each run binds it to the resource's state slot
 * `incremental.<cursor_path>` = {initial_value, start_value, last_value, unique_hashes}, then
 * filters every item: keep or drop, and tracks the new last value and the boundary hashes.
 * At the end of the resource the slot is written back into the (heap) resource state object.
 * A bound incremental with an end value (backfill) never touches the state.
 *
 * Cursor values (beyond dlt, spec/README.md): JSON numbers of any size, compared by exact
 * decimal value (unix timestamps are numbers); ISO 8601 dates and datetimes (compared as UTC
 * instants; the original text is what is stored in state); other strings, numeric-looking ones
 * included, compared byte-wise as dlt does. Naive and aware datetimes cannot be mixed unless
 * assume_tz gives the zone of naive ones ("UTC", "+02:00"). A cursor whose type differs from
 * the stored last_value is an INCREMENTAL error naming both.
 */
#ifndef SLUICE_INCREMENTAL_H
#define SLUICE_INCREMENTAL_H

#include <stdbool.h>

#include "base/error.h"
#include "base/json.h"

enum sl_inc_func { SL_INC_MAX = 0, SL_INC_MIN, SL_INC_CUSTOM };
enum sl_inc_missing { SL_INC_RAISE = 0, SL_INC_INCLUDE, SL_INC_EXCLUDE };
enum sl_inc_order { SL_INC_ORDER_NONE = 0, SL_INC_ORDER_ASC, SL_INC_ORDER_DESC };

/* Custom last_value_func through the C API: returns the new last value given a row's cursor
 * value and the current last value (NULL on the first row); result is a heap tree or NULL
 * on error. */
typedef struct sl_json *(*sl_inc_custom_fn)(void *ud, const struct sl_json *row_value,
                                            const struct sl_json *current);

struct sl_incremental_cfg {
    char *cursor_path;          /* as written: slot key */
    char *slot_key;             /* the state slot's key instead of cursor_path, or NULL (a
                                   Singer stream's cursor: "<stream>:<property>") */
    struct sl_json *initial_value; /* heap or NULL */
    struct sl_json *end_value;     /* heap or NULL */
    enum sl_inc_func func;
    sl_inc_custom_fn custom_fn;
    void *custom_ud;
    bool has_lag;
    double lag;
    bool pk_set;                /* primary_key given (possibly empty = dedup disabled) */
    char **primary_key;
    size_t n_pk;
    bool pk_is_list;            /* written as a list: a one-column key hashes as [value], as
                                   dlt does for primary_key=["id"] (a string hashes as value) */
    enum sl_inc_missing on_missing;
    enum sl_inc_order row_order;
    bool range_start_open;
    bool range_end_closed;
    char *assume_tz;            /* NULL or a zone for naive datetimes */
    int64_t max_unique_hashes;  /* default 10000 */
};

/* Parse the validated config object (config.c checked key names and basic types). Errors:
 * CONFIG naming the resource and key (end_value without initial_value, initial beyond end,
 * bad JSONPath, lag with a custom function...). */
sluice_status sl_incremental_cfg_parse(struct sl_ctx *ctx, const char *resource,
                                       const struct sl_json *cfg, struct sl_incremental_cfg *out);
void sl_incremental_cfg_cleanup(struct sl_incremental_cfg *cfg);

struct sl_incremental;

/*
 * Bind for one run. resource_state: the heap object state.sources.<s>.resources.<r> (the slot
 * is created under "incremental" when missing), or NULL for a stateless run. start/end
 * override the configured initial/end values (backfill windows from --start/--end or a
 * scheduler); a non-NULL end makes the run stateless. resource_pk: the resource's primary key
 * (inherited for de-duplication when the incremental sets none; copied). cfg is borrowed and
 * must outlive the bound incremental; resource_state must stay valid until commit (the slot
 * is looked up again there, so its parent objects may change meanwhile). Logs one INFO line
 * "Bind incremental on <resource> with initial_value=..., start_value=..., end_value=...".
 */
sluice_status sl_incremental_bind(struct sl_ctx *ctx, const struct sl_incremental_cfg *cfg,
                                  const char *resource, char *const *resource_pk, size_t n_pk,
                                  bool resource_pk_is_list, struct sl_json *resource_state,
                                  const struct sl_json *start, const struct sl_json *end,
                                  struct sl_incremental **out);

/* Filter one item: *keep 1 or 0. Errors (INCREMENTAL): missing/null cursor under raise,
 * uncomparable types, naive/aware mix, hash cap reached; they name resource, item, field. */
sluice_status sl_incremental_filter(struct sl_incremental *inc, const struct sl_json *item,
                                    int64_t item_no, int *keep);

/* True once row_order says no further item can be in range (the source may stop). */
bool sl_incremental_can_close(const struct sl_incremental *inc);
bool sl_incremental_start_out_of_range(const struct sl_incremental *inc);
bool sl_incremental_end_out_of_range(const struct sl_incremental *inc);

/* Values exposed to sources, as JSON (borrowed; NULL when null/unset). */
const struct sl_json *sl_incremental_value(const struct sl_incremental *inc, const char *which);
/* "initial_value" | "start_value" | "last_value" | "end_value" */

/* Write the slot back into the resource state (no-op when stateless). Call once, after the
 * resource finished without error. */
sluice_status sl_incremental_commit(struct sl_incremental *inc);
void sl_incremental_free(struct sl_incremental **inc);

#endif
