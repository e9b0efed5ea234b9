/*
 * naming.c — dlt's `snake_case` naming convention (see naming.h for the rules and contract).
 *
 * dlt implements the convention as a chain of Python regex substitutions over str (code
 * points). This file reproduces each substitution as one pass over a byte buffer, in dlt's
 * order, so that the intermediate strings are the same as dlt's and the reasoning can be
 * checked one step at a time. Working on UTF-8 bytes instead of code points is exact here
 * because, after the first pass, the only non-ASCII characters left are Unicode decimal digits,
 * and every later pattern (camelCase splits, lowercasing, `__` collapsing) only looks at ASCII
 * bytes, which never occur inside a multi-byte UTF-8 sequence. The places where characters and
 * bytes differ — trimming, the first pass, leading-digit detection and shortening — decode
 * UTF-8 explicitly.
 *
 * Python details that matter and are easy to miss:
 * - str.strip() removes Unicode whitespace (U+00A0, U+3000, ...) and U+001C..U+001F.
 * - `\d` in a str pattern matches every Unicode decimal digit (category Nd), so `٣` survives
 *   the `[^a-zA-Z\d_]+` replacement and also triggers the leading-digit `_` prefix.
 * - re.sub replaces non-overlapping matches scanning left to right; the first camelCase
 *   pattern consumes its trailing lowercase run, which changes where later matches can start.
 * - len() and slicing count code points, so max_length and the head/tail split do too.
 * The tables below are from Python 3.11 (Unicode 14.0).
 */
#include "model/naming.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "base/alloc.h"
#include "base/digest.h"

/* ==== characters =========================================================================== */

/* First code point of each run of Unicode decimal digits (Python `\d`); each run has 10
 * members except the mathematical digits U+1D7CE..U+1D7FF (50). */
static const uint32_t digit_runs[] = {
    0x30,    0x660,   0x6f0,   0x7c0,   0x966,   0x9e6,   0xa66,   0xae6,   0xb66,
    0xbe6,   0xc66,   0xce6,   0xd66,   0xde6,   0xe50,   0xed0,   0xf20,   0x1040,
    0x1090,  0x17e0,  0x1810,  0x1946,  0x19d0,  0x1a80,  0x1a90,  0x1b50,  0x1bb0,
    0x1c40,  0x1c50,  0xa620,  0xa8d0,  0xa900,  0xa9d0,  0xa9f0,  0xaa50,  0xabf0,
    0xff10,  0x104a0, 0x10d30, 0x11066, 0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450,
    0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0, 0x11950, 0x11c50, 0x11d50, 0x11da0,
    0x16a60, 0x16ac0, 0x16b50, 0x1d7ce, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
};

/* Marks a byte that does not start a valid UTF-8 sequence; no table contains it. */
#define INVALID_CP 0xFFFFFFFFu

static bool is_py_digit(uint32_t cp)
{
    if (cp < 0x80)
        return cp >= '0' && cp <= '9';
    for (size_t i = 0; i < sizeof(digit_runs) / sizeof(digit_runs[0]); i++) {
        uint32_t first = digit_runs[i];
        uint32_t last = first == 0x1d7ce ? 0x1d7ff : first + 9;
        if (cp >= first && cp <= last)
            return true;
    }
    return false;
}

/* Python str.isspace(), which is what str.strip() removes. */
static bool is_py_space(uint32_t cp)
{
    if ((cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20))
        return true;
    if (cp == 0x85 || cp == 0xa0 || cp == 0x1680 || cp == 0x2028 || cp == 0x2029)
        return true;
    if ((cp >= 0x2000 && cp <= 0x200a) || cp == 0x202f || cp == 0x205f || cp == 0x3000)
        return true;
    return false;
}

static bool is_ascii_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static bool is_ascii_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
static bool is_ascii_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static bool is_word_ascii(unsigned char c)
{
    return is_ascii_upper(c) || is_ascii_lower(c) || is_ascii_digit(c) || c == '_';
}

/*
 * Decode the character starting at s[i] (i < len): store its code point in *cp and return its
 * size in bytes. A byte that does not start a well-formed sequence (stray continuation byte,
 * truncated or overlong sequence, surrogate, > U+10FFFF) is one character, INVALID_CP.
 */
static size_t utf8_next(const unsigned char *s, size_t len, size_t i, uint32_t *cp)
{
    unsigned char c = s[i];
    size_t n;
    uint32_t v;
    uint32_t min;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        v = c & 0x1fu;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        v = c & 0x0fu;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        v = c & 0x07u;
        min = 0x10000;
    } else {
        *cp = INVALID_CP;
        return 1;
    }
    if (n > len - i) {
        *cp = INVALID_CP;
        return 1;
    }
    for (size_t k = 1; k < n; k++) {
        unsigned char cc = s[i + k];
        if ((cc & 0xc0u) != 0x80u) {
            *cp = INVALID_CP;
            return 1;
        }
        v = (v << 6) | (cc & 0x3fu);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
        *cp = INVALID_CP;
        return 1;
    }
    *cp = v;
    return n;
}

size_t sl_naming_char_count(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t count = 0;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        i += utf8_next(u, len, i, &cp);
        count++;
    }
    return count;
}

/* Byte offset of the character number `nchars` (counting from 0) in s; len if past the end. */
static size_t char_offset(const char *s, size_t len, size_t nchars)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (nchars > 0 && i < len) {
        uint32_t cp;
        i += utf8_next(u, len, i, &cp);
        nchars--;
    }
    return i;
}

/* Trim Python whitespace from both ends: sets *start and *end (byte offsets, start <= end). */
static void py_strip(const char *s, size_t len, size_t *start, size_t *end)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    size_t first = len;
    size_t last_end = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = utf8_next(u, len, i, &cp);
        if (!is_py_space(cp)) {
            if (first == len)
                first = i;
            last_end = i + n;
        }
        i += n;
    }
    if (first == len) {
        *start = len;
        *end = len;
        return;
    }
    *start = first;
    *end = last_end;
}

static bool is_blank(const char *s, size_t len)
{
    size_t start;
    size_t end;
    py_strip(s, len, &start, &end);
    return start == end;
}

/* ==== tag and shortening =================================================================== */

/* dlt's tag size for collision probability 0.001: floor(3 * log2(1000) / 8) + 1 = 4 bytes,
 * which is 6 base64 characters without padding. */
#define TAG_DIGEST_BYTES 4

void sl_naming_tag(const char *ident, size_t len, char out[SL_NAMING_TAG_LEN + 1])
{
    unsigned char digest[TAG_DIGEST_BYTES];
    char b64[8]; /* 4 bytes: six characters without padding */
    sl_shake128(digest, sizeof(digest), ident, len);
    sl_base64(digest, sizeof(digest), 0, b64);
    for (int k = 0; k < SL_NAMING_TAG_LEN; k++) {
        char c = b64[k];
        if (c == '/')
            c = 'a';
        else if (c == '+')
            c = 'b';
        else if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        out[k] = c;
    }
    out[SL_NAMING_TAG_LEN] = '\0';
}

char *sl_naming_shorten(const char *normalized, size_t normalized_len, const char *original,
                        size_t original_len, size_t max_len)
{
    if (max_len == 0)
        return sl_strndup(normalized, normalized_len);
    if (max_len < SL_NAMING_TAG_LEN)
        max_len = SL_NAMING_TAG_LEN;
    size_t nchars = sl_naming_char_count(normalized, normalized_len);
    if (nchars <= max_len)
        return sl_strndup(normalized, normalized_len);

    char tag[SL_NAMING_TAG_LEN + 1];
    sl_naming_tag(original, original_len, tag);
    size_t remaining = max_len - SL_NAMING_TAG_LEN;
    size_t head_chars = remaining / 2 + remaining % 2;
    size_t tail_chars = remaining / 2;
    size_t head_end = char_offset(normalized, normalized_len, head_chars);
    size_t tail_start = char_offset(normalized, normalized_len, nchars - tail_chars);
    size_t tail_len = normalized_len - tail_start;

    char *out = sl_malloc(head_end + SL_NAMING_TAG_LEN + tail_len + 1);
    if (!out)
        return NULL;
    memcpy(out, normalized, head_end);
    memcpy(out + head_end, tag, SL_NAMING_TAG_LEN);
    memcpy(out + head_end + SL_NAMING_TAG_LEN, normalized + tail_start, tail_len);
    out[head_end + SL_NAMING_TAG_LEN + tail_len] = '\0';
    return out;
}

/* ==== one identifier ======================================================================= */

/* What an ASCII character becomes in pass 1, or 0 when it is not kept (`_` run material). */
static char reduce_ascii(uint32_t cp)
{
    if (cp >= 0x80)
        return 0;
    if (is_word_ascii((unsigned char)cp))
        return (char)cp;
    switch (cp) {
    case '+':
    case '*':
        return 'x';
    case '-':
        return '_';
    case '@':
        return 'a';
    case '|':
        return 'l';
    default:
        return 0;
    }
}

/*
 * Pass 1 (translate, then `[^a-zA-Z\d_]+` -> `_`): + * - @ | become x x _ a l and count as
 * kept characters (so `-!` gives `__`); each run of other characters becomes one `_`.
 */
static int pass_reduce_alphabet(struct sl_buf *out, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    bool in_run = false;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = utf8_next(u, len, i, &cp);
        int rc;
        char c = reduce_ascii(cp);
        if (c) {
            rc = sl_buf_putc(out, c);
            in_run = false;
        } else if (cp != INVALID_CP && is_py_digit(cp)) {
            rc = sl_buf_append(out, s + i, n);
            in_run = false;
        } else if (!in_run) {
            rc = sl_buf_putc(out, '_');
            in_run = true;
        } else {
            rc = 0;
        }
        if (rc)
            return -1;
        i += n;
    }
    return 0;
}

/*
 * Pass 2: re.sub(`([^_])([A-Z][a-z]+)`, `\1_\2`). Scans left to right; after a match, the next
 * search starts after the consumed lowercase run.
 */
static int pass_break_words(struct sl_buf *out, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t copied = 0;
    size_t i = 0;
    while (i + 2 < len) {
        if (u[i] != '_' && is_ascii_upper(u[i + 1]) && is_ascii_lower(u[i + 2])) {
            size_t end = i + 3;
            while (end < len && is_ascii_lower(u[end]))
                end++;
            if (sl_buf_append(out, s + copied, i + 1 - copied))
                return -1;
            if (sl_buf_putc(out, '_'))
                return -1;
            if (sl_buf_append(out, s + i + 1, end - (i + 1)))
                return -1;
            copied = end;
            i = end;
        } else {
            i++;
        }
    }
    return sl_buf_append(out, s + copied, len - copied);
}

/*
 * Pass 3: re.sub(`([a-z0-9])([A-Z])`, `\1_\2`) followed by lower(). Matches cannot overlap in
 * a way that matters (the second group is never a first group), so one scan does both.
 */
static int pass_break_case_lower(struct sl_buf *out, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = u[i];
        if (is_ascii_upper(c))
            c = (unsigned char)(c - 'A' + 'a');
        if (sl_buf_putc(out, (char)c))
            return -1;
        bool lower_or_digit = is_ascii_lower(u[i]) || is_ascii_digit(u[i]);
        if (lower_or_digit && i + 1 < len && is_ascii_upper(u[i + 1])) {
            if (sl_buf_putc(out, '_'))
                return -1;
        }
    }
    return 0;
}

/*
 * Pass 4: `_` prefix when the name starts with a (Unicode) digit, every trailing `_` -> `x`,
 * then `__+` -> `_`.
 */
static int pass_finish(struct sl_buf *out, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t trailing = 0;
    while (trailing < len && u[len - 1 - trailing] == '_')
        trailing++;
    size_t body = len - trailing;

    if (len > 0) {
        uint32_t cp;
        utf8_next(u, len, 0, &cp);
        if (cp != INVALID_CP && is_py_digit(cp)) {
            if (sl_buf_putc(out, '_'))
                return -1;
        }
    }
    /* the prefix `_` never merges with a following `_`: the name starts with a digit */
    for (size_t i = 0; i < body; i++) {
        if (u[i] == '_' && i > 0 && u[i - 1] == '_')
            continue;
        if (sl_buf_putc(out, (char)u[i]))
            return -1;
    }
    for (size_t i = 0; i < trailing; i++) {
        if (sl_buf_putc(out, 'x'))
            return -1;
    }
    return 0;
}

char *sl_naming_normalize_identifier(const char *ident, size_t len, size_t max_len)
{
    struct sl_buf a;
    struct sl_buf b;
    char *result = NULL;
    size_t start;
    size_t end;

    py_strip(ident, len, &start, &end);
    if (start == end)
        return sl_strdup(SL_NAMING_EMPTY_KEY);
    const char *trimmed = ident + start;
    size_t trimmed_len = end - start;

    sl_buf_init(&a, 0);
    sl_buf_init(&b, 0);
    if (pass_reduce_alphabet(&a, trimmed, trimmed_len))
        goto done;
    if (pass_break_words(&b, a.data, a.len))
        goto done;
    sl_buf_reset(&a);
    if (pass_break_case_lower(&a, b.data, b.len))
        goto done;
    sl_buf_reset(&b);
    if (pass_finish(&b, a.data, a.len))
        goto done;
    result = sl_naming_shorten(b.data, b.len, trimmed, trimmed_len, max_len);
done:
    sl_buf_cleanup(&a);
    sl_buf_cleanup(&b);
    return result;
}

/* ==== paths ================================================================================ */

/* Append `part` to a `__`-joined path, leaving out blank parts (dlt's make_path filter). */
static int path_append(struct sl_buf *path, const char *part, size_t len)
{
    if (is_blank(part, len))
        return 0;
    if (path->len > 0 && sl_buf_append(path, SL_NAMING_PATH_SEP, 2))
        return -1;
    return sl_buf_append(path, part, len);
}

char *sl_naming_normalize_path(const char *path, size_t max_len)
{
    struct sl_buf joined;
    char *result = NULL;
    size_t len = strlen(path);

    if (is_blank(path, len))
        return sl_strdup(SL_NAMING_EMPTY_KEY);

    sl_buf_init(&joined, 0);
    /* Python str.split("__"): non-overlapping, left to right, so "a___b" is "a", "_b". */
    size_t part_start = 0;
    for (;;) {
        const char *sep = strstr(path + part_start, SL_NAMING_PATH_SEP);
        size_t part_end = sep ? (size_t)(sep - path) : len;
        size_t part_len = part_end - part_start;
        if (!is_blank(path + part_start, part_len)) {
            char *norm = sl_naming_normalize_identifier(path + part_start, part_len, max_len);
            if (!norm)
                goto done;
            int rc = path_append(&joined, norm, strlen(norm));
            sl_free(norm);
            if (rc)
                goto done;
        }
        if (!sep)
            break;
        part_start = part_end + 2;
    }
    if (!joined.data) {
        result = sl_strdup("");
        goto done;
    }
    result = sl_naming_shorten(joined.data, joined.len, path, len, max_len);
done:
    sl_buf_cleanup(&joined);
    return result;
}

char *sl_naming_shorten_fragments(const char *const *parts, size_t n, size_t max_len)
{
    struct sl_buf joined;
    char *result = NULL;

    sl_buf_init(&joined, 0);
    for (size_t i = 0; i < n; i++) {
        const char *p = parts[i] ? parts[i] : "";
        if (path_append(&joined, p, strlen(p)))
            goto done;
    }
    if (!joined.data) {
        result = sl_strdup("");
        goto done;
    }
    result = sl_naming_shorten(joined.data, joined.len, joined.data, joined.len, max_len);
done:
    sl_buf_cleanup(&joined);
    return result;
}

char *sl_naming_make_path(const char *a, const char *b)
{
    const char *parts[2] = {a, b};
    return sl_naming_shorten_fragments(parts, 2, 0);
}

char *sl_naming_variant_column_max(const char *column, const char *type_name, size_t max_len)
{
    size_t tlen = strlen(type_name);
    char *suffix = sl_malloc(tlen + 3);
    if (!suffix)
        return NULL;
    suffix[0] = 'v';
    suffix[1] = '_';
    memcpy(suffix + 2, type_name, tlen + 1);
    const char *parts[2] = {column, suffix};
    char *result = sl_naming_shorten_fragments(parts, 2, max_len);
    sl_free(suffix);
    return result;
}

char *sl_naming_variant_column(const char *column, const char *type_name)
{
    return sl_naming_variant_column_max(column, type_name, 0);
}
