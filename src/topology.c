/* Placement of hybrid ranks (hwloc).
 *
 * Worker side, at executor START (the team size is known only then): read the topology
 * once, remember the cpuset the launcher gave this rank (before hpool binds anything),
 * choose one PU per OpenMP thread inside that cpuset, and bind each team thread from
 * inside a parallel region, since a thread binding only applies to the thread that makes
 * it. The rows go to rank 0 in the START_ACK.
 *
 * Choosing PUs, without talking to the other ranks (START has no round for that):
 *  - The launcher bound the rank (its cpuset is smaller than the host): stay inside it.
 *    Ranks that share such a cpuset (e.g. --bind-to package) start at different cores,
 *    offset by their local rank, so they do not stack on the first cores.
 *  - Nothing bound (the cpuset is the whole host): split the host's cores in equal blocks
 *    between the worker ranks of the host, known from MPI at hpool_init (ranks that share
 *    memory, MPI_COMM_TYPE_SHARED; rank 0, the manager, does not count as a worker).
 *  - Threads take one core each while there are cores, then second PUs (SMT), then wrap
 *    (oversubscribed). OMP_PROC_BIND set by the user, or HPOOL_BIND=none, means hpool does
 *    not bind at all and only reports.
 *
 * Rank 0's side (the placement table, warnings, the public API) is in placement.c; it
 * takes the manager thread's row from here (hpool__topo_manager_row). */
#define _GNU_SOURCE /* sched_getcpu */
#include <ctype.h>
#include <errno.h>
#include <hwloc.h>
#include <omp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "proc.h"
#include "task_ctx.h" /* hpool__team_publish/observe */
#include "topology.h"

#include <limits.h>
#ifdef HOST_NAME_MAX
_Static_assert(HPOOL_HOST_MAX >= HOST_NAME_MAX + 1, "a host name the kernel allows must fit");
#endif

/* ---------------------------------------------------------------- hosts, from MPI */
static struct {
    bool known;          /* hpool__topo_init ran */
    int local_index;     /* among the worker ranks of this host */
    int local_workers;   /* worker ranks on this host */
    int *host_of;        /* rank 0: world size entries, the lowest world rank of each host */
    int size;
} hosts;

int hpool__topo_init(MPI_Comm comm)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    MPI_Comm node;
    /* key = world rank: local rank 0 of each host is its lowest world rank, so world rank
     * 0 (the manager) is local rank 0 of its host. */
    if (MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node) !=
        MPI_SUCCESS)
        return HPOOL_EMPI;
    int local, local_size, first = rank;
    MPI_Comm_rank(node, &local);
    MPI_Comm_size(node, &local_size);
    MPI_Bcast(&first, 1, MPI_INT, 0, node);
    MPI_Comm_free(&node);
    int manager_here = first == 0;
    hosts.local_index = local - manager_here;
    hosts.local_workers = local_size - manager_here;
    hosts.size = size;
    free(hosts.host_of);
    hosts.host_of = NULL;
    /* hwloc's load takes milliseconds of CPU per rank: done here, before the gather that
     * rank 0 waits for, so that it is over before the first executor starts (on a node
     * shared by many ranks it would otherwise be that executor's start-up). */
    hpool__topo_ensure();
    if (rank == 0) {
        hosts.host_of = malloc((size_t)size * sizeof *hosts.host_of);
        /* Without it rank 0 cannot take part; hpool_init fails and the program is expected
         * to end the job (MPI_Abort), which releases the workers in the gather. */
        if (hosts.host_of == NULL)
            return HPOOL_ENOMEM;
    }
    if (MPI_Gather(&first, 1, MPI_INT, hosts.host_of, 1, MPI_INT, 0, comm) != MPI_SUCCESS)
        return HPOOL_EMPI;
    hosts.known = true;
    return 0;
}

int hpool__topo_host_of(int rank)
{
    return hosts.host_of && rank >= 0 && rank < hosts.size ? hosts.host_of[rank] : -1;
}

void hpool__topo_fini(void)
{
    free(hosts.host_of);
    hosts.host_of = NULL;
    hosts.known = false;
}

/* ---------------------------------------------------------------- this process's topology */
static struct {
    pthread_once_t once;
    bool ok;                 /* hwloc loaded; otherwise rows carry -1 */
    hwloc_topology_t topo;
    hwloc_bitmap_t proc_set; /* the rank's cpuset as first seen: the launcher's binding */
    hwloc_bitmap_t allowed;  /* PUs of the host this job may use */
    int proc_pus, host_pus;
    char host[HPOOL_HOST_MAX];
    char *cpuset_text; /* the launcher's binding as a list, however long */
} tp = {.once = PTHREAD_ONCE_INIT};

static void load_topology(void)
{
    /* HPOOL_HOST_MAX holds any name the kernel allows, so gethostname cannot fail on
     * length (static assert above). */
    if (gethostname(tp.host, sizeof tp.host) != 0 || tp.host[0] == '\0')
        snprintf(tp.host, sizeof tp.host, "unknown-host");
    tp.host[sizeof tp.host - 1] = '\0';
    tp.proc_pus = tp.host_pus = 0;
    if (hwloc_topology_init(&tp.topo) != 0)
        return;
    /* Keep PUs outside this rank's cgroup in the tree: logical core numbers then mean the
     * same on every rank of a host whatever cgroup each runs in, so rank 0 can compare. */
    hwloc_topology_set_flags(tp.topo, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED);
    if (hwloc_topology_load(tp.topo) != 0) {
        hwloc_topology_destroy(tp.topo);
        return;
    }
    tp.allowed = hwloc_bitmap_dup(hwloc_topology_get_allowed_cpuset(tp.topo));
    tp.proc_set = hwloc_bitmap_alloc();
    if (tp.allowed == NULL || tp.proc_set == NULL)
        return;
    if (omp_get_proc_bind() != omp_proc_bind_false && omp_get_num_places() > 0) {
        /* With OMP_PROC_BIND the runtime already bound the initial thread to its first
         * place, so the process binding no longer shows what the launcher gave; the union
         * of the places does (the runtime built them from it). */
        for (int p = 0; p < omp_get_num_places(); p++) {
            int k = omp_get_place_num_procs(p);
            int *ids = k > 0 ? malloc((size_t)k * sizeof *ids) : NULL;
            if (ids == NULL)
                continue;
            omp_get_place_proc_ids(p, ids);
            for (int i = 0; i < k; i++)
                if (ids[i] >= 0)
                    hwloc_bitmap_set(tp.proc_set, (unsigned)ids[i]);
            free(ids);
        }
    } else if (hwloc_get_cpubind(tp.topo, tp.proc_set, HWLOC_CPUBIND_PROCESS) != 0 &&
               hwloc_get_cpubind(tp.topo, tp.proc_set, HWLOC_CPUBIND_THREAD) != 0) {
        hwloc_bitmap_copy(tp.proc_set, tp.allowed);
    }
    hwloc_bitmap_and(tp.proc_set, tp.proc_set, tp.allowed);
    if (hwloc_bitmap_iszero(tp.proc_set))
        hwloc_bitmap_copy(tp.proc_set, tp.allowed);
    tp.proc_pus = hwloc_bitmap_weight(tp.proc_set);
    tp.host_pus = hwloc_bitmap_weight(tp.allowed);
    if (hwloc_bitmap_list_asprintf(&tp.cpuset_text, tp.proc_set) < 0)
        tp.cpuset_text = NULL; /* then reported as "?" */
    tp.ok = tp.proc_pus > 0 && tp.host_pus > 0;
}

void hpool__topo_ensure(void)
{
    pthread_once(&tp.once, load_topology);
}

const char *hpool__topo_cpuset_text(void)
{
    return tp.cpuset_text ? tp.cpuset_text : "?";
}

/* Core (logical index) and NUMA node (OS index) of PU `cpu`; -1 when unknown. */
static void describe_cpu(int cpu, int32_t *core, int32_t *numa)
{
    *core = -1;
    *numa = -1;
    if (!tp.ok || cpu < 0)
        return;
    hwloc_obj_t pu = hwloc_get_pu_obj_by_os_index(tp.topo, (unsigned)cpu);
    if (pu == NULL)
        return;
    hwloc_obj_t c = hwloc_get_ancestor_obj_by_type(tp.topo, HWLOC_OBJ_CORE, pu);
    *core = (int32_t)(c ? c->logical_index : pu->logical_index);
    for (hwloc_obj_t n = hwloc_get_next_obj_by_type(tp.topo, HWLOC_OBJ_NUMANODE, NULL); n;
         n = hwloc_get_next_obj_by_type(tp.topo, HWLOC_OBJ_NUMANODE, n))
        if (n->cpuset && hwloc_bitmap_isset(n->cpuset, (unsigned)cpu)) {
            *numa = (int32_t)n->os_index;
            break;
        }
}

/* Where the calling thread is: its binding if that is one PU, else where it last ran. */
static int current_cpu(void)
{
    int cpu = -1;
    if (tp.ok) {
        hwloc_bitmap_t s = hwloc_bitmap_alloc();
        if (s && hwloc_get_cpubind(tp.topo, s, HWLOC_CPUBIND_THREAD) == 0 &&
            hwloc_bitmap_weight(s) == 1)
            cpu = hwloc_bitmap_first(s);
        else if (s && hwloc_get_last_cpu_location(tp.topo, s, HWLOC_CPUBIND_THREAD) == 0)
            cpu = hwloc_bitmap_first(s);
        hwloc_bitmap_free(s);
    }
    return cpu >= 0 ? cpu : sched_getcpu();
}

/* ---------------------------------------------------------------- worker: threads, plan */
static bool parse_int(const char *s, long *v)
{
    if (s == NULL)
        return false;
    char *end;
    errno = 0;
    *v = strtol(s, &end, 10);
    while (end != s && isspace((unsigned char)*end))
        end++;
    return end != s && errno == 0 && (*end == '\0' || *end == ',');
}

static bool local_workers(int *index, int *count);

int hpool__topo_default_threads(void)
{
    long v;
    /* "4" or "4,2" (nested levels): the first level is the worker's team. */
    if (parse_int(getenv("OMP_NUM_THREADS"), &v) && v >= 1)
        return v > 1024 ? 1024 : (int)v;
    hpool__topo_ensure();
    if (tp.ok) {
        int pus = tp.proc_pus;
        /* Nobody bound this rank (its cpuset is the whole host): its fair share of the
         * host's PUs, so that the worker ranks of a host do not oversubscribe it by
         * default. A launcher-bound rank gets its whole cpuset. */
        int index, count;
        if (pus == tp.host_pus && local_workers(&index, &count) && count > 1)
            pus = pus / count > 0 ? pus / count : 1;
        return pus > 1024 ? 1024 : pus;
    }
    int p = omp_get_num_procs();
    return p >= 1 ? p : 1;
}

/* This rank's index among the worker ranks of its host and their number (hpool__topo_init,
 * from MPI): rank 0, the manager, is not counted. False before hpool_init. */
static bool local_workers(int *index, int *count)
{
    if (!hosts.known || hosts.local_workers < 1 || hosts.local_index < 0)
        return false;
    *index = hosts.local_index;
    *count = hosts.local_workers;
    return true;
}

typedef struct {
    int n_cores;
    int *first;  /* n_cores + 1 offsets into pus */
    int *pus;    /* OS indices, per core, only PUs of the rank's cpuset */
} core_list;

static void core_list_free(core_list *cl)
{
    free(cl->first);
    free(cl->pus);
}

/* The cores that meet the rank's cpuset, in logical order, with their PUs in it. Falls back
 * to PUs as cores when the topology has no core level. */
static int core_list_build(core_list *cl)
{
    memset(cl, 0, sizeof *cl);
    hwloc_obj_type_t type =
        hwloc_get_nbobjs_by_type(tp.topo, HWLOC_OBJ_CORE) > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
    int total = hwloc_get_nbobjs_by_type(tp.topo, type);
    cl->first = calloc((size_t)total + 1, sizeof *cl->first);
    cl->pus = calloc((size_t)tp.proc_pus, sizeof *cl->pus);
    if (cl->first == NULL || cl->pus == NULL)
        return HPOOL_ENOMEM;
    int np = 0;
    for (hwloc_obj_t c = hwloc_get_next_obj_by_type(tp.topo, type, NULL); c;
         c = hwloc_get_next_obj_by_type(tp.topo, type, c)) {
        if (!hwloc_bitmap_intersects(c->cpuset, tp.proc_set))
            continue;
        int before = np;
        for (int pu = hwloc_bitmap_first(c->cpuset); pu >= 0 && np < tp.proc_pus;
             pu = hwloc_bitmap_next(c->cpuset, pu))
            if (hwloc_bitmap_isset(tp.proc_set, (unsigned)pu))
                cl->pus[np++] = pu;
        if (np > before)
            cl->first[++cl->n_cores] = np;
    }
    return 0;
}

/* One PU per thread: cores [lo, hi) of cl starting at core `offset` (relative), first PU
 * of each core, then the second PUs, ...; beyond all PUs the order repeats. */
static void assign_pus(const core_list *cl, int lo, int hi, int offset, int threads, int *pu)
{
    int span = hi - lo, slots = cl->first[hi] - cl->first[lo];
    int t = 0;
    for (int k = 0; t < threads && t < slots; k++)
        for (int j = 0; j < span && t < threads; j++) {
            int c = lo + (offset + j) % span;
            if (cl->first[c] + k < cl->first[c + 1])
                pu[t++] = cl->pus[cl->first[c] + k];
        }
    for (; t < threads; t++)
        pu[t] = pu[t % slots];
}

typedef enum { PLAN_HPOOL, PLAN_OPENMP, PLAN_NONE } plan_kind;

/* Decide how to bind `threads` threads; fills pu[] for PLAN_HPOOL. */
static plan_kind plan(int threads, int *pu)
{
    if (omp_get_proc_bind() != omp_proc_bind_false)
        return PLAN_OPENMP;
    const char *env = getenv("HPOOL_BIND");
    if (env && (strcmp(env, "none") == 0 || strcmp(env, "off") == 0 || strcmp(env, "0") == 0))
        return PLAN_NONE;
    if (!tp.ok)
        return PLAN_NONE;
    core_list cl;
    if (core_list_build(&cl) != 0 || cl.n_cores == 0) {
        core_list_free(&cl);
        return PLAN_NONE;
    }
    int idx = 0, here = 1;
    bool local = local_workers(&idx, &here);
    bool unbound = hwloc_bitmap_isequal(tp.proc_set, tp.allowed);
    int lo = 0, hi = cl.n_cores, offset = 0;
    if (unbound && !local && hpool__proc_size() > 2) {
        /* Every worker would pick the same first cores: worse than not binding. */
        core_list_free(&cl);
        return PLAN_NONE;
    }
    if (local)
        offset = (int)(((long)idx * threads) % cl.n_cores);
    if (unbound && local && here > 1 && cl.n_cores >= here) {
        int b0 = (int)((long)idx * cl.n_cores / here);
        int b1 = (int)((long)(idx + 1) * cl.n_cores / here);
        if (cl.first[b1] - cl.first[b0] >= threads) {
            lo = b0; /* the rank's own block of the host */
            hi = b1;
            offset = 0;
        } else {
            offset = b0; /* the block is too small: spread from its start over the host */
        }
    }
    assign_pus(&cl, lo, hi, offset, threads, pu);
    core_list_free(&cl);
    return PLAN_HPOOL;
}

/* What the team of place_team works on. Set by the main thread before
 * hpool__team_publish() and read by the team after hpool__team_observe(): variables
 * captured by the region would be copied in before the handshake, where ThreadSanitizer
 * cannot see libgomp's fork order them (src/inner.c has the same). */
static struct {
    plan_kind kind;
    int *pu;
    hpool__wire_place *rows;
    int team;
} bind_job;

/* Bind the team and describe each thread in rows[] (threads entries); returns team size. */
static int place_team(int threads, hpool__wire_place *rows)
{
    int *pu = calloc((size_t)threads, sizeof *pu);
    bind_job.kind = pu ? plan(threads, pu) : PLAN_NONE;
    bind_job.pu = pu;
    bind_job.rows = rows;
    bind_job.team = 0;
    hpool__team_publish();
#pragma omp parallel num_threads(threads)
    {
        hpool__team_observe();
        plan_kind kind = bind_job.kind;
        const int *pus = bind_job.pu;
        int t = omp_get_thread_num();
#pragma omp single
        bind_job.team = omp_get_num_threads();
        hpool__wire_place *r = &bind_job.rows[t];
        r->thread = t;
        r->binding = kind == PLAN_OPENMP ? HPOOL_BIND_OPENMP : HPOOL_BIND_NONE;
        r->cpu = -1;
        if (kind == PLAN_HPOOL) {
            hwloc_bitmap_t s = hwloc_bitmap_alloc();
            if (s) {
                hwloc_bitmap_only(s, (unsigned)pus[t]);
                if (hwloc_set_cpubind(tp.topo, s, HWLOC_CPUBIND_THREAD) == 0) {
                    r->binding = HPOOL_BIND_HPOOL;
                    r->cpu = pus[t];
                }
                hwloc_bitmap_free(s);
            }
        }
        if (r->cpu < 0)
            r->cpu = current_cpu();
        describe_cpu(r->cpu, &r->core, &r->numa);
        hpool__team_publish();
    }
    hpool__team_observe();
    free(pu);
    return bind_job.team;
}

int hpool__topo_bind_team(int threads, hpool__buf *block)
{
    hpool__topo_ensure();
    if (threads < 1)
        threads = 1;
    if ((unsigned)threads > HPOOL__PLACE_MAX_ROWS)
        threads = (int)HPOOL__PLACE_MAX_ROWS;
    hpool__wire_place *rows = calloc((size_t)threads, sizeof *rows);
    if (rows == NULL)
        return HPOOL_ENOMEM;
    int team = place_team(threads, rows);
    for (int t = 0; t < team; t++) {
        hpool__wire_place *r = &rows[t];
        memcpy(r->host, tp.host, sizeof r->host);
        r->cpuset_pus = tp.proc_pus;
        r->host_pus = tp.host_pus;
        if (tp.ok && team > tp.proc_pus)
            r->flags |= HPOOL_PLACE_OVERSUBSCRIBED;
        if (r->binding == HPOOL_BIND_NONE)
            r->flags |= HPOOL_PLACE_UNBOUND;
        for (int u = 0; u < team; u++)
            if (u != t && r->binding != HPOOL_BIND_NONE && rows[u].binding != HPOOL_BIND_NONE &&
                r->core >= 0 && rows[u].core == r->core)
                r->flags |= HPOOL_PLACE_SMT;
    }
    const char *cpuset = hpool__topo_cpuset_text();
    size_t cpuset_len = strlen(cpuset);
    hpool__wire_place_hdr ph = {HPOOL__PLACE_MAGIC, (uint32_t)team, sizeof *rows,
                                (uint32_t)cpuset_len};
    int rc = hpool__buf_put_raw(block, &ph, sizeof ph);
    if (rc == 0 && team > 0)
        rc = hpool__buf_put_raw(block, rows, (size_t)team * sizeof *rows);
    if (rc == 0)
        rc = hpool__buf_put_raw(block, cpuset, cpuset_len + 1);
    free(rows);
    return rc;
}

int hpool__topo_ack_payload(const char *msg, const hpool__buf *block, hpool__buf *out)
{
    static const unsigned char zeros[8];
    if (msg == NULL)
        msg = "";
    size_t mlen = strlen(msg) + 1;
    int rc = hpool__buf_put_raw(out, msg, mlen);
    /* The block starts 8-aligned in the payload (the payload itself is 16-aligned). */
    if (rc == 0 && hpool__pad8(mlen) > mlen)
        rc = hpool__buf_put_raw(out, zeros, hpool__pad8(mlen) - mlen);
    if (rc == 0 && block->len > 0) {
        rc = hpool__buf_put_raw(out, block->data, block->len);
    } else if (rc == 0) {
        /* Binding ran out of memory: say "no rows" rather than send a malformed ack. */
        hpool__wire_place_hdr ph = {HPOOL__PLACE_MAGIC, 0, sizeof(hpool__wire_place), 0};
        rc = hpool__buf_put_raw(out, &ph, sizeof ph);
        if (rc == 0)
            rc = hpool__buf_put_raw(out, "", 1); /* an empty cpuset text */
    }
    return rc;
}

/* ---------------------------------------------------------------- manager: its own row */
void hpool__topo_manager_row(hpool_placement *r)
{
    memset(r, 0, sizeof *r);
    memcpy(r->host, tp.host, sizeof r->host);
    r->cpuset = hpool__topo_cpuset_text(); /* static: the table copies it */
    r->rank = hpool__proc_rank();
    r->thread = -1;
    r->cpu = current_cpu();
    int32_t core, numa;
    describe_cpu(r->cpu, &core, &numa);
    r->core = core;
    r->numa = numa;
    r->cpuset_pus = tp.proc_pus;
    r->host_pus = tp.host_pus;
    r->binding = HPOOL_BIND_NONE; /* hpool never binds rank 0: it runs the user's program */
}
