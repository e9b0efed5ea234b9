/*
 * trace.h — the trace of a run: what it did, step by step, for `sluice pipeline NAME trace`,
 * the run summary and `run --dry-run` (dlt's last-run trace, as JSON).
 *
 * A run opens the trace, then opens and ends one step at a time: extract (per resource: items,
 * the incremental cursor range), normalize (rows per table), load (per table: rows written
 * and their net effect: inserted, updated, deleted), each with its load id, whether the
 * package was pending (left by an earlier run), start time, duration and status. The end adds
 * the run's status, its error, its log file and the net effect per table over all loads, and
 * writes <workdir>/trace.json (atomically; a failure to write is a warning, not an error).
 *
 * The document:
 *   {"pipeline_name", "run_id", "started_at", "finished_at", "elapsed", "status":
 *    "completed"|"failed", "dry_run", "error": null | {"code", "message", "resource", "item",
 *    "field"}, "log_file", "steps": [{"step", "load_id", "pending", "started_at", "elapsed",
 *    "status", "resources"|"tables": [...]}], "tables": [{"name", "rows", "inserted",
 *    "updated", "deleted"}]}
 * inserted/updated/deleted are absent where the destination cannot tell (no xEffects).
 * A dry run adds "would_load" and "pending_not_loaded" (dry_run.h) and is not written to
 * the working dir: only the handle keeps it.
 * Building it never fails a run: out of memory marks the trace incomplete ("incomplete": true).
 */
#ifndef SLUICE_TRACE_H
#define SLUICE_TRACE_H

#include "base/json.h"
#include "run/context.h"

/* Start a new trace for a run (run_id: the run's stamp, as its log file's; dry_run: nothing
 * will be committed). */
void sl_trace_begin(struct sluice_pipeline *p, const char *run_id, int dry_run);
/* Open a step; a step still open is ended as completed first. load_id may be NULL. */
void sl_trace_step(struct sluice_pipeline *p, const char *step, const char *load_id,
                   int pending);
/* Append item (heap, taken also on failure) to the open step's array key ("resources",
 * "tables"). A NULL item (out of memory making it) marks the trace incomplete. */
void sl_trace_add(struct sluice_pipeline *p, const char *key, struct sl_json *item);
/* Set key at the top of the trace to value (heap, taken also on failure; NULL marks the
 * trace incomplete). */
void sl_trace_put(struct sluice_pipeline *p, const char *key, struct sl_json *value);
/* A note on the open step ("normalized while extracting"). */
void sl_trace_note(struct sluice_pipeline *p, const char *note);
/* End the open step with rc's status (no-op without one). */
void sl_trace_step_end(struct sluice_pipeline *p, sluice_status rc);
/* Finish the trace (rc: the run's status; the error is read from p->ctx) and write it. */
void sl_trace_end(struct sluice_pipeline *p, sluice_status rc);
/* The trace of this handle's last run, else the working dir's trace.json, as JSON text
 * (caller frees). NOT_FOUND when the pipeline has no trace. */
sluice_status sl_trace_json(struct sluice_pipeline *p, char **json_out);
void sl_trace_free(struct sluice_pipeline *p);

#endif
