/*
 * stage_normalize.c — the normalize stage of a load package (see load.h).
 *
 * Items are read back from the package's item files one at a time, normalized into rows, and
 * the rows appended to one row file per table (opened on the table's first row). Memory is
 * bounded by one item and the open files' buffers, never by the package size.
 */
#include "run/load.h"

#include <string.h>

#include "base/fault.h"
#include "base/alloc.h"
#include "base/digest.h"
#include "base/fs.h"
#include "model/normalize.h"
#include "run/loadpipe.h"
#include "run/package.h"
#include "run/pipe.h"

/* The manifest's own checksum: of its pretty JSON text without the "checksum" member, which
 * is written last. The text round-trips (the writer prints numbers and strings as the parser
 * reads them back), so the reader recomputes it from the parsed tree. */
static char *manifest_text(const struct sl_json *m, char sum[SL_CHECKSUM_TEXT])
{
    char *text = sl_json_dumps(m, SL_JSON_W_PRETTY);
    if (text)
        sl_checksum_text(sl_checksum_add(0, text, strlen(text)), sum);
    return text;
}

sluice_status sl_manifest_read(struct sl_ctx *ctx, const char *dir, struct sl_json **out)
{
    *out = NULL;
    char *path = sl_aprintf("%s/manifest.json", dir);
    if (!path)
        return sl_nomem(ctx);
    char *text = NULL;
    char *again = NULL;
    size_t len = 0;
    sluice_status rc = sl_fs_read(ctx, path, &text, &len);
    if (rc == SLUICE_OK) {
        struct sl_ctx pctx;
        sl_ctx_init(&pctx);
        rc = sl_json_parse_heap(&pctx, text, len, out);
        if (rc == SLUICE_ERR_NOMEM)
            rc = sl_nomem(ctx);
        else if (rc != SLUICE_OK || (*out)->type != SL_JSON_OBJECT)
            rc = sl_package_damaged(ctx, dir, "manifest.json", "is not a JSON object (%s)",
                                    rc != SLUICE_OK ? pctx.message : "another value");
    }
    const char *want = rc == SLUICE_OK ? sl_json_str(sl_json_get(*out, "checksum")) : NULL;
    if (want) {
        char have[SL_CHECKSUM_TEXT];
        char keep[SL_CHECKSUM_TEXT];
        snprintf(keep, sizeof(keep), "%s", want);
        sl_json_obj_del(*out, "checksum");
        again = manifest_text(*out, have);
        if (!again)
            rc = sl_nomem(ctx);
        else if (strcmp(have, keep) != 0)
            rc = sl_package_damaged(ctx, dir, "manifest.json",
                                    "fails its checksum (%s, it says %s): it changed after it "
                                    "was written",
                                    have, keep);
    }
    if (rc != SLUICE_OK && rc != SLUICE_ERR_NOT_FOUND) {
        sl_json_free(*out);
        *out = NULL;
    }
    sl_free(again);
    sl_free(text);
    sl_free(path);
    return rc;
}

sluice_status sl_manifest_write(struct sl_ctx *ctx, const char *dir, const struct sl_json *m)
{
    char sum[SL_CHECKSUM_TEXT];
    char *path = sl_aprintf("%s/manifest.json", dir);
    char *text = manifest_text(m, sum);
    struct sl_buf b;
    sl_buf_init(&b, 0);
    sluice_status rc = SLUICE_OK;
    size_t len = text ? strlen(text) : 0;
    /* the pretty text ends with "\n}": the checksum goes in as the last member */
    if (!path || !text || len < 2 || sl_buf_append(&b, text, len - 2) ||
        sl_buf_printf(&b, ",\n  \"checksum\": \"%s\"\n}", sum))
        rc = sl_nomem(ctx);
    if (rc == SLUICE_OK)
        rc = sl_fs_write_atomic(ctx, path, b.data, b.len);
    sl_buf_cleanup(&b);
    sl_free(path);
    sl_free(text);
    return rc;
}

struct table_out {
    struct sl_table *t;
    struct sl_recfile rf;
    int64_t rows;
    uint32_t gen;         /* t->gen + 1 when the load thread last got the schema (0: never) */
    int64_t published;    /* bytes handed to the load thread */
};

struct norm_run {
    struct sluice_pipeline *p;
    struct sl_ctx *ctx;   /* errors: the pipeline's, or the normalize thread's own */
    struct sl_pipe *pipe; /* on the normalize thread: no callbacks, rows noted in the pipe */
    struct sl_loadpipe *lp; /* a load thread follows the row files (loadpipe.h), or NULL */
    struct sl_schema *schema;
    const char *dir;
    struct table_out *outs;
    size_t nouts, cap;
    size_t last;          /* index of the last table written (fast path) */
    int64_t rows;
    int64_t item;         /* root rows written so far: the ordinal of the current item */
    struct sl_tick tick;  /* progress reports on a time basis */
};

static sluice_status table_file(struct norm_run *nr, struct sl_table *t, struct table_out **out)
{
    if (nr->last < nr->nouts && nr->outs[nr->last].t == t) {
        *out = &nr->outs[nr->last];
        return SLUICE_OK;
    }
    for (size_t i = 0; i < nr->nouts; i++) {
        if (nr->outs[i].t == t) {
            nr->last = i;
            *out = &nr->outs[i];
            return SLUICE_OK;
        }
    }
    if (nr->nouts == nr->cap) {
        size_t ncap = nr->cap ? nr->cap * 2 : 8;
        struct table_out *n = sl_realloc(nr->outs, ncap * sizeof(*n));
        if (!n)
            return sl_nomem(nr->ctx);
        nr->outs = n;
        nr->cap = ncap;
    }
    char *path = sl_aprintf("%s/normalized/%zu.rows", nr->dir, nr->nouts);
    if (!path)
        return sl_nomem(nr->ctx);
    struct table_out *to = &nr->outs[nr->nouts];
    memset(to, 0, sizeof(*to));
    to->t = t;
    sluice_status rc = sl_recfile_create(nr->ctx, path, &to->rf);
    sl_free(path);
    if (rc != SLUICE_OK)
        return rc;
    nr->last = nr->nouts++;
    *out = to;
    return SLUICE_OK;
}

static sluice_status emit_row(void *ud, struct sl_table *t, const struct sl_value *vals,
                              size_t nvals)
{
    struct norm_run *nr = ud;
    struct table_out *to = NULL;
    sluice_status rc = table_file(nr, t, &to);
    if (rc != SLUICE_OK)
        return rc;
    /* rows of merge tables carry their item, so a merge can tell apart the nested rows of
     * two items with the same key (and the same computed _dlt_id) */
    if (!t->parent)
        nr->item++;
    if (nr->lp && to->gen != t->gen + 1) {
        /* the load thread gets the table as it is now before the row that needs it */
        struct sl_schema *copy = NULL;
        rc = sl_schema_dup(nr->ctx, nr->schema, &copy);
        if (rc != SLUICE_OK)
            return rc;
        if (sl_loadpipe_schema(nr->lp, copy) != SLUICE_OK)
            return sl_nomem(nr->ctx);
        for (size_t i = 0; i < nr->nouts; i++)
            nr->outs[i].gen = nr->outs[i].t->gen + 1;
    }
    rc = sl_row_write(nr->ctx, &to->rf, vals, nvals, t->wd == SL_WD_MERGE ? nr->item : 0);
    if (rc != SLUICE_OK)
        return rc;
    if (nr->lp && to->rf.bytes - to->published >= (256 << 10)) {
        rc = sl_recfile_flush(nr->ctx, &to->rf);
        if (rc != SLUICE_OK)
            return rc;
        to->published = to->rf.bytes;
        if (sl_loadpipe_rows(nr->lp, (size_t)(to - nr->outs), t->name, to->published))
            return sl_nomem(nr->ctx);
    }
    SL_FAULT_POINT("normalize.row");
    to->rows++;
    nr->rows++;
    if (sl_run_tick(nr->p, &nr->tick)) {
        if (nr->pipe)
            sl_pipe_note_rows(nr->pipe, nr->rows); /* the caller's thread reports it */
        else
            sl_run_progress(nr->p, "normalize", t->name, to->rows, nr->rows, 0);
    }
    return SLUICE_OK;
}

/* Strings of a JSON array as a NULL-free const char* array (borrowed); n = 0 for non-arrays. */
static const char **str_list(const struct sl_json *arr, size_t *n)
{
    *n = 0;
    if (!arr || arr->type != SL_JSON_ARRAY || arr->len == 0)
        return NULL;
    const char **v = sl_calloc(arr->len, sizeof(*v));
    if (!v)
        return NULL;
    for (uint32_t i = 0; i < arr->len; i++)
        v[(*n)++] = sl_json_str(&arr->u.items[i]);
    return v;
}

/* The primary keys Singer SCHEMA messages gave their streams (key_properties), for the
 * resource being normalized: item number 0 records in its item file. */
struct stream_keys {
    char *stream;
    char **keys;
    size_t n;
};

struct keys_map {
    struct stream_keys *v;
    size_t n;
};

static const struct stream_keys *keys_find(const struct keys_map *m, const char *stream)
{
    for (size_t i = 0; stream && i < m->n; i++)
        if (strcmp(m->v[i].stream, stream) == 0)
            return &m->v[i];
    return NULL;
}

static void keys_free(struct keys_map *m)
{
    for (size_t i = 0; i < m->n; i++) {
        for (size_t k = 0; k < m->v[i].n; k++)
            sl_free(m->v[i].keys[k]);
        sl_free(m->v[i].keys);
        sl_free(m->v[i].stream);
    }
    sl_free(m->v);
    m->v = NULL;
    m->n = 0;
}

/* Remember stream's keys (the first SCHEMA of a stream wins, as the table's key cannot move). */
static sluice_status keys_note(struct sl_ctx *ctx, struct keys_map *m, const char *stream,
                               const struct sl_json *keys)
{
    if (!stream || !keys || keys->type != SL_JSON_ARRAY || keys->len == 0 ||
        keys_find(m, stream))
        return SLUICE_OK;
    struct stream_keys *v = sl_realloc(m->v, (m->n + 1) * sizeof(*v));
    if (!v)
        return sl_nomem(ctx);
    m->v = v;
    struct stream_keys *sk = &m->v[m->n];
    sk->stream = sl_strdup(stream);
    sk->keys = sl_calloc(keys->len, sizeof(char *));
    sk->n = 0;
    if (!sk->stream || !sk->keys) {
        sl_free(sk->stream);
        sl_free(sk->keys);
        return sl_nomem(ctx);
    }
    m->n++;
    for (uint32_t i = 0; i < keys->len; i++) {
        const char *k = sl_json_str(&keys->u.items[i]);
        if (!k)
            continue;
        sk->keys[sk->n] = sl_strdup(k);
        if (!sk->keys[sk->n])
            return sl_nomem(ctx);
        sk->n++;
    }
    return SLUICE_OK;
}

static sluice_status normalize_resource(struct norm_run *nr, struct sl_normalizer *norm,
                                        const struct sl_json *res, struct sl_follow *follow)
{
    struct sl_ctx *ctx = nr->ctx;
    sluice_status rc = SLUICE_OK;
    struct keys_map keys = { NULL, 0 };
    struct sl_norm_resource nres;
    memset(&nres, 0, sizeof(nres));
    nres.resource = sl_json_str(sl_json_get(res, "name"));
    nres.table_name = sl_json_str(sl_json_get(res, "table_name"));
    int wd = sl_wd_parse(sl_json_str(sl_json_get(res, "write_disposition")));
    nres.wd = wd < 0 ? SL_WD_APPEND : (enum sl_write_disposition)wd;
    const struct sl_json *pkj = sl_json_get(res, "primary_key");
    const struct sl_json *mkj = sl_json_get(res, "merge_key");
    const char **pk = str_list(pkj, &nres.n_pk);
    const char **mk = str_list(mkj, &nres.n_mk);
    /* a key list that could not be allocated must not read as "no key" (merge would then
     * keep every duplicate) */
    int oom = (!pk && pkj && pkj->type == SL_JSON_ARRAY && pkj->len) ||
              (!mk && mkj && mkj->type == SL_JSON_ARRAY && mkj->len);
    nres.primary_key = pk;
    nres.merge_key = mk;
    const struct sl_json *cols = sl_json_get(res, "columns");
    nres.columns = cols && cols->type == SL_JSON_OBJECT ? cols : NULL;
    const struct sl_json *mtn = sl_json_get(res, "max_table_nesting");
    nres.max_table_nesting = mtn && mtn->type == SL_JSON_INT ? mtn->u.i : -1;
    if (nres.wd == SL_WD_MERGE) {
        int ms = sl_merge_strategy_parse(sl_json_str(sl_json_get(res, "merge_strategy")));
        nres.strategy = ms < 0 ? SL_MERGE_DEFAULT : (enum sl_merge_strategy)ms;
        nres.valid_from = sl_json_str(sl_json_get(res, "valid_from"));
        nres.valid_to = sl_json_str(sl_json_get(res, "valid_to"));
        nres.row_version = sl_json_str(sl_json_get(res, "row_version"));
        nres.active_ts = sl_json_str(sl_json_get(res, "active_record_timestamp"));
        nres.boundary_ts = sl_json_str(sl_json_get(res, "boundary_timestamp"));
    }
    /* _dlt_root_id on nested rows: on for merge (but scd2, as dlt) unless the source says
     * root_key: false, and for any disposition with root_key: true (so a later switch to
     * merge finds it) */
    const struct sl_json *rk = sl_json_get(res, "root_key");
    int64_t root_key = rk && rk->type == SL_JSON_INT ? rk->u.i : -1;
    nres.root_key = root_key < 0 ? nres.wd == SL_WD_MERGE && nres.strategy != SL_MERGE_SCD2
                                 : root_key == 1;
    const char *file = sl_json_str(sl_json_get(res, "file"));
    char *path = file ? sl_aprintf("%s/%s", nr->dir, file) : NULL;
    struct sl_recfile rf;
    memset(&rf, 0, sizeof(rf));
    struct sl_arena arena;
    sl_arena_init(&arena, 64 * 1024);
    if (!nres.resource || !file) {
        rc = sl_package_damaged(ctx, nr->dir, "manifest.json", "names a resource without a "
                                                                "name or item file");
        goto done;
    }
    if (oom || !path) {
        rc = sl_nomem(ctx);
        goto done;
    }
    rc = sl_recfile_open(ctx, path, &rf);
    rf.follow = follow;
    /* a file extracted by an earlier run is checked against the manifest (one being written
     * right now has no checksum yet) */
    rf.want_sum = follow ? NULL : sl_json_str(sl_json_get(res, "checksum"));
    while (rc == SLUICE_OK) {
        struct sl_json *item = NULL;
        int64_t item_no = 0, line = 0;
        const char *table = NULL;
        /* a pending package being normalized stops here; one following an extraction is
         * stopped by the extraction (which sees the interrupt too) */
        if (!follow && sl_run_interrupted(nr->p)) {
            const char *slash = strrchr(nr->dir, '/');
            rc = sl_run_stop(ctx, NULL,
                             "normalizing load package %s: nothing of it was committed; it "
                             "stays pending and the next run loads it first",
                             slash ? slash + 1 : nr->dir);
            break;
        }
        sl_arena_reset(&arena);
        rc = sl_item_read(ctx, &rf, &arena, &item, &item_no, &line, &table);
        if (rc != SLUICE_OK || !item)
            break;
        if (item_no == 0) {
            /* a Singer stream's key_properties (extract.c on_schema) */
            rc = keys_note(ctx, &keys, table, sl_json_get(item, "key_properties"));
            continue;
        }
        const struct stream_keys *sk = nres.n_pk == 0 ? keys_find(&keys, table) : NULL;
        if (sk) {
            struct sl_norm_resource with_keys = nres;
            with_keys.primary_key = (const char *const *)sk->keys;
            with_keys.n_pk = sk->n;
            rc = sl_normalize_item(norm, &with_keys, item, item_no, table, emit_row, nr);
        } else {
            rc = sl_normalize_item(norm, &nres, item, item_no, table, emit_row, nr);
        }
        if (rc != SLUICE_OK)
            sl_fail_locate(ctx, nres.resource, item_no, NULL);
    }
done:
    keys_free(&keys);
    if (rf.f)
        sl_recfile_close(ctx, &rf, 0);
    sl_arena_cleanup(&arena);
    sl_free(path);
    sl_free(pk);
    sl_free(mk);
    return rc;
}


sluice_status sl_normalize_core(struct sluice_pipeline *p, struct sl_ctx *ctx, const char *dir,
                                const char *load_id, struct sl_schema *schema,
                                const struct sl_json *resources, struct sl_pipe *pipe,
                                struct sl_json **tables_out, char *schema_sum)
{
    sluice_status rc = SLUICE_OK;
    struct norm_run nr;
    memset(&nr, 0, sizeof(nr));
    nr.p = p;
    nr.ctx = ctx;
    nr.pipe = pipe;
    nr.lp = pipe ? sl_pipe_loadpipe(pipe) : NULL;
    nr.schema = schema;
    nr.dir = dir;
    struct sl_normalizer *norm = NULL;
    char *ndir = sl_aprintf("%s/normalized", dir);
    char *spath = sl_aprintf("%s/normalized/schema.json", dir);
    char *stext = NULL;
    struct sl_json *sj = NULL;
    struct sl_json *tables = sl_json_new_array();
    *tables_out = NULL;
    if (!ndir || !spath || !tables) {
        rc = sl_nomem(ctx);
        goto done;
    }
    /* a previous attempt may have left partial row files: start over */
    rc = sl_fs_rmtree(ctx, ndir);
    if (rc == SLUICE_OK)
        rc = sl_fs_mkdirs(ctx, ndir);
    if (rc == SLUICE_OK)
        rc = sl_normalizer_new(ctx, schema, load_id, &p->rng, &norm);
    if (rc == SLUICE_OK) {
        sl_normalizer_set_limits(norm, p->dm->max_columns, p->dm->reserved_prefix,
                                 p->dm->reserved_columns);
        sl_normalizer_set_max_identifier_length(norm, p->dm->max_identifier_length);
    }
    for (size_t i = 0; rc == SLUICE_OK; i++) {
        const struct sl_json *res = NULL;
        struct sl_follow *follow = NULL;
        if (pipe) {
            if (!sl_pipe_resource(pipe, i, &res, &follow))
                break;
        } else {
            if (i >= resources->len)
                break;
            res = &resources->u.items[i];
        }
        rc = normalize_resource(&nr, norm, res, follow);
    }
    for (size_t i = 0; i < nr.nouts; i++) {
        sluice_status crc = sl_recfile_close(ctx, &nr.outs[i].rf, 0);
        if (rc == SLUICE_OK)
            rc = crc;
        if (rc == SLUICE_OK && nr.lp &&
            sl_loadpipe_rows(nr.lp, i, nr.outs[i].t->name, nr.outs[i].rf.bytes))
            rc = sl_nomem(ctx);
    }
    if (nr.lp)
        sl_loadpipe_normalized(nr.lp); /* the rest comes with the manifest */
    if (rc != SLUICE_OK)
        goto done;
    SL_FAULT_POINT("normalize.after_rows");
    sl_schema_bump(schema);
    sj = sl_schema_to_json(schema);
    stext = sj ? sl_json_dumps(sj, SL_JSON_W_PRETTY) : NULL;
    if (!stext) {
        rc = sl_nomem(ctx);
        goto done;
    }
    rc = sl_fs_write_atomic(ctx, spath, stext, strlen(stext));
    if (rc != SLUICE_OK)
        goto done;
    sl_checksum_text(sl_checksum_add(0, stext, strlen(stext)), schema_sum);
    for (size_t i = 0; i < nr.nouts; i++) {
        struct sl_json t;
        sl_json_set_object(&t);
        char file[64];
        char sum[SL_CHECKSUM_TEXT];
        snprintf(file, sizeof(file), "normalized/%zu.rows", i);
        sl_checksum_text(nr.outs[i].rf.sum, sum);
        struct sl_json v;
        int bad = sl_json_obj_put_str(&t, "name", nr.outs[i].t->name) ||
                  sl_json_obj_put_str(&t, "file", file) ||
                  sl_json_obj_put_str(&t, "checksum", sum);
        sl_json_set_int(&v, nr.outs[i].rows);
        if (!bad && !sl_json_obj_set_take(&t, "rows", &v))
            bad = 1;
        if (bad || !sl_json_arr_push_take(tables, &t)) {
            sl_json_clear(&t);
            rc = sl_nomem(ctx);
            goto done;
        }
    }
    *tables_out = tables;
    tables = NULL;
done:
    for (size_t i = 0; i < nr.nouts; i++)
        if (nr.outs[i].rf.f)
            sl_recfile_abort(&nr.outs[i].rf);
    sl_free(nr.outs);
    sl_normalizer_free(&norm);
    sl_json_free(tables);
    sl_json_free(sj);
    sl_free(stext);
    sl_free(ndir);
    sl_free(spath);
    return rc;
}

void sl_normalize_report(struct sluice_pipeline *p, const struct sl_json *tables)
{
    int64_t total = 0;
    for (uint32_t i = 0; tables && i < tables->len; i++) {
        const struct sl_json *t = &tables->u.items[i];
        const struct sl_json *rows = sl_json_get(t, "rows");
        int64_t n = rows && rows->type == SL_JSON_INT ? rows->u.i : 0;
        total += n;
        sl_run_progress(p, "normalize", sl_json_str(sl_json_get(t, "name")), n, total, 0);
    }
    sl_run_progress(p, "normalize", "", total, total, 1);
}

sluice_status sl_normalize_package(struct sluice_pipeline *p, const char *dir,
                                   struct sl_json *manifest, struct sl_schema *schema)
{
    const char *load_id = sl_json_str(sl_json_get(manifest, "load_id"));
    const struct sl_json *resources = sl_json_get(manifest, "resources");
    if (!load_id || !resources || resources->type != SL_JSON_ARRAY)
        return sl_package_damaged(&p->ctx, dir, "manifest.json",
                                  "has no load_id or resources");
    struct sl_json *tables = NULL;
    char schema_sum[SL_CHECKSUM_TEXT];
    sluice_status rc = sl_normalize_core(p, &p->ctx, dir, load_id, schema, resources, NULL,
                                         &tables, schema_sum);
    if (rc != SLUICE_OK)
        return rc;
    sl_normalize_report(p, tables);
    if (!sl_json_obj_set_take(manifest, "tables", tables) ||
        sl_json_obj_put_str(manifest, "schema_checksum", schema_sum) ||
        sl_json_obj_put_str(manifest, "stage", "normalized")) {
        sl_json_free(tables);
        return sl_nomem(&p->ctx);
    }
    sl_free(tables); /* contents moved */
    SL_FAULT_POINT("normalize.before_manifest");
    return sl_manifest_write(&p->ctx, dir, manifest);
}
