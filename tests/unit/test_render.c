/* Unit tests of bench/render.c (gnuplot plots, plot data files, the TSV reader) and
 * bench/report.c (report.md).
 *
 * Every test builds its own results directory under one mkdtemp() root, with TSVs
 * written here by hand following docs/FORMATS.md, and renders with the scripts of the
 * source tree (HPOOL_SOURCE_DIR/plots). gnuplot must be installed (gnuplot-nox). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp, nftw, setenv */
#endif

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render.h"
#include "report.h"

#ifndef HPOOL_SOURCE_DIR
#error "HPOOL_SOURCE_DIR must name the source tree (CMake defines it)"
#endif

#define PLOTS_DIR HPOOL_SOURCE_DIR "/plots"

static char root[512]; /* the mkdtemp() directory of this test program */

/* ------------------------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------------------- */

/* snprintf that fails the test instead of truncating. */
#define FMT(buf, ...) assert_true(fmt_ok(snprintf((buf), sizeof(buf), __VA_ARGS__), sizeof(buf)))
static bool fmt_ok(int written, size_t cap) {
    return written >= 0 && (size_t)written < cap;
}

/* A fresh results directory root/name. */
static const char *mkresults(const char *name) {
    static char path[1024];
    FMT(path, "%s/%s", root, name);
    assert_int_equal(mkdir(path, 0755), 0);
    return path;
}

static void put(const char *dir, const char *file, const char *text) {
    char path[1024];
    FMT(path, "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

/* Appends a formatted line to a growing buffer (fixtures are built row by row). */
static void addf(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void addf(char *buf, size_t cap, const char *fmt, ...) {
    size_t n = strlen(buf);
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + n, cap - n, fmt, ap);
    va_end(ap);
    assert_true(w >= 0 && (size_t)w < cap - n);
}

static char *slurp(const char *dir, const char *file, size_t *len) {
    char path[1024];
    FMT(path, "%s/%s", dir, file);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 22);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 22) - 1, f);
    fclose(f);
    if (len)
        *len = n;
    return buf;
}

static bool exists(const char *dir, const char *file) {
    char path[1024];
    FMT(path, "%s/%s", dir, file);
    return access(path, F_OK) == 0;
}

/* base.png is a PNG and base.svg an SVG, both non-empty. */
static void assert_plot(const char *dir, const char *base) {
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    char file[256];
    size_t len = 0;
    FMT(file, "%s.png", base);
    char *png = slurp(dir, file, &len);
    if (!png)
        fail_msg("%s/%s was not written", dir, file);
    assert_true(len > 1000);
    assert_memory_equal(png, sig, sizeof sig);
    free(png);
    FMT(file, "%s.svg", base);
    char *svg = slurp(dir, file, &len);
    if (!svg)
        fail_msg("%s/%s was not written", dir, file);
    assert_true(len > 1000);
    assert_non_null(strstr(svg, "<svg"));
    assert_non_null(strstr(svg, "</svg>"));
    free(svg);
}

/* No temporary file (name containing ".tmp") is left under dir or dir/plotdata. */
static void assert_no_temp_files(const char *dir) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));) {
        if (strstr(e->d_name, ".tmp"))
            fail_msg("temporary file left behind: %s/%s", dir, e->d_name);
        if (strcmp(e->d_name, "plotdata") == 0) {
            char sub[1024];
            FMT(sub, "%s/plotdata", dir);
            assert_no_temp_files(sub);
        }
    }
    closedir(d);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* ------------------------------------------------------------------------------------
 * Fixtures (docs/FORMATS.md)
 * ---------------------------------------------------------------------------------- */

#define RUNS_HEADER                                                                        \
    "impl\texperiment\trun\tworkload\tapi\tschedule\tschedule_used\tchunksize\tworkers\t"  \
    "threads\ttasks\trep\twall_s\ttasks_per_s\tserial_s\tspeedup\tefficiency\timbalance\t" \
    "manager_cpu_s\tbytes_moved\tchunks\n"
#define SUMMARY_HEADER                                                                      \
    "impl\texperiment\tworkload\tapi\tschedule\tchunksize\tworkers\tthreads\ttasks\treps\t" \
    "wall_min\twall_median\twall_max\tspread\ttasks_per_s_median\tspeedup_median\t"         \
    "efficiency_median\timbalance_median\tmanager_cpu_median\n"
#define CHUNKS_HEADER                                                                \
    "run\tchunk\tschedule\tworker\tfirst_item\titems\tt_submit\tt_dispatch\tt_recv\t" \
    "t_start\tt_end\tt_result\tstatus\n"
#define SPANS_HEADER "run\trank\tthread\tchunk\titem\tinner\tt_start\tt_end\tlabel\n"

/* Runs 0 (rep 0), 1 (rep 1 of the same configuration) and 2 (rep 0 of another), and a
 * python-ppe run whose id collides with an hpool one (ids are per impl). */
static void put_runs(const char *dir) {
    put(dir, "runs.tsv",
        RUNS_HEADER
        "hpool\tdemo\t0\tcpu_sum\tmap\tguided\tguided\t4\t2\t2\t16\t0\t0.41\t39.0\t1.6\t3.9\t"
        "0.97\t1.05\t0.01\t4096\t5\n"
        "hpool\tdemo\t1\tcpu_sum\tmap\tguided\tguided\t4\t2\t2\t16\t1\t0.42\t38.1\t1.6\t3.8\t"
        "0.95\t1.07\t0.01\t4096\t5\n"
        "hpool\tdemo\t2\tcpu_sum\tmap\tauto\tfixed\t1\t2\t2\t16\t0\t0.45\t35.5\t1.6\t3.5\t"
        "0.89\t1.10\t0.02\t8192\t16\n"
        "python-ppe\tdemo\t0\tcpu_sum\tmap\tfixed\tfixed\t4\t2\t1\t16\t0\t1.1\t14.5\t1.6\t1.45\t"
        "0.72\t1.01\t0.05\t2048\t4\n"
        "# complete\n");
}

/* Chunks of runs 0..2: chunk c of a run goes to rank 1 + c % 2, back to back; chunk 3
 * of run 0 failed. */
static void put_chunks(const char *dir, bool complete) {
    char buf[16384] = CHUNKS_HEADER;
    for (int run = 0; run < 3; run++) {
        int n = run == 2 ? 16 : 5;
        double t[3] = {0, 0.001, 0.002};
        for (int c = 0; c < n; c++) {
            int w = 1 + c % 2;
            double disp = 0.0005 * c, start = t[w] > disp ? t[w] + 0.0002 : disp + 0.0004;
            double end = start + 0.07 + 0.01 * (c % 3);
            t[w] = end;
            addf(buf, sizeof buf,
                 "%d\t%d\tguided\t%d\t%d\t%d\t0\t%.6f\t%.6f\t%.6f\t%.6f\t%.6f\t%d\n", run, c, w,
                 c * 3, 3, disp, disp + 0.0001, start, end, end + 0.0003,
                 run == 0 && c == 3 ? -11 : 0);
        }
    }
    if (complete)
        addf(buf, sizeof buf, "# complete\n");
    put(dir, "chunks.tsv", buf);
}

/* Spans of run 0: 3 items per chunk, alternating over 2 OpenMP threads. */
static void put_spans(const char *dir) {
    char buf[16384] = SPANS_HEADER;
    addf(buf, sizeof buf, "# inner items of run 0\n");
    for (int c = 0; c < 5; c++) {
        double start = 0.0004 + 0.08 * (c / 2);
        for (int i = 0; i < 3; i++)
            addf(buf, sizeof buf, "0\t%d\t%d\t%d\t%d\t0\t%.6f\t%.6f\tio\n", 1 + c % 2, i % 2, c,
                 c * 3 + i, start + 0.02 * i, start + 0.02 * i + 0.018);
    }
    addf(buf, sizeof buf, "# complete\n");
    put(dir, "spans.tsv", buf);
}

/* sweep: hpool over workload x schedule x chunksize x workers, plus python-ppe rows
 * (fixed chunks, serial time not measured); else a single row. */
static void put_summary(const char *dir, bool sweep) {
    static const char *const wls[] = {"cpu_sum", "random"};
    static const char *const scheds[] = {"fixed", "guided"};
    static const int cs[] = {4, 1, 16}, ws[] = {1, 2};
    char buf[32768] = SUMMARY_HEADER;
    int nw = sweep ? 2 : 1, ns = sweep ? 2 : 1, nc = sweep ? 3 : 1;
    for (int w = 0; w < nw; w++)
        for (int s = 0; s < ns; s++)
            for (int c = 0; c < nc; c++)
                for (int k = 0; k < nw; k++) {
                    double med = (1.6 / (2 * ws[k])) * (1 + 0.2 / cs[c] + 0.01 * cs[c]) *
                                 (s ? 0.9 : 1.0) * (w ? 1.05 : 1.0);
                    addf(buf, sizeof buf,
                         "hpool\tdemo\t%s\tmap\t%s\t%d\t%d\t2\t16\t3\t%.6f\t%.6f\t%.6f\t0.1\t"
                         "%.4f\t%.4f\t%.4f\t1.05\t0.01\n",
                         wls[w], scheds[s], cs[c], ws[k], med * 0.95, med, med * 1.05,
                         16 / med, 1.6 / med, 1.6 / med / (2 * ws[k]));
                }
    for (int c = 0; sweep && c < 3; c++)
        for (int k = 0; k < 2; k++)
            addf(buf, sizeof buf,
                 "python-ppe\tdemo\tcpu_sum\tmap\tfixed\t%d\t%d\t1\t16\t3\t%.4f\t%.4f\t%.4f\t"
                 "0.1\t10\t0\t0\t1.01\t0.05\n",
                 cs[c], ws[k], 1.9 / ws[k], 2.0 / ws[k], 2.1 / ws[k]);
    addf(buf, sizeof buf, "# complete\n");
    put(dir, "summary.tsv", buf);
}

static void put_meta(const char *dir) {
    put(dir, "meta.json",
        "{\"name\": \"demo\", \"description\": \"Chunksize sweep for the unit test.\",\n"
        " \"config\": {\"workload\": [\"cpu_sum\", \"random\"], \"tasks\": [16],\n"
        "            \"cost_ms\": 1.5, \"repeat\": 3},\n"
        " \"host\": {\"name\": \"node|1\", \"cpus\": 8}}\n");
}

static const char *full_results(const char *name) {
    const char *dir = mkresults(name);
    put_runs(dir);
    put_chunks(dir, true);
    put_spans(dir);
    put_summary(dir, true);
    put_meta(dir);
    return dir;
}

static int render(const char *dir, char *err, size_t errlen) {
    return hpool_bench_render(dir, PLOTS_DIR, true, err, errlen);
}

/* ------------------------------------------------------------------------------------
 * Rendering
 * ---------------------------------------------------------------------------------- */

static void test_render_all_plots(void **state) {
    (void)state;
    const char *dir = full_results("full");
    char err[1024] = "";
    if (render(dir, err, sizeof err) != 0)
        fail_msg("render failed: %s", err);
    assert_plot(dir, "timeline");
    assert_plot(dir, "timeline_run2"); /* run 1 is a repetition: skipped */
    assert_false(exists(dir, "timeline_run1.png"));
    assert_plot(dir, "chunksize");
    assert_plot(dir, "scaling");
    assert_plot(dir, "schedules");
    assert_true(exists(dir, "plotdata/chunksize.dat"));
    assert_true(exists(dir, "plotdata/scaling.dat"));
    assert_true(exists(dir, "plotdata/schedules.dat"));
    assert_no_temp_files(dir);
}

/* The plot data files follow the contracts at the top of plots/NAME.gp. */
static void test_plot_data_contract(void **state) {
    (void)state;
    const char *dir = full_results("contract");
    char err[1024] = "";
    assert_int_equal(render(dir, err, sizeof err), 0);

    char *cs = slurp(dir, "plotdata/chunksize.dat", NULL);
    assert_non_null(cs);
    /* one block per (impl, workload, schedule): 2 x 2 hpool + 1 python-ppe, each sliced
     * at its largest workers count and sorted by chunksize */
    int blocks = 0;
    for (const char *p = cs; (p = strstr(p, "\n\"")); p++)
        blocks++;
    assert_int_equal(blocks, 5);
    assert_non_null(strstr(cs, "\"hpool cpu_sum guided 2 workers 2 threads (best 4: "));
    assert_non_null(strstr(cs, "\n\n\n\"")); /* blocks separated by two blank lines */
    const char *g = strstr(cs, "\"hpool cpu_sum fixed");
    assert_non_null(g);
    assert_non_null(strstr(g, "\n1\t"));
    assert_true(strstr(g, "\n1\t") < strstr(g, "\n4\t"));
    assert_true(strstr(g, "\n4\t") < strstr(g, "\n16\t"));
    const char *best = strstr(cs, "\t2\n"); /* exactly one overall best */
    assert_non_null(best);
    assert_null(strstr(best + 1, "\t2\n"));
    free(cs);

    char *sc = slurp(dir, "plotdata/scaling.dat", NULL);
    assert_non_null(sc);
    assert_non_null(strstr(sc, "\"python-ppe cpu_sum fixed 1 threads (relative to 1 workers)\""));
    assert_non_null(strstr(sc, "\"hpool random guided 2 threads\"\n1\t"));
    free(sc);

    char *sd = slurp(dir, "plotdata/schedules.dat", NULL);
    assert_non_null(sd);
    assert_non_null(strstr(sd, "cluster\t\"fixed\"\tmin\tmax\t\"guided\"\tmin\tmax\t"
                               "\"python-ppe\"\tmin\tmax\n"));
    assert_non_null(strstr(sd, "\n\"random\"\t"));
    assert_non_null(strstr(sd, "\tNaN\tNaN\tNaN\n")); /* no python-ppe run of random */
    free(sd);

    /* The lower panel: the same bars, each its row's median imbalance. */
    char *si = slurp(dir, "plotdata/schedules_imbalance.dat", NULL);
    assert_non_null(si);
    assert_non_null(strstr(si, "cluster\t\"fixed\"\t\"guided\"\t\"python-ppe\"\n"));
    assert_non_null(strstr(si, "\n\"cpu_sum\"\t1.05\t1.05\t1.01\n"));
    assert_non_null(strstr(si, "\n\"random\"\t1.05\t1.05\tNaN\n"));
    free(si);
}

/* The chunksize plot: one panel per workload, its lines consecutive blocks, the model's
 * predicted chunksize (model.tsv, at the panel's tasks and workers) and the measured best
 * fixed chunksize in the panels file; panels without a model row predict 0. */
static void test_chunksize_panels(void **state) {
    (void)state;
    const char *dir = full_results("panels");
    put(dir, "model.tsv",
        "workload\ttasks\tworkers\toverhead_s\titem_mean_s\titem_sd_s\tpredicted_chunksize\n"
        "cpu_sum\t16\t2\t2e-05\t0.0015\t0.0001\t8\n# complete\n");
    char err[1024] = "";
    assert_int_equal(render(dir, err, sizeof err), 0);
    char *pn = slurp(dir, "plotdata/chunksize_panels.dat", NULL);
    assert_non_null(pn);
    /* cpu_sum: hpool fixed, hpool guided, python-ppe = blocks 0..2; the fixed line's
     * best is chunksize 4 (the fixture's cost is lowest there); random: blocks 3..4. */
    assert_non_null(strstr(pn, "\n\"cpu_sum\"\t0\t3\t8\t4\t"));
    assert_non_null(strstr(pn, "\n\"random\"\t3\t2\t0\t4\t"));
    free(pn);
    char *cs = slurp(dir, "plotdata/chunksize.dat", NULL);
    assert_non_null(cs);
    const char *cpu = strstr(cs, "\"hpool cpu_sum");
    const char *rnd = strstr(cs, "\"hpool random");
    const char *ppe = strstr(cs, "\"python-ppe cpu_sum");
    assert_true(cpu && rnd && ppe && cpu < ppe && ppe < rnd); /* blocks of a panel together */
    free(cs);
    assert_plot(dir, "chunksize");
}

/* One value of chunksize, workers and schedule: only the timeline has something to show. */
static void test_render_skips_flat_dimensions(void **state) {
    (void)state;
    const char *dir = mkresults("flat");
    put_chunks(dir, true);
    put_summary(dir, false);
    char err[1024] = "";
    if (render(dir, err, sizeof err) != 0)
        fail_msg("render failed: %s", err);
    assert_plot(dir, "timeline");
    assert_plot(dir, "timeline_run1"); /* no runs.tsv: simply the next runs */
    assert_plot(dir, "timeline_run2");
    assert_false(exists(dir, "chunksize.png"));
    assert_false(exists(dir, "scaling.png"));
    assert_false(exists(dir, "schedules.png"));
}

static void test_render_nothing_to_plot(void **state) {
    (void)state;
    const char *dir = mkresults("empty");
    char err[256] = "";
    assert_int_equal(render(dir, err, sizeof err), 0);
    put(dir, "chunks.tsv", CHUNKS_HEADER "# complete\n"); /* header only: no runs */
    assert_int_equal(render(dir, err, sizeof err), 0);
    assert_false(exists(dir, "timeline.png"));
}

/* A cut-short run: no "# complete" and a half-written last line, which is dropped. */
static void test_render_incomplete_data(void **state) {
    (void)state;
    const char *dir = mkresults("cut");
    put_chunks(dir, false);
    char path[1024];
    FMT(path, "%s/chunks.tsv", dir);
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fputs("2\t16\tguided\t1\t48\t3\t0\t0.0", f); /* no newline, 8 of 13 fields */
    fclose(f);
    char err[1024] = "";
    if (render(dir, err, sizeof err) != 0)
        fail_msg("render failed: %s", err);
    assert_plot(dir, "timeline");
    assert_int_equal(hpool_bench_write_report(dir, err, sizeof err), 0);
    char *md = slurp(dir, "report.md", NULL);
    assert_non_null(md);
    assert_non_null(strstr(md, "| chunks.tsv | 26 | **incomplete**"));
    assert_non_null(strstr(md, "a partly written last line was ignored"));
    assert_non_null(strstr(md, "**The data is incomplete**"));
    free(md);
}

/* ------------------------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------------------- */

static void expect_render_error(const char *name, const char *chunks, const char *fragment) {
    const char *dir = mkresults(name);
    put(dir, "chunks.tsv", chunks);
    char err[1024] = "";
    assert_int_equal(render(dir, err, sizeof err), -1);
    if (!strstr(err, fragment))
        fail_msg("error '%s' does not contain '%s'", err, fragment);
    assert_false(exists(dir, "timeline.png"));
    assert_no_temp_files(dir);
}

static void test_malformed_chunks(void **state) {
    (void)state;
    /* a short row in the middle of a complete file */
    expect_render_error("short_row",
                        CHUNKS_HEADER "0\t0\tfixed\t1\t0\t1\t0\t0\t0\t0\t0.1\t0.1\t0\n"
                                      "0\t1\tfixed\t2\t1\n"
                                      "0\t2\tfixed\t1\t2\t1\t0\t0\t0\t0.1\t0.2\t0.2\t0\n"
                                      "# complete\n",
                        "chunks.tsv line 3: expected 13 fields");
    /* a value that is not a number */
    expect_render_error("bad_number",
                        CHUNKS_HEADER "0\t0\tfixed\t1\t0\t1\t0\t0\t0\t0\tsoon\t0.1\t0\n"
                                      "# complete\n",
                        "chunks.tsv line 2: column t_end: 'soon' is not a number");
    /* a header without the columns of FORMATS.md */
    expect_render_error("bad_header", "run\tchunk\tworker\n0\t0\t1\n# complete\n",
                        "chunks.tsv: no column 'schedule'");
    /* binary garbage */
    expect_render_error("garbage", "\x01\x02\x03\n\xff\xfe\t\t\n\x7f\n", "chunks.tsv");
}

static void test_report_rejects_malformed_summary(void **state) {
    (void)state;
    const char *dir = mkresults("bad_summary");
    put(dir, "summary.tsv", SUMMARY_HEADER "hpool\tdemo\tcpu_sum\n# complete\n");
    char err[1024] = "";
    assert_int_equal(hpool_bench_write_report(dir, err, sizeof err), -1);
    assert_non_null(strstr(err, "summary.tsv line 2"));
    assert_false(exists(dir, "report.md"));
    assert_int_equal(render(dir, err, sizeof err), -1);
}

static void test_missing_gnuplot(void **state) {
    (void)state;
    const char *dir = mkresults("nognuplot");
    put_chunks(dir, true);
    char empty[1024], *old = strdup(getenv("PATH") ? getenv("PATH") : "");
    assert_non_null(old);
    FMT(empty, "%s/emptybin", root);
    assert_int_equal(mkdir(empty, 0755), 0);
    setenv("PATH", empty, 1);
    char err[1024] = "";
    int rc = render(dir, err, sizeof err);
    setenv("PATH", old, 1);
    free(old);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, "gnuplot not found"));
    assert_non_null(strstr(err, "gnuplot-nox"));
}

/* A failing script is named in the message, with gnuplot's own error line. */
static void test_failing_script(void **state) {
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", mkresults("badscript")); /* mkresults reuses its buffer */
    put_chunks(dir, true);
    char plots[1024];
    snprintf(plots, sizeof plots, "%s", mkresults("badplots"));
    put(plots, "timeline.gp", "set terminal pngcairo\nplot [0:1] x with nonsense\n");
    char err[1024] = "";
    assert_int_equal(hpool_bench_render(dir, plots, true, err, sizeof err), -1);
    assert_non_null(strstr(err, "gnuplot failed on"));
    assert_non_null(strstr(err, "timeline.gp"));
    assert_non_null(strstr(err, "line 2")); /* gnuplot's message */
    assert_false(exists(dir, "timeline.png"));
    assert_no_temp_files(dir);

    /* a plots directory without the script */
    assert_int_equal(hpool_bench_render(dir, "/nonexistent/plots", true, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/plots/timeline.gp"));
}

static void test_bad_arguments(void **state) {
    (void)state;
    char err[256] = "";
    assert_int_equal(
        hpool_bench_render("/nonexistent/results", PLOTS_DIR, true, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a results directory"));
    assert_int_equal(hpool_bench_render(NULL, PLOTS_DIR, true, err, sizeof err), -1);
    assert_int_equal(hpool_bench_write_report("/nonexistent/results", err, sizeof err), -1);
    assert_int_equal(hpool_bench_write_report(NULL, err, sizeof err), -1);
}

/* ------------------------------------------------------------------------------------
 * Report
 * ---------------------------------------------------------------------------------- */

static void test_report(void **state) {
    (void)state;
    const char *dir = full_results("report");
    char err[1024] = "";
    assert_int_equal(render(dir, err, sizeof err), 0);
    if (hpool_bench_write_report(dir, err, sizeof err) != 0)
        fail_msg("report failed: %s", err);
    char *md = slurp(dir, "report.md", NULL);
    assert_non_null(md);
    static const char *const want[] = {
        "# hpool benchmark report: demo\n",
        "Chunksize sweep for the unit test.",
        "| config.workload | cpu_sum, random |",
        "| config.cost_ms | 1.5 |",
        "| host.name | node\\|1 |", /* '|' escaped inside a cell */
        "| runs.tsv | 4 | complete |",
        "| chunks.tsv | 26 | complete |",
        "| spans.tsv | 15 | complete |",
        "The data is complete",
        "## Best configuration",
        "Lowest median wall time: **hpool, cpu_sum, map, guided, chunksize 4, 2 workers x 2 "
        "threads, 16 tasks**",
        "| cpu_sum | 0.3924 | 1 | 2.55x |", /* hpool against python-ppe: 1 / 0.3924 */
        "| impl | experiment | workload | api | schedule | chunksize | workers |",
        /* median 1.6 / 4 * (1 + 0.2 / 4 + 0.01 * 4) * 0.9, min / max -/+ 5% */
        "| hpool | demo | cpu_sum | map | guided | 4 | 2 | 2 | 16 | 3 | 0.3728 | 0.3924 | "
        "0.412 |",
        "| python-ppe | demo | cpu_sum | map | fixed | 16 | 2 | 1 | 16 | 3 | 0.95 | 1 | 1.05 |",
        "![timeline](timeline.png)",
        "![timeline_run2](timeline_run2.png)",
        "![chunksize](chunksize.png)",
        "[SVG](scaling.svg)",
        "![schedules](schedules.png)",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        if (!strstr(md, want[i]))
            fail_msg("report.md lacks '%s'", want[i]);
    /* plots in reading order */
    assert_true(strstr(md, "![timeline](") < strstr(md, "![timeline_run2]("));
    assert_true(strstr(md, "![timeline_run2](") < strstr(md, "![chunksize]("));
    assert_true(strstr(md, "![chunksize](") < strstr(md, "![scaling]("));
    free(md);
    assert_no_temp_files(dir);
}

static void test_report_minimal(void **state) {
    (void)state;
    const char *dir = mkresults("minimal");
    put_chunks(dir, true);
    put(dir, "meta.json", "{ not json");
    char err[1024] = "";
    assert_int_equal(hpool_bench_write_report(dir, err, sizeof err), 0);
    char *md = slurp(dir, "report.md", NULL);
    assert_non_null(md);
    assert_non_null(strstr(md, "# hpool benchmark report: minimal\n"));
    assert_non_null(strstr(md, "meta.json could not be read (line 1"));
    assert_non_null(strstr(md, "| summary.tsv | - | absent |"));
    assert_non_null(strstr(md, "No summary.tsv rows"));
    assert_non_null(strstr(md, "No plots were rendered"));
    free(md);
}

/* ------------------------------------------------------------------------------------
 * The TSV reader
 * ---------------------------------------------------------------------------------- */

static void test_table_reader(void **state) {
    (void)state;
    const char *dir = mkresults("tables");
    put(dir, "a.tsv",
        "# written by a test\r\nx\ty\r\n\r\n1\t2.5\r\n# note\r\n3\t\r\n# complete\r\n");
    hpool_render_table t;
    char err[256] = "";
    assert_int_equal(hpool_render_table_load(dir, "a.tsv", &t, err, sizeof err), 0);
    assert_int_equal(t.ncols, 2);
    assert_int_equal(t.nrows, 2);
    assert_true(t.complete);
    assert_false(t.dropped);
    assert_int_equal(hpool_render_table_col(&t, "y"), 1);
    assert_int_equal(hpool_render_table_col(&t, "z"), -1);
    assert_string_equal(hpool_render_table_cell(&t, 0, 1), "2.5");
    assert_string_equal(hpool_render_table_cell(&t, 1, 1), "");
    assert_string_equal(hpool_render_table_cell(&t, 9, 9), "");
    assert_int_equal(t.lines[1], 6);
    double v = 0;
    assert_int_equal(hpool_render_table_num(&t, 0, 1, &v, err, sizeof err), 0);
    assert_true(v == 2.5);
    assert_int_equal(hpool_render_table_num(&t, 1, 1, &v, err, sizeof err), -1);
    assert_string_equal(err, "a.tsv line 6: column y: '' is not a number");
    static const char *const cols[] = {"x", "w", NULL};
    assert_int_equal(hpool_render_table_require(&t, cols, err, sizeof err), -1);
    assert_non_null(strstr(err, "'w'"));
    hpool_render_table_free(&t);

    /* data after "# complete": not complete */
    put(dir, "b.tsv", "x\n1\n# complete\n2\n");
    assert_int_equal(hpool_render_table_load(dir, "b.tsv", &t, err, sizeof err), 0);
    assert_false(t.complete);
    assert_int_equal(t.nrows, 2);
    hpool_render_table_free(&t);

    /* absent and empty files */
    assert_int_equal(hpool_render_table_load(dir, "none.tsv", &t, err, sizeof err), 1);
    put(dir, "c.tsv", "");
    assert_int_equal(hpool_render_table_load(dir, "c.tsv", &t, err, sizeof err), 1);
    assert_int_equal(t.nrows, 0);
    hpool_render_table_free(&t);
}

/* ------------------------------------------------------------------------------------ */

static int setup(void **state) {
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof root, "%s/hpool-test-render-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    if (getenv("HPOOL_KEEP_TEST_DIR")) { /* to look at the plots */
        printf("test files kept in %s\n", root);
        return 0;
    }
    return nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_reader),
        cmocka_unit_test(test_render_all_plots),
        cmocka_unit_test(test_plot_data_contract),
        cmocka_unit_test(test_chunksize_panels),
        cmocka_unit_test(test_render_skips_flat_dimensions),
        cmocka_unit_test(test_render_nothing_to_plot),
        cmocka_unit_test(test_render_incomplete_data),
        cmocka_unit_test(test_malformed_chunks),
        cmocka_unit_test(test_report_rejects_malformed_summary),
        cmocka_unit_test(test_missing_gnuplot),
        cmocka_unit_test(test_failing_script),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_report),
        cmocka_unit_test(test_report_minimal),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
