/* Placement of hybrid ranks: rank 0's side (the worker side, reading hwloc and binding the
 * team, is in topology.c).
 *
 * Manager side: collect the rows from the START_ACKs, add rank 0's manager thread, compare
 * hosts (oversubscription, cores shared between ranks), publish the table under the library lock.
 * Tables live in a list owned by this file; one whose executor has been destroyed is freed
 * when the next table is published (executor.c does not know about tables). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "executor.h"
#include "sync.h"
#include "placement.h"
#include "topology.h"

/* ---------------------------------------------------------------- manager: the table */
typedef struct hpool__placement {
    int exec_id;
    hpool_placement *rows;
    size_t n, cap;
    unsigned flags;
    char *warnings;       /* "" or lines */
    struct hpool__placement *next; /* tables list; the library lock */
} hpool__placement;

static hpool__placement *tables; /* every table not yet freed; the library lock */

static void table_free(hpool__placement *t)
{
    for (size_t i = 0; i < t->n; i++)
        free((char *)t->rows[i].cpuset); /* the table's own copies */
    free(t->rows);
    free(t->warnings);
    free(t);
}


int hpool__topo_split_ack(const void *payload, size_t len, const char **msg,
                          const void **block, size_t *block_len)
{
    const unsigned char *p = payload;
    const unsigned char *nul = len ? memchr(p, '\0', len) : NULL;
    if (nul == NULL)
        return HPOOL_EPROTO;
    size_t off = hpool__pad8((size_t)(nul - p) + 1);
    if (off > len)
        return HPOOL_EPROTO;
    *msg = (const char *)p;
    *block = p + off;
    *block_len = len - off;
    return 0;
}

static int table_reserve(hpool__placement *t, size_t more)
{
    if (t->n + more <= t->cap)
        return 0;
    size_t cap = t->cap ? t->cap : 16;
    while (cap < t->n + more)
        cap *= 2;
    hpool_placement *r = realloc(t->rows, cap * sizeof *r);
    if (r == NULL)
        return HPOOL_ENOMEM;
    t->rows = r;
    t->cap = cap;
    return 0;
}

static hpool__placement *build_table(hpool_executor *ex)
{
    if (ex->placement_build)
        return ex->placement_build;
    hpool__placement *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->exec_id = ex->id;
    hpool__lock();
    t->next = tables;
    tables = t;
    hpool__unlock();
    ex->placement_build = t;
    return t;
}

static bool text_ok(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

int hpool__placement_add(hpool_executor *ex, int rank, const void *block, size_t len)
{
    if (ex->placement) /* published already (manager-only field, see finish) */
        return 0;
    hpool__wire_place_hdr ph;
    if (len < sizeof ph)
        return HPOOL_EPROTO;
    memcpy(&ph, block, sizeof ph);
    if (ph.magic != HPOOL__PLACE_MAGIC || ph.rec_size != sizeof(hpool__wire_place) ||
        ph.count > HPOOL__PLACE_MAX_ROWS)
        return HPOOL_EPROTO;
    size_t rows_len = (size_t)ph.count * ph.rec_size;
    /* rows, then the cpuset text and its NUL, ending the block exactly */
    if (len - sizeof ph < rows_len || len - sizeof ph - rows_len != (size_t)ph.cpuset_len + 1)
        return HPOOL_EPROTO;
    const unsigned char *p = (const unsigned char *)block + sizeof ph;
    const char *cpuset = (const char *)p + rows_len;
    if (memchr(cpuset, '\0', (size_t)ph.cpuset_len + 1) != cpuset + ph.cpuset_len)
        return HPOOL_EPROTO;
    hpool__placement *t = build_table(ex);
    if (t == NULL || table_reserve(t, ph.count) != 0)
        return HPOOL_ENOMEM;
    for (uint32_t i = 0; i < ph.count; i++) {
        hpool__wire_place w;
        memcpy(&w, p + (size_t)i * sizeof w, sizeof w); /* the message may be unaligned */
        if (w.thread != (int32_t)i || w.cpu < -1 || w.core < -1 || w.numa < -1 ||
            w.cpuset_pus < 0 || w.host_pus < 0 || w.binding < HPOOL_BIND_NONE ||
            w.binding > HPOOL_BIND_OPENMP || !text_ok(w.host, sizeof w.host) ||
            w.host[0] == '\0')
            return HPOOL_EPROTO; /* rows of this worker are not counted (t->n unchanged) */
    }
    for (uint32_t i = 0; i < ph.count; i++) {
        hpool__wire_place w;
        memcpy(&w, p + (size_t)i * sizeof w, sizeof w);
        hpool_placement *r = &t->rows[t->n];
        memset(r, 0, sizeof *r);
        r->cpuset = strdup(cpuset);
        if (r->cpuset == NULL)
            return HPOOL_ENOMEM; /* rows added so far stay, each with its own copy */
        t->n++;
        memcpy(r->host, w.host, sizeof r->host);
        r->rank = rank;
        r->thread = w.thread;
        r->cpu = w.cpu;
        r->core = w.core;
        r->numa = w.numa;
        r->cpuset_pus = w.cpuset_pus;
        r->host_pus = w.host_pus;
        r->binding = (hpool_bind_kind)w.binding;
        r->flags = w.flags & (HPOOL_PLACE_OVERSUBSCRIBED | HPOOL_PLACE_SMT | HPOOL_PLACE_UNBOUND);
    }
    return 0;
}

static int by_rank_thread(const void *a, const void *b)
{
    const hpool_placement *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return (x->thread > y->thread) - (x->thread < y->thread);
}

/* Row order for finding shared cores: host, core, rank. */
static int by_host_core(const void *a, const void *b)
{
    const hpool_placement *x = *(const hpool_placement *const *)a;
    const hpool_placement *y = *(const hpool_placement *const *)b;
    int c = strcmp(x->host, y->host);
    if (c != 0)
        return c;
    if (x->core != y->core)
        return x->core < y->core ? -1 : 1;
    return (x->rank > y->rank) - (x->rank < y->rank);
}

static bool is_worker_row(const hpool_placement *r)
{
    return r->thread >= 0;
}

/* Per rank: more threads than PUs in its cpuset; SMT and unbound notes. Rows are sorted by
 * rank, so a rank's rows are consecutive. */
static void check_ranks(hpool__placement *t, FILE *w)
{
    for (size_t i = 0; i < t->n;) {
        size_t j = i;
        unsigned f = 0;
        while (j < t->n && t->rows[j].rank == t->rows[i].rank)
            f |= t->rows[j++].flags;
        const hpool_placement *r = &t->rows[i];
        if (is_worker_row(r)) {
            int threads = (int)(j - i);
            if (f & HPOOL_PLACE_OVERSUBSCRIBED)
                fprintf(w, "oversubscribed: rank %d on %s runs %d threads on a cpuset of %d PUs (%s)\n",
                        r->rank, r->host, threads, r->cpuset_pus, r->cpuset);
            if (f & HPOOL_PLACE_SMT)
                fprintf(w, "note: rank %d on %s: %d threads share cores (cpuset %s)\n", r->rank,
                        r->host, threads, r->cpuset);
            if (f & HPOOL_PLACE_UNBOUND)
                fprintf(w, "note: rank %d on %s: threads not bound by hpool (HPOOL_BIND=none, "
                           "or no launcher binding and no local rank to split the host)\n",
                        r->rank, r->host);
        }
        i = j;
    }
}

/* Per host: more worker threads than PUs; cores that run threads of several ranks. */
static int check_hosts(hpool__placement *t, FILE *w)
{
    hpool_placement **v = malloc(t->n * sizeof *v);
    if (v == NULL)
        return HPOOL_ENOMEM;
    size_t m = 0;
    for (size_t i = 0; i < t->n; i++)
        if (is_worker_row(&t->rows[i]))
            v[m++] = &t->rows[i];
    qsort(v, m, sizeof *v, by_host_core);
    int shared_lines = 0, shared_more = 0;
    for (size_t i = 0; i < m;) {
        size_t j = i;
        int host_pus = 0;
        while (j < m && strcmp(v[j]->host, v[i]->host) == 0) {
            if (v[j]->host_pus > host_pus)
                host_pus = v[j]->host_pus;
            j++;
        }
        if (host_pus > 0 && (int)(j - i) > host_pus) {
            for (size_t k = i; k < j; k++)
                v[k]->flags |= HPOOL_PLACE_OVERSUBSCRIBED;
            fprintf(w, "oversubscribed: host %s runs %zu worker threads on %d PUs\n",
                    v[i]->host, j - i, host_pus);
        }
        /* Cores of this host: a group of rows with one core; shared if two ranks, both
         * bound (unbound threads move, their core is only where they last ran). */
        for (size_t a = i; a < j;) {
            size_t b = a;
            bool shared = false;
            while (b < j && v[b]->core == v[a]->core) {
                if (v[b]->rank != v[a]->rank && v[a]->core >= 0 &&
                    v[a]->binding != HPOOL_BIND_NONE && v[b]->binding != HPOOL_BIND_NONE)
                    shared = true;
                b++;
            }
            if (shared) {
                for (size_t k = a; k < b; k++)
                    if (v[k]->binding != HPOOL_BIND_NONE)
                        v[k]->flags |= HPOOL_PLACE_SHARED_CORE;
                if (shared_lines++ < 8) {
                    fprintf(w, "shared core: host %s core %d runs threads of ranks", v[a]->host,
                            v[a]->core);
                    for (size_t k = a; k < b; k++)
                        if (k == a || v[k]->rank != v[k - 1]->rank)
                            fprintf(w, " %d", v[k]->rank);
                    fputc('\n', w);
                } else {
                    shared_more++;
                }
            }
            a = b;
        }
        i = j;
    }
    if (shared_more)
        fprintf(w, "shared core: ... and %d more cores\n", shared_more);
    free(v);
    return 0;
}

/* Print the warnings that cost performance, once per distinct text per process (every
 * executor of a program usually sees the same placement). HPOOL_PLACEMENT_WARNINGS=0
 * silences them; the table keeps them either way. */
static void print_warnings(const hpool__placement *t)
{
    static char *last;
    if (!(t->flags & (HPOOL_PLACE_OVERSUBSCRIBED | HPOOL_PLACE_SHARED_CORE)))
        return;
    const char *env = getenv("HPOOL_PLACEMENT_WARNINGS");
    if (env && strcmp(env, "0") == 0)
        return;
    if (last && strcmp(last, t->warnings) == 0)
        return;
    free(last);
    last = strdup(t->warnings);
    for (const char *p = t->warnings; *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (strncmp(p, "note:", 5) != 0)
            fprintf(stderr, "hpool: placement (executor %d): %.*s\n", t->exec_id, (int)n, p);
        p += n + (e ? 1 : 0);
    }
}


int hpool__placement_finish(hpool_executor *ex)
{
    /* Once per executor. ex->placement is written only by this thread (the manager),
     * so reading it here without the library lock is safe. */
    if (ex->placement)
        return 0;
    hpool__topo_ensure();
    hpool__placement *t = build_table(ex);
    if (t == NULL || table_reserve(t, 1) != 0)
        return HPOOL_ENOMEM;
    hpool_placement *mgr = &t->rows[t->n];
    hpool__topo_manager_row(mgr);
    mgr->cpuset = strdup(mgr->cpuset);
    if (mgr->cpuset == NULL)
        return HPOOL_ENOMEM;
    t->n++;
    qsort(t->rows, t->n, sizeof *t->rows, by_rank_thread);
    char *text = NULL;
    size_t text_len = 0;
    FILE *w = open_memstream(&text, &text_len);
    if (w == NULL)
        return HPOOL_ENOMEM;
    check_ranks(t, w);
    int rc = check_hosts(t, w);
    if (fclose(w) != 0 || text == NULL)
        rc = HPOOL_ENOMEM;
    if (rc != 0) {
        free(text);
        return rc;
    }
    t->warnings = text;
    for (size_t i = 0; i < t->n; i++)
        t->flags |= t->rows[i].flags;
    print_warnings(t);

    hpool__lock();
    ex->placement = t;
    ex->placement_build = NULL;
    /* Free the tables of executors that were destroyed since (nobody can ask for them). */
    for (hpool__placement **pp = &tables; *pp;) {
        hpool__placement *o = *pp;
        if (o != t && !hpool__executor_alive_locked(o->exec_id)) {
            *pp = o->next;
            table_free(o);
        } else {
            pp = &o->next;
        }
    }
    hpool__notify_locked();
    hpool__unlock();
    return 0;
}

/* ---------------------------------------------------------------- start-up waits */
/* The table above is published when every worker acknowledged START; the executor is
 * ready a moment later, when the clocks are synchronised too (clocksync.h). */
void hpool__startup_mark_ready(hpool_executor *ex)
{
    hpool__lock();
    ex->sync.ready = true;
    hpool__notify_locked();
    hpool__unlock();
}

static bool ready_or_end(const void *what)
{
    const hpool_executor *ex = what;
    return ex->destroyed || ex->broken || ex->sync.ready || ex->drained;
}

int hpool_executor_wait_ready(hpool_executor *ex, double timeout_s)
{
    static const char fn[] = "hpool_executor_wait_ready";
    if (ex == NULL)
        return hpool__fail(HPOOL_EINVAL, "%s: executor is NULL", fn);
    double deadline = hpool__deadline(timeout_s);
    int rc = 0;
    hpool__lock();
    for (;;) {
        if (ex->destroyed) {
            rc = hpool__fail(HPOOL_ESTATE, "%s: executor was destroyed", fn);
            break;
        }
        if (ex->broken) {
            rc = hpool__fail(HPOOL_EBROKEN, "%s: %s", fn, ex->broken_msg);
            break;
        }
        if (ex->sync.ready || ex->drained)
            break;
        /* The manager thread does the start: waiting on it there answers ESTATE. */
        rc = hpool__wait_locked(ready_or_end, ex, deadline, fn);
        if (rc == HPOOL_ETIMEDOUT && !ready_or_end(ex)) {
            rc = hpool__fail(HPOOL_ETIMEDOUT, "%s: workers not started within %g s", fn,
                             timeout_s);
            break;
        }
        if (rc != 0 && rc != HPOOL_ETIMEDOUT)
            break;
        rc = 0;
    }
    hpool__unlock();
    return rc;
}

/* ---------------------------------------------------------------- public API */
static bool table_or_end(const void *what)
{
    const hpool_executor *ex = what;
    return ex->destroyed || ex->placement || ex->broken || ex->drained;
}

static int wait_table(hpool_executor *ex, const char *fn, hpool__placement **out)
{
    if (ex == NULL)
        return hpool__fail(HPOOL_EINVAL, "%s: executor is NULL", fn);
    int rc = 0;
    hpool__lock();
    for (;;) {
        if (ex->destroyed) {
            rc = hpool__fail(HPOOL_ESTATE, "%s: executor was destroyed", fn);
            break;
        }
        if (ex->placement) {
            *out = ex->placement;
            break;
        }
        if (ex->broken) {
            rc = hpool__fail(HPOOL_EBROKEN, "%s: %s", fn, ex->broken_msg);
            break;
        }
        if (ex->drained) {
            rc = hpool__fail(HPOOL_ESTATE, "%s: executor ended without a placement table", fn);
            break;
        }
        /* The manager thread fills the table: waiting on it there answers ESTATE. */
        rc = hpool__wait_locked(table_or_end, ex, INFINITY, fn);
        if (rc != 0)
            break;
    }
    hpool__unlock();
    return rc;
}

int hpool_executor_placement(hpool_executor *ex, const hpool_placement **rows, size_t *n)
{
    if (rows == NULL || n == NULL)
        return hpool__fail(HPOOL_EINVAL, "hpool_executor_placement: NULL argument");
    hpool__placement *t;
    int rc = wait_table(ex, "hpool_executor_placement", &t);
    if (rc != 0)
        return rc;
    *rows = t->rows;
    *n = t->n;
    return 0;
}

int hpool_executor_placement_warnings(hpool_executor *ex, unsigned *flags, const char **text)
{
    hpool__placement *t;
    int rc = wait_table(ex, "hpool_executor_placement_warnings", &t);
    if (rc != 0)
        return rc;
    if (flags)
        *flags = t->flags;
    if (text)
        *text = t->warnings;
    return 0;
}

/* snprintf that keeps counting past the end of buf. */
static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(*len < cap ? buf + *len : NULL, *len < cap ? cap - *len : 0, fmt, ap);
    va_end(ap);
    if (k > 0)
        *len += (size_t)k;
}

size_t hpool_placement_format(const hpool_placement *rows, size_t n, char *buf, size_t cap)
{
    if (cap > 0)
        buf[0] = '\0';
    int hw = 4;
    for (size_t i = 0; rows && i < n; i++) {
        int l = (int)strnlen(rows[i].host, sizeof rows[i].host);
        if (l > hw)
            hw = l;
    }
    static const char *const bind[] = {"none", "hpool", "openmp"};
    size_t len = 0;
    put(buf, cap, &len, "%-*s %4s %6s %4s %4s %4s %-6s %-8s %s\n", hw, "host", "rank", "thread",
        "cpu", "core", "numa", "bound", "cpuset", "flags");
    for (size_t i = 0; rows && i < n; i++) {
        const hpool_placement *r = &rows[i];
        char th[16];
        if (r->thread < 0)
            snprintf(th, sizeof th, "mgr");
        else
            snprintf(th, sizeof th, "%d", r->thread);
        unsigned b = (unsigned)r->binding;
        put(buf, cap, &len, "%-*.*s %4d %6s %4d %4d %4d %-6s %-8s", hw, HPOOL_HOST_MAX,
            r->host, r->rank, th, r->cpu, r->core, r->numa, b < 3 ? bind[b] : "?",
            r->cpuset ? r->cpuset : "?");
        if (r->flags == 0)
            put(buf, cap, &len, " -");
        if (r->flags & HPOOL_PLACE_OVERSUBSCRIBED)
            put(buf, cap, &len, " oversubscribed");
        if (r->flags & HPOOL_PLACE_SHARED_CORE)
            put(buf, cap, &len, " shared-core");
        if (r->flags & HPOOL_PLACE_SMT)
            put(buf, cap, &len, " smt");
        if (r->flags & HPOOL_PLACE_UNBOUND)
            put(buf, cap, &len, " unbound");
        put(buf, cap, &len, "\n");
    }
    return len;
}
