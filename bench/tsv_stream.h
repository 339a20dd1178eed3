/* TSV files read row by row (chunks.tsv, spans.tsv, clock.tsv: docs/FORMATS.md), for
 * the readers that must not hold a whole file: the columns are found by their header
 * names, `#` lines are skipped, and a bad value is reported with its file, line, column
 * and value. (table.h loads a whole table, for the plots and the report.) */
#ifndef HPOOL_BENCH_TSV_STREAM_H
#define HPOOL_BENCH_TSV_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    FILE *f;
    const char *path;
    const char *const *want; /* the column names asked for */
    int nwant;
    int *col;                /* col[i]: field index of want[i] */
    char *line;
    size_t cap;
    long lineno;
    char **field;
    int nfield, maxfield;
    char *err;               /* the caller's message buffer */
    size_t errlen;
} hpool_bench_tsv;

/* Opens `path` and finds the columns `want[0..nwant)` in its header. \return 0; 1 when
 * the file does not exist (t can still be closed); -1 with "PATH:1: ..." in err. */
int hpool_bench_tsv_open(hpool_bench_tsv *t, const char *path, const char *const *want,
                         int nwant, char *err, size_t errlen);
/* The next data row: 1; 0 at the end; -1 with "PATH:LINE: ..." in err. */
int hpool_bench_tsv_next(hpool_bench_tsv *t);
/* Field of want[i] in the current row. */
const char *hpool_bench_tsv_cell(const hpool_bench_tsv *t, int i);
/* Field of want[i] as a decimal integer <= max / as integer nanoseconds from a time in
 * seconds with at most 9 decimals (exact, from the text) / as a finite number. On
 * failure: false, "PATH:LINE: column NAME: 'VALUE' is not ..." in err. */
bool hpool_bench_tsv_u64(hpool_bench_tsv *t, int i, uint64_t max, uint64_t *out);
bool hpool_bench_tsv_i64(hpool_bench_tsv *t, int i, int64_t min, int64_t max, int64_t *out);
bool hpool_bench_tsv_ns(hpool_bench_tsv *t, int i, int64_t *out);
bool hpool_bench_tsv_double(hpool_bench_tsv *t, int i, double *out);
/* "PATH:LINE: what" in err; returns -1. */
int hpool_bench_tsv_fail(hpool_bench_tsv *t, const char *what);
void hpool_bench_tsv_close(hpool_bench_tsv *t);

#endif
