#!/usr/bin/env bash
# Three hosts simulated on one machine (Open MPI): a hostfile with hpool-sim1..3, names that
# resolve to 127.0.1.1-3 (added to /etc/hosts when missing; the suite runs as root), and an
# rsh agent (scripts/fake-rsh.sh) that starts each host's daemon in its own UTS namespace
# with that host name and a clean environment. Two ranks a host: rank 0 (manager) and 1 on
# sim1, 2-3 on sim2, 4-5 on sim3. The clocks of sim2 and sim3 are skewed (offset and drift,
# HPOOL_TEST_CLOCK_SKEW=@HOST:...), as another host's clock would be, and rank 5 has a clock
# of its own besides (it must be found out and synced on its own).
# A seed-like map with records runs across them (hpool-bench); asserted:
#   - the placement table and meta.json's hosts show three distinct hosts, each rank on
#     the host its slot says;
#   - clocks are synced per host: the offsets recovered for each rank are within half the
#     measured round trip of the injected truth; ranks 2 and 3 share one sync, rank 5 has
#     its own; rank 1 (rank 0's host) has offset 0;
#   - every record of chunks.tsv is causal (rank 0's clock), within each rank's rtt/2;
#   - placement is judged per host: no warning joins ranks of two hosts, none counts more
#     threads on a host than that host runs.
# Env (set by CTest): HPOOL_BUILD, HPOOL_SRC, MPIEXEC.
set -u
if ! "${MPIEXEC:-mpirun}" --version 2>/dev/null | grep -qE "Open MPI|OpenRTE"; then
    echo "SKIP: needs Open MPI's rsh launcher (plm_rsh_agent)"; exit 77
fi
if ! unshare --uts true 2>/dev/null; then
    echo "SKIP: cannot create a UTS namespace (unshare --uts; run as root)"; exit 77
fi
for i in 1 2 3; do
    if ! getent hosts "hpool-sim$i" | grep -q "^127\.0\.1\.$i "; then
        if [ -w /etc/hosts ]; then
            echo "127.0.1.$i hpool-sim$i" >> /etc/hosts
        else
            echo "SKIP: hpool-sim$i must resolve to 127.0.1.$i (/etc/hosts is not writable)"; exit 77
        fi
    fi
done
BENCH="$HPOOL_BUILD/hpool-bench"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
printf 'hpool-sim1 slots=2\nhpool-sim2 slots=2\nhpool-sim3 slots=2\n' > "$OUT/hostfile"
cat > "$OUT/hosts3.ini" <<'INI'
[experiment]
name = hosts3
description = seed-like map over three simulated hosts
workload = cpu_sum
api = map
tasks = 40
cost_ms = 2
schedule = fixed
chunksize = 1
workers = 5
repeat = 1
records = chunks
INI
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
SKEW="@hpool-sim2:1.5:2e-5,@hpool-sim3:-0.75:-3e-5,5:0.3:1e-5"
# The simulated hosts start with a clean environment: what the ranks need goes with -x,
# sanitizer settings of an instrumented build included.
FWD=()
for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS TSAN_OPTIONS; do
    [ -n "${!v:-}" ] && FWD+=(-x "$v")
done
timeout 200 "${MPIEXEC:-mpirun}" --hostfile "$OUT/hostfile" -n 6 \
    --mca plm_rsh_agent "$HPOOL_SRC/scripts/fake-rsh.sh" --mca btl tcp,vader,self \
    -x OMP_WAIT_POLICY=passive -x HPOOL_TEST_CLOCK_SKEW="$SKEW" "${FWD[@]}" \
    "$BENCH" --quiet --no-plot --out "$OUT" "$OUT/hosts3.ini" > "$OUT/log" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
    cat "$OUT/log"; echo "FAIL: hpool-bench over 3 hosts exited $rc"; exit 1
fi
python3 - "$OUT/hosts3/latest" "$SKEW" <<'PY'
import json, sys, os, re
d, skew = sys.argv[1], sys.argv[2]
fails = passes = 0
def check(what, ok):
    global fails, passes
    if ok: passes += 1
    else: fails += 1; print("FAIL:", what)
want = {0: "hpool-sim1", 1: "hpool-sim1", 2: "hpool-sim2", 3: "hpool-sim2", 4: "hpool-sim3", 5: "hpool-sim3"}
meta = json.load(open(os.path.join(d, "meta.json")))
pl = meta["placement"][0]
rows = pl["rows"]
check("placement rows of every rank", sorted({r["rank"] for r in rows}) == list(range(6)))
check("three distinct hosts in the placement table", len({r["host"] for r in rows}) == 3)
for r in rows:
    check("rank %d on %s (placement says %s)" % (r["rank"], want[r["rank"]], r["host"]), r["host"] == want[r["rank"]])
hosts = {h["name"]: sorted(h["ranks"]) for h in meta["hosts"]}
check("meta.json hosts: %s" % hosts, hosts == {"hpool-sim1": [0, 1], "hpool-sim2": [2, 3], "hpool-sim3": [4, 5]})
check("every host described (cores, PUs, calibration)", all(h.get("pus", 0) > 0 and h.get("cpu_sum_iterations_per_ms", 0) > 0 for h in meta["hosts"]))
check("ranks saw the forwarded skew variable", all("HPOOL_TEST_CLOCK_SKEW" in g["env"] for g in meta["rank_env"]))
# Placement judged per host: each warning names one host, and no shared-core warning joins
# ranks of two hosts (the three simulated hosts share this machine's cores, which is not
# what their placement tables describe).
for line in pl["warnings"].splitlines():
    m = re.search(r"shared core: host (\S+) core \d+ runs threads of ranks ([\d ]+)", line)
    if m:
        check("shared-core warning within one host: " + line, all(want[int(x)] == m.group(1) for x in m.group(2).split()))
    m = re.search(r"host (\S+) runs (\d+) worker threads", line)
    if m:
        check("per-host thread count: " + line, int(m.group(2)) <= sum(1 for r in rows if r["host"] == m.group(1) and r["thread"] >= 0))
# Judged per host, two worker ranks on 2 PUs fit: no oversubscription or shared core is
# flagged (judged as one host, 5 workers on 2 PUs would be), and each host's two workers
# took different cores (local ranks from MPI, per host).
check("no placement warning: " + pl["warnings"].strip(), pl["warnings"].strip() == "")
check("no row flagged", all(r["flags"] & (1 | 2) == 0 for r in rows))
for a, b in ((2, 3), (4, 5)):
    ca = {r["core"] for r in rows if r["rank"] == a}; cb = {r["core"] for r in rows if r["rank"] == b}
    check("ranks %d and %d on different cores of their host (%s, %s)" % (a, b, ca, cb), ca.isdisjoint(cb))
# Clocks: truth per host from the injected skew (now*(1+drift)+off => offset -(off+drift*t)).
inj = {}
for e in skew.split(","):
    who, off, dr = e.split(":")
    inj[who[1:] if who.startswith("@") else int(who)] = (float(off), float(dr))
run = sorted(os.listdir(os.path.join(d, "runs")))[0]
clk = {}
with open(os.path.join(d, "runs", run, "clock.tsv")) as f:
    head = f.readline().rstrip("\n").split("\t")
    for line in f:
        if line.startswith("#"): continue
        v = dict(zip(head, line.rstrip("\n").split("\t")))
        clk[int(v["rank"])] = {k: float(x) for k, x in v.items()}
check("clock.tsv rows for ranks 1-5", sorted(clk) == [1, 2, 3, 4, 5])
worst = 0
for rank, c in clk.items():
    off, dr = inj.get(rank, inj.get(want[rank], (0.0, 0.0)))
    for k in ("start", "end"):
        t = c["t0"] + c["at_" + k]
        err = c["offset_" + k] - (-(off + dr * t))
        bound = c["rtt_" + k] / 2 * (1 + abs(dr)) + 2e-9
        worst = max(worst, abs(err) / bound if bound > 0 else 1e9)
        check("rank %d %s offset %.9f within rtt/2 = %.1f us of the truth (error %.1f us)" % (rank, k, c["offset_" + k], bound * 1e6, err * 1e6), abs(err) <= bound)
check("ranks 2 and 3 share one host sync", all(clk[2][k] == clk[3][k] for k in ("offset_start", "rtt_start", "offset_end", "rtt_end")))
check("rank 5, on a clock of its own, has its own sync", clk[5]["offset_start"] != clk[4]["offset_start"])
check("rank 1 reads rank 0's clock: offset 0", clk[1]["offset_start"] == 0 and clk[1]["offset_end"] == 0)
# Causality of every record, each within its worker's error bound.
n = 0
with open(os.path.join(d, "chunks.tsv")) as f:
    head = f.readline().rstrip("\n").split("\t")
    for line in f:
        if line.startswith("#"): continue
        v = dict(zip(head, line.rstrip("\n").split("\t")))
        w = int(v["worker"]); t = [float(v[k]) for k in ("t_submit", "t_dispatch", "t_recv", "t_start", "t_end", "t_result")]
        s = max(clk[w]["rtt_start"], clk[w]["rtt_end"]) / 2 + 2e-9
        ok = t[0] <= t[1] + 2e-9 and t[1] <= t[2] + s and t[2] <= t[3] + 2e-9 and t[3] <= t[4] + 2e-9 and t[4] <= t[5] + s
        check("causal record %s" % line.strip(), ok)
        n += 1
check("40 records", n == 40)
print("hosts3: %d checks passed, %d failed; %d records; worst clock error %.2f of its rtt/2 bound" % (passes, fails, n, worst))
sys.exit(1 if fails else 0)
PY
