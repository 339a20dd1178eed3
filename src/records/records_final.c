/* Timing records: the final pass of a complete run (records.c has the run and the
 * overview). The partial files are read back record by record, worker times mapped onto
 * rank 0's clock, and chunks.tsv, spans.tsv, trace.json and clock.tsv written to
 * temporary names, then renamed into place.
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
#include <unistd.h>

#include "errors.h"
#include "records.h"
#include "records_int.h"
#include "records_select.h"

#define FINAL_BUF (256u << 10)
#define ROW_MAX 1024          /* room reserved before formatting one text row (< 400) */

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

static const char CHUNK_HEADER[] = "run\tchunk\tschedule\tworker\tfirst_item\titems\tt_submit\t"
                                   "t_dispatch\tt_recv\tt_start\tt_end\tt_result\tstatus\n";
static const char SPAN_HEADER[] = "run\trank\tthread\tchunk\titem\tinner\tt_start\tt_end\tlabel\n";

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
    uint64_t n_chunks, n_spans; /* events written to trace.json */
    hpool__trace_select *sel;   /* NULL: trace.json keeps every event */
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
 * each. `size` is the fixed record size, or 0 for chunks.partial's compact records
 * (decoded into an hpool__chunk_rec). Returns 0, or -1 if the file is missing, foreign,
 * malformed or cut. */
static int each_record(final_pass *fp, int part, const char magic[8], size_t size,
                       void (*fn)(final_pass *, const void *))
{
    char *path = hpool__path_join(fp->r->dir, PART_NAME[part]);
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    free(path);
    if (fd < 0)
        return -1;
    enum { BLOCK = 1u << 20 };
    unsigned char *buf = malloc(BLOCK);
    part_header h;
    int rc = buf && read(fd, &h, sizeof h) == (ssize_t)sizeof h &&
                     memcmp(h.magic, magic, sizeof h.magic) == 0 &&
                     h.header_size == sizeof h && h.record_size == size && h.run == fp->r->run
                 ? 0
                 : -1;
    hpool__chunk_code code = {0};
    hpool__chunk_rec chunk;
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
        size_t off = 0;
        for (;;) {
            long took;
            const void *rec = buf + off;
            if (size != 0) {
                took = have - off >= size ? (long)size : 0;
            } else {
                took = hpool__chunk_decode(&code, buf + off, have - off, &chunk);
                rec = &chunk;
            }
            if (took < 0)
                rc = -1;
            if (took <= 0)
                break;
            fn(fp, rec);
            off += (size_t)took;
        }
        memmove(buf, buf + off, have - off);
        have -= off;
    }
    if (have != 0)
        rc = -1; /* a cut record: not a file this process wrote completely */
    free(buf);
    close(fd);
    return rc;
}

static double per_item(double dur, uint32_t items)
{
    return dur / (items ? items : 1);
}

/* The first pass of a bounded trace.json: counts, with the times the second maps. */
static void chunk_count(final_pass *fp, const void *rec)
{
    hpool__chunk_rec c;
    memcpy(&c, rec, sizeof c);
    double a = map_time(fp, c.worker, c.t_start), b = map_time(fp, c.worker, c.t_end);
    hpool__trace_select_count(fp->sel, SEL_CHUNK, a, per_item(b - a, c.items), c.status != 0);
}

static void span_count(final_pass *fp, const void *rec)
{
    part_span s;
    memcpy(&s, rec, sizeof s);
    double a = map_time(fp, s.rank, s.t_start), b = map_time(fp, s.rank, s.t_end);
    hpool__trace_select_count(fp->sel, SEL_SPAN, a, b - a, false);
}

/* One chunk record → a chunks.tsv row and (if kept) an "X" event. */
static void chunk_row(final_pass *fp, const void *rec)
{
    hpool__chunk_rec c;
    memcpy(&c, rec, sizeof c);
    double w[3] = {map_time(fp, c.worker, c.t_recv), map_time(fp, c.worker, c.t_start),
                   map_time(fp, c.worker, c.t_end)};
    out_file *out = fp->rows;
    char *p = hpool__out_room(out, ROW_MAX);
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
    hpool__out_commit(out, p);

    if (fp->sel && !hpool__trace_select_keep(fp->sel, SEL_CHUNK, w[1],
                                             per_item(w[2] - w[1], c.items), c.status != 0))
        return;
    p = hpool__out_room(fp->trace, ROW_MAX);
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
    hpool__out_commit(fp->trace, p);
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
    char *p = hpool__out_room(out, ROW_MAX);
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
    hpool__out_commit(out, p);

    if (fp->sel && !hpool__trace_select_keep(fp->sel, SEL_SPAN, a, b - a, false))
        return;
    p = hpool__out_room(fp->trace, ROW_MAX);
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
    hpool__out_commit(fp->trace, p);
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
    char *p = hpool__out_room(fp->trace, 2);
    p = event_sep(fp, p);
    hpool__out_commit(fp->trace, p);
    hpool__out_bytes(fp->trace, s, strlen(s));
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
    hpool__trace_select_summary sum = {.total = {fp->n_chunks, fp->n_spans}};
    if (fp->sel)
        hpool__trace_select_summary_get(fp->sel, &sum);
    uint64_t left_out = sum.total[SEL_CHUNK] + sum.total[SEL_SPAN] - fp->n_chunks - fp->n_spans;
    if (left_out > 0) {
        /* Marks on the timeline where the events left out lie. */
        snprintf(name, sizeof name, "%llu events left out (all in chunks.tsv)",
                 (unsigned long long)left_out);
        rc |= put_json_event(fp, json_pack("{s:s, s:s, s:s, s:i, s:i, s:f, s:s}", "name", name,
                                           "cat", "omitted", "ph", "i", "pid", 0, "tid", 0,
                                           "ts", sum.head_until * 1e6, "s", "g"));
        rc |= put_json_event(fp, json_pack("{s:s, s:s, s:s, s:i, s:i, s:f, s:s}", "name",
                                           "all events kept again", "cat", "omitted", "ph",
                                           "i", "pid", 0, "tid", 0, "ts", sum.tail_from * 1e6,
                                           "s", "g"));
    }
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
    if (other) {
        json_t *full = json_pack("[s]", "chunks.tsv");
        if (r->level >= HPOOL_RECORD_SPANS)
            json_array_append_new(full, json_string("spans.tsv"));
        json_object_set_new(other, "full_records", full);
        json_object_set_new(other, "chunks_total", json_integer((json_int_t)sum.total[SEL_CHUNK]));
        json_object_set_new(other, "spans_total", json_integer((json_int_t)sum.total[SEL_SPAN]));
        json_object_set_new(other, "events_left_out", json_integer((json_int_t)left_out));
        json_object_set_new(other, "max_events", r->max_events == UINT64_MAX
                                                     ? json_null()
                                                     : json_integer((json_int_t)r->max_events));
    }
    if (other && fp->sel)
        json_object_set_new(
            other, "selection",
            json_pack("{s:f, s:f, s:I, s:I, s:o, s:o}", "head_until_s", sum.head_until,
                      "tail_from_s", sum.tail_from, "faults_kept",
                      (json_int_t)sum.faults_kept, "stragglers_kept",
                      (json_int_t)sum.stragglers_kept, "straggler_chunk_s_per_item",
                      json_time(true, sum.straggler_s[SEL_CHUNK]), "straggler_span_s",
                      json_time(true, sum.straggler_s[SEL_SPAN])));
    char *s = other ? json_dumps(other, JSON_COMPACT) : NULL;
    json_decref(other);
    if (s == NULL)
        return -1;
    static const char mid[] = "\n],\"displayTimeUnit\":\"ms\",\"otherData\":";
    hpool__out_bytes(fp->trace, mid, sizeof mid - 1);
    hpool__out_bytes(fp->trace, s, strlen(s));
    hpool__out_bytes(fp->trace, "}\n", 2);
    free(s);
    return rc;
}

/* ---------------------------------------------------------------- clock.tsv */
static const char CLOCK_HEADER[] = "rank\toffset_start\trtt_start\tat_start\toffset_end\t"
                                   "rtt_end\tat_end\tdrift\tt0\n";

int hpool__write_clock_file(const char *path, const hpool__rank_clock *clocks, int n,
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

/* A first pass over the records when trace.json cannot keep them all. */
static int plan_trace(final_pass *fp, bool spans)
{
    const hpool__records *r = fp->r;
    uint64_t n = r->n_chunks + (spans ? r->n_spans : 0);
    if (n <= r->max_events)
        return 0;
    fp->sel = hpool__trace_select_new(r->max_events, hpool__now() - r->t0);
    if (fp->sel == NULL ||
        each_record(fp, PART_CHUNKS, MAGIC_CHUNKS, 0, chunk_count) != 0 ||
        (spans && each_record(fp, PART_SPANS, MAGIC_SPANS, sizeof(part_span), span_count) != 0))
        return -1;
    hpool__trace_select_plan(fp->sel);
    return 0;
}

/* The final files of a complete run; returns 0 when all are in place. */
int hpool__records_write_finals(const hpool__records *r, const hpool__rank_clock *clocks,
                                int nw)
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
        tmp[i] = hpool__path_join(r->dir, name);
        dst[i] = hpool__path_join(r->dir, final_name[i]);
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
        chunks = hpool__out_open(tmp[F_CHUNKS], FINAL_BUF, false);
        fp.trace = hpool__out_open(tmp[F_TRACE], FINAL_BUF, false);
        if (spans)
            span_out = hpool__out_open(tmp[F_SPANS], FINAL_BUF, false);
        rc = chunks && fp.trace && (!spans || span_out) ? 0 : -1;
    }
    if (rc == 0)
        rc = plan_trace(&fp, spans);
    if (rc == 0) {
        hpool__out_bytes(chunks, CHUNK_HEADER, sizeof CHUNK_HEADER - 1);
        static const char open_doc[] = "{\"traceEvents\":[";
        hpool__out_bytes(fp.trace, open_doc, sizeof open_doc - 1);
        fp.rows = chunks;
        rc = each_record(&fp, PART_CHUNKS, MAGIC_CHUNKS, 0, chunk_row);
    }
    if (rc == 0 && spans) {
        hpool__out_bytes(span_out, SPAN_HEADER, sizeof SPAN_HEADER - 1);
        fp.rows = span_out;
        rc = each_record(&fp, PART_SPANS, MAGIC_SPANS, sizeof(part_span), span_row);
    }
    if (rc == 0)
        rc = finish_trace(&fp);
    if (rc == 0) {
        hpool__out_bytes(chunks, footer, sizeof footer - 1);
        if (span_out)
            hpool__out_bytes(span_out, footer, sizeof footer - 1);
    }
    /* Close all (an error of any one fails the whole set). */
    if (hpool__out_close(chunks) != 0 || hpool__out_close(span_out) != 0 ||
        hpool__out_close(fp.trace) != 0)
        rc = -1;
    if (rc == 0)
        rc = hpool__write_clock_file(tmp[F_CLOCK], clocks, nw, r->t0, true);
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
    hpool__trace_select_free(fp.sel);
    return rc;
}
