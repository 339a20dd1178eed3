/* Clocks: this process's monotonic time, thread CPU time, and the mapping of worker
 * timestamps onto rank 0's clock (ping-pong offset estimation with linear drift).
 *
 * Why not MPI_Wtime alone: MPI_WTIME_IS_GLOBAL is false on most clusters, and even on one
 * node a timeline is only trustworthy once each worker's offset has been measured. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "hpool.h" /* HPOOL_HOST_MAX */
#include "proc.h"

double hpool__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double hpool__thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Test-only hook: HPOOL_TEST_CLOCK_SKEW="WHO:OFFSET_S:DRIFT[,WHO:OFFSET_S:DRIFT...]" makes
 * a worker report now*(1+DRIFT)+OFFSET_S, so a test can check that the manager recovers
 * the offset and keeps the timeline causal. WHO is a rank, or @HOSTNAME for every worker
 * rank on that host (a host whose clock differs from rank 0's, as on a real cluster); a
 * rank's own entry wins over its host's. `now` is the absolute CLOCK_MONOTONIC reading
 * (seconds since boot), the same on every rank of one machine: the true manager - worker
 * offset at manager time t is therefore exactly -(OFFSET_S + DRIFT*t), which a test on
 * rank 0 can compute from its own clock (tests/mpi/test_clock.c). Drift is deliberately
 * not relative to some per-process start, which no other rank could know. Parsed once;
 * malformed entries are ignored. */
static struct {
    bool parsed, active;
    double offset, drift;
} skew;

static void parse_skew(void)
{
    skew.parsed = true;
    const char *s = getenv("HPOOL_TEST_CLOCK_SKEW");
    if (s == NULL || hpool__proc_rank() == 0)
        return;
    char host[HPOOL_HOST_MAX] = "";
    gethostname(host, sizeof host - 1);
    bool by_rank = false;
    while (*s) {
        size_t len = strcspn(s, ",");
        char entry[256];
        snprintf(entry, sizeof entry, "%.*s", (int)(len < 255 ? len : 255), s);
        s += len + (s[len] == ',');
        char *colon = strchr(entry, ':');
        double off, drift;
        if (colon == NULL || sscanf(colon + 1, "%lf:%lf", &off, &drift) != 2)
            continue;
        *colon = '\0';
        bool rank_entry = entry[0] != '@';
        bool match = rank_entry ? atoi(entry) == hpool__proc_rank() && entry[0] != '\0'
                                : strcmp(entry + 1, host) == 0;
        if (!match || (by_rank && !rank_entry))
            continue;
        skew.active = true;
        skew.offset = off;
        skew.drift = drift;
        by_rank = by_rank || rank_entry;
    }
}

double hpool__worker_clock(void)
{
    if (!skew.parsed)
        parse_skew();
    double t = hpool__now();
    return skew.active ? t * (1.0 + skew.drift) + skew.offset : t;
}

double hpool__deadline(double timeout_s)
{
    if (timeout_s < 0 || isnan(timeout_s))
        return INFINITY;
    return hpool__now() + timeout_s;
}

void hpool__clock_sample_reset(hpool__clock_sample *s)
{
    s->offset = 0;
    s->rtt = INFINITY;
    s->at = 0;
}

void hpool__clock_sample_add(hpool__clock_sample *s, double t_send, double t_worker,
                             double t_recv)
{
    double rtt = t_recv - t_send;
    if (!(rtt >= 0) || rtt >= s->rtt) /* also refuses NaN readings */
        return;
    /* The worker read its clock somewhere in the round trip; the middle minimises the
     * worst-case error to rtt/2, and the smallest round trip gives the tightest bound. */
    s->rtt = rtt;
    s->at = t_send + rtt / 2;
    s->offset = s->at - t_worker;
}

double hpool__clock_map_drift(const hpool__clock_map *m)
{
    if (!m->have_start || !m->have_end)
        return 0;
    double span = m->end.at - m->start.at;
    if (!(span > 0))
        return 0;
    double slope = (m->end.offset - m->start.offset) / span;
    /* Every event mapped lies between the two samples (work is dispatched after the
     * start sync, and its results are in before the end sync), so the map interpolates:
     * its error stays within the two samples' errors whatever the slope, even a slope
     * that is mostly measurement error because the samples are close together. Real
     * drift is parts per million; only a slope so large that the map would come near to
     * running backwards (1 - slope -> 0) is refused, for the start offset alone. */
    return isfinite(slope) && fabs(slope) <= 0.1 ? slope : 0;
}

double hpool__clock_map_apply(const hpool__clock_map *m, double t_worker)
{
    if (!m->have_start)
        return t_worker;
    /* The offset is linear in manager time t: off(t) = off_s + slope*(t - at_s), and the
     * manager time of the event solves t = t_worker + off(t). Solved exactly, not at the
     * start-corrected time (that would leave an error of slope^2 * (t - at_s)). u is the
     * start-corrected time since the start sample, a small number, so that the absolute
     * clock values (~1e5 s since boot) cancel before anything is multiplied. */
    double slope = hpool__clock_map_drift(m);
    double u = (t_worker + m->start.offset) - m->start.at;
    return m->start.at + u / (1.0 - slope);
}
