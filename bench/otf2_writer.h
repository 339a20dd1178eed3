/* An OTF2 trace of one recorded run (docs/FORMATS.md, "OTF2"), written from its
 * chunks.tsv, spans.tsv and clock.tsv through the OTF2 library, for the field's own tools
 * (otf2-print, Vampir, the Python reader). Built only when CMake finds OTF2; otherwise
 * hpool_bench_otf2_available() is false and writing fails with a message saying so. */
#ifndef HPOOL_BENCH_OTF2_WRITER_H
#define HPOOL_BENCH_OTF2_WRITER_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

bool hpool_bench_otf2_available(void);

/* Writes RUN_DIR/otf2/traces.otf2 (with traces.def and traces/). `placement`: the rows of
 * hpool_executor_placement as JSON ({host, rank, ...}), for the system tree; NULL or
 * missing ranks put those ranks on `manager_host`. `props`: a JSON object of scalars,
 * stored as archive properties HPOOL::KEY. \return 0, or -1 with a message in err. */
int hpool_bench_otf2_write(const char *run_dir, const char *manager_host,
                           const json_t *placement, const json_t *props, char *err,
                           size_t errlen);

/* Events sorted in memory before spilling to temporary files in RUN_DIR (0: the
 * default, 2^19); tests set a small one to exercise the spills. */
void hpool_bench_otf2_set_sort_buffer(size_t events);

#endif
