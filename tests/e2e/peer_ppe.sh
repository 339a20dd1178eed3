#!/usr/bin/env bash
# peer_ppe.sh: runs bench/peers/ppe.py on a tiny sweep and checks the runs.tsv it
# appends: header = the runs.tsv columns of docs/FORMATS.md, one row per recorded run
# with the right field count and values, a second invocation appends without a second
# header, and --complete ends the file with "# complete". Exits non-zero on failure.
set -euo pipefail

src="${HPOOL_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}"
ppe="$src/bench/peers/ppe.py"
python="${PYTHON:-python3}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
out="$tmp/results/peer/runs.tsv"
mkdir -p "$(dirname "$out")"

fail() { echo "peer_ppe: FAIL: $*" >&2; exit 1; }

# 2 workers, 20 tasks: 2 chunksizes x 2 repeats = 4 rows, then 2 more from a second call.
"$python" "$ppe" --out "$out" --experiment peer --workload cpu_sum --tasks 20 \
    --cost-ms 1 --api map --chunksize 1,4 --workers 2 --repeat 2 --warmup 1 --seed 1 \
    --run-base 100 --quiet || fail "ppe.py (map) exited with $?"
"$python" "$ppe" --out "$out" --experiment peer --workload random --tasks 20 \
    --iterations 2000 --api as_completed --chunksize 1 --workers 2 --repeat 2 \
    --run-base 104 --complete --quiet || fail "ppe.py (as_completed) exited with $?"

expected="impl experiment run workload api schedule schedule_used chunksize workers threads tasks rep wall_s tasks_per_s serial_s speedup efficiency imbalance manager_cpu_s bytes_moved chunks"
header="$(head -n 1 "$out" | tr '\t' ' ')"
[ "$header" = "$expected" ] || fail "header is '$header'"

awk -F'\t' -v want=6 '
    NR == 1 { ncol = NF; next }
    /^#/ { last_comment = $0; next }
    {
        rows++
        if (NF != ncol) { print "line " NR ": " NF " fields, expected " ncol; bad = 1 }
        if ($1 != "python-ppe") { print "line " NR ": impl " $1; bad = 1 }
        if ($2 != "peer") { print "line " NR ": experiment " $2; bad = 1 }
        if ($3 != 99 + rows) { print "line " NR ": run " $3 ", expected " 99 + rows; bad = 1 }
        if ($6 != "fixed" || $7 != "fixed") { print "line " NR ": schedule " $6 "/" $7; bad = 1 }
        if ($9 != 2 || $10 != 1 || $11 != 20) { print "line " NR ": workers/threads/tasks"; bad = 1 }
        if (!($13 > 0)) { print "line " NR ": wall_s " $13; bad = 1 }
        if ($14 + 0 < 0.99 * $11 / $13 || $14 + 0 > 1.01 * $11 / $13) { print "line " NR ": tasks_per_s"; bad = 1 }
        if (!($15 > 0) || !($16 > 0)) { print "line " NR ": serial_s/speedup " $15 "/" $16; bad = 1 }
        if (!($18 >= 1)) { print "line " NR ": imbalance " $18; bad = 1 }
        if (!($20 > 0)) { print "line " NR ": bytes_moved " $20; bad = 1 }
        if ($4 == "cpu_sum" && $21 != ($8 == 1 ? 20 : 5)) { print "line " NR ": chunks " $21; bad = 1 }
        if ($4 == "random" && $21 != 20) { print "line " NR ": chunks " $21; bad = 1 }
    }
    NR > 1 && /^impl\t/ { print "second header at line " NR; bad = 1 }
    END {
        if (rows != want) { print rows " rows, expected " want; bad = 1 }
        if (last_comment != "# complete") { print "no # complete line"; bad = 1 }
        exit bad
    }' "$out" || fail "runs.tsv check failed:"
[ "$(tail -n 1 "$out")" = "# complete" ] || fail "last line is not '# complete'"

# A file with another header must be refused, not appended to.
printf 'not\tthe\theader\n' > "$tmp/other.tsv"
if "$python" "$ppe" --out "$tmp/other.tsv" --experiment x --workload empty --tasks 2 \
    --workers 1 --quiet 2>/dev/null; then
    fail "ppe.py appended to a file with a different header"
fi
[ "$(wc -l < "$tmp/other.tsv")" -eq 1 ] || fail "the foreign file was modified"

# hpool-only workloads are skipped with a warning, unknown ones are usage errors.
"$python" "$ppe" --out "$tmp/x.tsv" --experiment x --workload hybrid,empty --tasks 4 \
    --workers 1 --quiet 2> "$tmp/skip.err" || fail "ppe.py failed on an hpool-only workload"
grep -q "skipping workload hybrid" "$tmp/skip.err" || fail "no warning for hybrid"
[ "$(grep -vc '^#' "$tmp/x.tsv")" -eq 2 ] || fail "expected header + 1 empty-workload row"
if "$python" "$ppe" --out "$tmp/y.tsv" --experiment x --workload nosuch --quiet 2>/dev/null; then
    fail "ppe.py accepted the unknown workload nosuch"
fi

echo "peer_ppe: ok ($(grep -vc '^#' "$out") lines in runs.tsv)"
