/* map over a generator: 2,000,000 items with buffersize 10,000 in flat memory (rank 0's
 * peak RSS) and with the generator never more than buffersize ahead of the consumer; the
 * upper bound n; a generator that ends or fails part way; unordered over the ring (item
 * contents intact when chunks finish out of order); a slow consumer does not cut chunks
 * short; cancel and close of a generator map. */
#define _DEFAULT_SOURCE /* mkdtemp, nanosleep */
#include <dirent.h>
#include <stdint.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "hpool_test.h"

typedef struct {
    uint64_t index;
    uint64_t key;
} rec_t;

static uint64_t key_of(uint64_t i)
{
    return i * 0x9E3779B97F4A7C15ull + 5;
}

static uint64_t f(uint64_t key)
{
    return key ^ (key >> 29) ^ 0x5bd1e995u;
}

/* Cheap: the result is the record's index and f(key), so a record read from the wrong
 * ring slot shows. hpool_task_item must agree with the record. */
static int mix(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    if (len != sizeof(rec_t))
        return hpool_task_fail(ctx, "bad record length %zu", len);
    rec_t r;
    memcpy(&r, arg, sizeof r);
    if (hpool_task_item(ctx) != r.index)
        return hpool_task_fail(ctx, "item %llu carries record %llu",
                               (unsigned long long)hpool_task_item(ctx),
                               (unsigned long long)r.index);
    uint64_t out[2] = {r.index, f(r.key)};
    return hpool_task_return(ctx, out, sizeof out);
}

/* Like mix, but every 7th item takes a while, so chunks finish out of order. */
static int uneven(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    rec_t r;
    memcpy(&r, arg, sizeof r);
    if (r.index % 7 == 0) {
        struct timespec ts = {0, 20000};
        nanosleep(&ts, NULL);
    }
    return mix(ctx, arg, len);
}

static void register_tasks(void)
{
    hpool_register_task("mix", mix);
    hpool_register_task("uneven", uneven);
}

static void check_result(const void *res, size_t len, uint64_t idx)
{
    CHECK(len == 2 * sizeof(uint64_t));
    uint64_t out[2];
    memcpy(out, res, sizeof out);
    CHECK(out[0] == idx);
    CHECK(out[1] == f(key_of(idx)));
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the generator ------------------------------------------------------------------- */
typedef struct {
    uint64_t next;      /* the index it expects: the library asks in order, once each */
    uint64_t end;       /* returns 0 here (UINT64_MAX: never ends) */
    uint64_t fail_at;   /* returns -1 here (UINT64_MAX: never fails) */
    uint64_t consumed;  /* results the test has taken so far */
    uint64_t max_ahead; /* max of (index generated - consumed) */
} gen_state;

static int gen(void *user, uint64_t index, void *record)
{
    gen_state *g = user;
    CHECK(index == g->next);
    if (index == g->fail_at)
        return -1;
    if (index >= g->end)
        return 0;
    g->next++;
    if (index - g->consumed > g->max_ahead)
        g->max_ahead = index - g->consumed;
    rec_t r = {index, key_of(index)};
    memcpy(record, &r, sizeof r);
    return 1;
}

static gen_state gen_new(uint64_t end)
{
    return (gen_state){0, end, UINT64_MAX, 0, 0};
}

static long max_rss_kib(void)
{
    struct rusage ru;
    CHECK(getrusage(RUSAGE_SELF, &ru) == 0);
    return ru.ru_maxrss;
}

/* ---- 2,000,000 items, buffersize 10,000 ------------------------------------------------ */
/* Runs first in the process, so the peak RSS is not already above what the map needs. */
static void two_million(void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    enum { N = 400000 }; /* the sanitizer builds check the same paths, at a fifth */
#else
    enum { N = 2000000 };
#endif
    enum { B = 10000, STAGE = 256 };
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    long base = max_rss_kib();
    gen_state g = gen_new(N);
    hpool_map_options o = {.chunksize = 100, .buffersize = B, .gen = gen, .gen_user = &g};
    hpool_map_iter *m;
    double t0 = now();
    CHECK_OK(hpool_map(ex, "mix", NULL, sizeof(rec_t), 0, &o, &m));
    const void *res;
    size_t len;
    uint64_t idx;
    int rc;
    while ((rc = hpool_map_next(m, &res, &len, &idx)) == 1) {
        if (idx != g.consumed) /* CHECK per item costs more than the map here */
            CHECK(idx == g.consumed);
        uint64_t out[2];
        memcpy(out, res, sizeof out);
        if (len != sizeof out || out[0] != idx || out[1] != f(key_of(idx)))
            check_result(res, len, idx);
        g.consumed++;
    }
    CHECK_RC(rc, 0);
    double t = now() - t0;
    CHECK(g.consumed == N);
    CHECK(g.next == N);
    CHECK_OK(hpool_map_close(m));
    long grown = max_rss_kib() - base;
    printf("test_map_gen: %d items in %.2f s, peak RSS +%ld KiB, generator ahead by at most "
           "%llu\n",
           (int)N, t, grown, (unsigned long long)g.max_ahead);
#if defined(__SANITIZE_ADDRESS__)
    /* ASan keeps freed blocks in quarantine (256 MiB by default): RSS says nothing then. */
    (void)grown;
#else
    CHECK(grown < 32 * 1024);
#endif
    CHECK(g.max_ahead <= B + STAGE);
    CHECK_OK(hpool_shutdown(ex, true, false));
    hpool_executor_stats st;
    CHECK_OK(hpool_executor_get_stats(ex, &st));
    CHECK(st.items == N);
    CHECK(st.chunks == N / 100); /* chunks of exactly 100: none cut short */
    CHECK_OK(hpool_executor_destroy(ex));
}

/* ---- ends, bounds and failures --------------------------------------------------------- */
/* Consume a whole generator map in order; returns the final code. */
static int consume_all(hpool_map_iter *m, gen_state *g, uint64_t *got)
{
    const void *res;
    size_t len;
    uint64_t idx;
    int rc;
    *got = 0;
    while ((rc = hpool_map_next(m, &res, &len, &idx)) == 1) {
        CHECK(idx == *got);
        check_result(res, len, idx);
        (*got)++;
        g->consumed++;
    }
    return rc;
}

static void ends_and_bounds(hpool_executor *ex)
{
    for (int k = 0; k < HPOOL_SCHED_COUNT; k++) {
        /* A generator that ends by itself, n unknown. */
        gen_state g = gen_new(12345);
        hpool_map_options o = {.schedule = (hpool_schedule_kind)k, .chunksize = 8,
                               .buffersize = 1000, .gen = gen, .gen_user = &g,
                               .timeout_s = 30, .timeout_set = true};
        hpool_map_iter *m;
        uint64_t got;
        CHECK_OK(hpool_map(ex, "mix", NULL, sizeof(rec_t), 0, &o, &m));
        CHECK_RC(consume_all(m, &g, &got), 0);
        CHECK(got == 12345);
        CHECK_OK(hpool_map_close(m));

        /* A generator that never ends, bounded by n: it is not asked past n. */
        g = gen_new(UINT64_MAX);
        CHECK_OK(hpool_map(ex, "mix", NULL, sizeof(rec_t), 3000, &o, &m));
        CHECK_RC(consume_all(m, &g, &got), 0);
        CHECK(got == 3000);
        CHECK(g.next == 3000);
        CHECK_OK(hpool_map_close(m));
    }
    /* Empty generator, and default options (buffersize 0 = the library's default). */
    gen_state g = gen_new(0);
    hpool_map_options o = {.gen = gen, .gen_user = &g};
    hpool_map_iter *m;
    uint64_t got;
    CHECK_OK(hpool_map(ex, "mix", NULL, sizeof(rec_t), 0, &o, &m));
    CHECK_RC(consume_all(m, &g, &got), 0);
    CHECK(got == 0);
    CHECK_OK(hpool_map_close(m));
    g = gen_new(9000);
    CHECK_OK(hpool_map(ex, "mix", NULL, sizeof(rec_t), 0, &o, &m));
    CHECK_RC(consume_all(m, &g, &got), 0);
    CHECK(got == 9000);
    CHECK_OK(hpool_map_close(m));
}

/* The generator fails at item k: items before it are delivered, then the map fails. */
static void generator_fails(hpool_executor *ex)
{
    const uint64_t ks[] = {0, 5, 700};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        gen_state g = gen_new(UINT64_MAX);
        g.fail_at = ks[i];
        hpool_map_options o = {.chunksize = 4, .buffersize = 100, .gen = gen,
                               .gen_user = &g, .timeout_s = 30, .timeout_set = true};
        hpool_map_iter *m;
        CHECK_OK(hpool_map(ex, "mix", NULL, sizeof(rec_t), 0, &o, &m));
        uint64_t got;
        int rc = consume_all(m, &g, &got);
        CHECK(got == ks[i]);
        CHECK_RC(rc, HPOOL_EINVAL);
        CHECK(strstr(hpool_last_error(), "generator failed") != NULL);
        CHECK_RC(hpool_map_next(m, NULL, NULL, NULL), HPOOL_EINVAL);
        CHECK_OK(hpool_map_close(m));
    }
}

/* Unordered over the ring: slow chunks finish after later ones were consumed; no ring
 * slot may be reused while its item can still be sent. Every index once, right content. */
static void unordered_ring(hpool_executor *ex)
{
    enum { N = 30000 };
    static unsigned char seen[N];
    memset(seen, 0, sizeof seen);
    gen_state g = gen_new(N);
    hpool_map_options o = {.chunksize = 7, .buffersize = 300, .unordered = true, .gen = gen,
                           .gen_user = &g, .timeout_s = 30, .timeout_set = true};
    hpool_map_iter *m;
    CHECK_OK(hpool_map(ex, "uneven", NULL, sizeof(rec_t), 0, &o, &m));
    const void *res;
    size_t len;
    uint64_t idx, got = 0;
    int rc;
    while ((rc = hpool_map_next(m, &res, &len, &idx)) == 1) {
        CHECK(idx < N && !seen[idx]);
        seen[idx] = 1;
        check_result(res, len, idx);
        got++;
        g.consumed++;
    }
    CHECK_RC(rc, 0);
    CHECK(got == N);
    CHECK(g.max_ahead <= 300 + 256);
    CHECK_OK(hpool_map_close(m));
}

/* ---- a slow consumer keeps whole chunks ------------------------------------------------ */
static void slow_consumer_whole_chunks(void)
{
    enum { N = 20050, B = 500, CS = 100 };
    char dir[] = "/tmp/hpool-test-mapgen-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    hpool_executor_options eo = {.record_dir = dir};
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, &eo));
    gen_state g = gen_new(N);
    hpool_map_options o = {.chunksize = CS, .buffersize = B, .gen = gen, .gen_user = &g,
                           .timeout_s = 30, .timeout_set = true};
    hpool_map_iter *m;
    CHECK_OK(hpool_map(ex, "mix", NULL, sizeof(rec_t), 0, &o, &m));
    const void *res;
    size_t len;
    uint64_t idx;
    for (uint64_t i = 0; i < N; i++) {
        CHECK_RC(hpool_map_next(m, &res, &len, &idx), 1);
        CHECK(idx == i);
        check_result(res, len, idx);
        g.consumed++;
        if (i % 2000 == 0) { /* the buffer fills up while the consumer is away */
            struct timespec ts = {0, 10000000};
            nanosleep(&ts, NULL);
        }
    }
    CHECK_RC(hpool_map_next(m, &res, &len, &idx), 0);
    CHECK(g.max_ahead <= B + 256);
    CHECK_OK(hpool_map_close(m));
    CHECK_OK(hpool_executor_destroy(ex));

    char path[512];
    snprintf(path, sizeof path, "%s/chunks.tsv", dir);
    FILE *fp = fopen(path, "r");
    CHECK(fp != NULL);
    char line[1024];
    CHECK(fgets(line, sizeof line, fp) != NULL); /* header */
    size_t chunks = 0, short_chunks = 0, items = 0;
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
        CHECK(first % CS == 0);
        if (n != CS) {
            CHECK(first + n == N); /* only the input's last chunk may be short */
            short_chunks++;
        }
        chunks++;
        items += n;
    }
    fclose(fp);
    CHECK(complete);
    CHECK(items == N);
    CHECK(short_chunks == 1 && chunks == N / CS + 1);
    hpool_test_remove_dir(dir);
}

/* ---- cancel and close ------------------------------------------------------------------ */
static void cancel_generator_map(void)
{
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    gen_state g = gen_new(UINT64_MAX);
    hpool_map_options o = {.chunksize = 10, .buffersize = 2000, .gen = gen, .gen_user = &g,
                           .timeout_s = 30, .timeout_set = true};
    hpool_map_iter *m;
    CHECK_OK(hpool_map(ex, "uneven", NULL, sizeof(rec_t), 0, &o, &m));
    const void *res;
    size_t len;
    uint64_t idx;
    for (uint64_t i = 0; i < 100; i++) {
        CHECK_RC(hpool_map_next(m, &res, &len, &idx), 1);
        CHECK(idx == i);
        g.consumed++;
    }
    CHECK_OK(hpool_shutdown(ex, true, true));
    uint64_t asked = g.next;
    int rc;
    uint64_t got = 100;
    while ((rc = hpool_map_next(m, &res, &len, &idx)) == 1) {
        CHECK(idx == got);
        check_result(res, len, idx);
        got++;
        g.consumed++;
    }
    CHECK_RC(rc, HPOOL_ECANCELLED);
    CHECK(g.next == asked); /* a cancelled map does not pull its generator any more */
    hpool_executor_stats st;
    CHECK_OK(hpool_executor_get_stats(ex, &st));
    CHECK(st.items == got);
    CHECK_OK(hpool_map_close(m));
    CHECK_OK(hpool_executor_destroy(ex));

    /* Cancel after the generator ended and every item was carved: nothing is lost, so the
     * map ends normally. One chunk holds the whole input. */
    CHECK_OK(hpool_executor_create(&ex, NULL));
    g = gen_new(50);
    hpool_map_options o2 = {.chunksize = 50, .gen = gen, .gen_user = &g, .timeout_s = 30, .timeout_set = true};
    CHECK_OK(hpool_map(ex, "mix", NULL, sizeof(rec_t), 0, &o2, &m));
    CHECK_RC(hpool_map_next(m, &res, &len, &idx), 1);
    CHECK_OK(hpool_shutdown(ex, true, true));
    got = 1;
    while ((rc = hpool_map_next(m, &res, &len, &idx)) == 1) {
        CHECK(idx == got);
        check_result(res, len, idx);
        got++;
    }
    CHECK_RC(rc, 0);
    CHECK(got == 50);
    CHECK_OK(hpool_map_close(m));
    CHECK_OK(hpool_executor_destroy(ex));
}

static void close_generator_map(void)
{
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    gen_state g = gen_new(UINT64_MAX);
    hpool_map_options o = {.chunksize = 10, .gen = gen, .gen_user = &g, .timeout_s = 30, .timeout_set = true};
    hpool_map_iter *m;
    CHECK_OK(hpool_map(ex, "uneven", NULL, sizeof(rec_t), 0, &o, &m));
    const void *res;
    size_t len;
    uint64_t idx;
    for (uint64_t i = 0; i < 25; i++)
        CHECK_RC(hpool_map_next(m, &res, &len, &idx), 1);
    double t0 = now();
    CHECK_OK(hpool_map_close(m));
    CHECK_OK(hpool_shutdown(ex, true, false));
    CHECK(now() - t0 < 2.0);
    CHECK_OK(hpool_executor_destroy(ex));
}

static void run_manager(int world)
{
    (void)world;
    double t[5];
    t[0] = now();
    two_million();
    t[1] = now();
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    ends_and_bounds(ex);
    generator_fails(ex);
    unordered_ring(ex);
    CHECK_OK(hpool_executor_destroy(ex));
    t[2] = now();
    slow_consumer_whole_chunks();
    t[3] = now();
    cancel_generator_map();
    close_generator_map();
    t[4] = now();
    printf("test_map_gen: 2M %.2f s, ends/bounds/failures/unordered %.2f s, slow consumer "
           "%.2f s, cancel/close %.2f s\n",
           t[1] - t[0], t[2] - t[1], t[3] - t[2], t[4] - t[3]);
}
