/* Workloads of hpool-bench. Cost models (mean cost C iterations, N items, item i):
 *   increasing  2C*i/(N-1)          decreasing  2C*(N-1-i)/(N-1)
 *   random      uniform [0, 2C) from splitmix64(seed, i)
 *   bimodal     5.5C for 10% of items (splitmix64(seed, i) % 10 == 0), 0.5C otherwise
 *   mandelbrot  row i of an N-row image; its cost is what the fractal makes it
 *   heterogeneous  cost C on every item, but worker ranks 1..slow_workers spin for
 *               (slow_factor - 1) times the item's own time after running it: slower
 *               cores, same results. The serial baseline runs at full speed; the
 *               Python peers have no twin of it.
 * bench/peers/ppe.py implements the same formulas. */
#include "workloads.h"

#include <math.h>
#include <omp.h>
#include <string.h>
#include <time.h>

uint64_t hpool_bench_cpu_sum(uint64_t n)
{
    uint64_t count = 0;
    for (uint64_t i = 0; i < n; i++) {
        count += i;
        /* An empty asm that "may change" count: the compiler must keep the loop. */
        __asm__ volatile("" : "+r"(count));
    }
    return count;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double hpool_bench_calibrate(void)
{
    /* Best of a few: the fastest run is the least disturbed one. */
    double best = INFINITY;
    uint64_t n = 2000000;
    for (int k = 0; k < 5; k++) {
        double t0 = now_s();
        volatile uint64_t sink = hpool_bench_cpu_sum(n);
        (void)sink;
        double dt = now_s() - t0;
        if (dt < best)
            best = dt;
    }
    return (double)n / (best * 1e3);
}

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static double cost_factor(hpool_bench_workload w, uint64_t i, uint64_t n, uint64_t seed)
{
    double pos = n > 1 ? (double)i / (double)(n - 1) : 0.5;
    uint64_t h = splitmix64(seed * 0x100000001b3ULL + i);
    switch (w) {
    case HPOOL_BENCH_WL_INCREASING:
        return 2.0 * pos;
    case HPOOL_BENCH_WL_DECREASING:
        return 2.0 * (1.0 - pos);
    case HPOOL_BENCH_WL_RANDOM:
        return 2.0 * (double)(h >> 11) / 9007199254740992.0;
    case HPOOL_BENCH_WL_BIMODAL:
        return h % 10 == 0 ? 5.5 : 0.5;
    default:
        return 1.0;
    }
}

void hpool_bench_make_items(const hpool_bench_run_params *rp, double iters_per_ms,
                            hpool_bench_item *items, uint64_t n)
{
    double mean = rp->iterations ? (double)rp->iterations : rp->cost_ms * iters_per_ms;
    for (uint64_t i = 0; i < n; i++) {
        hpool_bench_item *it = &items[i];
        memset(it, 0, sizeof *it);
        it->index = i;
        it->workload = (uint32_t)rp->workload;
        if (rp->workload == HPOOL_BENCH_WL_HETEROGENEOUS) {
            it->slow_workers = (uint32_t)(rp->slow_workers > 0 ? rp->slow_workers : 0);
            it->slow_factor = rp->slow_factor;
        }
        double f = cost_factor(rp->workload, i, n, rp->seed);
        switch (rp->workload) {
        case HPOOL_BENCH_WL_EMPTY:
            break;
        case HPOOL_BENCH_WL_IO_SLEEP:
            it->sleep_s = rp->cost_ms > 0 ? rp->cost_ms * 1e-3 : mean / iters_per_ms * 1e-3;
            break;
        case HPOOL_BENCH_WL_HYBRID:
            it->inner_items = (uint32_t)rp->inner_items;
            it->inner_s = rp->inner_ms * 1e-3;
            it->counter = (uint32_t)rp->counter;
            /* The CPU step is sized from what the inner items produce (the seed: 4 loop
             * iterations per byte read); scaled so that its mean cost is cost_ms. */
            it->iterations = (uint64_t)(mean / (3500.0 * (rp->inner_items ? rp->inner_items : 1)));
            break;
        case HPOOL_BENCH_WL_MANDELBROT:
            it->rows = n;
            it->width = (uint32_t)fmax(16.0, fmin(1e6, mean / 200.0));
            break;
        default:
            it->iterations = (uint64_t)llround(mean * f);
        }
    }
}

/* ---------------------------------------------------------------- hybrid */
static void sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* What inner item j of item i "reads": a deterministic size, like a web page. */
static uint64_t inner_bytes(uint64_t item, uint32_t j)
{
    return 1000 + splitmix64(item * 131 + j) % 5000;
}

typedef struct {
    const hpool_bench_item *it;
    uint64_t counter; /* shared by the team */
} hybrid_state;

static int hybrid_inner(void *user, size_t j, const void *in, void *out)
{
    (void)in;
    hybrid_state *st = user;
    sleep_s(st->it->inner_s); /* the I/O wait of the seed's URL fetch */
    uint64_t b = inner_bytes(st->it->index, (uint32_t)j);
    switch (st->it->counter) {
    case HPOOL_BENCH_COUNTER_ATOMIC:
#pragma omp atomic
        st->counter += b;
        break;
    case HPOOL_BENCH_COUNTER_CRITICAL:
#pragma omp critical(hpool_bench_counter)
        st->counter += b;
        break;
    default: {
        /* The seed's unsafe version: read, then write back, with a window between. */
        volatile uint64_t *c = &st->counter;
        uint64_t v = *c;
        __asm__ volatile("" ::: "memory");
        *c = v + b;
    }
    }
    memcpy(out, &b, sizeof b);
    return 0;
}

static uint64_t hybrid_expected_counter(const hpool_bench_item *it)
{
    uint64_t c = 0;
    for (uint32_t j = 0; j < it->inner_items; j++)
        c += inner_bytes(it->index, j);
    return c;
}

static uint64_t mandelbrot_row(const hpool_bench_item *it)
{
    uint64_t total = 0;
    double y = -1.5 + 3.0 * (double)it->index / (double)(it->rows ? it->rows : 1);
    for (uint32_t px = 0; px < it->width; px++) {
        double x0 = -2.0 + 3.0 * px / it->width, zx = 0, zy = 0;
        uint32_t k = 0;
        while (k < 1000 && zx * zx + zy * zy < 4.0) {
            double t = zx * zx - zy * zy + x0;
            zy = 2 * zx * zy + y;
            zx = t;
            k++;
        }
        total += k;
    }
    return total;
}

uint64_t hpool_bench_expected(const hpool_bench_item *it)
{
    switch (it->workload) {
    case HPOOL_BENCH_WL_EMPTY:
    case HPOOL_BENCH_WL_IO_SLEEP:
        return it->index;
    case HPOOL_BENCH_WL_MANDELBROT:
        return mandelbrot_row(it);
    case HPOOL_BENCH_WL_HYBRID:
        return hybrid_expected_counter(it);
    default: {
        /* 0 + 1 + ... + (n-1) modulo 2^64, halving the even factor first. */
        uint64_t n = it->iterations;
        return n % 2 == 0 ? (n / 2) * (n ? n - 1 : 0) : n * ((n - 1) / 2);
    }
    }
}

/* Runs the item; ctx is NULL for the serial baseline (inner items then run in order). */
static uint64_t run_item(hpool_task_ctx *ctx, const hpool_bench_item *it)
{
    switch (it->workload) {
    case HPOOL_BENCH_WL_EMPTY:
        return it->index;
    case HPOOL_BENCH_WL_IO_SLEEP:
        sleep_s(it->sleep_s);
        return it->index;
    case HPOOL_BENCH_WL_MANDELBROT:
        return mandelbrot_row(it);
    case HPOOL_BENCH_WL_HYBRID: {
        hybrid_state st = {it, 0};
        uint64_t out[64];
        uint32_t n = it->inner_items < 64 ? it->inner_items : 64;
        if (ctx)
            hpool_task_inner_map(ctx, hybrid_inner, &st, NULL, 0, out, sizeof out[0], n,
                                 "io");
        else
            for (uint32_t j = 0; j < n; j++)
                hybrid_inner(&st, j, NULL, &out[j]);
        volatile uint64_t sink = hpool_bench_cpu_sum(it->iterations * st.counter / 1000);
        (void)sink;
        return st.counter;
    }
    default:
        return hpool_bench_cpu_sum(it->iterations);
    }
}

uint64_t hpool_bench_run_serial(const hpool_bench_item *it)
{
    return run_item(NULL, it);
}

static int bench_task(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    if (len != sizeof(hpool_bench_item))
        return hpool_task_fail(ctx, "bench.item: argument of %zu bytes, want %zu", len,
                               sizeof(hpool_bench_item));
    hpool_bench_item it;
    memcpy(&it, arg, sizeof it);
    bool slow = it.slow_factor > 1.0 && hpool_task_rank(ctx) >= 1 &&
                (uint32_t)hpool_task_rank(ctx) <= it.slow_workers;
    double t0 = slow ? now_s() : 0;
    uint64_t r = run_item(ctx, &it);
    if (slow) {
        double until = now_s() + (now_s() - t0) * (it.slow_factor - 1.0);
        while (now_s() < until) {
        }
    }
    return hpool_task_return(ctx, &r, sizeof r);
}

int hpool_bench_register_tasks(void)
{
    return hpool_register_task(HPOOL_BENCH_TASK, bench_task);
}
