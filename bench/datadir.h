/* Where hpool-bench finds its data: gnuplot scripts, sample configs, the Python peer. */
#ifndef HPOOL_BENCH_DATADIR_H
#define HPOOL_BENCH_DATADIR_H

#include <stddef.h>

/* The directory holding `what` ("plots", "configs" or "peers"): under $HPOOL_DATA_DIR if
 * set; else under <directory of the executable>/../share/hpool when that exists (an
 * installed hpool-bench, wherever it was installed); else in the source tree the program
 * was built from. The string lives as long as the process. */
const char *hpool_bench_data_dir(const char *what);

/* A config argument as given if that file exists; else, for a bare name without '/',
 * the shipped config of that name (NAME or NAME.ini in the configs directory) if there
 * is one; else the argument unchanged (the reader then names it in its error). */
const char *hpool_bench_find_config(const char *arg, char *buf, size_t len);

#endif
