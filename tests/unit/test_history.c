/* Unit tests of bench/history.c: tree removal that does not follow symlinks, starting and
 * publishing runs (latest swapped, work directory gone), listing in order with an old
 * layout first, resolving arguments, prune and --replace. Everything happens under one
 * mkdtemp() root, removed with hpool_bench_remove_tree itself at the end. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp */
#endif

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "history.h"

static char root[256];

/* snprintf that must fit (the tests' paths are short; a cut path would test nothing). */
#define FMT(buf, ...) assert_true(snprintf(buf, sizeof buf, __VA_ARGS__) < (int)sizeof buf)

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* A new complete run of NAME under out: started, given a runs.tsv, published. */
static void one_run(const char *out, const char *name, bool replace, char *id, char *final)
{
    char work[PATH_MAX], path[PATH_MAX + 16], err[512];
    assert_int_equal(hpool_bench_history_start(out, name, id, 64, work, sizeof work, err,
                                               sizeof err),
                     0);
    assert_true(strstr(work, "/.incomplete-") != NULL);
    FMT(path, "%s/runs.tsv", work);
    put(path, "impl\n# complete\n");
    assert_int_equal(hpool_bench_history_publish(out, name, id, work, replace, final, PATH_MAX,
                                                 err, sizeof err),
                     0);
    assert_false(exists(work));
}

static void test_remove_tree_keeps_symlink_targets(void **state)
{
    (void)state;
    char dir[PATH_MAX], sub[PATH_MAX + 8], outside[PATH_MAX], link[PATH_MAX + 16];
    FMT(dir, "%s/tree", root);
    FMT(sub, "%s/a", dir);
    FMT(outside, "%s/outside.txt", root);
    FMT(link, "%s/a/link", dir);
    assert_int_equal(mkdir(dir, 0777), 0);
    assert_int_equal(mkdir(sub, 0777), 0);
    put(outside, "keep me\n");
    assert_int_equal(symlink(outside, link), 0);
    char file[PATH_MAX + 16];
    FMT(file, "%s/a/f", dir);
    put(file, "x");
    assert_int_equal(hpool_bench_remove_tree(dir), 0);
    assert_false(exists(dir));
    assert_true(exists(outside));
    assert_int_equal(hpool_bench_remove_tree(dir), 0); /* already gone: fine */
}

static void test_runs_kept_in_order_with_latest(void **state)
{
    (void)state;
    char out[PATH_MAX], id1[64], id2[64], f1[PATH_MAX], f2[PATH_MAX], err[512];
    FMT(out, "%s/res1", root);
    one_run(out, "exp", false, id1, f1);
    one_run(out, "exp", false, id2, f2);
    assert_true(strcmp(id1, id2) < 0); /* stamps to the millisecond sort by time */
    char **runs;
    size_t n;
    char exp[PATH_MAX + 8];
    FMT(exp, "%s/exp", out);
    assert_int_equal(hpool_bench_history_runs(exp, &runs, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(runs[0], f1);
    assert_string_equal(runs[1], f2);
    hpool_bench_history_free(runs, n);
    char run[PATH_MAX];
    assert_int_equal(hpool_bench_history_resolve("exp", out, run, sizeof run, err, sizeof err), 0);
    assert_string_equal(run, f2);
    assert_int_equal(hpool_bench_history_resolve(exp, out, run, sizeof run, err, sizeof err), 0);
    assert_string_equal(run, f2);
    assert_int_equal(hpool_bench_history_resolve(f1, out, run, sizeof run, err, sizeof err), 0);
    assert_string_equal(run, f1);
    assert_int_equal(hpool_bench_history_resolve("nosuch", out, run, sizeof run, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "nosuch"));
    /* A run being built is not a kept run and does not move latest. */
    char id3[64], work[PATH_MAX];
    assert_int_equal(hpool_bench_history_start(out, "exp", id3, sizeof id3, work, sizeof work,
                                               err, sizeof err),
                     0);
    assert_int_equal(hpool_bench_history_runs(exp, &runs, &n), 0);
    assert_int_equal(n, 2);
    hpool_bench_history_free(runs, n);
    assert_int_equal(hpool_bench_history_resolve("exp", out, run, sizeof run, err, sizeof err), 0);
    assert_string_equal(run, f2);
}

static void test_old_layout_first_and_kept(void **state)
{
    (void)state;
    char out[PATH_MAX], exp[PATH_MAX + 8], path[PATH_MAX + 32], run[PATH_MAX], err[512];
    FMT(out, "%s/res2", root);
    FMT(exp, "%s/old", out);
    assert_int_equal(mkdir(out, 0777), 0);
    assert_int_equal(mkdir(exp, 0777), 0);
    FMT(path, "%s/runs.tsv", exp);
    put(path, "impl\n# complete\n");
    assert_true(hpool_bench_history_is_run(exp));
    assert_int_equal(hpool_bench_history_resolve("old", out, run, sizeof run, err, sizeof err), 0);
    assert_string_equal(run, exp);
    char id[64], final[PATH_MAX];
    one_run(out, "old", false, id, final);
    one_run(out, "old", false, id, final);
    char **runs;
    size_t n;
    assert_int_equal(hpool_bench_history_runs(exp, &runs, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(runs[0], exp);
    hpool_bench_history_free(runs, n);
    assert_int_equal(hpool_bench_history_resolve("old", out, run, sizeof run, err, sizeof err), 0);
    assert_string_equal(run, final);
    /* prune --keep 1: the older stamped run goes; the old layout's file stays. */
    size_t removed;
    assert_int_equal(hpool_bench_history_prune(exp, 1, &removed, err, sizeof err), 0);
    assert_int_equal(removed, 1);
    assert_true(exists(path));
    assert_true(exists(final));
    assert_int_equal(hpool_bench_history_runs(exp, &runs, &n), 0);
    assert_int_equal(n, 2);
    hpool_bench_history_free(runs, n);
}

static void test_replace_removes_only_other_runs(void **state)
{
    (void)state;
    char out[PATH_MAX], exp[PATH_MAX + 8], id[64], final[PATH_MAX], keep[PATH_MAX];
    FMT(out, "%s/res3", root);
    FMT(exp, "%s/r", out);
    one_run(out, "r", false, id, final);
    one_run(out, "r", false, id, final);
    char other[PATH_MAX + 16];
    FMT(other, "%s/notes.txt", exp); /* not a run: never touched */
    put(other, "mine\n");
    one_run(out, "r", true, id, keep);
    char **runs;
    size_t n;
    assert_int_equal(hpool_bench_history_runs(exp, &runs, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(runs[0], keep);
    hpool_bench_history_free(runs, n);
    assert_true(exists(other));
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/hpool_test_history.XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_remove_tree_keeps_symlink_targets),
        cmocka_unit_test(test_runs_kept_in_order_with_latest),
        cmocka_unit_test(test_old_layout_first_and_kept),
        cmocka_unit_test(test_replace_removes_only_other_runs),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    hpool_bench_remove_tree(root);
    return failed;
}
