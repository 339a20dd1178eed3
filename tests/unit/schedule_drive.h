/* Shared by the schedule unit tests (test_schedule.c, test_schedule_dls.c): driving a
 * schedule over a whole map as a pool would (the next chunk to the worker that frees
 * first, measured rates fed back) and the invariants every chunk sequence must keep.
 * Include after cmocka.h. */
#ifndef HPOOL_TEST_SCHEDULE_DRIVE_H
#define HPOOL_TEST_SCHEDULE_DRIVE_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "schedule.h"

/* ---- Driving a schedule over a whole map ------------------------------------------ */

typedef struct {
    hpool_schedule_kind kind;
    uint64_t n;
    int p;
    uint64_t c;
    bool n_unknown;      /* init with n = 0, as generator maps do */
    const double *rates; /* items/s of each worker, fed back via observe; NULL: none */
    bool primed;         /* observe every worker's rate once before the first chunk */
} plan;

typedef struct {
    uint64_t *size;   /* chunk sizes, in carving order */
    uint64_t *before; /* remaining count each chunk was carved from */
    int *worker;      /* worker each chunk went to */
    size_t count;
    hpool__schedule s; /* final state (resolved kind, rates) */
} run;

static inline int workers_of(const plan *pl)
{
    return pl->p < 1 ? 1 : pl->p;
}

/* Worker that becomes free first (lowest index on ties), as a pool hands out slots. */
static inline int earliest_free(const double *clock, int p)
{
    int best = 0;
    for (int w = 1; w < p; w++)
        if (clock[w] < clock[best])
            best = w;
    return best;
}

static inline run drive(const plan *pl)
{
    run r = {0};
    size_t cap = (size_t)pl->n + 1; /* every chunk is >= 1 item */
    r.size = calloc(cap, sizeof *r.size);
    r.before = calloc(cap, sizeof *r.before);
    r.worker = calloc(cap, sizeof *r.worker);
    assert_non_null(r.size);
    assert_non_null(r.before);
    assert_non_null(r.worker);
    assert_int_equal(hpool__schedule_init(&r.s, pl->kind, pl->n_unknown ? 0 : pl->n, pl->p,
                                          pl->c),
                     0);
    double *clock = calloc((size_t)workers_of(pl), sizeof *clock);
    assert_non_null(clock);
    for (int w = 0; pl->primed && w < workers_of(pl); w++)
        hpool__schedule_observe(&r.s, w, (uint64_t)(100.0 * pl->rates[w]), 100.0);
    for (uint64_t left = pl->n; left > 0;) {
        assert_true(r.count < cap);
        int w = earliest_free(clock, workers_of(pl));
        uint64_t got = hpool__schedule_next(&r.s, left, w);
        assert_in_range(got, 1, left);
        r.size[r.count] = got;
        r.before[r.count] = left;
        r.worker[r.count] = w;
        r.count++;
        hpool__schedule_dispatched(&r.s, w, got);
        double rate = pl->rates ? pl->rates[w] : 1.0;
        clock[w] += (double)got / rate;
        if (pl->rates)
            hpool__schedule_observe(&r.s, w, got, (double)got / rate);
        left -= got;
    }
    free(clock);
    return r;
}

static inline void run_free(run *r)
{
    free(r->size);
    free(r->before);
    free(r->worker);
    hpool__schedule_free(&r->s);
}

/* ---- The formulas, recomputed independently --------------------------------------- */

static inline uint64_t up(uint64_t a, uint64_t b)
{
    return (uint64_t)ceil((double)a / (double)b);
}

static inline uint64_t min_u(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static inline uint64_t max_u(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

/* Invariants of every schedule: chunks in [1, R], R counting down to exactly 0. */
static inline void expect_cover(const run *r, uint64_t n)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < r->count; i++) {
        assert_int_equal(r->before[i], n - sum);
        assert_in_range(r->size[i], 1, r->before[i]);
        sum += r->size[i];
    }
    assert_int_equal(sum, n);
}

#endif
