/*
 * jsonpath.h — the small JSONPath dialect of cursor paths and data selectors.
 *
 * dlt compiles cursor paths with jsonpath-ng (ext parser); this module accepts the subset
 * people write and evaluates it with jsonpath-ng's semantics:
 *   created_at                 one field (also 'odd key', "odd key", ['odd key'])
 *   $ / @                      the whole document
 *   $.a.b   a.b                child fields
 *   a[0]  a[-1]  a[0,2]        list indices (Python indexing; no match on a non-list)
 *   a[*]  a.*                  every list item / every object value, in order
 *   a[1:3]  a[::2]             Python slices of a list
 *   a..b                       b at a and at every node below it (depth first)
 *   a|b                        matches of a, then matches of b (binds tighter than '.',
 *                              so x.a|b.c is x.(a|b).c, as in jsonpath-ng)
 *   (a|b).c                    grouping
 *   a['x','y']   a.x,y         several fields, in the order written
 * Postfix brackets apply to everything on their left (a|b[0] is (a|b)[0], as jsonpath-ng).
 * Names are [A-Za-z_][A-Za-z0-9_-]*, or digits after a dot, or quoted with ' or " (backslash
 * escapes the quote and itself). Filters ([?...]), `where`, arithmetic and the other
 * extensions of jsonpath-ng are not supported and fail to compile.
 *
 * A compiled path is immutable and may be shared by threads. Matches are borrowed pointers
 * into the document. Evaluation recurses once per path step and per nesting level of the
 * document (bounded by the parser's depth cap).
 */
#ifndef SLUICE_JSONPATH_H
#define SLUICE_JSONPATH_H

#include "base/error.h"
#include "base/json.h"

struct sl_jsonpath;

/* Compile path (a NUL-terminated string of at most 4096 bytes). Errors: CONFIG "invalid
 * JSONPath '<path>': <why> at offset N" (the caller adds resource and key with
 * sl_fail_locate); NOMEM. *out is NULL on error; free with sl_jsonpath_free. */
sluice_status sl_jsonpath_compile(struct sl_ctx *ctx, const char *path, struct sl_jsonpath **out);
void sl_jsonpath_free(struct sl_jsonpath **p);

/* First match in doc, or NULL when nothing matches within the step budget (a JSON null that
 * matches is returned as a value of type SL_JSON_NULL, not as NULL). Borrowed from doc. */
const struct sl_json *sl_jsonpath_first(const struct sl_jsonpath *p, const struct sl_json *doc);

/* Call fn for every match, in jsonpath-ng's order. fn returns 0 to go on; a non-zero value
 * stops the walk and is returned. Returns 0 when every match was visited, -1 when the walk
 * hit its step budget (a million steps per document) before that. */
typedef int (*sl_jsonpath_fn)(void *ud, const struct sl_json *match);
int sl_jsonpath_each(const struct sl_jsonpath *p, const struct sl_json *doc, sl_jsonpath_fn fn,
                     void *ud);

/* The field name when the path is one plain field ("created_at", "'odd key'",
 * "['odd key']"), else NULL (dlt's extract_simple_field_name). Borrowed from p. */
const char *sl_jsonpath_simple_field(const struct sl_jsonpath *p);
/* Append one field step for key (n bytes) to a path being built: ".name" (no dot at the
 * start) when key is a plain name, else "['key']" with ' and \ escaped. -1 out of memory. */
int sl_jsonpath_append_key(struct sl_buf *b, const char *key, size_t n);

/* The path as it was compiled. Borrowed from p. */
const char *sl_jsonpath_text(const struct sl_jsonpath *p);

#endif
