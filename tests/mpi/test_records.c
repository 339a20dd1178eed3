/* Timing records of real runs (docs/FORMATS.md): chunks.tsv, spans.tsv, clock.tsv and
 * trace.json are parsed back and checked against what the run did.
 *
 *  - one chunks.tsv row per call item (map chunks cover every item once, submits one row
 *    each), 13 columns, the `# complete` footer, the failing chunk's status;
 *  - one spans.tsv row per inner item (hpool_task_inner_map) and per span a task
 *    recorded itself, each inside its chunk on the same worker;
 *  - causality of every row: t_submit <= t_dispatch <= t_recv <= t_start <= t_end <=
 *    t_result, where a worker time may be off by at most half the round trip of its
 *    clock sample (clock.h), so the manager-vs-worker comparisons get that slack (read
 *    from clock.tsv) and the worker-vs-worker ones only the 1 ns of printing;
 *  - trace.json parses (jansson) and has the Chrome trace structure, with one "X" event
 *    per chunk and per span whose ts matches the TSV;
 *  - no .partial file is left, and a later chunks-level run into the same directory
 *    replaces the files and drops the stale spans.tsv.
 *
 * Two modes serve tests/e2e/records_abort.sh: `test_records --abort-after N DIR` makes
 * one complete run into DIR, then a run whose worker calls _exit(3) at item N, so that
 * the job dies with its records half written; `test_records --check-partial N DIR` then
 * reads what that run left in DIR/chunks.partial, by the layout in docs/FORMATS.md
 * (written out again here, independently of records.c). */
#include <math.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "hpool_test.h"

/* ---------------------------------------------------------------- tasks */
static int twice(void *user, size_t i, const void *in, void *out)
{
    (void)user;
    (void)i;
    int64_t x;
    memcpy(&x, in, sizeof x);
    x *= 2;
    memcpy(out, &x, sizeof x);
    return 0;
}

/* Runs x%3+1 inner items; fails on 13; records one span of its own when x%5 == 0, with
 * a label that needs sanitising. Returns the sum of the inner results. */
static int inner(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    int64_t x;
    if (len != sizeof x)
        return hpool_task_fail(ctx, "bad length %zu", len);
    memcpy(&x, arg, sizeof x);
    if (x == 13)
        return hpool_task_fail(ctx, "thirteen");
    int64_t in[3] = {x, x + 1, x + 2}, out[3] = {0};
    size_t k = (size_t)(x % 3) + 1;
    int rc = hpool_task_inner_map(ctx, twice, NULL, in, sizeof in[0], out, sizeof out[0], k,
                                  "inner");
    if (rc != 0)
        return rc;
    if (x % 5 == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        double t = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
        hpool_task_record_span(ctx, 99, t, t, "q\"t\\b\x01");
    }
    int64_t sum = out[0] + out[1] + out[2];
    return hpool_task_return(ctx, &sum, sizeof sum);
}

/* Abort mode: sleeps 2 ms per item, and the worker that gets item `die_at` exits. */
typedef struct {
    int64_t x, die_at;
} doomed_arg;

static int doomed(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    doomed_arg a;
    if (len != sizeof a)
        return hpool_task_fail(ctx, "bad length %zu", len);
    memcpy(&a, arg, sizeof a);
    if (a.x == a.die_at) {
        fprintf(stderr, "test_records: rank %d exits at item %lld, as asked\n",
                hpool_task_rank(ctx), (long long)a.x);
        _exit(3);
    }
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
    return hpool_task_return(ctx, &a.x, sizeof a.x);
}

/* Bounded trace: item LAG_FAIL fails, item LAG_SLOW takes 40 ms, the others nothing. */
enum { LAG_ITEMS = 3000, LAG_FAIL = 1000, LAG_SLOW = 1500, LAG_CAP = 200 };

static int lag(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    int64_t x;
    if (len != sizeof x)
        return hpool_task_fail(ctx, "bad length %zu", len);
    memcpy(&x, arg, sizeof x);
    if (x == LAG_FAIL)
        return hpool_task_fail(ctx, "the fault trace.json must keep");
    if (x == LAG_SLOW) {
        struct timespec ts = {0, 40000000};
        nanosleep(&ts, NULL);
    }
    return hpool_task_return(ctx, &x, sizeof x);
}

static void register_tasks(void)
{
    hpool_register_task("lag", lag);
    hpool_register_task("inner", inner);
    hpool_register_task("doomed", doomed);
}

/* ---------------------------------------------------------------- reading files */
typedef struct {
    char **line;
    size_t n;
} lines;

static lines read_lines(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        fprintf(stderr, "cannot open %s\n", path);
    CHECK(f != NULL);
    lines L = {NULL, 0};
    size_t cap = 0;
    char *buf = NULL;
    size_t bcap = 0;
    ssize_t k;
    while ((k = getline(&buf, &bcap, f)) > 0) {
        CHECK(buf[k - 1] == '\n'); /* every line is whole */
        buf[k - 1] = '\0';
        if (L.n == cap) {
            cap = cap ? 2 * cap : 256;
            L.line = realloc(L.line, cap * sizeof *L.line);
            CHECK(L.line != NULL);
        }
        L.line[L.n++] = strdup(buf);
    }
    free(buf);
    fclose(f);
    return L;
}

static void free_lines(lines *L)
{
    for (size_t i = 0; i < L->n; i++)
        free(L->line[i]);
    free(L->line);
}

/* Split at tabs (empty fields kept); returns the field count. */
static int split(char *s, char **f, int max)
{
    int n = 0;
    f[n++] = s;
    for (; *s; s++)
        if (*s == '\t') {
            *s = '\0';
            if (n == max)
                return max + 1;
            f[n++] = s + 1;
        }
    return n;
}

static bool file_exists(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0;
}

/* A TSV with the expected header and the footer; returns its data rows split. */
typedef struct {
    char **f; /* rows * cols fields */
    size_t rows;
    int cols;
    lines raw;
} table;

static table read_table(const char *dir, const char *name, const char *header, int cols)
{
    table t = {NULL, 0, cols, read_lines(dir, name)};
    CHECK(t.raw.n >= 2);
    CHECK(strcmp(t.raw.line[0], header) == 0);
    CHECK(strcmp(t.raw.line[t.raw.n - 1], "# complete") == 0);
    t.rows = t.raw.n - 2;
    t.f = calloc(t.rows * (size_t)cols + 1, sizeof *t.f);
    CHECK(t.f != NULL);
    for (size_t r = 0; r < t.rows; r++) {
        int n = split(t.raw.line[r + 1], &t.f[r * (size_t)cols], cols);
        if (n != cols)
            fprintf(stderr, "%s row %zu: %d fields, want %d\n", name, r, n, cols);
        CHECK(n == cols);
    }
    return t;
}

static const char *cell(const table *t, size_t r, int c)
{
    return t->f[r * (size_t)t->cols + c];
}

static double num(const table *t, size_t r, int c)
{
    char *end;
    double v = strtod(cell(t, r, c), &end);
    CHECK(end != cell(t, r, c) && *end == '\0');
    return v;
}

static void free_table(table *t)
{
    free(t->f);
    free_lines(&t->raw);
}

static const char CHUNK_HEADER[] = "run\tchunk\tschedule\tworker\tfirst_item\titems\tt_submit\t"
                                   "t_dispatch\tt_recv\tt_start\tt_end\tt_result\tstatus";
static const char SPAN_HEADER[] = "run\trank\tthread\tchunk\titem\tinner\tt_start\tt_end\tlabel";
static const char CLOCK_HEADER[] = "rank\toffset_start\trtt_start\tat_start\toffset_end\t"
                                   "rtt_end\tat_end\tdrift\tt0";
enum { C_RUN, C_CHUNK, C_SCHED, C_WORKER, C_FIRST, C_ITEMS, C_SUBMIT, C_DISPATCH, C_RECV,
       C_START, C_END, C_RESULT, C_STATUS, CHUNK_COLS };
enum { S_RUN, S_RANK, S_THREAD, S_CHUNK, S_ITEM, S_INNER, S_START, S_END, S_LABEL, SPAN_COLS };

/* ---------------------------------------------------------------- checks */
#define MAX_RANK 64
#define PRINT_EPS 2e-9 /* two roundings to the ns */

/* Per worker rank: the slack of a manager-vs-worker comparison, from clock.tsv. */
static void read_slack(const char *dir, int world, double *slack)
{
    table t = read_table(dir, "clock.tsv", CLOCK_HEADER, 9);
    CHECK((int)t.rows == world - 1);
    for (int r = 0; r < MAX_RANK; r++)
        slack[r] = -1;
    for (size_t i = 0; i < t.rows; i++) {
        int rank = atoi(cell(&t, i, 0));
        CHECK(rank >= 1 && rank < world && rank < MAX_RANK);
        double rs = num(&t, i, 2), re = num(&t, i, 5);
        CHECK(rs > 0 && re > 0 && isfinite(num(&t, i, 1)) && isfinite(num(&t, i, 4)));
        CHECK(num(&t, i, 6) > num(&t, i, 3)); /* end sample after the start sample */
        CHECK(num(&t, i, 8) > 0 && num(&t, i, 8) == num(&t, 0, 8)); /* t0, in every row */
        slack[rank] = fmax(rs, re) / 2 + PRINT_EPS;
    }
    free_table(&t);
}

typedef struct {
    int world;
    size_t map_items, map_chunksize, submits;
    bool spans;
    int run;
} expect;

static size_t spans_of(int64_t x)
{
    return x == 13 ? 0 : (size_t)(x % 3) + 1 + (x % 5 == 0);
}

/* Checks chunks.tsv (and spans.tsv at level spans); fills the t_start/t_end of every
 * chunk id for the trace check. */
static void check_tsv(const char *dir, const expect *e, double *chunk_ts, size_t max_chunks,
                      size_t *n_chunks, size_t *n_spans)
{
    double slack[MAX_RANK];
    read_slack(dir, e->world, slack);
    table c = read_table(dir, "chunks.tsv", CHUNK_HEADER, CHUNK_COLS);
    size_t want_chunks = (e->map_items + e->map_chunksize - 1) / e->map_chunksize + e->submits;
    CHECK(c.rows == want_chunks);
    char *seen_map = calloc(e->map_items, 1);
    char *seen_sub = calloc(e->submits, 1);
    char *seen_chunk = calloc(max_chunks, 1);
    struct {
        int worker;
        uint64_t first, items;
        double t_start, t_end;
    } *info = calloc(max_chunks, sizeof *info);
    CHECK(seen_map && seen_sub && seen_chunk && info);
    double worst = -INFINITY, worst_slack = 0; /* closest approach, for the log */
    for (size_t r = 0; r < c.rows; r++) {
        CHECK(atoi(cell(&c, r, C_RUN)) == e->run);
        uint64_t id = strtoull(cell(&c, r, C_CHUNK), NULL, 10);
        CHECK(id < max_chunks && !seen_chunk[id]);
        seen_chunk[id] = 1;
        int w = atoi(cell(&c, r, C_WORKER));
        CHECK(w >= 1 && w < e->world && slack[w] > 0);
        uint64_t first = strtoull(cell(&c, r, C_FIRST), NULL, 10);
        uint64_t items = strtoull(cell(&c, r, C_ITEMS), NULL, 10);
        bool sub = strcmp(cell(&c, r, C_SCHED), "submit") == 0;
        CHECK(sub || strcmp(cell(&c, r, C_SCHED), "fixed") == 0);
        bool has13 = false;
        if (sub) {
            CHECK(items == 1 && first < e->submits && !seen_sub[first]);
            seen_sub[first] = 1;
        } else {
            CHECK(items >= 1 && items <= e->map_chunksize && first + items <= e->map_items);
            for (uint64_t i = first; i < first + items; i++) {
                CHECK(!seen_map[i]);
                seen_map[i] = 1;
                has13 |= i == 13;
            }
        }
        CHECK(atoi(cell(&c, r, C_STATUS)) == (has13 ? HPOOL_ETASK : 0));
        double t[6];
        for (int k = 0; k < 6; k++)
            t[k] = num(&c, r, C_SUBMIT + k);
        /* submit <= dispatch <= recv <= start <= end <= result */
        CHECK(t[0] >= 0 && t[0] <= t[1] + PRINT_EPS);
        double lag_in = t[1] - t[2], lag_out = t[4] - t[5]; /* > 0: worker time too early/late */
        if (fmax(lag_in, lag_out) > worst) {
            worst = fmax(lag_in, lag_out);
            worst_slack = slack[w];
        }
        if (!(lag_in <= slack[w] && lag_out <= slack[w]))
            fprintf(stderr, "chunk %llu on rank %d: dispatch-recv %.9f, end-result %.9f, slack %.9f\n",
                    (unsigned long long)id, w, -lag_in, -lag_out, slack[w]);
        CHECK(lag_in <= slack[w] && lag_out <= slack[w]);
        CHECK(t[2] <= t[3] + PRINT_EPS && t[3] <= t[4] + PRINT_EPS);
        info[id].worker = w;
        info[id].first = first;
        info[id].items = items;
        info[id].t_start = t[3];
        info[id].t_end = t[4];
        chunk_ts[2 * id] = t[3];
        chunk_ts[2 * id + 1] = t[4];
    }
    for (size_t i = 0; i < e->map_items; i++)
        CHECK(seen_map[i]);
    for (size_t i = 0; i < e->submits; i++)
        CHECK(seen_sub[i]);
    printf("  chunks.tsv: %zu rows, causal; closest manager/worker pair %.3f us apart "
           "(allowed: %.3f us the wrong way, rtt/2 of that worker's clock samples)\n",
           c.rows, -worst * 1e6, worst_slack * 1e6);
    *n_chunks = c.rows;

    *n_spans = 0;
    if (e->spans) {
        size_t want = 0;
        for (size_t i = 0; i < e->map_items; i++)
            want += spans_of((int64_t)i);
        for (size_t j = 0; j < e->submits; j++)
            want += spans_of(1000 + (int64_t)j);
        table s = read_table(dir, "spans.tsv", SPAN_HEADER, SPAN_COLS);
        CHECK(s.rows == want);
        size_t own = 0;
        for (size_t r = 0; r < s.rows; r++) {
            CHECK(atoi(cell(&s, r, S_RUN)) == e->run);
            uint64_t id = strtoull(cell(&s, r, S_CHUNK), NULL, 10);
            CHECK(id < max_chunks && seen_chunk[id]);
            CHECK(atoi(cell(&s, r, S_RANK)) == info[id].worker);
            int thread = atoi(cell(&s, r, S_THREAD));
            CHECK(thread >= 0);
            uint64_t item = strtoull(cell(&s, r, S_ITEM), NULL, 10);
            CHECK(item >= info[id].first && item < info[id].first + info[id].items);
            double a = num(&s, r, S_START), b = num(&s, r, S_END);
            /* Same worker clock, same map: the order is exact. */
            CHECK(a <= b + PRINT_EPS);
            CHECK(a >= info[id].t_start - PRINT_EPS && b <= info[id].t_end + PRINT_EPS);
            const char *label = cell(&s, r, S_LABEL);
            if (strcmp(label, "inner") == 0) {
                CHECK(atoi(cell(&s, r, S_INNER)) <= 2);
            } else {
                CHECK(strcmp(label, "q_t_b_") == 0); /* quote, backslash, \x01 replaced */
                CHECK(atoi(cell(&s, r, S_INNER)) == 99);
                own++;
            }
        }
        CHECK(own > 0);
        printf("  spans.tsv: %zu rows, each inside its chunk\n", s.rows);
        *n_spans = s.rows;
        free_table(&s);
    }
    free(seen_map);
    free(seen_sub);
    free(seen_chunk);
    free(info);
    free_table(&c);
}

static const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    CHECK(json_is_string(v));
    return json_string_value(v);
}

/* trace.json: a Chrome trace (object form) with the events the TSVs promise. */
static void check_trace(const char *dir, const expect *e, const double *chunk_ts,
                        size_t max_chunks, size_t n_chunks, size_t n_spans)
{
    char path[512];
    snprintf(path, sizeof path, "%s/trace.json", dir);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (root == NULL)
        fprintf(stderr, "trace.json: %s at line %d\n", err.text, err.line);
    CHECK(json_is_object(root));
    CHECK(strcmp(jstr(root, "displayTimeUnit"), "ms") == 0);
    json_t *other = json_object_get(root, "otherData");
    CHECK(json_is_object(other));
    CHECK(json_integer_value(json_object_get(other, "run")) == e->run);
    CHECK(json_is_true(json_object_get(other, "complete")));
    CHECK(json_integer_value(json_object_get(other, "chunks")) == (json_int_t)n_chunks);
    CHECK(json_array_size(json_object_get(other, "clocks")) == (size_t)e->world - 1);
    json_t *ev = json_object_get(root, "traceEvents");
    CHECK(json_is_array(ev));
    size_t x_chunks = 0, x_spans = 0;
    bool named[MAX_RANK] = {false}, used[MAX_RANK] = {false};
    size_t i;
    json_t *x;
    json_array_foreach(ev, i, x)
    {
        CHECK(json_is_object(x));
        const char *ph = jstr(x, "ph");
        jstr(x, "name");
        json_t *pid = json_object_get(x, "pid"), *tid = json_object_get(x, "tid");
        CHECK(json_is_integer(pid) && json_is_integer(tid));
        int rank = (int)json_integer_value(pid);
        CHECK(rank >= 1 && rank < e->world);
        json_t *args = json_object_get(x, "args");
        CHECK(json_is_object(args));
        if (strcmp(ph, "M") == 0) {
            const char *what = jstr(x, "name");
            if (strcmp(what, "process_name") == 0)
                named[rank] = true;
            if (strcmp(what, "process_name") == 0 || strcmp(what, "thread_name") == 0)
                jstr(args, "name");
            continue;
        }
        CHECK(strcmp(ph, "X") == 0);
        json_t *ts = json_object_get(x, "ts"), *dur = json_object_get(x, "dur");
        CHECK(json_is_number(ts) && json_is_number(dur));
        CHECK(json_number_value(dur) >= 0);
        used[rank] = true;
        json_t *chunk = json_object_get(args, "chunk");
        CHECK(json_is_integer(chunk));
        uint64_t id = (uint64_t)json_integer_value(chunk);
        CHECK(id < max_chunks);
        const char *cat = jstr(x, "cat");
        if (strcmp(cat, "chunk") == 0) {
            x_chunks++;
            CHECK(json_integer_value(tid) == 0);
            CHECK(json_is_integer(json_object_get(args, "first_item")));
            CHECK(json_is_integer(json_object_get(args, "items")));
            /* The same instant as chunks.tsv's t_start/t_end, in µs. */
            CHECK(fabs(json_number_value(ts) - chunk_ts[2 * id] * 1e6) < 0.01);
            CHECK(fabs(json_number_value(ts) + json_number_value(dur) -
                       chunk_ts[2 * id + 1] * 1e6) < 0.01);
        } else {
            CHECK(strcmp(cat, "span") == 0);
            x_spans++;
            CHECK(json_integer_value(tid) >= 1);
            CHECK(json_is_integer(json_object_get(args, "item")));
            CHECK(json_is_integer(json_object_get(args, "inner")));
            /* A span lies within its chunk's event. */
            CHECK(json_number_value(ts) >= chunk_ts[2 * id] * 1e6 - 0.01);
        }
    }
    CHECK(x_chunks == n_chunks);
    CHECK(x_spans == n_spans);
    for (int r = 1; r < e->world && r < MAX_RANK; r++)
        CHECK(!used[r] || named[r]);
    printf("  trace.json: valid, %zu chunk and %zu span events\n", x_chunks, x_spans);
    json_decref(root);
}

static void check_no_partials(const char *dir)
{
    CHECK(!file_exists(dir, "chunks.partial"));
    CHECK(!file_exists(dir, "spans.partial"));
    CHECK(!file_exists(dir, "clock.tsv.partial"));
}

/* One executor: a map (chunksize 3) and submits of `inner`, at the given level. */
static void run_and_check(const char *dir, const expect *e, hpool_record_level level)
{
    hpool_executor_options eo = {.record_dir = dir, .record_level = level,
                                 .record_run = e->run, .label = "test \"records\"",
                                 .threads_per_worker = 2};
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, &eo));
    int64_t *items = malloc(e->map_items * sizeof *items);
    CHECK(items != NULL);
    for (size_t i = 0; i < e->map_items; i++)
        items[i] = (int64_t)i;
    hpool_map_options mo = {.chunksize = e->map_chunksize};
    hpool_map_iter *m;
    CHECK_OK(hpool_map(ex, "inner", items, sizeof *items, e->map_items, &mo, &m));
    hpool_future **fs = calloc(e->submits, sizeof *fs);
    for (size_t j = 0; j < e->submits; j++) {
        int64_t x = 1000 + (int64_t)j;
        CHECK_OK(hpool_submit(ex, "inner", &x, sizeof x, &fs[j]));
    }
    size_t got = 0, failed = 0;
    for (;;) {
        const void *res;
        size_t len;
        uint64_t idx;
        int rc = hpool_map_next(m, &res, &len, &idx);
        if (rc == 0)
            break;
        if (rc == HPOOL_ETASK) {
            failed++;
            continue;
        }
        CHECK_RC(rc, 1);
        got++;
    }
    CHECK(got == e->map_items - 1 && failed == 1);
    CHECK_OK(hpool_map_close(m));
    for (size_t j = 0; j < e->submits; j++) {
        const void *res;
        size_t len;
        CHECK_OK(hpool_future_result(fs[j], 60.0, &res, &len));
        hpool_future_release(fs[j]);
    }
    free(fs);
    free(items);
    CHECK_OK(hpool_executor_destroy(ex));

    size_t max_chunks = e->map_items + e->submits + 1;
    double *chunk_ts = calloc(2 * max_chunks, sizeof *chunk_ts);
    size_t n_chunks, n_spans;
    check_tsv(dir, e, chunk_ts, max_chunks, &n_chunks, &n_spans);
    check_trace(dir, e, chunk_ts, max_chunks, n_chunks, n_spans);
    check_no_partials(dir);
    CHECK(e->spans == file_exists(dir, "spans.tsv"));
    free(chunk_ts);
}

static void remove_dir(const char *dir)
{
    static const char *const names[] = {"chunks.tsv", "spans.tsv", "clock.tsv", "trace.json",
                                        "chunks.partial", "spans.partial",
                                        "clock.tsv.partial"};
    char path[512];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* ---------------------------------------------------------------- abort mode */
static void abort_mode(long die_at, const char *dir)
{
    /* The earlier good result that the dying run must not touch. */
    hpool_executor_options eo = {.record_dir = dir, .record_run = 1};
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, &eo));
    enum { N_GOOD = 20 };
    doomed_arg good[N_GOOD];
    for (int i = 0; i < N_GOOD; i++)
        good[i] = (doomed_arg){i, -1};
    hpool_map_iter *m;
    CHECK_OK(hpool_map(ex, "doomed", good, sizeof good[0], N_GOOD, NULL, &m));
    while (hpool_map_next(m, NULL, NULL, NULL) == 1) {
    }
    CHECK_OK(hpool_map_close(m));
    CHECK_OK(hpool_executor_destroy(ex));
    printf("abort mode: complete run 1 written to %s\n", dir);
    fflush(stdout);

    size_t n = (size_t)die_at * 4;
    doomed_arg *items = malloc(n * sizeof *items);
    CHECK(items != NULL);
    for (size_t i = 0; i < n; i++)
        items[i] = (doomed_arg){(int64_t)i, die_at};
    hpool_executor_options eo2 = {.record_dir = dir, .record_run = 2};
    CHECK_OK(hpool_executor_create(&ex, &eo2));
    CHECK_OK(hpool_map(ex, "doomed", items, sizeof *items, n, NULL, &m));
    int rc;
    while ((rc = hpool_map_next(m, NULL, NULL, NULL)) == 1) {
    }
    /* Only reached if the pool outlived its worker (the job was not killed): the run
     * then has broken or lost work, and its records must still stay partial. */
    printf("abort mode: run 2 ended with %s\n", hpool_errname(rc));
    hpool_map_close(m);
    hpool_executor_destroy(ex);
    free(items);
    fflush(stdout);
    _exit(4); /* the script expects the job to fail either way */
}

/* chunks.partial as docs/FORMATS.md describes it. */
typedef struct {
    char magic[8];
    uint32_t header_size, record_size;
    int32_t run, level;
    double t0;
    char pad[32];
} doc_header;

/* One chunk record as docs/FORMATS.md decodes it (written here from the document, not
 * with the library's decoder, so that the two are checked against each other). */
typedef struct {
    int64_t chunk, first_item, items, status, worker, schedule;
    double t_submit, t_dispatch, t_result, t_recv, t_start, t_end;
} doc_chunk;

typedef struct {
    int64_t chunk, first_item, t_submit, t_dispatch, t_start;
} doc_prev;

/* A varint at p[*pos] (the record lies within n bytes, or the test fails). */
static uint64_t doc_var(const unsigned char *p, size_t n, size_t *pos)
{
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
        CHECK(*pos < n && shift < 70);
        unsigned char b = p[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (b < 0x80)
            return v;
    }
}

static int64_t doc_z(uint64_t u)
{
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static void doc_decode(const unsigned char *p, size_t n, size_t *pos, doc_prev *prev,
                       doc_chunk *c)
{
    uint64_t f[12];
    for (int i = 0; i < 12; i++)
        f[i] = doc_var(p, n, pos);
    int64_t submit = prev->t_submit + doc_z(f[6]), dispatch = prev->t_dispatch + doc_z(f[7]);
    int64_t start = prev->t_start + doc_z(f[9]);
    c->chunk = prev->chunk + doc_z(f[0]);
    c->first_item = prev->first_item + doc_z(f[1]);
    c->items = (int64_t)f[2];
    c->status = doc_z(f[3]);
    c->worker = doc_z(f[4]);
    c->schedule = doc_z(f[5]);
    c->t_submit = (double)submit / 1e9;
    c->t_dispatch = (double)dispatch / 1e9;
    c->t_result = (double)(dispatch + doc_z(f[8])) / 1e9;
    c->t_start = (double)start / 1e9;
    c->t_recv = (double)(start + doc_z(f[10])) / 1e9;
    c->t_end = (double)(start + doc_z(f[11])) / 1e9;
    *prev = (doc_prev){c->chunk, c->first_item, submit, dispatch, start};
}

/* What the dead run left: a header, whole records of run 2 (none with the item its
 * worker died on), manager times from run start, and the start clocks. */
static void check_partial(long died_at, const char *dir, int world)
{
    char path[512];
    snprintf(path, sizeof path, "%s/chunks.partial", dir);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    doc_header h;
    CHECK(fread(&h, sizeof h, 1, f) == 1);
    CHECK(memcmp(h.magic, "HPOOLCK2", 8) == 0);
    CHECK(h.header_size == 64 && h.record_size == 0 && h.run == 2);
    CHECK(h.level == HPOOL_RECORD_CHUNKS && h.t0 > 0);
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size >= 64);
    size_t bytes = (size_t)st.st_size - 64;
    unsigned char *data = malloc(bytes ? bytes : 1);
    CHECK(data != NULL && fread(data, 1, bytes, f) == bytes);
    fclose(f);
    doc_prev prev = {0};
    doc_chunk c;
    size_t n = 0, pos = 0;
    double last_result = 0;
    while (pos < bytes) { /* whole records only: doc_var fails on a cut one */
        doc_decode(data, bytes, &pos, &prev, &c);
        CHECK(c.worker >= 1 && c.worker < world && c.items >= 1 && c.schedule == 0);
        CHECK(c.status == 0 && c.chunk >= 0 && c.first_item >= 0);
        CHECK(!(c.first_item <= died_at && died_at < c.first_item + c.items));
        CHECK(c.t_dispatch >= 0 && c.t_dispatch <= c.t_result && c.t_result < 120);
        CHECK(c.t_submit >= 0 && c.t_submit <= c.t_dispatch);
        CHECK(c.t_recv <= c.t_start && c.t_start <= c.t_end); /* raw, one worker clock */
        CHECK(c.t_start > 0);
        last_result = fmax(last_result, c.t_result);
        n++;
    }
    free(data);
    CHECK(n >= 1);
    /* clock.tsv.partial: every worker's start offset, no end, t0 as in the header */
    lines L = read_lines(dir, "clock.tsv.partial");
    CHECK((int)L.n == world); /* header + one row per worker */
    for (size_t i = 1; i < L.n; i++) {
        char *fl[9];
        CHECK(split(L.line[i], fl, 9) == 9);
        CHECK(strcmp(fl[1], "nan") != 0 && strcmp(fl[4], "nan") == 0);
        CHECK(fabs(atof(fl[8]) - h.t0) < 1e-6);
    }
    free_lines(&L);
    printf("check-partial: %zu whole records of run 2, the last result %.3f s into the run\n",
           n, last_result);
}

/* ---------------------------------------------------------------- bounded trace */
/* A run of LAG_ITEMS call items with trace_max_events LAG_CAP: trace.json keeps at most
 * the cap, the first call item to start, the last to end, the fault and the straggler,
 * and says how many it left out; chunks.tsv keeps them all. */
static void bounded_check(const char *dir)
{
    hpool_executor_options eo = {.record_dir = dir, .record_run = 3,
                                 .trace_max_events = LAG_CAP};
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, &eo));
    int64_t *items = malloc(LAG_ITEMS * sizeof *items);
    CHECK(items != NULL);
    for (int64_t i = 0; i < LAG_ITEMS; i++)
        items[i] = i;
    hpool_map_options mo = {.chunksize = 1};
    hpool_map_iter *m;
    CHECK_OK(hpool_map(ex, "lag", items, sizeof *items, LAG_ITEMS, &mo, &m));
    int rc;
    size_t failed = 0;
    while ((rc = hpool_map_next(m, NULL, NULL, NULL)) != 0)
        failed += rc == HPOOL_ETASK;
    CHECK(failed == 1);
    CHECK_OK(hpool_map_close(m));
    CHECK_OK(hpool_executor_destroy(ex));
    free(items);

    table c = read_table(dir, "chunks.tsv", CHUNK_HEADER, CHUNK_COLS);
    CHECK(c.rows == LAG_ITEMS);
    uint64_t first = 0, last = 0, fault = UINT64_MAX, slow = UINT64_MAX;
    double first_t = INFINITY, last_t = -INFINITY;
    for (size_t r = 0; r < c.rows; r++) {
        uint64_t id = strtoull(cell(&c, r, C_CHUNK), NULL, 10);
        uint64_t item = strtoull(cell(&c, r, C_FIRST), NULL, 10);
        if (num(&c, r, C_START) < first_t) {
            first_t = num(&c, r, C_START);
            first = id;
        }
        if (num(&c, r, C_END) > last_t) {
            last_t = num(&c, r, C_END);
            last = id;
        }
        if (item == LAG_FAIL)
            fault = id;
        if (item == LAG_SLOW)
            slow = id;
    }
    free_table(&c);
    CHECK(fault != UINT64_MAX && slow != UINT64_MAX);

    char path[512];
    snprintf(path, sizeof path, "%s/trace.json", dir);
    json_t *root = json_load_file(path, 0, NULL);
    CHECK(json_is_object(root));
    json_t *other = json_object_get(root, "otherData");
    size_t i, kept = 0, marks = 0;
    bool have_first = false, have_last = false, have_fault = false, have_slow = false;
    json_t *x;
    json_array_foreach(json_object_get(root, "traceEvents"), i, x)
    {
        const char *ph = jstr(x, "ph");
        if (strcmp(ph, "i") == 0) {
            marks++;
            continue;
        }
        if (strcmp(ph, "X") != 0)
            continue;
        kept++;
        uint64_t id = (uint64_t)json_integer_value(
            json_object_get(json_object_get(x, "args"), "chunk"));
        have_first |= id == first;
        have_last |= id == last;
        have_fault |= id == fault;
        have_slow |= id == slow;
    }
    printf("bounded: %zu of %d call items kept in trace.json (cap %d), %lld left out\n", kept,
           LAG_ITEMS, LAG_CAP,
           (long long)json_integer_value(json_object_get(other, "events_left_out")));
    CHECK(kept > 0 && kept <= LAG_CAP);
    CHECK(have_first && have_last && have_fault && have_slow);
    CHECK(marks == 2); /* where the left-out part begins and ends */
    CHECK(json_integer_value(json_object_get(other, "chunks")) == (json_int_t)kept);
    CHECK(json_integer_value(json_object_get(other, "chunks_total")) == LAG_ITEMS);
    CHECK(json_integer_value(json_object_get(other, "events_left_out")) ==
          (json_int_t)(LAG_ITEMS - kept));
    CHECK(json_integer_value(json_object_get(other, "max_events")) == LAG_CAP);
    CHECK(strcmp(json_string_value(json_array_get(json_object_get(other, "full_records"), 0)),
                 "chunks.tsv") == 0);
    json_t *sel = json_object_get(other, "selection");
    CHECK(json_is_object(sel));
    CHECK(json_integer_value(json_object_get(sel, "faults_kept")) >= 0);
    json_decref(root);
}

static void run_manager(int world)
{
    if (hpool_test_argc >= 4 && strcmp(hpool_test_argv[1], "--abort-after") == 0) {
        abort_mode(atol(hpool_test_argv[2]), hpool_test_argv[3]);
        return;
    }
    if (hpool_test_argc >= 4 && strcmp(hpool_test_argv[1], "--check-partial") == 0) {
        check_partial(atol(hpool_test_argv[2]), hpool_test_argv[3], world);
        return;
    }
    char dir[] = "/tmp/hpool_test_records.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    printf("level spans:\n");
    expect e = {.world = world, .map_items = 200, .map_chunksize = 3, .submits = 50,
                .spans = true, .run = 1};
    run_and_check(dir, &e, HPOOL_RECORD_SPANS);
    /* A chunks-level run into the same directory: replaces the files, drops spans.tsv
     * (task spans are not recorded at this level). */
    printf("level chunks, same directory:\n");
    expect e2 = {.world = world, .map_items = 100, .map_chunksize = 1, .submits = 20,
                 .spans = false, .run = 2};
    run_and_check(dir, &e2, HPOOL_RECORD_CHUNKS);
    printf("bounded trace.json:\n");
    bounded_check(dir);
    remove_dir(dir);
}
