/* history.c: the kept runs of an experiment (layout in history.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* nftw's FTW_DEPTH / FTW_PHYS */
#endif
#include "history.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define INCOMPLETE_PREFIX ".incomplete-"

__attribute__((format(printf, 3, 4))) static void seterr(char *err, size_t errlen,
                                                         const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* dir/name into out; a path that does not fit is an error, not a truncation. */
static int join(char *out, size_t len, const char *dir, const char *name)
{
    int n = snprintf(out, len, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ removal */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return (flag == FTW_DP ? rmdir(path) : unlink(path)) == 0 ? 0 : -1;
}

int hpool_bench_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ------------------------------------------------------------------ names */

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* "YYYYMMDDTHHMMSS.mmmZ-" followed by an id: a stamped run's directory name. The
 * milliseconds keep runs started within one second in order when sorted by name. */
static bool is_stamp(const char *name)
{
    static const char pattern[] = "ddddddddTdddddd.dddZ-";
    size_t i = 0;
    for (; pattern[i]; i++) {
        char c = name[i];
        if (pattern[i] == 'd' ? (c < '0' || c > '9') : c != pattern[i])
            return false;
    }
    return name[i] != '\0';
}

bool hpool_bench_history_is_run(const char *dir)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/runs.tsv", dir);
    if (access(p, R_OK) == 0)
        return true;
    snprintf(p, sizeof p, "%s/summary.tsv", dir);
    return access(p, R_OK) == 0;
}

/* A short id that differs between runs started in the same second. */
static unsigned short_id(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid() << 16;
    x ^= x >> 29;
    return (unsigned)(x & 0xffff);
}

static int mkdir_p(const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return (mkdir(tmp, 0777) != 0 && errno != EEXIST) ? -1 : 0;
}

/* ------------------------------------------------------------------ start, publish */

int hpool_bench_history_start(const char *out_dir, const char *name, char *id, size_t id_len,
                              char *work, size_t work_len, char *err, size_t errlen)
{
    char exp[PATH_MAX], secs[24], stamp[32], final[PATH_MAX];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    strftime(secs, sizeof secs, "%Y%m%dT%H%M%S", &tm);
    snprintf(stamp, sizeof stamp, "%.15s.%03uZ", secs, (unsigned)(now.tv_nsec / 1000000) % 1000u);
    join(exp, sizeof exp, out_dir, name);
    if (mkdir_p(exp) != 0) {
        seterr(err, errlen, "cannot create %s: %s", exp, strerror(errno));
        return -1;
    }
    for (int attempt = 0; attempt < 64; attempt++) {
        /* The microseconds keep two runs started within one millisecond in order; the
         * short id keeps concurrent runs apart. */
        snprintf(id, id_len, "%s-%03u%02x", stamp, (unsigned)(now.tv_nsec / 1000) % 1000u,
                 (short_id() ^ (unsigned)attempt) & 0xffu);
        join(final, sizeof final, exp, id);
        char wname[96];
        snprintf(wname, sizeof wname, INCOMPLETE_PREFIX "%s", id);
        join(work, work_len, exp, wname);
        if (access(final, F_OK) == 0)
            continue;
        if (mkdir(work, 0777) == 0)
            return 0;
        if (errno != EEXIST)
            break;
    }
    seterr(err, errlen, "cannot create a run directory in %s: %s", exp, strerror(errno));
    return -1;
}

/* Points exp/latest at id by renaming a fresh symlink over it: readers see the old or
 * the new target, never none. */
static int point_latest(const char *exp, const char *id, char *err, size_t errlen)
{
    char tmp[PATH_MAX], latest[PATH_MAX];
    char tmpname[64];
    snprintf(tmpname, sizeof tmpname, ".latest.tmp-%ld", (long)getpid());
    join(tmp, sizeof tmp, exp, tmpname);
    join(latest, sizeof latest, exp, HPOOL_BENCH_LATEST);
    unlink(tmp);
    if (symlink(id, tmp) != 0 || rename(tmp, latest) != 0) {
        seterr(err, errlen, "cannot point %s at %s: %s", latest, id, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Removes every stamped run of exp except `keep_id`. */
static int remove_others(const char *exp, const char *keep_id, char *err, size_t errlen)
{
    char **runs = NULL;
    size_t n = 0;
    if (hpool_bench_history_runs(exp, &runs, &n) != 0) {
        seterr(err, errlen, "%s: %s", exp, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *base = strrchr(runs[i], '/');
        base = base ? base + 1 : runs[i];
        if (!is_stamp(base) || strcmp(base, keep_id) == 0)
            continue;
        if (hpool_bench_remove_tree(runs[i]) != 0) {
            seterr(err, errlen, "cannot remove %s: %s", runs[i], strerror(errno));
            rc = -1;
        }
    }
    hpool_bench_history_free(runs, n);
    return rc;
}

int hpool_bench_history_publish(const char *out_dir, const char *name, const char *id,
                                const char *work, bool replace, char *final, size_t final_len,
                                char *err, size_t errlen)
{
    char exp[PATH_MAX];
    join(exp, sizeof exp, out_dir, name);
    snprintf(final, final_len, "%s/%s", exp, id);
    if (rename(work, final) != 0) {
        seterr(err, errlen, "cannot move %s to %s: %s", work, final, strerror(errno));
        return -1;
    }
    if (point_latest(exp, id, err, errlen) != 0)
        return -1;
    return replace ? remove_others(exp, id, err, errlen) : 0;
}

/* ------------------------------------------------------------------ listing */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int push(char ***v, size_t *n, size_t *cap, const char *s)
{
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 16;
        char **bigger = realloc(*v, c * sizeof *bigger);
        if (!bigger)
            return -1;
        *v = bigger;
        *cap = c;
    }
    if (!((*v)[*n] = strdup(s)))
        return -1;
    (*n)++;
    return 0;
}

int hpool_bench_history_runs(const char *exp_dir, char ***dirs, size_t *n)
{
    *dirs = NULL;
    *n = 0;
    DIR *d = opendir(exp_dir);
    if (!d)
        return -1;
    char **names = NULL;
    size_t nn = 0, cap = 0;
    int rc = 0;
    for (struct dirent *e; rc == 0 && (e = readdir(d));) {
        char p[PATH_MAX];
        join(p, sizeof p, exp_dir, e->d_name);
        if (is_stamp(e->d_name) && is_dir(p))
            rc = push(&names, &nn, &cap, e->d_name);
    }
    closedir(d);
    if (nn > 1)
        qsort(names, nn, sizeof *names, cmp_str);
    char **out = NULL;
    size_t no = 0, ocap = 0;
    if (rc == 0 && hpool_bench_history_is_run(exp_dir))
        rc = push(&out, &no, &ocap, exp_dir); /* the old layout predates every stamped run */
    for (size_t i = 0; i < nn; i++) {
        char p[PATH_MAX];
        join(p, sizeof p, exp_dir, names[i]);
        if (rc == 0)
            rc = push(&out, &no, &ocap, p);
        free(names[i]);
    }
    free(names);
    if (rc != 0) {
        hpool_bench_history_free(out, no);
        errno = ENOMEM;
        return -1;
    }
    *dirs = out;
    *n = no;
    return 0;
}

void hpool_bench_history_free(char **dirs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(dirs[i]);
    free(dirs);
}

/* ------------------------------------------------------------------ arguments */

int hpool_bench_history_exp_dir(const char *arg, const char *out_dir, char *dir, size_t len,
                                char *err, size_t errlen)
{
    if (is_dir(arg)) {
        snprintf(dir, len, "%s", arg);
        return 0;
    }
    snprintf(dir, len, "%s/%s", out_dir, arg);
    if (strchr(arg, '/') == NULL && is_dir(dir))
        return 0;
    seterr(err, errlen, "%s: no such run directory, and no experiment of that name in %s/",
           arg, out_dir);
    return -1;
}

int hpool_bench_history_resolve(const char *arg, const char *out_dir, char *run, size_t len,
                                char *err, size_t errlen)
{
    char exp[PATH_MAX], link[PATH_MAX];
    if (hpool_bench_history_exp_dir(arg, out_dir, exp, sizeof exp, err, errlen) != 0)
        return -1;
    join(link, sizeof link, exp, HPOOL_BENCH_LATEST);
    char target[PATH_MAX];
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n > 0) {
        target[n] = '\0';
        if (target[0] == '/')
            snprintf(run, len, "%s", target);
        else
            snprintf(run, len, "%s/%s", exp, target);
        return 0;
    }
    if (hpool_bench_history_is_run(exp)) {
        snprintf(run, len, "%s", exp);
        return 0;
    }
    char **runs;
    size_t nr;
    if (hpool_bench_history_runs(exp, &runs, &nr) == 0 && nr > 0) {
        snprintf(run, len, "%s", runs[nr - 1]);
        hpool_bench_history_free(runs, nr);
        return 0;
    }
    seterr(err, errlen, "%s: no complete run in it", exp);
    return -1;
}

int hpool_bench_history_prune(const char *exp_dir, size_t keep, size_t *removed, char *err,
                              size_t errlen)
{
    *removed = 0;
    char **runs;
    size_t n;
    if (hpool_bench_history_runs(exp_dir, &runs, &n) != 0) {
        seterr(err, errlen, "%s: %s", exp_dir, strerror(errno));
        return -1;
    }
    size_t stamped = 0;
    for (size_t i = 0; i < n; i++)
        stamped += strcmp(runs[i], exp_dir) != 0;
    char link[PATH_MAX], target[PATH_MAX] = "";
    join(link, sizeof link, exp_dir, HPOOL_BENCH_LATEST);
    ssize_t tl = readlink(link, target, sizeof target - 1);
    target[tl > 0 ? tl : 0] = '\0';
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0 && stamped > keep; i++) {
        const char *base = strrchr(runs[i], '/');
        if (strcmp(runs[i], exp_dir) == 0 || (base && strcmp(base + 1, target) == 0))
            continue; /* old layout, and whatever latest names: never removed here */
        if (hpool_bench_remove_tree(runs[i]) != 0) {
            seterr(err, errlen, "cannot remove %s: %s", runs[i], strerror(errno));
            rc = -1;
        } else {
            stamped--;
            (*removed)++;
        }
    }
    hpool_bench_history_free(runs, n);
    return rc;
}
