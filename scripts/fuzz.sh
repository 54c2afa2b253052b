#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan + UBSan) into build-fuzz/ and runs each for a
# bounded time (default 30 s each; FUZZ_SECONDS=N to change) from a generated seed corpus.
# A crash leaves its input in build-fuzz/tests/fuzz/ (crash-*) and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-30}"
scripts/setup.sh clang libclang-rt-dev
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDCGAN_CUDA=OFF -DDCGAN_FUZZ=ON \
  -DDCGAN_FUZZ_SECONDS="$seconds" > build-fuzz.log 2>&1 || { cat build-fuzz.log; exit 1; }
cmake --build build-fuzz -j "$(nproc)" >> build-fuzz.log 2>&1 || { tail -n 60 build-fuzz.log; exit 1; }
cd build-fuzz
status=0
ctest -L fuzz -V --timeout $((seconds * 4 + 120)) > ../fuzz.log 2>&1 || status=$?
# One line per fuzzer: its verdict and how many inputs it ran.
grep -E "^ *[0-9]+/[0-9]+ Test +#|number_of_executed_units|tests passed" ../fuzz.log | sed 's/^[0-9]*: //'
if [ $status -ne 0 ]; then grep -E -B2 -A30 "ERROR: (AddressSanitizer|libFuzzer)|runtime error" ../fuzz.log | head -n 80; fi
exit $status
