/* TSV files read row by row (tsv_stream.h). */
#include "tsv_stream.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int hpool_bench_tsv_fail(hpool_bench_tsv *t, const char *what)
{
    snprintf(t->err, t->errlen, "%s:%ld: %s", t->path, t->lineno, what);
    return -1;
}

/* Splits the current line at tabs, in place. */
static int split_line(hpool_bench_tsv *t)
{
    size_t n = strlen(t->line);
    if (n && t->line[n - 1] == '\n')
        t->line[--n] = '\0';
    t->nfield = 0;
    char *p = t->line;
    for (;;) {
        if (t->nfield == t->maxfield) {
            int m = t->maxfield ? t->maxfield * 2 : 16;
            char **f = realloc(t->field, (size_t)m * sizeof *f);
            if (f == NULL)
                return -1;
            t->field = f;
            t->maxfield = m;
        }
        t->field[t->nfield++] = p;
        char *tab = strchr(p, '\t');
        if (tab == NULL)
            break;
        *tab = '\0';
        p = tab + 1;
    }
    return 0;
}

int hpool_bench_tsv_open(hpool_bench_tsv *t, const char *path, const char *const *want,
                         int nwant, char *err, size_t errlen)
{
    *t = (hpool_bench_tsv){.path = path, .want = want, .nwant = nwant, .err = err,
                           .errlen = errlen, .lineno = 1};
    t->f = fopen(path, "r");
    if (t->f == NULL)
        return 1; /* absent: the caller decides */
    t->col = malloc((size_t)(nwant > 0 ? nwant : 1) * sizeof *t->col);
    if (t->col == NULL || getline(&t->line, &t->cap, t->f) <= 0 || split_line(t) != 0)
        return hpool_bench_tsv_fail(t, "no header line");
    for (int i = 0; i < nwant; i++) {
        t->col[i] = -1;
        for (int k = 0; k < t->nfield; k++)
            if (strcmp(t->field[k], want[i]) == 0)
                t->col[i] = k;
        if (t->col[i] < 0) {
            snprintf(err, errlen, "%s:1: the header has no column '%s'", path, want[i]);
            return -1;
        }
    }
    return 0;
}

int hpool_bench_tsv_next(hpool_bench_tsv *t)
{
    for (;;) {
        errno = 0;
        if (getline(&t->line, &t->cap, t->f) <= 0)
            return errno == ENOMEM ? hpool_bench_tsv_fail(t, "out of memory") : 0;
        t->lineno++;
        if (t->line[0] == '#')
            continue;
        if (split_line(t) != 0)
            return hpool_bench_tsv_fail(t, "out of memory");
        for (int i = 0; i < t->nwant; i++)
            if (t->col[i] >= t->nfield) {
                snprintf(t->err, t->errlen, "%s:%ld: %d fields, no column '%s'", t->path,
                         t->lineno, t->nfield, t->want[i]);
                return -1;
            }
        return 1;
    }
}

const char *hpool_bench_tsv_cell(const hpool_bench_tsv *t, int i)
{
    return t->field[t->col[i]];
}

static bool bad(hpool_bench_tsv *t, int i, const char *what)
{
    snprintf(t->err, t->errlen, "%s:%ld: column %s: '%s' is not %s", t->path, t->lineno,
             t->want[i], hpool_bench_tsv_cell(t, i), what);
    return false;
}

bool hpool_bench_tsv_u64(hpool_bench_tsv *t, int i, uint64_t max, uint64_t *out)
{
    const char *s = hpool_bench_tsv_cell(t, i);
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    *out = v;
    return (*s >= '0' && *s <= '9' && *end == '\0' && errno == 0 && v <= max) ||
           bad(t, i, "a count in range");
}

bool hpool_bench_tsv_i64(hpool_bench_tsv *t, int i, int64_t min, int64_t max, int64_t *out)
{
    const char *s = hpool_bench_tsv_cell(t, i);
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    *out = v;
    return (end != s && *end == '\0' && errno == 0 && v >= min && v <= max) ||
           bad(t, i, "an integer in range");
}

/* "-12.345678901" -> -12345678901: exact, from the text (9 decimals at most). */
static bool parse_ns(const char *s, int64_t *out)
{
    bool neg = *s == '-';
    s += neg;
    if (*s < '0' || *s > '9')
        return false;
    int64_t v = 0;
    while (*s >= '0' && *s <= '9') {
        if (v > INT64_MAX / 10 / 1000000000)
            return false;
        v = v * 10 + (*s++ - '0');
    }
    v *= 1000000000;
    if (*s == '.') {
        s++;
        int64_t scale = 100000000;
        while (*s >= '0' && *s <= '9' && scale > 0) {
            v += (*s++ - '0') * scale;
            scale /= 10;
        }
    }
    if (*s != '\0')
        return false;
    *out = neg ? -v : v;
    return true;
}

bool hpool_bench_tsv_ns(hpool_bench_tsv *t, int i, int64_t *out)
{
    return parse_ns(hpool_bench_tsv_cell(t, i), out) ||
           bad(t, i, "a time in seconds with at most 9 decimals");
}

bool hpool_bench_tsv_double(hpool_bench_tsv *t, int i, double *out)
{
    const char *s = hpool_bench_tsv_cell(t, i);
    char *end;
    *out = strtod(s, &end);
    return (end != s && *end == '\0' && isfinite(*out)) || bad(t, i, "a finite number");
}

void hpool_bench_tsv_close(hpool_bench_tsv *t)
{
    if (t->f)
        fclose(t->f);
    free(t->col);
    free(t->line);
    free(t->field);
    t->f = NULL;
    t->col = NULL;
    t->line = NULL;
    t->field = NULL;
}
