/*
 * package.c — binary record files for load packages (see package.h).
 *
 * Why binary: the extracted items are read back by the normalizer and the normalized rows by
 * the loader; re-parsing JSON text there would cost a second full parse (yajl runs at ~1.5 M
 * items/s, the whole pipeline targets several hundred thousand), while decoding this format is
 * a walk over a buffer with no string copies. Integers are little-endian fixed width; the
 * format never leaves the machine that wrote it (a package is loaded where it was made).
 *
 * Record: u32 length, then payload. Item payload: i64 item_no, i64 line, u32 table length +
 * bytes + NUL (0xFFFFFFFF = no table), then the value. Value: u8 tag, then
 *   null/false/true: nothing; int: i64; double: f64, u32 len + text + NUL (len 0: no text);
 *   bigint/string: u32 len + bytes + NUL; array: u32 n + n values;
 *   object: u32 n + n × (u32 keylen + key + NUL + value).
 * Row payload: u32 n, then n × (u8 kind + payload): int i64, double f64, bool u8,
 * text u32 len + bytes + NUL. When n has its top bit set (ROW_ITEM_FLAG), an i64 follows it
 * before the values: the ordinal of the package item the row comes from (merge tables; rows
 * of packages written before it have none).
 *
 * An item file followed while it is written (pipe.h) is never read again: the package it
 * belongs to comes out normalized, or is discarded. So the reader gives the disk blocks behind
 * it back as it goes (a hole punched every FOLLOW_PUNCH bytes): the page cache drops them
 * before they are ever written back, and a large package does not push the kernel into
 * throttling its writers on gigabytes of dirty pages nobody will read (issue 12 point 4).
 */
#define _GNU_SOURCE /* fallocate */
#include "run/package.h"
#include "run/pipe.h"

#include <fcntl.h>

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "base/digest.h"

#define REC_MAX ((size_t)1 << 31)
#define FOLLOW_PUNCH ((int64_t)32 << 20)
/* I/O size of a package file. A writer encodes its records straight into rf->buf and writes
 * it out when it holds REC_IOBUF bytes; a reader reads REC_IOBUF bytes at a time into
 * rf->iobuf and decodes the records where they lie (one that does not fit is put together in
 * rf->buf). Through stdio every record was copied twice more, into the FILE's buffer and out
 * of it (fwrite / fread, ~465 MB each way for 1M nested items, and a lock per call). 256 KiB
 * is what a writer hands over at a time (extract.c, stage_normalize.c), so a follower reads a
 * published chunk in one call. */
#define REC_IOBUF ((size_t)256 << 10)
#define ROW_ITEM_FLAG 0x80000000u

static sluice_status io_fail(struct sl_ctx *ctx, const char *what, const char *path)
{
    sl_fail(ctx, SLUICE_ERR_IO, "%s '%s': %s", what, path, strerror(errno));
    sl_fail_origin(ctx, "fs", NULL);
    return SLUICE_ERR_IO;
}

sluice_status sl_package_damaged(struct sl_ctx *ctx, const char *dir, const char *file,
                                 const char *fmt, ...)
{
    if (ctx->code != SLUICE_OK)
        return ctx->code;
    char why[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    sl_fail(ctx, SLUICE_ERR_IO, "load package %s: %s %s", dir, file, why);
    sl_fail_origin(ctx, "package", "corrupt"); /* the pipeline discards such a package */
    return SLUICE_ERR_IO;
}

/* path split into the package dir and the file inside it ("normalized/0.rows"). */
static void split_path(const char *path, char *dir, size_t dirsz, const char **file)
{
    const char *slash = strrchr(path, '/');
    const char *cut = slash;
    if (slash && slash > path) {
        /* one level up too: <dir>/extracted/0.items, <dir>/normalized/0.rows */
        const char *p2 = slash - 1;
        while (p2 > path && *p2 != '/')
            p2--;
        if (*p2 == '/')
            cut = p2;
    }
    size_t n = cut ? (size_t)(cut - path) : 0;
    if (n >= dirsz)
        n = dirsz - 1;
    memcpy(dir, path, n);
    dir[n] = '\0';
    *file = cut ? cut + 1 : path;
}

/* Give the just opened reader out its REC_IOBUF buffer (closes it when there is no memory). */
static sluice_status recfile_buffer(struct sl_ctx *ctx, struct sl_recfile *out)
{
    out->iobuf = sl_malloc(REC_IOBUF);
    if (!out->iobuf) {
        fclose(out->f);
        out->f = NULL;
        sl_free(out->path);
        out->path = NULL;
        return sl_nomem(ctx);
    }
    return SLUICE_OK;
}

sluice_status sl_recfile_create(struct sl_ctx *ctx, const char *path, struct sl_recfile *out)
{
    memset(out, 0, sizeof(*out));
    sl_buf_init(&out->buf, REC_MAX);
    out->path = sl_strdup(path);
    if (!out->path)
        return sl_nomem(ctx);
    out->f = fopen(path, "wbe");
    if (!out->f) {
        sluice_status rc = io_fail(ctx, "cannot create", path);
        sl_free(out->path);
        out->path = NULL;
        return rc;
    }
    return SLUICE_OK;
}

sluice_status sl_recfile_flush(struct sl_ctx *ctx, struct sl_recfile *rf)
{
    const char *p = rf->buf.data;
    size_t left = rf->buf.len;
    while (left) {
        ssize_t w = write(fileno(rf->f), p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return io_fail(ctx, "cannot write", rf->path);
        }
        p += w;
        left -= (size_t)w;
    }
    sl_buf_reset(&rf->buf);
    return SLUICE_OK;
}

sluice_status sl_recfile_open(struct sl_ctx *ctx, const char *path, struct sl_recfile *out)
{
    memset(out, 0, sizeof(*out));
    sl_buf_init(&out->buf, REC_MAX);
    out->path = sl_strdup(path);
    if (!out->path)
        return sl_nomem(ctx);
    out->f = fopen(path, "rbe");
    if (!out->f) {
        char dir[512];
        const char *file;
        split_path(path, dir, sizeof(dir), &file);
        sluice_status rc = sl_package_damaged(ctx, dir, file, "cannot be read: %s",
                                              strerror(errno));
        sl_free(out->path);
        out->path = NULL;
        return rc;
    }
    return recfile_buffer(ctx, out);
}

sluice_status sl_recfile_close(struct sl_ctx *ctx, struct sl_recfile *rf, int sync)
{
    sluice_status rc = SLUICE_OK;
    if (rf->f) {
        if (!rf->iobuf) /* a writer */
            rc = sl_recfile_flush(ctx, rf);
        if (rc == SLUICE_OK && sync && fsync(fileno(rf->f)) != 0)
            rc = io_fail(ctx, "cannot write", rf->path);
        if (fclose(rf->f) != 0 && rc == SLUICE_OK)
            rc = io_fail(ctx, "cannot close", rf->path);
        rf->f = NULL;
    }
    sl_free(rf->iobuf);
    rf->iobuf = NULL;
    sl_buf_cleanup(&rf->buf);
    sl_free(rf->path);
    rf->path = NULL;
    return rc;
}

void sl_recfile_abort(struct sl_recfile *rf)
{
    if (rf->f)
        fclose(rf->f);
    rf->f = NULL;
    sl_free(rf->iobuf);
    rf->iobuf = NULL;
    sl_buf_cleanup(&rf->buf);
    sl_free(rf->path);
    rf->path = NULL;
}

/* ---- encoding --------------------------------------------------------------------------- */

enum { T_NULL, T_FALSE, T_TRUE, T_INT, T_DOUBLE, T_BIGINT, T_STRING, T_ARRAY, T_OBJECT };

static int put_u32(struct sl_buf *b, uint32_t v) { return sl_buf_append(b, &v, 4); }
static int put_i64(struct sl_buf *b, int64_t v) { return sl_buf_append(b, &v, 8); }

static int put_str(struct sl_buf *b, const char *s, size_t len)
{
    if (len >= 0xFFFFFFFFu)
        return -1;
    size_t need = 4 + len + 1; /* sl_buf_reserve's test inline: a call per string was ~1% */
    if ((need >= b->cap - b->len || need > b->max - b->len) && sl_buf_reserve(b, need))
        return -1;
    uint32_t l = (uint32_t)len;
    memcpy(b->data + b->len, &l, 4);
    if (len)
        memcpy(b->data + b->len + 4, s, len);
    b->data[b->len + 4 + len] = '\0';
    b->len += 4 + len + 1;
    return 0;
}

static int put_value(struct sl_buf *b, const struct sl_json *v)
{
    switch (v->type) {
    case SL_JSON_NULL: return sl_buf_putc(b, T_NULL);
    case SL_JSON_BOOL: return sl_buf_putc(b, v->u.b ? T_TRUE : T_FALSE);
    case SL_JSON_INT: return sl_buf_putc(b, T_INT) || put_i64(b, v->u.i);
    case SL_JSON_DOUBLE:
        if (sl_buf_putc(b, T_DOUBLE) || sl_buf_append(b, &v->u.d, 8))
            return -1;
        return put_str(b, v->s ? v->s : "", v->s ? strlen(v->s) : 0);
    case SL_JSON_BIGINT: return sl_buf_putc(b, T_BIGINT) || put_str(b, v->s, strlen(v->s));
    case SL_JSON_STRING: return sl_buf_putc(b, T_STRING) || put_str(b, v->s, v->len);
    case SL_JSON_ARRAY:
        if (sl_buf_putc(b, T_ARRAY) || put_u32(b, v->len))
            return -1;
        for (uint32_t i = 0; i < v->len; i++)
            if (put_value(b, &v->u.items[i]))
                return -1;
        return 0;
    case SL_JSON_OBJECT:
        if (sl_buf_putc(b, T_OBJECT) || put_u32(b, v->len))
            return -1;
        for (uint32_t i = 0; i < v->len; i++) {
            const struct sl_json_member *m = &v->u.members[i];
            if (put_str(b, m->key, m->key_len) || put_value(b, &m->val))
                return -1;
        }
        return 0;
    }
    return -1;
}

/* The record that starts at offset start of rf->buf is complete: its length, its checksum;
 * the buffer goes to the file once it holds REC_IOBUF bytes. */
static sluice_status flush_record(struct sl_ctx *ctx, struct sl_recfile *rf, size_t start)
{
    uint32_t len = (uint32_t)(rf->buf.len - start - 4);
    memcpy(rf->buf.data + start, &len, 4);
    rf->sum = sl_checksum_add(rf->sum, rf->buf.data + start + 4, len);
    rf->records++;
    rf->bytes += 4 + (int64_t)len;
    return rf->buf.len >= REC_IOBUF ? sl_recfile_flush(ctx, rf) : SLUICE_OK;
}

sluice_status sl_item_write(struct sl_ctx *ctx, struct sl_recfile *rf, const struct sl_json *item,
                            int64_t item_no, int64_t line, const char *table)
{
    struct sl_buf *b = &rf->buf;
    size_t start = b->len;
    int bad = put_u32(b, 0) || put_i64(b, item_no) || put_i64(b, line);
    if (!bad)
        bad = table ? put_str(b, table, strlen(table)) : put_u32(b, 0xFFFFFFFFu);
    if (!bad)
        bad = put_value(b, item);
    if (bad) {
        b->len = start; /* the records before it stay */
        return sl_fail(ctx, SLUICE_ERR_NOMEM, "out of memory encoding item %lld",
                       (long long)item_no);
    }
    return flush_record(ctx, rf, start);
}

sluice_status sl_row_write(struct sl_ctx *ctx, struct sl_recfile *rf, const struct sl_value *vals,
                           size_t nvals, int64_t item)
{
    struct sl_buf *b = &rf->buf;
    size_t start = b->len;
    if (nvals >= ROW_ITEM_FLAG)
        return sl_fail(ctx, SLUICE_ERR_INTERNAL, "a row of %zu values", nvals);
    int bad = put_u32(b, 0) || put_u32(b, (uint32_t)nvals | (item ? ROW_ITEM_FLAG : 0));
    if (!bad && item)
        bad = put_i64(b, item);
    for (size_t i = 0; !bad && i < nvals; i++) {
        const struct sl_value *v = &vals[i];
        bad = sl_buf_putc(b, (char)v->kind);
        if (bad)
            break;
        switch (v->kind) {
        case SL_V_INT: bad = put_i64(b, v->u.i); break;
        case SL_V_DOUBLE: bad = sl_buf_append(b, &v->u.d, 8); break;
        case SL_V_BOOL: bad = sl_buf_putc(b, v->u.i ? 1 : 0); break;
        case SL_V_TEXT: bad = put_str(b, v->u.s, v->len); break;
        default: break;
        }
    }
    if (bad) {
        b->len = start; /* the records before it stay */
        return sl_fail(ctx, SLUICE_ERR_NOMEM, "out of memory encoding a row");
    }
    return flush_record(ctx, rf, start);
}

/* ---- decoding --------------------------------------------------------------------------- */

struct cursor {
    const char *p, *end;
    int bad;
};

/* Copy the next n bytes into out (zeros, and c->bad set, past the end). */
static void get_bytes(struct cursor *c, void *out, size_t n)
{
    if ((size_t)(c->end - c->p) < n) {
        c->bad = 1;
        memset(out, 0, n);
        return;
    }
    memcpy(out, c->p, n);
    c->p += n;
}

static uint32_t get_u32(struct cursor *c)
{
    uint32_t v;
    get_bytes(c, &v, sizeof(v));
    return v;
}

static int64_t get_i64(struct cursor *c)
{
    int64_t v;
    get_bytes(c, &v, sizeof(v));
    return v;
}

static const char *get_str(struct cursor *c, uint32_t *len)
{
    *len = get_u32(c);
    if (c->bad || (size_t)(c->end - c->p) < (size_t)*len + 1) {
        c->bad = 1;
        return NULL;
    }
    const char *s = c->p;
    c->p += *len + 1;
    return s;
}

static int get_value(struct cursor *c, struct sl_arena *a, struct sl_json *v, int depth)
{
    if (c->p >= c->end || depth > 100000)
        return -1;
    memset(v, 0, sizeof(*v));
    uint8_t tag = (uint8_t)*c->p++;
    uint32_t n;
    switch (tag) {
    case T_NULL: v->type = SL_JSON_NULL; break;
    case T_FALSE: v->type = SL_JSON_BOOL; v->u.b = false; break;
    case T_TRUE: v->type = SL_JSON_BOOL; v->u.b = true; break;
    case T_INT: v->type = SL_JSON_INT; v->u.i = get_i64(c); break;
    case T_DOUBLE: {
        v->type = SL_JSON_DOUBLE;
        int64_t bits = get_i64(c);
        memcpy(&v->u.d, &bits, 8);
        v->s = get_str(c, &n);
        if (v->s && n == 0)
            v->s = NULL;
        v->len = n;
        break;
    }
    case T_BIGINT:
    case T_STRING:
        v->type = tag == T_BIGINT ? SL_JSON_BIGINT : SL_JSON_STRING;
        v->s = get_str(c, &n);
        v->len = n;
        break;
    case T_ARRAY:
        v->type = SL_JSON_ARRAY;
        n = get_u32(c);
        if (c->bad || n > (size_t)(c->end - c->p))
            return -1;
        v->len = n;
        if (n) {
            v->u.items = sl_arena_alloc(a, n * sizeof(struct sl_json));
            if (!v->u.items)
                return -2;
            for (uint32_t i = 0; i < n; i++) {
                int r = get_value(c, a, &v->u.items[i], depth + 1);
                if (r)
                    return r;
            }
        }
        break;
    case T_OBJECT:
        v->type = SL_JSON_OBJECT;
        n = get_u32(c);
        if (c->bad || n > (size_t)(c->end - c->p))
            return -1;
        v->len = n;
        if (n) {
            v->u.members = sl_arena_alloc(a, n * sizeof(struct sl_json_member));
            if (!v->u.members)
                return -2;
            for (uint32_t i = 0; i < n; i++) {
                struct sl_json_member *m = &v->u.members[i];
                m->key = get_str(c, &m->key_len);
                if (!m->key)
                    return -1;
                int r = get_value(c, a, &m->val, depth + 1);
                if (r)
                    return r;
            }
        }
        break;
    default:
        return -1;
    }
    return c->bad ? -1 : 0;
}

/* A followed file: give back the blocks of what was read (see the top of the file). Best
 * effort: a file system without holes keeps its blocks. */
static void punch_read(struct sl_recfile *rf)
{
#ifdef FALLOC_FL_PUNCH_HOLE
    int64_t upto = rf->bytes & ~(int64_t)4095;
    if (upto - rf->punched < FOLLOW_PUNCH)
        return;
    /* the reader's own descriptor is read-only, which fallocate refuses */
    int fd = open(rf->path, O_WRONLY | O_CLOEXEC);
    if (fd >= 0 &&
        fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, upto) == 0)
        rf->punched = upto;
    else
        rf->punched = INT64_MAX; /* not supported here: do not ask again */
    if (fd >= 0)
        close(fd);
#else
    (void)rf;
#endif
}

/* A file still being written: wait until need more bytes are readable. 0 ok, 1 the file ended
 * before them, -1 aborted. What the writer published is remembered (rf->avail): the records
 * of a published chunk are read without asking the pipe (its mutex) for each. */
static int follow(struct sl_recfile *rf, int64_t need)
{
    if (rf->avail >= rf->bytes + need)
        return 0;
    punch_read(rf);
    int64_t have = sl_follow_wait(rf->follow, rf->bytes + need);
    if (have < 0)
        return -1;
    rf->avail = have;
    return have >= rf->bytes + need ? 0 : 1;
}

/* Read from the file until rf->iobuf holds need (<= REC_IOBUF) undecoded bytes, or the file
 * ends. Returns the undecoded byte count, or -1 on a read error. */
static ssize_t fill(struct sl_recfile *rf, size_t need)
{
    if (rf->iend - rf->ipos >= need)
        return (ssize_t)(rf->iend - rf->ipos);
    if (REC_IOBUF - rf->ipos < need) { /* the rest of the buffer is too short: move down */
        memmove(rf->iobuf, rf->iobuf + rf->ipos, rf->iend - rf->ipos);
        rf->iend -= rf->ipos;
        rf->ipos = 0;
    }
    while (rf->iend - rf->ipos < need) {
        ssize_t r = read(fileno(rf->f), rf->iobuf + rf->iend, REC_IOBUF - rf->iend);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        rf->iend += (size_t)r;
    }
    return (ssize_t)(rf->iend - rf->ipos);
}

/* At the end of a file: does it match the checksum the manifest recorded? */
static int sum_ok(const struct sl_recfile *rf)
{
    char have[SL_CHECKSUM_TEXT];
    if (!rf->want_sum)
        return 1;
    sl_checksum_text(rf->sum, have);
    return strcmp(have, rf->want_sum) == 0;
}

/* Read the next record (rf->rec, rf->reclen); returns 0 ok, 1 at end of file, -1 error (a short or
 * damaged file), -2 out of memory (not damage: the package must not be discarded for it),
 * -3 the file ended but fails its checksum. */
static int read_record(struct sl_recfile *rf)
{
    uint32_t len;
    if (rf->follow) {
        int w = follow(rf, 4);
        if (w)
            return w == 1 && !sum_ok(rf) ? -3 : w;
    }
    ssize_t r = fill(rf, 4);
    if (r == 0)
        return sum_ok(rf) ? 1 : -3;
    if (r < 4)
        return -1;
    memcpy(&len, rf->iobuf + rf->ipos, 4);
    rf->ipos += 4;
    if (rf->follow && follow(rf, 4 + (int64_t)len) != 0)
        return -1; /* a length was published without its record */
    if ((size_t)len >= REC_MAX)
        return -1;
    if (len <= REC_IOBUF) {
        if (fill(rf, len) < (ssize_t)len)
            return -1;
        rf->rec = rf->iobuf + rf->ipos;
        rf->ipos += len;
    } else {
        /* larger than the buffer: what it holds, then the rest straight from the file */
        sl_buf_reset(&rf->buf);
        if (sl_buf_reserve(&rf->buf, len))
            return -2;
        size_t have = rf->iend - rf->ipos;
        memcpy(rf->buf.data, rf->iobuf + rf->ipos, have);
        rf->ipos = rf->iend = 0;
        while (have < len) {
            ssize_t n = read(fileno(rf->f), rf->buf.data + have, len - have);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return -1;
            have += (size_t)n;
        }
        rf->rec = rf->buf.data;
    }
    rf->reclen = len;
    rf->sum = sl_checksum_add(rf->sum, rf->rec, len);
    rf->records++;
    rf->bytes += 4 + (int64_t)len;
    return 0;
}

static sluice_status corrupt(struct sl_ctx *ctx, struct sl_recfile *rf, int how)
{
    char dir[512];
    const char *file;
    split_path(rf->path, dir, sizeof(dir), &file);
    if (how == -3) {
        char have[SL_CHECKSUM_TEXT];
        sl_checksum_text(rf->sum, have);
        return sl_package_damaged(ctx, dir, file,
                                  "fails its checksum (%s, the manifest says %s): a byte of it "
                                  "changed after it was written",
                                  have, rf->want_sum);
    }
    return sl_package_damaged(ctx, dir, file, "is truncated or corrupt (record %lld)",
                              (long long)rf->records);
}

sluice_status sl_item_read(struct sl_ctx *ctx, struct sl_recfile *rf, struct sl_arena *arena,
                           struct sl_json **item, int64_t *item_no, int64_t *line,
                           const char **table)
{
    *item = NULL;
    int r = read_record(rf);
    if (r == 1)
        return SLUICE_OK;
    if (r == -2)
        return sl_nomem(ctx);
    if (r < 0)
        return corrupt(ctx, rf, r);
    struct cursor c = { rf->rec, rf->rec + rf->reclen, 0 };
    *item_no = get_i64(&c);
    *line = get_i64(&c);
    uint32_t tl = get_u32(&c);
    *table = NULL;
    if (tl != 0xFFFFFFFFu) {
        c.p -= 4;
        *table = get_str(&c, &tl);
    }
    struct sl_json *v = sl_arena_alloc(arena, sizeof(*v));
    if (!v)
        return sl_nomem(ctx);
    int g = c.bad ? -1 : get_value(&c, arena, v, 0);
    if (g == -2)
        return sl_nomem(ctx);
    if (g)
        return corrupt(ctx, rf, -1);
    *item = v;
    return SLUICE_OK;
}

sluice_status sl_row_read(struct sl_ctx *ctx, struct sl_recfile *rf, struct sl_value **vals,
                          size_t *cap, size_t *nvals, int64_t *item)
{
    *nvals = (size_t)-1;
    *item = 0;
    int r = read_record(rf);
    if (r == 1)
        return SLUICE_OK;
    if (r == -2)
        return sl_nomem(ctx);
    if (r < 0)
        return corrupt(ctx, rf, r);
    struct cursor c = { rf->rec, rf->rec + rf->reclen, 0 };
    uint32_t n = get_u32(&c);
    if (!c.bad && (n & ROW_ITEM_FLAG)) {
        n &= ~ROW_ITEM_FLAG;
        *item = get_i64(&c);
    }
    if (c.bad || n > rf->reclen)
        return corrupt(ctx, rf, -1);
    if (n > *cap) {
        struct sl_value *nv = sl_realloc(*vals, n * sizeof(*nv));
        if (!nv)
            return sl_nomem(ctx);
        *vals = nv;
        *cap = n;
    }
    struct sl_value *v = *vals;
    for (uint32_t i = 0; i < n; i++) {
        if (c.p >= c.end)
            return corrupt(ctx, rf, -1);
        memset(&v[i], 0, sizeof(v[i]));
        v[i].kind = (uint8_t)*c.p++;
        switch (v[i].kind) {
        case SL_V_NULL: break;
        case SL_V_INT: v[i].u.i = get_i64(&c); break;
        case SL_V_DOUBLE: {
            int64_t bits = get_i64(&c);
            memcpy(&v[i].u.d, &bits, 8);
            break;
        }
        case SL_V_BOOL:
            if (c.p >= c.end)
                return corrupt(ctx, rf, -1);
            v[i].u.i = *c.p++ ? 1 : 0;
            break;
        case SL_V_TEXT: v[i].u.s = get_str(&c, &v[i].len); break;
        default: return corrupt(ctx, rf, -1);
        }
        if (c.bad)
            return corrupt(ctx, rf, -1);
    }
    *nvals = n;
    return SLUICE_OK;
}
