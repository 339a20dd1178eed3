#!/usr/bin/env bash
# The suite under MPICH: a -Werror build against MPICH (cmake -DHPOOL_MPI=mpich), checked
# to link MPICH's library and no Open MPI one, then the unit tests and the multi-rank
# tests at 3 ranks (oversubscribed: MPICH polls; 2, 5 and 6 ranks run under Open MPI) under mpiexec.mpich, and the
# install test. Extra arguments go to the first ctest.
source "$(dirname "$0")/common.sh"
hpool_mpi_env
hpool_launcher mpich
cd "$HPOOL_SRC"
build=build-test-mpich
hpool_build "$build" -DHPOOL_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHPOOL_MPI_RANKS=3

# No silent mixing: no binary loads an Open MPI library, and the library and the
# programs that call MPI load MPICH's.
mixed=0
for f in "$build/hpool-bench" "$build"/src/libhpool.so "$build"/tests/test_* "$build"/examples/*; do
    [ -x "$f" ] && [ -f "$f" ] || continue
    libs=$(ldd "$f")
    if grep -qE 'libmpi\.so|libopen-(pal|rte)' <<<"$libs"; then
        echo "mpich: $f loads Open MPI: $(grep -E 'libmpi|libopen-' <<<"$libs" | tr -d '\t')" >&2
        mixed=1
    fi
done
for f in "$build/hpool-bench" "$build"/src/libhpool.so "$build/tests/test_submit"; do
    ldd "$f" | grep -q 'libmpich\.so' || { echo "mpich: $f does not load libmpich" >&2; mixed=1; }
done
[ $mixed -eq 0 ] && echo "mpich: every MPI binary links libmpich only" >&2
if [ ${#HPOOL_LAUNCH_TCP[@]} -eq 0 ]; then
    echo "mpich: TCP-only runs skipped: $HPOOL_LAUNCH_TCP_SKIP" >&2
fi
# Then the install test (the README example against an MPICH-built install, via CMake's
# package and pkg-config, run under mpiexec.mpich).
(cd "$build" && ctest --output-on-failure -j 2 -L "unit|mpi" "$@" &&
    ctest --output-on-failure -R '^e2e\.install$') && [ $mixed -eq 0 ]
