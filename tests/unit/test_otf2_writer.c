/* Unit tests of bench/otf2_writer.c on TSVs written here by hand: the trace reads back
 * with otf2-print with every event, at t0 + the TSV's time to the nanosecond; a bad
 * value is refused with its file, line, column and value. Without OTF2 in the build,
 * writing must fail saying so. (tests/e2e/otf2_trace.sh checks real runs field by field
 * with the Python reader.) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp, popen, open_memstream */
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

#include "otf2_writer.h"

static char dir[64];

static void put(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const char CLOCK[] =
    "rank\toffset_start\trtt_start\tat_start\toffset_end\trtt_end\tat_end\tdrift\tt0\n"
    "1\t0.000001\t0.000005\t0.001\t0.000001\t0.000005\t0.9\t0\t2000.000000001\n"
    "2\t0.000001\t0.000005\t0.001\t0.000001\t0.000005\t0.9\t0\t2000.000000001\n"
    "# complete\n";
static const char CHUNK_HEADER[] = "run\tchunk\tschedule\tworker\tfirst_item\titems\tt_submit\t"
                                   "t_dispatch\tt_recv\tt_start\tt_end\tt_result\tstatus\n";
/* worker 1 receives chunk 2 while it runs chunk 0: its events are not in row order */
static const char CHUNKS[] = "0\t0\tfixed\t1\t0\t2\t0.001\t0.002\t0.003\t0.004\t0.010\t0.011\t0\n"
                             "0\t1\tfixed\t2\t2\t2\t0.001\t0.002\t0.004\t0.005\t0.012\t0.013\t0\n"
                             "0\t2\tfixed\t1\t4\t1\t0.001\t0.0021\t0.0045\t0.010000001\t0.020\t"
                             "0.021\t-7\n"
                             "# complete\n";
static const char SPANS[] = "run\trank\tthread\tchunk\titem\tinner\tt_start\tt_end\tlabel\n"
                            "0\t1\t0\t0\t0\t0\t0.0041\t0.005\tio\n"
                            "0\t1\t1\t0\t1\t0\t0.0042\t0.006\tcpu\n"
                            "# complete\n";

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/hpool_test_otf2.XXXXXX");
    assert_non_null(mkdtemp(dir));
    put("clock.tsv", CLOCK);
    put("spans.tsv", SPANS);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Lines of `otf2-print ANCHOR` matching the extended regex `re`. */
static int count_lines(const char *re)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "otf2-print '%s/otf2/traces.otf2' | grep -cE '%s'", dir, re);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    int n = -1;
    if (fscanf(p, "%d", &n) != 1)
        n = -1;
    pclose(p);
    return n;
}

static void trace_reads_back(void **state)
{
    (void)state;
    char chunks[1024];
    snprintf(chunks, sizeof chunks, "%s%s", CHUNK_HEADER, CHUNKS);
    put("chunks.tsv", chunks);
    char err[512];
    json_t *props = json_pack("{s:s, s:i}", "experiment", "unit", "run", 0);
    int rc = hpool_bench_otf2_write(dir, "hostA", NULL, props, err, sizeof err);
    json_decref(props);
    if (!hpool_bench_otf2_available()) {
        assert_int_equal(rc, -1);
        assert_non_null(strstr(err, "OTF2 is off in this build"));
        return;
    }
    if (rc != 0)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    /* 7 events per call item, 2 per span */
    assert_int_equal(count_lines("^(ENTER|LEAVE|MPI_SEND|MPI_RECV|PARAMETER_UINT64) "), 3 * 7 + 2 * 2);
    /* chunk 2 starts at t0 + 0.010000001 s: 2000000000001 + 10000001 ns */
    assert_int_equal(count_lines("^ENTER +1 +2000010000002 "), 1);
    /* the span "cpu" on rank 1's thread 1 (location 4: manager, rank 1, rank 2, thread 0,
     * thread 1) from t0 + 4.2 ms */
    assert_int_equal(count_lines("^ENTER +4 +2000004200001 +Region: \"cpu\""), 1);
    assert_int_equal(count_lines("\"status\" <3>; INT32; -7"), 1);
}

/* The whole otf2-print listing of the trace, malloc'd. */
static char *listing(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "otf2-print '%s/otf2/traces.otf2'", dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    int ch;
    while ((ch = fgetc(p)) != EOF)
        fputc(ch, out);
    pclose(p);
    fclose(out);
    return buf;
}

/* Sorting through spilled runs (4 events in memory: 7 runs of the 25 events) writes the
 * same trace as sorting in memory. */
static void spilled_sort_same_trace(void **state)
{
    (void)state;
    if (!hpool_bench_otf2_available())
        skip();
    char chunks[1024], err[512];
    snprintf(chunks, sizeof chunks, "%s%s", CHUNK_HEADER, CHUNKS);
    put("chunks.tsv", chunks);
    assert_int_equal(hpool_bench_otf2_write(dir, "hostA", NULL, NULL, err, sizeof err), 0);
    char *in_memory = listing();
    hpool_bench_otf2_set_sort_buffer(4);
    int rc = hpool_bench_otf2_write(dir, "hostA", NULL, NULL, err, sizeof err);
    hpool_bench_otf2_set_sort_buffer(0);
    assert_int_equal(rc, 0);
    char *spilled = listing();
    assert_true(strlen(in_memory) > 1000);
    assert_string_equal(in_memory, spilled);
    free(in_memory);
    free(spilled);
}

static void bad_value_named(void **state)
{
    (void)state;
    char chunks[1024];
    snprintf(chunks, sizeof chunks, "%s%s", CHUNK_HEADER,
             "0\t0\tfixed\t1\t0\t2\t0.001\t0.002\t0.003\t0.004\t0.010\t0.011\t0\n"
             "0\t1\tfixed\t2\t2\t2\t0.001\t0.002\t0.004\tabc\t0.012\t0.013\t0\n");
    put("chunks.tsv", chunks);
    char err[512];
    assert_int_equal(hpool_bench_otf2_write(dir, "hostA", NULL, NULL, err, sizeof err), -1);
    if (hpool_bench_otf2_available())
        assert_non_null(strstr(err, "chunks.tsv:3: column t_start: 'abc' is not a time"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trace_reads_back),
        cmocka_unit_test(spilled_sort_same_trace),
        cmocka_unit_test(bad_value_named),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
