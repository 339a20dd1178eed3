/* Buffered output files (outfile.h): the write(2)-level buffer and the writer thread of
 * the asynchronous (.partial) files. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outfile.h"
#include "pages.h"

char *hpool__path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static void write_all(out_file *o, const char *p, size_t n);

static void *writer_main(void *arg)
{
    out_file *o = arg;
    pthread_mutex_lock(&o->mu);
    for (;;) {
        while (o->pending == 0 && !o->stop)
            pthread_cond_wait(&o->cv, &o->mu);
        if (o->pending == 0)
            break; /* stopped with nothing left */
        size_t n = o->pending;
        const char *p = o->spare;
        pthread_mutex_unlock(&o->mu);
        write_all(o, p, n);
        pthread_mutex_lock(&o->mu);
        o->pending = 0;
        pthread_cond_broadcast(&o->cv);
    }
    pthread_mutex_unlock(&o->mu);
    return NULL;
}

out_file *hpool__out_open(const char *path, size_t cap, bool async)
{
    out_file *o = calloc(1, sizeof *o);
    /* Buffers written end to end at once: their pages come present (pages.h). */
    char *buf = hpool__pages_alloc(cap);
    char *spare = async ? hpool__pages_alloc(cap) : NULL;
    int fd = o && buf && (spare || !async)
                 ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)
                 : -1;
    if (fd < 0) {
        free(o);
        hpool__pages_free(buf, cap);
        hpool__pages_free(spare, cap);
        return NULL;
    }
    *o = (out_file){.fd = fd, .cap = cap, .buf = buf, .spare = spare};
    if (async) {
        pthread_mutex_init(&o->mu, NULL);
        pthread_cond_init(&o->cv, NULL);
        /* Without its writer thread the file is simply written synchronously. */
        o->async = pthread_create(&o->writer, NULL, writer_main, o) == 0;
    }
    return o;
}

static void write_all(out_file *o, const char *p, size_t n)
{
    for (size_t done = 0; done < n && !o->failed;) {
        ssize_t k = write(o->fd, p + done, n - done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            o->failed = true;
        else
            done += (size_t)k;
    }
}

void hpool__out_flush(out_file *o)
{
    if (!o->async) {
        write_all(o, o->buf, o->len);
        o->len = 0;
        return;
    }
    if (o->len == 0)
        return;
    pthread_mutex_lock(&o->mu);
    while (o->pending > 0) /* the writer is a whole buffer behind: rare */
        pthread_cond_wait(&o->cv, &o->mu);
    char *full = o->buf;
    o->buf = o->spare;
    o->spare = full;
    o->pending = o->len;
    o->len = 0;
    pthread_cond_signal(&o->cv);
    pthread_mutex_unlock(&o->mu);
}

void hpool__out_bytes(out_file *o, const void *s, size_t n)
{
    if (n > o->cap / 2) { /* large: straight to the file, after what is buffered */
        hpool__out_flush(o);
        if (o->async) {
            pthread_mutex_lock(&o->mu);
            while (o->pending > 0)
                pthread_cond_wait(&o->cv, &o->mu);
            pthread_mutex_unlock(&o->mu);
        }
        write_all(o, s, n);
        return;
    }
    char *p = hpool__out_room(o, n);
    memcpy(p, s, n);
    hpool__out_commit(o, p + n);
}

/* Flushes and closes; returns 0 only if every byte reached the file. */
int hpool__out_close(out_file *o)
{
    if (o == NULL)
        return 0;
    hpool__out_flush(o);
    if (o->async) {
        pthread_mutex_lock(&o->mu);
        o->stop = true;
        pthread_cond_signal(&o->cv);
        pthread_mutex_unlock(&o->mu);
        pthread_join(o->writer, NULL);
        pthread_mutex_destroy(&o->mu);
        pthread_cond_destroy(&o->cv);
    }
    hpool__pages_free(o->spare, o->cap);
    int rc = o->failed ? -1 : 0;
    if (close(o->fd) != 0)
        rc = -1;
    hpool__pages_free(o->buf, o->cap);
    free(o);
    return rc;
}
