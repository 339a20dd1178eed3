/* `hpool-bench compare`: kept runs side by side. Takes the arguments after the
 * subcommand's name (argv[0] is "compare") and runs on one process, without MPI.
 * \return the exit status: 0 ok, 1 unreadable input or output, 2 bad command line,
 * 3 (compare --fail-if-slower) a resolved slowdown beyond the threshold. */
#ifndef HPOOL_BENCH_COMPARE_H
#define HPOOL_BENCH_COMPARE_H

int hpool_bench_cmd_compare(int argc, char **argv, const char *plots_dir);

#endif
