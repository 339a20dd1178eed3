/* report.c: results_dir/report.md from the TSVs, meta.json and the rendered PNGs.
 *
 * The report is composed in memory (open_memstream) and written in one go under a
 * temporary name, then renamed: a reader never sees half a report. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* open_memstream, strverscmp */
#endif
#include "report.h"
#include "report_schedules.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "combos.h"
#include "machine_load.h"
#include "render.h"
#include "time_breakdown.h"
#include "verdict.h"

__attribute__((format(printf, 3, 4))) static void seterr(char *err, size_t errlen,
                                                         const char *fmt, ...) {
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Markdown table cells: '|' would split the cell and a newline would end the row. */
static void md_cell(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", f);
        else if (*s == '\n' || *s == '\r' || *s == '\t')
            fputc(' ', f);
        else
            fputc(*s, f);
    }
}

/* Numbers shortened for reading: integers as they are, others to 4 significant digits;
 * anything else verbatim. */
static void md_value(FILE *f, const char *s) {
    char *end = NULL;
    double v = strtod(s, &end);
    if (*s && *end == '\0' && isfinite(v)) {
        if ((v < 0 ? -v : v) < 1e15 && v == (double)(long long)v)
            fprintf(f, "%.0f", v);
        else
            fprintf(f, "%.4g", v);
        return;
    }
    md_cell(f, s);
}

/* ------------------------------------------------------------------------------------
 * Tables of the results directory
 * ---------------------------------------------------------------------------------- */

enum { T_RUNS, T_SUMMARY, T_CHUNKS, T_SPANS, T_COUNT };
static const char *const TSV_NAMES[T_COUNT] = {"runs.tsv", "summary.tsv", "chunks.tsv",
                                               "spans.tsv"};

typedef struct {
    const char *dir;
    hpool_render_table t[T_COUNT];
    bool present[T_COUNT];
    json_t *meta;          /* NULL when absent or unreadable */
    json_t *meta_name;     /* the "name" / "description" strings found in it (borrowed) */
    json_t *meta_desc;
    char meta_error[256];  /* why meta.json could not be read ("" if absent or fine) */
} report_ctx;

/* A string member of meta.json at the top level or in a top-level object (meta.json's
 * layout belongs to the CLI; the experiment's name may sit under e.g. "config"). */
static json_t *meta_string(json_t *meta, const char *key) {
    if (!json_is_object(meta))
        return NULL;
    json_t *v = json_object_get(meta, key);
    if (json_is_string(v))
        return v;
    const char *k;
    json_t *sub;
    json_object_foreach(meta, k, sub) {
        v = json_object_get(sub, key);
        if (json_is_object(sub) && json_is_string(v))
            return v;
    }
    return NULL;
}

static int load_all(report_ctx *c, char *err, size_t errlen) {
    for (int i = 0; i < T_COUNT; i++) {
        int rc = hpool_render_table_load(c->dir, TSV_NAMES[i], &c->t[i], err, errlen);
        if (rc < 0)
            return -1;
        c->present[i] = rc == 0;
    }
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/meta.json", c->dir) >= (int)sizeof path) {
        seterr(err, errlen, "%s: path too long", c->dir);
        return -1;
    }
    if (access(path, F_OK) == 0) {
        json_error_t je;
        c->meta = json_load_file(path, 0, &je);
        if (!c->meta)
            snprintf(c->meta_error, sizeof c->meta_error, "line %d: %s", je.line, je.text);
        c->meta_name = meta_string(c->meta, "name");
        c->meta_desc = meta_string(c->meta, "description");
    }
    return 0;
}

static void free_all(report_ctx *c) {
    for (int i = 0; i < T_COUNT; i++)
        hpool_render_table_free(&c->t[i]);
    json_decref(c->meta);
}

static const char *cell(const hpool_render_table *t, size_t row, const char *col) {
    return hpool_render_table_cell(t, row, hpool_render_table_col(t, col));
}

static double cellnum(const hpool_render_table *t, size_t row, const char *col) {
    double v = NAN;
    if (hpool_render_table_num(t, row, hpool_render_table_col(t, col), &v, NULL, 0) < 0)
        return NAN;
    return v;
}

/* ------------------------------------------------------------------------------------
 * Title and experiment
 * ---------------------------------------------------------------------------------- */

static const char *experiment_name(const report_ctx *c) {
    const char *name = json_string_value(c->meta_name);
    if (name && *name)
        return name;
    for (int i = T_RUNS; i <= T_SUMMARY; i++)
        if (c->present[i] && c->t[i].nrows > 0 && *cell(&c->t[i], 0, "experiment"))
            return cell(&c->t[i], 0, "experiment");
    const char *slash = strrchr(c->dir, '/');
    return slash && slash[1] ? slash + 1 : c->dir;
}

static bool all_scalars(json_t *arr) {
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (json_is_object(v) || json_is_array(v))
            return false;
    }
    return true;
}

static void json_scalar(FILE *f, json_t *v) {
    if (json_is_string(v)) {
        md_cell(f, json_string_value(v));
    } else {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(6));
        md_cell(f, s ? s : "?");
        free(s);
    }
}

/* One table row per leaf; nested objects become dotted keys, lists of scalars are
 * joined. The name and description shown above the table are skipped. */
static void meta_rows(FILE *f, const report_ctx *c, json_t *obj, const char *prefix,
                      int depth) {
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        if (v == c->meta_name || v == c->meta_desc ||
            (depth == 0 && strcmp(k, "placement") == 0)) /* its own table below */
            continue;
        char key[256];
        snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", k);
        if (json_is_object(v) && depth < 4) {
            meta_rows(f, c, v, key, depth + 1);
            continue;
        }
        fputs("| ", f);
        md_cell(f, key);
        fputs(" | ", f);
        if (json_is_array(v) && all_scalars(v)) {
            /* a command line reads best as one, in code style */
            bool cmd = strcmp(k, "command") == 0 || strcmp(k, "argv") == 0;
            size_t i;
            json_t *e;
            fputs(cmd ? "`" : "", f);
            json_array_foreach(v, i, e) {
                fputs(i ? (cmd ? " " : ", ") : "", f);
                json_scalar(f, e);
            }
            fputs(cmd ? "`" : "", f);
        } else {
            json_scalar(f, v);
        }
        fputs(" |\n", f);
    }
}

/* HPOOL_PLACE_* bits (hpool.h) by name. */
static void placement_flags(FILE *f, json_int_t flags) {
    static const char *const names[] = {"oversubscribed", "shared-core", "smt", "unbound"};
    bool any = false;
    for (int b = 0; b < 4; b++)
        if (flags & ((json_int_t)1 << b)) {
            fprintf(f, "%s%s", any ? ", " : "", names[b]);
            any = true;
        }
    if (!any)
        fputs("-", f);
}

/* meta.json's placement: a table per (workers, threads) shape, its warnings as a list. */
static void write_placement(FILE *f, json_t *placement) {
    if (!json_is_array(placement) || json_array_size(placement) == 0)
        return;
    fputs("### Placement\n\nWhere each rank and OpenMP thread ran (`mgr` = the manager); "
          "cpu and core are hwloc's logical indices.\n\n",
          f);
    size_t i, j;
    json_t *t, *row;
    json_array_foreach(placement, i, t) {
        fprintf(f, "%lld workers x %lld threads:\n\n| host | rank | thread | cpu | core | flags |\n"
                   "|---|---|---|---|---|---|\n",
                (long long)json_integer_value(json_object_get(t, "workers")),
                (long long)json_integer_value(json_object_get(t, "threads")));
        json_array_foreach(json_object_get(t, "rows"), j, row) {
            json_int_t thread = json_integer_value(json_object_get(row, "thread"));
            fputs("| ", f);
            const char *host = json_string_value(json_object_get(row, "host"));
            md_cell(f, host ? host : "?");
            fprintf(f, " | %lld | ", (long long)json_integer_value(json_object_get(row, "rank")));
            if (thread < 0)
                fputs("mgr", f);
            else
                fprintf(f, "%lld", (long long)thread);
            fprintf(f, " | %lld | %lld | ",
                    (long long)json_integer_value(json_object_get(row, "cpu")),
                    (long long)json_integer_value(json_object_get(row, "core")));
            placement_flags(f, json_integer_value(json_object_get(row, "flags")));
            fputs(" |\n", f);
        }
        const char *w = json_string_value(json_object_get(t, "warnings"));
        fputs(w && *w ? "\nWarnings:\n\n" : "\nNo placement warnings.\n", f);
        for (const char *p = w; p && *p;) {
            size_t n = strcspn(p, "\n");
            if (n > 0) {
                fputs("- ", f);
                char line[1024];
                snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), p);
                md_cell(f, line);
                fputc('\n', f);
            }
            p += n + (p[n] == '\n');
        }
        fputc('\n', f);
    }
}

static void write_experiment(FILE *f, const report_ctx *c) {
    const char *desc = json_string_value(c->meta_desc);
    if (desc && *desc)
        fprintf(f, "%s\n\n", desc);
    fputs("## Experiment\n\n", f);
    if (c->meta_error[0]) {
        fprintf(f, "meta.json could not be read (%s).\n\n", c->meta_error);
        return;
    }
    if (!json_is_object(c->meta)) {
        fputs("No meta.json: parameters are only those in the tables below.\n\n", f);
        return;
    }
    fputs("| parameter | value |\n|---|---|\n", f);
    meta_rows(f, c, c->meta, "", 0);
    fputc('\n', f);
    write_placement(f, json_object_get(c->meta, "placement"));
}

/* ------------------------------------------------------------------------------------
 * Data state
 * ---------------------------------------------------------------------------------- */

static void write_data_state(FILE *f, const report_ctx *c) {
    fputs("## Data\n\n| file | rows | state |\n|---|---|---|\n", f);
    bool cut = false;
    for (int i = 0; i < T_COUNT; i++) {
        const hpool_render_table *t = &c->t[i];
        if (!c->present[i]) {
            fprintf(f, "| %s | - | %s |\n", TSV_NAMES[i],
                    t->complete ? "complete, no rows" : "absent");
            continue;
        }
        cut |= !t->complete;
        fprintf(f, "| %s | %zu | %s%s |\n", TSV_NAMES[i], t->nrows,
                t->complete ? "complete" : "**incomplete** (no `# complete` line)",
                t->dropped ? "; a partly written last line was ignored" : "");
    }
    fputc('\n', f);
    if (cut)
        fputs("**The data is incomplete**: at least one file lacks its `# complete` "
              "line, so the experiment was cut short and the numbers below cover only "
              "the runs that finished.\n\n",
              f);
    else if (c->present[T_RUNS] || c->present[T_SUMMARY])
        fputs("The data is complete: every file ends with `# complete`.\n\n", f);
}

/* ------------------------------------------------------------------------------------
 * Best configuration
 * ---------------------------------------------------------------------------------- */

static void describe_row(FILE *f, const hpool_render_table *s, size_t r) {
    fprintf(f, "**%s, %s, %s, %s, chunksize %s, %s workers x %s threads, %s tasks**: "
               "median %.4g s (min %.4g, max %.4g over %s reps)",
            cell(s, r, "impl"), cell(s, r, "workload"), cell(s, r, "api"),
            cell(s, r, "schedule"), cell(s, r, "chunksize"), cell(s, r, "workers"),
            cell(s, r, "threads"), cell(s, r, "tasks"), cellnum(s, r, "wall_median"),
            cellnum(s, r, "wall_min"), cellnum(s, r, "wall_max"), cell(s, r, "reps"));
    double tps = cellnum(s, r, "tasks_per_s_median"), sp = cellnum(s, r, "speedup_median");
    if (isfinite(tps) && tps > 0)
        fprintf(f, ", %.4g tasks/s", tps);
    if (isfinite(sp) && sp > 0)
        fprintf(f, ", speedup %.3g", sp);
}

/* Row with the lowest wall_median among rows matching workload/impl (NULL: any), or -1. */
static long best_row(const hpool_render_table *s, const char *workload, const char *impl) {
    long best = -1;
    for (size_t r = 0; r < s->nrows; r++) {
        if ((workload && strcmp(cell(s, r, "workload"), workload) != 0) ||
            (impl && strcmp(cell(s, r, "impl"), impl) != 0))
            continue;
        double v = cellnum(s, r, "wall_median");
        if (isfinite(v) && (best < 0 || v < cellnum(s, (size_t)best, "wall_median")))
            best = (long)r;
    }
    return best;
}

/* Distinct values of a column, in order of appearance (pointers into the table). */
static size_t distinct(const hpool_render_table *s, const char *col, const char **out) {
    size_t n = 0;
    for (size_t r = 0; r < s->nrows; r++) {
        const char *v = cell(s, r, col);
        bool seen = false;
        for (size_t i = 0; i < n && !seen; i++)
            seen = strcmp(out[i], v) == 0;
        if (!seen)
            out[n++] = v;
    }
    return n;
}

/* "resolved ..." / "not resolved at N repeats ..." for b against a (stats.h). */
static void verdict_text(const hpool_bench_combo *a, const hpool_bench_combo *b, char *out,
                         size_t len) {
    hpool_stats_cmp cmp;
    if (!a || !b || hpool_stats_compare(a->wall, a->n, b->wall, b->n, &cmp) != 0)
        snprintf(out, len, "no repetitions in runs.tsv to judge by");
    else
        hpool_stats_describe(&cmp, out, len);
}

/* The best against the runner-up: is the lead more than the noise of the repeats? */
static void write_best_verdict(FILE *f, const hpool_bench_combos *cs) {
    hpool_bench_verdict v;
    if (hpool_bench_verdict_best(cs, NULL, NULL, &v) != 0 || v.best < 0)
        return;
    if (v.runner_up < 0) {
        fputs("\nOnly one configuration, so nothing to rank it against.\n", f);
        return;
    }
    const hpool_bench_combo *r = &cs->c[v.runner_up];
    char label[256], verdict[512];
    hpool_bench_combo_label(&r->key, label, sizeof label);
    hpool_stats_describe(&v.cmp, verdict, sizeof verdict);
    fprintf(f, "\nRunner-up: **%s**, median %.4g s (min %.4g, max %.4g over %zu reps). "
               "The best's lead over it (runner-up / best = %.3f) is **%s**.\n",
            label, r->median, r->min, r->max, r->n, v.cmp.ratio, verdict);
    if (!v.cmp.resolved)
        fprintf(f, "The two are within the noise of the repeats: either may be the faster; "
                   "\"best\" above only means the lower median of this run.\n");
}

/* Best of each schedule (hpool rows), each against the best schedule. */
static void write_schedule_comparison(FILE *f, const hpool_bench_combos *cs) {
    const char *scheds[64];
    size_t ns = 0;
    for (size_t i = 0; i < cs->n && ns < 64; i++) {
        bool seen = strcmp(cs->c[i].key.impl, "hpool") != 0;
        for (size_t k = 0; k < ns && !seen; k++)
            seen = strcmp(scheds[k], cs->c[i].key.schedule) == 0;
        if (!seen)
            scheds[ns++] = cs->c[i].key.schedule;
    }
    if (ns < 2)
        return;
    long best[64];
    long top = -1;
    for (size_t k = 0; k < ns; k++) {
        best[k] = -1;
        for (size_t i = 0; i < cs->n; i++)
            if (strcmp(cs->c[i].key.impl, "hpool") == 0 &&
                strcmp(cs->c[i].key.schedule, scheds[k]) == 0 &&
                (best[k] < 0 || cs->c[i].median < cs->c[best[k]].median))
                best[k] = (long)i;
        if (top < 0 || cs->c[best[k]].median < cs->c[top].median)
            top = best[k];
    }
    fputs("\nSchedules (hpool, best configuration of each, against the best schedule):\n\n"
          "| schedule | best configuration | median (s) | against the best schedule |\n"
          "|---|---|---|---|\n",
          f);
    for (size_t k = 0; k < ns; k++) {
        char label[256], verdict[512] = "the best schedule";
        hpool_bench_combo_label(&cs->c[best[k]].key, label, sizeof label);
        if (best[k] != top)
            verdict_text(&cs->c[top], &cs->c[best[k]], verdict, sizeof verdict);
        fprintf(f, "| %s | ", scheds[k]);
        md_cell(f, label);
        fprintf(f, " | %.4g | %s |\n", cs->c[best[k]].median, verdict);
    }
}

/* Fastest combination of impl on workload, or NULL. */
static const hpool_bench_combo *best_combo(const hpool_bench_combos *cs, const char *impl,
                                           const char *workload) {
    const hpool_bench_combo *best = NULL;
    for (size_t i = 0; i < cs->n; i++)
        if (strcmp(cs->c[i].key.impl, impl) == 0 &&
            strcmp(cs->c[i].key.workload, workload) == 0 &&
            (!best || cs->c[i].median < best->median))
            best = &cs->c[i];
    return best;
}

/* hpool against one peer on every workload both ran. */
static void write_peer_table(FILE *f, const hpool_render_table *s, const char **wls,
                             size_t nwl, const hpool_bench_combos *cs, const char *peer,
                             const char *what) {
    bool header = false;
    for (size_t w = 0; w < nwl; w++) {
        long h = best_row(s, wls[w], "hpool"), p = best_row(s, wls[w], peer);
        if (h < 0 || p < 0)
            continue;
        if (!header)
            fprintf(f,
                    "\nhpool against %s (best of each; the difference judged on %s / "
                    "hpool):\n\n"
                    "| workload | hpool median (s) | %s median (s) | hpool speed-up | "
                    "resolved? |\n"
                    "|---|---|---|---|---|\n",
                    what, peer, peer);
        header = true;
        double hv = cellnum(s, (size_t)h, "wall_median");
        double pv = cellnum(s, (size_t)p, "wall_median");
        char verdict[512];
        verdict_text(best_combo(cs, "hpool", wls[w]), best_combo(cs, peer, wls[w]), verdict,
                     sizeof verdict);
        fprintf(f, "| ");
        md_cell(f, wls[w]);
        fprintf(f, " | %.4g | %.4g | %.3gx | %s |\n", hv, pv, hv > 0 ? pv / hv : NAN, verdict);
    }
}

/* hpool beside each peer that ran (bench/peers): Python's pool and mpi4py.futures. */
static void write_peer_comparison(FILE *f, const hpool_render_table *s, const char **wls,
                                  size_t nwl, const hpool_bench_combos *cs) {
    write_peer_table(f, s, wls, nwl, cs, "python-ppe", "Python's ProcessPoolExecutor");
    write_peer_table(f, s, wls, nwl, cs, "mpi4py", "mpi4py.futures.MPIPoolExecutor");
}

static int write_best(FILE *f, const report_ctx *c) {
    const hpool_render_table *s = &c->t[T_SUMMARY];
    fputs("## Best configuration\n\n", f);
    long best = c->present[T_SUMMARY] ? best_row(s, NULL, NULL) : -1;
    if (best < 0) {
        fputs("No summary.tsv rows, so no best configuration.\n\n", f);
        return 0;
    }
    fputs("Lowest median wall time: ", f);
    describe_row(f, s, (size_t)best);
    fputs(".\n", f);
    hpool_bench_combos cs = {0};
    char err[512];
    if (hpool_bench_combos_load(c->dir, &cs, err, sizeof err) < 0)
        fprintf(f, "\nruns.tsv could not be read (%s), so no verdict on the best.\n", err);
    write_best_verdict(f, &cs);
    const char **wls = calloc(s->nrows, sizeof *wls);
    if (!wls) {
        hpool_bench_combos_free(&cs);
        return -1;
    }
    size_t nwl = distinct(s, "workload", wls);
    for (size_t w = 0; nwl > 1 && w < nwl; w++) {
        fputs(w == 0 ? "\nPer workload:\n\n" : "", f);
        fputs("- ", f);
        describe_row(f, s, (size_t)best_row(s, wls[w], NULL));
        fputc('\n', f);
    }
    write_schedule_comparison(f, &cs);
    write_peer_comparison(f, s, wls, nwl, &cs);
    hpool_bench_combos_free(&cs);
    free(wls);
    fputc('\n', f);
    return 0;
}

/* ------------------------------------------------------------------------------------
 * Summary table
 * ---------------------------------------------------------------------------------- */

static void write_summary(FILE *f, const report_ctx *c) {
    const hpool_render_table *s = &c->t[T_SUMMARY];
    fputs("## Summary\n\n", f);
    if (!c->present[T_SUMMARY]) {
        fputs("No summary.tsv.\n\n", f);
        return;
    }
    fputs("One row per parameter combination; times in seconds, medians over the "
          "repetitions (`spread` = (max - min) / median). Start-up (`startup_median`: "
          "executor create until every worker started and the clocks are synchronised) and "
          "the clock sync at the end (`final_sync_median`) are measured on their own and "
          "are not part of wall, tasks/s, speedup or efficiency.\n\n|",
          f);
    for (size_t i = 0; i < s->ncols; i++) {
        fputc(' ', f);
        md_cell(f, s->names[i]);
        fputs(" |", f);
    }
    fputs("\n|", f);
    for (size_t i = 0; i < s->ncols; i++)
        fputs("---|", f);
    fputc('\n', f);
    for (size_t r = 0; r < s->nrows; r++) {
        fputc('|', f);
        for (size_t i = 0; i < s->ncols; i++) {
            fputc(' ', f);
            md_value(f, hpool_render_table_cell(s, r, (int)i));
            fputs(" |", f);
        }
        fputc('\n', f);
    }
    fputc('\n', f);
}

/* ------------------------------------------------------------------------------------
 * Plots
 * ---------------------------------------------------------------------------------- */

/* Known plots first, in reading order; then anything else by name. */
static int plot_rank(const char *name) {
    static const char *const order[] = {"timeline.png", "timeline_run", "chunksize.png",
                                        "scaling.png", "schedules.png"};
    for (int i = 0; i < 5; i++)
        if (strncmp(name, order[i], strlen(order[i])) == 0)
            return i;
    return 5;
}

static int plot_cmp(const void *a, const void *b) {
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    int rx = plot_rank(x), ry = plot_rank(y);
    return rx != ry ? rx - ry : strverscmp(x, y);
}

static void plot_caption(FILE *f, const char *name) {
    static const char *const text[] = {
        "Timeline of the first run: one lane per worker rank (and per OpenMP thread "
        "when spans were recorded), a box per chunk, the line above it from dispatch to "
        "start.",
        "Timeline of another configuration (first repetition).",
        "Median wall time against chunksize (min-max bars); circles mark each line's "
        "best chunksize. The overall best is filled only when its lead over the runner-up "
        "is resolved (see Best configuration); its label says so when it is not.",
        "Speedup and parallel efficiency against the number of workers.",
        "Median wall time per schedule, one cluster per workload.",
        ""};
    const char *t = text[plot_rank(name)];
    if (*t)
        fprintf(f, "%s\n\n", t);
}

static bool is_plot(const struct dirent *e) {
    size_t n = strlen(e->d_name);
    return e->d_name[0] != '.' && n > 4 && strcmp(e->d_name + n - 4, ".png") == 0;
}

static int write_plots(FILE *f, const report_ctx *c) {
    DIR *d = opendir(c->dir);
    if (!d)
        return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!is_plot(e))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            char **bigger = realloc(names, cap * sizeof *names);
            if (!bigger)
                break;
            names = bigger;
        }
        if (!(names[n] = strdup(e->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, plot_cmp);
    fputs("## Plots\n\n", f);
    if (n == 0)
        fputs("No plots were rendered (run `hpool-bench render` with gnuplot installed).\n\n",
              f);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]) - 4;
        fprintf(f, "### %.*s\n\n", (int)len, names[i]);
        plot_caption(f, names[i]);
        fprintf(f, "![%.*s](%s)\n\n[SVG](%.*s.svg)\n\n", (int)len, names[i], names[i],
                (int)len, names[i]);
        free(names[i]);
    }
    free(names);
    return 0;
}

/* ------------------------------------------------------------------------------------
 * Writing
 * ---------------------------------------------------------------------------------- */

static int write_atomic(const char *path, const char *data, size_t len, char *err,
                        size_t errlen) {
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        seterr(err, errlen, "%s: path too long", path);
        return -1;
    }
    FILE *f = fopen(tmp, "w");
    if (!f) {
        seterr(err, errlen, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    bool bad = fwrite(data, 1, len, f) != len;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        seterr(err, errlen, "%s: %s", path, bad ? "write error" : strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int compose(FILE *f, const report_ctx *c, char *err, size_t errlen) {
    fprintf(f, "# hpool benchmark report: %s\n\n", experiment_name(c));
    write_experiment(f, c);
    write_data_state(f, c);
    if (c->present[T_RUNS])
        hpool_bench_write_load_note(f, &c->t[T_RUNS]);
    if (write_best(f, c) < 0) {
        seterr(err, errlen, "report: out of memory");
        return -1;
    }
    if (hpool_bench_write_time_breakdown(f, c->dir) < 0) {
        seterr(err, errlen, "report: out of memory");
        return -1;
    }
    write_summary(f, c);
    if (hpool_bench_report_schedules(f, c->dir, err, errlen) != 0)
        return -1;
    if (write_plots(f, c) < 0) {
        seterr(err, errlen, "report: cannot list %s: %s", c->dir, strerror(errno));
        return -1;
    }
    return 0;
}

int hpool_bench_write_report(const char *results_dir, char *err, size_t errlen) {
    if (err && errlen)
        err[0] = '\0';
    struct stat st;
    if (!results_dir || stat(results_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        seterr(err, errlen, "%s: not a results directory", results_dir ? results_dir : "(null)");
        return -1;
    }
    report_ctx c = {.dir = results_dir};
    int rc = load_all(&c, err, errlen);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = rc == 0 ? open_memstream(&buf, &len) : NULL;
    if (rc == 0 && !f) {
        seterr(err, errlen, "report: out of memory");
        rc = -1;
    }
    if (f) {
        rc = compose(f, &c, err, errlen);
        if (fclose(f) != 0 && rc == 0) {
            seterr(err, errlen, "report: out of memory");
            rc = -1;
        }
    }
    if (rc == 0) {
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/report.md", results_dir) >= (int)sizeof path) {
            seterr(err, errlen, "%s: path too long", results_dir);
            rc = -1;
        } else {
            rc = write_atomic(path, buf, len, err, errlen);
        }
    }
    free(buf);
    free_all(&c);
    return rc;
}
