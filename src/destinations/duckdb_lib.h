/*
 * duckdb_lib.h — the part of DuckDB's C API the duckdb destination uses, loaded at run time.
 *
 * sluice does not link against DuckDB: libduckdb.so is found and dlopen()ed the first time a
 * duckdb destination is opened, so sluice builds and runs without it. The prototypes below
 * are written from DuckDB's C API documentation (duckdb.h is not copied): opaque handles are
 * pointers, duckdb_state is 0 on success, idx_t is uint64_t, and duckdb_result is the
 * documented six-word struct that callers allocate and the library fills.
 *
 * Where the library comes from, first match wins:
 *   1. $SLUICE_DUCKDB_LIB (a path; only that one is tried when it is set),
 *   2. deps/duckdb/libduckdb.so of the source tree sluice was built in (scripts/install-deps
 *      fetches it from the npm package @duckdb/node-bindings-linux-x64, pinned there),
 *   3. "libduckdb.so" on the dynamic loader's path (LD_LIBRARY_PATH, ldconfig).
 * When none loads, sl_duck_load() fails with DEST: "duckdb destination: libduckdb.so is not
 * installed (...): run scripts/install-deps, or set SLUICE_DUCKDB_LIB to its path".
 */
#ifndef SLUICE_DEST_DUCKDB_LIB_H
#define SLUICE_DEST_DUCKDB_LIB_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

typedef uint64_t duck_idx;
typedef int duck_state; /* 0 success, 1 error */
typedef struct duck_database_s *duck_database;
typedef struct duck_connection_s *duck_connection;
typedef struct duck_prepared_s *duck_prepared;
typedef struct duck_appender_s *duck_appender;
typedef struct duck_logical_type_s *duck_logical_type;
typedef struct duck_data_chunk_s *duck_data_chunk;
typedef struct duck_vector_s *duck_vector;

/* The C API's materialized result (caller-allocated, filled by query / execute). */
typedef struct {
    duck_idx column_count_;
    duck_idx row_count_;
    duck_idx rows_changed_;
    void *columns_;
    char *error_message_;
    void *internal_data;
} duck_result;

/* A VARCHAR vector's element (duckdb_string_t): 16 bytes, the length first; up to 12 bytes
 * are held inline after it, a longer string is pointed to after a 4-byte prefix. */
typedef struct {
    union {
        struct {
            uint32_t length;
            char prefix[4];
            char *ptr;
        } pointer;
        struct {
            uint32_t length;
            char inlined[12];
        } inlined;
    } value;
} duck_string;

/* Type ids of duckdb_column_type (the documented DUCKDB_TYPE enum) that sluice tells apart. */
enum {
    DUCK_TYPE_BOOLEAN = 1,
    DUCK_TYPE_TINYINT = 2,
    DUCK_TYPE_SMALLINT = 3,
    DUCK_TYPE_INTEGER = 4,
    DUCK_TYPE_BIGINT = 5,
    DUCK_TYPE_UTINYINT = 6,
    DUCK_TYPE_USMALLINT = 7,
    DUCK_TYPE_UINTEGER = 8,
    DUCK_TYPE_UBIGINT = 9,
    DUCK_TYPE_FLOAT = 10,
    DUCK_TYPE_DOUBLE = 11,
    DUCK_TYPE_VARCHAR = 17,
    DUCK_TYPE_BLOB = 18,
    DUCK_TYPE_HUGEINT = 16,
    DUCK_TYPE_DECIMAL = 19, /* types above it are not rendered by duckdb_value_varchar */
    DUCK_TYPE_TIMESTAMP_TZ = 31
};

struct sl_duck_api {
    duck_state (*open_ext)(const char *path, duck_database *out, void *config, char **out_error);
    void (*close)(duck_database *db);
    duck_state (*connect)(duck_database db, duck_connection *out);
    void (*disconnect)(duck_connection *c);
    duck_state (*query)(duck_connection c, const char *sql, duck_result *out);
    void (*destroy_result)(duck_result *r);
    const char *(*result_error)(duck_result *r);
    duck_idx (*column_count)(duck_result *r);
    duck_idx (*row_count)(duck_result *r);
    duck_idx (*rows_changed)(duck_result *r);
    const char *(*column_name)(duck_result *r, duck_idx col);
    int (*column_type)(duck_result *r, duck_idx col);
    bool (*value_is_null)(duck_result *r, duck_idx col, duck_idx row);
    char *(*value_varchar)(duck_result *r, duck_idx col, duck_idx row);
    int64_t (*value_int64)(duck_result *r, duck_idx col, duck_idx row);
    void (*free)(void *p);
    duck_state (*prepare)(duck_connection c, const char *sql, duck_prepared *out);
    const char *(*prepare_error)(duck_prepared p);
    duck_state (*bind_varchar)(duck_prepared p, duck_idx i, const char *v);
    duck_state (*bind_int64)(duck_prepared p, duck_idx i, int64_t v);
    duck_state (*bind_null)(duck_prepared p, duck_idx i);
    duck_state (*execute_prepared)(duck_prepared p, duck_result *out);
    void (*destroy_prepare)(duck_prepared *p);
    duck_state (*appender_create_ext)(duck_connection c, const char *catalog, const char *schema,
                                      const char *table, duck_appender *out);
    const char *(*appender_error)(duck_appender a);
    duck_state (*appender_close)(duck_appender a);
    duck_state (*appender_destroy)(duck_appender *a);
    duck_state (*appender_end_row)(duck_appender a);
    duck_state (*append_bool)(duck_appender a, bool v);
    duck_state (*append_int64)(duck_appender a, int64_t v);
    duck_state (*append_double)(duck_appender a, double v);
    duck_state (*append_varchar_length)(duck_appender a, const char *v, duck_idx len);
    duck_state (*append_blob)(duck_appender a, const void *v, duck_idx len);
    duck_state (*append_null)(duck_appender a);
    duck_logical_type (*column_logical_type)(duck_result *r, duck_idx col);
    char *(*logical_type_get_alias)(duck_logical_type t);
    void (*destroy_logical_type)(duck_logical_type *t);
    int (*result_statement_type)(duck_result r); /* 1: SELECT */
    const char *(*library_version)(void);
    /* data chunks: columns of vector_size() rows each, appended to a table in one call (the
     * appender casts each column to the table's type, as it does single values) */
    duck_logical_type (*create_logical_type)(int type_id);
    duck_data_chunk (*create_data_chunk)(duck_logical_type *types, duck_idx ncols);
    void (*destroy_data_chunk)(duck_data_chunk *c);
    void (*data_chunk_reset)(duck_data_chunk c);
    duck_vector (*data_chunk_get_vector)(duck_data_chunk c, duck_idx col);
    void (*data_chunk_set_size)(duck_data_chunk c, duck_idx rows);
    void *(*vector_get_data)(duck_vector v);
    uint64_t *(*vector_get_validity)(duck_vector v);
    void (*vector_ensure_validity_writable)(duck_vector v);
    void (*vector_assign_string_element_len)(duck_vector v, duck_idx row, const char *s,
                                             duck_idx len);
    duck_state (*append_data_chunk)(duck_appender a, duck_data_chunk c);
    duck_state (*appender_flush)(duck_appender a);
    duck_idx (*vector_size)(void);
};

/* The loaded API (loaded once per process, never unloaded), or NULL after failing with DEST
 * in ctx (the message says how to install the library). */
const struct sl_duck_api *sl_duck_load(struct sl_ctx *ctx);

#endif
