/* GUIDED: guided self-scheduling (Polychronopoulos & Kuck, 1987). Each chunk is ceil(R/P)
 * of the R items left, so chunks shrink geometrically and the last ones are small enough
 * to even out the finish times; chunksize is the floor that bounds the chunk count. */
#include "schedule.h"

uint64_t hpool__schedule_guided_next(const hpool__schedule *s, uint64_t remaining)
{
    return hpool__max_u64(hpool__ceil_div(remaining, (uint64_t)s->p), s->chunksize);
}
