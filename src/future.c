/* Futures: state, results, callbacks, and waiting on one (result) or many (wait,
 * as_completed).
 *
 * A future has up to two owners: the caller (user_ref, dropped by release) and the
 * executor (mgr_ref, held while it is queued or in flight and while its callbacks run).
 * It returns to the slab free list when both are gone. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "errors.h"
#include "future.h"
#include "pages.h"
#include "sync.h"

/* Slabs grow with the pool: the first holds SLAB_FIRST futures, each next one as many as
 * all before, up to SLAB_MOST (a slab is filled under the lock: 4096 futures take about
 * 1 ms to map here, the most a submit should stall). Their
 * pages are present from the start (pages.h): a submit never waits on a page fault. */
#define SLAB_FIRST 1024
#define SLAB_MOST 4096

typedef struct slab {
    struct slab *next;
    size_t n, bytes;
    hpool_future f[];
} slab;

/* All lock. The free list is FIFO so a released future's memory is reused as late as
 * possible, which keeps hpool_future_* on a stale pointer answering ERELEASED. */
static slab *slabs;
static size_t slab_futures; /* in all slabs */
static hpool_future *free_head, *free_tail;

static int grow_slabs_locked(void)
{
    size_t n = slab_futures < SLAB_FIRST ? SLAB_FIRST
             : slab_futures > SLAB_MOST  ? SLAB_MOST
                                         : slab_futures;
    size_t bytes = sizeof(slab) + n * sizeof(hpool_future);
    slab *s = hpool__pages_alloc(bytes);
    if (s == NULL)
        return HPOOL_ENOMEM;
    s->next = slabs;
    s->n = n;
    s->bytes = bytes;
    slabs = s;
    slab_futures += n;
    for (size_t i = 0; i < n; i++) {
        s->f[i].magic = HPOOL__FUTURE_DEAD;
        s->f[i].next = i + 1 < n ? &s->f[i + 1] : NULL;
    }
    if (free_tail)
        free_tail->next = &s->f[0];
    else
        free_head = &s->f[0];
    free_tail = &s->f[n - 1];
    return 0;
}

static hpool_future *future_alloc_locked(void)
{
    if (free_head == NULL && grow_slabs_locked() != 0)
        return NULL;
    hpool_future *f = free_head;
    free_head = f->next;
    if (free_head == NULL)
        free_tail = NULL;
    memset(f, 0, sizeof *f);
    f->magic = HPOOL__FUTURE_LIVE;
    f->rank = -1;
    f->user_ref = true;
    f->mgr_ref = true;
    return f;
}

hpool_future *hpool__future_new_locked(int task, uint64_t seq, const void *arg, size_t len,
                                       void *arg_heap)
{
    hpool_future *f = future_alloc_locked();
    if (f == NULL)
        return NULL;
    f->task = (int16_t)task;
    f->seq = seq;
    f->t_submit = hpool__now();
    f->arg_len = (uint32_t)len;
    if (arg_heap)
        f->arg.heap = arg_heap;
    else if (len)
        memcpy(f->arg.bytes, arg, len);
    return f;
}

bool hpool__future_start_locked(hpool_future *f)
{
    if (f->state == HPOOL__F_CANCELLED) {
        hpool__future_drop_ref_locked(f);
        return false;
    }
    f->state = HPOOL__F_RUNNING;
    return true;
}

void hpool__future_unstart_locked(hpool_future *f)
{
    f->state = HPOOL__F_PENDING;
}

bool hpool__future_take_retry_locked(hpool_future *f, int limit)
{
    if (f->retries >= limit)
        return false;
    f->retries++;
    return true;
}

static void future_free_locked(hpool_future *f)
{
    if (f->arg_len > HPOOL__INLINE_ARG)
        free(f->arg.heap);
    if (f->res_len > HPOOL__INLINE_RES)
        free(f->res.heap);
    free(f->msg);
    hpool__waiter_link *w = f->waiters;
    while (w) {
        hpool__waiter_link *n = w->next;
        free(w);
        w = n;
    }
    f->magic = HPOOL__FUTURE_DEAD;
    f->next = NULL;
    if (free_tail)
        free_tail->next = f;
    else
        free_head = f;
    free_tail = f;
}

void hpool__future_discard_locked(hpool_future *f)
{
    future_free_locked(f);
}

void hpool__future_drop_ref_locked(hpool_future *f)
{
    f->mgr_ref = false;
    if (!f->user_ref)
        future_free_locked(f);
}

void hpool__future_slabs_free(void)
{
    while (slabs) {
        slab *n = slabs->next;
        for (size_t i = 0; i < slabs->n; i++)
            if (slabs->f[i].magic == HPOOL__FUTURE_LIVE) {
                hpool_future *f = &slabs->f[i];
                if (f->arg_len > HPOOL__INLINE_ARG)
                    free(f->arg.heap);
                if (f->res_len > HPOOL__INLINE_RES)
                    free(f->res.heap);
                free(f->msg);
                for (hpool__waiter_link *w = f->waiters, *nx; w; w = nx) {
                    nx = w->next;
                    free(w);
                }
            }
        hpool__pages_free(slabs, slabs->bytes);
        slabs = n;
    }
    slab_futures = 0;
    free_head = free_tail = NULL;
}

const void *hpool__future_arg(const hpool_future *f)
{
    return f->arg_len > HPOOL__INLINE_ARG ? f->arg.heap : f->arg.bytes;
}

static const void *future_res(const hpool_future *f)
{
    return f->res_len > HPOOL__INLINE_RES ? f->res.heap : f->res.bytes;
}

/* ---------------------------------------------------------------- as_completed state */
struct hpool_as_completed {
    hpool_future **ready; /* completed, not yet returned (FIFO ring of n); lock */
    size_t n, head, count, returned; /* n = ring capacity (>= 1) */
    size_t total;                     /* futures given */
    double deadline;
    hpool_future **all;   /* for unregistering */
};

static void notify_waiters_locked(hpool_future *f)
{
    for (hpool__waiter_link *w = f->waiters; w; w = w->next) {
        hpool_as_completed *ac = w->ac;
        if (ac == NULL)
            continue;
        ac->ready[(ac->head + ac->count) % ac->n] = f;
        ac->count++;
        w->ac = NULL; /* one notification per registration */
    }
}

static void complete_locked(hpool_future *f, hpool_future **run_later)
{
    notify_waiters_locked(f);
    if (f->callbacks) {
        /* Keep the executor's reference until the callbacks have run. */
        f->next = *run_later;
        *run_later = f;
    } else {
        hpool__future_drop_ref_locked(f);
    }
}

void hpool__future_finish_locked(hpool_future *f, int code, int task_status, int rank,
                                 const void *res, size_t len, const char *msg,
                                 hpool_future **run_later)
{
    f->code = code;
    f->task_status = task_status;
    f->rank = rank;
    f->res_len = 0;
    if (code == 0 && len > 0) {
        void *dst = f->res.bytes;
        if (len > HPOOL__INLINE_RES) {
            f->res.heap = malloc(len);
            dst = f->res.heap;
        }
        if (dst == NULL) {
            f->code = HPOOL_ENOMEM;
        } else {
            memcpy(dst, res, len);
            f->res_len = (uint32_t)len;
        }
    }
    if (msg != NULL && code != 0)
        f->msg = strdup(msg);
    f->state = HPOOL__F_FINISHED;
    complete_locked(f, run_later);
}

void hpool__future_cancel_locked(hpool_future *f, hpool_future **run_later)
{
    f->state = HPOOL__F_CANCELLED;
    f->code = HPOOL_ECANCELLED;
    complete_locked(f, run_later);
}

void hpool__future_run_callbacks(hpool_future *list)
{
    while (list) {
        hpool_future *f = list;
        hpool__lock();
        list = f->next;
        hpool__callback *cb = f->callbacks;
        f->callbacks = NULL;
        hpool__unlock();
        while (cb) {
            hpool__callback *n = cb->next;
            cb->fn(f, cb->user);
            free(cb);
            cb = n;
        }
        hpool__lock();
        hpool__future_drop_ref_locked(f);
        hpool__unlock();
    }
}

/* Futures whose callbacks a leader handed to the manager thread (FIFO); lock. */
static hpool_future *handed_head, *handed_tail;

void hpool__future_callbacks_from_progress(hpool_future *list)
{
    if (list == NULL)
        return;
    if (hpool__on_manager_thread()) {
        hpool__future_run_callbacks(list);
        return;
    }
    hpool__lock();
    hpool_future *tail = list;
    while (tail->next)
        tail = tail->next;
    if (handed_tail)
        handed_tail->next = list;
    else
        handed_head = list;
    handed_tail = tail;
    hpool__call_manager_thread_locked();
    hpool__unlock();
}

void hpool__future_run_handed_callbacks(void)
{
    hpool__lock();
    hpool_future *list = handed_head;
    handed_head = handed_tail = NULL;
    hpool__unlock();
    hpool__future_run_callbacks(list);
}

/* ---------------------------------------------------------------- public: one future */
static bool is_final(const hpool_future *f)
{
    return f->state == HPOOL__F_FINISHED || f->state == HPOOL__F_CANCELLED;
}

static int check_live_locked(const hpool_future *f, const char *fn)
{
    if (f == NULL)
        return hpool__fail(HPOOL_EINVAL, "%s: future is NULL", fn);
    if (f->magic != HPOOL__FUTURE_LIVE || !f->user_ref)
        return hpool__fail(HPOOL_ERELEASED, "%s: future was already released", fn);
    return 0;
}

static bool future_final(const void *f)
{
    return is_final(f);
}

static int outcome_locked(const hpool_future *f)
{
    if (f->state == HPOOL__F_CANCELLED)
        return hpool__fail(HPOOL_ECANCELLED, "future was cancelled");
    if (f->code != 0)
        return hpool__fail(f->code, "%s", f->msg ? f->msg : hpool_strerror(f->code));
    return 0;
}

int hpool_future_result(hpool_future *f, double timeout_s, const void **res, size_t *len)
{
    hpool__lock();
    int rc = check_live_locked(f, "hpool_future_result");
    if (rc == 0)
        rc = hpool__wait_locked(future_final, f, hpool__deadline(timeout_s),
                                "hpool_future_result");
    if (rc == HPOOL_ETIMEDOUT)
        rc = hpool__fail(rc, "hpool_future_result: no result within %g s", timeout_s);
    else if (rc == 0)
        rc = outcome_locked(f);
    if (rc == 0) {
        if (res)
            *res = future_res(f);
        if (len)
            *len = f->res_len;
    }
    hpool__unlock();
    return rc;
}

int hpool_future_error(hpool_future *f, double timeout_s, hpool_error_info *info)
{
    if (info == NULL)
        return hpool__fail(HPOOL_EINVAL, "hpool_future_error: info is NULL");
    hpool__lock();
    int rc = check_live_locked(f, "hpool_future_error");
    if (rc == 0)
        rc = hpool__wait_locked(future_final, f, hpool__deadline(timeout_s),
                                "hpool_future_error");
    if (rc == HPOOL_ETIMEDOUT)
        rc = hpool__fail(rc, "hpool_future_error: not done within %g s", timeout_s);
    if (rc == 0) {
        info->code = f->state == HPOOL__F_CANCELLED ? HPOOL_ECANCELLED : f->code;
        info->task_status = f->task_status;
        info->rank = f->rank;
        info->item = f->seq;
        info->message = f->msg ? f->msg : (info->code ? hpool_strerror(info->code) : "");
    }
    hpool__unlock();
    return rc;
}

static bool state_is(hpool_future *f, int want)
{
    hpool__lock();
    bool r = check_live_locked(f, "hpool_future_state") == 0 && f->state == want;
    hpool__unlock();
    return r;
}

bool hpool_future_running(hpool_future *f)
{
    return state_is(f, HPOOL__F_RUNNING);
}

bool hpool_future_cancelled(hpool_future *f)
{
    return state_is(f, HPOOL__F_CANCELLED);
}

bool hpool_future_done(hpool_future *f)
{
    hpool__lock();
    bool r = check_live_locked(f, "hpool_future_done") == 0 && is_final(f);
    hpool__unlock();
    return r;
}

bool hpool_future_cancel(hpool_future *f)
{
    hpool_future *run_later = NULL;
    bool r = false;
    hpool__lock();
    if (check_live_locked(f, "hpool_future_cancel") == 0) {
        if (f->state == HPOOL__F_PENDING) {
            /* It stays in the submission queue; the manager drops it when it gets there,
             * as CPython's manager drops cancelled work items. Its queue reference is
             * kept until then. */
            f->state = HPOOL__F_CANCELLED;
            f->code = HPOOL_ECANCELLED;
            notify_waiters_locked(f);
            if (f->callbacks)
                run_later = f;
            hpool__notify_locked();
            r = true;
        } else {
            r = f->state == HPOOL__F_CANCELLED;
        }
    }
    hpool__unlock();
    if (run_later) {
        /* Callbacks of a cancelled future run in the cancelling thread, as in CPython.
         * The queue still references it, so do not drop mgr_ref here. */
        hpool__callback *cb;
        hpool__lock();
        cb = f->callbacks;
        f->callbacks = NULL;
        hpool__unlock();
        while (cb) {
            hpool__callback *n = cb->next;
            cb->fn(f, cb->user);
            free(cb);
            cb = n;
        }
    }
    return r;
}

int hpool_future_add_done_callback(hpool_future *f, hpool_done_fn fn, void *user)
{
    if (fn == NULL)
        return hpool__fail(HPOOL_EINVAL, "hpool_future_add_done_callback: fn is NULL");
    hpool__lock();
    int rc = check_live_locked(f, "hpool_future_add_done_callback");
    bool run_now = rc == 0 && is_final(f);
    if (rc == 0 && !run_now) {
        hpool__callback *cb = malloc(sizeof *cb);
        if (cb == NULL) {
            rc = HPOOL_ENOMEM;
        } else {
            /* Append: callbacks run in the order they were added. */
            cb->fn = fn;
            cb->user = user;
            cb->next = NULL;
            hpool__callback **pp = &f->callbacks;
            while (*pp)
                pp = &(*pp)->next;
            *pp = cb;
        }
    }
    hpool__unlock();
    if (run_now)
        fn(f, user);
    return rc;
}

int hpool_future_release(hpool_future *f)
{
    hpool__lock();
    int rc = check_live_locked(f, "hpool_future_release");
    if (rc == 0) {
        f->user_ref = false;
        if (!f->mgr_ref)
            future_free_locked(f);
    }
    hpool__unlock();
    return rc;
}

/* ---------------------------------------------------------------- wait */
static bool wait_satisfied_locked(hpool_future *const *fs, size_t n, hpool_return_when when,
                                  size_t *n_done)
{
    size_t done = 0;
    bool failed = false;
    for (size_t i = 0; i < n; i++) {
        if (is_final(fs[i])) {
            done++;
            if (fs[i]->state == HPOOL__F_FINISHED && fs[i]->code != 0)
                failed = true;
        }
    }
    *n_done = done;
    if (when == HPOOL_FIRST_COMPLETED)
        return done > 0 || n == 0;
    if (when == HPOOL_FIRST_EXCEPTION && failed)
        return true;
    return done == n;
}

typedef struct {
    hpool_future *const *fs;
    size_t n;
    hpool_return_when when;
    size_t n_done;
} wait_args;

static bool wait_ready(const void *what)
{
    wait_args *a = (wait_args *)what; /* n_done is this call's own scratch */
    return wait_satisfied_locked(a->fs, a->n, a->when, &a->n_done);
}

int hpool_wait(hpool_future *const *fs, size_t n, double timeout_s, hpool_return_when when,
               bool *done, size_t *n_done)
{
    if ((fs == NULL && n > 0) ||
        (when != HPOOL_FIRST_COMPLETED && when != HPOOL_FIRST_EXCEPTION &&
         when != HPOOL_ALL_COMPLETED))
        return hpool__fail(HPOOL_EINVAL, "hpool_wait: bad futures array or return_when");
    double deadline = hpool__deadline(timeout_s);
    size_t nd = 0;
    int rc = 0;
    hpool__lock();
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = check_live_locked(fs[i], "hpool_wait");
    wait_args a = {fs, n, when, 0};
    if (rc == 0)
        rc = hpool__wait_locked(wait_ready, &a, deadline, "hpool_wait");
    nd = a.n_done;
    if (rc == HPOOL_ETIMEDOUT)
        rc = hpool__fail(HPOOL_ETIMEDOUT, "hpool_wait: condition not met within %g s",
                         timeout_s);
    if (done)
        for (size_t i = 0; i < n; i++)
            done[i] = fs[i] && fs[i]->magic == HPOOL__FUTURE_LIVE && is_final(fs[i]);
    hpool__unlock();
    if (n_done)
        *n_done = nd;
    return rc;
}

/* ---------------------------------------------------------------- as_completed */
static size_t lower_bound(hpool_future *const *sorted, size_t n, const hpool_future *f)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((uintptr_t)sorted[mid] < (uintptr_t)f)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int cmp_future_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (hpool_future *const *)a;
    uintptr_t y = (uintptr_t) * (hpool_future *const *)b;
    return (x > y) - (x < y);
}

/* CPython's as_completed works on set(fs): a future listed twice is yielded once. Writes
 * the distinct futures, in order of first appearance, to out; returns how many. */
static size_t distinct_in_order(hpool_future *const *fs, size_t n, hpool_future **out)
{
    if (n == 0)
        return 0;
    hpool_future **sorted = malloc(n * sizeof *sorted);
    bool *taken = calloc(n, sizeof *taken);
    size_t k = 0;
    if (sorted == NULL || taken == NULL) {
        free(sorted);
        free(taken);
        return SIZE_MAX;
    }
    memcpy(sorted, fs, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_future_ptr);
    for (size_t i = 0; i < n; i++) {
        size_t pos = lower_bound(sorted, n, fs[i]);
        if (!taken[pos]) {
            taken[pos] = true;
            out[k++] = fs[i];
        }
    }
    free(sorted);
    free(taken);
    return k;
}

int hpool_as_completed_create(hpool_future *const *fs, size_t n, double timeout_s,
                              hpool_as_completed **out)
{
    if (out == NULL || (fs == NULL && n > 0))
        return hpool__fail(HPOOL_EINVAL, "hpool_as_completed_create: NULL argument");
    hpool_as_completed *ac = calloc(1, sizeof *ac);
    if (ac == NULL)
        return hpool__fail(HPOOL_ENOMEM, "hpool_as_completed_create: out of memory");
    ac->n = n ? n : 1;
    ac->ready = calloc(ac->n, sizeof *ac->ready);
    ac->all = calloc(ac->n, sizeof *ac->all);
    ac->deadline = hpool__deadline(timeout_s);
    ac->total = ac->all ? distinct_in_order(fs, n, ac->all) : 0;
    if (ac->ready == NULL || ac->all == NULL || ac->total == SIZE_MAX) {
        ac->total = 0;
        hpool_as_completed_free(ac);
        return hpool__fail(HPOOL_ENOMEM, "hpool_as_completed_create: out of memory");
    }
    int rc = 0;
    hpool__lock();
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = check_live_locked(fs[i], "hpool_as_completed_create");
    if (rc != 0)
        memset(ac->all, 0, ac->n * sizeof *ac->all); /* nothing registered */
    /* Futures already done come first, in the given order, as in CPython. */
    for (size_t i = 0; i < ac->total && rc == 0; i++) {
        hpool_future *f = ac->all[i];
        if (is_final(f)) {
            ac->ready[(ac->head + ac->count++) % ac->n] = f;
            continue;
        }
        hpool__waiter_link *w = malloc(sizeof *w);
        if (w == NULL) {
            rc = hpool__fail(HPOOL_ENOMEM, "hpool_as_completed_create: out of memory");
            break;
        }
        w->ac = ac;
        w->next = f->waiters;
        f->waiters = w;
    }
    hpool__unlock();
    if (rc != 0) {
        hpool_as_completed_free(ac); /* unregisters what was registered */
        return rc;
    }
    *out = ac;
    return 0;
}

static bool as_completed_ready(const void *what)
{
    const hpool_as_completed *ac = what;
    return ac->count > 0 || ac->returned >= ac->total;
}

int hpool_as_completed_next(hpool_as_completed *ac, hpool_future **f)
{
    if (ac == NULL || f == NULL)
        return hpool__fail(HPOOL_EINVAL, "hpool_as_completed_next: NULL argument");
    int rc = 0;
    hpool__lock();
    size_t total = ac->total;
    rc = hpool__wait_locked(as_completed_ready, ac, ac->deadline, "hpool_as_completed_next");
    if (rc == HPOOL_ETIMEDOUT)
        rc = hpool__fail(HPOOL_ETIMEDOUT, "hpool_as_completed_next: %zu of %zu futures unfinished",
                         total - ac->returned, total);
    if (rc == 0 && ac->count > 0) {
        *f = ac->ready[ac->head];
        ac->head = (ac->head + 1) % ac->n;
        ac->count--;
        ac->returned++;
        rc = 1;
    }
    hpool__unlock();
    return rc;
}

void hpool_as_completed_free(hpool_as_completed *ac)
{
    if (ac == NULL)
        return;
    hpool__lock();
    /* Unhook registrations still pending, so completion never writes into freed
     * memory. Futures already released took their links with them. */
    for (size_t i = 0; ac->all && i < ac->n; i++) {
        hpool_future *f = ac->all[i];
        if (f == NULL || f->magic != HPOOL__FUTURE_LIVE)
            continue;
        for (hpool__waiter_link *w = f->waiters; w; w = w->next)
            if (w->ac == ac)
                w->ac = NULL;
    }
    hpool__unlock();
    free(ac->ready);
    free(ac->all);
    free(ac);
}
