/* The objects shared between the user's threads and the manager thread on rank 0:
 * executor, future, map. Field ownership is marked: "g.lock" fields need the library
 * lock; "manager" fields belong to the manager thread; "immutable" fields are set before
 * the object is published and never change. */
#ifndef HPOOL_EXECUTOR_H
#define HPOOL_EXECUTOR_H

#include "clock.h"
#include "clocksync.h"
#include "internal.h"
#include "wire.h"

struct hpool__records;   /* records.c */
struct hpool__placement; /* placement.c */

/* ---------------------------------------------------------------- futures (future.c) */
typedef enum {
    HPOOL__F_PENDING = 0, /* in the submission queue, cancellable */
    HPOOL__F_RUNNING,     /* carved into a call item */
    HPOOL__F_CANCELLED,
    HPOOL__F_FINISHED     /* result or error stored */
} hpool__future_state;

#define HPOOL__FUTURE_LIVE 0x46555455u /* "FUTU" */
#define HPOOL__FUTURE_DEAD 0xdeadf00du
#define HPOOL__INLINE_ARG 24
#define HPOOL__INLINE_RES 16

typedef struct hpool__callback {
    hpool_done_fn fn;
    void *user;
    struct hpool__callback *next;
} hpool__callback;

/* A registration of a waiting iterator (as_completed) on a future. */
typedef struct hpool__waiter_link {
    struct hpool_as_completed *ac;
    struct hpool__waiter_link *next;
} hpool__waiter_link;

/* Futures live in slabs that are never unmapped before hpool_finalize, so a released
 * future can be recognised (magic) instead of read after free. */
struct hpool_future {
    uint32_t magic;      /* g.lock */
    uint8_t state;       /* g.lock (hpool__future_state) */
    bool user_ref;       /* the caller still holds it; g.lock */
    bool mgr_ref;        /* queued or in flight, or callbacks pending; g.lock */
    int16_t task;        /* immutable */
    int32_t rank;        /* worker that ran it; g.lock */
    uint8_t retries;     /* re-dispatches after its worker was lost; manager */
    int32_t code;        /* 0 or HPOOL_E*; g.lock */
    int32_t task_status; /* g.lock */
    uint32_t arg_len;    /* immutable */
    uint32_t res_len;    /* g.lock */
    uint64_t seq;        /* submission number in its executor; immutable */
    double t_submit;     /* immutable */
    struct hpool_executor *ex; /* immutable; not touched once FINISHED/CANCELLED */
    struct hpool_future *next; /* submission queue / free list link; g.lock */
    hpool__callback *callbacks;   /* g.lock */
    hpool__waiter_link *waiters;  /* g.lock */
    char *msg;                    /* error message or NULL; g.lock */
    union {
        unsigned char bytes[HPOOL__INLINE_ARG];
        void *heap;
    } arg;
    union {
        unsigned char bytes[HPOOL__INLINE_RES];
        void *heap;
    } res;
};

hpool_future *hpool__future_alloc_locked(void);
const void *hpool__future_arg(const hpool_future *f);
/* Store an outcome and wake waiters. Caller holds g.lock; callbacks are moved to
 * *run_later (run them with hpool__future_run_callbacks after unlocking). */
void hpool__future_finish_locked(hpool_future *f, int code, int task_status, int rank,
                                 const void *res, size_t len, const char *msg,
                                 hpool_future **run_later);
/* Cancel a pending future (g.lock held); runs no callbacks itself. */
void hpool__future_cancel_locked(hpool_future *f, hpool_future **run_later);
void hpool__future_run_callbacks(hpool_future *list);
/* The executor lets go of a future (cancelled one leaving the queue). g.lock. */
void hpool__future_drop_ref_locked(hpool_future *f);
void hpool__future_slabs_free(void);

/* ---------------------------------------------------------------- maps (map.c) */
/* The results of one call item of a map, kept until every item was consumed. */
typedef struct hpool__map_chunk {
    uint64_t first;
    uint32_t count;
    bool done;          /* g.lock */
    int32_t rank;       /* worker that ran it */
    void *msg;          /* the RESULT message (owned), NULL until done */
    size_t msg_len;
    hpool__item_reader reader; /* consumer's cursor (consumer thread only) */
    uint32_t consumed;         /* consumer thread only */
    uint8_t retries;           /* re-dispatches after a lost worker; manager */
    struct hpool__map_chunk *next;      /* carve order; g.lock */
    struct hpool__map_chunk *next_done; /* completion order (unordered maps); g.lock */
} hpool__map_chunk;

struct hpool_map_iter {
    struct hpool_executor *ex; /* immutable */
    int task;                  /* immutable */
    size_t item_size;          /* immutable */
    const unsigned char *items;/* array form; immutable */
    hpool_map_gen_fn gen;      /* generator form; immutable */
    void *gen_user;
    unsigned char *ring;       /* generator staging, buffersize records */
    size_t buffersize;         /* immutable; 0 = unbounded (array form only) */
    bool unordered;            /* immutable */
    double deadline;           /* immutable */
    double t_created;          /* immutable */

    uint64_t n;         /* items known to exist (array: all; generator: staged); g.lock */
    bool input_ended;   /* no more items will be staged; g.lock */
    uint64_t carved;    /* items carved into call items; g.lock */
    uint64_t consumed;  /* items handed back to the user; g.lock */
    uint64_t limit;     /* carving stops here (close/cancel); g.lock */
    int inflight;       /* chunks dispatched, results not yet in; g.lock */
    bool closing;       /* g.lock */
    bool cancelled;     /* shutdown(cancel_futures) dropped uncarved items; g.lock */
    bool gen_failed;    /* the generator returned <0; g.lock */
    hpool_schedule_kind sched_used; /* copy of sched.resolved for readers; g.lock */
    hpool__schedule sched;      /* manager (initialised before publication) */

    hpool__map_chunk *chunks_head, *chunks_tail; /* carve order; g.lock */
    hpool__map_chunk *done_head, *done_tail;     /* completion order; g.lock */
    hpool__map_chunk *current; /* chunk being consumed (consumer thread) */

    struct hpool_map_iter *next_in_ex; /* executor's map queue; g.lock */
    bool queued;                  /* in that queue; g.lock */

    char err_msg[HPOOL__MSG_MAX]; /* last item error (consumer thread) */
    int err_rank;
    uint64_t err_item;
};

/* Manager side: carve the next chunk for `worker` (0-based), returning its range in first
 * and count; the chunk
 * record is appended to the map. Returns NULL when this map has nothing to carve now.
 * Caller holds g.lock. */
hpool__map_chunk *hpool__map_carve_locked(struct hpool_map_iter *m, int worker, uint64_t *first,
                                          uint32_t *count);
/* Manager side: hand a chunk's RESULT message (ownership moves) to the map. g.lock. */
void hpool__map_chunk_done_locked(struct hpool_map_iter *m, hpool__map_chunk *c, void *msg,
                                  size_t len, int rank);
/* Copy item records [first, first+count) into b. Safe without g.lock: carved items are
 * not overwritten until consumed. */
int hpool__map_copy_items(const struct hpool_map_iter *m, uint64_t first, uint32_t count,
                          hpool__buf *b);
/* Whether the map could carve now (items available and buffer room). g.lock. */
bool hpool__map_has_work_locked(const struct hpool_map_iter *m);
/* Executor broke or shut down with cancel: drop uncarved items. g.lock. */
void hpool__map_cancel_locked(struct hpool_map_iter *m);

/* ---------------------------------------------------------------- executor */
typedef enum {
    HPOOL__X_STARTING = 0, /* START sent, waiting for initializer acks */
    HPOOL__X_RUNNING,
    HPOOL__X_STOPPING,     /* STOP sent, waiting for acks */
    HPOOL__X_DRAINED       /* workers released; the manager no longer touches it */
} hpool__executor_phase;

/* A call slot: one call item in flight to one worker (the call queue, per worker). */
typedef struct {
    bool busy;
    uint64_t chunk_id;
    hpool_future **futs; /* submit form: the futures carried (submit_batch capacity) */
    uint32_t n_futs;
    struct hpool_map_iter *map; /* map form */
    hpool__map_chunk *map_chunk;
    uint64_t first;
    uint32_t count;
    double t_submit, t_dispatch;
    hpool__buf send;   /* the CALL message, alive until the send completes */
    MPI_Request req;
} hpool__slot;

typedef struct {
    int rank;
    int free_slots;
    hpool__slot *slots;       /* prefetch of them */
    hpool__clock_map clock;
    bool acked;               /* START_ACK / STOP_ACK seen in the current phase */
    double busy_s;
    uint64_t items;
    bool lost;                /* crashed, hung or sent garbage: no more work for it */
    double t_head;            /* since when its oldest call item has been running */
} hpool__worker_state;

/* A map chunk whose worker was lost, waiting to be sent again (manager). */
typedef struct hpool__retry {
    struct hpool_map_iter *map;
    hpool__map_chunk *chunk;
    struct hpool__retry *next;
} hpool__retry;

struct hpool_executor {
    /* immutable after create */
    int id;
    int n_workers, prefetch, threads, submit_batch; /* prefetch = call slots per worker */
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

    /* g.lock */
    hpool__executor_phase phase;
    bool shutdown, broken, drained, destroyed;
    char broken_msg[HPOOL__MSG_MAX];
    hpool_future *q_head, *q_tail; /* submission queue (the work-ID queue) */
    size_t q_len;
    hpool_map_iter *maps_head, *maps_tail;
    uint64_t next_seq;
    struct hpool_executor *next_all; /* g.executors */
    hpool_executor_stats stats;      /* copied out by the manager at drain */
    struct hpool__placement *placement; /* placement.c: published complete, then immutable */

    /* manager */
    hpool__worker_state *w;
    uint64_t next_chunk_id;
    int inflight;
    int rr; /* round-robin start for dispatch fairness */
    double cpu_at_start;
    double t_last_result;
    double chunk_time_ewma; /* smoothed task seconds per call item */
    double t_phase;         /* when START or STOP was sent: the acks are due */
    int window;             /* call items in flight per worker, <= prefetch */
    double result_delay_ewma; /* smoothed lateness of result pickup (manager) */
    bool notify_pending;    /* completions not yet announced to waiting threads */
    hpool__retry *retry_head, *retry_tail;
    int live_workers;
    int lost_count;
    int lost_rank[8];
    double lost_at[8];
    uint64_t bytes_sent, bytes_received, chunks_done, items_done;
    struct hpool__records *rec;
    struct hpool__placement *placement_build; /* placement.c: filled from START_ACKs */
    hpool__sync_times sync; /* clocksync.c: start-up and final sync, kept out of wall_s */
};

/* dispatch.c: fill every worker's window; returns call items sent, or <0 with the worker
 * index whose send failed. Manager thread. */
int hpool__dispatch(hpool_executor *ex, int *failed_worker);

/* manager.c */
int hpool__manager_start(void);
int hpool__manager_stop(void); /* after finalize_requested */

/* executor.c: fail every queued future and map item (broken executor). g.lock. */
void hpool__executor_break_locked(hpool_executor *ex, const char *why,
                                  hpool_future **run_later);

/* 0, or why submit/map must fail (destroyed, broken, shut down). g.lock. */
int hpool__executor_accepting_locked(const hpool_executor *ex, const char *fn);
void hpool__executors_destroy_all(void);

/* faults.c: losing a worker and what it had in flight (manager thread). */
void hpool__worker_lost(hpool_executor *ex, int wi, const char *why);
/* Workers whose oldest call item overran the task timeout are lost as hung. */
int hpool__check_timeouts(hpool_executor *ex);
/* Workers that did not acknowledge START or STOP within worker_timeout_s (an initializer
 * that never returns, a rank that stopped answering) are lost as hung. */
int hpool__check_ack_timeouts(hpool_executor *ex);
/* Next map chunk waiting to be sent again, or NULL. */
hpool__retry *hpool__retry_pop(hpool_executor *ex);
/* Fail every chunk waiting in the retry queue (broken executor). */
void hpool__retry_fail_all(hpool_executor *ex, const char *why);
/* A failed RESULT message for a map chunk: every item reports `status` and `msg`. */
int hpool__fake_result(hpool__map_chunk *c, int32_t status, const char *msg, void **out,
                       size_t *len);
/* Ranks that hung in a task: hpool_finalize cannot end MPI cleanly then. */
void hpool__orphans_free(void);
extern int hpool__hung_rank;
extern char hpool__hung_msg[HPOOL__MSG_MAX];

/* worker.c */
int hpool__worker_serve(void);

#endif
