/* How busy the machine was during a run (docs/FORMATS.md, runs.tsv `load1`,
 * `other_cpu_s`, `machine_busy`; meta.json `machine_load`), from /proc on rank 0's host:
 * a run's times are only comparable with others taken on an equally quiet machine. */
#ifndef HPOOL_BENCH_MACHINE_LOAD_H
#define HPOOL_BENCH_MACHINE_LOAD_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "table.h"

typedef struct {
    double t;        /* CLOCK_MONOTONIC, s */
    double busy_s;   /* CPU time of the whole host (/proc/stat, every CPU), s */
    double job_s;    /* CPU time of this job's processes on the host, s */
    bool ok;         /* /proc was readable */
} hpool_bench_load_mark;

typedef struct {
    double load1;        /* 1-minute load average at the end of the run */
    double other_cpu_s;  /* CPU time of processes outside this job during the run */
    double other_share;  /* other_cpu_s / (wall x cores online) */
    bool busy;           /* other processes took more than HPOOL_BENCH_BUSY_SHARE */
    bool known;          /* false when /proc could not be read: all fields 0 */
} hpool_bench_load;

/* Other processes using more than a tenth of the machine make a run's time suspect. */
#define HPOOL_BENCH_BUSY_SHARE 0.10

void hpool_bench_load_mark_now(hpool_bench_load_mark *m);
/* The load between `start` (taken before the run) and now. */
void hpool_bench_load_since(const hpool_bench_load_mark *start, hpool_bench_load *out);

/* Adds `runs` (an array of {run, load1, other_cpu_s, other_share, busy}) to
 * dir/meta.json as "machine_load" (rewritten atomically). \return 0 or -1. */
int hpool_bench_load_to_meta(const char *dir, json_t *runs);
json_t *hpool_bench_load_json(int run, const hpool_bench_load *l);

/* report.md's line on the machine load: the runs taken on a busy machine, or that all
 * were quiet; nothing for results without the columns. */
void hpool_bench_write_load_note(FILE *f, const hpool_render_table *runs);

#endif
