/* Executors on rank 0, the user's side: create, submit (the pending table + submission
 * queue, i.e. CPython's work-items dict + work-IDs queue), shutdown, destroy. The manager
 * thread (manager.c) does everything that involves MPI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor.h"

/* Done callbacks run on the manager thread; waiting there for the manager's own work
 * (an executor to drain) would never end. */
static bool on_manager_thread(void)
{
    return hpool__g.manager_running && pthread_equal(pthread_self(), hpool__g.manager);
}

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
    if (o->max_workers > HPOOL__MAX_WORKERS || (o->max_workers == 0 && world - 1 > HPOOL__MAX_WORKERS))
        return hpool__fail(HPOOL_EINVAL, "hpool_executor_create: at most %d workers",
                           HPOOL__MAX_WORKERS);
    if (o->prefetch < 0 || o->prefetch > 64)
        return hpool__fail(HPOOL_EINVAL, "hpool_executor_create: prefetch %d out of range 1..64",
                           o->prefetch);
    if (o->threads_per_worker < 0 || o->threads_per_worker > 1024)
        return hpool__fail(HPOOL_EINVAL,
                           "hpool_executor_create: threads_per_worker %d out of range",
                           o->threads_per_worker);
    if (o->submit_batch < 0 || o->submit_batch > 4096)
        return hpool__fail(HPOOL_EINVAL,
                           "hpool_executor_create: submit_batch %d out of range 1..4096",
                           o->submit_batch);
    if (o->record_level < HPOOL_RECORD_NONE || o->record_level > HPOOL_RECORD_SPANS)
        return hpool__fail(HPOOL_EINVAL, "hpool_executor_create: bad record_level %d",
                           (int)o->record_level);
    if (o->initargs_len > 0 && o->initargs == NULL)
        return hpool__fail(HPOOL_EINVAL, "hpool_executor_create: initargs is NULL");
    return 0;
}

static void executor_free(hpool_executor *ex)
{
    free(ex->initargs);
    free(ex->record_dir);
    free(ex->label);
    free(ex);
}

static int fill_executor(hpool_executor *ex, const hpool_executor_options *o, int world)
{
    ex->n_workers = o->max_workers ? o->max_workers : world - 1;
    /* prefetch 0 = adaptive: the window starts at CPython's depth of 2 and grows (up to
     * HPOOL__MAX_WINDOW) while call items are short, see manager.c. */
    ex->prefetch = o->prefetch ? o->prefetch : HPOOL__MAX_WINDOW;
    ex->auto_window = o->prefetch == 0;
    ex->window = o->prefetch ? o->prefetch : 2;
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
    ex->retry_limit = o->retry_limit == 0 ? 1 : (o->retry_limit < 0 ? 0 : o->retry_limit);
    return 0;
}

int hpool_executor_create(hpool_executor **out, const hpool_executor_options *o)
{
    static const hpool_executor_options defaults;
    if (out == NULL)
        return hpool__fail(HPOOL_EINVAL, "hpool_executor_create: out is NULL");
    if (!hpool__g.initialized || hpool__g.rank != 0)
        return hpool__fail(HPOOL_ESTATE,
                           "hpool_executor_create: only on rank 0 after hpool_init");
    if (o == NULL)
        o = &defaults;
    int rc = validate_options(o, hpool__g.size);
    if (rc != 0)
        return rc;
    hpool_executor *ex = calloc(1, sizeof *ex);
    if (ex == NULL)
        return HPOOL_ENOMEM;
    rc = fill_executor(ex, o, hpool__g.size);
    if (rc != 0) {
        executor_free(ex);
        return rc;
    }

    pthread_mutex_lock(&hpool__g.lock);
    /* One executor drives the workers at a time. One that was shut down without waiting
     * is still draining: wait for it, as the next executor needs the same ranks. */
    hpool_executor *prev = hpool__g.active;
    if (prev && !prev->shutdown) {
        pthread_mutex_unlock(&hpool__g.lock);
        executor_free(ex);
        return hpool__fail(HPOOL_EBUSY,
                           "hpool_executor_create: executor %d is still active; shut it "
                           "down first",
                           prev->id);
    }
    if (prev && on_manager_thread()) {
        pthread_mutex_unlock(&hpool__g.lock);
        executor_free(ex);
        return hpool__fail(HPOOL_ESTATE,
                           "hpool_executor_create: executor %d is still draining and a done "
                           "callback cannot wait for it",
                           prev->id);
    }
    while (hpool__g.active != NULL) {
        hpool__g.n_waiting++;
        pthread_cond_wait(&hpool__g.done_cond, &hpool__g.lock);
        hpool__g.n_waiting--;
    }
    ex->id = ++hpool__g.next_executor_id;
    ex->t_created = hpool__now();
    ex->phase = HPOOL__X_STARTING;
    ex->next_all = hpool__g.executors;
    hpool__g.executors = ex;
    hpool__g.active = ex;
    hpool__wake_manager_locked();
    pthread_mutex_unlock(&hpool__g.lock);
    *out = ex;
    return 0;
}

int hpool_executor_workers(const hpool_executor *ex)
{
    return ex ? ex->n_workers : HPOOL_EINVAL;
}

int hpool__executor_accepting_locked(const hpool_executor *ex, const char *fn)
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
    pthread_mutex_lock(&hpool__g.lock);
    int rc = hpool__executor_accepting_locked(ex, "hpool_submit");
    hpool_future *f = rc == 0 ? hpool__future_alloc_locked() : NULL;
    if (rc == 0 && f == NULL)
        rc = HPOOL_ENOMEM;
    if (rc != 0) {
        pthread_mutex_unlock(&hpool__g.lock);
        free(heap);
        return rc;
    }
    f->task = (int16_t)idx;
    f->ex = ex;
    f->seq = ex->next_seq++;
    f->t_submit = hpool__now();
    f->arg_len = (uint32_t)len;
    if (heap)
        f->arg.heap = heap;
    else if (len)
        memcpy(f->arg.bytes, arg, len);
    if (ex->q_tail)
        ex->q_tail->next = f;
    else
        ex->q_head = f;
    ex->q_tail = f;
    ex->q_len++;
    hpool__wake_manager_locked();
    pthread_mutex_unlock(&hpool__g.lock);
    *out = f;
    return 0;
}

/* Pop every queued future: cancelled ones are simply dropped (CPython's manager does the
 * same), the others get `code`. */
static void drain_queue_locked(hpool_executor *ex, int code, const char *msg,
                               hpool_future **run_later)
{
    hpool_future *f = ex->q_head;
    ex->q_head = ex->q_tail = NULL;
    ex->q_len = 0;
    while (f) {
        hpool_future *n = f->next;
        f->next = NULL;
        if (f->state == HPOOL__F_CANCELLED) {
            hpool__future_drop_ref_locked(f);
        } else if (code == HPOOL_ECANCELLED) {
            hpool__future_cancel_locked(f, run_later);
        } else {
            hpool__future_finish_locked(f, code, 0, -1, NULL, 0, msg, run_later);
        }
        f = n;
    }
    for (hpool_map_iter *m = ex->maps_head; m; m = m->next_in_ex)
        hpool__map_cancel_locked(m);
}

void hpool__executor_break_locked(hpool_executor *ex, const char *why,
                                  hpool_future **run_later)
{
    if (!ex->broken) {
        ex->broken = true;
        snprintf(ex->broken_msg, sizeof ex->broken_msg, "%s", why);
    }
    drain_queue_locked(ex, HPOOL_EBROKEN, ex->broken_msg, run_later);
    hpool__notify_done_locked();
}

int hpool_shutdown(hpool_executor *ex, bool wait, bool cancel_futures)
{
    if (ex == NULL)
        return hpool__fail(HPOOL_EINVAL, "hpool_shutdown: executor is NULL");
    hpool_future *run_later = NULL;
    pthread_mutex_lock(&hpool__g.lock);
    if (ex->destroyed) {
        pthread_mutex_unlock(&hpool__g.lock);
        return hpool__fail(HPOOL_ESTATE, "hpool_shutdown: executor was destroyed");
    }
    ex->shutdown = true;
    if (cancel_futures)
        drain_queue_locked(ex, HPOOL_ECANCELLED, NULL, &run_later);
    hpool__notify_done_locked();
    hpool__wake_manager_locked();
    pthread_mutex_unlock(&hpool__g.lock);
    hpool__future_run_callbacks(run_later);
    if (!wait)
        return 0;
    pthread_mutex_lock(&hpool__g.lock);
    if (!ex->drained && on_manager_thread()) {
        pthread_mutex_unlock(&hpool__g.lock);
        return hpool__fail(HPOOL_ESTATE,
                           "hpool_shutdown: a done callback cannot wait for an executor to "
                           "drain; it is shut down and drains on its own");
    }
    while (!ex->drained) {
        hpool__g.n_waiting++;
        pthread_cond_wait(&hpool__g.done_cond, &hpool__g.lock);
        hpool__g.n_waiting--;
    }
    pthread_mutex_unlock(&hpool__g.lock);
    return 0;
}

int hpool_executor_destroy(hpool_executor *ex)
{
    if (ex == NULL)
        return hpool__fail(HPOOL_EINVAL, "hpool_executor_destroy: executor is NULL");
    int rc = hpool_shutdown(ex, true, false);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&hpool__g.lock);
    for (hpool_executor **pp = &hpool__g.executors; *pp; pp = &(*pp)->next_all) {
        if (*pp == ex) {
            *pp = ex->next_all;
            break;
        }
    }
    pthread_mutex_unlock(&hpool__g.lock);
    executor_free(ex);
    return 0;
}

/* Called by hpool_finalize: every executor shut down (waiting) and freed. */
void hpool__executors_destroy_all(void)
{
    for (;;) {
        pthread_mutex_lock(&hpool__g.lock);
        hpool_executor *ex = hpool__g.executors;
        pthread_mutex_unlock(&hpool__g.lock);
        if (ex == NULL)
            return;
        hpool_executor_destroy(ex);
    }
}

int hpool_executor_get_stats(hpool_executor *ex, hpool_executor_stats *st)
{
    if (ex == NULL || st == NULL)
        return hpool__fail(HPOOL_EINVAL, "hpool_executor_get_stats: NULL argument");
    pthread_mutex_lock(&hpool__g.lock);
    bool drained = ex->drained;
    if (drained)
        *st = ex->stats;
    pthread_mutex_unlock(&hpool__g.lock);
    if (!drained)
        return hpool__fail(HPOOL_ESTATE,
                           "hpool_executor_get_stats: available after shutdown completes");
    return 0;
}
