/* Placement of the worker ranks' OpenMP teams (hwloc): the worker side binds its team at
 * executor START and describes it in the START_ACK payload; the manager side collects the
 * rows of every worker into the executor's placement table.
 *
 * START_ACK payload (after the header):
 *   the initializer's message, NUL-terminated, padded with zeros to 8 bytes;
 *   hpool__wire_place_hdr;
 *   count records of rec_size bytes (hpool__wire_place);
 *   the rank's cpuset as a list, cpuset_len bytes and a NUL (as long as the list is).
 * rec_size is sent so that a size mismatch is detected rather than misread.
 *
 * Hosts come from MPI, not from launcher variables: hpool__topo_init splits the job with
 * MPI_Comm_split_type(MPI_COMM_TYPE_SHARED), which every MPI implements the same way. */
#ifndef HPOOL_TOPOLOGY_H
#define HPOOL_TOPOLOGY_H

#include <stddef.h>
#include <stdint.h>

#include <mpi.h>

#include "hpool.h" /* hpool_placement */
#include "wire.h"

#define HPOOL__PLACE_MAGIC 0x504c4143u /* "PLAC" */
#define HPOOL__PLACE_MAX_ROWS 4096u    /* threads_per_worker is at most 1024 */

typedef struct {
    uint32_t magic;
    uint32_t count;
    uint32_t rec_size;
    uint32_t cpuset_len; /* bytes of the cpuset text after the rows, without its NUL */
} hpool__wire_place_hdr;

typedef struct {
    char host[HPOOL_HOST_MAX];
    int32_t thread;
    int32_t cpu;
    int32_t core;
    int32_t numa;
    int32_t cpuset_pus;
    int32_t host_pus;
    int32_t binding; /* hpool_bind_kind */
    uint32_t flags;  /* HPOOL_PLACE_* the worker can see itself (rank-local) */
} hpool__wire_place;

/* ---- worker side (the worker's main thread, outside any parallel region; topology.c) ---- */
/* Threads when the executor does not say: OMP_NUM_THREADS, else the PUs of the cpuset the
 * launcher gave this rank. */
int hpool__topo_default_threads(void);
/* Bind a team of `threads` OpenMP threads and append its placement block (header and
 * rows) to block. Never fails on topology problems (rows then say "unknown"); returns
 * HPOOL_ENOMEM only. */
int hpool__topo_bind_team(int threads, hpool__buf *block);
/* Append the START_ACK payload to out: msg (may be ""), padding, then block. */
int hpool__topo_ack_payload(const char *msg, const hpool__buf *block, hpool__buf *out);

/* ---- shared by both sides (topology.c) ---- */
/* Collective over comm at hpool_init, on every rank: which ranks share a host (and so one
 * CLOCK_MONOTONIC), this rank's index among the worker ranks of its host, and on worker
 * ranks the hwloc topology, read now so that an executor's START does not wait for it.
 * HPOOL_ENOMEM or HPOOL_EMPI. */
int hpool__topo_init(MPI_Comm comm);
/* Rank 0 only, after hpool__topo_init: a host's id for `rank` (the lowest world rank on
 * that host), or -1 when unknown. Ranks with equal ids share a host. */
int hpool__topo_host_of(int rank);
/* Free what hpool__topo_init kept. */
void hpool__topo_fini(void);
/* Read this process's topology (once; later calls do nothing). */
void hpool__topo_ensure(void);
/* This rank's cpuset as the launcher gave it, as a list ("?" when unknown); lives as long
 * as the process. Call hpool__topo_ensure first. */
const char *hpool__topo_cpuset_text(void);
/* Fill r with the row of the calling thread, rank 0's manager thread (never bound by hpool).
 * Call hpool__topo_ensure first. */
void hpool__topo_manager_row(hpool_placement *r);

#endif
