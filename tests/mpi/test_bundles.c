/* Bundles (wire.h): several small call items for one worker share an MPI message, and a
 * worker gathers the results of a bundle's short calls into one. Checked by outcomes:
 *   - a map of 20,000 empty items at chunksize 1 returns every result right, in fewer
 *     MPI messages than chunks both ways (hpool_executor_stats' messages_sent and
 *     messages_received), on one worker and on all;
 *   - results of long calls are not held back for a bundle: four 30 ms items of a map
 *     with a window of 4 leave the manager in one bundle, and the manager receives each
 *     result before the worker ends the next call (chunks.tsv: t_result of a call
 *     before t_end of the one after it on the same worker). */
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "hpool_test.h"

static void register_tasks(void)
{
    hpool_register_task("echo", hpool_test_echo);
    hpool_register_task("nap", hpool_test_nap);
}

enum { N_SMALL = 20000 };

static void small_items_share_messages(int max_workers)
{
    static uint64_t items[N_SMALL];
    for (uint64_t i = 0; i < N_SMALL; i++)
        items[i] = i * 7 + 1;
    hpool_executor_options eo = {.max_workers = max_workers};
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, &eo));
    hpool_map_options mo = {.chunksize = 1};
    hpool_map_iter *m;
    CHECK_OK(hpool_map(ex, "echo", items, sizeof items[0], N_SMALL, &mo, &m));
    const void *res;
    size_t len;
    uint64_t idx, got = 0;
    int rc;
    while ((rc = hpool_map_next(m, &res, &len, &idx)) == 1) {
        uint64_t v;
        CHECK(len == sizeof v && idx == got);
        memcpy(&v, res, sizeof v);
        CHECK(v == items[idx]);
        got++;
    }
    CHECK_OK(rc);
    CHECK(got == N_SMALL);
    CHECK_OK(hpool_map_close(m));
    CHECK_OK(hpool_shutdown(ex, true, false));
    hpool_executor_stats st;
    CHECK_OK(hpool_executor_get_stats(ex, &st));
    CHECK(st.chunks == N_SMALL);
    printf("  %d worker(s): %llu chunks in %llu messages out, %llu back\n", st.workers,
           (unsigned long long)st.chunks, (unsigned long long)st.messages_sent,
           (unsigned long long)st.messages_received);
    CHECK(st.messages_sent > 0 && st.messages_sent < st.chunks);
    CHECK(st.messages_received > 0 && st.messages_received < st.chunks);
    CHECK_OK(hpool_executor_destroy(ex));
}

/* Index of `name` in the tab-separated header line, or -1. */
static int column(const char *header, const char *name)
{
    int col = 0;
    size_t n = strlen(name);
    for (const char *p = header; *p; col++) {
        const char *tab = strchr(p, '\t');
        size_t len = tab ? (size_t)(tab - p) : strcspn(p, "\n");
        if (len == n && strncmp(p, name, n) == 0)
            return col;
        if (!tab)
            break;
        p = tab + 1;
    }
    return -1;
}

static double field(const char *line, int col)
{
    const char *p = line;
    for (int k = 0; k < col && p; k++) {
        p = strchr(p, '\t');
        if (p)
            p++;
    }
    CHECK(p != NULL);
    return strtod(p, NULL);
}

enum { N_LONG = 4 };

static void long_results_not_held(void)
{
    char dir[] = "/tmp/hpool-bundles-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    hpool_executor_options eo = {.max_workers = 1, .prefetch = N_LONG, .record_dir = dir};
    hpool_executor *ex;
    CHECK_OK(hpool_executor_create(&ex, &eo));
    int64_t us[N_LONG];
    for (int i = 0; i < N_LONG; i++)
        us[i] = 30000;
    hpool_map_options mo = {.chunksize = 1};
    hpool_map_iter *m;
    CHECK_OK(hpool_map(ex, "nap", us, sizeof us[0], N_LONG, &mo, &m));
    const void *res;
    size_t len;
    uint64_t idx;
    int got = 0;
    while (hpool_map_next(m, &res, &len, &idx) == 1)
        got++;
    CHECK(got == N_LONG);
    CHECK_OK(hpool_map_close(m));
    CHECK_OK(hpool_shutdown(ex, true, false));
    hpool_executor_stats st;
    CHECK_OK(hpool_executor_get_stats(ex, &st));
    /* The window's four calls left in one pass: the bundle this test is about formed. */
    CHECK(st.chunks == N_LONG && st.messages_sent < N_LONG);
    CHECK_OK(hpool_executor_destroy(ex));

    char path[512];
    snprintf(path, sizeof path, "%s/chunks.tsv", dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    char line[4096];
    CHECK(fgets(line, sizeof line, f) != NULL);
    int c_first = column(line, "first_item"), c_end = column(line, "t_end"),
        c_result = column(line, "t_result");
    CHECK(c_first >= 0 && c_end >= 0 && c_result >= 0);
    double t_end[N_LONG], t_result[N_LONG];
    int rows = 0;
    bool complete = false;
    while (fgets(line, sizeof line, f) != NULL) {
        if (line[0] == '#') { /* the last line says the file is whole */
            complete = strcmp(line, "# complete\n") == 0;
            continue;
        }
        int k = (int)field(line, c_first);
        CHECK(k >= 0 && k < N_LONG && rows < N_LONG);
        t_end[k] = field(line, c_end);
        t_result[k] = field(line, c_result);
        rows++;
    }
    fclose(f);
    CHECK(complete && rows == N_LONG);
    /* One worker runs the items in order: item k+1 ends 30 ms after item k did. A result
     * held for the bundle would arrive with the next one, after that end. */
    for (int k = 0; k + 1 < N_LONG; k++) {
        printf("  item %d: result %.3f ms after its end, %.3f ms before the next end\n", k,
               (t_result[k] - t_end[k]) * 1e3, (t_end[k + 1] - t_result[k]) * 1e3);
        CHECK(t_result[k] < t_end[k + 1]);
    }
    hpool_test_remove_dir(dir);
}

static void run_manager(int world)
{
    small_items_share_messages(1);
    if (world > 2)
        small_items_share_messages(0);
    long_results_not_held();
}
