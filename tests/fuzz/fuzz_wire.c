/* libFuzzer target for the manager's decoder of worker messages (src/wire.c).
 *
 * The input is taken as one message received from a worker. The manager trusts nothing
 * in a RESULT message until hpool__wire_validate_result() accepted it, and after that it
 * walks the items with hpool__item_reader_next() and reads the span records that end
 * the message. This target does the same and then touches every byte the manager could
 * touch, so that AddressSanitizer reports any read the validator let through past the
 * end of the (exactly sized) buffer.
 *
 * A BUNDLE's frames are walked with hpool__frame_reader and each is decoded the same way
 * from its own exact copy (bundle-* seeds).
 *
 * Both forms of RESULT are covered (wire.h): uniform (records of uniform_len bytes, no
 * item headers) and length-prefixed. For a validated message the target also checks
 * what the form promises (uniform: every item status 0 and uniform_len bytes), and
 * writes the items it read again with hpool__buf_put_result, the worker's writer: the
 * copy must validate, read back the same items, and be uniform exactly when they allow
 * it (so the in-place conversion to length-prefixed items is fuzzed too).
 *
 * Built with -DFUZZ_MAKE_SEEDS it is instead a plain program: `fuzz_wire_seeds DIR`
 * writes a few valid RESULT messages of both forms built with the library's own
 * hpool__buf_* writers, so the seed layout can never drift from hpool__wire_result. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpool.h"
#include "wire.h"

#ifndef FUZZ_MAKE_SEEDS

/* Sink for the bytes we read: volatile so the compiler cannot drop the reads. */
static volatile unsigned char sink;

static void touch(const void *p, size_t n)
{
    const unsigned char *c = p;
    unsigned char acc = 0;
    for (size_t i = 0; i < n; i++)
        acc ^= c[i];
    sink ^= acc;
}

/* Write the `count` items of a validated message again with hpool__buf_put_result
 * and check the copy (see the top of this file). */
static void rewrite(const unsigned char *msg, size_t len, uint32_t count)
{
    hpool__buf b = {0};
    if (hpool__buf_begin_result(&b, 1) == NULL)
        return;
    hpool__item_reader rd;
    hpool__item_reader_init(&rd, msg, len);
    int32_t status;
    const void *data;
    size_t n, first_len = 0;
    int uniform = 1;
    for (uint32_t i = 0; i < count; i++) {
        if (hpool__item_reader_next(&rd, &status, &data, &n) != 0)
            abort(); /* use_result checked this already */
        if (i == 0)
            first_len = n;
        uniform &= status == 0 && n == first_len;
        int rc = hpool__buf_put_result(&b, status, data, n);
        if (rc == HPOOL_ENOMEM) {
            hpool__buf_free(&b);
            return;
        }
        if (rc != 0) {
            fprintf(stderr, "fuzz_wire: put_result of item %u (%zu bytes): %d\n", i, n, rc);
            abort();
        }
    }
    const hpool__wire_result *c = (const hpool__wire_result *)b.data;
    int is_uniform = c->uniform_len != HPOOL__WIRE_ITEMS;
    if (c->count != count || (count > 0 && is_uniform != uniform) ||
        (is_uniform && c->uniform_len != first_len) ||
        hpool__wire_validate_result(b.data, b.len, count) != 0) {
        fprintf(stderr, "fuzz_wire: rewritten message wrong (count %u, uniform %d/%d)\n",
                count, is_uniform, uniform);
        abort();
    }
    /* Item by item, the copy says what the message said. */
    hpool__item_reader a, r2;
    hpool__item_reader_init(&a, msg, len);
    hpool__item_reader_init(&r2, b.data, b.len);
    for (uint32_t i = 0; i < count; i++) {
        int32_t s1, s2;
        const void *d1, *d2;
        size_t n1, n2;
        if (hpool__item_reader_next(&a, &s1, &d1, &n1) != 0 ||
            hpool__item_reader_next(&r2, &s2, &d2, &n2) != 0 || s1 != s2 || n1 != n2 ||
            (n1 && memcmp(d1, d2, n1) != 0)) {
            fprintf(stderr, "fuzz_wire: rewritten item %u differs\n", i);
            abort();
        }
    }
    hpool__buf_free(&b);
}

/* Items worth walking in a validated message of `count` items: all of them, except that
 * a uniform message of empty items (uniform_len 0) may validate for any count, up to
 * 2^32 - 1, in no bytes. The manager only ever validates for a count it carved; here a
 * few thousand such items show everything (each is the same empty item). */
static uint32_t items_to_walk(const hpool__wire_result *h, uint32_t count)
{
    return h->uniform_len == 0 && count > 4096 ? 4096 : count;
}

/* Everything the manager does with a RESULT once validated for `count` items. Any
 * failure here means the validator accepted a message the reader then refuses: that is
 * a validator bug too (the manager would be left with a half-applied result), so abort
 * to have libFuzzer keep the input. */
static void use_result(const unsigned char *msg, size_t len, uint32_t count)
{
    hpool__wire_result h;
    memcpy(&h, msg, sizeof h);
    count = items_to_walk(&h, count); /* empty items: rd.p is where their end is */
    hpool__item_reader rd;
    hpool__item_reader_init(&rd, msg, len);
    for (uint32_t i = 0; i < count; i++) {
        int32_t status;
        const void *data;
        size_t n;
        if (hpool__item_reader_next(&rd, &status, &data, &n) != 0) {
            fprintf(stderr, "fuzz_wire: validated message, item %u unreadable\n", i);
            abort();
        }
        /* A uniform message carries only successful items of its one length. */
        if (h.uniform_len != HPOOL__WIRE_ITEMS && (status != 0 || n != h.uniform_len)) {
            fprintf(stderr, "fuzz_wire: uniform message, item %u: status %d, %zu bytes\n", i,
                    (int)status, n);
            abort();
        }
        touch(&status, sizeof status);
        /* The item bytes and their padding up to 8: the reader skips the padding, so
         * it must lie inside the message as well. */
        touch(data, hpool__pad8(n));
    }
    /* The manager copies the spans out of the tail; they must be exactly n_spans. */
    size_t rest = (size_t)(rd.end - rd.p);
    if (rest != (size_t)h.n_spans * sizeof(hpool__wire_span)) {
        fprintf(stderr, "fuzz_wire: validated message, %zu tail bytes for %u spans\n", rest,
                h.n_spans);
        abort();
    }
    for (uint32_t s = 0; s < h.n_spans; s++) {
        hpool__wire_span sp;
        memcpy(&sp, rd.p + (size_t)s * sizeof sp, sizeof sp);
        touch(&sp, sizeof sp);
    }
    rewrite(msg, len, count);
}

static void one_message(const uint8_t *data, size_t size);

/* A BUNDLE: the frame reader must stay inside the message, and each frame it yields is
 * decoded as the manager does, from its own exactly sized copy (manager.c copies each
 * frame out before handling it). */
static void bundle(const unsigned char *msg, size_t size)
{
    hpool__frame_reader fr;
    if (hpool__frame_reader_init(&fr, msg, size, HPOOL__MSG_RESULT) != 0)
        return;
    const void *frame;
    size_t len;
    int rc;
    while ((rc = hpool__frame_reader_next(&fr, &frame, &len)) == 0) {
        const unsigned char *f = frame;
        if (f < msg || f + len > msg + size || ((size_t)(f - msg)) % 16 != 0) {
            fprintf(stderr, "fuzz_wire: frame outside the bundle or misaligned\n");
            abort();
        }
        touch(f, len);
        if (((const hpool__wire_prefix *)f)->type != HPOOL__MSG_RESULT) {
            fprintf(stderr, "fuzz_wire: frame reader yielded a frame of another type\n");
            abort();
        }
        one_message(f, len);
    }
    if (rc != 1 && rc != HPOOL_EPROTO) {
        fprintf(stderr, "fuzz_wire: frame reader returned %d\n", rc);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one_message(data, size);
    return 0;
}

static void one_message(const uint8_t *data, size_t size)
{
    /* A malloc'd copy of exactly `size` bytes: the manager's receive buffer is malloc'd
     * (so aligned for the header struct) and sized by MPI_Get_count, and ASan flags any
     * byte read past it. libFuzzer's own buffer is also exact, but its alignment is not
     * promised. malloc(0) may return NULL; use 1 byte then, still exactly `size` used. */
    unsigned char *msg = malloc(size ? size : 1);
    if (msg == NULL)
        return;
    if (size)
        memcpy(msg, data, size);
    if (size >= sizeof(hpool__wire_prefix) &&
        ((const hpool__wire_prefix *)msg)->type == HPOOL__MSG_BUNDLE)
        bundle(msg, size);

    if (hpool__wire_check(msg, size) == 0) {
        /* The check promises at least the header of the message's own type. */
        hpool__wire_prefix p;
        memcpy(&p, msg, sizeof p);
        touch(msg, hpool__wire_hdr_size(p.type));
        uint32_t count = 0;
        if (p.type == HPOOL__MSG_RESULT) {
            hpool__wire_result h;
            memcpy(&h, msg, sizeof h);
            count = h.count;
        }
        /* The manager passes the count of the call item it sent; a worker's message
         * may claim anything. Try the header's own count (the interesting case) and its
         * neighbours (which must all be refused when the count differs), plus 0. */
        const uint32_t counts[] = {count, count + 1u, count - 1u, 0u};
        for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
            int rc = hpool__wire_validate_result(msg, size, counts[i]);
            if (rc == 0) {
                if (counts[i] != count || p.type != HPOOL__MSG_RESULT) {
                    fprintf(stderr, "fuzz_wire: accepted count %u, header says %u type %u\n",
                            counts[i], count, (unsigned)p.type);
                    abort();
                }
                use_result(msg, size, counts[i]);
            } else if (rc != HPOOL_EPROTO) {
                fprintf(stderr, "fuzz_wire: validate returned %d\n", rc);
                abort();
            }
        }
    } else {
        /* A message that fails the header check must fail validation too. */
        if (hpool__wire_validate_result(msg, size, 0) == 0 ||
            hpool__wire_validate_result(msg, size, 1) == 0) {
            fprintf(stderr, "fuzz_wire: bad header validated\n");
            abort();
        }
    }

    /* The reader on its own, as the manager's other decoders use it (no validation
     * first): it must stop inside the buffer whatever the bytes say. A uniform header
     * of empty items may claim up to 2^32 - 1 of them, all "inside": decoders read only
     * the count they expect, so stop after as many as the bytes could hold plus 4096. */
    {
        hpool__item_reader rd;
        hpool__item_reader_init(&rd, msg, size);
        int32_t status;
        const void *d;
        size_t n;
        size_t cap = size / 8 + 4096;
        for (size_t k = 0; k < cap && hpool__item_reader_next(&rd, &status, &d, &n) == 0; k++)
            touch(d, hpool__pad8(n));
    }
    free(msg);
}

#else /* FUZZ_MAKE_SEEDS */

#include <errno.h>

static int write_seed(const char *dir, const char *name, const hpool__buf *b)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        fprintf(stderr, "fuzz_wire_seeds: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t w = fwrite(b->data, 1, b->len, f);
    if (fclose(f) != 0 || w != b->len) {
        fprintf(stderr, "fuzz_wire_seeds: %s: write failed\n", path);
        return -1;
    }
    return 0;
}

/* One RESULT of `n_items` items (item i has i*5 bytes, so 0, 5 and 10: empty, padded and
 * padded again) and `n_spans` span records. Checks its own output with the validator so a
 * seed that is not valid is never written silently. */
static int make_result(const char *dir, const char *name, uint32_t n_items, uint32_t n_spans,
                       int32_t fail_status)
{
    hpool__buf b = {0};
    hpool__wire_result *h = hpool__buf_begin_result(&b, 1);
    if (h == NULL)
        return -1;
    h->slot = 0;
    h->chunk_id = 42;
    h->count = n_items;
    h->n_spans = n_spans;
    h->status = fail_status;
    h->t_start = 1.5, h->t_end = 2.0;
    int rc = 0;
    for (uint32_t i = 0; i < n_items && rc == 0; i++) {
        unsigned char bytes[16];
        for (size_t k = 0; k < sizeof bytes; k++)
            bytes[k] = (unsigned char)(i * 16 + k);
        int32_t st = (fail_status != 0 && i == n_items - 1) ? fail_status : 0;
        rc = hpool__buf_put_item(&b, st, bytes, (size_t)i * 5);
    }
    for (uint32_t s = 0; s < n_spans && rc == 0; s++) {
        hpool__wire_span sp;
        memset(&sp, 0, sizeof sp);
        sp.item = 1000 + s;
        sp.inner = s;
        sp.thread = (int32_t)(s % 2);
        sp.t_start = 1.5 + s * 0.1;
        sp.t_end = 1.55 + s * 0.1;
        snprintf(sp.label, sizeof sp.label, "seed%u", s);
        rc = hpool__buf_put_raw(&b, &sp, sizeof sp);
    }
    if (rc == 0 && hpool__wire_validate_result(b.data, b.len, n_items) != 0) {
        fprintf(stderr, "fuzz_wire_seeds: %s does not validate\n", name);
        rc = -1;
    }
    if (rc == 0)
        rc = write_seed(dir, name, &b);
    hpool__buf_free(&b);
    return rc;
}

/* A RESULT written as the worker writes it (hpool__buf_put_result): `n_items` items of
 * `len` bytes, uniform unless item `fail_at` (< n_items) fails with a message, which
 * turns it length-prefixed; `n_spans` span records after. */
static int make_auto(const char *dir, const char *name, uint32_t n_items, size_t len,
                     uint32_t fail_at, uint32_t n_spans, uint32_t want_form)
{
    hpool__buf b = {0};
    hpool__wire_result *h = hpool__buf_begin_result(&b, 1);
    if (h == NULL)
        return -1;
    h->chunk_id = 43;
    h->t_start = 1.5, h->t_end = 2.0;
    int rc = 0;
    for (uint32_t i = 0; i < n_items && rc == 0; i++) {
        unsigned char bytes[16];
        for (size_t k = 0; k < sizeof bytes; k++)
            bytes[k] = (unsigned char)(i * 16 + k);
        rc = i == fail_at ? hpool__buf_put_result(&b, 3, "failed", 7)
                          : hpool__buf_put_result(&b, 0, bytes, len);
    }
    for (uint32_t s = 0; s < n_spans && rc == 0; s++) {
        hpool__wire_span sp;
        memset(&sp, 0, sizeof sp);
        sp.item = s;
        sp.t_start = 1.5, sp.t_end = 1.6;
        snprintf(sp.label, sizeof sp.label, "u%u", s);
        rc = hpool__buf_put_raw(&b, &sp, sizeof sp);
    }
    if (rc == 0) {
        h = (hpool__wire_result *)b.data;
        h->n_spans = n_spans;
        h->status = fail_at < n_items ? 3 : 0;
        if (h->uniform_len != want_form ||
            hpool__wire_validate_result(b.data, b.len, n_items) != 0) {
            fprintf(stderr, "fuzz_wire_seeds: %s does not validate as meant\n", name);
            rc = -1;
        }
    }
    if (rc == 0)
        rc = write_seed(dir, name, &b);
    hpool__buf_free(&b);
    return rc;
}

/* A BUNDLE of n RESULTs as a worker gathers them (worker.c), each of `items` uniform
 * 8-byte items; every frame must read back and validate. */
static int make_bundle(const char *dir, const char *name, uint32_t n, uint32_t items)
{
    hpool__buf b = {0}, r = {0};
    int rc = hpool__bundle_begin(&b, 1);
    for (uint32_t k = 0; k < n && rc == 0; k++) {
        hpool__wire_result *h = hpool__buf_begin_result(&r, 1);
        if (h == NULL) {
            rc = -1;
            break;
        }
        h->slot = (uint16_t)k;
        h->chunk_id = 50 + k;
        h->t_start = 1.5, h->t_end = 2.0;
        for (uint32_t i = 0; i < items && rc == 0; i++) {
            uint64_t v = k * 100u + i;
            rc = hpool__buf_put_result(&r, 0, &v, sizeof v);
        }
        if (rc == 0)
            rc = hpool__bundle_add(&b, r.data, r.len);
    }
    hpool__frame_reader fr;
    const void *f;
    size_t len;
    uint32_t seen = 0;
    if (rc == 0 && hpool__frame_reader_init(&fr, b.data, b.len, HPOOL__MSG_RESULT) == 0)
        while (hpool__frame_reader_next(&fr, &f, &len) == 0 &&
               hpool__wire_validate_result(f, len, items) == 0)
            seen++;
    if (rc != 0 || seen != n) {
        fprintf(stderr, "fuzz_wire_seeds: %s does not read back\n", name);
        rc = -1;
    }
    if (rc == 0)
        rc = write_seed(dir, name, &b);
    hpool__buf_free(&b);
    hpool__buf_free(&r);
    return rc;
}

/* Messages of the other types: a header alone, as PONG/STOP_ACK are. */
static int make_plain(const char *dir, const char *name, int type)
{
    hpool__buf b = {0};
    hpool__wire_hdr *h = hpool__buf_begin(&b, type, 1);
    if (h == NULL)
        return -1;
    int rc = write_seed(dir, name, &b);
    hpool__buf_free(&b);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_wire_seeds DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    int rc = 0;
    rc |= make_result(dir, "result-0-items", 0, 0, 0);
    rc |= make_result(dir, "result-1-item", 1, 0, 0);
    rc |= make_result(dir, "result-3-items", 3, 0, 0);
    rc |= make_result(dir, "result-3-items-2-spans", 3, 2, 0);
    rc |= make_result(dir, "result-1-item-1-span", 1, 1, 0);
    rc |= make_result(dir, "result-3-items-failed", 3, 0, 7);
    rc |= make_auto(dir, "uniform-1x8", 1, 8, UINT32_MAX, 0, 8);
    rc |= make_auto(dir, "uniform-3x8-2-spans", 3, 8, UINT32_MAX, 2, 8);
    rc |= make_auto(dir, "uniform-4x5", 4, 5, UINT32_MAX, 0, 5);
    rc |= make_auto(dir, "uniform-3x0", 3, 0, UINT32_MAX, 0, 0);
    rc |= make_auto(dir, "uniform-64x8", 64, 8, UINT32_MAX, 1, 8);
    rc |= make_auto(dir, "converted-4x8-fail-2", 4, 8, 2, 0, HPOOL__WIRE_ITEMS);
    rc |= make_auto(dir, "converted-3x5-fail-0-1-span", 3, 5, 0, 1, HPOOL__WIRE_ITEMS);
    rc |= make_bundle(dir, "bundle-2x1", 2, 1);
    rc |= make_bundle(dir, "bundle-5x3", 5, 3);
    rc |= make_plain(dir, "pong", HPOOL__MSG_PONG);
    rc |= make_plain(dir, "stop-ack", HPOOL__MSG_STOP_ACK);
    return rc == 0 ? 0 : 1;
}

#endif /* FUZZ_MAKE_SEEDS */
