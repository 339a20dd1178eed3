/* This process in the MPI job (proc.c): the library's communicator, rank and size, the
 * worker timeout, and what is known of the worker ranks for good: which were lost (a
 * crash, a hang or garbage) and which one is stuck so that MPI cannot be finalized.
 *
 * Set once by hpool_init before any other thread exists; the lost-rank marks are written
 * by rank 0's manager thread and read by any thread (atomics). */
#ifndef HPOOL_PROC_H
#define HPOOL_PROC_H

#include <mpi.h>
#include <stdbool.h>

/* hpool_init: the job as MPI gave it. HPOOL_ENOMEM if the per-rank table cannot be made. */
int hpool__proc_set(MPI_Comm comm, int rank, int size, double worker_timeout_s);
/* hpool_finalize: forget it all (the communicator is freed by the caller). */
void hpool__proc_clear(void);

MPI_Comm hpool__proc_comm(void);
int hpool__proc_rank(void);
int hpool__proc_size(void);
double hpool__proc_worker_timeout(void);

/* Worker ranks lost for good: no later executor sends them work. */
void hpool__proc_mark_lost(int rank);
bool hpool__proc_rank_lost(int rank);
int hpool__proc_live_workers(void);

/* The first rank that hung in a task or never answered: hpool_finalize cannot wait for
 * it in MPI_Finalize. Only the first is kept. */
void hpool__proc_note_stuck(int rank, const char *why);
/* The stuck rank (0: none) and why. */
int hpool__proc_stuck(const char **why);

#endif
