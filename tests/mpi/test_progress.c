/* Who progresses on rank 0 (sync.h, leader/follower): a thread blocked in a wait runs the
 * manager's passes itself, a submit or a map consumer helps when nobody does, and the
 * manager thread takes over when nobody waits. Checked by outcomes:
 *   - work submitted by a program that never blocks (it polls hpool_future_done and
 *     sleeps) still completes: the manager thread took the token back after the grace
 *     period;
 *   - done callbacks of futures that a waiting thread completed run on a thread that is
 *     not the waiting one (handed to the manager thread), each exactly once;
 *   - several threads blocked at once (one leads, the others follow) all get their own
 *     results, for futures and maps;
 *   - an executor's statistics count the progress CPU of the leading threads: a map
 *     consumed by the main thread alone reports manager_cpu_s > 0, and no more than the
 *     process used. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/resource.h>

/* The rank-0 job calls MPI only through hpool, so it may ask for SERIALIZED: the
 * progress token must then keep every MPI call on one thread at a time (any overlap is
 * undefined behaviour that the sanitizer stages and MPI's own checks would see). */
#include <mpi.h>

#include "hpool.h"
static const hpool_init_options *serialized_options(void);
#define HPOOL_TEST_INIT_OPTIONS serialized_options()
#include "hpool_test.h"

static const hpool_init_options *serialized_options(void)
{
    static hpool_init_options o = {.mpi_thread_level = MPI_THREAD_SERIALIZED};
    return &o;
}

static void register_tasks(void)
{
    hpool_register_task("echo", hpool_test_echo);
    hpool_register_task("nap", hpool_test_nap);
}

/* The echoed value, or -1 for a result of the wrong size. No CHECK: the waiter threads
 * call it too, and the check counter belongs to the main thread. */
static int64_t value_of(const void *res, size_t len)
{
    int64_t v = -1;
    if (len == sizeof v)
        memcpy(&v, res, sizeof v);
    return v;
}

/* Nobody blocks: the manager thread must progress on its own. */
static void progress_without_waiting(hpool_executor *ex)
{
    enum { N = 200 };
    hpool_future *fs[N];
    /* A wait first, so that a leader just left and the grace period is running. */
    int64_t one = 1;
    CHECK_OK(hpool_submit(ex, "echo", &one, sizeof one, &fs[0]));
    CHECK_OK(hpool_future_result(fs[0], 30.0, NULL, NULL));
    CHECK_OK(hpool_future_release(fs[0]));
    for (int64_t i = 0; i < N; i++)
        CHECK_OK(hpool_submit(ex, "echo", &i, sizeof i, &fs[i]));
    double end = hpool_test_now() + 30.0;
    for (;;) {
        int done = 0;
        for (int i = 0; i < N; i++)
            done += hpool_future_done(fs[i]);
        if (done == N)
            break;
        CHECK(hpool_test_now() < end);
        hpool_test_sleep_ms(1);
    }
    for (int64_t i = 0; i < N; i++) {
        const void *res;
        size_t len;
        CHECK_OK(hpool_future_result(fs[i], 0, &res, &len)); /* done: never blocks */
        CHECK(value_of(res, len) == i);
        CHECK_OK(hpool_future_release(fs[i]));
    }
}

typedef struct {
    atomic_int calls;
    atomic_bool on_waiter;
    pthread_t waiter;
} cb_count;

static void count_cb(hpool_future *f, void *user)
{
    (void)f;
    cb_count *c = user;
    atomic_fetch_add(&c->calls, 1);
    if (pthread_equal(pthread_self(), c->waiter))
        atomic_store(&c->on_waiter, true);
}

/* The waiting thread leads and completes the futures; their callbacks run elsewhere. */
static void callbacks_leave_the_leader(hpool_executor *ex)
{
    enum { N = 300 };
    hpool_future *fs[N];
    cb_count c = {.waiter = pthread_self()};
    for (int64_t i = 0; i < N; i++) {
        CHECK_OK(hpool_submit(ex, "echo", &i, sizeof i, &fs[i]));
        CHECK_OK(hpool_future_add_done_callback(fs[i], count_cb, &c));
    }
    for (int64_t i = 0; i < N; i++) {
        const void *res;
        size_t len;
        CHECK_OK(hpool_future_result(fs[i], 30.0, &res, &len));
        CHECK(value_of(res, len) == i);
    }
    double end = hpool_test_now() + 30.0;
    while (atomic_load(&c.calls) < N) {
        CHECK(hpool_test_now() < end);
        hpool_test_sleep_ms(1);
    }
    hpool_test_sleep_ms(20);
    CHECK(atomic_load(&c.calls) == N); /* each exactly once */
    /* A callback added after its future completed runs at once in the caller (as
     * documented), so the batch above may have some on this thread. One added while its
     * future surely runs (a 20 ms task) must run elsewhere although this thread is the
     * one that waits for it and receives its result. */
    hpool_future *last;
    int64_t slow = 20000; /* 20 ms: still running when the callback is added */
    cb_count d = {.waiter = pthread_self()};
    CHECK_OK(hpool_submit(ex, "nap", &slow, sizeof slow, &last));
    CHECK_OK(hpool_future_add_done_callback(last, count_cb, &d));
    CHECK_OK(hpool_future_result(last, 30.0, NULL, NULL));
    end = hpool_test_now() + 30.0;
    while (atomic_load(&d.calls) < 1) {
        CHECK(hpool_test_now() < end);
        hpool_test_sleep_ms(1);
    }
    CHECK(!atomic_load(&d.on_waiter));
    CHECK_OK(hpool_future_release(last));
    hpool_test_release_all(fs, N);
}

enum { THREADS = 3, PER = 400 };

typedef struct {
    hpool_executor *ex;
    int index;
    int wrong;
} waiter;

/* Each thread alternately waits on its own futures and consumes its own map. */
static void *waiter_main(void *arg)
{
    waiter *w = arg;
    hpool_future *fs[PER];
    for (int64_t i = 0; i < PER; i++) {
        int64_t v = w->index * 100000 + i;
        w->wrong += hpool_submit(w->ex, "echo", &v, sizeof v, &fs[i]) != 0;
    }
    for (int64_t i = 0; i < PER; i++) {
        const void *res;
        size_t len;
        if (hpool_future_result(fs[i], 60.0, &res, &len) != 0 ||
            value_of(res, len) != w->index * 100000 + i)
            w->wrong++;
        hpool_future_release(fs[i]);
    }
    int64_t items[PER];
    for (int i = 0; i < PER; i++)
        items[i] = w->index * 100000 + i;
    hpool_map_iter *m;
    hpool_map_options mo = {.chunksize = 3};
    w->wrong += hpool_map(w->ex, "echo", items, sizeof *items, PER, &mo, &m) != 0;
    const void *res;
    size_t len;
    uint64_t idx;
    int got = 0;
    while (hpool_map_next(m, &res, &len, &idx) == 1) {
        w->wrong += value_of(res, len) != items[idx];
        got++;
    }
    w->wrong += got != PER;
    hpool_map_close(m);
    return NULL;
}

static void several_waiters(hpool_executor *ex)
{
    pthread_t t[THREADS];
    waiter w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (waiter){.ex = ex, .index = i + 1};
        CHECK(pthread_create(&t[i], NULL, waiter_main, &w[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        CHECK(pthread_join(t[i], NULL) == 0);
        CHECK(w[i].wrong == 0);
    }
}

static double process_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* The main thread consumes a map alone: its leading is the manager's cost. */
static void leader_cpu_is_counted(void)
{
    enum { N = 20000 };
    static int64_t items[N];
    for (int i = 0; i < N; i++)
        items[i] = i;
    double cpu0 = process_cpu();
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    hpool_map_iter *m;
    hpool_map_options mo = {.chunksize = 1};
    CHECK_OK(hpool_map(ex, "echo", items, sizeof *items, N, &mo, &m));
    const void *res;
    size_t len;
    uint64_t idx;
    int64_t sum = 0;
    while (hpool_map_next(m, &res, &len, &idx) == 1)
        sum += value_of(res, len);
    CHECK(sum == (int64_t)N * (N - 1) / 2);
    CHECK_OK(hpool_map_close(m));
    CHECK_OK(hpool_shutdown(ex, true, false));
    double cpu = process_cpu() - cpu0;
    hpool_executor_stats st;
    CHECK_OK(hpool_executor_get_stats(ex, &st));
    CHECK(st.items == N);
    CHECK(st.manager_cpu_s > 0);
    /* Short leads are estimated (sync.c: wall time scaled by a sampled CPU ratio). */
    CHECK(st.manager_cpu_s <= 1.5 * cpu + 0.05);
    CHECK_OK(hpool_executor_destroy(ex));
}

static void run_manager(int world)
{
    (void)world;
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    progress_without_waiting(ex);
    callbacks_leave_the_leader(ex);
    several_waiters(ex);
    CHECK_OK(hpool_shutdown(ex, true, false));
    CHECK_OK(hpool_executor_destroy(ex));
    leader_cpu_is_counted();
}
