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

# 1. The stuck task (and 1b, a stuck initializer). What hpool owes is that rank 0 reports within a bounded time instead
# of waiting for the stuck rank; the program then calls MPI_Abort. Under load, Open MPI
# 4.1's mpirun itself sometimes crashes or hangs while tearing the job down after
# MPI_Abort (seen here: 1 hang and 2 segfaults of mpirun in 8 runs with the cores busy).
# That teardown is Open MPI's: it is reported below, and the job is killed, not waited on.
# stuck_job MODE: run test_faults MODE, check that rank 0 reported within 30 s, then end
# the job (MPI_Abort) without waiting on a teardown that does not finish.
stuck_job() {
    local mode=$1 log="$OUT/$1.log" start reported="" job status
    start=$(date +%s)
    timeout 90 $MPI -n 3 "$HPOOL_BUILD/tests/test_faults" "$mode" > "$log" 2>&1 &
    job=$!
    for _ in $(seq 300); do
        sleep 0.1
        if grep -q "finalize refused" "$log"; then reported=$(( $(date +%s) - start )); break; fi
    done
    check "$mode: rank 0 reported within 30 s" test -n "$reported"
    for _ in $(seq 150); do kill -0 "$job" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$job" 2>/dev/null; then
        echo "note: mpirun did not finish tearing down after MPI_Abort within 30 s (Open MPI); killed" >&2
        pkill -KILL -f "test_faults $mode" 2>/dev/null
        kill -KILL "$job" 2>/dev/null
    fi
    wait "$job" 2>/dev/null
    status=$?
    check "$mode: the job did not end cleanly (MPI_Abort)" test "$status" -ne 0
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
timeout 90 $MPI -n 3 "$HPOOL_BUILD/hpool-bench" --quiet --no-plot --out "$OUT" "$OUT/victim.ini" \
    > "$OUT/victim.log" 2>&1 &
job=$!
victim=""
for _ in $(seq 100); do      # find worker rank 1 once the sweep has written a few runs
    sleep 0.1
    part=$(ls "$OUT"/victim/.incomplete-*/runs.tsv.partial 2>/dev/null | head -1)
    [ -n "$part" ] && [ "$(grep -vc '^impl' "$part")" -ge 3 ] || continue
    for p in $(pgrep -f "hpool-bench --quiet --no-plot --out $OUT $OUT/victim.ini"); do
        if tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1'; then
            victim=$p
        fi
    done
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
