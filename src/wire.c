/* Message building and validated reading; see wire.h for the layout. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "policy.h" /* HPOOL__WINDOW_MAX */
#include "wire.h"

int hpool__buf_grow(hpool__buf *b, size_t cap)
{
    if (cap <= b->cap)
        return 0;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < cap)
        ncap *= 2;
    unsigned char *nd = realloc(b->data, ncap);
    if (nd == NULL)
        return HPOOL_ENOMEM;
    b->data = nd;
    b->cap = ncap;
    return 0;
}

/* Every header begins with the fields of hpool__wire_prefix, at the same offsets. */
#define SAME_PREFIX(T)                                                                         \
    _Static_assert(offsetof(T, magic) == offsetof(hpool__wire_prefix, magic) &&                \
                       offsetof(T, type) == offsetof(hpool__wire_prefix, type) &&              \
                       offsetof(T, slot) == offsetof(hpool__wire_prefix, slot) &&              \
                       offsetof(T, exec_id) == offsetof(hpool__wire_prefix, exec_id),          \
                   #T " starts with hpool__wire_prefix")
SAME_PREFIX(hpool__wire_hdr);
SAME_PREFIX(hpool__wire_call);
SAME_PREFIX(hpool__wire_result);
_Static_assert(HPOOL__WINDOW_MAX <= UINT16_MAX + 1, "a call slot fits the prefix's slot field");
_Static_assert(sizeof(hpool__wire_call) == 32, "CALL header: 32 bytes, no padding");
_Static_assert(sizeof(hpool__wire_result) == 48, "RESULT header: 48 bytes, no padding");
_Static_assert(sizeof(hpool__wire_result) % 8 == 0, "RESULT items start 8-aligned");

/* Reset b to a zeroed header of `size` bytes with the prefix filled in. */
static void *begin(hpool__buf *b, size_t size, int type, int exec_id)
{
    if (hpool__buf_reserve(b, size) != 0)
        return NULL;
    memset(b->data, 0, size);
    b->len = size;
    hpool__wire_prefix *p = (hpool__wire_prefix *)b->data;
    p->magic = HPOOL__WIRE_MAGIC;
    p->type = (uint8_t)type;
    p->exec_id = exec_id;
    return b->data;
}

hpool__wire_hdr *hpool__buf_begin(hpool__buf *b, int type, int exec_id)
{
    hpool__wire_hdr *h = begin(b, HPOOL__WIRE_HDR_SIZE, type, exec_id);
    if (h)
        h->task = -1;
    return h;
}

hpool__wire_call *hpool__buf_begin_call(hpool__buf *b, int exec_id)
{
    return begin(b, HPOOL__WIRE_CALL_SIZE, HPOOL__MSG_CALL, exec_id);
}

hpool__wire_result *hpool__buf_begin_result(hpool__buf *b, int exec_id)
{
    hpool__wire_result *h = begin(b, HPOOL__WIRE_RESULT_SIZE, HPOOL__MSG_RESULT, exec_id);
    if (h)
        h->uniform_len = HPOOL__WIRE_ITEMS;
    return h;
}

/* A copy of n bytes that is mostly a handful (an item or a result of a few words): a
 * loop the compiler unrolls, where a call to memcpy costs more than the copy (8-byte
 * results at chunksize 256: the worker's result path was a quarter of its time). */
static inline void copy_bytes(unsigned char *dst, const void *src, size_t n)
{
    if (n > 32) {
        memcpy(dst, src, n);
        return;
    }
    const unsigned char *s = src;
    for (size_t i = 0; i < n; i++)
        dst[i] = s[i];
}

int hpool__buf_put_raw(hpool__buf *b, const void *data, size_t len)
{
    if (hpool__buf_reserve(b, b->len + len) != 0)
        return HPOOL_ENOMEM;
    copy_bytes(b->data + b->len, data, len);
    b->len += len;
    return 0;
}

int hpool__buf_put_item(hpool__buf *b, int32_t status, const void *data, size_t len)
{
    if (len > HPOOL__WIRE_ITEM_MAX)
        return HPOOL_ETOOBIG;
    size_t padded = hpool__pad8(len);
    if (hpool__buf_reserve(b, b->len + sizeof(hpool__wire_item) + padded) != 0)
        return HPOOL_ENOMEM;
    hpool__wire_item it = {status, (uint32_t)len};
    memcpy(b->data + b->len, &it, sizeof it);
    b->len += sizeof it;
    if (len)
        memcpy(b->data + b->len, data, len);
    memset(b->data + b->len + len, 0, padded - len);
    b->len += padded;
    return 0;
}

/* Append len bytes padded to 8, no item header (a uniform RESULT's record). */
static int put_record(hpool__buf *b, const void *data, size_t len)
{
    size_t padded = hpool__pad8(len);
    if (hpool__buf_reserve(b, b->len + padded) != 0)
        return HPOOL_ENOMEM;
    unsigned char *dst = b->data + b->len;
    copy_bytes(dst, data, len);
    for (size_t i = len; i < padded; i++) /* at most 7 bytes of padding */
        dst[i] = 0;
    b->len += padded;
    return 0;
}

/* Turn the n uniform records of `len` bytes after the header into length-prefixed items
 * (status 0), in place, and say so in the header: the buffer grows by one item header
 * per record, and records move up from the last one down, so none is overwritten before
 * it moved. */
static int uniform_to_items(hpool__buf *b, uint32_t n, uint32_t len)
{
    size_t stride = hpool__pad8(len), grown = stride + sizeof(hpool__wire_item);
    if (hpool__buf_reserve(b, HPOOL__WIRE_RESULT_SIZE + (size_t)n * grown) != 0)
        return HPOOL_ENOMEM;
    unsigned char *items = b->data + HPOOL__WIRE_RESULT_SIZE;
    hpool__wire_item it = {0, len};
    for (uint32_t i = n; i-- > 0;) {
        memmove(items + (size_t)i * grown + sizeof it, items + (size_t)i * stride, stride);
        memcpy(items + (size_t)i * grown, &it, sizeof it);
    }
    b->len = HPOOL__WIRE_RESULT_SIZE + (size_t)n * grown;
    ((hpool__wire_result *)b->data)->uniform_len = HPOOL__WIRE_ITEMS;
    return 0;
}

int hpool__buf_put_result(hpool__buf *b, int32_t status, const void *data, size_t len)
{
    if (len > HPOOL__WIRE_ITEM_MAX)
        return HPOOL_ETOOBIG;
    hpool__wire_result *h = (hpool__wire_result *)b->data;
    uint32_t n = h->count, form = h->uniform_len;
    if (n == 0) /* no item yet: both forms are the header alone; the first item picks */
        form = status == 0 ? (uint32_t)len : HPOOL__WIRE_ITEMS;
    int rc;
    if (form != HPOOL__WIRE_ITEMS && status == 0 && len == form) {
        rc = put_record(b, data, len); /* the common case */
    } else {
        /* The rare case: this item breaks uniformity (or the message is past that). */
        if (form != HPOOL__WIRE_ITEMS && n > 0 && (rc = uniform_to_items(b, n, form)) != 0)
            return rc;
        form = HPOOL__WIRE_ITEMS;
        rc = hpool__buf_put_item(b, status, data, len);
    }
    if (rc != 0)
        return rc; /* the header still describes the n items before this one */
    h = (hpool__wire_result *)b->data; /* the buffer may have moved */
    h->uniform_len = form;
    h->count = n + 1;
    return 0;
}

void hpool__buf_free(hpool__buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void hpool__item_reader_init(hpool__item_reader *r, const void *msg, size_t msg_len)
{
    const unsigned char *m = msg;
    r->end = m + msg_len;
    r->uniform_len = HPOOL__WIRE_ITEMS;
    r->left = UINT32_MAX;
    bool has_type = msg_len >= sizeof(hpool__wire_prefix);
    int type = has_type ? ((const hpool__wire_prefix *)msg)->type : 0;
    size_t hdr = has_type ? hpool__wire_hdr_size(type) : msg_len;
    if (hdr > msg_len) {
        /* A message shorter than its header has no items: the reader starts at its end. */
        r->p = r->end;
        return;
    }
    r->p = m + hdr;
    if (type == HPOOL__MSG_RESULT) {
        hpool__wire_result h;
        memcpy(&h, msg, sizeof h);
        r->left = h.count;
        r->uniform_len = h.uniform_len;
        if (h.uniform_len > HPOOL__WIRE_ITEM_MAX && h.uniform_len != HPOOL__WIRE_ITEMS)
            r->left = 0; /* malformed form: no items */
    } else if (type == HPOOL__MSG_CALL) {
        hpool__wire_call h;
        memcpy(&h, msg, sizeof h);
        r->left = h.count;
    }
}

int hpool__item_reader_next(hpool__item_reader *r, int32_t *status, const void **data,
                            size_t *len)
{
    if (r->left == 0)
        return HPOOL_EPROTO;
    if (r->uniform_len != HPOOL__WIRE_ITEMS) {
        size_t stride = hpool__pad8(r->uniform_len);
        if ((size_t)(r->end - r->p) < stride)
            return HPOOL_EPROTO;
        *status = 0;
        *data = r->p;
        *len = r->uniform_len;
        r->p += stride;
        r->left--;
        return 0;
    }
    if ((size_t)(r->end - r->p) < sizeof(hpool__wire_item))
        return HPOOL_EPROTO;
    hpool__wire_item it;
    memcpy(&it, r->p, sizeof it);
    r->p += sizeof it;
    size_t padded = hpool__pad8(it.len);
    if ((size_t)(r->end - r->p) < padded)
        return HPOOL_EPROTO;
    *status = it.status;
    *data = r->p;
    *len = it.len;
    r->p += padded;
    if (r->left != UINT32_MAX)
        r->left--;
    return 0;
}

int hpool__wire_check(const void *msg, size_t len)
{
    if (len < sizeof(hpool__wire_prefix))
        return HPOOL_EPROTO;
    hpool__wire_prefix p;
    memcpy(&p, msg, sizeof p);
    if (p.magic != HPOOL__WIRE_MAGIC || p.type < HPOOL__MSG_START || p.type > HPOOL__MSG_LAST ||
        len < hpool__wire_hdr_size(p.type))
        return HPOOL_EPROTO;
    return 0;
}

int hpool__wire_validate_result(const void *msg, size_t len, uint32_t count)
{
    if (hpool__wire_check(msg, len) != 0)
        return HPOOL_EPROTO;
    if (((const hpool__wire_prefix *)msg)->type != HPOOL__MSG_RESULT)
        return HPOOL_EPROTO;
    hpool__wire_result h;
    memcpy(&h, msg, sizeof h); /* wire_check: a RESULT is at least its header */
    if (h.count != count || h.reserved != 0)
        return HPOOL_EPROTO;
    if (h.uniform_len != HPOOL__WIRE_ITEMS) {
        /* Uniform: nothing to walk, the size says it all; every item succeeded. */
        if (h.uniform_len > HPOOL__WIRE_ITEM_MAX || h.status != 0)
            return HPOOL_EPROTO;
        uint64_t avail = len - HPOOL__WIRE_RESULT_SIZE; /* wire_check: len >= header */
        uint64_t stride = hpool__pad8(h.uniform_len);
        if (stride != 0 && count > avail / stride)
            return HPOOL_EPROTO;
        uint64_t rest = avail - count * stride; /* count * stride <= avail: no overflow */
        if ((uint64_t)h.n_spans * sizeof(hpool__wire_span) != rest)
            return HPOOL_EPROTO;
        return 0;
    }
    hpool__item_reader rd;
    hpool__item_reader_init(&rd, msg, len);
    for (uint32_t i = 0; i < count; i++) {
        int32_t status;
        const void *data;
        size_t n;
        if (hpool__item_reader_next(&rd, &status, &data, &n) != 0)
            return HPOOL_EPROTO;
    }
    size_t rest = (size_t)(rd.end - rd.p);
    if ((uint64_t)h.n_spans * sizeof(hpool__wire_span) != rest)
        return HPOOL_EPROTO;
    return 0;
}

/* ---------------------------------------------------------------- bundles */
/* Offset of the next frame header after `len` bytes: 8 modulo 16, so that the frame
 * after its 8-byte header starts 16-aligned. */
static size_t frame_header_at(size_t len)
{
    return ((len + 7u) & ~(size_t)15u) + 8u;
}

_Static_assert(sizeof(hpool__wire_prefix) == 8 && sizeof(hpool__wire_frame) == 8,
               "the first frame of a bundle starts at 16");

int hpool__bundle_begin(hpool__buf *b, int exec_id)
{
    return begin(b, sizeof(hpool__wire_prefix), HPOOL__MSG_BUNDLE, exec_id) ? 0 : HPOOL_ENOMEM;
}

size_t hpool__bundle_growth(size_t bundle_len, size_t len)
{
    return frame_header_at(bundle_len) + sizeof(hpool__wire_frame) + len - bundle_len;
}

size_t hpool__bundle_first_offset(void)
{
    return sizeof(hpool__wire_prefix) + sizeof(hpool__wire_frame);
}

unsigned hpool__bundle_frames(const hpool__buf *b)
{
    return b->len >= sizeof(hpool__wire_prefix) ? ((const hpool__wire_prefix *)b->data)->slot : 0;
}

int hpool__bundle_add(hpool__buf *b, const void *msg, size_t len)
{
    hpool__wire_prefix *p = (hpool__wire_prefix *)b->data;
    if (p->slot == UINT16_MAX || len > UINT32_MAX)
        return HPOOL_ETOOBIG;
    size_t at = frame_header_at(b->len);
    if (hpool__buf_reserve(b, at + sizeof(hpool__wire_frame) + len) != 0)
        return HPOOL_ENOMEM;
    memset(b->data + b->len, 0, at - b->len);
    hpool__wire_frame fh = {(uint32_t)len, 0};
    memcpy(b->data + at, &fh, sizeof fh);
    memcpy(b->data + at + sizeof fh, msg, len);
    b->len = at + sizeof fh + len;
    ((hpool__wire_prefix *)b->data)->slot++;
    return 0;
}

int hpool__frame_reader_init(hpool__frame_reader *r, const void *msg, size_t len, int frame_type)
{
    r->base = r->p = msg;
    r->end = r->base + len;
    r->left = 0;
    r->frame_type = frame_type;
    if (hpool__wire_check(msg, len) != 0)
        return HPOOL_EPROTO;
    hpool__wire_prefix p;
    memcpy(&p, msg, sizeof p);
    if (p.type != HPOOL__MSG_BUNDLE || p.slot < 2)
        return HPOOL_EPROTO;
    r->p = r->base + sizeof p;
    r->left = p.slot;
    return 0;
}

int hpool__frame_reader_next(hpool__frame_reader *r, const void **frame, size_t *len)
{
    if (r->left == 0)
        return 1;
    size_t at = frame_header_at((size_t)(r->p - r->base));
    size_t avail = (size_t)(r->end - r->base);
    if (at > avail || avail - at < sizeof(hpool__wire_frame))
        return HPOOL_EPROTO;
    for (const unsigned char *z = r->p; z < r->base + at; z++)
        if (*z != 0)
            return HPOOL_EPROTO;
    hpool__wire_frame fh;
    memcpy(&fh, r->base + at, sizeof fh);
    at += sizeof fh;
    if (fh.reserved != 0 || fh.len > avail - at)
        return HPOOL_EPROTO;
    if (r->left == 1 && fh.len != avail - at)
        return HPOOL_EPROTO; /* the last frame ends the message */
    if (hpool__wire_check(r->base + at, fh.len) != 0 ||
        ((const hpool__wire_prefix *)(r->base + at))->type != r->frame_type)
        return HPOOL_EPROTO;
    *frame = r->base + at;
    *len = fh.len;
    r->p = r->base + at + fh.len;
    r->left--;
    return 0;
}
