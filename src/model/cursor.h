/*
 * cursor.h — typed incremental cursor values (cursor.c): what a cursor value is (number,
 * date, datetime, string, ...), how two of them order, and lag arithmetic on them.
 *
 * A struct sl_cursor classifies a borrowed JSON value; it stays valid as long as the value.
 * Thread-safe: no state besides the arguments.
 */
#ifndef SLUICE_CURSOR_H
#define SLUICE_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/json.h"

#define SL_CURSOR_SHOW_MAX 80 /* bytes of a value quoted in a message */

/* assume_tz: the zone naive datetimes are read in (unset: they stay naive). */
struct sl_cursor_tz {
    bool set;
    int32_t offset_min;
};

enum sl_cursor_kind {
    SL_CURSOR_NULL,
    SL_CURSOR_NUMBER,
    SL_CURSOR_STRING,
    SL_CURSOR_DATE,
    SL_CURSOR_DATETIME,
    SL_CURSOR_BOOL,
    SL_CURSOR_ARRAY,
    SL_CURSOR_OBJECT
};

struct sl_cursor {
    const struct sl_json *v; /* borrowed */
    enum sl_cursor_kind kind;
    bool naive;              /* datetime without zone and no assume_tz */
    int64_t secs;            /* datetime: UTC seconds (wall clock when naive); date: days */
    int32_t nanos;
    int32_t offset_min;      /* the text's offset (or assume_tz's for naive text) */
    /* how the text was written, to write a lagged value the same way */
    char sep;                /* 'T', 't' or ' ' */
    bool has_sec;
    uint8_t frac;            /* fraction digits, 0..9 */
    char zone[8];            /* zone text as written, "" when naive */
};

/* assume_tz text: "UTC"/"utc"/"Z" or a fixed offset ("+02:00", "-0530", "+05"); NULL leaves
 * tz unset. false when the text is none of these. */
bool sl_cursor_parse_tz(const char *s, struct sl_cursor_tz *tz);
/* Classify v (NULL: a null cursor): ISO 8601 strings are dates or datetimes. */
void sl_cursor_classify(const struct sl_json *v, const struct sl_cursor_tz *tz,
                        struct sl_cursor *cv);
/* "integer", "float", "string", "date", "naive datetime", "datetime", ... for messages. */
const char *sl_cursor_kind_name(const struct sl_cursor *c);

enum sl_cursor_cmpres {
    SL_CMP_OK = 0,
    SL_CMP_KIND, /* the kinds cannot be compared */
    SL_CMP_TZ    /* a naive and an aware datetime */
};
/* Order of two classified values into *out (<0, 0, >0): numbers by exact decimal value,
 * datetimes as instants, dates as dates (a date against a datetime stands for its midnight),
 * strings byte-wise, bools false < true. */
enum sl_cursor_cmpres sl_cursor_cmp(const struct sl_cursor *a, const struct sl_cursor *b,
                                    int *out);
/* Quote v for a message (strings raw, anything else as compact JSON), cut at
 * SL_CURSOR_SHOW_MAX bytes; out holds n bytes (SL_CURSOR_SHOW_MAX + 8 is enough). */
void sl_cursor_show(const struct sl_json *v, char *out, size_t n);
/* The explanation appended to a comparison error ("" unless SL_CMP_TZ). */
const char *sl_cursor_tz_hint(enum sl_cursor_cmpres why);

/* raw moved back by lag (is_max; forward otherwise), as dlt applies lag: numbers by lag
 * units (ints stay exact), dates by whole days, datetimes by lag seconds (to microseconds),
 * written in the original's form. 0 ok (*out is a new heap value), 1 it cannot be (*why says
 * why), -1 out of memory. */
int sl_cursor_lag(const struct sl_cursor *raw, double lag, bool is_max, struct sl_json *out,
                  const char **why);

#endif
