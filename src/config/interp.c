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

static sluice_status interp_string(struct sl_ctx *ctx, const char *path, struct sl_json *v)
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

sluice_status sl_cfg_interpolate(struct sl_ctx *ctx, const char *path, struct sl_json *v)
{
    sluice_status rc = SLUICE_OK;
    if (v->type == SL_JSON_STRING)
        rc = interp_string(ctx, path, v);
    else if (v->type == SL_JSON_ARRAY)
        for (uint32_t i = 0; i < v->len && rc == SLUICE_OK; i++)
            rc = sl_cfg_interpolate(ctx, path, &v->u.items[i]);
    else if (v->type == SL_JSON_OBJECT)
        for (uint32_t i = 0; i < v->len && rc == SLUICE_OK; i++)
            rc = sl_cfg_interpolate(ctx, path, &v->u.members[i].val);
    return rc;
}
