#!/usr/bin/env bash
# A job that dies mid-run keeps its partial records, and an earlier complete result in
# the same directory stays untouched (docs/FORMATS.md, "Partial files").
#
# test_records --abort-after N DIR first writes a complete run (run 1, 20 items) into
# DIR, then starts run 2 there, whose worker calls _exit(3) at item N; mpirun then ends
# the job. Run 2's records reach chunks.partial every half second, so with items of 2 ms
# and N = 600 at least one write happened before the death. test_records
# --check-partial N DIR then reads chunks.partial by the documented binary layout.
# Env (set by CTest): HPOOL_BUILD, MPIEXEC, MPIEXEC_PREFLAGS.
set -u
# Run by hand (not by CTest): the launcher scripts/common.sh selects.
if [ -z "${MPIEXEC:-}" ]; then
    source "$(dirname "$0")/../../scripts/common.sh"
    set +e +o pipefail
    MPIEXEC=$HPOOL_MPIEXEC MPIEXEC_PREFLAGS="${HPOOL_LAUNCH_FLAGS[*]}"
fi
build=${HPOOL_BUILD:?HPOOL_BUILD (the build directory) must be set}
mpiexec=${MPIEXEC:-mpirun}
prog="$build/tests/test_records"
[ -x "$prog" ] || { echo "records_abort: $prog not built"; exit 1; }
dir=$(mktemp -d /tmp/hpool_records_abort.XXXXXX)
trap 'rm -rf "$dir" "$dir.log"' EXIT
fail() { echo "records_abort: FAIL: $*"; ls -la "$dir"; exit 1; }

# shellcheck disable=SC2086 # MPIEXEC_PREFLAGS is a list of flags
timeout 60 "$mpiexec" -n 3 ${MPIEXEC_PREFLAGS:-} "$prog" --abort-after 600 "$dir" \
    >"$dir.log" 2>&1
rc=$?
cat "$dir.log"
[ "$rc" -ne 0 ] || fail "the job was meant to die but exited 0"
[ "$rc" -ne 124 ] || fail "the job hung until the timeout"
grep -q "complete run 1 written" "$dir.log" || fail "run 1 did not complete"

# Run 2 left its records (checked by the program, same rank count for the rank checks),
# never renamed into a final file.
[ -s "$dir/chunks.partial" ] || fail "no chunks.partial"
[ -s "$dir/clock.tsv.partial" ] || fail "no clock.tsv.partial (start offsets)"
# shellcheck disable=SC2086
timeout 60 "$mpiexec" -n 3 ${MPIEXEC_PREFLAGS:-} "$prog" --check-partial 600 "$dir" ||
    fail "chunks.partial is not what run 2 wrote"

# Run 1's final files are intact: complete, run 1 only, 20 items.
c="$dir/chunks.tsv"
[ -s "$c" ] || fail "the earlier chunks.tsv is gone"
[ "$(tail -n1 "$c")" = "# complete" ] || fail "the earlier chunks.tsv lost its footer"
awk -F'\t' 'NR > 1 && !/^#/ { if ($1 != 1) exit 1; items += $6 }
    END { if (items != 20) exit 1 }' "$c" || fail "chunks.tsv is not run 1's"
[ "$(tail -n1 "$dir/clock.tsv")" = "# complete" ] || fail "clock.tsv replaced"
grep -q '"otherData":{"run":1,' "$dir/trace.json" || fail "trace.json is not run 1's"
ls "$dir"/.*.tmp >/dev/null 2>&1 && fail "temporary files left behind"
echo "records_abort: ok"
