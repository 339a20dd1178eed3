/* The seed's "Multiprocessing and multithreading" example on hpool.
 *
 * Python: ProcessPoolExecutor.map(task, URLS) where each task opens a ThreadPoolExecutor
 * over its five URLs (I/O-bound), adds what each download produced to a shared counter,
 * then runs a CPU-bound loop sized by that counter.
 *
 * Here: four tasks, each with five inner items. An inner item's "download" is a wait of
 * 20-60 ms (nanosleep, the I/O latency) that "produces" a number of bytes. The items run on
 * the worker rank's OpenMP team through hpool_task_inner_map (the inner ThreadPoolExecutor),
 * each adds its bytes * 4 to the task's counter, then the task loops over the counter.
 *
 * The counter is shared by the team's threads, so the update must be made safe (the seed's
 * "Thread safety with Locks"): `#pragma omp atomic` by default, or `critical` (a lock, like
 * the seed's threading.Lock), or `unsafe` (plain `counts += x`, which can lose updates;
 * tests/mpi/test_hybrid.c shows it losing them under contention).
 *
 *   mpirun -n 5 examples/seed_hybrid [atomic|critical|unsafe] [threads per rank, 0 = auto]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <omp.h>

#include "hpool.h"

#define INNER 5
#define TASKS 4

enum { MODE_ATOMIC, MODE_CRITICAL, MODE_UNSAFE };

typedef struct {
    char name[24];
    int32_t latency_ms; /* how long the "download" waits */
    int32_t bytes;      /* what it "produces" */
} inner_item;

typedef struct {
    int32_t mode;
    inner_item items[INNER];
} task_arg;

typedef struct {
    double start, finish;
} span;

typedef struct {
    int32_t rank, pid, threads, pad;
    int64_t counts, expected;
    span inner[INNER];
    span cpu;
    double task_s;
    int64_t cpu_sum; /* the CPU step's result, returned so the loop is not optimised away */
} task_result;

typedef struct {
    int mode;
    int rank;
    int64_t counts;
} inner_state;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* "HH:MM:SS: " as the seed's logging format. */
static void stamp(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, n, "%H:%M:%S", &tm);
}

#define LOG(...)                                                                           \
    do {                                                                                   \
        char ts_[16], msg_[256];                                                           \
        stamp(ts_, sizeof ts_);                                                            \
        snprintf(msg_, sizeof msg_, __VA_ARGS__);                                          \
        printf("%s: %s\n", ts_, msg_);                                                     \
        fflush(stdout);                                                                    \
    } while (0)

/* I/O-bound: load_url. Runs on a thread of the rank's team. */
static int load_item(void *user, size_t i, const void *in, void *out)
{
    inner_state *st = user;
    const inner_item *it = in;
    LOG("rank %d PID: %d thread %d ; item: %s", st->rank, (int)getpid(), omp_get_thread_num(),
        it->name);
    span *s = out;
    s->start = now();
    struct timespec wait = {0, (long)it->latency_ms * 1000000L};
    nanosleep(&wait, NULL);
    s->finish = now();
    int64_t add = (int64_t)it->bytes * 4;
    switch (st->mode) {
    case MODE_ATOMIC:
#pragma omp atomic
        st->counts += add;
        break;
    case MODE_CRITICAL:
#pragma omp critical(seed_counts)
        st->counts += add;
        break;
    default:
        st->counts += add; /* unsafe: a race between the team's threads */
    }
    (void)i; /* the item's index; its record is `in` */
    return 0;
}

/* CPU-bound: cpu_bound_task. */
static int64_t cpu_bound(int64_t counts, span *s)
{
    s->start = now();
    volatile int64_t count = 0; /* volatile: keep the loop, as Python's would be */
    for (int64_t i = 0; i < counts; i++)
        count += i;
    s->finish = now();
    return count;
}

static int task(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    if (len != sizeof(task_arg))
        return hpool_task_fail(ctx, "bad argument size %zu", len);
    task_result r;
    memset(&r, 0, sizeof r);
    r.rank = hpool_task_rank(ctx);
    r.pid = (int)getpid();
    r.threads = hpool_task_threads(ctx);
    const task_arg *a = arg;
    LOG("Loading inner items... rank %d PID: %d (%d threads)", r.rank, r.pid, r.threads);
    double t0 = now();
    inner_state st = {.mode = a->mode, .rank = r.rank, .counts = 0};
    int rc = hpool_task_inner_map(ctx, load_item, &st, a->items, sizeof a->items[0], r.inner,
                                  sizeof r.inner[0], INNER, "load");
    if (rc != 0)
        return hpool_task_fail(ctx, "inner map failed: %d", rc);
    LOG("Inner items loaded! rank %d PID: %d", r.rank, r.pid);
    r.counts = st.counts;
    for (int i = 0; i < INNER; i++)
        r.expected += (int64_t)a->items[i].bytes * 4;
    LOG("rank %d PID: %d ; counts: %lld", r.rank, r.pid, (long long)r.counts);
    r.cpu_sum = cpu_bound(r.counts, &r.cpu);
    r.task_s = now() - t0;
    LOG("rank %d PID: %d time - %.4f", r.rank, r.pid, r.task_s);
    return hpool_task_return(ctx, &r, sizeof r);
}

/* The seed's URLS, as names with a latency and a page size. */
static const char *const NAMES[TASKS][INNER] = {
    {"Emu", "Wombat", "Kangaroo", "Platypus", "Koala"},
    {"Tasmanian_devil", "Echidna", "Dingo", "Kookaburra", "Wallaby"},
    {"Macrotis", "Quokka", "Cassowary", "Sugar_glider", "Laughing_kookaburra"},
    {"Rainbow_lorikeet", "Coastal_taipan", "Mistletoebird", "Thylacine", "Quoll"},
};

int main(int argc, char **argv)
{
    hpool_register_task("task", task);
    int role = hpool_init(&argc, &argv, NULL);
    if (role < 0) {
        fprintf(stderr, "hpool_init: %s\n", hpool_last_error());
        return 1;
    }
    if (role == HPOOL_WORKER)
        return hpool_finalize() == 0 ? 0 : 1;

    int mode = MODE_ATOMIC;
    if (argc > 1 && strcmp(argv[1], "critical") == 0)
        mode = MODE_CRITICAL;
    else if (argc > 1 && strcmp(argv[1], "unsafe") == 0)
        mode = MODE_UNSAFE;
    /* The seed gives each task a ThreadPoolExecutor of len(urls) threads: the waits need
     * no cores, so more threads than cores is right for this I/O-bound part. */
    int threads = argc > 2 ? atoi(argv[2]) : INNER;

    task_arg args[TASKS];
    memset(args, 0, sizeof args);
    unsigned seed = 12345;
    for (int k = 0; k < TASKS; k++) {
        args[k].mode = mode;
        for (int i = 0; i < INNER; i++) {
            inner_item *it = &args[k].items[i];
            snprintf(it->name, sizeof it->name, "%s", NAMES[k][i]);
            seed = seed * 1103515245u + 12345u;
            it->latency_ms = 20 + (int)(seed >> 16) % 41;        /* 20..60 ms */
            it->bytes = 150000 + (int)((seed >> 8) % 250000u);   /* page sizes */
        }
    }

    LOG("Init parallel program");
    double start = now();
    int workers = hpool_world_size() - 1;
    hpool_executor_options o = {
        .max_workers = workers < TASKS ? workers : TASKS,
        .threads_per_worker = threads,
    };
    hpool_executor *ex;
    if (hpool_executor_create(&ex, &o) != 0) {
        fprintf(stderr, "executor: %s\n", hpool_last_error());
        hpool_finalize();
        return 1;
    }
    const hpool_placement *rows;
    size_t n;
    if (hpool_executor_placement(ex, &rows, &n) == 0) {
        char table[8192];
        hpool_placement_format(rows, n, table, sizeof table);
        printf("placement:\n%s", table);
    }
    hpool_map_iter *m = NULL;
    int rc = hpool_map(ex, "task", args, sizeof args[0], TASKS, NULL, &m);
    const void *res;
    size_t len;
    uint64_t idx;
    int bad = 0;
    while (rc == 0 && (rc = hpool_map_next(m, &res, &len, &idx)) == 1) {
        rc = 0;
        task_result r;
        memcpy(&r, res, sizeof r);
        printf("task %llu: rank %d PID %d, %d threads, counts %lld%s, task %.4f s, cpu %.4f s\n",
               (unsigned long long)idx, r.rank, r.pid, r.threads, (long long)r.counts,
               r.counts == r.expected ? "" : " (LOST UPDATES)", r.task_s,
               r.cpu.finish - r.cpu.start);
        bad += r.counts != r.expected;
    }
    if (rc < 0)
        fprintf(stderr, "map: %s\n", hpool_last_error());
    if (m)
        hpool_map_close(m);
    hpool_executor_destroy(ex);
    LOG("Total time: %.4f", now() - start);
    if (bad)
        LOG("%d task(s) lost counter updates (mode unsafe)", bad);
    LOG("Finish parallel program");
    hpool_finalize();
    return rc < 0 ? 1 : 0;
}
