/* hpool-bench experiment configs: reading, checking, and expanding the sweep.
 *
 * inih does the INI splitting; everything around it is ours, because inih on its own
 * would accept things we want to refuse with a clear message:
 *  - it silently splits lines longer than its buffer (INI_MAX_LINE, 200 in Debian's
 *    build) into two lines. Our reader feeds it one line at a time from a buffer we read
 *    ourselves, and refuses any line that does not fit the buffer it offers.
 *  - it does not pass line numbers to the handler (INI_HANDLER_LINENO is 0 in distro
 *    builds). Our reader counts lines, and inih calls the handler for the line it just
 *    read, so the count is the handler's line.
 *  - indented lines become "continuation" values, and name:value is accepted. The reader
 *    strips indentation (so no continuations) and rejects ':' as the separator.
 *  - it ignores sections that hold no keys and anything after "]". The reader checks
 *    section headers itself.
 *  - NUL bytes end a line early in fgets-style reading. The reader checks for NUL,
 *    control bytes and invalid UTF-8 before inih sees a line.
 * Only the first error is kept; the reader stops feeding lines once there is one.
 *
 * The parser's files are listed in config_int.h. */
#define _POSIX_C_SOURCE 200809L

#include "config.h"
#include "config_int.h"
#include "simulate.h"

#include <ini.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------
 * Whole-file checks.
 * ---------------------------------------------------------------------------------- */

static const hpool_bench_key required_keys[] = {HPOOL_BENCH_KEY_NAME, HPOOL_BENCH_KEY_WORKLOAD,
                                                 HPOOL_BENCH_KEY_TASKS,
                                                 HPOOL_BENCH_KEY_WORKERS};

static void fail_missing_required(parser *p)
{
    sbuf *b = NULL;
    const char *sep = "";
    for (size_t i = 0; i < COUNT_OF(required_keys); i++) {
        if (p->cfg->key_line[required_keys[i]])
            continue;
        if (!b && !(b = hpool_bench__fail_begin(p, 0)))
            return;
        if (!*sep)
            hpool_bench__sb_add(b, "[experiment] missing required key: ");
        hpool_bench__sb_add(b, "%s%s", sep, hpool_bench__keys[required_keys[i]].name);
        sep = ", ";
    }
    if (b)
        hpool_bench__sb_add(b, " (required: name, workload, tasks, workers)");
}

static bool has_workload(const hpool_bench_config *c, hpool_bench_workload w)
{
    for (size_t i = 0; i < c->n_workload; i++)
        if (c->workload[i] == w)
            return true;
    return false;
}

static void sb_workloads(sbuf *b, const hpool_bench_config *c)
{
    for (size_t i = 0; i < c->n_workload; i++)
        hpool_bench__sb_add(b, "%s%s", i ? ", " : "",
                            hpool_bench_workload_name(c->workload[i]));
}

/* schedule_model: only with auto, and a chunks.tsv that can be replayed (read here, so
 * that a bad one stops the experiment before any run). */
static void check_schedule_model(parser *p)
{
    hpool_bench_config *c = p->cfg;
    int line = c->key_line[HPOOL_BENCH_KEY_SCHEDULE_MODEL];
    bool auto_listed = false;
    for (size_t i = 0; i < c->n_schedule; i++)
        auto_listed |= c->schedule[i] == HPOOL_SCHED_AUTO;
    char why[600] = "";
    hpool_bench_profile pr;
    if (!auto_listed)
        snprintf(why, sizeof why, "only auto uses it, and schedule does not list auto");
    else if (hpool_bench_profile_load(c->schedule_model, &pr, why, sizeof why) == 0)
        hpool_bench_profile_free(&pr);
    if (why[0]) {
        sbuf *b = hpool_bench__fail_begin(p, line);
        hpool_bench__sb_add(b, "[experiment] schedule_model = '%s': %s", c->schedule_model,
                            why);
    }
}

/* Rules that involve several keys, checked after the whole file is read. */
static void check_whole(parser *p)
{
    hpool_bench_config *c = p->cfg;
    fail_missing_required(p);
    if (p->failed)
        return;
    bool needs_cost = false;
    for (size_t i = 0; i < c->n_workload; i++)
        needs_cost |= c->workload[i] != HPOOL_BENCH_WL_EMPTY;
    if (needs_cost && !c->key_line[HPOOL_BENCH_KEY_COST_MS] &&
        !c->key_line[HPOOL_BENCH_KEY_ITERATIONS]) {
        sbuf *b = hpool_bench__fail_begin(p, c->key_line[HPOOL_BENCH_KEY_WORKLOAD]);
        hpool_bench__sb_add(b, "[experiment] workload = '");
        sb_workloads(b, c);
        hpool_bench__sb_add(
            b, "': tasks need a cost: give cost_ms or iterations (only 'empty' needs "
               "neither)");
        return;
    }
    if (c->schedule_model)
        check_schedule_model(p);
    if (p->section_line[SEC_HYBRID] && !has_workload(c, HPOOL_BENCH_WL_HYBRID)) {
        sbuf *b = hpool_bench__fail_begin(p, p->section_line[SEC_HYBRID]);
        hpool_bench__sb_add(b, "[hybrid]: section given, but workload = '");
        sb_workloads(b, c);
        hpool_bench__sb_add(b, "' (line %d) does not include hybrid",
                            c->key_line[HPOOL_BENCH_KEY_WORKLOAD]);
    }
}

/* ------------------------------------------------------------------------------------
 * Public API.
 * ---------------------------------------------------------------------------------- */
static void set_defaults(hpool_bench_config *c)
{
    memset(c, 0, sizeof *c);
    c->api[0] = HPOOL_BENCH_API_MAP;
    c->n_api = 1;
    c->schedule[0] = HPOOL_SCHED_FIXED;
    c->n_schedule = 1;
    c->chunksize[0] = 1;
    c->n_chunksize = 1;
    c->threads[0] = 1;
    c->n_threads = 1;
    c->prefetch = 0; /* adaptive (hpool_executor_options.prefetch = 0) */
    c->repeat = 1;
    c->warmup = 0;
    c->seed = 1;
    c->records = HPOOL_RECORD_CHUNKS;
    c->serial_baseline = true;
    c->trace_max_events = 200000;
    c->slow_workers = 1;
    c->slow_factor = 2.0;
    c->inner_items = 5;
    c->inner_ms = 20.0;
    c->counter = HPOOL_BENCH_COUNTER_ATOMIC;
}

/* Text of line `line` of the buffer (without its line end and indentation). */
static const char *buffer_line(const parser *p, int line, size_t *n)
{
    const char *s = p->buf, *end = p->buf + p->len;
    for (int i = 1; i < line && s < end; i++) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        s = nl ? nl + 1 : end;
    }
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    const char *e = nl ? nl : end;
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    if (e > s && e[-1] == '\r')
        e--;
    *n = (size_t)(e - s);
    return s;
}

static void parse_buffer(parser *p)
{
    int r = ini_parse_stream(hpool_bench__read_line, p, hpool_bench__on_key, p);
    /* inih reports lines it could not split; we vet every line first, so this is a
     * fallback (e.g. an inline comment hiding the '='). inih keeps reading after such a
     * line, so a later error of ours may be recorded: the earlier line wins. */
    if (r > 0 && (!p->failed || r < p->err_line)) {
        size_t n;
        const char *text = buffer_line(p, r, &n);
        p->failed = false;
        hpool_bench__fail_line(
            p, r,
            QUOTE_FMT ": syntax error: expected 'key = value', '[section]' or a comment",
            QUOTE_ARGS(text, n));
    } else if (r < 0) {
        hpool_bench__fail_line(p, 0, "inih failed (%d): out of memory?", r);
    }
    p->cfg->has_hybrid_section = p->section_line[SEC_HYBRID] != 0;
    p->cfg->hybrid_line = p->section_line[SEC_HYBRID];
    if (!p->failed)
        check_whole(p);
}

int hpool_bench_config_load(const char *path, hpool_bench_config *cfg, char *err,
                            size_t errlen)
{
    if (!cfg)
        return -1;
    set_defaults(cfg);
    parser p = {.path = path && *path ? path : "(empty path)", .cfg = cfg};
    p.msg = (sbuf){err, errlen, 0};
    if (err && errlen)
        err[0] = '\0';
    cfg->path = strdup(p.path);
    cfg->description = strdup("");
    if (!cfg->path || !cfg->description) {
        hpool_bench__fail_line(&p, 0, "out of memory");
    } else {
        char *buf = hpool_bench__read_file(&p, &p.len);
        p.buf = buf;
        if (buf)
            parse_buffer(&p);
        free(buf);
    }
    if (p.failed) {
        hpool_bench_config_free(cfg);
        return -1;
    }
    return 0;
}

static void sb_ints(sbuf *b, const int *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        hpool_bench__sb_add(b, "%s%d", i ? ", " : "", v[i]);
}

int hpool_bench_config_check_world(const hpool_bench_config *cfg, int world_size,
                                   char *err, size_t errlen)
{
    int need = 0;
    for (size_t i = 0; i < cfg->n_workers; i++)
        need = cfg->workers[i] > need ? cfg->workers[i] : need;
    if (need <= world_size - 1)
        return 0;
    const char *path = cfg->path ? cfg->path : "(config)";
    sbuf b = hpool_bench__start_message(path, cfg->key_line[HPOOL_BENCH_KEY_WORKERS], err,
                                        errlen);
    hpool_bench__sb_add(&b, "[experiment] workers = '");
    sb_ints(&b, cfg->workers, cfg->n_workers);
    hpool_bench__sb_add(
        &b,
        "': %d worker%s need%s %d MPI ranks (rank 0 is the manager) but the job has "
        "%d; run mpirun -n %d, or lower workers (allowed here: ",
        need, need == 1 ? "" : "s", need == 1 ? "s" : "", need + 1, world_size, need + 1);
    if (world_size >= 2)
        hpool_bench__sb_add(&b, "1 .. %d)", world_size - 1);
    else
        hpool_bench__sb_add(&b, "none: the job has no worker rank)");
    return -1;
}

size_t hpool_bench_config_run_count(const hpool_bench_config *cfg)
{
    return cfg->n_workload * cfg->n_api * cfg->n_tasks * cfg->n_schedule *
           cfg->n_chunksize * cfg->n_workers * cfg->n_threads;
}

/* Takes the next (faster-varying first) digit of k in the mixed radix of list sizes. */
static size_t take_digit(size_t *k, size_t n)
{
    size_t d = *k % n;
    *k /= n;
    return d;
}

void hpool_bench_config_run_params(const hpool_bench_config *cfg, size_t k,
                                   hpool_bench_run_params *rp)
{
    memset(rp, 0, sizeof *rp);
    rp->index = k;
    rp->threads = cfg->threads[take_digit(&k, cfg->n_threads)];
    rp->workers = cfg->workers[take_digit(&k, cfg->n_workers)];
    rp->chunksize = cfg->chunksize[take_digit(&k, cfg->n_chunksize)];
    rp->schedule = cfg->schedule[take_digit(&k, cfg->n_schedule)];
    rp->tasks = cfg->tasks[take_digit(&k, cfg->n_tasks)];
    rp->api = cfg->api[take_digit(&k, cfg->n_api)];
    rp->workload = cfg->workload[take_digit(&k, cfg->n_workload)];
    rp->cost_ms = cfg->cost_ms;
    rp->iterations = cfg->iterations;
    rp->prefetch = cfg->prefetch;
    rp->repeat = cfg->repeat;
    rp->warmup = cfg->warmup;
    rp->seed = cfg->seed;
    rp->records = cfg->records;
    /* The runs share the merged trace's events; 0 (all) is -1 for the executor. */
    size_t runs = hpool_bench_config_run_count(cfg) * (size_t)(cfg->repeat > 0 ? cfg->repeat : 1);
    rp->trace_max_events = cfg->trace_max_events == 0 ? -1
                           : cfg->trace_max_events / (int64_t)runs > 100
                               ? cfg->trace_max_events / (int64_t)runs
                               : 100;
    rp->serial_baseline = cfg->serial_baseline;
    for (size_t i = 0; i < cfg->n_peers; i++)
        rp->peer[cfg->peers[i]] = true;
    rp->slow_workers = cfg->slow_workers;
    rp->slow_factor = cfg->slow_factor;
    rp->inner_items = cfg->inner_items;
    rp->inner_ms = cfg->inner_ms;
    rp->counter = cfg->counter;
}

int hpool_bench_config_key_line(const hpool_bench_config *cfg, hpool_bench_key key)
{
    return ((int)key >= 0 && key < HPOOL_BENCH_KEY_COUNT) ? cfg->key_line[key] : 0;
}

void hpool_bench_config_free(hpool_bench_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->path);
    free(cfg->description);
    free(cfg->schedule_model);
    memset(cfg, 0, sizeof *cfg);
}
