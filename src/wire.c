/* Message building and validated reading; see wire.h for the layout. */
#include <stdlib.h>
#include <string.h>

#include "errors.h"
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

hpool__wire_hdr *hpool__buf_begin(hpool__buf *b, int type, int exec_id)
{
    if (hpool__buf_reserve(b, HPOOL__WIRE_HDR_SIZE) != 0)
        return NULL;
    memset(b->data, 0, HPOOL__WIRE_HDR_SIZE);
    b->len = HPOOL__WIRE_HDR_SIZE;
    hpool__wire_hdr *h = (hpool__wire_hdr *)b->data;
    h->magic = HPOOL__WIRE_MAGIC;
    h->type = (uint16_t)type;
    h->exec_id = exec_id;
    h->task = -1;
    return h;
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
    r->p = m + HPOOL__WIRE_HDR_SIZE;
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
    if (len < HPOOL__WIRE_HDR_SIZE)
        return HPOOL_EPROTO;
    const hpool__wire_hdr *h = msg;
    if (h->magic != HPOOL__WIRE_MAGIC || h->type < HPOOL__MSG_START ||
        h->type > HPOOL__MSG_LAST)
        return HPOOL_EPROTO;
    return 0;
}

int hpool__wire_validate_result(const void *msg, size_t len, uint32_t count)
{
    if (hpool__wire_check(msg, len) != 0)
        return HPOOL_EPROTO;
    hpool__wire_hdr h;
    memcpy(&h, msg, sizeof h);
    if (h.type != HPOOL__MSG_RESULT || h.count != count)
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
