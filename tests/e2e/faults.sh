#!/usr/bin/env bash
# Faults that end a job, each under a bounded timeout:
# 1. a task that never returns: its future fails with HPOOL_ETIMEDOUT, the others finish,
#    hpool_finalize refuses to wait for the stuck rank and the program ends the job; the
#    same for an initializer that never returns (worker_timeout_s).
# 2. a worker killed from outside (SIGKILL) in the middle of an hpool-bench sweep: mpirun
#    ends the job, nothing hangs, the rows and records written so far stay on disk in the
#    .incomplete directory without a "# complete" line, and an earlier complete result of
#    the same experiment is untouched.
# Env (set by CTest): HPOOL_BUILD, HPOOL_SRC, MPIEXEC, MPIEXEC_PREFLAGS.
set -u
MPI="${MPIEXEC:-mpirun} ${MPIEXEC_PREFLAGS:-}"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
fails=0 passes=0
not() { ! "$@"; }
check() { # check "what" command... (use "test !" for negation)
    local what=$1; shift
    if "$@"; then passes=$((passes + 1)); else echo "FAIL: $what" >&2; fails=$((fails + 1)); fi
}

# Every rank writes its pid to $PIDS/rank-R (HPOOL_TEST_PID_DIR, src/proc.c): the script
# signals ranks by those pids only, never by name.
PIDS="$OUT/pids"
export HPOOL_TEST_PID_DIR="$PIDS"
ranks_alive() { # whether a rank that wrote its pid still runs (a zombie does not count)
    local f p
    sleep 0.5 # the launcher's own teardown signals need a moment
    for f in "$PIDS"/rank-*; do
        [ -f "$f" ] || continue
        p=$(cat "$f")
        [ -d "/proc/$p" ] && ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null && return 0
    done
    return 1
}
kill_ranks() { # kill_ranks: SIGKILL every rank of the job that wrote its pid
    local f
    for f in "$PIDS"/rank-*; do [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null; done
}

# 1. The stuck task (and 1b, a stuck initializer). What hpool owes is that rank 0 reports
# within a bounded time instead of waiting for the stuck rank; the program then calls
# MPI_Abort(3). Under load, Open MPI 4.1's mpirun itself sometimes crashes or hangs while
# tearing the job down after MPI_Abort (seen here: 1 hang and 2 segfaults of mpirun in 8
# runs with the cores busy). That teardown is Open MPI's: if it does not end within 30 s
# the job's ranks and mpirun are killed by pid and the exit status is not judged (said
# so); otherwise mpirun must exit with the program's abort code, 3 (or die of a signal in
# that teardown, which is noted).
# stuck_job MODE: run test_faults MODE, check that rank 0 reported within 30 s and that
# the program ended the job itself with MPI_Abort.
stuck_job() {
    local mode=$1 log="$OUT/$1.log" reported="" job status
    rm -rf "$PIDS"; mkdir -p "$PIDS"
    $MPI -n 3 "$HPOOL_BUILD/tests/test_faults" "$mode" > "$log" 2>&1 &
    job=$!
    for _ in $(seq 300); do
        sleep 0.1
        if grep -q "finalize refused" "$log"; then reported=yes; break; fi
    done
    check "$mode: rank 0 reported within 30 s" test -n "$reported"
    for _ in $(seq 150); do kill -0 "$job" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$job" 2>/dev/null; then
        echo "note: mpirun did not finish tearing down within 30 s (Open MPI); ranks and mpirun killed by pid, exit status not judged" >&2
        kill_ranks
        kill -KILL "$job" 2>/dev/null
        wait "$job" 2>/dev/null
    else
        wait "$job"
        status=$?
        # 3: the program's MPI_Abort code. Above 128: mpirun itself died of a signal while
        # tearing down after that abort (Open MPI 4.1 under load, see above), said so.
        # Anything else (0 above all: a clean end) fails.
        [ "$status" -gt 128 ] &&
            echo "note: mpirun died of signal $((status - 128)) tearing down after MPI_Abort (Open MPI)" >&2
        check "$mode: the program ended the job with MPI_Abort(3) (status $status)" \
            test "$status" -eq 3 -o "$status" -gt 128
    fi
    check "$mode: every rank wrote its pid" test "$(ls "$PIDS" | grep -c '^rank-[0-9]*$')" -eq 3
    check "$mode: no rank of the job is left running" not ranks_alive
    STUCK_LOG=$log
}

stuck_job --hang
check "hang: the stuck item timed out, the rest finished" grep -q "hang: 1 timed out, 7 finished" "$STUCK_LOG"
check "hang: finalize says which rank is stuck" grep -q "finalize refused: .*rank 2 is stuck" "$STUCK_LOG"

# 1b. An initializer that never returns: after worker_timeout_s (2 s in the test) the
# rank is left out, the other worker runs everything, finalize refuses to wait.
stuck_job --hang-init
check "hang-init: all tasks finished without the stuck rank" grep -q "hang-init: 6 finished without rank 2" "$STUCK_LOG"
check "hang-init: finalize names the initializer" grep -q "finalize refused: .*initializer does not return" "$STUCK_LOG"

# 2. SIGKILL of a worker during a sweep.
cat > "$OUT/victim.ini" <<'INI'
[experiment]
name = victim
workload = cpu_sum
tasks = 40
cost_ms = 5
schedule = fixed
chunksize = 1
workers = 2
repeat = 40
records = chunks
serial_baseline = no
INI
sed 's/repeat = 40/repeat = 1/' "$OUT/victim.ini" > "$OUT/quick.ini"
timeout 60 $MPI -n 3 "$HPOOL_BUILD/hpool-bench" --quiet --no-plot --out "$OUT" "$OUT/quick.ini"
check "a complete earlier result exists" grep -q '^# complete' "$OUT/victim/latest/runs.tsv"
before=$(md5sum < "$OUT/victim/latest/runs.tsv")
rm -rf "$PIDS"; mkdir -p "$PIDS"
timeout 90 $MPI -n 3 "$HPOOL_BUILD/hpool-bench" --quiet --no-plot --out "$OUT" "$OUT/victim.ini" \
    > "$OUT/victim.log" 2>&1 &
job=$!
victim=""
for _ in $(seq 100); do      # worker rank 1, once the sweep has written a few runs
    sleep 0.1
    part=$(ls "$OUT"/victim/.incomplete-*/runs.tsv.partial 2>/dev/null | head -1)
    [ -n "$part" ] && [ "$(grep -vc '^impl' "$part")" -ge 3 ] || continue
    [ -f "$PIDS/rank-1" ] && victim=$(cat "$PIDS/rank-1")
    [ -n "$victim" ] && break
done
check "found a worker to kill" [ -n "$victim" ]
[ -n "$victim" ] && kill -9 "$victim"
wait "$job"
status=$?
check "killed sweep: mpirun exits non-zero, not by timeout (status $status)" \
    test "$status" -ne 0 -a "$status" -ne 124
part=$(ls "$OUT"/victim/.incomplete-*/runs.tsv.partial 2>/dev/null | head -1)
check "killed sweep: partial runs kept" test -n "$part" -a "$(grep -vc '^impl' "$part")" -ge 3
check "killed sweep: partial rows are not marked complete" not grep -q '^# complete' "$part"
check "killed sweep: records of finished runs kept" \
    [ -n "$(ls "$OUT"/victim/.incomplete-*/runs/0/chunks.tsv 2>/dev/null)" ]
check "killed sweep: earlier complete result untouched" [ "$(md5sum < "$OUT/victim/latest/runs.tsv")" = "$before" ]

echo "faults: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
