/* Executors on rank 0 (executor.c): lifecycle (create, shutdown, destroy), options,
 * statistics, and the work they accept (submit, map) until the manager carves it. Every
 * field is written only by executor.c, except the two placement tables, which are
 * placement.c's. "lock": the library lock (sync.h); "immutable": set before the executor
 * is published. */
#ifndef HPOOL_EXECUTOR_H
#define HPOOL_EXECUTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clocksync.h"
#include "errors.h"
#include "future.h"
#include "hpool.h"
#include "map.h"
#include "queue.h"

struct hpool__placement; /* placement.c */

struct hpool_executor {
    /* immutable */
    int id;
    int n_workers;   /* worker ranks it runs on: the live ones, at most max_workers */
    int *ranks;      /* their MPI ranks, ascending */
    int prefetch;    /* call slots per worker */
    int threads, submit_batch;
    bool auto_window; /* prefetch was 0: the window adapts to the chunk time */
    int initializer;
    double task_timeout_s; /* 0: none */
    int retry_limit;       /* re-dispatches of work lost with a worker */
    void *initargs;
    size_t initargs_len;
    hpool_record_level record_level;
    char *record_dir;
    char *label;
    int record_run;
    int64_t trace_max_events;
    double t_created;

    /* lock */
    bool shutdown, broken, drained, destroyed;
    char broken_msg[HPOOL__MSG_MAX];
    hpool__queue queue;   /* submitted futures not yet carved (CPython's work-ID queue) */
    hpool__map_set maps;  /* map.c's */
    uint64_t next_seq;
    struct hpool_executor *next_all; /* every executor not yet destroyed */
    hpool_executor_stats stats;      /* set when drained */
    hpool_worker_stats *worker_stats; /* n_workers of them, set when drained */
    struct hpool__placement *placement;       /* placement.c: published, then immutable */
    struct hpool__placement *placement_build; /* placement.c: filled from START_ACKs */
    hpool__sync_times sync; /* clocksync.c: start-up and final sync, kept out of wall_s */
};

/* ---- the manager's view; lock held ---- */
/* The executor the manager serves (one at a time), or NULL. */
hpool_executor *hpool__executor_active_locked(void);
/* Shut down or destroyed: stop once its work is done. */
bool hpool__executor_stopping_locked(const hpool_executor *ex);
/* Work waiting to be carved: queued futures, or a map that could carve now. */
bool hpool__executor_has_work_locked(const hpool_executor *ex);
/* Take up to max queued futures of one task for a call item, in order, each started
 * (cancelled ones are let go on the way); returns how many. */
uint32_t hpool__executor_carve_locked(hpool_executor *ex, hpool_future **out, uint32_t max);
/* A started future whose worker was lost goes back to the front of the queue. 0, or
 * HPOOL_ENOMEM: then it was not queued and the caller must fail it. */
int hpool__executor_requeue_locked(hpool_executor *ex, hpool_future *f);
/* Fail every queued future and map item (broken executor); callbacks to *run_later. */
void hpool__executor_break_locked(hpool_executor *ex, const char *why,
                                  hpool_future **run_later);
/* The manager is done with it: statistics in (ws: n_workers of them, copied), waiters
 * released, the next executor may start. */
void hpool__executor_drained_locked(hpool_executor *ex, const hpool_executor_stats *st,
                                    const hpool_worker_stats *ws);
/* Whether the executor of that id still exists (placement tables of destroyed ones are
 * freed). */
bool hpool__executor_alive_locked(int id);

/* hpool_finalize: every executor shut down (waiting) and freed. */
void hpool__executors_destroy_all(void);

#endif
