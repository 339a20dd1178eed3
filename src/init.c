/* hpool_init / hpool_finalize: MPI, the registry check, then the manager thread on rank 0
 * or the worker loop on the others. */
#include <stdint.h>
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
#include "topology.h"
#include "wire.h" /* HPOOL__TAG_TO_WORKER */
#include "worker.h"

/* The main thread's, between hpool_init and hpool_finalize. */
static bool initialized;
static bool we_initialized_mpi;
static MPI_Comm comm = MPI_COMM_NULL; /* private duplicate of MPI_COMM_WORLD */

/* This process's rank as its launcher announced it, or -1. MPI_Init_thread must be told
 * the thread level before MPI can say which rank this is; Open MPI's mpirun, PMIx
 * launchers (srun --mpi=pmix included) and MPICH's Hydra export it beforehand. */
static int launcher_rank(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        char *end;
        long r = v && *v ? strtol(v, &end, 10) : -1;
        if (v && *v && *end == '\0' && r >= 0 && r <= INT32_MAX)
            return (int)r;
    }
    return -1;
}

/* The thread level each rank asks for. Rank 0 runs user threads next to its manager
 * thread, so it asks for MULTIPLE. A worker calls MPI from its main thread only (task
 * code runs on the OpenMP team between its receives and sends), and FUNNELED spares it
 * the locking that MULTIPLE costs on every MPI call. A rank the launcher did not name
 * asks for MULTIPLE, which serves either role. */
static int wanted_thread_level(const hpool_init_options *o)
{
    if (o && o->mpi_thread_level)
        return o->mpi_thread_level;
    return launcher_rank() > 0 ? MPI_THREAD_FUNNELED : MPI_THREAD_MULTIPLE;
}

static int start_mpi(int *argc, char ***argv, const hpool_init_options *o)
{
    int want = wanted_thread_level(o);
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
    /* Rank 0's manager thread calls MPI but is not the thread that initialised MPI:
     * SERIALIZED is the least that allows this. A worker calls MPI from the thread that
     * initialised it: FUNNELED. */
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    int need = rank == 0 ? MPI_THREAD_SERIALIZED : MPI_THREAD_FUNNELED;
    if (provided < need) {
        if (we_initialized_mpi)
            MPI_Finalize();
        we_initialized_mpi = false;
        return hpool__fail(HPOOL_ETHREAD,
                           "hpool_init: MPI provides thread level %d on rank %d; hpool needs "
                           "%s (%d) or more there",
                           provided, rank,
                           rank == 0 ? "MPI_THREAD_SERIALIZED" : "MPI_THREAD_FUNNELED", need);
    }
    return 0;
}

/* hpool's own communicator over all ranks, so that its tags never meet the program's
 * messages. Not MPI_Comm_dup: Open MPI 4 agrees on a dup's context id with a
 * non-blocking allreduce on MPI_COMM_WORLD, after which that collective's progress
 * function runs inside every later MPI call of the process, once per poll of a
 * worker's receive loop. MPI_Comm_create_group reaches the same communicator with
 * point-to-point messages. */
static MPI_Comm private_comm(void)
{
    MPI_Group world;
    MPI_Comm c = MPI_COMM_NULL;
    MPI_Comm_group(MPI_COMM_WORLD, &world);
    if (MPI_Comm_create_group(MPI_COMM_WORLD, world, HPOOL__TAG_TO_WORKER, &c) != MPI_SUCCESS)
        c = MPI_COMM_NULL;
    MPI_Group_free(&world);
    return c != MPI_COMM_NULL ? c : MPI_COMM_WORLD;
}

static void stop_mpi(void)
{
    if (comm != MPI_COMM_NULL && comm != MPI_COMM_WORLD)
        MPI_Comm_free(&comm);
    comm = MPI_COMM_NULL;
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
    comm = private_comm();
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    double timeout = o && o->worker_timeout_s > 0 ? o->worker_timeout_s
                                                  : HPOOL__WORKER_TIMEOUT_DEFAULT_S;
    rc = hpool__proc_set(comm, rank, size, timeout);
    if (rc == 0)
        rc = hpool__registry_verify(comm, rank, size);
    if (rc == 0)
        rc = hpool__topo_init(comm);
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
    hpool__topo_fini();
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
