/* Schedule sections of report.md (report_schedules.h). Measured figures are medians over
 * repetitions; a schedule's measured time is its best over the chunksizes swept, the same
 * rule as the schedules plot. */
#include "report_schedules.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"
#include "simulate.h"
#include "table.h"

typedef struct {
    const char *schedule, *used, *workload;
    uint64_t tasks, chunksize;
    int workers, run;
    double wall, imbalance;
} run_row;

typedef struct {
    run_row *r;
    size_t n;
} runs;

static int load_runs(const hpool_render_table *t, runs *out, char *err, size_t errlen)
{
    static const char *const need[] = {"impl", "run",   "workload", "schedule", "schedule_used",
                                       "chunksize", "workers", "tasks", "wall_s", "imbalance",
                                       NULL};
    out->r = NULL;
    out->n = 0;
    if (hpool_render_table_require(t, need, err, errlen) != 0)
        return -1;
    out->r = calloc(t->nrows ? t->nrows : 1, sizeof *out->r);
    if (out->r == NULL)
        return -1;
    int impl = hpool_render_table_col(t, "impl");
    for (size_t i = 0; i < t->nrows; i++) {
        if (strcmp(hpool_render_table_cell(t, i, impl), "hpool") != 0)
            continue;
        run_row *r = &out->r[out->n];
        double v;
#define NUM(col, dst)                                                                       \
    if (hpool_render_table_num(t, i, hpool_render_table_col(t, col), &v, err, errlen) != 0) \
        return -1;                                                                          \
    dst = v
        NUM("run", r->run);
        NUM("chunksize", r->chunksize);
        NUM("workers", r->workers);
        NUM("tasks", r->tasks);
        NUM("wall_s", r->wall);
        NUM("imbalance", r->imbalance);
#undef NUM
        r->schedule = hpool_render_table_cell(t, i, hpool_render_table_col(t, "schedule"));
        r->used = hpool_render_table_cell(t, i, hpool_render_table_col(t, "schedule_used"));
        r->workload = hpool_render_table_cell(t, i, hpool_render_table_col(t, "workload"));
        out->n++;
    }
    return 0;
}

static bool same_group(const run_row *a, const run_row *b)
{
    return strcmp(a->workload, b->workload) == 0 && a->tasks == b->tasks &&
           a->workers == b->workers;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median wall and imbalance of the group's rows of (schedule, chunksize). */
static bool median_of(const runs *rs, const run_row *g, const char *schedule, uint64_t cs,
                      double *wall, double *imb)
{
    double w[256], b[256];
    size_t n = 0;
    for (size_t i = 0; i < rs->n && n < 256; i++) {
        const run_row *r = &rs->r[i];
        if (same_group(r, g) && strcmp(r->schedule, schedule) == 0 && r->chunksize == cs) {
            w[n] = r->wall;
            b[n++] = r->imbalance;
        }
    }
    if (n == 0)
        return false;
    qsort(w, n, sizeof w[0], cmp_double);
    qsort(b, n, sizeof b[0], cmp_double);
    *wall = n % 2 ? w[n / 2] : (w[n / 2 - 1] + w[n / 2]) / 2;
    *imb = n % 2 ? b[n / 2] : (b[n / 2 - 1] + b[n / 2]) / 2;
    return true;
}

/* A schedule's best chunksize in the group: \return false when it was not run. */
static bool best_of(const runs *rs, const run_row *g, const char *schedule, uint64_t *cs,
                    double *wall, double *imb)
{
    bool found = false;
    for (size_t i = 0; i < rs->n; i++) {
        const run_row *r = &rs->r[i];
        double w, b;
        if (!same_group(r, g) || strcmp(r->schedule, schedule) != 0 ||
            !median_of(rs, g, schedule, r->chunksize, &w, &b))
            continue;
        if (!found || w < *wall) {
            *cs = r->chunksize;
            *wall = w;
            *imb = b;
            found = true;
        }
    }
    return found;
}

/* ---- Predicted vs measured chunksize ----------------------------------------------- */

/* The items' time spread as the group's fixed-chunking runs measured it, noise of the
 * machine included: each chunk's time over its items has variance sd^2 / items, so
 * sum c (t/c - mu)^2 over K chunks estimates (K - 1) sd^2. -1 when unknown. */
static double measured_sd(const hpool_render_table *chunks, const runs *rs, const run_row *g)
{
    static const char *const need[] = {"run", "items", "t_start", "t_end", NULL};
    char err[256];
    if (chunks == NULL || hpool_render_table_require(chunks, need, err, sizeof err) != 0)
        return -1;
    int c_run = hpool_render_table_col(chunks, "run");
    int c_items = hpool_render_table_col(chunks, "items");
    int c_start = hpool_render_table_col(chunks, "t_start");
    int c_end = hpool_render_table_col(chunks, "t_end");
    /* The group's fixed-chunking runs, as a table by run id (ids are small). */
    int max_run = -1;
    for (size_t r = 0; r < rs->n; r++)
        max_run = rs->r[r].run > max_run ? rs->r[r].run : max_run;
    bool *ours = calloc((size_t)max_run + 2, sizeof *ours);
    if (ours == NULL)
        return -1;
    for (size_t r = 0; r < rs->n; r++)
        if (rs->r[r].run >= 0 && same_group(&rs->r[r], g) &&
            strcmp(rs->r[r].schedule, "fixed") == 0)
            ours[rs->r[r].run] = true;
    double sum_t = 0, sum_sq = 0, items = 0, k = 0;
    for (size_t i = 0; i < chunks->nrows; i++) {
        double run, n, t0, t1;
        if (hpool_render_table_num(chunks, i, c_run, &run, err, sizeof err) != 0 ||
            hpool_render_table_num(chunks, i, c_items, &n, err, sizeof err) != 0 ||
            hpool_render_table_num(chunks, i, c_start, &t0, err, sizeof err) != 0 ||
            hpool_render_table_num(chunks, i, c_end, &t1, err, sizeof err) != 0 || n < 1)
            continue;
        if (run < 0 || run > max_run || !ours[(int)run])
            continue;
        double t = fmax(0.0, t1 - t0);
        sum_t += t;
        sum_sq += t * t / n;
        items += n;
        k++;
    }
    free(ours);
    if (k < 2)
        return -1;
    return sqrt(fmax(0.0, sum_sq - sum_t * sum_t / items) / (k - 1));
}

static void write_chunksize_model(FILE *f, const hpool_render_table *model, const runs *rs,
                                  const hpool_render_table *chunks)
{
    bool header = false;
    for (size_t i = 0; i < model->nrows; i++) {
        run_row g = {.workload = hpool_render_table_cell(model, i, 0)};
        double v[6];
        char err[256];
        for (int c = 1; c <= 6; c++)
            if (hpool_render_table_num(model, i, c, &v[c - 1], err, sizeof err) != 0)
                v[c - 1] = NAN;
        g.tasks = (uint64_t)v[0];
        g.workers = (int)v[1];
        uint64_t best_cs = 0, near_cs = 0, predicted = (uint64_t)v[5];
        double best = 0, imb, near = 0;
        if (!best_of(rs, &g, "fixed", &best_cs, &best, &imb))
            continue;
        /* The swept chunksize nearest the prediction on a log scale, and its time. */
        double gap = INFINITY;
        for (size_t k = 0; k < rs->n && predicted > 0; k++) {
            const run_row *r = &rs->r[k];
            double d = fabs(log((double)r->chunksize) - log((double)predicted)), w;
            if (same_group(r, &g) && strcmp(r->schedule, "fixed") == 0 && d < gap &&
                median_of(rs, &g, "fixed", r->chunksize, &w, &imb)) {
                gap = d;
                near_cs = r->chunksize;
                near = w;
            }
        }
        if (!header) {
            fprintf(f, "## Chunksize: the model's prediction and the sweep's best\n\n"
                       "Fixed chunking; the prediction is Kruskal and Weiss's optimum (the FSC "
                       "schedule) from the overhead of one call item measured at start-up (h) "
                       "and the items' time mean and spread from the cost model. \"At "
                       "nearest\" is the measured time at the swept chunksize nearest the "
                       "prediction, against the best. The last two columns put the spread "
                       "the runs measured (chunks.tsv, the machine's noise included) into "
                       "the same formula.\n\n"
                       "| workload | tasks | workers | h (us) | item mean (ms) | item sd (ms) "
                       "| predicted | measured best | best (s) | at nearest (s) | ratio "
                       "| measured sd (ms) | predicted from it |\n"
                       "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
            header = true;
        }
        fprintf(f, "| %s | %llu | %d | %.1f | %.3g | ", g.workload,
                (unsigned long long)g.tasks, g.workers, v[2] * 1e6, v[3] * 1e3);
        if (v[4] >= 0)
            fprintf(f, "%.3g | ", v[4] * 1e3);
        else
            fprintf(f, "unknown | ");
        if (predicted > 0)
            fprintf(f, "%llu | %llu | %.4g | %.4g (cs %llu) | %.2f |",
                    (unsigned long long)predicted, (unsigned long long)best_cs, best, near,
                    (unsigned long long)near_cs, best > 0 ? near / best : 0);
        else
            fprintf(f, "- | %llu | %.4g | - | - |", (unsigned long long)best_cs, best);
        double msd = measured_sd(chunks, rs, &g);
        if (msd >= 0 && v[2] > 0)
            fprintf(f, " %.3g | %llu |\n", msd * 1e3,
                    (unsigned long long)hpool__schedule_fsc_chunk(g.tasks, g.workers, v[2], msd));
        else
            fprintf(f, " - | - |\n");
    }
    if (header)
        fputc('\n', f);
}

/* ---- Simulated vs measured schedule ranking --------------------------------------- */

static double model_overhead(const hpool_render_table *model, const run_row *g)
{
    char err[256];
    for (size_t i = 0; model && i < model->nrows; i++) {
        double tasks, workers, h;
        if (strcmp(hpool_render_table_cell(model, i, 0), g->workload) == 0 &&
            hpool_render_table_num(model, i, 1, &tasks, err, sizeof err) == 0 &&
            hpool_render_table_num(model, i, 2, &workers, err, sizeof err) == 0 &&
            hpool_render_table_num(model, i, 3, &h, err, sizeof err) == 0 &&
            (uint64_t)tasks == g->tasks && (int)workers == g->workers && h > 0)
            return h;
    }
    return -1;
}

/* The group's runs and swept chunksizes. */
static void group_runs(const runs *rs, const run_row *g, int *ids, size_t *nids, uint64_t *cs,
                       size_t *ncs)
{
    *nids = *ncs = 0;
    for (size_t i = 0; i < rs->n; i++) {
        const run_row *r = &rs->r[i];
        if (!same_group(r, g))
            continue;
        ids[(*nids)++] = r->run;
        bool seen = false;
        for (size_t k = 0; k < *ncs; k++)
            seen |= cs[k] == r->chunksize;
        if (!seen && *ncs < 64)
            cs[(*ncs)++] = r->chunksize;
    }
}

typedef struct {
    const char *name;
    uint64_t cs;
    double wall, imb;
    int rank;
} measured;

static int cmp_measured(const void *a, const void *b)
{
    const measured *x = a, *y = b;
    return (x->wall > y->wall) - (x->wall < y->wall);
}

static void write_group(FILE *f, const runs *rs, const run_row *g,
                        const hpool_render_table *chunks, const hpool_render_table *model)
{
    measured m[HPOOL_SCHED_COUNT];
    size_t nm = 0;
    for (int k = 0; k < HPOOL_SCHED_COUNT; k++) {
        measured x = {.name = hpool_schedule_name((hpool_schedule_kind)k)};
        if (best_of(rs, g, x.name, &x.cs, &x.wall, &x.imb))
            m[nm++] = x;
    }
    if (nm < 2)
        return;
    qsort(m, nm, sizeof m[0], cmp_measured);
    hpool_bench_sim_row sim[HPOOL_SCHED_COUNT];
    size_t ns = 0;
    int *ids = malloc(rs->n * sizeof *ids);
    uint64_t cs[64];
    size_t nids, ncs;
    hpool_bench_profile pr;
    char err[512];
    if (ids && chunks) {
        group_runs(rs, g, ids, &nids, cs, &ncs);
        if (hpool_bench_profile_build(chunks, ids, nids, &pr, err, sizeof err) == 0) {
            double h = model_overhead(model, g);
            ns = hpool_bench_simulate_all(&pr, h > 0 ? h : pr.overhead_s, cs, ncs, sim);
            hpool_bench_profile_free(&pr);
        }
    }
    free(ids);
    fprintf(f, "### %s, %llu tasks, %d workers\n\n", g->workload, (unsigned long long)g->tasks,
            g->workers);
    fprintf(f, "| schedule | measured (s) | chunksize | imbalance | measured rank | predicted "
               "(s) | predicted imbalance | predicted rank |\n|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < nm; i++) {
        fprintf(f, "| %s | %.4g | %llu | %.2f | %zu |", m[i].name, m[i].wall,
                (unsigned long long)m[i].cs, m[i].imb, i + 1);
        size_t j = 0;
        while (j < ns && strcmp(hpool_schedule_name(sim[j].kind), m[i].name) != 0)
            j++;
        if (j < ns)
            fprintf(f, " %.4g | %.2f | %zu |\n", sim[j].finish_s, sim[j].imbalance, j + 1);
        else
            fprintf(f, " - | - | - |\n");
    }
    /* What auto picked in each of its runs (it decides per run, on that run's probes),
     * and its time at its best chunksize. */
    uint64_t acs;
    double awall, aimb;
    fprintf(f, "\nMeasured best: **%s** (%.4g s).", m[0].name, m[0].wall);
    if (best_of(rs, g, "auto", &acs, &awall, &aimb)) {
        fprintf(f, " auto picked");
        for (int k = 0; k < HPOOL_SCHED_COUNT; k++) {
            const char *name = hpool_schedule_name((hpool_schedule_kind)k);
            int times = 0;
            for (size_t i = 0; i < rs->n; i++)
                times += same_group(&rs->r[i], g) && strcmp(rs->r[i].schedule, "auto") == 0 &&
                         strcmp(rs->r[i].used, name) == 0;
            if (times > 0)
                fprintf(f, " **%s** x%d", name, times);
        }
        fprintf(f, " (median %.4g s at chunksize %llu, %.2fx the best).", awall,
                (unsigned long long)acs, m[0].wall > 0 ? awall / m[0].wall : 0);
    }
    if (ns > 0)
        fprintf(f, " Simulation's best: **%s** (predicted %.4g s).",
                hpool_schedule_name(sim[0].kind), sim[0].finish_s);
    fprintf(f, "\n\n");
}

static void write_rankings(FILE *f, const runs *rs, const hpool_render_table *chunks,
                           const hpool_render_table *model)
{
    bool any = false;
    for (size_t i = 0; i < rs->n; i++) {
        bool first = true;
        for (size_t k = 0; k < i && first; k++)
            first = !same_group(&rs->r[k], &rs->r[i]);
        if (!first)
            continue;
        size_t kinds = 0;
        for (size_t k = i; k < rs->n; k++)
            kinds += same_group(&rs->r[k], &rs->r[i]) && rs->r[k].chunksize == rs->r[i].chunksize &&
                     strcmp(rs->r[k].schedule, rs->r[i].schedule) != 0;
        if (kinds == 0)
            continue; /* one schedule only: nothing to rank */
        if (!any) {
            fprintf(f, "## Schedules: simulated and measured ranking\n\n"
                       "Each schedule at its best chunksize. The prediction replays the "
                       "group's recorded chunks (item times and worker speeds estimated from "
                       "chunks.tsv) through every schedule in the discrete-event simulation "
                       "auto uses, with the start-up overhead h per chunk "
                       "(`hpool-bench simulate chunks.tsv` prints the same for any run).\n\n");
            any = true;
        }
        write_group(f, rs, &rs->r[i], chunks, model);
    }
}

int hpool_bench_report_schedules(FILE *f, const char *dir, char *err, size_t errlen)
{
    hpool_render_table t_runs, t_chunks, t_model;
    memset(&t_chunks, 0, sizeof t_chunks);
    memset(&t_model, 0, sizeof t_model);
    int r_runs = hpool_render_table_load(dir, "runs.tsv", &t_runs, err, errlen);
    if (r_runs != 0)
        return r_runs > 0 ? 0 : -1;
    int r_chunks = hpool_render_table_load(dir, "chunks.tsv", &t_chunks, err, errlen);
    int r_model = r_chunks < 0 ? -1 : hpool_render_table_load(dir, "model.tsv", &t_model, err,
                                                              errlen);
    runs rs = {NULL, 0};
    int rc = r_chunks < 0 || r_model < 0 ? -1 : load_runs(&t_runs, &rs, err, errlen);
    if (rc == 0) {
        if (r_model == 0)
            write_chunksize_model(f, &t_model, &rs, r_chunks == 0 ? &t_chunks : NULL);
        write_rankings(f, &rs, r_chunks == 0 ? &t_chunks : NULL,
                       r_model == 0 ? &t_model : NULL);
    }
    free(rs.r);
    hpool_render_table_free(&t_runs);
    hpool_render_table_free(&t_chunks);
    hpool_render_table_free(&t_model);
    return rc;
}
