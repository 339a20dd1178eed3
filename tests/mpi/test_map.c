/* map over an array: every item exactly once and results in order (or tagged with the
 * right index when unordered) for every schedule and for N in {0, 1, P-1, P, 1000,
 * 100003}; the chunk sizes the manager carved (read back from chunks.tsv) equal what the
 * schedule produces; auto reports the schedule it resolved to; results whose length
 * varies inside a chunk (so RESULT messages of both forms, wire.h) come back intact; bad
 * arguments and a map after shutdown fail with the documented codes.
 *
 * HPOOL_MAP_PRINT=1 prints the chunk sequence of each schedule for N=1000. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <dirent.h>
#include <stdint.h>
#include <unistd.h>

#include "hpool_test.h"
#include "schedule.h"

typedef struct {
    uint64_t index;
    uint64_t key;
} rec_t;

typedef struct {
    uint64_t index; /* echoed from the record: identity of what the task read */
    uint64_t item;  /* hpool_task_item: the index the manager says the record has */
    uint64_t value; /* f(key): the task really ran on this record */
} res_t;

static uint64_t key_of(uint64_t i)
{
    return i * 2654435761u + 17;
}

static uint64_t f(uint64_t key)
{
    return (key * 0x9E3779B97F4A7C15ull) ^ (key >> 7);
}

static int mix(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    if (len != sizeof(rec_t))
        return hpool_task_fail(ctx, "bad record length %zu", len);
    rec_t r;
    memcpy(&r, arg, sizeof r);
    res_t out = {r.index, hpool_task_item(ctx), f(r.key)};
    return hpool_task_return(ctx, &out, sizeof out);
}

/* Results of a length that depends on the item (wire.h: a RESULT is uniform while its
 * items succeed with one length, length-prefixed from the first that does not):
 *   [0, 300)    8 bytes: uniform chunks;
 *   [300, 600)  8, 12 or 16 bytes by i % 3: lengths differ inside every chunk;
 *   [600, 1000) 16 bytes, but none (no hpool_task_return at all) when i % 97 == 0 and an
 *               explicit empty result when i % 89 == 0: a chunk turns length-prefixed at
 *               that item, at any position. */
enum { VARY_N = 1000 };

static size_t vary_len(uint64_t i)
{
    if (i < 300)
        return 8;
    if (i < 600)
        return 8 + 4 * (size_t)(i % 3);
    return i % 97 == 0 || i % 89 == 0 ? 0 : 16;
}

static void vary_bytes(uint64_t i, unsigned char *out)
{
    uint64_t w[2] = {f(key_of(i)), i};
    memcpy(out, w, sizeof w);
}

static int vary(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    if (len != sizeof(rec_t))
        return hpool_task_fail(ctx, "bad record length %zu", len);
    rec_t r;
    memcpy(&r, arg, sizeof r);
    size_t n = vary_len(r.index);
    if (r.index >= 600 && r.index % 97 == 0)
        return 0;
    if (n == 0)
        return hpool_task_return(ctx, NULL, 0);
    unsigned char out[16];
    vary_bytes(r.index, out);
    return hpool_task_return(ctx, out, n);
}

static void register_tasks(void)
{
    hpool_register_task("mix", mix);
    hpool_register_task("vary", vary);
}

enum { N_MAX = 100003 };
static rec_t items[N_MAX];

static void fill_items(void)
{
    for (uint64_t i = 0; i < N_MAX; i++)
        items[i] = (rec_t){i, key_of(i)};
}

/* The result of item idx must say idx three ways and carry f(key(idx)). */
static void check_result(const void *res, size_t len, uint64_t idx)
{
    CHECK(len == sizeof(res_t));
    res_t r;
    memcpy(&r, res, sizeof r);
    CHECK(r.index == idx);
    CHECK(r.item == idx);
    CHECK(r.value == f(key_of(idx)));
}

/* Run one map to its end and check exactly-once delivery. */
static void map_once(hpool_executor *ex, hpool_schedule_kind kind, size_t n, size_t chunksize,
                     bool unordered)
{
    static unsigned char seen[N_MAX];
    memset(seen, 0, n);
    hpool_map_options o = {.schedule = kind, .chunksize = chunksize, .unordered = unordered};
    hpool_map_iter *m;
    /* N = 0 still passes the array: items == NULL would mean "generator form". */
    CHECK_OK(hpool_map(ex, "mix", items, sizeof(rec_t), n, &o, &m));
    const void *res;
    size_t len;
    uint64_t idx;
    size_t got = 0;
    int rc;
    while ((rc = hpool_map_next(m, &res, &len, &idx)) == 1) {
        CHECK(got < n);
        if (unordered) {
            CHECK(idx < n);
            CHECK(!seen[idx]);
            seen[idx] = 1;
        } else {
            CHECK(idx == got);
        }
        check_result(res, len, idx);
        got++;
    }
    CHECK_RC(rc, 0);
    CHECK(got == n);
    CHECK_RC(hpool_map_next(m, &res, &len, &idx), 0); /* the end stays the end */
    hpool_schedule_kind used = hpool_map_schedule_used(m);
    if (kind == HPOOL_SCHED_AUTO) /* decided by simulation, or still probing: tasks this
                                   * short may end below the timer, leaving no rate */
        CHECK((int)used >= 0 && used < HPOOL_SCHED_COUNT);
    else
        CHECK(used == kind);
    CHECK_OK(hpool_map_close(m));
}

/* Every result of "vary" arrives with its own length and bytes, whatever the form of
 * the RESULT that carried it. */
static void result_lengths(void)
{
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    static const size_t sizes[] = {1, 7, 16, 64, 256};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        for (int unordered = 0; unordered <= 1; unordered++) {
            hpool_map_options o = {.chunksize = sizes[k], .unordered = unordered};
            hpool_map_iter *m;
            CHECK_OK(hpool_map(ex, "vary", items, sizeof(rec_t), VARY_N, &o, &m));
            static unsigned char seen[VARY_N];
            memset(seen, 0, sizeof seen);
            const void *res;
            size_t len;
            uint64_t idx, got = 0;
            int rc;
            while ((rc = hpool_map_next(m, &res, &len, &idx)) == 1) {
                CHECK(idx < VARY_N && !seen[idx]);
                seen[idx] = 1;
                CHECK(unordered || idx == got);
                CHECK(len == vary_len(idx));
                unsigned char want[16];
                vary_bytes(idx, want);
                CHECK(len == 0 || memcmp(res, want, len) == 0);
                got++;
            }
            CHECK_RC(rc, 0);
            CHECK(got == VARY_N);
            CHECK_OK(hpool_map_close(m));
        }
    CHECK_OK(hpool_executor_destroy(ex));
}

static void every_schedule_every_n(int world)
{
    const size_t p = (size_t)(world - 1);
    const size_t ns[] = {0, 1, p - 1, p, 1000, N_MAX};
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    for (int k = 0; k < HPOOL_SCHED_COUNT; k++) {
        for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
            /* Chunks of 1 over 100003 cheap items would time the manager, not the map. */
            size_t cs = ns[i] == N_MAX ? 64 : (k == HPOOL_SCHED_FIXED ? 3 : 1);
            map_once(ex, (hpool_schedule_kind)k, ns[i], cs, false);
            map_once(ex, (hpool_schedule_kind)k, ns[i], cs, true);
        }
    }
    CHECK_OK(hpool_shutdown(ex, true, false));
    hpool_executor_stats st;
    CHECK_OK(hpool_executor_get_stats(ex, &st));
    uint64_t want = 0;
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
        want += 2 * HPOOL_SCHED_COUNT * (uint64_t)ns[i];
    CHECK(st.items == want); /* nothing ran twice, nothing ran that was not delivered */
    CHECK_OK(hpool_executor_destroy(ex));
}

/* ---- chunk sizes from chunks.tsv ------------------------------------------------- */
typedef struct {
    uint64_t first, items;
    int worker;
    char schedule[32];
    bool present;
} chunk_row;

/* Reads dir/chunks.tsv into rows[chunk id]; returns the number of chunks. The file must
 * be complete and the chunk ids must be exactly 0..count-1. */
static size_t read_chunks(const char *dir, chunk_row *rows, size_t cap)
{
    char path[512];
    snprintf(path, sizeof path, "%s/chunks.tsv", dir);
    FILE *fp = fopen(path, "r");
    CHECK(fp != NULL);
    char line[1024];
    CHECK(fgets(line, sizeof line, fp) != NULL);
    CHECK(strncmp(line, "run\tchunk\tschedule\tworker\tfirst_item\titems\t", 42) == 0);
    size_t count = 0;
    bool complete = false;
    while (fgets(line, sizeof line, fp)) {
        CHECK(!complete); /* "# complete" is the last line */
        if (strcmp(line, "# complete\n") == 0) {
            complete = true;
            continue;
        }
        int run, worker;
        unsigned long long chunk, first, n;
        char sched[32];
        CHECK(sscanf(line, "%d\t%llu\t%31s\t%d\t%llu\t%llu\t", &run, &chunk, sched, &worker,
                     &first, &n) == 6);
        CHECK(chunk < cap);
        CHECK(!rows[chunk].present);
        rows[chunk] = (chunk_row){first, n, worker, "", true};
        snprintf(rows[chunk].schedule, sizeof rows[chunk].schedule, "%s", sched);
        count++;
    }
    fclose(fp);
    CHECK(complete);
    for (size_t i = 0; i < count; i++)
        CHECK(rows[i].present);
    return count;
}

/* One map in its own recorded executor; the chunk sequence in chunk-id order must be the
 * schedule's own sequence for (N, P, chunksize). */
static void chunk_sizes_match(int world, hpool_schedule_kind kind, size_t n, size_t cs,
                              bool print)
{
    char dir[] = "/tmp/hpool-test-map-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    hpool_executor_options eo = {.record_dir = dir};
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, &eo));
    hpool_map_options o = {.schedule = kind, .chunksize = cs};
    hpool_map_iter *m;
    CHECK_OK(hpool_map(ex, "mix", items, sizeof(rec_t), n, &o, &m));
    const void *res;
    size_t len;
    uint64_t idx, got = 0;
    int rc;
    while ((rc = hpool_map_next(m, &res, &len, &idx)) == 1) {
        CHECK(idx == got);
        check_result(res, len, idx);
        got++;
    }
    CHECK_RC(rc, 0);
    CHECK(got == n);
    CHECK_OK(hpool_map_close(m));
    CHECK_OK(hpool_executor_destroy(ex)); /* writes chunks.tsv */

    enum { CAP = 4096 };
    static chunk_row rows[CAP];
    memset(rows, 0, sizeof rows);
    size_t count = read_chunks(dir, rows, CAP);

    const int p = world - 1;
    hpool__schedule s;
    hpool__schedule_init(&s, kind, n, p, cs);
    uint64_t carved = 0;
    size_t k = 0;
    if (print)
        printf("%-9s N=%zu P=%d chunksize=%zu:", hpool_schedule_name(kind), n, p, cs);
    while (carved < n) {
        uint64_t want = hpool__schedule_next(&s, n - carved, 0);
        CHECK(k < count);
        if (rows[k].items != want)
            fprintf(stderr, "%s N=%zu: chunk %zu has %llu items, schedule says %llu\n",
                    hpool_schedule_name(kind), n, k, (unsigned long long)rows[k].items,
                    (unsigned long long)want);
        CHECK(rows[k].items == want);
        CHECK(rows[k].first == carved); /* chunk ids are carve order */
        CHECK(rows[k].worker >= 1 && rows[k].worker <= p);
        CHECK(strcmp(rows[k].schedule, hpool_schedule_name(kind)) == 0);
        if (print)
            printf(" %llu", (unsigned long long)want);
        carved += want;
        k++;
    }
    if (print)
        printf("  (%zu chunks)\n", k);
    CHECK(k == count);
    hpool__schedule_free(&s);
    hpool_test_remove_dir(dir);
}

/* The adaptive kinds (FSC without a given spread, AWF and its variants, AF, AUTO) size
 * chunks from measured times, so the exact sequence depends on timing. What holds
 * regardless: chunks cover the input contiguously in chunk-id order, none is below
 * chunksize except where fewer items were left, and the schedule column names what was
 * in force (AUTO: "auto" while probing, then the kind its simulation picked). */
static void chunk_sizes_adaptive(int world, hpool_schedule_kind kind, size_t n, size_t cs,
                                 bool print)
{
    char dir[] = "/tmp/hpool-test-map-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    hpool_executor_options eo = {.record_dir = dir};
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, &eo));
    hpool_map_options o = {.schedule = kind, .chunksize = cs};
    hpool_map_iter *m;
    CHECK_OK(hpool_map(ex, "mix", items, sizeof(rec_t), n, &o, &m));
    const void *res;
    size_t len;
    uint64_t idx, got = 0;
    while (hpool_map_next(m, &res, &len, &idx) == 1) {
        CHECK(idx == got);
        check_result(res, len, idx);
        got++;
    }
    CHECK(got == n);
    hpool_schedule_kind used = hpool_map_schedule_used(m);
    CHECK_OK(hpool_map_close(m));
    CHECK_OK(hpool_executor_destroy(ex));

    enum { CAP = 4096 };
    static chunk_row rows[CAP];
    memset(rows, 0, sizeof rows);
    size_t count = read_chunks(dir, rows, CAP);
    if (print)
        printf("%-9s N=%zu P=%d chunksize=%zu (used %s):", hpool_schedule_name(kind), n,
               world - 1, cs, hpool_schedule_name(used));
    uint64_t carved = 0;
    for (size_t k = 0; k < count; k++) {
        CHECK(rows[k].first == carved);
        CHECK(rows[k].items >= 1);
        CHECK(rows[k].items >= cs || rows[k].items == n - carved);
        CHECK(rows[k].worker >= 1 && rows[k].worker < world);
        hpool_schedule_kind in_force;
        CHECK(hpool_schedule_parse(rows[k].schedule, &in_force) == 0);
        CHECK(kind == HPOOL_SCHED_AUTO || in_force == kind);
        if (print)
            printf(" %llu", (unsigned long long)rows[k].items);
        carved += rows[k].items;
    }
    if (print)
        printf("  (%zu chunks)\n", count);
    CHECK(carved == n);
    hpool_test_remove_dir(dir);
}

static void chunk_sequences(int world)
{
    bool print = getenv("HPOOL_MAP_PRINT") != NULL;
    const hpool_schedule_kind kinds[] = {HPOOL_SCHED_FIXED,     HPOOL_SCHED_STATIC,
                                         HPOOL_SCHED_GUIDED,    HPOOL_SCHED_TRAPEZOID,
                                         HPOOL_SCHED_FACTORING, HPOOL_SCHED_SS,
                                         HPOOL_SCHED_MFSC,      HPOOL_SCHED_WF};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        /* fixed with chunksize 1 would be 1000 ones: 16 leaves a short last chunk. */
        size_t cs = kinds[i] == HPOOL_SCHED_FIXED || kinds[i] == HPOOL_SCHED_SS ? 16 : 1;
        chunk_sizes_match(world, kinds[i], 1000, cs, print);
        chunk_sizes_match(world, kinds[i], N_MAX, kinds[i] == HPOOL_SCHED_FIXED ? 997 : 64,
                          false);
    }
    const hpool_schedule_kind adaptive[] = {HPOOL_SCHED_AWF,   HPOOL_SCHED_AUTO,
                                            HPOOL_SCHED_FSC,   HPOOL_SCHED_AWF_B,
                                            HPOOL_SCHED_AWF_C, HPOOL_SCHED_AWF_D,
                                            HPOOL_SCHED_AWF_E, HPOOL_SCHED_AF};
    for (size_t i = 0; i < sizeof adaptive / sizeof adaptive[0]; i++) {
        chunk_sizes_adaptive(world, adaptive[i], 1000, 1, print);
        chunk_sizes_adaptive(world, adaptive[i], N_MAX, 64, false);
    }
}

/* auto probes first (reporting "auto"), then keeps the kind its simulation picked; at the
 * end of a map of 5000 items it has decided, so it reports that kind, not "auto". */
static void auto_reports_resolved(void)
{
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    hpool_map_options o = {.schedule = HPOOL_SCHED_AUTO, .chunksize = 4};
    hpool_map_iter *m;
    CHECK_OK(hpool_map(ex, "mix", items, sizeof(rec_t), 5000, &o, &m));
    CHECK(hpool_map_schedule_used(m) == HPOOL_SCHED_AUTO); /* before any measurement */
    const void *res;
    size_t len;
    uint64_t idx, got = 0;
    while (hpool_map_next(m, &res, &len, &idx) == 1)
        got++;
    CHECK(got == 5000);
    hpool_schedule_kind used = hpool_map_schedule_used(m);
    CHECK(used != HPOOL_SCHED_AUTO && used < HPOOL_SCHED_COUNT);
    CHECK_OK(hpool_map_close(m));
    CHECK_OK(hpool_executor_destroy(ex));
}

static int gen_nothing(void *user, uint64_t index, void *record)
{
    (void)user;
    (void)index;
    (void)record;
    return 0;
}

static void bad_arguments(void)
{
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, NULL));
    hpool_map_iter *m = NULL;
    hpool_map_options o = {0};
    CHECK_RC(hpool_map(ex, "mix", items, 0, 10, &o, &m), HPOOL_EINVAL);
    hpool_map_options both = {.gen = gen_nothing};
    CHECK_RC(hpool_map(ex, "mix", items, sizeof(rec_t), 10, &both, &m), HPOOL_EINVAL);
    CHECK_RC(hpool_map(ex, "mix", NULL, sizeof(rec_t), 10, &o, &m), HPOOL_EINVAL);
    CHECK_RC(hpool_map(ex, "no-such-task", items, sizeof(rec_t), 10, &o, &m), HPOOL_ENOTASK);
    CHECK_RC(hpool_map(ex, NULL, items, sizeof(rec_t), 10, &o, &m), HPOOL_ENOTASK);
    hpool_map_options bad_kind = {.schedule = HPOOL_SCHED_COUNT};
    CHECK_RC(hpool_map(ex, "mix", items, sizeof(rec_t), 10, &bad_kind, &m), HPOOL_EINVAL);
    CHECK_RC(hpool_map(NULL, "mix", items, sizeof(rec_t), 10, &o, &m), HPOOL_EINVAL);
    CHECK_RC(hpool_map(ex, "mix", items, sizeof(rec_t), 10, &o, NULL), HPOOL_EINVAL);
    CHECK(m == NULL); /* failed calls leave the output alone */
    CHECK_RC(hpool_map_next(NULL, NULL, NULL, NULL), HPOOL_EINVAL);
    CHECK_RC(hpool_map_close(NULL), HPOOL_EINVAL);

    /* The executor is still usable after the rejected calls. */
    CHECK_OK(hpool_map(ex, "mix", items, sizeof(rec_t), 10, NULL, &m));
    const void *res;
    size_t len;
    uint64_t idx, got = 0;
    while (hpool_map_next(m, &res, &len, &idx) == 1) {
        check_result(res, len, idx);
        got++;
    }
    CHECK(got == 10);
    CHECK_OK(hpool_map_close(m));

    CHECK_OK(hpool_shutdown(ex, true, false));
    m = NULL;
    CHECK_RC(hpool_map(ex, "mix", items, sizeof(rec_t), 10, NULL, &m), HPOOL_ESHUTDOWN);
    hpool_map_options g = {.gen = gen_nothing};
    CHECK_RC(hpool_map(ex, "mix", NULL, sizeof(rec_t), 0, &g, &m), HPOOL_ESHUTDOWN);
    CHECK(m == NULL);
    CHECK_OK(hpool_executor_destroy(ex));
}

static void run_manager(int world)
{
    fill_items();
    double t0 = MPI_Wtime();
    every_schedule_every_n(world);
    double t1 = MPI_Wtime();
    chunk_sequences(world);
    double t2 = MPI_Wtime();
    auto_reports_resolved();
    result_lengths();
    bad_arguments();
    printf("test_map: exactly-once %.2f s, chunk sequences %.2f s, rest %.2f s\n", t1 - t0,
           t2 - t1, MPI_Wtime() - t2);
}
