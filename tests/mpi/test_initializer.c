/* Executor initializer + initargs (CPython's initializer/initargs):
 *  - runs once per worker per executor, with a copy of initargs, and leaves state that
 *    the tasks of that executor read (hpool_task_set_worker_state);
 *  - a new executor runs it again with its own initargs; without one, tasks see no state;
 *  - a failing initializer breaks the executor: every future HPOOL_EBROKEN with the
 *    initializer's message, submit/map afterwards HPOOL_EBROKEN, and a new executor
 *    afterwards works again. */
#include <stdint.h>
#include <time.h>

#include "hpool_test.h"

enum { ARGS = 1000 };

/* What the initializer leaves on a worker (one per process: the state of the current
 * executor). */
typedef struct {
    int exec_id;
    int32_t calls; /* initializer runs for exec_id */
    int64_t base;
    int64_t sum; /* of the initargs bytes */
} worker_state;
static worker_state wstate;

typedef struct {
    int32_t rank, exec_id, calls, has_state;
    int64_t base, sum;
} state_view;

static int init_store(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    if (len != ARGS)
        return hpool_task_fail(ctx, "initargs of %zu bytes", len);
    int id = hpool_task_executor_id(ctx);
    if (wstate.exec_id != id) {
        wstate.exec_id = id;
        wstate.calls = 0;
    }
    wstate.calls++;
    memcpy(&wstate.base, arg, sizeof wstate.base);
    wstate.sum = 0;
    for (size_t i = 0; i < len; i++)
        wstate.sum += ((const unsigned char *)arg)[i];
    hpool_task_set_worker_state(ctx, &wstate);
    return 0;
}

/* Fails on the last rank only: one failing worker is enough to break the executor. */
static int init_fail(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    int world = 0;
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    if (hpool_task_rank(ctx) == world - 1)
        return hpool_task_fail(ctx, "init refused on rank %d", hpool_task_rank(ctx));
    return 0;
}

static int read_state(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    state_view v = {.rank = hpool_task_rank(ctx), .exec_id = hpool_task_executor_id(ctx)};
    const worker_state *s = hpool_task_worker_state(ctx);
    if (s != NULL) {
        v.has_state = 1;
        v.calls = s->exec_id == v.exec_id ? s->calls : -1;
        v.base = s->base;
        v.sum = s->sum;
    }
    return hpool_task_return(ctx, &v, sizeof v);
}

static void register_tasks(void)
{
    hpool_register_task("init_store", init_store);
    hpool_register_task("init_fail", init_fail);
    hpool_register_task("read_state", read_state);
}

/* ---------------------------------------------------------------- helpers */
static void make_initargs(unsigned char *buf, int64_t base, int64_t *sum)
{
    *sum = 0;
    for (int i = 0; i < ARGS; i++)
        buf[i] = (unsigned char)(i * 7 + base);
    memcpy(buf, &base, sizeof base);
    for (int i = 0; i < ARGS; i++)
        *sum += buf[i];
}

static hpool_future *submit_read(hpool_executor *ex)
{
    hpool_future *f = NULL;
    CHECK_OK(hpool_submit(ex, "read_state", NULL, 0, &f));
    return f;
}

static state_view view_of(hpool_future *f)
{
    const void *res = NULL;
    size_t len = 0;
    CHECK_OK(hpool_future_result(f, 30.0, &res, &len));
    CHECK(len == sizeof(state_view));
    state_view v;
    memcpy(&v, res, sizeof v);
    return v;
}

/* Run n tasks on an executor with init_store(base); every task sees that executor's
 * state, written by exactly one initializer run. Returns the executor id seen. */
static int run_with_initializer(int64_t base, int world)
{
    unsigned char args[ARGS];
    int64_t sum;
    make_initargs(args, base, &sum);
    hpool_executor_options o = {.initializer = "init_store", .initargs = args,
                                .initargs_len = sizeof args};
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, &o));
    memset(args, 0xEE, sizeof args); /* initargs were copied at create */
    int n = 6 * hpool_executor_workers(ex);
    hpool_future *fs[64];
    for (int i = 0; i < n; i++)
        fs[i] = submit_read(ex);
    int exec_id = -1;
    for (int i = 0; i < n; i++) {
        state_view v = view_of(fs[i]);
        CHECK(v.rank >= 1 && v.rank < world);
        CHECK(v.has_state == 1);
        CHECK(v.calls == 1);
        CHECK(v.base == base);
        CHECK(v.sum == sum);
        if (i == 0)
            exec_id = v.exec_id;
        CHECK(v.exec_id == exec_id);
        CHECK_OK(hpool_future_release(fs[i]));
    }
    CHECK_OK(hpool_executor_destroy(ex));
    return exec_id;
}

static void initializer_state(int world)
{
    int first = run_with_initializer(1234, world);
    int second = run_with_initializer(-99, world);
    CHECK(first != second);
    /* Without an initializer the state of the previous executor is gone. */
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    hpool_future *f = submit_read(ex);
    state_view v = view_of(f);
    CHECK(v.has_state == 0);
    CHECK(v.exec_id != second);
    CHECK_OK(hpool_future_release(f));
    CHECK_OK(hpool_executor_destroy(ex));
}

/* ---------------------------------------------------------------- failing initializer */
static void check_broken_future(hpool_future *f, int world)
{
    char want[64];
    snprintf(want, sizeof want, "init refused on rank %d", world - 1);
    CHECK_RC(hpool_future_result(f, 30.0, NULL, NULL), HPOOL_EBROKEN);
    CHECK(strstr(hpool_last_error(), want) != NULL);
    hpool_error_info info;
    CHECK_OK(hpool_future_error(f, 0, &info));
    CHECK(info.code == HPOOL_EBROKEN);
    CHECK(strstr(info.message, want) != NULL);
    CHECK(strstr(info.message, "init_fail") != NULL);
    CHECK(hpool_future_done(f));
    CHECK(!hpool_future_cancelled(f));
}

static void initializer_fails(int world)
{
    hpool_executor_options o = {.initializer = "init_fail"};
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, &o));
    enum { N = 12 };
    hpool_future *fs[N];
    for (int i = 0; i < N; i++)
        fs[i] = submit_read(ex); /* before the workers answered: accepted, then broken */
    size_t nd = 0;
    CHECK_OK(hpool_wait(fs, N, 30.0, HPOOL_FIRST_EXCEPTION, NULL, &nd));
    CHECK_OK(hpool_wait(fs, N, 30.0, HPOOL_ALL_COMPLETED, NULL, &nd));
    CHECK(nd == N);
    for (int i = 0; i < N; i++)
        check_broken_future(fs[i], world);

    hpool_future *g = NULL;
    CHECK_RC(hpool_submit(ex, "read_state", NULL, 0, &g), HPOOL_EBROKEN);
    CHECK(strstr(hpool_last_error(), "init refused") != NULL);
    int32_t items[2] = {1, 2};
    hpool_map_iter *m = NULL;
    CHECK_RC(hpool_map(ex, "read_state", items, sizeof items[0], 2, NULL, &m), HPOOL_EBROKEN);
    /* A broken executor is still active until shut down. */
    hpool_executor *other;
    CHECK_RC(hpool_executor_create(&other, NULL), HPOOL_EBUSY);
    CHECK_OK(hpool_shutdown(ex, true, false));
    for (int i = 0; i < N; i++)
        CHECK_OK(hpool_future_release(fs[i]));
    CHECK_OK(hpool_executor_destroy(ex));
}

/* A broken executor with nothing submitted: the break still shows on the next submit. */
static void initializer_fails_idle(int world)
{
    hpool_executor_options o = {.initializer = "init_fail"};
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, &o));
    for (int tries = 0;; tries++) {
        CHECK(tries < 10000);
        hpool_future *f = NULL;
        int rc = hpool_submit(ex, "read_state", NULL, 0, &f);
        if (rc == HPOOL_EBROKEN)
            break;
        CHECK_OK(rc);
        check_broken_future(f, world);
        CHECK_OK(hpool_future_release(f));
    }
    CHECK_OK(hpool_executor_destroy(ex));
}

static void bad_initializer_options(void)
{
    hpool_executor *ex = NULL;
    hpool_executor_options o = {.initializer = "no_such_task"};
    CHECK_RC(hpool_executor_create(&ex, &o), HPOOL_ENOTASK);
    CHECK(strstr(hpool_last_error(), "no_such_task") != NULL);
    hpool_executor_options o2 = {.initializer = "init_store", .initargs_len = 4};
    CHECK_RC(hpool_executor_create(&ex, &o2), HPOOL_EINVAL);
    CHECK(ex == NULL);
}

static void run_manager(int world)
{
    bad_initializer_options();
    initializer_state(world);
    initializer_fails(world);
    initializer_fails_idle(world);
    /* The pool works again after the broken executors. */
    run_with_initializer(7, world);
}
