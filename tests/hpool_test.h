/* Support for multi-rank tests: a rank-aware CHECK that reports and aborts the whole job
 * (MPI_Abort), so a failed assertion never leaves other ranks hanging, and a common main
 * that initialises hpool, runs the test body on rank 0 and finalizes. */
#ifndef HPOOL_TEST_H
#define HPOOL_TEST_H

#include <dirent.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unistd.h>

#include "hpool.h"

static int hpool_test_checks;
static int hpool_test_argc; /* the command line, for tests with modes */
static char **hpool_test_argv;

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        hpool_test_checks++;                                                               \
        if (!(cond)) {                                                                     \
            int r_ = -1;                                                                   \
            MPI_Comm_rank(MPI_COMM_WORLD, &r_);                                            \
            fprintf(stderr, "%s:%d: rank %d: CHECK failed: %s (last error: %s)\n",         \
                    __FILE__, __LINE__, r_, #cond, hpool_last_error());                    \
            MPI_Abort(MPI_COMM_WORLD, 1);                                                  \
        }                                                                                  \
    } while (0)

#define CHECK_RC(expr, want)                                                               \
    do {                                                                                   \
        int got_ = (expr);                                                                 \
        if (got_ != (want)) {                                                              \
            int r_ = -1;                                                                   \
            MPI_Comm_rank(MPI_COMM_WORLD, &r_);                                            \
            fprintf(stderr, "%s:%d: rank %d: %s returned %d (%s), want %d (%s): %s\n",     \
                    __FILE__, __LINE__, r_, #expr, got_, hpool_errname(got_), (int)(want), \
                    hpool_errname(want), hpool_last_error());                              \
            MPI_Abort(MPI_COMM_WORLD, 1);                                                  \
        }                                                                                  \
        hpool_test_checks++;                                                               \
    } while (0)

#define CHECK_OK(expr) CHECK_RC(expr, 0)

/* Tasks several tests register: echo returns its argument; nap sleeps the int64_t
 * microseconds it is given, then echoes them. */
static inline int hpool_test_echo(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    return hpool_task_return(ctx, arg, len);
}

static inline int hpool_test_nap(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    int64_t us;
    if (len != sizeof us)
        return hpool_task_fail(ctx, "bad length %zu", len);
    memcpy(&us, arg, sizeof us);
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000L};
    nanosleep(&ts, NULL);
    return hpool_task_return(ctx, &us, sizeof us);
}

/* Remove a flat directory of files that a test made (e.g. an executor's record_dir). */
static inline void hpool_test_remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        CHECK(unlink(path) == 0);
    }
    closedir(d);
    CHECK(rmdir(dir) == 0);
}

/* Timing and clean-up helpers shared by the future and shutdown tests. */
/* ---------------------------------------------------------------- helpers */
static inline double hpool_test_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void hpool_test_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Poll until fs[0..n) are all running (carved into call items), at most 10 s. */
static inline void hpool_test_wait_running(hpool_future *const *fs, int n)
{
    double end = hpool_test_now() + 10.0;
    for (;;) {
        int running = 0;
        for (int i = 0; i < n; i++)
            running += hpool_future_running(fs[i]);
        if (running == n)
            return;
        CHECK(hpool_test_now() < end);
        hpool_test_sleep_ms(1);
    }
}

static inline void hpool_test_release_all(hpool_future **fs, int n)
{
    for (int i = 0; i < n; i++)
        CHECK_OK(hpool_future_release(fs[i]));
}

/* The rank of the first worker an executor lost (by time), or -1; *at (optional) when,
 * seconds from the executor's creation. After shutdown completes. */
static inline int hpool_test_first_lost(hpool_executor *ex, double *at)
{
    size_t n = 0;
    CHECK_OK(hpool_executor_worker_stats(ex, NULL, 0, &n));
    hpool_worker_stats *ws = calloc(n ? n : 1, sizeof *ws);
    CHECK(ws != NULL);
    CHECK_OK(hpool_executor_worker_stats(ex, ws, n, &n));
    int rank = -1;
    double first = 0;
    for (size_t i = 0; i < n; i++)
        if (ws[i].lost && (rank < 0 || ws[i].lost_at < first)) {
            rank = ws[i].rank;
            first = ws[i].lost_at;
        }
    free(ws);
    if (at)
        *at = first;
    return rank;
}

/* Each test file defines register_tasks() and run_manager(); this main does the rest.
 * A test that needs init options defines HPOOL_TEST_INIT_OPTIONS before the include. */
#ifndef HPOOL_TEST_INIT_OPTIONS
#define HPOOL_TEST_INIT_OPTIONS NULL
#endif
static void register_tasks(void);
static void run_manager(int world);

int main(int argc, char **argv)
{
    register_tasks();
    int role = hpool_init(&argc, &argv, HPOOL_TEST_INIT_OPTIONS);
    if (role < 0) {
        fprintf(stderr, "hpool_init failed: %s: %s\n", hpool_errname(role), hpool_last_error());
        return 1;
    }
    hpool_test_argc = argc;
    hpool_test_argv = argv;
    int failed = 0;
    if (role == HPOOL_MANAGER) {
        run_manager(hpool_world_size());
        /* A manager that returned before checking anything tested nothing. */
        failed = hpool_test_checks == 0;
        if (failed)
            fprintf(stderr, "%s: FAILED: the test made no check with %d ranks\n", argv[0],
                    hpool_world_size());
        else
            printf("%s: %d checks passed with %d ranks\n", argv[0], hpool_test_checks,
                   hpool_world_size());
    }
    return hpool_finalize() == 0 && !failed ? 0 : 1;
}

#endif
