/* Manager CPU per dispatched chunk, and start-up, as the number of workers grows.
 *
 *   mpirun -n 129 --oversubscribe --mca mpi_yield_when_idle 1 build/bench/manager_cost \
 *       [ITEMS_PER_WORKER] [WORKERS ...]
 *
 * One job, one executor per worker count (default 2 16 64 128, capped at the ranks given;
 * ranks outside an executor sleep in their idle backoff), so the figure at 2 workers is
 * the baseline measured in the same run. Per executor:
 *   - first_result_ms: a future submitted right after hpool_executor_create until its
 *     result: the start-up a user sees (START to every worker, acks, clock sync, one call);
 *   - startup_ms / final_sync_ms: the executor's own account (hpool_executor_stats);
 *   - a map of ITEMS_PER_WORKER empty tasks per worker at chunksize 1: the manager thread's
 *     CPU time (manager_cpu_s minus the clock syncs' sync_cpu_s) per chunk, and chunks/s.
 * The last column is the CPU per chunk against the first figure of this run. A warm-up
 * executor (2 workers) runs first and is reported on a comment line. */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "hpool.h"

static int noop(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    return hpool_task_return(ctx, NULL, 0);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int measure(int workers, long per_worker, double *base_us, bool quiet)
{
    hpool_executor_options eo = {.max_workers = workers};
    hpool_executor *ex;
    double t_create = now_s();
    if (hpool_executor_create(&ex, &eo) != 0) {
        fprintf(stderr, "manager_cost: create(%d workers): %s\n", workers, hpool_last_error());
        return 1;
    }
    hpool_future *f;
    double t_submit = now_s();
    int rc = hpool_submit(ex, "noop", NULL, 0, &f);
    if (rc == 0)
        rc = hpool_future_result(f, HPOOL_FOREVER, NULL, NULL);
    double first = now_s() - t_submit;
    if (rc == 0)
        hpool_future_release(f);
    size_t n = (size_t)per_worker * (size_t)workers;
    char *items = calloc(n ? n : 1, 1);
    hpool_map_options mo = {.chunksize = 1};
    hpool_map_iter *m = NULL;
    double t_map = now_s();
    if (rc == 0 && items)
        rc = hpool_map(ex, "noop", items, 1, n, &mo, &m);
    int k;
    while (rc == 0 && (k = hpool_map_next(m, NULL, NULL, NULL)) == 1) {
    }
    if (m)
        rc = rc ? rc : hpool_map_close(m);
    double map_s = now_s() - t_map;
    hpool_executor_stats st;
    memset(&st, 0, sizeof st);
    if (hpool_shutdown(ex, true, false) == 0)
        hpool_executor_get_stats(ex, &st);
    hpool_executor_destroy(ex);
    free(items);
    if (rc != 0) {
        fprintf(stderr, "manager_cost: %d workers: %s\n", workers, hpool_last_error());
        return 1;
    }
    double cpu = st.manager_cpu_s - st.sync_cpu_s;
    double per_chunk_us = st.chunks ? cpu / (double)st.chunks * 1e6 : 0;
    if (quiet) {
        printf("# warm-up (the job's first executor, %d workers): first result %.2f ms, "
               "start-up %.2f ms, %.2f us CPU a chunk\n",
               workers, first * 1e3, st.startup_s * 1e3, per_chunk_us);
        return 0;
    }
    if (*base_us == 0)
        *base_us = per_chunk_us;
    printf("%7d %13.2f %10.2f %13.2f %8llu %11.0f %12.2f %10.2f %8.2f\n", workers, first * 1e3,
           st.startup_s * 1e3, st.final_sync_s * 1e3, (unsigned long long)st.chunks,
           map_s > 0 ? (double)n / map_s : 0, per_chunk_us, st.sync_cpu_s * 1e3,
           *base_us > 0 ? per_chunk_us / *base_us : 0);
    (void)t_create;
    return 0;
}

/* Open file descriptors of this process (sockets included), for the limits at scale. */
static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return d ? n - 1 : -1; /* minus the one opendir holds */
}

int main(int argc, char **argv)
{
    hpool_register_task("noop", noop);
    int role = hpool_init(&argc, &argv, NULL);
    if (role < 0) {
        fprintf(stderr, "manager_cost: %s\n", hpool_last_error());
        return 1;
    }
    int rc = 0;
    if (role == HPOOL_MANAGER) {
        int max = hpool_world_size() - 1;
        long per_worker = argc > 1 ? atol(argv[1]) : 200;
        int defaults[] = {2, 16, 64, 128};
        int nw = argc > 2 ? argc - 2 : 4;
        printf("# manager_cost: %ld empty tasks per worker, chunksize 1, %d worker ranks\n",
               per_worker, max);
        printf("# workers first_res_ms startup_ms final_sync_ms   chunks    chunks/s "
               "cpu_us/chunk sync_cpu_ms vs_first\n");
        double base = 0;
        /* The job's first executor also pays for 1+W processes settling after start-up
         * on shared cores: measured, but kept out of the comparison. */
        rc = measure(2 < max ? 2 : max, per_worker, &base, true);
        for (int i = 0; i < nw && rc == 0; i++) {
            int w = argc > 2 ? atoi(argv[2 + i]) : defaults[i];
            if (w > max || w < 1)
                continue;
            rc = measure(w, per_worker, &base, false);
        }
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("# rank 0 after the runs: %d open file descriptors, max RSS %.1f MiB\n",
               open_fds(), (double)ru.ru_maxrss / 1024.0);
    }
    if (hpool_finalize() != 0 && rc == 0)
        rc = 1;
    return rc;
}
