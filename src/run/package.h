/*
 * package.h — load packages on disk: the unit that moves through extract → normalize → load.
 *
 * Layout: <workdir>/load/<load_id>/
 *   manifest.json          written atomically at each stage change; absent while extracting
 *                          (an unfinished extraction is discarded on the next run)
 *   extracted/<n>.items    items of the n-th resource of the manifest (binary records)
 *   normalized/<n>.rows    rows of the n-th table of the manifest (binary records)
 *   normalized/schema.json the schema after normalizing this package
 * The binary formats are private to this file: an item record is the item's JSON tree
 * (tagged values, strings NUL-terminated so readers can point into the record without
 * copying); a row record is the values of one row in column order. Records are
 * length-prefixed. Readers hand out values that stay valid until the next record is read.
 * Every file has a checksum in the manifest (item and row files: of their records, computed as
 * they are written; schema.json: of its text), and the manifest one of its own: package files
 * are not fsynced, so a file a crash left damaged is found when it is read back, and the
 * package is discarded rather than loaded.
 */
#ifndef SLUICE_PACKAGE_H
#define SLUICE_PACKAGE_H

#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/json.h"
#include "model/normalize.h"

/* Is the pending error a damaged package file (origin "package", detail "corrupt")? */
#define SL_PACKAGE_CORRUPT(ctx) \
    (strcmp((ctx)->origin, "package") == 0 && strcmp((ctx)->detail, "corrupt") == 0)

/* Record that a file of the package in dir cannot be used (unreadable, cut short, failing its
 * checksum, not what its stage promises): an IO error "load package DIR: FILE ...", marked so
 * that SL_PACKAGE_CORRUPT() holds and the pipeline discards the package (its state was never
 * committed, so its data is extracted again). file is relative to dir. Returns SLUICE_ERR_IO
 * (or the error already pending: first error wins). */
sluice_status sl_package_damaged(struct sl_ctx *ctx, const char *dir, const char *file,
                                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- record files ----------------------------------------------------------------------- */

struct sl_follow;

struct sl_recfile {
    FILE *f;             /* the open file; its bytes go through read(2) / write(2) on its
                            descriptor and the buffers below, never through stdio */
    char *iobuf;         /* reading: what was read from the file, records decoded in place */
    size_t ipos, iend;   /* reading: iobuf[ipos, iend) is read but not yet decoded */
    const char *rec;     /* reading: the payload of the last record (in iobuf or buf) */
    size_t reclen;
    char *path;
    struct sl_buf buf;   /* writing: records not yet written to the file; reading: a record
                            larger than iobuf */
    int64_t records;
    int64_t bytes;       /* bytes of records written (buffered included) / read so far */
    int64_t avail;       /* following: bytes of the file known to be readable */
    uint64_t sum;        /* checksum of the records written / read so far (sl_checksum_add) */
    const char *want_sum; /* reading: the checksum the manifest recorded (borrowed), or NULL;
                             checked when the end of the file is reached */
    struct sl_follow *follow; /* reading a file still being written (pipe.h), or NULL */
    int64_t punched;     /* following: bytes at the start given back to the file system */
};

sluice_status sl_recfile_create(struct sl_ctx *ctx, const char *path, struct sl_recfile *out);
/* Writers: write the records buffered so far to the file (before its bytes are handed to a
 * follower: pipe.h, loadpipe.h). */
sluice_status sl_recfile_flush(struct sl_ctx *ctx, struct sl_recfile *rf);
/* Open a package file for reading; a file that cannot be opened is a damaged package. */
sluice_status sl_recfile_open(struct sl_ctx *ctx, const char *path, struct sl_recfile *out);
/* Flush, fsync when sync is set, and close (writers); close (readers). Package data files
 * are not synced: a file that a crash of the machine left short is detected when it is read
 * back (record counts in the manifest, truncated records) and the package is discarded, its
 * data extracted again from the committed state. */
sluice_status sl_recfile_close(struct sl_ctx *ctx, struct sl_recfile *rf, int sync);
/* Close without flushing (error paths). */
void sl_recfile_abort(struct sl_recfile *rf);

/* Items: item_no/line kept for errors, table the singer stream (or NULL). */
sluice_status sl_item_write(struct sl_ctx *ctx, struct sl_recfile *rf, const struct sl_json *item,
                            int64_t item_no, int64_t line, const char *table);
/* Next item; *item NULL at end of file. Values live in arena (reset by the caller) and in the
 * record buffer (valid until the next read). */
sluice_status sl_item_read(struct sl_ctx *ctx, struct sl_recfile *rf, struct sl_arena *arena,
                           struct sl_json **item, int64_t *item_no, int64_t *line,
                           const char **table);

/* A row: the values of its table's columns (trailing NULLs may be left out) and item, the
 * ordinal of the package item it comes from (its root row's), or 0 for none. */
sluice_status sl_row_write(struct sl_ctx *ctx, struct sl_recfile *rf, const struct sl_value *vals,
                           size_t nvals, int64_t item);
/* Next row into *vals (array owned by the caller, grown as needed: *cap elements) and its item
 * ordinal (0 when written without); *nvals = (size_t)-1 at end of file. Text values point into
 * the record buffer. */
sluice_status sl_row_read(struct sl_ctx *ctx, struct sl_recfile *rf, struct sl_value **vals,
                          size_t *cap, size_t *nvals, int64_t *item);

#endif
