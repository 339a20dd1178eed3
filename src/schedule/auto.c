/* AUTO: FAC2 until every worker has reported a rate, then one decision: AWF when the
 * workers differ by more than 20% (max/min > 1.2), since only then does weighting pay for
 * its noise; FAC2 otherwise. The decision is final so that the schedule reported for the
 * map (hpool_map_schedule_used) does not flip back and forth. */
#include "schedule.h"

#define AUTO_IMBALANCE 1.2

void hpool__schedule_auto_decide(hpool__schedule *s)
{
    int slots = hpool__schedule_rate_slots(s);
    double lo = 0.0, hi = 0.0;
    for (int w = 0; w < slots; w++) {
        if (!(s->rate[w] > 0.0))
            return; /* someone not measured yet: keep FAC2 for now */
        if (w == 0 || s->rate[w] < lo)
            lo = s->rate[w];
        if (w == 0 || s->rate[w] > hi)
            hi = s->rate[w];
    }
    s->resolved = hi > AUTO_IMBALANCE * lo ? HPOOL_SCHED_AWF : HPOOL_SCHED_FACTORING;
    s->decided = true;
}
