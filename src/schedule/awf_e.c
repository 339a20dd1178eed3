/* AWF-E: AWF-C (awf_c.c) whose per-worker mean time mu includes each chunk's scheduling
 * overhead (Cariño & Banicescu, 2008). Without overhead reports it is AWF-C. */
#include "schedule.h"

uint64_t hpool__schedule_awf_e_next(const hpool__schedule *s, uint64_t remaining, int worker)
{
    return hpool__schedule_awf_chunked_next(s, remaining, worker, true);
}
