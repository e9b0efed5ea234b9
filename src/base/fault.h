/*
 * fault.h — crash points for the fault harness (tests/fault).
 *
 * SL_FAULT_POINT("load.after_data_before_state") marks a place where a real process could die.
 * In a build with -DSLUICE_TESTING, SLUICE_FAULT=point[:n] makes the n-th hit (default 1) of
 * that point end the process with _exit(137), as a kill -9 would, and SLUICE_FAULT_DELAY=
 * point:usec sleeps usec at every hit (a test slows one stage down); in other builds the macro is
 * nothing. The harness lists the points by grepping for this macro, so a point is always a
 * string literal.
 */
#ifndef SLUICE_FAULT_H
#define SLUICE_FAULT_H

#ifdef SLUICE_TESTING
void sl_fault_point(const char *name);
#define SL_FAULT_POINT(name) sl_fault_point(name)
#else
#define SL_FAULT_POINT(name) ((void)0)
#endif

#endif
