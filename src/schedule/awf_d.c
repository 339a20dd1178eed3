/* AWF-D: AWF-B (awf_b.c) whose per-worker mean time mu includes each chunk's scheduling
 * overhead (round trip minus task time), so a worker behind a slow link also gets less
 * (Cariño & Banicescu, 2008). Without overhead reports it is AWF-B. */
#include "schedule.h"

uint64_t hpool__schedule_awf_d_next(hpool__schedule *s, uint64_t remaining, int worker)
{
    return hpool__schedule_awf_batched_next(s, remaining, worker, true);
}
