/*
 * systables.h — dlt's system tables (_dlt_loads, _dlt_version, _dlt_pipeline_state) on every
 * SQL destination: their columns, the rows a load writes and the newest state and schema it
 * reads back (the system-table methods of destination.h).
 *
 * The statements are the same on every engine but for a few words: the types of the columns
 * (what dlt's own destination of that kind creates), placeholders and their casts, the order
 * of load ids and how a state's created_at reads as ISO text. A back-end names those in a
 * struct sl_systables and runs the statements it is handed (run: parameters bound, each
 * result row handed back as text); its xLoadExists ... xLoadState are one call here. What
 * really differs stays in the back-end: creating the tables (when, and the guard against two
 * states of one version: a trigger, or a check before the insert).
 */
#ifndef SLUICE_DEST_SYSTABLES_H
#define SLUICE_DEST_SYSTABLES_H

#include <stdint.h>

#include "destinations/destination.h"
#include "destinations/sql.h"

/* What a parameter holds. A time is ISO 8601 UTC text ("YYYY-MM-DDTHH:MM:SS.ffffffZ"). */
enum sl_sys_type { SL_SYS_TEXT, SL_SYS_INT, SL_SYS_TIME };

struct sl_sys_param {
    enum sl_sys_type type;
    const char *text; /* TEXT, TIME (NULL: SQL NULL) */
    int64_t i;        /* INT */
};

/* One result row, every value as text (NULL: SQL NULL); -1 when out of memory. */
typedef int (*sl_sys_row_fn)(void *fud, const char *const *vals, size_t n);

struct sl_systables {
    /* The dialect. */
    /* The dataset table `name` as a reference. */
    void (*table)(struct sl_sql *q, void *ud, const char *name);
    /* Placeholder n (from 1) of a parameter of type t, cast where the engine needs it. */
    void (*param)(struct sl_sql *q, int n, enum sl_sys_type t);
    /* Column types, as dlt's destination of that kind creates them. */
    const char *text_type;     /* text columns */
    const char *load_id_type;  /* load_id, _dlt_load_id */
    const char *dlt_id_type;   /* _dlt_pipeline_state._dlt_id */
    const char *int_type;
    const char *time_type;     /* inserted_at, created_at */
    const char *newest_load;   /* ORDER BY terms: the highest load id (as a number) first */
    const char *created_at;    /* s."created_at" as ISO 8601 UTC text, or as stored */
    /* The engine. */
    /* *have = 1 when the dataset has table `name` (outside a transaction the dataset may
     * not exist). */
    sluice_status (*have)(void *ud, const char *name, int *have);
    /* Run one statement with its parameters; fn (may be NULL) gets each result row. */
    sluice_status (*run)(void *ud, const char *sql, const struct sl_sys_param *p, int np,
                         sl_sys_row_fn fn, void *fud, const char *what);
};

/* The number of system tables and the name of table i. */
#define SL_SYS_TABLES 3
const char *sl_sys_table_name(size_t i);
/* " (<columns with their types>)" of system table i, appended to q. */
void sl_sys_columns(struct sl_sql *q, const struct sl_systables *s, size_t i);

/* The system-table methods of destination.h (same arguments, with the engine's s and ud). */
sluice_status sl_sys_load_exists(const struct sl_systables *s, void *ud, struct sl_ctx *ctx,
                                 const char *load_id, int *exists);
sluice_status sl_sys_insert_load(const struct sl_systables *s, void *ud, struct sl_ctx *ctx,
                                 const char *load_id, const char *schema_name,
                                 const char *schema_version_hash);
sluice_status sl_sys_newest_load_id(const struct sl_systables *s, void *ud, struct sl_ctx *ctx,
                                    char **out);
sluice_status sl_sys_delete_schema_versions(const struct sl_systables *s, void *ud,
                                            struct sl_ctx *ctx, const char *schema_name);
sluice_status sl_sys_save_schema(const struct sl_systables *s, void *ud, struct sl_ctx *ctx,
                                 const char *schema_name, int64_t version,
                                 const char *version_hash, const char *schema_json);
sluice_status sl_sys_load_schema(const struct sl_systables *s, void *ud, struct sl_ctx *ctx,
                                 const char *schema_name, char **json_out);
sluice_status sl_sys_save_state(const struct sl_systables *s, void *ud, struct sl_ctx *ctx,
                                const struct sl_state_row *row);
sluice_status sl_sys_load_state(const struct sl_systables *s, void *ud, struct sl_ctx *ctx,
                                const char *pipeline, struct sl_state_row_owned *out,
                                int *found);

#endif
