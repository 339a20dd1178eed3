/* Timing records: chunks.tsv, spans.tsv and trace.json of one executor run.
 *
 * While the run goes on, records stream (buffered) to `*.partial` files with raw clocks,
 * so a job that dies keeps what it had. At the end the final files are written with every
 * worker's clock mapped onto rank 0's (start/end offsets, linear drift), to temporary
 * names, and renamed into place: an earlier complete result is only ever replaced by a
 * complete one. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "executor.h"
#include "records.h"

typedef struct {
    int rank;
    uint64_t chunk;
    hpool__wire_span s;
} span_record;

struct hpool__records {
    char *dir;
    int run;
    int level;
    double t0; /* executor creation, manager clock */
    FILE *stream_chunks, *stream_spans;
    double last_flush;
    hpool__chunk_record *chunks;
    size_t n_chunks, cap_chunks;
    span_record *spans;
    size_t n_spans, cap_spans;
};

static char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

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

static FILE *open_in(const char *dir, const char *name, const char *header)
{
    char *p = path_join(dir, name);
    FILE *f = p ? fopen(p, "w") : NULL;
    free(p);
    if (f && header)
        fputs(header, f);
    return f;
}

static const char CHUNK_HEADER[] = "run\tchunk\tschedule\tworker\tfirst_item\titems\tt_submit\t"
                                   "t_dispatch\tt_recv\tt_start\tt_end\tt_result\tstatus\n";
static const char SPAN_HEADER[] = "run\trank\tthread\tchunk\titem\tinner\tt_start\tt_end\tlabel\n";

hpool__records *hpool__records_open(const hpool_executor *ex, int *err)
{
    *err = 0;
    if (ex->record_dir == NULL || ex->record_level == HPOOL_RECORD_NONE)
        return NULL;
    hpool__records *r = calloc(1, sizeof *r);
    if (r == NULL || make_dirs(ex->record_dir) != 0) {
        free(r);
        *err = HPOOL_EIO;
        return NULL;
    }
    r->dir = strdup(ex->record_dir);
    r->run = ex->record_run;
    r->level = ex->record_level;
    r->t0 = ex->t_created;
    r->stream_chunks = open_in(r->dir, "chunks.tsv.partial", CHUNK_HEADER);
    if (r->level >= HPOOL_RECORD_SPANS)
        r->stream_spans = open_in(r->dir, "spans.tsv.partial", SPAN_HEADER);
    if (r->stream_chunks == NULL || (r->level >= HPOOL_RECORD_SPANS && !r->stream_spans))
        *err = HPOOL_EIO;
    return r;
}

static const char *schedule_label(int k)
{
    return k < 0 ? "submit" : hpool_schedule_name((hpool_schedule_kind)k);
}

static void write_chunk_row(FILE *f, int run, const hpool__chunk_record *c, double t0,
                            const hpool__clock_map *clock)
{
    double w[3] = {c->t_recv, c->t_start, c->t_end};
    for (int i = 0; i < 3; i++)
        w[i] = (clock ? hpool__clock_map_apply(clock, w[i]) : w[i]) - t0;
    fprintf(f, "%d\t%llu\t%s\t%d\t%llu\t%u\t%.9f\t%.9f\t%.9f\t%.9f\t%.9f\t%.9f\t%d\n", run,
            (unsigned long long)c->chunk, schedule_label(c->schedule), c->worker,
            (unsigned long long)c->first_item, c->items, c->t_submit - t0, c->t_dispatch - t0,
            w[0], w[1], w[2], c->t_result - t0, c->status);
}

static void write_span_row(FILE *f, int run, const span_record *s, double t0,
                           const hpool__clock_map *clock)
{
    double a = s->s.t_start, b = s->s.t_end;
    if (clock) {
        a = hpool__clock_map_apply(clock, a);
        b = hpool__clock_map_apply(clock, b);
    }
    char label[HPOOL__SPAN_LABEL + 1];
    memcpy(label, s->s.label, HPOOL__SPAN_LABEL);
    label[HPOOL__SPAN_LABEL] = '\0';
    for (char *p = label; *p; p++)
        if (*p == '\t' || *p == '\n')
            *p = ' ';
    fprintf(f, "%d\t%d\t%d\t%llu\t%llu\t%u\t%.9f\t%.9f\t%s\n", run, s->rank, s->s.thread,
            (unsigned long long)s->chunk, (unsigned long long)s->s.item, s->s.inner, a - t0,
            b - t0, label[0] ? label : "-");
}

static void maybe_flush(hpool__records *r)
{
    /* Bounded loss on a crash without a flush per record on the hot path. */
    double now = hpool__now();
    if (now - r->last_flush < 0.5)
        return;
    r->last_flush = now;
    if (r->stream_chunks)
        fflush(r->stream_chunks);
    if (r->stream_spans)
        fflush(r->stream_spans);
}

void hpool__records_chunk(hpool__records *r, const hpool__chunk_record *c)
{
    if (r->n_chunks == r->cap_chunks) {
        size_t cap = r->cap_chunks ? r->cap_chunks * 2 : 1024;
        hpool__chunk_record *n = realloc(r->chunks, cap * sizeof *n);
        if (n == NULL)
            return; /* records are best effort; the run itself goes on */
        r->chunks = n;
        r->cap_chunks = cap;
    }
    r->chunks[r->n_chunks++] = *c;
    if (r->stream_chunks)
        write_chunk_row(r->stream_chunks, r->run, c, r->t0, NULL);
    maybe_flush(r);
}

void hpool__records_spans(hpool__records *r, int rank, uint64_t chunk,
                          const hpool__wire_span *spans, uint32_t n)
{
    if (r->level < HPOOL_RECORD_SPANS)
        return;
    for (uint32_t i = 0; i < n; i++) {
        if (r->n_spans == r->cap_spans) {
            size_t cap = r->cap_spans ? r->cap_spans * 2 : 1024;
            span_record *nn = realloc(r->spans, cap * sizeof *nn);
            if (nn == NULL)
                return;
            r->spans = nn;
            r->cap_spans = cap;
        }
        span_record *s = &r->spans[r->n_spans++];
        s->rank = rank;
        s->chunk = chunk;
        memcpy(&s->s, &spans[i], sizeof s->s); /* the message may be unaligned */
        if (r->stream_spans)
            write_span_row(r->stream_spans, r->run, s, r->t0, NULL);
    }
}

/* ---------------------------------------------------------------- final files */
static const hpool__clock_map *clock_of(const hpool__clock_map *clocks, int n, int rank)
{
    return (rank >= 1 && rank <= n) ? &clocks[rank - 1] : NULL;
}

static json_t *x_event(const char *name, int pid, int tid, double t0, double t1)
{
    return json_pack("{s:s, s:s, s:i, s:i, s:f, s:f}", "name", name, "ph", "X", "pid", pid,
                     "tid", tid, "ts", t0 * 1e6, "dur", (t1 - t0) * 1e6);
}

static json_t *meta_event(const char *what, int pid, int tid, const char *name)
{
    return json_pack("{s:s, s:s, s:i, s:i, s:{s:s}}", "name", what, "ph", "M", "pid", pid,
                     "tid", tid, "args", "name", name);
}

static json_t *build_trace(const hpool__records *r, const hpool__clock_map *clocks, int nw)
{
    json_t *ev = json_array();
    char name[64];
    for (int rank = 1; rank <= nw; rank++) {
        snprintf(name, sizeof name, "rank %d", rank);
        json_array_append_new(ev, meta_event("process_name", rank, 0, name));
        json_array_append_new(ev, meta_event("thread_name", rank, 0, "call items"));
    }
    for (size_t i = 0; i < r->n_chunks; i++) {
        const hpool__chunk_record *c = &r->chunks[i];
        const hpool__clock_map *m = clock_of(clocks, nw, c->worker);
        double a = (m ? hpool__clock_map_apply(m, c->t_start) : c->t_start) - r->t0;
        double b = (m ? hpool__clock_map_apply(m, c->t_end) : c->t_end) - r->t0;
        snprintf(name, sizeof name, "chunk %llu", (unsigned long long)c->chunk);
        json_t *e = x_event(name, c->worker, 0, a, b);
        json_object_set_new(e, "args",
                            json_pack("{s:I, s:I, s:i, s:s, s:i}", "chunk", (json_int_t)c->chunk,
                                      "first_item", (json_int_t)c->first_item, "items",
                                      (int)c->items, "schedule", schedule_label(c->schedule),
                                      "status", c->status));
        json_array_append_new(ev, e);
    }
    for (size_t i = 0; i < r->n_spans; i++) {
        const span_record *s = &r->spans[i];
        const hpool__clock_map *m = clock_of(clocks, nw, s->rank);
        double a = (m ? hpool__clock_map_apply(m, s->s.t_start) : s->s.t_start) - r->t0;
        double b = (m ? hpool__clock_map_apply(m, s->s.t_end) : s->s.t_end) - r->t0;
        char label[HPOOL__SPAN_LABEL + 1];
        memcpy(label, s->s.label, HPOOL__SPAN_LABEL);
        label[HPOOL__SPAN_LABEL] = '\0';
        json_t *e = x_event(label[0] ? label : "inner", s->rank, s->s.thread + 1, a, b);
        json_object_set_new(e, "args",
                            json_pack("{s:I, s:I, s:i}", "chunk", (json_int_t)s->chunk, "item",
                                      (json_int_t)s->s.item, "inner", (int)s->s.inner));
        json_array_append_new(ev, e);
    }
    return json_pack("{s:o, s:s, s:{s:i, s:i}}", "traceEvents", ev, "displayTimeUnit", "ms",
                     "otherData", "run", r->run, "workers", nw);
}

/* Write `name` in r->dir through a temporary file and rename it into place. */
static int write_atomically(const hpool__records *r, const char *name,
                            int (*fill)(FILE *, const hpool__records *, const hpool__clock_map *,
                                        int, bool),
                            const hpool__clock_map *clocks, int nw, bool complete)
{
    char tmpname[256];
    snprintf(tmpname, sizeof tmpname, ".%s.tmp", name);
    char *tmp = path_join(r->dir, tmpname), *dst = path_join(r->dir, name);
    FILE *f = tmp ? fopen(tmp, "w") : NULL;
    int rc = f ? fill(f, r, clocks, nw, complete) : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, dst) != 0)
        rc = -1;
    if (rc != 0 && tmp)
        unlink(tmp);
    free(tmp);
    free(dst);
    return rc;
}

static int fill_chunks(FILE *f, const hpool__records *r, const hpool__clock_map *clocks,
                       int nw, bool complete)
{
    fputs(CHUNK_HEADER, f);
    for (size_t i = 0; i < r->n_chunks; i++)
        write_chunk_row(f, r->run, &r->chunks[i], r->t0,
                        clock_of(clocks, nw, r->chunks[i].worker));
    if (complete)
        fputs("# complete\n", f);
    return ferror(f) ? -1 : 0;
}

static int fill_spans(FILE *f, const hpool__records *r, const hpool__clock_map *clocks, int nw,
                      bool complete)
{
    fputs(SPAN_HEADER, f);
    for (size_t i = 0; i < r->n_spans; i++)
        write_span_row(f, r->run, &r->spans[i], r->t0, clock_of(clocks, nw, r->spans[i].rank));
    if (complete)
        fputs("# complete\n", f);
    return ferror(f) ? -1 : 0;
}

static int fill_trace(FILE *f, const hpool__records *r, const hpool__clock_map *clocks, int nw,
                      bool complete)
{
    json_t *t = build_trace(r, clocks, nw);
    if (t == NULL)
        return -1;
    json_object_set_new(json_object_get(t, "otherData"), "complete", json_boolean(complete));
    int rc = json_dumpf(t, f, JSON_COMPACT);
    json_decref(t);
    return rc;
}

static void remove_partial(const hpool__records *r, const char *name)
{
    char *p = path_join(r->dir, name);
    if (p)
        unlink(p);
    free(p);
}

int hpool__records_close(hpool__records *r, const hpool__clock_map *clocks, int n_workers,
                         bool complete)
{
    if (r == NULL)
        return 0;
    if (r->stream_chunks)
        fclose(r->stream_chunks);
    if (r->stream_spans)
        fclose(r->stream_spans);
    int rc = 0;
    if (complete) {
        rc |= write_atomically(r, "chunks.tsv", fill_chunks, clocks, n_workers, true);
        if (r->level >= HPOOL_RECORD_SPANS)
            rc |= write_atomically(r, "spans.tsv", fill_spans, clocks, n_workers, true);
        rc |= write_atomically(r, "trace.json", fill_trace, clocks, n_workers, true);
        if (rc == 0) {
            remove_partial(r, "chunks.tsv.partial");
            remove_partial(r, "spans.tsv.partial");
        }
    }
    free(r->chunks);
    free(r->spans);
    free(r->dir);
    free(r);
    return rc ? HPOOL_EIO : 0;
}
