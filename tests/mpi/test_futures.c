/* Futures under real workers: cancel before dispatch, result timeouts, wait with each
 * return_when (timeouts that expire and that don't), as_completed order and timeout, and
 * done callbacks (on completion, immediately, on cancel, submitting from a callback).
 *
 * Timing is made deterministic by filling the workers' call slots (prefetch, default 2,
 * per worker) with long sleeps: whatever is submitted after them stays pending. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "hpool_test.h"

typedef struct {
    int32_t ms;
    int32_t id;
} sleep_arg;

typedef struct {
    int32_t id;
    int32_t rank;
    int32_t runs; /* "tracked" only: how many tracked items this worker has run */
} sleep_res;

static int sleep_task(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    if (len != sizeof(sleep_arg))
        return hpool_task_fail(ctx, "bad length %zu", len);
    sleep_arg a;
    memcpy(&a, arg, sizeof a);
    hpool_test_sleep_ms(a.ms);
    sleep_res r = {a.id, hpool_task_rank(ctx), 0};
    return hpool_task_return(ctx, &r, sizeof r);
}

/* Counts its own runs on this worker, so rank 0 can prove that nothing else ran. */
static int tracked_task(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    static int32_t runs;
    sleep_arg a;
    if (len != sizeof a)
        return hpool_task_fail(ctx, "bad length %zu", len);
    memcpy(&a, arg, sizeof a);
    hpool_test_sleep_ms(a.ms);
    sleep_res r = {a.id, hpool_task_rank(ctx), ++runs};
    return hpool_task_return(ctx, &r, sizeof r);
}

static int fail_task(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    sleep_arg a;
    if (len != sizeof a)
        return hpool_task_fail(ctx, "bad length %zu", len);
    memcpy(&a, arg, sizeof a);
    hpool_test_sleep_ms(a.ms);
    return hpool_task_fail(ctx, "failing %d", (int)a.id);
}

static void register_tasks(void)
{
    hpool_register_task("sleep", sleep_task);
    hpool_register_task("tracked", tracked_task);
    hpool_register_task("fail", fail_task);
}

static hpool_future *submit_task(hpool_executor *ex, const char *task, int id, int ms)
{
    sleep_arg a = {ms, id};
    hpool_future *f = NULL;
    CHECK_OK(hpool_submit(ex, task, &a, sizeof a, &f));
    return f;
}

static hpool_future *submit_sleep(hpool_executor *ex, int id, int ms)
{
    return submit_task(ex, "sleep", id, ms);
}

static sleep_res result_of(hpool_future *f, double timeout_s)
{
    const void *res = NULL;
    size_t len = 0;
    CHECK_OK(hpool_future_result(f, timeout_s, &res, &len));
    CHECK(len == sizeof(sleep_res));
    sleep_res r;
    memcpy(&r, res, sizeof r);
    return r;
}

/* Occupy every call slot of every worker with a long sleep, so that later submissions
 * stay pending for about `ms`. Returns the number of futures written to busy[]. */
static int fill_workers(hpool_executor *ex, int ms, hpool_future **busy, int id0)
{
    int n = 2 * hpool_executor_workers(ex); /* default prefetch */
    for (int i = 0; i < n; i++)
        busy[i] = submit_sleep(ex, id0 + i, ms);
    hpool_test_wait_running(busy, n);
    return n;
}

/* The same with submit_batch > 1: one long sleep per call item, each a different task
 * from the next so that no batch takes two ("fail" sleeps like "sleep" first). */
static int fill_workers_batched(hpool_executor *ex, int ms, hpool_future **busy, int id0)
{
    int n = 2 * hpool_executor_workers(ex);
    for (int i = 0; i < n; i++)
        busy[i] = submit_task(ex, i % 2 ? "fail" : "sleep", id0 + i, ms);
    hpool_test_wait_running(busy, n);
    return n;
}

/* ---------------------------------------------------------------- cancel */
/* Cancel succeeds exactly on pending futures, and a cancelled future never runs: every
 * worker's own run counter matches the results rank 0 got from it, and the manager
 * counted only the items that were not cancelled. */
static void cancel_before_dispatch(int world)
{
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    int w = hpool_executor_workers(ex);
    enum { MAXF = 64 };
    hpool_future *fs[MAXF] = {NULL};
    int inflight = 2 * w, n = inflight + 2 * w + 1;
    CHECK(n <= MAXF);
    for (int i = 0; i < n; i++)
        fs[i] = submit_task(ex, "tracked", i, i < inflight ? 150 : 10);
    hpool_test_wait_running(fs, inflight);

    int n_cancelled = 0;
    for (int i = 0; i < n; i++) {
        if (i < inflight) {
            CHECK(!hpool_future_cancel(fs[i])); /* running: too late, as in CPython */
            CHECK(!hpool_future_cancelled(fs[i]));
            continue;
        }
        CHECK(!hpool_future_running(fs[i]));
        CHECK(!hpool_future_done(fs[i]));
        if (i % 2 == 0)
            continue;
        CHECK(hpool_future_cancel(fs[i]));
        n_cancelled++;
        CHECK(hpool_future_cancelled(fs[i]));
        CHECK(hpool_future_done(fs[i]));
        CHECK(!hpool_future_running(fs[i]));
        CHECK(hpool_future_cancel(fs[i])); /* cancelling again still answers true */
        CHECK_RC(hpool_future_result(fs[i], 0, NULL, NULL), HPOOL_ECANCELLED);
        hpool_error_info info;
        CHECK_OK(hpool_future_error(fs[i], 0, &info));
        CHECK(info.code == HPOOL_ECANCELLED);
    }

    int from_rank[64] = {0}, max_runs[64] = {0};
    for (int i = 0; i < n; i++) {
        if (i >= inflight && i % 2 == 1)
            continue;
        sleep_res r = result_of(fs[i], 30.0);
        CHECK(r.id == i);
        CHECK(r.rank >= 1 && r.rank < world);
        from_rank[r.rank]++;
        if (r.runs > max_runs[r.rank])
            max_runs[r.rank] = r.runs;
        CHECK(!hpool_future_cancel(fs[i])); /* finished: cannot be cancelled */
        CHECK(!hpool_future_cancelled(fs[i]));
    }
    for (int r = 1; r < world; r++)
        CHECK(max_runs[r] == from_rank[r]);

    CHECK_OK(hpool_shutdown(ex, true, false));
    hpool_executor_stats st;
    CHECK_OK(hpool_executor_get_stats(ex, &st));
    CHECK(st.items == (uint64_t)(n - n_cancelled));
    hpool_test_release_all(fs, n);
    CHECK_OK(hpool_executor_destroy(ex));
}

/* ---------------------------------------------------------------- result timeout */
static void result_timeout(void)
{
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    hpool_future *f = submit_sleep(ex, 7, 250);
    double t0 = hpool_test_now();
    CHECK_RC(hpool_future_result(f, 0.05, NULL, NULL), HPOOL_ETIMEDOUT);
    CHECK(hpool_test_now() - t0 >= 0.05); /* it did wait its timeout ... */
    CHECK(strstr(hpool_last_error(), "hpool_future_result") != NULL);
    CHECK(!hpool_future_done(f)); /* ... and no longer: the 250 ms task is still running */
    CHECK_RC(hpool_future_result(f, 0, NULL, NULL), HPOOL_ETIMEDOUT);
    hpool_error_info info;
    CHECK_RC(hpool_future_error(f, 0.01, &info), HPOOL_ETIMEDOUT);
    /* The work went on: the same future completes. A huge timeout is no timeout (not a
     * time_t overflow that expires at once). */
    sleep_res r = result_of(f, 1e30);
    CHECK(r.id == 7);
    CHECK(hpool_future_done(f));
    CHECK_OK(hpool_future_error(f, 0, &info));
    CHECK(info.code == 0);
    CHECK_OK(hpool_future_release(f));
    CHECK_OK(hpool_executor_destroy(ex));
}

/* ---------------------------------------------------------------- wait */
static void check_done(const bool *done, bool d0, bool d1)
{
    CHECK(done[0] == d0);
    CHECK(done[1] == d1);
}

/* fs = {fast, slow}: submitted in this order so that one worker runs fast first. */
static void wait_completed_and_all(hpool_executor *ex)
{
    hpool_future *fs[2] = {submit_sleep(ex, 1, 30), submit_sleep(ex, 2, 300)};
    bool done[2];
    size_t nd = 99;
    double t0 = hpool_test_now();
    CHECK_RC(hpool_wait(fs, 2, 0.01, HPOOL_FIRST_COMPLETED, done, &nd), HPOOL_ETIMEDOUT);
    CHECK(hpool_test_now() - t0 >= 0.01);
    check_done(done, false, false);
    CHECK(nd == 0);

    CHECK_OK(hpool_wait(fs, 2, 10.0, HPOOL_FIRST_COMPLETED, done, &nd));
    check_done(done, true, false);
    CHECK(nd == 1);

    CHECK_RC(hpool_wait(fs, 2, 0.05, HPOOL_ALL_COMPLETED, done, &nd), HPOOL_ETIMEDOUT);
    check_done(done, true, false);
    CHECK(nd == 1);
    /* No exception among them: FIRST_EXCEPTION waits for all, like ALL_COMPLETED. */
    CHECK_RC(hpool_wait(fs, 2, 0.05, HPOOL_FIRST_EXCEPTION, done, &nd), HPOOL_ETIMEDOUT);
    check_done(done, true, false);

    CHECK_OK(hpool_wait(fs, 2, 1e300, HPOOL_ALL_COMPLETED, done, &nd));
    check_done(done, true, true);
    CHECK(nd == 2);
    CHECK_OK(hpool_wait(fs, 2, 10.0, HPOOL_FIRST_EXCEPTION, NULL, NULL));
    CHECK_OK(hpool_wait(fs, 2, 0, HPOOL_FIRST_COMPLETED, NULL, &nd)); /* already holds */
    CHECK(nd == 2);
    hpool_test_release_all(fs, 2);
}

static void wait_first_exception(hpool_executor *ex)
{
    hpool_future *fs[2] = {submit_task(ex, "fail", 3, 30), submit_sleep(ex, 4, 300)};
    bool done[2];
    size_t nd = 99;
    CHECK_RC(hpool_wait(fs, 2, 0.01, HPOOL_FIRST_EXCEPTION, done, &nd), HPOOL_ETIMEDOUT);
    check_done(done, false, false);
    CHECK_OK(hpool_wait(fs, 2, 10.0, HPOOL_FIRST_EXCEPTION, done, &nd));
    check_done(done, true, false); /* returned on the failure, before the sleep ended */
    CHECK(nd == 1);
    CHECK_RC(hpool_future_result(fs[0], 0, NULL, NULL), HPOOL_ETASK);
    CHECK(strstr(hpool_last_error(), "failing 3") != NULL);
    CHECK_OK(hpool_wait(fs, 2, 10.0, HPOOL_ALL_COMPLETED, done, &nd));
    check_done(done, true, true);
    hpool_test_release_all(fs, 2);
}

/* A cancelled future is completed for FIRST_COMPLETED but is no exception. */
static void wait_with_cancelled(hpool_executor *ex)
{
    hpool_future *busy[128];
    int nb = fill_workers(ex, 120, busy, 100);
    hpool_future *fs[2] = {submit_sleep(ex, 5, 10), busy[0]};
    CHECK(hpool_future_cancel(fs[0]));
    bool done[2];
    size_t nd;
    CHECK_OK(hpool_wait(fs, 2, 0, HPOOL_FIRST_COMPLETED, done, &nd));
    check_done(done, true, false);
    CHECK_RC(hpool_wait(fs, 2, 0.02, HPOOL_FIRST_EXCEPTION, done, &nd), HPOOL_ETIMEDOUT);
    check_done(done, true, false);
    CHECK_OK(hpool_wait(fs, 2, 10.0, HPOOL_FIRST_EXCEPTION, done, &nd));
    check_done(done, true, true);
    CHECK_OK(hpool_wait(busy, (size_t)nb, 10.0, HPOOL_ALL_COMPLETED, NULL, &nd));
    CHECK(nd == (size_t)nb);
    CHECK_OK(hpool_future_release(fs[0]));
    hpool_test_release_all(busy, nb);
}

static void wait_variants(void)
{
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    size_t nd = 99;
    CHECK_OK(hpool_wait(NULL, 0, 0, HPOOL_ALL_COMPLETED, NULL, &nd)); /* nothing to wait */
    CHECK(nd == 0);
    CHECK_OK(hpool_wait(NULL, 0, 0, HPOOL_FIRST_COMPLETED, NULL, NULL));
    wait_completed_and_all(ex);
    wait_first_exception(ex);
    wait_with_cancelled(ex);
    CHECK_OK(hpool_executor_destroy(ex));
}

/* ---------------------------------------------------------------- as_completed */
/* K tasks with decreasing sleeps: with one worker they run one after the other and
 * complete in submission order; with several each gets its own worker and they complete
 * in reverse. A future already done when the iterator is created comes first. */
static void as_completed_order(void)
{
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    int w = hpool_executor_workers(ex);
    int k = w >= 2 ? w : 3;
    hpool_future *fs[8];
    fs[0] = submit_sleep(ex, 0, 1);
    (void)result_of(fs[0], 10.0);
    for (int i = 1; i <= k; i++)
        fs[i] = submit_sleep(ex, i, (k - i + 1) * 70);
    hpool_as_completed *ac;
    CHECK_OK(hpool_as_completed_create(fs, (size_t)k + 1, 30.0, &ac));
    bool seen[8] = {false};
    for (int pos = 0; pos <= k; pos++) {
        hpool_future *f = NULL;
        CHECK_RC(hpool_as_completed_next(ac, &f), 1);
        CHECK(hpool_future_done(f));
        sleep_res r = result_of(f, 0);
        CHECK(!seen[r.id]);
        seen[r.id] = true;
        int want = pos == 0 ? 0 : (w >= 2 ? k - pos + 1 : pos);
        CHECK(r.id == want);
    }
    hpool_future *f = NULL;
    CHECK_RC(hpool_as_completed_next(ac, &f), 0);
    CHECK_RC(hpool_as_completed_next(ac, &f), 0);
    hpool_as_completed_free(ac);
    hpool_test_release_all(fs, k + 1);
    CHECK_OK(hpool_executor_destroy(ex));
}

/* Every future exactly once, even when the caller lists one twice (CPython takes a set);
 * an empty list ends at once. */
static void as_completed_duplicates(void)
{
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    hpool_future *a = submit_sleep(ex, 1, 20), *b = submit_sleep(ex, 2, 40);
    (void)result_of(a, 10.0); /* a done before creation, b maybe not */
    hpool_future *fs[4] = {a, b, a, b};
    hpool_as_completed *ac;
    CHECK_OK(hpool_as_completed_create(fs, 4, 10.0, &ac));
    hpool_future *got[3] = {NULL, NULL, NULL};
    CHECK_RC(hpool_as_completed_next(ac, &got[0]), 1);
    CHECK_RC(hpool_as_completed_next(ac, &got[1]), 1);
    CHECK_RC(hpool_as_completed_next(ac, &got[2]), 0);
    CHECK(got[0] == a && got[1] == b);
    hpool_as_completed_free(ac);

    CHECK_OK(hpool_as_completed_create(NULL, 0, 0, &ac));
    CHECK_RC(hpool_as_completed_next(ac, &got[0]), 0);
    hpool_as_completed_free(ac);
    CHECK_OK(hpool_future_release(a));
    CHECK_OK(hpool_future_release(b));
    CHECK_OK(hpool_executor_destroy(ex));
}

/* The timeout runs from creation: next() after the deadline fails at once. The futures
 * still complete afterwards. */
static void as_completed_timeout(void)
{
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    hpool_future *f = submit_sleep(ex, 9, 1000);
    hpool_as_completed *ac;
    double t0 = hpool_test_now();
    CHECK_OK(hpool_as_completed_create(&f, 1, 0.1, &ac));
    hpool_future *got = NULL;
    CHECK_RC(hpool_as_completed_next(ac, &got), HPOOL_ETIMEDOUT);
    CHECK(hpool_test_now() - t0 >= 0.1); /* it waited its timeout, and no longer: */
    CHECK(!hpool_future_done(f));        /* f, due at 1 s, is still running */
    CHECK(got == NULL);
    hpool_as_completed_free(ac);

    /* The deadline counts from creation: a next() after it answers at once. Created at
     * ~0.1 s with 0.5 s, called at ~0.8 s: were it to start a new 0.5 s wait, f (due at
     * 1 s) would complete within it and be returned. */
    CHECK_OK(hpool_as_completed_create(&f, 1, 0.5, &ac));
    hpool_test_sleep_ms(700);
    CHECK_RC(hpool_as_completed_next(ac, &got), HPOOL_ETIMEDOUT);
    CHECK(got == NULL);
    hpool_as_completed_free(ac); /* unhooks it: completing f must not touch it */

    CHECK(result_of(f, 10.0).id == 9);
    CHECK_OK(hpool_future_release(f));
    CHECK_OK(hpool_executor_destroy(ex));
}

/* ---------------------------------------------------------------- callbacks */
typedef struct {
    atomic_int calls;
    atomic_int order; /* position among the callbacks of the same future */
    pthread_t thread;
    hpool_future *seen;
    int rc;        /* hpool_future_result inside the callback */
    int32_t id;    /* the result it read */
} cb_rec;

static atomic_int cb_sequence;

static void record_cb(hpool_future *f, void *user)
{
    cb_rec *c = user;
    c->thread = pthread_self();
    c->seen = f;
    const void *res = NULL;
    size_t len = 0;
    c->rc = hpool_future_result(f, 0, &res, &len);
    if (c->rc == 0 && len == sizeof(sleep_res))
        c->id = ((const sleep_res *)res)->id;
    atomic_store(&c->order, atomic_fetch_add(&cb_sequence, 1));
    atomic_fetch_add(&c->calls, 1);
}

static void wait_calls(cb_rec *c, int want)
{
    double end = hpool_test_now() + 10.0;
    while (atomic_load(&c->calls) < want) {
        CHECK(hpool_test_now() < end);
        hpool_test_sleep_ms(1);
    }
}

/* Runs once, on the manager thread, after the result is stored; two callbacks run in the
 * order they were added; a failed task's callback runs too. */
static void callback_on_completion(hpool_executor *ex)
{
    cb_rec a = {0}, b = {0}, c = {0};
    hpool_future *f = submit_sleep(ex, 11, 80);
    CHECK_OK(hpool_future_add_done_callback(f, record_cb, &a));
    CHECK_OK(hpool_future_add_done_callback(f, record_cb, &b));
    CHECK(atomic_load(&a.calls) == 0);
    CHECK(result_of(f, 10.0).id == 11);
    wait_calls(&a, 1);
    wait_calls(&b, 1);
    CHECK(a.seen == f && a.rc == 0 && a.id == 11);
    CHECK(!pthread_equal(a.thread, pthread_self()));
    CHECK(atomic_load(&a.order) < atomic_load(&b.order));

    hpool_future *g = submit_task(ex, "fail", 12, 10);
    CHECK_OK(hpool_future_add_done_callback(g, record_cb, &c));
    CHECK_RC(hpool_future_result(g, 10.0, NULL, NULL), HPOOL_ETASK);
    wait_calls(&c, 1);
    CHECK(c.rc == HPOOL_ETASK);

    /* Already done: runs at once, in the calling thread. */
    cb_rec d = {0};
    CHECK_OK(hpool_future_add_done_callback(f, record_cb, &d));
    CHECK(atomic_load(&d.calls) == 1);
    CHECK(pthread_equal(d.thread, pthread_self()));
    hpool_test_sleep_ms(20);
    CHECK(atomic_load(&a.calls) == 1 && atomic_load(&b.calls) == 1);
    CHECK(atomic_load(&c.calls) == 1);
    CHECK_OK(hpool_future_release(f));
    CHECK_OK(hpool_future_release(g));
}

/* Cancelling runs the callbacks in the cancelling thread (as CPython's cancel()); adding
 * one to a cancelled future runs it at once. */
static void callback_on_cancel(hpool_executor *ex)
{
    hpool_future *busy[128];
    int nb = fill_workers(ex, 100, busy, 200);
    hpool_future *p = submit_sleep(ex, 13, 10);
    cb_rec a = {0}, b = {0};
    CHECK_OK(hpool_future_add_done_callback(p, record_cb, &a));
    CHECK(hpool_future_cancel(p));
    CHECK(atomic_load(&a.calls) == 1);
    CHECK(a.rc == HPOOL_ECANCELLED);
    CHECK(pthread_equal(a.thread, pthread_self()));
    CHECK(hpool_future_cancel(p)); /* a second cancel runs nothing again */
    CHECK(atomic_load(&a.calls) == 1);
    CHECK_OK(hpool_future_add_done_callback(p, record_cb, &b));
    CHECK(atomic_load(&b.calls) == 1);
    CHECK_OK(hpool_wait(busy, (size_t)nb, 10.0, HPOOL_ALL_COMPLETED, NULL, NULL));
    hpool_test_sleep_ms(20); /* the manager drops p from the queue meanwhile */
    CHECK(atomic_load(&a.calls) == 1);
    CHECK_OK(hpool_future_release(p));
    hpool_test_release_all(busy, nb);
}

typedef struct {
    hpool_executor *ex;
    hpool_future *child;
    int rc;
    atomic_int fired;
} chain;

static void submit_from_cb(hpool_future *f, void *user)
{
    (void)f;
    chain *c = user;
    sleep_arg a = {10, 77};
    c->rc = hpool_submit(c->ex, "sleep", &a, sizeof a, &c->child);
    atomic_store(&c->fired, 1);
}

static void callback_submits(hpool_executor *ex)
{
    chain c = {.ex = ex};
    hpool_future *f = submit_sleep(ex, 14, 20);
    CHECK_OK(hpool_future_add_done_callback(f, submit_from_cb, &c));
    double end = hpool_test_now() + 10.0;
    while (!atomic_load(&c.fired)) {
        CHECK(hpool_test_now() < end);
        hpool_test_sleep_ms(1);
    }
    CHECK_OK(c.rc);
    CHECK(result_of(c.child, 10.0).id == 77);
    CHECK_OK(hpool_future_release(c.child));
    CHECK_OK(hpool_future_release(f));
}

/* A done callback runs on the manager thread, which completes futures: anything that
 * would block there fails with HPOOL_ESTATE instead of deadlocking; reading a completed
 * future and polling (timeout 0) work. */
typedef struct {
    hpool_executor *ex;
    hpool_future *other;
    int own, poll, result, error, wait, ac_next, shutdown, create, destroy;
    atomic_int fired;
} blocker;

static void blocking_cb(hpool_future *f, void *user)
{
    blocker *b = user;
    hpool_error_info info;
    hpool_as_completed *ac = NULL;
    hpool_future *got = NULL;
    b->own = hpool_future_result(f, HPOOL_FOREVER, NULL, NULL);
    b->poll = hpool_future_result(b->other, 0, NULL, NULL);
    b->result = hpool_future_result(b->other, HPOOL_FOREVER, NULL, NULL);
    b->error = hpool_future_error(b->other, 5.0, &info);
    b->wait = hpool_wait(&b->other, 1, 5.0, HPOOL_ALL_COMPLETED, NULL, NULL);
    if (hpool_as_completed_create(&b->other, 1, 5.0, &ac) == 0) {
        b->ac_next = hpool_as_completed_next(ac, &got);
        hpool_as_completed_free(ac);
    }
    b->shutdown = hpool_shutdown(b->ex, true, false); /* shuts down, cannot wait */
    hpool_executor *next = NULL;
    b->create = hpool_executor_create(&next, NULL);
    b->destroy = hpool_executor_destroy(b->ex);
    atomic_store(&b->fired, 1);
}

static void callbacks_never_block(void)
{
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    blocker b = {.ex = ex};
    hpool_future *f = submit_sleep(ex, 15, 1);
    b.other = submit_sleep(ex, 16, 200);
    CHECK_OK(hpool_future_add_done_callback(f, blocking_cb, &b));
    double end = hpool_test_now() + 10.0;
    while (!atomic_load(&b.fired)) {
        CHECK(hpool_test_now() < end);
        hpool_test_sleep_ms(1);
    }
    CHECK_OK(b.own);
    CHECK_RC(b.poll, HPOOL_ETIMEDOUT);
    CHECK_RC(b.result, HPOOL_ESTATE);
    CHECK_RC(b.error, HPOOL_ESTATE);
    CHECK_RC(b.wait, HPOOL_ESTATE);
    CHECK_RC(b.ac_next, HPOOL_ESTATE);
    CHECK_RC(b.shutdown, HPOOL_ESTATE);
    CHECK_RC(b.create, HPOOL_ESTATE);
    CHECK_RC(b.destroy, HPOOL_ESTATE);
    /* The callback's shutdown took effect; the running future still completes. */
    hpool_future *g = NULL;
    CHECK_RC(hpool_submit(ex, "sleep", NULL, 0, &g), HPOOL_ESHUTDOWN);
    CHECK(result_of(b.other, 10.0).id == 16);
    CHECK_OK(hpool_future_release(f));
    CHECK_OK(hpool_future_release(b.other));
    CHECK_OK(hpool_executor_destroy(ex));
}

static void callbacks(void)
{
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    callback_on_completion(ex);
    callback_on_cancel(ex);
    callback_submits(ex);
    CHECK_OK(hpool_executor_destroy(ex));
    callbacks_never_block();
}

/* ---------------------------------------------------------------- concurrency */
/* Several user threads share one executor: each submits its own futures and collects
 * them in its own way (result, wait, as_completed) while the main thread cancels some of
 * theirs. Every future ends exactly one way and the manager ran only the others. The
 * user threads do not use CHECK (its counter is not thread-safe): they count what went
 * wrong and the main thread checks the counts. */
enum { PER_THREAD = 150, USERS = 3 };

typedef struct {
    hpool_executor *ex;
    int index;
    hpool_future *fs[PER_THREAD];
    atomic_int submitted;
    int finished, cancelled, wrong;
} user_thread;

static void collect(user_thread *u)
{
    if (u->index == 1)
        u->wrong += hpool_wait(u->fs, PER_THREAD, 60.0, HPOOL_ALL_COMPLETED, NULL, NULL) != 0;
    if (u->index == 2) {
        hpool_as_completed *ac;
        u->wrong += hpool_as_completed_create(u->fs, PER_THREAD, 60.0, &ac) != 0;
        hpool_future *f;
        int n = 0;
        while (hpool_as_completed_next(ac, &f) == 1)
            n++;
        u->wrong += n != PER_THREAD;
        hpool_as_completed_free(ac);
    }
    for (int i = 0; i < PER_THREAD; i++) {
        const void *res;
        size_t len;
        int rc = hpool_future_result(u->fs[i], 60.0, &res, &len);
        if (rc == HPOOL_ECANCELLED) {
            u->cancelled++;
            continue;
        }
        sleep_res r = {-1, -1, -1};
        if (rc == 0 && len == sizeof r)
            memcpy(&r, res, sizeof r);
        u->wrong += r.id != u->index * PER_THREAD + i;
        u->finished++;
    }
}

static void *user_main(void *arg)
{
    user_thread *u = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        sleep_arg a = {i % 10 == 0 ? 2 : 0, u->index * PER_THREAD + i};
        if (hpool_submit(u->ex, "sleep", &a, sizeof a, &u->fs[i]) != 0)
            return (void *)1;
        atomic_store(&u->submitted, i + 1);
    }
    collect(u);
    return NULL;
}

static void threads_share_executor(void)
{
    hpool_executor *ex;
    hpool_executor_options o = {.submit_batch = 3};
    CHECK_OK(hpool_executor_create(&ex, &o));
    static user_thread users[USERS];
    pthread_t tids[USERS];
    for (int t = 0; t < USERS; t++) {
        memset(&users[t], 0, sizeof users[t]);
        users[t].ex = ex;
        users[t].index = t;
        CHECK(pthread_create(&tids[t], NULL, user_main, &users[t]) == 0);
    }
    int attempted = 0, cancelled = 0;
    for (int i = 0; i < PER_THREAD; i += 4)
        for (int t = 0; t < USERS; t++) {
            while (atomic_load(&users[t].submitted) <= i)
                hpool_test_sleep_ms(0);
            attempted++;
            cancelled += hpool_future_cancel(users[t].fs[i]);
        }
    int finished = 0, seen_cancelled = 0;
    for (int t = 0; t < USERS; t++) {
        void *ret = NULL;
        CHECK(pthread_join(tids[t], &ret) == 0);
        CHECK(ret == NULL);
        CHECK(users[t].wrong == 0);
        finished += users[t].finished;
        seen_cancelled += users[t].cancelled;
        hpool_test_release_all(users[t].fs, PER_THREAD);
    }
    CHECK(seen_cancelled == cancelled);
    CHECK(finished + cancelled == USERS * PER_THREAD);
    CHECK_OK(hpool_shutdown(ex, true, false));
    hpool_executor_stats st;
    CHECK_OK(hpool_executor_get_stats(ex, &st));
    CHECK(st.items == (uint64_t)finished);
    CHECK_OK(hpool_executor_destroy(ex));
    printf("threads: %d of %d cancel attempts succeeded\n", cancelled, attempted);
}

/* submit_batch packs consecutive futures of the same task into one call item; a batch
 * stops at a different task and skips cancelled futures. */
static void batches_with_mixed_tasks(int world)
{
    hpool_executor_options o = {.submit_batch = 4};
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, &o));
    hpool_future *busy[128];
    int nb = fill_workers_batched(ex, 100, busy, 1000);
    enum { N = 60 };
    hpool_future *fs[N];
    static const char pattern[] = "sstsstttstsssstt"; /* s: sleep, t: tracked */
    for (int i = 0; i < N; i++)
        fs[i] = submit_task(ex, pattern[i % 16] == 's' ? "sleep" : "tracked", i, 0);
    int n_cancelled = 0;
    for (int i = 0; i < N; i += 3) {
        CHECK(hpool_future_cancel(fs[i])); /* all still pending behind the busy ones */
        n_cancelled++;
    }
    for (int i = 0; i < N; i++) {
        if (i % 3 == 0) {
            CHECK_RC(hpool_future_result(fs[i], 30.0, NULL, NULL), HPOOL_ECANCELLED);
            continue;
        }
        sleep_res r = result_of(fs[i], 30.0);
        CHECK(r.id == i);
        CHECK(r.rank >= 1 && r.rank < world);
    }
    CHECK_OK(hpool_shutdown(ex, true, false));
    hpool_executor_stats st;
    CHECK_OK(hpool_executor_get_stats(ex, &st));
    CHECK(st.items == (uint64_t)(nb + N - n_cancelled));
    hpool_test_release_all(fs, N);
    hpool_test_release_all(busy, nb);
    CHECK_OK(hpool_executor_destroy(ex));
}

static void run_manager(int world)
{
    cancel_before_dispatch(world);
    result_timeout();
    wait_variants();
    as_completed_order();
    as_completed_duplicates();
    as_completed_timeout();
    callbacks();
    threads_share_executor();
    batches_with_mixed_tasks(world);
}
