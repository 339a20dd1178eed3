/* meta.json (docs/FORMATS.md). */
#include "meta.h"

#include <hwloc.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#ifndef HPOOL_GIT_DESCRIBE
#define HPOOL_GIT_DESCRIBE "" /* not built from a git checkout */
#endif

static char mpi_version[512] = "unknown";

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
