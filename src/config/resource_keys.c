/*
 * resource_keys.c — the settings of one resource (from, write_disposition, keys, table_name,
 * columns, nesting, selected, incremental), shared by the file loader (config.c) and the C
 * API (sl_resource_cfg_set), so both obey the same rules.
 *
 * One setter per key, in one table. Each setter validates its value completely before it
 * touches the struct, so a failed set leaves the resource as it was.
 */
#include "config.h"

#include <string.h>

#include "base/alloc.h"
#include "config/check.h"
#include "config/resource_keys.h"
#include "model/normalize.h"

static const char *const wd_names[] = { "append", "replace", "merge", NULL };
/* dlt 1.31's strategies, in sl_merge_strategy order (index + 1); cdc is known but not built */
static const char *const merge_strategies[] = { "delete-insert", "upsert", "insert-only", "scd2",
                                                "cdc",           NULL };
enum { MS_SCD2 = 3, MS_CDC = 4 };
static const char *const from_formats[] = { "jsonl", "singer", NULL };
static const char *const data_types[] = { "text", "bigint", "double", "bool",   "timestamp",
                                          "date", "json",   "decimal", "time", "binary",
                                          "wei",  NULL };
static const char *const sort_orders[] = { "asc", "desc", NULL };
static const char *const last_value_funcs[] = { "max", "min", NULL };
static const char *const missing_modes[] = { "raise", "include", "exclude", NULL };
static const char *const range_starts[] = { "closed", "open", NULL };
static const char *const range_ends[] = { "open", "closed", NULL };

static const struct sl_check_field from_fields[] = {
    { "command", SL_CHECK_STR, NULL, 0, false, false },
    { "file", SL_CHECK_STR, NULL, 0, false, false },
    { "format", SL_CHECK_ENUM, from_formats, 0, false, false },
    { "timeout", SL_CHECK_NUM, NULL, 0, false, true },
    { NULL, SL_CHECK_ANY, NULL, 0, false, false }
};
enum { FROM_COMMAND, FROM_FILE, FROM_FORMAT, FROM_TIMEOUT };

static const struct sl_check_field wd_fields[] = {
    { "disposition", SL_CHECK_ENUM, wd_names, 0, true, false },
    { "strategy", SL_CHECK_ENUM, merge_strategies, 0, false, false },
    { "validity_column_names", SL_CHECK_ANY, NULL, 0, false, false },
    { "active_record_timestamp", SL_CHECK_STR, NULL, 0, false, true },
    { "boundary_timestamp", SL_CHECK_STR, NULL, 0, false, true },
    { "row_version_column_name", SL_CHECK_STR, NULL, 0, false, false },
    { "deduplicated", SL_CHECK_BOOL, NULL, 0, false, false },
    { "skip_unchanged_rows", SL_CHECK_BOOL, NULL, 0, false, false },
    { "source_filter", SL_CHECK_STR, NULL, 0, false, false },
    { "destination_scope", SL_CHECK_STR, NULL, 0, false, false },
    { NULL, SL_CHECK_ANY, NULL, 0, false, false }
};
enum {
    WD_DISPOSITION,
    WD_STRATEGY,
    WD_VALIDITY,
    WD_ACTIVE,
    WD_BOUNDARY,
    WD_ROW_VERSION,
    WD_DEDUPLICATED,   /* dlt 1.31 keys sluice does not implement yet: from here on */
    WD_SKIP_UNCHANGED,
    WD_SOURCE_FILTER,
    WD_DESTINATION_SCOPE,
    WD_NFIELDS
};

static const struct sl_check_field column_fields[] = {
    { "data_type", SL_CHECK_ENUM, data_types, 0, false, false },
    { "nullable", SL_CHECK_BOOL, NULL, 0, false, false },
    { "primary_key", SL_CHECK_BOOL, NULL, 0, false, false },
    { "merge_key", SL_CHECK_BOOL, NULL, 0, false, false },
    { "hard_delete", SL_CHECK_BOOL, NULL, 0, false, false },
    { "dedup_sort", SL_CHECK_ENUM, sort_orders, 0, false, false },
    { NULL, SL_CHECK_ANY, NULL, 0, false, false }
};

static const struct sl_check_field incremental_fields[] = {
    { "cursor_path", SL_CHECK_STR, NULL, 0, true, false },
    { "initial_value", SL_CHECK_SCALAR, NULL, 0, false, false },
    { "end_value", SL_CHECK_SCALAR, NULL, 0, false, false },
    { "last_value_func", SL_CHECK_ENUM, last_value_funcs, 0, false, false },
    { "lag", SL_CHECK_NUM, NULL, 0, false, false },
    { "primary_key", SL_CHECK_KEYLIST, NULL, 0, false, false },
    { "on_cursor_value_missing", SL_CHECK_ENUM, missing_modes, 0, false, false },
    { "row_order", SL_CHECK_ENUM, sort_orders, 0, false, true },
    { "range_start", SL_CHECK_ENUM, range_starts, 0, false, false },
    { "range_end", SL_CHECK_ENUM, range_ends, 0, false, false },
    { "assume_tz", SL_CHECK_STR, NULL, 0, false, false },
    { "max_unique_hashes", SL_CHECK_INT, NULL, 1, false, false },
    { NULL, SL_CHECK_ANY, NULL, 0, false, false }
};

static const struct sl_check_field nesting_field = { "max_table_nesting", SL_CHECK_INT, NULL, 0,
                                                     false, false };
static const struct sl_check_field bool_field = { "", SL_CHECK_BOOL, NULL, 0, false, false };
static const struct sl_check_field str_field = { "", SL_CHECK_STR, NULL, 0, false, false };

/* Replace *slot by a copy of s (NULL stays NULL); 0 ok, -1 no memory (slot untouched). */
static int replace_str(char **slot, const char *s)
{
    char *d = NULL;
    if (s) {
        d = sl_strdup(s);
        if (!d)
            return -1;
    }
    sl_free(*slot);
    *slot = d;
    return 0;
}

static sluice_status set_from(struct sl_check *c, struct sl_resource_cfg *r, struct sl_json *v)
{
    struct sl_check_value val[4];
    char *ncmd = NULL, *nfile = NULL, *nfmt = NULL;

    if (v->type != SL_JSON_OBJECT)
        return sl_check_type(c, v, "a mapping with 'command' or 'file'");
    sluice_status rc = sl_check_fields(c, v, from_fields, val);
    if (rc != SLUICE_OK)
        return rc;
    if (val[FROM_COMMAND].present == val[FROM_FILE].present)
        return sl_check_err(c, v, "'%s' must have exactly one of 'command' or 'file'",
                            sl_check_rel(c));
    size_t fmt = val[FROM_FORMAT].idx;
    if (fmt == 1 && !val[FROM_COMMAND].present)
        return sl_check_err(c, sl_json_get(v, "format"), "'%s.format' singer needs a 'command'",
                            sl_check_rel(c));
    /* seconds a command may run before it is stopped (checked as a number >= 0 above) */
    const struct sl_json *tv = val[FROM_TIMEOUT].present ? sl_json_get(v, "timeout") : NULL;
    double timeout = tv ? sl_json_num(tv) : 0;
    if (tv && !val[FROM_COMMAND].present)
        return sl_check_err(c, tv, "'%s.timeout' applies to a 'command' only", sl_check_rel(c));
    if (tv && !(timeout > 0))
        return sl_check_err(c, tv, "'%s.timeout' must be a number of seconds above 0",
                            sl_check_rel(c));
    if (replace_str(&ncmd, val[FROM_COMMAND].s) || replace_str(&nfile, val[FROM_FILE].s) ||
        replace_str(&nfmt, from_formats[fmt])) {
        sl_free(ncmd);
        sl_free(nfile);
        sl_free(nfmt);
        return sl_nomem(c->ctx);
    }
    sl_free(r->command);
    sl_free(r->file);
    sl_free(r->format);
    r->command = ncmd;
    r->file = nfile;
    r->format = nfmt;
    r->timeout = timeout;
    r->from = val[FROM_COMMAND].present ? SL_FROM_COMMAND : SL_FROM_FILE;
    return SLUICE_OK;
}

/* An scd2 timestamp setting: an ISO 8601 date or datetime, as dlt's ensure_datetime reads it. */
static sluice_status check_timestamp(struct sl_check *c, struct sl_json *wd, const char *key,
                                     const struct sl_check_value *val)
{
    if (!val->present)
        return SLUICE_OK;
    char utc[48];
    if (sl_iso_instant_canonical(val->s, utc, sizeof(utc)))
        return SLUICE_OK;
    return sl_check_err(c, sl_json_get(wd, key), "'%s.%s' must be an ISO 8601 date or datetime",
                        sl_check_rel(c), key);
}

/* validity_column_names: a list of exactly two column names (from, to). */
static sluice_status check_validity(struct sl_check *c, struct sl_json *wd, const char **from,
                                    const char **to)
{
    const struct sl_json *v = sl_json_get(wd, "validity_column_names");
    *from = *to = NULL;
    if (!v)
        return SLUICE_OK;
    if (v->type != SL_JSON_ARRAY || v->len != 2 || !sl_json_str(&v->u.items[0]) ||
        !sl_json_str(&v->u.items[1]) || !*sl_json_str(&v->u.items[0]) ||
        !*sl_json_str(&v->u.items[1]))
        return sl_check_err(c, v, "'%s.validity_column_names' must be a list of two column names",
                            sl_check_rel(c));
    *from = sl_json_str(&v->u.items[0]);
    *to = sl_json_str(&v->u.items[1]);
    return SLUICE_OK;
}

/* The mapping form {disposition, strategy, ...}: every key checked, then the merge options
 * stored in o (NULL when not merge). *wd and *strategy (index into merge_strategies, -1 none)
 * are set. */
static sluice_status wd_mapping(struct sl_check *c, struct sl_json *v, size_t *wd,
                                long *strategy, struct sl_merge_opts *o)
{
    struct sl_check_value val[WD_NFIELDS];
    const char *from = NULL, *to = NULL;
    *strategy = -1;
    /* the strategy first: an unsupported one is the most useful thing to say */
    struct sl_json *s = sl_json_get_mut(v, "strategy");
    sluice_status rc = sl_check_child(c, v, &wd_fields[WD_STRATEGY], &val[WD_STRATEGY]);
    if (rc == SLUICE_OK && s && val[WD_STRATEGY].idx == MS_CDC)
        rc = sl_check_err(c, s, "merge strategy 'cdc' is not supported yet");
    if (rc == SLUICE_OK)
        rc = sl_check_fields(c, v, wd_fields, val);
    if (rc != SLUICE_OK)
        return rc;
    *wd = val[WD_DISPOSITION].idx;
    if (s)
        *strategy = (long)val[WD_STRATEGY].idx;
    for (size_t f = WD_STRATEGY; f < WD_NFIELDS; f++) {
        const char *key = wd_fields[f].key;
        struct sl_json *at = sl_json_get_mut(v, key);
        if (!at)
            continue;
        if (*wd != SL_WD_MERGE)
            return sl_check_err(c, at, "'%s.%s' applies only to 'merge'", sl_check_rel(c), key);
        if (f >= WD_DEDUPLICATED)
            return sl_check_err(c, at, "'%s.%s' is not supported yet", sl_check_rel(c), key);
        if (f != WD_STRATEGY && *strategy != MS_SCD2)
            return sl_check_err(c, at, "'%s.%s' applies only to the 'scd2' strategy",
                                sl_check_rel(c), key);
    }
    rc = check_validity(c, v, &from, &to);
    if (rc == SLUICE_OK)
        rc = check_timestamp(c, v, "active_record_timestamp", &val[WD_ACTIVE]);
    if (rc == SLUICE_OK)
        rc = check_timestamp(c, v, "boundary_timestamp", &val[WD_BOUNDARY]);
    if (rc != SLUICE_OK)
        return rc;
    const char *src[5] = { from, to, val[WD_ROW_VERSION].present ? val[WD_ROW_VERSION].s : NULL,
                           val[WD_ACTIVE].present ? val[WD_ACTIVE].s : NULL,
                           val[WD_BOUNDARY].present ? val[WD_BOUNDARY].s : NULL };
    char **dst[5] = { &o->valid_from, &o->valid_to, &o->row_version, &o->active_ts,
                      &o->boundary_ts };
    for (size_t i = 0; i < 5; i++)
        if (replace_str(dst[i], src[i]))
            return sl_nomem(c->ctx);
    return SLUICE_OK;
}

static sluice_status set_wd(struct sl_check *c, struct sl_resource_cfg *r, struct sl_json *v)
{
    struct sl_check_value val;
    struct sl_merge_opts opts;
    size_t wd = 0;
    long strategy = -1;
    sluice_status rc;

    memset(&opts, 0, sizeof(opts));
    if (v->type == SL_JSON_OBJECT) {
        rc = wd_mapping(c, v, &wd, &strategy, &opts);
    } else {
        rc = sl_check_value(c, v, &wd_fields[WD_DISPOSITION], &val);
        wd = val.idx;
    }
    if (rc == SLUICE_OK &&
        replace_str(&r->merge_strategy, strategy >= 0 ? merge_strategies[strategy] : NULL))
        rc = sl_nomem(c->ctx);
    if (rc != SLUICE_OK) {
        sl_merge_opts_cleanup(&opts);
        return rc;
    }
    sl_merge_opts_cleanup(&r->merge);
    r->merge = opts;
    r->wd = (enum sl_write_disposition)wd;
    return SLUICE_OK;
}

/* Replace the list at *list / *n by the checked value of v. */
static sluice_status store_keylist(struct sl_check *c, struct sl_json *v, char ***list, size_t *n)
{
    char **nl = NULL;
    size_t nn = 0;
    sluice_status rc = sl_check_keylist(c, v, &nl, &nn);
    if (rc != SLUICE_OK)
        return rc;
    sl_strv_free(*list, *n);
    *list = nl;
    *n = nn;
    return SLUICE_OK;
}

static sluice_status set_primary_key(struct sl_check *c, struct sl_resource_cfg *r,
                                     struct sl_json *v)
{
    sluice_status rc = store_keylist(c, v, &r->primary_key, &r->n_pk);
    if (rc == SLUICE_OK)
        r->pk_is_list = v->type == SL_JSON_ARRAY;
    return rc;
}

static sluice_status set_merge_key(struct sl_check *c, struct sl_resource_cfg *r,
                                   struct sl_json *v)
{
    return store_keylist(c, v, &r->merge_key, &r->n_mk);
}

static sluice_status set_table_name(struct sl_check *c, struct sl_resource_cfg *r,
                                    struct sl_json *v)
{
    struct sl_check_value val;
    sluice_status rc = sl_check_value(c, v, &str_field, &val);
    if (rc != SLUICE_OK)
        return rc;
    if (replace_str(&r->table_name, val.s))
        return sl_nomem(c->ctx);
    return SLUICE_OK;
}

static sluice_status set_columns(struct sl_check *c, struct sl_resource_cfg *r,
                                 struct sl_json *v)
{
    sluice_status rc = SLUICE_OK;
    if (v->type != SL_JSON_OBJECT)
        return sl_check_type(c, v, "a mapping of column names to hints");
    for (uint32_t i = 0; i < v->len && rc == SLUICE_OK; i++) {
        struct sl_json_member *m = &v->u.members[i];
        size_t old = sl_check_push(c, m->key);
        if (m->val.type != SL_JSON_OBJECT)
            rc = sl_check_type(c, &m->val, "a mapping of column hints");
        else
            rc = sl_check_fields(c, &m->val, column_fields, NULL);
        sl_check_pop(c, old);
    }
    if (rc != SLUICE_OK)
        return rc;
    return sl_check_store_json(c, v, &r->columns);
}

static sluice_status set_max_table_nesting(struct sl_check *c, struct sl_resource_cfg *r,
                                           struct sl_json *v)
{
    struct sl_check_value val;
    sluice_status rc = sl_check_value(c, v, &nesting_field, &val);
    if (rc == SLUICE_OK)
        r->max_table_nesting = val.i;
    return rc;
}

static sluice_status set_selected(struct sl_check *c, struct sl_resource_cfg *r,
                                  struct sl_json *v)
{
    struct sl_check_value val;
    sluice_status rc = sl_check_value(c, v, &bool_field, &val);
    if (rc == SLUICE_OK)
        r->selected = val.b;
    return rc;
}

/* null removes the incremental (dlt's incremental=None). */
static sluice_status set_incremental(struct sl_check *c, struct sl_resource_cfg *r,
                                     struct sl_json *v)
{
    if (v->type == SL_JSON_NULL)
        return sl_check_store_json(c, v, &r->incremental);
    if (v->type != SL_JSON_OBJECT)
        return sl_check_type(c, v, "a mapping");
    sluice_status rc = sl_check_fields(c, v, incremental_fields, NULL);
    if (rc != SLUICE_OK)
        return rc;
    return sl_check_store_json(c, v, &r->incremental);
}

typedef sluice_status (*resource_setter)(struct sl_check *, struct sl_resource_cfg *,
                                         struct sl_json *);

static const char *const resource_keys[] = {
    "from",      "write_disposition", "primary_key", "merge_key",   "table_name",
    "columns",   "max_table_nesting", "selected",    "incremental", NULL
};
static const resource_setter resource_setters[] = {
    set_from,    set_wd,         set_primary_key, set_merge_key, set_table_name,
    set_columns, set_max_table_nesting, set_selected, set_incremental
};
_Static_assert(sizeof(resource_keys) / sizeof(resource_keys[0]) - 1 ==
                   sizeof(resource_setters) / sizeof(resource_setters[0]),
               "one setter per resource key");

sluice_status sl_cfg_set_resource_key(struct sl_check *c, struct sl_resource_cfg *r,
                                      const char *key, struct sl_json *v)
{
    long k = sl_cfg_list_index(key, resource_keys);
    if (k < 0)
        return sl_check_unknown(c, v, key, resource_keys);
    size_t old = sl_check_push(c, key);
    sluice_status rc = resource_setters[k](c, r, v);
    sl_check_pop(c, old);
    return rc;
}

sluice_status sl_resource_cfg_set(struct sl_ctx *ctx, struct sl_resource_cfg *r, const char *key,
                                  const struct sl_json *value)
{
    struct sl_check c;

    if (!r || !key || !value)
        return sl_fail(ctx, SLUICE_ERR_INVALID_ARG, "sl_resource_cfg_set: NULL argument");
    memset(&c, 0, sizeof(c));
    c.ctx = ctx;
    c.api = true;
    c.resource = r->name;
    if (sl_cfg_list_index(key, resource_keys) < 0)
        return sl_check_unknown(&c, value, key, resource_keys);
    struct sl_json *copy = sl_json_dup(value);
    if (!copy)
        return sl_nomem(ctx);
    sluice_status rc = sl_cfg_set_resource_key(&c, r, key, copy);
    sl_json_free(copy);
    return rc;
}
