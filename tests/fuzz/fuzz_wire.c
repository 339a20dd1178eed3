/* libFuzzer target for the manager's decoder of worker messages (src/wire.c).
 *
 * The input is taken as one message received from a worker. The manager trusts nothing
 * in a RESULT message until hpool__wire_validate_result() accepted it, and after that it
 * walks the items with hpool__item_reader_next() and reads the span records that end
 * the message. This target does the same and then touches every byte the manager could
 * touch, so that AddressSanitizer reports any read the validator let through past the
 * end of the (exactly sized) buffer.
 *
 * Built with -DFUZZ_MAKE_SEEDS it is instead a plain program: `fuzz_wire_seeds DIR`
 * writes a few valid RESULT messages built with the library's own hpool__buf_* writers,
 * so the seed layout can never drift from hpool__wire_result. */
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

/* Everything the manager does with a RESULT once validated for `count` items. Any
 * failure here means the validator accepted a message the reader then refuses: that is
 * a validator bug too (the manager would be left with a half-applied result), so abort
 * to have libFuzzer keep the input. */
static void use_result(const unsigned char *msg, size_t len, uint32_t count)
{
    hpool__wire_result h;
    memcpy(&h, msg, sizeof h);
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
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A malloc'd copy of exactly `size` bytes: the manager's receive buffer is malloc'd
     * (so aligned for the header struct) and sized by MPI_Get_count, and ASan flags any
     * byte read past it. libFuzzer's own buffer is also exact, but its alignment is not
     * promised. malloc(0) may return NULL; use 1 byte then, still exactly `size` used. */
    unsigned char *msg = malloc(size ? size : 1);
    if (msg == NULL)
        return 0;
    if (size)
        memcpy(msg, data, size);

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
     * first): it must stop inside the buffer whatever the bytes say. */
    {
        hpool__item_reader rd;
        hpool__item_reader_init(&rd, msg, size);
        int32_t status;
        const void *d;
        size_t n;
        while (hpool__item_reader_next(&rd, &status, &d, &n) == 0)
            touch(d, hpool__pad8(n));
    }
    free(msg);
    return 0;
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
    rc |= make_plain(dir, "pong", HPOOL__MSG_PONG);
    rc |= make_plain(dir, "stop-ack", HPOOL__MSG_STOP_ACK);
    return rc == 0 ? 0 : 1;
}

#endif /* FUZZ_MAKE_SEEDS */
