/* soak: does a long-lived hpool job hold its memory and file descriptors flat?
 *
 * Run under mpirun with 2 or more ranks (e.g. mpirun -n 3 --oversubscribe). Two parts:
 *   (a) one executor, one generator map of N trivial tasks (default 10^7; chunksize 64,
 *       buffersize 10^4): everything the hot path allocates per chunk or per item must be
 *       given back, so rank 0's footprint after 10^7 items must be what it was after 10^6;
 *   (b) E executors (default 1,000) created and shut down in a row, each running a couple
 *       of tasks: per-executor state (manager thread, buffers, MPI requests, placement
 *       rows) must be freed with the executor.
 * Rank 0 samples its resident set (/proc/self/statm) and open descriptors (/proc/self/fd)
 * every tenth of each part. The worker ranks are sampled too, by `soak_probe` tasks that
 * return the worker's own figures (hpool has no other way to ask a worker). A sample
 * after warm-up (the first tenth: allocator arenas, MPI's lazily opened transports, the
 * OpenMP team) is the baseline; the verdict is "flat" when the last sample of every rank
 * is within the RSS tolerance (default +8 MiB) of its baseline with the same number of
 * descriptors. Exit status: 0 flat, 1 grown or failed, 2 usage.
 *
 * Usage: soak [-n TASKS] [-e EXECUTORS] [-c CHUNKSIZE] [-b BUFFERSIZE] [-t MIB] */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hpool.h"

#define MAX_RANKS 65     /* rank 0 plus hpool's 64 workers */
#define MAX_SAMPLES 64   /* per part: 0, every tenth, and slack for rounding */
#define WAIT_S 300.0     /* no single wait in a soak should come near this */
#define PROBE_ROUNDS 32  /* probe batches before giving up on hearing from every worker */

/* ---- measuring a process ------------------------------------------------------------ */

typedef struct {
    long rss_kib; /* resident set, -1 when unknown */
    int fds;      /* open descriptors, -1 when unknown */
} footprint;

static footprint self_footprint(void)
{
    footprint fp = {-1, -1};
    /* statm's second field is the resident set in pages; cheaper and steadier than
     * parsing /proc/self/status. */
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        long size, resident;
        if (fscanf(f, "%ld %ld", &size, &resident) == 2)
            fp.rss_kib = resident * (sysconf(_SC_PAGESIZE) / 1024);
        fclose(f);
    }
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        int n = 0;
        const struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (e->d_name[0] != '.')
                n++;
        /* The directory stream holds a descriptor of its own while we count. */
        fp.fds = n - 1;
        closedir(d);
    }
    return fp;
}

/* ---- tasks ---------------------------------------------------------------------------- */

/* The map's task: as cheap as `empty`, so the soak is all hpool overhead. */
static int soak_empty(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    (void)ctx;
    (void)arg;
    (void)len;
    return 0;
}

/* What a worker reports about itself. */
typedef struct {
    int32_t rank;
    int32_t fds;
    int64_t rss_kib;
} probe_reply;

static int soak_probe(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    footprint fp = self_footprint();
    probe_reply r = {hpool_task_rank(ctx), fp.fds, fp.rss_kib};
    return hpool_task_return(ctx, &r, sizeof r);
}

/* ---- samples -------------------------------------------------------------------------- */

/* One row of a table: rank 0 and each worker rank, at `done` items or executors. */
typedef struct {
    uint64_t done;
    double t;                       /* seconds since the part started */
    footprint rank[MAX_RANKS];      /* [0] = rank 0; workers by rank; -1 if not heard */
} soak_sample;

typedef struct {
    const char *name, *unit;
    soak_sample s[MAX_SAMPLES];
    int n;
    int baseline; /* index of the sample after warm-up */
    int world;
} part;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Ask the workers for their footprint: batches of one probe per worker until every
 * worker rank has answered (a batch may land twice on one worker, so repeat). The same
 * executor is used, so a probe measures the worker as the part leaves it. */
static int probe_workers(hpool_executor *ex, int world, footprint *out)
{
    bool seen[MAX_RANKS] = {false};
    for (int r = 1; r < world; r++)
        out[r] = (footprint){-1, -1};
    int missing = world - 1;
    hpool_future *fs[MAX_RANKS];
    for (int round = 0; round < PROBE_ROUNDS && missing > 0; round++) {
        int n = 0, rc = 0;
        for (int i = 0; i < world - 1 && rc == 0; i++) {
            rc = hpool_submit(ex, "soak_probe", NULL, 0, &fs[n]);
            n += rc == 0;
        }
        for (int i = 0; i < n; i++) {
            const void *res;
            size_t len;
            int frc = rc == 0 ? hpool_future_result(fs[i], WAIT_S, &res, &len) : rc;
            probe_reply pr;
            if (frc == 0 && len == sizeof pr) {
                memcpy(&pr, res, sizeof pr);
                if (pr.rank > 0 && pr.rank < world) {
                    missing -= !seen[pr.rank];
                    seen[pr.rank] = true;
                    out[pr.rank] = (footprint){pr.rss_kib, pr.fds};
                }
            } else if (rc == 0) {
                rc = frc != 0 ? frc : HPOOL_EPROTO;
            }
            hpool_future_release(fs[i]);
        }
        if (rc != 0) {
            fprintf(stderr, "soak: probe: %s: %s\n", hpool_errname(rc), hpool_last_error());
            return rc;
        }
    }
    return 0;
}

static int take_sample(part *p, hpool_executor *ex, uint64_t done, double t0)
{
    if (p->n == MAX_SAMPLES)
        return 0;
    soak_sample *s = &p->s[p->n];
    s->done = done;
    s->t = now() - t0;
    s->rank[0] = self_footprint();
    int rc = ex ? probe_workers(ex, p->world, s->rank) : 0;
    if (!ex)
        for (int r = 1; r < p->world; r++)
            s->rank[r] = (footprint){-1, -1};
    p->n++;
    return rc;
}

static double mib(long kib)
{
    return (double)kib / 1024.0;
}

/* Prints the table and returns true when every rank is flat. */
static bool report(const part *p, double tol_mib)
{
    printf("\n%s\n", p->name);
    printf("%12s %8s %12s %8s", p->unit, "time_s", "r0_rss_MiB", "r0_fds");
    for (int r = 1; r < p->world; r++)
        printf("  r%d_rss_MiB r%d_fds", r, r);
    printf("\n");
    for (int i = 0; i < p->n; i++) {
        const soak_sample *s = &p->s[i];
        printf("%12" PRIu64 " %8.1f %12.1f %8d", s->done, s->t, mib(s->rank[0].rss_kib),
               s->rank[0].fds);
        for (int r = 1; r < p->world; r++)
            printf("  %10.1f %6d", mib(s->rank[r].rss_kib), s->rank[r].fds);
        printf("%s\n", i == p->baseline ? "   <- baseline (after warm-up)" : "");
    }
    if (p->n < 2 || p->baseline >= p->n - 1) {
        printf("verdict: too few samples\n");
        return false;
    }
    bool flat = true;
    const soak_sample *b = &p->s[p->baseline], *l = &p->s[p->n - 1];
    for (int r = 0; r < p->world; r++) {
        footprint fb = b->rank[r], fl = l->rank[r];
        if (fb.rss_kib < 0 || fl.rss_kib < 0 || fb.fds < 0 || fl.fds < 0) {
            printf("rank %d: not measured\n", r);
            flat = false;
            continue;
        }
        long grew_kib = fl.rss_kib - fb.rss_kib;
        bool ok = mib(grew_kib) <= tol_mib && fl.fds == fb.fds;
        printf("rank %d: RSS %+ld KiB (tolerance +%.0f MiB), fds %d -> %d: %s\n", r,
               grew_kib, tol_mib, fb.fds, fl.fds, ok ? "flat" : "GREW");
        flat &= ok;
    }
    printf("verdict (%s): %s\n", p->name, flat ? "flat" : "NOT FLAT");
    return flat;
}

/* ---- part (a): one long generator map ------------------------------------------------- */

typedef struct {
    uint64_t n;
} gen_state;

/* The items are their own index: 8 bytes, as `empty`'s argument in the benchmark. */
static int gen(void *user, uint64_t index, void *record)
{
    const gen_state *g = user;
    if (index >= g->n)
        return 0;
    memcpy(record, &index, sizeof index);
    return 1;
}

static int part_map(part *p, uint64_t n, size_t chunksize, size_t buffersize,
                    double *items_per_s)
{
    hpool_executor *ex;
    int rc = hpool_executor_create(&ex, NULL);
    if (rc != 0)
        return rc;
    uint64_t every = n >= 10 ? n / 10 : 1;
    double t0 = now();
    rc = take_sample(p, ex, 0, t0);
    gen_state g = {n};
    hpool_map_options mo = {.chunksize = chunksize, .buffersize = buffersize, .gen = gen,
                            .gen_user = &g, .timeout_s = 0};
    hpool_map_iter *m = NULL;
    if (rc == 0)
        rc = hpool_map(ex, "soak_empty", NULL, sizeof(uint64_t), 0, &mo, &m);
    uint64_t got = 0;
    double t_map = now(), t_probe = 0;
    while (rc == 0) {
        const void *res;
        size_t len;
        uint64_t idx;
        int k = hpool_map_next(m, &res, &len, &idx);
        if (k == 0)
            break;
        if (k < 0) {
            rc = k;
            break;
        }
        /* An ordered map must hand back item `got` next, with the task's empty result. */
        if (idx != got || len != 0) {
            fprintf(stderr, "soak: map result %" PRIu64 " (len %zu), expected %" PRIu64 "\n",
                    idx, len, got);
            rc = HPOOL_EPROTO;
            break;
        }
        if (++got % every == 0) {
            /* The probes go through the same executor while the map is paused on us
             * (buffersize): their time is left out of the throughput. */
            double ts = now();
            rc = take_sample(p, ex, got, t0);
            t_probe += now() - ts;
            if (got == every)
                p->baseline = p->n - 1;
        }
    }
    double wall = now() - t_map - t_probe;
    if (rc != 0)
        fprintf(stderr, "soak: map: %s: %s\n", hpool_errname(rc),
                m ? hpool_map_error(m, NULL, NULL) : hpool_last_error());
    else if (got != n) {
        fprintf(stderr, "soak: map ended after %" PRIu64 " of %" PRIu64 " items\n", got, n);
        rc = HPOOL_EPROTO;
    }
    if (m) {
        int crc = hpool_map_close(m);
        rc = rc ? rc : crc;
    }
    int drc = hpool_executor_destroy(ex);
    *items_per_s = wall > 0 ? (double)got / wall : 0;
    return rc ? rc : drc;
}

/* ---- part (b): executors in a row ----------------------------------------------------- */

/* One executor's life: two tasks, results taken, futures released, shut down. When
 * `sample` is set the part's sample is taken while this executor is still up (the worker
 * probes need one), so every sample of the part sees the same single live executor. */
static int one_executor(part *p, bool sample, uint64_t done, double t0)
{
    hpool_executor *ex;
    int rc = hpool_executor_create(&ex, NULL);
    if (rc != 0)
        return rc;
    hpool_future *fs[2] = {NULL, NULL};
    for (int i = 0; i < 2 && rc == 0; i++)
        rc = hpool_submit(ex, i == 0 ? "soak_empty" : "soak_probe", NULL, 0, &fs[i]);
    for (int i = 0; i < 2; i++) {
        if (!fs[i])
            continue;
        const void *res;
        size_t len;
        int frc = hpool_future_result(fs[i], WAIT_S, &res, &len);
        rc = rc ? rc : frc;
        hpool_future_release(fs[i]);
    }
    if (rc == 0 && sample)
        rc = take_sample(p, ex, done, t0);
    int drc = hpool_executor_destroy(ex);
    return rc ? rc : drc;
}

static int part_executors(part *p, uint64_t n)
{
    uint64_t every = n >= 10 ? n / 10 : 1;
    double t0 = now();
    int rc = 0;
    for (uint64_t i = 1; i <= n && rc == 0; i++) {
        bool sample = i == 1 || i % every == 0;
        rc = one_executor(p, sample, i, t0);
        if (sample && i == every)
            p->baseline = p->n - 1;
    }
    if (rc != 0)
        fprintf(stderr, "soak: executor: %s: %s\n", hpool_errname(rc), hpool_last_error());
    return rc;
}

/* ---- main ----------------------------------------------------------------------------- */

static bool parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    if (!s || !*s || *s == '-')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static void usage(void)
{
    fprintf(stderr, "usage: soak [-n TASKS (>=10, default 10000000)] [-e EXECUTORS (>=10, "
                    "default 1000)]\n            [-c CHUNKSIZE (default 64)] [-b BUFFERSIZE "
                    "(default 10000)] [-t RSS_TOLERANCE_MIB (default 8)]\n"
                    "run with mpirun and 2 or more ranks\n");
}

int main(int argc, char **argv)
{
    hpool_register_task("soak_empty", soak_empty);
    hpool_register_task("soak_probe", soak_probe);
    int role = hpool_init(&argc, &argv, NULL);
    if (role < 0) {
        fprintf(stderr, "hpool_init: %s: %s\n", hpool_errname(role), hpool_last_error());
        return 1;
    }
    if (role == HPOOL_WORKER)
        return hpool_finalize() == 0 ? 0 : 1;

    uint64_t n_tasks = 10000000, n_exec = 1000, chunksize = 64, buffersize = 10000, tol = 8;
    bool ok = true;
    for (int i = 1; i < argc && ok; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "-n") == 0)
            ok = parse_u64(v, 10, UINT64_MAX / 2, &n_tasks);
        else if (strcmp(argv[i], "-e") == 0)
            ok = parse_u64(v, 10, 100000000, &n_exec);
        else if (strcmp(argv[i], "-c") == 0)
            ok = parse_u64(v, 1, 1000000, &chunksize);
        else if (strcmp(argv[i], "-b") == 0)
            ok = parse_u64(v, 1, 100000000, &buffersize);
        else if (strcmp(argv[i], "-t") == 0)
            ok = parse_u64(v, 0, 1 << 20, &tol);
        else
            ok = false;
    }
    int world = hpool_world_size();
    if (!ok || world < 2 || world > MAX_RANKS) {
        usage();
        hpool_finalize();
        return 2;
    }

    printf("soak: %d ranks (1 manager + %d workers); (a) %" PRIu64 " tasks, chunksize %" PRIu64
           ", buffersize %" PRIu64 "; (b) %" PRIu64 " executors\n",
           world, world - 1, n_tasks, chunksize, buffersize, n_exec);
    fflush(stdout);

    static part pa, pb; /* ~70 KiB each: static, not on the stack */
    pa = (part){.name = "(a) one executor, generator map", .unit = "items", .world = world};
    pb = (part){.name = "(b) executors created and shut down", .unit = "executors",
                .world = world};
    double rate = 0;
    int rc = part_map(&pa, n_tasks, (size_t)chunksize, (size_t)buffersize, &rate);
    bool flat_a = report(&pa, (double)tol);
    if (rc == 0)
        printf("throughput (a): %.0f items/s (%" PRIu64 " items, probe time excluded)\n", rate,
               n_tasks);
    fflush(stdout);
    int rcb = rc == 0 ? part_executors(&pb, n_exec) : rc;
    bool flat_b = rc == 0 && report(&pb, (double)tol);
    if (rcb == 0 && pb.n > 1)
        printf("executors (b): %.1f ms per create + 2 tasks + shutdown\n",
               1e3 * pb.s[pb.n - 1].t / (double)n_exec);

    bool flat = rc == 0 && rcb == 0 && flat_a && flat_b;
    printf("\nsoak verdict: %s\n", flat ? "flat" : "NOT FLAT");
    int frc = hpool_finalize();
    return flat && frc == 0 ? 0 : 1;
}
