/* Unit tests of the DLS techniques added beside the classic schedules (SS, FSC, mFSC, WF,
 * AWF-B..E, AF), of prefetch that respects the schedule, of the discrete-event
 * simulation and of auto's selection by it (src/schedule/). Every expected value is
 * worked out by hand in the comment above its test, for a small N and P. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedule_drive.h"


/* SS: N=10, P=3: ten chunks of 1; with chunksize 3 (its floor): 3, 3, 3, 1. */
static void test_ss_by_hand(void **state)
{
    (void)state;
    plan pl = {.kind = HPOOL_SCHED_SS, .n = 10, .p = 3, .c = 1};
    run r = drive(&pl);
    assert_int_equal(r.count, 10);
    for (size_t i = 0; i < r.count; i++)
        assert_int_equal(r.size[i], 1);
    run_free(&r);
    plan p3 = {.kind = HPOOL_SCHED_SS, .n = 10, .p = 3, .c = 3};
    run r3 = drive(&p3);
    const uint64_t want[] = {3, 3, 3, 1};
    assert_int_equal(r3.count, 4);
    for (size_t i = 0; i < r3.count; i++)
        assert_int_equal(r3.size[i], want[i]);
    run_free(&r3);
}

/* FSC, N=1000, P=4, h=1 ms, sigma=10 ms: sqrt2*1000*0.001 = 1.41421; 0.01*4*sqrt(ln 4) =
 * 0.0470964; ratio 30.028; ^(2/3) = 9.66 -> 10: 100 chunks of 10. */
static void test_fsc_by_hand(void **state)
{
    (void)state;
    assert_int_equal(hpool__schedule_fsc_chunk(1000, 4, 1e-3, 1e-2), 10);
    assert_int_equal(hpool__schedule_fsc_chunk(1000, 4, 0.0, 1e-2), 1);  /* no overhead */
    assert_int_equal(hpool__schedule_fsc_chunk(1000, 1, 1e-3, 1e-2), 1000); /* one worker */
    assert_int_equal(hpool__schedule_fsc_chunk(1000, 4, 1e-3, 0.0), 250); /* no spread */
    assert_int_equal(hpool__schedule_fsc_chunk(1000, 4, 1e3, 1e-6), 1000); /* huge h */
    hpool__schedule s;
    hpool__schedule_init(&s, HPOOL_SCHED_FSC, 1000, 4, 1);
    hpool__schedule_set_model(&s, 1e-3, 1e-2);
    uint64_t left = 1000, count = 0;
    while (left > 0) {
        uint64_t got = hpool__schedule_next(&s, left, (int)(count % 4));
        assert_int_equal(got, 10);
        left -= got;
        count++;
    }
    assert_int_equal(count, 100);
    hpool__schedule_free(&s);
}

/* FSC without a spread given probes with chunksize items, then measures it: worker 0's
 * chunks of 10 items took 1 s and 3 s, so mu = 0.2 s, sum c (t/c - mu)^2 = 10 (0.01 +
 * 0.01) = 0.2 over 2 chunks - 1 worker: sigma = sqrt(0.2) = 0.4472. With h = 10 ms:
 * sqrt2*1000*0.01 / (0.4472*4*1.17741) = 6.7145, ^(2/3) = 3.559 -> 4. */
static void test_fsc_measured(void **state)
{
    (void)state;
    hpool__schedule s;
    hpool__schedule_init(&s, HPOOL_SCHED_FSC, 1000, 4, 2);
    hpool__schedule_set_model(&s, 0.01, 0.0);
    assert_int_equal(hpool__schedule_next(&s, 1000, 0), 2); /* probe */
    hpool__schedule_observe(&s, 0, 10, 1.0);
    assert_int_equal(hpool__schedule_next(&s, 998, 1), 2); /* one chunk: no spread yet */
    hpool__schedule_observe(&s, 0, 10, 3.0);
    assert_true(fabs(hpool__schedule_item_sd(&s) - sqrt(0.2)) < 1e-12);
    assert_true(hpool__schedule_item_mean(&s) == 0.2);
    assert_int_equal(hpool__schedule_next(&s, 996, 2), 4);
    hpool__schedule_observe(&s, 1, 10, 30.0); /* fixed for good once chosen */
    assert_int_equal(hpool__schedule_next(&s, 992, 3), 4);
    hpool__schedule_free(&s);
}

/* mFSC, N=1000, P=4: M=250, 250 ln2 / ln250 = 173.287/5.5215 = 31.38, +0.55 -> 31:
 * 32 chunks of 31 (992) and one of 8. */
static void test_mfsc_by_hand(void **state)
{
    (void)state;
    plan pl = {.kind = HPOOL_SCHED_MFSC, .n = 1000, .p = 4, .c = 1};
    run r = drive(&pl);
    assert_int_equal(r.count, 33);
    for (size_t i = 0; i + 1 < r.count; i++)
        assert_int_equal(r.size[i], 31);
    assert_int_equal(r.size[32], 8);
    run_free(&r);
}

/* WF, N=1000, P=2, weights 3:1: batch 1 is 2*ceil(1000/4) = 500 -> 375 / 125; batch 2
 * from R=500 is 2*125 = 250 -> round(187.5) = 188 / round(62.5) = 63. */
static void test_wf_by_hand(void **state)
{
    (void)state;
    const double weights[2] = {3.0, 1.0};
    hpool__schedule s;
    hpool__schedule_init(&s, HPOOL_SCHED_WF, 1000, 2, 1);
    hpool__schedule_set_weights(&s, weights, 2);
    assert_int_equal(hpool__schedule_next(&s, 1000, 0), 375);
    assert_int_equal(hpool__schedule_next(&s, 625, 1), 125);
    assert_int_equal(hpool__schedule_next(&s, 500, 0), 188);
    assert_int_equal(hpool__schedule_next(&s, 312, 1), 63);
    /* Measured rates change nothing: the weights are fixed. */
    hpool__schedule_observe(&s, 1, 1000, 1.0);
    /* Batch 3 from R=249: 2 * ceil(249/4) = 126, worker 1's quarter round(31.5) = 32. */
    assert_int_equal(hpool__schedule_next(&s, 249, 1), 32);
    hpool__schedule_free(&s);
}

/* AWF-B, N=1000, P=2, rates 300 and 100: weights 3/4 and 1/4 frozen at the batch start:
 * 375, then 125 even though worker 1 has sped up meanwhile (300 items in 1.5 s = 200/s).
 * Batch 2 (R=500, 250 items) uses 300:200: 150 / 100. AWF, whose weights move at every
 * chunk, gives worker 1 round(500 * 200/500) = 200 instead of 125. */
static void test_awf_b_by_hand(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        hpool__schedule s;
        hpool__schedule_init(&s, k ? HPOOL_SCHED_AWF : HPOOL_SCHED_AWF_B, 1000, 2, 1);
        hpool__schedule_observe(&s, 0, 300, 1.0);
        hpool__schedule_observe(&s, 1, 100, 1.0);
        assert_int_equal(hpool__schedule_next(&s, 1000, 0), 375);
        hpool__schedule_observe(&s, 1, 200, 0.5);
        assert_int_equal(hpool__schedule_next(&s, 625, 1), k ? 200 : 125);
        if (k == 0) {
            assert_int_equal(hpool__schedule_next(&s, 500, 0), 150);
            assert_int_equal(hpool__schedule_next(&s, 350, 1), 100);
        }
        hpool__schedule_free(&s);
    }
}

/* AWF-C, rates 300 and 100, no batches: 2 * ceil(1000/4) * 3/4 = 375, then from R=625
 * 2 * ceil(625/4) * 1/4 = 2 * 157 / 4 = 78.5 -> 79. */
static void test_awf_c_by_hand(void **state)
{
    (void)state;
    hpool__schedule s;
    hpool__schedule_init(&s, HPOOL_SCHED_AWF_C, 1000, 2, 1);
    hpool__schedule_observe(&s, 0, 300, 1.0);
    hpool__schedule_observe(&s, 1, 100, 1.0);
    assert_int_equal(hpool__schedule_next(&s, 1000, 0), 375);
    assert_int_equal(hpool__schedule_next(&s, 625, 1), 79);
    hpool__schedule_free(&s);
}

/* AWF-D / AWF-E count the overhead: worker 0 did 300 items in 1 s of task time plus
 * 0.5 s of overhead (200/s whole), worker 1 100 items in 1 s with none (100/s): weights
 * 2/3 and 1/3, so 500 * 2/3 = 333 where AWF-B / AWF-C (task time only: 3/4) give 375. */
static void test_awf_d_e_by_hand(void **state)
{
    (void)state;
    const hpool_schedule_kind kinds[] = {HPOOL_SCHED_AWF_D, HPOOL_SCHED_AWF_E,
                                         HPOOL_SCHED_AWF_B, HPOOL_SCHED_AWF_C};
    for (size_t i = 0; i < 4; i++) {
        hpool__schedule s;
        hpool__schedule_init(&s, kinds[i], 1000, 2, 1);
        hpool__schedule_observe_chunk(&s, 0, 300, 1.0, 0.5);
        hpool__schedule_observe_chunk(&s, 1, 100, 1.0, 0.0);
        assert_int_equal(hpool__schedule_next(&s, 1000, 0), i < 2 ? 333 : 375);
        hpool__schedule_free(&s);
    }
}

/* AF, N=1000, P=2, sigma = 1 s given, mu0 = 10 ms (100/s), mu1 = 20 ms (50/s), R=850:
 * D = 1 * 150 = 150, T = 1/150, D + 2TR = 161.333, sqrt(D (D + 4TR)) = sqrt(150 *
 * 172.667) = 160.935, difference 0.3982; / (2 mu): worker 0 19.91 + 0.55 -> 20, worker 1
 * 9.96 + 0.55 -> 10. Before a worker is measured: chunksize. */
static void test_af_by_hand(void **state)
{
    (void)state;
    hpool__schedule s;
    hpool__schedule_init(&s, HPOOL_SCHED_AF, 1000, 2, 3);
    hpool__schedule_set_model(&s, 0.0, 1.0);
    assert_int_equal(hpool__schedule_next(&s, 1000, 0), 3);
    hpool__schedule_observe(&s, 0, 100, 1.0);
    assert_int_equal(hpool__schedule_next(&s, 900, 1), 3); /* worker 1 unmeasured */
    hpool__schedule_observe(&s, 1, 50, 1.0);
    assert_int_equal(hpool__schedule_next(&s, 850, 0), 20);
    assert_int_equal(hpool__schedule_next(&s, 850, 1), 10);
    hpool__schedule_free(&s);
}

/* AF with no spread would hand a worker its whole share: capped at ceil(N/2P). */
static void test_af_cap(void **state)
{
    (void)state;
    hpool__schedule s;
    hpool__schedule_init(&s, HPOOL_SCHED_AF, 1000, 2, 1);
    hpool__schedule_set_model(&s, 0.0, 1e-9);
    hpool__schedule_observe(&s, 0, 100, 1.0);
    hpool__schedule_observe(&s, 1, 100, 1.0);
    assert_int_equal(hpool__schedule_next(&s, 800, 0), 250);
    hpool__schedule_free(&s);
}

/* Every kind covers whole maps with unequal workers (3:1) fed back, N known or not. */
static void test_every_kind_covers(void **state)
{
    (void)state;
    const double rates[3] = {3.0, 1.0, 1.0};
    for (int k = 0; k < HPOOL_SCHED_COUNT; k++) {
        for (int unknown = 0; unknown <= 1; unknown++) {
            plan pl = {.kind = (hpool_schedule_kind)k, .n = 10007, .p = 3, .c = 2,
                       .rates = rates, .n_unknown = unknown};
            run r = drive(&pl);
            expect_cover(&r, pl.n);
            run_free(&r);
        }
    }
}

/* ---- Prefetch that respects the schedule ------------------------------------------- */

/* GSS, N=1000, P=2: worker 0 holds the first chunk of 500. A second one (250 of the 500
 * uncarved) would make it hold 750 of the 1000 left, more than its share of 500: no. A
 * worker holding nothing always may; fixed chunking always may; once the result is in,
 * worker 0 holds nothing and may again. */
static void test_may_prefetch(void **state)
{
    (void)state;
    hpool__schedule s;
    hpool__schedule_init(&s, HPOOL_SCHED_GUIDED, 1000, 2, 1);
    uint64_t first = hpool__schedule_next(&s, 1000, 0);
    assert_int_equal(first, 500);
    hpool__schedule_dispatched(&s, 0, first);
    assert_false(hpool__schedule_may_prefetch(&s, 0, 250, 500));
    assert_true(hpool__schedule_may_prefetch(&s, 1, 250, 500));
    hpool__schedule_observe(&s, 0, 500, 1.0);
    assert_true(hpool__schedule_may_prefetch(&s, 0, 250, 500));
    hpool__schedule_free(&s);

    /* FAC2: both workers hold 250, next chunks 125 of 500 uncarved: 375 <= 1000/2. */
    hpool__schedule_init(&s, HPOOL_SCHED_FACTORING, 1000, 2, 1);
    hpool__schedule_dispatched(&s, 0, 250);
    hpool__schedule_dispatched(&s, 1, 250);
    assert_true(hpool__schedule_may_prefetch(&s, 0, 125, 500));
    /* ... but near the end, 125 held + 60 more of 120 uncarved + 250 in flight: no. */
    hpool__schedule_observe(&s, 1, 125, 1.0);
    assert_false(hpool__schedule_may_prefetch(&s, 0, 60, 60));
    hpool__schedule_free(&s);

    hpool__schedule_init(&s, HPOOL_SCHED_FIXED, 1000, 2, 400);
    hpool__schedule_dispatched(&s, 0, 400);
    assert_true(hpool__schedule_may_prefetch(&s, 0, 400, 600));
    hpool__schedule_free(&s);
}

/* ---- Simulation -------------------------------------------------------------------- */

/* Items {3,1,1,1} on 2 workers, by hand. h = 0: fixed(1): worker 0 runs item 0 (0..3),
 * worker 1 items 1-3 (0..3): finish 3, busy 3/3. static: {3,1} and {1,1}: finish 4,
 * imbalance 4/3. h = 0.5: fixed(1): 3.5 and 1.5, 3.0, 4.5: finish 4.5; static 4.5. */
static void test_simulate_by_hand(void **state)
{
    (void)state;
    const double items[4] = {3, 1, 1, 1};
    hpool__sim_input in = {.p = 2, .n = 4, .chunksize = 1, .item_s = items};
    hpool__sim_result r;
    assert_int_equal(hpool__schedule_simulate(HPOOL_SCHED_FIXED, &in, &r), 0);
    assert_true(fabs(r.finish_s - 3.0) < 1e-12);
    assert_true(fabs(r.imbalance - 1.0) < 1e-12);
    assert_int_equal(r.chunks, 4);
    assert_int_equal(hpool__schedule_simulate(HPOOL_SCHED_STATIC, &in, &r), 0);
    assert_true(fabs(r.finish_s - 4.0) < 1e-12);
    assert_true(fabs(r.imbalance - 4.0 / 3.0) < 1e-12);
    assert_int_equal(r.chunks, 2);
    in.overhead_s = 0.5;
    assert_int_equal(hpool__schedule_simulate(HPOOL_SCHED_FIXED, &in, &r), 0);
    assert_true(fabs(r.finish_s - 4.5) < 1e-12);
    assert_int_equal(hpool__schedule_simulate(HPOOL_SCHED_STATIC, &in, &r), 0);
    assert_true(fabs(r.finish_s - 4.5) < 1e-12);
    /* A slower worker (speed factor 2 on worker 1) under fixed(1), h=0: worker 0 takes
     * item 0 (0..3), worker 1 item 1 (0..2), item 2 (2..4), worker 0 item 3 (3..4). */
    const double speed[2] = {1, 2};
    in.overhead_s = 0;
    in.worker_speed = speed;
    assert_int_equal(hpool__schedule_simulate(HPOOL_SCHED_FIXED, &in, &r), 0);
    assert_true(fabs(r.finish_s - 4.0) < 1e-12);
    /* Bad input. */
    assert_int_equal(hpool__schedule_simulate(HPOOL_SCHED_AUTO, &in, &r), HPOOL_EINVAL);
    in.item_s = NULL;
    assert_int_equal(hpool__schedule_simulate(HPOOL_SCHED_FIXED, &in, &r), HPOOL_EINVAL);
}

/* Model mode: equal workers, no spread, item 1 ms, 1000 items on 4 workers, h = 0:
 * every schedule finishes at 250 ms; with h = 10 ms SS pays 250 chunks each. */
static void test_simulate_model(void **state)
{
    (void)state;
    const double mean[4] = {1e-3, 1e-3, 1e-3, 1e-3};
    hpool__sim_input in = {.p = 4, .n = 1000, .chunksize = 1, .worker_mean_s = mean};
    for (int k = 0; k < HPOOL_SCHED_COUNT; k++) {
        hpool__sim_result r;
        if (k == HPOOL_SCHED_AUTO)
            continue;
        assert_int_equal(hpool__schedule_simulate((hpool_schedule_kind)k, &in, &r), 0);
        assert_true(r.finish_s > 0.25 - 1e-9); /* no schedule beats the total work / P */
        assert_true(r.imbalance >= 1.0 - 1e-9);
        /* Equal chunks, one per worker per round: exactly balanced. */
        if (k == HPOOL_SCHED_FIXED || k == HPOOL_SCHED_STATIC || k == HPOOL_SCHED_SS ||
            k == HPOOL_SCHED_FACTORING)
            assert_true(fabs(r.finish_s - 0.25) < 1e-9);
    }
    in.overhead_s = 0.01;
    hpool__sim_result ss, st;
    hpool__schedule_simulate(HPOOL_SCHED_SS, &in, &ss);
    hpool__schedule_simulate(HPOOL_SCHED_STATIC, &in, &st);
    assert_true(fabs(ss.finish_s - (0.25 + 250 * 0.01)) < 1e-9);
    assert_true(fabs(st.finish_s - (0.25 + 0.01)) < 1e-9);
}

/* ---- Auto: probes, then the simulated best ------------------------------------------ */

/* Probes are max(c, ceil(N/16P)); no decision until every worker reported and the spread
 * is known (P+1 chunks). With a huge overhead (100 s a chunk) and equal workers, the
 * simulation's best is STATIC: P chunks for the rest of the map. */
static void test_auto_probes_then_decides(void **state)
{
    (void)state;
    hpool__schedule s;
    hpool__schedule_init(&s, HPOOL_SCHED_AUTO, 1000, 2, 1);
    hpool__schedule_set_model(&s, 100.0, 0.0);
    assert_int_equal(s.resolved, HPOOL_SCHED_AUTO);
    uint64_t a = hpool__schedule_next(&s, 1000, 0);
    assert_int_equal(a, 32); /* ceil(1000/32) */
    hpool__schedule_dispatched(&s, 0, a);
    uint64_t b = hpool__schedule_next(&s, 968, 1);
    hpool__schedule_dispatched(&s, 1, b);
    hpool__schedule_observe(&s, 0, 32, 0.032);
    assert_false(s.decided); /* worker 1 not measured */
    hpool__schedule_observe(&s, 1, 32, 0.032);
    assert_false(s.decided); /* no spread yet: P chunks */
    uint64_t c = hpool__schedule_next(&s, 936, 0);
    hpool__schedule_dispatched(&s, 0, c);
    hpool__schedule_observe(&s, 0, 32, 0.034);
    assert_true(s.decided);
    assert_int_equal(s.resolved, HPOOL_SCHED_STATIC);
    assert_int_equal(hpool__schedule_next(&s, 904, 1), 452); /* ceil(904/2) */
    hpool__schedule_free(&s);
}

static void test_auto_whole_map(void **state)
{
    (void)state;
    const double rates[4] = {1.0, 1.0, 1.0, 4.0};
    plan pl = {.kind = HPOOL_SCHED_AUTO, .n = 100003, .p = 4, .c = 1, .rates = rates};
    run r = drive(&pl);
    expect_cover(&r, pl.n);
    assert_true(r.s.decided);
    assert_true(r.s.resolved != HPOOL_SCHED_AUTO);
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ss_by_hand),
        cmocka_unit_test(test_fsc_by_hand),
        cmocka_unit_test(test_fsc_measured),
        cmocka_unit_test(test_mfsc_by_hand),
        cmocka_unit_test(test_wf_by_hand),
        cmocka_unit_test(test_awf_b_by_hand),
        cmocka_unit_test(test_awf_c_by_hand),
        cmocka_unit_test(test_awf_d_e_by_hand),
        cmocka_unit_test(test_af_by_hand),
        cmocka_unit_test(test_af_cap),
        cmocka_unit_test(test_every_kind_covers),
        cmocka_unit_test(test_may_prefetch),
        cmocka_unit_test(test_simulate_by_hand),
        cmocka_unit_test(test_simulate_model),
        cmocka_unit_test(test_auto_probes_then_decides),
        cmocka_unit_test(test_auto_whole_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
