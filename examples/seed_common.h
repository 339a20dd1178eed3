/* What the seed's first three experiments share (seed_submit.c, seed_as_completed.c,
 * seed_map.c): the CPU-bound task, the seed's log format, and main. Each example defines
 * run(n) and calls seed_main. */
#ifndef SEED_COMMON_H
#define SEED_COMMON_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hpool.h"

enum { N_TASKS = 8, MAX_WORKERS = 2 };
#define DEFAULT_N 300000000LL

typedef struct {
    int32_t pid, rank;
    double start, finish; /* wall clock, seconds */
} cpu_sum_result;

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The seed's cpu_bound_task: count += i over range(n). count is volatile so that the
 * compiler keeps the loop (it could otherwise replace it by n(n-1)/2). */
static int cpu_sum(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    int64_t n;
    if (len != sizeof n)
        return hpool_task_fail(ctx, "cpu_sum expects an int64 n, got %zu bytes", len);
    memcpy(&n, arg, sizeof n);
    cpu_sum_result r = {(int32_t)getpid(), hpool_task_rank(ctx), wall_now(), 0};
    volatile int64_t count = 0;
    for (int64_t i = 0; i < n; i++)
        count += i;
    r.finish = wall_now();
    return hpool_task_return(ctx, &r, sizeof r);
}

/* "HH:MM:SS: message", the seed's logging format, stamped with time t. */
static void log_at(double t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_at(double t, const char *fmt, ...)
{
    time_t secs = (time_t)t;
    struct tm tm;
    localtime_r(&secs, &tm);
    char stamp[16];
    strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
    printf("%s: ", stamp);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static void log_result(const void *res, size_t len)
{
    cpu_sum_result r;
    if (len != sizeof r)
        return;
    memcpy(&r, res, sizeof r);
    log_at(r.finish, "-------- Process: %d (rank %d) --------", r.pid, r.rank);
    log_at(r.finish, "time - %.4f", r.finish - r.start);
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "%s: %s: %s\n", what, hpool_errname(rc), hpool_last_error());
    return rc;
}

/* Register the task, start hpool, let rank 0 run the experiment, finalize. */
static int seed_main(int argc, char **argv, int (*run)(int64_t n))
{
    hpool_register_task("cpu_sum", cpu_sum);
    int role = hpool_init(&argc, &argv, NULL);
    if (role < 0)
        return fail("hpool_init", role) != 0;
    int rc = 0;
    if (role == HPOOL_MANAGER)
        rc = run(argc > 1 ? atoll(argv[1]) : DEFAULT_N);
    return hpool_finalize() == 0 && rc == 0 ? 0 : 1;
}

#endif
