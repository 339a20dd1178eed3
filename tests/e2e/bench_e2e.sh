#!/usr/bin/env bash
# hpool-bench end to end under the MPI launcher: seed-chunksize and a tiny sweep; every output file
# is checked (columns, row counts, valid JSON, non-empty PNGs); --plot-only re-renders from
# saved data; a bad config exits 2 and leaves an earlier good result untouched; workers
# beyond the launched ranks exit 2 before anything runs.
# Env (set by CTest): HPOOL_BUILD, HPOOL_SRC, MPIEXEC, MPIEXEC_PREFLAGS.
set -u
# Run by hand (not by CTest): the launcher scripts/common.sh selects.
if [ -z "${MPIEXEC:-}" ]; then
    source "$(dirname "$0")/../../scripts/common.sh"
    set +e +o pipefail
    MPIEXEC=$HPOOL_MPIEXEC MPIEXEC_PREFLAGS="${HPOOL_LAUNCH_FLAGS[*]}"
fi
BENCH="$HPOOL_BUILD/hpool-bench"
MPI="${MPIEXEC:-mpirun} ${MPIEXEC_PREFLAGS:-}"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
fails=0 passes=0
check() { # check "what" command...
    local what=$1; shift
    if "$@"; then passes=$((passes + 1)); else echo "FAIL: $what" >&2; fails=$((fails + 1)); fi
}
rows() { grep -v '^#' "$1" | tail -n +2 | wc -l; }         # data rows of a TSV
cols_ok() { # every row of $1 has as many fields as its header
    awk -F'\t' '/^#/ {next} NR==1 || n==0 {n=NF; next} NF!=n {bad=1} END {exit bad}' "$1"
}
png_ok() { [ -s "$1" ] && [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }
# Every call item's times in order: dispatch <= recv <= start <= end <= result. Worker
# times are mapped onto rank 0's clock with an error of at most max(rtt_start, rtt_end)/2
# of that worker in that run (runs/RUN/clock.tsv, FORMATS.md): the crossings between the
# two clocks may be off by that much and no more; a worker's own times keep their exact
# order. No fixed slack: a 1 ms shift of any time is caught unless the clocks' own error
# is that large.
causal() {
    awk -F'\t' '
        FNR == 1 { file++ }
        FILENAME ~ /clock\.tsv$/ {
            if (FNR == 1 || /^#/) next
            n = split(FILENAME, p, "/"); run = p[n - 1]
            e = ($6 == "nan" || $3 > $6) ? $3 : $6
            if ($3 == "nan") e = "nan"
            err[run, $1] = e / 2; next
        }
        FNR == 1 || /^#/ { next }
        {
            b = err[$1, $4]
            if (b == "" || b == "nan") { print "no clock map for run " $1 " rank " $4; bad = 1; next }
            if (!($8 <= $9 + b && $9 <= $10 && $10 <= $11 && $11 <= $12 + b)) {
                print "not causal (clock error " b " s): " $0; bad = 1
            }
        }
        END { exit bad }' "$1"/runs/*/clock.tsv "$1/chunks.tsv"
}
json_ok() { python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1"; }

# 1. seed-chunksize: 24 tasks on 4 workers, chunksize 3 and 1, 3 repetitions each.
timeout 240 $MPI -n 5 "$BENCH" --quiet --out "$OUT" "$HPOOL_SRC/configs/seed-chunksize.ini"
check "seed-chunksize exit status" [ $? -eq 0 ]
R="$OUT/seed-chunksize/latest"   # each run is kept; latest is the newest
for f in runs.tsv summary.tsv chunks.tsv trace.json meta.json report.md timeline.png chunksize.png; do
    check "seed-chunksize has $f" [ -s "$R/$f" ]
done
check "runs.tsv: 2 combinations x 3 reps" [ "$(rows "$R/runs.tsv")" -eq 6 ]
check "runs.tsv columns" cols_ok "$R/runs.tsv"
check "runs.tsv header" grep -q $'^impl\texperiment\trun\tworkload' "$R/runs.tsv"
check "summary.tsv: 2 rows" [ "$(rows "$R/summary.tsv")" -eq 2 ]
check "summary.tsv columns" cols_ok "$R/summary.tsv"
# chunksize 3 -> 8 chunks of 3, chunksize 1 -> 24 chunks; 3 reps each.
check "chunks.tsv: (8+24)*3 call items" [ "$(rows "$R/chunks.tsv")" -eq 96 ]
check "chunks.tsv columns" cols_ok "$R/chunks.tsv"
check "chunks.tsv complete" grep -q '^# complete' "$R/chunks.tsv"
check "chunk sizes are 3 in the chunksize-3 runs" \
    awk -F'\t' 'NR>1 && !/^#/ && $1<3 && $6!=3 {bad=1} END {exit bad}' "$R/chunks.tsv"
check "causal timeline" causal "$R"
check "trace.json valid" json_ok "$R/trace.json"
check "meta.json valid" json_ok "$R/meta.json"
check "timeline.png" png_ok "$R/timeline.png"
check "chunksize.png" png_ok "$R/chunksize.png"
check "report quotes the summary" grep -q 'seed-chunksize' "$R/report.md"

# 2. A tiny sweep: 2 schedules x 2 chunk sizes x 2 repetitions, spans recorded.
cat > "$OUT/tiny.ini" <<'INI'
[experiment]
name = tiny
workload = hybrid
tasks = 12
cost_ms = 1
schedule = fixed, guided
chunksize = 1, 2
workers = 2
threads = 2
repeat = 2
records = spans
[hybrid]
inner_items = 3
inner_ms = 1
INI
place=$(timeout 240 $MPI -n 3 "$BENCH" --quiet --report-placement --out "$OUT" "$OUT/tiny.ini")
check "tiny exit status" [ $? -eq 0 ]
check "--report-placement prints the table" grep -q "^host rank thread" <<<"$place"
check "placement: manager + 2 workers x 2 threads" \
    [ "$(grep -cE '^[^ ]+ +[0-9]+ +(mgr|[0-9]+) ' <<<"$place")" -eq 5 ]
check "meta.json keeps the placement" \
    python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); assert len(m["placement"][0]["rows"]) == 5' "$OUT/tiny/latest/meta.json"
T="$OUT/tiny/latest"
check "tiny runs.tsv: 8 rows" [ "$(rows "$T/runs.tsv")" -eq 8 ]
check "tiny summary.tsv: 4 rows" [ "$(rows "$T/summary.tsv")" -eq 4 ]
check "tiny spans.tsv: 12 tasks x 3 inner x 8 runs" [ "$(rows "$T/spans.tsv")" -eq 288 ]
check "tiny spans.tsv columns" cols_ok "$T/spans.tsv"
check "tiny schedules.png" png_ok "$T/schedules.png"
check "tiny chunksize.png" png_ok "$T/chunksize.png"
check "tiny trace.json valid" json_ok "$T/trace.json"

# 3. --plot-only re-renders from saved data.
rm -f "$T"/*.png "$T"/*.svg "$T/report.md"
"$BENCH" --plot-only "$T" --quiet
check "--plot-only exit status" [ $? -eq 0 ]
check "--plot-only timeline" png_ok "$T/timeline.png"
check "--plot-only report" [ -s "$T/report.md" ]

# 4. A bad config exits 2 before anything runs, naming file and line; results untouched.
sum_before=$(cat "$T/runs.tsv" | md5sum)
printf '[experiment]\nname = tiny\nworkload = cpu_sum\ntasks = 12\ncost_ms = 1\nworkers = 2\nchunksize = 1, zero\n' > "$OUT/bad.ini"
msg=$(timeout 60 $MPI -n 3 "$BENCH" --quiet --out "$OUT" "$OUT/bad.ini" 2>&1)
check "bad config exit status 2" [ $? -eq 2 ]
check "bad config message names file:line" grep -q "bad.ini:7:" <<<"$msg"
check "earlier result untouched" [ "$(cat "$T/runs.tsv" | md5sum)" = "$sum_before" ]

# 5. More workers than launched ranks: exit 2, message with the line of `workers`.
sed 's/^workers = 2/workers = 4/' "$OUT/tiny.ini" > "$OUT/toomany.ini"
msg=$(timeout 60 $MPI -n 3 "$BENCH" --quiet --out "$OUT" "$OUT/toomany.ini" 2>&1)
check "too many workers exit 2" [ $? -eq 2 ]
check "too many workers names the key" grep -q "workers" <<<"$msg"

# 6. --dry-run lists the planned runs; --help and --version answer.
plan=$(timeout 60 $MPI -n 3 "$BENCH" --dry-run "$OUT/tiny.ini")
check "--dry-run lists 4 combinations" [ "$(grep -c 'workload=hybrid' <<<"$plan")" -eq 4 ]
check "--help" "$BENCH" --help >/dev/null
check "--version" "$BENCH" --version >/dev/null
"$BENCH" --no-such-option >/dev/null 2>&1
check "unknown option exit 2" [ $? -eq 2 ]

echo "bench_e2e: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
