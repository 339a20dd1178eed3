/* dispatch_rate: how many tiny tasks per second hpool moves, against a raw MPI farm on
 * the same machine and launcher, in one run (issues 7 and 14).
 *
 *   dispatch_rate [--reps R] [--items N] [--items256 M] [--workers W] [--tcp-divisor D]
 *                 [--python N]
 *
 * Run directly, not under mpirun: it launches the MPI jobs itself (posix_spawn of
 * $MPIEXEC, default mpirun, with $MPIEXEC_PREFLAGS), alternately a raw farm job and an
 * hpool job, once over the launcher's default transport ("shm") and once with
 * $HPOOL_MPI_TCP_FLAGS ("tcp", with N/D and M/D items, default D = 10, since TCP is
 * that much slower per item; skipped with a note when unset), R times (default 3), and
 * prints for each row the median over the R runs and the ratio hpool/raw of the
 * medians. Each job has W+1 ranks (default W = 2) and measures 1..W workers.
 *
 * Rows, every task an "echo" of an 8-byte item into an 8-byte result:
 *   map, chunksize 1 and 256: hpool_map over N (resp. M) items;
 *   futures, chunksize 1: hpool_submit of N items, then every result in order;
 *   futures-first (1 worker only): the same, as the process's first futures, which map
 *   their slabs (fresh memory) on the way; every other futures row reuses them.
 * The raw farm is what a hand-written MPI program does: rank 0 sends a call of
 * chunksize words and receives a result of chunksize words, with a window of calls in
 * flight per worker; every window of a small list is tried and the best one is the
 * baseline (its window is printed). Futures are compared with the raw farm at
 * chunksize 1, the farm having no other form.
 *
 * --python N also runs Python's ProcessPoolExecutor.map (chunksize 1) on N items through
 * bench/peers/ppe.py with 1..W workers and prints hpool's ratio to it.
 *
 * Internally the jobs run this program as `dispatch_rate --child raw|hpool N M`; each
 * prints lines "row API CHUNKSIZE WORKERS ITEMS SECONDS WINDOW" that the driver reads
 * from a pipe. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <mpi.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "history.h" /* hpool_bench_remove_tree */
#include "hpool.h"

#ifndef HPOOL_SOURCE_DIR
#define HPOOL_SOURCE_DIR "."
#endif

extern char **environ;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Sum of 0..n-1: every run checks that the results it got back are the items it sent. */
static uint64_t index_sum(uint64_t n)
{
    return n == 0 ? 0 : n * (n - 1) / 2;
}

/* ================================================================ hpool job */
static int echo_task(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    return hpool_task_return(ctx, arg, len);
}

static uint64_t result_word(const void *res, size_t len)
{
    uint64_t v = 0;
    if (len == sizeof v)
        memcpy(&v, res, sizeof v);
    return v;
}

/* Seconds for n items through hpool_map, or -1 when a result is missing or wrong. */
static double hpool_map_run(hpool_executor *ex, const uint64_t *items, uint64_t n, size_t cs)
{
    hpool_map_options mo = {.chunksize = cs};
    hpool_map_iter *m;
    double t0 = now_s();
    if (hpool_map(ex, "echo", items, sizeof *items, n, &mo, &m) != 0)
        return -1;
    const void *res;
    size_t len;
    uint64_t idx, got = 0, sum = 0;
    while (hpool_map_next(m, &res, &len, &idx) == 1) {
        got++;
        sum += result_word(res, len);
    }
    double dt = now_s() - t0;
    hpool_map_close(m);
    return got == n && sum == index_sum(n) ? dt : -1;
}

/* Seconds for n hpool_submit calls and then every result in order, or -1. */
static double hpool_futures_run(hpool_executor *ex, hpool_future **fs, uint64_t n)
{
    double t0 = now_s();
    for (uint64_t i = 0; i < n; i++)
        if (hpool_submit(ex, "echo", &i, sizeof i, &fs[i]) != 0)
            return -1;
    uint64_t ok = 0, sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        const void *res = NULL;
        size_t len = 0;
        if (hpool_future_result(fs[i], HPOOL_FOREVER, &res, &len) == 0) {
            ok++;
            sum += result_word(res, len);
        }
        hpool_future_release(fs[i]);
    }
    double dt = now_s() - t0;
    return ok == n && sum == index_sum(n) ? dt : -1;
}

static void print_row(const char *api, size_t cs, int workers, uint64_t n, double s, int window)
{
    printf("row %s %zu %d %llu %.6f %d\n", api, cs, workers, (unsigned long long)n, s, window);
}

static int hpool_job_manager(uint64_t n1, uint64_t n256)
{
    uint64_t most = n1 > n256 ? n1 : n256;
    uint64_t *items = malloc(most * sizeof *items);
    hpool_future **fs = malloc(n1 * sizeof *fs);
    if (items == NULL || fs == NULL)
        return 1;
    for (uint64_t i = 0; i < most; i++)
        items[i] = i;
    int rc = 0;
    for (int w = 1; w < hpool_world_size() && rc == 0; w++) {
        hpool_executor_options eo = {.max_workers = w};
        hpool_executor *ex;
        if (hpool_executor_create(&ex, &eo) != 0) {
            fprintf(stderr, "dispatch_rate: %s\n", hpool_last_error());
            rc = 1;
            break;
        }
        /* The process's first futures, on fresh memory: the futures' slabs are mapped
         * here and kept until hpool_finalize, so every later futures row reuses them. */
        double fut_first = w == 1 ? hpool_futures_run(ex, fs, n1) : 0;
        /* Warm-up: page in the buffers and let the adaptive window settle. */
        hpool_map_run(ex, items, n1 / 4 + 1, 1);
        double map1 = hpool_map_run(ex, items, n1, 1);
        double map256 = hpool_map_run(ex, items, n256, 256);
        double fut = hpool_futures_run(ex, fs, n1);
        hpool_executor_destroy(ex);
        if (map1 < 0 || map256 < 0 || fut < 0 || fut_first < 0) {
            fprintf(stderr, "dispatch_rate: hpool run with %d worker(s) lost or changed results\n",
                    w);
            rc = 1;
        }
        print_row("map", 1, w, n1, map1, 0);
        print_row("map", 256, w, n256, map256, 0);
        print_row("futures", 1, w, n1, fut, 0);
        if (w == 1)
            print_row("futures-first", 1, w, n1, fut_first, 0);
    }
    fflush(stdout);
    free(items);
    free(fs);
    return rc;
}

static int hpool_job(int argc, char **argv, uint64_t n1, uint64_t n256)
{
    hpool_register_task("echo", echo_task);
    /* Rank 0 of this job calls MPI only through hpool, whose progress is serialized
     * (one thread at a time holds the progress token): SERIALIZED spares it the locking
     * that MULTIPLE costs in every MPI call, as the raw farm (MPI_Init) has none. */
    hpool_init_options io = {.mpi_thread_level = MPI_THREAD_SERIALIZED};
    int role = hpool_init(&argc, &argv, &io);
    if (role < 0) {
        fprintf(stderr, "dispatch_rate: %s\n", hpool_last_error());
        return 1;
    }
    int rc = role == HPOOL_MANAGER ? hpool_job_manager(n1, n256) : 0;
    return hpool_finalize() == 0 ? rc : 1;
}

/* ================================================================ raw MPI farm job */
enum { TAG_CMD = 1, TAG_CALL, TAG_RESULT, TAG_END };

/* An idle raw worker polls for its next command with short sleeps, so that a rank not
 * used by the current measurement leaves the cores to those that are. */
static long raw_wait_command(void)
{
    for (;;) {
        int flag = 0;
        MPI_Iprobe(0, TAG_CMD, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
        if (flag)
            break;
        struct timespec ts = {0, 50000};
        nanosleep(&ts, NULL);
    }
    long cs = 0;
    MPI_Recv(&cs, 1, MPI_LONG, 0, TAG_CMD, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    return cs;
}

/* The worker side: echo every call of cs words until the END message. */
static void raw_worker(void)
{
    uint64_t *buf = NULL;
    for (long cs; (cs = raw_wait_command()) > 0;) {
        buf = realloc(buf, (size_t)cs * sizeof *buf);
        for (;;) {
            MPI_Status st;
            MPI_Recv(buf, (int)cs, MPI_UINT64_T, 0, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
            if (st.MPI_TAG == TAG_END)
                break;
            MPI_Send(buf, (int)cs, MPI_UINT64_T, 0, TAG_RESULT, MPI_COMM_WORLD);
        }
    }
    free(buf);
}

/* Seconds for n items (a multiple of cs) through `workers` workers with `window` calls
 * of cs words in flight per worker, or -1 when the results are not the items. */
static double raw_farm(int workers, long cs, int window, uint64_t n, uint64_t *buf)
{
    for (int r = 1; r <= workers; r++)
        MPI_Send(&cs, 1, MPI_LONG, r, TAG_CMD, MPI_COMM_WORLD);
    uint64_t chunks = n / (uint64_t)cs, sent = 0, got = 0, sum = 0;
    double t0 = now_s();
    for (int k = 0; k < window; k++)
        for (int r = 1; r <= workers && sent < chunks; r++, sent++) {
            for (long i = 0; i < cs; i++)
                buf[i] = sent * (uint64_t)cs + (uint64_t)i;
            MPI_Send(buf, (int)cs, MPI_UINT64_T, r, TAG_CALL, MPI_COMM_WORLD);
        }
    while (got < chunks) {
        MPI_Status st;
        MPI_Recv(buf, (int)cs, MPI_UINT64_T, MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &st);
        got++;
        for (long i = 0; i < cs; i++)
            sum += buf[i];
        if (sent < chunks) {
            for (long i = 0; i < cs; i++)
                buf[i] = sent * (uint64_t)cs + (uint64_t)i;
            MPI_Send(buf, (int)cs, MPI_UINT64_T, st.MPI_SOURCE, TAG_CALL, MPI_COMM_WORLD);
            sent++;
        }
    }
    double dt = now_s() - t0;
    for (int r = 1; r <= workers; r++)
        MPI_Send(buf, 0, MPI_UINT64_T, r, TAG_END, MPI_COMM_WORLD);
    return sum == index_sum(chunks * (uint64_t)cs) ? dt : -1;
}

static int raw_job_manager(int size, uint64_t n1, uint64_t n256)
{
    static const int windows1[] = {1, 2, 4, 8, 16, 32, 64, 128};
    static const int windows256[] = {1, 2, 4, 8, 16};
    uint64_t *buf = malloc(256 * sizeof *buf);
    int rc = buf ? 0 : 1;
    for (int w = 1; w < size && rc == 0; w++)
        for (int pass = 0; pass < 2; pass++) {
            long cs = pass == 0 ? 1 : 256;
            uint64_t n = pass == 0 ? n1 : n256 / 256 * 256;
            const int *wins = pass == 0 ? windows1 : windows256;
            size_t n_wins = pass == 0 ? sizeof windows1 / sizeof *windows1
                                      : sizeof windows256 / sizeof *windows256;
            raw_farm(w, cs, 4, n / 4 + cs, buf); /* warm-up */
            double best = -1;
            int best_window = 0;
            for (size_t k = 0; k < n_wins; k++) {
                double t = raw_farm(w, cs, wins[k], n, buf);
                if (t < 0)
                    rc = 1;
                else if (best < 0 || t < best) {
                    best = t;
                    best_window = wins[k];
                }
            }
            print_row("raw", (size_t)cs, w, n, best, best_window);
        }
    long stop = 0;
    for (int r = 1; r < size; r++)
        MPI_Send(&stop, 1, MPI_LONG, r, TAG_CMD, MPI_COMM_WORLD);
    fflush(stdout);
    free(buf);
    return rc;
}

static int raw_job(int argc, char **argv, uint64_t n1, uint64_t n256)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int rc = 0;
    if (rank == 0)
        rc = raw_job_manager(size, n1, n256);
    else
        raw_worker();
    MPI_Finalize();
    return rc;
}

/* ================================================================ driver */
typedef struct {
    char api[32];
    size_t cs;
    int workers;
    uint64_t items;
    double seconds;
    int window;
} row;

typedef struct {
    row *v;
    size_t n, cap;
} rows;

static int rows_add(rows *r, const row *x)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 32;
        row *v = realloc(r->v, cap * sizeof *v);
        if (v == NULL)
            return -1;
        r->v = v;
        r->cap = cap;
    }
    r->v[r->n++] = *x;
    return 0;
}

/* Split a flag string on blanks into argv (a launcher's flags carry no quoting). */
static int split_words(const char *s, char **out, int max, char *store, size_t store_len)
{
    int n = 0;
    if (s == NULL)
        return 0;
    snprintf(store, store_len, "%s", s);
    for (char *save, *tok = strtok_r(store, " \t", &save); tok && n < max;
         tok = strtok_r(NULL, " \t", &save))
        out[n++] = tok;
    return n;
}

/* Run argv with stdout to a pipe; every "row" line it prints is added to `into` under
 * its transport. Returns the exit status, or -1 when it could not be started. */
static int spawn_and_read(char **argv, rows *into, const char *transport)
{
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fd[0]);
    posix_spawn_file_actions_addclose(&fa, fd[1]);
    pid_t pid;
    int err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fd[1]);
    if (err != 0) {
        close(fd[0]);
        fprintf(stderr, "dispatch_rate: cannot start %s: %s\n", argv[0], strerror(err));
        return -1;
    }
    FILE *f = fdopen(fd[0], "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        row x = {0};
        unsigned long long items;
        if (sscanf(line, "row %23s %zu %d %llu %lf %d", x.api, &x.cs, &x.workers, &items,
                   &x.seconds, &x.window) == 6) {
            x.items = items;
            snprintf(x.api + strlen(x.api), sizeof x.api - strlen(x.api), "@%s", transport);
            if (rows_add(into, &x) != 0)
                break;
        } else {
            fputs(line, stderr); /* whatever else the job printed */
        }
    }
    if (f)
        fclose(f);
    else
        close(fd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

typedef struct {
    const char *launcher;
    char *pre[32];
    int n_pre;
    char *tcp[32];
    int n_tcp;
    char pre_store[1024], tcp_store[1024];
    char self[PATH_MAX];
    int workers;
    uint64_t n1, n256, tcp_div;
} launch;

static int run_job(const launch *l, const char *kind, bool tcp, rows *into)
{
    char np[16], n1[32], n256[32];
    snprintf(np, sizeof np, "%d", l->workers + 1);
    /* TCP moves items ~30x slower: fewer items keep its runs as long as shm's. */
    uint64_t div = tcp ? l->tcp_div : 1;
    snprintf(n1, sizeof n1, "%llu", (unsigned long long)(l->n1 / div > 0 ? l->n1 / div : 1));
    snprintf(n256, sizeof n256, "%llu",
             (unsigned long long)(l->n256 / div >= 256 ? l->n256 / div : 256));
    char *argv[80];
    int a = 0;
    argv[a++] = (char *)l->launcher;
    argv[a++] = "-n";
    argv[a++] = np;
    for (int i = 0; i < l->n_pre; i++)
        argv[a++] = l->pre[i];
    for (int i = 0; tcp && i < l->n_tcp; i++)
        argv[a++] = l->tcp[i];
    argv[a++] = (char *)l->self;
    argv[a++] = "--child";
    argv[a++] = (char *)kind;
    argv[a++] = n1;
    argv[a++] = n256;
    argv[a] = NULL;
    int rc = spawn_and_read(argv, into, tcp ? "tcp" : "shm");
    if (rc != 0)
        fprintf(stderr, "dispatch_rate: %s job over %s exited with status %d\n", kind,
                tcp ? "tcp" : "shm", rc);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median items/s over the runs of one row (and the window of the median run), or 0. */
static double median_rate(const rows *r, const char *api, size_t cs, int workers, int *window)
{
    double rates[64];
    int wins[64];
    size_t n = 0;
    for (size_t i = 0; i < r->n && n < 64; i++) {
        const row *x = &r->v[i];
        if (strcmp(x->api, api) == 0 && x->cs == cs && x->workers == workers && x->seconds > 0) {
            rates[n] = (double)x->items / x->seconds;
            wins[n++] = x->window;
        }
    }
    if (n == 0)
        return 0;
    double sorted[64];
    memcpy(sorted, rates, n * sizeof *rates);
    qsort(sorted, n, sizeof *sorted, cmp_double);
    double med = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    if (window) {
        /* The window of the run nearest the median. */
        size_t best = 0;
        for (size_t i = 1; i < n; i++)
            if (fabs(rates[i] - med) < fabs(rates[best] - med))
                best = i;
        *window = wins[best];
    }
    return med;
}

/* ---------------------------------------------------------------- Python's pool */
/* Best wall time of Python's executor.map(chunksize=1) over n empty items, or -1. */
static double run_python(uint64_t n, int workers, int reps)
{
    char dir[] = "/tmp/hpool-rate-XXXXXX";
    if (mkdtemp(dir) == NULL)
        return -1;
    char out[PATH_MAX], script[PATH_MAX], tasks[32], nw[16], nr[16];
    snprintf(out, sizeof out, "%s/runs.tsv", dir);
    snprintf(script, sizeof script, "%s/bench/peers/ppe.py", HPOOL_SOURCE_DIR);
    snprintf(tasks, sizeof tasks, "%llu", (unsigned long long)n);
    snprintf(nw, sizeof nw, "%d", workers);
    snprintf(nr, sizeof nr, "%d", reps);
    char *argv[] = {"python3", script, "--out", out, "--experiment", "rate", "--workload",
                    "empty", "--tasks", tasks, "--api", "map", "--chunksize", "1",
                    "--workers", nw, "--repeat", nr, "--warmup", "0", "--no-serial", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    int status = -1;
    if (err == 0)
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    double best = -1;
    FILE *f = err == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? fopen(out, "r") : NULL;
    char line[4096];
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
    if (hpool_bench_remove_tree(dir) != 0)
        fprintf(stderr, "dispatch_rate: could not remove %s\n", dir);
    return best;
}

/* ---------------------------------------------------------------- table */
static void print_table(const rows *r, int workers, bool have_tcp, int reps)
{
    printf("dispatch rate: hpool against a raw MPI farm, echo of 8-byte items, median of %d "
           "run(s), the two alternating\n",
           reps);
    printf("%-9s %7s %-13s %9s %14s %14s %6s %8s\n", "transport", "workers", "api", "chunksize",
           "hpool_items/s", "raw_items/s", "raw_W", "hpool/raw");
    static const struct {
        const char *api;
        size_t cs;
    } kinds[] = {{"map", 1}, {"futures", 1}, {"futures-first", 1}, {"map", 256}};
    for (int t = 0; t < (have_tcp ? 2 : 1); t++) {
        const char *tr = t ? "tcp" : "shm";
        for (int w = 1; w <= workers; w++)
            for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
                char hname[32], rname[32];
                snprintf(hname, sizeof hname, "%s@%s", kinds[k].api, tr);
                snprintf(rname, sizeof rname, "raw@%s", tr);
                int win = 0;
                double h = median_rate(r, hname, kinds[k].cs, w, NULL);
                double raw = median_rate(r, rname, kinds[k].cs, w, &win);
                if (h == 0 && strcmp(kinds[k].api, "futures-first") == 0)
                    continue; /* measured with the first worker count only */
                printf("%-9s %7d %-13s %9zu %14.0f %14.0f %6d %8.3f\n", tr, w, kinds[k].api,
                       kinds[k].cs, h, raw, win, raw > 0 ? h / raw : 0.0);
            }
    }
    if (!have_tcp)
        printf("tcp: skipped (HPOOL_MPI_TCP_FLAGS is not set)\n");
    printf("futures-first: the process's first futures, whose slabs are fresh memory (a "
           "page's first touch); later rows reuse them\n");
}

static void usage(void)
{
    fprintf(stderr,
            "usage: dispatch_rate [--reps R] [--items N] [--items256 M] [--workers W] "
            "[--tcp-divisor D] [--python N]\n"
            "  (launches $MPIEXEC $MPIEXEC_PREFLAGS, and $HPOOL_MPI_TCP_FLAGS for tcp)\n");
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || end == s || v == 0)
        return -1;
    *out = v;
    return 0;
}

static int driver(int argc, char **argv)
{
    static launch l;
    uint64_t reps = 3, workers = 2, py = 0;
    l.n1 = 200000;
    l.n256 = 4000000;
    l.tcp_div = 10;
    for (int i = 1; i < argc; i++) {
        uint64_t *dst = NULL;
        if (strcmp(argv[i], "--reps") == 0)
            dst = &reps;
        else if (strcmp(argv[i], "--items") == 0)
            dst = &l.n1;
        else if (strcmp(argv[i], "--items256") == 0)
            dst = &l.n256;
        else if (strcmp(argv[i], "--workers") == 0)
            dst = &workers;
        else if (strcmp(argv[i], "--python") == 0)
            dst = &py;
        else if (strcmp(argv[i], "--tcp-divisor") == 0)
            dst = &l.tcp_div;
        if (dst == NULL || i + 1 >= argc || parse_u64(argv[++i], dst) != 0 || reps > 64 ||
            workers > 64) {
            fprintf(stderr, "dispatch_rate: bad argument '%s'\n", argv[i]);
            usage();
            return 2;
        }
    }
    if (l.n256 < 256) {
        fprintf(stderr, "dispatch_rate: --items256 must be at least 256\n");
        return 2;
    }
    l.workers = (int)workers;
    ssize_t sl = readlink("/proc/self/exe", l.self, sizeof l.self - 1);
    if (sl <= 0) {
        fprintf(stderr, "dispatch_rate: cannot find my own path\n");
        return 1;
    }
    l.self[sl] = '\0';
    l.launcher = getenv("MPIEXEC") && *getenv("MPIEXEC") ? getenv("MPIEXEC") : "mpirun";
    l.n_pre = split_words(getenv("MPIEXEC_PREFLAGS"), l.pre, 32, l.pre_store, sizeof l.pre_store);
    l.n_tcp = split_words(getenv("HPOOL_MPI_TCP_FLAGS"), l.tcp, 32, l.tcp_store,
                          sizeof l.tcp_store);
    bool have_tcp = l.n_tcp > 0;
    rows r = {0};
    int rc = 0;
    for (uint64_t k = 0; k < reps && rc == 0; k++)
        for (int t = 0; t < (have_tcp ? 2 : 1) && rc == 0; t++) {
            rc = run_job(&l, "raw", t == 1, &r);
            if (rc == 0)
                rc = run_job(&l, "hpool", t == 1, &r);
        }
    if (rc == 0)
        print_table(&r, l.workers, have_tcp, (int)reps);
    for (int w = 1; py > 0 && rc == 0 && w <= l.workers; w++) {
        double t = run_python(py, w, (int)reps);
        double h = median_rate(&r, "map@shm", 1, w, NULL);
        if (t > 0)
            printf("python ProcessPoolExecutor.map cs=1, %d worker(s): %.0f items/s; hpool map "
                   "cs=1 / python: %.1fx\n",
                   w, (double)py / t, h / ((double)py / t));
        else
            printf("python ProcessPoolExecutor.map: did not run\n");
    }
    free(r.v);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && strcmp(argv[1], "--child") == 0) {
        uint64_t n1, n256;
        if (parse_u64(argv[3], &n1) != 0 || parse_u64(argv[4], &n256) != 0)
            return 2;
        if (strcmp(argv[2], "raw") == 0)
            return raw_job(argc, argv, n1, n256);
        if (strcmp(argv[2], "hpool") == 0)
            return hpool_job(argc, argv, n1, n256);
        return 2;
    }
    return driver(argc, argv);
}
