/*
 * fuzz_util.h — helpers shared by the libFuzzer targets (fuzz/fuzz_*.c).
 *
 * FUZZ_CHECK(cond) aborts with the failed expression: libFuzzer saves the input as a crash,
 * exactly as for a sanitizer report. Invariants checked everywhere: a non-OK status comes with
 * a message in the context (the exit funnel's rule, STYLE.md 3.6), and text handed out is
 * NUL-terminated at its stated length.
 */
#ifndef SLUICE_FUZZ_UTIL_H
#define SLUICE_FUZZ_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

#define FUZZ_CHECK(cond)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond);    \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

/* A failed call must leave its error in ctx (code and a one-line message, no newline). */
static inline void fuzz_check_error(const struct sl_ctx *ctx, sluice_status rc)
{
    if (rc == SLUICE_OK)
        return;
    if (ctx->code == SLUICE_OK || ctx->message[0] == '\0' || strchr(ctx->message, '\n')) {
        fprintf(stderr, "status %d, ctx code %d, message '%s'\n", (int)rc, (int)ctx->code,
                ctx->message);
        FUZZ_CHECK(!"a failed call left no one-line message in ctx");
    }
}

/* A NUL-terminated copy of the fuzzer's bytes (malloc'd; free it). */
static inline char *fuzz_strndup(const unsigned char *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#endif
