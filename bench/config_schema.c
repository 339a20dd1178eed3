/* hpool-bench configs: the schema (the name tables and the key table) and the checking of
 * values against it, in the inih handler (see config.c). */
#define _POSIX_C_SOURCE 200809L

#include "config_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------
 * Names.
 * ---------------------------------------------------------------------------------- */
static const char *const workload_names[] = {"empty",      "cpu_sum",    "io_sleep",
                                             "hybrid",     "increasing", "decreasing",
                                             "random",     "bimodal",    "mandelbrot",
                                             "heterogeneous"};
static const char *const api_names[] = {"map", "submit", "as_completed"};
/* Our own table rather than hpool_schedule_parse(): the bench reads configs before (and
 * without) the library, and the static assert keeps the two enums in step. */
static const char *const schedule_names[] = {
    "fixed", "static", "guided", "trapezoid", "factoring", "awf",   "auto", "ss",
    "fsc",   "mfsc",   "wf",     "awf-b",     "awf-c",     "awf-d", "awf-e", "af"};
static const char *const records_names[] = {"none", "chunks", "spans"};
static const char *const counter_names[] = {"atomic", "critical", "unsafe"};
static const char *const peer_names[] = {"python-ppe", "mpi4py"};
static const char *const bool_names[] = {"no", "yes", "false", "true", "0", "1"};

_Static_assert(COUNT_OF(workload_names) == HPOOL_BENCH_WL_COUNT, "workload table");
_Static_assert(COUNT_OF(api_names) == HPOOL_BENCH_API_COUNT, "api table");
_Static_assert(COUNT_OF(schedule_names) == HPOOL_SCHED_COUNT, "schedule table");
_Static_assert(HPOOL_SCHED_FIXED == 0 && HPOOL_SCHED_AUTO == 6 && HPOOL_SCHED_AF == 15,
               "schedule order");
_Static_assert(HPOOL_RECORD_NONE == 0 && HPOOL_RECORD_CHUNKS == 1 &&
                   HPOOL_RECORD_SPANS == 2, "records order");
_Static_assert(COUNT_OF(counter_names) == HPOOL_BENCH_COUNTER_COUNT, "counter table");
_Static_assert(COUNT_OF(peer_names) == HPOOL_BENCH_PEER_COUNT, "peer table");

static const char *table_name(const char *const *names, size_t n, int i)
{
    return (i >= 0 && (size_t)i < n) ? names[i] : "?";
}

const char *hpool_bench_workload_name(hpool_bench_workload w)
{
    return table_name(workload_names, COUNT_OF(workload_names), (int)w);
}
const char *hpool_bench_api_name(hpool_bench_api a)
{
    return table_name(api_names, COUNT_OF(api_names), (int)a);
}
const char *hpool_bench_schedule_name(hpool_schedule_kind s)
{
    return table_name(schedule_names, COUNT_OF(schedule_names), (int)s);
}
const char *hpool_bench_records_name(hpool_record_level r)
{
    return table_name(records_names, COUNT_OF(records_names), (int)r);
}
const char *hpool_bench_counter_name(hpool_bench_counter c)
{
    return table_name(counter_names, COUNT_OF(counter_names), (int)c);
}
const char *hpool_bench_peer_name(hpool_bench_peer p)
{
    return table_name(peer_names, COUNT_OF(peer_names), (int)p);
}

/* ------------------------------------------------------------------------------------
 * The schema: one row per key.
 * ---------------------------------------------------------------------------------- */
const char *const hpool_bench__section_names[] = {"experiment", "hybrid"};

/* KEY(section, name, kind, other fields...): __VA_ARGS__ starts with the kind, so every
 * row passes at least one variadic argument, as C17 wants. */
#define KEY(sec, key, ...) {.section = (sec), .name = (key), .kind = __VA_ARGS__}
#define NAMES(t) .names = (t), .n_names = COUNT_OF(t)
#define RANGE(lo, hi) .min = (lo), .max = (hi)
#define BILLION INT64_C(1000000000)
#define MILLION INT64_C(1000000)

const key_spec hpool_bench__keys[HPOOL_BENCH_KEY_COUNT] = {
    [HPOOL_BENCH_KEY_NAME] = KEY(SEC_EXPERIMENT, "name", K_NAME),
    [HPOOL_BENCH_KEY_DESCRIPTION] = KEY(SEC_EXPERIMENT, "description", K_TEXT),
    [HPOOL_BENCH_KEY_WORKLOAD] = KEY(SEC_EXPERIMENT, "workload", K_ENUM_LIST,
                                     NAMES(workload_names)),
    [HPOOL_BENCH_KEY_API] = KEY(SEC_EXPERIMENT, "api", K_ENUM_LIST, NAMES(api_names)),
    [HPOOL_BENCH_KEY_TASKS] = KEY(SEC_EXPERIMENT, "tasks", K_INT_LIST, RANGE(1, BILLION)),
    [HPOOL_BENCH_KEY_COST_MS] = KEY(SEC_EXPERIMENT, "cost_ms", K_FLOAT, .fmax = 1e9),
    [HPOOL_BENCH_KEY_ITERATIONS] = KEY(SEC_EXPERIMENT, "iterations", K_INT,
                                       RANGE(1, INT64_MAX)),
    [HPOOL_BENCH_KEY_SCHEDULE] = KEY(SEC_EXPERIMENT, "schedule", K_ENUM_LIST,
                                     NAMES(schedule_names)),
    [HPOOL_BENCH_KEY_CHUNKSIZE] = KEY(SEC_EXPERIMENT, "chunksize", K_INT_LIST,
                                      RANGE(1, BILLION)),
    [HPOOL_BENCH_KEY_WORKERS] = KEY(SEC_EXPERIMENT, "workers", K_INT_LIST, RANGE(1, 65536)),
    [HPOOL_BENCH_KEY_THREADS] = KEY(SEC_EXPERIMENT, "threads", K_INT_LIST, RANGE(1, 4096)),
    [HPOOL_BENCH_KEY_PREFETCH] = KEY(SEC_EXPERIMENT, "prefetch", K_INT, RANGE(0, 64)),
    [HPOOL_BENCH_KEY_REPEAT] = KEY(SEC_EXPERIMENT, "repeat", K_INT, RANGE(1, MILLION)),
    [HPOOL_BENCH_KEY_WARMUP] = KEY(SEC_EXPERIMENT, "warmup", K_INT, RANGE(0, MILLION)),
    [HPOOL_BENCH_KEY_SEED] = KEY(SEC_EXPERIMENT, "seed", K_INT, RANGE(0, INT64_MAX)),
    [HPOOL_BENCH_KEY_RECORDS] = KEY(SEC_EXPERIMENT, "records", K_ENUM, NAMES(records_names)),
    [HPOOL_BENCH_KEY_PEERS] = KEY(SEC_EXPERIMENT, "peers", K_ENUM_LIST, NAMES(peer_names),
                                  .noun = "peer"),
    [HPOOL_BENCH_KEY_SERIAL_BASELINE] = KEY(SEC_EXPERIMENT, "serial_baseline", K_BOOL,
                                            NAMES(bool_names), .noun = "value"),
    [HPOOL_BENCH_KEY_OTF2] = KEY(SEC_EXPERIMENT, "otf2", K_BOOL, NAMES(bool_names),
                                 .noun = "value"),
    [HPOOL_BENCH_KEY_TRACE_MAX_EVENTS] = KEY(SEC_EXPERIMENT, "trace_max_events", K_INT,
                                             RANGE(0, BILLION)),
    [HPOOL_BENCH_KEY_TRACE_GZIP] = KEY(SEC_EXPERIMENT, "trace_gzip", K_BOOL,
                                       NAMES(bool_names), .noun = "value"),
    [HPOOL_BENCH_KEY_SLOW_WORKERS] = KEY(SEC_EXPERIMENT, "slow_workers", K_INT,
                                         RANGE(0, 65536)),
    [HPOOL_BENCH_KEY_SLOW_FACTOR] = KEY(SEC_EXPERIMENT, "slow_factor", K_FLOAT, .fmax = 1000),
    [HPOOL_BENCH_KEY_SCHEDULE_MODEL] = KEY(SEC_EXPERIMENT, "schedule_model", K_TEXT),
    [HPOOL_BENCH_KEY_INNER_ITEMS] = KEY(SEC_HYBRID, "inner_items", K_INT, RANGE(1, MILLION)),
    [HPOOL_BENCH_KEY_INNER_MS] = KEY(SEC_HYBRID, "inner_ms", K_FLOAT, .fmax = 1e9),
    [HPOOL_BENCH_KEY_COUNTER] = KEY(SEC_HYBRID, "counter", K_ENUM, NAMES(counter_names)),
};

const char *hpool_bench_key_name(hpool_bench_key key)
{
    return ((int)key >= 0 && key < HPOOL_BENCH_KEY_COUNT) ? hpool_bench__keys[key].name
                                                          : "?";
}

/* ------------------------------------------------------------------------------------
 * Values.
 * ---------------------------------------------------------------------------------- */
typedef struct {
    int64_t v[HPOOL_BENCH_LIST_MAX]; /* integers, enum indices, bool as 0/1 */
    size_t n;
    double d;
} parsed_value;

static int enum_index(const key_spec *k, const char *s)
{
    for (size_t i = 0; i < k->n_names; i++)
        if (strcmp(k->names[i], s) == 0)
            return (int)i;
    return -1;
}

/* One integer, the whole token, within the key's range. */
static bool parse_int(parser *p, const key_spec *k, const char *value, const char *tok,
                      int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(tok, &end, 10);
    /* strtoll skips leading blanks itself; tokens are trimmed, so a blank here is junk. */
    if (end == tok || isspace((unsigned char)tok[0])) {
        hpool_bench__fail_key(p, k, value, true, "'%s' is not an integer", tok);
        return false;
    }
    if (*end) {
        hpool_bench__fail_key(p, k, value, true, "'%s' is not an integer (junk from '%s')",
                              tok, end);
        return false;
    }
    const char *why = NULL;
    if (errno == ERANGE)
        why = "overflows";
    else if (v < k->min)
        why = k->min == 1 ? "must be positive" : "must not be negative";
    else if (v > k->max)
        why = "is too large";
    if (why) {
        hpool_bench__fail_key(p, k, value, true, "'%s' %s", tok, why);
        return false;
    }
    *out = (int64_t)v;
    return true;
}

static bool parse_float(parser *p, const key_spec *k, const char *value, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (end == value || isspace((unsigned char)value[0])) {
        hpool_bench__fail_key(p, k, value, true, "not a number");
        return false;
    }
    if (*end) {
        hpool_bench__fail_key(p, k, value, true, "not a number (junk from '%s')", end);
        return false;
    }
    const char *why = NULL;
    if (!isfinite(v) || (errno == ERANGE && (v > 1.0 || v < -1.0)))
        why = "overflows or is not finite";
    else if (errno == ERANGE) /* underflow: a tiny value rounded to (almost) zero */
        why = "is too small (underflows)";
    else if (v <= 0.0)
        why = "must be positive";
    if (why) {
        hpool_bench__fail_key(p, k, value, true, "%s", why);
        return false;
    }
    if (v > k->fmax) {
        hpool_bench__fail_key(p, k, value, true, "is too large");
        return false;
    }
    *out = v;
    return true;
}

static bool parse_enum(parser *p, const key_spec *k, const char *value, const char *tok,
                       int64_t *out)
{
    int i = enum_index(k, tok);
    if (i < 0) {
        hpool_bench__fail_key(p, k, value, true, "unknown %s '%s'",
                              k->noun ? k->noun : k->name, tok);
        return false;
    }
    *out = i;
    return true;
}

static bool parse_name(parser *p, const key_spec *k, const char *value)
{
    size_t n = strlen(value);
    const char *why = NULL;
    if (n == 0)
        why = "is empty";
    else if (n > HPOOL_BENCH_NAME_MAX)
        why = "is too long";
    else if (strcmp(value, ".") == 0 || strcmp(value, "..") == 0)
        why = "is not usable as a directory name";
    if (why) {
        hpool_bench__fail_key(p, k, value, true, "%s", why);
        return false;
    }
    size_t bad = strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                               "0123456789._-");
    if (bad < n) {
        hpool_bench__fail_key(p, k, value, true,
                              "character '%c' is not allowed (it becomes results/NAME)",
                              value[bad]);
        return false;
    }
    return true;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* Splits on commas into trimmed tokens (pointing into `copy`). */
static bool split_list(parser *p, const key_spec *k, const char *value, char *copy,
                       char **tok, size_t *n)
{
    *n = 0;
    if (*trim(copy) == '\0') {
        hpool_bench__fail_key(p, k, value, true, "empty list");
        return false;
    }
    char *s = copy;
    for (;;) {
        char *comma = strchr(s, ',');
        if (comma)
            *comma = '\0';
        if (*n == HPOOL_BENCH_LIST_MAX) {
            hpool_bench__fail_key(p, k, value, false, "more than %d elements",
                                  HPOOL_BENCH_LIST_MAX);
            return false;
        }
        tok[*n] = trim(s);
        if (*tok[*n] == '\0') {
            hpool_bench__fail_key(p, k, value, true, "element %zu is empty (stray comma?)",
                                  *n + 1);
            return false;
        }
        (*n)++;
        if (!comma)
            return true;
        s = comma + 1;
    }
}

static bool parse_list(parser *p, const key_spec *k, const char *value, parsed_value *pv)
{
    char *copy = strdup(value);
    char *tok[HPOOL_BENCH_LIST_MAX];
    bool ok = copy != NULL;
    if (!copy)
        hpool_bench__fail_key(p, k, value, false, "out of memory");
    ok = ok && split_list(p, k, value, copy, tok, &pv->n);
    for (size_t i = 0; ok && i < pv->n; i++) {
        ok = k->kind == K_INT_LIST ? parse_int(p, k, value, tok[i], &pv->v[i])
                                   : parse_enum(p, k, value, tok[i], &pv->v[i]);
        /* Repeats would run (and record) the same combination twice. */
        for (size_t j = 0; ok && j < i; j++) {
            if (pv->v[j] == pv->v[i]) {
                hpool_bench__fail_key(p, k, value, false,
                                      "'%s' is listed twice (as element %zu and %zu)",
                                      tok[i], j + 1, i + 1);
                ok = false;
            }
        }
    }
    free(copy);
    return ok;
}

static bool parse_value(parser *p, const key_spec *k, const char *value, parsed_value *pv)
{
    bool scalar = k->kind == K_ENUM || k->kind == K_BOOL || k->kind == K_INT ||
                  k->kind == K_FLOAT;
    if (scalar && !*value) {
        hpool_bench__fail_key(p, k, value, true, "empty value");
        return false;
    }
    pv->n = 1;
    switch (k->kind) {
    case K_NAME:
        return parse_name(p, k, value);
    case K_TEXT:
        return true;
    case K_ENUM:
    case K_BOOL:
        return parse_enum(p, k, value, value, &pv->v[0]);
    case K_INT:
        return parse_int(p, k, value, value, &pv->v[0]);
    case K_FLOAT:
        return parse_float(p, k, value, &pv->d);
    case K_ENUM_LIST:
    case K_INT_LIST:
        return parse_list(p, k, value, pv);
    }
    return false;
}

/* Copies a parsed value into the config. */
static bool store_value(parser *p, hpool_bench_key id, const char *value,
                        const parsed_value *pv)
{
    hpool_bench_config *c = p->cfg;
    size_t n = pv->n;
    switch (id) {
    case HPOOL_BENCH_KEY_NAME:
        memcpy(c->name, value, strlen(value) + 1);
        break;
    case HPOOL_BENCH_KEY_DESCRIPTION: {
        char *d = strdup(value);
        if (!d) {
            hpool_bench__fail_key(p, &hpool_bench__keys[id], value, false, "out of memory");
            return false;
        }
        free(c->description);
        c->description = d;
        break;
    }
#define COPY_LIST(field, type)                                                              \
    for (size_t i = 0; i < n; i++)                                                          \
        c->field[i] = (type)pv->v[i];                                                       \
    c->n_##field = n;                                                                       \
    break
    case HPOOL_BENCH_KEY_WORKLOAD: COPY_LIST(workload, hpool_bench_workload);
    case HPOOL_BENCH_KEY_API: COPY_LIST(api, hpool_bench_api);
    case HPOOL_BENCH_KEY_TASKS: COPY_LIST(tasks, uint64_t);
    case HPOOL_BENCH_KEY_SCHEDULE: COPY_LIST(schedule, hpool_schedule_kind);
    case HPOOL_BENCH_KEY_CHUNKSIZE: COPY_LIST(chunksize, uint64_t);
    case HPOOL_BENCH_KEY_WORKERS: COPY_LIST(workers, int);
    case HPOOL_BENCH_KEY_THREADS: COPY_LIST(threads, int);
    case HPOOL_BENCH_KEY_PEERS: COPY_LIST(peers, hpool_bench_peer);
#undef COPY_LIST
    case HPOOL_BENCH_KEY_COST_MS: c->cost_ms = pv->d; break;
    case HPOOL_BENCH_KEY_ITERATIONS: c->iterations = (uint64_t)pv->v[0]; break;
    case HPOOL_BENCH_KEY_PREFETCH: c->prefetch = (int)pv->v[0]; break;
    case HPOOL_BENCH_KEY_REPEAT: c->repeat = (int)pv->v[0]; break;
    case HPOOL_BENCH_KEY_WARMUP: c->warmup = (int)pv->v[0]; break;
    case HPOOL_BENCH_KEY_SEED: c->seed = (uint64_t)pv->v[0]; break;
    case HPOOL_BENCH_KEY_RECORDS: c->records = (hpool_record_level)pv->v[0]; break;
    /* bool_names alternate no/yes, so odd indices are true. */
    case HPOOL_BENCH_KEY_SERIAL_BASELINE: c->serial_baseline = pv->v[0] % 2 == 1; break;
    case HPOOL_BENCH_KEY_OTF2: c->otf2 = pv->v[0] % 2 == 1; break;
    case HPOOL_BENCH_KEY_TRACE_MAX_EVENTS: c->trace_max_events = pv->v[0]; break;
    case HPOOL_BENCH_KEY_TRACE_GZIP: c->trace_gzip = pv->v[0] % 2 == 1; break;
    case HPOOL_BENCH_KEY_SCHEDULE_MODEL: {
        char *d = strdup(value);
        if (!d) {
            hpool_bench__fail_key(p, &hpool_bench__keys[id], value, false, "out of memory");
            return false;
        }
        free(c->schedule_model);
        c->schedule_model = d;
        break;
    }
    case HPOOL_BENCH_KEY_SLOW_WORKERS: c->slow_workers = (int)pv->v[0]; break;
    case HPOOL_BENCH_KEY_SLOW_FACTOR: c->slow_factor = pv->d; break;
    case HPOOL_BENCH_KEY_INNER_ITEMS: c->inner_items = (int)pv->v[0]; break;
    case HPOOL_BENCH_KEY_INNER_MS: c->inner_ms = pv->d; break;
    case HPOOL_BENCH_KEY_COUNTER: c->counter = (hpool_bench_counter)pv->v[0]; break;
    case HPOOL_BENCH_KEY_COUNT: break;
    }
    return true;
}

/* ------------------------------------------------------------------------------------
 * The inih handler: one call per key = value.
 * ---------------------------------------------------------------------------------- */
int hpool_bench__find_section(const char *name)
{
    for (int s = 0; s < SEC_COUNT; s++)
        if (strcmp(hpool_bench__section_names[s], name) == 0)
            return s;
    return -1;
}

static int find_key(int section, const char *name)
{
    for (int i = 0; i < HPOOL_BENCH_KEY_COUNT; i++)
        if ((int)hpool_bench__keys[i].section == section &&
            strcmp(hpool_bench__keys[i].name, name) == 0)
            return i;
    return -1;
}

static void fail_unknown_key(parser *p, int section, const char *name, const char *value)
{
    sbuf *b = hpool_bench__fail_begin(p, p->lineno);
    if (!b)
        return;
    hpool_bench__sb_add(b, "[%s] %s = '%s': unknown key",
                        hpool_bench__section_names[section], name, value);
    int other = section == SEC_EXPERIMENT ? SEC_HYBRID : SEC_EXPERIMENT;
    /* Keys are case-sensitive; point at the likely intended one. */
    char lower[64];
    size_t i = 0;
    for (; name[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    lower[i] = '\0';
    if (strcmp(lower, name) != 0 && find_key(section, lower) >= 0)
        hpool_bench__sb_add(b, "; keys are lower case: did you mean '%s'?", lower);
    else if (find_key(other, name) >= 0)
        hpool_bench__sb_add(b, "; it belongs in [%s]", hpool_bench__section_names[other]);
    hpool_bench__sb_add(b, " (allowed in [%s]: ", hpool_bench__section_names[section]);
    const char *sep = "";
    for (int k = 0; k < HPOOL_BENCH_KEY_COUNT; k++) {
        if ((int)hpool_bench__keys[k].section == section) {
            hpool_bench__sb_add(b, "%s%s", sep, hpool_bench__keys[k].name);
            sep = ", ";
        }
    }
    hpool_bench__sb_add(b, ")");
}

/* cost_ms and iterations are two ways to say one thing; accept only one. */
static void check_cost_conflict(parser *p, hpool_bench_key id, const char *value)
{
    hpool_bench_key other = id == HPOOL_BENCH_KEY_COST_MS ? HPOOL_BENCH_KEY_ITERATIONS
                                                          : HPOOL_BENCH_KEY_COST_MS;
    int other_line = p->cfg->key_line[other];
    if ((id == HPOOL_BENCH_KEY_COST_MS || id == HPOOL_BENCH_KEY_ITERATIONS) && other_line)
        hpool_bench__fail_key(
            p, &hpool_bench__keys[id], value, false,
            "%s is already given at line %d; give exactly one of cost_ms, iterations",
            hpool_bench__keys[other].name, other_line);
}

int hpool_bench__on_key(void *user, const char *section, const char *name,
                        const char *value)
{
    parser *p = user;
    if (p->failed)
        return 0;
    int sec = hpool_bench__find_section(section);
    if (sec < 0) { /* only "" gets here: the reader vets section headers */
        hpool_bench__fail_line(p, p->lineno,
                               "%s = '%s': key outside any section (put it under [%s])",
                               name, value, hpool_bench__section_names[SEC_EXPERIMENT]);
        return 0;
    }
    if (!*name) {
        hpool_bench__fail_line(p, p->lineno, "[%s] = '%s': key name missing before '='",
                               section, value);
        return 0;
    }
    int id = find_key(sec, name);
    if (id < 0) {
        fail_unknown_key(p, sec, name, value);
        return 0;
    }
    const key_spec *k = &hpool_bench__keys[id];
    if (p->cfg->key_line[id]) {
        hpool_bench__fail_key(p, k, value, false, "duplicate key (first given at line %d)",
                              p->cfg->key_line[id]);
        return 0;
    }
    check_cost_conflict(p, (hpool_bench_key)id, value);
    parsed_value pv = {.n = 0};
    if (p->failed || !parse_value(p, k, value, &pv) ||
        !store_value(p, (hpool_bench_key)id, value, &pv))
        return 0;
    p->cfg->key_line[id] = p->lineno;
    return 1;
}
