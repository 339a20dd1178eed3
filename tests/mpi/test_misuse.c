/* Misuse must fail cleanly, with a code and a message, never crash:
 * NULL arguments everywhere, unknown tasks, bad executor options, released futures
 * (double release, result/wait/... afterwards), use after shutdown, a second executor
 * while one is active, calls that belong to rank 0 or to tasks used elsewhere. */
#include <stdint.h>
#include <time.h>

#include "hpool_test.h"

static void sleep_for(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static int echo(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    return hpool_task_return(ctx, arg, len);
}

static int sleepy(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    int32_t ms = 0;
    if (len == sizeof ms)
        memcpy(&ms, arg, sizeof ms);
    sleep_for(ms);
    return hpool_task_return(ctx, &ms, sizeof ms);
}

/* Misuse of the task API from inside a task, reported back as a bit mask of the checks
 * that did not fail as they should. */
static int task_api_misuse(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    int32_t wrong = 0;
    if (hpool_task_return(ctx, NULL, 5) != HPOOL_EINVAL)
        wrong |= 1;
    if (hpool_task_return(NULL, "x", 1) != HPOOL_EINVAL)
        wrong |= 2;
    if (hpool_task_fail(NULL, "x") != HPOOL_EINVAL)
        wrong |= 4;
    if (hpool_task_rank(NULL) != HPOOL_EINVAL || hpool_task_threads(NULL) != HPOOL_EINVAL)
        wrong |= 8;
    if (hpool_task_worker_state(NULL) != NULL)
        wrong |= 16;
    hpool_task_set_worker_state(NULL, &wrong); /* ignored */
    return hpool_task_return(ctx, &wrong, sizeof wrong);
}

/* Fails without a message: the future gets a generic one and the task's own status. */
static int silent_fail(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    (void)ctx;
    (void)arg;
    (void)len;
    return 42;
}

static void register_tasks(void)
{
    hpool_register_task("echo", echo);
    hpool_register_task("sleepy", sleepy);
    hpool_register_task("task_api_misuse", task_api_misuse);
    hpool_register_task("silent_fail", silent_fail);
}

static void noop_cb(hpool_future *f, void *user)
{
    (void)f;
    (void)user;
}

static hpool_future *submit_sleepy(hpool_executor *ex, int32_t ms)
{
    hpool_future *f = NULL;
    CHECK_OK(hpool_submit(ex, "sleepy", &ms, sizeof ms, &f));
    return f;
}

/* ---------------------------------------------------------------- library state */
static void init_and_registry_misuse(int world)
{
    int argc = 0;
    char **argv = NULL;
    CHECK_RC(hpool_init(&argc, &argv, NULL), HPOOL_ESTATE); /* already initialised */
    CHECK(strstr(hpool_last_error(), "already") != NULL);
    CHECK_RC(hpool_register_task("late", echo), HPOOL_ESTATE);
    CHECK(strstr(hpool_last_error(), "late") != NULL);
    CHECK(hpool_world_size() == world);
    CHECK(hpool_world_rank() == 0);
}

/* ---------------------------------------------------------------- executor options */
static void bad_executor_options(int world)
{
    hpool_executor *ex = NULL;
    CHECK_RC(hpool_executor_create(NULL, NULL), HPOOL_EINVAL);
    const hpool_executor_options bad[] = {
        {.max_workers = world},        /* one more than there are worker ranks */
        {.max_workers = world + 100},
        {.max_workers = -1},
        {.prefetch = -1},
        {.prefetch = 65},
        {.threads_per_worker = -2},
        {.submit_batch = -1},
        {.record_level = (hpool_record_level)7},
        {.initargs_len = 8},           /* initargs NULL */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_RC(hpool_executor_create(&ex, &bad[i]), HPOOL_EINVAL);
        CHECK(hpool_last_error()[0] != '\0');
        CHECK(ex == NULL);
    }
    hpool_executor_options unknown = {.initializer = "nope"};
    CHECK_RC(hpool_executor_create(&ex, &unknown), HPOOL_ENOTASK);
    CHECK(ex == NULL);
    CHECK(hpool_executor_workers(NULL) == HPOOL_EINVAL);
    CHECK_RC(hpool_shutdown(NULL, true, false), HPOOL_EINVAL);
    CHECK_RC(hpool_executor_destroy(NULL), HPOOL_EINVAL);
    hpool_executor_stats st;
    CHECK_RC(hpool_executor_get_stats(NULL, &st), HPOOL_EINVAL);
    /* Every worker rank, explicitly: allowed. */
    hpool_executor_options all = {.max_workers = world - 1};
    CHECK_OK(hpool_executor_create(&ex, &all));
    CHECK(hpool_executor_workers(ex) == world - 1);
    CHECK_RC(hpool_executor_get_stats(ex, NULL), HPOOL_EINVAL);
    CHECK_RC(hpool_executor_get_stats(ex, &st), HPOOL_ESTATE); /* not drained yet */
    CHECK_OK(hpool_executor_destroy(ex));
}

/* ---------------------------------------------------------------- submit / futures */
static void submit_misuse(hpool_executor *ex)
{
    hpool_future *f = NULL;
    int32_t x = 1;
    CHECK_RC(hpool_submit(NULL, "echo", &x, sizeof x, &f), HPOOL_EINVAL);
    CHECK_RC(hpool_submit(ex, "echo", &x, sizeof x, NULL), HPOOL_EINVAL);
    CHECK_RC(hpool_submit(ex, "echo", NULL, 4, &f), HPOOL_EINVAL);
    CHECK_RC(hpool_submit(ex, NULL, &x, sizeof x, &f), HPOOL_ENOTASK);
    CHECK_RC(hpool_submit(ex, "no_such_task", &x, sizeof x, &f), HPOOL_ENOTASK);
    CHECK(strstr(hpool_last_error(), "no_such_task") != NULL);
    CHECK(f == NULL);
    /* No argument at all is fine. */
    CHECK_OK(hpool_submit(ex, "echo", NULL, 0, &f));
    size_t len = 99;
    CHECK_OK(hpool_future_result(f, 30.0, NULL, &len));
    CHECK(len == 0);
    CHECK_OK(hpool_future_release(f));
}

static void null_future_calls(void)
{
    hpool_error_info info;
    CHECK_RC(hpool_future_result(NULL, 0, NULL, NULL), HPOOL_EINVAL);
    CHECK_RC(hpool_future_error(NULL, 0, &info), HPOOL_EINVAL);
    CHECK(!hpool_future_done(NULL));
    CHECK(!hpool_future_running(NULL));
    CHECK(!hpool_future_cancelled(NULL));
    CHECK(!hpool_future_cancel(NULL));
    CHECK_RC(hpool_future_add_done_callback(NULL, noop_cb, NULL), HPOOL_EINVAL);
    CHECK_RC(hpool_future_release(NULL), HPOOL_EINVAL);
    hpool_future *none[2] = {NULL, NULL};
    CHECK_RC(hpool_wait(NULL, 2, 0, HPOOL_ALL_COMPLETED, NULL, NULL), HPOOL_EINVAL);
    CHECK_RC(hpool_wait(none, 2, 0, HPOOL_ALL_COMPLETED, NULL, NULL), HPOOL_EINVAL);
    hpool_as_completed *ac = NULL;
    CHECK_RC(hpool_as_completed_create(NULL, 1, 0, &ac), HPOOL_EINVAL);
    CHECK_RC(hpool_as_completed_create(none, 0, 0, NULL), HPOOL_EINVAL);
    CHECK_RC(hpool_as_completed_create(none, 2, 0, &ac), HPOOL_EINVAL);
    CHECK(ac == NULL);
    hpool_future *f = NULL;
    CHECK_RC(hpool_as_completed_next(NULL, &f), HPOOL_EINVAL);
    hpool_as_completed_free(NULL);
}

static void bad_arguments_with_live_future(hpool_executor *ex)
{
    hpool_future *f = submit_sleepy(ex, 1);
    CHECK_RC(hpool_future_error(f, 0, NULL), HPOOL_EINVAL);
    CHECK_RC(hpool_future_add_done_callback(f, NULL, NULL), HPOOL_EINVAL);
    CHECK_RC(hpool_wait(&f, 1, 0, (hpool_return_when)0, NULL, NULL), HPOOL_EINVAL);
    CHECK_RC(hpool_wait(&f, 1, 0, (hpool_return_when)9, NULL, NULL), HPOOL_EINVAL);
    hpool_as_completed *ac = NULL;
    CHECK_OK(hpool_as_completed_create(&f, 1, 30.0, &ac));
    CHECK_RC(hpool_as_completed_next(ac, NULL), HPOOL_EINVAL);
    hpool_as_completed_free(ac);
    CHECK_OK(hpool_future_result(f, 30.0, NULL, NULL));
    CHECK_OK(hpool_future_release(f));
}

/* Released futures answer HPOOL_ERELEASED (or false), whether the executor had already
 * let go of them (finished) or still holds them (pending when released). */
static void check_released(hpool_future *f)
{
    hpool_error_info info;
    bool done[1] = {true};
    size_t nd = 7;
    hpool_as_completed *ac = NULL;
    CHECK_RC(hpool_future_release(f), HPOOL_ERELEASED);
    CHECK(strstr(hpool_last_error(), "released") != NULL);
    CHECK_RC(hpool_future_result(f, 0, NULL, NULL), HPOOL_ERELEASED);
    CHECK_RC(hpool_future_result(f, HPOOL_FOREVER, NULL, NULL), HPOOL_ERELEASED);
    CHECK_RC(hpool_future_error(f, HPOOL_FOREVER, &info), HPOOL_ERELEASED);
    CHECK_RC(hpool_wait(&f, 1, HPOOL_FOREVER, HPOOL_ALL_COMPLETED, done, &nd),
             HPOOL_ERELEASED);
    CHECK(!done[0]);
    CHECK_RC(hpool_as_completed_create(&f, 1, HPOOL_FOREVER, &ac), HPOOL_ERELEASED);
    CHECK_RC(hpool_future_add_done_callback(f, noop_cb, NULL), HPOOL_ERELEASED);
    CHECK(!hpool_future_done(f));
    CHECK(!hpool_future_running(f));
    CHECK(!hpool_future_cancelled(f));
    CHECK(!hpool_future_cancel(f));
}

static void released_futures(hpool_executor *ex)
{
    hpool_future *done_f = submit_sleepy(ex, 1);
    CHECK_OK(hpool_future_result(done_f, 30.0, NULL, NULL));
    CHECK_OK(hpool_future_release(done_f));
    check_released(done_f);

    hpool_future *slow = submit_sleepy(ex, 150);
    CHECK_OK(hpool_future_release(slow));
    check_released(slow);
    /* Its work goes on; the executor drains without it. */
    hpool_future *after = submit_sleepy(ex, 1);
    CHECK_OK(hpool_future_result(after, 30.0, NULL, NULL));
    CHECK_OK(hpool_future_release(after));
    check_released(slow);
}

static void generic_task_failure(hpool_executor *ex)
{
    hpool_future *f = NULL;
    CHECK_OK(hpool_submit(ex, "silent_fail", NULL, 0, &f));
    CHECK_RC(hpool_future_result(f, 30.0, NULL, NULL), HPOOL_ETASK);
    hpool_error_info info;
    CHECK_OK(hpool_future_error(f, 0, &info));
    CHECK(info.code == HPOOL_ETASK);
    CHECK(info.task_status == 42);
    CHECK(info.message != NULL && info.message[0] != '\0');
    CHECK_OK(hpool_future_release(f));

    CHECK_OK(hpool_submit(ex, "task_api_misuse", NULL, 0, &f));
    const void *res = NULL;
    size_t len = 0;
    CHECK_OK(hpool_future_result(f, 30.0, &res, &len));
    CHECK(len == sizeof(int32_t));
    int32_t wrong;
    memcpy(&wrong, res, sizeof wrong);
    CHECK(wrong == 0);
    CHECK_OK(hpool_future_release(f));
}

/* The task-side API called on rank 0 with NULL: errors, no crash. */
static void task_api_outside_tasks(void)
{
    CHECK_RC(hpool_task_return(NULL, NULL, 0), HPOOL_EINVAL);
    CHECK_RC(hpool_task_fail(NULL, "%d", 1), HPOOL_EINVAL);
    CHECK(hpool_task_rank(NULL) == HPOOL_EINVAL);
    CHECK(hpool_task_executor_id(NULL) == HPOOL_EINVAL);
    CHECK(hpool_task_item(NULL) == 0);
    CHECK(hpool_task_worker_state(NULL) == NULL);
}

/* ---------------------------------------------------------------- map */
static int one_item(void *user, uint64_t index, void *record)
{
    (void)user;
    memset(record, 0, 4);
    return index == 0;
}

static void map_misuse(hpool_executor *ex)
{
    int32_t items[4] = {1, 2, 3, 4};
    hpool_map_iter *m = NULL;
    hpool_map_options gen = {.gen = one_item};
    CHECK_RC(hpool_map(NULL, "echo", items, 4, 4, NULL, &m), HPOOL_EINVAL);
    CHECK_RC(hpool_map(ex, "echo", items, 4, 4, NULL, NULL), HPOOL_EINVAL);
    CHECK_RC(hpool_map(ex, "echo", items, 0, 4, NULL, &m), HPOOL_EINVAL);
    CHECK_RC(hpool_map(ex, "echo", NULL, 4, 4, NULL, &m), HPOOL_EINVAL);   /* no input */
    CHECK_RC(hpool_map(ex, "echo", items, 4, 4, &gen, &m), HPOOL_EINVAL);  /* two inputs */
    hpool_map_options sched = {.schedule = HPOOL_SCHED_COUNT};
    CHECK_RC(hpool_map(ex, "echo", items, 4, 4, &sched, &m), HPOOL_EINVAL);
    CHECK_RC(hpool_map(ex, "no_such_task", items, 4, 4, NULL, &m), HPOOL_ENOTASK);
    CHECK_RC(hpool_map(ex, NULL, items, 4, 4, NULL, &m), HPOOL_ENOTASK);
    CHECK(m == NULL);
    const void *res;
    size_t len;
    CHECK_RC(hpool_map_next(NULL, &res, &len, NULL), HPOOL_EINVAL);
    CHECK_RC(hpool_map_close(NULL), HPOOL_EINVAL);
    CHECK(strcmp(hpool_map_error(NULL, NULL, NULL), "") == 0);
}

/* ---------------------------------------------------------------- executor lifecycle */
static void second_executor_busy(void)
{
    hpool_executor *ex, *other = NULL;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    CHECK_RC(hpool_executor_create(&other, NULL), HPOOL_EBUSY);
    CHECK(other == NULL);
    CHECK(strstr(hpool_last_error(), "active") != NULL);
    hpool_future *f = submit_sleepy(ex, 50);
    CHECK_RC(hpool_executor_create(&other, NULL), HPOOL_EBUSY); /* still, while working */
    CHECK_OK(hpool_shutdown(ex, true, false));
    CHECK_OK(hpool_executor_create(&other, NULL)); /* shut down: free to go */
    CHECK_OK(hpool_future_result(f, 0, NULL, NULL));
    CHECK_OK(hpool_future_release(f));
    CHECK_OK(hpool_executor_destroy(other));
    CHECK_OK(hpool_executor_destroy(ex));
}

static void use_after_shutdown(void)
{
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    CHECK_OK(hpool_shutdown(ex, true, false));
    hpool_future *f = NULL;
    int32_t x = 5;
    CHECK_RC(hpool_submit(ex, "echo", &x, sizeof x, &f), HPOOL_ESHUTDOWN);
    CHECK(f == NULL);
    int32_t items[4] = {1, 2, 3, 4};
    hpool_map_iter *m = NULL;
    CHECK_RC(hpool_map(ex, "echo", items, sizeof items[0], 4, NULL, &m), HPOOL_ESHUTDOWN);
    CHECK(m == NULL);
    hpool_map_options gen = {.gen = one_item};
    CHECK_RC(hpool_map(ex, "echo", NULL, sizeof items[0], 0, &gen, &m), HPOOL_ESHUTDOWN);
    CHECK_OK(hpool_shutdown(ex, true, true)); /* repeated shutdown is harmless */
    hpool_executor_stats st;
    CHECK_OK(hpool_executor_get_stats(ex, &st));
    CHECK(st.items == 0);
    CHECK_OK(hpool_executor_destroy(ex));
}

static void run_manager(int world)
{
    init_and_registry_misuse(world);
    bad_executor_options(world);
    null_future_calls();
    task_api_outside_tasks();
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    submit_misuse(ex);
    bad_arguments_with_live_future(ex);
    released_futures(ex);
    generic_task_failure(ex);
    map_misuse(ex);
    CHECK_OK(hpool_executor_destroy(ex));
    second_executor_busy();
    use_after_shutdown();
}
