/* CPython's behaviour at the edges (issue 12):
 *  1. maps and futures read after hpool_executor_destroy: defined answers, no invalid read
 *     (ASan checks the "no invalid read" part);
 *  2. every blocking call made from a done callback (the manager thread) answers
 *     HPOOL_ESTATE instead of blocking: result, error, wait, as_completed, map_next,
 *     map_close, shutdown(wait), placement; a zero timeout there still means "do not
 *     wait" (HPOOL_ETIMEDOUT);
 *  3. shutdown(cancel_futures) after a warm-up with short tasks cancels every future that
 *     has not started: 20 ms tasks are queued at most CPython's depth (2) per worker;
 *  4. a timeout of 0 means "do not wait" everywhere, HPOOL_FOREVER no limit, and a map
 *     without a timeout waits as long as it takes (CPython's timeout=None). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "hpool_test.h"

static int empty(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    (void)ctx;
    (void)arg;
    (void)len;
    return 0;
}

/* Sleeps *arg milliseconds, returns the argument. */
static int sleep_ms(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    int32_t ms = 0;
    memcpy(&ms, arg, len < sizeof ms ? len : sizeof ms);
    hpool_test_sleep_ms(ms);
    return hpool_task_return(ctx, &ms, sizeof ms);
}

static int square(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    int64_t v;
    if (len != sizeof v)
        return hpool_task_fail(ctx, "bad argument");
    memcpy(&v, arg, sizeof v);
    v *= v;
    return hpool_task_return(ctx, &v, sizeof v);
}

static void register_tasks(void)
{
    hpool_register_task("empty", empty);
    hpool_register_task("sleep_ms", sleep_ms);
    hpool_register_task("square", square);
}

/* ---------------------------------------------------------------- 1. after destroy */
static void read_after_destroy(void)
{
    enum { N = 40, B = 4 };
    int64_t items[N];
    for (int i = 0; i < N; i++)
        items[i] = i;
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    /* A map whose every item is carved before the executor drains: its results stay
     * readable after destroy, then it ends normally. */
    hpool_map_iter *whole;
    CHECK_OK(hpool_map(ex, "square", items, sizeof items[0], N, NULL, &whole));
    /* A map held back by its buffer: uncarved items are lost at shutdown, and it says so
     * once its carved results are read. */
    hpool_map_options bo = {.buffersize = B};
    hpool_map_iter *held;
    CHECK_OK(hpool_map(ex, "square", items, sizeof items[0], N, &bo, &held));
    const void *res;
    size_t len;
    uint64_t idx;
    CHECK_RC(hpool_map_next(whole, &res, &len, &idx), 1);
    CHECK(idx == 0);
    hpool_future *f;
    int64_t seven = 7;
    CHECK_OK(hpool_submit(ex, "square", &seven, sizeof seven, &f));
    CHECK_OK(hpool_future_result(f, HPOOL_FOREVER, NULL, NULL));
    CHECK_OK(hpool_executor_destroy(ex));

    int got = 1;
    int rc;
    while ((rc = hpool_map_next(whole, &res, &len, &idx)) == 1) {
        int64_t v;
        memcpy(&v, res, sizeof v);
        CHECK(v == (int64_t)(idx * idx));
        got++;
    }
    CHECK_RC(rc, 0);
    CHECK(got == N);
    CHECK_RC(hpool_map_next(whole, &res, &len, &idx), 0); /* stays at its end */
    CHECK_OK(hpool_map_close(whole));

    int held_got = 0;
    while ((rc = hpool_map_next(held, &res, &len, &idx)) == 1)
        held_got++;
    CHECK_RC(rc, HPOOL_ESHUTDOWN);
    CHECK(held_got >= 1 && held_got <= B);
    CHECK(strstr(hpool_last_error(), "shut down") != NULL);
    CHECK_OK(hpool_map_close(held));

    /* Futures outlive their executor. */
    CHECK(hpool_future_done(f));
    CHECK_OK(hpool_future_result(f, 0, &res, &len));
    int64_t v;
    memcpy(&v, res, sizeof v);
    CHECK(v == 49);
    CHECK(len == sizeof v);
    CHECK_OK(hpool_future_release(f));
    CHECK_RC(hpool_future_result(f, 0, NULL, NULL), HPOOL_ERELEASED);
}

/* ---------------------------------------------------------------- 2. callbacks */
typedef struct {
    hpool_executor *ex;
    hpool_map_iter *map;   /* its one chunk runs while the probe does */
    hpool_future *late;    /* submitted by the probe: pending while the probe runs */
    pthread_t main_thread;
    bool on_main;          /* the quick task was done before its callback was added */
    int rc_submit, rc_result, rc_result0, rc_error, rc_wait, rc_wait0, rc_ac, rc_map_next,
        rc_map_close, rc_shutdown, rc_create;
    char msg_result[256], msg_map_close[256];
    double longest_s; /* the slowest of the calls above, for the log */
    int ran;
    _Atomic int finished; /* result() returns before the future's callbacks have run */
} cb_probe;

static void probe_blocking_calls(hpool_future *done, void *user)
{
    (void)done;
    cb_probe *p = user;
    p->ran = 1;
    p->on_main = pthread_equal(pthread_self(), p->main_thread);
    if (p->on_main) {
        atomic_store(&p->finished, 1);
        return;
    }
    int64_t two = 2;
    p->rc_submit = hpool_submit(p->ex, "square", &two, sizeof two, &p->late);
    double t0 = hpool_test_now();
    p->rc_result = hpool_future_result(p->late, HPOOL_FOREVER, NULL, NULL);
    snprintf(p->msg_result, sizeof p->msg_result, "%s", hpool_last_error());
    p->rc_result0 = hpool_future_result(p->late, 0, NULL, NULL);
    hpool_error_info info;
    p->rc_error = hpool_future_error(p->late, 60.0, &info);
    p->rc_wait = hpool_wait(&p->late, 1, HPOOL_FOREVER, HPOOL_ALL_COMPLETED, NULL, NULL);
    p->rc_wait0 = hpool_wait(&p->late, 1, 0, HPOOL_ALL_COMPLETED, NULL, NULL);
    hpool_as_completed *ac;
    if (hpool_as_completed_create(&p->late, 1, HPOOL_FOREVER, &ac) == 0) {
        hpool_future *next;
        p->rc_ac = hpool_as_completed_next(ac, &next);
        hpool_as_completed_free(ac);
    }
    p->rc_map_next = hpool_map_next(p->map, NULL, NULL, NULL);
    p->rc_map_close = hpool_map_close(p->map);
    snprintf(p->msg_map_close, sizeof p->msg_map_close, "%s", hpool_last_error());
    hpool_executor *other = NULL;
    p->rc_create = hpool_executor_create(&other, NULL);
    p->rc_shutdown = hpool_shutdown(p->ex, true, false);
    p->longest_s = hpool_test_now() - t0;
    atomic_store(&p->finished, 1);
}

/* Returns false when the quick task finished before its callback was attached (the probe
 * then ran on this thread and proves nothing): the caller tries a longer one. */
static bool blocking_calls_in_callbacks(int32_t quick_ms)
{
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    cb_probe p = {.ex = ex, .main_thread = pthread_self()};
    /* The probe runs when the quick task completes; the map's chunk, dispatched with it
     * (window 2 even on one worker), is still running then. */
    hpool_future *quick;
    CHECK_OK(hpool_submit(ex, "sleep_ms", &quick_ms, sizeof quick_ms, &quick));
    int32_t long_ms = 400 + quick_ms;
    hpool_map_options mo = {.timeout_s = 60, .timeout_set = true};
    CHECK_OK(hpool_map(ex, "sleep_ms", &long_ms, sizeof long_ms, 1, &mo, &p.map));
    CHECK_OK(hpool_future_add_done_callback(quick, probe_blocking_calls, &p));
    CHECK_OK(hpool_future_result(quick, HPOOL_FOREVER, NULL, NULL));
    while (!atomic_load(&p.finished))
        hpool_test_sleep_ms(1);
    CHECK_OK(hpool_future_release(quick));
    CHECK(p.ran == 1);
    if (p.on_main) {
        CHECK_OK(hpool_map_close(p.map));
        CHECK_OK(hpool_executor_destroy(ex));
        return false;
    }
    CHECK_OK(p.rc_submit); /* callbacks may submit */
    CHECK_RC(p.rc_result, HPOOL_ESTATE);
    CHECK(strstr(p.msg_result, "hpool_future_result") != NULL);
    CHECK(strstr(p.msg_result, "callback") != NULL);
    CHECK_RC(p.rc_result0, HPOOL_ETIMEDOUT); /* 0: do not wait, on any thread */
    CHECK_RC(p.rc_error, HPOOL_ESTATE);
    CHECK_RC(p.rc_wait, HPOOL_ESTATE);
    CHECK_RC(p.rc_wait0, HPOOL_ETIMEDOUT);
    CHECK_RC(p.rc_ac, HPOOL_ESTATE);
    CHECK_RC(p.rc_map_next, HPOOL_ESTATE);
    CHECK_RC(p.rc_map_close, HPOOL_ESTATE); /* its chunk is in flight */
    CHECK(strstr(p.msg_map_close, "hpool_map_close") != NULL);
    CHECK_RC(p.rc_create, HPOOL_EBUSY);     /* this one is not shut down yet */
    CHECK_RC(p.rc_shutdown, HPOOL_ESTATE);  /* ... but is now, and drains on its own */
    printf("callbacks: every blocking call answered; all of them took %.3f ms\n",
           p.longest_s * 1e3);
    /* Shut down, not cancelled: the future submitted in the callback still runs. */
    const void *res;
    size_t len;
    CHECK_OK(hpool_future_result(p.late, HPOOL_FOREVER, &res, &len));
    int64_t v;
    memcpy(&v, res, sizeof v);
    CHECK(v == 4);
    CHECK_OK(hpool_future_release(p.late));
    /* The map is closing: a second close, from this thread, waits for its chunk. */
    CHECK_RC(hpool_map_next(p.map, NULL, NULL, NULL), HPOOL_ECLOSED);
    CHECK_OK(hpool_map_close(p.map));
    hpool_future *refused = NULL;
    CHECK_RC(hpool_submit(ex, "empty", NULL, 0, &refused), HPOOL_ESHUTDOWN);
    CHECK_OK(hpool_executor_destroy(ex));
    return true;
}

/* ---------------------------------------------------------------- 3. cancel after warm-up */
static void cancel_after_warm_up(int workers)
{
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    /* Warm-up: 1 us tasks open the adaptive window wide. */
    enum { WARM = 20000, N = 50 };
    static int64_t items[WARM];
    hpool_map_iter *m;
    hpool_map_options wo = {.chunksize = 1};
    CHECK_OK(hpool_map(ex, "empty", items, sizeof items[0], WARM, &wo, &m));
    int got = 0;
    while (hpool_map_next(m, NULL, NULL, NULL) == 1)
        got++;
    CHECK(got == WARM);
    CHECK_OK(hpool_map_close(m));
    /* Then 20 ms tasks, all submitted at once, and shut down with cancel_futures. */
    hpool_future *fs[N];
    int32_t ms = 20;
    for (int i = 0; i < N; i++)
        CHECK_OK(hpool_submit(ex, "sleep_ms", &ms, sizeof ms, &fs[i]));
    /* Let the manager hand out what it will: a future on every worker, then a moment for
     * the dispatch pass to finish (with a 64-deep window it would hand out them all). */
    hpool_test_wait_running(fs, workers);
    hpool_test_sleep_ms(5);
    int done_before = 0;
    for (int i = 0; i < N; i++)
        done_before += hpool_future_done(fs[i]);
    CHECK_OK(hpool_shutdown(ex, true, true));
    int cancelled = 0, finished = 0;
    for (int i = 0; i < N; i++) {
        CHECK(hpool_future_done(fs[i]));
        int rc = hpool_future_result(fs[i], 0, NULL, NULL);
        if (rc == HPOOL_ECANCELLED) {
            CHECK(hpool_future_cancelled(fs[i]));
            cancelled++;
        } else {
            CHECK_OK(rc);
            finished++;
        }
        /* CPython's order: the futures that ran are the first ones submitted. */
        CHECK(rc == HPOOL_ECANCELLED || cancelled == 0);
    }
    CHECK(cancelled + finished == N);
    /* At most CPython's depth (2) per worker had been handed out, plus one for each
     * result that came back before the shutdown (its slot was refilled). */
    CHECK(finished <= 2 * workers + done_before);
    CHECK(cancelled >= N - 2 * workers - done_before);
    printf("cancel after warm-up: %d of %d cancelled, %d ran on %d workers\n", cancelled, N,
           finished, workers);
    for (int i = 0; i < N; i++)
        CHECK_OK(hpool_future_release(fs[i]));
    CHECK_OK(hpool_executor_destroy(ex));
}

/* ---------------------------------------------------------------- 4. timeout 0 */
static void zero_timeouts(void)
{
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    int32_t ms = 300;
    hpool_future *slow;
    CHECK_OK(hpool_submit(ex, "sleep_ms", &ms, sizeof ms, &slow));
    CHECK_RC(hpool_future_result(slow, 0, NULL, NULL), HPOOL_ETIMEDOUT);
    hpool_error_info info;
    CHECK_RC(hpool_future_error(slow, 0, &info), HPOOL_ETIMEDOUT);
    bool done = true;
    size_t n_done = 9;
    CHECK_RC(hpool_wait(&slow, 1, 0, HPOOL_FIRST_COMPLETED, &done, &n_done), HPOOL_ETIMEDOUT);
    CHECK(!done && n_done == 0);
    hpool_as_completed *ac;
    CHECK_OK(hpool_as_completed_create(&slow, 1, 0, &ac));
    hpool_future *next;
    CHECK_RC(hpool_as_completed_next(ac, &next), HPOOL_ETIMEDOUT);
    hpool_as_completed_free(ac);
    /* A map with timeout 0 does not wait either; the work goes on. */
    hpool_map_options zero = {.timeout_s = 0, .timeout_set = true};
    hpool_map_iter *m;
    CHECK_OK(hpool_map(ex, "sleep_ms", &ms, sizeof ms, 1, &zero, &m));
    CHECK_RC(hpool_map_next(m, NULL, NULL, NULL), HPOOL_ETIMEDOUT);
    CHECK_OK(hpool_map_close(m));
    /* No timeout given: a map waits as long as it takes (CPython's timeout=None), as does
     * HPOOL_FOREVER. */
    hpool_map_iter *m2;
    CHECK_OK(hpool_map(ex, "sleep_ms", &ms, sizeof ms, 1, NULL, &m2));
    const void *res;
    size_t len;
    CHECK_RC(hpool_map_next(m2, &res, &len, NULL), 1);
    CHECK_OK(hpool_map_close(m2));
    CHECK_OK(hpool_future_result(slow, HPOOL_FOREVER, &res, &len));
    CHECK(len == sizeof ms);
    /* Done: 0 answers at once with the result. */
    CHECK_OK(hpool_future_result(slow, 0, NULL, NULL));
    CHECK_OK(hpool_wait(&slow, 1, 0, HPOOL_ALL_COMPLETED, NULL, NULL));
    CHECK_OK(hpool_future_release(slow));
    CHECK_OK(hpool_executor_destroy(ex));
}

static void run_manager(int world)
{
    read_after_destroy();
    bool probed = false;
    for (int32_t ms = 20; !probed && ms <= 2000; ms *= 10)
        probed = blocking_calls_in_callbacks(ms);
    CHECK(probed);
    zero_timeouts();
    cancel_after_warm_up(world - 1);
}
