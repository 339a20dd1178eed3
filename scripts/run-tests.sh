#!/usr/bin/env bash
# The whole test suite. Installs what is missing, then:
#   1. plain build with -Werror: every unit test, every multi-rank test at 2, 3, 5 and 6 ranks
#      (oversubscribed; 6 ranks is three a core here) and at 3 ranks over TCP, end-to-end
#      scripts;
#   2. ASan + UBSan build: unit tests and the multi-rank tests at 5 ranks (the most
#      concurrency; 2 and 3 ranks run plain, 3 under TSan and MPICH), all with leak checking
#      (the MPI runtime's own allocations suppressed, see tests/sanitizers/);
#   3. TSan build: the multi-rank tests at 3 ranks (rank 0's manager and user threads),
#      with the justified suppressions of tests/sanitizers/tsan.supp;
#   4. valgrind memcheck on the unit tests: no leaks, no errors;
#   5. the fuzz targets for a bounded time (clang's libFuzzer), when clang is present;
#   6. MPICH: a build against MPICH (checked to link libmpich only), its unit tests, the
#      multi-rank tests at 3 ranks under mpiexec.mpich and the install test (TCP-only
#      runs skipped with the reason printed: MPICH's own hang in MPI_Finalize);
#   7. install: the Debian package (cpack -G DEB) installed with dpkg, the README example
#      built against it with CMake and pkg-config and run, then the package removed (the
#      same test against `cmake --install --prefix` runs in stage 1, tests/e2e/install.sh);
#   8. Slurm: a one-node cluster started for the test (scripts/slurm-local.sh), sbatch of
#      the example batch script, direct launch with srun under Open MPI and MPICH.
# Extra arguments go to the plain stage's ctest (e.g. -R map). HPOOL_QUICK=1 runs only
# stage 1. The launcher's flags come from scripts/common.sh.
source "$(dirname "$0")/common.sh"
hpool_install_deps
hpool_mpi_env
cd "$HPOOL_SRC"
status=0
stage() { echo "=== [${SECONDS}s] $*" >&2; }

stage "1/8 plain build, full suite"
hpool_build build-test -DHPOOL_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
(cd build-test && ctest --output-on-failure -j 2 "$@") || status=1
[ "${HPOOL_QUICK:-0}" = 1 ] && exit $status

SUPP="$HPOOL_SRC/tests/sanitizers"
stage "2/8 ASan + UBSan"
hpool_build build-test-asan -DHPOOL_WERROR=ON -DHPOOL_ASAN=ON -DCMAKE_BUILD_TYPE=Debug \
    -DHPOOL_MPI_RANKS=5 -DHPOOL_MPI_TCP_FLAGS= \
    -DMPIEXEC_PREFLAGS="${HPOOL_LAUNCH_FLAGS[*]} $(hpool_launch_export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS LD_PRELOAD)"
# Multi-rank tests with leak checking: keep_plugins.so keeps Open MPI's plugins mapped
# until exit so that every leak names its library (see tests/sanitizers/keep_plugins.c),
# the full unwind attributes allocations made through libc to their caller, and
# lsan.supp suppresses the MPI runtime's own, each entry justified there.
cc -shared -fPIC -O1 -o build-test-asan/keep_plugins.so tests/sanitizers/keep_plugins.c
(cd build-test-asan &&
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --output-on-failure -j 2 -L unit &&
    LD_PRELOAD="$PWD/keep_plugins.so" \
    ASAN_OPTIONS=detect_leaks=1:verify_asan_link_order=0:fast_unwind_on_malloc=0 \
    LSAN_OPTIONS="suppressions=$SUPP/lsan.supp" \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --output-on-failure -j 2 -L mpi) || status=1

stage "3/8 TSan"
hpool_build build-test-tsan -DHPOOL_WERROR=ON -DHPOOL_TSAN=ON -DCMAKE_BUILD_TYPE=Debug \
    -DHPOOL_MPI_RANKS=3 -DHPOOL_MPI_TCP_FLAGS= \
    -DMPIEXEC_PREFLAGS="${HPOOL_LAUNCH_FLAGS[*]} $(hpool_launch_export TSAN_OPTIONS)"
(cd build-test-tsan &&
    TSAN_OPTIONS="suppressions=$SUPP/tsan.supp halt_on_error=1 second_deadlock_stack=1" \
        ctest --output-on-failure -j 2 -L mpi) || status=1

stage "4/8 valgrind memcheck on the unit tests"
for src in tests/unit/test_*.c; do   # the single-process tests only
    t="build-test/tests/$(basename "$src" .c)"
    [ -x "$t" ] || continue
    valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --show-leak-kinds=definite,indirect "$t" >/dev/null 2>"build-test/$(basename "$t").vg" \
        || { echo "valgrind: $t" >&2; cat "build-test/$(basename "$t").vg" >&2; status=1; }
done

stage "5/8 fuzzing (bounded)"
if [ -x tests/fuzz/run-fuzz.sh ] && command -v clang >/dev/null; then
    HPOOL_FUZZ_SECONDS=${HPOOL_FUZZ_SECONDS:-10} bash tests/fuzz/run-fuzz.sh || status=1
else
    echo "fuzzing skipped: clang or tests/fuzz/run-fuzz.sh missing" >&2
fi

stage "6/8 MPICH: unit tests, multi-rank tests at 3 ranks under mpiexec.mpich"
bash scripts/mpich-tests.sh || status=1

stage "7/8 install: Debian package (cpack -G DEB, dpkg -i), README example against it"
bash scripts/install-deb-test.sh build-test || status=1

stage "8/8 Slurm: one-node cluster, sbatch, srun --mpi=pmix / pmi2"
bash tests/slurm/slurm.sh build-test || status=1

echo "=== [${SECONDS}s] done" >&2
if [ $status -eq 0 ]; then echo "ALL STAGES PASSED"; else echo "SOME STAGES FAILED"; fi
exit $status
