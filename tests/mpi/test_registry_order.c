/* Registry mismatch by order: the last rank registers the same tasks as the others but
 * swaps the first two. hpool_init initialises MPI itself here, so on failure it must
 * also have finalized it again. Each rank checks its own return code and message and
 * exits 0 or 1; mpirun's exit status reflects every rank.
 *
 * A rank must know its rank before hpool_init (which initialises MPI), so it is read
 * from the launcher's environment. Without one of those variables the program falls back
 * to initialising MPI itself and skips the "MPI was finalized" check. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpool.h"

static int task_a(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    return hpool_task_return(ctx, arg, len);
}

static int task_b(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    return hpool_task_return(ctx, NULL, 0);
}

static int env_int(const char *const *names, int *value)
{
    for (; *names; names++) {
        const char *v = getenv(*names);
        if (v && *v) {
            *value = atoi(v);
            return 1;
        }
    }
    return 0;
}

static int expect(int rank, int ok, const char *what)
{
    if (!ok)
        fprintf(stderr, "rank %d: expectation failed: %s (last error: %s)\n", rank, what,
                hpool_last_error());
    return !ok;
}

int main(int argc, char **argv)
{
    static const char *const rank_vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK",
                                            "MV2_COMM_WORLD_RANK", NULL};
    static const char *const size_vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE",
                                            "MV2_COMM_WORLD_SIZE", NULL};
    int rank = 0, size = 0;
    int from_env = env_int(rank_vars, &rank) && env_int(size_vars, &size);
    if (!from_env) {
        int provided;
        MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        MPI_Comm_size(MPI_COMM_WORLD, &size);
    }
    bool swapped = rank == size - 1;
    hpool_register_task(swapped ? "task_b" : "task_a", swapped ? task_b : task_a);
    hpool_register_task(swapped ? "task_a" : "task_a2", task_a);
    if (swapped)
        hpool_register_task("task_a2", task_a);
    else
        hpool_register_task("task_b", task_b);

    int rc = hpool_init(&argc, &argv, NULL);
    if (rc >= 0) {
        fprintf(stderr, "rank %d: hpool_init succeeded despite the mismatch\n", rank);
        hpool_finalize(); /* rank 0 releases the workers; every rank finalizes MPI */
        return 1;
    }
    char want[128];
    snprintf(want, sizeof want, "task #0 is 'task_b' on rank %d but 'task_a' on rank 0",
             size - 1);
    char msg[512]; /* later calls overwrite the last error */
    snprintf(msg, sizeof msg, "%s", hpool_last_error());
    int bad = expect(rank, rc == HPOOL_EREGISTRY, "hpool_init returns HPOOL_EREGISTRY");
    bad += expect(rank, strstr(msg, want) != NULL, want);
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (from_env)
        bad += expect(rank, finalized, "hpool_init finalized the MPI it initialised");
    else if (!finalized)
        MPI_Finalize();
    /* MPI cannot come back: a second try must fail cleanly, not abort in MPI. */
    bad += expect(rank, hpool_init(&argc, &argv, NULL) == HPOOL_ESTATE,
                  "hpool_init after MPI was finalized returns HPOOL_ESTATE");
    if (rank == 0 && bad == 0)
        printf("%s: rank 0 saw: %s\n", argv[0], msg);
    return bad != 0;
}
