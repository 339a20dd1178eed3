/* The inner thread pool: a task's OpenMP team (CPython's ThreadPoolExecutor inside a
 * worker process). hpool_task_inner_map is the inner map; spans go to the call item's
 * RESULT message when the executor records spans. */
#include <omp.h>
#include <stdint.h>
#include <string.h>

#include "task_ctx.h"

_Atomic unsigned hpool__team_sync;

/* The span buffer and the first error are shared by the team. A pthread mutex rather than
 * `omp critical`: same cost here, and ThreadSanitizer sees it (libgomp's locks it does
 * not). */
static pthread_mutex_t team_lock = PTHREAD_MUTEX_INITIALIZER;

void hpool__ctx_add_span(hpool_task_ctx *ctx, uint64_t item, uint32_t inner, int thread,
                         double t0, double t1, const char *label)
{
    hpool__wire_span s;
    memset(&s, 0, sizeof s);
    s.item = item;
    s.inner = inner;
    s.thread = thread;
    s.t_start = t0;
    s.t_end = t1;
    if (label)
        strncpy(s.label, label, sizeof s.label - 1);
    if (hpool__buf_put_raw(&ctx->spans, &s, sizeof s) == 0)
        ctx->n_spans++;
}

void hpool_task_record_span(hpool_task_ctx *ctx, uint64_t item, double t_start, double t_end,
                            const char *label)
{
    if (ctx == NULL || ctx->record_level < HPOOL_RECORD_SPANS)
        return;
    /* Any thread of the team may call this; the span buffer is shared. */
    int thread = omp_get_thread_num();
    pthread_mutex_lock(&team_lock);
    hpool__ctx_add_span(ctx, ctx->item, (uint32_t)item, thread, t_start, t_end, label);
    pthread_mutex_unlock(&team_lock);
}

/* One inner map, as the team sees it. */
typedef struct {
    hpool_task_ctx *ctx;
    hpool_inner_fn fn;
    void *user;
    const unsigned char *src;
    unsigned char *dst;
    size_t in_size, out_size, n;
    const char *label;
    bool spans;
    /* The failure reported is the one of the lowest inner index, whatever thread got
     * there first: the same input gives the same answer on every run. team_lock. */
    size_t first_failed;
    int first_error;
} inner_job;

/* The job of the running team. The worker's main thread writes it before
 * hpool__team_publish() and team threads read it after hpool__team_observe(), so
 * ThreadSanitizer sees the order that libgomp's (uninstrumented) fork gives: variables
 * captured by the region would be copied in at the region's entry, before any code of its
 * body could state that order. Only a thread outside any parallel region starts a team;
 * an inner map called inside one runs on the calling thread. */
static inner_job *team_job;

static void run_inner_item(inner_job *j, size_t i)
{
    double t0 = j->spans ? hpool__worker_clock() : 0;
    int rc = j->fn(j->user, i, j->src ? j->src + i * j->in_size : NULL,
                   j->dst ? j->dst + i * j->out_size : NULL);
    double t1 = j->spans ? hpool__worker_clock() : 0;
    /* Items that neither record nor fail skip the lock. */
    if (j->spans || rc != 0) {
        int thread = omp_get_thread_num();
        pthread_mutex_lock(&team_lock);
        if (j->spans)
            hpool__ctx_add_span(j->ctx, j->ctx->item, (uint32_t)i, thread, t0, t1,
                                j->label);
        if (rc != 0 && i < j->first_failed) {
            j->first_failed = i;
            j->first_error = rc;
        }
        pthread_mutex_unlock(&team_lock);
    }
}

/* The team's share of j: each thread takes the next item. dynamic,1: inner items may
 * differ a lot in cost (I/O waits), as with the seed's ThreadPoolExecutor.map where each
 * thread takes the next URL when it is free. Each result goes to its own slot of out, so
 * results are in item order without sorting. */
static void run_inner_items(inner_job *j)
{
#pragma omp for schedule(dynamic, 1)
    for (size_t i = 0; i < j->n; i++)
        run_inner_item(j, i);
}

int hpool_task_inner_map(hpool_task_ctx *ctx, hpool_inner_fn fn, void *user, const void *in,
                         size_t in_size, void *out, size_t out_size, size_t n,
                         const char *label)
{
    if (ctx == NULL || fn == NULL || (n > 0 && in == NULL && in_size > 0) ||
        (n > 0 && out == NULL && out_size > 0))
        return hpool__fail(HPOOL_EINVAL, "hpool_task_inner_map: NULL argument");
    if (n > UINT32_MAX)
        return hpool__fail(HPOOL_ETOOBIG, "hpool_task_inner_map: %zu inner items", n);
    inner_job job = {.ctx = ctx, .fn = fn, .user = user, .src = in, .dst = out,
                     .in_size = in_size, .out_size = out_size, .n = n, .label = label,
                     .spans = ctx->record_level >= HPOOL_RECORD_SPANS, .first_failed = n};
    if (omp_in_parallel()) {
        /* Called by one thread of a running team (nested): every item here, in order. */
        for (size_t i = 0; i < n; i++)
            run_inner_item(&job, i);
        return job.first_error;
    }
    int threads = ctx->threads;
    team_job = &job;
    hpool__team_publish();
#pragma omp parallel num_threads(threads)
    {
        hpool__team_observe();
        run_inner_items(team_job);
        hpool__team_publish();
    }
    hpool__team_observe();
    team_job = NULL;
    return job.first_error;
}
