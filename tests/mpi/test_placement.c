/* Placement of hybrid ranks: the table has one row per worker thread plus rank 0's
 * manager row, with cpu/core/NUMA numbers that exist in the topology; the binding is on
 * the team threads (tasks see the reported cpu, in a parallel region and in the inner
 * map); oversubscription and cores shared between ranks are flagged exactly when they
 * happen; the table formats. */
#define _GNU_SOURCE /* sched_getcpu */
#include <omp.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#if __has_include(<hwloc.h>)
#include <hwloc.h>
#define HAVE_HWLOC 1
#endif

#include "hpool_test.h"

#define MAX_T 16

typedef struct {
    int32_t rank, threads;
    int32_t cpu_par[MAX_T];   /* sched_getcpu() per thread of a parallel region */
    int32_t cpu_inner[MAX_T]; /* per inner item of hpool_task_inner_map (item t) */
    int32_t thread_inner[MAX_T];
} where_res;

typedef struct {
    int32_t cpu, thread;
} inner_out;

static int inner_where(void *user, size_t item, const void *in, void *out)
{
    (void)user;
    (void)item;
    (void)in;
    /* Long enough that every thread of the team takes part. */
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
    inner_out *o = out;
    o->cpu = sched_getcpu();
    o->thread = omp_get_thread_num();
    return 0;
}

/* The team's output. Written by the task before the region and read by it after, with an
 * atomic handshake on either side: libgomp's fork and join are invisible to
 * ThreadSanitizer, and a captured variable would be copied in before the body could
 * state the order (see src/inner.c). */
static int *team_cpus;
static _Atomic unsigned team_sync;

/* Where do this rank's team threads run, seen from inside a task? */
static int where(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    where_res r;
    memset(&r, 0, sizeof r);
    r.rank = hpool_task_rank(ctx);
    r.threads = hpool_task_threads(ctx);
    if (r.threads > MAX_T)
        return hpool_task_fail(ctx, "too many threads %d", r.threads);
    for (int t = 0; t < MAX_T; t++)
        r.cpu_par[t] = r.cpu_inner[t] = r.thread_inner[t] = -1;
    int threads = r.threads;
    team_cpus = r.cpu_par;
    atomic_fetch_add(&team_sync, 1);
#pragma omp parallel num_threads(threads)
    {
        (void)atomic_load(&team_sync);
        team_cpus[omp_get_thread_num()] = sched_getcpu();
        atomic_fetch_add(&team_sync, 1);
    }
    (void)atomic_load(&team_sync);
    inner_out out[4 * MAX_T];
    size_t n = 4 * (size_t)r.threads;
    int rc = hpool_task_inner_map(ctx, inner_where, NULL, NULL, 0, out, sizeof out[0], n, "w");
    if (rc != 0)
        return hpool_task_fail(ctx, "inner map failed: %d", rc);
    for (size_t i = 0; i < n; i++) {
        int t = out[i].thread;
        if (t < 0 || t >= r.threads)
            return hpool_task_fail(ctx, "inner thread %d out of range", t);
        r.cpu_inner[t] = out[i].cpu;
        r.thread_inner[t] = t;
    }
    return hpool_task_return(ctx, &r, sizeof r);
}

static void register_tasks(void)
{
    hpool_register_task("where", where);
}

static char host0[HPOOL_HOST_MAX];

#ifdef HAVE_HWLOC
static hwloc_topology_t topo;

static void topo_open(void)
{
    CHECK(hwloc_topology_init(&topo) == 0);
    CHECK(hwloc_topology_set_flags(topo, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED) == 0);
    CHECK(hwloc_topology_load(topo) == 0);
}

/* A row of this host names a PU of the topology, its core and its NUMA node. */
static void check_against_topology(const hpool_placement *r)
{
    hwloc_obj_t pu = hwloc_get_pu_obj_by_os_index(topo, (unsigned)r->cpu);
    CHECK(pu != NULL);
    hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_CORE, pu);
    CHECK(core != NULL);
    CHECK(r->core == (int)core->logical_index);
    int numa = -1;
    for (hwloc_obj_t nn = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, NULL); nn;
         nn = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, nn))
        if (hwloc_bitmap_isset(nn->cpuset, (unsigned)r->cpu))
            numa = (int)nn->os_index;
    CHECK(r->numa == numa);
    /* The rank's cpuset as reported contains the thread's PU (hpool binds inside it). */
    if (r->binding == HPOOL_BIND_HPOOL && strstr(r->cpuset, "...") == NULL) {
        hwloc_bitmap_t s = hwloc_bitmap_alloc();
        CHECK(hwloc_bitmap_list_sscanf(s, r->cpuset) == 0);
        CHECK(hwloc_bitmap_isset(s, (unsigned)r->cpu));
        CHECK(hwloc_bitmap_weight(s) == r->cpuset_pus);
        hwloc_bitmap_free(s);
    }
    CHECK(r->host_pus == hwloc_bitmap_weight(hwloc_topology_get_allowed_cpuset(topo)));
}

static int host_cores(void)
{
    return hwloc_get_nbobjs_inside_cpuset_by_type(topo, hwloc_topology_get_allowed_cpuset(topo),
                                                  HWLOC_OBJ_CORE);
}
#else
static void topo_open(void) {}
static void check_against_topology(const hpool_placement *r)
{
    long n = sysconf(_SC_NPROCESSORS_CONF);
    CHECK(r->cpu < n && r->core < n);
}
static int host_cores(void)
{
    return -1;
}
#endif

/* The checks every table must pass. want_threads[r] = threads of worker r (0: any). */
static void check_table(hpool_executor *ex, int workers, int threads_opt)
{
    const hpool_placement *rows;
    size_t n;
    CHECK_OK(hpool_executor_placement(ex, &rows, &n));
    unsigned flags;
    const char *text;
    CHECK_OK(hpool_executor_placement_warnings(ex, &flags, &text));
    CHECK(text != NULL);

    /* The manager row first, then threads 0..T-1 of ranks 1..W in order. */
    CHECK(n >= 1 + (size_t)workers);
    CHECK(rows[0].rank == 0 && rows[0].thread == -1);
    CHECK(strcmp(rows[0].host, host0) == 0);
    const char *env_t = getenv("OMP_NUM_THREADS");
    size_t i = 1;
    bool any_over = false, bound_by_hpool = true;
    for (int rank = 1; rank <= workers; rank++) {
        size_t first = i;
        while (i < n && rows[i].rank == rank) {
            CHECK(rows[i].thread == (int)(i - first));
            i++;
        }
        int t = (int)(i - first);
        int want = threads_opt;
        if (want == 0 && env_t) {
            want = atoi(env_t);
        } else if (want == 0) {
            /* The cpuset when the launcher bound the rank; unbound (the cpuset is the whole
             * host) a fair share among the host's worker ranks (one host here). */
            int local = hpool_world_size() - 1;
            want = rows[first].cpuset_pus;
            if (want == rows[first].host_pus && local > 1)
                want = want / local > 0 ? want / local : 1;
        }
        CHECK(t == want);
        if (t > rows[first].cpuset_pus)
            any_over = true;
    }
    CHECK(i == n); /* nothing else */

    for (i = 0; i < n; i++) {
        const hpool_placement *r = &rows[i];
        CHECK(r->host[0] != '\0' && memchr(r->host, '\0', sizeof r->host) != NULL);
        CHECK(r->cpu >= 0 && r->core >= 0 && r->numa >= -1);
        CHECK(r->cpuset_pus >= 1 && r->cpuset_pus <= r->host_pus);
        if (r->thread >= 0 && r->binding != HPOOL_BIND_HPOOL)
            bound_by_hpool = false;
        if (strcmp(r->host, host0) == 0)
            check_against_topology(r);
    }
    /* With nothing set by the user, hpool binds: it learns the local ranks from MPI, under
     * any launcher. */
    if (!getenv("OMP_PROC_BIND") && !getenv("HPOOL_BIND"))
        CHECK(bound_by_hpool);

    /* Oversubscription, recomputed from the rows: per rank, and per host. */
    for (i = 1; i < n; i++) {
        int on_host = 0;
        for (size_t k = 1; k < n; k++)
            on_host += strcmp(rows[k].host, rows[i].host) == 0;
        if (on_host > rows[i].host_pus)
            any_over = true;
    }
    CHECK(((flags & HPOOL_PLACE_OVERSUBSCRIBED) != 0) == any_over);
    CHECK((strstr(text, "oversubscribed") != NULL) == any_over);

    /* Cores shared between ranks, recomputed from the rows. */
    bool shared = false;
    for (i = 1; i < n; i++)
        for (size_t k = i + 1; k < n; k++)
            if (rows[i].rank != rows[k].rank && rows[i].core == rows[k].core &&
                strcmp(rows[i].host, rows[k].host) == 0 && rows[i].binding != HPOOL_BIND_NONE &&
                rows[k].binding != HPOOL_BIND_NONE) {
                shared = true;
                CHECK(rows[i].flags & HPOOL_PLACE_SHARED_CORE);
                CHECK(rows[k].flags & HPOOL_PLACE_SHARED_CORE);
            }
    CHECK(((flags & HPOOL_PLACE_SHARED_CORE) != 0) == shared);
    unsigned all = 0;
    for (i = 0; i < n; i++)
        all |= rows[i].flags;
    CHECK(all == flags);

    /* One thread per rank, fewer worker ranks than cores, launcher bound nothing: the
     * ranks get cores of their own. More single-thread ranks than cores: they must share
     * (pigeonhole) and it is reported. */
    int cores = host_cores();
    bool same_host = true, full_sets = true;
    for (i = 1; i < n; i++) {
        same_host = same_host && strcmp(rows[i].host, host0) == 0;
        full_sets = full_sets && rows[i].cpuset_pus == rows[i].host_pus;
    }
    if (threads_opt == 1 && same_host && bound_by_hpool && cores > 0) {
        if (workers > cores)
            CHECK(shared);
        else if (full_sets)
            CHECK(!shared);
    }

    /* Formatting: a header and one line per row; the length is the snprintf length. */
    size_t need = hpool_placement_format(rows, n, NULL, 0);
    char *buf = malloc(need + 1);
    CHECK(buf != NULL);
    CHECK(hpool_placement_format(rows, n, buf, need + 1) == need);
    CHECK(strlen(buf) == need);
    size_t lines = 0;
    for (char *p = buf; *p; p++)
        lines += *p == '\n';
    CHECK(lines == n + 1);
    char small[16];
    CHECK(hpool_placement_format(rows, n, small, sizeof small) == need);
    CHECK(strlen(small) == sizeof small - 1);
    char what[32];
    if (threads_opt)
        snprintf(what, sizeof what, "%d", threads_opt);
    else
        snprintf(what, sizeof what, "default");
    printf("placement, %d workers x %s threads:\n%s%s", workers, what, buf, text);
    free(buf);
}

/* Tasks see their threads on the PUs of the table, in parallel regions and in the inner
 * map: the binding was made on the team threads and survives into later regions. */
static void check_tasks_run_where_reported(hpool_executor *ex, int workers, int threads)
{
    const hpool_placement *rows;
    size_t n;
    CHECK_OK(hpool_executor_placement(ex, &rows, &n));
    enum { ITEMS = 16 };
    int32_t dummy[ITEMS] = {0};
    hpool_map_iter *m;
    CHECK_OK(hpool_map(ex, "where", dummy, sizeof dummy[0], ITEMS, NULL, &m));
    const void *res;
    size_t len;
    uint64_t idx;
    int seen = 0;
    while (hpool_map_next(m, &res, &len, &idx) == 1) {
        CHECK(len == sizeof(where_res));
        where_res r;
        memcpy(&r, res, sizeof r);
        CHECK(r.rank >= 1 && r.rank <= workers);
        CHECK(r.threads == threads);
        for (int t = 0; t < threads; t++) {
            const hpool_placement *row = NULL;
            for (size_t i = 0; i < n; i++)
                if (rows[i].rank == r.rank && rows[i].thread == t)
                    row = &rows[i];
            CHECK(row != NULL);
            if (row->binding != HPOOL_BIND_HPOOL)
                continue;
            CHECK(r.cpu_par[t] == row->cpu);
            if (r.thread_inner[t] == t) /* this thread took at least one inner item */
                CHECK(r.cpu_inner[t] == row->cpu);
        }
        seen++;
    }
    CHECK(seen == ITEMS);
    CHECK_OK(hpool_map_close(m));
}

static void run(int workers, int threads)
{
    hpool_executor_options o = {.threads_per_worker = threads};
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, &o));
    /* Right after create: waits for the START acks. */
    check_table(ex, workers, threads);
    if (threads > 0 && threads <= MAX_T)
        check_tasks_run_where_reported(ex, workers, threads);
    CHECK_OK(hpool_shutdown(ex, true, false));
    /* Still there after shutdown, until destroy. */
    const hpool_placement *rows;
    size_t n;
    CHECK_OK(hpool_executor_placement(ex, &rows, &n));
    CHECK(n >= 2);
    CHECK_OK(hpool_executor_destroy(ex));
}

static void run_manager(int world)
{
    CHECK(gethostname(host0, sizeof host0) == 0);
    topo_open();
    int workers = world - 1;
    const hpool_placement *rows;
    size_t n;
    CHECK_RC(hpool_executor_placement(NULL, &rows, &n), HPOOL_EINVAL);

    run(workers, 1);
    run(workers, 2);
    if (workers >= 2) {
        /* max_workers: only the ranks that serve the executor report. */
        hpool_executor_options o1 = {.max_workers = 1, .threads_per_worker = 2};
        hpool_executor *ex1;
        CHECK_OK(hpool_executor_create(&ex1, &o1));
        check_table(ex1, 1, 2);
        CHECK_OK(hpool_executor_destroy(ex1));
    }
    run(workers, 0); /* OMP_NUM_THREADS, else the cpuset */

    /* More threads than the host has PUs: every rank is oversubscribed, whatever the
     * launcher did, and the warning says so. */
    hpool_executor_options o = {.threads_per_worker = 0};
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, &o));
    CHECK_OK(hpool_executor_placement(ex, &rows, &n));
    int over = rows[0].host_pus + 1;
    CHECK_OK(hpool_executor_destroy(ex));
    if (over <= MAX_T) {
        o.threads_per_worker = over;
        CHECK_OK(hpool_executor_create(&ex, &o));
        unsigned flags = 0;
        const char *text = NULL;
        CHECK_OK(hpool_executor_placement_warnings(ex, &flags, &text));
        CHECK(flags & HPOOL_PLACE_OVERSUBSCRIBED);
        CHECK(strstr(text, "oversubscribed") != NULL);
        CHECK_OK(hpool_executor_placement(ex, &rows, &n));
        for (size_t i = 1; i < n; i++)
            CHECK(rows[i].flags & HPOOL_PLACE_OVERSUBSCRIBED);
        check_table(ex, workers, over);
        CHECK_OK(hpool_executor_destroy(ex));
    }
}
