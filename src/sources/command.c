/*
 * source_command.c — the command source: items streamed from a program's standard output.
 *
 * The command runs as `/bin/sh -c <command>` in base_dir, with stdin from /dev/null, the
 * parent's environment plus the caller's extra variables (SLUICE_STATE_FILE and the
 * SLUICE_*_VALUE cursor values; an extra variable replaces an inherited one of the same
 * name), SIGPIPE/SIGXFSZ back at their defaults and an empty signal mask (as Python's
 * subprocess does), and no inherited file descriptor beyond 0-2. The child leads its own
 * process group so that stopping it also stops whatever the shell started (pipelines).
 * A failing chdir or exec is reported back through a close-on-exec pipe, so it becomes a
 * SOURCE error rather than an exit status 127 nobody can explain.
 *
 * Stdout and stderr are drained together with poll(2), so a chatty stderr can never block
 * the child. Stdout is fed in 64 KiB reads to the streaming parser as it arrives: in JSON
 * mode (SL_JSON_UNWRAP_ARRAY) an object is an item and an array a page whose elements are
 * items; with format "singer" every value is a Singer message (RECORD → item with the stream
 * as table, SCHEMA → on_schema, STATE → on_state, ACTIVATE_VERSION ignored). Stderr is handed
 * to the sink line by line as it arrives (the pipeline shows it and keeps it in the run's log
 * file), and its last 4 KiB are kept in a ring: the last non-empty line goes into the error
 * when the command fails, with the log file's name. When no output comes for
 * SL_SOURCE_WAIT_MS the sink's on_wait is called (progress of a burst followed by a wait).
 * The command text itself never appears in errors (it may hold interpolated secrets).
 *
 * Exit paths: at end of output the child is reaped first, so a non-zero exit status (or a
 * signal) is the reported cause even when the output was cut mid-value; only after a clean
 * exit is the parser finished. On any error while streaming (malformed output, a rejected
 * item, a read failure) both pipes are closed, the process group gets SIGTERM, then SIGKILL
 * after a short grace, and the child is reaped: no zombie and no descriptor outlives the call.
 * All our descriptors are close-on-exec (pipe2), and every blocking call retries on EINTR.
 *
 * Interrupts and the timeout: a command may stay quiet for minutes (waiting on an API, a
 * queue), so the poll wakes every WATCH_TICK_MS to look at the pipeline's interrupt flag and
 * at the resource's deadline (`from: {command: ..., timeout: N}`), also while waiting for the
 * exit after the output ended. Either one stops the process group as above; a second
 * interrupt cuts the grace period short. The library installs no signal handler: the flag is
 * set by sluice_pipeline_interrupt(), from the program's handler.
 */
#define _GNU_SOURCE /* pipe2, close_range, environ */

#include "sources/source.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"

#define CHUNK_SIZE (64 * 1024)
#define STDERR_KEEP 4096          /* bytes of stderr kept for the error message */
#define STDERR_LINE_MAX 512       /* bytes of the last stderr line quoted in the message */
#define KILL_GRACE_MS 1000        /* SIGTERM → SIGKILL */
#define KILL_POLL_MS 5
#define WATCH_TICK_MS 100         /* a quiet command: how often interrupt and timeout are seen */

/* What can stop a command that is still running: an interrupt (sluice_pipeline_interrupt)
 * and the resource's timeout. */
struct watch {
    const _Atomic int *interrupt; /* or NULL */
    double deadline;              /* sl_clock_mono() seconds, 0 when there is no timeout */
};

enum { WATCH_GO = 0, WATCH_INTERRUPTED, WATCH_TIMED_OUT };

static int watch_check(const struct watch *w)
{
    if (w->interrupt && atomic_load_explicit(w->interrupt, memory_order_relaxed) > 0)
        return WATCH_INTERRUPTED;
    if (w->deadline > 0 && sl_clock_mono() >= w->deadline)
        return WATCH_TIMED_OUT;
    return WATCH_GO;
}

/* The poll(2) timeout in ms until the watch must be looked at again (-1: never). */
static int watch_ms(const struct watch *w)
{
    if (!w->interrupt && w->deadline <= 0)
        return -1;
    int ms = WATCH_TICK_MS;
    if (w->deadline > 0) {
        double left = (w->deadline - sl_clock_mono()) * 1000.0;
        if (left < ms)
            ms = left <= 0 ? 0 : (int)left + 1;
    }
    return ms;
}

/* ============================================================================================
 * Stderr ring
 * ========================================================================================== */

struct ring {
    char data[STDERR_KEEP];
    size_t total; /* bytes ever appended; the next one goes to data[total % STDERR_KEEP] */
};

static void ring_append(struct ring *r, const char *s, size_t n)
{
    if (n > STDERR_KEEP) {
        r->total += n - STDERR_KEEP;
        s += n - STDERR_KEEP;
        n = STDERR_KEEP;
    }
    size_t at = r->total % STDERR_KEEP;
    size_t first = STDERR_KEEP - at < n ? STDERR_KEEP - at : n;
    memcpy(r->data + at, s, first);
    memcpy(r->data, s + first, n - first);
    r->total += n;
}

/* The last non-empty line of what was kept, control characters as spaces, at most
 * STDERR_LINE_MAX bytes; "" when there is none. out: STDERR_LINE_MAX + 1 bytes. */
static void ring_last_line(const struct ring *r, char *out)
{
    char lin[STDERR_KEEP];
    size_t n = r->total < STDERR_KEEP ? r->total : STDERR_KEEP;
    size_t start = r->total < STDERR_KEEP ? 0 : r->total % STDERR_KEEP;
    for (size_t i = 0; i < n; i++)
        lin[i] = r->data[(start + i) % STDERR_KEEP];
    while (n > 0 && (unsigned char)lin[n - 1] <= ' ')
        n--;
    size_t b = n;
    while (b > 0 && lin[b - 1] != '\n')
        b--;
    while (b < n && (unsigned char)lin[b] <= ' ')
        b++;
    size_t len = n - b;
    if (len > STDERR_LINE_MAX)
        len = STDERR_LINE_MAX;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)lin[b + i];
        out[i] = c < ' ' || c == 0x7f ? ' ' : (char)c;
    }
    out[len] = '\0';
}

/* ============================================================================================
 * Items and Singer messages
 * ========================================================================================== */

struct cmd_run {
    struct sl_ctx *ctx;
    const struct sl_resource_cfg *res;
    const struct sl_source_sink *sink;
    struct sl_json_parser *parser; /* for page numbers */
    int singer;
    int64_t items; /* items handed to the sink so far */
    char *line;    /* the stderr line being assembled (SL_SOURCE_LINE_MAX + 1 bytes) */
    size_t line_len;
};

/* Hand the assembled stderr line to the sink (a trailing CR dropped) and start a new one. */
static void stderr_line_flush(struct cmd_run *r)
{
    if (r->line_len > 0 && r->line[r->line_len - 1] == '\r')
        r->line_len--;
    r->line[r->line_len] = '\0';
    r->line_len = 0;
    if (r->sink->on_stderr)
        r->sink->on_stderr(r->sink->ud, r->line);
}

/* Split stderr bytes into lines for the sink; a line longer than the cap comes in pieces. */
static void stderr_feed(struct cmd_run *r, const char *s, size_t n)
{
    if (!r->sink->on_stderr)
        return;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') {
            stderr_line_flush(r);
            continue;
        }
        if (r->line_len == SL_SOURCE_LINE_MAX)
            stderr_line_flush(r);
        r->line[r->line_len++] = s[i];
    }
}

/* A sink callback failed with rc: make sure an error is recorded and located. */
static sluice_status sink_failed(struct cmd_run *r, sluice_status rc, int64_t item_no,
                                 int64_t line, const char *what)
{
    sl_fail(r->ctx, rc, "%s at line %lld of the command's output was rejected", what,
            (long long)line);
    sl_fail_locate(r->ctx, r->res->name, item_no, NULL);
    return rc;
}

static sluice_status emit_item(struct cmd_run *r, const struct sl_json *v, int64_t line,
                               const char *table)
{
    int64_t item_no = r->items + 1;
    r->items = item_no;
    sluice_status rc = r->sink->on_item(r->sink->ud, v, item_no, line,
                                        r->parser ? sl_json_parser_page(r->parser) : item_no,
                                        table);
    if (rc != SLUICE_OK)
        return sink_failed(r, rc, item_no, line, "an item");
    return SLUICE_OK;
}

static sluice_status singer_fail(struct cmd_run *r, int64_t item_no, int64_t line,
                                 const char *what, const char *type)
{
    return sl_fail_at(r->ctx, SLUICE_ERR_DATA_JSON, r->res->name, item_no, NULL,
                      "Singer %s message at line %lld of the command's output %s", type,
                      (long long)line, what);
}

static sluice_status on_singer(struct cmd_run *r, const struct sl_json *msg, int64_t line)
{
    if (msg->type != SL_JSON_OBJECT)
        return sl_fail_at(r->ctx, SLUICE_ERR_DATA_JSON, r->res->name, -1, NULL,
                          "line %lld of the command's output is %s, expected a Singer message",
                          (long long)line, sl_json_kind_phrase(msg));
    const char *type = sl_json_str(sl_json_get(msg, "type"));
    if (!type)
        return sl_fail_at(r->ctx, SLUICE_ERR_DATA_JSON, r->res->name, -1, NULL,
                          "Singer message at line %lld of the command's output has no "
                          "\"type\" string",
                          (long long)line);
    const char *stream = sl_json_str(sl_json_get(msg, "stream"));
    if (strcmp(type, "RECORD") == 0) {
        const struct sl_json *record = sl_json_get(msg, "record");
        if (!stream)
            return singer_fail(r, r->items + 1, line, "has no \"stream\" string", type);
        if (!record || record->type != SL_JSON_OBJECT)
            return singer_fail(r, r->items + 1, line, "has no \"record\" object", type);
        return emit_item(r, record, line, stream);
    }
    if (strcmp(type, "SCHEMA") == 0) {
        const struct sl_json *schema = sl_json_get(msg, "schema");
        if (!stream)
            return singer_fail(r, -1, line, "has no \"stream\" string", type);
        if (!schema || schema->type != SL_JSON_OBJECT)
            return singer_fail(r, -1, line, "has no \"schema\" object", type);
        if (!r->sink->on_schema)
            return SLUICE_OK;
        sluice_status rc = r->sink->on_schema(r->sink->ud, stream, msg);
        if (rc != SLUICE_OK)
            return sink_failed(r, rc, -1, line, "a Singer SCHEMA message");
        return SLUICE_OK;
    }
    if (strcmp(type, "STATE") == 0) {
        const struct sl_json *value = sl_json_get(msg, "value");
        if (!value)
            return singer_fail(r, -1, line, "has no \"value\"", type);
        if (!r->sink->on_state)
            return SLUICE_OK;
        sluice_status rc = r->sink->on_state(r->sink->ud, value);
        if (rc != SLUICE_OK)
            return sink_failed(r, rc, -1, line, "a Singer STATE message");
        return SLUICE_OK;
    }
    if (strcmp(type, "ACTIVATE_VERSION") == 0)
        return SLUICE_OK;
    return sl_fail_at(r->ctx, SLUICE_ERR_DATA_JSON, r->res->name, -1, NULL,
                      "unknown Singer message type '%.64s' at line %lld of the command's output",
                      type, (long long)line);
}

static sluice_status on_value(void *ud, struct sl_json *v, int64_t index, int64_t line)
{
    struct cmd_run *r = ud;
    (void)index;
    if (r->singer)
        return on_singer(r, v, line);
    if (v->type != SL_JSON_OBJECT)
        return sl_fail_at(r->ctx, SLUICE_ERR_DATA_JSON, r->res->name, r->items + 1, NULL,
                          "item %lld at line %lld of the command's output is %s, expected an "
                          "object",
                          (long long)(r->items + 1), (long long)line, sl_json_kind_phrase(v));
    return emit_item(r, v, line, NULL);
}

/* A parser call failed with rc: the parser's error (in pctx) worded to name the command's
 * output, unless the caller's context (ours or the sink's) holds one. */
static sluice_status parser_failed(struct cmd_run *r, const struct sl_ctx *pctx,
                                   sluice_status rc)
{
    if (sl_json_parser_error(r->ctx, pctx, rc, "the command's output", "command output"))
        sl_fail_locate(r->ctx, r->res->name, r->singer ? -1 : r->items + 1, NULL);
    return r->ctx->code;
}

/* ============================================================================================
 * Child process
 * ========================================================================================== */

struct child {
    pid_t pid;  /* -1 when there is none (or it was reaped) */
    int out_fd; /* read end of its stdout, or -1 */
    int err_fd; /* read end of its stderr, or -1 */
};

/* What a child that could not exec writes to the report pipe before _exit(127). */
struct exec_report {
    int stage; /* 1 chdir, 2 exec, 3 stdio setup */
    int err;   /* errno */
};

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* Move *fd above 0-2 (keeping close-on-exec), so that the child's dup2 onto 0-2 can never
 * clobber one of its own sources. 0 ok, -1 with errno. */
static int fd_above_stdio(int *fd)
{
    if (*fd > 2)
        return 0;
    int n = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
    if (n < 0)
        return -1;
    close(*fd);
    *fd = n;
    return 0;
}

static int same_name(const char *a, const char *b)
{
    while (*a && *a != '=' && *a == *b) {
        a++;
        b++;
    }
    return *a == '=' && *b == '=';
}

/* The child's environment: the extra strings first, then every inherited variable that none
 * of them replaces. The array is sl_malloc'd; the strings are borrowed except *owned. */
static sluice_status build_envp(struct sl_ctx *ctx, const struct cmd_run *r,
                                const struct sl_source_env *env, char ***out, char **owned)
{
    sluice_status rc = SLUICE_OK;
    size_t n_inherit = 0;
    size_t n_extra = 0;
    size_t n = 0;
    char **envp = NULL;

    *out = NULL;
    *owned = NULL;
    for (char **e = environ; e && *e; e++)
        n_inherit++;
    if (env && env->env)
        for (const char *const *e = env->env; *e; e++) {
            if (!strchr(*e, '='))
                return sl_fail_at(ctx, SLUICE_ERR_INVALID_ARG, r->res->name, -1, NULL,
                                  "environment entry '%.64s' has no '='", *e);
            n_extra++;
        }
    envp = sl_calloc(n_inherit + n_extra + 2, sizeof(*envp));
    if (!envp) {
        rc = sl_nomem(ctx);
        goto fail;
    }
    if (env && env->state_file) {
        *owned = sl_aprintf("SLUICE_STATE_FILE=%s", env->state_file);
        if (!*owned) {
            rc = sl_nomem(ctx);
            goto fail;
        }
        envp[n++] = *owned;
    }
    if (env && env->env)
        for (const char *const *e = env->env; *e; e++)
            envp[n++] = (char *)*e;
    size_t n_first = n;
    for (char **e = environ; e && *e; e++) {
        int replaced = 0;
        for (size_t i = 0; i < n_first && !replaced; i++)
            replaced = same_name(*e, envp[i]);
        if (!replaced)
            envp[n++] = *e;
    }
    envp[n] = NULL;
    *out = envp;
    return SLUICE_OK;

fail:
    sl_free(envp);
    sl_free(*owned);
    *owned = NULL;
    return rc;
}

/* In the child, between fork and exec: async-signal-safe calls only. Never returns. */
static _Noreturn void child_exec(const char *dir, int in_fd, int out_fd, int err_fd,
                                 int report_fd, long max_fd, char *const argv[],
                                 char *const envp[])
{
    struct exec_report rep = {3, 0};
    struct sigaction sa;
    sigset_t none;

    setpgid(0, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
    sigaction(SIGXFSZ, &sa, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
        goto report;
    if (dir && dir[0] && chdir(dir) != 0) {
        rep.stage = 1;
        goto report;
    }
    /* Close every other descriptor the embedding program left inheritable. */
    if (report_fd > 3 && close_range(3, (unsigned)report_fd - 1, 0) != 0)
        for (int fd = 3; fd < report_fd; fd++)
            close(fd);
    if (close_range((unsigned)report_fd + 1, ~0U, 0) != 0)
        for (long fd = report_fd + 1; fd < max_fd; fd++)
            close((int)fd);
    execve("/bin/sh", argv, envp);
    rep.stage = 2;

report:
    rep.err = errno;
    while (write(report_fd, &rep, sizeof(rep)) < 0 && errno == EINTR)
        ;
    _exit(127);
}

static sluice_status reap(struct child *c, int *status)
{
    *status = 0;
    while (c->pid > 0) {
        pid_t w = waitpid(c->pid, status, 0);
        if (w == c->pid)
            break;
        if (w < 0 && errno != EINTR) {
            c->pid = -1;
            return SLUICE_ERR_SOURCE;
        }
    }
    c->pid = -1;
    return SLUICE_OK;
}

/* Stop the child after an error, an interrupt or its timeout: close our pipe ends (a writer
 * then gets SIGPIPE), SIGTERM its process group, SIGKILL the group after the grace period (at
 * once when a second interrupt comes meanwhile), reap. The exit status is ignored. */
static void child_stop(struct child *c, const struct watch *w)
{
    int status;
    close_fd(&c->out_fd);
    close_fd(&c->err_fd);
    if (c->pid <= 0)
        return;
    kill(-c->pid, SIGTERM);
    for (int waited = 0; waited < KILL_GRACE_MS; waited += KILL_POLL_MS) {
        siginfo_t info;
        memset(&info, 0, sizeof(info));
        /* WNOWAIT: the zombie keeps its pid, so the group id stays ours for the SIGKILL. */
        if (waitid(P_PID, (id_t)c->pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            info.si_pid == c->pid)
            break;
        /* a second interrupt (Ctrl-C pressed again) wants it gone now */
        if (w && w->interrupt && atomic_load_explicit(w->interrupt, memory_order_relaxed) >= 2)
            break; /* asked again: no more grace */
        struct timespec ts = {0, KILL_POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    kill(-c->pid, SIGKILL);
    reap(c, &status);
}

/* Wait for the child's exit after its output ended, watching w. 0 with *status, a WATCH_
 * reason (the child still runs), or -1 (errno). */
static int wait_exit(struct child *c, int *status, const struct watch *w)
{
    long nap_us = 200;
    for (;;) {
        pid_t got = waitpid(c->pid, status, WNOHANG);
        if (got == c->pid) {
            c->pid = -1;
            return 0;
        }
        if (got < 0 && errno != EINTR)
            return -1;
        int why = watch_check(w);
        if (why != WATCH_GO)
            return why;
        struct timespec ts = {0, nap_us * 1000L};
        nanosleep(&ts, NULL);
        if (nap_us < 50000)
            nap_us *= 2;
    }
}

/* The command was stopped: by an interrupt (INTERRUPTED; the pipeline words the message
 * for its stage) or by its timeout (a SOURCE error naming the resource and the timeout). */
static sluice_status watch_stopped(struct sl_ctx *ctx, const struct sl_resource_cfg *res,
                                   int why)
{
    sluice_status rc;
    if (why == WATCH_INTERRUPTED) {
        rc = sl_fail_at(ctx, SLUICE_ERR_INTERRUPTED, res->name, -1, NULL,
                        "interrupted: the command was stopped");
        sl_fail_origin(ctx, "interrupt", NULL);
        return rc;
    }
    rc = sl_fail_at(ctx, SLUICE_ERR_SOURCE, res->name, -1, NULL,
                    "the command did not finish within its timeout of %g s (from.timeout) and "
                    "was stopped",
                    res->timeout);
    sl_fail_origin(ctx, "command", "timeout");
    return rc;
}

static sluice_status spawn_fail(struct sl_ctx *ctx, const struct cmd_run *r, const char *what,
                                int err)
{
    sluice_status rc = sl_fail_at(ctx, SLUICE_ERR_SOURCE, r->res->name, -1, NULL,
                                  "cannot start the command: %s: %s", what, strerror(err));
    sl_fail_origin(ctx, "command", NULL);
    return rc;
}

static sluice_status spawn(struct sl_ctx *ctx, const struct cmd_run *r, const char *base_dir,
                           const struct sl_source_env *env, struct child *c)
{
    sluice_status rc = SLUICE_OK;
    int out_p[2] = {-1, -1};
    int err_p[2] = {-1, -1};
    int rep_p[2] = {-1, -1};
    int null_fd = -1;
    char **envp = NULL;
    char *owned = NULL;
    char sh_name[] = "sh";
    char dash_c[] = "-c";
    char *argv[4];
    long max_fd;

    c->pid = -1;
    c->out_fd = -1;
    c->err_fd = -1;
    rc = build_envp(ctx, r, env, &envp, &owned);
    if (rc != SLUICE_OK)
        goto done;
    argv[0] = sh_name;
    argv[1] = dash_c;
    argv[2] = r->res->command;
    argv[3] = NULL;
    max_fd = sysconf(_SC_OPEN_MAX);
    if (max_fd < 0 || max_fd > 65536)
        max_fd = 65536;

    if (pipe2(out_p, O_CLOEXEC) != 0 || pipe2(err_p, O_CLOEXEC) != 0 ||
        pipe2(rep_p, O_CLOEXEC) != 0) {
        rc = spawn_fail(ctx, r, "pipe", errno);
        goto done;
    }
    null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0) {
        rc = spawn_fail(ctx, r, "/dev/null", errno);
        goto done;
    }
    if (fd_above_stdio(&out_p[1]) || fd_above_stdio(&err_p[1]) || fd_above_stdio(&null_fd) ||
        fd_above_stdio(&rep_p[1])) {
        rc = spawn_fail(ctx, r, "fcntl", errno);
        goto done;
    }
    pid_t pid = fork();
    if (pid < 0) {
        rc = spawn_fail(ctx, r, "fork", errno);
        goto done;
    }
    if (pid == 0)
        child_exec(base_dir, null_fd, out_p[1], err_p[1], rep_p[1], max_fd, argv, envp);

    /* Parent. Also set the group here so a kill can never race the child's own setpgid. */
    c->pid = pid;
    setpgid(pid, pid);
    close_fd(&out_p[1]);
    close_fd(&err_p[1]);
    close_fd(&rep_p[1]);
    close_fd(&null_fd);
    c->out_fd = out_p[0];
    c->err_fd = err_p[0];
    out_p[0] = -1;
    err_p[0] = -1;

    struct exec_report rep;
    size_t got = 0;
    while (got < sizeof(rep)) {
        ssize_t n = read(rep_p[0], (char *)&rep + got, sizeof(rep) - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got == sizeof(rep)) {
        int status;
        close_fd(&c->out_fd);
        close_fd(&c->err_fd);
        reap(c, &status);
        if (rep.stage == 1) {
            rc = sl_fail_at(ctx, SLUICE_ERR_SOURCE, r->res->name, -1, NULL,
                            "cannot start the command: cannot enter folder '%s': %s", base_dir,
                            strerror(rep.err));
            sl_fail_origin(ctx, "command", NULL);
        } else {
            rc = spawn_fail(ctx, r, rep.stage == 2 ? "/bin/sh" : "stdio", rep.err);
        }
    }

done:
    close_fd(&out_p[0]);
    close_fd(&out_p[1]);
    close_fd(&err_p[0]);
    close_fd(&err_p[1]);
    close_fd(&rep_p[0]);
    close_fd(&rep_p[1]);
    close_fd(&null_fd);
    sl_free(envp);
    sl_free(owned);
    return rc;
}

/* ============================================================================================
 * Entry point
 * ========================================================================================== */

/* Record how the command ended when that was a failure; SLUICE_OK for exit status 0. */
static sluice_status exit_status_error(struct sl_ctx *ctx, const struct cmd_run *r, int status,
                                       const struct ring *errbuf, const char *log)
{
    char line[STDERR_LINE_MAX + 1];
    char detail[32];
    const char *sep;
    sluice_status rc;

    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return SLUICE_OK;
    ring_last_line(errbuf, line);
    sep = line[0] ? ": " : "";
    /* the last line is often not the cause (a traceback's): point at all of it */
    int name_log = log && log[0] && line[0];
    const char *log_open = name_log ? " (full stderr in " : "";
    const char *log_close = name_log ? ")" : "";
    if (!name_log)
        log = "";
    if (WIFSIGNALED(status)) {
        rc = sl_fail_at(ctx, SLUICE_ERR_SOURCE, r->res->name, -1, NULL,
                        "command killed by signal %d%s%s%s%s%s", WTERMSIG(status), sep, line,
                        log_open, log, log_close);
        snprintf(detail, sizeof(detail), "signal %d", WTERMSIG(status));
    } else {
        rc = sl_fail_at(ctx, SLUICE_ERR_SOURCE, r->res->name, -1, NULL,
                        "command exited with status %d%s%s%s%s%s", WEXITSTATUS(status), sep,
                        line, log_open, log, log_close);
        snprintf(detail, sizeof(detail), "%d", WEXITSTATUS(status));
    }
    sl_fail_origin(ctx, "command", detail);
    return rc;
}

sluice_status sl_source_command_run(struct sl_ctx *ctx, const struct sl_resource_cfg *res,
                                    const char *base_dir, const struct sl_source_env *env,
                                    const struct sl_source_sink *sink)
{
    sluice_status rc = SLUICE_OK;
    struct cmd_run run;
    struct child child = {-1, -1, -1};
    struct sl_ctx pctx;
    struct sl_json_parser *p = NULL;
    struct ring *errbuf = NULL;
    char *buf = NULL;
    int status = 0;
    struct watch w = { env ? env->interrupt : NULL, 0 };

    if (!res->command || !res->command[0])
        return sl_fail_at(ctx, SLUICE_ERR_CONFIG, res->name, -1, NULL,
                          "resource has no command");
    memset(&run, 0, sizeof(run));
    run.ctx = ctx;
    run.res = res;
    run.sink = sink;
    if (res->format && strcmp(res->format, "singer") == 0)
        run.singer = 1;
    else if (res->format && strcmp(res->format, "jsonl") != 0)
        return sl_fail_at(ctx, SLUICE_ERR_CONFIG, res->name, -1, NULL,
                          "unknown format '%s' for a command (use jsonl or singer)",
                          res->format);

    sl_ctx_init(&pctx);
    buf = sl_malloc(CHUNK_SIZE);
    errbuf = sl_calloc(1, sizeof(*errbuf));
    run.line = sl_malloc(SL_SOURCE_LINE_MAX + 1);
    if (!buf || !errbuf || !run.line) {
        rc = sl_nomem(ctx);
        goto done;
    }
    rc = sl_json_parser_new(&p, &pctx, run.singer ? SL_JSON_VALUES : SL_JSON_UNWRAP_ARRAY, NULL,
                            on_value, &run);
    if (rc != SLUICE_OK) {
        rc = parser_failed(&run, &pctx, rc);
        goto done;
    }
    run.parser = p;
    if (res->timeout > 0)
        w.deadline = sl_clock_mono() + res->timeout;
    rc = spawn(ctx, &run, base_dir, env, &child);
    if (rc != SLUICE_OK)
        goto done;

    while (child.out_fd >= 0 || child.err_fd >= 0) {
        struct pollfd pfd[2];
        int *fds[2];
        nfds_t nfds = 0;
        if (child.out_fd >= 0) {
            pfd[nfds].fd = child.out_fd;
            pfd[nfds].events = POLLIN;
            fds[nfds++] = &child.out_fd;
        }
        if (child.err_fd >= 0) {
            pfd[nfds].fd = child.err_fd;
            pfd[nfds].events = POLLIN;
            fds[nfds++] = &child.err_fd;
        }
        int wait_ms = watch_ms(&w);
        if (sink->on_wait && (wait_ms < 0 || wait_ms > SL_SOURCE_WAIT_MS))
            wait_ms = SL_SOURCE_WAIT_MS; /* a report of what a burst left unreported */
        int ready = poll(pfd, nfds, wait_ms);
        int why = watch_check(&w);
        if (why != WATCH_GO) {
            rc = watch_stopped(ctx, res, why);
            goto done;
        }
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            rc = sl_fail_at(ctx, SLUICE_ERR_SOURCE, res->name, -1, NULL,
                            "waiting for the command's output failed: %s", strerror(errno));
            goto done;
        }
        if (ready == 0) {
            if (sink->on_wait)
                sink->on_wait(sink->ud);
            continue;
        }
        for (nfds_t i = 0; i < nfds; i++) {
            if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = read(pfd[i].fd, buf, CHUNK_SIZE);
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n < 0) {
                rc = sl_fail_at(ctx, SLUICE_ERR_SOURCE, res->name, -1, NULL,
                                "reading the command's output failed: %s", strerror(errno));
                goto done;
            }
            if (n == 0) {
                if (fds[i] == &child.err_fd && run.line_len > 0)
                    stderr_line_flush(&run); /* a last line without newline */
                close_fd(fds[i]);
                continue;
            }
            if (fds[i] == &child.err_fd) {
                ring_append(errbuf, buf, (size_t)n);
                stderr_feed(&run, buf, (size_t)n);
                continue;
            }
            rc = sl_json_parser_feed(p, buf, (size_t)n);
            if (rc != SLUICE_OK) {
                rc = parser_failed(&run, &pctx, rc);
                goto done;
            }
        }
    }

    /* End of output: the exit status is the first cause, then whatever was left unparsed.
     * A command may close its output and go on running: the watch still applies. */
    int waited = wait_exit(&child, &status, &w);
    if (waited > 0) {
        rc = watch_stopped(ctx, res, waited);
        goto done;
    }
    if (waited < 0) {
        rc = sl_fail_at(ctx, SLUICE_ERR_SOURCE, res->name, -1, NULL,
                        "cannot get the command's exit status: %s", strerror(errno));
        sl_fail_origin(ctx, "command", NULL);
        goto done;
    }
    rc = exit_status_error(ctx, &run, status, errbuf, env ? env->stderr_log : NULL);
    if (rc != SLUICE_OK)
        goto done;
    rc = sl_json_parser_finish(p);
    if (rc != SLUICE_OK)
        rc = parser_failed(&run, &pctx, rc);

done:
    child_stop(&child, &w); /* no-op once reaped and closed */
    sl_json_parser_free(&p);
    sl_free(errbuf);
    sl_free(buf);
    sl_free(run.line);
    return rc;
}
