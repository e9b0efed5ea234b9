/*
 * cli_run.c — `sluice run CONFIG [options]`: run a pipeline described by a config file.
 *
 * The command turns its flags into a sluice_run_opts, opens the pipeline from the config,
 * hooks up the log and progress display (cli_progress.c) and calls sluice_pipeline_run().
 * On success it prints the load info on stdout, either as a short human summary
 *
 *   Pipeline github_events: loaded 250 rows into 2 tables in 0.41 s (load id 1732900000.1234)
 *     events            150 inserted, 50 updated
 *     events__payload    50 inserted
 *
 * (see print_trace_summary: the table lines are the run's net effect per table, and packages
 * left by an earlier run are listed apart from this run's extraction; "No new data: nothing
 * loaded." when no row was loaded), or with --json as one JSON object:
 *   {"status":"ok","load_id":"...","items":N,"rows":N,"packages_loaded":N,
 *    "pending_loaded":N,"elapsed":S,"tables":{"events":200,...},
 *    "packages":[{"load_id":"...","pending":false,"rows":N}],
 *    "net_effect":{"events":{"inserted":N,"updated":N,"deleted":N},...}}
 * (net effect values are null where the destination cannot tell).
 * On failure the error goes to stderr (and, with --json, an error object to stdout; see
 * cli_report_error). SIGINT, SIGTERM and SIGHUP stop the run cleanly (see "signals" below):
 * one line on stderr, exit 130, 143 or 129. Flag values with a fixed set of choices are
 * checked here, so a typo is a usage error (exit 2) before anything is opened, and a CONFIG
 * path that cannot be opened is a CONFIG error (exit 2). The run info is borrowed from the
 * handle, so what the output needs of it is read before any further call on the handle
 * (sluice_pipeline_trace_json).
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char run_usage[] =
    "usage: sluice run CONFIG [options]\n"
    "\n"
    "Extract, normalize and load the pipeline described by CONFIG (YAML or JSON). Load\n"
    "packages left by an earlier run are loaded first.\n"
    "\n"
    "options:\n"
    "  --resource NAME             run only this resource (repeatable)\n"
    "  --refresh MODE              drop_sources | drop_resources | drop_data\n"
    "  --write-disposition WD      replace | append | merge, for every resource of the run\n"
    "  --start VALUE               backfill from VALUE (an incremental cursor value; alone:\n"
    "                              up to now); the state is not read nor advanced\n"
    "  --end VALUE                 backfill window end (exclusive)\n"
    "  --progress MODE             auto (default) | bar | log | none, shown on stderr\n"
    "  --wait                      wait for another run of the pipeline to finish instead of\n"
    "                              failing at once\n"
    "  --dry-run                   extract and normalize, then show what would be loaded\n"
    "                              (tables, columns, rows, cursor ranges); commit nothing\n"
    "  --json                      print the load info (or the error) as JSON on stdout\n"
    "  -h, --help                  show this help\n"
    "\n"
    "exit status: 0 success, 1 the run failed, 2 bad usage or config; 130, 143, 129:\n"
    "interrupted by SIGINT, SIGTERM, SIGHUP (nothing of the interrupted package committed).\n";

enum {
    OPT_RESOURCE = 1,
    OPT_REFRESH,
    OPT_WRITE_DISPOSITION,
    OPT_START,
    OPT_END,
    OPT_PROGRESS,
    OPT_JSON,
    OPT_WAIT,
    OPT_DRY_RUN,
    OPT_HELP
};

static const struct cli_opt run_opts[] = {
    { "resource", 0, 1, OPT_RESOURCE },
    { "refresh", 0, 1, OPT_REFRESH },
    { "write-disposition", 0, 1, OPT_WRITE_DISPOSITION },
    { "start", 0, 1, OPT_START },
    { "end", 0, 1, OPT_END },
    { "progress", 0, 1, OPT_PROGRESS },
    { "json", 0, 0, OPT_JSON },
    { "wait", 0, 0, OPT_WAIT },
    { "dry-run", 0, 0, OPT_DRY_RUN },
    { "help", 'h', 0, OPT_HELP },
    { NULL, 0, 0, 0 },
};

struct run_args {
    const char *config;
    const char **resources; /* NULL-terminated, owned; NULL when no --resource was given */
    size_t n_resources;
    const char *refresh;
    const char *write_disposition;
    const char *start;
    const char *end;
    enum cli_progress_mode progress;
    int json;
    int wait;
    int dry_run;
    int help;
};

static int one_of(const char *value, const char *const *choices)
{
    for (; *choices != NULL; choices++) {
        if (strcmp(value, *choices) == 0)
            return 1;
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct run_args *a)
{
    static const char *const refresh_modes[] = { "drop_sources", "drop_resources", "drop_data",
                                                 NULL };
    static const char *const dispositions[] = { "replace", "append", "merge", NULL };
    struct cli_parser ps;
    enum cli_arg_kind kind;
    const char *value;
    int id = 0;
    int mode;

    cli_parser_init(&ps, argc, argv, "run");
    for (;;) {
        kind = cli_parser_next(&ps, run_opts, &id, &value);
        if (kind == CLI_ARG_END)
            break;
        if (kind == CLI_ARG_ERR)
            return CLI_EXIT_USAGE;
        if (kind == CLI_ARG_POS) {
            if (a->config != NULL)
                return cli_usage_error("run", "unexpected argument '%s'", value);
            a->config = value;
            continue;
        }
        switch (id) {
        case OPT_WAIT:
            a->wait = 1;
            break;
        case OPT_DRY_RUN:
            a->dry_run = 1;
            break;
        case OPT_RESOURCE: {
            int rc = cli_add_resource(&a->resources, &a->n_resources, argc, value, "run");
            if (rc != CLI_EXIT_OK)
                return rc;
            break;
        }
        case OPT_REFRESH:
            if (!one_of(value, refresh_modes))
                return cli_usage_error("run", "--refresh must be drop_sources, drop_resources "
                                              "or drop_data, not '%s'", value);
            a->refresh = value;
            break;
        case OPT_WRITE_DISPOSITION:
            if (!one_of(value, dispositions))
                return cli_usage_error("run", "--write-disposition must be replace, append or "
                                              "merge, not '%s'", value);
            a->write_disposition = value;
            break;
        case OPT_START:
            a->start = value;
            break;
        case OPT_END:
            a->end = value;
            break;
        case OPT_PROGRESS:
            mode = cli_progress_mode_parse(value);
            if (mode < 0)
                return cli_usage_error("run", "--progress must be auto, bar, log or none, "
                                              "not '%s'", value);
            a->progress = (enum cli_progress_mode)mode;
            break;
        case OPT_JSON:
            a->json = 1;
            break;
        case OPT_HELP:
            a->help = 1;
            return CLI_EXIT_OK;
        default:
            return cli_usage_error("run", "unhandled option");
        }
    }
    if (a->config == NULL)
        return cli_usage_error("run", "missing CONFIG (the pipeline's YAML or JSON file)");
    return CLI_EXIT_OK;
}

/* ==== output ============================================================================== */

static struct cli_json *run_trace(sluice_pipeline *p);
static int is_completed_load(const struct cli_json *step);
static int64_t step_rows(const struct cli_json *step);

static double finite_or_zero(double x)
{
    return isfinite(x) ? x : 0.0;
}

/* ,"packages":[{"load_id","pending","rows"}],"net_effect":{"t":{"inserted",...}} from the trace
 * (nothing when it is missing). */
static void print_json_trace(const struct cli_json *trace)
{
    const struct cli_json *steps = cli_json_get(trace, "steps");
    const struct cli_json *tables = cli_json_get(trace, "tables");
    int first = 1;

    if (steps == NULL || tables == NULL)
        return;
    fputs(",\"packages\":[", stdout);
    for (const struct cli_json *st = steps->child; st; st = st->next) {
        const struct cli_json *pending = cli_json_get(st, "pending");
        if (!is_completed_load(st))
            continue;
        fputs(first ? "{\"load_id\":" : ",{\"load_id\":", stdout);
        first = 0;
        cli_json_write_cstr(stdout, cli_json_string(cli_json_get(st, "load_id")));
        printf(",\"pending\":%s,\"rows\":%lld}",
               pending != NULL && pending->type == CLI_JSON_TRUE ? "true" : "false",
               (long long)step_rows(st));
    }
    fputs("],\"net_effect\":{", stdout);
    first = 1;
    for (const struct cli_json *t = tables->child; t; t = t->next) {
        static const char *const words[] = { "inserted", "updated", "deleted" };
        if (!first)
            fputc(',', stdout);
        first = 0;
        cli_json_write_cstr(stdout, cli_json_string(cli_json_get(t, "name")));
        fputc(':', stdout);
        fputc('{', stdout);
        for (int i = 0; i < 3; i++) {
            int64_t v = 0;
            printf("%s\"%s\":", i > 0 ? "," : "", words[i]);
            if (cli_json_int(cli_json_get(t, words[i]), &v))
                printf("%lld", (long long)v);
            else
                fputs("null", stdout);
        }
        fputc('}', stdout);
    }
    fputc('}', stdout);
}

static void print_json(sluice_pipeline *p, const sluice_run_info *info)
{
    struct cli_json *trace;
    const char *load_id = info->load_id != NULL && info->load_id[0] != '\0' ? info->load_id
                                                                            : NULL;

    fputs("{\"status\":\"ok\",\"load_id\":", stdout);
    cli_json_write_cstr(stdout, load_id);
    printf(",\"items\":%lld,\"rows\":%lld,\"packages_loaded\":%lld,\"pending_loaded\":%lld",
           (long long)info->items, (long long)info->rows, (long long)info->packages_loaded,
           (long long)info->pending_loaded);
    printf(",\"elapsed\":%.3f,\"tables\":{", finite_or_zero(info->elapsed));
    for (size_t i = 0; info->tables != NULL && i < info->n_tables; i++) {
        if (i > 0)
            fputc(',', stdout);
        cli_json_write_cstr(stdout, info->tables[i].name != NULL ? info->tables[i].name : "");
        printf(":%lld", (long long)info->tables[i].rows);
    }
    fputc('}', stdout);
    /* everything of the borrowed info is written: the handle may be called again */
    trace = run_trace(p);
    if (trace != NULL)
        print_json_trace(trace);
    cli_json_free(trace);
    fputs("}\n", stdout);
}

static const char *plural(int64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/*
 * Everything of the summary after "Pipeline NAME" (see the file comment), written to f. The
 * name column is as wide as the longest name; the count column at least 10 wide.
 */
static void write_summary_body(FILE *f, const sluice_run_info *info)
{
    size_t name_width = 0;
    int num_width = 10;
    size_t n_tables = info->tables != NULL ? info->n_tables : 0;

    fprintf(f, ": loaded %zu %s, %lld %s in %.2f s", n_tables, n_tables == 1 ? "table" : "tables",
            (long long)info->rows, plural(info->rows, "row", "rows"),
            finite_or_zero(info->elapsed));
    if (info->load_id != NULL && info->load_id[0] != '\0') {
        fputs(" (load id ", f);
        cli_write_one_line(f, info->load_id);
        fputc(')', f);
    }
    fputc('\n', f);

    for (size_t i = 0; i < n_tables; i++) {
        const char *name = info->tables[i].name != NULL ? info->tables[i].name : "";
        char num[32];
        int len = snprintf(num, sizeof(num), "%lld", (long long)info->tables[i].rows);
        if (strlen(name) > name_width)
            name_width = strlen(name);
        if (len > num_width)
            num_width = len;
    }
    if (name_width > 64)
        name_width = 64; /* a very long name just pushes its own count right */
    for (size_t i = 0; i < n_tables; i++) {
        const char *name = info->tables[i].name != NULL ? info->tables[i].name : "";
        fprintf(f, "  %-*s %*lld\n", (int)name_width, name, num_width,
                (long long)info->tables[i].rows);
    }
    if (info->pending_loaded > 0)
        fprintf(f, "Loaded %lld pending %s left by an earlier run.\n",
                (long long)info->pending_loaded,
                plural(info->pending_loaded, "package", "packages"));
}

/* The run's trace from the library, parsed (caller frees), or NULL when there is none. */
static struct cli_json *run_trace(sluice_pipeline *p)
{
    char *text = NULL;
    struct cli_json *doc = NULL;
    char err[128];

    if (sluice_pipeline_trace_json(p, &text) == SLUICE_OK && text != NULL)
        doc = cli_json_parse(text, strlen(text), err, sizeof(err));
    sluice_free(text);
    return doc;
}

/* "3 inserted, 1 updated, 2 deleted" (zero parts left out; "no change" when all are zero), or
 * "N rows" when the destination could not tell the net effect. */
static void write_effect(FILE *f, const struct cli_json *t)
{
    int64_t rows = 0;

    if (cli_write_effect(f, t, ""))
        return;
    cli_json_int(cli_json_get(t, "rows"), &rows);
    fprintf(f, "%lld %s", (long long)rows, plural(rows, "row", "rows"));
}

static int is_completed_load(const struct cli_json *step)
{
    const char *name = cli_json_string(cli_json_get(step, "step"));
    const char *status = cli_json_string(cli_json_get(step, "status"));
    return name != NULL && strcmp(name, "load") == 0 && status != NULL &&
           strcmp(status, "completed") == 0;
}

/* Rows a load step wrote, over its tables. */
static int64_t step_rows(const struct cli_json *step)
{
    int64_t sum = 0;
    const struct cli_json *tables = cli_json_get(step, "tables");
    for (const struct cli_json *t = tables != NULL ? tables->child : NULL; t; t = t->next) {
        int64_t n = 0;
        if (cli_json_int(cli_json_get(t, "rows"), &n))
            sum += n;
    }
    return sum;
}

/*
 * The summary from the run's trace:
 *   Pipeline NAME: loaded 1250 rows into 2 tables in 0.08 s (load id 1764441600.123456)
 *     events          1000 inserted
 *     events__tags     250 inserted
 * and, when packages left by an earlier run were loaded too, one line per package first, so
 * that the rows of a package an interrupted run left and the rows of this run's extraction
 * are never added up as if they were one load:
 *   Pipeline NAME: loaded 2 packages in 0.12 s
 *     package 1764441500.000001, left by an earlier run: 1000 rows
 *     package 1764441600.123456, extracted now: 250 rows
 *     events           800 inserted, 200 updated
 * The table lines are the net effect of the run on each table (inserted, updated, deleted),
 * not the rows written. Returns 0 when the trace lacks what it needs (the caller then prints
 * the plain summary).
 */
static int print_trace_summary(FILE *f, const char *name, double elapsed,
                               const struct cli_json *trace)
{
    const struct cli_json *steps = cli_json_get(trace, "steps");
    const struct cli_json *tables = cli_json_get(trace, "tables");
    int64_t n_packages = 0;
    int64_t n_pending = 0;
    int64_t rows = 0;
    int64_t n_tables = 0;
    const char *load_id = NULL;
    size_t width = 0;

    if (steps == NULL || steps->type != CLI_JSON_ARRAY || tables == NULL ||
        tables->type != CLI_JSON_ARRAY)
        return 0;
    for (const struct cli_json *st = steps->child; st; st = st->next) {
        if (!is_completed_load(st))
            continue;
        n_packages++;
        n_pending += cli_json_get(st, "pending") != NULL &&
                     cli_json_get(st, "pending")->type == CLI_JSON_TRUE;
        rows += step_rows(st);
        load_id = cli_json_string(cli_json_get(st, "load_id"));
    }
    for (const struct cli_json *t = tables->child; t; t = t->next) {
        const char *tname = cli_json_string(cli_json_get(t, "name"));
        n_tables++;
        if (tname != NULL && strlen(tname) > width)
            width = strlen(tname);
    }
    if (width > 64)
        width = 64;

    fputs("Pipeline", f);
    if (name != NULL && name[0] != '\0') {
        fputc(' ', f);
        cli_write_one_line(f, name);
    }
    if (n_pending == 0 && n_packages <= 1) {
        fprintf(f, ": loaded %lld %s into %lld %s in %.2f s", (long long)rows,
                plural(rows, "row", "rows"), (long long)n_tables,
                plural(n_tables, "table", "tables"), finite_or_zero(elapsed));
        if (load_id != NULL) {
            fputs(" (load id ", f);
            cli_write_one_line(f, load_id);
            fputc(')', f);
        }
        fputc('\n', f);
    } else {
        fprintf(f, ": loaded %lld %s in %.2f s\n", (long long)n_packages,
                plural(n_packages, "package", "packages"), finite_or_zero(elapsed));
        for (const struct cli_json *st = steps->child; st; st = st->next) {
            const struct cli_json *pending = cli_json_get(st, "pending");
            int64_t n;
            if (!is_completed_load(st))
                continue;
            n = step_rows(st);
            fputs("  package ", f);
            cli_write_one_line(f, cli_json_string(cli_json_get(st, "load_id")));
            fputs(pending != NULL && pending->type == CLI_JSON_TRUE
                      ? ", left by an earlier run: "
                      : ", extracted now: ", f);
            fprintf(f, "%lld %s\n", (long long)n, plural(n, "row", "rows"));
        }
    }
    for (const struct cli_json *t = tables->child; t; t = t->next) {
        fputs("  ", f);
        const char *tname = cli_json_string(cli_json_get(t, "name"));
        size_t len = tname != NULL ? strlen(tname) : 0;
        cli_write_one_line(f, tname);
        for (; len < width + 2; len++)
            fputc(' ', f);
        write_effect(f, t);
        fputc('\n', f);
    }
    return 1;
}

static void print_summary(sluice_pipeline *p, const sluice_run_info *info)
{
    char *body = NULL;
    size_t body_len = 0;
    double elapsed = info->elapsed;
    struct cli_json *trace;
    const char *name;
    FILE *mem;

    if (info->rows == 0 && info->n_tables == 0 && info->pending_loaded == 0) {
        fputs("No new data: nothing loaded.\n", stdout);
        return;
    }

    /* The plain summary, rendered while the borrowed info is valid: the fallback when the
     * trace is not there (out of memory) */
    mem = open_memstream(&body, &body_len);
    if (mem != NULL) {
        write_summary_body(mem, info);
        if (fclose(mem) != 0) {
            free(body);
            body = NULL;
        }
    }
    name = sluice_pipeline_name(p);
    trace = run_trace(p);
    if (trace == NULL || !print_trace_summary(stdout, name, elapsed, trace)) {
        fputs("Pipeline", stdout);
        if (name[0] != '\0') {
            fputc(' ', stdout);
            cli_write_one_line(stdout, name);
        }
        if (body != NULL)
            fwrite(body, 1, body_len, stdout);
        else
            fputs(": loaded (summary unavailable: out of memory)\n", stdout);
    }
    cli_json_free(trace);
    free(body);
}

/* ==== signals ============================================================================= */

/*
 * SIGINT, SIGTERM and SIGHUP during a run ask the library to stop (sluice_pipeline_interrupt,
 * async-signal-safe): it stops extracting, stops the command source's process group, commits
 * nothing of the interrupted package and returns SLUICE_ERR_INTERRUPTED saying what it was
 * doing. The command then prints one line and exits 128 + the signal (130, 143, 129). A
 * second signal cuts the source's grace period short; a third ends the process at once (the
 * signal's default action: nothing half-committed either, the destination's transaction dies
 * with it). A signal that was ignored when sluice started (nohup, a background job of a
 * non-interactive shell) stays ignored.
 *
 * The one piece of mutable file-scope state in the command: a handler has nowhere else to
 * find the pipeline.
 */
static sluice_pipeline *volatile run_handle;
static volatile sig_atomic_t run_signal;
static volatile sig_atomic_t run_signals;

static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };

static void on_stop_signal(int sig)
{
    run_signal = sig;
    if (++run_signals >= 3) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    if (run_handle != NULL)
        sluice_pipeline_interrupt(run_handle);
}

/* Route the stop signals to p (NULL: back to what they were). */
static void watch_signals(sluice_pipeline *p, struct sigaction *saved)
{
    for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++) {
        if (p == NULL) {
            sigaction(stop_signals[i], &saved[i], NULL);
            continue;
        }
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sigaction(stop_signals[i], NULL, &saved[i]);
        if (saved[i].sa_handler == SIG_IGN)
            continue;
        sa.sa_handler = on_stop_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = 0; /* no SA_RESTART: a blocking call returns and the library looks */
        sigaction(stop_signals[i], &sa, NULL);
    }
    run_handle = p;
}

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    default: return "a signal";
    }
}

/* ==== dry run ============================================================================= */

static void print_columns(const struct cli_json *cols)
{
    const char *sep = "    columns: ";
    for (const struct cli_json *c = cols != NULL ? cols->child : NULL; c; c = c->next) {
        const struct cli_json *isnew = cli_json_get(c, "new");
        fputs(sep, stdout);
        sep = ", ";
        cli_write_one_line(stdout, cli_json_string(cli_json_get(c, "name")));
        fputc(' ', stdout);
        cli_write_one_line(stdout, cli_json_string(cli_json_get(c, "data_type")));
        if (isnew != NULL && isnew->type == CLI_JSON_TRUE)
            fputs(" (new)", stdout);
    }
    if (sep[0] == ',')
        fputc('\n', stdout);
}

/*
 * What the dry run would have loaded, from its trace:
 *   Dry run of pipeline NAME: nothing was loaded or committed.
 *   Would load 6 rows into 2 tables:
 *     users: 3 rows (merge)
 *       columns: id bigint, name text (new), _dlt_load_id text, _dlt_id text
 *     users__tags: 3 rows (new table, child of users)
 *       columns: ...
 *   Cursors:
 *     users: updated_at from 20 to 40
 *   Pending packages a real run loads first: 1733570000.1 (normalized)
 * With json: the trace as one JSON object.
 */
static int print_dry_run(sluice_pipeline *p, int json)
{
    struct cli_json *trace = run_trace(p);
    const struct cli_json *would;
    const struct cli_json *tables;
    const struct cli_json *steps;
    const struct cli_json *pending;
    int64_t rows = 0;
    size_t n_tables = 0;

    if (trace == NULL)
        return cli_bad_json("dry run trace", "missing");
    if (json) {
        cli_json_write(stdout, trace, 0);
        fputc('\n', stdout);
        cli_json_free(trace);
        return CLI_EXIT_OK;
    }
    would = cli_json_get(trace, "would_load");
    tables = cli_json_get(would, "tables");
    steps = cli_json_get(trace, "steps");
    pending = cli_json_get(trace, "pending_not_loaded");
    fputs("Dry run of pipeline ", stdout);
    cli_write_one_line(stdout, sluice_pipeline_name(p));
    fputs(": nothing was loaded or committed.\n", stdout);
    for (const struct cli_json *t = tables != NULL ? tables->child : NULL; t; t = t->next) {
        int64_t n = 0;
        if (cli_json_int(cli_json_get(t, "rows"), &n))
            rows += n;
        n_tables++;
    }
    if (would == NULL)
        fputs("No new data: nothing would be loaded.\n", stdout);
    else
        printf("Would load %lld %s into %zu %s:\n", (long long)rows, plural(rows, "row", "rows"),
               n_tables, n_tables == 1 ? "table" : "tables");
    for (const struct cli_json *t = tables != NULL ? tables->child : NULL; t; t = t->next) {
        const struct cli_json *isnew = cli_json_get(t, "new");
        const char *parent = cli_json_string(cli_json_get(t, "parent"));
        int64_t n = 0;
        cli_json_int(cli_json_get(t, "rows"), &n);
        fputs("  ", stdout);
        cli_write_one_line(stdout, cli_json_string(cli_json_get(t, "name")));
        printf(": %lld %s (", (long long)n, plural(n, "row", "rows"));
        if (isnew != NULL && isnew->type == CLI_JSON_TRUE)
            fputs("new table, ", stdout);
        if (parent != NULL) {
            fputs("child of ", stdout);
            cli_write_one_line(stdout, parent);
        } else {
            cli_write_one_line(stdout, cli_json_string(cli_json_get(t, "write_disposition")));
        }
        fputs(")\n", stdout);
        print_columns(cli_json_get(t, "columns"));
    }
    /* the cursor range of each incremental resource (extract step) */
    int header = 0;
    for (const struct cli_json *st = steps != NULL ? steps->child : NULL; st; st = st->next) {
        const struct cli_json *res = cli_json_get(st, "resources");
        for (const struct cli_json *r = res != NULL ? res->child : NULL; r; r = r->next) {
            const struct cli_json *inc = cli_json_get(r, "incremental");
            if (inc == NULL)
                continue;
            if (!header)
                fputs("Cursors:\n", stdout);
            header = 1;
            fputs("  ", stdout);
            cli_write_one_line(stdout, cli_json_string(cli_json_get(r, "name")));
            fputs(": ", stdout);
            cli_write_one_line(stdout, cli_json_string(cli_json_get(inc, "cursor_path")));
            fputs(" from ", stdout);
            cli_json_write_value(stdout, cli_json_get(inc, "start_value"));
            fputs(" to ", stdout);
            cli_json_write_value(stdout, cli_json_get(inc, "last_value"));
            fputc('\n', stdout);
        }
    }
    if (pending != NULL && pending->child != NULL) {
        fputs("Pending packages a real run loads first:", stdout);
        for (const struct cli_json *pk = pending->child; pk; pk = pk->next) {
            fputc(' ', stdout);
            cli_write_one_line(stdout, cli_json_string(cli_json_get(pk, "load_id")));
            fputs(" (", stdout);
            cli_write_one_line(stdout, cli_json_string(cli_json_get(pk, "stage")));
            fputc(')', stdout);
        }
        fputc('\n', stdout);
    }
    cli_json_free(trace);
    return CLI_EXIT_OK;
}

/* ==== command ============================================================================= */

/* 1 when path can be opened for reading, else 0 with a message in msg. */
static int readable(const char *path, char *msg, size_t msg_size)
{
    FILE *f = fopen(path, "r");

    if (f != NULL) {
        fclose(f);
        return 1;
    }
    snprintf(msg, msg_size, "cannot open config file '%s': %s", path, strerror(errno));
    return 0;
}

int cli_run_main(int argc, char **argv)
{
    struct run_args a;
    sluice_pipeline *p = NULL;
    struct cli_progress *pr = NULL;
    sluice_run_opts opts;
    sluice_run_info info;
    sluice_status st;
    char msg[512];
    struct sigaction saved[sizeof(stop_signals) / sizeof(stop_signals[0])];
    int rc;
    int initialized = 0;

    memset(&a, 0, sizeof(a));
    a.progress = CLI_PROGRESS_AUTO;
    rc = parse_args(argc, argv, &a);
    if (rc != CLI_EXIT_OK)
        goto done;
    if (a.help) {
        fputs(run_usage, stdout);
        goto done;
    }

    st = sluice_global_init();
    if (st != SLUICE_OK) {
        rc = cli_report_error(NULL, st, a.json);
        goto done;
    }
    initialized = 1;

    /* A config that cannot be read is bad usage (exit 2) whatever the library would call it. */
    if (!readable(a.config, msg, sizeof(msg))) {
        rc = cli_report_message(SLUICE_ERR_CONFIG, msg, a.json);
        goto done;
    }
    st = sluice_pipeline_open_config(&p, a.config);
    if (st != SLUICE_OK) {
        rc = cli_report_error(p, st, a.json);
        goto done;
    }
    pr = cli_progress_attach(p, a.progress);
    if (pr == NULL) {
        rc = cli_report_error(NULL, SLUICE_ERR_NOMEM, a.json);
        goto done;
    }

    memset(&opts, 0, sizeof(opts));
    opts.size = sizeof(opts);
    opts.resources = a.resources;
    opts.refresh = a.refresh;
    opts.write_disposition = a.write_disposition;
    opts.start_value = a.start;
    opts.wait = a.wait;
    opts.end_value = a.end;
    opts.dry_run = a.dry_run;
    memset(&info, 0, sizeof(info));

    watch_signals(p, saved);
    st = sluice_pipeline_run(p, &opts, &info);
    watch_signals(NULL, saved);
    cli_progress_finish(pr);
    if (run_signal != 0 && st == SLUICE_ERR_INTERRUPTED) {
        /* one line: the signal, then what the library says it interrupted and what next */
        const sluice_error *err = sluice_last_error(p);
        fprintf(stderr, "sluice: %s: ", signal_name(run_signal));
        cli_write_one_line(stderr, err->message);
        fputc('\n', stderr);
        if (a.json) {
            fputs("{\"status\":\"interrupted\",\"signal\":", stdout);
            cli_json_write_cstr(stdout, signal_name(run_signal));
            fputs(",\"message\":", stdout);
            cli_json_write_cstr(stdout, err->message);
            fputs("}\n", stdout);
        }
        rc = 128 + run_signal;
        goto done;
    }
    if (st != SLUICE_OK) {
        rc = cli_report_error(p, st, a.json);
        if (run_signal != 0)
            rc = 128 + run_signal;
        goto done;
    }
    if (a.dry_run)
        rc = print_dry_run(p, a.json);
    else if (a.json)
        print_json(p, &info);
    else
        print_summary(p, &info);
    rc = CLI_EXIT_OK;
    if (run_signal != 0) {
        /* too late to stop anything: everything was committed */
        fprintf(stderr, "sluice: %s: received after the run's last commit: everything above "
                        "was loaded\n",
                signal_name(run_signal));
        rc = 128 + run_signal;
    }

done:
    sluice_pipeline_close(p); /* may still log: the display is freed after it */
    cli_progress_finish(pr);
    cli_progress_free(pr);
    if (initialized)
        sluice_global_cleanup();
    free(a.resources);
    return rc;
}
