/* The manager (rank 0's manager thread, CPython's executor manager thread): the files of
 * src/mgr/ are one concept and share this context. manager.c runs the loop and receives,
 * run.c starts and stops an executor on the workers (with the clock syncs), dispatch.c
 * carves and sends call items within each worker's window, faults.c loses workers and
 * gives their work back. Nothing outside src/mgr/ sees these types; the rest of the
 * library reaches the manager through manager.h. */
#ifndef HPOOL_MGR_H
#define HPOOL_MGR_H

#include <mpi.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "clock.h"
#include "executor.h"
#include "map.h"
#include "queue.h"
#include "sendring.h"
#include "wire.h"

struct hpool__records;

/* A deadline in a heap (timers.c): when, for which worker, valid while the worker's
 * head_seq is still `seq`. */
typedef struct {
    double at;
    int worker;
    uint64_t seq;
} hpool__timer;

typedef struct {
    hpool__timer *e;
    size_t n, cap;
} hpool__timers;

/* A call slot: one call item in flight to one worker (the call queue, per worker). */
typedef struct {
    bool busy;
    uint64_t chunk_id;
    hpool_future **futs; /* submit form: the futures carried (submit_batch capacity) */
    uint32_t n_futs;
    hpool__map_chunk *chunk; /* map form */
    double t_submit, t_dispatch;
    hpool__buf send;   /* the CALL message, alive until the send completes */
    MPI_Request req;   /* its send, when it went alone (MPI_REQUEST_NULL in a bundle) */
} hpool__slot;

typedef struct {
    int rank;
    int in_flight;            /* busy slots */
    int earned;               /* window credit: grows with results, see dispatch.c */
    hpool__slot *slots;       /* prefetch of them */
    hpool__clock_map clock;
    bool acked;               /* START_ACK / STOP_ACK seen in the current phase */
    double busy_s;
    uint64_t items;
    bool lost;                /* crashed, hung or sent garbage: no more work for it */
    bool in_ready;            /* in the run's ready queue */
    double t_head;            /* since when its oldest call item has been running */
    uint64_t head_seq;        /* bumped whenever its oldest call item changes */
    int *unsent;              /* slots filled in this dispatch pass, sent at its end */
    int n_unsent;
    bool to_flush;            /* listed in the run's to_flush for this pass */
    hpool__send_ring bundles; /* bundles of CALLs in flight to it (wire.h) */
} hpool__worker;

typedef enum {
    HPOOL__X_STARTING = 0, /* START sent, waiting for initializer acks */
    HPOOL__X_RUNNING,
    HPOOL__X_STOPPING,     /* STOP sent, waiting for acks */
} hpool__phase;

/* The manager's state for the executor it serves. */
typedef struct {
    hpool_executor *ex;       /* NULL: none */
    hpool__phase phase;
    hpool__worker *w;         /* ex->n_workers of them, worker i is rank ex->ranks[i] */
    int *wi_of_rank;          /* world size entries: worker index of a rank, or -1 */
    int n_workers, prefetch;
    uint64_t next_chunk_id;
    int inflight;
    int rr;                   /* round-robin start for dispatch fairness */
    int window;               /* call items in flight per worker, <= prefetch */
    double cpu_at_start;
    double t_last_result;
    double chunk_time_ewma;   /* smoothed task seconds per call item */
    double result_delay_ewma; /* smoothed lateness of result pickup */
    double t_phase;           /* when START or STOP was sent: the acks are due */
    hpool__queue again;       /* map chunks of lost workers, to be sent again */
    hpool__queue ready;       /* workers with room in their window, served in turn */
    int *to_flush;            /* workers with unsent slots, n_workers entries */
    int n_to_flush;
    int acks_pending;         /* live workers yet to acknowledge START or STOP */
    bool dry;                 /* the last dispatch found no work */
    hpool__timers heads;      /* when each busy worker's oldest call item started */
    hpool__timers deadlines;  /* when it overruns task_timeout_s (with a timeout only) */
    int live_workers;
    int lost_n;
    int *lost_rank;           /* n_workers entries: lost workers in order */
    double *lost_at;
    uint64_t bytes_sent, bytes_received, messages_sent, messages_received;
    uint64_t chunks_done, items_done;
    struct hpool__records *rec;
} hpool__run;

/* Send buffers of call items that a lost worker never received: MPI may still read them,
 * so they are freed only at hpool_finalize. */
typedef struct hpool__orphan {
    hpool__buf buf;
    struct hpool__orphan *next;
} hpool__orphan;

typedef struct hpool__mgr {
    pthread_t thread;
    clockid_t cpu_clock;     /* the manager thread's CPU clock */
    bool running;
    bool finalize_requested; /* lock */
    MPI_Comm comm;
    int world;
    hpool__buf rx;           /* receive buffer; handed to a map with its results */
    hpool__buf frame;        /* a frame of a received bundle, copied out of rx (likewise) */
    hpool__run run;
    hpool__orphan *orphans;
} hpool__mgr;

/* ---- manager.c ---- */
/* CPU seconds of the manager's progress so far: the manager thread's clock plus what
 * user threads spent leading (sync.h). Differences of it are an executor's cost. */
double hpool__manager_cpu(const hpool__mgr *g);

/* ---- run.c ---- */
/* Begin serving ex: worker states, START to every worker. 0 or <0 (the caller breaks
 * the executor). */
int hpool__run_start(hpool__mgr *g, hpool_executor *ex);
/* Every worker acked START: clock sync, then RUNNING. */
int hpool__run_started(hpool__mgr *g);
/* No work left and the executor shuts down: end clock sync and STOP to the workers. */
int hpool__run_begin_stop(hpool__mgr *g);
/* Every worker acked STOP (or is lost): records closed, statistics to the executor, run
 * state freed. */
void hpool__run_finish(hpool__mgr *g);
/* Break the executor: queued and re-queued work fails with the message. */
void hpool__run_break(hpool__mgr *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Send a small control message (START, STOP, FINALIZE). */
int hpool__send_small(hpool__mgr *g, int rank, int type, int exec_id, int32_t task,
                      const void *payload, size_t len, uint32_t count, int32_t level);

/* ---- dispatch.c ---- */
/* Fill every worker's window; call items sent (a send failure breaks the executor). */
int hpool__dispatch(hpool__mgr *g);
/* A result came back from worker wi: its slot is free again; the window learns from the
 * call item's task time. */
void hpool__window_on_result(hpool__run *r, hpool__worker *w, double task_s, double late_s);

/* A worker with room in its window joins the ready queue (if not in it). */
void hpool__ready_offer(hpool__run *r, int wi);
/* Worker wi's oldest call item changed: it started at t (a new head), or the worker has
 * nothing in flight (t < 0). Feeds the timers. */
void hpool__head_changed(hpool__run *r, int wi, double t);
/* The earliest head start of a busy worker, or INFINITY (stale timers dropped). */
double hpool__first_head(hpool__run *r);

/* ---- timers.c ---- */
int hpool__timers_push(hpool__timers *h, double at, int worker, uint64_t seq);
/* Keep only the entries for which valid(ctx, entry) holds: bounds a heap whose stale
 * entries nobody pops (O(n), called when it outgrows a multiple of the workers). */
void hpool__timers_compact(hpool__timers *h, bool (*valid)(const void *ctx, const hpool__timer *t),
                           const void *ctx);
const hpool__timer *hpool__timers_top(const hpool__timers *h);
void hpool__timers_pop(hpool__timers *h);
void hpool__timers_free(hpool__timers *h);

/* ---- faults.c ---- */
/* Keep a send buffer that a lost worker may never receive alive until hpool_finalize
 * (b is emptied); a hpool__send_ring_abandon keeper (ctx: the manager). */
void hpool__orphan_keep(void *g, hpool__buf *b);
/* Lose worker wi: what it held goes to the others or fails. */
void hpool__worker_lost(hpool__mgr *g, int wi, const char *why);
/* Workers whose oldest call item overran the task timeout are lost as hung. */
int hpool__check_timeouts(hpool__mgr *g);
/* Workers that did not acknowledge START or STOP within worker_timeout_s. */
int hpool__check_ack_timeouts(hpool__mgr *g);
/* Fail every map chunk waiting to be sent again (broken executor). */
void hpool__again_fail_all(hpool__mgr *g, const char *why);
void hpool__orphans_free(hpool__mgr *g);

#endif
