/* The seed's second experiment (as_completed): the same 8 CPU-bound tasks on 2 workers,
 * submitted as futures, but rank 0 takes each result as soon as its task finishes, like
 * `[future.result() for future in as_completed(futures)]`: completion order, not
 * submission order.
 *
 *   mpirun -n 3 ./seed_as_completed [n]
 *
 * n is the loop length of each task (default 300000000, about 0.2 s here). Every task
 * reports its pid, rank, start and finish; rank 0 logs them the way the seed's workers
 * log, then the total time. With 2 workers the 8 tasks run in 4 rounds. */
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

static int run(int64_t n)
{
    log_at(wall_now(), "Init parallel program");
    double start = wall_now();
    int workers = hpool_world_size() - 1;
    hpool_executor_options o = {.max_workers = workers < MAX_WORKERS ? workers : MAX_WORKERS};
    hpool_executor *ex;
    int rc = hpool_executor_create(&ex, &o);
    if (rc != 0)
        return fail("hpool_executor_create", rc);
    hpool_future *fs[N_TASKS];
    int submitted = 0;
    while (submitted < N_TASKS && rc == 0)
        if ((rc = hpool_submit(ex, "cpu_sum", &n, sizeof n, &fs[submitted])) == 0)
            submitted++;
    if (rc != 0)
        fail("hpool_submit", rc);
    hpool_as_completed *it;
    int r = hpool_as_completed_create(fs, (size_t)submitted, HPOOL_FOREVER, &it);
    if (r != 0)
        rc = fail("hpool_as_completed_create", r);
    hpool_future *f;
    while (r == 0 && (r = hpool_as_completed_next(it, &f)) == 1) { /* blocks */
        const void *res;
        size_t len;
        if ((r = hpool_future_result(f, 0, &res, &len)) == 0)
            log_result(res, len);
    }
    if (r < 0)
        rc = fail("as_completed", r);
    hpool_as_completed_free(it);
    for (int i = 0; i < submitted; i++)
        hpool_future_release(fs[i]);
    hpool_executor_destroy(ex); /* the end of the `with` block: shutdown(wait=True) */
    double end = wall_now();
    log_at(end, "Total time: %.6f", end - start);
    log_at(end, "Finish parallel program");
    return rc;
}

int main(int argc, char **argv)
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
