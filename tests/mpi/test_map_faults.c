/* map when a worker crashes: with a retry the lost chunk is sent again and every item
 * arrives exactly once with the right value, ordered over an array and unordered over a
 * generator (whose ring must still hold the lost chunk's items when later chunks were
 * consumed first); without a retry the lost chunk's items fail with HPOOL_ETASK and the
 * crash report, at their positions, and the map goes on; when the last worker is lost
 * the map ends with HPOOL_EBROKEN, and keeps saying so. */
#define _DEFAULT_SOURCE /* nanosleep */
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "hpool_test.h"

typedef struct {
    uint64_t index;
    int32_t crash_rank; /* crash with SIGSEGV on this rank (0: never, -1: on any) */
    int32_t pad;
} rec_t;

static volatile int zero; /* a real invalid write, not one the compiler can drop */

static uint64_t value_of(uint64_t i)
{
    return i * 40503u + 11;
}

/* The crash is deliberate: UBSan must let it reach the worker's crash guard. */
__attribute__((no_sanitize("undefined"))) static int brittle(hpool_task_ctx *ctx,
                                                            const void *arg, size_t len)
{
    if (len != sizeof(rec_t))
        return hpool_task_fail(ctx, "bad record length %zu", len);
    rec_t r;
    memcpy(&r, arg, sizeof r);
    if (r.crash_rank == hpool_task_rank(ctx) || r.crash_rank < 0) {
        /* Crash late, so that the other workers run ahead: the lost chunk goes out again
         * after later chunks were consumed (what the generator's ring must survive). */
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
        *(volatile int *)(uintptr_t)zero = 1;
    }
    if (r.index % 5 == 0) { /* uneven, so unordered chunks finish out of order */
        struct timespec ts = {0, 30000};
        nanosleep(&ts, NULL);
    }
    uint64_t out[3] = {r.index, value_of(r.index), (uint64_t)hpool_task_rank(ctx)};
    return hpool_task_return(ctx, out, sizeof out);
}

static void register_tasks(void)
{
    hpool_register_task("brittle", brittle);
}

/* Checks value and returns the rank that ran it. */
static int check_result(const void *res, size_t len, uint64_t idx)
{
    CHECK(len == 3 * sizeof(uint64_t));
    uint64_t out[3];
    memcpy(out, res, sizeof out);
    CHECK(out[0] == idx);
    CHECK(out[1] == value_of(idx));
    return (int)out[2];
}

enum { N = 3000 };
static rec_t items[N];

static void fill(int32_t crash_rank)
{
    for (uint64_t i = 0; i < N; i++)
        items[i] = (rec_t){i, crash_rank, 0};
}

/* Ordered, over an array, retry 1: rank `bad` crashes on its first item. */
static void survived_ordered(int bad, int world)
{
    fill(bad);
    hpool_executor_options eo = {.retry_limit = 1};
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, &eo));
    hpool_map_options o = {.chunksize = 4, .timeout_s = 60, .timeout_set = true};
    hpool_map_iter *m;
    CHECK_OK(hpool_map(ex, "brittle", items, sizeof(rec_t), N, &o, &m));
    const void *res;
    size_t len;
    uint64_t idx, got = 0;
    int rc;
    while ((rc = hpool_map_next(m, &res, &len, &idx)) == 1) {
        CHECK(idx == got);
        int rank = check_result(res, len, idx);
        CHECK(rank != bad && rank >= 1 && rank < world);
        got++;
    }
    CHECK_RC(rc, 0);
    CHECK(got == N);
    CHECK_OK(hpool_map_close(m));
    CHECK_OK(hpool_shutdown(ex, true, false));
    hpool_executor_stats st;
    CHECK_OK(hpool_executor_get_stats(ex, &st));
    CHECK(st.lost_workers == 1 && hpool_test_first_lost(ex, NULL) == bad);
    CHECK_OK(hpool_executor_destroy(ex));
}

typedef struct {
    uint64_t next;
    int32_t crash_rank;
} gen_state;

static int gen(void *user, uint64_t index, void *record)
{
    gen_state *g = user;
    CHECK(index == g->next);
    if (index >= N)
        return 0;
    g->next++;
    rec_t r = {index, g->crash_rank, 0};
    memcpy(record, &r, sizeof r);
    return 1;
}

/* Unordered, over a generator with a small ring, retry 1. */
static void survived_unordered_generator(int bad, int world)
{
    static unsigned char seen[N];
    memset(seen, 0, sizeof seen);
    hpool_executor_options eo = {.retry_limit = 1};
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, &eo));
    gen_state g = {0, bad};
    hpool_map_options o = {.chunksize = 4, .buffersize = 40, .unordered = true,
                           .gen = gen, .gen_user = &g, .timeout_s = 60, .timeout_set = true};
    hpool_map_iter *m;
    CHECK_OK(hpool_map(ex, "brittle", NULL, sizeof(rec_t), 0, &o, &m));
    const void *res;
    size_t len;
    uint64_t idx, got = 0;
    int rc;
    while ((rc = hpool_map_next(m, &res, &len, &idx)) == 1) {
        CHECK(idx < N && !seen[idx]);
        seen[idx] = 1;
        int rank = check_result(res, len, idx);
        CHECK(rank != bad && rank >= 1 && rank < world);
        got++;
    }
    CHECK_RC(rc, 0);
    CHECK(got == N);
    CHECK_OK(hpool_map_close(m));
    CHECK_OK(hpool_executor_destroy(ex));
}

/* No retry, prefetch 1: the one chunk the bad rank got fails, item by item, in place. */
static void lost_chunk_fails_in_place(int bad)
{
    fill(bad);
    hpool_executor_options eo = {.retry_limit = -1, .prefetch = 1};
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, &eo));
    hpool_map_options o = {.chunksize = 3, .timeout_s = 60, .timeout_set = true};
    hpool_map_iter *m;
    CHECK_OK(hpool_map(ex, "brittle", items, sizeof(rec_t), N, &o, &m));
    const void *res;
    size_t len;
    uint64_t idx, pos = 0, first_failed = UINT64_MAX, failed = 0;
    int rc;
    while ((rc = hpool_map_next(m, &res, &len, &idx)) != 0) {
        CHECK(idx == pos);
        if (rc == HPOOL_ETASK) {
            int rank = 0;
            uint64_t item = 0;
            const char *msg = hpool_map_error(m, &rank, &item);
            CHECK(strstr(msg, "crashed with") != NULL);
            CHECK(rank == bad);
            CHECK(item == idx);
            if (first_failed == UINT64_MAX)
                first_failed = idx;
            failed++;
        } else {
            CHECK_RC(rc, 1);
            check_result(res, len, idx);
        }
        pos++;
    }
    CHECK(pos == N);
    CHECK(failed == 3);             /* the whole chunk, nothing else */
    CHECK(first_failed % 3 == 0);   /* a chunk boundary */
    CHECK_OK(hpool_map_close(m));
    CHECK_OK(hpool_executor_destroy(ex));
}

/* Every worker left crashes: the items they had fail, then the map ends with EBROKEN,
 * which it repeats (a loop that skips failed items still ends). */
static void every_worker_lost(void)
{
    fill(-1);
    hpool_executor_options eo = {.retry_limit = 1};
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, &eo));
    hpool_map_options o = {.chunksize = 2, .timeout_s = 60, .timeout_set = true};
    hpool_map_iter *m;
    CHECK_OK(hpool_map(ex, "brittle", items, sizeof(rec_t), N, &o, &m));
    const void *res;
    size_t len;
    uint64_t idx;
    int rc, steps = 0;
    while ((rc = hpool_map_next(m, &res, &len, &idx)) == HPOOL_ETASK) {
        CHECK(strstr(hpool_map_error(m, NULL, NULL), "crashed with") != NULL);
        CHECK(++steps <= N);
    }
    CHECK_RC(rc, HPOOL_EBROKEN);
    CHECK_RC(hpool_map_next(m, &res, &len, &idx), HPOOL_EBROKEN);
    CHECK_OK(hpool_map_close(m));
    CHECK_OK(hpool_executor_destroy(ex));
}

/* A crashed rank is lost for good (later executors run without it), so each case takes
 * a rank of its own, from the top, and the last one takes the rest. */
static void run_manager(int world)
{
    int p = world - 1;
    if (p >= 2)
        survived_ordered(p, world);
    if (p >= 3)
        survived_unordered_generator(p - 1, world);
    if (p >= 4)
        lost_chunk_fails_in_place(p - 2);
    every_worker_lost();
}
