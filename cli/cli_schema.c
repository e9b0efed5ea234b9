/*
 * cli_schema.c — `sluice pipeline NAME schema [--format yaml|json]`: the pipeline's schema as
 * the destination stores it (the newest version in _dlt_version), as `dlt pipeline NAME
 * schema` shows it: tables with their columns (data type, nullable, primary_key, merge_key,
 * ...), write disposition, resource, and child tables with their parent.
 *
 * yaml (the default, as dlt's) is written here from the JSON the library hands over, dropping
 * the `name` members that repeat the key they sit under (as dlt's remove_defaults does):
 * mappings as "key: value" with two spaces per level, lists as "- item" lines at their key's
 * indent (PyYAML's style), strings plain when YAML would read them back as the same string,
 * otherwise double-quoted with JSON escapes (valid YAML). json prints the stored document
 * pretty-printed, unchanged.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== YAML ================================================================================ */

static int ieq(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        if (x != *b)
            return 0;
    }
    return *a == *b;
}

/* 1 when s can be written as a plain YAML scalar and read back as this same string. */
static int plain_ok(const char *s, size_t len)
{
    static const char *const words[] = { "true", "false", "null", "yes", "no", "on", "off",
                                         "y", "n", "~", NULL };
    char *end;

    if (len == 0 || strlen(s) != len)
        return 0; /* empty, or holding a NUL */
    if (s[0] == ' ' || s[len - 1] == ' ' || strchr("-?:,[]{}#&*!|>'\"%@`", s[0]) != NULL)
        return 0;
    for (const char *c = s; *c != '\0'; c++) {
        unsigned char u = (unsigned char)*c;
        if (u < 0x20 || u == 0x7f)
            return 0;
        if ((*c == ':' && (c[1] == ' ' || c[1] == '\0')) || (*c == '#' && c > s && c[-1] == ' '))
            return 0;
    }
    for (size_t i = 0; words[i] != NULL; i++)
        if (ieq(s, words[i]))
            return 0;
    strtod(s, &end); /* a number would come back as a number */
    return *end != '\0';
}

static void yaml_scalar(const struct cli_json *v)
{
    switch (v->type) {
    case CLI_JSON_NULL: fputs("null", stdout); break;
    case CLI_JSON_TRUE: fputs("true", stdout); break;
    case CLI_JSON_FALSE: fputs("false", stdout); break;
    case CLI_JSON_NUMBER: fputs(v->text, stdout); break;
    case CLI_JSON_STRING:
        if (plain_ok(v->text, v->len))
            fputs(v->text, stdout);
        else
            cli_json_write_string(stdout, v->text, v->len);
        break;
    default: cli_json_write(stdout, v, 0); break; /* flow style: JSON is valid YAML */
    }
}

static void yaml_key(const char *key, size_t len)
{
    if (plain_ok(key, len))
        fputs(key, stdout);
    else
        cli_json_write_string(stdout, key, len);
}

static void indent_by(int n)
{
    for (int i = 0; i < n; i++)
        fputc(' ', stdout);
}

static int is_block(const struct cli_json *v)
{
    return (v->type == CLI_JSON_OBJECT || v->type == CLI_JSON_ARRAY) && v->child != NULL;
}

/* A member named "name" whose value repeats the key of the mapping it sits in. */
static int redundant_name(const struct cli_json *m, const char *owner_key)
{
    return owner_key != NULL && strcmp(m->key, "name") == 0 && m->type == CLI_JSON_STRING &&
           strcmp(m->text, owner_key) == 0;
}

static void yaml_mapping(const struct cli_json *obj, int indent, int first_inline,
                         const char *owner_key);

static void yaml_value_after_key(const struct cli_json *v, int indent)
{
    if (!is_block(v)) {
        fputc(' ', stdout);
        yaml_scalar(v);
        fputc('\n', stdout);
        return;
    }
    fputc('\n', stdout);
    if (v->type == CLI_JSON_OBJECT) {
        yaml_mapping(v, indent + 2, 0, NULL);
        return;
    }
    for (const struct cli_json *it = v->child; it; it = it->next) {
        indent_by(indent);
        fputs("-", stdout);
        if (it->type == CLI_JSON_OBJECT && it->child != NULL) {
            fputc(' ', stdout);
            yaml_mapping(it, indent + 2, 1, NULL);
        } else {
            fputc(' ', stdout);
            yaml_scalar(it); /* nested lists in flow style */
            fputc('\n', stdout);
        }
    }
}

/* obj's members at indent; first_inline: the first one continues a "- " line. owner_key: the
 * key obj sits under (its "name" member is left out when it repeats it). */
static void yaml_mapping(const struct cli_json *obj, int indent, int first_inline,
                         const char *owner_key)
{
    int first = 1;
    for (const struct cli_json *m = obj->child; m; m = m->next) {
        if (redundant_name(m, owner_key))
            continue;
        if (!(first && first_inline))
            indent_by(indent);
        first = 0;
        yaml_key(m->key, m->key_len);
        fputc(':', stdout);
        if (m->type == CLI_JSON_OBJECT && m->child != NULL) {
            fputc('\n', stdout);
            /* tables and columns are keyed by name: their "name" member is the key again */
            yaml_mapping(m, indent + 2, 0, m->key);
        } else {
            yaml_value_after_key(m, indent);
        }
    }
}

/* ==== command ============================================================================= */

static void render_yaml(const struct cli_json *doc, const void *ctx)
{
    (void)ctx;
    yaml_mapping(doc, 0, 0, NULL);
}

int cli_schema(sluice_pipeline *p, const struct cli_pipeline_args *a)
{
    static const struct cli_doc_spec spec = { "schema", sluice_pipeline_schema_json,
                                              CLI_JSON_OBJECT, NULL };
    struct cli_doc_out out = { a->format != NULL && strcmp(a->format, "json") == 0, 2, 0 };
    return cli_doc_show(p, &spec, out, render_yaml, NULL);
}
