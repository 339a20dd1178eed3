/* Policy numbers of the library, in one place, each with why it has its value.
 * Constants and one inline helper only: every file may include it without depending on
 * another file. */
#ifndef HPOOL_POLICY_H
#define HPOOL_POLICY_H

/* ---- call window (call items in flight per worker; CPython's call queue) ---- */
/* CPython's depth: one call item running and one waiting, so a worker never idles
 * between two items while pending futures stay cancellable. */
#define HPOOL__WINDOW_MIN 2
/* The deepest adaptive window: enough to hide a round trip behind 1 us tasks; more only
 * holds back cancellation and dynamic schedules. Also the most `prefetch` accepts. */
#define HPOOL__WINDOW_MAX 64
/* Work queued at a worker should cover this many times the measured result lateness ... */
#define HPOOL__WINDOW_COVER_FACTOR 4.0
/* ... and at least this long (seconds): the round trip of a message on one node. */
#define HPOOL__WINDOW_COVER_MIN_S 200e-6
/* Gain of the smoothed chunk time and result lateness: about the last 8 results count,
 * so one outlier moves the window little and a new task length is seen within a few. */
#define HPOOL__EWMA_GAIN 0.125

/* ---- bundles: several small CALLs or RESULTs in one message (wire.h) ---- */
/* A bundle stays under Open MPI's shared-memory eager limit (4 KiB with its headers), so
 * it goes in one copy like the messages it replaces; one call item's 8-byte argument
 * takes 48 bytes of it, so a full 64-deep window of them fits. */
#define HPOOL__BUNDLE_MAX 4000
/* Messages larger than this go alone: bundling saves a send's fixed cost, which only
 * matters next to small messages, and every bundled byte is copied once more. */
#define HPOOL__BUNDLE_FRAME_MAX 1024
/* A worker holds a result back for a bundle only while the calls behind it are this
 * short (seconds): a held result waits at most this long plus one call that turned out
 * longer than its predecessors. Far below any task worth a record of its own. */
#define HPOOL__BUNDLE_HOLD_S 20e-6

/* ---- limits of the executor options ---- */
#define HPOOL__THREADS_MAX 1024     /* OpenMP threads per worker: the placement table's */
#define HPOOL__SUBMIT_BATCH_MAX 4096 /* futures per call item: a message stays small */

/* ---- losing workers ---- */
/* Re-dispatches of work lost with a crashed worker when the options say 0: once, since a
 * second crash of the same item is most likely the item's own fault. */
#define HPOOL__RETRY_DEFAULT 1
/* Seconds a worker may take to answer an executor start (its initializer included), a
 * clock probe or a stop before it is given up as stuck. */
#define HPOOL__WORKER_TIMEOUT_DEFAULT_S 30.0

/* ---- idle backoff, shared by everyone who polls (manager, clock sync, worker) ---- */
/* Spin this many empty polls first: results of short call items arrive within
 * microseconds and a sleep would cost more than they do. */
#define HPOOL__BACKOFF_SPINS 64
/* Then yield the core this many times: cheap, and lets a worker rank run. */
#define HPOOL__BACKOFF_YIELDS 64
/* Then sleep, doubling from this many seconds ... */
#define HPOOL__BACKOFF_SLEEP_MIN_S 16e-6
/* ... up to this cap while work is in flight or an executor starts or stops ... */
#define HPOOL__BACKOFF_SLEEP_BUSY_S 1e-3
/* ... and this one when idle: an idle manager costs well under 1 % of a core, and a
 * submit cuts its sleep short anyway. */
#define HPOOL__BACKOFF_SLEEP_IDLE_S 5e-3

/* ---- leader/follower (sync.h) ---- */
/* After a user thread stops leading, the manager thread stays on standby this long
 * before it takes the progress token back: a submit/result loop waits again within
 * microseconds, and a manager that took over in between would hand the token back with
 * two context switches per item. Also the longest a submit made right after a wait
 * (by a program that then does not wait) can sit before the manager dispatches it. */
#define HPOOL__LEADER_GRACE_S 1e-3
/* The longest standby while a user thread leads: the lead's end, a callback or a
 * finalize wakes the manager anyway; this bounds a wake-up that went missing. */
#define HPOOL__STANDBY_MAX_S 0.25

/* The one backoff: after `idle` empty polls, 0 = poll again now, <0 = yield the core,
 * >0 = sleep that many seconds (at most cap_s). */
static inline double hpool__backoff(unsigned idle, double cap_s)
{
    if (idle < HPOOL__BACKOFF_SPINS)
        return 0;
    if (idle < HPOOL__BACKOFF_SPINS + HPOOL__BACKOFF_YIELDS)
        return -1;
    unsigned shift = (idle - HPOOL__BACKOFF_SPINS - HPOOL__BACKOFF_YIELDS) / 4;
    double s = shift > 20 ? cap_s : HPOOL__BACKOFF_SLEEP_MIN_S * (double)(1u << shift);
    return s < cap_s ? s : cap_s;
}

#endif
