/*
 * clock.c — monotonic and wall clocks (see clock.h).
 */
#include "base/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

double sl_clock_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sl_clock_wall(int64_t *sec, long *usec)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    *sec = (int64_t)ts.tv_sec;
    *usec = ts.tv_nsec / 1000;
#ifdef SLUICE_TESTING
    const char *shift = getenv("SLUICE_TEST_CLOCK_SHIFT");
    if (shift && *shift)
        *sec += strtoll(shift, NULL, 10);
#endif
}

void sl_clock_utc_iso(char *out, size_t outsz)
{
    int64_t sec;
    long usec;
    sl_clock_wall(&sec, &usec);
    time_t t = (time_t)sec;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
}
