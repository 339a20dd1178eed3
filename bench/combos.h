/* combos: the repetitions of a run grouped by parameter combination, with the wall times
 * the statistics (stats.h) need. Read from a run's runs.tsv (hpool's rows and the peers'). */
#ifndef HPOOL_BENCH_COMBOS_H
#define HPOOL_BENCH_COMBOS_H

#include <stdbool.h>
#include <stddef.h>

#include "results.h"

typedef struct {
    hpool_bench_row key; /* the first repetition's row: the combination's parameters */
    double *wall;        /* wall_s of every repetition, in file order (owned) */
    size_t n;
    double median, min, max;
} hpool_bench_combo;

typedef struct {
    hpool_bench_combo *c;
    size_t n;
} hpool_bench_combos;

/* Same parameters (impl, workload, api, schedule, chunksize, workers, threads, tasks); the
 * experiment's name is not compared, so runs of renamed configs still match. */
bool hpool_bench_combo_same(const hpool_bench_row *a, const hpool_bench_row *b);

int hpool_bench_combos_from_rows(const hpool_bench_rows *r, hpool_bench_combos *out);
/* Reads run_dir/runs.tsv. \return 0, 1 when there is no runs.tsv, -1 with err. */
int hpool_bench_combos_load(const char *run_dir, hpool_bench_combos *out, char *err,
                            size_t errlen);
void hpool_bench_combos_free(hpool_bench_combos *c);

/* Index of the combination with key's parameters, or -1. */
long hpool_bench_combos_find(const hpool_bench_combos *c, const hpool_bench_row *key);
/* Indices sorted by median wall time, fastest first; only impl (NULL: any) and
 * workload (NULL: any). \return how many (idx needs c->n entries). */
size_t hpool_bench_combos_ranked(const hpool_bench_combos *c, const char *impl,
                                 const char *workload, size_t *idx);

/* "hpool cpu_sum map fixed cs 3, 4 workers x 1 threads, 24 tasks" */
void hpool_bench_combo_label(const hpool_bench_row *k, char *out, size_t len);

#endif
