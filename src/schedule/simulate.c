/* A small discrete-event simulation of one map under one schedule, for auto (auto.c)
 * and for `hpool-bench simulate`. Workers ask for a chunk when they free up, as in
 * hpool's manager with one call item in flight; the schedule learns a chunk's time when
 * its worker asks again (the result is in by then), so the adaptive kinds see what they
 * would see in a real run. A chunk costs the overhead h (the round trip) plus its items'
 * times. Simulating a schedule costs O(chunks): runs beyond SIM_MAX_CHUNKS chunks stop
 * and report an infinite finish time, which ranks them last (they pay overhead on more
 * chunks than any run worth choosing). */
#include <math.h>
#include <stdlib.h>

#include "schedule.h"

#define SIM_MAX_CHUNKS 200000

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* A standard normal, deterministic in (seed, k): Box-Muller on two splitmix draws. */
static double normal(uint64_t seed, uint64_t k)
{
    uint64_t a = splitmix64(seed ^ (2 * k)), b = splitmix64(seed ^ (2 * k + 1));
    double u = ((double)(a >> 11) + 0.5) / 9007199254740992.0;
    double v = (double)(b >> 11) / 9007199254740992.0;
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

typedef struct {
    double free_at, busy;
    uint64_t pending_items; /* the chunk it is running, told to the schedule when done */
    double pending_task;
} sim_worker;

static double chunk_time(const hpool__sim_input *in, const double *prefix, int w,
                         uint64_t first, uint64_t c, uint64_t k)
{
    if (prefix) {
        double speed = in->worker_speed ? in->worker_speed[w] : 1.0;
        return (prefix[first + c] - prefix[first]) * speed;
    }
    double t = (double)c * in->worker_mean_s[w] +
               sqrt((double)c) * in->item_sd_s * normal(in->seed, k);
    return t > 0 ? t : 0;
}

static int earliest(const sim_worker *ws, int p)
{
    int best = 0;
    for (int i = 1; i < p; i++)
        if (ws[i].free_at < ws[best].free_at)
            best = i;
    return best;
}

static void tell_done(hpool__schedule *s, sim_worker *sw, int w, double h)
{
    if (sw->pending_items)
        hpool__schedule_observe_chunk(s, w, sw->pending_items, sw->pending_task, h);
    sw->pending_items = 0;
}

static void summarise(const sim_worker *ws, int p, uint64_t chunks, hpool__sim_result *out)
{
    double max_free = 0, max_busy = 0, sum_busy = 0;
    for (int i = 0; i < p; i++) {
        max_free = fmax(max_free, ws[i].free_at);
        max_busy = fmax(max_busy, ws[i].busy);
        sum_busy += ws[i].busy;
    }
    out->finish_s = max_free;
    out->imbalance = sum_busy > 0 ? max_busy / (sum_busy / p) : 1.0;
    out->chunks = chunks;
}

static double *prefix_sums(const double *item_s, uint64_t n)
{
    double *prefix = malloc((size_t)(n + 1) * sizeof *prefix);
    if (prefix == NULL)
        return NULL;
    prefix[0] = 0;
    for (uint64_t i = 0; i < n; i++)
        prefix[i + 1] = prefix[i] + (item_s[i] > 0 ? item_s[i] : 0);
    return prefix;
}

int hpool__schedule_simulate(hpool_schedule_kind kind, const hpool__sim_input *in,
                             hpool__sim_result *out)
{
    if (in->p < 1 || (in->item_s == NULL && in->worker_mean_s == NULL) ||
        kind == HPOOL_SCHED_AUTO || (int)kind < 0 || kind >= HPOOL_SCHED_COUNT)
        return HPOOL_EINVAL;
    hpool__schedule s;
    sim_worker *ws = calloc((size_t)in->p, sizeof *ws);
    double *prefix = in->item_s ? prefix_sums(in->item_s, in->n) : NULL;
    if (ws == NULL || (in->item_s && prefix == NULL) ||
        hpool__schedule_init(&s, kind, in->n, in->p, in->chunksize) != 0) {
        free(ws);
        free(prefix);
        return HPOOL_ENOMEM;
    }
    double h = in->overhead_s > 0 ? in->overhead_s : 0;
    hpool__schedule_set_model(&s, h, in->item_s ? 0 : in->item_sd_s);
    hpool__schedule_set_weights(&s, in->weights, in->weights ? (size_t)in->p : 0);
    uint64_t first = 0, chunks = 0;
    while (first < in->n && chunks < SIM_MAX_CHUNKS) {
        int w = earliest(ws, in->p);
        tell_done(&s, &ws[w], w, h);
        uint64_t c = hpool__schedule_next(&s, in->n - first, w);
        hpool__schedule_dispatched(&s, w, c);
        double task = chunk_time(in, prefix, w, first, c, chunks);
        ws[w].free_at += h + task;
        ws[w].busy += task;
        ws[w].pending_items = c;
        ws[w].pending_task = task;
        first += c;
        chunks++;
    }
    summarise(ws, in->p, chunks, out);
    if (first < in->n)
        out->finish_s = INFINITY;
    hpool__schedule_free(&s);
    free(ws);
    free(prefix);
    return 0;
}
