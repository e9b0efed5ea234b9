/*
 * loadpipe.h — load a package while it is extracted and normalized, on a third thread
 * (issue 12 point 1).
 *
 * The load thread opens its own destination handle and the package's transaction when the
 * extraction starts, then follows the normalizer's row files as they grow (as the normalizer
 * follows the item files, pipe.h), inserting rows with the table definitions the normalizer
 * publishes: a copy of its schema whenever a table or a column appears or gets a type, before
 * the first row that needs it. Once the package is normalized and its manifest written, the
 * pipeline hands the manifest over (sl_loadpipe_finish): the thread drains the row files
 * (checking their checksums and row counts against the manifest), finishes the load (load.c:
 * replace truncation of tables without rows, merges, schema, state row, _dlt_loads row) and
 * commits. It is the same single transaction, committed only after the manifest is written,
 * so a crash anywhere leaves what the one-thread path leaves: before the manifest nothing of
 * the package counts (it is discarded and extracted again), after it the package is pending
 * and the next run loads it from its row files.
 *
 * Shared under one mutex: the row files' published byte counts, the schema copies, the
 * resources' write dispositions, the flags; everything else belongs to one thread. The load
 * thread reports errors into its own sl_ctx (copied into the pipeline's by
 * sl_loadpipe_finish) and never calls the pipeline's callbacks: progress and the trace are
 * reported by the caller after the join.
 *
 * Not used (the one-thread load runs instead) for dry runs, refreshes and SLUICE_PIPELINING=0;
 * SLUICE_LOAD_PIPELINING=0 turns it off alone.
 */
#ifndef SLUICE_LOADPIPE_H
#define SLUICE_LOADPIPE_H

#include "base/json.h"
#include "run/context.h"

struct sl_loadpipe;

/* Start the load thread for the package in dir (load_id: its id). */
sluice_status sl_loadpipe_start(struct sluice_pipeline *p, const char *dir, const char *load_id,
                                struct sl_loadpipe **out);

/* Extract side: a resource of the package (its manifest snapshot: name, write_disposition). */
sluice_status sl_loadpipe_resource(struct sl_loadpipe *lp, const struct sl_json *snap);

/* Normalize side. A copy of the schema as it is now (taken, also on failure; NOMEM, not
 * recorded, when it cannot be kept). */
sluice_status sl_loadpipe_schema(struct sl_loadpipe *lp, struct sl_schema *copy);
/* Row file `file` (normalized/<file>.rows) of table now holds `bytes` readable bytes. */
sluice_status sl_loadpipe_rows(struct sl_loadpipe *lp, size_t file, const char *table,
                               int64_t bytes);
/* No more rows will come (the normalizer finished, or failed). */
void sl_loadpipe_normalized(struct sl_loadpipe *lp);
/* Load thread: rows of row file `file` inserted so far (for the caller's progress reports). */
void sl_loadpipe_loaded(struct sl_loadpipe *lp, size_t file, int64_t rows);

/* Pipeline side: hand over the written manifest and wait for the commit (manifest NULL: the
 * package failed before its manifest; roll back). On success *schema_out is the package's
 * schema (caller owns) and the run's info and trace are updated, as sl_load_package does.
 * Frees the pipe. */
sluice_status sl_loadpipe_finish(struct sl_loadpipe **lp, const char *dir,
                                 const struct sl_json *manifest, struct sl_schema **schema_out);

/* ---- for load.c (the thread's body) ------------------------------------------------------- */

/* What the load thread sees at one moment. */
struct sl_loadpipe_view {
    const struct sl_schema *schema; /* the newest copy (valid until finish), or NULL */
    size_t nfiles;
    const char *const *tables;      /* per row file: its table (valid until finish) */
    const int64_t *bytes;           /* per row file: readable bytes (a copy) */
    const struct sl_json *resources; /* {"resources": [...]} so far (valid until finish) */
    int normalized;                 /* no more rows will come */
    const struct sl_json *manifest; /* handed over (borrowed), or NULL */
    int abort;                      /* the package failed: roll back */
    int nomem;                      /* a row file could not be copied into the view */
};
/* Wait until something changed since `seen` (a counter the caller keeps, 0 at first) and fill
 * v (its arrays are the caller's, grown as needed: *cap entries). */
void sl_loadpipe_wait(struct sl_loadpipe *lp, uint64_t *seen, struct sl_loadpipe_view *v,
                      int64_t **bytes, const char ***tables, size_t *cap);
/* The pipeline's copy the load thread works with (its own ctx and destination handle). */
struct sluice_pipeline *sl_loadpipe_pipeline(struct sl_loadpipe *lp);
const char *sl_loadpipe_dir(struct sl_loadpipe *lp);

#endif
