/*
 * error.h — the error context every internal module reports into.
 *
 * A struct sl_ctx is owned by a pipeline (or a test) and passed to internal functions that can
 * fail. sl_fail*() records the FIRST error only (curl's error buffer): later failures while
 * unwinding keep the original cause. The recorded error is what sluice_last_error() returns.
 * Dependency errors are translated once, in the module wrapping that dependency.
 */
#ifndef SLUICE_ERROR_H
#define SLUICE_ERROR_H

#include <stdarg.h>
#include <stdint.h>

#include "sluice.h"

struct sl_ctx {
    sluice_status code;  /* SLUICE_OK when no error is pending */
    char origin[32];
    char detail[64];
    char resource[128];
    int64_t item;
    char field[256];
    char message[1024];
    /* logging */
    sluice_log_fn log_fn;
    void *log_ctx;
};

void sl_ctx_init(struct sl_ctx *c);
/* Forget the pending error (start of a public call). */
void sl_ctx_clear(struct sl_ctx *c);

/* Record an error if none is pending; returns code (the pending one if there was one). */
sluice_status sl_fail(struct sl_ctx *c, sluice_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same with a location: resource (or NULL), item number (or -1), field path (or NULL). */
sluice_status sl_fail_at(struct sl_ctx *c, sluice_status code, const char *resource,
                         int64_t item, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
sluice_status sl_failv(struct sl_ctx *c, sluice_status code, const char *fmt, va_list ap);
/* Fill in origin/detail of the pending error (only if they are still empty). */
void sl_fail_origin(struct sl_ctx *c, const char *origin, const char *detail);
/* Add location to the pending error where it is missing (used while unwinding). */
void sl_fail_locate(struct sl_ctx *c, const char *resource, int64_t item, const char *field);
sluice_status sl_nomem(struct sl_ctx *c);

/* Log through the pipeline's callback (no-op without one). */
void sl_log(struct sl_ctx *c, sluice_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Format the pending error as one line: "CLASS: message (resource r, item n, field f)". */
void sl_ctx_format(const struct sl_ctx *c, char *out, size_t outsz);

#define SL_ASSERT(x)                                                                           \
    do {                                                                                       \
        if (!(x))                                                                              \
            sl_assert_fail(#x, __FILE__, __LINE__);                                            \
    } while (0)
_Noreturn void sl_assert_fail(const char *expr, const char *file, int line);

#endif
