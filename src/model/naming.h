/*
 * naming.h — dlt's default `snake_case` naming convention: source keys to table and column
 * names.
 *
 * Every table and column name sluice creates goes through this module, so it must produce
 * byte-for-byte what dlt's snake_case NamingConvention produces, or a dataset loaded by sluice
 * would not line up with one loaded by dlt. One identifier is normalized in this order (spec
 * 3.1): trim Python whitespace; translate + * - @ | to x x _ a l; turn every run of characters
 * outside [A-Za-z0-9_] and Unicode decimal digits into one `_`; split camelCase; lowercase;
 * prefix `_` when it starts with a digit; turn each trailing `_` into `x`; collapse `__+` into
 * `_`. A path `a__b__c` is split on `__`, each part normalized, and the parts re-joined with
 * `__` (so paths survive a second normalization). Names longer than the destination's limit are
 * shortened to exactly that many characters as head + tag + tail, where the tag is six
 * characters of the lowercased base64 of SHAKE-128 (libcrypto) of the un-normalized name.
 *
 * Invariants and conventions:
 * - Input is UTF-8. Lengths and limits count characters (Unicode code points), as Python's
 *   len() does, never bytes. A byte that is not part of valid UTF-8 counts as one character
 *   and is treated like any other non-alphanumeric character.
 * - Outputs contain only [a-z0-9_], `x`, and Unicode decimal digits (dlt keeps those because
 *   its regex uses \d), and are never longer than max_len characters when max_len != 0.
 * - max_len 0 means unlimited. A max_len below SL_NAMING_TAG_LEN is raised to it (dlt raises
 *   an assertion there).
 * - Every returned string is sl_malloc'd and owned by the caller (sl_free); NULL means out of
 *   memory (or a failure inside libcrypto, which can only be an allocation failure).
 * - No state: every function is thread-safe.
 * Neighbours: normalize.c (keys and nested table names), schema.c (hints, variant columns).
 */
#ifndef SLUICE_NAMING_H
#define SLUICE_NAMING_H

#include <stddef.h>

#include "sluice.h"

/* Length in characters of the tag put in the middle of a shortened name. */
#define SL_NAMING_TAG_LEN 6
/* Separator of nested names (tables and flattened columns). */
#define SL_NAMING_PATH_SEP "__"
/* Name given to a key that is empty or only whitespace (dlt's relational normalizer). */
#define SL_NAMING_EMPTY_KEY "_empty"

/*
 * Normalize one identifier (a single key, not a path): the `len` bytes at `ident`, which may
 * contain NUL bytes. Shortened to max_len characters when longer, with the tag computed from
 * the trimmed original. An empty or whitespace-only identifier gives "_empty" (dlt's naming
 * convention raises there; its relational normalizer substitutes "_empty" before calling it).
 * Note `column__value` gives `column_value` here; use sl_naming_normalize_path for keys.
 */
char *sl_naming_normalize_identifier(const char *ident, size_t len, size_t max_len);

/*
 * Normalize a key or a table name that may be a path (dlt's normalize_path, which is what dlt
 * applies to every key by default): split on `__`, drop empty and whitespace-only parts,
 * normalize each remaining part (each shortened to max_len), re-join with `__`, and shorten
 * the whole, with the tag computed from `path` exactly as given (untrimmed).
 * An empty or whitespace-only `path` gives "_empty". A path made only of separators and
 * whitespace (e.g. "____") gives "" — that is what dlt does (it creates a column named "").
 */
char *sl_naming_normalize_path(const char *path, size_t max_len);

/*
 * Join two already-normalized names with `__`, neither normalized nor shortened (dlt's
 * make_path). An empty or whitespace-only part (or NULL) is left out, with its separator.
 */
char *sl_naming_make_path(const char *a, const char *b);

/*
 * Join n already-normalized names with `__` (as sl_naming_make_path) and shorten the result
 * to max_len, with the tag computed from the joined string (dlt's shorten_fragments). This is
 * how dlt names nested tables (`parent__field`) and flattened columns (`a__b__c`) built from
 * normalized parts. n == 0 gives "".
 */
char *sl_naming_shorten_fragments(const char *const *parts, size_t n, size_t max_len);

/*
 * Shorten an already-normalized name (normalized_len bytes) to max_len characters when it is
 * longer: keep ceil((max_len - 6) / 2) leading and floor((max_len - 6) / 2) trailing
 * characters around the tag of `original` (original_len bytes). A name that fits is copied.
 * (dlt's shorten_identifier.)
 */
char *sl_naming_shorten(const char *normalized, size_t normalized_len, const char *original,
                        size_t original_len, size_t max_len);

/*
 * The tag of the `len` bytes at `ident`: base64 of the first 4 bytes of SHAKE-128(ident),
 * padding removed, `/` -> `a`, `+` -> `b`, lowercased. Writes SL_NAMING_TAG_LEN characters
 * and a NUL to `out`. Cannot fail.
 */
void sl_naming_tag(const char *ident, size_t len, char out[SL_NAMING_TAG_LEN + 1]);

/*
 * Name of the variant column that holds values of `type_name` that could not be coerced into
 * `column` (already normalized): `<column>__v_<type_name>`, e.g. `inventory_nr__v_text`.
 * type_name is the dlt data type as written in schemas: text, bigint, double, bool, timestamp,
 * date, time, decimal, wei, binary, json. The _max form shortens like
 * sl_naming_shorten_fragments (the tag is computed from the joined name); the plain form does
 * not shorten.
 */
char *sl_naming_variant_column(const char *column, const char *type_name);
char *sl_naming_variant_column_max(const char *column, const char *type_name, size_t max_len);

/* Number of characters (code points, invalid bytes counting one each) in `len` bytes at s. */
size_t sl_naming_char_count(const char *s, size_t len);

#endif
