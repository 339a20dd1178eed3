/* Rank 0's manager thread (src/mgr/): started by hpool_init, stopped by hpool_finalize. */
#ifndef HPOOL_MANAGER_H
#define HPOOL_MANAGER_H

/* Start the manager thread. 0 or HPOOL_ENOMEM. */
int hpool__manager_start(void);
/* Ask it to end once no executor is active, release the workers, join it. */
int hpool__manager_stop(void);
/* After MPI is finalized: the send buffers MPI might have read until then. */
void hpool__manager_free(void);

#endif
