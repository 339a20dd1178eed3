/* runs.tsv, summary.tsv and the merged timeline files. */
#include "results.h"

#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "table.h"

const char HPOOL_BENCH_RUNS_HEADER[] =
    "impl\texperiment\trun\tworkload\tapi\tschedule\tschedule_used\tchunksize\tworkers\t"
    "threads\ttasks\trep\twall_s\ttasks_per_s\tserial_s\tspeedup\tefficiency\timbalance\t"
    "manager_cpu_s\tbytes_moved\tchunks\tload1\tother_cpu_s\tmachine_busy\tstartup_s\tfinal_sync_s\n";

int hpool_bench_rows_add(hpool_bench_rows *r, const hpool_bench_row *row)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        hpool_bench_row *n = realloc(r->rows, cap * sizeof *n);
        if (n == NULL)
            return -1;
        r->rows = n;
        r->cap = cap;
    }
    r->rows[r->n++] = *row;
    return 0;
}

void hpool_bench_rows_free(hpool_bench_rows *r)
{
    free(r->rows);
    memset(r, 0, sizeof *r);
}

void hpool_bench_row_write(FILE *f, const hpool_bench_row *w)
{
    fprintf(f,
            "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%llu\t%d\t%d\t%llu\t%d\t%.6f\t%.3f\t%.6f\t%.4f\t%.4f\t"
            "%.4f\t%.6f\t%llu\t%llu\t%.2f\t%.3f\t%d\t%.6f\t%.6f\n",
            w->impl, w->experiment, w->run, w->workload, w->api, w->schedule, w->schedule_used,
            (unsigned long long)w->chunksize, w->workers, w->threads,
            (unsigned long long)w->tasks, w->rep, w->wall_s, w->tasks_per_s, w->serial_s,
            w->speedup, w->efficiency, w->imbalance, w->manager_cpu_s,
            (unsigned long long)w->bytes_moved, (unsigned long long)w->chunks, w->load1,
            w->other_cpu_s, w->machine_busy, w->startup_s, w->final_sync_s);
}

static FILE *open_tmp(const char *dir, const char *name, char *tmp, size_t n)
{
    snprintf(tmp, n, "%s/.%s.tmp", dir, name);
    return fopen(tmp, "w");
}

static int close_rename(FILE *f, const char *tmp, const char *dir, const char *name)
{
    char dst[4096];
    snprintf(dst, sizeof dst, "%s/%s", dir, name);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, dst) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

int hpool_bench_write_runs(const char *dir, const hpool_bench_rows *r)
{
    char tmp[4096];
    FILE *f = open_tmp(dir, "runs.tsv", tmp, sizeof tmp);
    if (f == NULL)
        return -1;
    fputs(HPOOL_BENCH_RUNS_HEADER, f);
    for (size_t i = 0; i < r->n; i++)
        hpool_bench_row_write(f, &r->rows[i]);
    fputs("# complete\n", f);
    return close_rename(f, tmp, dir, "runs.tsv");
}

/* ---------------------------------------------------------------- summary */
static bool same_combo(const hpool_bench_row *a, const hpool_bench_row *b)
{
    return strcmp(a->impl, b->impl) == 0 && strcmp(a->experiment, b->experiment) == 0 &&
           strcmp(a->workload, b->workload) == 0 && strcmp(a->api, b->api) == 0 &&
           strcmp(a->schedule, b->schedule) == 0 && a->chunksize == b->chunksize &&
           a->workers == b->workers && a->threads == b->threads && a->tasks == b->tasks;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Median of one field over the rows of a combination. */
static double field_median(const hpool_bench_rows *r, const size_t *idx, size_t n,
                           size_t offset, double *scratch)
{
    for (size_t i = 0; i < n; i++)
        memcpy(&scratch[i], (const char *)&r->rows[idx[i]] + offset, sizeof(double));
    return median(scratch, n);
}

static void write_combo(FILE *f, const hpool_bench_rows *r, const size_t *idx, size_t n,
                        double *scratch)
{
    const hpool_bench_row *a = &r->rows[idx[0]];
    double wmin = INFINITY, wmax = 0;
    for (size_t i = 0; i < n; i++) {
        wmin = fmin(wmin, r->rows[idx[i]].wall_s);
        wmax = fmax(wmax, r->rows[idx[i]].wall_s);
    }
    double wmed = field_median(r, idx, n, offsetof(hpool_bench_row, wall_s), scratch);
    fprintf(f, "%s\t%s\t%s\t%s\t%s\t%llu\t%d\t%d\t%llu\t%zu\t%.6f\t%.6f\t%.6f\t%.4f\t%.3f\t%.4f\t%.4f\t%.4f\t%.6f\t%.6f\t%.6f\n",
            a->impl, a->experiment, a->workload, a->api, a->schedule,
            (unsigned long long)a->chunksize, a->workers, a->threads,
            (unsigned long long)a->tasks, n, wmin, wmed, wmax,
            wmed > 0 ? (wmax - wmin) / wmed : 0,
            field_median(r, idx, n, offsetof(hpool_bench_row, tasks_per_s), scratch),
            field_median(r, idx, n, offsetof(hpool_bench_row, speedup), scratch),
            field_median(r, idx, n, offsetof(hpool_bench_row, efficiency), scratch),
            field_median(r, idx, n, offsetof(hpool_bench_row, imbalance), scratch),
            field_median(r, idx, n, offsetof(hpool_bench_row, manager_cpu_s), scratch),
            field_median(r, idx, n, offsetof(hpool_bench_row, startup_s), scratch),
            field_median(r, idx, n, offsetof(hpool_bench_row, final_sync_s), scratch));
}

int hpool_bench_write_summary(const char *dir, const hpool_bench_rows *r)
{
    char tmp[4096];
    FILE *f = open_tmp(dir, "summary.tsv", tmp, sizeof tmp);
    if (f == NULL)
        return -1;
    fputs("impl\texperiment\tworkload\tapi\tschedule\tchunksize\tworkers\tthreads\ttasks\treps\t"
          "wall_min\twall_median\twall_max\tspread\ttasks_per_s_median\tspeedup_median\t"
          "efficiency_median\timbalance_median\tmanager_cpu_median\tstartup_median\t"
          "final_sync_median\n",
          f);
    size_t *idx = malloc((r->n ? r->n : 1) * sizeof *idx);
    double *scratch = malloc((r->n ? r->n : 1) * sizeof *scratch);
    bool *used = calloc(r->n ? r->n : 1, sizeof *used);
    for (size_t i = 0; idx && scratch && used && i < r->n; i++) {
        if (used[i])
            continue;
        size_t n = 0;
        for (size_t j = i; j < r->n; j++)
            if (!used[j] && same_combo(&r->rows[i], &r->rows[j])) {
                used[j] = true;
                idx[n++] = j;
            }
        write_combo(f, r, idx, n, scratch);
    }
    free(idx);
    free(scratch);
    free(used);
    fputs("# complete\n", f);
    return close_rename(f, tmp, dir, "summary.tsv");
}

/* ---------------------------------------------------------------- peers' rows */
static void copy_cell(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

int hpool_bench_rows_load(hpool_bench_rows *r, const char *dir, const char *file, char *err,
                          size_t errlen)
{
    hpool_render_table t;
    int rc = hpool_render_table_load(dir, file, &t, err, errlen);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    for (size_t i = 0; i < t.nrows && rc == 0; i++) {
        hpool_bench_row w;
        memset(&w, 0, sizeof w);
#define CELL(name) hpool_render_table_cell(&t, i, hpool_render_table_col(&t, name))
#define NUM(name) strtod(CELL(name) ? CELL(name) : "0", NULL)
        copy_cell(w.impl, sizeof w.impl, CELL("impl"));
        copy_cell(w.experiment, sizeof w.experiment, CELL("experiment"));
        copy_cell(w.workload, sizeof w.workload, CELL("workload"));
        copy_cell(w.api, sizeof w.api, CELL("api"));
        copy_cell(w.schedule, sizeof w.schedule, CELL("schedule"));
        copy_cell(w.schedule_used, sizeof w.schedule_used, CELL("schedule_used"));
        w.run = (int)NUM("run");
        w.chunksize = (uint64_t)NUM("chunksize");
        w.workers = (int)NUM("workers");
        w.threads = (int)NUM("threads");
        w.tasks = (uint64_t)NUM("tasks");
        w.rep = (int)NUM("rep");
        w.wall_s = NUM("wall_s");
        w.tasks_per_s = NUM("tasks_per_s");
        w.serial_s = NUM("serial_s");
        w.speedup = NUM("speedup");
        w.efficiency = NUM("efficiency");
        w.imbalance = NUM("imbalance");
        w.manager_cpu_s = NUM("manager_cpu_s");
        w.bytes_moved = (uint64_t)NUM("bytes_moved");
        w.chunks = (uint64_t)NUM("chunks");
        w.load1 = NUM("load1");
        w.other_cpu_s = NUM("other_cpu_s");
        w.machine_busy = (int)NUM("machine_busy");
        w.startup_s = NUM("startup_s"); /* absent in a peer's rows: 0 */
        w.final_sync_s = NUM("final_sync_s");
#undef NUM
#undef CELL
        rc = hpool_bench_rows_add(r, &w);
    }
    hpool_render_table_free(&t);
    return rc;
}

/* ---------------------------------------------------------------- merged records */
/* Append the rows of src (without its header and footer) to out; header once. */
static int append_tsv(FILE *out, const char *src, bool *header_done)
{
    FILE *in = fopen(src, "r");
    if (in == NULL)
        return 0; /* this run recorded nothing of that kind */
    char line[8192];
    bool first = true;
    while (fgets(line, sizeof line, in)) {
        if (line[0] == '#')
            continue;
        if (first) {
            first = false;
            if (*header_done)
                continue;
            *header_done = true;
        }
        fputs(line, out);
    }
    fclose(in);
    return 0;
}

static int merge_tsv(const char *dir, const char *name, const int *ids, size_t n)
{
    char tmp[4096], src[4096];
    FILE *f = open_tmp(dir, name, tmp, sizeof tmp);
    if (f == NULL)
        return -1;
    bool header = false;
    for (size_t i = 0; i < n; i++) {
        snprintf(src, sizeof src, "%s/runs/%d/%s", dir, ids[i], name);
        append_tsv(f, src, &header);
    }
    if (!header) { /* no run recorded this kind: no file */
        fclose(f);
        unlink(tmp);
        return 0;
    }
    fputs("# complete\n", f);
    return close_rename(f, tmp, dir, name);
}

int hpool_bench_merge_records(const char *dir, const int *run_ids, size_t n_runs, char *err,
                              size_t errlen)
{
    if (merge_tsv(dir, "chunks.tsv", run_ids, n_runs) != 0 ||
        merge_tsv(dir, "spans.tsv", run_ids, n_runs) != 0) {
        snprintf(err, errlen, "%s: cannot write the merged timeline files", dir);
        return -1;
    }
    return 0;
}
