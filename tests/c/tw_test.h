/* A tiny test harness for the C tests: one line per check ("ok   ..." or "FAIL ..."), a
 * summary line "# N passed, M failed", and exit status 1 when anything failed. tests/c/run
 * counts the lines of every program. Include after <tokenward.h>. */
#ifndef TW_TEST_H
#define TW_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tw_passed = 0;
static int tw_failed = 0;

static inline void tw_check_impl(int ok, const char *file, int line, const char *expr, const char *fmt,
                          ...) {
    va_list ap;
    printf(ok ? "ok   " : "FAIL ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (ok) {
        tw_passed++;
        printf("\n");
    } else {
        tw_failed++;
        printf("\n     at %s:%d: %s\n     last error: [%s] %s\n", file, line, expr,
               tw_result_name(tw_last_error_code()), tw_last_error_message());
    }
    fflush(stdout);
}

/* CHECK(condition, "format", args...): one check. */
#define CHECK(cond, ...) tw_check_impl((cond) ? 1 : 0, __FILE__, __LINE__, #cond, __VA_ARGS__)

/* CHECK_RC(call, expected, "format", args...): the call returns the expected tw_result. */
#define CHECK_RC(call, expected, ...)                                                           \
    do {                                                                                        \
        tw_result tw_rc_ = (call);                                                              \
        if (tw_rc_ != (tw_result)(expected)) {                                                  \
            printf("     got %s (%u), expected %s\n", tw_result_name(tw_rc_), (unsigned)tw_rc_,   \
                   tw_result_name((tw_result)(expected)));                                      \
        }                                                                                       \
        tw_check_impl(tw_rc_ == (tw_result)(expected), __FILE__, __LINE__, #call, __VA_ARGS__); \
    } while (0)

static inline int tw_streq(const char *a, const char *b) {
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static inline int tw_contains(const char *haystack, const char *needle) {
    return haystack != NULL && needle != NULL && strstr(haystack, needle) != NULL;
}

/* An environment variable that must be set (tests/c/run exports them). */
static inline const char *tw_env(const char *name) {
    const char *v = getenv(name);
    if (v == NULL || *v == '\0') {
        fprintf(stderr, "environment variable %s is not set; run through tests/c/run\n", name);
        exit(2);
    }
    return v;
}

static inline int tw_summary(void) {
    printf("# %d passed, %d failed\n", tw_passed, tw_failed);
    return tw_failed == 0 ? 0 : 1;
}

#endif
