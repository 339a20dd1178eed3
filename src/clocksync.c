/* Clock synchronisation per host, all hosts at once (see clocksync.h). Manager thread only:
 * it runs when no call item is in flight (after every START_ACK, before STOP), so the
 * only messages that can arrive are the PONGs it asks for. */
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "clocksync.h"
#include "errors.h"
#include "proc.h" /* the communicator, its size, the worker timeout */
#include "wire.h"

/* A follower's leader when it shares rank 0's host: rank 0's own clock. */
#define ON_MANAGER_HOST (-2)

/* Per peer (index into the caller's peers). */
typedef struct {
    int leader;        /* worker index whose clock this rank shares; itself for a leader;
                          ON_MANAGER_HOST: rank 0's */
    int rounds_done;   /* ping-pong rounds answered */
    double t_first;    /* manager time its first PING of this sync left */
    bool pending;      /* a PING is out, its PONG not yet in */
    bool own;          /* synced by its own ping-pong (leader, or disagreed with its host) */
    double t_sent;     /* manager time the outstanding PING left */
    hpool__clock_sample sample;
} peer;

typedef struct {
    const hpool__sync_peer *peers;
    int n;
    int *index_of_rank; /* world size entries: rank -> peer index, -1 */
    peer *p;
    hpool__buf ping, rx;
} sync_run;

static int send_ping(sync_run *s, int wi)
{
    peer *p = &s->p[wi];
    p->t_sent = hpool__now(); /* just before the send: building is not counted */
    if (MPI_Send(s->ping.data, (int)s->ping.len, MPI_BYTE, s->peers[wi].rank,
                 HPOOL__TAG_TO_WORKER, hpool__proc_comm()) != MPI_SUCCESS)
        return HPOOL_EMPI;
    p->pending = true;
    return 0;
}

/* Receive the next PONG from any worker. *wi, its worker reading and the manager time the
 * probe first saw it (before the receive copies it, so that the inbound leg is not longer
 * than the outbound one by the receive's own work). 1 with a PONG, 0 when none is there
 * (or the message was a lost worker's, dropped). */
static int poll_pong(sync_run *s, int *wi, double *t_worker, double *t_arrived)
{
    int flag = 0;
    MPI_Message msg;
    MPI_Status st;
    MPI_Improbe(MPI_ANY_SOURCE, HPOOL__TAG_TO_MANAGER, hpool__proc_comm(), &flag, &msg, &st);
    if (!flag)
        return 0;
    *t_arrived = hpool__now();
    int n = 0;
    MPI_Get_count(&st, MPI_BYTE, &n);
    if (hpool__buf_reserve(&s->rx, (size_t)n) != 0)
        return HPOOL_ENOMEM;
    MPI_Mrecv(s->rx.data, n, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
    s->rx.len = (size_t)n;
    const hpool__wire_hdr *h = (const hpool__wire_hdr *)s->rx.data;
    int src = st.MPI_SOURCE;
    *wi = src >= 0 && src < hpool__proc_size() ? s->index_of_rank[src] : -1;
    /* A late START_ACK of a worker already given up as lost is no answer, and no reason
     * to fail the others' sync: it is dropped, as the manager's receive loop would. */
    if (*wi >= 0 && s->peers[*wi].lost)
        return 0;
    if (hpool__wire_check(s->rx.data, s->rx.len) != 0 || h->type != HPOOL__MSG_PONG ||
        *wi < 0 || !s->p[*wi].pending)
        return HPOOL_EPROTO;
    s->p[*wi].pending = false;
    *t_worker = h->t[0];
    return 1;
}

/* Wait for the PONGs of `count` pings out; for each, `on_pong` decides whether another
 * PING goes to that worker. A worker that does not answer within worker_timeout_s of its
 * PING fails the sync. */
typedef int (*pong_fn)(sync_run *s, int wi, double t_worker, double t_arrived, bool *again);

static int collect(sync_run *s, int *list, int count, pong_fn on_pong)
{
    int out = count;
    unsigned spins = 0;
    while (out > 0) {
        int wi = -1;
        double t_worker = 0, t_arrived = 0;
        int got = poll_pong(s, &wi, &t_worker, &t_arrived);
        if (got < 0)
            return got;
        if (got == 1) {
            bool again = false;
            int rc = on_pong(s, wi, t_worker, t_arrived, &again);
            if (rc == 0 && again)
                rc = send_ping(s, wi);
            if (rc != 0)
                return rc;
            out -= !again;
            spins = 0;
            continue;
        }
        /* Nothing yet: is some PING overdue? One pass over the outstanding list every
         * 256 empty polls, so that checking deadlines does not grow the cost per PONG. */
        if ((++spins & 255) == 0) {
            double now = hpool__now(), timeout = hpool__proc_worker_timeout();
            for (int k = 0; k < count; k++)
                if (s->p[list[k]].pending && now - s->p[list[k]].t_sent > timeout)
                    return HPOOL_ETIMEDOUT;
        }
        if (spins > 100)
            sched_yield();
    }
    return 0;
}

static int on_round(sync_run *s, int wi, double t_worker, double t_arrived, bool *again)
{
    peer *p = &s->p[wi];
    hpool__clock_sample_add(&p->sample, p->t_sent, t_worker, t_arrived);
    p->rounds_done++;
    *again = p->rounds_done < HPOOL__CLOCK_MIN_ROUNDS ||
             (p->rounds_done < HPOOL__CLOCK_ROUNDS &&
              t_arrived - p->t_first < HPOOL__CLOCK_BUDGET_S);
    return 0;
}

/* Ping-pong every worker of list HPOOL__CLOCK_ROUNDS times (clock.h: fewer on a loaded
 * node), all at once. */
static int ping_pong(sync_run *s, int *list, int count)
{
    for (int k = 0; k < count; k++) {
        peer *p = &s->p[list[k]];
        hpool__clock_sample_reset(&p->sample);
        p->rounds_done = 0;
        p->own = true;
        int rc = send_ping(s, list[k]);
        p->t_first = p->t_sent;
        if (rc != 0)
            return rc;
    }
    return collect(s, list, count, on_round);
}

/* One PING to a follower: does its reading, put on the manager's clock with its leader's
 * offset, fall inside the round trip (widened by the leader's own error)? */
static int on_check(sync_run *s, int wi, double t_worker, double t_arrived, bool *again)
{
    peer *p = &s->p[wi];
    /* Rank 0's own host: rank 0's clock, offset 0 exactly, no error of its own. */
    static const hpool__clock_sample manager = {.offset = 0, .rtt = 0, .at = 0};
    const hpool__clock_sample *lead = p->leader == ON_MANAGER_HOST ? &manager
                                                                  : &s->p[p->leader].sample;
    double mapped = t_worker + lead->offset;
    double slack = lead->rtt / 2 + 1e-8; /* + rounding of readings ~1e5 s */
    p->own = !(mapped >= p->t_sent - slack && mapped <= t_arrived + slack);
    if (!p->own && p->leader == ON_MANAGER_HOST) {
        /* The offset is 0 (one clock); the bound stays what this check measured. */
        double rtt = t_arrived - p->t_sent;
        p->sample = (hpool__clock_sample){.offset = 0, .rtt = rtt, .at = p->t_sent + rtt / 2};
    } else if (!p->own) {
        p->sample = *lead; /* one clock: the leader's sample and error bound hold as they are */
    }
    *again = false;
    return 0;
}

/* Group the live workers by host; list receives the leaders, then the followers (the
 * workers on rank 0's own host follow rank 0 itself). */
static int group_by_host(sync_run *s, int *list, int *n_leaders, int *n_followers)
{
    int world = hpool__proc_size();
    int *leader_of_host = malloc((size_t)world * sizeof *leader_of_host);
    if (leader_of_host == NULL)
        return HPOOL_ENOMEM;
    for (int h = 0; h < world; h++)
        leader_of_host[h] = -1;
    int nl = 0, nf = 0;
    for (int i = 0; i < s->n; i++) {
        if (s->peers[i].lost)
            continue;
        int host = s->peers[i].host;
        if (host < 0 || host >= world)
            host = s->peers[i].rank; /* unknown: its own host */
        if (host == 0) { /* rank 0's host (host ids are the lowest rank of a host) */
            s->p[i].leader = ON_MANAGER_HOST;
            continue;
        }
        if (leader_of_host[host] < 0) {
            leader_of_host[host] = i;
            list[nl++] = i;
        }
        s->p[i].leader = leader_of_host[host];
    }
    /* Followers after the leaders, in worker order. */
    for (int i = 0; i < s->n; i++)
        if (!s->peers[i].lost && s->p[i].leader != i)
            list[nl + nf++] = i;
    free(leader_of_host);
    *n_leaders = nl;
    *n_followers = nf;
    return 0;
}

static int run(sync_run *s, bool at_end, hpool__sync_times *times)
{
    int *list = malloc((size_t)(s->n > 0 ? s->n : 1) * sizeof *list);
    if (list == NULL)
        return HPOOL_ENOMEM;
    int nl = 0, nf = 0;
    int rc = group_by_host(s, list, &nl, &nf);
    if (rc == 0)
        rc = ping_pong(s, list, nl);
    if (rc == 0 && !at_end)
        times->hosts = nl;
    int *followers = list + nl;
    for (int k = 0; k < nf && rc == 0; k++)
        rc = send_ping(s, followers[k]);
    if (rc == 0)
        rc = collect(s, followers, nf, on_check);
    /* Those that disagreed with their host get their own sync. */
    int n_own = 0;
    for (int k = 0; k < nf && rc == 0; k++)
        if (s->p[followers[k]].own)
            followers[n_own++] = followers[k];
    if (rc == 0 && n_own > 0)
        rc = ping_pong(s, followers, n_own);
    if (rc == 0 && !at_end)
        times->own_sync = n_own;
    for (int i = 0; i < s->n && rc == 0; i++) {
        hpool__clock_map *m = s->peers[i].map;
        if (s->peers[i].lost)
            continue;
        if (at_end) {
            m->end = s->p[i].sample;
            m->have_end = true;
        } else {
            m->start = s->p[i].sample;
            m->have_start = true;
        }
    }
    free(list);
    return rc;
}

int hpool__clocksync_run(const hpool__sync_peer *peers, int n, int exec_id, bool at_end,
                         double t_created, hpool__sync_times *times)
{
    double t0 = hpool__now(), cpu0 = hpool__thread_cpu();
    sync_run s = {.peers = peers, .n = n};
    s.p = calloc((size_t)(n > 0 ? n : 1), sizeof *s.p);
    s.index_of_rank = malloc((size_t)hpool__proc_size() * sizeof *s.index_of_rank);
    hpool__wire_hdr *ph =
        s.p && s.index_of_rank ? hpool__buf_begin(&s.ping, HPOOL__MSG_PING, exec_id) : NULL;
    int rc = ph ? 0 : HPOOL_ENOMEM;
    if (rc == 0) {
        ph->task = -1;
        for (int r = 0; r < hpool__proc_size(); r++)
            s.index_of_rank[r] = -1;
        for (int i = 0; i < n; i++)
            if (peers[i].rank > 0 && peers[i].rank < hpool__proc_size())
                s.index_of_rank[peers[i].rank] = i;
            else
                rc = HPOOL_EINVAL;
    }
    if (rc == 0)
        rc = run(&s, at_end, times);
    free(s.p);
    free(s.index_of_rank);
    hpool__buf_free(&s.ping);
    hpool__buf_free(&s.rx);
    double t1 = hpool__now();
    times->cpu_s += hpool__thread_cpu() - cpu0;
    if (at_end) {
        times->final_sync_s = t1 - t0;
    } else {
        times->t_ready = t1;
        times->startup_s = t1 - t_created;
    }
    return rc;
}

