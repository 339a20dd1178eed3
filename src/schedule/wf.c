/* WF: weighted factoring (Hummel, Schmidt, Uma & Wein, 1996, "Load-sharing in
 * heterogeneous systems via weighted factoring", SPAA). FAC2 batches, each batch of
 * P * ceil(R/2P) items split by fixed relative speeds known in advance (the caller's
 * weights, e.g. per host): worker i gets w_i / sum(w) of the batch. Equal weights are
 * FAC2. */
#include <math.h>

#include "schedule.h"

uint64_t hpool__schedule_wf_next(hpool__schedule *s, uint64_t remaining, int worker)
{
    hpool__schedule_factoring_batch(s, remaining);
    s->fac_left--;
    double sum = 0.0, mine = 1.0;
    for (int i = 0; s->w && i < s->p; i++) {
        double v = s->w[i].fixed_weight > 0.0 ? s->w[i].fixed_weight : 1.0;
        sum += v;
        if (i == worker)
            mine = v;
    }
    if (!(sum > 0.0))
        return s->fac_chunk;
    double size = round((double)s->p * (double)s->fac_chunk * mine / sum);
    if (!(size < (double)remaining))
        return remaining;
    return hpool__max_u64((uint64_t)size, s->chunksize);
}
