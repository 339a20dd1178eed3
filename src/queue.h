/* A FIFO queue of pointers with a way back to the front (queue.c): the submission queue
 * of futures (CPython's work-ID queue) and the queue of map chunks waiting to be sent
 * again after their worker was lost. A ring that grows; the caller locks.
 *
 * Nothing is ever dropped: a push or requeue that cannot get memory returns HPOOL_ENOMEM
 * and leaves the item with the caller, who must fail it. */
#ifndef HPOOL_QUEUE_H
#define HPOOL_QUEUE_H

#include <stddef.h>

typedef struct {
    void **items;
    size_t cap, head, len;
} hpool__queue;

/* Append at the back. 0 or HPOOL_ENOMEM. */
int hpool__queue_push(hpool__queue *q, void *item);
/* Put back at the front (the next pop returns it). 0 or HPOOL_ENOMEM. */
int hpool__queue_requeue(hpool__queue *q, void *item);
/* The front item, removed; NULL when empty. */
void *hpool__queue_pop(hpool__queue *q);
/* Item i from the front (i < len), left in place. */
void *hpool__queue_at(const hpool__queue *q, size_t i);
/* The front item, left in place; NULL when empty. */
void *hpool__queue_peek(const hpool__queue *q);
size_t hpool__queue_len(const hpool__queue *q);
void hpool__queue_free(hpool__queue *q);

#endif
