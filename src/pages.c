/* Populated mappings (pages.h). */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "pages.h"

#ifndef MAP_POPULATE
#define MAP_POPULATE 0 /* not Linux: pages fault in on first touch, as with malloc */
#endif

void *hpool__pages_alloc(size_t bytes)
{
    if (bytes == 0)
        return NULL;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void hpool__pages_free(void *p, size_t bytes)
{
    if (p)
        munmap(p, bytes);
}
