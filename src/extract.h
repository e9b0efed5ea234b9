/*
 * extract.h — the extract stage: run resources and write their items into a new package.
 *
 * Items stream from the source straight into the package's item files (package.h): memory
 * does not grow with the number of items. The manifest is written (stage "extracted") only
 * after every selected resource finished successfully; a failing source leaves no package.
 */
#ifndef SLUICE_EXTRACT_H
#define SLUICE_EXTRACT_H

#include "pipeline.h"

/* Extract the selected resources (names NULL-terminated, or NULL for all selected) into a
 * new package dir <workdir>/load/<load_id>. *created = 0 when nothing was extracted (no items
 * and nothing else to load): no package is left then. wd_override: NULL or a disposition. */
sluice_status sl_extract(struct sluice_pipeline *p, const char *load_id,
                         const char *const *resources, const char *wd_override, int *created);

/* Used by sluice_yield_json: hand items of JSON text to the running extraction. */
struct sluice_yield;
sluice_status sl_extract_yield_json(struct sluice_yield *y, const char *json, size_t len);
sluice_status sl_extract_yield_fail(struct sluice_yield *y, const char *message);

#endif
