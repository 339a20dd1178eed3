/* Rank 0's manager thread: CPython's executor manager thread. It is the only thread that
 * calls MPI after hpool_init. Each pass it
 *   1. receives worker messages (results, acks, clock pongs) and completes futures,
 *   2. carves call items for workers with a free call slot and sends them,
 *   3. moves the active executor through start → run → stop,
 * and when a pass moved nothing it backs off (spin, yield, then short timed sleeps that a
 * submit cuts short) so that an idle manager does not burn a core. */
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clocksync.h"
#include "executor.h"
#include "records.h"
#include "topology.h"

/* Receive buffer; handed to a map when it carries map results, then replaced. */
static hpool__buf rx;

/* ---------------------------------------------------------------- sending */
static int send_small(int rank, int type, int exec_id, int32_t task, uint64_t chunk,
                      const void *payload, size_t len, uint32_t count, int32_t level)
{
    hpool__buf b = {0};
    hpool__wire_hdr *h = hpool__buf_begin(&b, type, exec_id);
    if (h == NULL)
        return HPOOL_ENOMEM;
    h->task = task;
    h->chunk_id = chunk;
    h->count = count;
    h->record_level = level;
    int rc = hpool__buf_put_raw(&b, payload, len);
    if (rc == 0 && MPI_Send(b.data, (int)b.len, MPI_BYTE, rank, HPOOL__TAG_TO_WORKER,
                            hpool__g.comm) != MPI_SUCCESS)
        rc = HPOOL_EMPI;
    hpool__buf_free(&b);
    return rc;
}

/* Clocks are synced per host, all hosts at once (clocksync.h). After the start sync the
 * maps also go to clock.tsv.partial, so that the rows of a run that dies can be put on
 * rank 0's clock. */
static int sync_clocks(hpool_executor *ex, bool at_end)
{
    size_t n = (size_t)(ex->n_workers > 0 ? ex->n_workers : 1);
    hpool__sync_peer *peers = malloc(n * sizeof *peers);
    hpool__rank_clock *clocks = malloc(n * sizeof *clocks);
    int rc = peers && clocks ? 0 : HPOOL_ENOMEM;
    for (int i = 0; rc == 0 && i < ex->n_workers; i++)
        peers[i] = (hpool__sync_peer){.rank = ex->w[i].rank,
                                      .host = hpool__topo_host_of(ex->w[i].rank),
                                      .lost = ex->w[i].lost,
                                      .map = &ex->w[i].clock};
    if (rc == 0)
        rc = hpool__clocksync_run(peers, ex->n_workers, ex->id, at_end, ex->t_created, &ex->sync);
    if (rc == 0 && !at_end && ex->rec) {
        for (int i = 0; i < ex->n_workers; i++)
            clocks[i] = (hpool__rank_clock){.rank = ex->w[i].rank, .map = ex->w[i].clock};
        hpool__records_clocks(ex->rec, clocks, ex->n_workers);
    }
    free(peers);
    free(clocks);
    return rc;
}

/* ---------------------------------------------------------------- executor start/stop */
static int start_executor(hpool_executor *ex)
{
    ex->w = calloc((size_t)ex->n_workers, sizeof *ex->w);
    if (ex->w == NULL)
        return HPOOL_ENOMEM;
    for (int i = 0; i < ex->n_workers; i++) {
        hpool__worker_state *w = &ex->w[i];
        /* Worker i is rank i+1 (messages map back by rank); ranks lost to an earlier crash
         * or hang stay lost in every later executor, which then has fewer workers. */
        w->rank = i + 1;
        w->lost = hpool__g.rank_lost[w->rank];
        w->free_slots = w->lost ? 0 : ex->prefetch;
        ex->live_workers += !w->lost;
        w->slots = calloc((size_t)ex->prefetch, sizeof *w->slots);
        if (w->slots == NULL)
            return HPOOL_ENOMEM;
        for (int s = 0; s < ex->prefetch; s++) {
            w->slots[s].futs = calloc((size_t)ex->submit_batch, sizeof(hpool_future *));
            w->slots[s].req = MPI_REQUEST_NULL;
            if (w->slots[s].futs == NULL)
                return HPOOL_ENOMEM;
        }
        if (w->lost)
            continue;
        int rc = send_small(w->rank, HPOOL__MSG_START, ex->id, ex->initializer, 0,
                            ex->initargs, ex->initargs_len, (uint32_t)ex->threads,
                            (int32_t)ex->record_level);
        if (rc != 0)
            return rc;
    }
    if (ex->live_workers == 0)
        return hpool__fail(HPOOL_EBROKEN, "every worker rank was lost earlier");
    ex->cpu_at_start = hpool__thread_cpu();
    ex->t_phase = hpool__now();
    int err = 0;
    ex->rec = hpool__records_open(ex, &err);
    return err;
}

static void free_worker_states(hpool_executor *ex)
{
    for (int i = 0; ex->w && i < ex->n_workers; i++) {
        for (int s = 0; ex->w[i].slots && s < ex->prefetch; s++) {
            free(ex->w[i].slots[s].futs);
            hpool__buf_free(&ex->w[i].slots[s].send);
        }
        free(ex->w[i].slots);
    }
    free(ex->w);
    ex->w = NULL;
}

static void finish_executor(hpool_executor *ex, bool complete)
{
    hpool_executor_stats st;
    memset(&st, 0, sizeof st);
    st.chunks = ex->chunks_done;
    st.items = ex->items_done;
    st.bytes_sent = ex->bytes_sent;
    st.bytes_received = ex->bytes_received;
    st.manager_cpu_s = hpool__thread_cpu() - ex->cpu_at_start;
    /* Start-up and the final sync are reported on their own, never in wall_s. */
    double t_run = ex->sync.t_ready > 0 ? ex->sync.t_ready : ex->t_created;
    st.wall_s = fmax(0, (ex->t_last_result > 0 ? ex->t_last_result : hpool__now()) - t_run);
    st.startup_s = ex->sync.startup_s;
    st.final_sync_s = ex->sync.final_sync_s;
    st.sync_cpu_s = ex->sync.cpu_s;
    st.workers = ex->n_workers;
    st.lost_workers = ex->lost_count;
    for (int i = 0; i < ex->lost_count && i < 8; i++) {
        st.lost_rank[i] = ex->lost_rank[i];
        st.lost_at[i] = ex->lost_at[i];
    }
    hpool__rank_clock *clocks = malloc((size_t)(ex->n_workers > 0 ? ex->n_workers : 1) *
                                       sizeof *clocks);
    int n_clocks = 0;
    int n_public = (int)(sizeof st.worker_busy_s / sizeof st.worker_busy_s[0]); /* interim */
    for (int i = 0; ex->w && i < ex->n_workers && i < n_public; i++) {
        st.worker_busy_s[i] = ex->w[i].busy_s;
        st.worker_items[i] = ex->w[i].items;
    }
    for (int i = 0; clocks && ex->w && i < ex->n_workers; i++) {
        if (ex->w[i].rank > 0) /* 0: no rank was left for this worker slot */
            clocks[n_clocks++] = (hpool__rank_clock){.rank = ex->w[i].rank,
                                                     .map = ex->w[i].clock};
    }
    if (ex->rec) {
        /* A broken executor's records are not a result: they stay in the .partial files
         * and never replace the final files of an earlier good run. */
        pthread_mutex_lock(&hpool__g.lock);
        bool broken = ex->broken;
        pthread_mutex_unlock(&hpool__g.lock);
        if (hpool__records_close(ex->rec, clocks, n_clocks, complete && !broken && clocks) != 0)
            fprintf(stderr, "hpool: executor %d: writing the records in %s failed\n", ex->id,
                    ex->record_dir);
    }
    ex->rec = NULL;
    free(clocks);
    free_worker_states(ex);
    pthread_mutex_lock(&hpool__g.lock);
    ex->stats = st;
    ex->phase = HPOOL__X_DRAINED;
    ex->drained = true;
    hpool__g.active = NULL;
    pthread_cond_broadcast(&hpool__g.done_cond);
    pthread_mutex_unlock(&hpool__g.lock);
}

static void break_executor(hpool_executor *ex, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void break_executor(hpool_executor *ex, const char *fmt, ...)
{
    char msg[HPOOL__MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hpool__retry_fail_all(ex, msg);
    hpool_future *run_later = NULL;
    pthread_mutex_lock(&hpool__g.lock);
    hpool__executor_break_locked(ex, msg, &run_later);
    pthread_mutex_unlock(&hpool__g.lock);
    hpool__future_run_callbacks(run_later);
}

static int begin_stop(hpool_executor *ex)
{
    int rc = sync_clocks(ex, true);
    for (int i = 0; i < ex->n_workers; i++) {
        ex->w[i].acked = false;
        if (ex->w[i].lost)
            continue;
        int src = send_small(ex->w[i].rank, HPOOL__MSG_STOP, ex->id, -1, 0, NULL, 0, 0, 0);
        if (rc == 0)
            rc = src;
    }
    ex->phase = HPOOL__X_STOPPING;
    ex->t_phase = hpool__now();
    return rc;
}

/* ---------------------------------------------------------------- dispatch */
/* dispatch.c carves and sends; a failure to send breaks the executor. */
static int dispatch(hpool_executor *ex)
{
    int failed = -1;
    int rc = hpool__dispatch(ex, &failed);
    if (rc < 0) {
        break_executor(ex, "dispatch to rank %d failed: %s", failed + 1, hpool_strerror(rc));
        return 0;
    }
    return rc;
}

/* ---------------------------------------------------------------- receiving */
static void record_chunk(hpool_executor *ex, const hpool__slot *s, int rank,
                         const hpool__wire_result *h, double t_result)
{
    if (ex->rec == NULL)
        return;
    hpool__chunk_record c = {
        .chunk = s->chunk_id,
        .schedule = s->map ? (int)s->map->sched.resolved : -1,
        .worker = rank,
        .first_item = s->map ? s->first : s->futs[0]->seq,
        .items = h->count,
        .status = h->status,
        .t_submit = s->t_submit,
        .t_dispatch = s->t_dispatch,
        .t_result = t_result,
        .t_recv = h->t_start, /* the worker starts a call item as it receives it */
        .t_start = h->t_start,
        .t_end = h->t_end,
    };
    hpool__records_chunk(ex->rec, &c);
}

/* Complete the futures of a submit-form call item from its RESULT message. */
static int complete_futures(hpool__slot *s, int rank, const void *msg, size_t len)
{
    hpool__item_reader rd;
    hpool__item_reader_init(&rd, msg, len);
    hpool_future *run_later = NULL;
    int rc = 0;
    pthread_mutex_lock(&hpool__g.lock);
    for (uint32_t i = 0; i < s->n_futs; i++) {
        int32_t status = 0;
        const void *data = NULL;
        size_t n = 0;
        if (rc == 0)
            rc = hpool__item_reader_next(&rd, &status, &data, &n);
        if (rc != 0) {
            hpool__future_finish_locked(s->futs[i], HPOOL_EBROKEN, 0, rank, NULL, 0,
                                        "malformed result message", &run_later);
            continue;
        }
        char msgbuf[HPOOL__MSG_MAX];
        if (status != 0) {
            size_t m = n < sizeof msgbuf - 1 ? n : sizeof msgbuf - 1;
            memcpy(msgbuf, data, m);
            msgbuf[m] = '\0';
        }
        int code = status == 0 ? 0 : HPOOL_ETASK;
        hpool__future_finish_locked(s->futs[i], code, status, rank, data, n,
                                    status ? msgbuf : NULL, &run_later);
    }
    pthread_mutex_unlock(&hpool__g.lock); /* waiters are woken once per receive pass */
    hpool__future_run_callbacks(run_later);
    return rc;
}

static int handle_result(hpool_executor *ex, int src, size_t len)
{
    const hpool__wire_result *h = (const hpool__wire_result *)rx.data;
    int wi = src - 1;
    if (wi < 0 || wi >= ex->n_workers || h->slot >= ex->prefetch)
        return HPOOL_EPROTO;
    hpool__worker_state *w = &ex->w[wi];
    hpool__slot *s = &w->slots[h->slot];
    uint32_t want = s->map ? s->count : s->n_futs;
    if (!s->busy || h->chunk_id != (uint32_t)s->chunk_id ||
        hpool__wire_validate_result(rx.data, len, want) != 0)
        return HPOOL_EPROTO;
    double t_result = hpool__now();
    w->t_head = t_result; /* its next call item starts about now */
    /* The worker has the call item, so the send is complete; Wait only releases it. */
    MPI_Wait(&s->req, MPI_STATUS_IGNORE);
    ex->bytes_received += len;
    ex->chunks_done++;
    ex->items_done += h->count;
    ex->t_last_result = t_result;
    double busy = h->t_end - h->t_start;
    w->busy_s += busy;
    /* Smoothed task time per chunk, for the manager's idle sleep. */
    ex->chunk_time_ewma += 0.125 * (busy - ex->chunk_time_ewma);
    /* How late results are picked up: the result's arrival against the worker's end of
     * the call item on rank 0's clock (start offset). Near zero on an idle node; about a
     * scheduler quantum when the manager shares cores with busy workers. */
    if (w->clock.have_start) {
        double late = t_result - hpool__clock_map_apply(&w->clock, h->t_end);
        ex->result_delay_ewma += 0.125 * (fmax(late, 0) - ex->result_delay_ewma);
    }
    if (ex->auto_window) {
        /* Keep enough work queued at each worker to cover the round trip and the
         * manager's lateness: 4x the measured delay, at least 200 us. Small enough to
         * keep dynamic schedules dynamic and pending futures cancellable when tasks are
         * long (then the window is 2, CPython's depth). */
        double queued = fmax(200e-6, 4 * ex->result_delay_ewma);
        double depth = queued / (ex->chunk_time_ewma > 1e-7 ? ex->chunk_time_ewma : 1e-7);
        ex->window = depth >= ex->prefetch ? ex->prefetch : (depth < 2 ? 2 : (int)depth + 1);
    }
    w->items += h->count;
    record_chunk(ex, s, src, h, t_result);
    if (h->n_spans > 0 && ex->rec) {
        size_t span_bytes = (size_t)h->n_spans * sizeof(hpool__wire_span);
        if (span_bytes <= len - HPOOL__WIRE_RESULT_SIZE)
            hpool__records_spans(ex->rec, src, s->chunk_id,
                                 (const hpool__wire_span *)(rx.data + len - span_bytes),
                                 h->n_spans);
    }
    int rc = 0;
    if (s->map) {
        /* The chunk's transit (send to receipt, end to result pickup): its overhead h. */
        double transit = w->clock.have_start
            ? fmax(0, hpool__clock_map_apply(&w->clock, h->t_start) - s->t_dispatch) +
                  fmax(0, t_result - hpool__clock_map_apply(&w->clock, h->t_end))
            : NAN;
        hpool__schedule_observe_chunk(&s->map->sched, wi, h->count, busy, transit);
        pthread_mutex_lock(&hpool__g.lock);
        hpool__map_chunk_done_locked(s->map, s->map_chunk, rx.data, len, src);
        s->map->inflight--;
        ex->notify_pending = true; /* announced once per receive pass */
        pthread_mutex_unlock(&hpool__g.lock);
        rx.data = NULL; /* the map owns the message now */
        rx.cap = rx.len = 0;
    } else {
        rc = complete_futures(s, src, rx.data, len);
        ex->notify_pending = true;
    }
    s->busy = false;
    w->free_slots++;
    ex->inflight--;
    return rc;
}

/* Every worker acknowledged START or was lost: the placement table is as complete as it
 * will get (a lost worker has no rows). */
static bool start_acks_in(const hpool_executor *ex)
{
    for (int i = 0; i < ex->n_workers; i++)
        if (!ex->w[i].acked && !ex->w[i].lost)
            return false;
    return true;
}

/* START_ACK payload: the initializer's message, then this worker's placement rows
 * (topology.h); STOP_ACK carries nothing. */
static void handle_ack(hpool_executor *ex, int src, size_t len)
{
    const hpool__wire_hdr *h = (const hpool__wire_hdr *)rx.data;
    int wi = src - 1;
    if (wi < 0 || wi >= ex->n_workers)
        return;
    bool first = !ex->w[wi].acked;
    ex->w[wi].acked = true;
    if (h->type != HPOOL__MSG_START_ACK)
        return;
    const char *text = "";
    const void *block = NULL;
    size_t block_len = 0;
    int rc = hpool__topo_split_ack(rx.data + HPOOL__WIRE_HDR_SIZE, len - HPOOL__WIRE_HDR_SIZE,
                                   &text, &block, &block_len);
    /* A duplicate ack must not add the worker's rows twice, nor a late ack of a worker
     * already given up as lost add rows to a table published without it. */
    if (rc == 0 && first && !ex->w[wi].lost)
        rc = hpool__placement_add(ex, src, block, block_len);
    if (rc != 0) {
        break_executor(ex, "%s START_ACK (%zu bytes) from rank %d",
                       rc == HPOOL_ENOMEM ? "out of memory storing" : "malformed", len, src);
        return;
    }
    if (h->status != 0) {
        char msg[HPOOL__MSG_MAX];
        snprintf(msg, sizeof msg, "%s", text); /* NUL-terminated: checked by the split */
        break_executor(ex, "initializer '%s' failed on rank %d: %s",
                       hpool__task_name(ex->initializer), src, msg);
    }
    if (first && start_acks_in(ex) && hpool__placement_finish(ex) != 0)
        break_executor(ex, "out of memory building the placement table");
}

/* A task crashed on a worker, which reported it and left the pool. */
static int handle_crash(hpool_executor *ex, int src, size_t len)
{
    int wi = src - 1;
    if (wi < 0 || wi >= ex->n_workers)
        return HPOOL_EPROTO;
    char why[HPOOL__MSG_MAX];
    size_t n = len - HPOOL__WIRE_HDR_SIZE;
    if (n >= sizeof why)
        n = sizeof why - 1;
    memcpy(why, rx.data + HPOOL__WIRE_HDR_SIZE, n);
    why[n] = '\0';
    hpool__worker_lost(ex, wi, why);
    return 0;
}

/* Receive and handle what the workers sent. Returns the number of messages handled. */
static int poll_incoming(hpool_executor *ex)
{
    int handled = 0;
    for (int budget = 0; budget < 64; budget++) {
        int flag = 0;
        MPI_Message msg;
        MPI_Status st;
        MPI_Improbe(MPI_ANY_SOURCE, HPOOL__TAG_TO_MANAGER, hpool__g.comm, &flag, &msg, &st);
        if (!flag)
            break;
        int n = 0;
        MPI_Get_count(&st, MPI_BYTE, &n);
        if (hpool__buf_reserve(&rx, (size_t)n) != 0) {
            break_executor(ex, "out of memory receiving %d bytes", n);
            break;
        }
        MPI_Mrecv(rx.data, n, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
        rx.len = (size_t)n;
        handled++;
        int src = st.MPI_SOURCE;
        const hpool__wire_hdr *h = (const hpool__wire_hdr *)rx.data;
        int rc = hpool__wire_check(rx.data, rx.len);
        if (rc == 0 && h->exec_id != ex->id)
            rc = HPOOL_EPROTO;
        if (rc == 0) {
            if (h->type == HPOOL__MSG_RESULT)
                rc = handle_result(ex, src, rx.len);
            else if (h->type == HPOOL__MSG_CRASH)
                rc = handle_crash(ex, src, rx.len);
            else if (h->type == HPOOL__MSG_START_ACK || h->type == HPOOL__MSG_STOP_ACK)
                handle_ack(ex, src, rx.len);
            else
                rc = HPOOL_EPROTO;
        }
        if (rc != 0 && src >= 1 && src <= ex->n_workers && !ex->w[src - 1].lost) {
            char why[128];
            snprintf(why, sizeof why, "malformed message (%d bytes, %s)", n, hpool_errname(rc));
            hpool__worker_lost(ex, src - 1, why);
        }
    }
    if (ex->notify_pending) {
        /* One wake-up for everything this pass completed: a futex call per result would
         * cost more than the result itself at high dispatch rates. */
        ex->notify_pending = false;
        pthread_mutex_lock(&hpool__g.lock);
        hpool__notify_done_locked();
        pthread_mutex_unlock(&hpool__g.lock);
    }
    return handled;
}

/* ---------------------------------------------------------------- the loop */
static bool all_acked(const hpool_executor *ex)
{
    for (int i = 0; i < ex->n_workers; i++)
        if (!ex->w[i].acked && !ex->w[i].lost)
            return false;
    return true;
}

static bool ready_to_stop(hpool_executor *ex)
{
    if (ex->inflight > 0 || ex->retry_head != NULL)
        return false;
    pthread_mutex_lock(&hpool__g.lock);
    bool stop = ex->shutdown || ex->destroyed;
    if (stop && ex->q_head != NULL)
        stop = false;
    for (hpool_map_iter *m = ex->maps_head; stop && m; m = m->next_in_ex)
        if (hpool__map_has_work_locked(m))
            stop = false;
    pthread_mutex_unlock(&hpool__g.lock);
    return stop;
}

/* One pass over the active executor. Returns how much moved. */
static int serve_executor(hpool_executor *ex)
{
    int moved = 0;
    if (ex->phase == HPOOL__X_STARTING && ex->w == NULL) {
        int rc = start_executor(ex);
        if (rc != 0)
            break_executor(ex, "executor start failed: %s", hpool_strerror(rc));
        moved++;
    }
    moved += poll_incoming(ex);
    if (ex->phase == HPOOL__X_STARTING || ex->phase == HPOOL__X_STOPPING)
        moved += hpool__check_ack_timeouts(ex);
    if (ex->phase == HPOOL__X_STARTING && all_acked(ex)) {
        int rc = sync_clocks(ex, false);
        if (rc != 0)
            break_executor(ex, "clock synchronisation failed: %s", hpool_strerror(rc));
        ex->phase = HPOOL__X_RUNNING;
        hpool__startup_mark_ready(ex);
        hpool__placement_finish(ex); /* a worker lost during START never acks */
        moved++;
    }
    if (ex->phase == HPOOL__X_RUNNING) {
        moved += hpool__check_timeouts(ex);
        moved += dispatch(ex);
        if (ready_to_stop(ex)) {
            if (begin_stop(ex) != 0)
                fprintf(stderr, "hpool: stopping executor %d: clock sync failed\n", ex->id);
            moved++;
        }
    }
    if (ex->phase == HPOOL__X_STOPPING && all_acked(ex)) {
        finish_executor(ex, true);
        moved++;
    }
    return moved;
}

/* How long the manager may sleep when nothing moved. With call items in flight and
 * chunks that take a while, results arrive about chunk_time / workers apart and every
 * worker already holds its next call item (prefetch >= 2), so sleeping a quarter of a
 * chunk costs no throughput and leaves the core to the workers: on a small node the
 * manager shares cores with them. Without that knowledge: a short spin, then yields,
 * then sleeps doubling from 16 us. A submit or a consumed map result cuts a sleep short
 * (wake_cond), so sleeping never delays new work. */
static double idle_sleep(const hpool_executor *ex, unsigned idle)
{
    bool steady = ex && ex->phase == HPOOL__X_RUNNING && ex->inflight > 0;
    if (steady && ex->chunk_time_ewma > 200e-6) {
        /* Sleep until the first result is due: each busy worker's oldest call item started
         * at t_head and takes about chunk_time. One wake-up per result instead of several
         * matters on a node where the manager shares cores with the workers: every
         * wake-up preempts one of them. */
        double due = INFINITY, now = hpool__now();
        for (int i = 0; i < ex->n_workers; i++)
            if (!ex->w[i].lost && ex->w[i].free_slots < ex->prefetch)
                due = fmin(due, ex->w[i].t_head + ex->chunk_time_ewma);
        double s = due - now;
        double floor_s = ex->chunk_time_ewma / 8; /* late results: poll, but not hot */
        return fmin(fmax(s, floor_s), 5e-3);
    }
    if (idle < 64)
        return 0; /* spin: results of short chunks arrive within microseconds */
    if (idle < 128)
        return -1; /* yield */
    unsigned shift = (idle - 128) / 4;
    double cap = steady || (ex && ex->phase != HPOOL__X_RUNNING) ? 1e-3 : 5e-3;
    return shift > 9 ? cap : fmin(cap, 16e-6 * (double)(1u << shift));
}

static void idle_wait(const hpool_executor *ex, unsigned *idle, unsigned seen_seq)
{
    (*idle)++;
    double sleep_s = idle_sleep(ex, *idle);
    if (sleep_s == 0)
        return;
    if (sleep_s < 0) {
        sched_yield();
        return;
    }
    pthread_mutex_lock(&hpool__g.lock);
    if (hpool__g.wake_seq == seen_seq) {
        hpool__g.manager_sleeping = true;
        hpool__cond_wait_until(&hpool__g.wake_cond, &hpool__g.lock, hpool__now() + sleep_s);
        hpool__g.manager_sleeping = false;
    }
    pthread_mutex_unlock(&hpool__g.lock);
}

static void release_workers(void)
{
    for (int r = 1; r < hpool__g.size; r++)
        send_small(r, HPOOL__MSG_FINALIZE, 0, -1, 0, NULL, 0, 0, 0);
}

static void *manager_main(void *arg)
{
    (void)arg;
    unsigned idle = 0;
    for (;;) {
        pthread_mutex_lock(&hpool__g.lock);
        hpool_executor *ex = hpool__g.active;
        bool fin = hpool__g.finalize_requested;
        unsigned seq = hpool__g.wake_seq;
        pthread_mutex_unlock(&hpool__g.lock);
        if (ex == NULL && fin)
            break;
        int moved = ex ? serve_executor(ex) : 0;
        if (moved > 0)
            idle = 0;
        else
            idle_wait(ex, &idle, seq);
    }
    release_workers();
    hpool__buf_free(&rx);
    return NULL;
}

int hpool__manager_start(void)
{
    if (pthread_create(&hpool__g.manager, NULL, manager_main, NULL) != 0)
        return hpool__fail(HPOOL_ENOMEM, "hpool_init: cannot start the manager thread");
    hpool__g.manager_running = true;
    return 0;
}

int hpool__manager_stop(void)
{
    if (!hpool__g.manager_running)
        return 0;
    pthread_join(hpool__g.manager, NULL);
    hpool__g.manager_running = false;
    return 0;
}
