/* SS: self-scheduling (Tang & Yew, 1986). One item per chunk: the finest balance and the
 * most scheduling overhead, one round trip per item. hpool's chunksize is the minimum of
 * dynamic kinds, so SS hands out chunksize items (1 by default). */
#include "schedule.h"

uint64_t hpool__schedule_ss_next(const hpool__schedule *s)
{
    return s->chunksize;
}
