#!/usr/bin/env bash
# Builds the libFuzzer targets, OSS-Fuzz style: honours $CC $CXX $CFLAGS
# $CXXFLAGS $LIB_FUZZING_ENGINE $OUT (and $WORK for objects), links
# $LIB_FUZZING_ENGINE only at link time, and writes $OUT/<target>,
# $OUT/<target>_seed_corpus.zip and $OUT/<target>.dict.
#
# Local defaults: clang-14 with ASan + UBSan and libFuzzer, OUT=fuzz/out.
#   fuzz/build.sh                 # every target
#   fuzz/build.sh parse_fuzz vm_fuzz
#   JOBS=1 fuzz/build.sh          # compile jobs in parallel (default 2)
#   fuzz/build.sh --one-binary    # every target in one binary, $OUT/fuzz_all
#                                 # (fuzz/all_targets_main.cpp; what ci.sh runs)
# fmt is header-only (-DFMT_HEADER_ONLY, never libfmt.so); the targets
# need only libcrypto (SHA-256, Ed25519) besides the C++ runtime.
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${CC:=clang-14}"
: "${CXX:=clang++-14}"
: "${SANITIZER_FLAGS:=-fsanitize=address,undefined -fno-sanitize-recover=undefined}"
: "${CFLAGS:=-O1 -fno-omit-frame-pointer -gline-tables-only $SANITIZER_FLAGS -fsanitize=fuzzer-no-link}"
: "${CXXFLAGS:=$CFLAGS}"
: "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
: "${OUT:=$SRC/fuzz/out}"
: "${WORK:=$OUT/obj}"
: "${JOBS:=2}"
# Warnings are errors locally and in CI; a newer OSS-Fuzz clang may pass WERROR= to relax that.
: "${WERROR=-Werror}"
# The same defines as meson.build: Boost assertions go through sidecar/boost_assert_handler.cpp.
DEFINES="-DFMT_HEADER_ONLY -DBOOST_ENABLE_ASSERT_HANDLER"
export CC CXX CFLAGS CXXFLAGS LIB_FUZZING_ENGINE OUT WORK SRC WERROR DEFINES

# The targets, from fuzz/targets.txt (the one list; see its header).
ALL_TARGETS="$(awk '!/^#/ && NF {print $1}' "$SRC/fuzz/targets.txt")"
ONE_BINARY=""
if [ "${1:-}" = "--one-binary" ]; then ONE_BINARY=1; shift; fi
TARGETS="${*:-$ALL_TARGETS}"
mkdir -p "$OUT" "$WORK"

build_one() {
    local t="$1"
    # -I. for sidecar/*.hpp; runtime/ and dsl/ are the two header-only libraries.
    "$CXX" $CXXFLAGS -std=c++20 $DEFINES -Wall -Wextra $WERROR \
        -I"$SRC" -I"$SRC/runtime" -I"$SRC/dsl" -c "$SRC/fuzz/$t.cpp" -o "$WORK/$t.o"
    "$CXX" $CXXFLAGS "$WORK/$t.o" "$WORK/boost_assert_handler.o" $LIB_FUZZING_ENGINE -lcrypto -o "$OUT/$t"
    rm -f "$OUT/${t}_seed_corpus.zip"
    if [ -d "$SRC/fuzz/corpus/$t" ] && [ -n "$(ls -A "$SRC/fuzz/corpus/$t")" ]; then
        (cd "$SRC/fuzz/corpus/$t" && zip -q -X -r "$OUT/${t}_seed_corpus.zip" .)
    fi
    if [ -f "$SRC/fuzz/$t.dict" ]; then cp "$SRC/fuzz/$t.dict" "$OUT/$t.dict"; fi
    echo "built $OUT/$t"
}
export -f build_one

for t in $TARGETS; do
    [ -f "$SRC/fuzz/$t.cpp" ] || { echo "build.sh: no such target: $t" >&2; exit 2; }
done
"$CXX" $CXXFLAGS -std=c++20 $DEFINES -Wall -Wextra $WERROR \
    -c "$SRC/sidecar/boost_assert_handler.cpp" -o "$WORK/boost_assert_handler.o"
if [ -n "$ONE_BINARY" ]; then
    # One translation unit of every target (as the meson replay build makes it) and the selecting main.
    unity="$WORK/fuzz_all.cpp"
    { for t in $TARGETS; do echo "#include \"$SRC/fuzz/$t.cpp\""; done
      echo "#include \"$SRC/fuzz/all_targets_main.cpp\""; } >"$unity"
    "$CXX" $CXXFLAGS -std=c++20 $DEFINES -DDOCKPOL_FUZZ_REPLAY_ALL -Wall -Wextra $WERROR \
        -I"$SRC" -I"$SRC/fuzz" -I"$SRC/runtime" -I"$SRC/dsl" -c "$unity" -o "$WORK/fuzz_all.o"
    "$CXX" $CXXFLAGS "$WORK/fuzz_all.o" "$WORK/boost_assert_handler.o" $LIB_FUZZING_ENGINE -lcrypto -o "$OUT/fuzz_all"
    for t in $TARGETS; do
        if [ -f "$SRC/fuzz/$t.dict" ]; then cp "$SRC/fuzz/$t.dict" "$OUT/$t.dict"; fi
    done
    echo "built $OUT/fuzz_all"
    exit 0
fi
printf '%s\n' $TARGETS | xargs -P "$JOBS" -I{} bash -c 'build_one "$@"' _ {}
