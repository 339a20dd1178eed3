/* RESULT messages in both forms (src/wire.c), without MPI:
 *  - the header's layout (48 bytes, uniform_len and reserved where wire.h says);
 *  - uniform: hpool__buf_put_result with every item succeeding at one length writes the
 *    header and the records alone (stride pad8(L), L = 0, 5, 8, 24), the reader yields
 *    them (status 0) and stops after `count`, spans follow;
 *  - conversion: the first failing item or differing length, at the first, second, a
 *    middle and the last position, turns the message into exactly the bytes that
 *    hpool__buf_put_item writes for the same items (byte-for-byte), and it stays
 *    length-prefixed after;
 *  - the length-prefixed writers of old (begin_result + count + put_item, as map.c's
 *    failed_result) still read back; CALL payloads are untouched;
 *  - validation of both forms: exact size only; truncated, oversized, lying count,
 *    length, status, reserved, n_spans and overflowing count x length are refused, and
 *    the reader never reads past the message for them;
 *  - bundles: frames read back in order, byte for byte, each at a 16-byte boundary (a
 *    CALL's payload stays 16-aligned); truncated, padded with garbage, trailing bytes,
 *    a frame longer than the message, one frame only, reserved bits: all refused. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "hpool.h"
#include "wire.h"

_Static_assert(sizeof(hpool__wire_result) == 48, "48-byte RESULT header");
_Static_assert(offsetof(hpool__wire_result, uniform_len) == 24, "uniform_len after n_spans");
_Static_assert(offsetof(hpool__wire_result, reserved) == 28, "reserved before the times");
_Static_assert(offsetof(hpool__wire_result, t_start) == 32, "times 8-aligned");

/* Item i's bytes: a pattern that says which item and which byte. */
static void fill_item(unsigned char *p, size_t len, uint32_t i)
{
    for (size_t k = 0; k < len; k++)
        p[k] = (unsigned char)(i * 31u + k * 7u + 1u);
}

/* One item of a test sequence: status and length (bytes by fill_item). */
typedef struct {
    int32_t status;
    size_t len;
} spec;

static hpool__wire_result *hdr(hpool__buf *b)
{
    return (hpool__wire_result *)b->data;
}

/* Build a RESULT of `n` items and `n_spans` spans: with put_result, the worker's way
 * (prefixed = false), or the old way (prefixed = true: count set first, every item
 * length-prefixed with put_item). */
static void build(hpool__buf *b, const spec *s, uint32_t n, uint32_t n_spans, bool prefixed)
{
    assert_non_null(hpool__buf_begin_result(b, 3));
    hdr(b)->chunk_id = 77;
    if (prefixed)
        hdr(b)->count = n;
    int32_t first = 0;
    for (uint32_t i = 0; i < n; i++) {
        unsigned char bytes[64];
        if (s[i].status == 0)
            fill_item(bytes, s[i].len, i);
        else
            memset(bytes, 'e', s[i].len);
        if (prefixed) {
            assert_int_equal(hpool__buf_put_item(b, s[i].status, bytes, s[i].len), 0);
        } else {
            assert_int_equal(hpool__buf_put_result(b, s[i].status, bytes, s[i].len), 0);
            assert_int_equal(hdr(b)->count, i + 1);
        }
        if (first == 0)
            first = s[i].status;
    }
    for (uint32_t k = 0; k < n_spans; k++) {
        hpool__wire_span sp;
        memset(&sp, 0, sizeof sp);
        sp.item = 100 + k;
        sp.inner = k;
        assert_int_equal(hpool__buf_put_raw(b, &sp, sizeof sp), 0);
    }
    hdr(b)->status = first;
    hdr(b)->n_spans = n_spans;
}

static void build_auto(hpool__buf *b, const spec *s, uint32_t n, uint32_t n_spans)
{
    build(b, s, n, n_spans, false);
}

static void build_items(hpool__buf *b, const spec *s, uint32_t n, uint32_t n_spans)
{
    build(b, s, n, n_spans, true);
}

/* Validate, then read every item back and check it against the specs, then the spans. */
static void check_reads(const hpool__buf *b, const spec *s, uint32_t n, uint32_t n_spans)
{
    assert_int_equal(hpool__wire_validate_result(b->data, b->len, n), 0);
    hpool__item_reader rd;
    hpool__item_reader_init(&rd, b->data, b->len);
    for (uint32_t i = 0; i < n; i++) {
        int32_t status = -99;
        const void *data = NULL;
        size_t len = 999;
        assert_int_equal(hpool__item_reader_next(&rd, &status, &data, &len), 0);
        assert_int_equal(status, s[i].status);
        assert_int_equal(len, s[i].len);
        assert_true(((uintptr_t)data - (uintptr_t)b->data) % 8 == 0); /* 8-aligned */
        unsigned char want[64];
        if (s[i].status == 0)
            fill_item(want, len, i);
        else
            memset(want, 'e', len);
        if (len)
            assert_memory_equal(data, want, len);
    }
    /* At most `count` items, whatever the form; the spans are what is left. */
    int32_t status;
    const void *data;
    size_t len;
    assert_int_equal(hpool__item_reader_next(&rd, &status, &data, &len), HPOOL_EPROTO);
    assert_int_equal((size_t)(rd.end - rd.p), (size_t)n_spans * sizeof(hpool__wire_span));
    for (uint32_t k = 0; k < n_spans; k++) {
        hpool__wire_span sp;
        memcpy(&sp, rd.p + (size_t)k * sizeof sp, sizeof sp);
        assert_int_equal(sp.item, 100 + k);
    }
}

/* ---------------------------------------------------------------- uniform form */
static void uniform_form(void **state)
{
    (void)state;
    static const size_t lens[] = {0, 5, 8, 24};
    static const uint32_t counts[] = {1, 2, 3, 256};
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
        for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++)
            for (uint32_t n_spans = 0; n_spans <= 2; n_spans += 2) {
                uint32_t n = counts[ci];
                spec s[256];
                for (uint32_t i = 0; i < n; i++)
                    s[i] = (spec){0, lens[li]};
                hpool__buf b = {0};
                build_auto(&b, s, n, n_spans);
                const hpool__wire_result *h = hdr(&b);
                assert_int_equal(h->uniform_len, lens[li]);
                assert_int_equal(h->count, n);
                assert_int_equal(h->reserved, 0);
                assert_int_equal(b.len, HPOOL__WIRE_RESULT_SIZE + n * hpool__pad8(lens[li]) +
                                            n_spans * sizeof(hpool__wire_span));
                /* Records alone, back to back: item i at header + i * pad8(L), padding 0. */
                for (uint32_t i = 0; i < n && lens[li]; i++) {
                    unsigned char want[24];
                    fill_item(want, lens[li], i);
                    const unsigned char *at =
                        b.data + HPOOL__WIRE_RESULT_SIZE + (size_t)i * hpool__pad8(lens[li]);
                    assert_memory_equal(at, want, lens[li]);
                    for (size_t k = lens[li]; k < hpool__pad8(lens[li]); k++)
                        assert_int_equal(at[k], 0);
                }
                check_reads(&b, s, n, n_spans);
                hpool__buf_free(&b);
            }
}

/* The case: 256 eight-byte results fit Open MPI's 4 KiB eager limit. */
static void chunk_of_256_is_small(void **state)
{
    (void)state;
    spec s[256];
    for (uint32_t i = 0; i < 256; i++)
        s[i] = (spec){0, 8};
    hpool__buf b = {0};
    build_auto(&b, s, 256, 0);
    assert_int_equal(b.len, 48 + 256 * 8);
    assert_true(b.len <= 4096);
    hpool__buf_free(&b);
}

/* A RESULT with no items is the header alone, in either form. */
static void zero_items(void **state)
{
    (void)state;
    hpool__buf b = {0};
    build_auto(&b, NULL, 0, 0);
    assert_int_equal(b.len, HPOOL__WIRE_RESULT_SIZE);
    assert_int_equal(hdr(&b)->uniform_len, HPOOL__WIRE_ITEMS);
    check_reads(&b, NULL, 0, 0);
    assert_int_equal(hpool__wire_validate_result(b.data, b.len, 1), HPOOL_EPROTO);
    hdr(&b)->uniform_len = 8; /* uniform, no items: as valid */
    check_reads(&b, NULL, 0, 0);
    hpool__buf_free(&b);
}

/* ---------------------------------------------------------------- conversion */
/* put_result on `s` must give exactly what put_item gives for the same items. */
static void same_as_items(const spec *s, uint32_t n, uint32_t n_spans)
{
    hpool__buf a = {0}, b = {0};
    build_auto(&a, s, n, n_spans);
    build_items(&b, s, n, n_spans);
    assert_int_equal(hdr(&a)->uniform_len, HPOOL__WIRE_ITEMS);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    check_reads(&a, s, n, n_spans);
    hpool__buf_free(&a);
    hpool__buf_free(&b);
}

static void conversion(void **state)
{
    (void)state;
    enum { N = 40 };
    static const size_t lens[] = {0, 3, 8, 16};
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        size_t l = lens[li];
        /* The breaking item at the first, second, a middle and the last position. */
        static const uint32_t at[] = {0, 1, 17, N - 1};
        for (size_t ai = 0; ai < sizeof at / sizeof at[0]; ai++) {
            spec s[N];
            /* A failure (message of 12 bytes). */
            for (uint32_t i = 0; i < N; i++)
                s[i] = (spec){0, l};
            s[at[ai]] = (spec){5, 12};
            same_as_items(s, N, 0);
            same_as_items(s, N, 2);
            /* A failure with the uniform length itself: still not uniform. */
            s[at[ai]] = (spec){-3, l};
            same_as_items(s, N, 0);
            /* A longer, then a shorter successful item. */
            s[at[ai]] = (spec){0, l + 9};
            same_as_items(s, N, 1);
            if (l > 0) {
                s[at[ai]] = (spec){0, l - 1};
                same_as_items(s, N, 0);
            }
        }
        /* Once converted, it stays length-prefixed even when later items agree again,
         * and a mix of everything after. */
        spec s[N];
        for (uint32_t i = 0; i < N; i++)
            s[i] = (spec){(i % 7 == 3) ? (int32_t)i : 0, (i % 5 == 4) ? l + 1 : l};
        same_as_items(s, N, 0);
    }
}

/* The header stays true after every put: a message cut after any item validates. */
static void consistent_after_every_put(void **state)
{
    (void)state;
    spec s[6] = {{0, 8}, {0, 8}, {0, 8}, {2, 10}, {0, 8}, {0, 1}};
    hpool__buf b = {0};
    assert_non_null(hpool__buf_begin_result(&b, 1));
    for (uint32_t i = 0; i < 6; i++) {
        unsigned char bytes[16];
        if (s[i].status == 0)
            fill_item(bytes, s[i].len, i);
        else
            memset(bytes, 'e', s[i].len);
        assert_int_equal(hpool__buf_put_result(&b, s[i].status, bytes, s[i].len), 0);
        if (i >= 3)
            hdr(&b)->status = 2;
        check_reads(&b, s, i + 1, 0);
        assert_int_equal(hdr(&b)->uniform_len, i < 3 ? 8u : HPOOL__WIRE_ITEMS);
    }
    /* Too long for either form: refused before its bytes are read, message unchanged. */
    size_t before = b.len;
    static const unsigned char one = 1;
    assert_int_equal(hpool__buf_put_result(&b, 0, &one, (size_t)HPOOL__WIRE_ITEM_MAX + 1),
                     HPOOL_ETOOBIG);
    assert_int_equal(b.len, before);
    assert_int_equal(hdr(&b)->count, 6);
    hpool__buf_free(&b);
}

/* A first item that fails starts length-prefixed: no conversion needed. */
static void first_item_fails(void **state)
{
    (void)state;
    spec s[3] = {{9, 6}, {0, 8}, {0, 8}};
    hpool__buf b = {0};
    build_auto(&b, s, 1, 0);
    assert_int_equal(hdr(&b)->uniform_len, HPOOL__WIRE_ITEMS);
    assert_int_equal(b.len, HPOOL__WIRE_RESULT_SIZE + sizeof(hpool__wire_item) + 8);
    hpool__buf_free(&b);
    same_as_items(s, 3, 0);
}

/* ---------------------------------------------------------------- other writers */
/* map.c's failed_result and other callers that set count and use put_item. */
static void old_writers_read_back(void **state)
{
    (void)state;
    spec s[4] = {{4, 5}, {4, 5}, {4, 5}, {4, 5}};
    hpool__buf b = {0};
    build_items(&b, s, 4, 0);
    check_reads(&b, s, 4, 0);
    hpool__buf_free(&b);
    /* Successful, equal items written the old way are length-prefixed, and read so. */
    spec t[3] = {{0, 8}, {0, 8}, {0, 8}};
    build_items(&b, t, 3, 1);
    assert_int_equal(hdr(&b)->uniform_len, HPOOL__WIRE_ITEMS);
    check_reads(&b, t, 3, 1);
    hpool__buf_free(&b);
}

/* A CALL's length-prefixed payload: read as before, at most `count` items. */
static void call_items(void **state)
{
    (void)state;
    hpool__buf b = {0};
    hpool__wire_call *c = hpool__buf_begin_call(&b, 1);
    assert_non_null(c);
    c->count = 3;
    c->item_size = 0;
    for (int32_t i = 0; i < 3; i++) {
        unsigned char bytes[16];
        fill_item(bytes, (size_t)i * 5, (uint32_t)i);
        assert_int_equal(hpool__buf_put_item(&b, i * 2, bytes, (size_t)i * 5), 0);
    }
    /* A fourth item past count: not an item of this CALL. */
    assert_int_equal(hpool__buf_put_item(&b, 6, "x", 1), 0);
    hpool__item_reader rd;
    hpool__item_reader_init(&rd, b.data, b.len);
    for (int32_t i = 0; i < 3; i++) {
        int32_t delta;
        const void *data;
        size_t len;
        assert_int_equal(hpool__item_reader_next(&rd, &delta, &data, &len), 0);
        assert_int_equal(delta, i * 2);
        assert_int_equal(len, (size_t)i * 5);
        assert_true(((uintptr_t)data - (uintptr_t)b.data) % 8 == 0);
    }
    int32_t delta;
    const void *data;
    size_t len;
    assert_int_equal(hpool__item_reader_next(&rd, &delta, &data, &len), HPOOL_EPROTO);
    hpool__buf_free(&b);
}

/* ---------------------------------------------------------------- validation */
/* `len` bytes of msg in an exactly sized heap block: validation must refuse it with the
 * manager's count, and the reader must stay inside it (ASan would say otherwise). */
static void refused(const void *msg, size_t len, uint32_t count)
{
    unsigned char *m = malloc(len ? len : 1);
    assert_non_null(m);
    memcpy(m, msg, len);
    assert_int_equal(hpool__wire_validate_result(m, len, count), HPOOL_EPROTO);
    hpool__item_reader rd;
    hpool__item_reader_init(&rd, m, len);
    int32_t status;
    const void *data;
    size_t n;
    /* A lying count of empty items could yield 2^32 of them: a million say enough. */
    for (uint32_t read = 0; read < (1u << 20); read++) {
        if (hpool__item_reader_next(&rd, &status, &data, &n) != 0)
            break;
        assert_true((const unsigned char *)data + hpool__pad8(n) <= m + len);
    }
    assert_true(rd.p <= rd.end && rd.end == m + len);
    free(m);
}

static void accepted(const void *msg, size_t len, uint32_t count)
{
    assert_int_equal(hpool__wire_validate_result(msg, len, count), 0);
}

static void validate_uniform(void **state)
{
    (void)state;
    enum { N = 256 };
    spec s[N];
    for (uint32_t i = 0; i < N; i++)
        s[i] = (spec){0, 8};
    hpool__buf b = {0};
    build_auto(&b, s, N, 1);
    size_t len = b.len; /* 48 + 2048 + 48 */
    /* A copy with room past the end, for oversized variants. */
    unsigned char *m = calloc(1, len + 64);
    assert_non_null(m);
    memcpy(m, b.data, len);
    hpool__wire_result *h = (hpool__wire_result *)m;
    accepted(m, len, N);

    /* Wrong count from the manager's side, and the header's own count lying. */
    refused(m, len, N - 1);
    refused(m, len, N + 1);
    h->count = N + 1; /* one record short */
    refused(m, len, N + 1);
    h->count = N - 1; /* one record too many: 8 bytes that are not spans */
    refused(m, len, N - 1);
    h->count = N;

    /* Truncated: by a byte, a record, the spans, into the header; oversized by a byte,
     * a record, a span. */
    refused(m, len - 1, N);
    refused(m, len - 8, N);
    refused(m, len - sizeof(hpool__wire_span), N);
    refused(m, HPOOL__WIRE_RESULT_SIZE - 1, N);
    refused(m, len + 1, N);
    refused(m, len + 8, N);
    refused(m, len + 48, N);

    /* Lying length: longer or shorter records than the message holds. */
    h->uniform_len = 16;
    refused(m, len, N);
    h->uniform_len = 7; /* pad8(7) = 8: the size fits, so the count decides: same ... */
    accepted(m, len, N); /* ... a uniform message of 7-byte items is what it says */
    h->uniform_len = 9;
    refused(m, len, N);
    h->uniform_len = 0; /* 0-byte items: all 2048 bytes would have to be spans */
    refused(m, len, N);
    h->uniform_len = HPOOL__WIRE_ITEM_MAX + 1; /* between the limit and the sentinel */
    refused(m, len, N);
    h->uniform_len = HPOOL__WIRE_ITEMS - 1;
    refused(m, len, N);
    h->uniform_len = HPOOL__WIRE_ITEMS; /* length-prefixed: records read as item headers */
    refused(m, len, N);
    h->uniform_len = 8;

    /* Lying status (a uniform message has no failed item), reserved, n_spans. */
    h->status = 3;
    refused(m, len, N);
    h->status = 0;
    h->reserved = 1;
    refused(m, len, N);
    h->reserved = 0;
    h->n_spans = 0;
    refused(m, len, N);
    h->n_spans = 2;
    refused(m, len, N);
    h->n_spans = UINT32_MAX;
    refused(m, len, N);
    h->n_spans = 1;
    accepted(m, len, N);

    /* count x stride past any size: no overflow into acceptance. */
    h->count = UINT32_MAX;
    h->uniform_len = HPOOL__WIRE_ITEM_MAX;
    refused(m, len, UINT32_MAX);
    h->uniform_len = 0; /* 2^32 - 1 empty items: the bytes left must be spans */
    h->n_spans = 0;
    refused(m, len, UINT32_MAX);
    refused(m, HPOOL__WIRE_RESULT_SIZE + 8, UINT32_MAX);
    accepted(m, HPOOL__WIRE_RESULT_SIZE, UINT32_MAX); /* true: the header alone */
    /* A size check done as (bytes left - count x stride) == spans would wrap here:
     * (2^32 - 1) records of stride 2^32 - 8 in 8 bytes "leave" 805306368 spans. */
    h->uniform_len = HPOOL__WIRE_ITEM_MAX;
    h->n_spans = 805306368u;
    assert_int_equal((uint64_t)8 - (uint64_t)UINT32_MAX * hpool__pad8(HPOOL__WIRE_ITEM_MAX),
                     (uint64_t)805306368u * sizeof(hpool__wire_span));
    refused(m, HPOOL__WIRE_RESULT_SIZE + 8, UINT32_MAX);

    /* Not a RESULT. */
    memcpy(m, b.data, len);
    accepted(m, len, N);
    h->type = HPOOL__MSG_PONG;
    refused(m, len, N);
    h->type = HPOOL__MSG_RESULT;
    h->magic ^= 1;
    refused(m, len, N);
    free(m);
    hpool__buf_free(&b);
}

static void validate_items(void **state)
{
    (void)state;
    spec s[5] = {{0, 8}, {0, 8}, {1, 20}, {0, 0}, {0, 3}};
    hpool__buf b = {0};
    build_auto(&b, s, 5, 1);
    size_t len = b.len;
    unsigned char *m = calloc(1, len + 64);
    assert_non_null(m);
    memcpy(m, b.data, len);
    hpool__wire_result *h = (hpool__wire_result *)m;
    accepted(m, len, 5);
    refused(m, len, 4);
    refused(m, len, 6);
    refused(m, len - 1, 5);
    refused(m, len - sizeof(hpool__wire_span), 5);
    refused(m, len + 8, 5);
    h->reserved = 2;
    refused(m, len, 5);
    h->reserved = 0;
    h->uniform_len = 8; /* claims uniform: failed (status), and the sizes do not add up */
    refused(m, len, 5);
    h->status = 0;
    refused(m, len, 5);
    h->uniform_len = HPOOL__WIRE_ITEMS;
    accepted(m, len, 5); /* the header's status is the worker's word, not checked here */
    h->status = 1;
    /* An item header lying about its length. */
    hpool__wire_item it;
    memcpy(&it, m + HPOOL__WIRE_RESULT_SIZE, sizeof it);
    it.len = 4000;
    memcpy(m + HPOOL__WIRE_RESULT_SIZE, &it, sizeof it);
    refused(m, len, 5);
    it.len = UINT32_MAX;
    memcpy(m + HPOOL__WIRE_RESULT_SIZE, &it, sizeof it);
    refused(m, len, 5);
    free(m);
    hpool__buf_free(&b);
}

/* ---------------------------------------------------------------- bundles */
/* A CALL of n 8-byte records (first item `first`). */
static void make_call(hpool__buf *b, uint64_t first, uint32_t n)
{
    hpool__wire_call *c = hpool__buf_begin_call(b, 1);
    assert_non_null(c);
    c->first_item = first;
    c->count = n;
    c->item_size = 8;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t v = first + i;
        assert_int_equal(hpool__buf_put_raw(b, &v, sizeof v), 0);
    }
}

/* Reads the frames of the bundle (copied to an exactly sized block): 0 and their count,
 * or the first error. */
static int read_frames(const unsigned char *msg, size_t len, unsigned *frames)
{
    unsigned char *m = malloc(len ? len : 1);
    assert_non_null(m);
    memcpy(m, msg, len);
    hpool__frame_reader fr;
    int rc = hpool__frame_reader_init(&fr, m, len, HPOOL__MSG_CALL);
    const void *f;
    size_t n;
    *frames = 0;
    while (rc == 0 && (rc = hpool__frame_reader_next(&fr, &f, &n)) == 0) {
        assert_true((const unsigned char *)f + n <= m + len);
        (*frames)++;
    }
    free(m);
    return rc == 1 ? 0 : rc;
}

static void bundle_round_trip(void **state)
{
    (void)state;
    hpool__buf b = {0}, c = {0};
    assert_int_equal(hpool__bundle_begin(&b, 1), 0);
    const uint32_t counts[] = {1, 3, 2, 7};
    for (int k = 0; k < 4; k++) {
        make_call(&c, 100u * (uint64_t)k, counts[k]);
        size_t before = b.len;
        assert_int_equal(hpool__bundle_add(&b, c.data, c.len), 0);
        assert_int_equal(b.len - before, hpool__bundle_growth(before, c.len));
    }
    assert_int_equal(hpool__bundle_frames(&b), 4);
    assert_int_equal(hpool__wire_check(b.data, b.len), 0);
    hpool__frame_reader fr;
    assert_int_equal(hpool__frame_reader_init(&fr, b.data, b.len, HPOOL__MSG_CALL), 0);
    for (int k = 0; k < 4; k++) {
        const void *f;
        size_t n;
        assert_int_equal(hpool__frame_reader_next(&fr, &f, &n), 0);
        assert_int_equal(((uintptr_t)f - (uintptr_t)b.data) % 16, 0);
        make_call(&c, 100u * (uint64_t)k, counts[k]);
        assert_int_equal(n, c.len);
        assert_memory_equal(f, c.data, n);
        hpool__item_reader rd;
        hpool__item_reader_init(&rd, f, n); /* the CALL reads as if it came alone */
        assert_int_equal(rd.left, counts[k]);
    }
    const void *f;
    size_t n;
    assert_int_equal(hpool__frame_reader_next(&fr, &f, &n), 1);
    /* The first frame of a bundle starts where a lone message would be sent from. */
    hpool__buf one = {0};
    assert_int_equal(hpool__bundle_begin(&one, 1), 0);
    assert_int_equal(hpool__bundle_add(&one, c.data, c.len), 0);
    assert_int_equal(one.len - hpool__bundle_first_offset(), c.len);
    assert_memory_equal(one.data + hpool__bundle_first_offset(), c.data, c.len);
    hpool__buf_free(&one);
    hpool__buf_free(&b);
    hpool__buf_free(&c);
}

static void bundle_refused(void **state)
{
    (void)state;
    hpool__buf b = {0}, c = {0};
    assert_int_equal(hpool__bundle_begin(&b, 1), 0);
    make_call(&c, 0, 2); /* 48 bytes, ending at 64: 8 bytes of padding follow */
    assert_int_equal(hpool__bundle_add(&b, c.data, c.len), 0);
    make_call(&c, 2, 1);
    assert_int_equal(hpool__bundle_add(&b, c.data, c.len), 0);
    unsigned frames;
    assert_int_equal(read_frames(b.data, b.len, &frames), 0);
    assert_int_equal(frames, 2);
    /* Every truncation. */
    for (size_t len = 0; len < b.len; len++)
        assert_int_equal(read_frames(b.data, len, &frames), HPOOL_EPROTO);
    unsigned char *m = malloc(b.len + 16);
    assert_non_null(m);
    /* Trailing bytes after the last frame. */
    memcpy(m, b.data, b.len);
    memset(m + b.len, 0, 16);
    assert_int_equal(read_frames(m, b.len + 8, &frames), HPOOL_EPROTO);
    /* Garbage in the padding before the second frame's header (bytes 64..71). */
    size_t padding = 8 + 8 + 48; /* prefix, first header, first frame */
    assert_int_equal(hpool__bundle_growth(padding, 40), 8 + 8 + 40);
    memcpy(m, b.data, b.len);
    m[padding + 3] = 1;
    assert_int_equal(read_frames(m, b.len, &frames), HPOOL_EPROTO);
    /* A frame header claiming more than the message holds, and reserved bits. */
    memcpy(m, b.data, b.len);
    hpool__wire_frame fh = {UINT32_MAX, 0};
    memcpy(m + 8, &fh, sizeof fh);
    assert_int_equal(read_frames(m, b.len, &frames), HPOOL_EPROTO);
    memcpy(m, b.data, b.len);
    fh = (hpool__wire_frame){48, 1};
    memcpy(m + 8, &fh, sizeof fh);
    assert_int_equal(read_frames(m, b.len, &frames), HPOOL_EPROTO);
    /* A count that disagrees with the frames: one (a bundle has at least two), three. */
    for (uint16_t count = 1; count <= 3; count += 2) {
        memcpy(m, b.data, b.len);
        ((hpool__wire_prefix *)m)->slot = count;
        assert_int_equal(read_frames(m, b.len, &frames), HPOOL_EPROTO);
    }
    /* Not a bundle at all. */
    assert_int_equal(read_frames(c.data, c.len, &frames), HPOOL_EPROTO);
    /* Frames of the other direction's type: a reader of RESULTs refuses CALLs. */
    hpool__frame_reader fr;
    const void *f;
    size_t n;
    assert_int_equal(hpool__frame_reader_init(&fr, b.data, b.len, HPOOL__MSG_RESULT), 0);
    assert_int_equal(hpool__frame_reader_next(&fr, &f, &n), HPOOL_EPROTO);
    free(m);
    hpool__buf_free(&b);
    hpool__buf_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uniform_form),
        cmocka_unit_test(chunk_of_256_is_small),
        cmocka_unit_test(zero_items),
        cmocka_unit_test(conversion),
        cmocka_unit_test(consistent_after_every_put),
        cmocka_unit_test(first_item_fails),
        cmocka_unit_test(old_writers_read_back),
        cmocka_unit_test(call_items),
        cmocka_unit_test(validate_uniform),
        cmocka_unit_test(validate_items),
        cmocka_unit_test(bundle_round_trip),
        cmocka_unit_test(bundle_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
