/*
 * test_package.c — load package files: the manifest's own checksum survives a write/read round
 * trip whatever the state holds (doubles as written, big integers, escapes, non-ASCII) and
 * catches a changed byte; record files carry a checksum that a reader recomputes.
 */
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/digest.h"
#include "base/fs.h"
#include "base/json.h"
#include "run/load.h"
#include "run/package.h"

static char *temp_dir(void)
{
    char tmpl[] = "/tmp/sluice-unit-package-XXXXXX";
    char *d = mkdtemp(tmpl);
    return d ? sl_strdup(d) : NULL;
}

static void remove_dir(const char *dir)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    sl_fs_rmtree(&ctx, dir);
}

/* A fresh package dir with its normalized/ folder into *dir (remove_dir and free it); returns
 * the path of normalized/0.rows (free it), NULL when it cannot be made. */
static char *rows_file(struct sl_ctx *ctx, char **dir)
{
    *dir = temp_dir();
    if (!*dir)
        return NULL;
    char *sub = sl_aprintf("%s/normalized", *dir);
    char *path = sub && sl_fs_mkdirs(ctx, sub) == SLUICE_OK
                     ? sl_aprintf("%s/normalized/0.rows", *dir)
                     : NULL;
    sl_free(sub);
    if (!path) {
        remove_dir(*dir);
        sl_free(*dir);
        *dir = NULL;
    }
    return path;
}

/* Undo rows_file. */
static void drop_rows_file(char *path, char *dir)
{
    sl_free(path);
    remove_dir(dir);
    sl_free(dir);
}

/* A row of an integer and a text. */
static void int_text_row(struct sl_value v[2], int64_t i, const char *text, size_t len)
{
    memset(v, 0, 2 * sizeof(*v));
    v[0].kind = SL_V_INT;
    v[0].u.i = i;
    v[1].kind = SL_V_TEXT;
    v[1].u.s = text;
    v[1].len = (uint32_t)len;
}

static const char manifest_json[] =
    "{\"load_id\": \"1700000000.000001\", \"stage\": \"normalized\", \"tables\": [{\"name\": "
    "\"t\", \"rows\": 3, \"file\": \"normalized/0.rows\"}], \"state\": {\"_state_version\": 2, "
    "\"sources\": {\"s\": {\"resources\": {\"r\": {\"incremental\": {\"x\": {\"last_value\": "
    "0.1, \"a\": 1e-7, \"b\": 123456789012345678901234567890, \"c\": -0.0, \"d\": "
    "\"tab\\there \\u0000 \\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\\", \"e\": [], \"f\": {}, \"g\": "
    "[1, 2.50, true, null]}}}}}}}}";

TEST(manifest_round_trip)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    char *dir = temp_dir();
    struct sl_json *m = NULL;
    struct sl_json *back = NULL;
    CHECK(dir != NULL);
    if (!dir)
        return;
    CHECK_EQ_INT(sl_json_parse_heap(&ctx, manifest_json, strlen(manifest_json), &m), SLUICE_OK);
    CHECK_EQ_INT(sl_manifest_write(&ctx, dir, m), SLUICE_OK);
    CHECK_EQ_INT(sl_manifest_read(&ctx, dir, &back), SLUICE_OK);
    char *a = sl_json_dumps(m, SL_JSON_W_SORTED);
    char *b = back ? sl_json_dumps(back, SL_JSON_W_SORTED) : NULL;
    CHECK_EQ_STR(a, b); /* the checksum member is gone after reading */
    /* written again from what was read: still the same checksum */
    CHECK_EQ_INT(sl_manifest_write(&ctx, dir, back), SLUICE_OK);
    sl_json_free(back);
    back = NULL;
    CHECK_EQ_INT(sl_manifest_read(&ctx, dir, &back), SLUICE_OK);
    sl_free(a);
    sl_free(b);
    sl_json_free(back);
    sl_json_free(m);
    remove_dir(dir);
    sl_free(dir);
}

TEST(manifest_changed_byte)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    char *dir = temp_dir();
    struct sl_json *m = NULL;
    CHECK(dir != NULL);
    if (!dir)
        return;
    CHECK_EQ_INT(sl_json_parse_heap(&ctx, manifest_json, strlen(manifest_json), &m), SLUICE_OK);
    CHECK_EQ_INT(sl_manifest_write(&ctx, dir, m), SLUICE_OK);
    sl_json_free(m);
    m = NULL;
    char *path = sl_aprintf("%s/manifest.json", dir);
    char *text = NULL;
    size_t len = 0;
    CHECK_EQ_INT(sl_fs_read(&ctx, path, &text, &len), SLUICE_OK);
    char *at = text ? strstr(text, "\"rows\": 3") : NULL;
    CHECK(at != NULL);
    if (at) {
        at[8] = '4'; /* still valid JSON */
        CHECK_EQ_INT(sl_fs_write_atomic(&ctx, path, text, len), SLUICE_OK);
        CHECK_EQ_INT(sl_manifest_read(&ctx, dir, &m), SLUICE_ERR_IO);
        CHECK(m == NULL);
        CHECK(SL_PACKAGE_CORRUPT(&ctx));
        CHECK(strstr(ctx.message, "manifest.json fails its checksum") != NULL);
    }
    sl_ctx_clear(&ctx);
    /* not JSON at all: damaged too */
    CHECK_EQ_INT(sl_fs_write_atomic(&ctx, path, "{\"load_id\": ", 12), SLUICE_OK);
    CHECK_EQ_INT(sl_manifest_read(&ctx, dir, &m), SLUICE_ERR_IO);
    CHECK(SL_PACKAGE_CORRUPT(&ctx));
    sl_free(text);
    sl_free(path);
    remove_dir(dir);
    sl_free(dir);
}

TEST(record_checksum)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    char *dir = NULL;
    char *path = rows_file(&ctx, &dir);
    CHECK(path != NULL);
    if (!path)
        return;
    struct sl_recfile w;
    CHECK_EQ_INT(sl_recfile_create(&ctx, path, &w), SLUICE_OK);
    for (int64_t i = 0; i < 1000; i++) {
        struct sl_value v[2];
        int_text_row(v, i, "name", 4);
        /* rows of merge tables carry their item ordinal, others none (0) */
        CHECK_EQ_INT(sl_row_write(&ctx, &w, v, 2, i % 3 ? i * 1000000007 : 0), SLUICE_OK);
    }
    uint64_t written = w.sum;
    CHECK_EQ_INT(sl_recfile_close(&ctx, &w, 0), SLUICE_OK);
    char want[SL_CHECKSUM_TEXT];
    sl_checksum_text(written, want);

    /* read back with the right checksum, then with another one */
    for (int pass = 0; pass < 2; pass++) {
        struct sl_recfile r;
        struct sl_value *vals = NULL;
        size_t cap = 0, n = 0;
        int64_t rows = 0, item = -1, bad = 0;
        sluice_status rc;
        CHECK_EQ_INT(sl_recfile_open(&ctx, path, &r), SLUICE_OK);
        r.want_sum = pass == 0 ? want : "xxh3:0000000000000000";
        while ((rc = sl_row_read(&ctx, &r, &vals, &cap, &n, &item)) == SLUICE_OK &&
               n != (size_t)-1) {
            bad += n != 2 || vals[0].u.i != rows || strcmp(vals[1].u.s, "name") != 0 ||
                   item != (rows % 3 ? rows * 1000000007 : 0);
            rows++;
        }
        CHECK_EQ_INT(bad, 0);
        CHECK_EQ_INT(rows, 1000);
        CHECK_EQ_INT(rc, pass == 0 ? SLUICE_OK : SLUICE_ERR_IO);
        if (pass == 1) {
            CHECK(SL_PACKAGE_CORRUPT(&ctx));
            CHECK(strstr(ctx.message, "normalized/0.rows fails its checksum") != NULL);
        }
        sl_ctx_clear(&ctx);
        sl_recfile_close(&ctx, &r, 0);
        sl_free(vals);
    }
    /* a missing file is a damaged package naming the file */
    struct sl_recfile r;
    char *gone = sl_aprintf("%s/normalized/1.rows", dir);
    CHECK_EQ_INT(sl_recfile_open(&ctx, gone, &r), SLUICE_ERR_IO);
    CHECK(SL_PACKAGE_CORRUPT(&ctx));
    CHECK(strstr(ctx.message, "normalized/1.rows cannot be read") != NULL);
    sl_free(gone);
    drop_rows_file(path, dir);
}

/* Records of every size around the 256 KiB I/O buffer (small ones across its edges, one of
 * 300 KiB and one of 3 MiB, larger than it) come back whole and in order, items and rows, with
 * the checksum the writer computed; the file is as long as the bytes it counted. */
TEST(record_sizes)
{
    static const size_t sizes[] = { 0, 1, 5000, 70000, 300 << 10, 13, 3 << 20, 77, 200000 };
    enum { NS = sizeof(sizes) / sizeof(sizes[0]), N = 400 };
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    char *dir = NULL;
    char *path = rows_file(&ctx, &dir);
    char *text = sl_malloc((3 << 20) + 8); /* rows start up to 6 bytes in */
    CHECK(path != NULL && text != NULL);
    if (!path || !text) {
        sl_free(text);
        drop_rows_file(path, dir);
        return;
    }
    for (size_t i = 0; i < (3 << 20) + 8; i++)
        text[i] = (char)('a' + i % 23);
    struct sl_recfile w;
    CHECK_EQ_INT(sl_recfile_create(&ctx, path, &w), SLUICE_OK);
    for (int64_t i = 0; i < N; i++) {
        struct sl_value v[2];
        int_text_row(v, i, text + i % 7, sizes[i % NS]);
        CHECK_EQ_INT(sl_row_write(&ctx, &w, v, 2, i), SLUICE_OK);
    }
    uint64_t written = w.sum;
    int64_t bytes = w.bytes;
    CHECK_EQ_INT(sl_recfile_close(&ctx, &w, 0), SLUICE_OK);
    int64_t size = -1;
    FILE *f = fopen(path, "rb");
    if (f && fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (f)
        fclose(f);
    CHECK_EQ_INT(size, bytes);
    struct sl_recfile r;
    CHECK_EQ_INT(sl_recfile_open(&ctx, path, &r), SLUICE_OK);
    char want[SL_CHECKSUM_TEXT];
    sl_checksum_text(written, want);
    r.want_sum = want; /* checked at the end of the file */
    struct sl_value *vals = NULL;
    size_t cap = 0, n = 0;
    int64_t rows = 0, item = -1, bad = 0;
    sluice_status rc;
    while ((rc = sl_row_read(&ctx, &r, &vals, &cap, &n, &item)) == SLUICE_OK &&
           n != (size_t)-1) {
        size_t len = sizes[rows % NS];
        bad += n != 2 || vals[0].u.i != rows || item != rows || vals[1].len != len ||
               memcmp(vals[1].u.s, text + rows % 7, len) != 0 || vals[1].u.s[len] != '\0';
        rows++;
    }
    CHECK_EQ_INT(rc, SLUICE_OK);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(rows, N);
    sl_recfile_close(&ctx, &r, 0);
    sl_free(vals);

    /* items: a 3 MiB string between small ones */
    char *ipath = sl_aprintf("%s/normalized/1.items", dir);
    CHECK_EQ_INT(sl_recfile_create(&ctx, ipath, &w), SLUICE_OK);
    for (int64_t i = 0; i < 5; i++) {
        struct sl_json v;
        memset(&v, 0, sizeof(v));
        v.type = SL_JSON_STRING;
        v.s = text;
        v.len = i == 2 ? (3u << 20) : (uint32_t)i;
        CHECK_EQ_INT(sl_item_write(&ctx, &w, &v, i + 1, i + 10, i == 3 ? "tbl" : NULL),
                     SLUICE_OK);
    }
    CHECK_EQ_INT(sl_recfile_close(&ctx, &w, 0), SLUICE_OK);
    CHECK_EQ_INT(sl_recfile_open(&ctx, ipath, &r), SLUICE_OK);
    struct sl_arena arena;
    sl_arena_init(&arena, 1 << 16);
    int64_t items = 0;
    bad = 0;
    for (;;) {
        struct sl_json *it = NULL;
        int64_t no = 0, line = 0;
        const char *table = NULL;
        rc = sl_item_read(&ctx, &r, &arena, &it, &no, &line, &table);
        if (rc != SLUICE_OK || !it)
            break;
        size_t len = items == 2 ? (3u << 20) : (size_t)items;
        bad += it->type != SL_JSON_STRING || it->len != len || memcmp(it->s, text, len) != 0 ||
               no != items + 1 || line != items + 10 ||
               (items == 3 ? !table || strcmp(table, "tbl") != 0 : table != NULL);
        items++;
    }
    CHECK_EQ_INT(rc, SLUICE_OK);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(items, 5);
    sl_recfile_close(&ctx, &r, 0);
    sl_arena_cleanup(&arena);
    sl_free(ipath);
    sl_free(text);
    drop_rows_file(path, dir);
}

static const struct test_case package_tests[] = {
    {"manifest_round_trip", manifest_round_trip},
    {"manifest_changed_byte", manifest_changed_byte},
    {"record_checksum", record_checksum},
    {"record_sizes", record_sizes},
};
TEST_SUITE(package, package_tests)
