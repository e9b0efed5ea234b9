/*
 * dry_run.c — what a run would load (see dry_run.h).
 *
 * The package's normalized schema (normalized/schema.json) says which tables and columns the
 * load would create or add; comparing it with the pipeline's current schema marks the new
 * ones. The rows per table come from the manifest.
 */
#include "run/dry_run.h"

#include <string.h>

#include "base/alloc.h"
#include "base/fs.h"
#include "model/schema.h"
#include "run/trace.h"

char *sl_dry_run_dir(const struct sluice_pipeline *p)
{
    return sl_aprintf("%s/dry-run", p->workdir);
}

static sluice_status read_package_schema(struct sluice_pipeline *p, const char *dir,
                                         struct sl_schema **out)
{
    char *path = sl_aprintf("%s/normalized/schema.json", dir);
    char *text = NULL;
    size_t len = 0;
    struct sl_json *j = NULL;
    *out = NULL;
    sluice_status rc = path ? sl_fs_read(&p->ctx, path, &text, &len) : sl_nomem(&p->ctx);
    if (rc == SLUICE_ERR_NOT_FOUND)
        rc = sl_fail(&p->ctx, SLUICE_ERR_STATE, "the dry run's package has no schema");
    if (rc == SLUICE_OK)
        rc = sl_json_parse_heap(&p->ctx, text, len, &j);
    if (rc == SLUICE_OK)
        rc = sl_schema_from_json(&p->ctx, j, out);
    sl_json_free(j);
    sl_free(text);
    sl_free(path);
    return rc;
}

/* One table's entry: rows, disposition, parent, columns with the new ones marked. */
static int table_entry(struct sl_json *o, const struct sl_table *t, const struct sl_table *old,
                       int64_t rows)
{
    struct sl_json v;
    if (sl_json_obj_put_str(o, "name", t->name) || sl_json_obj_put_int(o, "rows", rows) ||
        sl_json_obj_put_str(o, "write_disposition", sl_wd_name(t->wd)) ||
        sl_json_obj_put_str(o, "parent", t->parent))
        return -1;
    sl_json_set_bool(&v, old == NULL);
    if (!sl_json_obj_set_take(o, "new", &v))
        return -1;
    struct sl_json *cols = sl_json_obj_setdefault(o, "columns", SL_JSON_ARRAY);
    if (!cols)
        return -1;
    for (size_t i = 0; i < t->ncols; i++) {
        const struct sl_column *c = &t->cols[i];
        if (c->type == SL_DT_NONE)
            continue; /* no value seen yet: the load would not create it */
        struct sl_json co;
        sl_json_set_object(&co);
        struct sl_json isnew;
        sl_json_set_bool(&isnew, !old || sl_table_col(old, c->name) < 0);
        if (sl_json_obj_put_str(&co, "name", c->name) ||
            sl_json_obj_put_str(&co, "data_type", sl_dtype_name(c->type)) ||
            !sl_json_obj_set_take(&co, "new", &isnew) || !sl_json_arr_push_take(cols, &co)) {
            sl_json_clear(&co);
            return -1;
        }
    }
    return 0;
}

sluice_status sl_dry_run_report(struct sluice_pipeline *p, const char *dir,
                                const struct sl_json *m)
{
    struct sl_schema *s = NULL;
    sluice_status rc = read_package_schema(p, dir, &s);
    if (rc != SLUICE_OK)
        return rc;
    struct sl_json *report = sl_json_new_object();
    struct sl_json *tables = NULL;
    struct sl_json changed;
    sl_json_set_bool(&changed, sl_json_get(m, "state") != NULL);
    if (report && !sl_json_obj_put_str(report, "load_id",
                                       sl_json_str(sl_json_get(m, "load_id"))) &&
        sl_json_obj_set_take(report, "state_changed", &changed))
        tables = sl_json_obj_setdefault(report, "tables", SL_JSON_ARRAY);
    if (!tables) {
        rc = sl_nomem(&p->ctx);
        goto done;
    }
    const struct sl_json *mt = sl_json_get(m, "tables");
    for (uint32_t i = 0; mt && i < mt->len; i++) {
        const char *name = sl_json_str(sl_json_get(&mt->u.items[i], "name"));
        const struct sl_json *rows = sl_json_get(&mt->u.items[i], "rows");
        const struct sl_table *t = name ? sl_schema_find(s, name) : NULL;
        if (!t)
            continue;
        const struct sl_table *old = p->schema ? sl_schema_find(p->schema, name) : NULL;
        struct sl_json o;
        sl_json_set_object(&o);
        if (table_entry(&o, t, old, rows && rows->type == SL_JSON_INT ? rows->u.i : 0) ||
            !sl_json_arr_push_take(tables, &o)) {
            sl_json_clear(&o);
            rc = sl_nomem(&p->ctx);
            goto done;
        }
    }
    sl_trace_put(p, "would_load", report);
    report = NULL;
done:
    sl_json_free(report);
    sl_schema_free(&s);
    return rc;
}
