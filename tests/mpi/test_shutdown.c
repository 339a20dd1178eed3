/* CPython's shutdown(wait, cancel_futures) and destroy:
 *  - wait=true: returns when everything finished; afterwards submit/map fail ESHUTDOWN;
 *  - cancel_futures=true: pending futures are cancelled, running ones complete;
 *  - wait=false: returns at once, every future still completes, and a new executor can
 *    be created while the old one drains;
 *  - destroy without shutdown waits, and futures outlive their executor. */
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "hpool_test.h"

typedef struct {
    int32_t ms;
    int32_t id;
} sleep_arg;

/* Sleeps, then returns its id. */
static int sleep_task(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    sleep_arg a;
    if (len != sizeof a)
        return hpool_task_fail(ctx, "bad length %zu", len);
    memcpy(&a, arg, sizeof a);
    hpool_test_sleep_ms(a.ms);
    return hpool_task_return(ctx, &a.id, sizeof a.id);
}

/* map form: a 4-byte record, returned unchanged. */
static int echo_task(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    return hpool_task_return(ctx, arg, len);
}

static void register_tasks(void)
{
    hpool_register_task("sleep", sleep_task);
    hpool_register_task("echo", echo_task);
}

/* ---------------------------------------------------------------- helpers */
static hpool_future *submit_sleep(hpool_executor *ex, int id, int ms)
{
    sleep_arg a = {ms, id};
    hpool_future *f = NULL;
    CHECK_OK(hpool_submit(ex, "sleep", &a, sizeof a, &f));
    return f;
}

/* The future finished successfully with its id; timeout 0 when it must already be done. */
static void check_result(hpool_future *f, int id, double timeout_s)
{
    const void *res = NULL;
    size_t len = 0;
    CHECK_OK(hpool_future_result(f, timeout_s, &res, &len));
    CHECK(len == sizeof(int32_t));
    int32_t got;
    memcpy(&got, res, sizeof got);
    CHECK(got == id);
}

static void check_cancelled(hpool_future *f)
{
    CHECK(hpool_future_cancelled(f));
    CHECK(hpool_future_done(f));
    CHECK_RC(hpool_future_result(f, 0, NULL, NULL), HPOOL_ECANCELLED);
}

/* Submit `inflight` long sleeps that fill every call slot (default prefetch 2 per worker)
 * and wait until they run, then `pending` short ones that stay queued behind them. */
static int submit_busy_then_pending(hpool_executor *ex, hpool_future **fs, int long_ms,
                                    int pending)
{
    int inflight = 2 * hpool_executor_workers(ex);
    for (int i = 0; i < inflight; i++)
        fs[i] = submit_sleep(ex, i, long_ms);
    hpool_test_wait_running(fs, inflight);
    for (int i = inflight; i < inflight + pending; i++)
        fs[i] = submit_sleep(ex, i, 5);
    return inflight;
}

/* After shutdown nothing new is accepted: submit and map fail with ESHUTDOWN. */
static void check_refuses_work(hpool_executor *ex)
{
    hpool_future *f = NULL;
    sleep_arg a = {1, 0};
    CHECK_RC(hpool_submit(ex, "sleep", &a, sizeof a, &f), HPOOL_ESHUTDOWN);
    CHECK(f == NULL);
    CHECK(strstr(hpool_last_error(), "shutdown") != NULL);
    int32_t items[3] = {1, 2, 3};
    hpool_map_iter *m = NULL;
    CHECK_RC(hpool_map(ex, "echo", items, sizeof items[0], 3, NULL, &m), HPOOL_ESHUTDOWN);
    CHECK(m == NULL);
}

static uint64_t items_run(hpool_executor *ex)
{
    hpool_executor_stats st;
    CHECK_OK(hpool_executor_get_stats(ex, &st));
    return st.items;
}

/* ---------------------------------------------------------------- wait=true */
typedef struct {
    hpool_executor *ex;
    int rc;
    atomic_int fired;
} late_submit;

/* A callback that fires during a waiting shutdown may not add work any more. */
static void submit_late(hpool_future *f, void *user)
{
    (void)f;
    late_submit *l = user;
    sleep_arg a = {1, 0};
    hpool_future *g = NULL;
    l->rc = hpool_submit(l->ex, "sleep", &a, sizeof a, &g);
    atomic_store(&l->fired, 1);
}

static void shutdown_wait(void)
{
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    int n = 3 * hpool_executor_workers(ex) + 1;
    hpool_future *fs[64];
    for (int i = 0; i < n; i++)
        fs[i] = submit_sleep(ex, i, 30);
    late_submit late = {.ex = ex, .rc = 1};
    CHECK_OK(hpool_future_add_done_callback(fs[n - 1], submit_late, &late));
    CHECK_OK(hpool_shutdown(ex, true, false));
    for (int i = 0; i < n; i++) {
        CHECK(hpool_future_done(fs[i]));
        check_result(fs[i], i, 0);
    }
    CHECK(atomic_load(&late.fired) == 1);
    CHECK_RC(late.rc, HPOOL_ESHUTDOWN);
    check_refuses_work(ex);
    CHECK_OK(hpool_shutdown(ex, true, false)); /* again: nothing to do */
    CHECK_OK(hpool_shutdown(ex, false, true));
    CHECK(items_run(ex) == (uint64_t)n);
    hpool_test_release_all(fs, n);
    CHECK_OK(hpool_executor_destroy(ex));
}

typedef struct {
    atomic_int calls;
} counter;

static void count_cb(hpool_future *f, void *user)
{
    (void)f;
    atomic_fetch_add(&((counter *)user)->calls, 1);
}

/* Pending futures are cancelled (their callbacks run), running ones complete. */
static void shutdown_wait_cancel(void)
{
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    hpool_future *fs[64];
    int pending = 2 * hpool_executor_workers(ex) + 1;
    int inflight = submit_busy_then_pending(ex, fs, 150, pending);
    int n = inflight + pending;
    counter c = {0};
    CHECK_OK(hpool_future_add_done_callback(fs[n - 1], count_cb, &c));
    CHECK_OK(hpool_shutdown(ex, true, true));
    for (int i = 0; i < inflight; i++)
        check_result(fs[i], i, 0);
    for (int i = inflight; i < n; i++)
        check_cancelled(fs[i]);
    CHECK(atomic_load(&c.calls) == 1);
    check_refuses_work(ex);
    CHECK(items_run(ex) == (uint64_t)inflight);
    hpool_test_release_all(fs, n);
    CHECK_OK(hpool_executor_destroy(ex));
}

/* ---------------------------------------------------------------- wait=false */
static void shutdown_nowait(void)
{
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    int n = 2 * hpool_executor_workers(ex) + 2;
    hpool_future *fs[64];
    for (int i = 0; i < n; i++)
        fs[i] = submit_sleep(ex, i, 300);
    double t0 = hpool_test_now();
    CHECK_OK(hpool_shutdown(ex, false, false));
    CHECK(!hpool_future_done(fs[0])); /* it returned before the first sleep ended */
    check_refuses_work(ex);
    hpool_executor_stats st;
    CHECK_RC(hpool_executor_get_stats(ex, &st), HPOOL_ESTATE); /* still draining */
    for (int i = 0; i < n; i++)
        check_result(fs[i], i, 30.0);
    CHECK(hpool_test_now() - t0 >= 0.29);
    CHECK_OK(hpool_executor_destroy(ex));
    hpool_test_release_all(fs, n);
}

/* cancel_futures with wait=false: pending ones are cancelled before it returns. */
static void shutdown_nowait_cancel(void)
{
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    hpool_future *fs[64];
    int pending = 3;
    int inflight = submit_busy_then_pending(ex, fs, 250, pending);
    CHECK_OK(hpool_shutdown(ex, false, true));
    for (int i = inflight; i < inflight + pending; i++)
        check_cancelled(fs[i]);
    CHECK(!hpool_future_done(fs[0])); /* it returned before the running sleeps ended */
    for (int i = 0; i < inflight; i++)
        check_result(fs[i], i, 30.0);
    CHECK_OK(hpool_executor_destroy(ex));
    hpool_test_release_all(fs, inflight + pending);
}

/* A new executor can be created while the previous one (shut down without waiting)
 * still drains: creation waits for the ranks, and both sets of futures complete. */
static void new_executor_while_draining(void)
{
    hpool_executor *old;
    CHECK_OK(hpool_executor_create(&old, NULL));
    int n = hpool_executor_workers(old);
    hpool_future *fs[64];
    for (int i = 0; i < n; i++)
        fs[i] = submit_sleep(old, i, 200);
    CHECK_OK(hpool_shutdown(old, false, false));
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    for (int i = 0; i < n; i++)
        CHECK(hpool_future_done(fs[i])); /* the old one drained first */
    hpool_future *g = submit_sleep(ex, 99, 1);
    check_result(g, 99, 30.0);
    for (int i = 0; i < n; i++)
        check_result(fs[i], i, 0);
    CHECK_OK(hpool_future_release(g));
    hpool_test_release_all(fs, n);
    CHECK_OK(hpool_executor_destroy(ex));
    CHECK_OK(hpool_executor_destroy(old));
}

/* ---------------------------------------------------------------- destroy */
static void destroy_waits_and_futures_outlive(void)
{
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    int n = 2 * hpool_executor_workers(ex) + 1;
    hpool_future *fs[64];
    for (int i = 0; i < n; i++)
        fs[i] = submit_sleep(ex, i, 40);
    CHECK_OK(hpool_executor_destroy(ex));
    for (int i = 0; i < n; i++) {
        CHECK(hpool_future_done(fs[i]));
        CHECK(!hpool_future_cancel(fs[i]));
        check_result(fs[i], i, 0);
        hpool_error_info info;
        CHECK_OK(hpool_future_error(fs[i], 0, &info));
        CHECK(info.code == 0 && info.item == (uint64_t)i);
    }
    hpool_test_release_all(fs, n);
}

/* The last executor is left running with work queued: hpool_finalize (in main) must shut
 * it down, waiting, before it releases the workers. */
static void leave_for_finalize(void)
{
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    for (int i = 0; i < 4; i++) {
        hpool_future *f = submit_sleep(ex, i, 20);
        if (i % 2)
            CHECK_OK(hpool_future_release(f)); /* released while pending: still fine */
    }
}

static void run_manager(int world)
{
    (void)world;
    shutdown_wait();
    shutdown_wait_cancel();
    shutdown_nowait();
    shutdown_nowait_cancel();
    new_executor_while_draining();
    destroy_waits_and_futures_outlive();
    leave_for_finalize();
}
