/* The mpi4py peer: the sweep's fixed-chunk map/submit runs also through
 * mpi4py.futures.MPIPoolExecutor (bench/peers/mpi4py_peer.py), one MPI job per run
 * combination, rows with impl=mpi4py appended to the experiment's rows. Kept apart from
 * the python-ppe peer's launch (experiment.c) on purpose: it needs its own mpirun. */
#ifndef HPOOL_BENCH_PEER_MPI4PY_H
#define HPOOL_BENCH_PEER_MPI4PY_H

#include <stdbool.h>

#include "config.h"
#include "results.h"

/* The config lists the mpi4py peer. */
bool hpool_bench_peer_mpi4py_wanted(const hpool_bench_config *cfg);

/* Runs the peer when /usr/bin/python3 can import mpi4py.futures and mpirun exists;
 * otherwise prints why it is skipped and returns 0. \return 0, or 1 when a launch failed
 * (message on stderr). */
int hpool_bench_peer_mpi4py_run(const hpool_bench_config *cfg, const char *peers_dir,
                                const char *work, hpool_bench_rows *rows);

#endif
