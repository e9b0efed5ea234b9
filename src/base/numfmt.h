/*
 * numfmt.h — doubles as short decimal text that reads back as the same double.
 *
 * printf's "%.17g" round-trips but is slow (glibc formats through multi-precision
 * arithmetic) and long ("298.93000000000001" for the JSON number 298.93). Most doubles a
 * pipeline carries came from short decimal text; sl_fmt_double finds that text exactly.
 */
#ifndef SLUICE_NUMFMT_H
#define SLUICE_NUMFMT_H

#include <stddef.h>

#define SL_FMT_DOUBLE_MAX 40 /* bytes of out, NUL included */

/* v as text that a correctly rounding strtod reads back as v: the fewest decimals (0-15) of
 * a plain decimal "[-]digits[.digits]" with at most 15 significant digits when one exists,
 * else "%.17g" (which is also how nan and inf come out). -0.0 is "-0". Returns the length
 * (not counting the NUL). Thread-safe; allocates nothing. */
size_t sl_fmt_double(char out[SL_FMT_DOUBLE_MAX], double v);

#endif
