/* Faults: a task that crashes (SIGSEGV, SIGFPE, SIGABRT) makes its worker leave the pool;
 * its work is re-queued to the survivors (retry limit) and the run finishes there; with no
 * retry, or no worker left, futures fail with HPOOL_EBROKEN naming task, signal, item and
 * rank. With `--hang`, a task that never returns: its future fails with HPOOL_ETIMEDOUT,
 * the others finish, and hpool_finalize refuses to wait for the stuck rank (the program
 * then ends the job with MPI_Abort; tests/e2e/faults.sh checks that path). */
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "hpool.h"

/* A stuck initializer is noticed after worker_timeout_s; short, for the --hang-init mode. */
static const hpool_init_options test_init = {.worker_timeout_s = 2.0};
#define HPOOL_TEST_INIT_OPTIONS (&test_init)
#include "hpool_test.h"

typedef struct {
    int64_t value;
    int32_t crash_rank; /* crash when running on this rank (0: never, ANY_RANK: anywhere) */
    int32_t signal;     /* SIGSEGV, SIGFPE, SIGABRT, or -1: sleep forever */
} job;

enum { ANY_RANK = -2 };
static volatile int zero; /* keeps the compiler from folding the division */

/* The crashes are deliberate: UBSan must let them reach the worker's crash guard. */
__attribute__((no_sanitize("undefined"))) static int faulty(hpool_task_ctx *ctx, const void *arg,
                                                         size_t len)
{
    job j;
    if (len != sizeof j)
        return hpool_task_fail(ctx, "bad argument");
    memcpy(&j, arg, sizeof j);
    if (j.crash_rank == hpool_task_rank(ctx) || j.crash_rank == ANY_RANK) {
        if (j.signal == SIGSEGV)
            *(volatile int *)(uintptr_t)zero = 1; /* a real invalid write */
        else if (j.signal == SIGFPE)
            j.value = j.value / zero;
        else if (j.signal == SIGABRT)
            abort();
        else
            for (;;)
                pause(); /* never returns */
    }
    int64_t out[2] = {j.value * 3, hpool_task_rank(ctx)};
    return hpool_task_return(ctx, out, sizeof out);
}

/* Initializer that never returns on the rank named by its argument. */
static int stuck_init(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    int32_t rank;
    if (len != sizeof rank)
        return hpool_task_fail(ctx, "bad initargs");
    memcpy(&rank, arg, sizeof rank);
    while (rank == hpool_task_rank(ctx))
        pause();
    return 0;
}

static void register_tasks(void)
{
    hpool_register_task("faulty", faulty);
    hpool_register_task("stuck_init", stuck_init);
}

/* Every task crashes on `bad_rank`; with retries the others finish all of them. */
static void crash_is_survived(int bad_rank, int sig, int world)
{
    enum { N = 30 };
    hpool_executor_options o = {.retry_limit = 1};
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, &o));
    hpool_future *fs[N];
    for (int i = 0; i < N; i++) {
        job j = {i, bad_rank, sig};
        CHECK_OK(hpool_submit(ex, "faulty", &j, sizeof j, &fs[i]));
    }
    for (int i = 0; i < N; i++) {
        const void *res;
        size_t len;
        CHECK_OK(hpool_future_result(fs[i], 60.0, &res, &len));
        int64_t out[2];
        memcpy(out, res, sizeof out);
        CHECK(out[0] == 3 * i);
        CHECK(out[1] != bad_rank && out[1] >= 1 && out[1] < world);
        hpool_future_release(fs[i]);
    }
    CHECK_OK(hpool_shutdown(ex, true, false));
    hpool_executor_stats st;
    CHECK_OK(hpool_executor_get_stats(ex, &st));
    CHECK(st.lost_workers == 1);
    double lost_at = 0;
    CHECK(hpool_test_first_lost(ex, &lost_at) == bad_rank);
    CHECK(lost_at > 0);
    CHECK_OK(hpool_executor_destroy(ex));
}

/* No retry: the futures of the crashing call item fail with the worker's report. */
static void crash_without_retry(int bad_rank, int sig, const char *signame)
{
    hpool_executor_options o = {.retry_limit = -1, .prefetch = 1};
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, &o));
    enum { N = 12 };
    hpool_future *fs[N];
    for (int i = 0; i < N; i++) {
        job j = {i, bad_rank, sig};
        CHECK_OK(hpool_submit(ex, "faulty", &j, sizeof j, &fs[i]));
    }
    int broken = 0;
    for (int i = 0; i < N; i++) {
        hpool_error_info info;
        CHECK_OK(hpool_future_error(fs[i], 60.0, &info));
        if (info.code == HPOOL_EBROKEN) {
            broken++;
            CHECK(strstr(info.message, "crashed with") != NULL);
            CHECK(strstr(info.message, signame) != NULL);
            CHECK(strstr(info.message, "'faulty'") != NULL);
        } else {
            CHECK(info.code == 0);
        }
        hpool_future_release(fs[i]);
    }
    CHECK(broken == 1); /* prefetch 1: only the crashing item was on that worker */
    CHECK_OK(hpool_executor_destroy(ex));
}

/* Every remaining worker crashes: nothing is left, every pending future fails. */
static void last_worker_lost(void)
{
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    enum { N = 10 };
    hpool_future *fs[N];
    for (int i = 0; i < N; i++) {
        job j = {i, ANY_RANK, SIGSEGV};
        CHECK_OK(hpool_submit(ex, "faulty", &j, sizeof j, &fs[i]));
    }
    for (int i = 0; i < N; i++) {
        const void *res;
        CHECK_RC(hpool_future_result(fs[i], 60.0, &res, NULL), HPOOL_EBROKEN);
        hpool_future_release(fs[i]);
    }
    hpool_future *f;
    job j = {1, 0, 0};
    CHECK_RC(hpool_submit(ex, "faulty", &j, sizeof j, &f), HPOOL_EBROKEN);
    CHECK_OK(hpool_executor_destroy(ex));
}

static void run_crashes(int world)
{
    if (world >= 3) {
        crash_is_survived(1, SIGSEGV, world);
        if (world >= 4)
            crash_without_retry(2, SIGFPE, "SIGFPE");
        if (world >= 5)
            crash_without_retry(3, SIGABRT, "SIGABRT");
    }
    last_worker_lost(); /* the survivors go too */
}

/* --hang: rank world-1 never returns from its task. */
static int run_hang(int world)
{
    hpool_executor_options o = {.task_timeout_s = 0.5, .prefetch = 1};
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, &o));
    enum { N = 8 };
    hpool_future *fs[N];
    for (int i = 0; i < N; i++) {
        job j = {i, world - 1, -1}; /* the first item that lands on the last rank hangs */
        CHECK_OK(hpool_submit(ex, "faulty", &j, sizeof j, &fs[i]));
    }
    int timed_out = 0, ok = 0;
    for (int i = 0; i < N; i++) {
        hpool_error_info info;
        CHECK_OK(hpool_future_error(fs[i], 30.0, &info));
        if (info.code == HPOOL_ETIMEDOUT) {
            timed_out++;
            CHECK(strstr(info.message, "timeout") != NULL);
        } else if (info.code == 0) {
            ok++;
        } else {
            CHECK(world == 2 && info.code == HPOOL_EBROKEN); /* no worker left */
        }
        hpool_future_release(fs[i]);
    }
    CHECK(timed_out == 1);
    CHECK(world == 2 || ok == N - 1);
    CHECK_OK(hpool_shutdown(ex, true, false)); /* does not wait for the stuck rank */
    printf("hang: 1 timed out, %d finished, shutdown returned\n", ok);
    int rc = hpool_finalize();
    CHECK(rc == HPOOL_EBROKEN);
    CHECK(strstr(hpool_last_error(), "stuck") != NULL);
    printf("hang: finalize refused: %s\n", hpool_last_error());
    fflush(stdout);
    MPI_Abort(MPI_COMM_WORLD, 3); /* the program's decision, not the library's */
    return 3;
}

/* --hang-init: the last rank's initializer never returns. The manager gives up on it after
 * worker_timeout_s; the other workers run everything; finalize refuses to wait. */
static int run_hang_init(int world)
{
    int32_t stuck = world - 1;
    hpool_executor_options o = {.initializer = "stuck_init", .initargs = &stuck,
                                .initargs_len = sizeof stuck};
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, &o));
    enum { N = 6 };
    hpool_future *fs[N];
    for (int i = 0; i < N; i++) {
        job j = {i, 0, 0};
        CHECK_OK(hpool_submit(ex, "faulty", &j, sizeof j, &fs[i]));
    }
    int ok = 0;
    for (int i = 0; i < N; i++) {
        const void *res;
        size_t len;
        int rc = hpool_future_result(fs[i], 30.0, &res, &len);
        if (rc == 0) {
            int64_t out[2];
            memcpy(out, res, sizeof out);
            CHECK(out[1] != stuck);
            ok++;
        } else {
            CHECK(world == 2 && rc == HPOOL_EBROKEN); /* no worker left */
        }
        hpool_future_release(fs[i]);
    }
    CHECK(world == 2 || ok == N);
    CHECK_OK(hpool_shutdown(ex, true, false));
    hpool_executor_stats st;
    CHECK_OK(hpool_executor_get_stats(ex, &st));
    CHECK(st.lost_workers == 1 && hpool_test_first_lost(ex, NULL) == stuck);
    printf("hang-init: %d finished without rank %d, shutdown returned\n", ok, stuck);
    int rc = hpool_finalize();
    CHECK(rc == HPOOL_EBROKEN);
    CHECK(strstr(hpool_last_error(), "initializer does not return") != NULL);
    printf("hang-init: finalize refused: %s\n", hpool_last_error());
    fflush(stdout);
    MPI_Abort(MPI_COMM_WORLD, 3);
    return 3;
}

static void run_manager(int world)
{
    if (hpool_test_argc > 1 && strcmp(hpool_test_argv[1], "--hang") == 0)
        exit(run_hang(world));
    if (hpool_test_argc > 1 && strcmp(hpool_test_argv[1], "--hang-init") == 0)
        exit(run_hang_init(world));
    run_crashes(world);
}
