/* history_cmd.c: `hpool-bench list` and `hpool-bench prune` (compare.h). */
#include <dirent.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "combos.h"
#include "history_cmd.h"
#include "history.h"

static const char *meta_str(json_t *meta, const char *obj, const char *key)
{
    json_t *o = obj ? json_object_get(meta, obj) : meta;
    const char *s = json_string_value(json_object_get(o, key));
    return s && *s ? s : "-";
}

/* "best 0.393 s (hpool cpu_sum map fixed cs 3, ...)" from the run's runs.tsv. */
static void headline(const char *run, char *out, size_t len)
{
    hpool_bench_combos c;
    char err[512];
    snprintf(out, len, "no runs.tsv");
    if (hpool_bench_combos_load(run, &c, err, sizeof err) != 0)
        return;
    size_t *idx = malloc((c.n ? c.n : 1) * sizeof *idx);
    if (idx && hpool_bench_combos_ranked(&c, NULL, NULL, idx) > 0) {
        char label[256];
        hpool_bench_combo_label(&c.c[idx[0]].key, label, sizeof label);
        snprintf(out, len, "best %.4g s (%s)", c.c[idx[0]].median, label);
    }
    free(idx);
    hpool_bench_combos_free(&c);
}

static void list_run(const char *exp, const char *run, const char *latest)
{
    char path[PATH_MAX + 16], hosts[256] = "-", head[512];
    snprintf(path, sizeof path, "%s/meta.json", run);
    json_t *meta = json_load_file(path, 0, NULL);
    json_t *hs = json_object_get(json_object_get(meta, "run"), "hosts");
    size_t i;
    json_t *h;
    json_array_foreach(hs, i, h) {
        size_t used = i ? strlen(hosts) : 0;
        snprintf(hosts + used, sizeof hosts - used, "%s%s", i ? "," : "",
                 json_string_value(h) ? json_string_value(h) : "?");
    }
    if (json_array_size(hs) == 0)
        snprintf(hosts, sizeof hosts, "%s", meta_str(meta, NULL, "host"));
    const char *hash = meta_str(meta, "run", "config_hash");
    headline(run, head, sizeof head);
    bool old = strcmp(run, exp) == 0;
    const char *base = old ? "(old layout)" : strrchr(run, '/') + 1;
    printf("  %-20s  %-26s  config %.12s  commit %-14s  hosts %s  ranks %lld  %s%s\n",
           meta_str(meta, NULL, "date"), base, hash, meta_str(meta, "run", "git"), hosts,
           (long long)json_integer_value(json_object_get(meta, "ranks")), head,
           latest && strcmp(latest, base) == 0 ? "  <- latest" : "");
    json_decref(meta);
}

static int list_experiment(const char *exp, const char *name)
{
    char **runs;
    size_t n;
    if (hpool_bench_history_runs(exp, &runs, &n) != 0 || n == 0)
        return 0; /* not an experiment directory */
    char link[PATH_MAX + 16], target[PATH_MAX];
    snprintf(link, sizeof link, "%s/" HPOOL_BENCH_LATEST, exp);
    ssize_t len = readlink(link, target, sizeof target - 1);
    target[len > 0 ? len : 0] = '\0';
    printf("%s: %zu run%s kept\n", name, n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n; i++)
        list_run(exp, runs[i], len > 0 ? target : NULL);
    hpool_bench_history_free(runs, n);
    DIR *d = opendir(exp);
    size_t incomplete = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        incomplete += strncmp(e->d_name, ".incomplete-", 12) == 0;
    if (d)
        closedir(d);
    if (incomplete)
        printf("  + %zu incomplete (failed or interrupted) in %s/.incomplete-*\n", incomplete,
               exp);
    return 1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_all(const char *out_dir)
{
    DIR *d = opendir(out_dir);
    if (!d) {
        fprintf(stderr, "hpool-bench list: cannot read %s\n", out_dir);
        return 1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            char **bigger = realloc(names, cap * sizeof *names);
            if (!bigger)
                break;
            names = bigger;
        }
        if ((names[n] = strdup(e->d_name)))
            n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_str);
    size_t shown = 0;
    for (size_t i = 0; i < n; i++) {
        char exp[PATH_MAX];
        snprintf(exp, sizeof exp, "%s/%.*s", out_dir, NAME_MAX, names[i]);
        shown += (size_t)list_experiment(exp, names[i]);
        free(names[i]);
    }
    free(names);
    if (shown == 0)
        printf("no kept runs in %s/\n", out_dir);
    return 0;
}

/* --out DIR, --keep K, --help; \return 0, -1 after --help, or the exit status. */
static int parse_common(int argc, char **argv, const char *cmd, const char **out_dir,
                        long *keep)
{
    static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
                                         {"keep", required_argument, NULL, 'k'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end = NULL;
        if (ch == 'h') {
            printf("usage: hpool-bench list [--out DIR] [NAME ...]\n"
                   "       hpool-bench prune [--out DIR] NAME --keep K\n"
                   "list: the kept runs of every experiment under DIR (default: results), or of\n"
                   "the NAMEs given, one line each: date, run id, config hash, commit, hosts,\n"
                   "ranks and best median. prune: removes all but the newest K kept runs of\n"
                   "NAME; results written before run history, incomplete runs and the run\n"
                   "`latest` names are left alone.\n");
            return -1;
        } else if (ch == 'o') {
            *out_dir = optarg;
        } else if (ch == 'k' && keep) {
            *keep = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || *keep < 1) {
                fprintf(stderr, "hpool-bench %s: --keep: '%s' is not a count >= 1\n", cmd,
                        optarg);
                return 2;
            }
        } else {
            fprintf(stderr, "hpool-bench %s: unknown or incomplete option '%s'\n", cmd,
                    argv[optind - 1]);
            return 2;
        }
    }
    return 0;
}

int hpool_bench_cmd_list(int argc, char **argv, const char *plots_dir)
{
    (void)plots_dir;
    const char *out_dir = "results";
    int rc = parse_common(argc, argv, "list", &out_dir, NULL);
    if (rc != 0)
        return rc < 0 ? 0 : rc; /* -1: --help answered */
    if (optind >= argc)
        return list_all(out_dir);
    for (int i = optind; i < argc; i++) {
        char exp[PATH_MAX], err[PATH_MAX + 128];
        if (hpool_bench_history_exp_dir(argv[i], out_dir, exp, sizeof exp, err, sizeof err) != 0) {
            fprintf(stderr, "hpool-bench list: %s\n", err);
            return 1;
        }
        if (!list_experiment(exp, argv[i]))
            printf("%s: no complete run kept\n", argv[i]);
    }
    return 0;
}

int hpool_bench_cmd_prune(int argc, char **argv, const char *plots_dir)
{
    (void)plots_dir;
    const char *out_dir = "results";
    long keep = -1;
    int rc = parse_common(argc, argv, "prune", &out_dir, &keep);
    if (rc != 0)
        return rc < 0 ? 0 : rc; /* -1: --help answered */
    if (optind + 1 != argc || keep < 1) {
        fprintf(stderr, "usage: hpool-bench prune [--out DIR] NAME --keep K\n"
                        "Removes all but the newest K kept runs of NAME (results written "
                        "before run history, and incomplete runs, are left alone).\n");
        return 2;
    }
    char exp[PATH_MAX], err[PATH_MAX + 128];
    size_t removed = 0;
    if (hpool_bench_history_exp_dir(argv[optind], out_dir, exp, sizeof exp, err, sizeof err) != 0 ||
        hpool_bench_history_prune(exp, (size_t)keep, &removed, err, sizeof err) != 0) {
        fprintf(stderr, "hpool-bench prune: %s\n", err);
        return 1;
    }
    printf("%s: removed %zu run%s, kept the newest %ld\n", argv[optind], removed,
           removed == 1 ? "" : "s", keep);
    return 0;
}
