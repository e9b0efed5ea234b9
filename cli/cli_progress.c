/*
 * cli_progress.c — what `sluice run` shows on stderr while it works: log lines and progress.
 *
 * The library never prints; it calls a log callback and a progress callback. This file
 * registers both with one shared context, because they share the terminal line: a log line
 * must first erase a live progress bar and redraw it afterwards.
 *
 * Log lines are `sluice: <level>: <message>`; DEBUG lines only when SLUICE_DEBUG is set to
 * something other than "" or "0". Progress has four modes:
 *   bar   one live line, rewritten with \r and throttled to 10 redraws a second (plus every
 *         stage change and every done report): stage, per-resource items (extract) or
 *         per-table rows (normalize, load), the stage total and its rate. It is cut to the
 *         terminal width so it never wraps, and erased by cli_progress_finish().
 *   log   one line per report with done=1, otherwise at most one line every 2 seconds.
 *   none  nothing.
 *   auto  bar when stderr is a terminal (and TERM is not "dumb"), otherwise log.
 * Per-name counts are kept for the current stage only, for at most MAX_NAMES names (names
 * past the cap still count in the stage total), so memory stays bounded.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_NAMES 256
#define LINE_MAX_BYTES 1024
#define BAR_INTERVAL 0.1 /* seconds between bar redraws */
#define LOG_INTERVAL 2.0 /* seconds between log-mode lines that are not done reports */

struct name_count {
    char *name;
    int64_t count;
};

struct cli_progress {
    enum cli_progress_mode mode; /* resolved: BAR, LOG or NONE */
    int show_debug;
    size_t width;                /* terminal columns (bar mode) */
    int bar_visible;
    double last_draw;            /* monotonic clock of the last bar draw */
    double last_log;             /* monotonic clock of the last log-mode progress line */
    char *stage;                 /* current stage, owned; NULL before the first report */
    double stage_start;          /* run-elapsed seconds at the stage's first report */
    int64_t total;
    double elapsed;
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

/* "events 200, users 30" for the current stage, cut to max bytes. */
static void names_text(const struct cli_progress *pr, char *buf, size_t cap, size_t max)
{
    size_t len = 0;
    char num[32];

    buf[0] = '\0';
    for (size_t i = 0; i < pr->n_names; i++) {
        if (i > 0)
            append(buf, cap, &len, ", ");
        append(buf, cap, &len, pr->names[i].name);
        snprintf(num, sizeof(num), " %lld", (long long)pr->names[i].count);
        append(buf, cap, &len, num);
    }
    if (pr->names_overflow)
        append(buf, cap, &len, ", ...");
    cut(buf, max);
}

static void reset_stage(struct cli_progress *pr, const char *stage, double elapsed)
{
    for (size_t i = 0; i < pr->n_names; i++)
        free(pr->names[i].name);
    pr->n_names = 0;
    pr->names_overflow = 0;
    free(pr->stage);
    pr->stage = strdup(stage); /* NULL on failure: the next report just resets again */
    pr->stage_start = elapsed;
    pr->total = 0;
}

static void count_name(struct cli_progress *pr, const char *name, int64_t count)
{
    if (name == NULL || name[0] == '\0')
        return;
    for (size_t i = 0; i < pr->n_names; i++) {
        if (strcmp(pr->names[i].name, name) == 0) {
            pr->names[i].count = count;
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
    pr->n_names++;
}

/* ", 1234 items/s" once the stage has run long enough for a meaningful rate, else "". */
static void rate_text(const struct cli_progress *pr, char *buf, size_t cap)
{
    double dt = pr->elapsed - pr->stage_start;
    buf[0] = '\0';
    if (dt >= 0.2 && pr->total > 0)
        snprintf(buf, cap, ", %.0f %s/s", (double)pr->total / dt, unit_of(pr->stage));
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

/* "extract: events 200, users 30 | 230 items, 1234 items/s, 3.2 s", fitted to the width. */
static void bar_render(struct cli_progress *pr)
{
    char head[64];
    char tail[128];
    char rate[64];
    char middle[LINE_MAX_BYTES];
    size_t max = pr->width - 1; /* never touch the last column: no wrap */
    size_t fixed;
    size_t len = 0;

    snprintf(head, sizeof(head), "%s: ", pr->stage != NULL ? pr->stage : "");
    rate_text(pr, rate, sizeof(rate));
    snprintf(tail, sizeof(tail), " | %lld %s%s, %.1f s", (long long)pr->total,
             unit_of(pr->stage), rate, pr->elapsed);
    fixed = strlen(head) + strlen(tail);
    if (fixed + 4 <= max)
        names_text(pr, middle, sizeof(middle), max - fixed);
    else
        middle[0] = '\0';

    pr->line[0] = '\0';
    append(pr->line, sizeof(pr->line), &len, head);
    append(pr->line, sizeof(pr->line), &len, middle);
    append(pr->line, sizeof(pr->line), &len, tail);
    cut(pr->line, max);
}

/* ==== callbacks =========================================================================== */

static void on_log(void *ctx, sluice_log_level level, const char *message)
{
    struct cli_progress *pr = ctx;

    if (level == SLUICE_LOG_DEBUG && !pr->show_debug)
        return;
    bar_erase(pr);
    fprintf(stderr, "sluice: %s: ", level_name(level));
    cli_write_one_line(stderr, message);
    fputc('\n', stderr);
    if (pr->mode == CLI_PROGRESS_BAR)
        bar_show(pr);
}

static void log_line(struct cli_progress *pr, const sluice_progress *pg)
{
    char names[320];
    char rate[64];

    if (pg->done) {
        names_text(pr, names, sizeof(names), 300);
        fprintf(stderr, "sluice: %s: done: %lld %s", pr->stage != NULL ? pr->stage : "",
                (long long)pr->total, unit_of(pr->stage));
        if (names[0] != '\0')
            fprintf(stderr, " (%s)", names);
        fprintf(stderr, " at %.2f s\n", pr->elapsed);
        return;
    }
    rate_text(pr, rate, sizeof(rate));
    fprintf(stderr, "sluice: %s: ", pr->stage != NULL ? pr->stage : "");
    if (pg->name != NULL && pg->name[0] != '\0') {
        cli_write_one_line(stderr, pg->name);
        fprintf(stderr, " %lld, ", (long long)pg->count);
    }
    fprintf(stderr, "%lld %s so far%s, %.1f s\n", (long long)pr->total, unit_of(pr->stage),
            rate, pr->elapsed);
}

static void on_progress(void *ctx, const sluice_progress *pg)
{
    struct cli_progress *pr = ctx;
    const char *stage;
    int changed;
    double now;

    if (pr->mode == CLI_PROGRESS_NONE || pg == NULL)
        return;
    stage = pg->stage != NULL ? pg->stage : "";
    changed = pr->stage == NULL || strcmp(pr->stage, stage) != 0;
    if (changed)
        reset_stage(pr, stage, pg->elapsed);
    count_name(pr, pg->name, pg->count);
    pr->total = pg->total;
    pr->elapsed = pg->elapsed;
    now = now_seconds();

    if (pr->mode == CLI_PROGRESS_BAR) {
        if (pg->done || changed || now - pr->last_draw >= BAR_INTERVAL) {
            bar_render(pr);
            bar_show(pr);
            pr->last_draw = now;
        }
        return;
    }
    if (pg->done || now - pr->last_log >= LOG_INTERVAL) {
        log_line(pr, pg);
        pr->last_log = now;
    }
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
    pr->last_log = now_seconds(); /* the first periodic log line comes after 2 s of work */
    sluice_set_log_cb(p, on_log, pr);
    sluice_set_progress_cb(p, on_progress, pr);
    return pr;
}

void cli_progress_finish(struct cli_progress *pr)
{
    if (pr == NULL)
        return;
    bar_erase(pr);
    pr->line[0] = '\0';
    fflush(stderr);
}

void cli_progress_free(struct cli_progress *pr)
{
    if (pr == NULL)
        return;
    for (size_t i = 0; i < pr->n_names; i++)
        free(pr->names[i].name);
    free(pr->stage);
    free(pr);
}
