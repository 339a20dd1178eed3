/* This process in the MPI job; see proc.h. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "errors.h"
#include "proc.h"

static MPI_Comm comm = MPI_COMM_NULL;
static int rank, size;
static double worker_timeout_s;
static _Atomic bool *lost; /* size entries, by rank; written by the manager thread */
static _Atomic int lost_count;
static int stuck_rank;      /* manager thread, read after it ended */
static char stuck_why[HPOOL__MSG_MAX];

/* Test hook: HPOOL_TEST_PID_DIR=DIR makes every rank write its pid to DIR/rank-R, so that
 * a test can signal one rank by its pid instead of looking processes up by name or by a
 * launcher's variables (tests/e2e/faults.sh). Best effort: a test that needs the file
 * checks that it is there. */
static void report_pid(int r)
{
    const char *dir = getenv("HPOOL_TEST_PID_DIR");
    if (dir == NULL || *dir == '\0')
        return;
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/rank-%d", dir, r);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return;
    fprintf(f, "%ld\n", (long)getpid());
    if (fclose(f) == 0)
        rename(tmp, path); /* whole or absent, never half written */
}

int hpool__proc_set(MPI_Comm c, int r, int s, double timeout_s)
{
    report_pid(r);
    lost = calloc((size_t)s, sizeof *lost);
    if (lost == NULL)
        return HPOOL_ENOMEM;
    comm = c;
    rank = r;
    size = s;
    worker_timeout_s = timeout_s;
    atomic_store(&lost_count, 0);
    stuck_rank = 0;
    return 0;
}

void hpool__proc_clear(void)
{
    free((void *)lost);
    lost = NULL;
    comm = MPI_COMM_NULL;
    rank = size = 0;
}

MPI_Comm hpool__proc_comm(void)
{
    return comm;
}

int hpool__proc_rank(void)
{
    return rank;
}

int hpool__proc_size(void)
{
    return size;
}

double hpool__proc_worker_timeout(void)
{
    return worker_timeout_s;
}

void hpool__proc_mark_lost(int r)
{
    if (lost && r > 0 && r < size && !atomic_exchange(&lost[r], true))
        atomic_fetch_add(&lost_count, 1);
}

bool hpool__proc_rank_lost(int r)
{
    return lost && r > 0 && r < size && atomic_load(&lost[r]);
}

int hpool__proc_live_workers(void)
{
    return size > 0 ? size - 1 - atomic_load(&lost_count) : 0;
}

void hpool__proc_note_stuck(int r, const char *why)
{
    if (stuck_rank == 0) {
        stuck_rank = r;
        snprintf(stuck_why, sizeof stuck_why, "%s", why);
    }
}

int hpool__proc_stuck(const char **why)
{
    if (why)
        *why = stuck_why;
    return stuck_rank;
}
