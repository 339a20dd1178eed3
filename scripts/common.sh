# Shared by scripts/run-default.sh and scripts/run-tests.sh: install what is missing
# (Debian, as root), then configure and build. Sourced, not run.
set -euo pipefail
HPOOL_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HPOOL_DEPS=(build-essential cmake pkg-config openmpi-bin libopenmpi-dev libhwloc-dev hwloc valgrind
            clang libclang-rt-14-dev
            gnuplot-nox libinih-dev libjansson-dev libcmocka-dev python3 python3-mpi4py)

hpool_install_deps() {
    local missing=()
    for p in "${HPOOL_DEPS[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "hpool: installing ${missing[*]}" >&2
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo=sudo
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

# Open MPI refuses to run as root without these; harmless for other users.
hpool_mpi_env() {
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    # Idle OpenMP threads should sleep, not spin: on a small machine a spinning team
    # steals the core of another rank.
    export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
}

# hpool_build DIR [cmake args...]
hpool_build() {
    local dir=$1; shift
    cmake -S "$HPOOL_SRC" -B "$dir" -DMPIEXEC_PREFLAGS=--oversubscribe \
        -DHPOOL_MPI_TCP_FLAGS="--mca btl tcp,self" "$@" >/dev/null
    cmake --build "$dir" -j "$(nproc)" >/dev/null
}
