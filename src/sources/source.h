/*
 * source.h — where items come from: commands, files and C generators.
 *
 * A source run streams items to a callback as they are read: memory never grows with the
 * input. A JSON object is an item; a JSON array is a page whose elements are items (one level:
 * the elements of a page are handed over one by one). Items are arena values valid only
 * during the callback. Each item carries its 1-based position within the resource and the
 * line of the input it started on (for errors: "resource events, item 3 (line 3)").
 */
#ifndef SLUICE_SOURCE_H
#define SLUICE_SOURCE_H

#include "model/resource.h"
#include "base/error.h"
#include "base/json.h"

struct sl_source_sink {
    /* An item. page: items of one page (a top-level JSON array) share it, each other item
     * has its own; table: a table override (singer stream name) or NULL. */
    sluice_status (*on_item)(void *ud, const struct sl_json *item, int64_t item_no,
                             int64_t line, int64_t page, const char *table);
    /* A singer STATE message's value (commands with format: singer), or NULL callback. */
    sluice_status (*on_state)(void *ud, const struct sl_json *state);
    /* A singer SCHEMA message (stream name, key_properties), or NULL callback. */
    sluice_status (*on_schema)(void *ud, const char *stream, const struct sl_json *schema_msg);
    void *ud;
};

struct sl_source_env {
    const char *state_file;       /* path for SLUICE_STATE_FILE, or NULL */
    const char *const *env;       /* extra "NAME=VALUE" strings for commands, NULL-terminated */
};

/* Run a command resource (sh -c in base_dir): JSON lines on stdout (objects, arrays), or the
 * singer protocol (format "singer"). Non-zero exit status or death by signal: SOURCE error
 * with the status and the last lines of stderr. Malformed output: DATA_JSON with line. */
sluice_status sl_source_command_run(struct sl_ctx *ctx, const struct sl_resource_cfg *res,
                                    const char *base_dir, const struct sl_source_env *env,
                                    const struct sl_source_sink *sink);

/* Run a file resource: files matching the glob (sorted by name), JSON lines or a JSON array
 * (or concatenated values), gzip when the name ends in .gz. No file matching: SOURCE error.
 * Item numbers run on across files; errors name the file and line. */
sluice_status sl_source_file_run(struct sl_ctx *ctx, const struct sl_resource_cfg *res,
                                 const char *base_dir, const struct sl_source_sink *sink);

#endif
