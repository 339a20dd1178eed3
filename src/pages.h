/* Memory the library keeps for a long time and fills right away (the futures' slabs, the
 * records' output buffers): mapped with its pages already present.
 *
 * The first touch of a fresh page costs a page fault. On the paravirtualised machine
 * hpool was measured on (a PVM guest) one costs about 19 us, so a slab of 1024 futures
 * (34 pages) cost 0.65 ms on first use, as much as 1,000 call items; filling the same
 * pages in the mmap call itself (MAP_POPULATE) costs about a twentieth of that. On bare
 * metal both are cheap and nothing is lost. */
#ifndef HPOOL_PAGES_H
#define HPOOL_PAGES_H

#include <stddef.h>

/* `bytes` of zeroed memory, page-aligned, pages present; NULL when out of memory. */
void *hpool__pages_alloc(size_t bytes);
/* Returns memory of hpool__pages_alloc (the same `bytes`); NULL is ignored. */
void hpool__pages_free(void *p, size_t bytes);

#endif
