/* STATIC: ceil(N/P) per chunk, so the map is P chunks at most (OpenMP's schedule(static)
 * without a chunk size). Overhead is minimal; nothing balances an uneven load. */
#include "schedule.h"

uint64_t hpool__schedule_static_next(const hpool__schedule *s)
{
    return hpool__ceil_div(s->n, (uint64_t)s->p);
}
