/*
 * duckdb_lib.c — find and dlopen() libduckdb.so, resolve the C API functions of duckdb_lib.h.
 */
#include "destinations/duckdb_lib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SLUICE_DUCKDB_LIB_DEFAULT
#define SLUICE_DUCKDB_LIB_DEFAULT "deps/duckdb/libduckdb.so"
#endif

static struct sl_duck_api api;
static int loaded;             /* 1 ok, -1 failed */
static char why[512];          /* the failure, for every later attempt */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

/* One symbol: its address into *slot, or 0 with why set. */
static int resolve(void *h, const char *name, void *slot)
{
    void *f = dlsym(h, name);
    if (!f) {
        snprintf(why, sizeof(why), "libduckdb.so lacks %s (a DuckDB older than the pinned one?)",
                 name);
        return 0;
    }
    memcpy(slot, &f, sizeof(f)); /* object pointer to function pointer, as POSIX allows */
    return 1;
}

static void *open_lib(void)
{
    const char *env = getenv("SLUICE_DUCKDB_LIB");
    const char *const tries[] = { SLUICE_DUCKDB_LIB_DEFAULT, "libduckdb.so" };
    if (env && *env) {
        void *h = dlopen(env, RTLD_NOW | RTLD_LOCAL);
        if (!h)
            snprintf(why, sizeof(why), "SLUICE_DUCKDB_LIB=%s cannot be loaded: %s", env,
                     dlerror());
        return h;
    }
    for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
        void *h = dlopen(tries[i], RTLD_NOW | RTLD_LOCAL);
        if (h)
            return h;
    }
    snprintf(why, sizeof(why), "libduckdb.so is not installed (looked for %s and on the "
             "loader's path)", SLUICE_DUCKDB_LIB_DEFAULT);
    return NULL;
}

static int load(void)
{
    void *h = open_lib();
    if (!h)
        return -1;
#define R(field, name) resolve(h, name, &api.field)
    int ok = R(open_ext, "duckdb_open_ext") && R(close, "duckdb_close") &&
             R(connect, "duckdb_connect") && R(disconnect, "duckdb_disconnect") &&
             R(query, "duckdb_query") && R(destroy_result, "duckdb_destroy_result") &&
             R(result_error, "duckdb_result_error") && R(column_count, "duckdb_column_count") &&
             R(row_count, "duckdb_row_count") && R(rows_changed, "duckdb_rows_changed") &&
             R(column_name, "duckdb_column_name") && R(column_type, "duckdb_column_type") &&
             R(value_is_null, "duckdb_value_is_null") &&
             R(value_varchar, "duckdb_value_varchar") && R(value_int64, "duckdb_value_int64") &&
             R(free, "duckdb_free") && R(prepare, "duckdb_prepare") &&
             R(prepare_error, "duckdb_prepare_error") && R(bind_varchar, "duckdb_bind_varchar") &&
             R(bind_int64, "duckdb_bind_int64") && R(bind_null, "duckdb_bind_null") &&
             R(execute_prepared, "duckdb_execute_prepared") &&
             R(destroy_prepare, "duckdb_destroy_prepare") &&
             R(appender_create_ext, "duckdb_appender_create_ext") &&
             R(appender_error, "duckdb_appender_error") &&
             R(appender_close, "duckdb_appender_close") &&
             R(appender_destroy, "duckdb_appender_destroy") &&
             R(appender_end_row, "duckdb_appender_end_row") &&
             R(append_bool, "duckdb_append_bool") && R(append_int64, "duckdb_append_int64") &&
             R(append_double, "duckdb_append_double") &&
             R(append_varchar_length, "duckdb_append_varchar_length") &&
             R(append_blob, "duckdb_append_blob") && R(append_null, "duckdb_append_null") &&
             R(column_logical_type, "duckdb_column_logical_type") &&
             R(logical_type_get_alias, "duckdb_logical_type_get_alias") &&
             R(destroy_logical_type, "duckdb_destroy_logical_type") &&
             R(result_statement_type, "duckdb_result_statement_type") &&
             R(library_version, "duckdb_library_version") &&
             R(create_logical_type, "duckdb_create_logical_type") &&
             R(create_data_chunk, "duckdb_create_data_chunk") &&
             R(destroy_data_chunk, "duckdb_destroy_data_chunk") &&
             R(data_chunk_reset, "duckdb_data_chunk_reset") &&
             R(data_chunk_get_vector, "duckdb_data_chunk_get_vector") &&
             R(data_chunk_set_size, "duckdb_data_chunk_set_size") &&
             R(vector_get_data, "duckdb_vector_get_data") &&
             R(vector_get_validity, "duckdb_vector_get_validity") &&
             R(vector_ensure_validity_writable, "duckdb_vector_ensure_validity_writable") &&
             R(vector_assign_string_element_len, "duckdb_vector_assign_string_element_len") &&
             R(append_data_chunk, "duckdb_append_data_chunk") &&
             R(appender_flush, "duckdb_appender_flush") &&
             R(vector_size, "duckdb_vector_size");
#undef R
    return ok ? 1 : -1; /* the handle stays open either way: never dlclose a C++ runtime */
}

const struct sl_duck_api *sl_duck_load(struct sl_ctx *ctx)
{
    pthread_mutex_lock(&mu);
    if (!loaded)
        loaded = load();
    pthread_mutex_unlock(&mu);
    if (loaded > 0)
        return &api;
    sl_fail(ctx, SLUICE_ERR_DEST,
            "duckdb destination: %s: run scripts/install-deps (it fetches libduckdb.so from the "
            "npm package @duckdb/node-bindings-linux-x64 into deps/duckdb/), or set "
            "SLUICE_DUCKDB_LIB to the path of a libduckdb.so",
            why);
    sl_fail_origin(ctx, "duckdb", "");
    return NULL;
}
