#!/usr/bin/env bash
# shellcheck disable=SC2317  # no_bundle and says are called through check "$@"
# scripts/gpu-bundle.sh against a cmake and a make of this test's own (first on PATH), in a copy of
# the script in a temporary root, so that it runs in a second and never touches the checkout:
#   - a failed configure and a failed build end the script with their exit status, show the
#     compiler's error, and leave no .gpu-bundle/ (a stale one from before is gone too), even
#     with stale binaries in build-gpu/;
#   - a build that succeeds without making a binary fails, naming it;
#   - a good build gives a bundle of dcgan, the benchmarks and the gpu tests' programs (not the cpu
#     tests'), whose build-gpu/source-commit and build-gpu/bundle.sha256 (the sha256 of every
#     binary) unpack with it, and the hashes check out (sha256sum -c).
# ctest test_bundle_script (label cpu).
set -uo pipefail
script=$(cd "$(dirname "$0")/.." && pwd)/scripts/gpu-bundle.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bundle-test.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
fails=0
check() {   # check WHAT CONDITION...: one line per check
    local what=$1; shift
    if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}

mkdir -p "$tmp/root/scripts" "$tmp/bin" "$tmp/data"
cp "$script" "$tmp/root/scripts/gpu-bundle.sh"
echo images | gzip > "$tmp/data/train-images-idx3-ubyte.gz"
echo labels | gzip > "$tmp/data/train-labels-idx1-ubyte.gz"
cat > "$tmp/bin/cmake" <<'EOF'
#!/usr/bin/env bash
[ "${FAKE_CMAKE:-ok}" = fail ] && { echo "CMake Error at CMakeLists.txt:1: no CUDA"; exit 3; }
echo "-- Configuring done"
EOF
# make -C DIR ...: FAKE_MAKE=fail (a compile error), nobin (no bench_layers) or ok; a made binary is
# a copy of a real executable, so that ldd reads it.
cat > "$tmp/bin/make" <<'EOF'
#!/usr/bin/env bash
dir=$2
if [ "$FAKE_MAKE" = fail ]; then
    echo "[ 40%] Building CUDA object CMakeFiles/dcgan_cuda.dir/kernels/conv.cu.o"
    echo "kernels/conv.cu(12): error: identifier \"broken\" is undefined"
    echo "make: *** [Makefile:146: all] Error 2"
    exit 2
fi
mkdir -p "$dir/benchmarks" "$dir/tests"
for b in dcgan benchmarks/bench_inception tests/test_one; do cp /bin/true "$dir/$b"; done
[ "$FAKE_MAKE" = nobin ] || cp /bin/true "$dir/benchmarks/bench_layers"
printf 'subdirs("tests")\n' > "$dir/CTestTestfile.cmake"
{ printf 'add_test(test_one "%s/tests/test_one")\n' "$PWD/$dir"
  printf 'set_tests_properties(test_one PROPERTIES LABELS "gpu")\n'
  printf 'add_test(test_cpu "%s/tests/test_cpu")\n' "$PWD/$dir"
  printf 'set_tests_properties(test_cpu PROPERTIES LABELS "cpu")\n'; } > "$dir/tests/CTestTestfile.cmake"
cp /bin/true "$dir/tests/test_cpu"
EOF
chmod +x "$tmp/bin/cmake" "$tmp/bin/make"

bundle() {   # bundle CMAKE MAKE: runs the copied script; sets rc and out (stdout + stderr)
    out=$(cd "$tmp/root" && env PATH="$tmp/bin:$PATH" FAKE_CMAKE="$1" FAKE_MAKE="$2" FASHION_MNIST_DIR="$tmp/data" \
          GPU_BUNDLE_PYTORCH_FID=0 bash scripts/gpu-bundle.sh 2>&1)
    rc=$?
}
stale() {    # binaries and a bundle of an earlier build
    mkdir -p "$tmp/root/build-gpu/benchmarks" "$tmp/root/.gpu-bundle"
    for b in dcgan benchmarks/bench_layers benchmarks/bench_inception; do
        cp /bin/true "$tmp/root/build-gpu/$b"
    done
    echo old > "$tmp/root/.gpu-bundle/bundle.tar.xz"
}
no_bundle() { [ ! -e "$tmp/root/.gpu-bundle" ]; }
says() { grep -q -F -- "$1" <<< "$out"; }

stale
bundle fail ok
check "a failed configure: exit 3 (got $rc)" test "$rc" = 3
check "a failed configure: CMake's error shown" says "CMake Error at CMakeLists.txt:1"
check "a failed configure: no bundle left" no_bundle

stale
bundle ok fail
check "a failed build: exit 2 (got $rc)" test "$rc" = 2
check "a failed build: the compiler's error shown" says 'kernels/conv.cu(12): error: identifier "broken" is undefined'
check "a failed build: says so" says "gpu-bundle: build failed (exit 2)"
check "a failed build with stale binaries: no bundle left" no_bundle

rm -rf "$tmp/root/build-gpu"
bundle ok nobin
check "a build without bench_layers: fails (exit $rc)" test "$rc" != 0
check "a build without bench_layers: names it" says "made no build-gpu/benchmarks/bench_layers"
check "a build without bench_layers: no bundle" test ! -e "$tmp/root/.gpu-bundle/bundle.tar.xz"

bundle ok ok
check "a good build: exit 0 (got $rc)" test "$rc" = 0
[ "$rc" = 0 ] || echo "$out" | sed 's/^/  | /'
mkdir -p "$tmp/unpacked"
tar -xJf "$tmp/root/.gpu-bundle/bundle.tar.xz" -C "$tmp/unpacked" 2>/dev/null
check "a good build: the commit in the bundle" test -s "$tmp/unpacked/build-gpu/source-commit"
check "a good build: every binary's sha256 in the bundle" \
    test "$(grep -c -E '^[0-9a-f]{64}  build-gpu/' "$tmp/unpacked/build-gpu/bundle.sha256" 2>/dev/null)" = 4
check "a good build: the gpu test's program in the bundle, the cpu test's not" \
    test -x "$tmp/unpacked/build-gpu/tests/test_one" -a ! -e "$tmp/unpacked/build-gpu/tests/test_cpu"
check "a good build: the hashes match the unpacked binaries" \
    bash -c "cd '$tmp/unpacked' && sha256sum --quiet -c build-gpu/bundle.sha256"
check "a good build: the training images in the bundle" grep -q images "$tmp/unpacked/.gpu-data/fashion-mnist/train-images-idx3-ubyte"

if [ "$fails" = 0 ]; then echo "bundle_script_test: all checks passed"; exit 0; fi
echo "bundle_script_test: $fails checks failed"
exit 1
