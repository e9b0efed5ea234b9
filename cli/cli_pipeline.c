/*
 * cli_pipeline.c — `sluice pipeline NAME <subcommand>`: inspect and manage a pipeline that
 * has run on this machine (its working dir lives under $SLUICE_PIPELINES_DIR).
 *
 * Parsing takes options anywhere after "pipeline" (dlt accepts `pipeline -v NAME info`, so do
 * we): every pipeline option is known to the parser, and once the subcommand is known, an
 * option it does not take is a usage error. The positionals are NAME, the subcommand and, for
 * query, the SQL. `--help` anywhere prints the most specific help that applies and exits 0.
 *
 * After parsing, the pipeline is opened with sluice_pipeline_open_existing() (an unknown name
 * is NOT_FOUND, exit 2), or for `sync --config CONFIG` from the config file (no working dir
 * needed; its pipeline name must be NAME), and the subcommand runs: info and query live in their own files; the
 * small ones are here:
 *   drop     `Dropped the tables and state of resource 'R' from pipeline NAME.`
 *   sync     `Synced pipeline NAME: local state and schema restored from the destination.`
 *   pending  one line per package, `<load_id> <stage>`, or `No pending packages.`
 * The handle is closed on every path.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== help ================================================================================ */

static const char pipeline_usage[] =
    "usage: sluice pipeline NAME <subcommand> [options]\n"
    "\n"
    "Inspect and manage a pipeline that has run here ($SLUICE_PIPELINES_DIR, default\n"
    "~/.sluice/pipelines).\n"
    "\n"
    "subcommands:\n"
    "  info [-v] [--json]            state (incremental cursors), tables, loads, pending\n"
    "  query SQL [--format F]        run SQL against the dataset (table | csv | json)\n"
    "  drop --resource NAME...       drop the tables and state of resources\n"
    "  sync [--config CONFIG]        restore local state and schema from the destination\n"
    "  pending                       list load packages not yet loaded\n"
    "\n"
    "Run 'sluice pipeline NAME <subcommand> --help' for a subcommand's options.\n";

static const char info_usage[] =
    "usage: sluice pipeline NAME info [-v] [--json]\n"
    "\n"
    "Show the pipeline: destination, dataset, tables with row counts, the state of every\n"
    "resource (incremental cursors: initial value, last value, boundary hashes), completed\n"
    "loads and pending packages.\n"
    "\n"
    "options:\n"
    "  -v, --verbose                 also columns, every load, and the full state as JSON\n"
    "  --json                        print the info as one JSON object\n"
    "  -h, --help                    show this help\n";

static const char query_usage[] =
    "usage: sluice pipeline NAME query SQL [--format table|csv|json]\n"
    "\n"
    "Run SQL against the pipeline's destination, with the dataset as the default schema\n"
    "(unqualified table names are the dataset's).\n"
    "\n"
    "options:\n"
    "  --format table                aligned columns with a header (default); NULL is empty\n"
    "  --format csv                  header line then rows, RFC 4180 quoting; NULL is empty\n"
    "  --format json                 an array of objects; values as strings, NULL as null\n"
    "  -h, --help                    show this help\n"
    "\n"
    "exit status: 0 success, 1 the SQL failed, 2 bad usage or unknown pipeline.\n";

static const char drop_usage[] =
    "usage: sluice pipeline NAME drop --resource NAME [--resource NAME]...\n"
    "\n"
    "Drop the tables and the state (incremental cursors included) of the named resources, in\n"
    "one transaction. Their next run loads from the initial value again.\n"
    "\n"
    "options:\n"
    "  --resource NAME               a resource to drop (repeatable, at least one)\n"
    "  -h, --help                    show this help\n";

static const char sync_usage[] =
    "usage: sluice pipeline NAME sync [--config CONFIG]\n"
    "\n"
    "Restore the local state and schema of the pipeline from its destination. With --config,\n"
    "the destination comes from the config file, so a machine without the pipeline's working\n"
    "dir (a new one, or one that lost it) restores it from the destination alone, as\n"
    "`dlt pipeline NAME sync` does; without it, from the working dir of an earlier run.\n"
    "\n"
    "options:\n"
    "  --config CONFIG               the pipeline's config file (its pipeline name must be NAME)\n"
    "  -h, --help                    show this help\n";

static const char pending_usage[] =
    "usage: sluice pipeline NAME pending\n"
    "\n"
    "List the load packages extracted or normalized but not loaded yet, one per line as\n"
    "'<load_id> <stage>'. The next run loads them first.\n"
    "\n"
    "options:\n"
    "  -h, --help                    show this help\n";

/* ==== parsing ============================================================================= */

enum {
    OPT_RESOURCE = 1,
    OPT_FORMAT,
    OPT_VERBOSE,
    OPT_JSON,
    OPT_CONFIG,
    OPT_HELP
};

static const struct cli_opt pipeline_opts[] = {
    { "resource", 0, 1, OPT_RESOURCE },
    { "format", 0, 1, OPT_FORMAT },
    { "verbose", 'v', 0, OPT_VERBOSE },
    { "json", 0, 0, OPT_JSON },
    { "config", 0, 1, OPT_CONFIG },
    { "help", 'h', 0, OPT_HELP },
    { NULL, 0, 0, 0 },
};

#define SEEN(opt) (1u << (opt))

static const struct subcommand {
    const char *name;
    const char *help_command; /* for "see 'sluice ... --help'" */
    const char *usage;
    unsigned allowed;   /* SEEN() bits of the options it takes */
    int n_positionals;  /* after NAME and the subcommand */
} subcommands[] = {
    { "info", "pipeline NAME info", info_usage, SEEN(OPT_VERBOSE) | SEEN(OPT_JSON), 0 },
    { "query", "pipeline NAME query", query_usage, SEEN(OPT_FORMAT), 1 },
    { "drop", "pipeline NAME drop", drop_usage, SEEN(OPT_RESOURCE), 0 },
    { "sync", "pipeline NAME sync", sync_usage, SEEN(OPT_CONFIG), 0 },
    { "pending", "pipeline NAME pending", pending_usage, 0, 0 },
};

static const struct subcommand *find_subcommand(const char *name)
{
    for (size_t i = 0; name != NULL && i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
        if (strcmp(subcommands[i].name, name) == 0)
            return &subcommands[i];
    }
    return NULL;
}

static const char *option_name(int id)
{
    for (const struct cli_opt *o = pipeline_opts; o->name != NULL; o++) {
        if (o->id == id)
            return o->name;
    }
    return "?";
}

/* Returns CLI_EXIT_OK with *help set when help was printed, or an exit status. */
static int parse_args(int argc, char **argv, struct cli_pipeline_args *a, int *help)
{
    const char *pos[4] = { NULL, NULL, NULL, NULL };
    size_t n_pos = 0;
    unsigned seen = 0;
    const struct subcommand *sub;
    struct cli_parser ps;
    enum cli_arg_kind kind;
    const char *value;
    int id = 0;

    cli_parser_init(&ps, argc, argv, "pipeline");
    for (;;) {
        kind = cli_parser_next(&ps, pipeline_opts, &id, &value);
        if (kind == CLI_ARG_END)
            break;
        if (kind == CLI_ARG_ERR)
            return CLI_EXIT_USAGE;
        if (kind == CLI_ARG_POS) {
            if (n_pos == sizeof(pos) / sizeof(pos[0]))
                return cli_usage_error("pipeline", "unexpected argument '%s'", value);
            pos[n_pos++] = value;
            continue;
        }
        seen |= SEEN(id);
        switch (id) {
        case OPT_RESOURCE:
            if (value[0] == '\0')
                return cli_usage_error("pipeline", "--resource needs a non-empty name");
            if (a->resources == NULL) {
                a->resources = calloc((size_t)argc + 1, sizeof(*a->resources));
                if (a->resources == NULL) {
                    fputs("sluice: error: NOMEM: out of memory\n", stderr);
                    return CLI_EXIT_FAILED;
                }
            }
            a->resources[a->n_resources++] = value;
            break;
        case OPT_FORMAT:
            if (strcmp(value, "table") != 0 && strcmp(value, "csv") != 0 &&
                strcmp(value, "json") != 0)
                return cli_usage_error("pipeline", "--format must be table, csv or json, "
                                                   "not '%s'", value);
            a->format = value;
            break;
        case OPT_VERBOSE:
            a->verbose = 1;
            break;
        case OPT_JSON:
            a->json = 1;
            break;
        case OPT_CONFIG:
            if (value[0] == '\0')
                return cli_usage_error("pipeline", "--config needs a file");
            a->config = value;
            break;
        case OPT_HELP:
            break;
        default:
            return cli_usage_error("pipeline", "unhandled option");
        }
    }

    sub = n_pos >= 2 ? find_subcommand(pos[1]) : NULL;
    if (seen & SEEN(OPT_HELP)) {
        fputs(sub != NULL ? sub->usage : pipeline_usage, stdout);
        *help = 1;
        return CLI_EXIT_OK;
    }
    if (n_pos == 0)
        return cli_usage_error("pipeline", "missing pipeline NAME");
    if (n_pos == 1)
        return cli_usage_error("pipeline", "missing subcommand after '%s' (info, query, drop, "
                                           "sync, pending)", pos[0]);
    if (sub == NULL)
        return cli_usage_error("pipeline", "unknown subcommand '%s' (info, query, drop, sync, "
                                           "pending)", pos[1]);
    if (pos[0][0] == '\0')
        return cli_usage_error("pipeline", "the pipeline NAME is empty");

    for (int opt = OPT_RESOURCE; opt <= OPT_CONFIG; opt++) {
        if ((seen & SEEN(opt)) && !(sub->allowed & SEEN(opt)))
            return cli_usage_error(sub->help_command, "'%s' takes no --%s option", sub->name,
                                   option_name(opt));
    }
    if (n_pos < 2 + (size_t)sub->n_positionals)
        return cli_usage_error(sub->help_command, "'query' needs the SQL to run");
    if (n_pos > 2 + (size_t)sub->n_positionals)
        return cli_usage_error(sub->help_command, "unexpected argument '%s'",
                               pos[2 + sub->n_positionals]);
    if (strcmp(sub->name, "drop") == 0 && a->n_resources == 0)
        return cli_usage_error(sub->help_command, "'drop' needs at least one --resource NAME");

    a->name = pos[0];
    a->sub = sub->name;
    a->sql = sub->n_positionals > 0 ? pos[2] : NULL;
    if (a->format == NULL)
        a->format = "table";
    return CLI_EXIT_OK;
}

/* ==== small subcommands =================================================================== */

static int cmd_drop(sluice_pipeline *p, const struct cli_pipeline_args *a)
{
    sluice_status st = sluice_pipeline_drop(p, a->resources);

    if (st != SLUICE_OK)
        return cli_report_error(p, st, 0);
    fputs("Dropped the tables and state of ", stdout);
    fputs(a->n_resources == 1 ? "resource " : "resources ", stdout);
    for (size_t i = 0; i < a->n_resources; i++) {
        if (i > 0)
            fputs(", ", stdout);
        fputc('\'', stdout);
        cli_write_one_line(stdout, a->resources[i]);
        fputc('\'', stdout);
    }
    fputs(" from pipeline ", stdout);
    cli_write_one_line(stdout, a->name);
    fputs(".\n", stdout);
    return CLI_EXIT_OK;
}

static int cmd_sync(sluice_pipeline *p, const struct cli_pipeline_args *a)
{
    sluice_status st = sluice_pipeline_sync(p);

    if (st != SLUICE_OK)
        return cli_report_error(p, st, 0);
    fputs("Synced pipeline ", stdout);
    cli_write_one_line(stdout, a->name);
    fputs(": local state and schema restored from the destination.\n", stdout);
    return CLI_EXIT_OK;
}

/* A string or number member as text, or fallback. */
static const char *scalar_text(const struct cli_json *v, const char *fallback)
{
    if (v != NULL && (v->type == CLI_JSON_STRING || v->type == CLI_JSON_NUMBER))
        return v->text;
    return fallback;
}

static int cmd_pending(sluice_pipeline *p)
{
    char *json = NULL;
    struct cli_json *doc = NULL;
    const struct cli_json *list;
    char err[128];
    sluice_status st;
    int rc = CLI_EXIT_OK;

    st = sluice_pipeline_pending_json(p, &json);
    if (st != SLUICE_OK) {
        rc = cli_report_error(p, st, 0);
        goto done;
    }
    doc = cli_json_parse(json, json != NULL ? strlen(json) : 0, err, sizeof(err));
    list = doc;
    if (list != NULL && list->type == CLI_JSON_OBJECT)
        list = cli_json_get(list, "pending"); /* tolerate {"pending":[...]} */
    if (list == NULL || list->type != CLI_JSON_ARRAY) {
        rc = cli_bad_json("pending packages", doc == NULL ? err : "not an array");
        goto done;
    }
    if (list->child == NULL)
        fputs("No pending packages.\n", stdout);
    for (const struct cli_json *pkg = list->child; pkg != NULL; pkg = pkg->next) {
        cli_write_one_line(stdout, scalar_text(cli_json_get(pkg, "load_id"), "?"));
        fputc(' ', stdout);
        cli_write_one_line(stdout, scalar_text(cli_json_get(pkg, "stage"), "?"));
        fputc('\n', stdout);
    }

done:
    cli_json_free(doc);
    sluice_free(json);
    return rc;
}

/* ==== command ============================================================================= */

/* The library's warnings (a destination behind the working dir, state rows without a load)
 * on stderr; info and debug lines are for `run` only. */
static void on_log(void *ctx, sluice_log_level level, const char *message)
{
    (void)ctx;
    if (level < SLUICE_LOG_WARN)
        return;
    fputs(level == SLUICE_LOG_WARN ? "sluice: warning: " : "sluice: error: ", stderr);
    cli_write_one_line(stderr, message);
    fputc('\n', stderr);
}

int cli_pipeline_main(int argc, char **argv)
{
    struct cli_pipeline_args a;
    sluice_pipeline *p = NULL;
    sluice_status st;
    int help = 0;
    int rc;
    int initialized = 0;

    memset(&a, 0, sizeof(a));
    rc = parse_args(argc, argv, &a, &help);
    if (rc != CLI_EXIT_OK || help)
        goto done;

    st = sluice_global_init();
    if (st != SLUICE_OK) {
        rc = cli_report_error(NULL, st, a.json);
        goto done;
    }
    initialized = 1;

    if (a.config != NULL)
        st = sluice_pipeline_open_config(&p, a.config);
    else
        st = sluice_pipeline_open_existing(&p, a.name);
    if (st != SLUICE_OK) {
        rc = cli_report_error(p, st, a.json);
        goto done;
    }
    if (a.config != NULL && strcmp(sluice_pipeline_name(p), a.name) != 0) {
        rc = cli_usage_error("pipeline NAME sync", "config %s is of pipeline '%s', not '%s'",
                             a.config, sluice_pipeline_name(p), a.name);
        goto done;
    }
    sluice_set_log_cb(p, on_log, NULL);

    if (strcmp(a.sub, "info") == 0)
        rc = cli_info(p, &a);
    else if (strcmp(a.sub, "query") == 0)
        rc = cli_query(p, &a);
    else if (strcmp(a.sub, "drop") == 0)
        rc = cmd_drop(p, &a);
    else if (strcmp(a.sub, "sync") == 0)
        rc = cmd_sync(p, &a);
    else
        rc = cmd_pending(p);

done:
    sluice_pipeline_close(p);
    if (initialized)
        sluice_global_cleanup();
    free(a.resources);
    return rc;
}
