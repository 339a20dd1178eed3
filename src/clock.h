/* Worker-to-manager clock mapping (see clock.c and docs/FORMATS.md, clock.tsv).
 *
 * Every worker timestamp is read on the worker's own clock. At executor start and end the
 * manager ping-pongs each worker (one per host, clocksync.h) HPOOL__CLOCK_ROUNDS times
 * (fewer on a loaded node, see below) and keeps the round with the smallest round trip: the worker read its clock somewhere inside that round trip, so
 * taking the middle bounds the error of the offset by rtt/2. Between the two measurements
 * the offset is interpolated linearly (clock drift); the error of a mapped time is then at
 * most max(rtt_start, rtt_end)/2, plus whatever part of the drift is not linear. */
#ifndef HPOOL_CLOCK_H
#define HPOOL_CLOCK_H

#include <stdbool.h>

/* Ping-pong rounds per sync: up to 16, which find a quick round trip on an idle node;
 * but once 4 are done, no new round starts after 20 ms of rounds with that worker. A node
 * so loaded that 16 round trips take longer (each waits for the scheduler) would spend
 * tens to hundreds of ms of start-up on them, for a bound that is rtt/2 either way. */
#define HPOOL__CLOCK_ROUNDS 16
#define HPOOL__CLOCK_MIN_ROUNDS 4
#define HPOOL__CLOCK_BUDGET_S 20e-3

double hpool__now(void);          /* monotonic seconds, this process */
double hpool__thread_cpu(void);   /* CPU seconds of the calling thread */
double hpool__worker_clock(void); /* worker's clock as reported to rank 0 (test skew hook) */
/* Absolute deadline for a timeout: 0 = now (do not wait), HPOOL_FOREVER (any negative
 * value, or NaN) = no limit, returned as +inf. */
double hpool__deadline(double timeout_s);

/* The best (smallest round trip) ping-pong of one synchronisation. */
typedef struct {
    double offset; /* manager clock - worker clock: worker time + offset = manager time */
    double rtt;    /* its round trip; the offset error is at most rtt/2 */
    double at;     /* manager time of the measurement (middle of the round trip) */
} hpool__clock_sample;

/* Offsets measured at executor start and end; times between are corrected linearly. */
typedef struct {
    hpool__clock_sample start, end;
    bool have_start, have_end;
} hpool__clock_map;

void hpool__clock_sample_reset(hpool__clock_sample *s);
/* One round: manager time just before the ping left, the worker's reading, manager time
 * the pong arrived. Kept if its round trip is the smallest so far. */
void hpool__clock_sample_add(hpool__clock_sample *s, double t_send, double t_worker,
                             double t_recv);
/* d(offset)/d(manager time) between the start and end samples; 0 without both, or when
 * the samples cannot give a usable slope (no time between them, |slope| > 10%). */
double hpool__clock_map_drift(const hpool__clock_map *m);
/* Worker timestamp → manager clock (the identity without a start sample). Strictly
 * increasing in t_worker, so the order of one worker's events is kept exactly. */
double hpool__clock_map_apply(const hpool__clock_map *m, double t_worker);

#endif
