/* The submission queue and futures on rank 0, without MPI: the test plays the manager
 * thread (it carves queued futures and completes them the way manager.c does) against
 * the public API, on an executor object that no manager serves.
 *  - FIFO queue, cancel of pending futures (they stay queued and are skipped at carving),
 *    no cancel once carved;
 *  - references: release before/after completion, double release, stale pointers;
 *  - shutdown(cancel_futures) and a broken executor drain the queue;
 *  - callbacks, wait, as_completed and result timeouts, with a second thread completing
 *    futures at known times;
 *  - inline and heap results, error info. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "executor.h"
#include "sync.h"

static int noop_task(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    (void)ctx;
    (void)arg;
    (void)len;
    return 0;
}

/* ---------------------------------------------------------------- the fake manager */
/* hpool_init creates the condition variables on CLOCK_MONOTONIC (the clock of every
 * deadline); without hpool_init the test does the same. */
static int setup_conds(void **state)
{
    (void)state;
    return hpool__sync_init();
}

static int new_executor(void **state)
{
    hpool_executor *ex = calloc(1, sizeof *ex);
    if (ex == NULL)
        return -1;
    ex->id = 1;
    ex->n_workers = 1;
    ex->submit_batch = 1;
    *state = ex;
    return 0;
}

static int free_executor(void **state)
{
    hpool_executor *ex = *state;
    hpool__queue_free(&ex->queue);
    free(ex);
    return 0;
}

/* The manager's carving: the next queued future, cancelled ones let go. */
static hpool_future *carve(hpool_executor *ex)
{
    hpool_future *f = NULL;
    hpool__lock();
    uint32_t n = hpool__executor_carve_locked(ex, &f, 1);
    hpool__unlock();
    return n ? f : NULL;
}

/* manager.c's completion of a carved future: store, wake waiters, run callbacks. */
static void complete(hpool_future *f, int code, const void *res, size_t len, const char *msg)
{
    hpool_future *later = NULL;
    hpool__lock();
    hpool__future_finish_locked(f, code, code ? 7 : 0, 3, res, len, msg, &later);
    hpool__notify_locked();
    hpool__unlock();
    hpool__future_run_callbacks(later);
}

static void complete_int(hpool_future *f, int64_t v)
{
    complete(f, 0, &v, sizeof v, NULL);
}

static hpool_future *submit(hpool_executor *ex, int64_t v)
{
    hpool_future *f = NULL;
    assert_int_equal(hpool_submit(ex, "noop", &v, sizeof v, &f), 0);
    assert_non_null(f);
    return f;
}

static int64_t int_result(hpool_future *f, double timeout_s)
{
    const void *res = NULL;
    size_t len = 0;
    assert_int_equal(hpool_future_result(f, timeout_s, &res, &len), 0);
    assert_int_equal(len, sizeof(int64_t));
    int64_t v;
    memcpy(&v, res, sizeof v);
    return v;
}

static int64_t arg_of(const hpool_future *f)
{
    int64_t v;
    memcpy(&v, hpool__future_arg(f), sizeof v);
    return v;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------- queue and cancel */
static void queue_is_fifo(void **state)
{
    hpool_executor *ex = *state;
    hpool_future *fs[5];
    for (int i = 0; i < 5; i++)
        fs[i] = submit(ex, 100 + i);
    assert_int_equal(hpool__queue_len(&ex->queue), 5);
    for (int i = 0; i < 5; i++) {
        assert_false(hpool_future_running(fs[i]));
        hpool_future *f = carve(ex);
        assert_ptr_equal(f, fs[i]);
        assert_int_equal(f->seq, (uint64_t)i);
        assert_int_equal(arg_of(f), 100 + i);
        assert_true(hpool_future_running(f));
        assert_false(hpool_future_cancel(f)); /* carved: too late */
        assert_false(hpool_future_done(f));
    }
    assert_null(carve(ex));
    for (int i = 4; i >= 0; i--)
        complete_int(fs[i], -i);
    for (int i = 0; i < 5; i++) {
        assert_true(hpool_future_done(fs[i]));
        assert_false(hpool_future_running(fs[i]));
        assert_int_equal(int_result(fs[i], 0), -i);
        assert_int_equal(hpool_future_release(fs[i]), 0);
    }
}

static void cancelled_futures_are_skipped(void **state)
{
    hpool_executor *ex = *state;
    hpool_future *fs[4];
    for (int i = 0; i < 4; i++)
        fs[i] = submit(ex, i);
    assert_true(hpool_future_cancel(fs[1]));
    assert_true(hpool_future_cancel(fs[2]));
    assert_true(hpool_future_cancel(fs[2]));
    assert_int_equal(hpool__queue_len(&ex->queue), 4); /* the manager drops them when it gets there */
    assert_true(hpool_future_cancelled(fs[1]) && hpool_future_done(fs[1]));
    assert_int_equal(hpool_future_result(fs[1], 0, NULL, NULL), HPOOL_ECANCELLED);
    hpool_error_info info;
    assert_int_equal(hpool_future_error(fs[1], 0, &info), 0);
    assert_int_equal(info.code, HPOOL_ECANCELLED);

    assert_ptr_equal(carve(ex), fs[0]);
    assert_ptr_equal(carve(ex), fs[3]); /* 1 and 2 skipped */
    assert_int_equal(hpool__queue_len(&ex->queue), 0);
    /* The queue let go of them; the caller's references still answer. */
    assert_true(fs[1]->magic == HPOOL__FUTURE_LIVE && !fs[1]->mgr_ref);
    assert_true(hpool_future_cancelled(fs[2]));
    complete_int(fs[0], 0);
    complete_int(fs[3], 3);
    assert_false(hpool_future_cancel(fs[3])); /* finished */
    for (int i = 0; i < 4; i++)
        assert_int_equal(hpool_future_release(fs[i]), 0);
    assert_int_equal(fs[1]->magic, HPOOL__FUTURE_DEAD);
}

/* ---------------------------------------------------------------- references */
static void release_rules(void **state)
{
    hpool_executor *ex = *state;
    /* Released while pending: the queue keeps it alive, the caller cannot use it. */
    hpool_future *p = submit(ex, 1);
    assert_int_equal(hpool_future_release(p), 0);
    assert_int_equal(p->magic, HPOOL__FUTURE_LIVE);
    assert_int_equal(hpool_future_release(p), HPOOL_ERELEASED);
    assert_int_equal(hpool_future_result(p, 0, NULL, NULL), HPOOL_ERELEASED);
    assert_false(hpool_future_cancel(p));
    assert_ptr_equal(carve(ex), p);
    complete_int(p, 1); /* the executor's reference goes: freed */
    assert_int_equal(p->magic, HPOOL__FUTURE_DEAD);
    assert_int_equal(hpool_future_result(p, HPOOL_FOREVER, NULL, NULL), HPOOL_ERELEASED);
    assert_int_equal(hpool_wait(&p, 1, HPOOL_FOREVER, HPOOL_ALL_COMPLETED, NULL, NULL),
                     HPOOL_ERELEASED);

    /* Released after completion: freed at once, and its slot is not the next one used. */
    hpool_future *d = submit(ex, 2);
    assert_ptr_equal(carve(ex), d);
    complete_int(d, 2);
    assert_int_equal(hpool_future_release(d), 0);
    assert_int_equal(d->magic, HPOOL__FUTURE_DEAD);
    hpool_future *n = submit(ex, 3);
    assert_ptr_not_equal(n, d);
    assert_int_equal(hpool_future_release(d), HPOOL_ERELEASED);
    assert_true(hpool_future_cancel(n));
    assert_null(carve(ex));
    assert_int_equal(hpool_future_release(n), 0);
    assert_int_equal(n->magic, HPOOL__FUTURE_DEAD);
}

/* Thousands of futures: slabs grow, every one is freed once both owners let go. */
static void many_futures(void **state)
{
    hpool_executor *ex = *state;
    enum { N = 3000 };
    hpool_future **fs = calloc(N, sizeof *fs);
    assert_non_null(fs);
    for (int i = 0; i < N; i++)
        fs[i] = submit(ex, i);
    for (int i = 0; i < N; i += 2)
        assert_true(hpool_future_cancel(fs[i]));
    for (int i = 1; i < N; i += 2) {
        hpool_future *f = carve(ex);
        assert_ptr_equal(f, fs[i]);
        complete_int(f, i);
    }
    assert_null(carve(ex));
    for (int i = 0; i < N; i++) {
        if (i % 2)
            assert_int_equal(int_result(fs[i], 0), i);
        assert_int_equal(hpool_future_release(fs[i]), 0);
        assert_int_equal(fs[i]->magic, HPOOL__FUTURE_DEAD);
    }
    free(fs);
}

/* ---------------------------------------------------------------- results */
static void results_inline_and_heap(void **state)
{
    hpool_executor *ex = *state;
    unsigned char big[1000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (unsigned char)(i * 13);
    hpool_future *a = submit(ex, 0), *b = submit(ex, 1), *c = submit(ex, 2);
    complete(carve(ex), 0, big, sizeof big, NULL);
    complete(carve(ex), 0, "", 0, NULL);
    complete(carve(ex), HPOOL_ETASK, NULL, 0, "it broke");
    const void *res;
    size_t len;
    assert_int_equal(hpool_future_result(a, 0, &res, &len), 0);
    assert_int_equal(len, sizeof big);
    assert_memory_equal(res, big, sizeof big);
    assert_int_equal(hpool_future_result(b, 0, &res, &len), 0);
    assert_int_equal(len, 0);
    assert_int_equal(hpool_future_result(c, 0, &res, &len), HPOOL_ETASK);
    assert_string_equal(hpool_last_error(), "it broke");
    hpool_error_info info;
    assert_int_equal(hpool_future_error(c, 0, &info), 0);
    assert_int_equal(info.code, HPOOL_ETASK);
    assert_int_equal(info.task_status, 7);
    assert_int_equal(info.rank, 3);
    assert_int_equal(info.item, c->seq);
    assert_string_equal(info.message, "it broke");
    assert_int_equal(hpool_future_error(a, 0, &info), 0);
    assert_int_equal(info.code, 0);
    hpool_future_release(a);
    hpool_future_release(b);
    hpool_future_release(c);
}

/* ---------------------------------------------------------------- shutdown, broken */
typedef struct {
    int calls;
    hpool_future *last;
    pthread_t thread;
} cb_count;

static void count_cb(hpool_future *f, void *user)
{
    cb_count *c = user;
    c->calls++;
    c->last = f;
    c->thread = pthread_self();
}

static void shutdown_cancels_pending(void **state)
{
    hpool_executor *ex = *state;
    hpool_future *fs[4];
    for (int i = 0; i < 4; i++)
        fs[i] = submit(ex, i);
    hpool_future *running = carve(ex);
    assert_ptr_equal(running, fs[0]);
    cb_count c = {0};
    assert_int_equal(hpool_future_add_done_callback(fs[3], count_cb, &c), 0);
    assert_int_equal(hpool_shutdown(ex, false, true), 0);
    assert_int_equal(c.calls, 1); /* ran in the shutting-down thread */
    assert_true(pthread_equal(c.thread, pthread_self()));
    assert_int_equal(hpool__queue_len(&ex->queue), 0);
    for (int i = 1; i < 4; i++)
        assert_int_equal(hpool_future_result(fs[i], 0, NULL, NULL), HPOOL_ECANCELLED);
    assert_false(hpool_future_cancelled(running));
    hpool_future *late = NULL;
    assert_int_equal(hpool_submit(ex, "noop", NULL, 0, &late), HPOOL_ESHUTDOWN);
    assert_null(late);
    complete_int(running, 0);
    assert_int_equal(int_result(running, 0), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(hpool_future_release(fs[i]), 0);
}

static void broken_executor_fails_queue(void **state)
{
    hpool_executor *ex = *state;
    hpool_future *a = submit(ex, 1), *b = submit(ex, 2);
    assert_true(hpool_future_cancel(b));
    hpool_future *later = NULL;
    hpool__lock();
    hpool__executor_break_locked(ex, "initializer 'x' failed on rank 2: no", &later);
    hpool__unlock();
    hpool__future_run_callbacks(later);
    assert_int_equal(hpool_future_result(a, 0, NULL, NULL), HPOOL_EBROKEN);
    assert_non_null(strstr(hpool_last_error(), "initializer 'x' failed on rank 2"));
    assert_int_equal(hpool_future_result(b, 0, NULL, NULL), HPOOL_ECANCELLED);
    hpool_future *c = NULL;
    assert_int_equal(hpool_submit(ex, "noop", NULL, 0, &c), HPOOL_EBROKEN);
    assert_non_null(strstr(hpool_last_error(), "failed on rank 2"));
    hpool_future_release(a);
    hpool_future_release(b);
}

/* ---------------------------------------------------------------- callbacks */
static void callbacks_in_order_once(void **state)
{
    hpool_executor *ex = *state;
    hpool_future *f = submit(ex, 5);
    cb_count a = {0}, b = {0}, now = {0};
    assert_int_equal(hpool_future_add_done_callback(f, count_cb, &a), 0);
    assert_int_equal(hpool_future_add_done_callback(f, count_cb, &b), 0);
    assert_int_equal(hpool_future_add_done_callback(f, NULL, NULL), HPOOL_EINVAL);
    complete_int(carve(ex), 5);
    assert_int_equal(a.calls, 1);
    assert_int_equal(b.calls, 1);
    assert_ptr_equal(a.last, f);
    assert_int_equal(hpool_future_add_done_callback(f, count_cb, &now), 0);
    assert_int_equal(now.calls, 1);
    assert_int_equal(a.calls, 1);
    /* Released before completion: callbacks still run, and then it is freed. */
    hpool_future *g = submit(ex, 6);
    cb_count c = {0};
    assert_int_equal(hpool_future_add_done_callback(g, count_cb, &c), 0);
    assert_int_equal(hpool_future_release(g), 0);
    complete_int(carve(ex), 6);
    assert_int_equal(c.calls, 1);
    assert_int_equal(g->magic, HPOOL__FUTURE_DEAD);
    /* Cancelling runs them in the cancelling thread, once. */
    hpool_future *h = submit(ex, 7);
    cb_count d = {0};
    assert_int_equal(hpool_future_add_done_callback(h, count_cb, &d), 0);
    assert_true(hpool_future_cancel(h));
    assert_true(hpool_future_cancel(h));
    assert_int_equal(d.calls, 1);
    assert_null(carve(ex));
    assert_int_equal(d.calls, 1);
    hpool_future_release(f);
    hpool_future_release(h);
}

/* ---------------------------------------------------------------- waiting */
typedef struct {
    hpool_future *f;
    int after_ms;
    int code; /* 0: result = its arg; else fail with this code */
} timed_completion;

typedef struct {
    timed_completion *items;
    int n;
} completer_plan;

/* Completes the (already carved) futures at the planned times, in plan order. */
static void *completer(void *arg)
{
    completer_plan *p = arg;
    double t0 = now_s();
    for (int i = 0; i < p->n; i++) {
        timed_completion *c = &p->items[i];
        double wait = t0 + c->after_ms / 1000.0 - now_s();
        if (wait > 0)
            sleep_ms((int)(wait * 1000) + 1);
        if (c->code)
            complete(c->f, c->code, NULL, 0, "planned failure");
        else
            complete_int(c->f, arg_of(c->f));
    }
    return NULL;
}

static void carve_all(hpool_executor *ex, hpool_future **fs, int n)
{
    for (int i = 0; i < n; i++)
        assert_ptr_equal(carve(ex), fs[i]);
}

static void wait_conditions(void **state)
{
    hpool_executor *ex = *state;
    hpool_future *fs[3] = {submit(ex, 0), submit(ex, 1), submit(ex, 2)};
    carve_all(ex, fs, 3);
    timed_completion plan[] = {{fs[1], 40, 0}, {fs[2], 120, HPOOL_ETASK}, {fs[0], 250, 0}};
    completer_plan p = {plan, 3};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, completer, &p), 0);
    bool done[3];
    size_t nd;
    double t0 = now_s();
    assert_int_equal(hpool_wait(fs, 3, 0.01, HPOOL_FIRST_COMPLETED, done, &nd), HPOOL_ETIMEDOUT);
    assert_true(!done[0] && !done[1] && !done[2] && nd == 0);
    assert_int_equal(hpool_wait(fs, 3, 5.0, HPOOL_FIRST_COMPLETED, done, &nd), 0);
    assert_true(!done[0] && done[1] && !done[2] && nd == 1);
    assert_true(now_s() - t0 >= 0.035);
    assert_int_equal(hpool_wait(fs, 3, 0.02, HPOOL_ALL_COMPLETED, done, &nd), HPOOL_ETIMEDOUT);
    assert_true(done[1] && !done[0]);
    assert_int_equal(hpool_wait(fs, 3, 5.0, HPOOL_FIRST_EXCEPTION, done, &nd), 0);
    assert_true(!done[0] && done[1] && done[2] && nd == 2);
    assert_true(now_s() - t0 >= 0.115); /* fs[0], due at 0.25 s, is not done */
    assert_int_equal(hpool_wait(fs, 3, HPOOL_FOREVER, HPOOL_ALL_COMPLETED, done, &nd), 0);
    assert_true(done[0] && done[1] && done[2] && nd == 3);
    assert_int_equal(pthread_join(t, NULL), 0);
    for (int i = 0; i < 3; i++)
        hpool_future_release(fs[i]);
}

static void result_timeouts(void **state)
{
    hpool_executor *ex = *state;
    hpool_future *f = submit(ex, 42);
    carve_all(ex, &f, 1);
    double t0 = now_s();
    assert_int_equal(hpool_future_result(f, 0.03, NULL, NULL), HPOOL_ETIMEDOUT);
    double waited = now_s() - t0;
    assert_true(waited >= 0.03 && waited < 0.5);
    assert_non_null(strstr(hpool_last_error(), "hpool_future_result"));
    hpool_error_info info;
    assert_int_equal(hpool_future_error(f, 0, &info), HPOOL_ETIMEDOUT);
    assert_non_null(strstr(hpool_last_error(), "hpool_future_error"));
    timed_completion plan[] = {{f, 30, 0}};
    completer_plan p = {plan, 1};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, completer, &p), 0);
    assert_int_equal(int_result(f, 1e30), 42); /* huge timeout: no overflow, waits */
    assert_int_equal(pthread_join(t, NULL), 0);
    hpool_future_release(f);
}

static void as_completed_order_and_timeout(void **state)
{
    hpool_executor *ex = *state;
    hpool_future *fs[4] = {submit(ex, 0), submit(ex, 1), submit(ex, 2), submit(ex, 3)};
    carve_all(ex, fs, 4);
    complete_int(fs[3], 3); /* done before the iterator: comes first */
    hpool_future *list[6] = {fs[0], fs[1], fs[2], fs[3], fs[1], fs[3]};
    hpool_as_completed *ac;
    assert_int_equal(hpool_as_completed_create(list, 6, 5.0, &ac), 0);
    timed_completion plan[] = {{fs[2], 20, 0}, {fs[0], 50, HPOOL_ETASK}, {fs[1], 80, 0}};
    completer_plan p = {plan, 3};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, completer, &p), 0);
    int want[4] = {3, 2, 0, 1};
    for (int i = 0; i < 4; i++) {
        hpool_future *f = NULL;
        assert_int_equal(hpool_as_completed_next(ac, &f), 1);
        assert_ptr_equal(f, fs[want[i]]);
    }
    hpool_future *f = NULL;
    assert_int_equal(hpool_as_completed_next(ac, &f), 0);
    hpool_as_completed_free(ac);
    assert_int_equal(pthread_join(t, NULL), 0);

    /* Timeout from creation; freeing the iterator unhooks it from the futures. */
    hpool_future *g = submit(ex, 9);
    carve_all(ex, &g, 1);
    assert_int_equal(hpool_as_completed_create(&g, 1, 0.2, &ac), 0);
    sleep_ms(250);
    double t0 = now_s();
    assert_int_equal(hpool_as_completed_next(ac, &f), HPOOL_ETIMEDOUT);
    assert_true(now_s() - t0 < 0.15); /* did not start a new 0.2 s wait */
    hpool_as_completed_free(ac);
    complete_int(g, 9);
    assert_null(g->waiters->ac);
    for (int i = 0; i < 4; i++)
        hpool_future_release(fs[i]);
    hpool_future_release(g);
}

#define QUEUE_TEST(fn) cmocka_unit_test_setup_teardown(fn, new_executor, free_executor)

int main(void)
{
    hpool_register_task("noop", noop_task);
    const struct CMUnitTest tests[] = {
        QUEUE_TEST(queue_is_fifo),
        QUEUE_TEST(cancelled_futures_are_skipped),
        QUEUE_TEST(release_rules),
        QUEUE_TEST(many_futures),
        QUEUE_TEST(results_inline_and_heap),
        QUEUE_TEST(shutdown_cancels_pending),
        QUEUE_TEST(broken_executor_fails_queue),
        QUEUE_TEST(callbacks_in_order_once),
        QUEUE_TEST(wait_conditions),
        QUEUE_TEST(result_timeouts),
        QUEUE_TEST(as_completed_order_and_timeout),
    };
    return cmocka_run_group_tests(tests, setup_conds, NULL);
}
