/*
 * test_main.c — the unit runner: `unit [filter]` runs every registered test whose
 * "suite.name" contains filter. Prints one line per suite and "N passed, N failed".
 */
#include "test.h"

#include <stdlib.h>

int test_failures;
int test_checks;

#define MAX_SUITES 64
static struct {
    const char *name;
    const struct test_case *cases;
    size_t n;
} suites[MAX_SUITES];
static size_t nsuites;

void test_register(const char *suite, const struct test_case *cases, size_t n)
{
    if (nsuites < MAX_SUITES) {
        suites[nsuites].name = suite;
        suites[nsuites].cases = cases;
        suites[nsuites].n = n;
        nsuites++;
    }
}

int main(int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : NULL;
    int passed = 0, failed = 0;
    for (size_t s = 0; s < nsuites; s++) {
        for (size_t i = 0; i < suites[s].n; i++) {
            char full[256];
            snprintf(full, sizeof(full), "%s.%s", suites[s].name, suites[s].cases[i].name);
            if (filter && !strstr(full, filter))
                continue;
            int before = test_failures;
            suites[s].cases[i].fn();
            if (test_failures != before) {
                failed++;
                fprintf(stderr, "FAIL %s\n", full);
            } else {
                passed++;
            }
        }
    }
    printf("unit: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
