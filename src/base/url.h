/*
 * url.h — building, joining and sanitising URLs the way Python's requests/urllib do it, so
 * that a REST config written for dlt requests exactly the same URLs.
 *
 * - Query strings are encoded as urllib.parse.urlencode does (quote_plus: letters, digits and
 *   "_.-~" kept, a space as '+', every other byte as %XX in upper case).
 * - Paths are "requoted" as requests.utils.requote_uri does: bytes that may not appear in a
 *   URL (space, quotes, non-ASCII...) are percent-encoded, reserved characters and existing
 *   %XX escapes are kept.
 * - References are resolved against a base URL by RFC 3986 section 5.2 (urljoin).
 * - A URL shown in a message has the values of sensitive query parameters (api_key, token,
 *   password, ...: dlt's list, compared case-insensitively) replaced by "***".
 * All functions are pure; strings returned are sl_malloc'd (NULL when out of memory).
 */
#ifndef SLUICE_URL_H
#define SLUICE_URL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/alloc.h"

/* Append s (n bytes) encoded as a query key or value (quote_plus). -1 on memory/cap. */
int sl_url_encode(struct sl_buf *b, const char *s, size_t n);
/* Append s with the bytes that may not appear in a URL percent-encoded (requote_uri). */
int sl_url_requote(struct sl_buf *b, const char *s);
/* Append "key=value" to the URL in b, after '?' or '&' as the URL already has a query. The
 * fragment, if any, is not handled (REST URLs have none). -1 on memory/cap. */
int sl_url_add_query(struct sl_buf *b, const char *key, const char *value);

/* True when s starts with "http:" or "https:" (any case): an absolute URL. */
bool sl_url_is_http(const char *s);
/* base + "/" + path without its leading slashes, as dlt's join_url (a '/' is not doubled). */
char *sl_url_join_path(const char *base, const char *path);
/* The reference ref resolved against base (RFC 3986 5.2, as urllib.parse.urljoin). */
char *sl_url_resolve(const char *base, const char *ref);

/* Is name (n bytes) a sensitive query parameter (dlt's SENSITIVE_PARAMS)? */
bool sl_url_param_sensitive(const char *name, size_t n);
/* The URL with the values of sensitive query parameters and any user:password@ replaced by
 * "***"; everything else byte for byte. */
char *sl_url_sanitize(const char *url);

#endif
