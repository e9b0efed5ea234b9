/*
 * context.h — what the stages (extract, normalize, load) see of a pipeline: the pipeline's
 * data (config, destination, schema, state, working dir, run results) and its hooks (clock,
 * progress), with no reference to the orchestration in pipeline.c.
 *
 * pipeline.c owns the object and calls the stages; the stages read and update the fields
 * named here and report through sl_run_progress / sl_run_now. No stage includes pipeline.h,
 * so the calls go one way: pipeline.c → stages → model/, sources/, destinations/, base/.
 */
#ifndef SLUICE_CONTEXT_H
#define SLUICE_CONTEXT_H

#include <stdatomic.h>
#include <stdint.h>

#include "sluice.h"
#include "base/digest.h"
#include "base/error.h"
#include "destinations/destination.h"
#include "model/resource.h"
#include "model/schema.h"

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
    sluice_source_log_fn source_log_fn; /* sources' stderr lines, or NULL (runlog.h) */
    void *source_log_ctx;
    struct sl_runlog *runlog;         /* the run's log file (runlog.h), or NULL */
    struct sl_trace *trace;           /* the last run's trace (trace.h), or NULL */
    double (*now)(void);              /* monotonic clock (sl_clock_mono unless a test sets it) */
    void (*utc_iso)(char *out, size_t outsz); /* wall clock (sl_clock_utc_iso) */
    void (*wall)(int64_t *sec, long *usec);    /* wall clock for load ids (sl_clock_wall) */
    double t0;                        /* run start (monotonic seconds) */
    /* results of the last run (borrowed by sluice_run_info) */
    char load_id[40];
    struct sluice_table_info *tinfo;
    size_t ntinfo, tinfo_cap;
    int64_t run_items, run_rows, run_packages, run_pending;
    _Atomic int interrupt;            /* sluice_pipeline_interrupt() calls since the last run */
    struct sluice_pipeline *origin;   /* a load thread's copy (loadpipe.h): the pipeline it
                                         copies, whose interrupts it reads; else NULL */
};

/* Open p->dest when it is not open (create: a run may create the database; the other commands
 * only read or change one that exists). */
sluice_status sl_run_open_dest(struct sluice_pipeline *p, int create);
/* How many times the run was asked to stop (sluice_pipeline_interrupt); 0: carry on. */
int sl_run_interrupted(const struct sluice_pipeline *p);
/* Record SLUICE_ERR_INTERRUPTED with "interrupted while <what>" (origin "interrupt",
 * resource named when not NULL) and return it; first error wins as always. */
sluice_status sl_run_stop(struct sl_ctx *ctx, const char *resource, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Monotonic seconds, from the pipeline's clock. */
double sl_run_now(const struct sluice_pipeline *p);
/* Wall clock (seconds since the epoch, microseconds), from the pipeline's clock. */
void sl_run_wall(const struct sluice_pipeline *p, int64_t *sec, long *usec);
/* Wall clock as ISO 8601 UTC with microseconds, from the pipeline's clock. */
void sl_run_utc_iso(const struct sluice_pipeline *p, char *out, size_t outsz);
/* Report progress to the pipeline's callback (the caller throttles, see sl_run_tick). */
void sl_run_progress(struct sluice_pipeline *p, const char *stage, const char *name,
                     int64_t count, int64_t total, int done);
/* The same with the load stage's expected counts (-1: unknown) and step ("" or NULL: none). */
void sl_run_progress_ex(struct sluice_pipeline *p, const char *stage, const char *name,
                        int64_t count, int64_t count_expected, int64_t total,
                        int64_t total_expected, const char *step, int done);

/*
 * Time-based throttling of progress reports from a per-item loop: sl_run_tick() returns 1
 * when a report is due (SL_TICK_PERIOD seconds after the last one). It reads the clock only
 * every `stride` calls and adapts the stride so that the clock is read about once per
 * millisecond: a slow source is checked at every item, a fast loop pays one clock read per
 * thousands of items. Without a progress callback it returns 0 at once. Zero-initialize.
 */
#define SL_TICK_PERIOD 0.1
struct sl_tick {
    double last_report; /* run clock of the last report this tick allowed */
    double last_read;   /* run clock at the last read */
    uint32_t stride;    /* calls between clock reads (0 is read as 1) */
    uint32_t calls;     /* calls since the last read */
};
int sl_run_tick(struct sluice_pipeline *p, struct sl_tick *t);

#endif
