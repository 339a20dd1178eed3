/* AWF-B: adaptive weighted factoring, batch variant (Cariño & Banicescu, 2008, "Dynamic
 * load balancing with adaptive factoring methods in scientific applications", J.
 * Supercomputing 44). FAC2 batches of P * ceil(R/2P) items; the weights
 *     w_i = P * (1/mu_i) / sum_j (1/mu_j)     (mu: a worker's mean time per item)
 * are recomputed from all chunks measured so far when a batch opens and kept for the
 * batch; worker i's chunk is w_i * ceil(R/2P). AWF-D (awf_d.c) is the same with the
 * scheduling overhead counted in mu. */
#include <math.h>

#include "schedule.h"

uint64_t hpool__schedule_awf_batched_next(hpool__schedule *s, uint64_t remaining, int worker,
                                          bool with_overhead)
{
    if (hpool__schedule_factoring_batch(s, remaining)) {
        for (int i = 0; s->w && i < s->p; i++)
            s->w[i].batch_weight = hpool__schedule_rate_share(s, i, with_overhead);
    }
    s->fac_left--;
    double share = hpool__schedule_worker_valid(s, worker) && s->w[worker].batch_weight > 0
                       ? s->w[worker].batch_weight
                       : 1.0 / s->p;
    double size = round((double)s->p * (double)s->fac_chunk * share);
    if (!(size < (double)remaining))
        return remaining;
    return hpool__max_u64((uint64_t)size, s->chunksize);
}
