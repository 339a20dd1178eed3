#!/usr/bin/env bash
# Run history and `hpool-bench compare / list / prune` on real runs (issue 18):
# two runs of a config keep both and `latest` names the newer; compare of a run against
# itself reports every ratio unresolved at 1.0; against a run whose tasks cost four times
# as much it reports the slowdown as resolved; --fail-if-slower exits 3 exactly then; a
# run killed mid-way never becomes `latest`; a results/NAME of the layout before history
# (files directly in it) is read by list, compare and --plot-only and is kept when NAME
# runs again; prune and --replace remove only what they are asked to.
# Env (set by CTest): HPOOL_BUILD, HPOOL_SRC, MPIEXEC, MPIEXEC_PREFLAGS.
set -u
BENCH="$HPOOL_BUILD/hpool-bench"
# Run by hand (not by CTest): the launcher scripts/common.sh selects.
if [ -z "${MPIEXEC:-}" ]; then
    source "$(dirname "$0")/../../scripts/common.sh"
    set +e +o pipefail
    MPIEXEC=$HPOOL_MPIEXEC MPIEXEC_PREFLAGS="${HPOOL_LAUNCH_FLAGS[*]}"
fi
MPI="${MPIEXEC:-mpirun} ${MPIEXEC_PREFLAGS:-}"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
fails=0 passes=0
check() { # check "what" command...
    local what=$1; shift
    if "$@"; then passes=$((passes + 1)); else echo "FAIL: $what" >&2; fails=$((fails + 1)); fi
}
runs_of() { ls -d "$OUT/$1"/[0-9]*T*Z-* 2>/dev/null | wc -l; }  # stamped runs kept
latest_of() { readlink "$OUT/$1/latest"; }
tsv_col() { # tsv_col FILE COLUMN: that column of every data row
    awk -F'\t' -v c="$2" 'NR==1 {for (i=1;i<=NF;i++) if ($i==c) k=i; next} /^#/ {next} $9!="A" {print $k}' "$1"
}
bench() { timeout 120 $MPI -n 2 "$BENCH" --quiet --no-plot --out "$OUT" "$@"; }

# Manager + 1 worker, 4 items of 5 ms, 8 repetitions: a second or two a run. The items
# sleep (io_sleep) instead of computing, so a loaded machine does not blur the 4x cost.
cat > "$OUT/hist.ini" <<'INI'
[experiment]
name = hist
workload = io_sleep
tasks = 4
cost_ms = 5
schedule = fixed
chunksize = 1
workers = 1
repeat = 8
records = none
serial_baseline = no
INI
sed 's/^cost_ms = 5/cost_ms = 20/' "$OUT/hist.ini" > "$OUT/slow.ini"

# 1. Two runs of the same config: both kept, latest is the second.
bench "$OUT/hist.ini"; check "first run exit status" [ $? -eq 0 ]
first=$(latest_of hist)
bench "$OUT/hist.ini"; check "second run exit status" [ $? -eq 0 ]
second=$(latest_of hist)
check "two runs kept" [ "$(runs_of hist)" -eq 2 ]
check "latest moved to the second run" [ -n "$second" -a "$first" != "$second" -a -d "$OUT/hist/$second" ]
check "the first run's files are still there" grep -q '^# complete' "$OUT/hist/$first/runs.tsv"
check "meta.json names the run, config hash and launcher" python3 -c '
import json, sys
m = json.load(open(sys.argv[1])); r = m["run"]
assert r["id"] == sys.argv[2] and len(r["config_hash"]) == 16 and r["launcher"] and r["hosts"]' \
    "$OUT/hist/$second/meta.json" "$second"

# 2. list: one line per kept run, the newest marked; once under mpirun too.
listing=$("$BENCH" list --out "$OUT")
check "list exit status" [ $? -eq 0 ]
check "list: hist has 2 runs" grep -q '^hist: 2 runs kept' <<<"$listing"
check "list marks latest" grep -q "$second .*<- latest" <<<"$listing"
check "list under mpirun prints once" \
    [ "$(timeout 60 $MPI -n 2 "$BENCH" list --out "$OUT" | grep -c '^hist:')" -eq 1 ]

# 3. A run against itself: every ratio 1.000, none resolved, --fail-if-slower 0 passes.
"$BENCH" compare --out "$OUT" --quiet --fail-if-slower 0 --dest "$OUT/self" \
    "$OUT/hist/$second" "$OUT/hist/$second"
check "self compare exits 0 with --fail-if-slower 0" [ $? -eq 0 ]
check "self compare: ratios all 1" [ "$(tsv_col "$OUT/self/compare.tsv" ratio | sort -u)" = "1.000000" ]
check "self compare: nothing resolved" [ "$(tsv_col "$OUT/self/compare.tsv" status | sort -u)" = "unresolved" ]
check "self compare: figure" [ -s "$OUT/self/compare.png" ]
"$BENCH" compare --out "$OUT" --quiet --no-plot --dest "$OUT/last2" hist
check "compare NAME (its last two) exit 0" [ $? -eq 0 ]
check "compare NAME used the two kept runs" grep -q "$first" "$OUT/last2/compare.md"

# 4. Four times the cost per task: the slowdown is resolved and fails the guard.
bench "$OUT/slow.ini"; check "slow run exit status" [ $? -eq 0 ]
slow=$(latest_of hist)
"$BENCH" compare --out "$OUT" --quiet --no-plot --dest "$OUT/slower" --fail-if-slower 50 \
    "$OUT/hist/$second" "$OUT/hist/$slow" 2> "$OUT/slower.err"
check "resolved slowdown beyond 50%: exit 3" [ $? -eq 3 ]
check "the slowdown is named on stderr" grep -q 'slower than A (resolved' "$OUT/slower.err"
check "slowdown resolved in compare.tsv" [ "$(tsv_col "$OUT/slower/compare.tsv" status)" = "resolved" ]
check "ratio above 1.5" awk -v r="$(tsv_col "$OUT/slower/compare.tsv" ratio)" 'BEGIN {exit !(r > 1.5)}'
check "compare flags the config change" grep -q 'config hash' "$OUT/slower/compare.md"
"$BENCH" compare --out "$OUT" --quiet --no-plot --dest "$OUT/faster" --fail-if-slower 0 \
    "$OUT/hist/$slow" "$OUT/hist/$second"
check "a speed-up does not fail the guard" [ $? -eq 0 ]
"$BENCH" compare --out "$OUT" --quiet --no-plot --dest "$OUT/x" --fail-if-slower much hist 2>/dev/null
check "bad --fail-if-slower exits 2" [ $? -eq 2 ]

# 5. A run killed mid-way never becomes latest and is not listed as a run.
sed 's/^repeat = 8/repeat = 400/' "$OUT/hist.ini" > "$OUT/long.ini"
timeout 120 $MPI -n 2 "$BENCH" --quiet --no-plot --out "$OUT" "$OUT/long.ini" > /dev/null 2>&1 &
job=$!
for _ in $(seq 200); do
    sleep 0.1
    part=$(ls "$OUT"/hist/.incomplete-*/runs.tsv.partial 2>/dev/null | head -1)
    [ -n "$part" ] && [ "$(grep -vc '^impl' "$part")" -ge 2 ] && break
done
kill -TERM "$job" 2>/dev/null
wait "$job" 2>/dev/null
check "killed run left an incomplete directory" [ -n "$(ls -d "$OUT"/hist/.incomplete-* 2>/dev/null)" ]
check "latest unchanged by the killed run" [ "$(latest_of hist)" = "$slow" ]
check "killed run not among the kept runs" [ "$(runs_of hist)" -eq 3 ]
check "list mentions the incomplete run" grep -q 'incomplete' <<<"$("$BENCH" list --out "$OUT" hist)"

# 6. The layout before history: files directly in results/NAME.
mkdir -p "$OUT/old"
cp -r "$OUT/hist/$first"/. "$OUT/old/"
sum_old=$(md5sum < "$OUT/old/runs.tsv")
check "old layout listed" grep -q '(old layout)' <<<"$("$BENCH" list --out "$OUT" old)"
"$BENCH" --plot-only "$OUT/old" --quiet
check "old layout: --plot-only rewrites its report" [ -s "$OUT/old/report.md" ]
sed 's/^name = hist/name = old/' "$OUT/hist.ini" > "$OUT/old.ini"
bench "$OUT/old.ini"; check "new run next to an old layout" [ $? -eq 0 ]
check "old layout files kept" [ "$(md5sum < "$OUT/old/runs.tsv")" = "$sum_old" ]
"$BENCH" compare --out "$OUT" --quiet --no-plot --dest "$OUT/oldcmp" old
check "compare old layout against the new run" [ $? -eq 0 ]
check "compare used the old layout as A" grep -q "| A | $OUT/old |" "$OUT/oldcmp/compare.md"

# 7. prune keeps the newest K; --replace keeps only the new run; bad counts exit 2.
"$BENCH" prune --out "$OUT" hist --keep 0 2>/dev/null
check "prune --keep 0 exits 2" [ $? -eq 2 ]
"$BENCH" prune --out "$OUT" hist --keep 2 > /dev/null
check "prune --keep 2" [ "$(runs_of hist)" -eq 2 -a -d "$OUT/hist/$slow" ]
check "prune left the incomplete run" [ -n "$(ls -d "$OUT"/hist/.incomplete-* 2>/dev/null)" ]
timeout 120 $MPI -n 2 "$BENCH" --quiet --no-plot --replace --out "$OUT" "$OUT/hist.ini"
check "--replace exit status" [ $? -eq 0 ]
check "--replace keeps only the new run" [ "$(runs_of hist)" -eq 1 -a -d "$OUT/hist/$(latest_of hist)" ]

echo "bench_history: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
