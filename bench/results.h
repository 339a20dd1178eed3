/* Result rows of hpool-bench and the files built from them (docs/FORMATS.md): runs.tsv,
 * summary.tsv, merged chunks.tsv / spans.tsv / trace.json. */
#ifndef HPOOL_BENCH_RESULTS_H
#define HPOOL_BENCH_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    char impl[16];
    char experiment[104];
    int run;
    char workload[16], api[16], schedule[16], schedule_used[16];
    uint64_t chunksize;
    int workers, threads;
    uint64_t tasks;
    int rep;
    double wall_s, tasks_per_s, serial_s, speedup, efficiency, imbalance, manager_cpu_s;
    uint64_t bytes_moved, chunks;
    double load1, other_cpu_s; /* machine_load.h; 0 for peers */
    int machine_busy;
    double startup_s, final_sync_s; /* hpool only (0 for peers); never part of wall_s */
} hpool_bench_row;

typedef struct {
    hpool_bench_row *rows;
    size_t n, cap;
} hpool_bench_rows;

int hpool_bench_rows_add(hpool_bench_rows *r, const hpool_bench_row *row);
void hpool_bench_rows_free(hpool_bench_rows *r);
/* Append rows of a runs.tsv written by a peer (bench/peers). \return 0 or -1 + err. */
int hpool_bench_rows_load(hpool_bench_rows *r, const char *dir, const char *file, char *err,
                          size_t errlen);

extern const char HPOOL_BENCH_RUNS_HEADER[];
void hpool_bench_row_write(FILE *f, const hpool_bench_row *row);

/* runs.tsv and summary.tsv in dir (temporary name, then rename). */
int hpool_bench_write_runs(const char *dir, const hpool_bench_rows *r);
int hpool_bench_write_summary(const char *dir, const hpool_bench_rows *r);

/* Concatenate dir/runs/<id>/{chunks,spans}.tsv into dir/ (trace_merge.h merges their
 * trace.json). */
int hpool_bench_merge_records(const char *dir, const int *run_ids, size_t n_runs, char *err,
                              size_t errlen);

#endif
