/* Unit tests of bench/machine_load.c: CPU time burnt by a process outside the job (a
 * child of this test is not its sibling) is counted as other processes' load, and the
 * report's note names the runs taken on a busy machine. */
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "machine_load.h"
#include "table.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void other_process_counts(void **state)
{
    (void)state;
    hpool_bench_load_mark mark;
    hpool_bench_load_mark_now(&mark);
    assert_true(mark.ok);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) { /* 0.3 s of CPU, however long that takes on a loaded machine */
        volatile unsigned long x = 0;
        double c0 = cpu_now(), w0 = now();
        while (cpu_now() - c0 < 0.3 && now() - w0 < 30)
            x++;
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    hpool_bench_load load;
    hpool_bench_load_since(&mark, &load);
    printf("other processes: %.2f CPU-s (share %.2f), load1 %.2f\n", load.other_cpu_s,
           load.other_share, load.load1);
    assert_true(load.known);
    assert_true(load.other_cpu_s >= 0.25); /* the child's 0.3 s, to a clock tick or two */
    assert_true(load.load1 >= 0);
}

static void note_names_busy_runs(void **state)
{
    (void)state;
    char dir[] = "/tmp/hpool_test_load.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/runs.tsv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("impl\trun\twall_s\tload1\tother_cpu_s\tmachine_busy\n"
          "hpool\t0\t1.0\t0.50\t0.010\t0\n"
          "hpool\t1\t1.0\t3.25\t1.500\t1\n"
          "python-ppe\t2\t1.0\t0\t0\t0\n"
          "# complete\n",
          f);
    fclose(f);
    hpool_render_table t;
    char err[256];
    assert_int_equal(hpool_render_table_load(dir, "runs.tsv", &t, err, sizeof err), 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    hpool_bench_write_load_note(out, &t);
    fclose(out);
    assert_non_null(strstr(buf, "**Busy machine**: 1 of 2 runs"));
    assert_non_null(strstr(buf, "run 1 (1.50 CPU-s of others, load 3.25)."));
    free(buf);
    hpool_render_table_free(&t);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(other_process_counts),
        cmocka_unit_test(note_names_busy_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
