/*
 * run_cases.c — the scenario runner: runs tests/cases/NNNN-slug.case files against the real
 * `sluice` binary and compares exact table contents and state.
 *
 *   run_cases SLUICE_BIN CASES_DIR [filter]
 *
 * RUN_CASES_DEST=postgres|duckdb (default sqlite: the cases' own configs) loads every case into
 * that destination instead: every command gets DESTINATION__TYPE (and, for postgres,
 * DESTINATION__CREDENTIALS = a database created for the case on SLUICE_TEST_PG_DSN's server,
 * dropped when it passes). A case opts out of a destination only with a written reason
 * (`--- exclude-dest NAME: REASON`). RUN_CASES_JOBS=N runs N cases at a time (output in
 * name order).
 *
 * A case is a script of sections (`--- name [args]` lines followed by content lines), run in
 * order inside a fresh temporary directory (tests/README.md documents every section). Each
 * case gets its own work dir (the commands' current directory, %CASEDIR), its own
 * SLUICE_PIPELINES_DIR and a bin dir with `sluice` linked to the binary under test, first on
 * PATH. A case that passes is removed; a failing one is kept and its path printed.
 *
 * Output: `ok NAME`, `skip NAME: why` or `FAIL NAME: why` (details indented below), then
 * `cases: N passed, N failed, N skipped, N excluded` (`excluded NAME: dest: reason`). Exit 1 when a case failed, 2 on bad usage.
 *
 * Invariants: the runner never reads anything outside CASES_DIR, the fixtures dir beside it
 * and the case's temp dir; every child runs in its own process group and is killed when it
 * outlives the timeout (RUN_CASES_TIMEOUT seconds, default 300). Expected SQL output is
 * compared line by line (CRLF read as LF); state is compared as JSON values (key order and
 * number spelling do not matter), using the library's JSON module.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/json.h"

/* ---- small helpers ------------------------------------------------------------------------ */

static int verbose;

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fputs("run_cases: out of memory\n", stderr);
        exit(2);
    }
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("run_cases: out of memory\n", stderr);
        exit(2);
    }
    return q;
}

static char *xstrndup(const char *s, size_t n)
{
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

/* A growable string. */
struct str {
    char *p;
    size_t len;
    size_t cap;
};

static void str_add(struct str *s, const char *data, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        while (cap < s->len + n + 1)
            cap *= 2;
        s->p = xrealloc(s->p, cap);
        s->cap = cap;
    }
    memcpy(s->p + s->len, data, n);
    s->len += n;
    s->p[s->len] = '\0';
}

static void str_adds(struct str *s, const char *z)
{
    str_add(s, z, strlen(z));
}

static void str_addf(struct str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void str_addf(struct str *s, const char *fmt, ...)
{
    char tmp[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(tmp)) {
        str_add(s, tmp, (size_t)n);
        return;
    }
    char *big = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    str_add(s, big, (size_t)n);
    free(big);
}

static char *str_take(struct str *s)
{
    char *p = s->p ? s->p : xstrdup("");
    s->p = NULL;
    s->len = s->cap = 0;
    return p;
}

static char *path_join(const char *a, const char *b)
{
    struct str s = {0};
    str_adds(&s, a);
    if (s.len && s.p[s.len - 1] != '/')
        str_adds(&s, "/");
    str_adds(&s, b);
    return str_take(&s);
}

/* Read a whole file; NULL when it cannot be read. *len gets the size. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct str s = {0};
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        str_add(&s, buf, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(s.p);
        return NULL;
    }
    if (len)
        *len = s.len;
    return str_take(&s);
}

/* mkdir -p of the directory part of path. */
static int mkdirs_for(const char *path)
{
    char *d = xstrdup(path);
    for (char *p = d + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(d, 0777) != 0 && errno != EEXIST) {
            free(d);
            return -1;
        }
        *p = '/';
    }
    free(d);
    return 0;
}

static int remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    DIR *dir = opendir(path);
    if (!dir)
        return -1;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *sub = path_join(path, de->d_name);
        if (remove_tree(sub) != 0)
            rc = -1;
        free(sub);
    }
    closedir(dir);
    if (rmdir(path) != 0)
        rc = -1;
    return rc;
}

static char *abs_path(const char *p)
{
    char *r = realpath(p, NULL);
    if (!r)
        return NULL;
    char *d = xstrdup(r);
    free(r);
    return d;
}

/* ---- case files ------------------------------------------------------------------------- */

struct section {
    char *name;   /* "file", "run", "expect-sql", ... */
    char *args;   /* the rest of the header line, trimmed ("" when none) */
    char **lines; /* content lines, trailing blank lines removed */
    size_t nlines;
    int lineno;   /* line of the header in the case file */
};

struct case_file {
    char *title;
    struct section *secs;
    size_t nsecs;
};

static const char *const known_sections[] = {
    "pipeline", "file", "file-gz", "copy", "run", "expect-exit", "expect-stderr",
    "expect-stdout", "expect-sql", "expect-state", "requires", "env", "mock-server",
    "expect-requests", "exclude-dest", NULL};

static bool is_known_section(const char *name)
{
    for (size_t i = 0; known_sections[i]; i++)
        if (strcmp(known_sections[i], name) == 0)
            return true;
    return false;
}

/* A header is "--- " followed by a lowercase word; anything else is content. */
static bool parse_header(const char *line, char **name, char **args)
{
    if (strncmp(line, "--- ", 4) != 0)
        return false;
    const char *p = line + 4;
    const char *s = p;
    while ((*p >= 'a' && *p <= 'z') || *p == '-')
        p++;
    if (p == s || (*p != '\0' && *p != ' ' && *p != '\t'))
        return false;
    *name = xstrndup(s, (size_t)(p - s));
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strlen(p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    *args = xstrndup(p, n);
    return true;
}

static bool blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t')
            return false;
    return true;
}

static void case_free(struct case_file *c)
{
    for (size_t i = 0; i < c->nsecs; i++) {
        struct section *s = &c->secs[i];
        free(s->name);
        free(s->args);
        for (size_t j = 0; j < s->nlines; j++)
            free(s->lines[j]);
        free(s->lines);
    }
    free(c->secs);
    free(c->title);
    memset(c, 0, sizeof(*c));
}

/* Parse a case file. On error returns -1 with a message in err. */
static int case_parse(const char *path, struct case_file *c, struct str *err)
{
    memset(c, 0, sizeof(*c));
    size_t len;
    char *text = read_file(path, &len);
    if (!text) {
        str_addf(err, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = 0;
    int lineno = 0;
    char *p = text;
    char *end = text + len;
    struct section *cur = NULL;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (n > 0 && p[n - 1] == '\r')
            n--;
        char *line = xstrndup(p, n);
        p = nl ? nl + 1 : end;
        lineno++;
        char *name = NULL;
        char *args = NULL;
        if (parse_header(line, &name, &args)) {
            free(line);
            if (!is_known_section(name)) {
                str_addf(err, "line %d: unknown section '--- %s'", lineno, name);
                free(name);
                free(args);
                rc = -1;
                break;
            }
            c->secs = xrealloc(c->secs, (c->nsecs + 1) * sizeof(*c->secs));
            cur = &c->secs[c->nsecs++];
            memset(cur, 0, sizeof(*cur));
            cur->name = name;
            cur->args = args;
            cur->lineno = lineno;
            continue;
        }
        if (!cur) {
            if (line[0] == '#') {
                if (!c->title) {
                    const char *t = line + 1;
                    while (*t == ' ')
                        t++;
                    c->title = xstrdup(t);
                }
            } else if (!blank(line)) {
                str_addf(err, "line %d: text before the first section", lineno);
                free(line);
                rc = -1;
                break;
            }
            free(line);
            continue;
        }
        cur->lines = xrealloc(cur->lines, (cur->nlines + 1) * sizeof(char *));
        cur->lines[cur->nlines++] = line;
    }
    free(text);
    for (size_t i = 0; i < c->nsecs; i++) {
        struct section *s = &c->secs[i];
        /* outside file contents, lines starting with # are comments; \# stands for a literal # */
        if (strcmp(s->name, "file") != 0 && strcmp(s->name, "file-gz") != 0) {
            size_t k = 0;
            for (size_t j = 0; j < s->nlines; j++) {
                char *l = s->lines[j];
                if (l[0] == '#') {
                    free(l);
                    continue;
                }
                if (l[0] == '\\' && l[1] == '#')
                    memmove(l, l + 1, strlen(l));
                s->lines[k++] = l;
            }
            s->nlines = k;
        }
        while (s->nlines > 0 && blank(s->lines[s->nlines - 1]))
            free(s->lines[--s->nlines]);
    }
    if (rc == 0 && !c->title) {
        str_adds(err, "no title (the first '# ...' line)");
        rc = -1;
    }
    return rc;
}

/* ---- the per-case environment ----------------------------------------------------------- */

struct env_var {
    char *name;
    char *value; /* NULL: unset */
};

struct runner {
    const char *sluice;   /* absolute path of the binary under test */
    const char *fixtures; /* absolute path of tests/fixtures */
    const char *dest;     /* RUN_CASES_DEST: "sqlite" (the cases' own), "postgres", "duckdb" */
    size_t case_no;       /* index of the case in this run (unique database names) */
    char *pg_db;          /* postgres: the database created for the case, or NULL */
    char *duck_shim;      /* duckdb: the statements of fixtures/sqlite_shim.duckdb.sql */
    char *tmp;            /* the case's temp dir */
    char *work;           /* tmp/work: cwd of commands, %CASEDIR */
    char *pipelines;      /* tmp/pipelines: SLUICE_PIPELINES_DIR */
    char *bindir;         /* tmp/bin: holds the `sluice` link */
    char *path_env;       /* PATH with bindir first */
    struct env_var *env;
    size_t nenv;
    char *pipeline;       /* --- pipeline NAME */
    int timeout;          /* seconds per command */
    pid_t mock_pid;       /* --- mock-server: the REST mock (0 when none) */
    char *mock_url;       /* %MOCK_URL */
    size_t mock_seen;     /* request log lines already checked by expect-requests */
    /* the last `--- run` */
    bool ran;
    int run_no;
    int exit_code;
    char *out;
    char *errout;
    char *cmd;
};

static void env_set(struct runner *r, const char *name, const char *value)
{
    for (size_t i = 0; i < r->nenv; i++) {
        if (strcmp(r->env[i].name, name) == 0) {
            free(r->env[i].value);
            r->env[i].value = value ? xstrdup(value) : NULL;
            return;
        }
    }
    r->env = xrealloc(r->env, (r->nenv + 1) * sizeof(*r->env));
    r->env[r->nenv].name = xstrdup(name);
    r->env[r->nenv].value = value ? xstrdup(value) : NULL;
    r->nenv++;
}

/* Replace %CASEDIR, %FIXTURES, %SLUICE and %MOCK_URL (once a mock runs). Caller frees. */
static char *expand(const struct runner *r, const char *s)
{
    static const char *const keys[] = {"%CASEDIR", "%FIXTURES", "%SLUICE", "%MOCK_URL"};
    const char *vals[] = {r->work, r->fixtures, r->sluice, r->mock_url};
    struct str o = {0};
    str_add(&o, "", 0);
    while (*s) {
        bool hit = false;
        if (*s == '%') {
            for (size_t k = 0; k < 4 && vals[k]; k++) {
                size_t kl = strlen(keys[k]);
                if (strncmp(s, keys[k], kl) == 0) {
                    str_adds(&o, vals[k]);
                    s += kl;
                    hit = true;
                    break;
                }
            }
        }
        if (!hit) {
            str_add(&o, s, 1);
            s++;
        }
    }
    return str_take(&o);
}

/* Section content as text: lines joined with '\n', each line ended by '\n'. */
static char *content_text(const struct runner *r, const struct section *s, size_t from)
{
    struct str o = {0};
    str_add(&o, "", 0);
    for (size_t i = from; i < s->nlines; i++) {
        char *e = expand(r, s->lines[i]);
        str_adds(&o, e);
        str_adds(&o, "\n");
        free(e);
    }
    return str_take(&o);
}

/* ---- running programs ------------------------------------------------------------------- */

struct proc_result {
    int code;     /* exit status, 128+signal when killed, -1 when it could not start */
    bool timed_out;
    char *out;
    char *err;
};

/*
 * Run argv (argv[0] a path) in the work dir with the case's environment, stdin from
 * /dev/null, stdout and stderr captured through files in the temp dir. strip_fault drops
 * SLUICE_FAULT from the child's environment (the runner's own queries never inject faults).
 */
static void run_argv(struct runner *r, char *const argv[], bool strip_fault,
                     struct proc_result *res)
{
    memset(res, 0, sizeof(*res));
    char *outp = path_join(r->tmp, "cmd.stdout");
    char *errp = path_join(r->tmp, "cmd.stderr");
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        res->code = -1;
        res->out = xstrdup("");
        res->err = xstrdup("fork failed");
        free(outp);
        free(errp);
        return;
    }
    if (pid == 0) {
        setpgid(0, 0);
        int in = open("/dev/null", O_RDONLY);
        int o = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        int e = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (in < 0 || o < 0 || e < 0 || chdir(r->work) != 0)
            _exit(126);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        close(in);
        close(o);
        close(e);
        setenv("PATH", r->path_env, 1);
        setenv("SLUICE_PIPELINES_DIR", r->pipelines, 1);
        for (size_t i = 0; i < r->nenv; i++) {
            if (r->env[i].value)
                setenv(r->env[i].name, r->env[i].value, 1);
            else
                unsetenv(r->env[i].name);
        }
        if (strip_fault)
            unsetenv("SLUICE_FAULT");
        execv(argv[0], argv);
        fprintf(stderr, "run_cases: cannot exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid); /* also from here, so the kill below cannot miss the group */
    int status = 0;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            status = -1;
            break;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec > r->timeout) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            res->timed_out = true;
            break;
        }
        struct timespec nap = {0, 5 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    if (status == -1)
        res->code = -1;
    else if (WIFEXITED(status))
        res->code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        res->code = 128 + WTERMSIG(status);
    else
        res->code = -1;
    res->out = read_file(outp, NULL);
    res->err = read_file(errp, NULL);
    if (!res->out)
        res->out = xstrdup("");
    if (!res->err)
        res->err = xstrdup("");
    free(outp);
    free(errp);
}

static void proc_result_free(struct proc_result *res)
{
    free(res->out);
    free(res->err);
    res->out = res->err = NULL;
}

/* A sanitizer report in stderr fails the case whatever the exit status. */
static const char *sanitizer_report(const char *err)
{
    static const char *const marks[] = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                        "runtime error:", "ERROR: UndefinedBehaviorSanitizer",
                                        NULL};
    for (size_t i = 0; marks[i]; i++)
        if (strstr(err, marks[i]))
            return marks[i];
    return NULL;
}

/* ---- reporting -------------------------------------------------------------------------- */

/* Append text indented by prefix, at most max_lines lines. */
static void add_indented(struct str *o, const char *prefix, const char *text, size_t max_lines)
{
    size_t n = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (n == max_lines) {
            str_addf(o, "%s[...]\n", prefix);
            return;
        }
        str_adds(o, prefix);
        str_add(o, p, len);
        str_adds(o, "\n");
        n++;
        p = nl ? nl + 1 : p + len;
    }
}

struct lines {
    char **v;
    size_t n;
};

/* Split text into lines ("\r\n" read as "\n"); a final newline does not add an empty line. */
static void split_lines(const char *text, struct lines *l)
{
    l->v = NULL;
    l->n = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        size_t keep = len;
        if (keep > 0 && p[keep - 1] == '\r')
            keep--;
        l->v = xrealloc(l->v, (l->n + 1) * sizeof(char *));
        l->v[l->n++] = xstrndup(p, keep);
        p = nl ? nl + 1 : p + len;
    }
}

static void lines_free(struct lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static bool lines_equal(const struct lines *a, const struct lines *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]) != 0)
            return false;
    return true;
}

/*
 * A line diff ("-" expected, "+" actual, " " both) from a longest common subsequence; for
 * very long outputs it falls back to the two listings.
 */
static void add_diff(struct str *o, const struct lines *exp, const struct lines *act)
{
    size_t n = exp->n, m = act->n;
    if (n > 2000 || m > 2000 || (n + 1) * (m + 1) > 4000000) {
        str_adds(o, "    expected:\n");
        for (size_t i = 0; i < n && i < 200; i++)
            str_addf(o, "    - %s\n", exp->v[i]);
        str_adds(o, "    actual:\n");
        for (size_t i = 0; i < m && i < 200; i++)
            str_addf(o, "    + %s\n", act->v[i]);
        return;
    }
    /* lcs[i][j] = LCS length of exp[i..] and act[j..] */
    uint32_t *lcs = xmalloc((n + 1) * (m + 1) * sizeof(uint32_t));
#define LCS(i, j) lcs[(i) * (m + 1) + (j)]
    for (size_t i = n + 1; i-- > 0;) {
        for (size_t j = m + 1; j-- > 0;) {
            if (i == n || j == m)
                LCS(i, j) = 0;
            else if (strcmp(exp->v[i], act->v[j]) == 0)
                LCS(i, j) = LCS(i + 1, j + 1) + 1;
            else
                LCS(i, j) = LCS(i + 1, j) > LCS(i, j + 1) ? LCS(i + 1, j) : LCS(i, j + 1);
        }
    }
    size_t i = 0, j = 0;
    while (i < n || j < m) {
        if (i < n && j < m && strcmp(exp->v[i], act->v[j]) == 0) {
            str_addf(o, "      %s\n", exp->v[i]);
            i++;
            j++;
        } else if (i < n && (j == m || LCS(i + 1, j) >= LCS(i, j + 1))) {
            str_addf(o, "    - %s\n", exp->v[i]);
            i++;
        } else {
            str_addf(o, "    + %s\n", act->v[j]);
            j++;
        }
    }
#undef LCS
    free(lcs);
}

/* ---- sections --------------------------------------------------------------------------- */

enum { CASE_OK = 0, CASE_FAIL = 1, CASE_SKIP = 2, CASE_EXCLUDED = 3 };

/* Resolve a path given in a case: relative to the work dir; must not climb out of it. */
static char *work_path(const struct runner *r, const char *rel, struct str *why)
{
    if (rel[0] == '\0') {
        str_adds(why, "a path is required");
        return NULL;
    }
    if (rel[0] == '/' || strstr(rel, "..")) {
        str_addf(why, "path '%s' must stay inside the work dir", rel);
        return NULL;
    }
    return path_join(r->work, rel);
}

static int do_file(struct runner *r, const struct section *s, bool gz, struct str *why)
{
    char *path = work_path(r, s->args, why);
    if (!path)
        return CASE_FAIL;
    char *text = content_text(r, s, 0);
    int rc = CASE_OK;
    if (mkdirs_for(path) != 0) {
        str_addf(why, "cannot create the folder of %s: %s", s->args, strerror(errno));
        rc = CASE_FAIL;
    } else if (gz) {
        gzFile f = gzopen(path, "wb");
        size_t len = strlen(text);
        if (!f || (len > 0 && gzwrite(f, text, (unsigned)len) != (int)len)) {
            str_addf(why, "cannot write %s", s->args);
            rc = CASE_FAIL;
        }
        if (f && gzclose(f) != Z_OK && rc == CASE_OK) {
            str_addf(why, "cannot write %s", s->args);
            rc = CASE_FAIL;
        }
    } else {
        FILE *f = fopen(path, "wb");
        size_t len = strlen(text);
        if (!f || fwrite(text, 1, len, f) != len) {
            str_addf(why, "cannot write %s", s->args);
            rc = CASE_FAIL;
        }
        if (f && fclose(f) != 0 && rc == CASE_OK) {
            str_addf(why, "cannot write %s", s->args);
            rc = CASE_FAIL;
        }
    }
    free(text);
    free(path);
    return rc;
}

static int do_copy(struct runner *r, const struct section *s, struct str *why)
{
    char fixture[1024];
    char dest[1024];
    dest[0] = '\0';
    int n = sscanf(s->args, "%1023s %1023s", fixture, dest);
    if (n < 1) {
        str_adds(why, "--- copy needs FIXTURE [PATH]");
        return CASE_FAIL;
    }
    if (n < 2) {
        const char *base = strrchr(fixture, '/');
        snprintf(dest, sizeof(dest), "%s", base ? base + 1 : fixture);
    }
    if (fixture[0] == '/' || strstr(fixture, "..")) {
        str_addf(why, "fixture '%s' must be a path under tests/fixtures", fixture);
        return CASE_FAIL;
    }
    char *src = path_join(r->fixtures, fixture);
    char *dst = work_path(r, dest, why);
    int rc = CASE_FAIL;
    size_t len = 0;
    char *data = NULL;
    if (!dst)
        goto done;
    data = read_file(src, &len);
    if (!data) {
        str_addf(why, "cannot read fixture %s", src);
        goto done;
    }
    if (mkdirs_for(dst) != 0) {
        str_addf(why, "cannot create the folder of %s", dest);
        goto done;
    }
    FILE *f = fopen(dst, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        str_addf(why, "cannot write %s", dest);
        if (f)
            fclose(f);
        goto done;
    }
    if (fclose(f) != 0) {
        str_addf(why, "cannot write %s", dest);
        goto done;
    }
    rc = CASE_OK;
done:
    free(data);
    free(src);
    free(dst);
    return rc;
}

static void show_output(struct str *why, const char *label, const char *text)
{
    if (!text[0]) {
        str_addf(why, "\n    (%s empty)", label);
        return;
    }
    str_addf(why, "\n    %s:\n", label);
    add_indented(why, "    | ", text, 60);
    if (why->len && why->p[why->len - 1] == '\n')
        why->p[--why->len] = '\0';
}

static int do_run(struct runner *r, const struct section *s, bool check_zero, struct str *why)
{
    char *cmd;
    if (s->args[0]) {
        cmd = expand(r, s->args);
    } else {
        cmd = content_text(r, s, 0);
        size_t n = strlen(cmd);
        while (n > 0 && cmd[n - 1] == '\n')
            cmd[--n] = '\0';
    }
    if (!cmd[0]) {
        free(cmd);
        str_adds(why, "--- run without a command");
        return CASE_FAIL;
    }
    char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    struct proc_result res;
    run_argv(r, argv, false, &res);
    free(r->out);
    free(r->errout);
    free(r->cmd);
    r->ran = true;
    r->run_no++;
    r->exit_code = res.code;
    r->out = res.out;
    r->errout = res.err;
    r->cmd = cmd;
    if (verbose) {
        fprintf(stderr, "  $ %s\n  exit %d\n", cmd, res.code);
        struct str o = {0};
        str_add(&o, "", 0);
        add_indented(&o, "  stdout| ", r->out, 1000);
        add_indented(&o, "  stderr| ", r->errout, 1000);
        fputs(o.p, stderr);
        free(o.p);
    }
    if (res.timed_out) {
        str_addf(why, "run %d timed out after %d s: %s", r->run_no, r->timeout, cmd);
        show_output(why, "stderr", r->errout);
        return CASE_FAIL;
    }
    const char *san = sanitizer_report(r->errout);
    if (san) {
        str_addf(why, "run %d: sanitizer report (%s): %s", r->run_no, san, cmd);
        show_output(why, "stderr", r->errout);
        return CASE_FAIL;
    }
    if (check_zero && res.code != 0) {
        str_addf(why, "run %d exited %d (expected 0; add --- expect-exit if intended): %s",
                 r->run_no, res.code, cmd);
        show_output(why, "stdout", r->out);
        show_output(why, "stderr", r->errout);
        return CASE_FAIL;
    }
    return CASE_OK;
}

static int need_run(const struct runner *r, const struct section *s, struct str *why)
{
    if (r->ran)
        return CASE_OK;
    str_addf(why, "line %d: --- %s before any --- run", s->lineno, s->name);
    return CASE_FAIL;
}

static int do_expect_exit(struct runner *r, const struct section *s, struct str *why)
{
    if (need_run(r, s, why))
        return CASE_FAIL;
    char *end = NULL;
    long want = strtol(s->args, &end, 10);
    if (!s->args[0] || *end) {
        str_addf(why, "line %d: --- expect-exit needs a number", s->lineno);
        return CASE_FAIL;
    }
    if (r->exit_code == want)
        return CASE_OK;
    str_addf(why, "run %d exited %d, expected %ld: %s", r->run_no, r->exit_code, want, r->cmd);
    show_output(why, "stdout", r->out);
    show_output(why, "stderr", r->errout);
    return CASE_FAIL;
}

static int do_expect_text(struct runner *r, const struct section *s, bool err, struct str *why)
{
    if (need_run(r, s, why))
        return CASE_FAIL;
    const char *text = err ? r->errout : r->out;
    int rc = CASE_OK;
    for (size_t i = 0; i < s->nlines; i++) {
        if (blank(s->lines[i]))
            continue;
        char *want = expand(r, s->lines[i]);
        if (!strstr(text, want)) {
            if (rc == CASE_OK)
                str_addf(why, "run %d: %s lacks", r->run_no, err ? "stderr" : "stdout");
            str_addf(why, "\n    missing: %s", want);
            rc = CASE_FAIL;
        }
        free(want);
    }
    if (rc != CASE_OK)
        show_output(why, err ? "stderr" : "stdout", text);
    return rc;
}

static int need_pipeline(const struct runner *r, const struct section *s, struct str *why)
{
    if (r->pipeline)
        return CASE_OK;
    str_addf(why, "line %d: --- %s needs a --- pipeline NAME before it", s->lineno, s->name);
    return CASE_FAIL;
}

/* Run one of the runner's own sluice commands; CASE_OK when it exited 0. */
static int sluice_cmd(struct runner *r, char *const argv[], const char *what,
                      struct proc_result *res, struct str *why)
{
    run_argv(r, argv, true, res);
    const char *san = sanitizer_report(res->err);
    if (res->code == 0 && !san && !res->timed_out)
        return CASE_OK;
    if (san)
        str_addf(why, "%s: sanitizer report (%s)", what, san);
    else if (res->timed_out)
        str_addf(why, "%s: timed out", what);
    else
        str_addf(why, "%s: exited %d", what, res->code);
    show_output(why, "stderr", res->err);
    return CASE_FAIL;
}

/* The duckdb pass: the SQLite functions the checking queries use, as DuckDB temporary macros
 * and a view (tests/fixtures/sqlite_shim.duckdb.sql), its statements without the comment lines
 * (an argument starting with "--" would read as an option). They go before each checking
 * query in the one text `pipeline query` runs, so they live in that query's connection only:
 * sluice's own statements never see them. NULL when the file cannot be read. */
static char *duck_shim(struct runner *r)
{
    char *path = path_join(r->fixtures, "sqlite_shim.duckdb.sql");
    char *text = read_file(path, NULL);
    free(path);
    if (!text)
        return NULL;
    struct str sql = {0};
    for (char *line = text, *end; *line; line = end) {
        end = line + strcspn(line, "\n");
        if (*end)
            end++;
        if (strncmp(line, "--", 2) != 0)
            str_add(&sql, line, (size_t)(end - line));
    }
    free(text);
    return str_take(&sql);
}

static int do_expect_sql(struct runner *r, const struct section *s, struct str *why)
{
    if (need_pipeline(r, s, why))
        return CASE_FAIL;
    if (s->nlines == 0 || blank(s->lines[0])) {
        str_addf(why, "line %d: --- expect-sql needs the SQL on its first line", s->lineno);
        return CASE_FAIL;
    }
    char *sql = expand(r, s->lines[0]);
    char *text = sql;
    if (strcmp(r->dest, "duckdb") == 0) {
        if (!r->duck_shim && !(r->duck_shim = duck_shim(r))) {
            str_addf(why, "line %d: cannot read %s/sqlite_shim.duckdb.sql", s->lineno,
                     r->fixtures);
            free(sql);
            return CASE_FAIL;
        }
        struct str t = {0};
        str_addf(&t, "%s%s", r->duck_shim, sql);
        text = str_take(&t);
    }
    char *argv[] = {(char *)r->sluice, "pipeline", r->pipeline, "query", text, "--format",
                    "csv", NULL};
    struct proc_result res;
    struct str what = {0};
    str_addf(&what, "line %d: query \"%s\"", s->lineno, sql);
    int rc = sluice_cmd(r, argv, what.p, &res, why);
    if (rc == CASE_OK) {
        char *want_text = content_text(r, s, 1);
        struct lines want, got;
        split_lines(want_text, &want);
        split_lines(res.out, &got);
        if (!lines_equal(&want, &got)) {
            str_addf(why, "line %d: %s\n    (- expected, + actual)\n", s->lineno, sql);
            add_diff(why, &want, &got);
            if (why->len && why->p[why->len - 1] == '\n')
                why->p[--why->len] = '\0';
            rc = CASE_FAIL;
        }
        lines_free(&want);
        lines_free(&got);
        free(want_text);
    }
    proc_result_free(&res);
    free(what.p);
    if (text != sql)
        free(text);
    free(sql);
    return rc;
}

static char *json_canon(const struct sl_json *v)
{
    if (!v)
        return xstrdup("(missing)\n");
    char *t = sl_json_dumps(v, SL_JSON_W_SORTED | SL_JSON_W_PRETTY);
    if (!t)
        return xstrdup("(out of memory)\n");
    struct str s = {0};
    str_adds(&s, t);
    str_adds(&s, "\n");
    sl_free(t);
    return str_take(&s);
}

static int do_expect_state(struct runner *r, const struct section *s, struct str *why)
{
    if (need_pipeline(r, s, why))
        return CASE_FAIL;
    char *want_text = content_text(r, s, 0);
    char *argv[] = {(char *)r->sluice, "pipeline", r->pipeline, "info", "--json", NULL};
    struct proc_result res = {0};
    struct sl_json *want = NULL;
    struct sl_json *info = NULL;
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    int rc = CASE_FAIL;
    if (sl_json_parse_heap(&ctx, want_text, strlen(want_text), &want) != SLUICE_OK) {
        str_addf(why, "line %d: --- expect-state: bad JSON: %s", s->lineno, ctx.message);
        free(want_text);
        return CASE_FAIL;
    }
    struct str what = {0};
    str_addf(&what, "line %d: pipeline %s info --json", s->lineno, r->pipeline);
    if (sluice_cmd(r, argv, what.p, &res, why) != CASE_OK)
        goto done;
    sl_ctx_init(&ctx);
    if (sl_json_parse_heap(&ctx, res.out, strlen(res.out), &info) != SLUICE_OK) {
        str_addf(why, "line %d: info --json printed bad JSON: %s", s->lineno, ctx.message);
        show_output(why, "stdout", res.out);
        goto done;
    }
    const struct sl_json *state = sl_json_get(info, "state");
    const struct sl_json *sources = state ? sl_json_get(state, "sources") : NULL;
    if (sources && sl_json_equal(sources, want)) {
        rc = CASE_OK;
        goto done;
    }
    char *a = json_canon(want);
    char *b = json_canon(sources);
    struct lines la, lb;
    split_lines(a, &la);
    split_lines(b, &lb);
    str_addf(why, "line %d: state.sources differs (- expected, + actual)\n", s->lineno);
    add_diff(why, &la, &lb);
    if (why->len && why->p[why->len - 1] == '\n')
        why->p[--why->len] = '\0';
    lines_free(&la);
    lines_free(&lb);
    free(a);
    free(b);
done:
    if (res.out)
        proc_result_free(&res);
    sl_json_free(info);
    sl_json_free(want);
    free(what.p);
    free(want_text);
    return rc;
}

static int do_env(struct runner *r, const struct section *s, struct str *why)
{
    /* "--- env NAME=VALUE" or one NAME=VALUE per content line; "NAME" alone unsets */
    size_t n = s->nlines + 1;
    for (size_t i = 0; i < n; i++) {
        const char *def = i == 0 ? s->args : s->lines[i - 1];
        if (blank(def))
            continue;
        char *e = expand(r, def);
        char *eq = strchr(e, '=');
        if (eq)
            *eq = '\0';
        if (!e[0] || strspn(e, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
                         != strlen(e)) {
            str_addf(why, "line %d: bad --- env '%s'", s->lineno, def);
            free(e);
            return CASE_FAIL;
        }
        env_set(r, e, eq ? eq + 1 : NULL);
        free(e);
    }
    return CASE_OK;
}

/* ---- one case --------------------------------------------------------------------------- */

/* ---- the REST mock (tests/fixtures/rest_mock.py) ------------------------------------------ */

static void stop_mock(struct runner *r)
{
    if (r->mock_pid > 0) {
        kill(-r->mock_pid, SIGKILL);
        waitpid(r->mock_pid, NULL, 0);
    }
    r->mock_pid = 0;
    free(r->mock_url);
    r->mock_url = NULL;
}

/* --- mock-server ARGS: (re)start the mock in the work dir on a free port; its request log is
 * work/requests.log (kept across restarts); %MOCK_URL and the commands' MOCK_URL variable
 * become http://127.0.0.1:PORT. */
static int do_mock_server(struct runner *r, const struct section *s, struct str *why)
{
    stop_mock(r);
    char *portfile = path_join(r->tmp, "mock.port");
    char *outfile = path_join(r->tmp, "mock.out");
    char *script = path_join(r->fixtures, "rest_mock.py");
    char *log = path_join(r->work, "requests.log");
    char *args = expand(r, s->args);
    struct str cmd = {0};
    str_addf(&cmd, "exec python3 '%s' --port-file '%s' --log '%s' %s", script, portfile, log,
             args);
    unlink(portfile);
    int rc = CASE_OK;
    pid_t pid = fork();
    if (pid < 0) {
        str_addf(why, "line %d: fork: %s", s->lineno, strerror(errno));
        rc = CASE_FAIL;
        goto done;
    }
    if (pid == 0) {
        setpgid(0, 0);
        int in = open("/dev/null", O_RDONLY);
        int out = open(outfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0 || chdir(r->work) != 0)
            _exit(127);
        dup2(in, 0);
        dup2(out, 1);
        dup2(out, 2);
        execl("/bin/sh", "sh", "-c", cmd.p, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    r->mock_pid = pid;
    for (int i = 0; i < 1000; i++) {
        size_t len = 0;
        char *port = read_file(portfile, &len);
        if (port && len > 0) {
            struct str u = {0};
            str_addf(&u, "http://127.0.0.1:%d", atoi(port));
            r->mock_url = str_take(&u);
            env_set(r, "MOCK_URL", r->mock_url);
            free(port);
            goto done;
        }
        free(port);
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            r->mock_pid = 0;
            break;
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    size_t len = 0;
    char *out = read_file(outfile, &len);
    str_addf(why, "line %d: the mock server did not start", s->lineno);
    if (out)
        add_indented(why, "    | ", out, 20);
    free(out);
    stop_mock(r);
    rc = CASE_FAIL;
done:
    free(portfile);
    free(outfile);
    free(script);
    free(log);
    free(args);
    free(cmd.p);
    return rc;
}

/* --- expect-requests: the lines the mock logged since the last expect-requests ("METHOD
 * /path?query" each), exactly and in order. */
static int do_expect_requests(struct runner *r, const struct section *s, struct str *why)
{
    char *log = path_join(r->work, "requests.log");
    size_t len = 0;
    char *text = read_file(log, &len);
    free(log);
    struct lines all, act = {0}, exp = {0};
    split_lines(text ? text : "", &all);
    free(text);
    for (size_t i = r->mock_seen; i < all.n; i++) {
        act.v = xrealloc(act.v, (act.n + 1) * sizeof(char *));
        act.v[act.n++] = xstrdup(all.v[i]);
    }
    for (size_t i = 0; i < s->nlines; i++) {
        exp.v = xrealloc(exp.v, (exp.n + 1) * sizeof(char *));
        exp.v[exp.n++] = expand(r, s->lines[i]);
    }
    r->mock_seen = all.n;
    int rc = CASE_OK;
    if (!lines_equal(&exp, &act)) {
        str_addf(why, "line %d: the requests the mock received differ:\n", s->lineno);
        add_diff(why, &exp, &act);
        rc = CASE_FAIL;
    }
    lines_free(&all);
    lines_free(&act);
    lines_free(&exp);
    return rc;
}

static void runner_cleanup(struct runner *r)
{
    stop_mock(r);
    free(r->tmp);
    free(r->work);
    free(r->pipelines);
    free(r->bindir);
    free(r->path_env);
    for (size_t i = 0; i < r->nenv; i++) {
        free(r->env[i].name);
        free(r->env[i].value);
    }
    free(r->env);
    free(r->pipeline);
    free(r->pg_db);
    free(r->duck_shim);
    free(r->out);
    free(r->errout);
    free(r->cmd);
}

/* Does the run at index i have an --- expect-exit before the next --- run? */
static bool run_has_expect_exit(const struct case_file *c, size_t i)
{
    for (size_t j = i + 1; j < c->nsecs; j++) {
        if (strcmp(c->secs[j].name, "run") == 0)
            return false;
        if (strcmp(c->secs[j].name, "expect-exit") == 0)
            return true;
    }
    return false;
}

static int setup_dirs(struct runner *r, const char *name, struct str *why)
{
    const char *base = getenv("TMPDIR");
    if (!base || !base[0])
        base = "/tmp";
    struct str t = {0};
    str_addf(&t, "%s/sluice-case-%s-XXXXXX", base, name);
    if (!mkdtemp(t.p)) {
        str_addf(why, "mkdtemp %s: %s", t.p, strerror(errno));
        free(t.p);
        return CASE_FAIL;
    }
    r->tmp = str_take(&t);
    r->work = path_join(r->tmp, "work");
    r->pipelines = path_join(r->tmp, "pipelines");
    r->bindir = path_join(r->tmp, "bin");
    if (mkdir(r->work, 0777) != 0 || mkdir(r->pipelines, 0777) != 0 ||
        mkdir(r->bindir, 0777) != 0) {
        str_addf(why, "mkdir in %s: %s", r->tmp, strerror(errno));
        return CASE_FAIL;
    }
    char *link = path_join(r->bindir, "sluice");
    int lr = symlink(r->sluice, link);
    free(link);
    if (lr != 0) {
        str_addf(why, "symlink: %s", strerror(errno));
        return CASE_FAIL;
    }
    const char *path = getenv("PATH");
    struct str p = {0};
    str_adds(&p, r->bindir);
    str_adds(&p, ":");
    str_adds(&p, path && path[0] ? path : "/usr/local/bin:/usr/bin:/bin");
    r->path_env = str_take(&p);
    return CASE_OK;
}

#ifndef SLUICE_DUCKDB_LIB_DEFAULT
#define SLUICE_DUCKDB_LIB_DEFAULT "deps/duckdb/libduckdb.so"
#endif

/* Can the duckdb destination find libduckdb.so ($SLUICE_DUCKDB_LIB, else the deps folder
 * scripts/install-deps fills)? The library's own search on the loader's path is not tried. */
static bool duckdb_available(void)
{
    const char *lib = getenv("SLUICE_DUCKDB_LIB");
    return access(lib && *lib ? lib : SLUICE_DUCKDB_LIB_DEFAULT, R_OK) == 0;
}

static const char *const dest_names[] = {"sqlite", "postgres", "duckdb", NULL};

static bool is_dest_name(const char *s, size_t n)
{
    for (size_t i = 0; dest_names[i]; i++)
        if (strlen(dest_names[i]) == n && strncmp(dest_names[i], s, n) == 0)
            return true;
    return false;
}

/* `--- exclude-dest NAME: REASON`: every one is checked (a missing reason fails the case in
 * every pass); CASE_EXCLUDED with the reason in why when NAME is this run's destination. */
static int check_exclusions(const struct runner *r, const struct case_file *c, struct str *why)
{
    const char *reason = NULL;
    for (size_t i = 0; i < c->nsecs; i++) {
        const struct section *s = &c->secs[i];
        if (strcmp(s->name, "exclude-dest") != 0)
            continue;
        const char *colon = strchr(s->args, ':');
        const char *rs = colon ? colon + 1 : "";
        while (*rs == ' ' || *rs == '\t')
            rs++;
        if (!colon || !is_dest_name(s->args, (size_t)(colon - s->args)) || !*rs ||
            s->nlines) {
            str_addf(why, "line %d: --- exclude-dest needs 'NAME: REASON' on one line (NAME one "
                          "of sqlite, postgres, duckdb; the reason is required)", s->lineno);
            return CASE_FAIL;
        }
        if (strlen(r->dest) == (size_t)(colon - s->args) &&
            strncmp(s->args, r->dest, (size_t)(colon - s->args)) == 0)
            reason = rs;
    }
    if (!reason)
        return CASE_OK;
    str_addf(why, "%s: %s", r->dest, reason);
    return CASE_EXCLUDED;
}

/* psql -c SQL against SLUICE_TEST_PG_DSN's server (the runner's own admin commands). */
static int pg_admin(struct runner *r, const char *sql, struct str *why)
{
    const char *dsn = getenv("SLUICE_TEST_PG_DSN");
    char *argv[] = {"/bin/sh", "-c", "exec psql -X -q -v ON_ERROR_STOP=1 \"$0\" -c \"$1\"",
                    (char *)dsn, (char *)sql, NULL};
    struct proc_result res;
    run_argv(r, argv, true, &res);
    int rc = res.code == 0 ? CASE_OK : CASE_FAIL;
    if (rc != CASE_OK) {
        str_addf(why, "%s: psql exited %d", sql, res.code);
        show_output(why, "stderr", res.err);
    }
    proc_result_free(&res);
    return rc;
}

/* dsn with its database replaced by db (URL or key=value form). Caller frees. */
static char *dsn_with_db(const char *dsn, const char *db)
{
    struct str o = {0};
    const char *scheme = strstr(dsn, "://");
    if (!scheme) {
        str_addf(&o, "%s dbname=%s", dsn, db);
        return str_take(&o);
    }
    const char *auth = scheme + 3;
    size_t alen = strcspn(auth, "/?");
    const char *rest = auth + alen;
    if (*rest == '/')
        rest += strcspn(rest, "?");
    str_add(&o, dsn, (size_t)(auth + alen - dsn));
    str_addf(&o, "/%s%s", db, rest);
    return str_take(&o);
}

/* RUN_CASES_DEST: point every command of the case at that destination. */
static int setup_dest(struct runner *r, struct str *why)
{
    if (strcmp(r->dest, "sqlite") == 0)
        return CASE_OK;
    env_set(r, "DESTINATION__TYPE", r->dest);
    if (strcmp(r->dest, "postgres") != 0)
        return CASE_OK;
    struct str db = {0};
    str_addf(&db, "sluice_case_%ld_%zu", (long)getpid(), r->case_no);
    struct str sql = {0};
    str_addf(&sql, "CREATE DATABASE %s", db.p);
    int rc = pg_admin(r, sql.p, why);
    free(sql.p);
    if (rc != CASE_OK) {
        free(db.p);
        return rc;
    }
    r->pg_db = str_take(&db);
    char *dsn = dsn_with_db(getenv("SLUICE_TEST_PG_DSN"), r->pg_db);
    env_set(r, "DESTINATION__CREDENTIALS", dsn);
    /* the SQLite functions the checking queries use (tests/fixtures/sqlite_shim.postgres.sql) */
    char *shim = path_join(r->fixtures, "sqlite_shim.postgres.sql");
    char *argv[] = {"/bin/sh", "-c", "exec psql -X -q -v ON_ERROR_STOP=1 \"$0\" -f \"$1\"",
                    dsn, shim, NULL};
    struct proc_result res;
    run_argv(r, argv, true, &res);
    if (res.code != 0) {
        str_addf(why, "installing %s: psql exited %d", shim, res.code);
        show_output(why, "stderr", res.err);
        rc = CASE_FAIL;
    }
    proc_result_free(&res);
    free(shim);
    free(dsn);
    return rc;
}

/* Drop the case's database (after a pass; a failing case keeps it, as its dir). */
static void drop_dest(struct runner *r)
{
    if (!r->pg_db)
        return;
    struct str sql = {0}, why = {0};
    str_addf(&sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", r->pg_db);
    if (pg_admin(r, sql.p, &why) != CASE_OK)
        fprintf(stderr, "run_cases: %s\n", why.p);
    free(sql.p);
    free(why.p);
}

static int run_case(struct runner *r, const struct case_file *c, const char *name,
                    struct str *why)
{
    bool test_build = getenv("SLUICE_TEST_BUILD") && strcmp(getenv("SLUICE_TEST_BUILD"), "1") == 0;
    int ex = check_exclusions(r, c, why);
    if (ex != CASE_OK)
        return ex;
    for (size_t i = 0; i < c->nsecs; i++) {
        const struct section *s = &c->secs[i];
        if (strcmp(s->name, "requires") != 0)
            continue;
        if (strcmp(s->args, "fault") == 0) {
            if (!test_build) {
                str_adds(why, "needs fault injection (SLUICE_TEST_BUILD=1)");
                return CASE_SKIP;
            }
        } else if (strcmp(s->args, "duckdb") == 0) {
            if (!duckdb_available()) {
                const char *must = getenv("SLUICE_TEST_DUCKDB_REQUIRED");
                str_adds(why, "needs libduckdb.so (sh scripts/install-deps fetches it)");
                return must && strcmp(must, "1") == 0 ? CASE_FAIL : CASE_SKIP;
            }
        } else if (strncmp(s->args, "env ", 4) == 0 && s->args[4]) {
            const char *v = getenv(s->args + 4);
            if (!v || !v[0]) {
                str_addf(why, "needs %s (not set)", s->args + 4);
                return CASE_SKIP;
            }
        } else {
            str_addf(why, "line %d: unknown requirement '%s'", s->lineno, s->args);
            return CASE_FAIL;
        }
    }
    if (setup_dirs(r, name, why) != CASE_OK)
        return CASE_FAIL;
    if (setup_dest(r, why) != CASE_OK)
        return CASE_FAIL;
    for (size_t i = 0; i < c->nsecs; i++) {
        const struct section *s = &c->secs[i];
        int rc = CASE_OK;
        if (strcmp(s->name, "pipeline") == 0) {
            if (!s->args[0]) {
                str_addf(why, "line %d: --- pipeline needs a NAME", s->lineno);
                return CASE_FAIL;
            }
            free(r->pipeline);
            r->pipeline = xstrdup(s->args);
        } else if (strcmp(s->name, "file") == 0) {
            rc = do_file(r, s, false, why);
        } else if (strcmp(s->name, "file-gz") == 0) {
            rc = do_file(r, s, true, why);
        } else if (strcmp(s->name, "copy") == 0) {
            rc = do_copy(r, s, why);
        } else if (strcmp(s->name, "run") == 0) {
            rc = do_run(r, s, !run_has_expect_exit(c, i), why);
        } else if (strcmp(s->name, "expect-exit") == 0) {
            rc = do_expect_exit(r, s, why);
        } else if (strcmp(s->name, "expect-stderr") == 0) {
            rc = do_expect_text(r, s, true, why);
        } else if (strcmp(s->name, "expect-stdout") == 0) {
            rc = do_expect_text(r, s, false, why);
        } else if (strcmp(s->name, "expect-sql") == 0) {
            rc = do_expect_sql(r, s, why);
        } else if (strcmp(s->name, "expect-state") == 0) {
            rc = do_expect_state(r, s, why);
        } else if (strcmp(s->name, "env") == 0) {
            rc = do_env(r, s, why);
        } else if (strcmp(s->name, "mock-server") == 0) {
            rc = do_mock_server(r, s, why);
        } else if (strcmp(s->name, "expect-requests") == 0) {
            rc = do_expect_requests(r, s, why);
        }
        if (rc != CASE_OK)
            return rc;
    }
    return CASE_OK;
}

/* ---- main ------------------------------------------------------------------------------- */

struct ctx_main {
    const char *sluice, *fixtures, *cases_dir, *dest;
    int timeout;
    bool keep;
};

/* Run one case and print its result lines; returns CASE_*. */
static int run_one(const struct ctx_main *m, const char *name, size_t case_no)
{
    struct str file = {0};
    str_addf(&file, "%s/%s.case", m->cases_dir, name);
    struct case_file c;
    struct str why = {0};
    str_add(&why, "", 0);
    struct runner r;
    memset(&r, 0, sizeof(r));
    r.sluice = m->sluice;
    r.fixtures = m->fixtures;
    r.timeout = m->timeout;
    r.dest = m->dest;
    r.case_no = case_no;
    int rc;
    if (case_parse(file.p, &c, &why) != 0)
        rc = CASE_FAIL;
    else
        rc = run_case(&r, &c, name, &why);
    if (rc == CASE_OK) {
        printf("ok %s\n", name);
    } else if (rc == CASE_SKIP) {
        printf("skip %s: %s\n", name, why.p);
    } else if (rc == CASE_EXCLUDED) {
        printf("excluded %s: %s\n", name, why.p);
    } else {
        printf("FAIL %s: %s\n", name, why.p);
        if (c.title)
            printf("    case: %s\n", c.title);
        if (r.tmp)
            printf("    kept: %s\n", r.tmp);
        if (r.pg_db)
            printf("    kept database: %s\n", r.pg_db);
    }
    fflush(stdout);
    if (rc != CASE_FAIL && !m->keep)
        drop_dest(&r);
    if (r.tmp && rc != CASE_FAIL && !m->keep)
        remove_tree(r.tmp);
    else if (r.tmp && m->keep && rc == CASE_OK)
        printf("    kept: %s\n", r.tmp);
    runner_cleanup(&r);
    case_free(&c);
    free(why.p);
    free(file.p);
    return rc;
}

/* RUN_CASES_JOBS=N: each case in a child whose stdout goes to a file; the files are printed in
 * name order as soon as every case before them has finished. */
static void results_parallel(const struct ctx_main *m, char **names, size_t nnames,
                             const char *filter, int jobs, int *results)
{
    const char *base = getenv("TMPDIR");
    struct str d = {0};
    str_addf(&d, "%s/sluice-cases-out-XXXXXX", base && base[0] ? base : "/tmp");
    if (!mkdtemp(d.p)) {
        fprintf(stderr, "run_cases: mkdtemp %s: %s\n", d.p, strerror(errno));
        exit(2);
    }
    pid_t *pids = xmalloc((nnames ? nnames : 1) * sizeof(pid_t));
    bool *done = xmalloc((nnames ? nnames : 1) * sizeof(bool));
    size_t next = 0, printed = 0;
    int running = 0;
    for (size_t i = 0; i < nnames; i++) {
        pids[i] = 0;
        done[i] = false;
        results[i] = -1;
    }
    for (;;) {
        while (next < nnames && filter && !strstr(names[next], filter))
            done[next++] = true;
        if (next < nnames && running < jobs) {
            struct str out = {0};
            str_addf(&out, "%s/%zu", d.p, next);
            fflush(stdout);
            pid_t pid = fork();
            if (pid == 0) {
                int fd = open(out.p, O_WRONLY | O_CREAT | O_TRUNC, 0666);
                if (fd < 0 || dup2(fd, 1) < 0)
                    _exit(CASE_FAIL);
                close(fd);
                int rc = run_one(m, names[next], next);
                fflush(stdout);
                _exit(rc);
            }
            free(out.p);
            if (pid < 0) {
                fprintf(stderr, "run_cases: fork: %s\n", strerror(errno));
                exit(2);
            }
            pids[next++] = pid;
            running++;
            continue;
        }
        if (running == 0)
            break;
        int status;
        pid_t w = waitpid(-1, &status, 0);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (size_t i = 0; i < next; i++) {
            if (pids[i] != w)
                continue;
            running--;
            done[i] = true;
            results[i] = WIFEXITED(status) && WEXITSTATUS(status) <= CASE_EXCLUDED
                             ? WEXITSTATUS(status) : CASE_FAIL;
        }
        for (; printed < nnames && done[printed]; printed++) {
            if (results[printed] < 0)
                continue;
            struct str out = {0};
            str_addf(&out, "%s/%zu", d.p, printed);
            char *text = read_file(out.p, NULL);
            fputs(text ? text : "", stdout);
            if (results[printed] == CASE_FAIL && (!text || !strstr(text, names[printed])))
                printf("FAIL %s: the runner's child died\n", names[printed]);
            fflush(stdout);
            free(text);
            unlink(out.p);
            free(out.p);
        }
    }
    rmdir(d.p);
    free(d.p);
    free(pids);
    free(done);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: run_cases SLUICE_BIN CASES_DIR [filter]\n");
        return 2;
    }
    verbose = getenv("RUN_CASES_VERBOSE") && getenv("RUN_CASES_VERBOSE")[0] == '1';
    const char *dest = getenv("RUN_CASES_DEST");
    if (!dest || !dest[0])
        dest = "sqlite";
    if (!is_dest_name(dest, strlen(dest))) {
        fprintf(stderr, "run_cases: RUN_CASES_DEST=%s: not one of sqlite, postgres, duckdb\n", dest);
        return 2;
    }
    if (strcmp(dest, "postgres") == 0 &&
        (!getenv("SLUICE_TEST_PG_DSN") || !getenv("SLUICE_TEST_PG_DSN")[0])) {
        fprintf(stderr, "run_cases: RUN_CASES_DEST=postgres needs SLUICE_TEST_PG_DSN "
                        "(eval \"$(sh scripts/pg-start --env)\")\n");
        return 2;
    }
    bool keep = getenv("RUN_CASES_KEEP") && getenv("RUN_CASES_KEEP")[0] == '1';
    int timeout = 300;
    if (getenv("RUN_CASES_TIMEOUT")) {
        long t = strtol(getenv("RUN_CASES_TIMEOUT"), NULL, 10);
        if (t > 0 && t < 100000)
            timeout = (int)t;
    }
    char *sluice = abs_path(argv[1]);
    if (!sluice || access(sluice, X_OK) != 0) {
        fprintf(stderr, "run_cases: %s is not an executable\n", argv[1]);
        return 2;
    }
    char *cases_dir = abs_path(argv[2]);
    DIR *dir = cases_dir ? opendir(cases_dir) : NULL;
    if (!dir) {
        fprintf(stderr, "run_cases: cannot open %s\n", argv[2]);
        return 2;
    }
    const char *filter = argc == 4 ? argv[3] : NULL;
    char *fixtures_rel = path_join(cases_dir, "../fixtures");
    char *fixtures = abs_path(fixtures_rel);
    if (!fixtures)
        fixtures = xstrdup(fixtures_rel);
    free(fixtures_rel);

    char **names = NULL;
    size_t nnames = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n <= 5 || strcmp(de->d_name + n - 5, ".case") != 0)
            continue;
        names = xrealloc(names, (nnames + 1) * sizeof(char *));
        names[nnames++] = xstrndup(de->d_name, n - 5);
    }
    closedir(dir);
    if (nnames > 1)
        qsort(names, nnames, sizeof(char *), cmp_names);

    long jobs = getenv("RUN_CASES_JOBS") ? strtol(getenv("RUN_CASES_JOBS"), NULL, 10) : 1;
    if (jobs < 1 || jobs > 64)
        jobs = 1;
    struct ctx_main m = {sluice, fixtures, cases_dir, dest, timeout, keep};
    int *results = xmalloc((nnames ? nnames : 1) * sizeof(int));
    int passed = 0, failed = 0, skipped = 0, excluded = 0;
    if (jobs == 1) {
        for (size_t i = 0; i < nnames; i++)
            results[i] = filter && !strstr(names[i], filter) ? -1 : run_one(&m, names[i], i);
    } else {
        results_parallel(&m, names, nnames, filter, (int)jobs, results);
    }
    for (size_t i = 0; i < nnames; i++) {
        if (results[i] == CASE_OK)
            passed++;
        else if (results[i] == CASE_SKIP)
            skipped++;
        else if (results[i] == CASE_EXCLUDED)
            excluded++;
        else if (results[i] >= 0)
            failed++;
    }
    free(results);
    printf("cases: %d passed, %d failed, %d skipped, %d excluded (destination %s)\n", passed,
           failed, skipped, excluded, dest);
    for (size_t i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    free(sluice);
    free(cases_dir);
    free(fixtures);
    return failed ? 1 : 0;
}
