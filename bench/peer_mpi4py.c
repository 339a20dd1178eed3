/* The mpi4py peer's launch. hpool-bench itself runs under mpirun, and an mpirun started
 * from inside an MPI job inherits that job's OMPI_ / PMIX_ variables and fails (ORTE
 * "Bad parameter"); the peer's mpirun therefore gets a clean environment (env -i) with
 * only what it needs passed on. */
#include "peer_mpi4py.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEER_PYTHON "/usr/bin/python3" /* Debian's python3-mpi4py lives here only */

bool hpool_bench_peer_mpi4py_wanted(const hpool_bench_config *cfg)
{
    for (size_t i = 0; i < cfg->n_peers; i++)
        if (cfg->peers[i] == HPOOL_BENCH_PEER_MPI4PY)
            return true;
    return false;
}

static void kept_env(char *out, size_t len);

/* Why the peer cannot run here, or NULL. Importing mpi4py starts MPI, so the check runs
 * in the clean environment too. */
static const char *unavailable(void)
{
    char env[4096], cmd[4400];
    kept_env(env, sizeof env);
    snprintf(cmd, sizeof cmd, "env -i%s " PEER_PYTHON " -c 'import mpi4py.futures' >/dev/null 2>&1",
             env);
    if (system(cmd) != 0)
        return PEER_PYTHON " cannot import mpi4py.futures (Debian package python3-mpi4py)";
    if (system("command -v mpirun >/dev/null 2>&1") != 0)
        return "no mpirun on PATH";
    return NULL;
}

/* The same runs the python-ppe peer gets: Python's pools have only fixed chunks, no
 * inner team, and no twin of hybrid or mandelbrot. */
static bool run_wanted(const hpool_bench_run_params *rp)
{
    return rp->api != HPOOL_BENCH_API_AS_COMPLETED && rp->schedule == HPOOL_SCHED_FIXED &&
           rp->threads == 1 && rp->workload != HPOOL_BENCH_WL_HYBRID &&
           rp->workload != HPOOL_BENCH_WL_MANDELBROT &&
           rp->workload != HPOOL_BENCH_WL_HETEROGENEOUS;
}

/* NAME='value' for each variable to keep that is set (values with a quote are dropped). */
static void kept_env(char *out, size_t len)
{
    static const char *const keep[] = {"PATH", "HOME", "LANG", "TMPDIR",
                                       "OMPI_ALLOW_RUN_AS_ROOT",
                                       "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "OMP_WAIT_POLICY"};
    out[0] = '\0';
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        const char *v = getenv(keep[i]);
        size_t n = strlen(out);
        if (v && !strchr(v, '\'') && n < len)
            snprintf(out + n, len - n, " %s='%s'", keep[i], v);
    }
}

static int launch(const hpool_bench_config *cfg, const hpool_bench_run_params *rp,
                  const char *peers_dir, const char *work, int run_base)
{
    char env[4096], cmd[16384];
    kept_env(env, sizeof env);
    snprintf(cmd, sizeof cmd,
             "env -i%s PYTHONPATH='%s' mpirun --oversubscribe --mca mpi_yield_when_idle 1 "
             "-x PYTHONPATH -n %d " PEER_PYTHON " -m mpi4py.futures '%s/mpi4py_peer.py' "
             "--out '%s/peer_mpi4py_runs.tsv' --experiment '%s' --workload %s --tasks %llu "
             "--cost-ms %g --iterations %llu --api %s --chunksize %llu --workers %d "
             "--repeat %d --warmup %d --seed %llu --run-base %d --quiet%s",
             env, peers_dir, rp->workers + 1, peers_dir, work, cfg->name,
             hpool_bench_workload_name(rp->workload), (unsigned long long)rp->tasks,
             rp->cost_ms, (unsigned long long)rp->iterations, hpool_bench_api_name(rp->api),
             (unsigned long long)rp->chunksize, rp->workers, rp->repeat, rp->warmup,
             (unsigned long long)rp->seed, run_base, rp->serial_baseline ? "" : " --no-serial");
    int st = system(cmd);
    if (st != 0)
        fprintf(stderr, "hpool-bench: peer mpi4py failed (status %d): %s\n", st, cmd);
    return st == 0 ? 0 : 1;
}

int hpool_bench_peer_mpi4py_run(const hpool_bench_config *cfg, const char *peers_dir,
                                const char *work, hpool_bench_rows *rows)
{
    const char *why = unavailable();
    if (why) {
        printf("hpool-bench: peer mpi4py skipped: %s\n", why);
        return 0;
    }
    size_t n = hpool_bench_config_run_count(cfg);
    int rc = 0, base = 200000; /* run ids apart from hpool's and python-ppe's */
    for (size_t k = 0; k < n && rc == 0; k++) {
        hpool_bench_run_params rp;
        hpool_bench_config_run_params(cfg, k, &rp);
        if (!run_wanted(&rp))
            continue;
        rc = launch(cfg, &rp, peers_dir, work, base);
        base += rp.repeat;
    }
    char err[512];
    if (rc == 0 && hpool_bench_rows_load(rows, work, "peer_mpi4py_runs.tsv", err, sizeof err) != 0) {
        fprintf(stderr, "hpool-bench: %s\n", err);
        rc = 1;
    }
    return rc;
}
