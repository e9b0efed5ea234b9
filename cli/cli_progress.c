/*
 * cli_progress.c — what `sluice run` shows on stderr while it works: log lines and progress.
 *
 * The library never prints; it calls a log callback and a progress callback. This file
 * registers both with one shared context, because they share the terminal line: a log line
 * must first erase a live progress bar and redraw it afterwards.
 *
 * The library reports on a time basis (about ten times a second while items or rows flow) but
 * says nothing while a source waits for data. So the display is driven by a timer: the
 * callbacks only update a snapshot (stage, per-name counts, totals, the run clock at the last
 * report), and a timer thread redraws from it, with the clock advanced to now, several times a
 * second (bar) or writes a line every LOG_INTERVAL seconds (log). A slow source therefore shows
 * a moving clock and a falling rate instead of a frozen line. One mutex guards the snapshot and
 * every write to stderr; the timer thread blocks all signals, so signal handlers run on the
 * main thread as before.
 *
 * Log lines are `sluice: <level>: <message>`; DEBUG lines only when SLUICE_DEBUG is set to
 * something other than "" or "0". What sources write to stderr is passed through as
 * `[<resource>] <line>`, in every mode (the library also keeps it in the run's log file).
 * Progress has four modes:
 *   bar   one live line, rewritten with \r: stage, per-resource items (extract) or per-table
 *         rows (normalize; load as "done/expected"), what the load is doing when it is not
 *         inserting (merging a table, committing), the stage total, its rate and the run
 *         clock. Cut to the terminal width so it never wraps; erased by cli_progress_finish().
 *           extract: events 1200, users 30 | 1230 items, 61 items/s, 20.1 s
 *           load: events 5000/10000, events__tags 0/2500 | 5000/12500 rows, 9800 rows/s, 2.3 s
 *   log   a line every LOG_INTERVAL seconds while a stage works, and one `done` line per
 *         stage (with the per-name counts), for files and CI logs.
 *   none  nothing but log lines.
 *   auto  bar when stderr is a terminal (and TERM is not "dumb"), otherwise log.
 * Per-name counts are kept for the current stage only, for at most MAX_NAMES names (names
 * past the cap still count in the stage total), so memory stays bounded.
 */
#include "cli.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_NAMES 256
#define LINE_MAX_BYTES 1024
#define BAR_INTERVAL 0.1 /* seconds between bar redraws */
#define LOG_INTERVAL 2.0 /* seconds between log-mode lines while a stage works */
#define RATE_WINDOW 5.0  /* seconds the rate is measured over */
#define N_SAMPLES 64     /* (clock, total) samples kept for the rate, at most ten a second */

struct name_count {
    char *name;
    int64_t count;
    int64_t expected; /* -1: unknown */
};

struct cli_progress {
    enum cli_progress_mode mode; /* resolved: BAR, LOG or NONE */
    int show_debug;
    size_t width;                /* terminal columns (bar mode) */
    pthread_mutex_t lock;        /* the snapshot below and every write to stderr */
    pthread_cond_t wake;         /* signals the timer thread to stop */
    pthread_t timer;
    int timer_running;
    int stop;
    int bar_visible;
    double last_log;             /* monotonic clock of the last log-mode progress line */
    /* the snapshot */
    char *stage;                 /* current stage, owned; NULL before the first report */
    int stage_done;              /* the stage's done report came */
    double elapsed;              /* run clock at the last report */
    double elapsed_at;           /* monotonic clock when it came */
    int64_t total;
    int64_t total_expected;      /* -1: unknown */
    char step[160];              /* "merging events", "committing" or "" */
    struct {
        double clock;
        int64_t total;
    } samples[N_SAMPLES];        /* ring of the stage's recent totals, for the rate */
    size_t n_samples;            /* samples ever added this stage */
    struct name_count names[MAX_NAMES];
    size_t n_names;
    int names_overflow;          /* more names than MAX_NAMES this stage */
    char line[LINE_MAX_BYTES];   /* the bar line last drawn */
};

/* ==== helpers ============================================================================= */

static double now_seconds(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0.0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t terminal_width(void)
{
    struct winsize ws;
    const char *cols = getenv("COLUMNS");
    long n = 80;

    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
        n = ws.ws_col;
    } else if (cols != NULL && cols[0] != '\0') {
        char *end;
        long v = strtol(cols, &end, 10);
        if (*end == '\0')
            n = v;
    }
    if (n < 20)
        n = 20;
    if (n > LINE_MAX_BYTES - 1)
        n = LINE_MAX_BYTES - 1;
    return (size_t)n;
}

static const char *unit_of(const char *stage)
{
    return stage != NULL && strcmp(stage, "extract") == 0 ? "items" : "rows";
}

static const char *level_name(sluice_log_level level)
{
    switch (level) {
    case SLUICE_LOG_DEBUG: return "debug";
    case SLUICE_LOG_INFO: return "info";
    case SLUICE_LOG_WARN: return "warning";
    case SLUICE_LOG_ERROR: return "error";
    }
    return "log";
}

/* Append s to buf (capacity cap, holding *len bytes) with control characters as '?'. Stops at
 * the capacity; the result is always NUL-terminated. */
static void append(char *buf, size_t cap, size_t *len, const char *s)
{
    for (; s != NULL && *s != '\0' && *len + 1 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        buf[(*len)++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    buf[*len] = '\0';
}

/* Cut buf to at most max bytes (not splitting a UTF-8 sequence), ending it with "..." when
 * something was cut. */
static void cut(char *buf, size_t max)
{
    size_t len = strlen(buf);
    if (len <= max)
        return;
    if (max < 3) {
        buf[max] = '\0';
        return;
    }
    len = max - 3;
    while (len > 0 && ((unsigned char)buf[len] & 0xc0) == 0x80)
        len--;
    memcpy(buf + len, "...", 4);
}

/* "N" or "N/M" when the expected count is known. */
static void count_text(char *buf, size_t cap, int64_t count, int64_t expected)
{
    if (expected >= 0)
        snprintf(buf, cap, "%lld/%lld", (long long)count, (long long)expected);
    else
        snprintf(buf, cap, "%lld", (long long)count);
}

/* "events 200, users 30" for the current stage, cut to max bytes. */
static void names_text(const struct cli_progress *pr, char *buf, size_t cap, size_t max)
{
    size_t len = 0;
    char num[64];

    buf[0] = '\0';
    for (size_t i = 0; i < pr->n_names; i++) {
        if (i > 0)
            append(buf, cap, &len, ", ");
        append(buf, cap, &len, pr->names[i].name);
        append(buf, cap, &len, " ");
        count_text(num, sizeof(num), pr->names[i].count, pr->names[i].expected);
        append(buf, cap, &len, num);
    }
    if (pr->names_overflow)
        append(buf, cap, &len, ", ...");
    cut(buf, max);
}

static void reset_stage(struct cli_progress *pr, const char *stage)
{
    for (size_t i = 0; i < pr->n_names; i++)
        free(pr->names[i].name);
    pr->n_names = 0;
    pr->names_overflow = 0;
    free(pr->stage);
    pr->stage = strdup(stage); /* NULL on failure: the next report just resets again */
    pr->stage_done = 0;
    pr->total = 0;
    pr->total_expected = -1;
    pr->step[0] = '\0';
    pr->n_samples = 0;
}

static void count_name(struct cli_progress *pr, const char *name, int64_t count,
                       int64_t expected)
{
    if (name == NULL || name[0] == '\0' || count < 0)
        return;
    for (size_t i = 0; i < pr->n_names; i++) {
        if (strcmp(pr->names[i].name, name) == 0) {
            pr->names[i].count = count;
            if (expected >= 0)
                pr->names[i].expected = expected;
            return;
        }
    }
    if (pr->n_names == MAX_NAMES) {
        pr->names_overflow = 1;
        return;
    }
    pr->names[pr->n_names].name = strdup(name);
    if (pr->names[pr->n_names].name == NULL) {
        pr->names_overflow = 1;
        return;
    }
    pr->names[pr->n_names].count = count;
    pr->names[pr->n_names].expected = expected;
    pr->n_names++;
}

/* The run clock now: the last report's, advanced by the time since it came. */
static double run_clock(const struct cli_progress *pr)
{
    double dt = now_seconds() - pr->elapsed_at;
    return pr->elapsed + (dt > 0 ? dt : 0);
}

/* Remember the stage's total at the run clock now (at most one sample per 0.1 s). */
static void add_sample(struct cli_progress *pr)
{
    double clock = run_clock(pr);
    if (pr->n_samples > 0) {
        size_t last = (pr->n_samples - 1) % N_SAMPLES;
        if (clock - pr->samples[last].clock < 0.1) {
            if (pr->n_samples > 1)
                pr->samples[last].total = pr->total; /* too soon: refresh the last one */
            return;
        }
    }
    pr->samples[pr->n_samples % N_SAMPLES].clock = clock;
    pr->samples[pr->n_samples % N_SAMPLES].total = pr->total;
    pr->n_samples++;
}

/* Items or rows per second over the last RATE_WINDOW seconds; -1 while unknown. The stage's
 * first sample is its starting point (a stage that reports late, such as the normalize catch
 * up after a pipelined extraction, starts from what was already done). */
static double rate_of(const struct cli_progress *pr)
{
    size_t have = pr->n_samples < N_SAMPLES ? pr->n_samples : N_SAMPLES;
    double now = pr->stage_done ? pr->elapsed : run_clock(pr);
    double t0 = 0;
    int64_t v0 = 0;
    int found = 0;

    for (size_t k = have; k > 0; k--) { /* newest to oldest */
        size_t i = (pr->n_samples - k) % N_SAMPLES;
        if (now - pr->samples[i].clock <= RATE_WINDOW) {
            t0 = pr->samples[i].clock;
            v0 = pr->samples[i].total;
            found = 1;
            break;
        }
    }
    if (!found || now - t0 < 0.2)
        return -1;
    return (double)(pr->total - v0) / (now - t0);
}

/* "1230 items, 61 items/s, 20.1 s" (or "5000/12500 rows, ..."): totals, rate, clock. */
static void totals_text(const struct cli_progress *pr, char *buf, size_t cap)
{
    const char *unit = unit_of(pr->stage);
    double rate = pr->step[0] == '\0' ? rate_of(pr) : -1;
    char num[64];
    char rate_text[64] = "";

    count_text(num, sizeof(num), pr->total, pr->total_expected);
    if (rate >= 0)
        snprintf(rate_text, sizeof(rate_text), ", %.0f %s/s", rate, unit);
    snprintf(buf, cap, "%s %s%s, %.1f s", num, unit, rate_text,
             pr->stage_done ? pr->elapsed : run_clock(pr));
}

/* ==== bar ================================================================================= */

static void bar_erase(struct cli_progress *pr)
{
    if (!pr->bar_visible)
        return;
    fputs("\r\033[K", stderr);
    pr->bar_visible = 0;
}

static void bar_show(struct cli_progress *pr)
{
    if (pr->line[0] == '\0')
        return;
    fprintf(stderr, "\r%s\033[K", pr->line);
    fflush(stderr);
    pr->bar_visible = 1;
}

/* "load: events 200/400 | merging events | 200/400 rows, 1234 rows/s, 3.2 s", fitted to the
 * terminal width: the per-name part is what gets cut. */
static void bar_render(struct cli_progress *pr)
{
    char head[64];
    char tail[384];
    char totals[128];
    char middle[LINE_MAX_BYTES];
    size_t max = pr->width - 1; /* never touch the last column: no wrap */
    size_t fixed;
    size_t len = 0;

    if (pr->stage == NULL) {
        pr->line[0] = '\0';
        return;
    }
    snprintf(head, sizeof(head), "%s: ", pr->stage);
    totals_text(pr, totals, sizeof(totals));
    snprintf(tail, sizeof(tail), " | %s%s%s", pr->step, pr->step[0] ? " | " : "", totals);
    fixed = strlen(head) + strlen(tail);
    if (fixed + 4 <= max)
        names_text(pr, middle, sizeof(middle), max - fixed);
    else
        middle[0] = '\0';

    pr->line[0] = '\0';
    append(pr->line, sizeof(pr->line), &len, head);
    append(pr->line, sizeof(pr->line), &len, middle);
    append(pr->line, sizeof(pr->line), &len, middle[0] != '\0' ? tail : tail + 3);
    cut(pr->line, max);
}

static void bar_redraw(struct cli_progress *pr)
{
    bar_render(pr);
    bar_show(pr);
}

/* ==== log mode ============================================================================ */

/* One line: the stage's per-name counts and totals, or its done line. */
static void log_line(struct cli_progress *pr)
{
    char names[320];
    char totals[128];
    const char *stage = pr->stage != NULL ? pr->stage : "";

    names_text(pr, names, sizeof(names), 300);
    if (pr->stage_done) {
        fprintf(stderr, "sluice: %s: done: %lld %s", stage, (long long)pr->total,
                unit_of(pr->stage));
        if (names[0] != '\0')
            fprintf(stderr, " (%s)", names);
        fprintf(stderr, " at %.2f s\n", pr->elapsed);
        return;
    }
    totals_text(pr, totals, sizeof(totals));
    fprintf(stderr, "sluice: %s: ", stage);
    if (names[0] != '\0')
        fprintf(stderr, "%s | ", names);
    if (pr->step[0] != '\0')
        fprintf(stderr, "%s | ", pr->step);
    fprintf(stderr, "%s\n", totals);
}

/* ==== timer =============================================================================== */

static void *timer_main(void *arg)
{
    struct cli_progress *pr = arg;
    double interval = pr->mode == CLI_PROGRESS_BAR ? BAR_INTERVAL : 0.25;

    pthread_mutex_lock(&pr->lock);
    while (!pr->stop) {
        struct timespec until;
        double t;
        clock_gettime(CLOCK_REALTIME, &until); /* pthread_cond_timedwait's default clock */
        t = (double)until.tv_nsec / 1e9 + interval;
        until.tv_sec += (time_t)t;
        until.tv_nsec = (long)((t - (double)(time_t)t) * 1e9);
        pthread_cond_timedwait(&pr->wake, &pr->lock, &until);
        if (pr->stop || pr->stage == NULL)
            continue;
        if (!pr->stage_done)
            add_sample(pr); /* a stalled source: the same total later, the rate falls */
        if (pr->mode == CLI_PROGRESS_BAR) {
            bar_redraw(pr);
        } else if (!pr->stage_done && now_seconds() - pr->last_log >= LOG_INTERVAL) {
            log_line(pr);
            pr->last_log = now_seconds();
        }
    }
    pthread_mutex_unlock(&pr->lock);
    return NULL;
}

static void timer_stop(struct cli_progress *pr)
{
    if (!pr->timer_running)
        return;
    pthread_mutex_lock(&pr->lock);
    pr->stop = 1;
    pthread_cond_signal(&pr->wake);
    pthread_mutex_unlock(&pr->lock);
    pthread_join(pr->timer, NULL);
    pr->timer_running = 0;
}

/* ==== callbacks =========================================================================== */

static void on_log(void *ctx, sluice_log_level level, const char *message)
{
    struct cli_progress *pr = ctx;

    if (level == SLUICE_LOG_DEBUG && !pr->show_debug)
        return;
    pthread_mutex_lock(&pr->lock);
    bar_erase(pr);
    fprintf(stderr, "sluice: %s: ", level_name(level));
    cli_write_one_line(stderr, message);
    fputc('\n', stderr);
    if (pr->mode == CLI_PROGRESS_BAR)
        bar_show(pr);
    pthread_mutex_unlock(&pr->lock);
}

/* A source's stderr line, passed through as "[resource] line" (control characters shown as
 * spaces so that a tap cannot move the cursor or clear the bar's line). */
static void on_source_line(void *ctx, const char *resource, const char *line)
{
    struct cli_progress *pr = ctx;

    pthread_mutex_lock(&pr->lock);
    bar_erase(pr);
    fputc('[', stderr);
    cli_write_one_line(stderr, resource);
    fputs("] ", stderr);
    cli_write_one_line(stderr, line);
    fputc('\n', stderr);
    if (pr->mode == CLI_PROGRESS_BAR)
        bar_show(pr);
    pthread_mutex_unlock(&pr->lock);
}

static void on_progress(void *ctx, const sluice_progress *pg)
{
    struct cli_progress *pr = ctx;
    const char *stage;
    const char *step;
    int changed;

    if (pr->mode == CLI_PROGRESS_NONE || pg == NULL)
        return;
    pthread_mutex_lock(&pr->lock);
    stage = pg->stage != NULL ? pg->stage : "";
    step = pg->step != NULL ? pg->step : "";
    changed = pr->stage == NULL || strcmp(pr->stage, stage) != 0 || pr->stage_done;
    if (changed)
        reset_stage(pr, stage);
    pr->elapsed = pg->elapsed;
    pr->elapsed_at = now_seconds();
    if (strcmp(step, "merge") == 0) {
        snprintf(pr->step, sizeof(pr->step), "merging %.120s", pg->name != NULL ? pg->name : "");
    } else if (strcmp(step, "commit") == 0) {
        snprintf(pr->step, sizeof(pr->step), "committing");
    } else {
        pr->step[0] = '\0';
        count_name(pr, pg->name, pg->count, pg->count_expected);
    }
    if (pg->total >= 0)
        pr->total = pg->total;
    if (pg->total_expected >= 0)
        pr->total_expected = pg->total_expected;
    if (!pg->done)
        add_sample(pr);
    if (pg->done) {
        pr->stage_done = 1;
        pr->step[0] = '\0';
    }

    if (pr->mode == CLI_PROGRESS_BAR) {
        /* the timer redraws; a new stage, a new step and the end of a stage show at once */
        if (pg->done || changed || step[0] != '\0')
            bar_redraw(pr);
    } else if (pg->done) {
        log_line(pr);
        pr->last_log = now_seconds();
    }
    pthread_mutex_unlock(&pr->lock);
}

/* ==== public ============================================================================== */

int cli_progress_mode_parse(const char *s)
{
    static const struct {
        const char *name;
        enum cli_progress_mode mode;
    } modes[] = {
        { "auto", CLI_PROGRESS_AUTO },
        { "bar", CLI_PROGRESS_BAR },
        { "log", CLI_PROGRESS_LOG },
        { "none", CLI_PROGRESS_NONE },
    };
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (strcmp(s, modes[i].name) == 0)
            return (int)modes[i].mode;
    }
    return -1;
}

struct cli_progress *cli_progress_attach(sluice_pipeline *p, enum cli_progress_mode mode)
{
    struct cli_progress *pr = calloc(1, sizeof(*pr));
    const char *debug = getenv("SLUICE_DEBUG");
    const char *term = getenv("TERM");

    if (pr == NULL)
        return NULL;
    if (mode == CLI_PROGRESS_AUTO) {
        int tty = isatty(STDERR_FILENO) && !(term != NULL && strcmp(term, "dumb") == 0);
        mode = tty ? CLI_PROGRESS_BAR : CLI_PROGRESS_LOG;
    }
    pr->mode = mode;
    pr->show_debug = debug != NULL && debug[0] != '\0' && strcmp(debug, "0") != 0;
    pr->width = mode == CLI_PROGRESS_BAR ? terminal_width() : 80;
    pr->last_log = now_seconds(); /* the first periodic log line comes after LOG_INTERVAL */
    pr->elapsed_at = pr->last_log;
    pr->total_expected = -1;
    if (pthread_mutex_init(&pr->lock, NULL) != 0) {
        free(pr);
        return NULL;
    }
    if (pthread_cond_init(&pr->wake, NULL) != 0) {
        pthread_mutex_destroy(&pr->lock);
        free(pr);
        return NULL;
    }
    if (mode == CLI_PROGRESS_BAR || mode == CLI_PROGRESS_LOG) {
        /* the timer thread takes no signal: they keep going to the main thread */
        sigset_t all;
        sigset_t old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        pr->timer_running = pthread_create(&pr->timer, NULL, timer_main, pr) == 0;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        /* without a timer the display still follows the library's reports */
    }
    sluice_set_log_cb(p, on_log, pr);
    sluice_set_progress_cb(p, on_progress, pr);
    sluice_set_source_log_cb(p, on_source_line, pr);
    return pr;
}

void cli_progress_finish(struct cli_progress *pr)
{
    if (pr == NULL)
        return;
    timer_stop(pr);
    pthread_mutex_lock(&pr->lock);
    bar_erase(pr);
    pr->line[0] = '\0';
    free(pr->stage);
    pr->stage = NULL; /* nothing more to redraw after a log line */
    fflush(stderr);
    pthread_mutex_unlock(&pr->lock);
}

void cli_progress_free(struct cli_progress *pr)
{
    if (pr == NULL)
        return;
    timer_stop(pr);
    for (size_t i = 0; i < pr->n_names; i++)
        free(pr->names[i].name);
    free(pr->stage);
    pthread_cond_destroy(&pr->wake);
    pthread_mutex_destroy(&pr->lock);
    free(pr);
}
