/* Deadlines of the manager, in binary min-heaps (manager thread): what is due first is at
 * the top, so a pass looks at one entry, not at every worker. Entries are not removed
 * when they go stale (a worker's head item changed, the worker was lost): each carries
 * the worker's head sequence number at push time and the reader drops those that no
 * longer match. */
#include <stdlib.h>

#include "mgr.h"

static void swap(hpool__timer *a, hpool__timer *b)
{
    hpool__timer t = *a;
    *a = *b;
    *b = t;
}

static void sift_down(hpool__timers *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && h->e[l].at < h->e[m].at)
            m = l;
        if (r < h->n && h->e[r].at < h->e[m].at)
            m = r;
        if (m == i)
            return;
        swap(&h->e[m], &h->e[i]);
        i = m;
    }
}

int hpool__timers_push(hpool__timers *h, double at, int worker, uint64_t seq)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 64;
        hpool__timer *e = realloc(h->e, cap * sizeof *e);
        if (e == NULL)
            return HPOOL_ENOMEM;
        h->e = e;
        h->cap = cap;
    }
    size_t i = h->n++;
    h->e[i] = (hpool__timer){at, worker, seq};
    while (i > 0 && h->e[(i - 1) / 2].at > h->e[i].at) {
        swap(&h->e[(i - 1) / 2], &h->e[i]);
        i = (i - 1) / 2;
    }
    return 0;
}

const hpool__timer *hpool__timers_top(const hpool__timers *h)
{
    return h->n ? &h->e[0] : NULL;
}

void hpool__timers_pop(hpool__timers *h)
{
    if (h->n == 0)
        return;
    h->e[0] = h->e[--h->n];
    sift_down(h, 0);
}

void hpool__timers_compact(hpool__timers *h, bool (*valid)(const void *ctx, const hpool__timer *t),
                           const void *ctx)
{
    size_t k = 0;
    for (size_t i = 0; i < h->n; i++)
        if (valid(ctx, &h->e[i]))
            h->e[k++] = h->e[i];
    h->n = k;
    for (size_t i = k / 2; i-- > 0;)
        sift_down(h, i);
}

void hpool__timers_free(hpool__timers *h)
{
    free(h->e);
    h->e = NULL;
    h->n = h->cap = 0;
}
