/* Timing records: which events a bounded trace.json keeps (records_select.h has the rule).
 *
 * A browser trace viewer loads the whole JSON document into memory: at a million call
 * items trace.json is ~200 MB and does not open. chunks.tsv / spans.tsv (and the OTF2
 * trace hpool-bench writes from them) keep every record; trace.json keeps what a person
 * looks at first: how the run started, how it ended, and what went wrong or took long
 * on the way. Memory is fixed (two histograms), whatever the number of records. */
#include <math.h>
#include <stdlib.h>

#include "records_select.h"

enum {
    T_BINS = 1 << 16, /* start times, linear over the run */
    D_BINS = 512,     /* durations, 8 per octave from 2^-40 s */
    D_PER_OCTAVE = 8,
    D_LOW_OCTAVE = -40,
    STRAGGLER_BINS = 2 * D_PER_OCTAVE, /* 4x the median */
};

struct hpool__trace_select {
    uint64_t cap;
    double t_max;
    uint64_t t_hist[T_BINS];              /* both kinds: the windows are shared */
    uint64_t d_hist[SEL_KINDS][D_BINS];
    uint64_t total[SEL_KINDS], faults;
    /* the plan */
    int head_bins, tail_bin;             /* keep t bins < head_bins and >= tail_bin */
    int straggler_bin[SEL_KINDS];        /* keep d bins >= this (D_BINS: none) */
    uint64_t fault_cap;
    /* the second pass */
    uint64_t kept[SEL_KINDS], faults_kept, stragglers_kept;
};

static int t_bin(const hpool__trace_select *s, double t)
{
    double x = t / s->t_max * T_BINS;
    if (!(x > 0)) /* also NaN: a garbled time goes with the start */
        return 0;
    return x >= T_BINS - 1 ? T_BINS - 1 : (int)x;
}

static int d_bin(double d)
{
    if (!(d > 0))
        return 0;
    double x = (log2(d) - D_LOW_OCTAVE) * D_PER_OCTAVE;
    if (!(x > 0))
        return 0;
    return x >= D_BINS - 1 ? D_BINS - 1 : (int)x;
}

hpool__trace_select *hpool__trace_select_new(uint64_t max_events, double t_max)
{
    hpool__trace_select *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->cap = max_events;
    s->t_max = t_max > 0 ? t_max : 1.0;
    return s;
}

void hpool__trace_select_free(hpool__trace_select *s)
{
    free(s);
}

void hpool__trace_select_count(hpool__trace_select *s, int kind, double t_start,
                               double dur_per_item, bool fault)
{
    s->t_hist[t_bin(s, t_start)]++;
    s->d_hist[kind][d_bin(dur_per_item)]++;
    s->total[kind]++;
    s->faults += fault;
}

/* The first duration bin of the stragglers of one kind: 4x the median bin, or higher
 * until at most `budget` events are at or above it. */
static int straggler_bin(const uint64_t *h, uint64_t total, uint64_t budget)
{
    if (total == 0)
        return D_BINS;
    uint64_t acc = 0;
    int median = 0;
    while (median < D_BINS - 1 && (acc += h[median]) * 2 < total)
        median++;
    int b = median + STRAGGLER_BINS;
    if (b >= D_BINS)
        return D_BINS;
    uint64_t above = 0;
    for (int i = b; i < D_BINS; i++)
        above += h[i];
    while (b < D_BINS && above > budget)
        above -= h[b++];
    return b;
}

static uint64_t at_or_above(const uint64_t *h, int b)
{
    uint64_t n = 0;
    for (int i = b; i < D_BINS; i++)
        n += h[i];
    return n;
}

void hpool__trace_select_plan(hpool__trace_select *s)
{
    s->fault_cap = s->cap / 2;
    uint64_t special = s->faults < s->fault_cap ? s->faults : s->fault_cap;
    for (int k = 0; k < SEL_KINDS; k++) {
        s->straggler_bin[k] = straggler_bin(s->d_hist[k], s->total[k], s->cap / 8);
        special += at_or_above(s->d_hist[k], s->straggler_bin[k]);
    }
    uint64_t window = s->cap > special ? s->cap - special : 0;
    uint64_t head = 0, tail = 0;
    int h = 0;
    while (h < T_BINS && head + s->t_hist[h] <= window / 2)
        head += s->t_hist[h++];
    int t = T_BINS;
    while (t > h && head + tail + s->t_hist[t - 1] <= window)
        tail += s->t_hist[--t];
    s->head_bins = h;
    s->tail_bin = t;
}

bool hpool__trace_select_keep(hpool__trace_select *s, int kind, double t_start,
                              double dur_per_item, bool fault)
{
    int b = t_bin(s, t_start);
    bool keep = b < s->head_bins || b >= s->tail_bin;
    if (!keep && fault && s->faults_kept < s->fault_cap) {
        s->faults_kept++;
        keep = true;
    }
    if (!keep && d_bin(dur_per_item) >= s->straggler_bin[kind]) {
        s->stragglers_kept++;
        keep = true;
    }
    s->kept[kind] += keep;
    return keep;
}

void hpool__trace_select_summary_get(const hpool__trace_select *s,
                                     hpool__trace_select_summary *out)
{
    for (int k = 0; k < SEL_KINDS; k++) {
        out->total[k] = s->total[k];
        out->kept[k] = s->kept[k];
        int b = s->straggler_bin[k];
        out->straggler_s[k] =
            b >= D_BINS ? INFINITY : exp2((double)b / D_PER_OCTAVE + D_LOW_OCTAVE);
    }
    out->faults_kept = s->faults_kept;
    out->stragglers_kept = s->stragglers_kept;
    out->head_until = (double)s->head_bins / T_BINS * s->t_max;
    out->tail_from = (double)s->tail_bin / T_BINS * s->t_max;
}
