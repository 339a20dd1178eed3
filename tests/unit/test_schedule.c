/* Unit tests of the chunk schedules (src/schedule/).
 *
 * The DLS techniques added later (SS, FSC, mFSC, WF, AWF-B..E, AF), prefetch, the
 * simulation and auto have their hand-worked tests in test_schedule_dls.c.
 *
 * Every schedule is driven over whole maps (remaining counts down from N to 0, the next
 * chunk going to the worker that frees first) and its chunk sequence is compared with the
 * paper's formula recomputed here, independently of the library's arithmetic (the test
 * uses floating point where the library uses integers, and the other way round).
 *
 * `test_schedule --print` only prints the chunk sequence of every schedule for N=1000,
 * P=4, chunksize=1 (AWF/auto fed equal rates); the print_sequences test prints the same
 * table as part of the suite. */
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

typedef size_t (*expect_fn)(uint64_t n, uint64_t p, uint64_t c, uint64_t *out);

static size_t expect_fixed(uint64_t n, uint64_t p, uint64_t c, uint64_t *out)
{
    (void)p;
    size_t k = 0;
    for (uint64_t r = n; r > 0; r -= out[k++])
        out[k] = min_u(c, r);
    return k;
}

static size_t expect_static(uint64_t n, uint64_t p, uint64_t c, uint64_t *out)
{
    (void)c;
    size_t k = 0;
    for (uint64_t r = n; r > 0; r -= out[k++])
        out[k] = min_u(up(n, p), r);
    return k;
}

static size_t expect_guided(uint64_t n, uint64_t p, uint64_t c, uint64_t *out)
{
    size_t k = 0;
    for (uint64_t r = n; r > 0; r -= out[k++])
        out[k] = min_u(max_u(up(r, p), c), r);
    return k;
}

/* Tzen & Ni: f = ceil(N/2P), l = c, C = ceil(2N/(f+l)), d = (f-l)/(C-1); chunk k is
 * f - k d rounded up (the epsilon absorbs the float error at exact integers), never
 * below l. c > f or c > N make every chunk l = min(c, N). */
static size_t expect_trapezoid(uint64_t n, uint64_t p, uint64_t c, uint64_t *out)
{
    double l = (double)min_u(c, n);
    double f = fmax(ceil((double)n / (2.0 * (double)p)), l);
    double chunks = ceil(2.0 * (double)n / (f + l));
    double d = chunks > 1 ? (f - l) / (chunks - 1) : 0.0;
    size_t k = 0;
    for (uint64_t r = n; r > 0; r -= out[k++]) {
        double exact = fmax(f - (double)k * d, l);
        out[k] = min_u((uint64_t)ceil(exact - 1e-9), r);
    }
    return k;
}

/* Hummel et al. FAC2: each batch is P chunks of ceil(R/2P), R taken at the batch start. */
static size_t expect_factoring(uint64_t n, uint64_t p, uint64_t c, uint64_t *out)
{
    size_t k = 0;
    for (uint64_t r = n; r > 0;) {
        uint64_t chunk = max_u(up(r, 2 * p), c);
        for (uint64_t i = 0; i < p && r > 0; i++) {
            out[k] = min_u(chunk, r);
            r -= out[k++];
        }
    }
    return k;
}

static void expect_equal(const run *r, expect_fn fn, const plan *pl)
{
    uint64_t p = (uint64_t)workers_of(pl), c = pl->c < 1 ? 1 : pl->c;
    uint64_t *want = calloc((size_t)pl->n + 1, sizeof *want);
    assert_non_null(want);
    size_t count = fn(pl->n, p, c, want);
    for (size_t i = 0; i < count && i < r->count; i++) {
        if (r->size[i] != want[i])
            fail_msg("%s N=%llu P=%d c=%llu: chunk %zu is %llu, formula says %llu",
                     hpool_schedule_name(pl->kind), (unsigned long long)pl->n, pl->p,
                     (unsigned long long)pl->c, i, (unsigned long long)r->size[i],
                     (unsigned long long)want[i]);
    }
    if (r->count != count)
        fail_msg("%s N=%llu P=%d c=%llu: %zu chunks, formula says %zu",
                 hpool_schedule_name(pl->kind), (unsigned long long)pl->n, pl->p,
                 (unsigned long long)pl->c, r->count, count);
    free(want);
}

/* ---- Sweep over (N, P, c), known and unknown N ------------------------------------ */

static const uint64_t chunksizes[] = {1, 3, 64};

/* Calls check(plan) for P in 1..5, N in {1, P-1, P, 1000, 100003}, c in chunksizes,
 * with N given at init and with N unknown (0). */
static void sweep(hpool_schedule_kind kind, expect_fn fn, const double *rates)
{
    for (int p = 1; p <= 5; p++) {
        const uint64_t ns[] = {1, (uint64_t)p - 1, (uint64_t)p, 1000, 100003};
        for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
            if (ns[i] == 0)
                continue; /* P-1 for P=1 */
            for (size_t j = 0; j < sizeof chunksizes / sizeof chunksizes[0]; j++) {
                for (int unknown = 0; unknown <= 1; unknown++) {
                    plan pl = {.kind = kind, .n = ns[i], .p = p, .c = chunksizes[j],
                               .n_unknown = unknown, .rates = rates};
                    run r = drive(&pl);
                    expect_cover(&r, pl.n);
                    expect_equal(&r, fn, &pl);
                    run_free(&r);
                }
            }
        }
    }
}

/* One rate per worker of the sweep (P <= 5). */
static const double equal_rates[5] = {5.0, 5.0, 5.0, 5.0, 5.0};

static void test_fixed_sweep(void **state)
{
    (void)state;
    sweep(HPOOL_SCHED_FIXED, expect_fixed, NULL);
}

static void test_static_sweep(void **state)
{
    (void)state;
    sweep(HPOOL_SCHED_STATIC, expect_static, NULL);
}

static void test_guided_sweep(void **state)
{
    (void)state;
    sweep(HPOOL_SCHED_GUIDED, expect_guided, NULL);
}

static void test_trapezoid_sweep(void **state)
{
    (void)state;
    sweep(HPOOL_SCHED_TRAPEZOID, expect_trapezoid, NULL);
}

static void test_factoring_sweep(void **state)
{
    (void)state;
    sweep(HPOOL_SCHED_FACTORING, expect_factoring, NULL);
}

/* With no rates, or equal ones, AWF's weights are all 1/P: exactly FAC2. */
static void test_awf_sweep_is_factoring(void **state)
{
    (void)state;
    sweep(HPOOL_SCHED_AWF, expect_factoring, NULL);
    sweep(HPOOL_SCHED_AWF, expect_factoring, equal_rates);
}

static void test_ss_sweep(void **state)
{
    (void)state;
    sweep(HPOOL_SCHED_SS, expect_fixed, NULL);
}

/* mFSC: one size, floor(0.55 + M ln2 / ln M) with M = ceil(N/P) (M itself for M <= 2),
 * at least c. */
static size_t expect_mfsc(uint64_t n, uint64_t p, uint64_t c, uint64_t *out)
{
    uint64_t m = up(n, p);
    uint64_t k = m > 2 ? (uint64_t)floor(0.55 + (double)m * 0.6931471805599453 / log((double)m))
                       : m;
    k = max_u(k, c);
    size_t i = 0;
    for (uint64_t r = n; r > 0; r -= out[i++])
        out[i] = min_u(k, r);
    return i;
}

static void test_mfsc_sweep(void **state)
{
    (void)state;
    sweep(HPOOL_SCHED_MFSC, expect_mfsc, NULL);
}

/* With no weights, no rates, or equal ones, WF and the batched AWF kinds are FAC2. */
static void test_weighted_sweeps_are_factoring(void **state)
{
    (void)state;
    sweep(HPOOL_SCHED_WF, expect_factoring, NULL);
    sweep(HPOOL_SCHED_AWF_B, expect_factoring, NULL);
    sweep(HPOOL_SCHED_AWF_B, expect_factoring, equal_rates);
    sweep(HPOOL_SCHED_AWF_D, expect_factoring, equal_rates);
}

/* AWF-C/E with equal weights: every chunk ceil(R/2P), at least c. */
static size_t expect_half_guided(uint64_t n, uint64_t p, uint64_t c, uint64_t *out)
{
    size_t k = 0;
    for (uint64_t r = n; r > 0; r -= out[k++])
        out[k] = min_u(max_u(up(r, 2 * p), c), r);
    return k;
}

static void test_awf_chunked_sweeps(void **state)
{
    (void)state;
    sweep(HPOOL_SCHED_AWF_C, expect_half_guided, NULL);
    sweep(HPOOL_SCHED_AWF_C, expect_half_guided, equal_rates);
    sweep(HPOOL_SCHED_AWF_E, expect_half_guided, equal_rates);
}

/* ---- Properties of each schedule --------------------------------------------------- */

static void test_fixed_is_chunksize(void **state)
{
    (void)state;
    plan pl = {.kind = HPOOL_SCHED_FIXED, .n = 10, .p = 4, .c = 3};
    run r = drive(&pl);
    const uint64_t want[] = {3, 3, 3, 1}; /* CPython: the last chunk takes what is left */
    assert_int_equal(r.count, 4);
    for (size_t i = 0; i < r.count; i++)
        assert_int_equal(r.size[i], want[i]);
    run_free(&r);
}

static void test_static_is_ceil_n_over_p(void **state)
{
    (void)state;
    for (int p = 1; p <= 5; p++) {
        plan pl = {.kind = HPOOL_SCHED_STATIC, .n = 100003, .p = p, .c = 1};
        run r = drive(&pl);
        assert_int_equal(r.count, p); /* ceil(N/P) * P >= N and N >= P */
        for (size_t i = 0; i + 1 < r.count; i++)
            assert_int_equal(r.size[i], (100003 + p - 1) / p);
        run_free(&r);
    }
}

static void test_guided_non_increasing(void **state)
{
    (void)state;
    for (int p = 1; p <= 5; p++) {
        for (size_t j = 0; j < sizeof chunksizes / sizeof chunksizes[0]; j++) {
            plan pl = {.kind = HPOOL_SCHED_GUIDED, .n = 100003, .p = p, .c = chunksizes[j]};
            run r = drive(&pl);
            for (size_t i = 0; i < r.count; i++) {
                assert_true(r.size[i] >= min_u(pl.c, r.before[i]));
                if (i > 0)
                    assert_true(r.size[i] <= r.size[i - 1]);
            }
            run_free(&r);
        }
    }
}

/* N=1000, P=4: f=125, l=1, C=ceil(2000/126)=16, d=124/15=8.27, chunk k = ceil(125 - k d).
 * Rounded up, the 16 planned chunks cover more than N, so the map ends at chunk 14,
 * clipped to the 14 items left (the first 13 sum to 986). */
static void test_trapezoid_n1000_p4(void **state)
{
    (void)state;
    plan pl = {.kind = HPOOL_SCHED_TRAPEZOID, .n = 1000, .p = 4, .c = 1};
    run r = drive(&pl);
    const uint64_t want[] = {125, 117, 109, 101, 92, 84, 76, 68, 59, 51, 43, 35, 26, 14};
    assert_int_equal(r.count, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < r.count; i++)
        assert_int_equal(r.size[i], want[i]);
    assert_int_equal(r.s.tss_chunks, 16);
    run_free(&r);
}

static void test_trapezoid_first_and_non_increasing(void **state)
{
    (void)state;
    const uint64_t ns[] = {1000, 100003, 7, 64};
    for (int p = 1; p <= 5; p++) {
        for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
            uint64_t n = ns[i], f = (n + 2 * (uint64_t)p - 1) / (2 * (uint64_t)p);
            plan pl = {.kind = HPOOL_SCHED_TRAPEZOID, .n = n, .p = p, .c = 1};
            run r = drive(&pl);
            assert_int_equal(r.size[0], min_u(f, n));
            /* Rounding up makes the C planned chunks cover N: no chunk beyond C. */
            assert_true(r.count <= (2 * n + f) / (f + 1));
            for (size_t k = 1; k < r.count; k++)
                assert_true(r.size[k] <= r.size[k - 1]);
            run_free(&r);
        }
    }
}

/* Hand-computed FAC2 batches for N=1000, P=4: R = 1000, 500, 248, 124, 60, 28, 12, 4. */
static void test_factoring_n1000_p4(void **state)
{
    (void)state;
    plan pl = {.kind = HPOOL_SCHED_FACTORING, .n = 1000, .p = 4, .c = 1};
    run r = drive(&pl);
    const uint64_t batch[] = {125, 63, 31, 16, 8, 4, 2, 1};
    assert_int_equal(r.count, 4 * (sizeof batch / sizeof batch[0]));
    for (size_t i = 0; i < r.count; i++)
        assert_int_equal(r.size[i], batch[i / 4]);
    run_free(&r);
}

static void test_factoring_batches_of_p_equal(void **state)
{
    (void)state;
    for (int p = 1; p <= 5; p++) {
        plan pl = {.kind = HPOOL_SCHED_FACTORING, .n = 100003, .p = p, .c = 1};
        run r = drive(&pl);
        for (size_t b = 0; b < r.count; b += (size_t)p) {
            uint64_t chunk = up(r.before[b], 2 * (uint64_t)p);
            for (size_t i = b; i < b + (size_t)p && i < r.count; i++)
                assert_int_equal(r.size[i], min_u(chunk, r.before[i]));
        }
        run_free(&r);
    }
}

/* Worker 0 measured at 3x worker 1: the batch of 2 * ceil(1000/4) = 500 items splits
 * 375 / 125. */
static void test_awf_three_times_rate(void **state)
{
    (void)state;
    hpool__schedule s;
    hpool__schedule_init(&s, HPOOL_SCHED_AWF, 1000, 2, 1);
    hpool__schedule_observe(&s, 0, 300, 1.0);
    hpool__schedule_observe(&s, 1, 50, 0.25);
    hpool__schedule_observe(&s, 1, 50, 0.75); /* totals: 100 items in 1 s */
    assert_true(fabs(s.w[0].rate - 300.0) < 1e-9);
    assert_true(fabs(s.w[1].rate - 100.0) < 1e-9);
    uint64_t fast = hpool__schedule_next(&s, 1000, 0);
    uint64_t slow = hpool__schedule_next(&s, 1000 - fast, 1);
    assert_int_equal(fast, 375);
    assert_int_equal(slow, 125);
    hpool__schedule_free(&s);
}

/* Over a whole map with 3:1 rates known from the start (primed), each FAC2 batch splits
 * 3:1 between the workers, the fast one gets 3/4 of the items, and both finish together. */
static void test_awf_whole_map_unequal(void **state)
{
    (void)state;
    const double rates[2] = {3.0, 1.0};
    plan pl = {.kind = HPOOL_SCHED_AWF, .n = 100003, .p = 2, .c = 1, .rates = rates,
               .primed = true};
    run r = drive(&pl);
    expect_cover(&r, pl.n);
    uint64_t items[2] = {0, 0};
    for (size_t i = 0; i < r.count; i++)
        items[r.worker[i]] += r.size[i];
    assert_true(fabs((double)items[0] / (double)pl.n - 0.75) < 0.01);
    double finish0 = (double)items[0] / rates[0], finish1 = (double)items[1] / rates[1];
    assert_true(fabs(finish0 - finish1) < 0.01 * finish1);
    size_t checked = 0;
    for (size_t b = 0; b + 1 < r.count; b += 2) { /* batch b/2: chunks b and b+1 */
        if (r.worker[b] == r.worker[b + 1] || r.size[b + 1] < 20)
            continue; /* one worker took both, or rounding dominates */
        uint64_t fast = r.worker[b] == 0 ? r.size[b] : r.size[b + 1];
        uint64_t slow = r.worker[b] == 0 ? r.size[b + 1] : r.size[b];
        assert_true(fabs((double)fast / (double)slow - 3.0) < 0.2);
        checked++;
    }
    assert_true(checked >= 5);
    run_free(&r);
}

/* An unmeasured worker counts as the mean measured rate: with rates 2 and 4 it weighs 3,
 * a third of 9, so it gets a third of the batch 3 * ceil(900/6) = 450. */
static void test_awf_unmeasured_counts_as_mean(void **state)
{
    (void)state;
    hpool__schedule s;
    hpool__schedule_init(&s, HPOOL_SCHED_AWF, 900, 3, 1);
    hpool__schedule_observe(&s, 0, 2, 1.0);
    hpool__schedule_observe(&s, 1, 4, 1.0);
    assert_int_equal(hpool__schedule_next(&s, 900, 2), 150);
    assert_int_equal(hpool__schedule_next(&s, 750, 0), 100);
    assert_int_equal(hpool__schedule_next(&s, 650, 1), 200);
    hpool__schedule_free(&s);
}

static void test_resolved_is_kind(void **state)
{
    (void)state;
    for (int k = 0; k < HPOOL_SCHED_COUNT; k++) {
        hpool__schedule s;
        hpool__schedule_init(&s, (hpool_schedule_kind)k, 100, 4, 1);
        assert_int_equal(s.kind, k);
        assert_int_equal(s.resolved, k);
        hpool__schedule_free(&s);
    }
}

/* ---- Guards ------------------------------------------------------------------------ */

static void test_guards(void **state)
{
    (void)state;
    for (int k = 0; k < HPOOL_SCHED_COUNT; k++) {
        hpool__schedule s;
        /* p < 1 is one worker, chunksize 0 is 1. */
        hpool__schedule_init(&s, (hpool_schedule_kind)k, 10, 0, 0);
        assert_int_equal(s.p, 1);
        assert_int_equal(s.chunksize, 1);
        assert_int_equal(hpool__schedule_next(&s, 0, 0), 0); /* nothing to carve */
        /* Out-of-range workers and bogus reports must neither crash nor count. */
        hpool__schedule_observe(&s, -1, 10, 1.0);
        hpool__schedule_observe(&s, 1, 10, 1.0);
        hpool__schedule_observe(&s, 1 << 20, 10, 1.0);
        hpool__schedule_observe(&s, 0, 10, -1.0);
        hpool__schedule_observe(&s, 0, 10, NAN);
        hpool__schedule_observe(&s, 0, 10, INFINITY);
        hpool__schedule_observe(&s, 0, 0, 1.0);
        hpool__schedule_dispatched(&s, -3, 5);
        assert_int_equal(s.w[0].items, 0);
        assert_true(s.w[0].rate == 0.0);
        assert_true(hpool__schedule_may_prefetch(&s, 77, 5, 5));
        uint64_t left = 10;
        while (left > 0) {
            uint64_t got = hpool__schedule_next(&s, left, k % 2 ? -5 : 99);
            assert_in_range(got, 1, left);
            left -= got;
        }
        hpool__schedule_free(&s);
        hpool__schedule_free(&s); /* twice is safe */
    }
    hpool__schedule s;
    hpool__schedule_init(&s, (hpool_schedule_kind)99, 10, -3, 0);
    assert_int_equal(s.resolved, HPOOL_SCHED_FIXED);
    assert_int_equal(hpool__schedule_next(&s, 10, 0), 1);
    hpool__schedule_free(&s);
}

/* A chunk that took 0 s (below timer resolution) adds items but no rate until time
 * accumulates; auto must not divide by it. */
static void test_zero_seconds(void **state)
{
    (void)state;
    hpool__schedule s;
    hpool__schedule_init(&s, HPOOL_SCHED_AUTO, 100, 2, 1);
    hpool__schedule_next(&s, 100, 0);
    hpool__schedule_observe(&s, 0, 10, 0.0);
    hpool__schedule_observe(&s, 1, 10, 0.0);
    hpool__schedule_observe(&s, 1, 10, 0.0);
    assert_false(s.decided);
    assert_true(s.w[0].rate == 0.0);
    hpool__schedule_observe(&s, 0, 10, 1.0);
    assert_true(fabs(s.w[0].rate - 20.0) < 1e-12);
    hpool__schedule_free(&s);
}

/* No fixed worker limit: 1000 workers, every one measured and weighted. */
static void test_many_workers(void **state)
{
    (void)state;
    hpool__schedule s;
    assert_int_equal(hpool__schedule_init(&s, HPOOL_SCHED_AWF, 1000000, 1000, 1), 0);
    for (int w = 0; w < 1000; w++)
        hpool__schedule_observe(&s, w, w == 999 ? 20 : 10, 1.0);
    assert_true(fabs(s.w[999].rate - 20.0) < 1e-12);
    /* Batch 1000 * 500; worker 999 weighs 20 of 10010. */
    assert_int_equal(hpool__schedule_next(&s, 1000000, 999), 999);
    assert_int_equal(hpool__schedule_next(&s, 999001, 3), 500);
    hpool__schedule_free(&s);
}

/* ---- Names ------------------------------------------------------------------------- */

static void test_name_parse_round_trip(void **state)
{
    (void)state;
    const char *names[] = {"fixed", "static", "guided", "trapezoid", "factoring", "awf",
                           "auto",  "ss",     "fsc",    "mfsc",      "wf",        "awf-b",
                           "awf-c", "awf-d",  "awf-e",  "af"};
    assert_int_equal(sizeof names / sizeof names[0], HPOOL_SCHED_COUNT);
    for (int k = 0; k < HPOOL_SCHED_COUNT; k++) {
        assert_string_equal(hpool_schedule_name((hpool_schedule_kind)k), names[k]);
        hpool_schedule_kind parsed = HPOOL_SCHED_COUNT;
        assert_int_equal(hpool_schedule_parse(names[k], &parsed), 0);
        assert_int_equal(parsed, k);
    }
}
static void test_parse_unknown(void **state)
{
    (void)state;
    hpool_schedule_kind k = HPOOL_SCHED_GUIDED;
    assert_int_equal(HPOOL_EINVAL, -1);
    assert_int_equal(hpool_schedule_parse("dynamic", &k), HPOOL_EINVAL);
    assert_int_equal(hpool_schedule_parse("", &k), HPOOL_EINVAL);
    assert_int_equal(hpool_schedule_parse("fixedx", &k), HPOOL_EINVAL);
    assert_int_equal(hpool_schedule_parse(NULL, &k), HPOOL_EINVAL);
    assert_int_equal(hpool_schedule_parse("fixed", NULL), HPOOL_EINVAL);
    assert_int_equal(k, HPOOL_SCHED_GUIDED); /* untouched on failure */
    assert_string_equal(hpool_schedule_name(HPOOL_SCHED_COUNT), "unknown");
    assert_string_equal(hpool_schedule_name((hpool_schedule_kind)-1), "unknown");
}

/* ---- The quotable table ------------------------------------------------------------ */

/* Prints the table; returns how many sequences do not cover the 1000 items exactly with
 * chunks of at least one item (0 when all do). */
static int print_sequences(void)
{
    int bad = 0;
    printf("chunk sequences, N=1000 P=4 chunksize=1 (awf/auto fed equal rates)\n");
    for (int k = 0; k < HPOOL_SCHED_COUNT; k++) {
        plan pl = {.kind = (hpool_schedule_kind)k, .n = 1000, .p = 4, .c = 1,
                   .rates = equal_rates};
        run r = drive(&pl);
        uint64_t sum = 0;
        printf("%-9s (%s, %zu chunks):", hpool_schedule_name(pl.kind),
               hpool_schedule_name(r.s.resolved), r.count);
        for (size_t i = 0; i < r.count; i++) {
            /* Runs of equal sizes as size*count, so fixed's 1000 ones fit a line. */
            size_t j = i;
            while (j + 1 < r.count && r.size[j + 1] == r.size[i])
                j++;
            if (j > i)
                printf(" %llu*%zu", (unsigned long long)r.size[i], j - i + 1);
            else
                printf(" %llu", (unsigned long long)r.size[i]);
            sum += r.size[i] * (j - i + 1);
            bad += r.size[i] == 0;
            i = j;
        }
        printf("  (sum %llu)\n", (unsigned long long)sum);
        bad += sum != 1000 || r.count == 0;
        run_free(&r);
    }
    return bad;
}

static void test_print_sequences(void **state)
{
    (void)state;
    assert_int_equal(print_sequences(), 0);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--print") == 0) {
        return print_sequences() == 0 ? 0 : 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_sweep),
        cmocka_unit_test(test_static_sweep),
        cmocka_unit_test(test_guided_sweep),
        cmocka_unit_test(test_trapezoid_sweep),
        cmocka_unit_test(test_factoring_sweep),
        cmocka_unit_test(test_awf_sweep_is_factoring),
        cmocka_unit_test(test_ss_sweep),
        cmocka_unit_test(test_mfsc_sweep),
        cmocka_unit_test(test_weighted_sweeps_are_factoring),
        cmocka_unit_test(test_awf_chunked_sweeps),
        cmocka_unit_test(test_fixed_is_chunksize),
        cmocka_unit_test(test_static_is_ceil_n_over_p),
        cmocka_unit_test(test_guided_non_increasing),
        cmocka_unit_test(test_trapezoid_n1000_p4),
        cmocka_unit_test(test_trapezoid_first_and_non_increasing),
        cmocka_unit_test(test_factoring_n1000_p4),
        cmocka_unit_test(test_factoring_batches_of_p_equal),
        cmocka_unit_test(test_awf_three_times_rate),
        cmocka_unit_test(test_awf_whole_map_unequal),
        cmocka_unit_test(test_awf_unmeasured_counts_as_mean),
        cmocka_unit_test(test_resolved_is_kind),
        cmocka_unit_test(test_guards),
        cmocka_unit_test(test_zero_seconds),
        cmocka_unit_test(test_many_workers),
        cmocka_unit_test(test_name_parse_round_trip),
        cmocka_unit_test(test_parse_unknown),
        cmocka_unit_test(test_print_sequences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
