/* The context a task runs with on a worker rank (worker.c runs tasks, inner.c runs the
 * inner OpenMP team). Owned by the worker's main thread; inner-team threads only append
 * spans, under inner.c's team lock. */
#ifndef HPOOL_TASK_CTX_H
#define HPOOL_TASK_CTX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "errors.h"
#include "hpool.h"
#include "wire.h"

struct hpool_task_ctx {
    int rank;
    int threads;
    int exec_id;
    int record_level;
    uint64_t item;
    void **worker_state;    /* per executor, set by the initializer */
    hpool__buf result;      /* this item's result (hpool_task_return) */
    bool has_result;
    char err[HPOOL__MSG_MAX];
    bool err_set;
    hpool__buf spans;       /* hpool__wire_span records of the current call item */
    uint32_t n_spans;
};

void hpool__ctx_add_span(hpool_task_ctx *ctx, uint64_t item, uint32_t inner, int thread,
                         double t0, double t1, const char *label);

/* Ordering around hpool's own OpenMP parallel regions that ThreadSanitizer can see.
 * libgomp is not built with TSan, so its fork and join barriers are invisible to it: a
 * team thread reading a stack variable of one region and the master writing that stack
 * slot later (another call, another function) look unordered, and the report may lack
 * the _omp_fn frame that tests/sanitizers/tsan.supp keys on. The master calls
 * hpool__team_publish() before the region and hpool__team_observe() after it; each team
 * thread calls observe at its start and publish at its end. The barriers already order
 * all this; these atomics only state it, for a few atomic operations per region. */
extern _Atomic unsigned hpool__team_sync;
static inline void hpool__team_publish(void)
{
    atomic_fetch_add_explicit(&hpool__team_sync, 1, memory_order_acq_rel);
}
static inline void hpool__team_observe(void)
{
    (void)atomic_load_explicit(&hpool__team_sync, memory_order_acquire);
}

#endif
