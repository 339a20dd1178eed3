/* map: CPython's Executor.map over fixed-size records, or over a generator, with chunks
 * carved by the manager (schedule.h) when a worker has a free call slot.
 *
 * Memory stays flat: with buffersize B at most B items are carved and not yet consumed,
 * a generator is pulled by the consuming thread only as far as consumed + B (CPython
 * 3.14's buffersize) into a ring of B records, and each chunk's result message is freed
 * once consumed. Chunks have the schedule's size: a full buffer or a generator behind
 * delays a chunk rather than shortening it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "map.h"
#include "registry.h"
#include "sync.h"

#define GEN_DEFAULT_BUFFER 4096
#define STAGE_BATCH 256
/* A call item stays well below MPI's int count limit whatever the item size. */
#define CHUNK_BYTES_MAX ((uint64_t)1 << 30)

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* Where carving must stop for now: the items known to exist, the close/cancel limit, and
 * buffersize items past the last one consumed. */
static uint64_t carve_end_locked(const hpool_map_iter *m)
{
    uint64_t end = min_u64(m->n, m->limit);
    if (m->buffersize && m->consumed + m->buffersize < end)
        end = m->consumed + m->buffersize;
    return end;
}

/* Where carving will stop for good, as far as is known now: the input's end once the
 * generator has ended (always, for arrays), else the limit. */
static uint64_t final_end_locked(const hpool_map_iter *m)
{
    return m->input_ended ? min_u64(m->n, m->limit) : m->limit;
}

/* The lowest item whose ring slot may still be read: the first item of the oldest chunk
 * without a result (a chunk whose worker is lost is copied again for the retry), or the
 * first one consumed. Ordered maps consume in order, so `consumed` is never past it; in
 * unordered maps later chunks may be consumed first, so the oldest open chunk counts. */
static uint64_t ring_base_locked(const hpool_map_iter *m)
{
    if (!m->unordered)
        return m->consumed;
    uint64_t open = m->chunks_head ? m->chunks_head->first : m->carved;
    return min_u64(open, m->consumed);
}

/* Decide the next chunk: its size (0: nothing to carve now) and the schedule's state
 * after it, in *after, so that a chunk not carved leaves the schedule untouched.
 *
 * A chunk is carved at the size the schedule gives. When fewer items are available only
 * because the buffer is full or the generator has not produced them yet, carving waits
 * for them instead of cutting the chunk short: otherwise a slow consumer, freeing one
 * buffer slot per result, would turn every chunk into a one-item call item. The end of
 * the input, and a schedule size the buffer can never hold, are carved as they are. */
static uint64_t plan_locked(const hpool_map_iter *m, int worker, hpool__schedule *after)
{
    if (m->closing)
        return 0;
    uint64_t end = carve_end_locked(m);
    if (m->carved >= end)
        return 0;
    uint64_t avail = end - m->carved;
    /* The schedule's R: every item that will come for arrays and ended generators; for
     * a generator still running, its upper bound n if one was given, else the items
     * staged so far (but never below chunksize, so FIXED keeps its size). */
    uint64_t remaining;
    if (m->input_ended)
        remaining = min_u64(m->n, m->limit) - m->carved;
    else if (m->limit != UINT64_MAX)
        remaining = m->limit - m->carved;
    else
        remaining = m->n - m->carved > m->sched.chunksize ? m->n - m->carved
                                                          : m->sched.chunksize;
    *after = m->sched;
    uint64_t size = hpool__schedule_next(after, remaining, worker);
    uint64_t cap = CHUNK_BYTES_MAX / m->item_size;
    size = min_u64(size, cap ? min_u64(cap, UINT32_MAX) : 1);
    if (size <= avail)
        return size;
    bool more_later = end < final_end_locked(m);
    bool buffer_never_holds_it = m->buffersize && avail >= m->buffersize;
    if (more_later && !buffer_never_holds_it)
        return 0;
    return avail;
}

static bool has_work_locked(const hpool_map_iter *m)
{
    hpool__schedule trial;
    return plan_locked(m, 0, &trial) > 0;
}

static hpool__map_chunk *carve_locked(hpool_map_iter *m, int worker)
{
    hpool__schedule after;
    uint64_t size = plan_locked(m, worker, &after);
    if (size == 0 || !hpool__schedule_may_prefetch(&m->sched, worker, size, m->n - m->carved))
        return NULL;
    hpool__map_chunk *c = m->recycled;
    if (c) {
        m->recycled = c->next;
        void *spare = c->spare;
        size_t spare_cap = c->spare_cap;
        memset(c, 0, sizeof *c);
        c->spare = spare;
        c->spare_cap = spare_cap;
    } else if ((c = calloc(1, sizeof *c)) == NULL) {
        return NULL;
    }
    m->sched = after;
    hpool__schedule_dispatched(&m->sched, worker, size);
    m->sched_used = m->sched.resolved;
    c->map = m;
    c->first = m->carved;
    c->count = (uint32_t)size;
    m->carved += size;
    /* Carve order: the consumption order of ordered maps; for unordered ones, the chunks
     * still without a result (ring_base_locked). */
    if (m->chunks_tail)
        m->chunks_tail->next = c;
    else
        m->chunks_head = c;
    m->chunks_tail = c;
    return c;
}

/* ---------------------------------------------------------------- the set of maps */
/* The one place where a map leaves its set's carving queue. */
static void unqueue_locked(hpool__map_set *set, hpool_map_iter *m, hpool_map_iter *prev)
{
    if (prev)
        prev->next_queued = m->next_queued;
    else
        set->queue_head = m->next_queued;
    if (set->queue_tail == m)
        set->queue_tail = prev;
    m->next_queued = NULL;
    m->queued = false;
}

static void enqueue_locked(hpool__map_set *set, hpool_map_iter *m)
{
    m->next_queued = NULL;
    if (set->queue_tail)
        set->queue_tail->next_queued = m;
    else
        set->queue_head = m;
    set->queue_tail = m;
    m->queued = true;
}

/* The one place where a map leaves its set: at close, or when the set goes away. */
static void leave_set_locked(hpool_map_iter *m)
{
    hpool__map_set *set = m->set;
    if (set == NULL)
        return;
    if (m->queued) {
        hpool_map_iter *prev = NULL;
        for (hpool_map_iter *it = set->queue_head; it && it != m; it = it->next_queued)
            prev = it;
        unqueue_locked(set, m, prev);
    }
    if (m->prev_open)
        m->prev_open->next_open = m->next_open;
    else
        set->open_head = m->next_open;
    if (m->next_open)
        m->next_open->prev_open = m->prev_open;
    m->next_open = m->prev_open = NULL;
    m->set = NULL;
}

void hpool__maps_add_locked(hpool__map_set *set, hpool_map_iter *m)
{
    m->set = set;
    m->prev_open = NULL;
    m->next_open = set->open_head;
    if (set->open_head)
        set->open_head->prev_open = m;
    set->open_head = m;
    enqueue_locked(set, m);
}

bool hpool__maps_have_work_locked(const hpool__map_set *set)
{
    for (const hpool_map_iter *m = set->queue_head; m; m = m->next_queued)
        if (has_work_locked(m))
            return true;
    return false;
}

static void cancel_locked(hpool_map_iter *m)
{
    /* Only a map that loses items ends with ECANCELLED: one whose every item was carved
     * (an ended generator included) ends normally. */
    if (final_end_locked(m) > m->carved) {
        m->limit = m->carved;
        m->cancelled = true;
    }
}

void hpool__maps_cancel_locked(hpool__map_set *set)
{
    for (hpool_map_iter *m = set->open_head; m; m = m->next_open)
        cancel_locked(m);
}

void hpool__maps_end_locked(hpool__map_set *set, int code, const char *why)
{
    for (hpool_map_iter *m = set->open_head; m; m = m->next_open) {
        if (m->end_code == HPOOL_EBROKEN)
            continue;
        m->end_code = code;
        snprintf(m->end_msg, sizeof m->end_msg, "%s", why ? why : "");
    }
}

void hpool__maps_detach_locked(hpool__map_set *set)
{
    while (set->open_head)
        leave_set_locked(set->open_head);
}

hpool__map_chunk *hpool__map_on_dispatch_locked(hpool__map_set *set, int worker)
{
    hpool_map_iter *prev = NULL;
    for (hpool_map_iter *m = set->queue_head, *next; m; m = next) {
        next = m->next_queued;
        hpool__map_chunk *c = carve_locked(m, worker);
        if (c) {
            m->inflight++;
            /* To the tail, so that several maps share the workers. */
            if (next) {
                unqueue_locked(set, m, prev);
                enqueue_locked(set, m);
            }
            return c;
        }
        /* Waiting for input or buffer room (items not carved yet, more may come): it
         * stays queued, and the maps behind it get their turn meanwhile. */
        if (m->carved < m->limit && !(m->input_ended && m->carved >= m->n)) {
            prev = m;
            continue;
        }
        unqueue_locked(set, m, prev); /* everything carved */
    }
    return NULL;
}

int hpool__map_copy_items(const hpool_map_iter *m, uint64_t first, uint32_t count,
                          hpool__buf *b)
{
    size_t bytes = (size_t)count * m->item_size;
    if (hpool__buf_reserve(b, b->len + bytes) != 0)
        return HPOOL_ENOMEM;
    if (m->items) {
        memcpy(b->data + b->len, m->items + first * m->item_size, bytes);
        b->len += bytes;
        return 0;
    }
    /* Generator ring: the range may wrap around the end of the ring. */
    for (uint32_t i = 0; i < count; i++) {
        size_t slot = (size_t)((first + i) % m->buffersize);
        memcpy(b->data + b->len, m->ring + slot * m->item_size, m->item_size);
        b->len += m->item_size;
    }
    return 0;
}

static void chunk_done_locked(hpool__map_chunk *c, void *msg, size_t len, size_t cap, int rank)
{
    hpool_map_iter *m = c->map;
    c->msg = msg;
    c->msg_len = len;
    c->msg_cap = cap;
    c->rank = rank;
    c->done = true;
    if (msg)
        hpool__item_reader_init(&c->reader, msg, len);
    m->inflight--;
    m->buffered++;
    if (m->unordered) {
        /* Leaves the list of open chunks (at most workers x prefetch long) ... */
        hpool__map_chunk *prev = NULL;
        for (hpool__map_chunk *it = m->chunks_head; it; prev = it, it = it->next) {
            if (it != c)
                continue;
            if (prev)
                prev->next = c->next;
            else
                m->chunks_head = c->next;
            if (m->chunks_tail == c)
                m->chunks_tail = prev;
            c->next = NULL;
            break;
        }
        /* ... for the completion-order list the consumer reads. */
        if (m->done_tail)
            m->done_tail->next_done = c;
        else
            m->done_head = c;
        m->done_tail = c;
    }
}

void hpool__map_on_result_locked(hpool__map_chunk *c, hpool__buf *rx, int rank, int worker,
                                 double task_s, double transit_s)
{
    hpool__schedule_observe_chunk(&c->map->sched, worker, c->count, task_s, transit_s);
    /* AUTO may decide on this result, the last of the map when a slow worker held the
     * last probe while the others carved the rest: readers see the decision now, not at
     * a carve that may never come. */
    c->map->sched_used = c->map->sched.resolved;
    chunk_done_locked(c, rx->data, rx->len, rx->cap, rank);
    rx->data = c->spare;
    rx->cap = c->spare_cap;
    rx->len = 0;
    c->spare = NULL;
    c->spare_cap = 0;
}

/* A RESULT message in which every item of c reports `status` and `msg`. */
static int failed_result(const hpool__map_chunk *c, int32_t status, const char *msg, void **out,
                         size_t *len)
{
    hpool__buf b = {0};
    hpool__wire_result *h = hpool__buf_begin_result(&b, 0);
    if (h == NULL)
        return HPOOL_ENOMEM;
    h->count = c->count;
    h->status = status;
    for (uint32_t i = 0; i < c->count; i++)
        if (hpool__buf_put_item(&b, status, msg, strlen(msg) + 1) != 0) {
            hpool__buf_free(&b);
            return HPOOL_ENOMEM;
        }
    *out = b.data;
    *len = b.len;
    return 0;
}

bool hpool__map_on_lost_locked(hpool__map_chunk *c, bool retry, int retry_limit,
                               hpool__queue *again, int code, const char *why, int rank)
{
    if (retry && c->retries < retry_limit && hpool__queue_push(again, c) == 0) {
        c->retries++;
        return true; /* still counted in flight */
    }
    void *msg = NULL;
    size_t len = 0;
    if (failed_result(c, code, why, &msg, &len) != 0) {
        /* No memory for the message: the chunk still ends, its items report `code`. */
        msg = NULL;
        len = 0;
        c->fail_code = code;
    }
    chunk_done_locked(c, msg, len, len, rank);
    return false;
}

/* ---------------------------------------------------------------- creation */
static int validate_map(const char *task, const void *items, size_t item_size,
                        const hpool_map_options *o, hpool_map_iter **out)
{
    if (out == NULL)
        return hpool__fail(HPOOL_EINVAL, "hpool_map: NULL executor or output");
    if (item_size == 0 || item_size > (64u << 20))
        return hpool__fail(HPOOL_EINVAL, "hpool_map: item_size %zu out of range 1..64 MiB",
                           item_size);
    if ((items == NULL) == (o->gen == NULL))
        return hpool__fail(HPOOL_EINVAL, "hpool_map: give either items or a generator");
    if ((unsigned)o->schedule >= HPOOL_SCHED_COUNT)
        return hpool__fail(HPOOL_EINVAL, "hpool_map: unknown schedule %d", (int)o->schedule);
    if (hpool__task_lookup(task) < 0)
        return hpool__fail(HPOOL_ENOTASK, "hpool_map: no task named '%s'",
                           task ? task : "(null)");
    return 0;
}

/* Pull the generator up to buffersize items past the ring's base (the consumed count for
 * ordered maps), and never past the upper bound n. Consumer thread only; the ring slots
 * written are free because their previous items are below the ring base, so they are
 * never copied again. A failure is kept in the map and reported by hpool_map_next when
 * the consumer reaches it. */
static void stage_input(hpool_map_iter *m)
{
    if (m->gen == NULL)
        return;
    for (;;) {
        hpool__lock();
        bool stopped = m->input_ended || m->closing || m->cancelled;
        uint64_t n = m->n, stop = min_u64(ring_base_locked(m) + m->buffersize, m->limit);
        hpool__unlock();
        if (stopped || n >= stop)
            return;
        uint64_t batch_end = n + STAGE_BATCH < stop ? n + STAGE_BATCH : stop;
        int status = 1;
        uint64_t i = n;
        for (; i < batch_end; i++) {
            status = m->gen(m->gen_user, i, m->ring + (size_t)(i % m->buffersize) * m->item_size);
            if (status != 1)
                break;
        }
        hpool__lock();
        m->n = i;
        if (status != 1)
            m->input_ended = true;
        if (status < 0)
            m->gen_failed = true;
        /* The upper bound reached is the end of the input (a cancel lowers the limit
         * only together with `cancelled`). */
        if (m->n >= m->limit && !m->cancelled && !m->closing)
            m->input_ended = true;
        hpool__wake_manager_locked();
        hpool__unlock();
        if (status != 1)
            return;
    }
}

int hpool__map_new(const char *task, const void *items, size_t item_size, size_t n,
                   const hpool_map_options *o, int workers, hpool_map_iter **out)
{
    int rc = validate_map(task, items, item_size, o, out);
    if (rc != 0)
        return rc;
    hpool_map_iter *m = calloc(1, sizeof *m);
    if (m == NULL)
        return HPOOL_ENOMEM;
    m->task = hpool__task_lookup(task);
    m->item_size = item_size;
    m->items = items;
    m->gen = o->gen;
    m->gen_user = o->gen_user;
    m->unordered = o->unordered;
    m->buffersize = o->buffersize;
    m->t_created = hpool__now();
    /* CPython's map(timeout=None) unless a timeout is given; then, as everywhere, 0 means
     * "do not wait" (counted from the call, as CPython does). */
    m->deadline = o->timeout_set ? m->t_created + (o->timeout_s < 0 ? INFINITY : o->timeout_s)
                                 : INFINITY;
    m->limit = items ? n : (n ? n : UINT64_MAX);
    m->n = items ? n : 0;
    m->input_ended = items != NULL;
    if (m->gen) {
        if (m->buffersize == 0)
            m->buffersize = GEN_DEFAULT_BUFFER;
        /* A generator bounded by n is never more than n items ahead: no larger ring. */
        if (n && m->buffersize > n)
            m->buffersize = n;
        m->ring = m->buffersize <= SIZE_MAX / item_size ? malloc(m->buffersize * item_size)
                                                        : NULL;
        if (m->ring == NULL) {
            size_t staged = m->buffersize;
            free(m);
            return hpool__fail(HPOOL_ENOMEM,
                               "hpool_map: no memory for %zu staged items of %zu bytes",
                               staged, item_size);
        }
    }
    if (hpool__schedule_init(&m->sched, o->schedule, n, workers,
                             o->chunksize ? o->chunksize : 1) != 0) {
        free(m->ring);
        free(m);
        return hpool__fail(HPOOL_ENOMEM, "hpool_map: no memory for the schedule");
    }
    hpool__schedule_set_model(&m->sched, o->overhead_s, o->task_sd_s);
    hpool__schedule_set_weights(&m->sched, o->weights, o->n_weights);
    m->sched_used = m->sched.resolved;
    stage_input(m);
    *out = m;
    return 0;
}

/* ---------------------------------------------------------------- consuming */
static void free_chunk(hpool__map_chunk *c)
{
    if (c) {
        free(c->msg);
        free(c->spare);
        free(c);
    }
}

/* A consumed chunk waits for the next carve, its message buffer kept as the spare that
 * the manager receives the next result into. Lock. */
static void recycle_chunk_locked(hpool_map_iter *m, hpool__map_chunk *c)
{
    if (c == NULL)
        return;
    if (c->spare == NULL || (c->msg && c->msg_cap > c->spare_cap)) {
        void *t = c->spare;
        size_t tc = c->spare_cap;
        c->spare = c->msg;
        c->spare_cap = c->msg_cap;
        c->msg = t;
        c->msg_cap = tc;
    }
    free(c->msg); /* a chunk keeps one buffer */
    c->msg = NULL;
    c->next = m->recycled;
    m->recycled = c;
}

/* The next chunk to read from, or NULL if none is ready. lock. */
static hpool__map_chunk *next_ready_locked(hpool_map_iter *m)
{
    hpool__map_chunk *c = NULL;
    if (m->unordered) {
        c = m->done_head;
        if (c) {
            m->done_head = c->next_done;
            if (m->done_head == NULL)
                m->done_tail = NULL;
        }
    } else if (m->chunks_head && m->chunks_head->done) {
        c = m->chunks_head;
        m->chunks_head = c->next;
        if (m->chunks_head == NULL)
            m->chunks_tail = NULL;
    }
    return c;
}

/* The same, taken by the consumer: no longer buffered. lock. */
static hpool__map_chunk *take_ready_locked(hpool_map_iter *m)
{
    hpool__map_chunk *c = next_ready_locked(m);
    if (c)
        m->buffered--;
    return c;
}

static bool ready_locked(const hpool_map_iter *m)
{
    return m->unordered ? m->done_head != NULL : (m->chunks_head && m->chunks_head->done);
}

/* Whether a further result may come (1), the map ended normally (0), or why not
 * (<0, without a message: end_message_locked says it). lock. */
static int end_code_locked(const hpool_map_iter *m)
{
    if (m->consumed < m->carved)
        return 1; /* results still to come */
    if (m->input_ended && m->consumed >= m->n)
        return m->gen_failed ? HPOOL_EINVAL : 0;
    if (m->end_code == HPOOL_EBROKEN)
        return HPOOL_EBROKEN;
    if (m->cancelled)
        return HPOOL_ECANCELLED;
    if (m->end_code != 0 || m->set == NULL)
        return HPOOL_ESHUTDOWN;
    return 1;
}

static int end_message_locked(const hpool_map_iter *m, int code)
{
    switch (code) {
    case HPOOL_EINVAL:
        return hpool__fail(HPOOL_EINVAL, "hpool_map_next: generator failed at item %llu",
                           (unsigned long long)m->n);
    case HPOOL_EBROKEN:
        return hpool__fail(HPOOL_EBROKEN, "hpool_map_next: %s", m->end_msg);
    case HPOOL_ECANCELLED:
        return hpool__fail(HPOOL_ECANCELLED, "hpool_map_next: remaining items cancelled");
    case HPOOL_ESHUTDOWN:
        return hpool__fail(HPOOL_ESHUTDOWN,
                           "hpool_map_next: executor shut down before item %llu was carved",
                           (unsigned long long)m->consumed);
    default:
        return code;
    }
}

/* What hpool_map_next waits for: a result, or the end. */
static bool next_or_end(const void *what)
{
    const hpool_map_iter *m = what;
    return ready_locked(m) || end_code_locked(m) != 1;
}

/* Read the current chunk's next item. Consumer thread. */
static int read_item(hpool_map_iter *m, const void **res, size_t *len, uint64_t *index)
{
    hpool__map_chunk *c = m->current;
    int32_t status;
    const void *data;
    size_t n;
    uint64_t idx = c->first + c->consumed;
    c->consumed++;
    if (c->msg == NULL) {
        status = c->fail_code;
        data = "the item's worker was lost, and no memory was left to say more";
        n = strlen(data) + 1;
    } else if (hpool__item_reader_next(&c->reader, &status, &data, &n) != 0) {
        status = HPOOL_EPROTO;
        data = "malformed result message";
        n = strlen(data) + 1;
    }
    if (index)
        *index = idx;
    if (status != 0) {
        size_t k = n < sizeof m->err_msg - 1 ? n : sizeof m->err_msg - 1;
        memcpy(m->err_msg, data, k);
        m->err_msg[k] = '\0';
        m->err_rank = c->rank;
        m->err_item = idx;
        /* Any failed item, the task's own or one lost with its worker (the message says
         * which), is HPOOL_ETASK: iteration goes on. EBROKEN, ECANCELLED and ESHUTDOWN
         * are kept for the end of the map, so a loop that skips failed items ends. */
        return hpool__fail(HPOOL_ETASK, "item %llu failed on rank %d: %s",
                           (unsigned long long)idx, c->rank, m->err_msg);
    }
    if (res)
        *res = data;
    if (len)
        *len = n;
    return 1;
}

int hpool_map_next(hpool_map_iter *m, const void **res, size_t *len, uint64_t *index)
{
    if (m == NULL)
        return hpool__fail(HPOOL_EINVAL, "hpool_map_next: map is NULL");
    if (m->closing)
        return hpool__fail(HPOOL_ECLOSED, "hpool_map_next: map is closed");
    /* A map without a buffer bound (array form, buffersize 0): within the chunk in hand
     * everything read is the consumer's own (the message, its cursor), so no lock; the
     * consumed count moves once per chunk, when it is released below. A bounded map
     * counts every item under the lock, since each one frees buffer room (CPython's
     * buffersize counts items) and may let the generator stage the next. */
    hpool__map_chunk *c = m->current;
    bool per_chunk = m->buffersize == 0;
    if (per_chunk && c && c->consumed < c->count)
        return read_item(m, res, len, index);
    int rc = 0;
    hpool__lock();
    if (c && c->consumed == c->count) {
        if (per_chunk)
            m->consumed += c->count;
        recycle_chunk_locked(m, c); /* the caller is done with its last result */
        m->current = NULL;
    }
    bool new_chunk = m->current == NULL;
    while (m->current == NULL) {
        m->current = take_ready_locked(m);
        if (m->current)
            break;
        rc = end_code_locked(m);
        if (rc <= 0) {
            rc = end_message_locked(m, rc);
            break;
        }
        new_chunk = false; /* waiting, this thread progressed already */
        rc = hpool__wait_locked(next_or_end, m, m->deadline, "hpool_map_next");
        if (rc == HPOOL_ETIMEDOUT)
            rc = hpool__fail(HPOOL_ETIMEDOUT, "hpool_map_next: result %llu not ready in time",
                             (unsigned long long)m->consumed);
        if (rc != 0)
            break;
    }
    bool advanced = m->current != NULL;
    /* Fewer results buffered than in flight: fetch and refill now (below). */
    bool help = advanced && new_chunk && m->buffered < (uint64_t)m->inflight + 1;
    if (advanced) {
        rc = read_item(m, res, len, index);
        if (!per_chunk)
            m->consumed++;
        hpool__wake_manager_locked(); /* buffer room for the next chunk */
    }
    hpool__unlock();
    if (advanced && !per_chunk)
        stage_input(m); /* a generator failure surfaces when the consumer reaches it */
    /* A new chunk taken while few results are buffered: the results behind it are
     * fetched and the room refilled now, unless another thread progresses (sync.h), so
     * the workers stay fed while the consumer reads instead of only once it waits (the
     * manager thread, which did this before, would compete with the consumer for a
     * core). Not while the buffer holds more than is in flight: workers that outpace the
     * consumer would then grow it without bound, one pass per chunk fetching more than
     * the consumer takes. */
    if (help)
        hpool__progress_help();
    return rc;
}

const char *hpool_map_error(const hpool_map_iter *m, int *rank, uint64_t *item)
{
    if (m == NULL)
        return "";
    if (rank)
        *rank = m->err_rank;
    if (item)
        *item = m->err_item;
    return m->err_msg;
}

hpool_schedule_kind hpool_map_schedule_used(const hpool_map_iter *m)
{
    if (m == NULL)
        return HPOOL_SCHED_FIXED;
    hpool__lock();
    hpool_schedule_kind k = m->sched_used;
    hpool__unlock();
    return k;
}

static bool nothing_in_flight(const void *what)
{
    return ((const hpool_map_iter *)what)->inflight == 0;
}

void hpool__map_free(hpool_map_iter *m)
{
    free_chunk(m->current);
    for (hpool__map_chunk *c = m->chunks_head, *n; c; c = n) {
        n = c->next;
        free_chunk(c);
    }
    for (hpool__map_chunk *c = m->done_head, *n; c; c = n) {
        n = c->next_done;
        free_chunk(c);
    }
    for (hpool__map_chunk *c = m->recycled, *n; c; c = n) {
        n = c->next;
        free_chunk(c);
    }
    hpool__schedule_free(&m->sched);
    free(m->ring);
    free(m);
}

int hpool_map_close(hpool_map_iter *m)
{
    if (m == NULL)
        return hpool__fail(HPOOL_EINVAL, "hpool_map_close: map is NULL");
    hpool__lock();
    m->closing = true;
    m->limit = m->carved; /* nothing more is carved; what was dispatched finishes */
    /* Chunks in flight still write into the map: wait for them (on the manager thread,
     * a done callback, this answers HPOOL_ESTATE and the map stays closing: close it
     * again from another thread). */
    int rc = hpool__wait_locked(nothing_in_flight, m, INFINITY, "hpool_map_close");
    if (rc == 0)
        leave_set_locked(m);
    hpool__unlock();
    if (rc != 0)
        return rc;
    hpool__map_free(m);
    return 0;
}
