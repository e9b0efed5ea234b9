/*
 * json.h — JSON values, the streaming parser (yajl) and the writer.
 *
 * Values (struct sl_json) are plain tagged structs. Two ownership models share the type:
 * - arena trees: built by the parser into a caller's struct sl_arena; immutable; freed by
 *   resetting the arena (per item, page or batch). Never free them one by one.
 * - heap trees: built with sl_json_new_* / sl_json_obj_set / sl_json_arr_push (small,
 *   long-lived documents: state, schema, config); mutable; freed with sl_json_free().
 *   sl_json_dup() deep-copies any tree into a heap tree.
 *
 * Parsing streams: the input is fed in chunks and every top-level value (JSON lines, or
 * concatenated values) or every element of a top-level array (SL_JSON_UNWRAP_ARRAY) is handed
 * to a callback as soon as it is complete, so memory is bounded by the largest item, never by
 * the input. Numbers that fit int64 are SL_JSON_INT; other integers (beyond int64) and all
 * numbers with a fraction or exponent are kept as text too (u.s) so nothing is lost:
 * SL_JSON_DOUBLE carries both d and the original text; SL_JSON_BIGINT only the text.
 * Nesting depth and string length are capped (sl_json_limits); exceeding a cap is DATA_JSON.
 * Object members keep input order; duplicate keys are kept as they come (last one wins for
 * lookups via sl_json_get, which scans from the end).
 */
#ifndef SLUICE_JSON_H
#define SLUICE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/alloc.h"
#include "base/error.h"

enum sl_json_type {
    SL_JSON_NULL = 0,
    SL_JSON_BOOL,
    SL_JSON_INT,    /* u.i */
    SL_JSON_DOUBLE, /* u.d, text in s (original spelling) when parsed, else NULL */
    SL_JSON_BIGINT, /* integer beyond int64: text in s */
    SL_JSON_STRING, /* s, len bytes (may contain NUL), NUL-terminated */
    SL_JSON_ARRAY,  /* items, len */
    SL_JSON_OBJECT  /* members, len */
};

struct sl_json_member;

struct sl_json {
    uint8_t type;      /* enum sl_json_type */
    uint8_t heap;      /* 1 for heap trees (mutable, sl_json_free) */
    uint16_t pad_;
    uint32_t len;      /* string bytes / array items / object members */
    union {
        bool b;
        int64_t i;
        double d;
        struct sl_json *items;
        struct sl_json_member *members;
    } u;
    const char *s;     /* STRING/BIGINT text; DOUBLE original text or NULL */
    uint32_t line;     /* 1-based source line where the value starts (config files), or 0 */
    uint32_t cap;      /* heap trees: capacity of items/members */
};

struct sl_json_member {
    const char *key;
    uint32_t key_len;
    struct sl_json val;
};

/* ---- reading ---------------------------------------------------------------------------- */

const char *sl_json_type_name(enum sl_json_type t); /* "null", "bool", "int", ... */
/* Member value by key (exact bytes), or NULL. The last duplicate wins. */
const struct sl_json *sl_json_get(const struct sl_json *obj, const char *key);
struct sl_json *sl_json_get_mut(struct sl_json *obj, const char *key);
/* String value or NULL when v is NULL or not a string. */
const char *sl_json_str(const struct sl_json *v);
bool sl_json_is_num(const struct sl_json *v);
/* Numeric value as double (INT, DOUBLE, BIGINT); 0 otherwise. */
double sl_json_num(const struct sl_json *v);
/* Deep equality (objects: same keys in any order, the last duplicate of a key counting, as in
 * a Python dict; numbers: INT 1 == DOUBLE 1.0). */
bool sl_json_equal(const struct sl_json *a, const struct sl_json *b);

/* ---- heap trees ------------------------------------------------------------------------- */

/* Constructors set *v (a caller-provided struct, e.g. a member slot); 0 ok, -1 no memory. */
void sl_json_set_null(struct sl_json *v);
void sl_json_set_bool(struct sl_json *v, bool b);
void sl_json_set_int(struct sl_json *v, int64_t i);
void sl_json_set_double(struct sl_json *v, double d);
int sl_json_set_str(struct sl_json *v, const char *s, size_t len);
void sl_json_set_object(struct sl_json *v);
void sl_json_set_array(struct sl_json *v);

/* New heap values (NULL when out of memory); free with sl_json_free. */
struct sl_json *sl_json_new_object(void);
struct sl_json *sl_json_new_array(void);
/* Free a heap tree (the struct itself when it was allocated by sl_json_new_* or sl_json_dup). */
void sl_json_free(struct sl_json *v);
/* Free the contents of a heap value held in a caller's struct; *v becomes null. */
void sl_json_clear(struct sl_json *v);
/* Deep copy of any tree as a heap tree (NULL when out of memory). */
struct sl_json *sl_json_dup(const struct sl_json *v);
int sl_json_copy_into(struct sl_json *dst, const struct sl_json *src); /* dst was null */

/* Set obj[key] = *val, taking ownership of val's contents: val becomes null whatever happens
 * (on failure its contents are freed, so a caller never frees them). val must be a heap value.
 * Replaces an existing member. Returns a pointer to the stored value, NULL when out of
 * memory. */
struct sl_json *sl_json_obj_set_take(struct sl_json *obj, const char *key, struct sl_json *val);
/* obj[key] = a copy of string s (NULL: JSON null) / integer i. 0 ok, -1 out of memory. */
int sl_json_obj_put_str(struct sl_json *obj, const char *key, const char *s);
int sl_json_obj_put_int(struct sl_json *obj, const char *key, int64_t i);
/* obj[key] if it exists, else a new empty object/array/null stored there (setdefault). */
struct sl_json *sl_json_obj_setdefault(struct sl_json *obj, const char *key,
                                       enum sl_json_type type);
/* Remove obj[key] (freeing it); returns true when it existed. */
bool sl_json_obj_del(struct sl_json *obj, const char *key);
/* Append, taking ownership of val's contents as sl_json_obj_set_take does (val becomes null,
 * also on failure). Returns the stored value, NULL when out of memory. */
struct sl_json *sl_json_arr_push_take(struct sl_json *arr, struct sl_json *val);

/* The kind of v with its article, for messages ("item 3 is a string, expected an object"). */
const char *sl_json_kind_phrase(const struct sl_json *v);
/* The value of a hexadecimal digit (either case), -1 for any other character. */
int sl_hex_digit(int c);

/* ---- parsing ---------------------------------------------------------------------------- */

struct sl_json_limits {
    size_t max_depth;        /* default 512 */
    size_t max_string;       /* default 64 MiB */
};

enum sl_json_mode {
    SL_JSON_VALUES = 0,       /* every top-level value is handed over (JSON lines) */
    SL_JSON_UNWRAP_ARRAY = 1  /* a top-level array's elements are handed over one by one;
                                 other top-level values are handed over whole */
};

/* Called for each complete value. index: 1-based count of values handed over so far; line:
 * the line (1-based) where the value started. The value lives in the parser's arena and is
 * valid until the callback returns (the parser resets its arena after the callback unless
 * keep is set). Return 0 to go on, non-zero to stop (sl_json_parser_feed then returns that
 * status, which should be recorded in ctx by the callback). */
typedef sluice_status (*sl_json_value_fn)(void *ud, struct sl_json *value, int64_t index,
                                          int64_t line);

struct sl_json_parser;

/* ctx receives parse errors (DATA_JSON with line, column and byte offset in the message). */
sluice_status sl_json_parser_new(struct sl_json_parser **out, struct sl_ctx *ctx,
                                 enum sl_json_mode mode, const struct sl_json_limits *limits,
                                 sl_json_value_fn fn, void *ud);
sluice_status sl_json_parser_feed(struct sl_json_parser *p, const char *data, size_t len);
/* End of input: fails when a value is incomplete. */
sluice_status sl_json_parser_finish(struct sl_json_parser *p);
/* 1-based number of the top-level value being parsed: in SL_JSON_UNWRAP_ARRAY mode the
 * elements handed over from one top-level array share it (a page). */
int64_t sl_json_parser_page(const struct sl_json_parser *p);
/* Line number (1-based) at the current parse position. */
int64_t sl_json_parser_line(const struct sl_json_parser *p);
void sl_json_parser_free(struct sl_json_parser **p);
/* A parser of a source's input (given its own ctx, pctx) failed with rc: unless ctx already
 * holds an error (the caller's or its value callback's) or pctx says out of memory (then
 * NOMEM), put the parser's error into ctx worded to name the input: "malformed JSON in
 * <where> at <position>: ..." for a syntax error, "<label>: <message>" for another, "reading
 * <where> failed" when the parser recorded none; its origin stays (default "json"). Returns 1
 * when it put the parser's error (the caller then locates it), else 0. */
int sl_json_parser_error(struct sl_ctx *ctx, const struct sl_ctx *pctx, sluice_status rc,
                         const char *where, const char *label);

/* Parse one complete document from memory into an arena tree. */
sluice_status sl_json_parse(struct sl_ctx *ctx, struct sl_arena *arena, const char *text,
                            size_t len, struct sl_json **out);
/* Parse one complete document into a heap tree (caller frees with sl_json_free). */
sluice_status sl_json_parse_heap(struct sl_ctx *ctx, const char *text, size_t len,
                                 struct sl_json **out);

/* ---- writing ---------------------------------------------------------------------------- */

enum {
    SL_JSON_W_SORTED = 1,   /* object keys sorted by bytes (canonical form for hashes, state) */
    SL_JSON_W_PRETTY = 2,   /* two-space indentation */
    SL_JSON_W_RAW_FFFD = 4  /* strings: an invalid UTF-8 byte becomes U+FFFD written as UTF-8
                               (orjson's bytes, for dlt-compatible hashes), not "\\ufffd" */
};

/* Length of the strictly valid UTF-8 sequence at s (RFC 3629: no overlong forms, surrogates
 * or code points past U+10FFFF), at most n bytes; 0 when invalid. */
size_t sl_utf8_seq(const unsigned char *s, size_t n);

/* Append the JSON text of v to b (compact unless PRETTY). -1 when out of memory / cap. */
int sl_json_write(struct sl_buf *b, const struct sl_json *v, int flags);
/* Append s as a JSON string literal (quotes, escapes; invalid UTF-8 bytes as \ufffd). */
int sl_json_write_string(struct sl_buf *b, const char *s, size_t len);
/* The same with flags (SL_JSON_W_RAW_FFFD). */
int sl_json_write_string_ex(struct sl_buf *b, const char *s, size_t len, int flags);
/* Shortest text that reads back as the same double ("1.5", "1e+300"); NaN/inf as null. */
int sl_json_write_double(struct sl_buf *b, double d);
/* d in the shortest digits that read back as it, spelled as dlt's Python does: orjson's JSON
 * (python_repr false: fixed notation for decimal exponents -5..15, "100.0", "1e-06",
 * "1.5e+16"; NaN and infinities as null) or Python's repr() (exponents -4..15, "1e-05",
 * "1.5e+16", "nan", "inf"). -1 when out of memory / cap. */
int sl_json_write_double_py(struct sl_buf *b, double d, bool python_repr);
/* The bytes dlt hashes: v as orjson.dumps(v, option=OPT_SORT_KEYS) writes it (compact, keys
 * sorted by bytes at every level, the last of duplicate keys, non-ASCII as UTF-8, an invalid
 * UTF-8 byte as U+FFFD, doubles as sl_json_write_double_py, or their own text when it is
 * already orjson's). -1 when out of memory / cap. */
int sl_json_write_orjson(struct sl_buf *b, const struct sl_json *v);
/* Convenience: JSON text of v in a new string (caller sl_free), NULL when out of memory. */
char *sl_json_dumps(const struct sl_json *v, int flags);

#endif
