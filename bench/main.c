/* hpool-bench: run experiments described by INI files under mpirun.
 *   mpirun -n 1+W build/hpool-bench [options] configs/NAME.ini ...
 *   build/hpool-bench compare|list|prune ...   (kept runs; one process, no MPI)
 * Every rank runs this program; rank 0 runs the sweep, the others serve as workers. */
#include <getopt.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compare.h"
#include "config.h"
#include "datadir.h"
#include "experiment.h"
#include "history.h"
#include "history_cmd.h"
#include "meta.h"
#include "otf2_writer.h"
#include "render.h"
#include "report.h"
#include "simulate.h"
#include "verdict.h"
#include "workloads.h"

typedef struct {
    hpool_bench_options run;
    bool dry_run, help, version;
    const char *plot_only;
    int first_config; /* index in argv of the first config file */
} cli;

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: mpirun -n 1+W %s [options] CONFIG.ini ...\n"
            "       %s --plot-only results/NAME\n"
            "       %s compare [--fail-if-slower PCT] A B [C ...] | NAME\n"
            "       %s list [NAME ...]\n"
            "       %s prune NAME --keep K\n"
            "       %s simulate [--run ID] [--overhead S] [--chunksize LIST] chunks.tsv\n"
            "Runs the experiments the INI files describe (see configs/). Each run is kept in\n"
            "results/NAME/<UTC stamp>-<id>/ (runs.tsv summary.tsv chunks.tsv spans.tsv\n"
            "trace.json meta.json, plots and report.md); results/NAME/latest is the newest.\n"
            "compare, list, prune and simulate read kept runs (try SUBCOMMAND --help).\n\n"
            "options:\n"
            "  --out DIR            results root (default: results)\n"
            "  --plot / --no-plot   render plots with gnuplot (default: --plot)\n"
            "  --plot-only DIR      re-render plots and report.md of a kept run (a run\n"
            "                       directory, results/NAME or NAME: its latest), run nothing\n"
            "  --replace            once the new run is complete, remove NAME's earlier runs\n"
            "  --quiet              no progress line and no per-file messages\n"
            "  --dry-run            check the configs against the job's ranks, print the planned\n"
            "                       runs and exit\n"
            "  --report-placement   print where each rank and thread runs\n"
            "  --otf2               also write an OTF2 trace of each run (runs/N/otf2/)\n"
            "  --plots-dir DIR      gnuplot scripts (default: the source tree's plots/)\n"
            "  --help, --version\n"
            "exit status: 0 ok, 1 a run failed, 2 bad command line or config\n",
            prog, prog, prog, prog, prog, prog);
}

static int parse_cli(int argc, char **argv, cli *c)
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},     {"plot", no_argument, NULL, 'p'},
        {"no-plot", no_argument, NULL, 'n'},       {"plot-only", required_argument, NULL, 'P'},
        {"quiet", no_argument, NULL, 'q'},         {"dry-run", no_argument, NULL, 'd'},
        {"report-placement", no_argument, NULL, 'r'},
        {"otf2", no_argument, NULL, 'T'},
        {"plots-dir", required_argument, NULL, 'g'},
        {"replace", no_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},          {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    memset(c, 0, sizeof *c);
    c->run.out_dir = "results";
    c->run.plots_dir = hpool_bench_data_dir("plots");
    c->run.peers_dir = hpool_bench_data_dir("peers");
    c->run.plot = true;
    c->run.argc = argc;
    c->run.argv = argv;
    int ch;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'o': c->run.out_dir = optarg; break;
        case 'p': c->run.plot = true; break;
        case 'n': c->run.plot = false; break;
        case 'P': c->plot_only = optarg; break;
        case 'q': c->run.quiet = true; break;
        case 'd': c->dry_run = true; break;
        case 'r': c->run.report_placement = true; break;
        case 'T': c->run.otf2 = true; break;
        case 'g': c->run.plots_dir = optarg; break;
        case 'R': c->run.replace = true; break;
        case 'h': c->help = true; break;
        case 'V': c->version = true; break;
        default:
            fprintf(stderr, "hpool-bench: unknown or incomplete option '%s' (try --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    c->first_config = optind;
    if (!c->help && !c->version && !c->plot_only && optind >= argc) {
        fprintf(stderr, "hpool-bench: no config file given (try --help)\n");
        return 2;
    }
    return 0;
}

/* Without mpirun, or before MPI starts, only print from the first rank of the job. */
static bool first_rank_by_env(void)
{
    const char *vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v)
            return atoi(v) == 0;
    }
    return true;
}

static int plot_only(const cli *c)
{
    char err[5000], dir[4096];
    if (hpool_bench_history_resolve(c->plot_only, c->run.out_dir, dir, sizeof dir, err,
                                    sizeof err) != 0 ||
        hpool_bench_write_best_marker(dir, err, sizeof err) != 0 || /* chunksize.gp */
        hpool_bench_render(dir, c->run.plots_dir, c->run.quiet, err, sizeof err) != 0 ||
        hpool_bench_write_report(dir, err, sizeof err) != 0) {
        fprintf(stderr, "hpool-bench: %s\n", err);
        return 1;
    }
    return 0;
}

/* Load and check every config before any run: errors exit 2 with nothing done. */
static int load_configs(const cli *c, int argc, char **argv, int world, hpool_bench_config **out,
                        int *n_out)
{
    int n = argc - c->first_config;
    hpool_bench_config *cfgs = calloc((size_t)n, sizeof *cfgs);
    char err[1024];
    int rc = cfgs ? 0 : 1;
    for (int i = 0; i < n && rc == 0; i++) {
        if (hpool_bench_config_load(argv[c->first_config + i], &cfgs[i], err, sizeof err) != 0 ||
            hpool_bench_config_check_world(&cfgs[i], world, err, sizeof err) != 0) {
            fprintf(stderr, "hpool-bench: %s\n", err);
            rc = 2;
        }
    }
    *out = cfgs;
    *n_out = n;
    return rc;
}

static int run_manager(cli *c, int argc, char **argv)
{
    hpool_bench_config *cfgs = NULL;
    int n = 0;
    c->run.world_size = hpool_world_size();
    c->run.progress = !c->run.quiet && isatty(STDERR_FILENO);
    hpool_bench_find_configs(argc - c->first_config, argv + c->first_config);
    int rc = load_configs(c, argc, argv, c->run.world_size, &cfgs, &n);
    for (int i = 0; i < n && rc == 0; i++) {
        if (c->dry_run)
            hpool_bench_print_plan(&cfgs[i], stdout);
        else
            rc = hpool_bench_run_experiment(&cfgs[i], &c->run);
    }
    for (int i = 0; i < n; i++)
        hpool_bench_config_free(&cfgs[i]);
    free(cfgs);
    return rc;
}

/* Subcommands on kept results: no workers and no MPI, so they also run as a plain
 * process; under mpirun only the first rank acts. One line per subcommand. */
typedef int (*subcommand_fn)(int argc, char **argv, const char *plots_dir);
static const struct {
    const char *name;
    subcommand_fn run;
} SUBCOMMANDS[] = {
    {"compare", hpool_bench_cmd_compare},
    {"list", hpool_bench_cmd_list},
    {"prune", hpool_bench_cmd_prune},
    {"simulate", hpool_bench_cmd_simulate},
};

static subcommand_fn find_subcommand(int argc, char **argv)
{
    for (size_t i = 0; argc > 1 && i < sizeof SUBCOMMANDS / sizeof SUBCOMMANDS[0]; i++)
        if (strcmp(argv[1], SUBCOMMANDS[i].name) == 0)
            return SUBCOMMANDS[i].run;
    return NULL;
}

int main(int argc, char **argv)
{
    subcommand_fn sub = find_subcommand(argc, argv);
    if (sub)
        return first_rank_by_env() ? sub(argc - 1, argv + 1, HPOOL_SOURCE_DIR "/plots") : 0;
    cli c;
    int rc = parse_cli(argc, argv, &c);
    if (rc != 0 || c.help || c.version || c.plot_only) {
        /* No MPI needed: every rank takes this path alike and exits. */
        bool talk = first_rank_by_env();
        if (c.help && talk)
            usage(stdout, argv[0]);
        if (c.version && talk)
            printf("hpool-bench %s (OTF2 %s)\n", HPOOL_VERSION,
                   hpool_bench_otf2_available() ? "on" : "off");
        if (rc == 0 && c.plot_only)
            rc = talk ? plot_only(&c) : 0;
        return rc;
    }
    char ver[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(ver, &len);
    hpool_bench_meta_set_mpi_version(ver);
    hpool_bench_register_tasks();
    /* MPI first, so that every rank can say what it saw (host, binding, environment) for
     * meta.json before hpool_init turns the workers into servers. */
    int provided = 0;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "hpool-bench: MPI_Init_thread failed\n");
        return 1;
    }
    if (!c.dry_run && hpool_bench_meta_gather(MPI_COMM_WORLD) != 0)
        fprintf(stderr, "hpool-bench: could not gather the ranks' hosts and settings\n");
    int role = hpool_init(&argc, &argv, NULL);
    if (role < 0) {
        fprintf(stderr, "hpool-bench: hpool_init: %s\n", hpool_last_error());
        MPI_Abort(MPI_COMM_WORLD, 1);
        return 1;
    }
    if (role == HPOOL_MANAGER)
        rc = run_manager(&c, argc, argv);
    if (hpool_finalize() != 0) {
        /* A stuck rank: MPI cannot be finalized (hpool_finalize says why). */
        fprintf(stderr, "hpool-bench: %s\n", hpool_last_error());
        return rc ? rc : 1;
    }
    MPI_Finalize();
    return rc;
}
