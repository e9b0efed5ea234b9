/*
 * runlog.h — the run's log file in the working dir: everything a run logged, and every line
 * its sources wrote to stderr, so that a failed tap can be read after the fact.
 *
 * <workdir>/logs/run-<load-id-like stamp>.log, one per run, the newest SL_RUNLOG_KEEP kept.
 * Lines are "<UTC time> <level>: <message>" for the pipeline's own log lines and
 * "<UTC time> [<resource>] <line>" for source stderr. While a run is on, the pipeline's log
 * callback is wrapped (the caller's callback still gets every line); sl_runlog_end restores
 * it. A file that cannot be opened is not an error: the run logs a warning and goes on. The
 * file is capped at SL_RUNLOG_MAX_BYTES, after which one last line says it was cut.
 */
#ifndef SLUICE_RUNLOG_H
#define SLUICE_RUNLOG_H

#include "run/context.h"

#define SL_RUNLOG_KEEP 20
#define SL_RUNLOG_MAX_BYTES ((size_t)64 << 20)

/* Open the run's log (stamp: the run's id, e.g. its start time "1733570000.123456") and wrap
 * the log callback. */
void sl_runlog_begin(struct sluice_pipeline *p, const char *stamp);
/* A source's stderr line: into the file as "[resource] line", then to the source log callback
 * (or, without one, the log callback at INFO as "[resource] line"). */
void sl_runlog_source_line(struct sluice_pipeline *p, const char *resource, const char *line);
/* A line for the file only ("error:", the run's error): the callbacks do not see it. */
void sl_runlog_note(struct sluice_pipeline *p, const char *what, const char *line);
/* The path of the current (or last) run's log file, or NULL when there is none. Borrowed. */
const char *sl_runlog_path(const struct sluice_pipeline *p);
/* Close the file and give the log callback back. The path stays readable. */
void sl_runlog_end(struct sluice_pipeline *p);
/* Free what the run log holds (pipeline teardown). */
void sl_runlog_free(struct sluice_pipeline *p);

#endif
