/* verdict: whether a run's "best" is resolved against what comes next, for the report
 * (report.c) and the chunksize plot's marker (plotdata/best.dat). Statistics: stats.h. */
#ifndef HPOOL_BENCH_VERDICT_H
#define HPOOL_BENCH_VERDICT_H

#include <stddef.h>

#include "combos.h"
#include "stats.h"

typedef struct {
    long best, runner_up; /* indices into the combos; -1 when absent */
    hpool_stats_cmp cmp;  /* best (A) against runner_up (B): ratio >= 1; valid if both */
} hpool_bench_verdict;

/* Fastest and second fastest combination among impl (NULL: any) and workload (NULL:
 * any). \return 0, or -1 out of memory. */
int hpool_bench_verdict_best(const hpool_bench_combos *c, const char *impl,
                             const char *workload, hpool_bench_verdict *v);

/* Writes dir/plotdata/best.dat for plots/chunksize.gp from dir/runs.tsv: a header line,
 * then one row
 *   chunksize  wall_median  resolved  "label"
 * for the overall best (resolved 1 when its lead over the runner-up is resolved, 0 when
 * not, -1 when there is no runner-up). No runs.tsv or no rows: no file.
 * \return 0, or -1 with a message in err. */
int hpool_bench_write_best_marker(const char *dir, char *err, size_t errlen);

#endif
