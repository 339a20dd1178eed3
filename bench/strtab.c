/* Interned strings (strtab.h): a hash table of indices into the array of strings. */
#include "strtab.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static int grow_slots(hpool_bench_strtab *t)
{
    size_t nslot = t->nslot ? t->nslot * 2 : 256;
    uint32_t *slot = calloc(nslot, sizeof *slot);
    if (slot == NULL)
        return -1;
    for (size_t i = 0; i < t->n; i++) {
        size_t k = hash_str(t->s[i]) & (nslot - 1);
        while (slot[k])
            k = (k + 1) & (nslot - 1);
        slot[k] = (uint32_t)i + 1;
    }
    free(t->slot);
    t->slot = slot;
    t->nslot = nslot;
    return 0;
}

uint32_t hpool_bench_strtab_id(hpool_bench_strtab *t, const char *s)
{
    if (((t->n + 1) * 2 > t->nslot && grow_slots(t) != 0) || t->n >= UINT32_MAX - 1)
        return UINT32_MAX;
    size_t k = hash_str(s) & (t->nslot - 1);
    while (t->slot[k]) {
        if (strcmp(t->s[t->slot[k] - 1], s) == 0)
            return t->slot[k] - 1;
        k = (k + 1) & (t->nslot - 1);
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        char **ns = realloc(t->s, cap * sizeof *ns);
        if (ns == NULL)
            return UINT32_MAX;
        t->s = ns;
        t->cap = cap;
    }
    if ((t->s[t->n] = strdup(s)) == NULL)
        return UINT32_MAX;
    t->slot[k] = (uint32_t)t->n + 1;
    return (uint32_t)t->n++;
}

void hpool_bench_strtab_free(hpool_bench_strtab *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->s[i]);
    free(t->s);
    free(t->slot);
    *t = (hpool_bench_strtab){0};
}
