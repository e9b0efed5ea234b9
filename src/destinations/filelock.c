/*
 * filelock.c — the holder of a lock on a database file (see filelock.h), from Linux's
 * /proc/locks: one line per lock, "ID: CLASS MODE ACCESS PID MAJOR:MINOR:INODE START END",
 * CLASS being POSIX, FLOCK or OFDLCK, and a waiter's line carrying "->" before CLASS. The
 * file is matched by device and inode; this process's own locks are skipped. Elsewhere (no
 * /proc) the holder is unknown and the callers say so.
 */
#include "destinations/filelock.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <unistd.h>

long sl_filelock_holder(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    FILE *f = fopen("/proc/locks", "r");
    if (!f)
        return 0;
    long self = (long)getpid(), found = 0;
    char line[256];
    while (!found && fgets(line, sizeof(line), f)) {
        if (strstr(line, "->"))
            continue; /* waiting, not holding */
        char cls[16], mode[16], access[16];
        long pid;
        unsigned int maj, min;
        unsigned long long ino;
        if (sscanf(line, "%*d: %15s %15s %15s %ld %x:%x:%llu", cls, mode, access, &pid, &maj,
                   &min, &ino) != 7)
            continue;
        if (ino != (unsigned long long)st.st_ino || maj != major(st.st_dev) ||
            min != minor(st.st_dev) || pid == self)
            continue;
        found = pid > 0 ? pid : -1;
    }
    fclose(f);
    return found;
}

void sl_filelock_holder_text(long pid, char *out, size_t n)
{
    char comm[64] = "";
    if (pid > 0) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
        FILE *f = fopen(path, "r");
        if (f) {
            if (!fgets(comm, sizeof(comm), f))
                comm[0] = '\0';
            fclose(f);
            comm[strcspn(comm, "\n")] = '\0';
        }
    }
    if (pid <= 0)
        snprintf(out, n, "a process of another pid namespace");
    else if (comm[0])
        snprintf(out, n, "pid %ld, %s", pid, comm);
    else
        snprintf(out, n, "pid %ld", pid);
}
