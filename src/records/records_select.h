/* Which events a bounded trace.json keeps (records_select.c); used by the final pass
 * (records_final.c). */
#ifndef HPOOL_RECORDS_SELECT_H
#define HPOOL_RECORDS_SELECT_H

#include <stdbool.h>
#include <stdint.h>

/* Which events trace.json keeps when a run has more than its cap (records_select.c).
 * Counted in a first pass over the partial records (same mapped times as the second):
 * the events that start in a head and a tail window of the run, every fault (up to half
 * the cap) and the stragglers (call items whose time per item, inner items whose time, is
 * at least 4x the median and among the longest cap/8 of their kind). Decisions compare
 * histogram bins, so the counts of the first pass are exact and the kept events never
 * exceed the cap. */
/* ~175 bytes a call item event: about 35 MB of JSON, which browser viewers open. */
#define HPOOL__TRACE_MAX_EVENTS_DEFAULT 200000

typedef struct hpool__trace_select hpool__trace_select;

enum { SEL_CHUNK, SEL_SPAN, SEL_KINDS };

/* NULL when out of memory. `t_max`: an upper bound of event start times (s from run
 * start); later times are counted in the last bin. */
hpool__trace_select *hpool__trace_select_new(uint64_t max_events, double t_max);
void hpool__trace_select_free(hpool__trace_select *s);
/* First pass: one call per event (dur_per_item: the duration, divided by items). */
void hpool__trace_select_count(hpool__trace_select *s, int kind, double t_start,
                               double dur_per_item, bool fault);
/* Between the passes: settles the windows and thresholds. */
void hpool__trace_select_plan(hpool__trace_select *s);
/* Second pass: whether to write this event (same arguments as counted). */
bool hpool__trace_select_keep(hpool__trace_select *s, int kind, double t_start,
                              double dur_per_item, bool fault);
typedef struct {
    uint64_t total[SEL_KINDS], kept[SEL_KINDS];
    uint64_t faults_kept, stragglers_kept;
    double head_until, tail_from; /* s from run start; the windows kept whole */
    double straggler_s[SEL_KINDS]; /* per item (chunks) or per span; INFINITY: none */
} hpool__trace_select_summary;
void hpool__trace_select_summary_get(const hpool__trace_select *s,
                                     hpool__trace_select_summary *out);

#endif
