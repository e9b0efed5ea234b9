/*
 * extract.c — the extract stage (see extract.h).
 *
 * For each resource an item file is written by one sink shared by all source kinds (command,
 * file, C generator). The manifest records, next to the file, a snapshot of the settings the
 * normalizer needs (disposition, keys, table name, column hints), so a pending package is
 * normalized and loaded exactly as it was meant even if the config changed in between.
 */
#include "run/extract.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/digest.h"
#include "base/fault.h"
#include "base/alloc.h"
#include "base/calendar.h"
#include "base/fs.h"
#include "model/cursor.h"
#include "model/incremental.h"
#include "base/json.h"
#include "run/load.h"
#include "model/normalize.h"
#include "run/package.h"
#include "run/pipe.h"
#include "run/runlog.h"
#include "run/trace.h"
#include "sources/source.h"
#include "model/state.h"

struct sluice_yield {
    struct sluice_pipeline *p;
    struct extract_res *er;
    char *value_text; /* last sluice_yield_incremental() result */
};

/* A Singer stream's cursor: its SCHEMA's bookmark_properties, when the resource has no
 * incremental of its own (state slot incremental."<stream>:<property>"). */
struct stream_cursor {
    char *stream;
    struct sl_incremental_cfg icfg;
    struct sl_incremental *inc;
};

struct extract_res {
    struct sluice_pipeline *p;
    const struct sl_resource_cfg *cfg;
    struct sl_recfile rf;
    int64_t items;          /* items kept */
    int64_t seen;           /* items the source produced */
    int64_t next_item_no;   /* for generator items */
    int64_t pages;          /* sluice_yield_json calls */
    struct sl_tick tick;    /* progress reports on a time basis */
    int64_t reported;       /* items in the last progress report */
    struct sl_json *rstate; /* the resource's state object in the working state (heap) */
    struct sl_json *state;  /* the working state document */
    struct sl_incremental *inc;
    int closed;             /* the incremental said no further item can be in range */
    int64_t closed_page;    /* the page being read when it did */
    struct sl_pipe *pipe;   /* a normalize thread follows the item file, or NULL */
    struct sl_follow *follow;
    int64_t published;      /* bytes of the item file handed to the normalize thread */
    int norm_failed;        /* the normalize thread failed: its error is the run's */
    int feed_only;          /* a REST parent run only to feed its children: nothing loaded */
    FILE *spool;            /* a REST parent's kept items, for its children (JSON lines) */
    const char *spool_path;
    struct sl_buf line;     /* one spooled item */
    struct stream_cursor *streams; /* Singer streams with a cursor (bookmark_properties) */
    size_t nstreams;
};

/* Hand what is written so far to the normalize thread (every 256 KiB and at the end). */
static sluice_status publish(struct extract_res *er, int done)
{
    if (!er->pipe)
        return SLUICE_OK;
    if (!done && er->rf.bytes - er->published < (256 << 10))
        return SLUICE_OK;
    if (!done) {
        sluice_status rc = sl_recfile_flush(&er->p->ctx, &er->rf);
        if (rc != SLUICE_OK)
            return rc;
    }
    er->published = er->rf.bytes;
    sl_pipe_publish(er->pipe, er->follow, er->published, done);
    if (sl_pipe_failed(er->pipe)) {
        er->norm_failed = 1;
        return SLUICE_ERR_INTERRUPTED; /* not recorded: the normalize error is reported */
    }
    return SLUICE_OK;
}

static void report_items(struct extract_res *er)
{
    struct sluice_pipeline *p = er->p;
    er->reported = er->items;
    sl_run_progress(p, "extract", er->cfg->name, er->items, p->run_items + er->items, 0);
}

/* The source waits for data: report items that came since the last report. */
static void on_wait(void *ud)
{
    struct extract_res *er = ud;
    if (er->items != er->reported && er->p->progress_fn)
        report_items(er);
}

/* A line of the source's stderr: shown with the resource's name and kept in the run's log. */
static void on_stderr(void *ud, const char *line)
{
    struct extract_res *er = ud;
    sl_runlog_source_line(er->p, er->cfg->name, line);
}

/* A status the sink returns to stop a source early (row_order); never reported. */
#define EARLY_STOP SLUICE_ERR_INTERRUPTED

/* The run was asked to stop (sluice_pipeline_interrupt) while extracting resource r. */
static sluice_status stop_extracting(struct sluice_pipeline *p, const char *resource)
{
    if (p->ctx.code == SLUICE_ERR_INTERRUPTED)
        sl_ctx_clear(&p->ctx); /* the source's own words: say it for the whole run */
    return sl_run_stop(&p->ctx, resource,
                       "extracting resource %s: the load package being extracted is discarded "
                       "and nothing of it was committed; the next run extracts again from the "
                       "last committed state",
                       resource);
}

static sluice_status on_item(void *ud, const struct sl_json *item, int64_t item_no, int64_t line,
                             int64_t page, const char *table)
{
    struct extract_res *er = ud;
    struct sluice_pipeline *p = er->p;
    if (sl_run_interrupted(p))
        return stop_extracting(p, er->cfg->name);
    /* row_order: once the incremental can close, the rest of the current page is still
     * filtered as usual (dlt stops asking for pages, it does not cut one short) */
    if (er->closed && page != er->closed_page)
        return EARLY_STOP;
    if (item->type != SL_JSON_OBJECT)
        return sl_fail_at(&p->ctx, SLUICE_ERR_DATA_JSON, er->cfg->name, item_no, NULL,
                          "item %lld is a JSON %s, expected an object", (long long)item_no,
                          sl_json_type_name((enum sl_json_type)item->type));
    er->seen++;
    struct sl_incremental *stream_inc = NULL;
    for (size_t i = 0; table && !er->inc && i < er->nstreams; i++)
        if (strcmp(er->streams[i].stream, table) == 0)
            stream_inc = er->streams[i].inc;
    if (stream_inc) {
        int keep = 1;
        sluice_status frc = sl_incremental_filter(stream_inc, item, item_no, &keep);
        if (frc != SLUICE_OK)
            return frc;
        if (!keep)
            return SLUICE_OK;
    }
    if (er->inc) {
        int keep = 1;
        sluice_status frc = sl_incremental_filter(er->inc, item, item_no, &keep);
        if (frc != SLUICE_OK)
            return frc;
        if (!er->closed && sl_incremental_can_close(er->inc)) {
            er->closed = 1;
            er->closed_page = page;
        }
        if (!keep)
            return SLUICE_OK;
    }
    if (er->spool) {
        sl_buf_reset(&er->line);
        if (sl_json_write(&er->line, item, 0) || sl_buf_putc(&er->line, '\n'))
            return sl_nomem(&p->ctx);
        if (fwrite(er->line.data, 1, er->line.len, er->spool) != er->line.len)
            return sl_fail(&p->ctx, SLUICE_ERR_IO, "cannot write '%s'", er->spool_path);
    }
    if (er->feed_only) {
        er->items++;
        return SLUICE_OK;
    }
    sluice_status rc = sl_item_write(&p->ctx, &er->rf, item, item_no, line, table);
    if (rc == SLUICE_OK)
        rc = publish(er, 0);
    if (rc != SLUICE_OK)
        return rc;
    SL_FAULT_POINT("extract.item");
    er->items++;
    if (sl_run_tick(p, &er->tick))
        report_items(er);
    return SLUICE_OK;
}

/* Replace the resource's own keys with those of obj (incremental stays sluice's). */
static sluice_status replace_resource_keys(struct sluice_pipeline *p, struct sl_json *rstate,
                                           const struct sl_json *obj, const char *what)
{
    if (!obj || obj->type != SL_JSON_OBJECT)
        return sl_fail(&p->ctx, SLUICE_ERR_SOURCE, "%s must be a JSON object", what);
    struct sl_json keep;
    sl_json_set_null(&keep);
    struct sl_json *inc = sl_json_get_mut(rstate, "incremental");
    if (inc) {
        keep = *inc;
        sl_json_set_null(inc); /* moved out */
    }
    sl_json_clear(rstate);
    sl_json_set_object(rstate);
    for (uint32_t i = 0; i < obj->len; i++) {
        const struct sl_json_member *m = &obj->u.members[i];
        if (m->key_len == 11 && memcmp(m->key, "incremental", 11) == 0)
            continue;
        struct sl_json v;
        sl_json_set_null(&v);
        char *key = sl_strndup(m->key, m->key_len);
        if (!key || sl_json_copy_into(&v, &m->val) || !sl_json_obj_set_take(rstate, key, &v)) {
            sl_json_clear(&v); /* a partial copy */
            sl_free(key);
            sl_json_clear(&keep);
            return sl_nomem(&p->ctx);
        }
        sl_free(key);
    }
    if (keep.type == SL_JSON_OBJECT && !sl_json_obj_set_take(rstate, "incremental", &keep)) {
        sl_json_clear(&keep);
        return sl_nomem(&p->ctx);
    }
    return SLUICE_OK;
}

/* row_order: once the incremental can close, no further page is asked for */
static sluice_status on_page_end(void *ud, int64_t page)
{
    struct extract_res *er = ud;
    (void)page;
    return er->closed ? EARLY_STOP : SLUICE_OK;
}

/* The strings of a JSON array, as a NULL-terminated heap array of borrowed pointers; NULL
 * when the value is not an array of strings (or out of memory). */
static const char **string_list(const struct sl_json *arr, size_t *n)
{
    *n = 0;
    if (!arr || arr->type != SL_JSON_ARRAY)
        return NULL;
    const char **v = sl_calloc(arr->len + 1, sizeof(*v));
    for (uint32_t i = 0; v && i < arr->len; i++) {
        const char *s = sl_json_str(&arr->u.items[i]);
        if (!s) {
            sl_free(v);
            return NULL;
        }
        v[(*n)++] = s;
    }
    return v;
}

/* A stream's bookmark property as its cursor (see struct stream_cursor): max of the values,
 * records without it loaded, boundary records de-duplicated by key_properties. */
static sluice_status bind_stream_cursor(struct extract_res *er, const char *stream,
                                        const char *bookmark, const struct sl_json *keys)
{
    struct sluice_pipeline *p = er->p;
    struct stream_cursor *sc = sl_realloc(er->streams, (er->nstreams + 1) * sizeof(*sc));
    if (!sc)
        return sl_nomem(&p->ctx);
    er->streams = sc;
    sc = &er->streams[er->nstreams];
    memset(sc, 0, sizeof(*sc));
    struct sl_json *cfg = sl_json_new_object();
    struct sl_json kcopy;
    sl_json_set_null(&kcopy);
    sluice_status rc = SLUICE_OK;
    if (!cfg || sl_json_obj_put_str(cfg, "cursor_path", bookmark) ||
        sl_json_obj_put_str(cfg, "on_cursor_value_missing", "include") ||
        (keys && (sl_json_copy_into(&kcopy, keys) ||
                  !sl_json_obj_set_take(cfg, "primary_key", &kcopy)))) {
        sl_json_clear(&kcopy);
        rc = sl_nomem(&p->ctx);
        goto done;
    }
    sc->stream = sl_strdup(stream);
    if (!sc->stream) {
        rc = sl_nomem(&p->ctx);
        goto done;
    }
    er->nstreams++; /* from here on freed with the others */
    rc = sl_incremental_cfg_parse(&p->ctx, er->cfg->name, cfg, &sc->icfg);
    if (rc == SLUICE_OK) {
        sc->icfg.slot_key = sl_aprintf("%s:%s", stream, bookmark);
        if (!sc->icfg.slot_key)
            rc = sl_nomem(&p->ctx);
    }
    if (rc == SLUICE_OK)
        rc = sl_incremental_bind(&p->ctx, &sc->icfg, er->cfg->name, NULL, 0, false, er->rstate,
                                 NULL, NULL, &sc->inc);
done:
    sl_json_free(cfg);
    return rc;
}

/*
 * A Singer SCHEMA message: its key_properties become the stream table's primary key when the
 * resource sets none (a hint record, item number 0, in the item file: the normalizer reads
 * it in order, before the stream's records), and its bookmark_properties the stream's cursor
 * when the resource has no incremental.
 */
static sluice_status on_schema(void *ud, const char *stream, const struct sl_json *msg)
{
    struct extract_res *er = ud;
    struct sluice_pipeline *p = er->p;
    const struct sl_json *keys = sl_json_get(msg, "key_properties");
    size_t nkeys = 0, nbook = 0;
    const char **klist = string_list(keys, &nkeys);
    const char **blist = string_list(sl_json_get(msg, "bookmark_properties"), &nbook);
    sluice_status rc = SLUICE_OK;
    if (klist && nkeys > 0 && er->cfg->n_pk == 0) {
        struct sl_json *hint = sl_json_new_object();
        struct sl_json kc;
        sl_json_set_null(&kc);
        if (!hint || sl_json_copy_into(&kc, keys) ||
            !sl_json_obj_set_take(hint, "key_properties", &kc)) {
            sl_json_clear(&kc);
            rc = sl_nomem(&p->ctx);
        } else {
            rc = sl_item_write(&p->ctx, &er->rf, hint, 0, 0, stream);
            if (rc == SLUICE_OK)
                rc = publish(er, 0);
        }
        sl_json_free(hint);
    }
    int bound = 0;
    for (size_t i = 0; i < er->nstreams; i++)
        bound |= strcmp(er->streams[i].stream, stream) == 0;
    if (rc == SLUICE_OK && blist && nbook > 0 && !er->inc && !bound)
        rc = bind_stream_cursor(er, stream, blist[0], klist && nkeys > 0 ? keys : NULL);
    sl_free(klist);
    sl_free(blist);
    return rc;
}

static void free_streams(struct extract_res *er)
{
    for (size_t i = 0; i < er->nstreams; i++) {
        sl_incremental_free(&er->streams[i].inc);
        sl_incremental_cfg_cleanup(&er->streams[i].icfg);
        sl_free(er->streams[i].stream);
    }
    sl_free(er->streams);
    er->streams = NULL;
    er->nstreams = 0;
}

static sluice_status on_state(void *ud, const struct sl_json *state)
{
    struct extract_res *er = ud;
    return replace_resource_keys(er->p, er->rstate, state, "a singer STATE message's value");
}

/* ---- C generators ----------------------------------------------------------------------- */

struct yield_parse {
    struct extract_res *er;
    int64_t page; /* one sluice_yield_json call is one page */
};

static sluice_status yield_value(void *ud, struct sl_json *v, int64_t index, int64_t line)
{
    struct yield_parse *yp = ud;
    struct extract_res *er = yp->er;
    (void)index;
    (void)line;
    er->next_item_no++;
    return on_item(er, v, er->next_item_no, er->next_item_no, yp->page, NULL);
}

sluice_status sl_extract_yield_json(struct sluice_yield *y, const char *json, size_t len)
{
    struct sluice_pipeline *p = y->p;
    struct yield_parse yp = { y->er, ++y->er->pages };
    struct sl_json_parser *parser = NULL;
    sluice_status rc = sl_json_parser_new(&parser, &p->ctx, SL_JSON_UNWRAP_ARRAY, NULL,
                                          yield_value, &yp);
    if (rc == SLUICE_OK)
        rc = sl_json_parser_feed(parser, json, len);
    if (rc == SLUICE_OK)
        rc = sl_json_parser_finish(parser);
    sl_json_parser_free(&parser);
    if (rc != SLUICE_OK)
        sl_fail_locate(&p->ctx, y->er->cfg->name, y->er->next_item_no + 1, NULL);
    return rc;
}

sluice_status sl_extract_yield_state_get(struct sluice_yield *y, char **json_out)
{
    *json_out = sl_json_dumps(y->er->rstate, SL_JSON_W_SORTED);
    return *json_out ? SLUICE_OK : sl_nomem(&y->p->ctx);
}

sluice_status sl_extract_yield_state_set(struct sluice_yield *y, const char *json)
{
    struct sluice_pipeline *p = y->p;
    struct sl_json *v = NULL;
    sluice_status rc = sl_json_parse_heap(&p->ctx, json, strlen(json), &v);
    if (rc == SLUICE_OK)
        rc = replace_resource_keys(p, y->er->rstate, v, "resource state");
    sl_json_free(v);
    if (rc != SLUICE_OK)
        sl_fail_locate(&p->ctx, y->er->cfg->name, -1, NULL);
    return rc;
}

sluice_status sl_extract_yield_source_state_get(struct sluice_yield *y, char **json_out)
{
    struct sl_json *src = sl_state_source(y->er->state, y->er->cfg->source);
    struct sl_json copy;
    if (!src || sl_json_copy_into(&copy, src))
        return sl_nomem(&y->p->ctx);
    sl_json_obj_del(&copy, "resources");
    *json_out = sl_json_dumps(&copy, SL_JSON_W_SORTED);
    sl_json_clear(&copy);
    return *json_out ? SLUICE_OK : sl_nomem(&y->p->ctx);
}

sluice_status sl_extract_yield_source_state_set(struct sluice_yield *y, const char *json)
{
    struct sluice_pipeline *p = y->p;
    struct sl_json *v = NULL;
    struct sl_json *src = sl_state_source(y->er->state, y->er->cfg->source);
    if (!src)
        return sl_nomem(&p->ctx);
    sluice_status rc = sl_json_parse_heap(&p->ctx, json, strlen(json), &v);
    if (rc == SLUICE_OK && v->type != SL_JSON_OBJECT)
        rc = sl_fail(&p->ctx, SLUICE_ERR_SOURCE, "source state must be a JSON object");
    /* replace every key but "resources" */
    for (uint32_t i = src->len; rc == SLUICE_OK && i-- > 0;) {
        struct sl_json_member *m = &src->u.members[i];
        if (!(m->key_len == 9 && memcmp(m->key, "resources", 9) == 0)) {
            char *key = sl_strndup(m->key, m->key_len);
            if (!key) {
                rc = sl_nomem(&p->ctx);
                break;
            }
            sl_json_obj_del(src, key);
            sl_free(key);
        }
    }
    for (uint32_t i = 0; rc == SLUICE_OK && i < v->len; i++) {
        const struct sl_json_member *m = &v->u.members[i];
        if (m->key_len == 9 && memcmp(m->key, "resources", 9) == 0)
            continue;
        char *key = sl_strndup(m->key, m->key_len);
        struct sl_json val;
        sl_json_set_null(&val);
        if (!key || sl_json_copy_into(&val, &m->val) || !sl_json_obj_set_take(src, key, &val)) {
            sl_json_clear(&val); /* a partial copy */
            rc = sl_nomem(&p->ctx);
        }
        sl_free(key);
    }
    sl_json_free(v);
    if (rc != SLUICE_OK)
        sl_fail_locate(&p->ctx, y->er->cfg->name, -1, NULL);
    return rc;
}

const char *sl_extract_yield_incremental(struct sluice_yield *y, const char *which)
{
    sl_free(y->value_text);
    y->value_text = NULL;
    if (!y->er->inc)
        return NULL;
    const struct sl_json *v = sl_incremental_value(y->er->inc, which);
    if (!v || v->type == SL_JSON_NULL)
        return NULL;
    y->value_text = sl_json_dumps(v, SL_JSON_W_SORTED);
    return y->value_text;
}

void sl_extract_yield_out_of_range(struct sluice_yield *y, int *start, int *end)
{
    *start = y->er->inc ? sl_incremental_start_out_of_range(y->er->inc) : 0;
    *end = y->er->inc ? sl_incremental_end_out_of_range(y->er->inc) : 0;
}

sluice_status sl_extract_yield_fail(struct sluice_yield *y, const char *message)
{
    struct sluice_pipeline *p = y->p;
    sl_fail_at(&p->ctx, SLUICE_ERR_SOURCE, y->er->cfg->name, -1, NULL, "%s",
               message ? message : "generator failed");
    sl_fail_origin(&p->ctx, "generator", NULL);
    return SLUICE_ERR_SOURCE;
}

/* ---- manifest snapshot ------------------------------------------------------------------ */



static int put_list(struct sl_json *obj, const char *key, char *const *items, size_t n)
{
    struct sl_json *arr = sl_json_obj_setdefault(obj, key, SL_JSON_ARRAY);
    if (!arr)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct sl_json v;
        if (sl_json_set_str(&v, items[i], strlen(items[i])))
            return -1;
        if (!sl_json_arr_push_take(arr, &v))
            return -1;
    }
    return 0;
}

static int put_copy(struct sl_json *obj, const char *key, const struct sl_json *src)
{
    struct sl_json v;
    if (!src) {
        sl_json_set_null(&v);
    } else if (sl_json_copy_into(&v, src)) {
        sl_json_clear(&v);
        return -1;
    }
    return sl_json_obj_set_take(obj, key, &v) ? 0 : -1;
}

/* checksum: the item file's (sl_checksum_text), or NULL while it is still being written. */
static struct sl_json *resource_snapshot(const struct sl_resource_cfg *r,
                                         enum sl_write_disposition wd, int64_t max_nesting,
                                         size_t index, int64_t items, const char *checksum)
{
    struct sl_json *o = sl_json_new_object();
    if (!o)
        return NULL;
    char file[64];
    snprintf(file, sizeof(file), "extracted/%zu.items", index);
    int bad = sl_json_obj_put_str(o, "name", r->name) ||
              sl_json_obj_put_str(o, "source", r->source) ||
              sl_json_obj_put_str(o, "write_disposition", sl_wd_name(wd)) ||
              put_list(o, "primary_key", r->primary_key, r->n_pk) ||
              put_list(o, "merge_key", r->merge_key, r->n_mk) ||
              sl_json_obj_put_str(o, "table_name", r->table_name) ||
              put_copy(o, "columns", r->columns) ||
              sl_json_obj_put_int(o, "max_table_nesting", max_nesting) ||
              sl_json_obj_put_str(o, "file", file) ||
              sl_json_obj_put_int(o, "items", items) ||
              sl_json_obj_put_int(o, "root_key", r->root_key);
    if (!bad && checksum)
        bad = sl_json_obj_put_str(o, "checksum", checksum);
    if (!bad && wd == SL_WD_MERGE) {
        /* the merge strategy and its settings (absent: delete-insert, as older packages) */
        const struct sl_merge_opts *m = &r->merge;
        bad = sl_json_obj_put_str(o, "merge_strategy", r->merge_strategy) ||
              sl_json_obj_put_str(o, "valid_from", m->valid_from) ||
              sl_json_obj_put_str(o, "valid_to", m->valid_to) ||
              sl_json_obj_put_str(o, "row_version", m->row_version) ||
              sl_json_obj_put_str(o, "active_record_timestamp", m->active_ts) ||
              sl_json_obj_put_str(o, "boundary_timestamp", m->boundary_ts);
    }
    if (bad) {
        sl_json_free(o);
        return NULL;
    }
    return o;
}

/* ---- the stage -------------------------------------------------------------------------- */

static int selected(const struct sl_resource_cfg *r, const char *const *names)
{
    if (!names)
        return r->selected;
    for (size_t i = 0; names[i]; i++)
        if (strcmp(names[i], r->name) == 0)
            return 1;
    return 0;
}

/* "NAME=value" for an incremental value (strings bare, other JSON as text); NULL if unset. */
static char *value_env(const char *name, const struct sl_json *v)
{
    if (!v || v->type == SL_JSON_NULL)
        return NULL;
    if (v->type == SL_JSON_STRING)
        return sl_aprintf("%s=%s", name, v->s);
    char *text = sl_json_dumps(v, SL_JSON_W_SORTED);
    char *out = text ? sl_aprintf("%s=%s", name, text) : NULL;
    sl_free(text);
    return out;
}

/* 'path' for sh, single quotes inside as '\'' (caller frees). */
static char *sh_quote(const char *path)
{
    size_t n = 3;
    for (const char *c = path; *c; c++)
        n += *c == '\'' ? 4 : 1;
    char *q = sl_malloc(n);
    if (!q)
        return NULL;
    size_t k = 0;
    q[k++] = '\'';
    for (const char *c = path; *c; c++) {
        if (*c == '\'') {
            memcpy(q + k, "'\\''", 4);
            k += 4;
        } else {
            q[k++] = *c;
        }
    }
    q[k++] = '\'';
    q[k] = '\0';
    return q;
}

/*
 * A Singer tap gets its state as Meltano hands it over: the last STATE value the tap emitted
 * (the resource state without sluice's "incremental") in a file, and ` --state FILE` after
 * the command. Nothing is added on the first run (no state yet), as with Meltano. *path_out
 * and *cmd_out (caller frees) stay NULL then.
 */
static sluice_status singer_state_arg(struct sluice_pipeline *p, const struct sl_resource_cfg *r,
                                      struct extract_res *er, const char *state_path,
                                      char **path_out, char **cmd_out)
{
    *path_out = NULL;
    *cmd_out = NULL;
    if (!r->format || strcmp(r->format, "singer") != 0 || !r->command)
        return SLUICE_OK;
    struct sl_json tap;
    if (sl_json_copy_into(&tap, er->rstate))
        return sl_nomem(&p->ctx);
    sl_json_obj_del(&tap, "incremental");
    sluice_status rc = SLUICE_OK;
    char *text = NULL;
    char *quoted = NULL;
    if (tap.type != SL_JSON_OBJECT || tap.len == 0)
        goto done;
    text = sl_json_dumps(&tap, SL_JSON_W_SORTED);
    *path_out = sl_aprintf("%.*s.tap-state.json", (int)(strlen(state_path) - 11), state_path);
    if (!text || !*path_out) {
        rc = sl_nomem(&p->ctx);
        goto done;
    }
    rc = sl_fs_write_atomic(&p->ctx, *path_out, text, strlen(text));
    quoted = rc == SLUICE_OK ? sh_quote(*path_out) : NULL;
    if (rc == SLUICE_OK && !quoted)
        rc = sl_nomem(&p->ctx);
    if (rc == SLUICE_OK) {
        *cmd_out = sl_aprintf("%s --state %s", r->command, quoted);
        if (!*cmd_out)
            rc = sl_nomem(&p->ctx);
    }
done:
    sl_json_clear(&tap);
    sl_free(text);
    sl_free(quoted);
    return rc;
}

/* Run a command resource with its state file and incremental values in the environment; on
 * success the top-level keys the program left in the file become the resource state. */
static sluice_status run_command(struct sluice_pipeline *p, const struct sl_resource_cfg *r,
                                 struct extract_res *er, const char *state_path,
                                 const struct sl_source_sink *sink)
{
    static const char *const names[4][2] = {
        { "initial_value", "SLUICE_INITIAL_VALUE" }, { "start_value", "SLUICE_START_VALUE" },
        { "last_value", "SLUICE_LAST_VALUE" }, { "end_value", "SLUICE_END_VALUE" },
    };
    char *envv[6] = { NULL };
    size_t ne = 0;
    char *text = NULL;
    char *back = NULL;
    size_t backlen = 0;
    struct sl_json *doc = NULL;
    char *tap_state_path = NULL;
    char *with_state_cmd = NULL;
    sluice_status rc = SLUICE_OK;
    for (size_t i = 0; er->inc && i < 4; i++) {
        char *e = value_env(names[i][1], sl_incremental_value(er->inc, names[i][0]));
        if (e)
            envv[ne++] = e;
    }
    text = sl_json_dumps(er->rstate, SL_JSON_W_PRETTY | SL_JSON_W_SORTED);
    if (!text) {
        rc = sl_nomem(&p->ctx);
        goto done;
    }
    rc = sl_fs_write_atomic(&p->ctx, state_path, text, strlen(text));
    if (rc != SLUICE_OK)
        goto done;
    struct sl_source_env env;
    memset(&env, 0, sizeof(env));
    env.state_file = state_path;
    env.env = (const char *const *)envv;
    env.interrupt = &p->interrupt;
    env.stderr_log = sl_runlog_path(p);
    struct sl_resource_cfg with_state = *r; /* shallow: only the command differs */
    rc = singer_state_arg(p, r, er, state_path, &tap_state_path, &with_state_cmd);
    if (rc != SLUICE_OK)
        goto done;
    if (with_state_cmd)
        with_state.command = with_state_cmd;
    rc = sl_source_command_run(&p->ctx, &with_state, p->cfg->base_dir, &env, sink);
    if (rc != SLUICE_OK)
        goto done;
    rc = sl_fs_read(&p->ctx, state_path, &back, &backlen);
    if (rc == SLUICE_ERR_NOT_FOUND) {
        rc = SLUICE_OK; /* the program removed it: keep the state as it was */
        goto done;
    }
    if (rc != SLUICE_OK)
        goto done;
    if (backlen == 0 || (strcmp(back, text) == 0))
        goto done;
    struct sl_ctx scratch;
    sl_ctx_init(&scratch);
    if (sl_json_parse_heap(&scratch, back, backlen, &doc) != SLUICE_OK) {
        rc = sl_fail_at(&p->ctx, SLUICE_ERR_SOURCE, r->name, -1, NULL,
                        "the state file the command wrote ($SLUICE_STATE_FILE) is not valid "
                        "JSON: %s",
                        scratch.message);
        goto done;
    }
    rc = replace_resource_keys(p, er->rstate, doc, "the state file ($SLUICE_STATE_FILE)");
done:
    if (tap_state_path)
        unlink(tap_state_path);
    sl_free(tap_state_path);
    sl_free(with_state_cmd);
    for (size_t i = 0; i < ne; i++)
        sl_free(envv[i]);
    sl_json_free(doc);
    sl_free(back);
    sl_free(text);
    return rc;
}

static sluice_status run_resource(struct sluice_pipeline *p, size_t ri, struct extract_res *er,
                                  const char *state_path, const char *parent_items)
{
    const struct sl_resource_cfg *r = &p->cfg->resources[ri];
    struct sl_source_sink sink = { on_item, on_state, on_schema,  er,
                                   on_page_end, on_stderr, on_wait };
    switch (r->from) {
    case SL_FROM_REST: {
        struct sl_source_env env;
        memset(&env, 0, sizeof(env));
        env.inc = er->inc;
        env.parent_items = parent_items;
        env.seed = sl_rng_next(&p->rng);
        env.now = p->now;
        env.interrupt = &p->interrupt;
        return sl_source_rest_run(&p->ctx, r, &env, &sink);
    }
    case SL_FROM_FILE:
        return sl_source_file_run(&p->ctx, r, p->cfg->base_dir, &sink);
    case SL_FROM_COMMAND:
        return run_command(p, r, er, state_path, &sink);
    case SL_FROM_NONE:
    default: {
        (void)state_path;
        struct sl_generator *g = &p->gens[ri];
        if (!g->fn)
            return sl_fail_at(&p->ctx, SLUICE_ERR_CONFIG, r->name, -1, NULL,
                              "resource '%s' has no source (from: command or file)", r->name);
        struct sluice_yield y = { p, er, NULL };
        sluice_status rc = g->fn(&y, g->ctx);
        sl_free(y.value_text);
        if (rc != SLUICE_OK && p->ctx.code == SLUICE_OK) {
            sl_fail_at(&p->ctx, rc, r->name, -1, NULL, "generator of resource '%s' failed: %s",
                       r->name, sluice_status_str(rc));
            sl_fail_origin(&p->ctx, "generator", NULL);
        }
        return rc;
    }
    }
}

/*
 * A backfill bound given as an ISO 8601 datetime (a scheduler's data interval) in the type of
 * the cursor it bounds, as dlt coerces external-scheduler intervals: unix seconds for numeric
 * cursors, the UTC date for date cursors, unchanged otherwise. like: the configured
 * initial_value or the stored last_value, or NULL. *out is a heap copy (caller frees).
 */
static int coerce_window(const struct sl_json *v, const struct sl_json *like, struct sl_json **out)
{
    *out = NULL;
    if (!v)
        return 0;
    char norm[64];
    if (like && v->type == SL_JSON_STRING &&
        sl_iso_timestamp_normalize(v->s, v->len, norm, sizeof(norm))) {
        int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
        double frac = 0;
        if (sscanf(norm, "%4" SCNd64 "-%2" SCNd64 "-%2" SCNd64 "T%2" SCNd64 ":%2" SCNd64
                         ":%2" SCNd64,
                   &y, &mo, &d, &h, &mi, &s) == 6) {
            const char *dot = strchr(norm, '.');
            if (dot)
                frac = strtod(dot, NULL);
            int64_t secs = sl_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
            struct sl_json c;
            if (like->type == SL_JSON_INT && frac == 0) {
                sl_json_set_int(&c, secs);
                *out = sl_json_dup(&c);
                return *out ? 0 : -1;
            }
            if (sl_json_is_num(like)) {
                sl_json_set_double(&c, (double)secs + frac);
                *out = sl_json_dup(&c);
                return *out ? 0 : -1;
            }
            if (like->type == SL_JSON_STRING && sl_iso_date_check(like->s, like->len)) {
                char date[11];
                memcpy(date, norm, 10);
                date[10] = '\0';
                if (sl_json_set_str(&c, date, 10))
                    return -1;
                *out = sl_json_dup(&c);
                sl_json_clear(&c);
                return *out ? 0 : -1;
            }
        }
    }
    *out = sl_json_dup(v);
    return *out ? 0 : -1;
}

/* Adapter from the incremental module's custom function to the public JSON-text one. */
static struct sl_json *custom_last_value(void *ud, const struct sl_json *row_value,
                                         const struct sl_json *current)
{
    struct sl_generator *g = ud;
    char *a = sl_json_dumps(row_value, SL_JSON_W_SORTED);
    char *b = current ? sl_json_dumps(current, SL_JSON_W_SORTED) : NULL;
    char *res = NULL;
    struct sl_json *out = NULL;
    if (a && (b || !current))
        res = g->last_value_fn(g->last_value_ctx, a, b);
    if (res) {
        struct sl_ctx scratch;
        sl_ctx_init(&scratch);
        if (sl_json_parse_heap(&scratch, res, strlen(res), &out) != SLUICE_OK)
            out = NULL;
        free(res); /* the callback allocates with malloc (documented in sluice.h) */
    }
    sl_free(a);
    sl_free(b);
    return out;
}

/* The type a backfill window must have: the configured initial value, else the cursor's
 * stored last value (in rstate, the resource's state), else unknown (NULL). */
static const struct sl_json *window_like(const struct sl_json *initial,
                                         const struct sl_json *rstate, const char *cursor_path)
{
    if (initial && initial->type != SL_JSON_NULL)
        return initial;
    const struct sl_json *slots = sl_json_get(rstate, "incremental");
    const struct sl_json *last = cursor_path ? sl_json_get(sl_json_get(slots, cursor_path),
                                                           "last_value")
                                             : NULL;
    return last && last->type != SL_JSON_NULL ? last : NULL;
}

/* A window value (which: "start", "end") that does not parse as the cursor's type is a
 * CONFIG error (exit 2) naming the value, the type and the resource. Numeric cursors also take
 * a datetime (a scheduler's interval, converted by coerce_window); datetime and date cursors
 * take either. */
static sluice_status check_window(struct sluice_pipeline *p, const struct sl_resource_cfg *r,
                                  const char *cursor_path, const struct sl_json *like,
                                  const struct sl_json *v, const char *which)
{
    if (!v || !like)
        return SLUICE_OK;
    struct sl_cursor cl, cv;
    sl_cursor_classify(like, NULL, &cl);
    sl_cursor_classify(v, NULL, &cv);
    int ok = 1;
    switch (cl.kind) {
    case SL_CURSOR_NUMBER: ok = cv.kind == SL_CURSOR_NUMBER || cv.kind == SL_CURSOR_DATETIME; break;
    case SL_CURSOR_DATE:
    case SL_CURSOR_DATETIME: ok = cv.kind == SL_CURSOR_DATE || cv.kind == SL_CURSOR_DATETIME; break;
    case SL_CURSOR_STRING:
    case SL_CURSOR_BOOL: ok = cv.kind == cl.kind; break;
    default: break;
    }
    if (ok)
        return SLUICE_OK;
    char shown[SL_CURSOR_SHOW_MAX + 8];
    sl_cursor_show(v, shown, sizeof(shown));
    const char *type = sl_cursor_kind_name(&cl);
    return sl_fail_at(&p->ctx, SLUICE_ERR_CONFIG, r->name, -1, NULL,
                      "backfill %s value '%s' does not parse as %s %s, the type of the cursor %s "
                      "of resource %s",
                      which, shown, strchr("aeiou", type[0]) ? "an" : "a", type,
                      cursor_path ? cursor_path : "?", r->name);
}

/* Every selected resource's window checked before anything runs. */
static sluice_status check_windows(struct sluice_pipeline *p, const struct sl_extract_opts *o,
                                   const struct sl_json *st)
{
    sluice_status rc = SLUICE_OK;
    for (size_t ri = 0; rc == SLUICE_OK && (o->start || o->end) && ri < p->cfg->nres; ri++) {
        const struct sl_resource_cfg *r = &p->cfg->resources[ri];
        if (!selected(r, o->resources) || !r->incremental)
            continue;
        const char *path = sl_json_str(sl_json_get(r->incremental, "cursor_path"));
        const struct sl_json *src = sl_json_get(sl_json_get(st, "sources"), r->source);
        const struct sl_json *rstate = sl_json_get(sl_json_get(src, "resources"), r->name);
        const struct sl_json *like =
            window_like(sl_json_get(r->incremental, "initial_value"), rstate, path);
        rc = check_window(p, r, path, like, o->start, "start");
        if (rc == SLUICE_OK)
            rc = check_window(p, r, path, like, o->end, "end");
    }
    return rc;
}

/* The resource's entry in the run's trace: items kept, items the source produced, and the
 * cursor range this run covered (start_value: where it started, last_value: where the next
 * run will start, end_value: a backfill's end). */
static void trace_resource(struct sluice_pipeline *p, const struct sl_resource_cfg *r,
                           const struct extract_res *er, const char *cursor_path)
{
    static const char *const which[] = { "start_value", "last_value", "end_value" };
    if (!p->trace)
        return;
    struct sl_json *o = sl_json_new_object();
    int bad = !o || sl_json_obj_put_str(o, "name", r->name) ||
              sl_json_obj_put_int(o, "items", er->items) ||
              sl_json_obj_put_int(o, "items_read", er->seen);
    if (!bad && er->inc && cursor_path) {
        struct sl_json *inc = sl_json_obj_setdefault(o, "incremental", SL_JSON_OBJECT);
        bad = !inc || sl_json_obj_put_str(inc, "cursor_path", cursor_path);
        for (size_t i = 0; !bad && i < 3; i++)
            bad = put_copy(inc, which[i], sl_incremental_value(er->inc, which[i]));
    }
    struct sl_json *sc = !bad && er->nstreams
                             ? sl_json_obj_setdefault(o, "stream_cursors", SL_JSON_ARRAY)
                             : NULL;
    if (!bad && er->nstreams && !sc)
        bad = 1;
    for (size_t s = 0; !bad && s < er->nstreams; s++) {
        struct sl_json e;
        sl_json_set_object(&e);
        bad = sl_json_obj_put_str(&e, "stream", er->streams[s].stream) ||
              sl_json_obj_put_str(&e, "cursor_path", er->streams[s].icfg.cursor_path);
        for (size_t i = 0; !bad && i < 2; i++)
            bad = put_copy(&e, which[i], sl_incremental_value(er->streams[s].inc, which[i]));
        if (bad || !sl_json_arr_push_take(sc, &e)) {
            sl_json_clear(&e);
            bad = 1;
        }
    }
    if (bad) {
        sl_json_free(o);
        o = NULL;
    }
    sl_trace_add(p, "resources", o);
}

/* How a resource takes part in this extraction (REST parents and children). */
struct plan {
    const char *const *names;   /* --resource names, or NULL */
    char *run;                  /* per resource: 1 extract, 2 run only to feed children */
    char **spool;               /* per resource: the file of its kept items, or NULL */
};

/* Extract one resource into the package: its item file, its state and incremental. */
static sluice_status extract_one(struct sluice_pipeline *p, size_t ri, const char *xdir,
                                 size_t index, enum sl_write_disposition wd,
                                 const struct sl_extract_opts *o, struct sl_json *st,
                                 struct sl_pipe *pipe, const struct plan *plan,
                                 struct extract_res *er)
{
    const struct sl_resource_cfg *r = &p->cfg->resources[ri];
    sluice_status rc = SLUICE_OK;
    struct sl_incremental_cfg icfg;
    int have_icfg = 0;
    char *path = sl_aprintf("%s/%zu.items", xdir, index);
    char *state_path = sl_aprintf("%s/%zu.state.json", xdir, index);
    const char *parent_items = NULL;
    memset(er, 0, sizeof(*er));
    er->p = p;
    er->cfg = r;
    er->pipe = pipe;
    er->feed_only = plan->run[ri] == 2;
    sl_buf_init(&er->line, 0);
    if (!path || !state_path) {
        rc = sl_nomem(&p->ctx);
        goto done;
    }
    if (r->from == SL_FROM_REST && r->rest->parent) {
        for (size_t k = 0; k < ri && !parent_items; k++)
            if (strcmp(p->cfg->resources[k].name, r->rest->parent) == 0 &&
                strcmp(p->cfg->resources[k].source, r->source) == 0)
                parent_items = plan->spool[k];
        if (!parent_items) {
            rc = sl_fail_at(&p->ctx, SLUICE_ERR_INTERNAL, r->name, -1, NULL,
                            "the parent %s of resource %s did not run before it",
                            r->rest->parent, r->name);
            goto done;
        }
    }
    if (plan->spool[ri]) {
        er->spool_path = plan->spool[ri];
        er->spool = fopen(er->spool_path, "wb");
        if (!er->spool) {
            rc = sl_fail(&p->ctx, SLUICE_ERR_IO, "cannot create '%s'", er->spool_path);
            goto done;
        }
    }
    er->state = st;
    er->rstate = sl_state_resource(st, r->source, r->name);
    if (!er->rstate) {
        rc = sl_fail(&p->ctx, SLUICE_ERR_STATE,
                     "state of resource '%s' in source '%s' is not an object", r->name,
                     r->source);
        goto done;
    }
    /* delete-insert without keys appends (scd2 needs none, the others need a primary key);
     * a Singer resource gets its keys from its SCHEMA messages */
    int ms = sl_merge_strategy_parse(r->merge_strategy);
    int singer = r->format && strcmp(r->format, "singer") == 0;
    if (wd == SL_WD_MERGE && (ms < 0 || ms == SL_MERGE_DELETE_INSERT) && r->n_pk == 0 &&
        r->n_mk == 0 && !singer)
        sl_log(&p->ctx, SLUICE_LOG_WARN,
               "resource %s: merge without primary_key or merge_key loads as append", r->name);
    if (wd == SL_WD_REPLACE && !er->feed_only) {
        /* a full refresh: the resource starts from scratch, incremental included (spec 2.10) */
        sl_json_clear(er->rstate);
        sl_json_set_object(er->rstate);
    }
    if (r->incremental) {
        rc = sl_incremental_cfg_parse(&p->ctx, r->name, r->incremental, &icfg);
        if (rc != SLUICE_OK)
            goto done;
        have_icfg = 1;
        if (p->gens[ri].last_value_fn) {
            icfg.func = SL_INC_CUSTOM;
            icfg.custom_fn = custom_last_value;
            icfg.custom_ud = &p->gens[ri];
        }
        const struct sl_json *like = window_like(icfg.initial_value, er->rstate,
                                                 icfg.cursor_path);
        struct sl_json *wstart = NULL, *wend = NULL;
        if (coerce_window(o->start, like, &wstart) || coerce_window(o->end, like, &wend)) {
            sl_json_free(wstart);
            rc = sl_nomem(&p->ctx);
            goto done;
        }
        /* a window for this run (--start, --end, a scheduler's interval) is a backfill: even
         * --start alone (from there to now) neither reads the stored cursor nor moves it, and
         * the start is taken as given (no lag) */
        int window = o->start || o->end;
        if (window)
            icfg.has_lag = false;
        rc = sl_incremental_bind(&p->ctx, &icfg, r->name, r->primary_key, r->n_pk, r->pk_is_list,
                                 window ? NULL : er->rstate, wstart, wend, &er->inc);
        sl_json_free(wstart);
        sl_json_free(wend);
        if (rc != SLUICE_OK)
            goto done;
    } else if (o->start || o->end) {
        sl_log(&p->ctx, SLUICE_LOG_WARN,
               "resource %s has no incremental: the backfill window does not apply to it",
               r->name);
    }
    if (!er->feed_only)
        rc = sl_recfile_create(&p->ctx, path, &er->rf);
    if (rc != SLUICE_OK)
        goto done;
    if (pipe && !er->feed_only) {
        int64_t mn = r->max_table_nesting >= 0 ? r->max_table_nesting : p->cfg->max_table_nesting;
        struct sl_json *snap = resource_snapshot(r, wd, mn, index, 0, NULL);
        rc = snap ? sl_pipe_add_resource(pipe, snap, &er->follow) : sl_nomem(&p->ctx);
        sl_json_free(snap);
        if (rc != SLUICE_OK)
            goto done;
    }
    sl_log(&p->ctx, SLUICE_LOG_DEBUG, "extracting resource %s%s", r->name,
           er->feed_only ? " (for its children only)" : "");
    if (!er->feed_only)
        sl_run_progress(p, "extract", r->name, 0, p->run_items, 0);
    if (sl_run_interrupted(p))
        rc = stop_extracting(p, r->name);
    else
        rc = run_resource(p, ri, er, state_path, parent_items);
    if (rc != SLUICE_OK && sl_run_interrupted(p))
        rc = stop_extracting(p, r->name);
    else if (rc != SLUICE_OK && er->closed && (rc == EARLY_STOP || p->ctx.code == SLUICE_OK ||
                                               p->ctx.code == EARLY_STOP)) {
        /* the incremental stopped the source early (row_order): a normal end */
        sl_ctx_clear(&p->ctx);
        rc = SLUICE_OK;
        sl_log(&p->ctx, SLUICE_LOG_INFO, "resource %s: stopped reading early, the rest is out "
                                         "of the incremental range", r->name);
    }
    if (rc != SLUICE_OK) {
        sl_fail_locate(&p->ctx, r->name, -1, NULL);
        goto done;
    }
    if (er->spool) {
        int bad = fclose(er->spool) != 0;
        er->spool = NULL;
        if (bad) {
            rc = sl_fail(&p->ctx, SLUICE_ERR_IO, "cannot write '%s'", er->spool_path);
            goto done;
        }
    }
    if (!er->feed_only)
        rc = sl_recfile_close(&p->ctx, &er->rf, 0);
    if (rc == SLUICE_OK && !er->feed_only)
        rc = publish(er, 1);
    if (rc == SLUICE_OK && er->inc)
        rc = sl_incremental_commit(er->inc);
    if (rc == SLUICE_OK && !er->feed_only) {
}

    for (size_t i = 0; rc == SLUICE_OK && i < er->nstreams; i++)
        rc = sl_incremental_commit(er->streams[i].inc);
    if (rc == SLUICE_OK) {
        sl_run_progress(p, "extract", r->name, er->items, p->run_items + er->items, 0);
        trace_resource(p, r, er, have_icfg ? icfg.cursor_path : NULL);
    }
done:
    if (er->spool)
        fclose(er->spool);
    er->spool = NULL;
    sl_buf_cleanup(&er->line);
    if (er->rf.f)
        sl_recfile_abort(&er->rf);
    free_streams(er);
    sl_incremental_free(&er->inc);
    if (have_icfg)
        sl_incremental_cfg_cleanup(&icfg);
    sl_free(path);
    sl_free(state_path);
    return rc;
}

/* Is table t filled by one of the selected resources? */
static int table_of_selected(const struct sluice_pipeline *p, const struct sl_table *t,
                             const char *const *names)
{
    if (!t->resource)
        return 0;
    for (size_t i = 0; i < p->cfg->nres; i++) {
        const struct sl_resource_cfg *r = &p->cfg->resources[i];
        if (selected(r, names) && strcmp(r->name, t->resource) == 0)
            return 1;
    }
    return 0;
}

/*
 * Plan a refresh (spec 2.10) into the manifest and wipe state in the working copy. Tables
 * are only dropped or truncated by the load of this package, in its transaction: a failing
 * extract or normalize changes nothing at the destination.
 *   drop_sources   every table of the schema dropped; the selected sources' state wiped
 *   drop_resources the selected resources' tables dropped and their state wiped
 *   drop_data      the selected resources' tables truncated and their state wiped
 */
static sluice_status plan_refresh(struct sluice_pipeline *p, const struct sl_extract_opts *o,
                                  struct sl_json *st, struct sl_json *manifest)
{
    const char *mode = o->refresh;
    int all = strcmp(mode, "drop_sources") == 0;
    if (!all && strcmp(mode, "drop_resources") != 0 && strcmp(mode, "drop_data") != 0)
        return sl_fail(&p->ctx, SLUICE_ERR_CONFIG,
                       "refresh mode '%s' must be one of drop_sources, drop_resources, drop_data",
                       mode);
    struct sl_json *rf = sl_json_obj_setdefault(manifest, "refresh", SL_JSON_OBJECT);
    struct sl_json *tables = rf ? sl_json_obj_setdefault(rf, "tables", SL_JSON_ARRAY) : NULL;
    if (!tables || sl_json_obj_put_str(rf, "mode", mode))
        return sl_nomem(&p->ctx);
    for (size_t i = 0; p->schema && i < p->schema->ntables; i++) {
        const struct sl_table *t = p->schema->tables[i];
        if (!all && !table_of_selected(p, t, o->resources))
            continue;
        struct sl_json v;
        if (sl_json_set_str(&v, t->name, strlen(t->name)))
            return sl_nomem(&p->ctx);
        if (!sl_json_arr_push_take(tables, &v))
            return sl_nomem(&p->ctx);
    }
    for (size_t i = 0; i < p->cfg->nres; i++) {
        const struct sl_resource_cfg *r = &p->cfg->resources[i];
        if (!selected(r, o->resources))
            continue;
        struct sl_json *target = all ? sl_state_source(st, r->source)
                                     : sl_state_resource(st, r->source, r->name);
        if (!target)
            return sl_fail(&p->ctx, SLUICE_ERR_STATE, "state of source '%s' is not an object",
                           r->source);
        sl_json_clear(target);
        sl_json_set_object(target);
        if (all && !sl_json_obj_setdefault(target, "resources", SL_JSON_OBJECT))
            return sl_nomem(&p->ctx);
    }
    sl_log(&p->ctx, SLUICE_LOG_INFO, "refresh %s: %u table(s) will be %s with this load", mode,
           tables->len, strcmp(mode, "drop_data") == 0 ? "truncated" : "dropped");
    return SLUICE_OK;
}

/* What a merge resource asks of the destination and of its keys, checked before anything is
 * extracted (dlt checks the keys when it loads; a run that cannot load should not start). */
static sluice_status check_merge(struct sluice_pipeline *p, const struct sl_resource_cfg *r)
{
    int ms = sl_merge_strategy_parse(r->merge_strategy);
    enum sl_merge_strategy s = ms < 0 ? SL_MERGE_DELETE_INSERT : (enum sl_merge_strategy)ms;
    const char *name = sl_merge_strategy_name(s);
    if (!(p->dm->merge_strategies & SL_MERGE_BIT(s)))
        return sl_fail_at(&p->ctx, SLUICE_ERR_CONFIG, r->name, -1, NULL,
                          "the %s destination does not support the merge strategy '%s' yet",
                          p->dm->name, name);
    if (s != SL_MERGE_UPSERT && s != SL_MERGE_INSERT_ONLY)
        return SLUICE_OK;
    if (!sl_resource_cfg_has_pk(r))
        return sl_fail_at(&p->ctx, SLUICE_ERR_CONFIG, r->name, -1, NULL,
                          "the merge strategy '%s' needs a primary_key", name);
    if (r->n_mk)
        sl_log(&p->ctx, SLUICE_LOG_WARN,
               "resource %s: merge_key is ignored by the merge strategy '%s'", r->name, name);
    return SLUICE_OK;
}

/* Which resources run: the selected ones, and the REST parents of running children (to feed
 * them; nothing of such a parent is loaded); which keep their items for children. */
static sluice_status plan_make(struct sluice_pipeline *p, const struct sl_extract_opts *o,
                               const char *xdir, struct plan *plan)
{
    size_t n = p->cfg->nres;
    plan->names = o->resources;
    plan->run = sl_calloc(n ? n : 1, 1);
    plan->spool = sl_calloc(n ? n : 1, sizeof(*plan->spool));
    if (!plan->run || !plan->spool)
        return sl_nomem(&p->ctx);
    for (size_t i = 0; i < n; i++)
        plan->run[i] = selected(&p->cfg->resources[i], o->resources) ? 1 : 0;
    /* parents come before their children (config order), so one backward pass is enough */
    for (size_t i = n; i-- > 0;) {
        const struct sl_resource_cfg *r = &p->cfg->resources[i];
        if (!plan->run[i] || r->from != SL_FROM_REST || !r->rest->parent)
            continue;
        for (size_t k = 0; k < i; k++) {
            const struct sl_resource_cfg *pr = &p->cfg->resources[k];
            if (strcmp(pr->name, r->rest->parent) != 0 || strcmp(pr->source, r->source) != 0)
                continue;
            if (!plan->run[k])
                plan->run[k] = 2;
            if (!plan->spool[k]) {
                plan->spool[k] = sl_aprintf("%s/parent-%zu.jsonl", xdir, k);
                if (!plan->spool[k])
                    return sl_nomem(&p->ctx);
            }
            break;
        }
    }
    return SLUICE_OK;
}

static void plan_cleanup(struct sluice_pipeline *p, struct plan *plan)
{
    for (size_t i = 0; plan->spool && i < p->cfg->nres; i++) {
        if (plan->spool[i])
            remove(plan->spool[i]);
        sl_free(plan->spool[i]);
    }
    sl_free(plan->spool);
    sl_free(plan->run);
    memset(plan, 0, sizeof(*plan));
}

sluice_status sl_extract(struct sluice_pipeline *p, const char *load_id,
                         const struct sl_extract_opts *o, int *created)
{
    *created = 0;
    sluice_status rc = SLUICE_OK;
    char *dir = o->packages_dir ? sl_aprintf("%s/%s", o->packages_dir, load_id)
                                : sl_aprintf("%s/load/%s", p->workdir, load_id);
    char *xdir = dir ? sl_aprintf("%s/extracted", dir) : NULL;
    struct sl_json *manifest = sl_json_new_object();
    struct sl_json *st = sl_json_dup(p->state);
    struct extract_res er;
    memset(&er, 0, sizeof(er));
    struct sl_pipe *pipe = NULL;
    int64_t total_items = 0;
    int any_replace = 0;
    struct plan plan = { NULL, NULL, NULL };
    if (!dir || !xdir || !manifest || !st) {
        rc = sl_nomem(&p->ctx);
        goto done;
    }
    if (o->resources) {
        for (size_t i = 0; o->resources[i]; i++) {
            size_t j;
            for (j = 0; j < p->cfg->nres; j++)
                if (strcmp(p->cfg->resources[j].name, o->resources[i]) == 0)
                    break;
            if (j == p->cfg->nres) {
                rc = sl_fail(&p->ctx, SLUICE_ERR_CONFIG, "no resource named '%s' in pipeline '%s'",
                             o->resources[i], p->cfg->pipeline_name);
                goto done;
            }
        }
    }
    for (size_t ri = 0; ri < p->cfg->nres; ri++) {
        const struct sl_resource_cfg *r = &p->cfg->resources[ri];
        bool merge = o->wd_override ? sl_wd_parse(o->wd_override) == SL_WD_MERGE
                                    : r->wd == SL_WD_MERGE;
        if (selected(r, o->resources) && merge) {
            rc = check_merge(p, r);
            if (rc != SLUICE_OK)
                goto done;
        }
    }
    rc = check_windows(p, o, st);
    if (rc == SLUICE_OK)
        rc = sl_fs_mkdirs(&p->ctx, xdir);
    if (rc != SLUICE_OK)
        goto done;
    struct sl_json *list = sl_json_obj_setdefault(manifest, "resources", SL_JSON_ARRAY);
    if (!list || sl_json_obj_put_str(manifest, "load_id", load_id) ||
        sl_json_obj_put_str(manifest, "pipeline_name", p->cfg->pipeline_name)) {
        rc = sl_nomem(&p->ctx);
        goto done;
    }
    if (o->refresh) {
        rc = plan_refresh(p, o, st, manifest);
        if (rc != SLUICE_OK)
            goto done;
    }
    if (o->work) {
        /* tables a refresh drops start over: this package re-creates them from its data */
        const struct sl_json *rf = sl_json_get(manifest, "refresh");
        const char *mode = sl_json_str(sl_json_get(rf, "mode"));
        const struct sl_json *drop = sl_json_get(rf, "tables");
        if (mode && strcmp(mode, "drop_data") != 0 && drop && drop->type == SL_JSON_ARRAY)
            for (uint32_t i = 0; i < drop->len; i++)
                sl_schema_remove(o->work, sl_json_str(&drop->u.items[i]));
        rc = sl_pipe_start(p, dir, load_id, o->work, o->loadpipe, &pipe);
        if (rc != SLUICE_OK)
            goto done;
    }
    rc = plan_make(p, o, xdir, &plan);
    if (rc != SLUICE_OK)
        goto done;
    size_t index = 0;
    for (size_t ri = 0; ri < p->cfg->nres; ri++) {
        const struct sl_resource_cfg *r = &p->cfg->resources[ri];
        if (!plan.run[ri])
            continue;
        enum sl_write_disposition wd = r->wd;
        if (o->wd_override)
            wd = (enum sl_write_disposition)sl_wd_parse(o->wd_override);
        rc = extract_one(p, ri, xdir, index, wd, o, st, pipe, &plan, &er);
        if (rc != SLUICE_OK) {
            if (er.norm_failed) {
                sl_ctx_clear(&p->ctx); /* the normalize thread's error is the cause */
                rc = SLUICE_ERR_INTERNAL; /* replaced by it in sl_pipe_finish below */
            }
            goto done;
        }
        /* dlt keeps no entry for a resource that never had state */
        struct sl_json *rs = sl_state_resource(st, r->source, r->name);
        if (rs && rs->type == SL_JSON_OBJECT && rs->len == 0) {
            struct sl_json *src = sl_state_source(st, r->source);
            sl_json_obj_del(sl_json_get_mut(src, "resources"), r->name);
        }
        if (plan.run[ri] == 2)
            continue; /* ran only to feed its children: nothing of it is loaded */
        int64_t max_nesting = r->max_table_nesting >= 0 ? r->max_table_nesting
                                                        : p->cfg->max_table_nesting;
        char sum[SL_CHECKSUM_TEXT];
        sl_checksum_text(er.rf.sum, sum);
        struct sl_json *snap = resource_snapshot(r, wd, max_nesting, index, er.items, sum);
        if (!snap || !sl_json_arr_push_take(list, snap)) {
            sl_json_free(snap);
            rc = sl_nomem(&p->ctx);
            goto done;
        }
        sl_free(snap); /* contents moved into the list */
        total_items += er.items;
        p->run_items += er.items;
        if (wd == SL_WD_REPLACE)
            any_replace = 1;
        index++;
    }
    sl_run_progress(p, "extract", "", total_items, p->run_items, 1);
    /* the state travels with the package when it changed (it is committed with the data) */
    bool changed = false;
    char before[45] = "", after[45] = "";
    rc = sl_state_hash(&p->ctx, p->state, before);
    if (rc == SLUICE_OK)
        rc = sl_state_hash(&p->ctx, st, after);
    if (rc != SLUICE_OK)
        goto done;
    if (strcmp(before, after) != 0) {
        /* the state this package was extracted from: the load commits only if the
         * destination still has it (compare-and-swap against other writers) */
        const char *base = sl_json_str(sl_json_get(p->state, "_version_hash"));
        const struct sl_json *bver = sl_json_get(p->state, "_state_version");
        struct sl_json *sb = sl_json_obj_setdefault(manifest, "state_base", SL_JSON_OBJECT);
        struct sl_json v;
        sl_json_set_int(&v, bver && bver->type == SL_JSON_INT ? bver->u.i : 0);
        if (!sb || sl_json_obj_put_str(sb, "version_hash", base) ||
            !sl_json_obj_set_take(sb, "version", &v)) {
            rc = sl_nomem(&p->ctx);
            goto done;
        }
        rc = sl_state_bump(&p->ctx, st, &changed);
        if (rc != SLUICE_OK)
            goto done;
        sl_json_obj_del(st, "_local");
        if (!sl_json_obj_set_take(manifest, "state", st)) {
            rc = sl_nomem(&p->ctx);
            goto done;
        }
        sl_free(st); /* contents moved */
        st = NULL;
        changed = true;
    }
    if (total_items == 0 && !any_replace && !changed && !o->refresh) {
        if (pipe)
            sl_pipe_finish(&pipe, 1, NULL, NULL);
        rc = sl_fs_rmtree(&p->ctx, dir);
        goto done;
    }
    const char *stage = "extracted";
    if (pipe) {
        /* the normalize thread followed the extraction: the package is normalized too */
        struct sl_json *tables = NULL;
        char schema_sum[SL_CHECKSUM_TEXT];
        sl_pipe_extract_done(pipe);
        rc = sl_pipe_finish(&pipe, 0, &tables, schema_sum);
        if (rc != SLUICE_OK)
            goto done;
        sl_normalize_report(p, tables);
        if (sl_json_obj_put_str(manifest, "schema_checksum", schema_sum) ||
            !sl_json_obj_set_take(manifest, "tables", tables)) {
            sl_json_free(tables);
            rc = sl_nomem(&p->ctx);
            goto done;
        }
        sl_free(tables); /* contents moved */
        stage = "normalized";
    }
    if (sl_json_obj_put_str(manifest, "stage", stage)) {
        rc = sl_nomem(&p->ctx);
        goto done;
    }
    SL_FAULT_POINT("extract.before_manifest");
    rc = sl_manifest_write(&p->ctx, dir, manifest);
    if (rc == SLUICE_OK)
        *created = 1;
done:
    if (er.rf.f)
        sl_recfile_abort(&er.rf);
    if (pipe) {
        /* an error above: stop the normalize thread (its own error wins if it failed first) */
        sluice_status prc =
            sl_pipe_finish(&pipe, rc != SLUICE_OK && !er.norm_failed, NULL, NULL);
        if (rc == SLUICE_OK || er.norm_failed)
            rc = prc != SLUICE_OK ? prc : rc;
    }
    plan_cleanup(p, &plan);
    if (rc != SLUICE_OK && dir) {
        struct sl_ctx scratch;
        sl_ctx_init(&scratch);
        sl_fs_rmtree(&scratch, dir);
    }
    sl_json_free(st);
    sl_json_free(manifest);
    sl_free(dir);
    sl_free(xdir);
    return rc;
}
