/* The task registry (registry.c): tasks by name, the same on every rank. */
#ifndef HPOOL_REGISTRY_H
#define HPOOL_REGISTRY_H

#include <mpi.h>

#include "hpool.h"

#define HPOOL__MAX_TASKS 256

int hpool__task_lookup(const char *name); /* index or HPOOL_ENOTASK */
hpool_task_fn hpool__task_fn(int idx);
const char *hpool__task_name(int idx);
int hpool__task_count(void);
void hpool__registry_freeze(void);
/* Collective: every rank compares its registry with rank 0's. */
int hpool__registry_verify(MPI_Comm comm, int rank, int size);

#endif
