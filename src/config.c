/*
 * config.c — the pipeline config: YAML/JSON text → JSON tree → ${VAR} interpolation →
 * dlt-style environment overrides → validated struct sl_pipeline_cfg (config.h, DESIGN.md 4).
 *
 * The steps live in src/config/: yaml.c (reading, with lines), interp.c (${NAME}), env.c
 * (overrides), check.c (table-driven validators) and resource_keys.c (resource settings,
 * shared with the C API). This file checks the pipeline's own keys, its destination and its
 * sources, and holds the public entry points. Errors are CONFIG, "<where>: <what>", where
 * being "file:line" or "environment variable NAME".
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/fs.h"
#include "config/check.h"
#include "config/internal.h"
#include "config/resource_keys.h"
#include "config/rest_api.h"

/* ============================================================================================
 * Pipeline validation
 * ========================================================================================== */

static const char *const dest_types[] = { "sqlite", "duckdb", "postgres", NULL };

static const struct sl_check_field top_fields[] = {
    { "pipeline", SL_CHECK_STR, NULL, 0, true, false },
    { "destination", SL_CHECK_ANY, NULL, 0, false, false },
    { "dataset", SL_CHECK_STR, NULL, 0, false, false },
    { "max_table_nesting", SL_CHECK_INT, NULL, 0, false, false },
    { "archive_packages", SL_CHECK_BOOL, NULL, 0, false, false },
    { "sources", SL_CHECK_ANY, NULL, 0, true, false },
    { NULL, SL_CHECK_ANY, NULL, 0, false, false }
};
enum { TOP_PIPELINE, TOP_DESTINATION, TOP_DATASET, TOP_NESTING, TOP_ARCHIVE, TOP_SOURCES, TOP_N };

static const struct sl_check_field dest_fields[] = {
    { "type", SL_CHECK_ENUM, dest_types, 0, false, false },
    { "path", SL_CHECK_STR, NULL, 0, false, false },
    { "dsn", SL_CHECK_STR, NULL, 0, false, false },
    { "credentials", SL_CHECK_STR, NULL, 0, false, false },
    { "lock_timeout", SL_CHECK_NUM, NULL, 0, false, false },
    { NULL, SL_CHECK_ANY, NULL, 0, false, false }
};
enum { DEST_TYPE, DEST_PATH, DEST_DSN, DEST_CREDENTIALS, DEST_LOCK_TIMEOUT, DEST_N };

static const struct sl_check_field source_fields[] = {
    { "resources", SL_CHECK_ANY, NULL, 0, false, false },
    { "max_table_nesting", SL_CHECK_INT, NULL, 0, false, false },
    { "root_key", SL_CHECK_BOOL, NULL, 0, false, false },
    { "rest_api", SL_CHECK_ANY, NULL, 0, false, false },
    { NULL, SL_CHECK_ANY, NULL, 0, false, false }
};
enum { SRC_RESOURCES, SRC_NESTING, SRC_ROOT_KEY, SRC_REST_API, SRC_N };

/* Folder of path as an absolute path ("." and empty segments dropped; ".." kept, since
 * collapsing it would be wrong across symlinks). */
static sluice_status make_base_dir(struct sl_ctx *ctx, const char *path, char **out)
{
    struct sl_buf raw, norm;
    char *cwd = NULL;
    size_t dlen = 0;
    sluice_status rc = SLUICE_OK;

    *out = NULL;
    sl_buf_init(&raw, 0);
    sl_buf_init(&norm, 0);
    if (path) {
        const char *slash = strrchr(path, '/');
        dlen = slash ? (size_t)(slash - path) : 0;
        if (slash == path)
            dlen = 1;
    }
    if (!path || path[0] != '/') {
        size_t sz = 256;
        for (;;) {
            char *buf = sl_realloc(cwd, sz);
            if (!buf) {
                rc = sl_nomem(ctx);
                goto done;
            }
            cwd = buf;
            if (getcwd(cwd, sz))
                break;
            if (errno != ERANGE || sz > ((size_t)1 << 20)) {
                rc = sl_fail(ctx, SLUICE_ERR_IO, "cannot read the current directory: %s",
                             strerror(errno));
                goto done;
            }
            sz *= 2;
        }
        if (sl_buf_puts(&raw, cwd) || sl_buf_putc(&raw, '/')) {
            rc = sl_nomem(ctx);
            goto done;
        }
    }
    if (dlen && sl_buf_append(&raw, path, dlen)) {
        rc = sl_nomem(ctx);
        goto done;
    }
    /* normalise: drop empty and "." segments */
    const char *s = raw.data ? raw.data : "";
    while (*s) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n && !(n == 1 && s[0] == '.')) {
            if (sl_buf_putc(&norm, '/') || sl_buf_append(&norm, s, n)) {
                rc = sl_nomem(ctx);
                goto done;
            }
        }
        s += n;
        if (*s == '/')
            s++;
    }
    if (norm.len == 0 && sl_buf_putc(&norm, '/')) {
        rc = sl_nomem(ctx);
        goto done;
    }
    *out = sl_buf_take(&norm);
    if (!*out)
        rc = sl_nomem(ctx);
done:
    sl_free(cwd);
    sl_buf_cleanup(&raw);
    sl_buf_cleanup(&norm);
    return rc;
}

/* The path of dlt's SQLAlchemy-style URL of a file destination: "<type>:///relative.db"
 * (three slashes: a relative path) or "<type>:////absolute.db" (four: an absolute one); any
 * other text is a path already. Borrowed from url. */
const char *sl_cfg_file_url_path(const char *type, const char *url)
{
    size_t n = strlen(type);
    if (strncmp(url, type, n) == 0 && strncmp(url + n, ":///", 4) == 0)
        return url + n + 4; /* after "sqlite:///": "rel.db", or "/abs.db" from four slashes */
    return url;
}

static sluice_status check_destination(struct sl_check *c, struct sl_json *dest,
                                       struct sl_pipeline_cfg *cfg)
{
    struct sl_check_value val[DEST_N];
    const char *path = NULL, *dsn = NULL, *cred = NULL;
    size_t type = 0;
    sluice_status rc = SLUICE_OK;
    size_t old = sl_check_push(c, "destination");

    memset(val, 0, sizeof(val));
    if (dest && dest->type != SL_JSON_OBJECT) {
        rc = sl_check_type(c, dest, "a mapping (type, path, dsn)");
        goto done;
    }
    /* an unknown key that looks like a dsn is not echoed: it may hold a password */
    for (uint32_t i = 0; dest && i < dest->len && rc == SLUICE_OK; i++) {
        const struct sl_json_member *m = &dest->u.members[i];
        if (strpbrk(m->key, ":@/")) {
            bool known = false;
            for (size_t k = 0; dest_fields[k].key; k++)
                known = known || strcmp(m->key, dest_fields[k].key) == 0;
            if (!known)
                rc = sl_check_err(c, &m->val, "unknown key in 'destination' (not shown: it may "
                                              "hold a secret)");
        }
    }
    if (rc == SLUICE_OK && dest)
        rc = sl_check_fields(c, dest, dest_fields, val);
    if (rc != SLUICE_OK)
        goto done;
    type = val[DEST_TYPE].idx;
    path = val[DEST_PATH].s;
    dsn = val[DEST_DSN].s;
    cred = val[DEST_CREDENTIALS].s;
    bool pg = type == 2;
    if (cred && (pg ? dsn : path)) {
        rc = sl_check_err(c, sl_json_get(dest, "credentials"), "'destination.credentials' and "
                          "'destination.%s' are both set; keep one", pg ? "dsn" : "path");
        goto done;
    }
    if (pg && path) {
        rc = sl_check_err(c, sl_json_get(dest, "path"), "'destination.path' does not apply to "
                          "postgres (use 'dsn')");
        goto done;
    }
    if (!pg && dsn) {
        rc = sl_check_err(c, sl_json_get(dest, "dsn"), "'destination.dsn' applies only to "
                          "postgres (use 'path')");
        goto done;
    }
    if (val[DEST_LOCK_TIMEOUT].present) {
        double t = sl_json_num(sl_json_get(dest, "lock_timeout"));
        if (!(t >= 0 && t <= 86400)) {
            rc = sl_check_err(c, sl_json_get(dest, "lock_timeout"), "'destination.lock_timeout' "
                              "must be a number of seconds from 0 to 86400");
            goto done;
        }
        cfg->dest_lock_timeout_set = true;
        cfg->dest_lock_timeout = t;
    }
    if (pg && !dsn)
        dsn = cred;
    if (!pg && !path)
        path = cred;
    if (!pg && path)
        path = sl_cfg_file_url_path(dest_types[type], path);
    cfg->dest_type = sl_strdup(dest_types[type]);
    if (!cfg->dest_type) {
        rc = sl_nomem(c->ctx);
        goto done;
    }
    if (dsn) {
        cfg->dest_dsn = sl_strdup(dsn);
        if (!cfg->dest_dsn) {
            rc = sl_nomem(c->ctx);
            goto done;
        }
    }
    if (path) {
        bool keep = path[0] == '/' || strcmp(path, ":memory:") == 0 ||
                    strncmp(path, "file:", 5) == 0;
        cfg->dest_path = keep ? sl_strdup(path) : sl_aprintf("%s/%s", cfg->base_dir, path);
        if (!cfg->dest_path)
            rc = sl_nomem(c->ctx);
    }
done:
    sl_check_pop(c, old);
    return rc;
}

static sluice_status check_resource(struct sl_check *c, struct sl_resource_cfg *r,
                                    struct sl_json *v, int64_t source_nesting)
{
    sluice_status rc = SLUICE_OK;
    if (v->type != SL_JSON_OBJECT)
        return sl_check_err(c, v, "'%s' must be a mapping (from, write_disposition, ...)",
                            c->path);
    for (uint32_t i = 0; i < v->len && rc == SLUICE_OK; i++) {
        struct sl_json_member *m = &v->u.members[i];
        rc = sl_cfg_set_resource_key(c, r, m->key, &m->val);
    }
    if (rc == SLUICE_OK && r->from == SL_FROM_NONE)
        rc = sl_check_missing(c, v, "from");
    if (rc == SLUICE_OK && r->max_table_nesting < 0)
        r->max_table_nesting = source_nesting;
    return rc;
}

static sluice_status check_source(struct sl_check *c, struct sl_pipeline_cfg *cfg,
                                  const char *name, struct sl_json *src, size_t total)
{
    struct sl_check_value val[SRC_N];
    sluice_status rc;
    if (src->type != SL_JSON_OBJECT)
        return sl_check_err(c, src, "'%s' must be a mapping with 'resources'", c->path);
    rc = sl_check_fields(c, src, source_fields, val);
    if (rc != SLUICE_OK)
        return rc;
    int64_t nesting = val[SRC_NESTING].present ? val[SRC_NESTING].i : -1;
    /* dlt's source root_key: _dlt_root_id on nested rows whatever the disposition */
    int root_key = val[SRC_ROOT_KEY].present ? (val[SRC_ROOT_KEY].b ? 1 : 0) : -1;
    if (val[SRC_REST_API].present && val[SRC_RESOURCES].present)
        return sl_check_err(c, sl_json_get(src, "rest_api"), "'%s' has both 'resources' and "
                            "'rest_api'; a source has one of them", c->path);
    if (val[SRC_REST_API].present)
        return sl_cfg_rest_api(c, cfg, name, sl_json_get_mut(src, "rest_api"), total, nesting,
                               root_key);
    if (!val[SRC_RESOURCES].present)
        return sl_check_missing(c, src, "resources");
    struct sl_json *res = sl_json_get_mut(src, "resources");
    size_t old = sl_check_push(c, "resources");
    if (res->type != SL_JSON_OBJECT)
        rc = sl_check_err(c, res, "'%s' must be a mapping of resource names to resources", c->path);
    for (uint32_t i = 0; rc == SLUICE_OK && i < res->len; i++) {
        struct sl_json_member *m = &res->u.members[i];
        size_t old_rel = c->rel;
        size_t o = sl_check_push(c, m->key);
        c->rel = c->plen + 1;
        SL_ASSERT(cfg->nres < total);
        struct sl_resource_cfg *r = &cfg->resources[cfg->nres];
        if (sl_resource_cfg_init(r, name, m->key))
            rc = sl_nomem(c->ctx);
        else
            cfg->nres++;
        if (rc == SLUICE_OK)
            rc = check_resource(c, r, &m->val, nesting);
        if (rc == SLUICE_OK)
            r->root_key = root_key;
        c->rel = old_rel;
        sl_check_pop(c, o);
    }
    sl_check_pop(c, old);
    return rc;
}

static sluice_status check_sources(struct sl_check *c, struct sl_json *sources,
                                   struct sl_pipeline_cfg *cfg)
{
    size_t total = 0;
    sluice_status rc = SLUICE_OK;
    size_t old = sl_check_push(c, "sources");

    if (sources->type != SL_JSON_OBJECT) {
        rc = sl_check_type(c, sources, "a mapping of source names to sources");
        goto done;
    }
    for (uint32_t i = 0; i < sources->len; i++) {
        const struct sl_json *res = sl_json_get(&sources->u.members[i].val, "resources");
        if (res && res->type == SL_JSON_OBJECT)
            total += res->len;
        total += sl_cfg_rest_api_count(sl_json_get(&sources->u.members[i].val, "rest_api"));
    }
    cfg->resources = sl_calloc(total ? total : 1, sizeof(*cfg->resources));
    if (!cfg->resources) {
        rc = sl_nomem(c->ctx);
        goto done;
    }
    for (uint32_t i = 0; i < sources->len && rc == SLUICE_OK; i++) {
        struct sl_json_member *m = &sources->u.members[i];
        size_t old_rel = c->rel;
        size_t o = sl_check_push(c, m->key);
        c->rel = c->plen + 1;
        rc = check_source(c, cfg, m->key, &m->val, total);
        c->rel = old_rel;
        sl_check_pop(c, o);
    }
done:
    sl_check_pop(c, old);
    return rc;
}

static sluice_status check_pipeline(struct sl_check *c, struct sl_json *root,
                                    struct sl_pipeline_cfg *cfg)
{
    struct sl_check_value val[TOP_N];
    sluice_status rc = sl_check_fields(c, root, top_fields, val);
    if (rc != SLUICE_OK)
        return rc;
    const char *name = val[TOP_PIPELINE].s;
    if (strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        size_t old = sl_check_push(c, "pipeline");
        rc = sl_check_err(c, sl_json_get(root, "pipeline"), "'pipeline' must be a name without "
                          "'/' (it names the pipeline's folder)");
        sl_check_pop(c, old);
        return rc;
    }
    if (val[TOP_NESTING].present)
        cfg->max_table_nesting = val[TOP_NESTING].i;
    cfg->archive_packages = val[TOP_ARCHIVE].present && val[TOP_ARCHIVE].b;
    rc = check_destination(c, sl_json_get_mut(root, "destination"), cfg);
    if (rc == SLUICE_OK)
        rc = check_sources(c, sl_json_get_mut(root, "sources"), cfg);
    if (rc != SLUICE_OK)
        return rc;
    cfg->pipeline_name = sl_strdup(name);
    cfg->dataset = val[TOP_DATASET].s ? sl_strdup(val[TOP_DATASET].s)
                                      : sl_aprintf("%s_dataset", name);
    if (!cfg->pipeline_name || !cfg->dataset)
        return sl_nomem(c->ctx);
    return SLUICE_OK;
}

/* ============================================================================================
 * Public API
 * ========================================================================================== */

sluice_status sl_config_parse(struct sl_ctx *ctx, const char *path, const char *text, size_t len,
                              struct sl_pipeline_cfg **out)
{
    struct sl_json *root = NULL;
    struct sl_cfg_overrides ov;
    struct sl_cfg_envnames seen;
    struct sl_pipeline_cfg *cfg = NULL;
    struct sl_check c;
    sluice_status rc;

    *out = NULL;
    memset(&ov, 0, sizeof(ov));
    memset(&seen, 0, sizeof(seen));
    rc = sl_yaml_parse(ctx, path, text, len, &root);
    if (rc != SLUICE_OK)
        goto done;
    if (root->type == SL_JSON_NULL) {
        uint32_t line = root->line ? root->line : 1;
        sl_json_set_object(root);
        root->line = line;
    } else if (root->type != SL_JSON_OBJECT) {
        rc = sl_cfg_fail(ctx, "%s:%u: the config must be a mapping (pipeline, destination, "
                              "dataset, sources)", sl_cfg_file_name(path), root->line);
        goto done;
    }
    rc = sl_cfg_interpolate(ctx, path, root, &seen);
    if (rc == SLUICE_OK)
        rc = sl_cfg_apply_env(ctx, root, &ov);
    if (rc != SLUICE_OK)
        goto done;
    cfg = sl_calloc(1, sizeof(*cfg));
    if (!cfg) {
        rc = sl_nomem(ctx);
        goto done;
    }
    cfg->max_table_nesting = -1;
    if (path) {
        /* absolute: `sluice pipeline NAME ...` finds the config (and its dsn) from any dir */
        cfg->path = sl_fs_abspath(NULL, path);
        if (!cfg->path) {
            rc = sl_nomem(ctx);
            goto done;
        }
    }
    rc = make_base_dir(ctx, path, &cfg->base_dir);
    if (rc != SLUICE_OK)
        goto done;
    memset(&c, 0, sizeof(c));
    c.ctx = ctx;
    c.file = path;
    c.ov = &ov;
    rc = check_pipeline(&c, root, cfg);
    if (rc == SLUICE_OK) {
        *out = cfg;
        cfg = NULL;
    }
done:
    if (rc != SLUICE_OK)
        sl_cfg_scrub_error(ctx, &seen, &ov);
    sl_pipeline_cfg_free(&cfg);
    sl_json_free(root);
    sl_cfg_overrides_cleanup(&ov);
    sl_cfg_envnames_cleanup(&seen);
    return rc;
}

sluice_status sl_config_load(struct sl_ctx *ctx, const char *path, struct sl_pipeline_cfg **out)
{
    struct sl_buf b;
    FILE *f = NULL;
    char chunk[65536];
    sluice_status rc = SLUICE_OK;

    *out = NULL;
    sl_buf_init(&b, CFG_MAX_TEXT);
    if (!path) {
        rc = sl_fail(ctx, SLUICE_ERR_INVALID_ARG, "no config file given");
        goto done;
    }
    f = fopen(path, "rb");
    if (!f) {
        rc = sl_cfg_fail(ctx, "%s: cannot open the config file: %s", path, strerror(errno));
        goto done;
    }
    for (;;) {
        size_t n = fread(chunk, 1, sizeof(chunk), f);
        if (n && b.len + n > CFG_MAX_TEXT) {
            rc = sl_cfg_fail(ctx, "%s: the config is larger than %zu bytes", path, CFG_MAX_TEXT);
            goto done;
        }
        if (n && sl_buf_append(&b, chunk, n)) {
            rc = sl_nomem(ctx);
            goto done;
        }
        if (n < sizeof(chunk))
            break;
    }
    if (ferror(f)) {
        /* a folder, a device...: the path given as the config is wrong, a usage error */
        rc = sl_cfg_fail(ctx, "%s: cannot read the config file: %s", path, strerror(errno));
        goto done;
    }
    rc = sl_config_parse(ctx, path, b.data ? b.data : "", b.len, out);
done:
    if (f)
        fclose(f);
    sl_buf_cleanup(&b);
    return rc;
}
