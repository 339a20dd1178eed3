#!/usr/bin/env bash
# The seed's experiments as examples: each runs under the MPI launcher and logs like the seed.
# Env (set by CTest): HPOOL_BUILD, MPIEXEC, MPIEXEC_PREFLAGS.
set -u
# Run by hand (not by CTest): the launcher scripts/common.sh selects.
if [ -z "${MPIEXEC:-}" ]; then
    source "$(dirname "$0")/../../scripts/common.sh"
    set +e +o pipefail
    MPIEXEC=$HPOOL_MPIEXEC MPIEXEC_PREFLAGS="${HPOOL_LAUNCH_FLAGS[*]}"
fi
MPI="${MPIEXEC:-mpirun} ${MPIEXEC_PREFLAGS:-}"
fails=0 passes=0
check() {
    local what=$1; shift
    if "$@"; then passes=$((passes + 1)); else echo "FAIL: $what" >&2; fails=$((fails + 1)); fi
}
for ex in seed_submit seed_as_completed seed_map; do
    out=$(timeout 120 $MPI -n 3 "$HPOOL_BUILD/examples/$ex" 20000000 2>/dev/null)
    check "$ex exits 0" [ $? -eq 0 ]
    check "$ex logs 8 tasks" [ "$(grep -c -- '-------- Process: [0-9]* (rank [12]) --------' <<<"$out")" -eq 8 ]
    check "$ex logs a time per task" [ "$(grep -Ec ': time - [0-9]+\.[0-9]+$' <<<"$out")" -eq 8 ]
    check "$ex logs the total" grep -q ': Total time: ' <<<"$out"
done
for mode in atomic critical; do
    out=$(timeout 120 $MPI -n 3 "$HPOOL_BUILD/examples/seed_hybrid" "$mode" 2>/dev/null)
    check "seed_hybrid $mode exits 0" [ $? -eq 0 ]
    check "seed_hybrid $mode runs 4 tasks" [ "$(grep -c '^task [0-3]: rank' <<<"$out")" -eq 4 ]
    check "seed_hybrid $mode loads the inner items" [ "$(grep -c 'Inner items loaded!' <<<"$out")" -eq 4 ]
done
echo "examples: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
