/* Schedule dispatch: the state every kind shares (N, P, chunksize, the per-worker table),
 * the clamp that makes every chunk legal, the measurements (observe), the prefetch rule
 * and the public name/parse pair. The formulas live in one file per kind. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"

/* Indexed by hpool_schedule_kind; the names are the CLI/TSV spelling (docs/FORMATS.md). */
static const char *const schedule_names[HPOOL_SCHED_COUNT] = {
    [HPOOL_SCHED_FIXED] = "fixed",         [HPOOL_SCHED_STATIC] = "static",
    [HPOOL_SCHED_GUIDED] = "guided",       [HPOOL_SCHED_TRAPEZOID] = "trapezoid",
    [HPOOL_SCHED_FACTORING] = "factoring", [HPOOL_SCHED_AWF] = "awf",
    [HPOOL_SCHED_AUTO] = "auto",           [HPOOL_SCHED_SS] = "ss",
    [HPOOL_SCHED_FSC] = "fsc",             [HPOOL_SCHED_MFSC] = "mfsc",
    [HPOOL_SCHED_WF] = "wf",               [HPOOL_SCHED_AWF_B] = "awf-b",
    [HPOOL_SCHED_AWF_C] = "awf-c",         [HPOOL_SCHED_AWF_D] = "awf-d",
    [HPOOL_SCHED_AWF_E] = "awf-e",         [HPOOL_SCHED_AF] = "af",
};

static bool kind_valid(hpool_schedule_kind k)
{
    return (int)k >= 0 && k < HPOOL_SCHED_COUNT;
}

const char *hpool_schedule_name(hpool_schedule_kind k)
{
    return kind_valid(k) ? schedule_names[k] : "unknown";
}

int hpool_schedule_parse(const char *name, hpool_schedule_kind *k)
{
    if (name == NULL || k == NULL)
        return HPOOL_EINVAL;
    for (int i = 0; i < HPOOL_SCHED_COUNT; i++) {
        if (strcmp(name, schedule_names[i]) == 0) {
            *k = (hpool_schedule_kind)i;
            return 0;
        }
    }
    return HPOOL_EINVAL;
}

int hpool__schedule_init(hpool__schedule *s, hpool_schedule_kind kind, uint64_t n, int p,
                         uint64_t chunksize)
{
    memset(s, 0, sizeof *s);
    s->kind = kind_valid(kind) ? kind : HPOOL_SCHED_FIXED;
    s->resolved = s->kind;
    s->n = n;
    s->p = p < 1 ? 1 : p;
    s->chunksize = chunksize < 1 ? 1 : chunksize;
    s->w = calloc((size_t)s->p, sizeof *s->w);
    if (s->w == NULL) {
        s->kind = s->resolved = HPOOL_SCHED_FIXED; /* needs no table */
        return HPOOL_ENOMEM;
    }
    return 0;
}

void hpool__schedule_free(hpool__schedule *s)
{
    free(s->w);
    s->w = NULL;
}

void hpool__schedule_set_model(hpool__schedule *s, double overhead_s, double item_sd_s)
{
    s->overhead_hint_s = overhead_s > 0 && isfinite(overhead_s) ? overhead_s : 0;
    s->sd_hint_s = item_sd_s > 0 && isfinite(item_sd_s) ? item_sd_s : 0;
}

void hpool__schedule_set_weights(hpool__schedule *s, const double *weights, size_t n)
{
    for (int i = 0; s->w && i < s->p; i++) {
        double v = weights && (size_t)i < n ? weights[i] : 1.0;
        s->w[i].fixed_weight = v > 0 && isfinite(v) ? v : 1.0;
    }
}

bool hpool__schedule_worker_valid(const hpool__schedule *s, int worker)
{
    return s->w != NULL && worker >= 0 && worker < s->p;
}

/* Fixes N (the first remaining count when it was unknown) and lets the kinds whose
 * formula is planned from N set themselves up. */
static void schedule_start(hpool__schedule *s, uint64_t remaining)
{
    if (s->n == 0)
        s->n = remaining;
    if (s->resolved == HPOOL_SCHED_TRAPEZOID)
        hpool__schedule_trapezoid_start(s);
    s->started = true;
}

static uint64_t formula_next(hpool__schedule *s, uint64_t remaining, int worker)
{
    switch (s->resolved) {
    case HPOOL_SCHED_STATIC:
        return hpool__schedule_static_next(s);
    case HPOOL_SCHED_SS:
        return hpool__schedule_ss_next(s);
    case HPOOL_SCHED_FSC:
        return hpool__schedule_fsc_next(s);
    case HPOOL_SCHED_MFSC:
        return hpool__schedule_mfsc_next(s);
    case HPOOL_SCHED_GUIDED:
        return hpool__schedule_guided_next(s, remaining);
    case HPOOL_SCHED_TRAPEZOID:
        return hpool__schedule_trapezoid_next(s);
    case HPOOL_SCHED_FACTORING:
        return hpool__schedule_factoring_next(s, remaining);
    case HPOOL_SCHED_WF:
        return hpool__schedule_wf_next(s, remaining, worker);
    case HPOOL_SCHED_AWF:
        return hpool__schedule_awf_next(s, remaining, worker);
    case HPOOL_SCHED_AWF_B:
        return hpool__schedule_awf_batched_next(s, remaining, worker, false);
    case HPOOL_SCHED_AWF_C:
        return hpool__schedule_awf_chunked_next(s, remaining, worker, false);
    case HPOOL_SCHED_AWF_D:
        return hpool__schedule_awf_d_next(s, remaining, worker);
    case HPOOL_SCHED_AWF_E:
        return hpool__schedule_awf_e_next(s, remaining, worker);
    case HPOOL_SCHED_AF:
        return hpool__schedule_af_next(s, remaining, worker);
    case HPOOL_SCHED_AUTO:
        return hpool__schedule_auto_probe(s);
    default: /* FIXED */
        return hpool__schedule_fixed_next(s);
    }
}

uint64_t hpool__schedule_next(hpool__schedule *s, uint64_t remaining, int worker)
{
    if (remaining == 0)
        return 0;
    if (!s->started)
        schedule_start(s, remaining);
    uint64_t size = formula_next(s, remaining, worker);
    /* The one clamp that makes every chunk legal, whatever the formula gave. */
    return size < 1 ? 1 : hpool__min_u64(size, remaining);
}

void hpool__schedule_dispatched(hpool__schedule *s, int worker, uint64_t items)
{
    s->dispatched += items;
    if (!hpool__schedule_worker_valid(s, worker))
        return;
    s->w[worker].held += items;
    s->held_total += items;
}

void hpool__schedule_observe(hpool__schedule *s, int worker, uint64_t items, double seconds)
{
    hpool__schedule_observe_chunk(s, worker, items, seconds, NAN);
}

void hpool__schedule_observe_chunk(hpool__schedule *s, int worker, uint64_t items,
                                   double task_s, double overhead_s)
{
    if (!hpool__schedule_worker_valid(s, worker) || items == 0 || !(task_s >= 0.0) ||
        !isfinite(task_s))
        return;
    hpool__schedule_worker *w = &s->w[worker];
    uint64_t back = hpool__min_u64(items, w->held);
    w->held -= back;
    s->held_total -= hpool__min_u64(back, s->held_total);
    bool known = overhead_s >= 0.0 && isfinite(overhead_s);
    if (known) {
        s->overhead_sum_s += overhead_s;
        s->overhead_count++;
    }
    /* Totals, not the last chunk: a rate over the whole history damps timer noise. A chunk
     * that took 0 s (below the timer's resolution) still adds its items. */
    w->items += items;
    w->chunks++;
    w->task_s += task_s;
    w->task_sq += task_s * task_s / (double)items;
    w->whole_s += task_s + (known ? overhead_s : 0.0);
    if (w->task_s > 0.0)
        w->rate = (double)w->items / w->task_s;
    if (w->whole_s > 0.0)
        w->whole_rate = (double)w->items / w->whole_s;
    if (s->kind == HPOOL_SCHED_AUTO && !s->decided)
        hpool__schedule_auto_decide(s);
}

int hpool__schedule_measured_workers(const hpool__schedule *s, uint64_t chunks)
{
    int count = 0;
    for (int i = 0; s->w && i < s->p; i++)
        count += s->w[i].chunks >= chunks && s->w[i].rate > 0.0;
    return count;
}

double hpool__schedule_item_mean(const hpool__schedule *s)
{
    double t = 0;
    uint64_t items = 0;
    for (int i = 0; s->w && i < s->p; i++) {
        t += s->w[i].task_s;
        items += s->w[i].items;
    }
    return items ? t / (double)items : 0.0;
}

/* A chunk of c items with per-item mean mu and spread sd has a mean t/c whose variance
 * is sd^2/c, so sum_k c_k (t_k/c_k - mu_w)^2 estimates (K - W) sd^2 over K chunks of W
 * workers. Per worker that sum is task_sq - task_s^2 / items. */
double hpool__schedule_item_sd(const hpool__schedule *s)
{
    if (s->sd_hint_s > 0)
        return s->sd_hint_s;
    double sum = 0;
    uint64_t chunks = 0, groups = 0;
    for (int i = 0; s->w && i < s->p; i++) {
        const hpool__schedule_worker *w = &s->w[i];
        if (w->chunks == 0)
            continue;
        sum += fmax(0.0, w->task_sq - w->task_s * w->task_s / (double)w->items);
        chunks += w->chunks;
        groups++;
    }
    if (chunks <= groups)
        return -1.0; /* one chunk per worker says nothing about the spread */
    double var = sum / (double)(chunks - groups);
    double mean = hpool__schedule_item_mean(s);
    /* Rounding leaves ~1e-16 relative residue where every item took the same time. */
    return var > 1e-12 * mean * mean ? sqrt(var) : 0.0;
}

double hpool__schedule_overhead(const hpool__schedule *s)
{
    if (s->overhead_hint_s > 0)
        return s->overhead_hint_s;
    return s->overhead_count ? s->overhead_sum_s / (double)s->overhead_count : 0.0;
}

double hpool__schedule_rate_share(const hpool__schedule *s, int worker, bool with_overhead)
{
    double sum = 0.0;
    int count = 0;
    for (int i = 0; s->w && i < s->p; i++) {
        double r = with_overhead ? s->w[i].whole_rate : s->w[i].rate;
        if (r > 0.0) {
            sum += r;
            count++;
        }
    }
    if (count == 0)
        return 1.0 / s->p; /* no rates yet: equal weights */
    double mean = sum / count;
    double total = sum + (double)(s->p - count) * mean;
    double mine = mean;
    if (hpool__schedule_worker_valid(s, worker)) {
        double r = with_overhead ? s->w[worker].whole_rate : s->w[worker].rate;
        if (r > 0.0)
            mine = r;
    }
    return mine / total;
}

/* Kinds whose chunks shrink as the map goes on: the ones a second large chunk could
 * leave others idle under. Fixed-size kinds keep prefetch: it hides the round trip. */
static bool decreasing(hpool_schedule_kind k)
{
    switch (k) {
    case HPOOL_SCHED_FIXED:
    case HPOOL_SCHED_SS:
    case HPOOL_SCHED_FSC:
    case HPOOL_SCHED_MFSC:
        return false;
    default:
        return true;
    }
}

bool hpool__schedule_may_prefetch(const hpool__schedule *s, int worker, uint64_t next_size,
                                  uint64_t uncarved)
{
    if (!hpool__schedule_worker_valid(s, worker) || s->w[worker].held == 0)
        return true;
    /* AUTO probing: one probe in flight per worker, so that measurements come back
     * before the probes have carved the whole map. */
    if (s->resolved == HPOOL_SCHED_AUTO)
        return false;
    if (!decreasing(s->resolved))
        return true;
    /* held + next <= (uncarved + in flight) / P, in integers. */
    uint64_t would_hold = s->w[worker].held + next_size;
    uint64_t left = uncarved + s->held_total;
    return would_hold <= left / (uint64_t)s->p;
}
