/*
 * fdcount.c — an LD_PRELOAD shim for the soak test: when the sluice process exits normally it
 * writes the number of its open file descriptors (entries of /proc/self/fd, minus the one used
 * to list them) to the file named by $SOAK_FD_EXIT. A descriptor leaked by a run shows up here
 * even when it is opened after the command source has finished. The shim acts only in a
 * process whose name is "sluice", and takes itself out of that process's environment so the
 * commands it starts do not load it.
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char out[4096];

__attribute__((constructor)) static void fdcount_init(void)
{
    char comm[64] = "";
    FILE *f = fopen("/proc/self/comm", "r");
    if (!f)
        return;
    if (!fgets(comm, sizeof(comm), f))
        comm[0] = '\0';
    fclose(f);
    comm[strcspn(comm, "\n")] = '\0';
    if (strcmp(comm, "sluice") != 0)
        return;
    const char *o = getenv("SOAK_FD_EXIT");
    if (o && strlen(o) < sizeof(out))
        memcpy(out, o, strlen(o) + 1);
    unsetenv("LD_PRELOAD");
    unsetenv("SOAK_FD_EXIT");
}

__attribute__((destructor)) static void fdcount_at_exit(void)
{
    if (!out[0])
        return;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    FILE *f = fopen(out, "w");
    if (!f)
        return;
    fprintf(f, "%d\n", n - 1);
    fclose(f);
}
