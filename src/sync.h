/* Synchronisation on rank 0 (sync.c): the library lock, the one way to block until
 * something is done or a deadline passes, the progress token, and the doorbell that
 * wakes an idle manager.
 *
 * Threads on rank 0: the user's threads call the public API; the manager's progress (its
 * pass: receive, complete, dispatch; src/mgr/) is what calls MPI after hpool_init. They
 * share executors, futures and maps under the library lock: a field documented "lock"
 * may only be touched with it held. The lock is never held across an MPI call.
 *
 * Leader/follower: exactly one thread at a time holds the progress token and runs the
 * manager's passes. A user thread that blocks (result, wait, as_completed, map_next...)
 * takes the token when it is free and runs the passes itself until what it waits for is
 * done: the result it needs is received by the thread that needs it, with no hand-over
 * between two threads (a context switch per item, a third of rank 0's time before).
 * Other blocked threads follow (sleep on a condition) and are woken by the leader's
 * completions. The manager thread holds the token when nobody waits: it runs callbacks,
 * timeouts and dispatch for users who submit and do not wait. It hands the token over
 * as soon as a thread waits, and after a leader leaves it stays on standby for a grace
 * period (HPOOL__LEADER_GRACE_S), since a thread that just waited (a submit/result loop)
 * is likely to wait again at once. */
#ifndef HPOOL_SYNC_H
#define HPOOL_SYNC_H

#include <stdbool.h>

/* Condition variables on CLOCK_MONOTONIC (the clock of every deadline); once, at init. */
int hpool__sync_init(void);

void hpool__lock(void);
void hpool__unlock(void);

/* Whether the calling thread is the manager thread (where done callbacks run). */
bool hpool__on_manager_thread(void);
/* The manager thread says so at its start (a thread-local mark). */
void hpool__sync_enter_manager(void);

/* What a blocking call waits for; evaluated with the lock held. */
typedef bool (*hpool__ready_fn)(const void *what);
/* THE blocking primitive, used by every call that waits (result, wait, as_completed,
 * map_next, map_close, shutdown, executor create, placement). Lock held. Waits until
 * ready(what) or `deadline` (hpool__now() seconds; INFINITY = no limit).
 * \return 0 when ready; HPOOL_ETIMEDOUT (no message set: the caller says what timed
 * out); HPOOL_ESTATE, with a message naming `fn`, when it would have to block on the
 * manager thread, which is the thread that completes everything and would wait for
 * itself forever. A deadline already passed never blocks, so it answers ETIMEDOUT
 * there too. */
int hpool__wait_locked(hpool__ready_fn ready, const void *what, double deadline,
                       const char *fn);
/* Something that waiters may be waiting for happened. Lock held. */
void hpool__notify_locked(void);

/* ---- the progress token ---- */
/* One pass of the manager, run by the token's holder with the lock NOT held. `idle` is
 * the holder's count of passes in a row that moved nothing (reset when one moves).
 * Returns 0 to pass again at once, <0 to yield the core first, >0 to doze that many
 * seconds (a doorbell cuts it short). */
typedef double (*hpool__progress_fn)(unsigned *idle);
/* The light pass a helper runs (hpool__progress_help_locked): false when it declined,
 * e.g. while an executor starts or stops, which is the manager's (or a waiter's) work. */
typedef bool (*hpool__help_fn)(void);
/* The manager registers its passes at start (NULL at stop): until then waiters only
 * follow. */
void hpool__progress_set(hpool__progress_fn pass, hpool__help_fn help);
/* The manager thread's side. take: whether it holds the token now (taken if free, no
 * thread waits and no leader left within the grace period); a manager holding it while
 * threads wait hands it over first (and answers false). Lock held. */
bool hpool__progress_manager_take_locked(void);
/* The manager thread waits, up to sleep_s, while a user thread leads or may lead again
 * soon (standby): until the grace period after the last lead ends, or, while a thread
 * leads, for the grace period after a new lead and twice as long each time it finds the
 * same lead. Woken early by deferred callbacks, by the end of a lead it slept through
 * longer than the grace period, and by hpool__wake_manager_locked when the token is free
 * for it. Takes the lock itself. */
void hpool__progress_manager_standby(double sleep_s);
/* A call that just gave the manager work (a submit, a consumed map result) runs one
 * light pass itself when nobody progresses right now (the token is free, or held by a manager
 * thread asleep between passes), so the work leaves at once without waking another
 * thread; otherwise, or when the pass declines, it rings the doorbell
 * (hpool__wake_manager_locked). Never on the
 * manager thread (a callback's submit only rings). _locked: lock held, released during
 * the pass. */
void hpool__progress_help_locked(void);
void hpool__progress_help(void);
/* CPU seconds that user threads spent leading, since hpool_init (lock). The manager's
 * own CPU is its thread's clock: the two make up the manager's cost. A lead's part after
 * it stopped spinning (it yields or dozes) is read from the thread's CPU clock; its
 * spinning start, too short to pay a clock read each time (a microsecond here, more
 * than a whole lead in a submit/result loop), is sampled and weighted (sync.c). */
double hpool__progress_leader_cpu_locked(void);
/* Called by a pass that may block for a while (an executor's start or stop): the calling
 * leader's CPU is read from its clock from here on, not estimated from wall time. */
void hpool__progress_measure_exactly(void);

/* Doorbell: new work for the manager (a submit, a map, a consumed result, a shutdown).
 * Lock held. */
void hpool__wake_manager_locked(void);
/* Something only the manager thread does (done callbacks of futures a leader completed)
 * is due: its standby or doze ends now. Lock held. */
void hpool__call_manager_thread_locked(void);
/* The doorbell's count, read by the manager before a pass. Lock held. */
unsigned hpool__doorbell_locked(void);
/* The token's holder sleeps up to sleep_s unless the doorbell rang since it read
 * `seen`. Takes the lock itself. */
void hpool__manager_doze(unsigned seen, double sleep_s);

#endif
