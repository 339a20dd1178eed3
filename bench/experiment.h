/* Runs one experiment (a loaded config) end to end on rank 0 and keeps it in results/NAME. */
#ifndef HPOOL_BENCH_EXPERIMENT_H
#define HPOOL_BENCH_EXPERIMENT_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"

typedef struct {
    const char *out_dir;   /* results root, e.g. "results" */
    const char *plots_dir; /* gnuplot scripts */
    const char *peers_dir; /* bench/peers */
    bool plot;
    bool quiet;
    bool progress;         /* progress line on stderr */
    bool report_placement;
    bool otf2;             /* --otf2: as the config key otf2 = true */
    bool replace;          /* --replace: remove the earlier runs of NAME once published */
    const char *run_id;    /* set by hpool_bench_run_experiment: OUT/NAME/<run_id> */
    int world_size;
    int argc;
    char **argv;
} hpool_bench_options;

/* Prints the planned runs (--dry-run). */
void hpool_bench_print_plan(const hpool_bench_config *cfg, FILE *out);

/* Runs it and publishes OUT/NAME/<UTC stamp>-<id>, pointing OUT/NAME/latest at it.
 * \return 0, or 1 with a message on stderr (earlier runs and `latest` stay untouched;
 * what this run produced is left in OUT/NAME/.incomplete-<id>). */
int hpool_bench_run_experiment(const hpool_bench_config *cfg, const hpool_bench_options *o);

#endif
