/*
 * env.c — dlt-style environment overrides, applied to the config tree (a variable wins over
 * the file):
 *   SOURCES__<SOURCE>__<RESOURCE>__<KEY>[__<SUBKEY>...]  a resource setting
 *   SOURCES__<SOURCE>__<KEY>                            a source setting
 *   DESTINATION__CREDENTIALS / DESTINATION__<TYPE>__CREDENTIALS   the dsn (postgres) or path
 *   DESTINATION__PATH, DATASET_NAME, PIPELINE_NAME
 *   DESTINATION__TYPE                                   the destination type: the file's
 *       settings that do not apply to the new type are dropped (path for postgres, dsn for
 *       the file destinations, credentials when the type changes), so one config loads into
 *       another destination (the conformance runs of tests/cases do this)
 *
 * Names are matched case-insensitively, in a fixed order (fewer "__" segments first, then by
 * name, so the more specific variable wins). Values are parsed as YAML, except for keys whose
 * type is a string (commands, paths, credentials, table names, ...), which take the raw text:
 * a dsn or a "{type}" template is never reinterpreted. Nodes an override creates have line 0
 * and the override is remembered by key path, so a validation error names the variable
 * instead of a file line. A variable for a source or resource the file does not define is
 * ignored, as dlt ignores settings nobody asks for.
 */
#include "config/internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "config.h"

extern char **environ;

struct envvar {
    char *up;          /* upper-cased name (split in place when applied) */
    char *name;        /* the name as written */
    const char *value; /* borrowed from environ */
    size_t nseg;       /* "__"-separated segments, for the order */
};

/* Keys whose values are strings: an override takes the raw text, never parsed as YAML. */
static const char *const string_keys[] = {
    "command", "file",  "format",   "table_name", "cursor_path", "assume_tz",
    "dsn",     "path",  "credentials", "type",    "dataset",     "pipeline",
    "data_type", "disposition", "strategy",
    /* REST API settings that hold secrets or URLs: taken as they are */
    "token", "api_key", "password", "username", "client_id", "client_secret", "access_token",
    "access_token_url", "base_url", NULL
};

static void zero_lines(struct sl_json *v)
{
    v->line = 0;
    if (v->type == SL_JSON_ARRAY)
        for (uint32_t i = 0; i < v->len; i++)
            zero_lines(&v->u.items[i]);
    else if (v->type == SL_JSON_OBJECT)
        for (uint32_t i = 0; i < v->len; i++)
            zero_lines(&v->u.members[i].val);
}

void sl_cfg_overrides_cleanup(struct sl_cfg_overrides *o)
{
    for (size_t i = 0; i < o->n; i++) {
        sl_free(o->v[i].path);
        sl_free(o->v[i].env);
    }
    sl_free(o->v);
    memset(o, 0, sizeof(*o));
}

static sluice_status override_add(struct sl_ctx *ctx, struct sl_cfg_overrides *o, const char *path,
                                  const char *env)
{
    if (o->n == o->cap) {
        size_t ncap = o->cap ? o->cap * 2 : 8;
        struct sl_cfg_override *v = sl_realloc(o->v, ncap * sizeof(*v));
        if (!v)
            return sl_nomem(ctx);
        o->v = v;
        o->cap = ncap;
    }
    o->v[o->n].path = sl_strdup(path);
    o->v[o->n].env = sl_strdup(env);
    if (!o->v[o->n].path || !o->v[o->n].env) {
        sl_free(o->v[o->n].path);
        sl_free(o->v[o->n].env);
        return sl_nomem(ctx);
    }
    o->n++;
    return SLUICE_OK;
}

static bool key_eq_ci(const char *key, uint32_t klen, const char *seg)
{
    size_t sl = strlen(seg);
    if (klen != sl)
        return false;
    for (size_t i = 0; i < sl; i++)
        if (sl_cfg_upper(key[i]) != sl_cfg_upper(seg[i]))
            return false;
    return true;
}

static struct sl_json_member *find_ci(struct sl_json *obj, const char *seg)
{
    if (!obj || obj->type != SL_JSON_OBJECT)
        return NULL;
    for (uint32_t i = obj->len; i-- > 0;)
        if (key_eq_ci(obj->u.members[i].key, obj->u.members[i].key_len, seg))
            return &obj->u.members[i];
    return NULL;
}

/* The value of a variable as a tree with line 0 (raw text for string keys). */
static sluice_status env_value(struct sl_ctx *ctx, const char *key, const char *text,
                               struct sl_json *out)
{
    size_t n = strlen(text);
    sl_json_set_null(out);
    if (n > CFG_MAX_STRING)
        return sl_cfg_fail(ctx, "an environment variable for '%s' is longer than %zu bytes",
                           key, CFG_MAX_STRING);
    if (!sl_cfg_in_list(key, string_keys)) {
        struct sl_ctx scratch;
        struct sl_json *t = NULL;
        sl_ctx_init(&scratch);
        sluice_status rc = sl_yaml_parse(&scratch, NULL, text, n, &t);
        if (rc == SLUICE_ERR_NOMEM)
            return sl_nomem(ctx);
        if (rc == SLUICE_OK) {
            *out = *t;
            sl_free(t);
            zero_lines(out);
            return SLUICE_OK;
        }
        /* not YAML: taken as a plain string, as dlt does */
    }
    if (sl_json_set_str(out, text, n))
        return sl_nomem(ctx);
    return SLUICE_OK;
}

/* Set node.<segs...> = value, creating mappings on the way (lower-case keys). */
static sluice_status set_env_path(struct sl_ctx *ctx, struct sl_json *node, char **segs,
                                  size_t nseg, char *path, size_t plen,
                                  const struct envvar *e, struct sl_cfg_overrides *ov)
{
    size_t first_created = 0;
    bool created = false;
    for (size_t i = 0; i < nseg; i++) {
        struct sl_json_member *m = find_ci(node, segs[i]);
        for (char *c = segs[i]; *c; c++)
            *c = sl_cfg_lower(*c);
        const char *key = m ? m->key : segs[i];
        sl_cfg_app(path, CFG_PATH_MAX, &plen, ".%s", key);
        if (i + 1 == nseg) {
            struct sl_json val;
            sluice_status rc = env_value(ctx, segs[i], e->value, &val);
            if (rc != SLUICE_OK)
                return rc;
            if (!sl_json_obj_set_take(node, key, &val))
                return sl_nomem(ctx);
            if (created)
                path[first_created] = '\0';
            return override_add(ctx, ov, path, e->name);
        }
        if (!m) {
            struct sl_json obj;
            sl_json_set_object(&obj);
            struct sl_json *child = sl_json_obj_set_take(node, key, &obj);
            if (!child)
                return sl_nomem(ctx);
            if (!created) {
                created = true;
                first_created = plen;
            }
            node = child;
        } else if (m->val.type != SL_JSON_OBJECT) {
            return sl_cfg_fail(ctx, "environment variable %s: '%s' is not a mapping, so "
                                    "nothing can be set inside it", e->name, path);
        } else {
            node = &m->val;
        }
    }
    return SLUICE_OK;
}

/* Split s in place at every "__"; false when there are too many or empty segments. */
static bool split_segs(char *s, char **segs, size_t max, size_t *n)
{
    *n = 0;
    char *start = s;
    for (char *c = s;; c++) {
        bool end = *c == '\0';
        if (end || (c[0] == '_' && c[1] == '_')) {
            if (c == start || *n == max)
                return false;
            segs[(*n)++] = start;
            if (end)
                return true;
            *c = '\0';
            c++;
            start = c + 1;
        }
    }
}

static sluice_status apply_source_var(struct sl_ctx *ctx, struct sl_json *root,
                                      struct envvar *e, struct sl_cfg_overrides *ov)
{
    static const char *const source_level[] = { "RESOURCES", "MAX_TABLE_NESTING", NULL };
    char *segs[CFG_MAX_ENV_SEGS];
    size_t n = 0;
    char path[CFG_PATH_MAX];
    size_t plen = 0;
    size_t first = 1;

    if (!split_segs(e->up + strlen("SOURCES__"), segs, CFG_MAX_ENV_SEGS, &n) || n < 2)
        return SLUICE_OK;
    struct sl_json *sources = sl_json_get_mut(root, "sources");
    struct sl_json_member *sm = find_ci(sources, segs[0]);
    if (!sm || sm->val.type != SL_JSON_OBJECT)
        return SLUICE_OK;
    sl_cfg_app(path, sizeof(path), &plen, "sources.%s", sm->key);
    struct sl_json *node = &sm->val;
    if (!find_ci(node, segs[1])) {
        struct sl_json_member *rm = find_ci(sl_json_get_mut(node, "resources"), segs[1]);
        if (rm && rm->val.type == SL_JSON_OBJECT) {
            sl_cfg_app(path, sizeof(path), &plen, ".resources.%s", rm->key);
            node = &rm->val;
            first = 2;
        } else if (!sl_cfg_in_list(segs[1], source_level)) {
            return SLUICE_OK;
        }
    }
    if (first >= n)
        return SLUICE_OK;
    return set_env_path(ctx, node, segs + first, n - first, path, plen, e, ov);
}

/* DESTINATION__CREDENTIALS and DESTINATION__<TYPE>__CREDENTIALS set the dsn (postgres) or the
 * path (file destinations); DESTINATION__PATH the path. A "credentials" key in the file is an
 * alias of the same setting, so it is removed. */
static sluice_status apply_dest_var(struct sl_ctx *ctx, struct sl_json *root, struct envvar *e,
                                    const char *type_up, struct sl_cfg_overrides *ov)
{
    char typed[96];
    char opath[64];
    size_t tn = 0, on = 0;
    bool is_pg = strcmp(type_up, "POSTGRES") == 0;
    bool is_path_var = strcmp(e->up, "DESTINATION__PATH") == 0;
    const char *target = NULL;
    struct sl_json val;
    bool created;

    sl_cfg_app(typed, sizeof(typed), &tn, "DESTINATION__%s__CREDENTIALS", type_up);
    if (strcmp(e->up, "DESTINATION__CREDENTIALS") == 0 || strcmp(e->up, typed) == 0)
        target = is_pg ? "dsn" : "path";
    else if (is_path_var)
        target = "path";
    if (!target)
        return SLUICE_OK;
    created = sl_json_get(root, "destination") == NULL;
    struct sl_json *dest = sl_json_obj_setdefault(root, "destination", SL_JSON_OBJECT);
    if (!dest)
        return sl_nomem(ctx);
    if (dest->type != SL_JSON_OBJECT)
        return SLUICE_OK; /* validation reports the file's mistake */
    if (!(is_pg && is_path_var))
        sl_json_obj_del(dest, "credentials");
    if (sl_json_set_str(&val, e->value, strlen(e->value)))
        return sl_nomem(ctx);
    if (!sl_json_obj_set_take(dest, target, &val))
        return sl_nomem(ctx);
    if (created)
        sl_cfg_app(opath, sizeof(opath), &on, "destination");
    else
        sl_cfg_app(opath, sizeof(opath), &on, "destination.%s", target);
    return override_add(ctx, ov, opath, e->name);
}

/* DESTINATION__TYPE: the type, and the file's settings the new type cannot use dropped. */
static sluice_status apply_type_var(struct sl_ctx *ctx, struct sl_json *root,
                                    const struct envvar *e, struct sl_cfg_overrides *ov)
{
    struct sl_json val;
    struct sl_json *dest = sl_json_obj_setdefault(root, "destination", SL_JSON_OBJECT);
    if (!dest)
        return sl_nomem(ctx);
    if (dest->type != SL_JSON_OBJECT)
        return SLUICE_OK; /* validation reports the file's mistake */
    const char *old = sl_json_str(sl_json_get(dest, "type"));
    bool pg = key_eq_ci(e->value, (uint32_t)strlen(e->value), "postgres");
    if (!old || !key_eq_ci(old, (uint32_t)strlen(old), e->value))
        sl_json_obj_del(dest, "credentials");
    sl_json_obj_del(dest, pg ? "path" : "dsn");
    if (sl_json_set_str(&val, e->value, strlen(e->value)))
        return sl_nomem(ctx);
    if (!sl_json_obj_set_take(dest, "type", &val))
        return sl_nomem(ctx);
    return override_add(ctx, ov, "destination.type", e->name);
}

static sluice_status apply_top_var(struct sl_ctx *ctx, struct sl_json *root, struct envvar *e,
                                   const char *key, struct sl_cfg_overrides *ov)
{
    struct sl_json val;
    if (sl_json_set_str(&val, e->value, strlen(e->value)))
        return sl_nomem(ctx);
    if (!sl_json_obj_set_take(root, key, &val))
        return sl_nomem(ctx);
    return override_add(ctx, ov, key, e->name);
}

static int cmp_envvar(const void *a, const void *b)
{
    const struct envvar *x = a;
    const struct envvar *y = b;
    if (x->nseg != y->nseg)
        return x->nseg < y->nseg ? -1 : 1;
    int c = strcmp(x->up, y->up);
    return c ? c : strcmp(x->name, y->name);
}

static bool env_wanted(const char *up)
{
    return strncmp(up, "SOURCES__", 9) == 0 || strncmp(up, "DESTINATION__", 13) == 0 ||
           strcmp(up, "DATASET_NAME") == 0 || strcmp(up, "PIPELINE_NAME") == 0;
}

sluice_status sl_cfg_apply_env(struct sl_ctx *ctx, struct sl_json *root, struct sl_cfg_overrides *ov)
{
    struct envvar *vars = NULL;
    size_t n = 0, cap = 0;
    char type_up[32] = "SQLITE";
    sluice_status rc = SLUICE_OK;

    for (char **ep = environ; ep && *ep && rc == SLUICE_OK; ep++) {
        const char *eq = strchr(*ep, '=');
        size_t nl = eq ? (size_t)(eq - *ep) : 0;
        char *up;
        if (nl == 0)
            continue;
        up = sl_strndup(*ep, nl);
        if (!up) {
            rc = sl_nomem(ctx);
            break;
        }
        for (char *c = up; *c; c++)
            *c = sl_cfg_upper(*c);
        if (!env_wanted(up)) {
            sl_free(up);
            continue;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct envvar *nv = sl_realloc(vars, ncap * sizeof(*nv));
            if (!nv) {
                sl_free(up);
                rc = sl_nomem(ctx);
                break;
            }
            vars = nv;
            cap = ncap;
        }
        vars[n].up = up;
        vars[n].name = sl_strndup(*ep, nl);
        vars[n].value = eq + 1;
        vars[n].nseg = 1;
        for (const char *c = strstr(up, "__"); c; c = strstr(c + 2, "__"))
            vars[n].nseg++;
        n++;
        if (!vars[n - 1].name)
            rc = sl_nomem(ctx);
    }
    if (rc == SLUICE_OK && n > 1)
        qsort(vars, n, sizeof(*vars), cmp_envvar);

    /* The destination type: DESTINATION__TYPE, else the file's. */
    for (size_t i = 0; i < n && rc == SLUICE_OK; i++)
        if (strcmp(vars[i].up, "DESTINATION__TYPE") == 0)
            rc = apply_type_var(ctx, root, &vars[i], ov);
    const struct sl_json *dest = sl_json_get(root, "destination");
    const char *t = sl_json_str(sl_json_get(dest, "type"));
    if (t && strlen(t) < sizeof(type_up)) {
        size_t i = 0;
        for (; t[i]; i++)
            type_up[i] = sl_cfg_upper(t[i]);
        type_up[i] = '\0';
    }
    for (size_t i = 0; i < n && rc == SLUICE_OK; i++) {
        struct envvar *e = &vars[i];
        if (strncmp(e->up, "SOURCES__", 9) == 0)
            rc = apply_source_var(ctx, root, e, ov);
        else if (strcmp(e->up, "DESTINATION__TYPE") == 0)
            continue; /* applied above */
        else if (strncmp(e->up, "DESTINATION__", 13) == 0)
            rc = apply_dest_var(ctx, root, e, type_up, ov);
        else if (strcmp(e->up, "PIPELINE_NAME") == 0)
            rc = apply_top_var(ctx, root, e, "pipeline", ov);
        else
            rc = apply_top_var(ctx, root, e, "dataset", ov);
    }
    for (size_t i = 0; i < n; i++) {
        sl_free(vars[i].up);
        sl_free(vars[i].name);
    }
    sl_free(vars);
    return rc;
}
