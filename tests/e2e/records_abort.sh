#!/usr/bin/env bash
# A job that dies mid-run keeps its partial records, and an earlier complete result in
# the same directory stays untouched (docs/FORMATS.md, "Partial files").
#
# test_records --abort-after N DIR first writes a complete run (run 1, 20 items) into
# DIR, then starts run 2 there, whose worker calls _exit(3) at item N; mpirun then ends
# the job. Run 2's rows reach chunks.tsv.partial every half second, so with items of
# 2 ms and N = 600 at least one flush happened before the death.
# Env (set by CTest): HPOOL_BUILD, MPIEXEC, MPIEXEC_PREFLAGS.
set -u
build=${HPOOL_BUILD:?HPOOL_BUILD (the build directory) must be set}
mpiexec=${MPIEXEC:-mpirun}
prog="$build/tests/test_records"
[ -x "$prog" ] || { echo "records_abort: $prog not built"; exit 1; }
dir=$(mktemp -d /tmp/hpool_records_abort.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "records_abort: FAIL: $*"; ls -la "$dir"; exit 1; }

# shellcheck disable=SC2086 # MPIEXEC_PREFLAGS is a list of flags
timeout 60 "$mpiexec" -n 3 ${MPIEXEC_PREFLAGS:-} "$prog" --abort-after 600 "$dir" \
    >"$dir.log" 2>&1
rc=$?
cat "$dir.log"; rm -f "$dir.log"
[ "$rc" -ne 0 ] || fail "the job was meant to die but exited 0"
[ "$rc" -ne 124 ] || fail "the job hung until the timeout"

# Run 2 left its rows: header, >= 1 whole row of 13 fields, all of run 2, no footer,
# and never the item the worker died on.
part="$dir/chunks.tsv.partial"
[ -s "$part" ] || fail "no chunks.tsv.partial"
head -n1 "$part" | grep -q $'^run\tchunk\tschedule\tworker' || fail "partial header"
[ "$(tail -c1 "$part" | od -An -c | tr -d ' ')" = '\n' ] || fail "partial ends mid-row"
grep -q '^# complete' "$part" && fail "partial file has the complete footer"
awk -F'\t' 'NR > 1 {
        if (NF != 13 || $1 != 2) { bad = 1; print "bad row " NR ": " $0 }
        if ($5 <= 600 && $5 + $6 > 600) died = 1
        n++
    }
    END { if (bad || died || n < 1) exit 1; print "records_abort: run 2 left " n " rows" }' \
    "$part" || fail "partial rows"
[ -s "$dir/clock.tsv.partial" ] || fail "no clock.tsv.partial (start offsets)"
[ "$(wc -l <"$dir/clock.tsv.partial")" -eq 3 ] || fail "clock.tsv.partial: want 2 workers"

# Run 1's final files are intact: complete, run 1 only, 20 items.
c="$dir/chunks.tsv"
[ -s "$c" ] || fail "the earlier chunks.tsv is gone"
[ "$(tail -n1 "$c")" = "# complete" ] || fail "the earlier chunks.tsv lost its footer"
awk -F'\t' 'NR > 1 && !/^#/ { if ($1 != 1) exit 1; items += $6 }
    END { if (items != 20) exit 1 }' "$c" || fail "chunks.tsv is not run 1's"
[ "$(tail -n1 "$dir/clock.tsv")" = "# complete" ] || fail "clock.tsv replaced"
grep -q '"run":1,' "$dir/trace.json" || fail "trace.json is not run 1's"
ls "$dir"/.*.tmp >/dev/null 2>&1 && fail "temporary files left behind"
echo "records_abort: ok"
