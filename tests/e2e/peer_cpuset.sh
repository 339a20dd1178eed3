#!/usr/bin/env bash
# The Python peer runs on its host's whole cpuset, not on rank 0's binding (issue 13):
# under `mpirun --bind-to core` rank 0 is bound to one core, yet hpool-bench starts the
# peer (posix_spawn) on every CPU of the host, says so in meta.json and the report, and
# the peer's own processes see that cpuset. Open MPI only (binding flags).
# Env (set by CTest): HPOOL_BUILD, HPOOL_SRC, MPIEXEC.
set -u
if ! "${MPIEXEC:-mpirun}" --version 2>/dev/null | grep -qE "Open MPI|OpenRTE"; then
    echo "SKIP: needs Open MPI's --bind-to"; exit 77
fi
ALL=$(python3 -c 'import os; c=sorted(os.sched_getaffinity(0)); print(c[0], c[-1], len(c))')
read -r first last count <<<"$ALL"
if [ "$count" -lt 2 ]; then
    echo "SKIP: needs 2 CPUs"; exit 77
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
fails=0 passes=0
check() { # check "what" command...
    local what=$1; shift
    if "$@"; then passes=$((passes + 1)); else echo "FAIL: $what" >&2; fails=$((fails + 1)); fi
}
cat > "$OUT/peer_cpuset.ini" <<'INI'
[experiment]
name = peer_cpuset
workload = cpu_sum
api = map
tasks = 4
cost_ms = 1
schedule = fixed
chunksize = 1
workers = 1
repeat = 1
records = none
serial_baseline = no
peers = python-ppe
INI
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
timeout 120 "${MPIEXEC:-mpirun}" -n 2 --bind-to core -x OMP_WAIT_POLICY=passive \
    "$HPOOL_BUILD/hpool-bench" --no-plot --out "$OUT" "$OUT/peer_cpuset.ini" > "$OUT/log" 2>&1
rc=$?
check "hpool-bench with the peer under --bind-to core exits 0 (got $rc)" [ $rc -eq 0 ]
M="$OUT/peer_cpuset/latest/meta.json"
host_set=$(python3 - "$M" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
print(m["peers_started"]["python-ppe"]["cpuset"], m["peers_started"]["python-ppe"]["started_with"])
b = m["hosts"][0]["bindings"]
print(" ".join(k for k, ranks in b.items() if 0 in ranks))
PY
)
peer_cpus=$(sed -n 1p <<<"$host_set" | cut -d' ' -f1)
how=$(sed -n 1p <<<"$host_set" | cut -d' ' -f2)
rank0=$(sed -n 2p <<<"$host_set")
check "rank 0 is bound to one core (binding '$rank0')" [ -n "$rank0" ] && [ "${rank0//[0-9]/}" = "" ]
check "meta.json: the peer ran on the host's CPUs ($peer_cpus, want $first-$last)" [ "$peer_cpus" = "$first-$last" ]
check "meta.json: started with posix_spawn ($how)" [ "$how" = posix_spawn ]
check "the peer's processes saw the host's CPUs" grep -q "^ppe: cpus $first-$last\$" "$OUT/log"
check "the report prints the peer's cpuset" grep -q "peers_started.python-ppe.cpuset | $first-$last" "$OUT/peer_cpuset/latest/report.md"
[ $fails -eq 0 ] || cat "$OUT/log"
echo "peer_cpuset.sh: $passes passed, $fails failed"
[ $fails -eq 0 ]
