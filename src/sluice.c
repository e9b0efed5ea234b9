/*
 * sluice.c — the public entry points (include/sluice.h).
 *
 * Every entry point validates its handle, clears the previous error, calls into the library
 * and leaves through api_exit(), which makes sure a failure always carries a message (the
 * exit funnel of STYLE.md section 3).
 */
#include "sluice.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "config.h"
#include "base/error.h"
#include "run/extract.h"
#include "base/fs.h"
#include "destinations/destination.h"
#include "run/pipeline.h"
#include "run/trace.h"

static sluice_status api_exit(struct sluice_pipeline *p, sluice_status rc)
{
    if (rc != SLUICE_OK && p->ctx.code == SLUICE_OK)
        sl_fail(&p->ctx, rc, "%s", sluice_status_str(rc));
    if (rc == SLUICE_OK && p->ctx.code != SLUICE_OK)
        rc = p->ctx.code; /* an error recorded but not returned: report it */
    return rc;
}

sluice_status sluice_global_init(void) { return SLUICE_OK; }
void sluice_global_cleanup(void) {}
void sluice_free(void *ptr) { sl_free(ptr); }

int sluice_destination_available(const char *type)
{
    return sl_destination_find(type) != NULL;
}

static sluice_status new_handle(sluice_pipeline **out)
{
    *out = sl_calloc(1, sizeof(**out));
    if (!*out)
        return SLUICE_ERR_NOMEM;
    sl_ctx_init(&(*out)->ctx);
    (*out)->lock_fd = -1;
    return SLUICE_OK;
}

/* "sqlite:PATH", "duckdb:PATH", "postgres://..." or a bare path. */
static sluice_status parse_destination(struct sl_ctx *ctx, const char *url,
                                       struct sl_pipeline_cfg *cfg)
{
    if (!url || !url[0])
        return sl_fail(ctx, SLUICE_ERR_INVALID_ARG, "destination is empty");
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) {
        cfg->dest_type = sl_strdup("postgres");
        cfg->dest_dsn = sl_strdup(url);
    } else {
        const char *colon = strchr(url, ':');
        const char *path = url;
        if (colon && colon - url < 16 && colon[1] != '\\') {
            cfg->dest_type = sl_strndup(url, (size_t)(colon - url));
            path = colon + 1;
            if (cfg->dest_type && strncmp(colon, ":///", 4) == 0)
                path = sl_cfg_file_url_path(cfg->dest_type, url); /* dlt's URL form */
            else
                while (path[0] == '/' && path[1] == '/')
                    path++;
        } else {
            cfg->dest_type = sl_strdup("sqlite");
        }
        cfg->dest_path = sl_fs_abspath(NULL, path);
    }
    return cfg->dest_type ? SLUICE_OK : sl_nomem(ctx);
}

sluice_status sluice_pipeline_open(sluice_pipeline **out, const char *name,
                                   const char *destination, const char *dataset)
{
    if (!out)
        return SLUICE_ERR_INVALID_ARG;
    sluice_status rc = new_handle(out);
    if (rc != SLUICE_OK)
        return rc;
    struct sluice_pipeline *p = *out;
    if (!name || !name[0])
        return api_exit(p, sl_fail(&p->ctx, SLUICE_ERR_INVALID_ARG, "pipeline name is empty"));
    struct sl_pipeline_cfg *cfg = sl_calloc(1, sizeof(*cfg));
    if (!cfg)
        return api_exit(p, sl_nomem(&p->ctx));
    cfg->max_table_nesting = -1;
    cfg->pipeline_name = sl_strdup(name);
    cfg->dataset = dataset ? sl_strdup(dataset) : sl_aprintf("%s_dataset", name);
    cfg->base_dir = sl_fs_abspath(NULL, ".");
    rc = parse_destination(&p->ctx, destination, cfg);
    if (rc == SLUICE_OK && (!cfg->pipeline_name || !cfg->dataset || !cfg->base_dir))
        rc = sl_nomem(&p->ctx);
    if (rc != SLUICE_OK) {
        sl_pipeline_cfg_free(&cfg);
        return api_exit(p, rc);
    }
    return api_exit(p, sl_pipeline_create(p, cfg));
}

/* A new handle whose config comes from load(arg): a config file or a working dir. */
/* Read <workdir>/pipeline.json of an existing pipeline into a config (no resources). */
static sluice_status cfg_from_workdir(struct sl_ctx *ctx, const char *name,
                                     struct sl_pipeline_cfg **out)
{
    *out = NULL;
    if (!sl_pipeline_name_ok(name))
        return sl_fail(ctx, SLUICE_ERR_INVALID_ARG, "pipeline name '%s' is not valid", name);
    char *wd = sl_pipeline_workdir(name);
    char *path = wd ? sl_aprintf("%s/pipeline.json", wd) : NULL;
    char *text = NULL;
    size_t len = 0;
    struct sl_json *j = NULL;
    struct sl_pipeline_cfg *cfg = NULL;
    sluice_status rc = path ? sl_fs_read(ctx, path, &text, &len) : sl_nomem(ctx);
    if (rc == SLUICE_ERR_NOT_FOUND) {
        rc = sl_fail(ctx, SLUICE_ERR_NOT_FOUND,
                     "no pipeline named '%s' in '%s' (run it first, or set SLUICE_PIPELINES_DIR)",
                     name, wd);
        goto done;
    }
    if (rc == SLUICE_OK)
        rc = sl_json_parse_heap(ctx, text, len, &j);
    if (rc != SLUICE_OK)
        goto done;
    /* The config file, when it is still there, gives the resources (the schema's name) and
     * the secrets (dsn) that pipeline.json deliberately does not keep; the destination is the
     * one the last run used, as pipeline.json records it: the run may have had environment
     * overrides (DESTINATION__PATH, DATASET_NAME) this process does not have. */
    const char *config = sl_json_str(sl_json_get(j, "config"));
    if (config && sl_fs_exists(config)) {
        /* a config that no longer loads (an unset ${VAR} a source needs, say) must not
         * stop info/query: fall back to what pipeline.json records */
        struct sl_ctx scratch;
        sl_ctx_init(&scratch);
        if (sl_config_load(&scratch, config, &cfg) == SLUICE_OK &&
            strcmp(cfg->pipeline_name, name) != 0)
            sl_pipeline_cfg_free(&cfg);
        static const char *const keys[] = { "destination_type", "destination_path",
                                            "dataset_name", "base_dir" };
        for (size_t i = 0; cfg && i < sizeof(keys) / sizeof(keys[0]); i++) {
            const char *used = sl_json_str(sl_json_get(j, keys[i]));
            char **slot = i == 0 ? &cfg->dest_type
                          : i == 1 ? &cfg->dest_path
                          : i == 2 ? &cfg->dataset
                                   : &cfg->base_dir;
            char *copy = used ? sl_strdup(used) : NULL;
            if (used && !copy) {
                sl_pipeline_cfg_free(&cfg);
                rc = sl_nomem(ctx);
                goto done;
            }
            if (used) {
                sl_free(*slot);
                *slot = copy;
            }
        }
    }
    if (!cfg) {
        cfg = sl_calloc(1, sizeof(*cfg));
        if (!cfg) {
            rc = sl_nomem(ctx);
            goto done;
        }
        cfg->max_table_nesting = -1;
        cfg->pipeline_name = sl_strdup(name);
        cfg->dest_type = sl_strdup(sl_json_str(sl_json_get(j, "destination_type")));
        cfg->dest_path = sl_strdup(sl_json_str(sl_json_get(j, "destination_path")));
        cfg->dataset = sl_strdup(sl_json_str(sl_json_get(j, "dataset_name")));
        cfg->base_dir = sl_strdup(sl_json_str(sl_json_get(j, "base_dir")));
        cfg->path = sl_strdup(config);
        /* a server's dsn is a secret pipeline.json does not keep: without the config, the
         * dlt-style variables still give it */
        const char *dsn = getenv("DESTINATION__POSTGRES__CREDENTIALS");
        if (!dsn || !dsn[0])
            dsn = getenv("DESTINATION__CREDENTIALS");
        if (cfg->dest_type && strcmp(cfg->dest_type, "postgres") == 0 && dsn && dsn[0] &&
            !(cfg->dest_dsn = sl_strdup(dsn))) {
            sl_pipeline_cfg_free(&cfg);
            rc = sl_nomem(ctx);
            goto done;
        }
        if (!cfg->pipeline_name || !cfg->dest_type || !cfg->dataset) {
            sl_pipeline_cfg_free(&cfg);
            rc = sl_fail(ctx, SLUICE_ERR_STATE, "'%s' is incomplete", path);
            goto done;
        }
    }
    *out = cfg;
done:
    sl_json_free(j);
    sl_free(text);
    sl_free(path);
    sl_free(wd);
    return rc;
}

static sluice_status open_with(sluice_pipeline **out, const char *arg, const char *what,
                               sluice_status (*load)(struct sl_ctx *, const char *,
                                                     struct sl_pipeline_cfg **))
{
    if (!out)
        return SLUICE_ERR_INVALID_ARG;
    sluice_status rc = new_handle(out);
    if (rc != SLUICE_OK)
        return rc;
    struct sluice_pipeline *p = *out;
    if (!arg)
        return api_exit(p, sl_fail(&p->ctx, SLUICE_ERR_INVALID_ARG, "%s is NULL", what));
    struct sl_pipeline_cfg *cfg = NULL;
    rc = load(&p->ctx, arg, &cfg);
    if (rc != SLUICE_OK)
        return api_exit(p, rc);
    return api_exit(p, sl_pipeline_create(p, cfg));
}

sluice_status sluice_pipeline_open_config(sluice_pipeline **out, const char *config_path)
{
    return open_with(out, config_path, "config path", sl_config_load);
}

sluice_status sluice_pipeline_open_existing(sluice_pipeline **out, const char *name)
{
    return open_with(out, name, "pipeline name", cfg_from_workdir);
}

void sluice_pipeline_close(sluice_pipeline *p)
{
    if (!p)
        return;
    sl_pipeline_destroy(p);
    sl_free(p);
}

const sluice_error *sluice_last_error(const sluice_pipeline *p)
{
    static const sluice_error none = { SLUICE_OK, "", "", "", -1, "", "" };
    if (!p)
        return &none;
    /* the error struct lives in the handle; fill it lazily from the context */
    struct sluice_pipeline *mp = (struct sluice_pipeline *)p;
    sluice_error *e = &mp->err;
    e->code = mp->ctx.code;
    e->origin = mp->ctx.origin;
    e->detail = mp->ctx.detail;
    e->resource = mp->ctx.resource;
    e->item = mp->ctx.item;
    e->field = mp->ctx.field;
    e->message = mp->ctx.message;
    return e;
}

const char *sluice_pipeline_name(const sluice_pipeline *p)
{
    return p && p->cfg && p->cfg->pipeline_name ? p->cfg->pipeline_name : "";
}

const char *sluice_errmsg(const sluice_pipeline *p) { return p ? p->ctx.message : ""; }

void sluice_set_log_cb(sluice_pipeline *p, sluice_log_fn fn, void *ctx)
{
    if (!p)
        return;
    p->ctx.log_fn = fn;
    p->ctx.log_ctx = ctx;
}

void sluice_set_progress_cb(sluice_pipeline *p, sluice_progress_fn fn, void *ctx)
{
    if (!p)
        return;
    p->progress_fn = fn;
    p->progress_ctx = ctx;
}

void sluice_set_source_log_cb(sluice_pipeline *p, sluice_source_log_fn fn, void *ctx)
{
    if (!p)
        return;
    p->source_log_fn = fn;
    p->source_log_ctx = ctx;
}

static long find_resource(struct sluice_pipeline *p, const char *name)
{
    for (size_t i = 0; i < p->cfg->nres; i++)
        if (strcmp(p->cfg->resources[i].name, name) == 0)
            return (long)i;
    return -1;
}

sluice_status sluice_add_resource(sluice_pipeline *p, const char *source, const char *name,
                                  sluice_generator_fn fn, void *ctx)
{
    if (!p)
        return SLUICE_ERR_INVALID_ARG;
    sl_ctx_clear(&p->ctx);
    if (!p->cfg)
        return api_exit(p, sl_fail(&p->ctx, SLUICE_ERR_INVALID_ARG, "pipeline failed to open"));
    if (!name || !name[0] || !fn)
        return api_exit(p, sl_fail(&p->ctx, SLUICE_ERR_INVALID_ARG,
                                   "a resource needs a name and a generator"));
    if (find_resource(p, name) >= 0)
        return api_exit(p, sl_fail(&p->ctx, SLUICE_ERR_INVALID_ARG,
                                   "resource '%s' already exists", name));
    struct sl_pipeline_cfg *cfg = p->cfg;
    struct sl_resource_cfg *nr = sl_realloc(cfg->resources, (cfg->nres + 1) * sizeof(*nr));
    if (!nr)
        return api_exit(p, sl_nomem(&p->ctx));
    cfg->resources = nr;
    struct sl_generator *ng = sl_realloc(p->gens, (cfg->nres + 1) * sizeof(*ng));
    if (!ng)
        return api_exit(p, sl_nomem(&p->ctx));
    p->gens = ng;
    if (sl_resource_cfg_init(&nr[cfg->nres], source ? source : cfg->pipeline_name, name))
        return api_exit(p, sl_nomem(&p->ctx));
    memset(&ng[cfg->nres], 0, sizeof(ng[cfg->nres]));
    ng[cfg->nres].fn = fn;
    ng[cfg->nres].ctx = ctx;
    cfg->nres++;
    return SLUICE_OK;
}

sluice_status sluice_resource_set(sluice_pipeline *p, const char *resource, const char *key,
                                  const char *json_value)
{
    if (!p)
        return SLUICE_ERR_INVALID_ARG;
    sl_ctx_clear(&p->ctx);
    if (!p->cfg || !resource || !key || !json_value)
        return api_exit(p, sl_fail(&p->ctx, SLUICE_ERR_INVALID_ARG, "NULL argument"));
    long i = find_resource(p, resource);
    if (i < 0)
        return api_exit(p, sl_fail(&p->ctx, SLUICE_ERR_INVALID_ARG, "no resource named '%s'",
                                   resource));
    struct sl_json *v = NULL;
    sluice_status rc = sl_json_parse_heap(&p->ctx, json_value, strlen(json_value), &v);
    if (rc != SLUICE_OK) {
        sl_ctx_clear(&p->ctx);
        return api_exit(p, sl_fail(&p->ctx, SLUICE_ERR_CONFIG,
                                   "value of '%s' for resource '%s' is not valid JSON", key,
                                   resource));
    }
    rc = sl_resource_cfg_set(&p->ctx, &p->cfg->resources[i], key, v);
    sl_json_free(v);
    return api_exit(p, rc);
}

sluice_status sluice_yield_json(sluice_yield *y, const char *json, size_t len)
{
    if (!y || !json)
        return SLUICE_ERR_INVALID_ARG;
    return sl_extract_yield_json(y, json, len);
}

sluice_status sluice_yield_fail(sluice_yield *y, const char *message)
{
    if (!y)
        return SLUICE_ERR_INVALID_ARG;
    return sl_extract_yield_fail(y, message);
}

sluice_status sluice_yield_state_get(sluice_yield *y, char **json_out)
{
    if (json_out)
        *json_out = NULL;
    if (!y || !json_out)
        return SLUICE_ERR_INVALID_ARG;
    return sl_extract_yield_state_get(y, json_out);
}

sluice_status sluice_yield_state_set(sluice_yield *y, const char *json)
{
    if (!y || !json)
        return SLUICE_ERR_INVALID_ARG;
    return sl_extract_yield_state_set(y, json);
}

sluice_status sluice_resource_set_last_value_func(sluice_pipeline *p, const char *resource,
                                                  sluice_last_value_fn fn, void *ctx)
{
    if (!p)
        return SLUICE_ERR_INVALID_ARG;
    sl_ctx_clear(&p->ctx);
    if (!p->cfg || !resource)
        return api_exit(p, sl_fail(&p->ctx, SLUICE_ERR_INVALID_ARG, "NULL argument"));
    long i = find_resource(p, resource);
    if (i < 0)
        return api_exit(p, sl_fail(&p->ctx, SLUICE_ERR_INVALID_ARG, "no resource named '%s'",
                                   resource));
    p->gens[i].last_value_fn = fn;
    p->gens[i].last_value_ctx = ctx;
    return SLUICE_OK;
}

sluice_status sluice_yield_source_state_get(sluice_yield *y, char **json_out)
{
    if (json_out)
        *json_out = NULL;
    if (!y || !json_out)
        return SLUICE_ERR_INVALID_ARG;
    return sl_extract_yield_source_state_get(y, json_out);
}

sluice_status sluice_yield_source_state_set(sluice_yield *y, const char *json)
{
    if (!y || !json)
        return SLUICE_ERR_INVALID_ARG;
    return sl_extract_yield_source_state_set(y, json);
}

const char *sluice_yield_incremental(sluice_yield *y, const char *which)
{
    if (!y || !which)
        return NULL;
    return sl_extract_yield_incremental(y, which);
}

sluice_status sluice_yield_out_of_range(sluice_yield *y, int *start_out_of_range,
                                        int *end_out_of_range)
{
    if (!y || !start_out_of_range || !end_out_of_range)
        return SLUICE_ERR_INVALID_ARG;
    sl_extract_yield_out_of_range(y, start_out_of_range, end_out_of_range);
    return SLUICE_OK;
}

sluice_status sluice_pipeline_run(sluice_pipeline *p, const sluice_run_opts *opts,
                                  sluice_run_info *info)
{
    if (!p)
        return SLUICE_ERR_INVALID_ARG;
    sl_ctx_clear(&p->ctx);
    if (!p->cfg)
        return api_exit(p, sl_fail(&p->ctx, SLUICE_ERR_INVALID_ARG, "pipeline failed to open"));
    if (opts && opts->size < offsetof(sluice_run_opts, end_value) + sizeof(opts->end_value))
        return api_exit(p, sl_fail(&p->ctx, SLUICE_ERR_INVALID_ARG,
                                   "sluice_run_opts.size must be set to sizeof(sluice_run_opts)"));
    sluice_status rc = sl_pipeline_run(p, opts);
    atomic_store_explicit(&p->interrupt, 0, memory_order_relaxed);
    if (info) {
        memset(info, 0, sizeof(*info));
        info->load_id = p->load_id;
        info->items = p->run_items;
        info->rows = p->run_rows;
        info->packages_loaded = p->run_packages;
        info->pending_loaded = p->run_pending;
        /* sort tables by name for stable output */
        for (size_t i = 1; i < p->ntinfo; i++) {
            sluice_table_info t = p->tinfo[i];
            size_t j = i;
            while (j > 0 && strcmp(p->tinfo[j - 1].name, t.name) > 0) {
                p->tinfo[j] = p->tinfo[j - 1];
                j--;
            }
            p->tinfo[j] = t;
        }
        info->n_tables = p->ntinfo;
        info->tables = p->tinfo;
        info->elapsed = sl_run_now(p) - p->t0;
    }
    return api_exit(p, rc);
}

void sluice_pipeline_interrupt(sluice_pipeline *p)
{
    /* async-signal-safe: one lock-free atomic add, nothing else (no error, no log) */
    if (p)
        atomic_fetch_add_explicit(&p->interrupt, 1, memory_order_relaxed);
}

sluice_status sluice_pipeline_query(sluice_pipeline *p, const char *sql, sluice_row_fn fn,
                                    void *ctx)
{
    if (!p)
        return SLUICE_ERR_INVALID_ARG;
    sl_ctx_clear(&p->ctx);
    if (!p->cfg || !sql || !fn)
        return api_exit(p, sl_fail(&p->ctx, SLUICE_ERR_INVALID_ARG, "NULL argument"));
    return api_exit(p, sl_pipeline_query(p, sql, fn, ctx));
}

sluice_status sluice_pipeline_query_typed(sluice_pipeline *p, const char *sql,
                                          sluice_typed_row_fn fn, void *ctx)
{
    if (!p)
        return SLUICE_ERR_INVALID_ARG;
    sl_ctx_clear(&p->ctx);
    if (!p->cfg || !sql || !fn)
        return api_exit(p, sl_fail(&p->ctx, SLUICE_ERR_INVALID_ARG, "NULL argument"));
    return api_exit(p, sl_pipeline_query_typed(p, sql, fn, ctx));
}

/* The JSON getters of an open pipeline: one shape, the document from get. */
static sluice_status api_json(sluice_pipeline *p, char **json_out,
                              sluice_status (*get)(struct sluice_pipeline *, char **))
{
    if (json_out)
        *json_out = NULL;
    if (!p || !json_out)
        return SLUICE_ERR_INVALID_ARG;
    sl_ctx_clear(&p->ctx);
    if (!p->cfg)
        return api_exit(p, sl_fail(&p->ctx, SLUICE_ERR_INVALID_ARG, "pipeline failed to open"));
    return api_exit(p, get(p, json_out));
}

sluice_status sluice_pipeline_info_json(sluice_pipeline *p, char **json_out)
{
    return api_json(p, json_out, sl_pipeline_info);
}

sluice_status sluice_pipeline_trace_json(sluice_pipeline *p, char **json_out)
{
    return api_json(p, json_out, sl_trace_json);
}

sluice_status sluice_pipeline_schema_json(sluice_pipeline *p, char **json_out)
{
    return api_json(p, json_out, sl_pipeline_schema);
}

sluice_status sluice_pipelines_json(char **json_out)
{
    if (!json_out)
        return SLUICE_ERR_INVALID_ARG;
    return sl_pipelines_list(json_out);
}

sluice_status sluice_pipeline_pending_json(sluice_pipeline *p, char **json_out)
{
    return api_json(p, json_out, sl_pipeline_pending);
}

sluice_status sluice_pipeline_drop(sluice_pipeline *p, const char *const *resources)
{
    if (!p)
        return SLUICE_ERR_INVALID_ARG;
    sl_ctx_clear(&p->ctx);
    if (!p->cfg)
        return api_exit(p, sl_fail(&p->ctx, SLUICE_ERR_INVALID_ARG, "pipeline failed to open"));
    return api_exit(p, sl_pipeline_drop(p, resources));
}

sluice_status sluice_pipeline_sync(sluice_pipeline *p)
{
    if (!p)
        return SLUICE_ERR_INVALID_ARG;
    sl_ctx_clear(&p->ctx);
    if (!p->cfg)
        return api_exit(p, sl_fail(&p->ctx, SLUICE_ERR_INVALID_ARG, "pipeline failed to open"));
    return api_exit(p, sl_pipeline_sync(p));
}
