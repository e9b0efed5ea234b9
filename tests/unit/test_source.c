/*
 * test_source.c — the file and command sources: JSON lines, arrays and pages, gzip, globs
 * with item numbers across files, error wording (file, line, item), commands that fail, die,
 * print garbage or never stop (killed and reaped, no zombie, no descriptor leaked), Singer
 * message routing, the child's environment and folder, and a 200k-line stream.
 *
 * Fixture files are written into a fresh mkdtemp folder per test and removed afterwards.
 */
#include "sources/source.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "base/alloc.h"
#include "test.h"

/* ---- helpers ------------------------------------------------------------------------------ */

struct rec {
    struct sl_buf items;   /* "no@line[table] json\n" per item */
    struct sl_buf states;  /* sorted JSON per STATE value */
    struct sl_buf schemas; /* "stream json\n" per SCHEMA message */
    struct sl_buf errlines; /* "<line>|" per stderr line */
    int64_t n_errlines;
    int64_t n;
    int64_t last_no;
    int64_t sum_i;         /* sum of member "i" (big test) */
    int64_t fail_at;       /* return SOURCE from on_item at this item number (0: never) */
    int quiet;             /* do not record items (big test) */
    int numbering_ok;
};

static void rec_init(struct rec *r)
{
    memset(r, 0, sizeof(*r));
    sl_buf_init(&r->items, 0);
    sl_buf_init(&r->states, 0);
    sl_buf_init(&r->schemas, 0);
    sl_buf_init(&r->errlines, 0);
    r->numbering_ok = 1;
}

static void rec_cleanup(struct rec *r)
{
    sl_buf_cleanup(&r->items);
    sl_buf_cleanup(&r->states);
    sl_buf_cleanup(&r->schemas);
    sl_buf_cleanup(&r->errlines);
}

static const char *items_text(const struct rec *r) { return r->items.data ? r->items.data : ""; }

static struct sl_ctx *g_ctx; /* the ctx of the running test, for on_item failures */

static sluice_status on_item(void *ud, const struct sl_json *item, int64_t item_no,
                             int64_t line, int64_t page, const char *table)
{
    struct rec *r = ud;
    (void)page;
    r->n++;
    if (item_no != r->last_no + 1)
        r->numbering_ok = 0;
    r->last_no = item_no;
    const struct sl_json *i = sl_json_get(item, "i");
    if (i && i->type == SL_JSON_INT)
        r->sum_i += i->u.i;
    if (r->fail_at && item_no == r->fail_at)
        return sl_fail(g_ctx, SLUICE_ERR_SOURCE, "sink says stop");
    if (r->quiet)
        return SLUICE_OK;
    sl_buf_printf(&r->items, "%lld@%lld", (long long)item_no, (long long)line);
    if (table)
        sl_buf_printf(&r->items, "[%s]", table);
    sl_buf_putc(&r->items, ' ');
    sl_json_write(&r->items, item, SL_JSON_W_SORTED);
    sl_buf_putc(&r->items, '\n');
    return SLUICE_OK;
}

static sluice_status on_state(void *ud, const struct sl_json *state)
{
    struct rec *r = ud;
    sl_json_write(&r->states, state, SL_JSON_W_SORTED);
    sl_buf_putc(&r->states, '\n');
    return SLUICE_OK;
}

static sluice_status on_schema(void *ud, const char *stream, const struct sl_json *msg)
{
    struct rec *r = ud;
    sl_buf_printf(&r->schemas, "%s ", stream);
    sl_json_write(&r->schemas, sl_json_get(msg, "key_properties"), SL_JSON_W_SORTED);
    sl_buf_putc(&r->schemas, '\n');
    return SLUICE_OK;
}

static void on_stderr(void *ud, const char *line)
{
    struct rec *r = ud;
    r->n_errlines++;
    if (strlen(line) > 64) /* long lines: their length only */
        sl_buf_printf(&r->errlines, "<%zu>|", strlen(line));
    else
        sl_buf_printf(&r->errlines, "%s|", line);
}

static struct sl_source_sink sink_for(struct rec *r)
{
    struct sl_source_sink s = {on_item, on_state, on_schema, r, NULL, on_stderr, NULL};
    return s;
}

static void res_init(struct sl_resource_cfg *res, const char *name)
{
    memset(res, 0, sizeof(*res));
    res->source = (char *)"src";
    res->name = (char *)name;
    res->max_table_nesting = -1;
    res->selected = true;
}

static char *make_dir(char *tmpl)
{
    snprintf(tmpl, 64, "/tmp/sluice-src-XXXXXX");
    char *d = mkdtemp(tmpl);
    CHECK(d != NULL);
    return d;
}

static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char sub[1024];
            snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
            struct stat st;
            if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
                remove_tree(sub);
            else
                unlink(sub);
        }
        closedir(d);
    }
    rmdir(path);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    fwrite(text, 1, strlen(text), f);
    fclose(f);
}

static void write_gz(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    gzFile gz = gzopen(path, "wb");
    CHECK(gz != NULL);
    if (!gz)
        return;
    CHECK_EQ_INT(gzwrite(gz, text, (unsigned)strlen(text)), (long long)strlen(text));
    gzclose(gz);
}

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

/* True when this process has no child left, zombie or alive. */
static int no_children(void)
{
    int st;
    return waitpid(-1, &st, WNOHANG) < 0 && errno == ECHILD;
}

/* True when a process of group pgid is still running (zombies do not count). Linux /proc. */
static int group_alive(pid_t pgid)
{
    int alive = 0;
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    struct dirent *e;
    while (!alive && (e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char path[300];
        char text[512];
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(text, 1, sizeof(text) - 1, f);
        fclose(f);
        text[n] = '\0';
        const char *rp = strrchr(text, ')');
        char state = 0;
        long ppid = 0, grp = 0;
        if (rp && sscanf(rp + 1, " %c %ld %ld", &state, &ppid, &grp) == 3 && grp == pgid &&
            state != 'Z' && state != 'X')
            alive = 1;
    }
    closedir(d);
    return alive;
}

static int contains(const char *hay, const char *needle) { return strstr(hay, needle) != NULL; }

static sluice_status run_file(struct sl_ctx *ctx, const char *dir, const char *pattern,
                              struct rec *r)
{
    struct sl_resource_cfg res;
    res_init(&res, "events");
    res.from = SL_FROM_FILE;
    res.file = (char *)pattern;
    struct sl_source_sink sink = sink_for(r);
    sl_ctx_init(ctx);
    g_ctx = ctx;
    return sl_source_file_run(ctx, &res, dir, &sink);
}

static sluice_status run_cmd_env(struct sl_ctx *ctx, const char *dir, const char *command,
                                 const char *format, const struct sl_source_env *env,
                                 struct rec *r)
{
    struct sl_resource_cfg res;
    res_init(&res, "events");
    res.from = SL_FROM_COMMAND;
    res.command = (char *)command;
    res.format = (char *)format;
    struct sl_source_sink sink = sink_for(r);
    sl_ctx_init(ctx);
    g_ctx = ctx;
    return sl_source_command_run(ctx, &res, dir, env, &sink);
}

static sluice_status run_cmd(struct sl_ctx *ctx, const char *command, struct rec *r)
{
    return run_cmd_env(ctx, NULL, command, NULL, NULL, r);
}

/* ---- files -------------------------------------------------------------------------------- */

TEST(file_json_lines)
{
    char tmpl[64];
    const char *dir = make_dir(tmpl);
    struct sl_ctx ctx;
    struct rec r;
    rec_init(&r);
    write_file(dir, "items.jsonl",
               "{\"id\":1,\"s\":\"a\"}\n{\"id\":2}\n\n{\"id\":3,\"n\":{\"x\":[1]}}\n");
    CHECK_EQ_INT(run_file(&ctx, dir, "items.jsonl", &r), SLUICE_OK);
    CHECK_EQ_STR(items_text(&r), "1@1 {\"id\":1,\"s\":\"a\"}\n2@2 {\"id\":2}\n"
                                 "3@4 {\"id\":3,\"n\":{\"x\":[1]}}\n");
    /* a line holding an array is a page: its elements are items */
    rec_cleanup(&r);
    rec_init(&r);
    write_file(dir, "pages.jsonl", "[{\"id\":1},{\"id\":2}]\n{\"id\":3}\n[]\n[{\"id\":4}]\n");
    CHECK_EQ_INT(run_file(&ctx, dir, "pages.jsonl", &r), SLUICE_OK);
    CHECK_EQ_STR(items_text(&r),
                 "1@1 {\"id\":1}\n2@1 {\"id\":2}\n3@2 {\"id\":3}\n4@4 {\"id\":4}\n");
    rec_cleanup(&r);
    remove_tree(dir);
}

TEST(file_json_array)
{
    char tmpl[64];
    const char *dir = make_dir(tmpl);
    struct sl_ctx ctx;
    struct rec r;
    rec_init(&r);
    write_file(dir, "items.json", "[\n  {\"id\": 1},\n  {\"id\": 2,\n   \"tags\": [\"x\"]}\n]\n");
    CHECK_EQ_INT(run_file(&ctx, dir, "items.json", &r), SLUICE_OK);
    CHECK_EQ_STR(items_text(&r), "1@2 {\"id\":1}\n2@3 {\"id\":2,\"tags\":[\"x\"]}\n");
    /* concatenated values on one line */
    rec_cleanup(&r);
    rec_init(&r);
    write_file(dir, "concat.json", "{\"id\":1}{\"id\":2} {\"id\":3}");
    CHECK_EQ_INT(run_file(&ctx, dir, "concat.json", &r), SLUICE_OK);
    CHECK_EQ_INT(r.n, 3);
    rec_cleanup(&r);
    remove_tree(dir);
}

TEST(file_gzip)
{
    char tmpl[64];
    const char *dir = make_dir(tmpl);
    struct sl_ctx ctx;
    struct rec r;
    rec_init(&r);
    write_gz(dir, "items.jsonl.gz", "{\"id\":1}\n{\"id\":2}\n");
    CHECK_EQ_INT(run_file(&ctx, dir, "*.gz", &r), SLUICE_OK);
    CHECK_EQ_STR(items_text(&r), "1@1 {\"id\":1}\n2@2 {\"id\":2}\n");
    rec_cleanup(&r);
    /* a .gz name over plain text is refused, not read as it is */
    rec_init(&r);
    write_file(dir, "plain.gz", "{\"id\":1}\n");
    CHECK_EQ_INT(run_file(&ctx, dir, "plain.gz", &r), SLUICE_ERR_SOURCE);
    CHECK(contains(ctx.message, "plain.gz is not gzip-compressed"));
    rec_cleanup(&r);
    remove_tree(dir);
}

TEST(file_glob_numbering)
{
    char tmpl[64];
    const char *dir = make_dir(tmpl);
    char sub[128];
    snprintf(sub, sizeof(sub), "%s/data", dir);
    mkdir(sub, 0700);
    snprintf(sub, sizeof(sub), "%s/data/c.jsonl", dir);
    mkdir(sub, 0700); /* a folder matching the pattern is skipped */
    struct sl_ctx ctx;
    struct rec r;
    rec_init(&r);
    write_file(dir, "data/b.jsonl", "{\"f\":\"b\",\"k\":1}\n{\"f\":\"b\",\"k\":2}\n");
    write_file(dir, "data/a.jsonl", "[{\"f\":\"a\",\"k\":1}]\n");
    write_file(dir, "data/B.jsonl", "{\"f\":\"B\",\"k\":1}\n");
    write_file(dir, "data/skip.txt", "not json");
    CHECK_EQ_INT(run_file(&ctx, dir, "data/*.jsonl", &r), SLUICE_OK);
    /* byte order (B < a < b), numbers across files, lines per file */
    CHECK_EQ_STR(items_text(&r), "1@1 {\"f\":\"B\",\"k\":1}\n2@1 {\"f\":\"a\",\"k\":1}\n"
                                 "3@1 {\"f\":\"b\",\"k\":1}\n4@2 {\"f\":\"b\",\"k\":2}\n");
    rec_cleanup(&r);

    /* an error in the third file names that file and the item number across files */
    rec_init(&r);
    write_file(dir, "data/b.jsonl", "{\"k\":1}\n\"oops\"\n");
    CHECK_EQ_INT(run_file(&ctx, dir, "data/*.jsonl", &r), SLUICE_ERR_DATA_JSON);
    CHECK_EQ_STR(ctx.message, "item 4 in data/b.jsonl at line 2 is a string, expected an object");
    CHECK_EQ_STR(ctx.resource, "events");
    CHECK_EQ_INT(ctx.item, 4);
    rec_cleanup(&r);

    /* an absolute pattern is used as it is (and shown in full) */
    rec_init(&r);
    char abs[256];
    snprintf(abs, sizeof(abs), "%s/data/a.jsonl", dir);
    CHECK_EQ_INT(run_file(&ctx, "/nonexistent", abs, &r), SLUICE_OK);
    CHECK_EQ_INT(r.n, 1);
    rec_cleanup(&r);
    remove_tree(dir);
}

TEST(file_base_dir_with_glob_chars)
{
    char tmpl[64];
    const char *dir = make_dir(tmpl);
    char base[128];
    snprintf(base, sizeof(base), "%s/pro[j]*", dir);
    CHECK_EQ_INT(mkdir(base, 0700), 0);
    struct sl_ctx ctx;
    struct rec r;
    rec_init(&r);
    write_file(base, "x.jsonl", "{\"id\":1}\n");
    CHECK_EQ_INT(run_file(&ctx, base, "*.jsonl", &r), SLUICE_OK);
    CHECK_EQ_INT(r.n, 1);
    write_file(base, "y.jsonl", "{\"id\":1}\n{\n");
    rec_cleanup(&r);
    rec_init(&r);
    CHECK_EQ_INT(run_file(&ctx, base, "y.jsonl", &r), SLUICE_ERR_DATA_JSON);
    CHECK(contains(ctx.message, "malformed JSON in y.jsonl at line 3, column "));
    CHECK_EQ_INT(ctx.item, 2);
    rec_cleanup(&r);
    remove_tree(dir);
}

TEST(file_no_match)
{
    char tmpl[64];
    const char *dir = make_dir(tmpl);
    struct sl_ctx ctx;
    struct rec r;
    rec_init(&r);
    CHECK_EQ_INT(run_file(&ctx, dir, "nope/*.jsonl", &r), SLUICE_ERR_SOURCE);
    CHECK_EQ_STR(ctx.message, "no file matches 'nope/*.jsonl'");
    CHECK_EQ_STR(ctx.resource, "events");
    CHECK_EQ_STR(ctx.origin, "file");
    CHECK_EQ_INT(r.n, 0);
    rec_cleanup(&r);
    remove_tree(dir);
}

TEST(file_malformed_line)
{
    char tmpl[64];
    const char *dir = make_dir(tmpl);
    struct sl_ctx ctx;
    struct rec r;
    rec_init(&r);
    write_file(dir, "items.jsonl", "{\"id\":1}\n{\"id\":2}\n{\"id\" 3}\n{\"id\":4}\n");
    CHECK_EQ_INT(run_file(&ctx, dir, "items.jsonl", &r), SLUICE_ERR_DATA_JSON);
    CHECK(contains(ctx.message, "malformed JSON in items.jsonl at line 3, column "));
    CHECK_EQ_STR(ctx.resource, "events");
    CHECK_EQ_STR(ctx.origin, "json");
    CHECK_EQ_INT(ctx.item, 3);
    CHECK_EQ_INT(r.n, 2);
    char line[1200];
    sl_ctx_format(&ctx, line, sizeof(line));
    CHECK(contains(line, "DATA_JSON: malformed JSON in items.jsonl at line 3"));
    CHECK(contains(line, "(resource events, item 3)"));
    /* a nested array inside a page is not an item */
    rec_cleanup(&r);
    rec_init(&r);
    write_file(dir, "nested.json", "[{\"id\":1},[{\"id\":2}]]");
    CHECK_EQ_INT(run_file(&ctx, dir, "nested.json", &r), SLUICE_ERR_DATA_JSON);
    CHECK_EQ_STR(ctx.message, "item 2 in nested.json at line 1 is an array, expected an object");
    rec_cleanup(&r);
    remove_tree(dir);
}

TEST(file_gzip_truncated_or_corrupt)
{
    char tmpl[64];
    const char *dir = make_dir(tmpl);
    char path[256];
    struct sl_buf big;
    sl_buf_init(&big, 0);
    for (int i = 0; i < 20000; i++)
        sl_buf_printf(&big, "{\"id\":%d,\"v\":\"%x\"}\n", i, (unsigned)(i * 2654435761u));
    write_gz(dir, "t.jsonl.gz", big.data);
    snprintf(path, sizeof(path), "%s/t.jsonl.gz", dir);
    struct stat st;
    CHECK_EQ_INT(stat(path, &st), 0);
    CHECK_EQ_INT(truncate(path, st.st_size / 2), 0);
    struct sl_ctx ctx;
    struct rec r;
    rec_init(&r);
    r.quiet = 1;
    CHECK_EQ_INT(run_file(&ctx, dir, "t.jsonl.gz", &r), SLUICE_ERR_SOURCE);
    CHECK(contains(ctx.message, "t.jsonl.gz is truncated or corrupt"));
    CHECK_EQ_STR(ctx.resource, "events");
    rec_cleanup(&r);

    /* flipped bytes in the middle of the deflate stream */
    write_gz(dir, "c.jsonl.gz", big.data);
    snprintf(path, sizeof(path), "%s/c.jsonl.gz", dir);
    CHECK_EQ_INT(stat(path, &st), 0);
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL);
    if (f) {
        fseek(f, (long)(st.st_size / 3), SEEK_SET);
        fwrite("\xff\x00\xff\x00\xff\x00\xff\x00", 1, 8, f);
        fclose(f);
    }
    rec_init(&r);
    r.quiet = 1;
    CHECK_EQ_INT(run_file(&ctx, dir, "c.jsonl.gz", &r), SLUICE_ERR_SOURCE);
    CHECK(contains(ctx.message, "c.jsonl.gz is truncated or corrupt"));
    rec_cleanup(&r);
    sl_buf_cleanup(&big);
    remove_tree(dir);
}

/* ---- commands ----------------------------------------------------------------------------- */

TEST(cmd_objects_and_pages)
{
    struct sl_ctx ctx;
    struct rec r;
    rec_init(&r);
    int fds = count_fds();
    CHECK_EQ_INT(run_cmd(&ctx, "printf '{\"a\":1}\\n[{\"a\":2},{\"a\":3}]\\n\\n{\"a\":4}\\n'", &r),
                 SLUICE_OK);
    CHECK_EQ_STR(items_text(&r), "1@1 {\"a\":1}\n2@2 {\"a\":2}\n3@2 {\"a\":3}\n4@4 {\"a\":4}\n");
    CHECK(no_children());
    CHECK_EQ_INT(count_fds(), fds);
    rec_cleanup(&r);
    /* a scalar is not an item */
    rec_init(&r);
    CHECK_EQ_INT(run_cmd(&ctx, "echo '{\"a\":1}'; echo 2", &r), SLUICE_ERR_DATA_JSON);
    CHECK_EQ_STR(ctx.message,
                 "item 2 at line 2 of the command's output is a number, expected an object");
    CHECK_EQ_INT(ctx.item, 2);
    CHECK(no_children());
    rec_cleanup(&r);
}

TEST(cmd_exit_status)
{
    struct sl_ctx ctx;
    struct rec r;
    rec_init(&r);
    int fds = count_fds();
    CHECK_EQ_INT(run_cmd(&ctx, "echo first >&2; echo '{\"a\":1}'; "
                               "echo 'Traceback: ValueError: bad token' >&2; exit 3",
                         &r),
                 SLUICE_ERR_SOURCE);
    CHECK_EQ_STR(ctx.message, "command exited with status 3: Traceback: ValueError: bad token");
    CHECK_EQ_STR(ctx.origin, "command");
    CHECK_EQ_STR(ctx.detail, "3");
    CHECK_EQ_STR(ctx.resource, "events");
    CHECK_EQ_INT(r.n, 1);
    CHECK(no_children());
    CHECK_EQ_INT(count_fds(), fds);
    rec_cleanup(&r);

    /* no stderr at all; output cut mid-value: the exit status is still the cause */
    rec_init(&r);
    CHECK_EQ_INT(run_cmd(&ctx, "printf '{\"a\":'; exit 1", &r), SLUICE_ERR_SOURCE);
    CHECK_EQ_STR(ctx.message, "command exited with status 1");
    rec_cleanup(&r);

    /* exit 0 with output cut mid-value */
    rec_init(&r);
    CHECK_EQ_INT(run_cmd(&ctx, "printf '{\"a\":1}\\n{\"a\":'", &r), SLUICE_ERR_DATA_JSON);
    CHECK(contains(ctx.message, "malformed JSON in the command's output at line 2, column "));
    CHECK_EQ_INT(ctx.item, 2);
    rec_cleanup(&r);

    /* killed by a signal */
    rec_init(&r);
    CHECK_EQ_INT(run_cmd(&ctx, "echo dying >&2; kill -9 $$", &r), SLUICE_ERR_SOURCE);
    CHECK_EQ_STR(ctx.message, "command killed by signal 9: dying");
    CHECK_EQ_STR(ctx.detail, "signal 9");
    CHECK(no_children());
    rec_cleanup(&r);

    /* a folder that does not exist */
    rec_init(&r);
    CHECK_EQ_INT(run_cmd_env(&ctx, "/nonexistent/dir", "echo '{}'", NULL, NULL, &r),
                 SLUICE_ERR_SOURCE);
    CHECK(contains(ctx.message, "cannot enter folder '/nonexistent/dir'"));
    CHECK(no_children());
    CHECK_EQ_INT(count_fds(), fds);
    rec_cleanup(&r);
}

TEST(cmd_malformed_output_kills_child)
{
    struct sl_ctx ctx;
    struct rec r;
    rec_init(&r);
    int fds = count_fds();
    time_t t0 = time(NULL);
    /* the child would sleep for a minute after the bad line: it must be stopped */
    CHECK_EQ_INT(run_cmd(&ctx, "echo '{\"a\":1}'; echo '{\"a\":2}'; echo '{oops}'; "
                               "trap '' TERM; sleep 60",
                         &r),
                 SLUICE_ERR_DATA_JSON);
    CHECK(contains(ctx.message, "malformed JSON in the command's output at line 3, column "));
    CHECK_EQ_INT(ctx.item, 3);
    CHECK_EQ_STR(ctx.resource, "events");
    CHECK_EQ_INT(r.n, 2);
    CHECK(time(NULL) - t0 < 20);
    CHECK(no_children());
    CHECK_EQ_INT(count_fds(), fds);
    rec_cleanup(&r);
}

TEST(cmd_sink_error_stops_pipeline)
{
    char tmpl[64];
    const char *dir = make_dir(tmpl);
    struct sl_ctx ctx;
    struct rec r;
    rec_init(&r);
    r.fail_at = 1000;
    r.quiet = 1;
    int fds = count_fds();
    /* an endless pipeline: the whole process group must go */
    CHECK_EQ_INT(run_cmd_env(&ctx, dir,
                             "echo $$ > pgid; sleep 60 >/dev/null 2>&1 & "
                             "yes '{\"i\":1}' | cat",
                             NULL, NULL, &r),
                 SLUICE_ERR_SOURCE);
    CHECK_EQ_STR(ctx.message, "sink says stop");
    CHECK_EQ_INT(ctx.item, 1000);
    CHECK_EQ_STR(ctx.resource, "events");
    CHECK(no_children());
    CHECK_EQ_INT(count_fds(), fds);
    char path[256];
    snprintf(path, sizeof(path), "%s/pgid", dir);
    FILE *f = fopen(path, "r");
    long pgid = 0;
    CHECK(f != NULL);
    if (f) {
        CHECK_EQ_INT(fscanf(f, "%ld", &pgid), 1);
        fclose(f);
    }
    /* the background sleep, yes and cat were killed: at most zombies waiting for init are
     * left in the group */
    int alive = 1;
    for (int i = 0; i < 200 && pgid > 0 && alive; i++) {
        alive = group_alive((pid_t)pgid);
        if (alive) {
            struct timespec ts = {0, 10000000L};
            nanosleep(&ts, NULL);
        }
    }
    CHECK(pgid > 0);
    CHECK(!alive);
    rec_cleanup(&r);
    remove_tree(dir);
}

TEST(cmd_singer)
{
    struct sl_ctx ctx;
    struct rec r;
    rec_init(&r);
    const char *cmd =
        "printf '%s\\n' "
        "'{\"type\":\"SCHEMA\",\"stream\":\"users\",\"schema\":{\"properties\":{}},"
        "\"key_properties\":[\"id\"]}' "
        "'{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{\"id\":1}}' "
        "'{\"type\":\"ACTIVATE_VERSION\",\"stream\":\"users\",\"version\":1}' "
        "'{\"type\":\"RECORD\",\"stream\":\"orders\",\"record\":{\"id\":7},"
        "\"time_extracted\":\"2024-01-01T00:00:00Z\"}' "
        "'{\"type\":\"STATE\",\"value\":{\"bookmarks\":{\"users\":1}}}' "
        "'{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{\"id\":2}}' "
        "'{\"type\":\"STATE\",\"value\":{\"bookmarks\":{\"users\":2}}}'";
    CHECK_EQ_INT(run_cmd_env(&ctx, NULL, cmd, "singer", NULL, &r), SLUICE_OK);
    CHECK_EQ_STR(items_text(&r), "1@2[users] {\"id\":1}\n2@4[orders] {\"id\":7}\n"
                                 "3@6[users] {\"id\":2}\n");
    CHECK_EQ_STR(r.states.data, "{\"bookmarks\":{\"users\":1}}\n{\"bookmarks\":{\"users\":2}}\n");
    CHECK_EQ_STR(r.schemas.data, "users [\"id\"]\n");
    rec_cleanup(&r);

    /* an unknown message type */
    rec_init(&r);
    CHECK_EQ_INT(run_cmd_env(&ctx, NULL,
                             "echo '{\"type\":\"RECORD\",\"stream\":\"u\",\"record\":{}}'; "
                             "echo '{\"type\":\"HELLO\"}'",
                             "singer", NULL, &r),
                 SLUICE_ERR_DATA_JSON);
    CHECK_EQ_STR(ctx.message,
                 "unknown Singer message type 'HELLO' at line 2 of the command's output");
    rec_cleanup(&r);

    /* a RECORD without a record, an array line, a non-JSON log line */
    rec_init(&r);
    CHECK_EQ_INT(run_cmd_env(&ctx, NULL, "echo '{\"type\":\"RECORD\",\"stream\":\"u\"}'",
                             "singer", NULL, &r),
                 SLUICE_ERR_DATA_JSON);
    CHECK_EQ_STR(ctx.message,
                 "Singer RECORD message at line 1 of the command's output has no \"record\" "
                 "object");
    CHECK_EQ_INT(ctx.item, 1);
    rec_cleanup(&r);
    rec_init(&r);
    CHECK_EQ_INT(run_cmd_env(&ctx, NULL, "echo '[1]'", "singer", NULL, &r),
                 SLUICE_ERR_DATA_JSON);
    CHECK_EQ_STR(ctx.message,
                 "line 1 of the command's output is an array, expected a Singer message");
    rec_cleanup(&r);
    rec_init(&r);
    CHECK_EQ_INT(run_cmd_env(&ctx, NULL, "echo 'INFO starting'", "singer", NULL, &r),
                 SLUICE_ERR_DATA_JSON);
    CHECK(contains(ctx.message, "malformed JSON in the command's output at line 1"));
    CHECK(no_children());
    rec_cleanup(&r);
}

TEST(cmd_env_and_folder)
{
    char tmpl[64];
    const char *dir = make_dir(tmpl);
    struct sl_ctx ctx;
    struct rec r;
    rec_init(&r);
    setenv("SLUICE_TEST_X", "from-parent", 1);
    setenv("SLUICE_TEST_INHERITED", "kept", 1);
    const char *extra[] = {"SLUICE_TEST_X=from-sluice", "SLUICE_LAST_VALUE=42", NULL};
    struct sl_source_env env = {"/tmp/state.json", extra, NULL, NULL, 0, NULL, NULL, NULL};
    CHECK_EQ_INT(run_cmd_env(&ctx, dir,
                             "echo \"{\\\"v\\\":\\\"$SLUICE_TEST_X\\\","
                             "\\\"i\\\":\\\"$SLUICE_TEST_INHERITED\\\","
                             "\\\"l\\\":\\\"$SLUICE_LAST_VALUE\\\","
                             "\\\"f\\\":\\\"$SLUICE_STATE_FILE\\\","
                             "\\\"cwd\\\":\\\"$(pwd -P)\\\","
                             "\\\"n\\\":$(env | grep -c '^SLUICE_TEST_X=')}\"",
                             NULL, &env, &r),
                 SLUICE_OK);
    char expect[512];
    char real[256];
    CHECK(realpath(dir, real) != NULL);
    snprintf(expect, sizeof(expect),
             "1@1 {\"cwd\":\"%s\",\"f\":\"/tmp/state.json\",\"i\":\"kept\",\"l\":\"42\","
             "\"n\":1,\"v\":\"from-sluice\"}\n",
             real);
    CHECK_EQ_STR(items_text(&r), expect);
    unsetenv("SLUICE_TEST_X");
    unsetenv("SLUICE_TEST_INHERITED");
    rec_cleanup(&r);

    /* a descriptor the program left inheritable does not reach the command */
    int leak = open("/dev/null", O_RDONLY);
    CHECK(leak > 2);
    char cmd[256];
    snprintf(cmd, sizeof(cmd),
             "if [ -e /proc/self/fd/%d ]; then echo '{\"leak\":true}'; "
             "else echo '{\"leak\":false}'; fi",
             leak);
    rec_init(&r);
    CHECK_EQ_INT(run_cmd(&ctx, cmd, &r), SLUICE_OK);
    CHECK_EQ_STR(items_text(&r), "1@1 {\"leak\":false}\n");
    close(leak);
    rec_cleanup(&r);

    /* stdin is /dev/null: a command reading it sees end of input at once */
    rec_init(&r);
    CHECK_EQ_INT(run_cmd(&ctx, "n=$(wc -c); echo \"{\\\"stdin\\\":$n}\"", &r), SLUICE_OK);
    CHECK_EQ_STR(items_text(&r), "1@1 {\"stdin\":0}\n");
    rec_cleanup(&r);
    remove_tree(dir);
}

TEST(cmd_stderr_flood_does_not_block)
{
    struct sl_ctx ctx;
    struct rec r;
    rec_init(&r);
    /* 1 MB on stderr before any stdout: the child must not block on a full stderr pipe */
    CHECK_EQ_INT(run_cmd(&ctx, "head -c 1000000 /dev/zero | tr '\\0' x >&2; echo >&2; "
                               "echo '{\"a\":1}'; echo 'last words' >&2; exit 2",
                         &r),
                 SLUICE_ERR_SOURCE);
    CHECK_EQ_STR(ctx.message, "command exited with status 2: last words");
    CHECK_EQ_INT(r.n, 1);
    rec_cleanup(&r);
    /* an overlong last line is cut, not overflowing the message */
    rec_init(&r);
    CHECK_EQ_INT(run_cmd(&ctx, "head -c 100000 /dev/zero | tr '\\0' y >&2; exit 4", &r),
                 SLUICE_ERR_SOURCE);
    CHECK(contains(ctx.message, "command exited with status 4: yyyy"));
    CHECK(strlen(ctx.message) < 600);
    rec_cleanup(&r);
}

TEST(cmd_stderr_lines)
{
    struct sl_ctx ctx;
    struct rec r;
    rec_init(&r);
    /* every line as it comes, CR-LF endings as one line, a last line without newline, an
     * empty line, a line over the cap in pieces */
    CHECK_EQ_INT(run_cmd(&ctx, "echo one >&2; printf 'two\\r\\n\\nthree' >&2; "
                               "echo '{\"a\":1}'",
                         &r),
                 SLUICE_OK);
    CHECK_EQ_STR(r.errlines.data, "one|two||three|");
    rec_cleanup(&r);
    rec_init(&r);
    CHECK_EQ_INT(run_cmd(&ctx, "head -c 5000 /dev/zero | tr '\\0' z >&2; echo >&2", &r),
                 SLUICE_OK);
    CHECK_EQ_STR(r.errlines.data, "<4096>|<904>|");
    rec_cleanup(&r);
    /* a failure names the file its stderr is kept in */
    rec_init(&r);
    struct sl_source_env env = {NULL, NULL, NULL, NULL, 0, NULL, NULL, "/work/logs/run-1.log"};
    CHECK_EQ_INT(run_cmd_env(&ctx, NULL, "echo 'Config validation failed' >&2; exit 1", NULL,
                             &env, &r),
                 SLUICE_ERR_SOURCE);
    CHECK_EQ_STR(ctx.message, "command exited with status 1: Config validation failed (full "
                              "stderr in /work/logs/run-1.log)");
    rec_cleanup(&r);
}

TEST(cmd_big_stream)
{
    struct sl_ctx ctx;
    struct rec r;
    rec_init(&r);
    r.quiet = 1;
    CHECK_EQ_INT(run_cmd(&ctx, "seq 1 200000 | awk '{printf \"{\\\"i\\\":%d,\\\"pad\\\":"
                               "\\\"abcdefghijklmnopqrstuvwxyz\\\"}\\n\", $1}'",
                         &r),
                 SLUICE_OK);
    CHECK_EQ_INT(r.n, 200000);
    CHECK_EQ_INT(r.last_no, 200000);
    CHECK(r.numbering_ok);
    CHECK_EQ_INT(r.sum_i, 200000LL * 200001LL / 2);
    CHECK(no_children());
    rec_cleanup(&r);
}

/* Interrupt and timeout: the sink of the first item raises the interrupt flag (a Ctrl-C
 * while the command waits quietly); a process of the group ignores SIGTERM, so the group is
 * gone only after the SIGKILL that follows the grace period. */
struct stop_rec {
    _Atomic int flag;
    int raise_on_item;
    long pgid;
};

static sluice_status stop_on_item(void *ud, const struct sl_json *item, int64_t item_no,
                                  int64_t line, int64_t page, const char *table)
{
    struct stop_rec *s = ud;
    (void)item_no;
    (void)line;
    (void)page;
    (void)table;
    const struct sl_json *g = sl_json_get(item, "pgid");
    if (g && g->type == SL_JSON_INT)
        s->pgid = (long)g->u.i;
    if (s->raise_on_item)
        atomic_store(&s->flag, 1);
    return SLUICE_OK;
}

static sluice_status run_stoppable(struct sl_ctx *ctx, struct stop_rec *s, double timeout)
{
    struct sl_resource_cfg res;
    res_init(&res, "events");
    res.from = SL_FROM_COMMAND;
    res.command = "echo \"{\\\"pgid\\\": $$}\"; (trap '' TERM; exec sleep 30) & sleep 30";
    res.timeout = timeout;
    struct sl_source_sink sink = {stop_on_item, NULL, NULL, s, NULL, NULL, NULL};
    struct sl_source_env env;
    memset(&env, 0, sizeof(env));
    env.interrupt = &s->flag;
    sl_ctx_init(ctx);
    return sl_source_command_run(ctx, &res, NULL, &env, &sink);
}

/* The group has no process left (a SIGKILLed member may take a moment to go: waits for it,
 * up to 5 s, without asserting anything about time). */
static int group_gone(long pgid)
{
    for (int i = 0; pgid > 0 && i < 500; i++) {
        if (kill((pid_t)-pgid, 0) == -1 && errno == ESRCH)
            return 1;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return 0;
}

TEST(cmd_interrupt_stops_group)
{
    struct sl_ctx ctx;
    struct stop_rec s = {0, 1, 0};
    CHECK_EQ_INT(run_stoppable(&ctx, &s, 0), SLUICE_ERR_INTERRUPTED);
    CHECK_EQ_STR(ctx.message, "interrupted: the command was stopped");
    CHECK_EQ_STR(ctx.origin, "interrupt");
    CHECK_EQ_STR(ctx.resource, "events");
    CHECK(s.pgid > 0);
    CHECK(group_gone(s.pgid));
    CHECK(no_children());
}

TEST(cmd_timeout_stops_group)
{
    struct sl_ctx ctx;
    struct stop_rec s = {0, 0, 0};
    CHECK_EQ_INT(run_stoppable(&ctx, &s, 0.5), SLUICE_ERR_SOURCE);
    CHECK_EQ_STR(ctx.message, "the command did not finish within its timeout of 0.5 s "
                              "(from.timeout) and was stopped");
    CHECK_EQ_STR(ctx.detail, "timeout");
    /* its pid is known if it printed it within the timeout (a loaded machine may not) */
    if (s.pgid > 0)
        CHECK(group_gone(s.pgid));
    CHECK(no_children());
    /* a command that closes its output and goes on running is still timed */
    struct sl_resource_cfg res;
    res_init(&res, "events");
    res.from = SL_FROM_COMMAND;
    res.command = "exec >&- 2>&-; sleep 30";
    res.timeout = 0.25;
    struct rec r;
    rec_init(&r);
    struct sl_source_sink sink = sink_for(&r);
    sl_ctx_init(&ctx);
    CHECK_EQ_INT(sl_source_command_run(&ctx, &res, NULL, NULL, &sink), SLUICE_ERR_SOURCE);
    CHECK_EQ_STR(ctx.detail, "timeout");
    CHECK(no_children());
    rec_cleanup(&r);
}

static const struct test_case source_tests[] = {
    {"file_json_lines", file_json_lines},
    {"file_json_array", file_json_array},
    {"file_gzip", file_gzip},
    {"file_glob_numbering", file_glob_numbering},
    {"file_base_dir_with_glob_chars", file_base_dir_with_glob_chars},
    {"file_no_match", file_no_match},
    {"file_malformed_line", file_malformed_line},
    {"file_gzip_truncated_or_corrupt", file_gzip_truncated_or_corrupt},
    {"cmd_objects_and_pages", cmd_objects_and_pages},
    {"cmd_exit_status", cmd_exit_status},
    {"cmd_malformed_output_kills_child", cmd_malformed_output_kills_child},
    {"cmd_sink_error_stops_pipeline", cmd_sink_error_stops_pipeline},
    {"cmd_singer", cmd_singer},
    {"cmd_env_and_folder", cmd_env_and_folder},
    {"cmd_stderr_flood_does_not_block", cmd_stderr_flood_does_not_block},
    {"cmd_stderr_lines", cmd_stderr_lines},
    {"cmd_big_stream", cmd_big_stream},
    {"cmd_interrupt_stops_group", cmd_interrupt_stops_group},
    {"cmd_timeout_stops_group", cmd_timeout_stops_group},
};
TEST_SUITE(source, source_tests)
