/*
 * util.c — small helpers shared by the parts of config loading (see internal.h).
 */
#include "config/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *sl_cfg_file_name(const char *path)
{
    return path ? path : "<config>";
}

sluice_status sl_cfg_fail(struct sl_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sluice_status rc = sl_failv(ctx, SLUICE_ERR_CONFIG, fmt, ap);
    va_end(ap);
    if (rc == SLUICE_ERR_CONFIG)
        sl_fail_origin(ctx, "config", NULL);
    return rc;
}

/* Append to a fixed buffer, truncating silently (used for paths and messages only). */
void sl_cfg_app(char *out, size_t sz, size_t *n, const char *fmt, ...)
{
    if (*n + 1 >= sz)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(out + *n, sz - *n, fmt, ap);
    va_end(ap);
    if (k < 0) {
        out[*n] = '\0';
        return;
    }
    *n += (size_t)k;
    if (*n > sz - 1)
        *n = sz - 1;
}

bool sl_cfg_in_list(const char *s, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

long sl_cfg_list_index(const char *s, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return (long)i;
    return -1;
}

char sl_cfg_upper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

char sl_cfg_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

