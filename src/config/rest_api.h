/*
 * rest_api.h — a source's `rest_api:` block (dlt's declarative REST API config) checked and
 * turned into REST resources (model/rest.h). See rest_api.c.
 */
#ifndef SLUICE_CONFIG_REST_API_H
#define SLUICE_CONFIG_REST_API_H

#include <stddef.h>
#include <stdint.h>

#include "base/json.h"
#include "config/check.h"
#include "model/resource.h"

/* How many resources the block declares (for allocating cfg->resources); 0 when malformed
 * (the check reports it). */
size_t sl_cfg_rest_api_count(const struct sl_json *rest_api);

/* Check the block at rest (the path in c is the source's) and append its resources to
 * cfg->resources (which has room for total), parents before their children. nesting and
 * root_key are the source's (-1: unset). Errors: CONFIG naming file:line and the key. */
sluice_status sl_cfg_rest_api(struct sl_check *c, struct sl_pipeline_cfg *cfg,
                              const char *source, struct sl_json *rest, size_t total,
                              int64_t nesting, int root_key);

#endif
