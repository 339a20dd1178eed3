/* Fixed-size records sorted in bounded memory (for the OTF2 writer, whose events come in
 * completion order but must be written in time order per location): records are
 * collected in a buffer; a full buffer is sorted and spilled to an anonymous temporary
 * file; the sorted runs are merged at the end. Memory: the buffer, plus one record and a
 * 64 KiB read buffer per run while merging. */
#ifndef HPOOL_BENCH_RECORD_SORT_H
#define HPOOL_BENCH_RECORD_SORT_H

#include <stddef.h>

typedef struct hpool_bench_sorter hpool_bench_sorter;
typedef int (*hpool_bench_sort_cmp)(const void *a, const void *b);

/* Records of `size` bytes ordered by `cmp` (qsort's contract; equal records keep no
 * particular order), at most `buffer` of them in memory, spills in directory `tmpdir`.
 * NULL when out of memory. */
hpool_bench_sorter *hpool_bench_sorter_new(size_t size, hpool_bench_sort_cmp cmp,
                                           size_t buffer, const char *tmpdir);
/* Copies one record in. \return 0, or -1 (out of memory or disk; the sorter is then
 * unusable). */
int hpool_bench_sorter_add(hpool_bench_sorter *s, const void *rec);
/* Calls fn on every record in order, stopping at the first non-zero return, which it
 * returns; -1 on a read error. Once only. */
int hpool_bench_sorter_each(hpool_bench_sorter *s, int (*fn)(void *user, const void *rec),
                            void *user);
/* Sorted runs spilled so far (0: everything fit in memory). */
size_t hpool_bench_sorter_runs(const hpool_bench_sorter *s);
void hpool_bench_sorter_free(hpool_bench_sorter *s);

#endif
