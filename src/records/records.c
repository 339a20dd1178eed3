/* Timing records: chunks.tsv, spans.tsv, clock.tsv and trace.json of one executor run
 * (docs/FORMATS.md).
 *
 * During the run. The manager records one call item per RESULT, on the critical path of
 * every dispatch: at a microsecond per call item, formatting a text row (~150 ns, by hand;
 * printf is ten times that) would cost the pool over 10%. So the run appends binary
 * records to `chunks.partial` (compact: varints of differences, chunk_code.h, about
 * 14-20 bytes a call item) and `spans.partial` (a struct copy) through a 64 KiB buffer,
 * written out when it fills or half a second after the last write: a job that dies keeps
 * all but its last half second of rows, readable with the layouts in docs/FORMATS.md.
 * Worker times go in raw, on the worker's clock, because the clock map is only complete
 * after the end synchronisation (drift); clock.tsv.partial has the start offsets
 * meanwhile.
 *
 * At the end of a complete run, the partial files are read back record by record, worker
 * times mapped onto rank 0's clock, and chunks.tsv, spans.tsv, trace.json and clock.tsv
 * written to temporary names; only when all four are written are they renamed into place,
 * so an earlier complete result is only ever replaced by a complete one. Nothing is kept
 * in memory per record: 10^6 chunks need the same memory as ten. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "executor.h"
#include "records.h"
#include "records_int.h"
#include "records_select.h"

/* The partial files' buffer (two, with the writer thread's): small enough to stay in the
 * manager's cache while it fills. 1 MiB cost the manager 43 ns a record against 24-25 at
 * 64 KiB (record_overhead's direct measurement; 27 at 16 KiB, 28 at 256 KiB), the write
 * per ~4,000 call items it adds is nothing next to that. */
#define PART_BUF (1u << 16)
#define FLUSH_EVERY_S 0.5     /* most a crash loses of a run's rows */

/* ---------------------------------------------------------------- the records */

static int make_dirs(const char *dir)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return (mkdir(tmp, 0777) != 0 && errno != EEXIST) ? -1 : 0;
}

static out_file *open_part(const hpool__records *r, int part, const char magic[8],
                           uint32_t record_size)
{
    char *p = hpool__path_join(r->dir, PART_NAME[part]);
    out_file *o = p ? hpool__out_open(p, PART_BUF, true) : NULL;
    free(p);
    if (o) {
        part_header h;
        memset(&h, 0, sizeof h);
        memcpy(h.magic, magic, sizeof h.magic);
        h.header_size = sizeof h;
        h.record_size = record_size;
        h.run = r->run;
        h.level = r->level;
        h.t0 = r->t0;
        hpool__out_bytes(o, &h, sizeof h);
        hpool__out_flush(o); /* the header is there from the start, even if nothing follows */
    }
    return o;
}

static void records_free(hpool__records *r)
{
    free(r->dir);
    free(r->label);
    free(r);
}

hpool__records *hpool__records_open(const hpool_executor *ex, int *err)
{
    *err = 0;
    if (ex->record_dir == NULL || ex->record_level == HPOOL_RECORD_NONE)
        return NULL;
    hpool__records *r = calloc(1, sizeof *r);
    if (r == NULL || make_dirs(ex->record_dir) != 0 || !(r->dir = strdup(ex->record_dir))) {
        if (r)
            records_free(r);
        *err = HPOOL_EIO;
        return NULL;
    }
    r->label = ex->label ? strdup(ex->label) : NULL;
    r->run = ex->record_run;
    r->level = ex->record_level;
    r->t0 = ex->t_created;
    r->max_events = ex->trace_max_events < 0    ? UINT64_MAX
                     : ex->trace_max_events == 0 ? HPOOL__TRACE_MAX_EVENTS_DEFAULT
                                                 : (uint64_t)ex->trace_max_events;
    r->last_flush = hpool__now();
    r->chunks = open_part(r, PART_CHUNKS, MAGIC_CHUNKS, 0);
    if (r->level >= HPOOL_RECORD_SPANS)
        r->spans = open_part(r, PART_SPANS, MAGIC_SPANS, sizeof(part_span));
    if (r->chunks == NULL || (r->level >= HPOOL_RECORD_SPANS && r->spans == NULL)) {
        hpool__out_close(r->chunks);
        hpool__out_close(r->spans);
        records_free(r);
        *err = HPOOL_EIO;
        return NULL;
    }
    return r;
}

/* The hot path: a compact record into the buffer, and every half second a write. */
void hpool__records_chunk(hpool__records *r, const hpool__chunk_record *c)
{
    hpool__chunk_rec p = {
        .chunk = c->chunk,
        .first_item = c->first_item,
        .t_submit = c->t_submit - r->t0,
        .t_dispatch = c->t_dispatch - r->t0,
        .t_result = c->t_result - r->t0,
        .t_recv = c->t_recv,
        .t_start = c->t_start,
        .t_end = c->t_end,
        .items = c->items,
        .status = c->status,
        .worker = c->worker,
        .schedule = c->schedule,
    };
    out_file *o = r->chunks;
    unsigned char *dst = (unsigned char *)hpool__out_room(o, HPOOL__CHUNK_CODE_MAX);
    size_t k = hpool__chunk_encode(&r->chunk_code, &p, dst);
    o->len += k;
    r->chunk_bytes += k;
    r->n_chunks++;
    if (c->t_result - r->last_flush >= FLUSH_EVERY_S) {
        r->last_flush = c->t_result;
        hpool__out_flush(o);
        if (r->spans)
            hpool__out_flush(r->spans);
    }
}

/* Spans of one RESULT, recorded right after its chunk (whose record flushes if due). */
void hpool__records_spans(hpool__records *r, int rank, uint64_t chunk,
                          const hpool__wire_span *spans, uint32_t n)
{
    if (r->spans == NULL)
        return;
    for (uint32_t i = 0; i < n; i++) {
        hpool__wire_span s;
        memcpy(&s, &spans[i], sizeof s); /* the message may be unaligned */
        part_span p = {.chunk = chunk,
                       .item = s.item,
                       .t_start = s.t_start,
                       .t_end = s.t_end,
                       .rank = rank,
                       .thread = s.thread,
                       .inner = s.inner};
        memcpy(p.label, s.label, sizeof p.label);
        char *dst = hpool__out_room(r->spans, sizeof p);
        memcpy(dst, &p, sizeof p);
        r->spans->len += sizeof p;
        r->n_spans++;
    }
}

void hpool__records_clocks(hpool__records *r, const hpool__rank_clock *clocks, int n)
{
    if (r == NULL)
        return;
    char *p = hpool__path_join(r->dir, PART_NAME[PART_CLOCK]);
    if (p)
        hpool__write_clock_file(p, clocks, n, r->t0, false); /* best effort, as all partials */
    free(p);
}

static void unlink_in(const char *dir, const char *name)
{
    char *p = hpool__path_join(dir, name);
    if (p)
        unlink(p);
    free(p);
}

int hpool__records_close(hpool__records *r, const hpool__rank_clock *clocks, int n,
                         bool complete)
{
    if (r == NULL)
        return 0;
    int rc = hpool__out_close(r->chunks);
    if (hpool__out_close(r->spans) != 0)
        rc = -1;
    if (complete && rc == 0) {
        rc = hpool__records_write_finals(r, clocks, n);
        if (rc == 0) {
            for (int i = 0; i < N_PARTS; i++)
                unlink_in(r->dir, PART_NAME[i]);
            /* A spans.tsv left by an earlier run at level spans would now sit next to
             * chunks of another run. */
            if (r->level < HPOOL_RECORD_SPANS)
                unlink_in(r->dir, "spans.tsv");
        }
    } else {
        /* Keep the partial records; give them the end clocks too if the run got that
         * far. */
        hpool__records_clocks(r, clocks, n);
    }
    records_free(r);
    return rc ? HPOOL_EIO : 0;
}
