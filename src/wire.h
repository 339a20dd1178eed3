/* Wire format between rank 0's manager and the worker ranks.
 *
 * All ranks run the same binary, so messages are C structs sent as MPI_BYTE (a
 * homogeneous job is assumed, as for the task registry). One tag per direction keeps
 * messages of a direction in order (MPI's non-overtaking rule): a STOP never passes the
 * CALLs sent before it.
 *
 * Every message starts with hpool__wire_hdr. Payloads start at a 16-byte boundary so that
 * records inside are aligned as the user's structs expect. */
#ifndef HPOOL_WIRE_H
#define HPOOL_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define HPOOL__TAG_TO_WORKER 7701
#define HPOOL__TAG_TO_MANAGER 7702
#define HPOOL__WIRE_MAGIC 0x48504f4cu /* "HPOL" */
#define HPOOL__SPAN_LABEL 16

typedef enum {
    HPOOL__MSG_START = 1, /* m→w: executor starts; task = initializer or -1 */
    HPOOL__MSG_START_ACK, /* w→m: initializer status; payload: message + placement (topology.h) */
    HPOOL__MSG_PING,      /* m→w: clock probe */
    HPOOL__MSG_PONG,      /* w→m: t[0] = worker clock */
    HPOOL__MSG_CALL,      /* m→w: a call item (chunk) */
    HPOOL__MSG_RESULT,    /* w→m: its results */
    HPOOL__MSG_STOP,      /* m→w: executor ends */
    HPOOL__MSG_STOP_ACK,  /* w→m */
    HPOOL__MSG_FINALIZE,  /* m→w: leave the serve loop */
    HPOOL__MSG_CRASH,     /* w→m: a task crashed (status = signal); the worker left the pool */
    HPOOL__MSG_LAST = HPOOL__MSG_CRASH
} hpool__msg_type;

typedef struct {
    uint32_t magic;
    uint16_t type;
    uint16_t flags;
    int32_t exec_id;
    int32_t slot;      /* call slot at the manager (CALL/RESULT) */
    uint64_t chunk_id; /* CALL/RESULT; PING/PONG: round number */
    uint64_t first_item;
    uint32_t count;     /* items in a CALL/RESULT; threads in START */
    int32_t task;       /* task index; initializer in START (-1 none) */
    uint32_t item_size; /* CALL: fixed record size, 0 = length-prefixed items */
    uint32_t n_spans;   /* RESULT: span records after the items */
    int32_t status;     /* START_ACK: initializer status; RESULT: first failing status */
    int32_t record_level; /* START */
    double t[4];        /* RESULT: recv, start, end, busy; PONG: worker clock */
} hpool__wire_hdr;

/* Per item in a length-prefixed CALL payload and in every RESULT payload. */
typedef struct {
    int32_t status; /* RESULT: 0 or the task's non-zero return; CALL: unused */
    uint32_t len;   /* bytes that follow, padded to 8 */
} hpool__wire_item;

/* One inner item run on a worker's OpenMP team (spans level). */
typedef struct {
    uint64_t item;
    uint32_t inner;
    int32_t thread;
    double t_start, t_end; /* worker clock */
    char label[HPOOL__SPAN_LABEL];
} hpool__wire_span;

#define HPOOL__WIRE_HDR_SIZE ((sizeof(hpool__wire_hdr) + 15u) & ~(size_t)15u)

static inline size_t hpool__pad8(size_t n)
{
    return (n + 7u) & ~(size_t)7u;
}

/* A growable byte buffer used to build messages; owned by one thread. */
typedef struct {
    unsigned char *data;
    size_t len, cap;
} hpool__buf;

int hpool__buf_reserve(hpool__buf *b, size_t cap);
/* Reset and reserve the header; returns the header to fill in. */
hpool__wire_hdr *hpool__buf_begin(hpool__buf *b, int type, int exec_id);
/* Append one length-prefixed item (status, bytes), padded to 8. */
int hpool__buf_put_item(hpool__buf *b, int32_t status, const void *data, size_t len);
int hpool__buf_put_raw(hpool__buf *b, const void *data, size_t len);
void hpool__buf_free(hpool__buf *b);

/* Walks the length-prefixed items of a payload, validating every length against the
 * message size: a malformed message from a worker is an error, never memory to trust. */
typedef struct {
    const unsigned char *p, *end;
} hpool__item_reader;
void hpool__item_reader_init(hpool__item_reader *r, const void *msg, size_t msg_len);
/* Returns 0 with the status, data and length of the next item, or HPOOL_EPROTO. */
int hpool__item_reader_next(hpool__item_reader *r, int32_t *status, const void **data,
                            size_t *len);
/* Validate a message header received from a worker (magic, size). */
int hpool__wire_check(const void *msg, size_t len);
/* Validate a whole RESULT message before anything in it is used: header, exactly
 * `count` length-prefixed items inside the message, then exactly n_spans span records
 * ending at the message's end. Returns 0 or HPOOL_EPROTO. The manager's decoder. */
int hpool__wire_validate_result(const void *msg, size_t len, uint32_t count);

#endif
