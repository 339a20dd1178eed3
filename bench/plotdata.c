/* plotdata.c: summary.tsv rows -> the pre-grouped data files of the summary plots,
 * results_dir/plotdata/{chunksize,scaling,schedules}.dat. gnuplot cannot group rows by
 * arbitrary keys, so this is done here; the layout of each data file is documented at
 * the top of plots/NAME.gp. */
#include "render_int.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------
 * Files that appear whole or not at all
 * ---------------------------------------------------------------------------------- */

typedef struct {
    FILE *f;
    char tmp[PATH_MAX];
    char final[PATH_MAX];
} afile;

static int afile_open(afile *a, const char *final, char *err, size_t errlen) {
    snprintf(a->final, sizeof a->final, "%s", final);
    if (mkpath(a->tmp, err, errlen, "%s.tmp.%ld", final, (long)getpid()) < 0)
        return -1;
    a->f = fopen(a->tmp, "w");
    if (!a->f) {
        seterr(err, errlen, "%s: %s", a->tmp, strerror(errno));
        return -1;
    }
    return 0;
}

static int afile_commit(afile *a, char *err, size_t errlen) {
    int bad = ferror(a->f);
    bad |= fclose(a->f) != 0;
    a->f = NULL;
    if (bad || rename(a->tmp, a->final) != 0) {
        seterr(err, errlen, "%s: %s", a->final, bad ? "write error" : strerror(errno));
        unlink(a->tmp);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------
 * Summary rows, groups and slices
 *
 * A full sweep is a cross product, so "one line per combination of everything else"
 * gives dozens of unreadable lines. Each summary plot therefore groups by the few keys
 * it is about and takes a documented slice of the rest (see the plot's writer).
 * ---------------------------------------------------------------------------------- */

static const char *const KEY_COLS[F_COUNT + 1] = {
    "impl", "experiment", "workload", "api", "schedule", "chunksize", "workers", "threads",
    "tasks", NULL};

#define BIT(f) (1u << (f))
#define NUMERIC_FIELDS (BIT(F_CHUNKSIZE) | BIT(F_WORKERS) | BIT(F_THREADS) | BIT(F_TASKS))

int hpool_bench__load_srows(const hpool_render_table *t, srow **out, char *err, size_t errlen) {
    static const char *const numeric[] = {"chunksize", "workers",     "threads",
                                          "tasks",     "wall_min",    "wall_median",
                                          "wall_max",  "speedup_median", NULL};
    if (hpool_render_table_require(t, KEY_COLS, err, errlen) < 0 ||
        hpool_bench__table_require_numeric(t, numeric, err, errlen) < 0)
        return -1;
    srow *rows = calloc(t->nrows ? t->nrows : 1, sizeof *rows);
    if (!rows) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    for (size_t r = 0; r < t->nrows; r++) {
        srow *s = &rows[r];
        for (int f = 0; f < F_COUNT; f++) {
            int c = hpool_render_table_col(t, KEY_COLS[f]);
            s->key[f] = hpool_render_table_cell(t, r, c);
            if (NUMERIC_FIELDS & BIT(f))
                s->val[f] = num(t, r, c);
        }
        s->wall_min = num(t, r, hpool_render_table_col(t, "wall_min"));
        s->wall_median = num(t, r, hpool_render_table_col(t, "wall_median"));
        s->wall_max = num(t, r, hpool_render_table_col(t, "wall_max"));
        s->speedup = num(t, r, hpool_render_table_col(t, "speedup_median"));
        int ic = hpool_render_table_col(t, "imbalance_median");
        s->imbalance = ic >= 0 ? num(t, r, ic) : NAN;
    }
    *out = rows;
    return 0;
}

/* Does field f take more than one value across all rows? */
bool hpool_bench__varies(const sdata *d, int f) {
    for (size_t i = 1; i < d->n; i++)
        if (strcmp(d->rows[i].key[f], d->rows[0].key[f]) != 0)
            return true;
    return false;
}

static bool same_key(const srow *a, const srow *b, unsigned mask) {
    for (int f = 0; f < F_COUNT; f++)
        if ((mask & BIT(f)) && strcmp(a->key[f], b->key[f]) != 0)
            return false;
    return true;
}

/* Groups rows by the fields in mask, numbered in order of first appearance.
 * \return the number of groups. */
static size_t group_rows(sdata *d, unsigned mask) {
    size_t ng = 0;
    for (size_t i = 0; i < d->n; i++) {
        d->group[i] = ng;
        for (size_t j = 0; j < i; j++) {
            if (same_key(&d->rows[i], &d->rows[j], mask)) {
                d->group[i] = d->group[j];
                break;
            }
        }
        if (d->group[i] == ng)
            ng++;
    }
    return ng;
}

/* Rows of group g into d->idx. \return their count. */
static size_t members(const sdata *d, size_t g) {
    size_t m = 0;
    for (size_t i = 0; i < d->n; i++)
        if (d->group[i] == g)
            d->idx[m++] = i;
    return m;
}

/* Keeps the rows whose numeric field f is the largest in idx[0..m). */
static size_t keep_max(const sdata *d, size_t m, int f) {
    double mx = -INFINITY;
    for (size_t k = 0; k < m; k++)
        if (d->rows[d->idx[k]].val[f] > mx)
            mx = d->rows[d->idx[k]].val[f];
    size_t out = 0;
    for (size_t k = 0; k < m; k++)
        if (d->rows[d->idx[k]].val[f] == mx)
            d->idx[out++] = d->idx[k];
    return out;
}

/* Keeps the rows whose field f equals that of the first row. */
static size_t keep_first(const sdata *d, size_t m, int f) {
    size_t out = 0;
    for (size_t k = 0; k < m; k++)
        if (strcmp(d->rows[d->idx[k]].key[f], d->rows[d->idx[0]].key[f]) == 0)
            d->idx[out++] = d->idx[k];
    return out;
}

/* Stable insertion sort of idx[0..m) by numeric field f (groups are small). */
static void sort_by(const sdata *d, size_t m, int f) {
    for (size_t k = 1; k < m; k++) {
        size_t v = d->idx[k], j = k;
        for (; j > 0 && d->rows[d->idx[j - 1]].val[f] > d->rows[v].val[f]; j--)
            d->idx[j] = d->idx[j - 1];
        d->idx[j] = v;
    }
}

/* After sort_by(f): keeps, for each value of f, the row with the lowest wall_median. */
static size_t best_per_value(const sdata *d, size_t m, int f) {
    size_t out = 0;
    for (size_t k = 0; k < m; k++) {
        const srow *r = &d->rows[d->idx[k]];
        if (out > 0 && d->rows[d->idx[out - 1]].val[f] == r->val[f]) {
            if (r->wall_median < d->rows[d->idx[out - 1]].wall_median)
                d->idx[out - 1] = d->idx[k];
        } else {
            d->idx[out++] = d->idx[k];
        }
    }
    return out;
}

static size_t best_of(const sdata *d, size_t m) {
    size_t best = d->idx[0];
    for (size_t k = 1; k < m; k++)
        if (d->rows[d->idx[k]].wall_median < d->rows[best].wall_median)
            best = d->idx[k];
    return best;
}

static void append(char *out, size_t len, const char *s) {
    size_t n = strlen(out);
    if (n < len)
        snprintf(out + n, len - n, "%s%s", n ? " " : "", s);
}

/* Key title from row r: the `always` fields, then those of `optional` that vary across
 * the summary. Double quotes would end gnuplot's quoted title, so they become '. */
static void row_title(const sdata *d, const srow *r, unsigned always, unsigned optional,
                      char *out, size_t len) {
    static const char *const pre[F_COUNT] = {"", "", "", "", "", "cs ", "", "", ""};
    static const char *const post[F_COUNT] = {"", "", "", "", "", "", " workers",
                                              " threads", " tasks"};
    out[0] = '\0';
    for (int f = 0; f < F_COUNT; f++) {
        if ((always & BIT(f)) || ((optional & BIT(f)) && hpool_bench__varies(d, f))) {
            char part[160];
            snprintf(part, sizeof part, "%s%s%s", pre[f], r->key[f], post[f]);
            append(out, len, part);
        }
    }
    for (char *p = out; *p; p++)
        if (*p == '"' || *p == '\t')
            *p = (*p == '"') ? '\'' : ' ';
}

#define LINE_KEY (BIT(F_IMPL) | BIT(F_EXPERIMENT) | BIT(F_WORKLOAD) | BIT(F_SCHEDULE))

/* ------------------------------------------------------------------------------------
 * plotdata/chunksize.dat: one line per (impl, experiment, workload, schedule), sliced at
 * the group's largest workers, threads and tasks and its first api.
 * ---------------------------------------------------------------------------------- */

static size_t chunksize_slice(const sdata *d, size_t g) {
    size_t m = members(d, g);
    m = keep_max(d, m, F_WORKERS);
    m = keep_max(d, m, F_THREADS);
    m = keep_max(d, m, F_TASKS);
    m = keep_first(d, m, F_API);
    sort_by(d, m, F_CHUNKSIZE);
    return best_per_value(d, m, F_CHUNKSIZE);
}

/* One panel per (experiment, workload), at most CHUNKSIZE_PANEL_LINES lines in it: hpool's
 * fixed chunking and the peers (fixed by nature) always, then the hpool schedules whose
 * best point is lowest. More lines than that do not read at a glance. */
#define CHUNKSIZE_PANEL_LINES 5

typedef struct {
    size_t best;  /* row of the group's lowest wall_median (plotted points only) */
    bool always;  /* hpool fixed, or a peer */
    bool chosen;
} cs_line;

static bool is_hpool(const srow *r);

/* Picks the panel's lines (groups of panel `pg` under the PANEL grouping saved in
 * panel_of) into chosen. */
static void choose_lines(const sdata *d, cs_line *ln, size_t ng, const size_t *panel_of,
                         size_t panel) {
    size_t n = 0;
    for (size_t g = 0; g < ng; g++)
        if (panel_of[g] == panel && ln[g].always && n < CHUNKSIZE_PANEL_LINES) {
            ln[g].chosen = true;
            n++;
        }
    while (n < CHUNKSIZE_PANEL_LINES) {
        size_t pick = SIZE_MAX;
        for (size_t g = 0; g < ng; g++)
            if (panel_of[g] == panel && !ln[g].chosen &&
                (pick == SIZE_MAX ||
                 d->rows[ln[g].best].wall_median < d->rows[ln[pick].best].wall_median))
                pick = g;
        if (pick == SIZE_MAX)
            break;
        ln[pick].chosen = true;
        n++;
    }
}

/* The model's predicted chunksize for a workload at (tasks, workers); 0 when none. */
static double predicted_chunksize(const hpool_render_table *model, const srow *r) {
    for (size_t i = 0; model && i < model->nrows; i++) {
        const char *wl = hpool_render_table_cell(model, i, 0);
        const char *tasks = hpool_render_table_cell(model, i, 1);
        const char *workers = hpool_render_table_cell(model, i, 2);
        const char *pred = hpool_render_table_cell(model, i, 6);
        if (wl && tasks && workers && pred && strcmp(wl, r->key[F_WORKLOAD]) == 0 &&
            strtod(tasks, NULL) == r->val[F_TASKS] && strtod(workers, NULL) == r->val[F_WORKERS])
            return strtod(pred, NULL);
    }
    return 0;
}

static void write_panel_row(FILE *f, const sdata *d, const cs_line *ln, size_t ng,
                            const size_t *panel_of, size_t panel, size_t first_block,
                            size_t nblocks, const hpool_render_table *model, size_t gbest) {
    size_t fixed = SIZE_MAX, best = SIZE_MAX;
    int holds_gbest = 0;
    for (size_t g = 0; g < ng; g++) {
        if (panel_of[g] != panel || !ln[g].chosen)
            continue;
        const srow *r = &d->rows[ln[g].best];
        holds_gbest |= ln[g].best == gbest;
        if (best == SIZE_MAX || r->wall_median < d->rows[best].wall_median)
            best = ln[g].best;
        if (is_hpool(r) && strcmp(r->key[F_SCHEDULE], "fixed") == 0)
            fixed = ln[g].best;
    }
    const srow *m = &d->rows[fixed != SIZE_MAX ? fixed : best];
    char title[RENDER_TITLE_MAX];
    row_title(d, m, BIT(F_WORKLOAD), BIT(F_EXPERIMENT), title, sizeof title);
    fprintf(f, "\"%s\"\t%zu\t%zu\t%.9g\t%.9g\t%.9g\t%d\n", title, first_block, nblocks,
            predicted_chunksize(model, m), m->val[F_CHUNKSIZE], m->wall_median, holds_gbest);
}

int hpool_bench__write_chunksize(sdata *d, const char *path, const char *panels_path,
                                 const hpool_render_table *model, char *err, size_t errlen) {
    size_t ng = group_rows(d, LINE_KEY);
    cs_line *ln = calloc(ng ? ng : 1, sizeof *ln);
    size_t *panel_of = calloc(ng ? ng : 1, sizeof *panel_of);
    if (!ln || !panel_of) {
        free(ln);
        free(panel_of);
        seterr(err, errlen, "out of memory");
        return -1;
    }
    /* The overall best is taken among plotted points only. */
    size_t gbest = SIZE_MAX;
    for (size_t g = 0; g < ng; g++) {
        ln[g].best = best_of(d, chunksize_slice(d, g));
        const srow *b = &d->rows[ln[g].best];
        ln[g].always = !is_hpool(b) || strcmp(b->key[F_SCHEDULE], "fixed") == 0;
    }
    /* Panels: (experiment, workload) of each line group, in order of first appearance. */
    size_t npanels = 0;
    for (size_t g = 0; g < ng; g++) {
        panel_of[g] = npanels;
        for (size_t h = 0; h < g; h++) {
            if (same_key(&d->rows[ln[g].best], &d->rows[ln[h].best],
                         BIT(F_EXPERIMENT) | BIT(F_WORKLOAD))) {
                panel_of[g] = panel_of[h];
                break;
            }
        }
        if (panel_of[g] == npanels)
            npanels++;
    }
    for (size_t p = 0; p < npanels; p++)
        choose_lines(d, ln, ng, panel_of, p);
    for (size_t g = 0; g < ng; g++)
        if (ln[g].chosen && (gbest == SIZE_MAX ||
                             d->rows[ln[g].best].wall_median < d->rows[gbest].wall_median))
            gbest = ln[g].best;
    afile a = {.f = NULL}, pa = {.f = NULL};
    if (afile_open(&a, path, err, errlen) < 0 || afile_open(&pa, panels_path, err, errlen) < 0) {
        if (a.f) { /* the first opened, the second not: no half pair left behind */
            fclose(a.f);
            unlink(a.tmp);
        }
        free(ln);
        free(panel_of);
        return -1;
    }
    fprintf(a.f, "# hpool plot data for plots/chunksize.gp (format: see that script)\n");
    fprintf(pa.f, "# hpool plot data for plots/chunksize.gp: one row per panel (see that script)\n");
    size_t block = 0;
    for (size_t p = 0; p < npanels; p++) {
        size_t first = block;
        for (size_t g = 0; g < ng; g++) {
            if (panel_of[g] != p || !ln[g].chosen)
                continue;
            size_t m = chunksize_slice(d, g), best = best_of(d, m);
            const srow *b = &d->rows[best];
            char title[RENDER_TITLE_MAX];
            row_title(d, b, BIT(F_IMPL) | BIT(F_WORKLOAD) | BIT(F_SCHEDULE),
                      BIT(F_EXPERIMENT) | BIT(F_API) | BIT(F_WORKERS) | BIT(F_THREADS) |
                          BIT(F_TASKS), title, sizeof title);
            fprintf(a.f, "%s\"%s (best %g: %.3g s)\"\n", block ? "\n\n" : "", title,
                    b->val[F_CHUNKSIZE], b->wall_median);
            for (size_t k = 0; k < m; k++) {
                const srow *r = &d->rows[d->idx[k]];
                int flag = d->idx[k] == gbest ? 2 : d->idx[k] == best ? 1 : 0;
                fprintf(a.f, "%.9g\t%.9g\t%.9g\t%.9g\t%d\n", r->val[F_CHUNKSIZE], r->wall_min,
                        r->wall_median, r->wall_max, flag);
            }
            block++;
        }
        write_panel_row(pa.f, d, ln, ng, panel_of, p, first, block - first, model, gbest);
    }
    free(ln);
    free(panel_of);
    int rc = afile_commit(&a, err, errlen);
    int rp = afile_commit(&pa, err, errlen);
    return rc < 0 || rp < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------------------------
 * plotdata/scaling.dat: one line per (impl, experiment, workload, schedule, threads),
 * sliced at the largest tasks and the first api; each point is the best chunksize at
 * that worker count.
 * ---------------------------------------------------------------------------------- */

static void write_scaling_block(FILE *f, const sdata *d, size_t g) {
    size_t m = members(d, g);
    m = keep_max(d, m, F_TASKS);
    m = keep_first(d, m, F_API);
    sort_by(d, m, F_WORKERS);
    m = best_per_value(d, m, F_WORKERS);
    const srow *base = &d->rows[d->idx[0]];
    bool absolute = true; /* serial time measured for every point */
    for (size_t k = 0; k < m; k++)
        absolute &= d->rows[d->idx[k]].speedup > 0;
    char title[RENDER_TITLE_MAX];
    row_title(d, base, BIT(F_IMPL) | BIT(F_WORKLOAD) | BIT(F_SCHEDULE),
              BIT(F_EXPERIMENT) | BIT(F_API) | BIT(F_THREADS) | BIT(F_TASKS), title,
              sizeof title);
    fprintf(f, "%s\"%s", g ? "\n\n" : "", title);
    if (!absolute)
        fprintf(f, " (relative to %g workers)", base->val[F_WORKERS]);
    fprintf(f, "\"\n");
    double base_cores = base->val[F_WORKERS] * base->val[F_THREADS];
    for (size_t k = 0; k < m; k++) {
        const srow *r = &d->rows[d->idx[k]];
        double cores = r->val[F_WORKERS] * r->val[F_THREADS];
        double speedup = absolute ? r->speedup
                         : r->wall_median > 0 ? base->wall_median / r->wall_median : 0;
        double ideal = absolute ? cores : base_cores > 0 ? cores / base_cores : 0;
        fprintf(f, "%.9g\t%.9g\t%.9g\t%.9g\t%.9g\n", r->val[F_WORKERS], speedup,
                ideal > 0 ? speedup / ideal : 0, ideal, r->wall_median);
    }
}

int hpool_bench__write_scaling(sdata *d, const char *path, char *err, size_t errlen) {
    size_t ng = group_rows(d, LINE_KEY | BIT(F_THREADS));
    afile a;
    if (afile_open(&a, path, err, errlen) < 0)
        return -1;
    fprintf(a.f, "# hpool plot data for plots/scaling.gp (format: see that script)\n");
    for (size_t g = 0; g < ng; g++)
        write_scaling_block(a.f, d, g);
    return afile_commit(&a, err, errlen);
}

/* ------------------------------------------------------------------------------------
 * plotdata/schedules.dat: clusters are workloads (per experiment); bars are hpool's
 * schedules plus one bar per other impl (python-ppe). A bar is the lowest wall_median
 * among its rows at their largest workers, threads and tasks (best chunksize and api).
 * ---------------------------------------------------------------------------------- */

static bool is_hpool(const srow *r) {
    return strcmp(r->key[F_IMPL], "hpool") == 0;
}

static const char *bar_name(const srow *r) {
    return is_hpool(r) ? r->key[F_SCHEDULE] : r->key[F_IMPL];
}

/* Bars in a fixed order (simple to adaptive schedules, then peers), unknown names last. */
static size_t bar_order(const sdata *d, const char **out) {
    static const char *const known[] = {"fixed",  "static", "ss",    "fsc",   "mfsc",
                                        "guided", "trapezoid", "factoring", "wf", "awf",
                                        "awf-b",  "awf-c",  "awf-d", "awf-e", "af",
                                        "auto",   NULL};
    size_t k = 0;
    for (const char *const *s = known; *s; s++) {
        for (size_t i = 0; i < d->n; i++) {
            if (is_hpool(&d->rows[i]) && strcmp(d->rows[i].key[F_SCHEDULE], *s) == 0) {
                out[k++] = *s;
                break;
            }
        }
    }
    for (size_t i = 0; i < d->n; i++) {
        bool seen = false;
        for (size_t j = 0; j < k && !seen; j++)
            seen = strcmp(out[j], bar_name(&d->rows[i])) == 0;
        if (!seen)
            out[k++] = bar_name(&d->rows[i]);
    }
    return k;
}

/* The bar's row (lowest wall_median at the largest workers, threads, tasks), or SIZE_MAX. */
static size_t bar_row(const sdata *d, size_t g, const char *bar) {
    size_t m = 0;
    for (size_t i = 0; i < d->n; i++)
        if (d->group[i] == g && strcmp(bar_name(&d->rows[i]), bar) == 0)
            d->idx[m++] = i;
    if (m == 0)
        return SIZE_MAX;
    m = keep_max(d, m, F_WORKERS);
    m = keep_max(d, m, F_THREADS);
    m = keep_max(d, m, F_TASKS);
    return best_of(d, m);
}

static void write_bar(FILE *f, const sdata *d, size_t g, const char *bar) {
    size_t r = bar_row(d, g, bar);
    if (r == SIZE_MAX) {
        fprintf(f, "\tNaN\tNaN\tNaN");
        return;
    }
    const srow *b = &d->rows[r];
    fprintf(f, "\t%.9g\t%.9g\t%.9g", b->wall_median, b->wall_min, b->wall_max);
}

/* The quoted title of cluster g (its workload, and experiment when several), the first
 * cell of a schedules data row. */
static void put_cluster_title(FILE *f, sdata *d, size_t g)
{
    size_t first = 0;
    while (d->group[first] != g)
        first++;
    char title[RENDER_TITLE_MAX];
    row_title(d, &d->rows[first], BIT(F_WORKLOAD), BIT(F_EXPERIMENT), title, sizeof title);
    fprintf(f, "\"%s\"", title);
}

/* plotdata/schedules_imbalance.dat: the same clusters and bars, one value each: the
 * bar row's median load imbalance (max / mean per-worker busy time). */
static int write_imbalance(sdata *d, const char *path, const char **bars, size_t nb,
                           size_t ng, char *err, size_t errlen) {
    afile a;
    if (afile_open(&a, path, err, errlen) < 0)
        return -1;
    fprintf(a.f, "# hpool plot data for plots/schedules.gp, lower panel (see that script)\n");
    fprintf(a.f, "cluster");
    for (size_t b = 0; b < nb; b++)
        fprintf(a.f, "\t\"%s\"", bars[b]);
    fputc('\n', a.f);
    for (size_t g = 0; g < ng; g++) {
        put_cluster_title(a.f, d, g);
        for (size_t b = 0; b < nb; b++) {
            size_t r = bar_row(d, g, bars[b]);
            if (r == SIZE_MAX || isnan(d->rows[r].imbalance))
                fprintf(a.f, "\tNaN");
            else
                fprintf(a.f, "\t%.9g", d->rows[r].imbalance);
        }
        fputc('\n', a.f);
    }
    return afile_commit(&a, err, errlen);
}

int hpool_bench__write_schedules(sdata *d, const char *path, const char *imbalance_path,
                                 size_t *nbars, char *err, size_t errlen) {
    const char **bars = calloc(d->n ? d->n : 1, sizeof *bars);
    if (!bars) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    size_t nb = bar_order(d, bars);
    size_t ng = group_rows(d, BIT(F_EXPERIMENT) | BIT(F_WORKLOAD));
    afile a;
    if (afile_open(&a, path, err, errlen) < 0) {
        free(bars);
        return -1;
    }
    fprintf(a.f, "# hpool plot data for plots/schedules.gp (format: see that script)\n");
    fprintf(a.f, "cluster");
    for (size_t b = 0; b < nb; b++)
        fprintf(a.f, "\t\"%s\"\tmin\tmax", bars[b]);
    fputc('\n', a.f);
    for (size_t g = 0; g < ng; g++) {
        put_cluster_title(a.f, d, g);
        for (size_t b = 0; b < nb; b++)
            write_bar(a.f, d, g, bars[b]);
        fputc('\n', a.f);
    }
    *nbars = nb;
    int rc = afile_commit(&a, err, errlen);
    if (rc == 0)
        rc = write_imbalance(d, imbalance_path, bars, nb, ng, err, errlen);
    free(bars);
    return rc;
}
