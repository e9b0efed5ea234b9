/*
 * config.h — pipeline configuration: YAML/JSON files, ${VAR} interpolation, dlt-style
 * environment overrides, and validation into typed structs.
 *
 * The file is read with libyaml into a JSON tree (every node remembers its line), ${NAME}
 * references in string values are replaced by environment variables (an unset one is an
 * error naming it), then environment overrides are applied (a variable wins over the file):
 *   SOURCES__<SOURCE>__<RESOURCE>__<KEY>[__<SUBKEY>...]  a resource setting
 *   SOURCES__<SOURCE>__<KEY>                            a source setting
 *   DESTINATION__CREDENTIALS / DESTINATION__<TYPE>__CREDENTIALS   the dsn (postgres) or path
 *   DESTINATION__PATH, DATASET_NAME, PIPELINE_NAME
 * (names upper-case, matched case-insensitively; values parsed as YAML scalars/flow). Then
 * the tree is validated: an unknown key, a wrong type or a missing required key is a
 * SLUICE_ERR_CONFIG error naming the key path, the file and the line.
 * Secrets (dsn, credentials, anything from DESTINATION__CREDENTIALS) never appear in errors.
 */
#ifndef SLUICE_CONFIG_H
#define SLUICE_CONFIG_H

#include <stdbool.h>

#include "error.h"
#include "json.h"
#include "schema.h"

enum sl_from_kind {
    SL_FROM_NONE = 0, /* C generator (API) */
    SL_FROM_COMMAND,
    SL_FROM_FILE
};

struct sl_resource_cfg {
    char *source;             /* source name */
    char *name;               /* resource name */
    enum sl_from_kind from;
    char *command;            /* SL_FROM_COMMAND: run with sh -c in base_dir */
    char *file;               /* SL_FROM_FILE: glob (relative to base_dir); .gz decompressed */
    char *format;             /* "jsonl" (default: JSON lines or a JSON array, detected),
                                 "singer" (commands) */
    enum sl_write_disposition wd;   /* default append */
    char *merge_strategy;     /* "delete-insert" (default) */
    char **primary_key;       /* source field names */
    size_t n_pk;
    bool pk_is_list;          /* given as a list: boundary hashes of one column are [value] */
    char **merge_key;
    size_t n_mk;
    char *table_name;         /* static name or template "{type}", or NULL (= resource name) */
    struct sl_json *columns;  /* heap object of column hints, or NULL */
    int64_t max_table_nesting;/* -1 = unset */
    int root_key;             /* source's root_key: -1 unset (on for merge), 0 off, 1 on */
    struct sl_json *incremental; /* heap object, validated keys (see DESIGN.md 4), or NULL */
    bool selected;            /* default true */
};

struct sl_pipeline_cfg {
    char *path;               /* the config file (NULL when built from the C API) */
    char *base_dir;           /* folder of the config file (or cwd) */
    char *pipeline_name;
    char *dest_type;          /* "sqlite" (default), "duckdb", "postgres" */
    char *dest_path;          /* file destinations */
    char *dest_dsn;           /* secret */
    char *dataset;            /* default "<pipeline>_dataset" */
    int64_t max_table_nesting;/* -1 = unset */
    bool archive_packages;    /* keep loaded packages under <workdir>/loaded/ */
    struct sl_resource_cfg *resources;
    size_t nres;
};

/* Read, interpolate, override and validate a config file. On error *out is NULL and ctx
 * names the file, line and key. */
sluice_status sl_config_load(struct sl_ctx *ctx, const char *path, struct sl_pipeline_cfg **out);
/* Same from text (path used in messages and for base_dir). */
sluice_status sl_config_parse(struct sl_ctx *ctx, const char *path, const char *text, size_t len,
                              struct sl_pipeline_cfg **out);
void sl_config_free(struct sl_pipeline_cfg **cfg);

/* Initialise a resource config with defaults (source and name copied). 0 ok, -1 no memory. */
int sl_resource_cfg_init(struct sl_resource_cfg *r, const char *source, const char *name);
void sl_resource_cfg_cleanup(struct sl_resource_cfg *r);
/* Set one resource setting by key as it is written in a config file (value: JSON/YAML tree),
 * validating it exactly like the file loader. Errors: CONFIG naming the key. */
sluice_status sl_resource_cfg_set(struct sl_ctx *ctx, struct sl_resource_cfg *r, const char *key,
                                  const struct sl_json *value);

/* Parse a YAML (or JSON) document into a heap JSON tree with line numbers (scalars typed as
 * YAML 1.2 core schema: null/true/false/ints/floats, quoted scalars stay strings). */
sluice_status sl_yaml_parse(struct sl_ctx *ctx, const char *path, const char *text, size_t len,
                            struct sl_json **out);

#endif
