/*
 * floor.c - the "floor program": the fastest honest loader for exactly one item shape.
 *
 * It loads the JSON lines written by gen_items into SQLite with dlt's relational layout, and
 * nothing else: no schema inference, no config, no load packages, no state. Whatever time it
 * takes is the floor that sluice is measured against (PERF.md quotes ~380 k items/s for a
 * similar floor). The file is read in 64 KiB chunks and fed to yajl's streaming callback
 * parser, so memory stays flat whatever the file size. Values are bound to two prepared
 * INSERTs straight from the callbacks; everything goes into ONE transaction, with the tables
 * created before it and SQLite's default journal settings.
 *
 * Rows written, matching what sluice (like dlt) writes for this shape:
 *
 *   items(id BIGINT, created_at TIMESTAMP, user__name TEXT, user__country TEXT,
 *         amount DOUBLE, page BIGINT, _dlt_load_id TEXT, _dlt_id TEXT)
 *   items__tags(value TEXT, _dlt_parent_id TEXT, _dlt_list_idx BIGINT, _dlt_id TEXT)
 *
 * created_at is stored as the text given. _dlt_load_id is the start time as "secs.micros"
 * (dlt's str(time.time())). A parent _dlt_id is 10 pseudo-random bytes from a fixed-seed
 * xoshiro256** generator, base64-encoded without padding (14 chars; dlt uses 10 random bytes
 * and the standard alphabet too). A child _dlt_id is, by default (--digest), what dlt
 * computes: base64 (standard alphabet, no padding) of the first 10 bytes of SHAKE-128 over
 * "<parent _dlt_id>_items__tags_<idx>", via OpenSSL EVP. --no-digest replaces that with a
 * cheap mix of the parent's random bytes and the index, to show what the digest costs.
 *
 * Fields missing from an item are stored as NULL, unknown keys and deeper nesting are
 * ignored; this program is a yardstick, not a general loader.
 *
 * Usage: floor [--digest | --no-digest] file.jsonl out.db
 * Prints: floor: <items> items, <rows> rows, <seconds> s, <items/s> items/s
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <sqlite3.h>
#include <yajl/yajl_parse.h>

#define FLOOR_CHUNK (64 * 1024)
#define FLOOR_ID_BYTES 10 /* dlt's DLT_ID_LENGTH_BYTES */
#define FLOOR_ID_CHARS 14 /* base64 of 10 bytes, padding stripped */
#define FLOOR_CHILD_TABLE "items__tags"

/* Keys we care about; everything else maps to KEY_OTHER and is skipped. */
enum floor_key {
    KEY_OTHER,
    KEY_ID,
    KEY_CREATED_AT,
    KEY_USER,
    KEY_TAGS,
    KEY_AMOUNT,
    KEY_PAGE,
    KEY_NAME,
    KEY_COUNTRY,
};

/* Parameter numbers of the parent INSERT (the column order of the items table). */
enum {
    P_ID = 1,
    P_CREATED_AT,
    P_USER_NAME,
    P_USER_COUNTRY,
    P_AMOUNT,
    P_PAGE,
    P_LOAD_ID,
    P_DLT_ID,
};

struct floor_ctx {
    sqlite3 *db;
    sqlite3_stmt *ins_item;
    sqlite3_stmt *ins_tag;
    EVP_MD *shake; /* fetched once: implicit fetches per digest are slow in OpenSSL 3 */
    EVP_MD_CTX *md_ctx;
    int use_digest;

    int depth;             /* open maps + arrays; the item itself is depth 1 */
    enum floor_key key1;   /* last key seen at depth 1 */
    enum floor_key key2;   /* last key seen inside "user" */
    int in_user;           /* inside the "user" map (depth 2) */
    int in_tags;           /* inside the "tags" array (depth 2) */
    int64_t tag_idx;

    uint64_t rng[4]; /* xoshiro256** state */
    unsigned char item_raw[16];
    char item_id[FLOOR_ID_CHARS + 1];
    char child_id[FLOOR_ID_CHARS + 1];
    char load_id[32];

    int64_t items;
    int64_t rows;
    char err[256]; /* first error wins */
};

/* ---- helpers -------------------------------------------------------------------------- */

static int fail(struct floor_ctx *c, const char *what, const char *detail)
{
    if (c->err[0] == '\0') {
        snprintf(c->err, sizeof(c->err), "%s: %s", what, detail);
    }
    return 0; /* yajl: 0 cancels the parse */
}

static int fail_sqlite(struct floor_ctx *c, const char *what)
{
    return fail(c, what, sqlite3_errmsg(c->db));
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman, Vigna): a fast PRNG, standing in for dlt's secrets.token_bytes. */
static uint64_t next_u64(uint64_t s[4])
{
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static uint64_t splitmix64(uint64_t *x)
{
    *x += UINT64_C(0x9E3779B97F4A7C15);
    uint64_t z = *x;
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Standard base64 of exactly 10 bytes, padding stripped: 14 chars plus NUL. */
static void b64_id(const unsigned char in[FLOOR_ID_BYTES], char out[FLOOR_ID_CHARS + 1])
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *o = out;
    for (int i = 0; i < 9; i += 3) {
        uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
        *o++ = tab[(v >> 18) & 63];
        *o++ = tab[(v >> 12) & 63];
        *o++ = tab[(v >> 6) & 63];
        *o++ = tab[v & 63];
    }
    *o++ = tab[in[9] >> 2];
    *o++ = tab[(in[9] & 3) << 4];
    *o = '\0';
}

/* Unsigned decimal without sprintf; returns the length written (no NUL). */
static size_t u64_dec(uint64_t v, char *out)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++) {
        out[i] = tmp[n - 1 - i];
    }
    return n;
}

static enum floor_key match_key(const unsigned char *k, size_t n)
{
#define KEY_IS(lit) (n == sizeof(lit) - 1 && memcmp(k, lit, n) == 0)
    if (KEY_IS("id")) {
        return KEY_ID;
    }
    if (KEY_IS("created_at")) {
        return KEY_CREATED_AT;
    }
    if (KEY_IS("user")) {
        return KEY_USER;
    }
    if (KEY_IS("tags")) {
        return KEY_TAGS;
    }
    if (KEY_IS("amount")) {
        return KEY_AMOUNT;
    }
    if (KEY_IS("page")) {
        return KEY_PAGE;
    }
    if (KEY_IS("name")) {
        return KEY_NAME;
    }
    if (KEY_IS("country")) {
        return KEY_COUNTRY;
    }
    return KEY_OTHER;
#undef KEY_IS
}

/* Fills c->child_id for list index idx of the current item. */
static int make_child_id(struct floor_ctx *c, int64_t idx)
{
    unsigned char raw[16];
    if (c->use_digest) {
        /* dlt: digest128(f"{parent_row_id}_{child_table}_{list_idx}", 10) */
        char in[FLOOR_ID_CHARS + sizeof("_" FLOOR_CHILD_TABLE "_") + 20];
        size_t n = 0;
        memcpy(in, c->item_id, FLOOR_ID_CHARS);
        n += FLOOR_ID_CHARS;
        memcpy(in + n, "_" FLOOR_CHILD_TABLE "_", sizeof("_" FLOOR_CHILD_TABLE "_") - 1);
        n += sizeof("_" FLOOR_CHILD_TABLE "_") - 1;
        n += u64_dec((uint64_t)idx, in + n);
        if (EVP_DigestInit_ex2(c->md_ctx, c->shake, NULL) != 1 ||
            EVP_DigestUpdate(c->md_ctx, in, n) != 1 ||
            EVP_DigestFinalXOF(c->md_ctx, raw, FLOOR_ID_BYTES) != 1) {
            return fail(c, "shake128", "EVP digest failed");
        }
    } else {
        uint64_t x = 0;
        memcpy(&x, c->item_raw, sizeof(x));
        x ^= (uint64_t)idx * UINT64_C(0xD6E8FEB86659FD93);
        uint64_t a = splitmix64(&x);
        uint64_t b = splitmix64(&x);
        memcpy(raw, &a, 8);
        memcpy(raw + 8, &b, 8);
    }
    b64_id(raw, c->child_id);
    return 1;
}

/* ---- yajl callbacks (return 1 to go on, 0 to cancel) ------------------------------------ */

static int on_start_map(void *ctx)
{
    struct floor_ctx *c = ctx;
    c->depth++;
    if (c->depth == 1) {
        /* A new item: fresh bindings (missing fields stay NULL) and a fresh _dlt_id. */
        uint64_t a = next_u64(c->rng);
        uint64_t b = next_u64(c->rng);
        memcpy(c->item_raw, &a, 8);
        memcpy(c->item_raw + 8, &b, 8);
        b64_id(c->item_raw, c->item_id);
        c->key1 = KEY_OTHER;
        sqlite3_clear_bindings(c->ins_item);
        if (sqlite3_bind_text(c->ins_item, P_LOAD_ID, c->load_id, -1, SQLITE_STATIC) !=
                SQLITE_OK ||
            sqlite3_bind_text(c->ins_item, P_DLT_ID, c->item_id, FLOOR_ID_CHARS,
                              SQLITE_STATIC) != SQLITE_OK) {
            return fail_sqlite(c, "bind");
        }
    } else if (c->depth == 2 && c->key1 == KEY_USER) {
        c->in_user = 1;
        c->key2 = KEY_OTHER;
    }
    return 1;
}

static int on_map_key(void *ctx, const unsigned char *key, size_t len)
{
    struct floor_ctx *c = ctx;
    if (c->depth == 1) {
        c->key1 = match_key(key, len);
    } else if (c->depth == 2 && c->in_user) {
        c->key2 = match_key(key, len);
    }
    return 1;
}

static int on_end_map(void *ctx)
{
    struct floor_ctx *c = ctx;
    if (c->depth == 1) {
        if (sqlite3_step(c->ins_item) != SQLITE_DONE) {
            return fail_sqlite(c, "insert items");
        }
        sqlite3_reset(c->ins_item);
        c->items++;
        c->rows++;
    } else if (c->depth == 2) {
        c->in_user = 0;
    }
    c->depth--;
    return 1;
}

static int on_start_array(void *ctx)
{
    struct floor_ctx *c = ctx;
    c->depth++;
    if (c->depth == 2 && c->key1 == KEY_TAGS) {
        c->in_tags = 1;
        c->tag_idx = 0;
    }
    return 1;
}

static int on_end_array(void *ctx)
{
    struct floor_ctx *c = ctx;
    if (c->depth == 2) {
        c->in_tags = 0;
    }
    c->depth--;
    return 1;
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    struct floor_ctx *c = ctx;
    int param = 0;
    if (c->depth == 2 && c->in_tags) {
        /* A child row, inserted at once: yajl's string is valid for this call only, which is
         * exactly as long as SQLITE_STATIC needs it. */
        if (!make_child_id(c, c->tag_idx)) {
            return 0;
        }
        sqlite3_stmt *st = c->ins_tag;
        if (sqlite3_bind_text(st, 1, (const char *)s, (int)len, SQLITE_STATIC) != SQLITE_OK ||
            sqlite3_bind_text(st, 2, c->item_id, FLOOR_ID_CHARS, SQLITE_STATIC) != SQLITE_OK ||
            sqlite3_bind_int64(st, 3, c->tag_idx) != SQLITE_OK ||
            sqlite3_bind_text(st, 4, c->child_id, FLOOR_ID_CHARS, SQLITE_STATIC) !=
                SQLITE_OK) {
            return fail_sqlite(c, "bind");
        }
        if (sqlite3_step(st) != SQLITE_DONE) {
            return fail_sqlite(c, "insert items__tags");
        }
        sqlite3_reset(st);
        c->tag_idx++;
        c->rows++;
        return 1;
    }
    if (c->depth == 1 && c->key1 == KEY_CREATED_AT) {
        param = P_CREATED_AT;
    } else if (c->depth == 2 && c->in_user && c->key2 == KEY_NAME) {
        param = P_USER_NAME;
    } else if (c->depth == 2 && c->in_user && c->key2 == KEY_COUNTRY) {
        param = P_USER_COUNTRY;
    }
    if (param != 0) {
        if (len > (size_t)INT32_MAX) {
            return fail(c, "item", "string too long");
        }
        /* The parent row is stepped at the end of the item: SQLite must copy. */
        if (sqlite3_bind_text(c->ins_item, param, (const char *)s, (int)len,
                              SQLITE_TRANSIENT) != SQLITE_OK) {
            return fail_sqlite(c, "bind");
        }
    }
    return 1;
}

static int on_integer(void *ctx, long long v)
{
    struct floor_ctx *c = ctx;
    int rc = SQLITE_OK;
    if (c->depth != 1) {
        return 1;
    }
    if (c->key1 == KEY_ID) {
        rc = sqlite3_bind_int64(c->ins_item, P_ID, v);
    } else if (c->key1 == KEY_PAGE) {
        rc = sqlite3_bind_int64(c->ins_item, P_PAGE, v);
    } else if (c->key1 == KEY_AMOUNT) {
        rc = sqlite3_bind_double(c->ins_item, P_AMOUNT, (double)v);
    }
    return rc == SQLITE_OK ? 1 : fail_sqlite(c, "bind");
}

static int on_double(void *ctx, double v)
{
    struct floor_ctx *c = ctx;
    if (c->depth == 1 && c->key1 == KEY_AMOUNT &&
        sqlite3_bind_double(c->ins_item, P_AMOUNT, v) != SQLITE_OK) {
        return fail_sqlite(c, "bind");
    }
    return 1;
}

static const yajl_callbacks floor_callbacks = {
    .yajl_null = NULL,
    .yajl_boolean = NULL,
    .yajl_integer = on_integer,
    .yajl_double = on_double,
    .yajl_number = NULL,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end_map,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end_array,
};

/* ---- setup and main --------------------------------------------------------------------- */

static const char floor_ddl[] =
    "CREATE TABLE items (id BIGINT, created_at TIMESTAMP, user__name TEXT, "
    "user__country TEXT, amount DOUBLE, page BIGINT, _dlt_load_id TEXT NOT NULL, "
    "_dlt_id TEXT NOT NULL);"
    "CREATE TABLE items__tags (value TEXT, _dlt_parent_id TEXT NOT NULL, "
    "_dlt_list_idx BIGINT NOT NULL, _dlt_id TEXT NOT NULL);";

static const char floor_ins_item[] =
    "INSERT INTO items (id, created_at, user__name, user__country, amount, page, "
    "_dlt_load_id, _dlt_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

static const char floor_ins_tag[] =
    "INSERT INTO items__tags (value, _dlt_parent_id, _dlt_list_idx, _dlt_id) "
    "VALUES (?1, ?2, ?3, ?4)";

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void)
{
    fprintf(stderr, "usage: floor [--digest | --no-digest] file.jsonl out.db\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct floor_ctx c;
    memset(&c, 0, sizeof(c));
    c.use_digest = 1;

    const char *paths[2] = {NULL, NULL};
    int npaths = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--digest") == 0) {
            c.use_digest = 1;
        } else if (strcmp(argv[i], "--no-digest") == 0) {
            c.use_digest = 0;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return usage();
        } else if (npaths < 2) {
            paths[npaths++] = argv[i];
        } else {
            return usage();
        }
    }
    if (npaths != 2) {
        return usage();
    }

    int rc = 1;
    FILE *in = NULL;
    yajl_handle parser = NULL;
    static unsigned char buf[FLOOR_CHUNK];
    double t0 = now_mono();

    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    snprintf(c.load_id, sizeof(c.load_id), "%lld.%06ld", (long long)wall.tv_sec,
             wall.tv_nsec / 1000);
    uint64_t seed = UINT64_C(0x5EED5EED5EED5EED);
    for (int i = 0; i < 4; i++) {
        c.rng[i] = splitmix64(&seed);
    }

    in = fopen(paths[0], "rb");
    if (in == NULL) {
        fail(&c, paths[0], "cannot open");
        goto done;
    }
    if (c.use_digest) {
        c.shake = EVP_MD_fetch(NULL, "SHAKE128", NULL);
        c.md_ctx = EVP_MD_CTX_new();
        if (c.shake == NULL || c.md_ctx == NULL) {
            fail(&c, "openssl", "cannot set up SHAKE128");
            goto done;
        }
    }
    if (sqlite3_open(paths[1], &c.db) != SQLITE_OK) {
        fail_sqlite(&c, "open");
        goto done;
    }
    if (sqlite3_exec(c.db, floor_ddl, NULL, NULL, NULL) != SQLITE_OK) {
        fail_sqlite(&c, "create tables (is the database fresh?)");
        goto done;
    }
    if (sqlite3_prepare_v2(c.db, floor_ins_item, -1, &c.ins_item, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c.db, floor_ins_tag, -1, &c.ins_tag, NULL) != SQLITE_OK) {
        fail_sqlite(&c, "prepare");
        goto done;
    }
    if (sqlite3_exec(c.db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        fail_sqlite(&c, "begin");
        goto done;
    }

    parser = yajl_alloc(&floor_callbacks, NULL, &c);
    if (parser == NULL) {
        fail(&c, "yajl", "out of memory");
        goto done;
    }
    yajl_config(parser, yajl_allow_multiple_values, 1); /* JSON lines: one value per line */

    for (;;) {
        size_t n = fread(buf, 1, sizeof(buf), in);
        yajl_status st = yajl_status_ok;
        if (n > 0) {
            st = yajl_parse(parser, buf, n);
        } else if (ferror(in)) {
            fail(&c, paths[0], "read error");
            goto done;
        } else {
            st = yajl_complete_parse(parser);
        }
        if (st != yajl_status_ok) {
            if (c.err[0] == '\0') {
                unsigned char *msg = yajl_get_error(parser, 0, NULL, 0);
                fail(&c, "json", (const char *)msg);
                yajl_free_error(parser, msg);
            }
            goto done;
        }
        if (n == 0) {
            break;
        }
    }

    if (sqlite3_exec(c.db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        fail_sqlite(&c, "commit");
        goto done;
    }
    rc = 0;

done:
    if (parser != NULL) {
        yajl_free(parser);
    }
    if (in != NULL) {
        fclose(in);
    }
    sqlite3_finalize(c.ins_item);
    sqlite3_finalize(c.ins_tag);
    if (sqlite3_close(c.db) != SQLITE_OK && rc == 0) {
        fail_sqlite(&c, "close");
        rc = 1;
    }
    EVP_MD_CTX_free(c.md_ctx);
    EVP_MD_free(c.shake);

    if (rc == 0) {
        double secs = now_mono() - t0;
        printf("floor: %" PRId64 " items, %" PRId64 " rows, %.3f s, %.0f items/s\n", c.items,
               c.rows, secs, secs > 0 ? (double)c.items / secs : 0.0);
    } else {
        fprintf(stderr, "floor: %s\n", c.err[0] != '\0' ? c.err : "failed");
    }
    return rc;
}
