/*
 * test_destination_sqlite.c — the SQLite destination through its method table.
 *
 * Every test works in a fresh folder under /tmp: out.db (the main file) and out__ds.db (the
 * attached dataset). Tables are struct sl_table values built by hand (schema.c is not used),
 * rows are struct sl_value arrays, and results are read back through xQuery as "a|b|c" lines
 * (NULL printed as NULL) and compared exactly. Merge tests follow spec 4.1 with sluice's
 * last-staged-row-wins rule.
 */
#include "destinations/destination.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/alloc.h"
#include "test.h"

/* ---- fixtures ---------------------------------------------------------------------------- */

static const struct sl_dest_methods *M;
static struct sl_ctx ctx;
static char dir[64];

static void fresh_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/sl_dest_XXXXXX");
    if (!mkdtemp(dir))
        dir[0] = '\0';
    sl_ctx_init(&ctx);
    M = sl_destination_find("sqlite");
}

static void remove_dir(void)
{
    DIR *dh = opendir(dir);
    if (!dh)
        return;
    struct dirent *e;
    while ((e = readdir(dh)) != NULL) {
        char p[512];
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(dh);
    rmdir(dir);
}

static struct sl_dest *open_ds(const char *file, const char *dataset)
{
    struct sl_dest *d = NULL;
    struct sl_dest_config cfg = {.type = "sqlite", .path = file, .dataset = dataset,
                                 .base_dir = dir};
    sluice_status rc = M->xOpen(&ctx, &cfg, &d);
    CHECK_EQ_INT(rc, SLUICE_OK);
    if (rc)
        fprintf(stderr, "  open: %s\n", ctx.message);
    return d;
}

/* A merge of root and its children with the given strategy (scd2 settings unset). */
static sluice_status merge_as(struct sl_dest *d, enum sl_merge_strategy strategy,
                              const struct sl_table *root, const struct sl_table *const *children,
                              size_t n)
{
    struct sl_merge_spec m;
    memset(&m, 0, sizeof(m));
    m.strategy = strategy;
    m.root = root;
    m.children = children;
    m.nchildren = n;
    return M->xMerge(d, &m);
}

/* A delete-insert merge. */
static sluice_status merge(struct sl_dest *d, const struct sl_table *root,
                           const struct sl_table *const *children, size_t n)
{
    return merge_as(d, SL_MERGE_DELETE_INSERT, root, children, n);
}

static int file_exists(const char *name)
{
    char p[512];
    struct stat sb;
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return stat(p, &sb) == 0;
}

/* ---- tables built by hand ---------------------------------------------------------------- */

struct tcol {
    const char *name;
    enum sl_dtype type;
    bool nullable;
    uint32_t hints;
};

static void add_col(struct sl_table *t, const char *name, enum sl_dtype type, bool nullable,
                    uint32_t hints)
{
    if (t->ncols == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 8;
        struct sl_column *p = realloc(t->cols, ncap * sizeof(*p));
        if (!p)
            abort();
        t->cols = p;
        t->cap = ncap;
    }
    struct sl_column *c = &t->cols[t->ncols++];
    c->name = strdup(name);
    c->type = type;
    c->nullable = nullable;
    c->hints = hints;
}

static struct sl_table *mk_table(const char *name, const char *parent,
                                 enum sl_write_disposition wd, const struct tcol *cols, size_t n)
{
    struct sl_table *t = calloc(1, sizeof(*t));
    t->name = strdup(name);
    t->parent = parent ? strdup(parent) : NULL;
    t->resource = strdup(name);
    t->wd = wd;
    for (size_t i = 0; i < n; i++)
        add_col(t, cols[i].name, cols[i].type, cols[i].nullable, cols[i].hints);
    return t;
}

static void free_table(struct sl_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->ncols; i++)
        free(t->cols[i].name);
    free(t->cols);
    free(t->name);
    free(t->parent);
    free(t->resource);
    free(t);
}

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- values ------------------------------------------------------------------------------ */

static struct sl_value vi(int64_t i)
{
    struct sl_value v = {.kind = SL_V_INT};
    v.u.i = i;
    return v;
}

static struct sl_value vd(double d)
{
    struct sl_value v = {.kind = SL_V_DOUBLE};
    v.u.d = d;
    return v;
}

static struct sl_value vb(int b)
{
    struct sl_value v = {.kind = SL_V_BOOL};
    v.u.i = b;
    return v;
}

static struct sl_value vt(const char *s)
{
    struct sl_value v = {.kind = SL_V_TEXT};
    v.u.s = s;
    v.len = (uint32_t)strlen(s);
    return v;
}

static struct sl_value vn(void)
{
    struct sl_value v = {.kind = SL_V_NULL};
    return v;
}

/* Insert rows (each nvals wide) into t or its staging copy. */
static void insert_rows(struct sl_dest *d, const struct sl_table *t, int staging,
                        const struct sl_value *rows, size_t nrows, size_t nvals)
{
    CHECK_EQ_INT(M->xInsertBegin(d, t, staging), SLUICE_OK);
    for (size_t r = 0; r < nrows; r++) {
        sluice_status rc = M->xInsertRow(d, rows + r * nvals, nvals, 0);
        CHECK_EQ_INT(rc, SLUICE_OK);
        if (rc)
            fprintf(stderr, "  insert: %s\n", ctx.message);
    }
    CHECK_EQ_INT(M->xInsertEnd(d), SLUICE_OK);
}

/* ---- reading back ------------------------------------------------------------------------ */

static struct sl_buf out;

static int collect(void *ud, int n, const char *const *names, const char *const *vals)
{
    (void)ud;
    (void)names;
    for (int i = 0; i < n; i++) {
        if (i)
            sl_buf_putc(&out, '|');
        sl_buf_puts(&out, vals[i] ? vals[i] : "NULL");
    }
    sl_buf_putc(&out, '\n');
    return 0;
}

/* Rows of a query as "a|b\n" lines (valid until the next call). */
static const char *q(struct sl_dest *d, const char *sql)
{
    sl_buf_cleanup(&out);
    sl_buf_init(&out, 0);
    sl_buf_puts(&out, "");
    sluice_status rc = M->xQuery(d, sql, collect, NULL);
    CHECK_EQ_INT(rc, SLUICE_OK);
    if (rc) {
        fprintf(stderr, "  query %s: %s\n", sql, ctx.message);
        sl_ctx_clear(&ctx);
    }
    return out.data ? out.data : "";
}

static void done(struct sl_dest *d)
{
    M->xClose(d);
    sl_buf_cleanup(&out);
    remove_dir();
}

/* ---- opening ----------------------------------------------------------------------------- */

TEST(registry)
{
    CHECK(sl_destination_find("sqlite") != NULL);
    CHECK_EQ_STR(sl_destination_find("sqlite")->name, "sqlite");
    CHECK_EQ_INT(sl_destination_find("sqlite")->version, 3);
    CHECK(sl_destination_find("sqlite")->xIsEmpty != NULL);
    CHECK(sl_destination_find("sqlite")->xMergeDirectClean != NULL);
    CHECK_EQ_INT(sl_destination_find("sqlite")->merge_strategies,
                 SL_MERGE_BIT(SL_MERGE_DELETE_INSERT) | SL_MERGE_BIT(SL_MERGE_UPSERT) |
                     SL_MERGE_BIT(SL_MERGE_INSERT_ONLY) | SL_MERGE_BIT(SL_MERGE_SCD2));
    CHECK(sl_destination_find("duckdb") != NULL); /* registered; its library loads at open */
    CHECK_EQ_STR(sl_destination_find("duckdb")->name, "duckdb");
    CHECK_EQ_INT(sl_destination_find("duckdb")->merge_strategies,
                 SL_MERGE_BIT(SL_MERGE_DELETE_INSERT) | SL_MERGE_BIT(SL_MERGE_UPSERT) |
                     SL_MERGE_BIT(SL_MERGE_INSERT_ONLY) | SL_MERGE_BIT(SL_MERGE_SCD2));
    CHECK(sl_destination_find("postgres") != NULL);
    CHECK_EQ_STR(sl_destination_find("postgres")->name, "postgres");
    CHECK_EQ_INT((long)sl_destination_find("postgres")->max_identifier_length, 63);
    CHECK(sl_destination_find("nosuch") == NULL);
    CHECK(sl_destination_find(NULL) == NULL);
}

static const struct tcol items_cols[] = {
    {"id", SL_DT_BIGINT, false, 0},
    {"name", SL_DT_TEXT, true, 0},
    {"_dlt_load_id", SL_DT_TEXT, false, SL_HINT_SYSTEM},
    {"_dlt_id", SL_DT_TEXT, false, SL_HINT_SYSTEM | SL_HINT_ROW_KEY},
};

TEST(files_and_default_schema)
{
    fresh_dir();
    struct sl_dest *d = open_ds("out.db", "ds");
    struct sl_table *t = mk_table("items", NULL, SL_WD_APPEND, items_cols, NCOLS(items_cols));
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d, t), SLUICE_OK);
    struct sl_value rows[] = {vi(1), vt("a"), vt("L1"), vt("id1"),
                              vi(2), vt("b"), vt("L1"), vt("id2")};
    insert_rows(d, t, 0, rows, 2, 4);
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    CHECK(file_exists("out.db"));
    CHECK(file_exists("out__ds.db"));
    /* unqualified names resolve to the dataset; qualified ones too */
    CHECK_EQ_STR(q(d, "SELECT id, name FROM items ORDER BY id"), "1|a\n2|b\n");
    CHECK_EQ_STR(q(d, "SELECT count(*) FROM ds.items"), "2\n");
    CHECK_EQ_STR(q(d, "SELECT count(*) FROM main.sqlite_master"), "0\n");

    /* what a user does by hand: the main file is empty, the dataset attaches as ds */
    char p[512];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    snprintf(p, sizeof(p), "%s/out.db", dir);
    CHECK_EQ_INT(sqlite3_open(p, &db), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &st, NULL),
                 SQLITE_OK);
    CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
    CHECK_EQ_INT(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    snprintf(p, sizeof(p), "ATTACH '%s/out__ds.db' AS ds", dir);
    CHECK_EQ_INT(sqlite3_exec(db, p, NULL, NULL, NULL), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_prepare_v2(db, "SELECT group_concat(name, ',') FROM ds.items", -1, &st,
                                    NULL),
                 SQLITE_OK);
    CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
    CHECK_EQ_STR((const char *)sqlite3_column_text(st, 0), "a,b");
    sqlite3_finalize(st);
    sqlite3_close(db);

    /* a second handle on the same files sees the data */
    struct sl_dest *d2 = open_ds("out.db", "ds");
    CHECK_EQ_STR(q(d2, "SELECT count(*) FROM items"), "2\n");
    M->xClose(d2);
    free_table(t);
    done(d);
}

TEST(open_paths_and_errors)
{
    fresh_dir();
    struct sl_dest *d = NULL;
    char p[512];
    /* relative to base_dir; no extension; absolute */
    /* dlt's name: the main file's stem and suffix (Python's PurePath) */
    d = open_ds("rel.sqlite", "my_data");
    CHECK(file_exists("rel__my_data.sqlite"));
    M->xClose(d);
    d = open_ds("plain", "x");
    CHECK(file_exists("plain__x"));
    M->xClose(d);
    snprintf(p, sizeof(p), "%s/abs.db", dir);
    d = open_ds(p, "ds");
    CHECK(file_exists("abs__ds.db"));
    M->xClose(d);

    /* missing folder: DEST naming the path, from sqlite */
    struct sl_dest_config cfg = {.type = "sqlite", .path = "nope/x.db", .dataset = "ds",
                                 .base_dir = dir};
    d = (struct sl_dest *)1;
    CHECK_EQ_INT(M->xOpen(&ctx, &cfg, &d), SLUICE_ERR_DEST);
    CHECK(d == NULL);
    CHECK(strstr(ctx.message, "nope/x.db") != NULL);
    CHECK_EQ_STR(ctx.origin, "sqlite");
    CHECK_EQ_STR(ctx.detail, "14"); /* SQLITE_CANTOPEN */
    sl_ctx_clear(&ctx);

    /* not a database */
    snprintf(p, sizeof(p), "%s/bad.db", dir);
    FILE *f = fopen(p, "w");
    fputs("this is not an SQLite database, it is a plain text file of some length......\n"
          "padding padding padding padding padding padding padding padding padding padding\n",
          f);
    fclose(f);
    cfg.path = "bad.db";
    CHECK_EQ_INT(M->xOpen(&ctx, &cfg, &d), SLUICE_ERR_DEST);
    CHECK(strstr(ctx.message, "bad.db") != NULL);
    CHECK_EQ_STR(ctx.detail, "26"); /* SQLITE_NOTADB */
    sl_ctx_clear(&ctx);

    /* dataset names that cannot be attach names */
    const char *bad[] = {"main", "TEMP", "", "a/b"};
    for (size_t i = 0; i < NCOLS(bad); i++) {
        cfg.path = "ok.db";
        cfg.dataset = bad[i];
        CHECK_EQ_INT(M->xOpen(&ctx, &cfg, &d), SLUICE_ERR_CONFIG);
        sl_ctx_clear(&ctx);
    }
    cfg.dataset = "ds";
    cfg.path = NULL;
    CHECK_EQ_INT(M->xOpen(&ctx, &cfg, &d), SLUICE_ERR_CONFIG);
    sl_ctx_clear(&ctx);

    /* read-only dataset file (skipped as root, who can write anyway) */
    if (geteuid() != 0) {
        d = open_ds("ro.db", "ds");
        M->xClose(d);
        snprintf(p, sizeof(p), "%s/ro__ds.db", dir);
        chmod(p, 0444);
        cfg.path = "ro.db";
        CHECK_EQ_INT(M->xOpen(&ctx, &cfg, &d), SLUICE_ERR_DEST);
        CHECK(strstr(ctx.message, "ro__ds.db") != NULL);
        sl_ctx_clear(&ctx);
    }
    done(NULL);
}

/* ---- tables ------------------------------------------------------------------------------ */

TEST(create_and_evolve)
{
    fresh_dir();
    struct sl_dest *d = open_ds("out.db", "ds");
    struct tcol cols[] = {
        {"id", SL_DT_BIGINT, false, 0},
        {"seen_only_null", SL_DT_NONE, true, 0},
        {"name", SL_DT_TEXT, true, 0},
    };
    struct sl_table *t = mk_table("things", NULL, SL_WD_APPEND, cols, NCOLS(cols));
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d, t), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d, t), SLUICE_OK); /* idempotent */
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    const char *info = "SELECT name, type, \"notnull\" FROM pragma_table_info('things', 'ds')";
    CHECK_EQ_STR(q(d, info), "id|BIGINT|1\nname|TEXT|0\n");

    /* evolve: a type for the null column, new columns of every type (NOT NULL only at create) */
    t->cols[1].type = SL_DT_DOUBLE;
    add_col(t, "flag", SL_DT_BOOL, false, 0);
    add_col(t, "ts", SL_DT_TIMESTAMP, true, 0);
    add_col(t, "day", SL_DT_DATE, true, 0);
    add_col(t, "doc", SL_DT_JSON, true, 0);
    add_col(t, "amount", SL_DT_DECIMAL, true, 0);
    add_col(t, "at", SL_DT_TIME, true, 0);
    add_col(t, "raw", SL_DT_BINARY, true, 0);
    add_col(t, "big", SL_DT_WEI, true, 0);
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d, t), SLUICE_OK);
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    /* dlt's SQLAlchemy types on SQLite */
    CHECK_EQ_STR(q(d, info), "id|BIGINT|1\nname|TEXT|0\nseen_only_null|DOUBLE|0\nflag|BOOLEAN|0\n"
                             "ts|DATETIME|0\nday|DATE|0\ndoc|JSON|0\namount|NUMERIC(38, 9)|0\n"
                             "at|TIME|0\nraw|BLOB|0\nbig|TEXT|0\n");

    /* a second handle (cold cache) adds only what is missing */
    struct sl_dest *d2 = open_ds("out.db", "ds");
    add_col(t, "later", SL_DT_TEXT, true, 0);
    CHECK_EQ_INT(M->xBegin(d2), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d2, t), SLUICE_OK);
    CHECK_EQ_INT(M->xCommit(d2), SLUICE_OK);
    M->xClose(d2);
    /* the first handle notices the other writer's change (schema cookie) and re-reads */
    add_col(t, "even_later", SL_DT_BIGINT, true, 0);
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d, t), SLUICE_OK);
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    CHECK_EQ_STR(q(d, "SELECT count(*), group_concat(name, ',') FROM "
                      "(SELECT name FROM pragma_table_info('things', 'ds') WHERE cid >= 11)"),
                 "2|later,even_later\n");
    free_table(t);
    done(d);
}

TEST(insert_all_kinds)
{
    fresh_dir();
    struct sl_dest *d = open_ds("out.db", "ds");
    struct tcol cols[] = {
        {"i", SL_DT_BIGINT, true, 0},   {"f", SL_DT_DOUBLE, true, 0},
        {"b", SL_DT_BOOL, true, 0},     {"s", SL_DT_TEXT, true, 0},
        {"ts", SL_DT_TIMESTAMP, true, 0}, {"dt", SL_DT_DATE, true, 0},
        {"j", SL_DT_JSON, true, 0},     {"dec", SL_DT_DECIMAL, true, 0},
        {"untyped", SL_DT_NONE, true, 0}, {"tail", SL_DT_TEXT, true, 0},
    };
    struct sl_table *t = mk_table("kinds", NULL, SL_WD_APPEND, cols, NCOLS(cols));
    struct sl_value r1[] = {vi(INT64_MIN), vd(1.5),  vb(1), vt("héllo 'q' \"dq\""),
                            vt("2024-01-01T08:00:00.5Z"), vt("2024-02-29"),
                            vt("{\"a\":[1,2]}"), vt("12.50"), vn(), vt("t")};
    struct sl_value r2[] = {vi(INT64_MAX), vd(-0.25), vb(0), vt("")}; /* the rest: NULL */
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d, t), SLUICE_OK);
    insert_rows(d, t, 0, r1, 1, NCOLS(r1));
    insert_rows(d, t, 0, r2, 1, NCOLS(r2));
    /* a value for a column without a type is a bug upstream */
    struct sl_value r3[] = {vn(), vn(), vn(), vn(), vn(), vn(), vn(), vn(), vt("x")};
    CHECK_EQ_INT(M->xInsertBegin(d, t, 0), SLUICE_OK);
    CHECK_EQ_INT(M->xInsertRow(d, r3, NCOLS(r3), 0), SLUICE_ERR_INTERNAL);
    CHECK_EQ_INT(M->xInsertEnd(d), SLUICE_OK);
    sl_ctx_clear(&ctx);
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    CHECK_EQ_STR(q(d, "SELECT i, f, b, s, ts, dt, j, dec, tail FROM kinds ORDER BY rowid"),
                 "-9223372036854775808|1.5|1|héllo 'q' \"dq\"|2024-01-01 08:00:00.500000|2024-02-29|"
                 "{\"a\":[1,2]}|12.5|t\n"
                 "9223372036854775807|-0.25|0||NULL|NULL|NULL|NULL|NULL\n");
    CHECK_EQ_STR(q(d, "SELECT typeof(i), typeof(f), typeof(b), typeof(s), typeof(ts), "
                      "typeof(dt), typeof(j), typeof(dec) FROM kinds ORDER BY rowid LIMIT 1"),
                 "integer|real|integer|text|text|text|text|real\n");
    free_table(t);
    done(d);
}

TEST(hostile_identifiers)
{
    fresh_dir();
    struct sl_dest *d = open_ds("out.db", "d\"s; --");
    struct tcol cols[] = {
        {"\"; DROP TABLE x; --", SL_DT_TEXT, true, SL_HINT_PRIMARY_KEY},
        {"a`b", SL_DT_BIGINT, true, 0},
        {"semi;colon", SL_DT_TEXT, true, 0},
        {"q'uote", SL_DT_TEXT, true, 0},
        {"[br]", SL_DT_TEXT, true, 0},
        {"rowid", SL_DT_TEXT, true, 0},
        {"_dlt_id", SL_DT_TEXT, false, 0},
    };
    struct sl_table *t = mk_table("t\"; DROP TABLE x; --", NULL, SL_WD_MERGE, cols,
                                  NCOLS(cols));
    struct sl_value rows[] = {vt("k1"), vi(1), vt(";"), vt("'"), vt("]"), vt("r1"), vt("id1"),
                              vt("k2"), vi(2), vt("--"), vt("\""), vt("["), vt("r2"), vt("id2")};
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d, t), SLUICE_OK);
    insert_rows(d, t, 0, rows, 2, NCOLS(cols));
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    CHECK(file_exists("out__d\"s; --.db"));
    CHECK_EQ_STR(q(d, "SELECT name FROM pragma_table_info('t\"; DROP TABLE x; --', "
                      "'d\"s; --')"),
                 "\"; DROP TABLE x; --\na`b\nsemi;colon\nq'uote\n[br]\nrowid\n_dlt_id\n");
    CHECK_EQ_STR(q(d, "SELECT * FROM \"d\"\"s; --\".\"t\"\"; DROP TABLE x; --\" ORDER BY 2"),
                 "k1|1|;|'|]|r1|id1\nk2|2|--|\"|[|r2|id2\n");
    /* merge through them too (staging rowid alias must dodge the "rowid" column) */
    struct sl_value stg[] = {vt("k2"), vi(3), vt("x"), vt("y"), vt("z"), vt("r3"), vt("id3")};
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    insert_rows(d, t, 1, stg, 1, NCOLS(cols));
    CHECK_EQ_INT(merge(d, t, NULL, 0), SLUICE_OK);
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    CHECK_EQ_STR(q(d, "SELECT * FROM \"t\"\"; DROP TABLE x; --\" ORDER BY 2"),
                 "k1|1|;|'|]|r1|id1\nk2|3|x|y|z|r3|id3\n");
    CHECK_EQ_STR(q(d, "SELECT count(*) FROM \"d\"\"s; --\".sqlite_master WHERE type = 'table'"),
                 "4\n");
    free_table(t);
    done(d);
}

TEST(truncate_and_drop)
{
    fresh_dir();
    struct sl_dest *d = open_ds("out.db", "ds");
    struct sl_table *t = mk_table("items", NULL, SL_WD_REPLACE, items_cols, NCOLS(items_cols));
    struct sl_value rows[] = {vi(1), vt("a"), vt("L1"), vt("id1")};
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d, t), SLUICE_OK);
    insert_rows(d, t, 0, rows, 1, 4);
    CHECK_EQ_INT(M->xTruncate(d, "items"), SLUICE_OK);
    CHECK_EQ_INT(M->xTruncate(d, "no_such_table"), SLUICE_OK);
    insert_rows(d, t, 0, rows, 1, 4);
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    CHECK_EQ_STR(q(d, "SELECT id, name FROM items"), "1|a\n");
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK_EQ_INT(M->xTruncate(d, "items"), SLUICE_OK);
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    CHECK_EQ_STR(q(d, "SELECT count(*) FROM items"), "0\n");
    /* drop, then the cache must not believe the table still exists */
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK_EQ_INT(M->xDropTable(d, "items"), SLUICE_OK);
    CHECK_EQ_INT(M->xDropTable(d, "items"), SLUICE_OK);
    insert_rows(d, t, 0, rows, 1, 4);
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    CHECK_EQ_STR(q(d, "SELECT id, name FROM items"), "1|a\n");
    free_table(t);
    done(d);
}

/* ---- transactions ------------------------------------------------------------------------ */

static sluice_status list_cb(void *ud, const char *table, int64_t rows)
{
    struct sl_buf *b = ud;
    sl_buf_printf(b, "%s=%lld\n", table, (long long)rows);
    return SLUICE_OK;
}

static const char *list(struct sl_dest *d, struct sl_buf *b)
{
    sl_buf_reset(b);
    sl_buf_puts(b, "");
    CHECK_EQ_INT(M->xListTables(d, list_cb, b), SLUICE_OK);
    return b->data;
}

TEST(rollback_leaves_nothing)
{
    fresh_dir();
    struct sl_buf b;
    sl_buf_init(&b, 0);
    struct sl_dest *d = open_ds("out.db", "ds");
    struct sl_table *t = mk_table("items", NULL, SL_WD_MERGE, items_cols, NCOLS(items_cols));
    t->cols[0].hints |= SL_HINT_PRIMARY_KEY;
    struct sl_value rows[] = {vi(1), vt("a"), vt("L1"), vt("id1")};
    struct sl_state_row st = {1, 4, "p", "STATE", "2024-01-01T00:00:00.000000Z", "h", "L1",
                              "sid"};
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d, t), SLUICE_OK);
    insert_rows(d, t, 0, rows, 1, 4);
    insert_rows(d, t, 1, rows, 1, 4);
    CHECK_EQ_INT(M->xInsertLoad(d, "L1", "s", "h"), SLUICE_OK);
    CHECK_EQ_INT(M->xSaveState(d, &st), SLUICE_OK);
    M->xRollback(d);
    M->xRollback(d); /* twice is harmless */
    CHECK_EQ_STR(list(d, &b), "");
    CHECK_EQ_STR(q(d, "SELECT count(*) FROM temp.sqlite_master"), "0\n");
    int found = 1;
    struct sl_state_row_owned so;
    CHECK_EQ_INT(M->xLoadState(d, "p", &so, &found), SLUICE_OK);
    CHECK_EQ_INT(found, 0);

    /* the same load again succeeds: caches were dropped with the rollback */
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d, t), SLUICE_OK);
    insert_rows(d, t, 1, rows, 1, 4);
    CHECK_EQ_INT(merge(d, t, NULL, 0), SLUICE_OK);
    CHECK_EQ_INT(M->xInsertLoad(d, "L1", "s", "h"), SLUICE_OK);
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    CHECK_EQ_STR(list(d, &b), "_dlt_loads=1\n_dlt_pipeline_state=0\n_dlt_version=0\nitems=1\n");
    CHECK_EQ_STR(q(d, "SELECT count(*) FROM temp.sqlite_master"), "0\n");

    /* a failing statement, then rollback: the earlier rows of the package are gone too */
    struct sl_value bad[] = {vn(), vt("x"), vt("L2"), vt("id2")};
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    insert_rows(d, t, 0, rows, 1, 4);
    CHECK_EQ_INT(M->xInsertBegin(d, t, 0), SLUICE_OK);
    CHECK_EQ_INT(M->xInsertRow(d, bad, 4, 0), SLUICE_ERR_DEST);
    CHECK_EQ_STR(ctx.origin, "sqlite");
    CHECK_EQ_STR(ctx.detail, "1299"); /* SQLITE_CONSTRAINT_NOTNULL */
    CHECK(strstr(ctx.message, "items") != NULL);
    M->xRollback(d);
    sl_ctx_clear(&ctx);
    CHECK_EQ_STR(q(d, "SELECT id, _dlt_id FROM items"), "1|id1\n");

    /* begin twice is a bug; commit without begin too */
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK_EQ_INT(M->xBegin(d), SLUICE_ERR_INTERNAL);
    sl_ctx_clear(&ctx);
    M->xRollback(d);
    CHECK_EQ_INT(M->xCommit(d), SLUICE_ERR_INTERNAL);
    sl_ctx_clear(&ctx);
    free_table(t);
    sl_buf_cleanup(&b);
    done(d);
}

/* ---- merge ------------------------------------------------------------------------------- */

/* Stage rows into t, merge root (with children) in one transaction. */
static void merge_once(struct sl_dest *d, const struct sl_table *root,
                       const struct sl_value *rows, size_t nrows, size_t nvals)
{
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d, root), SLUICE_OK);
    insert_rows(d, root, 1, rows, nrows, nvals);
    sluice_status rc = merge(d, root, NULL, 0);
    CHECK_EQ_INT(rc, SLUICE_OK);
    if (rc)
        fprintf(stderr, "  merge: %s\n", ctx.message);
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
}

TEST(merge_compound_pk_last_row_wins)
{
    fresh_dir();
    struct sl_dest *d = open_ds("out.db", "ds");
    struct tcol cols[] = {
        {"id", SL_DT_BIGINT, false, SL_HINT_PRIMARY_KEY},
        {"region", SL_DT_TEXT, false, SL_HINT_PRIMARY_KEY},
        {"val", SL_DT_TEXT, true, 0},
        {"_dlt_id", SL_DT_TEXT, false, SL_HINT_ROW_KEY},
    };
    struct sl_table *t = mk_table("items", NULL, SL_WD_MERGE, cols, NCOLS(cols));
    struct sl_value l1[] = {vi(1), vt("eu"), vt("a"), vt("r1"),
                            vi(1), vt("us"), vt("b"), vt("r2"),
                            vi(2), vt("eu"), vt("c"), vt("r3")};
    merge_once(d, t, l1, 3, 4);
    CHECK_EQ_STR(q(d, "SELECT * FROM items ORDER BY id, region"),
                 "1|eu|a|r1\n1|us|b|r2\n2|eu|c|r3\n");
    struct sl_value l2[] = {vi(1), vt("eu"), vt("a2"), vt("r4"),
                            vi(3), vt("eu"), vt("d"), vt("r5"),
                            vi(1), vt("eu"), vt("a3"), vt("r6"),
                            vi(1), vt("us"), vt("b2"), vt("r7")};
    merge_once(d, t, l2, 4, 4);
    CHECK_EQ_STR(q(d, "SELECT * FROM items ORDER BY id, region"),
                 "1|eu|a3|r6\n1|us|b2|r7\n2|eu|c|r3\n3|eu|d|r5\n");
    /* the same package applied again (idempotent) */
    merge_once(d, t, l2, 4, 4);
    CHECK_EQ_STR(q(d, "SELECT * FROM items ORDER BY id, region"),
                 "1|eu|a3|r6\n1|us|b2|r7\n2|eu|c|r3\n3|eu|d|r5\n");
    /* the merge indexes exist, named deterministically */
    CHECK_EQ_STR(q(d, "SELECT name FROM ds.sqlite_master WHERE type = 'index' ORDER BY name"),
                 "_dlt_pipeline_state__version__idx\nitems__id__region__idx\n");
    free_table(t);
    done(d);
}

TEST(merge_key_and_primary_key)
{
    fresh_dir();
    struct sl_dest *d = open_ds("out.db", "ds");
    struct tcol cols[] = {
        {"day", SL_DT_DATE, false, SL_HINT_MERGE_KEY},
        {"id", SL_DT_BIGINT, false, 0},
        {"v", SL_DT_TEXT, true, 0},
        {"_dlt_id", SL_DT_TEXT, false, 0},
    };
    struct sl_table *t = mk_table("events", NULL, SL_WD_MERGE, cols, NCOLS(cols));
    struct sl_value l1[] = {vt("2024-01-01"), vi(1), vt("a"), vt("r1"),
                            vt("2024-01-01"), vi(2), vt("b"), vt("r2"),
                            vt("2024-01-02"), vi(3), vt("c"), vt("r3")};
    merge_once(d, t, l1, 3, 4);
    /* merge key only: the whole day is replaced, no de-duplication */
    struct sl_value l2[] = {vt("2024-01-01"), vi(9), vt("x"), vt("r4"),
                            vt("2024-01-01"), vi(9), vt("y"), vt("r5")};
    merge_once(d, t, l2, 2, 4);
    CHECK_EQ_STR(q(d, "SELECT day, id, v FROM events ORDER BY day, id, v"),
                 "2024-01-01|9|x\n2024-01-01|9|y\n2024-01-02|3|c\n");
    /* primary key AND merge key: a row goes if either matches */
    t->cols[1].hints |= SL_HINT_PRIMARY_KEY;
    struct sl_value l3[] = {vt("2024-01-02"), vi(9), vt("z"), vt("r6")};
    merge_once(d, t, l3, 1, 4);
    CHECK_EQ_STR(q(d, "SELECT day, id, v FROM events ORDER BY day, id, v"), "2024-01-02|9|z\n");
    free_table(t);
    done(d);
}

TEST(merge_hard_delete)
{
    fresh_dir();
    struct sl_dest *d = open_ds("out.db", "ds");
    struct tcol cols[] = {
        {"id", SL_DT_BIGINT, false, SL_HINT_PRIMARY_KEY},
        {"v", SL_DT_TEXT, true, 0},
        {"deleted", SL_DT_BOOL, true, SL_HINT_HARD_DELETE},
        {"_dlt_id", SL_DT_TEXT, false, 0},
    };
    struct sl_table *t = mk_table("b", NULL, SL_WD_MERGE, cols, NCOLS(cols));
    struct sl_value l1[] = {vi(1), vt("a"), vn(), vt("r1"), vi(2), vt("b"), vn(), vt("r2"),
                            vi(3), vt("c"), vn(), vt("r3")};
    merge_once(d, t, l1, 3, 4);
    struct sl_value l2[] = {vi(2), vn(), vb(1), vt("r4"),    /* delete 2 */
                            vi(3), vt("c2"), vb(0), vt("r5"), /* update 3 (false = keep) */
                            vi(4), vt("d"), vn(), vt("r6"),   /* new 4 */
                            vi(5), vt("e"), vb(1), vt("r7"),  /* delete of a missing key */
                            vi(6), vt("f"), vb(0), vt("r8"),  /* winner is a delete */
                            vi(6), vn(), vb(1), vt("r9"),
                            vi(7), vn(), vb(1), vt("r10"),   /* winner is not */
                            vi(7), vt("g"), vb(0), vt("r11")};
    merge_once(d, t, l2, 8, 4);
    CHECK_EQ_STR(q(d, "SELECT id, v, deleted, _dlt_id FROM b ORDER BY id"),
                 "1|a|NULL|r1\n3|c2|0|r5\n4|d|NULL|r6\n7|g|0|r11\n");

    /* a non-bool hard_delete column: deleted when NOT NULL */
    struct tcol cols2[] = {
        {"id", SL_DT_BIGINT, false, SL_HINT_PRIMARY_KEY},
        {"v", SL_DT_TEXT, true, 0},
        {"deleted_at", SL_DT_TIMESTAMP, true, SL_HINT_HARD_DELETE},
        {"_dlt_id", SL_DT_TEXT, false, 0},
    };
    struct sl_table *t2 = mk_table("ts", NULL, SL_WD_MERGE, cols2, NCOLS(cols2));
    struct sl_value m1[] = {vi(1), vt("a"), vn(), vt("r1"), vi(2), vt("b"), vn(), vt("r2")};
    merge_once(d, t2, m1, 2, 4);
    struct sl_value m2[] = {vi(1), vn(), vt("2024-01-01T00:00:00Z"), vt("r3"),
                            vi(2), vt("b2"), vn(), vt("r4")};
    merge_once(d, t2, m2, 2, 4);
    CHECK_EQ_STR(q(d, "SELECT id, v, deleted_at FROM ts ORDER BY id"), "2|b2|NULL\n");
    free_table(t);
    free_table(t2);
    done(d);
}

static void dedup_case(const char *name, uint32_t hint, const char *expect)
{
    fresh_dir();
    struct sl_dest *d = open_ds("out.db", "ds");
    struct tcol cols[] = {
        {"id", SL_DT_BIGINT, false, SL_HINT_PRIMARY_KEY},
        {"seq", SL_DT_BIGINT, true, hint},
        {"v", SL_DT_TEXT, true, 0},
        {"_dlt_id", SL_DT_TEXT, false, 0},
    };
    struct sl_table *t = mk_table(name, NULL, SL_WD_MERGE, cols, NCOLS(cols));
    struct sl_value rows[] = {
        vi(1), vi(5), vt("a"), vt("r1"), vi(1), vi(9), vt("b"), vt("r2"),
        vi(1), vi(7), vt("c"), vt("r3"), vi(1), vi(9), vt("d"), vt("r4"), /* tie with b */
        vi(1), vi(5), vt("e"), vt("r5"),                                  /* tie with a */
        vi(1), vn(), vt("n"), vt("r6"),                                   /* never wins */
        vi(2), vn(), vt("p"), vt("r7"), vi(2), vi(3), vt("q"), vt("r8"),
        vi(3), vn(), vt("x"), vt("r9"), vi(3), vn(), vt("y"), vt("r10"),  /* all NULL: last */
    };
    merge_once(d, t, rows, 10, 4);
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT id, seq, v FROM %s ORDER BY id", name);
    CHECK_EQ_STR(q(d, sql), expect);
    free_table(t);
    done(d);
}

TEST(merge_dedup_sort)
{
    dedup_case("d_desc", SL_HINT_DEDUP_DESC, "1|9|d\n2|3|q\n3|NULL|y\n");
    dedup_case("d_asc", SL_HINT_DEDUP_ASC, "1|5|e\n2|3|q\n3|NULL|y\n");
    dedup_case("d_none", 0, "1|NULL|n\n2|3|q\n3|NULL|y\n");
}

/* orders → orders__items → orders__items__tags, as the normalizer lays them out */
static const struct tcol order_cols[] = {
    {"id", SL_DT_BIGINT, false, SL_HINT_PRIMARY_KEY},
    {"_dlt_id", SL_DT_TEXT, false, SL_HINT_ROW_KEY},
};
static const struct tcol item_cols[] = {
    {"sku", SL_DT_TEXT, true, 0},
    {"_dlt_root_id", SL_DT_TEXT, false, SL_HINT_ROOT_KEY},
    {"_dlt_parent_id", SL_DT_TEXT, false, SL_HINT_PARENT_KEY},
    {"_dlt_list_idx", SL_DT_BIGINT, false, 0},
    {"_dlt_id", SL_DT_TEXT, false, SL_HINT_ROW_KEY},
};
static const struct tcol tag_cols[] = {
    {"value", SL_DT_TEXT, true, 0},
    {"_dlt_root_id", SL_DT_TEXT, false, SL_HINT_ROOT_KEY},
    {"_dlt_parent_id", SL_DT_TEXT, false, SL_HINT_PARENT_KEY},
    {"_dlt_list_idx", SL_DT_BIGINT, false, 0},
    {"_dlt_id", SL_DT_TEXT, false, SL_HINT_ROW_KEY},
};

struct chain {
    struct sl_table *root, *items, *tags;
};

static void merge_chain(struct sl_dest *d, struct chain *c, const struct sl_value *o, size_t no,
                        const struct sl_value *it, size_t nit, const struct sl_value *tg,
                        size_t ntg)
{
    const struct sl_table *children[] = {c->items, c->tags};
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d, c->root), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d, c->items), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d, c->tags), SLUICE_OK);
    insert_rows(d, c->root, 1, o, no, c->root->ncols);
    if (nit)
        insert_rows(d, c->items, 1, it, nit, 5);
    if (ntg)
        insert_rows(d, c->tags, 1, tg, ntg, 5);
    sluice_status rc = merge(d, c->root, children, 2);
    CHECK_EQ_INT(rc, SLUICE_OK);
    if (rc)
        fprintf(stderr, "  merge: %s\n", ctx.message);
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
}

static const char *orphans =
    "SELECT (SELECT count(*) FROM orders__items WHERE _dlt_root_id NOT IN "
    "(SELECT _dlt_id FROM orders)) + (SELECT count(*) FROM orders__items__tags WHERE "
    "_dlt_parent_id NOT IN (SELECT _dlt_id FROM orders__items))";

TEST(merge_children_replaced)
{
    fresh_dir();
    struct sl_dest *d = open_ds("out.db", "ds");
    struct chain c;
    c.root = mk_table("orders", NULL, SL_WD_MERGE, order_cols, NCOLS(order_cols));
    c.items = mk_table("orders__items", "orders", SL_WD_MERGE, item_cols, NCOLS(item_cols));
    c.tags = mk_table("orders__items__tags", "orders__items", SL_WD_MERGE, tag_cols,
                      NCOLS(tag_cols));
    struct sl_value o1[] = {vi(1), vt("r1"), vi(2), vt("r2")};
    struct sl_value i1[] = {vt("A"), vt("r1"), vt("r1"), vi(0), vt("i1a"),
                            vt("B"), vt("r1"), vt("r1"), vi(1), vt("i1b"),
                            vt("C"), vt("r2"), vt("r2"), vi(0), vt("i2a")};
    struct sl_value t1[] = {vt("red"), vt("r1"), vt("i1a"), vi(0), vt("t1"),
                            vt("big"), vt("r1"), vt("i1b"), vi(0), vt("t2"),
                            vt("new"), vt("r2"), vt("i2a"), vi(0), vt("t3")};
    merge_chain(d, &c, o1, 2, i1, 3, t1, 3);
    CHECK_EQ_STR(q(d, "SELECT sku, _dlt_root_id FROM orders__items ORDER BY sku"),
                 "A|r1\nB|r1\nC|r2\n");

    /* order 1 twice (r1x, then r1y: the last wins, with its own children); order 3 is new
     * without items; no tags at all in this package: order 1's old tags must still go */
    struct sl_value o2[] = {vi(1), vt("r1x"), vi(3), vt("r3"), vi(1), vt("r1y")};
    struct sl_value i2[] = {vt("X"), vt("r1x"), vt("r1x"), vi(0), vt("ix"),
                            vt("Y1"), vt("r1y"), vt("r1y"), vi(0), vt("iy1"),
                            vt("Y2"), vt("r1y"), vt("r1y"), vi(1), vt("iy2")};
    merge_chain(d, &c, o2, 3, i2, 3, NULL, 0);
    CHECK_EQ_STR(q(d, "SELECT id, _dlt_id FROM orders ORDER BY id"), "1|r1y\n2|r2\n3|r3\n");
    CHECK_EQ_STR(q(d, "SELECT sku, _dlt_root_id, _dlt_list_idx FROM orders__items ORDER BY sku"),
                 "C|r2|0\nY1|r1y|0\nY2|r1y|1\n");
    CHECK_EQ_STR(q(d, "SELECT value, _dlt_root_id FROM orders__items__tags"), "new|r2\n");
    CHECK_EQ_STR(q(d, orphans), "0\n");

    /* a hard-deleted order takes its children along */
    add_col(c.root, "gone", SL_DT_BOOL, true, SL_HINT_HARD_DELETE);
    struct sl_value o3[] = {vi(2), vt("r2z"), vb(1)};
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d, c.root), SLUICE_OK);
    insert_rows(d, c.root, 1, o3, 1, 3);
    const struct sl_table *children[] = {c.items, c.tags};
    CHECK_EQ_INT(merge(d, c.root, children, 2), SLUICE_OK);
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    CHECK_EQ_STR(q(d, "SELECT id FROM orders ORDER BY id"), "1\n3\n");
    CHECK_EQ_STR(q(d, "SELECT sku FROM orders__items ORDER BY sku"), "Y1\nY2\n");
    CHECK_EQ_STR(q(d, "SELECT count(*) FROM orders__items__tags"), "0\n");
    CHECK_EQ_STR(q(d, orphans), "0\n");
    CHECK_EQ_STR(q(d, "SELECT name FROM ds.sqlite_master WHERE type = 'index' AND "
                      "tbl_name LIKE 'orders__%' ORDER BY name"),
                 "orders__items___dlt_root_id__idx\norders__items__tags___dlt_root_id__idx\n");
    free_table(c.root);
    free_table(c.items);
    free_table(c.tags);
    done(d);
}

/* An append into a nested table with _dlt_root_id (root_key) created in the open transaction
 * builds its index after the rows, at the commit (a random-order insert per row thrashed
 * SQLite's page cache); an append into a table that existed before keeps the index as the
 * rows go in. Either way the committed index covers every row. */
TEST(append_builds_new_table_index_at_commit)
{
    fresh_dir();
    struct sl_dest *d = open_ds("out.db", "ds");
    struct sl_table *items = mk_table("orders__items", "orders", SL_WD_APPEND, item_cols,
                                      NCOLS(item_cols));
    const char *idx = "SELECT name FROM ds.sqlite_master WHERE type = 'index' AND "
                      "tbl_name = 'orders__items'";
    const char *by_idx = "SELECT group_concat(sku, ',') FROM ds.orders__items INDEXED BY "
                         "orders__items___dlt_root_id__idx WHERE _dlt_root_id = 'r1'";
    struct sl_value i1[] = {vt("A"), vt("r1"), vt("r1"), vi(0), vt("i1a"),
                            vt("B"), vt("r2"), vt("r2"), vi(0), vt("i2a")};
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d, items), SLUICE_OK);
    insert_rows(d, items, SL_INSERT_FINAL, i1, 2, 5);
    CHECK_EQ_STR(q(d, idx), ""); /* put off while the new table fills */
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    CHECK_EQ_STR(q(d, idx), "orders__items___dlt_root_id__idx\n");
    CHECK_EQ_STR(q(d, by_idx), "A\n");

    /* the table exists now: its index stays while the next rows go in */
    struct sl_value i2[] = {vt("C"), vt("r1"), vt("r1"), vi(1), vt("i1c")};
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d, items), SLUICE_OK);
    insert_rows(d, items, SL_INSERT_FINAL, i2, 1, 5);
    CHECK_EQ_STR(q(d, idx), "orders__items___dlt_root_id__idx\n");
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    CHECK_EQ_STR(q(d, by_idx), "A,C\n");
    CHECK_EQ_STR(q(d, "PRAGMA ds.integrity_check"), "ok\n");

    /* a new table rolled back leaves neither rows nor index, and the next transaction that
     * creates it again defers its index again */
    struct sl_table *tags = mk_table("orders__items__tags", "orders__items", SL_WD_APPEND,
                                     tag_cols, NCOLS(tag_cols));
    const char *tidx = "SELECT name FROM ds.sqlite_master WHERE type = 'index' AND "
                       "tbl_name = 'orders__items__tags'";
    struct sl_value t1[] = {vt("red"), vt("r1"), vt("i1a"), vi(0), vt("t1")};
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d, tags), SLUICE_OK);
    insert_rows(d, tags, SL_INSERT_FINAL, t1, 1, 5);
    M->xRollback(d);
    CHECK_EQ_STR(q(d, tidx), "");
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d, tags), SLUICE_OK);
    insert_rows(d, tags, SL_INSERT_FINAL, t1, 1, 5);
    CHECK_EQ_STR(q(d, tidx), "");
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    CHECK_EQ_STR(q(d, tidx), "orders__items__tags___dlt_root_id__idx\n");
    CHECK_EQ_STR(q(d, "PRAGMA ds.integrity_check"), "ok\n");
    free_table(items);
    free_table(tags);
    done(d);
}

TEST(merge_absent_children)
{
    fresh_dir();
    struct sl_dest *d = open_ds("out.db", "ds");
    struct sl_table *root = mk_table("orders", NULL, SL_WD_MERGE, order_cols, NCOLS(order_cols));
    /* in the schema, but neither staged nor in the dataset: not created, not an error (even
     * without a link column); a child that exists and lacks the link is an error */
    struct sl_table *never = mk_table("orders__never", "orders", SL_WD_MERGE, item_cols,
                                      NCOLS(item_cols));
    struct tcol nolink_cols[] = {{"v", SL_DT_TEXT, true, 0}, {"_dlt_id", SL_DT_TEXT, false, 0}};
    struct sl_table *nolink = mk_table("orders__never__deep", "orders__never", SL_WD_MERGE,
                                       nolink_cols, NCOLS(nolink_cols));
    const struct sl_table *children[] = {never, nolink};
    struct sl_value o[] = {vi(1), vt("r1")};
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    insert_rows(d, root, 1, o, 1, 2);
    CHECK_EQ_INT(merge(d, root, children, 2), SLUICE_OK);
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    CHECK_EQ_STR(q(d, "SELECT name FROM ds.sqlite_master WHERE type = 'table' AND "
                      "name LIKE 'orders%' ORDER BY name"),
                 "orders\n");
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d, nolink), SLUICE_OK);
    insert_rows(d, root, 1, o, 1, 2);
    CHECK_EQ_INT(merge(d, root, children, 2), SLUICE_ERR_DATA_SCHEMA);
    CHECK(strstr(ctx.message, "orders__never__deep") != NULL);
    M->xRollback(d);
    sl_ctx_clear(&ctx);
    free_table(root);
    free_table(never);
    free_table(nolink);
    done(d);
}

TEST(merge_append_fallback)
{
    fresh_dir();
    struct sl_dest *d = open_ds("out.db", "ds");
    struct tcol rcols[] = {
        {"id", SL_DT_BIGINT, true, 0},
        {"del", SL_DT_BOOL, true, SL_HINT_HARD_DELETE},
        {"_dlt_id", SL_DT_TEXT, false, 0},
    };
    struct sl_table *root = mk_table("logs", NULL, SL_WD_MERGE, rcols, NCOLS(rcols));
    /* first-level child without _dlt_root_id: linked by _dlt_parent_id */
    struct tcol ccols[] = {
        {"value", SL_DT_TEXT, true, 0},
        {"_dlt_parent_id", SL_DT_TEXT, false, SL_HINT_PARENT_KEY},
        {"_dlt_list_idx", SL_DT_BIGINT, false, 0},
        {"_dlt_id", SL_DT_TEXT, false, 0},
    };
    struct sl_table *child = mk_table("logs__lines", "logs", SL_WD_MERGE, ccols, NCOLS(ccols));
    const struct sl_table *children[] = {child};
    for (int round = 0; round < 2; round++) {
        struct sl_value r[] = {vi(1), vn(), vt(round ? "b1" : "a1"),
                               vi(1), vb(1), vt(round ? "b2" : "a2"),
                               vi(2), vb(0), vt(round ? "b3" : "a3")};
        struct sl_value c[] = {vt("x"), vt(round ? "b1" : "a1"), vi(0), vt(round ? "c1" : "c0"),
                               vt("y"), vt(round ? "b2" : "a2"), vi(0), vt(round ? "c3" : "c2")};
        CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
        insert_rows(d, root, 1, r, 3, 3);
        insert_rows(d, child, 1, c, 2, 4);
        CHECK_EQ_INT(merge(d, root, children, 1), SLUICE_OK);
        CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    }
    CHECK_EQ_STR(q(d, "SELECT id, del, _dlt_id FROM logs ORDER BY rowid"),
                 "1|NULL|a1\n2|0|a3\n1|NULL|b1\n2|0|b3\n");
    CHECK_EQ_STR(q(d, "SELECT value, _dlt_parent_id FROM logs__lines ORDER BY rowid"),
                 "x|a1\nx|b1\n");
    CHECK_EQ_STR(q(d, "SELECT name FROM ds.sqlite_master WHERE type = 'index' ORDER BY name"),
                 "_dlt_pipeline_state__version__idx\nlogs__lines___dlt_parent_id__idx\n");

    /* nothing staged: nothing happens */
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK_EQ_INT(merge(d, root, children, 1), SLUICE_OK);
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    CHECK_EQ_STR(q(d, "SELECT count(*) FROM logs"), "4\n");
    free_table(root);
    free_table(child);
    done(d);
}

struct logs {
    struct sl_buf b;
};

static void log_cb(void *ud, sluice_log_level level, const char *msg)
{
    struct logs *l = ud;
    if (level == SLUICE_LOG_DEBUG && strncmp(msg, "sqlite plan: ", 13) == 0) {
        sl_buf_puts(&l->b, msg + 13);
        sl_buf_putc(&l->b, '\n');
    }
}

TEST(merge_uses_indexes)
{
    fresh_dir();
    struct logs lg;
    sl_buf_init(&lg.b, 0);
    sl_buf_puts(&lg.b, "");
    ctx.log_fn = log_cb;
    ctx.log_ctx = &lg;
    struct sl_dest *d = open_ds("out.db", "ds");
    struct chain c;
    c.root = mk_table("orders", NULL, SL_WD_MERGE, order_cols, NCOLS(order_cols));
    add_col(c.root, "region", SL_DT_TEXT, true, SL_HINT_MERGE_KEY);
    c.items = mk_table("orders__items", "orders", SL_WD_MERGE, item_cols, NCOLS(item_cols));
    c.tags = mk_table("orders__items__tags", "orders__items", SL_WD_MERGE, tag_cols,
                      NCOLS(tag_cols));
    /* a destination big enough that a scan would be the planner's honest alternative */
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d, c.root), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d, c.items), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d, c.tags), SLUICE_OK);
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    q(d, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) "
         "INSERT INTO ds.orders SELECT i, 'r' || i, 'eu' FROM n");
    q(d, "INSERT INTO ds.orders__items SELECT 's', _dlt_id, _dlt_id, 0, 'i' || _dlt_id "
         "FROM ds.orders");
    q(d, "INSERT INTO ds.orders__items__tags SELECT 't', _dlt_root_id, _dlt_id, 0, 't' || "
         "_dlt_id FROM ds.orders__items");
    struct sl_value o[] = {vi(7), vt("n7"), vt("us")};
    struct sl_value it[] = {vt("z"), vt("n7"), vt("n7"), vi(0), vt("zz")};
    sl_buf_reset(&lg.b);
    merge_chain(d, &c, o, 1, it, 1, NULL, 0);
    CHECK_EQ_STR(q(d, "SELECT count(*), sum(_dlt_id = 'n7') FROM orders"), "5000|1\n");
    CHECK_EQ_STR(q(d, orphans), "0\n");
    const char *plan = lg.b.data ? lg.b.data : "";
    CHECK(strstr(plan, "SEARCH d USING INDEX orders__id__idx (id=?)") != NULL);
    CHECK(strstr(plan, "SEARCH d USING INDEX orders__region__idx (region=?)") != NULL);
    /* replaced root rows go by rowid: the root needs no index on its random _dlt_id */
    CHECK(strstr(plan, "SEARCH d USING INTEGER PRIMARY KEY (rowid=?)") != NULL);
    CHECK(strstr(plan, "orders___dlt_id__idx") == NULL);
    CHECK(strstr(plan, "SEARCH d USING INDEX orders__items___dlt_root_id__idx (_dlt_root_id=?)")
          != NULL);
    CHECK(strstr(plan, "SEARCH d USING INDEX orders__items__tags___dlt_root_id__idx "
                       "(_dlt_root_id=?)") != NULL);
    CHECK(strstr(plan, "SCAN d\n") == NULL);
    CHECK(strstr(plan, "SCAN d ") == NULL);
    ctx.log_fn = NULL;
    ctx.log_ctx = NULL;
    free_table(c.root);
    free_table(c.items);
    free_table(c.tags);
    sl_buf_cleanup(&lg.b);
    done(d);
}

TEST(long_index_names)
{
    fresh_dir();
    struct sl_dest *d = open_ds("out.db", "ds");
    char name[200];
    memset(name, 'x', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    struct tcol cols[] = {
        {"id", SL_DT_BIGINT, false, SL_HINT_PRIMARY_KEY},
        {"day", SL_DT_TEXT, false, SL_HINT_MERGE_KEY},
        {"_dlt_id", SL_DT_TEXT, false, 0},
    };
    struct sl_table *t = mk_table(name, NULL, SL_WD_MERGE, cols, NCOLS(cols));
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d, t), SLUICE_OK);
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    CHECK_EQ_STR(q(d, "SELECT count(*), max(length(name)), count(DISTINCT name) FROM "
                      "ds.sqlite_master WHERE type = 'index' AND tbl_name <> '_dlt_pipeline_state'"),
                 "2|64|2\n");
    /* the same names again from a new handle: no duplicate indexes */
    struct sl_dest *d2 = open_ds("out.db", "ds");
    CHECK_EQ_INT(M->xBegin(d2), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d2, t), SLUICE_OK);
    CHECK_EQ_INT(M->xCommit(d2), SLUICE_OK);
    M->xClose(d2);
    CHECK_EQ_STR(q(d, "SELECT count(*) FROM ds.sqlite_master WHERE type = 'index'"), "3\n");
    free_table(t);
    done(d);
}

/* ---- system tables ----------------------------------------------------------------------- */

TEST(system_tables)
{
    fresh_dir();
    struct sl_buf b;
    sl_buf_init(&b, 0);
    struct sl_dest *d = open_ds("out.db", "ds");
    char *json = (char *)1;
    int exists = 1;
    CHECK_EQ_INT(M->xLoadSchema(d, "s", &json), SLUICE_OK);
    CHECK(json == NULL);
    CHECK_EQ_INT(M->xLoadExists(d, "L1", &exists), SLUICE_OK);
    CHECK_EQ_INT(exists, 0);
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    CHECK_EQ_STR(list(d, &b), "_dlt_loads=0\n_dlt_pipeline_state=0\n_dlt_version=0\n");
    CHECK_EQ_STR(q(d, "SELECT name, type, \"notnull\" FROM pragma_table_info('_dlt_loads', 'ds')"),
                 "load_id|VARCHAR(64)|1\nschema_name|TEXT|0\nstatus|BIGINT|1\ninserted_at|DATETIME|1\n"
                 "schema_version_hash|TEXT|0\n");
    CHECK_EQ_STR(q(d, "SELECT name, type, \"notnull\" FROM "
                      "pragma_table_info('_dlt_version', 'ds')"),
                 "version|BIGINT|1\nengine_version|BIGINT|1\ninserted_at|DATETIME|1\n"
                 "schema_name|TEXT|1\nversion_hash|TEXT|1\nschema|TEXT|1\n");
    CHECK_EQ_STR(q(d, "SELECT name, type, \"notnull\" FROM "
                      "pragma_table_info('_dlt_pipeline_state', 'ds')"),
                 "version|BIGINT|1\nengine_version|BIGINT|1\npipeline_name|TEXT|1\n"
                 "state|TEXT|1\ncreated_at|DATETIME|1\nversion_hash|TEXT|0\n"
                 "_dlt_load_id|VARCHAR(64)|1\n_dlt_id|VARCHAR(128)|1\n");

    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK_EQ_INT(M->xInsertLoad(d, "1700000000.1", "src", "H1"), SLUICE_OK);
    CHECK_EQ_INT(M->xSaveSchema(d, "src", 1, "H1", "{\"name\":\"src\",\"engine_version\":9}"),
                 SLUICE_OK);
    CHECK_EQ_INT(M->xSaveSchema(d, "src", 1, "H1", "{\"name\":\"src\",\"engine_version\":9}"),
                 SLUICE_OK);
    CHECK_EQ_INT(M->xSaveSchema(d, "src", 2, "H2", "{\"name\":\"src\",\"v\":2}"), SLUICE_OK);
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    CHECK_EQ_INT(M->xLoadExists(d, "1700000000.1", &exists), SLUICE_OK);
    CHECK_EQ_INT(exists, 1);
    CHECK_EQ_INT(M->xLoadExists(d, "1700000000.2", &exists), SLUICE_OK);
    CHECK_EQ_INT(exists, 0);
    CHECK_EQ_STR(q(d, "SELECT load_id, schema_name, status, schema_version_hash, "
                      "length(inserted_at), substr(inserted_at, 11, 1), "
                      "substr(inserted_at, 20, 1), substr(inserted_at, 27) FROM _dlt_loads"),
                 "1700000000.1|src|0|H1|26| |.|\n");
    CHECK_EQ_STR(q(d, "SELECT version, engine_version, schema_name, version_hash FROM "
                      "_dlt_version ORDER BY version"),
                 "1|9|src|H1\n2|11|src|H2\n");
    CHECK_EQ_INT(M->xLoadSchema(d, "src", &json), SLUICE_OK);
    CHECK_EQ_STR(json, "{\"name\":\"src\",\"v\":2}");
    sl_free(json);
    CHECK_EQ_INT(M->xLoadSchema(d, "other", &json), SLUICE_OK);
    CHECK(json == NULL);
    /* a schema that is not JSON is refused */
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK(M->xSaveSchema(d, "src", 3, "H3", "{nope") != SLUICE_OK);
    M->xRollback(d);
    sl_ctx_clear(&ctx);
    sl_buf_cleanup(&b);
    done(d);
}

TEST(state_load_ordering)
{
    fresh_dir();
    struct sl_dest *d = open_ds("out.db", "ds");
    struct sl_state_row_owned so;
    int found = 1;
    /* no system tables yet: not found, not an error */
    CHECK_EQ_INT(M->xLoadState(d, "p", &so, &found), SLUICE_OK);
    CHECK_EQ_INT(found, 0);

    struct {
        const char *load;
        int64_t version;
        const char *pipeline;
        int completed;
    } rows[] = {
        {"1700000000.100001", 1, "p", 1},
        {"1700000000.300003", 3, "p", 0}, /* its load never completed */
        {"1700000000.200002", 2, "p", 1},
        {"1700000000.900009", 9, "other", 1},
    };
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    for (size_t i = 0; i < NCOLS(rows); i++) {
        char dlt_id[32];
        snprintf(dlt_id, sizeof(dlt_id), "id%zu", i);
        struct sl_state_row r = {rows[i].version, 4, rows[i].pipeline, "eNoBAgM=",
                                 "2024-01-01T00:00:00.000000Z",
                                 i == 2 ? NULL : "vh", rows[i].load, dlt_id};
        CHECK_EQ_INT(M->xSaveState(d, &r), SLUICE_OK);
        if (rows[i].completed)
            CHECK_EQ_INT(M->xInsertLoad(d, rows[i].load, "src", "h"), SLUICE_OK);
    }
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    CHECK_EQ_INT(M->xLoadState(d, "p", &so, &found), SLUICE_OK);
    CHECK_EQ_INT(found, 1);
    CHECK_EQ_INT(so.version, 2);
    CHECK_EQ_INT(so.engine_version, 4);
    CHECK_EQ_STR(so.pipeline_name, "p");
    CHECK_EQ_STR(so.state, "eNoBAgM=");
    CHECK_EQ_STR(so.created_at, "2024-01-01 00:00:00.000000"); /* dlt's timestamp text */
    CHECK(so.version_hash == NULL);
    CHECK_EQ_STR(so.load_id, "1700000000.200002");
    sl_state_row_owned_free(&so);
    CHECK(so.state == NULL);
    sl_state_row_owned_free(NULL);

    /* the pending load completes: its state becomes the newest */
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK_EQ_INT(M->xInsertLoad(d, "1700000000.300003", "src", "h"), SLUICE_OK);
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    CHECK_EQ_INT(M->xLoadState(d, "p", &so, &found), SLUICE_OK);
    CHECK_EQ_INT(so.version, 3);
    CHECK_EQ_STR(so.version_hash, "vh");
    sl_state_row_owned_free(&so);
    /* a clock that stepped back: version 4 has the smallest load id, and is still the newest
     * (order is the version, never a clock) */
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    struct sl_state_row r4 = {4, 4, "p", "eNoBAgM=", "2023-01-01T00:00:00.000000Z", "vh4",
                              "1600000000.000001", "id4"};
    CHECK_EQ_INT(M->xSaveState(d, &r4), SLUICE_OK);
    CHECK_EQ_INT(M->xInsertLoad(d, "1600000000.000001", "src", "h"), SLUICE_OK);
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    CHECK_EQ_INT(M->xLoadState(d, "p", &so, &found), SLUICE_OK);
    CHECK_EQ_INT(so.version, 4);
    CHECK_EQ_STR(so.load_id, "1600000000.000001");
    sl_state_row_owned_free(&so);
    /* a second, different version 4 cannot be written; the same one again can (dlt re-writes
     * an unchanged state after a restore) */
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    r4.version_hash = "other";
    r4.dlt_id = "id5";
    CHECK_EQ_INT(M->xSaveState(d, &r4), SLUICE_ERR_DEST);
    M->xRollback(d);
    sl_ctx_clear(&ctx);
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    r4.version_hash = "vh4";
    CHECK_EQ_INT(M->xSaveState(d, &r4), SLUICE_OK);
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    CHECK_EQ_INT(M->xLoadState(d, "other", &so, &found), SLUICE_OK);
    CHECK_EQ_INT(so.version, 9);
    sl_state_row_owned_free(&so);
    CHECK_EQ_INT(M->xLoadState(d, "nobody", &so, &found), SLUICE_OK);
    CHECK_EQ_INT(found, 0);
    done(d);
}

/* ---- inspection -------------------------------------------------------------------------- */

static int stop_after_one(void *ud, int n, const char *const *names, const char *const *vals)
{
    int *calls = ud;
    (*calls)++;
    (void)n;
    (void)names;
    (void)vals;
    return 1;
}

TEST(query_and_list)
{
    fresh_dir();
    struct sl_buf b;
    sl_buf_init(&b, 0);
    struct sl_dest *d = open_ds("out.db", "ds");
    struct sl_table *tb = mk_table("b_table", NULL, SL_WD_APPEND, items_cols, NCOLS(items_cols));
    struct sl_table *ta = mk_table("a_table", NULL, SL_WD_APPEND, items_cols, NCOLS(items_cols));
    struct sl_value rows[] = {vi(1), vn(), vt("L"), vt("x"), vi(2), vt("n"), vt("L"), vt("y")};
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d, tb), SLUICE_OK);
    CHECK_EQ_INT(M->xSyncTable(d, ta), SLUICE_OK);
    insert_rows(d, tb, 0, rows, 2, 4);
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    CHECK_EQ_STR(list(d, &b),
                 "_dlt_loads=0\n_dlt_pipeline_state=0\n_dlt_version=0\na_table=0\nb_table=2\n");
    /* several statements, comments, NULLs */
    CHECK_EQ_STR(q(d, "SELECT 1; -- a comment\n SELECT name FROM b_table ORDER BY id;  "),
                 "1\nNULL\nn\n");
    int calls = 0;
    CHECK_EQ_INT(M->xQuery(d, "SELECT id FROM b_table", stop_after_one, &calls), SLUICE_OK);
    CHECK_EQ_INT(calls, 1);
    CHECK_EQ_INT(M->xQuery(d, "SELECT nope FROM b_table", collect, NULL), SLUICE_ERR_DEST);
    CHECK_EQ_STR(ctx.origin, "sqlite");
    CHECK_EQ_STR(ctx.detail, "1");
    CHECK(strstr(ctx.message, "no such column: nope") != NULL);
    sl_ctx_clear(&ctx);
    free_table(ta);
    free_table(tb);
    sl_buf_cleanup(&b);
    done(d);
}

TEST(concurrent_writer_waits_then_fails)
{
    fresh_dir();
    struct sl_dest *d = open_ds("out.db", "ds");
    struct sl_dest *d2 = open_ds("out.db", "ds");
    CHECK_EQ_INT(M->xBegin(d), SLUICE_OK);
    /* the second writer waits busy_timeout (5 s) for the write lock, then fails LOCKED
     * naming the dataset file (its holder is this process: not named) */
    CHECK_EQ_INT(M->xBegin(d2), SLUICE_ERR_LOCKED);
    CHECK_EQ_STR(ctx.detail, "5"); /* SQLITE_BUSY */
    CHECK(strstr(ctx.message, "out__ds.db: the database file is held by another process (which "
                              "one could not be told) and stayed so for 5 s "
                              "(destination.lock_timeout)") != NULL);
    sl_ctx_clear(&ctx);
    CHECK_EQ_INT(M->xCommit(d), SLUICE_OK);
    CHECK_EQ_INT(M->xBegin(d2), SLUICE_OK);
    CHECK_EQ_INT(M->xCommit(d2), SLUICE_OK);
    M->xClose(d2);
    done(d);
}

static const struct test_case destination_sqlite_tests[] = {
    {"registry", registry},
    {"files_and_default_schema", files_and_default_schema},
    {"open_paths_and_errors", open_paths_and_errors},
    {"create_and_evolve", create_and_evolve},
    {"insert_all_kinds", insert_all_kinds},
    {"hostile_identifiers", hostile_identifiers},
    {"truncate_and_drop", truncate_and_drop},
    {"rollback_leaves_nothing", rollback_leaves_nothing},
    {"merge_compound_pk_last_row_wins", merge_compound_pk_last_row_wins},
    {"merge_key_and_primary_key", merge_key_and_primary_key},
    {"merge_hard_delete", merge_hard_delete},
    {"merge_dedup_sort", merge_dedup_sort},
    {"merge_children_replaced", merge_children_replaced},
    {"append_builds_new_table_index_at_commit", append_builds_new_table_index_at_commit},
    {"merge_absent_children", merge_absent_children},
    {"merge_append_fallback", merge_append_fallback},
    {"merge_uses_indexes", merge_uses_indexes},
    {"long_index_names", long_index_names},
    {"system_tables", system_tables},
    {"state_load_ordering", state_load_ordering},
    {"query_and_list", query_and_list},
    {"concurrent_writer_waits_then_fails", concurrent_writer_waits_then_fails},
};
TEST_SUITE(destination_sqlite, destination_sqlite_tests)
