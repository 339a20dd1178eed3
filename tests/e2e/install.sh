#!/usr/bin/env bash
# hpool as an installed library: `cmake --install` into a temporary prefix, then the
# README's example ("Using the library") is built out of tree three ways — CMake's
# find_package(hpool) with hpool::hpool (shared) and hpool::hpool_static, and pkg-config —
# and each program runs under the MPI launcher and prints 49. Also checked: the SONAME,
# hpool_version() against the header's HPOOL_VERSION, and the installed hpool-bench
# running with its installed plots and configs.
# Env (set by CTest): HPOOL_BUILD, HPOOL_SRC, MPIEXEC, MPIEXEC_PREFLAGS.
# HPOOL_INSTALLED_PREFIX=DIR tests an existing installation in DIR (e.g. /usr, from the
# Debian package) instead of installing the build.
set -u
if [ -z "${MPIEXEC:-}" ]; then
    source "$(dirname "$0")/../../scripts/common.sh"
    set +e +o pipefail
    MPIEXEC=$HPOOL_MPIEXEC MPIEXEC_PREFLAGS="${HPOOL_LAUNCH_FLAGS[*]}"
fi
SRC=${HPOOL_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
MPI="$MPIEXEC ${MPIEXEC_PREFLAGS:-}"
TMP=$(mktemp -d /tmp/hpool_install.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fails=0 passes=0
check() {
    local what=$1; shift
    if "$@"; then passes=$((passes + 1)); else echo "FAIL: $what" >&2; fails=$((fails + 1)); fi
}
quiet() { "$@" >"$TMP/last.log" 2>&1 || { cat "$TMP/last.log" >&2; return 1; }; }

if [ -n "${HPOOL_INSTALLED_PREFIX:-}" ]; then
    prefix=$HPOOL_INSTALLED_PREFIX
else
    prefix=$TMP/prefix
    check "cmake --install" quiet cmake --install "${HPOOL_BUILD:?}" --prefix "$prefix"
fi

# The installed tree, GNU layout.
so=$(find "$prefix"/lib* -maxdepth 2 -name 'libhpool.so.*.*.*' 2>/dev/null | head -1)
check "libhpool.so.X.Y.Z installed" test -n "$so"
libdir=$(dirname "${so:-/nonexistent/x}")
for f in "$libdir/libhpool.so" "$libdir/libhpool.a" "$libdir/pkgconfig/hpool.pc" \
    "$libdir/cmake/hpool/hpoolConfig.cmake" "$libdir/cmake/hpool/hpoolConfigVersion.cmake" \
    "$prefix/include/hpool.h" "$prefix/bin/hpool-bench" "$prefix/share/hpool/plots/timeline.gp" \
    "$prefix/share/hpool/configs/default.ini" "$prefix/share/hpool/peers/ppe.py"; do
    check "installed: ${f#"$prefix"/}" test -e "$f"
done
soname=$(readelf -d "$so" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
check "SONAME is libhpool.so.MAJOR.MINOR ($soname)" grep -qE '^libhpool\.so\.[0-9]+\.[0-9]+$' <<<"$soname"
check "the SONAME link exists" test -e "$libdir/$soname"

# The README's example, as a user copies it, and a version check.
mkdir -p "$TMP/proj"
awk '/^## Using the library/ {f = 1} f && /^```c/ {p = 1; next} p && /^```/ {exit} p' \
    "$SRC/README.md" >"$TMP/proj/square.c"
check "README example extracted" grep -q 'hpool_submit' "$TMP/proj/square.c"
cat >"$TMP/proj/version.c" <<'C'
#include <hpool.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    printf("header %s library %s\n", HPOOL_VERSION, hpool_version());
    return strcmp(HPOOL_VERSION, hpool_version()) != 0;
}
C
cat >"$TMP/proj/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(uses_hpool LANGUAGES C)
find_package(hpool 0.1 REQUIRED)
add_executable(square square.c)
target_link_libraries(square PRIVATE hpool::hpool)
add_executable(square_static square.c)
target_link_libraries(square_static PRIVATE hpool::hpool_static)
add_executable(version version.c)
target_link_libraries(version PRIVATE hpool::hpool)
CMAKE
check "CMake project configures (find_package(hpool))" \
    quiet cmake -S "$TMP/proj" -B "$TMP/proj/build" -DCMAKE_PREFIX_PATH="$prefix"
check "CMake project builds" quiet cmake --build "$TMP/proj/build"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
check "pkg-config knows hpool" quiet pkg-config --exists hpool
check "pkg-config build" quiet cc -std=c17 -o "$TMP/proj/square_pc" "$TMP/proj/square.c" \
    $(pkg-config --cflags --libs hpool) -Wl,-rpath,"$(pkg-config --variable=libdir hpool)"

for prog in build/square build/square_static square_pc; do
    out=$(timeout 60 $MPI -n 3 "$TMP/proj/$prog" 2>&1)
    check "$prog runs under $MPIEXEC and prints 49 (got: $(tail -1 <<<"$out"))" \
        [ "$(grep -c '^49$' <<<"$out")" -eq 1 ]
done
loaded=$(ldd "$TMP/proj/build/square" | awk '/libhpool/ {print $3}')
check "square loads the installed libhpool ($loaded)" \
    [ "$(readlink -f "${loaded:-none}")" = "$(readlink -f "${so:-none}")" ]
check "hpool_version() matches HPOOL_VERSION" quiet "$TMP/proj/build/version"
v=$("$TMP/proj/build/version" | awk '{print $4}')
check "hpool-bench --version says $v" grep -q "^hpool-bench $v\( \|$\)" <<<"$("$prefix/bin/hpool-bench" --version)"
check "hpool.pc version is $v" [ "$(pkg-config --modversion hpool)" = "$v" ]

# The installed hpool-bench: a shipped config by name, plots from share/hpool/plots.
check "installed hpool-bench finds a shipped config by name" \
    grep -q 'workload=' <<<"$(timeout 60 $MPI -n 3 "$prefix/bin/hpool-bench" --dry-run seed-map 2>&1)"
cat >"$TMP/tiny.ini" <<'INI'
[experiment]
name = tiny
workload = cpu_sum
tasks = 8
cost_ms = 1
chunksize = 1, 2
workers = 2
records = chunks
INI
(cd "$TMP" && timeout 120 $MPI -n 3 "$prefix/bin/hpool-bench" --quiet --out "$TMP/res" tiny.ini \
    >"$TMP/bench.log" 2>&1)
check "installed hpool-bench runs (exit $?)" grep -q '^# complete' "$TMP/res/tiny/latest/runs.tsv"
check "installed hpool-bench renders plots" test -s "$TMP/res/tiny/latest/timeline.png"
if [ -z "${HPOOL_INSTALLED_PREFIX:-}" ]; then
    # The plots come from the prefix, not from the source tree the program was built in:
    # a line appended to the installed timeline.gp leaves a mark when it runs.
    printf '\nsystem("touch %s/installed-plots-used")\n' "$TMP" >>"$prefix/share/hpool/plots/timeline.gp"
    "$prefix/bin/hpool-bench" --quiet --plot-only "$TMP/res/tiny/latest" >/dev/null 2>&1
    check "installed hpool-bench uses <prefix>/share/hpool/plots" test -e "$TMP/installed-plots-used"
fi

echo "install: $passes passed, $fails failed (prefix $prefix)"
[ "$fails" -eq 0 ]
