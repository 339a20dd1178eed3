/* TRAPEZOID: trapezoid self-scheduling (Tzen & Ni, 1993). Chunk sizes fall linearly from
 * f = ceil(N/2P) to l = chunksize over C = ceil(2N/(f+l)) chunks, with decrement
 * d = (f-l)/(C-1). The linear fall, against GSS's geometric one, avoids GSS's long tail
 * of tiny chunks: fewer scheduling steps for a similar balance at the end. */
#include "schedule.h"

void hpool__schedule_trapezoid_start(hpool__schedule *s)
{
    uint64_t n = s->n;
    /* A chunk never exceeds N, and no chunk is below l: if l > ceil(N/2P) every chunk is
     * l (d = 0). N < 2^63 keeps 2N in range. */
    uint64_t last = hpool__min_u64(s->chunksize, n);
    uint64_t first = hpool__max_u64(hpool__ceil_div(n, 2 * (uint64_t)s->p), last);
    s->tss_first = first;
    s->tss_last = last;
    s->tss_chunks = hpool__ceil_div(2 * n, first + last);
    s->tss_step = 0;
}

/* Chunk k is ceil(f - k d) = f - floor(k (f-l) / (C-1)), in integers so that no rounding
 * drift creeps in. Rounding up makes the C chunks cover at least C (f+l)/2 >= N items, so
 * the plan ends within C chunks; k (f-l) < 2N, so the product does not overflow. */
uint64_t hpool__schedule_trapezoid_next(hpool__schedule *s)
{
    uint64_t k = s->tss_step++;
    if (s->tss_chunks < 2 || k >= s->tss_chunks - 1)
        return s->tss_chunks < 2 && k == 0 ? s->tss_first : s->tss_last;
    uint64_t drop = k * (s->tss_first - s->tss_last) / (s->tss_chunks - 1);
    return hpool__max_u64(s->tss_first - drop, s->tss_last);
}
