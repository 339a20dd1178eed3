/* Schedule dispatch: the state every kind shares (N, P, chunksize, measured rates), the
 * clamp that makes every chunk legal, and the public name/parse pair. The formulas live
 * in one file per kind. */
#include <math.h>
#include <string.h>

#include "schedule.h"

/* Indexed by hpool_schedule_kind; the names are the CLI/TSV spelling (docs/FORMATS.md). */
static const char *const schedule_names[HPOOL_SCHED_COUNT] = {
    [HPOOL_SCHED_FIXED] = "fixed",         [HPOOL_SCHED_STATIC] = "static",
    [HPOOL_SCHED_GUIDED] = "guided",       [HPOOL_SCHED_TRAPEZOID] = "trapezoid",
    [HPOOL_SCHED_FACTORING] = "factoring", [HPOOL_SCHED_AWF] = "awf",
    [HPOOL_SCHED_AUTO] = "auto",
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

void hpool__schedule_init(hpool__schedule *s, hpool_schedule_kind kind, uint64_t n, int p,
                          uint64_t chunksize)
{
    memset(s, 0, sizeof *s);
    s->kind = kind_valid(kind) ? kind : HPOOL_SCHED_FIXED;
    /* AUTO starts as FAC2: it needs no rates, and AWF with no rates is FAC2 anyway. */
    s->resolved = s->kind == HPOOL_SCHED_AUTO ? HPOOL_SCHED_FACTORING : s->kind;
    s->n = n;
    s->p = p < 1 ? 1 : p;
    s->chunksize = chunksize < 1 ? 1 : chunksize;
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
    case HPOOL_SCHED_GUIDED:
        return hpool__schedule_guided_next(s, remaining);
    case HPOOL_SCHED_TRAPEZOID:
        return hpool__schedule_trapezoid_next(s);
    case HPOOL_SCHED_FACTORING:
        return hpool__schedule_factoring_next(s, remaining);
    case HPOOL_SCHED_AWF:
        return hpool__schedule_awf_next(s, remaining, worker);
    default: /* FIXED; AUTO never stays resolved to itself */
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

void hpool__schedule_observe(hpool__schedule *s, int worker, uint64_t items, double seconds)
{
    if (worker < 0 || worker >= hpool__schedule_rate_slots(s) || items == 0 ||
        !(seconds >= 0.0) || !isfinite(seconds))
        return;
    /* Totals, not the last chunk: a rate over the whole history damps timer noise. A chunk
     * that took 0 s (below the timer's resolution) still adds its items. */
    s->observed_items[worker] += items;
    s->observed_seconds[worker] += seconds;
    if (s->observed_seconds[worker] > 0.0)
        s->rate[worker] = (double)s->observed_items[worker] / s->observed_seconds[worker];
    if (s->kind == HPOOL_SCHED_AUTO && !s->decided)
        hpool__schedule_auto_decide(s);
}
