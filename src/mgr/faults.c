/* Losing a worker (manager thread only): a task or the initializer crashed on it, it
 * overran the task timeout, it did not answer a start or stop, or it sent a message that
 * does not parse. Its call items in flight go back to the others, up to the executor's
 * retry limit; past the limit their futures fail with HPOOL_EBROKEN and the reason.
 * CPython breaks the whole pool on the first dead worker; here the run finishes on the
 * survivors and only when none is left does every pending future fail with
 * HPOOL_EBROKEN. The rank stays lost for later executors (proc.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgr.h"
#include "proc.h"
#include "registry.h"
#include "sync.h"

void hpool__orphans_free(hpool__mgr *g)
{
    while (g->orphans) {
        hpool__orphan *n = g->orphans->next;
        hpool__buf_free(&g->orphans->buf);
        free(g->orphans);
        g->orphans = n;
    }
}

void hpool__orphan_keep(void *ctx, hpool__buf *b)
{
    hpool__mgr *g = ctx;
    hpool__orphan *o = calloc(1, sizeof *o);
    if (o != NULL) { /* else leaking the buffer is the only safe choice left */
        o->buf = *b;
        o->next = g->orphans;
        g->orphans = o;
    }
    memset(b, 0, sizeof *b);
}

static void release_send(hpool__mgr *g, hpool__slot *s)
{
    int done = 0;
    MPI_Test(&s->req, &done, MPI_STATUS_IGNORE);
    if (done)
        return;
    /* A hung worker will never match this send: let MPI drop the request and keep the
     * buffer alive for whatever MPI still does with it. */
    MPI_Request_free(&s->req);
    hpool__orphan_keep(g, &s->send);
}

void hpool__again_fail_all(hpool__mgr *g, const char *why)
{
    hpool__map_chunk *c;
    hpool__lock();
    while ((c = hpool__queue_pop(&g->run.again)) != NULL)
        hpool__map_on_lost_locked(c, false, 0, NULL, HPOOL_EBROKEN, why, -1);
    hpool__notify_locked();
    hpool__unlock();
}

/* Give a lost slot's work back (or fail it). `code` is HPOOL_EBROKEN for crashes and
 * HPOOL_ETIMEDOUT for the item that overran its timeout (never retried: it would hang
 * the next worker too). */
static void requeue_slot(hpool__mgr *g, hpool__slot *s, int rank, int code, const char *why)
{
    hpool__run *r = &g->run;
    hpool_executor *ex = r->ex;
    hpool_future *run_later = NULL;
    hpool__lock();
    bool retry = code == HPOOL_EBROKEN && !ex->broken;
    if (s->chunk) {
        hpool__map_on_lost_locked(s->chunk, retry, ex->retry_limit, &r->again, code, why, rank);
    } else {
        /* Back to the front of the queue, in their original order. */
        for (uint32_t i = s->n_futs; i-- > 0;) {
            hpool_future *f = s->futs[i];
            if (retry && hpool__future_take_retry_locked(f, ex->retry_limit) &&
                hpool__executor_requeue_locked(ex, f) == 0)
                continue;
            hpool__future_finish_locked(f, code, 0, rank, NULL, 0, why, &run_later);
        }
    }
    hpool__notify_locked();
    hpool__wake_manager_locked();
    hpool__unlock();
    hpool__future_callbacks_from_progress(run_later);
    s->busy = false;
    s->n_futs = 0;
    s->chunk = NULL;
    r->inflight--;
}

/* Fail or re-queue everything worker wi had; slot `head` (or -1) gets `head_code`. */
static void lose(hpool__mgr *g, int wi, int head, int head_code, const char *why)
{
    hpool__run *r = &g->run;
    hpool__worker *w = &r->w[wi];
    if (w->lost)
        return;
    w->lost = true;
    if (!w->acked)
        r->acks_pending--; /* it will not acknowledge the start or stop under way */
    r->live_workers--;
    r->lost_rank[r->lost_n] = w->rank;
    r->lost_at[r->lost_n] = hpool__now() - r->ex->t_created;
    r->lost_n++;
    hpool__proc_mark_lost(w->rank);
    fprintf(stderr, "hpool: worker rank %d lost at %.3f s: %s\n", w->rank,
            hpool__now() - r->ex->t_created, why);
    for (int k = 0; k < r->prefetch; k++) {
        hpool__slot *s = &w->slots[k];
        if (!s->busy)
            continue;
        release_send(g, s);
        requeue_slot(g, s, w->rank, k == head ? head_code : HPOOL_EBROKEN, why);
    }
    hpool__send_ring_abandon(&w->bundles, hpool__orphan_keep, g);
    w->n_unsent = 0; /* given back above; the pass's flush skips a lost worker */
    w->in_flight = 0;
    hpool__head_changed(r, wi, -1);
    if (r->live_workers == 0)
        hpool__run_break(g, "no worker left; the last one was lost: %s", why);
}

void hpool__worker_lost(hpool__mgr *g, int wi, const char *why)
{
    lose(g, wi, -1, HPOOL_EBROKEN, why);
}

/* The busy slot that has run longest: the one with the smallest chunk id. */
static int head_slot(const hpool__run *r, const hpool__worker *w)
{
    int head = -1;
    for (int k = 0; k < r->prefetch; k++)
        if (w->slots[k].busy && (head < 0 || w->slots[k].chunk_id < w->slots[head].chunk_id))
            head = k;
    return head;
}

int hpool__check_timeouts(hpool__mgr *g)
{
    hpool__run *r = &g->run;
    hpool_executor *ex = r->ex;
    if (ex->task_timeout_s <= 0)
        return 0;
    double now = hpool__now();
    int lost = 0;
    const hpool__timer *t;
    /* The earliest deadline first; entries of heads that changed since are dropped. */
    while ((t = hpool__timers_top(&r->deadlines)) != NULL) {
        int i = t->worker;
        hpool__worker *w = &r->w[i];
        if (w->lost || w->in_flight == 0 || t->seq != w->head_seq) {
            hpool__timers_pop(&r->deadlines);
            continue;
        }
        if (now <= t->at)
            break;
        hpool__timers_pop(&r->deadlines);
        int head = head_slot(r, w);
        const hpool__slot *s = &w->slots[head];
        uint32_t items = s->chunk ? s->chunk->count : s->n_futs;
        char why[HPOOL__MSG_MAX];
        snprintf(why, sizeof why,
                 "task '%s' ran past its timeout of %g s per item on rank %d (call item of "
                 "%u items, %.3f s); the rank is stuck and left out",
                 hpool__task_name(s->chunk ? s->chunk->map->task : s->futs[0]->task),
                 ex->task_timeout_s, w->rank, items, now - w->t_head);
        hpool__proc_note_stuck(w->rank, why);
        lose(g, i, head, HPOOL_ETIMEDOUT, why);
        lost++;
    }
    return lost;
}

int hpool__check_ack_timeouts(hpool__mgr *g)
{
    hpool__run *r = &g->run;
    double timeout = hpool__proc_worker_timeout();
    if (r->w == NULL || hpool__now() - r->t_phase <= timeout)
        return 0;
    bool starting = r->phase == HPOOL__X_STARTING;
    int lost = 0;
    for (int i = 0; i < r->n_workers; i++) {
        hpool__worker *w = &r->w[i];
        if (w->lost || w->acked)
            continue;
        char why[HPOOL__MSG_MAX];
        snprintf(why, sizeof why,
                 "rank %d did not acknowledge %s within %g s (worker_timeout_s)%s; the rank "
                 "is stuck and left out",
                 w->rank, starting ? "the executor start" : "the executor stop", timeout,
                 starting && r->ex->initializer >= 0 ? ": its initializer does not return" : "");
        hpool__proc_note_stuck(w->rank, why);
        lose(g, i, -1, HPOOL_EBROKEN, why);
        lost++;
    }
    return lost;
}
