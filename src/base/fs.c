/*
 * fs.c — working-dir file operations (see fs.h). POSIX only.
 */
#include "base/fs.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fault.h"
#include "base/alloc.h"


static sluice_status io_fail(struct sl_ctx *ctx, const char *what, const char *path)
{
    int e = errno;
    sl_fail(ctx, SLUICE_ERR_IO, "%s '%s': %s", what, path, strerror(e));
    sl_fail_origin(ctx, "fs", NULL);
    return SLUICE_ERR_IO;
}

sluice_status sl_fs_mkdirs(struct sl_ctx *ctx, const char *path)
{
    char *p = sl_strdup(path);
    if (!p)
        return sl_nomem(ctx);
    sluice_status rc = SLUICE_OK;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                rc = io_fail(ctx, "cannot create folder", p);
                break;
            }
            *s = c;
            if (!c)
                break;
        }
    }
    sl_free(p);
    return rc;
}

char *sl_fs_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return sl_strdup(".");
    if (slash == path)
        return sl_strdup("/");
    return sl_strndup(path, (size_t)(slash - path));
}

void sl_fs_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

sluice_status sl_fs_write_atomic(struct sl_ctx *ctx, const char *path, const char *data,
                                 size_t len)
{
    sluice_status rc = SLUICE_OK;
    char *tmp = sl_aprintf("%s.tmp", path);
    char *dir = sl_fs_dirname(path);
    int fd = -1;
    if (!tmp || !dir) {
        rc = sl_nomem(ctx);
        goto done;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = io_fail(ctx, "cannot write", tmp);
        goto done;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            rc = io_fail(ctx, "cannot write", tmp);
            goto done;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0) {
        rc = io_fail(ctx, "cannot sync", tmp);
        goto done;
    }
    close(fd);
    fd = -1;
    SL_FAULT_POINT("fs.before_rename");
    if (rename(tmp, path) != 0) {
        rc = io_fail(ctx, "cannot rename", tmp);
        goto done;
    }
    sl_fs_sync_dir(dir);
done:
    if (fd >= 0)
        close(fd);
    if (rc != SLUICE_OK && tmp)
        unlink(tmp);
    sl_free(tmp);
    sl_free(dir);
    return rc;
}

sluice_status sl_fs_read(struct sl_ctx *ctx, const char *path, char **out, size_t *len)
{
    *out = NULL;
    if (len)
        *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return SLUICE_ERR_NOT_FOUND;
        return io_fail(ctx, "cannot read", path);
    }
    struct sl_buf b;
    sl_buf_init(&b, 0);
    char chunk[65536];
    sluice_status rc = SLUICE_OK;
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof(chunk));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = io_fail(ctx, "cannot read", path);
            break;
        }
        if (r == 0)
            break;
        if (sl_buf_append(&b, chunk, (size_t)r)) {
            rc = sl_nomem(ctx);
            break;
        }
    }
    close(fd);
    if (rc != SLUICE_OK) {
        sl_buf_cleanup(&b);
        return rc;
    }
    if (len)
        *len = b.len;
    *out = sl_buf_take(&b);
    return *out ? SLUICE_OK : sl_nomem(ctx);
}

sluice_status sl_fs_rmtree(struct sl_ctx *ctx, const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? SLUICE_OK : io_fail(ctx, "cannot stat", path);
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d)
            return io_fail(ctx, "cannot open folder", path);
        struct dirent *e;
        sluice_status rc = SLUICE_OK;
        while (rc == SLUICE_OK && (e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char *sub = sl_aprintf("%s/%s", path, e->d_name);
            if (!sub) {
                rc = sl_nomem(ctx);
                break;
            }
            rc = sl_fs_rmtree(ctx, sub);
            sl_free(sub);
        }
        closedir(d);
        if (rc != SLUICE_OK)
            return rc;
        if (rmdir(path) != 0 && errno != ENOENT)
            return io_fail(ctx, "cannot remove", path);
        SL_FAULT_POINT("cleanup.after_rmdir");
        return SLUICE_OK;
    }
    if (unlink(path) != 0 && errno != ENOENT)
        return io_fail(ctx, "cannot remove", path);
    SL_FAULT_POINT("cleanup.after_unlink");
    return SLUICE_OK;
}

int sl_fs_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

sluice_status sl_fs_list(struct sl_ctx *ctx, const char *dir, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return SLUICE_OK;
        return io_fail(ctx, "cannot open folder", dir);
    }
    char **v = NULL;
    size_t len = 0, cap = 0;
    struct dirent *e;
    sluice_status rc = SLUICE_OK;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nv = sl_realloc(v, ncap * sizeof(*nv));
            if (!nv) {
                rc = sl_nomem(ctx);
                break;
            }
            v = nv;
            cap = ncap;
        }
        v[len] = sl_strdup(e->d_name);
        if (!v[len]) {
            rc = sl_nomem(ctx);
            break;
        }
        len++;
    }
    closedir(d);
    if (rc != SLUICE_OK) {
        sl_fs_list_free(v, len);
        return rc;
    }
    if (len)
        qsort(v, len, sizeof(*v), cmp_str);
    *names = v;
    *n = len;
    return SLUICE_OK;
}

void sl_fs_list_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sl_free(names[i]);
    sl_free(names);
}

char *sl_fs_abspath(const char *base, const char *path)
{
    if (path[0] == '/')
        return sl_strdup(path);
    if (!base || !base[0]) {
        char cwd[4096];
        if (!getcwd(cwd, sizeof(cwd)))
            return NULL;
        return sl_aprintf("%s/%s", cwd, path);
    }
    return sl_aprintf("%s/%s", base, path);
}
