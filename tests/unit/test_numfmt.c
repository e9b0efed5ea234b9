/* test_numfmt.c — sl_fmt_double: short decimals that read back as the same double. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "base/numfmt.h"
#include "test.h"

static const char *fmt(double v)
{
    static char out[SL_FMT_DOUBLE_MAX];
    size_t n = sl_fmt_double(out, v);
    CHECK_EQ_INT(n, strlen(out));
    return out;
}

TEST(numfmt_short_decimals)
{
    CHECK_EQ_STR(fmt(298.93), "298.93");
    CHECK_EQ_STR(fmt(-695.52), "-695.52");
    CHECK_EQ_STR(fmt(1), "1");
    CHECK_EQ_STR(fmt(-42), "-42");
    CHECK_EQ_STR(fmt(0.5), "0.5");
    CHECK_EQ_STR(fmt(0.1), "0.1");
    CHECK_EQ_STR(fmt(0.0012), "0.0012");
    CHECK_EQ_STR(fmt(-0.000001), "-0.000001");
    CHECK_EQ_STR(fmt(123456789012345.0), "123456789012345");
    CHECK_EQ_STR(fmt(0), "0");
    CHECK_EQ_STR(fmt(-0.0), "-0");
}

TEST(numfmt_falls_back_to_17_digits)
{
    CHECK_EQ_STR(fmt(0.1 + 0.2), "0.30000000000000004");
    CHECK_EQ_STR(fmt(1e300), "1.0000000000000001e+300");
    CHECK_EQ_STR(fmt(1e-20), "9.9999999999999995e-21");
    CHECK_EQ_STR(fmt(DBL_MAX), "1.7976931348623157e+308");
    CHECK_EQ_STR(fmt(HUGE_VAL), "inf");
    CHECK_EQ_STR(fmt(-HUGE_VAL), "-inf");
    CHECK_EQ_STR(fmt(NAN), "nan");
    CHECK_EQ_STR(fmt(9007199254740993.0), "9007199254740992");
}

/* Whatever the value, strtod reads the text back as it, bit for bit. */
TEST(numfmt_round_trips)
{
    unsigned long long x = 88172645463325252ULL;
    int bad = 0;
    for (int i = 0; i < 400000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v;
        switch (i % 4) {
        case 0: /* any bit pattern */
            memcpy(&v, &x, sizeof(v));
            break;
        case 1: /* cents */
            v = (double)(int64_t)(x % 100000000) / 100;
            break;
        case 2: /* up to 6 decimals, any sign */
            v = (double)((int64_t)(x % 2000000000000ULL) - 1000000000000LL) / 1e6;
            break;
        default: /* ratios */
            v = (double)(x % 1000003) / (double)(x % 997 + 1);
            break;
        }
        if (isnan(v))
            continue;
        char out[SL_FMT_DOUBLE_MAX];
        sl_fmt_double(out, v);
        double back = strtod(out, NULL);
        if (memcmp(&back, &v, sizeof(v)) != 0) {
            if (bad++ < 5)
                fprintf(stderr, "  %.17g -> %s -> %.17g\n", v, out, back);
        }
    }
    CHECK_EQ_INT(bad, 0);
}

static const struct test_case numfmt_tests[] = {
    { "numfmt_short_decimals", numfmt_short_decimals },
    { "numfmt_falls_back_to_17_digits", numfmt_falls_back_to_17_digits },
    { "numfmt_round_trips", numfmt_round_trips },
};
TEST_SUITE(numfmt, numfmt_tests)
