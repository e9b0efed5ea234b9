/*
 * systables.c — dlt's system tables on the SQL destinations (systables.h).
 *
 * Every statement is built here from the engine's few words and run through its run hook;
 * nothing here talks to an engine. Reads that may come before the first load (outside a
 * transaction, the dataset may not exist yet) look for their table first and find nothing
 * when it is missing.
 */
#include "destinations/systables.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/json.h"

#define SCHEMA_ENGINE_VERSION 11 /* dlt's, used when the schema JSON does not say */

/* ---- the tables ---------------------------------------------------------------------------- */

enum col_type { C_TEXT, C_LOAD_ID, C_DLT_ID, C_INT, C_TIME };

struct sys_col {
    const char *name;
    enum col_type type;
    int not_null;
};

/* dlt's column order (a dataset is continued by dlt and by sluice alike). */
static const struct sys_col loads_cols[] = {
    { "load_id", C_LOAD_ID, 1 },     { "schema_name", C_TEXT, 0 }, { "status", C_INT, 1 },
    { "inserted_at", C_TIME, 1 },    { "schema_version_hash", C_TEXT, 0 }, { NULL, C_TEXT, 0 },
};
static const struct sys_col version_cols[] = {
    { "version", C_INT, 1 },     { "engine_version", C_INT, 1 }, { "inserted_at", C_TIME, 1 },
    { "schema_name", C_TEXT, 1 }, { "version_hash", C_TEXT, 1 },  { "schema", C_TEXT, 1 },
    { NULL, C_TEXT, 0 },
};
static const struct sys_col state_cols[] = {
    { "version", C_INT, 1 },        { "engine_version", C_INT, 1 },
    { "pipeline_name", C_TEXT, 1 }, { "state", C_TEXT, 1 },
    { "created_at", C_TIME, 1 },    { "version_hash", C_TEXT, 0 },
    { "_dlt_load_id", C_LOAD_ID, 1 }, { "_dlt_id", C_DLT_ID, 1 },
    { NULL, C_TEXT, 0 },
};

static const struct {
    const char *name;
    const struct sys_col *cols;
} tables[SL_SYS_TABLES] = {
    { "_dlt_loads", loads_cols },
    { "_dlt_version", version_cols },
    { "_dlt_pipeline_state", state_cols },
};

const char *sl_sys_table_name(size_t i)
{
    return i < SL_SYS_TABLES ? tables[i].name : NULL;
}

void sl_sys_columns(struct sl_sql *q, const struct sl_systables *s, size_t i)
{
    const char *types[] = { s->text_type, s->load_id_type, s->dlt_id_type, s->int_type,
                            s->time_type };
    sl_sql_put(q, " (");
    for (const struct sys_col *c = tables[i].cols; c->name; c++) {
        if (c != tables[i].cols)
            sl_sql_put(q, ", ");
        sl_sql_id(q, c->name);
        sl_sql_ch(q, ' ');
        sl_sql_put(q, types[c->type]);
        if (c->not_null)
            sl_sql_put(q, " NOT NULL");
    }
    sl_sql_ch(q, ')');
}

/* ---- building and running -------------------------------------------------------------- */

/* One statement under construction: its text and the engine it goes to. */
struct stmt {
    const struct sl_systables *s;
    void *ud;
    struct sl_ctx *ctx;
    struct sl_sql q;
};

static void st_init(struct stmt *st, const struct sl_systables *s, void *ud, struct sl_ctx *ctx)
{
    st->s = s;
    st->ud = ud;
    st->ctx = ctx;
    sl_sql_init(&st->q);
}

static void put(struct stmt *st, const char *text)
{
    sl_sql_put(&st->q, text);
}

static void tab(struct stmt *st, const char *name)
{
    st->s->table(&st->q, st->ud, name);
}

static void par(struct stmt *st, int n, enum sl_sys_type t)
{
    st->s->param(&st->q, n, t);
}

/* Run the statement (then free its text); fn gets each row. */
static sluice_status st_run(struct stmt *st, const struct sl_sys_param *p, int np,
                            sl_sys_row_fn fn, void *fud, const char *what)
{
    const char *text = sl_sql_text(st->ctx, &st->q);
    sluice_status rc = text ? st->s->run(st->ud, text, p, np, fn, fud, what) : st->ctx->code;
    sl_sql_cleanup(&st->q);
    return rc;
}

#define TEXT(v) { SL_SYS_TEXT, (v), 0 }
#define INT(v) { SL_SYS_INT, NULL, (v) }
#define TIME(v) { SL_SYS_TIME, (v), 0 }

/* Copy a value (NULL stays NULL); -1 when out of memory. */
static int dup_val(const char *v, char **out)
{
    *out = v ? sl_strdup(v) : NULL;
    return v && !*out ? -1 : 0;
}

/* Row callback: the first value of the first row. */
struct first {
    int seen;
    char *v;
};

static int first_row(void *fud, const char *const *vals, size_t n)
{
    struct first *f = fud;
    if (f->seen++ || n == 0)
        return 0;
    return dup_val(vals[0], &f->v);
}

/* "SELECT <what> FROM <table><rest>" with parameter 1 = param (unless NULL): its first value
 * in *out (NULL when the table or the row is missing, or the value is); *seen: a row came. */
static sluice_status first_value(const struct sl_systables *s, void *ud, struct sl_ctx *ctx,
                                 const char *table, const char *head, const char *rest,
                                 const char *order, const char *param, char **out, int *seen,
                                 const char *what)
{
    struct first f = { 0, NULL };
    struct stmt st;
    int have = 0;
    *out = NULL;
    if (seen)
        *seen = 0;
    sluice_status rc = s->have(ud, table, &have);
    if (rc || !have)
        return rc;
    st_init(&st, s, ud, ctx);
    put(&st, head);
    tab(&st, table);
    put(&st, rest);
    if (param)
        par(&st, 1, SL_SYS_TEXT);
    if (order) {
        put(&st, " ORDER BY ");
        put(&st, order);
    }
    put(&st, " LIMIT 1");
    struct sl_sys_param p[1] = { TEXT(param) };
    rc = st_run(&st, p, param ? 1 : 0, first_row, &f, what);
    if (rc == SLUICE_OK) {
        *out = f.v;
        if (seen)
            *seen = f.seen > 0;
    } else {
        sl_free(f.v);
    }
    return rc;
}

/* "INSERT INTO <table> (<cols>) <kw>$1, ..., $n", parameter i typed types[i - 1]: the head of
 * every system-table insert; kw is "VALUES (" or "SELECT ", the caller writes what follows. */
static void insert_head(struct stmt *st, const char *table, const char *cols, const char *kw,
                        const enum sl_sys_type *types, int n)
{
    put(st, "INSERT INTO ");
    tab(st, table);
    put(st, " (");
    put(st, cols);
    put(st, ") ");
    put(st, kw);
    for (int i = 0; i < n; i++) {
        if (i)
            put(st, ", ");
        par(st, i + 1, types[i]);
    }
}

/* ---- loads --------------------------------------------------------------------------------- */

sluice_status sl_sys_load_exists(const struct sl_systables *s, void *ud, struct sl_ctx *ctx,
                                 const char *load_id, int *exists)
{
    char *v = NULL;
    sluice_status rc = first_value(s, ud, ctx, "_dlt_loads", "SELECT 1 FROM ",
                                   " WHERE \"status\" = 0 AND \"load_id\" = ", NULL, load_id,
                                   &v, exists, "look up a load");
    sl_free(v);
    return rc;
}

sluice_status sl_sys_insert_load(const struct sl_systables *s, void *ud, struct sl_ctx *ctx,
                                 const char *load_id, const char *schema_name,
                                 const char *schema_version_hash)
{
    struct stmt st;
    char now[64];
    sl_clock_utc_iso(now, sizeof(now));
    static const enum sl_sys_type types[5] = { SL_SYS_TEXT, SL_SYS_TEXT, SL_SYS_INT, SL_SYS_TIME,
                                               SL_SYS_TEXT };
    st_init(&st, s, ud, ctx);
    insert_head(&st, "_dlt_loads",
                "\"load_id\", \"schema_name\", \"status\", \"inserted_at\", "
                "\"schema_version_hash\"",
                "VALUES (", types, 5);
    put(&st, ")");
    struct sl_sys_param p[5] = { TEXT(load_id), TEXT(schema_name), INT(0), TIME(now),
                                 TEXT(schema_version_hash) };
    return st_run(&st, p, 5, NULL, NULL, "record the load");
}

sluice_status sl_sys_newest_load_id(const struct sl_systables *s, void *ud, struct sl_ctx *ctx,
                                    char **out)
{
    return first_value(s, ud, ctx, "_dlt_loads", "SELECT \"load_id\" FROM ", "",
                       s->newest_load, NULL, out, NULL, "read the newest load id");
}

/* ---- schemas ------------------------------------------------------------------------------- */

sluice_status sl_sys_delete_schema_versions(const struct sl_systables *s, void *ud,
                                            struct sl_ctx *ctx, const char *schema_name)
{
    struct stmt st;
    st_init(&st, s, ud, ctx);
    put(&st, "DELETE FROM ");
    tab(&st, "_dlt_version");
    put(&st, " WHERE \"schema_name\" = ");
    par(&st, 1, SL_SYS_TEXT);
    struct sl_sys_param p[1] = { TEXT(schema_name) };
    return st_run(&st, p, 1, NULL, NULL, "forget the schema history");
}

sluice_status sl_sys_save_schema(const struct sl_systables *s, void *ud, struct sl_ctx *ctx,
                                 const char *schema_name, int64_t version,
                                 const char *version_hash, const char *schema_json)
{
    struct sl_json *doc = NULL;
    struct stmt st;
    int64_t engine = SCHEMA_ENGINE_VERSION;
    char now[64];
    if (!schema_name || !version_hash || !schema_json)
        return sl_fail(ctx, SLUICE_ERR_INVALID_ARG, "schema name, hash and JSON required");
    /* the schema document carries its engine version (dlt layout) */
    sluice_status rc = sl_json_parse_heap(ctx, schema_json, strlen(schema_json), &doc);
    if (rc)
        return rc;
    const struct sl_json *ev = sl_json_get(doc, "engine_version");
    if (ev && ev->type == SL_JSON_INT)
        engine = ev->u.i;
    sl_json_free(doc);
    sl_clock_utc_iso(now, sizeof(now));
    static const enum sl_sys_type types[6] = { SL_SYS_INT,  SL_SYS_INT,  SL_SYS_TIME,
                                               SL_SYS_TEXT, SL_SYS_TEXT, SL_SYS_TEXT };
    st_init(&st, s, ud, ctx);
    insert_head(&st, "_dlt_version",
                "\"version\", \"engine_version\", \"inserted_at\", \"schema_name\", "
                "\"version_hash\", \"schema\"",
                "SELECT ", types, 6);
    put(&st, " WHERE NOT EXISTS (SELECT 1 FROM ");
    tab(&st, "_dlt_version");
    put(&st, " WHERE \"version_hash\" = ");
    par(&st, 5, SL_SYS_TEXT);
    put(&st, ")");
    struct sl_sys_param p[6] = { INT(version),         INT(engine),          TIME(now),
                                 TEXT(schema_name),    TEXT(version_hash),   TEXT(schema_json) };
    return st_run(&st, p, 6, NULL, NULL, "store the schema");
}

sluice_status sl_sys_load_schema(const struct sl_systables *s, void *ud, struct sl_ctx *ctx,
                                 const char *schema_name, char **json_out)
{
    return first_value(s, ud, ctx, "_dlt_version", "SELECT \"schema\" FROM ",
                       " WHERE \"schema_name\" = ", "\"version\" DESC, \"inserted_at\" DESC",
                       schema_name, json_out, NULL, "read the schema");
}

/* ---- pipeline state ------------------------------------------------------------------------ */

sluice_status sl_sys_save_state(const struct sl_systables *s, void *ud, struct sl_ctx *ctx,
                                const struct sl_state_row *row)
{
    static const enum sl_sys_type types[8] = { SL_SYS_INT,  SL_SYS_INT,  SL_SYS_TEXT,
                                               SL_SYS_TEXT, SL_SYS_TIME, SL_SYS_TEXT,
                                               SL_SYS_TEXT, SL_SYS_TEXT };
    struct stmt st;
    st_init(&st, s, ud, ctx);
    insert_head(&st, "_dlt_pipeline_state",
                "\"version\", \"engine_version\", \"pipeline_name\", \"state\", \"created_at\", "
                "\"version_hash\", \"_dlt_load_id\", \"_dlt_id\"",
                "VALUES (", types, 8);
    put(&st, ")");
    struct sl_sys_param p[8] = { INT(row->version),       INT(row->engine_version),
                                 TEXT(row->pipeline_name), TEXT(row->state),
                                 TIME(row->created_at),    TEXT(row->version_hash),
                                 TEXT(row->load_id),       TEXT(row->dlt_id) };
    return st_run(&st, p, 8, NULL, NULL, "store the pipeline state");
}

/* Row callback of count_orphans: count them, keep the first (oldest) one's version and load
 * id. */
static int orphan_row(void *fud, const char *const *vals, size_t n)
{
    struct sl_state_row_owned *out = fud;
    if (out->orphans++ || n < 2)
        return 0;
    out->orphan_version = vals[0] ? strtoll(vals[0], NULL, 10) : 0;
    return dup_val(vals[1], &out->orphan_load_id);
}

/* The state rows of pipeline above out->version (or all, when !above) whose load is not
 * completed: out->orphans, and the oldest one's version and load id. have_loads: _dlt_loads
 * exists. */
static sluice_status count_orphans(const struct sl_systables *s, void *ud, struct sl_ctx *ctx,
                                   const char *pipeline, int above, int have_loads,
                                   struct sl_state_row_owned *out)
{
    struct stmt st;
    st_init(&st, s, ud, ctx);
    put(&st, "SELECT s.\"version\", s.\"_dlt_load_id\" FROM ");
    tab(&st, "_dlt_pipeline_state");
    put(&st, " AS s WHERE s.\"pipeline_name\" = ");
    par(&st, 1, SL_SYS_TEXT);
    put(&st, " AND (");
    par(&st, 2, SL_SYS_INT);
    put(&st, " = 0 OR s.\"version\" > ");
    par(&st, 3, SL_SYS_INT);
    put(&st, ")");
    if (have_loads) {
        put(&st, " AND NOT EXISTS (SELECT 1 FROM ");
        tab(&st, "_dlt_loads");
        put(&st, " AS l WHERE l.\"load_id\" = s.\"_dlt_load_id\" AND l.\"status\" = 0)");
    }
    put(&st, " ORDER BY s.\"version\"");
    struct sl_sys_param p[3] = { TEXT(pipeline), INT(above), INT(out->version) };
    return st_run(&st, p, 3, orphan_row, out, "read the pipeline state");
}

/* Row callback of sl_sys_load_state: the newest completed state. */
struct state_read {
    struct sl_state_row_owned *out;
    int found;
};

static int state_row(void *fud, const char *const *vals, size_t n)
{
    struct state_read *r = fud;
    struct sl_state_row_owned *out = r->out;
    if (n < 7)
        return 0;
    out->version = vals[0] ? strtoll(vals[0], NULL, 10) : 0;
    out->engine_version = vals[1] ? strtoll(vals[1], NULL, 10) : 0;
    if (dup_val(vals[2], &out->pipeline_name) || dup_val(vals[3], &out->state) ||
        dup_val(vals[4], &out->created_at) || dup_val(vals[5], &out->version_hash) ||
        dup_val(vals[6], &out->load_id))
        return -1;
    r->found = 1;
    return 0;
}

sluice_status sl_sys_load_state(const struct sl_systables *s, void *ud, struct sl_ctx *ctx,
                                const char *pipeline, struct sl_state_row_owned *out,
                                int *found)
{
    struct stmt st;
    int have_s = 0, have_l = 0;
    memset(out, 0, sizeof(*out));
    *found = 0;
    sluice_status rc = s->have(ud, "_dlt_pipeline_state", &have_s);
    if (rc == SLUICE_OK)
        rc = s->have(ud, "_dlt_loads", &have_l);
    if (rc || !have_s)
        return rc;
    if (!have_l)
        return count_orphans(s, ud, ctx, pipeline, 0, 0, out);
    st_init(&st, s, ud, ctx);
    put(&st, "SELECT s.\"version\", s.\"engine_version\", s.\"pipeline_name\", s.\"state\", ");
    put(&st, s->created_at);
    put(&st, ", s.\"version_hash\", s.\"_dlt_load_id\" FROM ");
    tab(&st, "_dlt_pipeline_state");
    put(&st, " AS s JOIN ");
    tab(&st, "_dlt_loads");
    put(&st, " AS l ON l.\"load_id\" = s.\"_dlt_load_id\" WHERE s.\"pipeline_name\" = ");
    par(&st, 1, SL_SYS_TEXT);
    put(&st, " AND l.\"status\" = 0 ORDER BY s.\"version\" DESC, s.\"created_at\" DESC "
             "LIMIT 1");
    struct sl_sys_param p[1] = { TEXT(pipeline) };
    struct state_read r = { out, 0 };
    rc = st_run(&st, p, 1, state_row, &r, "read the pipeline state");
    *found = r.found;
    if (rc == SLUICE_OK)
        rc = count_orphans(s, ud, ctx, pipeline, *found, 1, out);
    if (rc != SLUICE_OK) {
        sl_state_row_owned_free(out);
        *found = 0;
    }
    return rc;
}
