/*
 * cli_info.c — `sluice pipeline NAME info [-v] [--json]`.
 *
 * The library describes a pipeline as one JSON object (sluice_pipeline_info_json): keys
 * pipeline_name, destination, dataset_name, state, tables [{name, rows, columns: [{name,
 * data_type}]}], loads [{load_id, status, inserted_at}] and pending [{load_id, stage}].
 * With --json that text is checked and printed as it is, on one line (re-serialized compactly
 * only if the library's text spans lines; text that is not JSON is an INTERNAL error).
 * Otherwise it is read with cli_json.c and shown for people:
 *
 *   Pipeline: github_events
 *   Destination: sqlite:github.db
 *   Dataset: github
 *
 *   Tables:
 *     events                 200
 *     events__payload         50
 *
 *   State:
 *     source github
 *       resource events
 *         incremental created_at
 *           initial_value: "1970-01-01T00:00:00Z"
 *           last_value: "2024-01-03T00:00:00Z"
 *           unique_hashes: 2
 *
 *   Loads: 3 (latest 1732900000.123456, status 0, inserted 2024-11-29T18:00:00Z)
 *   Pending packages: 1
 *     1732900100.654321 normalized
 *
 * State values are shown as compact JSON so their type shows (a string cursor is quoted, a
 * numeric one is not), cut at VALUE_MAX characters; unique_hashes is shown as its count.
 * Other keys of the state (top-level scalars, source-scoped and custom resource keys) appear
 * as `key: value` at their level. With -v every table lists its columns, every load is
 * listed, and the state section is the full state document pretty-printed as JSON.
 * The view tolerates missing or mistyped keys (it prints what it finds) and fails only when
 * the text is not JSON at all.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VALUE_MAX 80  /* characters of a state value shown in the non-verbose view */
#define NAME_WIDTH_MAX 64

/* ==== helpers ============================================================================= */

static void indent(int n)
{
    for (int i = 0; i < n; i++)
        fputc(' ', stdout);
}

/* v as compact JSON on stdout, cut to max characters with "..." (max 0: no limit). */
static void put_value(const struct cli_json *v, size_t max)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);

    if (mem == NULL) {
        cli_json_write(stdout, v, 0);
        return;
    }
    cli_json_write(mem, v, 0);
    if (fclose(mem) != 0) {
        free(buf);
        cli_json_write(stdout, v, 0);
        return;
    }
    if (max > 3 && len > max) {
        len = max - 3;
        while (len > 0 && ((unsigned char)buf[len] & 0xc0) == 0x80)
            len--; /* do not split a UTF-8 sequence */
        fwrite(buf, 1, len, stdout);
        fputs("...", stdout);
    } else {
        fwrite(buf, 1, len, stdout);
    }
    free(buf);
}

/* A scalar (string or number) as plain text, or fallback. */
static void put_text(const char *s)
{
    cli_write_one_line(stdout, s);
}

static const char *key_of(const struct cli_json *member)
{
    return member->key != NULL ? member->key : "";
}

static void put_key_value(int level, const struct cli_json *member)
{
    indent(level);
    put_text(key_of(member));
    fputs(": ", stdout);
    put_value(member, VALUE_MAX);
    fputc('\n', stdout);
}

/* ==== state =============================================================================== */

static void show_incremental(const struct cli_json *inc, int level)
{
    if (inc->type != CLI_JSON_OBJECT) {
        indent(level);
        fputs("incremental: ", stdout);
        put_value(inc, VALUE_MAX);
        fputc('\n', stdout);
        return;
    }
    for (const struct cli_json *cursor = inc->child; cursor != NULL; cursor = cursor->next) {
        const struct cli_json *hashes = cli_json_get(cursor, "unique_hashes");
        const struct cli_json *v;

        indent(level);
        fputs("incremental ", stdout);
        put_text(key_of(cursor));
        fputc('\n', stdout);
        if (cursor->type != CLI_JSON_OBJECT) {
            indent(level + 2);
            put_value(cursor, VALUE_MAX);
            fputc('\n', stdout);
            continue;
        }
        v = cli_json_get(cursor, "initial_value");
        indent(level + 2);
        fputs("initial_value: ", stdout);
        put_value(v, VALUE_MAX); /* NULL prints null */
        fputc('\n', stdout);
        v = cli_json_get(cursor, "last_value");
        indent(level + 2);
        fputs("last_value: ", stdout);
        put_value(v, VALUE_MAX);
        fputc('\n', stdout);
        indent(level + 2);
        fputs("unique_hashes: ", stdout);
        if (hashes != NULL && hashes->type == CLI_JSON_ARRAY)
            printf("%zu\n", hashes->n_children);
        else if (hashes == NULL)
            fputs("0\n", stdout);
        else {
            put_value(hashes, VALUE_MAX);
            fputc('\n', stdout);
        }
    }
}

static void show_resource(const struct cli_json *res, int level)
{
    indent(level);
    fputs("resource ", stdout);
    put_text(key_of(res));
    fputc('\n', stdout);
    if (res->type != CLI_JSON_OBJECT) {
        indent(level + 2);
        put_value(res, VALUE_MAX);
        fputc('\n', stdout);
        return;
    }
    for (const struct cli_json *m = res->child; m != NULL; m = m->next) {
        if (strcmp(key_of(m), "incremental") == 0)
            show_incremental(m, level + 2);
        else
            put_key_value(level + 2, m);
    }
}

static void show_source(const struct cli_json *src, int level)
{
    const struct cli_json *resources = cli_json_get(src, "resources");

    indent(level);
    fputs("source ", stdout);
    put_text(key_of(src));
    fputc('\n', stdout);
    if (src->type != CLI_JSON_OBJECT) {
        indent(level + 2);
        put_value(src, VALUE_MAX);
        fputc('\n', stdout);
        return;
    }
    /* Source-scoped keys first, then each resource. */
    for (const struct cli_json *m = src->child; m != NULL; m = m->next) {
        if (m != resources)
            put_key_value(level + 2, m);
    }
    if (resources != NULL && resources->type == CLI_JSON_OBJECT) {
        for (const struct cli_json *r = resources->child; r != NULL; r = r->next)
            show_resource(r, level + 2);
    } else if (resources != NULL) {
        put_key_value(level + 2, resources);
    }
}

static void show_state(const struct cli_json *state, int verbose)
{
    const struct cli_json *sources = cli_json_get(state, "sources");
    int shown = 0;

    fputs("State:", stdout);
    if (state == NULL || state->type == CLI_JSON_NULL ||
        (state->type == CLI_JSON_OBJECT && state->child == NULL)) {
        fputs(" (empty)\n", stdout);
        return;
    }
    fputc('\n', stdout);
    if (verbose || state->type != CLI_JSON_OBJECT) {
        /* The whole document, indented under the heading. */
        char *buf = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&buf, &len);
        if (mem == NULL) {
            cli_json_write(stdout, state, 2);
            fputc('\n', stdout);
            return;
        }
        cli_json_write(mem, state, 2);
        fputc('\n', mem);
        if (fclose(mem) == 0) {
            indent(2);
            for (size_t i = 0; i < len; i++) {
                fputc(buf[i], stdout);
                if (buf[i] == '\n' && i + 1 < len)
                    indent(2);
            }
        }
        free(buf);
        return;
    }

    for (const struct cli_json *m = state->child; m != NULL; m = m->next) {
        if (m == sources || m->type == CLI_JSON_OBJECT || m->type == CLI_JSON_ARRAY)
            continue; /* only scalars at the top; -v shows everything */
        put_key_value(2, m);
        shown = 1;
    }
    if (sources != NULL && sources->type == CLI_JSON_OBJECT) {
        for (const struct cli_json *s = sources->child; s != NULL; s = s->next) {
            show_source(s, 2);
            shown = 1;
        }
    }
    if (!shown)
        fputs("  (no source state)\n", stdout);
}

/* ==== tables, loads, pending ============================================================== */

static void show_tables(const struct cli_json *tables, int verbose)
{
    size_t name_width = 0;

    if (tables == NULL || tables->type != CLI_JSON_ARRAY || tables->child == NULL) {
        fputs("Tables: none\n", stdout);
        return;
    }
    fputs("Tables:\n", stdout);
    for (const struct cli_json *t = tables->child; t != NULL; t = t->next) {
        const char *name = cli_json_scalar(cli_json_get(t, "name"), "?");
        if (strlen(name) > name_width)
            name_width = strlen(name);
    }
    if (name_width > NAME_WIDTH_MAX)
        name_width = NAME_WIDTH_MAX;

    for (const struct cli_json *t = tables->child; t != NULL; t = t->next) {
        const char *name = cli_json_scalar(cli_json_get(t, "name"), "?");
        const char *rows = cli_json_scalar(cli_json_get(t, "rows"), "-");
        const struct cli_json *columns = cli_json_get(t, "columns");
        size_t col_width = 0;

        fputs("  ", stdout);
        put_text(name);
        indent((int)(name_width > strlen(name) ? name_width - strlen(name) : 0));
        printf(" %10s\n", rows);
        if (!verbose || columns == NULL || columns->type != CLI_JSON_ARRAY)
            continue;
        for (const struct cli_json *c = columns->child; c != NULL; c = c->next) {
            const char *cname = cli_json_scalar(cli_json_get(c, "name"), "?");
            if (strlen(cname) > col_width)
                col_width = strlen(cname);
        }
        if (col_width > NAME_WIDTH_MAX)
            col_width = NAME_WIDTH_MAX;
        for (const struct cli_json *c = columns->child; c != NULL; c = c->next) {
            const char *cname = cli_json_scalar(cli_json_get(c, "name"), "?");
            fputs("      ", stdout);
            put_text(cname);
            indent((int)(col_width > strlen(cname) ? col_width - strlen(cname) : 0));
            fputs("  ", stdout);
            put_text(cli_json_scalar(cli_json_get(c, "data_type"), "?"));
            fputc('\n', stdout);
        }
    }
}

static void put_load(const struct cli_json *load)
{
    put_text(cli_json_scalar(cli_json_get(load, "load_id"), "?"));
    fputs(", status ", stdout);
    put_text(cli_json_scalar(cli_json_get(load, "status"), "?"));
    fputs(", inserted ", stdout);
    put_text(cli_json_scalar(cli_json_get(load, "inserted_at"), "?"));
}

static void show_loads(const struct cli_json *loads, int verbose)
{
    const struct cli_json *latest = NULL;
    double latest_id = 0.0;

    if (loads == NULL || loads->type != CLI_JSON_ARRAY || loads->child == NULL) {
        fputs("Loads: none\n", stdout);
        return;
    }
    if (verbose) {
        printf("Loads: %zu\n", loads->n_children);
        for (const struct cli_json *l = loads->child; l != NULL; l = l->next) {
            fputs("  ", stdout);
            put_load(l);
            fputc('\n', stdout);
        }
        return;
    }
    /* Load ids are timestamps: the largest is the latest; the last one wins ties. */
    for (const struct cli_json *l = loads->child; l != NULL; l = l->next) {
        const char *id = cli_json_scalar(cli_json_get(l, "load_id"), NULL);
        double v = id != NULL ? strtod(id, NULL) : 0.0;
        if (latest == NULL || v >= latest_id) {
            latest = l;
            latest_id = v;
        }
    }
    printf("Loads: %zu (latest ", loads->n_children);
    put_load(latest);
    fputs(")\n", stdout);
}

static void show_pending(const struct cli_json *pending)
{
    size_t n = pending != NULL && pending->type == CLI_JSON_ARRAY ? pending->n_children : 0;

    printf("Pending packages: %zu\n", n);
    if (n > 0)
        cli_write_packages(pending, "  ", " ");
}

/* ==== command ============================================================================= */

static void show(const struct cli_json *doc, const struct cli_pipeline_args *a)
{
    fputs("Pipeline: ", stdout);
    put_text(cli_json_scalar(cli_json_get(doc, "pipeline_name"), a->name));
    fputs("\nDestination: ", stdout);
    const struct cli_json *dest = cli_json_get(doc, "destination");
    if (dest != NULL && dest->type == CLI_JSON_OBJECT) {
        /* {"type": "sqlite", "path": "..."}: never carries secrets */
        put_text(cli_json_scalar(cli_json_get(dest, "type"), "?"));
        const char *path = cli_json_scalar(cli_json_get(dest, "path"), NULL);
        if (path != NULL) {
            fputc(':', stdout);
            put_text(path);
        }
    } else {
        put_text(cli_json_scalar(dest, "?"));
    }
    fputs("\nDataset: ", stdout);
    put_text(cli_json_scalar(cli_json_get(doc, "dataset_name"), "?"));
    fputs("\n\n", stdout);
    show_tables(cli_json_get(doc, "tables"), a->verbose);
    fputc('\n', stdout);
    show_state(cli_json_get(doc, "state"), a->verbose);
    fputc('\n', stdout);
    show_loads(cli_json_get(doc, "loads"), a->verbose);
    show_pending(cli_json_get(doc, "pending"));
}

static void render_info(const struct cli_json *doc, const void *ctx)
{
    show(doc, ctx);
}

int cli_info(sluice_pipeline *p, const struct cli_pipeline_args *a)
{
    static const struct cli_doc_spec spec = { "pipeline info", sluice_pipeline_info_json,
                                              CLI_JSON_OBJECT, NULL };
    struct cli_doc_out out = { a->json, 0, a->json };
    return cli_doc_show(p, &spec, out, render_info, a);
}
