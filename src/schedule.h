/* Chunk schedules: how many items the next call item (chunk) gets.
 *
 * Each schedule is a pure function of (N items, P workers, R remaining, chunksize, the
 * per-worker measured rates) plus the little state its formula needs (TSS's step, FAC's
 * batch), kept in hpool__schedule. One file per schedule under src/schedule/.
 * The manager thread owns a schedule; nothing here locks. */
#ifndef HPOOL_SCHEDULE_H
#define HPOOL_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

#include "hpool.h"

#define HPOOL__MAX_WORKERS 1024 /* interim (issue 13): helper "core" sizes these from the communicator */

typedef struct hpool__schedule {
    hpool_schedule_kind kind;     /* requested kind */
    hpool_schedule_kind resolved; /* kind in force (auto picks one of the others) */
    uint64_t n;                   /* total items; 0 until known (generator maps) */
    int p;                        /* workers, >= 1 */
    uint64_t chunksize;           /* fixed size, or the minimum of dynamic kinds; >= 1 */
    bool started;                 /* first next() seen: n fixed and per-kind setup done */
    bool decided;                 /* AUTO: resolved was chosen from the measured rates */

    /* TSS: first and last chunk sizes, the planned number of chunks C and the index of
     * the next chunk. Chunk k is f - floor(k (f-l) / (C-1)), computed in integers. */
    uint64_t tss_first, tss_last, tss_chunks, tss_step;

    /* FAC2 / AWF: chunk size of the current batch and how many chunks remain in it. */
    uint64_t fac_chunk;
    int fac_left;

    /* AWF / AUTO: measured items per second of each worker (0 = not measured yet),
     * from the totals below (rate = items / seconds over the worker's whole history). */
    double rate[HPOOL__MAX_WORKERS];
    uint64_t observed_items[HPOOL__MAX_WORKERS];
    double observed_seconds[HPOOL__MAX_WORKERS];
} hpool__schedule;

/* chunksize 0 means 1, p < 1 means 1; an out-of-range kind means FIXED. n may be 0 when
 * unknown; schedules that need N then use the remaining count given to the first next()
 * as their N. */
void hpool__schedule_init(hpool__schedule *s, hpool_schedule_kind kind, uint64_t n, int p,
                          uint64_t chunksize);
/* Size of the next chunk for `worker` (0..p-1) with `remaining` items left (> 0).
 * Returns a value in [1, remaining] (0 only when remaining is 0: nothing to carve). */
uint64_t hpool__schedule_next(hpool__schedule *s, uint64_t remaining, int worker);
/* Feed back a finished chunk: `items` took `seconds` of task time on `worker`. Reports
 * with a bad worker index, no items or a negative or non-finite time are ignored. */
void hpool__schedule_observe(hpool__schedule *s, int worker, uint64_t items, double seconds);

/* ---- Internal to src/schedule/: one function per kind, called by schedule.c. -------
 * Each *_next returns the formula's size; schedule.c clamps it to [1, remaining]. */
uint64_t hpool__schedule_fixed_next(const hpool__schedule *s);
uint64_t hpool__schedule_static_next(const hpool__schedule *s);
uint64_t hpool__schedule_guided_next(const hpool__schedule *s, uint64_t remaining);
void hpool__schedule_trapezoid_start(hpool__schedule *s);
uint64_t hpool__schedule_trapezoid_next(hpool__schedule *s);
/* Opens a new FAC2 batch when the current one is used up; shared by FAC2 and AWF. */
void hpool__schedule_factoring_batch(hpool__schedule *s, uint64_t remaining);
uint64_t hpool__schedule_factoring_next(hpool__schedule *s, uint64_t remaining);
uint64_t hpool__schedule_awf_next(hpool__schedule *s, uint64_t remaining, int worker);
/* AUTO: once every worker has a rate, fix `resolved` to AWF or FACTORING. */
void hpool__schedule_auto_decide(hpool__schedule *s);

/* Workers that have rate slots: the rest count as unmeasured. */
static inline int hpool__schedule_rate_slots(const hpool__schedule *s)
{
    return s->p < HPOOL__MAX_WORKERS ? s->p : HPOOL__MAX_WORKERS;
}

/* ceil(a / b) without the overflow of (a + b - 1) / b; b > 0. */
static inline uint64_t hpool__ceil_div(uint64_t a, uint64_t b)
{
    return a / b + (a % b != 0);
}

static inline uint64_t hpool__max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

static inline uint64_t hpool__min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

#endif
