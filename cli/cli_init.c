/*
 * cli_init.c — `sluice init NAME [--source KIND] [--destination TYPE]`: write a commented
 * starter pipeline that runs as it is, as `dlt init` does for dlt.
 *
 * It writes NAME.yaml in the current folder, plus what its source reads so that the first
 * `sluice run NAME.yaml` loads something:
 *   file     NAME_data/items-1.jsonl, three items
 *   command  NAME_items.sh, a script printing JSON lines (it shows the cursor it gets)
 *   singer   NAME_tap.sh, a fake Singer tap (SCHEMA, RECORD, STATE; reads --state FILE)
 *   rest_api nothing more: PokeAPI (https://pokeapi.co), public and keyless, as dlt's own
 *            rest_api starter; SOURCES__NAME__REST_API__CLIENT__BASE_URL points it at another
 *            server of the same shape (the cases use the mock REST API)
 * and prints what it wrote and the command to run. Destinations: sqlite (a file beside the
 * config), postgres (the dsn from the environment variable PG_DSN), duckdb (a file beside the
 * config; written even when this build lacks the destination: the run then says how to get
 * it, and init says so too). Nothing is overwritten: an existing file is a usage error naming
 * it. NAME must be a plain identifier (it names files, the pipeline, the dataset and the
 * source).
 *
 * The templates are text with "NAME" replaced by the name (only where it stands alone as a
 * word, so PG_DSN stays as it is) and "UPNAME" by the name in capitals.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char init_usage[] =
    "usage: sluice init NAME [--source file|command|singer|rest_api]\n"
    "                        [--destination sqlite|postgres|duckdb]\n"
    "\n"
    "Write NAME.yaml, a commented starter pipeline that runs as it is, and the sample data or\n"
    "script its source reads, in the current folder. Nothing is overwritten.\n"
    "\n"
    "options:\n"
    "  --source KIND                 file (default): JSON lines files matching a glob\n"
    "                                command: a program printing JSON lines\n"
    "                                singer: a Singer tap (SCHEMA/RECORD/STATE messages)\n"
    "                                rest_api: a REST API (PokeAPI, public, no key)\n"
    "  --destination TYPE            sqlite (default), postgres (dsn from $PG_DSN), duckdb\n"
    "  -h, --help                    show this help\n";

/* ==== templates =========================================================================== */

static const char head[] =
    "# NAME: a sluice pipeline written by `sluice init`. Run it, then look at what it loaded:\n"
    "#   sluice run NAME.yaml\n";

/* the head's query line names a table the source loads */
static const char head_query_items[] =
    "#   sluice pipeline NAME query \"SELECT * FROM items\"\n";

static const char head_query_pokemon[] =
    "#   sluice pipeline NAME query \"SELECT * FROM pokemon\"\n";

static const char head_tail[] =
    "#   sluice pipeline NAME trace\n"
    "# The README's config reference explains every key.\n"
    "pipeline: NAME\n";

static const char dest_sqlite[] =
    "destination:\n"
    "  type: sqlite\n"
    "  path: NAME.db              # relative to this file; the dataset is a second file beside it\n"
    "dataset: NAME_data\n";

static const char dest_postgres[] =
    "destination:\n"
    "  type: postgres\n"
    "  # a libpq connection string, read from the environment when the pipeline runs (keep\n"
    "  # passwords out of this file): export PG_DSN=postgresql://user:password@host:5432/db\n"
    "  dsn: \"${PG_DSN}\"\n"
    "dataset: NAME_data             # a schema in that database\n";

static const char dest_duckdb[] =
    "destination:\n"
    "  type: duckdb\n"
    "  path: NAME.duckdb          # relative to this file\n"
    "dataset: NAME_data\n";

static const char src_file[] =
    "sources:\n"
    "  NAME:\n"
    "    resources:\n"
    "      items:\n"
    "        # JSON lines (or JSON arrays; .gz too) from the files matching a glob\n"
    "        from: {file: \"NAME_data/*.jsonl\"}\n"
    "        write_disposition: merge     # append (default) | replace | merge\n"
    "        primary_key: id              # merge: an item with a known id replaces its row\n"
    "        incremental:                 # load only items changed since the last run\n"
    "          cursor_path: updated_at\n"
    "          initial_value: \"2024-01-01T00:00:00Z\"\n";

static const char src_command[] =
    "sources:\n"
    "  NAME:\n"
    "    resources:\n"
    "      items:\n"
    "        # a program printing JSON on stdout (an object is an item, an array a page), run\n"
    "        # with sh in this folder; what it prints on stderr shows as [items] lines\n"
    "        from: {command: \"sh NAME_items.sh\"}\n"
    "        write_disposition: merge     # append (default) | replace | merge\n"
    "        primary_key: id              # merge: an item with a known id replaces its row\n"
    "        incremental:                 # the program gets the cursor in $SLUICE_LAST_VALUE\n"
    "          cursor_path: updated_at\n"
    "          initial_value: \"2024-01-01T00:00:00Z\"\n";

static const char src_singer[] =
    "sources:\n"
    "  NAME:\n"
    "    resources:\n"
    "      NAME_tap:\n"
    "        # a Singer tap: each stream becomes a table, its key_properties the primary key and\n"
    "        # its bookmark_properties the cursor; its last STATE is committed with the data and\n"
    "        # handed back as ` --state FILE` on the next run, as Meltano does. Replace the\n"
    "        # command with a real tap, e.g. \"tap-csv --config tap-csv.json\".\n"
    "        from: {command: \"sh NAME_tap.sh\", format: singer}\n"
    "        write_disposition: merge     # upsert on each stream's key_properties\n";

static const char src_rest_api[] =
    "sources:\n"
    "  NAME:\n"
    "    rest_api:                        # dlt's declarative REST API config\n"
    "      client:\n"
    "        # PokeAPI: public, no key. Another server of the same shape (a staging API, a\n"
    "        # local mock) without editing this file:\n"
    "        #   SOURCES__UPNAME__REST_API__CLIENT__BASE_URL=http://localhost:8000/ sluice run NAME.yaml\n"
    "        base_url: https://pokeapi.co/api/v2/\n"
    "        # an API that wants a key: auth: {type: bearer, token: \"${MY_API_TOKEN}\"}\n"
    "        # (or api_key, http_basic, oauth2_client_credentials). No paginator given: it is\n"
    "        # detected from the first response (here the \"next\" link of each page).\n"
    "      resource_defaults:             # merged into every resource\n"
    "        primary_key: name\n"
    "        write_disposition: merge     # a second run updates rows, never adds them twice\n"
    "        endpoint:\n"
    "          params: {limit: 1000}      # items per page\n"
    "      resources:                     # each one GET base_url + path, a table of its own\n"
    "        - pokemon\n"
    "        - berry\n"
    "        # An API that filters by time loads only what changed since the last run: the\n"
    "        # cursor's value goes into a param and is committed with the data. E.g.:\n"
    "        # - name: issues\n"
    "        #   primary_key: id\n"
    "        #   endpoint:\n"
    "        #     path: issues\n"
    "        #     params: {since: \"{incremental.start_value}\"}\n"
    "        #     incremental: {cursor_path: updated_at, initial_value: \"2024-01-01T00:00:00Z\"}\n";

static const char data_file[] =
    "{\"id\": 1, \"name\": \"first\", \"updated_at\": \"2024-01-01T10:00:00Z\", \"tags\": [\"a\"]}\n"
    "{\"id\": 2, \"name\": \"second\", \"updated_at\": \"2024-01-02T10:00:00Z\", \"tags\": []}\n"
    "{\"id\": 3, \"name\": \"third\", \"updated_at\": \"2024-01-03T10:00:00Z\", \"tags\": [\"a\", "
    "\"b\"]}\n";

static const char command_script[] =
    "# NAME_items.sh: the source of resource `items` in NAME.yaml. Print one JSON object per\n"
    "# line on stdout. $SLUICE_LAST_VALUE is the newest updated_at loaded so far (unset on the\n"
    "# first run): a real source asks its API for what changed since; printing older items is\n"
    "# harmless, sluice drops them.\n"
    "echo \"fetching items changed since ${SLUICE_LAST_VALUE:-the beginning}\" >&2\n"
    "echo '{\"id\": 1, \"name\": \"first\", \"updated_at\": \"2024-01-01T10:00:00Z\"}'\n"
    "echo '{\"id\": 2, \"name\": \"second\", \"updated_at\": \"2024-01-02T10:00:00Z\"}'\n"
    "echo '[{\"id\": 3, \"name\": \"third\", \"updated_at\": \"2024-01-03T10:00:00Z\"}]'\n";

static const char singer_script[] =
    "# NAME_tap.sh: a stand-in for a Singer tap, for resource NAME_tap in NAME.yaml. A tap\n"
    "# gets `--config FILE` (from the command) and, from the second run on, `--state FILE`\n"
    "# with the last STATE message it sent.\n"
    "state=\n"
    "while [ $# -gt 0 ]; do\n"
    "    case \"$1\" in\n"
    "        --state) state=$2; shift 2 ;;\n"
    "        *) shift ;;\n"
    "    esac\n"
    "done\n"
    "if [ -n \"$state\" ]; then echo \"resuming from $(cat \"$state\")\" >&2; fi\n"
    "echo '{\"type\": \"SCHEMA\", \"stream\": \"items\", \"schema\": {\"type\": \"object\", "
    "\"properties\": {\"id\": {\"type\": \"integer\"}, \"name\": {\"type\": \"string\"}, "
    "\"updated_at\": {\"type\": \"string\", \"format\": \"date-time\"}}}, \"key_properties\": "
    "[\"id\"], \"bookmark_properties\": [\"updated_at\"]}'\n"
    "echo '{\"type\": \"RECORD\", \"stream\": \"items\", \"record\": {\"id\": 1, \"name\": "
    "\"first\", \"updated_at\": \"2024-01-01T10:00:00Z\"}}'\n"
    "echo '{\"type\": \"RECORD\", \"stream\": \"items\", \"record\": {\"id\": 2, \"name\": "
    "\"second\", \"updated_at\": \"2024-01-02T10:00:00Z\"}}'\n"
    "echo '{\"type\": \"STATE\", \"value\": {\"bookmarks\": {\"items\": {\"replication_key_value\": "
    "\"2024-01-02T10:00:00Z\"}}}}'\n";

/* ==== writing ============================================================================= */

static int ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_';
}

/* text with each "NAME" that is a word of its own replaced by name, and "UPNAME" by name in
 * capitals (an environment variable's part). */
static void put_template(FILE *f, const char *text, const char *name)
{
    for (const char *c = text; *c != '\0'; c++) {
        if (strncmp(c, "UPNAME", 6) == 0) {
            for (const char *n = name; *n != '\0'; n++)
                fputc(*n >= 'a' && *n <= 'z' ? *n - 'a' + 'A' : *n, f);
            c += 5;
            continue;
        }
        if (strncmp(c, "NAME", 4) == 0 && (c == text || !ident_char(c[-1]) || c[-1] == '_') &&
            (!ident_char(c[4]) || c[4] == '_')) {
            fputs(name, f);
            c += 3;
            continue;
        }
        fputc(*c, f);
    }
}

/* Create path (never over an existing file) with the templates. 0 ok, else an exit status. */
static int write_new(const char *path, const char *const *parts, const char *name, int mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    FILE *f;
    int failed;

    if (fd < 0) {
        if (errno == EEXIST)
            return cli_usage_error("init", "'%s' exists already: remove it or choose another "
                                           "NAME (init overwrites nothing)", path);
        fprintf(stderr, "sluice: error: IO: cannot create '%s': %s\n", path, strerror(errno));
        return CLI_EXIT_FAILED;
    }
    f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        fprintf(stderr, "sluice: error: IO: cannot write '%s': %s\n", path, strerror(errno));
        return CLI_EXIT_FAILED;
    }
    for (size_t i = 0; parts[i] != NULL; i++)
        put_template(f, parts[i], name);
    failed = ferror(f);
    if (fclose(f) != 0 || failed) {
        fprintf(stderr, "sluice: error: IO: cannot write '%s'\n", path);
        return CLI_EXIT_FAILED;
    }
    return CLI_EXIT_OK;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* ==== command ============================================================================= */

enum { OPT_SOURCE = 1, OPT_DESTINATION, OPT_HELP };

static const struct cli_opt init_opts[] = {
    { "source", 0, 1, OPT_SOURCE },
    { "destination", 0, 1, OPT_DESTINATION },
    { "help", 'h', 0, OPT_HELP },
    { NULL, 0, 0, 0 },
};

static int valid_name(const char *s)
{
    if (s[0] == '\0' || strlen(s) > 64 || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (const char *c = s; *c != '\0'; c++)
        if (!ident_char(*c))
            return 0;
    return 1;
}

int cli_init_main(int argc, char **argv)
{
    struct cli_parser ps;
    enum cli_arg_kind kind;
    const char *value;
    const char *name = NULL;
    const char *source = "file";
    const char *dest = "sqlite";
    const char *dest_text;
    const char *src_text;
    const char *extra_path_fmt = NULL; /* the source's second file */
    const char *extra_text = NULL;
    const char *query_text = head_query_items;
    char config[128];
    char extra[160];
    int id = 0;
    int rc;

    cli_parser_init(&ps, argc, argv, "init");
    for (;;) {
        kind = cli_parser_next(&ps, init_opts, &id, &value);
        if (kind == CLI_ARG_END)
            break;
        if (kind == CLI_ARG_ERR)
            return CLI_EXIT_USAGE;
        if (kind == CLI_ARG_POS) {
            if (name != NULL)
                return cli_usage_error("init", "unexpected argument '%s'", value);
            name = value;
        } else if (id == OPT_SOURCE) {
            source = value;
        } else if (id == OPT_DESTINATION) {
            dest = value;
        } else {
            fputs(init_usage, stdout);
            return CLI_EXIT_OK;
        }
    }
    if (name == NULL)
        return cli_usage_error("init", "missing NAME (the pipeline's name)");
    if (!valid_name(name))
        return cli_usage_error("init", "NAME '%s' must be letters, digits and _ (not starting "
                                       "with a digit, at most 64): it names files, the "
                                       "pipeline and its dataset", name);

    if (strcmp(source, "file") == 0) {
        src_text = src_file;
        extra_path_fmt = "%s_data/items-1.jsonl";
        extra_text = data_file;
    } else if (strcmp(source, "command") == 0) {
        src_text = src_command;
        extra_path_fmt = "%s_items.sh";
        extra_text = command_script;
    } else if (strcmp(source, "singer") == 0) {
        src_text = src_singer;
        extra_path_fmt = "%s_tap.sh";
        extra_text = singer_script;
    } else if (strcmp(source, "rest_api") == 0) {
        src_text = src_rest_api;
        query_text = head_query_pokemon;
    } else {
        return cli_usage_error("init", "--source must be file, command, singer or rest_api, "
                                       "not '%s'", source);
    }
    if (strcmp(dest, "sqlite") == 0) {
        dest_text = dest_sqlite;
    } else if (strcmp(dest, "postgres") == 0) {
        dest_text = dest_postgres;
    } else if (strcmp(dest, "duckdb") == 0) {
        dest_text = dest_duckdb; /* written even when this build lacks it: the run says why */
    } else {
        return cli_usage_error("init", "--destination must be sqlite, postgres or duckdb, not "
                                       "'%s'", dest);
    }
    snprintf(config, sizeof(config), "%s.yaml", name);
    if (extra_path_fmt != NULL)
        snprintf(extra, sizeof(extra), extra_path_fmt, name);
    else
        extra[0] = '\0';
    /* both checked first: nothing is half-written when one exists */
    if (exists(config))
        return cli_usage_error("init", "'%s' exists already: remove it or choose another NAME "
                                       "(init overwrites nothing)", config);
    if (extra[0] != '\0' && exists(extra))
        return cli_usage_error("init", "'%s' exists already: remove it or choose another NAME "
                                       "(init overwrites nothing)", extra);
    if (strcmp(source, "file") == 0) {
        char dir[96];
        snprintf(dir, sizeof(dir), "%s_data", name);
        if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "sluice: error: IO: cannot create folder '%s': %s\n", dir,
                    strerror(errno));
            return CLI_EXIT_FAILED;
        }
    }
    if (extra[0] != '\0') {
        const char *extra_parts[] = { extra_text, NULL };
        rc = write_new(extra, extra_parts, name, strcmp(source, "file") == 0 ? 0666 : 0777);
        if (rc != CLI_EXIT_OK)
            return rc;
    }
    {
        const char *parts[] = { head, query_text, head_tail, dest_text, src_text, NULL };
        rc = write_new(config, parts, name, 0666);
        if (rc != CLI_EXIT_OK)
            return rc;
    }
    printf("Wrote %s (%s source, %s destination)", config, source, dest);
    if (extra[0] != '\0')
        printf(" and %s", extra);
    fputs(".\n", stdout);
    if (!sluice_destination_available(dest))
        printf("This build of sluice has no %s destination: the run will fail saying so (and "
               "how to get it).\n", dest);
    if (strcmp(dest, "postgres") == 0)
        fputs("Set PG_DSN to a PostgreSQL connection string, then run it:\n", stdout);
    else if (strcmp(source, "rest_api") == 0)
        fputs("Run it (it asks https://pokeapi.co/api/v2/ for its data):\n", stdout);
    else
        fputs("Run it:\n", stdout);
    printf("  sluice run %s\n", config);
    return CLI_EXIT_OK;
}
