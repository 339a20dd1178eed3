/* Task registry: tasks are registered by name, in the same order, on every rank (the C
 * stand-in for pickling a callable). hpool_init verifies that every rank agrees, so a
 * call item can name its task by index. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "registry.h"

typedef struct {
    char name[HPOOL_TASK_NAME_MAX];
    hpool_task_fn fn;
} registry_entry;

/* Written only before hpool_init (single-threaded by contract), read-only afterwards. */
static registry_entry tasks[HPOOL__MAX_TASKS];
static int n_tasks;
static bool frozen;

int hpool_register_task(const char *name, hpool_task_fn fn)
{
    if (frozen)
        return hpool__fail(HPOOL_ESTATE, "hpool_register_task('%s'): called after hpool_init",
                           name ? name : "(null)");
    if (name == NULL || fn == NULL)
        return hpool__fail(HPOOL_EINVAL, "hpool_register_task: name and fn must not be NULL");
    size_t len = strlen(name);
    if (len == 0 || len >= HPOOL_TASK_NAME_MAX)
        return hpool__fail(HPOOL_EINVAL, "hpool_register_task: name '%s' must be 1..%d bytes",
                           name, HPOOL_TASK_NAME_MAX - 1);
    if (hpool__task_lookup(name) >= 0)
        return hpool__fail(HPOOL_EINVAL, "hpool_register_task: '%s' is already registered",
                           name);
    if (n_tasks == HPOOL__MAX_TASKS)
        return hpool__fail(HPOOL_EINVAL, "hpool_register_task: more than %d tasks",
                           HPOOL__MAX_TASKS);
    memcpy(tasks[n_tasks].name, name, len + 1);
    tasks[n_tasks].fn = fn;
    n_tasks++;
    return 0;
}

int hpool__task_lookup(const char *name)
{
    if (name == NULL)
        return HPOOL_ENOTASK;
    for (int i = 0; i < n_tasks; i++)
        if (strcmp(tasks[i].name, name) == 0)
            return i;
    return HPOOL_ENOTASK;
}

hpool_task_fn hpool__task_fn(int idx)
{
    return (idx >= 0 && idx < n_tasks) ? tasks[idx].fn : NULL;
}

const char *hpool__task_name(int idx)
{
    return (idx >= 0 && idx < n_tasks) ? tasks[idx].name : "?";
}

int hpool__task_count(void)
{
    return n_tasks;
}

void hpool__registry_freeze(void)
{
    frozen = true;
}

/* Describe the first difference between rank 0's registry and `theirs` (the
 * NUL-separated names of `rank`). Returns false when they agree. */
static bool first_difference(const char *theirs, int their_count, int rank, char *msg,
                             size_t msglen)
{
    const char *p = theirs;
    int common = their_count < n_tasks ? their_count : n_tasks;
    for (int i = 0; i < common; i++) {
        if (strcmp(p, tasks[i].name) != 0) {
            snprintf(msg, msglen,
                     "task registry mismatch: task #%d is '%.63s' on rank %d but '%.63s' on rank 0",
                     i, p, rank, tasks[i].name);
            return true;
        }
        p += strlen(p) + 1;
    }
    if (their_count == n_tasks)
        return false;
    if (their_count > n_tasks)
        snprintf(msg, msglen,
                 "task registry mismatch: rank %d registers %d tasks, rank 0 %d; first extra "
                 "task on rank %d is '%.63s'",
                 rank, their_count, n_tasks, rank, p);
    else
        snprintf(msg, msglen,
                 "task registry mismatch: rank %d registers %d tasks, rank 0 %d; first task "
                 "missing on rank %d is '%.63s'",
                 rank, their_count, n_tasks, rank, tasks[their_count].name);
    return true;
}

/* Gather every rank's names on rank 0, compare, and broadcast the verdict (status +
 * message) so that every rank fails the same way and nobody waits for the others. */
int hpool__registry_verify(MPI_Comm comm, int rank, int size)
{
    char mine[HPOOL__MAX_TASKS * HPOOL_TASK_NAME_MAX];
    int mine_len = 0;
    for (int i = 0; i < n_tasks; i++) {
        size_t l = strlen(tasks[i].name) + 1;
        memcpy(mine + mine_len, tasks[i].name, l);
        mine_len += (int)l;
    }
    int header[2] = {n_tasks, mine_len};
    int *headers = NULL, *displs = NULL, *lens = NULL;
    char *all = NULL;
    struct {
        int status;
        char msg[HPOOL__MSG_MAX];
    } verdict = {0, ""};

    if (rank == 0) {
        headers = malloc(sizeof(int) * 2 * (size_t)size);
        lens = malloc(sizeof(int) * (size_t)size);
        displs = malloc(sizeof(int) * (size_t)size);
    }
    MPI_Gather(header, 2, MPI_INT, headers, 2, MPI_INT, 0, comm);
    if (rank == 0) {
        int total = 0;
        for (int r = 0; r < size; r++) {
            lens[r] = headers[2 * r + 1];
            displs[r] = total;
            total += lens[r];
        }
        all = malloc((size_t)total + 1);
    }
    MPI_Gatherv(mine, mine_len, MPI_CHAR, all, lens, displs, MPI_CHAR, 0, comm);
    if (rank == 0) {
        for (int r = 1; r < size && verdict.status == 0; r++)
            if (first_difference(all + displs[r], headers[2 * r], r, verdict.msg,
                                 sizeof verdict.msg))
                verdict.status = HPOOL_EREGISTRY;
        free(headers);
        free(lens);
        free(displs);
        free(all);
    }
    MPI_Bcast(&verdict, (int)sizeof verdict, MPI_BYTE, 0, comm);
    if (verdict.status != 0)
        return hpool__fail(verdict.status, "%s", verdict.msg);
    return 0;
}
