#!/usr/bin/env bash
# Build and run hpool's libFuzzer targets for a bounded time (see tests/fuzz/README.md).
#
#   tests/fuzz/run-fuzz.sh [config|wire ...]     (default: both)
#
# Environment:
#   HPOOL_FUZZ_SECONDS   run time per target (default 30)
#   HPOOL_FUZZ_KEEP=1    keep the temporary work dir (grown corpora, logs)
#   HPOOL_FUZZ_COVERAGE=1  afterwards, replay the grown corpus through a source-coverage
#                        build and print llvm-cov's line/branch report for the code
#                        under test (needs llvm-profdata and llvm-cov)
#   CC                   a clang with libFuzzer (default clang)
#
# Builds go to build-fuzz/ (clang, -fsanitize=fuzzer,address,undefined, no CMake). Each
# target runs in a fresh temporary work dir whose corpus is seeded at run time:
#   config: configs/*.ini, tests/configs/good/*.ini, tests/configs/bad/*.ini (copied)
#   wire:   valid RESULT messages written by build-fuzz/fuzz_wire_seeds (fuzz_wire.c
#           built with -DFUZZ_MAKE_SEEDS, so the seeds follow the real header layout)
# Exit status is non-zero if any target finds a crash, leak, timeout or out-of-memory;
# the reproducer is copied to build-fuzz/artifacts/ and its path printed. Reproduce with
#   build-fuzz/fuzz_<target> build-fuzz/artifacts/<file>
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT="$ROOT/build-fuzz"
SECS=${HPOOL_FUZZ_SECONDS:-30}
CC=${CC:-clang}
case "$SECS" in '' | *[!0-9]*) echo "run-fuzz: HPOOL_FUZZ_SECONDS must be a whole number" >&2; exit 2 ;; esac
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(config wire)

command -v "$CC" >/dev/null || { echo "run-fuzz: $CC not found" >&2; exit 2; }
mkdir -p "$OUT/artifacts"

# gnu17 as the CMake build (CMAKE_C_EXTENSIONS ON). -O1 -g: fast enough to fuzz, stacks still readable. UBSan must abort (not just print)
# for libFuzzer to keep the input. -Werror: the targets are part of the tree's code.
CFLAGS=(-std=gnu17 -g -O1 -Wall -Wextra -Wshadow -Wformat=2 -Werror
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
        -fno-omit-frame-pointer)
# wire.c and errors.c include <mpi.h> (through internal.h) but call nothing in MPI, so
# only the include flags are needed.
read -r -a MPI_INC <<<"$(source "$ROOT/scripts/common.sh" && hpool_mpi_cflags)"
read -r -a INIH_JANSSON <<<"$(pkg-config --cflags --libs inih jansson)"

build() {
    echo "run-fuzz: building $1" >&2
    "$CC" "${@:2}" -o "$OUT/$1"
}

build_wire() {
    local common=(-I"$ROOT/include" -I"$ROOT/src" "${MPI_INC[@]}"
                  "$ROOT/tests/fuzz/fuzz_wire.c" "$ROOT/src/wire.c" "$ROOT/src/errors.c")
    build fuzz_wire "${CFLAGS[@]}" "${common[@]}"
    # The seed writer: same sources, a plain main, no fuzzer runtime.
    build fuzz_wire_seeds -std=gnu17 -g -O1 -Wall -Wextra -Wshadow -Wformat=2 -Werror \
        -fsanitize=address,undefined -DFUZZ_MAKE_SEEDS "${common[@]}"
}

CONFIG_SRC=("$ROOT/tests/fuzz/fuzz_config.c" "$ROOT/bench/config.c" "$ROOT/bench/config_schema.c"
            "$ROOT/bench/config_reader.c" "$ROOT/bench/config_message.c" "$ROOT/bench/config_json.c"
            # schedule_model: the config check loads a previous run's chunks.tsv
            "$ROOT/bench/simulate.c" "$ROOT/bench/table.c" "$ROOT"/src/schedule/*.c)
CONFIG_INC=(-I"$ROOT/include" -I"$ROOT/bench" -I"$ROOT/src" "${MPI_INC[@]}")
build_config() {
    build fuzz_config "${CFLAGS[@]}" "${CONFIG_INC[@]}" "${CONFIG_SRC[@]}" \
        "${INIH_JANSSON[@]}" -lm
}

# Coverage: the same target without sanitizers, with clang's source-based coverage, run
# once over the corpus (-runs=0 executes each input and stops).
coverage() {
    local name=$1; shift
    local bin="$OUT/fuzz_${name}_cov" prof="$WORK/$name.profraw"
    case "$name" in
        config) build "fuzz_${name}_cov" -std=gnu17 -O0 -g -fsanitize=fuzzer \
                    -fprofile-instr-generate -fcoverage-mapping "${CONFIG_INC[@]}" \
                    "${CONFIG_SRC[@]}" "${INIH_JANSSON[@]}" -lm ;;
        wire) build "fuzz_${name}_cov" -std=gnu17 -O0 -g -fsanitize=fuzzer \
                    -fprofile-instr-generate -fcoverage-mapping -I"$ROOT/include" \
                    -I"$ROOT/src" "${MPI_INC[@]}" "$ROOT/tests/fuzz/fuzz_wire.c" \
                    "$ROOT/src/wire.c" "$ROOT/src/errors.c" ;;
    esac
    (cd "$WORK" && LLVM_PROFILE_FILE="$prof" "$bin" -runs=0 "$WORK/corpus-$name" \
        >/dev/null 2>&1) || true
    llvm-profdata merge -sparse "$prof" -o "$WORK/$name.profdata"
    echo "run-fuzz: $name source coverage over the final corpus:" >&2
    llvm-cov report "$bin" -instr-profile="$WORK/$name.profdata" "$@" >&2
}

# A libFuzzer dictionary of the config grammar: the sections, keys and value words of
# bench/config.c's schema. Without it the fuzzer spends most of its time rediscovering
# "workload" one byte at a time and rarely gets past the first unknown-key error.
write_config_dict() {
    local f=$1 w
    : >"$f"
    for w in '[experiment]' '[hybrid]' '[' ']' '=' ', ' ',' '#' ';' '\x0a' '\x0d\x0a' ' = ' \
        name description workload api tasks cost_ms iterations schedule chunksize workers \
        threads prefetch repeat warmup seed records peers serial_baseline inner_items \
        inner_ms counter \
        empty cpu_sum io_sleep hybrid increasing decreasing random bimodal mandelbrot \
        map submit as_completed fixed static guided trapezoid factoring awf auto \
        none chunks spans atomic critical unsafe python-ppe yes no true false \
        0 1 -1 1e9 1e309 nan inf 0x10 1000000000 9223372036854775807 18446744073709551616 \
        1.5 1e10 2e9 1e-400 0.0 -0 4294967296 '\xc3\xa9' '\xff' '\x00' '\x09'; do
        printf '"%s"\n' "${w//\"/\\\"}" >>"$f"
    done
}

status=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hpool-fuzz.XXXXXX")
# fuzz_config's scratch file: tmpfs when there is one, in a directory removed below even
# when a crash kept the target from deleting its file.
SHM_PARENT=/dev/shm
[ -d "$SHM_PARENT" ] && [ -w "$SHM_PARENT" ] || SHM_PARENT=$WORK
export HPOOL_FUZZ_TMPDIR
HPOOL_FUZZ_TMPDIR=$(mktemp -d "$SHM_PARENT/hpool-fuzz.XXXXXX")
cleanup() {
    rm -rf "$HPOOL_FUZZ_TMPDIR"
    if [ "${HPOOL_FUZZ_KEEP:-0}" = 1 ]; then
        echo "run-fuzz: work dir kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

run_target() {
    local name=$1; shift
    local corpus="$WORK/corpus-$name" log="$WORK/$name.log"
    mkdir -p "$corpus" "$WORK/artifacts"
    echo "run-fuzz: fuzzing $name for ${SECS}s ($(find "$corpus" -type f | wc -l) seeds)" >&2
    local rc=0
    # -rss_limit_mb: a target that balloons is a finding too. -timeout: one input taking
    # 10 s is a hang (the targets run in microseconds). -max_len: configs are small text;
    # 16 KiB leaves room for long lines and many keys without slowing every mutation.
    (cd "$WORK" && ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
        UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
        "$OUT/fuzz_$name" -max_total_time="$SECS" -rss_limit_mb=1024 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$WORK/artifacts/$name-" "$@" "$corpus" \
        >"$log" 2>&1) || rc=$?
    # The last status line ("#N DONE cov: ..."), the exec count and the corpus size.
    grep -E '^#[0-9]+[[:space:]]+(DONE|INITED)' "$log" | tail -n 2 >&2 || true
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" >&2 || true
    echo "run-fuzz: $name corpus now $(find "$corpus" -type f | wc -l) inputs" >&2
    if [ $rc -ne 0 ]; then
        status=1
        echo "run-fuzz: $name FOUND A PROBLEM (exit $rc); log tail:" >&2
        grep -E 'ERROR|SUMMARY|runtime error|fuzz_(config|wire):' "$log" | head -n 20 >&2 || true
        tail -n 40 "$log" >&2
        local a
        for a in "$WORK/artifacts/$name-"*; do
            [ -e "$a" ] || continue
            cp "$a" "$OUT/artifacts/"
            echo "run-fuzz: reproducer: $OUT/artifacts/$(basename "$a")" >&2
            echo "run-fuzz: rerun with: $OUT/fuzz_$name $OUT/artifacts/$(basename "$a")" >&2
        done
        cp "$log" "$OUT/artifacts/$name.log"
        echo "run-fuzz: full log: $OUT/artifacts/$name.log" >&2
    fi
}

for t in "${targets[@]}"; do
    case "$t" in
        config)
            build_config
            mkdir -p "$WORK/corpus-config"
            # Seeds are copied under prefixed names: good/ and bad/ share some names.
            for d in configs tests/configs/good tests/configs/bad; do
                for f in "$ROOT/$d"/*.ini; do
                    [ -e "$f" ] && cp "$f" "$WORK/corpus-config/${d//\//_}-$(basename "$f")"
                done
            done
            write_config_dict "$WORK/config.dict"
            run_target config -dict="$WORK/config.dict" -max_len=16384
            [ "${HPOOL_FUZZ_COVERAGE:-0}" != 1 ] ||
                coverage config "${CONFIG_SRC[@]:1}"
            ;;
        wire)
            build_wire
            mkdir -p "$WORK/corpus-wire"
            "$OUT/fuzz_wire_seeds" "$WORK/corpus-wire"
            run_target wire -max_len=4096
            [ "${HPOOL_FUZZ_COVERAGE:-0}" != 1 ] || coverage wire "$ROOT/src/wire.c"
            ;;
        *)
            echo "run-fuzz: unknown target '$t' (config, wire)" >&2
            exit 2
            ;;
    esac
done

if [ $status -eq 0 ]; then
    echo "run-fuzz: no findings"
else
    echo "run-fuzz: FINDINGS (see above)"
fi
exit $status
