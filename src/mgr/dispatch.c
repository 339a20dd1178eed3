/* Dispatch (manager thread): carving call items from the submission queue, from map
 * chunks to be sent again and from maps, into the call slots of workers whose window has
 * room, and sending them. CPython's add_call_item_to_queue. Also the window: how many
 * call items each worker may hold. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgr.h"
#include "policy.h"
#include "sync.h"

/* Arguments of a call item's futures above this many bytes are copied without the lock. */
#define HPOOL__COPY_UNLOCKED_MIN (64u * 1024u)

static int build_call(hpool__mgr *g, hpool__slot *s, int slot_idx, int task)
{
    hpool__wire_call *h = hpool__buf_begin_call(&s->send, g->run.ex->id);
    if (h == NULL)
        return HPOOL_ENOMEM;
    h->slot = (uint16_t)slot_idx; /* < prefetch <= HPOOL__WINDOW_MAX */
    h->chunk_id = (uint32_t)s->chunk_id;
    h->task = task;
    h->count = s->chunk ? s->chunk->count : s->n_futs;
    h->first_item = s->chunk ? s->chunk->first : s->futs[0]->seq;
    if (s->chunk) {
        h->item_size = (uint32_t)s->chunk->map->item_size;
        return hpool__map_copy_items(s->chunk->map, s->chunk->first, s->chunk->count,
                                     &s->send);
    }
    for (uint32_t i = 0; i < s->n_futs; i++) {
        const hpool_future *f = s->futs[i];
        int32_t delta = (int32_t)(f->seq - s->futs[0]->seq);
        int rc = hpool__buf_put_item(&s->send, delta, hpool__future_arg(f), f->arg_len);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int send_unsent(hpool__mgr *g, hpool__worker *w);

/* Fill one free slot of worker wi (lock held; see hpool__dispatch). Returns 1 if a call
 * item was filled (sent now, or by the pass's flush), 0 if there was no work, <0 on
 * error. *t_pass: the pass's one clock reading, taken at its first call item. */
static int dispatch_one_locked(hpool__mgr *g, int wi, double *t_pass)
{
    hpool__run *r = &g->run;
    hpool_executor *ex = r->ex;
    hpool__worker *w = &r->w[wi];
    int slot_idx = 0;
    while (w->slots[slot_idx].busy)
        slot_idx++;
    hpool__slot *s = &w->slots[slot_idx];
    s->chunk = NULL;
    s->n_futs = 0;
    int task = -1;
    s->chunk_id = r->next_chunk_id;
    bool broken = ex->broken;
    /* Lost work first: it is the oldest. */
    s->chunk = broken ? NULL : hpool__queue_pop(&r->again);
    if (s->chunk == NULL && !broken)
        s->n_futs = hpool__executor_carve_locked(ex, s->futs, (uint32_t)ex->submit_batch);
    if (s->chunk == NULL && s->n_futs == 0 && !broken)
        s->chunk = hpool__map_on_dispatch_locked(&ex->maps, wi);
    if (s->chunk) {
        task = s->chunk->map->task;
        s->t_submit = s->chunk->map->t_created;
    } else if (s->n_futs > 0) {
        task = s->futs[0]->task;
        s->t_submit = s->futs[0]->t_submit;
    }
    if (task < 0)
        return 0;
    /* Map items are copied under the lock: a generator's ring slots are reused as soon
     * as the consumer has taken enough results, which it could do right after carving.
     * Futures' arguments too, since the pass holds the lock anyway, unless they are
     * large: they are the slot's now (running futures' arguments do not change), and
     * nobody should wait behind a long copy. */
    bool large = false;
    if (s->chunk == NULL) {
        size_t bytes = 0;
        for (uint32_t i = 0; i < s->n_futs; i++)
            bytes += s->futs[i]->arg_len;
        large = bytes > HPOOL__COPY_UNLOCKED_MIN;
    }
    if (large)
        hpool__unlock();
    int rc = build_call(g, s, slot_idx, task);
    if (large)
        hpool__lock();
    r->next_chunk_id++;
    /* The call items of a pass go out together at its end (flush): one reading of the
     * clock stands for all their dispatch times. */
    if (*t_pass < 0)
        *t_pass = hpool__now();
    s->t_dispatch = *t_pass;
    /* From here the slot holds the work, sent or not: a failure loses this worker (its
     * slots, this one included, go back to the others or fail). */
    s->busy = true;
    w->in_flight++;
    if (w->in_flight == 1)
        hpool__head_changed(r, wi, s->t_dispatch); /* its first call item starts now */
    r->inflight++;
    if (rc != 0)
        return rc;
    /* A small call item is sent at the end of the pass, with the others this worker gets
     * in it (flush); a large one now, after those before it: it would not be bundled, and
     * holding it while the pass copies more chunks only keeps the worker waiting. Sent
     * without the lock, as every MPI call of the manager. */
    if (!w->to_flush) {
        w->to_flush = true;
        r->to_flush[r->n_to_flush++] = wi;
    }
    w->unsent[w->n_unsent++] = slot_idx;
    if (s->send.len > HPOOL__BUNDLE_FRAME_MAX) {
        hpool__unlock();
        rc = send_unsent(g, w);
        hpool__lock();
        if (rc != 0)
            return rc;
    }
    return 1;
}

/* Send the bundle being built in the worker's ring: its one frame alone, or all. */
static int post_bundle(hpool__mgr *g, hpool__worker *w)
{
    hpool__buf *b = hpool__send_ring_pending(&w->bundles);
    size_t from = hpool__bundle_frames(b) == 1 ? hpool__bundle_first_offset() : 0;
    g->run.bytes_sent += b->len - from;
    g->run.messages_sent++;
    return hpool__send_ring_post(&w->bundles, from, w->rank, HPOOL__TAG_TO_WORKER, g->comm);
}

/* Send worker w the call items filled for it in this pass, in order: small ones gathered
 * into bundles (one MPI message for what would be several; wire.h), large ones alone
 * from their slot's buffer. A bundle's slots have no request of their own: their CALLs
 * were copied, and the bundle's send stays in the worker's ring until complete. */
static int send_unsent(hpool__mgr *g, hpool__worker *w)
{
    int n = w->n_unsent, rc = 0;
    bool open = false;
    w->n_unsent = 0;
    for (int k = 0; k < n && rc == 0; k++) {
        hpool__slot *s = &w->slots[w->unsent[k]];
        if (n == 1 || s->send.len > HPOOL__BUNDLE_FRAME_MAX) {
            if (open && (rc = post_bundle(g, w)) != 0)
                break;
            open = false;
            g->run.bytes_sent += s->send.len;
            g->run.messages_sent++;
            if (MPI_Isend(s->send.data, (int)s->send.len, MPI_BYTE, w->rank,
                          HPOOL__TAG_TO_WORKER, g->comm, &s->req) != MPI_SUCCESS)
                rc = HPOOL_EMPI;
            continue;
        }
        if (open) {
            hpool__buf *b = hpool__send_ring_pending(&w->bundles);
            if (b->len + hpool__bundle_growth(b->len, s->send.len) > HPOOL__BUNDLE_MAX) {
                if ((rc = post_bundle(g, w)) != 0)
                    break;
                open = false;
            }
        }
        if (!open) {
            hpool__buf *b = hpool__send_ring_next(&w->bundles);
            if (b == NULL || hpool__bundle_begin(b, g->run.ex->id) != 0) {
                rc = HPOOL_ENOMEM;
                break;
            }
            open = true;
        }
        rc = hpool__bundle_add(hpool__send_ring_pending(&w->bundles), s->send.data, s->send.len);
    }
    if (rc == 0 && open)
        rc = post_bundle(g, w);
    return rc;
}

/* The end of a dispatch pass: every worker given call items in it gets them now. */
static void flush(hpool__mgr *g)
{
    hpool__run *r = &g->run;
    for (int k = 0; k < r->n_to_flush; k++) {
        int wi = r->to_flush[k];
        hpool__worker *w = &r->w[wi];
        w->to_flush = false;
        if (w->lost || w->n_unsent == 0)
            continue; /* lost: its slots went back to the others */
        int rc = send_unsent(g, w);
        if (rc != 0) {
            char why[HPOOL__MSG_MAX];
            snprintf(why, sizeof why, "dispatch to rank %d failed: %s", w->rank,
                     hpool_strerror(rc));
            hpool__worker_lost(g, wi, why);
        }
    }
    r->n_to_flush = 0;
}

/* Call items worker w may still take: the window minus what it has in flight. */
static int room(const hpool__run *r, const hpool__worker *w)
{
    if (w->lost)
        return 0;
    int window = r->ex->auto_window && w->earned < r->window ? w->earned : r->window;
    int room = window - w->in_flight;
    return room > 0 ? room : 0;
}

/* Ready queue entries are worker indices + 1 (a queue holds pointers, never NULL). */
static void *as_entry(int wi)
{
    return (void *)(intptr_t)(wi + 1);
}

void hpool__ready_offer(hpool__run *r, int wi)
{
    hpool__worker *w = &r->w[wi];
    if (w->in_ready || room(r, w) == 0)
        return;
    /* Out of memory: the worker waits for its next result to be offered again, or for
     * the window to grow; nothing is lost. */
    if (hpool__queue_push(&r->ready, as_entry(wi)) == 0)
        w->in_ready = true;
}

/* The queue ran out of work. Workers that now hold nothing start over at CPython's depth
 * and earn more, result by result, from the next work on: the depth they earned belongs
 * to the tasks that are gone, and the next ones may be longer (1 us tasks, then 20 ms
 * ones) — 64 of those queued per worker could no longer be cancelled. Workers still
 * busy keep theirs, so a stream that briefly runs dry loses nothing. Walks the ready
 * queue once per dry spell, not per pass. */
static void went_dry(hpool__run *r)
{
    if (r->dry)
        return;
    r->dry = true;
    for (size_t k = 0; k < hpool__queue_len(&r->ready); k++) {
        hpool__worker *w = &r->w[(int)(intptr_t)hpool__queue_at(&r->ready, k) - 1];
        if (w->in_flight == 0)
            w->earned = HPOOL__WINDOW_MIN;
    }
}

/* Call items a pass carves under one hold of the lock before it lets other threads (a
 * submitting one, say) have it for a moment. A holder can be preempted on a node with
 * more busy threads than cores: at 32, 4*10^5 submits with 2 workers on 2 cores took
 * 0.16-0.24 s, at 8 0.14-0.17 s (0.03 s with 1 worker either way). */
#define PASS_ITEMS_PER_HOLD 8

int hpool__dispatch(hpool__mgr *g)
{
    hpool__run *r = &g->run;
    int sent = 0;
    double t_pass = -1;
    /* Workers with room wait in a queue, each once: a pass takes the one that waited
     * longest, gives it one call item and puts it back at the end while it has room.
     * So a burst of work spreads over all workers, one item each in turn, and a worker
     * that just returned a result (room again) is served after the others that had room
     * before, as CPython's idle workers take from the shared call queue first. The cost
     * of a pass is per call item sent, not per worker. The pass carves under one hold of
     * the library lock (taken at the first worker with room, given up for a moment every
     * PASS_ITEMS_PER_HOLD items), not one per call item. */
    bool locked = false;
    int held_items = 0;
    void *e;
    while ((e = hpool__queue_pop(&r->ready)) != NULL) {
        int wi = (int)(intptr_t)e - 1;
        hpool__worker *w = &r->w[wi];
        w->in_ready = false;
        if (room(r, w) == 0)
            continue; /* lost, or its window shrank: offered again after a result */
        if (locked && held_items >= PASS_ITEMS_PER_HOLD) {
            hpool__unlock();
            locked = false;
        }
        if (!locked) {
            hpool__lock();
            locked = true;
            held_items = 0;
        }
        int rc = dispatch_one_locked(g, wi, &t_pass);
        if (rc < 0) {
            hpool__unlock(); /* losing a worker takes the lock itself */
            locked = false;
            char why[HPOOL__MSG_MAX];
            snprintf(why, sizeof why, "dispatch to rank %d failed: %s", w->rank,
                     hpool_strerror(rc));
            hpool__worker_lost(g, wi, why);
            sent++;
            continue;
        }
        if (rc == 0 && w->in_flight > 0 && hpool__executor_has_work_locked(r->ex)) {
            /* Work waits but a map refused it to this worker (a decreasing schedule holds
             * a busy worker to its share, AUTO to one probe): the pass goes on to the
             * next worker, and this one leaves the queue until its next result offers it
             * again, so a refusal costs one look, not one per pass. */
            continue;
        }
        if (rc == 0) {
            /* No work now: it keeps its turn for when work comes. */
            if (hpool__queue_requeue(&r->ready, e) == 0)
                w->in_ready = true;
            went_dry(r);
            break;
        }
        r->dry = false;
        sent++;
        held_items++;
        hpool__ready_offer(r, wi);
    }
    if (locked)
        hpool__unlock();
    flush(g);
    return sent;
}

static bool head_valid(const void *ctx, const hpool__timer *t)
{
    const hpool__run *r = ctx;
    const hpool__worker *w = &r->w[t->worker];
    return !w->lost && w->in_flight > 0 && t->seq == w->head_seq;
}

void hpool__head_changed(hpool__run *r, int wi, double t)
{
    hpool__worker *w = &r->w[wi];
    w->head_seq++;
    if (t < 0)
        return;
    /* Each worker has at most one valid entry per heap; stale ones are dropped when read,
     * and all at once when a heap outgrows four per worker (amortised O(1) per push). */
    size_t bound = 4 * (size_t)r->n_workers + 64;
    if (r->heads.n > bound)
        hpool__timers_compact(&r->heads, head_valid, r);
    if (r->deadlines.n > bound)
        hpool__timers_compact(&r->deadlines, head_valid, r);
    w->t_head = t;
    /* Out of memory for a timer: idle sleeps poll instead, and a timeout is noticed at
     * the worker's next head (the heaps only lose the entry). The heads matter only to
     * the manager's sleep between long call items (idle_sleep): short ones skip the heap. */
    if (r->chunk_time_ewma > HPOOL__WINDOW_COVER_MIN_S)
        hpool__timers_push(&r->heads, t, wi, w->head_seq);
    if (r->ex->task_timeout_s > 0) {
        int k = -1;
        for (int s = 0; s < r->prefetch; s++)
            if (w->slots[s].busy && (k < 0 || w->slots[s].chunk_id < w->slots[k].chunk_id))
                k = s;
        uint32_t items = k < 0 ? 1 : (w->slots[k].chunk ? w->slots[k].chunk->count
                                                        : w->slots[k].n_futs);
        hpool__timers_push(&r->deadlines, t + r->ex->task_timeout_s * (items ? items : 1), wi,
                           w->head_seq);
    }
}

double hpool__first_head(hpool__run *r)
{
    const hpool__timer *t;
    while ((t = hpool__timers_top(&r->heads)) != NULL) {
        const hpool__worker *w = &r->w[t->worker];
        if (!w->lost && w->in_flight > 0 && t->seq == w->head_seq)
            return t->at;
        hpool__timers_pop(&r->heads);
    }
    return INFINITY;
}

/* Call items in flight over all the workers of an adaptive window, at most; each worker
 * keeps at least CPython's depth whatever their number. Every call item in flight is an
 * MPI send that stays incomplete until its worker takes it up. Open MPI's shared-memory
 * transport has 512 send fragments per process (btl_vader_free_list_max) besides its 32
 * fast boxes; past them ob1 puts each further send on a pending list and walks that whole
 * list, with two mutex operations an entry, on every progress call, i.e. on every
 * MPI_Improbe of the manager. Measured (docs/SCALING.md): at 128 workers earning 64 each
 * (8,192 sends in flight) the manager's CPU per chunk was 3-5x its 2-worker figure, over
 * half of it in mca_pml_ob1_progress and its mutexes, and a raw MPI farm 64 deep paid the
 * same. 256 leaves half of those fragments to spare and still lets up to 4 workers earn
 * the full 64; where the manager is the bottleneck (tiny tasks on many workers) a deeper
 * queue at the workers would not feed them faster. An explicit prefetch is not capped. */
#define WINDOW_BUDGET 256

void hpool__window_on_result(hpool__run *r, hpool__worker *w, double task_s, double late_s)
{
    r->chunk_time_ewma += HPOOL__EWMA_GAIN * (task_s - r->chunk_time_ewma);
    if (late_s >= 0)
        r->result_delay_ewma += HPOOL__EWMA_GAIN * (late_s - r->result_delay_ewma);
    if (!r->ex->auto_window)
        return;
    /* Keep enough work queued at each worker to cover the round trip and the manager's
     * lateness, and no more: small enough to keep dynamic schedules dynamic and pending
     * futures cancellable when tasks are long (then the window is CPython's depth). */
    double cover = fmax(HPOOL__WINDOW_COVER_MIN_S, HPOOL__WINDOW_COVER_FACTOR * r->result_delay_ewma);
    double depth = cover / (r->chunk_time_ewma > 1e-7 ? r->chunk_time_ewma : 1e-7);
    /* A wider window reaches the other busy workers at their next result (the caller
     * offers each worker after its result), so no walk over the workers here. */
    r->window = depth >= r->prefetch ? r->prefetch
                                     : (depth < HPOOL__WINDOW_MIN ? HPOOL__WINDOW_MIN
                                                                  : (int)depth + 1);
    int share = r->n_workers > 0 ? WINDOW_BUDGET / r->n_workers : WINDOW_BUDGET;
    int cap = share > HPOOL__WINDOW_MIN ? share : HPOOL__WINDOW_MIN;
    if (r->window > cap)
        r->window = cap;
    /* Each worker earns its depth: one more call item per result it returns (a doubling
     * per round trip), back to CPython's depth when the work ran out while it held
     * nothing (went_dry). The window above follows the smoothed task time of the results
     * so far; this keeps work submitted after a change of task length (1 us tasks, then
     * 20 ms ones) from being queued 64 deep before the first of its results could tell. */
    if (w->in_flight == 0 && r->dry)
        w->earned = HPOOL__WINDOW_MIN; /* its last call item of work that ran out */
    else if (w->earned < r->prefetch)
        w->earned++;
}
