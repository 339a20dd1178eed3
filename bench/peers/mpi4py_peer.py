#!/usr/bin/env python3
"""mpi4py_peer.py: the hpool benchmark workloads on mpi4py.futures.MPIPoolExecutor.

The same items, options and runs.tsv rows as ppe.py (whose workload code it imports),
with impl=mpi4py: MPI's own futures executor beside Python's process pool and hpool.
It must start as an MPI job whose other ranks are the pool's workers:

    mpirun -n 1+W /usr/bin/python3 -m mpi4py.futures bench/peers/mpi4py_peer.py \\
        --out results/NAME/peer_mpi4py_runs.tsv --experiment NAME --workers W ...

(with bench/peers on PYTHONPATH for the workers, which unpickle ppe._task). --workers
must be W, the world size minus one: one launch serves one worker count. Spawning
workers from a singleton (MPIPoolExecutor(max_workers=W) without mpirun) fails with Open
MPI as root here (MPI_ERR_SPAWN), so hpool-bench launches it this way
(bench/peer_mpi4py.c). Debian's python3-mpi4py is importable by /usr/bin/python3 only.
"""

import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ppe  # noqa: E402  (the shared workload code)
from mpi4py import MPI  # noqa: E402
from mpi4py.futures import MPIPoolExecutor  # noqa: E402

IMPL = "mpi4py"


class MPISweep(ppe.Sweep):
    """ppe.py's sweep with MPIPoolExecutor as the pool and impl=mpi4py in its rows."""

    def pool(self, workers):
        if workers not in self.pools:
            ex = MPIPoolExecutor()
            # Workers are up before the clock runs, as ppe.py's start_pool does.
            list(ex.map(ppe._noop, [0.05] * workers))
            self.pools[workers] = ex
        return self.pools[workers]

    def combination(self, workload, api, ntasks, cs, workers):
        items = ppe.make_items(self.a, workload, ntasks, self.iters_per_s)
        serial = self.serial_s(workload, ntasks, items)
        ex = self.pool(workers)
        for _ in range(self.a.warmup):
            ppe.run_once(ex, api, items, cs)
        for rep in range(self.a.repeat):
            wall, mcpu, results = ppe.run_once(ex, api, items, cs)
            speedup = serial / wall if serial > 0 and wall > 0 else 0.0
            nchunks = math.ceil(ntasks / cs) if api == "map" else ntasks
            self.out.row([IMPL, self.a.experiment, self.run_id, workload, api, "fixed",
                          "fixed", cs, workers, 1, ntasks, rep, wall,
                          ntasks / wall if wall > 0 else 0.0, serial, speedup,
                          speedup / workers, ppe.imbalance(results, workers), mcpu,
                          ppe.bytes_moved(api, items, results, cs), nchunks])
            self.log("run %d: %s %s tasks=%d chunksize=%d workers=%d rep=%d wall=%.4fs"
                     % (self.run_id, workload, api, ntasks, cs, workers, rep, wall))
            self.run_id += 1


def main(argv=None):
    args = ppe.parse_args(sys.argv[1:] if argv is None else argv)
    world = MPI.COMM_WORLD.Get_size()
    if args.workers_l != [world - 1]:
        raise SystemExit("mpi4py_peer.py: --workers must be %d (the world size minus one), "
                         "got %s" % (world - 1, args.workers))
    return ppe.run_sweep(MPISweep, args)


if __name__ == "__main__":
    sys.exit(main())
