/* Wire format between rank 0's manager and the worker ranks.
 *
 * All ranks run the same binary, so messages are C structs sent as MPI_BYTE (a
 * homogeneous job is assumed, as for the task registry). One tag per direction keeps
 * messages of a direction in order (MPI's non-overtaking rule): a STOP never passes the
 * CALLs sent before it.
 *
 * Every message starts with the same 8 bytes (hpool__wire_prefix: magic, type, slot,
 * executor). CALL and RESULT, the messages sent per call item, then have headers of
 * their own that carry exactly their fields (hpool__wire_call, 32 bytes; and
 * hpool__wire_result, 48 bytes, 4 of them reserved so that the header stays a multiple
 * of 8); the rare control messages share hpool__wire_hdr.
 * CALL payloads start at a 16-byte boundary so that records inside are aligned as the
 * user's structs expect; RESULT items, like the items of a length-prefixed payload,
 * start at 8-byte boundaries.
 *
 * A RESULT's items come in one of two forms, which its header's uniform_len names:
 *   uniform (uniform_len = L < HPOOL__WIRE_ITEMS): every item succeeded (status 0) and
 *     has L bytes; `count` records of L bytes follow the header, each padded to 8
 *     (stride pad8(L)), with no per-item header. The common case: 256 eight-byte
 *     results are 48 + 2048 bytes, under Open MPI's 4 KiB shared-memory eager limit.
 *   length-prefixed (uniform_len = HPOOL__WIRE_ITEMS): `count` hpool__wire_item headers
 *     (status, length), each followed by its bytes padded to 8. Used as soon as one item
 *     failed or two lengths differ.
 * Span records follow the items in both forms. hpool__item_reader reads both.
 *
 * A BUNDLE carries several small CALLs (manager to one worker) or RESULTs (worker to
 * manager) in one MPI message, so that a window of tiny call items costs one send and
 * one receive instead of one each per item. Layout: the 8-byte prefix (type BUNDLE,
 * slot = the number of frames, at least 2), then per frame zero bytes up to an offset
 * of 8 modulo 16, an hpool__wire_frame (its length), and the whole message, which so
 * starts at a 16-byte boundary (a CALL's payload stays 16-aligned); the last frame ends
 * the message. Each frame is read as if it had come alone (hpool__frame_reader). */
#ifndef HPOOL_WIRE_H
#define HPOOL_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define HPOOL__TAG_TO_WORKER 7701
#define HPOOL__TAG_TO_MANAGER 7702
#define HPOOL__WIRE_MAGIC 0xA7u /* first byte of every hpool message */
#define HPOOL__SPAN_LABEL 16

typedef enum {
    HPOOL__MSG_START = 1, /* m→w: executor starts; task = initializer or -1 */
    HPOOL__MSG_START_ACK, /* w→m: initializer status; payload: message + placement (topology.h) */
    HPOOL__MSG_PING,      /* m→w: clock probe */
    HPOOL__MSG_PONG,      /* w→m: t[0] = worker clock */
    HPOOL__MSG_CALL,      /* m→w: a call item (chunk); hpool__wire_call */
    HPOOL__MSG_RESULT,    /* w→m: its results; hpool__wire_result */
    HPOOL__MSG_STOP,      /* m→w: executor ends */
    HPOOL__MSG_STOP_ACK,  /* w→m */
    HPOOL__MSG_FINALIZE,  /* m→w: leave the serve loop */
    HPOOL__MSG_CRASH,     /* w→m: a task crashed (status = signal); the worker left the pool */
    HPOOL__MSG_BUNDLE,    /* either way: several CALLs or RESULTs in one message */
    HPOOL__MSG_LAST = HPOOL__MSG_BUNDLE
} hpool__msg_type;

/* The first 8 bytes of every message; each header below begins with these fields. */
typedef struct {
    uint8_t magic; /* HPOOL__WIRE_MAGIC */
    uint8_t type;  /* hpool__msg_type */
    uint16_t slot; /* call slot at the manager (CALL, RESULT, CRASH) */
    int32_t exec_id;
} hpool__wire_prefix;

/* Control messages: START, START_ACK, PING, PONG, STOP, STOP_ACK, FINALIZE, CRASH. */
typedef struct {
    uint8_t magic;
    uint8_t type;
    uint16_t slot;
    int32_t exec_id;
    uint64_t chunk_id;    /* CRASH: the call item; PING/PONG: round number */
    uint64_t first_item;  /* CRASH: the item that crashed */
    uint32_t count;       /* START: threads */
    int32_t task;         /* START: initializer (-1 none) */
    int32_t status;       /* START_ACK: initializer status; CRASH: signal */
    int32_t record_level; /* START */
    double t[1];          /* PONG: worker clock */
} hpool__wire_hdr;

/* CALL: `count` items from `first_item` for task `task`; item_size > 0: fixed records,
 * 0: length-prefixed items (hpool__wire_item, status = item - first_item). */
typedef struct {
    uint8_t magic;
    uint8_t type;
    uint16_t slot;
    int32_t exec_id;
    uint64_t first_item;
    uint32_t chunk_id; /* low 32 bits of the manager's chunk number; with slot, the call */
    uint32_t count;
    int32_t task;
    uint32_t item_size;
} hpool__wire_call;

/* RESULT's uniform_len for length-prefixed items; a value up to HPOOL__WIRE_ITEM_MAX is
 * the length of every item of a uniform RESULT (values in between are malformed).
 * HPOOL__WIRE_ITEM_MAX is the longest item either form carries (hpool__buf_put_item's
 * and hpool__buf_put_result's limit). */
#define HPOOL__WIRE_ITEMS UINT32_MAX
#define HPOOL__WIRE_ITEM_MAX (UINT32_MAX - 8u)

/* RESULT: `count` items in the form uniform_len says (see the top of this file), then
 * n_spans span records. 48 bytes. */
typedef struct {
    uint8_t magic;
    uint8_t type;
    uint16_t slot;
    int32_t exec_id;
    uint32_t chunk_id;    /* echoed from the CALL */
    uint32_t count;
    int32_t status;       /* first failing status, 0 if none (always 0 when uniform) */
    uint32_t n_spans;
    uint32_t uniform_len; /* L: uniform, every item L bytes; HPOOL__WIRE_ITEMS: length-prefixed */
    uint32_t reserved;    /* 0 (keeps the times 8-aligned) */
    double t_start;       /* worker clock: the call was received and started (one reading) */
    double t_end;         /* worker clock: its last item ended */
} hpool__wire_result;

/* Per item in a length-prefixed CALL payload and in a length-prefixed RESULT payload. */
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

/* Before each frame of a BUNDLE: the frame's length in bytes. */
typedef struct {
    uint32_t len;
    uint32_t reserved; /* 0 */
} hpool__wire_frame;

/* Header sizes on the wire: control messages' payloads (and CALL's) 16-aligned. */
#define HPOOL__WIRE_HDR_SIZE ((sizeof(hpool__wire_hdr) + 15u) & ~(size_t)15u)
#define HPOOL__WIRE_CALL_SIZE ((sizeof(hpool__wire_call) + 15u) & ~(size_t)15u)
#define HPOOL__WIRE_RESULT_SIZE sizeof(hpool__wire_result)

/* Header size of a message of `type` (a control message's for unknown types). */
static inline size_t hpool__wire_hdr_size(int type)
{
    return type == HPOOL__MSG_CALL     ? HPOOL__WIRE_CALL_SIZE
           : type == HPOOL__MSG_RESULT ? HPOOL__WIRE_RESULT_SIZE
           : type == HPOOL__MSG_BUNDLE ? sizeof(hpool__wire_prefix)
                                       : HPOOL__WIRE_HDR_SIZE;
}

static inline size_t hpool__pad8(size_t n)
{
    return (n + 7u) & ~(size_t)7u;
}

/* A growable byte buffer used to build messages; owned by one thread. */
typedef struct {
    unsigned char *data;
    size_t len, cap;
} hpool__buf;

/* Room for cap bytes in all; 0 or HPOOL_ENOMEM. Inline: it is called for every item a
 * worker returns, and nearly always has room already. */
int hpool__buf_grow(hpool__buf *b, size_t cap);
static inline int hpool__buf_reserve(hpool__buf *b, size_t cap)
{
    return cap <= b->cap ? 0 : hpool__buf_grow(b, cap);
}
/* Reset and reserve a control message's header; returns the header to fill in. */
hpool__wire_hdr *hpool__buf_begin(hpool__buf *b, int type, int exec_id);
/* The same for a CALL and a RESULT. The header pointer is valid until the next append
 * (which may move the buffer). A RESULT begins length-prefixed (uniform_len =
 * HPOOL__WIRE_ITEMS) with count 0: fill it either with hpool__buf_put_item after setting
 * count yourself, or with hpool__buf_put_result, which counts and picks the form. */
hpool__wire_call *hpool__buf_begin_call(hpool__buf *b, int exec_id);
hpool__wire_result *hpool__buf_begin_result(hpool__buf *b, int exec_id);
/* Append one length-prefixed item (status, bytes), padded to 8. */
int hpool__buf_put_item(hpool__buf *b, int32_t status, const void *data, size_t len);
/* Append one item to the RESULT begun in b and count it in the header (count + 1). The
 * message is uniform while every item so far has status 0 and the length of the first;
 * the first item that breaks that turns the items written so far into length-prefixed
 * ones, in place and once, and the message stays length-prefixed. The header's count,
 * uniform_len and layout agree after every call; status is left to the caller. Append
 * spans (hpool__buf_put_raw) only after the last item. */
int hpool__buf_put_result(hpool__buf *b, int32_t status, const void *data, size_t len);
int hpool__buf_put_raw(hpool__buf *b, const void *data, size_t len);
void hpool__buf_free(hpool__buf *b);

/* Walks the items of a message's payload (after the header its type has): a CALL's
 * length-prefixed items, or a RESULT's in either form, which it takes from the RESULT's
 * header (uniform: status 0 and uniform_len bytes per item). For CALL and RESULT it
 * yields at most the header's `count` items. Every length is checked against the
 * message size: a malformed message from a worker is an error, never memory to trust.
 * After the last item, p is where the items end (a RESULT's span records begin). */
typedef struct {
    const unsigned char *p, *end;
    uint32_t uniform_len; /* HPOOL__WIRE_ITEMS: length-prefixed items */
    uint32_t left;        /* items not read yet (UINT32_MAX: no count in the header) */
} hpool__item_reader;
void hpool__item_reader_init(hpool__item_reader *r, const void *msg, size_t msg_len);
/* Returns 0 with the status, data and length of the next item, or HPOOL_EPROTO. */
int hpool__item_reader_next(hpool__item_reader *r, int32_t *status, const void **data,
                            size_t *len);
/* Validate a message header received from a worker (magic, type, at least its header's
 * size). */
int hpool__wire_check(const void *msg, size_t len);
/* Validate a whole RESULT message before anything in it is used: header (count equal
 * to `count`, reserved 0), exactly `count` items in the header's form inside the message
 * (uniform: status 0, uniform_len <= HPOOL__WIRE_ITEM_MAX and exactly count *
 * pad8(uniform_len) bytes), then exactly n_spans span records ending at the message's
 * end. Returns 0 or HPOOL_EPROTO. The manager's decoder. */
int hpool__wire_validate_result(const void *msg, size_t len, uint32_t count);

/* Building a BUNDLE in b: begin (resets b), then add whole messages built elsewhere,
 * each copied in as the next frame. 0, HPOOL_ENOMEM, or HPOOL_ETOOBIG past UINT16_MAX
 * frames or a frame of 4 GiB. */
int hpool__bundle_begin(hpool__buf *b, int exec_id);
int hpool__bundle_add(hpool__buf *b, const void *msg, size_t len);
/* Frames added so far. */
unsigned hpool__bundle_frames(const hpool__buf *b);
/* The bytes a message of `len` bytes adds to a bundle of `bundle_len` bytes. */
size_t hpool__bundle_growth(size_t bundle_len, size_t len);
/* A bundle of one frame is sent as that frame alone: where it starts in b. */
size_t hpool__bundle_first_offset(void);

/* Walks the frames of a received BUNDLE whose frames must all be messages of
 * `frame_type` (CALL from the manager, RESULT from a worker). init checks the prefix
 * (type, at least two frames); next yields each frame's start and length, checking the
 * frame header, padding and bounds, that the frame passes hpool__wire_check and has
 * frame_type, and that the last frame ends the message. */
typedef struct {
    const unsigned char *base, *p, *end;
    unsigned left;
    int frame_type;
} hpool__frame_reader;
int hpool__frame_reader_init(hpool__frame_reader *r, const void *msg, size_t len, int frame_type);
/* 0 with the next frame, 1 after the last one, HPOOL_EPROTO if malformed. */
int hpool__frame_reader_next(hpool__frame_reader *r, const void **frame, size_t *len);

#endif
