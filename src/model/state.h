/*
 * state.h — the pipeline state document: local file, destination encoding, version hash.
 *
 * Layout (spec 2.1, kept as dlt's so a dataset can be continued by either tool):
 *   {_state_version, _state_engine_version: 4, _version_hash, pipeline_name, dataset_name,
 *    default_schema_name, schema_names, destination_type, destination_name,
 *    sources: {<source>: {<source keys>..., resources: {<resource>: {<keys>..., incremental:
 *    {<cursor_path>: {initial_value, start_value, last_value, unique_hashes}}}}}},
 *    _local: {...never stored in the destination...}}
 * In the destination the document (minus _local) is typed JSON (strings with U+F026..F02D
 * markers for decimals, datetimes, dates...; sluice keeps cursor values as the JSON the data
 * had, so it writes plain JSON but reads typed JSON written by dlt), zlib-compressed (level
 * 9) and base64-encoded (spec 2.7). The version hash is base64(SHA3-256(canonical JSON of the
 * document without _state_version, _state_engine_version, _version_hash, _local)).
 */
#ifndef SLUICE_STATE_H
#define SLUICE_STATE_H

#include <stdbool.h>

#include "base/error.h"
#include "base/json.h"

/* A new default document for a pipeline (heap). */
struct sl_json *sl_state_new(const char *pipeline_name, const char *dataset_name);
/* Recompute _version_hash; bump _state_version when it changed (not on first hashing).
 * *changed (may be NULL) is true when the stored hash changed, including the first hashing.
 * Errors: NOMEM; STATE when _state_version is not an integer. */
sluice_status sl_state_bump(struct sl_ctx *ctx, struct sl_json *state, bool *changed);
/* The content hash without touching the document (45 bytes incl. NUL). */
sluice_status sl_state_hash(struct sl_ctx *ctx, const struct sl_json *state, char out[45]);

/* Encode for the `state` column: base64(zlib(JSON without _local)); caller sl_free()s. */
sluice_status sl_state_encode(struct sl_ctx *ctx, const struct sl_json *state, char **out);
/* Decode a `state` column value (base64+zlib, or plain JSON for legacy rows); typed-JSON
 * markers are decoded to plain values (datetimes → ISO strings, decimals → numbers as text).
 * A document with _state_engine_version above what sluice knows is a STATE error saying a
 * newer sluice/dlt wrote it. */
sluice_status sl_state_decode(struct sl_ctx *ctx, const char *text, size_t len,
                              struct sl_json **out);

/* The object state.sources.<source>.resources.<resource>, created when missing. */
struct sl_json *sl_state_resource(struct sl_json *state, const char *source, const char *resource);
/* The object state.sources.<source>, created when missing. */
struct sl_json *sl_state_source(struct sl_json *state, const char *source);

/* Local file <workdir>/state.json (atomic write). NOT_FOUND when missing. */
sluice_status sl_state_load_file(struct sl_ctx *ctx, const char *path, struct sl_json **out);
sluice_status sl_state_save_file(struct sl_ctx *ctx, const char *path, const struct sl_json *state);

#endif
