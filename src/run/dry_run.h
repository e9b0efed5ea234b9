/*
 * dry_run.h — what a run would load, for `sluice run --dry-run`: the report of a package that
 * was extracted and normalized but is never loaded.
 *
 * A dry run extracts into <workdir>/dry-run/ (never into load/, so nothing it makes can be
 * loaded by a later run, even after a crash), normalizes, and instead of loading describes the
 * package in the trace: "would_load" = {"load_id", "state_changed", "tables": [{"name",
 * "rows", "write_disposition", "parent", "new", "columns": [{"name", "data_type", "new"}]}]}
 * (new: not in the destination's schema yet). Then the folder is removed. Pending packages are
 * listed ("pending_not_loaded"), not loaded. Nothing is written to the destination, nor to
 * the working dir's state, schema, trace or logs.
 */
#ifndef SLUICE_DRY_RUN_H
#define SLUICE_DRY_RUN_H

#include "base/json.h"
#include "run/context.h"

/* The folder a dry run extracts into (caller frees). */
char *sl_dry_run_dir(const struct sluice_pipeline *p);
/* Describe the normalized package in dir (manifest m) in the trace, against the pipeline's
 * current schema. */
sluice_status sl_dry_run_report(struct sluice_pipeline *p, const char *dir,
                                const struct sl_json *m);

#endif
