/* Synchronisation on rank 0; see sync.h. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <time.h>

#include "clock.h"
#include "errors.h"
#include "sync.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond; /* something completed; lock */
static pthread_cond_t wake_cond; /* the doorbell of a dozing manager; lock */
static int n_waiting;            /* threads blocked on done_cond; lock */
static bool manager_dozing;      /* lock */
static unsigned doorbell;        /* rung by every wake-up request; lock */
static _Thread_local bool is_manager;

int hpool__sync_init(void)
{
    static bool done;
    if (done)
        return 0;
    /* CLOCK_MONOTONIC, so timeouts are immune to wall-clock changes (see clock.c). */
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&done_cond, &attr) || pthread_cond_init(&wake_cond, &attr);
    pthread_condattr_destroy(&attr);
    done = rc == 0;
    return rc ? HPOOL_ENOMEM : 0;
}

void hpool__lock(void)
{
    pthread_mutex_lock(&lock);
}

void hpool__unlock(void)
{
    pthread_mutex_unlock(&lock);
}

bool hpool__on_manager_thread(void)
{
    return is_manager;
}

void hpool__sync_enter_manager(void)
{
    is_manager = true;
}

/* Wait on c until the absolute hpool__now()-based deadline; false on timeout. */
static bool cond_wait_until(pthread_cond_t *c, double deadline)
{
    /* A deadline beyond time_t's range (a timeout of 1e30 s, say) would convert to
     * garbage and time out at once; a billion years is forever enough. */
    if (isinf(deadline) || deadline > 3e16) {
        pthread_cond_wait(c, &lock);
        return true;
    }
    if (hpool__now() >= deadline)
        return false;
    struct timespec ts;
    double whole = floor(deadline);
    ts.tv_sec = (time_t)whole;
    ts.tv_nsec = (long)((deadline - whole) * 1e9);
    if (ts.tv_nsec >= 1000000000L)
        ts.tv_nsec = 999999999L;
    return pthread_cond_timedwait(c, &lock, &ts) != ETIMEDOUT;
}

int hpool__wait_locked(hpool__ready_fn ready, const void *what, double deadline,
                       const char *fn)
{
    while (!ready(what)) {
        if (deadline != INFINITY && hpool__now() >= deadline) /* no clock read for "forever" */
            return HPOOL_ETIMEDOUT;
        if (is_manager)
            return hpool__fail(HPOOL_ESTATE,
                               "%s: would block the manager thread (called from a done "
                               "callback), which is the thread that completes futures",
                               fn);
        n_waiting++;
        cond_wait_until(&done_cond, deadline);
        n_waiting--;
    }
    return 0;
}

void hpool__notify_locked(void)
{
    if (n_waiting > 0)
        pthread_cond_broadcast(&done_cond);
}

void hpool__wake_manager_locked(void)
{
    doorbell++;
    if (manager_dozing)
        pthread_cond_signal(&wake_cond);
}

unsigned hpool__doorbell_locked(void)
{
    return doorbell;
}

void hpool__manager_doze(unsigned seen, double sleep_s)
{
    pthread_mutex_lock(&lock);
    if (doorbell == seen) {
        manager_dozing = true;
        cond_wait_until(&wake_cond, hpool__now() + sleep_s);
        manager_dozing = false;
    }
    pthread_mutex_unlock(&lock);
}
