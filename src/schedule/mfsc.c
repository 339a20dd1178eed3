/* mFSC: modified fixed size chunking (Banicescu, Carino et al.; the DLS4LB library's
 * formula). FSC needs h and sigma in advance; mFSC needs neither: it takes the number of
 * chunks FAC2 would produce, about P log2(N/P), and makes them all the same size,
 *     k = floor(0.55 + M ln 2 / ln M),  M = ceil(N/P),
 * i.e. M / log2 M rounded (0.55 rather than 0.5 breaks ties upwards). */
#include <math.h>

#include "schedule.h"

uint64_t hpool__schedule_mfsc_next(hpool__schedule *s)
{
    if (s->fixed_chunk == 0) {
        uint64_t m = hpool__ceil_div(s->n, (uint64_t)s->p);
        uint64_t k = m;
        if (m > 2)
            k = (uint64_t)floor(0.55 + (double)m * log(2.0) / log((double)m));
        s->fixed_chunk = hpool__max_u64(k, s->chunksize);
    }
    return s->fixed_chunk;
}
