#!/usr/bin/env bash
# bench/tools/dispatch_rate at a tiny size: it launches its raw-farm and hpool jobs over
# shared memory and TCP, checks every result, and prints a well-formed table. Not a
# speed test (issue 14's targets are judged by the full-size benchmark, not here).
# Env (set by CTest): HPOOL_BUILD, MPIEXEC, MPIEXEC_PREFLAGS, HPOOL_MPI_TCP_FLAGS.
set -u
build=${HPOOL_BUILD:?HPOOL_BUILD (the build directory) must be set}
prog="$build/bench/dispatch_rate"
[ -x "$prog" ] || { echo "dispatch_rate: $prog not built"; exit 1; }
out=$(mktemp /tmp/hpool_dispatch_rate.XXXXXX)
trap 'rm -f "$out"' EXIT
fail() { echo "dispatch_rate: FAIL: $*"; cat "$out"; exit 1; }

export MPIEXEC MPIEXEC_PREFLAGS HPOOL_MPI_TCP_FLAGS
timeout 120 "$prog" --reps 1 --items 3000 --items256 30000 --tcp-divisor 3 >"$out" 2>&1
rc=$?
[ "$rc" -ne 124 ] || fail "timed out"
[ "$rc" -eq 0 ] || fail "exit status $rc"

# Bad arguments: exit status 2 and a message naming the value.
"$prog" --reps x >/dev/null 2>"$out.err"
[ $? -eq 2 ] && grep -q "bad argument 'x'" "$out.err" || { cat "$out.err"; rm -f "$out.err"; fail "bad argument not refused"; }
rm -f "$out.err"

transports=shm
if [ -n "${HPOOL_MPI_TCP_FLAGS:-}" ]; then transports="shm tcp"; else
    grep -q "^tcp: skipped" "$out" || fail "no tcp rows and no note saying so"
fi
# Every row: transport, workers, api, chunksize, hpool/s > 0, raw/s > 0, window > 0, and
# the ratio column equal to hpool/raw (to its printed precision).
awk -v want="$transports" '
    BEGIN { n = split(want, t, " "); for (i = 1; i <= n; i++) ok[t[i]] = 1 }
    $1 in ok {
        if (NF != 8 || $5 <= 0 || $6 <= 0 || $7 <= 0) { print "bad row: " $0; bad = 1; next }
        r = $5 / $6; if (r - $8 > 0.0011 || $8 - r > 0.0011) { print "bad ratio: " $0; bad = 1 }
        seen[$1 " " $2 " " $3 " " $4] = 1; rows++
    }
    END {
        for (i = 1; i <= n; i++) for (w = 1; w <= 2; w++) {
            if (!((t[i] " " w " map 1") in seen) || !((t[i] " " w " futures 1") in seen) ||
                !((t[i] " " w " map 256") in seen)) { print "missing rows for " t[i] " " w; bad = 1 }
            if (((t[i] " " w " futures-first 1") in seen) != (w == 1)) {
                print "futures-first row expected for 1 worker only, " t[i] " " w; bad = 1 }
        }
        if (rows != 7 * n) { print "expected " 7 * n " rows, got " rows; bad = 1 }
        exit bad
    }' "$out" || fail "malformed table"
cat "$out"
echo "dispatch_rate: ok"
