/* render.c: results directory -> gnuplot data files -> PNG + SVG plots.
 *
 * The timeline script reads chunks.tsv / spans.tsv itself (filtering one run is easy
 * in gnuplot); the summary plots need rows grouped by arbitrary keys, which gnuplot
 * cannot do, so plotdata.c writes them pre-grouped under results_dir/plotdata/. The
 * layout of each data file is documented at the top of plots/NAME.gp. The TSV table
 * reader is table.c; helpers shared by the three files are in render_int.h.
 *
 * Every validation happens here (and in plotdata.c / table.c), before gnuplot runs:
 * gnuplot silently skips a row it cannot parse, which would turn a corrupt file into a
 * quietly wrong picture. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, memmem */
#endif
#include "render_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define RENDER_TIMELINES_MAX 4 /* timeline plots per results dir */
#define RENDER_STDERR_MAX 8192 /* bytes of gnuplot's stderr kept for messages */

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
 * Summary plots
 * ---------------------------------------------------------------------------------- */

/* Plot title: what is plotted, and which slice was taken when the sweep has more. */
static void summary_title(const sdata *d, const char *name, char *out, size_t len) {
    bool cs = hpool_bench__varies(d, F_CHUNKSIZE);
    bool wt = hpool_bench__varies(d, F_WORKERS) || hpool_bench__varies(d, F_THREADS);
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
    if (d->n > 0 && !hpool_bench__varies(d, F_EXPERIMENT))
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
        char panels[PATH_MAX];
        hpool_render_table model;
        memset(&model, 0, sizeof model);
        int mrc = mkpath(panels, err, errlen, "%s/chunksize_panels.dat", dir) < 0
                      ? -1
                      : hpool_render_table_load(rd->results_dir, "model.tsv", &model, err,
                                                errlen);
        rc = mrc < 0 ? -1
                     : hpool_bench__write_chunksize(d, path, panels, mrc == 0 ? &model : NULL,
                                                    err, errlen);
        hpool_render_table_free(&model);
    } else if (strcmp(name, "scaling") == 0) {
        rc = hpool_bench__write_scaling(d, path, err, errlen);
    } else {
        size_t ns = 0;
        char imb[PATH_MAX];
        rc = mkpath(imb, err, errlen, "%s/schedules_imbalance.dat", dir) < 0
                 ? -1
                 : hpool_bench__write_schedules(d, path, imb, &ns, err, errlen);
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
    if (hpool_bench__load_srows(&tb->summary, &rows, err, errlen) < 0)
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
          hpool_bench__table_require_numeric(&tb->chunks, CHUNK_NUMERIC, err, errlen) < 0)) ||
        (tb->has_spans &&
         (hpool_render_table_require(&tb->spans, SPAN_COLS, err, errlen) < 0 ||
          hpool_bench__table_require_numeric(&tb->spans, SPAN_NUMERIC, err, errlen) < 0)) ||
        (tb->has_runs &&
         hpool_bench__table_require_numeric(&tb->runs, run_cols, err, errlen) < 0))
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

int hpool_bench_render_script(const char *dir, const char *plots_dir, const char *script,
                              const char *name, bool quiet, char *err, size_t errlen) {
    if (err && errlen)
        err[0] = '\0';
    renderer rd = {.results_dir = dir, .plots_dir = plots_dir, .quiet = quiet};
    if (find_in_path("gnuplot", rd.gnuplot) != 0) {
        seterr(err, errlen, "gnuplot not found in PATH (Debian/Ubuntu: apt-get install "
                            "gnuplot-nox)");
        return -1;
    }
    gpargs g = {.n = 0};
    g.s[0] = '\0';
    return run_script(&rd, script, name, &g, err, errlen);
}
