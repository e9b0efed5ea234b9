/*
 * cli_pipelines.c — `sluice pipelines [--json]`: the pipelines that have run on this machine
 * (a working dir under $SLUICE_PIPELINES_DIR, default ~/.sluice/pipelines), as dlt's
 * `dlt pipeline --list-pipelines`:
 *
 *   2 pipelines in /home/u/.sluice/pipelines
 *     events   sqlite /data/events.db, dataset analytics; last run 2024-12-07T12:53:20Z completed in 0.12 s
 *     github   postgres, dataset github; never run here
 *
 * With --json the library's JSON is printed as it is (sluice_pipelines_json).
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char pipelines_usage[] =
    "usage: sluice pipelines [--json]\n"
    "\n"
    "List the pipelines that have a working dir on this machine ($SLUICE_PIPELINES_DIR,\n"
    "default ~/.sluice/pipelines): destination, dataset and last run.\n"
    "\n"
    "options:\n"
    "  --json                        print the list as one JSON object\n"
    "  -h, --help                    show this help\n";

enum { OPT_JSON = 1, OPT_HELP };

static const struct cli_opt pipelines_opts[] = {
    { "json", 0, 0, OPT_JSON },
    { "help", 'h', 0, OPT_HELP },
    { NULL, 0, 0, 0 },
};

static void print_list(const struct cli_json *doc, const void *ctx)
{
    const struct cli_json *list = cli_json_get(doc, "pipelines");
    size_t n = list != NULL ? list->n_children : 0;
    size_t width = 0;

    (void)ctx;
    printf("%zu %s in ", n, n == 1 ? "pipeline" : "pipelines");
    cli_write_one_line(stdout, cli_json_string(cli_json_get(doc, "pipelines_dir")));
    fputc('\n', stdout);
    for (const struct cli_json *p = list != NULL ? list->child : NULL; p; p = p->next) {
        const char *name = cli_json_string(cli_json_get(p, "name"));
        if (name != NULL && strlen(name) > width)
            width = strlen(name);
    }
    if (width > 48)
        width = 48;
    for (const struct cli_json *p = list != NULL ? list->child : NULL; p; p = p->next) {
        const struct cli_json *dest = cli_json_get(p, "destination");
        const struct cli_json *last = cli_json_get(p, "last_run");
        const char *name = cli_json_string(cli_json_get(p, "name"));
        const char *type = cli_json_string(cli_json_get(dest, "type"));
        const char *path = cli_json_string(cli_json_get(dest, "path"));
        const char *dataset = cli_json_string(cli_json_get(p, "dataset_name"));
        size_t len = name != NULL ? strlen(name) : 0;

        fputs("  ", stdout);
        cli_write_one_line(stdout, name);
        for (; len < width + 2; len++)
            fputc(' ', stdout);
        cli_write_one_line(stdout, type != NULL ? type : "?");
        if (path != NULL) {
            fputc(' ', stdout);
            cli_write_one_line(stdout, path);
        }
        if (dataset != NULL) {
            fputs(", dataset ", stdout);
            cli_write_one_line(stdout, dataset);
        }
        if (last != NULL && last->type == CLI_JSON_OBJECT) {
            const struct cli_json *elapsed = cli_json_get(last, "elapsed");
            fputs("; last run ", stdout);
            cli_write_one_line(stdout, cli_json_string(cli_json_get(last, "started_at")));
            fputc(' ', stdout);
            cli_write_one_line(stdout, cli_json_string(cli_json_get(last, "status")));
            if (elapsed != NULL && elapsed->type == CLI_JSON_NUMBER)
                printf(" in %.2f s", strtod(elapsed->text, NULL));
        } else {
            fputs("; no run traced here", stdout);
        }
        fputc('\n', stdout);
    }
}

/* The list needs no pipeline handle. */
static sluice_status fetch_pipelines(sluice_pipeline *p, char **json_out)
{
    (void)p;
    return sluice_pipelines_json(json_out);
}

int cli_pipelines_main(int argc, char **argv)
{
    static const struct cli_doc_spec spec = { "pipelines", fetch_pipelines, CLI_JSON_OBJECT,
                                              "cannot list the pipelines' working dirs" };
    struct cli_parser ps;
    enum cli_arg_kind kind;
    const char *value;
    int id = 0;
    int as_json = 0;

    cli_parser_init(&ps, argc, argv, "pipelines");
    for (;;) {
        kind = cli_parser_next(&ps, pipelines_opts, &id, &value);
        if (kind == CLI_ARG_END)
            break;
        if (kind == CLI_ARG_ERR)
            return CLI_EXIT_USAGE;
        if (kind == CLI_ARG_POS)
            return cli_usage_error("pipelines", "unexpected argument '%s'", value);
        if (id == OPT_HELP) {
            fputs(pipelines_usage, stdout);
            return CLI_EXIT_OK;
        }
        as_json = 1;
    }
    struct cli_doc_out out = { as_json, 0, as_json };
    return cli_doc_show(NULL, &spec, out, print_list, NULL);
}
