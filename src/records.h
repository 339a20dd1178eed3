/* Timing records of one executor run (see docs/FORMATS.md): one per call item, one per
 * inner item, and the clock map of every worker. The manager thread is the only user.
 *
 * Records stream to binary `*.partial` files as they arrive (a struct copy on the
 * manager's critical path), with the clocks as read: manager times relative to the
 * executor's creation, worker times raw on the worker's clock. A job that dies keeps
 * what it had, and memory stays flat however long the run. Closing a complete run
 * re-reads them, maps worker times onto rank 0's clock, writes the text files and
 * renames them into place. */
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

/* One worker's clock map, by MPI rank: an executor's workers need not be ranks 1..n
 * (ranks lost to an earlier executor are skipped). */
typedef struct {
    int rank;
    hpool__clock_map map;
} hpool__rank_clock;

/* NULL when the executor records nothing (no record_dir or level none), or on failure to
 * create the directory or the partial files, with *err = HPOOL_EIO. */
hpool__records *hpool__records_open(const struct hpool_executor *ex, int *err);
void hpool__records_chunk(hpool__records *r, const hpool__chunk_record *c);
void hpool__records_spans(hpool__records *r, int rank, uint64_t chunk,
                          const hpool__wire_span *spans, uint32_t n);
/* Writes clock.tsv.partial: called after each synchronisation, so that the partial rows
 * of a run that dies can still be put on rank 0's clock. */
void hpool__records_clocks(hpool__records *r, const hpool__rank_clock *clocks, int n);
/* Closes the partial files. If `complete` (the run ended normally), writes chunks.tsv,
 * spans.tsv (level spans), trace.json and clock.tsv with every worker's clock map applied,
 * each to a temporary name first, renames them into place and removes the partial
 * files. Otherwise the partial files stay as they are and no final file is touched.
 * Frees r. \return 0 or HPOOL_EIO (the earlier final files, if any, are then intact). */
int hpool__records_close(hpool__records *r, const hpool__rank_clock *clocks, int n,
                         bool complete);

#endif
