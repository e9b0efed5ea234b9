/*
 * error.c — status names, first-error-wins recording and log dispatch (see error.h).
 */
#include "base/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[] = {
    "OK",     "NOMEM", "INVALID_ARG", "INVALID_OPTION", "CONFIG",   "SOURCE",
    "SOURCE_HTTP", "DATA_JSON", "DATA_SCHEMA", "STATE", "DEST", "IO", "INTERRUPTED",
    "INTERNAL", "LOCKED", "INCREMENTAL", "NOT_FOUND",
};

static const char *const texts[] = {
    "no error",
    "out of memory",
    "invalid argument",
    "invalid option",
    "invalid configuration",
    "source failed",
    "HTTP source failed",
    "malformed JSON",
    "data does not fit the schema",
    "pipeline state error",
    "destination error",
    "file system error",
    "interrupted",
    "internal error",
    "pipeline is locked by another run",
    "incremental cursor error",
    "not found",
};

const char *sluice_status_name(sluice_status s)
{
    if ((unsigned)s < sizeof(names) / sizeof(names[0]))
        return names[s];
    return "UNKNOWN";
}

const char *sluice_status_str(sluice_status s)
{
    if ((unsigned)s < sizeof(texts) / sizeof(texts[0]))
        return texts[s];
    return "unknown status";
}

void sl_ctx_init(struct sl_ctx *c)
{
    memset(c, 0, sizeof(*c));
    c->item = -1;
}

void sl_ctx_clear(struct sl_ctx *c)
{
    c->code = SLUICE_OK;
    c->origin[0] = c->detail[0] = c->resource[0] = c->field[0] = c->message[0] = '\0';
    c->item = -1;
}

static void copy(char *dst, size_t n, const char *src)
{
    if (!src)
        src = "";
    size_t l = strlen(src);
    if (l >= n)
        l = n - 1;
    memcpy(dst, src, l);
    dst[l] = '\0';
}

sluice_status sl_failv(struct sl_ctx *c, sluice_status code, const char *fmt, va_list ap)
{
    if (c->code != SLUICE_OK)
        return c->code;
    c->code = code;
    vsnprintf(c->message, sizeof(c->message), fmt, ap);
    for (char *p = c->message; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return code;
}

sluice_status sl_fail(struct sl_ctx *c, sluice_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sluice_status rc = sl_failv(c, code, fmt, ap);
    va_end(ap);
    return rc;
}

sluice_status sl_fail_at(struct sl_ctx *c, sluice_status code, const char *resource,
                         int64_t item, const char *field, const char *fmt, ...)
{
    if (c->code != SLUICE_OK)
        return c->code;
    va_list ap;
    va_start(ap, fmt);
    sl_failv(c, code, fmt, ap);
    va_end(ap);
    sl_fail_locate(c, resource, item, field);
    return code;
}

void sl_fail_origin(struct sl_ctx *c, const char *origin, const char *detail)
{
    if (origin && !c->origin[0])
        copy(c->origin, sizeof(c->origin), origin);
    if (detail && !c->detail[0])
        copy(c->detail, sizeof(c->detail), detail);
}

void sl_fail_locate(struct sl_ctx *c, const char *resource, int64_t item, const char *field)
{
    if (resource && !c->resource[0])
        copy(c->resource, sizeof(c->resource), resource);
    if (item >= 0 && c->item < 0)
        c->item = item;
    if (field && !c->field[0])
        copy(c->field, sizeof(c->field), field);
}

sluice_status sl_nomem(struct sl_ctx *c) { return sl_fail(c, SLUICE_ERR_NOMEM, "out of memory"); }

void sl_log(struct sl_ctx *c, sluice_log_level level, const char *fmt, ...)
{
    if (!c || !c->log_fn)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    c->log_fn(c->log_ctx, level, msg);
}

void sl_ctx_format(const struct sl_ctx *c, char *out, size_t outsz)
{
    size_t n = (size_t)snprintf(out, outsz, "%s: %s", sluice_status_name(c->code), c->message);
    if (n >= outsz)
        return;
    if (c->resource[0] || c->item >= 0 || c->field[0]) {
        const char *sep = " (";
        if (c->resource[0]) {
            n += (size_t)snprintf(out + n, outsz - n, "%sresource %s", sep, c->resource);
            sep = ", ";
        }
        if (n < outsz && c->item >= 0) {
            n += (size_t)snprintf(out + n, outsz - n, "%sitem %lld", sep, (long long)c->item);
            sep = ", ";
        }
        if (n < outsz && c->field[0])
            n += (size_t)snprintf(out + n, outsz - n, "%sfield %s", sep, c->field);
        if (n < outsz)
            snprintf(out + n, outsz - n, ")");
    }
}

_Noreturn void sl_assert_fail(const char *expr, const char *file, int line)
{
    /* The one place the library writes to stderr: an invariant broke, and a data tool must
     * stop rather than commit corrupt data. */
    fprintf(stderr, "sluice: assertion failed: %s (%s:%d)\n", expr, file, line);
    abort();
}
