/*
 * trace.c — the trace of a run (see trace.h).
 *
 * The document is a heap JSON tree kept by the pipeline until the next run starts, so the
 * caller can read it after sluice_pipeline_run() returns (sluice_pipeline_trace_json), and
 * written to <workdir>/trace.json at the end of every run, so that `sluice pipeline NAME
 * trace` shows the last run from another process. Net effects per table are summed over the
 * run's load steps that completed.
 */
#include "run/trace.h"

#include <string.h>

#include "base/alloc.h"
#include "base/fs.h"
#include "run/runlog.h"

struct sl_trace {
    struct sl_json *doc;
    struct sl_json *step; /* the open step (inside doc's "steps"), or NULL */
    double t0;            /* run clock at the start */
    double step_t0;       /* run clock when the open step started */
    int lost;             /* out of memory while building: the trace is incomplete */
};

static void lost(struct sl_trace *t)
{
    t->lost = 1;
}

static void put_str(struct sl_trace *t, struct sl_json *o, const char *key, const char *s)
{
    if (o && sl_json_obj_put_str(o, key, s))
        lost(t);
}

static void put_take(struct sl_trace *t, struct sl_json *o, const char *key, struct sl_json *v)
{
    if (!o || !sl_json_obj_set_take(o, key, v)) {
        sl_json_clear(v);
        lost(t);
    }
}

static void put_double(struct sl_trace *t, struct sl_json *o, const char *key, double d)
{
    struct sl_json v;
    /* milliseconds are plenty, and keep the text short */
    sl_json_set_double(&v, (double)(int64_t)(d * 1000.0 + 0.5) / 1000.0);
    put_take(t, o, key, &v);
}

static void put_bool(struct sl_trace *t, struct sl_json *o, const char *key, int b)
{
    struct sl_json v;
    sl_json_set_bool(&v, b != 0);
    put_take(t, o, key, &v);
}

void sl_trace_free(struct sluice_pipeline *p)
{
    if (!p->trace)
        return;
    sl_json_free(p->trace->doc);
    sl_free(p->trace);
    p->trace = NULL;
}

void sl_trace_begin(struct sluice_pipeline *p, const char *run_id, int dry_run)
{
    sl_trace_free(p);
    struct sl_trace *t = sl_calloc(1, sizeof(*t));
    if (!t)
        return; /* the run goes on; sl_trace_json reports the missing trace */
    p->trace = t;
    t->t0 = sl_run_now(p);
    t->doc = sl_json_new_object();
    if (!t->doc) {
        lost(t);
        return;
    }
    char when[40];
    sl_run_utc_iso(p, when, sizeof(when));
    put_str(t, t->doc, "pipeline_name", p->cfg->pipeline_name);
    put_str(t, t->doc, "run_id", run_id);
    put_str(t, t->doc, "started_at", when);
    put_bool(t, t->doc, "dry_run", dry_run);
    if (!sl_json_obj_setdefault(t->doc, "steps", SL_JSON_ARRAY))
        lost(t);
}

void sl_trace_step_end(struct sluice_pipeline *p, sluice_status rc)
{
    struct sl_trace *t = p->trace;
    if (!t || !t->step)
        return;
    put_double(t, t->step, "elapsed", sl_run_now(p) - t->step_t0);
    put_str(t, t->step, "status", rc == SLUICE_OK ? "completed" : "failed");
    t->step = NULL;
}

void sl_trace_step(struct sluice_pipeline *p, const char *step, const char *load_id,
                   int pending)
{
    struct sl_trace *t = p->trace;
    if (!t || !t->doc)
        return;
    sl_trace_step_end(p, SLUICE_OK);
    struct sl_json *steps = sl_json_get_mut(t->doc, "steps");
    struct sl_json o;
    sl_json_set_object(&o);
    char when[40];
    sl_run_utc_iso(p, when, sizeof(when));
    put_str(t, &o, "step", step);
    put_str(t, &o, "load_id", load_id);
    put_bool(t, &o, "pending", pending);
    put_str(t, &o, "started_at", when);
    t->step = steps ? sl_json_arr_push_take(steps, &o) : NULL;
    if (!t->step) {
        sl_json_clear(&o);
        lost(t);
    }
    t->step_t0 = sl_run_now(p);
}

void sl_trace_add(struct sluice_pipeline *p, const char *key, struct sl_json *item)
{
    struct sl_trace *t = p->trace;
    struct sl_json *arr = t && t->step && item
                              ? sl_json_obj_setdefault(t->step, key, SL_JSON_ARRAY)
                              : NULL;
    if (!arr || !sl_json_arr_push_take(arr, item)) {
        sl_json_free(item);
        if (t)
            lost(t);
        return;
    }
    sl_free(item); /* contents moved */
}

void sl_trace_put(struct sluice_pipeline *p, const char *key, struct sl_json *value)
{
    struct sl_trace *t = p->trace;
    if (!t || !t->doc || !value) {
        sl_json_free(value);
        if (t)
            lost(t);
        return;
    }
    if (!sl_json_obj_set_take(t->doc, key, value)) {
        sl_json_free(value);
        lost(t);
        return;
    }
    sl_free(value); /* contents moved */
}

void sl_trace_note(struct sluice_pipeline *p, const char *note)
{
    struct sl_trace *t = p->trace;
    if (t && t->step)
        put_str(t, t->step, "note", note);
}

/* ---- the end: net effect per table over the completed loads ------------------------------ */

static const char *name_of(const struct sl_json *o)
{
    const char *s = sl_json_str(sl_json_get(o, "name"));
    return s ? s : "";
}

static const struct sl_json *find_named(const struct sl_json *arr, const char *name)
{
    for (uint32_t i = 0; arr && i < arr->len; i++)
        if (strcmp(name_of(&arr->u.items[i]), name) == 0)
            return &arr->u.items[i];
    return NULL;
}

static int64_t int_of(const struct sl_json *o, const char *key, int *known)
{
    const struct sl_json *v = sl_json_get(o, key);
    if (!v || v->type != SL_JSON_INT) {
        *known = 0;
        return 0;
    }
    return v->u.i;
}

/* Sum one completed load step's tables into the run's "tables" array (sorted by name). */
static void sum_load(struct sl_trace *t, struct sl_json *out, const struct sl_json *step)
{
    static const char *const keys[] = { "rows", "inserted", "updated", "deleted" };
    const struct sl_json *tables = sl_json_get(step, "tables");
    for (uint32_t i = 0; tables && i < tables->len; i++) {
        const struct sl_json *tj = &tables->u.items[i];
        const char *name = sl_json_str(sl_json_get(tj, "name"));
        if (!name)
            continue;
        struct sl_json *acc = (struct sl_json *)find_named(out, name);
        if (!acc) {
            struct sl_json o;
            sl_json_set_object(&o);
            uint32_t at = 0;
            while (at < out->len && strcmp(name_of(&out->u.items[at]), name) < 0)
                at++;
            if (sl_json_obj_put_str(&o, "name", name) || !sl_json_arr_push_take(out, &o)) {
                sl_json_clear(&o);
                lost(t);
                return;
            }
            /* keep the array sorted: move the new last element to its place */
            struct sl_json moved = out->u.items[out->len - 1];
            memmove(&out->u.items[at + 1], &out->u.items[at],
                    (out->len - 1 - at) * sizeof(out->u.items[0]));
            out->u.items[at] = moved;
            acc = &out->u.items[at];
            for (size_t k = 0; k < 4; k++)
                if (sl_json_obj_put_int(acc, keys[k], 0))
                    lost(t);
        }
        for (size_t k = 0; k < 4; k++) {
            int known = 1;
            int64_t add = int_of(tj, keys[k], &known);
            struct sl_json *cur = sl_json_get_mut(acc, keys[k]);
            if (!cur)
                continue; /* unknown already */
            if (!known)
                sl_json_obj_del(acc, keys[k]); /* one unknown part makes the sum unknown */
            else
                cur->u.i += add;
        }
    }
}

void sl_trace_end(struct sluice_pipeline *p, sluice_status rc)
{
    struct sl_trace *t = p->trace;
    if (!t || !t->doc)
        return;
    sl_trace_step_end(p, rc);
    char when[40];
    sl_run_utc_iso(p, when, sizeof(when));
    put_str(t, t->doc, "finished_at", when);
    put_double(t, t->doc, "elapsed", sl_run_now(p) - t->t0);
    put_str(t, t->doc, "status", rc == SLUICE_OK ? "completed" : "failed");
    put_str(t, t->doc, "log_file", sl_runlog_path(p));
    struct sl_json err;
    sl_json_set_null(&err);
    if (rc != SLUICE_OK) {
        const struct sl_ctx *c = &p->ctx;
        sl_json_set_object(&err);
        put_str(t, &err, "code", sluice_status_name(c->code != SLUICE_OK ? c->code : rc));
        put_str(t, &err, "message", c->message[0] ? c->message : sluice_status_str(rc));
        put_str(t, &err, "resource", c->resource[0] ? c->resource : NULL);
        if (c->item >= 0) {
            if (sl_json_obj_put_int(&err, "item", c->item))
                lost(t);
        } else {
            put_str(t, &err, "item", NULL);
        }
        put_str(t, &err, "field", c->field[0] ? c->field : NULL);
    }
    put_take(t, t->doc, "error", &err);
    struct sl_json *tables = sl_json_obj_setdefault(t->doc, "tables", SL_JSON_ARRAY);
    const struct sl_json *steps = sl_json_get(t->doc, "steps");
    for (uint32_t i = 0; tables && steps && i < steps->len; i++) {
        const struct sl_json *s = &steps->u.items[i];
        const char *name = sl_json_str(sl_json_get(s, "step"));
        const char *status = sl_json_str(sl_json_get(s, "status"));
        if (name && strcmp(name, "load") == 0 && status && strcmp(status, "completed") == 0)
            sum_load(t, tables, s);
    }
    if (!tables)
        lost(t);
    if (t->lost)
        put_bool(t, t->doc, "incomplete", 1);
    const struct sl_json *dry = sl_json_get(t->doc, "dry_run");
    if (dry && dry->type == SL_JSON_BOOL && dry->u.b)
        return; /* a dry run leaves nothing behind: the handle keeps its trace */
    char *text = sl_json_dumps(t->doc, SL_JSON_W_PRETTY);
    char *path = sl_aprintf("%s/trace.json", p->workdir);
    struct sl_ctx scratch;
    sl_ctx_init(&scratch);
    if (!text || !path || sl_fs_write_atomic(&scratch, path, text, strlen(text)) != SLUICE_OK)
        sl_log(&p->ctx, SLUICE_LOG_WARN, "cannot write the run's trace to '%s': %s",
               path ? path : "trace.json",
               scratch.code != SLUICE_OK ? scratch.message : "out of memory");
    sl_free(path);
    sl_free(text);
}

sluice_status sl_trace_json(struct sluice_pipeline *p, char **json_out)
{
    *json_out = NULL;
    if (p->trace && p->trace->doc) {
        *json_out = sl_json_dumps(p->trace->doc, 0);
        return *json_out ? SLUICE_OK : sl_nomem(&p->ctx);
    }
    char *path = sl_aprintf("%s/trace.json", p->workdir);
    if (!path)
        return sl_nomem(&p->ctx);
    size_t len = 0;
    sluice_status rc = sl_fs_read(&p->ctx, path, json_out, &len);
    if (rc == SLUICE_ERR_NOT_FOUND)
        rc = sl_fail(&p->ctx, SLUICE_ERR_NOT_FOUND,
                     "pipeline '%s' has no trace: it has not run on this machine since "
                     "traces were kept ('%s' is missing)",
                     p->cfg->pipeline_name, path);
    sl_free(path);
    return rc;
}
