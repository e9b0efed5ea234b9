/*
 * interp.c — ${NAME} references in string values, replaced from the environment.
 *
 * Only values, never keys; the result stays a string; $${ gives a literal ${. An unset
 * variable is an error naming it and the line, never an empty string.
 */
#include "config/internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

static bool var_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > 255)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                  (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

static sluice_status interp_put(struct sl_ctx *ctx, const char *path, uint32_t line,
                                struct sl_buf *b, const char *d, size_t n)
{
    if (n > CFG_MAX_STRING - b->len)
        return sl_cfg_fail(ctx, "%s:%u: a value is longer than %zu bytes after ${...} "
                                "substitution", sl_cfg_file_name(path), line, CFG_MAX_STRING);
    if (sl_buf_append(b, d, n))
        return sl_nomem(ctx);
    return SLUICE_OK;
}

static sluice_status note_name(struct sl_ctx *ctx, struct sl_cfg_envnames *seen, const char *name)
{
    for (size_t i = 0; i < seen->n; i++)
        if (strcmp(seen->v[i], name) == 0)
            return SLUICE_OK;
    if (seen->n == seen->cap) {
        size_t ncap = seen->cap ? seen->cap * 2 : 8;
        char **v = sl_realloc(seen->v, ncap * sizeof(*v));
        if (!v)
            return sl_nomem(ctx);
        seen->v = v;
        seen->cap = ncap;
    }
    seen->v[seen->n] = sl_strdup(name);
    if (!seen->v[seen->n])
        return sl_nomem(ctx);
    seen->n++;
    return SLUICE_OK;
}

void sl_cfg_envnames_cleanup(struct sl_cfg_envnames *seen)
{
    for (size_t i = 0; i < seen->n; i++)
        sl_free(seen->v[i]);
    sl_free(seen->v);
    memset(seen, 0, sizeof(*seen));
}

static sluice_status interp_string(struct sl_ctx *ctx, const char *path, struct sl_json *v,
                                   struct sl_cfg_envnames *seen)
{
    const char *s = v->s;
    size_t n = v->len;
    size_t i = 0;
    struct sl_buf b;
    sluice_status rc = SLUICE_OK;
    char var[256];

    if (!memchr(s, '$', n))
        return SLUICE_OK;
    sl_buf_init(&b, CFG_MAX_STRING);
    while (i < n && rc == SLUICE_OK) {
        const char *dollar = memchr(s + i, '$', n - i);
        size_t run = dollar ? (size_t)(dollar - (s + i)) : n - i;
        rc = interp_put(ctx, path, v->line, &b, s + i, run);
        i += run;
        if (rc != SLUICE_OK || i >= n)
            break;
        if (n - i >= 3 && s[i + 1] == '$' && s[i + 2] == '{') {
            rc = interp_put(ctx, path, v->line, &b, "${", 2);
            i += 3;
        } else if (n - i >= 2 && s[i + 1] == '{') {
            const char *name = s + i + 2;
            const char *end = memchr(name, '}', n - i - 2);
            size_t nl = end ? (size_t)(end - name) : 0;
            const char *val;
            if (!end) {
                rc = sl_cfg_fail(ctx, "%s:%u: unterminated '${' in a value (write '$${' for a "
                                      "literal '${')", sl_cfg_file_name(path), v->line);
                break;
            }
            if (!var_name_ok(name, nl)) {
                rc = sl_cfg_fail(ctx, "%s:%u: '${%.*s}' is not a valid environment variable "
                                      "reference", sl_cfg_file_name(path), v->line,
                                 (int)(nl > 64 ? 64 : nl), name);
                break;
            }
            memcpy(var, name, nl);
            var[nl] = '\0';
            val = getenv(var);
            if (!val) {
                rc = sl_cfg_fail(ctx, "%s:%u: environment variable '%s' is not set",
                                 sl_cfg_file_name(path), v->line, var);
                break;
            }
            rc = note_name(ctx, seen, var);
            if (rc == SLUICE_OK)
                rc = interp_put(ctx, path, v->line, &b, val, strlen(val));
            i = (size_t)(end - s) + 1;
        } else {
            rc = interp_put(ctx, path, v->line, &b, "$", 1);
            i++;
        }
    }
    if (rc == SLUICE_OK) {
        size_t nl = b.len;
        char *ns = sl_buf_take(&b);
        if (!ns) {
            rc = sl_nomem(ctx);
        } else {
            sl_free_secret((char *)v->s);
            v->s = ns;
            v->len = (uint32_t)nl;
        }
    }
    sl_buf_cleanup(&b);
    return rc;
}

sluice_status sl_cfg_interpolate(struct sl_ctx *ctx, const char *path, struct sl_json *v,
                                 struct sl_cfg_envnames *seen)
{
    sluice_status rc = SLUICE_OK;
    if (v->type == SL_JSON_STRING)
        rc = interp_string(ctx, path, v, seen);
    else if (v->type == SL_JSON_ARRAY)
        for (uint32_t i = 0; i < v->len && rc == SLUICE_OK; i++)
            rc = sl_cfg_interpolate(ctx, path, &v->u.items[i], seen);
    else if (v->type == SL_JSON_OBJECT)
        for (uint32_t i = 0; i < v->len && rc == SLUICE_OK; i++)
            rc = sl_cfg_interpolate(ctx, path, &v->u.members[i].val, seen);
    return rc;
}

static size_t put_capped(char *out, size_t cap, size_t o, const char *s, size_t n)
{
    if (n > cap - 1 - o)
        n = cap - 1 - o;
    memcpy(out + o, s, n);
    return o + n;
}

/* Replace every occurrence of val in buf (NUL-terminated, size bytes) by ${name}, cut at the
 * buffer's end. */
static void scrub_buf(char *buf, size_t size, const char *name, const char *val)
{
    char out[1024];
    size_t o = 0;
    size_t vl = strlen(val);
    const char *p = buf;
    const char *hit;
    if (size > sizeof(out))
        size = sizeof(out);
    while ((hit = strstr(p, val)) != NULL) {
        o = put_capped(out, size, o, p, (size_t)(hit - p));
        o = put_capped(out, size, o, "${", 2);
        o = put_capped(out, size, o, name, strlen(name));
        o = put_capped(out, size, o, "}", 1);
        p = hit + vl;
    }
    if (p == buf)
        return;
    o = put_capped(out, size, o, p, strlen(p));
    memcpy(buf, out, o);
    buf[o] = '\0';
}

static void scrub_one(struct sl_ctx *ctx, const char *name)
{
    const char *val = getenv(name);
    size_t n = val ? strlen(val) : 0;
    if (n < 4 || strspn(val, "0123456789+-.") == n)
        return;
    scrub_buf(ctx->message, sizeof(ctx->message), name, val);
    scrub_buf(ctx->field, sizeof(ctx->field), name, val);
}

void sl_cfg_scrub_error(struct sl_ctx *ctx, const struct sl_cfg_envnames *seen,
                        const struct sl_cfg_overrides *ov)
{
    for (size_t i = 0; seen && i < seen->n; i++)
        scrub_one(ctx, seen->v[i]);
    for (size_t i = 0; ov && i < ov->n; i++)
        scrub_one(ctx, ov->v[i].env);
}
