/* AWF: adaptive weighted factoring (Banicescu, Velusamy & Devaprasad, 2003). FAC2 batches,
 * but a batch's P * ceil(R/2P) items are split in proportion to the workers' measured
 * rates, so a worker twice as fast gets a chunk twice as large and all finish together. */
#include <math.h>

#include "schedule.h"

/* Sum of the measured rates and how many workers have one. */
static double measured_rates(const hpool__schedule *s, int *count)
{
    double sum = 0.0;
    *count = 0;
    for (int w = 0; w < hpool__schedule_rate_slots(s); w++) {
        if (s->rate[w] > 0.0) {
            sum += s->rate[w];
            (*count)++;
        }
    }
    return sum;
}

/* worker's share of the batch: rate[w] / sum of rates, an unmeasured worker counting as
 * the mean measured rate (a neutral guess that neither starves nor floods it). */
static double worker_share(const hpool__schedule *s, int worker)
{
    int count;
    double sum = measured_rates(s, &count);
    if (count == 0)
        return 1.0 / s->p; /* no rates yet: equal weights, i.e. plain FAC2 */
    double mean = sum / count;
    double total = sum + (double)(s->p - count) * mean;
    bool measured = worker >= 0 && worker < hpool__schedule_rate_slots(s) &&
                    s->rate[worker] > 0.0;
    return (measured ? s->rate[worker] : mean) / total;
}

uint64_t hpool__schedule_awf_next(hpool__schedule *s, uint64_t remaining, int worker)
{
    hpool__schedule_factoring_batch(s, remaining);
    s->fac_left--;
    double batch = (double)s->p * (double)s->fac_chunk;
    /* Nearest, not up: with equal rates P*chunk/P must give FAC2's chunk exactly. */
    double size = round(batch * worker_share(s, worker));
    if (!(size < (double)remaining)) /* also catches NaN */
        return remaining;
    return hpool__max_u64((uint64_t)size, s->chunksize);
}
