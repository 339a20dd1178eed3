/* Message building and validated reading; see wire.h for the layout. */
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "policy.h" /* HPOOL__WINDOW_MAX */
#include "wire.h"

int hpool__buf_reserve(hpool__buf *b, size_t cap)
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
_Static_assert(sizeof(hpool__wire_result) == 40, "RESULT header: 40 bytes, no padding");

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
    return begin(b, HPOOL__WIRE_RESULT_SIZE, HPOOL__MSG_RESULT, exec_id);
}

int hpool__buf_put_raw(hpool__buf *b, const void *data, size_t len)
{
    if (hpool__buf_reserve(b, b->len + len) != 0)
        return HPOOL_ENOMEM;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    return 0;
}

int hpool__buf_put_item(hpool__buf *b, int32_t status, const void *data, size_t len)
{
    if (len > UINT32_MAX - 8)
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

void hpool__buf_free(hpool__buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void hpool__item_reader_init(hpool__item_reader *r, const void *msg, size_t msg_len)
{
    const unsigned char *m = msg;
    size_t hdr = msg_len >= sizeof(hpool__wire_prefix)
                     ? hpool__wire_hdr_size(((const hpool__wire_prefix *)msg)->type)
                     : msg_len;
    /* A message shorter than its header has no items: the reader starts at its end. */
    r->p = m + (hdr <= msg_len ? hdr : msg_len);
    r->end = m + msg_len;
}

int hpool__item_reader_next(hpool__item_reader *r, int32_t *status, const void **data,
                            size_t *len)
{
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
    if (h.count != count)
        return HPOOL_EPROTO;
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
