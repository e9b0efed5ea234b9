/*
 * pipe.c — the normalize thread that follows an extraction (see pipe.h).
 */
#include "run/pipe.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/digest.h"
#include "run/load.h"
#include "run/loadpipe.h"

struct sl_follow {
    struct sl_pipe *pipe;
    int64_t committed;
    int done;
};

struct pipe_res {
    struct sl_json *snap; /* heap copy */
    struct sl_follow follow;
};

struct sl_pipe {
    struct sluice_pipeline *p;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th;
    int started;
    struct pipe_res **res;
    size_t nres, cap;
    int extract_done;
    int abort;         /* extraction failed: stop */
    int failed;        /* the normalize thread failed */
    int finished;      /* the normalize thread is done (joinable without waiting) */
    int64_t rows;      /* rows normalized so far (sl_pipe_note_rows) */
    /* normalize thread */
    struct sl_ctx ctx;
    sluice_status rc;
    char *dir;
    char *load_id;
    struct sl_schema *schema;
    struct sl_json *tables;
    char schema_sum[SL_CHECKSUM_TEXT];
    struct sl_loadpipe *lp;   /* a load thread follows the row files, or NULL */
};

static void *thread_main(void *arg)
{
    struct sl_pipe *pp = arg;
    pp->rc = sl_normalize_core(pp->p, &pp->ctx, pp->dir, pp->load_id, pp->schema, NULL, pp,
                               &pp->tables, pp->schema_sum);
    pthread_mutex_lock(&pp->mu);
    if (pp->rc != SLUICE_OK)
        pp->failed = 1;
    pp->finished = 1;
    pthread_cond_broadcast(&pp->cv);
    pthread_mutex_unlock(&pp->mu);
    return NULL;
}

sluice_status sl_pipe_start(struct sluice_pipeline *p, const char *dir, const char *load_id,
                            struct sl_schema *schema, struct sl_loadpipe *lp,
                            struct sl_pipe **out)
{
    *out = NULL;
    struct sl_pipe *pp = sl_calloc(1, sizeof(*pp));
    if (!pp)
        return sl_nomem(&p->ctx);
    pp->p = p;
    sl_ctx_init(&pp->ctx); /* no log callback: the caller's callbacks stay on its thread */
    pp->dir = sl_strdup(dir);
    pp->load_id = sl_strdup(load_id);
    pp->schema = schema;
    pp->lp = lp;
    pthread_mutex_init(&pp->mu, NULL);
    pthread_cond_init(&pp->cv, NULL);
    if (!pp->dir || !pp->load_id) {
        sl_pipe_finish(&pp, 1, NULL, NULL);
        return sl_nomem(&p->ctx);
    }
    if (pthread_create(&pp->th, NULL, thread_main, pp) != 0) {
        sl_pipe_finish(&pp, 1, NULL, NULL);
        return sl_fail(&p->ctx, SLUICE_ERR_INTERNAL, "cannot start the normalize thread");
    }
    pp->started = 1;
    *out = pp;
    return SLUICE_OK;
}

sluice_status sl_pipe_add_resource(struct sl_pipe *pp, const struct sl_json *snap,
                                   struct sl_follow **out)
{
    *out = NULL;
    if (pp->lp) {
        sluice_status rc = sl_loadpipe_resource(pp->lp, snap);
        if (rc != SLUICE_OK)
            return rc;
    }
    struct pipe_res *r = sl_calloc(1, sizeof(*r));
    if (!r)
        return sl_nomem(&pp->p->ctx);
    r->snap = sl_json_dup(snap);
    r->follow.pipe = pp;
    if (!r->snap) {
        sl_free(r);
        return sl_nomem(&pp->p->ctx);
    }
    pthread_mutex_lock(&pp->mu);
    if (pp->nres == pp->cap) {
        size_t ncap = pp->cap ? pp->cap * 2 : 8;
        struct pipe_res **n = sl_realloc(pp->res, ncap * sizeof(*n));
        if (!n) {
            pthread_mutex_unlock(&pp->mu);
            sl_json_free(r->snap);
            sl_free(r);
            return sl_nomem(&pp->p->ctx);
        }
        pp->res = n;
        pp->cap = ncap;
    }
    pp->res[pp->nres++] = r;
    pthread_cond_broadcast(&pp->cv);
    pthread_mutex_unlock(&pp->mu);
    *out = &r->follow;
    return SLUICE_OK;
}

void sl_pipe_publish(struct sl_pipe *pp, struct sl_follow *f, int64_t committed, int done)
{
    pthread_mutex_lock(&pp->mu);
    f->committed = committed;
    if (done)
        f->done = 1;
    pthread_cond_broadcast(&pp->cv);
    pthread_mutex_unlock(&pp->mu);
}

void sl_pipe_extract_done(struct sl_pipe *pp)
{
    pthread_mutex_lock(&pp->mu);
    pp->extract_done = 1;
    pthread_cond_broadcast(&pp->cv);
    pthread_mutex_unlock(&pp->mu);
}

int sl_pipe_failed(struct sl_pipe *pp)
{
    pthread_mutex_lock(&pp->mu);
    int f = pp->failed;
    pthread_mutex_unlock(&pp->mu);
    return f;
}

int sl_pipe_resource(struct sl_pipe *pp, size_t i, const struct sl_json **snap,
                     struct sl_follow **f)
{
    pthread_mutex_lock(&pp->mu);
    while (i >= pp->nres && !pp->extract_done && !pp->abort)
        pthread_cond_wait(&pp->cv, &pp->mu);
    int ok = i < pp->nres && !pp->abort;
    if (ok) {
        *snap = pp->res[i]->snap;
        *f = &pp->res[i]->follow;
    }
    pthread_mutex_unlock(&pp->mu);
    return ok;
}

int64_t sl_follow_wait(struct sl_follow *f, int64_t need)
{
    struct sl_pipe *pp = f->pipe;
    pthread_mutex_lock(&pp->mu);
    while (f->committed < need && !f->done && !pp->abort)
        pthread_cond_wait(&pp->cv, &pp->mu);
    int64_t have = pp->abort ? -1 : f->committed;
    pthread_mutex_unlock(&pp->mu);
    return have;
}

void sl_pipe_note_rows(struct sl_pipe *pp, int64_t rows)
{
    pthread_mutex_lock(&pp->mu);
    pp->rows = rows;
    pthread_mutex_unlock(&pp->mu);
}

/* Wait for the normalize thread to finish, reporting its rows every SL_TICK_PERIOD. */
static void wait_reporting(struct sl_pipe *pp)
{
    struct sluice_pipeline *p = pp->p;
    pthread_mutex_lock(&pp->mu);
    while (!pp->finished) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)(SL_TICK_PERIOD * 1e9);
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&pp->cv, &pp->mu, &until);
        if (pp->finished)
            break;
        int64_t rows = pp->rows;
        pthread_mutex_unlock(&pp->mu); /* the callback runs without our lock */
        sl_run_progress(p, "normalize", "", -1, rows, 0);
        pthread_mutex_lock(&pp->mu);
    }
    pthread_mutex_unlock(&pp->mu);
}

sluice_status sl_pipe_finish(struct sl_pipe **ppp, int abort, struct sl_json **tables_out,
                             char *schema_sum)
{
    struct sl_pipe *pp = *ppp;
    if (tables_out)
        *tables_out = NULL;
    if (!pp)
        return SLUICE_OK;
    sluice_status rc = SLUICE_OK;
    pthread_mutex_lock(&pp->mu);
    if (abort)
        pp->abort = 1;
    pp->extract_done = 1;
    pthread_cond_broadcast(&pp->cv);
    pthread_mutex_unlock(&pp->mu);
    if (pp->started) {
        if (!abort && pp->p->progress_fn)
            wait_reporting(pp);
        pthread_join(pp->th, NULL);
        /* after an abort the thread's error (it saw the files end) is only a consequence */
        if (!abort) {
            rc = pp->rc;
            if (rc != SLUICE_OK && pp->p->ctx.code == SLUICE_OK && pp->ctx.code != SLUICE_OK) {
                sl_fail_at(&pp->p->ctx, pp->ctx.code,
                           pp->ctx.resource[0] ? pp->ctx.resource : NULL, pp->ctx.item,
                           pp->ctx.field[0] ? pp->ctx.field : NULL, "%s", pp->ctx.message);
                sl_fail_origin(&pp->p->ctx, pp->ctx.origin[0] ? pp->ctx.origin : NULL,
                               pp->ctx.detail[0] ? pp->ctx.detail : NULL);
            }
        }
    }
    if (tables_out && rc == SLUICE_OK && !abort) {
        *tables_out = pp->tables;
        pp->tables = NULL;
        if (schema_sum)
            memcpy(schema_sum, pp->schema_sum, SL_CHECKSUM_TEXT);
    }
    sl_json_free(pp->tables);
    for (size_t i = 0; i < pp->nres; i++) {
        sl_json_free(pp->res[i]->snap);
        sl_free(pp->res[i]);
    }
    sl_free(pp->res);
    pthread_cond_destroy(&pp->cv);
    pthread_mutex_destroy(&pp->mu);
    sl_free(pp->dir);
    sl_free(pp->load_id);
    sl_free(pp);
    *ppp = NULL;
    return rc;
}

struct sl_loadpipe *sl_pipe_loadpipe(struct sl_pipe *pp) { return pp->lp; }
