/*
 * check.h — validating a config tree against tables of expected keys.
 *
 * A struct sl_check walks the tree keeping the dotted path of the key being checked, so every
 * error names it: "t.yaml:7: 'incremental.cursor_path' must not be empty". Where a node came
 * from an environment override (line 0) the error names the variable instead of a line.
 * Key errors (unknown, missing) name the full dotted path; value errors name the key relative
 * to its owner (c->rel: the resource, or the top level). Values are never echoed except
 * enumeration words that look like words, so a secret cannot leak into a message.
 *
 * A mapping is described by a table of struct sl_check_field (key, kind, enum words, minimum,
 * required, null allowed); sl_check_fields checks unknown keys (with a "did you mean"),
 * missing required keys and each present value, in table order. Integer, number and boolean
 * values also accept a string holding such a scalar (what "${DEPTH}" gives), the way dlt
 * coerces config values to the declared type: such a node is rewritten in place to its typed
 * value.
 */
#ifndef SLUICE_CONFIG_CHECK_H
#define SLUICE_CONFIG_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/json.h"
#include "config/internal.h"

struct sl_check {
    struct sl_ctx *ctx;
    bool api;                   /* sl_resource_cfg_set: no file, no line */
    const char *file;
    const struct sl_cfg_overrides *ov;
    const char *resource;       /* api: the resource named in the error */
    char path[CFG_PATH_MAX];    /* dotted path of the key being checked */
    size_t plen;
    size_t rel;                 /* start of the path relative to its owner */
};

enum sl_check_kind {
    SL_CHECK_ANY = 0, /* anything: checked by the caller */
    SL_CHECK_STR,     /* a non-empty string without NUL */
    SL_CHECK_ENUM,    /* one of names */
    SL_CHECK_INT,     /* an integer >= min */
    SL_CHECK_NUM,     /* a finite number >= 0 */
    SL_CHECK_BOOL,
    SL_CHECK_SCALAR,  /* string, number, bool or null */
    SL_CHECK_KEYLIST  /* a string or a list of non-empty strings */
};

struct sl_check_field {
    const char *key;
    enum sl_check_kind kind;
    const char *const *names;   /* SL_CHECK_ENUM */
    int64_t min;                /* SL_CHECK_INT */
    bool required;
    bool null_ok;               /* null is accepted (and means "unset") */
};

/* The checked value of one field. */
struct sl_check_value {
    const char *s;              /* STR, ENUM (the word) */
    size_t idx;                 /* ENUM */
    int64_t i;                  /* INT */
    bool b;                     /* BOOL */
    bool present;               /* the key was there (and not an accepted null) */
};

/* Path bookkeeping: push returns the old length to pop back to. */
size_t sl_check_push(struct sl_check *c, const char *key);
size_t sl_check_push_index(struct sl_check *c, size_t i);
void sl_check_pop(struct sl_check *c, size_t old);
/* The path relative to its owner (for value errors). */
const char *sl_check_rel(const struct sl_check *c);

/* A CONFIG error at node at ("file:line: ", "environment variable X: " or nothing for the
 * API), with the resource named for the API. */
sluice_status sl_check_err(struct sl_check *c, const struct sl_json *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "'<rel>' must be <what>". */
sluice_status sl_check_type(struct sl_check *c, const struct sl_json *v, const char *what);
/* "unknown key '<path>.<key>' (did you mean ...?)". */
sluice_status sl_check_unknown(struct sl_check *c, const struct sl_json *at, const char *key,
                               const char *const *known);
/* "missing required key '<path>.<key>'". */
sluice_status sl_check_missing(struct sl_check *c, const struct sl_json *obj, const char *key);

/* One value against one field's kind (the path already points at it). out may be NULL. */
sluice_status sl_check_value(struct sl_check *c, struct sl_json *v,
                             const struct sl_check_field *f, struct sl_check_value *out);
/* obj (a mapping) against a table ending with a {NULL} entry: unknown keys first, then each
 * field in table order (missing required, then the value). vals, when not NULL, has one
 * entry per field. */
sluice_status sl_check_fields(struct sl_check *c, struct sl_json *obj,
                              const struct sl_check_field *fields, struct sl_check_value *vals);
/* One optional key of obj checked by f (absent is fine); out may be NULL. */
sluice_status sl_check_child(struct sl_check *c, struct sl_json *obj,
                             const struct sl_check_field *f, struct sl_check_value *out);

/* A string or a list of strings, copied to a new array (*out, *nout) when out is not NULL. */
sluice_status sl_check_keylist(struct sl_check *c, const struct sl_json *v, char ***out,
                               size_t *nout);
/* Replace *slot by a heap copy of v (NULL for a JSON null). */
sluice_status sl_check_store_json(struct sl_check *c, const struct sl_json *v,
                                 struct sl_json **slot);

#endif
