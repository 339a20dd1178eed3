/* table.c: the read-only TSV table of table.h (hpool_render_table_*). */
#include "render_int.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------
 * TSV tables
 * ---------------------------------------------------------------------------------- */

static int read_whole(const char *path, char **out, size_t *len, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT)
            return 1;
        seterr(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *bigger = realloc(buf, 2 * cap + 1);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        seterr(err, errlen, "%s: %s", path, buf ? "read error" : "out of memory");
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

/* Splits s in place at tabs; stores at most max field pointers. \return field count. */
static size_t split_tabs(char *s, char **fields, size_t max) {
    size_t n = 0;
    for (char *p = s;; p++) {
        if (n < max && (p == s || p[-1] == '\0'))
            fields[n] = p;
        if (*p == '\t') {
            *p = '\0';
            n++;
        } else if (*p == '\0') {
            return n + 1;
        }
    }
}

static size_t count_tabs(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        n += (*s == '\t');
    return n;
}

static int table_add_row(hpool_render_table *t, char *line, int lineno, size_t *cap) {
    if (t->nrows == *cap) {
        size_t ncap = *cap ? 2 * *cap : 256;
        char **cells = realloc(t->cells, ncap * t->ncols * sizeof *cells);
        if (!cells)
            return -1;
        t->cells = cells;
        int *lines = realloc(t->lines, ncap * sizeof *lines);
        if (!lines)
            return -1;
        t->lines = lines;
        *cap = ncap;
    }
    split_tabs(line, t->cells + t->nrows * t->ncols, t->ncols);
    t->lines[t->nrows++] = lineno;
    return 0;
}

static int table_set_header(hpool_render_table *t, char *line) {
    t->ncols = count_tabs(line) + 1;
    t->names = malloc(t->ncols * sizeof *t->names);
    if (!t->names)
        return -1;
    split_tabs(line, t->names, t->ncols);
    return 0;
}

/* Walks the lines of t->buf. A row with the wrong field count, or a last line without
 * its newline, is a partial write when nothing follows it and the file is incomplete;
 * `pending` holds such a line until we know whether anything follows. */
static int table_parse(hpool_render_table *t, size_t len, char *err, size_t errlen) {
    size_t cap = 0;
    int lineno = 0, pending = 0;
    char *p = t->buf, *end = t->buf + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        bool has_nl = nl != NULL;
        char *line = p;
        if (!nl)
            nl = end;
        *nl = '\0';
        p = nl + 1;
        lineno++;
        if (nl > line && nl[-1] == '\r')
            nl[-1] = '\0';
        if (line[0] == '\0')
            continue;
        if (pending) {
            seterr(err, errlen, "%s line %d: expected %zu fields", t->name, pending, t->ncols);
            return -1;
        }
        if (line[0] == '#') {
            t->complete = strcmp(line, "# complete") == 0;
            continue;
        }
        t->complete = false;
        if (!t->names) {
            if (table_set_header(t, line) < 0)
                goto oom;
            continue;
        }
        if (count_tabs(line) + 1 != t->ncols || !has_nl) {
            pending = lineno;
            continue;
        }
        if (table_add_row(t, line, lineno, &cap) < 0)
            goto oom;
    }
    if (pending)
        t->dropped = true; /* last line, and no "# complete" after it */
    return 0;
oom:
    seterr(err, errlen, "%s: out of memory", t->name);
    return -1;
}

int hpool_render_table_load(const char *dir, const char *file, hpool_render_table *t,
                            char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", file);
    char path[PATH_MAX];
    if (mkpath(path, err, errlen, "%s/%s", dir, file) < 0)
        return -1;
    size_t len = 0;
    int rc = read_whole(path, &t->buf, &len, err, errlen);
    if (rc != 0)
        return rc;
    if (table_parse(t, len, err, errlen) < 0) {
        hpool_render_table_free(t);
        return -1;
    }
    if (!t->names) { /* empty, or comments only: nothing was written yet */
        bool complete = t->complete;
        hpool_render_table_free(t);
        t->complete = complete;
        return 1;
    }
    return 0;
}

void hpool_render_table_free(hpool_render_table *t) {
    if (!t)
        return;
    free(t->buf);
    free(t->names);
    free(t->cells);
    free(t->lines);
    char name[sizeof t->name];
    memcpy(name, t->name, sizeof name);
    memset(t, 0, sizeof *t);
    memcpy(t->name, name, sizeof name);
}

int hpool_render_table_col(const hpool_render_table *t, const char *name) {
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->names[i], name) == 0)
            return (int)i;
    return -1;
}

int hpool_render_table_require(const hpool_render_table *t, const char *const *names,
                               char *err, size_t errlen) {
    for (; *names; names++) {
        if (hpool_render_table_col(t, *names) < 0) {
            seterr(err, errlen, "%s: no column '%s' in the header (see docs/FORMATS.md)",
                   t->name, *names);
            return -1;
        }
    }
    return 0;
}

const char *hpool_render_table_cell(const hpool_render_table *t, size_t row, int col) {
    if (row >= t->nrows || col < 0 || (size_t)col >= t->ncols)
        return "";
    return t->cells[row * t->ncols + (size_t)col];
}

int hpool_render_table_num(const hpool_render_table *t, size_t row, int col, double *out,
                           char *err, size_t errlen) {
    const char *s = hpool_render_table_cell(t, row, col);
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || !isfinite(v)) {
        seterr(err, errlen, "%s line %d: column %s: '%s' is not a number", t->name,
               row < t->nrows ? t->lines[row] : 0, col >= 0 ? t->names[col] : "?", s);
        return -1;
    }
    *out = v;
    return 0;
}

/* Every listed column must be a number in every row. */
int hpool_bench__table_require_numeric(const hpool_render_table *t, const char *const *names,
                                       char *err, size_t errlen) {
    if (hpool_render_table_require(t, names, err, errlen) < 0)
        return -1;
    for (; *names; names++) {
        int c = hpool_render_table_col(t, *names);
        double v;
        for (size_t r = 0; r < t->nrows; r++)
            if (hpool_render_table_num(t, r, c, &v, err, errlen) < 0)
                return -1;
    }
    return 0;
}
