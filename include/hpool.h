/* hpool: Python's concurrent.futures.ProcessPoolExecutor rebuilt on MPI + OpenMP.
 *
 * Rank 0 runs the user's program and a manager thread; ranks 1..N are the worker
 * processes. Every rank runs the same binary and registers the same tasks, by name, in
 * the same order, before hpool_init(). See README.md and docs/DESIGN.md.
 *
 * Conventions
 *  - Every function returns 0 (or a documented non-negative value) on success and a
 *    negative HPOOL_E* code on failure. hpool_last_error() gives the message of the last
 *    failure in the calling thread. The library never exits or aborts the process.
 *  - Timeouts are in seconds, with one meaning everywhere, as in CPython: 0 does not wait
 *    (answers at once), HPOOL_FOREVER (any negative value) waits without limit.
 *  - Functions that take an hpool_executor or futures are called on rank 0 only.
 *  - A thread that blocks in hpool (result, wait, as_completed, map_next, ...) runs the
 *    manager's work itself while it waits (receiving, completing, dispatching), so the
 *    result it needs costs no hand-over between threads; the manager thread does that
 *    work when nobody waits. hpool_map_next may also run one such pass when few results
 *    are buffered. Done callbacks run on the manager thread either way.
 */
#ifndef HPOOL_H
#define HPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header. hpool_version() gives the library's, which must match when
 * a program runs against the library it was compiled for (CMake reads these lines). */
#define HPOOL_VERSION_MAJOR 0
#define HPOOL_VERSION_MINOR 1
#define HPOOL_VERSION_PATCH 0
#define HPOOL__VERSION_STR2(x) #x
#define HPOOL__VERSION_STR(x) HPOOL__VERSION_STR2(x)
#define HPOOL_VERSION                                                                       \
    HPOOL__VERSION_STR(HPOOL_VERSION_MAJOR)                                                 \
    "." HPOOL__VERSION_STR(HPOOL_VERSION_MINOR) "." HPOOL__VERSION_STR(HPOOL_VERSION_PATCH)
#define HPOOL_FOREVER (-1.0)

/* X-macro: the one place where an error code is added. Generates the enum, and the
 * strings behind hpool_strerror() and hpool_errname(). */
#define HPOOL_ERRNO_MAP(X)                                                                  \
    X(EINVAL, -1, "invalid argument")                                                       \
    X(ENOMEM, -2, "out of memory")                                                          \
    X(EMPI, -3, "MPI call failed")                                                          \
    X(ESTATE, -4, "call not allowed in the current state")                                  \
    X(ENOTASK, -5, "no task registered under that name")                                    \
    X(EREGISTRY, -6, "task registries differ between ranks")                                \
    X(ESHUTDOWN, -7, "executor is shut down; no new work accepted")                         \
    X(EBROKEN, -8, "executor is broken (a worker failed or an initializer failed)")         \
    X(ETIMEDOUT, -9, "timed out")                                                           \
    X(ECANCELLED, -10, "future was cancelled")                                              \
    X(ETASK, -11, "task returned an error")                                                 \
    X(ERELEASED, -12, "future was already released")                                        \
    X(EBUSY, -13, "another executor is still active")                                       \
    X(ETHREAD, -14, "MPI does not provide the required thread support")                     \
    X(ETOOBIG, -15, "argument or result too large")                                         \
    X(EIO, -16, "file could not be written")                                                \
    X(EPROTO, -17, "malformed message from a worker")                                       \
    X(ECLOSED, -18, "map is closed")

typedef enum {
    HPOOL_OK = 0,
#define HPOOL__ENUM(name, code, text) HPOOL_##name = (code),
    HPOOL_ERRNO_MAP(HPOOL__ENUM)
#undef HPOOL__ENUM
} hpool_errno;

/* Positive results of hpool_init(). */
enum { HPOOL_MANAGER = 1, HPOOL_WORKER = 2 };

const char *hpool_strerror(int code);
const char *hpool_errname(int code);
/* Message of the last failed call in this thread ("" if none). Valid until the next
 * failing call in the same thread. */
const char *hpool_last_error(void);

/* The library's version, "MAJOR.MINOR.PATCH", as built: compare with HPOOL_VERSION to
 * check that a program runs against the library it was compiled for. */
const char *hpool_version(void);

/* ------------------------------------------------------------------------------------
 * Tasks: registered by name on every rank, run on worker ranks.
 * ---------------------------------------------------------------------------------- */
typedef struct hpool_task_ctx hpool_task_ctx;

/* A task gets its argument bytes (a copy that lives for the call) and reports its result
 * with hpool_task_return(). It returns 0 on success; any other value fails this item,
 * with the message set by hpool_task_fail() (or a generic one). */
typedef int (*hpool_task_fn)(hpool_task_ctx *ctx, const void *arg, size_t len);

/* Register before hpool_init(), in the same order on every rank. Names are at most
 * HPOOL_TASK_NAME_MAX-1 bytes. \return 0, HPOOL_EINVAL (bad name, duplicate, full) or
 * HPOOL_ESTATE (after hpool_init). */
#define HPOOL_TASK_NAME_MAX 64
int hpool_register_task(const char *name, hpool_task_fn fn);

/* Inside a task: copy `len` bytes as this item's result (a later call replaces it). */
int hpool_task_return(hpool_task_ctx *ctx, const void *res, size_t len);
/* Inside a task: set the failure message (printf-style); returns HPOOL_ETASK so a task can
 * `return hpool_task_fail(ctx, "...")`. */
int hpool_task_fail(hpool_task_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int hpool_task_rank(const hpool_task_ctx *ctx);      /* this worker's MPI rank */
int hpool_task_threads(const hpool_task_ctx *ctx);   /* OpenMP threads it may use */
uint64_t hpool_task_item(const hpool_task_ctx *ctx); /* item index (map) or submit seq */
int hpool_task_executor_id(const hpool_task_ctx *ctx);
/* Data the initializer left for later tasks of the same executor on this worker. */
void *hpool_task_worker_state(const hpool_task_ctx *ctx);
void hpool_task_set_worker_state(hpool_task_ctx *ctx, void *state);

/* Inner thread pool: run fn over n inner items on this rank's OpenMP team (dynamic
 * schedule, one item at a time), the inner ThreadPoolExecutor.map. in/out are arrays of
 * n records of in_size/out_size bytes; results are in item order. One span per inner item
 * (thread, start, end, label) goes to the timing records when the executor records spans.
 * fn returns 0, or non-zero to fail the item; every item runs, and the code of the failed
 * item with the lowest index is returned. Call it from the task's thread, not from inside
 * a parallel region of the task (nested regions get one thread). */
typedef int (*hpool_inner_fn)(void *user, size_t item, const void *in, void *out);
int hpool_task_inner_map(hpool_task_ctx *ctx, hpool_inner_fn fn, void *user,
                         const void *in, size_t in_size, void *out, size_t out_size,
                         size_t n, const char *label);
/* Record a span for code the task times itself (any thread of the team). Times are
 * seconds of CLOCK_MONOTONIC (clock_gettime), the clock rank 0 maps onto its own. */
void hpool_task_record_span(hpool_task_ctx *ctx, uint64_t item, double t_start,
                            double t_end, const char *label);

/* ------------------------------------------------------------------------------------
 * Start and stop.
 * ---------------------------------------------------------------------------------- */
typedef struct {
    /* Thread support to request; hpool needs at least MPI_THREAD_SERIALIZED on rank 0 and
     * MPI_THREAD_FUNNELED on workers. 0 means MPI_THREAD_MULTIPLE on rank 0 and
     * MPI_THREAD_FUNNELED on the workers (whose tasks must then not call MPI from their
     * OpenMP threads), the rank being read from the launcher's environment
     * (OMPI_COMM_WORLD_RANK, PMIX_RANK or PMI_RANK; MULTIPLE when none is set).
     * hpool itself calls MPI on rank 0 from one thread at a time (the thread that runs
     * the manager's pass: a waiting user thread or the manager thread), so a program
     * whose rank 0 calls MPI only through hpool may ask for MPI_THREAD_SERIALIZED and
     * save the locking MULTIPLE costs in every MPI call. */
    int mpi_thread_level;
    /* Seconds the manager waits for a worker's answer to an executor start (including
     * its initializer), a clock probe or an executor stop before it declares the rank
     * stuck and lost (0: 30 s). Running tasks are bounded by task_timeout_s instead. */
    double worker_timeout_s;
} hpool_init_options;

/* Collective over MPI_COMM_WORLD. Initialises MPI if needed and checks that every rank
 * registered the same tasks. On worker ranks it serves call items until rank 0 calls
 * hpool_finalize(), then returns HPOOL_WORKER; on rank 0 it returns HPOOL_MANAGER.
 * \return HPOOL_MANAGER, HPOOL_WORKER, or <0 on every rank (e.g. HPOOL_EREGISTRY; MPI is
 * then already finalized if hpool_init initialised it). */
int hpool_init(int *argc, char ***argv, const hpool_init_options *o);
/* Rank 0: shuts down live executors (waiting), releases the workers, finalizes MPI if
 * hpool_init initialised it. Worker ranks: finalizes MPI. */
int hpool_finalize(void);
int hpool_world_size(void); /* ranks in the job, after hpool_init */
int hpool_world_rank(void);

/* ------------------------------------------------------------------------------------
 * Executors.
 * ---------------------------------------------------------------------------------- */
typedef struct hpool_executor hpool_executor;
typedef struct hpool_future hpool_future;

typedef enum { HPOOL_RECORD_NONE = 0, HPOOL_RECORD_CHUNKS = 1, HPOOL_RECORD_SPANS = 2 } hpool_record_level;

typedef struct {
    int max_workers;          /* worker ranks to use, 1..world-1; 0: all */
    int prefetch;             /* call items in flight per worker (CPython's call queue);
                               * 0: adaptive, 2 while call items take >= 100 us, growing up
                               * to 64 for shorter ones so that workers never wait */
    int threads_per_worker;   /* OpenMP threads per worker; 0: OMP_NUM_THREADS or cpuset */
    const char *initializer;  /* task run once per worker at start, or NULL */
    const void *initargs;     /* its argument bytes (copied) */
    size_t initargs_len;
    int submit_batch;         /* submitted futures packed per call item; 0: 1 (CPython) */
    double task_timeout_s;    /* per item: a call item of k items may run k times this; 0: none.
                               * On overrun its futures fail with HPOOL_ETIMEDOUT and the
                               * worker is lost (it cannot be interrupted). */
    int retry_limit;          /* times work lost with a crashed worker is re-dispatched to
                               * the others before failing with HPOOL_EBROKEN; 0: 1, <0: 0 */
    hpool_record_level record_level; /* default HPOOL_RECORD_CHUNKS when record_dir set */
    const char *record_dir;   /* write chunks.tsv/spans.tsv/trace.json here, or NULL */
    const char *label;        /* free text stored with the records */
    int record_run;           /* value of the `run` column in the records */
    int64_t trace_max_events; /* chunk + span events trace.json keeps (the start, the end,
                               * faults and stragglers; chunks.tsv has all): 0: 200000,
                               * < 0: no limit */
} hpool_executor_options;

/* Runs on the worker ranks still alive (a rank lost under an earlier executor stays
 * lost): at most max_workers of them; hpool_executor_workers says how many.
 * \return 0; HPOOL_EINVAL (max_workers out of range, no workers), HPOOL_ENOTASK (unknown
 * initializer), HPOOL_EBUSY (another executor not shut down), HPOOL_EBROKEN (every worker
 * rank was lost), HPOOL_ESTATE (from a done callback while the previous one drains). */
int hpool_executor_create(hpool_executor **ex, const hpool_executor_options *o);
/* CPython's shutdown(wait, cancel_futures). After it, submit/map fail with
 * HPOOL_ESHUTDOWN. wait=false returns at once; the work still finishes and the executor
 * is freed by hpool_executor_destroy or at hpool_finalize. */
int hpool_shutdown(hpool_executor *ex, bool wait, bool cancel_futures);
/* Shut down (waiting) if needed and free the executor. Futures stay valid, and so do
 * maps not yet closed: they hand out the results they hold, then end with
 * HPOOL_ESHUTDOWN (or HPOOL_EBROKEN) for items never carved; close them as usual. */
int hpool_executor_destroy(hpool_executor *ex);
int hpool_executor_workers(const hpool_executor *ex);

typedef struct {
    uint64_t chunks;           /* call items completed */
    uint64_t items;            /* work items completed */
    uint64_t bytes_sent;       /* bytes of call-item messages sent to workers */
    uint64_t bytes_received;   /* bytes of result messages received */
    uint64_t messages_sent;    /* MPI messages carrying call items: fewer than chunks when
                                  small call items to one worker share a message */
    uint64_t messages_received; /* MPI messages carrying results (likewise) */
    double manager_cpu_s;      /* CPU time of the manager's progress while this executor ran:
                                  the manager thread and user threads that ran it while
                                  they waited (leader/follower) */
    double wall_s;             /* from the end of start-up to the last result */
    double startup_s;          /* create -> workers started and clocks synced (not in wall_s) */
    double final_sync_s;       /* the clock sync at the end (not in wall_s) */
    double sync_cpu_s;         /* manager CPU of both syncs (part of manager_cpu_s) */
    int workers;               /* worker ranks it ran on (hpool_executor_worker_stats) */
    int lost_workers;          /* workers lost during the run (crash, hang, bad message) */
} hpool_executor_stats;
/* After shutdown completes. \return 0; HPOOL_ESTATE before. */
int hpool_executor_get_stats(hpool_executor *ex, hpool_executor_stats *st);
/* Wait until the executor's workers have started and their clocks are synchronised, so
 * that what follows is timed without the start-up (hpool-bench does this). timeout_s < 0:
 * no limit. \return 0; HPOOL_ETIMEDOUT; HPOOL_EBROKEN; HPOOL_ESTATE (destroyed, or called
 * on the manager thread). */
int hpool_executor_wait_ready(hpool_executor *ex, double timeout_s);

/* One worker of an executor, after shutdown completes. */
typedef struct {
    int rank;         /* its MPI rank */
    double busy_s;    /* time spent running tasks */
    uint64_t items;   /* work items it completed */
    bool lost;        /* lost during the run (crash, hang, bad message) ... */
    double lost_at;   /* ... at this time, seconds from executor creation (else -1) */
} hpool_worker_stats;
/* The statistics of each worker, in rank order, into the caller's ws[cap]; *n (optional)
 * is the executor's worker count, which may be more than cap (then only cap are written).
 * No fixed limit on workers. \return 0; HPOOL_ESTATE before shutdown completes. */
int hpool_executor_worker_stats(hpool_executor *ex, hpool_worker_stats *ws, size_t cap,
                                size_t *n);

/* ------------------------------------------------------------------------------------
 * Futures.
 * ---------------------------------------------------------------------------------- */
/* Copies `len` bytes of arg. \return 0; HPOOL_ENOTASK, HPOOL_ESHUTDOWN, HPOOL_EBROKEN. */
int hpool_submit(hpool_executor *ex, const char *task, const void *arg, size_t len,
                 hpool_future **f);

/* Waits up to timeout_s for the result. *res stays valid until the future is released.
 * \return 0; HPOOL_ETIMEDOUT; HPOOL_ECANCELLED; HPOOL_ETASK (task failed: see
 * hpool_future_error); HPOOL_EBROKEN; HPOOL_ERELEASED. */
int hpool_future_result(hpool_future *f, double timeout_s, const void **res, size_t *len);

typedef struct {
    int code;            /* HPOOL_ETASK, HPOOL_EBROKEN, HPOOL_ECANCELLED, ... */
    int task_status;     /* the task's own non-zero return value, for HPOOL_ETASK */
    int rank;            /* worker rank that ran it, or -1 */
    uint64_t item;       /* item index */
    const char *message; /* valid until the future is released */
} hpool_error_info;
/* Waits like hpool_future_result; \return 0 with info->code == 0 if the task succeeded. */
int hpool_future_error(hpool_future *f, double timeout_s, hpool_error_info *info);

bool hpool_future_done(hpool_future *f);
bool hpool_future_running(hpool_future *f);
bool hpool_future_cancelled(hpool_future *f);
/* CPython's rule: succeeds (returns true) only while the future is still pending, i.e.
 * not yet carved into a call item; true also if it was already cancelled. */
bool hpool_future_cancel(hpool_future *f);

/* Runs fn(f, user) once the future completes (immediately, in the caller's thread, if it
 * already has). Callbacks of completing futures run on rank 0's manager thread, after the
 * result is stored; they must be short and may call hpool_submit or hpool_shutdown(wait
 * = false). A call that would block there (result/wait/as_completed on an unfinished
 * future, shutdown with wait, creating an executor) returns HPOOL_ESTATE instead of
 * deadlocking the manager. */
typedef void (*hpool_done_fn)(hpool_future *f, void *user);
int hpool_future_add_done_callback(hpool_future *f, hpool_done_fn fn, void *user);

/* Drop the caller's reference. The work goes on if it was dispatched; afterwards every
 * call with this future returns HPOOL_ERELEASED (never touches freed memory). */
int hpool_future_release(hpool_future *f);

typedef enum {
    HPOOL_FIRST_COMPLETED = 1,
    HPOOL_FIRST_EXCEPTION = 2,
    HPOOL_ALL_COMPLETED = 3
} hpool_return_when;
/* concurrent.futures.wait. done[i] (optional) tells which futures are done.
 * \return 0 when the condition holds; HPOOL_ETIMEDOUT otherwise (done[] still filled). */
int hpool_wait(hpool_future *const *fs, size_t n, double timeout_s, hpool_return_when when,
               bool *done, size_t *n_done);

/* concurrent.futures.as_completed: futures in completion order; the timeout counts from
 * creation, as in CPython. */
typedef struct hpool_as_completed hpool_as_completed;
int hpool_as_completed_create(hpool_future *const *fs, size_t n, double timeout_s,
                              hpool_as_completed **ac);
/* \return 1 and *f set; 0 when every future was returned; HPOOL_ETIMEDOUT. */
int hpool_as_completed_next(hpool_as_completed *ac, hpool_future **f);
void hpool_as_completed_free(hpool_as_completed *ac);

/* ------------------------------------------------------------------------------------
 * map: chunks carved by the manager when a worker has a free call slot.
 * ---------------------------------------------------------------------------------- */
typedef enum {
    HPOOL_SCHED_FIXED = 0, /* chunksize items per chunk (CPython) */
    HPOOL_SCHED_STATIC,    /* ceil(N/P) */
    HPOOL_SCHED_GUIDED,    /* ceil(R/P), >= chunksize */
    HPOOL_SCHED_TRAPEZOID, /* TSS: ceil(N/2P) decreasing linearly to chunksize */
    HPOOL_SCHED_FACTORING, /* FAC2: batches of P chunks of ceil(R/2P) */
    HPOOL_SCHED_AWF,       /* factoring weighted by each worker's measured rate */
    HPOOL_SCHED_AUTO,      /* probes, then the kind a simulation of all of them picks */
    HPOOL_SCHED_SS,        /* self-scheduling: one item (chunksize items) a chunk */
    HPOOL_SCHED_FSC,       /* fixed size chunking: Kruskal-Weiss optimum from h and sigma */
    HPOOL_SCHED_MFSC,      /* modified FSC: FAC2's chunk count at one fixed size */
    HPOOL_SCHED_WF,        /* weighted factoring: fixed weights (hpool_map_options) */
    HPOOL_SCHED_AWF_B,     /* AWF, weights updated at each batch */
    HPOOL_SCHED_AWF_C,     /* AWF, weights updated at each chunk, no batches */
    HPOOL_SCHED_AWF_D,     /* AWF-B with the scheduling overhead in the weights */
    HPOOL_SCHED_AWF_E,     /* AWF-C with the scheduling overhead in the weights */
    HPOOL_SCHED_AF,        /* adaptive factoring: per-worker mean and variance */
    HPOOL_SCHED_COUNT
} hpool_schedule_kind;
const char *hpool_schedule_name(hpool_schedule_kind k);
int hpool_schedule_parse(const char *name, hpool_schedule_kind *k); /* 0 or HPOOL_EINVAL */

/* Generator form: write item `index` into `record` (item_size bytes) and return 1, or
 * return 0 at the end of the input, or <0 to fail the map. Called on the thread that
 * calls hpool_map / hpool_map_next, never on the manager thread. */
typedef int (*hpool_map_gen_fn)(void *user, uint64_t index, void *record);

typedef struct {
    hpool_schedule_kind schedule; /* default FIXED */
    size_t chunksize;             /* default 1 */
    double timeout_s;             /* per map, from the call, as CPython; used only when
                                   * timeout_set (else no limit, CPython's None): then 0 =
                                   * do not wait, HPOOL_FOREVER = no limit */
    bool timeout_set;
    bool unordered;               /* results as they complete, tagged with the index */
    size_t buffersize;            /* at most this many items carved but not consumed; 0: no limit */
    hpool_map_gen_fn gen;         /* generator form, with items == NULL */
    void *gen_user;
    /* Model inputs of the schedules that need them; 0 / NULL: measured during the map
     * where they can be (FSC, auto), equal weights (WF). */
    double overhead_s;            /* FSC, auto: scheduling overhead h of one chunk */
    double task_sd_s;             /* FSC: standard deviation of one item's time */
    const double *weights;        /* WF: relative speed of worker 0..n_weights-1 (copied) */
    size_t n_weights;
} hpool_map_options;

typedef struct hpool_map_iter hpool_map_iter;
/* items: n records of item_size bytes, borrowed until hpool_map_close (array form); or
 * items == NULL and o->gen set (n is then an upper bound, or 0 for "until gen ends").
 * \return 0; HPOOL_EINVAL, HPOOL_ENOTASK, HPOOL_ESHUTDOWN, HPOOL_EBROKEN. */
int hpool_map(hpool_executor *ex, const char *task, const void *items, size_t item_size,
              size_t n, const hpool_map_options *o, hpool_map_iter **m);
/* Next result: \return 1 with the result bytes (valid until the next call) and index; 0 at the
 * end; HPOOL_ETIMEDOUT (the work goes on, call again); HPOOL_ETASK for a failed item
 * (message by hpool_map_error; iteration may continue); HPOOL_EBROKEN. */
int hpool_map_next(hpool_map_iter *m, const void **res, size_t *len, uint64_t *index);
const char *hpool_map_error(const hpool_map_iter *m, int *rank, uint64_t *item);
/* Stops the map: undispatched items are dropped; waits for dispatched chunks, frees all.
 * From a done callback while chunks are in flight: HPOOL_ESTATE at once, the map stays
 * closed for hpool_map_next (HPOOL_ECLOSED); call hpool_map_close again elsewhere. */
int hpool_map_close(hpool_map_iter *m);
/* The schedule actually used (auto resolves to what it picked). */
hpool_schedule_kind hpool_map_schedule_used(const hpool_map_iter *m);

/* ------------------------------------------------------------------------------------
 * Placement (hybrid ranks): where each worker rank's OpenMP threads run.
 *
 * At executor start every worker rank reads its topology with hwloc, binds its OpenMP
 * team inside the cpuset the launcher gave it (one thread per core while there are enough
 * cores, never outside that cpuset), and reports one row per thread to rank 0 with its
 * START acknowledgement. Rank 0 adds a row for its manager thread, compares hosts, and
 * flags oversubscription and cores shared between ranks (also printed once to stderr).
 * HPOOL_BIND=none in the environment turns hpool's binding off (rows are still reported);
 * so does OMP_PROC_BIND, which hands binding to the OpenMP runtime. See docs/PLACEMENT.md.
 * ---------------------------------------------------------------------------------- */
/* A host name as long as the kernel allows (HOST_NAME_MAX = 64 on Linux) and its NUL. */
#define HPOOL_HOST_MAX 65

typedef enum {
    HPOOL_BIND_NONE = 0,  /* not bound by hpool: cpu is where the thread last ran */
    HPOOL_BIND_HPOOL = 1, /* hpool bound the thread to that one PU */
    HPOOL_BIND_OPENMP = 2 /* the OpenMP runtime bound it (OMP_PROC_BIND set by the user) */
} hpool_bind_kind;

/* Warning flags, set on the rows concerned and OR-ed for the executor. */
enum {
    HPOOL_PLACE_OVERSUBSCRIBED = 1u << 0, /* more threads than PUs, in a rank's cpuset or
                                             on a host (all its worker ranks together) */
    HPOOL_PLACE_SHARED_CORE = 1u << 1,    /* threads of different ranks bound to one core */
    HPOOL_PLACE_SMT = 1u << 2,            /* threads of one rank share a core */
    HPOOL_PLACE_UNBOUND = 1u << 3         /* a worker thread is not bound (floats) */
};

typedef struct {
    char host[HPOOL_HOST_MAX];     /* hostname, never empty */
    int rank;                      /* MPI rank */
    int thread;                    /* OpenMP thread number; -1: rank 0's manager thread */
    int cpu;                       /* OS index of the PU, -1 if unknown */
    int core;                      /* logical index of its core on that host, -1 if unknown */
    int numa;                      /* OS index of its NUMA node, -1 if unknown */
    int cpuset_pus;                /* PUs in the rank's cpuset (as the launcher bound it) */
    int host_pus;                  /* PUs of the host usable by the job */
    const char *cpuset;            /* the rank's cpuset as a list, e.g. "0-3,8"; owned by
                                      the table (whole, however long) */
    hpool_bind_kind binding;
    unsigned flags;                /* HPOOL_PLACE_* that concern this row */
} hpool_placement;

/* The placement table of an executor: rank 0's manager row first, then every worker
 * thread by rank and thread number. Waits until every worker acknowledged the start
 * (never call it from a done callback). *rows stays valid until the executor is
 * destroyed. \return 0; HPOOL_EBROKEN (the executor broke before every worker reported);
 * HPOOL_ESTATE (destroyed executor, or called on the manager thread too early). */
int hpool_executor_placement(hpool_executor *ex, const hpool_placement **rows, size_t *n);
/* The OR of the rows' flags and the warnings as text, one per line ("" if none); text
 * stays valid until the executor is destroyed. Waits like hpool_executor_placement. */
int hpool_executor_placement_warnings(hpool_executor *ex, unsigned *flags, const char **text);
/* Format rows as a table into buf (always NUL-terminated when cap > 0).
 * \return the length the whole table needs, excluding the NUL (as snprintf). */
size_t hpool_placement_format(const hpool_placement *rows, size_t n, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* HPOOL_H */
