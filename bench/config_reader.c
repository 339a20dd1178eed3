/* hpool-bench configs: reading the file (a regular file, within the size limit) and
 * handing inih one vetted line at a time (text only, within its buffer, known sections,
 * '=' lines). Why inih needs this is told at the top of config.c. */
#define _POSIX_C_SOURCE 200809L

#include "config_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------
 * The reader: hands inih one vetted line at a time.
 * ---------------------------------------------------------------------------------- */

/* Length of the UTF-8 sequence at s (n bytes available), or 0 if it is invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (len == 0 || s[0] > 0xF4 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    /* Overlong 3- and 4-byte forms, UTF-16 surrogates, and code points past U+10FFFF. */
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0) ||
        (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90))
        return 0;
    return len;
}

/* Refuses bytes that cannot be in a text config: a NUL would cut the line short for
 * inih, and control bytes or broken UTF-8 mean a binary file was passed. */
static bool check_text(parser *p, const char *line, size_t n)
{
    const unsigned char *s = (const unsigned char *)line;
    size_t step;
    for (size_t i = 0; i < n; i += step) {
        step = s[i] >= 0x80 ? utf8_len(s + i, n - i) : 1;
        if (s[i] == 0)
            hpool_bench__fail_line(p, p->lineno, "NUL byte at column %zu: not a text file",
                                   i + 1);
        else if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7F)
            hpool_bench__fail_line(p, p->lineno,
                                   "control byte 0x%02x at column %zu: not a text file",
                                   s[i], i + 1);
        else if (step == 0)
            hpool_bench__fail_line(
                p, p->lineno, "invalid UTF-8 byte 0x%02x at column %zu: not a text file",
                s[i], i + 1);
        if (p->failed)
            return false;
    }
    return true;
}

/* "[name]" followed by nothing but blanks or a comment; a known section, once. */
static bool check_section(parser *p, const char *s, size_t n)
{
    const char *close = memchr(s, ']', n);
    if (!close) {
        hpool_bench__fail_line(p, p->lineno,
                               QUOTE_FMT ": section header without closing ']'",
                               QUOTE_ARGS(s, n));
        return false;
    }
    const char *rest = close + 1, *end = s + n;
    while (rest < end && isspace((unsigned char)*rest))
        rest++;
    if (rest < end && *rest != ';' && *rest != '#') {
        hpool_bench__fail_line(p, p->lineno, QUOTE_FMT ": text after the section header",
                               QUOTE_ARGS(s, n));
        return false;
    }
    char name[64];
    size_t len = (size_t)(close - s - 1);
    int sec = -1;
    if (len < sizeof name) {
        memcpy(name, s + 1, len);
        name[len] = '\0';
        sec = hpool_bench__find_section(name);
    }
    if (sec < 0) {
        hpool_bench__fail_line(p, p->lineno,
                               "[%.*s]: unknown section (allowed: experiment, hybrid)",
                               (int)(len > 60 ? 60 : len), s + 1);
        return false;
    }
    if (p->section_line[sec]) {
        hpool_bench__fail_line(p, p->lineno, "[%s]: section given twice (first at line %d)",
                               name, p->section_line[sec]);
        return false;
    }
    p->section_line[sec] = p->lineno;
    return true;
}

/* A key line must use '=': inih would also take ':', and without either it is a
 * syntax error (reported here so the message can quote the line). */
static bool check_key_line(parser *p, const char *s, size_t n, bool indented)
{
    size_t eq = 0;
    while (eq < n && s[eq] != '=' && s[eq] != ':')
        eq++;
    if (eq < n && s[eq] == '=')
        return true;
    if (eq < n)
        hpool_bench__fail_line(p, p->lineno,
                               QUOTE_FMT ": use '=' between key and value, not ':'",
                               QUOTE_ARGS(s, n));
    else
        hpool_bench__fail_line(
            p, p->lineno,
            QUOTE_FMT ": syntax error: expected 'key = value', '[section]' or a "
                      "comment%s",
            QUOTE_ARGS(s, n),
            indented ? " (an indented line does not continue the previous value; "
                       "keep a list on one line)"
                     : "");
    return false;
}

char *hpool_bench__read_line(char *str, int num, void *stream)
{
    parser *p = stream;
    if (p->failed || p->pos >= p->len)
        return NULL;
    const char *line = p->buf + p->pos;
    const char *nl = memchr(line, '\n', p->len - p->pos);
    size_t n = nl ? (size_t)(nl - line) : p->len - p->pos;
    p->pos += n + (nl != NULL);
    p->lineno++;
    if (n && line[n - 1] == '\r')
        n--;
    if (p->lineno == 1 && n >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
        line += 3; /* UTF-8 byte order mark */
        n -= 3;
    }
    if (!check_text(p, line, n))
        return NULL;
    /* inih's buffer holds num bytes; we add '\n' and NUL. Longer lines would be split. */
    if (num < 3 || n > (size_t)num - 2) {
        hpool_bench__fail_line(p, p->lineno, "line is %zu bytes long; the limit is %d", n,
                               num - 2);
        return NULL;
    }
    /* Without indentation inih sees no continuation lines. */
    bool indented = n && (*line == ' ' || *line == '\t');
    while (n && (*line == ' ' || *line == '\t')) {
        line++;
        n--;
    }
    bool comment = n == 0 || *line == ';' || *line == '#';
    if (!comment && !(*line == '[' ? check_section(p, line, n)
                                   : check_key_line(p, line, n, indented)))
        return NULL;
    memcpy(str, line, n);
    str[n] = '\n';
    str[n + 1] = '\0';
    return str;
}

/* ------------------------------------------------------------------------------------
 * Whole-file checks.
 * ---------------------------------------------------------------------------------- */

/* Opens the config if it is a regular file; -1 (error recorded) otherwise. O_NONBLOCK
 * keeps a FIFO given by mistake from blocking the open. */
static int open_regular(parser *p)
{
    int fd = open(p->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        hpool_bench__fail_line(p, 0, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0)
        hpool_bench__fail_line(p, 0, "cannot stat: %s", strerror(errno));
    else if (S_ISDIR(st.st_mode))
        hpool_bench__fail_line(p, 0, "is a directory, not a config file");
    else if (!S_ISREG(st.st_mode))
        hpool_bench__fail_line(p, 0, "is not a regular file");
    if (p->failed) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads the whole file (NULL, error recorded, if it cannot or is over the size limit).
 * The buffer is sized for the limit: configs are small, and this needs no st_size. */
char *hpool_bench__read_file(parser *p, size_t *len)
{
    int fd = open_regular(p);
    if (fd < 0)
        return NULL;
    char *buf = malloc(HPOOL_BENCH_FILE_MAX + 1);
    if (!buf)
        hpool_bench__fail_line(p, 0, "out of memory");
    *len = 0;
    while (!p->failed) {
        ssize_t r = read(fd, buf + *len, HPOOL_BENCH_FILE_MAX + 1 - *len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            hpool_bench__fail_line(p, 0, "cannot read: %s", strerror(errno));
        else if (*len + (size_t)r > HPOOL_BENCH_FILE_MAX)
            hpool_bench__fail_line(p, 0, "larger than %d bytes: not a config file",
                                   HPOOL_BENCH_FILE_MAX);
        if (r <= 0)
            break;
        *len += (size_t)r;
    }
    close(fd);
    if (p->failed) {
        free(buf);
        return NULL;
    }
    return buf;
}
