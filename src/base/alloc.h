/*
 * alloc.h — the one allocation entry point, per-batch arenas and capped buffers.
 *
 * Every allocation in the library goes through sl_malloc/sl_realloc/sl_free so that tests can
 * install a counting or failing allocator (sl_alloc_set). Arenas hold short-lived values (one
 * parsed item, one batch of normalized rows) and are reset, not freed, between batches; their
 * memory is bounded by the largest batch. sl_buf is a growable byte buffer with a hard cap:
 * growing past the cap fails (the caller turns that into a DATA_ or SOURCE_ error).
 */
#ifndef SLUICE_ALLOC_H
#define SLUICE_ALLOC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct sl_alloc {
    void *(*malloc_fn)(void *ctx, size_t size);
    void *(*realloc_fn)(void *ctx, void *ptr, size_t size);
    void (*free_fn)(void *ctx, void *ptr);
    void *ctx;
};

/* Install an allocator (NULL restores libc). Not thread-safe: call before any other use. */
void sl_alloc_set(const struct sl_alloc *a);

void *sl_malloc(size_t size);
void *sl_calloc(size_t n, size_t size);
void *sl_realloc(void *ptr, size_t size);
void sl_free(void *ptr);
/* Copies of strings; NULL when out of memory (or when s is NULL). */
char *sl_strdup(const char *s);
char *sl_strndup(const char *s, size_t n);
/* printf into a new sl_malloc'd string; NULL when out of memory. */
char *sl_aprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Free a string that may hold a secret (a dsn, a token), zeroing it first. NULL is fine. */
void sl_free_secret(char *s);
/* Free an array of n strings and the array itself. NULL is fine. */
void sl_strv_free(char **v, size_t n);

/* ---- arena ------------------------------------------------------------------------------ */
struct sl_arena_chunk;
struct sl_arena {
    struct sl_arena_chunk *head; /* current chunk (list of chunks, newest first) */
    size_t used_total;           /* bytes handed out since the last reset */
    size_t chunk_size;           /* default chunk size */
};

void sl_arena_init(struct sl_arena *a, size_t chunk_size);
/* Aligned (8 bytes) allocation; NULL when out of memory. */
void *sl_arena_alloc(struct sl_arena *a, size_t size);
char *sl_arena_strndup(struct sl_arena *a, const char *s, size_t n);
/* Forget everything allocated; keeps one chunk for reuse. */
void sl_arena_reset(struct sl_arena *a);
void sl_arena_cleanup(struct sl_arena *a);

/* ---- capped growable buffer ------------------------------------------------------------- */
struct sl_buf {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    size_t max; /* hard cap on len; 0 = SIZE_MAX */
};

void sl_buf_init(struct sl_buf *b, size_t max);
/* 0 on success, -1 when out of memory or above the cap (b->len unchanged). */
int sl_buf_reserve(struct sl_buf *b, size_t extra);
/* sl_buf_append when the bytes do not fit in the buffer as it is: grows it first. */
int sl_buf_append_grow(struct sl_buf *b, const void *data, size_t n);
/* Inline: the record and JSON encoders append a few bytes per call, tens of millions of times
 * in a large run (a call each was ~3.5% of a 1M-item append's samples). */
static inline int sl_buf_append(struct sl_buf *b, const void *data, size_t n)
{
    if (n < b->cap - b->len && n <= b->max - b->len) {
        if (n)
            memcpy(b->data + b->len, data, n);
        b->len += n;
        b->data[b->len] = '\0';
        return 0;
    }
    return sl_buf_append_grow(b, data, n);
}
static inline int sl_buf_putc(struct sl_buf *b, char c) { return sl_buf_append(b, &c, 1); }
int sl_buf_puts(struct sl_buf *b, const char *s);
int sl_buf_printf(struct sl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sl_buf_reset(struct sl_buf *b); /* len = 0, keeps memory */
/* Hand the data to the caller (sl_free it); the buffer is empty afterwards. */
char *sl_buf_take(struct sl_buf *b);
void sl_buf_cleanup(struct sl_buf *b);

#endif
