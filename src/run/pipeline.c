/*
 * pipeline.c — pipeline lifecycle and the run orchestration (see pipeline.h).
 *
 * Working dir <SLUICE_PIPELINES_DIR>/<name>/:
 *   pipeline.json   how to reach the destination again (type, path, dataset, config file);
 *                   never secrets
 *   lock            flock()ed by the run in progress (released by the kernel on death)
 *   schemas/<name>.schema.json   the schema as of the last loaded package
 *   load/<load_id>/ packages not yet loaded (package.h)
 *   logs/run-<id>.log  each run's log lines and its sources' stderr (runlog.h), newest 20
 *   trace.json      the last run's trace (trace.h)
 * Everything in it can be deleted at any time: the schema is restored from the destination.
 */
#include "run/pipeline.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "base/fault.h"
#include "base/alloc.h"
#include "run/extract.h"
#include "base/fs.h"
#include "run/load.h"
#include "run/loadpipe.h"
#include "run/package.h"
#include "run/runlog.h"
#include "run/trace.h"
#include "run/dry_run.h"
#include "model/state.h"

char *sl_pipelines_dir(void)
{
    const char *base = getenv("SLUICE_PIPELINES_DIR");
    if (base && base[0])
        return sl_strdup(base);
    const char *home = getenv("HOME");
    return sl_aprintf("%s/.sluice/pipelines", home && home[0] ? home : ".");
}

char *sl_pipeline_workdir(const char *name)
{
    char *base = sl_pipelines_dir();
    char *wd = base ? sl_aprintf("%s/%s", base, name) : NULL;
    sl_free(base);
    return wd;
}

/* ============================================================================================
 * Lifecycle
 * ========================================================================================== */

int sl_pipeline_name_ok(const char *s)
{
    if (!s || !s[0] || strlen(s) > 200 || s[0] == '.')
        return 0;
    for (const char *c = s; *c; c++)
        if (*c == '/' || *c == '\\')
            return 0;
    return 1;
}

sluice_status sl_pipeline_create(struct sluice_pipeline *p, struct sl_pipeline_cfg *cfg)
{
    p->cfg = cfg;
    p->lock_fd = -1;
    if (!sl_pipeline_name_ok(cfg->pipeline_name))
        return sl_fail(&p->ctx, SLUICE_ERR_CONFIG,
                       "pipeline name '%s' is not valid (empty, '/' or leading '.')",
                       cfg->pipeline_name ? cfg->pipeline_name : "");
    p->gens = sl_calloc(cfg->nres ? cfg->nres : 1, sizeof(*p->gens));
    p->workdir = sl_pipeline_workdir(cfg->pipeline_name);
    if (!p->gens || !p->workdir)
        return sl_nomem(&p->ctx);
    const char *seed = getenv("SLUICE_SEED");
    uint64_t s = seed ? strtoull(seed, NULL, 10)
                      : ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^
                            (uint64_t)(sl_run_now(p) * 1e9);
    sl_rng_seed(&p->rng, s);
    p->dm = sl_destination_find(cfg->dest_type ? cfg->dest_type : "sqlite");
    if (!p->dm) {
        static const char *const known[] = { "sqlite", "postgres", "duckdb" };
        char have[64] = "";
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
            if (sl_destination_find(known[i]) == NULL)
                continue;
            if (have[0] != '\0')
                strncat(have, ", ", sizeof(have) - strlen(have) - 1);
            strncat(have, known[i], sizeof(have) - strlen(have) - 1);
        }
        return sl_fail(&p->ctx, SLUICE_ERR_CONFIG,
                       "destination type '%s' is not available in this build of sluice (it has "
                       "%s)",
                       cfg->dest_type, have);
    }
    return SLUICE_OK;
}

static void unlock(struct sluice_pipeline *p)
{
    if (p->lock_fd >= 0) {
        flock(p->lock_fd, LOCK_UN);
        close(p->lock_fd);
        p->lock_fd = -1;
    }
}

static void close_dest(struct sluice_pipeline *p)
{
    if (p->dest && p->dm)
        p->dm->xClose(p->dest);
    p->dest = NULL;
}

static void clear_run_info(struct sluice_pipeline *p)
{
    for (size_t i = 0; i < p->ntinfo; i++)
        sl_free((void *)p->tinfo[i].name);
    p->ntinfo = 0;
    p->load_id[0] = '\0';
    p->run_items = p->run_rows = p->run_packages = p->run_pending = 0;
}

void sl_pipeline_destroy(struct sluice_pipeline *p)
{
    sl_runlog_free(p);
    sl_trace_free(p);
    close_dest(p);
    unlock(p);
    clear_run_info(p);
    sl_free(p->tinfo);
    sl_schema_free(&p->schema);
    sl_json_free(p->state);
    sl_pipeline_cfg_free(&p->cfg);
    sl_free(p->gens);
    sl_free(p->workdir);
}

/* ============================================================================================
 * Working dir
 * ========================================================================================== */


static sluice_status write_pipeline_json(struct sluice_pipeline *p)
{
    struct sl_json *o = sl_json_new_object();
    char *path = sl_aprintf("%s/pipeline.json", p->workdir);
    char *text = NULL;
    sluice_status rc = SLUICE_OK;
    const char *dtype = p->cfg->dest_type ? p->cfg->dest_type : "sqlite";
    if (!o || !path || sl_json_obj_put_str(o, "pipeline_name", p->cfg->pipeline_name) ||
        sl_json_obj_put_str(o, "destination_type", dtype) ||
        sl_json_obj_put_str(o, "destination_path", p->cfg->dest_path) ||
        sl_json_obj_put_str(o, "dataset_name", p->cfg->dataset) ||
        sl_json_obj_put_str(o, "config", p->cfg->path) ||
        sl_json_obj_put_str(o, "base_dir", p->cfg->base_dir)) {
        rc = sl_nomem(&p->ctx);
        goto done;
    }
    text = sl_json_dumps(o, SL_JSON_W_PRETTY | SL_JSON_W_SORTED);
    if (!text) {
        rc = sl_nomem(&p->ctx);
        goto done;
    }
    /* rewrite only when it changed: keeps runs from fsyncing needlessly */
    char *old = NULL;
    size_t oldlen = 0;
    struct sl_ctx scratch;
    sl_ctx_init(&scratch);
    if (sl_fs_read(&scratch, path, &old, &oldlen) == SLUICE_OK && oldlen == strlen(text) &&
        memcmp(old, text, oldlen) == 0) {
        sl_free(old);
        goto done;
    }
    sl_free(old);
    rc = sl_fs_write_atomic(&p->ctx, path, text, strlen(text));
done:
    sl_free(text);
    sl_free(path);
    sl_json_free(o);
    return rc;
}

static sluice_status lock_workdir_wait(struct sluice_pipeline *p, int wait);

static sluice_status lock_workdir(struct sluice_pipeline *p)
{
    return lock_workdir_wait(p, 0);
}

/* The working-dir lock: flock(), which the kernel releases when the holder dies, so a killed
 * run never blocks the next one. wait: block until the holder finishes. */
static sluice_status lock_workdir_wait(struct sluice_pipeline *p, int wait)
{
    if (p->lock_fd >= 0)
        return SLUICE_OK;
    char *path = sl_aprintf("%s/lock", p->workdir);
    if (!path)
        return sl_nomem(&p->ctx);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        sluice_status rc = sl_fail(&p->ctx, SLUICE_ERR_IO, "cannot open lock file '%s': %s", path,
                                   strerror(errno));
        sl_free(path);
        return rc;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char holder[128] = "";
        ssize_t r = pread(fd, holder, sizeof(holder) - 1, 0);
        holder[r > 0 ? r : 0] = '\0';
        char *nl = strchr(holder, '\n');
        if (nl)
            *nl = '\0';
        if (wait) {
            sl_log(&p->ctx, SLUICE_LOG_INFO, "waiting for the run holding pipeline %s (%s)",
                   p->cfg->pipeline_name, holder[0] ? holder : "unknown");
            /* polled, so that an interrupt ends the wait */
            int lrc;
            while ((lrc = flock(fd, LOCK_EX | LOCK_NB)) != 0 &&
                   (errno == EWOULDBLOCK || errno == EINTR) && !sl_run_interrupted(p)) {
                struct timespec ts = { 0, 100 * 1000000L };
                nanosleep(&ts, NULL);
            }
            if (lrc == 0)
                goto locked;
            if (sl_run_interrupted(p)) {
                close(fd);
                sl_free(path);
                return sl_run_stop(&p->ctx, NULL,
                                   "waiting for another run of pipeline %s: nothing was done",
                                   p->cfg->pipeline_name);
            }
        }
        close(fd);
        sluice_status rc = sl_fail(&p->ctx, SLUICE_ERR_LOCKED,
                                   "pipeline '%s' is being run by another process (%s); lock "
                                   "file '%s'",
                                   p->cfg->pipeline_name, holder[0] ? holder : "unknown", path);
        sl_free(path);
        return rc;
    }
locked:;
    char who[128];
    char host[64] = "";
    gethostname(host, sizeof(host) - 1);
    int n = snprintf(who, sizeof(who), "pid %ld on %s\n", (long)getpid(), host);
    if (ftruncate(fd, 0) == 0 && n > 0)
        (void)!pwrite(fd, who, (size_t)n, 0);
    sl_free(path);
    p->lock_fd = fd;
    return SLUICE_OK;
}

/* create: a run may create the database; the other commands only read (or change) one that
 * exists, and never leave an empty file behind. */
static sluice_status open_dest(struct sluice_pipeline *p, int create)
{
    return sl_run_open_dest(p, create);
}

static const char *schema_name(const struct sluice_pipeline *p)
{
    if (p->cfg->nres && p->cfg->resources[0].source)
        return p->cfg->resources[0].source;
    return p->cfg->pipeline_name;
}

static char *schema_path(const struct sluice_pipeline *p, const char *name)
{
    return sl_aprintf("%s/schemas/%s.schema.json", p->workdir, name);
}

static sluice_status save_local_schema(struct sluice_pipeline *p)
{
    char *dir = sl_aprintf("%s/schemas", p->workdir);
    char *path = schema_path(p, p->schema->name);
    struct sl_json *j = sl_schema_to_json(p->schema);
    char *text = j ? sl_json_dumps(j, SL_JSON_W_PRETTY) : NULL;
    sluice_status rc = (dir && path && text) ? sl_fs_mkdirs(&p->ctx, dir) : sl_nomem(&p->ctx);
    if (rc == SLUICE_OK)
        rc = sl_fs_write_atomic(&p->ctx, path, text, strlen(text));
    sl_free(text);
    sl_json_free(j);
    sl_free(path);
    sl_free(dir);
    return rc;
}

/* Local schema file, else the destination's newest stored version, else a new schema. */
static sluice_status load_schema(struct sluice_pipeline *p)
{
    if (p->schema)
        return SLUICE_OK;
    const char *name = schema_name(p);
    char *path = schema_path(p, name);
    char *text = NULL;
    size_t len = 0;
    struct sl_json *j = NULL;
    if (!path)
        return sl_nomem(&p->ctx);
    sluice_status rc = sl_fs_read(&p->ctx, path, &text, &len);
    if (rc == SLUICE_ERR_NOT_FOUND) {
        rc = p->dest ? p->dm->xLoadSchema(p->dest, name, &text) : SLUICE_OK;
        if (rc == SLUICE_OK && text) {
            len = strlen(text);
            sl_log(&p->ctx, SLUICE_LOG_INFO, "schema '%s' restored from the destination", name);
        }
    }
    if (rc == SLUICE_OK && text) {
        rc = sl_json_parse_heap(&p->ctx, text, len, &j);
        if (rc == SLUICE_OK)
            rc = sl_schema_from_json(&p->ctx, j, &p->schema);
    } else if (rc == SLUICE_OK) {
        rc = sl_schema_new(&p->ctx, name, &p->schema);
    }
    sl_json_free(j);
    sl_free(text);
    sl_free(path);
    return rc;
}

/*
 * Before anything is normalized: adopt the destination's newest schema (the highest version)
 * when it differs from the local one. Another machine (or dlt) may have evolved it since this
 * working dir last loaded; normalizing against a stale schema would put a value into a
 * column another machine created with another type (where a variant column belongs) and
 * store a second, different schema under one version. When the destination is behind the
 * local schema (restored from a backup), the destination wins too.
 */
static sluice_status sync_schema(struct sluice_pipeline *p)
{
    char *text = NULL;
    struct sl_json *j = NULL;
    struct sl_schema *remote = NULL;
    const char *name = p->schema ? p->schema->name : schema_name(p);
    sluice_status rc = p->dm->xLoadSchema(p->dest, name, &text);
    if (rc != SLUICE_OK || !text)
        goto done;
    rc = sl_json_parse_heap(&p->ctx, text, strlen(text), &j);
    if (rc == SLUICE_OK)
        rc = sl_schema_from_json(&p->ctx, j, &remote);
    if (rc != SLUICE_OK)
        goto done;
    if (p->schema && p->schema->version_hash && remote->version_hash &&
        strcmp(p->schema->version_hash, remote->version_hash) == 0)
        goto done;
    if (p->schema && p->schema->version_hash)
        sl_log(&p->ctx, SLUICE_LOG_INFO,
               "schema '%s' version %lld adopted from the destination (the working dir had "
               "version %lld)",
               name, (long long)remote->version, (long long)p->schema->version);
    sl_schema_free(&p->schema);
    p->schema = remote;
    remote = NULL;
    rc = save_local_schema(p);
done:
    sl_schema_free(&remote);
    sl_json_free(j);
    sl_free(text);
    return rc;
}

/* ============================================================================================
 * State
 * ========================================================================================== */

/* A fresh state document as dlt lays it out for this pipeline, hashed, so that the first
 * change is version 1 (as dlt numbers its first state row). NULL when out of memory. */
static struct sl_json *new_state(struct sluice_pipeline *p)
{
    struct sl_json *st = sl_state_new(p->cfg->pipeline_name, p->cfg->dataset);
    if (!st)
        return NULL;
    const char *type = p->cfg->dest_type ? p->cfg->dest_type : "sqlite";
    /* dlt reaches SQLite through its sqlalchemy destination */
    char *dtype = sl_aprintf("dlt.destinations.%s",
                             strcmp(type, "sqlite") == 0 ? "sqlalchemy" : type);
    struct sl_json name;
    int bad = !dtype || sl_json_obj_put_str(st, "destination_type", dtype);
    const char *sname = schema_name(p);
    if (!bad)
        bad = sl_json_obj_put_str(st, "default_schema_name", sname);
    struct sl_json *names = bad ? NULL : sl_json_obj_setdefault(st, "schema_names", SL_JSON_ARRAY);
    if (!bad && (!names || sl_json_set_str(&name, sname, strlen(sname))))
        bad = 1;
    if (!bad && !sl_json_arr_push_take(names, &name))
        bad = 1;
    sl_free(dtype);
    struct sl_ctx scratch;
    sl_ctx_init(&scratch);
    if (bad || sl_state_bump(&scratch, st, NULL) != SLUICE_OK) {
        sl_json_free(st);
        return NULL;
    }
    return st;
}

static char *state_path(const struct sluice_pipeline *p)
{
    return sl_aprintf("%s/state.json", p->workdir);
}

static sluice_status save_local_state(struct sluice_pipeline *p)
{
    char *path = state_path(p);
    sluice_status rc = path ? sl_fs_mkdirs(&p->ctx, p->workdir) : sl_nomem(&p->ctx);
    if (rc == SLUICE_OK)
        rc = sl_state_save_file(&p->ctx, path, p->state);
    sl_free(path);
    return rc;
}

static int64_t state_version(const struct sl_json *st)
{
    const struct sl_json *v = sl_json_get(st, "_state_version");
    return v && v->type == SL_JSON_INT ? v->u.i : 0;
}

/* Replace the pipeline's state with doc (taken), keeping the local-only part. */
static sluice_status adopt_state(struct sluice_pipeline *p, struct sl_json *doc)
{
    struct sl_json *local = p->state ? sl_json_get_mut(p->state, "_local") : NULL;
    struct sl_json keep;
    sl_json_set_object(&keep);
    if (local) {
        sl_json_clear(&keep);
        keep = *local;
        sl_json_set_null(local);
    }
    sl_json_obj_del(doc, "_local");
    if (!sl_json_obj_set_take(doc, "_local", &keep)) {
        sl_json_free(doc);
        return sl_nomem(&p->ctx);
    }
    sl_json_free(p->state);
    p->state = doc;
    return SLUICE_OK;
}

/* s as an SQL string literal's content (quotes doubled), into b; -1 when out of memory. */
static int sql_text(struct sl_buf *b, const char *s)
{
    for (; *s; s++)
        if ((*s == '\'' && sl_buf_putc(b, '\'')) || sl_buf_putc(b, *s))
            return -1;
    return 0;
}

/*
 * State rows whose load is not completed in _dlt_loads (issue 8 point 7). sluice commits a
 * state row and its _dlt_loads row in one transaction, so such a row means the _dlt_loads row
 * was deleted (the data is there) or a load of another tool never completed (it is not):
 * ignoring the row reloads data in the first case, using it loses data in the second, and
 * only the user knows which. So a run stops with an error that names the rows and gives the
 * SQL of both ways out; read-only commands (strict = 0) warn and go on.
 */
static sluice_status orphan_states(struct sluice_pipeline *p, const struct sl_state_row_owned *row,
                                   int strict)
{
    struct sl_buf name, where;
    sl_buf_init(&name, 0);
    sl_buf_init(&where, 0);
    sluice_status rc = SLUICE_OK;
    int one = row->orphans == 1;
    if (sql_text(&name, p->cfg->pipeline_name) || sl_buf_putc(&name, '\0') ||
        sl_buf_puts(&where, "FROM _dlt_pipeline_state WHERE pipeline_name = '") ||
        sl_buf_puts(&where, name.data) ||
        sl_buf_puts(&where, "' AND _dlt_load_id NOT IN (SELECT load_id FROM _dlt_loads WHERE "
                            "status = 0)") ||
        sl_buf_putc(&where, '\0')) {
        rc = sl_nomem(&p->ctx);
        goto done;
    }
    char more[48] = "";
    if (!one)
        snprintf(more, sizeof(more), ", and %lld more", (long long)row->orphans - 1);
    struct sl_ctx scratch;
    sl_ctx_init(&scratch);
    struct sl_ctx *into = strict ? &p->ctx : &scratch;
    sl_fail(into, SLUICE_ERR_STATE,
            "pipeline %s has %lld state %s without a completed load in _dlt_loads (version "
            "%lld, load %s%s): %s, and sluice will not guess which. If %s data is in the "
            "dataset, put %s _dlt_loads %s back: INSERT INTO _dlt_loads (load_id, schema_name, "
            "status, inserted_at) SELECT _dlt_load_id, '%s', 0, created_at %s; if it is not, "
            "delete the %s: DELETE %s; then run again (sluice pipeline %s query \"SQL\")",
            p->cfg->pipeline_name, (long long)row->orphans, one ? "row" : "rows",
            (long long)row->orphan_version, row->orphan_load_id ? row->orphan_load_id : "?",
            more,
            one ? "its load never completed or its _dlt_loads row was deleted"
                : "their loads never completed or their _dlt_loads rows were deleted",
            one ? "that load's" : "their", one ? "its" : "their", one ? "row" : "rows",
            schema_name(p), where.data, one ? "row" : "rows", where.data,
            p->cfg->pipeline_name);
    if (strict)
        rc = SLUICE_ERR_STATE;
    else
        sl_log(&p->ctx, SLUICE_LOG_WARN, "%s", scratch.message);
done:
    sl_buf_cleanup(&name);
    sl_buf_cleanup(&where);
    return rc;
}

/*
 * Bring local state in line with the destination (spec 2.9): the newest completed state row
 * of this pipeline wins whenever it differs from the local one. Newer: another machine (or a
 * lost working dir). Older: the destination was restored from a backup, and it still wins,
 * with a warning (issue 8 point 5). A destination without any state for a pipeline that has
 * local state means the dataset was dropped or replaced, so local state and schema start
 * over. Runs at the start of every run, so a
 * machine that keeps nothing behaves exactly like one that keeps everything.
 */
static sluice_status sync_state(struct sluice_pipeline *p, int strict)
{
    struct sl_state_row_owned row;
    memset(&row, 0, sizeof(row));
    int found = 0;
    struct sl_json *remote = NULL;
    sluice_status rc = p->dm->xLoadState(p->dest, p->cfg->pipeline_name, &row, &found);
    if (rc == SLUICE_OK && row.orphans > 0)
        rc = orphan_states(p, &row, strict);
    if (rc != SLUICE_OK)
        goto done;
    if (!found) {
        if (state_version(p->state) > 0) {
            sl_log(&p->ctx, SLUICE_LOG_WARN,
                   "the destination has no state for pipeline %s (dataset dropped?): local "
                   "state and schema are reset",
                   p->cfg->pipeline_name);
            struct sl_json *fresh = new_state(p);
            if (!fresh) {
                rc = sl_nomem(&p->ctx);
                goto done;
            }
            rc = adopt_state(p, fresh);
            if (rc == SLUICE_OK)
                rc = save_local_state(p);
            char *sp = schema_path(p, schema_name(p));
            if (sp)
                unlink(sp);
            sl_free(sp);
            sl_schema_free(&p->schema);
        }
        goto done;
    }
    rc = sl_state_decode(&p->ctx, row.state, strlen(row.state), &remote);
    if (rc != SLUICE_OK)
        goto done;
    const char *lh = sl_json_str(sl_json_get(p->state, "_version_hash"));
    const char *rh = sl_json_str(sl_json_get(remote, "_version_hash"));
    if (!lh || !rh || strcmp(lh, rh) != 0) {
        const char *rname = sl_json_str(sl_json_get(remote, "pipeline_name"));
        if (rname && strcmp(rname, p->cfg->pipeline_name) != 0) {
            rc = sl_fail(&p->ctx, SLUICE_ERR_STATE,
                         "the destination's state belongs to pipeline '%s', not '%s'", rname,
                         p->cfg->pipeline_name);
            goto done;
        }
        if (state_version(remote) < state_version(p->state))
            /* the destination is behind the working dir: only a restore (or rows removed)
             * does that, since local state is saved only after its commit. The destination
             * is the truth: keeping the local state would make every load fail its
             * compare-and-swap, forever */
            sl_log(&p->ctx, SLUICE_LOG_WARN,
                   "the destination's state of pipeline %s is older than the local one "
                   "(version %lld, local version %lld): the destination was restored from a "
                   "backup or its newest loads were removed; continuing from the "
                   "destination's state",
                   p->cfg->pipeline_name, (long long)state_version(remote),
                   (long long)state_version(p->state));
        else
            sl_log(&p->ctx, SLUICE_LOG_INFO,
                   "state restored from the destination (version %lld, load %s)",
                   (long long)state_version(remote), row.load_id ? row.load_id : "?");
        rc = adopt_state(p, remote);
        remote = NULL;
        if (rc == SLUICE_OK)
            rc = save_local_state(p);
        /* the schema that goes with it comes from the destination too */
        char *sp = schema_path(p, schema_name(p));
        if (sp)
            unlink(sp);
        sl_free(sp);
        sl_schema_free(&p->schema);
    }
done:
    sl_json_free(remote);
    sl_state_row_owned_free(&row);
    return rc;
}

/* Local state, then synced with the destination; strict: state rows without a completed load
 * are an error (runs, drop), else a warning (info). */
static sluice_status load_state(struct sluice_pipeline *p, int strict)
{
    if (!p->state) {
        char *path = state_path(p);
        if (!path)
            return sl_nomem(&p->ctx);
        sluice_status rc = sl_state_load_file(&p->ctx, path, &p->state);
        sl_free(path);
        if (rc == SLUICE_ERR_NOT_FOUND) {
            p->state = new_state(p);
            if (!p->state)
                return sl_nomem(&p->ctx);
        } else if (rc != SLUICE_OK) {
            return rc;
        }
    }
    return sync_state(p, strict);
}

sluice_status sl_pipeline_sync(struct sluice_pipeline *p)
{
    /* the working dir may not exist yet (a config-opened pipeline on a new machine) */
    sluice_status rc = sl_fs_mkdirs(&p->ctx, p->workdir);
    if (rc == SLUICE_OK)
        rc = lock_workdir(p);
    if (rc == SLUICE_OK)
        rc = write_pipeline_json(p);
    if (rc == SLUICE_OK)
        rc = open_dest(p, 0);
    if (rc != SLUICE_OK)
        goto done;
    /* start from nothing local, then take everything from the destination */
    char *sp = state_path(p);
    if (sp)
        unlink(sp);
    sl_free(sp);
    sl_json_free(p->state);
    p->state = new_state(p);
    if (!p->state) {
        rc = sl_nomem(&p->ctx);
        goto done;
    }
    sl_schema_free(&p->schema);
    char *schp = schema_path(p, schema_name(p));
    if (schp)
        unlink(schp);
    sl_free(schp);
    struct sl_state_row_owned row;
    memset(&row, 0, sizeof(row));
    int found = 0;
    rc = p->dm->xLoadState(p->dest, p->cfg->pipeline_name, &row, &found);
    sl_state_row_owned_free(&row);
    if (rc == SLUICE_OK && !found)
        rc = sl_fail(&p->ctx, SLUICE_ERR_NOT_FOUND,
                     "pipeline '%s' was not found in dataset '%s' of the destination",
                     p->cfg->pipeline_name, p->cfg->dataset);
    if (rc == SLUICE_OK)
        rc = sync_state(p, 1);
    if (rc == SLUICE_OK)
        rc = load_schema(p);
    if (rc == SLUICE_OK && p->schema)
        rc = save_local_schema(p);
done:
    unlock(p);
    return rc;
}

/* ============================================================================================
 * Packages
 * ========================================================================================== */

/* Remove a package dir, its manifest first: a dir without a manifest is discarded by the next
 * run, while a half-removed one that still has its manifest would be loaded again and fail on
 * its missing files (a crash in the middle of the clean-up must not block later runs). */
static sluice_status remove_package(struct sl_ctx *ctx, const char *dir)
{
    char *mp = sl_aprintf("%s/manifest.json", dir);
    if (!mp)
        return sl_nomem(ctx);
    sluice_status rc = SLUICE_OK;
    if (unlink(mp) != 0 && errno != ENOENT)
        rc = sl_fail(ctx, SLUICE_ERR_IO, "cannot remove '%s': %s", mp, strerror(errno));
    sl_free(mp);
    if (rc != SLUICE_OK)
        return rc;
    sl_fs_sync_dir(dir);
    return sl_fs_rmtree(ctx, dir);
}

/*
 * Drop a package that must not be loaded and say why; returns SLUICE_ERR_LOCKED, on which
 * load_pending goes on to the next package. rc LOCKED: stale, made from a state another
 * process has moved past (its items start from an old cursor the other process already
 * covered). Otherwise damaged (package.h): a file of it cut short, failing its checksum or
 * unreadable (a crash of the machine before the files reached the disk, a bad disk, a hand
 * edit). Either way nothing of it was committed, its state neither: its data is extracted
 * again from the destination's state. The error stays pending (the run's own package reports
 * it as the run's failure; load_pending clears it for an earlier run's package).
 */
static sluice_status discard_package(struct sluice_pipeline *p, const char *dir,
                                     sluice_status rc)
{
    struct sl_ctx scratch;
    sl_ctx_init(&scratch);
    remove_package(&scratch, dir);
    if (rc == SLUICE_ERR_LOCKED)
        sl_log(&p->ctx, SLUICE_LOG_WARN, "discarded stale load package %s", dir);
    else
        sl_log(&p->ctx, SLUICE_LOG_WARN,
               "%s: the package was discarded (nothing of it was committed) and its data is "
               "extracted again",
               p->ctx.message);
    return SLUICE_ERR_LOCKED;
}

/* The rows per table of a normalized package, into the open normalize step. */
static void trace_normalized(struct sluice_pipeline *p, const struct sl_json *m)
{
    const struct sl_json *tables = sl_json_get(m, "tables");
    for (uint32_t i = 0; tables && i < tables->len; i++) {
        const struct sl_json *tj = &tables->u.items[i];
        struct sl_json *o = sl_json_new_object();
        const struct sl_json *rows = sl_json_get(tj, "rows");
        if (o && (sl_json_obj_put_str(o, "name", sl_json_str(sl_json_get(tj, "name"))) ||
                  sl_json_obj_put_int(o, "rows",
                                      rows && rows->type == SL_JSON_INT ? rows->u.i : 0))) {
            sl_json_free(o);
            o = NULL;
        }
        sl_trace_add(p, "tables", o);
    }
}

/* Normalize (if needed) and load one package dir; removes it once loaded. pending: left by an
 * earlier run (for the trace). */
static sluice_status process_package(struct sluice_pipeline *p, const char *dir, int pending,
                                     struct sl_loadpipe **lpipe)
{
    struct sl_json *m = NULL;
    struct sl_schema *work = NULL;
    struct sl_schema *loaded = NULL;
    sluice_status rc = sl_manifest_read(&p->ctx, dir, &m);
    if (rc == SLUICE_ERR_NOT_FOUND) {
        /* an extraction that never finished: its items were never promised to anyone */
        sl_ctx_clear(&p->ctx);
        sl_log(&p->ctx, SLUICE_LOG_WARN, "discarding unfinished extraction in %s", dir);
        return sl_fs_rmtree(&p->ctx, dir);
    }
    if (rc != SLUICE_OK && SL_PACKAGE_CORRUPT(&p->ctx))
        return discard_package(p, dir, rc);
    if (rc != SLUICE_OK)
        return rc;
    const char *stage = sl_json_str(sl_json_get(m, "stage"));
    if (stage && strcmp(stage, "extracted") == 0) {
        sl_trace_step(p, "normalize", sl_json_str(sl_json_get(m, "load_id")), pending);
        rc = sl_schema_dup(&p->ctx, p->schema, &work);
        /* tables a refresh drops start over: the package re-creates them from its own data */
        const struct sl_json *rf = sl_json_get(m, "refresh");
        const char *mode = sl_json_str(sl_json_get(rf, "mode"));
        const struct sl_json *drop = sl_json_get(rf, "tables");
        if (rc == SLUICE_OK && mode && strcmp(mode, "drop_data") != 0 && drop &&
            drop->type == SL_JSON_ARRAY)
            for (uint32_t i = 0; i < drop->len; i++)
                sl_schema_remove(work, sl_json_str(&drop->u.items[i]));
        if (rc == SLUICE_OK)
            rc = sl_normalize_package(p, dir, m, work);
        sl_schema_free(&work);
        if (rc == SLUICE_ERR_DATA_SCHEMA || rc == SLUICE_ERR_DATA_JSON ||
            rc == SLUICE_ERR_CONFIG) {
            /* data that cannot be normalized never will be: drop the package (its state was
             * never committed, so the items come again from the source, and fail again with
             * this error until the source or the config is fixed) rather than block every
             * later run behind it */
            struct sl_ctx scratch;
            sl_ctx_init(&scratch);
            remove_package(&scratch, dir);
        }
        stage = sl_json_str(sl_json_get(m, "stage"));
        if (rc == SLUICE_OK)
            trace_normalized(p, m); /* the rows it made */
        sl_trace_step_end(p, rc);
    } else if (stage && strcmp(stage, "normalized") == 0) {
        /* normalized while it was extracted (this run's package) or by an earlier run */
        sl_trace_step(p, "normalize", sl_json_str(sl_json_get(m, "load_id")), pending);
        sl_trace_note(p, pending ? "normalized by an earlier run" : "normalized while extracting");
        trace_normalized(p, m);
        sl_trace_step_end(p, SLUICE_OK);
    }
    if (rc == SLUICE_OK && (!stage || strcmp(stage, "normalized") != 0))
        rc = sl_package_damaged(&p->ctx, dir, "manifest.json", "has unknown stage '%s'",
                                stage ? stage : "");
    if (rc == SLUICE_OK) {
        sl_trace_step(p, "load", sl_json_str(sl_json_get(m, "load_id")), pending);
        if (lpipe && *lpipe)
            rc = sl_loadpipe_finish(lpipe, dir, m, &loaded); /* loaded while normalizing */
        else
            rc = sl_load_package(p, dir, m, &loaded);
        sl_trace_step_end(p, rc);
    }
    if (lpipe && *lpipe)
        sl_loadpipe_finish(lpipe, dir, NULL, NULL); /* the package went wrong before its load */
    if (rc == SLUICE_ERR_LOCKED || (rc != SLUICE_OK && SL_PACKAGE_CORRUPT(&p->ctx)))
        rc = discard_package(p, dir, rc);
    if (rc == SLUICE_OK) {
        const char *lid = sl_json_str(sl_json_get(m, "load_id"));
        snprintf(p->load_id, sizeof(p->load_id), "%s", lid ? lid : "");
        sl_schema_free(&p->schema);
        p->schema = loaded;
        rc = save_local_schema(p);
        SL_FAULT_POINT("local.before_state_save");
        struct sl_json *st = sl_json_get_mut(m, "state");
        if (rc == SLUICE_OK && st && st->type == SL_JSON_OBJECT) {
            struct sl_json *copy = sl_json_dup(st);
            rc = copy ? adopt_state(p, copy) : sl_nomem(&p->ctx);
        }
        /* the pipeline has loaded something: no longer its first run (dlt's _local) */
        struct sl_json *local = sl_json_obj_setdefault(p->state, "_local", SL_JSON_OBJECT);
        struct sl_json fr;
        sl_json_set_bool(&fr, false);
        if (rc == SLUICE_OK && (!local || !sl_json_obj_set_take(local, "first_run", &fr)))
            rc = sl_nomem(&p->ctx);
        if (rc == SLUICE_OK)
            rc = save_local_state(p);
        SL_FAULT_POINT("load.before_cleanup");
        if (rc == SLUICE_OK && p->cfg->archive_packages) {
            /* archive instead of removing: <workdir>/loaded/<load_id> */
            char *adir = sl_aprintf("%s/loaded", p->workdir);
            const char *base = strrchr(dir, '/');
            char *dest = adir && base ? sl_aprintf("%s%s", adir, base) : NULL;
            rc = dest ? sl_fs_mkdirs(&p->ctx, adir) : sl_nomem(&p->ctx);
            if (rc == SLUICE_OK && rename(dir, dest) != 0)
                rc = sl_fail(&p->ctx, SLUICE_ERR_IO,
                             "cannot archive load package '%s' to '%s': %s", dir, dest,
                             strerror(errno));
            sl_free(dest);
            sl_free(adir);
        } else if (rc == SLUICE_OK) {
            rc = remove_package(&p->ctx, dir);
        }
        p->run_packages++;
    }
    sl_json_free(m);
    return rc;
}

static sluice_status pending_list(struct sluice_pipeline *p, struct sl_json *arr);

/* A dry run's package: normalized (when it was not while extracting) into a copy of the
 * schema, then described in the trace instead of loaded. */
static sluice_status dry_run_package(struct sluice_pipeline *p, const char *dir)
{
    struct sl_json *m = NULL;
    struct sl_schema *work = NULL;
    sluice_status rc = sl_manifest_read(&p->ctx, dir, &m);
    if (rc != SLUICE_OK)
        return rc;
    const char *stage = sl_json_str(sl_json_get(m, "stage"));
    sl_trace_step(p, "normalize", sl_json_str(sl_json_get(m, "load_id")), 0);
    if (stage && strcmp(stage, "extracted") == 0) {
        rc = sl_schema_dup(&p->ctx, p->schema, &work);
        if (rc == SLUICE_OK)
            rc = sl_normalize_package(p, dir, m, work);
        sl_schema_free(&work);
    } else {
        sl_trace_note(p, "normalized while extracting");
    }
    if (rc == SLUICE_OK)
        trace_normalized(p, m);
    sl_trace_step_end(p, rc);
    if (rc == SLUICE_OK)
        rc = sl_dry_run_report(p, dir, m);
    sl_json_free(m);
    return rc;
}

static sluice_status load_pending(struct sluice_pipeline *p, const char *except)
{
    char *ldir = sl_aprintf("%s/load", p->workdir);
    char **names = NULL;
    size_t n = 0;
    if (!ldir)
        return sl_nomem(&p->ctx);
    sluice_status rc = sl_fs_list(&p->ctx, ldir, &names, &n);
    for (size_t i = 0; rc == SLUICE_OK && i < n; i++) {
        if (except && strcmp(names[i], except) == 0)
            continue;
        char *dir = sl_aprintf("%s/%s", ldir, names[i]);
        if (!dir) {
            rc = sl_nomem(&p->ctx);
            break;
        }
        if (sl_run_interrupted(p)) {
            sl_free(dir);
            rc = sl_run_stop(&p->ctx, NULL,
                             "loading the load packages left by an earlier run: %s and the "
                             "packages after it stay pending; the next run loads them first",
                             names[i]);
            break;
        }
        int had_manifest = 0;
        char *mp = sl_aprintf("%s/manifest.json", dir);
        had_manifest = mp && sl_fs_exists(mp);
        sl_free(mp);
        rc = process_package(p, dir, 1, NULL);
        if (rc == SLUICE_ERR_LOCKED) {
            /* a stale pending package was discarded (see process_package): go on from the
             * destination's newer state, which the new extraction will start from */
            sl_ctx_clear(&p->ctx);
            rc = sync_state(p, 1);
            if (rc == SLUICE_OK)
                rc = load_schema(p);
            sl_free(dir);
            continue;
        }
        if (rc == SLUICE_OK && had_manifest) {
            p->run_pending++;
            sl_log(&p->ctx, SLUICE_LOG_INFO, "loaded pending package %s left by an earlier run",
                   names[i]);
        }
        sl_free(dir);
    }
    sl_fs_list_free(names, n);
    sl_free(ldir);
    return rc;
}

/* ---- load ids ---------------------------------------------------------------------------- */

/* Split "<seconds>.<fraction>" (dlt's str(time.time()) or ours); 0 when it has another shape. */
static int load_id_parts(const char *id, const char **isec, size_t *nsec, const char **frac,
                         size_t *nfrac)
{
    size_t i = 0;
    while (id[i] >= '0' && id[i] <= '9')
        i++;
    if (i == 0)
        return 0;
    *isec = id;
    *nsec = i;
    *frac = "";
    *nfrac = 0;
    if (id[i] == '.') {
        size_t f = ++i;
        while (id[i] >= '0' && id[i] <= '9')
            i++;
        *frac = id + f;
        *nfrac = i - f;
    }
    return id[i] == '\0';
}

/* Compare two load ids as the numbers they spell (not as text: "999.5" < "1000.1"). */
static int load_id_cmp(const char *a, const char *b)
{
    const char *as, *af, *bs, *bf;
    size_t an, afn, bn, bfn;
    if (!load_id_parts(a, &as, &an, &af, &afn) || !load_id_parts(b, &bs, &bn, &bf, &bfn))
        return strcmp(a, b);
    while (an > 1 && *as == '0') {
        as++;
        an--;
    }
    while (bn > 1 && *bs == '0') {
        bs++;
        bn--;
    }
    if (an != bn)
        return an < bn ? -1 : 1;
    int c = memcmp(as, bs, an);
    if (c)
        return c;
    for (size_t i = 0; i < afn || i < bfn; i++) {
        char x = i < afn ? af[i] : '0', y = i < bfn ? bf[i] : '0';
        if (x != y)
            return x < y ? -1 : 1;
    }
    return 0;
}

/* The smallest id of our form ("<seconds>.<6 digits>") above id; 0 when id has another shape. */
static int load_id_above(const char *id, char *out, size_t outsz)
{
    const char *sec, *frac;
    size_t nsec, nfrac;
    if (!load_id_parts(id, &sec, &nsec, &frac, &nfrac) || nsec > 18)
        return 0;
    long long s = strtoll(sec, NULL, 10);
    long us = 0;
    for (size_t i = 0; i < 6; i++)
        us = us * 10 + (i < nfrac ? frac[i] - '0' : 0);
    if (++us == 1000000) {
        us = 0;
        s++;
    }
    snprintf(out, outsz, "%lld.%06ld", s, us);
    return 1;
}

/*
 * A new load id: the wall clock, unless that is not above both the destination's newest load
 * id and the last one this pipeline loaded (a clock behind another machine's, or stepped
 * back), in which case the smallest id above them. So load ids grow in commit order whatever
 * the clocks say, and dlt, which takes the newest state by load id, agrees with sluice, which
 * takes it by version.
 */
static sluice_status next_load_id(struct sluice_pipeline *p, char *out, size_t outsz)
{
    int64_t sec;
    long usec;
    char *newest = NULL;
    sl_run_wall(p, &sec, &usec);
    snprintf(out, outsz, "%lld.%06ld", (long long)sec, usec);
    sluice_status rc = p->dest && p->dm->xNewestLoadId
                           ? p->dm->xNewestLoadId(p->dest, &newest)
                           : SLUICE_OK;
    if (rc != SLUICE_OK)
        return rc;
    const char *floor = p->load_id[0] ? p->load_id : NULL;
    if (newest && (!floor || load_id_cmp(newest, floor) > 0))
        floor = newest;
    if (floor && load_id_cmp(out, floor) <= 0) {
        char above[40];
        if (load_id_above(floor, above, sizeof(above))) {
            sl_log(&p->ctx, SLUICE_LOG_INFO,
                   "the clock (%s) is not above the newest load id %s: using load id %s", out,
                   floor, above);
            snprintf(out, outsz, "%s", above);
        }
    }
    sl_free(newest);
    return SLUICE_OK;
}

/* ============================================================================================
 * Run
 * ========================================================================================== */

/* A backfill bound from the CLI/API, else from the scheduler's environment variable: JSON
 * text (a number) or a plain string (a datetime). *out NULL when neither is set. */
static sluice_status window_value(struct sluice_pipeline *p, const char *given, const char *env,
                                  struct sl_json **out)
{
    *out = NULL;
    const char *text = given ? given : getenv(env);
    if (!text || !text[0])
        return SLUICE_OK;
    struct sl_ctx scratch;
    sl_ctx_init(&scratch);
    if (sl_json_parse_heap(&scratch, text, strlen(text), out) == SLUICE_OK &&
        (*out)->type != SL_JSON_OBJECT && (*out)->type != SL_JSON_ARRAY)
        return SLUICE_OK;
    sl_json_free(*out);
    *out = sl_json_new_object();
    if (!*out)
        return sl_nomem(&p->ctx);
    sl_json_clear(*out);
    if (sl_json_set_str(*out, text, strlen(text))) {
        sl_json_free(*out);
        *out = NULL;
        return sl_nomem(&p->ctx);
    }
    return SLUICE_OK;
}

sluice_status sl_pipeline_run(struct sluice_pipeline *p, const sluice_run_opts *opts)
{
    clear_run_info(p);
    p->t0 = sl_run_now(p);
    const char *const *resources = opts ? opts->resources : NULL;
    const char *wd_override = opts ? opts->write_disposition : NULL;
    if (wd_override && sl_wd_parse(wd_override) < 0)
        return sl_fail(&p->ctx, SLUICE_ERR_CONFIG,
                       "write disposition '%s' must be one of append, replace, merge",
                       wd_override);
    char *ldir = sl_aprintf("%s/load", p->workdir);
    char load_id[40];
    struct sl_json *start = NULL, *end = NULL;
    sluice_status rc = ldir ? sl_fs_mkdirs(&p->ctx, ldir) : sl_nomem(&p->ctx);
    if (rc == SLUICE_OK)
        rc = window_value(p, opts ? opts->start_value : NULL, "SLUICE_INTERVAL_START", &start);
    if (rc == SLUICE_OK)
        rc = window_value(p, opts ? opts->end_value : NULL, "SLUICE_INTERVAL_END", &end);
    if (rc == SLUICE_OK)
        rc = lock_workdir_wait(p, opts && opts->size >= offsetof(sluice_run_opts, wait) +
                                                           sizeof(opts->wait)
                                      ? opts->wait
                                      : 0);
    int dry = opts && opts->size >= offsetof(sluice_run_opts, dry_run) + sizeof(opts->dry_run)
                  ? opts->dry_run
                  : 0;
    if (rc == SLUICE_OK) {
        char stamp[40];
        int64_t sec;
        long usec;
        sl_run_wall(p, &sec, &usec);
        snprintf(stamp, sizeof(stamp), "%lld.%06ld", (long long)sec, usec);
        if (!dry)
            sl_runlog_begin(p, stamp);
        sl_trace_begin(p, stamp, dry);
    }
    if (rc == SLUICE_OK && !dry)
        rc = write_pipeline_json(p);
    if (rc == SLUICE_OK)
        rc = open_dest(p, 1);
    if (rc == SLUICE_OK)
        rc = load_state(p, 1);
    if (rc == SLUICE_OK)
        rc = load_schema(p);
    if (rc == SLUICE_OK)
        rc = sync_schema(p);
    if (rc == SLUICE_OK && dry) {
        /* a dry run loads nothing, pending packages neither: it lists them */
        struct sl_json *pend = sl_json_new_array();
        rc = pend ? pending_list(p, pend) : sl_nomem(&p->ctx);
        if (rc == SLUICE_OK)
            sl_trace_put(p, "pending_not_loaded", pend);
        else
            sl_json_free(pend);
        sl_free(ldir);
        ldir = sl_dry_run_dir(p);
        if (!ldir)
            rc = sl_nomem(&p->ctx);
        if (rc == SLUICE_OK)
            rc = sl_fs_rmtree(&p->ctx, ldir); /* what an earlier dry run left */
        if (rc == SLUICE_OK)
            rc = sl_fs_mkdirs(&p->ctx, ldir);
    } else if (rc == SLUICE_OK) {
        rc = load_pending(p, NULL);
    }
    /* a pending package may have been normalized against an older schema: extract against
     * the destination's newest */
    if (rc == SLUICE_OK)
        rc = sync_schema(p);
    if (rc != SLUICE_OK)
        goto done;
    SL_FAULT_POINT("run.after_pending");
    rc = next_load_id(p, load_id, sizeof(load_id));
    if (rc != SLUICE_OK)
        goto done;
    int created = 0;
    sl_run_progress(p, "extract", "", 0, 0, 0);
    /* normalize on a second thread while extracting (SLUICE_PIPELINING=0 turns it off) */
    const char *pipelining = getenv("SLUICE_PIPELINING");
    struct sl_schema *work = NULL;
    if (!(pipelining && strcmp(pipelining, "0") == 0))
        rc = sl_schema_dup(&p->ctx, p->schema, &work);
    /* and load on a third thread while normalizing (SLUICE_LOAD_PIPELINING=0 turns it off
     * alone); not for dry runs or refreshes (those drop tables before anything else) */
    const char *loadpiping = getenv("SLUICE_LOAD_PIPELINING");
    struct sl_loadpipe *lpipe = NULL;
    char *dir = sl_aprintf("%s/%s", ldir, load_id);
    if (!dir && rc == SLUICE_OK)
        rc = sl_nomem(&p->ctx);
    if (rc == SLUICE_OK && work && !dry && !(opts && opts->refresh) && p->dm->second_handle &&
        !(loadpiping && strcmp(loadpiping, "0") == 0))
        rc = sl_loadpipe_start(p, dir, load_id, &lpipe);
    struct sl_extract_opts xo = { resources, wd_override, start, end,
                                  opts ? opts->refresh : NULL, work, dry ? ldir : NULL,
                                  lpipe };
    sl_trace_step(p, "extract", load_id, 0);
    if (rc == SLUICE_OK)
        rc = sl_extract(p, load_id, &xo, &created);
    sl_trace_step_end(p, rc);
    sl_schema_free(&work);
    if (rc != SLUICE_OK || !created) {
        sl_loadpipe_finish(&lpipe, dir, NULL, NULL);
        sl_free(dir);
        if (rc == SLUICE_OK)
            p->load_id[0] = '\0';
        goto done;
    }
    SL_FAULT_POINT("run.after_extract");
    if (dry) {
        rc = dir ? dry_run_package(p, dir) : sl_nomem(&p->ctx);
        struct sl_ctx scratch;
        sl_ctx_init(&scratch);
        sl_fs_rmtree(&scratch, ldir);
        p->load_id[0] = '\0';
        sl_free(dir);
        goto done;
    }
    rc = process_package(p, dir, 0, &lpipe);
    sl_loadpipe_finish(&lpipe, dir, NULL, NULL); /* a package that failed before its load */
    if (rc != SLUICE_OK && p->ctx.code != SLUICE_OK)
        rc = p->ctx.code; /* a discarded package reports why (stale or damaged) */
    sl_free(dir);
done:
    if (rc != SLUICE_OK && p->ctx.code != SLUICE_OK && p->runlog) {
        char line[1400];
        sl_ctx_format(&p->ctx, line, sizeof(line));
        sl_runlog_note(p, "error: the run failed:", line);
    }
    sl_trace_end(p, rc);
    sl_runlog_end(p);
    sl_json_free(start);
    sl_json_free(end);
    sl_free(ldir);
    unlock(p);
    return rc;
}

/* ============================================================================================
 * Inspection
 * ========================================================================================== */

sluice_status sl_pipeline_query(struct sluice_pipeline *p, const char *sql, sluice_row_fn fn,
                                void *ud)
{
    sluice_status rc = open_dest(p, 0);
    if (rc == SLUICE_OK)
        rc = p->dm->xQuery(p->dest, sql, fn, ud);
    return rc;
}

/* A destination without typed queries: every non-NULL value is TEXT. */
struct untyped_ud {
    sluice_typed_row_fn fn;
    void *ud;
    sluice_value_type *types;
    size_t cap;
    int nomem;
};

static int untyped_row(void *ud, int ncols, const char *const *names, const char *const *values)
{
    struct untyped_ud *u = ud;
    size_t n = ncols > 0 ? (size_t)ncols : 0;
    if (!values)
        return u->fn(u->ud, ncols, names, values, NULL);
    if (n > u->cap) {
        sluice_value_type *t = sl_realloc(u->types, n * sizeof(*t));
        if (!t) {
            u->nomem = 1;
            return 1;
        }
        u->types = t;
        u->cap = n;
    }
    for (size_t i = 0; i < n; i++)
        u->types[i] = values[i] ? SLUICE_VALUE_TEXT : SLUICE_VALUE_NULL;
    return u->fn(u->ud, ncols, names, values, u->types);
}

sluice_status sl_pipeline_query_typed(struct sluice_pipeline *p, const char *sql,
                                      sluice_typed_row_fn fn, void *ud)
{
    sluice_status rc = open_dest(p, 0);
    if (rc != SLUICE_OK)
        return rc;
    if (p->dm->xQueryTyped)
        return p->dm->xQueryTyped(p->dest, sql, fn, ud);
    struct untyped_ud u = { fn, ud, NULL, 0, 0 };
    rc = p->dm->xQuery(p->dest, sql, untyped_row, &u);
    sl_free(u.types);
    return rc == SLUICE_OK && u.nomem ? sl_nomem(&p->ctx) : rc;
}

struct list_ud {
    struct sluice_pipeline *p;
    struct sl_json *tables;
};

static sluice_status list_table(void *ud, const char *table, int64_t rows)
{
    struct list_ud *lu = ud;
    struct sl_json t;
    sl_json_set_object(&t);
    struct sl_json v;
    int bad = sl_json_obj_put_str(&t, "name", table);
    sl_json_set_int(&v, rows);
    if (!bad && !sl_json_obj_set_take(&t, "rows", &v))
        bad = 1;
    struct sl_table *st = lu->p->schema ? sl_schema_find(lu->p->schema, table) : NULL;
    if (!bad && st) {
        struct sl_json *cols = sl_json_obj_setdefault(&t, "columns", SL_JSON_ARRAY);
        for (size_t i = 0; !bad && cols && i < st->ncols; i++) {
            struct sl_json c;
            sl_json_set_object(&c);
            bad = sl_json_obj_put_str(&c, "name", st->cols[i].name) ||
                  sl_json_obj_put_str(&c, "data_type", sl_dtype_name(st->cols[i].type)) ||
                  !sl_json_arr_push_take(cols, &c);
            if (bad)
                sl_json_clear(&c);
        }
        if (!cols)
            bad = 1;
        if (!bad && st->resource)
            bad = sl_json_obj_put_str(&t, "resource", st->resource);
        if (!bad)
            bad = sl_json_obj_put_str(&t, "write_disposition", sl_wd_name(st->wd));
    }
    if (bad || !sl_json_arr_push_take(lu->tables, &t)) {
        sl_json_clear(&t);
        return sl_nomem(&lu->p->ctx);
    }
    return SLUICE_OK;
}

struct loads_ud {
    struct sl_json *arr;
    int bad;
};

static int load_row(void *ud, int ncols, const char *const *names, const char *const *values)
{
    struct loads_ud *lu = ud;
    struct sl_json o;
    sl_json_set_object(&o);
    for (int i = 0; i < ncols && !lu->bad; i++)
        lu->bad = sl_json_obj_put_str(&o, names[i], values[i]);
    if (lu->bad || !sl_json_arr_push_take(lu->arr, &o)) {
        sl_json_clear(&o);
        lu->bad = 1;
        return 1;
    }
    return 0;
}

static sluice_status pending_list(struct sluice_pipeline *p, struct sl_json *arr)
{
    char *ldir = sl_aprintf("%s/load", p->workdir);
    char **names = NULL;
    size_t n = 0;
    sluice_status rc = ldir ? sl_fs_list(&p->ctx, ldir, &names, &n) : sl_nomem(&p->ctx);
    for (size_t i = 0; rc == SLUICE_OK && i < n; i++) {
        char *dir = sl_aprintf("%s/%s", ldir, names[i]);
        struct sl_json *m = NULL;
        if (!dir) {
            rc = sl_nomem(&p->ctx);
            break;
        }
        sluice_status mrc = sl_manifest_read(&p->ctx, dir, &m);
        if (mrc == SLUICE_ERR_NOT_FOUND || mrc != SLUICE_OK)
            sl_ctx_clear(&p->ctx);
        struct sl_json o;
        sl_json_set_object(&o);
        const char *stage = m ? sl_json_str(sl_json_get(m, "stage")) : NULL;
        if (sl_json_obj_put_str(&o, "load_id", names[i]) ||
            sl_json_obj_put_str(&o, "stage", stage ? stage : "extracting (unfinished)") ||
            !sl_json_arr_push_take(arr, &o)) {
            sl_json_clear(&o);
            rc = sl_nomem(&p->ctx);
        }
        sl_json_free(m);
        sl_free(dir);
    }
    sl_fs_list_free(names, n);
    sl_free(ldir);
    return rc;
}

sluice_status sl_pipeline_pending(struct sluice_pipeline *p, char **json_out)
{
    *json_out = NULL;
    struct sl_json *arr = sl_json_new_array();
    if (!arr)
        return sl_nomem(&p->ctx);
    sluice_status rc = pending_list(p, arr);
    if (rc == SLUICE_OK) {
        *json_out = sl_json_dumps(arr, 0);
        if (!*json_out)
            rc = sl_nomem(&p->ctx);
    }
    sl_json_free(arr);
    return rc;
}

sluice_status sl_pipeline_info(struct sluice_pipeline *p, char **json_out)
{
    *json_out = NULL;
    struct sl_json *o = sl_json_new_object();
    if (!o)
        return sl_nomem(&p->ctx);
    sluice_status rc = SLUICE_OK;
    struct sl_json *dest = sl_json_obj_setdefault(o, "destination", SL_JSON_OBJECT);
    if (sl_json_obj_put_str(o, "pipeline_name", p->cfg->pipeline_name) || !dest ||
        sl_json_obj_put_str(dest, "type", p->cfg->dest_type ? p->cfg->dest_type : "sqlite") ||
        sl_json_obj_put_str(dest, "path", p->cfg->dest_path) ||
        sl_json_obj_put_str(o, "dataset_name", p->cfg->dataset) ||
        sl_json_obj_put_str(o, "working_dir", p->workdir)) {
        rc = sl_nomem(&p->ctx);
        goto done;
    }
    rc = open_dest(p, 0);
    if (rc == SLUICE_OK)
        rc = load_state(p, 0);
    if (rc == SLUICE_OK)
        rc = load_schema(p);
    if (rc != SLUICE_OK)
        goto done;
    struct sl_json stv;
    if (sl_json_copy_into(&stv, p->state) || !sl_json_obj_set_take(o, "state", &stv)) {
        sl_json_clear(&stv);
        rc = sl_nomem(&p->ctx);
        goto done;
    }
    struct list_ud lu = { p, sl_json_obj_setdefault(o, "tables", SL_JSON_ARRAY) };
    if (!lu.tables) {
        rc = sl_nomem(&p->ctx);
        goto done;
    }
    rc = p->dm->xListTables(p->dest, list_table, &lu);
    if (rc != SLUICE_OK)
        goto done;
    struct loads_ud ld = { sl_json_obj_setdefault(o, "loads", SL_JSON_ARRAY), 0 };
    if (!ld.arr) {
        rc = sl_nomem(&p->ctx);
        goto done;
    }
    int have_loads = 0;
    for (uint32_t i = 0; i < lu.tables->len; i++)
        if (strcmp(sl_json_str(sl_json_get(&lu.tables->u.items[i], "name")), "_dlt_loads") == 0)
            have_loads = 1;
    if (have_loads) {
        rc = p->dm->xQuery(p->dest,
                           "SELECT load_id, schema_name, status, inserted_at, "
                           "schema_version_hash FROM _dlt_loads ORDER BY load_id",
                           load_row, &ld);
        if (rc == SLUICE_OK && ld.bad)
            rc = sl_nomem(&p->ctx);
        if (rc != SLUICE_OK)
            goto done;
    }
    struct sl_json *pend = sl_json_obj_setdefault(o, "pending", SL_JSON_ARRAY);
    rc = pend ? pending_list(p, pend) : sl_nomem(&p->ctx);
    if (rc != SLUICE_OK)
        goto done;
    *json_out = sl_json_dumps(o, SL_JSON_W_SORTED);
    if (!*json_out)
        rc = sl_nomem(&p->ctx);
done:
    sl_json_free(o);
    return rc;
}

sluice_status sl_pipeline_schema(struct sluice_pipeline *p, char **json_out)
{
    *json_out = NULL;
    sluice_status rc = open_dest(p, 0);
    if (rc == SLUICE_OK)
        rc = load_state(p, 0);
    if (rc != SLUICE_OK)
        return rc;
    /* the state names the schema the pipeline loads with (a pipeline opened from its working
     * dir alone does not know its resources' source) */
    const char *name = sl_json_str(sl_json_get(p->state, "default_schema_name"));
    if (!name)
        name = schema_name(p);
    rc = p->dm->xLoadSchema(p->dest, name, json_out);
    if (rc == SLUICE_OK && !*json_out)
        rc = sl_fail(&p->ctx, SLUICE_ERR_NOT_FOUND,
                     "dataset '%s' has no stored schema '%s' of pipeline '%s' yet (nothing was "
                     "loaded)",
                     p->cfg->dataset, name, p->cfg->pipeline_name);
    return rc;
}

/* One entry of the pipelines list: what pipeline.json and trace.json say, or -1 when the
 * folder is not a pipeline's working dir. */
static int list_one(const char *base, const char *name, struct sl_json *out)
{
    struct sl_ctx scratch;
    sl_ctx_init(&scratch);
    char *wd = sl_aprintf("%s/%s", base, name);
    char *pj = wd ? sl_aprintf("%s/pipeline.json", wd) : NULL;
    char *tj = wd ? sl_aprintf("%s/trace.json", wd) : NULL;
    char *text = NULL;
    size_t len = 0;
    struct sl_json *cfg = NULL, *trace = NULL;
    int rc = -1;
    if (!pj || !tj || sl_fs_read(&scratch, pj, &text, &len) != SLUICE_OK ||
        sl_json_parse_heap(&scratch, text, len, &cfg) != SLUICE_OK)
        goto done;
    sl_free(text);
    text = NULL;
    if (sl_fs_read(&scratch, tj, &text, &len) == SLUICE_OK)
        sl_json_parse_heap(&scratch, text, len, &trace); /* a damaged trace: no last run */
    struct sl_json o;
    sl_json_set_object(&o);
    struct sl_json *dest = sl_json_obj_setdefault(&o, "destination", SL_JSON_OBJECT);
    int bad = !dest || sl_json_obj_put_str(&o, "name", name) ||
              sl_json_obj_put_str(&o, "working_dir", wd) ||
              sl_json_obj_put_str(dest, "type", sl_json_str(sl_json_get(cfg, "destination_type"))) ||
              sl_json_obj_put_str(dest, "path", sl_json_str(sl_json_get(cfg, "destination_path"))) ||
              sl_json_obj_put_str(&o, "dataset_name", sl_json_str(sl_json_get(cfg, "dataset_name"))) ||
              sl_json_obj_put_str(&o, "config", sl_json_str(sl_json_get(cfg, "config")));
    struct sl_json last;
    sl_json_set_null(&last);
    if (!bad && trace && trace->type == SL_JSON_OBJECT) {
        static const char *const keys[] = { "run_id", "started_at", "status", "elapsed",
                                            "dry_run" };
        sl_json_set_object(&last);
        for (size_t i = 0; !bad && i < sizeof(keys) / sizeof(keys[0]); i++) {
            const struct sl_json *v = sl_json_get(trace, keys[i]);
            struct sl_json c;
            sl_json_set_null(&c);
            if (v && sl_json_copy_into(&c, v))
                bad = 1;
            if (!bad && !sl_json_obj_set_take(&last, keys[i], &c))
                bad = 1;
            if (bad)
                sl_json_clear(&c);
        }
    }
    if (!bad && !sl_json_obj_set_take(&o, "last_run", &last))
        bad = 1;
    if (bad || !sl_json_arr_push_take(out, &o)) {
        sl_json_clear(&last);
        sl_json_clear(&o);
        rc = 1; /* out of memory */
        goto done;
    }
    rc = 0;
done:
    sl_json_free(cfg);
    sl_json_free(trace);
    sl_free(text);
    sl_free(wd);
    sl_free(pj);
    sl_free(tj);
    return rc;
}

sluice_status sl_pipelines_list(char **json_out)
{
    *json_out = NULL;
    struct sl_ctx scratch;
    sl_ctx_init(&scratch);
    char *base = sl_pipelines_dir();
    struct sl_json *o = sl_json_new_object();
    struct sl_json *list = o ? sl_json_obj_setdefault(o, "pipelines", SL_JSON_ARRAY) : NULL;
    char **names = NULL;
    size_t n = 0;
    sluice_status rc = SLUICE_OK;
    if (!base || !list || sl_json_obj_put_str(o, "pipelines_dir", base)) {
        rc = SLUICE_ERR_NOMEM;
        goto done;
    }
    rc = sl_fs_exists(base) ? sl_fs_list(&scratch, base, &names, &n) : SLUICE_OK;
    for (size_t i = 0; rc == SLUICE_OK && i < n; i++)
        if (list_one(base, names[i], list) > 0)
            rc = SLUICE_ERR_NOMEM;
    if (rc == SLUICE_OK) {
        *json_out = sl_json_dumps(o, 0);
        if (!*json_out)
            rc = SLUICE_ERR_NOMEM;
    }
done:
    sl_fs_list_free(names, n);
    sl_json_free(o);
    sl_free(base);
    return rc;
}

sluice_status sl_pipeline_drop(struct sluice_pipeline *p, const char *const *resources)
{
    if (!resources || !resources[0])
        return sl_fail(&p->ctx, SLUICE_ERR_INVALID_ARG, "drop needs at least one resource");
    struct sl_json *st = NULL;
    char load_id[40];
    sluice_status rc = lock_workdir(p);
    if (rc == SLUICE_OK)
        rc = open_dest(p, 0);
    if (rc == SLUICE_OK)
        rc = load_state(p, 1);
    if (rc == SLUICE_OK)
        rc = load_schema(p);
    if (rc != SLUICE_OK)
        goto done;
    /* refuse while packages are pending: they would re-create what we drop */
    char *pend = NULL;
    rc = sl_pipeline_pending(p, &pend);
    if (rc == SLUICE_OK && pend && strcmp(pend, "[]") != 0)
        rc = sl_fail(&p->ctx, SLUICE_ERR_STATE,
                     "pipeline '%s' has pending load packages: run it (or check `sluice pipeline "
                     "%s pending`) before dropping",
                     p->cfg->pipeline_name, p->cfg->pipeline_name);
    sl_free(pend);
    if (rc != SLUICE_OK)
        goto done;
    for (size_t i = 0; resources[i]; i++) {
        int found = 0;
        for (size_t j = 0; j < p->schema->ntables; j++)
            if (p->schema->tables[j]->resource &&
                strcmp(p->schema->tables[j]->resource, resources[i]) == 0)
                found = 1;
        if (!found) {
            rc = sl_fail(&p->ctx, SLUICE_ERR_NOT_FOUND,
                         "resource '%s' has no tables in pipeline '%s' (see `sluice pipeline %s "
                         "info`)",
                         resources[i], p->cfg->pipeline_name, p->cfg->pipeline_name);
            goto done;
        }
    }
    /* the new state: the dropped resources' state removed, wherever their source is */
    st = sl_json_dup(p->state);
    if (!st) {
        rc = sl_nomem(&p->ctx);
        goto done;
    }
    struct sl_json *sources = sl_json_get_mut(st, "sources");
    for (uint32_t s = 0; sources && sources->type == SL_JSON_OBJECT && s < sources->len; s++) {
        struct sl_json *res = sl_json_get_mut(&sources->u.members[s].val, "resources");
        for (size_t i = 0; res && resources[i]; i++)
            sl_json_obj_del(res, resources[i]);
    }
    bool changed = false;
    rc = sl_state_bump(&p->ctx, st, &changed);
    if (rc == SLUICE_OK)
        rc = next_load_id(p, load_id, sizeof(load_id));
    if (rc != SLUICE_OK)
        goto done;
    rc = p->dm->xBegin(p->dest);
    if (rc != SLUICE_OK)
        goto done;
    /* children first (they come after their parents in the schema) */
    for (size_t j = p->schema->ntables; rc == SLUICE_OK && j-- > 0;) {
        struct sl_table *t = p->schema->tables[j];
        for (size_t i = 0; resources[i]; i++) {
            if (t->resource && strcmp(t->resource, resources[i]) == 0) {
                sl_log(&p->ctx, SLUICE_LOG_INFO, "dropping table %s", t->name);
                rc = p->dm->xDropTable(p->dest, t->name);
                if (rc == SLUICE_OK)
                    sl_schema_remove(p->schema, t->name);
                break;
            }
        }
    }
    if (rc == SLUICE_OK) {
        sl_schema_bump(p->schema);
        struct sl_json *sj = sl_schema_to_json(p->schema);
        char *text = sj ? sl_json_dumps(sj, 0) : NULL;
        /* the schema history restarts with the schema without the dropped tables (as dlt) */
        rc = text ? p->dm->xDeleteSchemaVersions(p->dest, p->schema->name) : sl_nomem(&p->ctx);
        if (rc == SLUICE_OK)
            rc = p->dm->xSaveSchema(p->dest, p->schema->name, p->schema->version,
                                    p->schema->version_hash, text);
        sl_free(text);
        sl_json_free(sj);
    }
    /* the state is written even when unchanged (dlt forces it with drop), so the destination's
     * newest state goes with the load that dropped the tables */
    (void)changed;
    if (rc == SLUICE_OK) {
        char *encoded = NULL;
        rc = sl_state_encode(&p->ctx, st, &encoded);
        if (rc == SLUICE_OK) {
            const struct sl_json *ver = sl_json_get(st, "_state_version");
            char created[40], dlt_id[15];
            sl_run_utc_iso(p, created, sizeof(created));
            sl_rng_row_id(&p->rng, dlt_id);
            struct sl_state_row row = { ver && ver->type == SL_JSON_INT ? ver->u.i : 0, 4,
                                        p->cfg->pipeline_name, encoded, created,
                                        sl_json_str(sl_json_get(st, "_version_hash")),
                                        load_id, dlt_id };
            rc = p->dm->xSaveState(p->dest, &row);
        }
        sl_free(encoded);
    }
    if (rc == SLUICE_OK)
        rc = p->dm->xInsertLoad(p->dest, load_id, p->schema->name,
                                p->schema->version_hash ? p->schema->version_hash : "");
    if (rc == SLUICE_OK)
        rc = p->dm->xCommit(p->dest);
    if (rc != SLUICE_OK) {
        p->dm->xRollback(p->dest);
        sl_schema_free(&p->schema); /* re-read on next use */
        goto done;
    }
    rc = adopt_state(p, st);
    st = NULL;
    if (rc == SLUICE_OK)
        rc = save_local_state(p);
    if (rc == SLUICE_OK)
        rc = save_local_schema(p);
done:
    sl_json_free(st);
    unlock(p);
    return rc;
}
