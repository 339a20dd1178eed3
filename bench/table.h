/* table: a read-only TSV table (docs/FORMATS.md), used by render.c, report.c and
 * results.c. render.h includes this header. */
#ifndef HPOOL_BENCH_TABLE_H
#define HPOOL_BENCH_TABLE_H

#include <stdbool.h>
#include <stddef.h>

/* ------------------------------------------------------------------------------------
 * A read-only TSV table (docs/FORMATS.md), shared with report.c.
 * ---------------------------------------------------------------------------------- */
typedef struct {
    char name[64];   /* file name, for messages */
    char *buf;       /* file contents, split in place */
    char **names;    /* header fields */
    size_t ncols;
    char **cells;    /* nrows * ncols, row-major */
    int *lines;      /* 1-based source line of each row */
    size_t nrows;
    bool complete;   /* ended with "# complete" */
    bool dropped;    /* the cut-short last line of an incomplete file was ignored */
} hpool_render_table;

/* Loads dir/file. Lines starting with '#' and empty lines are skipped; the first other
 * line is the header; every row must have as many fields as the header, except that the
 * last line of a file without "# complete" may be a partial write and is then dropped.
 * \return 0 loaded, 1 file absent or empty (t is empty), -1 malformed or unreadable. */
int hpool_render_table_load(const char *dir, const char *file, hpool_render_table *t,
                            char *err, size_t errlen);
void hpool_render_table_free(hpool_render_table *t);
/* Index of a header name, or -1. */
int hpool_render_table_col(const hpool_render_table *t, const char *name);
/* Checks that every name in the NULL-terminated list is a column. \return 0 or -1. */
int hpool_render_table_require(const hpool_render_table *t, const char *const *names,
                               char *err, size_t errlen);
const char *hpool_render_table_cell(const hpool_render_table *t, size_t row, int col);
/* Parses a cell as a finite number. \return 0 or -1 with "FILE line N: column C: ...". */
int hpool_render_table_num(const hpool_render_table *t, size_t row, int col, double *out,
                           char *err, size_t errlen);

#endif
