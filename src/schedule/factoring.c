/* FACTORING: FAC2 (Hummel, Schonberg & Flynn, 1992). Work is handed out in batches of P
 * equal chunks; each batch gets half of the R items left at its start, i.e. chunks of
 * ceil(R/2P). Half is the paper's safe factor when the variance of item times is
 * unknown. */
#include "schedule.h"

bool hpool__schedule_factoring_batch(hpool__schedule *s, uint64_t remaining)
{
    if (s->fac_left > 0)
        return false;
    s->fac_chunk =
        hpool__max_u64(hpool__ceil_div(remaining, 2 * (uint64_t)s->p), s->chunksize);
    s->fac_left = s->p;
    return true;
}

uint64_t hpool__schedule_factoring_next(hpool__schedule *s, uint64_t remaining)
{
    hpool__schedule_factoring_batch(s, remaining);
    s->fac_left--;
    return s->fac_chunk;
}
