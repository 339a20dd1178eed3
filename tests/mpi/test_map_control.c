/* map control flow: timeout (ETIMEDOUT, then the results once they are in), a failing item
 * (ETASK exactly at its position, with message, rank and item, iteration going on), early
 * close (prompt, no work left running, the next executor works), shutdown with
 * cancel_futures during a map (carved chunks finish, then ECANCELLED), from the consuming
 * thread and from another one, and buffersize over an array (bounded, never stuck, chunks
 * not cut into fragments by a slow consumer; shutdown while it waits for room; a map
 * waiting for room does not hold up another map). */
#define _DEFAULT_SOURCE /* mkdtemp, nanosleep */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "hpool_test.h"

/* An item: its index, how long the task sleeps (us), and whether it fails. */
typedef struct {
    uint64_t index;
    uint32_t sleep_us;
    uint32_t fail;
} rec_t;

static uint64_t value_of(uint64_t i)
{
    return i * 7919 + 3;
}

static void sleep_us(uint64_t us)
{
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int work(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    if (len != sizeof(rec_t))
        return hpool_task_fail(ctx, "bad record length %zu", len);
    rec_t r;
    memcpy(&r, arg, sizeof r);
    if (r.sleep_us)
        sleep_us(r.sleep_us);
    if (r.fail)
        return hpool_task_fail(ctx, "item %llu refused", (unsigned long long)r.index);
    uint64_t out[2] = {r.index, value_of(r.index)};
    return hpool_task_return(ctx, out, sizeof out);
}

static void register_tasks(void)
{
    hpool_register_task("work", work);
}

enum { N_MAX = 100000 };
static rec_t items[N_MAX];

static void fill(size_t n, uint32_t us)
{
    for (size_t i = 0; i < n; i++)
        items[i] = (rec_t){i, us, 0};
}

static void check_result(const void *res, size_t len, uint64_t idx)
{
    CHECK(len == 2 * sizeof(uint64_t));
    uint64_t out[2];
    memcpy(out, res, sizeof out);
    CHECK(out[0] == idx);
    CHECK(out[1] == value_of(idx));
}

/* ---- timeout ----------------------------------------------------------------------- */
static void timeout_then_results(void)
{
    enum { N = 8 };
    fill(N, 0);
    items[0].sleep_us = 1200000;
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    hpool_map_options o = {.timeout_s = 0.2, .timeout_set = true};
    hpool_map_iter *m;
    double t0 = now();
    CHECK_OK(hpool_map(ex, "work", items, sizeof(rec_t), N, &o, &m));
    const void *res;
    size_t len;
    uint64_t idx;
    /* The map's deadline, not the item's sleep: a timeout, not item 0's result. */
    CHECK_RC(hpool_map_next(m, &res, &len, &idx), HPOOL_ETIMEDOUT);
    CHECK(now() - t0 >= 0.19);
    /* The deadline has passed: a call returns at once, with a result only if it is in
     * (else HPOOL_ETIMEDOUT again), and the work went on: every result comes, in order. */
    double give_up = now() + 60;
    for (uint64_t i = 0; i < N; i++) {
        int rc;
        while ((rc = hpool_map_next(m, &res, &len, &idx)) == HPOOL_ETIMEDOUT &&
               now() < give_up)
            sleep_us(10000);
        CHECK_RC(rc, 1);
        CHECK(idx == i);
        check_result(res, len, idx);
    }
    CHECK_RC(hpool_map_next(m, &res, &len, &idx), 0);
    CHECK_OK(hpool_map_close(m));
    CHECK_OK(hpool_executor_destroy(ex));
}

/* ---- a failing item ------------------------------------------------------------------ */
static void error_at(hpool_executor *ex, int world, size_t n, uint64_t k, size_t cs,
                     bool unordered)
{
    fill(n, 0);
    items[k].fail = 1;
    hpool_map_options o = {.chunksize = cs, .unordered = unordered};
    hpool_map_iter *m;
    CHECK_OK(hpool_map(ex, "work", items, sizeof(rec_t), n, &o, &m));
    static unsigned char seen[N_MAX];
    memset(seen, 0, n);
    const void *res;
    size_t len;
    uint64_t idx;
    size_t pos = 0, failures = 0;
    int rc;
    while ((rc = hpool_map_next(m, &res, &len, &idx)) != 0) {
        CHECK(pos < n);
        CHECK(idx < n && !seen[idx]);
        seen[idx] = 1;
        if (!unordered)
            CHECK(idx == pos);
        if (idx == k) {
            CHECK_RC(rc, HPOOL_ETASK);
            int rank = -1;
            uint64_t item = UINT64_MAX;
            const char *msg = hpool_map_error(m, &rank, &item);
            char want[64];
            snprintf(want, sizeof want, "item %llu refused", (unsigned long long)k);
            CHECK(strcmp(msg, want) == 0);
            CHECK(strstr(hpool_last_error(), want) != NULL);
            CHECK(rank >= 1 && rank < world);
            CHECK(item == k);
            failures++;
        } else {
            CHECK_RC(rc, 1);
            check_result(res, len, idx);
        }
        pos++;
    }
    CHECK(pos == n);
    CHECK(failures == 1);
    CHECK_OK(hpool_map_close(m));
}

static void errors(int world)
{
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    /* Inside a chunk, at the first and the last item, with chunks of one. */
    error_at(ex, world, 200, 37, 8, false);
    error_at(ex, world, 200, 0, 8, false);
    error_at(ex, world, 200, 199, 8, false);
    error_at(ex, world, 50, 20, 1, false);
    error_at(ex, world, 200, 37, 8, true);
    CHECK_OK(hpool_executor_destroy(ex));
}

/* ---- early close --------------------------------------------------------------------- */
static void small_map_works(void)
{
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    fill(100, 0);
    hpool_map_iter *m;
    hpool_map_options o = {.chunksize = 3};
    CHECK_OK(hpool_map(ex, "work", items, sizeof(rec_t), 100, &o, &m));
    const void *res;
    size_t len;
    uint64_t idx, got = 0;
    while (hpool_map_next(m, &res, &len, &idx) == 1) {
        CHECK(idx == got);
        check_result(res, len, idx);
        got++;
    }
    CHECK(got == 100);
    CHECK_OK(hpool_map_close(m));
    CHECK_OK(hpool_executor_destroy(ex));
}

/* 100000 items of 200 us: 20 s of work divided by the worker count, at least 5 s. Closing
 * after `consume` results must only wait for the chunks in flight (2 per worker, 4 items
 * each), so close and shutdown take well under the 2 s allowed. */
static void early_close(size_t consume, bool unordered)
{
    fill(N_MAX, 200);
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    hpool_map_options o = {.chunksize = 4, .unordered = unordered};
    hpool_map_iter *m;
    CHECK_OK(hpool_map(ex, "work", items, sizeof(rec_t), N_MAX, &o, &m));
    const void *res;
    size_t len;
    uint64_t idx;
    for (size_t i = 0; i < consume; i++) {
        CHECK_RC(hpool_map_next(m, &res, &len, &idx), 1);
        if (!unordered)
            CHECK(idx == i);
        check_result(res, len, idx);
    }
    double t0 = now();
    CHECK_OK(hpool_map_close(m));
    double t_close = now() - t0;
    CHECK(t_close < 2.0);
    t0 = now();
    CHECK_OK(hpool_shutdown(ex, true, false));
    double t_shutdown = now() - t0;
    CHECK(t_shutdown < 2.0);
    hpool_executor_stats st;
    CHECK_OK(hpool_executor_get_stats(ex, &st));
    /* Only the chunks in flight at close ran: far less than the map. */
    CHECK(st.items < 2000);
    CHECK_OK(hpool_executor_destroy(ex));
    small_map_works();
}

/* ---- shutdown(cancel_futures) during a map ------------------------------------------- */
/* Consume until the end; ordered results must be consecutive from `from`, unordered ones
 * distinct. Returns the number consumed and the final code. */
static size_t drain(hpool_map_iter *m, size_t from, bool unordered, unsigned char *seen,
                    int *final, atomic_size_t *progress)
{
    const void *res;
    size_t len;
    uint64_t idx;
    size_t pos = from;
    int rc;
    while ((rc = hpool_map_next(m, &res, &len, &idx)) == 1) {
        CHECK(idx < N_MAX);
        if (!unordered)
            CHECK(idx == pos);
        CHECK(!seen[idx]);
        seen[idx] = 1;
        check_result(res, len, idx);
        pos++;
        if (progress)
            atomic_store(progress, pos);
    }
    *final = rc;
    return pos;
}

static void cancel_same_thread(bool unordered)
{
    static unsigned char seen[N_MAX];
    memset(seen, 0, sizeof seen);
    fill(N_MAX, 50);
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    hpool_map_options o = {.chunksize = 10, .unordered = unordered};
    hpool_map_iter *m;
    CHECK_OK(hpool_map(ex, "work", items, sizeof(rec_t), N_MAX, &o, &m));
    const void *res;
    size_t len;
    uint64_t idx;
    for (size_t i = 0; i < 5; i++) {
        CHECK_RC(hpool_map_next(m, &res, &len, &idx), 1);
        CHECK(!seen[idx]);
        seen[idx] = 1;
        check_result(res, len, idx);
    }
    double t0 = now();
    CHECK_OK(hpool_shutdown(ex, true, true)); /* waits for the dispatched chunks */
    CHECK(now() - t0 < 2.0);
    int rc;
    size_t got = drain(m, 5, unordered, seen, &rc, NULL);
    CHECK_RC(rc, HPOOL_ECANCELLED);
    CHECK(got >= 5 && got < 5000);
    hpool_executor_stats st;
    CHECK_OK(hpool_executor_get_stats(ex, &st));
    CHECK(st.items == got); /* every dispatched item was delivered, nothing else ran */
    if (unordered) /* the carved items are a prefix: chunks are carved in index order */
        for (size_t i = 0; i < got; i++)
            CHECK(seen[i]);
    CHECK_RC(hpool_map_next(m, &res, &len, &idx), HPOOL_ECANCELLED); /* and it stays so */
    CHECK_OK(hpool_map_close(m));
    CHECK_OK(hpool_executor_destroy(ex));
}

typedef struct {
    hpool_map_iter *m;
    size_t got;
    int rc;
    unsigned char *seen;
    atomic_size_t progress; /* results taken so far, for the cancelling thread */
} consumer_arg;

static void *consumer(void *p)
{
    consumer_arg *a = p;
    a->got = drain(a->m, 0, false, a->seen, &a->rc, &a->progress);
    return NULL;
}

static void cancel_other_thread(void)
{
    static unsigned char seen[N_MAX];
    memset(seen, 0, sizeof seen);
    fill(N_MAX, 50);
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    hpool_map_options o = {.chunksize = 10};
    hpool_map_iter *m;
    CHECK_OK(hpool_map(ex, "work", items, sizeof(rec_t), N_MAX, &o, &m));
    consumer_arg a = {m, 0, 1, seen, 0};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, consumer, &a) == 0);
    /* Cancel while the map is under way: after some results, far from the end. */
    while (atomic_load(&a.progress) < 200)
        sleep_us(1000);
    /* No CHECK while the consumer runs: it CHECKs, and the check counter is not atomic. */
    double t0 = now();
    int rc = hpool_shutdown(ex, false, true);
    double t_shutdown = now() - t0;
    int joined = pthread_join(th, NULL);
    double t_end = now() - t0;
    CHECK_OK(rc);
    CHECK(joined == 0);
    CHECK(t_shutdown < 0.5); /* wait=false returns at once */
    CHECK(t_end < 2.0);      /* the consumer saw the end soon after */
    CHECK_RC(a.rc, HPOOL_ECANCELLED);
    CHECK(a.got > 0 && a.got < N_MAX);
    CHECK_OK(hpool_shutdown(ex, true, false)); /* a second shutdown only waits */
    hpool_executor_stats st;
    CHECK_OK(hpool_executor_get_stats(ex, &st));
    CHECK(st.items == a.got); /* every dispatched item was delivered, nothing else ran */
    CHECK_OK(hpool_map_close(m));
    CHECK_OK(hpool_executor_destroy(ex));
    small_map_works();
}

/* ---- buffersize over an array -------------------------------------------------------- */
/* A slow consumer: the buffer fills, then every consumed item opens room for one. The
 * map must keep going (not leave the executor's queue while waiting for room) and carve
 * whole chunks, not one-item fragments. */
static void buffered_array(int world)
{
    enum { N = 3000, B = 100, CS = 10 };
    fill(N, 0);
    char dir[] = "/tmp/hpool-test-mapctl-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    hpool_executor_options eo = {.record_dir = dir};
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, &eo));
    hpool_map_options o = {.chunksize = CS, .buffersize = B, .timeout_s = 30, .timeout_set = true};
    hpool_map_iter *m;
    CHECK_OK(hpool_map(ex, "work", items, sizeof(rec_t), N, &o, &m));
    const void *res;
    size_t len;
    uint64_t idx;
    for (uint64_t i = 0; i < N; i++) {
        CHECK_RC(hpool_map_next(m, &res, &len, &idx), 1);
        CHECK(idx == i);
        check_result(res, len, idx);
        if (i % 500 == 0)
            sleep_us(20000); /* let the workers fill the buffer */
    }
    CHECK_RC(hpool_map_next(m, &res, &len, &idx), 0);
    CHECK_OK(hpool_map_close(m));
    CHECK_OK(hpool_executor_destroy(ex));

    char path[512];
    snprintf(path, sizeof path, "%s/chunks.tsv", dir);
    FILE *fp = fopen(path, "r");
    CHECK(fp != NULL);
    char line[1024];
    CHECK(fgets(line, sizeof line, fp) != NULL); /* header */
    size_t chunks = 0, items_seen = 0;
    bool complete = false;
    while (fgets(line, sizeof line, fp)) {
        if (strcmp(line, "# complete\n") == 0) {
            complete = true;
            break;
        }
        int run, worker;
        unsigned long long chunk, first, n;
        char sched[32];
        CHECK(sscanf(line, "%d\t%llu\t%31s\t%d\t%llu\t%llu\t", &run, &chunk, sched, &worker,
                     &first, &n) == 6);
        CHECK(n == CS);
        CHECK(first % CS == 0);
        CHECK(worker >= 1 && worker < world);
        chunks++;
        items_seen += n;
    }
    fclose(fp);
    CHECK(complete);
    CHECK(chunks == N / CS && items_seen == N);
    hpool_test_remove_dir(dir);
}

/* shutdown(wait, no cancel) while a buffered map waits for room: as in CPython 3.14, the
 * work already handed out finishes and nothing new is started, so the map delivers
 * exactly what fitted in the buffer (consumed + buffersize items) and then reports
 * ESHUTDOWN. That count is also the buffersize bound, seen from outside. */
static void shutdown_buffered(void)
{
    enum { N = 1000, B = 50, CS = 5, FIRST = 10 };
    fill(N, 0);
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    hpool_map_options o = {.chunksize = CS, .buffersize = B, .timeout_s = 30, .timeout_set = true};
    hpool_map_iter *m;
    CHECK_OK(hpool_map(ex, "work", items, sizeof(rec_t), N, &o, &m));
    const void *res;
    size_t len;
    uint64_t idx;
    for (uint64_t i = 0; i < FIRST; i++) {
        CHECK_RC(hpool_map_next(m, &res, &len, &idx), 1);
        CHECK(idx == i);
    }
    double t0 = now();
    CHECK_OK(hpool_shutdown(ex, true, false));
    CHECK(now() - t0 < 2.0);
    uint64_t got = FIRST;
    int rc;
    while ((rc = hpool_map_next(m, &res, &len, &idx)) == 1) {
        CHECK(idx == got);
        check_result(res, len, idx);
        got++;
    }
    CHECK_RC(rc, HPOOL_ESHUTDOWN);
    CHECK(got == FIRST + B);
    hpool_executor_stats st;
    CHECK_OK(hpool_executor_get_stats(ex, &st));
    CHECK(st.items == got);
    CHECK_OK(hpool_map_close(m));
    CHECK_OK(hpool_executor_destroy(ex));
}

/* Two maps on one executor: A is buffered and not consumed yet, so it waits for room; B,
 * consumed first, must still get the workers (a waiting map does not block the queue). */
static void two_maps_one_waiting(void)
{
    enum { N = 2000 };
    fill(N, 0);
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    hpool_map_options oa = {.chunksize = 5, .buffersize = 20, .timeout_s = 30, .timeout_set = true};
    hpool_map_options ob = {.chunksize = 5, .timeout_s = 30, .timeout_set = true};
    hpool_map_iter *a, *b;
    CHECK_OK(hpool_map(ex, "work", items, sizeof(rec_t), N, &oa, &a));
    CHECK_OK(hpool_map(ex, "work", items, sizeof(rec_t), N, &ob, &b));
    hpool_map_iter *order[2] = {b, a};
    for (int k = 0; k < 2; k++) {
        const void *res;
        size_t len;
        uint64_t idx;
        for (uint64_t i = 0; i < N; i++) {
            CHECK_RC(hpool_map_next(order[k], &res, &len, &idx), 1);
            CHECK(idx == i);
            check_result(res, len, idx);
        }
        CHECK_RC(hpool_map_next(order[k], &res, &len, &idx), 0);
    }
    CHECK_OK(hpool_map_close(a));
    CHECK_OK(hpool_map_close(b));
    CHECK_OK(hpool_executor_destroy(ex));
}

static void run_manager(int world)
{
    double t[7];
    t[0] = now();
    timeout_then_results();
    t[1] = now();
    errors(world);
    t[2] = now();
    early_close(5, false);
    early_close(5, true);
    early_close(0, false);
    t[3] = now();
    cancel_same_thread(false);
    cancel_same_thread(true);
    t[4] = now();
    cancel_other_thread();
    t[5] = now();
    buffered_array(world);
    shutdown_buffered();
    two_maps_one_waiting();
    t[6] = now();
    printf("test_map_control: timeout %.2f s, errors %.2f s, close %.2f s, cancel %.2f s, "
           "cancel from a thread %.2f s, buffered %.2f s\n",
           t[1] - t[0], t[2] - t[1], t[3] - t[2], t[4] - t[3], t[5] - t[4], t[6] - t[5]);
}
