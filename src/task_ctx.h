/* The context a task runs with on a worker rank (worker.c runs tasks, inner.c runs the
 * inner OpenMP team). Owned by the worker's main thread; inner-team threads only append
 * spans, under the team's critical section. */
#ifndef HPOOL_TASK_CTX_H
#define HPOOL_TASK_CTX_H

#include "internal.h"
#include "topology.h" /* worker.c binds the team at START (hpool__topo_*) */
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

#endif
