/* FSC: fixed size chunking (Kruskal & Weiss, 1985, "Allocating independent subtasks on
 * parallel processors", IEEE TSE 11(10)). With per-chunk overhead h and item-time
 * standard deviation sigma, the expected finish time of N items on P workers is smallest
 * for chunks of
 *     k = ( sqrt(2) N h / (sigma P sqrt(ln P)) )^(2/3)
 * items. h and sigma come from the caller (hpool_map_options: overhead_s, task_sd_s) or
 * are measured: until sigma is known FSC probes with chunksize-item chunks, then fixes k
 * for the rest of the map (h unknown counts as 0, which makes k the minimum). */
#include <math.h>

#include "schedule.h"

uint64_t hpool__schedule_fsc_chunk(uint64_t n, int p, double h, double sd)
{
    if (!(h > 0.0) || n == 0)
        return 1; /* no overhead: the smallest chunk balances best */
    if (p <= 1 || !(sd > 0.0))
        return hpool__ceil_div(n, (uint64_t)(p < 1 ? 1 : p)); /* nothing to balance */
    double k = pow(sqrt(2.0) * (double)n * h / (sd * p * sqrt(log((double)p))), 2.0 / 3.0);
    if (!(k < (double)n))
        return n;
    return k < 1.0 ? 1 : (uint64_t)ceil(k);
}

uint64_t hpool__schedule_fsc_next(hpool__schedule *s)
{
    if (s->fixed_chunk == 0) {
        double sd = hpool__schedule_item_sd(s);
        if (sd < 0.0)
            return s->chunksize; /* probing until the spread is known */
        uint64_t k = hpool__schedule_fsc_chunk(s->n, s->p, hpool__schedule_overhead(s), sd);
        s->fixed_chunk = hpool__max_u64(k, s->chunksize);
    }
    return s->fixed_chunk;
}
