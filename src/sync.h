/* Synchronisation on rank 0 (sync.c): the library lock, the one way to block until
 * something is done or a deadline passes, and the doorbell that wakes an idle manager.
 *
 * Threads on rank 0: the user's threads call the public API; the manager thread is the
 * only one that calls MPI after hpool_init. They share executors, futures and maps under
 * the library lock: a field documented "lock" may only be touched with it held. The lock
 * is never held across an MPI call. */
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

/* Doorbell: new work for the manager (a submit, a map, a consumed result, a shutdown).
 * Lock held. */
void hpool__wake_manager_locked(void);
/* The doorbell's count, read by the manager before a pass. Lock held. */
unsigned hpool__doorbell_locked(void);
/* The manager sleeps up to sleep_s unless the doorbell rang since it read `seen`.
 * Takes the lock itself. */
void hpool__manager_doze(unsigned seen, double sleep_s);

#endif
