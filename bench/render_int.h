/* render_int.h: private to the render code (render.c, plotdata.c, table.c); the
 * public interface is render.h (and table.h). */
#ifndef HPOOL_BENCH_RENDER_INT_H
#define HPOOL_BENCH_RENDER_INT_H

#include "render.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define RENDER_TITLE_MAX 512

__attribute__((format(printf, 3, 4))) static inline void seterr(char *err, size_t errlen,
                                                                const char *fmt, ...) {
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* snprintf into a PATH_MAX buffer; a too-long path is an error, not a truncation. */
__attribute__((format(printf, 4, 5))) static inline int mkpath(char *out, char *err,
                                                               size_t errlen,
                                                               const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, PATH_MAX, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= PATH_MAX) {
        seterr(err, errlen, "path too long (%s...)", out);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------
 * TSV table helpers (table.c)
 * ---------------------------------------------------------------------------------- */

/* Every listed column must be a number in every row. */
int hpool_bench__table_require_numeric(const hpool_render_table *t, const char *const *names,
                                       char *err, size_t errlen);

static inline double num(const hpool_render_table *t, size_t row, int col) {
    double v = 0;
    hpool_render_table_num(t, row, col, &v, NULL, 0);
    return v;
}

/* ------------------------------------------------------------------------------------
 * Summary rows and the plot data files written from them (plotdata.c)
 * ---------------------------------------------------------------------------------- */

enum { F_IMPL, F_EXPERIMENT, F_WORKLOAD, F_API, F_SCHEDULE, F_CHUNKSIZE, F_WORKERS,
       F_THREADS, F_TASKS, F_COUNT };

typedef struct {
    const char *key[F_COUNT]; /* cells of the key columns */
    double val[F_COUNT];      /* numeric value of chunksize, workers, threads, tasks */
    double wall_min, wall_median, wall_max, speedup;
    double imbalance; /* imbalance_median; NaN when the summary has no such column */
} srow;

typedef struct {
    const srow *rows;
    size_t n;
    size_t *group; /* n: group number of each row */
    size_t *idx;   /* n: scratch list of row indices */
} sdata;

/* Loads summary.tsv's rows into a new array (*out, freed by the caller). */
int hpool_bench__load_srows(const hpool_render_table *t, srow **out, char *err, size_t errlen);
/* Does field f take more than one value across all rows? */
bool hpool_bench__varies(const sdata *d, int f);
/* Each writes its data file at path (plotdata/chunksize.dat, scaling.dat, schedules.dat). */
/* chunksize.dat and its panels file; model (model.tsv, may be NULL) gives the predicted
 * chunksize marked in each panel. */
int hpool_bench__write_chunksize(sdata *d, const char *path, const char *panels_path,
                                 const hpool_render_table *model, char *err, size_t errlen);
int hpool_bench__write_scaling(sdata *d, const char *path, char *err, size_t errlen);
/* schedules.dat (wall time) and imbalance_path (load imbalance of the same bars). */
int hpool_bench__write_schedules(sdata *d, const char *path, const char *imbalance_path,
                                 size_t *nbars, char *err,
                                 size_t errlen);

#endif
