/*
 * cli_json.c — the command's own small JSON reader and writer.
 *
 * The CLI may not use the library's JSON module (it sees only <sluice.h>), yet it must read
 * what the library hands it as JSON text (pipeline info, pending packages) and write JSON of
 * its own (--json output, query --format json). This file is that piece, kept small:
 *
 * - cli_json_parse() is a strict recursive-descent parser for RFC 8259 JSON. Nesting is
 *   bounded by CLI_JSON_MAX_DEPTH, so recursion (here and in cli_json_free/cli_json_write)
 *   cannot run away. Strings are decoded to UTF-8, including \uXXXX escapes and surrogate
 *   pairs (a lone surrogate is an error); raw control characters inside strings are rejected.
 *   Numbers are checked against the grammar and kept as written, so 40 stays 40 and 1e3
 *   stays 1e3 when printed back.
 * - The tree is a plain linked structure: each value has its first child and next sibling;
 *   object members carry their key. Lookups are linear, which suits the small documents here.
 * - The writers escape '"', '\\' and every control character; other bytes, UTF-8 included,
 *   pass through unchanged.
 * Every allocation is checked; on failure the parser frees what it built and says so.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== parser ============================================================================== */

struct parser {
    const char *start;
    const char *p;
    const char *end;
    char *err;
    size_t err_size;
    int failed;
};

static void fail(struct parser *ps, const char *what)
{
    if (ps->failed)
        return; /* the first error wins */
    ps->failed = 1;
    if (ps->err != NULL && ps->err_size > 0)
        snprintf(ps->err, ps->err_size, "%s at byte %zu", what, (size_t)(ps->p - ps->start));
}

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static struct cli_json *new_value(struct parser *ps, enum cli_json_type type)
{
    struct cli_json *v = calloc(1, sizeof(*v));
    if (v == NULL) {
        fail(ps, "out of memory");
        return NULL;
    }
    v->type = type;
    return v;
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/*
 * Parse a string literal at ps->p (which points at the opening quote) into a new buffer.
 * The decoded text is never longer than the raw text (every escape shrinks or keeps its
 * size), so one allocation of the raw length is enough.
 */
static int parse_string_raw(struct parser *ps, char **out, size_t *out_len)
{
    const char *s = ps->p + 1;
    const char *q = s;
    char *buf;
    size_t n = 0;

    while (q < ps->end && *q != '"') {
        if (*q == '\\' && ps->end - q < 2) {
            q = ps->end; /* a backslash as the last byte */
            break;
        }
        q += *q == '\\' ? 2 : 1;
    }
    if (q >= ps->end) {
        fail(ps, "unterminated string");
        return -1;
    }
    buf = malloc((size_t)(q - s) + 1);
    if (buf == NULL) {
        fail(ps, "out of memory");
        return -1;
    }

    ps->p = s;
    while (ps->p < q) {
        unsigned char c = (unsigned char)*ps->p;
        if (c < 0x20) {
            fail(ps, "control character in string");
            goto fail;
        }
        if (c != '\\') {
            buf[n++] = (char)c;
            ps->p++;
            continue;
        }
        ps->p++; /* the backslash; q bounds the escape character */
        switch (*ps->p) {
        case '"': buf[n++] = '"'; break;
        case '\\': buf[n++] = '\\'; break;
        case '/': buf[n++] = '/'; break;
        case 'b': buf[n++] = '\b'; break;
        case 'f': buf[n++] = '\f'; break;
        case 'n': buf[n++] = '\n'; break;
        case 'r': buf[n++] = '\r'; break;
        case 't': buf[n++] = '\t'; break;
        case 'u': {
            unsigned cp;
            unsigned lo;
            if (q - ps->p < 5 || hex4(ps->p + 1, &cp) != 0) {
                fail(ps, "bad \\u escape");
                goto fail;
            }
            ps->p += 4;
            if (cp >= 0xdc00 && cp <= 0xdfff) {
                fail(ps, "lone low surrogate");
                goto fail;
            }
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (q - ps->p < 7 || ps->p[1] != '\\' || ps->p[2] != 'u' ||
                    hex4(ps->p + 3, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff) {
                    fail(ps, "lone high surrogate");
                    goto fail;
                }
                ps->p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            n += put_utf8(buf + n, cp);
            break;
        }
        default:
            fail(ps, "bad escape in string");
            goto fail;
        }
        ps->p++;
    }
    buf[n] = '\0';
    ps->p = q + 1;
    *out = buf;
    *out_len = n;
    return 0;

fail:
    free(buf);
    return -1;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static struct cli_json *parse_number(struct parser *ps)
{
    const char *s = ps->p;
    struct cli_json *v;

    if (ps->p < ps->end && *ps->p == '-')
        ps->p++;
    if (ps->p < ps->end && *ps->p == '0') {
        ps->p++;
    } else if (ps->p < ps->end && is_digit(*ps->p)) {
        while (ps->p < ps->end && is_digit(*ps->p))
            ps->p++;
    } else {
        fail(ps, "bad number");
        return NULL;
    }
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        if (ps->p >= ps->end || !is_digit(*ps->p)) {
            fail(ps, "bad number");
            return NULL;
        }
        while (ps->p < ps->end && is_digit(*ps->p))
            ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        if (ps->p >= ps->end || !is_digit(*ps->p)) {
            fail(ps, "bad number");
            return NULL;
        }
        while (ps->p < ps->end && is_digit(*ps->p))
            ps->p++;
    }

    v = new_value(ps, CLI_JSON_NUMBER);
    if (v == NULL)
        return NULL;
    v->len = (size_t)(ps->p - s);
    v->text = malloc(v->len + 1);
    if (v->text == NULL) {
        fail(ps, "out of memory");
        free(v);
        return NULL;
    }
    memcpy(v->text, s, v->len);
    v->text[v->len] = '\0';
    return v;
}

static int match_word(struct parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return 0;
    ps->p += n;
    return 1;
}

static struct cli_json *parse_value(struct parser *ps, int depth);

/* Parse the elements or members of an array or object; ps->p is past the opening bracket. */
static struct cli_json *parse_container(struct parser *ps, int depth, int is_object)
{
    struct cli_json *v = new_value(ps, is_object ? CLI_JSON_OBJECT : CLI_JSON_ARRAY);
    struct cli_json **tail;
    char close = is_object ? '}' : ']';

    if (v == NULL)
        return NULL;
    tail = &v->child;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return v;
    }
    for (;;) {
        char *key = NULL;
        size_t key_len = 0;
        struct cli_json *item;

        if (is_object) {
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != '"') {
                fail(ps, "expected a member name");
                goto fail;
            }
            if (parse_string_raw(ps, &key, &key_len) != 0)
                goto fail;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                free(key);
                fail(ps, "expected ':'");
                goto fail;
            }
            ps->p++;
        }
        item = parse_value(ps, depth + 1);
        if (item == NULL) {
            free(key);
            goto fail;
        }
        item->key = key;
        item->key_len = key_len;
        *tail = item;
        tail = &item->next;
        v->n_children++;

        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return v;
        }
        fail(ps, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
        goto fail;
    }

fail:
    cli_json_free(v);
    return NULL;
}

static struct cli_json *parse_value(struct parser *ps, int depth)
{
    struct cli_json *v;

    skip_ws(ps);
    if (ps->p >= ps->end) {
        fail(ps, "unexpected end of input");
        return NULL;
    }
    if ((*ps->p == '{' || *ps->p == '[') && depth >= CLI_JSON_MAX_DEPTH) {
        fail(ps, "nesting too deep"); /* the top value is depth 0 */
        return NULL;
    }
    switch (*ps->p) {
    case '{':
        ps->p++;
        return parse_container(ps, depth, 1);
    case '[':
        ps->p++;
        return parse_container(ps, depth, 0);
    case '"':
        v = new_value(ps, CLI_JSON_STRING);
        if (v == NULL)
            return NULL;
        if (parse_string_raw(ps, &v->text, &v->len) != 0) {
            free(v);
            return NULL;
        }
        return v;
    case 't':
        if (match_word(ps, "true"))
            return new_value(ps, CLI_JSON_TRUE);
        break;
    case 'f':
        if (match_word(ps, "false"))
            return new_value(ps, CLI_JSON_FALSE);
        break;
    case 'n':
        if (match_word(ps, "null"))
            return new_value(ps, CLI_JSON_NULL);
        break;
    default:
        if (*ps->p == '-' || is_digit(*ps->p))
            return parse_number(ps);
        break;
    }
    fail(ps, "unexpected character");
    return NULL;
}

struct cli_json *cli_json_parse(const char *text, size_t len, char *err, size_t err_size)
{
    struct parser ps;
    struct cli_json *v;

    if (err != NULL && err_size > 0)
        err[0] = '\0';
    ps.start = text;
    ps.p = text;
    ps.end = text + len;
    ps.err = err;
    ps.err_size = err_size;
    ps.failed = 0;
    if (text == NULL) {
        ps.end = ps.p;
        fail(&ps, "no input");
        return NULL;
    }

    v = parse_value(&ps, 0);
    if (v == NULL)
        return NULL;
    skip_ws(&ps);
    if (ps.p != ps.end) {
        fail(&ps, "trailing characters after the JSON value");
        cli_json_free(v);
        return NULL;
    }
    return v;
}

void cli_json_free(struct cli_json *v)
{
    while (v != NULL) {
        struct cli_json *next = v->next;
        cli_json_free(v->child); /* depth is bounded by the parser */
        free(v->text);
        free(v->key);
        free(v);
        v = next;
    }
}

const struct cli_json *cli_json_get(const struct cli_json *v, const char *key)
{
    size_t n;

    if (v == NULL || v->type != CLI_JSON_OBJECT || key == NULL)
        return NULL;
    n = strlen(key);
    for (const struct cli_json *m = v->child; m != NULL; m = m->next) {
        if (m->key_len == n && memcmp(m->key, key, n) == 0)
            return m;
    }
    return NULL;
}

const char *cli_json_string(const struct cli_json *v)
{
    return v != NULL && v->type == CLI_JSON_STRING ? v->text : NULL;
}

/* ==== writer ============================================================================== */

int cli_json_int(const struct cli_json *v, int64_t *out)
{
    char *end;
    long long n;

    if (v == NULL || v->type != CLI_JSON_NUMBER || v->text == NULL)
        return 0;
    errno = 0;
    n = strtoll(v->text, &end, 10);
    if (*end != '\0' || errno != 0)
        return 0;
    *out = (int64_t)n;
    return 1;
}

void cli_json_write_string(FILE *f, const char *s, size_t len)
{
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (c < 0x20)
                fprintf(f, "\\u%04x", c);
            else
                fputc(c, f);
            break;
        }
    }
    fputc('"', f);
}

void cli_json_write_value(FILE *f, const struct cli_json *v)
{
    if (v == NULL)
        fputs("null", f);
    else
        cli_json_write(f, v, 0);
}

const char *cli_json_scalar(const struct cli_json *v, const char *fallback)
{
    if (v != NULL && (v->type == CLI_JSON_STRING || v->type == CLI_JSON_NUMBER))
        return v->text;
    if (v != NULL && v->type == CLI_JSON_TRUE)
        return "true";
    if (v != NULL && v->type == CLI_JSON_FALSE)
        return "false";
    return fallback;
}

void cli_json_write_cstr(FILE *f, const char *s)
{
    if (s == NULL)
        fputs("null", f);
    else
        cli_json_write_string(f, s, strlen(s));
}

static void write_indent(FILE *f, int indent, int depth)
{
    fputc('\n', f);
    for (int i = 0; i < indent * depth; i++)
        fputc(' ', f);
}

static void write_value(FILE *f, const struct cli_json *v, int indent, int depth)
{
    int is_object;

    switch (v->type) {
    case CLI_JSON_NULL: fputs("null", f); return;
    case CLI_JSON_FALSE: fputs("false", f); return;
    case CLI_JSON_TRUE: fputs("true", f); return;
    case CLI_JSON_NUMBER: fwrite(v->text, 1, v->len, f); return;
    case CLI_JSON_STRING: cli_json_write_string(f, v->text, v->len); return;
    case CLI_JSON_ARRAY:
    case CLI_JSON_OBJECT: break;
    }

    is_object = v->type == CLI_JSON_OBJECT;
    fputc(is_object ? '{' : '[', f);
    for (const struct cli_json *c = v->child; c != NULL; c = c->next) {
        if (c != v->child)
            fputc(',', f);
        if (indent > 0)
            write_indent(f, indent, depth + 1);
        if (is_object) {
            cli_json_write_string(f, c->key != NULL ? c->key : "", c->key_len);
            fputs(indent > 0 ? ": " : ":", f);
        }
        write_value(f, c, indent, depth + 1);
    }
    if (indent > 0 && v->child != NULL)
        write_indent(f, indent, depth);
    fputc(is_object ? '}' : ']', f);
}

void cli_json_write(FILE *f, const struct cli_json *v, int indent)
{
    if (v == NULL) {
        fputs("null", f);
        return;
    }
    write_value(f, v, indent, 0);
}
