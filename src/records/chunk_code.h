/* The compact form of a chunk record in chunks.partial (docs/FORMATS.md, "Partial
 * files"): each field a varint (LEB128), signed ones zigzag-coded, most of them the
 * difference from the same field of the record before, times in integer nanoseconds.
 * A call item of a map at chunksize 1 on one node takes about 14-20 bytes instead of the
 * 80 of the fixed layout it replaced: on a small node the bytes a run writes per call
 * item came out of its wall time (the kernel's work per byte written, on a core the pool
 * needs; measured, not profiled: perf of this guest does not see it), and with a fifth of
 * the bytes a recorded run of empty tasks went from 1.5x to about 1.2x the unrecorded.
 *
 * One coder per file: the encoder (records.c, on the manager's path) and the decoder
 * (records_final.c, the final pass) keep the same previous-record state. */
#ifndef HPOOL_CHUNK_CODE_H
#define HPOOL_CHUNK_CODE_H

#include <stddef.h>
#include <stdint.h>

/* A chunk record as the run knows it: manager times in seconds from run start, worker
 * times in seconds of the worker's raw clock. */
typedef struct {
    uint64_t chunk, first_item;
    double t_submit, t_dispatch, t_result;
    double t_recv, t_start, t_end;
    uint32_t items;
    int32_t status, worker, schedule; /* schedule: hpool_schedule_kind, -1 submit */
} hpool__chunk_rec;

/* What the previous record of the file said (all zero before the first). */
typedef struct {
    uint64_t chunk, first_item;
    int64_t t_submit, t_dispatch, t_start; /* ns */
} hpool__chunk_code;

/* The most bytes one encoded record takes: 12 fields of at most 10 bytes. */
#define HPOOL__CHUNK_CODE_MAX 120

/* Encodes c at dst (room for HPOOL__CHUNK_CODE_MAX bytes); returns the bytes written. */
size_t hpool__chunk_encode(hpool__chunk_code *st, const hpool__chunk_rec *c, unsigned char *dst);

/* Decodes one record from the n bytes at src into c. Returns the bytes it took, 0 if
 * the record goes on past n (more is needed), or -1 if the bytes are no record (a
 * varint longer than 10 bytes). The state advances only when a record is returned. */
long hpool__chunk_decode(hpool__chunk_code *st, const unsigned char *src, size_t n,
                         hpool__chunk_rec *c);

#endif
