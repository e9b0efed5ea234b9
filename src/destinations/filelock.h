/*
 * filelock.h — who holds a lock on a destination's database file, for the LOCKED error of
 * a file destination that gave up waiting (sqlite, duckdb).
 */
#ifndef SLUICE_FILELOCK_H
#define SLUICE_FILELOCK_H

#include <stddef.h>

/* The pid of another process holding (not waiting for) a lock on the file at path, as
 * /proc/locks lists it: -1 for one whose pid this process cannot see (another pid
 * namespace, an open file description lock), 0 when none does or it cannot be told. Opens
 * nothing of path: closing a descriptor of a file would drop this process's own POSIX locks
 * on it (which SQLite holds). */
long sl_filelock_holder(const char *path);

/* "pid N, program" of a holder as /proc tells it (program from /proc/N/comm when readable),
 * or "a process of another pid namespace" for pid <= 0; always NUL-terminated. */
void sl_filelock_holder_text(long pid, char *out, size_t n);

#endif
