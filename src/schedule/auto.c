/* AUTO: selection by simulation, as DLS4LB/LB4OMP choose among techniques, done inside
 * the map. It first hands out probe chunks of max(chunksize, ceil(N/16P)) items, so
 * that every worker is measured on a small part of the work. Once every worker has
 * reported a chunk and the spread of item times is known (one more chunk than workers),
 * it simulates the R items left under every other schedule (simulate.c) with each
 * worker's measured mean item time, the pooled spread and the scheduling overhead, and
 * keeps the schedule with the lowest predicted finish time for the rest of the map. The
 * decision is final so that the schedule reported for the map
 * (hpool_map_schedule_used) does not flip back and forth. */
#include <math.h>
#include <stdlib.h>

#include "schedule.h"

#define AUTO_PROBE_DIVISOR 16 /* probes take about 1/16 of a worker's share each */
/* Overhead per chunk assumed when neither the caller nor the manager gave one: about one
 * round trip of a call item over shared memory with the manager on a busy node. Zero
 * would make the simulation believe the smallest chunks are free. */
#define AUTO_DEFAULT_OVERHEAD_S 50e-6

uint64_t hpool__schedule_auto_probe(const hpool__schedule *s)
{
    return hpool__max_u64(s->chunksize,
                          hpool__ceil_div(s->n, AUTO_PROBE_DIVISOR * (uint64_t)s->p));
}

/* The remaining map planned afresh under the chosen kind: R is its N. */
static void switch_to(hpool__schedule *s, hpool_schedule_kind k, uint64_t remaining)
{
    s->resolved = k;
    s->decided = true;
    s->n = remaining;
    s->fac_left = 0;
    s->fixed_chunk = 0;
    if (k == HPOOL_SCHED_TRAPEZOID)
        hpool__schedule_trapezoid_start(s);
}

static bool ready(const hpool__schedule *s, uint64_t *chunks, uint64_t *items)
{
    *chunks = 0;
    *items = 0;
    for (int i = 0; s->w && i < s->p; i++) {
        *chunks += s->w[i].chunks;
        *items += s->w[i].items;
    }
    return s->started && hpool__schedule_measured_workers(s, 1) == s->p &&
           hpool__schedule_item_sd(s) >= 0.0;
}

void hpool__schedule_auto_decide(hpool__schedule *s)
{
    uint64_t chunks, measured;
    if (!ready(s, &chunks, &measured))
        return;
    uint64_t done = hpool__max_u64(s->dispatched, measured);
    uint64_t remaining = s->n > done ? s->n - done : 0;
    double *mean = malloc((size_t)s->p * sizeof *mean);
    double *weights = malloc((size_t)s->p * sizeof *weights);
    if (remaining == 0 || mean == NULL || weights == NULL) {
        free(mean);
        free(weights);
        switch_to(s, HPOOL_SCHED_FACTORING, remaining);
        return;
    }
    for (int i = 0; i < s->p; i++) {
        mean[i] = 1.0 / s->w[i].rate;
        weights[i] = s->w[i].fixed_weight > 0 ? s->w[i].fixed_weight : 1.0;
    }
    double h = hpool__schedule_overhead(s);
    hpool__sim_input in = {.p = s->p, .n = remaining, .chunksize = s->chunksize,
                           .overhead_s = h > 0 ? h : AUTO_DEFAULT_OVERHEAD_S,
                           .worker_mean_s = mean,
                           .item_sd_s = hpool__schedule_item_sd(s), .weights = weights,
                           .seed = 1};
    hpool_schedule_kind best = HPOOL_SCHED_FACTORING;
    double best_t = INFINITY;
    for (int k = 0; k < HPOOL_SCHED_COUNT; k++) {
        hpool__sim_result r;
        if (k == HPOOL_SCHED_AUTO ||
            hpool__schedule_simulate((hpool_schedule_kind)k, &in, &r) != 0)
            continue;
        if (r.finish_s < best_t) {
            best_t = r.finish_s;
            best = (hpool_schedule_kind)k;
        }
    }
    free(mean);
    free(weights);
    switch_to(s, best, remaining);
}
