/* render.c: results directory -> gnuplot data files -> PNG + SVG plots.
 *
 * The timeline script reads chunks.tsv / spans.tsv itself (filtering one run is easy
 * in gnuplot); the summary plots need rows grouped by arbitrary keys, which gnuplot
 * cannot do, so this file writes them pre-grouped under results_dir/plotdata/. The
 * layout of each data file is documented at the top of plots/NAME.gp.
 *
 * Every validation happens here, before gnuplot runs: gnuplot silently skips a row it
 * cannot parse, which would turn a corrupt file into a quietly wrong picture. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, memmem */
#endif
#include "render.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define RENDER_TIMELINES_MAX 4 /* timeline plots per results dir */
#define RENDER_STDERR_MAX 8192 /* bytes of gnuplot's stderr kept for messages */
#define RENDER_TITLE_MAX 512

__attribute__((format(printf, 3, 4))) static void seterr(char *err, size_t errlen,
                                                         const char *fmt, ...) {
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* snprintf into a PATH_MAX buffer; a too-long path is an error, not a truncation. */
__attribute__((format(printf, 4, 5))) static int mkpath(char *out, char *err, size_t errlen,
                                                        const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, PATH_MAX, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= PATH_MAX) {
        seterr(err, errlen, "path too long (%s...)", out);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------
 * TSV tables
 * ---------------------------------------------------------------------------------- */

static int read_whole(const char *path, char **out, size_t *len, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT)
            return 1;
        seterr(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *bigger = realloc(buf, 2 * cap + 1);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        seterr(err, errlen, "%s: %s", path, buf ? "read error" : "out of memory");
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

/* Splits s in place at tabs; stores at most max field pointers. \return field count. */
static size_t split_tabs(char *s, char **fields, size_t max) {
    size_t n = 0;
    for (char *p = s;; p++) {
        if (n < max && (p == s || p[-1] == '\0'))
            fields[n] = p;
        if (*p == '\t') {
            *p = '\0';
            n++;
        } else if (*p == '\0') {
            return n + 1;
        }
    }
}

static size_t count_tabs(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        n += (*s == '\t');
    return n;
}

static int table_add_row(hpool_render_table *t, char *line, int lineno, size_t *cap) {
    if (t->nrows == *cap) {
        size_t ncap = *cap ? 2 * *cap : 256;
        char **cells = realloc(t->cells, ncap * t->ncols * sizeof *cells);
        if (!cells)
            return -1;
        t->cells = cells;
        int *lines = realloc(t->lines, ncap * sizeof *lines);
        if (!lines)
            return -1;
        t->lines = lines;
        *cap = ncap;
    }
    split_tabs(line, t->cells + t->nrows * t->ncols, t->ncols);
    t->lines[t->nrows++] = lineno;
    return 0;
}

static int table_set_header(hpool_render_table *t, char *line) {
    t->ncols = count_tabs(line) + 1;
    t->names = malloc(t->ncols * sizeof *t->names);
    if (!t->names)
        return -1;
    split_tabs(line, t->names, t->ncols);
    return 0;
}

/* Walks the lines of t->buf. A row with the wrong field count, or a last line without
 * its newline, is a partial write when nothing follows it and the file is incomplete;
 * `pending` holds such a line until we know whether anything follows. */
static int table_parse(hpool_render_table *t, size_t len, char *err, size_t errlen) {
    size_t cap = 0;
    int lineno = 0, pending = 0;
    char *p = t->buf, *end = t->buf + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        bool has_nl = nl != NULL;
        char *line = p;
        if (!nl)
            nl = end;
        *nl = '\0';
        p = nl + 1;
        lineno++;
        if (nl > line && nl[-1] == '\r')
            nl[-1] = '\0';
        if (line[0] == '\0')
            continue;
        if (pending) {
            seterr(err, errlen, "%s line %d: expected %zu fields", t->name, pending, t->ncols);
            return -1;
        }
        if (line[0] == '#') {
            t->complete = strcmp(line, "# complete") == 0;
            continue;
        }
        t->complete = false;
        if (!t->names) {
            if (table_set_header(t, line) < 0)
                goto oom;
            continue;
        }
        if (count_tabs(line) + 1 != t->ncols || !has_nl) {
            pending = lineno;
            continue;
        }
        if (table_add_row(t, line, lineno, &cap) < 0)
            goto oom;
    }
    if (pending)
        t->dropped = true; /* last line, and no "# complete" after it */
    return 0;
oom:
    seterr(err, errlen, "%s: out of memory", t->name);
    return -1;
}

int hpool_render_table_load(const char *dir, const char *file, hpool_render_table *t,
                            char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", file);
    char path[PATH_MAX];
    if (mkpath(path, err, errlen, "%s/%s", dir, file) < 0)
        return -1;
    size_t len = 0;
    int rc = read_whole(path, &t->buf, &len, err, errlen);
    if (rc != 0)
        return rc;
    if (table_parse(t, len, err, errlen) < 0) {
        hpool_render_table_free(t);
        return -1;
    }
    if (!t->names) { /* empty, or comments only: nothing was written yet */
        bool complete = t->complete;
        hpool_render_table_free(t);
        t->complete = complete;
        return 1;
    }
    return 0;
}

void hpool_render_table_free(hpool_render_table *t) {
    if (!t)
        return;
    free(t->buf);
    free(t->names);
    free(t->cells);
    free(t->lines);
    char name[sizeof t->name];
    memcpy(name, t->name, sizeof name);
    memset(t, 0, sizeof *t);
    memcpy(t->name, name, sizeof name);
}

int hpool_render_table_col(const hpool_render_table *t, const char *name) {
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->names[i], name) == 0)
            return (int)i;
    return -1;
}

int hpool_render_table_require(const hpool_render_table *t, const char *const *names,
                               char *err, size_t errlen) {
    for (; *names; names++) {
        if (hpool_render_table_col(t, *names) < 0) {
            seterr(err, errlen, "%s: no column '%s' in the header (see docs/FORMATS.md)",
                   t->name, *names);
            return -1;
        }
    }
    return 0;
}

const char *hpool_render_table_cell(const hpool_render_table *t, size_t row, int col) {
    if (row >= t->nrows || col < 0 || (size_t)col >= t->ncols)
        return "";
    return t->cells[row * t->ncols + (size_t)col];
}

int hpool_render_table_num(const hpool_render_table *t, size_t row, int col, double *out,
                           char *err, size_t errlen) {
    const char *s = hpool_render_table_cell(t, row, col);
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || !isfinite(v)) {
        seterr(err, errlen, "%s line %d: column %s: '%s' is not a number", t->name,
               row < t->nrows ? t->lines[row] : 0, col >= 0 ? t->names[col] : "?", s);
        return -1;
    }
    *out = v;
    return 0;
}

/* Every listed column must be a number in every row. */
static int table_require_numeric(const hpool_render_table *t, const char *const *names,
                                 char *err, size_t errlen) {
    if (hpool_render_table_require(t, names, err, errlen) < 0)
        return -1;
    for (; *names; names++) {
        int c = hpool_render_table_col(t, *names);
        double v;
        for (size_t r = 0; r < t->nrows; r++)
            if (hpool_render_table_num(t, r, c, &v, err, errlen) < 0)
                return -1;
    }
    return 0;
}

static double num(const hpool_render_table *t, size_t row, int col) {
    double v = 0;
    hpool_render_table_num(t, row, col, &v, NULL, 0);
    return v;
}

/* ------------------------------------------------------------------------------------
 * Files that appear whole or not at all
 * ---------------------------------------------------------------------------------- */

typedef struct {
    FILE *f;
    char tmp[PATH_MAX];
    char final[PATH_MAX];
} afile;

static int afile_open(afile *a, const char *final, char *err, size_t errlen) {
    snprintf(a->final, sizeof a->final, "%s", final);
    if (mkpath(a->tmp, err, errlen, "%s.tmp.%ld", final, (long)getpid()) < 0)
        return -1;
    a->f = fopen(a->tmp, "w");
    if (!a->f) {
        seterr(err, errlen, "%s: %s", a->tmp, strerror(errno));
        return -1;
    }
    return 0;
}

static int afile_commit(afile *a, char *err, size_t errlen) {
    int bad = ferror(a->f);
    bad |= fclose(a->f) != 0;
    a->f = NULL;
    if (bad || rename(a->tmp, a->final) != 0) {
        seterr(err, errlen, "%s: %s", a->final, bad ? "write error" : strerror(errno));
        unlink(a->tmp);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------
 * gnuplot
 * ---------------------------------------------------------------------------------- */

static int find_in_path(const char *prog, char *out) {
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        int w = snprintf(out, PATH_MAX, "%.*s/%s", (int)n, n ? path : ".", prog);
        struct stat st;
        if (w > 0 && w < PATH_MAX && stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
            access(out, X_OK) == 0)
            return 0;
        path += n + (path[n] == ':');
    }
    return -1;
}

/* A growing "-e" argument: name='value'; name=number; ... */
typedef struct {
    char s[4 * PATH_MAX];
    size_t n;
    bool overflow;
} gpargs;

static void gp_raw(gpargs *g, const char *s) {
    size_t len = strlen(s);
    if (g->n + len + 1 > sizeof g->s) {
        g->overflow = true;
        return;
    }
    memcpy(g->s + g->n, s, len + 1);
    g->n += len;
}

/* gnuplot single-quoted strings take everything literally except '' for a quote. */
static void gp_str(gpargs *g, const char *name, const char *val) {
    gp_raw(g, name);
    gp_raw(g, "='");
    for (const char *p = val; *p; p++) {
        char c[3] = {*p, *p == '\'' ? '\'' : '\0', '\0'};
        if (*p == '\n' || *p == '\r')
            c[0] = ' ';
        gp_raw(g, c);
    }
    gp_raw(g, "'; ");
}

static void gp_int(gpargs *g, const char *name, long val) {
    char buf[96];
    snprintf(buf, sizeof buf, "%s=%ld; ", name, val);
    gp_raw(g, buf);
}

/* The error line of gnuplot's stderr: the last line that is not a warning. */
static void last_error_line(const char *text, char *out, size_t outlen) {
    const char *best = NULL, *any = NULL;
    size_t best_len = 0, any_len = 0;
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        if (strspn(p, " \t^") < n) {
            any = p;
            any_len = n;
            if (!memmem(p, n, "warning:", 8)) {
                best = p;
                best_len = n;
            }
        }
        p += n + (p[n] == '\n');
    }
    if (!best) {
        best = any ? any : "(no message)";
        best_len = any ? any_len : strlen(best);
    }
    snprintf(out, outlen, "%.*s", (int)best_len, best);
}

/* Reads the child's stderr to EOF, keeping the first RENDER_STDERR_MAX bytes. */
static void drain(int fd, char *buf, size_t cap) {
    size_t n = 0;
    char scratch[1024];
    for (;;) {
        char *dst = n + 1 < cap ? buf + n : scratch;
        size_t room = n + 1 < cap ? cap - 1 - n : sizeof scratch;
        ssize_t r = read(fd, dst, room);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (dst == buf + n)
            n += (size_t)r;
    }
    buf[n] = '\0';
}

static int spawn_gnuplot(const char *gnuplot, char *const argv[], pid_t *pid, int *rfd) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return errno;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDERR_FILENO);
    /* posix_spawn, not fork: this may run inside an MPI process, where fork() of a
     * process with registered memory is unsafe on some transports. */
    int rc = posix_spawn(pid, gnuplot, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return rc;
    }
    *rfd = fds[0];
    return 0;
}

typedef struct {
    const char *results_dir;
    const char *plots_dir;
    bool quiet;
    char gnuplot[PATH_MAX];
    int rendered;
} renderer;

/* Runs one script; gnuplot writes OUTBASE.png/.svg under a hidden temporary outbase,
 * renamed to results_dir/name.{png,svg} only when both are complete. */
static int run_script(renderer *rd, const char *script, const char *name, gpargs *g,
                      char *err, size_t errlen) {
    char spath[PATH_MAX], tmpbase[PATH_MAX], msg[RENDER_STDERR_MAX];
    if (mkpath(spath, err, errlen, "%s/%s", rd->plots_dir, script) < 0 ||
        mkpath(tmpbase, err, errlen, "%s/.%s.tmp%ld", rd->results_dir, name,
               (long)getpid()) < 0)
        return -1;
    if (access(spath, R_OK) != 0) {
        seterr(err, errlen, "plot script %s: %s", spath, strerror(errno));
        return -1;
    }
    gp_str(g, "datadir", rd->results_dir);
    gp_str(g, "outbase", tmpbase);
    gp_str(g, "plotsdir", rd->plots_dir);
    if (g->overflow) {
        seterr(err, errlen, "%s: gnuplot arguments too long", script);
        return -1;
    }
    char *argv[] = {"gnuplot", "-e", g->s, spath, NULL};
    pid_t pid;
    int fd = -1, status = 0;
    int rc = spawn_gnuplot(rd->gnuplot, argv, &pid, &fd);
    if (rc != 0) {
        seterr(err, errlen, "%s: cannot run %s: %s", script, rd->gnuplot, strerror(rc));
        return -1;
    }
    drain(fd, msg, sizeof msg);
    close(fd);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    const char *ext[] = {"png", "svg"};
    char tmp[2][PATH_MAX], fin[2][PATH_MAX];
    bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    for (int i = 0; i < 2; i++) {
        struct stat st;
        snprintf(tmp[i], PATH_MAX, "%.*s.%s", PATH_MAX - 8, tmpbase, ext[i]);
        if (mkpath(fin[i], err, errlen, "%s/%s.%s", rd->results_dir, name, ext[i]) < 0)
            ok = false;
        else if (ok && (stat(tmp[i], &st) != 0 || st.st_size == 0))
            ok = false;
    }
    if (!ok) {
        char line[1024];
        last_error_line(msg, line, sizeof line);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            snprintf(line, sizeof line, "no output written");
        seterr(err, errlen, "gnuplot failed on %s/%s: %s", rd->plots_dir, script, line);
        unlink(tmp[0]);
        unlink(tmp[1]);
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        if (rename(tmp[i], fin[i]) != 0) {
            seterr(err, errlen, "%s: %s", fin[i], strerror(errno));
            unlink(tmp[0]);
            unlink(tmp[1]);
            return -1;
        }
    }
    rd->rendered++;
    if (!rd->quiet) {
        if (msg[0])
            fprintf(stderr, "gnuplot (%s): %s", script, msg);
        printf("rendered %s (+ .svg)\n", fin[0]);
    }
    return 0;
}

/* ------------------------------------------------------------------------------------
 * Timelines
 * ---------------------------------------------------------------------------------- */

/* Columns of FORMATS.md that must be present, and those of them that must be numbers. */
static const char *const CHUNK_COLS[] = {"run",    "chunk",      "schedule", "worker",
                                         "first_item", "items",  "t_submit", "t_dispatch",
                                         "t_recv", "t_start",    "t_end",    "t_result",
                                         "status", NULL};
static const char *const CHUNK_NUMERIC[] = {"run",      "chunk",      "worker", "first_item",
                                            "items",    "t_submit",   "t_dispatch",
                                            "t_recv",   "t_start",    "t_end",
                                            "t_result", "status",     NULL};
static const char *const SPAN_COLS[] = {"run",   "rank",  "thread",  "chunk", "item",
                                        "inner", "t_start", "t_end", "label", NULL};
static const char *const SPAN_NUMERIC[] = {"run",   "rank",    "thread", "chunk",
                                           "item",  "inner",   "t_start", "t_end", NULL};

typedef struct {
    hpool_render_table chunks, spans, runs, summary;
    bool has_chunks, has_spans, has_runs, has_summary;
} tables;

/* Row of runs.tsv for an hpool run id, or -1. */
static long runs_row(const tables *tb, long run) {
    if (!tb->has_runs)
        return -1;
    int crun = hpool_render_table_col(&tb->runs, "run");
    int cimpl = hpool_render_table_col(&tb->runs, "impl");
    for (size_t r = 0; r < tb->runs.nrows; r++) {
        const char *impl = hpool_render_table_cell(&tb->runs, r, cimpl);
        const char *id = hpool_render_table_cell(&tb->runs, r, crun);
        if ((cimpl < 0 || strcmp(impl, "hpool") == 0) && strtol(id, NULL, 10) == run)
            return (long)r;
    }
    return -1;
}

static const char *runs_cell(const tables *tb, long row, const char *col) {
    if (row < 0)
        return "";
    return hpool_render_table_cell(&tb->runs, (size_t)row,
                                   hpool_render_table_col(&tb->runs, col));
}

/* Picks up to RENDER_TIMELINES_MAX runs: the first one, then runs that are the first
 * repetition of their configuration (rep 0 in runs.tsv), else simply the next runs. */
static size_t pick_runs(const tables *tb, long *out) {
    size_t n = 0;
    int crun = hpool_render_table_col(&tb->chunks, "run");
    for (size_t r = 0; r < tb->chunks.nrows && n < RENDER_TIMELINES_MAX; r++) {
        long id = (long)num(&tb->chunks, r, crun);
        bool seen = false;
        for (size_t i = 0; i < n; i++)
            seen |= out[i] == id;
        if (seen)
            continue;
        long rr = runs_row(tb, id);
        const char *rep = runs_cell(tb, rr, "rep");
        if (n > 0 && *rep && strtol(rep, NULL, 10) != 0)
            continue;
        out[n++] = id;
    }
    return n;
}

static bool run_has_spans(const tables *tb, long run) {
    if (!tb->has_spans)
        return false;
    int c = hpool_render_table_col(&tb->spans, "run");
    for (size_t r = 0; r < tb->spans.nrows; r++)
        if ((long)num(&tb->spans, r, c) == run)
            return true;
    return false;
}

static void timeline_title(const tables *tb, long run, char *out, size_t len) {
    long rr = runs_row(tb, run);
    if (rr < 0) {
        snprintf(out, len, "run %ld", run);
        return;
    }
    const char *sched = runs_cell(tb, rr, "schedule");
    const char *used = runs_cell(tb, rr, "schedule_used");
    char sbuf[128];
    if (*used && strcmp(used, sched) != 0)
        snprintf(sbuf, sizeof sbuf, "%s -> %s", sched, used);
    else
        snprintf(sbuf, sizeof sbuf, "%s", sched);
    snprintf(out, len,
             "run %ld: %s, %s, %s, chunksize %s, %s workers x %s threads, %s tasks, "
             "rep %s, wall %s s",
             run, runs_cell(tb, rr, "workload"), runs_cell(tb, rr, "api"), sbuf,
             runs_cell(tb, rr, "chunksize"), runs_cell(tb, rr, "workers"),
             runs_cell(tb, rr, "threads"), runs_cell(tb, rr, "tasks"),
             runs_cell(tb, rr, "rep"), runs_cell(tb, rr, "wall_s"));
}

static int render_timelines(renderer *rd, const tables *tb, char *err, size_t errlen) {
    long ids[RENDER_TIMELINES_MAX];
    size_t n = pick_runs(tb, ids);
    for (size_t i = 0; i < n; i++) {
        gpargs g = {.n = 0};
        char title[RENDER_TITLE_MAX], name[64];
        timeline_title(tb, ids[i], title, sizeof title);
        gp_int(&g, "run", ids[i]);
        gp_int(&g, "spans", run_has_spans(tb, ids[i]));
        const char *workers = runs_cell(tb, runs_row(tb, ids[i]), "workers");
        if (*workers && strtol(workers, NULL, 10) > 0)
            gp_int(&g, "workers", strtol(workers, NULL, 10));
        gp_str(&g, "title", title);
        if (i == 0)
            snprintf(name, sizeof name, "timeline");
        else
            snprintf(name, sizeof name, "timeline_run%ld", ids[i]);
        if (run_script(rd, "timeline.gp", name, &g, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------
 * Summary rows, groups and slices
 *
 * A full sweep is a cross product, so "one line per combination of everything else"
 * gives dozens of unreadable lines. Each summary plot therefore groups by the few keys
 * it is about and takes a documented slice of the rest (see the plot's writer).
 * ---------------------------------------------------------------------------------- */

enum { F_IMPL, F_EXPERIMENT, F_WORKLOAD, F_API, F_SCHEDULE, F_CHUNKSIZE, F_WORKERS,
       F_THREADS, F_TASKS, F_COUNT };
static const char *const KEY_COLS[F_COUNT + 1] = {
    "impl", "experiment", "workload", "api", "schedule", "chunksize", "workers", "threads",
    "tasks", NULL};

typedef struct {
    const char *key[F_COUNT]; /* cells of the key columns */
    double val[F_COUNT];      /* numeric value of chunksize, workers, threads, tasks */
    double wall_min, wall_median, wall_max, speedup;
} srow;

#define BIT(f) (1u << (f))
#define NUMERIC_FIELDS (BIT(F_CHUNKSIZE) | BIT(F_WORKERS) | BIT(F_THREADS) | BIT(F_TASKS))

static int load_srows(const hpool_render_table *t, srow **out, char *err, size_t errlen) {
    static const char *const numeric[] = {"chunksize", "workers",     "threads",
                                          "tasks",     "wall_min",    "wall_median",
                                          "wall_max",  "speedup_median", NULL};
    if (hpool_render_table_require(t, KEY_COLS, err, errlen) < 0 ||
        table_require_numeric(t, numeric, err, errlen) < 0)
        return -1;
    srow *rows = calloc(t->nrows ? t->nrows : 1, sizeof *rows);
    if (!rows) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    for (size_t r = 0; r < t->nrows; r++) {
        srow *s = &rows[r];
        for (int f = 0; f < F_COUNT; f++) {
            int c = hpool_render_table_col(t, KEY_COLS[f]);
            s->key[f] = hpool_render_table_cell(t, r, c);
            if (NUMERIC_FIELDS & BIT(f))
                s->val[f] = num(t, r, c);
        }
        s->wall_min = num(t, r, hpool_render_table_col(t, "wall_min"));
        s->wall_median = num(t, r, hpool_render_table_col(t, "wall_median"));
        s->wall_max = num(t, r, hpool_render_table_col(t, "wall_max"));
        s->speedup = num(t, r, hpool_render_table_col(t, "speedup_median"));
    }
    *out = rows;
    return 0;
}

typedef struct {
    const srow *rows;
    size_t n;
    size_t *group; /* n: group number of each row */
    size_t *idx;   /* n: scratch list of row indices */
} sdata;

/* Does field f take more than one value across all rows? */
static bool varies(const sdata *d, int f) {
    for (size_t i = 1; i < d->n; i++)
        if (strcmp(d->rows[i].key[f], d->rows[0].key[f]) != 0)
            return true;
    return false;
}

static bool same_key(const srow *a, const srow *b, unsigned mask) {
    for (int f = 0; f < F_COUNT; f++)
        if ((mask & BIT(f)) && strcmp(a->key[f], b->key[f]) != 0)
            return false;
    return true;
}

/* Groups rows by the fields in mask, numbered in order of first appearance.
 * \return the number of groups. */
static size_t group_rows(sdata *d, unsigned mask) {
    size_t ng = 0;
    for (size_t i = 0; i < d->n; i++) {
        d->group[i] = ng;
        for (size_t j = 0; j < i; j++) {
            if (same_key(&d->rows[i], &d->rows[j], mask)) {
                d->group[i] = d->group[j];
                break;
            }
        }
        if (d->group[i] == ng)
            ng++;
    }
    return ng;
}

/* Rows of group g into d->idx. \return their count. */
static size_t members(const sdata *d, size_t g) {
    size_t m = 0;
    for (size_t i = 0; i < d->n; i++)
        if (d->group[i] == g)
            d->idx[m++] = i;
    return m;
}

/* Keeps the rows whose numeric field f is the largest in idx[0..m). */
static size_t keep_max(const sdata *d, size_t m, int f) {
    double mx = -INFINITY;
    for (size_t k = 0; k < m; k++)
        if (d->rows[d->idx[k]].val[f] > mx)
            mx = d->rows[d->idx[k]].val[f];
    size_t out = 0;
    for (size_t k = 0; k < m; k++)
        if (d->rows[d->idx[k]].val[f] == mx)
            d->idx[out++] = d->idx[k];
    return out;
}

/* Keeps the rows whose field f equals that of the first row. */
static size_t keep_first(const sdata *d, size_t m, int f) {
    size_t out = 0;
    for (size_t k = 0; k < m; k++)
        if (strcmp(d->rows[d->idx[k]].key[f], d->rows[d->idx[0]].key[f]) == 0)
            d->idx[out++] = d->idx[k];
    return out;
}

/* Stable insertion sort of idx[0..m) by numeric field f (groups are small). */
static void sort_by(const sdata *d, size_t m, int f) {
    for (size_t k = 1; k < m; k++) {
        size_t v = d->idx[k], j = k;
        for (; j > 0 && d->rows[d->idx[j - 1]].val[f] > d->rows[v].val[f]; j--)
            d->idx[j] = d->idx[j - 1];
        d->idx[j] = v;
    }
}

/* After sort_by(f): keeps, for each value of f, the row with the lowest wall_median. */
static size_t best_per_value(const sdata *d, size_t m, int f) {
    size_t out = 0;
    for (size_t k = 0; k < m; k++) {
        const srow *r = &d->rows[d->idx[k]];
        if (out > 0 && d->rows[d->idx[out - 1]].val[f] == r->val[f]) {
            if (r->wall_median < d->rows[d->idx[out - 1]].wall_median)
                d->idx[out - 1] = d->idx[k];
        } else {
            d->idx[out++] = d->idx[k];
        }
    }
    return out;
}

static size_t best_of(const sdata *d, size_t m) {
    size_t best = d->idx[0];
    for (size_t k = 1; k < m; k++)
        if (d->rows[d->idx[k]].wall_median < d->rows[best].wall_median)
            best = d->idx[k];
    return best;
}

static void append(char *out, size_t len, const char *s) {
    size_t n = strlen(out);
    if (n < len)
        snprintf(out + n, len - n, "%s%s", n ? " " : "", s);
}

/* Key title from row r: the `always` fields, then those of `optional` that vary across
 * the summary. Double quotes would end gnuplot's quoted title, so they become '. */
static void row_title(const sdata *d, const srow *r, unsigned always, unsigned optional,
                      char *out, size_t len) {
    static const char *const pre[F_COUNT] = {"", "", "", "", "", "cs ", "", "", ""};
    static const char *const post[F_COUNT] = {"", "", "", "", "", "", " workers",
                                              " threads", " tasks"};
    out[0] = '\0';
    for (int f = 0; f < F_COUNT; f++) {
        if ((always & BIT(f)) || ((optional & BIT(f)) && varies(d, f))) {
            char part[160];
            snprintf(part, sizeof part, "%s%s%s", pre[f], r->key[f], post[f]);
            append(out, len, part);
        }
    }
    for (char *p = out; *p; p++)
        if (*p == '"' || *p == '\t')
            *p = (*p == '"') ? '\'' : ' ';
}

#define LINE_KEY (BIT(F_IMPL) | BIT(F_EXPERIMENT) | BIT(F_WORKLOAD) | BIT(F_SCHEDULE))

/* ------------------------------------------------------------------------------------
 * plotdata/chunksize.dat: one line per (impl, experiment, workload, schedule), sliced at
 * the group's largest workers, threads and tasks and its first api.
 * ---------------------------------------------------------------------------------- */

static size_t chunksize_slice(const sdata *d, size_t g) {
    size_t m = members(d, g);
    m = keep_max(d, m, F_WORKERS);
    m = keep_max(d, m, F_THREADS);
    m = keep_max(d, m, F_TASKS);
    m = keep_first(d, m, F_API);
    sort_by(d, m, F_CHUNKSIZE);
    return best_per_value(d, m, F_CHUNKSIZE);
}

static int write_chunksize(sdata *d, const char *path, char *err, size_t errlen) {
    size_t ng = group_rows(d, LINE_KEY);
    /* The overall best is taken among plotted points only. */
    size_t gbest = SIZE_MAX;
    for (size_t g = 0; g < ng; g++) {
        size_t b = best_of(d, chunksize_slice(d, g));
        if (gbest == SIZE_MAX || d->rows[b].wall_median < d->rows[gbest].wall_median)
            gbest = b;
    }
    afile a;
    if (afile_open(&a, path, err, errlen) < 0)
        return -1;
    fprintf(a.f, "# hpool plot data for plots/chunksize.gp (format: see that script)\n");
    for (size_t g = 0; g < ng; g++) {
        size_t m = chunksize_slice(d, g), best = best_of(d, m);
        const srow *b = &d->rows[best];
        char title[RENDER_TITLE_MAX];
        row_title(d, b, BIT(F_IMPL) | BIT(F_WORKLOAD) | BIT(F_SCHEDULE),
                  BIT(F_EXPERIMENT) | BIT(F_API) | BIT(F_WORKERS) | BIT(F_THREADS) |
                      BIT(F_TASKS), title, sizeof title);
        fprintf(a.f, "%s\"%s (best %g: %.3g s)\"\n", g ? "\n\n" : "", title,
                b->val[F_CHUNKSIZE], b->wall_median);
        for (size_t k = 0; k < m; k++) {
            const srow *r = &d->rows[d->idx[k]];
            int flag = d->idx[k] == gbest ? 2 : d->idx[k] == best ? 1 : 0;
            fprintf(a.f, "%.9g\t%.9g\t%.9g\t%.9g\t%d\n", r->val[F_CHUNKSIZE], r->wall_min,
                    r->wall_median, r->wall_max, flag);
        }
    }
    return afile_commit(&a, err, errlen);
}

/* ------------------------------------------------------------------------------------
 * plotdata/scaling.dat: one line per (impl, experiment, workload, schedule, threads),
 * sliced at the largest tasks and the first api; each point is the best chunksize at
 * that worker count.
 * ---------------------------------------------------------------------------------- */

static void write_scaling_block(FILE *f, const sdata *d, size_t g) {
    size_t m = members(d, g);
    m = keep_max(d, m, F_TASKS);
    m = keep_first(d, m, F_API);
    sort_by(d, m, F_WORKERS);
    m = best_per_value(d, m, F_WORKERS);
    const srow *base = &d->rows[d->idx[0]];
    bool absolute = true; /* serial time measured for every point */
    for (size_t k = 0; k < m; k++)
        absolute &= d->rows[d->idx[k]].speedup > 0;
    char title[RENDER_TITLE_MAX];
    row_title(d, base, BIT(F_IMPL) | BIT(F_WORKLOAD) | BIT(F_SCHEDULE),
              BIT(F_EXPERIMENT) | BIT(F_API) | BIT(F_THREADS) | BIT(F_TASKS), title,
              sizeof title);
    fprintf(f, "%s\"%s", g ? "\n\n" : "", title);
    if (!absolute)
        fprintf(f, " (relative to %g workers)", base->val[F_WORKERS]);
    fprintf(f, "\"\n");
    double base_cores = base->val[F_WORKERS] * base->val[F_THREADS];
    for (size_t k = 0; k < m; k++) {
        const srow *r = &d->rows[d->idx[k]];
        double cores = r->val[F_WORKERS] * r->val[F_THREADS];
        double speedup = absolute ? r->speedup
                         : r->wall_median > 0 ? base->wall_median / r->wall_median : 0;
        double ideal = absolute ? cores : base_cores > 0 ? cores / base_cores : 0;
        fprintf(f, "%.9g\t%.9g\t%.9g\t%.9g\t%.9g\n", r->val[F_WORKERS], speedup,
                ideal > 0 ? speedup / ideal : 0, ideal, r->wall_median);
    }
}

static int write_scaling(sdata *d, const char *path, char *err, size_t errlen) {
    size_t ng = group_rows(d, LINE_KEY | BIT(F_THREADS));
    afile a;
    if (afile_open(&a, path, err, errlen) < 0)
        return -1;
    fprintf(a.f, "# hpool plot data for plots/scaling.gp (format: see that script)\n");
    for (size_t g = 0; g < ng; g++)
        write_scaling_block(a.f, d, g);
    return afile_commit(&a, err, errlen);
}

/* ------------------------------------------------------------------------------------
 * plotdata/schedules.dat: clusters are workloads (per experiment); bars are hpool's
 * schedules plus one bar per other impl (python-ppe). A bar is the lowest wall_median
 * among its rows at their largest workers, threads and tasks (best chunksize and api).
 * ---------------------------------------------------------------------------------- */

static bool is_hpool(const srow *r) {
    return strcmp(r->key[F_IMPL], "hpool") == 0;
}

static const char *bar_name(const srow *r) {
    return is_hpool(r) ? r->key[F_SCHEDULE] : r->key[F_IMPL];
}

/* Bars in a fixed order (simple to adaptive schedules, then peers), unknown names last. */
static size_t bar_order(const sdata *d, const char **out) {
    static const char *const known[] = {"fixed",     "static", "guided", "trapezoid",
                                        "factoring", "awf",    "auto",   NULL};
    size_t k = 0;
    for (const char *const *s = known; *s; s++) {
        for (size_t i = 0; i < d->n; i++) {
            if (is_hpool(&d->rows[i]) && strcmp(d->rows[i].key[F_SCHEDULE], *s) == 0) {
                out[k++] = *s;
                break;
            }
        }
    }
    for (size_t i = 0; i < d->n; i++) {
        bool seen = false;
        for (size_t j = 0; j < k && !seen; j++)
            seen = strcmp(out[j], bar_name(&d->rows[i])) == 0;
        if (!seen)
            out[k++] = bar_name(&d->rows[i]);
    }
    return k;
}

static void write_bar(FILE *f, const sdata *d, size_t g, const char *bar) {
    size_t m = 0;
    for (size_t i = 0; i < d->n; i++)
        if (d->group[i] == g && strcmp(bar_name(&d->rows[i]), bar) == 0)
            d->idx[m++] = i;
    if (m == 0) {
        fprintf(f, "\tNaN\tNaN\tNaN");
        return;
    }
    m = keep_max(d, m, F_WORKERS);
    m = keep_max(d, m, F_THREADS);
    m = keep_max(d, m, F_TASKS);
    const srow *b = &d->rows[best_of(d, m)];
    fprintf(f, "\t%.9g\t%.9g\t%.9g", b->wall_median, b->wall_min, b->wall_max);
}

static int write_schedules(sdata *d, const char *path, size_t *nbars, char *err,
                           size_t errlen) {
    const char **bars = calloc(d->n ? d->n : 1, sizeof *bars);
    if (!bars) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    size_t nb = bar_order(d, bars);
    size_t ng = group_rows(d, BIT(F_EXPERIMENT) | BIT(F_WORKLOAD));
    afile a;
    if (afile_open(&a, path, err, errlen) < 0) {
        free(bars);
        return -1;
    }
    fprintf(a.f, "# hpool plot data for plots/schedules.gp (format: see that script)\n");
    fprintf(a.f, "cluster");
    for (size_t b = 0; b < nb; b++)
        fprintf(a.f, "\t\"%s\"\tmin\tmax", bars[b]);
    fputc('\n', a.f);
    for (size_t g = 0; g < ng; g++) {
        size_t first = 0;
        while (d->group[first] != g)
            first++;
        char title[RENDER_TITLE_MAX];
        row_title(d, &d->rows[first], BIT(F_WORKLOAD), BIT(F_EXPERIMENT), title, sizeof title);
        fprintf(a.f, "\"%s\"", title);
        for (size_t b = 0; b < nb; b++)
            write_bar(a.f, d, g, bars[b]);
        fputc('\n', a.f);
    }
    free(bars);
    *nbars = nb;
    return afile_commit(&a, err, errlen);
}

/* ------------------------------------------------------------------------------------
 * Summary plots
 * ---------------------------------------------------------------------------------- */

/* Plot title: what is plotted, and which slice was taken when the sweep has more. */
static void summary_title(const sdata *d, const char *name, char *out, size_t len) {
    bool cs = varies(d, F_CHUNKSIZE), wt = varies(d, F_WORKERS) || varies(d, F_THREADS);
    const char *what, *note = "";
    if (strcmp(name, "chunksize") == 0) {
        what = "wall time vs chunksize";
        note = wt ? " (each line at its largest workers x threads)" : "";
    } else if (strcmp(name, "scaling") == 0) {
        what = "scaling with worker count";
        note = cs ? " (each point at its best chunksize)" : "";
    } else {
        what = "wall time by schedule";
        note = cs && wt ? " (each bar: best chunksize, largest workers x threads)"
               : cs     ? " (each bar at its best chunksize)"
               : wt     ? " (each bar at its largest workers x threads)"
                        : "";
    }
    if (d->n > 0 && !varies(d, F_EXPERIMENT))
        snprintf(out, len, "%s: %s%s", d->rows[0].key[F_EXPERIMENT], what, note);
    else
        snprintf(out, len, "%s%s", what, note);
}

static int summary_plot(renderer *rd, sdata *d, const char *name, char *err,
                        size_t errlen) {
    char dir[PATH_MAX], path[PATH_MAX], script[64];
    if (mkpath(dir, err, errlen, "%s/plotdata", rd->results_dir) < 0 ||
        mkpath(path, err, errlen, "%s/%s.dat", dir, name) < 0)
        return -1;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        seterr(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    gpargs g = {.n = 0};
    int rc;
    if (strcmp(name, "chunksize") == 0) {
        rc = write_chunksize(d, path, err, errlen);
    } else if (strcmp(name, "scaling") == 0) {
        rc = write_scaling(d, path, err, errlen);
    } else {
        size_t ns = 0;
        rc = write_schedules(d, path, &ns, err, errlen);
        gp_int(&g, "nsched", (long)ns);
    }
    if (rc < 0)
        return -1;
    char title[RENDER_TITLE_MAX];
    summary_title(d, name, title, sizeof title);
    gp_str(&g, "title", title);
    snprintf(script, sizeof script, "%s.gp", name);
    return run_script(rd, script, name, &g, err, errlen);
}

static int render_summary(renderer *rd, const tables *tb, const bool want[3], char *err,
                          size_t errlen) {
    static const char *const names[3] = {"chunksize", "scaling", "schedules"};
    srow *rows = NULL;
    if (load_srows(&tb->summary, &rows, err, errlen) < 0)
        return -1;
    size_t n = tb->summary.nrows;
    size_t *buf = calloc(2 * (n ? n : 1), sizeof *buf);
    if (!buf) {
        free(rows);
        seterr(err, errlen, "out of memory");
        return -1;
    }
    sdata d = {.rows = rows, .n = n, .group = buf, .idx = buf + n};
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++)
        if (want[i])
            rc = summary_plot(rd, &d, names[i], err, errlen);
    free(buf);
    free(rows);
    return rc;
}

/* ------------------------------------------------------------------------------------
 * Entry point
 * ---------------------------------------------------------------------------------- */

static int load_one(const char *dir, const char *file, hpool_render_table *t, bool *has,
                    char *err, size_t errlen) {
    int rc = hpool_render_table_load(dir, file, t, err, errlen);
    *has = rc == 0 && t->nrows > 0;
    return rc < 0 ? -1 : 0;
}

static int load_tables(const char *dir, tables *tb, char *err, size_t errlen) {
    if (load_one(dir, "chunks.tsv", &tb->chunks, &tb->has_chunks, err, errlen) < 0 ||
        load_one(dir, "spans.tsv", &tb->spans, &tb->has_spans, err, errlen) < 0 ||
        load_one(dir, "runs.tsv", &tb->runs, &tb->has_runs, err, errlen) < 0 ||
        load_one(dir, "summary.tsv", &tb->summary, &tb->has_summary, err, errlen) < 0)
        return -1;
    static const char *const run_cols[] = {"run", NULL};
    if ((tb->has_chunks &&
         (hpool_render_table_require(&tb->chunks, CHUNK_COLS, err, errlen) < 0 ||
          table_require_numeric(&tb->chunks, CHUNK_NUMERIC, err, errlen) < 0)) ||
        (tb->has_spans &&
         (hpool_render_table_require(&tb->spans, SPAN_COLS, err, errlen) < 0 ||
          table_require_numeric(&tb->spans, SPAN_NUMERIC, err, errlen) < 0)) ||
        (tb->has_runs && table_require_numeric(&tb->runs, run_cols, err, errlen) < 0))
        return -1;
    return 0;
}

static void free_tables(tables *tb) {
    hpool_render_table_free(&tb->chunks);
    hpool_render_table_free(&tb->spans);
    hpool_render_table_free(&tb->runs);
    hpool_render_table_free(&tb->summary);
}

/* Which summary plots have something to compare. Checked on the raw columns so that a
 * summary.tsv with a missing column fails in load_srows with a clear message. */
static void summary_wants(const tables *tb, bool want[3]) {
    static const char *const cols[3] = {"chunksize", "workers", "schedule"};
    for (int i = 0; i < 3; i++) {
        want[i] = false;
        int c = hpool_render_table_col(&tb->summary, cols[i]);
        for (size_t r = 1; tb->has_summary && c >= 0 && r < tb->summary.nrows; r++)
            want[i] |= strcmp(hpool_render_table_cell(&tb->summary, r, c),
                              hpool_render_table_cell(&tb->summary, 0, c)) != 0;
    }
}

static int render_all(renderer *rd, char *err, size_t errlen) {
    tables tb = {0};
    int rc = load_tables(rd->results_dir, &tb, err, errlen);
    bool want[3] = {false, false, false};
    if (rc == 0)
        summary_wants(&tb, want);
    bool any = tb.has_chunks || want[0] || want[1] || want[2];
    if (rc == 0 && any && find_in_path("gnuplot", rd->gnuplot) != 0) {
        seterr(err, errlen,
               "gnuplot not found in PATH; install it to render plots (Debian/Ubuntu: "
               "apt-get install gnuplot-nox)");
        rc = -1;
    }
    if (rc == 0 && tb.has_chunks)
        rc = render_timelines(rd, &tb, err, errlen);
    if (rc == 0 && (want[0] || want[1] || want[2]))
        rc = render_summary(rd, &tb, want, err, errlen);
    if (rc == 0 && !any && !rd->quiet)
        printf("render: nothing to plot in %s\n", rd->results_dir);
    free_tables(&tb);
    return rc;
}

int hpool_bench_render(const char *results_dir, const char *plots_dir, bool quiet, char *err,
                       size_t errlen) {
    if (err && errlen)
        err[0] = '\0';
    if (!results_dir || !plots_dir) {
        seterr(err, errlen, "render: results_dir and plots_dir are required");
        return -1;
    }
    struct stat st;
    if (stat(results_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        seterr(err, errlen, "%s: not a results directory", results_dir);
        return -1;
    }
    renderer rd = {.results_dir = results_dir, .plots_dir = plots_dir, .quiet = quiet};
    return render_all(&rd, err, errlen);
}
