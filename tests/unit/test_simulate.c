/* Unit tests of hpool-bench's replay of recorded chunks (bench/simulate.c): the profile
 * of item times and worker speeds estimated from a chunks.tsv, and the ranking of every
 * schedule simulated on it, against values worked out by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "simulate.h"

#define HEADER                                                                            \
    "run\tchunk\tschedule\tworker\tfirst_item\titems\tt_submit\tt_dispatch\tt_recv\t"    \
    "t_start\tt_end\tt_result\tstatus\n"

static char dir[] = "/tmp/hpool-test-simulate-XXXXXX";

static void put(const char *file, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Eight items of 1 s each on worker rank 1 (speed 1) and rank 2 (twice as slow). Run 0
 * gives items 0-1 and 4-5 to rank 1, 2-3 and 6-7 to rank 2; run 1 the other way round,
 * so item cost and worker speed can be told apart. Transit 0.1 + 0.1 s per chunk. */
static void put_two_runs(void)
{
    char buf[4096] = HEADER;
    const int first[4] = {0, 2, 4, 6};
    for (int run = 0; run < 2; run++) {
        double clock[2] = {0, 0};
        for (int k = 0; k < 4; k++) {
            int rank = ((k % 2) ^ run) + 1;
            double dur = rank == 1 ? 2.0 : 4.0, t = clock[rank - 1];
            size_t n = strlen(buf);
            snprintf(buf + n, sizeof buf - n, "%d\t%d\tfixed\t%d\t%d\t2\t0\t%g\t%g\t%g\t%g\t%g\t0\n",
                     run, k, rank, first[k], t, t + 0.1, t + 0.1, t + 0.1 + dur, t + 0.2 + dur);
            clock[rank - 1] = t + 0.2 + dur;
        }
    }
    put("chunks.tsv", buf);
}

static void test_profile_by_hand(void **state)
{
    (void)state;
    put_two_runs();
    hpool_render_table t;
    char err[512];
    assert_int_equal(hpool_render_table_load(dir, "chunks.tsv", &t, err, sizeof err), 0);
    hpool_bench_profile pr;
    assert_int_equal(hpool_bench_profile_build(&t, NULL, 0, &pr, err, sizeof err), 0);
    assert_int_equal(pr.n, 8);
    assert_int_equal(pr.p, 2);
    assert_int_equal(pr.chunks, 8);
    /* Round 1 (speeds 1): every item 1.5 s; rank 1 took 8 s for 12 s of items, rank 2
     * 16 s: speeds 2/3 and 4/3, normalised 1 and 2. Round 2: every item 1 s. */
    assert_true(fabs(pr.speed[0] - 1.0) < 1e-12);
    assert_true(fabs(pr.speed[1] - 2.0) < 1e-12);
    for (uint64_t i = 0; i < pr.n; i++)
        assert_true(fabs(pr.item_s[i] - 1.0) < 1e-12);
    assert_true(fabs(pr.overhead_s - 0.2) < 1e-9);

    /* Only run 0: cost and speed cannot be told apart; items 2-3, 6-7 look twice as
     * expensive and the workers equal. */
    hpool_bench_profile one;
    int run0 = 0;
    assert_int_equal(hpool_bench_profile_build(&t, &run0, 1, &one, err, sizeof err), 0);
    assert_true(fabs(one.speed[1] - 1.0) < 1e-12);
    assert_true(fabs(one.item_s[2] - 2.0) < 1e-12 && fabs(one.item_s[0] - 1.0) < 1e-12);
    hpool_bench_profile_free(&one);

    /* Simulated with h = 0, chunksize 1. SS: rank 1 runs items 0, 2, 3, 5, 6 (ends at
     * 5), rank 2 items 1, 4, 7 (ends at 6): 6 s. STATIC: 4 items each: 4 s and 8 s. */
    hpool_bench_sim_row rows[HPOOL_SCHED_COUNT];
    const uint64_t cs[1] = {1};
    size_t n = hpool_bench_simulate_all(&pr, 0.0, cs, 1, rows);
    assert_int_equal(n, HPOOL_SCHED_COUNT - 1); /* all but auto */
    for (size_t i = 1; i < n; i++)
        assert_true(rows[i - 1].finish_s <= rows[i].finish_s);
    assert_int_equal(rows[n - 1].kind, HPOOL_SCHED_STATIC);
    assert_true(fabs(rows[n - 1].finish_s - 8.0) < 1e-9);
    for (size_t i = 0; i < n; i++) {
        if (rows[i].kind == HPOOL_SCHED_SS)
            assert_true(fabs(rows[i].finish_s - 6.0) < 1e-9);
        assert_true(rows[i].finish_s >= 16.0 / 3.0 - 1e-9); /* 16 s of work at speeds 1, 1/2 */
    }
    hpool_bench_profile_free(&pr);
    hpool_render_table_free(&t);
}

/* Rows of another run only, or a table without the columns: a message, not a crash. */
static void test_profile_errors(void **state)
{
    (void)state;
    put_two_runs();
    hpool_render_table t;
    char err[512];
    assert_int_equal(hpool_render_table_load(dir, "chunks.tsv", &t, err, sizeof err), 0);
    hpool_bench_profile pr;
    int run7 = 7;
    assert_int_equal(hpool_bench_profile_build(&t, &run7, 1, &pr, err, sizeof err), -1);
    assert_non_null(strstr(err, "no chunk rows"));
    hpool_render_table_free(&t);
    put("other.tsv", "run\tworker\n0\t1\n");
    assert_int_equal(hpool_render_table_load(dir, "other.tsv", &t, err, sizeof err), 0);
    assert_int_equal(hpool_bench_profile_build(&t, NULL, 0, &pr, err, sizeof err), -1);
    assert_non_null(strstr(err, "first_item"));
    hpool_render_table_free(&t);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char path[256];
    const char *files[] = {"chunks.tsv", "other.tsv"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_by_hand),
        cmocka_unit_test(test_profile_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
