/* The compact chunk records of chunks.partial (src/records/chunk_code.c), without MPI:
 *  - a stream of records round-trips field for field (times to the nanosecond), with
 *    differences of both signs, workers on clocks far apart, large chunk numbers,
 *    failures and every schedule;
 *  - a map's call items at chunksize 1 on one node take at most 20 bytes each;
 *  - a record cut anywhere asks for more bytes (0) and leaves the decoder's state as it
 *    was, so that the same record decodes once the rest has come;
 *  - bytes that are no record (an 11-byte varint) are refused (-1);
 *  - a time that is no clock reading (NaN, infinite) is written as 0, not as undefined
 *    behaviour. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "records/chunk_code.h"

/* Whether two times agree to the nanosecond the format keeps. */
static void assert_same_time(double want, double got)
{
    assert_true(fabs(want - got) <= 0.6e-9 + fabs(want) * 1e-15);
}

static void assert_same_record(const hpool__chunk_rec *want, const hpool__chunk_rec *got)
{
    assert_int_equal(want->chunk, got->chunk);
    assert_int_equal(want->first_item, got->first_item);
    assert_int_equal(want->items, got->items);
    assert_int_equal(want->status, got->status);
    assert_int_equal(want->worker, got->worker);
    assert_int_equal(want->schedule, got->schedule);
    assert_same_time(want->t_submit, got->t_submit);
    assert_same_time(want->t_dispatch, got->t_dispatch);
    assert_same_time(want->t_result, got->t_result);
    assert_same_time(want->t_recv, got->t_recv);
    assert_same_time(want->t_start, got->t_start);
    assert_same_time(want->t_end, got->t_end);
}

enum { N = 4000 };

/* Record i of a varied stream: two "hosts" whose raw clocks are days apart, chunks out
 * of order, a submit's record now and then, failures, every schedule. */
static hpool__chunk_rec varied(size_t i)
{
    bool far_host = i % 3 == 2;
    double worker_clock = far_host ? 912345.000000123 : 3456.5;
    double t = 1e-6 * (double)i * 1.37;
    hpool__chunk_rec c = {
        .chunk = (i % 7 == 3) ? (uint64_t)i * 1000003u + (1ull << 40) : (uint64_t)i,
        .first_item = (i % 5 == 1) ? (uint64_t)i * 256u : (uint64_t)(N - i),
        .items = (uint32_t)(i % 300 + 1),
        .status = (i % 11 == 4) ? -(int32_t)(i % 9) - 1 : 0,
        .worker = (int32_t)(i % 130 + 1),
        .schedule = (int32_t)(i % 8) - 1,
        .t_submit = (i % 13 == 0) ? t : 0.25,
        .t_dispatch = t + 1e-7 * (double)(i % 17),
        .t_result = t + 2e-5 + (i % 29 == 0 ? 3.5 : 0),
        .t_start = worker_clock + t + 1e-6,
        .t_recv = worker_clock + t + 1e-6 - (i % 2 ? 0 : 2e-7),
        .t_end = worker_clock + t + 3e-6 + (i % 31 == 0 ? 7200.0 : 0),
    };
    return c;
}

static void round_trip(void **state)
{
    (void)state;
    static unsigned char buf[N * HPOOL__CHUNK_CODE_MAX];
    hpool__chunk_code enc = {0}, dec = {0};
    size_t len = 0;
    for (size_t i = 0; i < N; i++) {
        hpool__chunk_rec c = varied(i);
        size_t k = hpool__chunk_encode(&enc, &c, buf + len);
        assert_true(k >= 12 && k <= HPOOL__CHUNK_CODE_MAX);
        len += k;
    }
    size_t pos = 0;
    for (size_t i = 0; i < N; i++) {
        hpool__chunk_rec want = varied(i), got;
        long k = hpool__chunk_decode(&dec, buf + pos, len - pos, &got);
        assert_true(k > 0);
        assert_same_record(&want, &got);
        pos += (size_t)k;
    }
    assert_int_equal(pos, len);
}

/* What a map at chunksize 1 records on one node: after the first record (absolute
 * times), 20 bytes a call item at most, and about 16 on average. */
static void map_items_are_small(void **state)
{
    (void)state;
    unsigned char buf[HPOOL__CHUNK_CODE_MAX];
    hpool__chunk_code enc = {0};
    size_t total = 0, n = 100000;
    for (size_t i = 0; i < n; i++) {
        double t = 0.05 + 4e-7 * (double)i; /* 2.5 M call items a second, for 40 ms */
        hpool__chunk_rec c = {.chunk = i, .first_item = i, .items = 1, .worker = 1 + (int)(i % 2),
                              .t_submit = 0.05, .t_dispatch = t, .t_result = t + 3e-6,
                              .t_recv = 3456.5 + t + 1e-6, .t_start = 3456.5 + t + 1e-6,
                              .t_end = 3456.5 + t + 1.2e-6};
        size_t k = hpool__chunk_encode(&enc, &c, buf);
        assert_true(i == 0 || k <= 20);
        total += k;
    }
    printf("map items at chunksize 1: %.2f bytes a record\n", (double)total / (double)n);
    assert_true(total <= 17 * n);
}

/* Cut anywhere: 0, and the state unchanged, so the record decodes once it is whole. */
static void cut_records_wait_for_more(void **state)
{
    (void)state;
    unsigned char buf[4 * HPOOL__CHUNK_CODE_MAX];
    hpool__chunk_code enc = {0};
    hpool__chunk_rec a = varied(30), b = varied(31);
    size_t ka = hpool__chunk_encode(&enc, &a, buf);
    size_t kb = hpool__chunk_encode(&enc, &b, buf + ka);
    hpool__chunk_code dec = {0};
    hpool__chunk_rec got;
    assert_int_equal(hpool__chunk_decode(&dec, buf, ka, &got), (long)ka);
    hpool__chunk_code before = dec;
    for (size_t cut = 0; cut < kb; cut++) {
        assert_int_equal(hpool__chunk_decode(&dec, buf + ka, cut, &got), 0);
        assert_memory_equal(&dec, &before, sizeof dec);
    }
    assert_int_equal(hpool__chunk_decode(&dec, buf + ka, kb, &got), (long)kb);
    assert_same_record(&b, &got);
}

static void overlong_varint_is_refused(void **state)
{
    (void)state;
    unsigned char bad[16];
    memset(bad, 0x80, sizeof bad); /* every byte says "more follows" */
    hpool__chunk_code dec = {0};
    hpool__chunk_rec got;
    assert_int_equal(hpool__chunk_decode(&dec, bad, sizeof bad, &got), -1);
    assert_int_equal(hpool__chunk_decode(&dec, bad, 10, &got), -1); /* 10 bytes, no end */
    assert_int_equal(hpool__chunk_decode(&dec, bad, 9, &got), 0);   /* could still end */
}

static void non_finite_times_become_zero(void **state)
{
    (void)state;
    unsigned char buf[HPOOL__CHUNK_CODE_MAX];
    hpool__chunk_code enc = {0}, dec = {0};
    hpool__chunk_rec c = varied(5);
    c.t_result = NAN;
    c.t_end = INFINITY;
    size_t k = hpool__chunk_encode(&enc, &c, buf);
    hpool__chunk_rec got;
    assert_int_equal(hpool__chunk_decode(&dec, buf, k, &got), (long)k);
    assert_same_time(0, got.t_result);
    assert_same_time(0, got.t_end);
    assert_same_time(c.t_start, got.t_start);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(map_items_are_small),
        cmocka_unit_test(cut_records_wait_for_more),
        cmocka_unit_test(overlong_varint_is_refused),
        cmocka_unit_test(non_finite_times_become_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
