/*
 * cursor.c — typed cursor values for dlt's incremental loading (spec 1.2, 1.3): classifying a
 * JSON value as a number, an ISO 8601 date or datetime, a string, ...; ordering two of them;
 * and moving one by a lag.
 *
 * dlt compares cursor values as Python objects; JSON carries no types beyond numbers and
 * strings, so the types are read from the text: ISO 8601 strings ("2024-01-01",
 * "2024-01-01T10:00:00+02:00") are dates and datetimes, compared as dates and instants; other
 * strings compare byte-wise; numbers compare by exact decimal value (an int, a double and a
 * 30-digit integer order correctly, with no rounding through double).
 *
 * Invariants: a classification never allocates and never fails (anything unrecognised is a
 * plain string or its JSON kind); comparing two kinds that Python cannot order is reported
 * (SL_CMP_KIND, SL_CMP_TZ for naive against aware datetimes), never guessed. A lagged value
 * is written the way the original was (separator, precision, zone text), so state stays in
 * the user's spelling.
 * Neighbours: incremental.c (the filter) is the only user; calendar.c does the date
 * arithmetic.
 */
#include "model/cursor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/calendar.h"

/* ============================================================================================
 * Numbers: exact decimal comparison, and doubles written as orjson writes them
 * ========================================================================================== */

/* A JSON number text split into its significant digits: value = 0.D1D2D3... * 10^point,
 * where the digits are int part (leading zeros removed) followed by the fraction part (or,
 * with no int part, the fraction without its leading zeros). */
struct dec {
    bool neg, zero;
    const char *ip, *fp;
    size_t il, fl;
    int64_t point;
};

static bool is_dig(char c)
{
    return c >= '0' && c <= '9';
}

static void dec_parse(const char *s, struct dec *d)
{
    memset(d, 0, sizeof(*d));
    if (*s == '-' || *s == '+') {
        d->neg = *s == '-';
        s++;
    }
    d->ip = s;
    while (is_dig(s[d->il]))
        d->il++;
    s += d->il;
    d->fp = s;
    if (*s == '.') {
        s++;
        d->fp = s;
        while (is_dig(s[d->fl]))
            d->fl++;
        s += d->fl;
    }
    int64_t exp = 0;
    if (*s == 'e' || *s == 'E') {
        s++;
        bool eneg = *s == '-';
        if (*s == '-' || *s == '+')
            s++;
        for (; is_dig(*s); s++)
            if (exp < 1000000000000000LL)
                exp = exp * 10 + (*s - '0');
        if (eneg)
            exp = -exp;
    }
    while (d->il && *d->ip == '0') {
        d->ip++;
        d->il--;
    }
    int64_t lz = 0;
    if (!d->il) {
        while (d->fl && *d->fp == '0') {
            d->fp++;
            d->fl--;
            lz++;
        }
    }
    d->zero = !d->il && !d->fl; /* otherwise the first significant digit is not 0 */
    d->point = (d->il ? (int64_t)d->il : -lz) + exp;
}

static char dec_digit(const struct dec *d, size_t i)
{
    if (i < d->il)
        return d->ip[i];
    if (i - d->il < d->fl)
        return d->fp[i - d->il];
    return '0';
}

static int dec_cmp(const char *a, const char *b)
{
    struct dec x, y;
    dec_parse(a, &x);
    dec_parse(b, &y);
    int sx = x.zero ? 0 : x.neg ? -1 : 1;
    int sy = y.zero ? 0 : y.neg ? -1 : 1;
    if (sx != sy)
        return sx < sy ? -1 : 1;
    if (sx == 0)
        return 0;
    int m = 0;
    if (x.point != y.point) {
        m = x.point > y.point ? 1 : -1;
    } else {
        size_t n = x.il + x.fl > y.il + y.fl ? x.il + x.fl : y.il + y.fl;
        for (size_t i = 0; i < n && !m; i++) {
            char cx = dec_digit(&x, i), cy = dec_digit(&y, i);
            if (cx != cy)
                m = cx > cy ? 1 : -1;
        }
    }
    return sx > 0 ? m : -m;
}

/* Text of a number value (INT, DOUBLE, BIGINT) for exact comparison. */
static const char *num_text(const struct sl_json *v, char *buf, size_t n)
{
    if (v->type == SL_JSON_INT) {
        snprintf(buf, n, "%lld", (long long)v->u.i);
        return buf;
    }
    if (v->type == SL_JSON_BIGINT || v->s)
        return v->s;
    struct sl_buf b;
    sl_buf_init(&b, 0);
    if (sl_json_write_double_py(&b, v->u.d, false) || !b.data || b.len >= n) {
        snprintf(buf, n, "%.17g", v->u.d);
    } else {
        memcpy(buf, b.data, b.len + 1);
    }
    sl_buf_cleanup(&b);
    return buf;
}

static int num_cmp(const struct sl_json *a, const struct sl_json *b)
{
    if (a->type == SL_JSON_INT && b->type == SL_JSON_INT)
        return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
    char ba[48], bb[48];
    return dec_cmp(num_text(a, ba, sizeof(ba)), num_text(b, bb, sizeof(bb)));
}

/* ============================================================================================
 * Dates and datetimes (ISO 8601)
 * ========================================================================================== */

/* "+HH:MM", "+HHMM", "+HH", "Z", "z" (and "-..."): offset in minutes; false if malformed. */
static bool parse_offset(const char *s, size_t len, int32_t *min)
{
    if (len == 1 && (s[0] == 'Z' || s[0] == 'z')) {
        *min = 0;
        return true;
    }
    if (len < 3 || (s[0] != '+' && s[0] != '-'))
        return false;
    int hh = sl_decimal_field(s + 1, 2), mm = 0;
    if (len == 6 && s[3] == ':')
        mm = sl_decimal_field(s + 4, 2);
    else if (len == 5)
        mm = sl_decimal_field(s + 3, 2);
    else if (len != 3)
        return false;
    if (hh < 0 || hh > 23 || mm < 0 || mm > 59)
        return false;
    *min = (s[0] == '-' ? -1 : 1) * (hh * 60 + mm);
    return true;
}

/* assume_tz: "UTC" or a fixed offset. */
bool sl_cursor_parse_tz(const char *s, struct sl_cursor_tz *tz)
{
    tz->set = false;
    tz->offset_min = 0;
    if (!s)
        return true;
    if (strcmp(s, "UTC") == 0 || strcmp(s, "utc") == 0 || strcmp(s, "Z") == 0) {
        tz->set = true;
        return true;
    }
    tz->set = parse_offset(s, strlen(s), &tz->offset_min);
    return tz->set;
}

/* ============================================================================================
 * Typed cursor values
 * ========================================================================================== */

/* Parse an ISO 8601 date or datetime string into cv (kind DATE or DATETIME). */
static bool parse_iso(const char *s, size_t len, const struct sl_cursor_tz *tz,
                      struct sl_cursor *cv)
{
    if (len < 10 || s[4] != '-' || s[7] != '-')
        return false;
    int y = sl_decimal_field(s, 4), mo = sl_decimal_field(s + 5, 2), d = sl_decimal_field(s + 8, 2);
    if (y < 0 || mo < 0 || d < 0 || !sl_date_valid(y, mo, d))
        return false;
    int64_t days = sl_days_from_civil(y, mo, d);
    if (len == 10) {
        cv->kind = SL_CURSOR_DATE;
        cv->secs = days;
        return true;
    }
    if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || len < 16 || s[13] != ':')
        return false;
    int hh = sl_decimal_field(s + 11, 2), mi = sl_decimal_field(s + 14, 2), ss = 0;
    if (hh < 0 || hh > 23 || mi < 0 || mi > 59)
        return false;
    size_t pos = 16;
    int32_t nanos = 0;
    cv->has_sec = false;
    cv->frac = 0;
    if (pos < len && s[pos] == ':') {
        if (len < pos + 3)
            return false;
        ss = sl_decimal_field(s + pos + 1, 2);
        if (ss < 0 || ss > 59)
            return false;
        cv->has_sec = true;
        pos += 3;
        if (pos < len && s[pos] == '.') {
            pos++;
            size_t f = 0;
            while (pos + f < len && is_dig(s[pos + f]))
                f++;
            if (f == 0 || f > 9)
                return false;
            for (size_t i = 0; i < 9; i++)
                nanos = nanos * 10 + (i < f ? s[pos + i] - '0' : 0);
            cv->frac = (uint8_t)f;
            pos += f;
        }
    }
    int64_t wall = days * 86400 + hh * 3600 + mi * 60 + ss;
    cv->zone[0] = '\0';
    if (pos == len) {
        cv->naive = !tz->set;
        cv->offset_min = tz->set ? tz->offset_min : 0;
    } else {
        int32_t off;
        if (len - pos >= sizeof(cv->zone) || !parse_offset(s + pos, len - pos, &off))
            return false;
        memcpy(cv->zone, s + pos, len - pos);
        cv->zone[len - pos] = '\0';
        cv->naive = false;
        cv->offset_min = off;
    }
    cv->kind = SL_CURSOR_DATETIME;
    cv->sep = s[10];
    cv->secs = wall - (int64_t)cv->offset_min * 60;
    cv->nanos = nanos;
    return true;
}

void sl_cursor_classify(const struct sl_json *v, const struct sl_cursor_tz *tz,
                        struct sl_cursor *cv)
{
    memset(cv, 0, sizeof(*cv));
    cv->v = v;
    if (!v) {
        cv->kind = SL_CURSOR_NULL;
        return;
    }
    switch (v->type) {
    case SL_JSON_INT:
    case SL_JSON_DOUBLE:
    case SL_JSON_BIGINT: cv->kind = SL_CURSOR_NUMBER; return;
    case SL_JSON_BOOL: cv->kind = SL_CURSOR_BOOL; return;
    case SL_JSON_ARRAY: cv->kind = SL_CURSOR_ARRAY; return;
    case SL_JSON_OBJECT: cv->kind = SL_CURSOR_OBJECT; return;
    case SL_JSON_STRING:
        if (!parse_iso(v->s, v->len, tz, cv))
            cv->kind = SL_CURSOR_STRING;
        cv->v = v;
        return;
    default: cv->kind = SL_CURSOR_NULL; return;
    }
}

const char *sl_cursor_kind_name(const struct sl_cursor *c)
{
    switch (c->kind) {
    case SL_CURSOR_NUMBER: return c->v->type == SL_JSON_DOUBLE ? "float" : "integer";
    case SL_CURSOR_STRING: return "string";
    case SL_CURSOR_DATE: return "date";
    case SL_CURSOR_DATETIME: return c->naive ? "naive datetime" : "datetime";
    case SL_CURSOR_BOOL: return "bool";
    case SL_CURSOR_ARRAY: return "array";
    case SL_CURSOR_OBJECT: return "object";
    default: return "null";
    }
}

/* Order of two classified values: *out <0, 0, >0. SL_CMP_KIND when they are not comparable,
 * SL_CMP_TZ for a naive and an aware datetime. */
enum sl_cursor_cmpres sl_cursor_cmp(const struct sl_cursor *a, const struct sl_cursor *b, int *out)
{
    *out = 0;
    if ((a->kind == SL_CURSOR_DATE && b->kind == SL_CURSOR_DATETIME) ||
        (a->kind == SL_CURSOR_DATETIME && b->kind == SL_CURSOR_DATE)) {
        /* a date against datetimes (initial_value "2024-01-01" with timestamp data) stands
         * for its midnight: UTC for aware datetimes, wall clock for naive ones. dlt compares
         * the strings, which orders the same for these forms. */
        int64_t as = a->kind == SL_CURSOR_DATE ? a->secs * 86400 : a->secs;
        int64_t bs = b->kind == SL_CURSOR_DATE ? b->secs * 86400 : b->secs;
        int32_t an = a->kind == SL_CURSOR_DATE ? 0 : a->nanos;
        int32_t bn = b->kind == SL_CURSOR_DATE ? 0 : b->nanos;
        if (as != bs)
            *out = as < bs ? -1 : 1;
        else
            *out = an < bn ? -1 : an > bn;
        return SL_CMP_OK;
    }
    if (a->kind != b->kind)
        return SL_CMP_KIND;
    switch (a->kind) {
    case SL_CURSOR_NUMBER: *out = num_cmp(a->v, b->v); return SL_CMP_OK;
    case SL_CURSOR_STRING: {
        size_t n = a->v->len < b->v->len ? a->v->len : b->v->len;
        int c = memcmp(a->v->s, b->v->s, n);
        *out = c ? c : (a->v->len < b->v->len ? -1 : a->v->len > b->v->len);
        return SL_CMP_OK;
    }
    case SL_CURSOR_DATE: *out = a->secs < b->secs ? -1 : a->secs > b->secs; return SL_CMP_OK;
    case SL_CURSOR_DATETIME:
        if (a->naive != b->naive)
            return SL_CMP_TZ;
        if (a->secs != b->secs)
            *out = a->secs < b->secs ? -1 : 1;
        else
            *out = a->nanos < b->nanos ? -1 : a->nanos > b->nanos;
        return SL_CMP_OK;
    case SL_CURSOR_BOOL: *out = (int)a->v->u.b - (int)b->v->u.b; return SL_CMP_OK;
    default: return SL_CMP_KIND;
    }
}

void sl_cursor_show(const struct sl_json *v, char *out, size_t n)
{
    if (!v || v->type == SL_JSON_NULL) {
        snprintf(out, n, "null");
        return;
    }
    if (v->type == SL_JSON_STRING) {
        size_t l = v->len > SL_CURSOR_SHOW_MAX ? SL_CURSOR_SHOW_MAX : v->len;
        snprintf(out, n, "%.*s%s", (int)l, v->s,
                 v->len > SL_CURSOR_SHOW_MAX ? "..." : "");
        return;
    }
    char *j = sl_json_dumps(v, SL_JSON_W_SORTED);
    if (!j) {
        snprintf(out, n, "(%s)", sl_json_type_name((enum sl_json_type)v->type));
        return;
    }
    size_t l = strlen(j);
    snprintf(out, n, "%.*s%s", (int)(l > SL_CURSOR_SHOW_MAX ? SL_CURSOR_SHOW_MAX : l), j,
             l > SL_CURSOR_SHOW_MAX ? "..." : "");
    sl_free(j);
}

const char *sl_cursor_tz_hint(enum sl_cursor_cmpres why)
{
    return why == SL_CMP_TZ ? ": naive and aware datetimes cannot be mixed; set assume_tz (e.g. "
                           "\"UTC\") to read naive datetimes in a zone"
                         : "";
}

/* ============================================================================================
 * Lag arithmetic (spec 1.3)
 * ========================================================================================== */

/* Exact sum of the decimal integer text a (optional '-') and d, written to b (no leading
 * zeros, "-" only when negative). -1 out of memory. */
static int bigint_add(struct sl_buf *b, const char *a, int64_t d)
{
    bool an = *a == '-';
    if (*a == '-' || *a == '+')
        a++;
    while (*a == '0' && a[1])
        a++;
    char dbuf[24];
    snprintf(dbuf, sizeof(dbuf), "%llu",
             d < 0 ? (unsigned long long)(-(d + 1)) + 1ULL : (unsigned long long)d);
    bool dn = d < 0;
    const char *x = a, *y = dbuf; /* magnitudes */
    size_t xl = strlen(x), yl = strlen(y);
    bool neg;
    bool sub = an != dn;
    if (sub) {
        /* |x| - |y| with the sign of the larger magnitude */
        int c = xl != yl ? (xl > yl ? 1 : -1) : strcmp(x, y);
        if (c < 0) {
            const char *t = x;
            x = y;
            y = t;
            size_t tl = xl;
            xl = yl;
            yl = tl;
            neg = dn;
        } else {
            neg = an;
        }
        if (c == 0)
            return sl_buf_putc(b, '0');
    } else {
        neg = an;
    }
    size_t n = (xl > yl ? xl : yl) + 1;
    char *r = sl_malloc(n);
    if (!r)
        return -1;
    int carry = 0;
    for (size_t i = 0; i < n; i++) {
        int dx = i < xl ? x[xl - 1 - i] - '0' : 0;
        int dy = i < yl ? y[yl - 1 - i] - '0' : 0;
        int v = sub ? dx - dy - carry : dx + dy + carry;
        carry = sub ? v < 0 : v > 9;
        if (sub && v < 0)
            v += 10;
        else if (!sub && v > 9)
            v -= 10;
        r[n - 1 - i] = (char)('0' + v);
    }
    size_t k = 0;
    while (k + 1 < n && r[k] == '0')
        k++;
    int rc = (neg && sl_buf_putc(b, '-')) || sl_buf_append(b, r + k, n - k);
    sl_free(r);
    return rc ? -1 : 0;
}

/* An integer result as INT when it fits int64, else BIGINT text. -1 out of memory. */
static int integer_text(const char *t, struct sl_json *out)
{
    bool neg = *t == '-';
    size_t digits = strlen(t) - neg;
    if (digits < 19 || (digits == 19 && strcmp(t + neg, neg ? "9223372036854775808"
                                                              : "9223372036854775807") <= 0)) {
        sl_json_set_int(out, strtoll(t, NULL, 10));
        return 0;
    }
    if (sl_json_set_str(out, t, strlen(t)))
        return -1;
    out->type = SL_JSON_BIGINT;
    return 0;
}

/* Python's lag on numbers: float - lag for floats; for ints int(value - lag), which is exact
 * for an integral lag (int arithmetic) and goes through a double for a fractional one. */
static int lag_number(const struct sl_cursor *cv, double lag, bool is_max, struct sl_json *out,
                      const char **why)
{
    const struct sl_json *v = cv->v;
    if (v->type == SL_JSON_DOUBLE) {
        double r = is_max ? v->u.d - lag : v->u.d + lag;
        if (!isfinite(r)) {
            *why = "the result is out of range";
            return 1;
        }
        sl_json_set_double(out, r);
        return 0;
    }
    char buf[400];
    if (lag == floor(lag) && fabs(lag) < 9.0e18) {
        int64_t delta = is_max ? -(int64_t)lag : (int64_t)lag;
        if (v->type == SL_JSON_INT && (delta >= 0 ? v->u.i <= INT64_MAX - delta
                                                  : v->u.i >= INT64_MIN - delta)) {
            sl_json_set_int(out, v->u.i + delta);
            return 0;
        }
        const char *text = v->s;
        if (v->type == SL_JSON_INT) {
            snprintf(buf, sizeof(buf), "%lld", (long long)v->u.i);
            text = buf;
        }
        struct sl_buf b;
        sl_buf_init(&b, 0);
        int rc = -1;
        if (!bigint_add(&b, text, delta) && !sl_buf_putc(&b, '\0'))
            rc = integer_text(b.data, out);
        sl_buf_cleanup(&b);
        return rc;
    }
    double d = v->type == SL_JSON_INT ? (double)v->u.i : strtod(v->s, NULL);
    double r = trunc(is_max ? d - lag : d + lag);
    if (!isfinite(r)) {
        *why = "the result is out of range";
        return 1;
    }
    snprintf(buf, sizeof(buf), "%.0f", r);
    return integer_text(buf, out);
}

static int format_date(int64_t days, struct sl_buf *b, const char **why)
{
    int64_t y;
    int m, d;
    sl_civil_from_days(days, &y, &m, &d);
    if (y < 1 || y > 9999) {
        *why = "the result is out of the years 1..9999";
        return 1;
    }
    return sl_buf_printf(b, "%04d-%02d-%02d", (int)y, m, d) ? -1 : 0;
}

/* Write a lagged datetime the way the original was written: same separator, precision (a
 * fraction as 6 digits, 9 when the original had more than 6) and zone text. */
static int lag_datetime(const struct sl_cursor *cv, double lag, bool is_max, struct sl_buf *b,
                        const char **why)
{
    double us = nearbyint(lag * 1e6); /* timedelta(seconds=lag) rounds to microseconds */
    if (!(fabs(us) < 1e17)) {
        *why = "the lag is too large";
        return 1;
    }
    int64_t dus = (int64_t)us;
    if (is_max)
        dus = -dus;
    int64_t secs = cv->secs + dus / 1000000;
    int64_t nanos = cv->nanos + (dus % 1000000) * 1000;
    if (nanos < 0) {
        nanos += 1000000000;
        secs--;
    } else if (nanos >= 1000000000) {
        nanos -= 1000000000;
        secs++;
    }
    int64_t local = secs + (int64_t)cv->offset_min * 60;
    int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    int64_t sod = local - days * 86400;
    int rc = format_date(days, b, why);
    if (rc)
        return rc;
    int fail = sl_buf_printf(b, "%c%02d:%02d", cv->sep, (int)(sod / 3600), (int)(sod / 60 % 60));
    if (!fail && cv->has_sec)
        fail = sl_buf_printf(b, ":%02d", (int)(sod % 60));
    if (!fail && cv->has_sec && cv->frac) {
        if (cv->frac <= 6)
            fail = sl_buf_printf(b, ".%06d", (int)(nanos / 1000));
        else
            fail = sl_buf_printf(b, ".%09d", (int)nanos);
    }
    if (!fail)
        fail = sl_buf_puts(b, cv->zone);
    return fail ? -1 : 0;
}

int sl_cursor_lag(const struct sl_cursor *raw, double lag, bool is_max, struct sl_json *out,
                  const char **why)
{
    sl_json_set_null(out);
    *why = NULL;
    struct sl_buf b;
    sl_buf_init(&b, 0);
    int rc;
    if (raw->kind == SL_CURSOR_NUMBER) {
        rc = lag_number(raw, lag, is_max, out, why);
    } else if (raw->kind == SL_CURSOR_DATE) {
        double x = floor(is_max ? -lag : lag); /* date + timedelta(days=x) */
        if (!(fabs(x) < 1e7)) {
            *why = "the lag is too large";
            rc = 1;
        } else {
            rc = format_date(raw->secs + (int64_t)x, &b, why);
        }
    } else if (raw->kind == SL_CURSOR_DATETIME) {
        rc = lag_datetime(raw, lag, is_max, &b, why);
    } else {
        *why = "lag needs a number, a date or a datetime";
        rc = 1;
    }
    if (rc == 0 && b.len && sl_json_set_str(out, b.data, b.len))
        rc = -1;
    sl_buf_cleanup(&b);
    return rc;
}
