/* dispatch_rate: how many empty tasks per second hpool moves, against Python's
 * ProcessPoolExecutor on the same workload and the same number of workers, measured in
 * the same run (issue 7, target 1).
 *
 *   mpirun -n 2 build/bench/dispatch_rate [N] [PYTHON_N] [REPS]
 *
 * N (default 10^6) empty items through hpool_map at chunksize 1 and through hpool_submit
 * (then every result, in order); PYTHON_N (default 2*10^5, 0 = skip) empty items through
 * Python's executor.map(chunksize=1) on world-1 worker processes. Best of REPS (3).
 * Prints a table and the ratios. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "history.h" /* hpool_bench_remove_tree */
#include "hpool.h"

#ifndef HPOOL_SOURCE_DIR
#define HPOOL_SOURCE_DIR "."
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int empty_task(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    (void)ctx;
    (void)arg;
    (void)len;
    return 0;
}

static double run_map(uint64_t n, size_t chunksize, const uint64_t *items)
{
    hpool_executor *ex;
    if (hpool_executor_create(&ex, NULL) != 0)
        return -1;
    hpool_map_options mo = {.chunksize = chunksize};
    hpool_map_iter *m;
    double t0 = now_s();
    if (hpool_map(ex, "empty", items, sizeof *items, n, &mo, &m) != 0)
        return -1;
    const void *res;
    size_t len;
    uint64_t idx, got = 0;
    while (hpool_map_next(m, &res, &len, &idx) == 1)
        got++;
    double dt = now_s() - t0;
    hpool_map_close(m);
    hpool_executor_destroy(ex);
    return got == n ? dt : -1;
}

static double run_submit(uint64_t n)
{
    hpool_executor *ex;
    if (hpool_executor_create(&ex, NULL) != 0)
        return -1;
    hpool_future **fs = malloc(n * sizeof *fs);
    double t0 = now_s();
    for (uint64_t i = 0; i < n; i++)
        if (hpool_submit(ex, "empty", &i, sizeof i, &fs[i]) != 0)
            return -1;
    uint64_t ok = 0;
    for (uint64_t i = 0; i < n; i++) {
        ok += hpool_future_result(fs[i], HPOOL_FOREVER, NULL, NULL) == 0;
        hpool_future_release(fs[i]);
    }
    double dt = now_s() - t0;
    free(fs);
    hpool_executor_destroy(ex);
    return ok == n ? dt : -1;
}

/* Python's pool through bench/peers/ppe.py; returns its best wall time or -1. */
static double run_python(uint64_t n, int workers, int reps)
{
    char dir[] = "/tmp/hpool-rate-XXXXXX";
    if (mkdtemp(dir) == NULL)
        return -1;
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "python3 %s/bench/peers/ppe.py --out %s/runs.tsv --experiment rate "
             "--workload empty --tasks %llu --api map --chunksize 1 --workers %d "
             "--repeat %d --warmup 0 --no-serial > /dev/null",
             HPOOL_SOURCE_DIR, dir, (unsigned long long)n, workers, reps);
    double best = -1;
    if (system(cmd) == 0) {
        char path[256], line[4096];
        snprintf(path, sizeof path, "%s/runs.tsv", dir);
        FILE *f = fopen(path, "r");
        int wall_col = -1;
        while (f && fgets(line, sizeof line, f)) {
            char *save, *tok = strtok_r(line, "\t\n", &save);
            for (int col = 0; tok; col++, tok = strtok_r(NULL, "\t\n", &save)) {
                if (strcmp(tok, "wall_s") == 0)
                    wall_col = col;
                else if (col == wall_col) {
                    double w = atof(tok);
                    if (w > 0 && (best < 0 || w < best))
                        best = w;
                }
            }
        }
        if (f)
            fclose(f);
    }
    if (hpool_bench_remove_tree(dir) != 0)
        fprintf(stderr, "dispatch_rate: could not remove %s\n", dir);
    return best;
}

static double best_of(int reps, double (*fn)(uint64_t, size_t, const uint64_t *), uint64_t n,
                      size_t cs, const uint64_t *items)
{
    double best = -1;
    for (int r = 0; r < reps; r++) {
        double t = fn(n, cs, items);
        if (t > 0 && (best < 0 || t < best))
            best = t;
    }
    return best;
}

static void manager(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    uint64_t pn = argc > 2 ? strtoull(argv[2], NULL, 10) : 200000;
    int reps = argc > 3 ? atoi(argv[3]) : 3;
    int workers = hpool_world_size() - 1;
    uint64_t *items = malloc(n * sizeof *items);
    for (uint64_t i = 0; i < n; i++)
        items[i] = i;
    run_map(n / 10, 1, items); /* warm-up */
    double map1 = best_of(reps, run_map, n, 1, items);
    double map64 = best_of(reps, run_map, n, 64, items);
    double sub = -1;
    for (int r = 0; r < reps; r++) {
        double t = run_submit(n);
        if (t > 0 && (sub < 0 || t < sub))
            sub = t;
    }
    double py = pn ? run_python(pn, workers, reps) : -1;
    printf("dispatch rate, %d worker(s), empty tasks, best of %d\n", workers, reps);
    printf("%-34s %10s %12s %14s\n", "what", "items", "wall_s", "items/s");
    printf("%-34s %10llu %12.4f %14.0f\n", "hpool map, chunksize 1", (unsigned long long)n,
           map1, n / map1);
    printf("%-34s %10llu %12.4f %14.0f\n", "hpool map, chunksize 64", (unsigned long long)n,
           map64, n / map64);
    printf("%-34s %10llu %12.4f %14.0f\n", "hpool submit + result", (unsigned long long)n, sub,
           n / sub);
    if (py > 0) {
        printf("%-34s %10llu %12.4f %14.0f\n", "python ProcessPoolExecutor.map cs=1",
               (unsigned long long)pn, py, pn / py);
        printf("ratio hpool map cs=1 / python map cs=1: %.1fx\n", (n / map1) / (pn / py));
    }
    free(items);
}

int main(int argc, char **argv)
{
    hpool_register_task("empty", empty_task);
    int role = hpool_init(&argc, &argv, NULL);
    if (role < 0) {
        fprintf(stderr, "dispatch_rate: %s\n", hpool_last_error());
        return 1;
    }
    if (role == HPOOL_MANAGER)
        manager(argc, argv);
    return hpool_finalize() == 0 ? 0 : 1;
}
