/* Where hpool-bench finds its data: gnuplot scripts, sample configs, the Python peer. */
#ifndef HPOOL_BENCH_DATADIR_H
#define HPOOL_BENCH_DATADIR_H

/* The directory holding `what` ("plots", "configs" or "peers"): under $HPOOL_DATA_DIR if
 * set; else under <directory of the executable>/../share/hpool when that exists (an
 * installed hpool-bench, wherever it was installed); else in the source tree the program
 * was built from. The string lives as long as the process. */
const char *hpool_bench_data_dir(const char *what);

/* Replaces each config argument that is a bare name without '/' and no file of that name
 * by the shipped config of that name (NAME or NAME.ini in the configs directory), if
 * there is one; other arguments stay as given (the reader names them in its errors). The
 * new strings live as long as the process. */
void hpool_bench_find_configs(int n, char **args);

#endif
