#!/usr/bin/env python3
"""ppe.py: the hpool benchmark workloads on Python's own ProcessPoolExecutor.

Appends one row per recorded run to a runs.tsv in the column order of docs/FORMATS.md,
with impl=python-ppe, so hpool-bench can summarise and plot both implementations
together. Standard library only.

    python3 bench/peers/ppe.py --out results/NAME/runs.tsv --experiment NAME \\
        --workload cpu_sum --tasks 1000 --cost-ms 1 --api map --chunksize 1,4,16 \\
        --workers 2 --repeat 3 --warmup 1 --seed 1 --run-base 100

--workload, --api, --tasks, --chunksize and --workers take comma-separated lists; the
sweep is their cross product in that order (workload slowest, workers fastest), each
combination run --warmup times unrecorded, then --repeat times recorded. Recorded runs
get ids run-base, run-base+1, ... in that order.

Workloads (N = --tasks, item i = 0..N-1, "mean" = one item's mean cost)
  empty       the task returns None at once.
  cpu_sum     `for j in range(n): count += j`, n = --iterations; with --cost-ms the
              iteration count is calibrated once (in this process) so one item takes
              cost-ms milliseconds. Python's loop is much slower per iteration than C's,
              so the same --iterations is not the same time: use --cost-ms to compare.
  io_sleep    time.sleep(cost-ms / 1000); with --iterations instead, as long as that
              many loop iterations take here (calibrated), like bench/workloads.c.
  increasing  cpu_sum with n_i = llround(mean_n * f_i), f_i = 2*i/(N-1)
  decreasing  f_i = 2*(N-1-i)/(N-1)          (N = 1: f_0 = 1 for both)
  random      f_i = 2 * (h_i >> 11) / 2**53  (uniform in [0, 2))
  bimodal     f_i = 5.5 if h_i % 10 == 0 else 0.5  (about 10% heavy items; mean ~1)
              mean_n is --iterations, or the calibrated count for --cost-ms; llround
              rounds halves away from zero. h_i is splitmix64's mixing function applied
              to seed * 0x100000001B3 + i (all mod 2**64):
                z = seed * 0x100000001B3 + i + 0x9E3779B97F4A7C15
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
                z = (z ^ (z >> 27)) * 0x94D049BB133111EB
                h_i = z ^ (z >> 31)
              These are the formulas of bench/workloads.c (cost_factor), so both
              implementations run the very same item costs for a given seed.
  hybrid and mandelbrot are hpool-only: they are skipped with a warning on stderr (no
  rows, exit status 0), so a sweep that lists them alongside others still runs.

Columns written
  schedule, schedule_used   "fixed" (ProcessPoolExecutor only has fixed-size chunks)
  chunksize                 as given; submit/as_completed send one item per call anyway
  workers                   processes; threads = 1
  wall_s                    first submit (or map call) to the last result; the pool is
                            created and its processes started before the clock runs
  serial_s                  the same items in a plain loop in this process, measured
                            once per (workload, tasks) and reused (0 with --no-serial)
  speedup, efficiency       serial_s / wall_s, speedup / workers (0 without serial_s)
  imbalance                 max / mean busy time of the worker processes (each task
                            reports its pid and the time spent in the work itself;
                            processes that got nothing count as 0 busy)
  manager_cpu_s             user + system CPU of this (parent) process during the run
  bytes_moved               pickled size of the call items' arguments and of the
                            results, per call (estimate: the executor's own envelope,
                            work ids and queues' framing are not counted)
  chunks                    call items: ceil(tasks / chunksize) for map, tasks otherwise

The header is written when the file is absent or empty; an existing file must have the
same header. Each row is one write() on an O_APPEND descriptor, so an interrupted run
never leaves half a line. --complete appends the "# complete" line at the end.
"""

import argparse
import concurrent.futures as cf
import math
import multiprocessing
import os
import pickle
import resource
import sys
import time

COLUMNS = ("impl experiment run workload api schedule schedule_used chunksize workers "
           "threads tasks rep wall_s tasks_per_s serial_s speedup efficiency imbalance "
           "manager_cpu_s bytes_moved chunks").split()

WORKLOADS = ("empty", "cpu_sum", "io_sleep", "increasing", "decreasing", "random",
             "bimodal")
HPOOL_ONLY = ("hybrid", "mandelbrot")
APIS = ("map", "submit", "as_completed")
MASK64 = (1 << 64) - 1

# Task kinds, sent with each item: (kind, amount).
K_EMPTY, K_LOOP, K_SLEEP = 0, 1, 2


def _task(item):
    """Runs one item in a worker; returns (pid, busy seconds, value)."""
    kind, amount = item
    t0 = time.perf_counter()
    value = None
    if kind == K_LOOP:
        count = 0
        for j in range(amount):
            count += j
        value = count
    elif kind == K_SLEEP:
        time.sleep(amount)
    return os.getpid(), time.perf_counter() - t0, value


def _noop(delay):
    time.sleep(delay)
    return os.getpid()


def splitmix_hash(seed, i):
    """h_i of the module docstring: splitmix64's mix of seed * 0x100000001B3 + i."""
    z = (seed * 0x100000001B3 + i + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def cost_factor(workload, i, n, seed):
    """Multiplier of the mean cost for item i of n (bench/workloads.c: cost_factor)."""
    pos = i / (n - 1) if n > 1 else 0.5
    if workload == "increasing":
        return 2.0 * pos
    if workload == "decreasing":
        return 2.0 * (1.0 - pos)
    if workload == "random":
        return 2.0 * (splitmix_hash(seed, i) >> 11) / float(1 << 53)
    if workload == "bimodal":
        return 5.5 if splitmix_hash(seed, i) % 10 == 0 else 0.5
    return 1.0


def llround(x):
    """C's llround for x >= 0: halves away from zero (Python's round() goes to even)."""
    return int(math.floor(x + 0.5))


def calibrate(target_s=0.2):
    """Loop iterations per second of _task's loop in this interpreter."""
    n = 10000
    while True:
        t0 = time.perf_counter()
        _task((K_LOOP, n))
        dt = time.perf_counter() - t0
        if dt >= target_s or n >= 1 << 34:
            return n / dt
        n *= 2 if dt <= 0 else max(2, min(16, int(target_s / dt) + 1))


def make_items(args, workload, ntasks, iters_per_s):
    """The (kind, amount) items of one run."""
    if workload == "empty":
        return [(K_EMPTY, 0)] * ntasks
    if workload == "io_sleep":
        secs = args.cost_ms / 1000.0 if args.cost_ms > 0 else args.iterations / iters_per_s
        return [(K_SLEEP, secs)] * ntasks
    mean_n = args.iterations if args.iterations > 0 else args.cost_ms / 1000.0 * iters_per_s
    return [(K_LOOP, llround(mean_n * cost_factor(workload, i, ntasks, args.seed)))
            for i in range(ntasks)]


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def run_once(ex, api, items, chunksize):
    """Runs the items; returns (wall seconds, manager CPU seconds, results)."""
    c0 = cpu_seconds()
    t0 = time.perf_counter()
    if api == "map":
        results = list(ex.map(_task, items, chunksize=chunksize))
    elif api == "submit":
        futures = [ex.submit(_task, it) for it in items]
        results = [f.result() for f in futures]
    else:
        futures = [ex.submit(_task, it) for it in items]
        results = [f.result() for f in cf.as_completed(futures)]
    wall = time.perf_counter() - t0
    return wall, cpu_seconds() - c0, results


def imbalance(results, workers):
    busy = {}
    for pid, dt, _ in results:
        busy[pid] = busy.get(pid, 0.0) + dt
    total = sum(busy.values())
    if total <= 0 or workers <= 0:
        return 0.0
    return max(busy.values()) / (total / workers)


def bytes_moved(api, items, results, chunksize):
    """Pickled argument + result bytes per call item (see the module docstring)."""
    step = chunksize if api == "map" else 1
    total = 0
    for k in range(0, len(items), step):
        total += len(pickle.dumps((_task, items[k:k + step]), pickle.HIGHEST_PROTOCOL))
        total += len(pickle.dumps(results[k:k + step], pickle.HIGHEST_PROTOCOL))
    return total


def serial_time(items):
    t0 = time.perf_counter()
    for it in items:
        _task(it)
    return time.perf_counter() - t0


class RunsFile:
    """runs.tsv opened for appending whole lines."""

    def __init__(self, path):
        self.path = path
        header = "\t".join(COLUMNS)
        existing = ""
        if os.path.exists(path) and os.path.getsize(path) > 0:
            with open(path, encoding="utf-8") as f:
                for line in f:
                    if line.strip() and not line.startswith("#"):
                        existing = line.rstrip("\r\n")
                        break
        if existing and existing != header:
            raise SystemExit("ppe.py: %s has a different header; expected:\n%s" % (path, header))
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if not existing:
            self.write_line(header)

    def write_line(self, line):
        data = (line + "\n").encode("utf-8")
        n = os.write(self.fd, data)
        if n != len(data):  # never expected for a small append to a regular file
            raise OSError("short write to %s" % self.path)

    def row(self, values):
        self.write_line("\t".join(fmt(v) for v in values))

    def close(self):
        os.close(self.fd)


def fmt(v):
    if isinstance(v, float):
        return "%.9g" % v
    return str(v)


def csv_list(text, conv=str):
    return [conv(x.strip()) for x in text.split(",") if x.strip()]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="runs.tsv to append to")
    p.add_argument("--experiment", required=True)
    p.add_argument("--workload", default="cpu_sum", help="comma list")
    p.add_argument("--api", default="map", help="comma list: map, submit, as_completed")
    p.add_argument("--tasks", default="1000", help="comma list")
    p.add_argument("--chunksize", default="1", help="comma list")
    p.add_argument("--workers", default="2", help="comma list of process counts")
    p.add_argument("--cost-ms", type=float, default=0.0)
    p.add_argument("--iterations", type=int, default=0)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--warmup", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--run-base", type=int, default=0)
    p.add_argument("--mp-context", choices=("fork", "spawn", "forkserver"), default=None)
    p.add_argument("--no-serial", action="store_true", help="do not measure serial_s")
    p.add_argument("--complete", action="store_true", help="append '# complete' at the end")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    a.workloads = csv_list(a.workload)
    a.apis = csv_list(a.api)
    try:
        a.tasks_l = csv_list(a.tasks, int)
        a.chunksizes = csv_list(a.chunksize, int)
        a.workers_l = csv_list(a.workers, int)
    except ValueError as e:
        p.error(str(e))
    for w in [w for w in a.workloads if w in HPOOL_ONLY]:
        print("ppe.py: skipping workload %s: hpool-only, no Python peer" % w, file=sys.stderr)
    a.workloads = [w for w in a.workloads if w not in HPOOL_ONLY]
    for w in a.workloads:
        if w not in WORKLOADS:
            p.error("unknown workload %s (allowed: %s)" % (w, ", ".join(WORKLOADS)))
    for api in a.apis:
        if api not in APIS:
            p.error("unknown api %s (allowed: %s)" % (api, ", ".join(APIS)))
    if min(a.tasks_l + a.chunksizes + a.workers_l, default=0) < 1:
        p.error("--tasks, --chunksize and --workers must be lists of positive integers")
    if a.cost_ms < 0 or a.iterations < 0 or (a.cost_ms > 0 and a.iterations > 0):
        p.error("give at most one of --cost-ms and --iterations, non-negative")
    if a.repeat < 1 or a.warmup < 0:
        p.error("--repeat must be >= 1 and --warmup >= 0")
    return a


def start_pool(workers, ctx_name):
    """A pool whose processes are all running, so the clock never sees their start-up."""
    ctx = multiprocessing.get_context(ctx_name) if ctx_name else None
    ex = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    list(ex.map(_noop, [0.05] * workers))
    return ex


class Sweep:
    def __init__(self, args, out):
        self.a = args
        self.out = out
        self.run_id = args.run_base
        self.pools = {}
        self.serial = {}
        # Loop speed is needed to turn --cost-ms into iterations (cpu workloads) or
        # --iterations into seconds (io_sleep).
        cpu = any(w not in ("empty", "io_sleep") for w in args.workloads)
        needs_cal = ((cpu and args.cost_ms > 0) or
                     ("io_sleep" in args.workloads and args.iterations > 0))
        self.iters_per_s = calibrate() if needs_cal else 0.0

    def log(self, msg):
        if not self.a.quiet:
            print("ppe: " + msg, file=sys.stderr, flush=True)

    def pool(self, workers):
        if workers not in self.pools:
            self.pools[workers] = start_pool(workers, self.a.mp_context)
        return self.pools[workers]

    def serial_s(self, workload, ntasks, items):
        if self.a.no_serial:
            return 0.0
        key = (workload, ntasks)
        if key not in self.serial:
            self.serial[key] = serial_time(items)
        return self.serial[key]

    def combination(self, workload, api, ntasks, cs, workers):
        items = make_items(self.a, workload, ntasks, self.iters_per_s)
        serial = self.serial_s(workload, ntasks, items)
        ex = self.pool(workers)
        for _ in range(self.a.warmup):
            run_once(ex, api, items, cs)
        for rep in range(self.a.repeat):
            wall, mcpu, results = run_once(ex, api, items, cs)
            speedup = serial / wall if serial > 0 and wall > 0 else 0.0
            nchunks = math.ceil(ntasks / cs) if api == "map" else ntasks
            self.out.row(["python-ppe", self.a.experiment, self.run_id, workload, api,
                          "fixed", "fixed", cs, workers, 1, ntasks, rep, wall,
                          ntasks / wall if wall > 0 else 0.0, serial, speedup,
                          speedup / workers, imbalance(results, workers), mcpu,
                          bytes_moved(api, items, results, cs), nchunks])
            self.log("run %d: %s %s tasks=%d chunksize=%d workers=%d rep=%d wall=%.4fs"
                     % (self.run_id, workload, api, ntasks, cs, workers, rep, wall))
            self.run_id += 1

    def run(self):
        a = self.a
        for workload in a.workloads:
            for api in a.apis:
                for ntasks in a.tasks_l:
                    for cs in a.chunksizes:
                        for workers in a.workers_l:
                            self.combination(workload, api, ntasks, cs, workers)

    def close(self):
        for ex in self.pools.values():
            ex.shutdown(wait=True)


def cpu_list(cpus):
    """CPU numbers as a list like "0-3,8"."""
    cpus, parts, i = sorted(cpus), [], 0
    while i < len(cpus):
        j = i
        while j + 1 < len(cpus) and cpus[j + 1] == cpus[j] + 1:
            j += 1
        parts.append(str(cpus[i]) if i == j else "%d-%d" % (cpus[i], cpus[j]))
        i = j + 1
    return ",".join(parts)


def run_sweep(sweep_class, args):
    """Run one peer's sweep into args.out, marking the file complete only when every run
    finished (shared by this peer and mpi4py_peer.py)."""
    out = RunsFile(args.out)
    sweep = sweep_class(args, out)
    try:
        sweep.run()
        if args.complete:
            out.write_line("# complete")
    finally:
        sweep.close()
        out.close()
    return 0


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if hasattr(os, "sched_getaffinity"):
        # Where this pool's processes may run (they inherit it): hpool-bench starts the
        # peer on its host's whole cpuset, not on rank 0's binding.
        print("ppe: cpus %s" % cpu_list(os.sched_getaffinity(0)), file=sys.stderr, flush=True)
    return run_sweep(Sweep, args)


if __name__ == "__main__":
    sys.exit(main())
