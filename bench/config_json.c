/* The experiment config as JSON, for meta.json: every key with its effective value
 * (defaults included), so a result directory says exactly what produced it. */
#include <jansson.h>

#include "config.h"

/* Sets o[key] = v, stealing v; false if v is NULL or the set fails. */
static bool put(json_t *o, const char *key, json_t *v)
{
    return v != NULL && json_object_set_new(o, key, v) == 0;
}

static json_t *string_array(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        if (json_array_append_new(a, json_string(v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *u64_array(const uint64_t *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        if (json_array_append_new(a, json_integer((json_int_t)v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *int_array(const int *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        if (json_array_append_new(a, json_integer(v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* Enum lists as arrays of their names. */
#define NAMES_JSON(fn, field, name_of)                                                      \
    static json_t *fn(const hpool_bench_config *c)                                          \
    {                                                                                       \
        const char *s[HPOOL_BENCH_LIST_MAX];                                                \
        for (size_t i = 0; i < c->n_##field; i++)                                           \
            s[i] = name_of(c->field[i]);                                                    \
        return string_array(s, c->n_##field);                                               \
    }
NAMES_JSON(workloads_json, workload, hpool_bench_workload_name)
NAMES_JSON(apis_json, api, hpool_bench_api_name)
NAMES_JSON(schedules_json, schedule, hpool_bench_schedule_name)
NAMES_JSON(peers_json, peers, hpool_bench_peer_name)
#undef NAMES_JSON

static json_t *run_peers_json(const hpool_bench_run_params *rp)
{
    const char *s[HPOOL_BENCH_PEER_COUNT];
    size_t n = 0;
    for (int p = 0; p < HPOOL_BENCH_PEER_COUNT; p++)
        if (rp->peer[p])
            s[n++] = hpool_bench_peer_name((hpool_bench_peer)p);
    return string_array(s, n);
}

/* cost_ms or iterations, whichever the config uses; the other is null. */
static bool put_cost(json_t *o, double cost_ms, uint64_t iterations)
{
    return put(o, "cost_ms", cost_ms > 0 ? json_real(cost_ms) : json_null()) &&
           put(o, "iterations",
               iterations > 0 ? json_integer((json_int_t)iterations) : json_null());
}

static json_t *hybrid_json(int inner_items, double inner_ms, hpool_bench_counter counter)
{
    json_t *h = json_object();
    if (h && put(h, "inner_items", json_integer(inner_items)) &&
        put(h, "inner_ms", json_real(inner_ms)) &&
        put(h, "counter", json_string(hpool_bench_counter_name(counter))))
        return h;
    json_decref(h);
    return NULL;
}

static bool put_scalars(json_t *o, const hpool_bench_config *c)
{
    return put_cost(o, c->cost_ms, c->iterations) &&
           put(o, "prefetch", json_integer(c->prefetch)) &&
           put(o, "repeat", json_integer(c->repeat)) &&
           put(o, "warmup", json_integer(c->warmup)) &&
           put(o, "seed", json_integer((json_int_t)c->seed)) &&
           put(o, "records", json_string(hpool_bench_records_name(c->records))) &&
           put(o, "peers", peers_json(c)) &&
           put(o, "serial_baseline", json_boolean(c->serial_baseline)) &&
           put(o, "otf2", json_boolean(c->otf2)) &&
           put(o, "trace_max_events", json_integer((json_int_t)c->trace_max_events)) &&
           put(o, "trace_gzip", json_boolean(c->trace_gzip)) &&
           put(o, "slow_workers", json_integer(c->slow_workers)) &&
           put(o, "slow_factor", json_real(c->slow_factor)) &&
           put(o, "schedule_model", c->schedule_model ? json_string(c->schedule_model)
                                                      : json_null()) &&
           put(o, "hybrid", hybrid_json(c->inner_items, c->inner_ms, c->counter));
}

json_t *hpool_bench_config_to_json(const hpool_bench_config *c)
{
    json_t *o = json_object();
    bool ok = o && put(o, "source", json_string(c->path ? c->path : "")) &&
              put(o, "name", json_string(c->name)) &&
              put(o, "description", json_string(c->description ? c->description : "")) &&
              put(o, "workload", workloads_json(c)) &&
              put(o, "api", apis_json(c)) &&
              put(o, "tasks", u64_array(c->tasks, c->n_tasks)) &&
              put(o, "schedule", schedules_json(c)) &&
              put(o, "chunksize", u64_array(c->chunksize, c->n_chunksize)) &&
              put(o, "workers", int_array(c->workers, c->n_workers)) &&
              put(o, "threads", int_array(c->threads, c->n_threads)) &&
              put_scalars(o, c) &&
              put(o, "run_count", json_integer((json_int_t)hpool_bench_config_run_count(c)));
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *hpool_bench_run_params_to_json(const hpool_bench_run_params *rp)
{
    json_t *o = json_object();
    bool ok = o && put(o, "run", json_integer((json_int_t)rp->index)) &&
              put(o, "workload", json_string(hpool_bench_workload_name(rp->workload))) &&
              put(o, "api", json_string(hpool_bench_api_name(rp->api))) &&
              put(o, "tasks", json_integer((json_int_t)rp->tasks)) &&
              put(o, "schedule", json_string(hpool_bench_schedule_name(rp->schedule))) &&
              put(o, "chunksize", json_integer((json_int_t)rp->chunksize)) &&
              put(o, "workers", json_integer(rp->workers)) &&
              put(o, "threads", json_integer(rp->threads)) &&
              put_cost(o, rp->cost_ms, rp->iterations) &&
              put(o, "prefetch", json_integer(rp->prefetch)) &&
              put(o, "repeat", json_integer(rp->repeat)) &&
              put(o, "warmup", json_integer(rp->warmup)) &&
              put(o, "seed", json_integer((json_int_t)rp->seed)) &&
              put(o, "records", json_string(hpool_bench_records_name(rp->records))) &&
              put(o, "serial_baseline", json_boolean(rp->serial_baseline)) &&
              put(o, "peers", run_peers_json(rp)) &&
              put(o, "hybrid", hybrid_json(rp->inner_items, rp->inner_ms, rp->counter));
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}
