/*
 * cli_query.c — `sluice pipeline NAME query SQL [--format table|csv|json]`.
 *
 * The SQL runs through sluice_pipeline_query(), which hands rows to a callback as strings
 * (NULL for SQL NULL). Three renderings, all on stdout:
 *
 *   table (default)  a header, a separator line and aligned columns, psql-like:
 *                        id | name
 *                        ---+------
 *                        1  | alice
 *                        (1 row)
 *                    NULL is shown as empty; control characters in values are shown escaped
 *                    (\n, \t, \r, \xNN) so that a row stays on one line; widths count UTF-8
 *                    characters. The last column is not padded.
 *   csv              a header line then one line per row, RFC 4180 quoting (a field holding
 *                    a comma, a quote, CR or LF is quoted, quotes doubled), NULL as an empty
 *                    field, lines ending in "\n".
 *   json             an array of objects, one object per line; values keep their types:
 *                    integers and finite numbers as JSON numbers, booleans as true/false,
 *                    json columns (nested data kept as JSON) as JSON, everything else as a
 *                    string, NULL as null; an empty result is [].
 *
 * The table fits the terminal (stdout's width, else $COLUMNS; no limit when neither is
 * known): while a line would be too wide, the widest column gives up a character, down to
 * MIN_FIT_WIDTH, and a cell longer than its column ends in "…". --wide turns that off.
 *
 * Memory stays bounded: csv and json stream each row as it arrives. The table needs column
 * widths, so it buffers the first rows (up to MAX_TABLE_ROWS rows or MAX_TABLE_BYTES bytes),
 * then prints them and streams the rest with the widths found so far (a longer value pushes
 * its own line out of alignment, nothing is cut). The callback only sees rows, so a result
 * with no row has no column names: csv then prints nothing, the table only "(0 rows)".
 * If a statement's column list changes between rows, the csv and table output start a new
 * header. A failed query is reported on stderr and exits 1 (its partial table is dropped).
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define MAX_TABLE_ROWS 10000
#define MAX_TABLE_BYTES ((size_t)16 * 1024 * 1024)
#define MIN_FIT_WIDTH 6 /* a column is not narrowed below this to fit the terminal */

enum format { FORMAT_TABLE, FORMAT_CSV, FORMAT_JSON };

struct query_out {
    enum format format;
    int64_t rows;       /* rows received */
    int failed;         /* out of memory or stdout failed: stop and report */
    /* the column names of the current block, owned */
    char **names;
    size_t ncols;
    int have_header;
    /* table: rendered cells of the buffered rows (row-major, owned) and column widths */
    char **cells;
    size_t n_buffered;
    size_t cap_buffered; /* rows the cells array can hold */
    size_t buffered_bytes;
    size_t *widths;
    int streaming;       /* widths fixed, rows printed as they come */
    size_t max_width;    /* terminal columns to fit the table in; 0: no limit */
};

/* ==== helpers ============================================================================= */

/* Display width in characters of UTF-8 text: every byte that does not continue a sequence. */
static size_t text_width(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++) {
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    }
    return n;
}

/* A value as shown in the table: NULL as "", control characters escaped. Caller frees. */
static char *render_cell(const char *v)
{
    size_t len = 0;
    size_t n = 0;
    char *out;

    if (v == NULL)
        v = "";
    for (const char *s = v; *s != '\0'; s++)
        len += (unsigned char)*s < 0x20 || *s == 0x7f ? 4 : 1;
    out = malloc(len + 1);
    if (out == NULL)
        return NULL;
    for (const char *s = v; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\n' || c == '\t' || c == '\r') {
            out[n++] = '\\';
            out[n++] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(out + n, 5, "\\x%02x", c);
            n += 4;
        } else {
            out[n++] = (char)c;
        }
    }
    out[n] = '\0';
    return out;
}

/* s in at most width characters: cut, ending in "…", when it is longer. */
static void put_fitted(const char *s, size_t width)
{
    size_t w = text_width(s);
    if (w <= width) {
        fputs(s, stdout);
        return;
    }
    size_t n = 0;
    const char *c = s;
    for (; *c != '\0'; c++) {
        if (((unsigned char)*c & 0xc0) != 0x80) {
            if (n + 1 == width)
                break; /* room left for the ellipsis */
            n++;
        }
        fputc(*c, stdout);
    }
    if (width > 0)
        fputs("\xe2\x80\xa6", stdout); /* U+2026 HORIZONTAL ELLIPSIS, one column */
}

static void put_padded(const char *s, size_t width)
{
    size_t w = text_width(s);
    put_fitted(s, width);
    for (; w < width; w++)
        fputc(' ', stdout);
}

/* Narrow the widest columns until a line fits max_width (see the file comment). */
static void fit_widths(struct query_out *q)
{
    size_t total;
    if (q->max_width == 0 || q->ncols == 0)
        return;
    for (;;) {
        size_t widest = 0;
        total = 3 * (q->ncols - 1);
        for (size_t c = 0; c < q->ncols; c++) {
            total += q->widths[c];
            if (q->widths[c] > q->widths[widest])
                widest = c;
        }
        if (total <= q->max_width || q->widths[widest] <= MIN_FIT_WIDTH)
            return;
        q->widths[widest]--;
    }
}

static void free_names(struct query_out *q)
{
    for (size_t i = 0; q->names != NULL && i < q->ncols; i++)
        free(q->names[i]);
    free(q->names);
    q->names = NULL;
    free(q->widths);
    q->widths = NULL;
    q->ncols = 0;
    q->have_header = 0;
}

static void free_buffered(struct query_out *q)
{
    for (size_t i = 0; q->cells != NULL && i < q->n_buffered * q->ncols; i++)
        free(q->cells[i]);
    q->n_buffered = 0;
    q->buffered_bytes = 0;
}

static int same_header(const struct query_out *q, size_t ncols, const char *const *names)
{
    if (!q->have_header || q->ncols != ncols)
        return 0;
    for (size_t i = 0; i < ncols; i++) {
        const char *n = names != NULL && names[i] != NULL ? names[i] : "";
        if (strcmp(q->names[i], n) != 0)
            return 0;
    }
    return 1;
}

/* ==== table =============================================================================== */

/* One cell of column c; the last column is not padded and leaves no trailing blank. */
static void put_cell(const struct query_out *q, size_t c, const char *cell)
{
    int last = c + 1 == q->ncols;

    if (c > 0)
        fputs(last && cell[0] == '\0' ? " |" : " | ", stdout);
    if (last && q->max_width == 0)
        fputs(cell, stdout);
    else if (last)
        put_fitted(cell, q->widths[c]);
    else
        put_padded(cell, q->widths[c]);
}

static void table_print_row(const struct query_out *q, char *const *cells)
{
    for (size_t c = 0; c < q->ncols; c++)
        put_cell(q, c, cells[c]);
    fputc('\n', stdout);
}

/* Print the header and the buffered rows, then free them; later rows stream. */
static void table_flush(struct query_out *q)
{
    if (!q->have_header || q->streaming)
        return;
    fit_widths(q);
    table_print_row(q, q->names);
    for (size_t c = 0; c < q->ncols; c++) {
        if (c > 0)
            fputs("-+-", stdout);
        for (size_t i = 0; i < q->widths[c]; i++)
            fputc('-', stdout);
    }
    fputc('\n', stdout);
    for (size_t r = 0; r < q->n_buffered; r++)
        table_print_row(q, q->cells + r * q->ncols);
    free_buffered(q);
    q->streaming = 1;
}

static int table_row(struct query_out *q, const char *const *values)
{
    char **row;
    size_t bytes = 0;

    if (!q->streaming &&
        (q->n_buffered >= MAX_TABLE_ROWS || q->buffered_bytes >= MAX_TABLE_BYTES))
        table_flush(q); /* buffer full: fix the widths and stream from here */

    if (q->streaming) {
        for (size_t c = 0; c < q->ncols; c++) {
            char *cell = render_cell(values != NULL ? values[c] : NULL);
            if (cell == NULL)
                return -1;
            put_cell(q, c, cell);
            free(cell);
        }
        fputc('\n', stdout);
        return 0;
    }

    if (q->n_buffered == q->cap_buffered) {
        size_t cap = q->cap_buffered == 0 ? 64 : q->cap_buffered * 2;
        char **cells;
        if (cap > MAX_TABLE_ROWS)
            cap = MAX_TABLE_ROWS;
        cells = realloc(q->cells, cap * (q->ncols > 0 ? q->ncols : 1) * sizeof(*cells));
        if (cells == NULL)
            return -1;
        q->cells = cells;
        q->cap_buffered = cap;
    }

    row = q->cells + q->n_buffered * q->ncols;
    for (size_t c = 0; c < q->ncols; c++) {
        size_t w;
        row[c] = render_cell(values != NULL ? values[c] : NULL);
        if (row[c] == NULL) {
            for (size_t k = 0; k < c; k++)
                free(row[k]);
            return -1;
        }
        w = text_width(row[c]);
        if (w > q->widths[c])
            q->widths[c] = w;
        bytes += strlen(row[c]) + 1;
    }
    q->n_buffered++;
    q->buffered_bytes += bytes;
    return 0;
}

/* ==== csv and json ======================================================================== */

static void csv_field(const char *v)
{
    if (v == NULL)
        return;
    if (strpbrk(v, ",\"\r\n") == NULL) {
        fputs(v, stdout);
        return;
    }
    fputc('"', stdout);
    for (; *v != '\0'; v++) {
        if (*v == '"')
            fputc('"', stdout);
        fputc(*v, stdout);
    }
    fputc('"', stdout);
}

static void csv_line(size_t ncols, const char *const *values)
{
    for (size_t c = 0; c < ncols; c++) {
        if (c > 0)
            fputc(',', stdout);
        csv_field(values != NULL ? values[c] : NULL);
    }
    fputc('\n', stdout);
}

/* 1 when s is a JSON number as JSON writes it (SQLite prints "Inf", "-Inf"). */
static int json_number(const char *s)
{
    const char *c = s;
    if (*c == '-')
        c++;
    if (*c < '0' || *c > '9')
        return 0;
    if (*c == '0' && c[1] >= '0' && c[1] <= '9')
        return 0;
    while (*c >= '0' && *c <= '9')
        c++;
    if (*c == '.') {
        c++;
        if (*c < '0' || *c > '9')
            return 0;
        while (*c >= '0' && *c <= '9')
            c++;
    }
    if (*c == 'e' || *c == 'E') {
        c++;
        if (*c == '+' || *c == '-')
            c++;
        if (*c < '0' || *c > '9')
            return 0;
        while (*c >= '0' && *c <= '9')
            c++;
    }
    return *c == '\0';
}

/* One value as JSON of its type (see the file comment); what does not fit its type (a json
 * column holding text that is not JSON, "Inf") is written as a string. */
static void json_value(const char *v, sluice_value_type type)
{
    struct cli_json *doc;
    char err[8];

    if (v == NULL) {
        fputs("null", stdout);
        return;
    }
    switch (type) {
    case SLUICE_VALUE_INTEGER:
    case SLUICE_VALUE_REAL:
        if (json_number(v)) {
            fputs(v, stdout);
            return;
        }
        break;
    case SLUICE_VALUE_BOOL:
        if (strcmp(v, "1") == 0 || strcmp(v, "t") == 0 || strcmp(v, "true") == 0) {
            fputs("true", stdout);
            return;
        }
        if (strcmp(v, "0") == 0 || strcmp(v, "f") == 0 || strcmp(v, "false") == 0) {
            fputs("false", stdout);
            return;
        }
        break;
    case SLUICE_VALUE_JSON:
        doc = cli_json_parse(v, strlen(v), err, sizeof(err));
        if (doc != NULL) {
            cli_json_write(stdout, doc, 0);
            cli_json_free(doc);
            return;
        }
        break;
    default:
        break;
    }
    cli_json_write_cstr(stdout, v);
}

static void json_row(const struct query_out *q, size_t ncols, const char *const *names,
                     const char *const *values, const sluice_value_type *types)
{
    fputs(q->rows == 0 ? "[\n{" : ",\n{", stdout);
    for (size_t c = 0; c < ncols; c++) {
        if (c > 0)
            fputc(',', stdout);
        cli_json_write_cstr(stdout, names != NULL && names[c] != NULL ? names[c] : "");
        fputc(':', stdout);
        json_value(values != NULL ? values[c] : NULL,
                   types != NULL ? types[c] : SLUICE_VALUE_TEXT);
    }
    fputc('}', stdout);
}

/* ==== callback ============================================================================ */

/* A new column list: finish the previous block and keep copies of the names. */
static int start_block(struct query_out *q, size_t ncols, const char *const *names)
{
    if (q->format == FORMAT_TABLE && q->have_header) {
        table_flush(q);
        fputc('\n', stdout);
    }
    free_names(q);
    q->streaming = 0;
    q->cap_buffered = 0;
    free(q->cells);
    q->cells = NULL;

    q->names = calloc(ncols > 0 ? ncols : 1, sizeof(*q->names));
    q->widths = calloc(ncols > 0 ? ncols : 1, sizeof(*q->widths));
    if (q->names == NULL || q->widths == NULL)
        return -1;
    for (size_t c = 0; c < ncols; c++) {
        const char *n = names != NULL && names[c] != NULL ? names[c] : "";
        q->names[c] = q->format == FORMAT_TABLE ? render_cell(n) : strdup(n);
        if (q->names[c] == NULL)
            return -1; /* free_names frees what was copied: the rest are NULL */
        q->ncols = c + 1;
        q->widths[c] = text_width(q->names[c]);
    }
    q->ncols = ncols;
    q->have_header = 1;
    if (q->format == FORMAT_CSV)
        csv_line(ncols, (const char *const *)q->names);
    return 0;
}

static int on_row(void *ctx, int ncols_in, const char *const *names, const char *const *values,
                  const sluice_value_type *types)
{
    struct query_out *q = ctx;
    size_t ncols = ncols_in > 0 ? (size_t)ncols_in : 0;

    if (q->format != FORMAT_JSON && !same_header(q, ncols, names)) {
        if (start_block(q, ncols, names) != 0) {
            q->failed = 1;
            return 1;
        }
    }
    if (values == NULL)
        return 0; /* the header call: columns known, no row */
    switch (q->format) {
    case FORMAT_CSV:
        csv_line(ncols, values);
        break;
    case FORMAT_JSON:
        json_row(q, ncols, names, values, types);
        break;
    case FORMAT_TABLE:
        if (table_row(q, values) != 0) {
            q->failed = 1;
            return 1;
        }
        break;
    }
    q->rows++;
    if (ferror(stdout)) {
        q->failed = 1;
        return 1; /* stop: nobody reads the rest */
    }
    return 0;
}

/* The terminal's width for the table: stdout's, else $COLUMNS, else 0 (no limit). */
static size_t output_width(void)
{
    struct winsize ws;
    const char *cols = getenv("COLUMNS");

    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    if (cols != NULL && cols[0] != '\0') {
        char *end;
        long n = strtol(cols, &end, 10);
        if (*end == '\0' && n > 0 && n < 100000)
            return (size_t)n;
    }
    return 0;
}

int cli_query(sluice_pipeline *p, const struct cli_pipeline_args *a)
{
    struct query_out q;
    sluice_status st;
    int rc = CLI_EXIT_OK;

    memset(&q, 0, sizeof(q));
    if (strcmp(a->format, "csv") == 0)
        q.format = FORMAT_CSV;
    else if (strcmp(a->format, "json") == 0)
        q.format = FORMAT_JSON;
    else
        q.format = FORMAT_TABLE;

    if (q.format == FORMAT_TABLE && !a->wide)
        q.max_width = output_width();
    st = sluice_pipeline_query_typed(p, a->sql, on_row, &q);
    if (q.failed && !ferror(stdout)) {
        rc = cli_report_error(NULL, SLUICE_ERR_NOMEM, 0);
        goto done;
    }
    if (q.failed)
        goto done; /* stdout failed: cli_finish_output reports it */
    if (st != SLUICE_OK) {
        if (q.format == FORMAT_JSON && q.rows > 0)
            fputs("\n", stdout); /* end the partial line; the exit status tells the rest */
        rc = cli_report_error(p, st, 0);
        goto done;
    }

    switch (q.format) {
    case FORMAT_CSV:
        break;
    case FORMAT_JSON:
        fputs(q.rows == 0 ? "[]\n" : "\n]\n", stdout);
        break;
    case FORMAT_TABLE:
        table_flush(&q);
        printf("(%lld %s)\n", (long long)q.rows, q.rows == 1 ? "row" : "rows");
        break;
    }

done:
    free_buffered(&q);
    free(q.cells);
    free_names(&q);
    return rc;
}
