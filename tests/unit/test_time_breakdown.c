/* Unit tests of bench/time_breakdown.c (report.md's "Where the time went") on a
 * chunks.tsv written here by hand with known times: two workers of one run, one kept
 * waiting by the manager, one with the next call item queued and done early. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp, open_memstream */
#endif

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "time_breakdown.h"

static const char HEADER[] = "run\tchunk\tschedule\tworker\tfirst_item\titems\tt_submit\t"
                             "t_dispatch\tt_recv\tt_start\tt_end\tt_result\tstatus\n";

/* Rows in completion order, as the library writes them. */
static const char ROWS[] =
    /* worker 2: from 0 to 0.2, then nothing until 0.6 (the next call item arrives at
     * 0.6: 0.4 s waiting), 0.6 to 1.0 */
    "0\t2\tfixed\t2\t2\t1\t0\t0.000\t0.000\t0.000\t0.200\t0.250\t0\n"
    /* worker 1: received at 0.1, runs 0.1..0.4; the next was there at 0.2 but starts at
     * 0.5 (0.1 s overhead); runs to 0.7, then nothing until the run ends at 1.0 */
    "0\t0\tfixed\t1\t0\t1\t0\t0.000\t0.100\t0.100\t0.400\t0.450\t0\n"
    "0\t1\tfixed\t1\t1\t1\t0\t0.050\t0.200\t0.500\t0.700\t0.750\t0\n"
    "0\t3\tfixed\t2\t3\t1\t0\t0.600\t0.600\t0.600\t1.000\t1.000\t0\n"
    "# complete\n";

static char *report_of(const char *rows)
{
    char dir[] = "/tmp/hpool_test_breakdown.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/chunks.tsv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(HEADER, f);
    fputs(rows, f);
    fclose(f);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_int_equal(hpool_bench_write_time_breakdown(out, dir), 0);
    fclose(out);
    unlink(path);
    rmdir(dir);
    return buf;
}

static void shares_sum_to_the_run(void **state)
{
    (void)state;
    char *md = report_of(ROWS);
    /* means over the two workers: busy (50+60)/2, waiting (10+40)/2, overhead (10+0)/2,
     * done early (30+0)/2 */
    assert_non_null(strstr(md, "| 0 | 2 | 1.000000 | 55.0% | 25.0% | 5.0% | 15.0% |"));
    assert_non_null(strstr(md, "| 1 | 2 | 0.500000 s (50.0%) | 0.100000 s (10.0%) | "
                               "0.100000 s (10.0%) | 0.300000 s (30.0%) | 0.100000 at 0.400000 |"));
    assert_non_null(strstr(md, "| 2 | 2 | 0.600000 s (60.0%) | 0.400000 s (40.0%) | "
                               "0.000000 s (0.0%) | 0.000000 s (0.0%) | 0.400000 at 0.200000 |"));
    free(md);
}

static void bad_row_named(void **state)
{
    (void)state;
    char *md = report_of("0\t0\tfixed\t1\t0\t1\t0\t0.000\t0.100\t0.100\t0.400\t0.450\t0\n"
                         "0\t1\tfixed\t1\t1\t1\t0\t0.050\t0.200\tsoon\t0.700\t0.750\t0\n");
    assert_non_null(strstr(md, "Not computed: "));
    assert_non_null(strstr(md, "chunks.tsv:3: column t_start: 'soon' is not a finite number"));
    free(md);
}

static void nothing_without_chunks(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_int_equal(hpool_bench_write_time_breakdown(out, "/nonexistent/hpool"), 0);
    fclose(out);
    assert_int_equal(len, 0);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shares_sum_to_the_run),
        cmocka_unit_test(bad_row_named),
        cmocka_unit_test(nothing_without_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
