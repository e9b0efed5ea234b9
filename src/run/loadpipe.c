/*
 * loadpipe.c — the load thread that follows the normalizer (see loadpipe.h). The thread's
 * body is sl_load_follow (load.c); this file holds what the threads share.
 */
#include "run/loadpipe.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "run/load.h"

struct sl_loadpipe {
    struct sluice_pipeline *p;
    struct sluice_pipeline q;  /* the load thread's copy of p (own ctx and destination) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th;
    int started;
    uint64_t changes;          /* bumped by every publication */
    struct sl_schema **schemas; /* every copy published (the newest last), freed at finish */
    size_t nschemas, capschemas;
    char **tables;             /* per row file */
    int64_t *bytes;
    int64_t *loaded;           /* per row file: rows the load thread has inserted */
    size_t nfiles, capfiles;
    struct sl_json *resources; /* {"resources": [{name, write_disposition}...]} */
    int normalized;
    const struct sl_json *manifest;
    int abort;
    int finished;              /* the load thread has returned */
    char *dir;
    char *load_id;
    /* the thread's result */
    sluice_status rc;
    struct sl_load_done *done;
};

static void *thread_main(void *arg)
{
    struct sl_loadpipe *lp = arg;
    lp->rc = sl_load_follow(lp, &lp->q, &lp->done);
    pthread_mutex_lock(&lp->mu);
    lp->finished = 1;
    pthread_cond_broadcast(&lp->cv);
    pthread_mutex_unlock(&lp->mu);
    return NULL;
}

static void changed(struct sl_loadpipe *lp)
{
    lp->changes++;
    pthread_cond_broadcast(&lp->cv);
}

sluice_status sl_loadpipe_start(struct sluice_pipeline *p, const char *dir, const char *load_id,
                                struct sl_loadpipe **out)
{
    *out = NULL;
    struct sl_loadpipe *lp = sl_calloc(1, sizeof(*lp));
    if (!lp)
        return sl_nomem(&p->ctx);
    lp->p = p;
    lp->q = *p;
    sl_ctx_init(&lp->q.ctx); /* no log callback: the caller's callbacks stay on its thread */
    lp->q.origin = p;
    lp->q.dest = NULL;       /* sl_load_follow opens its own */
    lp->q.progress_fn = NULL;
    lp->q.source_log_fn = NULL;
    lp->q.runlog = NULL;
    lp->q.trace = NULL;
    lp->q.tinfo = NULL;
    lp->q.ntinfo = lp->q.tinfo_cap = 0;
    pthread_mutex_init(&lp->mu, NULL);
    pthread_cond_init(&lp->cv, NULL);
    lp->dir = sl_strdup(dir);
    lp->load_id = sl_strdup(load_id);
    lp->resources = sl_json_new_object();
    if (!lp->dir || !lp->load_id || !lp->resources ||
        !sl_json_obj_setdefault(lp->resources, "resources", SL_JSON_ARRAY)) {
        sl_loadpipe_finish(&lp, dir, NULL, NULL);
        return sl_nomem(&p->ctx);
    }
    if (pthread_create(&lp->th, NULL, thread_main, lp) != 0) {
        sl_loadpipe_finish(&lp, dir, NULL, NULL);
        return sl_fail(&p->ctx, SLUICE_ERR_INTERNAL, "cannot start the load thread");
    }
    lp->started = 1;
    *out = lp;
    return SLUICE_OK;
}

sluice_status sl_loadpipe_resource(struct sl_loadpipe *lp, const struct sl_json *snap)
{
    struct sl_json r;
    sl_json_set_object(&r);
    const char *wd = sl_json_str(sl_json_get(snap, "write_disposition"));
    if (sl_json_obj_put_str(&r, "name", sl_json_str(sl_json_get(snap, "name"))) ||
        (wd && sl_json_obj_put_str(&r, "write_disposition", wd))) {
        sl_json_clear(&r);
        return sl_nomem(&lp->p->ctx);
    }
    pthread_mutex_lock(&lp->mu);
    struct sl_json *arr = sl_json_get_mut(lp->resources, "resources");
    int ok = arr && sl_json_arr_push_take(arr, &r);
    changed(lp);
    pthread_mutex_unlock(&lp->mu);
    if (!ok) {
        sl_json_clear(&r);
        return sl_nomem(&lp->p->ctx);
    }
    return SLUICE_OK;
}

sluice_status sl_loadpipe_schema(struct sl_loadpipe *lp, struct sl_schema *copy)
{
    pthread_mutex_lock(&lp->mu);
    if (lp->nschemas == lp->capschemas) {
        size_t ncap = lp->capschemas ? lp->capschemas * 2 : 8;
        struct sl_schema **n = sl_realloc(lp->schemas, ncap * sizeof(*n));
        if (!n) {
            pthread_mutex_unlock(&lp->mu);
            sl_schema_free(&copy);
            return SLUICE_ERR_NOMEM;
        }
        lp->schemas = n;
        lp->capschemas = ncap;
    }
    lp->schemas[lp->nschemas++] = copy;
    changed(lp);
    pthread_mutex_unlock(&lp->mu);
    return SLUICE_OK;
}

sluice_status sl_loadpipe_rows(struct sl_loadpipe *lp, size_t file, const char *table,
                               int64_t bytes)
{
    sluice_status rc = SLUICE_OK;
    pthread_mutex_lock(&lp->mu);
    while (file >= lp->nfiles && rc == SLUICE_OK) {
        if (lp->nfiles == lp->capfiles) {
            size_t ncap = lp->capfiles ? lp->capfiles * 2 : 8;
            char **t = sl_realloc(lp->tables, ncap * sizeof(*t));
            if (t)
                lp->tables = t;
            int64_t *b = t ? sl_realloc(lp->bytes, ncap * sizeof(*b)) : NULL;
            if (b)
                lp->bytes = b;
            int64_t *l = b ? sl_realloc(lp->loaded, ncap * sizeof(*l)) : NULL;
            if (l)
                lp->loaded = l;
            if (!t || !b || !l) {
                rc = SLUICE_ERR_NOMEM;
                break;
            }
            lp->capfiles = ncap;
        }
        lp->tables[lp->nfiles] = NULL;
        lp->bytes[lp->nfiles] = 0;
        lp->loaded[lp->nfiles] = 0;
        lp->nfiles++;
    }
    if (rc == SLUICE_OK && !lp->tables[file]) {
        lp->tables[file] = sl_strdup(table);
        if (!lp->tables[file])
            rc = SLUICE_ERR_NOMEM;
    }
    if (rc == SLUICE_OK) {
        lp->bytes[file] = bytes;
        changed(lp);
    }
    pthread_mutex_unlock(&lp->mu);
    return rc;
}

void sl_loadpipe_loaded(struct sl_loadpipe *lp, size_t file, int64_t rows)
{
    pthread_mutex_lock(&lp->mu);
    if (file < lp->nfiles)
        lp->loaded[file] = rows;
    pthread_mutex_unlock(&lp->mu);
}

/* While the load thread drains the package, tell the caller's progress callback (on this
 * thread) the rows inserted per table of the manifest, several times a second. */
static void report_until_finished(struct sl_loadpipe *lp, const struct sl_json *manifest)
{
    struct sluice_pipeline *p = lp->p;
    const struct sl_json *tables = sl_json_get(manifest, "tables");
    uint32_t n = tables && tables->type == SL_JSON_ARRAY ? tables->len : 0;
    int64_t *done = n ? sl_calloc(n, sizeof(*done)) : NULL;
    pthread_mutex_lock(&lp->mu);
    while (!lp->finished) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 100 * 1000 * 1000;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&lp->cv, &lp->mu, &until);
        if (lp->finished || !done || !p->progress_fn)
            continue;
        for (uint32_t i = 0; i < n; i++) {
            size_t k = 0;
            const char *file = sl_json_str(sl_json_get(&tables->u.items[i], "file"));
            done[i] = file && sscanf(file, "normalized/%zu.rows", &k) == 1 && k < lp->nfiles
                          ? lp->loaded[k]
                          : 0;
        }
        pthread_mutex_unlock(&lp->mu);
        int64_t all = 0, want_all = 0;
        for (uint32_t i = 0; i < n; i++) {
            const struct sl_json *w = sl_json_get(&tables->u.items[i], "rows");
            all += done[i];
            want_all += w && w->type == SL_JSON_INT ? w->u.i : 0;
        }
        for (uint32_t i = 0; i < n; i++) {
            const struct sl_json *tj = &tables->u.items[i];
            const struct sl_json *w = sl_json_get(tj, "rows");
            sl_run_progress_ex(p, "load", sl_json_str(sl_json_get(tj, "name")), done[i],
                               w && w->type == SL_JSON_INT ? w->u.i : -1, all, want_all,
                               "insert", 0);
        }
        pthread_mutex_lock(&lp->mu);
    }
    pthread_mutex_unlock(&lp->mu);
    sl_free(done);
}

void sl_loadpipe_normalized(struct sl_loadpipe *lp)
{
    pthread_mutex_lock(&lp->mu);
    lp->normalized = 1;
    changed(lp);
    pthread_mutex_unlock(&lp->mu);
}

void sl_loadpipe_wait(struct sl_loadpipe *lp, uint64_t *seen, struct sl_loadpipe_view *v,
                      int64_t **bytes, const char ***tables, size_t *cap)
{
    pthread_mutex_lock(&lp->mu);
    while (lp->changes == *seen && !lp->abort)
        pthread_cond_wait(&lp->cv, &lp->mu);
    *seen = lp->changes;
    memset(v, 0, sizeof(*v));
    if (lp->nfiles > *cap) {
        int64_t *b = sl_realloc(*bytes, lp->nfiles * sizeof(**bytes));
        if (b)
            *bytes = b;
        const char **t = b ? sl_realloc((void *)*tables, lp->nfiles * sizeof(**tables)) : NULL;
        if (t)
            *tables = t;
        if (b && t)
            *cap = lp->nfiles;
    }
    /* out of memory: the files not copied are seen at a later call */
    v->nfiles = lp->nfiles < *cap ? lp->nfiles : *cap;
    for (size_t i = 0; i < v->nfiles; i++) {
        (*bytes)[i] = lp->bytes[i];
        (*tables)[i] = lp->tables[i];
    }
    v->bytes = *bytes;
    v->tables = *tables;
    v->schema = lp->nschemas ? lp->schemas[lp->nschemas - 1] : NULL;
    v->resources = lp->resources;
    v->normalized = lp->normalized && v->nfiles == lp->nfiles;
    v->manifest = lp->manifest;
    v->abort = lp->abort;
    v->nomem = v->nfiles < lp->nfiles;
    pthread_mutex_unlock(&lp->mu);
}

struct sluice_pipeline *sl_loadpipe_pipeline(struct sl_loadpipe *lp) { return &lp->q; }

const char *sl_loadpipe_dir(struct sl_loadpipe *lp) { return lp->dir; }

sluice_status sl_loadpipe_finish(struct sl_loadpipe **lpp, const char *dir,
                                 const struct sl_json *manifest, struct sl_schema **schema_out)
{
    struct sl_loadpipe *lp = *lpp;
    sluice_status rc = SLUICE_OK;
    if (schema_out)
        *schema_out = NULL;
    if (!lp)
        return SLUICE_OK;
    struct sluice_pipeline *p = lp->p;
    /* what remains happens now: the caller's progress callback hears it (and may interrupt
     * the commit) before the load thread goes on */
    if (manifest)
        sl_run_progress_ex(p, "load", "", -1, -1, -1, -1, "commit", 0);
    pthread_mutex_lock(&lp->mu);
    if (manifest) {
        /* the normalizer is done with the rng: the state row's id comes from where it is */
        lp->q.rng = p->rng;
        lp->manifest = manifest;
    } else {
        lp->abort = 1;
    }
    lp->normalized = 1;
    changed(lp);
    pthread_mutex_unlock(&lp->mu);
    if (lp->started) {
        if (manifest)
            report_until_finished(lp, manifest);
        pthread_join(lp->th, NULL);
        rc = lp->rc;
        if (manifest)
            p->rng = lp->q.rng;
        if (rc != SLUICE_OK && manifest && p->ctx.code == SLUICE_OK &&
            lp->q.ctx.code != SLUICE_OK) {
            struct sl_ctx *c = &lp->q.ctx;
            sl_fail_at(&p->ctx, c->code, c->resource[0] ? c->resource : NULL, c->item,
                       c->field[0] ? c->field : NULL, "%s", c->message);
            sl_fail_origin(&p->ctx, c->origin[0] ? c->origin : NULL,
                           c->detail[0] ? c->detail : NULL);
        }
        if (rc == SLUICE_OK && manifest)
            sl_load_report(p, &lp->q, lp->done, manifest, schema_out);
    }
    sl_load_done_free(&lp->q, &lp->done);
    if (lp->q.dest)
        lp->q.dm->xClose(lp->q.dest);
    for (size_t i = 0; i < lp->nschemas; i++)
        sl_schema_free(&lp->schemas[i]);
    sl_free(lp->schemas);
    for (size_t i = 0; i < lp->nfiles; i++)
        sl_free(lp->tables[i]);
    sl_free(lp->tables);
    sl_free(lp->bytes);
    sl_free(lp->loaded);
    sl_json_free(lp->resources);
    pthread_cond_destroy(&lp->cv);
    pthread_mutex_destroy(&lp->mu);
    sl_free(lp->dir);
    sl_free(lp->load_id);
    sl_free(lp);
    *lpp = NULL;
    (void)dir;
    return rc;
}
