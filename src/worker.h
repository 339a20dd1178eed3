/* The worker loop on ranks 1..N (worker.c). */
#ifndef HPOOL_WORKER_H
#define HPOOL_WORKER_H

/* Serve call items until rank 0 finalizes; 0 or <0. */
int hpool__worker_serve(void);

#endif
