/*
 * sluice.h — the public C API of sluice, a data loading tool.
 *
 * sluice extracts JSON items from resources (C callbacks, commands, files), normalizes nested
 * JSON into relational tables (dlt's layout), and loads them into a destination with the
 * append, replace or merge write disposition, one transaction per load package.
 *
 * Conventions (see STYLE.md):
 * - Every fallible function returns sluice_status; SLUICE_OK is 0. The numbers never change.
 * - Details of the last error live on the pipeline handle: sluice_last_error(p). The first
 *   error of a call wins; the next public call on the handle clears it.
 * - Opaque handles. open() hands back a handle even when it fails (except out of memory), so
 *   the caller can read the error; close() it in every case. Every free/close accepts NULL.
 * - Strings passed in are copied. Strings and structs returned are borrowed ("valid until the
 *   next call on this handle") unless the function says the caller owns them, in which case
 *   they are released with sluice_free().
 * - The library never prints. Log lines and progress go through callbacks.
 * - Thread model: a handle is used by one thread at a time; separate handles share nothing.
 *   Call sluice_global_init() once per process before anything else.
 */
#ifndef SLUICE_H
#define SLUICE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SLUICE_VERSION "0.1.0"

typedef enum sluice_status {
    SLUICE_OK = 0,
    SLUICE_ERR_NOMEM = 1,          /* out of memory */
    SLUICE_ERR_INVALID_ARG = 2,    /* a bad argument to an API call (programming error) */
    SLUICE_ERR_INVALID_OPTION = 3, /* unknown option or wrong type for it */
    SLUICE_ERR_CONFIG = 4,         /* the pipeline config is invalid */
    SLUICE_ERR_SOURCE = 5,         /* a source failed (command exit status, generator error) */
    SLUICE_ERR_SOURCE_HTTP = 6,    /* an HTTP source failed */
    SLUICE_ERR_DATA_JSON = 7,      /* malformed JSON from a source */
    SLUICE_ERR_DATA_SCHEMA = 8,    /* data does not fit the schema (null key, bad hint) */
    SLUICE_ERR_STATE = 9,          /* pipeline state is unreadable or inconsistent */
    SLUICE_ERR_DEST = 10,          /* the destination failed */
    SLUICE_ERR_IO = 11,            /* local file system error */
    SLUICE_ERR_INTERRUPTED = 12,   /* stopped by a signal or callback */
    SLUICE_ERR_INTERNAL = 13,      /* a bug in sluice: please report it */
    SLUICE_ERR_LOCKED = 14,        /* another run holds the pipeline */
    SLUICE_ERR_INCREMENTAL = 15,   /* incremental cursor error (missing, wrong type) */
    SLUICE_ERR_NOT_FOUND = 16      /* no such pipeline, table or package */
} sluice_status;

/* The fixed text of a status ("SLUICE_ERR_DATA_JSON" style names via sluice_status_name). */
const char *sluice_status_str(sluice_status s);
/* The short class name used in error reports: "DATA_JSON", "CONFIG", ... ("OK" for 0). */
const char *sluice_status_name(sluice_status s);

typedef struct sluice_error {
    sluice_status code;
    const char *origin;   /* "json", "sqlite", "config", "command", ... or "" */
    const char *detail;   /* dependency detail: SQLite extended rc, exit status, ... or "" */
    const char *resource; /* resource name or "" */
    int64_t item;         /* 1-based item (or line) number within the resource, or -1 */
    const char *field;    /* JSON path of the field ("$.created_at") or "" */
    const char *message;  /* one line, no newline */
} sluice_error;

typedef struct sluice_pipeline sluice_pipeline;

/* Once per process, before any other call. Not thread-safe. */
sluice_status sluice_global_init(void);
void sluice_global_cleanup(void);

/* 1 when this build has the destination type ("sqlite", "postgres", "duckdb", ...), else 0.
 * Thread-safe. */
int sluice_destination_available(const char *type);

/* Release memory handed to the caller by functions documented as "caller owns". */
void sluice_free(void *ptr);

/* ---- pipelines -------------------------------------------------------------------------- */

/*
 * Open a pipeline from code. destination is a URL: "sqlite:PATH" (dlt's "sqlite:///rel.db" and
 * "sqlite:////abs.db" too; or a plain path ending in .db/.sqlite), "duckdb:PATH", "postgres://..." (destinations other than sqlite fail with
 * SLUICE_ERR_CONFIG until they exist). dataset may be NULL ("<name>_dataset").
 * The working dir is $SLUICE_PIPELINES_DIR/<name> (default ~/.sluice/pipelines/<name>).
 */
sluice_status sluice_pipeline_open(sluice_pipeline **out, const char *name,
                                   const char *destination, const char *dataset);

/*
 * Open a pipeline from a YAML or JSON config file (DESIGN.md section 4), with ${VAR}
 * interpolation and dlt-style environment overrides. Resources with `from:` are created.
 */
sluice_status sluice_pipeline_open_config(sluice_pipeline **out, const char *config_path);

/*
 * Open an existing pipeline by name (for info/query/drop/pending): reads the destination from
 * the working dir. SLUICE_ERR_NOT_FOUND if the pipeline has never run here.
 */
sluice_status sluice_pipeline_open_existing(sluice_pipeline **out, const char *name);

void sluice_pipeline_close(sluice_pipeline *p);

const sluice_error *sluice_last_error(const sluice_pipeline *p);
/* The pipeline's name ("" when it failed to open); borrowed for the handle's lifetime. */
const char *sluice_pipeline_name(const sluice_pipeline *p);
/* One-line message of the last error ("" when none); borrowed. */
const char *sluice_errmsg(const sluice_pipeline *p);

/* ---- logging and progress --------------------------------------------------------------- */

typedef enum sluice_log_level {
    SLUICE_LOG_DEBUG = 0,
    SLUICE_LOG_INFO = 1,
    SLUICE_LOG_WARN = 2,
    SLUICE_LOG_ERROR = 3
} sluice_log_level;

typedef void (*sluice_log_fn)(void *ctx, sluice_log_level level, const char *message);
void sluice_set_log_cb(sluice_pipeline *p, sluice_log_fn fn, void *ctx);

/*
 * A progress report. Reports come on a time basis, about ten a second while a stage works
 * (whatever the item rate: a slow source reports each item as it comes, a fast one is not
 * slowed down by reporting), plus one when a resource or table starts and one with done = 1
 * when a stage ends. Nothing comes while a source waits for data: a display that must keep
 * its clock moving redraws on its own timer (the CLI does). The callback is called on the
 * thread that called sluice_pipeline_run(); the struct and its strings are borrowed for the
 * call. Fields after `done` were added later; the library always fills them.
 */
typedef struct sluice_progress {
    const char *stage;    /* "extract", "normalize", "load" */
    const char *name;     /* resource (extract) or table (normalize, load); "" for the stage */
    int64_t count;        /* items extracted / rows normalized / rows loaded so far for name */
    int64_t total;        /* all names together in this stage (load: in this package) */
    double elapsed;       /* seconds since the run started */
    int done;             /* 1 on the last report of a stage */
    int64_t count_expected; /* load: rows of name's table in the package; -1 when unknown */
    int64_t total_expected; /* load: rows of the package over all its tables; -1 when unknown */
    const char *step;     /* load: "insert", "merge" (name: the merged table) or "commit";
                             "" otherwise */
} sluice_progress;

typedef void (*sluice_progress_fn)(void *ctx, const sluice_progress *progress);
void sluice_set_progress_cb(sluice_pipeline *p, sluice_progress_fn fn, void *ctx);

/*
 * What sources write to their standard error (a command's stderr, a Singer tap's log), one
 * call per line, without the newline (a line longer than 4 KiB comes in pieces), on the
 * thread that called sluice_pipeline_run(). Without this callback the lines go to the log
 * callback at SLUICE_LOG_INFO as "[resource] line". Either way every line is also kept in
 * the run's log file, <working dir>/logs/run-<id>.log (the newest 20 runs are kept), which
 * a failing command's error names.
 */
typedef void (*sluice_source_log_fn)(void *ctx, const char *resource, const char *line);
void sluice_set_source_log_cb(sluice_pipeline *p, sluice_source_log_fn fn, void *ctx);

/* ---- resources -------------------------------------------------------------------------- */

typedef struct sluice_yield sluice_yield;

/*
 * A resource's generator: called once per run; hands items to sluice with sluice_yield_*.
 * Return SLUICE_OK, or an error status to fail the run (nothing of the run is committed).
 */
typedef sluice_status (*sluice_generator_fn)(sluice_yield *y, void *ctx);

/* Yield JSON text: an object is one item, an array is a page of items. */
sluice_status sluice_yield_json(sluice_yield *y, const char *json, size_t len);
/* Fail the run from inside a generator with a message (returns SLUICE_ERR_SOURCE). */
sluice_status sluice_yield_fail(sluice_yield *y, const char *message);

/*
 * Add a resource whose items come from a C generator. source may be NULL (the pipeline name
 * is used). Settings are given afterwards with sluice_resource_set().
 */
sluice_status sluice_add_resource(sluice_pipeline *p, const char *source, const char *name,
                                  sluice_generator_fn fn, void *ctx);

/*
 * Set a resource setting, exactly as it would be written under the resource in a config file,
 * by key and JSON value: ("write_disposition", "\"merge\""), ("primary_key", "[\"id\",\"k\"]"),
 * ("incremental", "{\"cursor_path\":\"updated_at\"}"), ("columns", "{\"deleted\":
 * {\"hard_delete\":true}}"). Errors: SLUICE_ERR_CONFIG naming the key.
 */
sluice_status sluice_resource_set(sluice_pipeline *p, const char *resource, const char *key,
                                  const char *json_value);

/*
 * A custom last_value_func for a resource's incremental (dlt's callable): given a row's cursor
 * value and the current last value (JSON text; current is NULL on the first row), return the
 * new last value as JSON text allocated with malloc() (sluice frees it), or NULL to fail the
 * run. Lag does not apply to custom functions.
 */
typedef char *(*sluice_last_value_fn)(void *ctx, const char *row_value_json,
                                      const char *current_json);
sluice_status sluice_resource_set_last_value_func(sluice_pipeline *p, const char *resource,
                                                  sluice_last_value_fn fn, void *ctx);

/* ---- running ---------------------------------------------------------------------------- */

typedef struct sluice_run_opts {
    size_t size;                 /* sizeof(sluice_run_opts) */
    const char *const *resources; /* NULL-terminated names to run, or NULL for all */
    const char *refresh;         /* NULL, "drop_sources", "drop_resources", "drop_data" */
    const char *write_disposition; /* NULL or an override for every resource of the run */
    const char *start_value;     /* backfill window start (JSON text or plain), or NULL */
    const char *end_value;       /* backfill window end, or NULL */
    int wait;                    /* 1: wait for another run of this pipeline to finish;
                                    0: fail at once with SLUICE_ERR_LOCKED */
    int dry_run;                 /* 1: extract and normalize, load nothing, commit nothing;
                                    what would be loaded is in the trace's "would_load"
                                    (sluice_pipeline_trace_json), pending packages in its
                                    "pending_not_loaded"; the run's info counts no row */
} sluice_run_opts;

typedef struct sluice_table_info {
    const char *name;
    int64_t rows;                /* rows loaded into this table by this run */
} sluice_table_info;

typedef struct sluice_run_info {
    const char *load_id;         /* load id of the package extracted by this run, or "" */
    int64_t items;               /* items extracted by this run */
    int64_t rows;                /* rows loaded by this run (all tables, all packages) */
    int64_t packages_loaded;     /* packages loaded (pending ones included) */
    int64_t pending_loaded;      /* of those, left over by an earlier run */
    size_t n_tables;
    const sluice_table_info *tables; /* rows per table, sorted by name */
    double elapsed;              /* seconds */
} sluice_run_info;

/*
 * Run the pipeline: load pending packages first, then extract, normalize and load the
 * resources (all, or opts->resources). info (optional) is borrowed until the next call.
 */
sluice_status sluice_pipeline_run(sluice_pipeline *p, const sluice_run_opts *opts,
                                  sluice_run_info *info);

/*
 * Ask the run in progress on p (or the next one, when none is) to stop, as a Ctrl-C should:
 * extraction stops, a command source's process group gets SIGTERM and, after a grace period,
 * SIGKILL; the load package being extracted is discarded and a load in progress is rolled
 * back (a complete package stays pending for the next run). sluice_pipeline_run then returns
 * SLUICE_ERR_INTERRUPTED with a message saying what was interrupted (stage, resource or
 * package), that nothing of it was committed and what the next run will do. A second call
 * while a command source is being stopped skips the grace period (SIGKILL at once).
 *
 * Async-signal-safe and callable from any thread: a program's signal handler may call it.
 * sluice never installs signal handlers itself. The request is forgotten when
 * sluice_pipeline_run returns.
 */
void sluice_pipeline_interrupt(sluice_pipeline *p);

/* ---- inspecting ------------------------------------------------------------------------- */

/* Row callback for queries: ncols columns; values[i] is NULL for SQL NULL. The first call
 * carries the column names with values == NULL (so an empty result still has a header); then
 * one call per row. Return non-zero to stop early. */
typedef int (*sluice_row_fn)(void *ctx, int ncols, const char *const *names,
                             const char *const *values);

/* Run SQL against the destination with the dataset as the default schema. */
sluice_status sluice_pipeline_query(sluice_pipeline *p, const char *sql, sluice_row_fn fn,
                                    void *ctx);

/* What a value of a typed query row is. The text is the same as the untyped query's. */
typedef enum sluice_value_type {
    SLUICE_VALUE_NULL = 0,    /* SQL NULL (the value pointer is NULL) */
    SLUICE_VALUE_INTEGER = 1, /* an integer, as decimal digits */
    SLUICE_VALUE_REAL = 2,    /* a floating point or decimal number, as the database prints
                                 it (not always a JSON number: "Inf") */
    SLUICE_VALUE_TEXT = 3,    /* text (also timestamps and dates) */
    SLUICE_VALUE_BOOL = 4,    /* a boolean column's value, as the database prints it ("1",
                                 "0", "t", "f", "true", "false") */
    SLUICE_VALUE_JSON = 5,    /* the text of a json column (nested data kept as JSON) */
    SLUICE_VALUE_BLOB = 6     /* bytes */
} sluice_value_type;

/* Row callback for typed queries: as sluice_row_fn, plus types[i] for values[i] (types is
 * NULL on the header call). */
typedef int (*sluice_typed_row_fn)(void *ctx, int ncols, const char *const *names,
                                   const char *const *values, const sluice_value_type *types);

/*
 * sluice_pipeline_query with the type of every value, from the value itself and the column it
 * comes from (a json or boolean column). A destination that cannot tell reports TEXT for every
 * non-NULL value.
 */
sluice_status sluice_pipeline_query_typed(sluice_pipeline *p, const char *sql,
                                          sluice_typed_row_fn fn, void *ctx);

/*
 * Pipeline info as one JSON object (caller owns, sluice_free): pipeline_name, destination,
 * dataset_name, state (plain JSON), tables (name, rows, columns), loads, pending.
 */
sluice_status sluice_pipeline_info_json(sluice_pipeline *p, char **json_out);

/*
 * The trace of the pipeline's last run as one JSON object (caller owns, sluice_free): this
 * handle's last sluice_pipeline_run(), else the last run on this machine (kept in the working
 * dir as trace.json). SLUICE_ERR_NOT_FOUND when there is none. Keys:
 *   pipeline_name, run_id, started_at, finished_at (ISO 8601 UTC), elapsed (seconds),
 *   status ("completed" | "failed"), dry_run (bool), error (null or {code, message, resource,
 *   item, field}), log_file (the run's log, or null),
 *   steps: [{step ("extract" | "normalize" | "load"), load_id, pending (the package was left
 *            by an earlier run), started_at, elapsed, status, note (optional),
 *            resources (extract): [{name, items, items_read, incremental: {cursor_path,
 *              start_value, last_value, end_value}}],
 *            tables (normalize, load): [{name, rows, inserted, updated, deleted}]}],
 *   tables: the net effect of the run's completed loads per table [{name, rows, inserted,
 *           updated, deleted}], sorted by name.
 * rows counts rows written; inserted/updated/deleted are their net effect on the table (an
 * update is a row replaced under the same primary key), absent when the destination cannot
 * tell. Unknown keys may be added later.
 */
sluice_status sluice_pipeline_trace_json(sluice_pipeline *p, char **json_out);

/*
 * The pipeline's schema as the destination stores it: the newest version of its default
 * schema in the dataset's _dlt_version table, as JSON text (dlt's schema document: tables
 * with their columns, data types, hints such as primary_key, write_disposition, resource and
 * parent). Caller owns, sluice_free. SLUICE_ERR_NOT_FOUND when nothing was loaded yet.
 */
sluice_status sluice_pipeline_schema_json(sluice_pipeline *p, char **json_out);

/*
 * The pipelines with a working dir on this machine ($SLUICE_PIPELINES_DIR, default
 * ~/.sluice/pipelines) as one JSON object (caller owns, sluice_free):
 *   {"pipelines_dir": "...", "pipelines": [{"name", "working_dir", "destination": {"type",
 *    "path"}, "dataset_name", "config", "last_run": null | {"run_id", "started_at",
 *    "status", "elapsed", "dry_run"}}]}
 * sorted by name; a missing folder gives an empty list. No handle: a failure has no message
 * beyond its status (SLUICE_ERR_IO when the folder cannot be read, SLUICE_ERR_NOMEM).
 * Thread-safe.
 */
sluice_status sluice_pipelines_json(char **json_out);

/* Load packages not yet loaded, as a JSON array (caller owns, sluice_free). */
sluice_status sluice_pipeline_pending_json(sluice_pipeline *p, char **json_out);

/* Drop the tables and state of the named resources (NULL-terminated), in one transaction. */
sluice_status sluice_pipeline_drop(sluice_pipeline *p, const char *const *resources);

/* Restore local state and schema from the destination. */
sluice_status sluice_pipeline_sync(sluice_pipeline *p);

/* ---- state (usable from inside a generator) --------------------------------------------- */

/*
 * The resource's state object as JSON text (caller owns, sluice_free), and its replacement.
 * Changes are committed only together with the data of the run.
 */
sluice_status sluice_yield_state_get(sluice_yield *y, char **json_out);
sluice_status sluice_yield_state_set(sluice_yield *y, const char *json);

/* The resource's source-scoped state (keys directly under sources.<source>, shared by the
 * source's resources, "resources" excluded), read and replaced like the resource state. */
sluice_status sluice_yield_source_state_get(sluice_yield *y, char **json_out);
sluice_status sluice_yield_source_state_set(sluice_yield *y, const char *json);

/*
 * The bound incremental's values as JSON text: which is "initial_value", "start_value",
 * "last_value" (advances as items are yielded) or "end_value". NULL when the resource has no
 * incremental or the value is null. Borrowed until the next call on y.
 */
const char *sluice_yield_incremental(sluice_yield *y, const char *which);
/* dlt's start_out_of_range / end_out_of_range after the last item yielded: a source that
 * reads in order can stop when one is set (row_order does it automatically). */
sluice_status sluice_yield_out_of_range(sluice_yield *y, int *start_out_of_range,
                                        int *end_out_of_range);

#ifdef __cplusplus
}
#endif
#endif
