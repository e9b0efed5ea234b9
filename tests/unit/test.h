/*
 * test.h — the unit-test harness: CHECK macros that report file:line and carry on, and a
 * registration table. Each tests/unit/test_<module>.c defines its tests with TEST(name) and
 * lists them in a `struct test_case <module>_tests[]` table that test_main.c collects.
 */
#ifndef SLUICE_TEST_H
#define SLUICE_TEST_H

#include <stdio.h>
#include <string.h>
#include <stdint.h>

extern int test_failures;
extern int test_checks;

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        test_checks++;                                                                         \
        if (!(cond)) {                                                                         \
            test_failures++;                                                                   \
            fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                  \
        }                                                                                      \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                     \
    do {                                                                                       \
        long long a_ = (long long)(a), b_ = (long long)(b);                                    \
        test_checks++;                                                                         \
        if (a_ != b_) {                                                                        \
            test_failures++;                                                                   \
            fprintf(stderr, "  FAIL %s:%d: %s == %s (%lld != %lld)\n", __FILE__, __LINE__, #a, \
                    #b, a_, b_);                                                               \
        }                                                                                      \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                                     \
    do {                                                                                       \
        const char *a_ = (a), *b_ = (b);                                                       \
        test_checks++;                                                                         \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                               \
            test_failures++;                                                                   \
            fprintf(stderr, "  FAIL %s:%d: %s == %s (\"%s\" != \"%s\")\n", __FILE__, __LINE__, \
                    #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");                           \
        }                                                                                      \
    } while (0)

struct test_case {
    const char *name;
    void (*fn)(void);
};

#define TEST(name) static void name(void)



/* Register a suite from its file: TEST_SUITE(json, json_tests) after the table. */
void test_register(const char *suite, const struct test_case *cases, size_t n);
#define TEST_SUITE(suite, table)                                                               \
    __attribute__((constructor)) static void register_##suite(void)                           \
    {                                                                                          \
        test_register(#suite, table, sizeof(table) / sizeof(table[0]));                        \
    }
#endif
