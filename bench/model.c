/* The chunk-size model: start-up overhead, item-time statistics, model.tsv. */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schedule.h"

#define OVERHEAD_SAMPLES 21 /* odd: the median is one sample */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double hpool_bench_measure_overhead(int workers)
{
    hpool_executor_options o = {.max_workers = workers};
    hpool_executor *ex;
    if (hpool_executor_create(&ex, &o) != 0)
        return -1;
    hpool_bench_item item;
    memset(&item, 0, sizeof item);
    item.workload = HPOOL_BENCH_WL_EMPTY;
    double t[OVERHEAD_SAMPLES + 1];
    int ok = 0;
    /* Sample 0 is a warm-up (first message on each path), not counted. */
    for (int i = 0; i <= OVERHEAD_SAMPLES; i++) {
        hpool_future *f;
        double t0 = now_s();
        if (hpool_submit(ex, HPOOL_BENCH_TASK, &item, sizeof item, &f) != 0)
            break;
        const void *res;
        size_t len;
        int rc = hpool_future_result(f, HPOOL_FOREVER, &res, &len);
        double dt = now_s() - t0;
        hpool_future_release(f);
        if (rc != 0)
            break;
        if (i > 0)
            t[ok++] = dt;
    }
    hpool_shutdown(ex, true, false);
    hpool_executor_destroy(ex);
    if (ok == 0)
        return -1;
    qsort(t, (size_t)ok, sizeof t[0], cmp_double);
    return t[ok / 2];
}

void hpool_bench_item_stats(const hpool_bench_item *items, uint64_t n, double iters_per_ms,
                            double *mean_s, double *sd_s)
{
    *mean_s = 0;
    *sd_s = -1;
    if (n == 0 || items[0].workload == HPOOL_BENCH_WL_MANDELBROT ||
        items[0].workload == HPOOL_BENCH_WL_HYBRID || !(iters_per_ms > 0))
        return;
    double sum = 0, sq = 0;
    for (uint64_t i = 0; i < n; i++) {
        double t = (double)items[i].iterations / iters_per_ms * 1e-3 + items[i].sleep_s;
        sum += t;
        sq += t * t;
    }
    double mean = sum / (double)n;
    *mean_s = mean;
    *sd_s = sqrt(fmax(0.0, sq / (double)n - mean * mean));
}

int hpool_bench_model_add(hpool_bench_model *m, const hpool_bench_run_params *rp,
                          double mean_s)
{
    const char *wl = hpool_bench_workload_name(rp->workload);
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->rows[i].workload, wl) == 0 && m->rows[i].tasks == rp->tasks &&
            m->rows[i].workers == rp->workers)
            return 0;
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 16;
        hpool_bench_model_row *r = realloc(m->rows, cap * sizeof *r);
        if (r == NULL)
            return -1;
        m->rows = r;
        m->cap = cap;
    }
    hpool_bench_model_row *r = &m->rows[m->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->workload, sizeof r->workload, "%s", wl);
    r->tasks = rp->tasks;
    r->workers = rp->workers;
    r->overhead_s = rp->overhead_s;
    r->mean_s = mean_s;
    r->sd_s = rp->item_sd_s;
    /* The FSC optimum for fixed chunking; unknown without an overhead or a spread. */
    r->fsc = rp->overhead_s > 0 && rp->item_sd_s >= 0
                 ? hpool__schedule_fsc_chunk(rp->tasks, rp->workers, rp->overhead_s,
                                             rp->item_sd_s)
                 : 0;
    return 0;
}

int hpool_bench_model_write(const char *dir, const hpool_bench_model *m)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/model.tsv", dir);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fputs(HPOOL_BENCH_MODEL_HEADER, f);
    for (size_t i = 0; i < m->n; i++) {
        const hpool_bench_model_row *r = &m->rows[i];
        fprintf(f, "%s\t%llu\t%d\t%.9g\t%.9g\t%.9g\t%llu\n", r->workload,
                (unsigned long long)r->tasks, r->workers, r->overhead_s, r->mean_s, r->sd_s,
                (unsigned long long)r->fsc);
    }
    fputs("# complete\n", f);
    return fclose(f) == 0 ? 0 : -1;
}

void hpool_bench_model_free(hpool_bench_model *m)
{
    free(m->rows);
    memset(m, 0, sizeof *m);
}
