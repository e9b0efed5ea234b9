/*
 * context.c — the hooks of a pipeline as the stages call them (see context.h).
 */
#include "run/context.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"

_Static_assert(ATOMIC_INT_LOCK_FREE == 2,
               "sluice_pipeline_interrupt must be async-signal-safe: a lock-free atomic int");

int sl_run_interrupted(const struct sluice_pipeline *p)
{
    if (p->origin)
        p = p->origin;
    return atomic_load_explicit(&p->interrupt, memory_order_relaxed);
}

static int open_dest_stop(const void *ud)
{
    return sl_run_interrupted(ud);
}

sluice_status sl_run_open_dest(struct sluice_pipeline *p, int create)
{
    if (p->dest)
        return SLUICE_OK;
    struct sl_dest_config dc;
    memset(&dc, 0, sizeof(dc));
    dc.must_exist = !create;
    dc.type = p->cfg->dest_type ? p->cfg->dest_type : "sqlite";
    dc.path = p->cfg->dest_path;
    dc.dsn = p->cfg->dest_dsn;
    dc.dataset = p->cfg->dataset;
    dc.pipeline = p->cfg->pipeline_name;
    dc.base_dir = p->cfg->base_dir;
    dc.lock_timeout_set = p->cfg->dest_lock_timeout_set;
    dc.lock_timeout = p->cfg->dest_lock_timeout;
    dc.stop = open_dest_stop;
    dc.stop_ud = p;
    return p->dm->xOpen(&p->ctx, &dc, &p->dest);
}

sluice_status sl_run_stop(struct sl_ctx *ctx, const char *resource, const char *fmt, ...)
{
    if (ctx->code != SLUICE_OK)
        return ctx->code;
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    sl_fail_at(ctx, SLUICE_ERR_INTERRUPTED, resource, -1, NULL, "interrupted while %s", what);
    sl_fail_origin(ctx, "interrupt", NULL);
    return SLUICE_ERR_INTERRUPTED;
}

double sl_run_now(const struct sluice_pipeline *p)
{
    return p->now ? p->now() : sl_clock_mono();
}

void sl_run_wall(const struct sluice_pipeline *p, int64_t *sec, long *usec)
{
    if (p->wall)
        p->wall(sec, usec);
    else
        sl_clock_wall(sec, usec);
}

void sl_run_utc_iso(const struct sluice_pipeline *p, char *out, size_t outsz)
{
    if (p->utc_iso)
        p->utc_iso(out, outsz);
    else
        sl_clock_utc_iso(out, outsz);
}

void sl_run_progress_ex(struct sluice_pipeline *p, const char *stage, const char *name,
                        int64_t count, int64_t count_expected, int64_t total,
                        int64_t total_expected, const char *step, int done)
{
    if (!p->progress_fn)
        return;
    sluice_progress pr;
    pr.stage = stage;
    pr.name = name ? name : "";
    pr.count = count;
    pr.total = total;
    pr.elapsed = sl_run_now(p) - p->t0;
    pr.done = done;
    pr.count_expected = count_expected;
    pr.total_expected = total_expected;
    pr.step = step ? step : "";
    p->progress_fn(p->progress_ctx, &pr);
}

void sl_run_progress(struct sluice_pipeline *p, const char *stage, const char *name,
                     int64_t count, int64_t total, int done)
{
    sl_run_progress_ex(p, stage, name, count, -1, total, -1, "", done);
}

int sl_run_tick(struct sluice_pipeline *p, struct sl_tick *t)
{
    if (!p->progress_fn)
        return 0;
    if (++t->calls < t->stride)
        return 0;
    t->calls = 0;
    double now = sl_run_now(p);
    double gap = now - t->last_read;
    t->last_read = now;
    if (gap < 0.0005 && t->stride < 65536)
        t->stride = t->stride ? t->stride * 2 : 2;
    else if (gap > 0.002 && t->stride > 1)
        t->stride /= 2;
    if (now - t->last_report < SL_TICK_PERIOD)
        return 0;
    t->last_report = now;
    return 1;
}
