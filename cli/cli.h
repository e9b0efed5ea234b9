/*
 * cli.h — private declarations shared by the files of the `sluice` command.
 *
 * The command is a client of the public API only: it includes <sluice.h> and libc, never a
 * header from src/ (the Makefile compiles cli/ with -Iinclude alone, which enforces it).
 * The pieces:
 *   cli.c          main(), the top-level help, the hand-written option parser, the one table
 *                  that maps sluice_status to an exit code, and the error reporter.
 *   cli_run.c      `sluice run`: flags -> sluice_run_opts, run, load-info summary or JSON.
 *   cli_progress.c log and progress callbacks: bar, log and none display modes.
 *   cli_pipeline.c `sluice pipeline NAME ...`: argument parsing, opening the pipeline, and the
 *                  small subcommands drop, sync and pending.
 *   cli_info.c     `pipeline NAME info`: the info JSON as-is or as a human view.
 *   cli_query.c    `pipeline NAME query`: rows as an aligned table, CSV or JSON.
 *   cli_trace.c    `pipeline NAME trace`: the last run, step by step.
 *   cli_schema.c   `pipeline NAME schema`: the stored schema as YAML or JSON.
 *   cli_pipelines.c `sluice pipelines`: the pipelines with a working dir here.
 *   cli_init.c     `sluice init`: a starter pipeline that runs as it is.
 *   cli_json.c     a small JSON reader (bounded depth) and JSON writing helpers.
 *   cli_doc.c      the library's JSON documents: fetch, parse, check, print or render.
 * Nothing here keeps mutable file-scope state (except what cli_run.c's signal handler needs
 * to reach the running pipeline); every command owns its data on the stack or through
 * explicit structs, and frees it on every path (the tests run under LeakSanitizer).
 */
#ifndef SLUICE_CLI_H
#define SLUICE_CLI_H

#include <sluice.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- exit status and error reporting (cli.c) -------------------------------------------- */

enum {
    CLI_EXIT_OK = 0,     /* success */
    CLI_EXIT_FAILED = 1, /* a run failed: source, data, destination, state, I/O, ... */
    CLI_EXIT_USAGE = 2   /* bad usage or bad config */
};

/* The exit status for a library status, from the one mapping table in cli.c. */
int cli_exit_code(sluice_status rc);

/*
 * Report a failed library call: one line on stderr,
 *   sluice: error: <CLASS>: <message> (resource R, item N, field F)
 * built from sluice_last_error(p) (p may be NULL), and, when json is non-zero, also a JSON
 * object {"status":"error",...} on stdout. Returns the exit status for rc.
 */
int cli_report_error(const sluice_pipeline *p, sluice_status rc, int json);

/* The same report for a failure the CLI found itself (no handle to read it from). */
int cli_report_message(sluice_status rc, const char *message, int json);

/*
 * Report bad usage: `sluice: error: USAGE: <message> (see 'sluice <command> --help')` on
 * stderr. command may be NULL for the top level. Returns CLI_EXIT_USAGE.
 */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
int cli_usage_error(const char *command, const char *fmt, ...);

/* Report JSON from the library that the CLI cannot read (what: "pipeline info", ...):
 * `sluice: error: INTERNAL: ...` on stderr. Returns CLI_EXIT_FAILED. */
int cli_bad_json(const char *what, const char *err);

/* Write s to f with every control character (CR, LF, tab, ...) replaced by a space: keeps a
 * message on one line. NULL writes nothing. */
void cli_write_one_line(FILE *f, const char *s);

/* " (resource R, item N, field F)" with the parts that are there (item < 0: none), or nothing
 * when none is: where an error happened, after its message. */
void cli_write_error_place(FILE *f, const char *resource, int64_t item, const char *field);

/* Flush stdout and turn a write error (disk full, closed pipe) into an error report. Returns
 * exit_code unchanged when the output was written, CLI_EXIT_FAILED otherwise. */
int cli_finish_output(int exit_code);

/* ---- option parsing (cli.c) ------------------------------------------------------------- */

/*
 * A hand-written parser that accepts options before or after positionals, "--name value" and
 * "--name=value", single-letter flags ("-v"), and "--" to end options. It prints nothing
 * itself except usage errors.
 */
struct cli_opt {
    const char *name;  /* long name without dashes: "resource" */
    char short_name;   /* 'v', or 0 for none */
    int has_value;     /* 1 when the option takes a value */
    int id;            /* returned to the caller */
};

struct cli_parser {
    int argc;
    char **argv;
    int i;              /* next argv index */
    int only_positional; /* set after "--" */
    const char *command; /* for usage messages: "run", "pipeline", ... */
};

enum cli_arg_kind {
    CLI_ARG_END = 0, /* no more arguments */
    CLI_ARG_OPT,     /* an option: *id set, *value set when it takes one (else NULL) */
    CLI_ARG_POS,     /* a positional: *value set */
    CLI_ARG_ERR      /* a usage error was printed; exit with CLI_EXIT_USAGE */
};

/* --resource VALUE of command: append VALUE to *names (NULL-terminated, allocated once for
 * argc names, freed by the caller). CLI_EXIT_OK, or the exit status of the reported error
 * (an empty name, out of memory). */
int cli_add_resource(const char ***names, size_t *n, int argc, const char *value,
                     const char *command);

/* argv[0] is the first argument to parse (not the program name). */
void cli_parser_init(struct cli_parser *ps, int argc, char **argv, const char *command);
enum cli_arg_kind cli_parser_next(struct cli_parser *ps, const struct cli_opt *opts, int *id,
                                  const char **value);

/* ---- commands --------------------------------------------------------------------------- */

/* argv[0] is the first argument after the command word. Each returns an exit status. */
int cli_run_main(int argc, char **argv);
int cli_pipeline_main(int argc, char **argv);
int cli_pipelines_main(int argc, char **argv);
int cli_init_main(int argc, char **argv);

/* What the pipeline subcommands get after parsing (cli_pipeline.c fills it). */
struct cli_pipeline_args {
    const char *name;        /* pipeline name */
    const char *sub;         /* "info", "query", ... */
    const char *sql;         /* query */
    const char *format;      /* query: "table", "csv", "json"; schema: "yaml", "json" */
    int verbose;             /* info -v */
    int json;                /* info --json */
    const char *config;      /* sync --config: the config file, or NULL */
    long limit;              /* loads --limit (default 20) */
    int yes;                 /* drop --yes: do not ask */
    int wide;                /* query --wide: do not fit the table to the terminal */
    const char **resources;  /* drop: NULL-terminated, owned by cli_pipeline.c */
    size_t n_resources;
};

/* Subcommands that need more than a few lines; p is open, the caller closes it. */
int cli_info(sluice_pipeline *p, const struct cli_pipeline_args *a);
int cli_query(sluice_pipeline *p, const struct cli_pipeline_args *a);
int cli_trace(sluice_pipeline *p, const struct cli_pipeline_args *a);
int cli_schema(sluice_pipeline *p, const struct cli_pipeline_args *a);

struct cli_json;
/* A trace table's net effect, "1 inserted, 2 updated" ("no change" when all are 0), after
 * lead; 1 when written, 0 (nothing written) when the destination could not tell it
 * (cli_trace.c). */
int cli_write_effect(FILE *f, const struct cli_json *t, const char *lead);

/* ---- progress and log display (cli_progress.c) ------------------------------------------ */

enum cli_progress_mode {
    CLI_PROGRESS_AUTO = 0, /* bar on a terminal, log otherwise */
    CLI_PROGRESS_BAR,
    CLI_PROGRESS_LOG,
    CLI_PROGRESS_NONE
};

/* Parse "auto", "bar", "log", "none"; returns -1 for anything else. */
int cli_progress_mode_parse(const char *s);

struct cli_progress; /* opaque: defined in cli_progress.c */

/* Create the display for mode (AUTO resolved here) and register the log and progress
 * callbacks on p. Returns NULL when out of memory (callbacks then not registered). */
struct cli_progress *cli_progress_attach(sluice_pipeline *p, enum cli_progress_mode mode);
/* Erase a live bar so that what follows starts on a clean line. NULL is accepted. */
void cli_progress_finish(struct cli_progress *pr);
/* Free; call after the pipeline is closed or its callbacks replaced. NULL is accepted. */
void cli_progress_free(struct cli_progress *pr);

/* ---- JSON (cli_json.c) ------------------------------------------------------------------ */

enum cli_json_type {
    CLI_JSON_NULL = 0,
    CLI_JSON_FALSE,
    CLI_JSON_TRUE,
    CLI_JSON_NUMBER,
    CLI_JSON_STRING,
    CLI_JSON_ARRAY,
    CLI_JSON_OBJECT
};

/*
 * A parsed JSON value. Arrays and objects keep their children as a linked list in document
 * order; an object's children carry their member name in key. Strings are decoded to UTF-8
 * (text may hold a NUL from \u0000: use len); numbers keep their text exactly as written.
 */
struct cli_json {
    enum cli_json_type type;
    char *text;              /* STRING: decoded value; NUMBER: the literal; else NULL */
    size_t len;              /* bytes in text */
    char *key;               /* member name inside an object, else NULL */
    size_t key_len;
    struct cli_json *child;  /* first element or member */
    struct cli_json *next;   /* next sibling */
    size_t n_children;
};

#define CLI_JSON_MAX_DEPTH 256 /* levels of nested arrays and objects */

/* Parse len bytes of JSON text (one value, surrounding white space allowed). Returns the
 * value (caller frees with cli_json_free) or NULL with a message in err. */
struct cli_json *cli_json_parse(const char *text, size_t len, char *err, size_t err_size);
void cli_json_free(struct cli_json *v);

/* Member of an object by name (first match), or NULL when v is not an object or lacks it. */
const struct cli_json *cli_json_get(const struct cli_json *v, const char *key);
/* The text of a STRING, else NULL. */
const char *cli_json_string(const struct cli_json *v);

/* An integer NUMBER as int64 into *out: 1, or 0 (and *out untouched) for anything else. */
int cli_json_int(const struct cli_json *v, int64_t *out);

/* Write s (len bytes) as a JSON string literal, quotes included. */
void cli_json_write_string(FILE *f, const char *s, size_t len);
/* Write a C string as a JSON string literal, or null for NULL. */
void cli_json_write_cstr(FILE *f, const char *s);
/* Write v: compact when indent is 0, else pretty with indent spaces per level. */
void cli_json_write(FILE *f, const struct cli_json *v, int indent);
/* v as JSON text, "null" for NULL (a cursor value, a missing member). */
void cli_json_write_value(FILE *f, const struct cli_json *v);
/* The text of a STRING or NUMBER, "true"/"false" for a boolean, else fallback. */
const char *cli_json_scalar(const struct cli_json *v, const char *fallback);

/* ---- the library's JSON documents (cli_doc.c) ------------------------------------------- */

/* A document the library hands over: sluice_pipeline_info_json and the like (the caller owns
 * *json_out, freed with sluice_free). */
struct cli_doc_spec {
    const char *what;         /* names it in an INTERNAL error: "trace", "pipeline info" */
    sluice_status (*fetch)(sluice_pipeline *p, char **json_out);
    enum cli_json_type type;  /* what it must be: CLI_JSON_OBJECT or CLI_JSON_ARRAY */
    const char *failure;      /* a failed fetch: this message, or NULL for p's last error */
};

/* Fetch spec's document from p, parse it and check its type. CLI_EXIT_OK with *doc set (the
 * caller frees it with cli_json_free), else the error is reported (with a JSON object on
 * stdout too when json_errors) and its exit status returned, *doc NULL. */
int cli_doc_get(sluice_pipeline *p, const struct cli_doc_spec *spec, int json_errors,
                struct cli_json **doc);

typedef void (*cli_doc_render)(const struct cli_json *doc, const void *ctx);

/* How cli_doc_show prints. */
struct cli_doc_out {
    int json;        /* print the document as JSON, else render it */
    int indent;      /* JSON: 0 on one line, as the library wrote it; else pretty */
    int json_errors; /* a failure is also a JSON object on stdout (cli_report_error) */
};

/* cli_doc_get, then print the document as out says, or render(doc, ctx). Returns the exit
 * status. */
int cli_doc_show(sluice_pipeline *p, const struct cli_doc_spec *spec, struct cli_doc_out out,
                 cli_doc_render render, const void *ctx);

/* Pending packages (a JSON array of {load_id, stage}), one a line: lead, id, sep, stage. */
void cli_write_packages(const struct cli_json *list, const char *lead, const char *sep);

#endif
