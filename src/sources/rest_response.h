/*
 * rest_response.h — the items of one REST response page: dlt's data_selector and its
 * detection.
 *
 * A data_selector is a JSONPath into the parsed body. Its matches become the page as dlt's
 * RESTClient.extract_response makes it: one match that is a list gives the list's elements,
 * one null match gives nothing, one other match gives that value alone; no match or several
 * give the matches themselves. Without a data_selector the path is detected from the first
 * response (detector.find_response_page_data): a body that is not an object is the page
 * itself ("$"); in an object, lists are looked for depth first down to three keys, and the
 * first whose key is one of data, items, results, entries, records, rows, entities, payload,
 * content, objects, values wins, else the first list found; no list: the whole body.
 */
#ifndef SLUICE_REST_RESPONSE_H
#define SLUICE_REST_RESPONSE_H

#include <stddef.h>

#include "base/error.h"
#include "base/json.h"
#include "base/jsonpath.h"

/* The data selector dlt would detect in doc, as JSONPath text ("$", "data", "meta.items"):
 * a new string (sl_free), or NULL when out of memory. */
char *sl_rest_detect_selector(const struct sl_json *doc);

/* Called once with the number of items of the page, before any item (a paginator wants to
 * know), then for each item in order (index 0-based). A non-OK status stops. */
typedef sluice_status (*sl_rest_count_fn)(void *ud, size_t count);
typedef sluice_status (*sl_rest_item_fn)(void *ud, const struct sl_json *item, size_t index);

/* Hand the items selected by sel in doc to the callbacks (count_fn may be NULL). Errors: NOMEM,
 * SOURCE when the JSONPath walk runs out of its step budget, or a callback's status. */
sluice_status sl_rest_select(struct sl_ctx *ctx, const struct sl_jsonpath *sel,
                             const struct sl_json *doc, sl_rest_count_fn count_fn,
                             sl_rest_item_fn fn, void *ud);

#endif
