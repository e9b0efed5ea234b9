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

#include "base/error.h"
#include "model/resource.h"
#include "run/context.h"

/* Lifecycle (used by sluice.c). */
sluice_status sl_pipeline_create(struct sluice_pipeline *p, struct sl_pipeline_cfg *cfg_take);
void sl_pipeline_destroy(struct sluice_pipeline *p);
sluice_status sl_pipeline_run(struct sluice_pipeline *p, const sluice_run_opts *opts);
sluice_status sl_pipeline_info(struct sluice_pipeline *p, char **json_out);
sluice_status sl_pipeline_pending(struct sluice_pipeline *p, char **json_out);
sluice_status sl_pipeline_query(struct sluice_pipeline *p, const char *sql, sluice_row_fn fn,
                                void *ud);
sluice_status sl_pipeline_query_typed(struct sluice_pipeline *p, const char *sql,
                                      sluice_typed_row_fn fn, void *ud);
sluice_status sl_pipeline_drop(struct sluice_pipeline *p, const char *const *resources);
sluice_status sl_pipeline_sync(struct sluice_pipeline *p);
/* The stored schema of the pipeline, newest version in the destination (caller frees). */
sluice_status sl_pipeline_schema(struct sluice_pipeline *p, char **json_out);
/* The pipelines with a working dir here, as JSON (sluice_pipelines_json; caller frees). */
sluice_status sl_pipelines_list(char **json_out);
/* $SLUICE_PIPELINES_DIR, else ~/.sluice/pipelines (caller frees; NULL: out of memory). */
char *sl_pipelines_dir(void);
/* 1 when name can name a pipeline (and its working dir). */
int sl_pipeline_name_ok(const char *name);
/* $SLUICE_PIPELINES_DIR/<name> (caller frees). */
char *sl_pipeline_workdir(const char *name);

#endif
