/* Internals shared by records.c (the run: open, partial files, close) and
 * records_final.c (the final pass of a complete run). */
#ifndef HPOOL_RECORDS_INT_H
#define HPOOL_RECORDS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "outfile.h"
#include "records.h"
#include "wire.h"

/* ---------------------------------------------------------------- partial layouts */
/* Both partial files: this 64-byte header, then fixed-size records, native byte order
 * (the files are read back on the machine that wrote them). docs/FORMATS.md has the
 * layouts as numpy dtypes. */
typedef struct {
    char magic[8];        /* "HPOOLCK1" (chunks) or "HPOOLSP1" (spans) */
    uint32_t header_size; /* 64 */
    uint32_t record_size; /* sizeof part_chunk / part_span */
    int32_t run;
    int32_t level;
    double t0;            /* rank 0's raw clock at run start */
    char pad[32];
} part_header;

typedef struct {
    uint64_t chunk, first_item;
    double t_submit, t_dispatch, t_result; /* seconds from run start, rank 0's clock */
    double t_recv, t_start, t_end;         /* the worker's raw clock */
    uint32_t items;
    int32_t status, worker, schedule;      /* schedule: hpool_schedule_kind, -1 submit */
} part_chunk;

typedef struct {
    uint64_t chunk, item;
    double t_start, t_end; /* the worker's raw clock */
    int32_t rank, thread;
    uint32_t inner, pad;
    char label[HPOOL__SPAN_LABEL]; /* as the task gave it, not NUL-terminated if full */
} part_span;

_Static_assert(sizeof(part_header) == 64, "partial header layout");
_Static_assert(sizeof(part_chunk) == 80, "chunk record layout (FORMATS.md)");
_Static_assert(sizeof(part_span) == 64, "span record layout (FORMATS.md)");

static const char MAGIC_CHUNKS[8] = {'H', 'P', 'O', 'O', 'L', 'C', 'K', '1'};
static const char MAGIC_SPANS[8] = {'H', 'P', 'O', 'O', 'L', 'S', 'P', '1'};

/* ---------------------------------------------------------------- the records */
enum { PART_CHUNKS, PART_SPANS, PART_CLOCK, N_PARTS };
static const char *const PART_NAME[N_PARTS] = {"chunks.partial", "spans.partial",
                                               "clock.tsv.partial"};

struct hpool__records {
    char *dir;
    int run;
    int level;
    char *label;
    double t0; /* executor creation, manager clock */
    out_file *chunks, *spans;
    double last_flush; /* manager clock */
    uint64_t max_events; /* trace.json's chunk + span events; UINT64_MAX: all */
};

/* ---------------------------------------------------------------- trace.json's share */
/* Which events trace.json keeps when a run has more than its cap (records_select.c).
 * Counted in a first pass over the partial records (same mapped times as the second):
 * the events that start in a head and a tail window of the run, every fault (up to half
 * the cap) and the stragglers (call items whose time per item, inner items whose time, is
 * at least 4x the median and among the longest cap/8 of their kind). Decisions compare
 * histogram bins, so the counts of the first pass are exact and the kept events never
 * exceed the cap. */
/* ~190 bytes an event: about 40 MB of JSON, which browser viewers open. */
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

/* clock.tsv at `path`: the partial one, or (`complete`, with the footer) the final one's
 * temporary name. Returns 0 or -1. */
int hpool__write_clock_file(const char *path, const hpool__rank_clock *clocks, int n,
                            double t0, bool complete);
/* The final files of a complete run; returns 0 when all are in place (records_final.c). */
int hpool__records_write_finals(const hpool__records *r, const hpool__rank_clock *clocks,
                                int nw);

#endif
