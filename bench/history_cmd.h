/* `hpool-bench list` and `hpool-bench prune`: the kept runs (history.h). Each takes the
 * arguments after the subcommand's name (argv[0] is the subcommand) and runs on one
 * process, without MPI. plots_dir is unused (the signature of every subcommand).
 * \return the exit status: 0 ok, 1 unreadable results, 2 bad command line. */
#ifndef HPOOL_BENCH_HISTORY_CMD_H
#define HPOOL_BENCH_HISTORY_CMD_H

int hpool_bench_cmd_list(int argc, char **argv, const char *plots_dir);
int hpool_bench_cmd_prune(int argc, char **argv, const char *plots_dir);

#endif
