/* OTF2 trace of one recorded run, from its TSV records (otf2_writer.h).
 *
 * Written from chunks.tsv / spans.tsv rather than from the library's partial records so
 * that the trace and the TSVs agree to the nanosecond by construction: every timestamp
 * is t0 + the TSV's value, both read as integer nanoseconds from their text (no floating
 * point on the way), with a 1 GHz timer whose global offset is t0 (rank 0's
 * CLOCK_MONOTONIC at run start, clock.tsv). The layout:
 *
 *  - system tree: "hpool run" > one node per host; one location group (process) per
 *    rank, on its host;
 *  - rank 0: one location "manager": a ParameterUnsignedInt "submitted call item" (value:
 *    the chunk id) at t_submit, an MpiSend to the worker at t_dispatch and an MpiRecv
 *    from it at t_result;
 *  - each worker rank: a location "call items" with an MpiRecv from rank 0 at t_recv,
 *    the region "call item" entered at t_start and left at t_end, and an MpiSend to rank
 *    0 at t_end (the result leaves when the call item ends); and one location per OpenMP
 *    thread ("thread K") with a region per span label, entered and left at the span's
 *    times;
 *  - which call item: the parameter's value and the messages' tag (the chunk id, mod
 *    2^32), and attributes on entering a call item (chunk, first_item, items, status,
 *    schedule) or a span (chunk, item, inner); a Leave closes the last Enter;
 *  - the run's metadata (props) and the clock maps as archive properties (HPOOL::...).
 *
 * Completion order is not time order (a worker receives call items while it runs
 * earlier ones; the manager's dispatches are in chunk order), so the events are sorted
 * by location and time before they are written: in memory up to 2^19 events (~28 MB),
 * beyond that in sorted runs spilled to temporary files in the run's directory and
 * merged (record_sort.h), so a run of 10^7 call items needs no more memory than one of
 * 10^5. Each location's events are then written in one stretch. */
#include "otf2_writer.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef HPOOL_HAVE_OTF2
#include "otf2_int.h"
#include "tsv_stream.h"

/* ---------------------------------------------------------------- events */
enum {
    EV_SUBMIT,   /* manager: parameter */
    EV_DISPATCH, /* manager: MpiSend to worker `peer` */
    EV_RESULT,   /* manager: MpiRecv from worker `peer` */
    EV_RECV,     /* worker: MpiRecv from 0 */
    EV_ENTER,    /* worker: call item */
    EV_LEAVE,
    EV_SEND,     /* worker: MpiSend to 0 */
    EV_SPAN_ENTER,
    EV_SPAN_LEAVE,
};

typedef struct {
    int64_t t;    /* ns from run start */
    uint64_t seq; /* order of the TSV rows, for equal times */
    uint64_t chunk;
    uint64_t x;   /* first_item / item */
    uint32_t loc; /* location index */
    uint32_t y;   /* items / inner */
    int32_t z;    /* status / peer rank / region */
    uint32_t w;   /* schedule string */
    uint8_t kind;
} event;

/* Written location by location, each in time order (ties: the TSV's row order). */
static int cmp_event(const void *a, const void *b)
{
    const event *x = a, *y = b;
    if (x->loc != y->loc)
        return x->loc < y->loc ? -1 : 1;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static size_t sort_buffer = 1u << 19;

void hpool_bench_otf2_set_sort_buffer(size_t events)
{
    sort_buffer = events ? events : 1u << 19;
}

/* The location of (rank, thread), created on first use; -1 when out of memory. */
static int loc_of(otf2_trace *tr, int rank, int thread)
{
    if (rank >= tr->n_ranks) {
        int n = rank + 1;
        int **br = realloc(tr->by_rank, (size_t)n * sizeof *br);
        if (br)
            tr->by_rank = br;
        int *nb = br ? realloc(tr->n_by_rank, (size_t)n * sizeof *nb) : NULL;
        if (nb == NULL)
            return -1;
        tr->n_by_rank = nb;
        for (int r = tr->n_ranks; r < n; r++) {
            tr->by_rank[r] = NULL;
            tr->n_by_rank[r] = 0;
        }
        tr->n_ranks = n;
    }
    if (thread + 1 >= tr->n_by_rank[rank]) {
        int n = thread + 2;
        int *t = realloc(tr->by_rank[rank], (size_t)n * sizeof *t);
        if (t == NULL)
            return -1;
        for (int i = tr->n_by_rank[rank]; i < n; i++)
            t[i] = -1;
        tr->by_rank[rank] = t;
        tr->n_by_rank[rank] = n;
    }
    int *slot = &tr->by_rank[rank][thread + 1];
    if (*slot < 0) {
        if (tr->n == tr->cap) {
            size_t cap = tr->cap ? tr->cap * 2 : 16;
            location *l = realloc(tr->loc, cap * sizeof *l);
            if (l == NULL)
                return -1;
            tr->loc = l;
            tr->cap = cap;
        }
        tr->loc[tr->n] = (location){.rank = rank, .thread = thread};
        *slot = (int)tr->n++;
    }
    return *slot;
}

static int add_event(otf2_trace *tr, int rank, int thread, event e)
{
    int li = loc_of(tr, rank, thread);
    if (li < 0)
        return -1;
    tr->loc[li].events++;
    e.loc = (uint32_t)li;
    e.seq = tr->seq++;
    if (e.t < tr->t_min)
        tr->t_min = e.t;
    if (e.t > tr->t_max)
        tr->t_max = e.t;
    return hpool_bench_sorter_add(tr->sorter, &e);
}

/* The region of a span label (by its string id), defined on first use. */
static int32_t region_of(otf2_trace *tr, uint32_t label)
{
    if (label >= tr->n_region_of) {
        size_t n = tr->n_region_of ? tr->n_region_of : 16;
        while (n <= label)
            n *= 2;
        int32_t *r = realloc(tr->region_of, n * sizeof *r);
        if (r == NULL)
            return -1;
        for (size_t i = tr->n_region_of; i < n; i++)
            r[i] = -1;
        tr->region_of = r;
        tr->n_region_of = n;
    }
    if (tr->region_of[label] < 0)
        tr->region_of[label] = (int32_t)tr->n_regions++;
    return tr->region_of[label];
}

/* ---------------------------------------------------------------- reading the TSVs */
enum { C_CHUNK, C_SCHED, C_WORKER, C_FIRST, C_ITEMS, C_SUBMIT, C_DISPATCH, C_RECV, C_START,
       C_END, C_RESULT, C_STATUS, C_N };
static const char *const CHUNK_COLS[C_N] = {"chunk",  "schedule", "worker",     "first_item",
                                            "items",  "t_submit", "t_dispatch", "t_recv",
                                            "t_start", "t_end",   "t_result",   "status"};
#define MAX_RANK ((1u << 24) - 1)
#define MAX_THREAD ((1u << 20) - 1)

/* One row of chunks.tsv: 3 events on the manager, 4 on the worker. */
static int chunk_events(otf2_trace *tr, hpool_bench_tsv *t)
{
    uint64_t chunk, worker, first, items;
    int64_t tm[6], status;
    bool ok = hpool_bench_tsv_u64(t, C_CHUNK, UINT64_MAX, &chunk) &&
              hpool_bench_tsv_u64(t, C_WORKER, MAX_RANK, &worker) &&
              hpool_bench_tsv_u64(t, C_FIRST, UINT64_MAX, &first) &&
              hpool_bench_tsv_u64(t, C_ITEMS, UINT32_MAX, &items) &&
              hpool_bench_tsv_i64(t, C_STATUS, INT32_MIN, INT32_MAX, &status);
    for (int i = 0; i < 6 && ok; i++)
        ok = hpool_bench_tsv_ns(t, C_SUBMIT + i, &tm[i]);
    if (!ok)
        return -1;
    uint32_t sched = hpool_bench_strtab_id(&tr->str, hpool_bench_tsv_cell(t, C_SCHED));
    int w = (int)worker;
    event e = {.chunk = chunk, .x = first, .y = (uint32_t)items, .w = sched};
    int rc = sched == UINT32_MAX ? -1 : 0;
    e.kind = EV_SUBMIT, e.t = tm[0];
    rc |= add_event(tr, 0, -1, e);
    e.kind = EV_DISPATCH, e.t = tm[1], e.z = w;
    rc |= add_event(tr, 0, -1, e);
    e.kind = EV_RESULT, e.t = tm[5];
    rc |= add_event(tr, 0, -1, e);
    e.kind = EV_RECV, e.t = tm[2], e.z = 0;
    rc |= add_event(tr, w, -1, e);
    e.kind = EV_ENTER, e.t = tm[3], e.z = (int32_t)status;
    rc |= add_event(tr, w, -1, e);
    e.kind = EV_LEAVE, e.t = tm[4];
    rc |= add_event(tr, w, -1, e);
    e.kind = EV_SEND, e.z = 0;
    rc |= add_event(tr, w, -1, e);
    return rc ? hpool_bench_tsv_fail(t, "out of memory or disk") : 0;
}

enum { S_RANK, S_THREAD, S_CHUNK, S_ITEM, S_INNER, S_START, S_END, S_LABEL, S_N };
static const char *const SPAN_COLS[S_N] = {"rank", "thread", "chunk",  "item",
                                           "inner", "t_start", "t_end", "label"};

/* One row of spans.tsv: Enter and Leave on its thread's location. */
static int span_events(otf2_trace *tr, hpool_bench_tsv *t)
{
    uint64_t rank, thread, chunk, item, inner;
    int64_t a, b;
    if (!hpool_bench_tsv_u64(t, S_RANK, MAX_RANK, &rank) ||
        !hpool_bench_tsv_u64(t, S_THREAD, MAX_THREAD, &thread) ||
        !hpool_bench_tsv_u64(t, S_CHUNK, UINT64_MAX, &chunk) ||
        !hpool_bench_tsv_u64(t, S_ITEM, UINT64_MAX, &item) ||
        !hpool_bench_tsv_u64(t, S_INNER, UINT32_MAX, &inner) ||
        !hpool_bench_tsv_ns(t, S_START, &a) || !hpool_bench_tsv_ns(t, S_END, &b))
        return -1;
    uint32_t label = hpool_bench_strtab_id(&tr->str, hpool_bench_tsv_cell(t, S_LABEL));
    int32_t region = label == UINT32_MAX ? -1 : region_of(tr, label);
    event e = {.chunk = chunk, .x = item, .y = (uint32_t)inner, .z = region, .w = label};
    int rc = region < 0 ? -1 : 0;
    e.kind = EV_SPAN_ENTER, e.t = a;
    rc |= add_event(tr, (int)rank, (int)thread, e);
    e.kind = EV_SPAN_LEAVE, e.t = b;
    rc |= add_event(tr, (int)rank, (int)thread, e);
    return rc ? hpool_bench_tsv_fail(t, "out of memory or disk") : 0;
}

/* Every row of one TSV through `row`; a missing file is an error only if `needed`. */
static int read_rows(otf2_trace *tr, const char *dir, const char *name, const char *const *cols,
                     int ncols, bool needed, int (*row)(otf2_trace *, hpool_bench_tsv *))
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    hpool_bench_tsv t;
    int rc = hpool_bench_tsv_open(&t, path, cols, ncols, tr->err, tr->errlen);
    if (rc > 0 && needed)
        snprintf(tr->err, tr->errlen, "%s: missing (an OTF2 trace needs the run's records)",
                 path);
    if (rc > 0) {
        hpool_bench_tsv_close(&t);
        return needed ? -1 : 0;
    }
    while (rc == 0 && (rc = hpool_bench_tsv_next(&t)) == 1)
        rc = row(tr, &t);
    hpool_bench_tsv_close(&t);
    return rc < 0 ? -1 : 0;
}

enum { K_RANK, K_OFF0, K_RTT0, K_AT0, K_OFF1, K_RTT1, K_AT1, K_DRIFT, K_T0, K_N };
static const char *const CLOCK_COLS[K_N] = {"rank",   "offset_start", "rtt_start",
                                            "at_start", "offset_end", "rtt_end",
                                            "at_end", "drift",        "t0"};

/* t0 in ns, each worker's location made (a rank with no call item still has its place
 * in the communicator), and the clock maps as properties. */
static int read_clock(otf2_trace *tr, const char *dir, OTF2_Archive *ar, int64_t *t0)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/clock.tsv", dir);
    hpool_bench_tsv t;
    int rc = hpool_bench_tsv_open(&t, path, CLOCK_COLS, K_N, tr->err, tr->errlen);
    if (rc > 0) {
        snprintf(tr->err, tr->errlen, "%s: missing", path);
        rc = -1;
    }
    *t0 = 0;
    while (rc == 0 && (rc = hpool_bench_tsv_next(&t)) == 1) {
        uint64_t rank;
        if (!hpool_bench_tsv_u64(&t, K_RANK, MAX_RANK, &rank) ||
            !hpool_bench_tsv_ns(&t, K_T0, t0)) {
            rc = -1;
            break;
        }
        rc = loc_of(tr, (int)rank, -1) < 0 ? hpool_bench_tsv_fail(&t, "out of memory") : 0;
        char name[64], value[512];
        snprintf(name, sizeof name, "HPOOL::CLOCK_RANK_%llu", (unsigned long long)rank);
        int n = 0;
        for (int i = K_OFF0; i <= K_DRIFT && n < (int)sizeof value; i++)
            n += snprintf(value + n, sizeof value - (size_t)n, "%s%s=%s", i > K_OFF0 ? " " : "",
                          CLOCK_COLS[i], hpool_bench_tsv_cell(&t, i));
        OTF2_Archive_SetProperty(ar, name, value, true);
    }
    hpool_bench_tsv_close(&t);
    return rc < 0 ? -1 : 0;
}

/* ---------------------------------------------------------------- writing */

static OTF2_FlushType pre_flush(void *user, OTF2_FileType type, OTF2_LocationRef loc,
                                void *caller, bool final)
{
    (void)user, (void)type, (void)loc, (void)caller, (void)final;
    return OTF2_FLUSH;
}

typedef struct {
    OTF2_Archive *ar;
    OTF2_AttributeList *al;
    OTF2_EvtWriter *w; /* of location `loc` */
    uint32_t loc;
    bool *written;     /* per location: has its event writer */
    int64_t t0;
} writing;

static int close_writer(writing *wr)
{
    int rc = 0;
    if (wr->w && OTF2_Archive_CloseEvtWriter(wr->ar, wr->w) != OTF2_SUCCESS)
        rc = -1;
    wr->w = NULL;
    return rc;
}

static int open_writer(writing *wr, uint32_t loc)
{
    if (close_writer(wr) != 0)
        return -1;
    wr->w = OTF2_Archive_GetEvtWriter(wr->ar, (OTF2_LocationRef)loc);
    wr->loc = loc;
    wr->written[loc] = true;
    return wr->w ? 0 : -1;
}

/* One event, in (location, time) order. */
static int write_event(void *user, const void *rec)
{
    writing *wr = user;
    event e;
    memcpy(&e, rec, sizeof e);
    if ((wr->w == NULL || e.loc != wr->loc) && open_writer(wr, e.loc) != 0)
        return -1;
    OTF2_EvtWriter *w = wr->w;
    OTF2_AttributeList *al = wr->al;
    OTF2_TimeStamp ts = (OTF2_TimeStamp)(wr->t0 + e.t);
    uint32_t tag = (uint32_t)e.chunk;
    OTF2_ErrorCode ec = OTF2_SUCCESS;
    switch (e.kind) {
    case EV_SUBMIT:
        ec = OTF2_EvtWriter_ParameterUnsignedInt(w, al, ts, PARAM_SUBMIT, e.chunk);
        break;
    case EV_DISPATCH:
        ec = OTF2_EvtWriter_MpiSend(w, al, ts, (uint32_t)e.z, COMM_WORLD, tag, 0);
        break;
    case EV_RESULT:
        ec = OTF2_EvtWriter_MpiRecv(w, al, ts, (uint32_t)e.z, COMM_WORLD, tag, 0);
        break;
    case EV_RECV: ec = OTF2_EvtWriter_MpiRecv(w, al, ts, 0, COMM_WORLD, tag, 0); break;
    case EV_SEND: ec = OTF2_EvtWriter_MpiSend(w, al, ts, 0, COMM_WORLD, tag, 0); break;
    case EV_ENTER:
        OTF2_AttributeList_AddUint64(al, ATTR_CHUNK, e.chunk);
        OTF2_AttributeList_AddUint64(al, ATTR_FIRST, e.x);
        OTF2_AttributeList_AddUint32(al, ATTR_ITEMS, e.y);
        OTF2_AttributeList_AddInt32(al, ATTR_STATUS, e.z);
        OTF2_AttributeList_AddStringRef(al, ATTR_SCHED, e.w);
        ec = OTF2_EvtWriter_Enter(w, al, ts, REGION_CALL_ITEM);
        break;
    case EV_LEAVE: ec = OTF2_EvtWriter_Leave(w, al, ts, REGION_CALL_ITEM); break;
    case EV_SPAN_ENTER:
        OTF2_AttributeList_AddUint64(al, ATTR_CHUNK, e.chunk);
        OTF2_AttributeList_AddUint64(al, ATTR_ITEM, e.x);
        OTF2_AttributeList_AddUint32(al, ATTR_INNER, e.y);
        ec = OTF2_EvtWriter_Enter(w, al, ts, 1 + (OTF2_RegionRef)e.z);
        break;
    case EV_SPAN_LEAVE: ec = OTF2_EvtWriter_Leave(w, al, ts, 1 + (OTF2_RegionRef)e.z); break;
    }
    return ec == OTF2_SUCCESS ? 0 : -1;
}

static int write_events(otf2_trace *tr, OTF2_Archive *ar, int64_t t0)
{
    writing wr = {.ar = ar, .al = OTF2_AttributeList_New(), .t0 = t0,
                  .written = calloc(tr->n + 1, sizeof(bool))};
    int rc = wr.al && wr.written ? hpool_bench_sorter_each(tr->sorter, write_event, &wr) : -1;
    if (close_writer(&wr) != 0)
        rc = -1;
    /* A location without events still gets its (empty) event file, as readers expect. */
    for (size_t li = 0; li < tr->n && rc == 0; li++)
        if (!wr.written[li])
            rc = open_writer(&wr, (uint32_t)li) == 0 && close_writer(&wr) == 0 ? 0 : -1;
    if (wr.al)
        OTF2_AttributeList_Delete(wr.al);
    free(wr.written);
    return rc;
}

bool hpool_bench_otf2_available(void)
{
    return true;
}

static void trace_free(otf2_trace *tr)
{
    free(tr->loc);
    for (int r = 0; r < tr->n_ranks; r++)
        free(tr->by_rank[r]);
    free(tr->by_rank);
    free(tr->n_by_rank);
    free(tr->region_of);
    hpool_bench_strtab_free(&tr->str);
    hpool_bench_sorter_free(tr->sorter);
}

int hpool_bench_otf2_write(const char *run_dir, const char *manager_host,
                           const json_t *placement, const json_t *props, char *err,
                           size_t errlen)
{
    err[0] = '\0';
    otf2_trace tr = {.err = err, .errlen = errlen,
                .sorter = hpool_bench_sorter_new(sizeof(event), cmp_event, sort_buffer,
                                                 run_dir)};
    char path[4200], archive_dir[4096];
    snprintf(archive_dir, sizeof archive_dir, "%s/otf2", run_dir);
    /* OTF2 refuses to overwrite an archive: a rewrite starts from an empty directory. */
    snprintf(path, sizeof path, "rm -rf '%s'", archive_dir);
    if (tr.sorter == NULL || system(path) != 0) {
        snprintf(err, errlen, "%s: cannot remove the earlier OTF2 trace", archive_dir);
        trace_free(&tr);
        return -1;
    }
    OTF2_Archive *ar = OTF2_Archive_Open(archive_dir, "traces", OTF2_FILEMODE_WRITE,
                                         1 << 20, 4 << 20, OTF2_SUBSTRATE_POSIX,
                                         OTF2_COMPRESSION_NONE);
    if (ar == NULL) {
        snprintf(err, errlen, "%s: cannot create the OTF2 archive", archive_dir);
        trace_free(&tr);
        return -1;
    }
    static const OTF2_FlushCallbacks flush = {.otf2_pre_flush = pre_flush,
                                              .otf2_post_flush = NULL};
    OTF2_Archive_SetFlushCallbacks(ar, &flush, NULL);
    OTF2_Archive_SetSerialCollectiveCallbacks(ar);
    OTF2_Archive_SetCreator(ar, "hpool-bench");
    OTF2_Archive_SetDescription(ar, "hpool executor run: call items and inner spans");
    if (manager_host)
        OTF2_Archive_SetMachineName(ar, manager_host);
    if (props)
        hpool_bench__otf2_props(ar, props);
    int64_t t0 = 0;
    int rc = loc_of(&tr, 0, -1) == 0 ? 0 : -1; /* the manager is location 0 */
    if (rc == 0)
        rc = read_clock(&tr, run_dir, ar, &t0);
    if (rc == 0)
        rc = read_rows(&tr, run_dir, "chunks.tsv", CHUNK_COLS, C_N, true, chunk_events);
    if (rc == 0) /* level chunks: no spans */
        rc = read_rows(&tr, run_dir, "spans.tsv", SPAN_COLS, S_N, false, span_events);
    char t0s[64];
    snprintf(t0s, sizeof t0s, "%lld", (long long)t0);
    OTF2_Archive_SetProperty(ar, "HPOOL::T0_NS", t0s, true);
    /* Times before t0 are possible only within a clock map's error: the global offset
     * is the earliest event, as OTF2 wants. */
    int64_t offset = tr.t_min < 0 ? tr.t_min : 0;
    if (rc == 0 && OTF2_Archive_OpenEvtFiles(ar) != OTF2_SUCCESS)
        rc = -1;
    if (rc == 0) {
        rc = write_events(&tr, ar, t0);
        if (OTF2_Archive_CloseEvtFiles(ar) != OTF2_SUCCESS)
            rc = -1;
    }
    if (rc == 0 && OTF2_Archive_OpenDefFiles(ar) == OTF2_SUCCESS) {
        for (size_t li = 0; li < tr.n; li++) {
            OTF2_DefWriter *d = OTF2_Archive_GetDefWriter(ar, (OTF2_LocationRef)li);
            if (d)
                OTF2_Archive_CloseDefWriter(ar, d);
        }
        OTF2_Archive_CloseDefFiles(ar);
    }
    if (rc == 0)
        rc = hpool_bench__otf2_defs(&tr, ar, t0, offset, placement,
                                   manager_host ? manager_host : "");
    if (OTF2_Archive_Close(ar) != OTF2_SUCCESS)
        rc = -1;
    if (rc != 0 && err[0] == '\0')
        snprintf(err, errlen, "%s: the OTF2 library failed to write the trace", archive_dir);
    trace_free(&tr);
    return rc;
}

#else /* no OTF2 at build time */

void hpool_bench_otf2_set_sort_buffer(size_t events)
{
    (void)events;
}

bool hpool_bench_otf2_available(void)
{
    return false;
}

int hpool_bench_otf2_write(const char *run_dir, const char *manager_host,
                           const json_t *placement, const json_t *props, char *err,
                           size_t errlen)
{
    (void)manager_host, (void)placement, (void)props;
    snprintf(err, errlen,
             "%s: OTF2 is off in this build (libotf2-trace-dev was not found when CMake "
             "ran); chunks.tsv and spans.tsv have the full records",
             run_dir);
    return -1;
}

#endif
