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
 * needed; its pipeline name must be NAME), and the subcommand runs: info, query, trace and
 * schema live in their own files; the small ones are here:
 *   drop     lists what it will drop (tables with their rows, state keys) and asks; --yes
 *            skips the question, and without --yes a stdin that is not a terminal is a usage
 *            error (nothing is dropped by a script that did not say so). Then
 *            `Dropped the tables and state of resource 'R' from pipeline NAME.`
 *   sync     `Synced pipeline NAME: local state and schema restored from the destination.`
 *   pending  one line per package, `<load_id> <stage>`, or `No pending packages.`
 *   loads    the dataset's _dlt_loads, newest first, status as a word, then pending packages
 * The handle is closed on every path.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    "  drop --resource NAME... [--yes]\n"
    "                                drop the tables and state of resources (asks first)\n"
    "  sync [--config CONFIG]        restore local state and schema from the destination\n"
    "  pending                       list load packages not yet loaded\n"
    "  trace [--json]                the last run: steps, timings, rows, errors, log file\n"
    "  loads [--limit N] [--json]    recent loads from _dlt_loads\n"
    "  schema [--format yaml|json]   the schema stored in the destination\n"
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
    "usage: sluice pipeline NAME query SQL [--format table|csv|json] [--wide]\n"
    "\n"
    "Run SQL against the pipeline's destination, with the dataset as the default schema\n"
    "(unqualified table names are the dataset's).\n"
    "\n"
    "options:\n"
    "  --format table                aligned columns with a header (default); NULL is empty;\n"
    "                                wide cells cut to fit the terminal\n"
    "  --format csv                  header line then rows, RFC 4180 quoting; NULL is empty\n"
    "  --format json                 an array of objects; numbers, booleans and json columns\n"
    "                                keep their types, NULL is null\n"
    "  --wide                        table: never cut cells to fit the terminal\n"
    "  -h, --help                    show this help\n"
    "\n"
    "exit status: 0 success, 1 the SQL failed, 2 bad usage or unknown pipeline.\n";

static const char drop_usage[] =
    "usage: sluice pipeline NAME drop --resource NAME [--resource NAME]... [--yes]\n"
    "\n"
    "Drop the tables and the state (incremental cursors included) of the named resources, in\n"
    "one transaction. Their next run loads from the initial value again. Lists what will be\n"
    "dropped and asks first; without --yes, stdin must be a terminal.\n"
    "\n"
    "options:\n"
    "  --resource NAME               a resource to drop (repeatable, at least one)\n"
    "  -y, --yes                     drop without asking\n"
    "  -h, --help                    show this help\n";

static const char trace_usage[] =
    "usage: sluice pipeline NAME trace [--json]\n"
    "\n"
    "Show the last run of the pipeline on this machine: its steps (extract, normalize, load)\n"
    "with load ids, timings, items per resource and cursor range, rows and their net effect\n"
    "(inserted, updated, deleted) per table, its error, and its log file.\n"
    "\n"
    "options:\n"
    "  --json                        print the trace as one JSON object\n"
    "  -h, --help                    show this help\n";

static const char loads_usage[] =
    "usage: sluice pipeline NAME loads [--limit N] [--json]\n"
    "\n"
    "List the loads recorded in the dataset's _dlt_loads table, newest first (load id,\n"
    "status, time, schema), then the packages not loaded yet.\n"
    "\n"
    "options:\n"
    "  --limit N                     at most N loads (default 20)\n"
    "  --json                        print them as one JSON object\n"
    "  -h, --help                    show this help\n";

static const char schema_usage[] =
    "usage: sluice pipeline NAME schema [--format yaml|json]\n"
    "\n"
    "Show the pipeline's schema as its destination stores it (the newest version in\n"
    "_dlt_version): tables, columns with data types and hints (primary_key, merge_key, ...),\n"
    "write disposition, resource, and parent of child tables.\n"
    "\n"
    "options:\n"
    "  --format yaml                 YAML, as dlt shows schemas (default)\n"
    "  --format json                 the stored JSON document\n"
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
    OPT_LIMIT,
    OPT_YES,
    OPT_WIDE,
    OPT_HELP /* last: the loop over options a subcommand may take stops before it */
};

static const struct cli_opt pipeline_opts[] = {
    { "resource", 0, 1, OPT_RESOURCE },
    { "format", 0, 1, OPT_FORMAT },
    { "verbose", 'v', 0, OPT_VERBOSE },
    { "json", 0, 0, OPT_JSON },
    { "config", 0, 1, OPT_CONFIG },
    { "limit", 0, 1, OPT_LIMIT },
    { "yes", 'y', 0, OPT_YES },
    { "wide", 0, 0, OPT_WIDE },
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
    { "query", "pipeline NAME query", query_usage, SEEN(OPT_FORMAT) | SEEN(OPT_WIDE), 1 },
    { "drop", "pipeline NAME drop", drop_usage, SEEN(OPT_RESOURCE) | SEEN(OPT_YES), 0 },
    { "sync", "pipeline NAME sync", sync_usage, SEEN(OPT_CONFIG), 0 },
    { "pending", "pipeline NAME pending", pending_usage, 0, 0 },
    { "trace", "pipeline NAME trace", trace_usage, SEEN(OPT_JSON), 0 },
    { "loads", "pipeline NAME loads", loads_usage, SEEN(OPT_LIMIT) | SEEN(OPT_JSON), 0 },
    { "schema", "pipeline NAME schema", schema_usage, SEEN(OPT_FORMAT), 0 },
};

#define SUBCOMMAND_NAMES "info, query, drop, sync, pending, trace, loads, schema"

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
        case OPT_RESOURCE: {
            int rc = cli_add_resource(&a->resources, &a->n_resources, argc, value, "pipeline");
            if (rc != CLI_EXIT_OK)
                return rc;
            break;
        }
        case OPT_FORMAT:
            a->format = value; /* checked once the subcommand is known */
            break;
        case OPT_LIMIT: {
            char *end;
            long n = strtol(value, &end, 10);
            if (value[0] == '\0' || *end != '\0' || n < 1 || n > 1000000)
                return cli_usage_error("pipeline", "--limit must be a number from 1 to "
                                                   "1000000, not '%s'", value);
            a->limit = n;
            break;
        }
        case OPT_YES:
            a->yes = 1;
            break;
        case OPT_WIDE:
            a->wide = 1;
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
        return cli_usage_error("pipeline", "missing subcommand after '%s' (" SUBCOMMAND_NAMES
                                           ")", pos[0]);
    if (sub == NULL)
        return cli_usage_error("pipeline", "unknown subcommand '%s' (" SUBCOMMAND_NAMES ")",
                               pos[1]);
    if (pos[0][0] == '\0')
        return cli_usage_error("pipeline", "the pipeline NAME is empty");

    for (int opt = OPT_RESOURCE; opt < OPT_HELP; opt++) {
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

    if (strcmp(sub->name, "query") == 0 && a->format != NULL &&
        strcmp(a->format, "table") != 0 && strcmp(a->format, "csv") != 0 &&
        strcmp(a->format, "json") != 0)
        return cli_usage_error(sub->help_command, "--format must be table, csv or json, not "
                                                  "'%s'", a->format);
    if (a->wide && a->format != NULL && strcmp(a->format, "table") != 0)
        return cli_usage_error(sub->help_command, "--wide is for --format table");
    if (strcmp(sub->name, "schema") == 0 && a->format != NULL &&
        strcmp(a->format, "yaml") != 0 && strcmp(a->format, "json") != 0)
        return cli_usage_error(sub->help_command, "--format must be yaml or json, not '%s'",
                               a->format);

    a->name = pos[0];
    a->sub = sub->name;
    a->sql = sub->n_positionals > 0 ? pos[2] : NULL;
    if (a->format == NULL)
        a->format = strcmp(sub->name, "schema") == 0 ? "yaml" : "table";
    if (a->limit == 0)
        a->limit = 20;
    return CLI_EXIT_OK;
}

/* ==== small subcommands =================================================================== */

static int named(const struct cli_pipeline_args *a, const char *name)
{
    for (size_t i = 0; name != NULL && i < a->n_resources; i++)
        if (strcmp(a->resources[i], name) == 0)
            return 1;
    return 0;
}

/* The keys of a resource's state, with the incremental cursors' last values. */
static void print_state_keys(const struct cli_json *rstate)
{
    const char *sep = "";
    for (const struct cli_json *k = rstate->child; k; k = k->next) {
        fputs(sep, stdout);
        sep = ", ";
        if (strcmp(k->key, "incremental") != 0 || k->type != CLI_JSON_OBJECT) {
            cli_write_one_line(stdout, k->key);
            continue;
        }
        for (const struct cli_json *c = k->child; c; c = c->next) {
            const struct cli_json *last = cli_json_get(c, "last_value");
            fputs(c == k->child ? "cursor " : ", cursor ", stdout);
            cli_write_one_line(stdout, c->key);
            if (last != NULL) {
                fputs(" (last value ", stdout);
                cli_json_write(stdout, last, 0);
                fputc(')', stdout);
            }
        }
    }
}

/*
 * What drop will do, from the pipeline's info: the tables of the resources with their rows,
 * and their state. Returns the number of tables found, or -1 when the info is unreadable
 * (reported).
 */
static int print_drop_plan(sluice_pipeline *p, const struct cli_pipeline_args *a)
{
    static const struct cli_doc_spec spec = { "pipeline info", sluice_pipeline_info_json,
                                              CLI_JSON_OBJECT, NULL };
    struct cli_json *doc = NULL;
    int n_tables = 0;

    if (cli_doc_get(p, &spec, 0, &doc) != CLI_EXIT_OK)
        return -1;
    fputs("Pipeline ", stdout);
    cli_write_one_line(stdout, a->name);
    fputs(": drop, in one transaction,\n", stdout);
    const struct cli_json *tables = cli_json_get(doc, "tables");
    for (size_t i = 0; i < a->n_resources; i++) {
        int64_t rows_sum = 0;
        int found = 0;
        fputs("  the tables of resource '", stdout);
        cli_write_one_line(stdout, a->resources[i]);
        fputs("':", stdout);
        for (const struct cli_json *t = tables != NULL ? tables->child : NULL; t; t = t->next) {
            int64_t rows = 0;
            if (strcmp(cli_json_string(cli_json_get(t, "resource")) != NULL
                           ? cli_json_string(cli_json_get(t, "resource"))
                           : "",
                       a->resources[i]) != 0)
                continue;
            fputs(found ? ", " : " ", stdout);
            cli_write_one_line(stdout, cli_json_string(cli_json_get(t, "name")));
            if (cli_json_int(cli_json_get(t, "rows"), &rows))
                rows_sum += rows;
            found++;
        }
        if (found)
            printf(" (%lld %s)\n", (long long)rows_sum, rows_sum == 1 ? "row" : "rows");
        else
            fputs(" none\n", stdout);
        n_tables += found;
    }
    /* state: sources.<source>.resources.<name> */
    const struct cli_json *sources = cli_json_get(cli_json_get(doc, "state"), "sources");
    for (const struct cli_json *src = sources != NULL ? sources->child : NULL; src;
         src = src->next) {
        const struct cli_json *res = cli_json_get(src, "resources");
        for (const struct cli_json *r = res != NULL ? res->child : NULL; r; r = r->next) {
            if (!named(a, r->key) || r->type != CLI_JSON_OBJECT)
                continue;
            fputs("  the state of resource '", stdout);
            cli_write_one_line(stdout, r->key);
            fputs("': ", stdout);
            if (r->child == NULL)
                fputs("empty", stdout);
            print_state_keys(r);
            fputc('\n', stdout);
        }
    }
    fputs("Their next run starts from the initial value again.\n", stdout);
    cli_json_free(doc);
    return n_tables;
}

/* 1 when the user answers yes on the terminal; 0 otherwise. */
static int confirm(const char *question)
{
    char line[64];

    fputs(question, stdout);
    fflush(stdout);
    if (fgets(line, sizeof(line), stdin) == NULL)
        return 0;
    return strcmp(line, "y\n") == 0 || strcmp(line, "Y\n") == 0 ||
           strcmp(line, "yes\n") == 0 || strcmp(line, "YES\n") == 0;
}

static int cmd_drop(sluice_pipeline *p, const struct cli_pipeline_args *a)
{
    sluice_status st;

    if (!a->yes && !isatty(STDIN_FILENO))
        return cli_usage_error("pipeline NAME drop",
                               "'drop' asks before it drops anything, and stdin is not a "
                               "terminal: add --yes to drop without asking");
    if (print_drop_plan(p, a) < 0)
        return CLI_EXIT_FAILED;
    if (!a->yes && !confirm("Drop them? [y/N] ")) {
        fputs("Nothing dropped.\n", stdout);
        return CLI_EXIT_FAILED;
    }
    st = sluice_pipeline_drop(p, a->resources);

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

static const struct cli_doc_spec pending_spec = { "pending packages",
                                                  sluice_pipeline_pending_json, CLI_JSON_ARRAY,
                                                  NULL };

static int cmd_pending(sluice_pipeline *p)
{
    struct cli_json *list = NULL;
    int rc = cli_doc_get(p, &pending_spec, 0, &list);

    if (rc != CLI_EXIT_OK)
        return rc;
    if (list->child == NULL)
        fputs("No pending packages.\n", stdout);
    cli_write_packages(list, "", " ");
    cli_json_free(list);
    return CLI_EXIT_OK;
}

/* ==== loads =============================================================================== */

struct loads_out {
    int json;
    int64_t n;
    size_t width;
};

static const char *status_word(const char *code)
{
    /* dlt writes 0 for a completed load; no other value is in use */
    return code != NULL && strcmp(code, "0") == 0 ? "loaded" : NULL;
}

static int on_load_row(void *ctx, int ncols, const char *const *names,
                       const char *const *values)
{
    struct loads_out *lo = ctx;
    const char *word;

    (void)names;
    if (values == NULL || ncols < 5)
        return 0;
    word = status_word(values[2]);
    if (lo->json) {
        fputs(lo->n == 0 ? "{\"load_id\":" : ",{\"load_id\":", stdout);
        cli_json_write_cstr(stdout, values[0]);
        fputs(",\"status\":", stdout);
        cli_json_write_cstr(stdout, word != NULL ? word : "unknown");
        fputs(",\"status_code\":", stdout);
        fputs(values[2] != NULL ? values[2] : "null", stdout);
        fputs(",\"inserted_at\":", stdout);
        cli_json_write_cstr(stdout, values[3]);
        fputs(",\"schema_name\":", stdout);
        cli_json_write_cstr(stdout, values[1]);
        fputs(",\"schema_version_hash\":", stdout);
        cli_json_write_cstr(stdout, values[4]);
        fputc('}', stdout);
    } else {
        fputs("  ", stdout);
        cli_write_one_line(stdout, values[0]);
        fputs("  ", stdout);
        if (word != NULL)
            fputs(word, stdout);
        else
            printf("status %s", values[2] != NULL ? values[2] : "NULL");
        fputs("  ", stdout);
        cli_write_one_line(stdout, values[3]);
        fputs("  schema ", stdout);
        cli_write_one_line(stdout, values[1]);
        fputc('\n', stdout);
    }
    lo->n++;
    return 0;
}

static int cmd_loads(sluice_pipeline *p, const struct cli_pipeline_args *a)
{
    struct loads_out lo;
    char sql[256];
    struct cli_json *pdoc = NULL;
    sluice_status st;
    int rc;

    memset(&lo, 0, sizeof(lo));
    lo.json = a->json;
    rc = cli_doc_get(p, &pending_spec, a->json, &pdoc);
    if (rc != CLI_EXIT_OK)
        return rc;
    snprintf(sql, sizeof(sql),
             "SELECT load_id, schema_name, status, inserted_at, schema_version_hash FROM "
             "_dlt_loads ORDER BY load_id DESC LIMIT %ld",
             a->limit);
    if (a->json) {
        fputs("{\"loads\":[", stdout);
    } else {
        fputs("Loads of pipeline ", stdout);
        cli_write_one_line(stdout, a->name);
        printf(", newest first (at most %ld):\n", a->limit);
    }
    st = sluice_pipeline_query(p, sql, on_load_row, &lo);
    if (st != SLUICE_OK) {
        if (a->json)
            fputs("]}\n", stdout);
        rc = cli_report_error(p, st, 0);
        goto done;
    }
    if (a->json) {
        fputs("],\"pending\":", stdout);
        cli_json_write(stdout, pdoc, 0);
        fputs("}\n", stdout);
        goto done;
    }
    if (lo.n == 0)
        fputs("  none\n", stdout);
    if (pdoc->child != NULL) {
        fputs("Pending packages (the next run loads them first):\n", stdout);
        cli_write_packages(pdoc, "  ", "  ");
    }

done:
    cli_json_free(pdoc);
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
    else if (strcmp(a.sub, "trace") == 0)
        rc = cli_trace(p, &a);
    else if (strcmp(a.sub, "loads") == 0)
        rc = cmd_loads(p, &a);
    else if (strcmp(a.sub, "schema") == 0)
        rc = cli_schema(p, &a);
    else
        rc = cmd_pending(p);

done:
    sluice_pipeline_close(p);
    if (initialized)
        sluice_global_cleanup();
    free(a.resources);
    return rc;
}
