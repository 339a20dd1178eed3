/* "Where the time went": per worker of each recorded run, from chunks.tsv, the share of
 * the run spent running call items and the shares lost around them, and the longest
 * gaps, so that report.md answers the question before anyone opens a trace.
 *
 * A run lasts from its first dispatch to its last result (rank 0's clock). A worker runs
 * its call items one after another (completion order is its run order), so that span
 * splits exactly, per worker, into:
 *   busy          running call items (t_start .. t_end);
 *   waiting       for a call item to arrive: from the run's start to its first t_recv,
 *                 and between call items while the next had not been received
 *                 (the manager did not keep it fed);
 *   overhead      between call items with the next one already there (unpacking,
 *                 sending the result: the pool's own cost per call item);
 *   done early    after its last call item, while other workers still ran (imbalance).
 * The file is streamed row by row (tsv_stream.h): memory grows with runs x workers, not
 * with rows. A row that does not parse stops the section with its file, line and value. */
#include "time_breakdown.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tsv_stream.h"

enum { TOP_GAPS = 3 };

typedef struct {
    int rank;
    uint64_t items;
    double busy, waiting, overhead;
    double first_recv, first_start, last_end;
    double gap[TOP_GAPS], gap_at[TOP_GAPS]; /* longest first */
} worker_acc;

typedef struct {
    long run;
    double t_first, t_last; /* first dispatch, last result */
    worker_acc *w;
    size_t nw, capw;
} run_acc;

typedef struct {
    run_acc *r;
    size_t n, cap;
} breakdown;

static run_acc *run_of(breakdown *b, long run)
{
    for (size_t i = b->n; i-- > 0;) /* rows of a run are contiguous: the last one first */
        if (b->r[i].run == run)
            return &b->r[i];
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 16;
        run_acc *r = realloc(b->r, cap * sizeof *r);
        if (r == NULL)
            return NULL;
        b->r = r;
        b->cap = cap;
    }
    b->r[b->n] = (run_acc){.run = run, .t_first = INFINITY, .t_last = -INFINITY};
    return &b->r[b->n++];
}

static worker_acc *worker_of(run_acc *r, int rank)
{
    for (size_t i = 0; i < r->nw; i++)
        if (r->w[i].rank == rank)
            return &r->w[i];
    if (r->nw == r->capw) {
        size_t cap = r->capw ? 2 * r->capw : 8;
        worker_acc *w = realloc(r->w, cap * sizeof *w);
        if (w == NULL)
            return NULL;
        r->w = w;
        r->capw = cap;
    }
    r->w[r->nw] = (worker_acc){.rank = rank};
    return &r->w[r->nw++];
}

static void note_gap(worker_acc *w, double gap, double at)
{
    for (int i = 0; i < TOP_GAPS; i++) {
        if (gap > w->gap[i]) {
            memmove(&w->gap[i + 1], &w->gap[i], (TOP_GAPS - 1 - (size_t)i) * sizeof *w->gap);
            memmove(&w->gap_at[i + 1], &w->gap_at[i],
                    (TOP_GAPS - 1 - (size_t)i) * sizeof *w->gap_at);
            w->gap[i] = gap;
            w->gap_at[i] = at;
            return;
        }
    }
}

enum { C_RUN, C_WORKER, C_DISPATCH, C_RECV, C_START, C_END, C_RESULT, C_N };
static const char *const COLS[C_N] = {"run",   "worker", "t_dispatch", "t_recv",
                                      "t_start", "t_end", "t_result"};

static int add_row(breakdown *b, hpool_bench_tsv *t)
{
    double v[C_N];
    int64_t run, worker;
    bool ok = hpool_bench_tsv_i64(t, C_RUN, INT32_MIN, INT32_MAX, &run) &&
              hpool_bench_tsv_i64(t, C_WORKER, 0, INT32_MAX, &worker);
    for (int i = C_DISPATCH; i < C_N && ok; i++)
        ok = hpool_bench_tsv_double(t, i, &v[i]);
    if (!ok)
        return -1;
    run_acc *r = run_of(b, (long)run);
    worker_acc *w = r ? worker_of(r, (int)worker) : NULL;
    if (w == NULL)
        return hpool_bench_tsv_fail(t, "out of memory");
    r->t_first = fmin(r->t_first, v[C_DISPATCH]);
    r->t_last = fmax(r->t_last, v[C_RESULT]);
    if (w->items == 0) {
        w->first_recv = v[C_RECV];
        w->first_start = v[C_START];
    } else {
        double gap = fmax(0, v[C_START] - w->last_end);
        double wait = fmin(gap, fmax(0, v[C_RECV] - w->last_end));
        w->waiting += wait;
        w->overhead += gap - wait;
        note_gap(w, gap, w->last_end);
    }
    w->busy += fmax(0, v[C_END] - v[C_START]);
    w->last_end = fmax(w->last_end, v[C_END]);
    w->items++;
    return 0;
}

/* 0 loaded, 1 no chunks.tsv, -1 with the message in err. */
static int load(breakdown *b, const char *path, char *err, size_t errlen)
{
    hpool_bench_tsv t;
    int rc = hpool_bench_tsv_open(&t, path, COLS, C_N, err, errlen);
    while (rc == 0 && (rc = hpool_bench_tsv_next(&t)) == 1)
        rc = add_row(b, &t);
    hpool_bench_tsv_close(&t);
    return rc;
}

/* The four shares of one worker, in seconds (they sum to the run's span). */
static void shares(const run_acc *r, const worker_acc *w, double *wait, double *over,
                   double *early)
{
    *wait = w->waiting + fmax(0, w->first_recv - r->t_first);
    *over = w->overhead + fmax(0, w->first_start - fmax(w->first_recv, r->t_first));
    *early = fmax(0, r->t_last - w->last_end);
}

static double pct(double part, double whole)
{
    return whole > 0 ? 100 * part / whole : 0;
}

/* Means over the workers of a run, in % of its span. */
static void run_means(const run_acc *r, double m[4])
{
    double span = r->t_last - r->t_first;
    memset(m, 0, 4 * sizeof *m);
    for (size_t i = 0; i < r->nw; i++) {
        double wait, over, early;
        shares(r, &r->w[i], &wait, &over, &early);
        m[0] += pct(r->w[i].busy, span);
        m[1] += pct(wait, span);
        m[2] += pct(over, span);
        m[3] += pct(early, span);
    }
    for (int k = 0; k < 4; k++)
        m[k] /= r->nw ? (double)r->nw : 1;
}

static void write_detail(FILE *f, const run_acc *r)
{
    double span = r->t_last - r->t_first;
    fprintf(f,
            "Per worker, run %ld (the lowest busy share; %.6f s from its first dispatch to "
            "its last result):\n\n"
            "| worker | call items | busy | waiting for work | overhead | done early | "
            "longest gaps (s, at s into the run) |\n|---|---|---|---|---|---|---|\n",
            r->run, span);
    for (size_t i = 0; i < r->nw; i++) {
        const worker_acc *w = &r->w[i];
        double wait, over, early;
        shares(r, w, &wait, &over, &early);
        fprintf(f, "| %d | %llu | %.6f s (%.1f%%) | %.6f s (%.1f%%) | %.6f s (%.1f%%) | "
                   "%.6f s (%.1f%%) |",
                w->rank, (unsigned long long)w->items, w->busy, pct(w->busy, span), wait,
                pct(wait, span), over, pct(over, span), early, pct(early, span));
        for (int g = 0; g < TOP_GAPS && w->gap[g] > 0; g++)
            fprintf(f, "%s%.6f at %.6f", g ? ", " : " ", w->gap[g], w->gap_at[g]);
        fputs(" |\n", f);
    }
    fputc('\n', f);
}

int hpool_bench_write_time_breakdown(FILE *f, const char *results_dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/chunks.tsv", results_dir);
    breakdown b = {0};
    char err[512];
    int rc = load(&b, path, err, sizeof err);
    if (rc < 0)
        fprintf(f, "## Where the time went\n\nNot computed: %s\n\n", err);
    if (rc == 0 && b.n > 0) {
        fputs("## Where the time went\n\n"
              "From chunks.tsv, per worker over each run (first dispatch to last result): "
              "**busy** running call items, **waiting** for a call item to arrive (the "
              "manager did not keep it fed), **overhead** between call items that were "
              "already there (the pool's cost per call item), **done early** after its "
              "last call item while others still ran (imbalance). Means over the "
              "workers, in % of the run:\n\n"
              "| run | workers | span (s) | busy | waiting | overhead | done early |\n"
              "|---|---|---|---|---|---|---|\n",
              f);
        enum { MAX_ROWS = 40 };
        size_t lowest = 0;
        double low = INFINITY;
        for (size_t i = 0; i < b.n; i++) {
            double m[4];
            run_means(&b.r[i], m);
            if (m[0] < low) {
                low = m[0];
                lowest = i;
            }
            if (i < MAX_ROWS)
                fprintf(f, "| %ld | %zu | %.6f | %.1f%% | %.1f%% | %.1f%% | %.1f%% |\n",
                        b.r[i].run, b.r[i].nw, b.r[i].t_last - b.r[i].t_first, m[0], m[1],
                        m[2], m[3]);
        }
        if (b.n > MAX_ROWS)
            fprintf(f, "| ... | %zu more runs in chunks.tsv | | | | | |\n", b.n - MAX_ROWS);
        fputc('\n', f);
        write_detail(f, &b.r[lowest]);
    }
    for (size_t i = 0; i < b.n; i++)
        free(b.r[i].w);
    free(b.r);
    return 0;
}
