/* The report's schedule sections (report.md): the model's predicted chunksize beside the
 * sweep's best, and the simulated schedule ranking beside the measured one, with what
 * auto picked. Reads runs.tsv, chunks.tsv and model.tsv of a results directory. */
#ifndef HPOOL_BENCH_REPORT_SCHEDULES_H
#define HPOOL_BENCH_REPORT_SCHEDULES_H

#include <stddef.h>
#include <stdio.h>

/* Writes the sections to f (nothing when the data for them is absent). \return 0, or -1
 * with a message (malformed file, memory). */
int hpool_bench_report_schedules(FILE *f, const char *dir, char *err, size_t errlen);

#endif
