#!/usr/bin/env bash
# Builds the CUDA release tree and packs what a GPU machine without build dependencies needs to run
# the gpu tests, compute-sanitizer, the op benchmark (test_ops --perf) and a training run
# (scripts/gpu-check.sh):
#   build-gpu/             release build with the CUDA backend (sm_90 unless CUDA_ARCHS is set)
#   .gpu-libs/             the non-CUDA shared libraries the binaries load (from ldd), not libc/libm/
#                          ld-linux, not the CUDA driver, cuBLAS, cuDNN or NCCL (those come from the
#                          machine: its driver and the nvidia wheels of its Python)
#   .gpu-data/             Fashion-MNIST's training images and labels, uncompressed (xz, below, packs
#                          them 15% smaller than their gzip files)
#   .gpu-bundle/           bundle.tar.xz (dcgan, the benchmarks and the programs of the gpu-labelled
#                          tests, the ctest files, .gpu-libs, .gpu-data, the commit built and the
#                          sha256 of every binary: build-gpu/source-commit, build-gpu/bundle.sha256) +
#                          pytorch-fid's wheel: the one folder to carry to the GPU machine
# Run it in the checkout that the device call sends, since the call carries .gpu-bundle/ from there
# (scripts/gpu-check.sh's header gives the call). The device tool moves at most 64 MiB in all, the
# working tree (tracked and untracked, not ignored files) plus what it carries; this script fails
# when the two together pass 50 MiB. CUDA_ARCHS=... builds other architectures (default 90: sm_90,
# the H100 / H200; each more architecture grows the bundle).
#
# A failed configure or build ends the script with its exit status and the build's last lines
# (the whole output in build-gpu/bundle-build.log); .gpu-bundle/ is removed first, so a failed
# build leaves no bundle to carry, never one of stale binaries. tests/bundle_script_test.sh checks
# this with a cmake and make of its own on PATH.
#
# Environment: CUDA_ARCHS (above); FASHION_MNIST_DIR (default /usr/share/datasets/fashion-mnist);
# GPU_BUNDLE_PYTORCH_FID=0 leaves out pytorch-fid's wheel (gpu-check.sh full then times our
# Inception alone).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
archs=${CUDA_ARCHS:-90}
data_dir=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
log=build-gpu/bundle-build.log

rm -rf .gpu-bundle
mkdir -p build-gpu

# step NAME CMD...: runs CMD with its output in $log; on failure prints the last lines and exits
# with CMD's status.
step() {
    local name=$1 rc=0; shift
    echo "\$ $*" >> "$log"
    "$@" >> "$log" 2>&1 || rc=$?
    if [ "$rc" != 0 ]; then
        echo "gpu-bundle: $name failed (exit $rc); its last lines (all of them in $log):" >&2
        tail -n 25 "$log" | sed 's/^/  /' >&2
        echo "gpu-bundle: no bundle made" >&2
        exit "$rc"
    fi
}
: > "$log"
step configure cmake -S . -B build-gpu -DDCGAN_CUDA=ON -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CUDA_ARCHITECTURES=$archs"
step build make -C build-gpu -j"$(nproc)" --no-print-directory
# The compiler's warnings, if any, without make's progress lines.
grep -E -i 'warning' "$log" | sort -u | sed 's/^/  /' || true

bins=(build-gpu/dcgan build-gpu/benchmarks/bench_layers build-gpu/benchmarks/bench_inception)
for b in "${bins[@]}"; do
    [ -x "$b" ] || { echo "gpu-bundle: the build succeeded but made no $b" >&2; exit 1; }
done
# The programs of the gpu-labelled tests, the only tests gpu-check.sh runs (as ctest lists them).
tests=$(cd build-gpu && ctest -N -L gpu --show-only=json-v1 | python3 -c '
import json, os, sys
for t in json.load(sys.stdin)["tests"]:
    print(os.path.relpath(t["command"][0], sys.argv[1]))' "$root") \
    || { echo "gpu-bundle: ctest could not list build-gpu's gpu tests" >&2; exit 1; }
[ -n "$tests" ] || { echo "gpu-bundle: build-gpu has no gpu-labelled test" >&2; exit 1; }
mapfile -t test_bins < <(sort -u <<< "$tests")
for t in "${test_bins[@]}"; do
    [ -x "$t" ] || { echo "gpu-bundle: the gpu test program $t is missing" >&2; exit 1; }
    bins+=("$t")
done

# Shared libraries to ship: everything ldd resolves except the C library family and the CUDA stack.
skip='^(linux-vdso|ld-linux|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|libresolv\.so|libutil\.so|libcuda\.so|libcudart|libcublas|libcublasLt|libcudnn|libnvrtc|libnvJitLink|libnccl)'
rm -rf .gpu-libs
mkdir -p .gpu-libs
missing=0
for b in "${bins[@]}"; do
    deps=$(ldd "$b") || { echo "gpu-bundle: ldd $b failed" >&2; exit 1; }
    while read -r name arrow path _; do
        [ "$arrow" = "=>" ] || continue
        echo "$name" | grep -q -E "$skip" && continue
        if [ "$path" = "not" ]; then echo "gpu-bundle: $b needs $name, which is not found here" >&2; missing=1; continue; fi
        [ -e ".gpu-libs/$name" ] || cp -L "$path" ".gpu-libs/$name"
    done <<< "$deps"
done
[ "$missing" = 0 ]

# What was built: the commit (+changes when the checkout differs from it) and each binary's sha256,
# which gpu-check.sh prints and checks after unpacking.
mkdir -p .gpu-bundle .gpu-data/fashion-mnist
echo "$root" > build-gpu/source-root
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
if [ "$commit" != unknown ] && [ -n "$(git status --porcelain 2>/dev/null)" ]; then commit="$commit+changes"; fi
echo "$commit" > build-gpu/source-commit
sha256sum "${bins[@]}" > build-gpu/bundle.sha256
for f in train-images-idx3-ubyte train-labels-idx1-ubyte; do
    out=.gpu-data/fashion-mnist/$f
    [ "$out" -nt "$data_dir/$f.gz" ] || { gzip -dc "$data_dir/$f.gz" > "$out.part" && mv "$out.part" "$out"; }
done
mapfile -t ctest_files < <(find build-gpu -name CTestTestfile.cmake -not -path '*/CMakeFiles/*' | sort)
XZ_OPT="-6 -T0" tar -cJf .gpu-bundle/bundle.tar.xz build-gpu/source-root build-gpu/source-commit build-gpu/bundle.sha256 \
    "${bins[@]}" "${ctest_files[@]}" .gpu-libs .gpu-data
# pytorch-fid (pure Python; the GPU machine's PyTorch lacks it) for the Inception comparison of
# gpu-check.sh full: importable from the wheel file itself on PYTHONPATH.
if [ "${GPU_BUNDLE_PYTORCH_FID:-1}" != 0 ]; then
    python3 -m pip download --quiet --no-deps --disable-pip-version-check -d .gpu-bundle pytorch-fid==0.3.0 \
        || echo "gpu-bundle: pytorch-fid could not be downloaded; gpu-check.sh full will time our Inception alone" >&2
fi

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
libs_bytes=$(du -sb .gpu-libs | cut -f1)
bundle_bytes=$(du -sb .gpu-bundle | cut -f1)
# What the device call sends besides the carried bundle: tracked and untracked files git does not ignore.
tree_bytes=$({ git ls-files -z -co --exclude-standard 2>/dev/null || true; } | { xargs -0 -r stat -c %s 2>/dev/null || true; } \
             | awk '{ s += $1 } END { print s + 0 }')
total=$((bundle_bytes + tree_bytes))
echo "gpu-bundle: ${#bins[@]} binaries (sm_$archs, commit $commit; sha256 in build-gpu/bundle.sha256), .gpu-libs $(mib "$libs_bytes") MiB ($(ls .gpu-libs | wc -l) libraries)"
echo "gpu-bundle: .gpu-bundle $(mib "$bundle_bytes") MiB + working tree $(mib "$tree_bytes") MiB = $(mib "$total") MiB of the 64 MiB a device call moves (limit here: 50)"
ls .gpu-libs | sed 's/^/  /'
if [ "$total" -gt $((50 * 1048576)) ]; then
    echo "gpu-bundle: .gpu-bundle and the working tree together are over 50 MiB (the device call moves at most 64)" >&2
    exit 1
fi
