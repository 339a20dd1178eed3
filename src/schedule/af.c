/* AF: adaptive factoring (Banicescu & Liu, 2000, "Analyzing the advantages of adaptive
 * factoring", HPC Symposium). From each worker's mean item time mu_i and the spread
 * sigma measured so far, worker i's next chunk of the R items left is
 *     K_i = (D + 2 T R - sqrt(D^2 + 4 D T R)) / (2 mu_i),
 *     D = sum_j sigma^2 / mu_j,   T = 1 / sum_j (1 / mu_j),
 * at most ceil(N/2P) (FAC2's first chunk: with no spread K_i would be the worker's whole
 * share). hpool measures chunk times, not item times, so sigma is pooled over workers
 * (hpool__schedule_item_sd); an unmeasured worker counts as the mean. Until the worker
 * and the spread are measured, chunks are chunksize items: AF probes before it trusts. */
#include <math.h>

#include "schedule.h"

uint64_t hpool__schedule_af_next(const hpool__schedule *s, uint64_t remaining, int worker)
{
    double sd = hpool__schedule_item_sd(s);
    if (!hpool__schedule_worker_valid(s, worker) || !(s->w[worker].rate > 0.0) || sd < 0.0)
        return s->chunksize;
    int measured = 0;
    double inv_sum = 0.0;
    for (int i = 0; i < s->p; i++) {
        if (s->w[i].rate > 0.0) {
            inv_sum += s->w[i].rate; /* 1/mu_i */
            measured++;
        }
    }
    double inv_mean = inv_sum / measured;
    inv_sum += (double)(s->p - measured) * inv_mean;
    double d = sd * sd * inv_sum; /* sum sigma^2 / mu_j with one sigma */
    double t = 1.0 / inv_sum;
    double r = (double)remaining;
    double k = (d + 2.0 * t * r - sqrt(d * (d + 4.0 * t * r))) * s->w[worker].rate / 2.0;
    uint64_t cap = hpool__ceil_div(s->n, 2 * (uint64_t)s->p);
    if (!(k < (double)cap))
        return hpool__max_u64(cap, s->chunksize);
    return hpool__max_u64((uint64_t)floor(k + 0.55), s->chunksize);
}
