/* meta.json: where and how an experiment ran (hosts, ranks, versions, config echo). */
#ifndef HPOOL_BENCH_META_H
#define HPOOL_BENCH_META_H

#include "config.h"
#include "experiment.h"

/* Library version string of the MPI in use; fetched by main before hpool_init. */
void hpool_bench_meta_set_mpi_version(const char *v);
/* Collective over comm, on every rank, before hpool_init: gathers to rank 0 each rank's
 * host, CPU binding and HPOOL_/OMP_/launcher variables, and per host its cores, PUs and a
 * calibration of the CPU workload; meta.json lists them ("hosts", "rank_env"). */
#include <mpi.h>
int hpool_bench_meta_gather(MPI_Comm comm);
/* How a peer (bench/peers) was started, and on which CPUs; goes in meta.json. */
void hpool_bench_meta_set_peer(const char *peer, const char *how, const char *cpuset);
struct json_t;
/* placement: array of placement tables (may be NULL), borrowed. */
int hpool_bench_write_meta(const char *dir, const hpool_bench_config *cfg,
                           const hpool_bench_options *o, double iters_per_ms,
                           struct json_t *placement);

#endif
