/*
 * extract.h — the extract stage: run resources and write their items into a new package.
 *
 * Items stream from the source straight into the package's item files (package.h): memory
 * does not grow with the number of items. The manifest is written (stage "extracted") only
 * after every selected resource finished successfully; a failing source leaves no package.
 */
#ifndef SLUICE_EXTRACT_H
#define SLUICE_EXTRACT_H

#include "run/context.h"

struct sl_extract_opts {
    const char *const *resources;  /* NULL-terminated names, or NULL for all selected */
    const char *wd_override;       /* NULL or a write disposition for every resource */
    const struct sl_json *start;   /* backfill window [start, end), or NULL */
    const struct sl_json *end;
    const char *refresh;           /* NULL, "drop_sources", "drop_resources", "drop_data" */
    struct sl_schema *work;        /* non-NULL: normalize into it on a second thread while
                                      extracting (pipe.h); the package comes out normalized */
    const char *packages_dir;      /* where the package dir is made; NULL: <workdir>/load */
    struct sl_loadpipe *loadpipe;  /* with work: a load thread follows the normalizer's row
                                      files (loadpipe.h), or NULL */
};

/* Extract the selected resources into a new package dir <packages_dir>/<load_id>, against a
 * working copy of p->state; the new state travels in the manifest when it changed. *created
 * = 0 when there is nothing to load (no items, no replace, no state change): no package is
 * left then. */
sluice_status sl_extract(struct sluice_pipeline *p, const char *load_id,
                         const struct sl_extract_opts *o, int *created);

/* Used by sluice_yield_json: hand items of JSON text to the running extraction. */
struct sluice_yield;
sluice_status sl_extract_yield_json(struct sluice_yield *y, const char *json, size_t len);
sluice_status sl_extract_yield_fail(struct sluice_yield *y, const char *message);
sluice_status sl_extract_yield_state_get(struct sluice_yield *y, char **json_out);
sluice_status sl_extract_yield_state_set(struct sluice_yield *y, const char *json);
sluice_status sl_extract_yield_source_state_get(struct sluice_yield *y, char **json_out);
sluice_status sl_extract_yield_source_state_set(struct sluice_yield *y, const char *json);
const char *sl_extract_yield_incremental(struct sluice_yield *y, const char *which);
void sl_extract_yield_out_of_range(struct sluice_yield *y, int *start, int *end);

#endif
