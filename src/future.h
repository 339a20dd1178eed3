/* Futures on rank 0 (future.c): a future's state, argument, result and callbacks, and
 * waiting on one (result) or many (wait, as_completed). Every field is written only by
 * future.c; the other files read the immutable ones and change a future through the
 * functions below. */
#ifndef HPOOL_FUTURE_H
#define HPOOL_FUTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "hpool.h"

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
 * future can be recognised (magic) instead of read after free. "lock": the library lock
 * (sync.h). */
struct hpool_future {
    uint32_t magic;      /* lock */
    uint8_t state;       /* lock (hpool__future_state) */
    bool user_ref;       /* the caller still holds it; lock */
    bool mgr_ref;        /* queued or in flight, or callbacks pending; lock */
    int16_t task;        /* immutable */
    int32_t rank;        /* worker that ran it; lock */
    uint8_t retries;     /* re-dispatches after its worker was lost; lock */
    int32_t code;        /* 0 or HPOOL_E*; lock */
    int32_t task_status; /* lock */
    uint32_t arg_len;    /* immutable */
    uint32_t res_len;    /* lock */
    uint64_t seq;        /* submission number in its executor; immutable */
    double t_submit;     /* immutable */
    struct hpool_future *next;   /* free list / callbacks-to-run list; lock */
    hpool__callback *callbacks;  /* lock */
    hpool__waiter_link *waiters; /* lock */
    char *msg;                   /* error message or NULL; lock */
    union {
        unsigned char bytes[HPOOL__INLINE_ARG];
        void *heap;
    } arg;
    union {
        unsigned char bytes[HPOOL__INLINE_RES];
        void *heap;
    } res;
};

/* A new pending future of `task` (lock held). arg_heap: a malloc'd copy of the argument
 * when len > HPOOL__INLINE_ARG (ownership moves), else NULL and the bytes are copied.
 * NULL when out of memory. */
hpool_future *hpool__future_new_locked(int task, uint64_t seq, const void *arg, size_t len,
                                       void *arg_heap);
const void *hpool__future_arg(const hpool_future *f);
/* A future that was never handed out (its queueing failed) goes back, argument and all. */
void hpool__future_discard_locked(hpool_future *f);

/* Carving: a pending future becomes running and true is returned; a cancelled one is let
 * go by the queue (false). Lock held. */
bool hpool__future_start_locked(hpool_future *f);
/* A running future goes back to pending (it returns to the submission queue). Lock. */
void hpool__future_unstart_locked(hpool_future *f);
/* Its worker was lost: may it be dispatched again (retries < limit; counts one)? Lock. */
bool hpool__future_take_retry_locked(hpool_future *f, int limit);

/* Store an outcome and wake waiters. Lock held; callbacks are moved to *run_later (run
 * them with hpool__future_run_callbacks after unlocking). */
void hpool__future_finish_locked(hpool_future *f, int code, int task_status, int rank,
                                 const void *res, size_t len, const char *msg,
                                 hpool_future **run_later);
/* Cancel a queued future (lock held); runs no callbacks itself. */
void hpool__future_cancel_locked(hpool_future *f, hpool_future **run_later);
/* Run the done callbacks of a run_later list (lock not held), in the calling thread. */
void hpool__future_run_callbacks(hpool_future *list);
/* The same for futures the manager's progress completed: callbacks run on the manager
 * thread (CPython's executor manager thread, where hpool documents them to run), so a
 * user thread leading the progress (sync.h) hands them over instead of running them
 * inside its own blocking call. Lock not held. */
void hpool__future_callbacks_from_progress(hpool_future *list);
/* The manager thread runs the callbacks handed over to it. Lock not held. */
void hpool__future_run_handed_callbacks(void);
/* The queue lets go of a future that was cancelled while queued. Lock held. */
void hpool__future_drop_ref_locked(hpool_future *f);
/* hpool_finalize: every future's memory. Lock held. */
void hpool__future_slabs_free(void);

#endif
