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
 * Only the first error is kept; the reader stops feeding lines once there is one. */
#define _POSIX_C_SOURCE 200809L

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------------------------
 * Names.
 * ---------------------------------------------------------------------------------- */
static const char *const workload_names[] = {"empty",      "cpu_sum",    "io_sleep",
                                             "hybrid",     "increasing", "decreasing",
                                             "random",     "bimodal",    "mandelbrot"};
static const char *const api_names[] = {"map", "submit", "as_completed"};
/* Our own table rather than hpool_schedule_parse(): the bench reads configs before (and
 * without) the library, and the static assert keeps the two enums in step. */
static const char *const schedule_names[] = {"fixed",     "static", "guided", "trapezoid",
                                             "factoring", "awf",    "auto"};
static const char *const records_names[] = {"none", "chunks", "spans"};
static const char *const counter_names[] = {"atomic", "critical", "unsafe"};
static const char *const peer_names[] = {"python-ppe"};
static const char *const bool_names[] = {"no", "yes", "false", "true", "0", "1"};

_Static_assert(COUNT_OF(workload_names) == HPOOL_BENCH_WL_COUNT, "workload table");
_Static_assert(COUNT_OF(api_names) == HPOOL_BENCH_API_COUNT, "api table");
_Static_assert(COUNT_OF(schedule_names) == HPOOL_SCHED_COUNT, "schedule table");
_Static_assert(HPOOL_SCHED_FIXED == 0 && HPOOL_SCHED_AUTO == 6, "schedule order");
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
typedef enum { SEC_EXPERIMENT = 0, SEC_HYBRID, SEC_COUNT } section_id;
static const char *const section_names[] = {"experiment", "hybrid"};

typedef enum {
    K_NAME,      /* [A-Za-z0-9._-]+ */
    K_TEXT,      /* anything */
    K_ENUM,      /* one of names[] */
    K_ENUM_LIST, /* list of names[] */
    K_INT,       /* integer in [min, max] */
    K_INT_LIST,  /* list of integers in [min, max] */
    K_FLOAT,     /* finite, > 0 and <= fmax */
    K_BOOL       /* bool_names[] */
} key_kind;

typedef struct {
    section_id section;
    const char *name;
    key_kind kind;
    const char *const *names; /* K_ENUM, K_ENUM_LIST */
    size_t n_names;
    int64_t min, max;         /* K_INT, K_INT_LIST */
    double fmax;              /* K_FLOAT */
    const char *noun;         /* an element in messages, when not the key's name */
} key_spec;

/* KEY(section, name, kind, other fields...): __VA_ARGS__ starts with the kind, so every
 * row passes at least one variadic argument, as C17 wants. */
#define KEY(sec, key, ...) {.section = (sec), .name = (key), .kind = __VA_ARGS__}
#define NAMES(t) .names = (t), .n_names = COUNT_OF(t)
#define RANGE(lo, hi) .min = (lo), .max = (hi)
#define BILLION INT64_C(1000000000)
#define MILLION INT64_C(1000000)

static const key_spec keys[HPOOL_BENCH_KEY_COUNT] = {
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
    [HPOOL_BENCH_KEY_INNER_ITEMS] = KEY(SEC_HYBRID, "inner_items", K_INT, RANGE(1, MILLION)),
    [HPOOL_BENCH_KEY_INNER_MS] = KEY(SEC_HYBRID, "inner_ms", K_FLOAT, .fmax = 1e9),
    [HPOOL_BENCH_KEY_COUNTER] = KEY(SEC_HYBRID, "counter", K_ENUM, NAMES(counter_names)),
};

static const hpool_bench_key required_keys[] = {HPOOL_BENCH_KEY_NAME, HPOOL_BENCH_KEY_WORKLOAD,
                                                 HPOOL_BENCH_KEY_TASKS,
                                                 HPOOL_BENCH_KEY_WORKERS};

const char *hpool_bench_key_name(hpool_bench_key key)
{
    return ((int)key >= 0 && key < HPOOL_BENCH_KEY_COUNT) ? keys[key].name : "?";
}

/* ------------------------------------------------------------------------------------
 * Message building: append to a fixed buffer, truncating quietly.
 * ---------------------------------------------------------------------------------- */
typedef struct {
    char *s;
    size_t cap, len;
} sbuf;

__attribute__((format(printf, 2, 0))) static void sb_vadd(sbuf *b, const char *fmt,
                                                          va_list ap)
{
    if (!b->s || b->len + 1 >= b->cap)
        return;
    size_t room = b->cap - b->len;
    int n = vsnprintf(b->s + b->len, room, fmt, ap);
    if (n > 0)
        b->len += (size_t)n < room ? (size_t)n : room - 1;
}

__attribute__((format(printf, 2, 3))) static void sb_add(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_vadd(b, fmt, ap);
    va_end(ap);
}

static void sb_names(sbuf *b, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sb_add(b, "%s%s", i ? ", " : "", names[i]);
}

/* "(allowed: ...)" for a key: the values, or the range, it accepts. */
static void sb_allowed(sbuf *b, const key_spec *k)
{
    sb_add(b, " (allowed: ");
    switch (k->kind) {
    case K_ENUM:
    case K_ENUM_LIST:
    case K_BOOL:
        sb_names(b, k->names, k->n_names);
        break;
    case K_INT:
    case K_INT_LIST:
        sb_add(b, "%" PRId64 " .. %" PRId64, k->min, k->max);
        break;
    case K_FLOAT:
        sb_add(b, "a number > 0 and <= %g", k->fmax);
        break;
    case K_NAME:
        sb_add(b, "letters, digits, '.', '_', '-'; at most %d bytes", HPOOL_BENCH_NAME_MAX);
        break;
    case K_TEXT:
        sb_add(b, "any text");
        break;
    }
    if (k->kind == K_ENUM_LIST || k->kind == K_INT_LIST)
        sb_add(b, "; comma-separated, at most %d, no repeats", HPOOL_BENCH_LIST_MAX);
    sb_add(b, ")");
}

/* Starts "PATH:LINE: " (or "PATH: " for line 0) in err. */
static sbuf start_message(const char *path, int line, char *err, size_t errlen)
{
    sbuf b = {err, errlen, 0};
    if (err && errlen)
        err[0] = '\0';
    if (line > 0)
        sb_add(&b, "%s:%d: ", path, line);
    else
        sb_add(&b, "%s: ", path);
    return b;
}

/* ------------------------------------------------------------------------------------
 * Parser state and error recording (the first error wins).
 * ---------------------------------------------------------------------------------- */
typedef struct {
    const char *path;
    hpool_bench_config *cfg;
    const char *buf; /* whole file */
    size_t len, pos;
    int lineno;      /* line most recently given to inih */
    int section_line[SEC_COUNT];
    bool failed;
    int err_line;
    sbuf msg;
} parser;

/* Begins the error message, or returns NULL if an error is already recorded. */
static sbuf *fail_begin(parser *p, int line)
{
    if (p->failed)
        return NULL;
    p->failed = true;
    p->err_line = line;
    p->msg = start_message(p->path, line, p->msg.s, p->msg.cap);
    return &p->msg;
}

__attribute__((format(printf, 3, 4))) static void fail_line(parser *p, int line,
                                                            const char *fmt, ...)
{
    sbuf *b = fail_begin(p, line);
    if (!b)
        return;
    va_list ap;
    va_start(ap, fmt);
    sb_vadd(b, fmt, ap);
    va_end(ap);
}

/* "PATH:LINE: [section] key = 'value': <fmt> (allowed: ...)" at the current line. */
__attribute__((format(printf, 5, 6))) static void fail_key(parser *p, const key_spec *k,
                                                           const char *value,
                                                           bool show_allowed,
                                                           const char *fmt, ...)
{
    sbuf *b = fail_begin(p, p->lineno);
    if (!b)
        return;
    sb_add(b, "[%s] %s = '%s': ", section_names[k->section], k->name, value);
    va_list ap;
    va_start(ap, fmt);
    sb_vadd(b, fmt, ap);
    va_end(ap);
    if (show_allowed)
        sb_allowed(b, k);
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
        fail_key(p, k, value, true, "'%s' is not an integer", tok);
        return false;
    }
    if (*end) {
        fail_key(p, k, value, true, "'%s' is not an integer (junk from '%s')", tok, end);
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
        fail_key(p, k, value, true, "'%s' %s", tok, why);
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
        fail_key(p, k, value, true, "not a number");
        return false;
    }
    if (*end) {
        fail_key(p, k, value, true, "not a number (junk from '%s')", end);
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
        fail_key(p, k, value, true, "%s", why);
        return false;
    }
    if (v > k->fmax) {
        fail_key(p, k, value, true, "is too large");
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
        fail_key(p, k, value, true, "unknown %s '%s'", k->noun ? k->noun : k->name, tok);
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
        fail_key(p, k, value, true, "%s", why);
        return false;
    }
    size_t bad = strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                               "0123456789._-");
    if (bad < n) {
        fail_key(p, k, value, true, "character '%c' is not allowed (it becomes results/NAME)",
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
        fail_key(p, k, value, true, "empty list");
        return false;
    }
    char *s = copy;
    for (;;) {
        char *comma = strchr(s, ',');
        if (comma)
            *comma = '\0';
        if (*n == HPOOL_BENCH_LIST_MAX) {
            fail_key(p, k, value, false, "more than %d elements", HPOOL_BENCH_LIST_MAX);
            return false;
        }
        tok[*n] = trim(s);
        if (*tok[*n] == '\0') {
            fail_key(p, k, value, true, "element %zu is empty (stray comma?)", *n + 1);
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
        fail_key(p, k, value, false, "out of memory");
    ok = ok && split_list(p, k, value, copy, tok, &pv->n);
    for (size_t i = 0; ok && i < pv->n; i++) {
        ok = k->kind == K_INT_LIST ? parse_int(p, k, value, tok[i], &pv->v[i])
                                   : parse_enum(p, k, value, tok[i], &pv->v[i]);
        /* Repeats would run (and record) the same combination twice. */
        for (size_t j = 0; ok && j < i; j++) {
            if (pv->v[j] == pv->v[i]) {
                fail_key(p, k, value, false, "'%s' is listed twice (as element %zu and %zu)",
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
        fail_key(p, k, value, true, "empty value");
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
            fail_key(p, &keys[id], value, false, "out of memory");
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
static int find_section(const char *name)
{
    for (int s = 0; s < SEC_COUNT; s++)
        if (strcmp(section_names[s], name) == 0)
            return s;
    return -1;
}

static int find_key(int section, const char *name)
{
    for (int i = 0; i < HPOOL_BENCH_KEY_COUNT; i++)
        if ((int)keys[i].section == section && strcmp(keys[i].name, name) == 0)
            return i;
    return -1;
}

static void fail_unknown_key(parser *p, int section, const char *name, const char *value)
{
    sbuf *b = fail_begin(p, p->lineno);
    if (!b)
        return;
    sb_add(b, "[%s] %s = '%s': unknown key", section_names[section], name, value);
    int other = section == SEC_EXPERIMENT ? SEC_HYBRID : SEC_EXPERIMENT;
    /* Keys are case-sensitive; point at the likely intended one. */
    char lower[64];
    size_t i = 0;
    for (; name[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    lower[i] = '\0';
    if (strcmp(lower, name) != 0 && find_key(section, lower) >= 0)
        sb_add(b, "; keys are lower case: did you mean '%s'?", lower);
    else if (find_key(other, name) >= 0)
        sb_add(b, "; it belongs in [%s]", section_names[other]);
    sb_add(b, " (allowed in [%s]: ", section_names[section]);
    const char *sep = "";
    for (int k = 0; k < HPOOL_BENCH_KEY_COUNT; k++) {
        if ((int)keys[k].section == section) {
            sb_add(b, "%s%s", sep, keys[k].name);
            sep = ", ";
        }
    }
    sb_add(b, ")");
}

/* cost_ms and iterations are two ways to say one thing; accept only one. */
static void check_cost_conflict(parser *p, hpool_bench_key id, const char *value)
{
    hpool_bench_key other = id == HPOOL_BENCH_KEY_COST_MS ? HPOOL_BENCH_KEY_ITERATIONS
                                                          : HPOOL_BENCH_KEY_COST_MS;
    int other_line = p->cfg->key_line[other];
    if ((id == HPOOL_BENCH_KEY_COST_MS || id == HPOOL_BENCH_KEY_ITERATIONS) && other_line)
        fail_key(p, &keys[id], value, false,
                 "%s is already given at line %d; give exactly one of cost_ms, iterations",
                 keys[other].name, other_line);
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
    parser *p = user;
    if (p->failed)
        return 0;
    int sec = find_section(section);
    if (sec < 0) { /* only "" gets here: the reader vets section headers */
        fail_line(p, p->lineno, "%s = '%s': key outside any section (put it under [%s])",
                  name, value, section_names[SEC_EXPERIMENT]);
        return 0;
    }
    if (!*name) {
        fail_line(p, p->lineno, "[%s] = '%s': key name missing before '='", section, value);
        return 0;
    }
    int id = find_key(sec, name);
    if (id < 0) {
        fail_unknown_key(p, sec, name, value);
        return 0;
    }
    const key_spec *k = &keys[id];
    if (p->cfg->key_line[id]) {
        fail_key(p, k, value, false, "duplicate key (first given at line %d)",
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

/* ------------------------------------------------------------------------------------
 * The reader: hands inih one vetted line at a time.
 * ---------------------------------------------------------------------------------- */

/* Length of the UTF-8 sequence at s (n bytes available), or 0 if it is invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (len == 0 || s[0] > 0xF4 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    /* Overlong 3- and 4-byte forms, UTF-16 surrogates, and code points past U+10FFFF. */
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0) ||
        (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90))
        return 0;
    return len;
}

/* Refuses bytes that cannot be in a text config: a NUL would cut the line short for
 * inih, and control bytes or broken UTF-8 mean a binary file was passed. */
static bool check_text(parser *p, const char *line, size_t n)
{
    const unsigned char *s = (const unsigned char *)line;
    size_t step;
    for (size_t i = 0; i < n; i += step) {
        step = s[i] >= 0x80 ? utf8_len(s + i, n - i) : 1;
        if (s[i] == 0)
            fail_line(p, p->lineno, "NUL byte at column %zu: not a text file", i + 1);
        else if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7F)
            fail_line(p, p->lineno, "control byte 0x%02x at column %zu: not a text file",
                      s[i], i + 1);
        else if (step == 0)
            fail_line(p, p->lineno, "invalid UTF-8 byte 0x%02x at column %zu: not a text file",
                      s[i], i + 1);
        if (p->failed)
            return false;
    }
    return true;
}

/* Quotes a line for a message: at most 60 bytes of it. */
#define QUOTE_FMT "'%.*s%s'"
#define QUOTE_ARGS(s, n) (int)((n) > 60 ? 60 : (n)), (s), ((n) > 60 ? "..." : "")

/* "[name]" followed by nothing but blanks or a comment; a known section, once. */
static bool check_section(parser *p, const char *s, size_t n)
{
    const char *close = memchr(s, ']', n);
    if (!close) {
        fail_line(p, p->lineno, QUOTE_FMT ": section header without closing ']'",
                  QUOTE_ARGS(s, n));
        return false;
    }
    const char *rest = close + 1, *end = s + n;
    while (rest < end && isspace((unsigned char)*rest))
        rest++;
    if (rest < end && *rest != ';' && *rest != '#') {
        fail_line(p, p->lineno, QUOTE_FMT ": text after the section header",
                  QUOTE_ARGS(s, n));
        return false;
    }
    char name[64];
    size_t len = (size_t)(close - s - 1);
    int sec = -1;
    if (len < sizeof name) {
        memcpy(name, s + 1, len);
        name[len] = '\0';
        sec = find_section(name);
    }
    if (sec < 0) {
        fail_line(p, p->lineno, "[%.*s]: unknown section (allowed: experiment, hybrid)",
                  (int)(len > 60 ? 60 : len), s + 1);
        return false;
    }
    if (p->section_line[sec]) {
        fail_line(p, p->lineno, "[%s]: section given twice (first at line %d)", name,
                  p->section_line[sec]);
        return false;
    }
    p->section_line[sec] = p->lineno;
    return true;
}

/* A key line must use '=': inih would also take ':', and without either it is a
 * syntax error (reported here so the message can quote the line). */
static bool check_key_line(parser *p, const char *s, size_t n, bool indented)
{
    size_t eq = 0;
    while (eq < n && s[eq] != '=' && s[eq] != ':')
        eq++;
    if (eq < n && s[eq] == '=')
        return true;
    if (eq < n)
        fail_line(p, p->lineno, QUOTE_FMT ": use '=' between key and value, not ':'",
                  QUOTE_ARGS(s, n));
    else
        fail_line(p, p->lineno,
                  QUOTE_FMT ": syntax error: expected 'key = value', '[section]' or a "
                            "comment%s",
                  QUOTE_ARGS(s, n),
                  indented ? " (an indented line does not continue the previous value; "
                             "keep a list on one line)"
                           : "");
    return false;
}

static char *read_line(char *str, int num, void *stream)
{
    parser *p = stream;
    if (p->failed || p->pos >= p->len)
        return NULL;
    const char *line = p->buf + p->pos;
    const char *nl = memchr(line, '\n', p->len - p->pos);
    size_t n = nl ? (size_t)(nl - line) : p->len - p->pos;
    p->pos += n + (nl != NULL);
    p->lineno++;
    if (n && line[n - 1] == '\r')
        n--;
    if (p->lineno == 1 && n >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
        line += 3; /* UTF-8 byte order mark */
        n -= 3;
    }
    if (!check_text(p, line, n))
        return NULL;
    /* inih's buffer holds num bytes; we add '\n' and NUL. Longer lines would be split. */
    if (num < 3 || n > (size_t)num - 2) {
        fail_line(p, p->lineno, "line is %zu bytes long; the limit is %d", n, num - 2);
        return NULL;
    }
    /* Without indentation inih sees no continuation lines. */
    bool indented = n && (*line == ' ' || *line == '\t');
    while (n && (*line == ' ' || *line == '\t')) {
        line++;
        n--;
    }
    bool comment = n == 0 || *line == ';' || *line == '#';
    if (!comment && !(*line == '[' ? check_section(p, line, n)
                                   : check_key_line(p, line, n, indented)))
        return NULL;
    memcpy(str, line, n);
    str[n] = '\n';
    str[n + 1] = '\0';
    return str;
}

/* ------------------------------------------------------------------------------------
 * Whole-file checks.
 * ---------------------------------------------------------------------------------- */

/* Opens the config if it is a regular file; -1 (error recorded) otherwise. O_NONBLOCK
 * keeps a FIFO given by mistake from blocking the open. */
static int open_regular(parser *p)
{
    int fd = open(p->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        fail_line(p, 0, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0)
        fail_line(p, 0, "cannot stat: %s", strerror(errno));
    else if (S_ISDIR(st.st_mode))
        fail_line(p, 0, "is a directory, not a config file");
    else if (!S_ISREG(st.st_mode))
        fail_line(p, 0, "is not a regular file");
    if (p->failed) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads the whole file (NULL, error recorded, if it cannot or is over the size limit).
 * The buffer is sized for the limit: configs are small, and this needs no st_size. */
static char *read_file(parser *p, size_t *len)
{
    int fd = open_regular(p);
    if (fd < 0)
        return NULL;
    char *buf = malloc(HPOOL_BENCH_FILE_MAX + 1);
    if (!buf)
        fail_line(p, 0, "out of memory");
    *len = 0;
    while (!p->failed) {
        ssize_t r = read(fd, buf + *len, HPOOL_BENCH_FILE_MAX + 1 - *len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            fail_line(p, 0, "cannot read: %s", strerror(errno));
        else if (*len + (size_t)r > HPOOL_BENCH_FILE_MAX)
            fail_line(p, 0, "larger than %d bytes: not a config file", HPOOL_BENCH_FILE_MAX);
        if (r <= 0)
            break;
        *len += (size_t)r;
    }
    close(fd);
    if (p->failed) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void fail_missing_required(parser *p)
{
    sbuf *b = NULL;
    const char *sep = "";
    for (size_t i = 0; i < COUNT_OF(required_keys); i++) {
        if (p->cfg->key_line[required_keys[i]])
            continue;
        if (!b && !(b = fail_begin(p, 0)))
            return;
        if (!*sep)
            sb_add(b, "[experiment] missing required key: ");
        sb_add(b, "%s%s", sep, keys[required_keys[i]].name);
        sep = ", ";
    }
    if (b)
        sb_add(b, " (required: name, workload, tasks, workers)");
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
        sb_add(b, "%s%s", i ? ", " : "", hpool_bench_workload_name(c->workload[i]));
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
        sbuf *b = fail_begin(p, c->key_line[HPOOL_BENCH_KEY_WORKLOAD]);
        sb_add(b, "[experiment] workload = '");
        sb_workloads(b, c);
        sb_add(b, "': tasks need a cost: give cost_ms or iterations (only 'empty' needs "
                  "neither)");
        return;
    }
    if (p->section_line[SEC_HYBRID] && !has_workload(c, HPOOL_BENCH_WL_HYBRID)) {
        sbuf *b = fail_begin(p, p->section_line[SEC_HYBRID]);
        sb_add(b, "[hybrid]: section given, but workload = '");
        sb_workloads(b, c);
        sb_add(b, "' (line %d) does not include hybrid", c->key_line[HPOOL_BENCH_KEY_WORKLOAD]);
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
    int r = ini_parse_stream(read_line, p, on_key, p);
    /* inih reports lines it could not split; we vet every line first, so this is a
     * fallback (e.g. an inline comment hiding the '='). inih keeps reading after such a
     * line, so a later error of ours may be recorded: the earlier line wins. */
    if (r > 0 && (!p->failed || r < p->err_line)) {
        size_t n;
        const char *text = buffer_line(p, r, &n);
        p->failed = false;
        fail_line(p, r,
                  QUOTE_FMT ": syntax error: expected 'key = value', '[section]' or a comment",
                  QUOTE_ARGS(text, n));
    } else if (r < 0) {
        fail_line(p, 0, "inih failed (%d): out of memory?", r);
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
        fail_line(&p, 0, "out of memory");
    } else {
        char *buf = read_file(&p, &p.len);
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
        sb_add(b, "%s%d", i ? ", " : "", v[i]);
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
    sbuf b = start_message(path, cfg->key_line[HPOOL_BENCH_KEY_WORKERS], err, errlen);
    sb_add(&b, "[experiment] workers = '");
    sb_ints(&b, cfg->workers, cfg->n_workers);
    sb_add(&b, "': %d worker%s need%s %d MPI ranks (rank 0 is the manager) but the job has "
               "%d; run mpirun -n %d, or lower workers (allowed here: ",
           need, need == 1 ? "" : "s", need == 1 ? "s" : "", need + 1, world_size, need + 1);
    if (world_size >= 2)
        sb_add(&b, "1 .. %d)", world_size - 1);
    else
        sb_add(&b, "none: the job has no worker rank)");
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
    rp->serial_baseline = cfg->serial_baseline;
    for (size_t i = 0; i < cfg->n_peers; i++)
        rp->peer[cfg->peers[i]] = true;
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
    memset(cfg, 0, sizeof *cfg);
}
