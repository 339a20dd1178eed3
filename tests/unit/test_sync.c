/* The progress token's hand-overs between the manager thread and waiting user threads
 * (src/sync.c), without MPI: the test plays the manager thread with a stub pass, and
 * checks that the manager never sleeps out a long standby while it is the only one left
 * to progress, nor spins:
 *  - a follower whose wait ends without leading (the manager completed it while handing
 *    the token over) leaves the manager on a short standby, not 0.25 s;
 *  - a lead that ends while another thread still counts as waiting, and that thread then
 *    leaves without leading, wakes the manager (its standby had doubled to 0.25 s);
 *  - a manager called for handed-over callbacks dozes again afterwards instead of
 *    polling without pause.
 * Each of the three failed before the fixes (a 250 ms standby in 2 to 5 of 10 tries, and
 * 800,000 dozes in 50 ms). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "policy.h" /* HPOOL__STANDBY_MAX_S */
#include "sync.h"

/* The stand-in for "what a waiting thread waits for", and when the pass completes it. */
static atomic_bool done;
static _Atomic double complete_at; /* hpool__now() time; INFINITY: only the test does it */

static bool is_done(const void *what)
{
    (void)what;
    return atomic_load(&done);
}

/* The manager's pass: completes the work when its time has come, else idles 1 ms. */
static double stub_pass(unsigned *idle)
{
    (void)idle;
    if (!atomic_load(&done) && hpool__now() >= atomic_load(&complete_at)) {
        hpool__lock();
        atomic_store(&done, true);
        hpool__notify_locked();
        hpool__unlock();
        return 0;
    }
    return 1e-3;
}

static bool stub_help(void)
{
    return true;
}

static atomic_bool user_waiting;

static void *user_waits(void *arg)
{
    (void)arg;
    hpool__lock();
    atomic_store(&user_waiting, true);
    hpool__wait_locked(is_done, NULL, INFINITY, "test_sync");
    hpool__unlock();
    return NULL;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int setup(void **state)
{
    (void)state;
    if (hpool__sync_init() != 0)
        return -1;
    hpool__progress_set(stub_pass, stub_help);
    return 0;
}

/* The manager (this thread) holds the token while a user thread follows; its pass
 * completes the user's wait and it hands the token over, then goes on standby before the
 * user thread runs. The user leaves without leading: the standby must end soon. */
static void follower_done_at_hand_over(void **state)
{
    (void)state;
    hpool__sync_enter_manager();
    atomic_store(&complete_at, INFINITY);
    for (int it = 0; it < 5; it++) {
        atomic_store(&done, false);
        atomic_store(&user_waiting, false);
        hpool__lock();
        hpool__progress_manager_take_locked();
        hpool__unlock();
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, user_waits, NULL), 0);
        while (!atomic_load(&user_waiting))
            sleep_ms(1);
        sleep_ms(2); /* the user thread follows now */
        hpool__lock();
        atomic_store(&done, true);
        hpool__notify_locked();
        hpool__progress_manager_take_locked(); /* hands the token over: false */
        hpool__unlock();
        double t0 = hpool__now();
        hpool__progress_manager_standby(HPOOL__STANDBY_MAX_S);
        double slept = hpool__now() - t0;
        pthread_join(t, NULL);
        assert_true(slept < 0.12);
    }
}

/* A manager thread as manager.c runs it, noting how late it runs after the work was
 * completed. */
static atomic_bool manager_stop;
static _Atomic double manager_late;

static void note_late(void)
{
    double late = hpool__now() - atomic_load(&complete_at);
    if (atomic_load(&done) && late > atomic_load(&manager_late))
        atomic_store(&manager_late, late);
}

static void *manager_thread(void *arg)
{
    (void)arg;
    hpool__sync_enter_manager();
    while (!atomic_load(&manager_stop)) {
        hpool__lock();
        bool mine = hpool__progress_manager_take_locked();
        unsigned seen = hpool__doorbell_locked();
        hpool__unlock();
        if (mine)
            hpool__manager_doze(seen, 1e-3);
        else
            hpool__progress_manager_standby(HPOOL__STANDBY_MAX_S);
        note_late();
    }
    return NULL;
}

/* Two user threads wait for work that takes 0.6 s: one leads, the other follows, and the
 * manager's standby doubles up to 0.25 s. The leader's pass completes both; the follower
 * leaves without leading. The manager must run again soon after. */
static void lead_ends_with_follower(void **state)
{
    (void)state;
    for (int it = 0; it < 3; it++) {
        atomic_store(&done, false);
        atomic_store(&manager_late, 0);
        atomic_store(&manager_stop, false);
        atomic_store(&complete_at, hpool__now() + 0.6);
        pthread_t m, a, b;
        assert_int_equal(pthread_create(&m, NULL, manager_thread, NULL), 0);
        assert_int_equal(pthread_create(&a, NULL, user_waits, NULL), 0);
        assert_int_equal(pthread_create(&b, NULL, user_waits, NULL), 0);
        pthread_join(a, NULL);
        pthread_join(b, NULL);
        double t0 = hpool__now();
        while (atomic_load(&manager_late) == 0 && hpool__now() - t0 < 1)
            sleep_ms(1);
        double late = atomic_load(&manager_late);
        atomic_store(&manager_stop, true);
        hpool__lock();
        hpool__call_manager_thread_locked();
        hpool__unlock();
        pthread_join(m, NULL);
        assert_true(late > 0 && late < 0.12);
    }
}

/* A help pass (a submit's) hands callbacks to the dozing manager (this thread); once it
 * has run them, its dozes must sleep again. */
static void *submit_helps(void *arg)
{
    (void)arg;
    sleep_ms(2);
    hpool__lock();
    hpool__call_manager_thread_locked(); /* callbacks handed over */
    hpool__unlock();
    return NULL;
}

static void manager_called_dozes_again(void **state)
{
    (void)state;
    hpool__sync_enter_manager();
    atomic_store(&complete_at, INFINITY);
    hpool__lock();
    hpool__progress_manager_take_locked();
    unsigned seen = hpool__doorbell_locked();
    hpool__unlock();
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, submit_helps, NULL), 0);
    hpool__manager_doze(seen, 0.005); /* woken by the hand-over */
    pthread_join(t, NULL);
    sleep_ms(3); /* running the callbacks took longer than the grace period */
    int dozes = 0;
    double t0 = hpool__now();
    while (hpool__now() - t0 < 0.05) {
        hpool__lock();
        hpool__progress_manager_take_locked();
        seen = hpool__doorbell_locked();
        hpool__unlock();
        hpool__manager_doze(seen, 0.005);
        dozes++;
    }
    assert_true(dozes < 100); /* about 10 of 5 ms; it spun through 800,000 before */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(follower_done_at_hand_over),
        cmocka_unit_test(manager_called_dozes_again),
        cmocka_unit_test(lead_ends_with_follower),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
