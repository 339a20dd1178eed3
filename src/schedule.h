/* Chunk schedules: how many items the next call item (chunk) gets.
 *
 * Each schedule is a function of (N items, P workers, R remaining, chunksize, what was
 * measured per worker) plus the little state its formula needs (TSS's step, FAC's
 * batch), kept in hpool__schedule. One file per schedule under src/schedule/; the
 * fourteen DLS techniques (STATIC, SS, FSC, mFSC, GSS, TSS, FAC, WF, AWF, AWF-B..E, AF)
 * and CPython's fixed chunking. docs/SCHEDULES.md lists formulas and sources.
 *
 * The manager thread owns a schedule; nothing here locks.
 *
 * Copies: the struct may be copied to try a next() without committing it (map.c plans a
 * chunk on a copy). Copies share the per-worker table `w`, which only the committing
 * calls change (observe, dispatched, set_weights) plus next()'s AWF-B/D weight snapshot
 * at a batch start, which a trial that opens a batch computes exactly as the committed
 * call will (from the same measurements), so a trial leaves nothing behind that matters.
 * The table is sized at init from P: no fixed worker limit. */
#ifndef HPOOL_SCHEDULE_H
#define HPOOL_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

#include "hpool.h"

/* What the schedule knows of one worker. Times are task times (the chunk's busy time on
 * the worker) unless said otherwise. */
typedef struct hpool__schedule_worker {
    uint64_t items;       /* items measured */
    uint64_t chunks;      /* chunks measured */
    double task_s;        /* their total task time */
    double task_sq;       /* sum over chunks of task_s^2 / items: the variance's moment */
    double whole_s;       /* task time plus each chunk's scheduling overhead (AWF-D/E) */
    double rate;          /* items / task_s; 0 = not measured yet */
    double whole_rate;    /* items / whole_s; 0 = not measured yet */
    double batch_weight;  /* AWF-B/D: the weight frozen when the current batch opened */
    double fixed_weight;  /* WF: relative speed from the caller; 0 = not given */
    uint64_t held;        /* items dispatched to it whose results are not in */
} hpool__schedule_worker;

typedef struct hpool__schedule {
    hpool_schedule_kind kind;     /* requested kind */
    hpool_schedule_kind resolved; /* kind in force (auto picks one of the others) */
    uint64_t n;                   /* total items; 0 until known (generator maps) */
    int p;                        /* workers, >= 1 */
    uint64_t chunksize;           /* fixed size, or the minimum of dynamic kinds; >= 1 */
    bool started;                 /* first next() seen: n fixed and per-kind setup done */
    bool decided;                 /* AUTO: resolved was chosen by simulation */

    /* TSS: first and last chunk sizes, the planned number of chunks C and the index of
     * the next chunk. Chunk k is f - floor(k (f-l) / (C-1)), computed in integers. */
    uint64_t tss_first, tss_last, tss_chunks, tss_step;

    /* FAC2 / WF / AWF / AWF-B / AWF-D: chunk size of the current batch and how many
     * chunks remain in it. */
    uint64_t fac_chunk;
    int fac_left;

    /* FSC / mFSC: the one chunk size, fixed when known (0: not yet). */
    uint64_t fixed_chunk;

    /* Model inputs: scheduling overhead h per chunk and the spread of one item's time,
     * given by the caller (> 0) or measured (the overhead from observe_chunk). */
    double overhead_hint_s, sd_hint_s;
    double overhead_sum_s;
    uint64_t overhead_count;

    uint64_t dispatched; /* items dispatched (committed carves) */
    uint64_t held_total; /* of which results not in */

    hpool__schedule_worker *w; /* p entries; NULL only when init failed */
} hpool__schedule;

/* chunksize 0 means 1, p < 1 means 1; an out-of-range kind means FIXED. n may be 0 when
 * unknown; schedules that need N then use the remaining count given to the first next()
 * as their N. \return 0, or HPOOL_ENOMEM (the schedule then still hands out legal chunks,
 * as FIXED; hpool__schedule_free is safe either way). */
int hpool__schedule_init(hpool__schedule *s, hpool_schedule_kind kind, uint64_t n, int p,
                         uint64_t chunksize);
void hpool__schedule_free(hpool__schedule *s);
/* FSC/auto model inputs (<= 0 or non-finite: unknown, measure) and WF's weights (weights
 * of workers beyond n_weights, and non-positive ones, count as 1). */
void hpool__schedule_set_model(hpool__schedule *s, double overhead_s, double item_sd_s);
void hpool__schedule_set_weights(hpool__schedule *s, const double *weights, size_t n);

/* Size of the next chunk for `worker` (0..p-1) with `remaining` items left (> 0).
 * Returns a value in [1, remaining] (0 only when remaining is 0: nothing to carve). */
uint64_t hpool__schedule_next(hpool__schedule *s, uint64_t remaining, int worker);
/* A chunk of `items` was committed to `worker` (counts what it holds, for prefetch). */
void hpool__schedule_dispatched(hpool__schedule *s, int worker, uint64_t items);
/* Feed back a finished chunk: `items` took `seconds` of task time on `worker`. Reports
 * with a bad worker index, no items or a negative or non-finite time are ignored. */
void hpool__schedule_observe(hpool__schedule *s, int worker, uint64_t items, double seconds);
/* The same with the chunk's scheduling overhead (its round trip minus its task time;
 * NaN or negative: unknown), which AWF-D/E weigh in and FSC/auto take as h. */
void hpool__schedule_observe_chunk(hpool__schedule *s, int worker, uint64_t items,
                                   double task_s, double overhead_s);
/* Prefetch that respects the schedule: may `worker`, which holds items already, get a
 * further chunk of `next_size` items with `uncarved` items not yet carved? A worker
 * holding nothing always may; under a decreasing schedule one that would then hold more
 * than its share (1/P) of the work left (uncarved plus in flight) may not, so that two
 * large early chunks do not pile on one worker while others idle. AUTO, while probing,
 * keeps one probe in flight per worker. */
bool hpool__schedule_may_prefetch(const hpool__schedule *s, int worker, uint64_t next_size,
                                  uint64_t uncarved);

/* ---- Simulation (simulate.c): a discrete-event replay of a map under one schedule. ---
 * Workers take chunks when they free up (the earliest first, ties to the lowest index);
 * a chunk costs overhead_s plus its items' times. Item times are replayed from item_s
 * (n entries, scaled by worker_speed) when given, else drawn from each worker's mean and
 * the common spread (a normal, deterministic from seed, cut at 0). */
typedef struct {
    int p;
    uint64_t n;
    uint64_t chunksize;
    double overhead_s;
    const double *item_s;        /* n item times, or NULL */
    const double *worker_speed;  /* p time factors for item_s (NULL: all 1) */
    const double *worker_mean_s; /* p mean item times when item_s is NULL */
    double item_sd_s;
    const double *weights;       /* WF weights (NULL: equal) */
    uint64_t seed;
} hpool__sim_input;

typedef struct {
    double finish_s;  /* when the last worker is done */
    double imbalance; /* max / mean per-worker busy time */
    uint64_t chunks;
} hpool__sim_result;

/* \return 0, or HPOOL_EINVAL (p < 1, no item model), HPOOL_ENOMEM. */
int hpool__schedule_simulate(hpool_schedule_kind kind, const hpool__sim_input *in,
                             hpool__sim_result *out);
/* The FSC chunk (Kruskal & Weiss 1985) for n items on p workers with overhead h and
 * item-time spread sd; 0 when it cannot be computed (h or sd unknown, p = 1). */
uint64_t hpool__schedule_fsc_chunk(uint64_t n, int p, double h, double sd);

/* ---- Internal to src/schedule/: one function per kind, called by schedule.c. -------
 * Each *_next returns the formula's size; schedule.c clamps it to [1, remaining]. */
uint64_t hpool__schedule_fixed_next(const hpool__schedule *s);
uint64_t hpool__schedule_static_next(const hpool__schedule *s);
uint64_t hpool__schedule_ss_next(const hpool__schedule *s);
uint64_t hpool__schedule_fsc_next(hpool__schedule *s);
uint64_t hpool__schedule_mfsc_next(hpool__schedule *s);
uint64_t hpool__schedule_guided_next(const hpool__schedule *s, uint64_t remaining);
void hpool__schedule_trapezoid_start(hpool__schedule *s);
uint64_t hpool__schedule_trapezoid_next(hpool__schedule *s);
/* Opens a new FAC2 batch when the current one is used up; true when it did. Shared by
 * FAC2, WF and the batched AWF kinds. */
bool hpool__schedule_factoring_batch(hpool__schedule *s, uint64_t remaining);
uint64_t hpool__schedule_factoring_next(hpool__schedule *s, uint64_t remaining);
uint64_t hpool__schedule_wf_next(hpool__schedule *s, uint64_t remaining, int worker);
uint64_t hpool__schedule_awf_next(hpool__schedule *s, uint64_t remaining, int worker);
uint64_t hpool__schedule_awf_batched_next(hpool__schedule *s, uint64_t remaining, int worker,
                                          bool with_overhead);
uint64_t hpool__schedule_awf_chunked_next(const hpool__schedule *s, uint64_t remaining,
                                          int worker, bool with_overhead);
uint64_t hpool__schedule_awf_d_next(hpool__schedule *s, uint64_t remaining, int worker);
uint64_t hpool__schedule_awf_e_next(const hpool__schedule *s, uint64_t remaining, int worker);
uint64_t hpool__schedule_af_next(const hpool__schedule *s, uint64_t remaining, int worker);
/* AUTO: before the decision, the probe chunk; the decision itself (by simulation). */
uint64_t hpool__schedule_auto_probe(const hpool__schedule *s);
void hpool__schedule_auto_decide(hpool__schedule *s);

/* Shared measurement helpers (schedule.c). */
bool hpool__schedule_worker_valid(const hpool__schedule *s, int worker);
/* Mean item time over all measured chunks (0 when none), and the pooled per-item
 * standard deviation (chunk means around their worker's mean, scaled by sqrt(items));
 * the caller's hint if given; -1 while unknown (no worker with two chunks). */
double hpool__schedule_item_mean(const hpool__schedule *s);
double hpool__schedule_item_sd(const hpool__schedule *s);
/* Per-chunk overhead: the caller's hint, else the measured mean, else 0. */
double hpool__schedule_overhead(const hpool__schedule *s);
/* Workers with at least `chunks` measured chunks. */
int hpool__schedule_measured_workers(const hpool__schedule *s, uint64_t chunks);
/* Share of `worker` among all, from per-worker speeds (rate or whole_rate); an unmeasured
 * worker counts as the mean measured speed; 1/P when none is measured. */
double hpool__schedule_rate_share(const hpool__schedule *s, int worker, bool with_overhead);

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
