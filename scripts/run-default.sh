#!/usr/bin/env bash
# The main job: installs what is missing, builds, runs the default benchmark under mpirun
# (manager + 2 workers) and renders its plots into results/default/latest/ (every run is
# kept in results/default/<UTC stamp>-<id>/; latest is the newest). HPOOL_MPI=mpich builds
# against MPICH and runs under its mpiexec instead of Open MPI's mpirun.
source "$(dirname "$0")/common.sh"
hpool_install_deps
hpool_mpi_env
build="$HPOOL_SRC/build"
hpool_build "$build" -DCMAKE_BUILD_TYPE=Release
cd "$HPOOL_SRC"
hpool_launch 3 "$build/hpool-bench" --out results "$@" configs/default.ini
echo "results in $HPOOL_SRC/results/default/latest (report.md, *.png)"
