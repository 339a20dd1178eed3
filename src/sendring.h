/* Sends in flight to one peer, oldest first, each with its own message buffer. An MPI
 * send of a small message on shared memory completes only once the receiver has taken
 * it up, so a sender that waited for a buffer would be held to the receiver's pace
 * message by message; the ring instead grows to what is in flight (a few slots, at most
 * about the call window) and reuses its buffers. Used by a worker for what it sends to
 * rank 0 and by the manager for the bundles it sends to each worker. Owned by one
 * thread (or by the holder of the progress token). */
#ifndef HPOOL_SENDRING_H
#define HPOOL_SENDRING_H

#include <mpi.h>

#include "wire.h"

typedef struct {
    hpool__buf buf;
    MPI_Request req;
} hpool__send;

typedef struct {
    hpool__send *slot;
    int cap;
    int head;  /* oldest send in flight */
    int count; /* sends in flight */
} hpool__send_ring;

/* The buffer for the next message: sends that completed leave the ring first; if every
 * slot is still in flight the ring doubles. NULL when out of memory. */
hpool__buf *hpool__send_ring_next(hpool__send_ring *r);
/* The buffer hpool__send_ring_next last returned, not posted yet (the ring must not be
 * asked for another in between). */
hpool__buf *hpool__send_ring_pending(hpool__send_ring *r);
/* Send that buffer from byte `from` to `dest` without waiting. 0 or HPOOL_EMPI. */
int hpool__send_ring_post(hpool__send_ring *r, size_t from, int dest, int tag, MPI_Comm comm);
/* The receiver is gone: every send in flight is given up (MPI frees its request when it
 * is done); the buffer of each send not complete yet goes to keep(ctx, buffer), which
 * keeps it alive as long as MPI may read it, and the ring forgets it. */
void hpool__send_ring_abandon(hpool__send_ring *r, void (*keep)(void *ctx, hpool__buf *b),
                              void *ctx);
/* Wait for every send in flight, then free the ring and its buffers. */
void hpool__send_ring_free(hpool__send_ring *r);

#endif
