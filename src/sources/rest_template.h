/*
 * rest_template.h — the {placeholders} of a REST config and values rendered as Python does.
 *
 * dlt expands path, params, headers, json and data with Python's str.format: "{name}" is
 * replaced by a value, "{{" and "}}" are literal braces, a lone "}" or an unclosed "{" is an
 * error. Names are "incremental.<value>", "resources.<parent>.<field>" or a legacy resolve
 * param's name; conversions ("!r") and format specs (":>5") are not supported here (config
 * errors). A value is rendered with Python's str(): strings as they are, None, True and
 * False, floats in repr's shortest form ("1.5", "1e+16"), lists and dicts as Python literals
 * ("['a', 1]"). The same rendering gives query parameter values (requests sends str(value)).
 */
#ifndef SLUICE_REST_TEMPLATE_H
#define SLUICE_REST_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/alloc.h"
#include "base/json.h"

/* Called for each placeholder name (not NUL-terminated). Non-zero stops the scan. */
typedef int (*sl_tmpl_each_fn)(void *ud, const char *name, size_t n);

/* Scan template s: 0 when well-formed (fn called for each placeholder), -1 malformed with
 * *why set to a static reason, or fn's non-zero value. */
int sl_tmpl_scan(const char *s, sl_tmpl_each_fn fn, void *ud, const char **why);

/* A placeholder's value: 0 with *value (borrowed; NULL stands for Python's None), or 1 when
 * the name is unknown. */
typedef int (*sl_tmpl_lookup_fn)(void *ud, const char *name, size_t n,
                                 const struct sl_json **value);

/* Append s expanded to b. 0 ok, -1 out of memory, 1 an unknown name or malformed template
 * (the config check rules both out). */
int sl_tmpl_expand(struct sl_buf *b, const char *s, sl_tmpl_lookup_fn fn, void *ud);

/* One step through template s from *i: the literal text before the next placeholder is
 * appended to lit (unescaped: "{{" as "{"), then 1 with the placeholder's name in name and n,
 * or 0 at the end of s. -1 malformed (*why set), -2 out of memory. */
int sl_tmpl_next(const char *s, size_t *i, struct sl_buf *lit, const char **name, size_t *n,
                 const char **why);

/* Is s exactly one placeholder with nothing around it? Then *name / *n give its name. */
bool sl_tmpl_single(const char *s, const char **name, size_t *n);

/* Does s contain a placeholder (or an escaped brace that expansion changes)? */
bool sl_tmpl_has_braces(const char *s);

/* Append Python's str(v) (v NULL: "None"). -1 out of memory. */
int sl_pystr(struct sl_buf *b, const struct sl_json *v);

#endif
