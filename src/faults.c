/* Losing a worker (manager thread only): a task crashed on it, it overran the task
 * timeout, or it sent a message that does not parse. Its call items in flight go back to
 * the others, up to the executor's retry limit; past the limit their futures fail with
 * HPOOL_EBROKEN and the reason. CPython breaks the whole pool on the first dead worker;
 * here the run finishes on the survivors and only when none is left does every pending
 * future fail with HPOOL_EBROKEN. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor.h"

int hpool__hung_rank;
char hpool__hung_msg[HPOOL__MSG_MAX];

/* Send buffers of call items that a lost worker never received. MPI may still read them,
 * so they are freed only at hpool_finalize (a few per lost worker). */
typedef struct orphan {
    hpool__buf buf;
    struct orphan *next;
} orphan;
static orphan *orphans;

void hpool__orphans_free(void)
{
    while (orphans) {
        orphan *n = orphans->next;
        hpool__buf_free(&orphans->buf);
        free(orphans);
        orphans = n;
    }
}

static void release_send(hpool__slot *s)
{
    int done = 0;
    MPI_Test(&s->req, &done, MPI_STATUS_IGNORE);
    if (done)
        return;
    /* A hung worker will never match this send: let MPI drop the request and keep the
     * buffer alive for whatever MPI still does with it. */
    MPI_Request_free(&s->req);
    orphan *o = calloc(1, sizeof *o);
    if (o == NULL)
        return; /* leaking the buffer is the only safe choice left */
    o->buf = s->send;
    o->next = orphans;
    orphans = o;
    memset(&s->send, 0, sizeof s->send);
}

int hpool__fake_result(hpool__map_chunk *c, int32_t status, const char *msg, void **out,
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

/* A map chunk that will not be retried: its items fail with `code`. g.lock held. */
static void fail_map_chunk_locked(hpool_map_iter *m, hpool__map_chunk *c, int code,
                                  const char *why, int rank)
{
    void *msg = NULL;
    size_t len = 0;
    if (hpool__fake_result(c, code, why, &msg, &len) != 0)
        return; /* out of memory: the map then reports the executor broken */
    hpool__map_chunk_done_locked(m, c, msg, len, rank);
    m->inflight--;
}

static void retry_push(hpool_executor *ex, hpool_map_iter *m, hpool__map_chunk *c)
{
    hpool__retry *r = calloc(1, sizeof *r);
    if (r == NULL)
        return;
    r->map = m;
    r->chunk = c;
    if (ex->retry_tail)
        ex->retry_tail->next = r;
    else
        ex->retry_head = r;
    ex->retry_tail = r;
}

hpool__retry *hpool__retry_pop(hpool_executor *ex)
{
    hpool__retry *r = ex->retry_head;
    if (r) {
        ex->retry_head = r->next;
        if (ex->retry_head == NULL)
            ex->retry_tail = NULL;
    }
    return r;
}

void hpool__retry_fail_all(hpool_executor *ex, const char *why)
{
    hpool__retry *r;
    pthread_mutex_lock(&hpool__g.lock);
    while ((r = hpool__retry_pop(ex)) != NULL) {
        fail_map_chunk_locked(r->map, r->chunk, HPOOL_EBROKEN, why, -1);
        free(r);
    }
    hpool__notify_done_locked();
    pthread_mutex_unlock(&hpool__g.lock);
}

/* Give a lost slot's work back (or fail it). `code` is HPOOL_EBROKEN for crashes and
 * HPOOL_ETIMEDOUT for the item that overran its timeout (never retried: it would hang
 * the next worker too). */
static void requeue_slot(hpool_executor *ex, hpool__slot *s, int rank, int code,
                         const char *why)
{
    hpool_future *run_later = NULL;
    bool retry_ok = code == HPOOL_EBROKEN;
    pthread_mutex_lock(&hpool__g.lock);
    if (s->map) {
        if (retry_ok && s->map_chunk->retries < ex->retry_limit && !ex->broken) {
            s->map_chunk->retries++;
            retry_push(ex, s->map, s->map_chunk); /* still counted in map->inflight */
        } else {
            fail_map_chunk_locked(s->map, s->map_chunk, code, why, rank);
        }
    } else {
        /* Back to the front of the queue, in their original order. */
        for (uint32_t i = s->n_futs; i-- > 0;) {
            hpool_future *f = s->futs[i];
            if (retry_ok && f->retries < ex->retry_limit && !ex->broken) {
                f->retries++;
                f->state = HPOOL__F_PENDING;
                f->next = ex->q_head;
                ex->q_head = f;
                if (ex->q_tail == NULL)
                    ex->q_tail = f;
                ex->q_len++;
            } else {
                hpool__future_finish_locked(f, code, 0, rank, NULL, 0, why, &run_later);
            }
        }
    }
    hpool__notify_done_locked();
    pthread_mutex_unlock(&hpool__g.lock);
    hpool__future_run_callbacks(run_later);
    s->busy = false;
    s->n_futs = 0;
    s->map = NULL;
    ex->inflight--;
}

static void note_lost(hpool_executor *ex, int rank)
{
    if (ex->lost_count < 8) {
        ex->lost_rank[ex->lost_count] = rank;
        ex->lost_at[ex->lost_count] = hpool__now() - ex->t_created;
    }
    ex->lost_count++;
}

/* Fail or re-queue everything worker wi had; `head` (or -1) gets `head_code`. */
static void lose(hpool_executor *ex, int wi, int head, int head_code, const char *why)
{
    hpool__worker_state *w = &ex->w[wi];
    if (w->lost)
        return;
    w->lost = true;
    w->free_slots = 0;
    ex->live_workers--;
    note_lost(ex, w->rank);
    hpool__g.rank_lost[w->rank] = true;
    fprintf(stderr, "hpool: worker rank %d lost at %.3f s: %s\n", w->rank,
            hpool__now() - ex->t_created, why);
    for (int k = 0; k < ex->prefetch; k++) {
        hpool__slot *s = &w->slots[k];
        if (!s->busy)
            continue;
        release_send(s);
        requeue_slot(ex, s, w->rank, k == head ? head_code : HPOOL_EBROKEN, why);
    }
    if (ex->live_workers == 0) {
        char msg[HPOOL__MSG_MAX];
        snprintf(msg, sizeof msg, "no worker left; the last one was lost: %s", why);
        hpool__retry_fail_all(ex, msg);
        hpool_future *run_later = NULL;
        pthread_mutex_lock(&hpool__g.lock);
        hpool__executor_break_locked(ex, msg, &run_later);
        pthread_mutex_unlock(&hpool__g.lock);
        hpool__future_run_callbacks(run_later);
    }
}

void hpool__worker_lost(hpool_executor *ex, int wi, const char *why)
{
    lose(ex, wi, -1, HPOOL_EBROKEN, why);
}

static void note_hung(int rank, const char *why);

/* The busy slot that has run longest: the one with the smallest chunk id. */
static int head_slot(const hpool_executor *ex, const hpool__worker_state *w)
{
    int head = -1;
    for (int k = 0; k < ex->prefetch; k++)
        if (w->slots[k].busy && (head < 0 || w->slots[k].chunk_id < w->slots[head].chunk_id))
            head = k;
    return head;
}

int hpool__check_timeouts(hpool_executor *ex)
{
    if (ex->task_timeout_s <= 0)
        return 0;
    double now = hpool__now();
    int lost = 0;
    for (int i = 0; i < ex->n_workers; i++) {
        hpool__worker_state *w = &ex->w[i];
        int head = w->lost ? -1 : head_slot(ex, w);
        if (head < 0)
            continue;
        uint32_t items = w->slots[head].map ? w->slots[head].count : w->slots[head].n_futs;
        double allowed = ex->task_timeout_s * (items ? items : 1);
        if (now - w->t_head <= allowed)
            continue;
        char why[HPOOL__MSG_MAX];
        snprintf(why, sizeof why,
                 "task '%s' ran past its timeout of %g s per item on rank %d (call item of "
                 "%u items, %.3f s); the rank is stuck and left out",
                 hpool__task_name(w->slots[head].map ? w->slots[head].map->task
                                                     : w->slots[head].futs[0]->task),
                 ex->task_timeout_s, w->rank, items, now - w->t_head);
        note_hung(w->rank, why);
        lose(ex, i, head, HPOOL_ETIMEDOUT, why);
        lost++;
    }
    return lost;
}

/* Record the first stuck rank: hpool_finalize cannot wait for it in MPI_Finalize. */
static void note_hung(int rank, const char *why)
{
    if (hpool__hung_rank == 0) {
        hpool__hung_rank = rank;
        snprintf(hpool__hung_msg, sizeof hpool__hung_msg, "%s", why);
    }
}

int hpool__check_ack_timeouts(hpool_executor *ex)
{
    if (ex->w == NULL || hpool__now() - ex->t_phase <= hpool__g.worker_timeout_s)
        return 0;
    bool starting = ex->phase == HPOOL__X_STARTING;
    int lost = 0;
    for (int i = 0; i < ex->n_workers; i++) {
        hpool__worker_state *w = &ex->w[i];
        if (w->lost || w->acked)
            continue;
        char why[HPOOL__MSG_MAX];
        snprintf(why, sizeof why,
                 "rank %d did not acknowledge %s within %g s (worker_timeout_s)%s; the rank "
                 "is stuck and left out",
                 w->rank, starting ? "the executor start" : "the executor stop",
                 hpool__g.worker_timeout_s,
                 starting && ex->initializer >= 0 ? ": its initializer does not return" : "");
        note_hung(w->rank, why);
        lose(ex, i, -1, HPOOL_EBROKEN, why);
        lost++;
    }
    return lost;
}
