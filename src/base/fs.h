/*
 * fs.h — the few file-system operations the working dir needs, with errors through sl_ctx.
 *
 * Durability rule: a file that marks progress (package manifest, local schema, local state)
 * is written with sl_fs_write_atomic: temp file, fsync, rename over the old one, fsync the
 * folder. A crash leaves either the old or the new content, never a torn file.
 */
#ifndef SLUICE_FS_H
#define SLUICE_FS_H

#include <stddef.h>

#include "base/error.h"

sluice_status sl_fs_mkdirs(struct sl_ctx *ctx, const char *path);
sluice_status sl_fs_write_atomic(struct sl_ctx *ctx, const char *path, const char *data,
                                 size_t len);
/* Read a whole file (caller sl_free()s *out, NUL-terminated). SLUICE_ERR_NOT_FOUND when it
 * does not exist (no error recorded in ctx then). */
sluice_status sl_fs_read(struct sl_ctx *ctx, const char *path, char **out, size_t *len);
/* Remove a file or folder tree; missing is fine. */
sluice_status sl_fs_rmtree(struct sl_ctx *ctx, const char *path);
int sl_fs_exists(const char *path);
/* Sorted entry names of a folder (without . and ..); caller frees each and the array. */
sluice_status sl_fs_list(struct sl_ctx *ctx, const char *dir, char ***names, size_t *n);
void sl_fs_list_free(char **names, size_t n);
/* Make path absolute against base (copy); NULL on OOM. */
char *sl_fs_abspath(const char *base, const char *path);
/* Folder part of a path (copy). */
char *sl_fs_dirname(const char *path);
/* fsync a folder. */
void sl_fs_sync_dir(const char *dir);

#endif
