/*
 * fuzz_config.c — sl_config_parse on the input as YAML (or JSON) text.
 *
 * The path is fixed (/fuzz/conf/config.yaml: it only names the file in messages and gives the
 * base dir). A few environment variables are set once, so ${VAR} interpolation and the
 * dlt-style overrides (SOURCES__..., DESTINATION__...) run on every input that reaches them:
 *   FUZZ_NAME, FUZZ_DEPTH, FUZZ_LIST         plain values for ${...}
 *   FUZZ_DSN                                 a dsn holding the secret SECRET
 *   SOURCES__SRC__ITEMS__PRIMARY_KEY         a resource override (YAML flow value)
 *   SOURCES__SRC__EVENTS__INCREMENTAL__CURSOR_PATH
 *   DESTINATION__POSTGRES__CREDENTIALS       a dsn holding SECRET (postgres configs only)
 * Checked: a failure leaves a one-line message and no config; success gives a config; the
 * secret never appears in an error message unless the input itself spells it out.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#include "fuzz_util.h"

#define SECRET "Fz-s3cr3t-9q"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("FUZZ_NAME", "events", 1);
    setenv("FUZZ_DEPTH", "3", 1);
    setenv("FUZZ_LIST", "[a, b]", 1);
    setenv("FUZZ_DSN", "postgresql://fuzzuser:" SECRET "@db.example:5432/x", 1);
    setenv("SOURCES__SRC__ITEMS__PRIMARY_KEY", "[id, region]", 1);
    setenv("SOURCES__SRC__EVENTS__INCREMENTAL__CURSOR_PATH", "updated_at", 1);
    setenv("DESTINATION__POSTGRES__CREDENTIALS", "postgresql://envuser:" SECRET "@h/db", 1);
    return 0;
}

static int contains(const uint8_t *data, size_t size, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= size; i++)
        if (memcmp(data + i, needle, n) == 0)
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_ctx ctx;
    struct sl_pipeline_cfg *cfg = NULL;
    sl_ctx_init(&ctx);
    sluice_status rc = sl_config_parse(&ctx, "/fuzz/conf/config.yaml", (const char *)data, size,
                                       &cfg);
    fuzz_check_error(&ctx, rc);
    if (rc != SLUICE_OK) {
        FUZZ_CHECK(cfg == NULL);
        if (strstr(ctx.message, SECRET) && !contains(data, size, SECRET)) {
            fprintf(stderr, "secret in error message: %s\n", ctx.message);
            FUZZ_CHECK(!"a secret leaked into a config error");
        }
    } else {
        FUZZ_CHECK(cfg != NULL);
        FUZZ_CHECK(cfg->base_dir && strcmp(cfg->base_dir, "/fuzz/conf") == 0);
        for (size_t i = 0; i < cfg->nres; i++) {
            const struct sl_resource_cfg *r = &cfg->resources[i];
            FUZZ_CHECK(r->name != NULL && r->source != NULL);
            FUZZ_CHECK(r->n_pk == 0 || r->primary_key != NULL);
            FUZZ_CHECK(r->n_mk == 0 || r->merge_key != NULL);
        }
    }
    sl_pipeline_cfg_free(&cfg);
    FUZZ_CHECK(cfg == NULL);
    return 0;
}
