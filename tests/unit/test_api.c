/* test_api.c — the public C API end to end: generator resources with resource and source
 * state, incremental values seen by the generator, a custom last_value_func, run info. */
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

#include "sluice.h"

struct gen {
    int run;
    char seen_start[64];
    char state_seen[256];
};

static sluice_status events(sluice_yield *y, void *ctx)
{
    struct gen *g = ctx;
    const char *start = sluice_yield_incremental(y, "start_value");
    snprintf(g->seen_start, sizeof(g->seen_start), "%s", start ? start : "(null)");
    char *st = NULL;
    if (sluice_yield_state_get(y, &st) != SLUICE_OK)
        return SLUICE_ERR_SOURCE;
    snprintf(g->state_seen, sizeof(g->state_seen), "%s", st);
    sluice_free(st);
    char page[256];
    int lo = g->run * 2 + 1;
    snprintf(page, sizeof(page), "[{\"id\":%d,\"ts\":%d},{\"id\":%d,\"ts\":%d}]", lo, lo, lo + 1,
             lo + 1);
    sluice_status rc = sluice_yield_json(y, page, strlen(page));
    if (rc != SLUICE_OK)
        return rc;
    char state[64];
    snprintf(state, sizeof(state), "{\"runs\":%d}", g->run + 1);
    rc = sluice_yield_state_set(y, state);
    if (rc == SLUICE_OK)
        rc = sluice_yield_source_state_set(y, "{\"shared\":\"yes\"}");
    return rc;
}

/* keeps the sum of cursor values as the "last value" */
static char *sum_fn(void *ctx, const char *row, const char *current)
{
    (void)ctx;
    long a = strtol(row, NULL, 10);
    long b = current ? strtol(current, NULL, 10) : 0;
    char *out = malloc(32);
    if (out)
        snprintf(out, 32, "%ld", a + b);
    return out;
}

static int collect(void *ctx, int ncols, const char *const *names, const char *const *values)
{
    char *buf = ctx;
    (void)names;
    if (!values)
        return 0;
    for (int i = 0; i < ncols; i++) {
        strcat(buf, values[i] ? values[i] : "NULL"); /* test code: bounded inputs */
        strcat(buf, i + 1 < ncols ? "|" : "\n");
    }
    return 0;
}

TEST(generator_state_and_incremental)
{
    char dir[] = "/tmp/sluice-api-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char pdir[512], db[512];
    snprintf(pdir, sizeof(pdir), "%s/pipelines", dir);
    snprintf(db, sizeof(db), "sqlite:%s/api.db", dir);
    setenv("SLUICE_PIPELINES_DIR", pdir, 1);
    struct gen g;
    memset(&g, 0, sizeof(g));
    for (int run = 0; run < 2; run++) {
        sluice_pipeline *p = NULL;
        g.run = run;
        CHECK_EQ_INT(sluice_pipeline_open(&p, "api_test", db, "ds"), SLUICE_OK);
        CHECK_EQ_INT(sluice_add_resource(p, "src", "events", events, &g), SLUICE_OK);
        CHECK_EQ_INT(sluice_resource_set(p, "events", "incremental", "{\"cursor_path\":\"ts\"}"),
                     SLUICE_OK);
        CHECK_EQ_INT(sluice_add_resource(p, "src", "sums", events, &g), SLUICE_OK);
        CHECK_EQ_INT(sluice_resource_set(p, "sums", "incremental", "{\"cursor_path\":\"ts\"}"),
                     SLUICE_OK);
        CHECK_EQ_INT(sluice_resource_set_last_value_func(p, "sums", sum_fn, NULL), SLUICE_OK);
        sluice_run_opts o;
        memset(&o, 0, sizeof(o));
        o.size = sizeof(o);
        const char *only[] = { "events", NULL };
        o.resources = only;
        sluice_run_info info;
        CHECK_EQ_INT(sluice_pipeline_run(p, &o, &info), SLUICE_OK);
        CHECK_EQ_INT(info.rows, 2);
        if (run == 0) {
            CHECK_EQ_STR(g.seen_start, "(null)");
            /* binding created the incremental slot before the generator ran */
            CHECK_EQ_STR(g.state_seen,
                         "{\"incremental\":{\"ts\":{\"initial_value\":null,\"last_value\":null,"
                         "\"start_value\":null,\"unique_hashes\":[]}}}");
        } else {
            CHECK_EQ_STR(g.seen_start, "2");
            CHECK_EQ_STR(g.state_seen,
                         "{\"incremental\":{\"ts\":{\"initial_value\":null,\"last_value\":2,"
                         "\"start_value\":null,\"unique_hashes\":[\"yliF2Z7Gtzo3\"]}},"
                         "\"runs\":1}");
        }
        sluice_pipeline_close(p);
    }
    /* the custom function: last value is the sum of cursors seen (3 + 4 on this run) */
    sluice_pipeline *p = NULL;
    CHECK_EQ_INT(sluice_pipeline_open(&p, "api_test", db, "ds"), SLUICE_OK);
    CHECK_EQ_INT(sluice_add_resource(p, "src", "sums", events, &g), SLUICE_OK);
    CHECK_EQ_INT(sluice_resource_set(p, "sums", "incremental", "{\"cursor_path\":\"ts\"}"),
                 SLUICE_OK);
    CHECK_EQ_INT(sluice_resource_set_last_value_func(p, "sums", sum_fn, NULL), SLUICE_OK);
    CHECK_EQ_INT(sluice_pipeline_run(p, NULL, NULL), SLUICE_OK);
    char *info = NULL;
    CHECK_EQ_INT(sluice_pipeline_info_json(p, &info), SLUICE_OK);
    CHECK(info && strstr(info, "\"sums\":{\"incremental\":{\"ts\":{\"initial_value\":null,"
                               "\"last_value\":7") != NULL);
    if (info && !strstr(info, "\"sums\":{\"incremental\":{\"ts\":{\"initial_value\":null,"
                              "\"last_value\":7"))
        fprintf(stderr, "%s\n", info);
    CHECK(info && strstr(info, "\"shared\":\"yes\"") != NULL);
    sluice_free(info);
    char buf[512] = "";
    CHECK_EQ_INT(sluice_pipeline_query(p, "SELECT id, ts FROM events ORDER BY id", collect, buf),
                 SLUICE_OK);
    CHECK_EQ_STR(buf, "1|1\n2|2\n3|3\n4|4\n");
    sluice_pipeline_close(p);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    unsetenv("SLUICE_PIPELINES_DIR");
}

/* ---- interrupts: sluice_pipeline_interrupt from inside a run ----------------------------- */

struct stopper {
    sluice_pipeline *p;
    int in_generator; /* interrupt after the generator's first page */
    int in_load;      /* interrupt at the first load progress report */
    int from;         /* first id of the generator's page */
};

static sluice_status ten_items(sluice_yield *y, void *ctx)
{
    struct stopper *s = ctx;
    char page[512] = "[";
    for (int i = 0; i < 10; i++) {
        char one[48];
        snprintf(one, sizeof(one), "%s{\"id\":%d}", i ? "," : "", s->from + i);
        strcat(page, one); /* test code: bounded */
    }
    strcat(page, "]");
    sluice_status rc = sluice_yield_json(y, page, strlen(page));
    if (rc != SLUICE_OK)
        return rc;
    if (s->in_generator)
        sluice_pipeline_interrupt(s->p);
    return sluice_yield_json(y, "{\"id\":1000}", 11);
}

static void stop_at_load(void *ctx, const sluice_progress *pg)
{
    struct stopper *s = ctx;
    if (s->in_load && strcmp(pg->stage, "load") == 0)
        sluice_pipeline_interrupt(s->p);
}

static sluice_status stopper_run(const char *db, struct stopper *s, char *buf)
{
    sluice_pipeline *p = NULL;
    sluice_status rc = sluice_pipeline_open(&p, "api_stop", db, "ds");
    s->p = p;
    if (rc == SLUICE_OK)
        rc = sluice_add_resource(p, "src", "items", ten_items, s);
    if (rc == SLUICE_OK) {
        sluice_set_progress_cb(p, stop_at_load, s);
        rc = sluice_pipeline_run(p, NULL, NULL);
    }
    snprintf(buf, 512, "%s", sluice_errmsg(p));
    sluice_pipeline_close(p);
    return rc;
}

TEST(interrupt_extract_and_load)
{
    char dir[] = "/tmp/sluice-api-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char pdir[512], db[512], msg[512], buf[512];
    snprintf(pdir, sizeof(pdir), "%s/pipelines", dir);
    snprintf(db, sizeof(db), "sqlite:%s/api.db", dir);
    setenv("SLUICE_PIPELINES_DIR", pdir, 1);
    struct stopper s = { NULL, 0, 0, 1 };
    CHECK_EQ_INT(stopper_run(db, &s, msg), SLUICE_OK);

    /* while extracting: the generator's next yield fails, nothing is left behind */
    s.in_generator = 1;
    s.from = 11;
    CHECK_EQ_INT(stopper_run(db, &s, msg), SLUICE_ERR_INTERRUPTED);
    CHECK_EQ_STR(msg, "interrupted while extracting resource items: the load package being "
                      "extracted is discarded and nothing of it was committed; the next run "
                      "extracts again from the last committed state");
    s.in_generator = 0;

    /* while loading: rolled back, the package stays pending */
    s.in_load = 1;
    CHECK_EQ_INT(stopper_run(db, &s, msg), SLUICE_ERR_INTERRUPTED);
    CHECK(strstr(msg, "interrupted while loading load package ") == msg);
    CHECK(strstr(msg, ": rolled back, nothing of it was committed; it stays pending and the next "
                      "run loads it first, exactly once") != NULL);
    s.in_load = 0;

    /* the next run loads the pending package once, then its own items */
    s.from = 21;
    CHECK_EQ_INT(stopper_run(db, &s, msg), SLUICE_OK);
    sluice_pipeline *p = NULL;
    CHECK_EQ_INT(sluice_pipeline_open(&p, "api_stop", db, "ds"), SLUICE_OK);
    buf[0] = '\0';
    CHECK_EQ_INT(sluice_pipeline_query(p,
                                       "SELECT count(*), count(DISTINCT _dlt_load_id), "
                                       "(SELECT count(*) FROM _dlt_loads) FROM items "
                                       "WHERE id < 1000",
                                       collect, buf),
                 SLUICE_OK);
    CHECK_EQ_STR(buf, "30|3|3\n");
    sluice_pipeline_close(p);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    unsetenv("SLUICE_PIPELINES_DIR");
}

static const struct test_case api_tests[] = {
    { "generator_state_and_incremental", generator_state_and_incremental },
    { "interrupt_extract_and_load", interrupt_extract_and_load },
};
TEST_SUITE(api, api_tests)
