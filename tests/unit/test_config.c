/*
 * test_config.c — the config module: YAML/JSON reading (types, lines, anchors, limits, syntax
 * errors), ${VAR} interpolation, environment overrides, validation messages (exact text),
 * secrets kept out of messages, sl_resource_cfg_set, and an allocation-failure loop over the
 * whole loader (every allocation fails in turn; ASan checks that nothing leaks).
 */
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

#include "config.h"

#define FIXTURES "tests/fixtures/config/"

static char errbuf[2048];

static const char *errmsg(const struct sl_ctx *ctx)
{
    sl_ctx_format(ctx, errbuf, sizeof(errbuf));
    return errbuf;
}

static sluice_status parse(struct sl_ctx *ctx, const char *text, struct sl_pipeline_cfg **cfg)
{
    sl_ctx_init(ctx);
    return sl_config_parse(ctx, "t.yaml", text, strlen(text), cfg);
}

/* The config must fail with exactly this formatted error. */
static void expect_error(const char *text, const char *expected, int line)
{
    struct sl_ctx ctx;
    struct sl_pipeline_cfg *cfg = NULL;
    sluice_status rc = parse(&ctx, text, &cfg);
    test_checks++;
    if (rc != SLUICE_ERR_CONFIG || cfg != NULL || strcmp(errmsg(&ctx), expected) != 0) {
        test_failures++;
        fprintf(stderr, "  FAIL %s:%d: rc %d\n    got:  %s\n    want: %s\n", __FILE__, line,
                (int)rc, errmsg(&ctx), expected);
    }
    sl_pipeline_cfg_free(&cfg);
}
#define EXPECT_ERROR(text, expected) expect_error(text, expected, __LINE__)

static struct sl_json *yaml(const char *text)
{
    struct sl_ctx ctx;
    struct sl_json *v = NULL;
    sl_ctx_init(&ctx);
    if (sl_yaml_parse(&ctx, "y.yaml", text, strlen(text), &v) != SLUICE_OK)
        fprintf(stderr, "  yaml: %s\n", errmsg(&ctx));
    return v;
}

static char *read_fixture(const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), FIXTURES "%s", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 65536);
    size_t n = buf ? fread(buf, 1, 65535, f) : 0;
    (void)n;
    fclose(f);
    return buf;
}

/* ============================================================================================
 * YAML reading
 * ========================================================================================== */

TEST(yaml_scalar_types)
{
    struct sl_json *v = yaml("a: ~\nb:\nc: null\nd: true\ne: False\nf: 42\ng: -7\nh: 0x1F\n"
                             "i: 0o17\nj: 1.5\nk: 1e3\nl: .inf\nm: 123456789012345678901234\n"
                             "n: \"42\"\no: '007'\np: 007\nq: hello world\nr: !!str 12\n"
                             "s: 2024-01-01T00:00:00Z\nt: +12\nu: -.INF\nv: [1, \"x\", {y: null}]\n"
                             "w: 0x8000000000000000\nx: 'it''s'\ny: \"tab\\there\"\nz: yes\n");
    CHECK(v != NULL);
    if (!v)
        return;
    CHECK_EQ_INT(sl_json_get(v, "a")->type, SL_JSON_NULL);
    CHECK_EQ_INT(sl_json_get(v, "b")->type, SL_JSON_NULL);
    CHECK_EQ_INT(sl_json_get(v, "c")->type, SL_JSON_NULL);
    CHECK(sl_json_get(v, "d")->type == SL_JSON_BOOL && sl_json_get(v, "d")->u.b);
    CHECK(sl_json_get(v, "e")->type == SL_JSON_BOOL && !sl_json_get(v, "e")->u.b);
    CHECK(sl_json_get(v, "f")->type == SL_JSON_INT && sl_json_get(v, "f")->u.i == 42);
    CHECK(sl_json_get(v, "g")->type == SL_JSON_INT && sl_json_get(v, "g")->u.i == -7);
    CHECK(sl_json_get(v, "h")->type == SL_JSON_INT && sl_json_get(v, "h")->u.i == 31);
    CHECK(sl_json_get(v, "i")->type == SL_JSON_INT && sl_json_get(v, "i")->u.i == 15);
    CHECK(sl_json_get(v, "j")->type == SL_JSON_DOUBLE && sl_json_get(v, "j")->u.d == 1.5);
    CHECK(sl_json_get(v, "k")->type == SL_JSON_DOUBLE && sl_json_get(v, "k")->u.d == 1000.0);
    CHECK(sl_json_get(v, "l")->type == SL_JSON_DOUBLE && sl_json_get(v, "l")->u.d > 1e308);
    CHECK_EQ_INT(sl_json_get(v, "m")->type, SL_JSON_BIGINT);
    CHECK_EQ_STR(sl_json_get(v, "m")->s, "123456789012345678901234");
    CHECK_EQ_STR(sl_json_str(sl_json_get(v, "n")), "42");
    CHECK_EQ_STR(sl_json_str(sl_json_get(v, "o")), "007");
    CHECK(sl_json_get(v, "p")->type == SL_JSON_INT && sl_json_get(v, "p")->u.i == 7);
    CHECK_EQ_STR(sl_json_str(sl_json_get(v, "q")), "hello world");
    CHECK_EQ_STR(sl_json_str(sl_json_get(v, "r")), "12");
    CHECK_EQ_STR(sl_json_str(sl_json_get(v, "s")), "2024-01-01T00:00:00Z");
    CHECK(sl_json_get(v, "t")->type == SL_JSON_INT && sl_json_get(v, "t")->u.i == 12);
    CHECK(sl_json_get(v, "u")->type == SL_JSON_DOUBLE && sl_json_get(v, "u")->u.d < -1e308);
    CHECK_EQ_STR(sl_json_str(sl_json_get(v, "w")), "0x8000000000000000");
    CHECK_EQ_STR(sl_json_str(sl_json_get(v, "x")), "it's");
    CHECK_EQ_STR(sl_json_str(sl_json_get(v, "y")), "tab\there");
    CHECK_EQ_STR(sl_json_str(sl_json_get(v, "z")), "yes"); /* YAML 1.2: not a bool */
    char *s = sl_json_dumps(sl_json_get(v, "v"), 0);
    CHECK_EQ_STR(s, "[1,\"x\",{\"y\":null}]");
    sl_free(s);
    sl_json_free(v);
}

TEST(yaml_lines)
{
    struct sl_json *v = yaml("# comment\n"
                             "a: 1\n"
                             "b:\n"
                             "  c: x\n"
                             "  d:\n"
                             "    - 1\n"
                             "    - 2\n");
    CHECK(v != NULL);
    if (!v)
        return;
    CHECK_EQ_INT(v->line, 2);
    CHECK_EQ_INT(sl_json_get(v, "a")->line, 2);
    CHECK_EQ_INT(sl_json_get(v, "b")->line, 3); /* a member's line is its key's */
    const struct sl_json *d = sl_json_get(sl_json_get(v, "b"), "d");
    CHECK_EQ_INT(d->line, 5);
    CHECK_EQ_INT(d->u.items[0].line, 6);
    CHECK_EQ_INT(d->u.items[1].line, 7);
    sl_json_free(v);
}

TEST(yaml_json_equals_yaml)
{
    char *y = read_fixture("full.yaml");
    char *j = read_fixture("full.json");
    CHECK(y != NULL && j != NULL);
    if (y && j) {
        struct sl_json *a = yaml(y);
        struct sl_json *b = yaml(j);
        CHECK(a != NULL && b != NULL);
        if (a && b)
            CHECK(sl_json_equal(a, b));
        sl_json_free(a);
        sl_json_free(b);
    }
    free(y);
    free(j);
    /* compact JSON: no space after ':' */
    struct sl_json *c = yaml("{\"a\":1,\"b\":[true,null,\"x\\/y\"],\"c\":{\"d\":-1.5e2}}");
    CHECK(c != NULL);
    if (c) {
        char *s = sl_json_dumps(c, 0);
        CHECK_EQ_STR(s, "{\"a\":1,\"b\":[true,null,\"x/y\"],\"c\":{\"d\":-150.0}}");
        sl_free(s);
    }
    sl_json_free(c);
}

TEST(yaml_anchors_and_merge)
{
    struct sl_json *v = yaml("base: &b {x: 1, y: 2}\n"
                             "list: &l [1, 2]\n"
                             "use: *b\n"
                             "merged:\n"
                             "  <<: *b\n"
                             "  y: 3\n"
                             "multi:\n"
                             "  <<: [*b, {z: 9, x: 7}]\n"
                             "copy: *l\n"
                             "quoted: {\"<<\": 1}\n");
    CHECK(v != NULL);
    if (!v)
        return;
    char *s = sl_json_dumps(v, SL_JSON_W_SORTED);
    CHECK_EQ_STR(s, "{\"base\":{\"x\":1,\"y\":2},\"copy\":[1,2],\"list\":[1,2],"
                    "\"merged\":{\"x\":1,\"y\":3},\"multi\":{\"x\":1,\"y\":2,\"z\":9},"
                    "\"quoted\":{\"<<\":1},\"use\":{\"x\":1,\"y\":2}}");
    CHECK_EQ_INT(sl_json_get(v, "use")->line, 3);
    sl_free(s);
    sl_json_free(v);
}

static void expect_yaml_error(const char *text, const char *expected, int line)
{
    struct sl_ctx ctx;
    struct sl_json *v = NULL;
    sl_ctx_init(&ctx);
    sluice_status rc = sl_yaml_parse(&ctx, "y.yaml", text, strlen(text), &v);
    test_checks++;
    if (rc != SLUICE_ERR_CONFIG || v != NULL || !strstr(errmsg(&ctx), expected)) {
        test_failures++;
        fprintf(stderr, "  FAIL %s:%d: rc %d\n    got:  %s\n    want: %s\n", __FILE__, line,
                (int)rc, errmsg(&ctx), expected);
    }
    sl_json_free(v);
}
#define EXPECT_YAML_ERROR(text, expected) expect_yaml_error(text, expected, __LINE__)

TEST(yaml_errors_and_limits)
{
    EXPECT_YAML_ERROR("a:\n  b: 1\n c: 2\n",
                      "CONFIG: y.yaml:3:2: did not find expected key (while parsing a block "
                      "mapping at line 1)");
    EXPECT_YAML_ERROR("a: [1, 2\n", "CONFIG: y.yaml:2:1: did not find expected ',' or ']'");
    EXPECT_YAML_ERROR("a: 1\nb:\n  c: 2\n  c: 3\n", "CONFIG: y.yaml:4: duplicate key 'b.c'");
    EXPECT_YAML_ERROR("l:\n  - {a: 1, a: 2}\n", "CONFIG: y.yaml:2: duplicate key 'l[0].a'");
    EXPECT_YAML_ERROR("{\"a\": 1, \"a\": 2}", "CONFIG: y.yaml:1: duplicate key 'a'");
    EXPECT_YAML_ERROR("a: 1\n---\nb: 2\n", "CONFIG: y.yaml:2:1: a second YAML document");
    EXPECT_YAML_ERROR("a: *nope\n", "CONFIG: y.yaml:1:4: unknown anchor 'nope'");
    EXPECT_YAML_ERROR("a: &x [1, *x]\n", "unknown anchor 'x'");
    EXPECT_YAML_ERROR("a: !!binary aGVsbG8=\n", "unsupported YAML tag 'tag:yaml.org,2002:binary'");
    EXPECT_YAML_ERROR("a: !!int abc\n", "CONFIG: y.yaml:1:4: the value is not a valid !!int");
    EXPECT_YAML_ERROR("? [a]\n: 1\n", "only plain values can be keys");
    EXPECT_YAML_ERROR("a:\n  <<: 5\n", "a '<<' merge key takes a mapping");
    EXPECT_YAML_ERROR("a: \"\\xff\xff\"\n", "CONFIG: y.yaml: invalid text at byte");
    /* an exponential alias expansion stops at the node cap */
    EXPECT_YAML_ERROR("a: &a [1,1,1,1,1,1,1,1,1,1]\n"
                      "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                      "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                      "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                      "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                      "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
                      "more than 200000 values");
    char deep[200];
    size_t n = 0;
    for (int i = 0; i < 70; i++)
        deep[n++] = '[';
    for (int i = 0; i < 70; i++)
        deep[n++] = ']';
    deep[n] = '\0';
    EXPECT_YAML_ERROR(deep, "values nested deeper than 64 levels");

    /* empty input is a null document */
    struct sl_json *v = yaml("");
    CHECK(v != NULL && v->type == SL_JSON_NULL);
    sl_json_free(v);
}

/* ============================================================================================
 * Full configs
 * ========================================================================================== */

static void check_full(const struct sl_pipeline_cfg *cfg, const char *fixture)
{
    char cwd[1024];
    char want[1200];
    CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
    snprintf(want, sizeof(want), "%s/tests/fixtures/config", cwd);
    CHECK_EQ_STR(cfg->base_dir, want);
    /* absolute, so pipeline commands find the config from any folder */
    snprintf(want, sizeof(want), "%s/" FIXTURES "%s", cwd, fixture);
    CHECK_EQ_STR(cfg->path, want);
    CHECK_EQ_STR(cfg->pipeline_name, "github_events");
    CHECK_EQ_STR(cfg->dest_type, "sqlite");
    snprintf(want, sizeof(want), "%s/tests/fixtures/config/github.db", cwd);
    CHECK_EQ_STR(cfg->dest_path, want);
    CHECK(cfg->dest_dsn == NULL);
    CHECK_EQ_STR(cfg->dataset, "github");
    CHECK_EQ_INT(cfg->max_table_nesting, 2);
    CHECK_EQ_INT(cfg->nres, 3);
    if (cfg->nres != 3)
        return;

    const struct sl_resource_cfg *r = &cfg->resources[0];
    CHECK_EQ_STR(r->source, "github");
    CHECK_EQ_STR(r->name, "events");
    CHECK_EQ_INT(r->from, SL_FROM_COMMAND);
    CHECK_EQ_STR(r->command, "python3 fetch_events.py");
    CHECK(r->file == NULL);
    CHECK_EQ_STR(r->format, "jsonl");
    CHECK_EQ_INT(r->wd, SL_WD_MERGE);
    CHECK(r->merge_strategy == NULL); /* plain merge: the destination's default */
    CHECK_EQ_INT(r->n_pk, 1);
    CHECK_EQ_STR(r->primary_key[0], "id");
    CHECK_EQ_INT(r->n_mk, 2);
    CHECK_EQ_STR(r->merge_key[0], "batch_day");
    CHECK_EQ_STR(r->merge_key[1], "repo");
    CHECK_EQ_STR(r->table_name, "{type}");
    CHECK_EQ_INT(r->max_table_nesting, 1); /* inherited from the source */
    CHECK(r->selected);
    char *s = sl_json_dumps(r->columns, SL_JSON_W_SORTED);
    CHECK_EQ_STR(s, "{\"id\":{\"data_type\":\"bigint\",\"primary_key\":true},"
                    "\"payload\":{\"data_type\":\"json\",\"nullable\":true}}");
    sl_free(s);
    s = sl_json_dumps(r->incremental, SL_JSON_W_SORTED);
    CHECK_EQ_STR(s, "{\"cursor_path\":\"created_at\",\"end_value\":null,"
                    "\"initial_value\":\"1970-01-01T00:00:00Z\",\"lag\":3600,"
                    "\"last_value_func\":\"max\",\"on_cursor_value_missing\":\"raise\","
                    "\"primary_key\":[],\"row_order\":null}");
    sl_free(s);

    r = &cfg->resources[1];
    CHECK_EQ_STR(r->name, "issues");
    CHECK_EQ_INT(r->from, SL_FROM_FILE);
    CHECK_EQ_STR(r->file, "data/*.jsonl");
    CHECK(r->command == NULL);
    CHECK_EQ_INT(r->wd, SL_WD_MERGE);
    CHECK_EQ_STR(r->merge_strategy, "delete-insert");
    CHECK_EQ_INT(r->n_pk, 0);
    CHECK(r->table_name == NULL);
    CHECK(r->columns == NULL);
    CHECK(r->incremental == NULL);
    CHECK_EQ_INT(r->max_table_nesting, 3);
    CHECK(!r->selected);

    r = &cfg->resources[2];
    CHECK_EQ_STR(r->source, "singer");
    CHECK_EQ_STR(r->name, "users");
    CHECK_EQ_STR(r->format, "singer");
    CHECK_EQ_INT(r->wd, SL_WD_REPLACE);
    CHECK(r->merge_strategy == NULL);
    CHECK_EQ_INT(r->max_table_nesting, -1);
}

TEST(config_full_yaml)
{
    struct sl_ctx ctx;
    struct sl_pipeline_cfg *cfg = NULL;
    sl_ctx_init(&ctx);
    CHECK_EQ_INT(sl_config_load(&ctx, FIXTURES "full.yaml", &cfg), SLUICE_OK);
    CHECK(cfg != NULL);
    if (cfg)
        check_full(cfg, "full.yaml");
    else
        fprintf(stderr, "  %s\n", errmsg(&ctx));
    sl_pipeline_cfg_free(&cfg);
    CHECK(cfg == NULL);
}

TEST(config_full_json)
{
    struct sl_ctx ctx;
    struct sl_pipeline_cfg *cfg = NULL;
    sl_ctx_init(&ctx);
    CHECK_EQ_INT(sl_config_load(&ctx, FIXTURES "full.json", &cfg), SLUICE_OK);
    CHECK(cfg != NULL);
    if (cfg)
        check_full(cfg, "full.json");
    else
        fprintf(stderr, "  %s\n", errmsg(&ctx));
    sl_pipeline_cfg_free(&cfg);
}

TEST(config_load_missing_file)
{
    struct sl_ctx ctx;
    struct sl_pipeline_cfg *cfg = NULL;
    sl_ctx_init(&ctx);
    CHECK_EQ_INT(sl_config_load(&ctx, FIXTURES "nope.yaml", &cfg), SLUICE_ERR_CONFIG);
    CHECK(cfg == NULL);
    CHECK_EQ_STR(errmsg(&ctx), "CONFIG: " FIXTURES "nope.yaml: cannot open the config file: "
                               "No such file or directory");
    CHECK_EQ_STR(ctx.origin, "config");
}

TEST(config_defaults)
{
    struct sl_ctx ctx;
    struct sl_pipeline_cfg *cfg = NULL;
    CHECK_EQ_INT(parse(&ctx, "pipeline: p\nsources:\n  s:\n    resources:\n"
                             "      r: {from: {file: x.jsonl}}\n", &cfg), SLUICE_OK);
    CHECK(cfg != NULL);
    if (!cfg)
        return;
    CHECK_EQ_STR(cfg->dataset, "p_dataset");
    CHECK_EQ_STR(cfg->dest_type, "sqlite");
    CHECK(cfg->dest_path == NULL);
    CHECK(cfg->dest_dsn == NULL);
    CHECK_EQ_INT(cfg->max_table_nesting, -1);
    CHECK_EQ_INT(cfg->nres, 1);
    CHECK_EQ_INT(cfg->resources[0].wd, SL_WD_APPEND);
    CHECK(cfg->resources[0].merge_strategy == NULL);
    CHECK_EQ_INT(cfg->resources[0].max_table_nesting, -1);
    CHECK(cfg->resources[0].selected);
    sl_pipeline_cfg_free(&cfg);

    /* an empty sources mapping is allowed */
    CHECK_EQ_INT(parse(&ctx, "pipeline: p\nsources: {}\n", &cfg), SLUICE_OK);
    CHECK(cfg && cfg->nres == 0);
    sl_pipeline_cfg_free(&cfg);
}

TEST(config_destination)
{
    struct sl_ctx ctx;
    struct sl_pipeline_cfg *cfg = NULL;
    char cwd[1024], want[1200];
    CHECK(getcwd(cwd, sizeof(cwd)) != NULL);

    CHECK_EQ_INT(parse(&ctx, "pipeline: p\ndestination: {type: postgres, credentials: "
                             "\"postgres://u@h/db\"}\nsources: {}\n", &cfg), SLUICE_OK);
    CHECK(cfg != NULL);
    if (cfg) {
        CHECK_EQ_STR(cfg->dest_type, "postgres");
        CHECK_EQ_STR(cfg->dest_dsn, "postgres://u@h/db");
        CHECK(cfg->dest_path == NULL);
    }
    sl_pipeline_cfg_free(&cfg);

    sl_ctx_init(&ctx);
    const char *t = "pipeline: p\ndestination: {type: duckdb, credentials: ../x.duckdb}\n"
                    "sources: {}\n";
    CHECK_EQ_INT(sl_config_parse(&ctx, "./sub//dir/t.yaml", t, strlen(t), &cfg), SLUICE_OK);
    snprintf(want, sizeof(want), "%s/sub/dir", cwd);
    CHECK(cfg != NULL);
    if (cfg) {
        CHECK_EQ_STR(cfg->base_dir, want);
        snprintf(want, sizeof(want), "%s/sub/dir/../x.duckdb", cwd);
        CHECK_EQ_STR(cfg->dest_path, want);
    }
    sl_pipeline_cfg_free(&cfg);

    sl_ctx_init(&ctx);
    t = "pipeline: p\ndestination: {path: /abs/x.db}\nsources: {}\n";
    CHECK_EQ_INT(sl_config_parse(&ctx, "/etc/sluice/t.yaml", t, strlen(t), &cfg), SLUICE_OK);
    if (cfg) {
        CHECK_EQ_STR(cfg->base_dir, "/etc/sluice");
        CHECK_EQ_STR(cfg->dest_path, "/abs/x.db");
    }
    sl_pipeline_cfg_free(&cfg);

    CHECK_EQ_INT(parse(&ctx, "pipeline: p\ndestination: {path: \":memory:\"}\nsources: {}\n",
                       &cfg), SLUICE_OK);
    if (cfg)
        CHECK_EQ_STR(cfg->dest_path, ":memory:");
    sl_pipeline_cfg_free(&cfg);

    EXPECT_ERROR("pipeline: p\ndestination:\n  path: a.db\n  credentials: b.db\nsources: {}\n",
                 "CONFIG: t.yaml:4: 'destination.credentials' and 'destination.path' are both "
                 "set; keep one");
    EXPECT_ERROR("pipeline: p\ndestination:\n  type: postgres\n  path: a.db\nsources: {}\n",
                 "CONFIG: t.yaml:4: 'destination.path' does not apply to postgres (use 'dsn')");
    EXPECT_ERROR("pipeline: p\ndestination:\n  dsn: postgres://x\nsources: {}\n",
                 "CONFIG: t.yaml:3: 'destination.dsn' applies only to postgres (use 'path')");
    EXPECT_ERROR("pipeline: p\ndestination: sqlite\nsources: {}\n",
                 "CONFIG: t.yaml:2: 'destination' must be a mapping (type, path, dsn)");
    EXPECT_ERROR("pipeline: p\ndestination: {tpye: duckdb}\nsources: {}\n",
                 "CONFIG: t.yaml:2: unknown key 'destination.tpye' (did you mean 'type'?)");
}

/* ============================================================================================
 * Interpolation and environment overrides
 * ========================================================================================== */

TEST(config_interpolation)
{
    struct sl_ctx ctx;
    struct sl_pipeline_cfg *cfg = NULL;
    setenv("SL_T_NAME", "pp", 1);
    setenv("SL_T_DEPTH", "3", 1);
    setenv("SL_T_EMPTY", "", 1);
    unsetenv("SL_T_MISSING");
    CHECK_EQ_INT(parse(&ctx, "pipeline: ${SL_T_NAME}\n"
                             "dataset: \"pre_${SL_T_NAME}_$${x}_$$y_$\"\n"
                             "max_table_nesting: ${SL_T_DEPTH}\n"
                             "sources:\n"
                             "  s:\n"
                             "    resources:\n"
                             "      r:\n"
                             "        from: {command: \"echo ${SL_T_NAME}${SL_T_EMPTY}\"}\n"
                             "        selected: ${SL_T_TRUE_UNUSED_KEY_IS_NOT_SET:-x}\n",
                       &cfg), SLUICE_ERR_CONFIG);
    CHECK_EQ_STR(errmsg(&ctx), "CONFIG: t.yaml:9: '${SL_T_TRUE_UNUSED_KEY_IS_NOT_SET:-x}' is not "
                               "a valid environment variable reference");
    CHECK_EQ_INT(parse(&ctx, "pipeline: ${SL_T_NAME}\n"
                             "dataset: \"pre_${SL_T_NAME}_$${x}_$$y_$\"\n"
                             "max_table_nesting: ${SL_T_DEPTH}\n"
                             "sources:\n"
                             "  s:\n"
                             "    resources:\n"
                             "      r:\n"
                             "        from: {command: \"echo ${SL_T_NAME}${SL_T_EMPTY}\"}\n"
                             "        ${KEYS_ARE_NOT_INTERPOLATED}: 1\n",
                       &cfg), SLUICE_ERR_CONFIG);
    CHECK_EQ_STR(errmsg(&ctx), "CONFIG: t.yaml:9: unknown key "
                               "'sources.s.resources.r.${KEYS_ARE_NOT_INTERPOLATED}'");
    CHECK_EQ_INT(parse(&ctx, "pipeline: ${SL_T_NAME}\n"
                             "dataset: \"pre_${SL_T_NAME}_$${x}_$$y_$\"\n"
                             "max_table_nesting: ${SL_T_DEPTH}\n"
                             "sources:\n"
                             "  s:\n"
                             "    resources:\n"
                             "      r:\n"
                             "        from: {command: \"echo ${SL_T_NAME}${SL_T_EMPTY}\"}\n",
                       &cfg), SLUICE_OK);
    CHECK(cfg != NULL);
    if (cfg) {
        CHECK_EQ_STR(cfg->pipeline_name, "pp");
        CHECK_EQ_STR(cfg->dataset, "pre_pp_${x}_$$y_$");
        CHECK_EQ_INT(cfg->max_table_nesting, 3); /* a string holding an int, coerced */
        CHECK_EQ_STR(cfg->resources[0].command, "echo pp");
    }
    sl_pipeline_cfg_free(&cfg);

    EXPECT_ERROR("pipeline: p\nsources:\n  s:\n    resources:\n      r:\n"
                 "        from: {command: \"echo ${SL_T_MISSING}\"}\n",
                 "CONFIG: t.yaml:6: environment variable 'SL_T_MISSING' is not set");
    EXPECT_ERROR("pipeline: \"x${SL_T_NAME\"\nsources: {}\n",
                 "CONFIG: t.yaml:1: unterminated '${' in a value (write '$${' for a literal "
                 "'${')");
    setenv("SL_T_DEPTH", "deep", 1);
    EXPECT_ERROR("pipeline: p\nmax_table_nesting: ${SL_T_DEPTH}\nsources: {}\n",
                 "CONFIG: t.yaml:2: 'max_table_nesting' must be an integer");
    unsetenv("SL_T_NAME");
    unsetenv("SL_T_DEPTH");
    unsetenv("SL_T_EMPTY");
}

static const char *const env_config =
    "pipeline: p\n"
    "destination: {type: postgres, dsn: \"postgres://file\"}\n"
    "sources:\n"
    "  github:\n"
    "    resources:\n"
    "      events:\n"
    "        from: {command: \"echo\"}\n"
    "        write_disposition: merge\n"
    "        primary_key: id\n"
    "        incremental: {cursor_path: ts, lag: 5}\n"
    "      issues:\n"
    "        from: {file: x.jsonl}\n";

static const char *const env_names[] = {
    "SOURCES__GITHUB__EVENTS__PRIMARY_KEY",   "SOURCES__GITHUB__EVENTS__WRITE_DISPOSITION",
    "SOURCES__GITHUB__EVENTS__INCREMENTAL__LAG", "SOURCES__GITHUB__EVENTS__TABLE_NAME",
    "SOURCES__GITHUB__EVENTS__FROM__COMMAND", "DESTINATION__CREDENTIALS",
    "DATASET_NAME",                           "PIPELINE_NAME",
    "SOURCES__GITHUB__MAX_TABLE_NESTING",     "SOURCES__NOPE__X__Y",
    "SOURCES__GITHUB__EVENTS__INCREMENTAL__INITIAL_VALUE",
    "sources__github__issues__selected",      "SOURCES__GITHUB__RESOURCES__ISSUES__MERGE_KEY",
    "SOURCES__GITHUB__ISSUES__COLUMNS__ID__NULLABLE", "SOURCES__GITHUB__UNKNOWN_RESOURCE__X",
    "DESTINATION__POSTGRES__CREDENTIALS",
};

static void set_env_overrides(void)
{
    setenv("SOURCES__GITHUB__EVENTS__PRIMARY_KEY", "[id, k]", 1);
    setenv("SOURCES__GITHUB__EVENTS__WRITE_DISPOSITION", "replace", 1);
    setenv("SOURCES__GITHUB__EVENTS__INCREMENTAL__LAG", "10", 1);
    setenv("SOURCES__GITHUB__EVENTS__TABLE_NAME", "{type}", 1);
    setenv("SOURCES__GITHUB__EVENTS__FROM__COMMAND", "echo \"a: b\" # not a comment", 1);
    setenv("DESTINATION__CREDENTIALS", "postgres://generic", 1);
    setenv("DESTINATION__POSTGRES__CREDENTIALS", "postgres://env", 1);
    setenv("DATASET_NAME", "ds", 1);
    setenv("PIPELINE_NAME", "pp", 1);
    setenv("SOURCES__GITHUB__MAX_TABLE_NESTING", "4", 1);
    setenv("SOURCES__NOPE__X__Y", "1", 1);
    setenv("SOURCES__GITHUB__UNKNOWN_RESOURCE__X", "1", 1);
    setenv("SOURCES__GITHUB__EVENTS__INCREMENTAL__INITIAL_VALUE", "100", 1);
    setenv("sources__github__issues__selected", "false", 1);
    setenv("SOURCES__GITHUB__RESOURCES__ISSUES__MERGE_KEY", "day", 1);
    setenv("SOURCES__GITHUB__ISSUES__COLUMNS__ID__NULLABLE", "false", 1);
}

static void unset_env_overrides(void)
{
    for (size_t i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++)
        unsetenv(env_names[i]);
}

TEST(config_env_overrides)
{
    struct sl_ctx ctx;
    struct sl_pipeline_cfg *cfg = NULL;
    set_env_overrides();
    sluice_status rc = parse(&ctx, env_config, &cfg);
    unset_env_overrides();
    CHECK_EQ_INT(rc, SLUICE_OK);
    CHECK(cfg != NULL);
    if (!cfg) {
        fprintf(stderr, "  %s\n", errmsg(&ctx));
        return;
    }
    CHECK_EQ_STR(cfg->pipeline_name, "pp");
    CHECK_EQ_STR(cfg->dataset, "ds");
    CHECK_EQ_STR(cfg->dest_dsn, "postgres://env"); /* the typed variable wins */
    CHECK_EQ_INT(cfg->nres, 2);
    const struct sl_resource_cfg *r = &cfg->resources[0];
    CHECK_EQ_INT(r->n_pk, 2);
    if (r->n_pk == 2) {
        CHECK_EQ_STR(r->primary_key[0], "id");
        CHECK_EQ_STR(r->primary_key[1], "k");
    }
    CHECK_EQ_INT(r->wd, SL_WD_REPLACE);
    CHECK(r->merge_strategy == NULL);
    CHECK_EQ_STR(r->table_name, "{type}");
    CHECK_EQ_STR(r->command, "echo \"a: b\" # not a comment");
    CHECK_EQ_INT(r->max_table_nesting, 4);
    char *s = sl_json_dumps(r->incremental, SL_JSON_W_SORTED);
    CHECK_EQ_STR(s, "{\"cursor_path\":\"ts\",\"initial_value\":100,\"lag\":10}");
    sl_free(s);
    r = &cfg->resources[1];
    CHECK(!r->selected);
    CHECK_EQ_INT(r->n_mk, 1);
    s = sl_json_dumps(r->columns, 0);
    CHECK_EQ_STR(s, "{\"id\":{\"nullable\":false}}");
    sl_free(s);
    sl_pipeline_cfg_free(&cfg);

    /* sqlite: DESTINATION__CREDENTIALS is the path */
    setenv("DESTINATION__CREDENTIALS", "/tmp/env.db", 1);
    rc = parse(&ctx, "pipeline: p\ndestination: {credentials: file.db}\nsources: {}\n", &cfg);
    unsetenv("DESTINATION__CREDENTIALS");
    CHECK_EQ_INT(rc, SLUICE_OK);
    if (cfg)
        CHECK_EQ_STR(cfg->dest_path, "/tmp/env.db");
    sl_pipeline_cfg_free(&cfg);

    /* PIPELINE_NAME supplies a missing required key */
    setenv("PIPELINE_NAME", "from_env", 1);
    rc = parse(&ctx, "sources: {}\n", &cfg);
    unsetenv("PIPELINE_NAME");
    CHECK_EQ_INT(rc, SLUICE_OK);
    if (cfg)
        CHECK_EQ_STR(cfg->pipeline_name, "from_env");
    sl_pipeline_cfg_free(&cfg);
}

TEST(config_env_errors)
{
    const char *base = "pipeline: p\nsources:\n  github:\n    resources:\n      events:\n"
                       "        from: {command: x}\n";
    setenv("SOURCES__GITHUB__EVENTS__PRIMRY_KEY", "id", 1);
    EXPECT_ERROR(base, "CONFIG: environment variable SOURCES__GITHUB__EVENTS__PRIMRY_KEY: "
                       "unknown key 'sources.github.resources.events.primry_key' (did you mean "
                       "'primary_key'?)");
    unsetenv("SOURCES__GITHUB__EVENTS__PRIMRY_KEY");

    setenv("SOURCES__GITHUB__EVENTS__INCREMENTAL__LAG", "1", 1);
    EXPECT_ERROR(base, "CONFIG: environment variable SOURCES__GITHUB__EVENTS__INCREMENTAL__LAG: "
                       "missing required key "
                       "'sources.github.resources.events.incremental.cursor_path'");
    setenv("SOURCES__GITHUB__EVENTS__INCREMENTAL", "{cursor_path: ts}", 1);
    setenv("SOURCES__GITHUB__EVENTS__INCREMENTAL__LAG", "-1", 1);
    EXPECT_ERROR(base, "CONFIG: environment variable SOURCES__GITHUB__EVENTS__INCREMENTAL__LAG: "
                       "'incremental.lag' must be >= 0");
    unsetenv("SOURCES__GITHUB__EVENTS__INCREMENTAL__LAG");
    unsetenv("SOURCES__GITHUB__EVENTS__INCREMENTAL");

    setenv("SOURCES__GITHUB__EVENTS__FROM__COMMAND__X", "1", 1);
    EXPECT_ERROR(base, "CONFIG: environment variable SOURCES__GITHUB__EVENTS__FROM__COMMAND__X: "
                       "'sources.github.resources.events.from.command' is not a mapping, so "
                       "nothing can be set inside it");
    unsetenv("SOURCES__GITHUB__EVENTS__FROM__COMMAND__X");
}

/* ============================================================================================
 * Validation messages
 * ========================================================================================== */

#define PFX "pipeline: p\nsources:\n  s:\n    resources:\n      r:\n        from: {file: x}\n"

TEST(config_unknown_key)
{
    EXPECT_ERROR("pipeline: p\n"
                 "sources:\n"
                 "  github:\n"
                 "    resources:\n"
                 "      events:\n"
                 "        from: {file: x.jsonl}\n"
                 "        primry_key: id\n",
                 "CONFIG: t.yaml:7: unknown key 'sources.github.resources.events.primry_key' "
                 "(did you mean 'primary_key'?)");
    EXPECT_ERROR("Pipeline: p\nsources: {}\n",
                 "CONFIG: t.yaml:1: unknown key 'Pipeline' (did you mean 'pipeline'?)");
    EXPECT_ERROR("pipeline: p\nsources: {}\nfoo: 1\n", "CONFIG: t.yaml:3: unknown key 'foo'");
    EXPECT_ERROR(PFX "        incremental: {cursor_path: ts, foo: 1}\n",
                 "CONFIG: t.yaml:7: unknown key 'sources.s.resources.r.incremental.foo'");
    EXPECT_ERROR(PFX "        columns: {id: {data_typ: text}}\n",
                 "CONFIG: t.yaml:7: unknown key 'sources.s.resources.r.columns.id.data_typ' "
                 "(did you mean 'data_type'?)");
    EXPECT_ERROR("pipeline: p\nsources:\n  s:\n    resource: {}\n",
                 "CONFIG: t.yaml:4: unknown key 'sources.s.resource' (did you mean "
                 "'resources'?)");
    EXPECT_ERROR("pipeline: p\nsources:\n  s:\n    rest_api: {client: {}}\n",
                 "CONFIG: t.yaml:4: missing required key 'sources.s.rest_api.resources'");
}

TEST(config_wrong_types)
{
    EXPECT_ERROR(PFX "        write_disposition: upsert\n",
                 "CONFIG: t.yaml:7: 'write_disposition' must be one of append, replace, merge "
                 "(got 'upsert')");
    EXPECT_ERROR(PFX "        write_disposition: merg\n",
                 "CONFIG: t.yaml:7: 'write_disposition' must be one of append, replace, merge "
                 "(got 'merg'; did you mean 'merge'?)");
    EXPECT_ERROR(PFX "        write_disposition: [merge]\n",
                 "CONFIG: t.yaml:7: 'write_disposition' must be one of append, replace, merge");
    EXPECT_ERROR(PFX "        max_table_nesting: abc\n",
                 "CONFIG: t.yaml:7: 'max_table_nesting' must be an integer");
    EXPECT_ERROR(PFX "        max_table_nesting: 1.5\n",
                 "CONFIG: t.yaml:7: 'max_table_nesting' must be an integer");
    EXPECT_ERROR(PFX "        max_table_nesting: -1\n",
                 "CONFIG: t.yaml:7: 'max_table_nesting' must be >= 0");
    EXPECT_ERROR(PFX "        max_table_nesting: 99999999999999999999\n",
                 "CONFIG: t.yaml:7: 'max_table_nesting' is out of range");
    EXPECT_ERROR(PFX "        selected: 3\n",
                 "CONFIG: t.yaml:7: 'selected' must be true or false");
    EXPECT_ERROR(PFX "        primary_key: {a: 1}\n",
                 "CONFIG: t.yaml:7: 'primary_key' must be a string or a list of strings");
    EXPECT_ERROR(PFX "        primary_key: [id, 3]\n",
                 "CONFIG: t.yaml:7: 'primary_key[1]' must be a string");
    EXPECT_ERROR(PFX "        merge_key: \"\"\n",
                 "CONFIG: t.yaml:7: 'merge_key' must not be empty");
    EXPECT_ERROR(PFX "        table_name: ''\n",
                 "CONFIG: t.yaml:7: 'table_name' must not be empty");
    EXPECT_ERROR(PFX "        table_name: 5\n", "CONFIG: t.yaml:7: 'table_name' must be a string");
    EXPECT_ERROR(PFX "        incremental: {cursor_path: ts, lag: -5}\n",
                 "CONFIG: t.yaml:7: 'incremental.lag' must be >= 0");
    EXPECT_ERROR(PFX "        incremental: {cursor_path: ts, lag: soon}\n",
                 "CONFIG: t.yaml:7: 'incremental.lag' must be a number");
    EXPECT_ERROR(PFX "        incremental: {cursor_path: ts, last_value_func: avg}\n",
                 "CONFIG: t.yaml:7: 'incremental.last_value_func' must be one of max, min "
                 "(got 'avg')");
    EXPECT_ERROR(PFX "        incremental: {cursor_path: ts, initial_value: [1]}\n",
                 "CONFIG: t.yaml:7: 'incremental.initial_value' must be a single value (string, "
                 "number, bool or null)");
    EXPECT_ERROR(PFX "        incremental: {cursor_path: ts, max_unique_hashes: 0}\n",
                 "CONFIG: t.yaml:7: 'incremental.max_unique_hashes' must be > 0");
    EXPECT_ERROR(PFX "        incremental: {cursor_path: ts, row_order: up}\n",
                 "CONFIG: t.yaml:7: 'incremental.row_order' must be one of asc, desc (got 'up')");
    EXPECT_ERROR(PFX "        incremental: {cursor_path: ts, range_end: half}\n",
                 "CONFIG: t.yaml:7: 'incremental.range_end' must be one of open, closed "
                 "(got 'half')");
    EXPECT_ERROR(PFX "        incremental: {cursor_path: ts, on_cursor_value_missing: skip}\n",
                 "CONFIG: t.yaml:7: 'incremental.on_cursor_value_missing' must be one of raise, "
                 "include, exclude (got 'skip')");
    EXPECT_ERROR(PFX "        incremental: {cursor_path: \"\"}\n",
                 "CONFIG: t.yaml:7: 'incremental.cursor_path' must not be empty");
    EXPECT_ERROR(PFX "        incremental: created_at\n",
                 "CONFIG: t.yaml:7: 'incremental' must be a mapping");
    EXPECT_ERROR(PFX "        columns: {id: {data_type: integer}}\n",
                 "CONFIG: t.yaml:7: 'columns.id.data_type' must be one of text, bigint, double, "
                 "bool, timestamp, date, json, decimal, time, binary, wei (got 'integer')");
    EXPECT_ERROR(PFX "        columns: {id: {nullable: maybe}}\n",
                 "CONFIG: t.yaml:7: 'columns.id.nullable' must be true or false");
    EXPECT_ERROR(PFX "        columns: {id: {dedup_sort: up}}\n",
                 "CONFIG: t.yaml:7: 'columns.id.dedup_sort' must be one of asc, desc (got 'up')");
    EXPECT_ERROR(PFX "        columns: [id]\n",
                 "CONFIG: t.yaml:7: 'columns' must be a mapping of column names to hints");
    EXPECT_ERROR("pipeline: p\nsources:\n  s:\n    resources:\n      r:\n"
                 "        from: {file: x, command: y}\n",
                 "CONFIG: t.yaml:6: 'from' must have exactly one of 'command' or 'file'");
    EXPECT_ERROR("pipeline: p\nsources:\n  s:\n    resources:\n      r:\n"
                 "        from: {file: x, format: singer}\n",
                 "CONFIG: t.yaml:6: 'from.format' singer needs a 'command'");
    EXPECT_ERROR("pipeline: p\nsources:\n  s:\n    resources:\n      r:\n"
                 "        from: {command: x, format: csv}\n",
                 "CONFIG: t.yaml:6: 'from.format' must be one of jsonl, singer (got 'csv')");
    EXPECT_ERROR("pipeline: p\nsources:\n  s:\n    resources:\n      r:\n"
                 "        from: x.jsonl\n",
                 "CONFIG: t.yaml:6: 'from' must be a mapping with 'command' or 'file'");
    EXPECT_ERROR("pipeline: p\nmax_table_nesting: x\nsources: {}\n",
                 "CONFIG: t.yaml:2: 'max_table_nesting' must be an integer");
    EXPECT_ERROR("pipeline: [a]\nsources: {}\n", "CONFIG: t.yaml:1: 'pipeline' must be a string");
    EXPECT_ERROR("pipeline: a/b\nsources: {}\n",
                 "CONFIG: t.yaml:1: 'pipeline' must be a name without '/' (it names the "
                 "pipeline's folder)");
    EXPECT_ERROR("pipeline: p\ndataset: 5\nsources: {}\n",
                 "CONFIG: t.yaml:2: 'dataset' must be a string");
    EXPECT_ERROR("pipeline: p\ndestination: {type: mysql}\nsources: {}\n",
                 "CONFIG: t.yaml:2: 'destination.type' must be one of sqlite, duckdb, postgres "
                 "(got 'mysql')");
    EXPECT_ERROR("pipeline: p\nsources:\n  s:\n    max_table_nesting: x\n    resources: {}\n",
                 "CONFIG: t.yaml:4: 'max_table_nesting' must be an integer");
    EXPECT_ERROR("pipeline: p\nsources: [a]\n",
                 "CONFIG: t.yaml:2: 'sources' must be a mapping of source names to sources");
    EXPECT_ERROR("pipeline: p\nsources:\n  s: 1\n",
                 "CONFIG: t.yaml:3: 'sources.s' must be a mapping with 'resources'");
    EXPECT_ERROR("pipeline: p\nsources:\n  s:\n    resources: [r]\n",
                 "CONFIG: t.yaml:4: 'sources.s.resources' must be a mapping of resource names to "
                 "resources");
    EXPECT_ERROR("pipeline: p\nsources:\n  s:\n    resources:\n      r: 5\n",
                 "CONFIG: t.yaml:5: 'sources.s.resources.r' must be a mapping (from, "
                 "write_disposition, ...)");
    EXPECT_ERROR("- pipeline: p\n",
                 "CONFIG: t.yaml:1: the config must be a mapping (pipeline, destination, dataset, "
                 "sources)");
}

TEST(config_missing_required)
{
    EXPECT_ERROR("sources: {}\n", "CONFIG: t.yaml:1: missing required key 'pipeline'");
    EXPECT_ERROR("", "CONFIG: t.yaml:1: missing required key 'pipeline'");
    EXPECT_ERROR("# only a comment\n", "CONFIG: t.yaml:1: missing required key 'pipeline'");
    EXPECT_ERROR("pipeline: p\n", "CONFIG: t.yaml:1: missing required key 'sources'");
    EXPECT_ERROR("pipeline: p\nsources:\n  s: {}\n",
                 "CONFIG: t.yaml:3: missing required key 'sources.s.resources'");
    EXPECT_ERROR("pipeline: p\nsources:\n  s:\n    resources:\n      r:\n        primary_key: id\n",
                 "CONFIG: t.yaml:5: missing required key 'sources.s.resources.r.from'");
    EXPECT_ERROR(PFX "        incremental: {lag: 1}\n",
                 "CONFIG: t.yaml:7: missing required key "
                 "'sources.s.resources.r.incremental.cursor_path'");
    EXPECT_ERROR(PFX "        write_disposition: {strategy: delete-insert}\n",
                 "CONFIG: t.yaml:7: missing required key "
                 "'sources.s.resources.r.write_disposition.disposition'");
}

TEST(config_duplicate_key)
{
    EXPECT_ERROR("pipeline: p\nsources:\n  s:\n    resources: {}\n  s: {}\n",
                 "CONFIG: t.yaml:5: duplicate key 'sources.s'");
    EXPECT_ERROR("pipeline: p\npipeline: q\n", "CONFIG: t.yaml:2: duplicate key 'pipeline'");
}

TEST(config_merge_strategy)
{
    EXPECT_ERROR(PFX "        write_disposition: {disposition: merge, strategy: cdc}\n",
                 "CONFIG: t.yaml:7: merge strategy 'cdc' is not supported yet");
    EXPECT_ERROR(PFX "        write_disposition: {disposition: merge, strategy: magic}\n",
                 "CONFIG: t.yaml:7: 'write_disposition.strategy' must be one of delete-insert, "
                 "upsert, insert-only, scd2, cdc (got 'magic')");
    EXPECT_ERROR(PFX "        write_disposition: {disposition: append, strategy: delete-insert}\n",
                 "CONFIG: t.yaml:7: 'write_disposition.strategy' applies only to 'merge'");
    EXPECT_ERROR(PFX "        write_disposition: {disposition: merge, dedup: true}\n",
                 "CONFIG: t.yaml:7: unknown key 'sources.s.resources.r.write_disposition.dedup'");
    /* dlt's other keys: scd2's only with scd2, the ones sluice lacks refused by name */
    EXPECT_ERROR(PFX "        write_disposition: {disposition: merge, strategy: upsert, "
                     "validity_column_names: [a, b]}\n",
                 "CONFIG: t.yaml:7: 'write_disposition.validity_column_names' applies only to "
                 "the 'scd2' strategy");
    EXPECT_ERROR(PFX "        write_disposition: {disposition: merge, "
                     "boundary_timestamp: \"2024-01-01\"}\n",
                 "CONFIG: t.yaml:7: 'write_disposition.boundary_timestamp' applies only to the "
                 "'scd2' strategy");
    EXPECT_ERROR(PFX "        write_disposition: {disposition: replace, "
                     "row_version_column_name: h}\n",
                 "CONFIG: t.yaml:7: 'write_disposition.row_version_column_name' applies only "
                 "to 'merge'");
    EXPECT_ERROR(PFX "        write_disposition: {disposition: merge, strategy: scd2, "
                     "validity_column_names: [a]}\n",
                 "CONFIG: t.yaml:7: 'write_disposition.validity_column_names' must be a list of "
                 "two column names");
    EXPECT_ERROR(PFX "        write_disposition: {disposition: merge, strategy: scd2, "
                     "validity_column_names: [a, \"\"]}\n",
                 "CONFIG: t.yaml:7: 'write_disposition.validity_column_names' must be a list of "
                 "two column names");
    EXPECT_ERROR(PFX "        write_disposition: {disposition: merge, strategy: scd2, "
                     "boundary_timestamp: yesterday}\n",
                 "CONFIG: t.yaml:7: 'write_disposition.boundary_timestamp' must be an ISO 8601 "
                 "date or datetime");
    EXPECT_ERROR(PFX "        write_disposition: {disposition: merge, strategy: scd2, "
                     "active_record_timestamp: \"31.12.9999\"}\n",
                 "CONFIG: t.yaml:7: 'write_disposition.active_record_timestamp' must be an ISO "
                 "8601 date or datetime");
    EXPECT_ERROR(PFX "        write_disposition: {disposition: merge, strategy: upsert, "
                     "skip_unchanged_rows: true}\n",
                 "CONFIG: t.yaml:7: 'write_disposition.skip_unchanged_rows' is not supported "
                 "yet");
    EXPECT_ERROR(PFX "        write_disposition: {disposition: merge, deduplicated: true}\n",
                 "CONFIG: t.yaml:7: 'write_disposition.deduplicated' is not supported yet");
    EXPECT_ERROR(PFX "        write_disposition: {disposition: merge, source_filter: \"a > 1\"}\n",
                 "CONFIG: t.yaml:7: 'write_disposition.source_filter' is not supported yet");
    EXPECT_ERROR(PFX "        write_disposition: {disposition: merge, "
                     "destination_scope: \"a > 1\"}\n",
                 "CONFIG: t.yaml:7: 'write_disposition.destination_scope' is not supported yet");

    /* every scd2 key, kept as written */
    struct sl_ctx sctx;
    struct sl_pipeline_cfg *scfg = NULL;
    CHECK_EQ_INT(parse(&sctx, PFX "        write_disposition: {disposition: merge, strategy: scd2, "
                                  "validity_column_names: [From, To], active_record_timestamp: "
                                  "\"9999-12-31\", boundary_timestamp: \"2024-01-01T10:00:00+02:00\", "
                                  "row_version_column_name: h}\n",
                       &scfg),
                 SLUICE_OK);
    if (scfg) {
        const struct sl_resource_cfg *r = &scfg->resources[0];
        CHECK_EQ_STR(r->merge_strategy, "scd2");
        CHECK_EQ_STR(r->merge.valid_from, "From");
        CHECK_EQ_STR(r->merge.valid_to, "To");
        CHECK_EQ_STR(r->merge.active_ts, "9999-12-31");
        CHECK_EQ_STR(r->merge.boundary_ts, "2024-01-01T10:00:00+02:00");
        CHECK_EQ_STR(r->merge.row_version, "h");
    }
    sl_pipeline_cfg_free(&scfg);
    /* null timestamps are dlt's defaults */
    CHECK_EQ_INT(parse(&sctx, PFX "        write_disposition: {disposition: merge, strategy: scd2, "
                                  "active_record_timestamp: null, boundary_timestamp: null}\n",
                       &scfg),
                 SLUICE_OK);
    if (scfg) {
        CHECK(scfg->resources[0].merge.active_ts == NULL);
        CHECK(scfg->resources[0].merge.boundary_ts == NULL);
    }
    sl_pipeline_cfg_free(&scfg);

    struct sl_ctx ctx;
    struct sl_pipeline_cfg *cfg = NULL;
    CHECK_EQ_INT(parse(&ctx, PFX "        write_disposition: {disposition: replace}\n", &cfg),
                 SLUICE_OK);
    if (cfg) {
        CHECK_EQ_INT(cfg->resources[0].wd, SL_WD_REPLACE);
        CHECK(cfg->resources[0].merge_strategy == NULL);
    }
    sl_pipeline_cfg_free(&cfg);
}

/* No message may contain the secret, whatever goes wrong around it. */
static void expect_no_secret(const char *text, int line)
{
    struct sl_ctx ctx;
    struct sl_pipeline_cfg *cfg = NULL;
    sluice_status rc = parse(&ctx, text, &cfg);
    test_checks++;
    if (rc != SLUICE_ERR_CONFIG || strstr(errmsg(&ctx), "s3cr3t")) {
        test_failures++;
        fprintf(stderr, "  FAIL %s:%d: rc %d: %s\n", __FILE__, line, (int)rc, errmsg(&ctx));
    }
    sl_pipeline_cfg_free(&cfg);
}
#define EXPECT_NO_SECRET(text) expect_no_secret(text, __LINE__)

TEST(config_secrets_not_leaked)
{
    EXPECT_NO_SECRET("pipeline: p\ndestination: {type: postgres, dsn: \"postgres://u:s3cr3t@h\"}\n"
                     "sources: {}\nbogus: 1\n");
    EXPECT_NO_SECRET("pipeline: p\ndestination: {type: \"postgres://u:s3cr3t@h/db\"}\n"
                     "sources: {}\n");
    EXPECT_NO_SECRET("pipeline: p\ndestination: {type: postgres, dsn: [\"s3cr3t\"]}\n"
                     "sources: {}\n");
    EXPECT_NO_SECRET("pipeline: p\ndestination: {credentials: {password: s3cr3t}}\n"
                     "sources: {}\n");
    EXPECT_NO_SECRET("pipeline: p\ndestination: {\"postgres://u:s3cr3t@h\": 1}\nsources: {}\n");
    EXPECT_NO_SECRET("pipeline: p\ndestination: {type: postgres, dsn: \"x\ns3cr3t: [\"\n");
    EXPECT_NO_SECRET("pipeline: p\ndestination: {type: postgres, dsn: \"s3cr3t\", dsn: x}\n");
    EXPECT_NO_SECRET(PFX "        write_disposition: s3cr3t://x\n");
    setenv("SL_T_PW", "s3cr3t", 1);
    EXPECT_NO_SECRET("pipeline: p\ndestination: {type: postgres, dsn: \"pg://u:${SL_T_PW}@h\"}\n"
                     "sources:\n  s:\n    resources:\n      r: {}\n");
    EXPECT_NO_SECRET("pipeline: p\n"
                     "destination: {type: postgres, dsn: \"${SL_T_PW}${NOPE_UNSET}\"}\n"
                     "sources: {}\n");
    /* a value from the environment echoed by a check (an invalid JSONPath, a resource name) */
    setenv("SL_T_DSN", "postgresql://u:s3cr3t@db.example:5432/x", 1);
    EXPECT_NO_SECRET("pipeline: p\nsources:\n  s:\n    rest_api:\n      client: {base_url: "
                     "\"http://h/\"}\n      resources:\n        - name: r\n          endpoint: "
                     "{path: r, data_selector: \"${SL_T_DSN}\"}\n");
    EXPECT_NO_SECRET("pipeline: p\nsources:\n  s:\n    rest_api:\n      client: {base_url: "
                     "\"http://h/\"}\n      resources: [\"${SL_T_DSN}\", \"${SL_T_DSN}\"]\n");
    {
        struct sl_ctx ctx;
        struct sl_pipeline_cfg *cfg = NULL;
        CHECK_EQ_INT(parse(&ctx, "pipeline: p\nsources:\n  s:\n    rest_api:\n      client: "
                                 "{base_url: \"http://h/\"}\n      resources:\n        - name: r\n"
                                 "          endpoint: {path: r, data_selector: \"x${SL_T_DSN}\"}\n",
                           &cfg),
                     SLUICE_ERR_CONFIG);
        CHECK(strstr(errmsg(&ctx), "invalid JSONPath 'x${SL_T_DSN}'") != NULL);
        sl_pipeline_cfg_free(&cfg);
    }
    unsetenv("SL_T_DSN");
    unsetenv("SL_T_PW");
    setenv("DESTINATION__CREDENTIALS", "postgres://u:s3cr3t@h/db", 1);
    EXPECT_NO_SECRET("pipeline: p\ndestination: {type: postgres}\nsources: {x: 1}\n");
    EXPECT_NO_SECRET("pipeline: p\ndestination: {type: sqlite, dsn: x}\nsources: {}\n");
    setenv("DESTINATION__PATH", "/x.db", 1);
    EXPECT_NO_SECRET("pipeline: p\ndestination: {type: postgres}\nsources: {}\n");
    unsetenv("DESTINATION__PATH");
    unsetenv("DESTINATION__CREDENTIALS");
}

TEST(config_primary_key_forms)
{
    struct sl_ctx ctx;
    struct sl_pipeline_cfg *cfg = NULL;
    CHECK_EQ_INT(parse(&ctx, PFX "        primary_key: id\n        merge_key: [a, b, c]\n", &cfg),
                 SLUICE_OK);
    if (cfg) {
        CHECK_EQ_INT(cfg->resources[0].n_pk, 1);
        CHECK_EQ_STR(cfg->resources[0].primary_key[0], "id");
        CHECK_EQ_INT(cfg->resources[0].n_mk, 3);
        CHECK_EQ_STR(cfg->resources[0].merge_key[2], "c");
    }
    sl_pipeline_cfg_free(&cfg);
    CHECK_EQ_INT(parse(&ctx, PFX "        primary_key: [id, \"url\"]\n", &cfg), SLUICE_OK);
    if (cfg) {
        CHECK_EQ_INT(cfg->resources[0].n_pk, 2);
        CHECK_EQ_STR(cfg->resources[0].primary_key[1], "url");
    }
    sl_pipeline_cfg_free(&cfg);
    CHECK_EQ_INT(parse(&ctx, PFX "        primary_key: []\n", &cfg), SLUICE_OK);
    if (cfg)
        CHECK_EQ_INT(cfg->resources[0].n_pk, 0);
    sl_pipeline_cfg_free(&cfg);
}

/* ============================================================================================
 * sl_resource_cfg_set
 * ========================================================================================== */

static sluice_status set_yaml(struct sl_ctx *ctx, struct sl_resource_cfg *r, const char *key,
                              const char *text)
{
    struct sl_json *v = yaml(text);
    sl_ctx_init(ctx);
    sluice_status rc = v ? sl_resource_cfg_set(ctx, r, key, v) : SLUICE_ERR_INTERNAL;
    sl_json_free(v);
    return rc;
}

TEST(resource_cfg_set)
{
    struct sl_ctx ctx;
    struct sl_resource_cfg r;
    CHECK_EQ_INT(sl_resource_cfg_init(&r, "src", "events"), 0);
    CHECK_EQ_STR(r.source, "src");
    CHECK_EQ_STR(r.name, "events");
    CHECK_EQ_INT(r.wd, SL_WD_APPEND);
    CHECK_EQ_INT(r.from, SL_FROM_NONE);
    CHECK_EQ_INT(r.max_table_nesting, -1);
    CHECK(r.selected);

    CHECK_EQ_INT(set_yaml(&ctx, &r, "write_disposition", "merge"), SLUICE_OK);
    CHECK_EQ_INT(r.wd, SL_WD_MERGE);
    CHECK(r.merge_strategy == NULL);
    CHECK_EQ_INT(set_yaml(&ctx, &r, "write_disposition", "upsert"), SLUICE_ERR_CONFIG);
    CHECK_EQ_STR(errmsg(&ctx), "CONFIG: 'write_disposition' must be one of append, replace, "
                               "merge (got 'upsert') (resource events)");
    CHECK_EQ_INT(r.wd, SL_WD_MERGE); /* unchanged by a failed set */
    CHECK_EQ_INT(set_yaml(&ctx, &r, "write_disposition", "{disposition: merge, strategy: cdc}"),
                 SLUICE_ERR_CONFIG);
    CHECK_EQ_STR(errmsg(&ctx), "CONFIG: merge strategy 'cdc' is not supported yet "
                               "(resource events)");
    CHECK_EQ_INT(set_yaml(&ctx, &r, "write_disposition", "{disposition: merge, strategy: upsert}"),
                 SLUICE_OK);
    CHECK_EQ_STR(r.merge_strategy, "upsert");

    CHECK_EQ_INT(set_yaml(&ctx, &r, "primary_key", "[a, b]"), SLUICE_OK);
    CHECK_EQ_INT(r.n_pk, 2);
    CHECK_EQ_INT(set_yaml(&ctx, &r, "primary_key", "id"), SLUICE_OK);
    CHECK_EQ_INT(r.n_pk, 1);
    CHECK_EQ_STR(r.primary_key[0], "id");
    CHECK_EQ_INT(set_yaml(&ctx, &r, "primary_key", "[a, [b]]"), SLUICE_ERR_CONFIG);
    CHECK_EQ_STR(errmsg(&ctx), "CONFIG: 'primary_key[1]' must be a string (resource events)");
    CHECK_EQ_INT(r.n_pk, 1);

    CHECK_EQ_INT(set_yaml(&ctx, &r, "primry_key", "id"), SLUICE_ERR_CONFIG);
    CHECK_EQ_STR(errmsg(&ctx), "CONFIG: unknown key 'primry_key' (did you mean 'primary_key'?) "
                               "(resource events)");

    CHECK_EQ_INT(set_yaml(&ctx, &r, "incremental", "{cursor_path: ts, lag: \"2.5\"}"), SLUICE_OK);
    char *s = sl_json_dumps(r.incremental, SL_JSON_W_SORTED);
    CHECK_EQ_STR(s, "{\"cursor_path\":\"ts\",\"lag\":2.5}");
    sl_free(s);
    CHECK_EQ_INT(set_yaml(&ctx, &r, "incremental", "{lag: 1}"), SLUICE_ERR_CONFIG);
    CHECK_EQ_STR(errmsg(&ctx), "CONFIG: missing required key 'incremental.cursor_path' "
                               "(resource events)");
    CHECK(r.incremental != NULL);
    CHECK_EQ_INT(set_yaml(&ctx, &r, "incremental", "null"), SLUICE_OK);
    CHECK(r.incremental == NULL);

    CHECK_EQ_INT(set_yaml(&ctx, &r, "from", "{command: ./run.sh, format: singer}"), SLUICE_OK);
    CHECK_EQ_INT(r.from, SL_FROM_COMMAND);
    CHECK_EQ_STR(r.command, "./run.sh");
    CHECK_EQ_STR(r.format, "singer");
    CHECK_EQ_INT(set_yaml(&ctx, &r, "from", "{file: \"*.jsonl\"}"), SLUICE_OK);
    CHECK_EQ_INT(r.from, SL_FROM_FILE);
    CHECK(r.command == NULL);
    CHECK_EQ_STR(r.file, "*.jsonl");

    CHECK_EQ_INT(set_yaml(&ctx, &r, "table_name", "t_{type}"), SLUICE_OK);
    CHECK_EQ_STR(r.table_name, "t_{type}");
    CHECK_EQ_INT(set_yaml(&ctx, &r, "max_table_nesting", "0"), SLUICE_OK);
    CHECK_EQ_INT(r.max_table_nesting, 0);
    CHECK_EQ_INT(set_yaml(&ctx, &r, "selected", "false"), SLUICE_OK);
    CHECK(!r.selected);
    CHECK_EQ_INT(set_yaml(&ctx, &r, "merge_key", "day"), SLUICE_OK);
    CHECK_EQ_INT(r.n_mk, 1);
    CHECK_EQ_INT(set_yaml(&ctx, &r, "columns", "{ts: {data_type: timestamp, nullable: false}}"),
                 SLUICE_OK);
    CHECK(r.columns != NULL);
    CHECK_EQ_INT(set_yaml(&ctx, &r, "columns", "{ts: {data_type: when}}"), SLUICE_ERR_CONFIG);
    CHECK(strstr(errmsg(&ctx), "'columns.ts.data_type' must be one of") != NULL);
    sl_resource_cfg_cleanup(&r);
    CHECK(r.name == NULL);
    sl_resource_cfg_cleanup(&r); /* twice is fine */
}

/* ============================================================================================
 * Allocation failures: every allocation fails in turn; the loader returns NOMEM and leaks
 * nothing (ASan/LSan).
 * ========================================================================================== */

static long fail_at;
static long alloc_count;

static void *fail_malloc(void *c, size_t n)
{
    (void)c;
    return ++alloc_count == fail_at ? NULL : malloc(n);
}

static void *fail_realloc(void *c, void *p, size_t n)
{
    (void)c;
    return ++alloc_count == fail_at ? NULL : realloc(p, n);
}

static void fail_free(void *c, void *p)
{
    (void)c;
    free(p);
}

static void alloc_loop(const char *text, int line)
{
    static const struct sl_alloc failing = { fail_malloc, fail_realloc, fail_free, NULL };
    bool finished = false;
    for (fail_at = 1; fail_at < 100000 && !finished; fail_at++) {
        struct sl_ctx ctx;
        struct sl_pipeline_cfg *cfg = NULL;
        sl_ctx_init(&ctx);
        alloc_count = 0;
        sl_alloc_set(&failing);
        sluice_status rc = sl_config_parse(&ctx, "a/full.yaml", text, strlen(text), &cfg);
        sl_alloc_set(NULL);
        if (alloc_count < fail_at) {
            finished = true;
            test_checks++;
            if (rc != SLUICE_OK) {
                test_failures++;
                fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, line, errmsg(&ctx));
            }
        } else if (rc != SLUICE_ERR_NOMEM || cfg != NULL) {
            test_failures++;
            fprintf(stderr, "  FAIL %s:%d: allocation %ld failed: rc %d: %s\n", __FILE__, line,
                    fail_at, (int)rc, errmsg(&ctx));
            finished = true;
        }
        sl_pipeline_cfg_free(&cfg);
    }
    CHECK(finished);
    CHECK(fail_at > 100); /* the loader did allocate, and each allocation failed in turn */
}

TEST(config_alloc_failures)
{
    char *text = read_fixture("full.yaml");
    CHECK(text != NULL);
    if (!text)
        return;
    set_env_overrides();
    setenv("SOURCES__SINGER__USERS__INCREMENTAL", "{cursor_path: id, initial_value: 5}", 1);
    setenv("SL_T_A", "value", 1);
    alloc_loop(text, __LINE__);
    setenv("SL_T_N", "2", 1);
    alloc_loop("pipeline: \"${SL_T_A}\"\n"
               "max_table_nesting: \"${SL_T_N}\"\n"
               "sources:\n  s:\n    resources:\n"
               "      r1: &b {from: {command: \"run ${SL_T_A} $${x}\"}, primary_key: [a, b]}\n"
               "      r2:\n        <<: *b\n        table_name: t\n",
               __LINE__);
    unsetenv("SL_T_N");
    unset_env_overrides();
    unsetenv("SOURCES__SINGER__USERS__INCREMENTAL");
    unsetenv("SL_T_A");
    free(text);
}

static const struct test_case config_tests[] = {
    { "yaml_scalar_types", yaml_scalar_types },
    { "yaml_lines", yaml_lines },
    { "yaml_json_equals_yaml", yaml_json_equals_yaml },
    { "yaml_anchors_and_merge", yaml_anchors_and_merge },
    { "yaml_errors_and_limits", yaml_errors_and_limits },
    { "config_full_yaml", config_full_yaml },
    { "config_full_json", config_full_json },
    { "config_load_missing_file", config_load_missing_file },
    { "config_defaults", config_defaults },
    { "config_destination", config_destination },
    { "config_interpolation", config_interpolation },
    { "config_env_overrides", config_env_overrides },
    { "config_env_errors", config_env_errors },
    { "config_unknown_key", config_unknown_key },
    { "config_wrong_types", config_wrong_types },
    { "config_missing_required", config_missing_required },
    { "config_duplicate_key", config_duplicate_key },
    { "config_merge_strategy", config_merge_strategy },
    { "config_secrets_not_leaked", config_secrets_not_leaked },
    { "config_primary_key_forms", config_primary_key_forms },
    { "resource_cfg_set", resource_cfg_set },
    { "config_alloc_failures", config_alloc_failures },
};
TEST_SUITE(config, config_tests)
