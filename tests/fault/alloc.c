/*
 * alloc.c — allocation-failure loop over a whole in-process pipeline run (STYLE.md 6).
 *
 * One "run" is what an embedding program does: sluice_pipeline_open_config (a YAML config
 * with a file resource: append, incremental cursor, nested lists), sluice_add_resource (a C
 * generator: merge on a primary key with an in-page duplicate, a list of scalars and a list of
 * objects with a list; it reads and writes resource state and source state),
 * sluice_pipeline_run, sluice_pipeline_info_json, sluice_pipeline_pending_json, close.
 *
 * For N = 1, 2, ... the N-th allocation made through sl_malloc/sl_realloc fails (a counting
 * allocator installed with sl_alloc_set), in a fresh folder and working dir each time:
 *   - the run must end with an error status (SLUICE_ERR_NOMEM or another clean error with a
 *     message; never SLUICE_ERR_INTERNAL), or with SLUICE_OK when the failure was absorbed
 *     (then the tables must already be right);
 *   - after close every block allocated through sl_malloc is freed again (the allocator
 *     counts live blocks; ASan/LSan in the san build see the rest, yajl/libyaml/SQLite
 *     allocate on their own);
 *   - a second run in the same folder, without failures, must succeed and leave exactly the
 *     expected tables (whatever the failed run left behind: a pending package, a committed
 *     load with stale local state, a half-written working dir).
 * The loop ends at the first N past the number of allocations of a run (nothing failed).
 *
 * Usage: alloc [FIRST [LAST [STEP]]] (defaults 1, unbounded, 1); environment ALLOC_MAX and
 * ALLOC_STEP do the same, SLUICE_FAULT_QUICK=1 sets STEP to 7, ALLOC_VERBOSE=1 prints every N,
 * ALLOC_TRACE=1 prints the stack of each failed allocation (san build): `alloc 693 693`.
 * Prints "alloc: N allocation failures exercised, N clean errors, N absorbed, N failed".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "sluice.h"

/* ---- the counting allocator --------------------------------------------------------------- */

/* atomics: the normalizer runs on a second thread while extracting (pipe.c) */
static _Atomic long n_allocs; /* allocations (malloc and realloc) seen since reset */
static _Atomic long fail_at;  /* the allocation to fail (0: none) */
static _Atomic long n_failed; /* allocations failed since reset */
static _Atomic long live;     /* blocks allocated and not yet freed */
static int trace;      /* ALLOC_TRACE=1: print the stack of each failed allocation */

/* from the sanitizer runtime when there is one */
void __sanitizer_print_stack_trace(void) __attribute__((weak));

static void failing(void)
{
    n_failed++;
    if (trace && __sanitizer_print_stack_trace) {
        fprintf(stderr, "alloc: failing allocation #%ld here:\n", (long)fail_at);
        __sanitizer_print_stack_trace();
    }
}

static void *c_malloc(void *ctx, size_t size)
{
    (void)ctx;
    if (++n_allocs == fail_at) {
        failing();
        return NULL;
    }
    void *p = malloc(size);
    if (p)
        live++;
    return p;
}

static void *c_realloc(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    if (++n_allocs == fail_at) {
        failing();
        return NULL;
    }
    void *p = realloc(ptr, size);
    if (p && !ptr)
        live++;
    return p;
}

static void c_free(void *ctx, void *ptr)
{
    (void)ctx;
    if (ptr)
        live--;
    free(ptr);
}

static const struct sl_alloc counting = { c_malloc, c_realloc, c_free, NULL };

/* ---- the pipeline ---------------------------------------------------------------------------- */

static const char *const config_yaml =
    "pipeline: alloc_fault\n"
    "destination: {type: sqlite, path: out.db}\n"
    "dataset: ds\n"
    "sources:\n"
    "  src:\n"
    "    resources:\n"
    "      events:\n"
    "        from: {file: events.jsonl}\n"
    "        write_disposition: append\n"
    "        incremental: {cursor_path: ts, initial_value: 0}\n";

static const char *const events_jsonl =
    "{\"id\": 1, \"ts\": 10, \"kind\": \"open\", \"tags\": [\"a\", \"b\"]}\n"
    "{\"id\": 2, \"ts\": 20, \"kind\": \"close\", \"meta\": {\"by\": \"x\", \"n\": 1.5}}\n"
    "{\"id\": 3, \"ts\": 30, \"kind\": \"open\", \"tags\": []}\n";

static sluice_status users(sluice_yield *y, void *ctx)
{
    (void)ctx;
    static const char *const page =
        "[{\"id\": 1, \"name\": \"Ada\", \"pets\": [\"cat\"],"
        "  \"addr\": [{\"city\": \"Oslo\", \"lines\": [\"a1\", \"a2\"]}]},"
        " {\"id\": 2, \"name\": \"Bob\", \"pets\": [\"dog\", \"fish\"], \"addr\": []},"
        " {\"id\": 1, \"name\": \"Ada L.\", \"pets\": [\"owl\"],"
        "  \"addr\": [{\"city\": \"Rome\", \"lines\": [\"r1\"]}, {\"city\": \"Nice\"}]}]";
    char *st = NULL;
    sluice_status rc = sluice_yield_state_get(y, &st);
    sluice_free(st);
    if (rc == SLUICE_OK)
        rc = sluice_yield_json(y, page, strlen(page));
    /* resource and source state, committed with the data */
    if (rc == SLUICE_OK)
        rc = sluice_yield_state_set(y, "{\"pages\": 1, \"seen\": {\"ids\": [1, 2]}}");
    if (rc == SLUICE_OK)
        rc = sluice_yield_source_state_set(y, "{\"token\": \"t-1\", \"n\": [1]}");
    return rc;
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int bad = fputs(text, f) < 0;
    return fclose(f) != 0 || bad ? -1 : 0;
}

struct result {
    sluice_status open_rc, run_rc, info_rc, pending_rc;
    sluice_status code; /* the first error */
    char where[32];
    char message[512];
};

static void note(struct result *r, sluice_pipeline *p, sluice_status rc, const char *where)
{
    if (rc == SLUICE_OK || r->code != SLUICE_OK)
        return;
    r->code = rc;
    snprintf(r->where, sizeof(r->where), "%s", where);
    const char *msg = p ? sluice_errmsg(p) : "";
    snprintf(r->message, sizeof(r->message), "%s", msg ? msg : "");
}

/* One run of the pipeline, as an embedding program would do it. */
static void one_run(struct result *r)
{
    memset(r, 0, sizeof(*r));
    sluice_pipeline *p = NULL;
    sluice_status rc = sluice_pipeline_open_config(&p, "config.yaml");
    r->open_rc = rc;
    note(r, p, rc, "open");
    if (rc == SLUICE_OK)
        rc = sluice_add_resource(p, "src", "users", users, NULL);
    if (rc == SLUICE_OK)
        rc = sluice_resource_set(p, "users", "write_disposition", "\"merge\"");
    if (rc == SLUICE_OK)
        rc = sluice_resource_set(p, "users", "primary_key", "\"id\"");
    note(r, p, rc, "setup");
    if (rc == SLUICE_OK) {
        sluice_run_opts opts;
        memset(&opts, 0, sizeof(opts));
        opts.size = sizeof(opts);
        sluice_run_info info;
        rc = r->run_rc = sluice_pipeline_run(p, &opts, &info);
        note(r, p, rc, "run");
    }
    if (rc == SLUICE_OK) {
        char *json = NULL;
        rc = r->info_rc = sluice_pipeline_info_json(p, &json);
        note(r, p, rc, "info");
        sluice_free(json);
    }
    if (rc == SLUICE_OK) {
        char *json = NULL;
        rc = r->pending_rc = sluice_pipeline_pending_json(p, &json);
        note(r, p, rc, "pending");
        if (rc == SLUICE_OK && json && strcmp(json, "[]") != 0) {
            snprintf(r->message, sizeof(r->message), "pending after a successful run: %s", json);
            r->code = SLUICE_ERR_INTERNAL;
            snprintf(r->where, sizeof(r->where), "pending");
        }
        sluice_free(json);
    }
    sluice_pipeline_close(p);
}

/* ---- checking the tables ------------------------------------------------------------------ */

struct text {
    char buf[4096];
    size_t len;
};

static int collect(void *ctx, int ncols, const char *const *names, const char *const *values)
{
    struct text *t = ctx;
    (void)names;
    if (!values)
        return 0;
    for (int i = 0; i < ncols; i++) {
        int n = snprintf(t->buf + t->len, sizeof(t->buf) - t->len, "%s%s",
                         values[i] ? values[i] : "NULL", i + 1 < ncols ? "|" : "\n");
        if (n < 0 || (size_t)n >= sizeof(t->buf) - t->len)
            return 1;
        t->len += (size_t)n;
    }
    return 0;
}

static const char *const check_sql =
    "SELECT 'u', u.id, u.name, (SELECT group_concat(value, ',') FROM (SELECT value FROM "
    "users__pets p WHERE p._dlt_parent_id = u._dlt_id ORDER BY _dlt_list_idx)),"
    " (SELECT group_concat(city || ':' || coalesce((SELECT group_concat(value, '+') FROM "
    "users__addr__lines l WHERE l._dlt_parent_id = a._dlt_id), '-'), ',') FROM (SELECT * FROM "
    "users__addr a WHERE a._dlt_parent_id = u._dlt_id ORDER BY _dlt_list_idx) a)"
    " FROM users u"
    " UNION ALL SELECT 'e', e.id, e.kind || '/' || e.ts || '/' || coalesce(e.meta__by, '-'),"
    " (SELECT group_concat(value, ',') FROM (SELECT value FROM events__tags t WHERE "
    "t._dlt_parent_id = e._dlt_id ORDER BY _dlt_list_idx)), NULL FROM events e"
    " UNION ALL SELECT 'orphans', (SELECT count(*) FROM users__pets c WHERE c._dlt_parent_id NOT "
    "IN (SELECT _dlt_id FROM users)) + (SELECT count(*) FROM users__addr c WHERE "
    "c._dlt_parent_id NOT IN (SELECT _dlt_id FROM users)) + (SELECT count(*) FROM "
    "users__addr__lines c WHERE c._dlt_parent_id NOT IN (SELECT _dlt_id FROM users__addr)) + "
    "(SELECT count(*) FROM events__tags c WHERE c._dlt_parent_id NOT IN (SELECT _dlt_id FROM "
    "events)), NULL, NULL, NULL"
    " ORDER BY 1, 2";

static const char *const want_tables =
    "e|1|open/10/-|a,b|NULL\n"
    "e|2|close/20/x|NULL|NULL\n"
    "e|3|open/30/-|NULL|NULL\n"
    "orphans|0|NULL|NULL|NULL\n"
    "u|1|Ada L.|owl|Rome:r1,Nice:-\n"
    "u|2|Bob|dog,fish|NULL\n";

/* The tables as left in the current folder (libc allocation, nothing failing). */
static int check_tables(char *got, size_t gotsz)
{
    sluice_pipeline *p = NULL;
    struct text t;
    memset(&t, 0, sizeof(t));
    sluice_status rc = sluice_pipeline_open_existing(&p, "alloc_fault");
    if (rc == SLUICE_OK)
        rc = sluice_pipeline_query(p, check_sql, collect, &t);
    if (rc != SLUICE_OK)
        snprintf(got, gotsz, "query failed: %s", p ? sluice_errmsg(p) : "open failed");
    else
        snprintf(got, gotsz, "%s", t.buf);
    sluice_pipeline_close(p);
    return rc == SLUICE_OK && strcmp(t.buf, want_tables) == 0;
}

/* ---- the loop ----------------------------------------------------------------------------- */

/* Errors other than NOMEM for a failed allocation: kept (message with digits and paths folded)
 * and listed at the end, as they name the wrong cause. */
#define MAX_OTHER 64
static struct {
    sluice_status code;
    char msg[160];
    long count, first;
} other[MAX_OTHER];
static size_t n_other;

static void note_other(sluice_status code, const char *message, long n)
{
    char folded[160];
    size_t o = 0;
    for (const char *c = message; *c && o + 1 < sizeof(folded); c++) {
        if (*c == '\'') {
            /* a quoted path or name: keep only its last component */
            const char *end = strchr(c + 1, '\'');
            const char *slash = NULL;
            for (const char *q = c + 1; end && q < end; q++)
                if (*q == '/')
                    slash = q;
            if (end && slash) {
                o += (size_t)snprintf(folded + o, sizeof(folded) - o, "'.../%.*s'",
                                      (int)(end - slash - 1), slash + 1);
                if (o >= sizeof(folded))
                    o = sizeof(folded) - 1;
                c = end;
                continue;
            }
        }
        if (*c >= '0' && *c <= '9') {
            if (o == 0 || folded[o - 1] != '#')
                folded[o++] = '#';
            continue;
        }
        folded[o++] = *c;
    }
    folded[o] = '\0';
    for (size_t i = 0; i < n_other; i++) {
        if (other[i].code == code && strcmp(other[i].msg, folded) == 0) {
            other[i].count++;
            return;
        }
    }
    if (n_other < MAX_OTHER) {
        other[n_other].code = code;
        snprintf(other[n_other].msg, sizeof(other[n_other].msg), "%s", folded);
        other[n_other].count = 1;
        other[n_other].first = n;
        n_other++;
    }
}

static int rm_rf(const char *path)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
    return system(cmd);
}

/* A fresh folder: config, input file, and an empty pipelines dir. */
static int fresh_dir(const char *base)
{
    char path[1024];
    rm_rf(base);
    if (mkdir(base, 0755) != 0 || chdir(base) != 0)
        return -1;
    snprintf(path, sizeof(path), "%s/pipelines", base);
    if (mkdir(path, 0755) != 0 || setenv("SLUICE_PIPELINES_DIR", path, 1) != 0)
        return -1;
    return write_file("config.yaml", config_yaml) || write_file("events.jsonl", events_jsonl);
}

static long env_long(const char *name, long dflt)
{
    const char *v = getenv(name);
    return v && v[0] ? strtol(v, NULL, 10) : dflt;
}

int main(int argc, char **argv)
{
    long first = argc > 1 ? strtol(argv[1], NULL, 10) : 1;
    long last = argc > 2 ? strtol(argv[2], NULL, 10) : env_long("ALLOC_MAX", 0);
    long step = argc > 3 ? strtol(argv[3], NULL, 10)
                         : env_long("ALLOC_STEP", env_long("SLUICE_FAULT_QUICK", 0) == 1 ? 7 : 1);
    /* line-buffered: LeakSanitizer ends the process with _exit, which would drop a buffer */
    setvbuf(stdout, NULL, _IOLBF, 0);
    int verbose = env_long("ALLOC_VERBOSE", 0) != 0;
    trace = env_long("ALLOC_TRACE", 0) != 0;
    if (first < 1 || step < 1) {
        fprintf(stderr, "usage: alloc [FIRST [LAST [STEP]]]\n");
        return 2;
    }
    if (sluice_global_init() != SLUICE_OK)
        return 1;
    char base[512];
    const char *tmpdir = getenv("TMPDIR");
    snprintf(base, sizeof(base), "%s/sluice-alloc-%ld", tmpdir && tmpdir[0] ? tmpdir : "/tmp",
             (long)getpid());
    char top[512];
    if (!getcwd(top, sizeof(top)))
        return 2;

    /* reference: one run with nothing failing counts the allocations */
    struct result r;
    sl_alloc_set(&counting);
    n_allocs = n_failed = live = 0;
    fail_at = 0;
    if (fresh_dir(base) != 0) {
        fprintf(stderr, "alloc: cannot set up %s: %s\n", base, strerror(errno));
        return 2;
    }
    one_run(&r);
    long total = n_allocs;
    char got[4096];
    if (r.code != SLUICE_OK || live != 0 || !check_tables(got, sizeof(got))) {
        fprintf(stderr, "alloc: the run without failures is wrong (%s: %s; %ld blocks live):\n%s",
                sluice_status_name(r.code), r.message, (long)live, got);
        return 1;
    }
    printf("alloc: a run makes %ld allocations through sl_malloc; failing #%ld..%s%ld, step %ld\n",
           total, first, last ? "" : "#", last ? last : total + 1, step);

    long exercised = 0, clean = 0, absorbed = 0, bad = 0;
    long by_code[32] = { 0 };
    long n;
    for (n = first; !last || n <= last; n += step) {
        if (fresh_dir(base) != 0) {
            fprintf(stderr, "alloc: cannot set up %s\n", base);
            return 2;
        }
        n_allocs = n_failed = live = 0;
        fail_at = n;
        one_run(&r);
        fail_at = 0;
        long failed_allocs = n_failed;
        long leaked = live;
        if (failed_allocs == 0) {
            /* past the last allocation: the run was a normal one */
            if (r.code != SLUICE_OK || !check_tables(got, sizeof(got))) {
                printf("FAIL #%ld: nothing failed, yet %s: %s\n", n, sluice_status_name(r.code),
                       r.message);
                bad++;
            }
            break;
        }
        exercised++;
        const char *problem = NULL;
        char why[8192] = "";
        if (leaked != 0) {
            snprintf(why, sizeof(why), "%ld block(s) allocated by sluice not freed after close",
                     leaked);
            problem = why;
        } else if (r.code == SLUICE_ERR_INTERNAL) {
            snprintf(why, sizeof(why), "INTERNAL error at %s: %s", r.where, r.message);
            problem = why;
        } else if (r.code != SLUICE_OK && r.message[0] == '\0' && r.code != SLUICE_ERR_NOMEM) {
            snprintf(why, sizeof(why), "%s at %s without a message", sluice_status_name(r.code),
                     r.where);
            problem = why;
        }
        if (!problem && r.code == SLUICE_OK) {
            /* absorbed: the result must already be right */
            if (!check_tables(got, sizeof(got))) {
                snprintf(why, sizeof(why), "run succeeded despite the failed allocation, but the "
                                           "tables are wrong:\n%s",
                         got);
                problem = why;
            }
        }
        /* the next run, nothing failing, must finish the job */
        struct result r2;
        if (!problem) {
            n_allocs = live = 0;
            one_run(&r2);
            if (r2.code != SLUICE_OK) {
                snprintf(why, sizeof(why), "the run after it failed: %s at %s: %s",
                         sluice_status_name(r2.code), r2.where, r2.message);
                problem = why;
            } else if (live != 0) {
                snprintf(why, sizeof(why), "the run after it leaked %ld block(s)", (long)live);
                problem = why;
            } else if (!check_tables(got, sizeof(got))) {
                snprintf(why, sizeof(why), "the run after it left wrong tables:\n%s", got);
                problem = why;
            }
        }
        if (r.code == SLUICE_OK)
            absorbed++;
        else
            clean++;
        if (r.code != SLUICE_OK && r.code != SLUICE_ERR_NOMEM)
            note_other(r.code, r.message, n);
        by_code[(unsigned)r.code < 32 ? r.code : 31]++;
        if (problem) {
            bad++;
            printf("FAIL #%ld (%s at %s: %s): %s\n", n, sluice_status_name(r.code), r.where,
                   r.message, problem);
        } else if (verbose) {
            printf("ok #%ld: %s at %s: %s\n", n, sluice_status_name(r.code), r.where, r.message);
        }
    }
    sl_alloc_set(NULL);
    if (chdir(top) == 0)
        rm_rf(base);
    printf("alloc: status of the failing runs:");
    for (int c = 0; c < 32; c++)
        if (by_code[c])
            printf(" %s %ld", sluice_status_name((sluice_status)c), by_code[c]);
    printf("\n");
    if (n_other)
        printf("alloc: failed allocations reported as another error (first N, count, message):\n");
    for (size_t i = 0; i < n_other; i++)
        printf("  #%ld ×%ld %s: %s\n", other[i].first, other[i].count,
               sluice_status_name(other[i].code), other[i].msg);
    printf("alloc: %ld allocation failures exercised, %ld clean errors, %ld absorbed, %ld failed\n",
           exercised, clean, absorbed, bad);
    sluice_global_cleanup();
    return bad ? 1 : 0;
}
