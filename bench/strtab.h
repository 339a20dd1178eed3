/* Interned strings with dense ids 0, 1, 2, ... in order of first use (the OTF2 writer's
 * string definitions). */
#ifndef HPOOL_BENCH_STRTAB_H
#define HPOOL_BENCH_STRTAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char **s;       /* s[id] */
    size_t n, cap;
    uint32_t *slot; /* open addressing: id + 1, 0 empty */
    size_t nslot;
} hpool_bench_strtab;

/* The id of `s`, added if new; UINT32_MAX when out of memory. */
uint32_t hpool_bench_strtab_id(hpool_bench_strtab *t, const char *s);
void hpool_bench_strtab_free(hpool_bench_strtab *t);

#endif
