#!/usr/bin/env bash
# Records at scale (docs/FORMATS.md): an OTF2 trace of seed-hybrid (5 ranks, spans of
# 1, 2 and 5 OpenMP threads) reads back with otf2-print and the OTF2 Python reader and
# matches the TSVs to the nanosecond (otf2_check.py); a 20000-call-item run with
# trace_max_events = 1000 and trace_gzip writes a bounded trace.json.gz that says what
# it left out, and an OTF2 trace with all 20000. Without OTF2 in the build, the OTF2 half is skipped (hpool-bench says so).
# Env (set by CTest): HPOOL_BUILD, HPOOL_SRC, MPIEXEC, MPIEXEC_PREFLAGS.
set -u
BENCH="$HPOOL_BUILD/hpool-bench"
MPI="${MPIEXEC:-mpirun} ${MPIEXEC_PREFLAGS:-}"
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
fails=0 passes=0
check() { # check "what" command...
    local what=$1; shift
    if "$@"; then passes=$((passes + 1)); else echo "FAIL: $what" >&2; fails=$((fails + 1)); fi
}

# 1. OTF2 of a seed run
if "$BENCH" --version | grep -q "OTF2 on"; then
    timeout 240 $MPI -n 5 "$BENCH" --quiet --no-plot --otf2 --out "$OUT" \
        "$HPOOL_SRC/configs/seed-hybrid.ini"
    check "seed-hybrid --otf2 exit status" [ $? -eq 0 ]
    R="$OUT/seed-hybrid/latest"
    for run in "$R"/runs/*; do
        anchor="$run/otf2/traces.otf2"
        check "$anchor exists" [ -s "$anchor" ]
        # otf2-print: every event, as many as the TSVs promise (3 on the manager and 4 on
        # the worker per call item, 2 per span)
        n_events=$(otf2-print "$anchor" | grep -cE '^(ENTER|LEAVE|MPI_SEND|MPI_RECV|PARAMETER_UINT64) ')
        n_chunks=$(grep -v '^#' "$run/chunks.tsv" | tail -n +2 | wc -l)
        n_spans=$(grep -v '^#' "$run/spans.tsv" | tail -n +2 | wc -l)
        check "$run: otf2-print shows $((7 * n_chunks + 2 * n_spans)) events (got $n_events)" \
            [ "$n_events" -eq $((7 * n_chunks + 2 * n_spans)) ]
        check "$run: otf2-print -G shows the host and the clock" \
            bash -c "otf2-print -G '$anchor' | grep -q 'Ticks per Seconds: 1000000000' &&
                     otf2-print -G '$anchor' | grep -q '^SYSTEM_TREE_NODE .*Class: \"node\"'"
    done
    check "OTF2 matches chunks.tsv / spans.tsv (Python reader)" /usr/bin/python3 "$HERE/otf2_check.py" "$R"
else
    echo "OTF2 is off in this build: OTF2 checks skipped"
    "$BENCH" --version
fi

# 2. a bounded, gzipped trace.json
cat > "$OUT/bounded.ini" <<'INI'
[experiment]
name = bounded
workload = empty
tasks = 20000
chunksize = 1
workers = 2
serial_baseline = false
trace_max_events = 1000
trace_gzip = true
otf2 = true
INI
timeout 240 $MPI -n 3 "$BENCH" --quiet --no-plot --out "$OUT" "$OUT/bounded.ini"
check "bounded exit status" [ $? -eq 0 ]
B="$OUT/bounded/latest"
check "trace.json.gz written, no trace.json" [ -s "$B/trace.json.gz" -a ! -e "$B/trace.json" ]
check "chunks.tsv keeps all 20000 call items" \
    [ "$(grep -v '^#' "$B/chunks.tsv" | tail -n +2 | wc -l)" -eq 20000 ]
check "trace.json.gz: at most 1000 events, the left-out count and the full records named" \
    /usr/bin/python3 - "$B/trace.json.gz" <<'PY'
import gzip, json, sys
doc = json.load(gzip.open(sys.argv[1]))
x = [e for e in doc["traceEvents"] if e["ph"] == "X"]
o = doc["otherData"]
run = o["run_data"][0]
print("bounded: %d of %d call items in trace.json.gz, %d left out" % (len(x), run["chunks_total"], o["events_left_out"]))
ok = 0 < len(x) <= 1000 and o["events_left_out"] == 20000 - len(x) and \
     run["chunks_total"] == 20000 and run["max_events"] == 1000 and "chunks.tsv" in o["full_records"]
sys.exit(0 if ok else 1)
PY

if "$BENCH" --version | grep -q "OTF2 on"; then
    # 20000 call items over 2 workers with prefetch: receives interleave with the runs
    check "bounded: OTF2 matches chunks.tsv (Python reader)" /usr/bin/python3 "$HERE/otf2_check.py" "$B"
fi

echo "otf2_trace: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
