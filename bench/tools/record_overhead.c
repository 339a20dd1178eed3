/* record_overhead: what recording chunk timings costs a run of many tiny call items.
 *
 * In one job (mpirun -n 2 or more) it maps `empty` over N items (default 10^6) at
 * chunksize 1, once with records off (no record_dir) and once at level `chunks`,
 * alternating the order each repetition so that drift in the machine's state (page
 * cache, frequency, other jobs) hits both modes alike. It prints, per mode, the fastest
 * and median wall time of
 *   run   — hpool_map to the last result (what the recording hot path costs), and
 *   total — executor create to destroy returning (adds the clock syncs and the final
 *           pass that writes chunks.tsv and trace.json),
 * and the ratios recorded/off. Usage: record_overhead [N [REPS [DIR]]]. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hpool.h"

static int empty(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    (void)ctx;
    (void)arg;
    (void)len;
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double minimum(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++)
        m = v[i] < m ? v[i] : m;
    return m;
}

/* One run; returns 0 and the two wall times, or an hpool error code. */
static int one_run(const uint64_t *items, size_t n, const char *dir, int run, double *run_s,
                   double *total_s)
{
    hpool_executor_options eo = {.record_dir = dir,
                                 .record_level = dir ? HPOOL_RECORD_CHUNKS : HPOOL_RECORD_NONE,
                                 .record_run = run,
                                 .label = "record_overhead"};
    hpool_map_options mo = {.chunksize = 1};
    double t0 = now();
    hpool_executor *ex;
    int rc = hpool_executor_create(&ex, &eo);
    if (rc != 0)
        return rc;
    double t1 = now();
    hpool_map_iter *m;
    rc = hpool_map(ex, "empty", items, sizeof *items, n, &mo, &m);
    size_t got = 0;
    const void *res;
    size_t len;
    uint64_t idx;
    while (rc == 0) {
        int k = hpool_map_next(m, &res, &len, &idx);
        if (k == 1)
            got++;
        else
            rc = k;
    }
    double t2 = now();
    if (m)
        hpool_map_close(m);
    int drc = hpool_executor_destroy(ex);
    double t3 = now();
    if (rc == 0 && got != n)
        rc = HPOOL_EPROTO;
    *run_s = t2 - t1;
    *total_s = t3 - t0;
    return rc != 0 ? rc : drc;
}

int main(int argc, char **argv)
{
    hpool_register_task("empty", empty);
    int role = hpool_init(&argc, &argv, NULL);
    if (role < 0) {
        fprintf(stderr, "hpool_init: %s: %s\n", hpool_errname(role), hpool_last_error());
        return 1;
    }
    if (role == HPOOL_WORKER)
        return hpool_finalize() == 0 ? 0 : 1;

    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    int reps = argc > 2 ? atoi(argv[2]) : 3;
    char dirbuf[] = "/tmp/hpool_record_overhead.XXXXXX";
    const char *dir = argc > 3 ? argv[3] : mkdtemp(dirbuf);
    if (n == 0 || reps < 1 || reps > 64 || dir == NULL) {
        fprintf(stderr, "usage: record_overhead [N [REPS (1..64) [DIR]]]\n");
        hpool_finalize();
        return 2;
    }
    uint64_t *items = malloc(n * sizeof *items);
    if (items == NULL) {
        hpool_finalize();
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        items[i] = i;

    double run_s[2][64], total_s[2][64];
    int rc = 0;
    /* A warm-up run of each mode (not counted): first-touch page faults, MPI's lazy
     * connection set-up and the record directory's first files. */
    for (int mode = 0; mode < 2 && rc == 0; mode++) {
        double a, b;
        rc = one_run(items, n < 20000 ? n : 20000, mode ? dir : NULL, 0, &a, &b);
    }
    for (int r = 0; r < reps && rc == 0; r++) {
        for (int k = 0; k < 2 && rc == 0; k++) {
            int mode = (r + k) % 2; /* off,on / on,off / ... */
            rc = one_run(items, n, mode ? dir : NULL, r, &run_s[mode][r], &total_s[mode][r]);
            printf("rep %d %-7s run %.3f s  total %.3f s\n", r, mode ? "chunks" : "off",
                   run_s[mode][r], total_s[mode][r]);
            fflush(stdout);
        }
    }
    if (rc != 0) {
        fprintf(stderr, "record_overhead: %s: %s\n", hpool_errname(rc), hpool_last_error());
    } else {
        double rmin[2], rmed[2], tmin[2], tmed[2];
        for (int mode = 0; mode < 2; mode++) {
            rmin[mode] = minimum(run_s[mode], reps);
            tmin[mode] = minimum(total_s[mode], reps);
            rmed[mode] = median(run_s[mode], reps);
            tmed[mode] = median(total_s[mode], reps);
        }
        printf("items %zu, chunksize 1, ranks %d, reps %d, records in %s\n", n,
               hpool_world_size(), reps, dir);
        printf("%-8s %10s %10s %10s %10s\n", "mode", "run_min", "run_med", "total_min",
               "total_med");
        printf("%-8s %10.3f %10.3f %10.3f %10.3f\n", "off", rmin[0], rmed[0], tmin[0], tmed[0]);
        printf("%-8s %10.3f %10.3f %10.3f %10.3f\n", "chunks", rmin[1], rmed[1], tmin[1],
               tmed[1]);
        printf("ratio chunks/off: run %.4f (min) %.4f (median); total %.4f (min) %.4f "
               "(median)\n",
               rmin[1] / rmin[0], rmed[1] / rmed[0], tmin[1] / tmin[0], tmed[1] / tmed[0]);
    }
    free(items);
    int frc = hpool_finalize();
    return rc == 0 && frc == 0 ? 0 : 1;
}
