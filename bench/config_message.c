/* hpool-bench configs: building messages and recording the first error (see config.c). */
#define _POSIX_C_SOURCE 200809L

#include "config_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

/* ------------------------------------------------------------------------------------
 * Message building: append to a fixed buffer, truncating quietly.
 * ---------------------------------------------------------------------------------- */
__attribute__((format(printf, 2, 0))) static void sb_vadd(sbuf *b, const char *fmt,
                                                          va_list ap)
{
    if (!b->s || b->len + 1 >= b->cap)
        return;
    size_t room = b->cap - b->len;
    int n = vsnprintf(b->s + b->len, room, fmt, ap);
    if (n > 0)
        b->len += (size_t)n < room ? (size_t)n : room - 1;
}

__attribute__((format(printf, 2, 3))) void hpool_bench__sb_add(sbuf *b, const char *fmt,
                                                               ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_vadd(b, fmt, ap);
    va_end(ap);
}

static void sb_names(sbuf *b, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        hpool_bench__sb_add(b, "%s%s", i ? ", " : "", names[i]);
}

/* "(allowed: ...)" for a key: the values, or the range, it accepts. */
static void sb_allowed(sbuf *b, const key_spec *k)
{
    hpool_bench__sb_add(b, " (allowed: ");
    switch (k->kind) {
    case K_ENUM:
    case K_ENUM_LIST:
    case K_BOOL:
        sb_names(b, k->names, k->n_names);
        break;
    case K_INT:
    case K_INT_LIST:
        hpool_bench__sb_add(b, "%" PRId64 " .. %" PRId64, k->min, k->max);
        break;
    case K_FLOAT:
        hpool_bench__sb_add(b, "a number > 0 and <= %g", k->fmax);
        break;
    case K_NAME:
        hpool_bench__sb_add(b, "letters, digits, '.', '_', '-'; at most %d bytes",
                            HPOOL_BENCH_NAME_MAX);
        break;
    case K_TEXT:
        hpool_bench__sb_add(b, "any text");
        break;
    }
    if (k->kind == K_ENUM_LIST || k->kind == K_INT_LIST)
        hpool_bench__sb_add(b, "; comma-separated, at most %d, no repeats",
                            HPOOL_BENCH_LIST_MAX);
    hpool_bench__sb_add(b, ")");
}

/* Starts "PATH:LINE: " (or "PATH: " for line 0) in err. */
sbuf hpool_bench__start_message(const char *path, int line, char *err, size_t errlen)
{
    sbuf b = {err, errlen, 0};
    if (err && errlen)
        err[0] = '\0';
    if (line > 0)
        hpool_bench__sb_add(&b, "%s:%d: ", path, line);
    else
        hpool_bench__sb_add(&b, "%s: ", path);
    return b;
}

/* ------------------------------------------------------------------------------------
 * Parser state and error recording (the first error wins).
 * ---------------------------------------------------------------------------------- */
/* Begins the error message, or returns NULL if an error is already recorded. */
sbuf *hpool_bench__fail_begin(parser *p, int line)
{
    if (p->failed)
        return NULL;
    p->failed = true;
    p->err_line = line;
    p->msg = hpool_bench__start_message(p->path, line, p->msg.s, p->msg.cap);
    return &p->msg;
}

__attribute__((format(printf, 3, 4))) void hpool_bench__fail_line(parser *p, int line,
                                                                  const char *fmt, ...)
{
    sbuf *b = hpool_bench__fail_begin(p, line);
    if (!b)
        return;
    va_list ap;
    va_start(ap, fmt);
    sb_vadd(b, fmt, ap);
    va_end(ap);
}

/* "PATH:LINE: [section] key = 'value': <fmt> (allowed: ...)" at the current line. */
__attribute__((format(printf, 5, 6))) void
hpool_bench__fail_key(parser *p, const key_spec *k, const char *value, bool show_allowed,
                      const char *fmt, ...)
{
    sbuf *b = hpool_bench__fail_begin(p, p->lineno);
    if (!b)
        return;
    hpool_bench__sb_add(b, "[%s] %s = '%s': ", hpool_bench__section_names[k->section],
                        k->name, value);
    va_list ap;
    va_start(ap, fmt);
    sb_vadd(b, fmt, ap);
    va_end(ap);
    if (show_allowed)
        sb_allowed(b, k);
}
