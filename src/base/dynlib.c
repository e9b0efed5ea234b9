/*
 * dynlib.c — dlopen() a library on first use and resolve a table of its functions (dynlib.h).
 */
#include "base/dynlib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *open_first(struct sl_dynlib *lib, const char *env, const char *const *names,
                        size_t nnames)
{
    const char *path = env ? getenv(env) : NULL;
    if (path && *path) {
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!h)
            snprintf(lib->why, sizeof(lib->why), "%s=%s cannot be loaded: %s", env, path,
                     dlerror());
        return h;
    }
    for (size_t i = 0; i < nnames; i++) {
        void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (h)
            return h;
    }
    int n = snprintf(lib->why, sizeof(lib->why), "%s is not installed (looked for",
                     nnames ? names[0] : "the library");
    for (size_t i = 0; i < nnames && n > 0 && (size_t)n < sizeof(lib->why); i++)
        n += snprintf(lib->why + n, sizeof(lib->why) - (size_t)n, "%s%s", i ? ", " : " ",
                      names[i]);
    if (n > 0 && (size_t)n < sizeof(lib->why))
        snprintf(lib->why + n, sizeof(lib->why) - (size_t)n, " on the loader's path)");
    return NULL;
}

static int load(struct sl_dynlib *lib, const char *env, const char *const *names,
                size_t nnames, const struct sl_dynsym *syms, size_t nsyms)
{
    void *h = open_first(lib, env, names, nnames);
    if (!h)
        return -1;
    for (size_t i = 0; i < nsyms; i++) {
        void *f = dlsym(h, syms[i].name);
        if (!f) {
            snprintf(lib->why, sizeof(lib->why), "%s lacks the function %s (too old?)",
                     nnames ? names[0] : "the library", syms[i].name);
            return -1; /* the handle stays open: some libraries cannot be unloaded safely */
        }
        memcpy(syms[i].slot, &f, sizeof(f)); /* object to function pointer, as POSIX allows */
    }
    return 1;
}

int sl_dynlib_load(struct sl_dynlib *lib, const char *env, const char *const *names,
                   size_t nnames, const struct sl_dynsym *syms, size_t nsyms)
{
    pthread_mutex_lock(&lib->mu);
    if (!lib->state)
        lib->state = load(lib, env, names, nnames, syms, nsyms);
    int ok = lib->state > 0;
    pthread_mutex_unlock(&lib->mu);
    return ok;
}
