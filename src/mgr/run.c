/* Starting and stopping an executor on the worker ranks (manager thread): START and its
 * acks, the clock syncs at start and end, STOP, and handing the statistics back. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clocksync.h"
#include "mgr.h"
#include "placement.h" /* hpool__startup_mark_ready */
#include "policy.h"
#include "proc.h"
#include "records.h"
#include "sync.h"
#include "topology.h" /* hpool__topo_host_of */

int hpool__send_small(hpool__mgr *g, int rank, int type, int exec_id, int32_t task,
                      const void *payload, size_t len, uint32_t count, int32_t level)
{
    hpool__buf b = {0};
    hpool__wire_hdr *h = hpool__buf_begin(&b, type, exec_id);
    if (h == NULL)
        return HPOOL_ENOMEM;
    h->task = task;
    h->count = count;
    h->record_level = level;
    int rc = hpool__buf_put_raw(&b, payload, len);
    if (rc == 0 && MPI_Send(b.data, (int)b.len, MPI_BYTE, rank, HPOOL__TAG_TO_WORKER,
                            g->comm) != MPI_SUCCESS)
        rc = HPOOL_EMPI;
    hpool__buf_free(&b);
    return rc;
}

/* Clocks are synced per host, all hosts at once (clocksync.h). After the start sync the
 * maps also go to clock.tsv.partial, so that the rows of a run that dies can be put on
 * rank 0's clock. */
static int sync_clocks(hpool__mgr *g, bool at_end)
{
    hpool__run *r = &g->run;
    size_t n = (size_t)(r->n_workers > 0 ? r->n_workers : 1);
    hpool__sync_peer *peers = malloc(n * sizeof *peers);
    hpool__rank_clock *clocks = malloc(n * sizeof *clocks);
    int rc = peers && clocks ? 0 : HPOOL_ENOMEM;
    for (int i = 0; rc == 0 && i < r->n_workers; i++)
        peers[i] = (hpool__sync_peer){.rank = r->w[i].rank,
                                      .host = hpool__topo_host_of(r->w[i].rank),
                                      .lost = r->w[i].lost,
                                      .map = &r->w[i].clock};
    if (rc == 0)
        rc = hpool__clocksync_run(peers, r->n_workers, r->ex->id, at_end, r->ex->t_created,
                                  &r->ex->sync);
    if (rc == 0 && !at_end && r->rec) {
        for (int i = 0; i < r->n_workers; i++)
            clocks[i] = (hpool__rank_clock){.rank = r->w[i].rank, .map = r->w[i].clock};
        hpool__records_clocks(r->rec, clocks, r->n_workers);
    }
    free(peers);
    free(clocks);
    return rc;
}

static void free_run(hpool__mgr *g)
{
    hpool__run *r = &g->run;
    for (int i = 0; r->w && i < r->n_workers; i++) {
        for (int s = 0; r->w[i].slots && s < r->prefetch; s++) {
            free(r->w[i].slots[s].futs);
            hpool__buf_free(&r->w[i].slots[s].send);
        }
        free(r->w[i].slots);
        free(r->w[i].unsent);
        /* Every live worker acked STOP after taking up the bundles before it, so their
         * sends are complete; abandoning rather than waiting keeps that an assumption
         * that cannot hang rank 0 (a send still open is orphaned until finalize). */
        hpool__send_ring_abandon(&r->w[i].bundles, hpool__orphan_keep, g);
        hpool__send_ring_free(&r->w[i].bundles);
    }
    free(r->w);
    free(r->wi_of_rank);
    free(r->to_flush);
    free(r->lost_rank);
    free(r->lost_at);
    hpool__queue_free(&r->again);
    hpool__queue_free(&r->ready);
    hpool__timers_free(&r->heads);
    hpool__timers_free(&r->deadlines);
    memset(r, 0, sizeof *r);
}

static int alloc_run(hpool__mgr *g, hpool_executor *ex)
{
    hpool__run *r = &g->run;
    memset(r, 0, sizeof *r);
    r->ex = ex;
    r->phase = HPOOL__X_STARTING;
    r->n_workers = ex->n_workers;
    r->prefetch = ex->prefetch;
    r->window = ex->auto_window ? HPOOL__WINDOW_MIN : ex->prefetch;
    r->w = calloc((size_t)r->n_workers, sizeof *r->w);
    r->wi_of_rank = malloc((size_t)g->world * sizeof *r->wi_of_rank);
    r->lost_rank = calloc((size_t)r->n_workers, sizeof *r->lost_rank);
    r->lost_at = calloc((size_t)r->n_workers, sizeof *r->lost_at);
    r->to_flush = calloc((size_t)r->n_workers, sizeof *r->to_flush);
    if (r->w == NULL || r->wi_of_rank == NULL || r->lost_rank == NULL || r->lost_at == NULL ||
        r->to_flush == NULL)
        goto nomem;
    for (int k = 0; k < g->world; k++)
        r->wi_of_rank[k] = -1;
    for (int i = 0; i < r->n_workers; i++) {
        hpool__worker *w = &r->w[i];
        w->rank = ex->ranks[i];
        w->earned = HPOOL__WINDOW_MIN;
        r->wi_of_rank[w->rank] = i;
        w->slots = calloc((size_t)r->prefetch, sizeof *w->slots);
        w->unsent = calloc((size_t)r->prefetch, sizeof *w->unsent);
        if (w->slots == NULL || w->unsent == NULL)
            goto nomem;
        for (int s = 0; s < r->prefetch; s++) {
            w->slots[s].futs = calloc((size_t)ex->submit_batch, sizeof(hpool_future *));
            w->slots[s].req = MPI_REQUEST_NULL;
            if (w->slots[s].futs == NULL)
                goto nomem;
        }
    }
    return 0;
nomem:
    /* A run with no workers: the executor breaks, and the loop ends it at once. */
    free_run(g);
    r->ex = ex;
    r->phase = HPOOL__X_STARTING;
    return HPOOL_ENOMEM;
}

int hpool__run_start(hpool__mgr *g, hpool_executor *ex)
{
    hpool__run *r = &g->run;
    int rc = alloc_run(g, ex);
    if (rc != 0)
        return rc;
    r->cpu_at_start = hpool__manager_cpu(g);
    r->t_phase = hpool__now();
    for (int i = 0; i < r->n_workers; i++) {
        hpool__worker *w = &r->w[i];
        /* A rank lost since the executor was created is not started. */
        if (hpool__proc_rank_lost(w->rank)) {
            w->lost = true;
            continue;
        }
        rc = hpool__send_small(g, w->rank, HPOOL__MSG_START, ex->id, ex->initializer,
                               ex->initargs, ex->initargs_len, (uint32_t)ex->threads,
                               (int32_t)ex->record_level);
        if (rc != 0) {
            fprintf(stderr, "hpool: worker rank %d lost: START failed: %s\n", w->rank,
                    hpool_strerror(rc));
            w->lost = true; /* it never saw this executor, and waits for nothing of it */
            hpool__proc_mark_lost(w->rank);
            continue;
        }
        r->live_workers++;
        r->acks_pending++;
    }
    if (r->live_workers == 0)
        return HPOOL_EBROKEN;
    int err = 0;
    r->rec = hpool__records_open(ex, &err);
    return err;
}

int hpool__run_started(hpool__mgr *g)
{
    hpool__run *r = &g->run;
    int rc = sync_clocks(g, false);
    r->phase = HPOOL__X_RUNNING;
    hpool__startup_mark_ready(r->ex);
    for (int i = 0; i < r->n_workers; i++)
        hpool__ready_offer(r, i);
    return rc;
}

int hpool__run_begin_stop(hpool__mgr *g)
{
    hpool__run *r = &g->run;
    int rc = sync_clocks(g, true);
    r->acks_pending = 0;
    for (int i = 0; i < r->n_workers; i++) {
        r->w[i].acked = false;
        if (r->w[i].lost)
            continue;
        r->acks_pending++;
        int src = hpool__send_small(g, r->w[i].rank, HPOOL__MSG_STOP, r->ex->id, -1, NULL, 0,
                                    0, 0);
        if (rc == 0)
            rc = src;
    }
    r->phase = HPOOL__X_STOPPING;
    r->t_phase = hpool__now();
    return rc;
}

void hpool__run_finish(hpool__mgr *g)
{
    hpool__run *r = &g->run;
    hpool_executor *ex = r->ex;
    hpool_executor_stats st;
    memset(&st, 0, sizeof st);
    st.chunks = r->chunks_done;
    st.items = r->items_done;
    st.bytes_sent = r->bytes_sent;
    st.bytes_received = r->bytes_received;
    st.messages_sent = r->messages_sent;
    st.messages_received = r->messages_received;
    st.manager_cpu_s = hpool__manager_cpu(g) - r->cpu_at_start;
    /* Start-up and the final sync are reported on their own, never in wall_s. */
    double t_run = ex->sync.t_ready > 0 ? ex->sync.t_ready : ex->t_created;
    st.wall_s = fmax(0, (r->t_last_result > 0 ? r->t_last_result : hpool__now()) - t_run);
    st.startup_s = ex->sync.startup_s;
    st.final_sync_s = ex->sync.final_sync_s;
    st.sync_cpu_s = ex->sync.cpu_s;
    st.workers = r->n_workers;
    st.lost_workers = r->lost_n;
    hpool_worker_stats *ws = r->w ? calloc((size_t)r->n_workers, sizeof *ws) : NULL;
    hpool__rank_clock *clocks = r->w ? calloc((size_t)r->n_workers, sizeof *clocks) : NULL;
    int n_clocks = 0;
    for (int i = 0; r->w && i < r->n_workers; i++) {
        if (ws)
            ws[i] = (hpool_worker_stats){.rank = r->w[i].rank, .busy_s = r->w[i].busy_s,
                                         .items = r->w[i].items, .lost = r->w[i].lost,
                                         .lost_at = -1};
        if (clocks)
            clocks[n_clocks++] = (hpool__rank_clock){.rank = r->w[i].rank, .map = r->w[i].clock};
    }
    for (int k = 0; ws && k < r->lost_n; k++) {
        int wi = r->wi_of_rank[r->lost_rank[k]];
        if (wi >= 0)
            ws[wi].lost_at = r->lost_at[k];
    }
    if (r->rec) {
        /* A broken executor's records are not a result: they stay in the .partial files
         * and never replace the final files of an earlier good run; nor do records whose
         * clock maps could not be kept (out of memory). */
        hpool__lock();
        bool broken = ex->broken;
        hpool__unlock();
        if (hpool__records_close(r->rec, clocks, n_clocks, !broken && clocks) != 0)
            fprintf(stderr, "hpool: executor %d: writing the records in %s failed\n", ex->id,
                    ex->record_dir);
    }
    free(clocks);
    r->rec = NULL;
    hpool__lock();
    hpool__executor_drained_locked(ex, &st, ws);
    hpool__unlock();
    free(ws);
    free_run(g);
}

void hpool__run_break(hpool__mgr *g, const char *fmt, ...)
{
    char msg[HPOOL__MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hpool__again_fail_all(g, msg);
    hpool_future *run_later = NULL;
    hpool__lock();
    hpool__executor_break_locked(g->run.ex, msg, &run_later);
    hpool__unlock();
    hpool__future_callbacks_from_progress(run_later);
}
