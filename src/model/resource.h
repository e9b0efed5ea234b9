/*
 * resource.h — a pipeline and its resources as configured: the settings dlt calls resource
 * hints (write disposition, keys, table name, nesting, incremental) and where items come from.
 *
 * These are plain data. config.c fills them from a YAML/JSON file and sluice.c from the C API;
 * sources read them to know what to run, the stages to know what to do with the items. Keeping
 * the structs here, below everything that uses them, lets a source or a destination know a
 * resource without knowing how configs are read.
 */
#ifndef SLUICE_RESOURCE_H
#define SLUICE_RESOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/json.h"
#include "model/rest.h"
#include "model/schema.h"

enum sl_from_kind {
    SL_FROM_NONE = 0, /* C generator (API) */
    SL_FROM_COMMAND,
    SL_FROM_FILE,
    SL_FROM_REST      /* a resource of a rest_api source (model/rest.h) */
};

/* The settings of a merge write_disposition mapping beyond the strategy (dlt's keys). */
struct sl_merge_opts {
    char *valid_from;         /* scd2 validity_column_names[0], or NULL: _dlt_valid_from */
    char *valid_to;           /* scd2 validity_column_names[1], or NULL: _dlt_valid_to */
    char *row_version;        /* scd2 row_version_column_name, or NULL: _dlt_id holds the row
                                 hash */
    char *active_ts;          /* scd2 active_record_timestamp as written, or NULL (null: active
                                 rows have valid_to NULL) */
    char *boundary_ts;        /* scd2 boundary_timestamp as written, or NULL (the load
                                 package's creation time) */
};

struct sl_resource_cfg {
    char *source;             /* source name */
    char *name;               /* resource name */
    enum sl_from_kind from;
    char *command;            /* SL_FROM_COMMAND: run with sh -c in base_dir */
    double timeout;           /* SL_FROM_COMMAND: seconds before it is stopped; 0 = none */
    char *file;               /* SL_FROM_FILE: glob (relative to base_dir); .gz decompressed */
    struct sl_rest_resource *rest; /* SL_FROM_REST: the endpoint and its client */
    char *format;             /* "jsonl" (default: JSON lines or a JSON array, detected),
                                 "singer" (commands) */
    enum sl_write_disposition wd;   /* default append */
    char *merge_strategy;     /* "delete-insert", "upsert", "insert-only", "scd2", or NULL
                                 (merge: the destination's default, delete-insert) */
    struct sl_merge_opts merge; /* the rest of the merge write_disposition mapping */
    char **primary_key;       /* source field names */
    size_t n_pk;
    bool pk_is_list;          /* given as a list: boundary hashes of one column are [value] */
    char **merge_key;
    size_t n_mk;
    char *table_name;         /* static name or template "{type}", or NULL (= resource name) */
    struct sl_json *columns;  /* heap object of column hints, or NULL */
    int64_t max_table_nesting;/* -1 = unset */
    int root_key;             /* source's root_key: -1 unset (on for merge), 0 off, 1 on */
    struct sl_json *incremental; /* heap object, validated keys (see DESIGN.md 4), or NULL */
    bool selected;            /* default true */
};

struct sl_pipeline_cfg {
    char *path;               /* the config file (NULL when built from the C API) */
    char *base_dir;           /* folder of the config file (or cwd) */
    char *pipeline_name;
    char *dest_type;          /* "sqlite" (default), "duckdb", "postgres" */
    char *dest_path;          /* file destinations */
    char *dest_dsn;           /* secret */
    bool dest_lock_timeout_set; /* destination.lock_timeout given (else the destination's
                                   default wait) */
    double dest_lock_timeout; /* seconds a run waits for another process holding the
                                 destination's lock (0: fail at once) */
    char *dataset;            /* default "<pipeline>_dataset" */
    int64_t max_table_nesting;/* -1 = unset */
    bool archive_packages;    /* keep loaded packages under <workdir>/loaded/ */
    struct sl_resource_cfg *resources;
    size_t nres;
};

/* Free a pipeline config and everything it owns (secrets wiped); *cfg becomes NULL. */
void sl_pipeline_cfg_free(struct sl_pipeline_cfg **cfg);

/* Initialise a resource config with defaults (source and name copied). 0 ok, -1 no memory. */
int sl_resource_cfg_init(struct sl_resource_cfg *r, const char *source, const char *name);
/* Free what r owns and reset it to defaults; twice is fine. */
void sl_resource_cfg_cleanup(struct sl_resource_cfg *r);
/* Free what o owns; o is all NULL after. */
void sl_merge_opts_cleanup(struct sl_merge_opts *o);
/* Whether r declares a primary key (primary_key, or a column hint primary_key: true). */
bool sl_resource_cfg_has_pk(const struct sl_resource_cfg *r);

#endif
