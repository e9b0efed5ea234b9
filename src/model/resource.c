/*
 * resource.c — lifecycle of the configured pipeline and resource structs (see resource.h).
 */
#include "model/resource.h"

#include <string.h>

#include "base/alloc.h"

void sl_pipeline_cfg_free(struct sl_pipeline_cfg **cfgp)
{
    if (!cfgp || !*cfgp)
        return;
    struct sl_pipeline_cfg *cfg = *cfgp;
    for (size_t i = 0; i < cfg->nres; i++)
        sl_resource_cfg_cleanup(&cfg->resources[i]);
    sl_free(cfg->resources);
    sl_free(cfg->path);
    sl_free(cfg->base_dir);
    sl_free(cfg->pipeline_name);
    sl_free(cfg->dest_type);
    sl_free_secret(cfg->dest_path);
    sl_free_secret(cfg->dest_dsn);
    sl_free(cfg->dataset);
    sl_free(cfg);
    *cfgp = NULL;
}

int sl_resource_cfg_init(struct sl_resource_cfg *r, const char *source, const char *name)
{
    memset(r, 0, sizeof(*r));
    r->wd = SL_WD_APPEND;
    r->max_table_nesting = -1;
    r->root_key = -1;
    r->selected = true;
    r->source = sl_strdup(source);
    r->name = sl_strdup(name);
    if ((source && !r->source) || (name && !r->name)) {
        sl_resource_cfg_cleanup(r);
        return -1;
    }
    return 0;
}

void sl_resource_cfg_cleanup(struct sl_resource_cfg *r)
{
    if (!r)
        return;
    sl_free(r->source);
    sl_free(r->name);
    sl_free(r->command);
    sl_free(r->file);
    sl_rest_resource_free(r->rest);
    sl_free(r->format);
    sl_free(r->merge_strategy);
    sl_merge_opts_cleanup(&r->merge);
    sl_strv_free(r->primary_key, r->n_pk);
    sl_strv_free(r->merge_key, r->n_mk);
    sl_free(r->table_name);
    sl_json_free(r->columns);
    sl_json_free(r->incremental);
    memset(r, 0, sizeof(*r));
    r->max_table_nesting = -1;
    r->root_key = -1;
}

void sl_merge_opts_cleanup(struct sl_merge_opts *o)
{
    if (!o)
        return;
    sl_free(o->valid_from);
    sl_free(o->valid_to);
    sl_free(o->row_version);
    sl_free(o->active_ts);
    sl_free(o->boundary_ts);
    memset(o, 0, sizeof(*o));
}

bool sl_resource_cfg_has_pk(const struct sl_resource_cfg *r)
{
    if (r->n_pk)
        return true;
    const struct sl_json *cols = r->columns;
    for (uint32_t i = 0; cols && cols->type == SL_JSON_OBJECT && i < cols->len; i++) {
        const struct sl_json *pk = sl_json_get(&cols->u.members[i].val, "primary_key");
        if (pk && pk->type == SL_JSON_BOOL && pk->u.b)
            return true;
    }
    return false;
}
