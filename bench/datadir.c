/* hpool-bench's data directory: the same binary works from the build tree and installed
 * (cmake --install, the .deb) because it looks next to itself before the source tree. */
#include "datadir.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef HPOOL_SOURCE_DIR
#define HPOOL_SOURCE_DIR "."
#endif

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* <bindir>/../share/hpool of the running executable, or "" if there is none. */
static const char *installed_root(void)
{
    static char root[PATH_MAX];
    static bool done;
    if (done)
        return root;
    done = true;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return root;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return root;
    *slash = '\0';
    char cand[PATH_MAX];
    if (snprintf(cand, sizeof cand, "%s/../share/hpool", exe) < (int)sizeof cand && is_dir(cand))
        snprintf(root, sizeof root, "%s", cand);
    return root;
}

const char *hpool_bench_data_dir(const char *what)
{
    /* One buffer per kind: callers keep the pointers for the whole run. */
    static char plots[PATH_MAX], configs[PATH_MAX], peers[PATH_MAX];
    char *buf = strcmp(what, "plots") == 0 ? plots : strcmp(what, "configs") == 0 ? configs : peers;
    if (buf[0])
        return buf;
    const char *env = getenv("HPOOL_DATA_DIR");
    const char *root = env && env[0] ? env : installed_root();
    if (root[0])
        snprintf(buf, PATH_MAX, "%s/%s", root, what);
    else if (strcmp(what, "peers") == 0)
        snprintf(buf, PATH_MAX, "%s/bench/peers", HPOOL_SOURCE_DIR);
    else
        snprintf(buf, PATH_MAX, "%s/%s", HPOOL_SOURCE_DIR, what);
    return buf;
}

const char *hpool_bench_find_config(const char *arg, char *buf, size_t len)
{
    if (is_file(arg) || strchr(arg, '/'))
        return arg;
    const char *dir = hpool_bench_data_dir("configs");
    if (snprintf(buf, len, "%s/%s", dir, arg) < (int)len && is_file(buf))
        return buf;
    if (snprintf(buf, len, "%s/%s.ini", dir, arg) < (int)len && is_file(buf))
        return buf;
    return arg;
}
