/* Placement of the worker ranks' OpenMP teams (hwloc): the worker side binds its team at
 * executor START and describes it in the START_ACK payload; the manager side collects the
 * rows of every worker into the executor's placement table.
 *
 * START_ACK payload (after the header):
 *   the initializer's message, NUL-terminated, padded with zeros to 8 bytes;
 *   hpool__wire_place_hdr;
 *   count records of rec_size bytes (hpool__wire_place).
 * rec_size is sent so that a size mismatch is detected rather than misread. */
#ifndef HPOOL_TOPOLOGY_H
#define HPOOL_TOPOLOGY_H

#include <stddef.h>
#include <stdint.h>

#include "hpool.h" /* hpool_placement */
#include "wire.h"

#define HPOOL__PLACE_MAGIC 0x504c4143u /* "PLAC" */
#define HPOOL__PLACE_MAX_ROWS 4096u    /* threads_per_worker is at most 1024 */

typedef struct {
    uint32_t magic;
    uint32_t count;
    uint32_t rec_size;
    uint32_t reserved;
} hpool__wire_place_hdr;

typedef struct {
    char host[64];
    char cpuset[64];
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
/* Read this process's topology (once; later calls do nothing). */
void hpool__topo_ensure(void);
/* Fill r with the row of the calling thread, rank 0's manager thread (never bound by hpool).
 * Call hpool__topo_ensure first. */
void hpool__topo_manager_row(hpool_placement *r);

#endif
