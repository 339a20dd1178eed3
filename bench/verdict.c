/* verdict.c: is the best configuration resolved against the runner-up (verdict.h). */
#include "verdict.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int hpool_bench_verdict_best(const hpool_bench_combos *c, const char *impl,
                             const char *workload, hpool_bench_verdict *v)
{
    memset(v, 0, sizeof *v);
    v->best = v->runner_up = -1;
    size_t *idx = malloc((c->n ? c->n : 1) * sizeof *idx);
    if (!idx)
        return -1;
    size_t n = hpool_bench_combos_ranked(c, impl, workload, idx);
    if (n > 0)
        v->best = (long)idx[0];
    if (n > 1) {
        v->runner_up = (long)idx[1];
        const hpool_bench_combo *a = &c->c[idx[0]], *b = &c->c[idx[1]];
        if (hpool_stats_compare(a->wall, a->n, b->wall, b->n, &v->cmp) != 0)
            v->runner_up = -1;
    }
    free(idx);
    return 0;
}

int hpool_bench_write_best_marker(const char *dir, char *err, size_t errlen)
{
    hpool_bench_combos c;
    int rc = hpool_bench_combos_load(dir, &c, err, errlen);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    hpool_bench_verdict v;
    if (hpool_bench_verdict_best(&c, NULL, NULL, &v) != 0 || v.best < 0) {
        hpool_bench_combos_free(&c);
        return 0;
    }
    const hpool_bench_combo *b = &c.c[v.best];
    char label[256], path[PATH_MAX + 32], tmp[PATH_MAX + 48];
    int resolved = v.runner_up < 0 ? -1 : v.cmp.resolved;
    if (resolved < 0)
        snprintf(label, sizeof label, "best: chunksize %llu, %.3g s",
                 (unsigned long long)b->key.chunksize, b->median);
    else if (resolved)
        snprintf(label, sizeof label, "best: chunksize %llu, %.3g s (resolved vs runner-up)",
                 (unsigned long long)b->key.chunksize, b->median);
    else
        snprintf(label, sizeof label,
                 "best: chunksize %llu, %.3g s - NOT resolved vs runner-up at %zu repeats",
                 (unsigned long long)b->key.chunksize, b->median, b->n);
    snprintf(path, sizeof path, "%s/plotdata", dir);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/plotdata/best.dat", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    rc = f ? 0 : -1;
    if (f) {
        fputs("# hpool plot data for plots/chunksize.gp: the overall best and whether its "
              "lead is resolved\n"
              "# a header line (the script's key reads the first line as column titles)\n"
              "chunksize\twall_median\tresolved\tlabel\n",
              f);
        fprintf(f, "%llu\t%.9g\t%d\t\"%s\"\n", (unsigned long long)b->key.chunksize,
                b->median, resolved, label);
        bool bad = ferror(f);
        bad |= fclose(f) != 0;
        rc = bad || rename(tmp, path) != 0 ? -1 : 0;
    }
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        unlink(tmp);
    }
    hpool_bench_combos_free(&c);
    return rc;
}
