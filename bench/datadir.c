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

/* The shipped config for a bare name, or NULL. */
static char *shipped_config(const char *arg)
{
    if (is_file(arg) || strchr(arg, '/'))
        return NULL;
    const char *dir = hpool_bench_data_dir("configs");
    static const char *const suffixes[] = {"", ".ini"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t len = strlen(dir) + strlen(arg) + strlen(suffixes[i]) + 2;
        char *path = malloc(len);
        if (!path)
            return NULL;
        snprintf(path, len, "%s/%s%s", dir, arg, suffixes[i]);
        if (is_file(path))
            return path;
        free(path);
    }
    return NULL;
}

void hpool_bench_find_configs(int n, char **args)
{
    /* Kept reachable from here for the life of the process (args point into it). */
    static char **found;
    static int n_found;
    for (int i = 0; i < n; i++) {
        char *path = shipped_config(args[i]);
        if (!path)
            continue;
        char **grown = realloc(found, (size_t)(n_found + 1) * sizeof *grown);
        if (!grown) {
            free(path);
            continue;
        }
        found = grown;
        found[n_found++] = path;
        args[i] = path;
    }
}
