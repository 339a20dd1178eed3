/* AWF-C: adaptive weighted factoring, chunk variant (Cariño & Banicescu, 2008). No
 * batches: every chunk is w_i * ceil(R/2P) of the R items left, with the weight
 *     w_i = P * (1/mu_i) / sum_j (1/mu_j)
 * recomputed from everything measured up to that chunk. AWF-E (awf_e.c) is the same
 * with the scheduling overhead counted in mu. */
#include <math.h>

#include "schedule.h"

uint64_t hpool__schedule_awf_chunked_next(const hpool__schedule *s, uint64_t remaining,
                                          int worker, bool with_overhead)
{
    uint64_t base = hpool__ceil_div(remaining, 2 * (uint64_t)s->p);
    double size =
        round((double)s->p * (double)base * hpool__schedule_rate_share(s, worker, with_overhead));
    if (!(size < (double)remaining))
        return remaining;
    return hpool__max_u64((uint64_t)size, s->chunksize);
}
