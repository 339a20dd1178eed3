/* Dispatch (manager thread): carving call items from the submission queue, from map
 * chunks to be sent again and from maps, into the call slots of workers whose window has
 * room, and sending them. CPython's add_call_item_to_queue. Also the window: how many
 * call items each worker may hold. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgr.h"
#include "policy.h"
#include "sync.h"

static int build_call(hpool__mgr *g, hpool__slot *s, int slot_idx, int task)
{
    hpool__wire_hdr *h = hpool__buf_begin(&s->send, HPOOL__MSG_CALL, g->run.ex->id);
    if (h == NULL)
        return HPOOL_ENOMEM;
    h->slot = slot_idx;
    h->chunk_id = s->chunk_id;
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

/* Fill one free slot of worker wi. Returns 1 if a call item was sent, 0 if there was no
 * work, <0 on error. */
static int dispatch_one(hpool__mgr *g, int wi)
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
    hpool__lock();
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
    /* Map items are copied under the lock: a generator's ring slots are reused as soon
     * as the consumer has taken enough results, which it could do right after carving. */
    int rc = s->chunk ? build_call(g, s, slot_idx, task) : 0;
    hpool__unlock();
    if (task < 0)
        return 0;
    r->next_chunk_id++;
    if (rc == 0 && !s->chunk)
        rc = build_call(g, s, slot_idx, task);
    s->t_dispatch = hpool__now();
    if (rc == 0 && MPI_Isend(s->send.data, (int)s->send.len, MPI_BYTE, w->rank,
                             HPOOL__TAG_TO_WORKER, g->comm, &s->req) != MPI_SUCCESS)
        rc = HPOOL_EMPI;
    /* From here the slot holds the work, sent or not: a failure loses this worker (its
     * slots, this one included, go back to the others or fail). */
    if (w->in_flight == 0)
        w->t_head = s->t_dispatch; /* its first call item starts now */
    s->busy = true;
    w->in_flight++;
    r->inflight++;
    if (rc != 0)
        return rc;
    r->bytes_sent += s->send.len;
    return 1;
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

int hpool__dispatch(hpool__mgr *g)
{
    hpool__run *r = &g->run;
    int sent = 0;
    bool any = true;
    /* Round robin, one slot per worker per pass, so that a burst of work spreads over
     * all workers instead of filling the first worker's slots first. A pass serves only
     * the workers with the most room: an idle worker gets the next call item before a
     * busy worker's prefetch slot does, as CPython's idle workers take from the shared
     * call queue first. */
    while (any) {
        any = false;
        int most = 0;
        for (int k = 0; k < r->n_workers; k++)
            most = room(r, &r->w[k]) > most ? room(r, &r->w[k]) : most;
        for (int k = 0; k < r->n_workers && most > 0; k++) {
            int wi = (r->rr + k) % r->n_workers;
            if (room(r, &r->w[wi]) < most)
                continue;
            int rc = dispatch_one(g, wi);
            if (rc < 0) {
                char why[HPOOL__MSG_MAX];
                snprintf(why, sizeof why, "dispatch to rank %d failed: %s", r->w[wi].rank,
                         hpool_strerror(rc));
                hpool__worker_lost(g, wi, why);
                return sent + 1;
            }
            if (rc == 0)
                return sent;
            sent++;
            any = true;
        }
        r->rr = (r->rr + 1) % r->n_workers;
    }
    return sent;
}

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
    r->window = depth >= r->prefetch ? r->prefetch
                                     : (depth < HPOOL__WINDOW_MIN ? HPOOL__WINDOW_MIN
                                                                  : (int)depth + 1);
    /* Each worker earns its depth: one more call item per result it returns (a doubling
     * per round trip), back to CPython's depth whenever it runs dry. The window above
     * follows the smoothed task time of the results so far; this keeps work submitted
     * after a change of task length (1 us tasks, then 20 ms ones) from being queued 64
     * deep before the first of its results could tell. */
    if (w->in_flight == 0)
        w->earned = HPOOL__WINDOW_MIN;
    else if (w->earned < r->prefetch)
        w->earned++;
}
