/* libFuzzer target for the hpool-bench config loader (bench/config*.c).
 *
 * hpool_bench_config_load() takes a path, not bytes, and its file checks (regular file,
 * size limit) are part of what is under test, so each input is written to a real file
 * and loaded from there. The file lives in /dev/shm (tmpfs: no disk I/O per execution)
 * and is reused for the life of the process; the pid in its name keeps parallel fuzzing
 * processes (-jobs/-fork) apart.
 *
 * Properties checked, beyond "no crash, no leak, no UB" which the sanitizers enforce:
 *  - a failed load returns -1 with a non-empty, NUL-terminated message that starts with
 *    the path, as config.h promises, and a small message buffer is never overrun;
 *  - a successful load has non-empty lists, run_count >= 1, and run_params / the JSON
 *    exports work for the first, last and a middle combination;
 *  - hpool_bench_config_free() is safe after both outcomes. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static char path[256];

static void remove_file(void)
{
    if (path[0])
        unlink(path);
}

/* The reused temp file's path, chosen on the first call. run-fuzz.sh points
 * HPOOL_FUZZ_TMPDIR at a directory it removes afterwards, because a crashing run never
 * gets to the atexit handler. */
static const char *file_path(void)
{
    if (path[0])
        return path;
    const char *dir = getenv("HPOOL_FUZZ_TMPDIR");
    if (!dir || !*dir)
        dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/hpool-fuzz-config-%ld.ini", dir ? dir : "/tmp",
             (long)getpid());
    atexit(remove_file);
    return path;
}

static int write_all(const char *p, const uint8_t *data, size_t size)
{
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    while (size > 0) {
        ssize_t w = write(fd, data, size);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return -1;
        }
        data += w;
        size -= (size_t)w;
    }
    return close(fd);
}

static void check_run(const hpool_bench_config *cfg, size_t k)
{
    hpool_bench_run_params rp;
    memset(&rp, 0xa5, sizeof rp); /* every field must be set by run_params */
    hpool_bench_config_run_params(cfg, k, &rp);
    if (rp.index != k || rp.workload >= HPOOL_BENCH_WL_COUNT ||
        rp.api >= HPOOL_BENCH_API_COUNT || rp.schedule >= HPOOL_SCHED_COUNT) {
        fprintf(stderr, "fuzz_config: run_params(%zu) out of range\n", k);
        abort();
    }
    json_t *j = hpool_bench_run_params_to_json(&rp);
    if (j) {
        char *s = json_dumps(j, JSON_COMPACT);
        free(s);
        json_decref(j);
    }
}

static void fail(const char *what, const char *err)
{
    fprintf(stderr, "fuzz_config: %s (message: \"%s\")\n", what, err);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = file_path();
    if (write_all(p, data, size) != 0) {
        fprintf(stderr, "fuzz_config: cannot write %s: %s\n", p, strerror(errno));
        abort();
    }
    size_t plen = strlen(p);
    char err[1024];
    memset(err, 'x', sizeof err); /* the loader must terminate what it writes */
    hpool_bench_config cfg;
    int rc = hpool_bench_config_load(p, &cfg, err, sizeof err);
    if (memchr(err, '\0', sizeof err) == NULL)
        fail("message not NUL-terminated", "");
    if (rc != 0) {
        if (rc != -1)
            fail("load returned neither 0 nor -1", err);
        if (err[0] == '\0')
            fail("failed load with an empty message", err);
        if (strncmp(err, p, plen) != 0 || err[plen] != ':')
            fail("message does not start with 'PATH:'", err);
        hpool_bench_config_free(&cfg);

        /* Again with a message buffer just past the path: truncation must stay inside
         * it (heap buffer of the exact size, so ASan sees any overrun). Only for one
         * input in four, chosen by size so a reproducer repeats it: every load costs a
         * fresh 1 MiB read buffer, whose shadow ASan poisons page by page, and loading
         * each input twice halved the fuzzing speed. */
        size_t small = plen + 3;
        char *e2 = size % 4 == 0 ? malloc(small) : NULL;
        if (e2) {
            if (hpool_bench_config_load(p, &cfg, e2, small) != -1)
                fail("second load of the same file did not fail", err);
            if (memchr(e2, '\0', small) == NULL || strncmp(e2, p, plen) != 0)
                fail("truncated message wrong", err);
            hpool_bench_config_free(&cfg);
            free(e2);
        }
        return 0;
    }
    if (err[0] != '\0')
        fail("successful load left a message", err);
    if (!cfg.n_workload || !cfg.n_api || !cfg.n_tasks || !cfg.n_schedule ||
        !cfg.n_chunksize || !cfg.n_workers || !cfg.n_threads)
        fail("successful load with an empty list", "");
    size_t n = hpool_bench_config_run_count(&cfg);
    if (n == 0)
        fail("successful load with run_count 0", "");
    check_run(&cfg, 0);
    check_run(&cfg, n / 2);
    check_run(&cfg, n - 1);
    for (int k = 0; k < HPOOL_BENCH_KEY_COUNT; k++)
        (void)hpool_bench_config_key_line(&cfg, (hpool_bench_key)k);
    char werr[256];
    (void)hpool_bench_config_check_world(&cfg, 2, werr, sizeof werr);
    (void)hpool_bench_config_check_world(&cfg, 65, werr, sizeof werr);
    json_t *j = hpool_bench_config_to_json(&cfg);
    if (j) {
        char *s = json_dumps(j, JSON_COMPACT);
        free(s);
        json_decref(j);
    }
    hpool_bench_config_free(&cfg);
    return 0;
}
