/*
 * fault.c — crash points (see fault.h). Compiled to nothing outside test builds.
 */
#include "base/fault.h"

#ifdef SLUICE_TESTING
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* SLUICE_FAULT_DELAY=point:usec sleeps usec at every hit of that point: a test slows one
 * stage down to watch the others (tests/tty/progress.sh slows the load thread's inserts). */
static void delay(const char *name)
{
    const char *spec = getenv("SLUICE_FAULT_DELAY");
    size_t nl = strlen(name);
    if (spec && strncmp(spec, name, nl) == 0 && spec[nl] == ':')
        usleep((useconds_t)strtoul(spec + nl + 1, NULL, 10));
}

void sl_fault_point(const char *name)
{
    /* A counter per process is enough: a test run arms one point. */
    static long hits;
    delay(name);
    const char *spec = getenv("SLUICE_FAULT");
    if (!spec)
        return;
    size_t nl = strlen(name);
    if (strncmp(spec, name, nl) != 0 || (spec[nl] != '\0' && spec[nl] != ':'))
        return;
    long n = 1;
    if (spec[nl] == ':')
        n = strtol(spec + nl + 1, NULL, 10);
    if (++hits == n)
        _exit(137);
}
#else
typedef int sl_fault_unused; /* ISO C wants a translation unit to declare something */
#endif
