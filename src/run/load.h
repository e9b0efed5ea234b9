/*
 * load.h — the normalize and load stages of a package.
 *
 * sl_normalize_package turns a package's item files into row files per table and stores the
 * evolved schema in the package (stage "normalized"). sl_load_package applies a normalized
 * package to the destination in ONE transaction: create/evolve tables, truncate replaced
 * tables, insert rows (merge tables through staging), merge, schema version row, state row,
 * _dlt_loads row, commit. A package whose load id is already in _dlt_loads is not applied
 * again (a crash after commit but before clean-up), which makes loading idempotent.
 */
#ifndef SLUICE_LOAD_H
#define SLUICE_LOAD_H

#include "base/json.h"
#include "run/context.h"

/* Read <dir>/manifest.json (heap tree, caller frees). NOT_FOUND when missing; a manifest
 * that does not parse or fails its checksum is a damaged package (package.h). Writing adds
 * the checksum as its last member; reading checks and removes it. */
sluice_status sl_manifest_read(struct sl_ctx *ctx, const char *dir, struct sl_json **out);
sluice_status sl_manifest_write(struct sl_ctx *ctx, const char *dir, const struct sl_json *m);

/* schema: the pipeline's current schema, evolved in place (the caller keeps a copy to roll
 * back to if the stage fails). */
sluice_status sl_normalize_package(struct sluice_pipeline *p, const char *dir,
                                   struct sl_json *manifest, struct sl_schema *schema);

struct sl_pipe;
/* The normalizer over a package's item files: from the resources array (a manifest's), or
 * following them through pipe as they are extracted. Errors go to ctx. Writes the row files
 * and normalized/schema.json; *tables_out: the manifest's "tables" array (caller frees);
 * schema_sum (SL_CHECKSUM_TEXT bytes): the checksum of normalized/schema.json, for the
 * manifest's "schema_checksum". */
sluice_status sl_normalize_core(struct sluice_pipeline *p, struct sl_ctx *ctx, const char *dir,
                                const char *load_id, struct sl_schema *schema,
                                const struct sl_json *resources, struct sl_pipe *pipe,
                                struct sl_json **tables_out, char *schema_sum);
/* Progress reports for a normalized package's tables. */
void sl_normalize_report(struct sluice_pipeline *p, const struct sl_json *tables);

/* Load a normalized package; on success *schema_out is the package's schema (caller owns)
 * and per-table row counts were added to the pipeline's run info. */
sluice_status sl_load_package(struct sluice_pipeline *p, const char *dir,
                              const struct sl_json *manifest, struct sl_schema **schema_out);

/* Loading while normalizing (loadpipe.h). The load thread's body: q is its copy of the
 * pipeline (own ctx and destination handle); follows the row files through lp, then, once the
 * manifest is handed over, finishes the package as sl_load_package does and commits. On
 * success *done (caller frees with sl_load_done_free) holds what sl_load_report needs. */
struct sl_loadpipe;
struct sl_load_done;
sluice_status sl_load_follow(struct sl_loadpipe *lp, struct sluice_pipeline *q,
                             struct sl_load_done **done);
/* After the load thread's commit, on the pipeline's thread: the run's info, the trace (net
 * effects read from q's destination handle), the last progress; *schema_out as
 * sl_load_package's. */
void sl_load_report(struct sluice_pipeline *p, struct sluice_pipeline *q,
                    struct sl_load_done *done, const struct sl_json *manifest,
                    struct sl_schema **schema_out);
void sl_load_done_free(struct sluice_pipeline *p, struct sl_load_done **done);

#endif
