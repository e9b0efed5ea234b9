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

#include "base/error.h"
#include "base/json.h"
#include "model/incremental.h"
#include "model/resource.h"

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
    /* After the last item of a page, before a source asks for the next one (REST), or NULL.
     * A non-OK status stops the source, which returns it (row_order early stop). */
    sluice_status (*on_page_end)(void *ud, int64_t page);
    /* Optional. A line the source wrote to its standard error (a command's), without the
     * newline, NUL-terminated, at most SL_SOURCE_LINE_MAX bytes (a longer line comes in
     * pieces). Borrowed for the call. */
    void (*on_stderr)(void *ud, const char *line);
    /* Optional. Called when the source has waited about SL_SOURCE_WAIT_MS for data, so the
     * caller can report progress that a burst of items left unreported. */
    void (*on_wait)(void *ud);
};

#define SL_SOURCE_LINE_MAX 4096
#define SL_SOURCE_WAIT_MS 100

struct sl_source_env {
    const char *state_file;       /* path for SLUICE_STATE_FILE, or NULL */
    const char *const *env;       /* extra "NAME=VALUE" strings for commands, NULL-terminated */
    /* REST resources */
    const struct sl_incremental *inc; /* the bound incremental (its values fill params) */
    const char *parent_items;     /* a child's parent items: JSON lines, one object a line */
    uint64_t seed;                /* retry jitter */
    double (*now)(void);          /* monotonic clock (OAuth2 token expiry), NULL: real */
    const _Atomic int *interrupt; /* non-zero: stop (sluice_pipeline_interrupt), or NULL */
    const char *stderr_log;       /* file the command's stderr is kept in (for errors), or NULL */
};

/* Run a command resource (sh -c in base_dir): JSON lines on stdout (objects, arrays), or the
 * singer protocol (format "singer"). Stderr goes line by line to sink->on_stderr. Non-zero
 * exit status or death by signal: SOURCE error with the status, the last line of stderr and
 * the env's stderr_log file. Malformed output: DATA_JSON with line. When env->interrupt turns
 * non-zero or res->timeout seconds pass, the command's process group is stopped (SIGTERM,
 * SIGKILL after a grace period; at once on a second interrupt) and the call returns
 * INTERRUPTED or a SOURCE error naming the timeout. */
sluice_status sl_source_command_run(struct sl_ctx *ctx, const struct sl_resource_cfg *res,
                                    const char *base_dir, const struct sl_source_env *env,
                                    const struct sl_source_sink *sink);

/* Run a file resource: files matching the glob (sorted by name), JSON lines or a JSON array
 * (or concatenated values), gzip when the name ends in .gz. No file matching: SOURCE error.
 * Item numbers run on across files; errors name the file and line. */
sluice_status sl_source_file_run(struct sl_ctx *ctx, const struct sl_resource_cfg *res,
                                 const char *base_dir, const struct sl_source_sink *sink);

/* Run a resource of a rest_api source (model/rest.h, sources/rest_api.c): requests with its
 * auth, pages by its paginator, items by its data_selector, each page's items handed to the
 * sink (one page per response) with on_page_end after it. A child resource (parent set)
 * runs its requests once per item of env->parent_items. HTTP and transport failures:
 * SOURCE_HTTP naming the request (secrets masked); a body that is not JSON: DATA_JSON naming
 * the URL; the resource is named in every error. */
sluice_status sl_source_rest_run(struct sl_ctx *ctx, const struct sl_resource_cfg *res,
                                 const struct sl_source_env *env,
                                 const struct sl_source_sink *sink);

#endif
