/* Worker-to-manager clock mapping (see clock.c). */
#ifndef HPOOL_CLOCK_H
#define HPOOL_CLOCK_H

#include <stdbool.h>

#define HPOOL__CLOCK_ROUNDS 16

/* The best (smallest round trip) ping-pong of one synchronisation. */
typedef struct {
    double offset; /* manager clock - worker clock */
    double rtt;    /* its round trip; the offset error is at most rtt/2 */
    double at;     /* manager time of the measurement */
} hpool__clock_sample;

/* Offsets measured at executor start and end; times between are corrected linearly. */
typedef struct {
    hpool__clock_sample start, end;
    bool have_start, have_end;
} hpool__clock_map;

void hpool__clock_sample_reset(hpool__clock_sample *s);
void hpool__clock_sample_add(hpool__clock_sample *s, double t_send, double t_worker,
                             double t_recv);
/* Worker timestamp → manager clock. */
double hpool__clock_map_apply(const hpool__clock_map *m, double t_worker);

#endif
