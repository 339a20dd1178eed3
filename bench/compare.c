/* compare.c: `hpool-bench compare A B [C ...]`: what changed between kept runs.
 *
 * Each argument names a run (history.h); a single NAME compares its last two runs. The
 * first run is the baseline: per parameter combination every later run's median is set
 * against it as a ratio with the bootstrap interval and verdict of stats.h. Output:
 * DEST/compare.md, DEST/compare.tsv, DEST/compare.png/.svg (plots/compare.gp from
 * DEST/plotdata/compare.dat); the markdown is also printed unless --quiet. */
#include "compare.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "combos.h"
#include "history.h"
#include "render.h"
#include "stats.h"

#define EXIT_SLOWER 3 /* --fail-if-slower: a resolved slowdown beyond the threshold */

typedef struct {
    char dir[PATH_MAX];
    char label[8]; /* A, B, C, ... */
    hpool_bench_combos combos;
    json_t *meta; /* NULL when absent */
} run_in;

typedef struct {
    const char *out_dir, *dest, *plots_dir;
    double fail_pct; /* < 0: off */
    bool plot, quiet;
    run_in *runs;
    size_t n;
} compare_ctx;

static void usage(FILE *f)
{
    fputs("usage: hpool-bench compare [options] A B [C ...]\n"
          "       hpool-bench compare [options] NAME\n"
          "Compares kept runs: A, B, ... are run directories, experiment directories (their\n"
          "latest run) or experiment NAMEs under --out; a single NAME compares its last two\n"
          "runs. Per parameter combination: each run's median and spread, the ratio to A\n"
          "with its 95% bootstrap interval and whether the difference is resolved.\n\n"
          "options:\n"
          "  --out DIR             results root (default: results)\n"
          "  --dest DIR            where compare.md/.tsv/.png go (default: OUT/compare)\n"
          "  --fail-if-slower PCT  exit 3 when a resolved slowdown exceeds PCT percent\n"
          "  --no-plot             no figure\n"
          "  --plots-dir DIR       gnuplot scripts\n"
          "  --quiet               print nothing but errors and the slowdown verdict\n"
          "exit status: 0 ok, 1 unreadable run or output, 2 bad command line, 3 slower\n",
          f);
}

/* ------------------------------------------------------------------ inputs */

static int add_run(compare_ctx *c, const char *dir, char *err, size_t errlen)
{
    run_in *r = &c->runs[c->n];
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    snprintf(r->label, sizeof r->label, "%c", c->n < 26 ? (char)('A' + c->n) : '?');
    int rc = hpool_bench_combos_load(dir, &r->combos, err, errlen);
    if (rc > 0)
        snprintf(err, errlen, "%s: no runs.tsv (not a complete run)", dir);
    if (rc != 0)
        return -1;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/meta.json", dir);
    r->meta = json_load_file(path, 0, NULL);
    c->n++;
    return 0;
}

/* One argument: NAME's last two runs; otherwise one run per argument. */
static int load_runs(compare_ctx *c, int argc, char **argv, char *err, size_t errlen)
{
    c->runs = calloc((size_t)(argc > 2 ? argc : 2), sizeof *c->runs);
    if (!c->runs)
        return -1;
    if (argc == 1) {
        char exp[PATH_MAX], **dirs;
        size_t n;
        if (hpool_bench_history_exp_dir(argv[0], c->out_dir, exp, sizeof exp, err, errlen) != 0)
            return -1;
        if (hpool_bench_history_runs(exp, &dirs, &n) != 0 || n < 2) {
            snprintf(err, errlen, "%s: %zu complete run(s) kept, 2 needed to compare", exp,
                     n);
            if (n)
                hpool_bench_history_free(dirs, n);
            return -1;
        }
        int rc = add_run(c, dirs[n - 2], err, errlen);
        if (rc == 0)
            rc = add_run(c, dirs[n - 1], err, errlen);
        hpool_bench_history_free(dirs, n);
        return rc;
    }
    for (int i = 0; i < argc; i++) {
        char run[PATH_MAX];
        if (hpool_bench_history_resolve(argv[i], c->out_dir, run, sizeof run, err, errlen) != 0 ||
            add_run(c, run, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ run identity */

/* A meta.json value as text: "a.b" walks into objects; arrays are joined. */
static void meta_text(json_t *meta, const char *dotted, char *out, size_t len)
{
    char key[128];
    snprintf(key, sizeof key, "%s", dotted);
    json_t *v = meta;
    for (char *part = key, *dot; v && part; part = dot ? dot + 1 : NULL) {
        dot = strchr(part, '.');
        if (dot)
            *dot = '\0';
        v = json_object_get(v, part);
    }
    if (!v) {
        snprintf(out, len, "(not recorded)");
        return;
    }
    if (json_is_array(v)) {
        out[0] = '\0';
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            size_t used = strlen(out);
            snprintf(out + used, len - used, "%s%s", i ? "," : "",
                     json_is_string(e) ? json_string_value(e) : "?");
        }
        return;
    }
    char *s = json_is_string(v) ? strdup(json_string_value(v))
                                : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    snprintf(out, len, "%s", s ? s : "?");
    free(s);
}

/* Lists the identifying fields on which a run differs from the baseline. */
static void write_differences(FILE *f, const compare_ctx *c)
{
    static const char *const keys[][2] = {
        {"run.hosts", "hosts"},          {"host", "manager host"},
        {"cores_online", "cores"},       {"kernel.release", "kernel"},
        {"versions.mpi", "MPI"},         {"run.launcher", "launcher"},
        {"ranks", "ranks"},              {"run.config_hash", "config hash"},
        {"run.git", "hpool commit"},     {"versions.hpool", "hpool version"},
        {"versions.compiler", "compiler"}};
    fputs("## Runs\n\n| run | directory | date | config hash | commit | hosts | ranks |\n"
          "|---|---|---|---|---|---|---|\n",
          f);
    for (size_t i = 0; i < c->n; i++) {
        char date[64], hash[64], git[128], hosts[512], ranks[32];
        meta_text(c->runs[i].meta, "date", date, sizeof date);
        meta_text(c->runs[i].meta, "run.config_hash", hash, sizeof hash);
        meta_text(c->runs[i].meta, "run.git", git, sizeof git);
        meta_text(c->runs[i].meta, "run.hosts", hosts, sizeof hosts);
        meta_text(c->runs[i].meta, "ranks", ranks, sizeof ranks);
        fprintf(f, "| %s | %s | %s | %s | %s | %s | %s |\n", c->runs[i].label,
                c->runs[i].dir, date, hash, git, hosts, ranks);
    }
    bool any = false;
    for (size_t i = 1; i < c->n; i++) {
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            char a[1024], b[1024];
            meta_text(c->runs[0].meta, keys[k][0], a, sizeof a);
            meta_text(c->runs[i].meta, keys[k][0], b, sizeof b);
            if (strcmp(a, b) == 0)
                continue;
            fputs(any ? "" : "\n**The runs differ in more than the code under test:**\n\n", f);
            any = true;
            fprintf(f, "- %s: %s `%s`, %s `%s`\n", keys[k][1], c->runs[0].label, a,
                    c->runs[i].label, b);
        }
        double ca = json_number_value(json_object_get(c->runs[0].meta, "cpu_sum_iterations_per_ms"));
        double cb = json_number_value(json_object_get(c->runs[i].meta, "cpu_sum_iterations_per_ms"));
        if (ca > 0 && cb > 0 && fabs(cb / ca - 1) > 0.1) {
            fputs(any ? "" : "\n**The runs differ in more than the code under test:**\n\n", f);
            any = true;
            fprintf(f, "- machine speed: the calibration loop ran %.0f%% %s in %s than in %s\n",
                    fabs(cb / ca - 1) * 100, cb > ca ? "faster" : "slower", c->runs[i].label,
                    c->runs[0].label);
        }
    }
    fputs(any ? "\n" : "\nSame machine, MPI, launcher, config and commit in every run.\n\n", f);
}

/* ------------------------------------------------------------------ per combination */

/* The baseline's combination i against run r (r >= 1). */
typedef struct {
    long b;            /* index in run r's combos, -1 when absent */
    hpool_stats_cmp s; /* valid when b >= 0 */
} cell;

static cell *compute(const compare_ctx *c)
{
    size_t na = c->runs[0].combos.n;
    cell *cells = calloc(c->n * (na ? na : 1), sizeof *cells);
    for (size_t r = 1; cells && r < c->n; r++)
        for (size_t i = 0; i < na; i++) {
            cell *x = &cells[r * na + i];
            const hpool_bench_combo *a = &c->runs[0].combos.c[i];
            x->b = hpool_bench_combos_find(&c->runs[r].combos, &a->key);
            const hpool_bench_combo *b = x->b >= 0 ? &c->runs[r].combos.c[x->b] : NULL;
            if (b && hpool_stats_compare(a->wall, a->n, b->wall, b->n, &x->s) != 0)
                x->b = -1;
        }
    return cells;
}

static void tsv_row(FILE *t, const hpool_bench_combo *k, const char *run)
{
    fprintf(t, "%s\t%s\t%s\t%s\t%llu\t%d\t%d\t%llu\t%s\t%zu\t%.6f\t%.6f\t%.6f", k->key.impl,
            k->key.workload, k->key.api, k->key.schedule, (unsigned long long)k->key.chunksize,
            k->key.workers, k->key.threads, (unsigned long long)k->key.tasks, run, k->n,
            k->median, k->min, k->max);
}

static double spread(const hpool_bench_combo *k)
{
    return k->median > 0 ? (k->max - k->min) / k->median : 0;
}

static void write_md_table(FILE *md, const compare_ctx *c, const cell *cells)
{
    fprintf(md, "## Per combination\n\nMedian wall time in seconds (spread = (max - min) / "
                "median, n repeats); ratio = median of the run / median of %s, with its 95%% "
                "bootstrap interval; resolved when the interval excludes 1 and a Mann-Whitney "
                "test agrees (p < 0.05).\n\n| combination | %s |",
            c->runs[0].label, c->runs[0].label);
    for (size_t r = 1; r < c->n; r++)
        fprintf(md, " %s | %s / %s |", c->runs[r].label, c->runs[r].label, c->runs[0].label);
    fputs("\n|---|---|", md);
    for (size_t r = 1; r < c->n; r++)
        fputs("---|---|", md);
    fputc('\n', md);
    size_t na = c->runs[0].combos.n;
    for (size_t i = 0; i < na; i++) {
        const hpool_bench_combo *a = &c->runs[0].combos.c[i];
        char label[256];
        hpool_bench_combo_label(&a->key, label, sizeof label);
        fprintf(md, "| %s | %.4g (%.0f%%, n=%zu) |", label, a->median, 100 * spread(a), a->n);
        for (size_t r = 1; r < c->n; r++) {
            const cell *x = &cells[r * na + i];
            if (x->b < 0) {
                fprintf(md, " - | only in %s |", c->runs[0].label);
                continue;
            }
            const hpool_bench_combo *b = &c->runs[r].combos.c[x->b];
            char verdict[256];
            hpool_stats_describe(&x->s, verdict, sizeof verdict);
            fprintf(md, " %.4g (%.0f%%, n=%zu) | %.3f [%.3f, %.3f]: %s |", b->median,
                    100 * spread(b), b->n, x->s.ratio, x->s.lo, x->s.hi, verdict);
        }
        fputc('\n', md);
    }
}

static void write_tsv(FILE *tsv, const compare_ctx *c, const cell *cells)
{
    fputs("impl\tworkload\tapi\tschedule\tchunksize\tworkers\tthreads\ttasks\trun\treps\t"
          "median\tmin\tmax\tratio\tci_lo\tci_hi\tp\tresolved\trepeats_needed\tstatus\n",
          tsv);
    size_t na = c->runs[0].combos.n;
    for (size_t i = 0; i < na; i++) {
        tsv_row(tsv, &c->runs[0].combos.c[i], c->runs[0].label);
        fputs("\t1\t\t\t\t\t\tbaseline\n", tsv);
        for (size_t r = 1; r < c->n; r++) {
            const cell *x = &cells[r * na + i];
            if (x->b < 0)
                continue;
            tsv_row(tsv, &c->runs[r].combos.c[x->b], c->runs[r].label);
            fprintf(tsv, "\t%.6f\t%.6f\t%.6f\t%.4g\t%d\t%ld\t%s\n", x->s.ratio, x->s.lo,
                    x->s.hi, x->s.p_value, x->s.resolved, x->s.repeats_needed,
                    x->s.resolved ? "resolved" : "unresolved");
        }
    }
    for (size_t r = 1; r < c->n; r++)
        for (size_t i = 0; i < c->runs[r].combos.n; i++)
            if (hpool_bench_combos_find(&c->runs[0].combos, &c->runs[r].combos.c[i].key) < 0) {
                tsv_row(tsv, &c->runs[r].combos.c[i], c->runs[r].label);
                fprintf(tsv, "\t\t\t\t\t\t\tonly in %s\n", c->runs[r].label);
            }
}

/* The figure's x labels: only the parameters that vary across A's combinations (all of
 * them when none does), so a sweep reads "fixed cs 16" rather than a sentence. */
static void short_label(const hpool_bench_combos *cs, const hpool_bench_row *k, char *out,
                        size_t len)
{
    bool vary[8] = {false};
    for (size_t i = 1; i < cs->n; i++) {
        const hpool_bench_row *a = &cs->c[0].key, *b = &cs->c[i].key;
        vary[0] |= strcmp(a->impl, b->impl) != 0;
        vary[1] |= strcmp(a->workload, b->workload) != 0;
        vary[2] |= strcmp(a->api, b->api) != 0;
        vary[3] |= strcmp(a->schedule, b->schedule) != 0;
        vary[4] |= a->chunksize != b->chunksize;
        vary[5] |= a->workers != b->workers;
        vary[6] |= a->threads != b->threads;
        vary[7] |= a->tasks != b->tasks;
    }
    bool any = false;
    for (int f = 0; f < 8; f++)
        any |= vary[f];
    if (!any) {
        hpool_bench_combo_label(k, out, len);
        return;
    }
    char part[8][64];
    snprintf(part[0], 64, "%s", k->impl);
    snprintf(part[1], 64, "%s", k->workload);
    snprintf(part[2], 64, "%s", k->api);
    snprintf(part[3], 64, "%s", k->schedule);
    snprintf(part[4], 64, "cs %llu", (unsigned long long)k->chunksize);
    snprintf(part[5], 64, "%dw", k->workers);
    snprintf(part[6], 64, "%dt", k->threads);
    snprintf(part[7], 64, "%llu tasks", (unsigned long long)k->tasks);
    out[0] = '\0';
    for (int f = 0; f < 8; f++) {
        size_t used = strlen(out);
        if (vary[f] && used + 1 < len &&
            snprintf(out + used, len - used, "%s%.63s", used ? " " : "", part[f]) < 0)
            break;
    }
}

/* One block per later run: index ratio lo hi resolved "label" (plots/compare.gp). */
static void write_dat(FILE *dat, const compare_ctx *c, const cell *cells)
{
    fputs("# hpool plot data for plots/compare.gp (format: see that script)\n", dat);
    size_t na = c->runs[0].combos.n;
    for (size_t r = 1; r < c->n; r++) {
        fprintf(dat, "%s\"%s / %s\"\n", r > 1 ? "\n\n" : "", c->runs[r].label,
                c->runs[0].label);
        for (size_t i = 0; i < na; i++) {
            const cell *x = &cells[r * na + i];
            char label[256];
            short_label(&c->runs[0].combos, &c->runs[0].combos.c[i].key, label, sizeof label);
            for (char *p = label; *p; p++)
                *p = *p == '"' ? '\'' : *p;
            if (x->b >= 0)
                fprintf(dat, "%zu\t%.6f\t%.6f\t%.6f\t%d\t\"%s\"\n", i, x->s.ratio, x->s.lo,
                        x->s.hi, x->s.resolved, label);
        }
    }
}

/* Combinations of later runs that the baseline does not have. */
static void write_only_in_later(FILE *md, const compare_ctx *c)
{
    bool header = false;
    for (size_t r = 1; r < c->n; r++) {
        const hpool_bench_combos *cs = &c->runs[r].combos;
        for (size_t i = 0; i < cs->n; i++) {
            if (hpool_bench_combos_find(&c->runs[0].combos, &cs->c[i].key) >= 0)
                continue;
            char label[256];
            hpool_bench_combo_label(&cs->c[i].key, label, sizeof label);
            if (!header)
                fprintf(md, "\nCombinations missing from %s (nothing to compare them with):\n\n",
                        c->runs[0].label);
            header = true;
            fprintf(md, "- only in %s: %s, median %.4g s\n", c->runs[r].label, label,
                    cs->c[i].median);
        }
    }
}

/* Whether a resolved slowdown beyond --fail-if-slower was seen (each named on stderr). */
static bool check_slower(const compare_ctx *c, const cell *cells)
{
    bool slower = false;
    size_t na = c->runs[0].combos.n;
    for (size_t r = 1; c->fail_pct >= 0 && r < c->n; r++)
        for (size_t i = 0; i < na; i++) {
            const cell *x = &cells[r * na + i];
            if (x->b < 0 || !x->s.resolved || !(x->s.ratio > 1 + c->fail_pct / 100))
                continue;
            char label[256];
            hpool_bench_combo_label(&c->runs[0].combos.c[i].key, label, sizeof label);
            fprintf(stderr, "hpool-bench compare: %s: %s is %.1f%% slower than %s (resolved, "
                            "95%% CI %.3f-%.3f; threshold %g%%)\n",
                    label, c->runs[r].label, 100 * (x->s.ratio - 1), c->runs[0].label,
                    x->s.lo, x->s.hi, c->fail_pct);
            slower = true;
        }
    return slower;
}

/* ------------------------------------------------------------------ files */

static int mkdirs(const char *path)
{
    char tmp[PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(tmp, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

static FILE *open_in(const char *dir, const char *name)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return fopen(path, "w");
}

static int close_all(FILE **f, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        if (f[i]) {
            bad |= ferror(f[i]);
            bad |= fclose(f[i]) != 0;
        }
    return bad ? -1 : 0;
}

static int write_all(const compare_ctx *c, const cell *cells, char *err, size_t errlen)
{
    char pd[PATH_MAX + 16];
    snprintf(pd, sizeof pd, "%s/plotdata", c->dest);
    if (mkdirs(pd) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", pd, strerror(errno));
        return -1;
    }
    FILE *f[3] = {open_in(c->dest, "compare.md"), open_in(c->dest, "compare.tsv"),
                  open_in(pd, "compare.dat")};
    if (!f[0] || !f[1] || !f[2]) {
        snprintf(err, errlen, "cannot write in %s: %s", c->dest, strerror(errno));
        close_all(f, 3);
        return -1;
    }
    fputs("# hpool-bench compare\n\n", f[0]);
    write_differences(f[0], c);
    write_md_table(f[0], c, cells);
    write_only_in_later(f[0], c);
    if (c->plot)
        fputs("\n![ratio per combination, 95% intervals](compare.png)\n", f[0]);
    write_tsv(f[1], c, cells);
    fputs("# complete\n", f[1]);
    write_dat(f[2], c, cells);
    if (close_all(f, 3) != 0) {
        snprintf(err, errlen, "write error in %s", c->dest);
        return -1;
    }
    return 0;
}

static void print_file(const char *dir, const char *name)
{
    char path[PATH_MAX + 64], buf[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    size_t n;
    while (f && (n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, stdout);
    if (f)
        fclose(f);
}

/* ------------------------------------------------------------------ command */

static int parse(int argc, char **argv, compare_ctx *c)
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},       {"dest", required_argument, NULL, 'd'},
        {"fail-if-slower", required_argument, NULL, 'f'},
        {"no-plot", no_argument, NULL, 'n'},         {"plots-dir", required_argument, NULL, 'g'},
        {"quiet", no_argument, NULL, 'q'},           {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end = NULL;
        switch (ch) {
        case 'o': c->out_dir = optarg; break;
        case 'd': c->dest = optarg; break;
        case 'n': c->plot = false; break;
        case 'g': c->plots_dir = optarg; break;
        case 'q': c->quiet = true; break;
        case 'h': usage(stdout); return 1;
        case 'f':
            c->fail_pct = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || !(c->fail_pct >= 0)) {
                fprintf(stderr, "hpool-bench compare: --fail-if-slower: '%s' is not a "
                                "percentage >= 0\n", optarg);
                return 2;
            }
            break;
        default:
            fprintf(stderr, "hpool-bench compare: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "hpool-bench compare: name two runs, or one experiment\n");
        usage(stderr);
        return 2;
    }
    return 0;
}

int hpool_bench_cmd_compare(int argc, char **argv, const char *plots_dir)
{
    compare_ctx c = {.out_dir = "results", .plots_dir = plots_dir, .fail_pct = -1,
                     .plot = true};
    int rc = parse(argc, argv, &c);
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    char dest[PATH_MAX], err[PATH_MAX + 256] = "";
    if (!c.dest) {
        snprintf(dest, sizeof dest, "%s/compare", c.out_dir);
        c.dest = dest;
    }
    cell *cells = NULL;
    rc = load_runs(&c, argc - optind, argv + optind, err, sizeof err) == 0 ? 0 : 1;
    if (rc == 0 && !(cells = compute(&c))) {
        snprintf(err, sizeof err, "out of memory");
        rc = 1;
    }
    if (rc == 0 && write_all(&c, cells, err, sizeof err) != 0)
        rc = 1;
    if (rc == 0 && c.plot && c.runs[0].combos.n > 0 &&
        hpool_bench_render_script(c.dest, c.plots_dir, "compare.gp", "compare", c.quiet, err,
                                  sizeof err) != 0) {
        fprintf(stderr, "hpool-bench compare: figure: %s\n", err);
        err[0] = '\0';
    }
    if (rc == 0 && !c.quiet) {
        print_file(c.dest, "compare.md");
        printf("\nwritten: %s/compare.md, compare.tsv%s\n", c.dest,
               c.plot ? ", compare.png" : "");
    }
    if (rc == 0 && check_slower(&c, cells))
        rc = EXIT_SLOWER;
    if (rc == 1)
        fprintf(stderr, "hpool-bench compare: %s\n", err);
    for (size_t i = 0; i < c.n; i++) {
        hpool_bench_combos_free(&c.runs[i].combos);
        json_decref(c.runs[i].meta);
    }
    free(c.runs);
    free(cells);
    return rc;
}
