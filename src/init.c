/* hpool_init / hpool_finalize: MPI, the registry check, then the manager thread on rank 0
 * or the worker loop on the others. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "executor.h"
#include "future.h"
#include "manager.h"
#include "policy.h"
#include "proc.h"
#include "registry.h"
#include "sync.h"
#include "worker.h"

/* The main thread's, between hpool_init and hpool_finalize. */
static bool initialized;
static bool we_initialized_mpi;
static MPI_Comm comm = MPI_COMM_NULL; /* private duplicate of MPI_COMM_WORLD */

static int start_mpi(int *argc, char ***argv, const hpool_init_options *o)
{
    int want = o && o->mpi_thread_level ? o->mpi_thread_level : MPI_THREAD_MULTIPLE;
    int provided = MPI_THREAD_SINGLE, already = 0, finalized = 0;
    /* MPI_Initialized stays true after MPI_Finalize, and any other MPI call then aborts
     * the process: a second hpool_init after a failed one or after hpool_finalize must
     * fail instead. */
    MPI_Finalized(&finalized);
    if (finalized)
        return hpool__fail(HPOOL_ESTATE,
                           "hpool_init: MPI was already finalized and cannot be initialised "
                           "again");
    MPI_Initialized(&already);
    if (already) {
        MPI_Query_thread(&provided);
    } else {
        if (MPI_Init_thread(argc, argv, want, &provided) != MPI_SUCCESS)
            return hpool__fail(HPOOL_EMPI, "hpool_init: MPI_Init_thread failed");
        we_initialized_mpi = true;
    }
    /* Rank 0's manager thread is the only thread that calls MPI after init, but it is not
     * the thread that initialised MPI: SERIALIZED is the least that allows this. */
    if (provided < MPI_THREAD_SERIALIZED) {
        if (we_initialized_mpi)
            MPI_Finalize();
        we_initialized_mpi = false;
        return hpool__fail(HPOOL_ETHREAD,
                           "hpool_init: MPI provides thread level %d; hpool needs "
                           "MPI_THREAD_SERIALIZED (%d) or more",
                           provided, MPI_THREAD_SERIALIZED);
    }
    return 0;
}

static void stop_mpi(void)
{
    if (comm != MPI_COMM_NULL)
        MPI_Comm_free(&comm);
    hpool__proc_clear();
    if (we_initialized_mpi) {
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (!finalized)
            MPI_Finalize();
    }
    we_initialized_mpi = false;
}

int hpool_init(int *argc, char ***argv, const hpool_init_options *o)
{
    hpool__clear_error();
    if (initialized)
        return hpool__fail(HPOOL_ESTATE, "hpool_init: already initialised");
    int rc = start_mpi(argc, argv, o);
    if (rc != 0)
        return rc;
    hpool__registry_freeze();
    int rank = 0, size = 0;
    MPI_Comm_dup(MPI_COMM_WORLD, &comm);
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    double timeout = o && o->worker_timeout_s > 0 ? o->worker_timeout_s
                                                  : HPOOL__WORKER_TIMEOUT_DEFAULT_S;
    rc = hpool__proc_set(comm, rank, size, timeout);
    if (rc == 0)
        rc = hpool__registry_verify(comm, rank, size);
    if (rc == 0)
        rc = hpool__sync_init();
    if (rc != 0) {
        stop_mpi();
        return rc;
    }
    initialized = true;
    if (rank != 0) {
        rc = hpool__worker_serve();
        return rc < 0 ? rc : HPOOL_WORKER;
    }
    rc = hpool__manager_start();
    if (rc != 0) {
        initialized = false;
        stop_mpi();
        return rc;
    }
    return HPOOL_MANAGER;
}

int hpool_finalize(void)
{
    if (!initialized)
        return hpool__fail(HPOOL_ESTATE, "hpool_finalize: hpool_init did not succeed");
    int rc = 0;
    bool manager = hpool__proc_rank() == 0;
    if (manager) {
        hpool__executors_destroy_all();
        rc = hpool__manager_stop();
        hpool__lock();
        hpool__future_slabs_free();
        hpool__unlock();
    }
    initialized = false;
    const char *why = NULL;
    int stuck = hpool__proc_stuck(&why);
    if (stuck != 0) {
        /* MPI_Finalize would wait for a rank that never comes back. Say so and let the
         * program decide (MPI_Abort ends the job); the library never aborts itself. */
        return hpool__fail(HPOOL_EBROKEN,
                           "hpool_finalize: rank %d is stuck, so MPI cannot be "
                           "finalized; end the job with MPI_Abort. %s",
                           stuck, why);
    }
    stop_mpi();
    if (manager)
        hpool__manager_free();
    return rc;
}

int hpool_world_size(void)
{
    return initialized ? hpool__proc_size() : HPOOL_ESTATE;
}

int hpool_world_rank(void)
{
    return initialized ? hpool__proc_rank() : HPOOL_ESTATE;
}
