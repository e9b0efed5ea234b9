/*
 * dynlib.h — a shared library opened at run time, the first time a run needs it, and a table
 * of its functions resolved by name.
 *
 * Why: the client libraries of optional parts (libpq for PostgreSQL, libcurl for REST, and
 * libduckdb) bring ~40 shared objects with them (OpenSSL, GnuTLS, Kerberos, LDAP, ...). Linked
 * at build time, the loader maps and relocates all of them in every process: 7.6 MiB of a
 * 16 MiB peak RSS for a 1M-item file → SQLite run that uses none of them. Opened on first
 * use, a run pays only for what its config asks for.
 */
#ifndef SLUICE_DYNLIB_H
#define SLUICE_DYNLIB_H

#include <pthread.h>
#include <stddef.h>

/* One function to resolve: its exported name and the function pointer variable to fill
 * (pass its address: &table.field). */
struct sl_dynsym {
    const char *name;
    void *slot;
};

/* A library's load, attempted once per process; later callers get the same outcome. */
struct sl_dynlib {
    pthread_mutex_t mu;
    int state;      /* 0 not tried, 1 loaded, -1 failed */
    char why[512];  /* the failure, for every later caller */
};
#define SL_DYNLIB_INIT { PTHREAD_MUTEX_INITIALIZER, 0, "" }

/* Load the library once: the path in environment variable env when that is set and not
 * empty (the only one tried then), else the first of names that dlopen() finds; then resolve
 * every symbol of syms. Returns 1, or 0 with lib->why saying what failed (the variable or
 * names tried, dlerror(), or the missing symbol). The handle is never closed. Thread-safe. */
int sl_dynlib_load(struct sl_dynlib *lib, const char *env, const char *const *names,
                   size_t nnames, const struct sl_dynsym *syms, size_t nsyms);

#endif
