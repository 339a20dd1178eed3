/* The experiment's trace.json (or trace.json.gz): every recorded run's trace.json laid
 * out one after another on one time axis, streamed event by event.
 *
 * Each run's trace.json is already bounded by the library (its share of the config's
 * trace_max_events), so the merged file is bounded too; streaming keeps hpool-bench's
 * memory at one event, where loading the documents whole took ~1 kB per event. The
 * run files are the library's own layout: one event per line between the opening
 * `{"traceEvents":[` line and the `],"displayTimeUnit":...,"otherData":{...}}` line. */
#include "trace_merge.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

typedef struct {
    gzFile out;
    bool first;
    uint64_t events, left_out;
    json_t *runs; /* each run's otherData */
} merge;

static int put(merge *m, const char *s)
{
    size_t n = strlen(s);
    return n == 0 || gzwrite(m->out, s, (unsigned)n) == (int)n ? 0 : -1;
}

/* One run: its events shifted by `offset` µs; returns its end in µs, or NAN on error. */
static double merge_run(merge *m, const char *src, double offset)
{
    FILE *in = fopen(src, "r");
    if (in == NULL)
        return offset; /* this run recorded nothing */
    char *line = NULL;
    size_t cap = 0;
    ssize_t k;
    double end = offset;
    bool ok = getline(&line, &cap, in) > 0 && strncmp(line, "{\"traceEvents\":[", 16) == 0;
    bool closed = false;
    while (ok && !closed && (k = getline(&line, &cap, in)) > 0) {
        while (k > 0 && (line[k - 1] == '\n' || line[k - 1] == ','))
            line[--k] = '\0';
        if (strncmp(line, "],", 2) == 0) {
            /* the closing line: `],"displayTimeUnit":"ms","otherData":{...}}` */
            line[1] = '{';
            json_t *tail = json_loads(line + 1, 0, NULL);
            json_t *other = json_object_get(tail, "otherData");
            ok = other != NULL;
            if (ok) {
                m->left_out += (uint64_t)json_integer_value(json_object_get(other, "events_left_out"));
                json_array_append(m->runs, other);
            }
            json_decref(tail);
            closed = true;
            continue;
        }
        json_t *ev = json_loads(line, 0, NULL);
        ok = json_is_object(ev);
        json_t *ts = json_object_get(ev, "ts");
        if (ok && ts) {
            double t = json_number_value(ts) + offset;
            json_object_set_new(ev, "ts", json_real(t));
            end = fmax(end, t + json_number_value(json_object_get(ev, "dur")));
        }
        char *s = ok ? json_dumps(ev, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
        ok = s && put(m, m->first ? "\n" : ",\n") == 0 && put(m, s) == 0;
        m->first = false;
        m->events++;
        free(s);
        json_decref(ev);
    }
    free(line);
    fclose(in);
    return ok && closed ? end : NAN;
}

int hpool_bench_merge_traces(const char *dir, const int *ids, size_t n, bool gzip,
                             bool otf2, char *err, size_t errlen)
{
    const char *name = gzip ? "trace.json.gz" : "trace.json";
    char tmp[4096], dst[4096], src[4096];
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    snprintf(dst, sizeof dst, "%s/%s", dir, name);
    /* "T": zlib's transparent mode, plain text through the same calls */
    err[0] = '\0';
    merge m = {.out = gzopen(tmp, gzip ? "wb6" : "wbT"), .first = true, .runs = json_array()};
    int rc = m.out && m.runs && put(&m, "{\"traceEvents\":[") == 0 ? 0 : -1;
    double offset = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        snprintf(src, sizeof src, "%s/runs/%d/trace.json", dir, ids[i]);
        double end = merge_run(&m, src, offset);
        if (isnan(end)) {
            snprintf(err, errlen, "%s: not a trace.json as hpool writes it", src);
            rc = -1;
        }
        offset = end + 1e4; /* runs 10 ms apart */
    }
    json_t *full = json_pack("[s, s]", "chunks.tsv", "spans.tsv");
    if (otf2)
        json_array_append_new(full, json_string("runs/RUN/otf2/traces.otf2"));
    json_t *other = json_pack("{s:i, s:b, s:I, s:I, s:o, s:o}", "runs", (int)n, "complete", 1,
                              "events", (json_int_t)m.events, "events_left_out",
                              (json_int_t)m.left_out, "full_records", full, "run_data",
                              m.runs);
    char *s = other ? json_dumps(other, JSON_COMPACT) : NULL;
    json_decref(other);
    if (rc == 0 && (s == NULL || put(&m, "\n],\"displayTimeUnit\":\"ms\",\"otherData\":") != 0 ||
                    put(&m, s) != 0 || put(&m, "}\n") != 0))
        rc = -1;
    free(s);
    if (m.out && gzclose(m.out) != Z_OK)
        rc = -1;
    if (rc == 0 && rename(tmp, dst) != 0)
        rc = -1;
    if (rc != 0) {
        unlink(tmp);
        if (err[0] == '\0')
            snprintf(err, errlen, "%s: cannot write %s", dir, name);
        return -1;
    }
    /* Only one of the two forms: a stale other one would be mistaken for this run's. */
    snprintf(dst, sizeof dst, "%s/%s", dir, gzip ? "trace.json" : "trace.json.gz");
    unlink(dst);
    return 0;
}
