/* One run of hpool-bench: one parameter combination, one repetition, one executor. */
#ifndef HPOOL_BENCH_RUNNER_H
#define HPOOL_BENCH_RUNNER_H

#include "config.h"
#include "workloads.h"

typedef struct {
    double wall_s;
    double manager_cpu_s;
    double startup_s;      /* executor create -> workers started, clocks synced (not in wall_s) */
    double final_sync_s;   /* the clock sync at the end (not in wall_s) */
    double imbalance;      /* max / mean worker busy time */
    uint64_t bytes_moved;
    uint64_t chunks;
    hpool_schedule_kind schedule_used;
    uint64_t wrong;        /* results that differ from the expected value */
    uint64_t failed;       /* items that returned an error */
} hpool_bench_run_result;

/* Runs `items` with the run's API, schedule, workers and threads. record_dir (or NULL)
 * receives chunks.tsv etc.; run_id goes in their `run` column. \return 0 or an HPOOL_E*
 * code with a message in err. */
struct json_t;
/* placement (or NULL): receives the executor's placement table as a JSON object
 * {workers, threads, warnings, rows: [...]}, a new reference. */
int hpool_bench_run_once(const hpool_bench_run_params *rp, const hpool_bench_item *items,
                         const char *record_dir, int run_id, hpool_bench_run_result *out,
                         struct json_t **placement, char *err, size_t errlen);

#endif
