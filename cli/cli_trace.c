/*
 * cli_trace.c — `sluice pipeline NAME trace [--json]`: the last run, as dlt's `dlt pipeline
 * NAME trace` shows it.
 *
 * The library keeps the trace of the last run in the working dir (sluice_pipeline_trace_json).
 * With --json it is printed as it is, on one line. Otherwise, for people:
 *
 *   Run 1733570000.123456 of pipeline events started at 2024-12-07T12:53:20.123456Z and
 *   COMPLETED in 0.12 s with 3 steps.
 *   Log: /home/u/.sluice/pipelines/events/logs/run-1733570000.123456.log
 *
 *   Step extract COMPLETED in 0.03 s (load id 1733570000.124000)
 *     events: 2 items (4 read), cursor updated_at from "2024-01-01" to "2024-01-03"
 *
 *   Step normalize COMPLETED in 0.00 s (load id 1733570000.124000), normalized while
 *   extracting
 *     events: 2 rows
 *
 *   Step load COMPLETED in 0.05 s (load id 1733570000.124000)
 *     events: 2 rows: 1 inserted, 1 updated
 *
 *   Net effect: events 1 inserted, 1 updated
 *
 * A failed run ends with its error (class, message, resource, item, field). A step of a
 * package left by an earlier run says so. Missing keys are skipped, not an error.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str_or(const struct cli_json *v, const char *fallback)
{
    const char *s = cli_json_string(v);
    return s != NULL ? s : fallback;
}

static int is_true(const struct cli_json *v)
{
    return v != NULL && v->type == CLI_JSON_TRUE;
}

static void upper(const char *s)
{
    for (; s != NULL && *s != '\0'; s++)
        fputc(*s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s, stdout);
}

int cli_write_effect(FILE *f, const struct cli_json *t, const char *lead)
{
    static const char *const words[] = { "inserted", "updated", "deleted" };
    int64_t v[3] = { 0, 0, 0 };
    int any = 0;

    for (int i = 0; i < 3; i++) {
        if (!cli_json_int(cli_json_get(t, words[i]), &v[i]))
            return 0;
    }
    fputs(lead, f);
    for (int i = 0; i < 3; i++) {
        if (v[i] == 0)
            continue;
        fprintf(f, "%s%lld %s", any ? ", " : "", (long long)v[i], words[i]);
        any = 1;
    }
    if (!any)
        fputs("no change", f);
    return 1;
}

static void print_resources(const struct cli_json *resources)
{
    for (const struct cli_json *r = resources != NULL ? resources->child : NULL; r; r = r->next) {
        int64_t items = 0;
        int64_t read = 0;
        const struct cli_json *inc = cli_json_get(r, "incremental");

        fputs("  ", stdout);
        cli_write_one_line(stdout, str_or(cli_json_get(r, "name"), "?"));
        cli_json_int(cli_json_get(r, "items"), &items);
        printf(": %lld %s", (long long)items, items == 1 ? "item" : "items");
        if (cli_json_int(cli_json_get(r, "items_read"), &read) && read != items)
            printf(" (%lld read)", (long long)read);
        if (inc != NULL) {
            const struct cli_json *end = cli_json_get(inc, "end_value");
            fputs(", cursor ", stdout);
            cli_write_one_line(stdout, str_or(cli_json_get(inc, "cursor_path"), "?"));
            fputs(" from ", stdout);
            cli_json_write_value(stdout, cli_json_get(inc, "start_value"));
            fputs(" to ", stdout);
            cli_json_write_value(stdout, cli_json_get(inc, "last_value"));
            if (end != NULL && end->type != CLI_JSON_NULL) {
                fputs(" (backfill, end ", stdout);
                cli_json_write_value(stdout, end);
                fputc(')', stdout);
            }
        }
        fputc('\n', stdout);
    }
}

static void print_tables(const struct cli_json *tables, int with_effect)
{
    for (const struct cli_json *t = tables != NULL ? tables->child : NULL; t; t = t->next) {
        int64_t rows = 0;
        fputs("  ", stdout);
        cli_write_one_line(stdout, str_or(cli_json_get(t, "name"), "?"));
        cli_json_int(cli_json_get(t, "rows"), &rows);
        printf(": %lld %s", (long long)rows, rows == 1 ? "row" : "rows");
        if (with_effect)
            cli_write_effect(stdout, t, ": ");
        fputc('\n', stdout);
    }
}

static void print_step(const struct cli_json *st)
{
    const char *name = str_or(cli_json_get(st, "step"), "?");
    const char *load_id = cli_json_string(cli_json_get(st, "load_id"));
    const char *note = cli_json_string(cli_json_get(st, "note"));
    const struct cli_json *elapsed = cli_json_get(st, "elapsed");

    fputs("\nStep ", stdout);
    cli_write_one_line(stdout, name);
    fputc(' ', stdout);
    upper(str_or(cli_json_get(st, "status"), "unfinished"));
    if (elapsed != NULL && elapsed->type == CLI_JSON_NUMBER)
        printf(" in %.2f s", strtod(elapsed->text, NULL));
    if (load_id != NULL) {
        fputs(" (load id ", stdout);
        cli_write_one_line(stdout, load_id);
        if (is_true(cli_json_get(st, "pending")))
            fputs(", a package left by an earlier run", stdout);
        fputc(')', stdout);
    }
    if (note != NULL) {
        fputs(", ", stdout);
        cli_write_one_line(stdout, note);
    }
    fputc('\n', stdout);
    print_resources(cli_json_get(st, "resources"));
    print_tables(cli_json_get(st, "tables"), strcmp(name, "load") == 0);
}

static void print_error(const struct cli_json *err)
{
    const char *resource = cli_json_string(cli_json_get(err, "resource"));
    const char *field = cli_json_string(cli_json_get(err, "field"));
    int64_t item = -1;

    fputs("\nError: ", stdout);
    cli_write_one_line(stdout, str_or(cli_json_get(err, "code"), "ERROR"));
    fputs(": ", stdout);
    cli_write_one_line(stdout, str_or(cli_json_get(err, "message"), ""));
    cli_json_int(cli_json_get(err, "item"), &item);
    cli_write_error_place(stdout, resource, item, field);
    fputc('\n', stdout);
}

static void print_trace(const struct cli_json *tr)
{
    const struct cli_json *steps = cli_json_get(tr, "steps");
    const struct cli_json *tables = cli_json_get(tr, "tables");
    const struct cli_json *err = cli_json_get(tr, "error");
    const struct cli_json *elapsed = cli_json_get(tr, "elapsed");
    const char *log = cli_json_string(cli_json_get(tr, "log_file"));
    size_t n_steps = steps != NULL ? steps->n_children : 0;

    fputs(is_true(cli_json_get(tr, "dry_run")) ? "Dry run " : "Run ", stdout);
    cli_write_one_line(stdout, str_or(cli_json_get(tr, "run_id"), "?"));
    fputs(" of pipeline ", stdout);
    cli_write_one_line(stdout, str_or(cli_json_get(tr, "pipeline_name"), "?"));
    fputs(" started at ", stdout);
    cli_write_one_line(stdout, str_or(cli_json_get(tr, "started_at"), "?"));
    fputs(" and ", stdout);
    upper(str_or(cli_json_get(tr, "status"), "did not finish"));
    if (elapsed != NULL && elapsed->type == CLI_JSON_NUMBER)
        printf(" in %.2f s", strtod(elapsed->text, NULL));
    printf(" with %zu %s.\n", n_steps, n_steps == 1 ? "step" : "steps");
    if (log != NULL) {
        fputs("Log: ", stdout);
        cli_write_one_line(stdout, log);
        fputc('\n', stdout);
    }
    for (const struct cli_json *st = steps != NULL ? steps->child : NULL; st; st = st->next)
        print_step(st);
    if (tables != NULL && tables->child != NULL) {
        fputs("\nNet effect of the run:\n", stdout);
        print_tables(tables, 1);
    }
    if (err != NULL && err->type == CLI_JSON_OBJECT)
        print_error(err);
}

static void render_trace(const struct cli_json *doc, const void *ctx)
{
    (void)ctx;
    print_trace(doc);
}

int cli_trace(sluice_pipeline *p, const struct cli_pipeline_args *a)
{
    static const struct cli_doc_spec spec = { "trace", sluice_pipeline_trace_json,
                                              CLI_JSON_OBJECT, NULL };
    struct cli_doc_out out = { a->json, 0, a->json };
    return cli_doc_show(p, &spec, out, render_trace, NULL);
}
