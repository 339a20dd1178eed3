/* Recorded chunks -> a profile -> every schedule simulated on it (see simulate.h). */
#include "simulate.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"

enum { C_RUN, C_WORKER, C_FIRST, C_ITEMS, C_DISPATCH, C_RECV, C_START, C_END, C_RESULT,
       C_COUNT };
static const char *const COLS[C_COUNT + 1] = {"run",     "worker", "first_item", "items",
                                              "t_dispatch", "t_recv", "t_start",
                                              "t_end",   "t_result", NULL};

typedef struct {
    int worker; /* 0-based */
    uint64_t first, items;
    double dur, transit;
} chunk;

static bool run_listed(int run, const int *runs, size_t nruns)
{
    if (runs == NULL)
        return true;
    for (size_t i = 0; i < nruns; i++)
        if (runs[i] == run)
            return true;
    return false;
}

/* The selected rows as chunks. \return count, or -1 with err. */
static long read_chunks(const hpool_render_table *t, const int *runs, size_t nruns,
                        chunk **out, char *err, size_t errlen)
{
    if (hpool_render_table_require(t, COLS, err, errlen) != 0)
        return -1;
    int col[C_COUNT];
    for (int c = 0; c < C_COUNT; c++)
        col[c] = hpool_render_table_col(t, COLS[c]);
    chunk *cs = calloc(t->nrows ? t->nrows : 1, sizeof *cs);
    if (cs == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    long n = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        double v[C_COUNT];
        for (int c = 0; c < C_COUNT; c++) {
            if (hpool_render_table_num(t, r, col[c], &v[c], err, errlen) != 0) {
                free(cs);
                return -1;
            }
        }
        if (!run_listed((int)v[C_RUN], runs, nruns) || v[C_ITEMS] < 1 || v[C_WORKER] < 1)
            continue;
        cs[n].worker = (int)v[C_WORKER] - 1;
        cs[n].first = (uint64_t)v[C_FIRST];
        cs[n].items = (uint64_t)v[C_ITEMS];
        cs[n].dur = fmax(0.0, v[C_END] - v[C_START]);
        cs[n].transit = fmax(0.0, v[C_RECV] - v[C_DISPATCH]) + fmax(0.0, v[C_RESULT] - v[C_END]);
        n++;
    }
    *out = cs;
    return n;
}

/* item_s[i] = mean over the chunks covering i of dur / items / speed[worker], by
 * difference arrays (O(chunks + n)); items no chunk covers get the mean. */
static void item_times(const chunk *cs, long nc, const double *speed, double *item_s,
                       double *count, uint64_t n)
{
    memset(item_s, 0, (size_t)(n + 1) * sizeof *item_s);
    memset(count, 0, (size_t)(n + 1) * sizeof *count);
    for (long k = 0; k < nc; k++) {
        double per = cs[k].dur / (double)cs[k].items / speed[cs[k].worker];
        item_s[cs[k].first] += per;
        item_s[cs[k].first + cs[k].items] -= per;
        count[cs[k].first] += 1;
        count[cs[k].first + cs[k].items] -= 1;
    }
    double run = 0, runc = 0, sum = 0;
    uint64_t covered = 0;
    for (uint64_t i = 0; i < n; i++) {
        run += item_s[i];
        runc += count[i];
        item_s[i] = runc > 0.5 ? run / runc : -1;
        if (item_s[i] >= 0) {
            sum += item_s[i];
            covered++;
        }
    }
    for (uint64_t i = 0; i < n; i++)
        if (item_s[i] < 0)
            item_s[i] = covered ? sum / (double)covered : 0;
}

/* speed[w] = its chunks' time / the time of their items as item_s has them (at speed 1
 * once item_s is corrected for speeds); fastest = 1. A worker without chunks gets 1. */
static void worker_speeds(const chunk *cs, long nc, const double *item_s, double *prefix,
                          uint64_t n, double *speed, int p)
{
    prefix[0] = 0;
    for (uint64_t i = 0; i < n; i++)
        prefix[i + 1] = prefix[i] + item_s[i];
    double *took = calloc((size_t)p, sizeof *took), *base = calloc((size_t)p, sizeof *base);
    if (took == NULL || base == NULL) {
        free(took);
        free(base);
        return; /* speeds stay as they were */
    }
    for (long k = 0; k < nc; k++) {
        took[cs[k].worker] += cs[k].dur;
        base[cs[k].worker] += prefix[cs[k].first + cs[k].items] - prefix[cs[k].first];
    }
    double fastest = INFINITY;
    for (int w = 0; w < p; w++) {
        speed[w] = base[w] > 0 && took[w] > 0 ? took[w] / base[w] : 1.0;
        fastest = fmin(fastest, speed[w]);
    }
    for (int w = 0; w < p && fastest > 0 && isfinite(fastest); w++)
        speed[w] /= fastest;
    free(took);
    free(base);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int hpool_bench_profile_build(const hpool_render_table *chunks, const int *runs, size_t nruns,
                              hpool_bench_profile *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    chunk *cs = NULL;
    long nc = read_chunks(chunks, runs, nruns, &cs, err, errlen);
    if (nc < 0)
        return -1;
    if (nc == 0) {
        free(cs);
        snprintf(err, errlen, "%s: no chunk rows to replay", chunks->name);
        return -1;
    }
    uint64_t n = 0;
    int p = 0;
    double *transit = malloc((size_t)nc * sizeof *transit);
    for (long k = 0; k < nc; k++) {
        n = cs[k].first + cs[k].items > n ? cs[k].first + cs[k].items : n;
        p = cs[k].worker + 1 > p ? cs[k].worker + 1 : p;
        if (transit)
            transit[k] = cs[k].transit;
    }
    out->item_s = malloc((size_t)(n + 1) * sizeof *out->item_s);
    out->speed = malloc((size_t)p * sizeof *out->speed);
    double *scratch = malloc((size_t)(n + 1) * sizeof *scratch);
    if (out->item_s == NULL || out->speed == NULL || scratch == NULL || transit == NULL) {
        free(cs);
        free(scratch);
        free(transit);
        hpool_bench_profile_free(out);
        snprintf(err, errlen, "out of memory for %llu items", (unsigned long long)n);
        return -1;
    }
    for (int w = 0; w < p; w++)
        out->speed[w] = 1.0;
    for (int round = 0; round < 2; round++) {
        item_times(cs, nc, out->speed, out->item_s, scratch, n);
        worker_speeds(cs, nc, out->item_s, scratch, n, out->speed, p);
    }
    item_times(cs, nc, out->speed, out->item_s, scratch, n);
    qsort(transit, (size_t)nc, sizeof *transit, cmp_double);
    out->overhead_s = transit[nc / 2];
    out->n = n;
    out->p = p;
    out->chunks = (size_t)nc;
    free(cs);
    free(scratch);
    free(transit);
    return 0;
}

void hpool_bench_profile_free(hpool_bench_profile *pr)
{
    free(pr->item_s);
    free(pr->speed);
    memset(pr, 0, sizeof *pr);
}

static int cmp_sim(const void *a, const void *b)
{
    const hpool_bench_sim_row *x = a, *y = b;
    return (x->finish_s > y->finish_s) - (x->finish_s < y->finish_s);
}

size_t hpool_bench_simulate_all(const hpool_bench_profile *pr, double overhead_s,
                                const uint64_t *cs, size_t ncs, hpool_bench_sim_row *rows)
{
    /* WF's weights are the workers' speeds as the profile measured them. */
    double *weights = malloc((size_t)pr->p * sizeof *weights);
    if (weights == NULL)
        return 0;
    for (int w = 0; w < pr->p; w++)
        weights[w] = 1.0 / pr->speed[w];
    size_t count = 0;
    for (int k = 0; k < HPOOL_SCHED_COUNT; k++) {
        if (k == HPOOL_SCHED_AUTO)
            continue;
        hpool_bench_sim_row best = {.kind = (hpool_schedule_kind)k, .finish_s = INFINITY};
        for (size_t c = 0; c < (ncs ? ncs : 1); c++) {
            hpool__sim_input in = {.p = pr->p, .n = pr->n, .chunksize = ncs ? cs[c] : 1,
                                   .overhead_s = overhead_s, .item_s = pr->item_s,
                                   .worker_speed = pr->speed, .weights = weights, .seed = 1};
            hpool__sim_result r;
            if (hpool__schedule_simulate((hpool_schedule_kind)k, &in, &r) != 0) {
                free(weights);
                return 0;
            }
            if (r.finish_s < best.finish_s) {
                best.chunksize = in.chunksize;
                best.finish_s = r.finish_s;
                best.imbalance = r.imbalance;
                best.chunks = r.chunks;
            }
        }
        rows[count++] = best;
    }
    free(weights);
    qsort(rows, count, sizeof *rows, cmp_sim);
    return count;
}

int hpool_bench_profile_load(const char *path, hpool_bench_profile *out, char *err,
                             size_t errlen)
{
    memset(out, 0, sizeof *out);
    char dir[4096];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    hpool_render_table t;
    int rc = hpool_render_table_load(dir, slash ? slash + 1 : path, &t, err, errlen);
    if (rc > 0)
        snprintf(err, errlen, "%s: absent or empty", path);
    if (rc == 0)
        rc = hpool_bench_profile_build(&t, NULL, 0, out, err, errlen);
    hpool_render_table_free(&t);
    return rc == 0 ? 0 : -1;
}

int hpool_bench_simulate_pick(const hpool_bench_profile *pr, uint64_t n, int p,
                              double overhead_s, uint64_t chunksize, hpool_schedule_kind *out)
{
    hpool_bench_profile fit = {.n = n, .p = p, .overhead_s = pr->overhead_s};
    fit.item_s = malloc((size_t)(n ? n : 1) * sizeof *fit.item_s);
    fit.speed = malloc((size_t)(p > 0 ? p : 1) * sizeof *fit.speed);
    hpool_bench_sim_row rows[HPOOL_SCHED_COUNT];
    size_t count = 0;
    if (fit.item_s && fit.speed && pr->n > 0) {
        for (uint64_t i = 0; i < n; i++)
            fit.item_s[i] = pr->item_s[(uint64_t)((double)i * (double)pr->n / (double)n)];
        for (int w = 0; w < p; w++)
            fit.speed[w] = w < pr->p ? pr->speed[w] : 1.0;
        count = hpool_bench_simulate_all(&fit, overhead_s, &chunksize, 1, rows);
    }
    hpool_bench_profile_free(&fit);
    if (count == 0)
        return -1;
    *out = rows[0].kind;
    return 0;
}

/* ---- The command ------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hpool-bench simulate [options] CHUNKS.tsv\n"
            "Replays the recorded chunks (item times and worker speeds estimated from them)\n"
            "through every schedule in a discrete-event simulation and prints the predicted\n"
            "finish times, best first. Needs no MPI.\n\n"
            "options:\n"
            "  --run ID          only the chunks of run ID (default: all runs in the file)\n"
            "  --overhead S      scheduling overhead per chunk in seconds (default: the\n"
            "                    median transit of the recorded chunks)\n"
            "  --chunksize LIST  chunksizes to try, comma-separated (default 1,4,16,64,256)\n"
            "exit status: 0 ok, 1 out of memory, 2 bad command line or unreadable data\n");
}

/* Comma-separated positive integers. \return count, or 0 when malformed. */
static size_t parse_sizes(const char *s, uint64_t *out, size_t cap)
{
    size_t n = 0;
    while (*s && n < cap) {
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (end == s || v == 0 || (*end && *end != ','))
            return 0;
        out[n++] = v;
        s = *end ? end + 1 : end;
    }
    return *s ? 0 : n;
}

static void print_table(const char *path, const hpool_bench_profile *pr, double h,
                        const hpool_bench_sim_row *rows, size_t n)
{
    double total = 0;
    for (uint64_t i = 0; i < pr->n; i++)
        total += pr->item_s[i];
    printf("%s: %llu items from %zu chunks, %d workers, item mean %.3g ms, overhead %.3g us\n",
           path, (unsigned long long)pr->n, pr->chunks, pr->p,
           pr->n ? total / (double)pr->n * 1e3 : 0.0, h * 1e6);
    printf("worker speeds (time factor):");
    for (int w = 0; w < pr->p; w++)
        printf(" %.2f", pr->speed[w]);
    printf("\n\nrank\tschedule\tchunksize\tpredicted_s\timbalance\tchunks\n");
    for (size_t i = 0; i < n; i++)
        printf("%zu\t%s\t%llu\t%.6g\t%.3f\t%llu\n", i + 1, hpool_schedule_name(rows[i].kind),
               (unsigned long long)rows[i].chunksize, rows[i].finish_s, rows[i].imbalance,
               (unsigned long long)rows[i].chunks);
}

int hpool_bench_cmd_simulate(int argc, char **argv, const char *plots_dir)
{
    (void)plots_dir; /* prints a table; no plots */
    static const struct option opts[] = {{"run", required_argument, NULL, 'r'},
                                         {"overhead", required_argument, NULL, 'o'},
                                         {"chunksize", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int run = -1;
    double h = -1;
    uint64_t cs[64] = {1, 4, 16, 64, 256};
    size_t ncs = 5;
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end = NULL;
        switch (ch) {
        case 'r':
            run = (int)strtol(optarg, &end, 10);
            if (*end || run < 0) {
                fprintf(stderr, "hpool-bench simulate: --run '%s': not a run id\n", optarg);
                return 2;
            }
            break;
        case 'o':
            h = strtod(optarg, &end);
            if (*end || !(h >= 0) || !isfinite(h)) {
                fprintf(stderr, "hpool-bench simulate: --overhead '%s': not seconds >= 0\n",
                        optarg);
                return 2;
            }
            break;
        case 'c':
            ncs = parse_sizes(optarg, cs, sizeof cs / sizeof cs[0]);
            if (ncs == 0) {
                fprintf(stderr, "hpool-bench simulate: --chunksize '%s': want positive "
                                "integers separated by commas\n", optarg);
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "hpool-bench simulate: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    const char *path = argv[optind];
    char dir[4096], err[1024];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    hpool_render_table t;
    int rc = hpool_render_table_load(dir, slash ? slash + 1 : path, &t, err, sizeof err);
    if (rc > 0)
        snprintf(err, sizeof err, "%s: absent or empty", path);
    hpool_bench_profile pr;
    if (rc == 0 && hpool_bench_profile_build(&t, run >= 0 ? &run : NULL, run >= 0 ? 1 : 0,
                                             &pr, err, sizeof err) != 0)
        rc = -1;
    if (rc != 0) {
        fprintf(stderr, "hpool-bench simulate: %s\n", err);
        hpool_render_table_free(&t);
        return 2;
    }
    if (h < 0)
        h = pr.overhead_s;
    hpool_bench_sim_row rows[HPOOL_SCHED_COUNT];
    size_t n = hpool_bench_simulate_all(&pr, h, cs, ncs, rows);
    if (n == 0)
        fprintf(stderr, "hpool-bench simulate: out of memory\n");
    else
        print_table(path, &pr, h, rows, n);
    hpool_bench_profile_free(&pr);
    hpool_render_table_free(&t);
    return n ? 0 : 1;
}
