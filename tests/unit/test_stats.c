/* Unit tests of bench/stats.c: medians, the Mann-Whitney test against p-values computed
 * independently (brute-force enumeration of every split, in Python, for the exact ones;
 * the textbook tie-corrected formula for the approximate one), the bootstrap interval's
 * determinism and coverage of known ratios, the repeats-needed formula, and the verdict
 * on the seed-chunksize figures quoted in issue 17. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stats.h"

#define N_OF(a) (sizeof(a) / sizeof(a)[0])

static void test_median(void **state)
{
    (void)state;
    double odd[] = {3, 1, 2}, even[] = {4, 1, 3, 2};
    assert_float_equal(hpool_stats_median(odd, 3), 2, 0);
    assert_float_equal(hpool_stats_median(even, 4), 2.5, 0);
    assert_true(isnan(hpool_stats_median(odd, 0)));
}

static void test_mann_whitney_exact(void **state)
{
    (void)state;
    double a1[] = {1, 3, 5, 7}, b1[] = {2, 4, 6, 8};
    assert_float_equal(hpool_stats_mann_whitney(a1, 4, b1, 4), 0.6857142857142857, 1e-12);
    double a2[] = {1, 2, 3, 4}, b2[] = {5, 6, 7, 8.5};
    assert_float_equal(hpool_stats_mann_whitney(a2, 4, b2, 4), 0.02857142857142857, 1e-12);
    /* Order of the arguments does not change a two-sided p. */
    assert_float_equal(hpool_stats_mann_whitney(b2, 4, a2, 4), 0.02857142857142857, 1e-12);
    double a3[] = {1, 2, 3, 4, 10}, b3[] = {5, 6, 7, 8.5, 9};
    assert_float_equal(hpool_stats_mann_whitney(a3, 5, b3, 5), 0.15079365079365079, 1e-12);
    /* 3 against 3, fully separated: the smallest p there is, 2/20. */
    double a4[] = {1, 2, 3}, b4[] = {4, 5, 6};
    assert_float_equal(hpool_stats_mann_whitney(a4, 3, b4, 3), 0.1, 1e-12);
}

static void test_mann_whitney_ties_and_large(void **state)
{
    (void)state;
    double a[] = {1, 2, 2, 3}, b[] = {2, 3, 3, 4};
    assert_float_equal(hpool_stats_mann_whitney(a, 4, b, 4), 0.17203370892182296, 1e-12);
    /* A sample against itself: every pair tied, nothing to reject. */
    assert_float_equal(hpool_stats_mann_whitney(a, 4, a, 4), 1, 0);
    double big_a[40], big_b[40];
    for (int i = 0; i < 40; i++) {
        big_a[i] = 1 + 0.001 * i;
        big_b[i] = 2 + 0.001 * i;
    }
    assert_true(hpool_stats_mann_whitney(big_a, 40, big_b, 40) < 1e-10);
    assert_float_equal(hpool_stats_mann_whitney(big_a, 0, big_b, 40), 1, 0);
}

static void test_bootstrap_deterministic(void **state)
{
    (void)state;
    double a[] = {0.98, 1.01, 1.03, 0.99, 1.02}, b[] = {1.49, 1.52, 1.55, 1.5, 1.47};
    double lo1, hi1, lo2, hi2;
    assert_int_equal(hpool_stats_ratio_ci(a, 5, b, 5, 0.95, 2000, 42, &lo1, &hi1), 0);
    assert_int_equal(hpool_stats_ratio_ci(a, 5, b, 5, 0.95, 2000, 42, &lo2, &hi2), 0);
    assert_float_equal(lo1, lo2, 0);
    assert_float_equal(hi1, hi2, 0);
    /* The true ratio of the medians (1.50 / 1.01) lies inside; the interval is narrow. */
    assert_true(lo1 <= 1.5 / 1.01 && 1.5 / 1.01 <= hi1);
    assert_true(lo1 > 1.4 && hi1 < 1.6);
    assert_int_equal(hpool_stats_ratio_ci(a, 0, b, 5, 0.95, 2000, 42, &lo1, &hi1), -1);
}

static void test_compare_self_unresolved(void **state)
{
    (void)state;
    double a[] = {0.51, 0.47, 0.55, 0.49, 0.5};
    hpool_stats_cmp c;
    assert_int_equal(hpool_stats_compare(a, 5, a, 5, &c), 0);
    assert_float_equal(c.ratio, 1, 0);
    assert_true(c.lo <= 1 && 1 <= c.hi);
    assert_false(c.resolved);
    assert_float_equal(c.p_value, 1, 0);
    assert_int_equal(c.repeats_needed, HPOOL_STATS_REPEATS_CAP);
}

static void test_compare_doubling_resolved(void **state)
{
    (void)state;
    double a[] = {0.101, 0.099, 0.103, 0.1, 0.098};
    double b[] = {0.2, 0.205, 0.197, 0.202, 0.199};
    hpool_stats_cmp c;
    assert_int_equal(hpool_stats_compare(a, 5, b, 5, &c), 0);
    assert_true(c.resolved);
    assert_float_equal(c.ratio, 0.2 / 0.1, 1e-12);
    assert_true(c.lo > 1.9 && c.hi < 2.1);
    assert_true(c.p_value < 0.01);
    char text[256];
    hpool_stats_describe(&c, text, sizeof text);
    assert_non_null(strstr(text, "resolved at 5 repeats"));
    assert_null(strstr(text, "not resolved"));
}

/* Separated samples of 3: the bootstrap interval excludes 1 but a rank test cannot
 * reject, so the verdict stays "not resolved" and asks for more repeats. */
static void test_three_repeats_never_resolve(void **state)
{
    (void)state;
    double a[] = {0.1, 0.101, 0.102}, b[] = {0.2, 0.201, 0.202};
    hpool_stats_cmp c;
    assert_int_equal(hpool_stats_compare(a, 3, b, 3, &c), 0);
    assert_true(c.lo > 1);
    assert_false(c.resolved);
    char text[256];
    hpool_stats_describe(&c, text, sizeof text);
    assert_non_null(strstr(text, "not resolved at 3 repeats"));
    assert_non_null(strstr(text, "~4 repeats a side needed"));
}

/* Issue 17: chunksize 3 (0.362, 0.393, 0.449) against chunksize 1 (0.329, 0.408, 0.544). */
static void test_issue17_seed_chunksize(void **state)
{
    (void)state;
    double cs3[] = {0.362, 0.393, 0.449}, cs1[] = {0.329, 0.408, 0.544};
    hpool_stats_cmp c;
    assert_int_equal(hpool_stats_compare(cs3, 3, cs1, 3, &c), 0);
    assert_false(c.resolved);
    assert_true(c.lo < 1 && c.hi > 1);
    assert_true(c.repeats_needed > 100);
    char text[256];
    hpool_stats_describe(&c, text, sizeof text);
    assert_non_null(strstr(text, "not resolved at 3 repeats"));
}

static void test_repeats_needed_formula(void **state)
{
    (void)state;
    /* log values {0, 0.1, -0.1}: standard deviation 0.1 on each side. */
    double a[] = {1, exp(0.1), exp(-0.1)};
    double b_far[3], b_near[3];
    for (int i = 0; i < 3; i++) {
        b_far[i] = a[i] * exp(0.2);
        b_near[i] = a[i] * exp(0.05);
    }
    double z = 1.959964 * 1.253314;
    assert_int_equal(hpool_stats_repeats_needed(a, 3, b_near, 3),
                     (long)ceil(z * z * 0.02 / (0.05 * 0.05)));
    /* Far apart: the estimate says 3 would do, the rank test's floor says 4. */
    assert_int_equal(hpool_stats_repeats_needed(a, 3, b_far, 3), HPOOL_STATS_MIN_REPEATS);
    /* One value a side: no spread to measure. */
    assert_int_equal(hpool_stats_repeats_needed(a, 1, b_far, 1), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_median),
        cmocka_unit_test(test_mann_whitney_exact),
        cmocka_unit_test(test_mann_whitney_ties_and_large),
        cmocka_unit_test(test_bootstrap_deterministic),
        cmocka_unit_test(test_compare_self_unresolved),
        cmocka_unit_test(test_compare_doubling_resolved),
        cmocka_unit_test(test_three_repeats_never_resolve),
        cmocka_unit_test(test_issue17_seed_chunksize),
        cmocka_unit_test(test_repeats_needed_formula),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
