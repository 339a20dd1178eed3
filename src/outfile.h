/* Buffered output files of the timing records (records.c, records_final.c).
 *
 * A write(2)-level buffered file: no stdio locking, one copy, and a failure is
 * remembered so that a truncated file is never renamed into place.
 *
 * The streaming (.partial) files are asynchronous: a writer thread writes a full buffer
 * while the manager fills the other. A write(2) of a megabyte can stall for a millisecond
 * or more, and a stalled manager lets workers run dry: written on the manager thread, the
 * records cost 21% at a million call items per second; the record copy itself costs 3%. */
#ifndef HPOOL_OUTFILE_H
#define HPOOL_OUTFILE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    int fd;
    bool failed; /* async: written by the writer thread, read after it is joined */
    size_t len, cap;
    char *buf;
    bool async;
    pthread_t writer;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *spare;    /* async: the other buffer, being written while pending > 0; mu */
    size_t pending; /* bytes of spare still to write; mu */
    bool stop;      /* mu */
} out_file;

/* dir + "/" + name, malloc'd; NULL when out of memory. */
char *hpool__path_join(const char *dir, const char *name);

/* Creates (truncates) `path` with a `cap`-byte buffer; `async`: written by a writer thread
 * (double buffer), or synchronously when that thread cannot be started. NULL on failure. */
out_file *hpool__out_open(const char *path, size_t cap, bool async);
void hpool__out_flush(out_file *o);
void hpool__out_bytes(out_file *o, const void *s, size_t n);
/* Flushes and closes; returns 0 only if every byte reached the file. */
int hpool__out_close(out_file *o);

/* Room for `n` more bytes; returns where to write them (commit with hpool__out_commit).
 * Inline, as in one file before: the hot paths of the run and of the final pass. */
static inline char *hpool__out_room(out_file *o, size_t n)
{
    if (o->len + n > o->cap)
        hpool__out_flush(o);
    return o->buf + o->len;
}

static inline void hpool__out_commit(out_file *o, const char *end)
{
    o->len = (size_t)(end - o->buf);
}

#endif
