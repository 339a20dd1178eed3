/* Placement tables on rank 0 (placement.c): the rows of every worker, collected from the
 * START_ACKs (their layout is in topology.h), and the manager's own row. */
#ifndef HPOOL_PLACEMENT_H
#define HPOOL_PLACEMENT_H

#include <stddef.h>

struct hpool_executor;

/* ---- manager side (rank 0's manager thread; placement.c) ---- */
/* Split a START_ACK payload into its message and placement block. HPOOL_EPROTO if the
 * message is not NUL-terminated or the padding runs past the end. */
int hpool__topo_split_ack(const void *payload, size_t len, const char **msg,
                          const void **block, size_t *block_len);
/* Add the rows of worker `rank`; HPOOL_EPROTO if the block is malformed, HPOOL_ENOMEM. */
int hpool__placement_add(struct hpool_executor *ex, int rank, const void *block, size_t len);
/* Every worker reported (or was lost): add the manager's row, compute warnings, publish
 * the table. Idempotent, so the manager may also call it when the executor leaves the
 * STARTING phase, for a worker lost during START. HPOOL_ENOMEM: nothing published (the
 * caller breaks the executor, so that threads waiting for the table are released). */
int hpool__placement_finish(struct hpool_executor *ex);
/* The start sync is over (or was cut short by a break): wake hpool_executor_wait_ready. */
void hpool__startup_mark_ready(struct hpool_executor *ex);

#endif
