/*
 * duckdb_lib.c — find and dlopen() libduckdb.so, resolve the C API functions of duckdb_lib.h.
 */
#include "destinations/duckdb_lib.h"

#include "base/dynlib.h"

#ifndef SLUICE_DUCKDB_LIB_DEFAULT
#define SLUICE_DUCKDB_LIB_DEFAULT "deps/duckdb/libduckdb.so"
#endif

static struct sl_duck_api api;
static struct sl_dynlib lib = SL_DYNLIB_INIT;

static int load(void)
{
    static const char *const names[] = { SLUICE_DUCKDB_LIB_DEFAULT, "libduckdb.so" };
#define S(f) { "duckdb_" #f, &api.f }
    const struct sl_dynsym syms[] = {
        S(open_ext), S(close), S(connect), S(disconnect), S(query), S(destroy_result),
        S(result_error), S(column_count), S(row_count), S(rows_changed), S(column_name),
        S(column_type), S(value_is_null), S(value_varchar), S(value_int64), S(free), S(prepare),
        S(prepare_error), S(bind_varchar), S(bind_int64), S(bind_null), S(execute_prepared),
        S(destroy_prepare), S(appender_create_ext), S(appender_error), S(appender_close),
        S(appender_destroy), S(appender_end_row), S(append_bool), S(append_int64),
        S(append_double), S(append_varchar_length), S(append_blob), S(append_null),
        S(column_logical_type), S(logical_type_get_alias), S(destroy_logical_type),
        S(result_statement_type), S(library_version), S(create_logical_type),
        S(create_data_chunk), S(destroy_data_chunk), S(data_chunk_reset),
        S(data_chunk_get_vector), S(data_chunk_set_size), S(vector_get_data),
        S(vector_get_validity), S(vector_ensure_validity_writable),
        S(vector_assign_string_element_len), S(append_data_chunk), S(appender_flush),
        S(vector_size),
    };
#undef S
    return sl_dynlib_load(&lib, "SLUICE_DUCKDB_LIB", names, sizeof(names) / sizeof(names[0]),
                          syms, sizeof(syms) / sizeof(syms[0]));
}

const struct sl_duck_api *sl_duck_load(struct sl_ctx *ctx)
{
    if (load())
        return &api;
    sl_fail(ctx, SLUICE_ERR_DEST,
            "duckdb destination: %s: run scripts/install-deps (it fetches libduckdb.so from the "
            "npm package @duckdb/node-bindings-linux-x64 into deps/duckdb/), or set "
            "SLUICE_DUCKDB_LIB to the path of a libduckdb.so",
            lib.why);
    sl_fail_origin(ctx, "duckdb", "");
    return NULL;
}
