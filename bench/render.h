/* render: turns a results directory into plots (gnuplot) and the data files they read.
 *
 * Plots and the files they come from (all under results_dir):
 *   timeline.png/.svg          chunks.tsv (+ spans.tsv) of the first run
 *   timeline_runN.png/.svg     up to 3 more runs: the first repetition (rep 0 in
 *                              runs.tsv) of the next configurations, else the next runs
 *   chunksize.png/.svg         summary.tsv, when it has more than one chunksize
 *   scaling.png/.svg           summary.tsv, when it has more than one workers value
 *   schedules.png/.svg         summary.tsv, when it has more than one schedule
 * The summary plots read pre-grouped files written here to results_dir/plotdata/
 * (chunksize.dat, scaling.dat, schedules.dat); their layout is documented at the top of
 * the matching plots/NAME.gp. Every file is written under a temporary name and renamed.
 */
#ifndef HPOOL_BENCH_RENDER_H
#define HPOOL_BENCH_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include "table.h" /* hpool_render_table_* */

/* Renders every plot that has data. plots_dir holds the *.gp scripts; gnuplot is run
 * from PATH. Unless quiet, prints one line per plot written (stdout) and gnuplot's
 * warnings (stderr). A results_dir with nothing to plot is not an error.
 * \return 0, or -1 with a message in err (gnuplot missing, malformed TSV, the name of a
 * failing script and gnuplot's error line, I/O errors). */
int hpool_bench_render(const char *results_dir, const char *plots_dir, bool quiet, char *err,
                       size_t errlen);

/* Runs one plots_dir/script with datadir=dir, writing dir/name.png and .svg (used by
 * `hpool-bench compare` for plots/compare.gp). \return 0, or -1 with a message in err. */
int hpool_bench_render_script(const char *dir, const char *plots_dir, const char *script,
                              const char *name, bool quiet, char *err, size_t errlen);

#endif
