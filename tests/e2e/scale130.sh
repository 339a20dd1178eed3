#!/usr/bin/env bash
# 130 ranks on this machine (129 workers, oversubscribed, yield when idle): a seed-like map
# with records and the same tasks as futures (hpool_submit), through hpool-bench; then a
# config asking for more workers than the job has is rejected by --dry-run with exit 2.
# Asserted: both runs finish with every result right; the placement table has every rank
# (one row per worker thread, no cut); chunks.tsv records come from many workers and are
# causal; start-up is reported (startup_s > 0) and not part of wall_s.
# Env (set by CTest): HPOOL_BUILD, HPOOL_SRC, MPIEXEC, MPIEXEC_PREFLAGS.
set -u
BENCH="$HPOOL_BUILD/hpool-bench"
MPI="${MPIEXEC:-mpirun} ${MPIEXEC_PREFLAGS:-}"
YIELD=""
if "${MPIEXEC:-mpirun}" --version 2>/dev/null | grep -qE "Open MPI|OpenRTE"; then
    YIELD="--mca mpi_yield_when_idle 1"
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
fails=0 passes=0
check() { # check "what" command...
    local what=$1; shift
    if "$@"; then passes=$((passes + 1)); else echo "FAIL: $what" >&2; fails=$((fails + 1)); fi
}
cat > "$OUT/scale130.ini" <<'INI'
[experiment]
name = scale130
description = 129 workers: map with records, and futures
workload = cpu_sum
api = map, submit
tasks = 258
cost_ms = 0.2
schedule = fixed
chunksize = 1
workers = 129
repeat = 1
records = chunks
INI
export OMP_WAIT_POLICY=passive
timeout 240 $MPI -n 130 $YIELD "$BENCH" --quiet --no-plot --out "$OUT" "$OUT/scale130.ini" > "$OUT/log" 2>&1
rc=$?
check "hpool-bench at 130 ranks exits 0 (got $rc)" [ $rc -eq 0 ]
[ $rc -eq 0 ] || tail -20 "$OUT/log" >&2
R="$OUT/scale130/latest"   # each run is kept; latest is the newest
if [ -s "$R/runs.tsv" ]; then
    python3 - "$R" <<'PY'
import json, os, sys
d = sys.argv[1]
fails = passes = 0
def check(what, ok):
    global fails, passes
    if ok: passes += 1
    else: fails += 1; print("FAIL:", what)
def tsv(path):
    with open(path) as f:
        head = f.readline().rstrip("\n").split("\t")
        return [dict(zip(head, l.rstrip("\n").split("\t"))) for l in f if not l.startswith("#")]
runs = tsv(os.path.join(d, "runs.tsv"))
check("a map and a futures run", sorted(r["api"] for r in runs) == ["map", "submit"])
for r in runs:
    check("%s: 129 workers" % r["api"], int(r["workers"]) == 129)
    check("%s: start-up reported (%s s)" % (r["api"], r["startup_s"]), float(r["startup_s"]) > 0)
    check("%s: wall_s > 0" % r["api"], float(r["wall_s"]) > 0)
meta = json.load(open(os.path.join(d, "meta.json")))
pl = meta["placement"][0]
check("placement rows for all 130 ranks", sorted({r["rank"] for r in pl["rows"]}) == list(range(130)))
check("placement table text has every row", len(pl["table"].strip().splitlines()) == len(pl["rows"]) + 1)
check("meta.json: 130 ranks on the hosts", sum(len(h["ranks"]) for h in meta["hosts"]) == 130)
rows = tsv(os.path.join(d, "chunks.tsv"))
check("258 records per run, 2 runs (%d)" % len(rows), len(rows) == 516)
workers = {int(r["worker"]) for r in rows}
check("records from many workers (%d)" % len(workers), len(workers) >= 100 and max(workers) <= 129)
bad = 0
for r in rows:
    t = [float(r[k]) for k in ("t_submit", "t_dispatch", "t_recv", "t_start", "t_end", "t_result")]
    run_dir = os.path.join(d, "runs", r["run"])
    bad += not (t[0] <= t[1] + 2e-9 and t[2] <= t[3] + 2e-9 and t[3] <= t[4] + 2e-9)
check("worker-side and manager-side order exact in every record (%d bad)" % bad, bad == 0)
# The mapped times: within each run's worst rtt/2 from clock.tsv
for run in sorted(os.listdir(os.path.join(d, "runs"))):
    clk = {int(c["rank"]): c for c in tsv(os.path.join(d, "runs", run, "clock.tsv"))}
    check("run %s: clock rows for 129 workers" % run, len(clk) == 129)
    # One host, rank 0's: every worker reads rank 0's clock, found so by one check each.
    check("run %s: offsets 0 on rank 0's host" % run, all(float(c["offset_start"]) == 0 and float(c["offset_end"]) == 0 for c in clk.values()))
    bad = 0
    for r in rows:
        if r["run"] != run: continue
        c = clk[int(r["worker"])]
        s = max(float(c["rtt_start"]), float(c["rtt_end"])) / 2 + 2e-9
        bad += not (float(r["t_dispatch"]) <= float(r["t_recv"]) + s and float(r["t_end"]) <= float(r["t_result"]) + s)
    check("run %s: every record causal (%d bad)" % (run, bad), bad == 0)
print("scale130: %d checks passed, %d failed" % (passes, fails))
sys.exit(1 if fails else 0)
PY
    check "scale130 results" [ $? -eq 0 ]
fi

# More workers than ranks: --dry-run refuses before any work, naming file and line.
$MPI -n 2 "$BENCH" --dry-run "$OUT/scale130.ini" > "$OUT/dry.out" 2> "$OUT/dry.err"
rc=$?
check "--dry-run with 129 workers at 2 ranks exits 2 (got $rc)" [ $rc -eq 2 ]
check "--dry-run names the config line and the ranks needed" \
    grep -q "scale130.ini:[0-9]*.*129 workers need 130 MPI ranks" "$OUT/dry.err"
check "--dry-run printed no plan" [ ! -s "$OUT/dry.out" ]
echo "scale130.sh: $passes passed, $fails failed"
[ $fails -eq 0 ]
