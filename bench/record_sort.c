/* Fixed-size records sorted in bounded memory (record_sort.h). */
#include "record_sort.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { READ_BUF = 1 << 16 };

typedef struct {
    FILE *f;
    char *buf;  /* its stdio buffer */
    char *head; /* the run's smallest record not yet merged */
} run;

struct hpool_bench_sorter {
    size_t size, cap, n;
    hpool_bench_sort_cmp cmp;
    char *buf;
    char *tmpdir;
    run *runs;
    size_t nruns, capruns;
    int failed;
};

hpool_bench_sorter *hpool_bench_sorter_new(size_t size, hpool_bench_sort_cmp cmp,
                                           size_t buffer, const char *tmpdir)
{
    hpool_bench_sorter *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    *s = (hpool_bench_sorter){.size = size, .cap = buffer ? buffer : 1, .cmp = cmp};
    s->buf = malloc(s->cap * size);
    s->tmpdir = strdup(tmpdir);
    if (s->buf == NULL || s->tmpdir == NULL) {
        hpool_bench_sorter_free(s);
        return NULL;
    }
    return s;
}

/* An unlinked temporary file in tmpdir: gone with the process, whatever happens. */
static FILE *anon_file(const char *dir)
{
    size_t n = strlen(dir) + 32;
    char *path = malloc(n);
    if (path == NULL)
        return NULL;
    snprintf(path, n, "%s/.sort.XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd >= 0)
        unlink(path);
    free(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w+b") : NULL;
    if (f == NULL && fd >= 0)
        close(fd);
    return f;
}

static int spill(hpool_bench_sorter *s)
{
    qsort(s->buf, s->n, s->size, s->cmp);
    if (s->nruns == s->capruns) {
        size_t cap = s->capruns ? 2 * s->capruns : 8;
        run *r = realloc(s->runs, cap * sizeof *r);
        if (r == NULL)
            return -1;
        s->runs = r;
        s->capruns = cap;
    }
    FILE *f = anon_file(s->tmpdir);
    char *buf = f ? malloc(READ_BUF) : NULL;
    if (buf == NULL) {
        if (f)
            fclose(f);
        return -1;
    }
    setvbuf(f, buf, _IOFBF, READ_BUF); /* before any I/O, as setvbuf wants */
    s->runs[s->nruns++] = (run){.f = f, .buf = buf};
    if (fwrite(s->buf, s->size, s->n, f) != s->n || fflush(f) != 0)
        return -1;
    s->n = 0;
    return 0;
}

int hpool_bench_sorter_add(hpool_bench_sorter *s, const void *rec)
{
    if (s->failed || (s->n == s->cap && spill(s) != 0))
        return s->failed = -1;
    memcpy(s->buf + s->n * s->size, rec, s->size);
    s->n++;
    return 0;
}

size_t hpool_bench_sorter_runs(const hpool_bench_sorter *s)
{
    return s->nruns;
}

/* Heap of run indices by their head record (smallest on top). */
static bool run_less(const hpool_bench_sorter *s, size_t a, size_t b)
{
    return s->cmp(s->runs[a].head, s->runs[b].head) < 0;
}

static void sift_down(const hpool_bench_sorter *s, size_t *heap, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && run_less(s, heap[l], heap[m]))
            m = l;
        if (l + 1 < n && run_less(s, heap[l + 1], heap[m]))
            m = l + 1;
        if (m == i)
            return;
        size_t t = heap[i];
        heap[i] = heap[m];
        heap[m] = t;
        i = m;
    }
}

static int merge(hpool_bench_sorter *s, int (*fn)(void *, const void *), void *user)
{
    /* The heads live in the (no longer needed) record buffer, one slot per run... unless
     * there are more runs than slots: then give them their own. */
    char *heads = s->nruns <= s->cap ? s->buf : malloc(s->nruns * s->size);
    size_t *heap = malloc(s->nruns * sizeof *heap);
    int rc = heads && heap ? 0 : -1;
    size_t n = 0;
    for (size_t i = 0; i < s->nruns && rc == 0; i++) {
        run *r = &s->runs[i];
        r->head = heads + i * s->size;
        if (fseek(r->f, 0, SEEK_SET) != 0)
            rc = -1;
        else if (fread(r->head, s->size, 1, r->f) == 1)
            heap[n++] = i;
    }
    for (size_t i = n / 2; rc == 0 && i-- > 0;)
        sift_down(s, heap, n, i);
    while (rc == 0 && n > 0) {
        run *r = &s->runs[heap[0]];
        rc = fn(user, r->head);
        if (rc == 0 && fread(r->head, s->size, 1, r->f) != 1) {
            if (ferror(r->f))
                rc = -1;
            heap[0] = heap[--n];
        }
        sift_down(s, heap, n, 0);
    }
    if (heads != s->buf)
        free(heads);
    free(heap);
    return rc;
}

int hpool_bench_sorter_each(hpool_bench_sorter *s, int (*fn)(void *user, const void *rec),
                            void *user)
{
    if (s->failed)
        return -1;
    if (s->nruns == 0) { /* all in memory */
        qsort(s->buf, s->n, s->size, s->cmp);
        int rc = 0;
        for (size_t i = 0; i < s->n && rc == 0; i++)
            rc = fn(user, s->buf + i * s->size);
        return rc;
    }
    if (s->n > 0 && spill(s) != 0)
        return -1;
    return merge(s, fn, user);
}

void hpool_bench_sorter_free(hpool_bench_sorter *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nruns; i++) {
        if (s->runs[i].f)
            fclose(s->runs[i].f);
        free(s->runs[i].buf);
    }
    free(s->runs);
    free(s->buf);
    free(s->tmpdir);
    free(s);
}
