/* Internals shared by records.c (the run: open, partial files, close) and
 * records_final.c (the final pass of a complete run). */
#ifndef HPOOL_RECORDS_INT_H
#define HPOOL_RECORDS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "chunk_code.h"
#include "outfile.h"
#include "records.h"
#include "wire.h"

/* ---------------------------------------------------------------- partial layouts */
/* Both partial files: this 64-byte header, then records, native byte order (the files
 * are read back on the machine that wrote them). chunks.partial holds compact records of
 * varying size (chunk_code.h; record_size 0), spans.partial fixed-size ones.
 * docs/FORMATS.md has the layouts, as a decoder and a numpy dtype. */
typedef struct {
    char magic[8];        /* "HPOOLCK2" (chunks) or "HPOOLSP1" (spans) */
    uint32_t header_size; /* 64 */
    uint32_t record_size; /* 0: compact records (chunks); sizeof part_span (spans) */
    int32_t run;
    int32_t level;
    double t0;            /* rank 0's raw clock at run start */
    char pad[32];
} part_header;

typedef struct {
    uint64_t chunk, item;
    double t_start, t_end; /* the worker's raw clock */
    int32_t rank, thread;
    uint32_t inner, pad;
    char label[HPOOL__SPAN_LABEL]; /* as the task gave it, not NUL-terminated if full */
} part_span;

_Static_assert(sizeof(part_header) == 64, "partial header layout");
_Static_assert(sizeof(part_span) == 64, "span record layout (FORMATS.md)");

static const char MAGIC_CHUNKS[8] = {'H', 'P', 'O', 'O', 'L', 'C', 'K', '2'};
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
    hpool__chunk_code chunk_code; /* the encoder's previous record (chunks.partial) */
    uint64_t n_chunks, n_spans;   /* records written to the partial files */
    uint64_t chunk_bytes;         /* chunks.partial's records, in bytes (record_overhead) */
    double last_flush; /* manager clock */
    uint64_t max_events; /* trace.json's chunk + span events; UINT64_MAX: all */
};

/* clock.tsv at `path`: the partial one, or (`complete`, with the footer) the final one's
 * temporary name. Returns 0 or -1. */
int hpool__write_clock_file(const char *path, const hpool__rank_clock *clocks, int n,
                            double t0, bool complete);
/* The final files of a complete run; returns 0 when all are in place (records_final.c). */
int hpool__records_write_finals(const hpool__records *r, const hpool__rank_clock *clocks,
                                int nw);

#endif
