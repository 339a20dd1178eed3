/* report: results_dir/report.md, a readable summary of one experiment.
 *
 * Contents: title, description and parameters from meta.json (when present), the state
 * of every result file (rows, complete or cut short), the best configuration (overall,
 * per workload, and hpool against python-ppe when both ran), the summary table, and
 * links to the rendered plots (*.png, with their .svg). Call it after
 * hpool_bench_render() so the plots it links exist; it lists the PNGs it finds.
 */
#ifndef HPOOL_BENCH_REPORT_H
#define HPOOL_BENCH_REPORT_H

#include <stddef.h>

/* Writes results_dir/report.md (temporary file + rename). A missing summary.tsv or
 * meta.json is reported in the file, not an error.
 * \return 0, or -1 with a message in err (not a directory, malformed TSV, write error). */
int hpool_bench_write_report(const char *results_dir, char *err, size_t errlen);

#endif
