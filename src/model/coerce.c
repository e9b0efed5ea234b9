/*
 * coerce.c — the type of a JSON value in dlt's terms, and its coercion into a column type, as
 * dlt's relational normalizer does it (py_type_to_sc_type, _infer_column_type with the default
 * iso_timestamp detection, and the _COERCE_DISPATCH table), with Python's spelling of the
 * results (see coerce.h and spec section 3).
 *
 * A value is coerced where Python would convert it: ints, floats and bools to text as str()
 * writes them ("True", "1.5", "1e-07"), JSON as orjson writes it, text to numbers with
 * Python's int()/float()/Decimal() syntax (underscores between digits, "0x" hex), text and
 * epoch numbers to timestamps as pendulum parses them, text to bool with dlt's str2bool.
 * Anything else cannot be coerced: the caller puts it into a variant column.
 *
 * Invariants: coercion never fails for a reason other than memory; it reads nothing but the
 * value and the target type (no schema, no normalizer state), so the same value always gives
 * the same result; text results live in the caller's arena (copied through the scratch
 * buffer), never in the input document. Timestamps are written in UTC as
 * "YYYY-MM-DDTHH:MM:SS[.f]Z" with the input's fraction digits kept as they were.
 *
 * Where JSON input leaves dlt without one answer: integers beyond int64 are typed `wei`
 * (`text` above wei's range), as dlt's optional is_large_integer detection does; plain dates
 * ("2024-01-01") stay `text` but coerce into date/timestamp columns; text that parses to an
 * infinite or NaN float cannot be coerced into a double column.
 */
#include "model/coerce.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/calendar.h"

/* dlt's is_large_integer: integers above this do not fit `wei` and become text. */
static const char wei_max[] = "578960446186580977117854925043439539266";

/* ============================================================================================
 * Numbers and text in dlt's (Python's) spelling
 * ========================================================================================== */

/* Compact JSON as dlt's orjson writes it (members in order, floats in orjson's spelling). */
static int put_json_text(struct sl_buf *b, const struct sl_json *v)
{
    switch (v->type) {
    case SL_JSON_NULL: return sl_buf_puts(b, "null");
    case SL_JSON_BOOL: return sl_buf_puts(b, v->u.b ? "true" : "false");
    case SL_JSON_INT: return sl_buf_printf(b, "%lld", (long long)v->u.i);
    case SL_JSON_BIGINT: return sl_buf_puts(b, v->s);
    case SL_JSON_DOUBLE: return sl_json_write_double_py(b, v->u.d, false);
    case SL_JSON_STRING: return sl_json_write_string(b, v->s, v->len);
    case SL_JSON_ARRAY:
        if (sl_buf_putc(b, '['))
            return -1;
        for (uint32_t i = 0; i < v->len; i++)
            if ((i && sl_buf_putc(b, ',')) || put_json_text(b, &v->u.items[i]))
                return -1;
        return sl_buf_putc(b, ']');
    case SL_JSON_OBJECT:
        if (sl_buf_putc(b, '{'))
            return -1;
        for (uint32_t i = 0; i < v->len; i++) {
            const struct sl_json_member *m = &v->u.members[i];
            if ((i && sl_buf_putc(b, ',')) || sl_json_write_string(b, m->key, m->key_len) ||
                sl_buf_putc(b, ':') || put_json_text(b, &m->val))
                return -1;
        }
        return sl_buf_putc(b, '}');
    }
    return -1;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static void strip(const char **s, size_t *len)
{
    while (*len && is_space(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && is_space((*s)[*len - 1]))
        (*len)--;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Python int() of a digit run in base 10 or 16 with single `_` between digits: digits go to
 * *out (as uint64; 1 on overflow). Returns 0 ok, 1 bad syntax or overflow. */
static int parse_digits(const char *s, size_t len, int base, uint64_t *out)
{
    uint64_t v = 0;
    bool prev_digit = false;
    if (!len)
        return 1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '_') {
            if (!prev_digit || i + 1 == len)
                return 1;
            prev_digit = false;
            continue;
        }
        int dv = base == 16 ? sl_hex_digit(s[i]) : (is_digit(s[i]) ? s[i] - '0' : -1);
        if (dv < 0)
            return 1;
        if (v > (UINT64_MAX - (uint64_t)dv) / (uint64_t)base)
            return 1;
        v = v * (uint64_t)base + (uint64_t)dv;
        prev_digit = true;
    }
    *out = v;
    return 0;
}

/* dlt's _text_to_bigint (strip, "0x" hex, Python int syntax) into int64. 0 ok, 1 cannot. */
static int text_to_bigint(const char *s, size_t len, int64_t *out)
{
    strip(&s, &len);
    int base = 10;
    bool neg = false;
    if (len > 2 && s[0] == '0' && s[1] == 'x') {
        s += 2;
        len -= 2;
        base = 16;
        strip(&s, &len);
    }
    if (len && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        s++;
        len--;
    }
    if (base == 16 && len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2; /* int("0x10", 16) accepts the prefix again */
        len -= 2;
    }
    uint64_t v;
    if (parse_digits(s, len, base, &v))
        return 1;
    if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
        return 1;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

/* Python float()/Decimal() decimal syntax: [+-](digits[.digits]|.digits)[e[+-]digits], `_`
 * between digits. On success the digits without `_` go to b (NUL-terminated). */
static int clean_decimal(const char *s, size_t len, struct sl_buf *b, int *rc_nomem)
{
    size_t i = 0;
    size_t mant = 0;
    sl_buf_reset(b);
    *rc_nomem = 0;
    if (i < len && (s[i] == '+' || s[i] == '-')) {
        if (sl_buf_putc(b, s[i]))
            goto nomem;
        i++;
    }
    for (int part = 0; part < 3; part++) {
        /* part 0: integer digits, 1: fraction after '.', 2: exponent digits after 'e' */
        if (part == 1) {
            if (i < len && s[i] == '.') {
                if (sl_buf_putc(b, '.'))
                    goto nomem;
                i++;
            } else {
                continue;
            }
        } else if (part == 2) {
            if (i < len && (s[i] == 'e' || s[i] == 'E')) {
                if (!mant)
                    return 1;
                if (sl_buf_putc(b, 'e'))
                    goto nomem;
                i++;
                if (i < len && (s[i] == '+' || s[i] == '-')) {
                    if (sl_buf_putc(b, s[i]))
                        goto nomem;
                    i++;
                }
                if (i == len || !is_digit(s[i]))
                    return 1;
            } else {
                break;
            }
        }
        bool prev_digit = false;
        while (i < len && (is_digit(s[i]) || s[i] == '_')) {
            if (s[i] == '_') {
                if (!prev_digit || i + 1 == len || !is_digit(s[i + 1]))
                    return 1;
                prev_digit = false;
            } else {
                if (sl_buf_putc(b, s[i]))
                    goto nomem;
                prev_digit = true;
                if (part < 2)
                    mant++;
            }
            i++;
        }
    }
    return i == len && mant ? 0 : 1;
nomem:
    *rc_nomem = 1;
    return -1;
}

/* dlt's str2bool: 1 true, 0 false, -1 neither. */
static int str2bool(const char *s, size_t len)
{
    static const char *const yes[] = { "yes", "true", "t", "y", "1" };
    static const char *const no[] = { "no", "false", "f", "n", "0" };
    char low[8];
    if (len >= sizeof(low))
        return -1;
    for (size_t i = 0; i < len; i++)
        low[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    low[len] = '\0';
    for (size_t i = 0; i < 5; i++) {
        if (strcmp(low, yes[i]) == 0)
            return 1;
        if (strcmp(low, no[i]) == 0)
            return 0;
    }
    return -1;
}

/* |digits| <= wei_max (digits is an optionally signed integer without leading zeros). */
static bool fits_wei(const char *digits)
{
    if (*digits == '-' || *digits == '+')
        digits++;
    size_t len = strlen(digits);
    size_t wl = sizeof(wei_max) - 1;
    return len < wl || (len == wl && strcmp(digits, wei_max) <= 0);
}

/* ============================================================================================
 * Dates and times
 * ========================================================================================== */

struct dt {
    int y, mo, d, h, mi, s;
    const char *frac;  /* fraction digits, or NULL */
    size_t frac_len;
    int off;           /* offset from UTC in minutes */
    bool has_time;
};

/* ISO 8601 as pendulum parses it for dlt: YYYY-MM-DD or YYYYMMDD, then optionally [T ]HH
 * [:MM[:SS[.f]]] (basic: HH[MM[SS[.f]]]) and Z / ±HH[[:]MM]. 1 ok, 0 no match. */
static int parse_iso(const char *s, size_t len, struct dt *o)
{
    size_t p;
    bool ext;
    memset(o, 0, sizeof(*o));
    if (len < 8)
        return 0;
    o->y = sl_decimal_field(s, 4);
    if (o->y < 1)
        return 0;
    if (s[4] == '-') {
        if (len < 10 || s[7] != '-')
            return 0;
        o->mo = sl_decimal_field(s + 5, 2);
        o->d = sl_decimal_field(s + 8, 2);
        p = 10;
        ext = true;
    } else {
        o->mo = sl_decimal_field(s + 4, 2);
        o->d = sl_decimal_field(s + 6, 2);
        p = 8;
        ext = false;
    }
    if (o->mo < 1 || o->mo > 12 || o->d < 1 || o->d > sl_days_in_month(o->y, o->mo))
        return 0;
    if (p == len)
        return 1;
    if (s[p] != 'T' && s[p] != ' ')
        return 0;
    p++;
    o->h = p + 2 <= len ? sl_decimal_field(s + p, 2) : -1;
    if (o->h < 0 || o->h > 23)
        return 0;
    p += 2;
    o->has_time = true;
    for (int part = 0; part < 2; part++) { /* minutes, then seconds */
        if (ext && p < len && s[p] == ':')
            p++;
        else if (ext || p + 2 > len || !is_digit(s[p]))
            break;
        int v = p + 2 <= len ? sl_decimal_field(s + p, 2) : -1;
        if (v < 0 || v > 59)
            return 0;
        p += 2;
        if (part == 0) {
            o->mi = v;
        } else {
            o->s = v;
            if (p < len && (s[p] == '.' || s[p] == ',')) {
                size_t f = ++p;
                while (p < len && is_digit(s[p]))
                    p++;
                if (p == f)
                    return 0;
                o->frac = s + f;
                o->frac_len = p - f;
            }
        }
    }
    if (p < len && s[p] == 'Z') {
        p++;
    } else if (p < len && (s[p] == '+' || s[p] == '-')) {
        int sign = s[p] == '-' ? -1 : 1;
        p++;
        int oh = p + 2 <= len ? sl_decimal_field(s + p, 2) : -1;
        if (oh < 0 || oh > 23)
            return 0;
        p += 2;
        int om = 0;
        if (p < len && s[p] == ':')
            p++;
        if (p < len) {
            om = p + 2 <= len ? sl_decimal_field(s + p, 2) : -1;
            if (om < 0 || om > 59)
                return 0;
            p += 2;
        }
        o->off = sign * (oh * 60 + om);
    }
    return p == len;
}

static void put2(char *o, int v)
{
    o[0] = (char)('0' + v / 10);
    o[1] = (char)('0' + v % 10);
}

/* Write o (converted to UTC) as "YYYY-MM-DDTHH:MM:SS[.f]Z"; 0 when out of range / no room. */
static int write_utc(const struct dt *o, char *out, size_t outsz)
{
    int64_t mins = sl_days_from_civil(o->y, o->mo, o->d) * 1440 + o->h * 60 + o->mi - o->off;
    int64_t days = mins >= 0 ? mins / 1440 : -((-mins + 1439) / 1440);
    int64_t rem = mins - days * 1440;
    int64_t y;
    int mo, d;
    sl_civil_from_days(days, &y, &mo, &d);
    if (y < 1 || y > 9999 || outsz < 21)
        return 0;
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    put2(out + 2, (int)(y % 100));
    out[4] = '-';
    put2(out + 5, mo);
    out[7] = '-';
    put2(out + 8, d);
    out[10] = 'T';
    put2(out + 11, (int)(rem / 60));
    out[13] = ':';
    put2(out + 14, (int)(rem % 60));
    out[16] = ':';
    put2(out + 17, o->s);
    size_t p = 19;
    if (o->frac && outsz >= 23) {
        size_t fl = o->frac_len;
        if (fl > outsz - 22)
            fl = outsz - 22; /* keep what fits: "." + digits + "Z" + NUL */
        out[p++] = '.';
        memcpy(out + p, o->frac, fl);
        p += fl;
    }
    out[p++] = 'Z';
    out[p] = '\0';
    return 1;
}

int sl_iso_timestamp_normalize(const char *s, size_t len, char *out, size_t outsz)
{
    struct dt o;
    if (!s || !parse_iso(s, len, &o) || !o.has_time)
        return 0;
    return write_utc(&o, out, outsz);
}

int sl_iso_date_check(const char *s, size_t len)
{
    if (!s || len != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    int y = sl_decimal_field(s, 4), m = sl_decimal_field(s + 5, 2), d = sl_decimal_field(s + 8, 2);
    return y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= sl_days_in_month(y, m);
}

int sl_iso_instant_canonical(const char *s, char *out, size_t outsz)
{
    char tmp[64];
    size_t len = s ? strlen(s) : 0;
    if (sl_iso_date_check(s, len)) {
        if (len + 1 + 10 > sizeof(tmp))
            return 0;
        memcpy(tmp, s, len);
        memcpy(tmp + len, "T00:00:00Z", 11);
        s = tmp;
        len += 10;
    }
    if (!sl_iso_timestamp_normalize(s, len, out, outsz))
        return 0;
    size_t n = strlen(out); /* "...SS[.f]Z" */
    char *dot = strchr(out, '.');
    if (dot) {
        size_t end = n - 1; /* the Z */
        while (end > (size_t)(dot - out) + 1 && out[end - 1] == '0')
            end--;
        if (end == (size_t)(dot - out) + 1)
            end--; /* only zeros: no fraction */
        out[end] = 'Z';
        out[end + 1] = '\0';
    }
    return 1;
}

/* Epoch seconds to a UTC broken-down time (pendulum.from_timestamp); 0 when out of range. */
static int from_epoch(double secs, struct dt *o, char frac[8])
{
    if (!(secs > -62135596800.0 && secs < 253402300800.0)) /* years 1..9999 */
        return 0;
    double whole = floor(secs);
    int64_t us = (int64_t)llround((secs - whole) * 1e6);
    int64_t t = (int64_t)whole;
    if (us >= 1000000) {
        us -= 1000000;
        t++;
    }
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t rem = t - days * 86400;
    memset(o, 0, sizeof(*o));
    int64_t y;
    sl_civil_from_days(days, &y, &o->mo, &o->d);
    o->y = (int)y; /* years 1..9999, checked above */
    o->h = (int)(rem / 3600);
    o->mi = (int)(rem / 60 % 60);
    o->s = (int)(rem % 60);
    o->has_time = true;
    if (us) {
        size_t fl = 6;
        for (int i = 5; i >= 0; i--) {
            frac[i] = (char)('0' + us % 10);
            us /= 10;
        }
        while (fl > 1 && frac[fl - 1] == '0')
            fl--;
        o->frac = frac;
        o->frac_len = fl;
    }
    return 1;
}

/* "HH:MM[:SS[.f]]" → "HH:MM:SS[.f]" in b. 0 ok, 1 no match, -1 no memory. */
static int time_text(const char *s, size_t len, struct sl_buf *b)
{
    int h = len >= 5 ? sl_decimal_field(s, 2) : -1;
    int mi = len >= 5 ? sl_decimal_field(s + 3, 2) : -1, sec = 0;
    size_t p = 5;
    if (h < 0 || h > 23 || s[2] != ':' || mi < 0 || mi > 59)
        return 1;
    if (p < len && s[p] == ':') {
        sec = p + 3 <= len ? sl_decimal_field(s + p + 1, 2) : -1;
        if (sec < 0 || sec > 59)
            return 1;
        p += 3;
    }
    size_t f = p;
    if (p < len && s[p] == '.' && f == 8) {
        p++;
        while (p < len && is_digit(s[p]))
            p++;
        if (p == f + 1)
            return 1;
    }
    if (p != len)
        return 1;
    sl_buf_reset(b);
    if (sl_buf_printf(b, "%02d:%02d:%02d", h, mi, sec) || sl_buf_append(b, s + f, len - f))
        return -1;
    return 0;
}

/* bytes.fromhex after "0x", or strict base64 (b64decode(validate=True)). */
static bool is_binary_text(const char *s, size_t len)
{
    if (len >= 2 && s[0] == '0' && s[1] == 'x') {
        size_t digits = 0;
        for (size_t i = 2; i < len; i++) {
            if (s[i] == ' ')
                continue;
            if (sl_hex_digit(s[i]) < 0)
                return false;
            digits++;
        }
        return digits % 2 == 0;
    }
    if (len % 4)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '+' ||
                  c == '/';
        if (c == '=' && i + 2 >= len && (i + 1 == len || s[i + 1] == '='))
            ok = true;
        if (!ok)
            return false;
    }
    return true;
}

/* ============================================================================================
 * Types and coercion (dlt's py_type_to_sc_type and _COERCE_DISPATCH)
 * ========================================================================================== */

/* The dlt type of a JSON value as it arrives (a Python object's type). */
enum sl_dtype sl_dtype_of_value(const struct sl_json *v)
{
    switch (v->type) {
    case SL_JSON_BOOL: return SL_DT_BOOL;
    case SL_JSON_INT: return SL_DT_BIGINT;
    case SL_JSON_BIGINT: return SL_DT_WEI;
    case SL_JSON_DOUBLE: return SL_DT_DOUBLE;
    case SL_JSON_STRING: return SL_DT_TEXT;
    case SL_JSON_ARRAY:
    case SL_JSON_OBJECT: return SL_DT_JSON;
    default: return SL_DT_NONE;
    }
}

/* The type a new column gets from its first value (dlt's _infer_column_type with the default
 * iso_timestamp detection; big integers as dlt's is_large_integer detection types them). */
enum sl_dtype sl_dtype_infer(const struct sl_json *v)
{
    char buf[64];
    if (v->type == SL_JSON_STRING)
        return sl_iso_timestamp_normalize(v->s, v->len, buf, sizeof(buf)) ? SL_DT_TIMESTAMP
                                                                            : SL_DT_TEXT;
    if (v->type == SL_JSON_BIGINT)
        return fits_wei(v->s) ? SL_DT_WEI : SL_DT_TEXT;
    return sl_dtype_of_value(v);
}

/* Where coerced values go: text into the arena, through the scratch buffer. */
struct cx {
    struct sl_arena *arena;
    struct sl_buf *jbuf;
};

static int text_value(struct cx *n, const char *s, size_t len, struct sl_value *out)
{
    if (len > UINT32_MAX)
        return 1;
    char *c = sl_arena_strndup(n->arena, s, len);
    if (!c)
        return -1;
    out->kind = SL_V_TEXT;
    out->len = (uint32_t)len;
    out->u.s = c;
    return 0;
}

static int static_text(const char *s, struct sl_value *out)
{
    out->kind = SL_V_TEXT;
    out->len = (uint32_t)strlen(s);
    out->u.s = s;
    return 0;
}

/* The jbuf text as a value (copied to the arena). */
static int jbuf_value(struct cx *n, struct sl_value *out)
{
    return text_value(n, n->jbuf->data ? n->jbuf->data : "", n->jbuf->len, out);
}

static int timestamp_value(struct cx *n, const struct dt *o, struct sl_value *out)
{
    char buf[64];
    if (!write_utc(o, buf, sizeof(buf)))
        return 1;
    return text_value(n, buf, strlen(buf), out);
}

static int date_value(struct cx *n, const struct dt *o, struct sl_value *out)
{
    char buf[64];
    if (!write_utc(o, buf, sizeof(buf)))
        return 1;
    return text_value(n, buf, 10, out);
}

/* Coerce v into a column of type `to`: 0 ok (out set, strings in the arena), 1 cannot (the
 * value goes to a variant), -1 out of memory. */
static int coerce(struct cx *n, enum sl_dtype to, const struct sl_json *v,
                  struct sl_value *out)
{
    struct sl_buf *jb = n->jbuf;
    const char *s = v->s;
    size_t len = v->len;
    memset(out, 0, sizeof(*out));
    switch (to) {
    case SL_DT_TEXT:
        switch (v->type) {
        case SL_JSON_STRING: return text_value(n, s, len, out);
        case SL_JSON_BIGINT: return text_value(n, s, strlen(s), out);
        case SL_JSON_BOOL: return static_text(v->u.b ? "True" : "False", out);
        case SL_JSON_INT:
            sl_buf_reset(jb);
            return sl_buf_printf(jb, "%lld", (long long)v->u.i) ? -1 : jbuf_value(n, out);
        case SL_JSON_DOUBLE:
            sl_buf_reset(jb);
            return sl_json_write_double_py(jb, v->u.d, true) ? -1 : jbuf_value(n, out);
        case SL_JSON_ARRAY:
        case SL_JSON_OBJECT:
            sl_buf_reset(jb);
            return put_json_text(jb, v) ? -1 : jbuf_value(n, out);
        default: return 1;
        }
    case SL_DT_BIGINT:
        out->kind = SL_V_INT;
        if (v->type == SL_JSON_INT) {
            out->u.i = v->u.i;
            return 0;
        }
        if (v->type == SL_JSON_DOUBLE) {
            double d = v->u.d;
            if (d != floor(d) || !(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
                return 1;
            out->u.i = (int64_t)d;
            return 0;
        }
        if (v->type == SL_JSON_STRING)
            return text_to_bigint(s, len, &out->u.i);
        return 1;
    case SL_DT_DOUBLE:
        out->kind = SL_V_DOUBLE;
        if (v->type == SL_JSON_DOUBLE) {
            out->u.d = v->u.d;
            return 0;
        }
        if (v->type == SL_JSON_INT) {
            out->u.d = (double)v->u.i;
            return 0;
        }
        if (v->type == SL_JSON_BIGINT) {
            out->u.d = strtod(s, NULL);
            return 0;
        }
        if (v->type == SL_JSON_STRING) {
            int64_t iv;
            strip(&s, &len);
            if (len > 2 && s[0] == '0' && s[1] == 'x') {
                if (text_to_bigint(s, len, &iv))
                    return 1;
                out->u.d = (double)iv;
                return 0;
            }
            int oom;
            if (clean_decimal(s, len, jb, &oom))
                return oom ? -1 : 1;
            out->u.d = strtod(jb->data, NULL);
            return isinf(out->u.d) ? 1 : 0;
        }
        return 1;
    case SL_DT_BOOL:
        out->kind = SL_V_BOOL;
        switch (v->type) {
        case SL_JSON_BOOL: out->u.i = v->u.b; return 0;
        case SL_JSON_INT: out->u.i = v->u.i != 0; return 0;
        case SL_JSON_DOUBLE: out->u.i = v->u.d != 0; return 0;
        case SL_JSON_BIGINT: out->u.i = 1; return 0;
        case SL_JSON_STRING: {
            int b = str2bool(s, len);
            if (b < 0)
                return 1;
            out->u.i = b;
            return 0;
        }
        default: return 1;
        }
    case SL_DT_TIMESTAMP:
    case SL_DT_DATE: {
        struct dt o;
        char frac[8];
        if (v->type == SL_JSON_STRING) {
            if (!parse_iso(s, len, &o))
                return 1;
        } else if (v->type == SL_JSON_INT || v->type == SL_JSON_DOUBLE) {
            if (!from_epoch(v->type == SL_JSON_INT ? (double)v->u.i : v->u.d, &o, frac))
                return 1;
        } else {
            return 1;
        }
        return to == SL_DT_TIMESTAMP ? timestamp_value(n, &o, out) : date_value(n, &o, out);
    }
    case SL_DT_TIME: {
        if (v->type != SL_JSON_STRING)
            return 1;
        int rc = time_text(s, len, jb);
        return rc ? rc : jbuf_value(n, out);
    }
    case SL_DT_JSON:
        if (v->type == SL_JSON_ARRAY || v->type == SL_JSON_OBJECT) {
            sl_buf_reset(jb);
            return put_json_text(jb, v) ? -1 : jbuf_value(n, out);
        }
        if (v->type == SL_JSON_STRING) {
            /* json.loads of the text; a parse failure is not an error of the run */
            struct sl_ctx quiet;
            struct sl_json *doc = NULL;
            sl_ctx_init(&quiet);
            if (sl_json_parse(&quiet, n->arena, s, len, &doc) != SLUICE_OK)
                return quiet.code == SLUICE_ERR_NOMEM ? -1 : 1;
            sl_buf_reset(jb);
            return put_json_text(jb, doc) ? -1 : jbuf_value(n, out);
        }
        return 1;
    case SL_DT_DECIMAL:
    case SL_DT_WEI:
        switch (v->type) {
        case SL_JSON_INT:
            sl_buf_reset(jb);
            return sl_buf_printf(jb, "%lld", (long long)v->u.i) ? -1 : jbuf_value(n, out);
        case SL_JSON_BIGINT: return text_value(n, s, strlen(s), out);
        case SL_JSON_DOUBLE:
            sl_buf_reset(jb);
            return sl_json_write_double_py(jb, v->u.d, true) ? -1 : jbuf_value(n, out);
        case SL_JSON_STRING: {
            int64_t iv;
            int oom;
            strip(&s, &len);
            if (len > 2 && s[0] == '0' && s[1] == 'x') {
                if (text_to_bigint(s, len, &iv))
                    return 1;
                sl_buf_reset(jb);
                return sl_buf_printf(jb, "%lld", (long long)iv) ? -1 : jbuf_value(n, out);
            }
            if (clean_decimal(s, len, jb, &oom))
                return oom ? -1 : 1;
            return jbuf_value(n, out);
        }
        default: return 1;
        }
    case SL_DT_BINARY:
        if (v->type != SL_JSON_STRING || !is_binary_text(s, len))
            return 1;
        return text_value(n, s, len, out);
    case SL_DT_NONE:
        break;
    }
    return 1;
}

int sl_coerce(struct sl_arena *arena, struct sl_buf *scratch, enum sl_dtype to,
              const struct sl_json *v, struct sl_value *out)
{
    struct cx n = { arena, scratch };
    return coerce(&n, to, v, out);
}
