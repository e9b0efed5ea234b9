/*
 * calendar.h — proleptic Gregorian calendar arithmetic (Howard Hinnant's days_from_civil /
 * civil_from_days) and fixed-width decimal fields, for the code that reads and writes ISO 8601
 * text (coercion of timestamps, cursor values, backfill windows). Pure functions: no
 * allocation, no time zone, no clock; valid for any year that fits the types.
 */
#ifndef SLUICE_CALENDAR_H
#define SLUICE_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Days since 1970-01-01 of year y, month m (1..12), day d (1..31); not validated. */
int64_t sl_days_from_civil(int64_t y, int64_t m, int64_t d);
/* The date `days` after 1970-01-01 (negative: before). */
void sl_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
/* Days in month m (1..12) of year y (29 for a leap February). */
int sl_days_in_month(int64_t y, int m);
/* y >= 1 and m/d a date of that year. */
bool sl_date_valid(int64_t y, int m, int d);
/* The value of the n decimal digits at s, or -1 when one of them is not a digit. */
int sl_decimal_field(const char *s, size_t n);

#endif
