/*
 * cli.c — main() of the `sluice` command: dispatch to a command, the top-level help, the
 * option parser every command uses, and the single place where a library status becomes an
 * exit status and an error report.
 *
 * Exit status contract (DESIGN.md section 3): 0 success, 1 the run failed, 2 bad usage or
 * config. The mapping lives in exit_map[] below and nowhere else; a status the table does not
 * know (one appended to sluice.h later) counts as a failed run.
 *
 * Errors are reported as exactly one line on stderr,
 *   sluice: error: <CLASS>: <message> (resource R, item N, field F)
 * with the location parts present only when the library recorded them. Usage errors use the
 * class USAGE. stdout carries only what a command produces (summaries, query rows, JSON), so
 * it can be piped; a failed write to stdout is itself reported and fails the command.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== exit status ========================================================================= */

static const struct {
    sluice_status status;
    int exit_code;
} exit_map[] = {
    { SLUICE_OK, CLI_EXIT_OK },
    { SLUICE_ERR_NOMEM, CLI_EXIT_FAILED },
    { SLUICE_ERR_INVALID_ARG, CLI_EXIT_USAGE },
    { SLUICE_ERR_INVALID_OPTION, CLI_EXIT_USAGE },
    { SLUICE_ERR_CONFIG, CLI_EXIT_USAGE },
    { SLUICE_ERR_SOURCE, CLI_EXIT_FAILED },
    { SLUICE_ERR_SOURCE_HTTP, CLI_EXIT_FAILED },
    { SLUICE_ERR_DATA_JSON, CLI_EXIT_FAILED },
    { SLUICE_ERR_DATA_SCHEMA, CLI_EXIT_FAILED },
    { SLUICE_ERR_STATE, CLI_EXIT_FAILED },
    { SLUICE_ERR_DEST, CLI_EXIT_FAILED },
    { SLUICE_ERR_IO, CLI_EXIT_FAILED },
    { SLUICE_ERR_INTERRUPTED, CLI_EXIT_FAILED },
    { SLUICE_ERR_INTERNAL, CLI_EXIT_FAILED },
    { SLUICE_ERR_LOCKED, CLI_EXIT_FAILED },
    { SLUICE_ERR_INCREMENTAL, CLI_EXIT_FAILED },
    { SLUICE_ERR_NOT_FOUND, CLI_EXIT_USAGE }, /* unknown pipeline, resource or table */
};

int cli_exit_code(sluice_status rc)
{
    for (size_t i = 0; i < sizeof(exit_map) / sizeof(exit_map[0]); i++) {
        if (exit_map[i].status == rc)
            return exit_map[i].exit_code;
    }
    return CLI_EXIT_FAILED;
}

/* ==== error reporting ===================================================================== */

void cli_write_one_line(FILE *f, const char *s)
{
    if (s == NULL)
        return;
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        fputc(c < 0x20 || c == 0x7f ? ' ' : c, f);
    }
}

void cli_write_error_place(FILE *f, const char *resource, int64_t item, const char *field)
{
    const char *sep = "";

    if (resource == NULL && item < 0 && field == NULL)
        return;
    fputs(" (", f);
    if (resource != NULL) {
        fputs("resource ", f);
        cli_write_one_line(f, resource);
        sep = ", ";
    }
    if (item >= 0) {
        fprintf(f, "%sitem %lld", sep, (long long)item);
        sep = ", ";
    }
    if (field != NULL) {
        fprintf(f, "%sfield ", sep);
        cli_write_one_line(f, field);
    }
    fputc(')', f);
}

static const char *nonempty(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : NULL;
}

static const char *status_name(sluice_status rc)
{
    const char *name = sluice_status_name(rc);
    return name != NULL && name[0] != '\0' ? name : "ERROR";
}

/* The one writer of error reports: the stderr line and, with json, the stdout object. */
static int report(sluice_status rc, const char *message, const char *resource, int64_t item,
                  const char *field, int json)
{
    if (message == NULL)
        message = nonempty(sluice_status_str(rc));
    if (message == NULL)
        message = "unknown error";

    fprintf(stderr, "sluice: error: %s: ", status_name(rc));
    cli_write_one_line(stderr, message);
    cli_write_error_place(stderr, resource, item, field);
    fputc('\n', stderr);

    if (json) {
        fputs("{\"status\":\"error\",\"code\":", stdout);
        cli_json_write_cstr(stdout, status_name(rc));
        fputs(",\"message\":", stdout);
        cli_json_write_cstr(stdout, message);
        fputs(",\"resource\":", stdout);
        cli_json_write_cstr(stdout, resource);
        if (item >= 0)
            fprintf(stdout, ",\"item\":%lld", (long long)item);
        else
            fputs(",\"item\":null", stdout);
        fputs(",\"field\":", stdout);
        cli_json_write_cstr(stdout, field);
        fputs("}\n", stdout);
    }
    return cli_exit_code(rc);
}

int cli_report_error(const sluice_pipeline *p, sluice_status rc, int json)
{
    const sluice_error *err = p != NULL ? sluice_last_error(p) : NULL;

    /* Use the handle's details only when they describe a failure; the class always comes from
     * the status the call returned. */
    if (err != NULL && err->code != SLUICE_OK)
        return report(rc, nonempty(err->message), nonempty(err->resource), err->item,
                      nonempty(err->field), json);
    return report(rc, NULL, NULL, -1, NULL, json);
}

int cli_report_message(sluice_status rc, const char *message, int json)
{
    return report(rc, nonempty(message), NULL, -1, NULL, json);
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fputs("sluice: error: USAGE: ", stderr);
    cli_write_one_line(stderr, msg);
    if (command != NULL)
        fprintf(stderr, " (see 'sluice %s --help')\n", command);
    else
        fputs(" (see 'sluice --help')\n", stderr);
    return CLI_EXIT_USAGE;
}

int cli_bad_json(const char *what, const char *err)
{
    fprintf(stderr, "sluice: error: INTERNAL: cannot read the %s JSON from the library: ", what);
    cli_write_one_line(stderr, err != NULL && err[0] != '\0' ? err : "unknown reason");
    fputc('\n', stderr);
    return CLI_EXIT_FAILED;
}

int cli_add_resource(const char ***names, size_t *n, int argc, const char *value,
                     const char *command)
{
    if (value[0] == '\0')
        return cli_usage_error(command, "--resource needs a non-empty name");
    if (*names == NULL) {
        /* Never more names than arguments: one allocation, sized once. */
        *names = calloc((size_t)argc + 1, sizeof(**names));
        if (*names == NULL) {
            fputs("sluice: error: NOMEM: out of memory\n", stderr);
            return CLI_EXIT_FAILED;
        }
    }
    (*names)[(*n)++] = value;
    return CLI_EXIT_OK;
}

int cli_finish_output(int exit_code)
{
    int failed;

    errno = 0;
    failed = fflush(stdout) != 0 || ferror(stdout);
    if (!failed)
        return exit_code;
    fprintf(stderr, "sluice: error: IO: cannot write to standard output: %s\n",
            errno != 0 ? strerror(errno) : "write error");
    return exit_code != CLI_EXIT_OK ? exit_code : CLI_EXIT_FAILED;
}

/* ==== option parser ======================================================================= */

void cli_parser_init(struct cli_parser *ps, int argc, char **argv, const char *command)
{
    ps->argc = argc;
    ps->argv = argv;
    ps->i = 0;
    ps->only_positional = 0;
    ps->command = command;
}

static const struct cli_opt *find_long(const struct cli_opt *opts, const char *name,
                                       size_t name_len)
{
    for (; opts->name != NULL; opts++) {
        if (strlen(opts->name) == name_len && memcmp(opts->name, name, name_len) == 0)
            return opts;
    }
    return NULL;
}

static const struct cli_opt *find_short(const struct cli_opt *opts, char c)
{
    for (; opts->name != NULL; opts++) {
        if (opts->short_name != 0 && opts->short_name == c)
            return opts;
    }
    return NULL;
}

enum cli_arg_kind cli_parser_next(struct cli_parser *ps, const struct cli_opt *opts, int *id,
                                  const char **value)
{
    const struct cli_opt *opt;
    const char *arg;

    *value = NULL;
    if (ps->i >= ps->argc)
        return CLI_ARG_END;
    arg = ps->argv[ps->i++];

    if (ps->only_positional || arg[0] != '-' || arg[1] == '\0') {
        *value = arg; /* a lone "-" is a positional, as usual */
        return CLI_ARG_POS;
    }
    if (strcmp(arg, "--") == 0) {
        ps->only_positional = 1;
        return cli_parser_next(ps, opts, id, value);
    }

    if (arg[1] == '-') {
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t name_len = eq != NULL ? (size_t)(eq - name) : strlen(name);

        opt = find_long(opts, name, name_len);
        if (opt == NULL) {
            cli_usage_error(ps->command, "unknown option '%.*s'", (int)(name_len + 2), arg);
            return CLI_ARG_ERR;
        }
        if (!opt->has_value && eq != NULL) {
            cli_usage_error(ps->command, "option '--%s' takes no value", opt->name);
            return CLI_ARG_ERR;
        }
        if (opt->has_value) {
            if (eq != NULL) {
                *value = eq + 1;
            } else if (ps->i < ps->argc) {
                *value = ps->argv[ps->i++];
            } else {
                cli_usage_error(ps->command, "option '--%s' needs a value", opt->name);
                return CLI_ARG_ERR;
            }
        }
        *id = opt->id;
        return CLI_ARG_OPT;
    }

    /* Single-letter options are flags only, one per argument ("-v", not "-vx"). */
    opt = arg[2] == '\0' ? find_short(opts, arg[1]) : NULL;
    if (opt == NULL) {
        cli_usage_error(ps->command, "unknown option '%s'", arg);
        return CLI_ARG_ERR;
    }
    if (opt->has_value) {
        if (ps->i >= ps->argc) {
            cli_usage_error(ps->command, "option '-%c' needs a value", opt->short_name);
            return CLI_ARG_ERR;
        }
        *value = ps->argv[ps->i++];
    }
    *id = opt->id;
    return CLI_ARG_OPT;
}

/* ==== main ================================================================================ */

static const char top_usage[] =
    "usage: sluice <command> [arguments]\n"
    "\n"
    "Load JSON data from files, commands, Singer taps and REST APIs into SQLite or\n"
    "PostgreSQL, the way dlt does: nested data as tables, incremental cursors committed with\n"
    "the data.\n"
    "\n"
    "commands:\n"
    "  init NAME [options]           write a starter pipeline NAME.yaml that runs as it is\n"
    "  run CONFIG [options]          extract, normalize and load the pipeline of CONFIG\n"
    "  pipeline NAME info [-v]       state (incremental cursors), tables, loads, pending\n"
    "  pipeline NAME query SQL       run SQL against the pipeline's dataset\n"
    "  pipeline NAME drop --resource R...\n"
    "                                drop the tables and state of resources\n"
    "  pipeline NAME sync            restore local state from the destination\n"
    "  pipeline NAME pending         list load packages not yet loaded\n"
    "  pipeline NAME trace           the last run: steps, timings, rows, errors, log file\n"
    "  pipeline NAME loads           recent loads (_dlt_loads), status as a word\n"
    "  pipeline NAME schema          the stored schema (--format yaml|json)\n"
    "  pipelines                     list the pipelines that have run here\n"
    "\n"
    "options:\n"
    "  -h, --help                    show help (also after any command)\n"
    "  -V, --version                 show the version\n"
    "\n"
    "exit status: 0 success, 1 the run failed, 2 bad usage or config, 130/143/129 a run\n"
    "interrupted by SIGINT/SIGTERM/SIGHUP.\n"
    "environment: SLUICE_PIPELINES_DIR (default ~/.sluice/pipelines), SLUICE_DEBUG=1.\n";

int main(int argc, char **argv)
{
    const char *cmd;
    int rc;

    if (argc < 2) {
        fputs(top_usage, stderr);
        return CLI_EXIT_USAGE;
    }
    cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(top_usage, stdout);
        return cli_finish_output(CLI_EXIT_OK);
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("sluice %s\n", SLUICE_VERSION);
        return cli_finish_output(CLI_EXIT_OK);
    }

    if (strcmp(cmd, "run") == 0) {
        rc = cli_run_main(argc - 2, argv + 2);
    } else if (strcmp(cmd, "pipeline") == 0) {
        rc = cli_pipeline_main(argc - 2, argv + 2);
    } else if (strcmp(cmd, "init") == 0) {
        rc = cli_init_main(argc - 2, argv + 2);
    } else if (strcmp(cmd, "pipelines") == 0) {
        rc = cli_pipelines_main(argc - 2, argv + 2);
    } else if (cmd[0] == '-') {
        rc = cli_usage_error(NULL, "unknown option '%s'", cmd);
    } else {
        rc = cli_usage_error(NULL, "unknown command '%s'", cmd);
    }
    return cli_finish_output(rc);
}
