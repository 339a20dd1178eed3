/* The worker loop on ranks 1..N (CPython's _process_worker): receive call items in
 * order, run their task on every item, send the results back with the worker's
 * timestamps. Runs inside hpool_init until rank 0 finalizes.
 *
 * Waiting for the next message backs off to short sleeps, so an idle worker leaves its
 * core to the OpenMP threads of its own rank and to other ranks on the same node. */
#include <omp.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "errors.h"
#include "policy.h"
#include "proc.h"
#include "registry.h"
#include "sendring.h"
#include "task_ctx.h"
#include "topology.h" /* the team is bound at START */
#include "worker.h"

typedef struct {
    int exec_id;      /* 0 = no executor running */
    int threads;
    int record_level;
    void *state;      /* hpool_task_set_worker_state */
    hpool__buf rx;
    const unsigned char *msg; /* the message handled: rx, or a frame of the bundle in rx */
    size_t msg_len;
    hpool__send_ring tx; /* what this worker sends to rank 0 */
    /* RESULTs of a received bundle's calls gather into a bundle of their own, built in
     * the ring's next slot (not sent yet; nothing else takes a slot meanwhile), until
     * flush_results sends it. */
    bool bundle_open;
    double held_since; /* worker clock: the end of the first call held in it */
    double t_last_end;   /* worker clock: the end of the last call run */
    double t_next_start; /* the next call's start if known (within a bundle), else -1 */
    unsigned long posts; /* messages handed to MPI so far */
    hpool__buf scratch; /* each RESULT of a bundled call is built here, then copied in */
    hpool_task_ctx ctx;
    bool lost;          /* a task crashed here: this rank takes no more work */
    uint64_t cur_item;  /* item running, for the crash report */
} worker;

/* ---------------------------------------------------------------- crash guard */
/* A task that crashes (SIGSEGV, SIGFPE, SIGBUS, SIGILL, SIGABRT) on the worker's main
 * thread jumps back to the worker loop, which reports task, item and signal to rank 0
 * and leaves the pool; rank 0 gives the work to the others. A crash on an inner OpenMP
 * thread cannot be recovered (the main thread is inside the parallel region): the rank
 * dies with the signal's default action, and mpirun ends the job. */
static sigjmp_buf crash_env;
static volatile sig_atomic_t crash_armed;
static pid_t main_tid;

static void crash_handler(int sig)
{
    if (crash_armed && (pid_t)syscall(SYS_gettid) == main_tid) {
        crash_armed = 0;
        siglongjmp(crash_env, sig);
    }
    static const char msg[] = "hpool: a task crashed on an inner OpenMP thread; rank dies\n";
    ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_crash_guard(void)
{
    static char altstack[64 * 1024]; /* so that a stack overflow can be reported too */
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
    sigaltstack(&ss, NULL);
    main_tid = (pid_t)syscall(SYS_gettid);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = crash_handler;
    /* NODEFER: leaving the handler by siglongjmp must not leave the signal blocked, and
     * sigsetjmp(env, 0) avoids a sigprocmask system call per call item. */
    sa.sa_flags = SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    const int sigs[] = {SIGSEGV, SIGFPE, SIGBUS, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
}

/* ---------------------------------------------------------------- task context API */
int hpool_task_return(hpool_task_ctx *ctx, const void *res, size_t len)
{
    if (ctx == NULL || (res == NULL && len > 0))
        return hpool__fail(HPOOL_EINVAL, "hpool_task_return: NULL argument");
    if (len > UINT32_MAX / 2)
        return hpool__fail(HPOOL_ETOOBIG, "hpool_task_return: %zu bytes", len);
    ctx->result.len = 0;
    int rc = hpool__buf_put_raw(&ctx->result, res, len);
    ctx->has_result = rc == 0;
    return rc;
}

int hpool_task_fail(hpool_task_ctx *ctx, const char *fmt, ...)
{
    if (ctx == NULL)
        return HPOOL_EINVAL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err, sizeof ctx->err, fmt, ap);
    va_end(ap);
    ctx->err_set = true;
    return HPOOL_ETASK;
}

int hpool_task_rank(const hpool_task_ctx *ctx)
{
    return ctx ? ctx->rank : HPOOL_EINVAL;
}

int hpool_task_threads(const hpool_task_ctx *ctx)
{
    return ctx ? ctx->threads : HPOOL_EINVAL;
}

uint64_t hpool_task_item(const hpool_task_ctx *ctx)
{
    return ctx ? ctx->item : 0;
}

int hpool_task_executor_id(const hpool_task_ctx *ctx)
{
    return ctx ? ctx->exec_id : HPOOL_EINVAL;
}

void *hpool_task_worker_state(const hpool_task_ctx *ctx)
{
    return ctx && ctx->worker_state ? *ctx->worker_state : NULL;
}

void hpool_task_set_worker_state(hpool_task_ctx *ctx, void *state)
{
    if (ctx && ctx->worker_state)
        *ctx->worker_state = state;
}

/* ---------------------------------------------------------------- messaging */
static int flush_results(worker *wk);

/* Send the message built in the buffer next_tx gave, from byte `from`, without waiting
 * for delivery. */
static int post_send_from(worker *wk, size_t from)
{
    wk->posts++;
    return hpool__send_ring_post(&wk->tx, from, 0, HPOOL__TAG_TO_MANAGER, hpool__proc_comm());
}

/* Send the whole message built in the buffer next_tx gave. */
static int post_send(worker *wk)
{
    return post_send_from(wk, 0);
}

/* The buffer for the next message (NULL: out of memory). A bundle being gathered holds
 * the ring's next slot: it is sent first. */
static hpool__buf *next_tx(worker *wk)
{
    if (wk->bundle_open && flush_results(wk) != 0)
        return NULL;
    return hpool__send_ring_next(&wk->tx);
}

/* Send the RESULTs gathered so far: the bundle, or its one frame alone. */
static int flush_results(worker *wk)
{
    if (!wk->bundle_open)
        return 0;
    wk->bundle_open = false;
    hpool__buf *b = hpool__send_ring_pending(&wk->tx);
    return post_send_from(wk, hpool__bundle_frames(b) == 1 ? hpool__bundle_first_offset() : 0);
}

/* The RESULT of a bundled call, built in wk->scratch over [t_start, t_end] of the
 * worker's clock, joins the bundle being gathered, and the bundle is sent when no more
 * calls follow (last), when this call or the oldest result held took HPOOL__BUNDLE_HOLD_S
 * or longer (results of longer calls are not held back: the manager and as_completed
 * wait for them), or when it is full. A result too large to bundle goes alone. */
static int bundle_result(worker *wk, bool last, double t_start, double t_end)
{
    hpool__buf *res = &wk->scratch;
    if (res->len > HPOOL__BUNDLE_FRAME_MAX) {
        hpool__buf *b = next_tx(wk); /* flushes what was gathered */
        if (b == NULL)
            return HPOOL_ENOMEM;
        hpool__buf t = *b;
        *b = *res;
        *res = t;
        return post_send(wk);
    }
    if (wk->bundle_open) {
        hpool__buf *b = hpool__send_ring_pending(&wk->tx);
        if (b->len + hpool__bundle_growth(b->len, res->len) > HPOOL__BUNDLE_MAX) {
            int rc = flush_results(wk);
            if (rc != 0)
                return rc;
        }
    }
    if (!wk->bundle_open) {
        hpool__buf *b = next_tx(wk);
        if (b == NULL || hpool__bundle_begin(b, wk->exec_id) != 0)
            return HPOOL_ENOMEM;
        wk->bundle_open = true;
        wk->held_since = t_end;
    }
    hpool__buf *b = hpool__send_ring_pending(&wk->tx);
    int rc = hpool__bundle_add(b, res->data, res->len);
    if (rc != 0)
        return rc;
    if (last || t_end - t_start >= HPOOL__BUNDLE_HOLD_S || t_end - wk->held_since >= HPOOL__BUNDLE_HOLD_S)
        return flush_results(wk);
    return 0;
}

static int send_simple(worker *wk, int type, int32_t status, const void *payload, size_t len,
                       double t0)
{
    hpool__buf *b = next_tx(wk);
    hpool__wire_hdr *h = b ? hpool__buf_begin(b, type, wk->exec_id) : NULL;
    if (h == NULL)
        return HPOOL_ENOMEM;
    h->status = status;
    h->t[0] = t0;
    if (hpool__buf_put_raw(b, payload, len) != 0)
        return HPOOL_ENOMEM;
    return post_send(wk);
}

/* Wait for the next message from rank 0 into wk->rx. */
static int receive(worker *wk)
{
    unsigned idle = 0;
    for (;;) {
        int flag = 0;
        MPI_Message msg;
        MPI_Status st;
        MPI_Improbe(0, HPOOL__TAG_TO_WORKER, hpool__proc_comm(), &flag, &msg, &st);
        if (flag) {
            int n = 0;
            MPI_Get_count(&st, MPI_BYTE, &n);
            if (hpool__buf_reserve(&wk->rx, (size_t)n) != 0)
                return HPOOL_ENOMEM;
            MPI_Mrecv(wk->rx.data, n, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
            wk->rx.len = (size_t)n;
            return hpool__wire_check(wk->rx.data, wk->rx.len);
        }
        double s = hpool__backoff(++idle, HPOOL__BACKOFF_SLEEP_BUSY_S);
        if (s == 0)
            continue;
        if (s < 0) {
            sched_yield();
            continue;
        }
        struct timespec ts = {0, (long)(s * 1e9)};
        nanosleep(&ts, NULL);
    }
}

/* ---------------------------------------------------------------- executor lifecycle */
static void reset_ctx(worker *wk)
{
    hpool_task_ctx *c = &wk->ctx;
    c->rank = hpool__proc_rank();
    c->threads = wk->threads;
    c->exec_id = wk->exec_id;
    c->record_level = wk->record_level;
    c->worker_state = &wk->state;
}

static void begin_item(hpool_task_ctx *c, uint64_t item)
{
    c->item = item;
    c->result.len = 0;
    c->has_result = false;
    c->err_set = false;
    c->err[0] = '\0';
}

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGFPE: return "SIGFPE";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    default: return "signal";
    }
}

static int send_crash(worker *wk, int sig, const char *msg, uint16_t slot, uint64_t chunk_id);

/* The initializer crashed: tell rank 0 (which loses this rank for good) and stay out of
 * the pool, as after a crashing task. */
static int report_init_crash(worker *wk, int sig)
{
    const hpool__wire_hdr *h = (const hpool__wire_hdr *)wk->rx.data;
    char msg[HPOOL__MSG_MAX];
    snprintf(msg, sizeof msg, "initializer '%s' crashed with %s (signal %d) on rank %d",
             hpool__task_name(h->task), signal_name(sig), sig, hpool__proc_rank());
    fprintf(stderr, "hpool: %s; this rank leaves the pool\n", msg);
    return send_crash(wk, sig, msg, h->slot, h->chunk_id);
}

static int handle_start(worker *wk, const hpool__wire_hdr *h)
{
    wk->exec_id = h->exec_id;
    wk->record_level = h->record_level;
    /* The options, else OMP_NUM_THREADS, else the PUs of this rank's cpuset. Not
     * omp_get_max_threads(): omp_set_num_threads below would leak this executor's count
     * into the next one's default. */
    wk->threads = h->count > 0 ? (int)h->count : hpool__topo_default_threads();
    wk->state = NULL;
    omp_set_num_threads(wk->threads);
    reset_ctx(wk);
    /* Bind the team now that its size is known, before the initializer runs on it; the
     * placement rows go back to rank 0 with the ack. */
    hpool__buf block = {0};
    if (hpool__topo_bind_team(wk->threads, &block) != 0)
        block.len = 0; /* out of memory: the ack then carries no rows */
    int32_t status = 0;
    const char *msg = "";
    if (h->task >= 0) {
        hpool_task_fn fn = hpool__task_fn(h->task);
        begin_item(&wk->ctx, 0);
        size_t len = wk->rx.len - HPOOL__WIRE_HDR_SIZE;
        /* A crashing initializer is caught like a crashing task: this rank reports it
         * and leaves the pool, the others go on. Only wk (memory) is used after a jump
         * back here. */
        int sig = sigsetjmp(crash_env, 0);
        if (sig != 0) {
            hpool__buf_free(&block);
            return report_init_crash(wk, sig);
        }
        crash_armed = 1;
        status = fn ? fn(&wk->ctx, wk->rx.data + HPOOL__WIRE_HDR_SIZE, len) : HPOOL_ENOTASK;
        crash_armed = 0;
        if (status != 0) {
            msg = wk->ctx.err_set ? wk->ctx.err : "initializer returned an error";
        }
    }
    hpool__buf payload = {0};
    int rc = hpool__topo_ack_payload(msg, &block, &payload);
    if (rc == 0)
        rc = send_simple(wk, HPOOL__MSG_START_ACK, status, payload.data, payload.len,
                         hpool__worker_clock());
    hpool__buf_free(&payload);
    hpool__buf_free(&block);
    return rc;
}

/* ---------------------------------------------------------------- call items */
/* Run one item and append its result (or failure message) to out. No clock is read per
 * item: the call item's start and end times are all that records and the manager's
 * window policy use. hpool__buf_put_result keeps the RESULT uniform (records alone)
 * while every item succeeds with one length, the common case, and counts the items. */
static int run_item(worker *wk, hpool_task_fn fn, const void *arg, size_t len, uint64_t item,
                    hpool__buf *out, int32_t *first_status)
{
    hpool_task_ctx *c = &wk->ctx;
    begin_item(c, item);
    int rc = fn(c, arg, len);
    if (rc != 0) {
        if (*first_status == 0)
            *first_status = rc;
        const char *m = c->err_set ? c->err : "task returned an error";
        return hpool__buf_put_result(out, rc, m, strlen(m) + 1);
    }
    return hpool__buf_put_result(out, 0, c->result.data, c->has_result ? c->result.len : 0);
}

/* Runs the items of the CALL in wk->rx into the RESULT message `out`. */
static int run_items(worker *wk, hpool_task_fn fn, hpool__buf *out, int32_t *first_status)
{
    const hpool__wire_call *h = (const hpool__wire_call *)wk->msg;
    hpool__item_reader rd;
    hpool__item_reader_init(&rd, wk->msg, wk->msg_len);
    const unsigned char *records = wk->msg + HPOOL__WIRE_CALL_SIZE;
    int rc = 0;
    for (uint32_t i = 0; i < h->count && rc == 0; i++) {
        const void *arg;
        size_t len;
        uint64_t item = h->first_item + i;
        if (h->item_size) {
            arg = records + (size_t)i * h->item_size;
            len = h->item_size;
        } else {
            int32_t delta;
            rc = hpool__item_reader_next(&rd, &delta, &arg, &len);
            item = h->first_item + (uint64_t)delta;
        }
        wk->cur_item = item;
        if (rc == 0)
            rc = run_item(wk, fn, arg, len, item, out, first_status);
    }
    return rc;
}

/* After a crash: tell rank 0 what crashed where, and stay out of the pool. */
static int report_crash(worker *wk, int sig)
{
    const hpool__wire_call *h = (const hpool__wire_call *)wk->msg;
    char msg[HPOOL__MSG_MAX];
    snprintf(msg, sizeof msg, "task '%s' crashed with %s (signal %d) at item %llu on rank %d",
             hpool__task_name(h->task), signal_name(sig), sig,
             (unsigned long long)wk->cur_item, hpool__proc_rank());
    fprintf(stderr, "hpool: %s; this rank leaves the pool\n", msg);
    return send_crash(wk, sig, msg, h->slot, h->chunk_id);
}

/* slot and chunk_id: of the call item that crashed (a CALL's header is not a START's). */
static int send_crash(worker *wk, int sig, const char *msg, uint16_t slot, uint64_t chunk_id)
{
    wk->lost = true;
    hpool__buf *b = next_tx(wk);
    hpool__wire_hdr *oh = b ? hpool__buf_begin(b, HPOOL__MSG_CRASH, wk->exec_id) : NULL;
    if (oh == NULL)
        return HPOOL_ENOMEM;
    oh->slot = slot;
    oh->chunk_id = chunk_id;
    oh->first_item = wk->cur_item;
    oh->status = sig;
    if (hpool__buf_put_raw(b, msg, strlen(msg) + 1) != 0)
        return HPOOL_ENOMEM;
    return post_send(wk);
}

/* Runs the CALL at wk->msg. bundled: it came in a bundle (its RESULT is gathered into
 * one, see bundle_result), last: no more calls follow in that bundle. Its start is
 * wk->t_next_start if set (>= 0: the end of the call before it in the bundle), else read
 * here; its end is left in wk->t_last_end. */
static int handle_call(worker *wk, bool bundled, bool last)
{
    const hpool__wire_call *h = (const hpool__wire_call *)wk->msg;
    hpool_task_fn fn = hpool__task_fn(h->task);
    size_t payload = wk->msg_len - HPOOL__WIRE_CALL_SIZE;
    if (fn == NULL || (h->item_size && (uint64_t)h->item_size * h->count > payload))
        return HPOOL_EPROTO;
    if (wk->lost)
        return 0; /* rank 0 re-queued this call item when the crash report came */
    hpool__buf *out = bundled ? &wk->scratch : next_tx(wk);
    hpool__wire_result *oh = out ? hpool__buf_begin_result(out, wk->exec_id) : NULL;
    if (oh == NULL)
        return HPOOL_ENOMEM;
    oh->slot = h->slot;
    oh->chunk_id = h->chunk_id; /* count: one per item put (hpool__buf_put_result) */
    wk->ctx.spans.len = 0;
    wk->ctx.n_spans = 0;
    /* One reading for the call's receipt and start: the worker takes it up at once. Read
     * here, after next_tx (which may wait on earlier sends), not before: the window
     * policy takes end - start for the task's time. */
    const double t_start = wk->t_next_start >= 0 ? wk->t_next_start : hpool__worker_clock();
    /* Only wk (memory) is used after a jump back here; nothing local changes in between. */
    int sig = sigsetjmp(crash_env, 0);
    if (sig != 0)
        return report_crash(wk, sig);
    crash_armed = 1;
    int32_t first_status = 0;
    int rc = run_items(wk, fn, out, &first_status);
    crash_armed = 0;
    double t_end = hpool__worker_clock();
    wk->t_last_end = t_end;
    if (rc == 0 && wk->ctx.n_spans)
        rc = hpool__buf_put_raw(out, wk->ctx.spans.data, wk->ctx.spans.len);
    if (rc != 0)
        return rc;
    oh = (hpool__wire_result *)out->data; /* the buffer may have moved */
    oh->n_spans = wk->ctx.n_spans;
    oh->status = first_status;
    oh->t_start = t_start;
    oh->t_end = t_end;
    return bundled ? bundle_result(wk, last, t_start, t_end) : post_send(wk);
}

/* A bundle of CALLs: each frame is run as if it had come alone, except that one clock
 * reading serves as the end of a call and the start of the next while its result was
 * only copied into the bundle being gathered (issue 14: one reading per event; the copy,
 * ~0.1 us, is counted to the next call). After anything was sent, the next call reads
 * the clock again: a send may wait, and end - start is the task's time to the window
 * policy. */
static int handle_bundle(worker *wk)
{
    wk->t_next_start = -1;
    hpool__frame_reader fr;
    int rc = hpool__frame_reader_init(&fr, wk->rx.data, wk->rx.len, HPOOL__MSG_CALL);
    while (rc == 0) {
        const void *frame;
        size_t len;
        int next = hpool__frame_reader_next(&fr, &frame, &len);
        if (next == 1)
            break;
        if (next != 0) {
            rc = HPOOL_EPROTO;
            break;
        }
        wk->msg = frame;
        wk->msg_len = len;
        unsigned long posts = wk->posts;
        rc = handle_call(wk, true, fr.left == 0);
        wk->t_next_start = wk->posts == posts ? wk->t_last_end : -1;
    }
    wk->t_next_start = -1;
    return rc;
}

static void worker_free(worker *wk)
{
    hpool__send_ring_free(&wk->tx);
    hpool__buf_free(&wk->rx);
    hpool__buf_free(&wk->scratch);
    hpool__buf_free(&wk->ctx.result);
    hpool__buf_free(&wk->ctx.spans);
}

int hpool__worker_serve(void)
{
    worker wk;
    memset(&wk, 0, sizeof wk);
    wk.threads = 1;
    wk.t_next_start = -1;
    reset_ctx(&wk);
    install_crash_guard();
    int rc = 0;
    for (bool running = true; running && rc == 0;) {
        rc = receive(&wk);
        if (rc != 0)
            break;
        const hpool__wire_hdr *h = (const hpool__wire_hdr *)wk.rx.data;
        wk.msg = wk.rx.data;
        wk.msg_len = wk.rx.len;
        switch (h->type) {
        case HPOOL__MSG_START:
            rc = handle_start(&wk, h);
            break;
        case HPOOL__MSG_PING:
            rc = send_simple(&wk, HPOOL__MSG_PONG, 0, NULL, 0, hpool__worker_clock());
            break;
        case HPOOL__MSG_CALL:
            rc = handle_call(&wk, false, true);
            break;
        case HPOOL__MSG_BUNDLE:
            rc = handle_bundle(&wk);
            break;
        case HPOOL__MSG_STOP:
            rc = send_simple(&wk, HPOOL__MSG_STOP_ACK, 0, NULL, 0, 0);
            wk.exec_id = 0;
            break;
        case HPOOL__MSG_FINALIZE:
            running = false;
            break;
        default:
            rc = HPOOL_EPROTO;
        }
    }
    worker_free(&wk);
    if (rc != 0)
        fprintf(stderr, "hpool: worker rank %d stops: %s\n", hpool__proc_rank(), hpool_strerror(rc));
    return rc;
}
