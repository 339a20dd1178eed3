/* history: every run of an experiment is kept.
 *
 *   OUT/NAME/<UTC stamp>-<id>/        one complete run (e.g. 20261201T041200.123Z-3fa2)
 *   OUT/NAME/latest -> <stamp>-<id>   the newest complete run (symlink, swapped atomically)
 *   OUT/NAME/.incomplete-<stamp>-<id> a run being built, or one that failed or was killed
 *
 * A run is built in its .incomplete directory and renamed when complete, so `latest`
 * never points at a partial run. Results written before this layout (files directly in
 * OUT/NAME) are read as one more run, the oldest, and never moved or removed. Nothing is
 * deleted unless asked (--replace, `hpool-bench prune`). */
#ifndef HPOOL_BENCH_HISTORY_H
#define HPOOL_BENCH_HISTORY_H

#include <stdbool.h>
#include <stddef.h>

#define HPOOL_BENCH_LATEST "latest"

/* Removes a directory tree (nftw, symlinks not followed). \return 0 or -1 (errno). */
int hpool_bench_remove_tree(const char *path);

/* Creates OUT/NAME/.incomplete-<id> for a new run; id ("<UTC stamp>-<4 hex>", the stamp
 * YYYYMMDDTHHMMSS.mmmZ) and the
 * work directory's path are returned. \return 0, or -1 with a message in err. */
int hpool_bench_history_start(const char *out_dir, const char *name, char *id, size_t id_len,
                              char *work, size_t work_len, char *err, size_t errlen);

/* Renames the work directory to OUT/NAME/<id> and points `latest` at it; with `replace`,
 * then removes every other stamped run of NAME. final receives the published path.
 * \return 0, or -1 with a message in err (the work directory is then left in place). */
int hpool_bench_history_publish(const char *out_dir, const char *name, const char *id,
                                const char *work, bool replace, char *final, size_t final_len,
                                char *err, size_t errlen);

/* The complete runs kept in an experiment directory, oldest first: an old-layout run (the
 * directory itself) first, then the stamped runs by name. *dirs is an array of *n
 * malloc'd paths (hpool_bench_history_free). \return 0, or -1 (not readable). */
int hpool_bench_history_runs(const char *exp_dir, char ***dirs, size_t *n);
void hpool_bench_history_free(char **dirs, size_t n);

/* Whether dir holds one run's files (runs.tsv or summary.tsv) directly. */
bool hpool_bench_history_is_run(const char *dir);

/* The run directory an argument names: a run directory itself; an experiment directory
 * (its `latest`, or the newest kept run, or its old-layout files); or a NAME under
 * out_dir. \return 0, or -1 with a message in err. */
int hpool_bench_history_resolve(const char *arg, const char *out_dir, char *run, size_t len,
                                char *err, size_t errlen);

/* The experiment directory an argument names (a directory, or NAME under out_dir). */
int hpool_bench_history_exp_dir(const char *arg, const char *out_dir, char *dir, size_t len,
                                char *err, size_t errlen);

/* Keeps the newest `keep` stamped runs of exp_dir and removes the others; old-layout
 * files, incomplete runs and the run `latest` names are left alone. *removed counts what went. \return 0 or -1. */
int hpool_bench_history_prune(const char *exp_dir, size_t keep, size_t *removed, char *err,
                              size_t errlen);

#endif
