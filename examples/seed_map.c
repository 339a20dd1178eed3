/* The seed's third experiment (map): the same 8 CPU-bound tasks on 2 workers through
 * `executor.map(cpu_bound_task, args)`: one call, results in input order (chunksize 1).
 *
 *   mpirun -n 3 ./seed_map [n]
 *
 * n is the loop length of each task (default 300000000, about 0.2 s here). Every task
 * reports its pid, rank, start and finish; rank 0 logs them the way the seed's workers
 * log, then the total time. With 2 workers the 8 tasks run in 4 rounds. */
#include "seed_common.h"

static int run(int64_t n)
{
    log_at(wall_now(), "Init parallel program");
    double start = wall_now();
    int workers = hpool_world_size() - 1;
    hpool_executor_options o = {.max_workers = workers < MAX_WORKERS ? workers : MAX_WORKERS};
    hpool_executor *ex;
    int rc = hpool_executor_create(&ex, &o);
    if (rc != 0)
        return fail("hpool_executor_create", rc);
    int64_t args[N_TASKS];
    for (int i = 0; i < N_TASKS; i++)
        args[i] = n;
    hpool_map_iter *m = NULL;
    rc = hpool_map(ex, "cpu_sum", args, sizeof args[0], N_TASKS, NULL, &m); /* no block */
    int r = rc == 0 ? 1 : fail("hpool_map", rc);
    const void *res;
    size_t len;
    while (r == 1 && (r = hpool_map_next(m, &res, &len, NULL)) == 1) /* blocks */
        log_result(res, len);
    if (r < 0 && rc == 0)
        rc = fail("hpool_map_next", r);
    if (m != NULL)
        hpool_map_close(m);
    hpool_executor_destroy(ex); /* the end of the `with` block: shutdown(wait=True) */
    double end = wall_now();
    log_at(end, "Total time: %.6f", end - start);
    log_at(end, "Finish parallel program");
    return rc;
}

int main(int argc, char **argv)
{
    return seed_main(argc, argv, run);
}
