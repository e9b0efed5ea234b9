/*
 * clock.h — the two clocks sluice reads: a monotonic one for durations and progress, and the
 * wall clock for timestamps users see (_dlt_loads.inserted_at, load ids).
 *
 * Neither orders anything that decides what is loaded: state and schema are ordered by their
 * versions, and a new load id is placed above the destination's newest one whatever the clock
 * says (DESIGN.md 2). The stages get the clock through their context (run/context.h), so a
 * test can replace it. Builds with SLUICE_TESTING shift the wall clock by the signed number
 * of seconds in SLUICE_TEST_CLOCK_SHIFT (a machine whose clock is ahead or steps back), for
 * the clock-skew cases; release builds ignore the variable.
 */
#ifndef SLUICE_CLOCK_H
#define SLUICE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic seconds since an arbitrary start. */
double sl_clock_mono(void);
/* Wall clock: seconds since the epoch and microseconds. */
void sl_clock_wall(int64_t *sec, long *usec);
/* Wall clock as ISO 8601 UTC with microseconds ("2024-01-01T00:00:00.000000Z"). */
void sl_clock_utc_iso(char *out, size_t outsz);

#endif
