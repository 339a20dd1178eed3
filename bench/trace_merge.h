/* The experiment's merged Chrome trace (docs/FORMATS.md, trace.json). */
#ifndef HPOOL_BENCH_TRACE_MERGE_H
#define HPOOL_BENCH_TRACE_MERGE_H

#include <stdbool.h>
#include <stddef.h>

/* dir/trace.json (or, `gzip`, dir/trace.json.gz, which the viewers open as is) from
 * dir/runs/<id>/trace.json of each run in `ids`, laid out run after run 10 ms apart;
 * otherData says how many events the runs left out and where the full records are
 * (`otf2`: the runs have OTF2 traces). \return 0, or -1 with a message in err. */
int hpool_bench_merge_traces(const char *dir, const int *ids, size_t n, bool gzip,
                             bool otf2, char *err, size_t errlen);

#endif
