/* Schedules replayed on recorded chunks: from a chunks.tsv, an estimate of every item's
 * time and every worker's speed (the "profile"), then the library's discrete-event
 * simulation (src/schedule/simulate.c) of every schedule on it. Used by the report's
 * ranking and by `hpool-bench simulate chunks.tsv` (no MPI). */
#ifndef HPOOL_BENCH_SIMULATE_H
#define HPOOL_BENCH_SIMULATE_H

#include <stddef.h>
#include <stdint.h>

#include "hpool.h"
#include "table.h"

typedef struct {
    double *item_s;    /* n item times at speed 1 */
    uint64_t n;
    double *speed;     /* p time factors, the fastest worker 1 */
    int p;
    double overhead_s; /* median transit of a chunk: (t_recv - t_dispatch) + (t_result - t_end) */
    size_t chunks;     /* chunk rows used */
} hpool_bench_profile;

/* Builds the profile from the rows of `chunks` (a loaded chunks.tsv) whose run is in
 * runs[0..nruns) (runs NULL: all rows). An item's time is the mean over the chunks that
 * ran it of chunk time / items, divided by the speed of the chunk's worker; a worker's
 * speed is its chunks' time over their items' times (two rounds). \return 0, or -1 with
 * a message (no rows, missing columns, bad numbers, memory). */
int hpool_bench_profile_build(const hpool_render_table *chunks, const int *runs, size_t nruns,
                              hpool_bench_profile *out, char *err, size_t errlen);
void hpool_bench_profile_free(hpool_bench_profile *pr);

typedef struct {
    hpool_schedule_kind kind;
    uint64_t chunksize; /* the best of those tried */
    double finish_s, imbalance;
    uint64_t chunks;
} hpool_bench_sim_row;

/* Every schedule but auto at each chunksize in cs[0..ncs) (its best kept), with overhead
 * h per chunk, sorted by predicted finish time. rows has HPOOL_SCHED_COUNT entries.
 * \return the number of rows, or 0 when the simulation failed (memory). */
size_t hpool_bench_simulate_all(const hpool_bench_profile *pr, double overhead_s,
                                const uint64_t *cs, size_t ncs, hpool_bench_sim_row *rows);

/* Loads a chunks.tsv by path and builds its profile (all runs). \return 0, or -1 with
 * a message naming the file ("absent or empty", or the table's own message). */
int hpool_bench_profile_load(const char *path, hpool_bench_profile *out, char *err,
                             size_t errlen);

/* The schedule a simulation of pr, stretched to n items on p workers (item i replays
 * profile item i*pr.n/n, workers beyond the profile's at speed 1), predicts fastest at
 * this chunksize and overhead. \return 0, or -1 (memory). */
int hpool_bench_simulate_pick(const hpool_bench_profile *pr, uint64_t n, int p,
                              double overhead_s, uint64_t chunksize, hpool_schedule_kind *out);

/* `hpool-bench simulate [options] chunks.tsv`: prints the ranking. \return exit status
 * (0; 1 out of memory; 2 bad command line, or a file that is absent or malformed, the
 * message naming file, line and value). */
int hpool_bench_cmd_simulate(int argc, char **argv, const char *plots_dir);

#endif
