/* A minimal test harness: CHECK records a failure and goes on, so one run
 * reports every broken assertion. main() returns check_report(). */
#ifndef GV_TEST_CHECK_H
#define GV_TEST_CHECK_H

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

static int check_failures, check_count;

#define CHECK(cond)                                                                     \
    do {                                                                                \
        check_count++;                                                                  \
        if (!(cond)) {                                                                  \
            check_failures++;                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);    \
        }                                                                               \
    } while (0)

#define CHECK_INT(a, b)                                                                 \
    do {                                                                                \
        const long long va_ = (long long)(a), vb_ = (long long)(b);                     \
        check_count++;                                                                  \
        if (va_ != vb_) {                                                               \
            check_failures++;                                                           \
            fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__,       \
                    __LINE__, #a, va_, #b, vb_);                                        \
        }                                                                               \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                           \
    do {                                                                                \
        const double va_ = (double)(a), vb_ = (double)(b);                              \
        check_count++;                                                                  \
        if (!(fabs(va_ - vb_) <= (tol))) {                                              \
            check_failures++;                                                           \
            fprintf(stderr, "%s:%d: %s == %.9g, expected %.9g (tolerance %g)\n",        \
                    __FILE__, __LINE__, #a, va_, vb_, (double)(tol));                   \
        }                                                                               \
    } while (0)

static inline int check_report(const char *name)
{
    printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
    return check_failures ? 1 : 0;
}

#endif
