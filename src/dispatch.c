/* Dispatch (rank 0's manager thread): carving call items from the submission queue, from
 * re-queued map chunks and from maps, into the call slots of workers whose window has
 * room, and sending them. CPython's add_call_item_to_queue. */
#include <stdlib.h>
#include <string.h>

#include "executor.h"

/* Take up to submit_batch pending futures for a slot. g.lock held. */
static uint32_t carve_futures_locked(hpool_executor *ex, hpool__slot *s)
{
    uint32_t n = 0;
    while (ex->q_head && n < (uint32_t)ex->submit_batch) {
        hpool_future *f = ex->q_head;
        ex->q_head = f->next;
        if (ex->q_head == NULL)
            ex->q_tail = NULL;
        ex->q_len--;
        f->next = NULL;
        if (f->state == HPOOL__F_CANCELLED) {
            hpool__future_drop_ref_locked(f);
            continue;
        }
        f->state = HPOOL__F_RUNNING;
        s->futs[n++] = f;
    }
    return n;
}

/* Carve a map chunk for worker index wi. g.lock held. */
static bool carve_map_locked(hpool_executor *ex, hpool__slot *s, int wi)
{
    hpool_map_iter *prev = NULL;
    for (hpool_map_iter *m = ex->maps_head, *next; m; m = next) {
        next = m->next_in_ex;
        s->map_chunk = hpool__map_carve_locked(m, wi, &s->first, &s->count);
        if (s->map_chunk) {
            s->map = m;
            m->inflight++;
            /* Move it to the tail so that several maps share the workers. */
            if (next) {
                if (prev)
                    prev->next_in_ex = next;
                else
                    ex->maps_head = next;
                m->next_in_ex = NULL;
                ex->maps_tail->next_in_ex = m;
                ex->maps_tail = m;
            }
            return true;
        }
        /* Waiting for input or buffer room (items not carved yet, more may come): it
         * stays queued, and the maps behind it get their turn meanwhile. */
        if (m->carved < m->limit && !(m->input_ended && m->carved >= m->n)) {
            prev = m;
            continue;
        }
        /* Everything carved: it leaves the queue. */
        if (prev)
            prev->next_in_ex = next;
        else
            ex->maps_head = next;
        if (ex->maps_tail == m)
            ex->maps_tail = prev;
        m->next_in_ex = NULL;
        m->queued = false;
    }
    return false;
}

static int build_call(hpool_executor *ex, hpool__slot *s, int slot_idx, int task)
{
    hpool__wire_call *h = hpool__buf_begin_call(&s->send, ex->id);
    if (h == NULL)
        return HPOOL_ENOMEM;
    h->slot = (uint16_t)slot_idx; /* < prefetch <= HPOOL__MAX_WINDOW */
    h->chunk_id = (uint32_t)s->chunk_id;
    h->task = task;
    h->count = s->map ? s->count : s->n_futs;
    h->first_item = s->map ? s->first : s->futs[0]->seq;
    if (s->map) {
        h->item_size = (uint32_t)s->map->item_size;
        return hpool__map_copy_items(s->map, s->first, s->count, &s->send);
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
static int dispatch_one(hpool_executor *ex, int wi)
{
    hpool__worker_state *w = &ex->w[wi];
    int slot_idx = 0;
    while (w->slots[slot_idx].busy)
        slot_idx++;
    hpool__slot *s = &w->slots[slot_idx];
    s->map = NULL;
    s->map_chunk = NULL;
    int task = -1;
    s->chunk_id = ex->next_chunk_id;
    hpool__retry *retry = hpool__retry_pop(ex);
    pthread_mutex_lock(&hpool__g.lock);
    s->n_futs = ex->broken || retry ? 0 : carve_futures_locked(ex, s);
    if (s->n_futs > 0) {
        task = s->futs[0]->task;
        /* A call item carries one task: stop the batch at the first different one. */
        uint32_t same = 1;
        while (same < s->n_futs && s->futs[same]->task == task)
            same++;
        for (uint32_t i = s->n_futs; i-- > same;) {
            hpool_future *f = s->futs[i];
            f->state = HPOOL__F_PENDING;
            f->next = ex->q_head;
            ex->q_head = f;
            if (ex->q_tail == NULL)
                ex->q_tail = f;
            ex->q_len++;
        }
        s->n_futs = same;
        s->t_submit = s->futs[0]->t_submit;
    } else if (retry) {
        s->map = retry->map;
        s->map_chunk = retry->chunk;
        s->first = retry->chunk->first;
        s->count = retry->chunk->count;
        task = s->map->task;
        s->t_submit = s->map->t_created;
        free(retry);
    } else if (!ex->broken && carve_map_locked(ex, s, wi)) {
        task = s->map->task;
        s->t_submit = s->map->t_created;
    }
    /* Map items are copied under the lock: a generator's ring slots are reused as soon
     * as the consumer has taken enough results, which it could do right after carving. */
    int rc = s->map ? build_call(ex, s, slot_idx, task) : 0;
    pthread_mutex_unlock(&hpool__g.lock);
    if (task < 0)
        return 0;
    ex->next_chunk_id++;
    if (rc == 0 && !s->map)
        rc = build_call(ex, s, slot_idx, task);
    if (rc != 0)
        return rc;
    s->t_dispatch = hpool__now();
    if (w->free_slots == ex->prefetch)
        w->t_head = s->t_dispatch; /* its first call item starts now */
    if (MPI_Isend(s->send.data, (int)s->send.len, MPI_BYTE, w->rank, HPOOL__TAG_TO_WORKER,
                  hpool__g.comm, &s->req) != MPI_SUCCESS)
        return HPOOL_EMPI;
    ex->bytes_sent += s->send.len;
    s->busy = true;
    w->free_slots--;
    ex->inflight++;
    return 1;
}

/* Call items worker w may still take: the window minus what it has in flight. */
static int room(const hpool_executor *ex, const hpool__worker_state *w)
{
    if (w->lost)
        return 0;
    int r = ex->window - (ex->prefetch - w->free_slots);
    return r > 0 ? r : 0;
}

int hpool__dispatch(hpool_executor *ex, int *failed_worker)
{
    int sent = 0;
    bool any = true;
    /* Round robin, one slot per worker per pass, so that a burst of work spreads over
     * all workers instead of filling the first worker's slots first. A pass serves only
     * the workers with the most free slots: an idle worker gets the next call item before
     * a busy worker's prefetch slot does, as CPython's idle workers take from the shared
     * call queue first. */
    while (any) {
        any = false;
        int most = 0;
        for (int k = 0; k < ex->n_workers; k++)
            most = room(ex, &ex->w[k]) > most ? room(ex, &ex->w[k]) : most;
        for (int k = 0; k < ex->n_workers; k++) {
            int wi = (ex->rr + k) % ex->n_workers;
            if (room(ex, &ex->w[wi]) == 0 || room(ex, &ex->w[wi]) < most)
                continue;
            int rc = dispatch_one(ex, wi);
            if (rc < 0) {
                *failed_worker = wi;
                return rc;
            }
            if (rc == 0)
                return sent;
            sent++;
            any = true;
        }
        ex->rr = (ex->rr + 1) % ex->n_workers;
    }
    return sent;
}
