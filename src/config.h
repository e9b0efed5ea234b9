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

#include "base/error.h"
#include "base/json.h"
#include "model/resource.h"

/* Read, interpolate, override and validate a config file. On error *out is NULL and ctx
 * names the file, line and key. */
sluice_status sl_config_load(struct sl_ctx *ctx, const char *path, struct sl_pipeline_cfg **out);
/* The path in dlt's URL form of a file destination ("sqlite:///rel.db", "sqlite:////abs.db"),
 * or url itself when it is not one (borrowed from url). */
const char *sl_cfg_file_url_path(const char *type, const char *url);
/* Same from text (path used in messages and for base_dir). */
sluice_status sl_config_parse(struct sl_ctx *ctx, const char *path, const char *text, size_t len,
                              struct sl_pipeline_cfg **out);
/* Set one resource setting by key as it is written in a config file (value: JSON/YAML tree),
 * validating it exactly like the file loader. Errors: CONFIG naming the key. */
sluice_status sl_resource_cfg_set(struct sl_ctx *ctx, struct sl_resource_cfg *r, const char *key,
                                  const struct sl_json *value);

/* Parse a YAML (or JSON) document into a heap JSON tree with line numbers (scalars typed as
 * YAML 1.2 core schema: null/true/false/ints/floats, quoted scalars stay strings). */
sluice_status sl_yaml_parse(struct sl_ctx *ctx, const char *path, const char *text, size_t len,
                            struct sl_json **out);

#endif
