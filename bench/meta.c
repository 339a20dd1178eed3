/* meta.json (docs/FORMATS.md). */
#include "meta.h"

#include <hwloc.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

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
