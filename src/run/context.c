/*
 * context.c — the hooks of a pipeline as the stages call them (see context.h).
 */
#include "run/context.h"

#include "base/clock.h"

double sl_run_now(const struct sluice_pipeline *p)
{
    return p->now ? p->now() : sl_clock_mono();
}

void sl_run_utc_iso(const struct sluice_pipeline *p, char *out, size_t outsz)
{
    if (p->utc_iso)
        p->utc_iso(out, outsz);
    else
        sl_clock_utc_iso(out, outsz);
}

void sl_run_progress(struct sluice_pipeline *p, const char *stage, const char *name,
                     int64_t count, int64_t total, int done)
{
    if (!p->progress_fn)
        return;
    sluice_progress pr;
    pr.stage = stage;
    pr.name = name;
    pr.count = count;
    pr.total = total;
    pr.elapsed = sl_run_now(p) - p->t0;
    pr.done = done;
    p->progress_fn(p->progress_ctx, &pr);
}
