/* Clock mapping under an injected skew (HPOOL_TEST_CLOCK_SKEW, clock.c): every worker of
 * this host reports its clock as now*(1+HOST_DRIFT)+HOST_OFFSET, as a host whose clock is
 * not rank 0's would (-1.25 s, -50 ppm), and rank 2 on its own as now*(1+DRIFT)+OFFSET
 * (2.5 s, 1000 ppm, a very bad oscillator: large enough that the drift check can tell
 * it from none at every rank count, see below). Every rank sets the variable before
 * hpool_init (it runs the same binary); each worker applies the entry that names it.
 *
 * Clocks are synced per host (clocksync.h): the workers of rank 0's host are checked
 * against rank 0's own clock, and every one here disagrees (the host skew, rank 2's own),
 * so each must be found out and synced on its own; all are checked against the truth
 * below. (Followers sharing another host's leader are checked in tests/e2e/hosts3.sh.)
 *
 * Because `now` is the absolute CLOCK_MONOTONIC reading, shared by all ranks of this
 * node, the true manager - worker offset at manager time t is -(OFFSET + DRIFT*t). The
 * test compares the offsets recovered at start and end (clock.tsv; t = t0 + at, t0 from
 * trace.json's otherData) with that truth: the error must be within rtt/2 of the sample,
 * the bound clock.h guarantees, and the recovered drift within the two samples' errors
 * over the time between them. Unskewed ranks must come out at offset 0, same bound. Each
 * worker runs ~300 items of 1 ms whatever the rank count, so the time between the
 * samples does not shrink with more ranks; and the test requires its drift bound to be
 * under half the injected drift, so a recovered drift of 0 can never pass.
 *
 * Then causality on every chunks.tsv row, as in test_records: t_dispatch <= t_recv and
 * t_end <= t_result up to max(rtt_start, rtt_end)/2 of the worker (the error bound of an
 * interpolated time), worker-side order exact. The run lasts ~0.3 s per worker, over
 * which 1000 ppm drifts 300 us: more than the slack on shared memory, so without the drift
 * correction the rows of rank 1 would break causality. */
#include <math.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "hpool_test.h"

#define SKEW_RANK 2
#define SKEW_OFFSET 2.5
#define SKEW_DRIFT 1e-3
#define HOST_OFFSET (-1.25)
#define HOST_DRIFT (-5e-5)

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ~1 ms of waiting: long enough for drift to add up, short enough for the time limit. */
static int short_task(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
    return hpool_task_return(ctx, NULL, 0);
}

static void register_tasks(void)
{
    /* Before hpool_init, on every rank. */
    char host[HPOOL_HOST_MAX] = "", skew[256];
    gethostname(host, sizeof host - 1);
    snprintf(skew, sizeof skew, "@%s:%.17g:%.17g,%d:%.17g:%.17g", host, HOST_OFFSET,
             HOST_DRIFT, SKEW_RANK, SKEW_OFFSET, SKEW_DRIFT);
    setenv("HPOOL_TEST_CLOCK_SKEW", skew, 1);
    hpool_register_task("short", short_task);
}

static char *field(char **s)
{
    char *f = *s, *t = strchr(f, '\t');
    if (t) {
        *t = '\0';
        *s = t + 1;
    } else {
        *s = f + strlen(f);
    }
    return f;
}

static double t0_of(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/trace.json", dir);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    CHECK(root != NULL);
    json_t *t0 = json_object_get(json_object_get(root, "otherData"), "t0_monotonic_s");
    CHECK(json_is_number(t0));
    double v = json_number_value(t0);
    json_decref(root);
    return v;
}

typedef struct {
    double off[2], rtt[2], at[2], drift;
} clock_row; /* one row of clock.tsv */

static void run_manager(int world)
{
    char dir[] = "/tmp/hpool_test_clock.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    const int N = 300 * (world - 1);
    hpool_executor_options eo = {.record_dir = dir};
    double before = mono();
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, &eo));
    double after = mono();
    /* Start-up is its own figure: ready (workers started, clocks synced) before the run's
     * clock starts, and never part of wall_s (hpool.h). */
    CHECK_OK(hpool_executor_wait_ready(ex, HPOOL_FOREVER));
    double ready = mono();
    int64_t *items = calloc((size_t)N, sizeof *items);
    CHECK(items != NULL);
    hpool_map_options mo = {.chunksize = 1};
    hpool_map_iter *m;
    /* Spread over the workers so that rank 1 runs ~N/(world-1) items; at 2 ranks all. */
    CHECK_OK(hpool_map(ex, "short", items, sizeof items[0], N, &mo, &m));
    int rc;
    while ((rc = hpool_map_next(m, NULL, NULL, NULL)) == 1) {
    }
    CHECK_OK(rc);
    CHECK_OK(hpool_map_close(m));
    double done = mono();
    CHECK_OK(hpool_shutdown(ex, true, false));
    hpool_executor_stats st;
    CHECK_OK(hpool_executor_get_stats(ex, &st));
    CHECK(st.startup_s > 0 && st.startup_s <= ready - before);
    CHECK(st.final_sync_s > 0 && st.sync_cpu_s > 0 && st.sync_cpu_s <= st.manager_cpu_s);
    CHECK(st.wall_s > 0 && st.wall_s <= done - before - st.startup_s);
    printf("start-up %.3f ms (ready %.3f ms after create), final sync %.3f ms, wall %.3f ms\n",
           st.startup_s * 1e3, (ready - before) * 1e3, st.final_sync_s * 1e3, st.wall_s * 1e3);
    CHECK_OK(hpool_executor_destroy(ex));
    free(items);

    double t0 = t0_of(dir);
    CHECK(t0 >= before && t0 <= after); /* the executor's t=0, on this (rank 0's) clock */

    /* clock.tsv */
    char path[512];
    snprintf(path, sizeof path, "%s/clock.tsv", dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    char line[1024];
    CHECK(fgets(line, sizeof line, f) != NULL); /* header */
    clock_row cl[64];
    bool have[64] = {false};
    int rows = 0;
    while (fgets(line, sizeof line, f) && line[0] != '#') {
        line[strcspn(line, "\n")] = '\0';
        char *p = line;
        int rank = atoi(field(&p));
        CHECK(rank >= 1 && rank < world && rank < 64);
        clock_row *c = &cl[rank];
        for (int k = 0; k < 2; k++) {
            c->off[k] = atof(field(&p));
            c->rtt[k] = atof(field(&p));
            c->at[k] = atof(field(&p));
        }
        c->drift = atof(field(&p));
        CHECK(fabs(atof(field(&p)) - t0) < 2e-9); /* the t0 column: trace.json's, to the ns */
        have[rank] = true;
        rows++;
    }
    fclose(f);
    CHECK(rows == world - 1);
    for (int rank = 1; rank < world; rank++) {
        CHECK(have[rank]);
        clock_row *c = &cl[rank];
        bool skewed = rank == SKEW_RANK;
        double err[2];
        for (int k = 0; k < 2; k++) {
            CHECK(c->rtt[k] > 0 && isfinite(c->off[k]));
            double t = t0 + c->at[k];
            double truth = skewed ? -(SKEW_OFFSET + SKEW_DRIFT * t) : -(HOST_OFFSET + HOST_DRIFT * t);
            err[k] = c->off[k] - truth;
            /* the sample's guaranteed bound (the worker read its clock within rtt/2 of
             * the middle, during which the true offset moves by DRIFT*rtt/2), plus
             * printing (ns) and float rounding of values ~1e5 s */
            double bound = c->rtt[k] / 2 * (1 + SKEW_DRIFT) + 2e-9;
            if (!(fabs(err[k]) <= bound))
                fprintf(stderr, "rank %d %s: offset %.9f, true %.9f, rtt %.9f\n", rank,
                        k ? "end" : "start", c->off[k], truth, c->rtt[k]);
            CHECK(fabs(err[k]) <= bound);
        }
        double span = c->at[1] - c->at[0];
        CHECK(span > 0);
        double want_drift = skewed ? -SKEW_DRIFT : -HOST_DRIFT;
        double drift_bound = (c->rtt[0] + c->rtt[1]) / 2 / span + 1e-7;
        if (skewed && !(drift_bound < SKEW_DRIFT / 2))
            fprintf(stderr, "rank %d: drift bound %.3g (rtt %.3g, %.3g over %.3f s) cannot "
                            "tell the injected drift from none\n",
                    rank, drift_bound, c->rtt[0], c->rtt[1], span);
        CHECK(!skewed || drift_bound < SKEW_DRIFT / 2); /* the check below has teeth */
        CHECK(fabs(c->drift - want_drift) <= drift_bound);
        printf("rank %d: %s offset %+.9f s; error at start %+.3f us (rtt %.3f us), at end "
               "%+.3f us (rtt %.3f us); drift %.3f ppm (true %.3f)\n",
               rank, skewed ? "own" : "host", skewed ? SKEW_OFFSET : HOST_OFFSET, err[0] * 1e6,
               c->rtt[0] * 1e6, err[1] * 1e6, c->rtt[1] * 1e6, c->drift * 1e6,
               want_drift * 1e6);
    }

    /* causality of every chunks.tsv row */
    snprintf(path, sizeof path, "%s/chunks.tsv", dir);
    f = fopen(path, "r");
    CHECK(f != NULL);
    CHECK(fgets(line, sizeof line, f) != NULL);
    int n = 0, on_skewed = 0, on_host_skew = 0;
    bool footer = false;
    double closest = INFINITY;
    while (fgets(line, sizeof line, f)) {
        if (strcmp(line, "# complete\n") == 0) {
            footer = true;
            continue;
        }
        char *p = line;
        for (int k = 0; k < 3; k++)
            field(&p);
        int w = atoi(field(&p));
        CHECK(w >= 1 && w < world);
        field(&p);
        field(&p);
        double t[6];
        for (int k = 0; k < 6; k++)
            t[k] = atof(field(&p));
        double slack = fmax(cl[w].rtt[0], cl[w].rtt[1]) / 2 * (1 + SKEW_DRIFT) + 2e-9;
        on_host_skew += w != SKEW_RANK;
        if (!(t[1] <= t[2] + slack && t[4] <= t[5] + slack))
            fprintf(stderr, "rank %d row: dispatch %.9f recv %.9f end %.9f result %.9f\n", w,
                    t[1], t[2], t[4], t[5]);
        CHECK(t[0] <= t[1] + 2e-9);
        CHECK(t[1] <= t[2] + slack);
        CHECK(t[2] <= t[3] + 2e-9 && t[3] <= t[4] + 2e-9);
        CHECK(t[4] <= t[5] + slack);
        if (w == SKEW_RANK) {
            on_skewed++;
            closest = fmin(closest, fmin(t[2] - t[1], t[5] - t[4]));
        }
        n++;
    }
    fclose(f);
    CHECK(footer && n == N && on_host_skew > 0 && (world <= SKEW_RANK || on_skewed > 0));
    printf("chunks.tsv: %d rows causal (%d on the skewed rank; closest manager/worker pair "
           "there %.3f us apart)\n",
           n, on_skewed, closest * 1e6);

    static const char *const names[] = {"chunks.tsv", "clock.tsv", "trace.json"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}
