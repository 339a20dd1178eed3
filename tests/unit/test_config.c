/* Unit tests of the hpool-bench config parser (bench/config*.c).
 *
 * Data lives in the source tree: the .ini files of configs/ (shipped experiments),
 * tests/configs/good/ and tests/configs/bad/. Every bad file starts with
 * "# expect: LINE: fragment" (LINE "-" for whole-file errors), so adding a bad case is
 * adding a file; README.txt beside them is their index and must name each one. Errors no
 * file in git can carry (missing file, directory, unreadable, FIFO, device, too large) are
 * made here in a temporary directory. */
#define _DEFAULT_SOURCE /* mkdtemp, seteuid */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#ifndef HPOOL_SOURCE_DIR
#error "HPOOL_SOURCE_DIR must name the source tree (CMake defines it)"
#endif

#define SHIPPED_DIR HPOOL_SOURCE_DIR "/configs"
#define GOOD_DIR HPOOL_SOURCE_DIR "/tests/configs/good"
#define BAD_DIR HPOOL_SOURCE_DIR "/tests/configs/bad"

#define MAX_FILES 256

/* ------------------------------------------------------------------------------------
 * Helpers.
 * ---------------------------------------------------------------------------------- */

/* Sorted paths of the *.ini files in dir; returns how many. */
static size_t list_ini(const char *dir, char paths[][512], size_t max)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".ini") != 0)
            continue;
        assert_true(n < max);
        snprintf(paths[n++], 512, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    qsort(paths, n, 512, (int (*)(const void *, const void *))strcmp);
    return n;
}

/* Loads a file that must be good; fails the test with the parser's message if not. */
static void load_ok(const char *path, hpool_bench_config *cfg)
{
    char err[1024];
    int rc = hpool_bench_config_load(path, cfg, err, sizeof err);
    if (rc != 0)
        fail_msg("%s should load, got: %s", path, err);
    assert_string_equal(err, "");
}

/* Loads a file that must fail; returns the message in err. */
static void load_fails(const char *path, char *err, size_t errlen)
{
    hpool_bench_config cfg;
    int rc = hpool_bench_config_load(path, &cfg, err, errlen);
    if (rc != -1)
        fail_msg("%s should fail to load", path);
    assert_null(cfg.path); /* a failed load leaves nothing to free */
    hpool_bench_config_free(&cfg);
}

static void assert_contains(const char *msg, const char *fragment)
{
    if (!strstr(msg, fragment))
        fail_msg("message\n  %s\ndoes not contain\n  %s", msg, fragment);
}

static void assert_starts_with(const char *msg, const char *prefix)
{
    if (strncmp(msg, prefix, strlen(prefix)) != 0)
        fail_msg("message\n  %s\ndoes not start with\n  %s", msg, prefix);
}

/* A scratch directory per test that needs files made on the fly. */
static int make_tmpdir(void **state)
{
    char *dir = strdup("/tmp/hpool-test-config-XXXXXX");
    if (!dir || !mkdtemp(dir)) {
        free(dir);
        return -1;
    }
    *state = dir;
    return 0;
}

static int remove_tmpdir(void **state)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", (char *)*state);
    int rc = system(cmd);
    free(*state);
    return rc == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static const char VALID[] = "[experiment]\nname = t\nworkload = empty\ntasks = 1\nworkers = 1\n";

/* ------------------------------------------------------------------------------------
 * Good files.
 * ---------------------------------------------------------------------------------- */

/* Every shipped config loads, is named after its file, fits 1+4 ranks, and echoes as
 * JSON; the ones the design asks for are all there. */
static void test_shipped_configs(void **state)
{
    (void)state;
    static char paths[MAX_FILES][512];
    size_t n = list_ini(SHIPPED_DIR, paths, MAX_FILES);
    static const char *const expected[] = {"default",   "seed-submit",     "seed-as-completed",
                                           "seed-map",  "seed-chunksize",  "seed-hybrid",
                                           "chunksize-sweep", "scaling",   "overhead"};
    for (size_t e = 0; e < sizeof expected / sizeof expected[0]; e++) {
        char want[512];
        snprintf(want, sizeof want, "%s/%s.ini", SHIPPED_DIR, expected[e]);
        bool found = false;
        for (size_t i = 0; i < n; i++)
            found |= strcmp(paths[i], want) == 0;
        if (!found)
            fail_msg("missing shipped config %s", want);
    }
    for (size_t i = 0; i < n; i++) {
        hpool_bench_config cfg;
        load_ok(paths[i], &cfg);
        const char *base = strrchr(paths[i], '/') + 1;
        assert_int_equal(strncmp(base, cfg.name, strlen(cfg.name)), 0);
        assert_string_equal(base + strlen(cfg.name), ".ini");
        assert_true(cfg.description[0] != '\0');
        char err[512];
        if (hpool_bench_config_check_world(&cfg, 5, err, sizeof err) != 0)
            fail_msg("%s", err);
        json_t *j = hpool_bench_config_to_json(&cfg);
        assert_non_null(j);
        json_decref(j);
        hpool_bench_config_free(&cfg);
    }
}

static void test_good_corpus(void **state)
{
    (void)state;
    static char paths[MAX_FILES][512];
    size_t n = list_ini(GOOD_DIR, paths, MAX_FILES);
    assert_true(n >= 6);
    for (size_t i = 0; i < n; i++) {
        hpool_bench_config cfg;
        load_ok(paths[i], &cfg);
        assert_true(hpool_bench_config_run_count(&cfg) >= 1);
        hpool_bench_config_free(&cfg);
    }
}

static void test_minimal_defaults(void **state)
{
    (void)state;
    hpool_bench_config c;
    load_ok(GOOD_DIR "/minimal.ini", &c);
    assert_string_equal(c.path, GOOD_DIR "/minimal.ini");
    assert_string_equal(c.name, "minimal");
    assert_string_equal(c.description, "");
    assert_int_equal(c.n_workload, 1);
    assert_int_equal(c.workload[0], HPOOL_BENCH_WL_EMPTY);
    assert_int_equal(c.n_api, 1);
    assert_int_equal(c.api[0], HPOOL_BENCH_API_MAP);
    assert_int_equal(c.n_tasks, 1);
    assert_int_equal(c.tasks[0], 10);
    assert_int_equal(c.n_schedule, 1);
    assert_int_equal(c.schedule[0], HPOOL_SCHED_FIXED);
    assert_int_equal(c.n_chunksize, 1);
    assert_int_equal(c.chunksize[0], 1);
    assert_int_equal(c.n_workers, 1);
    assert_int_equal(c.workers[0], 1);
    assert_int_equal(c.n_threads, 1);
    assert_int_equal(c.threads[0], 1);
    assert_true(c.cost_ms == 0.0);
    assert_int_equal(c.iterations, 0);
    assert_int_equal(c.prefetch, 0); /* adaptive */
    assert_int_equal(c.repeat, 1);
    assert_int_equal(c.warmup, 0);
    assert_int_equal(c.seed, 1);
    assert_int_equal(c.records, HPOOL_RECORD_CHUNKS);
    assert_int_equal(c.n_peers, 0);
    assert_true(c.serial_baseline);
    assert_false(c.otf2);
    assert_int_equal(c.trace_max_events, 200000);
    assert_false(c.trace_gzip);
    assert_int_equal(c.slow_workers, 1); /* the heterogeneous workload's defaults */
    assert_true(c.slow_factor == 2.0);
    assert_null(c.schedule_model);
    assert_false(c.has_hybrid_section);
    assert_int_equal(c.hybrid_line, 0);
    assert_int_equal(c.inner_items, 5);
    assert_true(c.inner_ms == 20.0);
    assert_int_equal(c.counter, HPOOL_BENCH_COUNTER_ATOMIC);
    assert_int_equal(hpool_bench_config_key_line(&c, HPOOL_BENCH_KEY_NAME), 4);
    assert_int_equal(hpool_bench_config_key_line(&c, HPOOL_BENCH_KEY_WORKERS), 7);
    assert_int_equal(hpool_bench_config_key_line(&c, HPOOL_BENCH_KEY_PREFETCH), 0);
    assert_int_equal(hpool_bench_config_run_count(&c), 1);
    hpool_bench_config_free(&c);
}

static void test_full_values(void **state)
{
    (void)state;
    hpool_bench_config c;
    load_ok(GOOD_DIR "/full.ini", &c);
    assert_string_equal(c.name, "Full_1.0-test");
    assert_string_equal(c.description, "every key: values checked one by one");
    assert_int_equal(c.n_workload, 3);
    assert_int_equal(c.workload[0], HPOOL_BENCH_WL_HYBRID);
    assert_int_equal(c.workload[1], HPOOL_BENCH_WL_CPU_SUM);
    assert_int_equal(c.workload[2], HPOOL_BENCH_WL_MANDELBROT);
    assert_int_equal(c.n_api, 2);
    assert_int_equal(c.api[0], HPOOL_BENCH_API_SUBMIT);
    assert_int_equal(c.api[1], HPOOL_BENCH_API_AS_COMPLETED);
    assert_int_equal(c.n_tasks, 2);
    assert_int_equal(c.tasks[0], 1);
    assert_int_equal(c.tasks[1], 1000000000);
    assert_true(c.iterations == UINT64_C(9223372036854775807));
    assert_true(c.cost_ms == 0.0);
    assert_int_equal(c.n_schedule, 3);
    assert_int_equal(c.schedule[0], HPOOL_SCHED_AWF);
    assert_int_equal(c.schedule[1], HPOOL_SCHED_AUTO);
    assert_int_equal(c.schedule[2], HPOOL_SCHED_TRAPEZOID);
    assert_int_equal(c.n_chunksize, 1);
    assert_int_equal(c.chunksize[0], 7);
    assert_int_equal(c.n_workers, 2);
    assert_int_equal(c.workers[0], 3);
    assert_int_equal(c.workers[1], 1);
    assert_int_equal(c.n_threads, 2);
    assert_int_equal(c.threads[0], 4);
    assert_int_equal(c.threads[1], 2);
    assert_int_equal(c.prefetch, 5);
    assert_int_equal(c.repeat, 4);
    assert_int_equal(c.warmup, 0);
    assert_int_equal(hpool_bench_config_key_line(&c, HPOOL_BENCH_KEY_WARMUP), 15);
    assert_int_equal(c.seed, 0);
    assert_int_equal(c.records, HPOOL_RECORD_NONE);
    assert_int_equal(c.n_peers, 1);
    assert_int_equal(c.peers[0], HPOOL_BENCH_PEER_PYTHON_PPE);
    assert_false(c.serial_baseline);
    assert_true(c.otf2);
    assert_int_equal(c.trace_max_events, 5000);
    assert_true(c.trace_gzip);
    assert_int_equal(hpool_bench_config_key_line(&c, HPOOL_BENCH_KEY_TRACE_GZIP), 22);
    assert_true(c.has_hybrid_section);
    assert_int_equal(c.hybrid_line, 24);
    assert_int_equal(c.inner_items, 9);
    assert_true(c.inner_ms == 0.5);
    assert_int_equal(c.counter, HPOOL_BENCH_COUNTER_UNSAFE);
    assert_int_equal(hpool_bench_config_key_line(&c, HPOOL_BENCH_KEY_COUNTER), 27);
    assert_int_equal(hpool_bench_config_run_count(&c), 3 * 2 * 2 * 3 * 1 * 2 * 2);
    hpool_bench_config_free(&c);
}

/* BOM, CRLF, tabs, indentation, inline comments, 64 elements, 198-byte lines. */
static void test_formatting(void **state)
{
    (void)state;
    hpool_bench_config c;
    load_ok(GOOD_DIR "/formatting.ini", &c);
    assert_string_equal(c.name, "formatting");
    assert_int_equal(c.n_workload, 2);
    assert_int_equal(c.workload[1], HPOOL_BENCH_WL_CPU_SUM);
    assert_int_equal(c.n_tasks, 3);
    assert_int_equal(c.tasks[2], 7);
    assert_true(c.cost_ms == 0.25);
    assert_int_equal(c.n_chunksize, HPOOL_BENCH_LIST_MAX);
    for (size_t i = 0; i < c.n_chunksize; i++)
        assert_int_equal(c.chunksize[i], i + 1);
    assert_int_equal(c.workers[0], 2);
    assert_false(c.serial_baseline);
    assert_int_equal(strlen(c.description), 198 - strlen("description = "));
    assert_int_equal(strncmp(c.description, "semicolons;inside;words stay, and so do colons: "
                                            "and = signs xx", 62), 0);
    assert_int_equal(hpool_bench_config_key_line(&c, HPOOL_BENCH_KEY_DESCRIPTION), 15);
    hpool_bench_config_free(&c);
}

static void test_hybrid_defaults_and_unicode(void **state)
{
    (void)state;
    hpool_bench_config c;
    load_ok(GOOD_DIR "/hybrid-defaults.ini", &c);
    assert_true(c.has_hybrid_section);
    assert_int_equal(c.hybrid_line, 10);
    assert_int_equal(c.iterations, 1000);
    assert_int_equal(c.inner_items, 5);
    hpool_bench_config_free(&c);
    load_ok(GOOD_DIR "/unicode.ini", &c);
    assert_string_equal(c.description, "Emu, Wombat, Känguru, 鴨嘴獣 🦘");
    hpool_bench_config_free(&c);
}

/* ------------------------------------------------------------------------------------
 * Bad files.
 * ---------------------------------------------------------------------------------- */

/* Reads "# expect: LINE: fragment" from the first line. line = 0 for "-". */
static void read_expectation(const char *path, int *line, char *fragment, size_t size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char first[512];
    assert_non_null(fgets(first, sizeof first, f));
    fclose(f);
    first[strcspn(first, "\n")] = '\0';
    const char *tag = "# expect: ";
    if (strncmp(first, tag, strlen(tag)) != 0)
        fail_msg("%s: first line must be '# expect: LINE: fragment'", path);
    char *p = first + strlen(tag);
    char *end;
    if (*p == '-') {
        *line = 0;
        end = p + 1;
    } else {
        *line = (int)strtol(p, &end, 10);
        assert_true(*line > 1);
    }
    assert_true(end[0] == ':' && end[1] == ' ' && end[2] != '\0');
    snprintf(fragment, size, "%s", end + 2);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[64 * 1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Checks one bad file; returns false (after printing why) if it does not fail as its
 * first line says. */
static bool bad_file_fails_as_expected(const char *path, const char *readme)
{
    int line;
    char fragment[400], err[2048], prefix[600];
    read_expectation(path, &line, fragment, sizeof fragment);
    load_fails(path, err, sizeof err);
    if (line > 0)
        snprintf(prefix, sizeof prefix, "%s:%d: ", path, line);
    else
        snprintf(prefix, sizeof prefix, "%s: ", path);
    const char *base = strrchr(path, '/') + 1;
    bool ok = strncmp(err, prefix, strlen(prefix)) == 0 && strstr(err, fragment) != NULL;
    if (!ok)
        print_error("%s\n  got:      %s\n  expected: %s...%s\n", base, err, prefix, fragment);
    if (!strstr(readme, base)) {
        print_error("README.txt does not list %s\n", base);
        ok = false;
    }
    return ok;
}

/* Each bad file fails with its fragment, at its line, in the FILE:LINE: form. All files
 * are checked before the test fails, so one run shows every mismatch. */
static void test_bad_corpus(void **state)
{
    (void)state;
    static char paths[MAX_FILES][512];
    size_t n = list_ini(BAD_DIR, paths, MAX_FILES);
    assert_true(n >= 60);
    const char *readme = slurp(BAD_DIR "/README.txt");
    size_t failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += !bad_file_fails_as_expected(paths[i], readme);
    if (failed)
        fail_msg("%zu of %zu bad configs did not fail as expected", failed, n);
}

/* ------------------------------------------------------------------------------------
 * Whole-file errors made on the fly.
 * ---------------------------------------------------------------------------------- */
static void test_missing_file(void **state)
{
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/nope.ini", (char *)*state);
    load_fails(path, err, sizeof err);
    char want[600];
    snprintf(want, sizeof want, "%s: cannot open: %s", path, strerror(ENOENT));
    assert_string_equal(err, want);
    load_fails("", err, sizeof err);
    assert_starts_with(err, "(empty path): cannot open");
}

static void test_directory(void **state)
{
    char err[512], want[600];
    load_fails((char *)*state, err, sizeof err);
    snprintf(want, sizeof want, "%s: is a directory, not a config file", (char *)*state);
    assert_string_equal(err, want);
}

/* A FIFO must not block the loader (opened non-blocking, refused by type). */
static void test_not_regular(void **state)
{
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/fifo.ini", (char *)*state);
    assert_int_equal(mkfifo(path, 0600), 0);
    load_fails(path, err, sizeof err);
    assert_contains(err, ": is not a regular file");
    load_fails("/dev/null", err, sizeof err);
    assert_string_equal(err, "/dev/null: is not a regular file");
}

static void test_too_large(void **state)
{
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/big.ini", (char *)*state);
    size_t len = HPOOL_BENCH_FILE_MAX + 1;
    char *data = malloc(len);
    assert_non_null(data);
    memset(data, '#', len);
    for (size_t i = 100; i < len; i += 100)
        data[i] = '\n';
    write_file(path, data, len);
    free(data);
    load_fails(path, err, sizeof err);
    assert_contains(err, ": larger than 1048576 bytes: not a config file");
}

/* chmod 000 does not stop root, and the tests often run as root (containers, CI): then
 * the check runs with the effective uid of "nobody", which restores the permission
 * check. If even that is not possible (no CAP_SETUID), the test is skipped. */
static void test_unreadable(void **state)
{
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/secret.ini", (char *)*state);
    write_file(path, VALID, sizeof VALID - 1);
    assert_int_equal(chmod(path, 0), 0);
    assert_int_equal(chmod((char *)*state, 0755), 0); /* nobody must reach the file */
    uid_t saved = geteuid();
    if (saved == 0 && seteuid(65534) != 0)
        skip();
    hpool_bench_config cfg;
    int rc = hpool_bench_config_load(path, &cfg, err, sizeof err);
    if (saved == 0)
        assert_int_equal(seteuid(0), 0);
    assert_int_equal(rc, -1);
    char want[600];
    snprintf(want, sizeof want, "%s: cannot open: %s", path, strerror(EACCES));
    assert_string_equal(err, want);
}

/* ------------------------------------------------------------------------------------
 * Sweep expansion and world checks.
 * ---------------------------------------------------------------------------------- */

/* sweep-order.ini: workload {cpu_sum, io_sleep} x tasks {10, 20} x schedule {static,
 * guided} x workers {1, 2}; threads is innermost, workload outermost. */
static void test_run_order(void **state)
{
    (void)state;
    hpool_bench_config c;
    load_ok(GOOD_DIR "/sweep-order.ini", &c);
    assert_int_equal(hpool_bench_config_run_count(&c), 16);
    size_t k = 0;
    for (int w = 0; w < 2; w++)
        for (int t = 0; t < 2; t++)
            for (int s = 0; s < 2; s++)
                for (int p = 0; p < 2; p++, k++) {
                    hpool_bench_run_params rp;
                    hpool_bench_config_run_params(&c, k, &rp);
                    assert_int_equal(rp.index, k);
                    assert_int_equal(rp.workload, w ? HPOOL_BENCH_WL_IO_SLEEP
                                                    : HPOOL_BENCH_WL_CPU_SUM);
                    assert_int_equal(rp.api, HPOOL_BENCH_API_MAP);
                    assert_int_equal(rp.tasks, t ? 20 : 10);
                    assert_int_equal(rp.schedule, s ? HPOOL_SCHED_GUIDED : HPOOL_SCHED_STATIC);
                    assert_int_equal(rp.chunksize, 1);
                    assert_int_equal(rp.workers, p + 1);
                    assert_int_equal(rp.threads, 3);
                    assert_true(rp.cost_ms == 1.5);
                }
    hpool_bench_config_free(&c);
}

/* Every combination appears exactly once, and the scalar settings ride along. */
static void test_run_params_full(void **state)
{
    (void)state;
    hpool_bench_config c;
    load_ok(GOOD_DIR "/full.ini", &c);
    size_t n = hpool_bench_config_run_count(&c);
    assert_int_equal(n, 144);
    static bool seen[3][2][2][3][2][2];
    memset(seen, 0, sizeof seen);
    for (size_t k = 0; k < n; k++) {
        hpool_bench_run_params rp;
        hpool_bench_config_run_params(&c, k, &rp);
        int w = rp.workload == HPOOL_BENCH_WL_HYBRID ? 0 : rp.workload == HPOOL_BENCH_WL_CPU_SUM ? 1 : 2;
        int a = rp.api == HPOOL_BENCH_API_SUBMIT ? 0 : 1;
        int t = rp.tasks == 1 ? 0 : 1;
        int s = rp.schedule == HPOOL_SCHED_AWF ? 0 : rp.schedule == HPOOL_SCHED_AUTO ? 1 : 2;
        int p = rp.workers == 3 ? 0 : 1;
        int h = rp.threads == 4 ? 0 : 1;
        assert_false(seen[w][a][t][s][p][h]);
        seen[w][a][t][s][p][h] = true;
        assert_int_equal(rp.chunksize, 7);
        assert_int_equal(rp.prefetch, 5);
        assert_int_equal(rp.repeat, 4);
        assert_int_equal(rp.records, HPOOL_RECORD_NONE);
        /* trace_max_events 5000 shared by 144 x 4 runs: the floor of 100 each */
        assert_int_equal(rp.trace_max_events, 100);
        assert_true(rp.peer[HPOOL_BENCH_PEER_PYTHON_PPE]);
        assert_false(rp.serial_baseline);
        assert_int_equal(rp.inner_items, 9);
        assert_int_equal(rp.counter, HPOOL_BENCH_COUNTER_UNSAFE);
    }
    /* The last run takes the last element of every list. */
    hpool_bench_run_params rp;
    hpool_bench_config_run_params(&c, n - 1, &rp);
    assert_int_equal(rp.workload, HPOOL_BENCH_WL_MANDELBROT);
    assert_int_equal(rp.threads, 2);
    hpool_bench_config_free(&c);
}

static void test_check_world(void **state)
{
    (void)state;
    hpool_bench_config c;
    char err[512];
    load_ok(GOOD_DIR "/sweep-order.ini", &c);
    assert_int_equal(hpool_bench_config_check_world(&c, 3, err, sizeof err), 0);
    assert_int_equal(hpool_bench_config_check_world(&c, 64, err, sizeof err), 0);
    assert_int_equal(hpool_bench_config_check_world(&c, 2, err, sizeof err), -1);
    assert_starts_with(err, GOOD_DIR "/sweep-order.ini:10: [experiment] workers = '1, 2': "
                                     "2 workers need 3 MPI ranks");
    assert_contains(err, "the job has 2; run mpirun -n 3");
    assert_contains(err, "(allowed here: 1 .. 1)");
    assert_int_equal(hpool_bench_config_check_world(&c, 1, err, sizeof err), -1);
    assert_contains(err, "allowed here: none");
    hpool_bench_config_free(&c);
}

/* ------------------------------------------------------------------------------------
 * Odds and ends.
 * ---------------------------------------------------------------------------------- */

/* A short buffer gets a truncated, terminated message; a NULL one is fine. */
static void test_error_buffer(void **state)
{
    (void)state;
    char err[16];
    memset(err, 'X', sizeof err);
    hpool_bench_config c;
    assert_int_equal(hpool_bench_config_load(BAD_DIR "/duplicate-key.ini", &c, err, sizeof err),
                     -1);
    assert_int_equal(strlen(err), sizeof err - 1);
    assert_int_equal(hpool_bench_config_load(BAD_DIR "/duplicate-key.ini", &c, NULL, 0), -1);
    assert_int_equal(hpool_bench_config_load(BAD_DIR "/duplicate-key.ini", &c, err, 1), -1);
    assert_string_equal(err, "");
    hpool_bench_config_free(&c);
    hpool_bench_config_free(&c); /* freeing twice is harmless */
    hpool_bench_config_free(NULL);
}

/* Reusing one struct: load, free, load another. */
static void test_reload(void **state)
{
    (void)state;
    hpool_bench_config c;
    load_ok(GOOD_DIR "/full.ini", &c);
    hpool_bench_config_free(&c);
    load_ok(GOOD_DIR "/minimal.ini", &c);
    assert_int_equal(c.n_workload, 1);
    assert_int_equal(c.prefetch, 0);
    hpool_bench_config_free(&c);
}

/* One message per error: the first by line, even when inih finds a syntax error earlier
 * than the key error that follows it. */
static void test_first_error_wins(void **state)
{
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/two.ini", (char *)*state);
    static const char text[] = "[experiment]\nname = t\nrepeat ; = 2\nworkers = 0\n";
    write_file(path, text, sizeof text - 1);
    load_fails(path, err, sizeof err);
    char want[600];
    snprintf(want, sizeof want, "%s:3: 'repeat ; = 2': syntax error", path);
    assert_starts_with(err, want);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(hpool_bench_workload_name(HPOOL_BENCH_WL_MANDELBROT), "mandelbrot");
    assert_string_equal(hpool_bench_workload_name(HPOOL_BENCH_WL_COUNT), "?");
    assert_string_equal(hpool_bench_api_name(HPOOL_BENCH_API_AS_COMPLETED), "as_completed");
    assert_string_equal(hpool_bench_schedule_name(HPOOL_SCHED_TRAPEZOID), "trapezoid");
    assert_string_equal(hpool_bench_schedule_name(HPOOL_SCHED_COUNT), "?");
    assert_string_equal(hpool_bench_records_name(HPOOL_RECORD_SPANS), "spans");
    assert_string_equal(hpool_bench_counter_name(HPOOL_BENCH_COUNTER_CRITICAL), "critical");
    assert_string_equal(hpool_bench_peer_name(HPOOL_BENCH_PEER_PYTHON_PPE), "python-ppe");
    assert_string_equal(hpool_bench_key_name(HPOOL_BENCH_KEY_SERIAL_BASELINE),
                        "serial_baseline");
    assert_string_equal(hpool_bench_key_name(HPOOL_BENCH_KEY_COUNT), "?");
}

static void test_json(void **state)
{
    (void)state;
    hpool_bench_config c;
    load_ok(GOOD_DIR "/full.ini", &c);
    json_t *j = hpool_bench_config_to_json(&c);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "Full_1.0-test");
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "workload"), 2)),
                        "mandelbrot");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(j, "tasks"), 1)),
                     1000000000);
    assert_true(json_is_null(json_object_get(j, "cost_ms")));
    assert_true(json_is_false(json_object_get(j, "serial_baseline")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "hybrid"),
                                                          "counter")),
                        "unsafe");
    assert_int_equal(json_integer_value(json_object_get(j, "run_count")), 144);
    json_decref(j);

    hpool_bench_run_params rp;
    hpool_bench_config_run_params(&c, 1, &rp);
    j = hpool_bench_run_params_to_json(&rp);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "run")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "threads")), 2);
    assert_string_equal(json_string_value(json_object_get(j, "schedule")), "awf");
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "peers"), 0)),
                        "python-ppe");
    json_decref(j);
    hpool_bench_config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_configs),
        cmocka_unit_test(test_good_corpus),
        cmocka_unit_test(test_minimal_defaults),
        cmocka_unit_test(test_full_values),
        cmocka_unit_test(test_formatting),
        cmocka_unit_test(test_hybrid_defaults_and_unicode),
        cmocka_unit_test(test_bad_corpus),
        cmocka_unit_test_setup_teardown(test_missing_file, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_directory, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_not_regular, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_too_large, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_unreadable, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_first_error_wins, make_tmpdir, remove_tmpdir),
        cmocka_unit_test(test_run_order),
        cmocka_unit_test(test_run_params_full),
        cmocka_unit_test(test_check_world),
        cmocka_unit_test(test_error_buffer),
        cmocka_unit_test(test_reload),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
