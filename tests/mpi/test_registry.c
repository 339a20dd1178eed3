/* Registry mismatch: odd ranks register one extra task. hpool_init must fail with
 * HPOOL_EREGISTRY on every rank (no rank may hang in the worker loop), with a message
 * naming the first rank that differs (rank 1) and the extra task.
 *
 * The test initialises MPI itself (a rank must know its rank to register differently),
 * so after the failure MPI is still up: hpool_init finalizes MPI only if it initialised
 * it. The ranks then agree on the outcome with an allreduce, and every rank exits 0 only
 * if every rank saw the right failure. It has its own main: hpool_test.h's would treat the
 * failure as an error. */
#include <mpi.h>
#include <stdio.h>
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

/* Report a failed expectation of this rank; returns 1 so checks can be summed. */
static int expect(int rank, int ok, const char *what)
{
    if (!ok)
        fprintf(stderr, "rank %d: expectation failed: %s (last error: %s)\n", rank, what,
                hpool_last_error());
    return !ok;
}

/* Everything this rank can check after the failed hpool_init. */
static int check_failure(int rank, int rc)
{
    int bad = 0;
    char msg[512]; /* the calls below overwrite the last error */
    snprintf(msg, sizeof msg, "%s", hpool_last_error());
    bad += expect(rank, rc == HPOOL_EREGISTRY, "hpool_init returns HPOOL_EREGISTRY");
    /* The verdict is broadcast: every rank has rank 0's message. */
    bad += expect(rank, strstr(msg, "rank 1") != NULL, "message names rank 1");
    bad += expect(rank, strstr(msg, "'extra_task'") != NULL, "message names the extra task");
    bad += expect(rank, hpool_world_size() == HPOOL_ESTATE, "world size unavailable");
    bad += expect(rank, hpool_world_rank() == HPOOL_ESTATE, "world rank unavailable");
    hpool_executor *ex = NULL;
    bad += expect(rank, hpool_executor_create(&ex, NULL) == HPOOL_ESTATE,
                  "no executor without hpool_init");
    bad += expect(rank, hpool_finalize() == HPOOL_ESTATE, "nothing to finalize");
    bad += expect(rank, hpool_register_task("late", task_a) == HPOOL_ESTATE,
                  "registration closed after hpool_init");
    if (rank == 0)
        printf("registry mismatch detected: %s\n", msg);
    return bad;
}

int main(int argc, char **argv)
{
    int provided = 0, rank = 0, size = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    hpool_register_task("task_a", task_a);
    hpool_register_task("task_b", task_b);
    if (rank % 2 == 1)
        hpool_register_task("extra_task", task_a);

    int rc = hpool_init(&argc, &argv, NULL);
    int bad = rc >= 0 ? 1 : check_failure(rank, rc);
    if (rc >= 0) {
        fprintf(stderr, "rank %d: hpool_init succeeded despite the mismatch\n", rank);
        if (rc == HPOOL_MANAGER)
            hpool_finalize(); /* releases the workers, which then return here */
        MPI_Finalize();
        return 1;
    }
    int bad_total = 0;
    MPI_Allreduce(&bad, &bad_total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        printf("%s: %s on %d ranks\n", argv[0], bad_total ? "FAILED" : "passed", size);
    MPI_Finalize();
    return bad_total != 0;
}
