/*
 * runlog.c — the run's log file in the working dir (see runlog.h).
 *
 * The file is written with stdio and flushed per line (a killed run leaves every line it
 * logged), never fsynced: it is a record for people, not something a run depends on. Old
 * logs are pruned when a new one is opened, oldest first by name (the names sort by time).
 */
#include "run/runlog.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/fs.h"
#include "sources/source.h"

struct sl_runlog {
    FILE *f;
    char *path;
    size_t bytes;
    int cut;              /* the cap was reached: nothing more is written */
    sluice_log_fn user_fn; /* the caller's log callback while the run is on */
    void *user_ctx;
};

static void write_line(struct sluice_pipeline *p, const char *what, const char *line)
{
    struct sl_runlog *rl = p->runlog;
    if (!rl || !rl->f || rl->cut)
        return;
    char when[40];
    sl_run_utc_iso(p, when, sizeof(when));
    size_t len = strlen(when) + strlen(what) + strlen(line) + 3;
    if (rl->bytes + len > SL_RUNLOG_MAX_BYTES) {
        fprintf(rl->f, "%s ... the log was cut at %zu bytes\n", when, rl->bytes);
        fflush(rl->f);
        rl->cut = 1;
        return;
    }
    /* one line per entry: control characters (a stray CR, an escape sequence) as spaces */
    fprintf(rl->f, "%s %s ", when, what);
    for (const char *c = line; *c; c++)
        fputc((unsigned char)*c < 0x20 && *c != '\t' ? ' ' : *c, rl->f);
    fputc('\n', rl->f);
    fflush(rl->f);
    rl->bytes += len;
}

static const char *level_word(sluice_log_level level)
{
    switch (level) {
    case SLUICE_LOG_DEBUG: return "debug:";
    case SLUICE_LOG_INFO: return "info:";
    case SLUICE_LOG_WARN: return "warning:";
    case SLUICE_LOG_ERROR: return "error:";
    }
    return "log:";
}

/* The wrapped log callback: the file first, then the caller's callback. */
static void tee(void *ud, sluice_log_level level, const char *message)
{
    struct sluice_pipeline *p = ud;
    write_line(p, level_word(level), message);
    if (p->runlog && p->runlog->user_fn)
        p->runlog->user_fn(p->runlog->user_ctx, level, message);
}

static void prune(struct sluice_pipeline *p, const char *dir)
{
    struct sl_ctx scratch;
    char **names = NULL;
    size_t n = 0;
    sl_ctx_init(&scratch);
    if (sl_fs_list(&scratch, dir, &names, &n) != SLUICE_OK)
        return;
    size_t logs = 0;
    for (size_t i = 0; i < n; i++)
        logs += strncmp(names[i], "run-", 4) == 0;
    /* keep SL_RUNLOG_KEEP - 1: the one about to be opened makes it SL_RUNLOG_KEEP */
    for (size_t i = 0; i < n && logs >= SL_RUNLOG_KEEP; i++) {
        if (strncmp(names[i], "run-", 4) != 0)
            continue;
        char *path = sl_aprintf("%s/%s", dir, names[i]);
        if (path)
            unlink(path);
        sl_free(path);
        logs--;
    }
    sl_fs_list_free(names, n);
    (void)p;
}

void sl_runlog_begin(struct sluice_pipeline *p, const char *stamp)
{
    sl_runlog_free(p);
    struct sl_runlog *rl = sl_calloc(1, sizeof(*rl));
    char *dir = sl_aprintf("%s/logs", p->workdir);
    if (!rl || !dir) {
        sl_free(rl);
        sl_free(dir);
        return; /* out of memory: the run goes on without a log file */
    }
    rl->user_fn = p->ctx.log_fn;
    rl->user_ctx = p->ctx.log_ctx;
    p->runlog = rl;
    p->ctx.log_fn = tee;
    p->ctx.log_ctx = p;
    struct sl_ctx scratch;
    sl_ctx_init(&scratch);
    if (sl_fs_mkdirs(&scratch, dir) == SLUICE_OK) {
        prune(p, dir);
        rl->path = sl_aprintf("%s/run-%s.log", dir, stamp);
        rl->f = rl->path ? fopen(rl->path, "we") : NULL;
    }
    if (!rl->f) {
        sl_log(&p->ctx, SLUICE_LOG_WARN, "cannot write the run's log file in '%s': %s", dir,
               scratch.code != SLUICE_OK ? scratch.message : strerror(errno));
        sl_free(rl->path);
        rl->path = NULL;
    }
    sl_free(dir);
}

void sl_runlog_note(struct sluice_pipeline *p, const char *what, const char *line)
{
    write_line(p, what, line);
}

void sl_runlog_source_line(struct sluice_pipeline *p, const char *resource, const char *line)
{
    char what[160];
    snprintf(what, sizeof(what), "[%s]", resource);
    write_line(p, what, line);
    if (p->source_log_fn) {
        p->source_log_fn(p->source_log_ctx, resource, line);
        return;
    }
    sluice_log_fn fn = p->runlog ? p->runlog->user_fn : p->ctx.log_fn;
    void *ctx = p->runlog ? p->runlog->user_ctx : p->ctx.log_ctx;
    if (!fn)
        return;
    char msg[SL_SOURCE_LINE_MAX + 200];
    snprintf(msg, sizeof(msg), "%s %s", what, line);
    fn(ctx, SLUICE_LOG_INFO, msg);
}

const char *sl_runlog_path(const struct sluice_pipeline *p)
{
    return p->runlog ? p->runlog->path : NULL;
}

void sl_runlog_end(struct sluice_pipeline *p)
{
    struct sl_runlog *rl = p->runlog;
    if (!rl)
        return;
    if (rl->f)
        fclose(rl->f);
    rl->f = NULL;
    if (p->ctx.log_fn == tee) {
        p->ctx.log_fn = rl->user_fn;
        p->ctx.log_ctx = rl->user_ctx;
    }
    rl->user_fn = NULL;
    rl->user_ctx = NULL;
}

void sl_runlog_free(struct sluice_pipeline *p)
{
    sl_runlog_end(p);
    if (p->runlog)
        sl_free(p->runlog->path);
    sl_free(p->runlog);
    p->runlog = NULL;
}
