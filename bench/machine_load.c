/* Machine load during a run (machine_load.h).
 *
 * "Other processes" are everything on rank 0's host outside this job: the host's CPU
 * time (/proc/stat: user, nice, system, irq, softirq, steal over all CPUs) minus that of
 * this job's processes, taken as rank 0 and its siblings (the processes with rank 0's
 * parent: the launcher starts a host's ranks as its children, under mpirun, mpiexec and
 * srun alike). The workers' own polling is therefore never counted as load. Clock ticks
 * are 10 ms, so the share of a run shorter than ~0.1 s is coarse; the threshold needs
 * at least two ticks of other work besides. Ranks on other hosts are not seen. */
#include "machine_load.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double ticks_per_s(void)
{
    long t = sysconf(_SC_CLK_TCK);
    return t > 0 ? (double)t : 100.0;
}

/* The host's busy CPU time in s, or -1. */
static double host_busy_s(void)
{
    FILE *f = fopen("/proc/stat", "r");
    unsigned long long v[8] = {0};
    int n = f ? fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                       &v[3], &v[4], &v[5], &v[6], &v[7])
              : 0;
    if (f)
        fclose(f);
    if (n < 8)
        return -1;
    /* user nice system [idle iowait] irq softirq steal (guest time is inside user) */
    return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / ticks_per_s();
}

/* ppid and utime+stime (ticks) of /proc/PID/stat; false if it is gone. */
static bool proc_stat(const char *pid, long *ppid, unsigned long long *ticks)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%s/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    size_t k = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[k] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
    unsigned long long ut, st;
    if (p == NULL || sscanf(p + 2, "%*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                            ppid, &ut, &st) != 3)
        return false;
    *ticks = ut + st;
    return true;
}

/* CPU time of rank 0 and its siblings, s, or -1. */
static double job_cpu_s(void)
{
    long parent = (long)getppid();
    DIR *d = opendir("/proc");
    if (d == NULL)
        return -1;
    unsigned long long sum = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        long ppid;
        unsigned long long ticks;
        if (proc_stat(e->d_name, &ppid, &ticks) && ppid == parent)
            sum += ticks;
    }
    closedir(d);
    return (double)sum / ticks_per_s();
}

void hpool_bench_load_mark_now(hpool_bench_load_mark *m)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    m->t = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
    m->busy_s = host_busy_s();
    m->job_s = job_cpu_s();
    m->ok = m->busy_s >= 0 && m->job_s >= 0;
}

void hpool_bench_load_since(const hpool_bench_load_mark *start, hpool_bench_load *out)
{
    memset(out, 0, sizeof *out);
    hpool_bench_load_mark end;
    hpool_bench_load_mark_now(&end);
    double load[3];
    if (!start->ok || !end.ok || getloadavg(load, 3) < 1)
        return;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    double wall = end.t - start->t;
    double other = (end.busy_s - start->busy_s) - (end.job_s - start->job_s);
    out->known = true;
    out->load1 = load[0];
    out->other_cpu_s = other > 0 ? other : 0;
    out->other_share = wall > 0 && cores > 0 ? out->other_cpu_s / (wall * (double)cores) : 0;
    out->busy = out->other_share > HPOOL_BENCH_BUSY_SHARE &&
                out->other_cpu_s >= 2 / ticks_per_s();
}

json_t *hpool_bench_load_json(int run, const hpool_bench_load *l)
{
    return json_pack("{s:i, s:f, s:f, s:f, s:b, s:b}", "run", run, "load1", l->load1,
                     "other_cpu_s", l->other_cpu_s, "other_share", l->other_share, "busy",
                     l->busy, "known", l->known);
}

int hpool_bench_load_to_meta(const char *dir, json_t *runs)
{
    char path[4200], tmp[4200];
    snprintf(path, sizeof path, "%s/meta.json", dir);
    snprintf(tmp, sizeof tmp, "%s/.meta.json.load.tmp", dir);
    json_t *meta = json_load_file(path, 0, NULL);
    if (meta == NULL)
        return -1;
    json_object_set(meta, "machine_load", runs);
    json_object_set_new(meta, "machine_busy_threshold", json_real(HPOOL_BENCH_BUSY_SHARE));
    int rc = json_dump_file(meta, tmp, JSON_INDENT(2));
    json_decref(meta);
    if (rc != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

void hpool_bench_write_load_note(FILE *f, const hpool_render_table *runs)
{
    int c_busy = hpool_render_table_col(runs, "machine_busy");
    int c_load = hpool_render_table_col(runs, "load1");
    int c_other = hpool_render_table_col(runs, "other_cpu_s");
    int c_run = hpool_render_table_col(runs, "run");
    int c_impl = hpool_render_table_col(runs, "impl");
    if (c_busy < 0 || c_load < 0 || c_other < 0 || c_run < 0 || runs->nrows == 0)
        return; /* results from before the load was recorded */
    size_t busy = 0, measured = 0;
    double max_load = 0;
    for (size_t r = 0; r < runs->nrows; r++) {
        const char *impl = c_impl >= 0 ? hpool_render_table_cell(runs, r, c_impl) : NULL;
        if (impl && strcmp(impl, "hpool") != 0)
            continue; /* peers do not record it */
        measured++;
        busy += atoi(hpool_render_table_cell(runs, r, c_busy)) != 0;
        double l = atof(hpool_render_table_cell(runs, r, c_load));
        max_load = l > max_load ? l : max_load;
    }
    if (measured == 0)
        return;
    if (busy == 0) {
        fprintf(f, "Machine load: quiet during all %zu runs (other processes took at most "
                   "%.0f%% of the CPU; highest 1-minute load average %.2f).\n\n",
                measured, 100 * HPOOL_BENCH_BUSY_SHARE, max_load);
        return;
    }
    fprintf(f, "> **Busy machine**: %zu of %zu runs were taken while other processes took "
               "more than %.0f%% of the CPU, so their times are not comparable with the "
               "others' (runs.tsv `other_cpu_s`, `load1`): run",
            busy, measured, 100 * HPOOL_BENCH_BUSY_SHARE);
    size_t shown = 0;
    for (size_t r = 0; r < runs->nrows && shown < 20; r++) {
        if (atoi(hpool_render_table_cell(runs, r, c_busy)) == 0)
            continue;
        fprintf(f, "%s %s (%.2f CPU-s of others, load %.2f)", shown ? "," : "",
                hpool_render_table_cell(runs, r, c_run),
                atof(hpool_render_table_cell(runs, r, c_other)),
                atof(hpool_render_table_cell(runs, r, c_load)));
        shown++;
    }
    fputs(busy > shown ? ", ...\n\n" : ".\n\n", f);
}
