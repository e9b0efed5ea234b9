/*
 * cli_doc.c — the JSON documents the library hands over (info, trace, schema, pending
 * packages, the pipelines list): fetched, parsed and checked in one place, then printed as
 * JSON or handed to a command's own view.
 *
 * Every such command did the same steps: call the library, report its error, parse the text,
 * report text that is not the expected JSON as an INTERNAL error, print it or render it, and
 * free both on every path. cli_doc_get() and cli_doc_show() are those steps once.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

/* The text without trailing white space: the library's documents are one line (or end in a
 * newline), and the parser accepts surrounding white space anyway. */
static size_t trimmed_len(const char *text)
{
    size_t len = text != NULL ? strlen(text) : 0;
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
        len--;
    return len;
}

static const char *type_word(enum cli_json_type type)
{
    return type == CLI_JSON_ARRAY ? "not an array" : "not an object";
}

/* Fetch and parse; *text keeps the library's text (caller frees with sluice_free). */
static int fetch_parse(sluice_pipeline *p, const struct cli_doc_spec *spec, int json_errors,
                       char **text, struct cli_json **doc)
{
    char err[128];
    sluice_status st;
    size_t len;

    *text = NULL;
    *doc = NULL;
    st = spec->fetch(p, text);
    if (st != SLUICE_OK) {
        if (spec->failure != NULL)
            return cli_report_message(st, spec->failure, json_errors);
        return cli_report_error(p, st, json_errors);
    }
    len = trimmed_len(*text);
    *doc = cli_json_parse(*text != NULL ? *text : "", len, err, sizeof(err));
    if (*doc == NULL)
        return cli_bad_json(spec->what, err);
    if ((*doc)->type != spec->type) {
        cli_json_free(*doc);
        *doc = NULL;
        return cli_bad_json(spec->what, type_word(spec->type));
    }
    return CLI_EXIT_OK;
}

int cli_doc_get(sluice_pipeline *p, const struct cli_doc_spec *spec, int json_errors,
                struct cli_json **doc)
{
    char *text = NULL;
    int rc = fetch_parse(p, spec, json_errors, &text, doc);
    sluice_free(text);
    return rc;
}

int cli_doc_show(sluice_pipeline *p, const struct cli_doc_spec *spec, struct cli_doc_out out,
                 cli_doc_render render, const void *ctx)
{
    char *text = NULL;
    struct cli_json *doc = NULL;
    int rc = fetch_parse(p, spec, out.json_errors, &text, &doc);

    if (rc == CLI_EXIT_OK) {
        size_t len = trimmed_len(text);
        if (out.json && out.indent == 0 && memchr(text, '\n', len) == NULL &&
            memchr(text, '\r', len) == NULL) {
            fwrite(text, 1, len, stdout); /* as the library wrote it */
            fputc('\n', stdout);
        } else if (out.json) {
            cli_json_write(stdout, doc, out.indent);
            fputc('\n', stdout);
        } else {
            render(doc, ctx);
        }
    }
    cli_json_free(doc);
    sluice_free(text);
    return rc;
}

void cli_write_packages(const struct cli_json *list, const char *lead, const char *sep)
{
    for (const struct cli_json *pkg = list != NULL ? list->child : NULL; pkg; pkg = pkg->next) {
        const struct cli_json *id = cli_json_get(pkg, "load_id");
        const struct cli_json *stage = cli_json_get(pkg, "stage");
        fputs(lead, stdout);
        cli_write_one_line(stdout, cli_json_scalar(id, "?"));
        fputs(sep, stdout);
        cli_write_one_line(stdout, cli_json_scalar(stage, "?"));
        fputc('\n', stdout);
    }
}
