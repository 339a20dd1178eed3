/* The chunk-size model of hpool-bench: the overhead of one call item measured at start-up
 * and each workload's item-time mean and spread, from which Kruskal and Weiss's formula
 * (the FSC schedule, src/schedule/fsc.c) predicts the best fixed chunksize. Written to
 * results/NAME/model.tsv (docs/FORMATS.md); the report sets it beside the sweep. */
#ifndef HPOOL_BENCH_MODEL_H
#define HPOOL_BENCH_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "workloads.h"

typedef struct {
    char workload[16];
    uint64_t tasks;
    int workers;
    double overhead_s; /* h: median round trip of one empty call item */
    double mean_s;     /* item time mean from the cost model; 0 when it has none */
    double sd_s;       /* item time standard deviation; -1 when unknown */
    uint64_t fsc;      /* predicted best chunksize; 0 when unknown */
} hpool_bench_model_row;

typedef struct {
    hpool_bench_model_row *rows;
    size_t n, cap;
} hpool_bench_model;

#define HPOOL_BENCH_MODEL_HEADER                                                           \
    "workload\ttasks\tworkers\toverhead_s\titem_mean_s\titem_sd_s\tpredicted_chunksize\n"

/* Rank 0, hpool initialised: median round trip of one empty submitted item on an
 * executor of `workers` workers. \return seconds, or -1 when it could not be measured. */
double hpool_bench_measure_overhead(int workers);

/* Mean and standard deviation of the items' times as the cost model makes them (CPU
 * iterations at iters_per_ms, sleeps). Workloads whose cost only running tells
 * (mandelbrot, hybrid) give mean 0 and sd -1. */
void hpool_bench_item_stats(const hpool_bench_item *items, uint64_t n, double iters_per_ms,
                            double *mean_s, double *sd_s);

/* Adds the row of rp's (workload, tasks, workers) once. \return 0 or -1 (memory). */
int hpool_bench_model_add(hpool_bench_model *m, const hpool_bench_run_params *rp,
                          double mean_s);
/* dir/model.tsv. \return 0 or -1. */
int hpool_bench_model_write(const char *dir, const hpool_bench_model *m);
void hpool_bench_model_free(hpool_bench_model *m);

#endif
