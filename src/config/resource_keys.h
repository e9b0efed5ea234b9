/*
 * resource_keys.h — one resource setting checked and stored (see resource_keys.c).
 */
#ifndef SLUICE_CONFIG_RESOURCE_KEYS_H
#define SLUICE_CONFIG_RESOURCE_KEYS_H

#include "base/json.h"
#include "config/check.h"
#include "model/resource.h"

/* Check the value of one resource key (the path in c is the resource's) and store it in r;
 * an unknown key is an error naming it with a suggestion. v may be coerced in place. */
sluice_status sl_cfg_set_resource_key(struct sl_check *c, struct sl_resource_cfg *r,
                                      const char *key, struct sl_json *v);

#endif
