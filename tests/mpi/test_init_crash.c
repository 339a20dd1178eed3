/* An initializer that crashes (SIGSEGV) on one rank (issue 12, edges 3 and 6): that rank is
 * lost with a message naming the initializer and the signal, the job survives and the
 * others run everything (CPython would break the pool: BrokenProcessPool); with no worker
 * left the executor is broken (HPOOL_EBROKEN, same message). The lost rank stays lost:
 * a new executor starts on the live workers and says how many, or fails at creation
 * when none is left. */
#include <signal.h>
#include <stdint.h>

#include "hpool_test.h"

static volatile int zero; /* keeps the compiler from folding the invalid write */

/* Crashes on the rank named by its argument. Deliberate: UBSan must let it through to
 * the worker's crash guard. */
__attribute__((no_sanitize("undefined"))) static int crash_init(hpool_task_ctx *ctx,
                                                                const void *arg, size_t len)
{
    int32_t rank;
    if (len != sizeof rank)
        return hpool_task_fail(ctx, "bad initargs");
    memcpy(&rank, arg, sizeof rank);
    if (rank == hpool_task_rank(ctx))
        *(volatile int *)(uintptr_t)zero = 1; /* a real invalid write: SIGSEGV */
    return 0;
}

static int whoami(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    int32_t r = hpool_task_rank(ctx);
    return hpool_task_return(ctx, &r, sizeof r);
}

static void register_tasks(void)
{
    hpool_register_task("crash_init", crash_init);
    hpool_register_task("whoami", whoami);
}

enum { N = 12 };

static void run_manager(int world)
{
    int32_t victim = world - 1;
    hpool_executor_options o = {.initializer = "crash_init", .initargs = &victim,
                                .initargs_len = sizeof victim};
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, &o));
    CHECK(hpool_executor_workers(ex) == world - 1);
    hpool_future *fs[N];
    for (int i = 0; i < N; i++)
        CHECK_OK(hpool_submit(ex, "whoami", NULL, 0, &fs[i]));
    int ok = 0;
    for (int i = 0; i < N; i++) {
        const void *res;
        size_t len;
        int rc = hpool_future_result(fs[i], HPOOL_FOREVER, &res, &len);
        if (world > 2) {
            CHECK_OK(rc);
            int32_t r;
            memcpy(&r, res, sizeof r);
            CHECK(r >= 1 && r < victim); /* never the crashed rank */
            ok++;
        } else {
            /* The only worker crashed: the pool is broken, and says why. */
            CHECK_RC(rc, HPOOL_EBROKEN);
            CHECK(strstr(hpool_last_error(), "initializer 'crash_init'") != NULL);
            CHECK(strstr(hpool_last_error(), "SIGSEGV") != NULL);
        }
        CHECK_OK(hpool_future_release(fs[i]));
    }
    CHECK_OK(hpool_shutdown(ex, true, false));
    hpool_executor_stats st;
    CHECK_OK(hpool_executor_get_stats(ex, &st));
    CHECK(st.lost_workers == 1 && hpool_test_first_lost(ex, NULL) == victim);
    /* Per worker, into a buffer of the caller's size: a short one gets the first rows. */
    hpool_worker_stats ws[8];
    size_t nw = 0;
    CHECK_OK(hpool_executor_worker_stats(ex, ws, 1, &nw));
    CHECK(nw == (size_t)world - 1 && ws[0].rank == 1);
    if (nw <= 8) {
        CHECK_OK(hpool_executor_worker_stats(ex, ws, nw, &nw));
        uint64_t items = 0;
        for (size_t i = 0; i < nw; i++) {
            CHECK(ws[i].rank == (int)i + 1);
            CHECK(ws[i].lost == (ws[i].rank == victim));
            CHECK(ws[i].lost ? ws[i].lost_at >= 0 && ws[i].items == 0 : ws[i].lost_at == -1);
            items += ws[i].items;
        }
        CHECK(items == (world > 2 ? (uint64_t)N : 0));
    }
    CHECK_OK(hpool_executor_destroy(ex));
    printf("initializer crash: rank %d lost, %d of %d tasks ran on the others\n", victim, ok,
           N);

    /* The next executor: the survivors, or nothing. */
    hpool_executor *next = NULL;
    if (world == 2) {
        CHECK_RC(hpool_executor_create(&next, NULL), HPOOL_EBROKEN);
        CHECK(strstr(hpool_last_error(), "lost") != NULL);
        CHECK(next == NULL);
        return;
    }
    CHECK_OK(hpool_executor_create(&next, NULL));
    CHECK(hpool_executor_workers(next) == world - 2);
    for (int i = 0; i < N; i++)
        CHECK_OK(hpool_submit(next, "whoami", NULL, 0, &fs[i]));
    for (int i = 0; i < N; i++) {
        const void *res;
        size_t len;
        CHECK_OK(hpool_future_result(fs[i], HPOOL_FOREVER, &res, &len));
        int32_t r;
        memcpy(&r, res, sizeof r);
        CHECK(r >= 1 && r < victim);
        CHECK_OK(hpool_future_release(fs[i]));
    }
    CHECK_OK(hpool_shutdown(next, true, false));
    CHECK_OK(hpool_executor_get_stats(next, &st));
    CHECK(st.workers == world - 2 && st.lost_workers == 0);
    CHECK_OK(hpool_executor_destroy(next));
    /* Asking for every rank still gives the survivors. */
    hpool_executor_options all = {.max_workers = world - 1};
    CHECK_OK(hpool_executor_create(&next, &all));
    CHECK(hpool_executor_workers(next) == world - 2);
    CHECK_OK(hpool_executor_destroy(next));
}
