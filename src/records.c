/* Timing records: chunks.tsv, spans.tsv, clock.tsv and trace.json of one executor run
 * (docs/FORMATS.md).
 *
 * While the run goes on, every row is formatted into a 64 KiB buffer and written to a
 * `*.partial` file when the buffer fills or half a second has passed since the last
 * write, so a job that dies keeps everything but its last half second. Rows are written
 * with the clocks as read (worker times raw), because the clock map is only known at the
 * end: drift is measured by the second synchronisation.
 *
 * Closing a complete run re-reads the partial files row by row, maps worker times onto
 * rank 0's clock and writes the final files, each to a temporary name, and only when all
 * are written renames them into place: an earlier complete result is only ever replaced
 * by a complete one. Nothing is kept in memory per row, so 10^6 chunks cost the same
 * memory as ten.
 *
 * The rows are formatted by hand (integers and fixed-point decimals), not with printf:
 * this runs on the manager thread once per call item, on the critical path of every
 * dispatch, and printf's %f costs about a microsecond per number. trace.json events hold
 * only numbers and strings sanitised when recorded, so they are formatted the same way;
 * jansson builds the parts with free text (executor label, otherData). */
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

#define OUT_CAP (64 * 1024)
#define ROW_MAX 1024      /* room reserved before formatting one row (longest: ~400) */
#define FLUSH_EVERY_S 0.5 /* most a crash loses of a run's rows */

/* ---------------------------------------------------------------- buffered output */
/* A write(2)-level buffered file: no stdio locking on the hot path, and a failure is
 * remembered so that a truncated file is never renamed into place. */
typedef struct {
    int fd;
    bool failed;
    size_t len;
    char buf[OUT_CAP];
} out_file;

static char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static out_file *out_open(const char *path)
{
    out_file *o = malloc(sizeof *o);
    if (o == NULL)
        return NULL;
    o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    o->failed = false;
    o->len = 0;
    if (o->fd < 0) {
        free(o);
        return NULL;
    }
    return o;
}

static void out_flush(out_file *o)
{
    size_t done = 0;
    while (done < o->len && !o->failed) {
        ssize_t n = write(o->fd, o->buf + done, o->len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            o->failed = true;
        else
            done += (size_t)n;
    }
    o->len = 0;
}

/* Room for `n` more bytes; returns where to write them (commit with out_commit). */
static char *out_room(out_file *o, size_t n)
{
    if (o->len + n > OUT_CAP)
        out_flush(o);
    return o->buf + o->len;
}

static void out_commit(out_file *o, const char *end)
{
    o->len = (size_t)(end - o->buf);
}

static void out_str(out_file *o, const char *s, size_t n)
{
    if (n > OUT_CAP / 2) { /* only otherData can be this long */
        out_flush(o);
        for (size_t done = 0; done < n && !o->failed;) {
            ssize_t k = write(o->fd, s + done, n - done);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                o->failed = true;
            else
                done += (size_t)k;
        }
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
    int rc = o->failed ? -1 : 0;
    if (close(o->fd) != 0)
        rc = -1;
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

static char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
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
 * to 9e9 (in ns: 285 years); beyond, and for NaN/inf, printf in exponent form, which the
 * reader also takes (at most 32 bytes either way). */
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

/* A time in µs for trace.json, which has no NaN or infinity: such a value can only come
 * from a garbled worker timestamp, and 0 keeps the file loadable. */
static char *put_json_us(char *p, double seconds)
{
    double us = seconds * 1e6;
    return put_fixed(p, isfinite(us) ? us : 0.0, 3);
}

/* ---------------------------------------------------------------- parsing (final pass) */
/* Split a line (without its newline) at tabs, in place. Returns the field count. */
static int split_tabs(char *line, char **f, int max)
{
    int n = 0;
    f[n++] = line;
    for (char *p = line; *p; p++) {
        if (*p != '\t')
            continue;
        *p = '\0';
        if (n == max)
            return max + 1; /* too many */
        f[n++] = p + 1;
    }
    return n;
}

static bool is_int(const char *s)
{
    if (*s == '-')
        s++;
    if (*s < '0' || *s > '9')
        return false;
    while (*s >= '0' && *s <= '9')
        s++;
    return *s == '\0';
}

static bool is_word(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

/* A time written by put_fixed. The fixed-point form (all but pathological values) is
 * parsed directly, exactly to the nanosecond: strtod would cost as much as the rest of
 * the final pass together. */
static bool parse_time(const char *s, double *out)
{
    const char *p = s;
    bool neg = *p == '-';
    p += neg;
    uint64_t ip = 0, fp = 0;
    int id = 0, fd = 0;
    for (; *p >= '0' && *p <= '9' && id < 18; p++, id++)
        ip = ip * 10 + (uint64_t)(*p - '0');
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9' && fd < 9; p++, fd++)
            fp = fp * 10 + (uint64_t)(*p - '0');
    if (*p == '\0' && id > 0) {
        for (int k = fd; k < 9; k++)
            fp *= 10;
        double v = (double)ip + (double)fp * 1e-9;
        *out = neg ? -v : v;
        return true;
    }
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return end != s && *end == '\0';
}

/* ---------------------------------------------------------------- the records */
enum { PART_CHUNKS, PART_SPANS, PART_CLOCK, N_PARTS };
static const char *const PART_NAME[N_PARTS] = {"chunks.tsv.partial", "spans.tsv.partial",
                                               "clock.tsv.partial"};

struct hpool__records {
    char *dir;
    int run;
    int level;
    char *label;
    double t0; /* executor creation, manager clock */
    out_file *chunks, *spans;
    double last_flush;
    uint64_t n_chunks, n_spans;
};

static const char CHUNK_HEADER[] = "run\tchunk\tschedule\tworker\tfirst_item\titems\tt_submit\t"
                                   "t_dispatch\tt_recv\tt_start\tt_end\tt_result\tstatus\n";
static const char SPAN_HEADER[] = "run\trank\tthread\tchunk\titem\tinner\tt_start\tt_end\tlabel\n";
static const char CLOCK_HEADER[] = "rank\toffset_start\trtt_start\tat_start\toffset_end\t"
                                   "rtt_end\tat_end\tdrift\tt0\n";
#define CHUNK_COLS 13
#define SPAN_COLS 9

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

static out_file *open_in(const char *dir, const char *name, const char *header)
{
    char *p = path_join(dir, name);
    out_file *o = p ? out_open(p) : NULL;
    free(p);
    if (o && header)
        out_str(o, header, strlen(header));
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
    r->chunks = open_in(r->dir, PART_NAME[PART_CHUNKS], CHUNK_HEADER);
    if (r->level >= HPOOL_RECORD_SPANS)
        r->spans = open_in(r->dir, PART_NAME[PART_SPANS], SPAN_HEADER);
    if (r->chunks == NULL || (r->level >= HPOOL_RECORD_SPANS && r->spans == NULL)) {
        out_close(r->chunks);
        out_close(r->spans);
        records_free(r);
        *err = HPOOL_EIO;
        return NULL;
    }
    return r;
}

static const char *schedule_label(int k)
{
    return k < 0 ? "submit" : hpool_schedule_name((hpool_schedule_kind)k);
}

static void maybe_flush(hpool__records *r, double now)
{
    if (now - r->last_flush < FLUSH_EVERY_S)
        return;
    r->last_flush = now;
    out_flush(r->chunks);
    if (r->spans)
        out_flush(r->spans);
}

/* Manager times are written relative to t0 (they need no mapping), worker times raw. */
void hpool__records_chunk(hpool__records *r, const hpool__chunk_record *c)
{
    char *p = out_room(r->chunks, ROW_MAX);
    p = put_i64(p, r->run);
    *p++ = '\t';
    p = put_u64(p, c->chunk);
    *p++ = '\t';
    p = put_str(p, schedule_label(c->schedule));
    *p++ = '\t';
    p = put_i64(p, c->worker);
    *p++ = '\t';
    p = put_u64(p, c->first_item);
    *p++ = '\t';
    p = put_u64(p, c->items);
    const double t[6] = {c->t_submit - r->t0, c->t_dispatch - r->t0, c->t_recv, c->t_start,
                         c->t_end, c->t_result - r->t0};
    for (int i = 0; i < 6; i++) {
        *p++ = '\t';
        p = put_fixed(p, t[i], 9);
    }
    *p++ = '\t';
    p = put_i64(p, c->status);
    *p++ = '\n';
    out_commit(r->chunks, p);
    r->n_chunks++;
    maybe_flush(r, c->t_result);
}

/* Labels are free text from tasks; they are kept to printable ASCII without the
 * characters TSV and JSON would need escaped, so that both can be written verbatim. */
static char *put_label(char *p, const char *label, size_t max)
{
    char *start = p;
    for (size_t i = 0; i < max && label[i]; i++) {
        unsigned char ch = (unsigned char)label[i];
        *p++ = (ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\') ? '_' : (char)ch;
    }
    if (p == start)
        *p++ = '-';
    return p;
}

void hpool__records_spans(hpool__records *r, int rank, uint64_t chunk,
                          const hpool__wire_span *spans, uint32_t n)
{
    if (r->spans == NULL)
        return;
    for (uint32_t i = 0; i < n; i++) {
        hpool__wire_span s;
        memcpy(&s, &spans[i], sizeof s); /* the message may be unaligned */
        char *p = out_room(r->spans, ROW_MAX);
        p = put_i64(p, r->run);
        *p++ = '\t';
        p = put_i64(p, rank);
        *p++ = '\t';
        p = put_i64(p, s.thread);
        *p++ = '\t';
        p = put_u64(p, chunk);
        *p++ = '\t';
        p = put_u64(p, s.item);
        *p++ = '\t';
        p = put_u64(p, s.inner);
        *p++ = '\t';
        p = put_fixed(p, s.t_start, 9);
        *p++ = '\t';
        p = put_fixed(p, s.t_end, 9);
        *p++ = '\t';
        p = put_label(p, s.label, sizeof s.label);
        *p++ = '\n';
        out_commit(r->spans, p);
        r->n_spans++;
    }
    /* Called right after the chunk of the same RESULT, whose record flushed if due. */
}

/* ---------------------------------------------------------------- clock.tsv */
static int write_clock_file(const char *path, const hpool__rank_clock *clocks, int nw,
                            double t0, bool complete)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fputs(CLOCK_HEADER, f);
    for (int i = 0; i < nw; i++) {
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
        /* t0 in every row: a crashed run's raw partial rows need it, and only this file */
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
    out_file *trace;
    bool first_event;
} final_pass;

static double map_time(const final_pass *fp, int rank, double t_worker)
{
    const hpool__clock_map *m = rank >= 0 && rank <= fp->max_rank ? fp->by_rank[rank] : NULL;
    return m ? hpool__clock_map_apply(m, t_worker) : t_worker;
}

static char *event_sep(final_pass *fp, char *p)
{
    if (!fp->first_event)
        *p++ = ',';
    fp->first_event = false;
    *p++ = '\n';
    return p;
}

static char *put_field(char *p, const char *f)
{
    *p++ = '\t';
    return put_str(p, f);
}

/* chunks.tsv.partial → chunks.tsv (tmp) and the chunk events of trace.json. Fields are
 * validated before they are copied into either file. */
static int pass_chunks(final_pass *fp, FILE *in, out_file *out)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    bool header = true;
    while (rc == 0 && (n = getline(&line, &cap, in)) > 0) {
        if (header) { /* our own header line */
            header = false;
            continue;
        }
        if (line[n - 1] != '\n' || n > 512) {
            rc = -1;
            break;
        }
        line[n - 1] = '\0';
        char *f[CHUNK_COLS];
        double w[3];
        if (split_tabs(line, f, CHUNK_COLS) != CHUNK_COLS || !is_int(f[0]) || !is_int(f[1]) ||
            !is_word(f[2]) || !is_int(f[3]) || !is_int(f[4]) || !is_int(f[5]) ||
            !is_int(f[12])) {
            rc = -1;
            break;
        }
        double dummy;
        if (!parse_time(f[6], &dummy) || !parse_time(f[7], &dummy) ||
            !parse_time(f[11], &dummy)) {
            rc = -1;
            break;
        }
        int rank = atoi(f[3]);
        for (int i = 0; i < 3; i++) {
            if (!parse_time(f[8 + i], &w[i])) {
                rc = -1;
                break;
            }
            w[i] = map_time(fp, rank, w[i]) - fp->r->t0;
        }
        if (rc)
            break;
        char *p = out_room(out, ROW_MAX);
        p = put_str(p, f[0]);
        for (int i = 1; i < 8; i++)
            p = put_field(p, f[i]);
        for (int i = 0; i < 3; i++) {
            *p++ = '\t';
            p = put_fixed(p, w[i], 9);
        }
        p = put_field(p, f[11]);
        p = put_field(p, f[12]);
        *p++ = '\n';
        out_commit(out, p);

        p = out_room(fp->trace, ROW_MAX);
        p = event_sep(fp, p);
        p = put_str(p, "{\"name\":\"chunk ");
        p = put_str(p, f[1]);
        p = put_str(p, "\",\"cat\":\"chunk\",\"ph\":\"X\",\"pid\":");
        p = put_str(p, f[3]);
        p = put_str(p, ",\"tid\":0,\"ts\":");
        p = put_json_us(p, w[1]);
        p = put_str(p, ",\"dur\":");
        p = put_json_us(p, w[2] - w[1]);
        p = put_str(p, ",\"args\":{\"chunk\":");
        p = put_str(p, f[1]);
        p = put_str(p, ",\"first_item\":");
        p = put_str(p, f[4]);
        p = put_str(p, ",\"items\":");
        p = put_str(p, f[5]);
        p = put_str(p, ",\"schedule\":\"");
        p = put_str(p, f[2]);
        p = put_str(p, "\",\"status\":");
        p = put_str(p, f[12]);
        p = put_str(p, "}}");
        out_commit(fp->trace, p);
    }
    free(line);
    return rc == 0 && !ferror(in) ? 0 : -1;
}

static bool is_label(const char *s)
{
    if (*s == '\0' || strlen(s) > HPOOL__SPAN_LABEL)
        return false;
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
            return false;
    return true;
}

/* spans.tsv.partial → spans.tsv (tmp) and the span events of trace.json. */
static int pass_spans(final_pass *fp, FILE *in, out_file *out)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    bool header = true;
    while (rc == 0 && (n = getline(&line, &cap, in)) > 0) {
        if (header) {
            header = false;
            continue;
        }
        if (line[n - 1] != '\n' || n > 512) {
            rc = -1;
            break;
        }
        line[n - 1] = '\0';
        char *f[SPAN_COLS];
        double w[2];
        if (split_tabs(line, f, SPAN_COLS) != SPAN_COLS || !is_int(f[0]) || !is_int(f[1]) ||
            !is_int(f[2]) || !is_int(f[3]) || !is_int(f[4]) || !is_int(f[5]) ||
            !is_label(f[8]) || !parse_time(f[6], &w[0]) || !parse_time(f[7], &w[1])) {
            rc = -1;
            break;
        }
        int rank = atoi(f[1]), thread = atoi(f[2]);
        for (int i = 0; i < 2; i++)
            w[i] = map_time(fp, rank, w[i]) - fp->r->t0;
        if (rank >= 0 && rank <= fp->max_rank && thread > fp->max_thread[rank])
            fp->max_thread[rank] = thread < 1023 ? thread : 1023;

        char *p = out_room(out, ROW_MAX);
        p = put_str(p, f[0]);
        for (int i = 1; i < 6; i++)
            p = put_field(p, f[i]);
        for (int i = 0; i < 2; i++) {
            *p++ = '\t';
            p = put_fixed(p, w[i], 9);
        }
        p = put_field(p, f[8]);
        *p++ = '\n';
        out_commit(out, p);

        p = out_room(fp->trace, ROW_MAX);
        p = event_sep(fp, p);
        p = put_str(p, "{\"name\":\"");
        p = put_str(p, strcmp(f[8], "-") ? f[8] : "inner");
        p = put_str(p, "\",\"cat\":\"span\",\"ph\":\"X\",\"pid\":");
        p = put_str(p, f[1]);
        p = put_str(p, ",\"tid\":");
        p = put_i64(p, (int64_t)thread + 1);
        p = put_str(p, ",\"ts\":");
        p = put_json_us(p, w[0]);
        p = put_str(p, ",\"dur\":");
        p = put_json_us(p, w[1] - w[0]);
        p = put_str(p, ",\"args\":{\"chunk\":");
        p = put_str(p, f[3]);
        p = put_str(p, ",\"item\":");
        p = put_str(p, f[4]);
        p = put_str(p, ",\"inner\":");
        p = put_str(p, f[5]);
        p = put_str(p, "}}");
        out_commit(fp->trace, p);
    }
    free(line);
    return rc == 0 && !ferror(in) ? 0 : -1;
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
    out_str(fp->trace, s, strlen(s));
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
        for (int t = 0; t <= fp->max_thread[rank]; t++) {
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
                              fp->clocks[i].rank,
                              "offset_start", json_time(m->have_start, m->start.offset),
                              "rtt_start", json_time(m->have_start, m->start.rtt), "at_start",
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
        (json_int_t)r->n_chunks, "spans", (json_int_t)r->n_spans, "t0_monotonic_s", r->t0,
        "clocks", clocks);
    char *s = other ? json_dumps(other, JSON_COMPACT) : NULL;
    json_decref(other);
    if (s == NULL)
        return -1;
    static const char mid[] = "\n],\"displayTimeUnit\":\"ms\",\"otherData\":";
    out_str(fp->trace, mid, sizeof mid - 1);
    out_str(fp->trace, s, strlen(s));
    out_str(fp->trace, "}\n", 2);
    free(s);
    return rc;
}

static int add_footer(out_file *o)
{
    static const char footer[] = "# complete\n";
    out_str(o, footer, sizeof footer - 1);
    return 0;
}

static FILE *open_part(const hpool__records *r, int part)
{
    char *p = path_join(r->dir, PART_NAME[part]);
    FILE *f = p ? fopen(p, "r") : NULL;
    free(p);
    if (f)
        setvbuf(f, NULL, _IOFBF, 1 << 16);
    return f;
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
    FILE *in = NULL;
    if (rc == 0) {
        chunks = out_open(tmp[F_CHUNKS]);
        fp.trace = out_open(tmp[F_TRACE]);
        if (spans)
            span_out = out_open(tmp[F_SPANS]);
        rc = chunks && fp.trace && (!spans || span_out) ? 0 : -1;
    }
    if (rc == 0) {
        out_str(chunks, CHUNK_HEADER, sizeof CHUNK_HEADER - 1);
        out_str(fp.trace, "{\"traceEvents\":[", 16);
        in = open_part(r, PART_CHUNKS);
        rc = in ? pass_chunks(&fp, in, chunks) : -1;
        if (in)
            fclose(in);
    }
    if (rc == 0 && spans) {
        out_str(span_out, SPAN_HEADER, sizeof SPAN_HEADER - 1);
        in = open_part(r, PART_SPANS);
        rc = in ? pass_spans(&fp, in, span_out) : -1;
        if (in)
            fclose(in);
    }
    if (rc == 0)
        rc = finish_trace(&fp);
    if (rc == 0) {
        add_footer(chunks);
        if (span_out)
            add_footer(span_out);
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
        /* Keep the partial rows; give them the end clocks too if the run got that far. */
        hpool__records_clocks(r, clocks, n);
    }
    records_free(r);
    return rc ? HPOOL_EIO : 0;
}
