/* report.md's "Where the time went": per worker busy / waiting / overhead / done-early
 * time and the longest gaps, from a results directory's chunks.tsv (time_breakdown.c). */
#ifndef HPOOL_BENCH_TIME_BREAKDOWN_H
#define HPOOL_BENCH_TIME_BREAKDOWN_H

#include <stdio.h>

/* Writes the section to f: nothing when there is no chunks.tsv, the reason when it does
 * not parse. \return 0. */
int hpool_bench_write_time_breakdown(FILE *f, const char *results_dir);

#endif
