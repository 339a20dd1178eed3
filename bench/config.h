/* hpool-bench experiment configs: one INI file describes one experiment.
 *
 * Section [experiment] holds the sweep; its list-valued keys (workload, api, tasks,
 * schedule, chunksize, workers, threads) expand to their cross product, one run per
 * combination (times `repeat`, after `warmup` unrecorded runs). Section [hybrid] tunes
 * the hybrid workload and is allowed only when `workload` lists hybrid. The schema, with
 * defaults and limits, is the key table in config_schema.c; configs/default.ini is a tour.
 *
 * Every error comes back as one line of text, never printed here:
 *   FILE:LINE: [section] key = 'value': what is wrong (allowed: ...)
 * or "FILE: ..." for problems of the whole file (cannot open, required key missing). */
#ifndef HPOOL_BENCH_CONFIG_H
#define HPOOL_BENCH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hpool.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HPOOL_BENCH_LIST_MAX 64  /* elements per list-valued key */
#define HPOOL_BENCH_NAME_MAX 100 /* bytes of `name` (it becomes results/NAME) */
#define HPOOL_BENCH_FILE_MAX (1024 * 1024) /* larger files are refused, not parsed */

typedef enum {
    HPOOL_BENCH_WL_EMPTY = 0,
    HPOOL_BENCH_WL_CPU_SUM,
    HPOOL_BENCH_WL_IO_SLEEP,
    HPOOL_BENCH_WL_HYBRID,
    HPOOL_BENCH_WL_INCREASING,
    HPOOL_BENCH_WL_DECREASING,
    HPOOL_BENCH_WL_RANDOM,
    HPOOL_BENCH_WL_BIMODAL,
    HPOOL_BENCH_WL_MANDELBROT,
    HPOOL_BENCH_WL_HETEROGENEOUS, /* cpu_sum on workers of unequal speed (slow_workers) */
    HPOOL_BENCH_WL_COUNT
} hpool_bench_workload;

typedef enum {
    HPOOL_BENCH_API_MAP = 0,
    HPOOL_BENCH_API_SUBMIT,
    HPOOL_BENCH_API_AS_COMPLETED,
    HPOOL_BENCH_API_COUNT
} hpool_bench_api;

/* How hybrid tasks sum their inner results: the race the unsafe variant shows. */
typedef enum {
    HPOOL_BENCH_COUNTER_ATOMIC = 0,
    HPOOL_BENCH_COUNTER_CRITICAL,
    HPOOL_BENCH_COUNTER_UNSAFE,
    HPOOL_BENCH_COUNTER_COUNT
} hpool_bench_counter;

/* Other implementations run on the same parameters (bench/peers). */
typedef enum {
    HPOOL_BENCH_PEER_PYTHON_PPE = 0,
    HPOOL_BENCH_PEER_MPI4PY, /* mpi4py.futures.MPIPoolExecutor (bench/peers/mpi4py_peer.py) */
    HPOOL_BENCH_PEER_COUNT
} hpool_bench_peer;

/* Keys, for hpool_bench_config_key_line(). Order matches the table in config_schema.c. */
typedef enum {
    HPOOL_BENCH_KEY_NAME = 0,
    HPOOL_BENCH_KEY_DESCRIPTION,
    HPOOL_BENCH_KEY_WORKLOAD,
    HPOOL_BENCH_KEY_API,
    HPOOL_BENCH_KEY_TASKS,
    HPOOL_BENCH_KEY_COST_MS,
    HPOOL_BENCH_KEY_ITERATIONS,
    HPOOL_BENCH_KEY_SCHEDULE,
    HPOOL_BENCH_KEY_CHUNKSIZE,
    HPOOL_BENCH_KEY_WORKERS,
    HPOOL_BENCH_KEY_THREADS,
    HPOOL_BENCH_KEY_PREFETCH,
    HPOOL_BENCH_KEY_REPEAT,
    HPOOL_BENCH_KEY_WARMUP,
    HPOOL_BENCH_KEY_SEED,
    HPOOL_BENCH_KEY_RECORDS,
    HPOOL_BENCH_KEY_PEERS,
    HPOOL_BENCH_KEY_SERIAL_BASELINE,
    HPOOL_BENCH_KEY_SLOW_WORKERS,
    HPOOL_BENCH_KEY_SLOW_FACTOR,
    HPOOL_BENCH_KEY_SCHEDULE_MODEL,
    HPOOL_BENCH_KEY_INNER_ITEMS,
    HPOOL_BENCH_KEY_INNER_MS,
    HPOOL_BENCH_KEY_COUNTER,
    HPOOL_BENCH_KEY_OTF2,
    HPOOL_BENCH_KEY_TRACE_MAX_EVENTS,
    HPOOL_BENCH_KEY_TRACE_GZIP,
    HPOOL_BENCH_KEY_COUNT
} hpool_bench_key;

/* A loaded experiment. Lists are never empty after a successful load (defaults fill the
 * optional ones); n_* give their lengths. */
typedef struct hpool_bench_config {
    char *path;        /* the path given to load (owned) */
    char name[HPOOL_BENCH_NAME_MAX + 1];
    char *description; /* owned; "" when not given */

    hpool_bench_workload workload[HPOOL_BENCH_LIST_MAX];
    size_t n_workload;
    hpool_bench_api api[HPOOL_BENCH_LIST_MAX];
    size_t n_api;
    uint64_t tasks[HPOOL_BENCH_LIST_MAX];
    size_t n_tasks;
    hpool_schedule_kind schedule[HPOOL_BENCH_LIST_MAX];
    size_t n_schedule;
    uint64_t chunksize[HPOOL_BENCH_LIST_MAX];
    size_t n_chunksize;
    int workers[HPOOL_BENCH_LIST_MAX];
    size_t n_workers;
    int threads[HPOOL_BENCH_LIST_MAX];
    size_t n_threads;

    double cost_ms;      /* mean task cost in calibrated ms; 0 when iterations is used */
    uint64_t iterations; /* fixed loop count per task; 0 when cost_ms is used */
    int prefetch;        /* call items in flight per worker; 0 (default): adaptive */
    int repeat;          /* recorded repetitions per combination (default 1) */
    int warmup;          /* unrecorded runs before them (default 0) */
    uint64_t seed;       /* for random / bimodal costs (default 1) */
    hpool_record_level records; /* default HPOOL_RECORD_CHUNKS */
    hpool_bench_peer peers[HPOOL_BENCH_PEER_COUNT];
    size_t n_peers;      /* 0: no peers */
    bool serial_baseline; /* measure the serial time on rank 0 (default true) */
    bool otf2;           /* an OTF2 trace of every recorded run (default false) */
    int64_t trace_max_events; /* events of the merged trace.json; 0: all (default 200000) */
    bool trace_gzip;     /* trace.json.gz instead of trace.json (default false) */
    int slow_workers;    /* heterogeneous: worker ranks 1..slow_workers (default 1) run */
    double slow_factor;  /* slow_factor (default 2) times slower; WF's weights follow */
    char *schedule_model; /* owned; NULL: auto simulates on its own probe chunks; else a
                           * previous run's chunks.tsv that auto's simulation replays */

    bool has_hybrid_section;
    int inner_items;     /* [hybrid] inner I/O items per task (default 5) */
    double inner_ms;     /* [hybrid] latency per inner item (default 20) */
    hpool_bench_counter counter; /* [hybrid] default atomic */

    int key_line[HPOOL_BENCH_KEY_COUNT]; /* line of each key; 0 when defaulted */
    int hybrid_line;     /* line of the [hybrid] header; 0 when absent */
} hpool_bench_config;

/* One combination of the sweep, with the scalar settings copied alongside. */
typedef struct {
    size_t index; /* k, 0 .. run_count-1 */
    hpool_bench_workload workload;
    hpool_bench_api api;
    uint64_t tasks;
    hpool_schedule_kind schedule;
    uint64_t chunksize;
    int workers;
    int threads;

    double cost_ms;
    uint64_t iterations;
    int prefetch, repeat, warmup;
    uint64_t seed;
    hpool_record_level records;
    int64_t trace_max_events; /* this run's trace.json (hpool_executor_options) */
    bool serial_baseline;
    bool peer[HPOOL_BENCH_PEER_COUNT]; /* peer[p]: also run peer p on these parameters */
    int slow_workers;
    double slow_factor;
    /* auto with schedule_model: the kind the simulation of that chunks.tsv picked, set by
     * the experiment and run in auto's place (has_auto_pick). */
    bool has_auto_pick;
    hpool_schedule_kind auto_pick;
    /* Filled by the experiment, not the config: the schedule model's inputs (FSC, auto):
     * the measured overhead of one call item and the spread of the items' times. */
    double overhead_s, item_sd_s;
    int inner_items;
    double inner_ms;
    hpool_bench_counter counter;
} hpool_bench_run_params;

/* Reads and checks `path`. \return 0, or -1 with the message in err (cfg is then left
 * empty; freeing it is still safe). Safe to call on an uninitialised cfg. */
int hpool_bench_config_load(const char *path, hpool_bench_config *cfg, char *err,
                            size_t errlen);

/* Every workers value must be <= world_size-1 (rank 0 is the manager). \return 0, or -1
 * with "FILE:LINE: [experiment] workers = '...': ..." in err. */
int hpool_bench_config_check_world(const hpool_bench_config *cfg, int world_size,
                                   char *err, size_t errlen);

/* Combinations of the sweep (repeat and warmup not counted). */
size_t hpool_bench_config_run_count(const hpool_bench_config *cfg);

/* The k-th combination, k < run_count. Row-major over workload, api, tasks, schedule,
 * chunksize, workers, threads: threads varies fastest, workload slowest. */
void hpool_bench_config_run_params(const hpool_bench_config *cfg, size_t k,
                                   hpool_bench_run_params *rp);

void hpool_bench_config_free(hpool_bench_config *cfg);

/* Line of a key in the file, 0 if it was not given (default). */
int hpool_bench_config_key_line(const hpool_bench_config *cfg, hpool_bench_key key);

/* Names as written in configs and result files ("?" when out of range). */
const char *hpool_bench_workload_name(hpool_bench_workload w);
const char *hpool_bench_api_name(hpool_bench_api a);
const char *hpool_bench_schedule_name(hpool_schedule_kind s);
const char *hpool_bench_records_name(hpool_record_level r);
const char *hpool_bench_counter_name(hpool_bench_counter c);
const char *hpool_bench_peer_name(hpool_bench_peer p);
const char *hpool_bench_key_name(hpool_bench_key key);

/* config_json.c: the config as given plus defaults, for meta.json; and one run's
 * parameters. New references (caller owns them), NULL when out of memory. Declared with
 * the struct tag so this header does not need jansson.h. */
struct json_t;
struct json_t *hpool_bench_config_to_json(const hpool_bench_config *cfg);
struct json_t *hpool_bench_run_params_to_json(const hpool_bench_run_params *rp);

#ifdef __cplusplus
}
#endif
#endif /* HPOOL_BENCH_CONFIG_H */
