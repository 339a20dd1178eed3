/* The OTF2 archive's definitions and properties (otf2_int.h); the layout they describe
 * is in otf2_writer.c's header comment and docs/FORMATS.md. */
#ifdef HPOOL_HAVE_OTF2
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "otf2_int.h"

/* The host of `rank` from the placement rows, or the manager's. */
static const char *host_of(const json_t *placement, int rank, const char *manager_host)
{
    size_t i;
    const json_t *row;
    json_array_foreach(placement, i, row)
    {
        if (json_integer_value(json_object_get(row, "rank")) == rank &&
            json_is_string(json_object_get(row, "host")))
            return json_string_value(json_object_get(row, "host"));
    }
    return manager_host;
}

int hpool_bench__otf2_defs(otf2_trace *tr, OTF2_Archive *ar, int64_t t0, int64_t offset,
                           const json_t *placement, const char *manager_host)
{
    OTF2_GlobalDefWriter *g = OTF2_Archive_GetGlobalDefWriter(ar);
    if (g == NULL)
        return -1;
    hpool_bench_strtab *st = &tr->str;
    /* Fixed strings first, so their ids are known before the table is written. */
    enum { STR_FIXED = 32 };
    uint32_t sid[STR_FIXED];
    const char *fixed[] = {"call item", "hpool run", "machine", "node", "manager",
                           "call items", "MPI_COMM_WORLD", "ranks", "submitted call item",
                           "chunk", "first_item", "items", "status", "schedule", "item",
                           "inner", "a call item on a worker, t_start to t_end (chunks.tsv)",
                           "an inner item (spans.tsv)", ""};
    size_t n_fixed = sizeof fixed / sizeof fixed[0];
    for (size_t i = 0; i < n_fixed; i++)
        sid[i] = hpool_bench_strtab_id(st, fixed[i]);
    enum { S_CALL, S_RUN, S_MACHINE, S_NODE, S_MANAGER, S_CALLS, S_WORLD, S_RANKS, S_SUBMITTED,
           S_A_CHUNK, S_A_FIRST, S_A_ITEMS, S_A_STATUS, S_A_SCHED, S_A_ITEM, S_A_INNER,
           S_DESC_CALL, S_DESC_SPAN, S_EMPTY };
    /* hosts, in rank order, and location names */
    uint32_t *host_node = calloc((size_t)tr->n_ranks + 1, sizeof *host_node);
    uint32_t *loc_name = calloc(tr->n + 1, sizeof *loc_name);
    uint32_t *rank_name = calloc((size_t)tr->n_ranks + 1, sizeof *rank_name);
    int rc = host_node && loc_name && rank_name ? 0 : -1;
    char name[128];
    for (int r = 0; r < tr->n_ranks && rc == 0; r++) {
        host_node[r] = hpool_bench_strtab_id(st, host_of(placement, r, manager_host));
        snprintf(name, sizeof name, "rank %d", r);
        rank_name[r] = hpool_bench_strtab_id(st, name);
    }
    for (size_t li = 0; li < tr->n && rc == 0; li++) {
        const location *l = &tr->loc[li];
        if (l->thread >= 0)
            snprintf(name, sizeof name, "rank %d thread %d", l->rank, l->thread);
        else
            snprintf(name, sizeof name, l->rank == 0 ? "manager" : "rank %d call items",
                     l->rank);
        loc_name[li] = hpool_bench_strtab_id(st, name);
    }
    /* an id of UINT32_MAX: the table ran out of memory */
    for (size_t i = 0; i < n_fixed && rc == 0; i++)
        rc = sid[i] == UINT32_MAX ? -1 : 0;
    for (int r = 0; r < tr->n_ranks && rc == 0; r++)
        rc = host_node[r] == UINT32_MAX || rank_name[r] == UINT32_MAX ? -1 : 0;
    for (size_t li = 0; li < tr->n && rc == 0; li++)
        rc = loc_name[li] == UINT32_MAX ? -1 : 0;
    for (size_t i = 0; i < st->n && rc == 0; i++)
        rc = OTF2_GlobalDefWriter_WriteString(g, (OTF2_StringRef)i, st->s[i]) == OTF2_SUCCESS
                 ? 0
                 : -1;
    /* The wall-clock time of the global offset, as CLOCK_REALTIME saw it (this runs on
     * rank 0 right after the run, on the clock t0 was read from). */
    struct timespec rt, mono;
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    int64_t real_ns = (int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec -
                      ((int64_t)mono.tv_sec * 1000000000 + mono.tv_nsec - (t0 + offset));
    if (rc == 0)
        rc = OTF2_GlobalDefWriter_WriteClockProperties(
                 g, 1000000000u, (uint64_t)(t0 + offset), (uint64_t)(tr->t_max - offset),
                 (uint64_t)real_ns) == OTF2_SUCCESS
                 ? 0
                 : -1;
    /* attributes, parameter, regions */
    static const OTF2_Type attr_type[N_ATTR] = {OTF2_TYPE_UINT64, OTF2_TYPE_UINT64,
                                                OTF2_TYPE_UINT32, OTF2_TYPE_INT32,
                                                OTF2_TYPE_STRING, OTF2_TYPE_UINT64,
                                                OTF2_TYPE_UINT32};
    for (int a = 0; a < N_ATTR && rc == 0; a++)
        rc = OTF2_GlobalDefWriter_WriteAttribute(g, (OTF2_AttributeRef)a, sid[S_A_CHUNK + a],
                                                 sid[S_EMPTY], attr_type[a]) == OTF2_SUCCESS
                 ? 0
                 : -1;
    if (rc == 0)
        rc = OTF2_GlobalDefWriter_WriteParameter(g, PARAM_SUBMIT, sid[S_SUBMITTED],
                                                 OTF2_PARAMETER_TYPE_UINT64) == OTF2_SUCCESS
                 ? 0
                 : -1;
    if (rc == 0)
        rc = OTF2_GlobalDefWriter_WriteRegion(g, REGION_CALL_ITEM, sid[S_CALL], sid[S_CALL],
                                              sid[S_DESC_CALL], OTF2_REGION_ROLE_FUNCTION,
                                              OTF2_PARADIGM_USER, OTF2_REGION_FLAG_NONE,
                                              sid[S_EMPTY], 0, 0) == OTF2_SUCCESS
                 ? 0
                 : -1;
    for (size_t i = 0; i < tr->n_region_of && rc == 0; i++)
        if (tr->region_of[i] >= 0)
            rc = OTF2_GlobalDefWriter_WriteRegion(
                     g, 1 + (OTF2_RegionRef)tr->region_of[i], (OTF2_StringRef)i,
                     (OTF2_StringRef)i, sid[S_DESC_SPAN], OTF2_REGION_ROLE_FUNCTION,
                     OTF2_PARADIGM_OPENMP, OTF2_REGION_FLAG_NONE, sid[S_EMPTY], 0, 0) ==
                         OTF2_SUCCESS
                     ? 0
                     : -1;
    /* system tree: the run, then each host once (node id = host string's first rank) */
    if (rc == 0)
        rc = OTF2_GlobalDefWriter_WriteSystemTreeNode(g, 0, sid[S_RUN], sid[S_MACHINE],
                                                      OTF2_UNDEFINED_SYSTEM_TREE_NODE) ==
                     OTF2_SUCCESS
                 ? 0
                 : -1;
    uint32_t *node_of = calloc((size_t)tr->n_ranks + 1, sizeof *node_of);
    uint32_t *node_of_host = calloc(st->n + 1, sizeof *node_of_host); /* by string id */
    rc = node_of && node_of_host ? rc : -1;
    uint32_t n_nodes = 1;
    for (int r = 0; r < tr->n_ranks && rc == 0; r++) {
        uint32_t *node = &node_of_host[host_node[r]];
        if (*node == 0) {
            *node = n_nodes++;
            rc = OTF2_GlobalDefWriter_WriteSystemTreeNode(g, *node, host_node[r],
                                                          sid[S_NODE], 0) == OTF2_SUCCESS
                     ? 0
                     : -1;
        }
        node_of[r] = *node;
    }
    free(node_of_host);
    for (int r = 0; r < tr->n_ranks && rc == 0; r++)
        rc = OTF2_GlobalDefWriter_WriteLocationGroup(
                 g, (OTF2_LocationGroupRef)r, rank_name[r], OTF2_LOCATION_GROUP_TYPE_PROCESS,
                 node_of[r], OTF2_UNDEFINED_LOCATION_GROUP) == OTF2_SUCCESS
                 ? 0
                 : -1;
    for (size_t li = 0; li < tr->n && rc == 0; li++)
        rc = OTF2_GlobalDefWriter_WriteLocation(g, (OTF2_LocationRef)li, loc_name[li],
                                                OTF2_LOCATION_TYPE_CPU_THREAD, tr->loc[li].events,
                                                (OTF2_LocationGroupRef)tr->loc[li].rank) ==
                     OTF2_SUCCESS
                 ? 0
                 : -1;
    /* MPI_COMM_WORLD: position r is rank r's main location */
    uint64_t *members = calloc((size_t)tr->n_ranks + 1, sizeof *members);
    rc = members ? rc : -1;
    for (int r = 0; r < tr->n_ranks && rc == 0; r++)
        members[r] = (uint64_t)(tr->by_rank[r] ? tr->by_rank[r][0] : 0);
    if (rc == 0)
        rc = OTF2_GlobalDefWriter_WriteGroup(g, GROUP_LOCATIONS, sid[S_RANKS],
                                             OTF2_GROUP_TYPE_COMM_LOCATIONS, OTF2_PARADIGM_MPI,
                                             OTF2_GROUP_FLAG_NONE, (uint32_t)tr->n_ranks,
                                             members) == OTF2_SUCCESS
                 ? 0
                 : -1;
    for (int r = 0; r < tr->n_ranks && rc == 0; r++)
        members[r] = (uint64_t)r;
    if (rc == 0)
        rc = OTF2_GlobalDefWriter_WriteGroup(g, GROUP_RANKS, sid[S_WORLD],
                                             OTF2_GROUP_TYPE_COMM_GROUP, OTF2_PARADIGM_MPI,
                                             OTF2_GROUP_FLAG_NONE, (uint32_t)tr->n_ranks,
                                             members) == OTF2_SUCCESS
                 ? 0
                 : -1;
    if (rc == 0)
        rc = OTF2_GlobalDefWriter_WriteComm(g, COMM_WORLD, sid[S_WORLD], GROUP_RANKS,
                                            OTF2_UNDEFINED_COMM, OTF2_COMM_FLAG_NONE) ==
                     OTF2_SUCCESS
                 ? 0
                 : -1;
    free(members);
    free(node_of);
    free(host_node);
    free(loc_name);
    free(rank_name);
    return rc;
}

void hpool_bench__otf2_props(OTF2_Archive *ar, const json_t *props)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)props, key, v)
    {
        char name[256], value[1024];
        int n = snprintf(name, sizeof name, "HPOOL::");
        for (const char *k = key; *k && n < (int)sizeof name - 1; k++)
            name[n++] = (*k >= 'a' && *k <= 'z') ? (char)(*k - 'a' + 'A')
                        : ((*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9')) ? *k
                                                                                  : '_';
        name[n] = '\0';
        if (json_is_string(v))
            snprintf(value, sizeof value, "%s", json_string_value(v));
        else if (json_is_integer(v))
            snprintf(value, sizeof value, "%lld", (long long)json_integer_value(v));
        else if (json_is_real(v))
            snprintf(value, sizeof value, "%.17g", json_real_value(v));
        else if (json_is_boolean(v))
            snprintf(value, sizeof value, "%s", json_is_true(v) ? "true" : "false");
        else
            continue;
        OTF2_Archive_SetProperty(ar, name, value, true);
    }
}

#endif
