/*
 * pipeline.h — the pipeline object and the extract → normalize → load orchestration.
 *
 * One run: take the working-dir lock; open the destination; restore the schema; load every
 * pending package (left by a crash or a failed load) in load-id order; then extract the
 * selected resources into a new package, normalize it and load it. A package is loaded in one
 * destination transaction (load.c), and only after its commit is it removed, so a crash at any
 * point leaves either a pending package (loaded by the next run, exactly once thanks to the
 * _dlt_loads check) or nothing.
 */
#ifndef SLUICE_PIPELINE_H
#define SLUICE_PIPELINE_H

#include "config.h"
#include "destination.h"
#include "digest.h"
#include "error.h"
#include "schema.h"

struct sl_generator {
    sluice_generator_fn fn;
    void *ctx;
    sluice_last_value_fn last_value_fn; /* custom incremental function, or NULL */
    void *last_value_ctx;
};

struct sluice_pipeline {
    struct sl_ctx ctx;
    sluice_error err;                 /* filled by sluice_last_error() */
    struct sl_pipeline_cfg *cfg;      /* owns the resource configs */
    struct sl_generator *gens;        /* parallel to cfg->resources (fn NULL: from config) */
    char *workdir;                    /* $SLUICE_PIPELINES_DIR/<name> */
    int lock_fd;                      /* -1 when not locked */
    const struct sl_dest_methods *dm;
    struct sl_dest *dest;
    struct sl_schema *schema;         /* current schema (NULL until first needed) */
    struct sl_json *state;            /* committed state document (NULL until first needed) */
    struct sl_rng rng;
    sluice_progress_fn progress_fn;
    void *progress_ctx;
    double t0;                        /* run start (monotonic seconds) */
    /* results of the last run (borrowed by sluice_run_info) */
    char load_id[40];
    struct sluice_table_info *tinfo;
    size_t ntinfo, tinfo_cap;
    int64_t run_items, run_rows, run_packages, run_pending;
};

/* Lifecycle (used by sluice.c). */
sluice_status sl_pipeline_create(struct sluice_pipeline *p, struct sl_pipeline_cfg *cfg_take);
void sl_pipeline_destroy(struct sluice_pipeline *p);
sluice_status sl_pipeline_run(struct sluice_pipeline *p, const sluice_run_opts *opts);
sluice_status sl_pipeline_info(struct sluice_pipeline *p, char **json_out);
sluice_status sl_pipeline_pending(struct sluice_pipeline *p, char **json_out);
sluice_status sl_pipeline_query(struct sluice_pipeline *p, const char *sql, sluice_row_fn fn,
                                void *ud);
sluice_status sl_pipeline_drop(struct sluice_pipeline *p, const char *const *resources);
sluice_status sl_pipeline_sync(struct sluice_pipeline *p);
/* Read <workdir>/pipeline.json of an existing pipeline into a config (no resources). */
sluice_status sl_pipeline_cfg_from_workdir(struct sl_ctx *ctx, const char *name,
                                           struct sl_pipeline_cfg **out);
/* $SLUICE_PIPELINES_DIR/<name> (caller frees). */
char *sl_pipeline_workdir(const char *name);

/* Monotonic seconds. */
double sl_now(void);
/* Wall clock as ISO 8601 UTC with microseconds ("2024-01-01T00:00:00.000000Z"). */
void sl_utc_now_iso(char *out, size_t outsz);
/* Report progress (throttled by the caller). */
void sl_pipeline_progress(struct sluice_pipeline *p, const char *stage, const char *name,
                          int64_t count, int64_t total, int done);

/* Fault points for crash tests (SLUICE_FAULT=point[:n]); no-ops unless built with
 * -DSLUICE_TESTING. */
#ifdef SLUICE_TESTING
void sl_fault_point(const char *name);
#define SL_FAULT_POINT(name) sl_fault_point(name)
#else
#define SL_FAULT_POINT(name) ((void)0)
#endif

#endif
