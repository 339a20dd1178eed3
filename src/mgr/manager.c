/* Rank 0's manager: CPython's executor manager thread. Its pass
 *   1. receives worker messages (results, acks, crash reports) and completes futures,
 *   2. carves call items for workers with room in their window and sends them
 *      (dispatch.c),
 *   3. moves the served executor through start → run → stop (run.c).
 * The pass is run by whichever thread holds the progress token (sync.h): a user thread
 * blocked in a wait runs it itself (leader/follower), the manager thread when nobody
 * waits. Either way only the holder calls MPI, and the run's state below is touched only
 * by the holder. When a pass moved nothing the holder backs off (policy.h: spin, yield,
 * then short timed sleeps that a submit cuts short) so that an idle manager does not
 * burn a core. */
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "manager.h"
#include "mgr.h"
#include "policy.h"
#include "proc.h"
#include "records.h"
#include "registry.h"
#include "sync.h"
#include "placement.h"
#include "topology.h"

/* The process's manager; its state is passed explicitly from here on. */
static hpool__mgr *the_manager;

/* Worker index of `rank` in the served executor, or -1. */
static int worker_of(const hpool__mgr *g, int rank)
{
    const hpool__run *r = &g->run;
    if (r->wi_of_rank == NULL || rank < 0 || rank >= g->world)
        return -1;
    return r->wi_of_rank[rank];
}

/* ---------------------------------------------------------------- receiving */
static void record_chunk(hpool__run *r, const hpool__slot *s, int rank,
                         const hpool__wire_result *h, double t_result)
{
    if (r->rec == NULL)
        return;
    hpool__chunk_record c = {
        .chunk = s->chunk_id,
        .schedule = s->chunk ? (int)s->chunk->map->sched.resolved : -1,
        .worker = rank,
        .first_item = s->chunk ? s->chunk->first : s->futs[0]->seq,
        .items = h->count,
        .status = h->status,
        .t_submit = s->t_submit,
        .t_dispatch = s->t_dispatch,
        .t_result = t_result,
        .t_recv = h->t_start, /* the worker starts a call item as it receives it */
        .t_start = h->t_start,
        .t_end = h->t_end,
    };
    hpool__records_chunk(r->rec, &c);
}

/* The library lock over the results of one message: taken at the first result that
 * needs it and kept for the rest of a bundle, so that a bundle's results cost one hold,
 * one wake-up of waiters and one hand-over of callbacks, not one each. */
typedef struct {
    bool held;
    bool notify;             /* something completed: wake the waiters at the end */
    hpool_future *run_later; /* futures whose done callbacks are due */
} result_batch;

static void batch_lock(result_batch *b)
{
    if (!b->held) {
        hpool__lock();
        b->held = true;
    }
    b->notify = true;
}

/* Gives the lock up (before an MPI call, or at the end), waking waiters if due. */
static void batch_unlock(result_batch *b)
{
    if (b->held) {
        if (b->notify)
            hpool__notify_locked();
        hpool__unlock();
    }
    b->held = b->notify = false;
}

static void batch_end(result_batch *b)
{
    batch_unlock(b);
    hpool__future_callbacks_from_progress(b->run_later);
    b->run_later = NULL;
}

/* Complete the futures of a submit-form call item from its RESULT message (lock held). */
static int complete_futures_locked(hpool__slot *s, int rank, const void *msg, size_t len,
                                   hpool_future **run_later)
{
    hpool__item_reader rd;
    hpool__item_reader_init(&rd, msg, len);
    int rc = 0;
    for (uint32_t i = 0; i < s->n_futs; i++) {
        int32_t status = 0;
        const void *data = NULL;
        size_t n = 0;
        if (rc == 0)
            rc = hpool__item_reader_next(&rd, &status, &data, &n);
        if (rc != 0) {
            hpool__future_finish_locked(s->futs[i], HPOOL_EBROKEN, 0, rank, NULL, 0,
                                        "malformed result message", run_later);
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
                                    status ? msgbuf : NULL, run_later);
    }
    return rc;
}

/* A RESULT from rank src, alone in m (g->rx, or g->frame for one of a bundle); m may be
 * swapped for a map's consumed buffer. t_result: when its message was received. b: the
 * lock over the message's results. */
static int handle_result(hpool__mgr *g, int src, hpool__buf *m, double t_result,
                         result_batch *b)
{
    hpool__run *r = &g->run;
    size_t len = m->len;
    const hpool__wire_result *h = (const hpool__wire_result *)m->data;
    int wi = worker_of(g, src);
    if (wi < 0 || h->slot >= r->prefetch)
        return HPOOL_EPROTO;
    hpool__worker *w = &r->w[wi];
    hpool__slot *s = &w->slots[h->slot];
    uint32_t want = s->chunk ? s->chunk->count : s->n_futs;
    if (!s->busy || h->chunk_id != (uint32_t)s->chunk_id ||
        hpool__wire_validate_result(m->data, len, want) != 0)
        return HPOOL_EPROTO;
    /* The worker has the call item, so the send is complete; Wait only releases it. A
     * bundled call item has no request of its own; one sent alone does, and the lock is
     * never held across an MPI call. */
    if (s->req != MPI_REQUEST_NULL) {
        batch_unlock(b);
        MPI_Wait(&s->req, MPI_STATUS_IGNORE);
    }
    r->chunks_done++;
    r->items_done += h->count;
    r->t_last_result = t_result;
    double busy = h->t_end - h->t_start;
    w->busy_s += busy;
    w->items += h->count;
    /* How late results are picked up: the result's arrival against the worker's end of
     * the call item on rank 0's clock (start offset). Near zero on an idle node; about a
     * scheduler quantum when the manager shares cores with busy workers. */
    double late = w->clock.have_start ? t_result - hpool__clock_map_apply(&w->clock, h->t_end)
                                      : -1;
    /* The chunk's transit (send to receipt, end to result pickup): the per-chunk overhead
     * the schedules model (NAN without a clock map). */
    double transit = w->clock.have_start
        ? fmax(0, hpool__clock_map_apply(&w->clock, h->t_start) - s->t_dispatch) + fmax(0, late)
        : NAN;
    /* Records can wait on their writer thread (a full buffer): not under the lock that a
     * bundle's earlier results took. */
    if (r->rec)
        batch_unlock(b);
    record_chunk(r, s, src, h, t_result);
    if (h->n_spans > 0 && r->rec) {
        size_t span_bytes = (size_t)h->n_spans * sizeof(hpool__wire_span);
        if (span_bytes <= len - HPOOL__WIRE_RESULT_SIZE)
            hpool__records_spans(r->rec, src, s->chunk_id,
                                 (const hpool__wire_span *)(m->data + len - span_bytes),
                                 h->n_spans);
    }
    /* The message may go to a map, whose consumer frees it: nothing of it is read after. */
    double task_s = busy;
    h = NULL;
    int rc = 0;
    batch_lock(b);
    if (s->chunk) /* the map owns the message now; m gets a consumed chunk's buffer back */
        hpool__map_on_result_locked(s->chunk, m, src, wi, task_s, transit);
    else
        rc = complete_futures_locked(s, src, m->data, len, &b->run_later);
    s->busy = false;
    s->chunk = NULL;
    s->n_futs = 0;
    w->in_flight--;
    r->inflight--;
    /* Its next call item, if any, starts about now. */
    hpool__head_changed(r, wi, w->in_flight > 0 ? t_result : -1);
    hpool__window_on_result(r, w, task_s, late);
    hpool__ready_offer(r, wi);
    return rc;
}

/* Every worker acknowledged START or STOP, or was lost (counted, not scanned). */
static bool all_acked(const hpool__run *r)
{
    return r->acks_pending <= 0;
}

/* START_ACK payload: the initializer's message, then this worker's placement rows
 * (topology.h); STOP_ACK carries nothing. */
static void handle_ack(hpool__mgr *g, int src, size_t len)
{
    hpool__run *r = &g->run;
    hpool_executor *ex = r->ex;
    const hpool__wire_hdr *h = (const hpool__wire_hdr *)g->rx.data;
    int wi = worker_of(g, src);
    if (wi < 0)
        return;
    bool first = !r->w[wi].acked;
    r->w[wi].acked = true;
    if (first && !r->w[wi].lost)
        r->acks_pending--;
    if (h->type != HPOOL__MSG_START_ACK)
        return;
    const char *text = "";
    const void *block = NULL;
    size_t block_len = 0;
    int rc = hpool__topo_split_ack(g->rx.data + HPOOL__WIRE_HDR_SIZE, len - HPOOL__WIRE_HDR_SIZE,
                                   &text, &block, &block_len);
    /* A duplicate ack must not add the worker's rows twice, nor a late ack of a worker
     * already given up as lost add rows to a table published without it. */
    if (rc == 0 && first && !r->w[wi].lost)
        rc = hpool__placement_add(ex, src, block, block_len);
    if (rc != 0) {
        hpool__run_break(g, "%s START_ACK (%zu bytes) from rank %d",
                         rc == HPOOL_ENOMEM ? "out of memory storing" : "malformed", len, src);
        return;
    }
    if (h->status != 0) {
        char msg[HPOOL__MSG_MAX];
        snprintf(msg, sizeof msg, "%s", text); /* NUL-terminated: checked by the split */
        hpool__run_break(g, "initializer '%s' failed on rank %d: %s",
                         hpool__task_name(ex->initializer), src, msg);
    }
    if (first && all_acked(r) && hpool__placement_finish(ex) != 0)
        hpool__run_break(g, "out of memory building the placement table");
}

/* A task or the initializer crashed on a worker, which reported it and left the pool. */
static int handle_crash(hpool__mgr *g, int src, size_t len)
{
    int wi = worker_of(g, src);
    if (wi < 0)
        return HPOOL_EPROTO;
    char why[HPOOL__MSG_MAX];
    size_t n = len - HPOOL__WIRE_HDR_SIZE;
    if (n >= sizeof why)
        n = sizeof why - 1;
    memcpy(why, g->rx.data + HPOOL__WIRE_HDR_SIZE, n);
    why[n] = '\0';
    hpool__worker_lost(g, wi, why);
    /* A worker lost while starting never acks: the others may be all there is. */
    if (g->run.phase == HPOOL__X_STARTING && all_acked(&g->run) &&
        hpool__placement_finish(g->run.ex) != 0)
        hpool__run_break(g, "out of memory building the placement table");
    return 0;
}

/* A bundle of RESULTs in g->rx: each frame is copied out (a map may keep it) and
 * handled as if it had come alone. */
static int handle_bundle(hpool__mgr *g, int src)
{
    hpool__frame_reader fr;
    int rc = hpool__frame_reader_init(&fr, g->rx.data, g->rx.len, HPOOL__MSG_RESULT);
    double t_result = hpool__now(); /* they all arrived together */
    result_batch b = {0};
    while (rc == 0) {
        const void *frame;
        size_t len;
        int next = hpool__frame_reader_next(&fr, &frame, &len);
        if (next == 1)
            break;
        if (next != 0 || ((const hpool__wire_prefix *)frame)->exec_id != g->run.ex->id) {
            rc = HPOOL_EPROTO;
            break;
        }
        if (hpool__buf_reserve(&g->frame, len) != 0) {
            rc = HPOOL_ENOMEM;
            break;
        }
        memcpy(g->frame.data, frame, len);
        g->frame.len = len;
        rc = handle_result(g, src, &g->frame, t_result, &b);
    }
    batch_end(&b);
    return rc;
}

/* Receive and handle everything the workers sent so far. Returns the messages handled. */
static int poll_incoming(hpool__mgr *g)
{
    hpool__run *r = &g->run;
    int handled = 0;
    for (;;) {
        int flag = 0;
        MPI_Message msg;
        MPI_Status st;
        MPI_Improbe(MPI_ANY_SOURCE, HPOOL__TAG_TO_MANAGER, g->comm, &flag, &msg, &st);
        if (!flag)
            break;
        int n = 0;
        MPI_Get_count(&st, MPI_BYTE, &n);
        if (hpool__buf_reserve(&g->rx, (size_t)n) != 0) {
            hpool__run_break(g, "out of memory receiving %d bytes", n);
            break;
        }
        MPI_Mrecv(g->rx.data, n, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
        g->rx.len = (size_t)n;
        handled++;
        int src = st.MPI_SOURCE;
        const hpool__wire_hdr *h = (const hpool__wire_hdr *)g->rx.data;
        int rc = hpool__wire_check(g->rx.data, g->rx.len);
        if (rc == 0 && h->exec_id != r->ex->id)
            rc = HPOOL_EPROTO;
        if (rc == 0 && (h->type == HPOOL__MSG_RESULT || h->type == HPOOL__MSG_BUNDLE)) {
            r->bytes_received += g->rx.len;
            r->messages_received++;
        }
        if (rc == 0) {
            if (h->type == HPOOL__MSG_RESULT) {
                result_batch b = {0};
                rc = handle_result(g, src, &g->rx, hpool__now(), &b);
                batch_end(&b);
            }
            else if (h->type == HPOOL__MSG_BUNDLE)
                rc = handle_bundle(g, src);
            else if (h->type == HPOOL__MSG_CRASH)
                rc = handle_crash(g, src, g->rx.len);
            else if (h->type == HPOOL__MSG_START_ACK || h->type == HPOOL__MSG_STOP_ACK)
                handle_ack(g, src, g->rx.len);
            else
                rc = HPOOL_EPROTO;
        }
        int wi = worker_of(g, src);
        if (rc != 0 && wi >= 0 && !r->w[wi].lost) {
            char why[128];
            snprintf(why, sizeof why, "malformed message (%d bytes, %s)", n, hpool_errname(rc));
            hpool__worker_lost(g, wi, why);
        }
    }
    return handled;
}

/* ---------------------------------------------------------------- the loop */
static bool ready_to_stop(const hpool__run *r)
{
    if (r->inflight > 0 || hpool__queue_len(&r->again) > 0)
        return false;
    hpool__lock();
    bool stop = hpool__executor_stopping_locked(r->ex) && !hpool__executor_has_work_locked(r->ex);
    hpool__unlock();
    return stop;
}

/* One pass over the served executor. Returns how much moved. */
static int serve(hpool__mgr *g, hpool_executor *ex)
{
    hpool__run *r = &g->run;
    int moved = 0;
    if (r->ex != ex || r->phase != HPOOL__X_RUNNING)
        hpool__progress_measure_exactly(); /* start-up or stop: syncs wait for workers */
    if (r->ex != ex) {
        int rc = hpool__run_start(g, ex);
        if (rc != 0)
            hpool__run_break(g, "executor start failed: %s",
                             rc == HPOOL_EBROKEN ? "every worker rank was lost"
                                                 : hpool_strerror(rc));
        moved++;
    }
    moved += poll_incoming(g);
    if (r->phase == HPOOL__X_STARTING || r->phase == HPOOL__X_STOPPING)
        moved += hpool__check_ack_timeouts(g);
    if (r->phase == HPOOL__X_STARTING && all_acked(r)) {
        int rc = hpool__run_started(g);
        if (rc != 0)
            hpool__run_break(g, "clock synchronisation failed: %s", hpool_strerror(rc));
        hpool__placement_finish(ex); /* a worker lost during START never acks */
        moved++;
    }
    if (r->phase == HPOOL__X_RUNNING) {
        moved += hpool__check_timeouts(g);
        moved += hpool__dispatch(g);
        if (ready_to_stop(r)) {
            if (hpool__run_begin_stop(g) != 0)
                fprintf(stderr, "hpool: stopping executor %d: clock sync failed\n", ex->id);
            moved++;
        }
    }
    if (r->phase == HPOOL__X_STOPPING && all_acked(r)) {
        hpool__run_finish(g);
        moved++;
    }
    return moved;
}

/* How long the manager may sleep when nothing moved. With call items in flight and
 * chunks that take a while, results arrive about chunk_time / workers apart and every
 * worker already holds its next call item (window >= 2), so sleeping until the first
 * result is due costs no throughput and leaves the core to the workers: on a small node
 * the manager shares cores with them. Without that knowledge: the shared backoff. A
 * submit or a consumed map result cuts a sleep short (the doorbell). */
static double idle_sleep(hpool__run *r, unsigned idle)
{
    bool steady = r->ex && r->phase == HPOOL__X_RUNNING && r->inflight > 0;
    if (steady && r->chunk_time_ewma > HPOOL__WINDOW_COVER_MIN_S) {
        /* Sleep until the first result is due: each busy worker's oldest call item
         * started at t_head and takes about chunk_time. One wake-up per result instead of
         * several matters where every wake-up preempts a worker. */
        double first = hpool__first_head(r);
        double floor_s = r->chunk_time_ewma / 8; /* late results: poll, but not hot */
        if (isinf(first))
            return fmin(floor_s, HPOOL__BACKOFF_SLEEP_IDLE_S); /* heads not timed yet */
        double s = first + r->chunk_time_ewma - hpool__now();
        return fmin(fmax(s, floor_s), HPOOL__BACKOFF_SLEEP_IDLE_S);
    }
    bool busy = steady || (r->ex && r->phase != HPOOL__X_RUNNING);
    return hpool__backoff(idle, busy ? HPOOL__BACKOFF_SLEEP_BUSY_S : HPOOL__BACKOFF_SLEEP_IDLE_S);
}

static void idle_wait(hpool__run *r, unsigned *idle, unsigned seen)
{
    (*idle)++;
    double sleep_s = idle_sleep(r, *idle);
    if (sleep_s == 0)
        return;
    if (sleep_s < 0) {
        sched_yield();
        return;
    }
    hpool__manager_doze(seen, sleep_s);
}

/* The pass as a waiting user thread runs it (sync.h's hpool__progress_fn). */
static double lead_pass(unsigned *idle)
{
    hpool__mgr *g = the_manager;
    hpool__lock();
    hpool_executor *ex = hpool__executor_active_locked();
    hpool__unlock();
    if (ex && serve(g, ex) > 0) {
        *idle = 0;
        return 0;
    }
    (*idle)++;
    return idle_sleep(&g->run, *idle);
}

/* The light pass of a helper (sync.h's hpool__help_fn): only while the executor runs;
 * starting (START, acks, the clock sync) and stopping stay with the manager thread or a
 * waiting thread, so that a submit never runs an executor's start-up. */
static bool help_pass(void)
{
    hpool__mgr *g = the_manager;
    hpool__lock();
    hpool_executor *ex = hpool__executor_active_locked();
    hpool__unlock();
    if (ex == NULL || g->run.ex != ex || g->run.phase != HPOOL__X_RUNNING)
        return false;
    serve(g, ex);
    return true;
}

static void *manager_main(void *arg)
{
    hpool__mgr *g = arg;
    hpool__sync_enter_manager();
    unsigned idle = 0;
    for (;;) {
        hpool__future_run_handed_callbacks();
        hpool__lock();
        hpool_executor *ex = hpool__executor_active_locked();
        bool fin = g->finalize_requested;
        unsigned seen = hpool__doorbell_locked();
        bool mine = hpool__progress_manager_take_locked();
        hpool__unlock();
        if (!mine) {
            /* A user thread leads, or led a moment ago and likely leads again. The
             * standby ends when the grace period after the lead does (sync.c wakes it),
             * so it need not poll while a thread waits for long tasks. */
            hpool__progress_manager_standby(HPOOL__STANDBY_MAX_S);
            idle = 0;
            continue;
        }
        if (ex == NULL && fin)
            break; /* the token stays with the manager: nobody progresses after this */
        int moved = ex ? serve(g, ex) : 0;
        if (moved > 0)
            idle = 0;
        else
            idle_wait(&g->run, &idle, seen);
    }
    hpool__progress_set(NULL, NULL);
    hpool__future_run_handed_callbacks();
    for (int r = 1; r < g->world; r++)
        hpool__send_small(g, r, HPOOL__MSG_FINALIZE, 0, -1, NULL, 0, 0, 0);
    hpool__buf_free(&g->rx);
    hpool__buf_free(&g->frame);
    return NULL;
}

double hpool__manager_cpu(const hpool__mgr *g)
{
    struct timespec ts;
    double own = 0;
    if (clock_gettime(g->cpu_clock, &ts) == 0)
        own = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
    hpool__lock();
    double leaders = hpool__progress_leader_cpu_locked();
    hpool__unlock();
    return own + leaders;
}

int hpool__manager_start(void)
{
    hpool__mgr *g = calloc(1, sizeof *g);
    if (g == NULL)
        return hpool__fail(HPOOL_ENOMEM, "hpool_init: no memory for the manager");
    g->comm = hpool__proc_comm();
    g->world = hpool__proc_size();
    if (pthread_create(&g->thread, NULL, manager_main, g) != 0) {
        free(g);
        return hpool__fail(HPOOL_ENOMEM, "hpool_init: cannot start the manager thread");
    }
    hpool__lock(); /* read by whichever thread runs an executor's start and finish */
    if (pthread_getcpuclockid(g->thread, &g->cpu_clock) != 0)
        g->cpu_clock = CLOCK_THREAD_CPUTIME_ID; /* not expected on Linux */
    hpool__unlock();
    g->running = true;
    the_manager = g;
    hpool__progress_set(lead_pass, help_pass);
    return 0;
}

int hpool__manager_stop(void)
{
    hpool__mgr *g = the_manager;
    if (g == NULL || !g->running)
        return 0;
    hpool__lock();
    g->finalize_requested = true;
    hpool__wake_manager_locked();
    hpool__unlock();
    pthread_join(g->thread, NULL);
    g->running = false;
    return 0;
}

void hpool__manager_free(void)
{
    if (the_manager == NULL)
        return;
    hpool__orphans_free(the_manager);
    free(the_manager);
    the_manager = NULL;
}
