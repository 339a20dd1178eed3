/* Executors on rank 0, the user's side: create, submit and map (the pending table and
 * submission queue, CPython's work-items dict and work-ID queue), shutdown, destroy,
 * statistics. The manager (mgr/) does everything that involves MPI and reaches an
 * executor only through the functions of executor.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "executor.h"
#include "policy.h"
#include "proc.h"
#include "registry.h"
#include "sync.h"

/* The executors of this process; lock. One is served at a time (the one the workers run
 * for), but nothing else assumes there is only one. */
static hpool_executor *executors; /* not yet destroyed */
static hpool_executor *active;    /* the one the manager serves */
static int next_executor_id;

static int validate_options(const hpool_executor_options *o, int world)
{
    if (world < 2)
        return hpool__fail(HPOOL_EINVAL,
                           "hpool_executor_create: no worker ranks (world size %d); run "
                           "under mpirun -n 2 or more",
                           world);
    if (o->max_workers < 0 || o->max_workers > world - 1)
        return hpool__fail(HPOOL_EINVAL,
                           "hpool_executor_create: max_workers %d out of range 1..%d "
                           "(0 = all)",
                           o->max_workers, world - 1);
    if (o->prefetch < 0 || o->prefetch > HPOOL__WINDOW_MAX)
        return hpool__fail(HPOOL_EINVAL, "hpool_executor_create: prefetch %d out of range 1..%d",
                           o->prefetch, HPOOL__WINDOW_MAX);
    if (o->threads_per_worker < 0 || o->threads_per_worker > HPOOL__THREADS_MAX)
        return hpool__fail(HPOOL_EINVAL,
                           "hpool_executor_create: threads_per_worker %d out of range",
                           o->threads_per_worker);
    if (o->submit_batch < 0 || o->submit_batch > HPOOL__SUBMIT_BATCH_MAX)
        return hpool__fail(HPOOL_EINVAL,
                           "hpool_executor_create: submit_batch %d out of range 1..%d",
                           o->submit_batch, HPOOL__SUBMIT_BATCH_MAX);
    if (o->record_level < HPOOL_RECORD_NONE || o->record_level > HPOOL_RECORD_SPANS)
        return hpool__fail(HPOOL_EINVAL, "hpool_executor_create: bad record_level %d",
                           (int)o->record_level);
    if (o->initargs_len > 0 && o->initargs == NULL)
        return hpool__fail(HPOOL_EINVAL, "hpool_executor_create: initargs is NULL");
    return 0;
}

static void executor_free(hpool_executor *ex)
{
    hpool__queue_free(&ex->queue);
    free(ex->ranks);
    free(ex->initargs);
    free(ex->record_dir);
    free(ex->label);
    free(ex->worker_stats);
    free(ex);
}

/* The worker ranks: the first max_workers (0: all) of those not lost for good. A rank
 * lost under an earlier executor (a crash, a hang) is never given work again, so a new
 * executor runs on the survivors and says how many (hpool_executor_workers). */
static int pick_ranks(hpool_executor *ex, int max_workers, int world)
{
    int live = hpool__proc_live_workers();
    if (live <= 0)
        return hpool__fail(HPOOL_EBROKEN,
                           "hpool_executor_create: every worker rank was lost under an "
                           "earlier executor");
    ex->n_workers = max_workers && max_workers < live ? max_workers : live;
    ex->ranks = malloc((size_t)ex->n_workers * sizeof *ex->ranks);
    if (ex->ranks == NULL)
        return HPOOL_ENOMEM;
    int n = 0;
    for (int r = 1; r < world && n < ex->n_workers; r++)
        if (!hpool__proc_rank_lost(r))
            ex->ranks[n++] = r;
    ex->n_workers = n; /* a rank lost meanwhile is simply not taken */
    return n > 0 ? 0
                 : hpool__fail(HPOOL_EBROKEN,
                               "hpool_executor_create: every worker rank was lost");
}

static int fill_executor(hpool_executor *ex, const hpool_executor_options *o, int world)
{
    int rc = pick_ranks(ex, o->max_workers, world);
    if (rc != 0)
        return rc;
    /* prefetch 0 = adaptive: the window starts at CPython's depth and grows while call
     * items are short (mgr/window.c). */
    ex->prefetch = o->prefetch ? o->prefetch : HPOOL__WINDOW_MAX;
    ex->auto_window = o->prefetch == 0;
    ex->threads = o->threads_per_worker;
    ex->submit_batch = o->submit_batch ? o->submit_batch : 1;
    ex->initializer = -1;
    if (o->initializer) {
        ex->initializer = hpool__task_lookup(o->initializer);
        if (ex->initializer < 0)
            return hpool__fail(HPOOL_ENOTASK,
                               "hpool_executor_create: initializer '%s' is not a registered "
                               "task",
                               o->initializer);
    }
    if (o->initargs_len) {
        ex->initargs = malloc(o->initargs_len);
        if (ex->initargs == NULL)
            return HPOOL_ENOMEM;
        memcpy(ex->initargs, o->initargs, o->initargs_len);
        ex->initargs_len = o->initargs_len;
    }
    ex->record_level = o->record_level;
    if (o->record_dir) {
        ex->record_dir = strdup(o->record_dir);
        if (ex->record_level == HPOOL_RECORD_NONE)
            ex->record_level = HPOOL_RECORD_CHUNKS;
    }
    if (o->label)
        ex->label = strdup(o->label);
    ex->record_run = o->record_run;
    ex->trace_max_events = o->trace_max_events;
    ex->task_timeout_s = o->task_timeout_s > 0 ? o->task_timeout_s : 0;
    ex->retry_limit = o->retry_limit == 0 ? HPOOL__RETRY_DEFAULT
                                          : (o->retry_limit < 0 ? 0 : o->retry_limit);
    return 0;
}

static bool no_active(const void *what)
{
    (void)what;
    return active == NULL;
}

int hpool_executor_create(hpool_executor **out, const hpool_executor_options *o)
{
    static const hpool_executor_options defaults;
    if (out == NULL)
        return hpool__fail(HPOOL_EINVAL, "hpool_executor_create: out is NULL");
    int world = hpool__proc_size();
    if (world <= 0 || hpool__proc_rank() != 0)
        return hpool__fail(HPOOL_ESTATE,
                           "hpool_executor_create: only on rank 0 after hpool_init");
    if (o == NULL)
        o = &defaults;
    int rc = validate_options(o, world);
    if (rc != 0)
        return rc;
    hpool_executor *ex = calloc(1, sizeof *ex);
    if (ex == NULL)
        return HPOOL_ENOMEM;
    rc = fill_executor(ex, o, world);
    if (rc != 0) {
        executor_free(ex);
        return rc;
    }

    hpool__lock();
    /* One executor drives the workers at a time. One that was shut down without waiting
     * is still draining: wait for it, as the next executor needs the same ranks. */
    hpool_executor *prev = active;
    if (prev && !prev->shutdown) {
        hpool__unlock();
        executor_free(ex);
        return hpool__fail(HPOOL_EBUSY,
                           "hpool_executor_create: executor %d is still active; shut it "
                           "down first",
                           prev->id);
    }
    rc = hpool__wait_locked(no_active, NULL, INFINITY, "hpool_executor_create");
    if (rc != 0) {
        hpool__unlock();
        executor_free(ex);
        return rc;
    }
    ex->id = ++next_executor_id;
    ex->t_created = hpool__now();
    ex->next_all = executors;
    executors = ex;
    active = ex;
    hpool__wake_manager_locked();
    hpool__unlock();
    *out = ex;
    return 0;
}

int hpool_executor_workers(const hpool_executor *ex)
{
    return ex ? ex->n_workers : HPOOL_EINVAL;
}

/* 0, or why submit/map must fail (destroyed, broken, shut down). lock. */
static int accepting_locked(const hpool_executor *ex, const char *fn)
{
    if (ex->destroyed)
        return hpool__fail(HPOOL_ESTATE, "%s: executor was destroyed", fn);
    if (ex->broken)
        return hpool__fail(HPOOL_EBROKEN, "%s: %s", fn, ex->broken_msg);
    if (ex->shutdown)
        return hpool__fail(HPOOL_ESHUTDOWN, "%s: cannot schedule new work after shutdown",
                           fn);
    return 0;
}

int hpool_submit(hpool_executor *ex, const char *task, const void *arg, size_t len,
                 hpool_future **out)
{
    if (ex == NULL || out == NULL || (arg == NULL && len > 0))
        return hpool__fail(HPOOL_EINVAL, "hpool_submit: NULL executor, future or argument");
    if (len > UINT32_MAX / 2)
        return hpool__fail(HPOOL_ETOOBIG, "hpool_submit: argument of %zu bytes", len);
    int idx = hpool__task_lookup(task);
    if (idx < 0)
        return hpool__fail(HPOOL_ENOTASK, "hpool_submit: no task named '%s'",
                           task ? task : "(null)");
    void *heap = NULL;
    if (len > HPOOL__INLINE_ARG) {
        /* Copy outside the lock: the manager should not wait behind a large memcpy. */
        heap = malloc(len);
        if (heap == NULL)
            return HPOOL_ENOMEM;
        memcpy(heap, arg, len);
    }
    hpool__lock();
    int rc = accepting_locked(ex, "hpool_submit");
    hpool_future *f = NULL;
    if (rc == 0) {
        f = hpool__future_new_locked(idx, ex->next_seq, arg, len, heap);
        if (f == NULL)
            rc = hpool__fail(HPOOL_ENOMEM, "hpool_submit: out of memory");
    }
    if (rc == 0 && hpool__queue_push(&ex->queue, f) != 0) {
        rc = hpool__fail(HPOOL_ENOMEM, "hpool_submit: out of memory queueing the future");
        hpool__future_discard_locked(f); /* never published: its argument goes too */
        f = NULL;
        heap = NULL;
    }
    if (rc != 0) {
        hpool__unlock();
        if (f == NULL)
            free(heap);
        return rc;
    }
    ex->next_seq++;
    *out = f;
    /* Only the doorbell: a submit that ran a pass itself (as map_next does) was measured
     * slower, 8x at 2 workers on 2 cores, where every empty poll inside the pass yields
     * the core (Open MPI's yield when oversubscribed) in the middle of a submit loop. */
    hpool__wake_manager_locked();
    hpool__unlock();
    return 0;
}

int hpool_map(hpool_executor *ex, const char *task, const void *items, size_t item_size,
              size_t n, const hpool_map_options *o, hpool_map_iter **out)
{
    static const hpool_map_options defaults;
    if (o == NULL)
        o = &defaults;
    if (ex == NULL || out == NULL)
        return hpool__fail(HPOOL_EINVAL, "hpool_map: NULL executor or output");
    /* Checked again when the map is added; this one keeps a shut-down executor from
     * running the user's generator for nothing. */
    hpool__lock();
    int rc = accepting_locked(ex, "hpool_map");
    hpool__unlock();
    if (rc != 0)
        return rc;
    hpool_map_iter *m;
    rc = hpool__map_new(task, items, item_size, n, o, ex->n_workers, &m);
    if (rc != 0)
        return rc;
    hpool__lock();
    rc = accepting_locked(ex, "hpool_map");
    if (rc == 0) {
        hpool__maps_add_locked(&ex->maps, m);
        hpool__wake_manager_locked();
    }
    hpool__unlock();
    if (rc != 0) {
        hpool__map_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

/* Pop every queued future: cancelled ones are simply let go (CPython's manager does the
 * same), the others get `code`; maps lose their uncarved items. */
static void drain_queue_locked(hpool_executor *ex, int code, const char *msg,
                               hpool_future **run_later)
{
    hpool_future *f;
    while ((f = hpool__queue_pop(&ex->queue)) != NULL) {
        if (!hpool__future_start_locked(f))
            continue; /* cancelled while queued: let go */
        if (code == HPOOL_ECANCELLED)
            hpool__future_cancel_locked(f, run_later);
        else
            hpool__future_finish_locked(f, code, 0, -1, NULL, 0, msg, run_later);
    }
    hpool__maps_cancel_locked(&ex->maps);
}

void hpool__executor_break_locked(hpool_executor *ex, const char *why,
                                  hpool_future **run_later)
{
    if (!ex->broken) {
        ex->broken = true;
        snprintf(ex->broken_msg, sizeof ex->broken_msg, "%s", why);
    }
    drain_queue_locked(ex, HPOOL_EBROKEN, ex->broken_msg, run_later);
    hpool__maps_end_locked(&ex->maps, HPOOL_EBROKEN, ex->broken_msg);
    hpool__notify_locked();
}

hpool_executor *hpool__executor_active_locked(void)
{
    return active;
}

bool hpool__executor_stopping_locked(const hpool_executor *ex)
{
    return ex->shutdown || ex->destroyed;
}

bool hpool__executor_has_work_locked(const hpool_executor *ex)
{
    return hpool__queue_len(&ex->queue) > 0 || hpool__maps_have_work_locked(&ex->maps);
}

uint32_t hpool__executor_carve_locked(hpool_executor *ex, hpool_future **out, uint32_t max)
{
    uint32_t n = 0;
    hpool_future *f;
    while (n < max && (f = hpool__queue_peek(&ex->queue)) != NULL) {
        /* A call item carries one task: the batch ends at the first different one. */
        if (n > 0 && f->task != out[0]->task && f->state != HPOOL__F_CANCELLED)
            break;
        hpool__queue_pop(&ex->queue);
        if (hpool__future_start_locked(f))
            out[n++] = f;
    }
    return n;
}

int hpool__executor_requeue_locked(hpool_executor *ex, hpool_future *f)
{
    int rc = hpool__queue_requeue(&ex->queue, f);
    if (rc == 0)
        hpool__future_unstart_locked(f);
    return rc;
}

void hpool__executor_drained_locked(hpool_executor *ex, const hpool_executor_stats *st,
                                    const hpool_worker_stats *ws)
{
    ex->stats = *st;
    /* Without memory for them, the per-worker statistics read as zeros (ranks kept). */
    ex->worker_stats = calloc((size_t)ex->n_workers, sizeof *ex->worker_stats);
    for (int i = 0; ex->worker_stats && i < ex->n_workers; i++) {
        ex->worker_stats[i] = ws ? ws[i] : (hpool_worker_stats){.rank = ex->ranks[i]};
        if (!ws)
            ex->worker_stats[i].lost_at = -1;
    }
    ex->drained = true;
    hpool__maps_end_locked(&ex->maps, HPOOL_ESHUTDOWN, NULL);
    if (active == ex)
        active = NULL;
    hpool__notify_locked();
}

bool hpool__executor_alive_locked(int id)
{
    for (hpool_executor *e = executors; e; e = e->next_all)
        if (e->id == id)
            return true;
    return false;
}

static bool is_drained(const void *what)
{
    return ((const hpool_executor *)what)->drained;
}

int hpool_shutdown(hpool_executor *ex, bool wait, bool cancel_futures)
{
    if (ex == NULL)
        return hpool__fail(HPOOL_EINVAL, "hpool_shutdown: executor is NULL");
    hpool_future *run_later = NULL;
    hpool__lock();
    if (ex->destroyed) {
        hpool__unlock();
        return hpool__fail(HPOOL_ESTATE, "hpool_shutdown: executor was destroyed");
    }
    ex->shutdown = true;
    if (cancel_futures)
        drain_queue_locked(ex, HPOOL_ECANCELLED, NULL, &run_later);
    hpool__notify_locked();
    hpool__wake_manager_locked();
    hpool__unlock();
    hpool__future_run_callbacks(run_later);
    if (!wait)
        return 0;
    hpool__lock();
    int rc = hpool__wait_locked(is_drained, ex, INFINITY, "hpool_shutdown");
    hpool__unlock();
    return rc;
}

int hpool_executor_destroy(hpool_executor *ex)
{
    if (ex == NULL)
        return hpool__fail(HPOOL_EINVAL, "hpool_executor_destroy: executor is NULL");
    int rc = hpool_shutdown(ex, true, false);
    if (rc != 0)
        return rc;
    hpool__lock();
    for (hpool_executor **pp = &executors; *pp; pp = &(*pp)->next_all) {
        if (*pp == ex) {
            *pp = ex->next_all;
            break;
        }
    }
    ex->destroyed = true;
    /* Maps still open keep what they need to answer (their end), not the executor. */
    hpool__maps_detach_locked(&ex->maps);
    hpool__unlock();
    executor_free(ex);
    return 0;
}

void hpool__executors_destroy_all(void)
{
    for (;;) {
        hpool__lock();
        hpool_executor *ex = executors;
        hpool__unlock();
        if (ex == NULL)
            return;
        hpool_executor_destroy(ex);
    }
}

int hpool_executor_get_stats(hpool_executor *ex, hpool_executor_stats *st)
{
    if (ex == NULL || st == NULL)
        return hpool__fail(HPOOL_EINVAL, "hpool_executor_get_stats: NULL argument");
    hpool__lock();
    bool drained = ex->drained;
    if (drained)
        *st = ex->stats;
    hpool__unlock();
    if (!drained)
        return hpool__fail(HPOOL_ESTATE,
                           "hpool_executor_get_stats: available after shutdown completes");
    return 0;
}

int hpool_executor_worker_stats(hpool_executor *ex, hpool_worker_stats *ws, size_t cap,
                                size_t *n)
{
    if (ex == NULL || (ws == NULL && cap > 0))
        return hpool__fail(HPOOL_EINVAL, "hpool_executor_worker_stats: NULL argument");
    hpool__lock();
    bool drained = ex->drained;
    for (size_t i = 0; drained && i < cap && i < (size_t)ex->n_workers; i++)
        ws[i] = ex->worker_stats ? ex->worker_stats[i]
                                 : (hpool_worker_stats){.rank = ex->ranks[i], .lost_at = -1};
    hpool__unlock();
    if (!drained)
        return hpool__fail(HPOOL_ESTATE,
                           "hpool_executor_worker_stats: available after shutdown completes");
    if (n)
        *n = (size_t)ex->n_workers;
    return 0;
}
