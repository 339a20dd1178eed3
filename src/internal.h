/* Internals shared across the library's files. Public names are hpool_*, cross-file
 * internals hpool__*, everything else is static.
 *
 * Threads on rank 0: the user's threads call the public API; the manager thread
 * (manager.c) is the only one that calls MPI after hpool_init. They share executors,
 * futures and maps under one library lock, g.lock: every field documented "g.lock" may
 * only be touched with it held; fields documented "manager" belong to the manager thread
 * alone. The lock is never held across an MPI call. */
#ifndef HPOOL_INTERNAL_H
#define HPOOL_INTERNAL_H

#include <mpi.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "hpool.h"
#include "schedule.h"

/* Moved from schedule.h (whose state is now sized at run time); the arrays below that
 * still use it belong to the executor's restructuring (issue 13). */
#define HPOOL__MAX_WORKERS 1024 /* interim (issue 13): the core branch sizes these from the communicator */

#define HPOOL__MAX_TASKS 256
#define HPOOL__MSG_MAX 512 /* longest error message carried in a future */
#define HPOOL__MAX_WINDOW 64 /* most call items in flight per worker (adaptive prefetch) */

/* ---- errors.c ---- */
/* Set this thread's last-error message (printf-style) and return `code`. */
int hpool__fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void hpool__clear_error(void);

/* ---- clock.c ---- */
double hpool__now(void);            /* monotonic seconds, this process */
double hpool__thread_cpu(void);     /* CPU seconds of the calling thread */
double hpool__worker_clock(void);   /* worker's clock as reported to rank 0 (test skew hook) */
/* Absolute deadline for a timeout (<0 = forever, returned as +inf). */
double hpool__deadline(double timeout_s);
/* Wait on cond until the absolute hpool__now()-based deadline; returns false on timeout. */
bool hpool__cond_wait_until(pthread_cond_t *c, pthread_mutex_t *m, double deadline);

/* ---- registry.c ---- */
int hpool__task_lookup(const char *name); /* index or HPOOL_ENOTASK */
hpool_task_fn hpool__task_fn(int idx);
const char *hpool__task_name(int idx);
int hpool__task_count(void);
void hpool__registry_freeze(void);
/* Collective: every rank compares its registry with rank 0's. */
int hpool__registry_verify(MPI_Comm comm, int rank, int size);

/* ---- global state (init.c) ---- */
typedef struct hpool__global {
    bool initialized;
    bool we_initialized_mpi;
    int rank, size;
    MPI_Comm comm; /* private duplicate of MPI_COMM_WORLD */
    double worker_timeout_s;

    pthread_mutex_t lock; /* the library lock, see the top of this file */
    pthread_cond_t done_cond; /* futures completed / executor drained; g.lock */
    pthread_cond_t wake_cond; /* wakes an idle manager; g.lock */
    int n_waiting;            /* threads blocked on done_cond; g.lock */
    bool manager_sleeping;    /* g.lock */
    unsigned wake_seq;        /* bumped by every wake-up request; g.lock */

    pthread_t manager;
    bool manager_running;
    bool finalize_requested; /* g.lock */
    struct hpool_executor *active;    /* the executor the manager serves; g.lock */
    struct hpool_executor *executors; /* every executor not yet destroyed; g.lock */
    int next_executor_id;             /* g.lock */
    bool rank_lost[HPOOL__MAX_WORKERS + 1]; /* worker ranks lost for good; manager */
} hpool__global;
extern hpool__global hpool__g;

/* Wake the manager if it is idle. Caller holds g.lock. */
void hpool__wake_manager_locked(void);
/* Wake threads waiting for completions. Caller holds g.lock. */
void hpool__notify_done_locked(void);

#endif
