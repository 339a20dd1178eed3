/* Internals shared by otf2_writer.c (records -> sorted events -> event files) and
 * otf2_defs.c (the archive's definitions and properties). OTF2 builds only. */
#ifndef HPOOL_BENCH_OTF2_INT_H
#define HPOOL_BENCH_OTF2_INT_H

#include <stdint.h>

#include <jansson.h>
#include <otf2/otf2.h>

#include "record_sort.h"
#include "strtab.h"

/* A location: a rank's main thread (the manager, a worker's call items) or one of a
 * worker's OpenMP threads; its index is its OTF2 location id. */
typedef struct {
    int rank, thread; /* thread -1: the rank's main location (manager / call items) */
    uint64_t events;
} location;

/* One run's trace while it is built: its locations, strings, span regions, and the
 * events waiting in the sorter. */
typedef struct {
    location *loc;
    size_t n, cap;
    int **by_rank;  /* [rank][thread + 1] -> location index, -1 none */
    int *n_by_rank; /* threads + 1 known per rank */
    int n_ranks;    /* ranks 0 .. n_ranks-1 */
    hpool_bench_strtab str;
    int32_t *region_of; /* by string id: the region of a span label, -1 none */
    size_t n_region_of;
    uint32_t n_regions;
    hpool_bench_sorter *sorter;
    uint64_t seq;
    int64_t t_min, t_max;
    char *err;
    size_t errlen;
} otf2_trace;

/* Fixed definition ids. */
enum { ATTR_CHUNK, ATTR_FIRST, ATTR_ITEMS, ATTR_STATUS, ATTR_SCHED, ATTR_ITEM, ATTR_INNER,
       N_ATTR };
enum { REGION_CALL_ITEM = 0 }; /* span labels: 1 + their index */
enum { PARAM_SUBMIT = 0 };
enum { COMM_WORLD = 0, GROUP_LOCATIONS = 0, GROUP_RANKS = 1 };

/* The global definitions: strings, clock properties, attributes, parameter, regions,
 * system tree, location groups and locations (with their event counts), the
 * communicator. \return 0 or -1. */
int hpool_bench__otf2_defs(otf2_trace *tr, OTF2_Archive *ar, int64_t t0, int64_t offset,
                           const json_t *placement, const char *manager_host);
/* `props` (a JSON object of scalars) as archive properties HPOOL::KEY. */
void hpool_bench__otf2_props(OTF2_Archive *ar, const json_t *props);

#endif
