/* Manager CPU per dispatched chunk, and start-up, as the number of workers grows, against
 * a raw MPI farm on the same ranks in the same job.
 *
 *   mpirun -n 130 --oversubscribe --mca mpi_yield_when_idle 1 build/bench/manager_cost \
 *       [--raw-window N] [--prefetch N] [ITEMS_PER_WORKER] [WORKERS ...]
 *
 * One job, one executor per worker count (default 2 16 64 128, capped at the ranks given;
 * ranks outside an executor sleep in their idle backoff), so the figure at 2 workers is
 * the baseline measured in the same run. Per executor:
 *   - first_result_ms: a future submitted right after hpool_executor_create until its
 *     result: the start-up a user sees (START to every worker, acks, clock sync, one call);
 *   - startup_ms / final_sync_ms: the executor's own account (hpool_executor_stats);
 *   - a map of ITEMS_PER_WORKER empty tasks per worker at chunksize 1: the manager thread's
 *     CPU time (manager_cpu_s minus the clock syncs' sync_cpu_s) per chunk, and chunks/s;
 *     vs_first is that CPU per chunk against the first figure of this run. --prefetch N
 *     gives the executors a fixed window of N (default 0: hpool's adaptive window, which
 *     with empty tasks grows to 64 call items per worker, at most 256 over all workers:
 *     src/mgr/dispatch.c).
 * A warm-up executor (2 workers) runs first and is reported on a comment line.
 *
 * The raw MPI farm is what the same dispatch costs MPI alone: rank 0 sends a 32-byte call
 * (the size of hpool's CALL header) per item to workers 1..W, round-robin, keeping
 * --raw-window calls in flight per worker (default 2: CPython's depth), each an MPI_Isend
 * completed with MPI_Wait when its result is back, as hpool's manager does; it takes each
 * 40-byte result (hpool's RESULT header) with MPI_Improbe/MPI_Mrecv(MPI_ANY_SOURCE), as
 * hpool's poll_incoming does, and refills that worker. When a poll finds nothing, rank 0
 * backs off as hpool's manager does with work in flight (policy.h: 64 polls, 64 yields,
 * then sleeps doubling from 16 us to 1 ms). Every worker rank, whether in W or not, waits
 * for its next message as hpool's worker does (src/worker.c receive: MPI_Improbe from rank
 * 0 in the same backoff), so the ranks outside W wake about once a millisecond, poll
 * once and sleep again, as the idle workers outside an executor do; none blocks in
 * MPI_Recv, which under mpi_yield_when_idle would spin on sched_yield. The CPU is rank
 * 0's main thread's (CLOCK_THREAD_CPUTIME_ID, as manager_cpu_s) over the farm loop, per
 * chunk. MPI runs at the thread levels hpool_init would ask for (MULTIPLE on rank 0,
 * FUNNELED elsewhere).
 *
 * The farm needs the worker ranks, which hpool holds from hpool_init to hpool_finalize,
 * so it runs twice, around hpool: once before hpool_init (a warm-up at 2 workers, then the
 * same worker counts and items per worker as hpool) and once after hpool_finalize
 * (every peer has then talked to rank 0). The table prints, per worker count, hpool's
 * columns above, then raw_us/chunk (the mean of the two farm runs, which bracket hpool's
 * in time), raw_vs_first (against the farm's first figure) and hpool/raw; a comment line
 * per worker count gives both farm runs and their chunks/s. */
#include <dirent.h>
#include <mpi.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "hpool.h"
#include "policy.h" /* hpool__backoff: the idle backoff of hpool's manager and workers */

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

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------- raw MPI farm */
enum { RAW_TAG_CALL = 7801, RAW_TAG_RESULT = 7802 };
enum { RAW_CALL = 1, RAW_END = 2 };

typedef struct { /* hpool__wire_call's size */
    uint8_t type;
    uint8_t pad;
    uint16_t slot;
    int32_t pad2;
    uint64_t item;
    uint64_t pad3[2];
} raw_call;

typedef struct { /* hpool__wire_result's size */
    uint8_t type;
    uint8_t pad;
    uint16_t slot;
    int32_t pad2;
    uint64_t item;
    uint64_t pad3[3];
} raw_result;

_Static_assert(sizeof(raw_call) == 32, "raw call: 32 bytes, as hpool's CALL header");
_Static_assert(sizeof(raw_result) == 40, "raw result: 40 bytes, as hpool's RESULT header");

/* One step of hpool's backoff with work in flight (the cap of worker.c's receive and of
 * the manager's idle_wait while an executor runs). */
static void raw_backoff(unsigned idle)
{
    double s = hpool__backoff(idle, HPOOL__BACKOFF_SLEEP_BUSY_S);
    if (s == 0)
        return;
    if (s < 0) {
        sched_yield();
        return;
    }
    struct timespec ts = {0, (long)(s * 1e9)};
    nanosleep(&ts, NULL);
}

/* A worker rank's side of one farm run: answer every call until the end message. */
static void raw_worker(void)
{
    raw_result res;
    memset(&res, 0, sizeof res);
    for (;;) {
        unsigned idle = 0;
        int flag = 0;
        MPI_Message msg;
        for (;;) {
            MPI_Improbe(0, RAW_TAG_CALL, MPI_COMM_WORLD, &flag, &msg, MPI_STATUS_IGNORE);
            if (flag)
                break;
            raw_backoff(++idle);
        }
        raw_call c;
        MPI_Mrecv(&c, (int)sizeof c, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
        if (c.type == RAW_END)
            return;
        res.type = RAW_CALL;
        res.slot = c.slot;
        res.item = c.item;
        MPI_Send(&res, (int)sizeof res, MPI_BYTE, 0, RAW_TAG_RESULT, MPI_COMM_WORLD);
    }
}

typedef struct {
    double cpu_us; /* rank 0's CPU per chunk */
    double rate;   /* chunks/s */
} raw_figure;

/* Rank 0: per_worker * workers calls to ranks 1..workers, `window` in flight per worker. */
static int raw_farm(int workers, long per_worker, int window, raw_figure *out)
{
    size_t n = (size_t)per_worker * (size_t)workers;
    size_t nslots = (size_t)workers * (size_t)window;
    raw_call *calls = calloc(nslots, sizeof *calls);
    MPI_Request *reqs = malloc(nslots * sizeof *reqs);
    if (calls == NULL || reqs == NULL) {
        free(calls);
        free(reqs);
        fprintf(stderr, "manager_cost: out of memory for the raw farm\n");
        return 1;
    }
    for (size_t k = 0; k < nslots; k++)
        reqs[k] = MPI_REQUEST_NULL;
    size_t sent = 0, done = 0;
    double t0 = now_s(), c0 = thread_cpu_s();
    /* Round-robin: one call to each worker in turn, window times over. */
    for (int k = 0; k < window; k++)
        for (int w = 0; w < workers && sent < n; w++) {
            raw_call *c = &calls[(size_t)w * (size_t)window + (size_t)k];
            c->type = RAW_CALL;
            c->slot = (uint16_t)k;
            c->item = sent++;
            MPI_Isend(c, (int)sizeof *c, MPI_BYTE, w + 1, RAW_TAG_CALL, MPI_COMM_WORLD,
                      &reqs[(size_t)w * (size_t)window + (size_t)k]);
        }
    unsigned idle = 0;
    while (done < n) {
        int got = 0;
        for (;;) {
            int flag = 0;
            MPI_Message msg;
            MPI_Status st;
            MPI_Improbe(MPI_ANY_SOURCE, RAW_TAG_RESULT, MPI_COMM_WORLD, &flag, &msg, &st);
            if (!flag)
                break;
            raw_result res;
            MPI_Mrecv(&res, (int)sizeof res, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
            got++;
            done++;
            int w = st.MPI_SOURCE - 1;
            if (w < 0 || w >= workers || res.slot >= window) {
                fprintf(stderr, "manager_cost: raw farm: stray result from rank %d\n",
                        st.MPI_SOURCE);
                MPI_Abort(MPI_COMM_WORLD, 1);
            }
            size_t i = (size_t)w * (size_t)window + res.slot;
            MPI_Wait(&reqs[i], MPI_STATUS_IGNORE); /* the worker has the call */
            if (sent < n) {
                calls[i].item = sent++;
                MPI_Isend(&calls[i], (int)sizeof calls[i], MPI_BYTE, w + 1, RAW_TAG_CALL,
                          MPI_COMM_WORLD, &reqs[i]);
            }
        }
        if (got)
            idle = 0;
        else
            raw_backoff(++idle);
    }
    double cpu = thread_cpu_s() - c0, wall = now_s() - t0;
    free(calls);
    free(reqs);
    out->cpu_us = n ? cpu / (double)n * 1e6 : 0;
    out->rate = wall > 0 ? (double)n / wall : 0;
    return 0;
}

/* Rank 0: release every worker rank from raw_worker. */
static void raw_end(int world)
{
    raw_call c;
    memset(&c, 0, sizeof c);
    c.type = RAW_END;
    for (int r = 1; r < world; r++)
        MPI_Send(&c, (int)sizeof c, MPI_BYTE, r, RAW_TAG_CALL, MPI_COMM_WORLD);
}

/* ---------------------------------------------------------------- hpool */
typedef struct {
    int workers;
    double first_s, startup_s, final_sync_s, sync_cpu_s, rate, cpu_us;
    unsigned long long chunks;
} hpool_figure;

static int measure(int workers, long per_worker, int prefetch, hpool_figure *out)
{
    hpool_executor_options eo = {.max_workers = workers, .prefetch = prefetch};
    hpool_executor *ex;
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
    *out = (hpool_figure){
        .workers = workers,
        .first_s = first,
        .startup_s = st.startup_s,
        .final_sync_s = st.final_sync_s,
        .sync_cpu_s = st.sync_cpu_s,
        .rate = map_s > 0 ? (double)n / map_s : 0,
        .cpu_us = st.chunks ? cpu / (double)st.chunks * 1e6 : 0,
        .chunks = (unsigned long long)st.chunks,
    };
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

/* This process's rank as the launcher announced it, or -1 (as hpool_init reads it). */
static int launcher_rank(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return atoi(v);
    }
    return -1;
}

enum { MAX_COUNTS = 32 };

typedef struct {
    long per_worker;
    int raw_window;
    int prefetch;
    int counts[MAX_COUNTS];
    int n_counts;
} options;

static int parse(int argc, char **argv, int max, options *o)
{
    *o = (options){.per_worker = 200, .raw_window = 2};
    int i = 1;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--raw-window") == 0)
            o->raw_window = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--prefetch") == 0)
            o->prefetch = atoi(argv[i + 1]);
        else
            break;
    }
    if (i < argc && strncmp(argv[i], "--", 2) == 0) {
        fprintf(stderr, "manager_cost: unknown option or missing value: %s\n", argv[i]);
        return 1;
    }
    if (o->raw_window < 1 || o->raw_window > UINT16_MAX || o->prefetch < 0 ||
        o->prefetch > HPOOL__WINDOW_MAX) {
        fprintf(stderr, "manager_cost: --raw-window 1..65535, --prefetch 0..%d\n",
                HPOOL__WINDOW_MAX);
        return 1;
    }
    if (i < argc)
        o->per_worker = atol(argv[i++]);
    const int defaults[] = {2, 16, 64, 128};
    if (i == argc)
        for (int k = 0; k < 4; k++)
            if (defaults[k] <= max)
                o->counts[o->n_counts++] = defaults[k];
    for (; i < argc && o->n_counts < MAX_COUNTS; i++) {
        int w = atoi(argv[i]);
        if (w >= 1 && w <= max)
            o->counts[o->n_counts++] = w;
    }
    if (o->per_worker < 1 || o->n_counts == 0) {
        fprintf(stderr, "manager_cost: no worker count to measure (at most %d)\n", max);
        return 1;
    }
    return 0;
}

/* Rank 0's part of one farm run over the worker counts; ends the workers' part. */
static int raw_pass(const options *o, int world, bool warm_up, raw_figure *fig)
{
    int rc = 0;
    raw_figure wf;
    if (warm_up)
        rc = raw_farm(2 < world - 1 ? 2 : world - 1, o->per_worker, o->raw_window, &wf);
    for (int i = 0; i < o->n_counts && rc == 0; i++)
        rc = raw_farm(o->counts[i], o->per_worker, o->raw_window, &fig[i]);
    raw_end(world);
    if (rc == 0 && warm_up)
        printf("# raw farm warm-up (%d workers): %.2f us CPU a chunk\n",
               2 < world - 1 ? 2 : world - 1, wf.cpu_us);
    return rc;
}

int main(int argc, char **argv)
{
    hpool_register_task("noop", noop);
    /* MPI first, at the levels hpool_init would ask for, so that the raw farm can use the
     * worker ranks before hpool takes them; hpool_init then finds MPI initialised and
     * hpool_finalize leaves it to the farm's second run. */
    int provided = 0, world = 0, rank = 0;
    if (MPI_Init_thread(&argc, &argv,
                        launcher_rank() > 0 ? MPI_THREAD_FUNNELED : MPI_THREAD_MULTIPLE,
                        &provided) != MPI_SUCCESS) {
        fprintf(stderr, "manager_cost: MPI_Init_thread failed\n");
        return 1;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    options o;
    int bad = rank == 0 && (world < 2 || parse(argc, argv, world - 1, &o) != 0);
    MPI_Bcast(&bad, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (bad) {
        if (rank == 0 && world < 2)
            fprintf(stderr, "manager_cost: needs at least 2 ranks\n");
        MPI_Finalize();
        return 1;
    }
    raw_figure raw_before[MAX_COUNTS], raw_after[MAX_COUNTS];
    hpool_figure hp[MAX_COUNTS];
    int rc = 0, fds = -1;
    if (rank == 0) {
        char hw[32] = "adaptive (prefetch 0)";
        if (o.prefetch)
            snprintf(hw, sizeof hw, "%d", o.prefetch);
        printf("# manager_cost: %ld empty tasks per worker, chunksize 1, %d worker ranks; "
               "hpool window %s, raw farm window %d\n",
               o.per_worker, world - 1, hw, o.raw_window);
        rc = raw_pass(&o, world, true, raw_before);
    }
    else
        raw_worker();

    int role = hpool_init(&argc, &argv, NULL);
    if (role < 0) {
        fprintf(stderr, "manager_cost: %s\n", hpool_last_error());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (role == HPOOL_MANAGER) {
        /* The job's first executor also pays for 1+W processes settling after start-up
         * on shared cores: measured, but kept out of the comparison. */
        hpool_figure wf;
        rc = rc ? rc : measure(2 < world - 1 ? 2 : world - 1, o.per_worker, o.prefetch, &wf);
        if (rc == 0)
            printf("# warm-up (the job's first executor, %d workers): first result %.2f ms, "
                   "start-up %.2f ms, %.2f us CPU a chunk\n",
                   wf.workers, wf.first_s * 1e3, wf.startup_s * 1e3, wf.cpu_us);
        for (int i = 0; i < o.n_counts && rc == 0; i++)
            rc = measure(o.counts[i], o.per_worker, o.prefetch, &hp[i]);
        fds = open_fds(); /* hpool's communicator still open */
    }
    if (hpool_finalize() != 0) {
        fprintf(stderr, "manager_cost: %s\n", hpool_last_error());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (rank == 0) {
        /* A failed hpool run still releases the workers from the second farm run. */
        if (rc == 0)
            rc = raw_pass(&o, world, false, raw_after);
        else
            raw_end(world);
    } else {
        raw_worker();
    }

    if (rank == 0 && rc == 0) {
        printf("# workers first_res_ms startup_ms final_sync_ms   chunks    chunks/s "
               "cpu_us/chunk sync_cpu_ms vs_first raw_us/chunk raw_vs_first hpool/raw\n");
        double raw[MAX_COUNTS];
        for (int i = 0; i < o.n_counts; i++)
            raw[i] = (raw_before[i].cpu_us + raw_after[i].cpu_us) / 2;
        for (int i = 0; i < o.n_counts; i++) {
            const hpool_figure *h = &hp[i];
            printf("%9d %12.2f %10.2f %13.2f %8llu %11.0f %12.2f %11.2f %8.2f %12.2f %12.2f "
                   "%9.2f\n",
                   h->workers, h->first_s * 1e3, h->startup_s * 1e3, h->final_sync_s * 1e3,
                   h->chunks, h->rate, h->cpu_us, h->sync_cpu_s * 1e3,
                   hp[0].cpu_us > 0 ? h->cpu_us / hp[0].cpu_us : 0, raw[i],
                   raw[0] > 0 ? raw[i] / raw[0] : 0, raw[i] > 0 ? h->cpu_us / raw[i] : 0);
        }
        printf("# raw farm runs (us CPU a chunk, chunks/s): before hpool_init | after "
               "hpool_finalize\n");
        for (int i = 0; i < o.n_counts; i++)
            printf("# raw %4d workers: %6.2f us %9.0f/s | %6.2f us %9.0f/s\n", o.counts[i],
                   raw_before[i].cpu_us, raw_before[i].rate, raw_after[i].cpu_us,
                   raw_after[i].rate);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("# rank 0 after the runs: %d open file descriptors, max RSS %.1f MiB\n",
               fds, (double)ru.ru_maxrss / 1024.0);
        fflush(stdout);
    }
    MPI_Finalize();
    return rc;
}
