/*
 * source_file.c — the file source: JSON items read from the files matching a glob.
 *
 * The pattern is expanded with glob(3) relative to base_dir (an absolute pattern is used as
 * it is; glob meta-characters in base_dir are escaped so only the pattern is a pattern). The
 * matches are sorted by bytes (strcmp, not the locale's collation) so that every run reads the
 * files in the same order, and directories are skipped. No regular match is a SOURCE error.
 *
 * Each file is read in 64 KiB chunks — read(2), inflated member by member when the name ends
 * in .gz — and fed to a fresh streaming parser in SL_JSON_UNWRAP_ARRAY mode, so JSON lines,
 * concatenated values and one top-level JSON array all work, and a line holding an array is a
 * page whose elements are items. Items must be objects: anything else is a DATA_JSON error naming the
 * item and the line. Memory is one chunk plus the parser's per-item arena, never the file.
 *
 * Item numbers run on across files (the sink sees 1, 2, 3 ... for the whole resource); line
 * numbers restart with each file. The parser reports its own errors into a private context
 * and they are re-worded here into the caller's, so that the message names the file
 * ("malformed JSON in items.jsonl at line 3, column 5: ..."); errors from our own checks and
 * from the sink are recorded in the caller's context directly (first error wins).
 * Files are shown relative to base_dir in messages, as the user wrote the pattern.
 * Unreadable files and bad gzip data (truncated, corrupt, bytes after a member that are not
 * another member, or a .gz name over plain data) are SOURCE errors naming the file. Corrupt deflate data may inflate to garbage before zlib sees
 * the bad CRC at the end, so when the parser fails inside a .gz file the rest of the stream is
 * read and checked first: compression damage, when found, is the reported cause.
 */
#include "sources/source.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#define CHUNK_SIZE (64 * 1024)

struct file_run {
    struct sl_ctx *ctx;
    const struct sl_resource_cfg *res;
    const struct sl_source_sink *sink;
    struct sl_json_parser *parser; /* the current file's, for page numbers */
    int64_t page_base;   /* pages of the files before this one */
    const char *shown;   /* the current file as shown in messages */
    int64_t items;       /* items handed to the sink so far, across files */
};

/* ============================================================================================
 * Items
 * ========================================================================================== */

static sluice_status on_value(void *ud, struct sl_json *v, int64_t index, int64_t line)
{
    struct file_run *r = ud;
    int64_t item_no = r->items + 1;
    (void)index; /* per file; our count runs across files */
    if (v->type != SL_JSON_OBJECT)
        return sl_fail_at(r->ctx, SLUICE_ERR_DATA_JSON, r->res->name, item_no, NULL,
                          "item %lld in %s at line %lld is %s, expected an object",
                          (long long)item_no, r->shown, (long long)line, sl_json_kind_phrase(v));
    r->items = item_no;
    sluice_status rc = r->sink->on_item(r->sink->ud, v, item_no, line,
                                        r->page_base + sl_json_parser_page(r->parser),
                                        NULL);
    if (rc != SLUICE_OK) {
        sl_fail(r->ctx, rc, "item %lld in %s at line %lld was rejected", (long long)item_no,
                r->shown, (long long)line);
        sl_fail_locate(r->ctx, r->res->name, item_no, NULL);
    }
    return rc;
}

/* A parser call failed with rc: the parser's error (in pctx) worded to name the file, unless
 * the caller's context (ours or the sink's) holds one. The failing value is the next item,
 * whatever line it started on. */
static sluice_status parser_failed(struct file_run *r, const struct sl_ctx *pctx,
                                   sluice_status rc)
{
    if (sl_json_parser_error(r->ctx, pctx, rc, r->shown, r->shown))
        sl_fail_locate(r->ctx, r->res->name, r->items + 1, NULL);
    return r->ctx->code;
}

/* ============================================================================================
 * One file
 * ========================================================================================== */

static int ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s);
    size_t lx = strlen(suffix);
    return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

/* A SOURCE error about the current file, located on the resource (first error wins). */
static sluice_status file_fail(struct file_run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static sluice_status file_fail(struct file_run *r, const char *fmt, ...)
{
    if (r->ctx->code != SLUICE_OK)
        return r->ctx->code;
    va_list ap;
    va_start(ap, fmt);
    sl_failv(r->ctx, SLUICE_ERR_SOURCE, fmt, ap);
    va_end(ap);
    sl_fail_origin(r->ctx, "file", NULL);
    sl_fail_locate(r->ctx, r->res->name, -1, NULL);
    return SLUICE_ERR_SOURCE;
}

/*
 * gzip, member by member. zlib's gzread() takes whatever follows a member and does not start
 * with a gzip header as trailing garbage and ignores it, so a damaged second member of a
 * multi-member file (`cat a.gz b.gz`, log rotation) silently dropped everything after the
 * first. Here inflate() reads the members itself (windowBits 15 + 16: gzip only), and every
 * byte after a member must start another one: anything else, zero padding included, is damage
 * (gzip -d reports it as trailing garbage). A file that ends inside a member is truncated; a
 * 0-byte file is empty input.
 */
struct gz_in {
    int fd;
    z_stream zs;
    int ready;          /* inflateInit2 done */
    int in_member;      /* inside a member: the end of the file here is a truncation */
    int at_boundary;    /* a member ended: the next byte starts a new one (or the file ends) */
    int eof;            /* read() returned 0 */
    int64_t members;    /* members finished */
    int64_t offset;     /* bytes of the file consumed by inflate */
    int64_t member_end; /* offset where the last finished member ended */
    char msg[160];      /* why it failed */
    unsigned char in[CHUNK_SIZE];
};

static int gz_open(struct gz_in *g, int fd)
{
    memset(g, 0, sizeof(*g));
    g->fd = fd;
    if (inflateInit2(&g->zs, 15 + 16) != Z_OK)
        return -1;
    g->ready = 1;
    return 0;
}

static void gz_close(struct gz_in *g)
{
    if (g->ready)
        inflateEnd(&g->zs);
    g->ready = 0;
}

/* Inflate up to cap bytes into out. Returns 0 with *n bytes (0 at the end of the file), 1 when
 * the data is damaged or cut (g->msg says how), 2 when the file does not start as gzip, -1 on
 * a read error (errno), -2 out of memory. */
static int gz_read(struct gz_in *g, char *out, size_t cap, size_t *n)
{
    *n = 0;
    g->zs.next_out = (unsigned char *)out;
    g->zs.avail_out = (uInt)cap;
    while (g->zs.avail_out > 0) {
        if (g->zs.avail_in == 0 && !g->eof) {
            ssize_t got = read(g->fd, g->in, sizeof(g->in));
            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0)
                return -1;
            if (got == 0)
                g->eof = 1;
            g->zs.next_in = g->in;
            g->zs.avail_in = (uInt)got;
        }
        if (g->zs.avail_in == 0 && g->eof) {
            if (g->in_member) {
                snprintf(g->msg, sizeof(g->msg), "unexpected end of file");
                return 1;
            }
            break;
        }
        if (g->offset == 0 && g->members == 0 &&
            (g->in[0] != 0x1f || (g->zs.avail_in > 1 && g->in[1] != 0x8b)))
            return 2;
        if (g->at_boundary) {
            /* more bytes after a member: they must be the next member */
            if (inflateReset(&g->zs) != Z_OK)
                return -2;
            g->at_boundary = 0;
        }
        g->in_member = 1;
        uInt before = g->zs.avail_in;
        int zr = inflate(&g->zs, Z_NO_FLUSH);
        g->offset += before - g->zs.avail_in;
        if (zr == Z_STREAM_END) {
            g->members++;
            g->member_end = g->offset;
            g->in_member = 0;
            g->at_boundary = 1;
            continue;
        }
        if (zr == Z_MEM_ERROR)
            return -2;
        if (zr == Z_DATA_ERROR || zr == Z_NEED_DICT || zr == Z_STREAM_ERROR) {
            const char *why = g->zs.msg ? g->zs.msg : "invalid data";
            if (g->members > 0 && g->zs.total_out == 0)
                snprintf(g->msg, sizeof(g->msg),
                         "the bytes after gzip member %lld (at offset %lld) are not a gzip "
                         "member (%s)",
                         (long long)g->members, (long long)g->member_end, why);
            else
                snprintf(g->msg, sizeof(g->msg), "%s", why);
            return 1;
        }
    }
    *n = cap - g->zs.avail_out;
    return 0;
}

/* Read what is left of a gzip stream; true when it turns out truncated or corrupt. */
static int gz_drain_failed(struct gz_in *g, char *buf)
{
    size_t n;
    int r;
    do {
        r = gz_read(g, buf, CHUNK_SIZE, &n);
    } while (r == 0 && n > 0);
    return r != 0 && r != 2;
}

static sluice_status gz_corrupt(struct file_run *r, const struct gz_in *g, int how)
{
    if (how == -2)
        return sl_nomem(r->ctx);
    if (how == 2)
        return file_fail(r, "%s is not gzip-compressed", r->shown);
    return file_fail(r, "%s is truncated or corrupt: %s", r->shown,
                     how == -1 ? strerror(errno) : g->msg);
}

/* Stream one file (path) through a new parser into the sink. buf: CHUNK_SIZE bytes. */
static sluice_status read_file(struct file_run *r, const char *path, char *buf)
{
    sluice_status rc = SLUICE_OK;
    struct sl_ctx pctx;
    struct sl_json_parser *p = NULL;
    struct gz_in *gz = NULL;
    int fd = -1;
    int first = 1;

    sl_ctx_init(&pctx);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = file_fail(r, "cannot open %s: %s", r->shown, strerror(errno));
        goto done;
    }
    if (ends_with(path, ".gz")) {
        gz = sl_malloc(sizeof(*gz));
        if (!gz || gz_open(gz, fd) != 0) {
            sl_free(gz);
            gz = NULL;
            rc = sl_nomem(r->ctx);
            goto done;
        }
    }
    rc = sl_json_parser_new(&p, &pctx, SL_JSON_UNWRAP_ARRAY, NULL, on_value, r);
    r->parser = p;
    if (rc != SLUICE_OK) {
        rc = parser_failed(r, &pctx, rc);
        goto done;
    }
    for (;;) {
        size_t n;
        if (gz) {
            int how = gz_read(gz, buf, CHUNK_SIZE, &n);
            if (how != 0) {
                rc = gz_corrupt(r, gz, how);
                goto done;
            }
        } else {
            ssize_t got = read(fd, buf, CHUNK_SIZE);
            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0) {
                rc = file_fail(r, "cannot read %s: %s", r->shown, strerror(errno));
                goto done;
            }
            n = (size_t)got;
        }
        if (n == 0)
            break;
        const char *data = buf;
        if (first && n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
            /* a UTF-8 byte order mark, as some Windows tools write: RFC 8259 lets a parser
             * ignore it, and we do, at the start of a file only */
            data += 3;
            n -= 3;
        }
        first = 0;
        rc = sl_json_parser_feed(p, data, n);
        if (rc != SLUICE_OK) {
            /* Corrupt deflate data can inflate to garbage before zlib notices (the CRC is
             * checked at the end): when the parser itself failed, blame the compression if
             * the rest of the stream does not check out. */
            if (gz && r->ctx->code == SLUICE_OK && gz_drain_failed(gz, buf))
                rc = gz_corrupt(r, gz, 1);
            else
                rc = parser_failed(r, &pctx, rc);
            goto done;
        }
    }
    rc = sl_json_parser_finish(p);
    if (rc != SLUICE_OK)
        rc = parser_failed(r, &pctx, rc);

done:
    if (p)
        r->page_base += sl_json_parser_page(p);
    r->parser = NULL;
    sl_json_parser_free(&p);
    if (gz)
        gz_close(gz);
    sl_free(gz);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* ============================================================================================
 * Glob
 * ========================================================================================== */

/* base_dir (meta-characters escaped) + "/" + pattern, or the pattern alone when it is
 * absolute or there is no base_dir. *prefix_len: bytes of the matches that are base_dir. */
static char *full_pattern(const char *base_dir, const char *pattern, size_t *prefix_len)
{
    struct sl_buf b;
    *prefix_len = 0;
    if (pattern[0] == '/' || !base_dir || !base_dir[0])
        return sl_strdup(pattern);
    sl_buf_init(&b, 0);
    for (const char *c = base_dir; *c; c++) {
        if (strchr("*?[]\\", *c) && sl_buf_putc(&b, '\\'))
            goto fail;
        if (sl_buf_putc(&b, *c))
            goto fail;
    }
    *prefix_len = strlen(base_dir);
    if (base_dir[*prefix_len - 1] != '/') {
        if (sl_buf_putc(&b, '/'))
            goto fail;
        (*prefix_len)++;
    }
    if (sl_buf_puts(&b, pattern))
        goto fail;
    return sl_buf_take(&b);

fail:
    sl_buf_cleanup(&b);
    return NULL;
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ============================================================================================
 * Entry point
 * ========================================================================================== */

sluice_status sl_source_file_run(struct sl_ctx *ctx, const struct sl_resource_cfg *res,
                                 const char *base_dir, const struct sl_source_sink *sink)
{
    sluice_status rc = SLUICE_OK;
    struct file_run run;
    glob_t g;
    int have_glob = 0;
    char *pattern = NULL;
    char *buf = NULL;
    size_t prefix_len = 0;
    size_t nfiles = 0;
    int grc;

    if (!res->file || !res->file[0])
        return sl_fail_at(ctx, SLUICE_ERR_CONFIG, res->name, -1, NULL,
                          "resource has no file pattern");
    if (res->format && strcmp(res->format, "jsonl") != 0)
        return sl_fail_at(ctx, SLUICE_ERR_CONFIG, res->name, -1, NULL,
                          "format '%s' is not supported for files (use jsonl)", res->format);
    memset(&run, 0, sizeof(run));
    run.ctx = ctx;
    run.res = res;
    run.sink = sink;

    pattern = full_pattern(base_dir, res->file, &prefix_len);
    if (!pattern) {
        rc = sl_nomem(ctx);
        goto done;
    }
    memset(&g, 0, sizeof(g));
    grc = glob(pattern, GLOB_MARK, NULL, &g);
    have_glob = grc == 0;
    if (grc == GLOB_NOSPACE) {
        rc = sl_nomem(ctx);
        goto done;
    }
    if (grc == GLOB_ABORTED) {
        rc = sl_fail_at(ctx, SLUICE_ERR_SOURCE, res->name, -1, NULL,
                        "cannot read the folders of '%s'", res->file);
        sl_fail_origin(ctx, "file", NULL);
        goto done;
    }
    if (have_glob) {
        qsort(g.gl_pathv, g.gl_pathc, sizeof(g.gl_pathv[0]), cmp_path);
        for (size_t i = 0; i < g.gl_pathc; i++)
            if (!ends_with(g.gl_pathv[i], "/"))
                nfiles++;
    }
    if (nfiles == 0) {
        rc = sl_fail_at(ctx, SLUICE_ERR_SOURCE, res->name, -1, NULL, "no file matches '%s'",
                        res->file);
        sl_fail_origin(ctx, "file", NULL);
        goto done;
    }
    buf = sl_malloc(CHUNK_SIZE);
    if (!buf) {
        rc = sl_nomem(ctx);
        goto done;
    }
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *path = g.gl_pathv[i];
        if (ends_with(path, "/"))
            continue; /* a folder (GLOB_MARK) */
        run.shown = path;
        if (prefix_len && strncmp(path, base_dir, prefix_len - 1) == 0 &&
            strlen(path) > prefix_len)
            run.shown = path + prefix_len;
        rc = read_file(&run, path, buf);
        if (rc != SLUICE_OK)
            goto done;
    }

done:
    if (have_glob)
        globfree(&g);
    sl_free(pattern);
    sl_free(buf);
    return rc;
}
