/* AWF: adaptive weighted factoring (Banicescu, Velusamy & Devaprasad, 2003, "On the
 * scalability of dynamic scheduling scientific applications with adaptive weighted
 * factoring", Cluster Computing 6). FAC2 batches, but a batch's P * ceil(R/2P) items are
 * split in proportion to the workers' measured rates, so a worker twice as fast gets a
 * chunk twice as large and all finish together. The paper updates the weights between
 * time steps of an application; one map is one loop, so hpool's AWF takes each worker's
 * rate over all its chunks so far at every chunk. An unmeasured worker counts as the mean
 * measured rate (a neutral guess that neither starves nor floods it). */
#include <math.h>

#include "schedule.h"

uint64_t hpool__schedule_awf_next(hpool__schedule *s, uint64_t remaining, int worker)
{
    hpool__schedule_factoring_batch(s, remaining);
    s->fac_left--;
    double batch = (double)s->p * (double)s->fac_chunk;
    /* Nearest, not up: with equal rates P*chunk/P must give FAC2's chunk exactly. */
    double size = round(batch * hpool__schedule_rate_share(s, worker, false));
    if (!(size < (double)remaining)) /* also catches NaN */
        return remaining;
    return hpool__max_u64((uint64_t)size, s->chunksize);
}
