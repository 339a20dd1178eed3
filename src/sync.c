/* Synchronisation on rank 0; see sync.h. */
#define _GNU_SOURCE /* glibc's adaptive mutex, where it has one */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "clock.h"
#include "errors.h"
#include "policy.h"
#include "sync.h"

/* The library lock is held for short stretches (a submit, up to 8 call items of a
 * pass, a bundle's results), so a thread that finds it taken spins briefly before it
 * sleeps: a futex sleep and wake-up cost more than the wait, and on a guest where a
 * context switch is dear (this project's 2-core VM) a submit loop racing the manager's
 * passes with 2 busy workers went from 33-98 ms to 25-64 ms for 200,000 submits. glibc
 * only; elsewhere the default mutex. */
#ifdef PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
static pthread_mutex_t lock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
#else
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
#endif
static pthread_cond_t done_cond;    /* something completed, or the token is free; lock */
static pthread_cond_t leader_cond;  /* a leader dozing between passes; lock */
static pthread_cond_t manager_cond; /* the manager thread dozing or on standby; lock */
static int n_waiting;               /* threads blocked on done_cond; lock */
static bool leader_dozing;          /* lock */
static bool manager_sleeping;       /* lock */
static bool manager_signalled;      /* woken, and not yet running again; lock */
static double manager_sleep_until;  /* when the manager's sleep ends by itself; lock */
static bool manager_called;         /* something only the manager thread does is due; lock */
static unsigned doorbell;           /* rung by every wake-up request; lock */
static _Thread_local bool is_manager;

/* The progress token; all lock. */
typedef enum { TOKEN_FREE = 0, TOKEN_MANAGER, TOKEN_LEADER } token_holder;
static token_holder token;
static hpool__progress_fn progress_pass;
static hpool__help_fn progress_help;
static double leader_left_at = -INFINITY; /* when the last leader gave the token back */
/* User threads' CPU while leading (sync.h). A lead's part after it stopped spinning is
 * read from the thread's CPU clock. Its spinning start is too short to read the clock
 * for each time (a read costs about a microsecond here, more than a whole lead in a
 * submit/result loop), so it is sampled: every lead while there were fewer than
 * LEAD_SAMPLE_ALL, then every LEAD_SAMPLE-th, each sample weighted by how many leads it
 * stands for (an unbiased estimate that only grows). Wall time would not do: a pass that
 * yields the core inside MPI on an oversubscribed node lasts as long as the others keep
 * the core. */
#define LEAD_SAMPLE_ALL 256
#define LEAD_SAMPLE 64
static double leader_cpu_s;
static unsigned long leads;
/* The lead the manager thread's last standby saw, and how long it slept then; lock. */
static unsigned long standby_lead;
static double standby_s;

int hpool__sync_init(void)
{
    static bool done;
    if (done)
        return 0;
    /* CLOCK_MONOTONIC, so timeouts are immune to wall-clock changes (see clock.c). */
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&done_cond, &attr) || pthread_cond_init(&leader_cond, &attr) ||
             pthread_cond_init(&manager_cond, &attr);
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

/* Wake the sleeping manager thread, once: until it runs again, further requests (a
 * doorbell per consumed map result, say) would each cost a futex call for nothing. */
static void signal_manager_locked(void)
{
    if (manager_sleeping && !manager_signalled) {
        manager_signalled = true;
        pthread_cond_signal(&manager_cond);
    }
}

/* ---------------------------------------------------------------- progress token */
void hpool__progress_set(hpool__progress_fn pass, hpool__help_fn help)
{
    pthread_mutex_lock(&lock);
    progress_pass = pass;
    progress_help = help;
    pthread_mutex_unlock(&lock);
}

/* A user thread's lead: its CPU, accounted as sync.h says. */
typedef struct {
    double t_mark;    /* when it stopped spinning (0: still spinning) */
    double cpu_mark;  /* the thread's CPU clock then */
    double cpu_start; /* a sampled lead's CPU clock at its start */
    double weight;    /* leads a sampled one stands for; 0: not sampled */
} lead;

/* Lock held (leads are counted). */
static lead lead_begin_locked(void)
{
    lead l = {0};
    unsigned long n = leads++;
    if (n < LEAD_SAMPLE_ALL || n % LEAD_SAMPLE == 0) {
        l.weight = n < LEAD_SAMPLE_ALL ? 1 : LEAD_SAMPLE;
        l.cpu_start = hpool__thread_cpu();
    }
    return l;
}

static void lead_stopped_spinning(lead *l)
{
    if (l->t_mark == 0) {
        l->t_mark = hpool__now();
        l->cpu_mark = hpool__thread_cpu();
    }
}

/* The lead this thread runs, if any: a pass that may block (an executor's start or
 * stop, with its clock sync) asks for exact accounting from there on. */
static _Thread_local lead *my_lead;

void hpool__progress_measure_exactly(void)
{
    if (my_lead)
        lead_stopped_spinning(my_lead);
}

static void lead_end_locked(lead *l)
{
    double now = hpool__now();
    double cpu_now = l->t_mark != 0 || l->weight > 0 ? hpool__thread_cpu() : 0;
    if (l->weight > 0) /* the spinning part, for the leads this one stands for */
        leader_cpu_s += ((l->t_mark != 0 ? l->cpu_mark : cpu_now) - l->cpu_start) * l->weight;
    if (l->t_mark != 0)
        leader_cpu_s += cpu_now - l->cpu_mark;
    my_lead = NULL;
    token = TOKEN_FREE;
    leader_left_at = now;
    /* Another blocked thread may lead now; the manager keeps its standby (grace), and
     * one that sleeps past the grace period (it went on standby while this lead was
     * long) is woken to shorten it: it takes the token if nobody leads by then. At most
     * one such wake-up per grace period, since the manager's next standby ends with it. */
    if (n_waiting > 0)
        pthread_cond_broadcast(&done_cond);
    /* Also with followers woken: each may find what it waited for done and leave
     * without leading, and then only the manager is left to progress. Woken, it sleeps
     * at most a grace period while followers are counted (standby). */
    if (manager_sleeping && manager_sleep_until > now + HPOOL__LEADER_GRACE_S)
        signal_manager_locked();
}

/* One pass as leader, then the pass's backoff, without giving the token away. */
static void lead_once_locked(lead *l, unsigned *idle, const hpool__ready_fn ready,
                             const void *what, double deadline)
{
    unsigned seen = doorbell;
    hpool__progress_fn pass = progress_pass;
    pthread_mutex_unlock(&lock);
    double sleep_s = pass(idle);
    if (sleep_s != 0)
        lead_stopped_spinning(l);
    if (sleep_s < 0)
        sched_yield();
    pthread_mutex_lock(&lock);
    if (sleep_s > 0 && doorbell == seen && !ready(what)) {
        leader_dozing = true;
        cond_wait_until(&leader_cond, fmin(hpool__now() + sleep_s, deadline));
        leader_dozing = false;
    }
}

int hpool__wait_locked(hpool__ready_fn ready, const void *what, double deadline,
                       const char *fn)
{
    lead l = {0};
    bool leading = false;
    unsigned idle = 0;
    int rc = 0;
    while (!ready(what)) {
        if (deadline != INFINITY && hpool__now() >= deadline) { /* no clock read for "forever" */
            rc = HPOOL_ETIMEDOUT;
            break;
        }
        if (is_manager) {
            rc = hpool__fail(HPOOL_ESTATE,
                             "%s: would block the manager thread (called from a done "
                             "callback), which is the thread that completes futures",
                             fn);
            break;
        }
        /* A manager asleep between passes calls no MPI: its token is taken as well. */
        if (!leading && progress_pass != NULL &&
            (token == TOKEN_FREE || (token == TOKEN_MANAGER && manager_sleeping))) {
            token = TOKEN_LEADER;
            leading = true;
            l = lead_begin_locked();
            my_lead = &l;
        }
        if (leading) {
            lead_once_locked(&l, &idle, ready, what, deadline);
            continue;
        }
        /* Follow. A manager holding the token hands it over at its next pass; one
         * dozing is woken for that. */
        if (token == TOKEN_MANAGER && manager_sleeping)
            signal_manager_locked();
        n_waiting++;
        cond_wait_until(&done_cond, deadline);
        n_waiting--;
    }
    if (leading)
        lead_end_locked(&l);
    return rc;
}

bool hpool__progress_manager_take_locked(void)
{
    if (token == TOKEN_MANAGER && n_waiting > 0) {
        token = TOKEN_FREE; /* a blocked thread leads from here */
        pthread_cond_broadcast(&done_cond);
        return false;
    }
    if (token == TOKEN_FREE && n_waiting == 0 &&
        hpool__now() - leader_left_at >= HPOOL__LEADER_GRACE_S)
        token = TOKEN_MANAGER;
    return token == TOKEN_MANAGER;
}

/* The manager thread sleeps until `until` unless woken (lock held). */
static void manager_sleep_locked(double until)
{
    manager_sleeping = true;
    manager_sleep_until = until;
    manager_signalled = false;
    cond_wait_until(&manager_cond, until);
    manager_sleeping = false;
}

void hpool__progress_manager_standby(double sleep_s)
{
    pthread_mutex_lock(&lock);
    if (token == TOKEN_FREE && n_waiting == 0) { /* wake when the grace period ends */
        sleep_s = fmin(sleep_s, fmax(leader_left_at + HPOOL__LEADER_GRACE_S - hpool__now(), 0));
    } else if (token == TOKEN_FREE) {
        /* Followers are counted and the token is free: one of them leads when it wakes,
         * unless what it waited for is done already; then its exit wakes the manager
         * (hpool__wait_locked), and this bounds the sleep should that be missed. */
        sleep_s = fmin(sleep_s, HPOOL__LEADER_GRACE_S);
    } else if (token == TOKEN_LEADER) {
        /* A user thread leads. A new lead (a map consumer or a submit/result loop leads
         * thousands of times a second): look again after the grace period, which no lead
         * end or doorbell cuts short, since the sleep ends within the grace period after
         * any lead that ends meanwhile. Woken at every lead end instead, the manager
         * thread woke 18,000 times a second at chunksize 1, each time to go back to
         * sleep, and took a fifth of a core from the workers. The same lead seen again
         * (a thread waiting for long tasks): twice as long each time, up to sleep_s,
         * and its end wakes the manager (lead_end_locked). */
        if (leads != standby_lead) {
            standby_lead = leads;
            standby_s = HPOOL__LEADER_GRACE_S;
        } else if (!manager_called) {
            standby_s = fmin(2 * standby_s, sleep_s);
        }
        sleep_s = fmin(sleep_s, standby_s);
    }
    if (sleep_s > 0 && !manager_called)
        manager_sleep_locked(hpool__now() + sleep_s);
    manager_called = false;
    pthread_mutex_unlock(&lock);
}

void hpool__progress_help_locked(void)
{
    if (progress_help == NULL || is_manager ||
        !(token == TOKEN_FREE || (token == TOKEN_MANAGER && manager_sleeping))) {
        hpool__wake_manager_locked();
        return;
    }
    /* A manager asleep between its passes holds the token but calls no MPI: taking it is
     * safe, and it finds the token gone when it wakes (its take answers false). */
    token_holder was = token;
    token = TOKEN_LEADER;
    lead l = lead_begin_locked();
    my_lead = &l;
    hpool__help_fn help = progress_help;
    pthread_mutex_unlock(&lock);
    bool helped = help();
    pthread_mutex_lock(&lock);
    if (helped) {
        lead_end_locked(&l);
        return;
    }
    my_lead = NULL;
    token = was; /* declined: the token goes back as it was */
    if (n_waiting > 0)
        pthread_cond_broadcast(&done_cond); /* who found it taken meanwhile tries again */
    hpool__wake_manager_locked();
}

void hpool__progress_help(void)
{
    pthread_mutex_lock(&lock);
    hpool__progress_help_locked();
    pthread_mutex_unlock(&lock);
}

double hpool__progress_leader_cpu_locked(void)
{
    return leader_cpu_s;
}

void hpool__notify_locked(void)
{
    if (n_waiting > 0)
        pthread_cond_broadcast(&done_cond);
}

void hpool__wake_manager_locked(void)
{
    doorbell++;
    if (token == TOKEN_LEADER) {
        if (leader_dozing)
            pthread_cond_signal(&leader_cond);
    } else if (manager_sleeping &&
               (token == TOKEN_MANAGER ||
                (n_waiting == 0 && manager_sleep_until > leader_left_at + HPOOL__LEADER_GRACE_S))) {
        signal_manager_locked();
    }
    /* A manager on standby within the grace period wakes when it ends, by itself: a
     * wake-up per submit in a submit/result loop would cost the context switch that
     * leading saves, and a clock read here would cost 30 ns per map item. */
}

void hpool__call_manager_thread_locked(void)
{
    manager_called = true;
    signal_manager_locked();
}

unsigned hpool__doorbell_locked(void)
{
    return doorbell;
}

void hpool__manager_doze(unsigned seen, double sleep_s)
{
    pthread_mutex_lock(&lock);
    if (doorbell == seen && !manager_called)
        manager_sleep_locked(hpool__now() + sleep_s);
    /* Answered: the loop runs the handed callbacks next. Left set, every later doze
     * would be skipped and the manager thread would spin. */
    manager_called = false;
    pthread_mutex_unlock(&lock);
}
