/* meta.json (docs/FORMATS.md). */
#define _GNU_SOURCE /* sched_getaffinity, CPU_ALLOC */
#include "meta.h"

#include <hwloc.h>
#include <jansson.h>
#include <mpi.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "workloads.h" /* hpool_bench_calibrate */

extern char **environ;

#ifndef HPOOL_GIT_DESCRIBE
#define HPOOL_GIT_DESCRIBE "" /* not built from a git checkout */
#endif

static char mpi_version[512] = "unknown";
static json_t *job_hosts;    /* rank 0: [{name, ranks, cores, pus, bindings, calibration}] */
static json_t *job_env;      /* rank 0: [{ranks, env}] one entry per distinct environment */
static json_t *peer_info;    /* rank 0: how each peer was started */

/* ---------------------------------------------------------------- what each rank saw */
/* Settings that change how hpool, OpenMP or the launcher behave. Variables that only
 * name the rank (they differ on every rank) are left out, so that ranks with the same
 * settings group together; so is anything that may hold a secret (Open MPI passes a job
 * key in OMPI_MCA_orte_precondition_transports). */
static bool env_wanted(const char *kv)
{
    static const char *const prefixes[] = {"HPOOL_", "OMP_", "GOMP_", "KMP_", "OMPI_MCA_",
                                           "OMPI_COMM_WORLD_", "PMIX_", "PMI_", "MPIR_",
                                           "MPICH_", "HYDRA_", "SLURM_", "I_MPI_", "UCX_"};
    static const char *const per_rank[] = {"OMPI_COMM_WORLD_RANK=", "OMPI_COMM_WORLD_LOCAL_RANK=",
                                           "OMPI_COMM_WORLD_NODE_RANK=", "PMIX_RANK=",
                                           "PMI_RANK=", "SLURM_PROCID=", "SLURM_LOCALID=",
                                           "PMIX_ID=", "PMIX_HOSTNAME=",
                                           "OMPI_MCA_ess_base_vpid=",
                                           "OMPI_MCA_orte_ess_node_rank="};
    bool want = false;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        want = want || strncmp(kv, prefixes[i], strlen(prefixes[i])) == 0;
    for (size_t i = 0; want && i < sizeof per_rank / sizeof per_rank[0]; i++)
        want = strncmp(kv, per_rank[i], strlen(per_rank[i])) != 0;
    const char *eq = strchr(kv, '=');
    size_t nlen = eq ? (size_t)(eq - kv) : strlen(kv);
    static const char *const secret[] = {"KEY", "SECRET", "TOKEN", "PASS", "precondition",
                                         "CRED", "URI", "SECURITY"};
    for (size_t i = 0; want && i < sizeof secret / sizeof secret[0]; i++)
        for (size_t k = 0; want && k + strlen(secret[i]) <= nlen; k++)
            want = strncasecmp(kv + k, secret[i], strlen(secret[i])) != 0;
    return want;
}

static json_t *env_object(void)
{
    json_t *o = json_object();
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (eq == NULL || !env_wanted(*e))
            continue;
        char *name = strndup(*e, (size_t)(eq - *e));
        if (name)
            json_object_set_new(o, name, json_string(eq + 1));
        free(name);
    }
    return o;
}

/* This rank's CPU affinity as a list ("0-3,8"), however many CPUs. */
static char *affinity_text(void)
{
    long ncpu = sysconf(_SC_NPROCESSORS_CONF);
    if (ncpu < 1)
        ncpu = 1;
    cpu_set_t *set = CPU_ALLOC((size_t)ncpu);
    size_t sz = CPU_ALLOC_SIZE((size_t)ncpu);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (set && f && sched_getaffinity(0, sz, set) == 0) {
        bool first = true;
        for (long c = 0; c < ncpu; c++) {
            if (!CPU_ISSET_S((size_t)c, sz, set))
                continue;
            long e = c;
            while (e + 1 < ncpu && CPU_ISSET_S((size_t)(e + 1), sz, set))
                e++;
            fprintf(f, first ? "%ld" : ",%ld", c);
            if (e > c)
                fprintf(f, "-%ld", e);
            first = false;
            c = e;
        }
    }
    if (f)
        fclose(f);
    if (set)
        CPU_FREE(set);
    return text;
}

/* Cores and PUs of this host (hwloc), for the host's first rank. */
static void host_counts(int *cores, int *pus)
{
    *cores = *pus = -1;
    hwloc_topology_t t;
    if (hwloc_topology_init(&t) != 0)
        return;
    if (hwloc_topology_load(t) == 0) {
        *cores = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE);
        *pus = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU);
    }
    hwloc_topology_destroy(t);
}

static json_t *host_entry(json_t *hosts, const char *name)
{
    size_t i;
    json_t *h;
    json_array_foreach(hosts, i, h) {
        if (strcmp(json_string_value(json_object_get(h, "name")), name) == 0)
            return h;
    }
    h = json_pack("{s:s, s:[], s:{}}", "name", name, "ranks", "bindings");
    json_array_append_new(hosts, h);
    return h;
}

/* Rank 0 files one rank's record under its host and its environment group. */
static void add_record(json_t *rec)
{
    const char *host = json_string_value(json_object_get(rec, "host"));
    json_int_t rank = json_integer_value(json_object_get(rec, "rank"));
    json_t *h = host_entry(job_hosts, host ? host : "?");
    json_array_append_new(json_object_get(h, "ranks"), json_integer(rank));
    const char *cpuset = json_string_value(json_object_get(rec, "cpuset"));
    json_t *b = json_object_get(json_object_get(h, "bindings"), cpuset ? cpuset : "?");
    if (b == NULL) {
        b = json_array();
        json_object_set_new(json_object_get(h, "bindings"), cpuset ? cpuset : "?", b);
    }
    json_array_append_new(b, json_integer(rank));
    static const char *const host_keys[] = {"cores", "pus", "cpu_sum_iterations_per_ms"};
    for (size_t k = 0; k < 3; k++)
        if (json_object_get(rec, host_keys[k]))
            json_object_set(h, host_keys[k], json_object_get(rec, host_keys[k]));
    json_t *env = json_object_get(rec, "env");
    size_t i;
    json_t *g;
    json_array_foreach(job_env, i, g) {
        if (json_equal(json_object_get(g, "env"), env)) {
            json_array_append_new(json_object_get(g, "ranks"), json_integer(rank));
            return;
        }
    }
    json_array_append_new(job_env, json_pack("{s:[I], s:O}", "ranks", rank, "env", env));
}

int hpool_bench_meta_gather(MPI_Comm comm)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    MPI_Comm node;
    int local = 0;
    if (MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node) ==
        MPI_SUCCESS) {
        MPI_Comm_rank(node, &local);
        MPI_Comm_free(&node);
    }
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    char *cpuset = affinity_text();
    json_t *rec = json_pack("{s:s, s:i, s:s, s:o}", "host", host, "rank", rank, "cpuset",
                            cpuset ? cpuset : "?", "env", env_object());
    free(cpuset);
    if (local == 0) {
        /* The host's first rank describes the host; every host calibrates at once. */
        int cores, pus;
        host_counts(&cores, &pus);
        json_object_set_new(rec, "cores", json_integer(cores));
        json_object_set_new(rec, "pus", json_integer(pus));
        json_object_set_new(rec, "cpu_sum_iterations_per_ms", json_real(hpool_bench_calibrate()));
    }
    char *text = json_dumps(rec, JSON_COMPACT);
    json_decref(rec);
    int len = text ? (int)strlen(text) + 1 : 0;
    int *lens = rank == 0 ? calloc((size_t)size, sizeof *lens) : NULL;
    int *offs = rank == 0 ? calloc((size_t)size, sizeof *offs) : NULL;
    int rc = MPI_Gather(&len, 1, MPI_INT, lens, 1, MPI_INT, 0, comm);
    char *all = NULL;
    if (rank == 0 && lens && offs) {
        size_t total = 0;
        for (int r = 0; r < size; r++) {
            offs[r] = (int)total;
            total += (size_t)lens[r];
        }
        all = malloc(total ? total : 1);
    }
    if (rc == MPI_SUCCESS)
        rc = MPI_Gatherv(text ? text : "", len, MPI_CHAR, all, lens, offs, MPI_CHAR, 0, comm);
    free(text);
    if (rank == 0 && rc == MPI_SUCCESS && all) {
        job_hosts = json_array();
        job_env = json_array();
        for (int r = 0; r < size; r++) {
            json_t *one = lens[r] > 0 ? json_loads(all + offs[r], 0, NULL) : NULL;
            if (one)
                add_record(one);
            json_decref(one);
        }
    }
    free(all);
    free(lens);
    free(offs);
    return rc == MPI_SUCCESS ? 0 : -1;
}

void hpool_bench_meta_set_peer(const char *peer, const char *how, const char *cpuset)
{
    if (peer_info == NULL)
        peer_info = json_object();
    json_object_set_new(peer_info, peer, json_pack("{s:s, s:s}", "started_with", how,
                                                   "cpuset", cpuset ? cpuset : "?"));
}

void hpool_bench_meta_set_mpi_version(const char *v)
{
    snprintf(mpi_version, sizeof mpi_version, "%s", v);
    /* MPI_Get_library_version may end in a newline; JSON readers prefer one line. */
    char *nl = strchr(mpi_version, '\n');
    if (nl)
        *nl = '\0';
}

static json_t *versions(void)
{
    char hw[32];
    unsigned v = hwloc_get_api_version();
    snprintf(hw, sizeof hw, "%u.%u.%u", v >> 16, (v >> 8) & 0xff, v & 0xff);
    return json_pack("{s:s, s:s, s:s, s:i, s:s}", "hpool", HPOOL_VERSION, "mpi", mpi_version,
                     "compiler", __VERSION__, "openmp", _OPENMP, "hwloc", hw);
}

/* FNV-1a 64 of the config file's bytes: two runs of the same file share it, an edit
 * changes it. "" when the file cannot be read any more. */
static void config_hash(const char *path, char *out, size_t len)
{
    FILE *f = path ? fopen(path, "rb") : NULL;
    out[0] = '\0';
    if (!f)
        return;
    uint64_t h = 0xcbf29ce484222325ull;
    for (int c; (c = getc(f)) != EOF;)
        h = (h ^ (uint64_t)(unsigned char)c) * 0x100000001b3ull;
    if (!ferror(f))
        snprintf(out, len, "%016llx", (unsigned long long)h);
    fclose(f);
}

/* Which launcher started the job, from the variables each one sets. */
static const char *launcher(void)
{
    if (getenv("SLURM_STEP_ID") && getenv("SLURM_PROCID"))
        return "slurm srun";
    if (getenv("OMPI_COMM_WORLD_SIZE"))
        return "Open MPI mpirun";
    if (getenv("PMI_SIZE") || getenv("PMI_RANK"))
        return "PMI (MPICH hydra mpiexec)";
    if (getenv("PMIX_RANK"))
        return "PMIx";
    return "singleton (no launcher)";
}

/* The distinct hosts of the placement tables (rank 0's host when there are none). */
static json_t *hosts(json_t *placement, const char *self)
{
    json_t *set = json_object(), *out = json_array();
    size_t i, j;
    json_t *t, *row;
    json_array_foreach(placement, i, t) {
        json_array_foreach(json_object_get(t, "rows"), j, row) {
            const char *h = json_string_value(json_object_get(row, "host"));
            if (h && !json_object_get(set, h)) {
                json_object_set_new(set, h, json_true());
                json_array_append_new(out, json_string(h));
            }
        }
    }
    if (json_array_size(out) == 0)
        json_array_append_new(out, json_string(self));
    json_decref(set);
    return out;
}

/* What identifies a run for `hpool-bench list` and `compare`. */
static json_t *identity(const hpool_bench_config *cfg, const hpool_bench_options *o,
                        json_t *placement, const char *host)
{
    char hash[32];
    config_hash(cfg->path, hash, sizeof hash);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "id", o->run_id ? o->run_id : "",
                     "config_file", cfg->path ? cfg->path : "", "config_hash", hash,
                     "hpool_version", HPOOL_VERSION, "git", HPOOL_GIT_DESCRIBE, "launcher",
                     launcher(), "hosts", hosts(placement, host));
}

static json_t *command_line(const hpool_bench_options *o)
{
    json_t *a = json_array();
    for (int i = 0; i < o->argc; i++)
        json_array_append_new(a, json_string(o->argv[i]));
    return a;
}

int hpool_bench_write_meta(const char *dir, const hpool_bench_config *cfg,
                           const hpool_bench_options *o, double iters_per_ms, json_t *placement)
{
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    struct utsname u;
    uname(&u);
    char when[64];
    time_t t = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    json_t *meta = json_pack("{s:s, s:s, s:i, s:o, s:o, s:s, s:f, s:i, s:o}", "experiment",
                             cfg->name, "host", host, "ranks", o->world_size, "versions",
                             versions(), "command", command_line(o), "date", when,
                             "cpu_sum_iterations_per_ms", iters_per_ms, "cores_online",
                             (int)sysconf(_SC_NPROCESSORS_ONLN), "config",
                             hpool_bench_config_to_json(cfg));
    json_object_set_new(meta, "kernel", json_pack("{s:s, s:s}", "sysname", u.sysname,
                                                  "release", u.release));
    json_object_set_new(meta, "run", identity(cfg, o, placement, host));
    if (placement)
        json_object_set(meta, "placement", placement);
    if (job_hosts)
        json_object_set(meta, "hosts", job_hosts);
    if (job_env)
        json_object_set(meta, "rank_env", job_env);
    if (peer_info)
        json_object_set(meta, "peers_started", peer_info);
    char tmp[4096], dst[4096];
    snprintf(tmp, sizeof tmp, "%s/.meta.json.tmp", dir);
    snprintf(dst, sizeof dst, "%s/meta.json", dir);
    int rc = json_dump_file(meta, tmp, JSON_INDENT(2));
    json_decref(meta);
    if (rc != 0 || rename(tmp, dst) != 0) {
        fprintf(stderr, "hpool-bench: cannot write %s\n", dst);
        return 1;
    }
    return 0;
}
