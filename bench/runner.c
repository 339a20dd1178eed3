/* Runs one combination through the public API the way a user would: map, submit, or
 * submit + as_completed; checks every result against the expected value. */
#include "runner.h"

#include <jansson.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void check_result(const hpool_bench_item *it, const void *res, size_t len,
                         hpool_bench_run_result *out)
{
    uint64_t v = 0;
    if (len == sizeof v)
        memcpy(&v, res, sizeof v);
    /* The unsafe hybrid counter may lose updates: that is what it demonstrates. */
    bool lossy = it->workload == HPOOL_BENCH_WL_HYBRID && it->counter == HPOOL_BENCH_COUNTER_UNSAFE;
    if (len != sizeof v || (!lossy && v != hpool_bench_expected(it)))
        out->wrong++;
}

static int run_map(hpool_executor *ex, const hpool_bench_run_params *rp,
                   const hpool_bench_item *items, hpool_bench_run_result *out)
{
    /* The schedule model's inputs: FSC and auto take the measured overhead and the items'
     * spread; WF's fixed weights are the speeds the config sets (slow workers). */
    double *weights = calloc((size_t)rp->workers, sizeof *weights);
    if (weights == NULL)
        return HPOOL_ENOMEM;
    bool hetero = rp->workload == HPOOL_BENCH_WL_HETEROGENEOUS && rp->slow_factor > 0;
    for (int w = 0; w < rp->workers; w++)
        weights[w] = hetero && w < rp->slow_workers ? 1.0 / rp->slow_factor : 1.0;
    hpool_map_options mo = {.schedule = rp->has_auto_pick ? rp->auto_pick : rp->schedule,
                            .chunksize = rp->chunksize,
                            .overhead_s = rp->overhead_s, .task_sd_s = rp->item_sd_s,
                            .weights = weights, .n_weights = (size_t)rp->workers};
    hpool_map_iter *m;
    int rc = hpool_map(ex, HPOOL_BENCH_TASK, items, sizeof *items, rp->tasks, &mo, &m);
    free(weights); /* copied by hpool_map */
    if (rc != 0)
        return rc;
    const void *res;
    size_t len;
    uint64_t idx, next = 0;
    int k;
    while ((k = hpool_map_next(m, &res, &len, &idx)) != 0) {
        if (k < 0 && k != HPOOL_ETASK) {
            hpool_map_close(m);
            return k;
        }
        /* An ordered map (CPython's) hands results back in input order: the k-th result
         * is item k, whatever order the workers finished in. Out of order is wrong. */
        if (idx != next++ || idx >= rp->tasks) {
            out->wrong++;
            continue;
        }
        if (k == HPOOL_ETASK) {
            out->failed++;
            continue;
        }
        check_result(&items[idx], res, len, out);
    }
    out->schedule_used = hpool_map_schedule_used(m);
    return hpool_map_close(m);
}

/* A future's item: futures are submitted in item order, so its sequence number. */
static uint64_t submit_index(hpool_future *f, uint64_t fallback)
{
    hpool_error_info info;
    return hpool_future_error(f, 0, &info) == 0 ? info.item : fallback;
}

static int run_futures(hpool_executor *ex, const hpool_bench_run_params *rp,
                       const hpool_bench_item *items, hpool_bench_run_result *out)
{
    hpool_future **fs = calloc(rp->tasks ? rp->tasks : 1, sizeof *fs);
    if (fs == NULL)
        return HPOOL_ENOMEM;
    int rc = 0;
    uint64_t n = 0;
    for (; n < rp->tasks && rc == 0; n++)
        rc = hpool_submit(ex, HPOOL_BENCH_TASK, &items[n], sizeof items[n], &fs[n]);
    if (rc != 0)
        n--;
    hpool_as_completed *ac = NULL;
    if (rc == 0 && rp->api == HPOOL_BENCH_API_AS_COMPLETED)
        rc = hpool_as_completed_create(fs, n, HPOOL_FOREVER, &ac);
    for (uint64_t i = 0; i < n && rc == 0; i++) {
        hpool_future *f = fs[i];
        if (ac && hpool_as_completed_next(ac, &f) != 1) {
            rc = HPOOL_ESTATE;
            break;
        }
        const void *res;
        size_t len;
        int k = hpool_future_result(f, HPOOL_FOREVER, &res, &len);
        if (k == HPOOL_ETASK)
            out->failed++;
        else if (k != 0)
            rc = k;
        else
            check_result(&items[submit_index(f, i)], res, len, out);
    }
    hpool_as_completed_free(ac);
    for (uint64_t i = 0; i < n; i++)
        hpool_future_release(fs[i]);
    free(fs);
    out->schedule_used = HPOOL_SCHED_FIXED;
    return rc;
}

/* The executor's placement table as JSON (hpool_executor_placement). */
static json_t *placement_json(hpool_executor *ex, const hpool_bench_run_params *rp)
{
    const hpool_placement *rows;
    size_t n;
    unsigned flags = 0;
    const char *warnings = "";
    if (hpool_executor_placement(ex, &rows, &n) != 0)
        return NULL;
    hpool_executor_placement_warnings(ex, &flags, &warnings);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            arr, json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:s, s:i}", "host", rows[i].host,
                           "rank", rows[i].rank, "thread", rows[i].thread, "cpu", rows[i].cpu,
                           "core", rows[i].core, "numa", rows[i].numa, "cpuset",
                           rows[i].cpuset, "flags", (int)rows[i].flags));
    /* As long as the table is: one row per thread of every rank. */
    size_t need = hpool_placement_format(rows, n, NULL, 0) + 1;
    char *table = malloc(need);
    if (table == NULL) {
        json_decref(arr);
        return NULL;
    }
    hpool_placement_format(rows, n, table, need);
    json_t *o = json_pack("{s:i, s:i, s:s, s:s, s:o}", "workers", rp->workers, "threads",
                          rp->threads, "warnings", warnings, "table", table, "rows", arr);
    free(table);
    return o;
}

int hpool_bench_run_once(const hpool_bench_run_params *rp, const hpool_bench_item *items,
                         const char *record_dir, int run_id, hpool_bench_run_result *out,
                         json_t **placement, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    hpool_executor_options o = {
        .max_workers = rp->workers,
        .prefetch = rp->prefetch,
        .threads_per_worker = rp->threads,
        .record_level = record_dir ? rp->records : HPOOL_RECORD_NONE,
        .record_dir = rp->records != HPOOL_RECORD_NONE ? record_dir : NULL,
        .record_run = run_id,
        .trace_max_events = rp->trace_max_events,
    };
    hpool_executor *ex;
    int rc = hpool_executor_create(&ex, &o);
    if (rc != 0) {
        snprintf(err, errlen, "executor: %s", hpool_last_error());
        return rc;
    }
    if (placement)
        *placement = placement_json(ex, rp);
    /* Start-up (START, acks, clock sync) is reported on its own (startup_s), never timed
     * as part of the run. */
    rc = hpool_executor_wait_ready(ex, HPOOL_FOREVER);
    if (rc != 0) {
        snprintf(err, errlen, "executor start: %s", hpool_last_error());
        hpool_executor_destroy(ex);
        return rc;
    }
    double t0 = now_s();
    if (rp->api == HPOOL_BENCH_API_MAP)
        rc = run_map(ex, rp, items, out);
    else
        rc = run_futures(ex, rp, items, out);
    out->wall_s = now_s() - t0;
    if (rc != 0)
        snprintf(err, errlen, "run: %s: %s", hpool_errname(rc), hpool_last_error());
    int src = hpool_shutdown(ex, true, rc != 0);
    hpool_executor_stats st;
    if (src == 0 && hpool_executor_get_stats(ex, &st) == 0) {
        out->manager_cpu_s = st.manager_cpu_s;
        out->startup_s = st.startup_s;
        out->final_sync_s = st.final_sync_s;
        out->bytes_moved = st.bytes_sent + st.bytes_received;
        out->chunks = st.chunks;
        double max = 0, sum = 0;
        hpool_worker_stats *ws = calloc((size_t)(st.workers > 0 ? st.workers : 1), sizeof *ws);
        size_t nw = 0;
        if (ws && hpool_executor_worker_stats(ex, ws, (size_t)st.workers, &nw) == 0) {
            for (size_t i = 0; i < nw && i < (size_t)st.workers; i++) {
                sum += ws[i].busy_s;
                max = fmax(max, ws[i].busy_s);
            }
        }
        free(ws);
        out->imbalance = sum > 0 ? max / (sum / st.workers) : 1.0;
    }
    hpool_executor_destroy(ex);
    return rc;
}
