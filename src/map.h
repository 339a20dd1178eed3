/* Maps on rank 0 (map.c): CPython's Executor.map over fixed-size records or a generator.
 * A map owns its items, its carve cursor, its count of chunks in flight and its result
 * buffer; every field is written only by map.c. The manager moves a map through
 * hpool__map_on_dispatch / hpool__map_on_result / hpool__map_on_lost, the executor
 * through the hpool__maps_* functions on its set of maps. "lock": the library lock. */
#ifndef HPOOL_MAP_H
#define HPOOL_MAP_H

#include <stdbool.h>
#include <stdint.h>

#include "errors.h"
#include "hpool.h"
#include "queue.h"
#include "schedule.h"
#include "wire.h"

struct hpool_map_iter;

/* The results of one call item of a map, kept until every item was consumed. */
typedef struct hpool__map_chunk {
    struct hpool_map_iter *map; /* immutable */
    uint64_t first;
    uint32_t count;
    bool done;          /* lock */
    int32_t rank;       /* worker that ran it */
    int32_t fail_code;  /* done without a message (out of memory): every item's status */
    void *msg;          /* the RESULT message (owned), NULL until done */
    size_t msg_len, msg_cap;
    /* A buffer from this chunk's previous life (chunks are recycled once consumed),
     * given to the manager in exchange for the RESULT message: no allocation per chunk
     * once a map runs. Owned; lock. */
    void *spare;
    size_t spare_cap;
    hpool__item_reader reader; /* consumer's cursor (consumer thread only) */
    uint32_t consumed;         /* consumer thread only */
    uint8_t retries;           /* re-dispatches after a lost worker; lock */
    struct hpool__map_chunk *next;      /* carve order; lock */
    struct hpool__map_chunk *next_done; /* completion order (unordered maps); lock */
} hpool__map_chunk;

/* An executor's maps: those with items still to carve (in turn, for dispatch) and every
 * map not yet closed (so that the executor's end reaches them). Embedded in the
 * executor, written only by map.c. */
typedef struct {
    struct hpool_map_iter *queue_head, *queue_tail;
    struct hpool_map_iter *open_head;
} hpool__map_set;

struct hpool_map_iter {
    hpool__map_set *set;       /* the executor's set; NULL once the executor is destroyed */
    int task;                  /* immutable */
    size_t item_size;          /* immutable */
    const unsigned char *items;/* array form; immutable */
    hpool_map_gen_fn gen;      /* generator form; immutable */
    void *gen_user;
    unsigned char *ring;       /* generator staging, buffersize records */
    size_t buffersize;         /* immutable; 0 = unbounded (array form only) */
    bool unordered;            /* immutable */
    double deadline;           /* immutable */
    double t_created;          /* immutable */

    uint64_t n;         /* items known to exist (array: all; generator: staged); lock */
    bool input_ended;   /* no more items will be staged; lock */
    uint64_t carved;    /* items carved into call items; lock */
    uint64_t consumed;  /* items handed back to the user; lock. Without a buffer bound,
                           counted per chunk as the consumer releases it */
    uint64_t limit;     /* carving stops here (close/cancel); lock */
    int inflight;       /* chunks dispatched, results not yet in; lock */
    bool closing;       /* lock */
    bool cancelled;     /* shutdown(cancel_futures) dropped uncarved items; lock */
    bool gen_failed;    /* the generator returned <0; lock */
    int end_code;       /* the executor ended: HPOOL_EBROKEN or HPOOL_ESHUTDOWN; lock */
    char end_msg[HPOOL__MSG_MAX]; /* why it broke; lock */
    hpool_schedule_kind sched_used; /* copy of sched.resolved for readers; lock */
    hpool__schedule sched;          /* lock (initialised before publication) */

    hpool__map_chunk *chunks_head, *chunks_tail; /* carve order; lock */
    hpool__map_chunk *done_head, *done_tail;     /* completion order; lock */
    hpool__map_chunk *current; /* chunk being consumed (consumer thread) */
    hpool__map_chunk *recycled; /* consumed chunks, reused by carving; lock */
    uint64_t buffered;          /* chunks done and not yet taken by the consumer; lock */

    struct hpool_map_iter *next_queued;          /* the set's carving queue; lock */
    bool queued;                                  /* in that queue; lock */
    struct hpool_map_iter *next_open, *prev_open; /* the set's open maps; lock */

    char err_msg[HPOOL__MSG_MAX]; /* last item error (consumer thread) */
    int err_rank;
    uint64_t err_item;
};

/* hpool_map's work, for the executor: check the arguments, build the map and stage the
 * generator's first items. `workers` sizes the schedule. The executor then adds it to its
 * set (hpool__maps_add_locked) or frees it (hpool__map_free). */
int hpool__map_new(const char *task, const void *items, size_t item_size, size_t n,
                   const hpool_map_options *o, int workers, struct hpool_map_iter **out);
void hpool__map_free(struct hpool_map_iter *m);

/* ---- the executor's set of maps; lock held ---- */
void hpool__maps_add_locked(hpool__map_set *set, struct hpool_map_iter *m);
/* Whether some map could carve now (items available and buffer room). */
bool hpool__maps_have_work_locked(const hpool__map_set *set);
/* shutdown(cancel_futures) or a broken executor: drop every uncarved item. */
void hpool__maps_cancel_locked(hpool__map_set *set);
/* The executor ended (HPOOL_EBROKEN with why, or HPOOL_ESHUTDOWN once drained): maps
 * report it when their results run out. A broken executor's code is kept. */
void hpool__maps_end_locked(hpool__map_set *set, int code, const char *why);
/* The executor is destroyed: its open maps keep what they need and forget the set. */
void hpool__maps_detach_locked(hpool__map_set *set);

/* ---- the manager; lock held ---- */
/* Carve the next chunk for `worker` (0-based) from the first map in turn that can: the
 * chunk (range in ->first, ->count), counted in flight; NULL when no map can now. */
hpool__map_chunk *hpool__map_on_dispatch_locked(hpool__map_set *set, int worker);
/* A chunk's RESULT message arrived in `rx` from `rank`, worker index `worker`, after
 * task_s seconds of work and transit_s seconds on the way (send to receipt plus end to
 * pickup; NAN without a clock map): the schedule learns the worker's rate and the
 * per-chunk overhead. The chunk takes rx's buffer and leaves rx a spare one (or none) to
 * receive into next. */
void hpool__map_on_result_locked(hpool__map_chunk *c, hpool__buf *rx, int rank, int worker,
                                 double task_s, double transit_s);
/* The chunk's worker was lost. If `retry` allows it and the chunk has retries left, it
 * goes to `again` (to be sent again, still counted in flight) and true is returned;
 * otherwise (or when `again` cannot take it) every item fails with `code` and `why`. */
bool hpool__map_on_lost_locked(hpool__map_chunk *c, bool retry, int retry_limit,
                               hpool__queue *again, int code, const char *why, int rank);
/* Copy item records [first, first+count) into b. Carved items are not overwritten until
 * consumed, but a generator's ring is read under the lock (the consumer may stage). */
int hpool__map_copy_items(const struct hpool_map_iter *m, uint64_t first, uint32_t count,
                          hpool__buf *b);

#endif
