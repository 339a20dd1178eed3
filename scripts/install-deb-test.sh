#!/usr/bin/env bash
# The Debian package as a user gets it: `cpack -G DEB` in BUILD (default build-test),
# `dpkg -i` into this machine, tests/e2e/install.sh against /usr (README example with
# CMake and pkg-config, run under the launcher; hpool-bench with its data), then
# `dpkg -P`. Needs root; an hpool package already installed (not by this script) is
# left alone and the test skipped.
source "$(dirname "$0")/common.sh"
hpool_mpi_env
build=$(cd "${1:-$HPOOL_SRC/build-test}" && pwd)
if [ "$(id -u)" -ne 0 ]; then
    echo "deb: skipped: dpkg -i needs root" >&2
    exit 0
fi
if dpkg-query -W -f='${Status}' hpool 2>/dev/null | grep -q "install ok installed"; then
    echo "deb: skipped: an hpool package is already installed on this machine" >&2
    exit 0
fi
rm -f "$build"/hpool_*.deb
(cd "$build" && cpack -G DEB >/dev/null) || { echo "deb: cpack failed" >&2; exit 1; }
deb=$(ls "$build"/hpool_*.deb)
echo "deb: $(basename "$deb"): $(dpkg-deb -f "$deb" Depends)" >&2
trap 'dpkg -P hpool >/dev/null 2>&1 || echo "deb: dpkg -P hpool failed" >&2' EXIT
dpkg -i "$deb" >/dev/null || { echo "deb: dpkg -i failed" >&2; exit 1; }
HPOOL_INSTALLED_PREFIX=/usr HPOOL_BUILD="$build" MPIEXEC=$HPOOL_MPIEXEC \
    MPIEXEC_PREFLAGS="${HPOOL_LAUNCH_FLAGS[*]}" bash "$HPOOL_SRC/tests/e2e/install.sh"
