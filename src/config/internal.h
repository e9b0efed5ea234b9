/*
 * internal.h — what the parts of config loading share (src/config/ and src/config.c only).
 *
 * Loading a config is four steps, one file each: yaml.c reads YAML/JSON text into a heap JSON
 * tree whose nodes remember their lines; interp.c replaces ${NAME} references; env.c applies
 * dlt-style environment overrides and remembers which variable set which key; check.c holds
 * the table-driven validators that config.c (pipeline, destination, sources) and
 * resource_keys.c (resource settings, shared with the C API) run over the tree.
 */
#ifndef SLUICE_CONFIG_INTERNAL_H
#define SLUICE_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/json.h"

#define CFG_MAX_TEXT ((size_t)16 << 20)
#define CFG_MAX_DEPTH 64
#define CFG_MAX_NODES ((size_t)200000)
#define CFG_MAX_KEYS 10000u
#define CFG_MAX_KEY_LEN ((size_t)1024)
#define CFG_MAX_STRING ((size_t)1 << 20)
#define CFG_MAX_ENV_SEGS 16
#define CFG_PATH_MAX 512

/* ---- util.c: small helpers ---- */

/* path, or "<config>" when there is none (text given to sl_config_parse). */
const char *sl_cfg_file_name(const char *path);
/* A CONFIG error with origin "config" (first error wins, as sl_fail). */
sluice_status sl_cfg_fail(struct sl_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append to a fixed buffer at *n, truncating silently (paths and messages only). */
void sl_cfg_app(char *out, size_t sz, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* s in the NULL-terminated list: its index, or -1. */
long sl_cfg_list_index(const char *s, const char *const *list);
bool sl_cfg_in_list(const char *s, const char *const *list);
char sl_cfg_upper(char c);
char sl_cfg_lower(char c);

/* ---- yaml.c: scalars typed by the YAML 1.2 core schema ---- */

/* Type a plain (unquoted) scalar: null, bool, int (bigint beyond int64), float, or string.
 * 0 ok, -1 no memory. */
int sl_yaml_resolve_plain(const char *s, size_t n, struct sl_json *out);

/* ---- interp.c ---- */

/* The names of the environment variables whose values went into the config. */
struct sl_cfg_envnames {
    char **v;
    size_t n, cap;
};

/* Replace ${NAME} in every string value of the tree (never keys); $${ is a literal ${. An
 * unset variable is a CONFIG error naming it and the line. Each name used is added to seen. */
sluice_status sl_cfg_interpolate(struct sl_ctx *ctx, const char *path, struct sl_json *root,
                                 struct sl_cfg_envnames *seen);
void sl_cfg_envnames_cleanup(struct sl_cfg_envnames *seen);

struct sl_cfg_overrides;
/* A config error must not echo what came from the environment (a dsn with its password, a
 * token): every value of a variable in seen or ov, of 4 bytes or more and not a plain number,
 * is replaced by ${NAME} in the pending error's message and field. */
void sl_cfg_scrub_error(struct sl_ctx *ctx, const struct sl_cfg_envnames *seen,
                        const struct sl_cfg_overrides *ov);

/* ---- env.c ---- */

struct sl_cfg_override {
    char *path; /* dotted key path of the topmost node the variable set or created */
    char *env;  /* the variable's name as written */
};

struct sl_cfg_overrides {
    struct sl_cfg_override *v;
    size_t n, cap;
};

/* Apply SOURCES__..., DESTINATION__..., DATASET_NAME, PIPELINE_NAME variables to the tree,
 * recording in ov which variable set which key (for error messages). */
sluice_status sl_cfg_apply_env(struct sl_ctx *ctx, struct sl_json *root,
                               struct sl_cfg_overrides *ov);
void sl_cfg_overrides_cleanup(struct sl_cfg_overrides *ov);

#endif
