/*
 * numfmt.c — doubles as short decimal text (numfmt.h).
 *
 * For k = 0, 1, ... 15 decimals: n = round(v * 10^k); when |n| < 10^15 and n / 10^k (one
 * IEEE division of two exactly representable doubles, hence the double nearest to the real
 * quotient) equals v, the decimal "n with k decimals" is what a correctly rounding strtod
 * reads as v: it names the same real number, and strtod also returns the nearest double.
 * The product v * 10^k may itself be rounded, so a shorter decimal can be missed (then a
 * longer one, or "%.17g", is written): never a wrong one, since the division decides.
 */
#include "base/numfmt.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>

static const double pow10_tab[16] = { 1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };

size_t sl_fmt_double(char out[SL_FMT_DOUBLE_MAX], double v)
{
    if (v == 0) {
        if (signbit(v)) {
            out[0] = '-';
            out[1] = '0';
            out[2] = '\0';
            return 2;
        }
        out[0] = '0';
        out[1] = '\0';
        return 1;
    }
    double a = fabs(v);
    if (a < 1e15 && a >= 1e-15) {
        for (int k = 0; k < 16; k++) {
            double m = nearbyint(a * pow10_tab[k]);
            if (m >= 1e15)
                break;
            if (m / pow10_tab[k] != a)
                continue;
            /* digits of m (an integer below 10^15), k of them after the point */
            char digits[24];
            int nd = 0;
            uint64_t n = (uint64_t)m;
            do {
                digits[nd++] = (char)('0' + n % 10);
                n /= 10;
            } while (n);
            size_t len = 0;
            if (v < 0)
                out[len++] = '-';
            if (nd <= k) { /* 0.00ddd */
                out[len++] = '0';
                out[len++] = '.';
                for (int z = nd; z < k; z++)
                    out[len++] = '0';
                while (nd)
                    out[len++] = digits[--nd];
            } else {
                while (nd > k)
                    out[len++] = digits[--nd];
                if (k) {
                    out[len++] = '.';
                    while (nd)
                        out[len++] = digits[--nd];
                }
            }
            out[len] = '\0';
            return len;
        }
    }
    int w = snprintf(out, SL_FMT_DOUBLE_MAX, "%.17g", v);
    return w > 0 ? (size_t)w : 0;
}
