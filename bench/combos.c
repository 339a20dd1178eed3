/* combos.c: repetitions grouped by parameter combination (combos.h). */
#include "combos.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

bool hpool_bench_combo_same(const hpool_bench_row *a, const hpool_bench_row *b)
{
    return strcmp(a->impl, b->impl) == 0 && strcmp(a->workload, b->workload) == 0 &&
           strcmp(a->api, b->api) == 0 && strcmp(a->schedule, b->schedule) == 0 &&
           a->chunksize == b->chunksize && a->workers == b->workers &&
           a->threads == b->threads && a->tasks == b->tasks;
}

void hpool_bench_combos_free(hpool_bench_combos *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->c[i].wall);
    free(c->c);
    memset(c, 0, sizeof *c);
}

long hpool_bench_combos_find(const hpool_bench_combos *c, const hpool_bench_row *key)
{
    for (size_t i = 0; i < c->n; i++)
        if (hpool_bench_combo_same(&c->c[i].key, key))
            return (long)i;
    return -1;
}

static int finish(hpool_bench_combo *k)
{
    double *sorted = malloc(k->n * sizeof *sorted);
    if (!sorted)
        return -1;
    memcpy(sorted, k->wall, k->n * sizeof *sorted);
    k->median = hpool_stats_median(sorted, k->n);
    k->min = sorted[0];
    k->max = sorted[k->n - 1];
    free(sorted);
    return 0;
}

int hpool_bench_combos_from_rows(const hpool_bench_rows *r, hpool_bench_combos *out)
{
    memset(out, 0, sizeof *out);
    out->c = calloc(r->n ? r->n : 1, sizeof *out->c);
    if (!out->c)
        return -1;
    for (size_t i = 0; i < r->n; i++) {
        long k = hpool_bench_combos_find(out, &r->rows[i]);
        if (k < 0) {
            k = (long)out->n++;
            out->c[k].key = r->rows[i];
            if (!(out->c[k].wall = calloc(r->n, sizeof(double)))) {
                hpool_bench_combos_free(out);
                return -1;
            }
        }
        out->c[k].wall[out->c[k].n++] = r->rows[i].wall_s;
    }
    for (size_t k = 0; k < out->n; k++)
        if (finish(&out->c[k]) != 0) {
            hpool_bench_combos_free(out);
            return -1;
        }
    return 0;
}

int hpool_bench_combos_load(const char *run_dir, hpool_bench_combos *out, char *err,
                            size_t errlen)
{
    memset(out, 0, sizeof *out);
    char path[4096];
    snprintf(path, sizeof path, "%s/runs.tsv", run_dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    fclose(f);
    hpool_bench_rows rows = {0};
    int rc = hpool_bench_rows_load(&rows, run_dir, "runs.tsv", err, errlen);
    if (rc == 0 && hpool_bench_combos_from_rows(&rows, out) != 0) {
        snprintf(err, errlen, "%s: out of memory", path);
        rc = -1;
    }
    hpool_bench_rows_free(&rows);
    return rc;
}

size_t hpool_bench_combos_ranked(const hpool_bench_combos *c, const char *impl,
                                 const char *workload, size_t *idx)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++) {
        const hpool_bench_row *k = &c->c[i].key;
        if ((impl && strcmp(k->impl, impl) != 0) ||
            (workload && strcmp(k->workload, workload) != 0) || !isfinite(c->c[i].median))
            continue;
        idx[n++] = i;
    }
    for (size_t i = 1; i < n; i++) { /* insertion sort: stable, and few combinations */
        size_t v = idx[i], j = i;
        for (; j > 0 && c->c[idx[j - 1]].median > c->c[v].median; j--)
            idx[j] = idx[j - 1];
        idx[j] = v;
    }
    return n;
}

void hpool_bench_combo_label(const hpool_bench_row *k, char *out, size_t len)
{
    snprintf(out, len, "%s %s %s %s cs %llu, %d workers x %d threads, %llu tasks", k->impl,
             k->workload, k->api, k->schedule, (unsigned long long)k->chunksize, k->workers,
             k->threads, (unsigned long long)k->tasks);
}
