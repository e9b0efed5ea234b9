/*
 * coerce.h — dlt's types of JSON values and their coercion into column types (coerce.c).
 *
 * A coerced value is a struct sl_value: what a normalized row holds for one column. Text
 * results (text, timestamps, dates, json, decimals, big integers) point into the caller's
 * arena. Thread-safe: no state besides the arena and scratch buffer passed in.
 */
#ifndef SLUICE_COERCE_H
#define SLUICE_COERCE_H

#include <stddef.h>
#include <stdint.h>

#include "base/alloc.h"
#include "base/json.h"
#include "model/schema.h"

enum sl_value_kind {
    SL_V_NULL = 0,
    SL_V_INT,
    SL_V_DOUBLE,
    SL_V_BOOL,
    SL_V_TEXT  /* text, timestamps, dates, json, decimals, big integers */
};

struct sl_value {
    uint8_t kind;   /* enum sl_value_kind */
    uint32_t len;   /* SL_V_TEXT: bytes */
    union {
        int64_t i;
        double d;
        const char *s;  /* SL_V_TEXT: NUL-terminated */
    } u;
};

/* The dlt type of a JSON value as it arrives (a Python object's type): bigint, double, bool,
 * text, wei (beyond int64), json (lists and objects); SL_DT_NONE for null. */
enum sl_dtype sl_dtype_of_value(const struct sl_json *v);
/* The type a new column gets from its first value: sl_dtype_of_value, except that ISO 8601
 * timestamp strings are timestamps and integers beyond wei's range are text. */
enum sl_dtype sl_dtype_infer(const struct sl_json *v);
/* Coerce v into a column of type `to`: 0 ok (out set; text in arena, built in scratch), 1 it
 * cannot be coerced (the value belongs in a variant column), -1 out of memory. */
int sl_coerce(struct sl_arena *arena, struct sl_buf *scratch, enum sl_dtype to,
              const struct sl_json *v, struct sl_value *out);

/* ISO 8601 as dlt reads it (also for backfill windows). Parse a timestamp string; on success
 * writes the normalized UTC form ("2024-01-01T08:00:00Z", fraction kept) to out (>= 40
 * bytes) and returns 1; 0 when s is not an ISO 8601 datetime with a time part. */
int sl_iso_timestamp_normalize(const char *s, size_t len, char *out, size_t outsz);
/* 1 when s is exactly a date "YYYY-MM-DD". */
int sl_iso_date_check(const char *s, size_t len);
/* A date or a datetime (NUL-terminated) as one canonical UTC instant: "YYYY-MM-DDTHH:MM:SSZ",
 * or with ".f" when the fraction has non-zero digits (trailing zeros dropped), a date being
 * its midnight UTC; so every spelling of one instant gives the same text. 1 ok (out >= 40
 * bytes), 0 when s is neither. */
int sl_iso_instant_canonical(const char *s, char *out, size_t outsz);

#endif
