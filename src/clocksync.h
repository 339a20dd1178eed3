/* Clock synchronisation of an executor's workers with rank 0 (manager thread), at
 * executor start and end; clock.h has the maths of one sample and the mapping.
 *
 * Ranks on one host read one CLOCK_MONOTONIC, so one ping-pong sync per host is enough:
 *  1. every host's leader (its lowest live worker rank) is ping-ponged HPOOL__CLOCK_ROUNDS
 *     times (fewer on a loaded node, clock.h), all hosts at once (the next PING to a leader
 *     leaves as soon as its PONG is in), and keeps its smallest-round-trip sample; rank 0's
 *     own host needs none: its clock is rank 0's;
 *  2. every other rank gets one PING, all at once: its reading, mapped with its leader's
 *     offset (0 on rank 0's host), must fall inside that PING's round trip, widened by the
 *     leader's own error (rtt/2). Then it shares the leader's sample (on rank 0's host:
 *     offset 0, with this check's round trip as its bound); a rank that disagrees (another
 *     clock: a time namespace, or a test's injected skew) gets its own ping-pong as in 1.
 * So start-up costs about ROUNDS round trips plus one message per rank, whatever the
 * number of hosts, instead of ROUNDS round trips per rank one after the other. A clock
 * that differs from its host's by less than the check's round trip would pass the check;
 * real clocks of one kernel do not differ, injected ones differ by far more. */
#ifndef HPOOL_CLOCKSYNC_H
#define HPOOL_CLOCKSYNC_H

#include <stdbool.h>

#include "clock.h"

/* What the syncs of one executor cost (manager-written; `ready` under g.lock). */
typedef struct {
    double t_ready;      /* manager time the start sync ended: work may be dispatched */
    double startup_s;    /* executor create -> t_ready: START, acks and the start sync */
    double final_sync_s; /* the end sync */
    double cpu_s;        /* manager thread CPU time spent in both syncs */
    int hosts;           /* host leaders synced by ping-pong at start */
    int own_sync;        /* ranks that disagreed with their host's clock and got their own */
    bool ready;          /* g.lock: the start sync is done (or was skipped by a break) */
} hpool__sync_times;

/* One worker to synchronise. */
typedef struct {
    int rank;              /* its MPI rank (>= 1) */
    int host;              /* ranks with equal host ids share a host (hpool__topo_host_of);
                              < 0: unknown, then it is synced on its own */
    bool lost;             /* skipped */
    hpool__clock_map *map; /* receives the start or end sample */
} hpool__sync_peer;

/* Synchronise the clocks of peers[0..n) with rank 0's (start: at_end = false, after every
 * START_ACK; end: before STOP), store each sample in its map and account the time in
 * *times (startup_s counts from t_created). Manager thread, with no call item in flight:
 * only the PONGs asked for can arrive (a lost worker's late message is dropped).
 * 0, HPOOL_ENOMEM, HPOOL_EMPI, HPOOL_EPROTO (another message than a PONG arrived),
 * HPOOL_ETIMEDOUT (a worker did not answer within worker_timeout_s). */
int hpool__clocksync_run(const hpool__sync_peer *peers, int n, int exec_id, bool at_end,
                         double t_created, hpool__sync_times *times);

#endif
