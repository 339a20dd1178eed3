/* hpool-bench workloads: what one work item does, the same code on worker ranks (as the
 * registered task "bench.item") and on rank 0 (the serial baseline). */
#ifndef HPOOL_BENCH_WORKLOADS_H
#define HPOOL_BENCH_WORKLOADS_H

#include <stdint.h>

#include "config.h"
#include "hpool.h"

#define HPOOL_BENCH_TASK "bench.item"

/* One map record / submit argument. Costs are decided on rank 0, so every worker, the
 * serial baseline and the Python peer run exactly the same items. */
typedef struct {
    uint64_t index;
    uint64_t iterations; /* CPU loop iterations of this item (hybrid: per unit produced) */
    double sleep_s;      /* io_sleep latency */
    double inner_s;      /* hybrid: latency of each inner item */
    uint32_t workload;   /* hpool_bench_workload */
    uint32_t inner_items;
    uint32_t counter;    /* hpool_bench_counter */
    uint32_t width;      /* mandelbrot: pixels per row; rows = tasks */
    uint64_t rows;
    uint32_t slow_workers; /* heterogeneous workers: ranks 1..slow_workers take */
    uint32_t reserved;
    double slow_factor;    /* slow_factor times as long for the same item */
} hpool_bench_item;

/* Registers the bench task on this rank (every rank, before hpool_init). */
int hpool_bench_register_tasks(void);

/* Loop iterations per millisecond of the cpu_sum loop on this core. */
double hpool_bench_calibrate(void);

/* Fill items[0..n) for a run. iters_per_ms from hpool_bench_calibrate. */
void hpool_bench_make_items(const hpool_bench_run_params *rp, double iters_per_ms,
                            hpool_bench_item *items, uint64_t n);

/* Run one item in this thread (serial baseline); returns its checksum. */
uint64_t hpool_bench_run_serial(const hpool_bench_item *it);

/* The value every implementation must return for the item (checks results). */
uint64_t hpool_bench_expected(const hpool_bench_item *it);

/* The seed's summing loop, kept from being folded into a closed form. */
uint64_t hpool_bench_cpu_sum(uint64_t n);

#endif
