/* Timing records of one executor run (see docs/FORMATS.md): one per call item, one per
 * inner item. The manager thread is the only user. Times arrive raw (manager clock for
 * manager events, worker clock for worker events) and are mapped onto rank 0's clock,
 * relative to the executor's creation, when written. */
#ifndef HPOOL_RECORDS_H
#define HPOOL_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "wire.h"

struct hpool_executor;

typedef struct {
    uint64_t chunk;
    int schedule; /* hpool_schedule_kind, or -1 for submitted futures */
    int worker;   /* MPI rank */
    uint64_t first_item;
    uint32_t items;
    int32_t status;
    double t_submit, t_dispatch, t_result; /* manager clock */
    double t_recv, t_start, t_end;         /* worker clock */
} hpool__chunk_record;

typedef struct hpool__records hpool__records;

/* NULL when the executor records nothing (no record_dir or level none); sets *err on
 * failure to create the files. */
hpool__records *hpool__records_open(const struct hpool_executor *ex, int *err);
void hpool__records_chunk(hpool__records *r, const hpool__chunk_record *c);
void hpool__records_spans(hpool__records *r, int rank, uint64_t chunk,
                          const hpool__wire_span *spans, uint32_t n);
/* Writes the final files with every worker's clock map applied (clocks[rank-1]) and
 * renames them into place; `complete` says whether the run ended normally. */
int hpool__records_close(hpool__records *r, const hpool__clock_map *clocks, int n_workers,
                         bool complete);

#endif
