/*
 * extract.c — the extract stage (see extract.h).
 *
 * For each resource an item file is written by one sink shared by all source kinds (command,
 * file, C generator). The manifest records, next to the file, a snapshot of the settings the
 * normalizer needs (disposition, keys, table name, column hints), so a pending package is
 * normalized and loaded exactly as it was meant even if the config changed in between.
 */
#include "extract.h"

#include <string.h>

#include "alloc.h"
#include "fs.h"
#include "json.h"
#include "package.h"
#include "source.h"

struct sluice_yield {
    struct sluice_pipeline *p;
    struct extract_res *er;
};

struct extract_res {
    struct sluice_pipeline *p;
    const struct sl_resource_cfg *cfg;
    struct sl_recfile rf;
    int64_t items;
    int64_t next_item_no;   /* for generator items */
    double last_report;
};

static sluice_status on_item(void *ud, const struct sl_json *item, int64_t item_no, int64_t line,
                             const char *table)
{
    struct extract_res *er = ud;
    struct sluice_pipeline *p = er->p;
    if (item->type != SL_JSON_OBJECT)
        return sl_fail_at(&p->ctx, SLUICE_ERR_DATA_JSON, er->cfg->name, item_no, NULL,
                          "item %lld is a JSON %s, expected an object", (long long)item_no,
                          sl_json_type_name((enum sl_json_type)item->type));
    sluice_status rc = sl_item_write(&p->ctx, &er->rf, item, item_no, line, table);
    if (rc != SLUICE_OK)
        return rc;
    er->items++;
    if ((er->items & 8191) == 0) {
        double now = sl_now();
        if (now - er->last_report > 0.1) {
            er->last_report = now;
            sl_pipeline_progress(p, "extract", er->cfg->name, er->items, -1, 0);
        }
    }
    return SLUICE_OK;
}

/* ---- C generators ----------------------------------------------------------------------- */

struct yield_parse {
    struct extract_res *er;
};

static sluice_status yield_value(void *ud, struct sl_json *v, int64_t index, int64_t line)
{
    struct yield_parse *yp = ud;
    struct extract_res *er = yp->er;
    (void)index;
    (void)line;
    er->next_item_no++;
    return on_item(er, v, er->next_item_no, er->next_item_no, NULL);
}

sluice_status sl_extract_yield_json(struct sluice_yield *y, const char *json, size_t len)
{
    struct sluice_pipeline *p = y->p;
    struct yield_parse yp = { y->er };
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

sluice_status sl_extract_yield_fail(struct sluice_yield *y, const char *message)
{
    struct sluice_pipeline *p = y->p;
    sl_fail_at(&p->ctx, SLUICE_ERR_SOURCE, y->er->cfg->name, -1, NULL, "%s",
               message ? message : "generator failed");
    sl_fail_origin(&p->ctx, "generator", NULL);
    return SLUICE_ERR_SOURCE;
}

/* ---- manifest snapshot ------------------------------------------------------------------ */

static int put_str(struct sl_json *obj, const char *key, const char *s)
{
    struct sl_json v;
    if (!s) {
        sl_json_set_null(&v);
    } else if (sl_json_set_str(&v, s, strlen(s))) {
        return -1;
    }
    return sl_json_obj_set_take(obj, key, &v) ? 0 : -1;
}

static int put_int(struct sl_json *obj, const char *key, int64_t i)
{
    struct sl_json v;
    sl_json_set_int(&v, i);
    return sl_json_obj_set_take(obj, key, &v) ? 0 : -1;
}

static int put_list(struct sl_json *obj, const char *key, char *const *items, size_t n)
{
    struct sl_json *arr = sl_json_obj_setdefault(obj, key, SL_JSON_ARRAY);
    if (!arr)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct sl_json v;
        if (sl_json_set_str(&v, items[i], strlen(items[i])) || !sl_json_arr_push_take(arr, &v))
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

static struct sl_json *resource_snapshot(const struct sl_resource_cfg *r, enum sl_write_disposition wd,
                                         int64_t max_nesting, size_t index, int64_t items)
{
    struct sl_json *o = sl_json_new_object();
    if (!o)
        return NULL;
    char file[64];
    snprintf(file, sizeof(file), "extracted/%zu.items", index);
    int bad = put_str(o, "name", r->name) || put_str(o, "source", r->source) ||
              put_str(o, "write_disposition", sl_wd_name(wd)) ||
              put_list(o, "primary_key", r->primary_key, r->n_pk) ||
              put_list(o, "merge_key", r->merge_key, r->n_mk) ||
              put_str(o, "table_name", r->table_name) || put_copy(o, "columns", r->columns) ||
              put_int(o, "max_table_nesting", max_nesting) || put_str(o, "file", file) ||
              put_int(o, "items", items);
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

static sluice_status run_resource(struct sluice_pipeline *p, size_t ri, struct extract_res *er)
{
    const struct sl_resource_cfg *r = &p->cfg->resources[ri];
    struct sl_source_sink sink = { on_item, NULL, NULL, er };
    switch (r->from) {
    case SL_FROM_FILE:
        return sl_source_file_run(&p->ctx, r, p->cfg->base_dir, &sink);
    case SL_FROM_COMMAND: {
        struct sl_source_env env = { NULL, NULL };
        return sl_source_command_run(&p->ctx, r, p->cfg->base_dir, &env, &sink);
    }
    case SL_FROM_NONE:
    default: {
        struct sl_generator *g = &p->gens[ri];
        if (!g->fn)
            return sl_fail_at(&p->ctx, SLUICE_ERR_CONFIG, r->name, -1, NULL,
                              "resource '%s' has no source (from: command or file)", r->name);
        struct sluice_yield y = { p, er };
        sluice_status rc = g->fn(&y, g->ctx);
        if (rc != SLUICE_OK && p->ctx.code == SLUICE_OK) {
            sl_fail_at(&p->ctx, rc, r->name, -1, NULL, "generator of resource '%s' failed: %s",
                       r->name, sluice_status_str(rc));
            sl_fail_origin(&p->ctx, "generator", NULL);
        }
        return rc;
    }
    }
}

sluice_status sl_extract(struct sluice_pipeline *p, const char *load_id,
                         const char *const *resources, const char *wd_override, int *created)
{
    *created = 0;
    sluice_status rc = SLUICE_OK;
    char *dir = sl_aprintf("%s/load/%s", p->workdir, load_id);
    char *xdir = sl_aprintf("%s/load/%s/extracted", p->workdir, load_id);
    char *mpath = sl_aprintf("%s/load/%s/manifest.json", p->workdir, load_id);
    struct sl_json *manifest = sl_json_new_object();
    char *text = NULL;
    struct extract_res er;
    memset(&er, 0, sizeof(er));
    int64_t total_items = 0;
    int any_replace = 0;
    if (!dir || !xdir || !mpath || !manifest) {
        rc = sl_nomem(&p->ctx);
        goto done;
    }
    if (resources) {
        for (size_t i = 0; resources[i]; i++) {
            size_t j;
            for (j = 0; j < p->cfg->nres; j++)
                if (strcmp(p->cfg->resources[j].name, resources[i]) == 0)
                    break;
            if (j == p->cfg->nres) {
                rc = sl_fail(&p->ctx, SLUICE_ERR_CONFIG, "no resource named '%s' in pipeline '%s'",
                             resources[i], p->cfg->pipeline_name);
                goto done;
            }
        }
    }
    rc = sl_fs_mkdirs(&p->ctx, xdir);
    if (rc != SLUICE_OK)
        goto done;
    struct sl_json *list = sl_json_obj_setdefault(manifest, "resources", SL_JSON_ARRAY);
    if (!list || put_str(manifest, "load_id", load_id) ||
        put_str(manifest, "pipeline_name", p->cfg->pipeline_name)) {
        rc = sl_nomem(&p->ctx);
        goto done;
    }
    size_t index = 0;
    for (size_t ri = 0; ri < p->cfg->nres; ri++) {
        const struct sl_resource_cfg *r = &p->cfg->resources[ri];
        if (!selected(r, resources))
            continue;
        enum sl_write_disposition wd = r->wd;
        if (wd_override)
            wd = (enum sl_write_disposition)sl_wd_parse(wd_override);
        if (r->incremental) {
            rc = sl_fail_at(&p->ctx, SLUICE_ERR_CONFIG, r->name, -1, NULL,
                            "incremental loading is not implemented yet (issue #3): remove "
                            "'incremental' from resource '%s'",
                            r->name);
            goto done;
        }
        char *path = sl_aprintf("%s/%zu.items", xdir, index);
        if (!path) {
            rc = sl_nomem(&p->ctx);
            goto done;
        }
        memset(&er, 0, sizeof(er));
        er.p = p;
        er.cfg = r;
        rc = sl_recfile_create(&p->ctx, path, &er.rf);
        sl_free(path);
        if (rc != SLUICE_OK)
            goto done;
        sl_log(&p->ctx, SLUICE_LOG_DEBUG, "extracting resource %s", r->name);
        rc = run_resource(p, ri, &er);
        if (rc != SLUICE_OK) {
            sl_fail_locate(&p->ctx, r->name, -1, NULL);
            goto done;
        }
        rc = sl_recfile_close(&p->ctx, &er.rf, 1);
        if (rc != SLUICE_OK)
            goto done;
        sl_pipeline_progress(p, "extract", r->name, er.items, -1, 1);
        int64_t max_nesting = r->max_table_nesting >= 0 ? r->max_table_nesting
                                                        : p->cfg->max_table_nesting;
        struct sl_json *snap = resource_snapshot(r, wd, max_nesting, index, er.items);
        if (!snap || !sl_json_arr_push_take(list, snap)) {
            sl_json_free(snap);
            rc = sl_nomem(&p->ctx);
            goto done;
        }
        sl_free(snap); /* contents moved into the list */
        total_items += er.items;
        if (wd == SL_WD_REPLACE)
            any_replace = 1;
        index++;
    }
    p->run_items += total_items;
    if (total_items == 0 && !any_replace) {
        rc = sl_fs_rmtree(&p->ctx, dir);
        goto done;
    }
    if (put_str(manifest, "stage", "extracted")) {
        rc = sl_nomem(&p->ctx);
        goto done;
    }
    text = sl_json_dumps(manifest, SL_JSON_W_PRETTY);
    if (!text) {
        rc = sl_nomem(&p->ctx);
        goto done;
    }
    SL_FAULT_POINT("extract.before_manifest");
    rc = sl_fs_write_atomic(&p->ctx, mpath, text, strlen(text));
    if (rc == SLUICE_OK)
        *created = 1;
done:
    if (er.rf.f)
        sl_recfile_abort(&er.rf);
    if (rc != SLUICE_OK && dir) {
        struct sl_ctx scratch;
        sl_ctx_init(&scratch);
        sl_fs_rmtree(&scratch, dir);
    }
    sl_free(text);
    sl_json_free(manifest);
    sl_free(dir);
    sl_free(xdir);
    sl_free(mpath);
    return rc;
}
