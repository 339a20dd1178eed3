/* hpool-bench configs: what the parser's files share. Private to bench/config*.c; the
 * public API is config.h.
 *   config.c          loading, defaults, rules across keys, the sweep, freeing
 *   config_schema.c   names, the key table, checking values, the inih handler
 *   config_reader.c   reading the file and handing inih one vetted line at a time
 *   config_message.c  building messages and recording the first error */
#ifndef HPOOL_BENCH_CONFIG_INT_H
#define HPOOL_BENCH_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------------------------
 * The schema: one row per key.
 * ---------------------------------------------------------------------------------- */
typedef enum { SEC_EXPERIMENT = 0, SEC_HYBRID, SEC_COUNT } section_id;
extern const char *const hpool_bench__section_names[SEC_COUNT];

typedef enum {
    K_NAME,      /* [A-Za-z0-9._-]+ */
    K_TEXT,      /* anything */
    K_ENUM,      /* one of names[] */
    K_ENUM_LIST, /* list of names[] */
    K_INT,       /* integer in [min, max] */
    K_INT_LIST,  /* list of integers in [min, max] */
    K_FLOAT,     /* finite, > 0 and <= fmax */
    K_BOOL       /* bool_names[] */
} key_kind;

typedef struct {
    section_id section;
    const char *name;
    key_kind kind;
    const char *const *names; /* K_ENUM, K_ENUM_LIST */
    size_t n_names;
    int64_t min, max;         /* K_INT, K_INT_LIST */
    double fmax;              /* K_FLOAT */
    const char *noun;         /* an element in messages, when not the key's name */
} key_spec;

extern const key_spec hpool_bench__keys[HPOOL_BENCH_KEY_COUNT];

/* ------------------------------------------------------------------------------------
 * Message building: append to a fixed buffer, truncating quietly.
 * ---------------------------------------------------------------------------------- */
typedef struct {
    char *s;
    size_t cap, len;
} sbuf;

__attribute__((format(printf, 2, 3))) void hpool_bench__sb_add(sbuf *b, const char *fmt,
                                                               ...);
/* Starts "PATH:LINE: " (or "PATH: " for line 0) in err. */
sbuf hpool_bench__start_message(const char *path, int line, char *err, size_t errlen);

/* ------------------------------------------------------------------------------------
 * Parser state and error recording (the first error wins).
 * ---------------------------------------------------------------------------------- */
typedef struct {
    const char *path;
    hpool_bench_config *cfg;
    const char *buf; /* whole file */
    size_t len, pos;
    int lineno;      /* line most recently given to inih */
    int section_line[SEC_COUNT];
    bool failed;
    int err_line;
    sbuf msg;
} parser;

/* Begins the error message, or returns NULL if an error is already recorded. */
sbuf *hpool_bench__fail_begin(parser *p, int line);
__attribute__((format(printf, 3, 4))) void hpool_bench__fail_line(parser *p, int line,
                                                                  const char *fmt, ...);
/* "PATH:LINE: [section] key = 'value': <fmt> (allowed: ...)" at the current line. */
__attribute__((format(printf, 5, 6))) void
hpool_bench__fail_key(parser *p, const key_spec *k, const char *value, bool show_allowed,
                      const char *fmt, ...);

/* Quotes a line for a message: at most 60 bytes of it. */
#define QUOTE_FMT "'%.*s%s'"
#define QUOTE_ARGS(s, n) (int)((n) > 60 ? 60 : (n)), (s), ((n) > 60 ? "..." : "")

/* ------------------------------------------------------------------------------------
 * The inih handler (config_schema.c) and the reader (config_reader.c).
 * ---------------------------------------------------------------------------------- */
int hpool_bench__find_section(const char *name);
int hpool_bench__on_key(void *user, const char *section, const char *name,
                        const char *value);
char *hpool_bench__read_line(char *str, int num, void *stream);
/* Reads the whole file (NULL, error recorded, if it cannot or is over the size limit). */
char *hpool_bench__read_file(parser *p, size_t *len);

#endif
