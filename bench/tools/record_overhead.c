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
 * and the ratios recorded/off.
 *
 * On a small or shared machine the pool's wall time is set by scheduling (who spins,
 * who sleeps, who gets a core), which a few tens of nanoseconds more on the manager can
 * tip either way (runs of one mode differ by 20% here); so the tool also times the recording code alone, on rank 0 without
 * MPI traffic: N hpool__records_chunk calls (the per-call-item cost on the manager's
 * critical path) and the close that writes the final files, in thread CPU time. That
 * cost over the per-item wall time of the unrecorded run is the overhead the pool pays
 * when nothing else moves.
 *
 * Memory: items come from a generator (hpool_map_options.gen, buffersize 2^16) rather
 * than an array, so that rank 0 holds no per-item state of its own and its peak RSS
 * (VmHWM, reset before each run through /proc/self/clear_refs) shows what the pool and
 * its records keep: flat, whatever N, if the records stream. While the recorded run
 * goes, the size of chunks.partial is sampled to show the records reach the disk as the
 * run goes, not at the end.
 *
 * Formats: bytes per call item of each record format, from files of the direct
 * measurement (at most 2*10^5 call items): chunks.partial (binary, during the run),
 * chunks.tsv, trace.json unbounded and gzipped, and the OTF2 trace hpool-bench writes.
 * Usage: record_overhead [N [REPS [DIR]]]. */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "executor.h" /* internal: the direct measurement drives records.c itself */
#include "hpool.h"
#include "otf2_writer.h"
#include "records.h"
#include "records/records_int.h" /* to flush the partial file and measure it exactly */

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

/* A /proc/self/status field in KiB (VmHWM: peak RSS; VmRSS: now). */
static long status_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':')
            kib = atol(line + n + 1);
    if (f)
        fclose(f);
    return kib;
}

static void reset_hwm(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
}

static long long file_size(const char *dir, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* The bytes of the regular files directly in dir and one level below (an OTF2 archive). */
static long long tree_size(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    long long sum = 0;
    struct dirent *e;
    char path[4200];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISREG(st.st_mode))
            sum += st.st_size;
        else if (S_ISDIR(st.st_mode) && depth > 0)
            sum += tree_size(path, depth - 1);
    }
    closedir(d);
    return sum;
}

/* dir/name gzipped (zlib level 6, as trace_gzip) into dir/name.gz; its size or -1. */
static long long gzip_size(const char *dir, const char *name)
{
    char src[4200], dst[4200];
    snprintf(src, sizeof src, "%s/%s", dir, name);
    snprintf(dst, sizeof dst, "%s/%s.gz", dir, name);
    FILE *in = fopen(src, "rb");
    gzFile out = gzopen(dst, "wb6");
    char buf[1 << 16];
    size_t k;
    while (in && out && (k = fread(buf, 1, sizeof buf, in)) > 0)
        gzwrite(out, buf, (unsigned)k);
    if (in)
        fclose(in);
    if (out)
        gzclose(out);
    long long size = file_size(dir, "trace.json.gz");
    unlink(dst);
    return size;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The recording code alone: n chunk records as the manager makes them (one worker, one
 * clock map with drift), then the close and its final pass. Seconds of thread CPU per
 * record for each, or a negative value on failure. */
static void direct(size_t n, const char *dir, double *per_record, double *per_close,
                   long long *partial_bytes)
{
    hpool_executor ex;
    memset(&ex, 0, sizeof ex);
    ex.record_dir = (char *)dir;
    ex.record_level = HPOOL_RECORD_CHUNKS;
    ex.trace_max_events = -1; /* the formats' sizes: trace.json with every event */
    ex.t_created = now();
    int err = 0;
    *per_record = *per_close = -1;
    hpool__records *r = hpool__records_open(&ex, &err);
    if (r == NULL)
        return;
    double worker0 = ex.t_created + 1234.5; /* another clock, as a worker's would be */
    double c0 = cpu_now();
    for (size_t i = 0; i < n; i++) {
        double t = ex.t_created + 1e-5 * (double)i;
        hpool__chunk_record c = {.chunk = i, .schedule = 0, .worker = 1, .first_item = i,
                                 .items = 1, .t_submit = ex.t_created, .t_dispatch = t,
                                 .t_recv = worker0 + 1e-5 * (double)i + 2e-6,
                                 .t_start = worker0 + 1e-5 * (double)i + 3e-6,
                                 .t_end = worker0 + 1e-5 * (double)i + 4e-6,
                                 .t_result = t + 7e-6};
        hpool__records_chunk(r, &c);
    }
    double c1 = cpu_now();
    /* Its size, exact: the header and the records' bytes as encoded. */
    *partial_bytes = (long long)(sizeof(part_header) + r->chunk_bytes);
    hpool__rank_clock clock = {.rank = 1,
                               .map = {.start = {-1234.5, 2e-6, ex.t_created},
                                       .end = {-1234.5 + 1e-6, 2e-6, ex.t_created + 10},
                                       .have_start = true,
                                       .have_end = true}};
    int rc = hpool__records_close(r, &clock, 1, true);
    double c2 = cpu_now();
    if (rc == 0) {
        *per_record = (c1 - c0) / (double)n;
        *per_close = (c2 - c1) / (double)n;
    }
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

static int gen_index(void *user, uint64_t index, void *record)
{
    (void)user;
    memcpy(record, &index, sizeof index);
    return 1;
}

typedef struct {
    double run_s, total_s;
    long hwm_kib;               /* peak RSS of rank 0, the run and the executor's close */
    long rss_mid, rss_end_kib;  /* RSS at half the results, and when the map ended */
    long long partial_mid;      /* chunks.partial when half the results were in */
    long long trace_bytes;      /* trace.json (bounded by default) after the run */
} run_result;

/* One run over items 0..n-1 from a generator; returns 0, or an hpool error code. */
static int one_run(size_t n, const char *dir, int run, run_result *out)
{
    memset(out, 0, sizeof *out);
    reset_hwm();
    hpool_executor_options eo = {.record_dir = dir,
                                 .record_level = dir ? HPOOL_RECORD_CHUNKS : HPOOL_RECORD_NONE,
                                 .record_run = run,
                                 .label = "record_overhead"};
    hpool_map_options mo = {.chunksize = 1, .gen = gen_index, .buffersize = 1u << 16,
                            .unordered = true};
    double t0 = now();
    hpool_executor *ex;
    int rc = hpool_executor_create(&ex, &eo);
    if (rc != 0)
        return rc;
    double t1 = now();
    hpool_map_iter *m = NULL;
    rc = hpool_map(ex, "empty", NULL, sizeof(uint64_t), n, &mo, &m);
    size_t got = 0;
    const void *res;
    size_t len;
    uint64_t idx;
    for (int k = 1; rc == 0 && k == 1;) {
        k = hpool_map_next(m, &res, &len, &idx);
        if (k == 1 && ++got == n / 2) {
            out->rss_mid = status_kib("VmRSS");
            if (dir)
                out->partial_mid = file_size(dir, "chunks.partial");
        }
        else if (k < 0)
            rc = k;
    }
    double t2 = now();
    out->rss_end_kib = status_kib("VmRSS");
    if (m)
        hpool_map_close(m);
    int drc = hpool_executor_destroy(ex);
    double t3 = now();
    if (rc == 0 && got != n)
        rc = HPOOL_EPROTO;
    out->run_s = t2 - t1;
    out->total_s = t3 - t0;
    out->hwm_kib = status_kib("VmHWM");
    out->trace_bytes = dir ? file_size(dir, "trace.json") : 0;
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
    double run_s[2][64], total_s[2][64];
    long hwm[2] = {0, 0};
    long long partial_mid = 0, trace_bytes = 0;
    int rc = 0;
    /* A warm-up run of each mode (not counted): first-touch page faults, MPI's lazy
     * connection set-up and the record directory's first files. */
    for (int mode = 0; mode < 2 && rc == 0; mode++) {
        run_result w;
        rc = one_run(n < 20000 ? n : 20000, mode ? dir : NULL, 0, &w);
    }
    for (int r = 0; r < reps && rc == 0; r++) {
        for (int k = 0; k < 2 && rc == 0; k++) {
            int mode = (r + k) % 2; /* off,on / on,off / ... */
            run_result w;
            rc = one_run(n, mode ? dir : NULL, r, &w);
            run_s[mode][r] = w.run_s;
            total_s[mode][r] = w.total_s;
            hwm[mode] = w.hwm_kib > hwm[mode] ? w.hwm_kib : hwm[mode];
            if (mode) {
                partial_mid = w.partial_mid;
                trace_bytes = w.trace_bytes;
            }
            printf("rep %d %-7s run %.3f s  total %.3f s  rank-0 RSS %.1f MiB at half, "
                   "%.1f at the end of the map, peak %.1f with the close\n",
                   r, mode ? "chunks" : "off", w.run_s, w.total_s, (double)w.rss_mid / 1024,
                   (double)w.rss_end_kib / 1024, (double)w.hwm_kib / 1024);
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
        /* Best of three, as the wall times: the least disturbed is the closest to the
         * code's own cost. */
        printf("rank-0 peak RSS (VmHWM, the largest of the reps): records off %.1f MiB, "
               "chunks %.1f MiB\n",
               (double)hwm[0] / 1024, (double)hwm[1] / 1024);
        printf("chunks.partial at half the results: %.1f MB (%.1f bytes per call item so "
               "far); trace.json after the run: %.1f MB (bounded)\n",
               (double)partial_mid / 1e6, (double)partial_mid / (double)(n / 2 ? n / 2 : 1),
               (double)trace_bytes / 1e6);
        double rec = INFINITY, fin = INFINITY;
        long long partial_bytes = 0;
        size_t nd = n < 200000 ? n : 200000; /* the OTF2 writer sorts in memory */
        struct rusage ru0, ru1;
        getrusage(RUSAGE_SELF, &ru0);
        for (int k = 0; k < 3; k++) {
            double a, b;
            direct(nd, dir, &a, &b, &partial_bytes);
            if (a > 0 && a < rec)
                rec = a;
            if (b > 0 && b < fin)
                fin = b;
        }
        getrusage(RUSAGE_SELF, &ru1);
        double per_item = rmin[0] / (double)n;
        printf("recording code alone (CPU, best of 3, %zu records): %.0f ns per chunk on "
               "the manager's path, %.0f ns per chunk at close\n",
               nd, rec * 1e9, fin * 1e9);
        printf("against %.2f us per item unrecorded: hot path %.2f%%, with the close "
               "%.2f%%\n",
               per_item * 1e6, 100 * rec / per_item, 100 * (rec + fin) / per_item);
        /* Rows stream to disk and the close re-reads them: memory must not grow with n. */
        printf("peak memory of rank 0 grew by %ld KiB while recording %zu chunks\n",
               ru1.ru_maxrss - ru0.ru_maxrss, nd);
        /* Bytes per call item of each format, from the last direct run's files. */
        char err[1024];
        long long otf2 = -1;
        if (hpool_bench_otf2_write(dir, "localhost", NULL, NULL, err, sizeof err) == 0) {
            char od[4200];
            snprintf(od, sizeof od, "%s/otf2", dir);
            otf2 = tree_size(od, 1);
        }
        double k = (double)nd;
        printf("bytes per call item (%zu call items, level chunks):\n", nd);
        printf("  chunks.partial (binary, during the run) %8.1f\n", (double)partial_bytes / k);
        printf("  chunks.tsv                              %8.1f\n",
               (double)file_size(dir, "chunks.tsv") / k);
        printf("  trace.json, every event                 %8.1f\n",
               (double)file_size(dir, "trace.json") / k);
        printf("  trace.json.gz (zlib 6)                  %8.1f\n",
               (double)gzip_size(dir, "trace.json") / k);
        if (otf2 >= 0)
            printf("  OTF2 (traces.otf2, .def, events)        %8.1f\n", (double)otf2 / k);
        else
            printf("  OTF2: %s\n", err);
    }
    if (argc <= 3) { /* our own temporary directory: 10^6 chunks leave ~300 MB in it */
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s/otf2'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "record_overhead: cannot remove %s/otf2\n", dir);
        static const char *const names[] = {"chunks.tsv", "trace.json", "clock.tsv"};
        char path[128];
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            unlink(path);
        }
        rmdir(dir);
    }
    int frc = hpool_finalize();
    return rc == 0 && frc == 0 ? 0 : 1;
}
