/* The compact chunk record of chunks.partial; see chunk_code.h and docs/FORMATS.md.
 *
 * Field order: chunk, first_item (differences), items, status, worker, schedule,
 * t_submit, t_dispatch (differences), t_result - t_dispatch, t_start (difference),
 * t_recv - t_start, t_end - t_start. Completion order is close to dispatch order, so the
 * differences are small; t_start's is taken from the previous record whatever its
 * worker: on one node the workers share a clock, and across hosts a change of worker
 * costs that record a few bytes more, not a table per worker in every reader. */
#include "chunk_code.h"

/* Seconds to integer nanoseconds, rounded; a time that is not a finite clock reading
 * (none is, but a record must never be undefined behaviour) becomes 0. */
static int64_t to_ns(double s)
{
    double v = s * 1e9;
    if (!(v > -9.2e18 && v < 9.2e18))
        return 0;
    return (int64_t)(v < 0 ? v - 0.5 : v + 0.5);
}

static double from_ns(int64_t ns)
{
    return (double)ns / 1e9;
}

/* Signed differences, computed and zigzag-coded in unsigned arithmetic (wrapping, so
 * that no value can overflow). */
static uint64_t zigzag(uint64_t d)
{
    return (d << 1) ^ (0 - (d >> 63));
}

static uint64_t unzigzag(uint64_t z)
{
    return (z >> 1) ^ (0 - (z & 1));
}

static unsigned char *put_var(unsigned char *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}

size_t hpool__chunk_encode(hpool__chunk_code *st, const hpool__chunk_rec *c, unsigned char *dst)
{
    int64_t submit = to_ns(c->t_submit), dispatch = to_ns(c->t_dispatch);
    int64_t start = to_ns(c->t_start);
    unsigned char *p = dst;
    p = put_var(p, zigzag(c->chunk - st->chunk));
    p = put_var(p, zigzag(c->first_item - st->first_item));
    p = put_var(p, c->items);
    p = put_var(p, zigzag((uint64_t)(int64_t)c->status));
    p = put_var(p, zigzag((uint64_t)(int64_t)c->worker));
    p = put_var(p, zigzag((uint64_t)(int64_t)c->schedule));
    p = put_var(p, zigzag((uint64_t)submit - (uint64_t)st->t_submit));
    p = put_var(p, zigzag((uint64_t)dispatch - (uint64_t)st->t_dispatch));
    p = put_var(p, zigzag((uint64_t)to_ns(c->t_result) - (uint64_t)dispatch));
    p = put_var(p, zigzag((uint64_t)start - (uint64_t)st->t_start));
    p = put_var(p, zigzag((uint64_t)to_ns(c->t_recv) - (uint64_t)start));
    p = put_var(p, zigzag((uint64_t)to_ns(c->t_end) - (uint64_t)start));
    st->chunk = c->chunk;
    st->first_item = c->first_item;
    st->t_submit = submit;
    st->t_dispatch = dispatch;
    st->t_start = start;
    return (size_t)(p - dst);
}

/* One varint at *p: 1 (read, *p advanced), 0 (it goes past end), -1 (over 10 bytes). */
static int get_var(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
    uint64_t x = 0;
    const unsigned char *q = *p;
    for (int shift = 0; shift < 70; shift += 7) {
        if (q == end)
            return 0;
        unsigned char b = *q++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            *p = q;
            return 1;
        }
    }
    return -1;
}

long hpool__chunk_decode(hpool__chunk_code *st, const unsigned char *src, size_t n,
                         hpool__chunk_rec *c)
{
    enum { N_FIELDS = 12 };
    uint64_t f[N_FIELDS];
    const unsigned char *p = src, *end = src + n;
    for (int i = 0; i < N_FIELDS; i++) {
        int rc = get_var(&p, end, &f[i]);
        if (rc <= 0)
            return rc;
    }
    uint64_t submit = (uint64_t)st->t_submit + unzigzag(f[6]);
    uint64_t dispatch = (uint64_t)st->t_dispatch + unzigzag(f[7]);
    uint64_t start = (uint64_t)st->t_start + unzigzag(f[9]);
    c->chunk = st->chunk + unzigzag(f[0]);
    c->first_item = st->first_item + unzigzag(f[1]);
    c->items = (uint32_t)f[2];
    c->status = (int32_t)(int64_t)unzigzag(f[3]);
    c->worker = (int32_t)(int64_t)unzigzag(f[4]);
    c->schedule = (int32_t)(int64_t)unzigzag(f[5]);
    c->t_submit = from_ns((int64_t)submit);
    c->t_dispatch = from_ns((int64_t)dispatch);
    c->t_result = from_ns((int64_t)(dispatch + unzigzag(f[8])));
    c->t_start = from_ns((int64_t)start);
    c->t_recv = from_ns((int64_t)(start + unzigzag(f[10])));
    c->t_end = from_ns((int64_t)(start + unzigzag(f[11])));
    st->chunk = c->chunk;
    st->first_item = c->first_item;
    st->t_submit = (int64_t)submit;
    st->t_dispatch = (int64_t)dispatch;
    st->t_start = (int64_t)start;
    return (long)(p - src);
}
