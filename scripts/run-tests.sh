#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds with -Werror, runs every unit
# and multi-rank test (2, 3, 5 ranks oversubscribed, and over TCP).
source "$(dirname "$0")/common.sh"
hpool_install_deps
hpool_mpi_env
build="$HPOOL_SRC/build-test"
hpool_build "$build" -DHPOOL_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
cd "$build"
ctest --output-on-failure -j 2 "$@"
