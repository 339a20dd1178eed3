/* A growing ring of pointers; see queue.h. */
#include <stdlib.h>

#include "hpool.h"
#include "queue.h"

/* The ring is never full after this returns 0. */
static int room(hpool__queue *q)
{
    if (q->len < q->cap)
        return 0;
    size_t cap = q->cap ? 2 * q->cap : 64;
    void **items = malloc(cap * sizeof *items);
    if (items == NULL)
        return HPOOL_ENOMEM;
    for (size_t i = 0; i < q->len; i++)
        items[i] = q->items[(q->head + i) % q->cap];
    free(q->items);
    q->items = items;
    q->cap = cap;
    q->head = 0;
    return 0;
}

int hpool__queue_push(hpool__queue *q, void *item)
{
    int rc = room(q);
    if (rc != 0)
        return rc;
    q->items[(q->head + q->len) % q->cap] = item;
    q->len++;
    return 0;
}

int hpool__queue_requeue(hpool__queue *q, void *item)
{
    int rc = room(q);
    if (rc != 0)
        return rc;
    q->head = (q->head + q->cap - 1) % q->cap;
    q->items[q->head] = item;
    q->len++;
    return 0;
}

void *hpool__queue_pop(hpool__queue *q)
{
    if (q->len == 0)
        return NULL;
    void *item = q->items[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
    return item;
}

void *hpool__queue_at(const hpool__queue *q, size_t i)
{
    return q->items[(q->head + i) % q->cap];
}

void *hpool__queue_peek(const hpool__queue *q)
{
    return q->len ? q->items[q->head] : NULL;
}

size_t hpool__queue_len(const hpool__queue *q)
{
    return q->len;
}

void hpool__queue_free(hpool__queue *q)
{
    free(q->items);
    q->items = NULL;
    q->cap = q->head = q->len = 0;
}
