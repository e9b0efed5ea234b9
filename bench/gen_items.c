/*
 * gen_items.c - deterministic JSON-lines generator for the sluice benchmarks.
 *
 * Writes N items, one JSON object per line, to stdout, shaped like the dataset in
 * PERF.md (~156 bytes per item):
 *
 *   {"id": 1, "created_at": "2024-01-01T00:00:00Z", "user": {"name": "Anna Schmidt",
 *    "country": "DE"}, "tags": ["new", "sale"], "amount": 42.17, "page": 1}
 *
 * ids run 1..N; created_at starts at 2024-01-01T00:00:00Z and grows by 1..60 seconds per
 * item (strictly increasing with id); tags hold 0-4 short strings; amount is a number with
 * exactly two decimals (printed from integer cents, so no floating-point formatting is
 * involved); page is the 1-based page of 1000 items the item would sit on in a paginated API.
 * Everything comes from a fixed-seed xorshift64* generator (never rand()), so the same N
 * always gives byte-identical output on every platform. Vocabulary strings are plain ASCII
 * plus a few UTF-8 names and need no JSON escaping.
 *
 * Usage: gen_items N > file.jsonl
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEN_SEED UINT64_C(0x9E3779B97F4A7C15)
#define GEN_PAGE_SIZE 1000
#define GEN_EPOCH_2024 INT64_C(1704067200) /* 2024-01-01T00:00:00Z */
#define GEN_LINE_MAX 512

static const char *const first_names[] = {
    "Anna", "Ben", "Clara", "David", "Emma", "Finn", "Greta", "Ida", "Jonas", "Lena",
    "Leo", "Marie", "Noah", "Paul", "Mia", "Tim", "Zo\xc3\xab", "J\xc3\xb6rg",
};
static const char *const last_names[] = {
    "Schmidt", "Meyer", "Wagner", "Becker", "Lang", "Schulz", "Koch", "Braun",
    "Klein", "Wolf", "Roth", "Vogel", "M\xc3\xbcller", "P\xc3\xa9rez", "Dubois", "Rossi",
};
static const char *const countries[] = {
    "DE", "AT", "CH", "FR", "IT", "ES", "NL", "PL", "US", "GB",
};
static const char *const tag_words[] = {
    "new", "sale", "vip", "promo", "gift", "bulk", "web", "app", "b2b", "eu",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* xorshift64* (Vigna): fast, tiny and good enough for test data. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

/* Uniform-enough pick in [0, n) from the high bits; n is tiny so the bias is negligible. */
static uint64_t pick(uint64_t *s, uint64_t n)
{
    return (next_u64(s) >> 32) % n;
}

/*
 * Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's civil_from_days).
 * Done by hand instead of gmtime_r so the output never depends on the C library or TZ.
 */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Parses a positive decimal count with strtoll (atoi is banned: it cannot report errors). */
static int parse_count(const char *s, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0) {
        return -1;
    }
    *out = (int64_t)v;
    return 0;
}

int main(int argc, char **argv)
{
    int64_t n = 0;
    int64_t first_id = 1;
    if (argc < 2 || argc > 3 || parse_count(argv[1], &n) != 0 ||
        (argc == 3 && parse_count(argv[2], &first_id) != 0) || first_id < 1) {
        fprintf(stderr, "usage: gen_items N [FIRST_ID] > file.jsonl\n");
        return 2;
    }

    static char out[1 << 20];
    if (setvbuf(stdout, out, _IOFBF, sizeof(out)) != 0) {
        fprintf(stderr, "gen_items: setvbuf failed\n");
        return 1;
    }

    uint64_t rng = GEN_SEED;
    int64_t ts = GEN_EPOCH_2024;
    char line[GEN_LINE_MAX];

    /* ids FIRST..FIRST+N-1; the items before FIRST are generated and not printed, so item k
     * is the same whatever range it is printed in */
    for (int64_t id = 1; id < first_id + n; id++) {
        if (id > 1) {
            ts += 1 + (int64_t)pick(&rng, 60);
        }
        int64_t days = ts / 86400;
        int64_t secs = ts % 86400;
        int64_t year = 0;
        unsigned month = 0;
        unsigned day = 0;
        civil_from_days(days, &year, &month, &day);

        const char *first = first_names[pick(&rng, COUNT(first_names))];
        const char *last = last_names[pick(&rng, COUNT(last_names))];
        const char *country = countries[pick(&rng, COUNT(countries))];
        uint64_t ntags = pick(&rng, 5);
        uint64_t cents = pick(&rng, 100000);
        int64_t page = (id - 1) / GEN_PAGE_SIZE + 1;

        size_t len = 0;
        int w = snprintf(line, sizeof(line),
                         "{\"id\": %" PRId64 ", \"created_at\": \"%04" PRId64
                         "-%02u-%02uT%02d:%02d:%02dZ\", \"user\": {\"name\": \"%s %s\", "
                         "\"country\": \"%s\"}, \"tags\": [",
                         id, year, month, day, (int)(secs / 3600), (int)(secs / 60 % 60),
                         (int)(secs % 60), first, last, country);
        if (w < 0 || (size_t)w >= sizeof(line)) {
            goto overflow;
        }
        len = (size_t)w;

        for (uint64_t t = 0; t < ntags; t++) {
            const char *tag = tag_words[pick(&rng, COUNT(tag_words))];
            w = snprintf(line + len, sizeof(line) - len, "%s\"%s\"", t > 0 ? ", " : "", tag);
            if (w < 0 || (size_t)w >= sizeof(line) - len) {
                goto overflow;
            }
            len += (size_t)w;
        }

        w = snprintf(line + len, sizeof(line) - len,
                     "], \"amount\": %" PRIu64 ".%02u, \"page\": %" PRId64 "}\n", cents / 100,
                     (unsigned)(cents % 100), page);
        if (w < 0 || (size_t)w >= sizeof(line) - len) {
            goto overflow;
        }
        len += (size_t)w;

        if (id < first_id)
            continue;
        if (fwrite(line, 1, len, stdout) != len) {
            fprintf(stderr, "gen_items: write failed\n");
            return 1;
        }
    }

    if (fflush(stdout) != 0) {
        fprintf(stderr, "gen_items: write failed\n");
        return 1;
    }
    return 0;

overflow:
    /* Cannot happen with the fixed vocabulary; kept so a vocabulary edit fails loudly. */
    fprintf(stderr, "gen_items: line buffer too small\n");
    return 1;
}
