/* hpool_init / hpool_finalize and the library's global state. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor.h"
#include "topology.h"

hpool__global hpool__g = {.lock = PTHREAD_MUTEX_INITIALIZER};

void hpool__wake_manager_locked(void)
{
    hpool__g.wake_seq++;
    if (hpool__g.manager_sleeping)
        pthread_cond_signal(&hpool__g.wake_cond);
}

void hpool__notify_done_locked(void)
{
    if (hpool__g.n_waiting > 0)
        pthread_cond_broadcast(&hpool__g.done_cond);
}

static int init_conds(void)
{
    /* CLOCK_MONOTONIC, so timeouts are immune to wall-clock changes (see clock.c). */
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&hpool__g.done_cond, &attr) ||
             pthread_cond_init(&hpool__g.wake_cond, &attr);
    pthread_condattr_destroy(&attr);
    return rc ? HPOOL_ENOMEM : 0;
}

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
        hpool__g.we_initialized_mpi = true;
    }
    /* Rank 0's manager thread calls MPI but is not the thread that initialised MPI:
     * SERIALIZED is the least that allows this. A worker calls MPI from the thread that
     * initialised it: FUNNELED. */
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    int need = rank == 0 ? MPI_THREAD_SERIALIZED : MPI_THREAD_FUNNELED;
    if (provided < need) {
        if (hpool__g.we_initialized_mpi)
            MPI_Finalize();
        hpool__g.we_initialized_mpi = false;
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
    MPI_Comm comm = MPI_COMM_NULL;
    MPI_Comm_group(MPI_COMM_WORLD, &world);
    if (MPI_Comm_create_group(MPI_COMM_WORLD, world, HPOOL__TAG_TO_WORKER, &comm) != MPI_SUCCESS)
        comm = MPI_COMM_NULL;
    MPI_Group_free(&world);
    return comm != MPI_COMM_NULL ? comm : MPI_COMM_WORLD;
}

static void stop_mpi(void)
{
    if (hpool__g.comm != MPI_COMM_NULL && hpool__g.comm != 0 && hpool__g.comm != MPI_COMM_WORLD)
        MPI_Comm_free(&hpool__g.comm);
    if (hpool__g.we_initialized_mpi) {
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (!finalized)
            MPI_Finalize();
    }
    hpool__g.we_initialized_mpi = false;
}

int hpool_init(int *argc, char ***argv, const hpool_init_options *o)
{
    hpool__clear_error();
    if (hpool__g.initialized)
        return hpool__fail(HPOOL_ESTATE, "hpool_init: already initialised");
    int rc = start_mpi(argc, argv, o);
    if (rc != 0)
        return rc;
    hpool__registry_freeze();
    hpool__g.comm = private_comm();
    MPI_Comm_rank(hpool__g.comm, &hpool__g.rank);
    MPI_Comm_size(hpool__g.comm, &hpool__g.size);
    hpool__g.worker_timeout_s = o && o->worker_timeout_s > 0 ? o->worker_timeout_s : 30.0;

    rc = hpool__registry_verify(hpool__g.comm, hpool__g.rank, hpool__g.size);
    if (rc == 0)
        rc = hpool__topo_init(hpool__g.comm);
    if (rc == 0)
        rc = init_conds();
    if (rc != 0) {
        stop_mpi();
        return rc;
    }
    hpool__g.initialized = true;
    if (hpool__g.rank != 0) {
        rc = hpool__worker_serve();
        return rc < 0 ? rc : HPOOL_WORKER;
    }
    rc = hpool__manager_start();
    if (rc != 0) {
        hpool__g.initialized = false;
        stop_mpi();
        return rc;
    }
    return HPOOL_MANAGER;
}

int hpool_finalize(void)
{
    if (!hpool__g.initialized)
        return hpool__fail(HPOOL_ESTATE, "hpool_finalize: hpool_init did not succeed");
    int rc = 0;
    if (hpool__g.rank == 0) {
        hpool__executors_destroy_all();
        pthread_mutex_lock(&hpool__g.lock);
        hpool__g.finalize_requested = true;
        hpool__wake_manager_locked();
        pthread_mutex_unlock(&hpool__g.lock);
        rc = hpool__manager_stop();
        pthread_mutex_lock(&hpool__g.lock);
        hpool__future_slabs_free();
        pthread_mutex_unlock(&hpool__g.lock);
    }
    hpool__g.initialized = false;
    if (hpool__hung_rank != 0) {
        /* MPI_Finalize would wait for a rank that never comes back. Say so and let the
         * program decide (MPI_Abort ends the job); the library never aborts itself. */
        return hpool__fail(HPOOL_EBROKEN,
                           "hpool_finalize: rank %d is stuck, so MPI cannot be "
                           "finalized; end the job with MPI_Abort. %s",
                           hpool__hung_rank, hpool__hung_msg);
    }
    stop_mpi();
    hpool__orphans_free();
    hpool__topo_fini();
    return rc;
}

int hpool_world_size(void)
{
    return hpool__g.initialized ? hpool__g.size : HPOOL_ESTATE;
}

int hpool_world_rank(void)
{
    return hpool__g.initialized ? hpool__g.rank : HPOOL_ESTATE;
}
