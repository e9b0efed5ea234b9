/*
 * c_api.c — sluice from C: a generator resource yielding pages of JSON, merged on a primary
 * key into SQLite, run twice; then the result is queried and checked.
 *
 * Build: cc c_api.c -lsluice $(pkg-config --libs sqlite3 yaml-0.1 zlib libcrypto) -lyajl
 * Run in an empty folder: it writes c_api.db there and keeps its working dir under
 * $SLUICE_PIPELINES_DIR (default ~/.sluice/pipelines). Exit status 0 when the loaded table is
 * exactly what the two runs should leave behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice.h>

/* Each run yields the users of its "day": day 2 updates Bob and adds Cleo. */
static sluice_status users(sluice_yield *y, void *ctx)
{
    int day = *(int *)ctx;
    static const char *const day1 =
        "[{\"id\": 1, \"name\": \"Ada\", \"pets\": [\"cat\"]},"
        " {\"id\": 2, \"name\": \"Bob\", \"pets\": [\"dog\", \"fish\"]}]";
    static const char *const day2 =
        "[{\"id\": 2, \"name\": \"Bob B.\", \"pets\": [\"dog\"]},"
        " {\"id\": 3, \"name\": \"Cleo\", \"pets\": []}]";
    const char *page = day == 1 ? day1 : day2;
    return sluice_yield_json(y, page, strlen(page));
}

struct collect {
    char text[1024];
    size_t len;
};

static int row(void *ctx, int ncols, const char *const *names, const char *const *values)
{
    struct collect *c = ctx;
    (void)names;
    for (int i = 0; i < ncols; i++) {
        int n = snprintf(c->text + c->len, sizeof(c->text) - c->len, "%s%s", i ? "|" : "",
                         values[i] ? values[i] : "NULL");
        if (n > 0 && (size_t)n < sizeof(c->text) - c->len)
            c->len += (size_t)n;
    }
    if (c->len + 1 < sizeof(c->text))
        c->text[c->len++] = '\n';
    c->text[c->len] = '\0';
    return 0;
}

static int fail(sluice_pipeline *p, const char *what)
{
    const sluice_error *e = sluice_last_error(p);
    fprintf(stderr, "c_api: %s failed: %s: %s\n", what, sluice_status_name(e->code), e->message);
    sluice_pipeline_close(p);
    return 1;
}

int main(void)
{
    int day = 1;
    sluice_pipeline *p = NULL;
    if (sluice_global_init() != SLUICE_OK)
        return 1;
    if (sluice_pipeline_open(&p, "c_api_example", "sqlite:c_api.db", "people") != SLUICE_OK)
        return fail(p, "open");
    if (sluice_add_resource(p, "demo", "users", users, &day) != SLUICE_OK ||
        sluice_resource_set(p, "users", "write_disposition", "\"merge\"") != SLUICE_OK ||
        sluice_resource_set(p, "users", "primary_key", "\"id\"") != SLUICE_OK)
        return fail(p, "resource setup");

    sluice_run_opts opts;
    memset(&opts, 0, sizeof(opts));
    opts.size = sizeof(opts);
    sluice_run_info info;
    for (day = 1; day <= 2; day++) {
        if (sluice_pipeline_run(p, &opts, &info) != SLUICE_OK)
            return fail(p, "run");
        printf("day %d: load %s, %lld items, %lld rows\n", day, info.load_id,
               (long long)info.items, (long long)info.rows);
    }

    struct collect c;
    memset(&c, 0, sizeof(c));
    if (sluice_pipeline_query(p,
                              "SELECT u.id, u.name, group_concat(p.value, ',') FROM users u "
                              "LEFT JOIN users__pets p ON p._dlt_parent_id = u._dlt_id "
                              "GROUP BY u.id ORDER BY u.id",
                              row, &c) != SLUICE_OK)
        return fail(p, "query");
    printf("%s", c.text);
    sluice_pipeline_close(p);
    sluice_global_cleanup();
    const char *want = "1|Ada|cat\n2|Bob B.|dog\n3|Cleo|NULL\n";
    if (strcmp(c.text, want) != 0) {
        fprintf(stderr, "c_api: unexpected result, wanted:\n%s", want);
        return 1;
    }
    return 0;
}
