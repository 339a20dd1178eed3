#!/usr/bin/env bash
# hpool under Slurm, for real: a one-node cluster started for this test
# (scripts/slurm-local.sh: munged, slurmctld, slurmd as root, state in a temporary
# directory, stopped on exit), then
#  (a) sbatch of the shipped batch script configs/hpool-bench.sbatch: hpool-bench under
#      Open MPI's mpirun with the hybrid lines, 2 tasks x 1 CPU, results written, each
#      rank on a core of its own;
#  (b) direct launch with srun --mpi=pmix (Open MPI): 3 ranks on the 2 CPUs of a 2-CPU
#      allocation (Slurm leaves them unbound, hpool binds one core per worker), the
#      placement table checked, and test_placement, which asserts that threads run on the
#      PUs the table claims; 2 ranks bound by Slurm (--cpu-bind=cores);
#  (c) the same direct launch under MPICH with srun --mpi=pmi2.
# A part whose plugin or build is missing is skipped with the reason printed.
#   tests/slurm/slurm.sh [BUILD [BUILD_MPICH]]   (defaults build-test, build-test-mpich)
source "$(dirname "$0")/../../scripts/common.sh"
set +e +o pipefail
hpool_mpi_env
cd "$HPOOL_SRC"
build=$(realpath -m "${1:-build-test}")
build_mpich=$(realpath -m "${2:-build-test-mpich}")
skip() { echo "slurm: skipped: $*" >&2; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "starting slurmd and munged needs root"
for p in munged slurmctld slurmd srun sbatch salloc; do
    command -v "$p" >/dev/null || skip "$p not installed"
done
cpus=$(slurmd -C | sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' | head -1)
[ "${cpus:-0}" -ge 2 ] || skip "the checks place a manager and a worker on 2 CPUs; this node has ${cpus:-?}"
[ -x "$build/hpool-bench" ] || { echo "slurm: $build/hpool-bench not built" >&2; exit 1; }

fails=0 passes=0
check() {
    local what=$1; shift
    if "$@"; then passes=$((passes + 1)); else echo "FAIL: $what" >&2; fails=$((fails + 1)); fi
}
tmp=$(mktemp -d /tmp/hpool-slurm-test.XXXXXX)
cluster=$(mktemp -d /tmp/hpool-slurm.XXXXXX)
trap 'bash "$HPOOL_SRC/scripts/slurm-local.sh" stop "$cluster"; [ -n "${HPOOL_SLURM_KEEP:-}" ] || rm -rf "$tmp"' EXIT
started=$(bash scripts/slurm-local.sh start "$cluster") || { echo "slurm: cluster did not start" >&2; exit 1; }
eval "$started"
echo "slurm: one-node cluster up ($SLURM_CONF)" >&2

rows() { grep -v '^#' "$1" | tail -n +2 | wc -l; }
# worker_rows FILE: the worker rows of a printed placement table (host rank thread cpu ...)
worker_rows() { awk '$1 != "host" && $2 ~ /^[0-9]+$/ && $2 > 0 && $3 ~ /^[0-9]+$/' "$1"; }

# (a) sbatch of the shipped batch script, mpirun inside.
cat >"$tmp/hybrid.ini" <<'INI'
[experiment]
name = sbatch
workload = hybrid
tasks = 8
cost_ms = 1
chunksize = 1, 2
workers = 1
records = chunks
[hybrid]
inner_items = 2
inner_ms = 1
INI
timeout 120 sbatch --wait --quiet --nodes=1 --ntasks-per-node=2 --cpus-per-task=1 \
    --output="$tmp/sbatch.out" \
    --export=ALL,HPOOL_BENCH="$build/hpool-bench",HPOOL_CONFIG="$tmp/hybrid.ini",HPOOL_OUT="$tmp/res" \
    configs/hpool-bench.sbatch
rc=$?
check "(a) sbatch job exits 0 ($(tail -2 "$tmp/sbatch.out" 2>/dev/null | tr '\n' ' '))" [ $rc -eq 0 ]
check "(a) runs.tsv complete, 2 runs" \
    [ "$(grep -c '^# complete' "$tmp/res/sbatch/latest/runs.tsv" 2>/dev/null)" -eq 1 -a "$(rows "$tmp/res/sbatch/latest/runs.tsv")" -eq 2 ]
check "(a) timeline rendered" test -s "$tmp/res/sbatch/latest/timeline.png"
check "(a) manager and worker on cores of their own, no placement warning" \
    /usr/bin/python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))["placement"][0]
r = {row["rank"]: row for row in p["rows"]}
assert len(p["rows"]) == 2 and not p["warnings"], p
assert "," not in r[1]["cpuset"] and "-" not in r[1]["cpuset"], r[1]
assert r[0]["cpuset"] != r[1]["cpuset"], p["rows"]' "$tmp/res/sbatch/latest/meta.json"

# srun_checks MPI BUILD: direct launch of hpool-bench and test_placement with srun and the
# PMI of MPI (openmpi or mpich), as scripts/common.sh knows it.
cat >"$tmp/two.ini" <<'INI'
[experiment]
name = srun
workload = cpu_sum
tasks = 16
cost_ms = 1
chunksize = 1
workers = 2
threads = 1
records = chunks
INI
srun_checks() {
    local b=$2 rc
    HPOOL_MPI=$1 hpool_launcher srun
    local pmi=${HPOOL_LAUNCH_FLAGS[0]#--mpi=}
    # Ranks waiting in MPI yield their core: 3 ranks share 2 CPUs below.
    local srun=("$HPOOL_MPIEXEC" "${HPOOL_LAUNCH_FLAGS[@]}" "${HPOOL_LAUNCH_YIELD[@]}")
    local label=$pmi out="$tmp/res-$pmi"
    if ! srun --mpi=list 2>&1 | grep -qw "$pmi"; then
        echo "slurm: ($label) skipped: srun has no --mpi=$pmi plugin (slurm-wlm-basic-plugins)" >&2
        return
    fi
    # 3 tasks on the 2 CPUs of the allocation: Slurm leaves them unbound, hpool binds.
    timeout 120 salloc --quiet -N1 -n2 "${srun[@]}" -n 3 --overcommit "$b/hpool-bench" \
        --quiet --no-plot --report-placement --out "$out" "$tmp/two.ini" >"$tmp/$label.place" 2>&1
    rc=$?
    check "($label) srun --mpi=$pmi -n 3 hpool-bench exits 0 ($(tail -1 "$tmp/$label.place"))" [ $rc -eq 0 ]
    check "($label) runs.tsv complete" grep -q '^# complete' "$out/srun/latest/runs.tsv"
    worker_rows "$tmp/$label.place" >"$tmp/$label.workers"
    check "($label) placement: 2 workers x 1 thread" [ "$(wc -l <"$tmp/$label.workers")" -eq 2 ]
    check "($label) workers bound by hpool" [ "$(awk '$7 == "hpool"' "$tmp/$label.workers" | wc -l)" -eq 2 ]
    check "($label) workers on different cores" [ "$(awk '{print $5}' "$tmp/$label.workers" | sort -u | wc -l)" -eq 2 ]
    check "($label) no oversubscription or shared core reported" \
        not_grep -E 'oversubscribed|shared-core' "$tmp/$label.workers"
    # test_placement asserts that tasks run on the PUs the table claims.
    timeout 120 salloc --quiet -N1 -n2 "${srun[@]}" -n 3 --overcommit "$b/tests/test_placement" \
        >"$tmp/$label.tp" 2>&1
    rc=$?
    check "($label) test_placement under srun -n 3 ($(grep -E 'CHECK|passed' "$tmp/$label.tp" | head -1))" [ $rc -eq 0 ]
    # 2 tasks bound to a core each by Slurm: hpool binds inside that core.
    timeout 120 "${srun[@]}" -n 2 --cpu-bind=cores "$b/hpool-bench" --quiet --no-plot \
        --report-placement --out "$out-bound" "$tmp/hybrid.ini" >"$tmp/$label.bound" 2>&1
    check "($label) srun --cpu-bind=cores -n 2 exits 0" [ $? -eq 0 ]
    check "($label) the worker stays in its one-core cpuset" \
        [ "$(worker_rows "$tmp/$label.bound" | awk '$8 ~ /^[0-9]+$/ && $4 == $8' | wc -l)" -ge 1 ]
}
not_grep() { ! grep -q "$@"; }

# (b) Open MPI, PMIx.
srun_checks openmpi "$build"
# (c) MPICH, PMI-2.
if [ -x "$build_mpich/hpool-bench" ] && [ -x "$build_mpich/tests/test_placement" ]; then
    srun_checks mpich "$build_mpich"
else
    echo "slurm: (c) skipped: no MPICH build in $build_mpich (scripts/mpich-tests.sh builds it)" >&2
fi

echo "slurm: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
