#!/usr/bin/env bash
# configs/schedules-all.ini at a small size (its copy with fewer tasks, two workloads,
# one chunksize, one repetition): every schedule runs under mpirun with correct results
# (hpool-bench fails otherwise), runs.tsv has all sixteen, model.tsv predicts a
# chunksize, report.md ranks simulated against measured and says what auto picked, the
# mpi4py peer ran (or said why not), and `hpool-bench simulate` replays chunks.tsv
# without MPI, refusing bad input with exit status 2.
# Env (set by CTest): HPOOL_BUILD, HPOOL_SRC, MPIEXEC, MPIEXEC_PREFLAGS.
set -u
BENCH="$HPOOL_BUILD/hpool-bench"
MPI="${MPIEXEC:-mpirun} ${MPIEXEC_PREFLAGS:-}"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
fails=0 passes=0
check() { # check "what" command...
    local what=$1; shift
    if "$@"; then passes=$((passes + 1)); else echo "FAIL: $what" >&2; fails=$((fails + 1)); fi
}
rows() { grep -v '^#' "$1" | tail -n +2 | wc -l; }

sed -e 's/^name = .*/name = schedules-small/' -e 's/^tasks = .*/tasks = 240/' \
    -e 's/^cost_ms = .*/cost_ms = 0.05/' -e 's/^workload = .*/workload = increasing, heterogeneous/' \
    -e 's/^chunksize = .*/chunksize = 2/' -e 's/^repeat = .*/repeat = 1/' \
    "$HPOOL_SRC/configs/schedules-all.ini" > "$OUT/schedules-small.ini"
timeout 240 $MPI -n 3 "$BENCH" --quiet --no-plot --out "$OUT" "$OUT/schedules-small.ini" \
    > "$OUT/stdout" 2>&1
rc=$?
check "hpool-bench exit status ($rc)" [ $rc -eq 0 ]
[ $rc -eq 0 ] || cat "$OUT/stdout" >&2
R="$OUT/schedules-small/latest"
for s in fixed static ss fsc mfsc guided trapezoid factoring wf awf awf-b awf-c awf-d awf-e af auto; do
    n=$(awk -F'\t' -v s="$s" '$1 == "hpool" && $6 == s' "$R/runs.tsv" | wc -l)
    check "runs.tsv: $s on both workloads" [ "$n" -eq 2 ]
done
check "auto resolved to a schedule of its own" \
    awk -F'\t' '$1 == "hpool" && $6 == "auto" && $7 == "auto" {bad = 1} END {exit bad}' "$R/runs.tsv"
check "model.tsv: increasing has a predicted chunksize" \
    awk -F'\t' '$1 == "increasing" && $7 > 0 && $4 > 0 {ok = 1} END {exit !ok}' "$R/model.tsv"
check "report: predicted vs measured chunksize" grep -q '^## Chunksize: the model' "$R/report.md"
check "report: simulated vs measured ranking" grep -q '^## Schedules: simulated and measured' "$R/report.md"
check "report: auto's pick, both workloads" [ "$(grep -c 'auto picked' "$R/report.md")" -eq 2 ]
check "report: every schedule ranked with a prediction" \
    [ "$(grep -cE '^\| [a-z-]+ \| [0-9.e-]+ \| 2 \| [0-9.]+ \| [0-9]+ \| [0-9.e-]+ \|' "$R/report.md")" -ge 32 ]
if /usr/bin/python3 -c 'import mpi4py' 2>/dev/null; then
    check "mpi4py peer rows" [ "$(awk -F'\t' '$1 == "mpi4py"' "$R/runs.tsv" | wc -l)" -eq 1 ]
else
    check "mpi4py skipped with a reason" grep -q 'peer mpi4py skipped' "$OUT/stdout"
fi
check "python-ppe peer rows (increasing only)" \
    [ "$(awk -F'\t' '$1 == "python-ppe"' "$R/runs.tsv" | wc -l)" -eq 1 ]

# auto replaying a previous run's chunks.tsv (schedule_model): decided before the map
# starts, so schedule_used names the pick; a missing file is a config error (exit 2,
# file and line named) before anything runs.
cat > "$OUT/replay.ini" <<INI
[experiment]
name = replay
workload = increasing
tasks = 240
cost_ms = 0.05
schedule = auto
chunksize = 2
workers = 2
schedule_model = $R/chunks.tsv
INI
timeout 120 $MPI -n 3 "$BENCH" --quiet --no-plot --out "$OUT" "$OUT/replay.ini" > "$OUT/replay.log" 2>&1
check "replay exit status" [ $? -eq 0 ]
check "replay: auto ran the simulated pick" \
    awk -F'\t' '$1 == "hpool" && $6 == "auto" && $7 != "auto" {ok = 1} END {exit !ok}' "$OUT/replay/latest/runs.tsv"
sed -e "s|^schedule_model = .*|schedule_model = $OUT/none.tsv|" "$OUT/replay.ini" > "$OUT/bad.ini"
timeout 120 $MPI -n 3 "$BENCH" --quiet --no-plot --out "$OUT" "$OUT/bad.ini" > "$OUT/bad.log" 2>&1
check "missing schedule_model exits 2" [ $? -eq 2 ]
check "missing schedule_model: file, line and value named" \
    grep -q "bad.ini:9: \[experiment\] schedule_model = '$OUT/none.tsv': .*absent" "$OUT/bad.log"

# The simulator as a command, no MPI: 15 ranked schedules.
"$BENCH" simulate --chunksize 1,2,8 "$R/chunks.tsv" > "$OUT/sim" 2>&1
check "simulate exit status" [ $? -eq 0 ]
check "simulate ranks 15 schedules" \
    [ "$(grep -cE '^[0-9]+'$'\t''[a-z-]+'$'\t' "$OUT/sim")" -eq 15 ]
"$BENCH" simulate "$OUT/absent.tsv" 2> "$OUT/err"
check "simulate: absent file exits 2" [ $? -eq 2 ]
check "simulate: message names the file" grep -q 'absent.tsv' "$OUT/err"
printf 'run\tworker\n1\tx\n' > "$OUT/bad.tsv"
"$BENCH" simulate "$OUT/bad.tsv" 2> "$OUT/err"
check "simulate: malformed file exits 2" [ $? -eq 2 ]
"$BENCH" simulate --chunksize 0 "$R/chunks.tsv" 2> "$OUT/err"
check "simulate: bad option value exits 2" [ $? -eq 2 ]

echo "schedules_all: $passes passed, $fails failed"
[ $fails -eq 0 ]
