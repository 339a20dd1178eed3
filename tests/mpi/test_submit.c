/* submit → futures: many tasks with correct results, errors with rank and message,
 * results in order, arguments larger than the inline buffer, max_workers, several
 * executors in one run. */
#include <stdint.h>

#include "hpool_test.h"

static int square(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    if (len != sizeof(int64_t))
        return hpool_task_fail(ctx, "bad length %zu", len);
    int64_t x;
    memcpy(&x, arg, sizeof x);
    int64_t y = x * x;
    return hpool_task_return(ctx, &y, sizeof y);
}

/* Fails on multiples of 7, with a message naming the value. */
static int picky(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    (void)len;
    int64_t x;
    memcpy(&x, arg, sizeof x);
    if (x % 7 == 0)
        return hpool_task_fail(ctx, "refusing %lld", (long long)x);
    return hpool_task_return(ctx, &x, sizeof x);
}

/* Returns its rank and the sum of a large argument. */
static int whoami(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    int64_t out[2] = {hpool_task_rank(ctx), 0};
    const unsigned char *p = arg;
    for (size_t i = 0; i < len; i++)
        out[1] += p[i];
    return hpool_task_return(ctx, out, sizeof out);
}

static void register_tasks(void)
{
    hpool_register_task("square", square);
    hpool_register_task("picky", picky);
    hpool_register_task("whoami", whoami);
}

static void many_tasks(void)
{
    enum { N = 10000 };
    static hpool_future *fs[N];
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    for (int64_t i = 0; i < N; i++)
        CHECK_OK(hpool_submit(ex, "square", &i, sizeof i, &fs[i]));
    for (int64_t i = 0; i < N; i++) {
        const void *res;
        size_t len;
        CHECK_OK(hpool_future_result(fs[i], HPOOL_FOREVER, &res, &len));
        CHECK(len == sizeof(int64_t));
        int64_t y;
        memcpy(&y, res, sizeof y);
        CHECK(y == i * i);
        CHECK(hpool_future_done(fs[i]));
        CHECK(!hpool_future_running(fs[i]));
        CHECK_OK(hpool_future_release(fs[i]));
    }
    CHECK_OK(hpool_executor_destroy(ex));
}

static void errors_propagate(int world)
{
    enum { N = 50 };
    hpool_future *fs[N];
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    for (int64_t i = 0; i < N; i++)
        CHECK_OK(hpool_submit(ex, "picky", &i, sizeof i, &fs[i]));
    for (int64_t i = 0; i < N; i++) {
        const void *res;
        size_t len;
        int rc = hpool_future_result(fs[i], 30.0, &res, &len);
        hpool_error_info info;
        CHECK_OK(hpool_future_error(fs[i], 0, &info));
        if (i % 7 == 0) {
            CHECK_RC(rc, HPOOL_ETASK);
            CHECK(info.code == HPOOL_ETASK);
            CHECK(info.task_status == HPOOL_ETASK);
            CHECK(info.rank >= 1 && info.rank < world);
            CHECK(info.item == (uint64_t)i);
            char want[64];
            snprintf(want, sizeof want, "refusing %lld", (long long)i);
            CHECK(strcmp(info.message, want) == 0);
            CHECK(strstr(hpool_last_error(), want) != NULL);
        } else {
            CHECK_OK(rc);
            CHECK(info.code == 0);
            int64_t y;
            memcpy(&y, res, sizeof y);
            CHECK(y == i);
        }
        CHECK_OK(hpool_future_release(fs[i]));
    }
    CHECK_OK(hpool_executor_destroy(ex));
}

/* max_workers < world: only ranks 1..max_workers run tasks. Large arguments go by
 * heap copy. Run several executors in turn over the same ranks. */
static void max_workers_and_turns(int world)
{
    enum { N = 40, ARG = 3000 };
    static unsigned char big[ARG];
    int64_t want_sum = 0;
    for (int i = 0; i < ARG; i++) {
        big[i] = (unsigned char)(i * 31);
        want_sum += big[i];
    }
    for (int mw = 1; mw <= world - 1; mw++) {
        hpool_executor_options o = {.max_workers = mw};
        hpool_executor *ex;
        CHECK_OK(hpool_executor_create(&ex, &o));
        CHECK(hpool_executor_workers(ex) == mw);
        hpool_future *fs[N];
        for (int i = 0; i < N; i++)
            CHECK_OK(hpool_submit(ex, "whoami", big, sizeof big, &fs[i]));
        bool seen[64] = {false};
        for (int i = 0; i < N; i++) {
            const void *res;
            size_t len;
            CHECK_OK(hpool_future_result(fs[i], 30.0, &res, &len));
            int64_t out[2];
            memcpy(out, res, sizeof out);
            CHECK(out[0] >= 1 && out[0] <= mw);
            CHECK(out[1] == want_sum);
            seen[out[0]] = true;
            hpool_future_release(fs[i]);
        }
        CHECK(seen[1]);
        CHECK_OK(hpool_shutdown(ex, true, false));
        hpool_executor_stats st;
        CHECK_OK(hpool_executor_get_stats(ex, &st));
        CHECK(st.items == N);
        CHECK(st.workers == mw);
        CHECK_OK(hpool_executor_destroy(ex));
    }
    hpool_executor_options bad = {.max_workers = world};
    hpool_executor *ex;
    CHECK_RC(hpool_executor_create(&ex, &bad), HPOOL_EINVAL);
}

static void run_manager(int world)
{
    many_tasks();
    errors_propagate(world);
    max_workers_and_turns(world);
}
