/* One experiment: calibrate, sweep every combination (warm-up runs unrecorded), measure
 * the serial baseline, run the peers, then write the result files and render.
 *
 * Everything is built in OUT/NAME/.incomplete-ID and renamed to OUT/NAME/ID only when
 * complete, then OUT/NAME/latest is pointed at it (history.h): a failed or aborted sweep
 * never becomes `latest`, and earlier runs are kept. */
#include "experiment.h"

#include <errno.h>
#include <hwloc.h>
#include <jansson.h>
#include <spawn.h>
#include <sys/wait.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "history.h"
#include "machine_load.h"
#include "meta.h"
#include "otf2_writer.h"
#include "model.h"
#include "peer_mpi4py.h"
#include "render.h"
#include "report.h"
#include "results.h"
#include "runner.h"
#include "trace_merge.h"
#include "simulate.h"
#include "verdict.h"
#include "workloads.h"

extern char **environ;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void hpool_bench_print_plan(const hpool_bench_config *cfg, FILE *out)
{
    size_t n = hpool_bench_config_run_count(cfg);
    fprintf(out, "%s: %zu combinations x (%d warm-up + %d repetitions) = %zu runs\n",
            cfg->name, n, cfg->warmup, cfg->repeat, n * (size_t)(cfg->warmup + cfg->repeat));
    for (size_t k = 0; k < n; k++) {
        hpool_bench_run_params rp;
        hpool_bench_config_run_params(cfg, k, &rp);
        fprintf(out,
                "  [%zu] workload=%s api=%s tasks=%llu schedule=%s chunksize=%llu workers=%d "
                "threads=%d\n",
                k, hpool_bench_workload_name(rp.workload), hpool_bench_api_name(rp.api),
                (unsigned long long)rp.tasks, hpool_bench_schedule_name(rp.schedule),
                (unsigned long long)rp.chunksize, rp.workers, rp.threads);
    }
}

/* The serial time only depends on the items: cache it per (workload, tasks). */
typedef struct {
    hpool_bench_workload workload;
    uint64_t tasks;
    double serial_s;
} serial_entry;

typedef struct {
    const hpool_bench_config *cfg;
    const hpool_bench_options *o;
    char work[4096];
    double iters_per_ms;
    double overhead_s;       /* one call item's round trip, measured at start-up */
    hpool_bench_model model; /* model.tsv rows */
    hpool_bench_profile replay; /* schedule_model's chunks, when given (replay.n > 0) */
    hpool_bench_rows rows;
    int *run_ids;
    size_t n_runs;
    serial_entry serial[64];
    size_t n_serial;
    FILE *stream; /* runs.tsv.partial: rows as they happen */
    json_t *placement; /* one table per (workers, threads), for meta.json */
    json_t *loads;     /* machine load per recorded run, for meta.json */
    double t_start;
    size_t done, total;
} experiment;

static double serial_time(experiment *e, const hpool_bench_run_params *rp,
                          const hpool_bench_item *items)
{
    if (!rp->serial_baseline)
        return 0;
    for (size_t i = 0; i < e->n_serial; i++)
        if (e->serial[i].workload == rp->workload && e->serial[i].tasks == rp->tasks)
            return e->serial[i].serial_s;
    double t0 = now_s();
    for (uint64_t i = 0; i < rp->tasks; i++) {
        volatile uint64_t sink = hpool_bench_run_serial(&items[i]);
        (void)sink;
    }
    double s = now_s() - t0;
    if (e->n_serial < 64)
        e->serial[e->n_serial++] = (serial_entry){rp->workload, rp->tasks, s};
    return s;
}

static void progress(experiment *e, const hpool_bench_run_params *rp)
{
    if (!e->o->progress)
        return;
    double el = now_s() - e->t_start;
    double eta = e->done ? el / (double)e->done * (double)(e->total - e->done) : 0;
    fprintf(stderr, "\r\033[K%s: run %zu of %zu  %s %s sched=%s cs=%llu w=%d t=%d  ETA %.0fs",
            e->cfg->name, e->done + 1, e->total, hpool_bench_workload_name(rp->workload),
            hpool_bench_api_name(rp->api), hpool_bench_schedule_name(rp->schedule),
            (unsigned long long)rp->chunksize, rp->workers, rp->threads, eta);
    fflush(stderr);
}

static void fill_row(hpool_bench_row *w, const experiment *e, const hpool_bench_run_params *rp,
                     const hpool_bench_run_result *res, int run, int rep, double serial)
{
    memset(w, 0, sizeof *w);
    snprintf(w->impl, sizeof w->impl, "hpool");
    snprintf(w->experiment, sizeof w->experiment, "%s", e->cfg->name);
    w->run = run;
    snprintf(w->workload, sizeof w->workload, "%s", hpool_bench_workload_name(rp->workload));
    snprintf(w->api, sizeof w->api, "%s", hpool_bench_api_name(rp->api));
    snprintf(w->schedule, sizeof w->schedule, "%s", hpool_bench_schedule_name(rp->schedule));
    snprintf(w->schedule_used, sizeof w->schedule_used, "%s",
             rp->api == HPOOL_BENCH_API_MAP ? hpool_bench_schedule_name(res->schedule_used)
                                            : "fixed");
    w->chunksize = rp->chunksize;
    w->workers = rp->workers;
    w->threads = rp->threads;
    w->tasks = rp->tasks;
    w->rep = rep;
    w->wall_s = res->wall_s;
    w->tasks_per_s = res->wall_s > 0 ? (double)rp->tasks / res->wall_s : 0;
    w->serial_s = serial;
    w->speedup = serial > 0 && res->wall_s > 0 ? serial / res->wall_s : 0;
    w->efficiency = w->speedup / (double)(rp->workers * rp->threads);
    w->imbalance = res->imbalance;
    w->manager_cpu_s = res->manager_cpu_s;
    w->startup_s = res->startup_s;
    w->final_sync_s = res->final_sync_s;
    w->bytes_moved = res->bytes_moved;
    w->chunks = res->chunks;
}

/* Whether meta.json already has the placement of this (workers, threads) shape. */
static bool placement_known(const experiment *e, const hpool_bench_run_params *rp)
{
    size_t i;
    json_t *t;
    json_array_foreach(e->placement, i, t)
    {
        if (json_integer_value(json_object_get(t, "workers")) == rp->workers &&
            json_integer_value(json_object_get(t, "threads")) == rp->threads)
            return true;
    }
    return false;
}

static bool want_otf2(const experiment *e)
{
    return (e->cfg->otf2 || e->o->otf2) && hpool_bench_otf2_available();
}

/* An OTF2 trace of a recorded run, from its TSVs, with the hosts of its shape. */
static int write_otf2(experiment *e, const hpool_bench_run_params *rp, const char *rdir,
                      int run, int rep)
{
    const json_t *rows = NULL;
    size_t i;
    json_t *t;
    json_array_foreach(e->placement, i, t)
    {
        if (json_integer_value(json_object_get(t, "workers")) == rp->workers &&
            json_integer_value(json_object_get(t, "threads")) == rp->threads)
            rows = json_object_get(t, "rows");
    }
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    json_t *props = hpool_bench_run_params_to_json(rp);
    json_object_set_new(props, "experiment", json_string(e->cfg->name));
    json_object_set_new(props, "run", json_integer(run));
    json_object_set_new(props, "rep", json_integer(rep));
    json_object_set_new(props, "hpool_version", json_string(HPOOL_VERSION));
    char err[1024];
    int rc = hpool_bench_otf2_write(rdir, host, rows, props, err, sizeof err);
    json_decref(props);
    if (rc != 0)
        fprintf(stderr, "\nhpool-bench: %s\n", err);
    return rc;
}

/* Runs warm-ups and repetitions of combination k. */
static int run_combination(experiment *e, size_t k)
{
    hpool_bench_run_params rp;
    hpool_bench_config_run_params(e->cfg, k, &rp);
    hpool_bench_item *items = malloc((rp.tasks ? rp.tasks : 1) * sizeof *items);
    if (items == NULL) {
        fprintf(stderr, "hpool-bench: out of memory for %llu items\n",
                (unsigned long long)rp.tasks);
        return 1;
    }
    hpool_bench_make_items(&rp, e->iters_per_ms, items, rp.tasks);
    double item_mean_s;
    rp.overhead_s = e->overhead_s;
    if (rp.schedule == HPOOL_SCHED_AUTO && e->replay.n > 0 &&
        hpool_bench_simulate_pick(&e->replay, rp.tasks, rp.workers,
                                  e->overhead_s > 0 ? e->overhead_s : e->replay.overhead_s,
                                  rp.chunksize, &rp.auto_pick) == 0)
        rp.has_auto_pick = true;
    hpool_bench_item_stats(items, rp.tasks, e->iters_per_ms, &item_mean_s, &rp.item_sd_s);
    if (hpool_bench_model_add(&e->model, &rp, item_mean_s) != 0) {
        free(items);
        return 1;
    }
    double serial = serial_time(e, &rp, items);
    int rc = 0;
    for (int rep = -rp.warmup; rep < rp.repeat && rc == 0; rep++) {
        progress(e, &rp);
        bool recorded = rep >= 0;
        int run = (int)e->n_runs;
        char rdir[4200];
        snprintf(rdir, sizeof rdir, "%s/runs/%d", e->work, run);
        hpool_bench_run_result res;
        char err[512];
        json_t *place = NULL;
        bool want_place = recorded && rep == 0 && !placement_known(e, &rp);
        hpool_bench_load_mark mark;
        hpool_bench_load_mark_now(&mark);
        rc = hpool_bench_run_once(&rp, items, recorded ? rdir : NULL, run, &res,
                                  want_place ? &place : NULL, err, sizeof err);
        hpool_bench_load load;
        hpool_bench_load_since(&mark, &load);
        if (place) {
            if (e->o->report_placement)
                printf("placement: %d workers x %d threads\n%s%s", rp.workers, rp.threads,
                       json_string_value(json_object_get(place, "table")),
                       json_string_value(json_object_get(place, "warnings")));
            json_array_append_new(e->placement, place);
        }
        if (rc == 0 && (res.wrong || res.failed)) {
            snprintf(err, sizeof err, "%llu wrong and %llu failed results",
                     (unsigned long long)res.wrong, (unsigned long long)res.failed);
            rc = 1;
        }
        if (rc != 0) {
            fprintf(stderr, "\nhpool-bench: %s: combination %zu failed: %s\n", e->cfg->name, k,
                    err);
            break;
        }
        e->done++;
        if (!recorded)
            continue;
        if (want_otf2(e) && rp.records != HPOOL_RECORD_NONE &&
            write_otf2(e, &rp, rdir, run, rep) != 0) {
            rc = 1;
            break;
        }
        hpool_bench_row w;
        fill_row(&w, e, &rp, &res, run, rep, serial);
        w.load1 = load.load1;
        w.other_cpu_s = load.other_cpu_s;
        w.machine_busy = load.busy;
        json_array_append_new(e->loads, hpool_bench_load_json(run, &load));
        hpool_bench_rows_add(&e->rows, &w);
        e->run_ids[e->n_runs++] = run;
        if (e->stream) {
            hpool_bench_row_write(e->stream, &w);
            fflush(e->stream);
        }
    }
    free(items);
    return rc ? 1 : 0;
}

static bool peer_wanted(const hpool_bench_run_params *rp)
{
    /* Python's pool has only fixed chunks and no inner team; hybrid and mandelbrot have no
     * Python twin in bench/peers. */
    return rp->peer[HPOOL_BENCH_PEER_PYTHON_PPE] && rp->api != HPOOL_BENCH_API_AS_COMPLETED &&
           rp->schedule == HPOOL_SCHED_FIXED && rp->threads == 1 &&
           rp->workload != HPOOL_BENCH_WL_HYBRID && rp->workload != HPOOL_BENCH_WL_MANDELBROT &&
           rp->workload != HPOOL_BENCH_WL_HETEROGENEOUS;
}

/* Start argv[] with posix_spawnp and wait for it. The child runs on the whole host's
 * CPUs (as allowed to the job), not on rank 0's binding, which a launcher's --bind-to
 * would otherwise pass on to it: the calling thread is rebound around the spawn (a child
 * inherits its parent thread's affinity), then restored. *cpuset gets the list used. */
static int spawn_on_host(char *const argv[], char **cpuset)
{
    *cpuset = NULL;
    hwloc_topology_t topo;
    hwloc_bitmap_t old = hwloc_bitmap_alloc();
    bool have_topo = hwloc_topology_init(&topo) == 0;
    if (have_topo && hwloc_topology_load(topo) != 0) {
        hwloc_topology_destroy(topo);
        have_topo = false;
    }
    bool rebound = false;
    if (have_topo && old && hwloc_get_cpubind(topo, old, HWLOC_CPUBIND_THREAD) == 0) {
        hwloc_const_bitmap_t all = hwloc_topology_get_allowed_cpuset(topo);
        rebound = hwloc_set_cpubind(topo, all, HWLOC_CPUBIND_THREAD) == 0;
        hwloc_bitmap_list_asprintf(cpuset, rebound ? all : old);
    }
    pid_t pid;
    int err = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
    if (rebound)
        hwloc_set_cpubind(topo, old, HWLOC_CPUBIND_THREAD);
    if (have_topo)
        hwloc_topology_destroy(topo);
    hwloc_bitmap_free(old);
    if (err != 0) {
        fprintf(stderr, "hpool-bench: cannot start %s: %s\n", argv[0], strerror(err));
        return -1;
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* Python's ProcessPoolExecutor on the same parameters, rows into peer_runs.tsv. */
static int run_peer(experiment *e, const hpool_bench_run_params *rp, int run_base)
{
    char script[4200], out[4300], tasks[32], cost[32], iters[32], cs[32], workers[16],
        repeat[16], warmup[16], seed[32], base[16];
    snprintf(script, sizeof script, "%s/ppe.py", e->o->peers_dir);
    snprintf(out, sizeof out, "%s/peer_runs.tsv", e->work);
    snprintf(tasks, sizeof tasks, "%llu", (unsigned long long)rp->tasks);
    snprintf(cost, sizeof cost, "%g", rp->cost_ms);
    snprintf(iters, sizeof iters, "%llu", (unsigned long long)rp->iterations);
    snprintf(cs, sizeof cs, "%llu", (unsigned long long)rp->chunksize);
    snprintf(workers, sizeof workers, "%d", rp->workers);
    snprintf(repeat, sizeof repeat, "%d", rp->repeat);
    snprintf(warmup, sizeof warmup, "%d", rp->warmup);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)rp->seed);
    snprintf(base, sizeof base, "%d", run_base);
    char *argv[] = {"python3", script, "--out", out, "--experiment", (char *)e->cfg->name,
                    "--workload", (char *)hpool_bench_workload_name(rp->workload),
                    "--tasks", tasks, "--cost-ms", cost, "--iterations", iters,
                    "--api", (char *)hpool_bench_api_name(rp->api), "--chunksize", cs,
                    "--workers", workers, "--repeat", repeat, "--warmup", warmup,
                    "--seed", seed, "--run-base", base,
                    rp->serial_baseline ? NULL : "--no-serial", NULL};
    char *cpuset = NULL;
    int st = spawn_on_host(argv, &cpuset);
    hpool_bench_meta_set_peer("python-ppe", "posix_spawn", cpuset);
    if (!e->o->quiet)
        printf("peer python-ppe: %d workers on cpuset %s (the host's, not rank 0's binding)\n",
               rp->workers, cpuset ? cpuset : "?");
    free(cpuset);
    if (st != 0)
        fprintf(stderr, "hpool-bench: peer python-ppe failed (status %d): %s %s\n", st,
                argv[0], script);
    return st == 0 ? 0 : 1;
}

static int run_peers(experiment *e)
{
    size_t n = hpool_bench_config_run_count(e->cfg);
    int rc = 0, base = 100000;
    for (size_t k = 0; k < n && rc == 0; k++) {
        hpool_bench_run_params rp;
        hpool_bench_config_run_params(e->cfg, k, &rp);
        if (!peer_wanted(&rp))
            continue;
        rc = run_peer(e, &rp, base);
        base += rp.repeat;
    }
    char err[512];
    if (rc == 0 && hpool_bench_rows_load(&e->rows, e->work, "peer_runs.tsv", err, sizeof err) != 0) {
        fprintf(stderr, "hpool-bench: %s\n", err);
        rc = 1;
    }
    return rc;
}

static int write_outputs(experiment *e)
{
    char err[1024];
    if (hpool_bench_model_write(e->work, &e->model) != 0 ||
        hpool_bench_write_runs(e->work, &e->rows) != 0 ||
        hpool_bench_write_summary(e->work, &e->rows) != 0 ||
        hpool_bench_merge_records(e->work, e->run_ids, e->n_runs, err, sizeof err) != 0 ||
        hpool_bench_merge_traces(e->work, e->run_ids, e->n_runs, e->cfg->trace_gzip,
                                 want_otf2(e), err, sizeof err) != 0) {
        fprintf(stderr, "hpool-bench: %s: cannot write results\n", e->work);
        return 1;
    }
    /* plotdata/best.dat first: the chunksize plot marks whether its best is resolved */
    if (e->o->plot && (hpool_bench_write_best_marker(e->work, err, sizeof err) != 0 ||
                       hpool_bench_render(e->work, e->o->plots_dir, e->o->quiet, err,
                                          sizeof err) != 0)) {
        fprintf(stderr, "hpool-bench: plots: %s\n", err);
        return 1;
    }
    if (hpool_bench_write_report(e->work, err, sizeof err) != 0) {
        fprintf(stderr, "hpool-bench: report: %s\n", err);
        return 1;
    }
    return 0;
}

/* The finished work dir becomes OUT/NAME/ID and OUT/NAME/latest. */
static int publish(experiment *e)
{
    char dst[4096], err[1024];
    if (hpool_bench_history_publish(e->o->out_dir, e->cfg->name, e->o->run_id, e->work,
                                    e->o->replace, dst, sizeof dst, err, sizeof err) != 0) {
        fprintf(stderr, "hpool-bench: %s\n", err);
        return 1;
    }
    if (!e->o->quiet)
        printf("%s: %zu runs, results in %s (also %s/%s/" HPOOL_BENCH_LATEST ")\n",
               e->cfg->name, e->n_runs, dst, e->o->out_dir, e->cfg->name);
    return 0;
}

int hpool_bench_run_experiment(const hpool_bench_config *cfg, const hpool_bench_options *opt)
{
    experiment e;
    memset(&e, 0, sizeof e);
    e.cfg = cfg;
    hpool_bench_options with_id = *opt; /* the run's id reaches meta.json with the options */
    char id[64], err[1024];
    if (hpool_bench_history_start(opt->out_dir, cfg->name, id, sizeof id, e.work,
                                  sizeof e.work, err, sizeof err) != 0) {
        fprintf(stderr, "hpool-bench: %s\n", err);
        return 1;
    }
    with_id.run_id = id;
    const hpool_bench_options *o = &with_id;
    e.o = o;
    size_t combos = hpool_bench_config_run_count(cfg);
    e.total = combos * (size_t)(cfg->warmup + cfg->repeat);
    e.run_ids = calloc(e.total + 1, sizeof *e.run_ids);
    e.iters_per_ms = hpool_bench_calibrate();
    int most_workers = 1;
    for (size_t i = 0; i < cfg->n_workers; i++)
        most_workers = cfg->workers[i] > most_workers ? cfg->workers[i] : most_workers;
    e.overhead_s = hpool_bench_measure_overhead(most_workers);
    char perr[1024];
    if (cfg->schedule_model &&
        hpool_bench_profile_load(cfg->schedule_model, &e.replay, perr, sizeof perr) != 0)
        fprintf(stderr, "hpool-bench: schedule_model: %s (auto simulates its own probes)\n",
                perr);
    e.t_start = now_s();
    char path[4200];
    snprintf(path, sizeof path, "%s/runs.tsv.partial", e.work);
    e.stream = fopen(path, "w");
    if (e.stream)
        fputs(HPOOL_BENCH_RUNS_HEADER, e.stream);
    e.placement = json_array();
    e.loads = json_array();
    if ((cfg->otf2 || o->otf2) && !hpool_bench_otf2_available())
        fprintf(stderr, "hpool-bench: OTF2 is off in this build (libotf2-trace-dev was not "
                        "found when CMake ran): no OTF2 traces\n");
    int rc = hpool_bench_write_meta(e.work, cfg, o, e.iters_per_ms, NULL);
    for (size_t k = 0; k < combos && rc == 0; k++)
        rc = run_combination(&e, k);
    if (o->progress)
        fprintf(stderr, "\r\033[K");
    if (rc == 0 && cfg->n_peers > 0)
        rc = run_peers(&e);
    if (rc == 0 && hpool_bench_peer_mpi4py_wanted(cfg))
        rc = hpool_bench_peer_mpi4py_run(cfg, o->peers_dir, e.work, &e.rows);
    if (e.stream)
        fclose(e.stream);
    if (rc == 0)
        rc = hpool_bench_write_meta(e.work, cfg, o, e.iters_per_ms, e.placement);
    if (rc == 0 && hpool_bench_load_to_meta(e.work, e.loads) != 0)
        fprintf(stderr, "hpool-bench: %s: cannot add the machine load to meta.json\n", e.work);
    if (rc == 0)
        rc = write_outputs(&e);
    if (rc == 0) {
        unlink(path);
        rc = publish(&e);
    } else {
        fprintf(stderr, "hpool-bench: %s: incomplete; partial data kept in %s\n", cfg->name,
                e.work);
    }
    hpool_bench_rows_free(&e.rows);
    hpool_bench_model_free(&e.model);
    hpool_bench_profile_free(&e.replay);
    json_decref(e.placement);
    json_decref(e.loads);
    free(e.run_ids);
    return rc;
}
