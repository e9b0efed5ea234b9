/*
 * alloc.c — allocator indirection, arenas and capped buffers (see alloc.h).
 *
 * The installed allocator is the library's only process-wide setting; it is set once by a
 * test harness before any handle exists. Arenas are lists of chunks; a reset keeps the first
 * (smallest) chunk so a steady-state batch loop does no malloc at all.
 */
#include "base/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *libc_malloc(void *ctx, size_t n) { (void)ctx; return malloc(n); }
static void *libc_realloc(void *ctx, void *p, size_t n) { (void)ctx; return realloc(p, n); }
static void libc_free(void *ctx, void *p) { (void)ctx; free(p); }

static struct sl_alloc cur = { libc_malloc, libc_realloc, libc_free, NULL };

void sl_alloc_set(const struct sl_alloc *a)
{
    if (a) {
        cur = *a;
    } else {
        cur.malloc_fn = libc_malloc;
        cur.realloc_fn = libc_realloc;
        cur.free_fn = libc_free;
        cur.ctx = NULL;
    }
}

void *sl_malloc(size_t size) { return cur.malloc_fn(cur.ctx, size ? size : 1); }

void *sl_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    size_t total = n * size;
    void *p = sl_malloc(total);
    if (p && total > 0)
        memset(p, 0, total);
    return p;
}

void *sl_realloc(void *ptr, size_t size) { return cur.realloc_fn(cur.ctx, ptr, size ? size : 1); }

void sl_free(void *ptr)
{
    if (ptr)
        cur.free_fn(cur.ctx, ptr);
}

char *sl_strndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *d = sl_malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *sl_strdup(const char *s) { return s ? sl_strndup(s, strlen(s)) : NULL; }

char *sl_aprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *s = sl_malloc((size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* ---- arena ------------------------------------------------------------------------------ */
struct sl_arena_chunk {
    struct sl_arena_chunk *next;
    size_t size;
    size_t used;
    /* data follows, 8-aligned */
    uint64_t data[];
};

void sl_free_secret(char *s)
{
    if (!s)
        return;
    for (volatile char *p = s; *p; p++)
        *p = '\0';
    sl_free(s);
}

void sl_strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        sl_free(v[i]);
    sl_free(v);
}

void sl_arena_init(struct sl_arena *a, size_t chunk_size)
{
    a->head = NULL;
    a->used_total = 0;
    a->chunk_size = chunk_size ? chunk_size : 64 * 1024;
}

void *sl_arena_alloc(struct sl_arena *a, size_t size)
{
    size = (size + 7) & ~(size_t)7;
    struct sl_arena_chunk *c = a->head;
    if (!c || c->size - c->used < size) {
        size_t csize = a->chunk_size;
        if (size > csize / 4)
            csize = size; /* big allocations get a chunk of their own */
        c = sl_malloc(sizeof(*c) + csize);
        if (!c)
            return NULL;
        c->size = csize;
        c->used = 0;
        if (csize == a->chunk_size || !a->head) {
            c->next = a->head;
            a->head = c;
        } else {
            /* keep the current partially used chunk at the head */
            c->next = a->head->next;
            a->head->next = c;
        }
    }
    void *p = (char *)c->data + c->used;
    c->used += size;
    a->used_total += size;
    return p;
}

char *sl_arena_strndup(struct sl_arena *a, const char *s, size_t n)
{
    char *d = sl_arena_alloc(a, n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void sl_arena_reset(struct sl_arena *a)
{
    struct sl_arena_chunk *keep = NULL;
    struct sl_arena_chunk *c = a->head;
    while (c) {
        struct sl_arena_chunk *next = c->next;
        if (!keep && c->size == a->chunk_size) {
            keep = c;
            keep->used = 0;
        } else {
            sl_free(c);
        }
        c = next;
    }
    if (keep)
        keep->next = NULL;
    a->head = keep;
    a->used_total = 0;
}

void sl_arena_cleanup(struct sl_arena *a)
{
    struct sl_arena_chunk *c = a->head;
    while (c) {
        struct sl_arena_chunk *next = c->next;
        sl_free(c);
        c = next;
    }
    a->head = NULL;
    a->used_total = 0;
}

/* ---- buffer ----------------------------------------------------------------------------- */
void sl_buf_init(struct sl_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : SIZE_MAX - 1;
}

int sl_buf_reserve(struct sl_buf *b, size_t extra)
{
    if (extra > b->max - b->len)
        return -1;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    char *p = sl_realloc(b->data, ncap);
    if (!p)
        return -1;
    b->data = p;
    b->cap = ncap;
    return 0;
}

int sl_buf_append_grow(struct sl_buf *b, const void *data, size_t n)
{
    if (sl_buf_reserve(b, n))
        return -1;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int sl_buf_puts(struct sl_buf *b, const char *s) { return sl_buf_append(b, s, strlen(s)); }

int sl_buf_printf(struct sl_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || sl_buf_reserve(b, (size_t)n))
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void sl_buf_reset(struct sl_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

char *sl_buf_take(struct sl_buf *b)
{
    char *d = b->data;
    if (!d)
        d = sl_strdup("");
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return d;
}

void sl_buf_cleanup(struct sl_buf *b)
{
    sl_free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}
