/* The seed's second experiment (as_completed): the same 8 CPU-bound tasks on 2 workers,
 * submitted as futures, but rank 0 takes each result as soon as its task finishes, like
 * `[future.result() for future in as_completed(futures)]`: completion order, not
 * submission order.
 *
 *   mpirun -n 3 ./seed_as_completed [n]
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
    hpool_future *fs[N_TASKS];
    int submitted = 0;
    while (submitted < N_TASKS && rc == 0)
        if ((rc = hpool_submit(ex, "cpu_sum", &n, sizeof n, &fs[submitted])) == 0)
            submitted++;
    if (rc != 0)
        fail("hpool_submit", rc);
    hpool_as_completed *it;
    int r = hpool_as_completed_create(fs, (size_t)submitted, HPOOL_FOREVER, &it);
    if (r != 0)
        rc = fail("hpool_as_completed_create", r);
    hpool_future *f;
    while (r == 0 && (r = hpool_as_completed_next(it, &f)) == 1) { /* blocks */
        const void *res;
        size_t len;
        if ((r = hpool_future_result(f, 0, &res, &len)) == 0)
            log_result(res, len);
    }
    if (r < 0)
        rc = fail("as_completed", r);
    hpool_as_completed_free(it);
    for (int i = 0; i < submitted; i++)
        hpool_future_release(fs[i]);
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
