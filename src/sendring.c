/* A ring of sends in flight; see sendring.h. */
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "sendring.h"

/* Double the ring, keeping the sends in flight in order and every buffer. */
static int grow(hpool__send_ring *r)
{
    int cap = r->cap ? 2 * r->cap : 4;
    hpool__send *v = calloc((size_t)cap, sizeof *v);
    if (v == NULL)
        return HPOOL_ENOMEM;
    for (int i = 0; i < r->cap; i++)
        v[i] = r->slot[(r->head + i) % r->cap];
    for (int i = r->cap; i < cap; i++)
        v[i].req = MPI_REQUEST_NULL;
    free(r->slot);
    r->slot = v;
    r->head = 0;
    r->cap = cap;
    return 0;
}

hpool__buf *hpool__send_ring_next(hpool__send_ring *r)
{
    while (r->count > 0) {
        int done = 0;
        MPI_Test(&r->slot[r->head].req, &done, MPI_STATUS_IGNORE);
        if (!done)
            break;
        r->head = (r->head + 1) % r->cap;
        r->count--;
    }
    if (r->count == r->cap && grow(r) != 0)
        return NULL;
    return hpool__send_ring_pending(r);
}

hpool__buf *hpool__send_ring_pending(hpool__send_ring *r)
{
    return &r->slot[(r->head + r->count) % r->cap].buf;
}

int hpool__send_ring_post(hpool__send_ring *r, size_t from, int dest, int tag, MPI_Comm comm)
{
    hpool__send *t = &r->slot[(r->head + r->count) % r->cap];
    if (MPI_Isend(t->buf.data + from, (int)(t->buf.len - from), MPI_BYTE, dest, tag, comm,
                  &t->req) != MPI_SUCCESS)
        return HPOOL_EMPI;
    r->count++;
    return 0;
}

void hpool__send_ring_abandon(hpool__send_ring *r, void (*keep)(void *ctx, hpool__buf *b),
                              void *ctx)
{
    for (; r->count > 0; r->count--, r->head = (r->head + 1) % r->cap) {
        hpool__send *t = &r->slot[r->head];
        int done = 0;
        MPI_Test(&t->req, &done, MPI_STATUS_IGNORE);
        if (done)
            continue;
        MPI_Request_free(&t->req);
        keep(ctx, &t->buf);
        memset(&t->buf, 0, sizeof t->buf);
    }
}

void hpool__send_ring_free(hpool__send_ring *r)
{
    for (int k = 0; k < r->cap; k++) {
        MPI_Wait(&r->slot[k].req, MPI_STATUS_IGNORE);
        hpool__buf_free(&r->slot[k].buf);
    }
    free(r->slot);
    memset(r, 0, sizeof *r);
}
