/*
 * schema.c — tables, columns, data types and hints, and the schema's JSON form (see schema.h).
 *
 * A schema is a list of tables in creation order; a table is a list of columns in creation
 * order plus an open-addressing index from column name to position, so that column lookup is
 * O(1) on the normalizer's hot path (tables with hundreds of columns are common). Columns and
 * tables are only ever appended while data flows, so a column's index never changes; only
 * sl_schema_remove (a drop) takes a table out. Table lookup is a linear scan: it runs once per
 * table per normalizer (callers cache the table pointer), never per value.
 *
 * The JSON form is dlt's stored-schema layout (engine version 11): columns keep their order,
 * hints are dlt's boolean column properties, child tables carry "parent" and inherit the root
 * table's write disposition and resource (neither is written for them, as dlt does), and the
 * settings/normalizers blocks are the ones dlt writes for its relational normalizer with
 * snake_case names. The version hash is computed exactly as dlt's generate_version_hash does:
 * SHA3-256 over the canonical (sorted keys, compact) JSON without version, version_hash and
 * previous_hashes, followed by every table name (sorted) and its column names in order, so a
 * change in column order is a change of content. Hence the same content hashes the same in
 * sluice and in dlt.
 */
#include "model/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/digest.h"

/* dlt's SCHEMA_ENGINE_VERSION of the layout we write. */
#define SCHEMA_ENGINE_VERSION 11
/* Cap on columns per table: a runaway source (ids used as keys) must fail, not eat memory. */
#define MAX_COLUMNS_PER_TABLE 10000

/* ============================================================================================
 * Names of types and dispositions
 * ========================================================================================== */

static const char *const dtype_names[] = {
    NULL,   "text", "bigint",  "double", "bool",   "timestamp",
    "date", "json", "decimal", "time",   "binary", "wei",
};

const char *sl_dtype_name(enum sl_dtype t)
{
    if ((size_t)t >= sizeof(dtype_names) / sizeof(dtype_names[0]))
        return NULL;
    return dtype_names[t];
}

enum sl_dtype sl_dtype_parse(const char *name)
{
    if (!name)
        return SL_DT_NONE;
    for (size_t i = 1; i < sizeof(dtype_names) / sizeof(dtype_names[0]); i++)
        if (strcmp(dtype_names[i], name) == 0)
            return (enum sl_dtype)i;
    return SL_DT_NONE;
}

static const char *const wd_names[] = { "append", "replace", "merge", "skip" };

const char *sl_wd_name(enum sl_write_disposition wd)
{
    if ((size_t)wd >= sizeof(wd_names) / sizeof(wd_names[0]))
        return NULL;
    return wd_names[wd];
}

int sl_wd_parse(const char *name)
{
    if (!name)
        return -1;
    for (size_t i = 0; i < sizeof(wd_names) / sizeof(wd_names[0]); i++)
        if (strcmp(wd_names[i], name) == 0)
            return (int)i;
    return -1;
}

static const char *const strategy_names[] = { NULL, "delete-insert", "upsert", "insert-only",
                                              "scd2" };

const char *sl_merge_strategy_name(enum sl_merge_strategy st)
{
    if ((size_t)st >= sizeof(strategy_names) / sizeof(strategy_names[0]))
        return NULL;
    return strategy_names[st];
}

int sl_merge_strategy_parse(const char *name)
{
    if (!name)
        return -1;
    for (size_t i = 1; i < sizeof(strategy_names) / sizeof(strategy_names[0]); i++)
        if (strcmp(strategy_names[i], name) == 0)
            return (int)i;
    return -1;
}

/* ============================================================================================
 * Column index
 * ========================================================================================== */

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static sluice_status nomem(struct sl_ctx *ctx)
{
    return ctx ? sl_nomem(ctx) : SLUICE_ERR_NOMEM;
}

/* Insert column i into an index of size `size` (a power of two with a free slot). */
static void index_put(uint32_t *index, size_t size, const struct sl_column *cols, size_t i)
{
    size_t mask = size - 1;
    size_t slot = (size_t)name_hash(cols[i].name) & mask;
    while (index[slot])
        slot = (slot + 1) & mask;
    index[slot] = (uint32_t)(i + 1);
}

/* Rebuild the index with room for `want` columns at a load factor of at most 1/2. */
static int index_rebuild(struct sl_table *t, size_t want)
{
    size_t size = 16;
    while (size < want * 2)
        size *= 2;
    uint32_t *index = sl_calloc(size, sizeof(*index));
    if (!index)
        return -1;
    for (size_t i = 0; i < t->ncols; i++)
        index_put(index, size, t->cols, i);
    sl_free(t->index);
    t->index = index;
    t->index_size = size;
    return 0;
}

long sl_table_col(const struct sl_table *t, const char *name)
{
    if (!t || !name || !t->index_size)
        return -1;
    size_t mask = t->index_size - 1;
    size_t slot = (size_t)name_hash(name) & mask;
    for (;;) {
        uint32_t e = t->index[slot];
        if (!e)
            return -1;
        if (strcmp(t->cols[e - 1].name, name) == 0)
            return (long)(e - 1);
        slot = (slot + 1) & mask;
    }
}

long sl_table_add_col(struct sl_ctx *ctx, struct sl_table *t, const char *name,
                      enum sl_dtype type, bool nullable, uint32_t hints)
{
    long have = sl_table_col(t, name);
    if (have >= 0)
        return have; /* the name is taken: adding is idempotent, the column is unchanged */
    if (t->ncols >= MAX_COLUMNS_PER_TABLE) {
        if (ctx)
            sl_fail(ctx, SLUICE_ERR_DATA_SCHEMA,
                    "table '%s' would get more than %d columns (adding '%s')", t->name,
                    MAX_COLUMNS_PER_TABLE, name);
        return -1;
    }
    if (t->ncols == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 8;
        struct sl_column *cols = sl_realloc(t->cols, ncap * sizeof(*cols));
        if (!cols) {
            nomem(ctx);
            return -1;
        }
        t->cols = cols;
        t->cap = ncap;
    }
    if ((t->ncols + 1) * 2 > t->index_size && index_rebuild(t, t->ncols + 1)) {
        nomem(ctx);
        return -1;
    }
    char *copy = sl_strdup(name);
    if (!copy) {
        nomem(ctx);
        return -1;
    }
    size_t i = t->ncols;
    t->cols[i].name = copy;
    t->cols[i].type = type;
    t->cols[i].nullable = nullable;
    t->cols[i].hints = hints;
    t->cols[i].extra = NULL;
    t->ncols++;
    t->gen++;
    index_put(t->index, t->index_size, t->cols, i);
    return (long)i;
}

/* ============================================================================================
 * Schemas and tables
 * ========================================================================================== */

static void table_free(struct sl_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->ncols; i++) {
        sl_free(t->cols[i].name);
        sl_json_free(t->cols[i].extra);
    }
    sl_free(t->cols);
    sl_free(t->index);
    sl_json_free(t->extra);
    sl_free(t->name);
    sl_free(t->parent);
    sl_free(t->resource);
    sl_free(t->boundary_ts);
    sl_free(t->active_ts);
    sl_free(t);
}

int sl_table_set_ts(char **slot, const char *v)
{
    char *copy = NULL;
    if (v && !(copy = sl_strdup(v)))
        return -1;
    sl_free(*slot);
    *slot = copy;
    return 0;
}

sluice_status sl_schema_new(struct sl_ctx *ctx, const char *name, struct sl_schema **out)
{
    *out = NULL;
    struct sl_schema *s = sl_calloc(1, sizeof(*s));
    if (!s)
        return nomem(ctx);
    s->name = sl_strdup(name ? name : "");
    if (!s->name) {
        sl_free(s);
        return nomem(ctx);
    }
    *out = s;
    return SLUICE_OK;
}

void sl_schema_free(struct sl_schema **sp)
{
    if (!sp || !*sp)
        return;
    struct sl_schema *s = *sp;
    for (size_t i = 0; i < s->ntables; i++)
        table_free(s->tables[i]);
    sl_free(s->tables);
    sl_free(s->name);
    sl_free(s->version_hash);
    sl_json_free(s->prev_hashes);
    sl_json_free(s->extra);
    sl_free(s);
    *sp = NULL;
}

struct sl_table *sl_schema_find(const struct sl_schema *s, const char *table)
{
    if (!s || !table)
        return NULL;
    for (size_t i = 0; i < s->ntables; i++)
        if (strcmp(s->tables[i]->name, table) == 0)
            return s->tables[i];
    return NULL;
}

/* Append a new, empty table (no lookup). NULL when out of memory (ctx set). */
static struct sl_table *table_append(struct sl_ctx *ctx, struct sl_schema *s, const char *name,
                                     const char *parent, const char *resource,
                                     enum sl_write_disposition wd)
{
    if (s->ntables == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 8;
        struct sl_table **tables = sl_realloc(s->tables, ncap * sizeof(*tables));
        if (!tables) {
            nomem(ctx);
            return NULL;
        }
        s->tables = tables;
        s->cap = ncap;
    }
    struct sl_table *t = sl_calloc(1, sizeof(*t));
    if (!t) {
        nomem(ctx);
        return NULL;
    }
    t->wd = wd;
    t->name = sl_strdup(name);
    t->parent = parent ? sl_strdup(parent) : NULL;
    /* dlt's default resource of a root table is the table's own name */
    if (!resource && !parent)
        resource = name;
    t->resource = resource ? sl_strdup(resource) : NULL;
    if (!t->name || (parent && !t->parent) || (resource && !t->resource)) {
        table_free(t);
        nomem(ctx);
        return NULL;
    }
    s->tables[s->ntables++] = t;
    return t;
}

struct sl_table *sl_schema_table(struct sl_ctx *ctx, struct sl_schema *s, const char *name,
                                 const char *parent, const char *resource,
                                 enum sl_write_disposition wd)
{
    struct sl_table *t = sl_schema_find(s, name);
    if (t)
        return t;
    return table_append(ctx, s, name, parent, resource, wd);
}

bool sl_schema_remove(struct sl_schema *s, const char *table)
{
    if (!s || !table)
        return false;
    for (size_t i = 0; i < s->ntables; i++) {
        if (strcmp(s->tables[i]->name, table) == 0) {
            table_free(s->tables[i]);
            memmove(&s->tables[i], &s->tables[i + 1], (s->ntables - i - 1) * sizeof(s->tables[0]));
            s->ntables--;
            return true;
        }
    }
    return false;
}

struct sl_table *sl_schema_root(const struct sl_schema *s, struct sl_table *t)
{
    /* bounded walk: a corrupt parent cycle must not hang us */
    for (size_t hops = 0; t && t->parent && hops <= s->ntables; hops++) {
        struct sl_table *p = sl_schema_find(s, t->parent);
        if (!p)
            break;
        t = p;
    }
    return t;
}

/* ============================================================================================
 * To JSON
 * ========================================================================================== */



static int put_bool(struct sl_json *obj, const char *key, bool b)
{
    struct sl_json v;
    sl_json_set_bool(&v, b);
    return sl_json_obj_set_take(obj, key, &v) ? 0 : -1;
}

static struct sl_json *put_obj(struct sl_json *obj, const char *key)
{
    struct sl_json v;
    sl_json_set_object(&v);
    return sl_json_obj_set_take(obj, key, &v);
}

static struct sl_json *put_arr(struct sl_json *obj, const char *key)
{
    struct sl_json v;
    sl_json_set_array(&v);
    return sl_json_obj_set_take(obj, key, &v);
}

static int push_str(struct sl_json *arr, const char *s)
{
    struct sl_json v;
    if (sl_json_set_str(&v, s, strlen(s)))
        return -1;
    return sl_json_arr_push_take(arr, &v) ? 0 : -1;
}

/* dlt's boolean column properties, in the order dlt writes them. */
static const struct {
    uint32_t bit;
    const char *key;
} bool_hints[] = {
    { SL_HINT_PRIMARY_KEY, "primary_key" }, { SL_HINT_MERGE_KEY, "merge_key" },
    { SL_HINT_HARD_DELETE, "hard_delete" }, { SL_HINT_UNIQUE, "unique" },
    { SL_HINT_ROW_KEY, "row_key" },         { SL_HINT_PARENT_KEY, "parent_key" },
    { SL_HINT_ROOT_KEY, "root_key" },       { SL_HINT_INCREMENTAL, "incremental" },
    { SL_HINT_VARIANT, "variant" },         { SL_HINT_VALID_FROM, "x-valid-from" },
    { SL_HINT_VALID_TO, "x-valid-to" },     { SL_HINT_ROW_VERSION, "x-row-version" },
};

/* *v = a deep copy of src, or an empty value of `type` when src is NULL (v was null). 0 ok, -1
 * out of memory (*v is left null). */
static int copy_or_empty(struct sl_json *v, const struct sl_json *src, enum sl_json_type type)
{
    if (!src) {
        if (type == SL_JSON_ARRAY)
            sl_json_set_array(v);
        else
            sl_json_set_object(v);
        return 0;
    }
    if (sl_json_copy_into(v, src)) {
        sl_json_clear(v); /* a partial copy */
        return -1;
    }
    return 0;
}

/* Start an object at obj[key]: a copy of `like` (the stored JSON as read, so its keys keep
 * their order and dlt's metadata survives) or a new empty object. */
static struct sl_json *put_like(struct sl_json *obj, const char *key, const struct sl_json *like)
{
    struct sl_json v;
    if (copy_or_empty(&v, like && like->type == SL_JSON_OBJECT ? like : NULL, SL_JSON_OBJECT))
        return NULL;
    return sl_json_obj_set_take(obj, key, &v); /* frees v when it fails */
}

static int column_to_json(struct sl_json *cols, const struct sl_table *t,
                          const struct sl_column *c)
{
    struct sl_json *o = put_like(cols, c->name, c->extra);
    if (!o || sl_json_obj_put_str(o, "name", c->name))
        return -1;
    if (c->type != SL_DT_NONE && sl_json_obj_put_str(o, "data_type", sl_dtype_name(c->type)))
        return -1;
    if (put_bool(o, "nullable", c->nullable))
        return -1;
    /* a hint taken away (merge_key: false in the config) is false, not left as read */
    for (size_t i = 0; i < sizeof(bool_hints) / sizeof(bool_hints[0]); i++)
        if (((c->hints & bool_hints[i].bit) || sl_json_get(o, bool_hints[i].key)) &&
            put_bool(o, bool_hints[i].key, (c->hints & bool_hints[i].bit) != 0))
            return -1;
    if (!(c->hints & (SL_HINT_DEDUP_ASC | SL_HINT_DEDUP_DESC)))
        sl_json_obj_del(o, "dedup_sort");
    if ((c->hints & SL_HINT_ROW_VERSION) &&
        ((!(c->hints & SL_HINT_UNIQUE) && put_bool(o, "unique", false)) ||
         (!(c->hints & SL_HINT_ROW_KEY) && put_bool(o, "row_key", false))))
        return -1; /* dlt takes both away from an scd2 row hash, explicitly */
    if ((c->hints & SL_HINT_VALID_TO) &&
        sl_json_obj_put_str(o, "x-active-record-timestamp", t->active_ts))
        return -1;
    if ((c->hints & SL_HINT_DEDUP_ASC) && sl_json_obj_put_str(o, "dedup_sort", "asc"))
        return -1;
    if ((c->hints & SL_HINT_DEDUP_DESC) && sl_json_obj_put_str(o, "dedup_sort", "desc"))
        return -1;
    if ((c->hints & SL_HINT_VARIANT) && !sl_json_get(o, "description")) {
        /* dlt describes every variant column it creates, naming the column itself */
        char *d = sl_aprintf("Variant of column %s generated by dlt", c->name);
        int rc = d ? sl_json_obj_put_str(o, "description", d) : -1;
        sl_free(d);
        if (rc)
            return -1;
    }
    return 0;
}

static int table_to_json(struct sl_json *tables, const struct sl_table *t)
{
    struct sl_json *o = put_like(tables, t->name, t->extra);
    if (!o || sl_json_obj_put_str(o, "name", t->name))
        return -1;
    struct sl_json *cols = put_obj(o, "columns");
    if (!cols)
        return -1;
    for (size_t i = 0; i < t->ncols; i++)
        if (column_to_json(cols, t, &t->cols[i]))
            return -1;
    if (t->parent) {
        if (sl_json_obj_put_str(o, "parent", t->parent))
            return -1;
    } else {
        if (sl_json_obj_put_str(o, "write_disposition", sl_wd_name(t->wd)))
            return -1;
        if (sl_json_obj_put_str(o, "resource", t->resource ? t->resource : t->name))
            return -1;
        if (t->strategy != SL_MERGE_DEFAULT &&
            sl_json_obj_put_str(o, "x-merge-strategy", sl_merge_strategy_name(t->strategy)))
            return -1;
        if (t->boundary_ts && sl_json_obj_put_str(o, "x-boundary-timestamp", t->boundary_ts))
            return -1;
    }
    if (t->has_data) {
        struct sl_json *xn = sl_json_obj_setdefault(o, "x-normalizer", SL_JSON_OBJECT);
        if (!xn || xn->type != SL_JSON_OBJECT || put_bool(xn, "seen-data", true))
            return -1;
    }
    return 0;
}

/* ---- dlt's system tables ----------------------------------------------------------------- */

/* The entries dlt 1.31 writes for its system tables (dlt/common/schema/utils.py:
 * version_table, loads_table, pipeline_state_table with the _dlt_id the normalizer adds), key
 * for key, so the schema sluice stores is one dlt accepts and hashes the same. */
struct sys_col {
    const char *name, *type;
    bool nullable;
    int precision; /* 0: none */
    const char *description;
};

static const struct sys_col version_cols[] = {
    { "version", "bigint", false, 0,
      "Numeric version of the schema, incremented on each schema change" },
    { "engine_version", "bigint", false, 0,
      "Version of the dlt schema engine that created this schema" },
    { "inserted_at", "timestamp", false, 0, "Timestamp when this schema version was stored" },
    { "schema_name", "text", false, 0, "Name of the schema" },
    { "version_hash", "text", false, 0,
      "Unique hash of the schema content, used to detect changes" },
    { "schema", "text", false, 0, "JSON representation of the complete schema definition" },
};

static const struct sys_col loads_cols[] = {
    { "load_id", "text", false, 64, "Unique identifier of the load operation" },
    { "schema_name", "text", true, 0, "Name of the schema associated with this load" },
    { "status", "bigint", false, 0, "Status of the load operation (0 = success)" },
    { "inserted_at", "timestamp", false, 0, "Timestamp when the load was completed" },
    { "schema_version_hash", "text", true, 0, "Hash of the schema version used during this load" },
};

static const struct sys_col state_cols[] = {
    { "version", "bigint", false, 0, "Numeric version of the pipeline state" },
    { "engine_version", "bigint", false, 0, "Version of the dlt state engine" },
    { "pipeline_name", "text", false, 0, "Name of the pipeline this state belongs to" },
    { "state", "text", false, 0, "Compressed JSON representation of the pipeline state" },
    { "created_at", "timestamp", false, 0, "Timestamp when this state was created" },
    { "version_hash", "text", true, 0, "Hash of the state content, used to detect changes" },
    { "_dlt_load_id", "text", false, 64,
      "Load identifier linking this row to its load operation" },
    { "_dlt_id", "text", false, 0, NULL }, /* added by dlt's normalizer: unique, row_key */
};

static const char *const sys_tables[] = { "_dlt_version", "_dlt_loads", "_dlt_pipeline_state" };

bool sl_schema_is_system_table(const char *name)
{
    for (size_t i = 0; i < sizeof(sys_tables) / sizeof(sys_tables[0]); i++)
        if (strcmp(name, sys_tables[i]) == 0)
            return true;
    return false;
}

static int sys_columns(struct sl_json *o, const struct sys_col *c, size_t n)
{
    struct sl_json *cols = put_obj(o, "columns");
    if (!cols)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct sl_json *col = put_obj(cols, c[i].name);
        if (!col || sl_json_obj_put_str(col, "name", c[i].name) ||
            sl_json_obj_put_str(col, "data_type", c[i].type) ||
            put_bool(col, "nullable", c[i].nullable))
            return -1;
        if (c[i].precision && sl_json_obj_put_int(col, "precision", c[i].precision))
            return -1;
        if (c[i].description && sl_json_obj_put_str(col, "description", c[i].description))
            return -1;
        if (!c[i].description && (put_bool(col, "unique", true) || put_bool(col, "row_key", true)))
            return -1;
    }
    return 0;
}

/* tables[name] = dlt's entry for system table `name`. */
static int sys_table_to_json(struct sl_json *tables, const char *name)
{
    struct sl_json *o = put_obj(tables, name);
    if (!o)
        return -1;
    if (strcmp(name, "_dlt_pipeline_state") == 0) {
        struct sl_json *xn;
        return sys_columns(o, state_cols, sizeof(state_cols) / sizeof(state_cols[0])) ||
                       sl_json_obj_put_str(o, "write_disposition", "append") ||
                       sl_json_obj_put_str(o, "file_format", "preferred") ||
                       sl_json_obj_put_str(o, "name", name) ||
                       sl_json_obj_put_str(o, "resource", name) ||
                       !(xn = put_obj(o, "x-normalizer")) || put_bool(xn, "seen-data", true)
                   ? -1
                   : 0;
    }
    bool version = strcmp(name, "_dlt_version") == 0;
    if (sl_json_obj_put_str(o, "name", name))
        return -1;
    if (version ? sys_columns(o, version_cols, sizeof(version_cols) / sizeof(version_cols[0]))
                : sys_columns(o, loads_cols, sizeof(loads_cols) / sizeof(loads_cols[0])))
        return -1;
    return sl_json_obj_put_str(o, "write_disposition", "skip") ||
                   sl_json_obj_put_str(o, "resource", name) ||
                   sl_json_obj_put_str(o, "description",
                                       version ? "Created by DLT. Tracks schema updates"
                                               : "Created by DLT. Tracks completed loads")
               ? -1
               : 0;
}

/*
 * The "tables" object: tables keep the order of the stored document they were read from (a
 * system table as it was read, a data table as it is now, a dropped one left out), then the
 * tables that document did not have, root tables before nested ones. A new schema is laid out
 * as dlt lays out a new one: _dlt_version and _dlt_loads first, then the root tables (dlt's
 * extract adds them), _dlt_pipeline_state (added at the end of the extract), then the nested
 * tables (added by dlt's normalize).
 */
static int tables_to_json(const struct sl_schema *s, struct sl_json *o)
{
    const struct sl_json *raw = s->extra ? sl_json_get(s->extra, "tables") : NULL;
    if (raw && raw->type != SL_JSON_OBJECT)
        raw = NULL;
    struct sl_json *tables = put_obj(o, "tables");
    if (!tables)
        return -1;
    for (size_t i = 0; i < 2; i++)
        if (!(raw && sl_json_get(raw, sys_tables[i])) && sys_table_to_json(tables, sys_tables[i]))
            return -1;
    for (uint32_t i = 0; raw && i < raw->len; i++) {
        const struct sl_json_member *m = &raw->u.members[i];
        const struct sl_table *t = sl_schema_find(s, m->key);
        struct sl_json v;
        if (sl_schema_is_system_table(m->key)) {
            if (copy_or_empty(&v, &m->val, SL_JSON_OBJECT) ||
                !sl_json_obj_set_take(tables, m->key, &v))
                return -1;
        } else if (t && table_to_json(tables, t)) {
            return -1;
        }
    }
    /* new tables as dlt adds them: root tables at extract, then (when new) the state table,
     * which dlt's extract adds after the data, then nested tables at normalize */
    for (int nested = 0; nested < 2; nested++) {
        if (nested && !(raw && sl_json_get(raw, sys_tables[2])) &&
            sys_table_to_json(tables, sys_tables[2]))
            return -1;
        for (size_t i = 0; i < s->ntables; i++)
            if ((s->tables[i]->parent != NULL) == nested &&
                !(raw && sl_json_get(raw, s->tables[i]->name)) &&
                table_to_json(tables, s->tables[i]))
                return -1;
    }
    return 0;
}

/* True when a root table propagates its _dlt_id to nested rows as _dlt_root_id: a merge table
 * (every strategy but scd2 needs the root key, dlt's requires_root_key) or one whose
 * descendants already carry a root key column. */
static bool propagates_root_key(const struct sl_schema *s, struct sl_table *root)
{
    if (root->wd == SL_WD_MERGE && root->strategy != SL_MERGE_SCD2)
        return true;
    for (size_t i = 0; i < s->ntables; i++) {
        struct sl_table *t = s->tables[i];
        if (!t->parent || sl_schema_root(s, t) != root)
            continue;
        for (size_t c = 0; c < t->ncols; c++)
            if (t->cols[c].hints & SL_HINT_ROOT_KEY)
                return true;
    }
    return false;
}

/* settings as sluice writes them for a new schema; a stored one is kept as it is */
static int settings_to_json(struct sl_json *o)
{
    static const char *const not_null[] = { "_dlt_id", "_dlt_root_id", "_dlt_parent_id",
                                            "_dlt_list_idx", "_dlt_load_id" };
    if (sl_json_get(o, "settings"))
        return 0;
    struct sl_json *settings = put_obj(o, "settings");
    if (!settings)
        return -1;
    struct sl_json *det = put_arr(settings, "detections");
    if (!det || push_str(det, "iso_timestamp"))
        return -1;
    struct sl_json *hints = put_obj(settings, "default_hints");
    if (!hints)
        return -1;
    struct sl_json *nn = put_arr(hints, "not_null");
    if (!nn)
        return -1;
    for (size_t i = 0; i < sizeof(not_null) / sizeof(not_null[0]); i++)
        if (push_str(nn, not_null[i]))
            return -1;
    static const char *const single[][2] = { { "parent_key", "_dlt_parent_id" },
                                              { "root_key", "_dlt_root_id" },
                                              { "unique", "_dlt_id" },
                                              { "row_key", "_dlt_id" } };
    for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++) {
        struct sl_json *a = put_arr(hints, single[i][0]);
        if (!a || push_str(a, single[i][1]))
            return -1;
    }
    return 0;
}

/* normalizers: a stored block is kept; the root-key propagation of every table that needs it
 * is added (in place) */
static struct sl_json *obj_at(struct sl_json *o, const char *key)
{
    struct sl_json *v = sl_json_obj_setdefault(o, key, SL_JSON_OBJECT);
    return v && v->type == SL_JSON_OBJECT ? v : NULL;
}

static int normalizers_to_json(const struct sl_schema *s, struct sl_json *o)
{
    struct sl_json *norm = obj_at(o, "normalizers");
    if (!norm)
        return -1;
    if (!sl_json_get(norm, "names") && sl_json_obj_put_str(norm, "names", "snake_case"))
        return -1;
    struct sl_json *js = obj_at(norm, "json");
    if (!js)
        return -1;
    if (!sl_json_get(js, "module") &&
        sl_json_obj_put_str(js, "module", "dlt.common.normalizers.json.relational"))
        return -1;
    struct sl_json *tables = NULL;
    for (size_t i = 0; i < s->ntables; i++) {
        struct sl_table *t = s->tables[i];
        if (t->parent || !propagates_root_key(s, t))
            continue;
        if (!tables) {
            struct sl_json *config = obj_at(js, "config");
            struct sl_json *prop = config ? obj_at(config, "propagation") : NULL;
            tables = prop ? obj_at(prop, "tables") : NULL;
            if (!tables)
                return -1;
        }
        struct sl_json *m = obj_at(tables, t->name);
        if (!m || sl_json_obj_put_str(m, "_dlt_id", "_dlt_root_id"))
            return -1;
    }
    return 0;
}

/* The stored schema; for_hash leaves out what dlt's version hash leaves out. Keys are laid
 * out in dlt's order for a new schema; a schema read from JSON keeps the order it had. */
static struct sl_json *schema_json(const struct sl_schema *s, bool for_hash)
{
    struct sl_json *o = s->extra ? sl_json_dup(s->extra) : sl_json_new_object();
    if (!o)
        return NULL;
    if (for_hash) {
        sl_json_obj_del(o, "version");
        sl_json_obj_del(o, "version_hash");
        sl_json_obj_del(o, "imported_version_hash");
        sl_json_obj_del(o, "previous_hashes");
    } else {
        if (sl_json_obj_put_int(o, "version", s->version))
            goto fail;
        if (s->version_hash && sl_json_obj_put_str(o, "version_hash", s->version_hash))
            goto fail;
    }
    if (!sl_json_get(o, "engine_version") &&
        sl_json_obj_put_int(o, "engine_version", SCHEMA_ENGINE_VERSION))
        goto fail;
    if (sl_json_obj_put_str(o, "name", s->name))
        goto fail;
    if (tables_to_json(s, o) || settings_to_json(o) || normalizers_to_json(s, o))
        goto fail;
    if (!for_hash) {
        struct sl_json v;
        if (copy_or_empty(&v, s->prev_hashes, SL_JSON_ARRAY) ||
            !sl_json_obj_set_take(o, "previous_hashes", &v))
            goto fail;
    }
    return o;
fail:
    sl_json_free(o);
    return NULL;
}

struct sl_json *sl_schema_to_json(const struct sl_schema *s)
{
    return schema_json(s, false);
}

/* ============================================================================================
 * From JSON
 * ========================================================================================== */

static bool is_system_column(const char *name)
{
    static const char *const sys[] = { "_dlt_id", "_dlt_load_id", "_dlt_parent_id",
                                       "_dlt_list_idx", "_dlt_root_id" };
    for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
        if (strcmp(name, sys[i]) == 0)
            return true;
    return false;
}

static bool json_true(const struct sl_json *o, const char *key)
{
    const struct sl_json *v = sl_json_get(o, key);
    return v && v->type == SL_JSON_BOOL && v->u.b;
}

static sluice_status column_from_json(struct sl_ctx *ctx, struct sl_table *t, const char *name,
                                      const struct sl_json *c)
{
    if (c->type != SL_JSON_OBJECT)
        return sl_fail(ctx, SLUICE_ERR_DATA_SCHEMA, "schema: column '%s.%s' is not an object",
                       t->name, name);
    enum sl_dtype type = SL_DT_NONE;
    const struct sl_json *dt = sl_json_get(c, "data_type");
    if (dt && dt->type != SL_JSON_NULL) {
        type = sl_dtype_parse(sl_json_str(dt));
        if (type == SL_DT_NONE)
            return sl_fail(ctx, SLUICE_ERR_DATA_SCHEMA,
                           "schema: column '%s.%s' has an unknown data_type", t->name, name);
    }
    const struct sl_json *nv = sl_json_get(c, "nullable");
    bool nullable = !(nv && nv->type == SL_JSON_BOOL && !nv->u.b);
    uint32_t hints = is_system_column(name) ? SL_HINT_SYSTEM : 0;
    for (size_t i = 0; i < sizeof(bool_hints) / sizeof(bool_hints[0]); i++)
        if (json_true(c, bool_hints[i].key))
            hints |= bool_hints[i].bit;
    const struct sl_json *ds = sl_json_get(c, "dedup_sort");
    if (ds && ds->type != SL_JSON_NULL) {
        const char *dss = sl_json_str(ds);
        if (dss && strcmp(dss, "asc") == 0)
            hints |= SL_HINT_DEDUP_ASC;
        else if (dss && strcmp(dss, "desc") == 0)
            hints |= SL_HINT_DEDUP_DESC;
        else
            return sl_fail(ctx, SLUICE_ERR_DATA_SCHEMA,
                           "schema: column '%s.%s' has dedup_sort other than asc/desc", t->name,
                           name);
    }
    if (sl_table_col(t, name) >= 0)
        return sl_fail(ctx, SLUICE_ERR_DATA_SCHEMA, "schema: duplicate column '%s.%s'", t->name,
                       name);
    long at = sl_table_add_col(ctx, t, name, type, nullable, hints);
    if (at < 0)
        return ctx->code;
    t->cols[at].extra = sl_json_dup(c);
    if (!t->cols[at].extra)
        return sl_nomem(ctx);
    const char *active = sl_json_str(sl_json_get(c, "x-active-record-timestamp"));
    if ((hints & SL_HINT_VALID_TO) && active && sl_table_set_ts(&t->active_ts, active))
        return sl_nomem(ctx);
    return SLUICE_OK;
}

static sluice_status table_from_json(struct sl_ctx *ctx, struct sl_schema *s, const char *name,
                                     const struct sl_json *tj)
{
    if (tj->type != SL_JSON_OBJECT)
        return sl_fail(ctx, SLUICE_ERR_DATA_SCHEMA, "schema: table '%s' is not an object", name);
    if (sl_schema_find(s, name))
        return sl_fail(ctx, SLUICE_ERR_DATA_SCHEMA, "schema: duplicate table '%s'", name);
    const char *parent = sl_json_str(sl_json_get(tj, "parent"));
    const char *resource = sl_json_str(sl_json_get(tj, "resource"));
    enum sl_write_disposition wd = SL_WD_APPEND;
    const struct sl_json *wdj = sl_json_get(tj, "write_disposition");
    if (wdj && wdj->type != SL_JSON_NULL) {
        int w = sl_wd_parse(sl_json_str(wdj));
        if (w < 0)
            return sl_fail(ctx, SLUICE_ERR_DATA_SCHEMA,
                           "schema: table '%s' has an unknown write_disposition", name);
        wd = (enum sl_write_disposition)w;
    }
    enum sl_merge_strategy strategy = SL_MERGE_DEFAULT;
    const struct sl_json *msj = sl_json_get(tj, "x-merge-strategy");
    if (msj && msj->type != SL_JSON_NULL) {
        int ms = sl_merge_strategy_parse(sl_json_str(msj));
        if (ms < 0)
            return sl_fail(ctx, SLUICE_ERR_DATA_SCHEMA,
                           "schema: table '%s' has an unknown x-merge-strategy", name);
        strategy = (enum sl_merge_strategy)ms;
    }
    struct sl_table *t = table_append(ctx, s, name, parent, resource, wd);
    if (!t)
        return ctx->code;
    t->strategy = strategy;
    const char *boundary = sl_json_str(sl_json_get(tj, "x-boundary-timestamp"));
    if (boundary && sl_table_set_ts(&t->boundary_ts, boundary))
        return sl_nomem(ctx);
    t->extra = sl_json_new_object();
    if (!t->extra)
        return sl_nomem(ctx);
    for (uint32_t i = 0; i < tj->len; i++) {
        const struct sl_json_member *m = &tj->u.members[i];
        struct sl_json v;
        /* the columns are the table's own (with their own extras), not the table's extra */
        const struct sl_json *src = strcmp(m->key, "columns") == 0 ? NULL : &m->val;
        if (copy_or_empty(&v, src, SL_JSON_OBJECT) || !sl_json_obj_set_take(t->extra, m->key, &v))
            return sl_nomem(ctx);
    }
    const struct sl_json *xn = sl_json_get(tj, "x-normalizer");
    t->has_data = json_true(xn, "seen-data");
    const struct sl_json *cols = sl_json_get(tj, "columns");
    if (cols && cols->type == SL_JSON_OBJECT) {
        for (uint32_t i = 0; i < cols->len; i++) {
            const struct sl_json_member *m = &cols->u.members[i];
            if (memchr(m->key, '\0', m->key_len))
                return sl_fail(ctx, SLUICE_ERR_DATA_SCHEMA,
                               "schema: a column name of table '%s' contains NUL", name);
            sluice_status rc = column_from_json(ctx, t, m->key, &m->val);
            if (rc)
                return rc;
        }
    }
    return SLUICE_OK;
}

/* The normalizers block is kept as stored and written back with root-key propagation added
 * (normalizers_to_json): every step of normalizers.json.config.propagation.tables.<table>
 * that is present must be an object, as dlt's schema requires. */
static sluice_status check_normalizers(struct sl_ctx *ctx, const struct sl_json *j)
{
    static const char *const path[] = { "normalizers", "json", "config", "propagation",
                                        "tables" };
    const struct sl_json *v = j;
    char where[96] = "";
    for (size_t i = 0; i < sizeof(path) / sizeof(path[0]); i++) {
        v = sl_json_get(v, path[i]);
        snprintf(where + strlen(where), sizeof(where) - strlen(where), "%s%s", i ? "." : "",
                 path[i]);
        if (!v)
            return SLUICE_OK;
        if (v->type != SL_JSON_OBJECT)
            return sl_fail(ctx, SLUICE_ERR_DATA_SCHEMA, "schema: %s is not an object", where);
    }
    for (uint32_t i = 0; i < v->len; i++)
        if (v->u.members[i].val.type != SL_JSON_OBJECT)
            return sl_fail(ctx, SLUICE_ERR_DATA_SCHEMA, "schema: %s.%s is not an object", where,
                           v->u.members[i].key);
    return SLUICE_OK;
}

sluice_status sl_schema_from_json(struct sl_ctx *ctx, const struct sl_json *j,
                                  struct sl_schema **out)
{
    *out = NULL;
    struct sl_schema *s = NULL;
    sluice_status rc = SLUICE_OK;
    if (!j || j->type != SL_JSON_OBJECT)
        return sl_fail(ctx, SLUICE_ERR_DATA_SCHEMA, "schema: not a JSON object");
    rc = check_normalizers(ctx, j);
    if (rc)
        return rc;
    rc = sl_schema_new(ctx, sl_json_str(sl_json_get(j, "name")), &s);
    if (rc)
        goto fail;
    s->extra = sl_json_dup(j);
    if (!s->extra) {
        rc = sl_nomem(ctx);
        goto fail;
    }
    const struct sl_json *ph = sl_json_get(j, "previous_hashes");
    if (ph && ph->type == SL_JSON_ARRAY) {
        s->prev_hashes = sl_json_dup(ph);
        if (!s->prev_hashes) {
            rc = sl_nomem(ctx);
            goto fail;
        }
    }
    const struct sl_json *v = sl_json_get(j, "version");
    if (v && v->type == SL_JSON_INT)
        s->version = v->u.i;
    const char *vh = sl_json_str(sl_json_get(j, "version_hash"));
    if (vh) {
        s->version_hash = sl_strdup(vh);
        if (!s->version_hash) {
            rc = sl_nomem(ctx);
            goto fail;
        }
    }
    const struct sl_json *tables = sl_json_get(j, "tables");
    if (tables && tables->type == SL_JSON_OBJECT) {
        for (uint32_t i = 0; i < tables->len; i++) {
            const struct sl_json_member *m = &tables->u.members[i];
            if (memchr(m->key, '\0', m->key_len)) {
                rc = sl_fail(ctx, SLUICE_ERR_DATA_SCHEMA, "schema: a table name contains NUL");
                goto fail;
            }
            if (sl_schema_is_system_table(m->key))
                continue; /* kept as read in extra, written back unchanged */
            rc = table_from_json(ctx, s, m->key, &m->val);
            if (rc)
                goto fail;
        }
    }
    /* nested tables inherit the root table's disposition and resource (not stored for them) */
    for (size_t i = 0; i < s->ntables; i++) {
        struct sl_table *t = s->tables[i];
        if (!t->parent)
            continue;
        struct sl_table *root = sl_schema_root(s, t);
        if (root == t || root->parent) {
            rc = sl_fail(ctx, SLUICE_ERR_DATA_SCHEMA,
                         "schema: table '%s' has no root table (parent '%s')", t->name,
                         t->parent);
            goto fail;
        }
        t->wd = root->wd;
        t->strategy = root->strategy;
        if (!t->resource && root->resource) {
            t->resource = sl_strdup(root->resource);
            if (!t->resource) {
                rc = sl_nomem(ctx);
                goto fail;
            }
        }
    }
    *out = s;
    return SLUICE_OK;
fail:
    sl_schema_free(&s);
    return rc;
}

/* ============================================================================================
 * Version hash, copies
 * ========================================================================================== */

static int cmp_members(const void *a, const void *b)
{
    const struct sl_json_member *x = *(const struct sl_json_member *const *)a;
    const struct sl_json_member *y = *(const struct sl_json_member *const *)b;
    return strcmp(x->key, y->key); /* UTF-8 byte order = Python's code point order */
}

/* base64 SHA3-256 of the content as dlt's generate_version_hash computes it: the sorted
 * compact JSON without version, version_hash, imported_version_hash and previous_hashes, then
 * every table name (sorted) followed by its column names in order; -1 on failure. */
static int content_hash(const struct sl_schema *s, char out[45])
{
    int rc = -1;
    struct sl_buf b;
    const struct sl_json_member **sorted = NULL;
    sl_buf_init(&b, 0);
    struct sl_json *j = schema_json(s, true);
    if (!j || sl_json_write(&b, j, SL_JSON_W_SORTED))
        goto done;
    const struct sl_json *tables = sl_json_get(j, "tables");
    uint32_t n = tables && tables->type == SL_JSON_OBJECT ? tables->len : 0;
    if (n) {
        sorted = sl_malloc(n * sizeof(*sorted));
        if (!sorted)
            goto done;
        for (uint32_t i = 0; i < n; i++)
            sorted[i] = &tables->u.members[i];
        qsort(sorted, n, sizeof(*sorted), cmp_members);
    }
    for (uint32_t i = 0; i < n; i++) {
        if (sl_buf_append(&b, sorted[i]->key, sorted[i]->key_len))
            goto done;
        const struct sl_json *cols = sl_json_get(&sorted[i]->val, "columns");
        for (uint32_t c = 0; cols && cols->type == SL_JSON_OBJECT && c < cols->len; c++)
            if (sl_buf_append(&b, cols->u.members[c].key, cols->u.members[c].key_len))
                goto done;
    }
    rc = sl_digest_sha3_256_b64(b.data ? b.data : "", b.len, out);
done:
    sl_free(sorted);
    sl_json_free(j);
    sl_buf_cleanup(&b);
    return rc;
}

/* dlt's store_prev_hash: the old hash goes first, at most 10 are kept. -1 out of memory. */
static int store_prev_hash(struct sl_schema *s, const char *old)
{
    if (!s->prev_hashes) {
        s->prev_hashes = sl_json_new_array();
        if (!s->prev_hashes)
            return -1;
    }
    struct sl_json *a = s->prev_hashes;
    for (uint32_t i = 0; i < a->len; i++) {
        const char *h = sl_json_str(&a->u.items[i]);
        if (h && strcmp(h, old) == 0)
            return 0;
    }
    struct sl_json v;
    if (sl_json_set_str(&v, old, strlen(old)))
        return -1;
    if (!sl_json_arr_push_take(a, &v))
        return -1;
    struct sl_json last = a->u.items[a->len - 1]; /* rotate the new one to the front */
    memmove(&a->u.items[1], &a->u.items[0], (a->len - 1) * sizeof(a->u.items[0]));
    a->u.items[0] = last;
    while (a->len > 10)
        sl_json_clear(&a->u.items[--a->len]);
    return 0;
}

bool sl_schema_bump(struct sl_schema *s)
{
    char hash[45];
    if (content_hash(s, hash))
        return false; /* out of memory: leave the version alone, the next bump catches up */
    if (s->version_hash && strcmp(s->version_hash, hash) == 0)
        return false;
    char *copy = sl_strdup(hash);
    if (!copy)
        return false;
    if (s->version_hash && store_prev_hash(s, s->version_hash)) {
        sl_free(copy);
        return false;
    }
    if (s->version_hash)
        s->version++;
    else if (s->version < 1)
        s->version = 1; /* the first hash of a new schema: version 1, as in dlt */
    sl_free(s->version_hash);
    s->version_hash = copy;
    return true;
}

sluice_status sl_schema_dup(struct sl_ctx *ctx, const struct sl_schema *s,
                            struct sl_schema **out)
{
    struct sl_schema *d = NULL;
    *out = NULL;
    sluice_status rc = sl_schema_new(ctx, s->name, &d);
    if (rc)
        return rc;
    d->version = s->version;
    if ((s->extra && !(d->extra = sl_json_dup(s->extra))) ||
        (s->prev_hashes && !(d->prev_hashes = sl_json_dup(s->prev_hashes)))) {
        rc = nomem(ctx);
        goto fail;
    }
    if (s->version_hash) {
        d->version_hash = sl_strdup(s->version_hash);
        if (!d->version_hash) {
            rc = nomem(ctx);
            goto fail;
        }
    }
    for (size_t i = 0; i < s->ntables; i++) {
        const struct sl_table *t = s->tables[i];
        struct sl_table *c = table_append(ctx, d, t->name, t->parent, t->resource, t->wd);
        if (!c) {
            rc = ctx ? ctx->code : SLUICE_ERR_NOMEM;
            goto fail;
        }
        c->has_data = t->has_data;
        c->strategy = t->strategy;
        if (sl_table_set_ts(&c->boundary_ts, t->boundary_ts) ||
            sl_table_set_ts(&c->active_ts, t->active_ts) ||
            (t->extra && !(c->extra = sl_json_dup(t->extra)))) {
            rc = nomem(ctx);
            goto fail;
        }
        for (size_t k = 0; k < t->ncols; k++) {
            const struct sl_column *col = &t->cols[k];
            long at = sl_table_add_col(ctx, c, col->name, col->type, col->nullable, col->hints);
            if (at < 0) {
                rc = ctx ? ctx->code : SLUICE_ERR_NOMEM;
                goto fail;
            }
            if (col->extra && !(c->cols[at].extra = sl_json_dup(col->extra))) {
                rc = nomem(ctx);
                goto fail;
            }
        }
    }
    *out = d;
    return SLUICE_OK;
fail:
    sl_schema_free(&d);
    return rc;
}
