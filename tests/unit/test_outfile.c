/* Output files of the records (src/outfile.c), without MPI:
 *  - an asynchronous file (the writer thread's double buffer) gets byte for byte what
 *    was put in it, across many buffers, with flushes by time in between;
 *  - after a flush by time, and once the writer has written it, the file holds every
 *    byte put so far (what a job that dies keeps);
 *  - the same for a synchronous file, and on tmpfs (/dev/shm) as on the disk. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <linux/magic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "history.h" /* hpool_bench_remove_tree */
#include "outfile.h"

#define CAP (16u * 1024u) /* a small buffer: many buffers in a short test */

/* Byte k of the stream the test writes. */
static unsigned char pattern(size_t k)
{
    return (unsigned char)((k * 131u + (k >> 9)) & 0xff);
}

/* Whether the file at `path` holds exactly bytes 0..n-1 of the pattern. */
static void assert_file_is_pattern(const char *path, size_t n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char *got = malloc(n + 1);
    assert_non_null(got);
    size_t k = fread(got, 1, n + 1, f);
    fclose(f);
    assert_int_equal(k, n);
    size_t bad = n;
    for (size_t i = 0; i < n && bad == n; i++)
        if (got[i] != pattern(i))
            bad = i;
    unsigned value = bad < n ? got[bad] : 0;
    free(got);
    if (bad < n)
        fail_msg("%s: byte %zu is %u, not %u", path, bad, value, pattern(bad));
}

/* Put bytes [from, to) of the pattern in pieces of `piece` bytes, as records are. */
static void put(out_file *o, size_t from, size_t to, size_t piece)
{
    unsigned char rec[256];
    for (size_t k = from; k < to; k += piece) {
        size_t m = to - k < piece ? to - k : piece;
        for (size_t i = 0; i < m; i++)
            rec[i] = pattern(k + i);
        char *dst = hpool__out_room(o, m);
        memcpy(dst, rec, m);
        hpool__out_commit(o, dst + m);
    }
}

/* Until the writer thread has written what it was given. */
static void wait_writer(out_file *o)
{
    pthread_mutex_lock(&o->mu);
    while (o->pending > 0)
        pthread_cond_wait(&o->cv, &o->mu);
    pthread_mutex_unlock(&o->mu);
}

/* One file in a new directory under `base`: a 64-byte header flushed at once (as the
 * partial files do), then records of 80 bytes over about 20 buffers, a flush by time
 * every 1,000 records, each checked once written. */
static void stream_in(const char *base, bool async)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/hpool-outfile-XXXXXX", base);
    assert_non_null(mkdtemp(dir));
    char *path = hpool__path_join(dir, "chunks.partial");
    out_file *o = hpool__out_open(path, CAP, async);
    assert_non_null(o);
    put(o, 0, 64, 64);
    hpool__out_flush(o);
    size_t n = 64;
    for (int rec = 0; rec < 4000; rec++, n += 80) {
        put(o, n, n + 80, 80);
        if (rec % 1000 == 999) {
            hpool__out_flush(o);
            if (async)
                wait_writer(o);
            assert_file_is_pattern(path, n + 80);
        }
    }
    put(o, n, n + 37, 37); /* an odd end */
    n += 37;
    assert_int_equal(hpool__out_close(o), 0);
    assert_file_is_pattern(path, n);
    free(path);
    assert_int_equal(hpool_bench_remove_tree(dir), 0);
}

static void async_on_this_disk(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    stream_in(base, true);
}

static void async_on_tmpfs(void **state)
{
    (void)state;
    struct statfs fs;
    if (statfs("/dev/shm", &fs) != 0 || fs.f_type != TMPFS_MAGIC)
        skip();
    stream_in("/dev/shm", true);
}

static void synchronous(void **state)
{
    (void)state;
    stream_in(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(async_on_this_disk),
        cmocka_unit_test(async_on_tmpfs),
        cmocka_unit_test(synchronous),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
