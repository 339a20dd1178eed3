/* Timing records: chunks.tsv, spans.tsv, clock.tsv and trace.json of one executor run
 * (docs/FORMATS.md).
 *
 * During the run. The manager records one call item per RESULT, on the critical path of
 * every dispatch: at a microsecond per call item, formatting a text row (~150 ns, by hand;
 * printf is ten times that) would cost the pool over 10%. So the run appends fixed-size
 * binary records (a struct copy) to `chunks.partial` / `spans.partial` through a 1 MiB
 * buffer, written out when it fills or half a second after the last write: a job that
 * dies keeps all but its last half second of rows, readable with the layout in
 * docs/FORMATS.md. Worker times go in raw, on the worker's clock, because the clock map is
 * only complete after the end synchronisation (drift); clock.tsv.partial has the start
 * offsets meanwhile.
 *
 * At the end of a complete run, the partial files are read back record by record, worker
 * times mapped onto rank 0's clock, and chunks.tsv, spans.tsv, trace.json and clock.tsv
 * written to temporary names; only when all four are written are they renamed into place,
 * so an earlier complete result is only ever replaced by a complete one. Nothing is kept
 * in memory per record: 10^6 chunks need the same memory as ten.
 *
 * Text is formatted by hand (integers, fixed-point decimals) for the same reason of cost,
 * now at close: trace.json's events hold only numbers, fixed words and labels sanitised to
 * plain ASCII, so they need no escaping; jansson builds the parts with free text (the
 * executor's label, otherData) and the metadata events. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "executor.h"
#include "records.h"

#define PART_BUF (1u << 20)   /* partial files: a write per ~13000 call items */
#define FINAL_BUF (256u << 10)
#define ROW_MAX 1024          /* room reserved before formatting one text row (< 400) */
#define FLUSH_EVERY_S 0.5     /* most a crash loses of a run's rows */

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

/* ---------------------------------------------------------------- buffered output */
/* A write(2)-level buffered file: no stdio locking, one copy, and a failure is
 * remembered so that a truncated file is never renamed into place.
 *
 * The streaming (.partial) files are asynchronous: a writer thread writes a full buffer
 * while the manager fills the other. A write(2) of a megabyte can stall for a millisecond
 * or more, and a stalled manager lets workers run dry: written on the manager thread, the
 * records cost 21% at a million call items per second; the record copy itself costs 3%. */
typedef struct {
    int fd;
    bool failed; /* async: written by the writer thread, read after it is joined */
    size_t len, cap;
    char *buf;
    bool async;
    pthread_t writer;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *spare;    /* async: the other buffer, being written while pending > 0; mu */
    size_t pending; /* bytes of spare still to write; mu */
    bool stop;      /* mu */
} out_file;

static char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static void write_all(out_file *o, const char *p, size_t n);

static void *writer_main(void *arg)
{
    out_file *o = arg;
    pthread_mutex_lock(&o->mu);
    for (;;) {
        while (o->pending == 0 && !o->stop)
            pthread_cond_wait(&o->cv, &o->mu);
        if (o->pending == 0)
            break; /* stopped with nothing left */
        size_t n = o->pending;
        const char *p = o->spare;
        pthread_mutex_unlock(&o->mu);
        write_all(o, p, n);
        pthread_mutex_lock(&o->mu);
        o->pending = 0;
        pthread_cond_broadcast(&o->cv);
    }
    pthread_mutex_unlock(&o->mu);
    return NULL;
}

static out_file *out_open(const char *path, size_t cap, bool async)
{
    out_file *o = calloc(1, sizeof *o);
    char *buf = malloc(cap);
    char *spare = async ? malloc(cap) : NULL;
    int fd = o && buf && (spare || !async)
                 ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)
                 : -1;
    if (fd < 0) {
        free(o);
        free(buf);
        free(spare);
        return NULL;
    }
    *o = (out_file){.fd = fd, .cap = cap, .buf = buf, .spare = spare};
    if (async) {
        pthread_mutex_init(&o->mu, NULL);
        pthread_cond_init(&o->cv, NULL);
        /* Without its writer thread the file is simply written synchronously. */
        o->async = pthread_create(&o->writer, NULL, writer_main, o) == 0;
    }
    return o;
}

static void write_all(out_file *o, const char *p, size_t n)
{
    for (size_t done = 0; done < n && !o->failed;) {
        ssize_t k = write(o->fd, p + done, n - done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            o->failed = true;
        else
            done += (size_t)k;
    }
}

static void out_flush(out_file *o)
{
    if (!o->async) {
        write_all(o, o->buf, o->len);
        o->len = 0;
        return;
    }
    if (o->len == 0)
        return;
    pthread_mutex_lock(&o->mu);
    while (o->pending > 0) /* the writer is a whole buffer behind: rare */
        pthread_cond_wait(&o->cv, &o->mu);
    char *full = o->buf;
    o->buf = o->spare;
    o->spare = full;
    o->pending = o->len;
    o->len = 0;
    pthread_cond_signal(&o->cv);
    pthread_mutex_unlock(&o->mu);
}

/* Room for `n` more bytes; returns where to write them (commit with out_commit). */
static char *out_room(out_file *o, size_t n)
{
    if (o->len + n > o->cap)
        out_flush(o);
    return o->buf + o->len;
}

static void out_commit(out_file *o, const char *end)
{
    o->len = (size_t)(end - o->buf);
}

static void out_bytes(out_file *o, const void *s, size_t n)
{
    if (n > o->cap / 2) { /* large: straight to the file, after what is buffered */
        out_flush(o);
        if (o->async) {
            pthread_mutex_lock(&o->mu);
            while (o->pending > 0)
                pthread_cond_wait(&o->cv, &o->mu);
            pthread_mutex_unlock(&o->mu);
        }
        write_all(o, s, n);
        return;
    }
    char *p = out_room(o, n);
    memcpy(p, s, n);
    out_commit(o, p + n);
}

/* Flushes and closes; returns 0 only if every byte reached the file. */
static int out_close(out_file *o)
{
    if (o == NULL)
        return 0;
    out_flush(o);
    if (o->async) {
        pthread_mutex_lock(&o->mu);
        o->stop = true;
        pthread_cond_signal(&o->cv);
        pthread_mutex_unlock(&o->mu);
        pthread_join(o->writer, NULL);
        pthread_mutex_destroy(&o->mu);
        pthread_cond_destroy(&o->cv);
    }
    free(o->spare);
    int rc = o->failed ? -1 : 0;
    if (close(o->fd) != 0)
        rc = -1;
    free(o->buf);
    free(o);
    return rc;
}

/* ---------------------------------------------------------------- formatting */
static char *put_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

/* Two digits per step: the close formats ~15 numbers per call item. */
static const char DIGITS2[] = "00010203040506070809101112131415161718192021222324252627282930"
                              "31323334353637383940414243444546474849505152535455565758596061"
                              "62636465666768697071727374757677787980818283848586878889909192"
                              "93949596979899";

static char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    int n = 20;
    while (v >= 100) {
        unsigned d = (unsigned)(v % 100) * 2;
        v /= 100;
        tmp[--n] = DIGITS2[d + 1];
        tmp[--n] = DIGITS2[d];
    }
    if (v >= 10) {
        tmp[--n] = DIGITS2[v * 2 + 1];
        tmp[--n] = DIGITS2[v * 2];
    } else {
        tmp[--n] = (char)('0' + v);
    }
    memcpy(p, tmp + n, (size_t)(20 - n));
    return p + (20 - n);
}

static char *put_i64(char *p, int64_t v)
{
    if (v < 0) {
        *p++ = '-';
        return put_u64(p, (uint64_t)0 - (uint64_t)v);
    }
    return put_u64(p, (uint64_t)v);
}

/* v with `dec` (0..9) decimals, as printf's %.*f would print it. Exact through int64 up
 * to 9e9 (in ns: 285 years); beyond, and for NaN/inf, printf's exponent form (at most 32
 * bytes either way). */
static char *put_fixed(char *p, double v, int dec)
{
    static const double scale[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    static const uint64_t iscale[] = {1,         10,         100,        1000,
                                      10000,     100000,     1000000,    10000000,
                                      100000000, 1000000000};
    if (!(fabs(v) < 9e9))
        return p + snprintf(p, 32, "%.*e", dec, v);
    double s = v * scale[dec];
    int64_t q = (int64_t)(s < 0 ? s - 0.5 : s + 0.5);
    uint64_t a = q < 0 ? (uint64_t)0 - (uint64_t)q : (uint64_t)q;
    if (q < 0)
        *p++ = '-';
    p = put_u64(p, a / iscale[dec]);
    if (dec > 0) {
        uint64_t f = a % iscale[dec];
        *p++ = '.';
        for (int i = dec - 1; i >= 0; i--) {
            p[i] = (char)('0' + f % 10);
            f /= 10;
        }
        p += dec;
    }
    return p;
}

/* A duration or time in µs for trace.json, which has no NaN or infinity: such a value
 * can only come from a garbled worker timestamp, and 0 keeps the file loadable. */
static char *put_json_us(char *p, double seconds)
{
    double us = seconds * 1e6;
    return put_fixed(p, isfinite(us) ? us : 0.0, 3);
}

/* Labels are free text from tasks; they are kept to printable ASCII without the
 * characters TSV and JSON would need escaped, so that both can be written verbatim. */
static char *put_label(char *p, const char *label, size_t max, const char *if_empty)
{
    char *start = p;
    for (size_t i = 0; i < max && label[i]; i++) {
        unsigned char ch = (unsigned char)label[i];
        *p++ = (ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\') ? '_' : (char)ch;
    }
    return p == start ? put_str(p, if_empty) : p;
}

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
};

static const char CHUNK_HEADER[] = "run\tchunk\tschedule\tworker\tfirst_item\titems\tt_submit\t"
                                   "t_dispatch\tt_recv\tt_start\tt_end\tt_result\tstatus\n";
static const char SPAN_HEADER[] = "run\trank\tthread\tchunk\titem\tinner\tt_start\tt_end\tlabel\n";
static const char CLOCK_HEADER[] = "rank\toffset_start\trtt_start\tat_start\toffset_end\t"
                                   "rtt_end\tat_end\tdrift\tt0\n";

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
    char *p = path_join(r->dir, PART_NAME[part]);
    out_file *o = p ? out_open(p, PART_BUF, true) : NULL;
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
        out_bytes(o, &h, sizeof h);
        out_flush(o); /* the header is there from the start, even if nothing follows */
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
    r->last_flush = hpool__now();
    r->chunks = open_part(r, PART_CHUNKS, MAGIC_CHUNKS, sizeof(part_chunk));
    if (r->level >= HPOOL_RECORD_SPANS)
        r->spans = open_part(r, PART_SPANS, MAGIC_SPANS, sizeof(part_span));
    if (r->chunks == NULL || (r->level >= HPOOL_RECORD_SPANS && r->spans == NULL)) {
        out_close(r->chunks);
        out_close(r->spans);
        records_free(r);
        *err = HPOOL_EIO;
        return NULL;
    }
    return r;
}

/* The hot path: a struct copy into the buffer, and every half second a write. */
void hpool__records_chunk(hpool__records *r, const hpool__chunk_record *c)
{
    part_chunk p = {
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
    char *dst = out_room(o, sizeof p);
    memcpy(dst, &p, sizeof p);
    o->len += sizeof p;
    if (c->t_result - r->last_flush >= FLUSH_EVERY_S) {
        r->last_flush = c->t_result;
        out_flush(o);
        if (r->spans)
            out_flush(r->spans);
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
        char *dst = out_room(r->spans, sizeof p);
        memcpy(dst, &p, sizeof p);
        r->spans->len += sizeof p;
    }
}

/* ---------------------------------------------------------------- clock.tsv */
static int write_clock_file(const char *path, const hpool__rank_clock *clocks, int n,
                            double t0, bool complete)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fputs(CLOCK_HEADER, f);
    for (int i = 0; i < n; i++) {
        const hpool__clock_map *m = &clocks[i].map;
        fprintf(f, "%d", clocks[i].rank);
        const hpool__clock_sample *s[2] = {&m->start, &m->end};
        const bool have[2] = {m->have_start, m->have_end};
        for (int k = 0; k < 2; k++) {
            if (have[k])
                fprintf(f, "\t%.9f\t%.9f\t%.9f", s[k]->offset, s[k]->rtt, s[k]->at - t0);
            else
                fputs("\tnan\tnan\tnan", f);
        }
        /* t0 in every row: only with it can a dead run's raw partial records be put on
         * the run's timeline (trace.json, which also has it, is not written then) */
        fprintf(f, "\t%.6e\t%.9f\n", hpool__clock_map_drift(m), t0);
    }
    if (complete)
        fputs("# complete\n", f);
    int rc = ferror(f) ? -1 : 0;
    return fclose(f) != 0 ? -1 : rc;
}

void hpool__records_clocks(hpool__records *r, const hpool__rank_clock *clocks, int n)
{
    if (r == NULL)
        return;
    char *p = path_join(r->dir, PART_NAME[PART_CLOCK]);
    if (p)
        write_clock_file(p, clocks, n, r->t0, false); /* best effort, as all partials */
    free(p);
}

/* ---------------------------------------------------------------- final pass */
typedef struct {
    const hpool__records *r;
    const hpool__rank_clock *clocks;
    int nw;
    int max_rank;
    const hpool__clock_map **by_rank; /* [0..max_rank], NULL where no map */
    int *max_thread;                  /* [0..max_rank], for the thread_name events */
    out_file *rows;  /* the TSV of the pass under way */
    out_file *trace; /* trace.json, across both passes */
    bool first_event;
    uint64_t n_chunks, n_spans;
} final_pass;

static double map_time(const final_pass *fp, int rank, double t_worker)
{
    const hpool__clock_map *m = rank >= 0 && rank <= fp->max_rank ? fp->by_rank[rank] : NULL;
    return (m ? hpool__clock_map_apply(m, t_worker) : t_worker) - fp->r->t0;
}

static char *event_sep(final_pass *fp, char *p)
{
    if (!fp->first_event)
        *p++ = ',';
    fp->first_event = false;
    *p++ = '\n';
    return p;
}

static const char *schedule_label(int k)
{
    return k < 0 ? "submit" : hpool_schedule_name((hpool_schedule_kind)k);
}

/* Reads the partial file `part` record by record, checking its header; calls fn on
 * each. Returns 0, or -1 if the file is missing, foreign or cut. */
static int each_record(final_pass *fp, int part, const char magic[8], size_t size,
                       void (*fn)(final_pass *, const void *))
{
    char *path = path_join(fp->r->dir, PART_NAME[part]);
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    free(path);
    if (fd < 0)
        return -1;
    enum { BLOCK = 1u << 20 };
    char *buf = malloc(BLOCK);
    part_header h;
    int rc = buf && read(fd, &h, sizeof h) == (ssize_t)sizeof h &&
                     memcmp(h.magic, magic, sizeof h.magic) == 0 &&
                     h.header_size == sizeof h && h.record_size == size && h.run == fp->r->run
                 ? 0
                 : -1;
    size_t have = 0;
    while (rc == 0) {
        ssize_t k = read(fd, buf + have, BLOCK - have);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            rc = -1;
        if (k <= 0)
            break;
        have += (size_t)k;
        size_t whole = have - have % size;
        for (size_t off = 0; off < whole; off += size)
            fn(fp, buf + off);
        memmove(buf, buf + whole, have - whole);
        have -= whole;
    }
    if (have != 0)
        rc = -1; /* a cut record: not a file this process wrote completely */
    free(buf);
    close(fd);
    return rc;
}

/* One chunk record → a chunks.tsv row and an "X" event. */
static void chunk_row(final_pass *fp, const void *rec)
{
    part_chunk c;
    memcpy(&c, rec, sizeof c);
    double w[3] = {map_time(fp, c.worker, c.t_recv), map_time(fp, c.worker, c.t_start),
                   map_time(fp, c.worker, c.t_end)};
    out_file *out = fp->rows;
    char *p = out_room(out, ROW_MAX);
    p = put_i64(p, fp->r->run);
    *p++ = '\t';
    p = put_u64(p, c.chunk);
    *p++ = '\t';
    p = put_str(p, schedule_label(c.schedule));
    *p++ = '\t';
    p = put_i64(p, c.worker);
    *p++ = '\t';
    p = put_u64(p, c.first_item);
    *p++ = '\t';
    p = put_u64(p, c.items);
    const double t[6] = {c.t_submit, c.t_dispatch, w[0], w[1], w[2], c.t_result};
    for (int i = 0; i < 6; i++) {
        *p++ = '\t';
        p = put_fixed(p, t[i], 9);
    }
    *p++ = '\t';
    p = put_i64(p, c.status);
    *p++ = '\n';
    out_commit(out, p);

    p = out_room(fp->trace, ROW_MAX);
    p = event_sep(fp, p);
    p = put_str(p, "{\"name\":\"chunk ");
    p = put_u64(p, c.chunk);
    p = put_str(p, "\",\"cat\":\"chunk\",\"ph\":\"X\",\"pid\":");
    p = put_i64(p, c.worker);
    p = put_str(p, ",\"tid\":0,\"ts\":");
    p = put_json_us(p, w[1]);
    p = put_str(p, ",\"dur\":");
    p = put_json_us(p, w[2] - w[1]);
    p = put_str(p, ",\"args\":{\"chunk\":");
    p = put_u64(p, c.chunk);
    p = put_str(p, ",\"first_item\":");
    p = put_u64(p, c.first_item);
    p = put_str(p, ",\"items\":");
    p = put_u64(p, c.items);
    p = put_str(p, ",\"schedule\":\"");
    p = put_str(p, schedule_label(c.schedule));
    p = put_str(p, "\",\"status\":");
    p = put_i64(p, c.status);
    p = put_str(p, "}}");
    out_commit(fp->trace, p);
    fp->n_chunks++;
}

/* One span record → a spans.tsv row and an "X" event. */
static void span_row(final_pass *fp, const void *rec)
{
    part_span s;
    memcpy(&s, rec, sizeof s);
    double a = map_time(fp, s.rank, s.t_start), b = map_time(fp, s.rank, s.t_end);
    if (s.rank >= 0 && s.rank <= fp->max_rank && s.thread > fp->max_thread[s.rank])
        fp->max_thread[s.rank] = s.thread < 1023 ? s.thread : 1023;
    out_file *out = fp->rows;
    char *p = out_room(out, ROW_MAX);
    p = put_i64(p, fp->r->run);
    *p++ = '\t';
    p = put_i64(p, s.rank);
    *p++ = '\t';
    p = put_i64(p, s.thread);
    *p++ = '\t';
    p = put_u64(p, s.chunk);
    *p++ = '\t';
    p = put_u64(p, s.item);
    *p++ = '\t';
    p = put_u64(p, s.inner);
    *p++ = '\t';
    p = put_fixed(p, a, 9);
    *p++ = '\t';
    p = put_fixed(p, b, 9);
    *p++ = '\t';
    p = put_label(p, s.label, sizeof s.label, "-");
    *p++ = '\n';
    out_commit(out, p);

    p = out_room(fp->trace, ROW_MAX);
    p = event_sep(fp, p);
    p = put_str(p, "{\"name\":\"");
    p = put_label(p, s.label, sizeof s.label, "inner");
    p = put_str(p, "\",\"cat\":\"span\",\"ph\":\"X\",\"pid\":");
    p = put_i64(p, s.rank);
    p = put_str(p, ",\"tid\":");
    p = put_i64(p, (int64_t)s.thread + 1);
    p = put_str(p, ",\"ts\":");
    p = put_json_us(p, a);
    p = put_str(p, ",\"dur\":");
    p = put_json_us(p, b - a);
    p = put_str(p, ",\"args\":{\"chunk\":");
    p = put_u64(p, s.chunk);
    p = put_str(p, ",\"item\":");
    p = put_u64(p, s.item);
    p = put_str(p, ",\"inner\":");
    p = put_u64(p, s.inner);
    p = put_str(p, "}}");
    out_commit(fp->trace, p);
    fp->n_spans++;
}

/* One jansson-built event, dumped compactly after the separator. */
static int put_json_event(final_pass *fp, json_t *e)
{
    if (e == NULL)
        return -1;
    char *s = json_dumps(e, JSON_COMPACT);
    json_decref(e);
    if (s == NULL)
        return -1;
    char *p = out_room(fp->trace, 2);
    p = event_sep(fp, p);
    out_commit(fp->trace, p);
    out_bytes(fp->trace, s, strlen(s));
    free(s);
    return 0;
}

/* json_string refuses invalid UTF-8; a free-text label is then kept as its ASCII part. */
static json_t *json_text(const char *s)
{
    json_t *j = json_string(s ? s : "");
    if (j || s == NULL)
        return j;
    char *c = strdup(s);
    if (c == NULL)
        return NULL;
    for (char *p = c; *p; p++)
        if ((unsigned char)*p > 0x7e)
            *p = '?';
    j = json_string(c);
    free(c);
    return j;
}

static json_t *json_time(bool have, double v)
{
    return have && isfinite(v) ? json_real(v) : json_null();
}

/* "M" events naming ranks and threads, then otherData; closes the document. */
static int finish_trace(final_pass *fp)
{
    int rc = 0;
    char name[64];
    for (int i = 0; i < fp->nw && rc == 0; i++) {
        int rank = fp->clocks[i].rank;
        snprintf(name, sizeof name, "rank %d", rank);
        rc |= put_json_event(fp, json_pack("{s:s, s:s, s:i, s:i, s:{s:s}}", "name",
                                           "process_name", "ph", "M", "pid", rank, "tid", 0,
                                           "args", "name", name));
        rc |= put_json_event(fp, json_pack("{s:s, s:s, s:i, s:i, s:{s:i}}", "name",
                                           "process_sort_index", "ph", "M", "pid", rank, "tid",
                                           0, "args", "sort_index", rank));
        rc |= put_json_event(fp, json_pack("{s:s, s:s, s:i, s:i, s:{s:s}}", "name",
                                           "thread_name", "ph", "M", "pid", rank, "tid", 0,
                                           "args", "name", "call items"));
        for (int t = 0; rank >= 0 && t <= fp->max_thread[rank]; t++) {
            snprintf(name, sizeof name, "thread %d", t);
            rc |= put_json_event(fp, json_pack("{s:s, s:s, s:i, s:i, s:{s:s}}", "name",
                                               "thread_name", "ph", "M", "pid", rank, "tid",
                                               t + 1, "args", "name", name));
        }
    }
    const hpool__records *r = fp->r;
    json_t *clocks = json_array();
    for (int i = 0; i < fp->nw; i++) {
        const hpool__clock_map *m = &fp->clocks[i].map;
        json_array_append_new(
            clocks, json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:f}", "rank",
                              fp->clocks[i].rank, "offset_start",
                              json_time(m->have_start, m->start.offset), "rtt_start",
                              json_time(m->have_start, m->start.rtt), "at_start",
                              json_time(m->have_start, m->start.at - r->t0), "offset_end",
                              json_time(m->have_end, m->end.offset), "rtt_end",
                              json_time(m->have_end, m->end.rtt), "at_end",
                              json_time(m->have_end, m->end.at - r->t0), "drift",
                              hpool__clock_map_drift(m)));
    }
    json_t *other = json_pack(
        "{s:i, s:o, s:i, s:s, s:b, s:I, s:I, s:f, s:o}", "run", r->run, "label",
        json_text(r->label), "workers", fp->nw, "record_level",
        r->level >= HPOOL_RECORD_SPANS ? "spans" : "chunks", "complete", 1, "chunks",
        (json_int_t)fp->n_chunks, "spans", (json_int_t)fp->n_spans, "t0_monotonic_s", r->t0,
        "clocks", clocks);
    char *s = other ? json_dumps(other, JSON_COMPACT) : NULL;
    json_decref(other);
    if (s == NULL)
        return -1;
    static const char mid[] = "\n],\"displayTimeUnit\":\"ms\",\"otherData\":";
    out_bytes(fp->trace, mid, sizeof mid - 1);
    out_bytes(fp->trace, s, strlen(s));
    out_bytes(fp->trace, "}\n", 2);
    free(s);
    return rc;
}

static void unlink_in(const char *dir, const char *name)
{
    char *p = path_join(dir, name);
    if (p)
        unlink(p);
    free(p);
}

/* The final files of a complete run; returns 0 when all are in place. */
static int write_finals(const hpool__records *r, const hpool__rank_clock *clocks, int nw)
{
    enum { F_CHUNKS, F_SPANS, F_TRACE, F_CLOCK, N_FINAL };
    static const char *const final_name[N_FINAL] = {"chunks.tsv", "spans.tsv", "trace.json",
                                                    "clock.tsv"};
    static const char footer[] = "# complete\n";
    bool spans = r->level >= HPOOL_RECORD_SPANS;
    char *tmp[N_FINAL] = {NULL}, *dst[N_FINAL] = {NULL};
    int rc = 0;
    /* Temporary names carry the pid: two jobs writing into one directory by mistake do
     * not write into each other's temporary files. */
    for (int i = 0; i < N_FINAL && rc == 0; i++) {
        char name[128];
        snprintf(name, sizeof name, ".%s.%ld.tmp", final_name[i], (long)getpid());
        tmp[i] = path_join(r->dir, name);
        dst[i] = path_join(r->dir, final_name[i]);
        if (tmp[i] == NULL || dst[i] == NULL)
            rc = -1;
    }
    final_pass fp = {.r = r, .clocks = clocks, .nw = nw, .first_event = true};
    for (int i = 0; i < nw; i++)
        fp.max_rank = clocks[i].rank > fp.max_rank ? clocks[i].rank : fp.max_rank;
    fp.by_rank = calloc((size_t)fp.max_rank + 1, sizeof *fp.by_rank);
    fp.max_thread = malloc(((size_t)fp.max_rank + 1) * sizeof *fp.max_thread);
    if (fp.by_rank == NULL || fp.max_thread == NULL)
        rc = -1;
    for (int i = 0; rc == 0 && i <= fp.max_rank; i++)
        fp.max_thread[i] = -1;
    for (int i = 0; rc == 0 && i < nw; i++)
        if (clocks[i].rank >= 0)
            fp.by_rank[clocks[i].rank] = &clocks[i].map;
    out_file *chunks = NULL, *span_out = NULL;
    if (rc == 0) {
        chunks = out_open(tmp[F_CHUNKS], FINAL_BUF, false);
        fp.trace = out_open(tmp[F_TRACE], FINAL_BUF, false);
        if (spans)
            span_out = out_open(tmp[F_SPANS], FINAL_BUF, false);
        rc = chunks && fp.trace && (!spans || span_out) ? 0 : -1;
    }
    if (rc == 0) {
        out_bytes(chunks, CHUNK_HEADER, sizeof CHUNK_HEADER - 1);
        static const char open_doc[] = "{\"traceEvents\":[";
        out_bytes(fp.trace, open_doc, sizeof open_doc - 1);
        fp.rows = chunks;
        rc = each_record(&fp, PART_CHUNKS, MAGIC_CHUNKS, sizeof(part_chunk), chunk_row);
    }
    if (rc == 0 && spans) {
        out_bytes(span_out, SPAN_HEADER, sizeof SPAN_HEADER - 1);
        fp.rows = span_out;
        rc = each_record(&fp, PART_SPANS, MAGIC_SPANS, sizeof(part_span), span_row);
    }
    if (rc == 0)
        rc = finish_trace(&fp);
    if (rc == 0) {
        out_bytes(chunks, footer, sizeof footer - 1);
        if (span_out)
            out_bytes(span_out, footer, sizeof footer - 1);
    }
    /* Close all (an error of any one fails the whole set). */
    if (out_close(chunks) != 0 || out_close(span_out) != 0 || out_close(fp.trace) != 0)
        rc = -1;
    if (rc == 0)
        rc = write_clock_file(tmp[F_CLOCK], clocks, nw, r->t0, true);
    /* Everything is on disk under temporary names: only now replace the earlier files. */
    for (int i = 0; i < N_FINAL && rc == 0; i++)
        if ((i != F_SPANS || spans) && rename(tmp[i], dst[i]) != 0)
            rc = -1;
    for (int i = 0; i < N_FINAL; i++) {
        if (tmp[i])
            unlink(tmp[i]); /* no-op after a rename */
        free(tmp[i]);
        free(dst[i]);
    }
    free(fp.by_rank);
    free(fp.max_thread);
    return rc;
}

int hpool__records_close(hpool__records *r, const hpool__rank_clock *clocks, int n,
                         bool complete)
{
    if (r == NULL)
        return 0;
    int rc = out_close(r->chunks);
    if (out_close(r->spans) != 0)
        rc = -1;
    if (complete && rc == 0) {
        rc = write_finals(r, clocks, n);
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
